public import CaseManagement
public import ChainOfCustody
public import Screening
import Foundation
import WARC

/// What a decision-maker may see of a background investigation (DESIGN §9 and
/// §23, policy IV.B.6): the findings that stand, and the artifacts they cite.
/// Everything else is withheld, and the ledger is redacted so that withheld
/// entries keep only their digests (DESIGN §5): the chain and every signature
/// still verify, and nothing withheld can be read or guessed from the bundle.
///
/// Default-deny (§23): a finding stands only when it is corroborated, every
/// artifact it has cited is disclosed (not tagged protected-class, and not
/// withheld for what its own entry names), and its text passes protected-class
/// screening. Free text is not disclosed: an entry is disclosed only when its
/// action is one a decision-maker needs and its subject holds no field but the
/// structured ones listed in ``disclosableFields`` — a reason, a note or an
/// export's file name withholds the entry. The one free text a decision-maker
/// reads is a standing finding's, which screening has passed.
///
/// ```swift
/// let disclosure = try Disclosure(entries: ledger, screening: try ProtectedClassScreening.load())
/// let bytes = try disclosure.ledgerBytes()   // the redacted ledger
/// ```
public struct Disclosure: Sendable {
    /// The ledger as the decision-maker gets it.
    public var entries: [LedgerEntry]
    /// Artifact ids and findings disclosed.
    public var artifacts: Set<String>
    public var findings: [BackgroundInvestigation.Finding]
    /// How many artifacts and findings were withheld.
    public var withheldItems: Int

    /// The subject fields an entry may hold and still be disclosed, by action.
    /// An action not listed is never disclosed (notes, views, screening, flags,
    /// steps, refusals, overrides, holds, exports: their text may say anything, and
    /// an export's subject names its output file). A listed action whose subject
    /// holds any other field — a finding's, transfer's or close's `reason`, or a
    /// field added later — is withheld too. `capture` is judged by its artifact
    /// (see ``capturedFreeText``); `open`'s title and fields are screened
    /// (``requireDisclosableOpening(_:screening:)``); a finding's `text` is
    /// disclosed only for a finding that stands.
    static let disclosableFields: [String: Set<String>] = [
        "open": ["category", "title", "fields", "template", "retention", "policy_sections"],
        // `sources`: each cited artifact's registrable domain, as corroboration judged it.
        "finding": ["op", "id", "text", "status", "artifacts", "sources", "public_suffix_list_sha256"],
        "verify": ["result", "findings", "ledger_head", "entries"],
        "timestamp": ["covers_seq", "ledger_head", "tsa", "gen_time", "serial", "token", "request", "ca", "files"],
        "transfer": ["from", "to"],
        "close": [],
    ]

    /// Fields a capture subject never carries for a page it archived; one that does
    /// is withheld with its artifact's records (a capture's other fields describe
    /// the response, which screening judged).
    static let capturedFreeText: Set<String> = ["reason", "note", "text"]

    /// Template fields of the `open` entry that describe the job, not the candidate,
    /// and are not screened; the candidate's name is not screened either (it is who
    /// the bundle is about, and a name such as "Christian Black" is no statement).
    static let unscreenedFields: Set<String> = ["candidate_name", "cohort", "position"]

