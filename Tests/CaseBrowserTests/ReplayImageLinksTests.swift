@testable import CaseBrowser
import Testing

/// The replay frame's copy of a page: image addresses point at the browser's
/// route form; nothing else changes.
@Suite("replayed pages: image addresses pointed at the WARC")
struct ReplayImageLinksTests {
    static let page = "http://shop.example.org/items/list.html?id=4"
    static func route(_ url: String) -> String { "/cases/OC-2026-0001/artifacts/A-0003/replay/" + url }
    static func rewrite(_ html: String) -> String {
        String(decoding: ReplayImageLinks.rewrite(Array(html.utf8), pageURL: page, route: route), as: UTF8.self)
    }

    @Test("relative, root-relative, protocol-relative and absolute addresses; srcset, poster, background; quoted or not")
    func addresses() {
        let html = #"<img src="a.png"><IMG SRC='/b.png' alt=x><img src=//cdn.example.net/c.png><img src="https://cdn.example.net/d.png?x=1&amp;y=2">"#
            + #"<picture><source srcset="e.png 1x, /f.png 2x"></picture><video poster="../g.jpg"></video><table background=h.gif>"#
        let out = Self.rewrite(html)
        #expect(out == #"<img src="/cases/OC-2026-0001/artifacts/A-0003/replay/http://shop.example.org/items/a.png">"#
            + #"<IMG SRC="/cases/OC-2026-0001/artifacts/A-0003/replay/http://shop.example.org/b.png" alt=x>"#
            + #"<img src="/cases/OC-2026-0001/artifacts/A-0003/replay/http://cdn.example.net/c.png">"#
            + #"<img src="/cases/OC-2026-0001/artifacts/A-0003/replay/https://cdn.example.net/d.png?x=1&amp;y=2">"#
            + #"<picture><source srcset="/cases/OC-2026-0001/artifacts/A-0003/replay/http://shop.example.org/items/e.png 1x, "#
            + #"/cases/OC-2026-0001/artifacts/A-0003/replay/http://shop.example.org/f.png 2x"></picture>"#
            + #"<video poster="/cases/OC-2026-0001/artifacts/A-0003/replay/http://shop.example.org/g.jpg"></video>"#
            + #"<table background="/cases/OC-2026-0001/artifacts/A-0003/replay/http://shop.example.org/items/h.gif">"#)
    }

    @Test("text, comments, scripts, links, data: URLs and other schemes stay as archived")
    func untouched() {
        let html = #"<p>img src="x.png" in text</p><!-- <img src="y.png"> --><script>var s = '<img src="z.png">';</script>"#
            + ##"<a href="/page.html">link</a><img src="data:image/png;base64,AAAA"><img src="javascript:alert(1)"><img src="#top">"##
            + #"<textarea><img src="t.png"></textarea><img alt="no source">"#
        #expect(Self.rewrite(html) == html)
    }

    @Test("a <base> is followed (and itself pointed at the route), a hostile value cannot leave the attribute")
    func baseAndHostileValues() {
        let out = Self.rewrite(#"<base href="https://static.example.org/v2/"><img src="p.png">"#)
        #expect(out == #"<base href="/cases/OC-2026-0001/artifacts/A-0003/replay/https://static.example.org/v2/">"#
            + #"<img src="/cases/OC-2026-0001/artifacts/A-0003/replay/https://static.example.org/v2/p.png">"#)
        let hostile = Self.rewrite(#"<img src='/q.png?a="><script>x</script>'>"#)
        #expect(!hostile.contains("<script>"))
        #expect(hostile.hasPrefix(#"<img src="/cases/OC-2026-0001/artifacts/A-0003/replay/http://shop.example.org/q.png?a=%22%3E%3Cscript%3Ex%3C/script%3E">"#)
            || hostile.hasPrefix(#"<img src="/cases/OC-2026-0001/artifacts/A-0003/replay/http://shop.example.org/q.png?a=&quot;&gt;&lt;script&gt;"#), "\(hostile)")
        // Bytes of another charset around the markup are copied as they are.
        let latin1: [UInt8] = Array("<p>".utf8) + [0xE9, 0xFC] + Array(#"</p><img src="i.png">"#.utf8)
        let rewritten = ReplayImageLinks.rewrite(latin1, pageURL: Self.page, route: Self.route)
        #expect(Array(rewritten.prefix(5)) == Array("<p>".utf8) + [0xE9, 0xFC])
    }
}
