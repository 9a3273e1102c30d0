internal import CCurl
public import ChainOfCustody
import Foundation

/// One HTTP request that Exhibit makes on its own behalf (an evidence server's API), not a
/// capture: libcurl through the checked ``CurlEasy`` handle, the body sent from memory and
/// the answer collected up to a limit. TLS verifies the peer and its host name (libcurl's
/// default, never turned off here); `caFile` replaces the trust anchors (`CURLOPT_CAINFO`).
/// No proxy from the environment, no `.netrc`, http and https only, no redirects.
///
/// ```swift
/// let answer = try await CurlRequest(method: "POST", url: "https://evidence.example/v1/search",
///                                    headers: ["Content-Type: application/json"], body: query).send()
/// ```
public struct CurlRequest: Sendable {
    public var method: String
    public var url: String
    /// Header lines, `Name: value`.
    public var headers: [String]
    public var body: [UInt8]
    public var caFile: String?
    /// Seconds to connect, and for the whole exchange.
    public var connectTimeout: Int
    public var timeout: Int
    /// The largest answer accepted; past it the transfer fails.
    public var limit: Int

    public init(method: String, url: String, headers: [String] = [], body: [UInt8] = [], caFile: String? = nil,
                connectTimeout: Int = 10, timeout: Int = 900, limit: Int = 4 << 30) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.limit = limit
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// Runs the request on a thread of its own (libcurl blocks; DESIGN §13) and returns the answer.
    public func send() async throws(ExhibitError) -> Answer {
        let request = self
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Answer, ExhibitError>, Never>) in
            Thread.detachNewThread {
                continuation.resume(returning: Result { () throws(ExhibitError) -> Answer in try request.perform() })
            }
        }
        return try outcome.get()
    }

    /// Whether libcurl may take a proxy from the environment (`http_proxy`, `no_proxy`…):
    /// a timestamp authority may sit behind the agency's proxy; an evidence server is
    /// reached directly.
    var honoursProxyEnvironment = false

    /// Why a transfer failed: libcurl's own detail, or the limit the answer passed.
    struct Failure: Error { var reason: String }

    /// Runs the request on the calling thread.
    public func perform() throws(ExhibitError) -> Answer {
        switch try attempt() {
        case .success(let answer): return answer
        case .failure(let failure): throw ExhibitError(.storage, "\(url) cannot be reached: \(failure.reason).")
        }
    }

    /// Runs the request on the calling thread; a handle libcurl refuses throws, a
    /// transfer that fails is the failure's reason, for the caller's own sentence.
    func attempt() throws(ExhibitError) -> Result<Answer, Failure> {
        let easy = try CurlEasy()
        let sink = CurlRequestSink(limit: limit)
        try easy.set(CURLOPT_URL, url)
        try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try easy.set(CURLOPT_FOLLOWLOCATION, false)
        if !honoursProxyEnvironment { try easy.set(CURLOPT_NOPROXY, "*") }
        try easy.set(CURLOPT_CONNECTTIMEOUT, connectTimeout)
        try easy.set(CURLOPT_TIMEOUT, timeout)
        try easy.set(CURLOPT_USERAGENT, ExhibitRelease.userAgent)
        // No "Expect: 100-continue" round trip before a large upload.
        try easy.setHeaders(headers + ["Expect:"])
        if let caFile { try easy.set(CURLOPT_CAINFO, caFile) }
        try easy.set(CURLOPT_WRITEFUNCTION, callback: curlRequestWrite)
        try easy.set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(sink).toOpaque())
        switch method {
        case "GET": try easy.set(CURLOPT_HTTPGET, true)
        case "POST": try easy.set(CURLOPT_POST, true)
        default: try easy.set(CURLOPT_CUSTOMREQUEST, method)
        }
        // libcurl does not copy CURLOPT_POSTFIELDS: it is set, and the transfer runs, while
        // the body is pinned.
        // Never a NULL body: libcurl would then read it from stdin.
        let pinned = body.isEmpty ? [UInt8(0)] : body
        let performed: Result<CURLcode, ExhibitError> = withExtendedLifetime(sink) {
            pinned.withUnsafeBytes { buffer in
                Result { () throws(ExhibitError) -> CURLcode in
                    if method != "GET" {
                        try easy.set(CURLOPT_POSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                        try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, size: Int64(body.count))
                    }
                    return easy.perform()
                }
            }
        }
        let code = try performed.get()
        guard code == CURLE_OK else {
            let detail = easy.errorMessage
            let reason = sink.overLimit ? "the answer is larger than \(limit) bytes"
                : (detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
            return .failure(Failure(reason: reason))
        }
        return .success(Answer(status: easy.long(CURLINFO_RESPONSE_CODE) ?? 0, body: sink.bytes))
    }
}

/// Where a ``CurlRequest``'s answer collects; outlives the transfer.
private final class CurlRequestSink {
    var bytes: [UInt8] = []
    let limit: Int
    var overLimit = false
    init(limit: Int) { self.limit = limit }
}

private func curlRequestWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let data, let userdata else { return 0 }
    let sink = Unmanaged<CurlRequestSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard sink.bytes.count + length <= sink.limit else {
        sink.overLimit = true
        return 0
    }
    sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    return length
}
