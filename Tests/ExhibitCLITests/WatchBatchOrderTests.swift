import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing
@testable import Watches

/// A watch run compares each batch its capture job seals on a thread of its own and
/// appends the batch's change entries while the next batch is fetched
/// (`SealedBatchJudge`); the next seal waits for them (`willSeal()`), so they come right
/// after their batch's entries and before the next batch's, in the watches' order.
@Suite("watch run: each batch's change entries follow the batch, before the next seal")
struct WatchBatchOrderTests {
    /// Three watches (a, b, c) of one case, and a judge whose appends are counted; `fail`
    /// makes every append of the judge's fail.
    struct Setup {
        let ws: TestWorkspace
        let caseID: String
        let session: ActingSession
        let watches: [Watch]
        let judge: SealedBatchJudge
        let appends: Counter

        init(fail: Bool = false) throws {
            ws = try TestWorkspace("exhibit-watch-order")
            caseID = try ws.openCase()
            session = try ws.session()
            let book = WatchBook(session: session)
            let urls = ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b", "http://127.0.0.1:1/c"]
            for url in urls {
                var request = WatchBook.Request(url: url, every: "1d")
                request.allowNetworks = ["127.0.0.1/32"]
                request.reason = "test"
                _ = try book.add(caseID: caseID, request)
            }
            watches = WatchLedger.watches(in: try ws.entries(caseID))
            let patterns = try RemovalPatternsInForce(templates: session.store.templates)
            let bases = Dictionary(uniqueKeysWithValues: urls.map {
                ($0, SealedBatchJudge.Basis(previous: nil, unreachableBefore: 0, previousPassedRemoval: false))
            })
            let started = LedgerTime.now()
            let (store, session, caseID, appends) = (session.store, session, caseID, Counter())
            self.appends = appends
            judge = SealedBatchJudge(
                batch: watches, bases: bases, caseDirectory: ws.caseDirectory(caseID), patterns: patterns,
                makeDraft: { watch, comparison in
                    var subject = comparison.subject
                    subject["watch"] = .string(watch.id)
                    subject["url"] = .string(watch.url)
                    subject["run_started"] = .string(started)
                    return LedgerDraft(action: WatchLedger.changeAction, subject: .object(subject))
                },
                append: { drafts throws(ExhibitError) in
                    appends.add(1)
                    if fail { throw ExhibitError(.storage, "no space left on the test's device") }
                    _ = try store.append(drafts, to: caseID, signer: try session.signer())
                })
        }

        /// Seals a batch of failed captures of these URLs, as a capture job's seal does.
        func seal(_ urls: [String]) throws {
            judge.willSeal()
            let drafts = urls.map {
                LedgerDraft(action: "capture-failed", subject: .object(["url": .string($0), "role": .string("page"), "reason": .string("refused")]))
            }
            judge.sealed(try session.store.append(drafts, to: caseID, signer: try session.signer()))
        }

        /// The ledger from `start` on, as (action, url or watch id).
        func tail(from start: Int) throws -> [String] {
            try ws.entries(caseID).dropFirst(start).map { entry in
                let subject = entry.subject
                return entry.action + " " + (subject?["watch"]?.stringValue ?? subject?["url"]?.stringValue ?? "")
            }
        }
    }

    @Test("batch (a, b) then batch (c): each batch's change entries right after it, in the watches' order")
    func changeEntriesFollowTheirBatch() throws {
        let setup = try Setup()
        let start = try setup.ws.entries(setup.caseID).count
        let (a, b, c) = (setup.watches[0], setup.watches[1], setup.watches[2])
        // Sealed in the order b, a: the change entries still go in the watches' order.
        try setup.seal([b.url, a.url])
        try setup.seal([c.url])
        let (decided, failure) = setup.judge.finish()
        #expect(failure == nil)
        #expect(decided.keys.sorted() == [0, 1, 2])
        #expect(decided.values.allSatisfy { $0.result == "unreachable" })
        #expect(setup.appends.value == 2, "one append per batch")
        #expect(try setup.tail(from: start) == [
            "capture-failed \(b.url)", "capture-failed \(a.url)", "change \(a.id)", "change \(b.id)",
            "capture-failed \(c.url)", "change \(c.id)",
        ])
    }

    @Test("an append that fails is reported, and no later batch is compared")
    func failedAppendStopsTheJudge() throws {
        let setup = try Setup(fail: true)
        let start = try setup.ws.entries(setup.caseID).count
        try setup.seal([setup.watches[0].url])
        try setup.seal([setup.watches[1].url, setup.watches[2].url])
        let (decided, failure) = setup.judge.finish()
        #expect(failure?.message == "no space left on the test's device")
        #expect(decided.isEmpty)
        #expect(setup.appends.value == 1, "the second batch is not compared after the first append failed")
        #expect(try setup.tail(from: start).allSatisfy { $0.hasPrefix("capture-failed") })
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add(_ n: Int) { lock.withLock { count += n } }
        var value: Int { lock.withLock { count } }
    }
}
