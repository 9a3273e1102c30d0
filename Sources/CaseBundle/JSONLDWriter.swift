/// A JSON value whose object members keep the order they were built in, so the document
/// reads `@id`, `@type`, then properties, and the bytes depend on nothing but the facts.
enum LD: Sendable, ExpressibleByStringLiteral {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case array([LD])
    case object([(String, LD)])

    init(stringLiteral value: String) { self = .string(value) }

    /// A node's `@id`.
    var id: String? {
        guard case .object(let members) = self, case .string(let id)? = members.first(where: { $0.0 == "@id" })?.1 else { return nil }
        return id
    }
}

/// Pretty-prints an ``LD`` value as UTF-8: two-space indent, `": "` between key and value,
/// non-ASCII text as is, and only `"`, `\` and control characters escaped (RFC 8259).
struct LDWriter {
    var bytes: [UInt8] = []

    mutating func write(_ value: LD, indent: Int) {
        switch value {
        case .string(let text): writeString(text)
        case .integer(let number): bytes += Array(String(number).utf8)
        case .bool(let flag): bytes += Array((flag ? "true" : "false").utf8)
        case .array(let elements):
            guard !elements.isEmpty else { bytes += Array("[]".utf8); return }
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                write(element, indent: indent + 1)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { bytes += Array("{}".utf8); return }
            bytes.append(UInt8(ascii: "{"))
            for (index, (key, member)) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                writeString(key)
                bytes += Array(": ".utf8)
                write(member, indent: indent + 1)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func newline(_ indent: Int) {
        bytes.append(0x0A)
        bytes += [UInt8](repeating: UInt8(ascii: " "), count: 2 * indent)
    }

    private mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // The runs between the bytes that need escaping are copied whole, as the
            // canonical writer does: byte by byte, this was a tenth of a large export's
            // provenance graph.
            var run = 0
            for index in utf8.indices where utf8[index] < 0x20 || utf8[index] == 0x22 || utf8[index] == 0x5C {
                bytes.append(contentsOf: utf8[run..<index])
                writeEscape(utf8[index])
                run = index + 1
            }
            bytes.append(contentsOf: utf8[run...])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The escape of a quote, a backslash or a control character.
    private mutating func writeEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes += Array("\\\"".utf8)
        case UInt8(ascii: "\\"): bytes += Array("\\\\".utf8)
        case 0x0A: bytes += Array("\\n".utf8)
        case 0x0D: bytes += Array("\\r".utf8)
        case 0x09: bytes += Array("\\t".utf8)
        default:
            let hex = Array("0123456789abcdef".utf8)
            bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
        }
    }
}
