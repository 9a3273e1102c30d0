import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Retention and legal hold (policy IV.A.2.c, DESIGN §11): hold, release,
/// retention, dispose, the disposal register, through the real binary. Disposal
/// "in the future" runs the binary under libfaketime (Debian package faketime).
/// Not run under sanitizers (`EXHIBIT_SANITIZER` set): libfaketime's preload deadlocks with the
/// sanitizer runtimes in the child processes (docs/hardening.md).
@Suite("retention, legal hold and disposal", .enabled(if: ProcessInfo.processInfo.environment["EXHIBIT_SANITIZER"] == nil))
struct RetentionCommandTests {
    let exhibit = ExhibitProcess()

    static let faketime = "/usr/bin/faketime"

    /// The UTC year now, by the real clock.
    static var year: Int { LedgerTime.year(of: LedgerTime.now()) ?? 2026 }

    /// A moment after a 10-year retention from today has run.
    static var afterTenYears: String { "\(year + 11)-01-01 00:00:00" }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `exhibit` under `/usr/bin/faketime DATE`, with stdout and stderr apart.
    ///
    /// The wrapper, not a bare `LD_PRELOAD` of libfaketime: without the
    /// FAKETIME_SHARED variable the wrapper sets, the preloaded library (0.9.10)
    /// leaves the Swift binary without its arguments, so it prints its help and
    /// exits 0.
    func future(_ date: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let finished = try ChildProcess(Self.faketime, [date, ExhibitProcess.binaryPath] + arguments,
                                        environment: exhibit.environment.merging(environment) { _, new in new }).run()
        return Outcome(status: finished.status, stdout: finished.stdoutText, stderr: finished.stderrText)
    }

    func custodian(_ ws: TestWorkspace) -> [String] { ["--workspace", ws.root, "--actor", ws.supervisorID] }
    func investigator(_ ws: TestWorkspace) -> [String] { ["--workspace", ws.root, "--actor", ws.investigatorID] }

