public import ChainOfCustody
import Foundation

/// HTTP Message Signatures (RFC 9421) as the evidence server uses them: one signature
/// `sig1` by an actor's Ed25519 key over `@method`, `@target-uri` and `content-digest`
/// (RFC 9530, sha-256), with the `created` time and the actor id as `keyid`.
///
/// ```
/// Content-Digest: sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
/// Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=1765000000;keyid="a-0001";alg="ed25519"
/// Signature: sig1=:<base64 Ed25519 signature over the signature base>:
/// ```
public struct MessageSignature: Sendable, Equatable {
    /// The covered components, in the order they are signed (RFC 9421 §2.5).
    public static let components = ["@method", "@target-uri", "content-digest"]
    /// How old a signature may be, and how far in the future its `created` may lie.
    public static let maximumAge: Int = 300

    public var keyID: String
    public var created: Int
    public var signature: [UInt8]

    /// `sha-256=:BASE64:` of the body (RFC 9530 §2).
    public static func contentDigest(_ body: [UInt8]) -> String {
        "sha-256=:" + Data(Digest.sha256(body)).base64EncodedString() + ":"
    }

    /// The `@signature-params` value: the inner list and its parameters (RFC 9421 §2.3).
    /// Ed25519 signatures are deterministic: the `nonce` (RFC 9421 §2.3) makes two identical
    /// requests in the same second two different signatures, so replay refusal does not refuse them.
    static func parameters(created: Int, keyID: String, nonce: String) -> String {
        "(" + components.map { "\"\($0)\"" }.joined(separator: " ") + ");created=\(created);keyid=\"\(keyID)\";nonce=\"\(nonce)\";alg=\"ed25519\""
    }

    /// The signature base (RFC 9421 §2.5): one line per component, then `@signature-params`.
    static func base(method: String, targetURI: String, contentDigest: String, parameters: String) -> [UInt8] {
        let lines = [
            "\"@method\": \(method.uppercased())",
            "\"@target-uri\": \(targetURI)",
            "\"content-digest\": \(contentDigest)",
            "\"@signature-params\": \(parameters)",
        ]
        return Array(lines.joined(separator: "\n").utf8)
    }

    /// The three headers of a request signed by `signer` now.
    public static func headers(
        method: String, targetURI: String, body: [UInt8], signer: LedgerSigner, now: Int? = nil
    ) throws(ExhibitError) -> [(name: String, value: String)] {
        let now = now ?? Int(Date().timeIntervalSince1970)
        let digest = contentDigest(body)
        let parameters = parameters(created: now, keyID: signer.actorID, nonce: UUID().uuidString)
        let signature = try signer.key.sign(base(method: method, targetURI: targetURI, contentDigest: digest, parameters: parameters))
        return [
            ("Content-Digest", digest),
            ("Signature-Input", "sig1=" + parameters),
            ("Signature", "sig1=:" + Data(signature).base64EncodedString() + ":"),
        ]
    }

    /// Why a request's signature is not accepted; the server answers 401 with it.
    public enum Refusal: Error, Sendable, Equatable {
        case missing
        case malformed(String)
        case digestMismatch
        case expired
        case unknownActor(String)
        case badSignature

        public var sentence: String {
            switch self {
            case .missing: "The request is not signed: the evidence server accepts only requests signed with an actor's key (RFC 9421)."
            case let .malformed(what): "The request's signature cannot be read: \(what)."
            case .digestMismatch: "The request's body does not match its Content-Digest: it was changed or cut short on the way."
            case .expired: "The request's signature was made more than 5 minutes ago (or in the future): check the workstation's clock and send it again."
            case let .unknownActor(id): "Actor \(id) is not registered on this evidence server; a supervisor registers a workspace's actors with `exhibit remote add`."
            case .badSignature: "The request's signature does not verify with the actor's registered key."
            }
        }
    }

    /// Reads and checks a request's signature headers against its method, target URI and
    /// body; `publicKeyPEM` gives the registered key of the `keyid`. Does not check replay: the
    /// caller records `signature` as seen.
    public static func verify(
        method: String, targetURI: String, body: [UInt8], header: (String) -> String?,
        publicKeyPEM: (String) async throws -> String?, now: Int? = nil
    ) async throws -> MessageSignature {
        let now = now ?? Int(Date().timeIntervalSince1970)
        guard let input = header("signature-input"), let signatureField = header("signature") else { throw Refusal.missing }
        guard let digest = header("content-digest") else { throw Refusal.malformed("no Content-Digest header") }
        guard digest == contentDigest(body) else { throw Refusal.digestMismatch }
        guard input.hasPrefix("sig1="), signatureField.hasPrefix("sig1=:"), signatureField.hasSuffix(":") else {
            throw Refusal.malformed("no signature labelled sig1")
        }
        let parameters = String(input.dropFirst(5))
        let coveredPrefix = "(" + components.map { "\"\($0)\"" }.joined(separator: " ") + ");"
        guard parameters.hasPrefix(coveredPrefix) else {
            throw Refusal.malformed("it must cover \(components.joined(separator: ", "))")
        }
        var created: Int?
        var keyID: String?
        var algorithm: String?
        for item in parameters.dropFirst(coveredPrefix.count).split(separator: ";") {
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw Refusal.malformed("a parameter without a value") }
            let value = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2
                ? String(pair[1].dropFirst().dropLast()) : pair[1]
            switch pair[0] {
            case "created": created = Int(value)
            case "keyid": keyID = value
            case "alg": algorithm = value
            case "nonce": break
            default: throw Refusal.malformed("an unexpected parameter \(pair[0])")
            }
        }
        guard let created, let keyID else { throw Refusal.malformed("created and keyid are required") }
        guard algorithm == nil || algorithm == "ed25519" else { throw Refusal.malformed("only ed25519 is accepted") }
        guard abs(now - created) <= maximumAge else { throw Refusal.expired }
        guard let signature = Data(base64Encoded: String(signatureField.dropFirst(6).dropLast())) else {
            throw Refusal.malformed("the signature is not base64")
        }
        guard let pem = try await publicKeyPEM(keyID) else { throw Refusal.unknownActor(keyID) }
        guard let key = try? VerifyingKey(pem: pem) else { throw Refusal.badSignature }
        let signed = base(method: method, targetURI: targetURI, contentDigest: digest, parameters: parameters)
        guard key.isValidSignature(Array(signature), for: signed) else { throw Refusal.badSignature }
        return MessageSignature(keyID: keyID, created: created, signature: Array(signature))
    }
}
