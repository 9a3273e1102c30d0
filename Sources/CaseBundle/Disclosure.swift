public import CaseManagement
public import ChainOfCustody
import Foundation
import LawfulFetch

/// What a decision-maker may see of a background investigation (DESIGN §9,
/// policy IV.B.6): the corroborated findings, and those of their artifacts that
/// are not tagged protected-class. Everything else is withheld, and the ledger is
/// redacted so that withheld entries keep only their digests (DESIGN §5): the
/// chain and every signature still verify, and nothing withheld can be read or
/// guessed from the bundle.
public struct Disclosure: Sendable {
    /// The ledger as the decision-maker gets it.
    public var entries: [LedgerEntry]
    /// Artifact ids and findings disclosed.
    public var artifacts: Set<String>
    public var findings: [BackgroundInvestigation.Finding]
    /// How many artifacts and findings were withheld.
    public var withheldItems: Int

    /// Actions whose entries may be disclosed at all; notes, views, screening,
    /// flags, steps, refusals and overrides never are (their text may say anything).
    static let disclosable: Set<String> = ["open", "capture", "finding", "verify", "timestamp", "export", "close", "transfer"]

    public init(entries original: [LedgerEntry]) {
        let allArtifacts = ArtifactID.artifacts(in: original)
        let allFindings = BackgroundInvestigation.findings(in: original)
        let tags = BackgroundInvestigation.tags(in: original)
        let corroborated = allFindings.filter { $0.status == .corroborated }
        var disclosed = Set(corroborated.flatMap(\.artifacts)).filter {
            allArtifacts[$0] != nil && !(tags[$0]?.contains(BackgroundInvestigation.protectedClassTag) ?? false)
        }
        var kept = original
        // Withholding an entry can uncover a dependency (a disclosed image whose
        // subject names a withheld page as its parent): repeat until nothing changes.
        while true {
            var markers: [String] = []
            for (id, entry) in allArtifacts where !disclosed.contains(id) {
                markers.append("\"\(id)\"")
                for key in ["url", "final_url", "payload_sha256"] {
                    if let value = entry.subject?[key]?.stringValue { markers.append("\"\(value)\"") }
                }
                if let parent = entry.subject?["blob"]?["sha256"]?.stringValue { markers.append("\"\(parent)\"") }
            }
            let corroboratedIDs = Set(corroborated.map(\.id))
            for finding in allFindings where !corroboratedIDs.contains(finding.id) { markers.append("\"\(finding.id)\"") }

            kept = original.map { entry in
                guard Self.disclosable.contains(entry.action), let subject = entry.subject else { return entry.withholding() }
                if entry.action == "capture" {
                    guard disclosed.contains(ArtifactID.forSeq(Int(entry.seq))) else { return entry.withholding() }
                }
                let text = String(decoding: (try? subject.canonicalBytes()) ?? [], as: UTF8.self)
                return markers.contains(where: { text.contains($0) }) ? entry.withholding() : entry
            }
            let visible = Set(kept.filter { $0.action == "capture" && !$0.withheld }.map { ArtifactID.forSeq(Int($0.seq)) })
            if visible == disclosed { break }
            disclosed = visible
        }
        entries = kept
        artifacts = disclosed
        findings = corroborated.map { finding in
            var copy = finding
            copy.artifacts = finding.artifacts.filter { disclosed.contains($0) }
            return copy
        }
        withheldItems = (allArtifacts.count - disclosed.count) + (allFindings.count - corroborated.count)
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

    /// A WARC file holding only the disclosed records of `source` (and its
    /// warcinfo record), each gzip member copied byte for byte so that every
    /// record keeps its block digest.
    func derivedWARC(source: String, relative: String) throws(ExhibitError) -> [UInt8] {
        var members: [(Int64, Int64)] = []
        if let first = try? WARCReader(path: source).record(at: 0), first.type == "warcinfo" { members.append((0, first.length)) }
        for entry in entries where entry.action == "capture" && !entry.withheld {
            guard entry.subject?["warc"]?["file"]?.stringValue == relative else { continue }
            for record in entry.subject?["records"]?.arrayValue ?? [] {
                if let offset = record["offset"]?.intValue, let length = record["length"]?.intValue { members.append((offset, length)) }
            }
        }
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read \(source)") }
        defer { close(fd) }
        var output: [UInt8] = []
        for (offset, length) in members.sorted(by: { $0.0 < $1.0 }) {
            var chunk = [UInt8](repeating: 0, count: Int(length))
            let read = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(length), off_t(offset)) }
            guard read == Int(length) else { throw AtomicFile.posixError("Cannot read \(source) at offset \(offset)") }
            output += chunk
        }
        return output
    }
}
