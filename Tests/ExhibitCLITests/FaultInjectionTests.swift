import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 9, item 4: fault injection through the real binary. Each test hurts a
/// capture or a workspace in one way — a misbehaving server, a full disk, a
/// read-only workspace, a damaged index — and checks that `exhibit` neither
/// crashes nor hangs, exits with the code DESIGN §12 gives, writes nothing partial
/// (§2) and leaves a case that `exhibit verify` accepts.
@Suite("Fault injection")
struct FaultInjectionTests {
    // MARK: 1. A misbehaving HTTP server

    /// What one misbehaving answer is, and what a capture of it must record.
    struct ServerFault: Sendable, CustomTestStringConvertible {
        var path: String
        /// nil: the capture fails (exit 6, a `capture-failed` entry, no WARC).
        /// Otherwise the capture succeeds with exactly these payload bytes.
        var capturedPayload: String?
        var testDescription: String { path }

        static let all: [ServerFault] = [
            // Control: a well-formed answer from the same server is captured.
            ServerFault(path: "/ok", capturedPayload: FaultServer.okBody),
            // Headers and half the Content-Length, then RST (SO_LINGER 0): a network error.
            ServerFault(path: "/reset-mid-body", capturedPayload: nil),
            // 10 bytes announced, more sent. RFC 9112 §6.3: Content-Length delimits the
            // message; what follows is not part of this response (on a kept-alive
            // connection it would be the start of the next one). The capture is the
            // response exactly as delimited — the 10 bytes — and is a success (exit 0);
            // the extra bytes are not evidence of this URL and must not be archived.
            ServerFault(path: "/extra-bytes", capturedPayload: "0123456789"),
            // A status line without a status code: not HTTP, nothing to archive.
            ServerFault(path: "/no-status-code", capturedPayload: nil),
            // Binary garbage instead of a status line (\x00\xff …).
            ServerFault(path: "/garbage", capturedPayload: nil),
            // 100 header fields of 64 KiB each (6.4 MB of headers): past libcurl's
            // 300 KiB limit on a response head, a failure — never unbounded memory.
            ServerFault(path: "/huge-headers", capturedPayload: nil),
        ]
    }

    @Test("a misbehaving server: no crash or hang, the documented exit code, capture-failed with a reason, no partial WARC, the case verifies",
          arguments: ServerFault.all)
    func misbehavingServer(_ fault: ServerFault) async throws {
        let server = try FaultServer()
        defer { server.stop() }
        let ws = try TestWorkspace("exhibit-fault")
        let caseID = try ws.openCase()
        let url = server.baseURL + fault.path
        let before = try ws.entries(caseID).count
        let run = try await FaultRun.exhibit(
            ["capture", caseID, url, "--json", "--timeout", "15", "--connect-timeout", "5"] + captureOptions(ws))
        try #require(!run.timedOut, "exhibit capture \(fault.path) did not finish within \(FaultRun.limit) s")
        #expect(!run.signalled, "exhibit capture \(fault.path) was killed by signal \(run.status): \(run.stderr)")
        #expect(server.requestedPaths().contains(fault.path), "the server never saw \(fault.path): \(server.log())")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Stack dump"), "\(run.stderr)")

        let entries = try ws.entries(caseID)
        let added = entries.dropFirst(before).filter { $0.subject?["url"]?.stringValue == url }
        #expect(added.count == 1, "\(added.map(\.action))")
        let entry = try #require(added.first)
        let warcFiles = Self.files(in: ws.caseDirectory(caseID) + "/warc")
        if let payload = fault.capturedPayload {
            #expect(run.status == 0, "\(fault.path): \(run.stdout) \(run.stderr)")
            #expect(entry.action == "capture")
            #expect(entry.subject?["status"]?.intValue == 200)
            #expect(entry.subject?["payload_length"]?.intValue == Int64(payload.utf8.count))
            #expect(entry.subject?["payload_sha256"]?.stringValue == Digest.sha256Hex(Array(payload.utf8)))
            #expect(warcFiles.count == 1 && warcFiles.allSatisfy { $0.hasSuffix(".warc.gz") }, "\(warcFiles)")
            for file in warcFiles {
                let path = ws.caseDirectory(caseID) + "/warc/" + file
                let check = try Validators.run("warcio", ["check", "-v", path])
                #expect(check.status == 0 && !check.output.contains("no digest"), "\(check.output)")
                let text = try Command.run("/bin/sh", ["-c", "zcat \"$1\"", "sh", path]).output
                #expect(!text.contains("EXTRA BYTES"), "bytes past Content-Length were archived")
            }
        } else {
            #expect(run.status == 6, "\(fault.path): exit \(run.status), \(run.stdout) \(run.stderr)")
            #expect(entry.action == "capture-failed")
            let reason = entry.subject?["reason"]?.stringValue ?? ""
            #expect(!reason.trimmingCharacters(in: .whitespaces).isEmpty, "capture-failed without a reason")
            #expect(entry.subject?["records"]?.arrayValue?.isEmpty == true)
            #expect(entry.subject?["warc"] == nil)
            let json = try JSONValue(parsing: run.stdout)
            #expect(json["failed"]?.arrayValue?.first?["reason"]?.stringValue == reason)
            // Nothing of the failed transfer is kept: no WARC, no spool, no temporary file.
            #expect(warcFiles.isEmpty, "\(warcFiles)")
        }
        #expect(CaseRecovery.temporaryFiles(in: ws.caseDirectory(caseID)).isEmpty)
        let verify = try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(!verify.stdout.contains("INTERRUPTED"), "\(verify.stdout)")
    }

