public import CaseBundle
public import CaseIndex
public import CaseManagement
public import ChainOfCustody
public import Foundation
import CaseReplay
import WARC

/// What the case browser does to a workspace, as the acting actor: every read
/// of evidence is checked against the actor's roles and recorded as a `view`
/// entry; Verify and Export are `exhibit verify` and `exhibit export`.
///
/// Each call opens a fresh ``ActingSession``, so a change to the actor's roles
/// applies from the next page without restarting the server.
public struct CaseBrowsing: Sendable {
    public let workspace: Workspace
    public let templates: CaseTemplates
    public let actorID: String
    public let index: WorkspaceIndex
    /// Receives sentences about recovery actions taken on the actor's behalf.
    public let notices: @Sendable (String) -> Void

    /// Fails (before anything listens) when the actor is unknown or the index
    /// cannot be opened.
    public init(workspace: Workspace, actorID: String?, notices: @escaping @Sendable (String) -> Void = { _ in }) throws(ExhibitError) {
        self.workspace = workspace
        self.templates = try CaseTemplates.load()
        self.notices = notices
        let session = try ActingSession(workspace: workspace, templates: templates, actorID: actorID, notices: notices)
        self.actorID = session.actor.id
        self.index = try WorkspaceIndex(workspace: workspace, notices: notices)
    }

    public func session() throws(ExhibitError) -> ActingSession {
        try ActingSession(workspace: workspace, templates: templates, actorID: actorID, notices: notices)
    }

    // MARK: Case list

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

