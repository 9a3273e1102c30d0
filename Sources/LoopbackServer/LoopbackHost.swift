import Glibc

/// An address a loopback server may bind: an IPv4 literal in 127.0.0.0/8 or the
/// IPv6 loopback `::1`, and nothing else.
///
/// This is the one loopback rule for every server Exhibit starts (the demo and
/// fixture site, replay, the case browser). Host names are refused, `localhost`
/// included: a name is whatever the resolver says (some map it to `::1`, some to
/// `127.0.1.1`, a hostile /etc/hosts to anything), and the check must hold for the
/// address that is actually bound. A literal leaves nothing to resolve.
///
/// ```swift
/// LoopbackHost("127.0.0.2")?.urlHost   // "127.0.0.2"
/// LoopbackHost("::1")?.urlHost         // "[::1]"
/// LoopbackHost("localhost")            // nil
/// ```
public struct LoopbackHost: Sendable, Hashable, CustomStringConvertible {
    /// The address as written for binding (`127.0.0.1`, `::1`).
    public let address: String
    public let isIPv6: Bool

    /// nil unless `text` is an address literal in 127.0.0.0/8 or `::1` (in any of its spellings,
    /// kept as `::1`).
    public init?(_ text: String) {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        if inet_pton(AF_INET, text, &ipv4) == 1 {
            // s_addr is in network byte order: its first byte in memory is the first octet.
            let firstOctet = withUnsafeBytes(of: ipv4.s_addr) { $0[0] }
            guard firstOctet == 127 else { return nil }
            address = text
            isIPv6 = false
        } else if inet_pton(AF_INET6, text, &ipv6) == 1 {
            let bytes = withUnsafeBytes(of: ipv6) { Array($0) }
            guard bytes == [UInt8](repeating: 0, count: 15) + [1] else { return nil }
            address = "::1"
            isIPv6 = true
        } else {
            return nil
        }
    }

    /// The address as it appears in a URL's authority (`[::1]` for IPv6).
    public var urlHost: String { isIPv6 ? "[\(address)]" : address }

    public var description: String { address }
}