    // MARK: 2. Disk full during a capture

    /// Where the file-size limit (RLIMIT_FSIZE, standing in for a full disk) bites,
    /// and what SIGXFSZ does when it does.
    struct DiskFull: Sendable, CustomTestStringConvertible {
        enum Target: String, Sendable { case spool, warc }
        var target: Target
        /// true: SIGXFSZ ignored by the launcher, so write(2) fails with EFBIG.
        /// false: SIGXFSZ at its default (terminate), as after `ulimit -f` in a shell.
        var sigxfszIgnored: Bool
        var testDescription: String { "\(target.rawValue) write, SIGXFSZ \(sigxfszIgnored ? "ignored" : "default")" }

        static let all: [DiskFull] = [
            DiskFull(target: .spool, sigxfszIgnored: true), DiskFull(target: .warc, sigxfszIgnored: true),
            DiskFull(target: .spool, sigxfszIgnored: false), DiskFull(target: .warc, sigxfszIgnored: false),
        ]
    }

    static let fileSizeLimit = 200_000

    /// Decided behaviour: a full disk is a storage error (DESIGN §12: exit 5, one
    /// sentence on stderr), whichever file hits it first — the body's spool file or
    /// the WARC file — and whatever SIGXFSZ's disposition: `exhibit` should ignore
    /// SIGXFSZ as it ignores SIGPIPE, so that write(2) fails with EFBIG and the job
    /// fails cleanly instead of dying. If the signal does kill it, the commit
    /// protocol (§2) must still leave a case that verifies, and the next command
    /// must remove the leftovers; the test checks that fallback too.
    /// Not under sanitizers (`EXHIBIT_SANITIZER`): their runtimes cannot start in a
    /// process whose file-size limit is 200 KB.
    @Test("disk full while capturing: exit 5 with one sentence, nothing partial, the case verifies",
          .enabled(if: ProcessInfo.processInfo.environment["EXHIBIT_SANITIZER"] == nil), arguments: DiskFull.all)
    func diskFull(_ scenario: DiskFull) async throws {
        let ws = try TestWorkspace("exhibit-fault")
        let caseID = try ws.openCase()
        switch scenario.target {
        case .spool:
            // A large fixture body: its spool file reaches the limit while streaming in.
            try await withFixtureSite(siteDirectory: nil) { fixture in
                try await captureOnFullDisk(scenario, ws, caseID, url: fixture.baseURL + "/test/bytes?n=1000000")
            }
        case .warc:
            // An incompressible body just under the limit: the spool file fits, the
            // .warc.gz that also holds the warcinfo, request and headers does not.
            let raw = try FaultServer()
            defer { raw.stop() }
            try await captureOnFullDisk(scenario, ws, caseID, url: raw.baseURL + "/random?n=\(Self.fileSizeLimit - 2_000)")
        }
    }

