public import CaseIndex
public import CaseManagement
public import ChainOfCustody
public import MediaEvidence

// The case page and the artifact page of the case browser, each read recorded as a `view` entry.

extension CaseBrowsing {
    /// What the case page shows.
    public struct CaseView: Sendable {
        public var actor: Actor
        public var state: CaseState
        public var category: CaseTemplate?
        public var retention: String
        /// The whole ledger, this page's own `view` entry last.
        public var entries: [LedgerEntry]
        /// Every artifact of the case, in ledger order.
        public var artifacts: [BrowserArtifact]
        /// The filter and pages asked for.
        public var query: CasePageQuery
        /// This page of the artifacts that pass the filter.
        public var shown: PageSlice<BrowserArtifact>
        /// This page of the custody timeline.
        public var timeline: PageSlice<LedgerEntry>
        /// For a text search: a snippet of each matching page, by artifact id.
        public var snippets: [String: String]
        /// The media types and HTTP statuses of the case, for the filter's choices.
        public var mediaTypes: [String]
        public var statuses: [Int]
        public var renderings: [Rendering]
        /// Distinct selectors found in each artifact, by artifact id.
        public var selectorCounts: [String: Int]
        /// False for a custodian without a reading role: the page then shows the
        /// case's facts, digests and timeline, and the Verify button, but no link
        /// to the captured content, no screenshot and no text search.
        public var readsEvidence: Bool
        /// The `view` entry that recorded this page.
        public var view: LedgerEntry
        /// Per watched URL, what each watch run found (DESIGN §18); the diffs only
        /// for an actor who reads evidence.
        public var watchTimelines: [WatchTimeline] = []
    }

    /// The case page, filtered and paged by `query` (read permission, or
    /// custodian: custodians open the cases they verify; recorded as a `view`
    /// entry, with the filter, before anything is shown).
    public func casePage(_ caseID: String, query: CasePageQuery = CasePageQuery()) throws(ExhibitError) -> CaseView {
        let (session, readsEvidence) = try authorizedCasePage(caseID)
        var query = query
        if !readsEvidence { query.text = "" }
        var subject: [String: JSONValue] = ["viewed": "case", "page": .string("/cases/\(caseID)")]
        if query.isFiltered { subject["filter"] = .object(query.recorded.mapValues { .string($0) }) }
        let view = try recordView(session, caseID, subject)
        let entries = try session.store.ledger(of: caseID).entries()
        let state = try CaseState.fold(entries)
        let artifacts = BrowserArtifact.all(in: entries)
        var counts: [String: Int] = [:]
        var snippets: [String: String] = [:]
        if readsEvidence {
            for selector in try selectors(caseID, session: session) {
                for artifact in Set(selector.occurrences.map(\.artifact)) { counts[artifact, default: 0] += 1 }
            }
            if !query.text.isEmpty {
                // The index holds the text of HTML pages; `selectors` above brought it up to date.
                for hit in try index.search(query.text, caseID: caseID, limit: Self.searchLimit) where snippets[hit.artifact] == nil {
                    snippets[hit.artifact] = hit.snippet
                }
            }
        }
        let matching = artifacts.filter { query.matches($0) && (query.text.isEmpty || snippets[$0.id] != nil) }
        let shown = PageSlice(matching, page: query.page, size: CasePageQuery.pageSize)
        query.page = shown.page
        let timelinePages = max(1, (entries.count + CasePageQuery.timelinePageSize - 1) / CasePageQuery.timelinePageSize)
        let timeline = PageSlice(entries, page: query.timelinePage ?? timelinePages, size: CasePageQuery.timelinePageSize)
        var caseView = CaseView(
            actor: session.actor, state: state, category: try? templates.template(state.category),
            retention: Self.retention(state, rule: session.retentionRule(category: state.category), on: CalendarDate.today()),
            entries: entries, artifacts: artifacts, query: query, shown: shown, timeline: timeline, snippets: snippets,
            mediaTypes: Set(artifacts.map { CasePageQuery.essence($0.contentType) }).subtracting([""]).sorted(),
            statuses: Set(artifacts.map(\.status)).sorted(),
            renderings: readsEvidence ? Rendering.all(in: entries) : [], selectorCounts: counts,
            readsEvidence: readsEvidence, view: view)
        caseView.watchTimelines = WatchTimeline.timelines(entries, caseDirectory: readsEvidence ? session.store.directory(of: caseID) : nil)
        return caseView
    }

    /// More hits than any case page would list; a case has at most this many pages in practice.
    static let searchLimit = 100_000

    /// What the artifact page shows.
    public struct ArtifactView: Sendable {
        public var actor: Actor
        public var state: CaseState
        public var artifact: BrowserArtifact
        public var selectors: [SelectorSummary]
        public var renderings: [Rendering]
        public var view: LedgerEntry
        /// What media analysis found for an image or video (DESIGN §19); nil otherwise.
        public var media: MediaFacts?
        /// Near-duplicates in every case the actor may read (`exhibit similar`), when
        /// the artifact has a PDQ hash; or why they could not be looked up.
        public var similar: SimilarMedia.Result?
        public var similarProblem: String?
    }

    /// The artifact page (read permission; recorded). `artifact` is an id or the full sha256.
    public func artifactPage(_ caseID: String, artifact argument: String) throws(ExhibitError) -> ArtifactView {
        let session = try authorizedRead(caseID)
        let (artifact, _) = try findArtifact(argument, caseID: caseID, session: session)
        let view = try recordView(session, caseID, [
            "viewed": "artifact", "artifact": .string(artifact.id), "page": .string("/cases/\(caseID)/artifacts/\(artifact.id)"),
        ])
        let entries = try session.store.ledger(of: caseID).entries()
        var selectors = try selectors(caseID, session: session).filter { summary in
            summary.occurrences.contains { $0.artifact == artifact.id }
        }
        if session.actor.has(.decisionMaker) {
            // "Also in" must not reveal background investigations to a decision-maker (IV.B.6).
            for index in selectors.indices {
                selectors[index].otherCases.removeAll { (try? session.store.state(of: $0))?.category == BackgroundInvestigation.category }
            }
        }
        var page = ArtifactView(
            actor: session.actor, state: try CaseState.fold(entries), artifact: artifact, selectors: selectors,
            renderings: Rendering.all(in: entries).filter { $0.renders(artifact) }, view: view)
        page.media = MediaFacts.byArtifact(entries)[artifact.id]
        if let media = page.media, media.pdq != nil || media.frames > 0 {
            // Recorded as `exhibit similar` records it: a view in this case and in each case a match is shown from.
            do {
                page.similar = try SimilarMedia(session: session, index: try MediaHashIndex(workspace: workspace))
                    .find(artifact.id, caseID: caseID)
            } catch {
                page.similarProblem = error.message
            }
        }
        return page
    }
}
