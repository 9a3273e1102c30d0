import ChainOfCustody
import Chromium
import Foundation

/// One request a page made in a browser capture, as the page's request list
/// (its metadata record) and its ledger entry name it.
struct BrowserRequest {
    enum Outcome: String { case fetched, refused, failed, local }
    var url: String
    var method: String
    var resourceType: String
    var outcome: Outcome
    var status: Int?
    /// The `response` record that holds what the engine fetched.
    var recordID: String?
    var reason: String?

    var json: [String: Any] {
        var object: [String: Any] = ["url": url, "method": method, "resource_type": resourceType, "outcome": outcome.rawValue]
        if let status { object["status"] = status }
        if let recordID { object["record_id"] = recordID }
        if let reason { object["reason"] = reason }
        return object
    }
}

/// A request Chromium paused (Fetch.requestPaused) and that waits for an answer.
struct PausedRequest {
    var requestID: String
    var session: String?
    var networkID: String?
    var url: String
    var method: String
    var resourceType: String
    var frameID: String?
}

/// The DevTools side of a browser capture: one Chromium per job with an empty
/// profile, and per page a fresh browser context (no cookies, storage or cache shared
/// between pages) holding one tab whose every request is paused over the Fetch domain
/// (the pauses collect here until the capture job answers them), and the page
/// actions — navigate, scroll, and the snapshots sealed at the end.
///
/// Chromium gets no network of its own: its proxy is a loopback port that refuses
/// every connection and no host name resolves, so a request the interception does
/// not answer fails instead of reaching a server.
final class BrowserPage {
    let process: ChromiumProcess
    let client: DevToolsClient
    let closedProxy: RefusingPort
    var session = ""
    var targetID = ""
    var contextID = ""
    /// The page's own session and those of its frames and workers: events from any
    /// other (a page already closed) are ignored.
    var sessions: Set<String> = []
    var chromiumVersion = ""
    /// Paused requests not yet handed to the engine, oldest first.
    var waiting: [PausedRequest] = []
    /// Handed to the engine: chain id → the paused request.
    var inFlight: [Int: PausedRequest] = [:]
    var log: [BrowserRequest] = []
    /// Monotonic seconds of the last pause or answer: network idle is measured from it.
    var lastActivity = ChromiumProcess.now()
    /// Redirect hops so far per network request (Chromium keeps the id across hops).
    var redirects: [String: Int] = [:]
    /// After the page is settled and scrolled: new requests are failed at once.
    var sealed = false
    /// The main document's final answer has been given (fulfilled, failed or refused).
    var documentAnswered = false

    static var interception: [String: Any] { ["patterns": [["urlPattern": "*", "requestStage": "Request"]]] }

    init(executable: String) throws(ExhibitError) {
        closedProxy = try RefusingPort()
        var switches = [
            "headless=new", "remote-debugging-pipe", "no-first-run", "no-default-browser-check", "disable-gpu",
            "proxy-server=http://127.0.0.1:\(closedProxy.port)", "proxy-bypass-list=<-loopback>",
            "host-resolver-rules=MAP * ~NOTFOUND", "force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            "disable-background-networking", "disable-component-update", "disable-sync", "disable-default-apps",
            "disable-extensions", "no-pings", "disable-domain-reliability", "disable-breakpad", "disk-cache-size=1",
            "disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,IsolateOrigins,site-per-process,BackForwardCache",
            "hide-scrollbars", "mute-audio", "force-device-scale-factor=1", "window-size=1280,800",
        ]
        // Chromium refuses to run its sandbox as root (test machines and containers).
        if geteuid() == 0 { switches.append("no-sandbox") }
        process = try ChromiumProcess(executable: executable, switches: switches, url: "about:blank")
        client = DevToolsClient(process: process)
        client.onEvent = { [unowned self] (message) throws(ExhibitError) in try self.event(message) }
    }

    deinit { process.terminate() }

