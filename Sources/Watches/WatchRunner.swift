public import CaseManagement
public import ChainOfCustody
import BrowserCapture
import Foundation
import LawfulFetch

/// A run of the watches (`exhibit watch run`): captures each watched URL again as a normal
/// capture job and appends a `change` entry comparing it with the previous
/// capture of that URL (DESIGN §18).
///
/// Two runs at once never capture one watch twice: each watch is locked (a byte of
/// its case's lock file in the workspace's watches/ directory, without waiting) while
/// it runs, and once locked its state is read again from the ledger, so a watch
/// another process has just run is no longer due.
///
/// The bookkeeping is kept small beside the capture it wraps: each ledger is read
/// once (then only the bytes appended since), every due watch of a case with the same
/// network override shares one capture job, whose pages are compared as its batches
/// are sealed (`SealedBatchJudge`), and the change entries of each batch are appended
/// while the next batch is fetched, in the order of the watches' entries; the job takes the case's
/// state from the ledger the run has read instead of reading it again.
public struct WatchRunner: Sendable {
    public let session: ActingSession

    /// A watch run seals its capture's WARC file every this many URLs, as a capture
    /// does: each batch's comparisons and change entries overlap the next batch's
    /// transfers, and only the last batch is left when they end. Each seal stalls the
    /// transfers for its fsyncs (WARC file, ledger, witness, case.json), which cost more
    /// wall time than the last batch's comparisons save.
    static let sealEvery = CaptureOptions(urls: []).rotateURLs
    /// For tests: another batch size.
    var rotateURLs = WatchRunner.sealEvery
    /// For tests: how many prepared pages are parsed in one hand-off (`SealedBatchJudge`).
    var parseChunk = SealedBatchJudge.parseChunk

    public init(session: ActingSession) {
        self.session = session
    }

    /// What one watch's run found.
    public struct Outcome: Sendable, Encodable {
        public var watch: String
        public var `case`: String
        public var url: String
        /// `captured`, `unchanged`, `changed`, `removed` or `unreachable`.
        public var result: String
        /// The artifact captured (`A-0012`) and the one compared with.
        public var artifact: String?
        public var previous: String?
        public var summary: String
        /// Unreachable results in a row, this one included.
        public var consecutiveUnreachable: Int?

        enum CodingKeys: String, CodingKey {
            case watch, `case`, url, result, artifact, previous, summary
            case consecutiveUnreachable = "consecutive_unreachable"
        }
    }

    /// A watch that did not run, and why.
    public struct Skipped: Sendable, Encodable {
        public var watch: String
        public var `case`: String
        public var url: String
        public var reason: String
    }

    public struct Report: Sendable, Encodable {
        public var ran: [Outcome] = []
        /// Watches whose case is closed, held or otherwise refuses captures.
        public var stopped: [Skipped] = []
        /// Watches another `watch run` was running.
        public var busy: [Skipped] = []
        /// Watches that failed for another reason (storage, a refusal of the actor).
        public var failed: [Skipped] = []
        /// Active watches not yet due (when only due watches run).
        public var notDue = 0

        enum CodingKeys: String, CodingKey {
            case ran, stopped, busy, failed
            case notDue = "not_due"
        }

        /// 6 when a watch was unreachable or failed (as a capture with failures), else success.
        public var exitCode: ExhibitError.Code? {
            if !failed.isEmpty || ran.contains(where: { $0.result == "unreachable" }) { return .captureFailed }
            return nil
        }
    }

