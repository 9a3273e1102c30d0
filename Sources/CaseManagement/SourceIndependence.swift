public import ChainOfCustody
import Foundation
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The Public Suffix List (https://publicsuffix.org/list/): the suffixes under
/// which anyone may register a name (`com`, `co.uk`, and private ones such as
/// `blogspot.com` or `github.io`), so that `a.b.example.co.uk` is known to belong
/// to `example.co.uk`, and `jane.blogspot.com` not to `blogspot.com`.
///
/// Read from Debian's `publicsuffix` package, never vendored: the list changes
/// and the system keeps it current. Both sections count (ICANN and private);
/// a rule is the text of a line up to its first whitespace (publicsuffix.org's
/// format), `*.` a wildcard label, `!` an exception. Rules in Unicode are kept
/// in their punycode form (`公司.cn` → `xn--55qx5d.cn`), the form hosts are
/// compared in.
public struct PublicSuffixList: Sendable {
    /// Where Debian's `publicsuffix` package installs the list.
    public static let systemPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    /// The sha256 of the file the rules came from (recorded with a corroboration,
    /// so the decision can be checked against the same list later).
    public let sha256: String
    /// Plain rules: `com`, `co.uk`, `blogspot.com`.
    private let rules: Set<String>
    /// Wildcard rules without their `*.`: `ck` for `*.ck`.
    private let wildcards: Set<String>
    /// Exception rules without their `!`: `www.ck` for `!www.ck`.
    private let exceptions: Set<String>

    /// How many rules the list holds.
    public var count: Int { rules.count + wildcards.count + exceptions.count }

    /// Parses the list's text. Lines are rules, `//` comments or blank.
    public init(text: String, sha256: String = "") {
        var rules = Set<String>(), wildcards = Set<String>(), exceptions = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) {
            guard let token = line.split(whereSeparator: \.isWhitespace).first, !token.hasPrefix("//") else { continue }
            var rule = Substring(token)
            let isException = rule.hasPrefix("!")
            if isException { rule = rule.dropFirst() }
            let isWildcard = rule.hasPrefix("*.")
            if isWildcard { rule = rule.dropFirst(2) }
            // A `*` anywhere but the leftmost label is not in the list's grammar as used.
            guard !rule.contains("*"), let ascii = HostName.ascii(String(rule)) else { continue }
            if isException { exceptions.insert(ascii) } else if isWildcard { wildcards.insert(ascii) } else { rules.insert(ascii) }
        }
        self.rules = rules
        self.wildcards = wildcards
        self.exceptions = exceptions
        self.sha256 = sha256
    }

    /// Reads the list at `path`. A missing or incomplete list is refused, never
    /// guessed at: without it, `a.example.com` and `b.example.com` would look like
    /// two sources.
    public static func load(path: String = systemPath) throws(ExhibitError) -> PublicSuffixList {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExhibitError(.storage, "The Public Suffix List is not installed at \(path), so independent sources cannot be told apart; install Debian's publicsuffix package (`apt-get install publicsuffix`, or `make deps`).")
        }
        let bytes = try AtomicFile.read(path)
        let text = String(decoding: bytes, as: UTF8.self)
        // The list ends with its private section; a file cut short lacks the last marker.
        let markers = ["===BEGIN ICANN DOMAINS===", "===END ICANN DOMAINS===", "===BEGIN PRIVATE DOMAINS===", "===END PRIVATE DOMAINS==="]
        guard markers.allSatisfy(text.contains) else {
            throw ExhibitError(.storage, "\(path) is not a complete Public Suffix List (its ICANN and private section markers are missing), so independent sources cannot be told apart; reinstall Debian's publicsuffix package.")
        }
        return PublicSuffixList(text: text, sha256: Digest.sha256Hex(bytes))
    }

    /// The public suffix of a host already in lower-case ASCII (``HostName/ascii(_:)``):
    /// the longest matching rule, an exception beating every other rule, and `*`
    /// (the last label) when nothing matches — publicsuffix.org's algorithm.
    public func publicSuffix(of host: String) -> String {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        func suffix(from index: Int) -> String { labels[index...].joined(separator: ".") }
        // An exception rule names a registrable domain: the public suffix is one label shorter.
        for index in labels.indices where exceptions.contains(suffix(from: index)) {
            return suffix(from: index + 1)
        }
        // Longest first: `a.b.example.co.uk` tries the whole host, then `b.example.co.uk` …
        for index in labels.indices {
            let candidate = suffix(from: index)
            if rules.contains(candidate) { return candidate }
            if index + 1 < labels.count, wildcards.contains(suffix(from: index + 1)) { return candidate }
        }
        return String(labels.last ?? "")
    }

    /// The registrable domain (eTLD+1) of a lower-case ASCII host: its public suffix
    /// and one label more; nil when the host is a public suffix itself (`co.uk`,
    /// `blogspot.com`, `localhost`).
    public func registrableDomain(of host: String) -> String? {
        let suffix = publicSuffix(of: host)
        guard host.count > suffix.count, host.hasSuffix("." + suffix) else { return nil }
        let rest = host.dropLast(suffix.count + 1)
        guard let label = rest.split(separator: ".", omittingEmptySubsequences: false).last, !label.isEmpty else { return nil }
        return label + "." + suffix
    }
}

