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
/// zombie keeps its counters). Foundation's `Process` reaps its own child at once,
/// so `exhibit` runs as the child of a small python3 parent that waits with
/// WNOWAIT, saves the counters to a file, reaps, and exits with the child's status.
struct WriteCountingRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var bytesWritten: Int64

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let parent = """
        import os, sys
        counters, argv = sys.argv[1], sys.argv[2:]
        pid = os.fork()
        if pid == 0:
            os.execv(argv[0], argv)
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        with open("/proc/%d/io" % pid) as source, open(counters, "w") as target:
            target.write(source.read())
        _, raw = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(raw)
        sys.exit(code if code >= 0 else 128 - code)
        """

    init(_ arguments: [String], environment: [String: String], scratch: String, timeout: Double = 120) throws {
        let countersPath = scratch + "/run-io"
        let finished = try ChildProcess("/usr/bin/python3", ["-c", Self.parent, countersPath, ExhibitProcess.binaryPath] + arguments,
                                        environment: ExhibitProcess(environment: environment).environment)
            .run(timeout: .seconds(timeout))
        guard !finished.timedOut else { throw Failure(description: "exhibit \(arguments) did not finish within \(timeout) s") }
        let counters = String(decoding: (try? AtomicFile.read(countersPath)) ?? [], as: UTF8.self)
        guard let line = counters.split(separator: "\n").first(where: { $0.hasPrefix("wchar:") }),
              let written = Int64(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) else {
            throw Failure(description: "no wchar in exhibit's /proc/PID/io (\(counters)); the parent said: \(finished.stderrText)")
        }
        status = finished.status
        stdout = finished.stdoutText
        stderr = finished.stderrText
        bytesWritten = written
    }
}
