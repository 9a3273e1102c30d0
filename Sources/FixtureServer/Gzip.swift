/// A minimal gzip (RFC 1952) writer: the deflate stream uses "stored" (uncompressed)
/// blocks (RFC 1951 §3.2.4), so no zlib is needed, and every gzip decoder accepts it.
enum Gzip {
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [
            0x1f, 0x8b,  // magic
            0x08,  // CM = deflate
            0x00,  // FLG: no name, no comment, no extra
            0x00, 0x00, 0x00, 0x00,  // MTIME unknown: the same bytes every time
            0x00,  // XFL
            0x03,  // OS = Unix
        ]
        out.reserveCapacity(data.count + data.count / 65535 * 5 + 32)
        var offset = 0
        repeat {
            let length = min(65535, data.count - offset)
            let final = offset + length == data.count
            out.append(final ? 0x01 : 0x00)  // BFINAL, BTYPE = 00 (stored); rest of the byte is padding
            out.append(UInt8(length & 0xff))
            out.append(UInt8(length >> 8))
            out.append(UInt8(~length & 0xff))
            out.append(UInt8((~length >> 8) & 0xff))
            out.append(contentsOf: data[offset..<(offset + length)])
            offset += length
        } while offset < data.count
        appendLittleEndian(crc32(data), to: &out)
        appendLittleEndian(UInt32(truncatingIfNeeded: data.count), to: &out)
        return out
    }

    private static func appendLittleEndian(_ value: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((value >> UInt32(shift)) & 0xff)) }
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var c = UInt32(index)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 as gzip and zlib define it (reflected polynomial 0xEDB88320).
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
