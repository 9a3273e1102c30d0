public import ChainOfCustody
import Foundation
import Chromium

/// Renders one archived page with headless Chromium against a ``ReplayServer``:
/// a full-page PNG (1280 px wide) with a banner giving URL, capture time and the
/// source record's digest, and a PDF with the same banner as its page header.
///
/// Chromium reaches nothing but the replay server: every http(s) request of the
/// page is paused by the DevTools Fetch domain and continued to the replay
/// server's route form (`/replay/<time>/<url>`), which covers https without a
/// TLS proxy; anything Fetch does not see (browser-initiated requests) goes to the
/// replay server as its HTTP proxy (Chromium's proxy-server switch, loopback included), which
/// answers only from the WARC and refuses CONNECT; host names resolve to nothing
/// and WebRTC may not use UDP.
public struct Renderer: Sendable {
    /// What the banner says.
    public struct Banner: Sendable {
        public var url: String
        /// ISO 8601, UTC.
        public var captureTime: String
        /// `sha256:<hex>` of the source response record's block.
        public var blockDigest: String

        public var text: String {
            "Exhibit replay of an archived capture — URL: \(url) — captured (UTC): \(captureTime) — source record block digest: \(blockDigest)"
        }
    }

    /// A finished render.
    public struct Output: Sendable {
        public var png: [UInt8]
        public var pdf: [UInt8]
        public var width: Int
        public var height: Int
        /// `156.0.8078.114`.
        public var chromiumVersion: String
    }

    public static let viewportWidth = 1280
    public static let viewportHeight = 800
    /// Page load (navigation to the load event) and whole-render time boxes, in seconds.
    public var loadTimeout: Double = 30
    public var renderTimeout: Double = 60

    public let executable: String

    /// Finds Chromium (`$EXHIBIT_CHROMIUM`, else `/usr/bin/chromium`); a storage error
    /// (exit 5) saying how to install it when it is missing.
    public init() throws(ExhibitError) {
        executable = try ChromiumProcess.locate()
    }

