public import ChainOfCustody

/// What an actor may do, and which roles allow it (DESIGN §4 and §14).
public enum Permission: String, Sendable, CaseIterable {
    case openCase = "open a case"
    case capture = "capture"
    case render = "render captured pages"
    case note = "add a note"
    case verify = "verify"
    case hold = "place a legal hold"
    case release = "release a legal hold"
    case transfer = "transfer custody"
    case dispose = "dispose of a case"
    case recover = "recover a torn ledger"
    case search = "search"
    case export = "export"
    case exportCourt = "export court documents"
    case approve = "approve"
    case close = "close a case"
    case read = "read a case"
    case reindex = "rebuild the index"
    case retention = "review retention"
    case timestamp = "timestamp a ledger"
    case importEvidence = "import evidence"
    case tag = "tag an artifact"
    case finding = "record a finding"
    case manageActors = "add or authorise actors"
    case uniformity = "review background-investigation uniformity"
    case backgroundSearch = "record a background-investigation step or screening decision"

    /// Any one of these roles grants the permission.
    public var roles: [Role] {
        switch self {
        case .openCase, .capture, .render, .note, .importEvidence, .tag, .finding, .backgroundSearch: [.investigator]
        case .verify, .hold, .release, .transfer, .dispose, .timestamp, .recover, .exportCourt: [.custodian]
        case .search, .export: [.analyst]
        case .approve, .close, .manageActors, .uniformity: [.supervisor]
        case .read: [.investigator, .analyst, .supervisor]
        case .reindex, .retention: [.custodian, .supervisor]
        }
    }

    /// Whether the actor holds one of the roles.
    public func allows(_ actor: Actor) -> Bool {
        roles.contains { actor.has($0) }
    }

    /// Throws not-permitted (exit 4), naming the missing role, unless allowed.
    public func require(_ actor: Actor) throws(ExhibitError) {
        guard !allows(actor) else { return }
        throw ExhibitError(.notPermitted, refusalReason(for: actor))
    }

    /// The sentence a refusal prints and records.
    public func refusalReason(for actor: Actor) -> String {
        let needed = roles.map(\.rawValue)
        let roleText = needed.count == 1 ? "the \(needed[0]) role"
            : "one of the roles " + needed.joined(separator: ", ")
        return "Actor \(actor.id) (\(actor.name)) may not \(rawValue): that needs \(roleText), which this actor does not hold."
    }
}
