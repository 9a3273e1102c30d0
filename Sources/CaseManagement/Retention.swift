public import ChainOfCustody
import Foundation

// Records retention and legal hold (policy IV.A.2.c, DESIGN §11): "Relevant records
// retention schedules apply to social media content." A case's category template
// names its schedule; a legal hold suspends it; `exhibit retention` lists what is
// due, and `exhibit dispose` (Disposal.swift) acts on it.

/// A day of the proleptic Gregorian calendar in UTC, written `YYYY-MM-DD`.
///
/// Retention counts calendar years from the close date in UTC (DESIGN §14), so
/// due dates are whole days, never instants: a case closed at 23:59 on
/// 2026-12-01 becomes due on 2036-12-01 like one closed at 00:01.
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Parses `YYYY-MM-DD`; nil unless it names a real day.
    public init?(_ text: String) {
        guard CaseTemplate.isDate(text) else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        self.init(unchecked: parts[0], parts[1], parts[2])
    }

    /// The UTC day of a ledger time (`2026-12-01T13:20:00.123456Z` → 2026-12-01).
    public init?(ledgerTime: String) {
        self.init(String(ledgerTime.prefix(10)))
    }

    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Today in UTC by the system clock: the real clock, which no option changes.
    public static func today() -> CalendarDate {
        // LedgerTime.now() always yields a well-formed time.
        CalendarDate(ledgerTime: LedgerTime.now())!
    }

    /// The same month and day `years` later. 29 February becomes 1 March in a
    /// year without one: a retention period must have fully run, never a day short.
    public func adding(years: Int) -> CalendarDate {
        let target = year + years
        if month == 2 && day == 29 && !Self.isLeapYear(target) {
            return CalendarDate(unchecked: target, 3, 1)
        }
        return CalendarDate(unchecked: target, month, day)
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// A category's retention schedule: N calendar years after closing, or permanent.
public struct RetentionRule: Sendable, Equatable {
    /// nil for permanent retention.
    public let yearsAfterClose: Int?

    public var isPermanent: Bool { yearsAfterClose == nil }

    /// The rule a template names. A template that names neither a number of years
    /// nor `permanent` is read as permanent: nothing is destroyed on a guess.
    public init(_ retention: CaseTemplate.Retention) {
        if retention.permanent == true {
            yearsAfterClose = nil
        } else {
            yearsAfterClose = retention.yearsAfterClose.flatMap { $0 >= 0 ? $0 : nil }
        }
    }

    /// `10 years after closing` or `permanent`, as the `open` entry records it.
    public var summary: String {
        guard let years = yearsAfterClose else { return "permanent" }
        return "\(years) year\(years == 1 ? "" : "s") after closing"
    }
}

/// Where one case stands against its retention schedule on a given day.
public struct RetentionStatus: Sendable, Equatable {
    /// Why a case is, or is not, due for disposition. When several apply, the
    /// first in this order is given: a hold outranks everything else.
    public enum Reason: String, Sendable, Codable {
        /// Its retention period has run and nothing holds it.
        case due
        /// On legal hold: never disposed of until released.
        case held
        /// Still open: retention counts from closing.
        case open
        /// Its category is kept permanently.
        case permanent
        /// Closed, but its retention period has not run yet.
        case notYet = "not-yet"
        /// No template for its category in force, so no schedule applies.
        case noRule = "no-rule"
    }

    public var caseID: String
    public var category: String
    public var title: String
    public var status: CaseState.Status
    public var closedAt: String?
    /// The UTC day of closing.
    public var closedOn: CalendarDate?
    /// nil when the category has no template.
    public var rule: RetentionRule?
    /// The first day of disposition: closing day plus the rule's years.
    public var dueOn: CalendarDate?
    public var onHold: Bool
    public var holdReason: String?
    public var reason: Reason
    public var isDue: Bool { reason == .due }

    /// Evaluates a case against the rule on day `date`.
    public init(state: CaseState, rule: RetentionRule?, on date: CalendarDate) {
        caseID = state.id
        category = state.category
        title = state.title
        status = state.status
        closedAt = state.closedAt
        closedOn = state.closedAt.flatMap(CalendarDate.init(ledgerTime:))
        self.rule = rule
        onHold = state.onHold
        holdReason = state.holdReason
        if let years = rule?.yearsAfterClose, status == .closed, let closedOn {
            dueOn = closedOn.adding(years: years)
        } else {
            dueOn = nil
        }
        if state.onHold {
            reason = .held
        } else if state.status != .closed || closedOn == nil {
            reason = .open
        } else if rule == nil {
            reason = .noRule
        } else if rule?.isPermanent == true {
            reason = .permanent
        } else if let dueOn, date >= dueOn {
            reason = .due
        } else {
            reason = .notYet
        }
    }

    /// One sentence for people: the rule that makes the case due, or why it is not.
    public var explanation: String {
        // Set whenever the reason is `due` or `not-yet` (see the initialiser).
        let dueOn = dueOn.map(\.description) ?? "-"
        let closedOn = closedOn.map(\.description) ?? "-"
        let rule = rule?.summary ?? "no schedule"
        switch reason {
        case .due:
            return "Due since \(dueOn): \(rule) (closed \(closedOn), \(category) schedule)."
        case .held:
            return "On legal hold (\(holdReason ?? "no reason recorded")): kept until the hold is released."
        case .open:
            return "Still open: retention counts from closing."
        case .permanent:
            return "Kept permanently under the \(category) schedule."
        case .notYet:
            return "Kept until \(dueOn): \(rule) (closed \(closedOn), \(category) schedule)."
        case .noRule:
            return "No template for category \(category) is in force, so no retention schedule applies and it is kept."
        }
    }
}

/// What `exhibit retention` reports.
public struct RetentionReview: Sendable {
    /// The day the review is for (the day asked for, else today).
    public var asOf: CalendarDate
    /// Today by the real clock, to show when a review plans ahead.
    public var today: CalendarDate
    public var cases: [RetentionStatus]
    /// Cases whose ledger could not be read, with the sentence saying why; never due.
    public var unreadable: [(caseID: String, problem: String)]

    public var dueCount: Int { cases.filter(\.isDue).count }
}

extension ActingSession {
    /// The retention rule in force for a category: its current template's.
    ///
    /// The current template governs, not the one recorded when the case was
    /// opened: a records schedule that changes applies to the records it covers.
    public func retentionRule(category: String) -> RetentionRule? {
        (try? store.templates.template(category)).map { RetentionRule($0.retention) }
    }

    /// `exhibit hold CASE`, with a reason (custodian): suspends disposal of the case
    /// for as long as the matter needs it (litigation, an open records request,
    /// an offence without limitation). Allowed on open and closed cases.
    public func hold(_ caseID: String, reason: String) throws(ExhibitError) -> LedgerEntry {
        try authorize(.hold, caseID: caseID, command: "hold")
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw ExhibitError(.usage, "The reason for the hold is empty; say why the case is held.", input: .reason) }
        let state = try store.state(of: caseID)
        if state.onHold {
            try refuse(caseID, command: "hold", reason: "Case \(caseID) is already on legal hold (\(state.holdReason ?? "no reason recorded")); release it first if the hold should say something else.")
        }
        return try store.append(LedgerDraft(action: "hold", subject: .object(["reason": .string(reason)])), to: caseID, signer: try signer())
    }

    /// `exhibit release CASE`, with an optional reason (custodian): ends a legal hold; the
    /// retention schedule applies again from then on.
    public func release(_ caseID: String, reason: String?) throws(ExhibitError) -> LedgerEntry {
        try authorize(.release, caseID: caseID, command: "release")
        let state = try store.state(of: caseID)
        guard state.onHold else {
            try refuse(caseID, command: "release", reason: "Case \(caseID) is not on legal hold, so there is no hold to release.")
        }
        var subject: [String: JSONValue] = ["held_for": .string(state.holdReason ?? "")]
        if let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty {
            subject["reason"] = .string(reason)
        }
        return try store.append(LedgerDraft(action: "release", subject: .object(subject)), to: caseID, signer: try signer())
    }

    /// `exhibit retention`, as of a day (custodian or supervisor): every case
    /// against its schedule on `asOf` (default today). Planning only: it writes
    /// nothing into any case, and `asOf` never reaches the evidence. Like
    /// `case list`, it reads case states, not evidence, so it is not recorded per
    /// case, and it leaves out the cases ``ActingSession/mayList(_:)`` does.
    public func retentionReview(asOf: CalendarDate? = nil) throws(ExhibitError) -> RetentionReview {
        try authorize(.retention, caseID: nil, command: "retention")
        for notice in try Disposal.finishInterrupted(store: store) { notices(notice) }
        let today = CalendarDate.today()
        let day = asOf ?? today
        var review = RetentionReview(asOf: day, today: today, cases: [], unreadable: [])
        for id in store.caseIDs() {
            do throws(ExhibitError) {
                let state = try store.state(of: id)
                guard mayList(state) else { continue }
                review.cases.append(RetentionStatus(state: state, rule: retentionRule(category: state.category), on: day))
            } catch {
                review.unreadable.append((id, error.message))
            }
        }
        return review
    }

    /// Records a refusal of a case-state conflict (exit 4), like ``requireOpen(_:command:)``.
    func refuse(_ caseID: String, command: String, reason: String, extra: [String: JSONValue] = [:]) throws(ExhibitError) -> Never {
        var subject: [String: JSONValue] = ["command": .string(command), "reason": .string(reason)]
        subject.merge(extra) { first, _ in first }
        try store.append(LedgerDraft(action: "refusal", subject: .object(subject)), to: caseID, signer: try signer())
        throw ExhibitError(.notPermitted, reason)
    }
}
