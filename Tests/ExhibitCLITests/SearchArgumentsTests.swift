import ArgumentParser
@testable import ExhibitCLI
import Testing

/// `exhibit search`'s plain-argument fast path (`DirectCommand.plainSearch`, issue 25) takes
/// exactly what argument-parser takes for the shapes it accepts, and leaves every other shape
/// (and `--remote`) to argument-parser, so what is accepted and every message stay the same.
@Suite("search arguments without argument-parser")
struct SearchArgumentsTests {
    private struct Parsed: Equatable {
        var text: String, workspace: String?, actor: String?, json: Bool, caseID: String?, remote: String?
        init(_ command: SearchCommand) {
            text = command.text
            workspace = command.options.workspace
            actor = command.options.actor
            json = command.options.json
            caseID = command.caseID
            remote = command.remote
        }
        init(_ search: PlainSearch) {
            text = search.text
            workspace = search.workspace
            actor = search.actor
            json = search.json
            caseID = search.caseID
            remote = nil
        }
    }

    @Test("plain shapes give the same command argument-parser gives")
    func sameAsArgumentParser() throws {
        let shapes: [[String]] = [
            ["bicycle"],
            ["stolen bicycles", "--workspace", "/tmp/w x", "--actor", "a-0002"],
            ["--workspace=/tmp/w", "--actor=a-0002", "--json", "word"],
            ["word", "--case", "OC-2026-0001", "--json", "--actor", "a-0001"],
            ["--case=C=1", "quote \"me\" -x", "--workspace", "ws"],
            ["ünïcode wörds", "--actor", "a-0003"],
        ]
        for shape in shapes {
            let plain = try #require(DirectCommand.plainSearch(["search"] + shape), "\(shape)")
            let parsed = try SearchCommand.parse(shape)
            #expect(Parsed(plain) == Parsed(parsed), "\(shape)")
        }
    }

    @Test("any other shape is left to argument-parser, which accepts or refuses it as before")
    func otherShapesFallBack() {
        let shapes: [[String]] = [
            [],
            ["--json"],
            ["a", "b"],
            ["a", "--json", "--json"],
            ["a", "--actor", "x", "--actor", "y"],
            ["a", "--actor"],
            ["a", "--actor", "--json"],
            ["a", "--actor="],
            ["a", "--actor", ""],
            [""],
            ["-x"],
            ["--", "-word"],
            ["a", "--unknown", "v"],
            ["a", "--json=true"],
            ["a", "--case", "-C"],
            ["a", "-h"],
            ["a", "--help"],
            ["help"],
            ["--remote", "hq", "station1", "--json"],
        ]
        for shape in shapes {
            #expect(DirectCommand.plainSearch(["search"] + shape) == nil, "\(shape)")
        }
        #expect(DirectCommand.plainSearch(["artifacts", "a"]) == nil)
        // The help words never take the fast path (DirectCommand.parse returns nil for them).
        #expect(DirectCommand.parse(["search", "help"]) == nil)
        #expect(DirectCommand.parse(["search", "a", "--help"]) == nil)
    }
}
