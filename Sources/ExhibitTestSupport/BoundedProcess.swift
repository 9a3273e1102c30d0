import Foundation

/// Runs a program that may hang (a headless browser) with a time limit.
public enum BoundedProcess {
    public struct Finished: Sendable {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        public var timedOut: Bool

        /// The end of stderr for a failure message; Chromium's dbus complaints are noise otherwise.
        public var stderrTail: String { String(decoding: stderr.suffix(2_000), as: UTF8.self) }
    }

    /// Runs a program, reading stdout and stderr to the end on their own threads (a full
    /// pipe would otherwise stall the child), and kills it after `timeout` seconds so a
    /// hung browser fails the test instead of hanging the suite.
    public static func run(_ executable: String, _ arguments: [String], timeout: Double = 60) throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()

        let group = DispatchGroup()
        let out = Collected()
        let err = Collected()
        for (handle, collected) in [(stdoutPipe.fileHandleForReading, out), (stderrPipe.fileHandleForReading, err)] {
            group.enter()
            Thread.detachNewThread {
                collected.set(handle.readDataToEndOfFile())
                group.leave()
            }
        }
        let timedOut = group.wait(timeout: .now() + timeout) == .timedOut
        if timedOut {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        if timedOut {
            // Give the readers a moment once the browser is gone; helpers it left behind
            // may still hold the pipes, in which case the partial output is what we have.
            _ = group.wait(timeout: .now() + 5)
        }
        return Finished(status: process.terminationStatus, stdout: out.bytes, stderr: err.bytes, timedOut: timedOut)
    }

    /// Collects one pipe's bytes on a background thread.
    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func set(_ value: Data) { lock.withLock { data = value } }
        var bytes: [UInt8] { lock.withLock { [UInt8](data) } }
    }
}
