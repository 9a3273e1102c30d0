import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// A capture on a kept-alive HTTPS connection records its server's certificates like the
/// capture that opened the connection: libcurl's CURLINFO_CERTINFO is empty for a reused
/// connection, so Exhibit reads the chain from the connection's TLS session
/// (docs/capture.md, "Connections").
@Suite("exhibit capture over one kept-alive HTTPS connection")
struct HTTPSKeptAliveTests {
    let exhibit = ExhibitProcess()

    @Test("two URLs, one at a time: the second reuses the connection and still records the served chain, in its entry and its metadata record")
    func reusedConnectionRecordsTheChain() async throws {
        let pki = try HTTPSCaptureTests.TestPKI.make()
        let server = try await HTTPSCaptureTests.HTTPSTestServer.start(pki: pki, keepAlive: true)
        defer { server.stop() }
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let urls = [server.baseURL + "/", server.baseURL + "/index.html"]
        let urlsFile = ws.root + "/urls.txt"
        try Data(urls.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: urlsFile))

        let result = try exhibit.run(["capture", caseID, "--urls-file", urlsFile, "--concurrency", "1", "--ca-file", pki.caPath,
                                      "--allow-network", "127.0.0.1/32", "--reason", "test",
                                      "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)\nserver log: \(server.log())")

        let entries = try ws.entries(caseID).filter { $0.action == "capture" }
        #expect(entries.compactMap { $0.subject?["url"]?.stringValue } == urls)
        let decisions = entries.compactMap { $0.subject?["network_decision"]?.stringValue }
        #expect(decisions.count == 2 && !decisions[0].contains("connection reused") && decisions[1].contains("connection reused"),
                "the second URL goes over the first one's connection: \(decisions)")

        let warc = try #require(HTTPSCaptureTests().warcFiles(ws, caseID).first)
        let records = try HTTPSCaptureTests.WARCDump.records(warc)
        var certificates: [[String]] = []
        for entry in entries {
            let subject = try #require(entry.subject)
            #expect(subject["tls"]?["chain_sha256"]?.arrayValue?.compactMap(\.stringValue) == pki.servedChainSHA256,
                    "\(subject["url"]?.stringValue ?? ""): tls \(String(describing: subject["tls"]))")
            let metadataID = try #require(subject["records"]?.arrayValue?.first { $0["type"]?.stringValue == "metadata" }?["id"]?.stringValue)
            let metadata = try #require(records.first { $0.id == metadataID })
            let fields = HTTPSCaptureTests.WARCFields.parse(metadata.block)
            #expect(fields.values("peer-certificate-sha256") == pki.servedChainSHA256, "\(metadata.block)")
            certificates.append(fields.values("peer-certificate"))
        }
        // The reused connection's certificates are the same text as the opened one's.
        #expect(certificates.count == 2 && certificates[0] == certificates[1] && certificates[0].count == pki.servedPEMs.count)
        for (pem, served) in zip(certificates.first ?? [], pki.servedPEMs) {
            #expect(HTTPSCaptureTests.TestPKI.normalized(pem) == HTTPSCaptureTests.TestPKI.normalized(served))
        }

        let check = try Validators.run("warcio", ["check", "-v", warc])
        #expect(check.status == 0, "warcio check failed: \(check.output)")
        let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
