import PageAnalysis
import Testing

/// Profile URLs written in page text without a scheme (issue 18 item 9): found as
/// the schemed ones are — kind `social`, the same `platform:handle` — and a
/// platform's bare host in prose is not a selector.
@Suite("Page analysis: profile URLs without a scheme")
struct SchemelessProfileTests {
    private func page(_ body: String) -> AnalyzedPage {
        AnalyzedPage(html: Array("<html><body>\(body)</body></html>".utf8), url: "https://forum.example.com/thread/1",
                     contentType: "text/html; charset=utf-8")
    }

    private func social(_ body: String) -> [String] {
        page(body).selectors.filter { $0.kind == .social }.map(\.value)
    }

    @Test func theIssuesExamplesAreFound() {
        let found = page("<p>Her page is www.facebook.com/jane.doe.test and he posts as twitter.com/jdoe_test.</p>")
        let profiles = found.selectors.filter { $0.kind == .social }
        #expect(profiles.map(\.value) == ["facebook:jane.doe.test", "twitter:jdoe_test"])
        #expect(profiles.map(\.raw) == ["www.facebook.com/jane.doe.test", "twitter.com/jdoe_test"])
        #expect(profiles.allSatisfy { $0.source == .text })
        // Offsets are scalar indexes of what was written, as for every text selector.
        let scalars = Array(found.text.unicodeScalars)
        for profile in profiles {
            let offset = profile.offset ?? -1
            let raw = Array(profile.raw.unicodeScalars)
            #expect(offset >= 0 && offset + raw.count <= scalars.count && Array(scalars[offset..<(offset + raw.count)]) == raw)
        }
    }

    @Test func theSameValueAsWithAScheme() {
        #expect(social("twitter.com/JDoe_Test") == social("https://twitter.com/JDoe_Test"))
        #expect(social("x.com/jdoe_test") == ["twitter:jdoe_test"])
        #expect(social("instagram.com/night.owl/") == ["instagram:night.owl"])
        #expect(social("m.facebook.com/profile.php?id=100012345") == ["facebook:100012345"])
        #expect(social("tiktok.com/@owl.dance") == ["tiktok:owl.dance"])
        #expect(social("youtube.com/@OwlVideos") == ["youtube:owlvideos"])
        #expect(social("t.me/owlchannel") == ["telegram:owlchannel"])
        #expect(social("snapchat.com/add/owl_snaps") == ["snapchat:owl_snaps"])
        #expect(social("old.reddit.com/u/OwlPoster") == ["reddit:owlposter"])
        // Punctuation around it is not part of it.
        #expect(social("(see “twitter.com/jdoe_test”, or instagram.com/night.owl.)") == ["twitter:jdoe_test", "instagram:night.owl"])
        // In a non-ASCII text, where the scanner reads scalars.
        let text = page("<p>Café — écrivez à twitter.com/jdoe_test</p>")
        let profile = text.selectors.first { $0.kind == .social }
        #expect(profile?.value == "twitter:jdoe_test")
        #expect(profile?.offset == 17)
    }

    @Test func aBareHostInProseIsNotAProfile() {
        #expect(social("twitter.com is down again; try facebook.com or www.instagram.com.") == [])
        #expect(social("twitter.com/ and x.com/, twitter.com: down") == [])
    }

    @Test func featurePathsAndOtherSitesAreNotProfiles() {
        #expect(social("twitter.com/search?q=owl twitter.com/home facebook.com/sharer.php?u=x t.me/joinchat/AAAA") == [])
        #expect(social("instagram.com/p/Cx1 youtube.com/watch?v=abc reddit.com/r/swift") == [])
        // The host must begin the token: not inside another address or URL path.
        #expect(social("example.org/twitter.com/jdoe me@twitter.com/jdoe notwitter.com/jdoe twitter.com.example.org/jdoe") == [])
        // Dates and paths with slashes.
        #expect(social("on 2026/11/28, see /docs/twitter.com/jdoe and a/b/c") == [])
    }

    @Test func noDuplicateForASchemedURL() {
        #expect(page("https://twitter.com/jdoe_test and http://www.facebook.com/jane.doe.test").selectors.map(\.value)
                == ["twitter:jdoe_test", "facebook:jane.doe.test"])
    }
}
