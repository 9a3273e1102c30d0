import CaseManagement
public import ChainOfCustody
import Foundation

/// `exhibit-seal.json`: a bag's signed statement of what it is (DESIGN §16).
///
/// BagIt's manifests prove only that files match manifests anyone can rewrite.
/// The seal states the sha256 of bagit.txt, bag-info.txt and both payload
/// manifests (so every payload file), the ledger head, the audience, how many
/// items were withheld and whether the WARC files are derived copies, and who
/// exported the bag — signed with that actor's Ed25519 key. `verify` trusts
/// "derived" and "withheld" only from a seal whose signature holds, by an actor
/// whose key also signs entries of the bag's own ledger and who holds the
/// analyst role. The file is one line of RFC 8785 canonical JSON,
/// `{"seal":{…},"signature":"<base64>"}`; the signature is over the canonical
/// bytes of `seal`, which `jq -jcS .seal exhibit-seal.json` reproduces (all its
/// strings are ASCII), so `openssl pkeyutl -verify -rawin` checks it by hand.
public struct BagSeal: Sendable, Equatable {
    public static let fileName = "exhibit-seal.json"
    /// The tag files whose digests the seal states.
    public static let sealedFiles = ["bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest-sha512.txt"]
    public static let format = "exhibit-seal-1"

    /// The exporting actor, as registered in the workspace when the bag was made.
    public struct Signer: Sendable, Equatable {
        public var id: String
        public var name: String
        public var badge: String
        public var roles: [String]
        /// sha256 of the actor's public key PEM as the bag carries it (data/keys/<id>.pem).
        public var publicKeySHA256: String

        var json: JSONValue {
            .object([
                "actor": .string(id), "name": .string(name), "badge": .string(badge),
                "roles": .array(roles.map { .string($0) }), "public_key_sha256": .string(publicKeySHA256),
            ])
        }

        init(id: String, name: String, badge: String, roles: [String], publicKeySHA256: String) {
            self.id = id
            self.name = name
            self.badge = badge
            self.roles = roles
            self.publicKeySHA256 = publicKeySHA256
        }

        init?(json: JSONValue?) {
            guard let json, let id = json["actor"]?.stringValue, let name = json["name"]?.stringValue,
                  let badge = json["badge"]?.stringValue, let roles = json["roles"]?.arrayValue,
                  let keyDigest = json["public_key_sha256"]?.stringValue else { return nil }
            self.init(id: id, name: name, badge: badge, roles: roles.compactMap(\.stringValue), publicKeySHA256: keyDigest)
        }
    }

    /// `{"<name>": statement, "signature": "<base64 Ed25519 over canonical(statement)>"}` and a newline.
    static func signedDocument(_ statement: JSONValue, as name: String, with key: SigningKey) throws(ExhibitError) -> [UInt8] {
        let signature = Data(try key.sign(try canonical(statement))).base64EncodedString()
        return try canonical(.object([name: statement, "signature": .string(signature)])) + [UInt8(ascii: "\n")]
    }

    public var caseID: String
    public var ledgerHead: String
    public var audience: String
    public var withheldItems: Int
    public var derivedWARCs: Bool
    public var software: String
    /// Tag file name → sha256.
    public var files: [String: String]
    public var signer: Signer

    /// The object the signature covers.
    public var statement: JSONValue {
        .object([
            "format": .string(Self.format),
            "case": .string(caseID),
            "ledger_head": .string(ledgerHead),
            "audience": .string(audience),
            "withheld_items": .integer(Int64(withheldItems)),
            "derived_warcs": .bool(derivedWARCs),
            "software": .string(software),
            "files": .object(files.mapValues { .string($0) }),
            "signer": signer.json,
        ])
    }

    /// The seal file's bytes, signed with `key`.
    public func signed(with key: SigningKey) throws(ExhibitError) -> [UInt8] {
        try Self.signedDocument(statement, as: "seal", with: key)
    }

    static func canonical(_ value: JSONValue) throws(ExhibitError) -> [UInt8] {
        do {
            return try value.canonicalBytes()
        } catch {
            throw ExhibitError(.storage, "The bag seal cannot be written: \(error).")
        }
    }

