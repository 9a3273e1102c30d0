import ChainOfCustody

/// Checksum validation of Bitcoin addresses, so that random 30-character words
/// are not reported as selectors: Base58Check for legacy (1…) and P2SH (3…)
/// addresses, BIP 173/350 (bech32 and bech32m) for native SegWit (bc1…).
enum CryptoAddress {
    private static let base58Alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    private static let base58Values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, byte) in base58Alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// A 25-byte Base58Check payload with version 0x00 (P2PKH) or 0x05 (P2SH)
    /// whose last four bytes are the first four of its double SHA-256.
    static func isBase58Check(_ text: String) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 25)
        for character in text.utf8 {
            guard character < 128, base58Values[Int(character)] >= 0 else { return false }
            var carry = Int(base58Values[Int(character)])
            for index in stride(from: 24, through: 0, by: -1) {
                carry += 58 * Int(bytes[index])
                bytes[index] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            guard carry == 0 else { return false }
        }
        guard bytes[0] == 0x00 || bytes[0] == 0x05 else { return false }
        let check = Digest.sha256(Digest.sha256(Array(bytes[0..<21])))
        return Array(check[0..<4]) == Array(bytes[21..<25])
    }

    private static let bech32Charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    /// A `bc1` address with a valid bech32 (witness v0) or bech32m (v1+) checksum.
    static func isBech32(_ text: String) -> Bool {
        let hasLower = text.contains { $0.isLowercase }
        let hasUpper = text.contains { $0.isUppercase }
        guard !(hasLower && hasUpper), text.count <= 90 else { return false }
        let lower = Array(text.lowercased().utf8)
        guard let separator = lower.lastIndex(of: UInt8(ascii: "1")), separator == 2,
              lower[0..<2].elementsEqual(Array("bc".utf8)) else { return false }
        var data: [UInt8] = []
        for byte in lower[(separator + 1)...] {
            guard let value = bech32Charset.firstIndex(of: byte) else { return false }
            data.append(UInt8(value))
        }
        guard data.count >= 7, let version = data.first, version <= 16 else { return false }
        let hrp = Array("bc".utf8)
        var values: [UInt8] = hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
        values += data
        var checksum: UInt32 = 1
        let generators: [UInt32] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
        for value in values {
            let top = checksum >> 25
            checksum = ((checksum & 0x1ffffff) << 5) ^ UInt32(value)
            for bit in 0..<5 where (top >> UInt32(bit)) & 1 == 1 { checksum ^= generators[bit] }
        }
        // Witness version 0 uses bech32 (constant 1), later versions bech32m.
        return checksum == (version == 0 ? 1 : 0x2bc830a3)
    }
}
