public import ChainOfCustody
import Chromium
import Foundation

/// Prints a self-contained HTML document (the court documents, DESIGN §21) to PDF
/// with headless Chromium: the document is set as the page's content, every
/// request it might make is failed (it needs none: its pictures are `data:` URIs),
/// and Page.printToPDF prints it with a footer naming `footer` and the page number
/// on every page.
///
/// It lives here, beside ``Renderer``, because CaseBundle does not depend on
/// Chromium: the CLI hands this printer to the export (docs/court.md).
public struct CourtPrinter: Sendable {
    public let executable: String
    public var timeout: Double = 90

    /// Finds Chromium as ``Renderer`` does (`$EXHIBIT_CHROMIUM`, else `/usr/bin/chromium`).
    public init() throws(ExhibitError) {
        executable = try ChromiumProcess.locate()
    }

    /// The PDF of `html`. Blocking; Chromium is always stopped and its profile removed.
    public func pdf(html: [UInt8], footer: String) throws(ExhibitError) -> [UInt8] {
        let deadline = ChromiumProcess.now() + timeout
        var switches = [
            "headless=new", "remote-debugging-pipe", "no-first-run", "no-default-browser-check", "disable-gpu",
            "proxy-server=http://127.0.0.1:9", "proxy-bypass-list=<-loopback>", "host-resolver-rules=MAP * ~NOTFOUND",
            "disable-background-networking", "disable-component-update", "disable-sync", "disable-default-apps",
            "disable-extensions", "no-pings", "disable-domain-reliability", "disable-breakpad", "mute-audio",
            "force-device-scale-factor=1",
        ]
        if geteuid() == 0 { switches.append("no-sandbox") }
        let process = try ChromiumProcess(executable: executable, switches: switches, url: "about:blank")
        defer { process.terminate() }
        let client = DevToolsClient(process: process)
        var loaded = false
        var sessionID: String?
        client.onEvent = { [unowned client] (event: [String: Any]) throws(ExhibitError) in
            guard let method = event["method"] as? String else { return }
            if method == "Page.loadEventFired" { loaded = true }
            if method == "Fetch.requestPaused", let params = event["params"] as? [String: Any], let id = params["requestId"] as? String {
                try client.send("Fetch.failRequest", ["requestId": id, "errorReason": "BlockedByClient"], session: sessionID)
            }
        }
        let target = try client.call("Target.createTarget", ["url": "about:blank"], deadline: deadline)
        guard let targetID = target["targetId"] as? String else { throw DevToolsClient.protocolError("Target.createTarget") }
        let attached = try client.call("Target.attachToTarget", ["targetId": targetID, "flatten": true], deadline: deadline)
        guard let session = attached["sessionId"] as? String else { throw DevToolsClient.protocolError("Target.attachToTarget") }
        sessionID = session
        _ = try client.call("Fetch.enable", ["patterns": [["urlPattern": "*"]]], session: session, deadline: deadline)
        _ = try client.call("Page.enable", session: session, deadline: deadline)
        let tree = try client.call("Page.getFrameTree", session: session, deadline: deadline)
        guard let frame = (tree["frameTree"] as? [String: Any])?["frame"] as? [String: Any], let frameID = frame["id"] as? String else {
            throw DevToolsClient.protocolError("Page.getFrameTree")
        }
        loaded = false
        _ = try client.call("Page.setDocumentContent", ["frameId": frameID, "html": String(decoding: html, as: UTF8.self)],
                            session: session, deadline: deadline)
        // setDocumentContent fires no load event of its own on every version: wait briefly, then go on.
        let settle = min(deadline, ChromiumProcess.now() + 2)
        while !loaded, try client.pump(until: settle) {}
        let footerHTML = "<div style=\"font-size:8px;font-family:sans-serif;width:100%;padding:0 0.5in;display:flex;justify-content:space-between\">"
            + "<span>\(HTMLText.escape(footer))</span><span>page <span class=\"pageNumber\"></span> of <span class=\"totalPages\"></span></span></div>"
        let printed = try client.call("Page.printToPDF", [
            "printBackground": true, "displayHeaderFooter": true, "headerTemplate": "<div></div>", "footerTemplate": footerHTML,
            "marginTop": 0.6, "marginBottom": 0.7, "marginLeft": 0.5, "marginRight": 0.5, "preferCSSPageSize": false,
        ], session: session, deadline: deadline)
        guard let pdf = (printed["data"] as? String).flatMap({ Data(base64Encoded: $0) }).map(Array.init),
              pdf.starts(with: Array("%PDF-".utf8)) else {
            throw ExhibitError(.storage, "Chromium returned no valid PDF for the court documents; nothing was written.")
        }
        _ = try? client.send("Browser.close")
        return pdf
    }
}
