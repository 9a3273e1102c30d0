import CaseManagement
public import ChainOfCustody
import Foundation

/// The facts of a certificate of authenticity by process of digital identification
/// (DESIGN §21): `certificate.json`, RFC 8785 canonical JSON written without a
/// trailing newline, and `certificate.sig`, the certifying actor's Ed25519
/// signature over exactly those bytes, in base64. So the file checks by hand:
/// `base64 -d certificate.sig > sig.bin; openssl pkeyutl -verify -pubin -inkey
/// <actor>.pem -rawin -in certificate.json -sigfile sig.bin` (docs/court.md).
///
/// Facts come in two kinds. Those the ledger states (`case`, `ledger`,
/// `timestamps`, `exhibits`) are derived by ``ledgerFacts(_:)``, which `verify`
/// runs again on the ledger the documents travel with and compares, member by
/// member. The others state who certifies, with which system, the verification
/// run and the sha256 of every document (`documents`), so that an edit of the
/// HTML or the PDF breaks the signed statement.
public enum CourtCertificate {
    public static let format = "exhibit-court-certificate-1"
    public static let factsFile = "certificate.json"
    public static let signatureFile = "certificate.sig"
    /// The members ``ledgerFacts(_:)`` derives.
    static let ledgerMembers = ["case", "ledger", "timestamps", "exhibits"]

    /// The certifying actor as registered when the documents were made.
    public struct Certifier: Sendable {
        public var id: String
        public var name: String
        public var badge: String
        public var roles: [String]
        public var publicKeySHA256: String

        public init(id: String, name: String, badge: String, roles: [String], publicKeySHA256: String) {
            self.id = id
            self.name = name
            self.badge = badge
            self.roles = roles
            self.publicKeySHA256 = publicKeySHA256
        }

        var json: JSONValue {
            .object(["actor": .string(id), "name": .string(name), "badge": .string(badge),
                     "roles": .array(roles.map { .string($0) }), "public_key_sha256": .string(publicKeySHA256)])
        }
    }

    /// How each kind of item's sha256 was computed (the "process" the certificate describes).
    static func hashMethod(kind: String) -> String {
        kind == "import"
            ? "SHA-256 (OpenSSL EVP) over the file's bytes exactly as received, computed by Exhibit when the file was taken in and recorded in the import entry of the custody ledger"
            : "SHA-256 (OpenSSL EVP) over the HTTP response payload exactly as received (transfer coding removed, content coding kept), computed by Exhibit while the response streamed to disk and recorded in the capture entry of the custody ledger, with the SHA-256 block digest of every WARC record written"
    }

    /// The facts the ledger states, as `verify` derives them again.
    public static func ledgerFacts(_ entries: [LedgerEntry]) -> [String: JSONValue] {
        let bySeq = Dictionary(entries.map { (Int($0.seq), $0) }, uniquingKeysWith: { first, _ in first })
        var exhibits: [JSONValue] = []
        for item in ExhibitNumbers.assigned(entries) {
            let seq = Int(item.artifact.dropFirst(2)) ?? 0
            let entry = bySeq[seq]
            let subject = entry?.subject
            let described = item.kind == "import" ? subject?["file_name"]?.stringValue : subject?["url"]?.stringValue
            let sha256 = item.kind == "import" ? subject?["sha256"]?.stringValue : subject?["payload_sha256"]?.stringValue
            exhibits.append(.object([
                "number": .string(item.number),
                "artifact": .string(item.artifact),
                "kind": .string(item.kind),
                "source": .string(described ?? ""),
                "sha256": .string(sha256 ?? ""),
                "hashed_at": .string(entry?.time ?? ""),
                "entry_seq": .integer(Int64(seq)),
                "entry_hash": .string(entry?.hash ?? ""),
                "hash_method": .string(hashMethod(kind: item.kind)),
            ]))
        }
        var timestamps: [JSONValue] = []
        for entry in entries where entry.action == "timestamp" {
            guard let subject = entry.subject else { continue }
            let token = subject["token"]?.stringValue
            let tokenSHA = (subject["files"]?.arrayValue ?? []).first { $0["path"]?.stringValue == token }?["sha256"]?.stringValue
            timestamps.append(.object([
                "entry_seq": .integer(entry.seq),
                "covers_seq": subject["covers_seq"] ?? .null,
                "ledger_head": subject["ledger_head"] ?? .null,
                "tsa": subject["tsa"] ?? .null,
                "gen_time": subject["gen_time"] ?? .null,
                "token": .string(token ?? ""),
                "token_sha256": .string(tokenSHA ?? ""),
            ]))
        }
        return [
            "case": .string(entries.first?.caseID ?? ""),
            "ledger": .object([
                "head": .string(entries.last?.hash ?? ""),
                "entries": .integer(Int64(entries.count)),
                "first_entry_time": .string(entries.first?.time ?? ""),
                "last_entry_time": .string(entries.last?.time ?? ""),
            ]),
            "timestamps": .array(timestamps),
            "exhibits": .array(exhibits),
        ]
    }

