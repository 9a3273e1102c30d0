public import CaseManagement
public import ChainOfCustody

// The case list of the case browser: every case's state, grouped by category.

extension CaseBrowsing {
    /// One row of the case list.
    public struct CaseSummary: Sendable {
        public var state: CaseState
        public var artifacts: Int
        /// One sentence: the retention schedule, or why the case is kept.
        public var retention: String
    }

    /// The case list: every case's state from its ledger, grouped by
    /// category in the order of DESIGN §3. Like `exhibit case list` it shows
    /// case states, not evidence, so it is not recorded per case. A
    /// decision-maker never sees background investigations in it (IV.B.6).
    public func caseList() throws(ExhibitError) -> CaseList {
        let session = try session()
        if !Permission.read.allows(session.actor), Permission.verify.allows(session.actor) {
            // Like `exhibit case list`, the list needs a reading role; the case pages a custodian verifies do not.
            throw ExhibitError(.notPermitted, "\(Permission.read.refusalReason(for: session.actor)) As a custodian, open the case you verify directly: /cases/<CASE-ID>.")
        }
        try session.authorize(.read, caseID: nil, command: "serve")
        var summaries: [CaseSummary] = []
        var unreadable: [(id: String, problem: String)] = []
        let today = CalendarDate.today()
        for id in session.store.caseIDs() {
            let entries: [LedgerEntry]
            let state: CaseState
            do throws(ExhibitError) {
                entries = try session.store.ledger(of: id).entries()
                state = try CaseState.fold(entries)
            } catch {
                // One damaged case must not hide the others; it is listed with its problem.
                unreadable.append((id, error.message))
                continue
            }
            if session.actor.has(.decisionMaker), state.category == BackgroundInvestigation.category { continue }
            let retention = Self.retention(state, rule: session.retentionRule(category: state.category), on: today)
            summaries.append(CaseSummary(state: state, artifacts: BrowserArtifact.all(in: entries).count, retention: retention))
        }
        var groups: [(category: CaseTemplate?, id: String, cases: [CaseSummary])] = []
        let order = Self.categoryOrder + Set(summaries.map(\.state.category)).subtracting(Self.categoryOrder).sorted()
        for category in order {
            let cases = summaries.filter { $0.state.category == category }
            guard !cases.isEmpty else { continue }
            groups.append((try? templates.template(category), category, cases))
        }
        return CaseList(actor: session.actor, groups: groups, unreadable: unreadable)
    }

    /// The case list page's content.
    public struct CaseList: Sendable {
        public var actor: Actor
        public var groups: [(category: CaseTemplate?, id: String, cases: [CaseSummary])]
        /// Cases whose ledger could not be read, with the sentence saying why.
        public var unreadable: [(id: String, problem: String)]
    }

    /// The retention column: the schedule, and why the case is kept or due.
    static func retention(_ state: CaseState, rule: RetentionRule?, on day: CalendarDate) -> String {
        let status = RetentionStatus(state: state, rule: rule, on: day)
        let schedule = rule?.summary ?? "no schedule"
        switch status.reason {
        case .open: return "\(schedule) (the case is open)"
        case .held: return "\(schedule); kept while on legal hold"
        default: return status.explanation
        }
    }

    /// DESIGN §3's order of the categories.
    static let categoryOrder = [
        "missing-person", "wanted-person", "gang-participation", "online-crime", "crime-imagery",
        "background-investigation", "policy-violation",
    ]
}
