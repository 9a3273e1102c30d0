@testable import CaseBundle
import ChainOfCustody
import Foundation
import Testing

/// The court certificate's template (issue 23, DESIGN §21).
@Suite("court certificate template")
struct CourtTemplateTests {
    static let sourceFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CaseTemplates/court/certificate.html").path

    @Test("the copy compiled into the binary is CaseTemplates/court/certificate.html")
    func embeddedCopy() throws {
        let file = String(decoding: try AtomicFile.read(Self.sourceFile), as: UTF8.self)
        #expect(CourtTemplateDefault.certificate + "\n" == file)
    }

    @Test("every placeholder the shipped template names is known, and each known one is used")
    func shippedTemplate() throws {
        let names = CourtTemplate.names(in: CourtTemplateDefault.certificate)
        try CourtTemplate.check(CourtTemplateDefault.certificate, origin: "shipped")
        #expect(Set(names) == Set(CourtTemplate.placeholders.keys))
    }

    @Test("an unknown or unclosed placeholder is refused with one sentence naming it; known ones are filled")
    func unknown() throws {
        #expect(throws: ExhibitError.self) { try CourtTemplate.check("<p>{{custodian.nmae}}</p>", origin: "t") }
        do {
            try CourtTemplate.check("<p>{{ agency }} {{oops", origin: "agency.html")
            Issue.record("an unclosed placeholder was accepted")
        } catch {
            #expect(error.message.contains("{{oops}}") && error.message.contains("agency.html"), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
        let filled = try CourtTemplate.fill("<p>{{ agency }} / {{case.id}}</p>", origin: "t", values: ["agency": "A &amp; B", "case.id": "OC-1"])
        #expect(filled == "<p>A &amp; B / OC-1</p>")
    }
}