    /// A seal read back from a bag, with its signature not yet checked.
    public struct Read: Sendable {
        public var seal: BagSeal
        public var message: [UInt8]
        public var signature: [UInt8]
    }

    /// Parses the seal file; nil when it is missing or not a seal.
    public static func read(bagRoot root: String) -> Read? {
        guard let bytes = try? AtomicFile.read(root + "/" + fileName), let json = try? JSONValue(parsing: bytes),
              let statement = json["seal"], let signature = json["signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
              statement["format"]?.stringValue == format,
              let caseID = statement["case"]?.stringValue, let head = statement["ledger_head"]?.stringValue,
              let audience = statement["audience"]?.stringValue, let withheld = statement["withheld_items"]?.intValue,
              case .bool(let derived)? = statement["derived_warcs"], let software = statement["software"]?.stringValue,
              let fileObject = statement["files"]?.objectValue, let signer = Signer(json: statement["signer"]),
              let message = try? statement.canonicalBytes() else { return nil }
        var files: [String: String] = [:]
        for (key, value) in fileObject {
            guard let digest = value.stringValue else { return nil }
            files[key] = digest
        }
        let seal = BagSeal(
            caseID: caseID, ledgerHead: head, audience: audience, withheldItems: Int(withheld), derivedWARCs: derived,
            software: software, files: files, signer: signer)
        // Re-serialised from the parsed fields: anything the parse did not read is not signed.
        guard (try? seal.statement.canonicalBytes()) == message else { return nil }
        return Read(seal: seal, message: message, signature: Array(signature))
    }

    /// Checks a seal read from the bag at `root`: its signature with the key the
    /// bag carries for the signer, the signer's standing, and the digests of the
    /// tag files it covers. `ledgerSigners` are the actors who sign entries of the
    /// bag's ledger. Returns findings (empty when the seal holds).
    public static func check(_ read: Read?, bagRoot root: String, ledgerHead: String?, ledgerSigners: Set<String>) -> [Verifier.Finding] {
        guard let read else {
            return [.init(.missing, path: fileName, detail: "the bag carries no readable signed seal, so nothing says who made it or what it holds")]
        }
        let seal = read.seal
        var findings: [Verifier.Finding] = []
        let keyPath = root + "/data/keys/\(seal.signer.id).pem"
        let pem = ActorRegistry.isValidID(seal.signer.id) ? (try? AtomicFile.read(keyPath)) : nil
        if let pem, let key = try? VerifyingKey(pem: String(decoding: pem, as: UTF8.self)) {
            if Digest.sha256Hex(pem) != seal.signer.publicKeySHA256 {
                findings.append(.init(.badSignature, path: fileName, detail: "the seal names a key for \(seal.signer.id) other than the one in data/keys"))
            } else if !key.isValidSignature(read.signature, for: read.message) {
                findings.append(.init(.badSignature, path: fileName, detail: "the seal's signature does not verify with \(seal.signer.id)'s public key"))
            }
        } else {
            findings.append(.init(.badSignature, path: fileName, detail: "no public key for the seal's signer \(seal.signer.id) in data/keys"))
        }
        if !ledgerSigners.contains(seal.signer.id) {
            findings.append(.init(.badSignature, path: fileName, detail: "the seal's signer \(seal.signer.id) signs no entry of the bag's ledger, so its key is not one the custody chain knows"))
        }
        if !seal.signer.roles.contains("analyst") {
            findings.append(.init(.badSignature, path: fileName, detail: "the seal's signer \(seal.signer.id) did not hold the analyst role"))
        }
        for name in sealedFiles {
            let actual = (try? AtomicFile.read(root + "/" + name)).map(Digest.sha256Hex)
            guard let expected = seal.files[name] else {
                findings.append(.init(.tampered, path: fileName, detail: "the seal does not cover \(name)"))
                continue
            }
            if actual != expected {
                findings.append(.init(.tampered, path: name, detail: "the signed seal states sha256 \(expected), found \(actual ?? "no file")"))
            }
        }
        if let ledgerHead, ledgerHead != seal.ledgerHead {
            findings.append(.init(.tampered, path: fileName, detail: "the seal states ledger head \(seal.ledgerHead), the bag's ledger ends with \(ledgerHead)"))
        }
        return findings
    }
}
