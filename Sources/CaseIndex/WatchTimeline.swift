import CaseManagement
public import ChainOfCustody
public import PageAnalysis

/// A captured page read back from its WARC record: the analysis the index makes
/// of it (DESIGN §7), for watches' comparisons, `exhibit diff` and timelines.
public enum CapturedPage {
    /// The analysis of the HTML response a `capture` subject records, from the WARC
    /// file under `caseDirectory` (a case directory, or a bag's data/); nil for
    /// anything that is not an HTML page or cannot be read.
    public static func analysis(of subject: JSONValue, caseDirectory: String) -> AnalyzedPage? {
        WorkspaceIndex.analyse(subject, caseDirectory: caseDirectory)
    }

    /// The page's URL, title and visible text exactly as `analysis(of:caseDirectory:)`
    /// finds them, without the rest of the analysis (a watch's removal check reads no more);
    /// with `textLimit`, only up to that many scalars of text (`AnalyzedPage.titleAndText`).
    public static func titleAndText(of subject: JSONValue, caseDirectory: String, textLimit: Int? = nil) -> (url: String, title: String?, text: String)? {
        guard let source = WorkspaceIndex.source(subject, caseDirectory: caseDirectory) else { return nil }
        let (title, text) = AnalyzedPage.titleAndText(html: source.html, contentType: source.contentType, textLimit: textLimit)
        return (source.url, title, text)
    }
}

/// Per watched URL, what each run of its watches found (DESIGN §18): the
/// report and the case browser show it as a timeline of captured / unchanged /
/// changed (with the diff) / removed / unreachable.
public struct WatchTimeline: Sendable, Equatable {
    public struct Event: Sendable, Equatable {
        /// When the run's change entry was written.
        public var time: String
        public var watch: String
        /// `captured`, `unchanged`, `changed`, `removed` or `unreachable`.
        public var result: String
        /// The artifact the run captured and the one it was compared with.
        public var artifact: String?
        public var previous: String?
        /// One line saying what was found ("2 lines added, 1 removed; phone +1… added").
        public var summary: String
        /// For `changed`: the unified diff of the two captures' visible text.
        public var diff: String?
    }

    public var url: String
    public var events: [Event]

    /// The timelines of every watched URL of a ledger, in the order their first
    /// run was recorded. `caseDirectory` is where the WARC files are (a case
    /// directory or a bag's data/); nil leaves the diffs out. Withheld entries
    /// are passed over.
    public static func timelines(_ entries: [LedgerEntry], caseDirectory: String?) -> [WatchTimeline] {
        var captures: [Int64: JSONValue] = [:]
        var timelines: [WatchTimeline] = []
        var position: [String: Int] = [:]
        for entry in entries {
            guard let subject = entry.subject else { continue }
            if entry.action == "capture" { captures[entry.seq] = subject }
            guard entry.action == WatchLedger.changeAction, let url = subject["url"]?.stringValue,
                  let result = subject["result"]?.stringValue else { continue }
            var event = Event(
                time: entry.time, watch: subject["watch"]?.stringValue ?? "", result: result,
                artifact: subject["capture"]?["artifact"]?.stringValue, previous: subject["previous"]?["artifact"]?.stringValue,
                summary: summary(subject), diff: nil)
            if result == "changed", let caseDirectory,
               let now = subject["capture"]?["seq"]?.intValue.flatMap({ captures[$0] }),
               let before = subject["previous"]?["seq"]?.intValue.flatMap({ captures[$0] }),
               let new = CapturedPage.analysis(of: now, caseDirectory: caseDirectory),
               let old = CapturedPage.analysis(of: before, caseDirectory: caseDirectory) {
                let diff = TextDiff.unified(TextDiff.lines(of: old.text), TextDiff.lines(of: new.text),
                                            from: event.previous ?? "before", to: event.artifact ?? "after")
                event.diff = diff.isEmpty ? nil : diff
            }
            if let index = position[url] {
                timelines[index].events.append(event)
            } else {
                position[url] = timelines.count
                timelines.append(WatchTimeline(url: url, events: [event]))
            }
        }
        return timelines
    }

    /// What a change entry found, in one line.
    public static func summary(_ subject: JSONValue) -> String {
        let result = subject["result"]?.stringValue ?? ""
        switch result {
        case "captured":
            return "first capture of the watched URL"
        case "unchanged":
            return subject["basis"]?.stringValue == "payload-digest"
                ? "same payload (sha256) as the previous capture"
                : "same visible text, title, selectors and media as the previous capture (the payload differs)"
        case "changed":
            var parts: [String] = []
            let added = subject["text"]?["lines_added"]?.intValue ?? 0
            let removed = subject["text"]?["lines_removed"]?.intValue ?? 0
            if added > 0 || removed > 0 { parts.append("\(added) line\(added == 1 ? "" : "s") of text added, \(removed) removed") }
            for (key, noun) in [("selectors", "selector"), ("media", "media")] {
                for (change, word) in [("added", "added"), ("removed", "removed")] {
                    let values = subject[key]?[change]?.arrayValue?.compactMap(\.stringValue) ?? []
                    if !values.isEmpty { parts.append("\(noun) \(word): \(values.joined(separator: ", "))") }
                }
            }
            if let title = subject["title"], title["before"] != nil || title["after"] != nil {
                parts.append("title “\(title["before"]?.stringValue ?? "")” → “\(title["after"]?.stringValue ?? "")”")
            }
            return parts.isEmpty ? "changed" : parts.joined(separator: "; ")
        case "removed":
            let removal = subject["removal"]
            switch removal?["reason"]?.stringValue {
            case "http-status": return "removed: HTTP \(removal?["status"]?.intValue ?? 0)"
            case "login-redirect": return "removed: redirected to a login page (\(removal?["final_url"]?.stringValue ?? ""))"
            case "removal-text": return "removed: the page shows “\(removal?["text"]?.stringValue ?? "")” (\(removal?["platform"]?.stringValue ?? ""))"
            default: return "removed"
            }
        case "unreachable":
            let count = subject["unreachable"]?["consecutive"]?.intValue ?? 1
            let reason = subject["unreachable"]?["reason"]?.stringValue ?? ""
            return "unreachable (\(count) in a row): \(reason)"
        default:
            return result
        }
    }
}
