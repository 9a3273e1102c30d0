public import ChainOfCustody
public import MediaForensics

/// What a case's `media-analysis` entries say about one artifact, for listings
/// (the artifact list, text and JSON): kind, summary (GPS, time, device …), PDQ.
public struct MediaFacts: Sendable, Encodable {
    public var kind: String
    public var summary: MediaSummary
    public var pdq: String?
    public var quality: Int?
    public var frames: Int
    public var unavailable: [String]
    public var hashUnavailable: String?
    /// The ledger entry that recorded the analysis.
    public var seq: Int64

    enum CodingKeys: String, CodingKey {
        case kind, summary, pdq, quality, frames, unavailable, hashUnavailable = "hash_unavailable", seq
    }

    /// The latest analysis of each artifact named in `entries`, by artifact id.
    public static func byArtifact(_ entries: [LedgerEntry]) -> [String: MediaFacts] {
        var result: [String: MediaFacts] = [:]
        for entry in entries where entry.action == "media-analysis" {
            for item in entry.subject?["items"]?.arrayValue ?? [] {
                guard let artifact = item["artifact"]?.stringValue else { continue }
                result[artifact] = MediaFacts(
                    kind: item["kind"]?.stringValue ?? "",
                    summary: item["summary"].map(MediaSummary.init(json:)) ?? MediaSummary(),
                    pdq: item["pdq"]?["hash"]?.stringValue, quality: item["pdq"]?["quality"]?.intValue.map(Int.init),
                    frames: item["frames"]?.arrayValue?.count ?? 0,
                    unavailable: item["unavailable"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    hashUnavailable: item["hash_unavailable"]?.stringValue, seq: entry.seq)
            }
        }
        return result
    }
}