    /// The capture of `url` under the file-size limit, and what it must leave behind.
    func captureOnFullDisk(_ scenario: DiskFull, _ ws: TestWorkspace, _ caseID: String, url: String) async throws {
        let warcDirectory = ws.caseDirectory(caseID) + "/warc"
        let warcBefore = Self.files(in: warcDirectory)
        let run = try await FaultRun.limited(
            fileSize: Self.fileSizeLimit, ignoreSIGXFSZ: scenario.sigxfszIgnored,
            ["capture", caseID, url] + captureOptions(ws))
        try #require(!run.timedOut, "the capture did not finish within \(FaultRun.limit) s")

        if run.signalled {
            Issue.record("""
                exhibit capture was killed by signal \(run.status) (\(run.status == SIGXFSZ ? "SIGXFSZ" : "?")) instead of \
                failing with exit 5 and one sentence: exhibit must ignore SIGXFSZ as it ignores SIGPIPE \
                (Sources/ExhibitCLI/ExhibitMain.swift, main())
                """)
            // The commit protocol still holds: leftovers are unrecorded *.tmp files.
            let verify = try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
            #expect(verify.status == 0, "\(verify.stdout)")
            let note = try ExhibitProcess().run(["case", "note", caseID, "after the disk filled up", "--workspace", ws.root, "--actor", ws.investigatorID])
            #expect(note.status == 0, "\(note.stderr)")
            #expect(note.stderr.contains("interrupted write"), "\(note.stderr)")
        } else {
            #expect(run.status == 5, "exit \(run.status); stdout: \(run.stdout); stderr: \(run.stderr)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1, "stderr should be one sentence: \(run.stderr.debugDescription)")
            #expect(run.stderr.lowercased().contains("too large"), "stderr should name the cause (File too large): \(run.stderr.debugDescription)")
            #expect(!run.stderr.contains("Fatal error"))
            // Nothing partial: no temporary WARC, no spool file, no new WARC.
            #expect(CaseRecovery.temporaryFiles(in: ws.caseDirectory(caseID)).isEmpty,
                    "\(CaseRecovery.temporaryFiles(in: ws.caseDirectory(caseID)))")
            #expect(Self.files(in: warcDirectory) == warcBefore)
        }
        #expect(CaseRecovery.temporaryFiles(in: ws.caseDirectory(caseID)).isEmpty)
        #expect(Self.files(in: warcDirectory) == warcBefore)
        // The URL is either absent or recorded as failed: never as captured.
        let actions = try ws.entries(caseID).filter { $0.subject?["url"]?.stringValue == url }.map(\.action)
        #expect(!actions.contains("capture"), "\(actions)")
        let verify = try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(!verify.stdout.contains("INTERRUPTED"), "\(verify.stdout)")
    }

    // MARK: 3. A read-only workspace

    @Test("a read-only workspace: note, capture and artifacts exit 5 with one sentence and write nothing; verify still works")
    func readOnlyWorkspace() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace("exhibit-fault")
            let caseID = try ws.openCase()
            // Some evidence and an index, so there is something not to touch.
            let first = try await FaultRun.exhibit(["capture", caseID, site.baseURL + "/test/status/200"] + captureOptions(ws))
            try #require(first.status == 0, "\(first.stderr)")
            let requestsBefore = site.requests().count

            let asRoot = getuid() == 0
            let readOnly = try ReadOnlyWorkspace(ws, keyOf: ws.investigatorID, asRoot: asRoot)
            defer { readOnly.restore() }
            let before = try Self.snapshot(ws.root)

            let commands: [(String, [String])] = [
                ("case note", ["case", "note", caseID, "a note that cannot be written"]),
                ("capture", ["capture", caseID, site.baseURL + "/test/status/200", "--allow-network", "127.0.0.1/32", "--reason", "fixture"]),
                ("artifacts", ["artifacts", caseID]),
            ]
            for (name, arguments) in commands {
                let run = try await FaultRun.exhibit(arguments + ["--workspace", ws.root, "--actor", ws.investigatorID], prefix: readOnly.prefix)
                try #require(!run.timedOut, "\(name) did not finish")
                #expect(run.status == 5 && !run.signalled, "\(name): exit \(run.status), stderr: \(run.stderr)")
                let lines = run.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(name): stderr should be one sentence: \(run.stderr.debugDescription)")
                #expect(!run.stderr.contains("Fatal error"))
                #expect(run.stdout.isEmpty, "\(name): \(run.stdout)")
                #expect(try Self.snapshot(ws.root) == before, "\(name) changed the read-only workspace")
            }
            #expect(site.requests().count == requestsBefore, "a capture that cannot record anything must not fetch")

            // Anonymous verification is read-only and works on a read-only workspace.
            let verifyReadOnly = try await FaultRun.exhibit(["verify", caseID, "--workspace", ws.root], prefix: readOnly.prefix)
            #expect(verifyReadOnly.status == 0, "\(verifyReadOnly.stdout) \(verifyReadOnly.stderr)")
            #expect(try Self.snapshot(ws.root) == before)

            readOnly.restore()
            let verify = try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
            #expect(verify.status == 0, "\(verify.stdout)")
        }
    }

    // MARK: 4. A damaged index

    enum IndexDamage: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case deleted
        /// The whole file replaced by random bytes.
        case garbage
        /// Random bytes over the root pages of the `cases` and `artifacts` tables:
        /// the SQLite header, the schema and the migrations table survive, the data
        /// does not (bit rot, a torn write).
        case garbageInTablePages
        case truncatedToHalf
        var testDescription: String { rawValue }
    }

    /// docs/analysis.md §5: "A missing index is created; an index that SQLite cannot
    /// read is replaced, with a notice on stderr." A missing index is the normal
    /// state of a new workspace, so its re-creation is silent; a damaged one is
    /// announced in one line.
    @Test("a deleted or damaged index.sqlite is rebuilt by `exhibit artifacts`: same output, evidence untouched", arguments: IndexDamage.allCases)
    func damagedIndex(_ damage: IndexDamage) async throws {
        // The garbage is seeded: a failure names the seed, and EXHIBIT_TEST_SEED=<seed> replays it.
        var random = SeededRandom()
        let label = "\(damage) (\(random.replay))"
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace("exhibit-fault")
            let caseID = try ws.openCase()
            let urls = (0..<3).map { site.baseURL + "/test/pages/\($0)?count=3" } + [site.baseURL + "/test/status/404"]
            let capture = try await FaultRun.exhibit(["capture", caseID] + urls + captureOptions(ws))
            try #require(capture.status == 0, "\(capture.stderr)")
            let artifacts = ["artifacts", caseID, "--workspace", ws.root, "--actor", ws.investigatorID]
            let baseline = try await FaultRun.exhibit(artifacts)
            try #require(baseline.status == 0 && baseline.stdoutLines.count == 4, "\(baseline.stdout) \(baseline.stderr)")

            let index = ws.root + "/index.sqlite"
            try #require(FileManager.default.fileExists(atPath: index))
            let size = try Self.size(of: index)
            switch damage {
            case .deleted:
                try FileManager.default.removeItem(atPath: index)
            case .garbage:
                try Data(random.bytes(size)).write(to: URL(fileURLWithPath: index))
            case .garbageInTablePages:
                // Where the tables live, asked of SQLite itself (immutable: no -wal, no -shm).
                let query = try Command.run(try Validators.path(of: "python3"), ["-c", """
                    import sqlite3, sys
                    db = sqlite3.connect("file:" + sys.argv[1] + "?immutable=1", uri=True)
                    pages = [db.execute("PRAGMA page_size").fetchone()[0]]
                    pages += [row[0] for row in db.execute("SELECT rootpage FROM sqlite_master WHERE name IN ('cases', 'artifacts')")]
                    print(" ".join(map(str, pages)))
                    """, index])
                let numbers = query.output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
                try #require(query.status == 0 && numbers.count == 3 && numbers.dropFirst().allSatisfy { $0 > 2 }, "\(query.output)")
                let pageSize = numbers[0]
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: index))
                for page in numbers.dropFirst() {
                    try handle.seek(toOffset: UInt64((page - 1) * pageSize))
                    try handle.write(contentsOf: random.bytes(pageSize))
                }
                try handle.close()
            case .truncatedToHalf:
                try #require(truncate(index, off_t(size / 2)) == 0)
            }
            for suffix in ["-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: index + suffix)) }

            let ledgerPath = ws.caseDirectory(caseID) + "/ledger.jsonl"
            let ledgerBefore = try AtomicFile.read(ledgerPath)
            let warcBefore = try Self.snapshot(ws.caseDirectory(caseID) + "/warc")

            let run = try await FaultRun.exhibit(artifacts)
            try #require(!run.timedOut)
            #expect(run.status == 0, "\(label): exit \(run.status), stderr: \(run.stderr)")
            #expect(run.stdout == baseline.stdout, "\(label): the rebuilt index lists different artifacts:\n\(run.stdout)")
            let notices = run.stderr.split(separator: "\n")
            if damage == .deleted {
                #expect(notices.isEmpty, "\(label): \(run.stderr)")
            } else {
                #expect(notices.count == 1 && run.stderr.contains("rebuilt"), "\(label): one notice expected: \(run.stderr.debugDescription)")
            }

            // Evidence untouched: the ledger only gained the view entry, the WARCs are the same bytes.
            let ledgerAfter = try AtomicFile.read(ledgerPath)
            #expect(ledgerAfter.starts(with: ledgerBefore), "\(label): the ledger was rewritten")
            let added = try Ledger(path: ledgerPath).entries().dropFirst(Ledger.lines(of: ledgerBefore).count)
            #expect(added.map(\.action) == (run.status == 0 ? ["view"] : []), "\(added.map(\.action))")
            #expect(try Self.snapshot(ws.caseDirectory(caseID) + "/warc") == warcBefore, "\(label)")
            let verify = try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
            #expect(verify.status == 0, "\(label): \(verify.stdout)")

            // And the index is usable again afterwards: by the next reading command, and
            // by `exhibit reindex`, which every index error message recommends.
            let again = try await FaultRun.exhibit(artifacts)
            #expect(again.status == 0 && again.stdout == baseline.stdout && again.stderr.isEmpty, "\(label): \(again.stderr)")
            let reindex = try await FaultRun.exhibit(["reindex", "--workspace", ws.root, "--actor", ws.supervisorID])
            #expect(reindex.status == 0, "\(label): exhibit reindex exit \(reindex.status): \(reindex.stderr)")
            let afterReindex = try await FaultRun.exhibit(artifacts)
            #expect(afterReindex.status == 0 && afterReindex.stdout == baseline.stdout, "\(label): \(afterReindex.stderr)")
        }
    }

    // MARK: helpers

    func captureOptions(_ ws: TestWorkspace) -> [String] {
        ["--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "fault injection"]
    }

    /// The names in a directory (none when it does not exist).
    static func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    static func size(of path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Every file and directory below `root`: type, mode, owner, size and sha256.
    static func snapshot(_ root: String) throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            var description = "mode \(String(info.st_mode, radix: 8)) uid \(info.st_uid) size \(info.st_size)"
            if info.st_mode & S_IFMT == S_IFREG {
                description += " sha256 " + Digest.sha256Hex(try AtomicFile.read(path))
            }
            result[relative] = description
        }
        return result
    }
}

