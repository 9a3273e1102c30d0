internal import CCurl
internal import COpenSSL
package import ChainOfCustody
import Foundation
package import WARC

/// One HTTP fetch (one redirect hop) that the engine should perform.
package struct HopRequest {
    package var url: WebAddress
    /// Opaque to the engine: lets the job find the chain this hop belongs to.
    package var chain: Int

    package init(url: WebAddress, chain: Int) {
        self.url = url
        self.chain = chain
    }
}

/// TLS facts of the connection a hop used.
package struct TLSFacts: Sendable {
    package var version: String?
    package var cipher: String?
    /// Peer certificate chain as PEM, leaf first (CURLINFO_CERTINFO, or the connection's
    /// TLS session when the transfer reused a connection).
    package var chainPEM: [String] = []
    package var chainSHA256: [String] = []
}

/// Everything about a completed hop: the bytes as sent and received and the
/// network facts from the same transfer.
package struct HopResult {
    package var url: WebAddress
    package var started: String
    package var ended: String
    package var requestBytes: [UInt8]
    package var responseHead: [UInt8]
    /// Where a body bigger than `Transfer.inMemoryLimit` was spooled; nil otherwise.
    package var spoolPath: String?
    /// A smaller body, as transferred; nil when spooled.
    package var body: [UInt8]?
    package var bodyLength: Int64
    package var blockSHA256: String
    package var payloadSHA256: String
    /// Extra digests of the payload as transferred (workspace extra_digests), hex.
    package var extraDigests: [DigestAlgorithm: String]
    package var dechunkedSHA256: String?
    package var chunked: Bool
    package var status: Int
    package var ip: String?
    package var port: Int?
    package var tls: TLSFacts?
    package var location: String?
    package var contentType: String?
    package var contentEncoding: String?
    package var timingsMicroseconds: [(String, Int64)]
    package var networkDecision: String
}

package enum HopOutcome {
    case completed(HopResult)
    case failed(url: WebAddress, reason: String)
    case refused(url: WebAddress, reason: String)
    /// This machine could not store the body (disk full, a file-size limit): not the
    /// server's fault and not the URL's, so the job stops with a storage error.
    case storageFailed(url: WebAddress, reason: String)
}

package struct EngineOptions {
    package var policy: NetworkPolicy
    package var userAgent: String
    package var connectTimeout: Int
    package var totalTimeout: Int
    package var maxBytes: Int64
    package var concurrency: Int
    /// Connections per host at once (1 for polite crawls).
    package var perHostConnections: Int
    /// Seconds between two requests to the same host.
    package var perHostDelay: Double
    package var caFile: String?
    package var tlsInsecure: Bool
    /// Where bodies are spooled while they stream in.
    package var spoolDirectory: String
    /// SHA-512, SHA-1 and MD5 computed in the same pass when the workspace asks.
    package var extraDigests: [DigestAlgorithm] = []

    package init(
        policy: NetworkPolicy, userAgent: String, connectTimeout: Int, totalTimeout: Int, maxBytes: Int64, concurrency: Int,
        perHostConnections: Int, perHostDelay: Double, caFile: String?, tlsInsecure: Bool, spoolDirectory: String,
        extraDigests: [DigestAlgorithm] = []
    ) {
        self.policy = policy
        self.userAgent = userAgent
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxBytes = maxBytes
        self.concurrency = concurrency
        self.perHostConnections = perHostConnections
        self.perHostDelay = perHostDelay
        self.caFile = caFile
        self.tlsInsecure = tlsInsecure
        self.spoolDirectory = spoolDirectory
        self.extraDigests = extraDigests
    }
}

