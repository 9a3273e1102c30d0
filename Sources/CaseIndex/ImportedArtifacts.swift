import CaseManagement
public import ChainOfCustody
import Foundation
import GRDB
public import PageAnalysis
import WARC

extension CapturedPage {
    /// The analysis of an artifact's subject as ``ArtifactID/all(in:)`` gives it:
    /// a capture's from its response record, an imported item's from its WARC
    /// record or blob; nil for anything that is not an HTML page.
    public static func analysis(ofArtifact subject: JSONValue, caseDirectory: String) -> AnalyzedPage? {
        guard subject["imported"]?.boolValue == true else { return analysis(of: subject, caseDirectory: caseDirectory) }
        return ImportedArtifacts.analyse(subject, caseDirectory: caseDirectory)
    }
}

/// What an `import` entry adds to the index: one artifact per item its subject's
/// `artifacts` list names, marked imported, and the page analysis of the HTML
/// ones, read again from the stored WARC record or blob.
enum ImportedArtifacts {
    static func index(_ entry: LedgerEntry, caseDirectory: String, _ db: Database) throws {
        guard let subject = entry.subject, let items = subject["artifacts"]?.arrayValue, !items.isEmpty else { return }
        let kind = subject["kind"]?.stringValue ?? ""
        for (index, item) in items.enumerated() {
            var artifact = IndexedArtifact(entry: entry, subject: .object([:]), status: Int(item["status"]?.intValue ?? 0))
            artifact.id = ImportedArtifactID.id(seq: entry.seq, number: index + 1, of: items.count, kind: kind)
            artifact.url = item["url"]?.stringValue ?? ""
            artifact.finalURL = nil
            artifact.time = item["time"]?.stringValue ?? entry.time
            artifact.contentType = item["content_type"]?.stringValue
            artifact.sha256 = item["sha256"]?.stringValue
            artifact.size = item["size"]?.intValue.map(Int.init)
            artifact.role = item["role"]?.stringValue
            artifact.warcFile = item["warc"]?.stringValue
            artifact.blob = item["blob"]?.stringValue
            artifact.imported = true
            let page = analyse(item, caseDirectory: caseDirectory)
            artifact.title = page?.title
            try IndexSchema.insert(artifact, caseID: entry.caseID, db)
            if let page { try IndexSchema.insert(page, artifact: artifact, caseID: entry.caseID, db) }
        }
    }

    /// The analysis of an HTML item: a response record through the same decoding
    /// as captures, a resource record's block, or a blob as stored.
    static func analyse(_ item: JSONValue, caseDirectory: String) -> AnalyzedPage? {
        guard let contentType = item["content_type"]?.stringValue, contentType.lowercased().contains("html") else { return nil }
        let url = item["url"]?.stringValue ?? ""
        if let file = item["warc"]?.stringValue, let offset = item["offset"]?.intValue {
            var path = caseDirectory + "/" + file
            if !FileManager.default.fileExists(atPath: path) { path += ".tmp" }
            if item["record_type"]?.stringValue == "response" {
                guard let archived = try? ArchivedResponse(warcPath: path, offset: offset) else { return nil }
                return AnalyzedPage(html: archived.body, url: url, contentType: archived.contentType ?? contentType)
            }
            guard let record = try? WARCReader(path: path, keepBlocksUpTo: Int64(ArchivedResponse.analysisLimit), computesPayloadSHA1: false).record(at: offset),
                  let block = record.block else { return nil }
            return AnalyzedPage(html: block, url: url, contentType: contentType)
        }
        if let blob = item["blob"]?.stringValue {
            let path = caseDirectory + "/" + blob
            var info = stat()
            guard stat(path, &info) == 0, info.st_size <= ArchivedResponse.analysisLimit,
                  let bytes = try? AtomicFile.read(path) else { return nil }
            return AnalyzedPage(html: bytes, url: url, contentType: contentType)
        }
        return nil
    }
}
