import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// The OpenSSL binding (DESIGN §8, §13): EVP digests against published vectors and
/// against coreutils, and Ed25519 signatures against the `openssl` command-line tool.
@Suite("OpenSSL binding: EVP digests and Ed25519")
struct BindingTests {
    /// FIPS 180-2 / RFC 1321 test vectors for the three-byte message "abc".
    static let abcVectors: [DigestAlgorithm: String] = [
        .sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        .sha512: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        .sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
        .md5: "900150983cd24fb0d6963f7d28e17f72",
    ]

    @Test func sha256OfAbcThroughEVP() {
        #expect(Digest.sha256Hex("abc") == Self.abcVectors[.sha256])
        #expect(Digest.sha256Hex(Array("abc".utf8)) == Self.abcVectors[.sha256])
        #expect(Digest.sha256(Array("abc".utf8)).count == 32)
    }

    @Test func sha256OfEmptyInput() {
        #expect(Digest.sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func allFourAlgorithmsInOnePass() {
        let stream = DigestStream([.sha256, .sha512, .sha1, .md5])
        stream.update("abc")
        #expect(stream.byteCount == 3)
        let result = stream.finishHex()
        #expect(result.count == 4)
        for (algorithm, expected) in Self.abcVectors {
            #expect(result[algorithm] == expected, "\(algorithm)")
        }
    }

    @Test func feedingInPiecesEqualsOneShot() {
        let stream = DigestStream([.sha512, .md5])
        stream.update("a")
        stream.update([UInt8]())
        stream.update(Array("b".utf8))
        stream.update("c")
        let result = stream.finishHex()
        #expect(result[.sha512] == Self.abcVectors[.sha512])
        #expect(result[.md5] == Self.abcVectors[.md5])
        #expect(result[.sha256] == nil, "only the algorithms asked for are computed")
    }

    /// FIPS 180-2's two-block message, to exercise more than one compression round.
    @Test func sha256OfTwoBlockMessage() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(Digest.sha256Hex(message) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func fileDigestMatchesSha256sum() throws {
        let directory = TemporaryDirectory("binding")
        let path = directory.child("evidence.bin")
        // A little over three of Digest.file's 1 MiB read blocks, with varied bytes.
        var bytes = [UInt8](repeating: 0, count: 3 * (1 << 20) + 12345)
        var state: UInt32 = 2_463_534_242
        for index in bytes.indices {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            bytes[index] = UInt8(truncatingIfNeeded: state)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let computed = try Digest.file(atPath: path, algorithms: [.sha256, .md5])
        #expect(computed.size == Int64(bytes.count))

        let coreutils = try ChildProcess("/usr/bin/sha256sum", [path]).run()
        #expect(coreutils.status == 0)
        let expected = try #require(coreutils.stdoutText.split(separator: " ").first.map(String.init))
        #expect(expected.count == 64)
        #expect(computed.digests[.sha256] == expected)
        #expect(computed.digests[.sha256] == Digest.sha256Hex(bytes))

        let md5sum = try ChildProcess("/usr/bin/md5sum", [path]).run()
        #expect(computed.digests[.md5] == md5sum.stdoutText.split(separator: " ").first.map(String.init))
    }

    @Test func fileDigestOfMissingFileIsAStorageError() {
        let directory = TemporaryDirectory("binding")
        do {
            _ = try Digest.file(atPath: directory.child("absent"))
            Issue.record("Digest.file succeeded on a missing file")
        } catch {
            #expect(error.code == .storage)
            #expect(error.code.exitStatus == 5)
        }
    }

    @Test func ed25519SignVerifyRoundTrip() throws {
        let key = try SigningKey.generate()
        let publicKey = try key.publicKey()
        let message = Array("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".utf8)
        let signature = try key.sign(message)
        #expect(signature.count == 64)
        #expect(publicKey.isValidSignature(signature, for: message))

        // Ed25519 is deterministic (RFC 8032 §5.1.6).
        #expect(try key.sign(message) == signature)

        // One flipped bit anywhere in the signature or the message fails.
        for bit in [0, 7, 100, 511] {
            var flipped = signature
            flipped[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(!publicKey.isValidSignature(flipped, for: message), "signature bit \(bit)")
        }
        var changedMessage = message
        changedMessage[10] ^= 0x01
        #expect(!publicKey.isValidSignature(signature, for: changedMessage))
        #expect(!publicKey.isValidSignature(Array(signature.prefix(63)), for: message))
        #expect(!publicKey.isValidSignature([], for: message))

        // Another key's public half does not accept the signature.
        let other = try SigningKey.generate().publicKey()
        #expect(!other.isValidSignature(signature, for: message))
    }

    @Test func pemRoundTripKeepsTheKey() throws {
        let key = try SigningKey.generate()
        let pem = key.privateKeyPEM()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(key.publicKeyPEM().hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let reloaded = try SigningKey(pem: pem)
        #expect(reloaded.publicKeyPEM() == key.publicKeyPEM())
        let message = Array("custody".utf8)
        #expect(try key.publicKey().isValidSignature(try reloaded.sign(message), for: message))
    }

    @Test func damagedOrForeignPEMIsRefused() throws {
        #expect(throws: ExhibitError.self) { try SigningKey(pem: "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n") }
        #expect(throws: ExhibitError.self) { try VerifyingKey(pem: "garbage") }
        // An EC key is a readable PEM key but not Ed25519.
        let directory = TemporaryDirectory("binding")
        let ecPath = directory.child("ec.pem")
        let generated = try ChildProcess("/usr/bin/openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ecPath]).run()
        try #require(generated.status == 0, "openssl genpkey: \(generated.stderrText)")
        let ecPEM = try String(contentsOfFile: ecPath, encoding: .utf8)
        #expect(throws: ExhibitError.self) { try SigningKey(pem: ecPEM) }
    }

    /// Exhibit's keys are ordinary PKCS#8 / SPKI Ed25519 keys: the `openssl` tool derives the
    /// same public key and, Ed25519 being deterministic, produces the same signature bytes.
    @Test func signaturesMatchTheOpenSSLTool() throws {
        let directory = TemporaryDirectory("binding")
        let key = try SigningKey.generate()
        let keyPath = directory.child("key.pem")
        let messagePath = directory.child("message")
        let signaturePath = directory.child("sig")
        try key.privateKeyPEM().write(toFile: keyPath, atomically: true, encoding: .utf8)
        let message = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        try message.write(toFile: messagePath, atomically: true, encoding: .utf8)

        let derived = try ChildProcess("/usr/bin/openssl", ["pkey", "-in", keyPath, "-pubout"]).run()
        #expect(derived.status == 0)
        #expect(derived.stdoutText == key.publicKeyPEM())

        let signed = try ChildProcess("/usr/bin/openssl", ["pkeyutl", "-sign", "-inkey", keyPath, "-rawin", "-in", messagePath, "-out", signaturePath]).run()
        try #require(signed.status == 0, "openssl pkeyutl -sign: \(signed.stderrText)")
        let toolSignature = try Array(Data(contentsOf: URL(fileURLWithPath: signaturePath)))
        #expect(toolSignature == (try key.sign(Array(message.utf8))))
    }
}
