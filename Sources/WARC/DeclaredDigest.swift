public import ChainOfCustody

/// A digest a WARC record declares about itself (`WARC-Block-Digest`,
/// `WARC-Payload-Digest`): `algorithm:value`, where tools write the value in
/// base32 (wget, Heritrix, warcio: `sha1:2A3B…`) or in hex (Exhibit:
/// `sha256:<64 hex>`). WARC 1.1 §5.8–5.9 leaves the encoding to the writer.
public struct DeclaredDigest: Sendable, Equatable {
    public var text: String
    /// nil when the algorithm is not one Exhibit computes.
    public var algorithm: DigestAlgorithm?

    public init(_ text: String) {
        self.text = text
        let name = text.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        // `SHA-256` names sha256; Foundation's replacing only when there is a hyphen to drop
        // (verify reads the digest header of every record).
        algorithm = DigestAlgorithm(rawValue: name.contains("-") ? name.replacingOccurrences(of: "-", with: "") : name)
    }

    /// The value after the colon.
    var value: String {
        guard let colon = text.firstIndex(of: ":") else { return "" }
        return String(text[text.index(after: colon)...]).trimming(" \t")
    }

    /// Whether the declared value is `bytes`, written in hex or base32 (either case, padding optional).
    public func matches(_ bytes: [UInt8]) -> Bool {
        let declared = value.lowercased()
        if declared == Hex.encode(bytes) { return true }
        return declared.trimmingTrailingPadding() == CDXJIndex.base32(bytes).lowercased().trimmingTrailingPadding()
    }
}

extension String {
    fileprivate func trimmingTrailingPadding() -> String {
        var text = self
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}

/// What a check of one declared digest found.
public enum DigestVerdict: Sendable, Equatable {
    /// The record declares no such digest.
    case absent
    /// Declared and equal to what the bytes hash to.
    case matched
    /// Declared and different: the record is not what its writer recorded.
    case mismatched(declared: String, found: String)
    /// Declared with an algorithm Exhibit does not compute.
    case unsupported(declared: String)
    /// Declared, but not over bytes this record holds (a revisit's payload digest
    /// names the payload of the record it revisits).
    case notApplicable(declared: String)

    public var failed: Bool {
        if case .mismatched = self { return true }
        return false
    }

    /// One word for the ledger: absent, matched, mismatched, unsupported, not-applicable.
    public var word: String {
        switch self {
        case .absent: "absent"
        case .matched: "matched"
        case .mismatched: "mismatched"
        case .unsupported: "unsupported"
        case .notApplicable: "not-applicable"
        }
    }
}

/// The declared digests of a record, checked while it was read
/// (``WARCReader/checksDeclaredDigests``).
public struct DeclaredDigestCheck: Sendable {
    public var block: DigestVerdict
    public var payload: DigestVerdict
    /// sha256 hex of the payload: the block after the HTTP head for request and
    /// response records (as stored, chunk framing included), the block itself otherwise.
    public var payloadSHA256: String?
    public var payloadLength: Int64?
    /// sha256 hex and length of the de-chunked payload, when the HTTP message was sent chunked.
    public var dechunkedPayloadSHA256: String?
    public var dechunkedPayloadLength: Int64?
}