    // MARK: Case and artifact pages

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
        return CaseView(
            actor: session.actor, state: state, category: try? templates.template(state.category),
            retention: Self.retention(state, rule: session.retentionRule(category: state.category), on: CalendarDate.today()),
            entries: entries, artifacts: artifacts, query: query, shown: shown, timeline: timeline, snippets: snippets,
            mediaTypes: Set(artifacts.map { CasePageQuery.essence($0.contentType) }).subtracting([""]).sorted(),
            statuses: Set(artifacts.map(\.status)).sorted(),
            renderings: readsEvidence ? Rendering.all(in: entries) : [], selectorCounts: counts,
            readsEvidence: readsEvidence, view: view)
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
        return ArtifactView(
            actor: session.actor, state: try CaseState.fold(entries), artifact: artifact, selectors: selectors,
            renderings: Rendering.all(in: entries).filter { $0.renders(artifact) }, view: view)
    }

    /// A captured response read back from its WARC record, for the sandboxed replay frame.
    public struct Replay: Sendable {
        public var body: [UInt8]
        /// The archived Content-Type, or nil when the server sent none.
        public var contentType: String?
        public var recordID: String
        /// The archived status (route form only; the artifact's own frame shows the body whatever it was).
        public var status = 200
        /// The archived Content-Encoding when the body is still encoded (route form).
        public var contentEncoding: String?
        /// For an archived redirect: its target, absolute.
        public var redirect: String?
    }

    /// A replayed page or one of its resources, in route form:
    /// `/cases/<ID>/artifacts/<A>/replay/<URL>`. The page is artifact `A`'s own
    /// response record; any other URL (an image of the page) is the capture of
    /// that URL nearest in time to `A`'s, found as the renderer finds it
    /// (``CaseReplay/ReplayArchive``). An HTML answer has its image addresses
    /// pointed back at this route (``ReplayImageLinks``); everything else is sent
    /// as archived. Nothing that was not captured is answered, and nothing is
    /// fetched (read permission; each answer recorded as a `view` of the record
    /// served).
    public func replay(_ caseID: String, artifact argument: String, url: String) throws(ExhibitError) -> Replay {
        let session = try authorizedRead(caseID)
        let (page, _) = try findArtifact(argument, caseID: caseID, session: session)
        let directory = session.store.directory(of: caseID)
        let archive = try ReplayArchive(caseDirectory: directory)
        let capture: ReplayArchive.Capture
        if let record = page.responseRecord, let offset = record.offset, let file = page.warcFile,
           let target = record.targetURI, CDXJIndex.surt(target) == CDXJIndex.surt(url) {
            capture = ReplayArchive.Capture(url: target, timestamp: "", warc: file, offset: offset, recordID: record.id,
                                            blockDigest: record.blockDigest ?? "", seq: page.seq)
        } else if let found = archive.lookup(url, near: ReplayArchive.timestamp(page.started ?? page.time)) {
            capture = found
        } else {
            throw BrowserError.notFound("\(url) was not captured in case \(caseID); the replay answers only from the case's WARC files and never fetches anything.")
        }
        let message: ReplayedMessage
        do {
            message = try archive.message(for: capture)
        } catch {
            throw BrowserError.unprocessable("\(url) cannot be replayed here (\(error.message)); its WARC record is in \(capture.warc).")
        }
        var subject: [String: JSONValue] = [
            "viewed": "replay", "artifact": .string(ArtifactID.forSeq(Int(capture.seq))), "record_id": .string(capture.recordID),
            "warc": .string(capture.warc),
        ]
        if capture.seq != page.seq { subject["in_replay_of"] = .string(page.id) }
        try recordView(session, caseID, subject)
        let contentType = Self.field("content-type", in: message.headers)
        var replay = Replay(body: message.body, contentType: contentType, recordID: capture.recordID)
        replay.status = message.status
        replay.contentEncoding = Self.field("content-encoding", in: message.headers)
        if ["text/html", "application/xhtml+xml"].contains(CasePageQuery.essence(contentType)) {
            // A page: its image addresses are pointed at this route (the frame sends no Referer).
            var body: [UInt8]? = replay.contentEncoding == nil ? message.body : nil
            if body == nil {
                var path = directory + "/" + capture.warc
                if access(path, R_OK) != 0 { path += ".tmp" }
                body = (try? ArchivedResponse(warcPath: path, offset: capture.offset))?.body
            }
            if let body {
                let pageID = page.id
                replay.body = ReplayImageLinks.rewrite(body, pageURL: capture.url) { ReplayLink.page(caseID: caseID, artifactID: pageID, url: $0) }
                replay.contentEncoding = nil
            }
        }
        if (300...399).contains(message.status), let location = Self.field("location", in: message.headers), let base = URL(string: capture.url),
           let absolute = URL(string: location, relativeTo: base)?.absoluteString {
            replay.redirect = absolute
        }
        return replay
    }

    /// The first value of a header field, by name without regard to case.
    static func field(_ name: String, in headers: [(String, String)]) -> String? {
        headers.first { $0.0.lowercased() == name }?.1
    }

    /// The archived body of an artifact's response record (read permission; recorded).
    public func replay(_ caseID: String, artifact argument: String) throws(ExhibitError) -> Replay {
        let session = try authorizedRead(caseID)
        let (artifact, _) = try findArtifact(argument, caseID: caseID, session: session)
        guard let record = artifact.responseRecord, let offset = record.offset, let file = artifact.warcFile else {
            throw BrowserError.notFound("Artifact \(artifact.id) has no response record to replay.")
        }
        let directory = session.store.directory(of: caseID)
        var path = directory + "/" + file
        if !FileManager.default.fileExists(atPath: path) { path += ".tmp" }
        let archived: ArchivedResponse
        do {
            archived = try ArchivedResponse(warcPath: path, offset: offset)
        } catch {
            throw BrowserError.unprocessable("Artifact \(artifact.id) cannot be replayed here (\(error.message)); its WARC record is in \(file).")
        }
        try recordView(session, caseID, [
            "viewed": "replay", "artifact": .string(artifact.id), "record_id": .string(record.id), "warc": .string(file),
        ])
        return Replay(body: archived.body, contentType: archived.contentType, recordID: record.id)
    }

    /// A blob the ledger records, read and checked against its recorded digest.
    public struct Blob: Sendable {
        public var bytes: [UInt8]
        public var mediaType: String?
        public var path: String
    }

    /// Blobs larger than this (64 MiB) are not served: the browser is for
    /// looking at screenshots and media, and the bundle carries every file whole.
    public static let blobLimit: Int64 = 64 << 20

    /// A recorded blob by its sha256 (read permission; recorded). Anything the
    /// ledger does not record is not found, whatever is on disk.
    public func blob(_ caseID: String, sha256: String) throws(ExhibitError) -> Blob {
        let session = try authorizedRead(caseID)
        let digest = sha256.lowercased()
        let entries = try session.store.ledger(of: caseID).entries()
        guard let reference = BlobReference.find(digest, in: entries) else {
            throw BrowserError.notFound("Case \(caseID) records no blob with sha256 \(digest).")
        }
        let path = session.store.directory(of: caseID) + "/" + reference.path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw BrowserError.notFound("The blob \(reference.path) is recorded but not in the case; run `exhibit verify \(caseID)`.")
        }
        guard Int64(info.st_size) <= Self.blobLimit else {
            throw BrowserError.unprocessable("The blob \(reference.path) is larger than \(Self.blobLimit >> 20) MiB and is not shown in the browser; export the case to hand it over.")
        }
        let bytes = try AtomicFile.read(path)
        // What is shown is what the ledger recorded, or nothing.
        guard Digest.sha256Hex(bytes) == reference.sha256 else {
            throw ExhibitError(.verificationFailed, "The blob \(reference.path) does not match the sha256 its ledger entry (seq \(reference.seq)) records; run `exhibit verify \(caseID)`.")
        }
        try recordView(session, caseID, ["viewed": "blob", "sha256": .string(digest), "path": .string(reference.path)])
        return Blob(bytes: bytes, mediaType: reference.mediaType, path: reference.path)
    }

    // MARK: Verify and export

    /// `exhibit verify CASE` as the acting actor (custodian): the report, and
    /// the `verify` entry that records it.
    public func verify(_ caseID: String) throws(ExhibitError) -> (report: CaseVerification.Report, entry: LedgerEntry?) {
        let session = try session()
        try requireCase(caseID, session: session)
        try session.authorize(.verify, caseID: caseID, command: "verify")
        let report = try WorkspaceCaseCheck.verify(directory: session.store.directory(of: caseID))
        let entry = try WorkspaceCaseCheck.record(report, session: session)
        return (report, entry)
    }

    /// Where the browser's exports go: `<workspace>/exports/`.
    public var exportsDirectory: String { workspace.root + "/exports" }

    /// `exhibit export CASE` as the acting actor (analyst) into
    /// `<workspace>/exports/<CASE>-<UTC yyyymmddThhmmssZ>.zip` (a zipped BagIt
    /// bag) or `.wacz`; a name already taken gets `-2`, `-3`… so nothing is
    /// ever overwritten. `now` is the time used in the name.
    public func export(_ caseID: String, format: CaseExport.Format, now: Date = Date()) throws(ExhibitError) -> CaseExport.Result {
        let session = try session()
        try requireCase(caseID, session: session)
        // Refused before a folder is made for it.
        try session.authorize(.export, caseID: caseID, command: "export")
        if mkdir(exportsDirectory, 0o700) != 0, errno != EEXIST {
            throw AtomicFile.posixError("Cannot create \(exportsDirectory)")
        }
        let output = try Self.exportPath(directory: exportsDirectory, caseID: caseID, format: format, now: now)
        var options = CaseExport.Options(output: output)
        options.format = format
        options.zip = format == .bagit
        return try CaseExport(session: session, caseID: caseID, options: options).run()
    }

    /// A free name for an export: the case id and the UTC second, then `-2`, `-3`….
    static func exportPath(directory: String, caseID: String, format: CaseExport.Format, now: Date) throws(ExhibitError) -> String {
        var time = tm()
        var seconds = time_t(now.timeIntervalSince1970)
        gmtime_r(&seconds, &time)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", Int(time.tm_year) + 1900, Int(time.tm_mon) + 1,
                           Int(time.tm_mday), Int(time.tm_hour), Int(time.tm_min), Int(time.tm_sec))
        let suffix = format == .wacz ? ".wacz" : ".zip"
        for attempt in 1...1000 {
            let name = "\(caseID)-\(stamp)\(attempt == 1 ? "" : "-\(attempt)")\(suffix)"
            let path = directory + "/" + name
            if access(path, F_OK) != 0 { return path }
        }
        throw ExhibitError(.storage, "No free export name for \(caseID) in \(directory); move old exports away.")
    }

    // MARK: Pieces

    /// Unknown cases are "not found" before any permission check, so the
    /// answer never depends on who asks; an invalid id touches no file.
    func requireCase(_ caseID: String, session: ActingSession) throws(ExhibitError) {
        guard CaseStore.isValidCaseID(caseID),
              FileManager.default.fileExists(atPath: session.store.directory(of: caseID) + "/ledger.jsonl") else {
            throw BrowserError.notFound("There is no case \(caseID) in this workspace.")
        }
    }

    /// The case page's permission: reading, or custody. A custodian who reads no
    /// evidence still verifies the case, and the Verify button is on this page
    /// (issue 18); a decision-maker is still refused every background
    /// investigation, whatever other role it holds (``ActingSession/authorize(_:caseID:command:)``).
    func authorizedCasePage(_ caseID: String) throws(ExhibitError) -> (ActingSession, readsEvidence: Bool) {
        let session = try session()
        try requireCase(caseID, session: session)
        if !Permission.read.allows(session.actor), Permission.verify.allows(session.actor) {
            try session.authorize(.verify, caseID: caseID, command: "serve")
            return (session, false)
        }
        try session.authorize(.read, caseID: caseID, command: "serve")
        return (session, true)
    }

    func authorizedRead(_ caseID: String) throws(ExhibitError) -> ActingSession {
        let session = try session()
        try requireCase(caseID, session: session)
        try session.authorize(.read, caseID: caseID, command: "serve")
        return session
    }

    func findArtifact(_ argument: String, caseID: String, session: ActingSession) throws(ExhibitError) -> (BrowserArtifact, [LedgerEntry]) {
        let entries = try session.store.ledger(of: caseID).entries()
        let id: String
        do {
            id = try ArtifactID.resolve(argument, in: entries)
        } catch {
            throw BrowserError.notFound("Case \(caseID) has no artifact \(argument).")
        }
        guard let artifact = BrowserArtifact.all(in: entries).first(where: { $0.id == id }) else {
            throw BrowserError.notFound("Case \(caseID) has no artifact \(argument).")
        }
        return (artifact, entries)
    }

    func selectors(_ caseID: String, session: ActingSession) throws(ExhibitError) -> [SelectorSummary] {
        try index.refresh(caseID: caseID, store: session.store)
        return try index.selectors(caseID: caseID)
    }

    /// A `view` entry by the acting actor; `command` is always `serve`, and
    /// `viewed` says what: case, artifact, replay or blob.
    @discardableResult
    func recordView(_ session: ActingSession, _ caseID: String, _ subject: [String: JSONValue]) throws(ExhibitError) -> LedgerEntry {
        var subject = subject
        subject["command"] = .string("serve")
        return try session.store.append(LedgerDraft(action: "view", subject: .object(subject)), to: caseID, signer: try session.signer())
    }
}

/// The browser's own failures that are not Exhibit errors of another kind:
/// a page or file that does not exist (404) or cannot be shown (422). Carried
/// inside an ``ExhibitError`` with the storage code (exit 5 where a command
/// would meet it), so library callers keep one error type.
public enum BrowserError {
    public enum Kind: Sendable { case notFound, unprocessable }

    /// A page, artifact or blob that does not exist (HTTP 404).
    public static func notFound(_ message: String) -> ExhibitError {
        ExhibitError(.storage, message, cause: Marker(kind: .notFound))
    }

    /// Something that exists but cannot be shown in the browser (HTTP 422).
    public static func unprocessable(_ message: String) -> ExhibitError {
        ExhibitError(.storage, message, cause: Marker(kind: .unprocessable))
    }

    /// The kind an error was raised with, or nil for any other error.
    public static func kind(of error: ExhibitError) -> Kind? {
        (error.cause as? Marker)?.kind
    }

    struct Marker: Error, Sendable {
        var kind: Kind
    }
}
