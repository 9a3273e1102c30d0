public import CaseManagement
public import ChainOfCustody
import Foundation
import LawfulFetch

/// Setting up, listing and ending watches (DESIGN §18). Every watch lives in its
/// case's ledger: `add` appends a `watch` entry, `remove` a `watch-removed` one.
public struct WatchBook: Sendable {
    public let session: ActingSession

    public init(session: ActingSession) {
        self.session = session
    }

    /// What `watch add` is asked for.
    public struct Request: Sendable {
        public var url: String
        public var every: String
        public var browser = false
        /// `YYYY-MM-DD` (the end of that day, UTC) or a UTC time `YYYY-MM-DDTHH:MM:SSZ`.
        public var until: String?
        public var allowNetworks: [String] = []
        public var reason: String?

        public init(url: String, every: String) {
            self.url = url
            self.every = every
        }
    }

    /// A watch with the state of its case, for `watch list`.
    public struct Listing: Sendable, Encodable {
        public var watch: Watch
        /// `open`, `closed`, `on hold`: a watch runs only while its case is open and not held.
        public var caseStatus: String
        /// `active`, `removed`, `ended` (past its end) or `stopped` (the case is closed or held).
        public var state: String
        public var nextDue: String?

        enum CodingKeys: String, CodingKey {
            case watch, state
            case caseStatus = "case_status"
            case nextDue = "next_due"
        }
    }

    /// `exhibit watch add`: checks everything, then appends the `watch` entry.
    public func add(caseID: String, _ request: Request) throws(ExhibitError) -> Watch {
        try session.authorize(.capture, caseID: caseID, command: "watch add")
        try BackgroundInvestigation.requireSearcher(session, caseID: caseID, command: "watch add")
        try session.requireOpen(caseID, command: "watch add")
        let state = try session.store.state(of: caseID)
        if state.onHold {
            let reason = "Case \(caseID) is on legal hold; watches do not run on a held case, so none is added."
            try session.store.append(LedgerDraft(action: "refusal", subject: .object([
                "command": .string("watch add"), "reason": .string(reason),
            ])), to: caseID, signer: try session.signer())
            throw ExhibitError(.notPermitted, reason)
        }
        guard let address = WebAddress(request.url), address.isWeb, !address.host.isEmpty else {
            throw ExhibitError(.storage, "\"\(request.url)\" is not a URL to watch; give an absolute http:// or https:// URL.")
        }
        guard !address.hasUserInfo else {
            throw ExhibitError(.policyRefusal, "The URL carries a user name or password; Exhibit never sends credentials (policy IV.B.8), so it cannot be watched.")
        }
        guard let seconds = WatchInterval.seconds(parsing: request.every) else {
            throw ExhibitError(.usage, "\"\(request.every)\" is not an interval; write it as 30m, 6h, 1d, 2w or a sum such as 1h30m.", input: .watchInterval)
        }
        guard seconds >= WatchInterval.minimumSeconds else {
            throw ExhibitError(.usage, "A watch runs at most once a minute; \(request.every) is shorter.", input: .watchInterval)
        }
        var until: String?
        if let text = request.until {
            guard let end = Self.endTime(text) else {
                throw ExhibitError(.usage, "\"\(text)\" is not a date; give YYYY-MM-DD (the watch ends after that day, UTC) or YYYY-MM-DDTHH:MM:SSZ.", input: .watchEnd)
            }
            guard let seconds = LedgerTime.seconds(of: end), seconds > LedgerTime.seconds(of: LedgerTime.now()) ?? 0 else {
                throw ExhibitError(.usage, "The watch would end at \(end), which has passed; give a later end.", input: .watchEnd)
            }
            until = end
        }
        var subject: [String: JSONValue] = [
            "url": .string(address.text),
            "every": .string(WatchInterval.text(seconds: seconds)),
            "every_seconds": .integer(Int64(seconds)),
            "browser": .bool(request.browser),
        ]
        if let until { subject["until"] = .string(until) }
        if !request.allowNetworks.isEmpty {
            let override: NetworkOverride
            do {
                override = try NetworkOverride(ranges: request.allowNetworks, reason: request.reason)
            } catch {
                throw ExhibitError(.usage, error.message + ".", input: error.code == .emptyReason ? .reason : nil, cause: error)
            }
            // Sealed with the watch: every run applies exactly this and records it.
            subject["network_override"] = .object([
                "ranges": .array(override.ranges.map { .string($0.description) }),
                "reason": .string(override.reason),
            ])
        }
        let entry = try session.store.append(LedgerDraft(action: WatchLedger.watchAction, subject: .object(subject)),
                                             to: caseID, signer: try session.signer())
        guard let watch = WatchLedger.watches(in: [entry]).first else {
            throw ExhibitError(.storage, "The watch entry of \(caseID) could not be read back; run `exhibit verify \(caseID)`.")
        }
        return watch
    }

