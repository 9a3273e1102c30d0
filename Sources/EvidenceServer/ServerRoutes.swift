import CaseIndex
import CaseManagement
import ChainOfCustody
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO

/// A refusal the server answers with: a status and one sentence, sent as `{"error": …}`.
struct ServerRefusal: Error {
    var status: HTTPResponse.Status
    var sentence: String
}

/// The evidence server's HTTP routes (docs/server.md lists them). Every route but
/// `/v1/status` needs a request signed by a registered actor (RFC 9421), seen once.
struct ServerRoutes: Sendable {
    let database: ServerDatabase
    let store: EvidenceStore
    let scheme: String
    let serverKeyPEM: String

    /// The largest push body accepted (entries and files of one push).
    static let maximumBody = 2 << 30

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/status") { _, _ in await respond { try await status() } }
        router.get("/v1/actors") { request, _ in await respond { try await actors(request) } }
        router.post("/v1/actors") { request, _ in await respond { try await registerActors(request) } }
        router.get("/v1/cases/:case/head") { request, context in await respond { try await head(request, caseID: try caseParameter(context)) } }
        router.get("/v1/cases/:case") { request, context in await respond { try await caseContents(request, caseID: try caseParameter(context)) } }
        router.get("/v1/cases/:case/files/:sha") { request, context in
            await respond { try await file(request, caseID: try caseParameter(context), sha256: context.parameters.get("sha") ?? "") }
        }
        router.post("/v1/cases/:case/push") { request, context in await respond { try await push(request, caseID: try caseParameter(context)) } }
        router.post("/v1/search") { request, _ in await respond { try await search(request) } }
    }

    // MARK: Plumbing

    func caseParameter(_ context: BasicRequestContext) throws -> String {
        guard let caseID = context.parameters.get("case"), CaseStore.isValidCaseID(caseID) else {
            throw ServerRefusal(status: .badRequest, sentence: "The case id in the address is not a case id (PREFIX-YEAR-NNNN).")
        }
        return caseID
    }

    func respond(_ body: () async throws -> Response) async -> Response {
        do {
            do {
                return try await body()
            } catch let failed as PostgresTransactionError {
                // A refusal thrown inside a transaction arrives wrapped; the rollback already happened.
                throw failed.closureError ?? failed
            }
        } catch let refusal as ServerRefusal {
            return Self.json(["error": .string(refusal.sentence)], status: refusal.status)
        } catch let refusal as MessageSignature.Refusal {
            return Self.json(["error": .string(refusal.sentence)], status: .unauthorized)
        } catch let error as ExhibitError {
            return Self.json(["error": .string(error.message)], status: error.code == .notPermitted ? .forbidden : .unprocessableContent)
        } catch {
            return Self.json(["error": .string("The evidence server could not do this: \(ServerDatabase.sentence(error)).")], status: .serviceUnavailable)
        }
    }

    static func json(_ object: [String: JSONValue], status: HTTPResponse.Status = .ok) -> Response {
        let bytes = (try? JSONValue.object(object).canonicalBytes()) ?? Array("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The signed request's actor, after its signature, age and novelty are checked.
    func authenticate(_ request: Request, body: [UInt8], allowUnknown: [String: String] = [:]) async throws -> (actor: Actor, registered: Bool) {
        let target = "\(scheme)://\(request.head.authority ?? "")\(request.uri.description)"
        let signature = try await MessageSignature.verify(
            method: request.method.rawValue, targetURI: target, body: body,
            header: { name in HTTPField.Name(name).flatMap { request.headers[$0] } },
            publicKeyPEM: { id in
                if let registered = try await database.actor(id) { return registered.publicKey }
                return allowUnknown[id]
            })
        guard try await database.recordSignature(signature.signature) else {
            throw ServerRefusal(status: .unauthorized, sentence: "This signed request was sent before: the evidence server accepts each signature once (a replayed request is refused).")
        }
        if let registered = try await database.actor(signature.keyID) {
            return (try Self.actor(from: registered.record), true)
        }
        guard let record = allowUnknown[signature.keyID + "#record"] else { throw MessageSignature.Refusal.unknownActor(signature.keyID) }
        return (try Self.actor(from: record), false)
    }

    static func actor(from record: String) throws -> Actor {
        do {
            return try JSONDecoder().decode(Actor.self, from: Data(record.utf8))
        } catch {
            throw ServerRefusal(status: .badRequest, sentence: "An actor record cannot be read: \(error.localizedDescription)")
        }
    }

    func body(_ request: Request) async throws -> [UInt8] {
        var request = request
        let buffer = try await request.collectBody(upTo: Self.maximumBody)
        return Array(buffer.readableBytesView)
    }

    /// Refuses (403, one sentence) unless the actor holds one of `roles`.
    func require(_ actor: Actor, anyOf permissions: [Permission], doing what: String) throws {
        guard !permissions.contains(where: { $0.allows(actor) }) else { return }
        let roles = Set(permissions.flatMap(\.roles)).map(\.rawValue).sorted()
        throw ServerRefusal(status: .forbidden, sentence: "Actor \(actor.id) (\(actor.name)) may not \(what) on the evidence server: that needs one of the roles \(roles.joined(separator: ", ")), which this actor does not hold.")
    }

    /// Background-investigation cases are never shown to an actor holding decision-maker (DESIGN §23).
    func mayRead(_ actor: Actor, caseID: String) -> Bool {
        !(actor.has(.decisionMaker) && caseID.hasPrefix("BI-"))
    }

    // MARK: Routes

    func status() async throws -> Response {
        let version = try await database.schemaVersion()
        var object: [String: JSONValue] = [
            "server_key": .string(try SigningKey(pem: serverKeyPEM).publicKeyPEM()),
            "schema_version": .integer(Int64(version ?? 0)),
        ]
        if let first = try await database.firstSupervisor() { object["first_supervisor"] = .string(first.id) }
        return Self.json(object)
    }

    func actors(_ request: Request) async throws -> Response {
        _ = try await authenticate(request, body: try await body(request))
        let list = try await database.actors().map { registered -> JSONValue in
            (try? JSONValue(parsing: Array(registered.record.utf8))) ?? .null
        }
        return Self.json(["actors": .array(list)])
    }

    /// Registers actors signed by a registered supervisor; the first supervisor to register
    /// is trusted on first use (recorded as such, and shown by the server's self-check).
    func registerActors(_ request: Request) async throws -> Response {
        let bytes = try await body(request)
        guard let json = try? JSONValue(parsing: bytes), let list = json["actors"]?.arrayValue else {
            throw ServerRefusal(status: .badRequest, sentence: "The registration is not a JSON object with a list of actors.")
        }
        var offered: [Actor] = []
        for item in list {
            let record = String(decoding: (try? item.canonicalBytes()) ?? [], as: UTF8.self)
            let actor = try Self.actor(from: record)
            guard ActorRegistry.isValidID(actor.id), (try? VerifyingKey(pem: actor.publicKey)) != nil else {
                throw ServerRefusal(status: .badRequest, sentence: "Actor \(actor.id) has no valid id or Ed25519 public key.")
            }
            offered.append(actor)
        }
        let firstUse = try await database.firstSupervisor() == nil
        var unknown: [String: String] = [:]
        if firstUse {
            for actor in offered {
                unknown[actor.id] = actor.publicKey
                unknown[actor.id + "#record"] = String(decoding: try JSONEncoder().encode(actor), as: UTF8.self)
            }
        }
        let (signer, _) = try await authenticate(request, body: bytes, allowUnknown: unknown)
        try require(signer, anyOf: [.manageActors], doing: "register actors")
        let registered = try await database.client.withTransaction(logger: database.logger) { connection -> [String] in
            try await connection.query("SELECT pg_advisory_xact_lock(7345102025)", logger: database.logger)
            var anyone = false
            for try await _ in try await connection.query("SELECT 1 FROM actors WHERE trust = 'first-use'", logger: database.logger) { anyone = true }
            if firstUse, anyone {
                throw ServerRefusal(status: .conflict, sentence: "Another supervisor registered first while this request ran; send it again, signed by a registered supervisor.")
            }
            if !firstUse {
                var signerIsRegisteredSupervisor = false
                for try await roles in try await connection.query("SELECT roles FROM actors WHERE id = \(signer.id)", logger: database.logger).decode([String].self) {
                    signerIsRegisteredSupervisor = roles.contains(Role.supervisor.rawValue)
                }
                guard signerIsRegisteredSupervisor else {
                    throw ServerRefusal(status: .forbidden, sentence: "Only a supervisor registered on this evidence server may register actors.")
                }
            }
            var ids: [String] = []
            for actor in offered {
                let record = String(decoding: try JSONEncoder().encode(actor), as: UTF8.self)
                var existingKey: String?
                for try await key in try await connection.query("SELECT public_key FROM actors WHERE id = \(actor.id)", logger: database.logger).decode(String.self) { existingKey = key }
                if let existingKey {
                    guard existingKey == actor.publicKey else {
                        throw ServerRefusal(status: .conflict, sentence: "Actor \(actor.id) is already registered on this evidence server with another key: a workspace that made its own \(actor.id) must take its actors from the agency's supervisor.")
                    }
                    try await connection.query("UPDATE actors SET roles = \(actor.roles.map(\.rawValue)), record = \(record)::jsonb WHERE id = \(actor.id)", logger: database.logger)
                } else {
                    let trust = firstUse && actor.id == signer.id ? "first-use" : "signed by \(signer.id)"
                    try await connection.query("""
                        INSERT INTO actors (id, public_key, roles, record, trust, registered_by)
                        VALUES (\(actor.id), \(actor.publicKey), \(actor.roles.map(\.rawValue)), \(record)::jsonb, \(trust), \(signer.id))
                        """, logger: database.logger)
                    ids.append(actor.id)
                }
            }
            return ids
        }
        return Self.json(["registered": .array(registered.map { .string($0) }), "trusted_on_first_use": .bool(firstUse)])
    }

    func head(_ request: Request, caseID: String) async throws -> Response {
        let (actor, _) = try await authenticate(request, body: try await body(request))
        // The first request of a push: its refusal is the push's.
        try require(actor, anyOf: Self.pushPermissions + Self.readPermissions, doing: "push \(caseID)")
        guard mayRead(actor, caseID: caseID) else { throw ServerRefusal(status: .forbidden, sentence: "Actor \(actor.id) may not see background-investigation case \(caseID).") }
        let head = try await database.caseHead(caseID)
        let files = try await database.files(caseID)
        return Self.json([
            "entry_count": .integer(head?.count ?? 0), "head": head.map { .string($0.head) } ?? .null,
            "files": .array(files.map { .object(["path": .string($0.path), "sha256": .string($0.sha256), "size": .integer($0.size)]) }),
        ])
    }

    static let readPermissions: [Permission] = [.read, .verify]
    static let pushPermissions: [Permission] = [.capture, .verify, .approve]

    func caseContents(_ request: Request, caseID: String) async throws -> Response {
        let (actor, _) = try await authenticate(request, body: try await body(request))
        try require(actor, anyOf: Self.readPermissions, doing: "pull or clone \(caseID)")
        guard mayRead(actor, caseID: caseID) else { throw ServerRefusal(status: .forbidden, sentence: "Actor \(actor.id) may not read background-investigation case \(caseID).") }
        guard try await database.caseHead(caseID) != nil else {
            throw ServerRefusal(status: .notFound, sentence: "The evidence server holds no case \(caseID).")
        }
        let lines = try await database.entryLines(caseID)
        let files = try await database.files(caseID)
        return Self.json([
            "entries": .array(lines.map { .string($0) }),
            "files": .array(files.map { .object(["path": .string($0.path), "sha256": .string($0.sha256), "size": .integer($0.size)]) }),
        ])
    }

    func file(_ request: Request, caseID: String, sha256: String) async throws -> Response {
        let (actor, _) = try await authenticate(request, body: try await body(request))
        try require(actor, anyOf: Self.readPermissions, doing: "pull or clone \(caseID)")
        guard mayRead(actor, caseID: caseID), EvidenceStore.isDigest(sha256), try await database.caseHasFile(caseID, sha256: sha256) else {
            throw ServerRefusal(status: .notFound, sentence: "Case \(caseID) on the evidence server has no file with sha256 \(sha256).")
        }
        let bytes = try store.read(sha256)
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func search(_ request: Request) async throws -> Response {
        let bytes = try await body(request)
        let (actor, _) = try await authenticate(request, body: bytes)
        try require(actor, anyOf: [.search], doing: "search")
        guard let words = (try? JSONValue(parsing: bytes))?["query"]?.stringValue,
              !words.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ServerRefusal(status: .badRequest, sentence: "The search has no words.")
        }
        let hits = try await database.search(words, excludingPrefix: actor.has(.decisionMaker) ? "BI-" : nil)
        return Self.json(["hits": .array(hits.map(\.json))])
    }

    func push(_ request: Request, caseID: String) async throws -> Response {
        let bytes = try await body(request)
        let (actor, _) = try await authenticate(request, body: bytes)
        try require(actor, anyOf: Self.pushPermissions, doing: "push \(caseID)")
        guard mayRead(actor, caseID: caseID) else { throw ServerRefusal(status: .forbidden, sentence: "Actor \(actor.id) may not push background-investigation case \(caseID).") }
        let upload = try PushUpload(parsing: bytes, caseID: caseID)
        for file in upload.files { try store.put(file.bytes, sha256: file.sha256) }
        let key = try SigningKey(pem: serverKeyPEM)
        let receipt = try await PushTransaction(database: database, store: store).commit(upload, serverKey: key)
        return Self.json(["receipt": receipt])
    }
}
