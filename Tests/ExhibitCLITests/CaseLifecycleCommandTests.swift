import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Case ids, listing, showing (a recorded view), closing, and `exhibit demo`.
@Suite("case lifecycle")
struct CaseLifecycleCommandTests {
    let exhibit = ExhibitProcess()

    @Test("ids are PREFIX-YEAR-NNNN per prefix; show is recorded; a closed case refuses notes with exit 4")
    func lifecycle() throws {
        let ws = try TestWorkspace()
        let year = String(LedgerTime.now().prefix(4))
        let first = try ws.openCase()
        let second = try ws.openCase()
        let session = try ws.session()
        let missing = try session.openCase(category: "missing-person", title: "M",
                                           fields: ["subject_name": "A", "last_seen_date": "2026-01-02", "last_seen_place": "Park"]).id
        #expect([first, second, missing] == ["OC-\(year)-0001", "OC-\(year)-0002", "MP-\(year)-0001"])

        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let list = try exhibit.run(["case", "list", "--json"] + actor)
        #expect(list.status == 0)
        #expect(try JSONValue(parsing: list.stdout).arrayValue?.count == 3)
        let show = try exhibit.run(["case", "show", first, "--json"] + actor)
        #expect(try JSONValue(parsing: show.stdout)["category"]?.stringValue == "online-crime")
        #expect(try ws.entries(first).last?.action == "view")

        let close = try exhibit.run(["case", "close", first, "--reason", "done", "--workspace", ws.root, "--actor", ws.supervisorID])
        #expect(close.status == 0)
        let note = try exhibit.run(["case", "note", first, "late"] + actor)
        #expect(note.status == 4)
        #expect(note.stderr.contains("closed"))
        #expect(try ws.entries(first).last?.action == "refusal")
        #expect(try exhibit.run(["verify", first, "--workspace", ws.root]).status == 0)
    }

    @Test("two processes opening cases at once get distinct ids")
    func concurrentOpen() async throws {
        let ws = try TestWorkspace()
        let arguments = ["case", "open", "--category", "online-crime", "--title", "T", "--field", "subtype=other",
                         "--field", "complainant_reference=R", "--workspace", ws.root, "--actor", ws.investigatorID]
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 {
                group.addTask { try await Blocking.run { try ExhibitProcess().run(arguments).stdout.trimmingCharacters(in: .whitespacesAndNewlines) } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(ids).count == 6)
        #expect(ids.allSatisfy { $0.hasPrefix("OC-") })
    }

    @Test("exhibit demo captures the Fixtures site, verifies, and prints the case")
    func demo() throws {
        let directory = TemporaryDirectory("demo")
        let result = try exhibit.run(["demo", "--workspace", directory.child("ws")])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("CI-"))
        #expect(result.stdout.contains("intact"))
        #expect(result.stdout.contains("0 failed, 0 refused"))
        let parts = result.stdout.components(separatedBy: "case        ")
        try #require(parts.count > 1, "the demo printed no case line: \(result.stdout)\(result.stderr)")
        let verify = try exhibit.run(["verify", directory.child("ws") + "/cases/" + parts[1].prefix(12), "--json"])
        #expect(verify.status == 0, "\(verify.stdout)")
        // The demo's bundles verify as a recipient would check them.
        #expect(result.stdout.contains("bundles     intact"))
        #expect(try exhibit.run(["verify", directory.child("ws") + "-bag"]).status == 0)
        #expect(try exhibit.run(["verify", directory.child("ws") + ".wacz"]).status == 0)
    }
}
