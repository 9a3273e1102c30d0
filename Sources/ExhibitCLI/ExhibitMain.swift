import ArgumentParser
import ChainOfCustody
import Foundation

/// Entry point: runs the command and maps every failure to DESIGN §12's exit
/// codes with one sentence on stderr — never a stack trace.
@main
enum ExhibitMain {
    static func main() {
        // A closed pipe (e.g. `exhibit … | head`) must not kill us mid-write.
        signal(SIGPIPE, SIG_IGN)
        // A full disk or a file-size limit must fail the write (EFBIG) so the command
        // can stop cleanly under the commit protocol, not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        do {
            let arguments = Array(CommandLine.arguments.dropFirst())
            if let search = DirectCommand.plainSearch(arguments) {
                try search.run()
            } else {
                var command = try DirectCommand.parse(arguments) ?? ExhibitCommand.parseAsRoot()
                try command.run()
            }
            exit(0)
        } catch let error as ExhibitError {
            Console.error(FlagSentences.sentence(for: error))
            exit(error.code.exitStatus)
        } catch {
            let code = ExhibitCommand.exitCode(for: error)
            if code == .success {
                // --help and --version are not errors.
                print(ExhibitCommand.fullMessage(for: error))
                exit(0)
            }
            if error is ExitCode {
                exit(code.rawValue)
            }
            if let sentence = CommandSuggestion.sentence(for: Array(CommandLine.arguments.dropFirst())) {
                Console.error(sentence)
                exit(2)
            }
            // Argument-parser reports usage errors with 64; DESIGN §12 says 2.
            let message = ExhibitCommand.message(for: error)
                .trimmingCharacters(in: .whitespacesAndNewlines)
                .replacingOccurrences(of: "\n", with: " ")
            let sentence = message.hasSuffix(".") ? String(message.dropLast()) : message
            Console.error("\(sentence) (see `exhibit help`).")
            exit(2)
        }
    }
}

/// Reading commands that are run over and over (`search`, from scripts and the case
/// browser's users) are parsed by their own command type alone: building and
/// checking argument-parser's whole tree of 40-odd commands was most of the time
/// `exhibit search` took before its query. Anything that does not parse that way —
/// help, a usage error — goes through the whole tree, so messages stay the same.
enum DirectCommand {
    static func parse(_ arguments: [String]) -> (any ParsableCommand)? {
        guard isSearch(arguments) else { return nil }
        return try? SearchCommand.parse(Array(arguments.dropFirst()))
    }

    private static func isSearch(_ arguments: [String]) -> Bool {
        arguments.first == "search" && !arguments.contains(where: { $0 == "-h" || $0 == "--help" || $0 == "help" })
    }

    /// `exhibit search` over the workspace with the plain arguments scripts give — the
    /// words, and each of `--workspace`, `--actor`, `--case` at most once (`--name value`
    /// or `--name=value`), `--json` at most once — read without argument-parser: even
    /// parsing one command, or making one (its property wrappers), costs its reflection
    /// and the runtime's protocol-conformance lookups, more than the query. Any other
    /// shape (`--remote`, an unknown or repeated option, a value that starts with `-`, an
    /// empty one, `--`) returns nil and is parsed as before, so what is accepted and every
    /// message stay argument-parser's.
    static func plainSearch(_ arguments: [String]) -> PlainSearch? {
        guard isSearch(arguments) else { return nil }
        var search = PlainSearch()
        var text: String?
        var json = false
        var workspace: String?, actor: String?, caseID: String?
        var index = 1
        while index < arguments.endIndex {
            let word = arguments[index]
            index += 1
            if word == "--json" {
                guard !json else { return nil }
                json = true
                continue
            }
            guard word.hasPrefix("--") else {
                guard text == nil, !word.isEmpty, !word.hasPrefix("-") else { return nil }
                text = word
                continue
            }
            var name = word.dropFirst(2)
            let value: String
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = name[..<equals]
            } else {
                guard index < arguments.endIndex else { return nil }
                value = arguments[index]
                index += 1
            }
            guard !value.isEmpty, !value.hasPrefix("-") else { return nil }
            switch name {
            case "workspace" where workspace == nil: workspace = value
            case "actor" where actor == nil: actor = value
            case "case" where caseID == nil: caseID = value
            default: return nil
            }
        }
        guard let text else { return nil }
        search.text = text
        search.json = json
        search.workspace = workspace
        search.actor = actor
        search.caseID = caseID
        return search
    }
}