// MARK: - Running the binary with a time bound

/// One bounded run of a child process.
struct FaultRun: Sendable {
    /// No command of these tests should take more than a few seconds; past this
    /// the child is killed and the test fails as a hang.
    static let limit: Double = 45

    var status: Int32
    /// Terminated by a signal (then `status` is the signal number).
    var signalled: Bool
    var timedOut: Bool
    var stdout: String
    var stderr: String
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// Runs `exhibit` (optionally behind a launcher such as setpriv).
    static func exhibit(_ arguments: [String], prefix: [String] = []) async throws -> FaultRun {
        let binary = ExhibitProcess.binaryPath
        if let launcher = prefix.first {
            return try await run(launcher, Array(prefix.dropFirst()) + [binary] + arguments)
        }
        return try await run(binary, arguments)
    }

    /// Runs `exhibit` with RLIMIT_FSIZE lowered and SIGXFSZ ignored or at its
    /// default, from a clear signal mask (the test process's children otherwise
    /// inherit a mask that blocks most signals, SIGXFSZ included, which would hide
    /// what a user's shell does).
    static func limited(fileSize: Int, ignoreSIGXFSZ: Bool, _ arguments: [String]) async throws -> FaultRun {
        let shim = """
            import os, resource, signal, sys
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN if sys.argv[1] == "ignore" else signal.SIG_DFL)
            limit = int(sys.argv[2])
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            os.execv(sys.argv[3], sys.argv[3:])
            """
        return try await run(try Validators.path(of: "python3"),
                             ["-c", shim, ignoreSIGXFSZ ? "ignore" : "default", String(fileSize), ExhibitProcess.binaryPath] + arguments)
    }