    /// Redacts `original` for a decision-maker. Throws (not permitted) when the
    /// case's `open` entry — which every bundle carries, since the case's state is
    /// folded from it — uses a protected-class term in its title or fields.
    public init(entries original: [LedgerEntry], screening: ProtectedClassScreening) throws(ExhibitError) {
        if let opening = original.first { try Self.requireDisclosableOpening(opening, screening: screening) }
        let allArtifacts = ArtifactID.artifacts(in: original)
        let allFindings = BackgroundInvestigation.findings(in: original)
        let tags = BackgroundInvestigation.tags(in: original)
        let cited = Self.citedArtifacts(original)

        // A finding stands only if corroborated and its text passes screening…
        var standing = allFindings.filter { $0.status == .corroborated && screening.hits(in: $0.text).isEmpty }
        var disclosed = Set(standing.flatMap { cited[$0.id] ?? [] }).filter {
            allArtifacts[$0] != nil && !(tags[$0]?.contains(BackgroundInvestigation.protectedClassTag) ?? false)
        }
        var kept = original
        // …and every artifact it cited is disclosed. Withholding an entry can uncover
        // a dependency (a disclosed image whose subject names a withheld page as its
        // parent), which withholds the findings citing it, which may leave other
        // artifacts cited by nothing that stands: repeat until nothing changes.
        while true {
            let before = (standing.map(\.id), disclosed)
            standing = standing.filter { (cited[$0.id] ?? []).allSatisfy(disclosed.contains) }
            disclosed.formIntersection(standing.flatMap { cited[$0.id] ?? [] })

            var markers: [String] = []
            for (id, entry) in allArtifacts where !disclosed.contains(id) {
                markers.append("\"\(id)\"")
                for key in ["url", "final_url", "payload_sha256"] {
                    if let value = entry.subject?[key]?.stringValue { markers.append("\"\(value)\"") }
                }
                if let parent = entry.subject?["blob"]?["sha256"]?.stringValue { markers.append("\"\(parent)\"") }
            }
            let standingIDs = Set(standing.map(\.id))
            for finding in allFindings where !standingIDs.contains(finding.id) { markers.append("\"\(finding.id)\"") }

            kept = original.enumerated().map { index, entry in
                guard let subject = entry.subject, let fields = subject.objectValue else { return entry.withholding() }
                if entry.action == "capture" {
                    guard disclosed.contains(ArtifactID.forSeq(Int(entry.seq))),
                          fields.keys.allSatisfy({ !Self.capturedFreeText.contains($0) }) else { return entry.withholding() }
                } else {
                    guard let allowed = Self.disclosableFields[entry.action], Set(fields.keys).isSubset(of: allowed) else {
                        return entry.withholding()
                    }
                }
                // The opening is the candidate's identification, screened above; the case
                // state is folded from it, so it is never withheld for what it names.
                if index == 0, entry.action == "open" { return entry }
                let text = String(decoding: (try? subject.canonicalBytes()) ?? [], as: UTF8.self)
                return markers.contains(where: { text.contains($0) }) ? entry.withholding() : entry
            }
            disclosed = Set(kept.filter { $0.action == "capture" && !$0.withheld }.map { ArtifactID.forSeq(Int($0.seq)) })
                .intersection(disclosed)
            if before.0 == standing.map(\.id), before.1 == disclosed { break }
        }
        entries = kept
        artifacts = disclosed
        findings = standing
        withheldItems = (allArtifacts.count - disclosed.count) + (allFindings.count - standing.count)
    }

