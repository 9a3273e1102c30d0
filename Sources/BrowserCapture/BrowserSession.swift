import ChainOfCustody
import Chromium
import Foundation

/// One headless Chromium of a browser capture, with an empty profile, driven over the
/// DevTools pipe. Several pages load in it at once, each in its own tab and its own
/// browser context (no cookies, storage or cache shared between pages); the events of
/// a tab's sessions (its page, frames and workers) are handed to that tab.
///
/// Chromium gets no network of its own: its proxy is a loopback port that refuses
/// every connection and no host name resolves, so a request the interception does
/// not answer fails instead of reaching a server.
final class BrowserSession {
    let process: ChromiumProcess
    let client: DevToolsClient
    let closedProxy: RefusingPort
    let chromiumVersion: String
    /// The open tabs by each of their DevTools sessions.
    var tabs: [String: BrowserTab] = [:]
    /// Tabs opened in this Chromium and not yet finished.
    var openTabs = 0
    /// Set when Chromium failed on a page: no new page opens in it, and it is closed
    /// once its open pages are finished (the next page gets a new Chromium).
    var retiring = false

    init(executable: String) throws(ExhibitError) {
        closedProxy = try RefusingPort()
        var switches = [
            "headless=new", "remote-debugging-pipe", "no-first-run", "no-default-browser-check", "disable-gpu",
            "proxy-server=http://127.0.0.1:\(closedProxy.port)", "proxy-bypass-list=<-loopback>",
            "host-resolver-rules=MAP * ~NOTFOUND", "force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            "disable-background-networking", "disable-component-update", "disable-sync", "disable-default-apps",
            "disable-extensions", "no-pings", "disable-domain-reliability", "disable-breakpad", "disk-cache-size=1",
            // Each page's browser context gets a headless window, and Chromium 156 preloads
            // that window's omnibox popup (a WebUI app of some 1,400 modules): about 0.6 s of
            // renderer CPU in the page's first 3 s, a third of the job's Chromium CPU. No
            // spare renderer either: one was kept warm per context and killed unused.
            "disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,IsolateOrigins,site-per-process,BackForwardCache,"
                + "WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,SpareRendererForSitePerProcess",
            "hide-scrollbars", "mute-audio", "force-device-scale-factor=1", "window-size=1280,800",
        ]
        // Chromium refuses to run its sandbox as root (test machines and containers).
        if geteuid() == 0 { switches.append("no-sandbox") }
        process = try ChromiumProcess(executable: executable, switches: switches, url: "about:blank")
        client = DevToolsClient(process: process)
        do throws(ExhibitError) {
            let version = try client.call("Browser.getVersion", deadline: ChromiumProcess.now() + 30)
            let product = version["product"] as? String ?? ""
            chromiumVersion = product.split(separator: "/").last.map(String.init) ?? product
        } catch {
            process.terminate()
            throw error
        }
        client.onEvent = { [unowned self] (message) throws(ExhibitError) in self.route(message) }
    }

    deinit { process.terminate() }

    /// Hands an event to the tab whose session sent it; events of a tab already
    /// finished are dropped.
    private func route(_ message: [String: Any]) {
        guard let method = message["method"] as? String, let from = message["sessionId"] as? String,
              let tab = tabs[from] else { return }
        let params = message["params"] as? [String: Any] ?? [:]
        if method == "Target.attachedToTarget", let child = params["sessionId"] as? String {
            tabs[child] = tab
        }
        tab.event(method, params, from: from)
    }

    /// Forgets a finished tab's sessions.
    func forget(_ tab: BrowserTab) {
        for session in tab.sessions { tabs.removeValue(forKey: session) }
        openTabs -= 1
    }

    func close() {
        _ = try? client.send("Browser.close")
        process.terminate()
    }
}

@available(*, unavailable)
extension BrowserSession: Sendable {}
