import ChainOfCustody

/// A small blocking HTTP POST for services Exhibit talks to on its own behalf (an
/// RFC 3161 authority) — not for capture. A ``CurlRequest`` that may go through the
/// environment's proxy, with the authority's own failure sentence.
enum HTTPPost {
    /// Posts `body` and returns the status and the answer (at most `limit` bytes).
    static func send(
        url: String, body: [UInt8], contentType: String, caFile: String?, timeout: Int = 30, limit: Int = 1 << 20
    ) throws(ExhibitError) -> (status: Int, body: [UInt8]) {
        var request = CurlRequest(method: "POST", url: url, headers: ["Content-Type: \(contentType)"], body: body,
                                  caFile: caFile, connectTimeout: timeout, timeout: timeout, limit: limit)
        request.honoursProxyEnvironment = true
        switch try request.attempt() {
        case .success(let answer): return (answer.status, answer.body)
        case .failure(let failure): throw ExhibitError(.storage, "Cannot reach \(url): \(failure.reason).")
        }
    }
}
