import ArgumentParser
import CaseBrowser
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Browse the workspace's cases in a local web browser, as the acting actor (loopback only; every view of evidence is recorded).",
        discussion: """
        Prints `Serving http://127.0.0.1:PORT/ — Ctrl-C to stop` as its first line and serves until \
        SIGINT or SIGTERM. Pages: the case list by category; each case with its custody timeline, \
        artifacts, screenshots, Verify and Export buttons; each artifact with a sandboxed replay. \
        Opening a case, an artifact, a replay or a screenshot appends a `view` entry by the acting \
        actor; Verify and Export are `exhibit verify` and `exhibit export` (exports go to \
        WORKSPACE/exports/). See docs/browser.md.
        """)

    @OptionGroup var options: WorkspaceOptions
    @Option(name: .long, help: "The TCP port (default 8080; 0 picks a free one).") var port: Int = BrowserServer.defaultPort
    @Option(name: .long, help: "The loopback address to listen on: one in 127.0.0.0/8 (default 127.0.0.1) or ::1.") var bind: String = "127.0.0.1"

    func run() throws {
        // Refused before the workspace is even opened, so nothing can listen elsewhere.
        _ = try LoopbackAddress(bind)
        try BrowserServer.checkPort(port)
        let server = try BrowserServer.startBlocking(
            workspace: try options.openWorkspace(), actorID: options.actorID, bind: bind, port: port,
            handleSignals: true, notices: { Console.error($0) })
        if options.json {
            // One line, so that the first line of stdout is the whole document.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(["url": server.url, "actor": server.actorID]), as: UTF8.self))
        } else {
            print("Serving \(server.url) — Ctrl-C to stop")
        }
        // Whoever reads the first line (a script, a test) must get it now, not at exit.
        fflush(nil)
        server.waitUntilStoppedBlocking()
    }
}