    func close(_ ws: TestWorkspace, _ caseID: String) throws {
        let result = try exhibit.run(["case", "close", caseID, "--reason", "done"] + custodian(ws))
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// The last entry must be a `refusal` of `command`, and the ledger one entry longer.
    func expectRefusal(_ ws: TestWorkspace, _ caseID: String, command: String, after count: Int,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let entries = try ws.entries(caseID)
        #expect(entries.count == count + 1, sourceLocation: sourceLocation)
        #expect(entries.last?.action == "refusal", sourceLocation: sourceLocation)
        #expect(entries.last?.subject?["command"]?.stringValue == command, sourceLocation: sourceLocation)
    }

    func registerLines(_ ws: TestWorkspace) throws -> [String] {
        let bytes = try AtomicFile.read(ws.workspace.disposalsPath)
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    // MARK: hold and release

    @Test("hold and release are ledger entries; a second hold or a release without hold is refused with exit 4; both work on closed cases")
    func holdAndRelease() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let hold = try exhibit.run(["hold", caseID, "--reason", "civil suit 24-CV-118", "--json"] + custodian(ws))
        #expect(hold.status == 0, "\(hold.stderr)")
        #expect(try JSONValue(parsing: hold.stdout)["seq"]?.intValue == 2)
        var entries = try ws.entries(caseID)
        #expect(entries.last?.action == "hold")
        #expect(entries.last?.subject?["reason"]?.stringValue == "civil suit 24-CV-118")
        let show = try exhibit.run(["case", "show", caseID, "--json"] + investigator(ws))
        #expect(try JSONValue(parsing: show.stdout)["on_hold"]?.boolValue == true)

        var count = try ws.entries(caseID).count
        let again = try exhibit.run(["hold", caseID, "--reason", "again"] + custodian(ws))
        #expect(again.status == 4)
        #expect(again.stderr.contains("already on legal hold"))
        #expect(again.stderr.split(separator: "\n").count == 1)
        try expectRefusal(ws, caseID, command: "hold", after: count)

        count = try ws.entries(caseID).count
        let notCustodian = try exhibit.run(["hold", caseID, "--reason", "x"] + investigator(ws))
        #expect(notCustodian.status == 4)
        #expect(notCustodian.stderr.contains("custodian"))
        try expectRefusal(ws, caseID, command: "hold", after: count)

        let release = try exhibit.run(["release", caseID, "--reason", "suit settled"] + custodian(ws))
        #expect(release.status == 0, "\(release.stderr)")
        entries = try ws.entries(caseID)
        #expect(entries.last?.action == "release")
        #expect(entries.last?.subject?["reason"]?.stringValue == "suit settled")
        #expect(entries.last?.subject?["held_for"]?.stringValue == "civil suit 24-CV-118")

        count = entries.count
        let twice = try exhibit.run(["release", caseID] + custodian(ws))
        #expect(twice.status == 4)
        #expect(twice.stderr.contains("not on legal hold"))
        try expectRefusal(ws, caseID, command: "release", after: count)

        // Closed cases: hold and release still work (a hold matters most after closing).
        try close(ws, caseID)
        #expect(try exhibit.run(["hold", caseID, "--reason", "records request"] + custodian(ws)).status == 0)
        #expect(try exhibit.run(["release", caseID] + custodian(ws)).status == 0)
        #expect(try ws.entries(caseID).suffix(2).map(\.action) == ["hold", "release"])
        #expect(try exhibit.run(["hold", caseID] + custodian(ws)).status == 2, "--reason is required")
        #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)
    }

    // MARK: refusals

    @Test("dispose is refused with exit 4 and a refusal entry while open, before retention ends, and while held; never for a permanent schedule")
    func disposeRefusals() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let directory = ws.caseDirectory(caseID)

        var count = try ws.entries(caseID).count
        let open = try exhibit.run(["dispose", caseID, "--reason", "schedule"] + custodian(ws))
        #expect(open.status == 4, "\(open.stderr)")
        #expect(open.stderr.contains("still open"))
        try expectRefusal(ws, caseID, command: "dispose", after: count)
        #expect(try ws.entries(caseID).last?.subject?["blocked_by"]?.stringValue == "open")

        try close(ws, caseID)
        count = try ws.entries(caseID).count
        let early = try exhibit.run(["dispose", caseID, "--reason", "schedule"] + custodian(ws))
        #expect(early.status == 4)
        #expect(early.stderr.contains("under retention until \(Self.year + 10)-"), "\(early.stderr)")
        try expectRefusal(ws, caseID, command: "dispose", after: count)
        #expect(try ws.entries(caseID).last?.subject?["blocked_by"]?.stringValue == "not-yet")

        // No option moves the clock of dispose.
        #expect(try exhibit.run(["dispose", caseID, "--reason", "x", "--as-of", "2099-01-01"] + custodian(ws)).status == 2)

        count = try ws.entries(caseID).count
        let notCustodian = try exhibit.run(["dispose", caseID, "--reason", "x"] + investigator(ws))
        #expect(notCustodian.status == 4)
        try expectRefusal(ws, caseID, command: "dispose", after: count)

        #expect(try exhibit.run(["hold", caseID, "--reason", "appeal pending"] + custodian(ws)).status == 0)
        count = try ws.entries(caseID).count
        let held = try future(Self.afterTenYears, ["dispose", caseID, "--reason", "schedule"] + custodian(ws))
        #expect(held.status == 4)
        #expect(held.stderr.contains("legal hold"))
        try expectRefusal(ws, caseID, command: "dispose", after: count)
        #expect(try ws.entries(caseID).last?.subject?["blocked_by"]?.stringValue == "held")

        // A permanent schedule: a template set where online-crime is kept for good.
        #expect(try exhibit.run(["release", caseID] + custodian(ws)).status == 0)
        let templates = ["EXHIBIT_TEMPLATES": try permanentTemplates(ws)]
        count = try ws.entries(caseID).count
        let never = try future(Self.afterTenYears, ["dispose", caseID, "--reason", "schedule"] + custodian(ws), environment: templates)
        #expect(never.status == 4)
        #expect(never.stderr.contains("permanently"))
        try expectRefusal(ws, caseID, command: "dispose", after: count)
        let review = try ExhibitProcess(environment: templates).run(["retention", "--json", "--as-of", "2200-01-01"] + custodian(ws))
        let item = try #require(try JSONValue(parsing: review.stdout)["cases"]?.arrayValue?.first)
        #expect(item["reason"]?.stringValue == "permanent")
        #expect(item["permanent"]?.boolValue == true)
        #expect(item["due_on"] == nil)

        #expect(FileManager.default.fileExists(atPath: directory + "/ledger.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: ws.workspace.disposalsPath))
        #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)
    }

