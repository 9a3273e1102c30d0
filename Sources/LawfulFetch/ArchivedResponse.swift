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
        guard let headerEnd = Self.headerEnd(block) else {
            throw ExhibitError(.verificationFailed, "The response at offset \(offset) of \(warcPath) has no complete HTTP header.")
        }
        let head = String(decoding: block[0..<headerEnd], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = head.first?.split(separator: " ") ?? []
        status = statusParts.count > 1 ? Int(statusParts[1]) ?? 0 : 0
        var headers: [(String, String)] = []
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimming(" \t")))
        }
        func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
        contentType = header("content-type")
        let chunked = header("transfer-encoding")?.lowercased().contains("chunked") ?? false
        let raw = Array(block[(headerEnd + 4)...])
        guard raw.count <= Self.analysisLimit else {
            throw ExhibitError(.verificationFailed, "The response at offset \(offset) of \(warcPath) is larger than \(Self.analysisLimit >> 20) MiB and is not analysed.")
        }
        payload = ContentDecoding.payload(raw, chunked: chunked, contentEncoding: nil, limit: Self.analysisLimit)
        body = ContentDecoding.payload(payload, chunked: false, contentEncoding: header("content-encoding"), limit: Self.analysisLimit)
    }

    private static func headerEnd(_ block: [UInt8]) -> Int? {
        guard block.count >= 4 else { return nil }
        for index in 0...(block.count - 4)
        where block[index] == 13 && block[index + 1] == 10 && block[index + 2] == 13 && block[index + 3] == 10 {
            return index
        }
        return nil
    }
}
