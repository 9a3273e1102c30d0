internal import CCurl
import ChainOfCustody

/// A small blocking HTTP POST with libcurl, for services Exhibit talks to on its
/// own behalf (an RFC 3161 authority) — not for capture.
enum HTTPPost {
    /// Posts `body` and returns the status and the answer (at most `limit` bytes).
    static func send(
        url: String, body: [UInt8], contentType: String, caFile: String?, timeout: Int = 30, limit: Int = 1 << 20
    ) throws(ExhibitError) -> (status: Int, body: [UInt8]) {
        Curl.initialize()
        guard let easy = curl_easy_init() else {
            throw ExhibitError(.storage, "libcurl could not create a transfer handle.")
        }
        defer { curl_easy_cleanup(easy) }
        final class Sink {
            var bytes: [UInt8] = []
            var limit: Int
            init(limit: Int) { self.limit = limit }
        }
        let sink = Sink(limit: limit)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let headers = curl_slist_append(nil, "Content-Type: \(contentType)")
        defer { curl_slist_free_all(headers) }
        let code: CURLcode = withExtendedLifetime(sink) {
            body.withUnsafeBytes { buffer in
                exhibit_curl_setopt_string(easy, CURLOPT_URL, url)
                exhibit_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
                exhibit_curl_setopt_long(easy, CURLOPT_TIMEOUT, timeout)
                exhibit_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
                exhibit_curl_setopt_string(easy, CURLOPT_USERAGENT, ExhibitRelease.userAgent)
                exhibit_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, headers)
                exhibit_curl_setopt_long(easy, CURLOPT_POST, 1)
                exhibit_curl_setopt_pointer(easy, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                exhibit_curl_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
                if let caFile { exhibit_curl_setopt_string(easy, CURLOPT_CAINFO, caFile) }
                exhibit_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, &errorBuffer)
                exhibit_curl_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, postWrite)
                exhibit_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
                return curl_easy_perform(easy)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ExhibitError(.storage, "Cannot reach \(url): \(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail).")
        }
        var status = 0
        exhibit_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return (status, sink.bytes)

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