/// Host names as sources compare them.
public enum HostName {
    /// The host of an absolute URL as the ledger records it (libcurl's normalised
    /// form): no user info, no port, IPv6 without brackets, percent-escapes decoded.
    public static func host(ofURL url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        var authority = rest[..<(rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex)]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority[..<(authority.lastIndex(of: ":") ?? authority.endIndex)]
        }
        let decoded = String(host).removingPercentEncoding ?? String(host)
        return decoded.isEmpty ? nil : decoded
    }

    /// A domain name in the form hosts are compared in: lower case, without a
    /// trailing dot, each label that is not ASCII compatibility-normalised
    /// (NFKC), lower-cased and punycoded (`Bücher.de` → `xn--bcher-kva.de`).
    /// Nil for an empty label. The full UTS #46 mapping (e.g. the ideographic full
    /// stop as a separator, deviation characters) is not applied: hosts come from
    /// URLs libcurl has parsed, and the list's own rules are in plain NFC.
    public static func ascii(_ name: String) -> String? {
        var name = Substring(name)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty else { return nil }
        var labels: [String] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { return nil }
            if label.allSatisfy(\.isASCII) {
                labels.append(label.lowercased())
            } else {
                guard let encoded = Punycode.encode(String(label).precomposedStringWithCompatibilityMapping.lowercased()) else { return nil }
                labels.append("xn--" + encoded)
            }
        }
        return labels.joined(separator: ".")
    }
}

/// Who served an artifact, as a finding's corroboration counts sources (DESIGN §23,
/// policy IV.B.10): two artifacts are independent when they come from different
/// sources and carry different payloads.
///
/// A source is an IP literal in canonical form (an IPv6 address that carries an
/// IPv4 address is that IPv4 address; ports never count), or a name's registrable
/// domain (Public Suffix List) after its leading `www.` and `m.` labels are
/// dropped; a name that is a public suffix itself (`localhost`, `blogspot.com`)
/// is its own source.
public struct SourceIndependence: Sendable {
    public let suffixes: PublicSuffixList

    public init(suffixes: PublicSuffixList) {
        self.suffixes = suffixes
    }

    /// With the list Debian's `publicsuffix` package installs; refuses without it.
    public static func system() throws(ExhibitError) -> SourceIndependence {
        SourceIndependence(suffixes: try PublicSuffixList.load())
    }

    /// The source a host belongs to; nil when it is not a host name or address.
    public func source(ofHost host: String) -> String? {
        var host = host
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let address = IPLiteral.canonical(host) { return address }
        guard var name = HostName.ascii(host) else { return nil }
        // A name that ends in a number is an IPv4 address in some spelling (WHATWG URL);
        // one no parser accepts is its own source, never split by the list's `*` rule.
        if let last = name.split(separator: ".").last, IPLiteral.looksNumeric(last) { return name }
        // `www.` and `m.` are the same site; dropped even down to a public suffix
        // (`www.blogspot.com` is Blogger's own site), which can only merge sources.
        while let dot = name.firstIndex(of: "."), ["www", "m"].contains(name[..<dot]) {
            name = String(name[name.index(after: dot)...])
        }
        return suffixes.registrableDomain(of: name) ?? name
    }

