public import ChainOfCustody
import Foundation

/// A role an actor holds (DESIGN §4).
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case investigator, custodian, analyst, supervisor
    case decisionMaker = "decision-maker"

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A person who acts on evidence: named, badged, with roles and a signing key.
public struct Actor: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var badge: String
    /// Set when the actor is added and changed by no command: a bi-searcher never
    /// becomes a decision-maker later (DESIGN §23, one person one role).
    public var roles: [Role]
    /// Extra authorisations granted by a supervisor, e.g. `bi-searcher` (IV.B.7).
    public var authorizations: [String]
    /// SubjectPublicKeyInfo PEM of the actor's Ed25519 key.
    public var publicKey: String
    public var created: String
    /// Base64 SubjectPublicKeyInfo of the actor's ECDSA P-256 key, which signs the
    /// WACZ packages the actor exports (DESIGN §16); made with the actor, or on the
    /// first WACZ export of an actor added before.
    public var waczPublicKey: String?

    enum CodingKeys: String, CodingKey {
        case id, name, badge, roles, authorizations, created
        case publicKey = "public_key"
        case waczPublicKey = "wacz_public_key"
    }

    public func has(_ role: Role) -> Bool { roles.contains(role) }
}

/// Authorisations a supervisor may grant.
public enum Authorization: String, CaseIterable, Sendable {
    case biSearcher = "bi-searcher"
}