    /// Renders `url` as captured at `timestamp` (14 digits) from `server`.
    /// Blocking: call it off the Swift concurrency pool. Chromium is always killed
    /// and its temporary profile removed, whatever happens.
    public func render(url: String, timestamp: String, server: ReplayServer, banner: Banner) throws(ExhibitError) -> Output {
        let start = ChromiumProcess.now()
        let renderDeadline = start + renderTimeout
        var switches = [
            "headless=new", "remote-debugging-pipe", "no-first-run", "no-default-browser-check", "disable-gpu",
            "proxy-server=http://127.0.0.1:\(server.port)", "proxy-bypass-list=<-loopback>",
            "host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            "disable-background-networking", "disable-component-update", "disable-sync", "disable-default-apps",
            "disable-extensions", "no-pings", "disable-domain-reliability", "disable-breakpad",
            // No omnibox popup preloaded for the headless window (a WebUI app that costs
            // about 0.6 s of renderer CPU; docs/capture.md, browser capture).
            "disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,IsolateOrigins,site-per-process,"
                + "WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup",
            "hide-scrollbars", "mute-audio", "force-device-scale-factor=1",
            "window-size=\(Self.viewportWidth),\(Self.viewportHeight)",
        ]
        // Chromium refuses to run its sandbox as root (test machines and containers).
        if geteuid() == 0 { switches.append("no-sandbox") }
        let process = try ChromiumProcess(executable: executable, switches: switches, url: "about:blank")
        defer { process.terminate() }
        let devtools = DevTools(process: process, replayBase: server.baseURL, timestamp: timestamp)

        let version = try devtools.call("Browser.getVersion", deadline: renderDeadline)
        let product = version["product"] as? String ?? ""
        let chromiumVersion = product.split(separator: "/").last.map(String.init) ?? product
        let target = try devtools.call("Target.createTarget", ["url": "about:blank"], deadline: renderDeadline)
        guard let targetID = target["targetId"] as? String else { throw DevTools.protocolError("Target.createTarget") }
        let attached = try devtools.call("Target.attachToTarget", ["targetId": targetID, "flatten": true], deadline: renderDeadline)
        guard let session = attached["sessionId"] as? String else { throw DevTools.protocolError("Target.attachToTarget") }
        _ = try devtools.call("Emulation.setDeviceMetricsOverride", [
            "width": Self.viewportWidth, "height": Self.viewportHeight, "deviceScaleFactor": 1, "mobile": false,
        ], session: session, deadline: renderDeadline)
        _ = try devtools.call("Fetch.enable", ["patterns": [["urlPattern": "*"]]], session: session, deadline: renderDeadline)
        _ = try devtools.call("Page.enable", session: session, deadline: renderDeadline)
        _ = try devtools.call("Page.setLifecycleEventsEnabled", ["enabled": true], session: session, deadline: renderDeadline)

        let loadDeadline = min(renderDeadline, ChromiumProcess.now() + loadTimeout)
        let navigation = try devtools.call("Page.navigate", ["url": url], session: session, deadline: loadDeadline)
        if let failure = navigation["errorText"] as? String, !failure.isEmpty {
            throw ExhibitError(.captureFailed, "Chromium could not load the archived page \(url) (\(failure)); nothing was stored for it.")
        }
        guard try devtools.waitFor(event: "Page.loadEventFired", session: session, deadline: loadDeadline) else {
            throw ExhibitError(.captureFailed, "The archived page \(url) did not finish loading within \(Int(loadTimeout)) seconds; nothing was stored for it.")
        }
        // Late images and fonts: wait briefly for the network to go quiet (it is all loopback).
        _ = try devtools.waitFor(event: "Page.lifecycleEvent", named: "networkIdle", session: session,
                                 deadline: min(renderDeadline, ChromiumProcess.now() + 3))

        // The banner: a static block at the very top of the page, before <body>.
        let script = """
        (() => { const b = document.createElement('div'); b.id = 'exhibit-replay-banner';
        b.setAttribute('style', 'all:initial;display:block;box-sizing:border-box;width:100%;margin:0;padding:8px 12px;background:#fff3b0;color:#000;border-bottom:2px solid #000;font:13px/1.45 monospace;white-space:pre-wrap;word-break:break-all;position:static');
        b.textContent = \(Self.javaScriptString(banner.text));
        const root = document.documentElement; root.insertBefore(b, document.body || root.firstChild); return true; })()
        """
        let evaluated = try devtools.call("Runtime.evaluate", ["expression": script, "returnByValue": true], session: session, deadline: renderDeadline)
        if evaluated["exceptionDetails"] != nil {
            throw ExhibitError(.captureFailed, "The banner could not be placed on \(url); nothing was stored for it.")
        }
        let metrics = try devtools.call("Page.getLayoutMetrics", session: session, deadline: renderDeadline)
        let content = metrics["cssContentSize"] as? [String: Any] ?? metrics["contentSize"] as? [String: Any] ?? [:]
        let height = max(1, Int(((content["height"] as? NSNumber)?.doubleValue ?? Double(Self.viewportHeight)).rounded(.up)))
        let shot = try devtools.call("Page.captureScreenshot", [
            "format": "png", "captureBeyondViewport": true, "fromSurface": true,
            "clip": ["x": 0, "y": 0, "width": Self.viewportWidth, "height": height, "scale": 1],
        ], session: session, deadline: renderDeadline)
        guard let png = (shot["data"] as? String).flatMap({ Data(base64Encoded: $0) }).map(Array.init),
              let size = Self.pngSize(png) else {
            throw ExhibitError(.captureFailed, "Chromium returned no valid PNG for \(url); nothing was stored for it.")
        }
        let header = "<div style=\"font-size:8px;font-family:monospace;width:100%;padding:0 0.4in;word-break:break-all\">\(Self.escapeHTML(banner.text))</div>"
        let printed = try devtools.call("Page.printToPDF", [
            "printBackground": true, "displayHeaderFooter": true, "headerTemplate": header,
            "footerTemplate": "<div style=\"font-size:8px;font-family:monospace;width:100%;text-align:center\"><span class=\"pageNumber\"></span> / <span class=\"totalPages\"></span></div>",
            "marginTop": 0.8, "marginBottom": 0.5,
        ], session: session, deadline: renderDeadline)
        guard let pdf = (printed["data"] as? String).flatMap({ Data(base64Encoded: $0) }).map(Array.init),
              pdf.starts(with: Array("%PDF-".utf8)) else {
            throw ExhibitError(.captureFailed, "Chromium returned no valid PDF for \(url); nothing was stored for it.")
        }
        _ = try? devtools.send("Browser.close")
        return Output(png: png, pdf: pdf, width: size.width, height: size.height, chromiumVersion: chromiumVersion)
    }

