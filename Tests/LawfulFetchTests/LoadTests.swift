import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import Testing

/// Load (issue 9, item 5): 2,000 URLs over 20 loopback hosts at concurrency 32,
/// in this process, so its file descriptors and memory can be counted.
@Suite("Capture under load")
struct LoadTests {
    static func openDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    static func residentBytes() -> Int {
        // VmRSS from /proc/self/status, in kB.
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes * 1024
    }

    @Test("2,000 URLs over 20 hosts at concurrency 32: each recorded exactly once, no descriptor leak, memory bounded, the case verifies")
    func twoThousandURLs() async throws {
        try await withFixtureSites(hosts: (10...29).map { "127.0.0.\($0)" }, siteDirectory: nil) { sites in
            var urls: [String] = []
            for index in 0..<2000 {
                urls.append(sites[index % sites.count].baseURL + "/test/pages/\(index / sites.count)?count=100")
            }
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            var options = CaptureOptions(urls: urls)
            options.concurrency = 32
            options.allowNetworks = ["127.0.0.0/24"]
            options.allowReason = "load test on loopback"
            let session = try ws.session()

            let descriptorsBefore = Self.openDescriptors()
            let memoryBefore = Self.residentBytes()
            let job = CaptureJob(session: session, caseID: caseID, options: options)
            let report = try await Blocking.run { try job.run() }
            // The servers close their side of each connection when they see the client's close.
            var descriptorsAfter = Self.openDescriptors()
            for _ in 0..<40 where descriptorsAfter > descriptorsBefore + 2 {
                try await Task.sleep(for: .milliseconds(100))
                descriptorsAfter = Self.openDescriptors()
            }
            if descriptorsAfter > descriptorsBefore + 2 {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
                let targets = names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
                print("open descriptors:", Dictionary(grouping: targets, by: { $0.split(separator: ":").first.map(String.init) ?? $0 }).mapValues(\.count))
            }
            let memoryAfter = Self.residentBytes()

            #expect(report.failed.isEmpty, "\(report.failed.prefix(3))")
            #expect(report.refused.isEmpty)
            #expect(report.captured.count == 2000)
            let recorded = try ws.entries(caseID).filter { $0.action == "capture" }.compactMap { $0.subject?["url"]?.stringValue }
            #expect(recorded.count == 2000)
            #expect(Set(recorded) == Set(urls), "every URL exactly once")
            // Every server saw each of its URLs once.
            #expect(sites.map { $0.requests().count }.reduce(0, +) == 2000)
            // The loopback servers keep their own listening sockets; the capture must give back all of its own.
            #expect(descriptorsAfter <= descriptorsBefore + 2, "descriptors \(descriptorsBefore) → \(descriptorsAfter)")
            #expect(memoryAfter - memoryBefore < 256 << 20, "resident memory grew by \((memoryAfter - memoryBefore) >> 20) MiB")
            // WARC rotation every 500 URLs: four files, and the case verifies.
            let warcs = try FileManager.default.contentsOfDirectory(atPath: ws.caseDirectory(caseID) + "/warc").filter { $0.hasSuffix(".warc.gz") }
            #expect(warcs.count == 4)
            let verification = try CaseVerification.verify(
                directory: ws.caseDirectory(caseID), keyFor: CaseVerification.workspaceKeys(forCaseDirectory: ws.caseDirectory(caseID)))
            #expect(verification.intact, "\(verification.findings.prefix(3).map(\.line))")
        }
    }
}