    static func run(_ executable: String, _ arguments: [String]) async throws -> FaultRun {
        try await Blocking.run { try runBlocking(executable, arguments) }
    }

    static func runBlocking(_ executable: String, _ arguments: [String]) throws -> FaultRun {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "EXHIBIT_ACTOR")
        environment.removeValue(forKey: "EXHIBIT_WORKSPACE")
        let finished = try ChildProcess(executable, arguments, environment: environment).run(timeout: .seconds(limit))
        return FaultRun(status: finished.status, signalled: finished.signalled, timedOut: finished.timedOut,
                        stdout: finished.stdoutText, stderr: finished.stderrText)
    }
}

// MARK: - A workspace the acting user cannot write

/// Makes a workspace read-only for the process that runs `exhibit`. Root ignores
/// permission bits, so as root the binary runs as `nobody` (setpriv) over a
/// root-owned workspace with directories 0755 and files 0644 — readable, not
/// writable — except the actor's private key, which `nobody` owns (mode 0600, as
/// `exhibit` demands of a key). As another user, the workspace is made 0555/0444.
final class ReadOnlyWorkspace: Sendable {
    let prefix: [String]
    private let root: String
    private let parent: String
    private let keyPath: String
    private let asRoot: Bool
    private let originalModes: [String: mode_t]
    private let parentMode: mode_t

