public import ChainOfCustody
import Foundation

/// A case category's template (CaseTemplates/<id>.json, DESIGN §3).
public struct CaseTemplate: Codable, Sendable, Equatable {
    public struct Field: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable { case string, date, `enum` }
        public var name: String
        public var type: Kind
        public var required: Bool
        public var values: [String]?
        public var description: String?

        /// The name with what its value must look like, for a list of missing fields.
        var hint: String {
            switch type {
            case .string: name
            case .date: "\(name) (YYYY-MM-DD)"
            case .enum: "\(name) (one of \((values ?? []).joined(separator: ", ")))"
            }
        }
    }

    public struct CaptureDefaults: Codable, Sendable, Equatable {
        public var media: Bool
        public var depth: Int
    }

    public struct Retention: Codable, Sendable, Equatable {
        public var yearsAfterClose: Int?
        public var permanent: Bool?

        enum CodingKeys: String, CodingKey {
            case yearsAfterClose = "years_after_close"
            case permanent
        }

        public var summary: String {
            if permanent == true { return "permanent" }
            return "\(yearsAfterClose ?? 0) years after closing"
        }
    }

    /// One uniform search step of a background investigation (IV.B.9).
    public struct ChecklistStep: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        public var source: String
        public var query: String
    }

    public var id: String
    public var prefix: String
    public var title: String
    public var policySections: [String]
    public var description: String
    public var fields: [Field]
    public var captureDefaults: CaptureDefaults
    public var retention: Retention
    public var checklist: [ChecklistStep]?

    enum CodingKeys: String, CodingKey {
        case id, prefix, title, description, fields, retention, checklist
        case policySections = "policy_sections"
        case captureDefaults = "capture_defaults"
    }

    /// Checks `values` against the template's fields and returns them; throws an
    /// input error (exit 5) naming every problem at once — each missing required
    /// field, each unknown field, each bad value — so that one try shows them all.
    public func validate(_ values: [String: String]) throws(ExhibitError) -> [String: String] {
        let missing = fields.filter { $0.required && (values[$0.name]?.trimmingCharacters(in: .whitespaces) ?? "").isEmpty }
        var unknown: [String] = []
        var invalid: [String] = []
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let field = fields.first(where: { $0.name == name }) else {
                unknown.append("\"\(name)\"")
                continue
            }
            if missing.contains(field) { continue }
            switch field.type {
            case .string:
                break
            case .date:
                if !Self.isDate(value) { invalid.append("\(name) to be a date written YYYY-MM-DD (not \"\(value)\")") }
            case .enum:
                if field.values?.contains(value) != true {
                    invalid.append("\(name) to be one of \((field.values ?? []).joined(separator: ", ")) (not \"\(value)\")")
                }
            }
        }
        guard !missing.isEmpty || !unknown.isEmpty || !invalid.isEmpty else { return values }
        var clauses: [String] = []
        if missing.count == 1, let field = missing.first {
            clauses.append("needs the field \(field.name) (\(field.description ?? field.type.rawValue))")
        } else if !missing.isEmpty {
            clauses.append("needs the fields " + Self.list(missing.map(\.hint)))
        }
        if !unknown.isEmpty {
            let known = fields.map(\.name).joined(separator: ", ")
            clauses.append("has no field\(unknown.count == 1 ? "" : "s") \(Self.list(unknown)) (its fields are: \(known))")
        }
        for text in invalid { clauses.append("needs " + text) }
        var sentence = "A case of category \(id) " + Self.list(clauses, comma: true)
        if missing.count == 1, let field = missing.first {
            sentence += "; give \(field.name) a value."
        } else if !missing.isEmpty {
            sentence += "; give each a value."
        } else {
            sentence += "."
        }
        throw ExhibitError(.storage, sentence, input: missing.isEmpty ? nil : .templateFields)
    }

    /// "a", "a and b", "a, b and c" — or with `comma`, "a, b, and c", for clauses
    /// that hold lists themselves.
    static func list(_ items: [String], comma: Bool = false) -> String {
        guard let last = items.last else { return "" }
        guard items.count > 1 else { return last }
        return items.dropLast().joined(separator: ", ") + (comma ? ", and " : " and ") + last
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return false }
        let daysInMonth = [31, (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return (1...12).contains(month) && day >= 1 && day <= daysInMonth[month - 1]
    }
}