    /// Runs every active watch, or with `dueOnly` only those due now. `line`
    /// hears one line per watch as it is decided.
    public func run(dueOnly: Bool, caseID: String? = nil, concurrency: Int = 4, line: ((String) -> Void)? = nil) throws(ExhibitError) -> Report {
        let started = LedgerTime.now()
        let now = LedgerTime.seconds(of: started) ?? 0
        let patterns = try RemovalPatternsInForce(templates: session.store.templates)
        var report = Report()
        let lockDirectory = session.workspace.root + "/watches"
        if mkdir(lockDirectory, 0o700) != 0, errno != EEXIST {
            throw AtomicFile.posixError("Cannot create \(lockDirectory)")
        }
        // Lock files of single watches (CASE-W0007.lock), from before a case's watches
        // shared one file: nothing locks them any more.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: lockDirectory)) ?? []
        where name.hasSuffix(".lock") && WatchLedger.parse(String(name.dropLast(5))) != nil {
            unlink(lockDirectory + "/" + name)
        }
        let caseIDs = caseID.map { [$0] } ?? session.store.caseIDs()
        if let caseID { try session.store.requireCase(caseID) }
        for id in caseIDs {
            // A case that never had a watch is passed over without parsing its ledger:
            // cron calls this every few minutes over every case of the workspace.
            let ledger = session.store.ledger(of: id)
            let bytes = try ledger.readLocked()
            guard Self.mayHoldWatches(bytes) else { continue }
            // libcurl loads on a thread of its own while the ledger is parsed (a capture
            // job would otherwise wait for it before its first request).
            Curl.preload()
            var entries = try Self.entries(in: bytes, ledger: ledger)
            var readUpTo = bytes.count
            guard let state = try? CaseState.fold(entries), session.mayList(state) else { continue }
            let active = WatchLedger.watches(in: entries).filter { !$0.hasEnded(at: now) }
            guard !active.isEmpty else { continue }
            let chosen = dueOnly ? active.filter { $0.isDue(at: now) } : active
            report.notDue += active.count - chosen.count
            guard !chosen.isEmpty else { continue }
            if let reason = Self.stopReason(state) {
                for watch in chosen {
                    report.stopped.append(Skipped(watch: watch.id, case: id, url: watch.url, reason: reason))
                    line?("stopped \(watch.id) \(watch.url) — \(reason)")
                }
                continue
            }
            try session.authorize(.capture, caseID: id, command: "watch run")
            // Lock each chosen watch without waiting; a busy one is another run's.
            let lockFile = try WatchLockFile(path: lockDirectory + "/" + id + ".lock")
            var locks: Set<String> = []
            for watch in chosen {
                if try lockFile.tryLock(watch.seq) {
                    locks.insert(watch.id)
                } else {
                    report.busy.append(Skipped(watch: watch.id, case: id, url: watch.url, reason: "another watch run is capturing it"))
                    line?("busy \(watch.id) \(watch.url) — another watch run is capturing it")
                }
            }
            guard !locks.isEmpty else { continue }
            // Read again under the locks (what was appended since): a run that finished
            // meanwhile has made its watch not due (or, when every watch runs, already
            // run since this run began).
            let tail = try ledger.readLocked(from: readUpTo)
            readUpTo += tail.count
            entries += try Self.entries(in: tail, ledger: ledger)
            let fresh = tail.isEmpty ? active : WatchLedger.watches(in: entries)
            var toRun: [Watch] = []
            for watch in fresh where locks.contains(watch.id) {
                let ranSince = watch.lastRunStarted.map { $0 >= started } ?? false
                if watch.hasEnded(at: now) || ranSince || (dueOnly && !watch.isDue(at: now)) {
                    report.notDue += 1
                } else {
                    toRun.append(watch)
                }
            }
            for batch in Self.batches(toRun) {
                var outcomes: [Outcome] = []
                var failure: ExhibitError?
                do {
                    (outcomes, failure) = try runBatch(batch, caseID: id, entries: &entries, readUpTo: &readUpTo, started: started,
                                                       patterns: patterns, concurrency: concurrency)
                } catch {
                    failure = error
                }
                for outcome in outcomes {
                    report.ran.append(outcome)
                    line?("\(outcome.result) \(outcome.watch) \(outcome.url)\(outcome.artifact.map { " \($0)" } ?? "") — \(outcome.summary)")
                }
                guard let error = failure else { continue }
                let ran = Set(outcomes.map(\.watch))
                for watch in batch where !ran.contains(watch.id) {
                    let skipped = Skipped(watch: watch.id, case: id, url: watch.url, reason: error.message)
                    if error.code == .notPermitted { report.stopped.append(skipped) } else { report.failed.append(skipped) }
                    line?("\(error.code == .notPermitted ? "stopped" : "FAILED") \(watch.id) \(watch.url) — \(error.message)")
                }
            }
            withExtendedLifetime(lockFile) {}
        }
        return report
    }

    /// The entries of ledger bytes (a whole file or the lines appended after a point
    /// read before), strictly parsed; on every core, as they may be a thousand watches
    /// or a job's thousand capture entries.
    static func entries(in bytes: [UInt8], ledger: Ledger, width: Int = Parallel.width) throws(ExhibitError) -> [LedgerEntry] {
        let lines = Ledger.lines(of: bytes)
        let damaged = ExhibitError(.storage, "The ledger \(ledger.path) has a damaged or incomplete line; run `exhibit verify` on the case.")
        guard lines.allSatisfy(\.terminated) else { throw damaged }
        let ranges = lines.map { $0.bytes.startIndex..<$0.bytes.endIndex }
        let width = ranges.count >= 64 ? width : 1
        let share = (ranges.count + width - 1) / width
        let parts = stride(from: 0, to: ranges.count, by: max(share, 1)).map { $0..<min($0 + share, ranges.count) }
        let parsed = Parallel.map(parts, width: width) { part -> [LedgerEntry]? in
            var entries: [LedgerEntry] = []
            entries.reserveCapacity(part.count)
            for index in part {
                guard let entry = try? LedgerEntry(line: Array(bytes[ranges[index]])) else { return nil }
                entries.append(entry)
            }
            return entries
        }
        var entries: [LedgerEntry] = []
        entries.reserveCapacity(ranges.count)
        for part in parsed {
            guard let part else { throw damaged }
            entries += part
        }
        return entries
    }

