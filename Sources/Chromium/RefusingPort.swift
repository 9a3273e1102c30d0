public import ChainOfCustody
import Foundation

/// A loopback TCP port that is bound but never listens, so every connection to it
/// is refused at once. Given to Chromium as its proxy, it leaves the browser no
/// network of its own: anything the DevTools interception does not answer fails
/// there instead of reaching a server. Holding the socket keeps anyone else from
/// listening on that port while Chromium runs.
public final class RefusingPort {
    public let port: Int
    private let fd: Int32

    public init() throws(ExhibitError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot create a socket for Chromium's closed proxy port") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            let error = AtomicFile.posixError("Cannot bind a loopback port for Chromium's closed proxy")
            close(fd)
            throw error
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

@available(*, unavailable)
extension RefusingPort: Sendable {}
