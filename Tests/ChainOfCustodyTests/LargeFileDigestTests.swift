import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// One streaming pass computes SHA-256, SHA-512, SHA-1 and MD5 of a 1 GiB file,
/// matching the coreutils tools byte for byte (the input is generated, not committed).
@Suite("digests of a large file")
struct LargeFileDigestTests {
    @Test("1 GiB: sha256sum, sha512sum, sha1sum and md5sum agree with one DigestStream pass")
    func oneGiB() async throws {
        let directory = TemporaryDirectory("digest")
        let path = directory.child("big.bin")
        try await Blocking.run {
            let handle = FileManager.default.createFile(atPath: path, contents: nil) ? try FileHandle(forWritingTo: URL(fileURLWithPath: path)) : nil
            guard let handle else { throw CocoaError(.fileWriteUnknown) }
            var block = [UInt8](repeating: 0, count: 1 << 20)
            for index in 0..<(1 << 10) {
                // A pattern that changes per block, so a skipped or repeated block shows.
                for offset in stride(from: 0, to: block.count, by: 4096) { block[offset] = UInt8(truncatingIfNeeded: index &* 31 &+ offset >> 12) }
                try handle.write(contentsOf: block)
            }
            try handle.close()
        }
        let ours = try await Blocking.run { try Digest.file(atPath: path, algorithms: [.sha256, .sha512, .sha1, .md5]) }
        #expect(ours.size == 1 << 30)
        for (algorithm, tool) in [(DigestAlgorithm.sha256, "sha256sum"), (.sha512, "sha512sum"), (.sha1, "sha1sum"), (.md5, "md5sum")] {
            let result = try await Blocking.run { try Command.run("/usr/bin/\(tool)", [path]) }
            #expect(result.status == 0)
            #expect(result.output.split(separator: " ").first.map(String.init) == ours.digests[algorithm], "\(tool)")
        }
    }
}
