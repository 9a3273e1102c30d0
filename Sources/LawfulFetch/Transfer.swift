internal import CCurl
internal import COpenSSL
import ChainOfCustody
import Foundation
import WARC

/// Per-transfer state reached from libcurl's callbacks through the userdata pointer.
final class Transfer {
    let request: HopRequest
    let options: EngineOptions
    let easy: CurlEasy
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
    /// The block's and the payload's sha256 go through one paired pass over each piece
    /// of the body (`PairedDigest`: the CPU's SHA instructions, two streams for about
    /// the cost of one), and need no OpenSSL context per transfer.
    let blockDigest = PairedDigest([.sha256])
    let payloadDigest: PairedDigest
    var chunkDecoder: ChunkDecoder?
    let dechunkedDigest = PairedDigest([.sha256])
    var failure: String?
    /// Writing the body to this machine's disk failed (errno text).
    var localWriteError: String?
    var refusal: String?
    /// Set when this transfer opens its socket; nil when it reused a connection
    /// an earlier transfer of the job opened (and had checked).
    var decision: String?
    var tls: TLSFacts?
    var headerBytes = 0

    init(request: HopRequest, options: EngineOptions) throws(ExhibitError) {
        self.request = request
        self.options = options
        self.easy = try CurlEasy()
        self.payloadDigest = PairedDigest([.sha256] + options.extraDigests)
    }

    deinit {
        if spoolFD >= 0 { close(spoolFD) }
    }

    /// Sets every option of the hop's transfer; an option libcurl refuses is an error,
    /// never a transfer under other rules.
    func configure() throws(ExhibitError) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        try easy.set(CURLOPT_URL, request.url.withoutFragment)
        try easy.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        // Redirects are followed by the job, hop by hop, so each hop is archived
        // and its connected address checked by the policy.
        try easy.set(CURLOPT_FOLLOWLOCATION, false)
        // The archive holds the bytes as transferred (DESIGN §6).
        try easy.set(CURLOPT_HTTP_TRANSFER_DECODING, false)
        try easy.set(CURLOPT_HTTP_CONTENT_DECODING, false)
        try easy.set(CURLOPT_CONNECTTIMEOUT, options.connectTimeout)
        try easy.set(CURLOPT_TIMEOUT, options.totalTimeout)
        try easy.set(CURLOPT_USERAGENT, options.userAgent)
        // Only http and https, also for anything libcurl might be redirected to.
        // No proxy, whatever http_proxy/https_proxy/ALL_PROXY say: through a proxy the
        // connected address would be the proxy's, and the lawful-capture check on the
        // address actually connected to (DESIGN §6) would judge the wrong host.
        try easy.set(CURLOPT_PROXY, "")
        try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try easy.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        // No credentials from anywhere: no .netrc, no cookies from outside the job.
        try easy.set(CURLOPT_NETRC, Int(CURL_NETRC_IGNORED.rawValue))
        try easy.set(CURLOPT_CERTINFO, true)
        if let caFile = options.caFile { try easy.set(CURLOPT_CAINFO, caFile) }
        if options.tlsInsecure {
            try easy.set(CURLOPT_SSL_VERIFYPEER, false)
            try easy.set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        // A stock Accept header; never Authorization, Cookie or Accept-Encoding.
        try easy.setHeaders(["Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"])

        try easy.set(CURLOPT_VERBOSE, true)
        try easy.setDebug(transferDebug)
        try easy.set(CURLOPT_DEBUGDATA, pointer: context)
        try easy.set(CURLOPT_HEADERFUNCTION, callback: transferHeader)
        try easy.set(CURLOPT_HEADERDATA, pointer: context)
        try easy.set(CURLOPT_WRITEFUNCTION, callback: transferWrite)
        try easy.set(CURLOPT_WRITEDATA, pointer: context)
        try easy.setOpenSocket(transferOpenSocket)
        try easy.set(CURLOPT_OPENSOCKETDATA, pointer: context)
        try easy.set(CURLOPT_PRIVATE, pointer: context)
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
                responseHead.withUnsafeBytes { blockDigest.update($0) }
                // A body announced small enough for memory gets its buffer at once,
                // instead of growing (and copying) as the pieces arrive.
                if let length = headerValue("content-length").flatMap({ Int($0.trimming(" \t")) }),
                   length > 0, length <= Self.inMemoryLimit, length <= options.maxBytes {
                    memoryBody.reserveCapacity(length)
                }
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
        PairedDigest.update(blockDigest, payloadDigest, with: data)
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
        guard let info = easy.tlsSession,
              info.pointee.backend == CURLSSLBACKEND_OPENSSL, let ssl = info.pointee.internals else { return }
        tls = TLSFacts(
            version: exhibit_ssl_version(ssl).map { String(cString: $0) },
            cipher: exhibit_ssl_cipher(ssl).map { String(cString: $0) },
            chainPEM: decision == nil ? Self.peerChain(ssl) : [])
    }

