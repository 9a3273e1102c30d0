import Foundation
import Glibc

/// The one way tests run another program: argv, environment, stdin bytes, working
/// directory and where the output goes in; status, stdout and stderr out, with a
/// deadline after which the child is killed so a hang fails the test instead of
/// hanging the suite.
///
/// `run(timeout:)` waits for the end; `start()` hands back a ``RunningProcess`` for a
/// test that must act while the child runs (signal it, read its first line, wait for
/// a file it writes). ``ExhibitProcess``, ``Command``, ``Validators`` and
/// ``BoundedProcess`` are thin conveniences over this type.
///
/// ```swift
/// let sorted = try ChildProcess("/usr/bin/sort", [], stdin: Array("b\na\n".utf8)).run(timeout: .seconds(10))
/// #expect(sorted.stdoutText == "a\nb\n", "\(sorted.stderrText)")
/// ```
public struct ChildProcess: Sendable {
    /// Where one of the child's output streams goes.
    public enum Sink: Sendable, Equatable {
        /// Read into memory as it arrives (``RunningProcess/stdoutSoFar``, ``Finished/stdout``).
        case collect
        /// `/dev/null`.
        case discard
        /// Written to this file, created or truncated first; for servers whose log a test reads.
        case file(String)
        /// For stderr only: into the same pipe or file as stdout, interleaved as written.
        case sameAsStdout
    }

    public var executable: String
    public var arguments: [String]
    /// The child's whole environment; `nil` inherits the test process's.
    public var environment: [String: String]?
    /// Bytes written to the child's stdin, which is then closed; `nil` gives it `/dev/null`.
    public var stdin: [UInt8]?
    public var directory: String?
    public var stdout: Sink
    public var stderr: Sink
    /// Children of the test runner inherit a signal mask that blocks most signals (a
    /// Python server then never notices SIGTERM, and pywb never starts listening).
    /// When set, the program is started through the venv's python3, which clears the
    /// mask and execs it, so the program runs with the mask a shell would give it.
    public var clearsSignalMask: Bool

    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: [UInt8]? = nil,
        directory: String? = nil, stdout: Sink = .collect, stderr: Sink = .collect, clearsSignalMask: Bool = false
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.stdin = stdin
        self.directory = directory
        self.stdout = stdout
        self.stderr = stderr
        self.clearsSignalMask = clearsSignalMask
    }

    /// The default deadline of ``run(timeout:)``: far beyond any one command of the
    /// suite, so it only ends a hang.
    public static let defaultTimeout: Duration = .seconds(600)

    /// Runs the program to its end (or its deadline) and returns what it did.
    public func run(timeout: Duration = ChildProcess.defaultTimeout) throws -> Finished {
        try start().wait(timeout: timeout)
    }

    /// ``run(timeout:)`` on a thread of its own, for async tests.
    public func runAsync(timeout: Duration = ChildProcess.defaultTimeout) async throws -> Finished {
        try await Blocking.run { try run(timeout: timeout) }
    }

    /// Starts the program and returns at once.
    public func start() throws -> RunningProcess {
        try RunningProcess(self)
    }

    /// How the child ended and what it wrote.
    public struct Finished: Sendable {
        /// The exit status, or the signal's number when ``signalled``.
        public var status: Int32
        /// Ended by a signal (a kill, or the deadline's SIGKILL) rather than by exiting.
        public var signalled: Bool
        /// Killed because the deadline passed.
        public var timedOut: Bool
        public var stdout: [UInt8]
        public var stderr: [UInt8]

        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
        /// The end of stderr for a failure message (a browser's stderr is mostly noise).
        public var stderrTail: String { String(decoding: stderr.suffix(2_000), as: UTF8.self) }
    }

    /// The python3 shim that clears the inherited signal mask and execs its arguments.
    static let clearMaskShim =
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"
}

/// A child started by ``ChildProcess/start()``: its pid, its output so far, signals,
/// and a bounded wait for its end. Its output is read on threads of its own from the
/// start, so a chatty child never blocks on a full pipe.
public final class RunningProcess: @unchecked Sendable {
    private let process = Process()
    private let exited = DispatchGroup()
    private let readers = DispatchGroup()
    private let lock = NSLock()
    private var out: [UInt8] = []
    private var err: [UInt8] = []
    private var timedOut = false
    private var finished: ChildProcess.Finished?

    /// What the program was started with (after the signal-mask shim, if any).
    public let commandLine: [String]

    init(_ spec: ChildProcess) throws {
        var executable = spec.executable
        var arguments = spec.arguments
        if spec.clearsSignalMask {
            let python = try Validators.path(of: "python3")
            arguments = ["-c", ChildProcess.clearMaskShim, executable] + arguments
            executable = python
        }
        commandLine = [executable] + arguments
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment = spec.environment { process.environment = environment }
        if let directory = spec.directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }

