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
        guard let port = LoopbackPort.bindEphemeral(fd) else {
            let error = AtomicFile.posixError("Cannot bind a loopback port for Chromium's closed proxy")
            close(fd)
            throw error
        }
        self.fd = fd
        self.port = port
    }

    deinit { close(fd) }
}

@available(*, unavailable)
extension RefusingPort: Sendable {}
