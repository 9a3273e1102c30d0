extension StringProtocol {
    /// The text without leading and trailing whitespace (Unicode's definition).
    func trimmingWhitespace() -> String {
        // Most values (every href of a page) have none: an ASCII byte that is not
        // white space at each end settles it without walking Characters.
        var slice = Substring(self)
        if let first = slice.utf8.first, let last = slice.utf8.last, first < 0x80, last < 0x80,
           !isASCIISpace(first), !isASCIISpace(last) {
            return String(self)
        }
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }

}

private func isASCIISpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
}

extension String {
    /// `unicodeScalars.count`, counted over the UTF-8 bytes: every scalar has one
    /// byte that is not a continuation byte (the scalar view walks them one by one).
    var scalarCount: Int {
        var text = self
        return text.withUTF8 { bytes in bytes.reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) } }
    }

    /// The text's scalars in an array, in one pass: `Array(unicodeScalars)`
    /// counts them first, which on a page of megabytes costs as much again.
    var scalarArray: [Unicode.Scalar] {
        var text = self
        return text.withUTF8 { bytes in
            [Unicode.Scalar](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                count = 0
                var index = 0
                // A String's UTF-8 is valid, so the lead byte gives the length.
                while index < bytes.count {
                    let lead = UInt32(bytes[index])
                    var value: UInt32
                    switch lead {
                    case ..<0x80:
                        value = lead
                        index += 1
                    case ..<0xE0:
                        value = (lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F)
                        index += 2
                    case ..<0xF0:
                        value = (lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F)
                        index += 3
                    default:
                        value = (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
                            | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F)
                        index += 4
                    }
                    buffer[count] = Unicode.Scalar(value) ?? "\u{FFFD}"
                    count += 1
                }
            }
        }
    }
}
