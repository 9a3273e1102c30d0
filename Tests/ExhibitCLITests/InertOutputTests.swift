import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// End to end through the real binary (issue 16, finding 6; DESIGN §16 "Terminal
/// output is inert"): text from a user or a bundle that holds escape sequences,
/// CR, LF or bidi overrides reaches the terminal spelled out as `\u{…}`, so it can
/// neither move the cursor, erase verify's summary nor forge a line; `--json`
/// still carries the exact string.
@Suite("terminal output is inert")
struct InertOutputTests {
    let exhibit = ExhibitProcess()

    /// Erase the line, then start a new one that reads as the tool's own.
    static let hostile = "\u{1B}[2K\r\nX"
    static let hostileShown = #"\u{1B}[2K\u{D}\u{A}X"#

    /// The scalars a terminal would act on: C0 except the LF that ends each line,
    /// DEL, C1, and the bidi overrides (written out here, not borrowed from the CLI).
    static func rawControls(_ text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            switch scalar.value {
            case 0x0A: false
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
            default: false
            }
        }.map { "U+" + String($0.value, radix: 16, uppercase: true) }
    }

    /// The lines a terminal shows: split at every LF scalar (Swift's own split keeps
    /// CR LF together as one Character, which would hide a forged line).
    static func lines(_ text: String) -> [String] {
        text.unicodeScalars.split(separator: "\n").map { String(String.UnicodeScalarView($0)) }
    }

    @discardableResult
    func ok(_ arguments: [String]) throws -> ExhibitProcess.Result {
        let result = try exhibit.run(arguments)
        try #require(result.status == 0, "exhibit \(arguments.first ?? "") → \(result.status): \(result.stderr)")
        return result
    }

    @Test("a case title, field, hold reason and note with ESC, CR and LF print escaped in case list and case show; --json keeps them exactly")
    func caseText() throws {
        let ws = try TestWorkspace("inert-case")
        let investigator = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let title = "T" + Self.hostile
        let reference = "R" + Self.hostile
        let reason = "H" + Self.hostile
        let caseID = try ok(["case", "open", "--category", "online-crime", "--title", title,
                             "--field", "subtype=other", "--field", "complainant_reference=" + reference] + investigator)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try ok(["case", "note", caseID, "N" + Self.hostile] + investigator)
        try ok(["hold", caseID, "--reason", reason, "--workspace", ws.root, "--actor", ws.supervisorID])

        let list = try ok(["case", "list"] + investigator)
        #expect(Self.rawControls(list.stdout).isEmpty, "\(list.stdout.debugDescription)")
        #expect(Self.lines(list.stdout) == ["\(caseID)  online-crime  open  HOLD  T\(Self.hostileShown)"], "\(list.stdout.debugDescription)")

        let show = try ok(["case", "show", caseID] + investigator)
        #expect(Self.rawControls(show.stdout).isEmpty, "\(show.stdout.debugDescription)")
        let lines = Self.lines(show.stdout)
        #expect(lines.first == "\(caseID) — T\(Self.hostileShown)")
        #expect(lines.contains("status:    open (on legal hold: H\(Self.hostileShown))"), "\(lines)")
        #expect(lines.contains("field:     complainant_reference = R\(Self.hostileShown)"), "\(lines)")
        // The LF inside a value did not start a line of its own.
        #expect(!lines.contains { $0.hasPrefix("X") }, "\(lines)")

        // --json is exact JSON: the strings come back byte for byte.
        let listed = try JSONValue(parsing: try ok(["case", "list", "--json"] + investigator).stdout)
        #expect(listed.arrayValue?.first?["title"]?.stringValue == title)
        let shown = try JSONValue(parsing: try ok(["case", "show", caseID, "--json"] + investigator).stdout)
        #expect(shown["title"]?.stringValue == title)
        #expect(shown["fields"]?["complainant_reference"]?.stringValue == reference)
        #expect(shown["hold_reason"]?.stringValue == reason)
        // The note is evidence: recorded as given, never altered by the escaping.
        let note = try #require(try ws.entries(caseID).first { $0.action == "note" })
        #expect(note.subject?["text"]?.stringValue == "N" + Self.hostile)
    }

    @Test("a bag zip entry named with ESC[1A ESC[2K or a bidi override: verify's UNEXPECTED lines are escaped, the NOT INTACT summary stands; --json keeps the names")
    func bagEntryNames() throws {
        let ws = try TestWorkspace("inert-bag")
        let caseID = try ws.openCase()
        let zip = ws.directory.child("bag.zip")
        try ok(["export", caseID, "--out", zip, "--zip", "--workspace", ws.root, "--actor", ws.investigatorID])
        // The attack: move up over the summary verify prints last and erase it; and a
        // name that reads backwards. Both hold a non-ASCII character, so Python flags
        // them UTF-8 (general purpose bit 11) and the reader decodes them as written
        // (an all-ASCII name is read as CP437, which shows ESC as a harmless arrow).
        let erase = "\u{1B}[1A\u{1B}[2K…planted.txt"
        let reversed = "invoice\u{202E}txt.exe"
        let script = """
            import sys, zipfile
            path = sys.argv[1]
            with zipfile.ZipFile(path) as z:
                top = z.namelist()[0].split("/")[0]
            with zipfile.ZipFile(path, "a") as z:
                z.writestr(top + "/data/\\x1b[1A\\x1b[2K\\u2026planted.txt", "planted")
                z.writestr(top + "/data/invoice\\u202etxt.exe", "planted")
            """
        let scriptPath = ws.directory.child("plant.py")
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        let planted = try Command.run("/usr/bin/python3", [scriptPath, zip])
        try #require(planted.status == 0, "\(planted.output)")

        let verify = try exhibit.run(["verify", zip])
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        #expect(Self.rawControls(verify.stdout).isEmpty, "\(verify.stdout.debugDescription)")
        let lines = Self.lines(verify.stdout)
        #expect(lines.contains { $0.hasPrefix(#"UNEXPECTED data/\u{1B}[1A\u{1B}[2K…planted.txt — "#) }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(#"UNEXPECTED data/invoice\u{202E}txt.exe — "#) }, "\(lines)")
        #expect(lines.last?.hasPrefix("\(caseID): NOT INTACT — ") == true, "\(lines)")

        let json = try exhibit.run(["verify", zip, "--json"])
        #expect(json.status == 1)
        let report = try JSONValue(parsing: json.stdout)
        let findings = try #require(report["findings"]?.arrayValue)
        let paths = findings.compactMap { $0["path"]?.stringValue }
        #expect(paths.contains("data/" + erase), "\(paths)")
        #expect(paths.contains("data/" + reversed), "\(paths)")
        // One human line per finding plus the summary: no name broke a line or hid one.
        #expect(lines.count == findings.count + 1, "\(lines)")
    }

    @Test("stderr is inert too: a refused zip entry name and an unknown option echo ESC spelled out")
    func errors() throws {
        let directory = TemporaryDirectory("inert-errors")
        let zip = directory.child("hostile.zip")
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                z.writestr("OC-2026-0001/bagit.txt", "BagIt-Version: 1.0\\n")
                # Not all ASCII, so flagged UTF-8 and read as written (not as CP437).
                z.writestr("OC-2026-0001/data/\\x1b[2K\\r\\u2026\\\\evil.txt", "x")
            """
        let scriptPath = directory.child("make.py")
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        let made = try Command.run("/usr/bin/python3", [scriptPath, zip])
        try #require(made.status == 0, "\(made.output)")
        let refused = try exhibit.run(["verify", zip])
        #expect(refused.status == 5, "\(refused.stdout)\(refused.stderr)")
        #expect(Self.rawControls(refused.stderr).isEmpty, "\(refused.stderr.debugDescription)")
        #expect(refused.stderr.contains(#"data/\u{1B}[2K\u{D}…\evil.txt"#), "\(refused.stderr.debugDescription)")
        #expect(refused.stderr.split(separator: "\n").count == 1)

        let usage = try exhibit.run(["case", "list", "--bogus\u{1B}]0;pwned\u{7}"])
        #expect(usage.status == 2, "\(usage.stderr)")
        #expect(Self.rawControls(usage.stderr).isEmpty, "\(usage.stderr.debugDescription)")
        #expect(usage.stderr.contains(#"--bogus\u{1B}]0;pwned\u{7}"#), "\(usage.stderr.debugDescription)")
    }
}
