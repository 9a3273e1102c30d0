import Foundation

/// The third-party validators the tests run against Exhibit's output (warcio,
/// cdxj-indexer, pywb …), installed in the project's venv by `make venv`.
/// A missing validator is a test failure, never a skip.
public enum Validators {
    public struct Missing: Error, CustomStringConvertible {
        public var tool: String
        public var description: String {
            "The validator \(tool) is not installed; run `make venv` (it installs requirements-test.txt into .venv)."
        }
    }

    /// The package root, from this file's location.
    public static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// `$EXHIBIT_VENV/bin/tool`, else `.venv/bin/tool` in the package.
    public static func path(of tool: String) throws -> String {
        var candidates: [String] = []
        if let venv = ProcessInfo.processInfo.environment["EXHIBIT_VENV"] { candidates.append(venv + "/bin/" + tool) }
        candidates.append(packageRoot + "/.venv/bin/" + tool)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Missing(tool: tool)
        }
        return found
    }

    /// Runs a validator and returns its exit status and combined output.
    public static func run(_ tool: String, _ arguments: [String], directory: String? = nil) throws -> (status: Int32, output: String) {
        try Command.run(try path(of: tool), arguments, directory: directory)
    }
}

/// Runs a program and captures its output (stdout and stderr together, as written).
public enum Command {
    public static func run(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let finished = try ChildProcess(executable, arguments, environment: environment, directory: directory, stderr: .sameAsStdout).run()
        return (finished.status, finished.stdoutText)
    }
}
