import CaseManagement
import ChainOfCustody
import Foundation

/// DESIGN §16, "derived files are re-derived", for the three documents a bag cannot
/// regenerate byte for byte: report.html, loadfile.csv and provenance.jsonld also carry
/// the actors' names and badges, which live in the workspace and not in the bag. So
/// every fact they state that the bag's own ledger records is checked against it — each
/// artifact's URL, final URL, time, HTTP status, type, size, SHA-256, place in the bag
/// and who captured it — every artifact the ledger records must be there, and nothing
/// the ledger does not record may be. An exporter's key signs the seal over these
/// files; this check is what stops a key holder from sealing a report that says
/// something the evidence does not (docs/verification.md).
enum DerivedFactCheck {
    /// The report and the load file, each checked on its own (verify runs them, and the
    /// provenance graph, on every core).
    enum Document: Sendable {
        case report, loadFile
    }

    /// The findings about one `document` of the bag at `root`; `artifacts` are the
    /// ``ledgerArtifacts(_:derivedWARCs:)`` of its (verified) ledger.
    static func findings(_ document: Document, root: String, caseID: String, artifacts: [BundleFacts.Artifact]) -> [Verifier.Finding] {
        switch document {
        case .loadFile:
            guard let bytes = try? AtomicFile.read(root + "/data/loadfile.csv") else { return [] }
            return loadFile(bytes, artifacts: artifacts, caseID: caseID)
        case .report:
            guard let bytes = try? AtomicFile.read(root + "/data/report.html") else { return [] }
            return report(bytes, artifacts: artifacts)
        }
    }

    /// The provenance graph of the bag at `root` checked as far as it can be without the
    /// payload's digests; ``ProvenanceChecks/findings(fileDigest:)`` compares those.
    static func provenance(root: String, entries: [LedgerEntry], artifacts: [BundleFacts.Artifact]) -> ProvenanceChecks {
        guard let bytes = try? AtomicFile.read(root + "/data/provenance.jsonld") else { return ProvenanceChecks(nodes: []) }
        return provenance(bytes, entries: entries, artifacts: artifacts)
    }

    /// The artifacts export lists for these entries, with the bag's paths (as
    /// `FactsCollector` gathers them, less what needs the payload: MD5, media).
    static func ledgerArtifacts(_ entries: [LedgerEntry], derivedWARCs: Bool) -> [BundleFacts.Artifact] {
        var artifacts: [BundleFacts.Artifact] = []
        for entry in entries {
            if var artifact = BundleFacts.Artifact(capture: entry) {
                artifact.warcPath = artifact.warcPath.map { "data/" + $0 }
                artifact.blobPath = artifact.blobPath.map { "data/" + $0 }
                if derivedWARCs { artifact.responseOffset = nil }
                artifacts.append(artifact)
            }
            guard let receipt = ImportReceipt(entry) else { continue }
            for item in receipt.items {
                var artifact = BundleFacts.Artifact(
                    id: item.id, seq: Int(receipt.seq), actor: receipt.receiver, url: item.url, finalURL: nil, started: nil,
                    ended: item.time, status: item.status, contentType: item.contentType, size: item.size, sha256: item.sha256,
                    md5: nil, ip: nil, certificateSubject: nil, title: nil, role: "imported",
                    warcPath: item.warc.map { "data/" + $0 }, blobPath: item.blob.map { "data/" + $0 },
                    responseOffset: derivedWARCs || item.recordType != "response" ? nil : item.offset,
                    recordIDs: item.recordID.map { [$0] } ?? [], tags: [])
                artifact.intake = receipt
                artifacts.append(artifact)
            }
        }
        return artifacts
    }

    // MARK: loadfile.csv

