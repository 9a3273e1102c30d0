import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing
@testable import Watches

/// A watch run's change entries ride in the next seal's append (`SealedBatchJudge.willSeal()`);
/// a seal that fails after its append never reports them appended, so `finish(recorded:)`
/// must find them in the ledger and not append them a second time.
@Suite("watch run: change entries given to a seal are appended once")
struct WatchSealHandOffTests {
    @Test("change entries appended by a seal that then failed are not appended again; the others are")
    func noSecondAppend() throws {
        let ws = try TestWorkspace("exhibit-watch-handoff")
        let caseID = try ws.openCase()
        let session = try ws.session()
        let book = WatchBook(session: session)
        let urls = ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b", "http://127.0.0.1:1/c"]
        for url in urls {
            var request = WatchBook.Request(url: url, every: "1d")
            request.allowNetworks = ["127.0.0.1/32"]
            request.reason = "test"
            _ = try book.add(caseID: caseID, request)
        }
        let watches = WatchLedger.watches(in: try ws.entries(caseID))
        #expect(watches.count == 3)
        let patterns = try RemovalPatternsInForce(templates: session.store.templates)
        let bases = Dictionary(uniqueKeysWithValues: urls.map {
            ($0, SealedBatchJudge.Basis(previous: nil, unreachableBefore: 0, previousPassedRemoval: false))
        })
        let started = LedgerTime.now()
        let store = session.store
        let appendedByJudge = Counter()
        let judge = SealedBatchJudge(
            batch: watches, bases: bases, caseDirectory: ws.caseDirectory(caseID), patterns: patterns,
            makeDraft: { watch, comparison in
                var subject = comparison.subject
                subject["watch"] = .string(watch.id)
                subject["url"] = .string(watch.url)
                subject["run_started"] = .string(started)
                return LedgerDraft(action: WatchLedger.changeAction, subject: .object(subject))
            },
            append: { drafts throws(ExhibitError) in
                appendedByJudge.add(drafts.count)
                _ = try store.append(drafts, to: caseID, signer: try session.signer())
            })
        let jobStart = try ws.entries(caseID).count
        func failed(_ url: String) -> LedgerDraft {
            LedgerDraft(action: "capture-failed", subject: .object(["url": .string(url), "role": .string("page"), "reason": .string("refused")]))
        }
        // First batch (a, b) sealed and judged; the next seal takes its change entries,
        // appends them with its own entry (c), then fails before reporting the batch sealed.
        judge.sealed(try store.append([failed(urls[0]), failed(urls[1])], to: caseID, signer: try session.signer()))
        let given = judge.willSeal()
        #expect(given.count == 2)
        _ = try store.append(given + [failed(urls[2])], to: caseID, signer: try session.signer())
        let (decided, failure) = judge.finish(recorded: { () throws(ExhibitError) in
            Array(try Ledger(path: ws.caseDirectory(caseID) + "/ledger.jsonl").entries().dropFirst(jobStart))
        })
        #expect(failure == nil)
        #expect(decided.keys.sorted() == [0, 1], "a and b decided, by the seal's append")
        #expect(appendedByJudge.value == 0, "nothing appended again")
        let changes = try ws.entries(caseID).filter { $0.action == WatchLedger.changeAction }
        #expect(changes.compactMap { $0.subject?["watch"]?.stringValue } == [watches[0].id, watches[1].id])
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add(_ n: Int) { lock.withLock { count += n } }
        var value: Int { lock.withLock { count } }
    }
}
