import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 18, item 3, as a new investigator met it: after `exhibit render`, the
/// bundle's report.html must show each page's screenshot beside its artifact,
/// name the PNG and PDF, and describe the `render` entries in its timeline; and
/// `exhibit render` must say which files it wrote. Everything through the real
/// binary, the report opened in headless Chromium.
@Suite("report with page screenshots (exhibit render, then export)", .serialized)
struct RenderReportTests {
    let exhibit = ExhibitProcess()

    /// The report's screenshot goes to a temporary folder, and also to
    /// $EXHIBIT_DOCS_SCREENSHOTS when it is set (how docs/images/report-screenshots.png is made).
    static func keep(_ png: [UInt8], as name: String, in directory: TemporaryDirectory) throws {
        try Data(png).write(to: URL(fileURLWithPath: directory.child(name)))
        if let docs = ProcessInfo.processInfo.environment["EXHIBIT_DOCS_SCREENSHOTS"], !docs.isEmpty {
            try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
            try Data(png).write(to: URL(fileURLWithPath: docs + "/" + name))
        }
    }

    /// The HTML of one artifact's block in the report.
    static func block(_ report: String, artifact: String) throws -> Substring {
        let start = try #require(report.range(of: "<section class=\"artifact\" id=\"artifact-\(artifact)\">"), "no block for \(artifact)")
        let end = try #require(report.range(of: "</section>", range: start.upperBound..<report.endIndex))
        return report[start.lowerBound..<end.upperBound]
    }

    @Test("render prints its files; the report shows the screenshots with their artifacts, names PNG and PDF, describes render entries; same ledger, same bytes; verify passes")
    func reportShowsScreenshots() async throws {
        let chromium = try #require(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "Chromium is not installed: `make deps` installs it (Debian package chromium).")
        let ws = try TestWorkspace("exhibit-render-report")
        let caseID = try ws.openCase()
        // The site serves the capture only: render works from the WARC.
        let pages = try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let pages = ["/forum.html", "/classifieds.html"].map { site.baseURL + $0 }
            let capture = try await Blocking.run {
                try exhibit.run(["capture", caseID] + pages + ["--workspace", ws.root, "--actor", ws.investigatorID,
                                                             "--allow-network", "127.0.0.1/32", "--reason", "fixture site on loopback"])
            }
            #expect(capture.status == 0, "\(capture.stderr)")
            return pages
        }

        // `exhibit render` names every file it wrote, under the case, with its sha256.
        let render = try await Blocking.run { try exhibit.run(["render", caseID, "--workspace", ws.root, "--actor", ws.investigatorID]) }
        #expect(render.status == 0, "\(render.stdout)\(render.stderr)")
        let caseDirectory = ws.caseDirectory(caseID)
        let renders = try ws.entries(caseID).filter { $0.action == "render" }
        #expect(renders.count == pages.count)
        var written: [(path: String, sha256: String)] = []
        for line in render.stdoutLines where line.hasPrefix("wrote ") {
            let words = line.split(separator: " ")
            #expect(words.count >= 4 && words[2] == "sha256", "\(line)")
            if words.count >= 4 { written.append((String(words[1]), String(words[3]))) }
        }
        for (path, sha) in written {
            #expect(try Digest.file(atPath: caseDirectory + "/" + path).digests[.sha256] == sha, "\(path) has the sha256 printed")
        }
        for entry in renders {
            let subject = try #require(entry.subject)
            for file in subject["files"]?.arrayValue ?? [] {
                let path = try #require(file["path"]?.stringValue)
                #expect(written.contains { $0 == (path, file["sha256"]?.stringValue ?? "") }, "render printed \(path): \(render.stdout)")
            }
            let warc = try #require(subject["warc"]?["file"]?.stringValue)
            #expect(written.contains { $0 == (warc, subject["warc"]?["sha256"]?.stringValue ?? "") }, "render printed \(warc): \(render.stdout)")
        }

