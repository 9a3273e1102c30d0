import ChainOfCustody
import Chromium
import Foundation
import LawfulFetch

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
    /// A body the page wanted to send (never sent): its length and sha256.
    var bodyLength: Int?
    var bodySHA256: String?

    var json: [String: Any] {
        var object: [String: Any] = ["url": url, "method": method, "resource_type": resourceType, "outcome": outcome.rawValue]
        if let status { object["status"] = status }
        if let recordID { object["record_id"] = recordID }
        if let reason { object["reason"] = reason }
        if let bodyLength { object["body_length"] = bodyLength }
        if let bodySHA256 { object["body_sha256"] = bodySHA256 }
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
    /// The body the page asked to send (Chromium hands it over as text), if any.
    var body: [UInt8]?
}

/// One page of a browser capture while it loads: its tab in a fresh browser context,
/// where its load has got to (``Phase``), the requests paused over the Fetch domain
/// that wait for the capture job, and what it has gathered so far. The job's loop
/// (``CaptureRun/advance(_:)``) moves it on; nothing here blocks.
final class BrowserTab {
    /// Where the page's load has got to; each phase waits for the replies in `calls`.
    enum Phase: Equatable {
        case creatingContext, creatingTarget, attaching, enabling
        /// Navigated: requests are served until the network has been idle for the settle time.
        case loading
        /// A scroll round began at `started`.
        case scrolling(started: Double)
        /// A scroll ended at `since` having set off requests or grown the page: what it
        /// set off gets the settle time to start.
        case settling(since: Double)
        /// Settled after a scroll: did the page grow?
        case remeasuring
        case serialising, printing
        /// The snapshot's records are being made off the loop (``SnapshotWork``).
        case sealing
        case done
    }

    let visit: BrowserVisit
    let client: DevToolsClient
    /// Ledger time when the page began.
    let started = LedgerTime.now()
    /// Monotonic seconds when the page's own time is up.
    let deadline: Double
    var phase = Phase.creatingContext
    /// Commands whose replies the phase waits for, and until when.
    var calls: [(id: Int, method: String)] = []
    var callDeadline = 0.0
    var session = ""
    var targetID = ""
    var contextID = ""
    /// The page's own session and those of its frames and workers.
    var sessions: Set<String> = []
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
    /// Monotonic seconds when the main document's final answer was fulfilled.
    var documentAnsweredAt: Double?
    /// Monotonic seconds when the page's load event fired (its document and the
    /// subresources its parser found are loaded).
    var loadedAt: Double?
    var state: BrowserPageState
    var settled = false
    var rounds = 0
    var height = 0
    var dom: (html: String, location: String)?
    var snapshotWork: SnapshotWork?
    var snapshot: BrowserSnapshot?
    /// Why Chromium did not finish the page, when it did not.
    var problem: String?

    static var interception: [String: Any] { ["patterns": [["urlPattern": "*", "requestStage": "Request"]]] }

    init(visit: BrowserVisit, client: DevToolsClient, seconds: Int) {
        self.visit = visit
        self.client = client
        self.deadline = ChromiumProcess.now() + Double(seconds)
        self.state = BrowserPageState(address: visit.address)
    }

    /// Sends a command whose reply the next phase waits for.
    func expect(_ method: String, _ params: [String: Any] = [:], session: String? = nil, until: Double) throws(ExhibitError) {
        calls.append((try client.send(method, params, session: session), method))
        callDeadline = until
    }

    /// The replies of the phase's commands, in order, once all have come; nil before.
    func replies() throws(ExhibitError) -> [[String: Any]]? {
        guard calls.allSatisfy({ client.hasReply($0.id) }) else {
            if ChromiumProcess.now() > callDeadline, let late = calls.first(where: { !client.hasReply($0.id) }) {
                throw ExhibitError(.captureFailed, "Chromium did not answer \(late.method) in time.")
            }
            return nil
        }
        var results: [[String: Any]] = []
        let pending = calls
        calls = []
        for call in pending { results.append(try client.reply(to: call.id, method: call.method) ?? [:]) }
        return results
    }

    /// A document whose load event never comes (a download, a 204) counts as loaded
    /// this long after it was answered.
    static let loadGrace = 5.0

    /// Whether the page's network has been idle for `settle` seconds (counted from
    /// `since` at the earliest) since its document loaded. Idle time before the load
    /// event does not count: a renderer slow to start (a loaded machine, several pages at
    /// once) may not have asked for the document's scripts yet, and the page would be
    /// scrolled and measured before its scripts had run.
    func isIdle(settle: Double, since: Double = 0) -> Bool {
        guard waiting.isEmpty, inFlight.isEmpty, let answered = documentAnsweredAt else { return false }
        let loaded = loadedAt ?? answered + Self.loadGrace
        return ChromiumProcess.now() - max(lastActivity, since, loaded) >= settle
    }