    /// Columns checked against the ledger: all of ``LoadFile/cells(_:caseID:custodian:)``
    /// but MD5 (computed from the payload at export) and Custodian (the custody state).
    private static let checkedColumns = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13]

    static func loadFile(_ bytes: [UInt8], artifacts: [BundleFacts.Artifact], caseID: String) -> [Verifier.Finding] {
        let path = "data/loadfile.csv"
        guard let rows = CSVRows.parse(bytes), let header = rows.first, header == LoadFile.columns else {
            return [.init(.tampered, path: path, detail: "is not the load file export writes (its header or quoting was changed)")]
        }
        let byControl = Dictionary(artifacts.map { ("\(caseID)-\($0.id)", $0) }, uniquingKeysWith: { first, _ in first })
        var findings: [Verifier.Finding] = []
        var seen: Set<String> = []
        for (index, row) in rows.dropFirst().enumerated() {
            let line = index + 2
            guard row.count == LoadFile.columns.count, let control = row.first else {
                findings.append(.init(.tampered, path: path, detail: "row \(line) has \(row.count) columns, not \(LoadFile.columns.count)"))
                continue
            }
            guard let artifact = byControl[control] else {
                findings.append(.init(.tampered, path: path, detail: "row \(line) names \(control), which the bag's ledger does not record"))
                continue
            }
            guard seen.insert(control).inserted else {
                findings.append(.init(.tampered, path: path, detail: "row \(line) repeats \(control)"))
                continue
            }
            let expected = LoadFile.cells(artifact, caseID: caseID, custodian: "").map(LoadFile.cellText)
            for column in checkedColumns where row[column] != expected[column] {
                findings.append(.init(.tampered, path: path, seq: Int64(artifact.seq),
                                      detail: "row \(line), \(LoadFile.columns[column]): the ledger records “\(expected[column])”, the file says “\(row[column])”"))
            }
        }
        for artifact in artifacts where !seen.contains("\(caseID)-\(artifact.id)") {
            findings.append(.init(.tampered, path: path, seq: Int64(artifact.seq), detail: "has no row for \(artifact.id), which the ledger records"))
        }
        return findings
    }

    // MARK: report.html

    /// Searched as bytes: the report of a large case is tens of megabytes, and
    /// Foundation's `range(of:)` on a `Substring` costs minutes there.
    static func report(_ html: [UInt8], artifacts: [BundleFacts.Artifact]) -> [Verifier.Finding] {
        let path = "data/report.html"
        let opening = Array("<section class=\"artifact\" id=\"".utf8)
        let closing = Array("</section>".utf8)
        var sections: [String: Range<Int>] = [:]
        var findings: [Verifier.Finding] = []
        var position = 0
        while let start = ByteSearch.first(opening, in: html, from: position) {
            let idStart = start + opening.count
            guard let quote = html[idStart...].firstIndex(of: UInt8(ascii: "\"")) else { break }
            let anchor = String(decoding: html[idStart..<quote], as: UTF8.self)
            let end = ByteSearch.first(closing, in: html, from: quote).map { $0 + closing.count } ?? html.count
            if sections.updateValue(quote..<end, forKey: anchor) != nil {
                findings.append(.init(.tampered, path: path, detail: "shows artifact block \(anchor) twice"))
            }
            position = end
        }
        var expectedAnchors: Set<String> = []
        for artifact in artifacts {
            let anchor = CaseReport.anchor(artifact.id)
            expectedAnchors.insert(anchor)
            guard let block = sections[anchor] else {
                findings.append(.init(.tampered, path: path, seq: Int64(artifact.seq), detail: "has no block for \(artifact.id), which the ledger records"))
                continue
            }
            // Each fact's row must be there exactly once and hold the ledger's value: a second,
            // contradicting row beside the right one is as false as a changed one.
            // The block's row openings are found once, not once per fact (4,000 blocks of ~10 facts).
            let openings = rowOpenings(in: html, block: block)
            for (fact, heading, value) in reportRows(artifact) {
                let rows = rowRanges(heading, in: html, block: block, openings: openings)
                if rows.count != 1 || !rows.allSatisfy({ ByteSearch.first(Array(value.utf8), in: html, from: $0.lowerBound, before: $0.upperBound) != nil }) {
                    findings.append(.init(.tampered, path: path, seq: Int64(artifact.seq), detail: "the block of \(artifact.id) does not state its \(fact) as the ledger records it"))
                }
            }
        }
        for anchor in Set(sections.keys).subtracting(expectedAnchors).sorted() {
            findings.append(.init(.tampered, path: path, detail: "shows artifact block \(anchor), which the bag's ledger does not record"))
        }
        return findings
    }

    /// The rows of an artifact's block that state ledger facts: what the fact is called in a
    /// finding, the row's heading, and the value HTML the report writes in that row.
    private static func reportRows(_ artifact: BundleFacts.Artifact) -> [(String, String, String)] {
        var rows: [(String, String, String)] = [
            ("URL", "URL", CaseReport.url(artifact.url)),
            ("HTTP status", "HTTP status", CaseReport.statusLabel(artifact.status)),
            ("capture time", "Capture time (UTC)", "<span class=\"mono\">\(CaseReport.text(artifact.ended))</span>"),
        ]
        if let finalURL = artifact.finalURL, finalURL != artifact.url {
            rows.append(("final URL", "Final URL", CaseReport.url(finalURL) + " <span class=\"muted\">(after redirects)</span>"))
        } else {
            rows.append(("final URL", "Final URL", "same as the URL (no redirect)"))
        }
        if let type = artifact.contentType {
            rows.append(("content type", "Content type", "<span class=\"mono\">\(CaseReport.text(type))</span>"))
        }
        if let size = artifact.size { rows.append(("size", "Size", CaseReport.sizeLabel(size))) }
        if let sha256 = artifact.sha256 {
            rows.append(("SHA-256", "SHA-256", "<span class=\"mono wrap\">\(CaseReport.text(sha256))</span>"))
        }
        if artifact.intake == nil {
            rows.append(("capturing actor", "Captured by", "<span class=\"mono\">\(CaseReport.text(artifact.actor))</span>"))
        }
        for place in [artifact.warcPath, artifact.blobPath].compactMap({ $0 }) {
            rows.append(("place in the bag", "In the bag", "<span class=\"mono wrap\">\(CaseReport.text(place))</span>"))
        }
        return rows
    }

    private static let rowOpening = Array("<tr><th>".utf8)
    private static let rowEnd = Array("</tr>".utf8)

    /// How the row headed `heading` starts, as ``CaseReport/row(_:_:headingIsHTML:)`` writes it.
    private static func rowStart(_ heading: String) -> [UInt8] {
        Array("<tr><th>\(CaseReport.text(heading))</th><td>".utf8)
    }

    /// ``rowStart(_:)`` of every heading ``reportRows(_:)`` gives, made once (not once per fact of 4,000 blocks).
    private static let rowStarts: [String: [UInt8]] = Dictionary(uniqueKeysWithValues: [
        "URL", "HTTP status", "Capture time (UTC)", "Final URL", "Content type", "Size", "SHA-256", "Captured by", "In the bag",
    ].map { ($0, rowStart($0)) })

    /// Where, within `block`, each `<tr><th>` starts: every row ``rowRanges`` can find
    /// starts at one of them.
    private static func rowOpenings(in html: [UInt8], block: Range<Int>) -> [Int] {
        var openings: [Int] = []
        var position = block.lowerBound
        while let found = ByteSearch.first(rowOpening, in: html, from: position, before: block.upperBound) {
            openings.append(found)
            position = found + 1
        }
        return openings
    }

    /// The byte ranges, within `block`, of the facts-table rows headed `heading`
    /// (as ``CaseReport/row(_:_:headingIsHTML:)`` writes them), each up to its `</tr>`.
    /// `openings` are the block's ``rowOpenings(in:block:)``: the rows found are those a
    /// search for the whole row start from the block's start would find, one after another.
    private static func rowRanges(_ heading: String, in html: [UInt8], block: Range<Int>, openings: [Int]) -> [Range<Int>] {
        let start = rowStarts[heading] ?? rowStart(heading)
        let end = rowEnd
        var ranges: [Range<Int>] = []
        var position = block.lowerBound
        for found in openings where found >= position && found + start.count <= block.upperBound
            && html[found..<(found + start.count)].elementsEqual(start) {
            let close = ByteSearch.first(end, in: html, from: found, before: block.upperBound).map { $0 + end.count } ?? block.upperBound
            ranges.append(found..<close)
            position = close
        }
        return ranges
    }

    // MARK: provenance.jsonld

    static func provenance(_ bytes: [UInt8], entries: [LedgerEntry], artifacts: [BundleFacts.Artifact]) -> ProvenanceChecks {
        guard let nodes = provenanceChecks(bytes, entries: entries, artifacts: artifacts) else {
            return ProvenanceChecks(nodes: [.found([.init(.tampered, path: "data/provenance.jsonld", detail: "is not a JSON-LD document with a @graph")])])
        }
        return ProvenanceChecks(nodes: nodes)
    }

    /// What the provenance graph's nodes give, in order: findings, and the files whose
    /// digests are still to compare. Verify compares those once the payload is hashed, so
    /// that no thread waits for a digest while holding the graph (or a shared worker).
    struct ProvenanceChecks: Sendable {
        fileprivate let nodes: [NodeCheck]

        /// Every finding, in the graph's order; `fileDigest` gives a payload file's SHA-256 and size.
        func findings(fileDigest: (String) -> (sha256: String, size: Int64)?) -> [Verifier.Finding] {
            let path = "data/provenance.jsonld"
            return nodes.flatMap { check -> [Verifier.Finding] in
                switch check {
                case .found(let findings):
                    return findings
                case .file(let id, let filePath, let sha256s, let sizes):
                    guard let filePath, let actual = fileDigest(filePath) else {
                        return [.init(.tampered, path: path, detail: "\(id) describes a file the bag does not hold")]
                    }
                    var findings: [Verifier.Finding] = []
                    if sha256s.contains(where: { $0 != actual.sha256 }) {
                        findings.append(.init(.tampered, path: path, detail: "\(id) states a SHA-256 for \(filePath) that is not the file's"))
                    }
                    if sizes.contains(where: { $0 != actual.size }) {
                        findings.append(.init(.tampered, path: path, detail: "\(id) states a size for \(filePath) that is not the file's"))
                    }
                    return findings
                }
            }
        }
    }

    /// What one node of the graph gives: findings, or a file whose digests are still to compare.
    fileprivate enum NodeCheck: Sendable {
        case found([Verifier.Finding])
        case file(id: String, path: String?, sha256s: [String], sizes: [Int64])
    }

    /// The graph's nodes checked against the ledger, in order, all but the files' digests;
    /// nil when `bytes` is not a JSON-LD document with a @graph.
    fileprivate static func provenanceChecks(_ bytes: [UInt8], entries: [LedgerEntry], artifacts: [BundleFacts.Artifact]) -> [NodeCheck]? {
        let path = "data/provenance.jsonld"
        // Only the members read below are built (the same texts are refused as by a
        // whole parse): the graph's whole tree was a fifth of a core-second to build and free.
        guard let document = try? JSONValue(parsing: bytes, keepingOnly: provenanceMembers),
              let graph = document["@graph"]?.arrayValue else { return nil }
        let recorded = RecordedStrings(entries)
        let payloads = Set(artifacts.compactMap(\.sha256))
        let urls = Set(artifacts.flatMap { [$0.url, $0.finalURL].compactMap { $0 } })
        var checks: [NodeCheck] = []
        for node in graph {
            let id = node["@id"]?.stringValue ?? "?"
            let facets = node["uco-core:hasFacet"]?.arrayValue ?? []
            var findings: [Verifier.Finding] = []
            switch node["@type"]?.stringValue {
            case "uco-observable:URL":
                for value in facets.compactMap({ $0["uco-observable:fullValue"]?.stringValue })
                where !urls.contains(value) && !recorded.contains(value) {
                    findings.append(.init(.tampered, path: path, detail: "\(id) names the URL \(value), which the ledger does not record"))
                }
            case "uco-observable:ContentData":
                for value in sha256Values(facets) where !payloads.contains(value) && !recorded.contains(value) {
                    findings.append(.init(.tampered, path: path, detail: "\(id) states a SHA-256, \(value), that no artifact of the ledger has"))
                }
            case "uco-observable:File":
                checks.append(.file(id: id, path: facets.lazy.compactMap({ $0["uco-observable:filePath"]?.stringValue }).first,
                                    sha256s: sha256Values(facets), sizes: facets.compactMap { $0["uco-observable:sizeInBytes"]?.intValue }))
                continue
            case "case-investigation:InvestigativeAction":
                for key in ["uco-action:startTime", "uco-action:endTime"] {
                    if let time = node[key]?["@value"]?.stringValue, !recorded.contains(time) {
                        findings.append(.init(.tampered, path: path, detail: "\(id) gives a time, \(time), that the ledger does not record"))
                    }
                }
            default:
                continue
            }
            if !findings.isEmpty { checks.append(.found(findings)) }
        }
        return checks
    }

    /// Every member name ``provenanceChecks(_:entries:artifacts:)`` and ``sha256Values(_:)`` read.
    private static let provenanceMembers = [
        "@graph", "@id", "@type", "@value", "uco-core:hasFacet", "uco-action:startTime", "uco-action:endTime",
        "uco-observable:fullValue", "uco-observable:filePath", "uco-observable:sizeInBytes", "uco-observable:hash",
        "uco-types:hashMethod", "uco-types:hashValue",
    ]

    private static func sha256Values(_ facets: [JSONValue]) -> [String] {
        facets.flatMap { $0["uco-observable:hash"]?.arrayValue ?? [] }
            .filter { $0["uco-types:hashMethod"]?.stringValue == "SHA256" }
            .compactMap { $0["uco-types:hashValue"]?["@value"]?.stringValue }
    }

    /// Whether the ledger records a string: an entry's time, actor or hash, or any string
    /// in a subject. Every string of 4,000 subjects in one set cost more than the rest of
    /// the check, and a sound graph needs only the entries' times and the capture times
    /// (the subjects' `started` and `ended`, a subset): the whole set is made on the first
    /// string those do not hold.
    private final class RecordedStrings {
        private let entries: [LedgerEntry]
        private let common: Set<String>
        private lazy var all: Set<String> = {
            var strings: Set<String> = []
            for entry in entries {
                strings.formUnion([entry.time, entry.actor, entry.hash])
                if let subject = entry.subject { collectStrings(subject, into: &strings) }
            }
            return strings
        }()

        init(_ entries: [LedgerEntry]) {
            self.entries = entries
            var common: Set<String> = []
            for entry in entries {
                common.insert(entry.time)
                for key in ["started", "ended"] {
                    if let time = entry.subject?[key]?.stringValue { common.insert(time) }
                }
            }
            self.common = common
        }

        func contains(_ string: String) -> Bool {
            common.contains(string) || all.contains(string)
        }
    }

    private static func collectStrings(_ value: JSONValue, into strings: inout Set<String>) {
        switch value {
        case .string(let text): strings.insert(text)
        case .array(let items): for item in items { collectStrings(item, into: &strings) }
        case .object(let members): for member in members.values { collectStrings(member, into: &strings) }
        default: break
        }
    }
}

