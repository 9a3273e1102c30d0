import ChainOfCustody
import Testing

/// PairedDigest (two streams hashed in one interleaved pass with the CPU's SHA
/// instructions) gives exactly OpenSSL's digests, whatever the lengths, the split
/// of the input into pieces and the offset between the two streams.
@Suite("paired digests")
struct PairedDigestTests {
    @Test("SHA-256, SHA-1, SHA-512 and MD5 of two offset streams fed in odd pieces equal DigestStream's")
    func matchesOpenSSL() {
        let algorithms: [DigestAlgorithm] = [.sha256, .sha1, .sha512, .md5]
        var state: UInt32 = 20
        let bytes = (0..<70_000).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        for (head, total, piece) in [(0, 0, 1), (1, 55, 7), (13, 64, 64), (63, 129, 5), (200, 4_096, 1_000), (777, 70_000, 65_536)] {
            // `block` sees every byte, `payload` only those after `head` (a record's block and its HTTP payload).
            let block = PairedDigest(algorithms)
            let payload = PairedDigest([.sha1, .sha256, .md5])
            bytes.withUnsafeBytes { all in
                block.update(UnsafeRawBufferPointer(rebasing: all[0..<min(head, total)]))
                var offset = min(head, total)
                while offset < total {
                    let end = min(total, offset + piece)
                    PairedDigest.update(block, payload, with: UnsafeRawBufferPointer(rebasing: all[offset..<end]))
                    offset = end
                }
            }
            let expectedBlock = DigestStream(algorithms)
            expectedBlock.update(Array(bytes[0..<total]))
            let expectedPayload = DigestStream([.sha1, .sha256, .md5])
            expectedPayload.update(Array(bytes[min(head, total)..<total]))
            #expect(block.byteCount == Int64(total))
            #expect(block.finish() == expectedBlock.finish(), "block, \(total) bytes after \(head)")
            #expect(payload.finish() == expectedPayload.finish(), "payload, \(total) bytes after \(head)")
        }
    }
}
