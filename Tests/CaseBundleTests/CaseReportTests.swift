@testable import CaseBundle
import ExhibitTestSupport
import Foundation
import Testing

/// `data/report.html`: the page a prosecutor or a defence lawyer opens without Exhibit.
/// It must be the same bytes for the same case, show every artifact's digest, never let
/// a captured page's text become markup, never make a network request, and render in a
/// real browser (headless Chromium).
@Suite("human report (data/report.html)")
struct CaseReportTests {
    /// A real 96×64 RGB PNG, so the browser has a picture to decode and the
    /// screenshot shows whether the thumbnail is there.
    static let png = CheckerboardPNG.bytes
    static let pngSHA256 = "680417d143022e3ca0f43573a839eca2c9ee9250e33d9bb5d6c5427c21aef8a9"
    static let pngMD5 = "d9406fd24f940159ac04cbca077c3d0b"
    static let blobPath = "data/blobs/sha256/68/" + pngSHA256
    static let warcPath = "data/warc/OC-2026-0007-000002.warc.gz"

    /// What a hostile site controls: its page title and the URLs it links to.
    static let hostileTitle = "Not found: <script>alert(1)</script>"
    static let hostileURL = #"https://shop.example.org/search?q="&<>'1"#
    static let hostileURLEscaped = "https://shop.example.org/search?q=&quot;&amp;&lt;&gt;&#39;1"

    static let head = "5d0c8664cf6ca5389cf7e56cdbd938170bf893509a9d5c038cbb188d0e11dd8a"