    /// `exhibit watch remove`: appends a `watch-removed` entry.
    public func remove(_ id: String, reason: String?) throws(ExhibitError) -> Watch {
        guard let (caseID, _) = WatchLedger.parse(id) else {
            throw ExhibitError(.storage, "\"\(id)\" is not a watch id; `exhibit watch list` shows them (CASE-W0007).")
        }
        try session.authorize(.capture, caseID: caseID, command: "watch remove")
        let watches = WatchLedger.watches(in: try session.store.ledger(of: caseID).entries())
        guard var watch = watches.first(where: { $0.id == id }) else {
            throw ExhibitError(.storage, "Case \(caseID) has no watch \(id); `exhibit watch list \(caseID)` shows its watches.")
        }
        guard watch.removedAt == nil else {
            throw ExhibitError(.storage, "Watch \(id) was already removed at \(watch.removedAt!).")
        }
        try session.requireOpen(caseID, command: "watch remove")
        var subject: [String: JSONValue] = ["watch": .string(id), "url": .string(watch.url)]
        if let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty { subject["reason"] = .string(reason) }
        let entry = try session.store.append(LedgerDraft(action: WatchLedger.removedAction, subject: .object(subject)),
                                             to: caseID, signer: try session.signer())
        watch.removedAt = entry.time
        return watch
    }

    /// `exhibit watch list [CASE]`: the watches of one case or of every case the
    /// actor may list, with their state.
    public func list(caseID: String?) throws(ExhibitError) -> [Listing] {
        try session.authorize(.read, caseID: caseID, command: "watch list")
        let now = LedgerTime.seconds(of: LedgerTime.now()) ?? 0
        var listings: [Listing] = []
        for id in caseID.map({ [$0] }) ?? session.store.caseIDs() {
            let entries = try session.store.ledger(of: id).entries()
            guard let state = try? CaseState.fold(entries), session.mayList(state) else { continue }
            let caseStatus = state.status != .open ? state.status.rawValue : state.onHold ? "on hold" : "open"
            for watch in WatchLedger.watches(in: entries) {
                let listingState: String
                if watch.removedAt != nil { listingState = "removed" }
                else if watch.hasEnded(at: now) { listingState = "ended" }
                else if caseStatus != "open" { listingState = "stopped" }
                else { listingState = "active" }
                listings.append(Listing(watch: watch, caseStatus: caseStatus, state: listingState,
                                        nextDue: listingState == "active" ? watch.nextDue : nil))
            }
        }
        return listings
    }

    /// A watch's end in ledger time: a date means the end of that day (UTC).
    static func endTime(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count == 10, let seconds = LedgerTime.seconds(of: trimmed + "T23:59:59.000000Z") {
            return LedgerTime.format(seconds: seconds, microseconds: 0)
        }
        if trimmed.count == 20, trimmed.hasSuffix("Z"), let seconds = LedgerTime.seconds(of: String(trimmed.dropLast()) + ".000000Z") {
            return LedgerTime.format(seconds: seconds, microseconds: 0)
        }
        return LedgerTime.seconds(of: trimmed) != nil ? trimmed : nil
    }
}

extension ExhibitError.Input {
    /// How often a watch runs.
    public static let watchInterval = ExhibitError.Input("watch-interval")
    /// When a watch stops.
    public static let watchEnd = ExhibitError.Input("watch-end")
}
