import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

extension EvidenceServerTests {
    /// Faults during a push: whatever breaks, the server's case is at its old head or the
    /// new one, never between, and the push tried again succeeds (DESIGN §22).
    @Suite("evidence server faults")
    struct Faults {
        typealias Fixture = EvidenceServerFixture

        /// A pushed case, then 300 notes and a 32 MiB imported file not yet pushed: a
        /// push that takes long enough to be interrupted. Returns the case and both heads.
        func preparedCase(_ ws: TestWorkspace, url: String, scratch: TemporaryDirectory) throws -> (caseID: String, old: String, new: String) {
            #expect(try Fixture.run(["remote", "add", "hq", url], in: ws.root, as: ws.supervisorID).status == 0)
            let caseID = try ws.openCase()
            let first = try Fixture.run(["push", caseID], in: ws.root, as: ws.investigatorID)
            #expect(first.status == 0, "\(first.stderr)")
            let old = try Fixture.localHead(ws, caseID)
            let big = scratch.child("big.bin")
            var generator = SeededRandom(seed: 24)
            FileManager.default.createFile(atPath: big, contents: Data(generator.bytes(32 << 20)))
            let imported = try Fixture.run(["import", caseID, big, "--source", "test"], in: ws.root, as: ws.investigatorID)
            #expect(imported.status == 0, "\(imported.stderr)")
            try Fixture.addNotes(300, to: caseID, in: ws, as: ws.investigatorID)
            return (caseID, old, try Fixture.localHead(ws, caseID))
        }

        /// Starts a push and calls `fault` once the server is verifying it (its staging copy
        /// exists, inside the open transaction) or the push has ended; returns how it ended.
        func push(_ caseID: String, _ ws: TestWorkspace, store: String, fault: () throws -> Void) async throws -> ChildProcess.Finished {
            let push = try ChildProcess(ExhibitProcess.binaryPath, ["push", caseID, "--workspace", ws.root, "--actor", ws.investigatorID]).start()
            _ = await poll(until: {
                ((try? FileManager.default.contentsOfDirectory(atPath: store + "/staging")) ?? []).contains { !$0.hasPrefix(".") } || !push.isRunning
            }, timeout: .seconds(90))
            try fault()
            return try await push.waitAsync(timeout: .seconds(180))
        }

        func retryAndClone(_ caseID: String, _ ws: TestWorkspace, postgres: PostgresCluster, newHead: String) throws {
            let retried = try Fixture.run(["push", caseID], in: ws.root, as: ws.investigatorID)
            #expect(retried.status == 0, "\(retried.stderr)")
            try Fixture.expectWhole(postgres, caseID, oneOf: [newHead])
            let other = try Fixture.workstation(from: ws, keys: [ws.supervisorID], label: "exhibit-ws-clone")
            let clone = try Fixture.run(["clone", caseID], in: other.root, as: other.supervisorID)
            #expect(clone.status == 0, "\(clone.stderr)")
            let verified = try Fixture.exhibit.run(["verify", caseID, "--workspace", other.root])
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        }

        @Test("the server SIGKILLed mid-push")
        func killedMidPush() async throws {
            try await withPostgres { postgres in
                let scratch = TemporaryDirectory("exhibit-store")
                let store = scratch.child("store")
                let (server, url) = try Fixture.startServer(database: postgres.url, store: store)
                let ws = try TestWorkspace()
                let (caseID, old, new) = try preparedCase(ws, url: url, scratch: scratch)
                let interrupted = try await push(caseID, ws, store: store) {
                    server.signal(SIGKILL)
                    _ = server.wait(timeout: .seconds(30))
                }
                #expect(interrupted.status != 0 || !server.isRunning)
                try Fixture.expectWhole(postgres, caseID, oneOf: [old, new])
                if interrupted.status == 0 { #expect(try Fixture.serverHead(postgres, caseID) == new) }
                let (restarted, newURL) = try Fixture.startServer(database: postgres.url, store: store)
                defer { restarted.signal(SIGTERM); restarted.wait(timeout: .seconds(30)) }
                try Fixture.repoint(ws, to: newURL)
                try retryAndClone(caseID, ws, postgres: postgres, newHead: new)
            }
        }

        @Test("PostgreSQL restarted (pg_ctl restart -m fast) mid-push")
        func postgresRestartedMidPush() async throws {
            try await Fixture.withServer { postgres, url, store in
                let scratch = TemporaryDirectory("exhibit-scratch")
                let ws = try TestWorkspace()
                let (caseID, old, new) = try preparedCase(ws, url: url, scratch: scratch)
                let interrupted = try await push(caseID, ws, store: store) { try postgres.restart() }
                try Fixture.expectWhole(postgres, caseID, oneOf: [old, new])
                if interrupted.status != 0 {
                    #expect(interrupted.stderrText.split(separator: "\n").count == 1, "\(interrupted.stderrText)")
                }
                // The same server reconnects to the restarted database.
                try retryAndClone(caseID, ws, postgres: postgres, newHead: new)
            }
        }

        @Test("the connection cut mid-upload")
        func connectionCutMidUpload() async throws {
            try await Fixture.withServer { postgres, url, _ in
                let scratch = TemporaryDirectory("exhibit-scratch")
                let ws = try TestWorkspace()
                let (caseID, old, new) = try preparedCase(ws, url: url, scratch: scratch)
                // A TCP relay that cuts the upload after 8 MiB from the client.
                let port = try freeLoopbackPort()
                let serverPort = url.split(separator: ":").last.map(String.init) ?? ""
                let relay = try ChildProcess(try Validators.path(of: "python3"), ["-c", Self.cuttingRelay, "\(port)", serverPort, "\(8 << 20)"]).start()
                defer { relay.killAndWait() }
                #expect(relay.firstLine(timeout: .seconds(30)) == "listening")
                try Fixture.repoint(ws, to: "http://127.0.0.1:\(port)")
                let cut = try Fixture.run(["push", caseID], in: ws.root, as: ws.investigatorID)
                #expect(cut.status == 5, "\(cut.stdout)\(cut.stderr)")
                #expect(cut.stderr.split(separator: "\n").count == 1, "\(cut.stderr)")
                try Fixture.expectWhole(postgres, caseID, oneOf: [old])
                // Through the relay again (it cuts only once).
                try retryAndClone(caseID, ws, postgres: postgres, newHead: new)
            }
        }

        /// argv: listen port, server port, bytes from the client after which the first
        /// connection to carry that many is cut (the upload; the requests before it are small).
        static let cuttingRelay = """
            import socket, struct, sys, threading
            listen_port, server_port, limit = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
            listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", listen_port)); listener.listen(16)
            print("listening", flush=True)
            state = {"cut": False}
            def pump(source, sink, upload):
                sent = 0
                try:
                    while True:
                        data = source.recv(65536)
                        if not data: break
                        if upload and not state["cut"] and sent + len(data) > limit:
                            state["cut"] = True
                            sink.sendall(data[:limit - sent])
                            # A cut, not a stall: the client's end is reset (linger 0), so
                            # the client learns at once instead of waiting on a full window.
                            source.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                            sink.shutdown(socket.SHUT_RDWR); source.close(); return
                        sink.sendall(data); sent += len(data)
                except OSError: pass
                for s in (source, sink):
                    try: s.shutdown(socket.SHUT_RDWR)
                    except OSError: pass
            while True:
                client, _ = listener.accept()
                upstream = socket.create_connection(("127.0.0.1", server_port))
                threading.Thread(target=pump, args=(client, upstream, True), daemon=True).start()
                threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()
            """
    }
}
