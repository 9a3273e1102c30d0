import ArgumentParser
import CaseBundle
import CaseManagement
import ChainOfCustody
import Foundation

struct CaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case", abstract: "Open, list, show, annotate and close cases.",
        subcommands: [Open.self, List.self, Show.self, Note.self, Close.self])

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "open", abstract: "Open a case of a category (investigator).")
        @OptionGroup var options: WorkspaceOptions
        @Option(name: .long, help: "The category: missing-person, wanted-person, gang-participation, online-crime, crime-imagery, background-investigation, policy-violation.")
        var category: String
        @Option(name: .long, help: "A short title.") var title: String
        @Option(name: .long, help: "A template field as name=value (repeatable).") var field: [String] = []

        func run() throws {
            var fields: [String: String] = [:]
            for pair in field {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ValidationError("--field takes name=value, not \"\(pair)\".")
                }
                fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            let state = try options.session().openCase(category: category, title: title, fields: fields)
            try options.printCreated(state.id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the workspace's cases.")
        @OptionGroup var options: WorkspaceOptions

        func run() throws {
            let states = try options.session().listCases()
            if options.json { try Console.json(states); return }
            for state in states {
                let hold = state.onHold ? "  HOLD" : ""
                Console.line("\(state.id)  \(state.category)  \(state.status.rawValue)\(hold)  \(state.title)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a case: fields, status, custody, notes, artifact count and timeline (recorded as a view); for a disposed-of case, its disposal certificate.")
        @OptionGroup var options: CaseOptions

        func run() throws {
            let session = try options.session()
            if let certificate = try session.disposalCertificate(options.caseID) {
                try DisposalCertificateOutput.show(certificate, json: options.json)
                return
            }
            _ = try session.show(options.caseID)
            // State, notes, artifacts and timeline all come from one read of the
            // ledger (after this command's `view` entry), so they agree.
            let entries = try session.store.ledger(of: options.caseID).entries()
            let shown = CaseShowOutput(state: try CaseState.fold(entries), entries: entries)
            if options.json { try Console.json(shown); return }
            let state = shown.state
            Console.line("\(state.id) — \(state.title)")
            Console.line("category:  \(state.category)")
            Console.line("status:    \(state.status.rawValue)\(state.onHold ? " (on legal hold: \(state.holdReason ?? ""))" : "")")
            Console.line("opened:    \(state.openedAt) by \(state.openedBy)")
            if let closed = state.closedAt { Console.line("closed:    \(closed)") }
            for (name, value) in state.fields.sorted(by: { $0.key < $1.key }) {
                Console.line("field:     \(name) = \(value)")
            }
            Console.line("custody:")
            for period in state.custody {
                Console.line("  \(period.actor) from \(period.from)\(period.until.map { " until \($0)" } ?? " (current)")")
            }
            Console.line(shown.notes.isEmpty ? "notes:     none" : "notes:")
            for note in shown.notes {
                Console.line("  seq \(note.seq)  \(note.time)  \(note.actor)  \(note.text)")
            }
            Console.line("artifacts: \(shown.artifacts)\(shown.artifacts > 0 ? " (`exhibit artifacts \(state.id)` lists them)" : "")")
            Console.line("timeline:")
            for line in CaseShowOutput.timelineLines(shown.timeline) { Console.line("  " + line) }
            Console.line("ledger:    \(state.entryCount) entries, head \(state.ledgerHead)")
        }
    }

    struct Note: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "note", abstract: "Add a note to a case's ledger (investigator).")
        @OptionGroup var options: CaseOptions
        @Argument(help: "The note's text.") var text: String

        func run() throws {
            try options.record { try $0.note($1, text: text) }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "close", abstract: "Close a case (supervisor); retention starts counting.")
        @OptionGroup var options: CaseOptions
        @Option(name: .long, help: "Why the case is closed.") var reason: String?

        func run() throws {
            try options.record { try $0.close($1, reason: reason) }
        }
    }
}

/// What `case show` prints: the case state (the object of case.json) with the
/// case's notes, its number of artifacts and its custody timeline, one item per
/// ledger entry (docs/cli-json.md).
struct CaseShowOutput: Encodable {
    struct Note: Encodable {
        var seq: Int64
        var time: String
        var actor: String
        var text: String
    }

    struct Event: Encodable {
        var seq: Int64
        var time: String
        var actor: String
        var action: String
        /// The same one-line summary as the timeline of a bundle's report.
        var summary: String
    }

    var state: CaseState
    var notes: [Note]
    /// `capture` entries with a response: what `exhibit artifacts` lists.
    var artifacts: Int
    var timeline: [Event]

    init(state: CaseState, entries: [LedgerEntry]) {
        self.state = state
        notes = entries.compactMap { entry in
            guard entry.action == "note", let text = entry.subject?["text"]?.stringValue else { return nil }
            return Note(seq: entry.seq, time: entry.time, actor: entry.actor, text: text)
        }
        artifacts = ArtifactID.artifacts(in: entries).count
        timeline = entries.map {
            Event(seq: $0.seq, time: $0.time, actor: $0.actor, action: $0.action, summary: BundleFacts.timelineSummary($0))
        }
    }

    enum Keys: String, CodingKey { case notes, artifacts, timeline }

    /// The state's members and these three, in one object.
    func encode(to encoder: any Encoder) throws {
        try state.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(notes, forKey: .notes)
        try container.encode(artifacts, forKey: .artifacts)
        try container.encode(timeline, forKey: .timeline)
    }

    /// The text timeline: one line per entry, except that a run of entries with
    /// the same action by the same actor (a crawl's captures, repeated views) is
    /// one line with its count, so a big case still fits on a screen.
    static func timelineLines(_ events: [Event]) -> [String] {
        var lines: [String] = []
        var index = 0
        while index < events.count {
            let first = events[index]
            var end = index + 1
            while end < events.count, events[end].action == first.action, events[end].actor == first.actor { end += 1 }
            if end - index == 1 {
                lines.append("seq \(first.seq)  \(first.time)  \(first.actor)  \(first.summary)")
            } else {
                let last = events[end - 1]
                lines.append("seq \(first.seq)–\(last.seq)  \(first.time)  \(first.actor)  \(first.action) ×\(end - index), the last at \(last.time)")
            }
            index = end
        }
        return lines
    }
}
