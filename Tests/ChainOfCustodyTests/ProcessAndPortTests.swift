import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// The two thin wrappers over POSIX calls that the media tools, Chromium and the
/// tests share: `ChildSpawn` (own process group, SIGPIPE at its default, descriptors
/// as asked) and `LoopbackPort` (a port the kernel picks on 127.0.0.1, held while bound).
@Suite("child spawn and loopback ports")
struct ProcessAndPortTests {
    @Test("a spawned child leads its own process group, has SIGPIPE at its default and writes where its fd 1 was sent")
    func spawnedChild() throws {
        let directory = TemporaryDirectory("spawn")
        defer { withExtendedLifetime(directory) {} }
        let output = directory.child("out")
        // The parent ignores SIGPIPE, as the CLI does; the child must not inherit that.
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        // $$ is the shell's pid; ps -o pgid= its process group; SigIgn's mask bit 13 is SIGPIPE.
        let script = #"echo "$$ $(ps -o pgid= -p $$ | tr -d ' ') $(awk '/^SigIgn/ {print $2}' /proc/self/status)""#
        let (child, status) = ChildSpawn.spawn("/bin/sh", argv: ["sh", "-c", script], fileActions: [
            .open(0, path: "/dev/null", flags: O_RDONLY), .open(1, path: output, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600),
        ])
        #expect(status == 0)
        var waitStatus: Int32 = 0
        while waitpid(child, &waitStatus, 0) < 0 && errno == EINTR {}
        let words = try String(contentsOfFile: output, encoding: .utf8).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(words.count == 3)
        #expect(words[0] == String(child))
        #expect(words[1] == String(child), "the child is not the leader of its own process group")
        let ignored = UInt64(words[2], radix: 16) ?? .max
        #expect(ignored & (1 << (UInt64(SIGPIPE) - 1)) == 0, "the child inherited SIGPIPE ignored")
    }

    @Test("a missing program is posix_spawn's errno, not a crash")
    func missingProgram() {
        let (_, status) = ChildSpawn.spawn("/nonexistent/program", argv: ["program"], fileActions: [])
        #expect(status == ENOENT)
    }

    @Test("a bound loopback port is a real port, held while the socket is open")
    func loopbackPort() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        let port = try #require(LoopbackPort.bindEphemeral(fd))
        #expect((1024...65535).contains(port))
        // A second socket cannot take the same port while the first holds it.
        let other = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(other >= 0)
        defer { close(other) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(other, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound != 0 && errno == EADDRINUSE)
        // A socket already bound cannot be bound again: nil, with errno saying why.
        #expect(LoopbackPort.bindEphemeral(fd) == nil)
    }
}
