/// An IPv4 or IPv6 address as the bytes libcurl is about to connect to.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// 127.0.0.0/8 or `::1`: addresses only this machine reaches (the IPv4-mapped
    /// forms are not counted; a server binding to loopback takes one of these).
    public var isLoopback: Bool {
        bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::`, and an embedded IPv4 tail).
    public init?(_ text: String) {
        if let v4 = Self.parseIPv4(Substring(text)) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// For an IPv4-mapped IPv6 address (::ffff:a.b.c.d), the IPv4 address inside.
    public var mappedIPv4: IPAddress? {
        guard let inside = embeddedIPv4, inside.embedding == .mapped else { return nil }
        return inside.address
    }

    /// The ways an IPv6 address carries an IPv4 address that the network reaches
    /// in its place (DESIGN §6, §16): the policy judges such an address by the
    /// IPv4 address inside, so no spelling leads to a refused IPv4 destination.
    public enum IPv4Embedding: String, Sendable, CaseIterable {
        /// `::ffff:0:0/96` (RFC 4291 §2.5.5.2): the kernel connects to the IPv4 address.
        case mapped = "IPv4-mapped"
        /// `::/96` except `::` and `::1` (RFC 4291 §2.5.5.1, deprecated): tunnelled
        /// to the IPv4 address where a host still routes it (Linux `sit`).
        case compatible = "IPv4-compatible"
        /// `64:ff9b::/96` (RFC 6052): a NAT64 gateway connects to the IPv4 address.
        case nat64 = "NAT64"
        /// `64:ff9b:1::/48` (RFC 8215), IPv4 in the last 32 bits as under the
        /// well-known prefix (DESIGN §16; RFC 6052 would let an operator place it
        /// elsewhere, but a check must pick one reading).
        case localNAT64 = "local-use NAT64"
        /// `2002::/16` (RFC 3056): bits 16..47 are the IPv4 address of the 6to4 site.
        case sixToFour = "6to4"

        /// The IPv6 range whose addresses carry an IPv4 address this way.
        public var prefix: CIDR { Self.prefixes[self]! }

        /// Where the 32 bits of the IPv4 address start in the IPv6 address.
        public var firstIPv4Bit: Int { self == .sixToFour ? 16 : 96 }

        private static let prefixes: [IPv4Embedding: CIDR] = [
            .mapped: CIDR("::ffff:0:0/96")!, .compatible: CIDR("::/96")!, .nat64: CIDR("64:ff9b::/96")!,
            .localNAT64: CIDR("64:ff9b:1::/48")!, .sixToFour: CIDR("2002::/16")!,
        ]
    }

    /// An IPv4 address carried inside an IPv6 address, and how.
    public struct EmbeddedIPv4: Sendable, Hashable {
        public let embedding: IPv4Embedding
        public let address: IPAddress
    }

    /// For an IPv6 address that carries an IPv4 address (IPv4-mapped,
    /// IPv4-compatible, NAT64, 6to4), that IPv4 address. `::` and `::1` keep
    /// their own meaning (unspecified, loopback) and carry none.
    public var embeddedIPv4: EmbeddedIPv4? {
        guard bytes.count == 16 else { return nil }
        for embedding in IPv4Embedding.allCases where embedding.prefix.contains(self) {
            if embedding == .compatible && bytes[12..<15].allSatisfy({ $0 == 0 }) && bytes[15] <= 1 { return nil }
            let start = embedding.firstIPv4Bit / 8
            return EmbeddedIPv4(embedding: embedding, address: IPAddress(bytes: Array(bytes[start..<start + 4]))!)
        }
        return nil
    }

    /// The address, and for an IPv6 address carrying an IPv4 one, that one too:
    /// `64:ff9b::7f00:3 (NAT64 for 127.0.0.3)`.
    var explained: String {
        guard let inside = embeddedIPv4 else { return description }
        return "\(self) (\(inside.embedding.rawValue) for \(inside.address))"
    }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [UInt16] = []
        for index in stride(from: 0, to: 16, by: 2) {
            groups.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
        }
        // Longest run of zero groups (length ≥ 2) becomes "::" (RFC 5952).
        var bestStart = -1, bestLength = 0, index = 0
        while index < 8 {
            if groups[index] == 0 {
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > bestLength { bestStart = index; bestLength = end - index }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String { slice.map { String($0, radix: 16) }.joined(separator: ":") }
        if bestLength < 2 { return hex(groups[...]) }
        return hex(groups[0..<bestStart]) + "::" + hex(groups[(bestStart + bestLength)...])
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(part.count > 1 && part.first == "0"), let value = UInt8(part) else { return nil }
            result.append(value)
        }
        return result
    }

    private static func parseIPv6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }  // zone id
        guard text.contains(":") else { return nil }
        var tail: [UInt8] = []
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard let v4 = parseIPv4(text[text.index(after: lastColon)...]) else { return nil }
            tail = v4
            text = text[...lastColon]
            if text.hasSuffix(":") && !text.hasSuffix("::") { text = text.dropLast() }
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        let tailGroups = tail.count / 2
        var all: [UInt16]
        if halves.count == 2 {
            guard let rest = groups(halves[1]) else { return nil }
            let missing = 8 - tailGroups - head.count - rest.count
            guard missing >= 1 else { return nil }
            all = head + Array(repeating: 0, count: missing) + rest
        } else {
            all = head
            guard all.count + tailGroups == 8 else { return nil }
        }
        var bytes: [UInt8] = []
        for group in all { bytes += [UInt8(group >> 8), UInt8(group & 0xff)] }
        return bytes + tail
    }
}

/// An address range such as `127.0.0.2/32` or `fd00::/8`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(String(parts[0])) else { return nil }
        let maximum = address.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = maximum
        }
        network = address
    }

    /// The range of `prefixLength` bits starting at `network`, the bits after them cleared.
    init(masking network: IPAddress, to prefixLength: Int) {
        var bytes = network.bytes
        for index in bytes.indices {
            bytes[index] &= Self.mask(prefixLength, byte: index)
        }
        self.network = IPAddress(bytes: bytes)!
        self.prefixLength = prefixLength
    }

    /// Whether the address is in the range. An IPv4 range also holds the IPv6
    /// addresses that carry one of its addresses (``IPAddress/embeddedIPv4``):
    /// opening 127.0.0.3/32 opens `64:ff9b::7f00:3` too, and a refused IPv4
    /// range refuses every IPv6 spelling of its addresses. An IPv6 range holds
    /// IPv6 addresses only.
    public func contains(_ address: IPAddress) -> Bool {
        let candidate: IPAddress
        if address.bytes.count == network.bytes.count {
            candidate = address
        } else if network.isIPv4, let inside = address.embeddedIPv4 {
            candidate = inside.address
        } else {
            return false
        }
        return Self.samePrefix(candidate.bytes, network.bytes, bits: prefixLength)
    }

    /// Whether the two ranges share an address (same family only).
    public func overlaps(_ other: CIDR) -> Bool {
        network.bytes.count == other.network.bytes.count
            && Self.samePrefix(network.bytes, other.network.bytes, bits: min(prefixLength, other.prefixLength))
    }

    private static func mask(_ prefixLength: Int, byte index: Int) -> UInt8 {
        let bits = min(8, max(0, prefixLength - index * 8))
        return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bits))
    }

    private static func samePrefix(_ a: [UInt8], _ b: [UInt8], bits: Int) -> Bool {
        a.indices.allSatisfy { a[$0] & mask(bits, byte: $0) == b[$0] & mask(bits, byte: $0) }
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

/// The lawful-capture policy's network rule (IV.B.8, DESIGN §6): only public
/// addresses, unless the agency opened a range with a network override.
public struct NetworkPolicy: Sendable {
    /// A non-public range and what it is, for the refusal's reason.
    struct Range: Sendable {
        let cidr: CIDR
        let name: String
    }

    // IANA special-purpose registries (RFC 6890 and successors).
    static let nonPublic: [Range] = [
        ("0.0.0.0/8", "unspecified (this network)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved (IETF protocol assignments)"),
        ("192.0.2.0/24", "reserved (documentation)"),
        ("192.88.99.0/24", "reserved (6to4 relay)"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved (benchmarking)"),
        ("198.51.100.0/24", "reserved (documentation)"),
        ("203.0.113.0/24", "reserved (documentation)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("255.255.255.255/32", "broadcast"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("100::/64", "reserved (discard-only)"),
        ("2001::/23", "reserved (IETF protocol assignments)"),
        ("2001:db8::/32", "reserved (documentation)"),
        ("fc00::/7", "private (unique local)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "reserved (site-local)"),
        ("ff00::/8", "multicast"),
    ].map { Range(cidr: CIDR($0.0)!, name: $0.1) }
    // NAT64 (both prefixes), 6to4 and IPv4-compatible addresses are not listed:
    // the IPv4 ranges above judge them by the IPv4 address they carry (`CIDR.contains`).

    /// Teredo (RFC 4380): the IPv4 destination is obfuscated in the address and
    /// reached through a relay nobody here chose, so no check can see where a
    /// connection would end. Refused whatever range is opened.
    static let teredo = CIDR("2001::/32")!

    /// Ranges opened by network overrides.
    public let allowed: [CIDR]

    public init(allowed: [CIDR] = []) {
        self.allowed = allowed
    }

    public enum Decision: Sendable, Equatable {
        case allow
        case allowByOverride(CIDR)
        case refuse(String)
    }

    /// Decides on the address libcurl is about to connect to. An IPv6 address
    /// that carries an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4)
    /// is refused if either is non-public, and opened by an IPv4 range holding
    /// the IPv4 address inside or an IPv6 range holding the address itself.
    public func decide(_ address: IPAddress) -> Decision {
        if Self.teredo.contains(address) {
            return .refuse("\(address) is a Teredo address (\(Self.teredo)), whose IPv4 destination is hidden behind a relay; Exhibit never connects to one (policy IV.B.8)")
        }
        if let range = allowed.first(where: { $0.contains(address) }) {
            return .allowByOverride(range)
        }
        if let range = Self.nonPublic.first(where: { $0.cidr.contains(address) }) {
            return .refuse("\(address.explained) is a \(range.name) address (\(range.cidr)); Exhibit captures public pages only (policy IV.B.8) — an agency may open a range with a network override that gives a reason")
        }
        return .allow
    }
}

/// An agency's opening of address ranges for capture (a network override
/// of `exhibit capture`, DESIGN §6, §16), checked before anything is written: each
/// range opens at most a /8 of IPv4 or a /16 of IPv6 — counting, for an IPv6
/// range, the IPv4 addresses it reaches through IPv4-mapped, IPv4-compatible,
/// NAT64 and 6to4 addresses — and the reason says something. An override is for
/// an intranet or a test site; "everything" is not a range an agency owns.
public struct NetworkOverride: Sendable {
    /// The widest IPv4 range an override may open.
    public static let widestIPv4Prefix = 8
    /// The widest IPv6 range an override may open.
    public static let widestIPv6Prefix = 16

    public let ranges: [CIDR]
    /// Why the ranges are opened, as given (recorded in the ledger).
    public let reason: String

    public init(ranges texts: [String], reason: String?) throws(NetworkOverrideError) {
        var ranges: [CIDR] = []
        for text in texts {
            guard let range = CIDR(text) else { throw .notARange(text) }
            try Self.check(range, as: text)
            ranges.append(range)
        }
        guard let reason, !reason.allSatisfy(\.isWhitespace) else { throw .emptyReason() }
        guard !Self.hasControlCharacter(reason) else { throw .controlInReason() }
        self.ranges = ranges
        self.reason = reason
    }

    /// A reason is one line of text: it is recorded in the ledger and echoed as a
    /// `warc-fields` value, where a CR or LF would start a forged field.
    public static func hasControlCharacter(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    private static func check(_ range: CIDR, as text: String) throws(NetworkOverrideError) {
        let widest = range.network.isIPv4 ? widestIPv4Prefix : widestIPv6Prefix
        if range.prefixLength < widest {
            throw .tooWide(text, widest: widest, through: nil)
        }
        if range.network.isIPv4 { return }
        if range.prefixLength >= NetworkPolicy.teredo.prefixLength && NetworkPolicy.teredo.contains(range.network) {
            throw .opensOnlyTeredo(text)
        }
        for embedding in IPAddress.IPv4Embedding.allCases where range.overlaps(embedding.prefix) {
            // The IPv4 bits the range fixes; the others are open.
            let fixed = min(32, max(0, range.prefixLength - embedding.firstIPv4Bit))
            if fixed < widestIPv4Prefix {
                let start = embedding.firstIPv4Bit / 8
                let ipv4 = IPAddress(bytes: Array(range.network.bytes[start..<start + 4]))!
                throw .tooWide(text, widest: widestIPv4Prefix, through: .init(embedding: embedding, ipv4: CIDR(masking: ipv4, to: fixed)))
            }
        }
    }
}

/// Why a network override was refused, in the domain's words; the CLI says
/// which flag to change.
public struct NetworkOverrideError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        private enum Value: Hashable, Sendable { case notARange, tooWide, opensOnlyTeredo, emptyReason, controlInReason }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The text is not an address range.
        public static let notARange = Code(.notARange)
        /// The range opens more than a /8 of IPv4 or a /16 of IPv6.
        public static let tooWide = Code(.tooWide)
        /// The range lies inside Teredo, which is never connected to.
        public static let opensOnlyTeredo = Code(.opensOnlyTeredo)
        /// The reason is empty or only white space.
        public static let emptyReason = Code(.emptyReason)
        /// The reason holds a line break or another control character, which would
        /// forge fields of the warcinfo record that echoes it.
        public static let controlInReason = Code(.controlInReason)
    }

    public let code: Code
    /// The range as given; nil for the reason.
    public let range: String?
    /// For ``Code/tooWide``: the widest prefix allowed for the range's family
    /// (or, with ``reach``, for IPv4).
    public let widest: Int?
    /// The IPv4 addresses an IPv6 range reaches through one way of carrying them.
    public struct Reach: Sendable {
        public let embedding: IPAddress.IPv4Embedding
        public let ipv4: CIDR
    }

    /// For ``Code/tooWide`` through an IPv6 spelling of IPv4: how, and the IPv4 range reached.
    public let reach: Reach?
    /// One sentence: what is wrong.
    public let message: String

    public var description: String { message }

    static func notARange(_ text: String) -> Self {
        Self(code: .notARange, range: text, widest: nil, reach: nil,
             message: "\"\(text)\" is not an address range; a network override names ranges such as 127.0.0.2/32 or fd12:3456:789a::/48")
    }

    static func tooWide(_ text: String, widest: Int, through reach: Reach?) -> Self {
        let message: String
        if let reach {
            message = "a network override wider than /\(widest) of IPv4 would open far more than an agency's own network, and \(text) reaches \(reach.ipv4) through \(reach.embedding.rawValue) addresses"
        } else {
            message = "a network override wider than /\(widest) would open far more than an agency's own network, and \(text) is a /\(CIDR(text)?.prefixLength ?? 0)"
        }
        return Self(code: .tooWide, range: text, widest: widest, reach: reach, message: message)
    }

    static func opensOnlyTeredo(_ text: String) -> Self {
        Self(code: .opensOnlyTeredo, range: text, widest: nil, reach: nil,
             message: "\(text) lies inside Teredo (\(NetworkPolicy.teredo)), which is never connected to, so a network override of it would open nothing")
    }

    static func controlInReason() -> Self {
        Self(code: .controlInReason, range: nil, widest: nil, reach: nil,
             message: "the reason for a network override holds a line break or control character; it is one line, recorded in the ledger and the WARC file's warcinfo record")
    }

    static func emptyReason() -> Self {
        Self(code: .emptyReason, range: nil, widest: nil, reach: nil,
             message: "the reason for a network override is empty; it is recorded in the ledger and must say why the ranges are opened")
    }
}
