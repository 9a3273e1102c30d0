import ChainOfCustody
import Foundation
import Testing
@testable import WARC

/// A decision-maker bundle holds derived WARC copies, so verify matches their records
/// to the ledger by id and block digest, not by the original file's sha256 (DESIGN §9).
/// An imported HTTP response keeps no sha256 of its block in the ledger, only the
/// declared digest intake checked: a derived copy must be held to that one.
@Suite("derived copy of an imported response")
struct DerivedImportedRecordTests {
    static let id = "<urn:uuid:6b1f2c4e-0000-4000-8000-000000000001>"

    static func warc(_ block: [UInt8], declaring digest: String) -> [UInt8] {
        Array(("WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: \(id)\r\n"
            + "WARC-Target-URI: http://127.0.0.1/post\r\nWARC-Date: 2026-12-01T00:00:00Z\r\n"
            + "Content-Type: application/http; msgtype=response\r\nWARC-Block-Digest: \(digest)\r\n"
            + "Content-Length: \(block.count)\r\n\r\n").utf8) + block + Array("\r\n\r\n".utf8)
    }

    static func findings(_ bytes: [UInt8], ledger: JSONValue) throws -> [Verifier.Finding] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("derived-\(UUID().uuidString).warc").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scan = WARCScans(digests: nil).scan(path)
        return WARCVerification.compare(scan, name: "derived.warc", records: [id: (record: ledger, seq: 7)], placement: false)
    }

    @Test("one changed byte of the block is TAMPERED although its header still names the recorded digest")
    func changedBlock() throws {
        let block = Array("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>meet me on 2026-12-01</p>".utf8)
        let stream = DigestStream([.sha1])
        stream.update(block)
        let declared = "sha1:" + CDXJIndex.base32(stream.finish()[.sha1]!)
        let ledger: JSONValue = .object([
            "id": .string(Self.id), "type": .string("response"), "target_uri": .string("http://127.0.0.1/post"),
            "block_digest": .null, "declared_block_digest": .string(declared),
        ])
        #expect(try Self.findings(Self.warc(block, declaring: declared), ledger: ledger) == [])

        var changed = block
        changed[changed.count - 7] = UInt8(ascii: "2")  // 2026-12-01 -> 2026-12-21, same length
        let found = try Self.findings(Self.warc(changed, declaring: declared), ledger: ledger)
        #expect(found.count == 1)
        #expect(found.first?.kind == .tampered)
        #expect(found.first?.detail.contains("no longer hashes to the digest the ledger recorded") == true)
    }
}
