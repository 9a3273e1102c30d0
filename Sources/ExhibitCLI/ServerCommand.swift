import ArgumentParser
import ChainOfCustody
import EvidenceServer
import Foundation
import LoopbackServer

/// `exhibit server`: the agency's evidence server on PostgreSQL (DESIGN §22, docs/server.md).
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the evidence server: the agency's copy of record of every case, on PostgreSQL and a file store.",
        discussion: """
        Applies the schema migrations, then prints `Serving URL` as its first line and serves until \
        SIGINT or SIGTERM. Without --tls-cert/--tls-key it serves plain HTTP on a loopback address \
        only (tests, or behind a local TLS proxy); any other --bind needs TLS. `--check` reports the \
        schema version, the store's health and the supervisor trusted on first use, and exits 0 \
        when healthy, 1 when not. See docs/server.md.
        """)

    @Option(name: .long, help: "The PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.") var database: String
    @Option(name: .long, help: "The content-addressed file store directory.") var store: String
    @Option(name: .long, help: "The address to listen on (default 127.0.0.1; a non-loopback one needs TLS).") var bind: String = "127.0.0.1"
    @Option(name: .long, help: "The TCP port (default 8443; 0 picks a free one).") var port: Int = 8443
    @Option(name: .customLong("tls-cert"), help: "The server's certificate chain (PEM).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The server certificate's private key (PEM).") var tlsKey: String?
    @Flag(name: .long, help: "Report the schema version, store health and first supervisor, and exit.") var check = false
    @Flag(name: .long, help: "Print JSON instead of text.") var json = false

    func run() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port takes 0 to 65535, not \(port).") }
        if tlsCert == nil, tlsKey == nil, LoopbackHost(bind) == nil {
            throw ValidationError("--bind \(bind) is not a loopback address: serving on it needs --tls-cert and --tls-key.")
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together.") }
        let database = database
        let store = store
        if check {
            let health = try LoopbackServer.blocking { () async throws(ExhibitError) -> EvidenceServer.Health in
                try await EvidenceServer.check(databaseURL: database, storePath: store)
            }
            if json {
                var object: [String: JSONValue] = [
                    "schema_version": health.schemaVersion.map { .integer(Int64($0)) } ?? .null,
                    "latest_schema_version": .integer(Int64(health.latestSchemaVersion)),
                    "cases": .integer(Int64(health.cases)), "entries": .integer(Int64(health.entries)),
                    "files": .integer(Int64(health.files)), "missing_files": .array(health.missingFiles.map { .string($0) }),
                    "store_writable": .bool(health.storeWritable), "healthy": .bool(health.healthy),
                ]
                object["first_supervisor"] = health.firstSupervisor.map { .string($0) } ?? .null
                print(String(decoding: try JSONValue.object(object).canonicalBytes(), as: UTF8.self))
            } else {
                Console.line("schema version \(health.schemaVersion.map(String.init) ?? "none") (latest \(health.latestSchemaVersion))")
                Console.line("store \(store): \(health.storeWritable ? "writable" : "NOT writable"), \(health.files) files, \(health.missingFiles.count) missing")
                Console.line("\(health.cases) cases, \(health.entries) ledger entries")
                Console.line("first supervisor: \(health.firstSupervisor ?? "none registered yet")")
                Console.line(health.healthy ? "healthy" : "NOT healthy")
            }
            if !health.healthy { throw ExitCode(1) }
            return
        }
        let configuration = EvidenceServer.Configuration(databaseURL: database, storePath: store, bind: bind, port: port,
                                                         tlsCertificate: tlsCert, tlsKey: tlsKey)
        let json = json
        try LoopbackServer.blocking { () async throws(ExhibitError) in
            try await EvidenceServer.run(configuration) { url, applied in
                if json {
                    Console.line("{\"url\":\"\(url)\",\"migrations_applied\":[\(applied.map(String.init).joined(separator: ","))]}")
                } else {
                    Console.line("Serving \(url)\(applied.isEmpty ? "" : " (schema migrations applied: \(applied.map(String.init).joined(separator: ", ")))") — Ctrl-C to stop")
                }
                fflush(nil)
            }
        }
    }
}
