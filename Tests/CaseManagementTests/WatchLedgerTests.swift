import CaseManagement
import ChainOfCustody
import Testing

/// Watches folded from a case's ledger (DESIGN §18): intervals, ids, due times.
@Suite("watches in the ledger")
struct WatchLedgerTests {
    @Test("intervals: units and sums, written back with the largest units; nonsense refused")
    func intervals() {
        #expect(WatchInterval.seconds(parsing: "90s") == 90)
        #expect(WatchInterval.seconds(parsing: "15m") == 900)
        #expect(WatchInterval.seconds(parsing: "6h") == 21_600)
        #expect(WatchInterval.seconds(parsing: "1d12h") == 129_600)
        #expect(WatchInterval.seconds(parsing: "2W") == 1_209_600)
        for bad in ["", "6", "h", "6x", "-1h", "1.5h", "0m", "99999999h"] {
            #expect(WatchInterval.seconds(parsing: bad) == nil, "\(bad)")
        }
        #expect(WatchInterval.text(seconds: 129_600) == "1d12h")
        #expect(WatchInterval.text(seconds: 5_400) == "1h30m")
    }

    @Test("watch ids name their case and entry")
    func ids() {
        #expect(WatchLedger.id(caseID: "MP-2026-0001", seq: 7) == "MP-2026-0001-W0007")
        // At least four digits, as printf's %04d gives them: never cut, never more zeros.
        for (seq, id) in [(1, "W0001"), (42, "W0042"), (999, "W0999"), (1001, "W1001"), (12_345, "W12345"), (1_000_000, "W1000000")] {
            #expect(WatchLedger.id(caseID: "MP-2026-0001", seq: seq) == "MP-2026-0001-" + id)
            #expect(WatchLedger.parse("MP-2026-0001-" + id)?.seq == seq)
        }
        #expect(WatchLedger.parse("MP-2026-0001-W0007")?.caseID == "MP-2026-0001")
        #expect(WatchLedger.parse("MP-2026-0001-W0007")?.seq == 7)
        for bad in ["W0007", "MP-2026-0001-W", "MP-2026-0001-Wx", "mp-2026-0001-W0007", "MP-2026-0001-W0"] {
            #expect(WatchLedger.parse(bad) == nil, "\(bad)")
        }
    }

    /// An entry as a ledger line carries it (unsigned: folding reads subjects, verify checks signatures).
    func entry(_ seq: Int64, _ action: String, _ subject: JSONValue, time: String) throws -> LedgerEntry {
        try LedgerEntry(json: [
            "seq": .integer(seq), "time": .string(time), "case": "OC-2026-0001", "actor": "a-0002", "action": .string(action),
            "subject": subject, "salt": "00", "subject_digest": "", "prev": "", "hash": "", "sig": "",
        ])
    }

    @Test("due after the interval from the last run's start; unreachable runs counted in a row; removal ends it")
    func folding() throws {
        let added = "2026-12-01T10:00:00.000000Z"
        var entries = [try entry(2, "watch", ["url": "https://example.org/", "every_seconds": 3600, "browser": false], time: added)]
        var watches = WatchLedger.watches(in: entries)
        let start = try #require(LedgerTime.seconds(of: added))
        #expect(watches.count == 1 && watches[0].id == "OC-2026-0001-W0002")
        #expect(watches[0].isDue(at: start))
        entries.append(try entry(4, "change", ["watch": "OC-2026-0001-W0002", "result": "unreachable", "run_started": "2026-12-01T10:05:00.000000Z"], time: "2026-12-01T10:05:09.000000Z"))
        entries.append(try entry(6, "change", ["watch": "OC-2026-0001-W0002", "result": "unreachable", "run_started": "2026-12-01T11:05:00.000000Z"], time: "2026-12-01T11:05:09.000000Z"))
        watches = WatchLedger.watches(in: entries)
        #expect(watches[0].runs == 2 && watches[0].consecutiveUnreachable == 2)
        #expect(!watches[0].isDue(at: start + 7_199))
        #expect(watches[0].isDue(at: start + 7_500))
        #expect(watches[0].nextDue == "2026-12-01T12:05:00.000000Z")
        entries.append(try entry(8, "change", ["watch": "OC-2026-0001-W0002", "result": "unchanged", "run_started": "2026-12-01T12:05:00.000000Z"], time: "2026-12-01T12:05:02.000000Z"))
        #expect(WatchLedger.watches(in: entries)[0].consecutiveUnreachable == 0)
        entries.append(try entry(9, "watch-removed", ["watch": "OC-2026-0001-W0002"], time: "2026-12-01T12:06:00.000000Z"))
        watches = WatchLedger.watches(in: entries)
        #expect(watches[0].removedAt != nil && !watches[0].isDue(at: start + 100_000) && watches[0].nextDue == nil)
    }
}
