import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Disposal takes a case's PDQ hashes out of media-index.sqlite with its evidence
/// (issue 22): right after `exhibit dispose`, before any `similar` could tidy up,
/// the index holds no row of the case, and `similar` from another case no longer
/// names it. Runs `dispose` under libfaketime like RetentionCommandTests (and, like
/// them, not under sanitizers).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["EXHIBIT_SANITIZER"] == nil))
struct MediaDisposalTests {
    /// Hashes of `caseID` in the workspace's media index: (hashes rows, chunks rows).
    func indexRows(_ ws: TestWorkspace, _ caseID: String) throws -> String {
        let script = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        ids = "SELECT id FROM hashes WHERE case_id = ?"
        print(db.execute(f"SELECT count(*) FROM hashes WHERE case_id = ?", (sys.argv[2],)).fetchone()[0],
              db.execute(f"SELECT count(*) FROM chunks WHERE hash_id IN ({ids})", (sys.argv[2],)).fetchone()[0])
        """
        let result = try Command.run("/usr/bin/env", ["python3", "-c", script, ws.workspace.root + "/media-index.sqlite", caseID])
        #expect(result.status == 0, "\(result.output)")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func disposalPurgesTheCaseFromTheMediaIndex() throws {
        let ws = try TestWorkspace("media-dispose")
        let exhibit = ExhibitProcess()
        let files = TemporaryDirectory("media-dispose-files")
        _ = try MediaSamples.photoSet(in: files.path)
        let kept = try ws.openCase(), disposed = try ws.openCase()
        let investigator = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let custodian = ["--workspace", ws.root, "--actor", ws.supervisorID]
        for (caseID, file) in [(kept, "photo.jpg"), (disposed, "q40.jpg")] {
            let imported = try exhibit.run(["import", caseID, files.path + "/" + file, "--source", "witness upload"] + investigator)
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        let photo = try #require(try Digest.file(atPath: files.path + "/photo.jpg").0[.sha256])

        func matchedCases() throws -> [String] {
            let similar = try exhibit.run(["similar", photo, "--case", kept, "--json"] + investigator)
            #expect(similar.status == 0, "\(similar.stderr)")
            return (try JSONValue(parsing: similar.stdout)["matches"]?.arrayValue ?? []).compactMap { $0["case"]?.stringValue }
        }
        #expect(try matchedCases() == [disposed], "the re-encoded copy in the other case is found before disposal")
        #expect(try indexRows(ws, disposed) == "1 16")

        #expect(try exhibit.run(["case", "close", disposed, "--reason", "done"] + custodian).status == 0)
        let disposal = try RetentionCommandTests().future(RetentionCommandTests.afterTenYears,
                                                          ["dispose", disposed, "--reason", "schedule"] + custodian)
        #expect(disposal.status == 0, "\(disposal.stderr)")
        #expect(try indexRows(ws, disposed) == "0 0", "dispose itself must purge the case's hashes")
        #expect(try indexRows(ws, kept) == "1 16", "other cases keep theirs")
        #expect(try matchedCases().isEmpty)
    }
}