    static let nobody: uid_t = 65534

    init(_ ws: TestWorkspace, keyOf actorID: String, asRoot: Bool) throws {
        root = ws.root
        parent = (ws.root as NSString).deletingLastPathComponent
        keyPath = ws.root + "/keys/\(actorID).key.pem"
        self.asRoot = asRoot
        var modes: [String: mode_t] = [:]
        var paths = [ws.root]
        let enumerator = FileManager.default.enumerator(atPath: ws.root)
        while let relative = enumerator?.nextObject() as? String { paths.append(ws.root + "/" + relative) }
        var parentInfo = stat()
        stat(parent, &parentInfo)
        parentMode = parentInfo.st_mode & 0o7777
        for path in paths {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            modes[path] = info.st_mode & 0o7777
        }
        originalModes = modes
        let directory: (String) -> Bool = { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        if asRoot {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "/usr/bin/setpriv"])
            }
            chmod(parent, 0o755)
            for path in paths { chmod(path, directory(path) ? 0o755 : 0o644) }
            chown(keyPath, Self.nobody, gid_t(Self.nobody))
            chmod(keyPath, 0o600)
            prefix = ["/usr/bin/setpriv", "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", "--"]
        } else {
            // Files first, then directories from the deepest up.
            for path in paths where !directory(path) { chmod(path, path == keyPath ? 0o400 : 0o444) }
            for path in paths.reversed() where directory(path) { chmod(path, 0o555) }
            prefix = []
        }
    }

    /// Gives the workspace back to its owner with its original modes.
    func restore() {
        if asRoot { chown(keyPath, 0, 0) }
        for (path, mode) in originalModes.sorted(by: { $0.key < $1.key }) { chmod(path, mode) }
        chmod(parent, parentMode)
    }
}

