import Foundation

/// Runs the real `exhibit` binary, built next to the test bundle, and captures
/// what a user would see.
public struct ExhibitProcess: Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The binary: `$EXHIBIT_BINARY`, else `exhibit` beside the running test bundle.
    public static var binaryPath: String {
        if let explicit = ProcessInfo.processInfo.environment["EXHIBIT_BINARY"] { return explicit }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("exhibit").path
    }

    public var environment: [String: String]

    public init(environment: [String: String] = [:]) {
        var base = ProcessInfo.processInfo.environment
        base.removeValue(forKey: "EXHIBIT_ACTOR")
        base.removeValue(forKey: "EXHIBIT_WORKSPACE")
        for (key, value) in environment { base[key] = value }
        self.environment = base
    }

    /// Runs `exhibit` with the arguments and waits for it to exit.
    @discardableResult
    public func run(_ arguments: [String], stdin: String? = nil) throws -> Result {
        let finished = try command(arguments, stdin: stdin.map { Array($0.utf8) }).run()
        return Result(status: finished.status, stdout: finished.stdoutText, stderr: finished.stderrText)
    }

    /// `exhibit` with the arguments and this environment, for a test that starts it
    /// and acts while it runs (``ChildProcess/start()``) or sends its output elsewhere.
    public func command(_ arguments: [String], stdin: [UInt8]? = nil,
                        stdout: ChildProcess.Sink = .collect, stderr: ChildProcess.Sink = .collect) -> ChildProcess {
        ChildProcess(Self.binaryPath, arguments, environment: environment, stdin: stdin, stdout: stdout, stderr: stderr)
    }
}
