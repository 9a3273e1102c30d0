import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// DESIGN §16 "Containers" (issue 16): `exhibit verify x.zip` extracts at most
/// 64 MiB plus 100 times the zip's own size, and removes what it wrote.
@Suite("zip bomb bound")
struct ZipBombTests {
    @Test("a 245 KB zip of four 60 MiB entries of zeros: exit 5 with one sentence, no extraction folder left, almost nothing written")
    func fourEntriesOfSixtyMebibytes() throws {
        let directory = TemporaryDirectory("zip-bomb")
        let zip = directory.child("bomb.zip")
        // Zeros deflate about 1000:1: 240 MiB in about 245 KB. Each entry stays under
        // the 64 MiB per-entry ratio rule, and the total under 8 GiB and the free space,
        // so only the bound on the whole extraction can stop it.
        let made = try Command.run("/usr/bin/python3", ["-c", """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
                z.writestr("OC-2026-0001/bagit.txt", "BagIt-Version: 1.0\\n")
                for i in range(4):
                    z.writestr("OC-2026-0001/data/zeros%d.bin" % i, bytes(60 << 20))
            """, zip])
        #expect(made.status == 0, "\(made.output)")
        var info = stat()
        #expect(stat(zip, &info) == 0)
        let zipSize = Int64(info.st_size)
        #expect(zipSize < 300_000)
        let bound = (64 << 20) + 100 * zipSize

        // verify extracts into $TMPDIR: one we can look into afterwards.
        let temporary = directory.child("tmp")
        #expect(mkdir(temporary, 0o700) == 0)
        let run = try WriteCountingRun(["verify", zip], environment: ["TMPDIR": temporary], scratch: directory.path)

        #expect(run.status == 5, "\(run.stdout) \(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(run.stderr)")
        #expect(run.stderr.contains("\(zip) declares more than \(bound) bytes (64 MiB plus 100 times its own \(zipSize) bytes), a zip bomb"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary) == [], "the extraction folder is left behind")
        // Refused from the declared sizes, before anything was written (before the
        // bound, 239 MiB were written); the streaming check would stop it at `bound`.
        #expect(run.bytesWritten < 1 << 20, "exhibit wrote \(run.bytesWritten) bytes")
        #expect(run.bytesWritten < bound)
        print("zip bomb: \(zipSize)-byte zip, bound \(bound) bytes, exhibit wrote \(run.bytesWritten) bytes")
    }
}

/// Runs `exhibit` and reports the bytes it passed to write(2): `wchar` of
/// /proc/PID/io, read once the process has exited and before it is reaped (a
/// zombie keeps its counters; Foundation's `Process` would reap it at once).
struct WriteCountingRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var bytesWritten: Int64

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(_ arguments: [String], environment: [String: String], scratch: String, timeout: Double = 120) throws {
        let outPath = scratch + "/run-stdout"
        let errPath = scratch + "/run-stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let binary = ExhibitProcess.binaryPath
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = ExhibitProcess(environment: environment).environment
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, binary, &actions, nil, argv, envp)
        guard spawned == 0 else { throw Failure(description: "posix_spawn \(binary): \(String(cString: strerror(spawned)))") }

        // Poll, with a deadline, for the zombie state ("Z", the field after the name).
        let deadline = Date().addingTimeInterval(timeout)
        var counters: String?
        while counters == nil, Date() < deadline {
            let stat = String(decoding: (try? AtomicFile.read("/proc/\(pid)/stat")) ?? [], as: UTF8.self)
            if stat.split(separator: ")").last?.split(separator: " ").first == "Z" {
                counters = String(decoding: try AtomicFile.read("/proc/\(pid)/io"), as: UTF8.self)
            } else {
                usleep(1_000)
            }
        }
        if counters == nil { kill(pid, SIGKILL) }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
        guard let counters else { throw Failure(description: "exhibit \(arguments) did not finish within \(timeout) s") }
        guard let line = counters.split(separator: "\n").first(where: { $0.hasPrefix("wchar:") }),
              let written = Int64(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else {
            throw Failure(description: "no wchar in /proc/\(pid)/io: \(counters)")
        }
        status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        stdout = String(decoding: try AtomicFile.read(outPath), as: UTF8.self)
        stderr = String(decoding: try AtomicFile.read(errPath), as: UTF8.self)
        bytesWritten = written
    }
}
