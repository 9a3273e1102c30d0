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

    @Test("a riding digest (a file's sha256 carried beside payloads) equals OpenSSL's, however the pieces fall, and releases each piece once")
    func ridingDigestMatchesOpenSSL() throws {
        guard let rider = RidingDigest() else { return }  // no SHA instructions: nothing rides
        var state: UInt32 = 7
        let file = (0..<300_001).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let payload = Array(file.reversed().prefix(250_000))
        let block = PairedDigest([.sha1])
        let payloadDigest = PairedDigest([.sha256, .sha1])
        var released = 0
        file.withUnsafeBytes { all in
            payload.withUnsafeBytes { carried in
                // The file's pieces arrive unevenly, sometimes ahead of the payload, sometimes behind.
                var fileOffset = 0
                var payloadOffset = 0
                for (filePiece, payloadPiece) in [(70_000, 1), (0, 100_000), (131_072, 65), (1, 0), (99_928, 84_934)] {
                    let fileEnd = min(file.count, fileOffset + filePiece)
                    if fileEnd > fileOffset {
                        rider.append(UnsafeRawBufferPointer(rebasing: all[fileOffset..<fileEnd])) { released += 1 }
                    }
                    fileOffset = fileEnd
                    let payloadEnd = min(payload.count, payloadOffset + payloadPiece)
                    PairedDigest.update(block, payloadDigest, with: UnsafeRawBufferPointer(rebasing: carried[payloadOffset..<payloadEnd]), rider: rider)
                    payloadOffset = payloadEnd
                }
                payloadDigest.update(UnsafeRawBufferPointer(rebasing: carried[payloadOffset...]), rider: rider)
                block.update(UnsafeRawBufferPointer(rebasing: carried[payloadOffset...]))
                rider.drain(keeping: 1)
                #expect(rider.queued <= 1)
            }
        }
        #expect(rider.finishHex() == Digest.sha256Hex(file))
        #expect(rider.byteCount == Int64(file.count) && rider.queued == 0 && released == 4)
        let expected = DigestStream([.sha256, .sha1])
        expected.update(payload)
        let digests = expected.finish()
        #expect(payloadDigest.finish() == digests)
        #expect(block.finish()[.sha1] == digests[.sha1])
    }
}
