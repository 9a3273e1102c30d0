import CaseManagement
import Foundation

/// data/loadfile.csv: one row per artifact, in the columns e-discovery review
/// platforms import (a control number, the source, dates, type, size, hashes,
/// where the native file is, and the custodian). RFC 4180 CSV, UTF-8, CRLF.
public enum LoadFile {
    public static let columns = [
        "ControlNumber", "Case", "URL", "FinalURL", "CaptureTimeUTC", "HTTPStatus", "MIMEType", "SizeBytes", "SHA256",
        "MD5", "PathInBag", "WARCRecordOffset", "Custodian", "CapturedBy", "ExhibitNumber", "BegBates", "EndBates",
    ]

    /// The load file for `facts`. `custodian` is the actor holding custody when exported;
    /// `exhibits` the stable exhibit numbers by artifact id (DESIGN §21). Each exhibit is
    /// one native document, so its Bates range is one control number,
    /// `<CASE>-EX-0001-0001` to the same: begin and end stay stable with the number
    /// (the items of one imported file count up: `-0001`, `-0002` …).
    public static func csv(for facts: BundleFacts, custodian: String, exhibits: [String: ExhibitNumbers.Item] = [:]) -> [UInt8] {
        var lines = [columns.map(field).joined(separator: ",")]
        var pages: [String: Int] = [:]
        for artifact in facts.artifacts {
            var row = cells(artifact, caseID: facts.caseID, custodian: custodian)
            // An import's items share the exhibit of their import entry (A-<seq>) and count up within it.
            let number = (exhibits[artifact.id] ?? exhibits[ArtifactID.forSeq(artifact.seq)])?.number ?? ""
            var bates = ""
            if !number.isEmpty {
                let page = (pages[number] ?? 0) + 1
                pages[number] = page
                bates = "\(facts.caseID)-\(number)-" + String(repeating: "0", count: max(0, 4 - String(page).count)) + String(page)
            }
            row += [number, bates, bates]
            lines.append(row.map(field).joined(separator: ","))
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// The row's cells up to `CapturedBy` (the columns before the exhibit numbers), as
    /// text before CSV quoting: what export writes and what verify checks a bag's rows against.
    static func cells(_ artifact: BundleFacts.Artifact, caseID: String, custodian: String) -> [String] {
        let mime = artifact.contentType.map { String($0.split(separator: ";").first ?? "").trimmingSpaces().lowercased() } ?? ""
        return [
            "\(caseID)-\(artifact.id)", caseID, artifact.url, artifact.finalURL ?? "", artifact.ended,
            String(artifact.status), mime, artifact.size.map(String.init) ?? "", artifact.sha256 ?? "", artifact.md5 ?? "",
            artifact.blobPath ?? artifact.warcPath ?? "", artifact.blobPath == nil ? artifact.responseOffset.map(String.init) ?? "" : "",
            // The format has no column for it: an imported item's receiver is marked as such.
            custodian, artifact.intake == nil ? artifact.actor : artifact.actor + " (imported)",
        ]
    }

    /// A CSV field, quoted when it holds a comma, quote or line break.
    static func field(_ value: String) -> String {
        let text = cellText(value)
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A cell's text as the file holds it once unquoted: a leading `=`, `+`, `-` or `@`
    /// is prefixed with `'` so spreadsheet programs do not run a captured page's text
    /// as a formula (CSV injection).
    static func cellText(_ value: String) -> String {
        if let first = value.first, "=+-@\t\r".contains(first) { return "'" + value }
        return value
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