/// Where a run of bytes first occurs.
enum ByteSearch {
    static func first(_ needle: [UInt8], in haystack: [UInt8], from start: Int, before end: Int? = nil) -> Int? {
        let limit = (end ?? haystack.count) - needle.count
        guard let head = needle.first, start <= limit else { return nil }
        var index = start
        while index <= limit {
            guard let found = haystack[index...limit].firstIndex(of: head) else { return nil }
            var matched = 1
            while matched < needle.count, haystack[found + matched] == needle[matched] { matched += 1 }
            if matched == needle.count { return found }
            index = found + 1
        }
        return nil
    }
}

/// RFC 4180 rows: fields split at commas, quoted fields with `""` for a quote, CRLF
/// (or LF) between rows. Nil when a quote is left open.
enum CSVRows {
    static func parse(_ bytes: [UInt8]) -> [[String]]? {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var index = 0
        func endField() { row.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true) }
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") && field.isEmpty {
                quoted = true
            } else if byte == UInt8(ascii: ",") {
                endField()
            } else if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if byte == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { index += 1 }
                endField()
                rows.append(row)
                row = []
            } else {
                field.append(byte)
            }
            index += 1
        }
        guard !quoted else { return nil }
        if !field.isEmpty || !row.isEmpty { endField(); rows.append(row) }
        return rows
    }
}
