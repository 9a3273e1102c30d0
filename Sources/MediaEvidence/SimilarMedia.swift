import CaseIndex
public import CaseManagement
public import ChainOfCustody
import Foundation
public import MediaForensics

/// `exhibit similar ARTIFACT`: images (and video keyframes) within a PDQ distance
/// of an artifact's, across every case the actor may read. Recorded as a `view`
/// entry in the artifact's case and in every case a match was shown from, as
/// `exhibit search` does.
public struct SimilarMedia: Sendable {
    public let session: ActingSession
    public let index: MediaHashIndex

    public init(session: ActingSession, index: MediaHashIndex) {
        self.session = session
        self.index = index
    }

    public struct Match: Sendable, Encodable {
        public var artifact: String
        public var `case`: String
        public var url: String
        public var distance: Int
        public var firstSeen: String
        public var sha256: String
        public var quality: Int
        /// The matching keyframe's time (s), when the match is in a video.
        public var frame: String?
        /// The query's keyframe that matched, when the query is a video.
        public var queryFrame: String?
        /// How the match is turned or mirrored against the query (nil: same orientation).
        public var orientation: String?

        enum CodingKeys: String, CodingKey {
            case artifact, `case`, url, distance, firstSeen = "first_seen", sha256, quality, frame, queryFrame = "query_frame", orientation
        }
    }

    public struct Result: Sendable, Encodable {
        public var `case`: String
        public var artifact: String
        public var maxDistance: Int
        public var hashes: [String]
        public var matches: [Match]

        enum CodingKeys: String, CodingKey {
            case `case`, artifact, maxDistance = "max_distance", hashes, matches
        }
    }

    /// Finds the near-duplicates of `argument` (an artifact id, or its sha256), in
    /// `caseID` when given, else in the one case that has it.
    public func find(_ argument: String, caseID: String?, maxDistance: Int = PDQHash.matchThreshold) throws(ExhibitError) -> Result {
        try session.authorize(.read, caseID: caseID, command: "similar")
        try index.refresh(store: session.store)
        let (queryCase, artifact) = try locate(argument, caseID: caseID)
        if caseID == nil { try session.authorize(.read, caseID: queryCase, command: "similar") }
        let hashes = try index.hashes(caseID: queryCase, artifact: artifact)
        guard !hashes.isEmpty else {
            throw ExhibitError(.storage, "\(artifact) of \(queryCase) has no PDQ hash: it is not an image or video, its analysis found no decodable picture, or it was not analysed yet (`exhibit media analyse \(queryCase)`).")
        }
        // The image in its own orientation first, then turned and mirrored (its dihedral
        // hashes from the analysis): at equal distance the same orientation wins.
        var queries = hashes.map { (entry: $0, orientation: PDQOrientation.original) }
        let ledger = try session.store.ledger(of: queryCase).entries()
        for (orientation, hash) in MediaHashIndex.orientations(of: artifact, in: ledger) {
            queries.append((MediaHashIndex.Entry(caseID: queryCase, artifact: artifact, url: "", firstSeen: "", frame: nil, hash: hash, sha256: ""), orientation))
        }
        var best: [String: Match] = [:]
        var readable: [String: Bool] = [:]
        for (query, orientation) in queries {
            for found in try index.lookup(query.hash, maxDistance: maxDistance).matches {
                let entry = found.entry
                if entry.caseID == queryCase && entry.artifact == artifact { continue }
                if readable[entry.caseID] == nil {
                    readable[entry.caseID] = (try? session.store.state(of: entry.caseID)).map(session.mayList) ?? false
                }
                guard readable[entry.caseID] == true else { continue }
                let key = entry.caseID + "/" + entry.artifact
                if let existing = best[key], existing.distance <= found.distance { continue }
                best[key] = Match(artifact: entry.artifact, case: entry.caseID, url: entry.url, distance: found.distance,
                                  firstSeen: entry.firstSeen, sha256: entry.sha256, quality: entry.hash.quality,
                                  frame: entry.frame, queryFrame: query.frame,
                                  orientation: orientation == .original ? nil : orientation.description)
            }
        }
        let matches = best.values.sorted { ($0.distance, $0.firstSeen, $0.case, $0.artifact) < ($1.distance, $1.firstSeen, $1.case, $1.artifact) }
        var shown: [String: [String]] = [queryCase: []]
        for match in matches { shown[match.case, default: []].append(match.artifact) }
        for (id, artifacts) in shown.sorted(by: { $0.key < $1.key }) {
            try session.store.append(LedgerDraft(action: "view", subject: .object([
                "command": .string("similar"), "query": .string(queryCase + " " + artifact),
                "max_distance": .integer(Int64(maxDistance)), "artifacts": .array(artifacts.map { .string($0) }),
            ])), to: id, signer: try session.signer())
        }
        return Result(case: queryCase, artifact: artifact, maxDistance: maxDistance, hashes: hashes.map(\.hash.hex), matches: matches)
    }

    func locate(_ argument: String, caseID: String?) throws(ExhibitError) -> (String, String) {
        var found: [(caseID: String, found: String)] = []
        for id in caseID.map({ [$0] }) ?? session.store.caseIDs() {
            guard let entries = try? session.store.ledger(of: id).entries() else { continue }
            if caseID == nil {
                guard let state = try? CaseState.fold(entries), session.mayList(state) else { continue }
            }
            if let artifact = try? ArtifactID.resolve(argument, in: entries) {
                found.append((id, artifact))
            } else if let artifact = Self.imported(argument, in: entries) {
                found.append((id, artifact))
            }
        }
        return try ArtifactInCases.single(found, argument: argument, caseID: caseID, input: .similarCase)
    }

    /// Imported artifacts are named in `media-analysis` items too; accept those ids.
    static func imported(_ argument: String, in entries: [LedgerEntry]) -> String? {
        for entry in entries where entry.action == "media-analysis" {
            for item in entry.subject?["items"]?.arrayValue ?? [] {
                if item["artifact"]?.stringValue == argument || item["sha256"]?.stringValue == argument.lowercased() {
                    return item["artifact"]?.stringValue
                }
            }
        }
        return nil
    }
}

extension ExhibitError.Input {
    /// The case whose artifact a near-duplicate search starts from.
    public static let similarCase = ExhibitError.Input("similar-case")
}
