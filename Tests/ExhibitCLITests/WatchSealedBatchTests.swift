import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing
@testable import Watches

/// A watch run whose capture seals several batches: each batch's change entries are
/// appended right after the batch, while the next one is fetched (docs/watches.md).
@Suite("watch run: change entries follow each sealed batch")
struct WatchSealedBatchTests {
    let exhibit = ExhibitProcess()

    /// One daily watch per URL, with loopback's network override sealed in.
    func addDailyWatches(_ urls: [String], ws: TestWorkspace, caseID: String) throws {
        let book = WatchBook(session: try ws.session())
        for url in urls {
            var request = WatchBook.Request(url: url, every: "1d")
            request.allowNetworks = ["127.0.0.1/32"]
            request.reason = "fixture"
            _ = try book.add(caseID: caseID, request)
        }
    }

    @Test("batches of 2 URLs: each batch's change entries follow its entries, in watch order; verify passes; the next run finds the pages unchanged")
    func changeEntriesFollowEachBatch() async throws {
        let ws = try TestWorkspace("exhibit-watch-batches")
        let caseID = try ws.openCase()
        try await withFixtureSite(siteDirectory: nil) { site in
            // Five pages and one refused connection (nothing listens on port 1): a failure
            // is a batch's entry too.
            let urls = (0..<5).map { site.baseURL + "/test/pages/\($0)?count=5" } + ["http://127.0.0.1:1/gone"]
            try addDailyWatches(urls, ws: ws, caseID: caseID)
            var runner = WatchRunner(session: try ws.session())
            runner.rotateURLs = 2
            let first = try runner.run(dueOnly: true, concurrency: 2)
            #expect(first.ran.count == 6 && first.failed.isEmpty, "\(first.ran.map(\.result)) \(first.failed.map(\.reason))")
            #expect(first.ran.map(\.url) == urls, "outcomes in the watches' order")

            let entries = try ws.entries(caseID)
            let job = Array(entries.drop { $0.action != "policy-override" }.dropFirst())
            // Runs of the job's own entries, each followed by a run of change entries.
            var runs: [(job: [LedgerEntry], changes: [LedgerEntry])] = []
            for entry in job {
                if entry.action == WatchLedger.changeAction {
                    if runs.isEmpty { runs.append(([], [])) }
                    runs[runs.count - 1].changes.append(entry)
                } else if runs.isEmpty || !runs[runs.count - 1].changes.isEmpty {
                    runs.append(([entry], []))
                } else {
                    runs[runs.count - 1].job.append(entry)
                }
            }
            // At least three seals: which entries share one depends on which transfers end
            // first, so a loaded machine has shown a fourth (the failure sealed alone).
            // One group of change entries after the job would be a single run.
            #expect(runs.count >= 3, "sealed batches of about 2 URLs: \(job.map(\.action))")
            for run in runs {
                let sealed = run.job.compactMap { $0.subject?["url"]?.stringValue }
                let changed = run.changes.compactMap { $0.subject?["url"]?.stringValue }
                #expect(Set(changed) == Set(sealed) && !changed.isEmpty, "a batch's change entries name its own URLs: \(sealed) \(changed)")
                #expect(changed == urls.filter(changed.contains), "in the watches' order: \(changed)")
                for change in run.changes {
                    let url = change.subject?["url"]?.stringValue
                    let own = run.job.first { $0.subject?["url"]?.stringValue == url }
                    if let seq = change.subject?["capture"]?["seq"]?.intValue { #expect(seq == own?.seq) }
                }
            }
            let results = runs.flatMap(\.changes).map { ($0.subject?["url"]?.stringValue ?? "", $0.subject?["result"]?.stringValue ?? "") }
            #expect(Dictionary(results, uniquingKeysWith: { a, _ in a }) == Dictionary(
                urls.map { ($0, $0.contains("/gone") ? "unreachable" : "captured") }, uniquingKeysWith: { a, _ in a }))
            let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root, "--actor", ws.supervisorID])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")

            let second = try runner.run(dueOnly: false, concurrency: 2)
            #expect(second.ran.map(\.result) == Array(repeating: "unchanged", count: 5) + ["unreachable"])
            #expect(second.ran.last?.consecutiveUnreachable == 2)
            let again = try exhibit.run(["verify", caseID, "--workspace", ws.root, "--actor", ws.supervisorID])
            #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
        }
    }

    @Test("pages parsed two at a time, across batches of 4: each removal notice is found, every other page is captured; verify passes")
    func removalChecksOfPagesParsedInChunks() async throws {
        let ws = try TestWorkspace("exhibit-watch-chunks")
        let caseID = try ws.openCase()
        try await withFixtureSite(siteDirectory: nil) { site in
            // Version 5 of /test/watched is a platform's "content isn't available" notice
            // (status 200): a removal only its title and text show.
            site.watchedPageVersion = 5
            let urls = (0..<11).map { $0 % 3 == 1 ? site.baseURL + "/test/watched?copy=\($0)" : site.baseURL + "/test/pages/\($0)?count=11" }
            try addDailyWatches(urls, ws: ws, caseID: caseID)
            var runner = WatchRunner(session: try ws.session())
            runner.rotateURLs = 4
            runner.parseChunk = 2
            let expected = urls.map { $0.contains("/test/watched") ? "removed" : "captured" }
            let first = try runner.run(dueOnly: true, concurrency: 3)
            #expect(first.failed.isEmpty, "\(first.failed.map(\.reason))")
            #expect(first.ran.map(\.url) == urls)
            #expect(first.ran.map(\.result) == expected, "\(first.ran.map { "\($0.url) \($0.result): \($0.summary)" })")
            let second = try runner.run(dueOnly: false, concurrency: 3)
            #expect(second.ran.map(\.result) == urls.map { $0.contains("/test/watched") ? "removed" : "unchanged" },
                    "\(second.ran.map { "\($0.url) \($0.result): \($0.summary)" })")
            let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root, "--actor", ws.supervisorID])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        }
    }
}
