import ChainOfCustody
import Foundation

/// A real PostgreSQL for a test (DESIGN §22: never a mock database): `initdb` into a
/// temporary directory and `pg_ctl start` on a free loopback port. PostgreSQL refuses to
/// run as root, so as root the cluster belongs to, and runs as, the `postgres` user
/// (`runuser -u postgres --`).
///
/// ```swift
/// try await withPostgres { cluster in
///     // cluster.url is postgres://postgres@127.0.0.1:PORT/postgres
/// }
/// ```
public final class PostgresCluster: Sendable {
    public let directory: String
    public let port: Int
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }
    let binaries: String
    let runAsPostgres: Bool

    init(directory: String, port: Int, binaries: String, runAsPostgres: Bool) {
        self.directory = directory
        self.port = port
        self.binaries = binaries
        self.runAsPostgres = runAsPostgres
    }

    /// Where initdb and pg_ctl are: Debian's versioned directory, else PATH.
    static func binaryDirectory() -> String? {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/pg_ctl") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(directory)/pg_ctl") && FileManager.default.isExecutableFile(atPath: "\(directory)/initdb") {
            return String(directory)
        }
        return nil
    }

    /// Starts a PostgreSQL tool so that nothing of the test runner reaches the postmaster
    /// that `pg_ctl start` leaves running:
    /// - Foundation's `Process` learns that a child ended when every copy of a socket the
    ///   child inherited is closed, and only then reaps it. A postmaster that inherited that
    ///   socket (or a pipe of the runner) kept `Process` — and the runner's exit — waiting
    ///   as long as PostgreSQL ran: the suite hung. So a Python parent holds the runner's
    ///   descriptors and starts the tool with every descriptor above 2 closed
    ///   (`close_fds`), its output in a file and stdin on /dev/null; the parent exits, and
    ///   its copy closes, as soon as the tool returns.
    /// - The signal mask is cleared first: a postmaster that inherits the runner's blocked
    ///   signals never hears from its children, and `pg_ctl -w` waits for it for ever.
    func command(_ tool: String, _ arguments: [String], output: String) throws -> ChildProcess {
        let argv = (runAsPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + ["\(binaries)/\(tool)"] + arguments
        return ChildProcess(try Self.python(), ["-c", Self.detachedLauncher, output] + argv, stdout: .discard, stderr: .discard)
    }

    /// argv[1] is the output file, the rest the command; exits with the command's status.
    static let detachedLauncher = """
        import os, signal, subprocess, sys
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        with open(sys.argv[1], "wb") as out:
            sys.exit(subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=out, stderr=out, close_fds=True).returncode)
        """

    static func python() throws -> String {
        if let venv = try? Validators.path(of: "python3") { return venv }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            throw PostgresScopeError("python3 is needed to start PostgreSQL detached from the test runner; install Debian's python3 (make deps).")
        }
        return "/usr/bin/python3"
    }

    func run(_ tool: String, _ arguments: [String]) throws {
        let output = directory + "/\(tool).out"
        let finished = try command(tool, arguments, output: output).run(timeout: .seconds(120))
        guard finished.status == 0, !finished.signalled, !finished.timedOut else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw PostgresScopeError("\(tool) \(arguments.joined(separator: " ")) failed (status \(finished.status)): \(text.suffix(1500))")
        }
    }

    /// pg_ctl's arguments for starting the server on its loopback port, then `action`.
    func serverControl(_ action: [String]) -> [String] {
        ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60",
         "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off"] + action
    }

    /// Starts the server again after ``stop(mode:)`` (the same data directory and port).
    public func start() throws {
        try run("pg_ctl", serverControl(["start"]))
    }

    /// Stops the server: `fast` (clean) or `immediate` (as after a crash).
    public func stop(mode: String = "fast") throws {
        try run("pg_ctl", ["-D", directory + "/data", "-m", mode, "-w", "-t", "60", "stop"])
    }

    /// `pg_ctl restart -m fast`: open sessions are cut, as in an administrator's restart.
    public func restart() throws {
        try run("pg_ctl", serverControl(["-m", "fast", "restart"]))
    }

    /// Runs SQL with psql as the postgres user; returns its unaligned, tuples-only output.
    public func psql(_ sql: String) throws -> String {
        let arguments = ["-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql]
        let executable = FileManager.default.isExecutableFile(atPath: binaries + "/psql") ? binaries + "/psql" : "/usr/bin/psql"
        let finished = try ChildProcess(executable, arguments).run(timeout: .seconds(60))
        guard finished.status == 0 else { throw PostgresScopeError("psql failed: \(finished.stderrTail)") }
        return finished.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public struct PostgresScopeError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
    public init(description: String) { self.description = description }
}

/// Runs `body` with a fresh PostgreSQL cluster on 127.0.0.1, and stops and removes it after.
public func withPostgres<T>(_ body: (PostgresCluster) async throws -> T) async throws -> T {
    guard let binaries = PostgresCluster.binaryDirectory() else {
        throw PostgresScopeError("PostgreSQL is not installed (no initdb/pg_ctl in /usr/lib/postgresql/*/bin or on PATH): install Debian's postgresql package (make deps).")
    }
    let temporary = TemporaryDirectory("exhibit-pg")
    let runAsPostgres = geteuid() == 0
    if runAsPostgres {
        // The cluster's files must belong to the user that runs it.
        let owner = try ChildProcess("/bin/chown", ["-R", "postgres:postgres", temporary.path]).run(timeout: .seconds(30))
        guard owner.status == 0 else { throw PostgresScopeError("chown of \(temporary.path) to postgres failed: \(owner.stderrTail)") }
        chmod(temporary.path, 0o755)
    }
    let cluster = PostgresCluster(directory: temporary.path, port: try freeLoopbackPort(), binaries: binaries, runAsPostgres: runAsPostgres)
    try cluster.run("initdb", ["-D", temporary.path + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
    try cluster.start()
    do {
        let value = try await body(cluster)
        try? cluster.stop(mode: "immediate")
        withExtendedLifetime(temporary) {}
        return value
    } catch {
        try? cluster.stop(mode: "immediate")
        withExtendedLifetime(temporary) {}
        throw error
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw PostgresScopeError("socket() failed") }
    defer { close(fd) }
    guard let port = LoopbackPort.bindEphemeral(fd) else { throw PostgresScopeError("bind() to 127.0.0.1 failed") }
    return port
}
