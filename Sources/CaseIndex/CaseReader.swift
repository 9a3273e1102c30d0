public import CaseManagement
public import ChainOfCustody
import PageAnalysis
import Dispatch

/// The reading commands over the index — `artifacts`, `selectors`, `search` —
/// and `reindex`, with the custody rules of DESIGN §4 and §14: each is checked
/// against the actor's roles, and each accepted read of a case's evidence is
/// recorded in that case's ledger as a `view` entry.
public struct CaseReader: Sendable {
    public let session: ActingSession
    public let index: WorkspaceIndex

    public init(session: ActingSession) throws(ExhibitError) {
        self.session = session
        // No quick_check of every page at start (a fifth of a second at 100,000 pages, every
        // command): damage is found where SQLite reads it, and each command's work below runs
        // through `recovering`, which rebuilds the index and does the work again.
        self.index = try WorkspaceIndex(workspace: session.workspace, notices: session.notices, checkingEveryPage: false)
    }

    /// `exhibit artifacts CASE`.
    public func artifacts(_ caseID: String) throws(ExhibitError) -> [IndexedArtifact] {
        try session.authorize(.read, caseID: caseID, command: "artifacts")
        let artifacts = try index.recovering(notices: session.notices) { () throws(ExhibitError) in
            try index.refresh(caseID: caseID, store: session.store)
            return try index.artifacts(caseID: caseID)
        }
        try recordView(caseID, ["command": "artifacts", "artifacts": .integer(Int64(artifacts.count))])
        return artifacts
    }

    /// `exhibit selectors CASE`: other cases are brought up to date first, so
    /// "also in" is current.
    public func selectors(_ caseID: String) throws(ExhibitError) -> [SelectorSummary] {
        try session.authorize(.read, caseID: caseID, command: "selectors")
        var selectors = try index.recovering(notices: session.notices) { () throws(ExhibitError) in
            try index.refresh(store: session.store)
            return try index.selectors(caseID: caseID)
        }
        if session.actor.has(.decisionMaker) {
            for index in selectors.indices { selectors[index].otherCases.removeAll(where: isBackgroundInvestigation) }
        }
        try recordView(caseID, ["command": "selectors", "selectors": .integer(Int64(selectors.count))])
        return selectors
    }

    /// `exhibit search TEXT` (across cases, or within one): a `view` entry in every case whose pages
    /// were shown (and in C, when given, even without a match).
    public func search(_ text: String, caseID: String?) throws(ExhibitError) -> [SearchHit] {
        try session.authorize(.read, caseID: caseID, command: "search")
        var hits = try index.recovering(notices: session.notices) { () throws(ExhibitError) in
            if let caseID {
                try index.refresh(caseID: caseID, store: session.store)
            } else {
                try index.refresh(store: session.store)
            }
            return try index.search(text, caseID: caseID)
        }
        if session.actor.has(.decisionMaker) {
            // Background investigations are never shown to a decision-maker (IV.B.6).
            hits = hits.filter { !isBackgroundInvestigation($0.case) }
        }
        var shown: [String: [String]] = [:]
        for hit in hits { shown[hit.case, default: []].append(hit.artifact) }
        if let caseID, shown[caseID] == nil { shown[caseID] = [] }
        for (id, artifacts) in shown.sorted(by: { $0.key < $1.key }) {
            try recordView(id, ["command": "search", "query": .string(text), "artifacts": .array(artifacts.map { .string($0) })])
        }
        return hits
    }

    /// What `exhibit reindex` did.
    public struct ReindexReport: Sendable, Encodable {
        public var cases: Int
        public var artifacts: Int
        public var selectors: Int
    }

    /// `exhibit reindex` (custodian or supervisor): the index rebuilt from the
    /// ledgers and WARC files alone. Reading every case's evidence is recorded
    /// in each case. The cases ``ActingSession/mayList(_:)`` leaves out are neither
    /// read nor counted (DESIGN §23): the next command that reads them indexes them.
    public func reindex() throws(ExhibitError) -> ReindexReport {
        try session.authorize(.reindex, caseID: nil, command: "reindex")
        // A case whose state cannot be read stays in, so that its damage is reported.
        let ids = session.store.caseIDs().filter { id in (try? session.store.state(of: id)).map(session.mayList) ?? true }
        for id in ids {
            for notice in CaseRecovery.recover(caseDirectory: session.store.directory(of: id)) { session.notices(notice) }
        }
        let report = try index.recovering(notices: session.notices) { () throws(ExhibitError) -> ReindexReport in
            try index.rebuild(store: session.store, caseIDs: ids)
            var report = ReindexReport(cases: ids.count, artifacts: 0, selectors: 0)
            for id in ids {
                report.artifacts += try index.artifacts(caseID: id).count
                report.selectors += try index.selectors(caseID: id).count
            }
            return report
        }
        for id in ids { try recordView(id, ["command": "reindex"]) }
        return report
    }

    private func isBackgroundInvestigation(_ caseID: String) -> Bool {
        (try? session.store.state(of: caseID))?.category == BackgroundInvestigation.category
    }

    private func recordView(_ caseID: String, _ subject: [String: JSONValue]) throws(ExhibitError) {
        try session.store.append(LedgerDraft(action: "view", subject: .object(subject)), to: caseID, signer: try session.signer())
    }
}