    /// Whether a ledger's bytes may hold a `watch` entry: its lines are canonical JSON
    /// (sorted keys, no spaces), so a watch entry holds `"action":"watch"` verbatim,
    /// and text inside a subject would have its quotes escaped.
    static func mayHoldWatches(_ ledger: [UInt8]) -> Bool {
        let needle = Array(#""action":"watch""#.utf8)
        guard ledger.count >= needle.count else { return false }
        return ledger.withUnsafeBufferPointer { bytes in
            var index = 0
            let last = bytes.count - needle.count
            while index <= last {
                if bytes[index] == needle[0], bytes[index + 1] == needle[1] {
                    var matched = 2
                    while matched < needle.count, bytes[index + matched] == needle[matched] { matched += 1 }
                    if matched == needle.count { return true }
                }
                index += 1
            }
            return false
        }
    }

    /// Why a case's watches do not run, or nil when they do.
    static func stopReason(_ state: CaseState) -> String? {
        switch state.status {
        case .closed: return "case \(state.id) is closed; nothing more can be captured into it"
        case .disposed: return "case \(state.id) was disposed of"
        case .open: return state.onHold ? "case \(state.id) is on legal hold; its watches resume when the hold is released" : nil
        }
    }

    /// Watches that can share one capture job: the same network override and mode,
    /// and each URL once (a job fetches a URL only once).
    static func batches(_ watches: [Watch]) -> [[Watch]] {
        var batches: [[Watch]] = []
        var keys: [[String]] = []
        var urls: [Set<String>] = []
        for watch in watches {
            let key = watch.allowNetworks + ["\u{0}", watch.overrideReason ?? "", watch.browser ? "browser" : "plain"]
            if let index = keys.indices.first(where: { keys[$0] == key && !urls[$0].contains(watch.url) }) {
                batches[index].append(watch)
                urls[index].insert(watch.url)
            } else {
                keys.append(key)
                batches.append([watch])
                urls.append([watch.url])
            }
        }
        return batches
    }

    /// One capture job for a batch and one `change` entry per watch: those of each
    /// sealed batch of the job appended right after it (`SealedBatchJudge`), those of
    /// watches whose URL left no entry in a sealed batch after the job. `entries` is the
    /// ledger as read up to byte `readUpTo`; what was appended after it is read first
    /// (another batch's job and change entries). Returns the outcomes in the batch's
    /// order, and why the others have none when the job or an append failed.
    func runBatch(_ batch: [Watch], caseID: String, entries: inout [LedgerEntry], readUpTo: inout Int, started: String,
                  patterns: RemovalPatternsInForce, concurrency: Int) throws(ExhibitError) -> (outcomes: [Outcome], failure: ExhibitError?) {
        let ledger = session.store.ledger(of: caseID)
        let appended = try ledger.readLocked(from: readUpTo)
        if !appended.isEmpty {
            entries += try Self.entries(in: appended, ledger: ledger)
            readUpTo += appended.count
        }
        let jobStart = readUpTo
        var options = CaptureOptions(urls: batch.map(\.url))
        options.allowNetworks = batch[0].allowNetworks
        options.allowReason = batch[0].overrideReason
        options.browser = batch[0].browser
        options.concurrency = concurrency
        options.rotateURLs = min(options.rotateURLs, rotateURLs)
        // The ledger as just read, whole: the job need not read and parse it again.
        options.caseState = try CaseState.fold(entries)
        let caseDirectory = session.store.directory(of: caseID)
        // Per URL, the last capture before the job, and the captures a change entry
        // found not removed under the patterns in force now: found before the job, so
        // that its captures are compared while it goes on.
        let urls = Set(batch.map(\.url))
        var previousByURL: [String: LedgerEntry] = [:]
        var passedRemoval: Set<Int64> = []
        for entry in entries where entry.action == "capture" || entry.action == WatchLedger.changeAction {
            guard let subject = entry.subject, let url = subject["url"]?.stringValue, urls.contains(url) else { continue }
            if entry.action == "capture" {
                if subject["role"]?.stringValue == "page" { previousByURL[url] = entry }
            } else if let seq = subject["capture"]?["seq"]?.intValue,
                      subject["removal_patterns_sha256"]?.stringValue == patterns.sha256,
                      ["captured", "unchanged", "changed"].contains(subject["result"]?.stringValue ?? "") {
                passedRemoval.insert(seq)
            }
        }
        let bases = Dictionary(batch.map { watch in
            let previous = previousByURL[watch.url]
            return (watch.url, SealedBatchJudge.Basis(previous: previous, unreachableBefore: watch.consecutiveUnreachable,
                                                      previousPassedRemoval: previous.map { passedRemoval.contains($0.seq) } ?? false))
        }, uniquingKeysWith: { first, _ in first })
        let store = session.store, session = session
        let draft: @Sendable (Watch, WatchComparison) -> LedgerDraft = { watch, comparison in
            var subject = comparison.subject
            subject["watch"] = .string(watch.id)
            subject["url"] = .string(watch.url)
            subject["run_started"] = .string(started)
            subject["removal_patterns_sha256"] = .string(patterns.sha256)
            return LedgerDraft(action: WatchLedger.changeAction, subject: .object(subject))
        }
        let judge = SealedBatchJudge(batch: batch, bases: bases, caseDirectory: caseDirectory, patterns: patterns, makeDraft: draft,
                                     append: { drafts throws(ExhibitError) in
                                         // A key of the judge's own thread: a signing key is not shared between threads.
                                         _ = try store.append(drafts, to: caseID, signer: try session.signer())
                                     }, parseChunk: parseChunk)
        options.sealObserver = judge
        var failure: ExhibitError?
        var warcFiles: Set<String> = []
        do {
            let captureReport = try CaptureJob(session: session, caseID: caseID, options: options).loadingPagesInChromium().run(events: nil)
            warcFiles = Set(captureReport.warcFiles)
        } catch {
            failure = error
        }
        let (decided, appendFailure) = judge.finish()
        failure = failure ?? appendFailure
        var comparisons = decided
        let undecided = batch.indices.filter { decided[$0] == nil }
        if failure == nil, !undecided.isEmpty {
            // Watches whose URL left no entry in a sealed batch (refused before any
            // fetch, or nothing recorded): their entries, if any, are read back.
            let jobEntries = try Self.entries(in: try ledger.readLocked(from: jobStart), ledger: ledger)
            var currentByURL: [String: LedgerEntry] = [:]
            for entry in jobEntries where SealedBatchJudge.isJobEntry(entry) {
                // Only a capture sealed in one of this job's WARC files is this job's:
                // another process may have captured the same URL meanwhile.
                if let file = entry.subject?["warc"]?["file"]?.stringValue, !warcFiles.contains(file) { continue }
                if let url = entry.subject?["url"]?.stringValue, urls.contains(url) { currentByURL[url] = entry }
            }
            var drafts: [LedgerDraft] = []
            for index in undecided {
                let watch = batch[index]
                let comparison = bases[watch.url]!.compare(currentByURL[watch.url], caseDirectory: caseDirectory, patterns: patterns)
                comparisons[index] = comparison
                drafts.append(draft(watch, comparison))
            }
            do {
                try store.append(drafts, to: caseID, signer: try session.signer())
            } catch {
                for index in undecided { comparisons[index] = nil }
                failure = error
            }
        }
        let outcomes = batch.indices.compactMap { index -> Outcome? in
            guard let comparison = comparisons[index] else { return nil }
            let watch = batch[index]
            return Outcome(watch: watch.id, case: caseID, url: watch.url, result: comparison.result,
                           artifact: comparison.artifact, previous: comparison.previous, summary: comparison.summary,
                           consecutiveUnreachable: comparison.result == "unreachable" ? watch.consecutiveUnreachable + 1 : nil)
        }
        return (outcomes, failure)
    }
}

/// The watch locks of one case: one file, `<workspace>/watches/<CASE>.lock`, in which
/// each watch is locked by the byte at its ledger seq (an open-file-description
/// `fcntl` lock, taken without waiting). The locks are held while the object lives,
/// and the kernel drops them if the process dies. One file per case, not one per
/// watch: a thousand watches cost one open, not a thousand new files.
final class WatchLockFile {
    private let fd: Int32
    private let path: String
    /// Linux's F_OFD_SETLK (fcntl.h, _GNU_SOURCE), which Glibc's module does not export.
    private static let setOFDLock: Int32 = 37

    init(path: String) throws(ExhibitError) {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot open the watch lock file \(path)") }
    }

    /// Locks the watch set up by ledger entry `seq`; false when another process holds it.
    func tryLock(_ seq: Int) throws(ExhibitError) -> Bool {
        var range = flock()
        range.l_type = Int16(F_WRLCK)
        range.l_whence = Int16(SEEK_SET)
        range.l_start = off_t(seq)
        range.l_len = 1
        range.l_pid = 0
        while fcntl(fd, Self.setOFDLock, &range) != 0 {
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EACCES { return false }
            throw AtomicFile.posixError("Cannot lock a watch in \(path)")
        }
        return true
    }

    deinit {
        close(fd)
    }
}
