import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Template fields are checked before a case is opened: nothing is written for
/// a case that would not satisfy its category's template.
@Suite("Case template validation")
struct CaseTemplateValidationTests {
    @Test("required, date and enum fields are enforced, unknown fields refused")
    func fields() throws {
        let templates = try CaseTemplates.load()
        let missing = try templates.template("missing-person")
        #expect(throws: ExhibitError.self) { try missing.validate(["subject_name": "A"]) }
        #expect(throws: ExhibitError.self) {
            try missing.validate(["subject_name": "A", "last_seen_date": "2026-02-30", "last_seen_place": "Park"])
        }
        #expect(try missing.validate(["subject_name": "A", "last_seen_date": "2024-02-29", "last_seen_place": "Park"]).count == 3)
        let online = try templates.template("online-crime")
        #expect(throws: ExhibitError.self) { try online.validate(["subtype": "burglary", "complainant_reference": "R"]) }
        #expect(throws: ExhibitError.self) { try online.validate(["subtype": "other", "complainant_reference": "R", "colour": "x"]) }
        #expect(throws: ExhibitError.self) { try templates.template("no-such-category") }
    }

    @Test("a refused open writes nothing; a leftover temporary file is removed by the next command and said")
    func recovery() throws {
        let ws = try TestWorkspace()
        let before = try FileManager.default.contentsOfDirectory(atPath: ws.workspace.casesDirectory)
        #expect(throws: ExhibitError.self) {
            _ = try ws.session().openCase(category: "missing-person", title: "T", fields: ["subject_name": "A"])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.workspace.casesDirectory) == before)

        let caseID = try ws.openCase()
        let stray = ws.caseDirectory(caseID) + "/warc"
        try FileManager.default.createDirectory(atPath: stray, withIntermediateDirectories: true)
        try Data("partial".utf8).write(to: URL(fileURLWithPath: stray + "/cap-x.warc.gz.tmp"))
        let notices = CaseRecovery.recover(caseDirectory: ws.caseDirectory(caseID))
        #expect(notices.count == 1)
        #expect(notices.first?.contains("interrupted write") == true)
        #expect(!FileManager.default.fileExists(atPath: stray + "/cap-x.warc.gz.tmp"))
    }
}
