@testable import ChainOfCustody
import Testing

/// VerifyingKey checks most signatures with per-key tables (COpenSSL's exhibit_ed25519.c)
/// and takes only acceptances from there: the tables must accept exactly what OpenSSL
/// accepts, signature by signature, valid or damaged.
@Suite("Ed25519 tables")
struct Ed25519TablesTests {
    /// The group order L, little-endian: S + L is the same scalar, and must still be refused.
    static let order: [UInt8] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ]

    @Test("the tables and OpenSSL agree on valid, altered, foreign and out-of-range signatures")
    func agreeWithOpenSSL() throws {
        var generator = SystemRandomNumberGenerator()
        var accepted = 0, refused = 0
        for _ in 0..<2 {
            let signer = try SigningKey.generate()
            let key = try signer.publicKey()
            let stranger = try SigningKey.generate()
            for index in 0..<150 {
                // Messages as the ledger signs them (a hash in hex) and of other lengths.
                let message = (0..<(index % 3 == 0 ? 64 : index % 97)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let signature = try signer.sign(message)
                var cases: [(signature: [UInt8], message: [UInt8])] = [(signature, message)]
                var flipped = signature
                flipped[Int.random(in: 0..<64, using: &generator)] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                cases.append((flipped, message))
                if !message.isEmpty {
                    var other = message
                    other[Int.random(in: 0..<other.count, using: &generator)] ^= 0x20
                    cases.append((signature, other))
                }
                cases.append((try stranger.sign(message), message))
                var wrapped = signature, carry = 0
                for byte in 0..<32 {
                    let sum = Int(wrapped[32 + byte]) + Int(Self.order[byte]) + carry
                    wrapped[32 + byte] = UInt8(sum & 0xff)
                    carry = sum >> 8
                }
                cases.append((wrapped, message))
                cases.append((Array(signature.prefix(63)), message))
                for (candidate, text) in cases {
                    let openSSL = key.openSSLVerifies(candidate, for: text)
                    #expect(key.tablesAccept(candidate, for: text) == openSSL)
                    #expect(key.isValidSignature(candidate, for: text) == openSSL)
                    if openSSL { accepted += 1 } else { refused += 1 }
                }
            }
        }
        #expect(accepted == 2 * 150)
        #expect(refused >= 2 * 150 * 4)
    }
}