/// A plain `exhibit search` (``DirectCommand/plainSearch(_:)``): what `SearchCommand`
/// does over the workspace, without argument-parser's types.
struct PlainSearch {
    var text = ""
    var json = false
    var workspace: String?, actor: String?, caseID: String?

    func run() throws {
        let session = try WorkspaceOptions.readingSession(workspace: workspace, actor: actor)
        try SearchCommand.search(text, caseID: caseID, session: session, json: json)
    }
}

/// "Did you mean …?" for a mistyped subcommand (`exhibit captur`, `exhibit case opn`),
/// which argument-parser reports only as an unexpected argument.
enum CommandSuggestion {
    /// The sentence for a usage error, when the arguments name a subcommand that
    /// does not exist at a level that has subcommands and one is close to it;
    /// nil otherwise (the parser's own message then stands).
    static func sentence(for arguments: [String]) -> String? {
        var subcommands = ExhibitCommand.configuration.subcommands
        var path = ["exhibit"]
        // The command groups take no options, so the first word that is not an
        // option is the subcommand at each level.
        for word in arguments where !word.hasPrefix("-") {
            guard !subcommands.isEmpty, word != "help" else { return nil }
            if let next = subcommands.first(where: { Self.names(of: $0).contains(word) }) {
                subcommands = Self.children(of: next)
                path.append(word)
                continue
            }
            let close = closest(to: word, among: subcommands.compactMap { Self.names(of: $0).first })
            guard !close.isEmpty else { return nil }
            let choices = close.map { "`\((path + [$0]).joined(separator: " "))`" }.joined(separator: " or ")
            return "There is no command `\((path + [word]).joined(separator: " "))`; did you mean \(choices)?"
        }
        return nil
    }

    /// A command's name and aliases. Generic on purpose: Swift 6.3.1's SILGen
    /// crashed (signal 11) reading these static members through
    /// `any ParsableCommand.Type` directly.
    static func names<Command: ParsableCommand>(of command: Command.Type) -> [String] {
        [Command._commandName] + Command.configuration.aliases
    }

    static func children<Command: ParsableCommand>(of command: Command.Type) -> [any ParsableCommand.Type] {
        Command.configuration.subcommands
    }

    /// The names nearest to `word`: a unique name it begins, else those within
    /// one edit (two for words of five letters or more), transpositions counted as one.
    static func closest(to word: String, among names: [String]) -> [String] {
        let lower = word.lowercased()
        let prefixed = names.filter { lower.count >= 2 && $0.hasPrefix(lower) }
        if prefixed.count == 1 { return prefixed }
        let limit = lower.count >= 5 ? 2 : 1
        let scored = names.map { (name: $0, distance: distance(lower, $0)) }.filter { $0.distance <= limit }
        guard let best = scored.map(\.distance).min() else { return [] }
        return scored.filter { $0.distance == best }.map(\.name)
    }

    /// Optimal string alignment distance (Levenshtein with adjacent transpositions).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}

/// Output helpers: the CLI's only job besides parsing.
///
/// Human output is inert (DESIGN §16): `line` and `error` escape control and bidi
/// characters (`InertText`) in everything they are given. Each call is one line
/// whose layout is written in this module's source and holds no control
/// character, so escaping the whole line touches only the text that came from
/// evidence, a bundle or a user; the newline that ends it is added after.
enum Console {
    /// Prints one line of human (non `--json`) output to stdout, inert.
    static func line(_ text: String) {
        print(InertText.escape(text))
    }

    /// Prints one sentence to stderr, prefixed `exhibit: `, inert: error messages
    /// echo file names, ids and option values as the user or the evidence gave them.
    static func error(_ message: String) {
        var text = message.hasPrefix("exhibit: ") ? message : "exhibit: " + message
        text = InertText.escape(text) + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Whether stdout is a terminal (progress is shown only then).
    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
}
