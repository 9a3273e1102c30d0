internal import CCurl
internal import COpenSSL
import ChainOfCustody
import Foundation
import WARC

/// One HTTP fetch (one redirect hop) that the engine should perform.
struct HopRequest {
    var url: WebAddress
    /// Opaque to the engine: lets the job find the chain this hop belongs to.
    var chain: Int
}

/// TLS facts of the connection a hop used.
struct TLSFacts: Sendable {
    var version: String?
    var cipher: String?
    /// Peer certificate chain as PEM, leaf first (CURLINFO_CERTINFO).
    var chainPEM: [String] = []
    var chainSHA256: [String] = []
}

/// Everything about a completed hop: the bytes as sent and received and the
/// network facts from the same transfer.
struct HopResult {
    var url: WebAddress
    var started: String
    var ended: String
    var requestBytes: [UInt8]
    var responseHead: [UInt8]
    /// Where a body bigger than `Transfer.inMemoryLimit` was spooled; nil otherwise.
    var spoolPath: String?
    /// A smaller body, as transferred; nil when spooled.
    var body: [UInt8]?
    var bodyLength: Int64
    var blockSHA256: String
    var payloadSHA256: String
    /// Extra digests of the payload as transferred (workspace extra_digests), hex.
    var extraDigests: [DigestAlgorithm: String]
    var dechunkedSHA256: String?
    var chunked: Bool
    var status: Int
    var ip: String?
    var port: Int?
    var tls: TLSFacts?
    var location: String?
    var contentType: String?
    var contentEncoding: String?
    var timingsMicroseconds: [(String, Int64)]
    var networkDecision: String
}

enum HopOutcome {
    case completed(HopResult)
    case failed(url: WebAddress, reason: String)
    case refused(url: WebAddress, reason: String)
    /// This machine could not store the body (disk full, a file-size limit): not the
    /// server's fault and not the URL's, so the job stops with a storage error.
    case storageFailed(url: WebAddress, reason: String)
}

struct EngineOptions {
    var policy: NetworkPolicy
    var userAgent: String
    var connectTimeout: Int
    var totalTimeout: Int
    var maxBytes: Int64
    var concurrency: Int
    /// Connections per host at once (1 for polite crawls).
    var perHostConnections: Int
    /// Seconds between two requests to the same host.
    var perHostDelay: Double
    var caFile: String?
    var tlsInsecure: Bool
    /// Where bodies are spooled while they stream in.
    var spoolDirectory: String
    /// SHA-512, SHA-1 and MD5 computed in the same pass when the workspace asks.
    var extraDigests: [DigestAlgorithm] = []
}

/// Per-transfer state reached from libcurl's callbacks through the userdata pointer.
final class Transfer {
    let request: HopRequest
    let options: EngineOptions
    let easy: UnsafeMutableRawPointer
    let started = LedgerTime.now()
    var requestBytes: [UInt8] = []
    var responseHead: [UInt8] = []
    var headComplete = false
    var spoolFD: Int32 = -1
    var spoolPath: String?
    /// The body while it is small: most pages never touch the disk before they
    /// are written into the WARC file.
    var memoryBody: [UInt8] = []
    static let inMemoryLimit: Int64 = 512 * 1024
    var bodyLength: Int64 = 0
    let blockDigest = DigestStream([.sha256])
    let payloadDigest: DigestStream
    var chunkDecoder: ChunkDecoder?
    let dechunkedDigest = DigestStream([.sha256])
    var failure: String?
    /// Writing the body to this machine's disk failed (errno text).
    var localWriteError: String?
    var refusal: String?
    /// Set when this transfer opens its socket; nil when it reused a connection
    /// an earlier transfer of the job opened (and had checked).
    var decision: String?
    var tls: TLSFacts?
    var headerBytes = 0
    var slist: UnsafeMutablePointer<curl_slist>?
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init(request: HopRequest, options: EngineOptions) throws(ExhibitError) {
        guard let easy = curl_easy_init() else {
            throw ExhibitError(.storage, "libcurl could not create a transfer handle.")
        }
        self.request = request
        self.options = options
        self.easy = easy
        self.payloadDigest = DigestStream([.sha256] + options.extraDigests)
    }

    deinit {
        curl_easy_cleanup(easy)
        if let slist { curl_slist_free_all(slist) }
        if spoolFD >= 0 { close(spoolFD) }
    }