        // Two exports of the same ledger (the second from a copy of the workspace), after a
        // first export has numbered the exhibits (issue 23), which appends an entry.
        #expect(try exhibit.run(["export", caseID, "--out", ws.directory.child("numbering"), "--workspace", ws.root, "--actor", ws.investigatorID]).status == 0)
        let copy = ws.directory.child("copy")
        #expect(try Command.run("/bin/cp", ["-a", ws.root, copy]).status == 0)
        let first = ws.directory.child("first")
        let second = ws.directory.child("second")
        for (root, out) in [(ws.root, first), (copy, second)] {
            let export = try await Blocking.run { try exhibit.run(["export", caseID, "--out", out, "--workspace", root, "--actor", ws.investigatorID]) }
            #expect(export.status == 0, "\(export.stderr)")
        }
        let bytes = try AtomicFile.read(first + "/data/report.html")
        #expect(bytes == (try AtomicFile.read(second + "/data/report.html")), "same ledger, same report")
        #expect(try AtomicFile.read(first + "/manifest-sha256.txt") == (try AtomicFile.read(second + "/manifest-sha256.txt")))
        let report = String(decoding: bytes, as: UTF8.self)

        // Each page's block names its PNG and PDF and shows the screenshot (within the image budget).
        var embedded = 0
        for entry in renders {
            let subject = try #require(entry.subject)
            let recordID = try #require(subject["source"]?["record_id"]?.stringValue)
            let artifact = try #require(try ws.entries(caseID).first { capture in
                capture.action == "capture" && (capture.subject?["records"]?.arrayValue ?? []).contains { $0["id"]?.stringValue == recordID }
            })
            let block = try Self.block(report, artifact: ArtifactID.forSeq(Int(artifact.seq)))
            let files = subject["files"]?.arrayValue ?? []
            let png = try #require(files.first { $0["role"]?.stringValue == "screenshot" })
            let pdf = try #require(files.first { $0["role"]?.stringValue == "pdf" })
            for file in [png, pdf] {
                #expect(block.contains("data/" + (file["path"]?.stringValue ?? "-")), "the block names \(file)")
                #expect(block.contains(file["sha256"]?.stringValue ?? "-"))
            }
            #expect(block.contains("Screenshot (PNG)") && block.contains("Page as PDF"))
            let pngBytes = try AtomicFile.read(first + "/data/" + (png["path"]?.stringValue ?? "-"))
            if pngBytes.count <= 512 * 1024 {
                #expect(block.contains("data:image/png;base64," + Data(pngBytes).base64EncodedString()), "the screenshot is embedded")
                embedded += 1
            } else {
                #expect(block.contains("Screenshot not shown here: it is"), "a screenshot too big to embed is named")
            }
        }
        #expect(embedded > 0, "at least one page screenshot is embedded in the report")

        // The timeline describes render entries; the files table says what each blob is.
        #expect(!report.contains("<td>render</td><td class=\"wrap-words\">render</td>"), "no bare 'render | render' row")
        for url in pages { #expect(report.contains("rendered \(url) as a"), "a render of \(url) in the timeline") }
        #expect(report.contains("screenshot (PNG) of A-"))
        #expect(report.contains("page as PDF of A-"))

        // The bag still verifies.
        let verify = try await Blocking.run { try exhibit.run(["verify", first]) }
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // Headless Chromium shows the report (decoded pictures) and its DOM keeps the embedded screenshot.
        let shots = TemporaryDirectory("exhibit-report-shots")
        let profile = TemporaryDirectory("exhibit-chromium")
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions"]
        let screenshot = shots.child("report.png")
        let shot = try await Blocking.run {
            try BoundedProcess.run(chromium, common + ["--screenshot=\(screenshot)", "--window-size=1100,3000", "--hide-scrollbars",
                                                       "file://\(first)/data/report.html"], timeout: 90)
        }
        #expect(!shot.timedOut && shot.status == 0, "chromium --screenshot: \(shot.stderrTail)")
        let png = try AtomicFile.read(screenshot)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(png.count > 20_000, "the screenshot shows something (\(png.count) bytes)")
        try Self.keep(png, as: "report-screenshots.png", in: shots)
        let dump = try await Blocking.run {
            try BoundedProcess.run(chromium, common + ["--dump-dom", "file://\(first)/data/report.html"], timeout: 90)
        }
        #expect(!dump.timedOut && dump.status == 0, "chromium --dump-dom: \(dump.stderrTail)")
        let dom = String(decoding: dump.stdout, as: UTF8.self)
        #expect(dom.contains("<figure class=\"shot\"><img src=\"data:image/png;base64,"))
    }
}
