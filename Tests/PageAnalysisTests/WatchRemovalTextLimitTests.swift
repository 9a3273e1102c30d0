import Foundation
import PageAnalysis
import Testing

/// A watch's removal check reads a page's title and text only up to one scalar past
/// the longest text a removal pattern may match (`titleAndText(html:contentType:textLimit:)`,
/// whose parse stops there): the text it gets must be exactly the start of the whole
/// page's text, at least as long as the limit, and all of it (with the title) when the
/// page is shorter, so that the check decides as it did on the whole page.
@Suite("Page analysis: title and text up to a limit, for a watch's removal check")
struct WatchRemovalTextLimitTests {
    static let directory = AnalysisCorpusTests.directory

    /// The corpus pages (several charsets, hidden subtrees, scripts), with their Content-Type.
    static func corpus() throws -> [(name: String, html: [UInt8], contentType: String?)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { file in
            let name = String(file.dropLast(5))
            let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(file)"))) as? [String: Any]
            let html = try Array(Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name).html")))
            return (name, html, spec?["content_type"] as? String)
        }
    }

    /// The first `count` scalars of `text`.
    static func prefix(_ text: String, _ count: Int) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(count))
        return String(scalars)
    }

    @Test("on every corpus page and at every limit, the text is the whole text's start, and all of it below the limit")
    func limitedTextIsThePrefix() throws {
        let pages = try Self.corpus()
        #expect(pages.count >= 30)
        var cut = 0
        for page in pages {
            let whole = AnalyzedPage.titleAndText(html: page.html, contentType: page.contentType)
            let length = whole.text.unicodeScalars.count
            for limit in [1, 2, 40, 500, 1001, 4001, length, length + 1] where limit > 0 {
                let limited = AnalyzedPage.titleAndText(html: page.html, contentType: page.contentType, textLimit: limit)
                if length < limit {
                    #expect(limited.text == whole.text, "\(page.name) at \(limit): the whole text")
                    #expect(limited.title == whole.title, "\(page.name) at \(limit): the title")
                } else {
                    // The text's start: `limit` scalars, or one more when a word's
                    // separator was the limit's last (the C walk writes the word's
                    // first scalar with it).
                    let count = limited.text.unicodeScalars.count
                    #expect(count == limit || count == limit + 1, "\(page.name) at \(limit): \(count) scalars")
                    #expect(limited.text == Self.prefix(whole.text, count), "\(page.name) at \(limit): the whole text's first \(count) scalars")
                    cut += 1
                }
            }
        }
        #expect(cut > pages.count, "the limits cut most pages short")
    }

    @Test("the parse stops at the limit: a title after it is not read, one before it is")
    func parseStopsAtTheLimit() {
        let words = String(repeating: "word ", count: 400)
        let late = Array("<html><body><p>\(words)</p><title>Late title</title><p>This content isn't available</p></body></html>".utf8)
        let whole = AnalyzedPage.titleAndText(html: late, contentType: "text/html")
        #expect(whole.title == "Late title")
        #expect(whole.text.hasSuffix("This content isn't available"))
        let limited = AnalyzedPage.titleAndText(html: late, contentType: "text/html", textLimit: 1001)
        #expect(limited.title == nil)
        #expect(limited.text.unicodeScalars.count == 1001)
        // A short notice page is read whole, title included.
        let notice = Array("<html><head><title>Facebook</title></head><body><p>This content isn't available right now</p></body></html>".utf8)
        let short = AnalyzedPage.titleAndText(html: notice, contentType: "text/html", textLimit: 4001)
        #expect(short.title == "Facebook")
        #expect(short.text == "This content isn't available right now")
    }
}
