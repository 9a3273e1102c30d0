import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 18 items 2, 5 and 6, run as the user ran them: long work shows progress
/// (line by line into a pipe, a live status line on a terminal), a capture that
/// exits 3 or 6 says why on stderr, the summary counts HTTP errors, and each
/// error sentence names what is wrong.
@Suite("progress, summaries and error sentences")
struct ProgressAndSummaryTests {
    let exhibit = ExhibitProcess()

    func overriding(_ ws: TestWorkspace) -> [String] {
        ["--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "fixture"]
    }

    @Test("piped: each URL's line arrives as soon as it is decided, while a stalled URL still holds the job open")
    func pipedLinesStream() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let quick = site.baseURL + "/test/pages/0?count=3"
            let stalled = site.baseURL + "/test/stall?seconds=120"
            let running = try exhibit.command(["capture", caseID, quick, stalled] + overriding(ws)).start()
            // Line-buffered: the first page's line is readable long before the stall ends.
            let arrived = await running.waitForStdout(containing: "captured 200 \(quick)", timeout: .seconds(30))
            let stillRunning = running.isRunning
            await site.stop()
            let end = try await running.waitAsync(timeout: .seconds(120))
            let finished = (status: end.status, stdout: end.stdoutText, stderr: end.stderrText)
            #expect(arrived, "no line within 30 s; stdout so far: \(finished.stdout)")
            #expect(stillRunning, "the job ended before its first line was read")
            // However the cut-off stall ended, its line came after the first one.
            let first = try #require(finished.stdout.range(of: quick))
            #expect(finished.stdout[first.upperBound...].contains(stalled), "\(finished.stdout)")
        }
    }

    @Test("a crawl announces its politeness delay once, on stderr; its robots.txt 404 is not an HTTP error")
    func crawlAnnouncesDelay() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let result = try await Blocking.run {
                try exhibit.run(["capture", caseID, site.baseURL + "/test/pages/0?count=2", "--depth", "1"] + overriding(ws))
            }
            #expect(result.status == 0, "\(result.stderr)")
            let announcement = "exhibit: 1 s between requests to the same host while crawling; --delay S to change it, --delay 0 for none.\n"
            #expect(result.stderr == announcement, "\(result.stderr)")
            #expect(result.stdout.contains("captured 404 \(site.baseURL)/robots.txt"), "\(result.stdout)")
            #expect(result.stdoutLines.last?.hasPrefix("3 captured, 0 failed, 0 refused; WARC: warc/") == true, "\(result.stdout)")
            // A URL list is not a crawl: no delay, nothing announced.
            let list = try await Blocking.run { try exhibit.run(["capture", caseID, site.baseURL + "/test/pages/1?count=2"] + overriding(ws)) }
            #expect(list.status == 0 && list.stderr.isEmpty, "\(list.stderr)")
        }
    }

    @Test("terminal: one live status line with done/total, captured, HTTP errors, failed, refused, rate and bytes; erased before the summary")
    func terminalStatusLine() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let urls = ["/test/status/404", "/test/pages/0?count=3", "ftp://127.0.0.1/x"].map { $0.hasPrefix("/") ? site.baseURL + $0 : $0 }
            let screen = try await Blocking.run {
                try Terminal.run(["capture", caseID] + urls + overriding(ws), environment: exhibit.environment)
            }
            #expect(screen.status == 3, "\(screen.output)")
            let clear = "\r\u{1B}[2K"
            // Drawn at the start, then after every line; the refusal is decided first.
            #expect(screen.output.contains(clear + "capture \(caseID): 0/3 done (0 captured, 0 failed, 0 refused)"), "\(screen.output)")
            #expect(screen.output.contains(clear + "capture \(caseID): 1/3 done (0 captured, 0 failed, 1 refused)"), "\(screen.output)")
            let final = try #require(screen.output.range(of: clear + "capture \(caseID): 3/3 done (2 captured, 1 with HTTP error, 0 failed, 1 refused) · "),
                                     "\(screen.output)")
            let tail = screen.output[final.upperBound...]
            #expect(tail.range(of: #"^[0-9.]+ URLs/s · [0-9.]+ (B|KB)\r"#, options: .regularExpression) != nil, "\(tail)")
            // Erased before the summary, which starts a clean line.
            #expect(tail.contains(clear + "2 captured (1 with HTTP error: 404), 0 failed, 1 refused; WARC: warc/"), "\(tail)")
            // Each URL's line scrolls above the status line.
            #expect(screen.output.contains(clear + "captured 404 \(urls[0])\r\n"), "\(screen.output)")
        }
    }

    @Test("terminal: verify, export and render show a status line too")
    func terminalStatusOfVerifyExportRender() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let capture = try await Blocking.run {
                try exhibit.run(["capture", caseID, site.baseURL + "/test/pages/0?count=2", site.baseURL + "/test/pages/1?count=2"] + overriding(ws))
            }
            #expect(capture.status == 0, "\(capture.stderr)")
            await site.stop()
            let clear = "\r\u{1B}[2K"
            let verify = try await Blocking.run { try Terminal.run(["verify", caseID, "--workspace", ws.root], environment: exhibit.environment) }
            #expect(verify.status == 0, "\(verify.output)")
            #expect(verify.output.range(of: #"\r\x{1B}\[2Kverify "# + caseID + #": [0-9.]+ (B|KB|MB) read of about [0-9.]+ (KB|MB)"#,
                                        options: .regularExpression) != nil, "\(verify.output)")
            #expect(verify.output.contains(clear + "\(caseID): intact"), "\(verify.output)")

            let bag = ws.directory.child("bag")
            let export = try await Blocking.run {
                try Terminal.run(["export", caseID, "--out", bag, "--workspace", ws.root, "--actor", ws.investigatorID], environment: exhibit.environment)
            }
            #expect(export.status == 0, "\(export.output)")
            #expect(export.output.contains(clear + "export \(caseID): "), "\(export.output)")
            #expect(export.output.contains(clear + bag + "\r\n"), "\(export.output)")
            let bagCheck = try await Blocking.run { try Terminal.run(["verify", bag], environment: exhibit.environment) }
            #expect(bagCheck.output.contains(clear + "verify bag: "), "\(bagCheck.output)")

            let render = try await Blocking.run {
                try Terminal.run(["render", caseID, "--workspace", ws.root, "--actor", ws.investigatorID], environment: exhibit.environment, timeout: 180)
            }
            #expect(render.status == 0, "\(render.output)")
            #expect(render.output.contains(clear + "render \(caseID): 0/2 pages (0 failed)"), "\(render.output)")
            #expect(render.output.contains(clear + "render \(caseID): 1/2 pages (0 failed) · "), "\(render.output)")
            #expect(render.output.contains(clear + "rendered \(site.baseURL)/test/pages/0?count=2  png sha256 "), "\(render.output)")
        }
    }

    @Test("piped render: the first page's line arrives while the next page renders")
    func pipedRenderLinesStream() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            // Sixteen pages (four batches of four tabs), so the render outlasts a loaded
            // machine's scheduling delays; pages may finish in any order, so the first line
            // of any page is awaited. The watcher polls on a thread of its own: on a busy
            // suite the cooperative pool can resume an async poll late, after the render ended.
            let pages = (0..<16).map { site.baseURL + "/test/pages/\($0)?count=16" }
            let capture = try await Blocking.run { try exhibit.run(["capture", caseID] + pages + overriding(ws)) }
            #expect(capture.status == 0, "\(capture.stderr)")
            await site.stop()
            let running = try exhibit.command(["render", caseID, "--workspace", ws.root, "--actor", ws.investigatorID]).start()
            let (arrived, stillRunning) = try await Blocking.run {
                let arrived = pollBlocking(until: { running.stdoutTextSoFar.contains("  png sha256 ") }, timeout: .seconds(120), interval: .milliseconds(5))
                return (arrived, running.isRunning)
            }
            let end = try await running.waitAsync(timeout: .seconds(120))
            let finished = (status: end.status, stdout: end.stdoutText, stderr: end.stderrText)
            #expect(finished.status == 0, "\(finished.stderr)")
            #expect(arrived, "\(finished.stdout)")
            #expect(stillRunning, "the render ended before its first line was read: \(finished.stdout)")
            #expect(finished.stdout.components(separatedBy: "rendered ").count == 17, "\(finished.stdout)")
        }
    }

    @Test("exit 3 and 6: stderr has one line per refused or failed URL, then a summary sentence")
    func problemsOnStderr() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let big = site.baseURL + "/test/bytes?n=5000"
            let both = try await Blocking.run {
                try exhibit.run(["capture", caseID, "ftp://127.0.0.1/x", big, site.baseURL + "/test/status/204", "--max-bytes", "100"] + overriding(ws))
            }
            #expect(both.status == 3)
            let lines = both.stderr.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(both.stderr)")
            #expect(lines.first?.hasPrefix("exhibit: REFUSED ftp://127.0.0.1/x — the scheme ftp: is not captured") == true, "\(both.stderr)")
            #expect(lines.dropFirst().first?.hasPrefix("exhibit: FAILED \(big) — ") == true, "\(both.stderr)")
            #expect(lines.last?.hasPrefix("exhibit: 1 refused and 1 failed of 3 URLs; 1 captured and recorded. A refusal is the lawful-capture policy") == true,
                    "\(both.stderr)")

            let failed = try await Blocking.run { try exhibit.run(["capture", caseID, big, "--max-bytes", "100"] + overriding(ws)) }
            #expect(failed.status == 6)
            let failedLines = failed.stderr.split(separator: "\n").map(String.init)
            #expect(failedLines.count == 2, "\(failed.stderr)")
            #expect(failedLines.first?.hasPrefix("exhibit: FAILED \(big) — ") == true, "\(failed.stderr)")
            #expect(failedLines.last == "exhibit: 1 failed of 1 URL; nothing was captured. Capture the failed URLs again later, or with a larger --timeout or --max-bytes if a limit stopped them.",
                    "\(failed.stderr)")
        }
    }

    @Test("nothing written: the summary says so instead of `WARC: ;`")
    func noWARCSummary() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let result = try exhibit.run(["capture", caseID, "ftp://127.0.0.1/x", "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(result.status == 3)
        let summary = try #require(result.stdoutLines.last)
        #expect(summary.hasPrefix("0 captured, 0 failed, 1 refused; no WARC file written; ledger head "), "\(result.stdout)")
        #expect(!result.stdout.contains("WARC: ;"))
    }

    @Test("the summary counts HTTP errors: 3 captured (2 with HTTP errors: 404, 410)")
    func httpErrorsInSummary() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let urls = ["/test/status/404", "/test/status/410", "/test/status/200"].map { site.baseURL + $0 }
            let result = try await Blocking.run { try exhibit.run(["capture", caseID] + urls + overriding(ws)) }
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdoutLines.last?.hasPrefix("3 captured (2 with HTTP errors: 404, 410), 0 failed, 0 refused; WARC: warc/") == true,
                    "\(result.stdout)")
        }
    }

    @Test("a login page's line goes out when it arrives; the password field, found at the seal, adds a note line")
    func loginPageNote() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let login = site.baseURL + "/test/login"
            let result = try await Blocking.run { try exhibit.run(["capture", caseID, login, "--json"] + overriding(ws)) }
            #expect(result.status == 0, "\(result.stderr)")
            let json = try JSONValue(parsing: result.stdout)
            #expect(json["captured"]?.arrayValue?.first?["access_restricted"]?.boolValue == true)
            let text = try await Blocking.run { try exhibit.run(["capture", caseID, login] + overriding(ws)) }
            #expect(Array(text.stdoutLines.prefix(2)) == [
                "captured 200 \(login)",
                "access-restricted \(login) — a login page (password field), captured as is",
            ], "\(text.stdout)")
        }
    }

    @Test("error sentences: a wrong EXHIBIT_CHROMIUM path, an unreadable --urls-file, a negative --depth")
    func errorSentences() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let acting = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let before = try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl")

        let wrongPath = ExhibitProcess(environment: ["EXHIBIT_CHROMIUM": "/nonexistent"])
        let render = try await Blocking.run { try wrongPath.run(["render", caseID] + acting) }
        #expect(render.status == 5)
        #expect(render.stderr == "exhibit: EXHIBIT_CHROMIUM names /nonexistent, which does not exist; point it at the Chromium binary (Debian's is /usr/bin/chromium) or unset it.\n",
                "\(render.stderr)")
        let directory = ExhibitProcess(environment: ["EXHIBIT_CHROMIUM": ws.directory.path])
        let notABinary = try await Blocking.run { try directory.run(["render", caseID] + acting) }
        #expect(notABinary.status == 5)
        #expect(notABinary.stderr.contains("names \(ws.directory.path), which is a directory;"), "\(notABinary.stderr)")

        let missing = ws.directory.child("missing.txt")
        let list = try exhibit.run(["capture", caseID, "--urls-file", missing] + acting)
        #expect(list.status == 5)
        #expect(list.stderr == "exhibit: Cannot read the URL list \(missing): No such file or directory.\n", "\(list.stderr)")
        let folder = try exhibit.run(["capture", caseID, "--urls-file", ws.directory.path] + acting)
        #expect(folder.status == 5)
        #expect(folder.stderr == "exhibit: Cannot read the URL list \(ws.directory.path): Is a directory.\n", "\(folder.stderr)")

        let depth = try exhibit.run(["capture", caseID, "http://127.0.0.1/", "--depth", "-1"] + acting)
        #expect(depth.status == 2)
        #expect(depth.stderr == "exhibit: --depth must be 0 or more (0: only the URLs given), not -1 (see `exhibit help`).\n", "\(depth.stderr)")

        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl") == before)
    }
}

/// `exhibit` on a pseudo-terminal, through util-linux `script`: what the screen
/// received, stdout and stderr together, as bytes (CR LF line ends, escapes included).
enum Terminal {
    static func run(_ arguments: [String], environment: [String: String], timeout: Double = 60) throws -> (status: Int32, output: String) {
        let command = ([ExhibitProcess.binaryPath] + arguments).map(quote).joined(separator: " ")
        let script = try #require(["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                  "util-linux `script` is needed for the terminal tests (apt-get install bsdutils)")
        var environment = environment
        environment["COLUMNS"] = "400"
        let finished = try ChildProcess("/usr/bin/env",
                                        ["-i"] + environment.map { "\($0.key)=\($0.value)" }.sorted() + [script, "-qfec", "stty cols 400; " + command, "/dev/null"])
            .run(timeout: .seconds(timeout))
        return (finished.status, finished.stdoutText)
    }

    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
