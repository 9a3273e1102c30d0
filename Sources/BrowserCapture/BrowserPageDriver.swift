import ChainOfCustody
import Chromium
import Foundation
import LawfulFetch
import PageAnalysis
import WARC

/// The state of a browser capture's loop: the pages to load, the Chromium they load
/// in, the pages open now, and which page each request the engine fetches is for.
final class BrowserLoop {
    let executable: String
    let pagesAtOnce: Int
    var queue: [BrowserVisit]
    /// The next page of `queue` to open.
    var next = 0
    var browser: BrowserSession?
    var tabs: [BrowserTab] = []
    /// Engine chain id → the page whose request it fetches.
    var byChain: [Int: BrowserTab] = [:]
    /// Pages recorded whose rendered links are still to be followed (at a lower depth).
    var toFollow: [(AnalyzedPage, BrowserVisit)] = []
    /// Compressors for the snapshot records, reused from page to page.
    let compressors = GzipCompressorPool()

    init(executable: String, pagesAtOnce: Int, queue: [BrowserVisit]) {
        self.executable = executable
        self.pagesAtOnce = max(1, pagesAtOnce)
        self.queue = queue
    }
}

@available(*, unavailable)
extension BrowserLoop: Sendable {}

/// How one page moves through its load (DESIGN §17): a fresh browser context and
/// tab with interception on, the navigation, network idle for the settle time, scroll
/// rounds until the height stops growing (each followed by the settle time), then the
/// DOM, the PNG and the PDF. Each step sends its commands and returns; the next call
/// picks up their replies, so one loop drives several pages and the engine at once.
extension CaptureRun {
    /// Moves a page on as far as the replies and the clock allow.
    func advance(_ tab: BrowserTab, _ loop: BrowserLoop) {
        do throws(ExhibitError) {
            while try advanceOnce(tab, loop) {}
        } catch {
            // Chromium failed on the page or did not answer in time.
            abandon(tab, loop, problem: error.message)
        }
    }