    /// A closed online-crime case: two actors, a page (redirected), an image and a 404
    /// whose title and URL carry markup.
    static func facts() -> BundleFacts {
        let actors = [
            BundleFacts.Person(id: "a-0001", name: "Dana Whitfield", badge: "4471", roles: ["supervisor", "custodian"]),
            BundleFacts.Person(id: "a-0002", name: "Sam O'Neill", badge: "5812", roles: ["investigator", "analyst"]),
        ]
        let page = BundleFacts.Artifact(
            id: "A-0002", seq: 2, actor: "a-0002", url: "https://shop.example.org/listing/4471",
            finalURL: "https://shop.example.org/listing/4471?ref=home", started: "2026-11-28T18:30:02.114000Z",
            ended: "2026-11-28T18:30:02.876000Z", status: 200, contentType: "text/html; charset=utf-8", size: 48_213,
            sha256: "2c3a4249d77070058649dbd822dcaf7957586fce428cfb2ca88b94741eda8b07",
            md5: "693a9fdd4c2fd0700968fba0d07ff3c0", ip: "203.0.113.24", certificateSubject: "CN=shop.example.org",
            title: "Genuine pills – next-day delivery", role: "page", warcPath: warcPath, blobPath: nil,
            responseOffset: 1_184,
            recordIDs: ["<urn:uuid:035c4ea0-d73b-5bde-bd6f-c806b04f2ec3>", "<urn:uuid:b80c8fef-a677-5340-85fb-2c162d75df03>"],
            tags: ["listing"])
        let image = BundleFacts.Artifact(
            id: "A-0003", seq: 3, actor: "a-0002", url: "https://cdn.example.org/img/pill-press.png", finalURL: nil,
            started: "2026-11-28T18:30:03.020000Z", ended: "2026-11-28T18:30:03.188000Z", status: 200,
            contentType: "image/png", size: Int64(png.count), sha256: pngSHA256, md5: pngMD5, ip: "203.0.113.80",
            certificateSubject: "CN=cdn.example.org", title: nil, role: "media", warcPath: warcPath, blobPath: blobPath,
            responseOffset: 52_907, recordIDs: ["<urn:uuid:334b6b31-12a2-5bfc-bf4f-870c0954b343>"], tags: [])
        let missing = BundleFacts.Artifact(
            id: "A-0004", seq: 4, actor: "a-0002", url: hostileURL, finalURL: nil,
            started: "2026-11-28T18:31:10.500000Z", ended: "2026-11-28T18:31:10.731000Z", status: 404,
            contentType: "text/html", size: 312, sha256: "4539e4b4889079c2a00afeae0bfc1439840ef2379a1fb81c8ba27361ad476d6b",
            md5: nil, ip: "203.0.113.24", certificateSubject: "CN=shop.example.org", title: hostileTitle, role: "page",
            warcPath: warcPath, blobPath: nil, responseOffset: 54_120,
            recordIDs: ["<urn:uuid:c093c7f6-6edf-595e-9539-70de788efbaa>"], tags: [])
        let timeline = [
            BundleFacts.Event(seq: 1, time: "2026-11-28T18:20:41.003000Z", actor: "a-0001", action: "open",
                              summary: "opened OC-2026-0007 (Crime perpetrated online)",
                              hash: "2bb7a7fd6c107f222f6b6dec3a49e8994f8be626edb14d9da10cae82d716d031", artifact: nil),
            BundleFacts.Event(seq: 2, time: "2026-11-28T18:30:02.901000Z", actor: "a-0002", action: "capture",
                              summary: "captured https://shop.example.org/listing/4471 (200)",
                              hash: "04faa85cc5734cd65209eca30b955208947d225916b8ee78e65dc20f014f481e", artifact: "A-0002"),
            BundleFacts.Event(seq: 3, time: "2026-11-28T18:30:03.205000Z", actor: "a-0002", action: "capture",
                              summary: "captured https://cdn.example.org/img/pill-press.png (200)",
                              hash: "b4244d28f130ee88ed112aa0de40bd679708341bfbbbdb83e21333df4e87904d", artifact: "A-0003"),
            BundleFacts.Event(seq: 4, time: "2026-11-28T18:31:10.760000Z", actor: "a-0002", action: "capture",
                              summary: "captured \(hostileURL) (404)",
                              hash: "c53aa81b2072dd8e52ea39665d61a5680ebdc1239269e2a62f558a5416bd36d9", artifact: "A-0004"),
            BundleFacts.Event(seq: 5, time: "2026-11-29T09:02:17.250000Z", actor: "a-0001", action: "verify",
                              summary: "verified 4 entries: intact",
                              hash: "fd0c0c0a6128d0d20e1ad2acc66de8a350964e5e67f5bfdb46988dcd35b5420a", artifact: nil),
            BundleFacts.Event(seq: 6, time: "2026-11-29T09:05:40.118000Z", actor: "a-0001", action: "export",
                              summary: "exported a bagit bundle (audience full)", hash: head, artifact: nil),
        ]
        return BundleFacts(
            caseID: "OC-2026-0007", title: "Counterfeit medicine sold on shop.example.org", category: "online-crime",
            categoryTitle: "Crime perpetrated online", policySections: "IV.B.1.d",
            agency: "Riverside County Sheriff's Office", status: "closed",
            fields: ["subtype": "other", "complainant_reference": "IR-2026-11873", "offence": "Sale of counterfeit drugs",
                     "platforms": "shop.example.org"],
            openedAt: "2026-11-28T18:20:41.003000Z", closedAt: "2026-11-29T09:10:00.000000Z", actors: actors,
            artifacts: [page, image, missing], timeline: timeline,
            files: [
                BundleFacts.File(path: warcPath,
                                 sha256: "ba9354696d17bcfb57e7e2e6f0b89044f840a9978ee7e579356ea731478d60f4", size: 61_440),
                BundleFacts.File(path: blobPath, sha256: pngSHA256, size: Int64(png.count)),
            ],
            verification: BundleFacts.Verification(intact: true, entries: 4, findings: []),
            ledgerHead: head, toolName: "Exhibit", toolVersion: "0.3.0")
    }

    /// The bag as the exporter would present it: only the PNG's blob exists.
    static func bag(_ path: String) -> [UInt8]? {
        path == blobPath ? png : nil
    }

    static func report(_ facts: BundleFacts = facts()) -> String {
        String(decoding: CaseReport.html(for: facts, image: bag), as: UTF8.self)
    }

