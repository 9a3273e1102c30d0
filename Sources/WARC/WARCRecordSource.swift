import ChainOfCustody
import Foundation

/// Where a ``WARCReader`` gets its records: one gzip member per record from a
/// `.warc.gz` (WARC 1.1 annex D), or records laid end to end in an uncompressed
/// `.warc`. Each call hands over one record's bytes (header, block and the
/// closing CRLF CRLF) and says where it lies in the file.
protocol WARCRecordSource: AnyObject {
    var observer: DigestStream? { get set }
    func nextMember(_ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> Void) throws(ExhibitError) -> (offset: Int64, length: Int64)?
}

extension GzipMemberReader: WARCRecordSource {}

enum WARCRecordSources {
    /// A gzip file starts with 1f 8b; anything else is read as an uncompressed WARC.
    static func open(path: String, offset: Int64 = 0) throws(ExhibitError) -> any WARCRecordSource {
        if try isGzip(path) { return try GzipMemberReader(path: path, offset: offset) }
        return try PlainRecordReader(path: path, offset: offset)
    }

    static func isGzip(_ path: String) throws(ExhibitError) -> Bool {
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
    private let fd: Int32
    private let path: String
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)
    private var start = 0
    private var end = 0
    /// File bytes consumed before `buffer[start]`.
    private var consumedBefore: Int64 = 0
    var observer: DigestStream?

    init(path: String, offset: Int64 = 0) throws(ExhibitError) {
        self.path = path
        fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read \(path)") }
        if offset > 0 {
            guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else {
                close(fd)
                throw AtomicFile.posixError("Cannot read \(path) at offset \(offset)")
            }
            consumedBefore = offset
        }
    }

    deinit {
        close(fd)
    }

    private func fill() throws(ExhibitError) -> Bool {
        if start < end { return true }
        consumedBefore += Int64(end)
        start = 0
        end = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw AtomicFile.posixError("Cannot read \(path)") }
            if let observer, count > 0 {
                buffer.withUnsafeBytes { observer.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
            end = count
            return count > 0
        }
    }

    func nextMember(_ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> Void) throws(ExhibitError) -> (offset: Int64, length: Int64)? {
        guard try fill() else { return nil }
        let offset = consumedBefore + Int64(start)
        // The header, byte by byte up to CRLF CRLF (bounded like the parser's).
        var header: [UInt8] = []
        while true {
            guard try fill() else {
                throw ExhibitError(.verificationFailed, "\(path) ends inside the header of the record at offset \(offset) (truncated)")
            }
            let byte = buffer[start]
            start += 1
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
            guard try fill() else {
                throw ExhibitError(.verificationFailed, "\(path) ends inside the record at offset \(offset) (truncated)")
            }
            let take = Int(min(Int64(end - start), remaining))
            let first = start
            try withBytes(buffer) { (bytes) throws(ExhibitError) in
                try body(UnsafeRawBufferPointer(rebasing: bytes[first..<(first + take)]))
            }
            start += take
            remaining -= Int64(take)
        }
        return (offset, consumedBefore + Int64(start) - offset)
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
