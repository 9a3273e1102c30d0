public import CaseManagement
public import ChainOfCustody
import CaseIndex
public import PageAnalysis

/// `exhibit diff ARTIFACT ARTIFACT`: the line diff of two captured pages' visible
/// text, and the structured change a watch would record between them (DESIGN §18).
/// Reading the two captures is recorded as a `view` entry in their case.
public struct CaptureDiff: Sendable {
    public let session: ActingSession

    public init(session: ActingSession) {
        self.session = session
    }

    /// One side of the diff.
    public struct Side: Sendable, Encodable {
        public var `case`: String
        public var artifact: String
        public var url: String
        public var time: String
        public var sha256: String?
        public var title: String?
    }

    public struct Result: Sendable, Encodable {
        public var from: Side
        public var to: Side
        /// `unchanged` (same payload, or same visible text, title, selectors and media) or `changed`.
        public var result: String
        /// What differs, as a watch's `change` entry counts it; its members sit beside
        /// `from`, `to`, `result` and `unified` in the JSON.
        public var change: PageChange
        /// `diff -u` of the visible text; empty when the lines are the same.
        public var unified: String

        enum CodingKeys: String, CodingKey {
            case from, to, result, unified
        }

        public func encode(to encoder: any Encoder) throws {
            try change.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
            try container.encode(result, forKey: .result)
            try container.encode(unified, forKey: .unified)
        }
    }

    /// Compares `first` (before) with `second` (after). Each is an artifact id or
    /// an artifact's sha256, looked up in `caseID`, or in every case the actor may
    /// list when nil (an id found in several cases then needs the case).
    public func diff(_ first: String, _ second: String, caseID: String?) throws(ExhibitError) -> Result {
        try session.authorize(.read, caseID: caseID, command: "diff")
        let old = try locate(first, caseID: caseID)
        let new = try locate(second, caseID: caseID)
        for id in Set([old.caseID, new.caseID]) where caseID == nil {
            try session.authorize(.read, caseID: id, command: "diff")
        }
        guard let oldPage = CapturedPage.analysis(ofArtifact: old.subject, caseDirectory: session.store.directory(of: old.caseID)) else {
            throw notAPage(old)
        }
        guard let newPage = CapturedPage.analysis(ofArtifact: new.subject, caseDirectory: session.store.directory(of: new.caseID)) else {
            throw notAPage(new)
        }
        let change = PageChange(from: oldPage, to: newPage)
        let samePayload = old.subject["payload_sha256"]?.stringValue != nil
            && old.subject["payload_sha256"]?.stringValue == new.subject["payload_sha256"]?.stringValue
        let result = Result(
            from: old.side, to: new.side, result: samePayload || change.isEmpty ? "unchanged" : "changed", change: change,
            unified: TextDiff.unified(TextDiff.lines(of: oldPage.text), TextDiff.lines(of: newPage.text),
                                      from: "\(old.artifact) \(old.url) \(old.time)", to: "\(new.artifact) \(new.url) \(new.time)"))
        var shown: [String: [String]] = [:]
        shown[old.caseID, default: []].append(old.artifact)
        shown[new.caseID, default: []].append(new.artifact)
        for (id, artifacts) in shown.sorted(by: { $0.key < $1.key }) {
            try session.store.append(LedgerDraft(action: "view", subject: .object([
                "command": .string("diff"), "artifacts": .array(artifacts.map { .string($0) }),
            ])), to: id, signer: try session.signer())
        }
        return result
    }

    struct Located {
        var caseID: String
        var artifact: String
        var subject: JSONValue
        var url: String { subject["url"]?.stringValue ?? "" }
        var time: String
        var side: Side {
            Side(case: caseID, artifact: artifact, url: url, time: time, sha256: subject["payload_sha256"]?.stringValue,
                 title: subject["title"]?.stringValue)
        }
    }

    func locate(_ argument: String, caseID: String?) throws(ExhibitError) -> Located {
        var found: [Located] = []
        for id in caseID.map({ [$0] }) ?? session.store.caseIDs() {
            let entries = try session.store.ledger(of: id).entries()
            if caseID == nil {
                guard let state = try? CaseState.fold(entries), session.mayList(state) else { continue }
            }
            guard let artifact = try? ArtifactID.artifact(argument, in: entries) else { continue }
            let subject = artifact.subject
            let time = [subject["ended"]?.stringValue, subject["time"]?.stringValue].compactMap { $0 }.first { !$0.isEmpty }
            found.append(Located(caseID: id, artifact: artifact.id, subject: subject, time: time ?? artifact.entry.time))
        }
        return try ArtifactInCases.single(found.map { ($0.caseID, $0) }, argument: argument, caseID: caseID, input: .diffCase).found
    }

    func notAPage(_ side: Located) -> ExhibitError {
        ExhibitError(.storage, "\(side.artifact) of \(side.caseID) (\(side.subject["content_type"]?.stringValue ?? "no content type")) is not an HTML page whose WARC record can be read; diff compares the visible text of captured pages.")
    }
}

extension ExhibitError.Input {
    /// The case whose artifacts a diff compares.
    public static let diffCase = ExhibitError.Input("diff-case")
}
