import ChainOfCustody

/// A 256-bit PDQ hash (Meta ThreatExchange's perceptual hash) with its quality.
///
/// Bit `k` (0…255) is coefficient (row `k / 16`, column `k % 16`) of the 16×16 DCT
/// being above the median. The hex form is the reference implementation's: the
/// 256-bit number written most significant nibble first, so bit 255 leads.
public struct PDQHash: Sendable, Hashable, CustomStringConvertible {
    /// 32 bytes, most significant first: byte `31 - k / 8` holds bit `k` at `k % 8`.
    public private(set) var bytes: [UInt8]
    /// 0…100: how much gradient the image has. PDQ's authors treat hashes under 50
    /// as unreliable (flat or nearly blank images all hash alike).
    public var quality: Int

    public init(bytes: [UInt8], quality: Int) {
        precondition(bytes.count == 32, "a PDQ hash has 32 bytes")
        self.bytes = bytes
        self.quality = quality
    }

    /// Parses 64 hex digits (either case); nil for anything else.
    public init?(hex: String, quality: Int = 0) {
        guard hex.utf8.count == 64, let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes, quality: quality)
    }

    /// Sets bit `k` (0…255).
    mutating func setBit(_ k: Int) {
        bytes[31 - k / 8] |= 1 << UInt8(k % 8)
    }

    public func bit(_ k: Int) -> Bool {
        bytes[31 - k / 8] & (1 << UInt8(k % 8)) != 0
    }

    /// 64 lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    /// The number of differing bits (0…256). PDQ's authors call 31 or less a match.
    public func distance(to other: PDQHash) -> Int {
        var total = 0
        for index in 0..<32 { total += (bytes[index] ^ other.bytes[index]).nonzeroBitCount }
        return total
    }

    /// The 16 chunks of 16 bits used by multi-index hashing: chunk `c` is hex digits
    /// `4c ..< 4c + 4` of `hex`, as a number.
    public var chunks: [UInt16] {
        (0..<16).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
    }

    /// Distance ≤ 31 is PDQ's published match threshold.
    public static let matchThreshold = 31
}
