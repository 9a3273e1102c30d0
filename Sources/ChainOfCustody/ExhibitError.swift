/// The one error type Exhibit's libraries throw to the command line.
///
/// Every failure a user can meet says what was wrong and what to do, in one
/// sentence, and carries a ``Code`` that the CLI maps to the exit status of
/// DESIGN §12. Codes wrap a private enum so that new ones do not break users
/// (the pattern of swift-nio's `FileSystemError`).
public struct ExhibitError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; decides the process exit status.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case verificationFailed, usage, policyRefusal, notPermitted, storage, captureFailed
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// Verification found a problem (exit 1).
        public static let verificationFailed = Code(.verificationFailed)
        /// The command was used wrongly (exit 2).
        public static let usage = Code(.usage)
        /// The lawful-capture policy refused (exit 3).
        public static let policyRefusal = Code(.policyRefusal)
        /// The acting actor may not do this: role, hold or retention (exit 4).
        public static let notPermitted = Code(.notPermitted)
        /// Bad input or a storage problem (exit 5).
        public static let storage = Code(.storage)
        /// Some captures failed: network error or a limit (exit 6).
        public static let captureFailed = Code(.captureFailed)

        /// The process exit status of DESIGN §12.
        public var exitStatus: Int32 {
            switch value {
            case .verificationFailed: 1
            case .usage: 2
            case .policyRefusal: 3
            case .notPermitted: 4
            case .storage: 5
            case .captureFailed: 6
            }
        }

        public var description: String {
            switch value {
            case .verificationFailed: "verification-failed"
            case .usage: "usage"
            case .policyRefusal: "policy-refusal"
            case .notPermitted: "not-permitted"
            case .storage: "storage"
            case .captureFailed: "capture-failed"
            }
        }
    }

    /// The piece of the user's input a failure is about, named in the domain's
    /// words (the reason, the output path, …) so that a front end can say how that
    /// input is given: the CLI adds its flag (DESIGN §15: no core module names a
    /// command-line flag). Open like ``Code``: new inputs do not break users.
    public struct Input: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Why the actor does this (a hold, a skipped step, a decision, a handover, an override).
        public static let reason = Input("reason")
        /// Where an export is written.
        public static let outputPath = Input("output-path")
        /// What form an export takes (bag or WACZ).
        public static let exportFormat = Input("export-format")
        /// Who is acting.
        public static let actingActor = Input("acting-actor")
        /// A new actor's name, badge and roles.
        public static let actorName = Input("actor-name")
        public static let actorBadge = Input("actor-badge")
        public static let actorRoles = Input("actor-roles")
        /// A new case's title and its template fields.
        public static let caseTitle = Input("case-title")
        public static let templateFields = Input("template-fields")
        /// The workspace and its agency.
        public static let workspace = Input("workspace")
        public static let agency = Input("agency")
        /// A finding's text.
        public static let findingText = Input("finding-text")
        /// What a capture job fetches and how.
        public static let captureURLs = Input("capture-urls")
        public static let concurrency = Input("concurrency")
        public static let captureLimits = Input("capture-limits")
        /// The time-stamping authority and the certificates its replies are checked against.
        public static let timeStampingAuthority = Input("time-stamping-authority")
        public static let trustedCertificates = Input("trusted-certificates")
        /// The TCP port a local server listens on.
        public static let listeningPort = Input("listening-port")
    }

    public var code: Code
    /// One sentence: what went wrong and what to do, in the domain's words.
    public var message: String
    /// The input at fault, when one is; the CLI names its flag.
    public var input: Input?
    /// The underlying error, when there is one.
    public var cause: (any Error & Sendable)?
    /// Where the error was raised, for debugging; never shown to users.
    public var location: String

    public init(
        _ code: Code, _ message: String, input: Input? = nil, cause: (any Error & Sendable)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.input = input
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    public var description: String { message }
}

/// The release of Exhibit that wrote a file, as recorded in WARC and bundles.
public enum ExhibitRelease {
    public static let version = "0.1.0"
    public static let userAgent = "Exhibit/\(version)"
}
