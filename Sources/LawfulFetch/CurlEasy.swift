internal import CCurl
import ChainOfCustody

/// One libcurl easy handle: one transfer at a time, on one thread, freed in `deinit`.
///
/// Every option goes through a `set` that checks what `curl_easy_setopt` returns
/// (<https://curl.se/libcurl/c/curl_easy_setopt.html>). libcurl refuses an option its
/// build lacks, a string over 8 MB or a protocol list it does not know; a capture that
/// went on without the option would archive under rules nobody chose (a proxy in the
/// way, a `.netrc` login, content decoded before it was hashed). A refusal is an
/// ``ExhibitError`` that names the option and libcurl's reason.
///
/// ```swift
/// let easy = try CurlEasy()
/// try easy.set(CURLOPT_URL, "https://example.org/")
/// try easy.set(CURLOPT_FOLLOWLOCATION, false)
/// let code = easy.perform()
/// ```
///
/// The handle sets `CURLOPT_NOSIGNAL` itself (DESIGN §13) and owns its error buffer and
/// header list, which libcurl reads for as long as the handle lives.
final class CurlEasy {
    /// The `CURL *`, for the multi interface and `curl_easy_getinfo`.
    let handle: UnsafeMutableRawPointer
    /// Where libcurl writes a failed transfer's detail (`CURLOPT_ERRORBUFFER`). Allocated,
    /// not a Swift array passed with `&`: that pointer would be valid only during the call.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private static let errorBufferSize = Int(CURL_ERROR_SIZE) + 1
    private var headerList: UnsafeMutablePointer<curl_slist>?

    init() throws(ExhibitError) {
        Curl.initialize()
        guard let handle = curl_easy_init() else {
            // libcurl is opened on first use (CCurl): a missing one is reported here.
            let reason = exhibit_curl_load_error().map { " (\(String(cString: $0)))" } ?? ""
            throw ExhibitError(.storage, "libcurl could not create a transfer handle\(reason).")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Self.errorBufferSize)
        errorBuffer.initialize(repeating: 0, count: Self.errorBufferSize)
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_NOSIGNAL, true)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    // MARK: Options

    func set(_ option: CURLoption, _ value: Int, file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        try check(exhibit_curl_setopt_long(handle, option, value), option, file, line)
    }

    /// A switch: 1 or 0.
    func set(_ option: CURLoption, _ value: Bool, file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        try set(option, value ? 1 : 0, file: file, line: line)
    }

    /// A string option; libcurl keeps its own copy.
    func set(_ option: CURLoption, _ value: String, file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        try check(exhibit_curl_setopt_string(handle, option, value), option, file, line)
    }

    /// A `curl_off_t` option (the `_LARGE` sizes).
    func set(_ option: CURLoption, size value: Int64, file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        try check(exhibit_curl_setopt_off_t(handle, option, curl_off_t(value)), option, file, line)
    }