    func configure() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        exhibit_curl_setopt_string(easy, CURLOPT_URL, request.url.withoutFragment)
        exhibit_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        exhibit_curl_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        // Redirects are followed by the job, hop by hop, so each hop is archived
        // and its connected address checked by the policy.
        exhibit_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        // The archive holds the bytes as transferred (DESIGN §6).
        exhibit_curl_setopt_long(easy, CURLOPT_HTTP_TRANSFER_DECODING, 0)
        exhibit_curl_setopt_long(easy, CURLOPT_HTTP_CONTENT_DECODING, 0)
        exhibit_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT, options.connectTimeout)
        exhibit_curl_setopt_long(easy, CURLOPT_TIMEOUT, options.totalTimeout)
        exhibit_curl_setopt_string(easy, CURLOPT_USERAGENT, options.userAgent)
        // Only http and https, also for anything libcurl might be redirected to.
        // No proxy, whatever http_proxy/https_proxy/ALL_PROXY say: through a proxy the
        // connected address would be the proxy's, and the lawful-capture check on the
        // address actually connected to (DESIGN §6) would judge the wrong host.
        exhibit_curl_setopt_string(easy, CURLOPT_PROXY, "")
        exhibit_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        exhibit_curl_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        // No credentials from anywhere: no .netrc, no cookies from outside the job.
        exhibit_curl_setopt_long(easy, CURLOPT_NETRC, Int(CURL_NETRC_IGNORED.rawValue))
        exhibit_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, &errorBuffer)
        exhibit_curl_setopt_long(easy, CURLOPT_CERTINFO, 1)
        if let caFile = options.caFile { exhibit_curl_setopt_string(easy, CURLOPT_CAINFO, caFile) }
        if options.tlsInsecure {
            exhibit_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            exhibit_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
        }
        // A stock Accept header; never Authorization, Cookie or Accept-Encoding.
        slist = curl_slist_append(nil, "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        exhibit_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, slist)

        exhibit_curl_setopt_long(easy, CURLOPT_VERBOSE, 1)
        exhibit_curl_setopt_debug_callback(easy, transferDebug)
        exhibit_curl_setopt_pointer(easy, CURLOPT_DEBUGDATA, context)
        exhibit_curl_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, transferHeader)
        exhibit_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        exhibit_curl_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, transferWrite)
        exhibit_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        exhibit_curl_setopt_opensocket_callback(easy, transferOpenSocket)
        exhibit_curl_setopt_pointer(easy, CURLOPT_OPENSOCKETDATA, context)
        exhibit_curl_setopt_pointer(easy, CURLOPT_PRIVATE, context)
    }

    // MARK: callbacks (on the engine's thread)

    func onDebug(_ type: curl_infotype, _ data: UnsafeRawBufferPointer) {
        if type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT {
            requestBytes.append(contentsOf: data)
        }
    }

    static let maxHeaderBytes = 1 << 20

    func onHeader(_ data: UnsafeRawBufferPointer) -> Bool {
        headerBytes += data.count
        if tls == nil, request.url.scheme == "https" { captureTLS() }
        if headComplete {
            // Trailer fields after a chunked body arrive here; they are part of
            // the body bytes already written, so ignore them.
            return true
        }
        responseHead.append(contentsOf: data)
        // Our own bound on the header block, whatever libcurl's build allows: a hostile
        // server must not grow memory without limit before the body even starts.
        if responseHead.count > Self.maxHeaderBytes {
            failure = "the response headers exceeded \(Self.maxHeaderBytes >> 10) KiB"
            return false
        }
        if data.count == 2, data[0] == 13, data[1] == 10 {
            // An interim 1xx response is followed by the real one: keep only the final.
            if responseHead.starts(with: Array("HTTP/1.1 1".utf8)) || responseHead.starts(with: Array("HTTP/1.0 1".utf8)) {
                responseHead = []
            } else {
                headComplete = true
                blockDigest.update(responseHead)
                chunkDecoder = isChunked ? ChunkDecoder() : nil
            }
        }
        return true
    }

    func onWrite(_ data: UnsafeRawBufferPointer) -> Bool {
        if bodyLength + Int64(data.count) > options.maxBytes {
            failure = "the body exceeded the body-size limit of \(options.maxBytes) bytes"
            return false
        }
        if spoolFD < 0 && bodyLength + Int64(data.count) <= Self.inMemoryLimit {
            memoryBody.append(contentsOf: data)
        } else {
            if spoolFD < 0 {
                let path = options.spoolDirectory + "/.spool-\(UUID().uuidString.lowercased()).tmp"
                spoolFD = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                guard spoolFD >= 0 else {
                    localWriteError = String(cString: strerror(errno))
                    return false
                }
                spoolPath = path
                let held = memoryBody
                memoryBody = []
                guard held.withUnsafeBytes({ spool($0) }) else { return false }
            }
            guard spool(data) else { return false }
        }
        bodyLength += Int64(data.count)
        blockDigest.update(data)
        payloadDigest.update(data)
        if chunkDecoder != nil {
            chunkDecoder!.feed(data) { dechunkedDigest.update($0) }
        }
        return true
    }

    func onOpenSocket(family: Int32, socktype: Int32, proto: Int32, address: UnsafePointer<sockaddr>) -> curl_socket_t {
        var bytes: [UInt8]?
        if family == AF_INET {
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                var addr = pointer.pointee.sin_addr
                bytes = withUnsafeBytes(of: &addr) { Array($0) }
            }
        } else if family == AF_INET6 {
            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                var addr = pointer.pointee.sin6_addr
                bytes = withUnsafeBytes(of: &addr) { Array($0) }
            }
        }
        guard let bytes, let ip = IPAddress(bytes: bytes) else {
            refusal = "the destination is not an IPv4 or IPv6 address"
            return CURL_SOCKET_BAD
        }
        switch options.policy.decide(ip) {
        case .refuse(let reason):
            refusal = reason
            return CURL_SOCKET_BAD
        case .allowByOverride(let range):
            decision = "allowed by the network override for \(range) (connected to \(ip))"
        case .allow:
            decision = "allowed (public address \(ip))"
        }
        return socket(family, socktype, proto)
    }

    /// The decision for a reused connection, from the address it is connected to:
    /// the check ran when the connection was opened; this says which rule let it.
    private func reusedDecision(_ ipText: String?) -> String {
        guard let ipText, let ip = IPAddress(ipText) else { return "connection reused (checked when it was opened)" }
        switch options.policy.decide(ip) {
        case .allowByOverride(let range): return "allowed by the network override for \(range) (connected to \(ip), connection reused)"
        case .allow: return "allowed (public address \(ip), connection reused)"
        case .refuse(let reason): return "connection to \(ip) reused, though the policy now says: \(reason)"
        }
    }

    private func captureTLS() {
        var info: UnsafeMutablePointer<curl_tlssessioninfo>?
        guard exhibit_curl_getinfo_tls_session(easy, &info) == CURLE_OK, let info,
              info.pointee.backend == CURLSSLBACKEND_OPENSSL, let ssl = info.pointee.internals else { return }
        tls = TLSFacts(
            version: exhibit_ssl_version(ssl).map { String(cString: $0) },
            cipher: exhibit_ssl_cipher(ssl).map { String(cString: $0) })
    }

    // MARK: results

    /// Appends to the spool file; false (with the reason kept) when this machine
    /// cannot store it.
    private func spool(_ data: UnsafeRawBufferPointer) -> Bool {
        var written = 0
        while written < data.count {
            let result = write(spoolFD, data.baseAddress! + written, data.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                localWriteError = String(cString: strerror(errno))
                return false
            }
            written += result
        }
        return true
    }

    var isChunked: Bool {
        headerValue("transfer-encoding")?.lowercased().contains("chunked") == true
    }

    /// A response header's value (the last one of that name).
    func headerValue(_ name: String) -> String? {
        HTTPHead.value(of: name, in: responseHead)
    }

    var status: Int {
        var code = 0
        exhibit_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    func certificateChain() -> [String] {
        var certinfo: UnsafeMutablePointer<curl_certinfo>?
        guard exhibit_curl_getinfo_certinfo(easy, &certinfo) == CURLE_OK, let certinfo,
              certinfo.pointee.num_of_certs > 0, let lists = certinfo.pointee.certinfo else { return [] }
        var pems: [String] = []
        for index in 0..<Int(certinfo.pointee.num_of_certs) {
            var node = lists[index]
            while let current = node {
                let text = String(cString: current.pointee.data)
                if text.hasPrefix("Cert:") { pems.append(String(text.dropFirst(5))) }
                node = current.pointee.next
            }
        }
        return pems
    }

    func result() -> HopOutcome {
        // No fsync: the spool is scratch, and the WARC file it is copied into is
        // flushed before the ledger records it (DESIGN §2).
        if spoolFD >= 0 {
            close(spoolFD)
            spoolFD = -1
        }
        var ipPointer: UnsafeMutablePointer<CChar>?
        exhibit_curl_getinfo_string(easy, CURLINFO_PRIMARY_IP, &ipPointer)
        var port = 0
        exhibit_curl_getinfo_long(easy, CURLINFO_PRIMARY_PORT, &port)
        var timings: [(String, Int64)] = []
        for (name, info) in [("namelookup", CURLINFO_NAMELOOKUP_TIME_T), ("connect", CURLINFO_CONNECT_TIME_T),
                             ("tls", CURLINFO_APPCONNECT_TIME_T), ("first-byte", CURLINFO_STARTTRANSFER_TIME_T),
                             ("total", CURLINFO_TOTAL_TIME_T)] {
            var value: curl_off_t = 0
            exhibit_curl_getinfo_off_t(easy, info, &value)
            timings.append((name, Int64(value)))
        }
        if !headComplete { blockDigest.update(responseHead) }
        var tlsFacts = tls
        if request.url.scheme == "https" {
            let pems = certificateChain()
            if tlsFacts == nil { tlsFacts = TLSFacts() }
            tlsFacts!.chainPEM = pems
            tlsFacts!.chainSHA256 = pems.map(Certificates.sha256Fingerprint)
        }
        let chunked = isChunked
        var payload = payloadDigest.finishHex()
        let payloadSHA256 = payload.removeValue(forKey: .sha256)!
        return .completed(HopResult(
            url: request.url, started: started, ended: LedgerTime.now(), requestBytes: requestBytes,
            responseHead: responseHead, spoolPath: spoolPath, body: spoolPath == nil ? memoryBody : nil, bodyLength: bodyLength,
            blockSHA256: blockDigest.finishHex()[.sha256]!, payloadSHA256: payloadSHA256, extraDigests: payload,
            dechunkedSHA256: chunked ? dechunkedDigest.finishHex()[.sha256]! : nil, chunked: chunked,
            status: status, ip: ipPointer.map { String(cString: $0) }, port: port == 0 ? nil : port,
            tls: tlsFacts, location: headerValue("location"), contentType: headerValue("content-type"),
            contentEncoding: headerValue("content-encoding"), timingsMicroseconds: timings,
            networkDecision: decision ?? reusedDecision(ipPointer.map { String(cString: $0) })))
    }

    /// Removes a spool file left by a failed transfer.
    func discardSpool() {
        if spoolFD >= 0 { close(spoolFD); spoolFD = -1 }
        if let spoolPath { unlink(spoolPath) }
        spoolPath = nil
        memoryBody = []
    }

    var curlErrorMessage: String {
        String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

@available(*, unavailable)
extension Transfer: Sendable {}

// libcurl's callbacks: non-capturing C functions; the Transfer travels as userdata.

private func transferDebug(_ handle: UnsafeMutableRawPointer?, _ type: curl_infotype, _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let userdata, let data else { return 0 }
    Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue().onDebug(type, UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

private func transferHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let userdata, let data else { return 0 }
    let ok = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue().onHeader(UnsafeRawBufferPointer(start: data, count: size * count))
    return ok ? size * count : 0
}

private func transferWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let userdata, let data else { return 0 }
    let ok = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue().onWrite(UnsafeRawBufferPointer(start: data, count: size * count))
    return ok ? size * count : 0
}

private func transferOpenSocket(_ userdata: UnsafeMutableRawPointer?, _ purpose: curlsocktype, _ address: UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t {
    guard let userdata, let address else { return CURL_SOCKET_BAD }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    return withUnsafeMutablePointer(to: &address.pointee.addr) { pointer in
        transfer.onOpenSocket(
            family: address.pointee.family, socktype: address.pointee.socktype, proto: address.pointee.protocol,
            address: UnsafePointer(pointer))
    }
}

/// Runs hops on libcurl's multi interface on the calling thread (blocking).
final class TransferEngine {
    private let options: EngineOptions
    private let multi: UnsafeMutableRawPointer
    private var queue: [HopRequest] = []
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var activePerOrigin: [String: Int] = [:]
    private var nextAllowed: [String: Double] = [:]

    init(options: EngineOptions) throws(ExhibitError) {
        Curl.initialize()
        guard let multi = curl_multi_init() else {
            throw ExhibitError(.storage, "libcurl could not create a multi handle.")
        }
        self.options = options
        self.multi = multi
        exhibit_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.concurrency)
        exhibit_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.perHostConnections)
    }

    deinit {
        for (_, transfer) in active {
            curl_multi_remove_handle(multi, transfer.easy)
            transfer.discardSpool()
        }
        curl_multi_cleanup(multi)
    }

    func enqueue(_ requests: [HopRequest]) {
        queue += requests
    }

    /// Runs until every queued hop is done. `completed` is called for each hop
    /// and returns further hops to queue (the next redirect hop, media, links).
    func run(_ completed: (HopRequest, HopOutcome) throws(ExhibitError) -> [HopRequest]) throws(ExhibitError) {
        while !queue.isEmpty || !active.isEmpty {
            startReady()
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            while true {
                var remaining: Int32 = 0
                guard let message = curl_multi_info_read(multi, &remaining) else { break }
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                var privatePointer: UnsafeMutableRawPointer?
                exhibit_curl_getinfo_pointer(easy, CURLINFO_PRIVATE, &privatePointer)
                guard let key = privatePointer, let transfer = active.removeValue(forKey: key) else { continue }
                curl_multi_remove_handle(multi, easy)
                let origin = transfer.request.url.origin
                activePerOrigin[origin, default: 1] -= 1
                nextAllowed[origin] = Self.now() + options.perHostDelay
                let outcome = Self.outcome(of: transfer, code: code)
                queue += try completed(transfer.request, outcome)
            }
            if !active.isEmpty || !queue.isEmpty {
                let wait = active.isEmpty ? waitForPoliteness() : 200
                curl_multi_poll(multi, nil, 0, Int32(wait), nil)
            }
        }
    }

    private static func outcome(of transfer: Transfer, code: CURLcode) -> HopOutcome {
        let url = transfer.request.url
        if code == CURLE_OK {
            return transfer.result()
        }
        transfer.discardSpool()
        if let refusal = transfer.refusal, code == CURLE_COULDNT_CONNECT {
            return .refused(url: url, reason: refusal)
        }
        if let error = transfer.localWriteError {
            return .storageFailed(url: url, reason: error)
        }
        if let failure = transfer.failure {
            return .failed(url: url, reason: failure)
        }
        let detail = transfer.curlErrorMessage
        let base = String(cString: curl_easy_strerror(code))
        let reason: String
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            reason = "timed out (connect limit \(transfer.options.connectTimeout) s, total limit \(transfer.options.totalTimeout) s): \(detail.isEmpty ? base : detail)"
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CONNECT_ERROR:
            reason = "TLS failure: \(detail.isEmpty ? base : detail)"
        default:
            reason = detail.isEmpty ? base : "\(base): \(detail)"
        }
        return .failed(url: url, reason: reason)
    }

    /// Starts queued hops while there is room, honouring per-host limits and delays.
    private func startReady() {
        var index = 0
        let now = Self.now()
        while index < queue.count && active.count < options.concurrency {
            let origin = queue[index].url.origin
            let busy = activePerOrigin[origin, default: 0] >= options.perHostConnections
            let waiting = (nextAllowed[origin] ?? 0) > now
            if busy || waiting {
                index += 1
                continue
            }
            let request = queue.remove(at: index)
            guard let transfer = try? Transfer(request: request, options: options) else { continue }
            transfer.configure()
            let key = Unmanaged.passUnretained(transfer).toOpaque()
            active[key] = transfer
            activePerOrigin[origin, default: 0] += 1
            curl_multi_add_handle(multi, transfer.easy)
        }
    }

    /// Milliseconds until the earliest queued host may be contacted again.
    private func waitForPoliteness() -> Int {
        let now = Self.now()
        let soonest = queue.map { nextAllowed[$0.url.origin] ?? 0 }.min() ?? now
        return max(1, min(1000, Int((soonest - now) * 1000)))
    }

    private static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// Certificate fingerprints.
enum Certificates {
    /// SHA-256 over the DER inside a PEM certificate, lowercase hex.
    static func sha256Fingerprint(_ pem: String) -> String {
        let body = pem.components(separatedBy: "\n")
            .filter { !$0.hasPrefix("-----") }
            .joined()
            .trimming(" \r\t")
        guard let der = Data(base64Encoded: body) else { return "" }
        return Digest.sha256Hex(Array(der))
    }
}