// MARK: - A misbehaving HTTP server

/// A raw HTTP server on 127.0.0.1 (a small python3 script) whose paths misbehave
/// on purpose. Started through the signal-mask shim the pywb tests use, and killed
/// with SIGKILL (a blocked SIGTERM would not stop it).
final class FaultServer: Sendable {
    static let okBody = "<!DOCTYPE html><html><head><title>ok</title></head><body><p>A well-formed answer.</p></body></html>"

    static let script = #"""
        import os, socket, struct, sys, threading, time

        OK_BODY = sys.argv[1].encode()

        def read_request(conn):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return None
                data += chunk
            parts = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            return parts[1] if len(parts) > 1 else "/"

        def serve(conn):
            try:
                path = read_request(conn)
                if path is None:
                    return
                print("REQUEST " + path, flush=True)
                if path == "/ok":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(OK_BODY) + OK_BODY)
                elif path == "/reset-mid-body":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n" + b"r" * 50000)
                    time.sleep(0.3)
                    # SO_LINGER 0: close() sends RST instead of FIN.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif path == "/extra-bytes":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
                                 b"0123456789EXTRA BYTES PAST THE CONTENT-LENGTH\r\n")
                elif path == "/no-status-code":
                    conn.sendall(b"HTTP/1.1 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
                elif path == "/garbage":
                    conn.sendall(b"\x00\xff\x00\xff\xfe garbage\r\n\r\n\xff\x00")
                elif path == "/huge-headers":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
                    value = b"h" * 65536
                    for index in range(100):
                        conn.sendall(b"X-Huge-%d: " % index + value + b"\r\n")
                    conn.sendall(b"Content-Length: 2\r\nConnection: close\r\n\r\nok")
                elif path.startswith("/random?n="):
                    n = int(path.split("=", 1)[1])
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % n + os.urandom(n))
                else:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            finally:
                conn.close()

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        print("PORT %d" % listener.getsockname()[1], flush=True)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """#

    let baseURL: String
    private let directory: TemporaryDirectory
    private let logPath: String
    private let process: RunningProcess

    init() throws {
        directory = TemporaryDirectory("exhibit-fault-server")
        let scriptPath = directory.child("server.py")
        let logPath = directory.child("server.log")
        self.logPath = logPath
        try Data(Self.script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        let python = try Validators.path(of: "python3")
        let process = try ChildProcess(python, ["-u", scriptPath, Self.okBody], stdout: .file(logPath), stderr: .sameAsStdout,
                                       clearsSignalMask: true).start()
        self.process = process
        var port: Int?
        _ = pollBlocking(until: {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }) {
                port = Int(line.dropFirst(5))
            }
            return port != nil || !process.isRunning
        }, timeout: .seconds(10), interval: .milliseconds(50))
        guard let port else {
            process.killAndWait()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the fault server did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")"])
        }
        baseURL = "http://127.0.0.1:\(port)"
    }

    func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The request targets the server has read, in order.
    func requestedPaths() -> [String] {
        log().split(separator: "\n").filter { $0.hasPrefix("REQUEST ") }.map { String($0.dropFirst(8)) }
    }

    func stop() {
        process.killAndWait()
    }
}
