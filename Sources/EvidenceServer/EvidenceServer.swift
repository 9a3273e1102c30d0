import CaseIndex
public import CaseManagement
public import ChainOfCustody
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import LoopbackServer
import NIOCore
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// The evidence server (DESIGN §22): the agency's copy of record of every case, on
/// PostgreSQL and a content-addressed file store. Workstations push signed ledgers to it
/// fast-forward only, pull and clone from it, and search every case their roles allow.
public enum EvidenceServer {
    public struct Configuration: Sendable {
        public var databaseURL: String
        public var storePath: String
        public var bind: String
        public var port: Int
        public var tlsCertificate: String?
        public var tlsKey: String?

        public init(databaseURL: String, storePath: String, bind: String = "127.0.0.1", port: Int = 8443,
                    tlsCertificate: String? = nil, tlsKey: String? = nil) {
            self.databaseURL = databaseURL
            self.storePath = storePath
            self.bind = bind
            self.port = port
            self.tlsCertificate = tlsCertificate
            self.tlsKey = tlsKey
        }
    }

    /// What the server's self-check reports (schema, store health, first supervisor).
    public struct Health: Sendable {
        public var schemaVersion: Int?
        public var latestSchemaVersion: Int
        public var cases: Int
        public var entries: Int
        public var files: Int
        public var missingFiles: [String]
        public var storeWritable: Bool
        /// "a-0001 (Name), trusted on first use at TIME", or nil when no supervisor registered yet.
        public var firstSupervisor: String?
        public var healthy: Bool { schemaVersion == latestSchemaVersion && missingFiles.isEmpty && storeWritable }
    }

    /// Checks the database and the store without serving; applies no migration.
    public static func check(databaseURL: String, storePath: String) async throws(ExhibitError) -> Health {
        let database = try ServerDatabase(url: databaseURL)
        let store = EvidenceStore(root: storePath)
        return try await withDatabase(database) { () async throws -> Health in
            let version = try await database.schemaVersion()
            var health = Health(schemaVersion: version, latestSchemaVersion: ServerSchema.latestVersion, cases: 0, entries: 0,
                                files: 0, missingFiles: [], storeWritable: (try? store.prepare()) != nil)
            guard version != nil, version! >= 1 else { return health }
            for try await count in try await database.client.query("SELECT count(*) FROM cases", logger: database.logger).decode(Int.self) { health.cases = count }
            for try await count in try await database.client.query("SELECT count(*) FROM ledger_entries", logger: database.logger).decode(Int.self) { health.entries = count }
            var files: [(sha256: String, size: Int64)] = []
            for try await (sha, size) in try await database.client.query("SELECT DISTINCT sha256, size FROM case_files", logger: database.logger).decode((String, Int64).self) {
                files.append((sha, size))
            }
            health.files = files.count
            health.missingFiles = store.missing(files)
            if let first = try await database.firstSupervisor() {
                let name = (try? JSONDecoder().decode(Actor.self, from: Data(first.record.utf8)).name) ?? first.id
                health.firstSupervisor = "\(first.id) (\(name)), trusted on first use at \(first.registeredAt)"
            }
            return health
        }
    }

    /// Runs `body` with the database client running, and stops it after.
    static func withDatabase<T: Sendable>(_ database: ServerDatabase, _ body: @Sendable () async throws -> T) async throws(ExhibitError) -> T {
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    await database.client.run()
                    return nil
                }
                defer { group.cancelAll() }
                return try await body()
            }
        } catch let error as ExhibitError {
            throw error
        } catch {
            throw ExhibitError(.storage, "The database cannot be used: \(ServerDatabase.sentence(error)).", cause: nil)
        }
    }

    /// Applies migrations, then serves until SIGINT or SIGTERM. `onListening` gets the
    /// base URL once the server listens. Without a certificate only a loopback address may
    /// be bound (plain HTTP for tests or behind a local TLS proxy); any other needs TLS.
    public static func run(_ configuration: Configuration, onListening: @escaping @Sendable (String, [Int]) -> Void) async throws(ExhibitError) {
        let loopback = LoopbackHost(configuration.bind)
        let tls = configuration.tlsCertificate != nil || configuration.tlsKey != nil
        if tls, configuration.tlsCertificate == nil || configuration.tlsKey == nil {
            throw ExhibitError(.usage, "TLS needs both a certificate and its private key.")
        }
        if loopback == nil, !tls {
            throw ExhibitError(.usage, "The evidence server serves plain HTTP only on a loopback address (127.0.0.0/8 or ::1); \(configuration.bind) needs a TLS certificate and key.")
        }
        let store = EvidenceStore(root: configuration.storePath)
        try store.prepare()
        // A PostgresClient runs once: one for the migrations, another for serving.
        let setup = try ServerDatabase(url: configuration.databaseURL)
        let (applied, keyPEM) = try await withDatabase(setup) { () async throws -> ([Int], String) in
            (try await setup.migrate(), try await setup.serverKey())
        }
        let database = try ServerDatabase(url: configuration.databaseURL)
        let scheme = tls ? "https" : "http"
        let routes = ServerRoutes(database: database, store: store, scheme: scheme, serverKeyPEM: keyPEM)
        let router = Router()
        routes.register(on: router)
        let logger = Logger(label: "exhibit.server", factory: { _ in SwiftLogNoOpLogHandler() })
        let host = loopback?.urlHost ?? (configuration.bind.contains(":") ? "[\(configuration.bind)]" : configuration.bind)
        let applicationConfiguration = ApplicationConfiguration(
            address: .hostname(configuration.bind, port: configuration.port), serverName: "Exhibit-Evidence-Server")
        let listening: @Sendable (any Channel) async -> Void = { channel in
            onListening("\(scheme)://\(host):\(channel.localAddress?.port ?? configuration.port)", applied)
        }
        do {
            if tls, let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
                let tlsConfiguration: TLSConfiguration
                do {
                    let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
                    let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                    tlsConfiguration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
                } catch {
                    throw ExhibitError(.usage, "The TLS certificate \(certificate) or key \(key) cannot be read: \(error).")
                }
                let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tlsConfiguration),
                                      configuration: applicationConfiguration, services: [database.client],
                                      onServerRunning: listening, logger: logger)
                try await app.runService()
            } else {
                let app = Application(router: router, server: .http1(), configuration: applicationConfiguration,
                                      services: [database.client], onServerRunning: listening, logger: logger)
                try await app.runService()
            }
        } catch let error as ExhibitError {
            throw error
        } catch {
            throw ExhibitError(.storage, "The evidence server stopped: \(error).")
        }
    }
}