    /// One step of a page; false when it waits (for replies, for its network to settle).
    func advanceOnce(_ tab: BrowserTab, _ loop: BrowserLoop) throws(ExhibitError) -> Bool {
        let now = ChromiumProcess.now()
        // Scripts answer within moments; a page whose own time is up still gets these.
        let soon = max(tab.deadline, now + 10)
        let opening = min(tab.deadline, now + 30)
        switch tab.phase {
        case .creatingContext:
            guard let reply = try tab.replies()?.first else { return false }
            guard let context = reply["browserContextId"] as? String else { throw DevToolsClient.protocolError("Target.createBrowserContext") }
            tab.contextID = context
            try tab.expect("Target.createTarget", ["url": "about:blank", "browserContextId": context], until: opening)
            tab.phase = .creatingTarget
        case .creatingTarget:
            guard let reply = try tab.replies()?.first else { return false }
            guard let target = reply["targetId"] as? String else { throw DevToolsClient.protocolError("Target.createTarget") }
            tab.targetID = target
            try tab.expect("Target.attachToTarget", ["targetId": target, "flatten": true], until: opening)
            tab.phase = .attaching
        case .attaching:
            guard let reply = try tab.replies()?.first else { return false }
            guard let session = reply["sessionId"] as? String else { throw DevToolsClient.protocolError("Target.attachToTarget") }
            tab.session = session
            tab.sessions.insert(session)
            loop.browser?.tabs[session] = tab
            // Sent together: Chromium handles a session's commands in order. The
            // navigation waits for their replies: the renderer applies its part of them
            // (the Network domain, the auto-attach of workers) only once it has started,
            // and a page navigated sooner ran its scripts before that (a WebSocket it
            // opened was not reported).
            let commands: [(String, [String: Any])] = [
                ("Fetch.enable", BrowserTab.interception),
                // For Network.webSocketCreated: the interception never sees a WebSocket.
                // No body is kept for DevTools to hand back (Exhibit has them already):
                // Chromium would otherwise copy every response into a buffer per page.
                ("Network.enable", ["maxTotalBufferSize": 0, "maxResourceBufferSize": 0]),
                ("Network.setCacheDisabled", ["cacheDisabled": true]),
                ("Network.setBypassServiceWorker", ["bypass": true]),
                // For Page.loadEventFired: the settle time counts from the load event.
                ("Page.enable", [:]),
                ("Emulation.setDeviceMetricsOverride", ["width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false]),
                // Workers and out-of-process frames get their own sessions: intercept those too.
                ("Target.setAutoAttach", ["autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true]),
            ]
            for (method, params) in commands { try tab.expect(method, params, session: session, until: opening) }
            tab.phase = .enabling
        case .enabling:
            guard try tab.replies() != nil else { return false }
            tab.lastActivity = now
            try tab.client.send("Page.navigate", ["url": tab.visit.address.withoutFragment], session: tab.session)
            tab.phase = .loading
        case .loading, .settling:
            var since = 0.0
            if case .settling(let scrolled) = tab.phase { since = scrolled }
            if tab.state.documentOutcome != nil {
                close(tab, loop)
            } else if now >= tab.deadline {
                tab.settled = false
                try beginSnapshot(tab, loop)
            } else if tab.isIdle(settle: options.settleSeconds, since: since) {
                if tab.phase == .loading {
                    tab.settled = true
                    try scroll(tab, loop)
                } else {
                    try tab.evaluate(BrowserTab.heightScript, until: soon)
                    tab.phase = .remeasuring
                }
            } else {
                return false
            }
        case .remeasuring:
            guard let reply = try tab.replies()?.first else { return false }
            let height = (BrowserTab.value(reply) as? NSNumber)?.intValue ?? 0
            if height > tab.height {
                try scroll(tab, loop)
            } else {
                try beginSnapshot(tab, loop)
            }
        case .scrolling(let started):
            guard let reply = try tab.replies()?.first else { return false }
            let heights = BrowserTab.value(reply) as? [Any] ?? []
            let before = (heights.first as? NSNumber)?.intValue ?? 0
            let after = (heights.last as? NSNumber)?.intValue ?? Int.max
            tab.height = before
            if after <= before && tab.lastActivity < started {
                // The round neither grew the page nor set off a request: nothing is
                // left to settle, and another round would find the same.
                try beginSnapshot(tab, loop)
            } else {
                tab.phase = .settling(since: now)
            }
        case .serialising:
            guard let replies = try tab.replies() else { return false }
            guard let value = BrowserTab.value(replies[0]) as? [Any], value.count == 2,
                  let location = value[0] as? String, let html = value[1] as? String else {
                throw ExhibitError(.captureFailed, "Chromium returned no document to serialise.")
            }
            tab.dom = (html, location)
            let metrics = replies[1]
            let content = metrics["cssContentSize"] as? [String: Any] ?? metrics["contentSize"] as? [String: Any] ?? [:]
            try tab.printSnapshots(contentHeight: (content["height"] as? NSNumber)?.doubleValue ?? 800, until: now + Self.snapshotSeconds)
            tab.phase = .printing
        case .printing:
            guard let replies = try tab.replies(), let dom = tab.dom else { return false }
            let (png, pdf) = (replies[0]["data"] as? String, replies[1]["data"] as? String)
            let (url, date, fields, compressors) = (tab.visit.address.withoutFragment, LedgerTime.now(), snapshotFields(tab.state), loop.compressors)
            tab.dom = nil
            // Chromium has given all it will: the page's renderer goes now rather than
            // after the records are made (it still burns CPU in its first seconds).
            dispose(tab)
            tab.snapshotWork = SnapshotWork { () throws(ExhibitError) in
                try BrowserSnapshot.make(html: dom.html, location: dom.location, png: png, pdf: pdf, url: url, date: date,
                                         fields: fields, compressors: compressors)
            }
            tab.phase = .sealing
        case .sealing:
            guard let result = tab.snapshotWork?.result else { return false }
            tab.snapshotWork = nil
            tab.snapshot = try result.get()
            close(tab, loop)
        case .done:
            return false
        }
        return true
    }

    /// Starts a scroll round while rounds and time are left; else the snapshots.
    func scroll(_ tab: BrowserTab, _ loop: BrowserLoop) throws(ExhibitError) {
        let now = ChromiumProcess.now()
        guard tab.rounds < options.scrolls, now < tab.deadline else {
            try beginSnapshot(tab, loop)
            return
        }
        tab.rounds += 1
        try tab.evaluate(BrowserTab.scrollScript, until: max(tab.deadline, now + 10))
        tab.phase = .scrolling(started: now)
    }

    /// The page has settled and been scrolled, or its time is up: nothing more is
    /// fetched for it, and when its document arrived the DOM and the page's size are read.
    func beginSnapshot(_ tab: BrowserTab, _ loop: BrowserLoop) throws(ExhibitError) {
        seal(tab, loop)
        guard tab.state.documentOutcome == nil, !tab.state.documentHops.isEmpty else {
            close(tab, loop)
            return
        }
        let end = ChromiumProcess.now() + Self.snapshotSeconds
        try tab.evaluate(BrowserTab.domScript, until: end)
        try tab.expect("Page.getLayoutMetrics", session: tab.session, until: end)
        tab.phase = .serialising
    }

    /// Ends a page: its browser context is disposed of, if that was not done already.
    func close(_ tab: BrowserTab, _ loop: BrowserLoop) {
        seal(tab, loop)
        dispose(tab)
        tab.phase = .done
    }

    /// Disposes of the page's browser context, with its tab and renderer (not awaited); once.
    func dispose(_ tab: BrowserTab) {
        guard !tab.contextID.isEmpty else { return }
        _ = try? tab.client.send("Target.disposeBrowserContext", ["browserContextId": tab.contextID])
        tab.contextID = ""
    }
}