        var collect: [(FileHandle, Bool)] = []
        var files: [FileHandle] = []
        let stdoutTarget = try Self.target(of: spec.stdout, isStdout: true, stdoutTarget: nil, collect: &collect, files: &files)
        process.standardOutput = stdoutTarget
        process.standardError = try Self.target(of: spec.stderr, isStdout: false, stdoutTarget: stdoutTarget, collect: &collect, files: &files)
        var input: Pipe?
        if spec.stdin != nil {
            let pipe = Pipe()
            input = pipe
            process.standardInput = pipe
        } else {
            process.standardInput = FileHandle.nullDevice
        }

        exited.enter()
        process.terminationHandler = { [exited] _ in exited.leave() }
        do {
            try process.run()
        } catch {
            exited.leave()
            throw error
        }
        // The child holds its own copies of the files now.
        for file in files { try? file.close() }

        for (handle, isStdout) in collect {
            readers.enter()
            Thread.detachNewThread { [self] in
                while true {
                    let piece = handle.availableData
                    if piece.isEmpty { break }
                    lock.withLock {
                        if isStdout { out.append(contentsOf: piece) } else { err.append(contentsOf: piece) }
                    }
                }
                readers.leave()
            }
        }
        if let input, let bytes = spec.stdin {
            // On a thread of its own: more than a pipe's 64 KiB would block until the child reads.
            let writer = input.fileHandleForWriting
            Thread.detachNewThread {
                writer.write(Data(bytes))
                try? writer.close()
            }
        }
    }

    /// Where one output stream goes: a pipe read into `out` or `err`, the null device,
    /// a fresh file (kept in `files` until the child has its copy), or stdout's target.
    private static func target(of sink: ChildProcess.Sink, isStdout: Bool, stdoutTarget: Any?,
                               collect: inout [(FileHandle, Bool)], files: inout [FileHandle]) throws -> Any {
        switch sink {
        case .collect:
            let pipe = Pipe()
            collect.append((pipe.fileHandleForReading, isStdout))
            return pipe
        case .discard:
            return FileHandle.nullDevice
        case .file(let path):
            let handle = try truncatedFile(path)
            files.append(handle)
            return handle
        case .sameAsStdout:
            precondition(!isStdout, "stdout cannot go to itself")
            return stdoutTarget ?? FileHandle.nullDevice
        }
    }

    private static func truncatedFile(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot create \(path) for a child's output"])
        }
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    public var pid: Int32 { process.processIdentifier }

    public var isRunning: Bool { process.isRunning }

    /// The stdout collected so far (empty unless stdout is ``ChildProcess/Sink/collect``).
    public var stdoutSoFar: [UInt8] { lock.withLock { out } }
    public var stdoutTextSoFar: String { String(decoding: stdoutSoFar, as: UTF8.self) }
    public var stderrTextSoFar: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

    /// Sends `signal` (SIGINT, SIGTERM, SIGKILL …) to the child, if it is still running.
    public func signal(_ signal: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
    }

    /// The first line of stdout without its newline, once written; nil if the child
    /// closed stdout first or `timeout` passed.
    public func firstLine(timeout: Duration = .seconds(60)) -> String? {
        var line: String?
        _ = pollBlocking(until: {
            let bytes = stdoutSoFar
            if let newline = bytes.firstIndex(of: 10) {
                line = String(decoding: bytes[..<newline], as: UTF8.self)
                return true
            }
            return readers.wait(timeout: .now()) == .success
        }, timeout: timeout, interval: .milliseconds(10))
        return line
    }

    /// Waits until stdout holds `text`, or `timeout` passes.
    public func waitForStdout(containing text: String, timeout: Duration) async -> Bool {
        await poll(until: { stdoutTextSoFar.contains(text) }, timeout: timeout)
    }

    /// Waits for the child to exit and its output to end. Past `timeout` the child is
    /// killed (SIGKILL) and ``ChildProcess/Finished/timedOut`` is set; the readers then
    /// get five more seconds, since children it left behind may still hold the pipes.
    @discardableResult
    public func wait(timeout: Duration = ChildProcess.defaultTimeout) -> ChildProcess.Finished {
        if let finished = lock.withLock({ finished }) { return finished }
        let deadline = DispatchTime.now() + Self.seconds(timeout)
        var late = exited.wait(timeout: deadline) == .timedOut
        if !late { late = readers.wait(timeout: deadline) == .timedOut }
        if late {
            lock.withLock { timedOut = true }
            Glibc.kill(process.processIdentifier, SIGKILL)
            exited.wait()
            _ = readers.wait(timeout: .now() + 5)
        }
        process.waitUntilExit()
        return lock.withLock {
            let result = ChildProcess.Finished(
                status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                timedOut: timedOut, stdout: out, stderr: err)
            finished = result
            return result
        }
    }

    /// ``wait(timeout:)`` on a thread of its own, for async tests.
    @discardableResult
    public func waitAsync(timeout: Duration = ChildProcess.defaultTimeout) async throws -> ChildProcess.Finished {
        try await Blocking.run { self.wait(timeout: timeout) }
    }

    /// Kills the child with SIGKILL and waits for its end.
    @discardableResult
    public func killAndWait() -> ChildProcess.Finished {
        signal(SIGKILL)
        return wait()
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