    /// Opens a tab for the next page in a fresh browser context and turns on
    /// interception, cache off and service workers bypassed.
    func open(deadline: Double) throws(ExhibitError) {
        waiting = []
        inFlight = [:]
        log = []
        redirects = [:]
        sealed = false
        documentAnswered = false
        sessions = []
        lastActivity = ChromiumProcess.now()
        if chromiumVersion.isEmpty {
            let version = try client.call("Browser.getVersion", deadline: deadline)
            let product = version["product"] as? String ?? ""
            chromiumVersion = product.split(separator: "/").last.map(String.init) ?? product
        }
        let context = try client.call("Target.createBrowserContext", ["disposeOnDetach": true], deadline: deadline)
        guard let contextID = context["browserContextId"] as? String else { throw DevToolsClient.protocolError("Target.createBrowserContext") }
        self.contextID = contextID
        let target = try client.call("Target.createTarget", ["url": "about:blank", "browserContextId": contextID], deadline: deadline)
        guard let targetID = target["targetId"] as? String else { throw DevToolsClient.protocolError("Target.createTarget") }
        self.targetID = targetID
        let attached = try client.call("Target.attachToTarget", ["targetId": targetID, "flatten": true], deadline: deadline)
        guard let session = attached["sessionId"] as? String else { throw DevToolsClient.protocolError("Target.attachToTarget") }
        self.session = session
        sessions.insert(session)
        // Sent together and then awaited in order: Chromium handles a session's commands in order.
        let commands: [(String, [String: Any])] = [
            ("Fetch.enable", Self.interception),
            ("Network.enable", [:]),
            ("Network.setCacheDisabled", ["cacheDisabled": true]),
            ("Network.setBypassServiceWorker", ["bypass": true]),
            ("Page.enable", [:]),
            ("Emulation.setDeviceMetricsOverride", ["width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false]),
            // Workers and out-of-process frames get their own sessions: intercept those too.
            ("Target.setAutoAttach", ["autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true]),
        ]
        var sent: [(Int, String)] = []
        for (method, params) in commands { sent.append((try client.send(method, params, session: session), method)) }
        for (id, method) in sent { _ = try client.wait(for: id, method: method, deadline: deadline) }
    }

    func navigate(_ url: String) throws(ExhibitError) {
        lastActivity = ChromiumProcess.now()
        try client.send("Page.navigate", ["url": url], session: session)
    }

    private func event(_ message: [String: Any]) throws(ExhibitError) {
        guard let method = message["method"] as? String else { return }
        let params = message["params"] as? [String: Any] ?? [:]
        let from = message["sessionId"] as? String
        guard let from, sessions.contains(from) else { return }
        switch method {
        case "Fetch.requestPaused":
            guard let requestID = params["requestId"] as? String, let request = params["request"] as? [String: Any],
                  let url = request["url"] as? String else { return }
            let paused = PausedRequest(
                requestID: requestID, session: from, networkID: params["networkId"] as? String, url: url,
                method: request["method"] as? String ?? "GET", resourceType: params["resourceType"] as? String ?? "Other",
                frameID: params["frameId"] as? String)
            lastActivity = ChromiumProcess.now()
            if sealed {
                try fail(paused, reason: "Aborted")
                log.append(BrowserRequest(url: url, method: paused.method, resourceType: paused.resourceType, outcome: .failed,
                                          reason: "requested after the page was sealed; not fetched"))
            } else {
                waiting.append(paused)
            }
        case "Target.attachedToTarget":
            guard let child = params["sessionId"] as? String else { return }
            sessions.insert(child)
            try client.send("Fetch.enable", Self.interception, session: child)
            try client.send("Network.setCacheDisabled", ["cacheDisabled": true], session: child)
            try client.send("Target.setAutoAttach", ["autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true], session: child)
            try client.send("Runtime.runIfWaitingForDebugger", session: child)
        case "Network.webSocketCreated":
            // The DevTools interception never sees a WebSocket; the closed proxy stops it,
            // and the record says it was not captured.
            guard let url = params["url"] as? String else { return }
            lastActivity = ChromiumProcess.now()
            log.append(BrowserRequest(url: url, method: "GET", resourceType: "WebSocket", outcome: .refused,
                                      reason: "a WebSocket connection; Exhibit captures only http and https requests, so the page got none"))
        default:
            return
        }
    }

    /// Answers a paused request with a network error (Fetch.failRequest).
    func fail(_ paused: PausedRequest, reason: String) throws(ExhibitError) {
        try client.send("Fetch.failRequest", ["requestId": paused.requestID, "errorReason": reason], session: paused.session)
        lastActivity = ChromiumProcess.now()
    }

    /// Lets Chromium handle a request that needs no network (data:, blob:).
    func continueLocally(_ paused: PausedRequest) throws(ExhibitError) {
        try client.send("Fetch.continueRequest", ["requestId": paused.requestID], session: paused.session)
        lastActivity = ChromiumProcess.now()
    }

    /// Answers a paused request with what the engine fetched (Fetch.fulfillRequest).
    func fulfil(_ paused: PausedRequest, status: Int, headers: [(String, String)], body: [UInt8]) throws(ExhibitError) {
        try client.send("Fetch.fulfillRequest", [
            "requestId": paused.requestID, "responseCode": status,
            "responseHeaders": headers.map { ["name": $0.0, "value": $0.1] },
            "body": Data(body).base64EncodedString(),
        ], session: paused.session)
        lastActivity = ChromiumProcess.now()
    }

    /// Evaluates a script in the page and returns its value (awaiting a promise).
    func evaluate(_ expression: String, deadline: Double) throws(ExhibitError) -> Any? {
        let result = try client.call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true],
                                     session: session, deadline: deadline)
        if result["exceptionDetails"] != nil { return nil }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// The page's scroll height in CSS pixels.
    func height(deadline: Double) throws(ExhibitError) -> Int {
        (try evaluate("document.documentElement ? document.documentElement.scrollHeight : 0", deadline: deadline) as? NSNumber)?.intValue ?? 0
    }

    /// Scrolls down a viewport at a time to the bottom, pausing briefly at each step so
    /// that lazy images and observers see every part of the page; at most 400 steps.
    func scrollThrough(deadline: Double) throws(ExhibitError) {
        _ = try evaluate("""
        (async () => { const pause = () => new Promise(r => setTimeout(r, 60));
          const end = () => document.documentElement.scrollHeight; const step = Math.max(200, window.innerHeight - 100);
          let y = window.scrollY; let n = 0;
          while (y + window.innerHeight < end() && n < 400) { y += step; window.scrollTo(0, y); n += 1; await pause(); }
          window.scrollTo(0, end()); await pause(); return n; })()
        """, deadline: deadline)
    }

    /// What the page shows now, serialised: the doctype and the document element.
    func serializedDOM(deadline: Double) throws(ExhibitError) -> (html: String, location: String) {
        let value = try evaluate("""
        (() => { const d = document.doctype; return [location.href,
          (d ? new XMLSerializer().serializeToString(d) + "\\n" : "") + (document.documentElement ? document.documentElement.outerHTML : "")]; })()
        """, deadline: deadline) as? [Any]
        guard let value, value.count == 2, let location = value[0] as? String, let html = value[1] as? String else {
            throw ExhibitError(.captureFailed, "Chromium returned no document to serialise.")
        }
        return (html, location)
    }

    /// A full-page PNG, 1280 CSS pixels wide.
    func screenshot(deadline: Double) throws(ExhibitError) -> [UInt8] {
        let metrics = try client.call("Page.getLayoutMetrics", session: session, deadline: deadline)
        let content = metrics["cssContentSize"] as? [String: Any] ?? metrics["contentSize"] as? [String: Any] ?? [:]
        let height = max(1, min(30_000, Int(((content["height"] as? NSNumber)?.doubleValue ?? 800).rounded(.up))))
        let shot = try client.call("Page.captureScreenshot", [
            "format": "png", "captureBeyondViewport": true, "fromSurface": true,
            "clip": ["x": 0, "y": 0, "width": 1280, "height": height, "scale": 1],
        ], session: session, deadline: deadline)
        guard let png = (shot["data"] as? String).flatMap({ Data(base64Encoded: $0) }).map(Array.init),
              png.starts(with: [0x89, 0x50, 0x4E, 0x47]) else {
            throw ExhibitError(.captureFailed, "Chromium returned no valid PNG.")
        }
        return png
    }

    /// The page printed to PDF, backgrounds included.
    func pdf(deadline: Double) throws(ExhibitError) -> [UInt8] {
        let printed = try client.call("Page.printToPDF", ["printBackground": true], session: session, deadline: deadline)
        guard let pdf = (printed["data"] as? String).flatMap({ Data(base64Encoded: $0) }).map(Array.init),
              pdf.starts(with: Array("%PDF-".utf8)) else {
            throw ExhibitError(.captureFailed, "Chromium returned no valid PDF.")
        }
        return pdf
    }

    /// Closes the page's tab and disposes of its browser context.
    func closePage(deadline: Double) {
        sessions = []
        guard !contextID.isEmpty else { return }
        _ = try? client.call("Target.disposeBrowserContext", ["browserContextId": contextID], deadline: deadline)
        contextID = ""
    }

    func close() {
        _ = try? client.send("Browser.close")
        process.terminate()
    }
}

@available(*, unavailable)
extension BrowserPage: Sendable {}
