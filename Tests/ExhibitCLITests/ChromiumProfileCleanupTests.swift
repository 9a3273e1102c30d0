import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// A kill -9 during a browser capture leaves Chromium's temporary profile behind; the
/// next browser capture removes such leftovers and nothing a running process uses.
@Suite("stale Chromium profiles")
struct ChromiumProfileCleanupTests {
    @Test("a browser capture removes profiles of dead processes and keeps a live one")
    func staleProfilesRemoved() async throws {
        let temporary = TemporaryDirectory("chromium-tmp")
        // pid_max is one past the largest pid: no process can hold it.
        let pidMax = try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let stale = temporary.path + "/exhibit-chromium-\(pidMax)-AbC123"
        let live = temporary.path + "/exhibit-chromium-\(getpid())-XyZ789"
        let unnamed = temporary.path + "/exhibit-chromium-Q1w2E3"
        for directory in [stale, live, unnamed] {
            try FileManager.default.createDirectory(atPath: directory + "/Default", withIntermediateDirectories: true)
        }
        let exhibit = ExhibitProcess(environment: ["TMPDIR": temporary.path])
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory ?? "") { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let result = try await Blocking.run { try exhibit.run(["capture", caseID, site.baseURL + "/js/fetch-text.html", "--browser", "--wait", "0.5",
                                          "--workspace", ws.root, "--actor", ws.investigatorID,
                                          "--allow-network", "127.0.0.2/32", "--reason", "fixture site"]) }
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: stale), "\(stale)")
        #expect(FileManager.default.fileExists(atPath: live + "/Default"), "\(live)")
        #expect(FileManager.default.fileExists(atPath: unnamed), "\(unnamed)")
        // The capture's own profile is gone once it ends.
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary.path).sorted()
        #expect(left == ["exhibit-chromium-\(getpid())-XyZ789", "exhibit-chromium-Q1w2E3"], "\(left)")
    }
}
