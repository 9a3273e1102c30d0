import CaseManagement
public import ChainOfCustody
import Foundation

/// The certificate's text: CaseTemplates/court/certificate.html, an HTML fragment an
/// agency edits, with `{{name}}` placeholders Exhibit fills with facts. A template
/// naming a placeholder Exhibit does not know is refused with one sentence, so a
/// typo never prints as a blank in a signed document.
public enum CourtTemplate {
    public static let path = "court/certificate.html"

    /// Every placeholder, with what it becomes (docs/court.md lists the same).
    public static let placeholders: [String: String] = [
        "agency": "the agency (workspace)",
        "case.id": "the case id",
        "case.title": "the case title",
        "custodian.name": "the certifying actor's name",
        "custodian.badge": "their badge",
        "custodian.actor": "their actor id",
        "custodian.roles": "their roles",
        "system.software": "Exhibit",
        "system.version": "Exhibit's version",
        "system.binary_sha256": "sha256 of the running exhibit binary",
        "hash_method": "how each kind of item's sha256 was computed",
        "time_zone": "the zone times are shown in, and where it comes from",
        "ledger.entries": "the number of ledger entries",
        "ledger.head": "the last entry's hash",
        "ledger.last_entry_time": "when the last entry was made (UTC)",
        "timestamps": "a list of the RFC 3161 timestamps (HTML)",
        "verification.result": "the verification run's result",
        "exhibits.count": "the number of exhibits",
        "exhibits.table": "the exhibits with their sha256 (HTML table)",
        "signature": "the signature statement: key, files, how to check (HTML)",
    ]

    /// The template in force: `<templates>/court/certificate.html` when the case
    /// templates come from a directory, else the copy compiled into the binary.
    public static func load(templatesOrigin: String) throws(ExhibitError) -> (text: String, origin: String) {
        if templatesOrigin != "embedded" {
            let file = templatesOrigin + "/" + path
            if FileManager.default.fileExists(atPath: file) {
                return (String(decoding: try AtomicFile.read(file), as: UTF8.self), file)
            }
        }
        return (CourtTemplateDefault.certificate, "embedded " + path)
    }

    /// The names the template uses, in order; an error naming the first unknown one.
    public static func check(_ template: String, origin: String) throws(ExhibitError) {
        for name in names(in: template) where placeholders[name] == nil {
            throw ExhibitError(.storage, "The court certificate template \(origin) names the placeholder {{\(name)}}, which Exhibit does not know; use one of those docs/court.md lists.")
        }
    }

    static func names(in template: String) -> [String] {
        var names: [String] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                names.append(String(rest[open.upperBound...].prefix(40)))
                break
            }
            names.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// The template with each placeholder replaced by `values[name]` (already HTML).
    static func fill(_ template: String, origin: String, values: [String: String]) throws(ExhibitError) -> String {
        try check(template, origin: origin)
        var output = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            output += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            output += values[name] ?? ""
            rest = rest[close.upperBound...]
        }
        return output + rest
    }
}
