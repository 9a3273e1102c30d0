/// Lowercase hexadecimal, the form every digest takes in Exhibit's files.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`. (The generic version below, called from another module,
    /// is not specialised there and walks the sequence through its witness table; it was
    /// 0.8 % of a large export's CPU.)
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { buffer in
            String(unsafeUninitializedCapacity: buffer.count * 2) { out in
                for (index, byte) in buffer.enumerated() {
                    out[2 * index] = digits[Int(byte >> 4)]
                    out[2 * index + 1] = digits[Int(byte & 0x0f)]
                }
                return buffer.count * 2
            }
        }
    }

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase or uppercase hex; nil for odd length or a non-hex digit.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = digitValue(chars[index]), let low = digitValue(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// The value of one hex digit, either case (chunk sizes, PDQ hashes, digests).
    @inlinable
    public static func digitValue(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
