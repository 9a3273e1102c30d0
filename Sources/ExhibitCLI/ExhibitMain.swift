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
            var command = try ExhibitCommand.parseAsRoot()
            try command.run()
            exit(0)
        } catch let error as ExhibitError {
            Console.error(error.message)
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
