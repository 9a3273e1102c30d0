import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 18 items 4 and 5 (verify's part): `export --zip` names its zip as one,
/// verify knows bags, zips and WACZ files by content, and each wrong target gets
/// its own sentence.
@Suite("verify targets")
struct VerifyTargetTests {
    let exhibit = ExhibitProcess()

    @Test("export --zip --out out/C2 writes out/C2.zip, which verify accepts; a zip without its ending is still known by content")
    func zipEndingAndContent() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace("exhibit-target")
            let caseID = try ws.openCase()
            let common = ["--workspace", ws.root, "--actor", ws.investigatorID]
            #expect(try exhibit.run(["capture", caseID, site.baseURL + "/", "--allow-network", "127.0.0.1/32", "--reason", "fixture"] + common).status == 0)
            let out = ws.directory.child("out")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let export = try exhibit.run(["export", caseID, "--zip", "--out", out + "/C2", "--json"] + common)
            #expect(export.status == 0, "\(export.stderr)")
            #expect(try JSONValue(parsing: export.stdout)["output"]?.stringValue == out + "/C2.zip")
            #expect(FileManager.default.fileExists(atPath: out + "/C2.zip"))
            #expect(try exhibit.run(["verify", out + "/C2.zip"]).status == 0)
            try FileManager.default.moveItem(atPath: out + "/C2.zip", toPath: out + "/C2-bundle")
            let byContent = try exhibit.run(["verify", out + "/C2-bundle"])
            #expect(byContent.status == 0, "\(byContent.stdout)\(byContent.stderr)")
        }
    }

    @Test("missing, not a bundle, and a directory that is neither: three different sentences, exit 5")
    func wrongTargets() throws {
        let directory = TemporaryDirectory("exhibit-target")
        let random = directory.child("random.bin")
        try AtomicFile.write(OpenSSL.randomBytes(512), to: random)
        let missing = try exhibit.run(["verify", directory.child("missing.zip")])
        let notBundle = try exhibit.run(["verify", random])
        let plainDirectory = try exhibit.run(["verify", directory.path])
        #expect(missing.status == 5 && notBundle.status == 5 && plainDirectory.status == 5)
        #expect(missing.stderr.contains("does not exist"), "\(missing.stderr)")
        #expect(notBundle.stderr.contains("is not a bag zip or a WACZ file"), "\(notBundle.stderr)")
        #expect(plainDirectory.stderr.contains("neither a case"), "\(plainDirectory.stderr)")
        #expect(Set([missing.stderr, notBundle.stderr, plainDirectory.stderr]).count == 3)
    }
}
