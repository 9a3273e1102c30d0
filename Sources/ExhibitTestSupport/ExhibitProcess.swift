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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binaryPath)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            let input = Pipe()
            process.standardInput = input
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
        let errData = ReadBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.data, as: UTF8.self))
    }
}

private final class ReadBox: @unchecked Sendable {
    var data = Data()
}
