public import ChainOfCustody
import Glibc

/// The address the case browser listens on: an IPv4 address in 127.0.0.0/8 or
/// the IPv6 loopback `::1`, and nothing else.
///
/// The browser shows evidence and can export it, so it must be reachable from
/// this machine only. Host names are refused too, `localhost` included: a name
/// is whatever the resolver says, and the check must hold for the address that
/// is actually bound.
public struct LoopbackAddress: Sendable, Equatable, CustomStringConvertible {
    /// The address as written for binding (`127.0.0.1`, `::1`).
    public let address: String
    public let isIPv6: Bool

    /// Checks `text` before anything is bound; a usage error (exit 2) in one
    /// sentence otherwise.
    public init(_ text: String) throws(ExhibitError) {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        if inet_pton(AF_INET, text, &ipv4) == 1 {
            // s_addr is in network byte order: its first byte in memory is the first octet.
            let firstOctet = withUnsafeBytes(of: ipv4.s_addr) { $0[0] }
            guard firstOctet == 127 else { throw Self.refusal(text) }
            address = text
            isIPv6 = false
        } else if inet_pton(AF_INET6, text, &ipv6) == 1 {
            let bytes = withUnsafeBytes(of: ipv6) { Array($0) }
            guard bytes == [UInt8](repeating: 0, count: 15) + [1] else { throw Self.refusal(text) }
            address = "::1"
            isIPv6 = true
        } else {
            throw Self.refusal(text)
        }
    }

    static func refusal(_ text: String) -> ExhibitError {
        ExhibitError(.usage, "exhibit serve listens on loopback only (an address in 127.0.0.0/8, or ::1), not on \"\(text)\"; evidence is never served to the network.")
    }

    /// The address as it appears in a URL's authority (`[::1]` for IPv6).
    public var urlHost: String { isIPv6 ? "[\(address)]" : address }

    public var description: String { address }
}
