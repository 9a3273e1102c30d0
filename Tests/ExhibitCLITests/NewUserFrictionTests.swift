import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 18 items 8 and 9, through the real binary as a new investigator met them:
/// a mistyped subcommand, a `case open` that named one missing field per try, a
/// `case show` without notes, artifacts or timeline, and a chunked page whose
/// response record had a null `payload_sha256` in the ledger.
@Suite("new-user friction (issue 18 items 8 and 9)")
struct NewUserFrictionTests {
    let exhibit = ExhibitProcess()

    @Test("a mistyped subcommand gets “did you mean”: one sentence on stderr, exit 2, nothing written")
    func didYouMean() throws {
        let ws = try TestWorkspace()
        let before = try AtomicFile.read(ws.workspace.root + "/workspace.json")
        for (arguments, suggestion) in [
            (["captur", "OC-2026-0001", "http://127.0.0.1/"], "did you mean `exhibit capture`?"),
            (["case", "opn", "--category", "online-crime"], "did you mean `exhibit case open`?"),
            (["case", "shwo", "OC-2026-0001"], "did you mean `exhibit case show`?"),
            (["verfy", "OC-2026-0001"], "did you mean `exhibit verify`?"),
        ] {
            let result = try exhibit.run(arguments + ["--workspace", ws.root, "--actor", ws.investigatorID])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("exhibit: "), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(suggestion), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("`exhibit \(arguments[0] == "case" ? "case " + arguments[1] : arguments[0])`"), "names what was typed: \(result.stderr)")
        }
        // Nothing close: the parser's own sentence, still exit 2.
        let far = try exhibit.run(["xyzzy"])
        #expect(far.status == 2)
        #expect(!far.stderr.contains("did you mean"), "\(far.stderr)")
        // A right subcommand with a wrong option is not a typo of a command.
        let option = try exhibit.run(["case", "open", "--titel", "T", "--workspace", ws.root])
        #expect(option.status == 2)
        #expect(!option.stderr.contains("did you mean `exhibit"), "\(option.stderr)")
        #expect(try AtomicFile.read(ws.workspace.root + "/workspace.json") == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.workspace.casesDirectory).isEmpty)
    }

    @Test("case open names every missing required field, every unknown field and every bad value at once")
    func everyFieldProblemAtOnce() throws {
        let ws = try TestWorkspace()
        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]
        // A user who read only the category's name: no field at all, one misspelt, one bad value.
        let result = try exhibit.run(["case", "open", "--category", "missing-person", "--title", "Jordan Avery",
                                      "--field", "subjet_name=Jordan Avery", "--field", "risk=high"] + actor)
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result.stderr)")
        for part in ["subject_name", "last_seen_date (YYYY-MM-DD)", "last_seen_place", "\"subjet_name\"",
                     "risk to be one of endangered, not-endangered, unknown (not \"high\")", "--field NAME=VALUE"] {
            #expect(result.stderr.contains(part), "should name \(part): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.workspace.casesDirectory).isEmpty)

        // Two unknown fields and a bad date, nothing missing.
        let second = try exhibit.run(["case", "open", "--category", "online-crime", "--title", "T", "--field", "subtype=other",
                                      "--field", "complainant_reference=R-1", "--field", "colour=red", "--field", "size=9",
                                      "--field", "first_reported_date=2026-02-30"] + actor)
        #expect(second.status == 5)
        #expect(second.stderr.split(separator: "\n").count == 1, "\(second.stderr)")
        #expect(second.stderr.contains("has no fields \"colour\" and \"size\""), "\(second.stderr)")
        #expect(second.stderr.contains("first_reported_date to be a date written YYYY-MM-DD (not \"2026-02-30\")"), "\(second.stderr)")

        // Fixed as the sentence says, it opens.
        let opened = try exhibit.run(["case", "open", "--category", "missing-person", "--title", "Jordan Avery",
                                      "--field", "subject_name=Jordan Avery", "--field", "last_seen_date=2026-11-27",
                                      "--field", "last_seen_place=Riverbend bus station", "--field", "risk=endangered"] + actor)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.hasPrefix("MP-"))
    }

    @Test("case show lists the notes, the artifact count and the custody timeline, in text and --json")
    func caseShowTellsTheWholeCase() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let exhibit = self.exhibit
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let capture = try await Blocking.run {
                try exhibit.run(["capture", caseID, site.baseURL + "/", site.baseURL + "/profile.html",
                                 "--allow-network", "127.0.0.1/32", "--reason", "loopback fixture site"] + actor)
            }
            #expect(capture.status == 0, "\(capture.stderr)")
        }
        #expect(try exhibit.run(["case", "note", caseID, "Mother reports a post on Saturday evening."] + actor).status == 0)

        let text = try exhibit.run(["case", "show", caseID] + actor)
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdoutLines
        let notes = try #require(lines.firstIndex(of: "notes:"), "\(text.stdout)")
        #expect(lines[notes + 1].hasPrefix("  seq 5  "), "\(text.stdout)")
        #expect(lines[notes + 1].hasSuffix("  \(ws.investigatorID)  Mother reports a post on Saturday evening."), "\(text.stdout)")
        #expect(lines.contains("artifacts: 2 (`exhibit artifacts \(caseID)` lists them)"), "\(text.stdout)")
        let timeline = try #require(lines.firstIndex(of: "timeline:"), "\(text.stdout)")
        // open; the policy override; the two captures as one line; the note; this view.
        let events = Array(lines[(timeline + 1)...].prefix { $0.hasPrefix("  seq ") })
        #expect(events.count == 5, "\(text.stdout)")
        #expect(events.first?.contains("opened the case “Test”") == true, "\(text.stdout)")
        #expect(events.contains { $0.hasPrefix("  seq 3–4  ") && $0.contains("capture ×2, the last at ") }, "\(text.stdout)")
        #expect(events.last?.hasPrefix("  seq 6  ") == true && events.last?.hasSuffix("viewed (case show)") == true, "\(text.stdout)")
        #expect(lines.last == "ledger:    6 entries, head \(try ws.entries(caseID).last?.hash ?? "-")", "\(text.stdout)")

        let json = try exhibit.run(["case", "show", caseID, "--json"] + actor)
        #expect(json.status == 0)
        let shown = try JSONValue(parsing: json.stdout)
        let entries = try ws.entries(caseID)
        // The case-state members are still there …
        #expect(shown["id"]?.stringValue == caseID)
        #expect(shown["entry_count"]?.intValue == 7)
        #expect(shown["ledger_head"]?.stringValue == entries.last?.hash)
        // … with the notes, the artifacts and one timeline item per ledger entry.
        let note = try #require(shown["notes"]?.arrayValue?.first)
        #expect(shown["notes"]?.arrayValue?.count == 1)
        #expect(note["seq"]?.intValue == 5 && note["actor"]?.stringValue == ws.investigatorID)
        #expect(note["text"]?.stringValue == "Mother reports a post on Saturday evening.")
        #expect(note["time"]?.stringValue == entries[4].time)
        #expect(shown["artifacts"]?.intValue == 2)
        let items = try #require(shown["timeline"]?.arrayValue)
        #expect(items.map { $0["seq"]?.intValue ?? 0 } == entries.map(\.seq))
        #expect(items.map { $0["action"]?.stringValue ?? "" } == entries.map(\.action))
        #expect(items.map { $0["actor"]?.stringValue ?? "" } == entries.map(\.actor))
        #expect(items[2]["summary"]?.stringValue?.hasPrefix("captured http://127.0.0.1:") == true)
        #expect(items.last?["summary"]?.stringValue == "viewed (case show)")
    }

    @Test("a chunked response's ledger record carries the de-chunked payload's sha256; warcio check and verify still pass")
    func chunkedPayloadDigestInTheLedger() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let exhibit = self.exhibit
        let url = try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let url = site.baseURL + "/test/chunked"
            let capture = try await Blocking.run {
                try exhibit.run(["capture", caseID, url, "--workspace", ws.root, "--actor", ws.investigatorID,
                                 "--allow-network", "127.0.0.1/32", "--reason", "loopback fixture site"])
            }
            #expect(capture.status == 0, "\(capture.stderr)")
            return url
        }
        let entry = try #require(try ws.entries(caseID).first { $0.action == "capture" })
        let subject = try #require(entry.subject)
        let response = try #require(subject["records"]?.arrayValue?.first { $0["type"]?.stringValue == "response" })
        let recorded = try #require(response["payload_sha256"]?.stringValue, "payload_sha256 of the response record is \(String(describing: response["payload_sha256"]))")

        // warcio de-chunks the stored body itself: its sha256 is the one recorded.
        let warc = ws.caseDirectory(caseID) + "/" + (subject["warc"]?["file"]?.stringValue ?? "-")
        let reader = try Validators.run("python3", ["-c", """
            import hashlib, sys
            from warcio.archiveiterator import ArchiveIterator
            with open(sys.argv[1], 'rb') as f:
                for r in ArchiveIterator(f):
                    if r.rec_type == 'response':
                        print('response', hashlib.sha256(r.content_stream().read()).hexdigest(), r.rec_headers.get_header('WARC-Payload-Digest'),
                              r.http_headers.get_header('Transfer-Encoding'))
                    elif r.rec_type == 'metadata':
                        print('metadata', r.content_stream().read().decode())
            """, warc])
        #expect(reader.status == 0, "\(reader.output)")
        let responseLine = try #require(reader.output.split(separator: "\n").first { $0.hasPrefix("response ") })
        // The WARC keeps the framing and still has no WARC-Payload-Digest (DESIGN §6, §14).
        #expect(responseLine == "response \(recorded) None chunked", "\(reader.output)")
        #expect(reader.output.contains("payload-sha256-dechunked: \(recorded)"), "\(reader.output)")
        #expect(subject["payload_sha256"]?.stringValue == recorded)
        #expect(response["target_uri"]?.stringValue == url)

        let check = try Validators.run("warcio", ["check", "-v", warc])
        #expect(check.status == 0, "warcio check failed: \(check.output)")
        #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)
    }
}