    @Test("same facts give the same bytes; digests shown; hostile text escaped; no remote URL in src or href; PNG inline")
    func contentAndEscaping() throws {
        let facts = Self.facts()
        let first = CaseReport.html(for: facts, image: Self.bag)
        let second = CaseReport.html(for: facts, image: Self.bag)
        #expect(first == second)
        let html = String(decoding: first, as: UTF8.self)
        #expect(Array(html.utf8) == first, "the report is valid UTF-8")
        #expect(html.hasPrefix("<!DOCTYPE html>"))

        for artifact in facts.artifacts {
            #expect(html.contains(artifact.id), "\(artifact.id)")
            #expect(html.contains(try #require(artifact.sha256)), "sha256 of \(artifact.id)")
            #expect(html.contains(CaseReport.text(artifact.url)), "URL of \(artifact.id)")
        }
        #expect(html.contains(Self.hostileURLEscaped))
        #expect(!html.contains(Self.hostileURL))
        #expect(html.contains(Self.pngMD5), "MD5 is shown when known")
        #expect(html.contains(Self.head))
        #expect(html.contains("Riverside County Sheriff&#39;s Office"))
        #expect(html.contains("&lt;urn:uuid:035c4ea0-d73b-5bde-bd6f-c806b04f2ec3&gt;"))

        // The 404's title reaches the page only as text.
        #expect(html.contains("Not found: &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.lowercased().contains("<script"))

        // Opening the report contacts nobody: no attribute points outside the document.
        let remote = try Regex(#"(?i)\b(src|href|action|srcset|poster|data)\s*=\s*["']?\s*(https?:|//|ftp:)"#)
        #expect(html.firstMatch(of: remote) == nil)
        #expect(!html.contains("<link"))
        #expect(!html.lowercased().contains("url("), "no CSS url(): fonts and backgrounds would be fetched")
        #expect(html.contains("default-src 'none'"))

        let base64 = Data(Self.png).base64EncodedString()
        #expect(html.contains("src=\"data:image/png;base64,\(base64)\""))
        #expect(html.contains("max-width: 240px"))

        // Timeline: short hash shown, full hash in the title attribute.
        for event in facts.timeline {
            #expect(html.contains("title=\"\(event.hash)\">\(event.hash.prefix(16))<"), "seq \(event.seq)")
        }
        // The section a recipient without Exhibit follows, with its exact commands.
        for command in [
            "python3 -m bagit --validate &lt;bag&gt;",
            "cd &lt;bag&gt; &amp;&amp; sha256sum -c manifest-sha256.txt",
            "warcio check -v data/warc/*.warc.gz",
            "openssl pkeyutl -verify -pubin -inkey data/keys/a-0001.pem -rawin -in",
            "base64 -d",
            "openssl ts -verify -in data/timestamps/N.tsr -queryfile data/timestamps/N.tsq -CAfile data/timestamps/N.ca.pem",
            "case_validate --built-version case-1.4.0 data/provenance.jsonld",
        ] {
            #expect(html.contains(command), "\(command)")
        }
        #expect(html.contains("How to verify this bundle by hand"))

        // The sections come in the order the brief gives them.
        let order = ["<h1>Case report", "<h2>1. People who acted", "<h2>2. Verification at export", "<h2>3. Artifacts",
                     "<h2>4. Timeline of the custody ledger", "<h2>6. How to verify this bundle by hand"]
        let positions = order.compactMap { html.range(of: $0)?.lowerBound }
        #expect(positions.count == order.count)
        #expect(positions == positions.sorted())
    }

    @Test("field order, failed verification, timestamps, oversized and unreadable images")
    func variants() throws {
        var facts = Self.facts()
        // Dictionary order varies between processes and even between dictionaries;
        // rebuilding the fields must not change a byte.
        facts.fields = Dictionary(uniqueKeysWithValues: facts.fields.sorted { $0.key > $1.key })
        #expect(Self.report(facts) == Self.report())

        facts.verification = BundleFacts.Verification(
            intact: false, entries: 4,
            findings: ["TAMPERED data/warc/x.warc.gz — expected ab found <img src=x onerror=alert(1)>"])
        facts.files.append(BundleFacts.File(path: "data/timestamps/5.tsr", sha256: String(repeating: "1", count: 64), size: 5_012))
        facts.files.append(BundleFacts.File(path: "data/timestamps/5.tsq", sha256: String(repeating: "2", count: 64), size: 59))
        facts.files.append(BundleFacts.File(path: "data/timestamps/5.ca.pem", sha256: String(repeating: "3", count: 64), size: 1_180))
        // A right-to-left override would make the address read differently from what it is.
        facts.artifacts[0].url = "https://shop.example.org/\u{202E}gpj.exe"
        var html = Self.report(facts)
        #expect(html.contains("NOT INTACT"))
        #expect(html.contains("expected ab found &lt;img src=x onerror=alert(1)&gt;"))
        #expect(!html.contains("<img src=x"))
        #expect(html.contains("openssl ts -verify -in data/timestamps/5.tsr -queryfile data/timestamps/5.tsq -CAfile data/timestamps/5.ca.pem"))
        #expect(html.contains("https://shop.example.org/<span class=\"cc\">U+202E</span>gpj.exe"))
        #expect(!html.contains("\u{202E}"))
        // In an attribute a mark is plain text: a <span> there would end the attribute.
        facts.timeline[0].hash = "2bb7a7fd6c107f22\u{1}\"><b>x</b>"
        html = Self.report(facts)
        #expect(html.contains("title=\"2bb7a7fd6c107f22[U+0001]&quot;&gt;&lt;b&gt;x&lt;/b&gt;\""))
        #expect(!html.contains("<b>x"))

        let big = [UInt8](repeating: 0, count: CaseReport.thumbnailLimit + 1)
        html = String(decoding: CaseReport.html(for: Self.facts(), image: { _ in big }), as: UTF8.self)
        #expect(!html.contains("data:image/"))
        #expect(html.contains("more than the 512 KiB"))
        #expect(html.contains(Self.blobPath))
        let exact = [UInt8](repeating: 0, count: CaseReport.thumbnailLimit)
        html = String(decoding: CaseReport.html(for: Self.facts(), image: { _ in exact }), as: UTF8.self)
        #expect(html.contains("data:image/png;base64,"), "exactly 512 KiB is still embedded")

        html = String(decoding: CaseReport.html(for: Self.facts(), image: { _ in nil }), as: UTF8.self)
        #expect(!html.contains("data:image/"))
        #expect(html.contains("could not be read"))
        #expect(html.contains(Self.blobPath))

        // The media type goes into the data: URI, so a hostile one is never copied there.
        facts = Self.facts()
        facts.artifacts[1].contentType = #"image/svg+xml"><script>x</script>"#
        html = Self.report(facts)
        #expect(!html.contains("data:image/"))
        #expect(!html.lowercased().contains("<script"))
    }

    // MARK: - Headless Chromium

    static let outputDirectory = "/tmp/exhibit-report-test"

    @Test("headless Chromium renders the report and its DOM holds every digest")
    func rendersInChromium() throws {
        let chromium = try #require(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "Chromium is not installed: `make deps` installs it (Debian package chromium).")
        let facts = Self.facts()
        let directory = Self.outputDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let reportPath = directory + "/report.html"
        let screenshotPath = directory + "/report.png"
        try? FileManager.default.removeItem(atPath: screenshotPath)
        try Data(CaseReport.html(for: facts, image: Self.bag)).write(to: URL(fileURLWithPath: reportPath))

        // A profile of its own, so a Chromium started by another test (or a person) is
        // never asked to do the work instead (Chromium hands off to a running instance).
        let profile = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)"]

        let shot = try Self.run(chromium, common + ["--screenshot=\(screenshotPath)", "--window-size=1280,2000",
                                                    "file://\(reportPath)"])
        #expect(!shot.timedOut, "chromium --screenshot did not finish within 60 s")
        #expect(shot.status == 0, "chromium --screenshot exited \(shot.status): \(shot.stderrTail)")
        let png = try #require(FileManager.default.contents(atPath: screenshotPath), "no screenshot at \(screenshotPath)")
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

        let dump = try Self.run(chromium, common + ["--dump-dom", "file://\(reportPath)"])
        #expect(!dump.timedOut, "chromium --dump-dom did not finish within 60 s")
        #expect(dump.status == 0, "chromium --dump-dom exited \(dump.status): \(dump.stderrTail)")
        let dom = String(decoding: dump.stdout, as: UTF8.self)
        for artifact in facts.artifacts {
            #expect(dom.contains(try #require(artifact.sha256)), "sha256 of \(artifact.id) in the rendered DOM")
        }
        // The parser saw the hostile title as text: no script element came out of it.
        #expect(!dom.lowercased().contains("<script"))
        #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Double = 60) throws -> BoundedProcess.Finished {
        try BoundedProcess.run(executable, arguments, timeout: timeout)
    }

    static func makeTemporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("exhibit-chromium-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
