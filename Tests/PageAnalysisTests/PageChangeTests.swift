import PageAnalysis
import Testing

/// The comparison a watch records and `exhibit diff` prints (DESIGN §18), without
/// a network: line diffs, selector and media changes, removal notices.
@Suite("page changes: line diff, selectors, media, removal notices")
struct PageChangeTests {
    func page(_ body: String, title: String = "Post", url: String = "https://example.org/post") -> AnalyzedPage {
        AnalyzedPage(html: Array("<html><head><title>\(title)</title></head><body>\(body)</body></html>".utf8), url: url, contentType: "text/html")
    }

    @Test("the shortest edit script: one line replaced among kept ones")
    func editScript() {
        let script = TextDiff.compare(["a", "b", "c", "d"], ["a", "x", "c", "d", "e"])
        #expect(script == [.same("a"), .removed("b"), .added("x"), .same("c"), .same("d"), .added("e")])
        #expect(TextDiff.compare([], ["a"]) == [.added("a")])
        #expect(TextDiff.compare(["a"], []) == [.removed("a")])
        #expect(TextDiff.compare(["a", "b"], ["a", "b"]) == [.same("a"), .same("b")])
        // A move is a removal and an addition, not two of each.
        let moved = TextDiff.compare(["a", "b", "c"], ["b", "c", "a"])
        #expect(moved.filter { if case .same = $0 { false } else { true } }.count == 2, "\(moved)")
    }

    @Test("the edit script is minimal on seeded random line lists", arguments: [1, 2, 3, 4, 5])
    func randomScripts(seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let old = (0..<(20 + next(30))).map { _ in "line \(next(8))" }
        let new = (0..<(20 + next(30))).map { _ in "line \(next(8))" }
        let script = TextDiff.compare(old, new)
        // Applying the script gives both sides back.
        #expect(script.compactMap { if case .added = $0 { nil } else { $0.text } } == old)
        #expect(script.compactMap { if case .removed = $0 { nil } else { $0.text } } == new)
        // Minimal: the kept lines are a longest common subsequence.
        #expect(script.filter { if case .same = $0 { true } else { false } }.count == Self.lcs(old, new), "seed \(seed)")
    }

    static func lcs(_ a: [String], _ b: [String]) -> Int {
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 1...a.count {
            for j in 1...b.count {
                table[i][j] = a[i - 1] == b[j - 1] ? table[i - 1][j - 1] + 1 : max(table[i - 1][j], table[i][j - 1])
            }
        }
        return table[a.count][b.count]
    }

