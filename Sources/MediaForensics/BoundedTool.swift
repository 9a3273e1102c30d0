public import ChainOfCustody
import Foundation
import Glibc

/// Runs an outside tool (exiftool, ffprobe, ffmpeg) on evidence it must not be
/// trusted with: under `prlimit` (util-linux) with an address-space and a CPU-time
/// limit, a wall-clock deadline after which the process group is killed, and a cap
/// on what it may print. A hostile file can make the tool fail; it cannot hang or
/// exhaust the capture that called it.
public struct BoundedTool: Sendable {
    public struct Limits: Sendable {
        /// Address space (virtual memory) in bytes (`prlimit --as`).
        public var memoryBytes: Int
        /// CPU seconds (`prlimit --cpu`).
        public var cpuSeconds: Int
        /// Wall-clock seconds before the tool is killed.
        public var wallSeconds: Double
        /// Bytes of standard output kept; past this the tool is killed.
        public var outputBytes: Int

        public init(memoryBytes: Int, cpuSeconds: Int, wallSeconds: Double, outputBytes: Int) {
            self.memoryBytes = memoryBytes
            self.cpuSeconds = cpuSeconds
            self.wallSeconds = wallSeconds
            self.outputBytes = outputBytes
        }

        /// For a metadata tool: 1 GiB, 20 s CPU, 30 s, 16 MiB of JSON.
        public static let metadata = Limits(memoryBytes: 1 << 30, cpuSeconds: 20, wallSeconds: 30, outputBytes: 16 << 20)
    }

    /// How a run ended.
    public struct Outcome: Sendable {
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// The exit status, or nil when killed by a signal.
        public var exitStatus: Int32?
        public var signal: Int32?
        /// Killed for passing the wall-clock deadline.
        public var timedOut = false
        /// Killed for printing more than the output cap.
        public var outputCapped = false

        /// Nil when the tool exited 0; otherwise why not, in a few words.
        public var failure: String? {
            if timedOut { return "timed out" }
            if outputCapped { return "printed more than the output limit" }
            if let signal {
                switch signal {
                case SIGXCPU: return "CPU time limit reached"
                case SIGKILL: return "killed (CPU or memory limit)"
                case SIGSEGV, SIGABRT: return "crashed (signal \(signal)); the memory limit may have been reached"
                default: return "killed by signal \(signal)"
                }
            }
            if let exitStatus, exitStatus != 0 {
                let text = String(decoding: stderr.prefix(300), as: UTF8.self)
                    .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                return "exit status \(exitStatus)" + (text.isEmpty ? "" : ": " + text)
            }
            return nil
        }
    }

    public var limits: Limits

    public init(limits: Limits = .metadata) {
        self.limits = limits
    }

    /// The first executable named `name` on PATH (then /usr/bin, /bin), or nil.
    public static func locate(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin"] where !directory.isEmpty {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs `tool` with `arguments` and returns what it printed and how it ended.
    /// `onOutput`, when given, receives standard output as it arrives instead of
    /// collecting it (a frame stream), and may return false to stop the tool.
    /// Throws only when the tool or prlimit cannot be started at all.
    public func run(_ tool: String, _ arguments: [String],
                    onOutput: ((UnsafeRawBufferPointer) -> Bool)? = nil) throws(ExhibitError) -> Outcome {
        guard let executable = Self.locate(tool) else {
            throw ExhibitError(.storage, "\(tool) is not installed; install it (make deps) to analyse media.")
        }
        guard let prlimit = Self.locate("prlimit") else {
            throw ExhibitError(.storage, "prlimit (util-linux) is not installed; it bounds the media tools' memory and CPU.")
        }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard Self.pipeCloseOnExec(&outPipe) else { throw AtomicFile.posixError("Cannot create a pipe for \(tool)") }
        guard Self.pipeCloseOnExec(&errPipe) else {
            close(outPipe[0]); close(outPipe[1])
            throw AtomicFile.posixError("Cannot create a pipe for \(tool)")
        }
        // Its own process group (ChildSpawn), so a deadline kills whatever the tool started too.
        let argv = [prlimit, "--as=\(limits.memoryBytes)", "--cpu=\(limits.cpuSeconds)", "--", executable] + arguments
        let (child, status) = ChildSpawn.spawn(prlimit, argv: argv, fileActions: [
            .open(0, path: "/dev/null", flags: O_RDONLY), .duplicate(outPipe[1], to: 1), .duplicate(errPipe[1], to: 2),
        ])
        close(outPipe[1])
        close(errPipe[1])
        guard status == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw ExhibitError(.storage, "Cannot start \(tool) through prlimit: \(String(cString: strerror(status))).")
        }
        var outcome = Outcome(stdout: [], stderr: [], exitStatus: nil, signal: nil)
        let deadline = Self.now() + limits.wallSeconds
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var stopped = false
        while !open.isEmpty {
            let remaining = deadline - Self.now()
            if remaining <= 0 {
                outcome.timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000, 1000)) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count < 0 && errno == EINTR { continue }
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                    continue
                }
                if entry.fd == outPipe[0] {
                    if let onOutput {
                        let keepGoing = buffer.withUnsafeBytes { onOutput(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                        if !keepGoing { stopped = true }
                    } else if outcome.stdout.count + count > limits.outputBytes {
                        outcome.outputCapped = true
                    } else {
                        outcome.stdout.append(contentsOf: buffer[0..<count])
                    }
                } else if outcome.stderr.count < 1 << 20 {
                    outcome.stderr.append(contentsOf: buffer[0..<count])
                }
            }
            if outcome.outputCapped || stopped { break }
        }
        if !open.isEmpty {
            kill(-child, SIGKILL)
            kill(child, SIGKILL)
            for fd in open { close(fd) }
        }
        var waitStatus: Int32 = 0
        while waitpid(child, &waitStatus, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WTERMSIG are macros: decode the status word by hand.
        if waitStatus & 0x7f == 0 {
            outcome.exitStatus = (waitStatus >> 8) & 0xff
        } else {
            outcome.signal = waitStatus & 0x7f
        }
        if stopped, outcome.signal == SIGKILL { outcome.signal = nil; outcome.exitStatus = 0 }
        return outcome
    }

    /// A pipe whose ends the tool does not inherit (only the dup2'd copies reach it).
    static func pipeCloseOnExec(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
