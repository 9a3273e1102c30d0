import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import LawfulFetch
import Testing

/// DESIGN §16 on §6: an IPv6 address that carries an IPv4 address is judged by the
/// IPv4 inside, Teredo is never connected to, and a network override can neither
/// open more than a /8 of IPv4 (or a /16 of IPv6) nor go without a reason.
/// No test here opens a socket: every decision is the policy's own.
@Suite("Lawful-capture policy: IPv4 inside IPv6, and the limits of an override")
struct EmbeddedIPv4PolicyTests {
    /// nil: public (allowed); otherwise words the refusal's reason must contain.
    @Test("an IPv6 address that embeds an IPv4 address is judged by the IPv4 inside", arguments: [
        // IPv4-compatible (::/96), in both spellings.
        ("::127.0.0.3", ["127.0.0.3", "loopback", "IPv4-compatible"]),
        ("::7f00:3", ["127.0.0.3", "loopback"]),
        ("::10.0.0.1", ["10.0.0.1", "private"]),
        ("::169.254.169.254", ["169.254.169.254", "link-local"]),
        ("::93.184.216.34", nil),
        // `::` and `::1` keep their own meaning.
        ("::", ["unspecified", "::/128"]),
        ("::1", ["loopback", "::1/128"]),
        // NAT64, well-known prefix (RFC 6052) and local-use prefix (RFC 8215).
        ("64:ff9b::7f00:3", ["127.0.0.3", "loopback", "NAT64"]),
        ("64:ff9b::127.0.0.3", ["127.0.0.3", "loopback"]),
        ("64:ff9b::c0a8:101", ["192.168.1.1", "private"]),
        ("64:ff9b::5db8:d822", nil),
        ("64:ff9b:1::7f00:3", ["127.0.0.3", "loopback", "NAT64"]),
        ("64:ff9b:1:abcd::a00:1", ["10.0.0.1", "private"]),
        ("64:ff9b:1::5db8:d822", nil),
        // 6to4 (RFC 3056): the IPv4 address is bits 16..47.
        ("2002:7f00:3::1", ["127.0.0.3", "loopback", "6to4"]),
        ("2002:a9fe:a9fe::", ["169.254.169.254", "link-local"]),
        ("2002:5db8:d822::1", nil),
        // Teredo (RFC 4380) is refused whatever it carries.
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ["Teredo", "2001::/32"]),
        ("2001:0:5db8:d822::5db8:d822", ["Teredo"]),
        // IPv4-mapped keeps working as before.
        ("::ffff:127.0.0.3", ["127.0.0.3", "loopback"]),
    ] as [(String, [String]?)])
    func judgedByTheIPv4Inside(address: String, refusal: [String]?) throws {
        let ip = try #require(IPAddress(address))
        let decision = NetworkPolicy().decide(ip)
        guard let refusal else {
            #expect(decision == .allow, "\(address): \(decision)")
            return
        }
        guard case .refuse(let reason) = decision else {
            Issue.record("\(address) must be refused, got \(decision)")
            return
        }
        for word in refusal {
            #expect(reason.contains(word), "\(address): \(reason)")
        }
        if address == "::1" {
            // IPv6 loopback, not the IPv4-compatible 0.0.0.1.
            #expect(!reason.contains("0.0.0.1") && !reason.contains("IPv4-compatible"), "\(reason)")
        }
    }

    @Test("an IPv4 override opens that IPv4 address in every IPv6 spelling, and nothing next to it")
    func ipv4OverrideOpensEmbeddedForms() throws {
        let opened = try #require(CIDR("127.0.0.3/32"))
        let policy = NetworkPolicy(allowed: [opened])
        for spelling in ["127.0.0.3", "::ffff:127.0.0.3", "::127.0.0.3", "64:ff9b::7f00:3", "64:ff9b:1::7f00:3", "2002:7f00:3::1"] {
            let ip = try #require(IPAddress(spelling))
            #expect(policy.decide(ip) == .allowByOverride(opened), "\(spelling)")
        }
        for neighbour in ["127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "::1", "2001:0:7f00:3::7f00:3"] {
            let ip = try #require(IPAddress(neighbour))
            if case .refuse = policy.decide(ip) {} else { Issue.record("\(neighbour) must stay refused: \(policy.decide(ip))") }
        }
    }

    @Test("an IPv6 override matches the IPv6 address itself, not the plain IPv4 one or another spelling")
    func ipv6OverrideMatchesItself() throws {
        let nat64 = try #require(CIDR("64:ff9b::7f00:3/128"))
        let sixToFour = try #require(CIDR("2002:7f00::/24"))
        let policy = NetworkPolicy(allowed: [nat64, sixToFour])
        #expect(policy.decide(try #require(IPAddress("64:ff9b::7f00:3"))) == .allowByOverride(nat64))
        #expect(policy.decide(try #require(IPAddress("2002:7f09:1::1"))) == .allowByOverride(sixToFour))
        for other in ["127.0.0.3", "::127.0.0.3", "64:ff9b::7f00:4", "::ffff:127.0.0.3"] {
            let ip = try #require(IPAddress(other))
            if case .refuse = policy.decide(ip) {} else { Issue.record("\(other) must stay refused: \(policy.decide(ip))") }
        }
    }

    @Test("no override opens a Teredo address")
    func teredoIsNeverOpened() throws {
        let teredo = try #require(IPAddress("2001:0:4136:e378:8000:63bf:3fff:fdd2"))
        for range in ["2001::/16", "2001:0:4136:e378::/64", "2001:0:4136:e378:8000:63bf:3fff:fdd2/128", "192.0.2.45/32"] {
            let policy = NetworkPolicy(allowed: [try #require(CIDR(range))])
            guard case .refuse(let reason) = policy.decide(teredo) else {
                Issue.record("\(range) must not open a Teredo address")
                continue
            }
            #expect(reason.contains("Teredo"), "\(reason)")
        }
    }

    /// The job is asked for an `ftp:` URL, which the policy refuses without any
    /// network: an accepted override ends in a policy refusal (exit 3), a
    /// rejected one in a usage error before anything is written.
    /// nil: accepted; otherwise words the usage error must contain.
    @Test("an override wider than /8 (IPv4) or /16 (IPv6), reaching that much IPv4 inside IPv6, or inside Teredo, is a usage error", arguments: [
        ("0.0.0.0/0", "wider than /8"), ("10.0.0.0/7", "wider than /8"), ("::/0", "wider than /16"), ("fd00::/8", "wider than /16"),
        ("2001::/15", "wider than /16"), ("64:ff9b::/96", "0.0.0.0/0 through NAT64"), ("64:ff9b::/32", "wider than /8 of IPv4"),
        ("64:ff9b:1::/48", "through local-use NAT64"), ("::/96", "through IPv4-compatible"), ("::ffff:0:0/96", "through IPv4-mapped"),
        ("2002::/16", "through 6to4"), ("2002:7f00::/23", "126.0.0.0/7 through 6to4"), ("::/17", "wider than /8 of IPv4"),
        ("2001:0:4136::/48", "Teredo"),
        ("10.0.0.0/8", nil), ("127.0.0.2/32", nil), ("2001:db8::/16", nil), ("fd12:3456:789a::/48", nil),
        ("64:ff9b::7f00:0/104", nil), ("2002:7f00::/24", nil), ("::ffff:10.0.0.0/104", nil), ("::1/128", nil),
    ] as [(String, String?)])
    func overrideWidth(range: String, refusal: String?) async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let before = try ws.entries(caseID).count
        var options = CaptureOptions(urls: ["ftp://127.0.0.1/x"])
        options.allowNetworks = [range]
        options.allowReason = "agency intranet"
        let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
        do {
            let report = try await Blocking.run { try job.run() }
            #expect(refusal == nil, "\(range) must be refused")
            #expect(report.exitCode == .policyRefusal)
        } catch let error as ExhibitError {
            let words = try #require(refusal, "\(range) must be accepted: \(error.message)")
            #expect(error.code == .usage)
            #expect(error.message.contains(words), "\(error.message)")
            #expect(!error.message.contains("--"), "a library error speaks the domain, not flags: \(error.message)")
            #expect(try ws.entries(caseID).count == before)
        }
    }

    @Test("an override whose reason is empty or only white space is a usage error", arguments: ["", "   ", "\t\n", "\u{00A0}\u{2003}"])
    func blankReason(reason: String) async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let before = try ws.entries(caseID).count
        var options = CaptureOptions(urls: ["ftp://127.0.0.1/x"])
        options.allowNetworks = ["127.0.0.2/32"]
        options.allowReason = reason
        let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
        do {
            _ = try await Blocking.run { try job.run() }
            Issue.record("a blank reason must be refused")
        } catch let error as ExhibitError {
            #expect(error.code == .usage)
            #expect(error.message.contains("the reason for a network override is empty"), "\(error.message)")
            #expect(!error.message.contains("--"), "\(error.message)")
        }
        #expect(try ws.entries(caseID).count == before)
    }
}
