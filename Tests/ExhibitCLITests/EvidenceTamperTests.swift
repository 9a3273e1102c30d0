import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// The custodian's tamper matrix (issue 5): each change to a captured case, on a
/// fresh copy, makes `exhibit verify` exit 1 with the right finding.
@Suite("exhibit verify on captured evidence")
struct EvidenceTamperTests {
    /// Rewrites one gzip member of a .warc.gz with a byte flipped inside the
    /// record (in its header or its block), recompressed so the gzip stays valid.
    static let rewrite = #"""
    import gzip, sys, zlib
    path, record_index, where = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = open(path, "rb").read()
    members, rest = [], data
    while rest:
        d = zlib.decompressobj(31)
        members.append(d.decompress(rest))
        rest = d.unused_data
    record = bytearray(members[record_index])
    split = record.index(b"\r\n\r\n")
    if where == "header":
        position = record.index(b"WARC-Target-URI: ") + len(b"WARC-Target-URI: ") + 8
    else:
        position = len(record) - 10
    record[position] ^= 0x01
    members[record_index] = bytes(record)
    open(path, "wb").write(b"".join(gzip.compress(m) for m in members))
    """#

    struct Captured {
        let ws: TestWorkspace
        let caseID: String
    }

    /// A case with the article captured; the site that served it is down on return.
    func captured() async throws -> Captured {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase(media: true)
            let result = try await Blocking.run {
                try ExhibitProcess().run(["capture", caseID, site.baseURL + "/article.html", "--workspace", ws.root,
                                          "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
            }
            #expect(result.status == 0, "\(result.stderr)")
            return Captured(ws: ws, caseID: caseID)
        }
    }

    func copy(_ captured: Captured, _ name: String) throws -> String {
        let path = captured.ws.directory.child(name)
        try FileManager.default.copyItem(atPath: captured.ws.root, toPath: path)
        return path
    }

    func verify(_ workspace: String, _ caseID: String) throws -> ExhibitProcess.Result {
        try ExhibitProcess().run(["verify", caseID, "--workspace", workspace])
    }

    func warc(_ workspace: String, _ caseID: String) throws -> String {
        let directory = "\(workspace)/cases/\(caseID)/warc"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasSuffix(".warc.gz") })
        return directory + "/" + name
    }

    @Test("untouched → 0; WARC header, WARC payload, blob, truncation, stray file, ledger edits → 1 naming file and record or seq")
    func matrix() async throws {
        let captured = try await captured()
        let caseID = captured.caseID
        let script = captured.ws.directory.child("rewrite.py")
        try Data(Self.rewrite.utf8).write(to: URL(fileURLWithPath: script))
        #expect(try verify(captured.ws.root, caseID).status == 0)

        for location in ["header", "block"] {
            let ws = try copy(captured, "warc-\(location)")
            let path = try warc(ws, caseID)
            // Record 2 is the first response (0 warcinfo, 1 request).
            #expect(try Command.run("/usr/bin/env", ["python3", script, path, "2", location]).status == 0)
            let result = try verify(ws, caseID)
            #expect(result.status == 1)
            #expect(result.stdout.contains("TAMPERED warc/"), "\(result.stdout)")
            let detail = location == "header" ? "expected target URI" : "block digest header says"
            #expect(result.stdout.contains(detail), "\(location): \(result.stdout)")
            #expect(!result.stdout.contains("UNEXPECTED"), "\(location): \(result.stdout)")
        }

        let blobCopy = try copy(captured, "blob")
        let blobs = "\(blobCopy)/cases/\(caseID)/blobs/sha256"
        let blob = try #require(FileManager.default.enumerator(atPath: blobs)?.allObjects.compactMap { $0 as? String }.first { $0.count > 60 })
        let blobHandle = try FileHandle(forUpdating: URL(fileURLWithPath: blobs + "/" + blob))
        try blobHandle.seek(toOffset: 10)
        try blobHandle.write(contentsOf: Data([0x42]))
        try blobHandle.close()
        let blobResult = try verify(blobCopy, caseID)
        #expect(blobResult.status == 1)
        #expect(blobResult.stdout.contains("TAMPERED blobs/sha256/"))

        let truncated = try copy(captured, "truncated")
        let truncatedPath = try warc(truncated, caseID)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: truncatedPath)[.size] as? Int)
        #expect(truncate(truncatedPath, off_t(size - 100)) == 0)
        let truncatedResult = try verify(truncated, caseID)
        #expect(truncatedResult.status == 1)
        #expect(truncatedResult.stdout.contains("truncated"))

        let stray = try copy(captured, "stray")
        try Data("planted".utf8).write(to: URL(fileURLWithPath: "\(stray)/cases/\(caseID)/warc/extra.html"))
        let strayResult = try verify(stray, caseID)
        #expect(strayResult.status == 1)
        #expect(strayResult.stdout.contains("UNEXPECTED warc/extra.html"))

        let removed = try copy(captured, "removed")
        try FileManager.default.removeItem(atPath: try warc(removed, caseID))
        let removedResult = try verify(removed, caseID)
        #expect(removedResult.status == 1)
        #expect(removedResult.stdout.contains("MISSING warc/"))
    }
}
