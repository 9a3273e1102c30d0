import ExhibitTestSupport
import Foundation
import Testing

/// `exhibit serve` through the real binary: it refuses any address but
/// loopback before binding, prints its URL as the first line, serves, and
/// stops cleanly on SIGINT.
@Suite("exhibit serve")
struct ServeCommandTests {
    let exhibit = ExhibitProcess()

    @Test("a non-loopback --bind is refused with exit 2 and one sentence; a bad port too")
    func refusesNonLoopback() throws {
        let ws = try TestWorkspace()
        let base = ["--workspace", ws.root, "--actor", ws.investigatorID, "--port", "0"]
        for address in ["0.0.0.0", "192.168.1.10", "::", "localhost", "8.8.8.8"] {
            let result = try exhibit.run(["serve", "--bind", address] + base)
            #expect(result.status == 2, "\(address): \(result.status) \(result.stderr)")
            #expect(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "one sentence: \(result.stderr)")
            #expect(result.stderr.contains("loopback only"))
        }
        let port = try exhibit.run(["serve", "--workspace", ws.root, "--actor", ws.investigatorID, "--port", "70000"])
        #expect(port.status == 2, "\(port.stderr)")
    }

    @Test("serves on a free port, prints the URL first, answers, and stops on SIGINT with exit 0")
    func servesAndStops() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let process = try exhibit.command(["serve", "--port", "0", "--workspace", ws.root, "--actor", ws.investigatorID],
                                          stderr: .discard).start()
        defer { if process.isRunning { process.killAndWait() } }
        let line = try await Blocking.run { process.firstLine() ?? "" }
        let match = try #require(line.firstMatch(of: /^Serving (http:\/\/127\.0\.0\.1:(\d+)\/) — Ctrl-C to stop$/), "first line: \(line)")
        let port = Int(match.output.2) ?? 0
        let page: String = try await Blocking.run { try fetch(port: port) }
        #expect(page.hasPrefix("HTTP/1.1 200"), "\(page.prefix(200))")
        #expect(page.contains(caseID))
        process.signal(SIGINT)
        let end = try await process.waitAsync(timeout: .seconds(15))
        #expect(!end.timedOut, "exhibit serve did not stop within 15 s of SIGINT")
        if !end.timedOut { #expect(end.status == 0 && !end.signalled, "\(end.status)") }
    }

    /// GET `/` over a socket; returns the whole answer as text.
    func fetch(port: Int) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "" }
        let request = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
