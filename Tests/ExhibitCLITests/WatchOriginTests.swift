import Foundation
import Testing
@testable import Watches

/// `RemovalPatternsInForce.origin(_:)`, the key under which the longest matchable text is
/// remembered, is the URL up to its path, query or fragment, as Foundation's search gave it.
@Suite("watch run: the origin a removal pattern's length limit is remembered by")
struct WatchOriginTests {
    /// The earlier form, over Foundation's `range(of:)` and Characters.
    static func foundationOrigin(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        return String(url[..<(rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex)])
    }

    @Test("the same origin as the Foundation search for URLs with and without path, query, fragment, port or scheme")
    func sameAsFoundation() {
        let urls = [
            "http://127.0.0.2:8080/c/p00001.html", "https://m.facebook.com/story.php?id=1#top", "https://example.org",
            "https://example.org?q=1", "https://example.org#frag", "http://user@host:1/a://b", "example.org/path",
            "mailto:someone", "http:/one-slash", "x://", "://host/a", "https://ex\u{e4}mple.org/\u{e9}t\u{e9}", "",
            "https://[::1]:443/x", "a:b://c/d", "a:/://b/c", ":::://x/y", "h:/:/x://h/p?q", "h:/x:/://y#z",
        ]
        for url in urls {
            #expect(RemovalPatternsInForce.origin(url) == Self.foundationOrigin(url), "\(url)")
        }
    }
}