    @Test("unified format: header, hunk ranges as diff -u writes them, context of three lines")
    func unified() {
        let old = (1...10).map { "line \($0)" }
        var new = old
        new[4] = "line five"
        let text = TextDiff.unified(old, new, from: "A-0002", to: "A-0005")
        #expect(text == """
            --- A-0002
            +++ A-0005
            @@ -2,7 +2,7 @@
             line 2
             line 3
             line 4
            -line 5
            +line five
             line 6
             line 7
             line 8

            """)
        #expect(TextDiff.unified(old, old, from: "a", to: "b").isEmpty)
        // Far-apart changes make two hunks; an insertion at the top counts from 0.
        var spread = old
        spread.insert("first", at: 0)
        spread[10] = "last"
        let two = TextDiff.unified(old, spread, from: "a", to: "b")
        #expect(two.components(separatedBy: "\n@@ ").count == 3, "\(two)")
        #expect(two.contains("@@ -1,3 +1,4 @@\n+first\n line 1\n"), "\(two)")
    }

    @Test("a changed page: lines, a phone number, an image and the title, each listed")
    func pageChange() {
        let old = page("<p>Meet at the north gate.</p><p>Bring banners.</p><img src=/a.jpg><img src=/b.png>", title: "Meeting")
        let new = page("<p>Meet at the south gate.</p><p>Bring banners.</p><p>Call +1 202-555-0143.</p><img src=/a.jpg>", title: "Meeting moved")
        let change = PageChange(from: old, to: new)
        #expect(change.linesRemoved == ["Meet at the north gate."])
        #expect(change.linesAdded == ["Meet at the south gate.", "Call +1 202-555-0143."])
        #expect(change.selectorsAdded == ["phone +12025550143"])
        #expect(change.selectorsRemoved.isEmpty)
        #expect(change.mediaRemoved == ["https://example.org/b.png"])
        #expect(change.mediaAdded.isEmpty)
        #expect(change.titleChanged && change.titleBefore == "Meeting" && change.titleAfter == "Meeting moved")
        #expect(!change.isEmpty)
        // White space and markup that a reader does not see are no change.
        let same = PageChange(from: old, to: page("<p>  Meet at the north gate.</p>\n\n<div>Bring banners.</div><img src=/a.jpg><img src=/b.png><script>var t=1</script>", title: "Meeting"))
        #expect(same.isEmpty, "\(same)")
    }

    static let patternsJSON = """
        {"patterns": [
          {"platform": "facebook", "hosts": ["facebook.com"], "texts": ["This content isn't available right now"]},
          {"platform": "generic", "texts": ["This content isn't available"], "max_text_length": 200}
        ]}
        """

    @Test("removal notices: curly apostrophes and case ignored, host lists and length limits honoured")
    func removalPatterns() throws {
        let patterns = try RemovalPatterns(json: Array(Self.patternsJSON.utf8), origin: "test")
        let facebook = page("<h2>This Content Isn\u{2019}t Available Right Now</h2>", url: "https://m.facebook.com/story.php?id=1")
        #expect(patterns.match(facebook)?.platform == "facebook")
        #expect(patterns.match(facebook)?.text == "This content isn't available right now")
        let elsewhere = page("<h2>This content isn't available right now</h2>", url: "https://example.org/p")
        #expect(patterns.match(elsewhere)?.platform == "generic")
        // An article quoting the notice is longer than a notice page.
        let article = page("<p>This content isn't available, the platform said.</p><p>\(String(repeating: "More of the article. ", count: 20))</p>")
        #expect(patterns.match(article) == nil)
        #expect(patterns.match(page("<p>An ordinary post.</p>")) == nil)
        #expect(throws: (any Error).self) { try RemovalPatterns(json: Array(#"{"patterns": [{"platform": "x"}]}"#.utf8), origin: "bad") }
        #expect(throws: (any Error).self) { try RemovalPatterns(json: Array(#"{"patterns": [{"platform": "x", "texts": ["  "]}]}"#.utf8), origin: "blank") }
    }
}

extension TextDiff.Line {
    var text: String {
        switch self {
        case .same(let text), .added(let text), .removed(let text): text
        }
    }
}

@Suite("removal patterns: which pages need parsing for them")
struct RemovalPatternLimitTests {
    @Test("the longest matchable text counts only patterns for the URL's host; one without a limit means any length")
    func longestMatchable() throws {
        let patterns = try RemovalPatterns(json: Array(PageChangeTests.patternsJSON.utf8), origin: "test")
        #expect(patterns.longestMatchable(url: "https://example.org/p") == 200)
        // facebook's pattern has no limit, and applies to its subdomains.
        #expect(patterns.longestMatchable(url: "https://m.facebook.com/story.php?id=1") == nil)
        let hostsOnly = try RemovalPatterns(json: Array(#"{"patterns": [{"platform": "x", "hosts": ["x.com"], "texts": ["gone"], "max_text_length": 50}]}"#.utf8), origin: "t")
        #expect(hostsOnly.longestMatchable(url: "http://127.0.0.1:8080/a") == 0)
        #expect(hostsOnly.longestMatchable(url: "https://x.com/a/status/1") == 50)
        #expect(hostsOnly.longestMatchable(url: "https://notx.com/") == 0)
    }
}
