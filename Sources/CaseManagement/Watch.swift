public import ChainOfCustody
import Foundation

/// A scheduled re-capture of one URL into a case (DESIGN §18), as its case's
/// ledger records it: a `watch` entry sets it up (URL, interval, end, and any
/// network override, sealed with it), each run appends a `change` entry, and a
/// `watch-removed` entry ends it. The schedule is folded from the ledger, so it
/// is part of custody and needs no other store.
public struct Watch: Sendable, Equatable, Encodable {
    /// `<CASE>-W<seq>` (`MP-2026-0001-W0007`): the seq of the `watch` entry.
    public var id: String
    public var caseID: String
    public var url: String
    public var everySeconds: Int
    /// Capture with the browser (DESIGN §17) rather than the plain engine.
    public var browser: Bool
    /// The time after which the watch no longer runs (ledger time format), if any.
    public var until: String?
    /// The network override sealed with the watch: every run applies and records it.
    public var allowNetworks: [String]
    public var overrideReason: String?
    public var addedAt: String
    public var addedBy: String
    public var seq: Int

    public var removedAt: String?
    public var runs = 0
    /// When the last run began; the next is due `everySeconds` later.
    public var lastRunStarted: String?
    /// `captured`, `unchanged`, `changed`, `removed` or `unreachable`.
    public var lastResult: String?
    /// The artifact the last run captured (`A-0012`), if it captured one.
    public var lastArtifact: String?
    /// Unreachable results in a row, up to the last run.
    public var consecutiveUnreachable = 0

    enum CodingKeys: String, CodingKey {
        case id, url, browser, until, seq, runs
        case caseID = "case"
        case everySeconds = "every_seconds"
        case allowNetworks = "allow_network"
        case overrideReason = "override_reason"
        case addedAt = "added_at"
        case addedBy = "added_by"
        case removedAt = "removed_at"
        case lastRunStarted = "last_run"
        case lastResult = "last_result"
        case lastArtifact = "last_artifact"
        case consecutiveUnreachable = "consecutive_unreachable"
    }

    /// The interval as written back (`6h`, `1d12h`).
    public var every: String { WatchInterval.text(seconds: everySeconds) }

    /// When the next run is due (ledger time), or nil when the watch was removed or
    /// has ended. A watch that never ran is due from when it was added.
    public var nextDue: String? {
        guard removedAt == nil else { return nil }
        guard let last = lastRunStarted.flatMap(LedgerTime.seconds(of:)) else { return addedAt }
        let next = last + everySeconds
        if let until, let end = LedgerTime.seconds(of: until), next > end { return nil }
        return LedgerTime.format(seconds: next, microseconds: 0)
    }

    /// Whether the watch has ended by `now` (seconds since 1970): removed, or past its end.
    public func hasEnded(at now: Int) -> Bool {
        if removedAt != nil { return true }
        if let until, let end = LedgerTime.seconds(of: until), now > end { return true }
        return false
    }

    /// Whether a run is due at `now` (seconds since 1970).
    public func isDue(at now: Int) -> Bool {
        guard !hasEnded(at: now) else { return false }
        guard let last = lastRunStarted.flatMap(LedgerTime.seconds(of:)) else { return true }
        return now >= last + everySeconds
    }
}

/// Reading watches out of a case's ledger.
public enum WatchLedger {
    public static let watchAction = "watch"
    public static let removedAction = "watch-removed"
    public static let changeAction = "change"

    /// The id of the watch that the entry `seq` of `caseID` set up: the seq in at least
    /// four digits. (Padded by hand: `String(format:)` looked up its arguments' protocol
    /// conformances at run time for each of a thousand watches read at a run's start.)
    public static func id(caseID: String, seq: Int) -> String {
        let digits = String(seq)
        return caseID + "-W" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The case and seq a watch id names; nil when it is not one.
    public static func parse(_ id: String) -> (caseID: String, seq: Int)? {
        guard let marker = id.range(of: "-W", options: .backwards) else { return nil }
        let caseID = String(id[..<marker.lowerBound])
        let digits = id[marker.upperBound...]
        guard CaseStore.isValidCaseID(caseID), !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let seq = Int(digits), seq > 0 else { return nil }
        return (caseID, seq)
    }

    /// The watches a case's ledger sets up, in the order they were added, with
    /// what their runs and removals recorded. Withheld entries (a redacted
    /// ledger) are passed over.
    public static func watches(in entries: [LedgerEntry]) -> [Watch] {
        var watches: [Watch] = []
        var position: [String: Int] = [:]
        for entry in entries {
            guard let subject = entry.subject else { continue }
            switch entry.action {
            case watchAction:
                guard let url = subject["url"]?.stringValue, let every = subject["every_seconds"]?.intValue else { continue }
                let id = id(caseID: entry.caseID, seq: Int(entry.seq))
                let override = subject["network_override"]
                position[id] = watches.count
                watches.append(Watch(
                    id: id, caseID: entry.caseID, url: url, everySeconds: Int(every),
                    browser: subject["browser"]?.boolValue ?? false, until: subject["until"]?.stringValue,
                    allowNetworks: override?["ranges"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    overrideReason: override?["reason"]?.stringValue,
                    addedAt: entry.time, addedBy: entry.actor, seq: Int(entry.seq)))
            case removedAction:
                if let id = subject["watch"]?.stringValue, let index = position[id] {
                    watches[index].removedAt = entry.time
                }
            case changeAction:
                guard let id = subject["watch"]?.stringValue, let index = position[id] else { continue }
                let result = subject["result"]?.stringValue
                watches[index].runs += 1
                watches[index].lastRunStarted = subject["run_started"]?.stringValue ?? entry.time
                watches[index].lastResult = result
                watches[index].lastArtifact = subject["capture"]?["artifact"]?.stringValue
                watches[index].consecutiveUnreachable = result == "unreachable" ? watches[index].consecutiveUnreachable + 1 : 0
            default:
                break
            }
        }
        return watches
    }
}

/// A watch's interval: `90s`, `15m`, `6h`, `1d`, `2w`, or a sum (`1h30m`).
public enum WatchInterval {
    /// The shortest interval: a watch is re-capture for evidence, not monitoring.
    public static let minimumSeconds = 60

    static let units: [(Character, Int)] = [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

    /// Seconds in `text`, or nil when it is not an interval.
    public static func seconds(parsing text: String) -> Int? {
        var total = 0
        var number = ""
        var sawUnit = false
        for character in text.lowercased() {
            if character.isASCII, character.isNumber {
                number.append(character)
            } else if let unit = units.first(where: { $0.0 == character }), let value = Int(number), number.count <= 7 {
                total += value * unit.1
                number = ""
                sawUnit = true
            } else {
                return nil
            }
        }
        guard number.isEmpty, sawUnit, total > 0 else { return nil }
        return total
    }

    /// `seconds` written with the largest units (`1d12h`).
    public static func text(seconds: Int) -> String {
        var rest = seconds
        var text = ""
        for (unit, size) in units where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text.isEmpty ? "0s" : text
    }
}
