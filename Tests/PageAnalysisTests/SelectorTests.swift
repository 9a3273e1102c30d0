import PageAnalysis
import Testing

/// Selector extraction and normalisation: what makes the same identifier written
/// differently one selector across cases.
@Suite("Page analysis: selectors")
struct SelectorTests {
    private func selectors(_ body: String, url: String = "https://forum.example.com/thread/1") throws -> Set<String> {
        let page = AnalyzedPage(html: Array("<html><body>\(body)</body></html>".utf8), url: url, contentType: "text/html; charset=utf-8")
        return Set(page.selectors.map { "\($0.kind.rawValue)=\($0.value)" })
    }

    @Test func onePhoneNumberWrittenThreeWaysIsOneSelector() throws {
        let found = try selectors("<p>Call (202) 555-0143.</p><p>Or 202.555.0143 after six,</p><p>or text +1 202 555 0143</p><a href='tel:2025550143'>call</a>")
        #expect(found == ["phone=+12025550143"])
    }

    @Test func internationalAndNationalNumbers() throws {
        #expect(try selectors("Ring +44 20 7946 0018 or 0044 20 7946 0018") == ["phone=+442079460018"])
        #expect(try selectors("Ring 020 7946 0018", url: "https://shop.example.co.uk/") == ["phone=+442079460018"])
        #expect(try selectors("Anruf 030 12345678", url: "https://www.example.de/kontakt") == ["phone=+493012345678"])
        // No country can be inferred on a .com page: not a selector in text, raw digits from tel:.
        #expect(try selectors("Ring 020 7946 0018") == [])
        #expect(try selectors("<a href='tel:020-7946-0018'>ring</a>") == ["phone=02079460018"])
    }

    @Test func numbersThatAreNotPhones() throws {
        let found = try selectors("""
            Posted 2026-11-28 at 12:30:45. Price $1,299.00. Order #448812345. ZIP 20001-1234.
            Ref 123-45-6789. Build 5550143. Visit https://example.org/item/2025550143 today.
            """)
        #expect(found == [])
    }

    @Test func emailsAndHandles() throws {
        let found = try selectors("""
            Write to Jane.Doe@Example.ORG, (tips@example.net) or mailto:desk@example.com.
            Follow @night_owl_77 and @Jane.Doe. on the forum; not user@ or a@b.
            """)
        #expect(found == [
            "email=jane.doe@example.org", "email=tips@example.net", "email=desk@example.com",
            "handle=@night_owl_77", "handle=@jane.doe",
        ])
    }

    @Test func socialProfilesFromLinksTextAndThePageItself() throws {
        let found = try selectors("""
            <a href="https://x.com/NightOwl77">x</a> <a href="https://twitter.com/search?q=a">search</a>
            <a href="https://www.instagram.com/night.owl/">ig</a> <a href="https://instagram.com/p/Cx1/">post</a>
            <a href="https://m.facebook.com/profile.php?id=100012345">fb</a> <a href="https://facebook.com/sharer.php?u=x">share</a>
            <a href="https://www.tiktok.com/@owl.dance?lang=en">tt</a> <a href="https://youtube.com/channel/UCaBcD_12-xY">yt</a>
            <a href="https://t.me/owlchannel">tg</a> <a href="https://t.me/joinchat/AAAA">join</a>
            <a href="https://www.snapchat.com/add/owl_snaps">snap</a> <a href="https://old.reddit.com/u/OwlPoster/">reddit</a>
            See also https://www.youtube.com/@OwlVideos.
            """, url: "https://www.facebook.com/jane.doe.5")
        #expect(found == [
            "social=twitter:nightowl77", "social=instagram:night.owl", "social=facebook:100012345", "social=tiktok:owl.dance",
            "social=youtube:channel/UCaBcD_12-xY", "social=telegram:owlchannel", "social=snapchat:owl_snaps",
            "social=reddit:owlposter", "social=youtube:owlvideos", "social=facebook:jane.doe.5",
        ])
    }

    @Test func ipAddresses() throws {
        let found = try selectors("""
            GET from 192.0.2.14 and [2001:DB8:0:0:0:0:0:1]:443 and 2001:db8::ff00:42:8329; peer 198.51.100.7:8080.
            Not: version 1.2.3.4.5, time 12:30:45, 999.1.1.1, mac 00:1a:2b:3c:4d:5e.
            """)
        #expect(found == ["ipv4=192.0.2.14", "ipv4=198.51.100.7", "ipv6=2001:db8::1", "ipv6=2001:db8::ff00:42:8329"])
    }

    @Test func cryptocurrencyAddressesAreChecksummed() throws {
        let found = try selectors("""
            BTC 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa or 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy or
            bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq. Bad: 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb,
            bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdz. ETH: 0x52908400098527886E0F7030069857D2E4169EE7
            not 0x52908400098527886E0F7030069857D2E4169EE7AA.
            """)
        #expect(found == [
            "bitcoin=1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bitcoin=3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "bitcoin=bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "ethereum=0x52908400098527886e0f7030069857d2e4169ee7",
        ])
    }

    @Test func scriptsAndStylesAreNotText() throws {
        let found = try selectors("""
            <script>var owner = "hidden@example.org"; call("+1 202 555 0199");</script>
            <style>.x::after { content: "style@example.org"; }</style><noscript>noscript@example.org</noscript>
            <p>visible@example.org</p>
            """)
        #expect(found == ["email=visible@example.org"])
    }

    @Test func offsetsAreScalarIndexesIntoTheText() throws {
        let page = AnalyzedPage(
            html: Array("<p>Café — écrivez à jeanne@example.fr</p>".utf8), url: "https://example.fr/", contentType: nil)
        let email = try #require(page.selectors.first { $0.kind == .email })
        let scalars = Array(page.text.unicodeScalars)
        let offset = try #require(email.offset)
        #expect(offset == 17)
        try #require(offset + 17 <= scalars.count)
        #expect(String(String.UnicodeScalarView(scalars[offset..<(offset + 17)])) == "jeanne@example.fr")
    }
}