    func event(_ method: String, _ params: [String: Any], from: String) {
        switch method {
        case "Fetch.requestPaused":
            guard let requestID = params["requestId"] as? String, let request = params["request"] as? [String: Any],
                  let url = request["url"] as? String else { return }
            let paused = PausedRequest(
                requestID: requestID, session: from, networkID: params["networkId"] as? String, url: url,
                method: request["method"] as? String ?? "GET", resourceType: params["resourceType"] as? String ?? "Other",
                frameID: params["frameId"] as? String, body: Self.body(of: request))
            lastActivity = ChromiumProcess.now()
            if sealed {
                try? fail(paused, reason: "Aborted")
                log.append(BrowserRequest(url: url, method: paused.method, resourceType: paused.resourceType, outcome: .failed,
                                          reason: "requested after the page was sealed; not fetched"))
            } else {
                waiting.append(paused)
            }
        case "Target.attachedToTarget":
            guard let child = params["sessionId"] as? String else { return }
            sessions.insert(child)
            _ = try? client.send("Fetch.enable", Self.interception, session: child)
            _ = try? client.send("Network.setCacheDisabled", ["cacheDisabled": true], session: child)
            _ = try? client.send("Target.setAutoAttach", ["autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true], session: child)
            _ = try? client.send("Runtime.runIfWaitingForDebugger", session: child)
        case "Page.loadEventFired":
            // The page's own frame, once its document has been answered (not the
            // about:blank it was opened on).
            if from == session, documentAnsweredAt != nil, loadedAt == nil { loadedAt = ChromiumProcess.now() }
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

    /// The request body Chromium reports: `postData` when it fits in the event,
    /// else the entries' base64 `bytes` joined.
    static func body(of request: [String: Any]) -> [UInt8]? {
        if let entries = request["postDataEntries"] as? [[String: Any]], !entries.isEmpty {
            return entries.flatMap { ($0["bytes"] as? String).flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? [] }
        }
        return (request["postData"] as? String).map { Array($0.utf8) }
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

    /// Evaluates a script in the page; its value (a promise awaited) is the reply's `result.value`.
    func evaluate(_ expression: String, until: Double) throws(ExhibitError) {
        try expect("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true],
                   session: session, until: until)
    }

    static func value(_ reply: [String: Any]) -> Any? {
        if reply["exceptionDetails"] != nil { return nil }
        return (reply["result"] as? [String: Any])?["value"]
    }

    /// The page's scroll height in CSS pixels.
    static let heightScript = "document.documentElement ? document.documentElement.scrollHeight : 0"

    /// Scrolls down a viewport at a time to the bottom, at most 400 steps. Each step
    /// waits for the page to draw twice (its observers, lazy images and scroll handlers
    /// have then seen that part of the page: their callbacks run by the second frame),
    /// or 100 ms where no frame comes, instead of a fixed 60 ms; at the bottom it waits
    /// 60 ms (several frames), so that what the last step set off has reached the
    /// interception before the reply. Its value is the page's height before and after.
    static let scrollScript = """
    (async () => { const drawn = () => new Promise(r => { const t = setTimeout(r, 100);
        requestAnimationFrame(() => requestAnimationFrame(() => { clearTimeout(t); r(); })); });
      const end = () => document.documentElement ? document.documentElement.scrollHeight : 0;
      const step = Math.max(200, window.innerHeight - 100); const before = end();
      let y = window.scrollY; let n = 0;
      while (y + window.innerHeight < end() && n < 400) { y += step; window.scrollTo(0, y); n += 1; await drawn(); }
      window.scrollTo(0, end()); await new Promise(r => setTimeout(r, 60)); return [before, end()]; })()
    """

    /// What the page shows now, serialised: the doctype and the document element.
    static let domScript = """
    (() => { const d = document.doctype; return [location.href,
      (d ? new XMLSerializer().serializeToString(d) + "\\n" : "") + (document.documentElement ? document.documentElement.outerHTML : "")]; })()
    """

    /// Asks for the snapshots once the DOM is read: a full-page PNG 1280 CSS pixels wide
    /// and the page printed to PDF, backgrounds included. The PNG is encoded for speed
    /// (larger, the same pixels): Chromium's best compression was a third of a page's time.
    func printSnapshots(contentHeight: Double, until: Double) throws(ExhibitError) {
        let height = max(1, min(30_000, Int(contentHeight.rounded(.up))))
        try expect("Page.captureScreenshot", [
            "format": "png", "captureBeyondViewport": true, "fromSurface": true, "optimizeForSpeed": true,
            "clip": ["x": 0, "y": 0, "width": 1280, "height": height, "scale": 1],
        ], session: session, until: until)
        try expect("Page.printToPDF", ["printBackground": true], session: session, until: until)
    }

    /// The bytes of a snapshot Chromium returned in base64 (a reply's `data`), checked
    /// to begin as a `what` file does.
    static func decoded(_ base64: String?, magic: [UInt8], what: String) throws(ExhibitError) -> [UInt8] {
        guard let bytes = base64.flatMap({ Data(base64Encoded: $0) }).map(Array.init), bytes.starts(with: magic) else {
            throw ExhibitError(.captureFailed, "Chromium returned no valid \(what).")
        }
        return bytes
    }
}

@available(*, unavailable)
extension BrowserTab: Sendable {}
