import ArgumentParser
import CaseManagement
import ChainOfCustody
import Foundation

struct CaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case", abstract: "Open, list, show, annotate and close cases.",
        subcommands: [Open.self, List.self, Show.self, Note.self, Close.self])

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open a case of a category (investigator).")
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
            if options.json { try Console.json(CreatedID(id: state.id)) } else { Console.line(state.id) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the workspace's cases.")
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
        static let configuration = CommandConfiguration(abstract: "Show a case: fields, status, custody (recorded as a view); for a disposed-of case, its disposal certificate.")
        @OptionGroup var options: WorkspaceOptions
        @Argument(help: "The case id.") var caseID: String

        func run() throws {
            let session = try options.session()
            if let certificate = try session.disposalCertificate(caseID) {
                try DisposalCertificateOutput.show(certificate, json: options.json)
                return
            }
            let state = try session.show(caseID)
            if options.json { try Console.json(state); return }
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
            Console.line("ledger:    \(state.entryCount) entries, head \(state.ledgerHead)")
        }
    }

    struct Note: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note to a case's ledger (investigator).")
        @OptionGroup var options: WorkspaceOptions
        @Argument(help: "The case id.") var caseID: String
        @Argument(help: "The note's text.") var text: String

        func run() throws {
            let entry = try options.session().note(caseID, text: text)
            if options.json { try Console.json(["seq": entry.seq]) } else { print(entry.seq) }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a case (supervisor); retention starts counting.")
        @OptionGroup var options: WorkspaceOptions
        @Argument(help: "The case id.") var caseID: String
        @Option(name: .long, help: "Why the case is closed.") var reason: String?

        func run() throws {
            let entry = try options.session().close(caseID, reason: reason)
            if options.json { try Console.json(["seq": entry.seq]) } else { print(entry.seq) }
        }
    }
}
