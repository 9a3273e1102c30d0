import CaseManagement
import ChainOfCustody
import Foundation
import Testing

/// What counts as one source when a finding is corroborated (DESIGN §23, issue 26
/// route 9): registrable domains by the Public Suffix List that Debian's
/// `publicsuffix` package installs, after IP-literal and `www.`/`m.` normalisation.
@Suite("independent sources")
struct SourceIndependenceTests {
    /// The system list; a missing list fails the suite rather than skipping it.
    static let system: SourceIndependence = {
        do { return try SourceIndependence.system() } catch { fatalError("\(error) — `make deps` installs it") }
    }()

    func registrable(_ host: String) -> String? {
        HostName.ascii(host).flatMap(Self.system.suffixes.registrableDomain(of:))
    }

    func source(_ host: String) -> String? { Self.system.source(ofHost: host) }

    @Test("registrable domains: ICANN rules, the private section, wildcards and exceptions (publicsuffix.org's own test cases)")
    func registrableDomains() throws {
        #expect(Self.system.suffixes.count > 9000)
        #expect(Self.system.suffixes.sha256 == Digest.sha256Hex(try AtomicFile.read(PublicSuffixList.systemPath)))
        let cases: [(String, String?)] = [
            ("example.com", "example.com"), ("www.example.com", "example.com"), ("m.example.com", "example.com"),
            ("WwW.Example.COM.", "example.com"), ("a.b.example.co.uk", "example.co.uk"), ("co.uk", nil), ("com", nil),
            // blogspot.com is in the private section: each blog is its own registrable domain.
            ("foo.blogspot.com", "foo.blogspot.com"), ("a.foo.blogspot.com", "foo.blogspot.com"), ("blogspot.com", nil),
            ("localhost", nil), ("b.example.uk.com", "example.uk.com"), ("test.ac", "test.ac"),
            // *.ck with !www.ck; *.kobe.jp with !city.kobe.jp; *.mm.
            ("test.ck", nil), ("b.test.ck", "b.test.ck"), ("www.ck", "www.ck"), ("www.www.ck", "www.ck"),
            ("c.kobe.jp", nil), ("b.c.kobe.jp", "b.c.kobe.jp"), ("city.kobe.jp", "city.kobe.jp"), ("www.city.kobe.jp", "city.kobe.jp"),
            ("c.mm", nil), ("b.c.mm", "b.c.mm"), ("k12.ak.us", nil), ("test.k12.ak.us", "test.k12.ak.us"),
            // The list's rules are Unicode; hosts of either spelling compare in punycode.
            ("食狮.公司.cn", "xn--85x722f.xn--55qx5d.cn"), ("xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"),
            ("shishi.xn--55qx5d.cn", "shishi.xn--55qx5d.cn"), ("xn--55qx5d.cn", nil), ("公司.cn", nil),
            // No rule matches: the default rule `*` makes the last label the suffix.
            ("example.unlisted-tld", "example.unlisted-tld"),
        ]
        for (host, expected) in cases {
            #expect(registrable(host) == expected, "\(host)")
        }
    }

    @Test("punycode (RFC 3492 §7.1 samples) for IDN labels")
    func punycode() {
        #expect(HostName.ascii("Bücher.DE") == "xn--bcher-kva.de")
        #expect(HostName.ascii("他们为什么不说中文") == "xn--ihqwcrb4cv8a8dqg056pqjye")
        #expect(HostName.ascii("3年B組金八先生") == "xn--3b-ww4c5e180e575a65lsy2b")
        #expect(HostName.ascii("a..b") == nil)
    }

    @Test("sources: www./m. dropped, names by registrable domain, IP literals in one spelling, ports ignored")
    func sources() {
        for host in ["example.com", "www.example.com", "m.example.com", "WWW.Example.COM.", "www.m.shop.example.com"] {
            #expect(source(host) == "example.com", "\(host)")
        }
        #expect(source("a.b.example.co.uk") == "example.co.uk")
        #expect(source("foo.blogspot.com") == "foo.blogspot.com")
        #expect(source("foo.blogspot.com") != source("bar.blogspot.com"))
        // www./m. are dropped even down to a public suffix (only ever merging sources).
        #expect(source("www.blogspot.com") == "blogspot.com" && source("m.blogspot.com") == "blogspot.com")
        #expect(source("localhost") == "localhost" && source("www.localhost") == "localhost")
        // One address, many spellings: IPv4-mapped, IPv6 in any form, numeric IPv4 forms, NAT64.
        for host in ["127.0.0.2", "::ffff:127.0.0.2", "[::ffff:127.0.0.2]", "[::ffff:7f00:2]", "[::FFFF:7F00:2]",
                     "0:0:0:0:0:ffff:7f00:2", "2130706434", "0x7f.0.0.2", "64:ff9b::7f00:2"] {
            #expect(source(host) == "127.0.0.2", "\(host)")
        }
        // Each address is its own source; the list's `*` rule never splits an address into labels.
        #expect(source("127.0.0.1") == "127.0.0.1")
        #expect(source("10.0.0.2") == "10.0.0.2")
        #expect(source("999.0.0.2") == "999.0.0.2")
        #expect(source("[2001:DB8:0:0:0:0:0:1]") == "2001:db8::1")
        #expect(source("fe80::1%eth0") == "fe80::1")
        #expect(source("::1") == "::1")
        // From URLs: user info and ports are not part of the source.
        #expect(Self.system.source(ofURL: "http://user@[::ffff:127.0.0.2]:8001/x") == "127.0.0.2")
        #expect(Self.system.source(ofURL: "https://M.Example.com:8443/a?b#c") == "example.com")
        #expect(Self.system.source(ofURL: "not a url") == nil)
    }

