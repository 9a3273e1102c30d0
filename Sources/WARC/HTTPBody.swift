internal import CExhibitZlib
import ChainOfCustody

/// Undoes HTTP chunked framing as bytes stream in, for the de-chunked payload
/// digest and for analysis. The archived bytes keep their framing (DESIGN §14).
package struct ChunkDecoder {
    private enum State { case size, sizeExtension, sizeLF, data, dataCR, dataLF, trailer, done }
    private var state = State.size
    private var remaining: Int64 = 0
    private var sizeDigits = 0
    private var trailerLineLength = 0
    package private(set) var malformed = false

    package init() {}
    package var isDone: Bool { state == .done }

    /// Feeds framed bytes; `emit` receives payload bytes.
    package mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        var index = 0
        while index < bytes.count && !malformed {
            let byte = bytes[index]
            switch state {
            case .size:
                if let value = Hex.digitValue(byte) {
                    guard sizeDigits < 15 else { malformed = true; return }
                    remaining = remaining * 16 + Int64(value)
                    sizeDigits += 1
                } else if byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                    state = .sizeExtension
                } else if byte == 13 {
                    state = .sizeLF
                } else {
                    malformed = true
                }
                index += 1
            case .sizeExtension:
                if byte == 13 { state = .sizeLF }
                index += 1
            case .sizeLF:
                guard byte == 10, sizeDigits > 0 else { malformed = true; return }
                state = remaining == 0 ? .trailer : .data
                trailerLineLength = 0
                index += 1
            case .data:
                let take = Int(min(Int64(bytes.count - index), remaining))
                emit(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                remaining -= Int64(take)
                index += take
                if remaining == 0 { state = .dataCR }
            case .dataCR:
                guard byte == 13 else { malformed = true; return }
                state = .dataLF
                index += 1
            case .dataLF:
                guard byte == 10 else { malformed = true; return }
                state = .size
                sizeDigits = 0
                remaining = 0
                index += 1
            case .trailer:
                if byte == 10 {
                    if trailerLineLength == 0 { state = .done } else { trailerLineLength = 0 }
                } else if byte != 13 {
                    trailerLineLength += 1
                }
                index += 1
            case .done:
                return
            }
        }
    }

    /// The payload of a whole chunked body held in memory (analysis and screening).
    package static func payload(of framed: [UInt8]) -> [UInt8] {
        var decoder = ChunkDecoder()
        var payload: [UInt8] = []
        framed.withUnsafeBytes { decoder.feed($0) { payload.append(contentsOf: $0) } }
        return payload
    }
}

/// Decodes `Content-Encoding: gzip` / `deflate` for analysis only (never for the archive).
public enum ContentDecoding {
    /// A body as the page's author wrote it: chunk framing and gzip/deflate undone,
    /// at most `limit` bytes. Analysis only; the archive keeps the bytes as sent.
    package static func payload(_ raw: [UInt8], chunked: Bool, contentEncoding: String?, limit: Int) -> [UInt8] {
        var body = chunked ? ChunkDecoder.payload(of: raw) : raw
        if let encoding = contentEncoding?.lowercased(), encoding.contains("gzip") || encoding.contains("deflate") {
            body = inflate(body, limit: limit) ?? body
        }
        return Array(body.prefix(limit))
    }

    /// The decoded bytes, at most `limit` of them; nil when the data is not valid.
    static func inflate(_ data: [UInt8], limit: Int) -> [UInt8]? {
        var stream = z_stream()
        guard exhibit_inflate_init_auto(&stream) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var input = data
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            repeat {
                buffer.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    status = zlibInflate(&stream)
                    output.append(contentsOf: outBuffer[0..<(outBuffer.count - Int(stream.avail_out))])
                }
            } while status == Z_OK && output.count < limit && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return nil }
        return Array(output.prefix(limit))
    }

    /// How a deflate stream is wrapped: gzip (RFC 1952), zlib (RFC 1950) or raw (RFC 1951).
    public enum Wrapper: Sendable { case gzip, zlib, raw }

    /// The inflated bytes; `.some(nil)` when they pass `limit`; nil when the data is
    /// not valid. A gzip body may hold several members, one after another (RFC 1952 §2.2).
    public static func inflate(_ data: [UInt8], _ wrapper: Wrapper, limit: Int) -> [UInt8]?? {
        guard !data.isEmpty else { return .some([]) }
        var stream = z_stream()
        let started: Int32 = switch wrapper {
        case .gzip: exhibit_inflate_init_gzip(&stream)
        case .zlib: exhibit_inflate_init_zlib(&stream)
        case .raw: exhibit_inflate_init_raw(&stream)
        }
        guard started == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var input = data
        var result: [UInt8]?? = nil
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                var status: Int32 = Z_OK
                buffer.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    status = zlibInflate(&stream)
                    output.append(contentsOf: outBuffer[0..<(outBuffer.count - Int(stream.avail_out))])
                }
                if output.count > limit { result = .some(nil); return }
                if status == Z_STREAM_END {
                    // Another gzip member may follow; trailing zero padding is ignored.
                    let rest = Int(stream.avail_in)
                    let restStart = inBuffer.count - rest
                    if wrapper == .gzip, rest > 0, inBuffer[restStart...].contains(where: { $0 != 0 }) {
                        guard inflateReset(&stream) == Z_OK else { result = nil; return }
                        continue
                    }
                    result = .some(output)
                    return
                }
                if status == Z_OK { continue }
                // Z_BUF_ERROR with input left or output room means a truncated stream.
                result = nil
                return
            }
        }
        return result
    }
}

private func zlibInflate(_ stream: UnsafeMutablePointer<z_stream>) -> Int32 {
    inflate(stream, Z_NO_FLUSH)
}
