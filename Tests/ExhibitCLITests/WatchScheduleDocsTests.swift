import ExhibitTestSupport
import Foundation
import Testing

/// docs/watches.md gives a crontab line and a systemd service/timer pair for
/// `exhibit watch run --due` (issue 21); they must be what they claim to be.
@Suite("docs/watches.md: the crontab line and the systemd units")
struct WatchScheduleDocsTests {
    static var document: String {
        get throws { String(decoding: try Data(contentsOf: URL(fileURLWithPath: Validators.packageRoot + "/docs/watches.md")), as: UTF8.self) }
    }

    /// The fenced blocks of a kind (```ini, ``` with no kind), in order.
    static func blocks(_ text: String, kind: String) -> [String] {
        var blocks: [String] = []
        var current: (kind: Substring, lines: [Substring])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let open = current {
                if line == "```" {
                    if open.kind == kind { blocks.append(open.lines.joined(separator: "\n") + "\n") }
                    current = nil
                } else {
                    current?.lines.append(line)
                }
            } else if line.hasPrefix("```") {
                current = (line.dropFirst(3), [])
            }
        }
        return blocks
    }

    @Test("systemd-analyze verify accepts the service and the timer without a warning")
    func systemdUnits() throws {
        let units = Self.blocks(try Self.document, kind: "ini")
        #expect(units.count == 2, "\(units.count) ini blocks")
        // systemd-analyze comes with Debian's systemd package, which `make deps` installs: a
        // missing validator fails the test rather than letting the units go unchecked.
        let analyze = try #require(["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
                                   "systemd-analyze is not installed (Debian package systemd; `make deps` installs it)")
        let directory = TemporaryDirectory("exhibit-units")
        var paths: [String] = []
        for unit in units {
            let first = try #require(unit.split(separator: "\n").first)
            let name = String(try #require(first.split(separator: "/").last))
            #expect(name.hasPrefix("exhibit-watch."), "\(first)")
            // verify checks that ExecStart's program exists: the one built here.
            let text = unit.replacingOccurrences(of: "/usr/local/bin/exhibit", with: ExhibitProcess.binaryPath)
            let path = directory.child(name)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let result = try Command.run(analyze, ["verify"] + paths)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "systemd-analyze warned: \(result.output)")
        #expect(units.contains { $0.contains("ExecStart=/usr/local/bin/exhibit watch run --due") })
        #expect(units.contains { $0.contains("OnUnitActiveSec=5min") && $0.contains("WantedBy=timers.target") })
    }

    @Test("the crontab line runs watch run --due every five minutes with a workspace and an actor")
    func crontab() throws {
        let lines = Self.blocks(try Self.document, kind: "").flatMap { $0.split(separator: "\n") }.filter { $0.hasPrefix("*/5 ") }
        #expect(lines.count == 1, "\(lines)")
        let fields = try #require(lines.first).split(separator: " ", maxSplits: 5)
        #expect(fields.count == 6)
        #expect(fields.prefix(5).joined(separator: " ") == "*/5 * * * *")
        let command = String(fields[5])
        #expect(command.contains("EXHIBIT_WORKSPACE=") && command.contains("EXHIBIT_ACTOR="))
        #expect(command.contains("/usr/local/bin/exhibit watch run --due"))
        // The command part must parse as a shell command line.
        let check = try Command.run("/bin/sh", ["-n", "-c", command])
        #expect(check.status == 0, "\(check.output)")
    }
}
