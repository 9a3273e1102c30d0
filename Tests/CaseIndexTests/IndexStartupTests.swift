import CaseIndex
import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import Synchronization
import Testing

/// The reading commands no longer run SQLite's quick_check over the whole index at
/// start, nor read the whole ledger (issue 25): damage is found where SQLite reads it
/// and the command's work is done again on a rebuilt index, and only the ledger's new
/// bytes are indexed.
@Suite("Index start-up")
struct IndexStartupTests {
    func capture(_ ws: TestWorkspace, _ caseID: String, _ urls: [String]) async throws {
        var options = CaptureOptions(urls: urls)
        options.allowNetworks = ["127.0.0.1/32"]
        options.allowReason = "test fixture on loopback"
        let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
        let report = try await Blocking.run { try job.run() }
        #expect(report.failed.isEmpty && report.refused.isEmpty)
    }

    /// What a command said on stderr.
    final class Said: Sendable {
        let lines = Mutex<[String]>([])
    }

    func reader(_ ws: TestWorkspace, _ notices: Said) throws -> CaseReader {
        let session = try ActingSession(workspace: ws.workspace, templates: try CaseTemplates.load(), actorID: ws.investigatorID,
                                        notices: { notice in notices.lines.withLock { $0.append(notice) } })
        return try CaseReader(session: session)
    }

    @Test("damage in the page text's pages, which only a search reads, is found by the search: the index is rebuilt and the search gives the same hits")
    func damageFoundLate() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            try await capture(ws, caseID, ["/forum.html", "/report.html", "/classifieds.html"].map { site.baseURL + $0 })
            let notices = Said()
            let before = try reader(ws, notices).search("the", caseID: nil)
            #expect(!before.isEmpty)
            #expect(notices.lines.withLock { $0 }.isEmpty)

            // Random bytes over the FTS5 table's data pages (not the cases or artifacts tables,
            // which every command reads): only a full-text search reaches them.
            let index = ws.root + "/index.sqlite"
            let query = try Command.run(try Validators.path(of: "python3"), ["-c", """
                import sqlite3, sys
                db = sqlite3.connect("file:" + sys.argv[1] + "?immutable=1", uri=True)
                pages = [db.execute("PRAGMA page_size").fetchone()[0]]
                pages += [row[0] for row in db.execute("SELECT rootpage FROM sqlite_master WHERE name IN ('page_text_data', 'page_text_idx')")]
                print(" ".join(map(str, pages)))
                """, index])
            let numbers = query.output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
            try #require(query.status == 0 && numbers.count == 3, "\(query.output)")
            var random = SeededRandom()
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: index))
            for page in numbers.dropFirst() {
                try handle.seek(toOffset: UInt64((page - 1) * numbers[0]))
                try handle.write(contentsOf: random.bytes(numbers[0]))
            }
            try handle.close()

            // `artifacts` does not read the page text: it neither notices nor fails.
            #expect(try reader(ws, notices).artifacts(caseID).count == 3)
            let after = try reader(ws, notices).search("the", caseID: nil)
            #expect(after.map(\.artifact) == before.map(\.artifact), "\(random.replay)")
            #expect(after.map(\.snippet) == before.map(\.snippet))
            let said = notices.lines.withLock { $0 }
            #expect(said.count == 1 && said.allSatisfy { $0.contains("damaged") && $0.contains("rebuilt") }, "\(said)")
        }
    }

    @Test("a refresh reads on from where it stopped: new entries are indexed once, an unchanged ledger writes nothing, a ledger that no longer holds the last indexed entry is indexed again")
    func readsOnlyNewBytes() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let store = CaseStore(workspace: ws.workspace, templates: try CaseTemplates.load())
            try await capture(ws, caseID, [site.baseURL + "/forum.html"])
            let index = try WorkspaceIndex(workspace: ws.workspace)
            try index.refresh(caseID: caseID, store: store)
            #expect(try index.artifacts(caseID: caseID).count == 1)

            // Unchanged: nothing written (the WAL does not grow).
            let wal = ws.root + "/index.sqlite-wal"
            let walBefore = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            try index.refresh(caseID: caseID, store: store)
            let walAfter = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            #expect(walAfter == walBefore)

            // Grown: the new capture is added, the first is not added twice.
            try await capture(ws, caseID, [site.baseURL + "/report.html"])
            try index.refresh(caseID: caseID, store: store)
            #expect(try index.artifacts(caseID: caseID).map(\.url) == [site.baseURL + "/forum.html", site.baseURL + "/report.html"])

            // The ledger's last indexed entry is no longer where the index remembers it (the
            // ledger was restored from a copy taken before the second capture): the case is
            // indexed again from the ledger as it is.
            let ledger = ws.caseDirectory(caseID) + "/ledger.jsonl"
            let lines = try AtomicFile.read(ledger).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
            let firstCapture = try #require(lines.firstIndex { (try? LedgerEntry(line: Array($0)))?.action == "capture" })
            let secondCapture = try #require(lines.lastIndex { (try? LedgerEntry(line: Array($0)))?.action == "capture" })
            #expect(firstCapture != secondCapture)
            let kept = lines[...firstCapture].flatMap { Array($0) + [UInt8(ascii: "\n")] }
            let saved = try AtomicFile.read(ledger)
            try Data(kept).write(to: URL(fileURLWithPath: ledger))
            try index.refresh(caseID: caseID, store: store)
            #expect(try index.artifacts(caseID: caseID).map(\.url) == [site.baseURL + "/forum.html"])
            try Data(saved).write(to: URL(fileURLWithPath: ledger))
            try index.refresh(caseID: caseID, store: store)
            #expect(try index.artifacts(caseID: caseID).map(\.url) == [site.baseURL + "/forum.html", site.baseURL + "/report.html"])
        }
    }
}
