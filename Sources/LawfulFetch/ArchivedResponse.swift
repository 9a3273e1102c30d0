public import ChainOfCustody

/// An HTTP response read back from a case's WARC file, with its body decoded for
/// analysis: what `exhibit reindex` analyses, so the index can be rebuilt from
/// the WARC files and the ledger alone.
public struct ArchivedResponse: Sendable {
    public var targetURI: String
    public var status: Int
    public var contentType: String?
    /// The payload with chunk framing and gzip/deflate undone (decoded size capped at 16 MiB).
    public var body: [UInt8]
    /// The payload as the server sent it, de-chunked but not decoded: what a
    /// capture's `payload_sha256` covers.
    public var payload: [UInt8]

    /// Larger bodies are not analysed, at capture or on reindex.
    public static let analysisLimit = 16 << 20

    /// Reads the `response` record whose gzip member starts at `offset`.
    public init(warcPath: String, offset: Int64) throws(ExhibitError) {
        let record = try WARCReader(path: warcPath, keepBlocksUpTo: Int64(Self.analysisLimit) + (1 << 20)).record(at: offset)
        guard record.type == "response", let block = record.block else {
            throw ExhibitError(.verificationFailed, "The record at offset \(offset) of \(warcPath) is not a response that can be analysed.")
        }
        targetURI = record.targetURI ?? ""
        guard let head = record.httpHead else {
            throw ExhibitError(.verificationFailed, "The response at offset \(offset) of \(warcPath) has no complete HTTP header.")
        }
        status = HTTPHead.statusCode(in: head).flatMap { Int($0) } ?? 0
        contentType = HTTPHead.firstValue(of: "content-type", in: head)
        let chunked = HTTPHead.firstValue(of: "transfer-encoding", in: head)?.lowercased().contains("chunked") ?? false
        // The head ends with a blank line: CRLF CRLF.
        let raw = Array(block[(head.count + 4)...])
        guard raw.count <= Self.analysisLimit else {
            throw ExhibitError(.verificationFailed, "The response at offset \(offset) of \(warcPath) is larger than \(Self.analysisLimit >> 20) MiB and is not analysed.")
        }
        payload = ContentDecoding.payload(raw, chunked: chunked, contentEncoding: nil, limit: Self.analysisLimit)
        body = ContentDecoding.payload(payload, chunked: false, contentEncoding: HTTPHead.firstValue(of: "content-encoding", in: head), limit: Self.analysisLimit)
    }
}