    /// The project's templates with online-crime's retention made permanent.
    func permanentTemplates(_ ws: TestWorkspace) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("CaseTemplates").path
        let target = ws.directory.child("templates")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where name.hasSuffix(".json") {
            var text = try String(contentsOfFile: source + "/" + name, encoding: .utf8)
            if name == "online-crime.json" {
                text = text.replacingOccurrences(of: #""retention": {"years_after_close": 10}"#, with: #""retention": {"permanent": true}"#)
                #expect(text.contains(#"{"permanent": true}"#))
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: target + "/" + name))
        }
        return target
    }

    // MARK: retention review

    @Test("retention --as-of lists a closed case as due only once its years have passed, and writes nothing")
    func retentionPlanning() throws {
        let ws = try TestWorkspace()
        let closed = try ws.openCase()
        let open = try ws.openCase()
        let held = try ws.openCase()
        try close(ws, closed)
        try close(ws, held)
        #expect(try exhibit.run(["hold", held, "--reason", "records request"] + custodian(ws)).status == 0)
        let closedOn = try #require(try ws.entries(closed).last?.time.prefix(10))
        let dueOn = "\(Self.year + 10)" + closedOn.dropFirst(4)
        let dayBefore = try #require(Days.dayBefore(dueOn))
        let ledgersBefore = try [closed, open, held].map { try AtomicFile.read(ws.caseDirectory($0) + "/ledger.jsonl") }

        func review(_ asOf: String?) throws -> [String: JSONValue] {
            let result = try exhibit.run(["retention", "--json"] + (asOf.map { ["--as-of", $0] } ?? []) + custodian(ws))
            #expect(result.status == 0, "\(result.stderr)")
            var byCase: [String: JSONValue] = [:]
            for item in try JSONValue(parsing: result.stdout)["cases"]?.arrayValue ?? [] {
                byCase[item["case"]?.stringValue ?? ""] = item
            }
            return byCase
        }
        let today = try review(nil)
        #expect(today[closed]?["due"]?.boolValue == false)
        #expect(today[closed]?["reason"]?.stringValue == "not-yet")
        #expect(today[closed]?["closed_on"]?.stringValue == String(closedOn))
        #expect(today[closed]?["due_on"]?.stringValue == dueOn)
        #expect(today[closed]?["retention"]?.stringValue == "10 years after closing")
        #expect(today[closed]?["retention_years"]?.intValue == 10)
        #expect(today[open]?["reason"]?.stringValue == "open")
        #expect(today[open]?["due_on"] == nil)
        #expect(today[held]?["reason"]?.stringValue == "held")
        #expect(today[held]?["on_hold"]?.boolValue == true)

        let before = try review(dayBefore)
        #expect(before[closed]?["due"]?.boolValue == false)
        let onTheDay = try review(dueOn)
        #expect(onTheDay[closed]?["due"]?.boolValue == true)
        #expect(onTheDay[closed]?["reason"]?.stringValue == "due")
        #expect(onTheDay[closed]?["explanation"]?.stringValue?.contains("10 years after closing") == true)
        #expect(onTheDay[held]?["due"]?.boolValue == false, "a hold outranks the schedule")
        #expect(onTheDay[open]?["due"]?.boolValue == false)

        let text = try exhibit.run(["retention", "--as-of", dueOn] + custodian(ws))
        #expect(text.stdout.contains("\(closed)  online-crime  closed \(closedOn)  10 years after closing → due \(dueOn)  DUE"))
        #expect(text.stdout.contains("1 of 3 cases due for disposition as of \(dueOn)"))

        // Planning writes nothing, and a planned date does not let dispose through.
        let ledgersAfter = try [closed, open, held].map { try AtomicFile.read(ws.caseDirectory($0) + "/ledger.jsonl") }
        #expect(ledgersAfter == ledgersBefore)
        #expect(try exhibit.run(["dispose", closed, "--reason", "x"] + custodian(ws)).status == 4)
        #expect(!FileManager.default.fileExists(atPath: ws.workspace.disposalsPath))

        #expect(try exhibit.run(["retention"] + investigator(ws)).status == 4)
        #expect(try exhibit.run(["retention", "--as-of", "2036-02-30"] + custodian(ws)).status == 2)
        #expect(try exhibit.run(["retention", "--as-of", "soon"] + custodian(ws)).status == 2)
    }

    // MARK: disposal

    @Test("after retention: a signed, chained certificate listing every WARC file and blob; the case is gone, its id never reused; case show prints the certificate")
    func disposeAfterRetention() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase(media: true)
            let capture = try await Blocking.run {
                try ExhibitProcess().run(["capture", caseID, site.baseURL + "/article.html", "--workspace", ws.root,
                                          "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
            }
            #expect(capture.status == 0, "\(capture.stderr)")
            // An analyst reads the case, so the workspace index holds its page text
            // (capture leaves the index to reading commands): disposal must remove it.
            #expect(try exhibit.run(["artifacts", caseID] + investigator(ws)).status == 0)
            try close(ws, caseID)
            let directory = ws.caseDirectory(caseID)
            let head = try #require(try ws.entries(caseID).last?.hash)
            let entryCount = try ws.entries(caseID).count
            var expected: [String: (String, Int64)] = [:]
            for relative in (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []) {
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory)
                if isDirectory.boolValue { continue }
                let (digests, size) = try Digest.file(atPath: directory + "/" + relative)
                expected[relative] = (digests[.sha256]!, size)
            }
            #expect(expected.keys.contains { $0.hasPrefix("warc/") })
            #expect(expected.keys.contains { $0.hasPrefix("blobs/sha256/") })
            #expect(try indexRows(ws, caseID) > 0)

            let disposed = try future(Self.afterTenYears, ["dispose", caseID, "--reason", "schedule item 4.2, 10 years", "--json"] + custodian(ws))
            #expect(disposed.status == 0, "\(disposed.stderr)")
            let printed = try JSONValue(parsing: disposed.stdout)

            // The case directory is gone, and nothing half-removed is left.
            #expect(!FileManager.default.fileExists(atPath: directory))
            #expect(try FileManager.default.contentsOfDirectory(atPath: ws.workspace.casesDirectory).isEmpty)
            #expect(try indexRows(ws, caseID) == 0, "the index must not keep a disposed case's pages")

            // One certificate line, as printed, describing exactly what was destroyed.
            let lines = try registerLines(ws)
            #expect(lines.count == 1)
            let certificate = try JSONValue(parsing: lines[0])
            #expect(certificate == printed)
            #expect(certificate["case"]?.stringValue == caseID)
            #expect(certificate["category"]?.stringValue == "crime-imagery")
            #expect(certificate["actor"]?.stringValue == ws.supervisorID)
            #expect(certificate["reason"]?.stringValue == "schedule item 4.2, 10 years")
            #expect(certificate["time"]?.stringValue?.hasPrefix("\(Self.year + 11)-01-01T") == true)
            #expect(certificate["ledger_head"]?.stringValue == head)
            #expect(certificate["ledger_entries"]?.intValue == Int64(entryCount))
            #expect(certificate["prev"]?.stringValue == String(repeating: "0", count: 64))
            #expect(certificate["seq"]?.intValue == 1)
            var listed: [String: (String, Int64)] = [:]
            for key in ["warc", "blobs", "other"] {
                for file in certificate[key]?.arrayValue ?? [] {
                    let path = try #require(file["path"]?.stringValue)
                    listed[path] = (file["sha256"]?.stringValue ?? "", file["size"]?.intValue ?? -1)
                    if key == "warc" { #expect(path.hasPrefix("warc/")) }
                    if key == "blobs" { #expect(path.hasPrefix("blobs/sha256/")) }
                }
            }
            #expect(listed.keys.sorted() == expected.keys.sorted())
            for (path, value) in expected {
                #expect(listed[path]?.0 == value.0, "\(path)")
                #expect(listed[path]?.1 == value.1, "\(path)")
            }

            // Exhibit's own check of the register, and an independent one.
            let verify = try exhibit.run(["verify", ws.workspace.disposalsPath])
            #expect(verify.status == 0, "\(verify.stdout)")
            #expect(verify.stdout.contains("intact — 1 certificate"))
            try independentCheck(ws, expecting: 1)

            // case show prints the certificate (text and --json), exit 0.
            let show = try exhibit.run(["case", "show", caseID] + investigator(ws))
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.contains("disposed of"))
            #expect(show.stdout.contains(head))
            #expect(show.stdout.contains(certificate["hash"]?.stringValue ?? "?"))
            let showJSON = try exhibit.run(["case", "show", caseID, "--json"] + investigator(ws))
            #expect(try JSONValue(parsing: showJSON.stdout) == certificate)

            // Other commands name the disposal (exit 5), and case list no longer shows it.
            let hold = try exhibit.run(["hold", caseID, "--reason", "late"] + custodian(ws))
            #expect(hold.status == 5)
            #expect(hold.stderr.contains("was disposed of"))
            #expect(try exhibit.run(["dispose", caseID, "--reason", "again"] + custodian(ws)).status == 5)
            #expect(try exhibit.run(["case", "list"] + investigator(ws)).stdout.isEmpty)

            // The id is never reused: the next case of the prefix and year gets the next number.
            let next = try ws.openCase(media: true)
            #expect(next == "CI-\(Self.year)-0002")
            try close(ws, next)

            // A second disposal chains to the first. Without --reason (`exhibit dispose CASE`,
            // as DESIGN §11 writes it) the schedule that ended is the recorded reason.
            let second = try future(Self.afterTenYears, ["dispose", next] + custodian(ws))
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("\(next) disposed of"))
            let both = try registerLines(ws)
            #expect(both.count == 2)
            #expect(try JSONValue(parsing: both[1])["prev"] == certificate["hash"])
            #expect(try JSONValue(parsing: both[1])["reason"]?.stringValue?.hasPrefix("retention schedule ended: 10 years after closing") == true)
            #expect(try exhibit.run(["verify", "disposals.jsonl", "--workspace", ws.root]).status == 0)
            try independentCheck(ws, expecting: 2)
            #expect(try ws.openCase(media: true) == "CI-\(Self.year)-0003")

            // A changed certificate, or a removed one, no longer verifies.
            let original = try AtomicFile.read(ws.workspace.disposalsPath)
            try Data(Array(lines[0].replacingOccurrences(of: "schedule item 4.2", with: "schedule item 9.9").utf8) + [10] + Array(both[1].utf8) + [10])
                .write(to: URL(fileURLWithPath: ws.workspace.disposalsPath))
            let tampered = try exhibit.run(["verify", ws.workspace.disposalsPath, "--json"])
            #expect(tampered.status == 1)
            let findings = try JSONValue(parsing: tampered.stdout)["findings"]?.arrayValue ?? []
            #expect(findings.contains { $0["kind"]?.stringValue == "TAMPERED" })
            try Data(Array(both[1].utf8) + [10]).write(to: URL(fileURLWithPath: ws.workspace.disposalsPath))
            let removed = try exhibit.run(["verify", ws.workspace.disposalsPath])
            #expect(removed.status == 1)
            #expect(removed.stdout.contains("CHAIN-BROKEN"))
            try Data(original).write(to: URL(fileURLWithPath: ws.workspace.disposalsPath))
        }
    }

    /// Rows the workspace index holds for a case (artifacts and page text).
    func indexRows(_ ws: TestWorkspace, _ caseID: String) throws -> Int {
        let script = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        print(sum(db.execute(f"SELECT count(*) FROM {t} WHERE case_id = ?", (sys.argv[2],)).fetchone()[0] for t in ("artifacts", "page_text")))
        """
        let result = try Command.run("/usr/bin/env", ["python3", "-c", script, ws.workspace.indexPath, caseID])
        #expect(result.status == 0, "\(result.output)")
        return Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// The register verifies without Exhibit: python3 recomputes each certificate's
    /// hash (canonical JSON without hash and sig) and the chain; `openssl pkeyutl`
    /// checks each Ed25519 signature with the actor's public key.
    func independentCheck(_ ws: TestWorkspace, expecting count: Int) throws {
        let script = #"""
        import base64, hashlib, json, sys
        register, out = sys.argv[1], sys.argv[2]
        prev = "0" * 64
        for number, line in enumerate(open(register, encoding="utf-8"), 1):
            certificate = json.loads(line)
            recorded, signature = certificate.pop("hash"), certificate.pop("sig")
            canonical = json.dumps(certificate, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert hashlib.sha256(canonical.encode()).hexdigest() == recorded, f"hash of line {number}"
            assert certificate["prev"] == prev, f"prev of line {number}"
            assert certificate["seq"] == number, f"seq of line {number}"
            prev = recorded
            open(f"{out}/{number}.hash", "w").write(recorded)
            open(f"{out}/{number}.actor", "w").write(certificate["actor"])
            open(f"{out}/{number}.sig", "wb").write(base64.b64decode(signature))
        print(number)
        """#
        let out = ws.directory.child("register-check-\(count)")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let result = try Command.run("/usr/bin/env", ["python3", "-c", script, ws.workspace.disposalsPath, out])
        #expect(result.status == 0, "\(result.output)")
        #expect(Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) == count)
        for number in 1...count {
            let actor = try String(contentsOfFile: "\(out)/\(number).actor", encoding: .utf8)
            let pem = try #require(try JSONValue(parsing: try AtomicFile.read("\(ws.root)/actors/\(actor).json"))["public_key"]?.stringValue)
            let pemPath = "\(out)/\(actor).pem"
            try Data(pem.utf8).write(to: URL(fileURLWithPath: pemPath))
            let verify = try Command.run("/usr/bin/openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", pemPath, "-rawin",
                                                              "-in", "\(out)/\(number).hash", "-sigfile", "\(out)/\(number).sig"])
            #expect(verify.status == 0, "certificate \(number): \(verify.output)")
            #expect(verify.output.contains("Signature Verified Successfully"))
        }
    }

    // MARK: interrupted disposals

    @Test("an interrupted disposal: rolled back without a certificate (its id still taken), finished with one")
    func interruptedDisposal() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        try close(ws, caseID)
        let cases = ws.workspace.casesDirectory

        // A crash after moving the case aside, before the certificate was complete.
        #expect(rename(ws.caseDirectory(caseID), cases + "/.disposing-" + caseID) == 0)
        try Data(#"{"case":"\#(caseID)","sea"#.utf8).write(to: URL(fileURLWithPath: ws.workspace.disposalsPath))
        let register = try exhibit.run(["verify", ws.workspace.disposalsPath])
        #expect(register.status == 0, "an interrupted write is reported, not a failure: \(register.stdout)")
        #expect(register.stdout.contains("INTERRUPTED"))
        // Its number is still taken while it is hidden.
        let next = try ws.openCase()
        #expect(next == "OC-\(Self.year)-0002")
        let show = try exhibit.run(["case", "show", caseID] + investigator(ws))
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stderr.contains("Rolled back an interrupted disposal"))
        #expect(FileManager.default.fileExists(atPath: ws.caseDirectory(caseID) + "/ledger.jsonl"))
        #expect(try AtomicFile.read(ws.workspace.disposalsPath).isEmpty, "the torn certificate is cut away")
        #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)

        // A crash after the certificate, during removal: the rest is removed.
        let disposed = try future(Self.afterTenYears, ["dispose", caseID, "--reason", "schedule"] + custodian(ws))
        #expect(disposed.status == 0, "\(disposed.stderr)")
        let leftover = cases + "/.disposing-" + caseID
        try FileManager.default.createDirectory(atPath: leftover + "/warc", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: leftover + "/warc/half.warc.gz"))
        let interrupted = try exhibit.run(["verify", "disposals.jsonl", "--workspace", ws.root])
        #expect(interrupted.status == 0)
        #expect(interrupted.stdout.contains("INTERRUPTED cases/.disposing-\(caseID)"))
        let review = try exhibit.run(["retention"] + custodian(ws))
        #expect(review.status == 0)
        #expect(review.stderr.contains("Finished the interrupted disposal of \(caseID)"))
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(try registerLines(ws).count == 1)
    }
}

private enum Days {
    /// The day before `YYYY-MM-DD`, in the proleptic Gregorian calendar (UTC).
    static func dayBefore(_ day: String) -> String? {
        let formatter = DateFormatter()
        formatter.calendar = Foundation.Calendar(identifier: .gregorian)
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        guard let date = formatter.date(from: day) else { return nil }
        return formatter.string(from: date.addingTimeInterval(-86_400))
    }
}