    /// The peer's certificates as the connection's TLS session holds them, leaf first, in
    /// the PEM text CURLINFO_CERTINFO gives: libcurl fills that only for a connection the
    /// transfer opened (`decision` set), and a capture on a kept-alive connection records
    /// its server's certificates all the same (docs/capture.md, "Connections").
    private static func peerChain(_ ssl: UnsafeMutableRawPointer) -> [String] {
        var pems: [String] = []
        for index in 0..<exhibit_ssl_peer_chain_count(ssl) {
            var pem: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard exhibit_ssl_peer_certificate_pem(ssl, index, &pem, &length) == 1, let pem else { return [] }
            pems.append(String(decoding: UnsafeBufferPointer(start: pem, count: length), as: UTF8.self))
            exhibit_openssl_free(pem)
        }
        return pems
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
        easy.long(CURLINFO_RESPONSE_CODE) ?? 0
    }

    func certificateChain() -> [String] {
        guard let certinfo = easy.certificateInfo,
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
        let ip = easy.string(CURLINFO_PRIMARY_IP)
        let port = easy.long(CURLINFO_PRIMARY_PORT) ?? 0
        var timings: [(String, Int64)] = []
        for (name, info) in [("namelookup", CURLINFO_NAMELOOKUP_TIME_T), ("connect", CURLINFO_CONNECT_TIME_T),
                             ("tls", CURLINFO_APPCONNECT_TIME_T), ("first-byte", CURLINFO_STARTTRANSFER_TIME_T),
                             ("total", CURLINFO_TOTAL_TIME_T)] {
            timings.append((name, easy.offset(info) ?? 0))
        }
        if !headComplete { responseHead.withUnsafeBytes { blockDigest.update($0) } }
        var tlsFacts = tls
        if request.url.scheme == "https" {
            let opened = certificateChain()
            let pems = opened.isEmpty ? tlsFacts?.chainPEM ?? [] : opened
            if tlsFacts == nil { tlsFacts = TLSFacts() }
            tlsFacts!.chainPEM = pems
            tlsFacts!.chainSHA256 = pems.map(Certificates.sha256Fingerprint)
        }
        let chunked = isChunked
        var payload = payloadDigest.finish().mapValues { Hex.encode($0) }
        let payloadSHA256 = payload.removeValue(forKey: .sha256)!
        return .completed(HopResult(
            url: request.url, started: started, ended: LedgerTime.now(), requestBytes: requestBytes,
            responseHead: responseHead, spoolPath: spoolPath, body: spoolPath == nil ? memoryBody : nil, bodyLength: bodyLength,
            blockSHA256: Hex.encode(blockDigest.finish()[.sha256]!), payloadSHA256: payloadSHA256, extraDigests: payload,
            dechunkedSHA256: chunked ? Hex.encode(dechunkedDigest.finish()[.sha256]!) : nil, chunked: chunked,
            status: status, ip: ip, port: port == 0 ? nil : port,
            tls: tlsFacts, location: headerValue("location"), contentType: headerValue("content-type"),
            contentEncoding: headerValue("content-encoding"), timingsMicroseconds: timings,
            networkDecision: decision ?? reusedDecision(ip)))
    }

    /// Removes a spool file left by a failed transfer.
    func discardSpool() {
        if spoolFD >= 0 { close(spoolFD); spoolFD = -1 }
        if let spoolPath { unlink(spoolPath) }
        spoolPath = nil
        memoryBody = []
    }

    var curlErrorMessage: String {
        easy.errorMessage
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