    /// sha256 of the running binary (`/proc/self/exe`): which build of Exhibit made the documents.
    public static func binarySHA256() -> String { runningBinarySHA256 }

    /// Computed once per process (a release binary is about 200 MB: a quarter of a second
    /// of hashing), on first use; the binary does not change while it runs.
    private static let runningBinarySHA256: String =
        (try? Digest.file(atPath: "/proc/self/exe").digests[.sha256]) ?? "unknown"

    /// Starts hashing the running binary on another thread, for an export that will make
    /// court documents: the hash is then ready (or being finished) when they need it.
    static func hashBinaryInBackground() {
        DispatchQueue.global().async { _ = runningBinarySHA256 }
    }

    /// All facts but `documents`.
    static func facts(
        entries: [LedgerEntry], agency: String, title: String, certifier: Certifier,
        verification: BundleFacts.Verification, zone: CourtZone
    ) -> [String: JSONValue] {
        var facts = ledgerFacts(entries)
        facts["format"] = .string(format)
        facts["agency"] = .string(agency)
        facts["title"] = .string(title)
        facts["custodian"] = certifier.json
        facts["system"] = .object([
            "software": .string("Exhibit"), "version": .string(ExhibitRelease.version),
            "binary_sha256": .string(binarySHA256()), "platform": .string("Linux"),
        ])
        facts["verification"] = .object([
            "intact": .bool(verification.intact),
            "entries": .integer(Int64(verification.entries)),
            "findings": .integer(Int64(verification.findings.count)),
            "checks": .string("hash chain, every entry's Ed25519 signature, every file's sha256 and size, every WARC record's block digest against the ledger, every RFC 3161 timestamp token"),
        ])
        facts["time_zone"] = .object(["name": .string(zone.name), "source": .string(zone.source)])
        return facts
    }

    /// `certificate.json`'s bytes and `certificate.sig`'s, for `facts` plus the documents' digests.
    static func signed(_ facts: [String: JSONValue], documents: [String: String], key: SigningKey) throws(ExhibitError) -> (json: [UInt8], signature: [UInt8]) {
        var all = facts
        all["documents"] = .object(documents.mapValues { .string($0) })
        let bytes: [UInt8]
        do {
            bytes = try JSONValue.object(all).canonicalBytes()
        } catch {
            throw ExhibitError(.storage, "The certificate's facts cannot be written as canonical JSON: \(error).")
        }
        let signature = Data(try key.sign(bytes)).base64EncodedString()
        return (bytes, Array((signature + "\n").utf8))
    }
}

/// The zone capture times are also shown in: `time_zone` (an IANA name such as
/// `America/Chicago`) in the workspace's workspace.json, else UTC, and the
/// documents say which.
public struct CourtZone: Sendable {
    public var name: String
    public var source: String
    let zone: TimeZone

    public static func of(workspaceRoot: String) -> CourtZone {
        let configured = (try? AtomicFile.read(workspaceRoot + "/workspace.json"))
            .flatMap { try? JSONValue(parsing: $0) }?["time_zone"]?.stringValue
        if let configured, let zone = TimeZone(identifier: configured) {
            return CourtZone(name: configured, source: "the agency's zone, from the workspace settings (workspace.json time_zone)", zone: zone)
        }
        return CourtZone(name: "UTC", source: "UTC: the workspace names no time zone (workspace.json time_zone)", zone: TimeZone(identifier: "UTC")!)
    }

    /// `2026-12-06 07:14:03 CET (UTC+01:00)` for a ledger time.
    func local(_ ledgerTime: String) -> String {
        guard let seconds = LedgerTime.seconds(of: ledgerTime) else { return ledgerTime }
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        let offset = zone.secondsFromGMT(for: date)
        // The wall-clock time is UTC shifted by the zone's offset at that instant (what a
        // DateFormatter in the zone prints); a formatter per time cost 4 % of an export.
        let wall = LedgerTime.format(seconds: seconds + offset, microseconds: 0)
        let sign = offset < 0 ? "-" : "+"
        let hours = abs(offset) / 3600, minutes = abs(offset) % 3600 / 60
        let abbreviation = zone.abbreviation(for: date) ?? name
        return String(wall.prefix(10)) + " " + String(wall.dropFirst(11).prefix(8)) + " \(name) (\(abbreviation), UTC\(sign)\(hours < 10 ? "0" : "")\(hours):\(minutes < 10 ? "0" : "")\(minutes))"
    }
}