    /// The source an artifact's URL (its final URL, after redirects) belongs to.
    public func source(ofURL url: String) -> String? {
        HostName.host(ofURL: url).flatMap(source(ofHost:))
    }

    /// An artifact as corroboration judges it.
    public struct Artifact: Sendable, Hashable {
        public var id: String
        /// The URL it was served from (the final URL after redirects).
        public var url: String?
        public var payloadSHA256: String?

        public init(id: String, url: String?, payloadSHA256: String?) {
            self.id = id
            self.url = url
            self.payloadSHA256 = payloadSHA256
        }
    }

    /// Checks that a finding cites at least two artifacts (an artifact cited twice
    /// counts once) and that every two of them are independent (different sources,
    /// different payloads); returns each artifact's source. Throws one sentence
    /// naming the artifacts that share a source or a payload, and why.
    public func requireIndependent(_ artifacts: [Artifact], finding: String) throws(ExhibitError) -> [String: String] {
        let rule = "a corroboration needs artifacts from different hosts — different registrable domains (Public Suffix List, after IP-literal and www./m. normalisation, ports ignored) — with different payloads (IV.B.10, DESIGN §23)"
        var seen = Set<String>()
        let artifacts = artifacts.filter { seen.insert($0.id).inserted }
        guard artifacts.count >= 2 else {
            throw ExhibitError(.usage, "\(finding) cites \(artifacts.count) artifact\(artifacts.count == 1 ? "" : "s") and needs at least two to be corroborated; \(rule).")
        }
        var sources: [String: String] = [:]
        var hosts: [String: String] = [:]
        for artifact in artifacts {
            guard let url = artifact.url, let host = HostName.host(ofURL: url), let source = source(ofHost: host) else {
                throw ExhibitError(.usage, "\(finding) cannot be corroborated by \(artifact.id): no host can be read from its URL, so its source is unknown, and \(rule).")
            }
            guard let digest = artifact.payloadSHA256, digest.count == 64 else {
                throw ExhibitError(.usage, "\(finding) cannot be corroborated by \(artifact.id): its ledger entry records no payload digest, and \(rule).")
            }
            sources[artifact.id] = source
            hosts[artifact.id] = host
        }
        func list(_ items: [String]) -> String {
            items.count <= 2 ? items.joined(separator: " and ") : items.dropLast().joined(separator: ", ") + " and " + items.last!
        }
        // The first source, in citation order, that more than one artifact comes from.
        let ids = artifacts.map(\.id)
        let bySource = Dictionary(grouping: ids) { sources[$0]! }
        if let shared = ids.lazy.map({ sources[$0]! }).first(where: { bySource[$0]!.count > 1 }) {
            let group = bySource[shared]!
            let spellings = group.map { hosts[$0]! }
            let served = Set(spellings).count == 1 ? "all served by host \(spellings[0])" : "served by hosts " + list(spellings)
            throw ExhibitError(.usage, "\(finding) cannot be corroborated by \(list(group)): they are one source, \(shared) (\(served)), and \(rule).")
        }
        let digests = Dictionary(uniqueKeysWithValues: artifacts.map { ($0.id, $0.payloadSHA256!.lowercased()) })
        let byPayload = Dictionary(grouping: ids) { digests[$0]! }
        if let shared = ids.lazy.map({ digests[$0]! }).first(where: { byPayload[$0]!.count > 1 }) {
            let group = byPayload[shared]!
            throw ExhibitError(.usage, "\(finding) cannot be corroborated by \(list(group)): served by \(list(group.map { sources[$0]! })) they carry the same payload (sha256 \(shared.prefix(16))…), one page copied rather than independent sources, and \(rule).")
        }
        return sources
    }
}