    func artifact(_ id: String, _ url: String, _ digestSeed: String) -> SourceIndependence.Artifact {
        .init(id: id, url: url, payloadSHA256: Digest.sha256Hex(digestSeed))
    }

    @Test("requireIndependent: one source or one payload is refused in one sentence naming the artifacts and why")
    func requireIndependent() throws {
        let judge = Self.system
        // Same server, two spellings of its address.
        do {
            _ = try judge.requireIndependent([artifact("A-0001", "http://127.0.0.2:8001/x", "one"),
                                              artifact("A-0002", "http://[::ffff:127.0.0.2]:8001/x", "two")], finding: "F-001")
            Issue.record("accepted one server as two sources")
        } catch {
            #expect(error.code == .usage)
            #expect(error.message.hasPrefix("F-001 cannot be corroborated by A-0001 and A-0002: they are one source, 127.0.0.2 (served by hosts 127.0.0.2 and ::ffff:127.0.0.2)"), "\(error.message)")
            #expect(error.message.hasSuffix("(IV.B.10, DESIGN §23).") && !error.message.contains("\n"), "one sentence: \(error.message)")
        }
        // Same registrable domain: three artifacts, two from one site.
        do {
            _ = try judge.requireIndependent([artifact("A-0001", "https://news.example.org/a", "a"),
                                              artifact("A-0002", "https://www.bbc.co.uk/b", "b"),
                                              artifact("A-0003", "https://m.bbc.co.uk/c", "c")], finding: "F-002")
            Issue.record("accepted two pages of one site")
        } catch {
            #expect(error.message.contains("by A-0002 and A-0003: they are one source, bbc.co.uk (served by hosts www.bbc.co.uk and m.bbc.co.uk)"), "\(error.message)")
        }
        // Different sources, one payload.
        do {
            _ = try judge.requireIndependent([artifact("A-0001", "http://127.0.0.1:8001/x", "same"),
                                              artifact("A-0002", "http://127.0.0.2:8001/x", "same")], finding: "F-003")
            Issue.record("accepted a copied page as a second source")
        } catch {
            #expect(error.message.contains("A-0001 and A-0002: served by 127.0.0.1 and 127.0.0.2 they carry the same payload (sha256 \(Digest.sha256Hex("same").prefix(16))…)"), "\(error.message)")
        }
        // One artifact, even cited twice, is not two.
        do {
            _ = try judge.requireIndependent([artifact("A-0001", "https://a.example/x", "a"), artifact("A-0001", "https://a.example/x", "a")], finding: "F-004")
            Issue.record("accepted one artifact")
        } catch {
            #expect(error.message.hasPrefix("F-004 cites 1 artifact and needs at least two"), "\(error.message)")
        }
        // Independent: different registrable domains (a private-section one included), different payloads.
        let sources = try judge.requireIndependent([artifact("A-0001", "https://jane.blogspot.com/p", "1"),
                                                    artifact("A-0002", "https://john.blogspot.com/p", "2"),
                                                    artifact("A-0003", "https://www.example.co.uk/p", "3")], finding: "F-005")
        #expect(sources == ["A-0001": "jane.blogspot.com", "A-0002": "john.blogspot.com", "A-0003": "example.co.uk"])
    }

    @Test("without a complete list, corroboration is refused with a sentence, never guessed")
    func missingList() throws {
        do {
            _ = try PublicSuffixList.load(path: "/nonexistent/public_suffix_list.dat")
            Issue.record("loaded a list that is not there")
        } catch {
            #expect(error.code == .storage)
            #expect(error.message.contains("Public Suffix List is not installed at /nonexistent/public_suffix_list.dat") && error.message.contains("publicsuffix"), "\(error.message)")
        }
        // A list cut short (no end of its private section) is refused too.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("psl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let full = String(decoding: try AtomicFile.read(PublicSuffixList.systemPath), as: UTF8.self)
        let cut = directory.appendingPathComponent("cut.dat").path
        try Data(full.prefix(full.count / 2).utf8).write(to: URL(fileURLWithPath: cut))
        do {
            _ = try PublicSuffixList.load(path: cut)
            Issue.record("loaded half a list")
        } catch {
            #expect(error.message.contains("is not a complete Public Suffix List"), "\(error.message)")
        }
    }
}
