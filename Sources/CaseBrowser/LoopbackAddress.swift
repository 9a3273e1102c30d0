public import ChainOfCustody
public import LoopbackServer

/// The address the case browser listens on: the one loopback rule (``LoopbackHost``),
/// an address literal in 127.0.0.0/8 or the IPv6 loopback `::1`, and nothing else.
///
/// The browser shows evidence and can export it, so it must be reachable from
/// this machine only. Host names are refused too, `localhost` included: a name
/// is whatever the resolver says, and the check must hold for the address that
/// is actually bound.
public struct LoopbackAddress: Sendable, Equatable, CustomStringConvertible {
    /// The checked address.
    public let host: LoopbackHost
    /// The address as written for binding (`127.0.0.1`, `::1`).
    public var address: String { host.address }
    public var isIPv6: Bool { host.isIPv6 }

    /// Checks `text` before anything is bound; a usage error (exit 2) in one
    /// sentence otherwise.
    public init(_ text: String) throws(ExhibitError) {
        guard let host = LoopbackHost(text) else { throw Self.refusal(text) }
        self.host = host
    }

    static func refusal(_ text: String) -> ExhibitError {
        ExhibitError(.usage, "exhibit serve listens on loopback only (an address in 127.0.0.0/8, or ::1), not on \"\(text)\"; evidence is never served to the network.")
    }

    /// The address as it appears in a URL's authority (`[::1]` for IPv6).
    public var urlHost: String { host.urlHost }

    public var description: String { address }
}
