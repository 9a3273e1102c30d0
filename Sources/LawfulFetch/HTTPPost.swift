internal import CCurl
import ChainOfCustody

/// A small blocking HTTP POST with libcurl, for services Exhibit talks to on its
/// own behalf (an RFC 3161 authority) — not for capture.
enum HTTPPost {
    /// Posts `body` and returns the status and the answer (at most `limit` bytes).
    static func send(
        url: String, body: [UInt8], contentType: String, caFile: String?, timeout: Int = 30, limit: Int = 1 << 20
    ) throws(ExhibitError) -> (status: Int, body: [UInt8]) {
        let easy = try CurlEasy()
        final class Sink {
            var bytes: [UInt8] = []
            var limit: Int
            init(limit: Int) { self.limit = limit }
        }
        let sink = Sink(limit: limit)
        try easy.set(CURLOPT_URL, url)
        try easy.set(CURLOPT_TIMEOUT, timeout)
        try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try easy.set(CURLOPT_USERAGENT, ExhibitRelease.userAgent)
        try easy.setHeaders(["Content-Type: \(contentType)"])
        try easy.set(CURLOPT_POST, true)
        if let caFile { try easy.set(CURLOPT_CAINFO, caFile) }
        try easy.set(CURLOPT_WRITEFUNCTION, callback: postWrite)
        try easy.set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(sink).toOpaque())
        // libcurl does not copy CURLOPT_POSTFIELDS: the body is set, and the transfer
        // runs, while the buffer is pinned.
        let performed: Result<CURLcode, ExhibitError> = withExtendedLifetime(sink) {
            body.withUnsafeBytes { buffer in
                Result { () throws(ExhibitError) -> CURLcode in
                    try easy.set(CURLOPT_POSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                    try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, size: Int64(buffer.count))
                    return easy.perform()
                }
            }
        }
        let code = try performed.get()
        guard code == CURLE_OK else {
            let detail = easy.errorMessage
            throw ExhibitError(.storage, "Cannot reach \(url): \(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail).")
        }
        return (easy.long(CURLINFO_RESPONSE_CODE) ?? 0, sink.bytes)

        func postWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
            guard let data, let userdata else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            guard sink.bytes.count + length <= sink.limit else { return 0 }
            sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
            return length
        }
    }
}
