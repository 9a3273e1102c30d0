import Glibc

/// Ports on 127.0.0.1 that the kernel picks.
public enum LoopbackPort {
    /// Binds `fd`, an IPv4 stream socket, to a port the kernel chooses on 127.0.0.1
    /// (without listening) and returns that port; nil when `bind` or `getsockname`
    /// fails, errno then saying why. Chromium's refusing proxy port and the tests'
    /// free ports both start here.
    public static func bindEphemeral(_ fd: Int32) -> Int? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
