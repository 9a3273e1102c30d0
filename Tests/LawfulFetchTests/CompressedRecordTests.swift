import ChainOfCustody
import Foundation
import Testing
import WARC

/// A record compressed ahead of writing (capture's deferred pages, on any thread)
/// must be the very gzip member `WARCWriter.write` appends for it: the WARC's bytes,
/// and so the file digests in ledgers and exports, cannot depend on the path taken.
@Suite struct CompressedRecordTests {
    /// Bytes that repeat a little, like markup, and noise that does not compress.
    static func block(_ count: Int, noise: Bool, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        let words = Array("<p class=\"x\">evidence of the page</p>\r\n".utf8)
        while bytes.count < count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            if noise {
                bytes.append(UInt8(truncatingIfNeeded: state >> 33))
            } else {
                bytes.append(contentsOf: words.prefix(Int(state >> 60) + 8))
            }
        }
        return Array(bytes.prefix(count))
    }

    static func record(_ block: [UInt8]) -> WARCRecord {
        WARCRecord(
            type: "response", recordID: "<urn:uuid:00000000-0000-4000-8000-000000000001>", date: "2026-12-06T09:00:00Z",
            targetURI: "http://127.0.0.1/p.html", contentType: "application/http;msgtype=response",
            fields: [("WARC-IP-Address", "127.0.0.1")], payloadSHA256: String(repeating: "a", count: 64),
            block: .init(bytes: block))
    }

    /// The file `write(_:)` makes of the record alone: exactly its member.
    static func written(_ record: WARCRecord) throws -> (bytes: [UInt8], record: WrittenRecord) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("member-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try WARCWriter(finalPath: folder + "/one.warc.gz")
        let written = try writer.write(record)
        _ = try writer.seal()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: writer.temporaryPath)))
        writer.discard()
        return (bytes, written)
    }

    @Test(arguments: [(0, false), (1, false), (20_000, false), (300_000, true), (1 << 20, false), (3 << 20, true)])
    func aheadEqualsWritten(size: Int, noise: Bool) throws {
        let record = Self.record(Self.block(size, noise: noise, seed: UInt64(size) + 7))
        let expected = try Self.written(record)
        // One pool for every size: a reused compressor (reset after a larger member) must not differ.
        let compressors = GzipCompressorPool()
        for _ in 0..<2 {
            let ahead = try WARCWriter.compress(record, with: compressors)
            #expect(ahead.member == expected.bytes, "\(size) bytes: \(ahead.member.count) vs \(expected.bytes.count) compressed")
            #expect(ahead.record.length == expected.record.length, "\(ahead.record.length)")
            #expect(ahead.record.blockDigest == expected.record.blockDigest, "\(ahead.record.blockDigest)")
        }
    }

    @Test func reusedAcrossSizesAndThreads() async throws {
        let compressors = GzipCompressorPool()
        let records = (0..<24).map { Self.record(Self.block(($0 % 6) * 150_000 + 10, noise: $0 % 4 == 0, seed: UInt64($0))) }
        let expected = try records.map { try Self.written($0).bytes }
        let members = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (index, record) in records.enumerated() {
                group.addTask { (index, try WARCWriter.compress(record, with: compressors).member) }
            }
            var found: [Int: [UInt8]] = [:]
            for try await (index, member) in group { found[index] = member }
            return found
        }
        for index in records.indices {
            #expect(members[index] == expected[index], "record \(index): \(members[index]?.count ?? -1) vs \(expected[index].count) bytes")
        }
    }
}
