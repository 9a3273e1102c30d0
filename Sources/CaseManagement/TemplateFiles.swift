public import ChainOfCustody
import Foundation

extension CaseTemplates {
    /// Files of the templates directory that are not case templates: each is read
    /// by the feature it serves (removal-patterns.json by watches, DESIGN §18).
    static let otherFiles: Set<String> = ["removal-patterns.json"]

    /// The bytes of another file of the templates in force (`removal-patterns.json`),
    /// from the same place the templates came from: the directory, or the copy
    /// compiled into the binary. `where` names it for errors and records.
    public func file(named name: String) throws(ExhibitError) -> (bytes: [UInt8], origin: String) {
        if origin == "embedded" {
            guard let text = EmbeddedTemplates.files[name] else {
                throw ExhibitError(.storage, "The templates compiled into this binary have no \(name); run scripts/embed-templates and rebuild.")
            }
            return (Array(text.utf8), "embedded \(name)")
        }
        let path = origin + "/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExhibitError(.storage, "The templates directory \(origin) has no \(name); copy it from the Exhibit source tree's CaseTemplates/.")
        }
        return (try AtomicFile.read(path), path)
    }
}