    /// Every artifact each finding has cited, in its `add` entry and in every
    /// `set`: a finding first written about a protected page and later pointed at
    /// two clean ones still rests on the first.
    static func citedArtifacts(_ entries: [LedgerEntry]) -> [String: Set<String>] {
        var cited: [String: Set<String>] = [:]
        for entry in entries where entry.action == "finding" {
            guard let id = entry.subject?["id"]?.stringValue else { continue }
            cited[id, default: []].formUnion(entry.subject?["artifacts"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
        return cited
    }

    /// The `open` entry opens every decision-maker bundle: the bag's case.json is
    /// folded from it and `verify` folds it again, and it is signed, so it can be
    /// neither withheld nor edited. Its title and the fields that describe the
    /// candidate are screened like a finding's text (the candidate's own name
    /// excepted); a hit refuses the export rather than disclose it.
    static func requireDisclosableOpening(_ opening: LedgerEntry, screening: ProtectedClassScreening) throws(ExhibitError) {
        guard opening.action == "open", let fields = opening.subject?.objectValue else { return }
        let caseID = opening.caseID
        if let extra = fields.keys.sorted().first(where: { !(disclosableFields["open"]?.contains($0) ?? false) }) {
            throw ExhibitError(.notPermitted, "The opening entry of \(caseID) records a field (\(extra)) a decision-maker bundle does not disclose, and every bundle carries that entry; no decision-maker bundle of \(caseID) can be made.")
        }
        let details = fields["fields"]?.objectValue ?? [:]
        let name = details["candidate_name"]?.stringValue ?? ""
        var screened: [(String, String)] = [("title", Self.removing(name, from: fields["title"]?.stringValue ?? ""))]
        for (key, value) in details.sorted(by: { $0.key < $1.key }) where !unscreenedFields.contains(key) {
            screened.append((key, value.stringValue ?? ""))
        }
        for (field, text) in screened {
            if let hit = screening.hits(in: text).first {
                throw ExhibitError(.notPermitted, "The case's \(field) uses a \(hit.class) term, and the title and fields open every decision-maker bundle; they cannot be withheld or changed, so no decision-maker bundle of \(caseID) can be made. Open a new case whose title and fields name the candidate only.")
            }
        }
    }

    /// `text` without the occurrences of `name` (compared case-insensitively).
    static func removing(_ name: String, from text: String) -> String {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { return text }
        return text.replacingOccurrences(of: name, with: " ", options: [.caseInsensitive, .diacriticInsensitive])
    }

    /// The redacted ledger file.
    public func ledgerBytes() throws(ExhibitError) -> [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries {
            bytes += try entry.line()
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    /// warcinfo fields a derived WARC keeps: what wrote the file, for whom, and under
    /// which rules. Any other field — the `policy-override` line that repeats a
    /// network override's reason, or one added later — is left out.
    static let warcinfoFields: Set<String> = [
        "software", "format", "conformsTo", "operator", "case", "capture-id", "render-id",
        "http-header-user-agent", "robots", "policy", "renderer", "network",
    ]

    /// A WARC file holding only the disclosed records of `source`, each gzip member
    /// copied byte for byte so that every record keeps its block digest, after a
    /// warcinfo record rewritten to hold only ``warcinfoFields``.
    func derivedWARC(source: String, relative: String) throws(ExhibitError) -> [UInt8] {
        var members: [(Int64, Int64)] = []
        for entry in entries where entry.action == "capture" && !entry.withheld {
            guard entry.subject?["warc"]?["file"]?.stringValue == relative else { continue }
            for record in entry.subject?["records"]?.arrayValue ?? [] {
                if let offset = record["offset"]?.intValue, let length = record["length"]?.intValue { members.append((offset, length)) }
            }
        }
        var output: [UInt8] = []
        if let first = try? WARCReader(path: source, keepBlocksUpTo: Self.warcinfoLimit, computesPayloadSHA1: false).record(at: 0),
           first.type == "warcinfo" {
            output = try Self.redactedWarcinfo(first)
            members.removeAll { $0.0 == 0 }
        }
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read \(source)") }
        defer { close(fd) }
        for (offset, length) in members.sorted(by: { $0.0 < $1.0 }) {
            var chunk = [UInt8](repeating: 0, count: Int(length))
            let read = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(length), off_t(offset)) }
            guard read == Int(length) else { throw AtomicFile.posixError("Cannot read \(source) at offset \(offset)") }
            output += chunk
        }
        return output
    }

    /// A warcinfo block larger than this is not read: the rewritten record then
    /// keeps none of its fields.
    static let warcinfoLimit: Int64 = 1 << 20

    /// `record` (a warcinfo) as one gzip member holding only ``warcinfoFields``. It
    /// keeps its record id, date and file name, so the disclosed records'
    /// WARC-Warcinfo-ID still names it; the description says the file is derived.
    static func redactedWarcinfo(_ record: ReadRecord) throws(ExhibitError) -> [UInt8] {
        var lines: [String] = []
        var seen = Set<String>()
        let block = String(decoding: record.block ?? [], as: UTF8.self)
        // The writer puts the fixed fields first and copies a reason verbatim, line
        // breaks included: the first field not kept (or kept already) ends what is
        // read, so a reason cannot carry a kept field's name onto a line of its own.
        for line in block.components(separatedBy: "\r\n") where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { break }
            let name = String(line[..<colon])
            guard warcinfoFields.contains(name), seen.insert(name).inserted else { break }
            lines.append(line + "\r\n")
        }
        lines.append("description: derived for a decision-maker bundle: only the disclosed records; free-text fields left out (DESIGN §23)\r\n")
        var fields: [(String, String)] = []
        if let name = record.field("WARC-Filename") { fields.append(("WARC-Filename", name)) }
        let rewritten = WARCRecord(
            type: "warcinfo", recordID: record.recordID ?? WARCRecord.newRecordID(), date: record.field("WARC-Date") ?? LedgerTime.now(),
            contentType: "application/warc-fields", fields: fields, block: .init(bytes: Array(lines.joined().utf8)))
        // The WARC writer makes the gzip member, in a folder of its own that is removed after.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("exhibit-warcinfo-\(UUID().uuidString)").path
        guard mkdir(folder, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create \(folder)") }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try WARCWriter(finalPath: folder + "/warcinfo.warc.gz")
        try writer.write(rewritten)
        _ = try writer.seal()
        return try AtomicFile.read(writer.temporaryPath)
    }
}