/// Runs hops on libcurl's multi interface on the calling thread (blocking).
package final class TransferEngine {
    private let options: EngineOptions
    private let multi: UnsafeMutableRawPointer
    private var queue: [HopRequest] = []
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var activePerOrigin: [String: Int] = [:]
    private var nextAllowed: [String: Double] = [:]
    /// How many idle connections libcurl keeps open for reuse (the least recently used
    /// is closed past it): enough for the hosts of a URL list in turn.
    static let idleConnections = 64

    package init(options: EngineOptions) throws(ExhibitError) {
        Curl.initialize()
        guard let multi = curl_multi_init() else {
            throw ExhibitError(.storage, "libcurl could not create a multi handle.")
        }
        self.options = options
        self.multi = multi
        // The transfers at once are capped by `startReady` (`concurrency`), not by
        // CURLMOPT_MAX_TOTAL_CONNECTIONS: that option counts idle connections too, so on
        // a URL list that takes several hosts in turn libcurl closed one host's idle
        // connection to open the next host's, and every URL opened a connection of its
        // own. The idle connections kept for reuse are bounded instead.
        try setMulti(CURLMOPT_MAXCONNECTS, "CURLMOPT_MAXCONNECTS", max(Self.idleConnections, options.concurrency))
        try setMulti(CURLMOPT_MAX_HOST_CONNECTIONS, "CURLMOPT_MAX_HOST_CONNECTIONS", options.perHostConnections)
    }

    /// `curl_multi_setopt` with its result checked, like ``CurlEasy``'s options (libcurl
    /// has no table of multi option names, so the caller names it).
    private func setMulti(_ option: CURLMoption, _ name: String, _ value: Int) throws(ExhibitError) {
        let code = exhibit_curl_multi_setopt_long(multi, option, value)
        guard code != CURLM_OK else { return }
        let reason = String(cString: curl_multi_strerror(code))
        throw ExhibitError(.storage, "libcurl refused option \(name): \(reason).",
                           cause: CurlOptionRefusal(option: name, code: Int(code.rawValue), reason: reason))
    }

    deinit {
        for (_, transfer) in active {
            curl_multi_remove_handle(multi, transfer.easy.handle)
            transfer.discardSpool()
        }
        curl_multi_cleanup(multi)
    }

    package func enqueue(_ requests: [HopRequest]) {
        queue += requests
    }

    /// Runs until every queued hop is done. `completed` is called for each hop
    /// and returns further hops to queue (the next redirect hop, media, links).
    ///
    /// A caller with other work on the same thread (browser capture's pages) passes
    /// `tick`, called after each wait — at most `tickMilliseconds` when given, and cut
    /// short when the descriptor `wakingOn` names is readable — and also returning hops
    /// to queue: so a transfer that hangs does not hold that work until it ends.
    /// `idle`, when given, is called instead of waiting while transfers are open and
    /// none has anything to read or write; it returns whether it did any work (if not,
    /// the engine waits as usual).
    package func run(
        wakingOn descriptor: () -> Int32? = { nil }, tickMilliseconds: Int? = nil, tick: () throws(ExhibitError) -> [HopRequest] = { [] },
        idle: (() -> Bool)? = nil, _ completed: (HopRequest, HopOutcome) throws(ExhibitError) -> [HopRequest]
    ) throws(ExhibitError) {
        while !queue.isEmpty || !active.isEmpty {
            try startReady()
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
            let added = try tick()
            queue += added
            // Hops the tick added start at once, not after the wait.
            if !active.isEmpty || !queue.isEmpty, added.isEmpty {
                let longest = active.isEmpty ? waitForPoliteness() : 200
                let wait = min(longest, tickMilliseconds ?? longest)
                if let fd = descriptor() {
                    var extra = curl_waitfd(fd: fd, events: Int16(CURL_WAIT_POLLIN), revents: 0)
                    curl_multi_poll(multi, &extra, 1, Int32(wait), nil)
                } else if let idle, !active.isEmpty {
                    // Nothing to read or write yet: do some of the caller's work
                    // instead of sleeping, then look at the transfers again.
                    var ready: Int32 = 0
                    curl_multi_poll(multi, nil, 0, 0, &ready)
                    if ready == 0, !idle() {
                        curl_multi_poll(multi, nil, 0, Int32(wait), nil)
                    }
                } else {
                    curl_multi_poll(multi, nil, 0, Int32(wait), nil)
                }
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

    /// Starts queued hops while there is room, honouring per-host limits and delays. A
    /// hop whose transfer libcurl cannot set up stops the run: it is not left unfetched
    /// without a word, nor fetched under options libcurl refused.
    private func startReady() throws(ExhibitError) {
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
            let transfer = try Transfer(request: request, options: options)
            try transfer.configure()
            let key = Unmanaged.passUnretained(transfer).toOpaque()
            active[key] = transfer
            activePerOrigin[origin, default: 0] += 1
            curl_multi_add_handle(multi, transfer.easy.handle)
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

extension HopResult {
    /// What a `capture` entry says of the hop its page ended on — where it ended, the
    /// answer, the payload's digest and the TLS session — shared by plain and browser
    /// capture so that the two kinds of entry cannot drift apart.
    package func recordFinalHop(restricted: Bool, in subject: inout [String: JSONValue]) {
        subject["final_url"] = .string(url.text)
        subject["status"] = .integer(Int64(status))
        subject["access_restricted"] = .bool(restricted)
        subject["ip"] = ip.map { .string($0) } ?? .null
        subject["content_type"] = contentType.map { .string($0) } ?? .null
        subject["payload_sha256"] = .string(dechunkedSHA256 ?? payloadSHA256)
        subject["payload_length"] = .integer(bodyLength)
        subject["tls"] = tls.map { tls in .object([
            "version": tls.version.map { .string($0) } ?? .null,
            "cipher": tls.cipher.map { .string($0) } ?? .null,
            "chain_sha256": .array(tls.chainSHA256.map { .string($0) }),
        ]) } ?? .null
    }
}
