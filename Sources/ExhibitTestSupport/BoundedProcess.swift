/// Runs a program that may hang (a headless browser) with a time limit.
public enum BoundedProcess {
    public typealias Finished = ChildProcess.Finished

    /// Runs a program and kills it after `timeout` seconds, so a hung browser fails the
    /// test instead of hanging the suite (``ChildProcess/run(timeout:)``).
    public static func run(_ executable: String, _ arguments: [String], timeout: Double = 60) throws -> Finished {
        try ChildProcess(executable, arguments).run(timeout: .milliseconds(Int(timeout * 1000)))
    }
}
