import ExhibitTestSupport
import Foundation
import PageAnalysis
import Testing

/// Captured pages are written by whoever the investigation is about. None of
/// these may crash, hang or take the machine's memory; each must finish well
/// within five seconds of the CPU.
///
/// The bound is on the analysing thread's CPU time: the suite runs many tests at
/// once on two cores, so wall time would measure the neighbours, while a hang or a
/// quadratic blow-up still burns CPU. Wall time gets a generous bound of its own.
@Suite("Page analysis: hostile input")
struct HostileInputTests {
    /// Five seconds of CPU, or a minute under a sanitizer (ASan and TSan slow every
    /// memory access several times; `EXHIBIT_SANITIZER` says one is on).
    static let bound: Duration = ProcessInfo.processInfo.environment["EXHIBIT_SANITIZER"] == nil ? .seconds(5) : .seconds(60)
    static let wallBound: Duration = .seconds(120)

    private static func threadCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    private func analyse(_ bytes: [UInt8], contentType: String? = "text/html") throws -> (AnalyzedPage, Duration) {
        let clock = ContinuousClock()
        var page: AnalyzedPage?
        var cpu: Duration = .zero
        let wall = clock.measure {
            let start = Self.threadCPUTime()
            page = AnalyzedPage(html: bytes, url: "https://hostile.example.org/page", contentType: contentType)
            cpu = Self.threadCPUTime() - start
        }
        #expect(wall < Self.wallBound, "wall time \(wall)")
        return (try #require(page), cpu)
    }

    @Test func tenThousandDeepNesting() throws {
        let html = String(repeating: "<div><span>", count: 10_000) + "deep@example.org" + String(repeating: "</span></div>", count: 10_000)
        let (page, elapsed) = try analyse(Array(html.utf8))
        #expect(elapsed < Self.bound)
        _ = page.text
    }

    /// The analysis reads libxml2's parse events without building a tree, but
    /// stops where the tree builder stops (an element nested deeper than 256):
    /// the text a capture recorded in its ledger is the text a rebuild finds.
    @Test func analysisStopsAtTheParsersDepthLimitAsTheTreeDoes() throws {
        func page(depth: Int) -> [UInt8] {
            Array(("<p>start</p>" + String(repeating: "<div>", count: depth) + "deep"
                + String(repeating: "</div>", count: depth) + "<p>after</p>").utf8)
        }
        #expect(try analyse(page(depth: 200)).0.text == "start\ndeep\nafter")
        #expect(try analyse(page(depth: 300)).0.text == "start")
    }

    @Test func billionLaughsEntitiesAreNotExpanded() throws {
        var html = "<!DOCTYPE html [\n<!ENTITY lol \"lol\">\n"
        html += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        for level in 2...9 {
            html += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">\n"
        }
        html += "]>\n<html><body><p>&lol9;</p><p>after</p></body></html>"
        let (page, elapsed) = try analyse(Array(html.utf8))
        #expect(elapsed < Self.bound)
        #expect(page.text.utf8.count < 10_000)
    }

    @Test func nulBytesAndInvalidUTF8() throws {
        var bytes = Array("<html><body><p>before\u{0}after nul@example.org ".utf8)
        bytes += [0xFF, 0xFE, 0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x82, 0xF0, 0x28, 0x8C, 0x28, 0x00, 0x00]
        bytes += Array(" tail@example.org</p></body></html>".utf8)
        let (_, elapsed) = try analyse(bytes, contentType: "text/html; charset=utf-8")
        #expect(elapsed < Self.bound)
        let (_, undeclared) = try analyse(bytes, contentType: nil)
        #expect(undeclared < Self.bound)
    }

    @Test func fiftyMegabyteSingleLinePage() throws {
        var html = Array("<html><body><p>".utf8)
        let chunk = Array("word contact@example.org 192.0.2.1 <b>bold</b> ".utf8)
        while html.count < 50 << 20 { html += chunk }
        html += Array("</p></body></html>".utf8)
        let (page, elapsed) = try analyse(html)
        #expect(elapsed < Self.bound)
        #expect(page.text.unicodeScalars.count <= AnalyzedPage.textLimit)
    }

    @Test func oneMegabyteAttribute() throws {
        let value = String(repeating: "x", count: 1 << 20)
        let html = "<html><body><a href=\"https://example.org/\(value)\">link</a><img srcset=\"\(value) 1x, \(value) 2x\"><p title=\"\(value)\">ok@example.org</p></body></html>"
        let (page, elapsed) = try analyse(Array(html.utf8))
        #expect(elapsed < Self.bound)
        #expect(page.links.count == 1)
        #expect(page.selectors.map(\.value) == ["ok@example.org"])
    }

    @Test(arguments: [10, 100, 1000, 5000])
    func truncatedDocuments(at length: Int) throws {
        let html = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>Cut off</title>
            <meta property="og:image" content="/a.png"><script type="application/ld+json">{"datePublished": "2026-
            """ + String(repeating: "<p>row <a href='/x'>x</a> cut@example.org</p>", count: 200)
        let bytes = Array(html.utf8.prefix(length))
        let (_, elapsed) = try analyse(bytes)
        #expect(elapsed < Self.bound)
    }

    @Test func emptyAndBinaryBodies() throws {
        _ = try analyse([])
        // Seeded: a failure names the seed, and EXHIBIT_TEST_SEED=<seed> replays the same bytes.
        var random = SeededRandom()
        let noise = random.bytes(200_000)
        let (_, elapsed) = try analyse(noise)
        #expect(elapsed < Self.bound, "\(random.replay)")
    }
}
