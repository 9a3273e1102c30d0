import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// `exhibit capture` of HTTPS pages end to end (DESIGN §6, §14; issue 9 item 3):
/// a test CA and a server certificate for 127.0.0.1 made with the `openssl`
/// command line, a python3 HTTPS server on loopback, and the real binary.
@Suite("exhibit capture over HTTPS")
struct HTTPSCaptureTests {
    let exhibit = ExhibitProcess()

    static let pageTitle = "Suspect storefront"
    static let pageMarker = "Listing 42: counterfeit passes, cash only"

    /// Every capture-related ledger entry of a case, in ledger order.
    func captureEntries(_ ws: TestWorkspace, _ caseID: String) throws -> [LedgerEntry] {
        try ws.entries(caseID).filter { ["capture", "capture-failed", "policy-refusal"].contains($0.action) }
    }

    func warcFiles(_ ws: TestWorkspace, _ caseID: String) -> [String] {
        let directory = ws.caseDirectory(caseID) + "/warc"
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".warc.gz") }.sorted().map { directory + "/" + $0 }
    }

    /// The page capture entry's `tls` object, checked against the served chain.
    func expectServedChain(_ subject: JSONValue, _ pki: TestPKI, sourceLocation: SourceLocation = #_sourceLocation) {
        let tls = subject["tls"]
        #expect(tls?.objectValue != nil, "the capture subject has no tls object: \(subject)", sourceLocation: sourceLocation)
        let version = tls?["version"]?.stringValue ?? ""
        #expect(version.hasPrefix("TLSv1."), "tls.version: \(String(describing: tls?["version"]))", sourceLocation: sourceLocation)
        let cipher = tls?["cipher"]?.stringValue ?? ""
        #expect(cipher.count > 0, "tls.cipher: \(String(describing: tls?["cipher"]))", sourceLocation: sourceLocation)
        let chain = tls?["chain_sha256"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(chain == pki.servedChainSHA256, "tls.chain_sha256 must be the served chain, leaf first", sourceLocation: sourceLocation)
    }

    // MARK: the tests

    @Test("--ca-file: captured (exit 0) with tls {version, cipher, chain_sha256} and the served chain as PEM in the WARC metadata record")
    func capturedWithCAFile() async throws {
        let pki = try TestPKI.make()
        let server = try await HTTPSTestServer.start(pki: pki)
        defer { server.stop() }
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let url = server.baseURL + "/"

        let result = try exhibit.run(["capture", caseID, url, "--ca-file", pki.caPath,
                                      "--allow-network", "127.0.0.1/32", "--reason", "test",
                                      "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)\nserver log: \(server.log())")

        let entries = try captureEntries(ws, caseID)
        #expect(entries.count == 1, "\(entries.map(\.action))")
        let entry = try #require(entries.first { $0.subject?["url"]?.stringValue == url }, "no ledger entry for \(url): \(entries.map(\.subject))")
        #expect(entry.action == "capture", "\(String(describing: entry.subject))")
        let subject = try #require(entry.subject)
        #expect(subject["status"]?.intValue == 200)
        #expect(subject["final_url"]?.stringValue == url)
        #expect(subject["ip"]?.stringValue == "127.0.0.1")
        #expect(subject["title"]?.stringValue == Self.pageTitle)
        expectServedChain(subject, pki)

        // The WARC, read with warcio (not the project's reader).
        let warc = try #require(warcFiles(ws, caseID).first, "no WARC file in \(ws.caseDirectory(caseID))/warc")
        #expect(subject["warc"]?["file"]?.stringValue == "warc/" + (warc as NSString).lastPathComponent)
        let records = try WARCDump.records(warc)
        let listed = subject["records"]?.arrayValue ?? []
        #expect(listed.compactMap { $0["type"]?.stringValue } == ["request", "response", "metadata"])
        let metadataID = try #require(listed.first { $0["type"]?.stringValue == "metadata" }?["id"]?.stringValue)
        let metadata = try #require(records.first { $0.id == metadataID }, "the ledger's metadata record \(metadataID) is not in the WARC")
        #expect(metadata.type == "metadata")
        #expect(metadata.contentType == "application/warc-fields")
        #expect(metadata.targetURI == url)
        let response = try #require(records.first { $0.type == "response" && $0.targetURI == url })
        #expect(metadata.concurrentTo == response.id)
        #expect(response.block.contains(Self.pageMarker))

        let fields = WARCFields.parse(metadata.block)
        // Each served certificate as PEM, in served order, with its fingerprint.
        let pems = fields.values("peer-certificate")
        #expect(pems.count == pki.servedPEMs.count, "metadata record:\n\(metadata.block)")
        for (index, expected) in pki.servedPEMs.enumerated() where index < pems.count {
            let pem = pems[index]
            #expect(pem.contains("-----BEGIN CERTIFICATE-----") && pem.contains("-----END CERTIFICATE-----"), "peer-certificate \(index): \(pem)")
            #expect(TestPKI.normalized(pem) == TestPKI.normalized(expected), "peer-certificate \(index) is not the served certificate")
            #expect(TestPKI.fingerprint(ofPEM: pem) == pki.servedChainSHA256[index])
        }
        #expect(fields.values("peer-certificate-sha256") == pki.servedChainSHA256)
        #expect(fields.values("tls-version") == [subject["tls"]?["version"]?.stringValue ?? "-"])
        #expect(fields.values("tls-cipher") == [subject["tls"]?["cipher"]?.stringValue ?? "-"])
        #expect(fields.values("ip") == ["127.0.0.1"])
        #expect(fields.values("port") == [String(server.port)])

        let check = try Validators.run("warcio", ["check", "-v", warc])
        #expect(check.status == 0, "warcio check failed: \(check.output)")
        #expect(!check.output.contains("no digest to check"), "\(check.output)")
        let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("without --ca-file: certificate verification fails, capture-failed with the TLS reason (exit 6), and verify passes")
    func untrustedCertificateFails() async throws {
        let pki = try TestPKI.make()
        let server = try await HTTPSTestServer.start(pki: pki)
        defer { server.stop() }
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let url = server.baseURL + "/"
        let logBefore = server.log().count

        let result = try exhibit.run(["capture", caseID, url, "--allow-network", "127.0.0.1/32", "--reason", "test",
                                      "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(result.status == 6, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))

        let entries = try captureEntries(ws, caseID)
        #expect(entries.count == 1, "\(entries.map(\.action))")
        let entry = try #require(entries.first { $0.subject?["url"]?.stringValue == url }, "no ledger entry for \(url)")
        #expect(entry.action == "capture-failed", "\(String(describing: entry.subject))")
        let reason = entry.subject?["reason"]?.stringValue ?? ""
        #expect(reason.contains("TLS"), "reason: \(reason)")
        #expect(reason.lowercased().contains("certificate"), "reason: \(reason)")
        #expect(result.stdout.contains("FAILED \(url)"), "\(result.stdout)")
        // Nothing of the refused connection is archived as a capture.
        #expect(try ws.entries(caseID).filter { $0.action == "capture" }.isEmpty)
        #expect(entry.subject?["records"]?.arrayValue?.isEmpty == true)
        // The server saw a handshake the client aborted, never a request.
        let logDuring = String(server.log().dropFirst(logBefore))
        #expect(logDuring.contains("handshake failed"), "\(logDuring)")
        #expect(!logDuring.contains("\"GET "), "\(logDuring)")

        let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("--tls-insecure --reason: captured anyway (exit 0), recorded as a policy-override with the reason")
    func tlsInsecureWithReason() async throws {
        let pki = try TestPKI.make()
        let server = try await HTTPSTestServer.start(pki: pki)
        defer { server.stop() }
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let url = server.baseURL + "/"
        let why = "expired cert on suspect's site"

        let result = try exhibit.run(["capture", caseID, url, "--tls-insecure", "--reason", why,
                                      "--allow-network", "127.0.0.1/32",
                                      "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)\nserver log: \(server.log())")

        let all = try ws.entries(caseID)
        let override = try #require(all.first { $0.action == "policy-override" && $0.subject?["override"]?.stringValue == "tls-insecure" },
                                    "no tls-insecure policy-override entry: \(all.map { "\($0.action) \(String(describing: $0.subject))" })")
        #expect(override.subject?["reason"]?.stringValue == why)
        #expect(override.subject?["urls"]?.arrayValue?.compactMap(\.stringValue) == [url])
        #expect(override.actor == ws.investigatorID)
        let capture = try #require(all.first { $0.action == "capture" && $0.subject?["url"]?.stringValue == url },
                                   "no capture entry: \(all.map(\.action))")
        // The override is on record before anything is fetched.
        #expect(override.seq < capture.seq)
        let subject = try #require(capture.subject)
        #expect(subject["status"]?.intValue == 200)
        // What the site presented is evidence even when it was not trusted.
        expectServedChain(subject, pki)

        let warc = try #require(warcFiles(ws, caseID).first)
        let records = try WARCDump.records(warc)
        let warcinfo = try #require(records.first { $0.type == "warcinfo" })
        #expect(warcinfo.block.contains("tls-insecure"), "warcinfo:\n\(warcinfo.block)")
        #expect(warcinfo.block.contains(why), "warcinfo:\n\(warcinfo.block)")
        let check = try Validators.run("warcio", ["check", "-v", warc])
        #expect(check.status == 0, "warcio check failed: \(check.output)")
        let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("--tls-insecure without --reason is a usage error (exit 2), nothing written")
    func tlsInsecureNeedsReason() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let ledger = ws.caseDirectory(caseID) + "/ledger.jsonl"
        let before = try AtomicFile.read(ledger)
        let result = try exhibit.run(["capture", caseID, "https://127.0.0.1:9/", "--tls-insecure",
                                      "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(result.status == 2, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stderr.contains("--tls-insecure"), "\(result.stderr)")
        #expect(result.stderr.contains("--reason"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
        #expect(try AtomicFile.read(ledger) == before)
        #expect(warcFiles(ws, caseID).isEmpty)
    }
}

extension HTTPSCaptureTests {
    // MARK: - Test PKI (openssl command line)

    /// A test CA and a server certificate for 127.0.0.1 signed by it, in a
    /// temporary directory. `chain.pem` (leaf + CA) is what the server presents.
    struct TestPKI: Sendable {
        let directory: TemporaryDirectory
        var caPath: String { directory.child("ca.pem") }
        var leafPath: String { directory.child("server.pem") }
        var keyPath: String { directory.child("server.key") }
        var chainPath: String { directory.child("chain.pem") }
        /// The served certificates as PEM, leaf first.
        let servedPEMs: [String]
        /// Their SHA-256 fingerprints (`openssl x509 -fingerprint -sha256`), lowercase hex, leaf first.
        let servedChainSHA256: [String]

        static let openssl = "/usr/bin/openssl"

        static func make() throws -> TestPKI {
            guard FileManager.default.isExecutableFile(atPath: openssl) else {
                throw TestFailure("the openssl command line tool is missing at \(openssl); install the openssl package")
            }
            let directory = TemporaryDirectory("exhibit-https-pki")
            let path = directory.child
            try Data("""
                subjectAltName = IP:127.0.0.1
                basicConstraints = critical,CA:FALSE
                keyUsage = critical,digitalSignature,keyEncipherment
                extendedKeyUsage = serverAuth

                """.utf8).write(to: URL(fileURLWithPath: path("server.ext")))
            let steps: [[String]] = [
                ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"),
                 "-days", "30", "-subj", "/CN=Exhibit HTTPS Test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"),
                 "-subj", "/CN=127.0.0.1"],
                ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                 "-CAcreateserial", "-out", path("server.pem"), "-days", "30", "-extfile", path("server.ext")],
                // The leaf really is valid for 127.0.0.1 under the CA (a broken fixture is not Exhibit's fault).
                ["verify", "-CAfile", path("ca.pem"), "-verify_ip", "127.0.0.1", "-purpose", "sslserver", path("server.pem")],
            ]
            for step in steps {
                let result = try Command.run(openssl, step)
                guard result.status == 0 else {
                    throw TestFailure("openssl \(step.joined(separator: " ")) failed: \(result.output)")
                }
            }
            let leaf = try String(contentsOfFile: path("server.pem"), encoding: .utf8)
            let ca = try String(contentsOfFile: path("ca.pem"), encoding: .utf8)
            try Data((leaf + ca).utf8).write(to: URL(fileURLWithPath: path("chain.pem")))
            var fingerprints: [String] = []
            for file in [path("server.pem"), path("ca.pem")] {
                let result = try Command.run(openssl, ["x509", "-noout", "-fingerprint", "-sha256", "-in", file])
                guard result.status == 0, let equals = result.output.firstIndex(of: "=") else {
                    throw TestFailure("openssl x509 -fingerprint failed on \(file): \(result.output)")
                }
                let hex = result.output[result.output.index(after: equals)...]
                    .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
                guard hex.count == 64 else { throw TestFailure("unexpected fingerprint output: \(result.output)") }
                fingerprints.append(hex)
            }
            let pki = TestPKI(directory: directory, servedPEMs: [leaf, ca], servedChainSHA256: fingerprints)
            // Cross-check: hashing the DER gives the same fingerprints.
            guard pki.servedPEMs.map(fingerprint(ofPEM:)) == fingerprints else {
                throw TestFailure("DER hashes disagree with openssl's fingerprints")
            }
            return pki
        }

        /// The base64 body of a PEM certificate, all whitespace removed.
        static func normalized(_ pem: String) -> String {
            pem.components(separatedBy: .newlines)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("-----") }
                .joined()
        }

        /// SHA-256 over the DER inside a PEM certificate, lowercase hex.
        static func fingerprint(ofPEM pem: String) -> String {
            guard let der = Data(base64Encoded: normalized(pem)) else { return "(not base64)" }
            return Digest.sha256Hex(Array(der))
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: - HTTPS server on loopback (python3 http.server + ssl)

    /// A python3 `http.server` wrapped in TLS with the test chain, serving a
    /// directory with an index.html on an ephemeral port of 127.0.0.1. Stopped with
    /// SIGKILL (children of the test runner inherit its blocked signal mask).
    final class HTTPSTestServer: @unchecked Sendable {
        let port: Int
        let process: RunningProcess
        let logPath: String
        /// Holds the certificates, the site and the log until the server is stopped.
        let directory: TemporaryDirectory
        var baseURL: String { "https://127.0.0.1:\(port)" }

        private init(port: Int, process: RunningProcess, logPath: String, directory: TemporaryDirectory) {
            self.port = port
            self.process = process
            self.logPath = logPath
            self.directory = directory
        }

        static let script = """
            import functools, http.server, signal, ssl, sys
            chain, key, root = sys.argv[1], sys.argv[2], sys.argv[3]
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(chain, key)

            class Handler(http.server.SimpleHTTPRequestHandler):
                # "keep-alive": HTTP/1.1, so a client may send its next request on the connection.
                protocol_version = "HTTP/1.1" if sys.argv[4:] == ["keep-alive"] else "HTTP/1.0"

            handler = functools.partial(Handler, directory=root)

            class Server(http.server.ThreadingHTTPServer):
                daemon_threads = True
                # The TLS handshake runs in the request's thread, so a client that
                # aborts it (an untrusted certificate) never stalls the accept loop.
                def finish_request(self, request, client_address):
                    try:
                        tls = context.wrap_socket(request, server_side=True)
                    except OSError as error:
                        sys.stderr.write("handshake failed: %r\\n" % (error,))
                        sys.stderr.flush()
                        return
                    try:
                        self.RequestHandlerClass(tls, client_address, self)
                    finally:
                        tls.close()

            server = Server(("127.0.0.1", 0), handler)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """

        /// `keepAlive`: answers in HTTP/1.1 and keeps each connection open for the next request.
        static func start(pki: TestPKI, keepAlive: Bool = false) async throws -> HTTPSTestServer {
            let python = try Validators.path(of: "python3")
            let directory = pki.directory
            let root = directory.child("site")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Data("""
                <!DOCTYPE html>
                <html><head><meta charset="utf-8"><title>\(HTTPSCaptureTests.pageTitle)</title></head>
                <body><p>\(HTTPSCaptureTests.pageMarker)</p></body></html>

                """.utf8).write(to: URL(fileURLWithPath: root + "/index.html"))
            let scriptPath = directory.child("https_server.py")
            try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
            let logPath = directory.child("server.log")
            // The runner clears the signal mask inherited from the test runner.
            let process = try ChildProcess(python, [scriptPath, pki.chainPath, pki.keyPath, root] + (keepAlive ? ["keep-alive"] : []),
                                           directory: directory.path,
                                           stdout: .collect, stderr: .file(logPath), clearsSignalMask: true).start()

            func fail(_ message: String) -> TestFailure {
                process.killAndWait()
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                return TestFailure("\(message); server log: \(log)")
            }
            // From here on every way out either returns the server or kills it.
            // The port the script printed.
            let line = try await Blocking.run { process.firstLine(timeout: .seconds(10)) }
            guard let line, let port = Int(line.trimmingCharacters(in: .whitespaces)), port > 0 else {
                throw fail("the HTTPS test server did not print its port")
            }
            // It accepts connections and serves the page under the test CA.
            let curl = "/usr/bin/curl"
            guard FileManager.default.isExecutableFile(atPath: curl) else { throw fail("curl is missing at \(curl)") }
            let target = "https://127.0.0.1:\(port)/"
            var last = ""
            let served = await poll(until: {
                let probe = (try? Command.run(curl, ["-sS", "--max-time", "5", "--noproxy", "*", "--cacert", pki.caPath, target]))
                    ?? (status: -1, output: "curl could not be started")
                last = probe.output
                return (probe.status == 0 && probe.output.contains(HTTPSCaptureTests.pageMarker)) || !process.isRunning
            }, timeout: .seconds(20), interval: .milliseconds(100))
            if served && process.isRunning {
                return HTTPSTestServer(port: port, process: process, logPath: logPath, directory: directory)
            }
            throw fail("the HTTPS test server on port \(port) did not serve the page: \(last)")
        }

        /// What the server wrote to stderr (requests and handshake failures).
        func log() -> String {
            (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        }

        func stop() {
            process.killAndWait()
            withExtendedLifetime(directory) {}
        }
    }

    // MARK: - Reading the WARC with warcio

    struct DumpedRecord: Sendable {
        var type: String
        var id: String
        var targetURI: String?
        var contentType: String?
        var concurrentTo: String?
        /// The record block as text (for response records, the HTTP payload).
        var block: String
    }

    /// Reads every record of a WARC file with the venv's warcio.
    enum WARCDump {
        static let script = """
            import json, sys
            from warcio.archiveiterator import ArchiveIterator
            out = []
            with open(sys.argv[1], "rb") as stream:
                for record in ArchiveIterator(stream):
                    headers = record.rec_headers
                    out.append({
                        "type": headers.get_header("WARC-Type"),
                        "id": headers.get_header("WARC-Record-ID"),
                        "target": headers.get_header("WARC-Target-URI"),
                        "content_type": headers.get_header("Content-Type"),
                        "concurrent_to": headers.get_header("WARC-Concurrent-To"),
                        "block": record.content_stream().read().decode("utf-8", "replace"),
                    })
            print(json.dumps(out))
            """

        static func records(_ warc: String) throws -> [DumpedRecord] {
            let result = try Validators.run("python3", ["-c", script, warc])
            guard result.status == 0 else { throw TestFailure("warcio could not read \(warc): \(result.output)") }
            let json = try JSONValue(parsing: result.output)
            return (json.arrayValue ?? []).map {
                DumpedRecord(
                    type: $0["type"]?.stringValue ?? "", id: $0["id"]?.stringValue ?? "",
                    targetURI: $0["target"]?.stringValue, contentType: $0["content_type"]?.stringValue,
                    concurrentTo: $0["concurrent_to"]?.stringValue, block: $0["block"]?.stringValue ?? "")
            }
        }
    }

    /// `application/warc-fields`: `name: value` lines, continuation lines start
    /// with a space or tab and are unfolded to newlines.
    struct WARCFields {
        var fields: [(String, String)]

        static func parse(_ text: String) -> WARCFields {
            var fields: [(String, String)] = []
            // By scalars: Swift's Character treats "\r\n" as one, so split on CR and LF alike.
            for line in text.components(separatedBy: .newlines) {
                if line.isEmpty { continue }
                if line.first == " " || line.first == "\t" {
                    if !fields.isEmpty {
                        fields[fields.count - 1].1 += "\n" + line.trimmingCharacters(in: .whitespaces)
                    }
                    continue
                }
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            return WARCFields(fields: fields)
        }

        func values(_ name: String) -> [String] {
            fields.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
        }
    }
}