    /// A pointer libcurl keeps but does not copy (callback userdata, `CURLOPT_PRIVATE`,
    /// `CURLOPT_POSTFIELDS`): the caller keeps what it points to alive while the handle
    /// may use it.
    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?, file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        try check(exhibit_curl_setopt_pointer(handle, option, value), option, file, line)
    }

    /// `CURLOPT_HTTPHEADER`: request header lines, replacing any set before; the handle owns the list.
    func setHeaders(_ lines: [String], file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for text in lines {
            guard let appended = curl_slist_append(list, text) else {
                if let list { curl_slist_free_all(list) }
                throw ExhibitError(.storage, "libcurl could not build a request header list.", file: file, line: line)
            }
            list = appended
        }
        do {
            try check(exhibit_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list), CURLOPT_HTTPHEADER, file, line)
        } catch {
            if let list { curl_slist_free_all(list) }
            throw error
        }
        if let headerList { curl_slist_free_all(headerList) }
        headerList = list
    }

    /// `CURLOPT_WRITEFUNCTION` or `CURLOPT_HEADERFUNCTION`.
    func set(_ option: CURLoption, callback: exhibit_curl_data_callback, file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        try check(exhibit_curl_setopt_data_callback(handle, option, callback), option, file, line)
    }

    /// `CURLOPT_DEBUGFUNCTION`.
    func setDebug(_ callback: exhibit_curl_debug_callback, file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        try check(exhibit_curl_setopt_debug_callback(handle, callback), CURLOPT_DEBUGFUNCTION, file, line)
    }

    /// `CURLOPT_OPENSOCKETFUNCTION`.
    func setOpenSocket(_ callback: exhibit_curl_opensocket_callback, file: String = #fileID, line: Int = #line) throws(ExhibitError) {
        try check(exhibit_curl_setopt_opensocket_callback(handle, callback), CURLOPT_OPENSOCKETFUNCTION, file, line)
    }

    private func check(_ code: CURLcode, _ option: CURLoption, _ file: String, _ line: Int) throws(ExhibitError) {
        guard code != CURLE_OK else { return }
        let name = Self.name(of: option)
        let reason = String(cString: curl_easy_strerror(code))
        throw ExhibitError(
            .storage, "libcurl refused option \(name): \(reason).",
            cause: CurlOptionRefusal(option: name, code: Int(code.rawValue), reason: reason), file: file, line: line)
    }

    /// `CURLOPT_URL` for `CURLOPT_URL`, from libcurl's own table of options (7.73 and later).
    static func name(of option: CURLoption) -> String {
        guard let entry = curl_easy_option_by_id(option), let name = entry.pointee.name else { return "number \(option.rawValue)" }
        return "CURLOPT_" + String(cString: name)
    }

    // MARK: Transfer and results

    /// Runs the transfer on the calling thread (blocking); not for handles on a multi.
    func perform() -> CURLcode {
        curl_easy_perform(handle)
    }

    /// What libcurl wrote to the error buffer about the last failure; empty when nothing.
    var errorMessage: String {
        String(cString: errorBuffer)
    }

    /// A `long` fact about the last transfer; nil when libcurl has none.
    func long(_ info: CURLINFO) -> Int? {
        var value = 0
        return exhibit_curl_getinfo_long(handle, info, &value) == CURLE_OK ? value : nil
    }

    /// A `curl_off_t` fact (the `_T` timings in microseconds); nil when libcurl has none.
    func offset(_ info: CURLINFO) -> Int64? {
        var value: curl_off_t = 0
        return exhibit_curl_getinfo_off_t(handle, info, &value) == CURLE_OK ? Int64(value) : nil
    }

    /// A string fact, copied; nil when libcurl has none.
    func string(_ info: CURLINFO) -> String? {
        var pointer: UnsafeMutablePointer<CChar>?
        guard exhibit_curl_getinfo_string(handle, info, &pointer) == CURLE_OK, let pointer else { return nil }
        return String(cString: pointer)
    }

    /// The peer's certificate chain as libcurl reports it (`CURLOPT_CERTINFO` set).
    var certificateInfo: UnsafeMutablePointer<curl_certinfo>? {
        var certinfo: UnsafeMutablePointer<curl_certinfo>?
        guard exhibit_curl_getinfo_certinfo(handle, &certinfo) == CURLE_OK else { return nil }
        return certinfo
    }

    /// The TLS session of the connection in use.
    var tlsSession: UnsafeMutablePointer<curl_tlssessioninfo>? {
        var info: UnsafeMutablePointer<curl_tlssessioninfo>?
        guard exhibit_curl_getinfo_tls_session(handle, &info) == CURLE_OK else { return nil }
        return info
    }
}

@available(*, unavailable)
extension CurlEasy: Sendable {}

/// The cause of an ``ExhibitError`` for an option libcurl refused: its name, the
/// `CURLcode` and libcurl's sentence for it.
struct CurlOptionRefusal: Error, Sendable, Equatable {
    var option: String
    var code: Int
    var reason: String
}