    /// Width and height from a PNG's signature and IHDR chunk; nil when it is not a PNG.
    public static func pngSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count >= 24, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    static func javaScriptString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed])) ?? Data("\"\"".utf8)
        // U+2028/2029 are line ends in older JavaScript; escape them too.
        return String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: "\u{2028}", with: "\\u2028").replacingOccurrences(of: "\u{2029}", with: "\\u2029")
    }

    static func escapeHTML(_ text: String) -> String {
        HTMLText.escape(text)
    }
}

/// Commands and events over the pipe (``DevToolsClient``), with the Fetch
/// interception that sends every request of the page to the replay server.
final class DevTools {
    let client: DevToolsClient
    let replayBase: String
    let timestamp: String
    /// Events that arrived while waiting for something else, oldest first.
    var events: [[String: Any]] = []

    init(process: ChromiumProcess, replayBase: String, timestamp: String) {
        client = DevToolsClient(process: process)
        self.replayBase = replayBase
        self.timestamp = timestamp
        client.onEvent = { [unowned self] message throws(ExhibitError) in try self.handle(message) }
    }

    static func protocolError(_ method: String) -> ExhibitError {
        DevToolsClient.protocolError(method)
    }

    @discardableResult
    func send(_ method: String, _ params: [String: Any] = [:], session: String? = nil) throws(ExhibitError) -> Int {
        try client.send(method, params, session: session)
    }

    /// Sends a command and waits for its result, serving Fetch pauses meanwhile.
    func call(_ method: String, _ params: [String: Any] = [:], session: String? = nil, deadline: Double) throws(ExhibitError) -> [String: Any] {
        do {
            return try client.call(method, params, session: session, deadline: deadline)
        } catch {
            var failure = error
            failure.message = String(error.message.dropLast()) + "; nothing was stored for this page."
            throw failure
        }
    }

    /// Waits for an event (and, for lifecycle events, its name); false at the deadline.
    func waitFor(event: String, named name: String? = nil, session: String, deadline: Double) throws(ExhibitError) -> Bool {
        func matches(_ message: [String: Any]) -> Bool {
            guard message["method"] as? String == event, message["sessionId"] as? String == session else { return false }
            guard let name else { return true }
            return (message["params"] as? [String: Any])?["name"] as? String == name
        }
        if let index = events.firstIndex(where: matches) {
            events.removeSubrange(...index)
            return true
        }
        // Each message read is served or kept in `events` by `handle`; the one awaited is taken back out.
        var seen = events.count
        while try client.pump(until: deadline) {
            if let index = events[min(seen, events.count)...].firstIndex(where: matches) {
                events.remove(at: index)
                return true
            }
            seen = events.count
        }
        return false
    }

    /// Answers Fetch pauses; keeps other events for ``waitFor``.
    private func handle(_ message: [String: Any]) throws(ExhibitError) {
        guard let method = message["method"] as? String else { return }
        guard method == "Fetch.requestPaused", let params = message["params"] as? [String: Any],
              let requestID = params["requestId"] as? String, let request = params["request"] as? [String: Any],
              let url = request["url"] as? String else {
            events.append(message)
            if events.count > 10_000 { events.removeFirst(events.count - 10_000) }
            return
        }
        let session = message["sessionId"] as? String
        let lower = url.lowercased()
        if lower.hasPrefix(replayBase.lowercased() + "/") {
            try send("Fetch.continueRequest", ["requestId": requestID], session: session)
        } else if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            var headers: [[String: String]] = []
            for (name, value) in request["headers"] as? [String: Any] ?? [:] {
                if let value = value as? String { headers.append(["name": name, "value": value]) }
            }
            headers.append(["name": ReplayResponder.browserMarker, "value": "browser"])
            let rewritten = "\(replayBase)/replay/\(timestamp)/\(url.split(separator: "#", maxSplits: 1).first.map(String.init) ?? url)"
            try send("Fetch.continueRequest", ["requestId": requestID, "url": rewritten, "headers": headers], session: session)
        } else {
            try send("Fetch.failRequest", ["requestId": requestID, "errorReason": "BlockedByClient"], session: session)
        }
    }
}

@available(*, unavailable)
extension DevTools: Sendable {}
