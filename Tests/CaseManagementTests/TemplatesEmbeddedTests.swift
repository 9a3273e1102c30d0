import CaseManagement
import Foundation
import Testing

/// The binary carries a copy of CaseTemplates/ so it works outside the source
/// tree; the copy must equal the files (scripts/embed-templates regenerates it).
@Suite("case templates")
struct TemplatesEmbeddedTests {
    static var sourceDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("CaseTemplates").path
    }

    @Test("the embedded templates equal CaseTemplates/ — run scripts/embed-templates after editing one")
    func embeddedMatchFiles() throws {
        let files = try CaseTemplates.load(directory: Self.sourceDirectory)
        let embedded = try CaseTemplates.embedded()
        #expect(files.templates == embedded.templates)
    }

    @Test("seven categories with DESIGN §3's prefixes; crime-imagery captures media by default; BI has a checklist")
    func categories() throws {
        let templates = try CaseTemplates.load(directory: Self.sourceDirectory)
        let prefixes = Dictionary(uniqueKeysWithValues: templates.templates.map { ($0.id, $0.prefix) })
        #expect(prefixes == [
            "missing-person": "MP", "wanted-person": "WP", "gang-participation": "GP", "online-crime": "OC",
            "crime-imagery": "CI", "background-investigation": "BI", "policy-violation": "PV",
        ])
        #expect(try templates.template("crime-imagery").captureDefaults.media)
        #expect(try templates.template("background-investigation").checklist?.isEmpty == false)
    }
}
