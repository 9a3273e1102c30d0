internal import COpenSSL
import Foundation

/// RFC 3161 trusted timestamps over a ledger head (DESIGN §8).
///
/// The message imprint is the head's own 32 hash bytes with algorithm SHA-256,
/// so `openssl ts -verify -digest <ledger head hex>` checks a token by hand.
public enum TrustedTimestamp {
    /// What a verified token says.
    public struct Facts: Sendable, Equatable {
        /// GeneralizedTime as the TSA wrote it, e.g. `20261128192000Z`.
        public var genTime: String
        /// The token's serial number, hex.
        public var serial: String
    }

    /// A DER TimeStampReq over `sha256Digest` with a fresh 64-bit nonce and certReq.
    public static func request(sha256Digest: [UInt8]) throws(ExhibitError) -> [UInt8] {
        OpenSSL.initialize()
        guard sha256Digest.count == 32 else {
            throw ExhibitError(.usage, "A timestamp request needs a 32-byte SHA-256 digest.")
        }
        var nonce = OpenSSL.randomBytes(8)
        nonce[0] &= 0x7f  // keep the INTEGER positive and 8 bytes long
        nonce[0] |= 0x01
        var der: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard exhibit_timestamp_request(sha256Digest, sha256Digest.count, nonce, nonce.count, &der, &length) == 1, let der else {
            throw ExhibitError(.storage, "OpenSSL could not build a timestamp request: \(OpenSSL.drainErrors()).")
        }
        defer { exhibit_openssl_free(der) }
        return Array(UnsafeBufferPointer(start: der, count: length))
    }

    /// Verifies a DER TimeStampResp against the request it answers and a CA file
    /// (nil: the system's trust store). Throws a sentence saying what failed.
    public static func verify(response: [UInt8], request: [UInt8], caFile: String?) throws(ExhibitError) -> Facts {
        OpenSSL.initialize()
        var genTime = [CChar](repeating: 0, count: 64)
        var serial = [CChar](repeating: 0, count: 128)
        var error = [CChar](repeating: 0, count: 512)
        let status: Int32 = withOptional(caFile) { ca in
            exhibit_timestamp_verify(response, response.count, request, request.count, ca,
                                     &genTime, genTime.count, &serial, serial.count, &error, error.count)
        }
        guard status == 1 else {
            throw ExhibitError(.verificationFailed, string(error))
        }
        return Facts(genTime: string(genTime), serial: string(serial))
    }

    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func withOptional<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }

    /// Re-checks every `timestamp` entry of a ledger: its files are where the
    /// entry says, the request's imprint is the head it names, that head is the
    /// hash of the entry it covers, and the token verifies against the stored CA.
    public static func check(directory: String, entries: [LedgerEntry]) -> [Verifier.Finding] {
        var findings: [Verifier.Finding] = []
        let hashes = Dictionary(entries.map { ($0.seq, $0.hash) }, uniquingKeysWith: { first, _ in first })
        for entry in entries where entry.action == "timestamp" {
            guard let subject = entry.subject, let covers = subject["covers_seq"]?.intValue,
                  let head = subject["ledger_head"]?.stringValue,
                  let tsr = subject["token"]?.stringValue, let tsq = subject["request"]?.stringValue else { continue }
            if hashes[covers] != head {
                findings.append(.init(.badTimestamp, path: tsr, seq: entry.seq, detail: "the token covers head \(head), which is not the hash of seq \(covers)"))
                continue
            }
            guard let response = try? AtomicFile.read(directory + "/" + tsr),
                  let request = try? AtomicFile.read(directory + "/" + tsq) else {
                continue  // reported as MISSING by the file-level check
            }
            let ca = subject["ca"]?.stringValue.map { directory + "/" + $0 }
            do {
                let facts = try verify(response: response, request: request, caFile: ca)
                if let recorded = subject["gen_time"]?.stringValue, recorded != facts.genTime {
                    findings.append(.init(.badTimestamp, path: tsr, seq: entry.seq, detail: "the token's time \(facts.genTime) differs from the recorded \(recorded)"))
                }
            } catch {
                findings.append(.init(.badTimestamp, path: tsr, seq: entry.seq, detail: error.message))
            }
            // The imprint must be the head's bytes (the request carries it).
            if let digest = Hex.decode(head), !request.windowContains(digest) {
                findings.append(.init(.badTimestamp, path: tsq, seq: entry.seq, detail: "the request's imprint is not ledger head \(head)"))
            }
        }
        return findings
    }
}

extension Array where Element == UInt8 {
    func windowContains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if Array(self[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}