/// IP literals in one spelling per address, so `[::ffff:127.0.0.2]`,
/// `[::ffff:7f00:2]` and `127.0.0.2` are one source. Parsed by the C library
/// (`inet_pton`, `inet_aton`), not by hand.
enum IPLiteral {
    /// The canonical text of an IP literal: dotted-quad IPv4; IPv6 per RFC 5952
    /// (lower case, longest zero run as `::`, zone id dropped). An IPv6 address
    /// that carries an IPv4 address — IPv4-mapped `::ffff:0:0/96`, IPv4-compatible
    /// `::/96`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`, the
    /// forms LawfulFetch's network policy judges by the IPv4 address inside
    /// (`IPAddress.IPv4Embedding`, which sits in a module above this one) — is that
    /// IPv4 address. Nil when `host` is not an IP literal.
    static func canonical(_ host: String) -> String? {
        if host.contains(":") {
            let address = host.split(separator: "%", maxSplits: 1).first.map(String.init) ?? host
            var bytes = [UInt8](repeating: 0, count: 16)
            guard inet_pton(AF_INET6, address, &bytes) == 1 else { return nil }
            if let inside = embeddedIPv4(bytes) { return inside.map(String.init).joined(separator: ".") }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, bytes, &text, socklen_t(text.count)) != nil else { return nil }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        // Decimal, octal and hex parts, 1 to 4 of them (`2130706434`, `0x7f.1`), as
        // libcurl and browsers read them; libcurl writes dotted quads to the ledger.
        var name = Substring(host)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard let last = name.split(separator: ".", omittingEmptySubsequences: false).last, looksNumeric(last),
              name.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == "x" || $0 == "X" }) else { return nil }
        var address = in_addr()
        guard inet_aton(String(name), &address) == 1 else { return nil }
        return withUnsafeBytes(of: address.s_addr) { $0.map(String.init).joined(separator: ".") }
    }

    /// Whether a label is a number (decimal, or hex with `0x`): a host ending in one
    /// is an IPv4 address, or invalid — never a domain name (WHATWG URL, "ends in a number").
    static func looksNumeric(_ label: Substring) -> Bool {
        if !label.isEmpty, label.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        let lower = label.lowercased()
        return lower.hasPrefix("0x") && lower.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    /// The IPv4 address inside an IPv6 address that carries one (see ``canonical(_:)``);
    /// `::` and `::1` carry none.
    static func embeddedIPv4(_ bytes: [UInt8]) -> ArraySlice<UInt8>? {
        let zeros10 = bytes[0..<10].allSatisfy { $0 == 0 }
        if zeros10, bytes[10] == 0xff, bytes[11] == 0xff { return bytes[12..<16] }                  // ::ffff:0:0/96
        if zeros10, bytes[10] == 0, bytes[11] == 0,
           !(bytes[12..<15].allSatisfy { $0 == 0 } && bytes[15] <= 1) { return bytes[12..<16] }      // ::/96
        if bytes[0..<12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return bytes[12..<16] }  // 64:ff9b::/96
        if bytes[0..<6] == [0, 0x64, 0xff, 0x9b, 0, 1] { return bytes[12..<16] }                    // 64:ff9b:1::/48
        if bytes[0] == 0x20, bytes[1] == 0x02 { return bytes[2..<6] }                               // 2002::/16
        return nil
    }
}

/// Punycode (RFC 3492 §6.3, encoding only): how IDNA writes a Unicode label in
/// ASCII, `bücher` → `bcher-kva` (the caller adds `xn--`).
enum Punycode {
    static func encode(_ label: String) -> String? {
        let base = 36, tMin = 1, tMax = 26
        let input = label.unicodeScalars.map { Int($0.value) }
        var output = String(String.UnicodeScalarView(label.unicodeScalars.filter(\.isASCII)))
        let basic = output.unicodeScalars.count
        if basic > 0 { output.append("-") }
        var n = 128, delta = 0, bias = 72, handled = basic
        func digit(_ value: Int) -> Character {
            Character(Unicode.Scalar(UInt8(value < 26 ? 97 + value : 22 + value)))
        }
        while handled < input.count {
            guard let next = input.filter({ $0 >= n }).min() else { return nil }
            let (step, overflow) = (next - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int(Int32.max) - step else { return nil }
            delta += step
            n = next
            for scalar in input {
                if scalar < n { delta += 1 }
                guard scalar == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, points: handled + 1, first: handled == basic)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// The bias adaptation of RFC 3492 §6.1.
    private static func adapt(_ delta: Int, points: Int, first: Bool) -> Int {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