/// The workspace's actors and their keys.
public struct ActorRegistry: Sendable {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Every actor, by id.
    public func all() throws(ExhibitError) -> [Actor] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: workspace.actorsDirectory)
        } catch {
            throw ExhibitError(.storage, "Cannot list \(workspace.actorsDirectory): \(error.localizedDescription)")
        }
        var actors: [Actor] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            actors.append(try actor(String(name.dropLast(5))))
        }
        return actors
    }

    /// The actor with this id; unknown ids are an input error (exit 5).
    public func actor(_ id: String) throws(ExhibitError) -> Actor {
        guard Self.isValidID(id) else {
            throw ExhibitError(.storage, "Unknown actor \"\(id)\"; `exhibit actor list` shows the actors of this workspace.")
        }
        let path = "\(workspace.actorsDirectory)/\(id).json"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExhibitError(.storage, "Unknown actor \"\(id)\"; `exhibit actor list` shows the actors of this workspace.")
        }
        do {
            return try JSONDecoder().decode(Actor.self, from: Data(try AtomicFile.read(path)))
        } catch let error as ExhibitError {
            throw error
        } catch {
            throw ExhibitError(.storage, "The actor file \(path) is damaged; restore it from a copy.")
        }
    }

    /// Adds an actor with a new Ed25519 key pair.
    ///
    /// The first actor of a workspace needs no acting actor and is made supervisor
    /// and custodian so that someone can administer it; after that, only a
    /// supervisor adds actors.
    public func add(name: String, badge: String, roles: [Role], actingActor: String?) throws(ExhibitError) -> Actor {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let badge = badge.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw ExhibitError(.usage, "The actor's name is empty; give one.", input: .actorName) }
        guard !badge.isEmpty else { throw ExhibitError(.usage, "The actor's badge is empty; give one.", input: .actorBadge) }
        guard !roles.isEmpty else { throw ExhibitError(.usage, "The actor has no role; give at least one.", input: .actorRoles) }
        return try workspace.withExclusiveLock { () throws(ExhibitError) -> Actor in
            let existing = try all()
            var roles = roles
            if existing.isEmpty {
                roles += [.supervisor, .custodian]
            } else {
                guard let actingActor else {
                    throw ExhibitError(.usage, "No acting actor is named, and adding an actor needs a supervisor; name one.", input: .actingActor)
                }
                let acting = try actor(actingActor)
                try Permission.manageActors.require(acting)
            }
            // One person, one actor (IV.B.6, DESIGN §23): a second actor on the same
            // badge would let one person search as one and decide as the other.
            if let holder = existing.first(where: { Self.isSameBadge($0.badge, badge) }) {
                throw ExhibitError(.notPermitted, "Badge \(holder.badge) already belongs to actor \(holder.id) (\(holder.name)); a person is one actor, so act as \(holder.id) or give this actor a badge of its own.")
            }
            let next = (existing.compactMap { Int($0.id.dropFirst(2)) }.max() ?? 0) + 1
            let id = "a-" + String(format: "%04d", next)
            let key = try SigningKey.generate()
            let waczKey = try ECDSAP256.generatePrivateKeyPEM()
            let actor = Actor(
                id: id, name: name, badge: badge, roles: Array(Set(roles)).sorted(),
                authorizations: [], publicKey: key.publicKeyPEM(), created: LedgerTime.now(),
                waczPublicKey: Data(try ECDSAP256.publicKeySPKI(privateKeyPEM: waczKey)).base64EncodedString())
            // The keys first: an actor file only ever exists with its keys beside it.
            try AtomicFile.write(Array(key.privateKeyPEM().utf8), to: privateKeyPath(id), mode: 0o600)
            try AtomicFile.write(Array(waczKey.utf8), to: waczKeyPath(id), mode: 0o600)
            try AtomicFile.write(try encodeJSON(actor), to: "\(workspace.actorsDirectory)/\(id).json", mode: 0o600)
            return actor
        }
    }

    /// Grants an authorisation (supervisor only).
    public func authorize(_ id: String, _ authorization: Authorization, actingActor: String) throws(ExhibitError) -> Actor {
        try workspace.withExclusiveLock { () throws(ExhibitError) -> Actor in
            try Permission.manageActors.require(try actor(actingActor))
            var target = try actor(id)
            if authorization == .biSearcher, target.has(.decisionMaker) {
                throw ExhibitError(.notPermitted, "Actor \(target.id) (\(target.name)) holds the decision-maker role and can never be authorised as bi-searcher: searches are done by a non-decision-maker (IV.B.6), so authorise an actor who does not decide.")
            }
            if !target.authorizations.contains(authorization.rawValue) {
                target.authorizations.append(authorization.rawValue)
                target.authorizations.sort()
            }
            try AtomicFile.write(try encodeJSON(target), to: "\(workspace.actorsDirectory)/\(id).json", mode: 0o600)
            return target
        }
    }

    public func privateKeyPath(_ id: String) -> String {
        "\(workspace.keysDirectory)/\(id).key.pem"
    }

    /// Where the actor's WACZ-signing P-256 key is kept.
    public func waczKeyPath(_ id: String) -> String {
        "\(workspace.keysDirectory)/\(id).wacz.key.pem"
    }

    /// The actor's WACZ-signing key (PEM) and its registered public key (base64
    /// SPKI). An actor added before these keys existed gets one now, registered in
    /// its actor file under the workspace lock: one key per actor, not per export.
    public func waczSigningKey(for id: String) throws(ExhibitError) -> (privateKeyPEM: String, publicKey: String) {
        try workspace.withExclusiveLock { () throws(ExhibitError) -> (privateKeyPEM: String, publicKey: String) in
            var target = try actor(id)
            let path = waczKeyPath(id)
            var info = stat()
            if let registered = target.waczPublicKey, stat(path, &info) == 0 {
                guard info.st_mode & 0o077 == 0 else {
                    throw ExhibitError(.storage, "The WACZ signing key \(path) is readable by other users; run `chmod 600 \(path)` and check who may have copied it.")
                }
                let pem = String(decoding: try AtomicFile.read(path), as: UTF8.self)
                guard Data(try ECDSAP256.publicKeySPKI(privateKeyPEM: pem)).base64EncodedString() == registered else {
                    throw ExhibitError(.storage, "The WACZ signing key \(path) is not the one registered for actor \(id); restore it from a backup.")
                }
                return (pem, registered)
            }
            guard target.waczPublicKey == nil else {
                throw ExhibitError(.storage, "The WACZ signing key of actor \(id) is missing at \(path); restore it from a backup.")
            }
            let pem = try ECDSAP256.generatePrivateKeyPEM()
            try AtomicFile.write(Array(pem.utf8), to: path, mode: 0o600)
            target.waczPublicKey = Data(try ECDSAP256.publicKeySPKI(privateKeyPEM: pem)).base64EncodedString()
            try AtomicFile.write(try encodeJSON(target), to: "\(workspace.actorsDirectory)/\(id).json", mode: 0o600)
            return (pem, target.waczPublicKey!)
        }
    }

    /// The actor's signing key. Refuses a key file that others can read (it would
    /// no longer prove who signed).
    public func signer(for id: String) throws(ExhibitError) -> LedgerSigner {
        _ = try actor(id)
        let path = privateKeyPath(id)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ExhibitError(.storage, "The private key of actor \(id) is missing at \(path); restore it from a backup.")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw ExhibitError(.storage, "The private key \(path) is readable by other users; run `chmod 600 \(path)` and check who may have copied it.")
        }
        let pem: [UInt8]
        do {
            pem = try AtomicFile.read(path)
        } catch {
            throw ExhibitError(.storage, "The private key of actor \(id) cannot be read (\(path)); check its permissions.")
        }
        do {
            return LedgerSigner(actorID: id, key: try SigningKey(pem: String(decoding: pem, as: UTF8.self)))
        } catch {
            throw ExhibitError(.storage, "The private key of actor \(id) at \(path) is damaged or not an Ed25519 key.")
        }
    }

    /// The actor's public key, or nil when the actor or key is unknown or unreadable.
    public func verifyingKey(for id: String) -> VerifyingKey? {
        guard let actor = try? actor(id) else { return nil }
        return try? VerifyingKey(pem: actor.publicKey)
    }

    /// Badges match trimmed and case-insensitively: `B-3` and ` b-3 ` are one badge.
    static func isSameBadge(_ lhs: String, _ rhs: String) -> Bool {
        lhs.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            == rhs.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    public static func isValidID(_ id: String) -> Bool {
        id.hasPrefix("a-") && id.count <= 16 && id.dropFirst(2).allSatisfy(\.isNumber) && id.count > 2
    }
}
