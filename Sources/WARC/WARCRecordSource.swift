package import ChainOfCustody
import Foundation

/// Where a ``WARCReader`` gets its records: one gzip member per record from a
/// `.warc.gz` (WARC 1.1 annex D), or records laid end to end in an uncompressed
/// `.warc`. Each call hands over one record's bytes (header, block and the
/// closing CRLF CRLF) and says where it lies in the file.
protocol WARCRecordSource: AnyObject {
    /// Where the reader stands in the file's bytes; its observer sees every byte read.
    var input: InputCursor { get }
    func nextMember(_ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> Void) throws(ExhibitError) -> (offset: Int64, length: Int64)?
}

extension GzipMemberReader: WARCRecordSource {}

package enum WARCRecordSources {
    /// A gzip file starts with 1f 8b; anything else is read as an uncompressed WARC.
    static func open(path: String, offset: Int64 = 0) throws(ExhibitError) -> any WARCRecordSource {
        let chunks = try FileChunks(path: path, offset: offset)
        return open(chunks, path: path, gzip: try isGzip(path), offset: offset)
    }

    static func open(_ chunks: any ByteChunks, path: String, gzip: Bool, offset: Int64 = 0) -> any WARCRecordSource {
        gzip ? GzipMemberReader(chunks, path: path, offset: offset) : PlainRecordReader(chunks, path: path, offset: offset)
    }

    package static func isGzip(_ path: String) throws(ExhibitError) -> Bool {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read \(path)") }
        defer { close(fd) }
        var magic: [UInt8] = [0, 0]
        let count = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 2) }
        return count == 2 && magic == [0x1f, 0x8b]
    }
}

/// Reads the records of an uncompressed WARC one after another: the header up to
/// its blank line, then Content-Length bytes of block and the four bytes of
/// CRLF CRLF that close a record (WARC 1.1 §4). Offsets and lengths are those of
/// the record in the file, as `warcio index` gives them for an uncompressed WARC.
final class PlainRecordReader: WARCRecordSource {
    let input: InputCursor
    private let path: String
    init(_ chunks: any ByteChunks, path: String, offset: Int64 = 0) {
        self.path = path
        input = InputCursor(chunks, offset: offset)
    }

    func nextMember(_ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> Void) throws(ExhibitError) -> (offset: Int64, length: Int64)? {
        guard try input.fill() else { return nil }
        let offset = input.position
        // The header, byte by byte up to CRLF CRLF (bounded like the parser's).
        var header: [UInt8] = []
        while true {
            guard try input.fill() else {
                throw ExhibitError(.verificationFailed, "\(path) ends inside the header of the record at offset \(offset) (truncated)")
            }
            let byte = input.bytes[input.start]
            input.start += 1
            header.append(byte)
            let n = header.count
            if n >= 4, header[n - 4] == 13, header[n - 3] == 10, header[n - 2] == 13, header[n - 1] == 10 { break }
            guard n <= 1 << 20 else {
                throw ExhibitError(.verificationFailed, "the record at offset \(offset) of \(path) has a header longer than 1 MiB, or the file is not a WARC")
            }
        }
        try withBytes(header) { (bytes) throws(ExhibitError) in try body(bytes) }
        guard let length = Self.contentLength(header) else {
            throw ExhibitError(.verificationFailed, "the record at offset \(offset) of \(path) has no valid Content-Length")
        }
        // The block and the closing CRLF CRLF, handed over as they are read.
        var remaining = length + 4
        while remaining > 0 {
            guard try input.fill() else {
                throw ExhibitError(.verificationFailed, "\(path) ends inside the record at offset \(offset) (truncated)")
            }
            let take = Int(min(Int64(input.available), remaining))
            try body(UnsafeRawBufferPointer(rebasing: input.bytes[input.start..<(input.start + take)]))
            input.start += take
            remaining -= Int64(take)
        }
        return (offset, input.position - offset)
    }

    /// Content-Length from a record header (the parser checks the rest).
    static func contentLength(_ header: [UInt8]) -> Int64? {
        let text = String(decoding: header, as: UTF8.self)
        for line in text.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":"),
                  line[..<colon].lowercased() == "content-length" else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard let length = Int64(value), length >= 0 else { return nil }
            return length
        }
        return nil
    }
}
