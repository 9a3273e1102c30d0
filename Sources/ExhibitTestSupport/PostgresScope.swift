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

    /// The tool's output goes to a file, not a pipe: `pg_ctl start` leaves the postmaster
    /// holding whatever it inherited, so a pipe would never reach end of file. The signal
    /// mask is cleared: a postmaster that inherits the test runner's blocked signals never
    /// hears from its children, and `pg_ctl -w` waits for it for ever.
    func command(_ tool: String, _ arguments: [String], output: String) -> ChildProcess {
        let quoted = ([runAsPostgres ? "/usr/sbin/runuser -u postgres --" : ""] + ["\(binaries)/\(tool)"] + arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" })
            .joined(separator: " ")
        // Through a shell that closes every descriptor but the log: the postmaster keeps
        // what it inherits, and the runner waits for its pipes to close.
        let closing = (3...9).map { "\($0)>&-" }.joined(separator: " ")
        return ChildProcess("/bin/sh", ["-c", "exec \(closing) </dev/null >'\(output)' 2>&1; exec \(quoted)"],
                            stdout: .discard, stderr: .discard, clearsSignalMask: true)
    }

    func run(_ tool: String, _ arguments: [String]) throws {
        let output = directory + "/\(tool).out"
        let finished = try command(tool, arguments, output: output).run(timeout: .seconds(120))
        guard finished.status == 0, !finished.signalled, !finished.timedOut else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw PostgresScopeError("\(tool) \(arguments.joined(separator: " ")) failed (status \(finished.status)): \(text.suffix(1500))")
        }
    }

    /// Starts the server again after ``stop(mode:)`` (the same data directory and port).
    public func start() throws {
        try run("pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60",
                           "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    }

    /// Stops the server: `fast` (clean) or `immediate` (as after a crash).
    public func stop(mode: String = "fast") throws {
        try run("pg_ctl", ["-D", directory + "/data", "-m", mode, "-w", "-t", "60", "stop"])
    }

    /// Runs SQL with psql as the postgres user; returns its unaligned, tuples-only output.
    public func psql(_ sql: String) throws -> String {
        var arguments = ["-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql]
        let executable = FileManager.default.isExecutableFile(atPath: binaries + "/psql") ? binaries + "/psql" : "/usr/bin/psql"
        arguments = arguments.map { $0 }
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
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw PostgresScopeError("bind() to 127.0.0.1 failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw PostgresScopeError("getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
