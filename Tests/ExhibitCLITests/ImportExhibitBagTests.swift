import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// An Exhibit bag imported into another workspace (issue 20): verified as
/// `exhibit verify` verifies a bag, its ledger kept as a verified attachment; a
/// bag whose BagIt manifests were regenerated after its ledger was changed passes
/// bagit.py but not the seal, and is refused with the case left byte-identical.
@Suite("import of an Exhibit bag")
struct ImportExhibitBagTests {
    let exhibit = ExhibitProcess()

    @Test("an Exhibit bag's seal, chain and signatures are verified and its ledger kept; a re-manifested tampered one is refused")
    func exhibitBag() async throws {
        let other = try TestWorkspace()
        let source = try other.openCase()
        let bag = other.directory.child("their-bag")
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let capture = try exhibit.run(["capture", source, site.baseURL + "/forum.html", "--allow-network", "127.0.0.1/32", "--reason", "fixture",
                                           "--workspace", other.root, "--actor", other.investigatorID])
            #expect(capture.status == 0, "\(capture.stderr)")
        }
        let export = try exhibit.run(["export", source, "--out", bag, "--workspace", other.root, "--actor", other.investigatorID])
        #expect(export.status == 0, "\(export.stderr)")
        let ledger = try AtomicFile.read(bag + "/data/ledger.jsonl")

        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let imported = try exhibit.run(["import", caseID, bag, "--source", "bag sent by the other unit", "--json"] + actor)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("whose seal, ledger chain and signatures verify"), "\(imported.stdout)")
        let subject = try #require(try ws.entries(caseID).last { $0.action == "import" }?.subject)
        let verified = try #require(subject["exhibit_bag"])
        #expect(verified["verdict"]?.stringValue == "verified" && verified["case"]?.stringValue == source, "\(verified)")
        let theirEntries = try other.entries(source)
        #expect(verified["ledger_head"]?.stringValue == theirEntries.last { $0.action != "export" }?.hash
                || verified["ledger_head"]?.stringValue == theirEntries.last?.hash, "\(verified)")
        let kept = try #require(verified["ledger"]?["path"]?.stringValue)
        #expect(verified["ledger"]?["sha256"]?.stringValue == Digest.sha256Hex(ledger))
        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/" + kept) == ledger)
        let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root, "--actor", ws.supervisorID])
        #expect(verify.status == 0, "\(verify.stdout)")

        // A changed ledger line with the BagIt manifests made again: bagit.py accepts it.
        let tampered = other.directory.child("tampered-bag")
        #expect(try Command.run("/bin/cp", ["-r", bag, tampered]).status == 0)
        var text = String(decoding: ledger, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"action\":\"capture\"", with: "\"action\":\"note\"")
        #expect(text != String(decoding: ledger, as: UTF8.self))
        try AtomicFile.write(Array(text.utf8), to: tampered + "/data/ledger.jsonl")
        let remade = try Validators.run("python3", ["-c", "import bagit, sys; b = bagit.Bag(sys.argv[1]); b.save(manifests=True)", tampered])
        #expect(remade.status == 0, "\(remade.output)")
        let bagit = try Validators.run("python3", ["-m", "bagit", "--validate", tampered])
        #expect(bagit.status == 0, "bagit.py: \(bagit.output)")

        let before = try ImportCommandTests().tree(ws.caseDirectory(caseID))
        let refused = try exhibit.run(["import", caseID, tampered, "--source", "bag sent by the other unit"] + actor)
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("fails verification") && lines[0].contains("nothing was imported"), "\(refused.stderr)")
        #expect(try ImportCommandTests().tree(ws.caseDirectory(caseID)) == before)
    }
}