/// The set of templates in force, loaded at run time.
///
/// Looked up in `$EXHIBIT_TEMPLATES` (a directory), then in the source tree's
/// CaseTemplates/ when the binary runs from its build folder, and otherwise taken
/// from the copy compiled into the binary, so `exhibit` works anywhere.
public struct CaseTemplates: Sendable {
    /// Where they were loaded from: a directory, or "embedded".
    public let origin: String
    private let parsed: Parsed

    /// The templates. Empty only when they were loaded with `decodingOnFirstUse` and
    /// do not decode; ``template(_:)`` then throws the reason.
    public var templates: [CaseTemplate] { (try? parsed.templates()) ?? [] }

    private init(origin: String, files: [(bytes: [UInt8], origin: String)]) {
        self.origin = origin
        self.parsed = Parsed(files: files)
    }

    /// `decodingOnFirstUse`: the files are found and read now, but decoded only when a
    /// template is first asked for, and a template that does not decode is reported
    /// then. For commands that may never need one (`search`): JSONDecoder's first
    /// decode of the templates' types was a measurable part of such a command's
    /// start (issue 25). Otherwise every template is decoded and checked here.
    public static func load(environment: [String: String]? = nil, decodingOnFirstUse: Bool = false) throws(ExhibitError) -> CaseTemplates {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let templates: CaseTemplates
        if let directory = environment["EXHIBIT_TEMPLATES"] {
            templates = try files(directory: directory)
        } else {
            let sourceTree = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("CaseTemplates").path
            templates = FileManager.default.fileExists(atPath: sourceTree + "/missing-person.json")
                ? try files(directory: sourceTree) : embeddedFiles()
        }
        if !decodingOnFirstUse { _ = try templates.parsed.templates() }
        return templates
    }

    /// The templates compiled into the binary.
    public static func embedded() throws(ExhibitError) -> CaseTemplates {
        let templates = embeddedFiles()
        _ = try templates.parsed.templates()
        return templates
    }

    public static func load(directory: String) throws(ExhibitError) -> CaseTemplates {
        let templates = try files(directory: directory)
        _ = try templates.parsed.templates()
        return templates
    }

    private static func embeddedFiles() -> CaseTemplates {
        let files = EmbeddedTemplates.files.sorted(by: { $0.key < $1.key }).filter { !otherFiles.contains($0.key) }
        return CaseTemplates(origin: "embedded", files: files.map { (Array($0.value.utf8), "embedded \($0.key)") })
    }

    private static func files(directory: String) throws(ExhibitError) -> CaseTemplates {
        let files = try AtomicFile.readJSONFiles(in: directory, what: "case templates").filter { !otherFiles.contains($0.name) }
        guard !files.isEmpty else {
            throw ExhibitError(.storage, "No case templates in \(directory).")
        }
        return CaseTemplates(origin: directory, files: files.map { ($0.bytes, $0.path) })
    }

    static func decode(_ bytes: [UInt8], origin: String) throws(ExhibitError) -> CaseTemplate {
        do {
            return try JSONDecoder().decode(CaseTemplate.self, from: Data(bytes))
        } catch {
            throw ExhibitError(.storage, "The case template \(origin) is not valid: \(error).")
        }
    }

    /// The files' bytes until first use, then their templates (or the first one's
    /// error), decoded once under a lock: a session is shared by threads.
    private final class Parsed: @unchecked Sendable {
        private let lock = NSLock()
        private var files: [(bytes: [UInt8], origin: String)]
        private var result: Result<[CaseTemplate], ExhibitError>?

        init(files: [(bytes: [UInt8], origin: String)]) {
            self.files = files
        }

        func templates() throws(ExhibitError) -> [CaseTemplate] {
            lock.lock()
            defer { lock.unlock() }
            if result == nil {
                result = Result { () throws(ExhibitError) in try files.map { file throws(ExhibitError) in try decode(file.bytes, origin: file.origin) } }
                files = []
            }
            return try result!.get()
        }
    }

    /// The template for a category id; unknown ids are an input error (exit 5).
    public func template(_ category: String) throws(ExhibitError) -> CaseTemplate {
        let templates = try parsed.templates()
        guard let template = templates.first(where: { $0.id == category }) else {
            let known = templates.map(\.id).joined(separator: ", ")
            throw ExhibitError(.storage, "Unknown case category \"\(category)\"; choose one of: \(known).")
        }
        return template
    }

    /// The template whose prefix a case id starts with.
    public func template(forCaseID id: String) -> CaseTemplate? {
        let prefix = id.split(separator: "-").first.map(String.init) ?? ""
        return templates.first { $0.prefix == prefix }
    }
}
