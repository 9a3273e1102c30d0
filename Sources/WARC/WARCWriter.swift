public import ChainOfCustody
internal import CExhibitZlib
import Foundation

/// One WARC 1.1 record to write.
public struct WARCRecord: Sendable {
    /// What holds the record's block: bytes in memory, optionally followed by the
    /// contents of a spool file (a streamed HTTP body).
    public struct Block: Sendable {
        public var head: [UInt8]
        public var spoolPath: String?
        public var spoolLength: Int64
        /// sha256 hex of the whole block, when the caller computed it while
        /// streaming; computed by the writer otherwise (in-memory blocks only).
        public var sha256: String?

        public init(bytes: [UInt8]) {
            head = bytes
            spoolPath = nil
            spoolLength = 0
            sha256 = nil
        }

        public init(head: [UInt8], spoolPath: String, spoolLength: Int64, sha256: String) {
            self.head = head
            self.spoolPath = spoolPath
            self.spoolLength = spoolLength
            self.sha256 = sha256
        }

        public var length: Int64 { Int64(head.count) + spoolLength }
    }

    public var type: String
    public var recordID: String
    public var date: String
    public var targetURI: String?
    public var contentType: String?
    /// Further named fields, in order (WARC-IP-Address, WARC-Concurrent-To …).
    public var fields: [(String, String)]
    /// The payload's sha256: the ledger's `payload_sha256` for the record, and its
    /// `WARC-Payload-Digest` unless `payloadDigestInHeader` is false.
    public var payloadSHA256: String?
    /// False for a chunked response: the standard tools disagree on which bytes
    /// WARC-Payload-Digest covers there (DESIGN §6), so the header is left out,
    /// while the ledger still records the de-chunked payload's sha256.
    public var payloadDigestInHeader: Bool
    public var block: Block

    public init(
        type: String, recordID: String = WARCRecord.newRecordID(), date: String, targetURI: String? = nil,
        contentType: String?, fields: [(String, String)] = [], payloadSHA256: String? = nil,
        payloadDigestInHeader: Bool = true, block: Block
    ) {
        self.type = type
        self.recordID = recordID
        self.date = date
        self.targetURI = targetURI
        self.contentType = contentType
        self.fields = fields
        self.payloadSHA256 = payloadSHA256
        self.payloadDigestInHeader = payloadDigestInHeader
        self.block = block
    }

    /// `<urn:uuid:…>` with a random (version 4) UUID.
    ///
    /// Written as `UUID().uuidString.lowercased()` writes one, from OpenSSL's generator:
    /// Foundation's `UUID()` opens and reads /dev/urandom each time, three system calls
    /// per record (4,500 in a 500-page capture).
    public static func newRecordID() -> String {
        newRecordIDs(1)[0]
    }

    /// `count` record ids as `newRecordID()` makes them, from one call into OpenSSL's
    /// generator (a capture asks for a hop's three at once: each call costs some
    /// microseconds of locking whatever the length).
    public static func newRecordIDs(_ count: Int) -> [String] {
        let random = OpenSSL.randomBytes(16 * count)
        return (0..<count).map { recordID(random[(16 * $0)..<(16 * $0 + 16)]) }
    }

    /// `<urn:uuid:…>` of 16 random bytes, with the version (4) and variant bits set.
    private static func recordID(_ random: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = Array("<urn:uuid:".utf8)
        text.reserveCapacity(47)
        for (index, var byte) in random.enumerated() {
            if index == 6 { byte = byte & 0x0F | 0x40 }
            if index == 8 { byte = byte & 0x3F | 0x80 }
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        text.append(UInt8(ascii: ">"))
        return String(decoding: text, as: UTF8.self)
    }
}

/// Where a record landed in a .warc.gz: what the ledger's capture subject lists.
public struct WrittenRecord: Sendable, Equatable {
    public var id: String
    public var type: String
    public var targetURI: String?
    /// The gzip member's offset and length in the file, as `warcio index` reports.
    public var offset: Int64
    public var length: Int64
    public var blockDigest: String
    public var payloadSHA256: String?

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "type": .string(type), "offset": .integer(offset),
            "length": .integer(length), "block_digest": .string(blockDigest),
        ]
        object["target_uri"] = targetURI.map { .string($0) } ?? .null
        object["payload_sha256"] = payloadSHA256.map { .string($0) } ?? .null
        return .object(object)
    }
}

/// A record compressed as one gzip member, waiting to be appended to a WARC file.
package struct CompressedRecord: Sendable {
    package var member: [UInt8]
    /// Where it lands, once appended (the offset is set then).
    package var record: WrittenRecord
}

/// The bytes of one gzip member as its compressor hands them over.
private final class MemberBytes {
    var bytes: [UInt8] = []
}

/// Writes a `.warc.gz` (WARC 1.1, one gzip member per record) under a temporary
/// name; ``seal()`` flushes it and returns its digest, and ``commit()`` renames
/// it to its final name once the ledger has recorded it (DESIGN §2).
public final class WARCWriter {
    public let finalPath: String
    public var temporaryPath: String { finalPath + ".tmp" }
    private let fd: Int32
    private let fileDigest = DigestStream([.sha256])
    private let compressor = GzipMemberCompressor()
    /// Bytes not yet handed to the kernel, up to `writeSize`: a capture's members are a
    /// few KiB each, and one `write` per member made 1,500 system calls at the seal of
    /// 500 pages. Nothing reads the file before `seal()`, which writes the rest first.
    private var unwritten: [UInt8] = []
    private static let writeSize = 1 << 20
    /// Bytes written so far: the next record's offset.
    public private(set) var size: Int64 = 0
    public private(set) var recordCount = 0
    private var closed = false

    public init(finalPath: String) throws(ExhibitError) {
        self.finalPath = finalPath
        fd = open(finalPath + ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot create the WARC file \(finalPath).tmp") }
    }

    deinit {
        if !closed { close(fd) }
    }

    /// Appends one record as its own gzip member.
    @discardableResult
    public func write(_ record: WARCRecord) throws(ExhibitError) -> WrittenRecord {
        let blockDigest: String
        if let known = record.block.sha256 {
            blockDigest = known
        } else {
            precondition(record.block.spoolPath == nil, "a spooled block needs its digest computed while streaming")
            blockDigest = Self.sha256Hex(record.block.head)
        }
        let offset = size
        compressor.begin { [unowned self] (bytes) throws(ExhibitError) in try self.append(bytes) }
        try compressor.compress(Array(Self.header(of: record, blockDigest: blockDigest).utf8))
        try compressor.compress(record.block.head)
        if let spool = record.block.spoolPath {
            try Self.stream(spool, expectedLength: record.block.spoolLength) { (chunk) throws(ExhibitError) in
                try compressor.compress(chunk)
            }
        }
        try compressor.compress(Array("\r\n\r\n".utf8))
        try compressor.finish()
        recordCount += 1
        return WrittenRecord(
            id: record.recordID, type: record.type, targetURI: record.targetURI, offset: offset,
            length: size - offset, blockDigest: "sha256:" + blockDigest, payloadSHA256: record.payloadSHA256)
    }

    /// A record with its block in memory, compressed as its own gzip member ahead of
    /// writing, so that many can be compressed at once on different threads.
    package static func compress(_ record: WARCRecord, with compressors: GzipCompressorPool) throws(ExhibitError) -> CompressedRecord {
        precondition(record.block.spoolPath == nil, "only in-memory blocks are compressed ahead")
        let blockDigest = record.block.sha256 ?? Self.sha256Hex(record.block.head)
        let collector = MemberBytes()
        try compressors.withCompressor { (compressor) throws(ExhibitError) in
            compressor.begin { bytes in collector.bytes += bytes }
            try compressor.compress(Array(Self.header(of: record, blockDigest: blockDigest).utf8))
            try compressor.compress(record.block.head)
            try compressor.compress(Array("\r\n\r\n".utf8))
            try compressor.finish()
        }
        let member = collector.bytes
        return CompressedRecord(member: member, record: WrittenRecord(
            id: record.recordID, type: record.type, targetURI: record.targetURI, offset: 0,
            length: Int64(member.count), blockDigest: "sha256:" + blockDigest, payloadSHA256: record.payloadSHA256))
    }

    /// Appends a record compressed by `compress(_:)`.
    package func append(_ compressed: CompressedRecord) throws(ExhibitError) -> WrittenRecord {
        var written = compressed.record
        written.offset = size
        try append(compressed.member)
        recordCount += 1
        return written
    }

    /// The sha256 of an in-memory block (a request or metadata record: a few hundred
    /// bytes), in hex, without an OpenSSL digest context to set up and free, which cost
    /// more than the hashing (`PairedDigest` uses the SHA instructions where there are
    /// any, OpenSSL otherwise).
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digest = PairedDigest([.sha256])
        bytes.withUnsafeBytes { digest.update($0) }
        return Hex.encode(digest.finish()[.sha256]!)
    }

    /// The record's WARC header lines, ending with the blank line.
    static func header(of record: WARCRecord, blockDigest: String) -> String {
        var header = "WARC/1.1\r\n"
        header += "WARC-Type: \(record.type)\r\n"
        header += "WARC-Record-ID: \(record.recordID)\r\n"
        header += "WARC-Date: \(record.date)\r\n"
        if let target = record.targetURI { header += "WARC-Target-URI: \(target)\r\n" }
        for (name, value) in record.fields { header += "\(name): \(value)\r\n" }
        header += "WARC-Block-Digest: sha256:\(blockDigest)\r\n"
        if let payload = record.payloadSHA256, record.payloadDigestInHeader { header += "WARC-Payload-Digest: sha256:\(payload)\r\n" }
        if let contentType = record.contentType { header += "Content-Type: \(contentType)\r\n" }
        header += "Content-Length: \(record.block.length)\r\n\r\n"
        return header
    }

    /// Flushes the file to disk and returns its sha256 and size; no more writes.
    ///
    /// The kernel was asked to start writing each MiB as it was written (`flush`), so
    /// the fsync here waits for the last one and the file system's own commit, not for
    /// the whole file: at the seal of a capture nothing else can go on meanwhile.
    public func seal() throws(ExhibitError) -> (sha256: String, size: Int64) {
        try flush()
        guard fsync(fd) == 0 else { throw AtomicFile.posixError("Cannot flush the WARC file \(temporaryPath)") }
        close(fd)
        closed = true
        return (fileDigest.finishHex()[.sha256]!, size)
    }

    /// Renames the sealed file to its final name (after its ledger entries are on disk).
    public func commit() throws(ExhibitError) {
        precondition(closed, "commit() before seal()")
        guard rename(temporaryPath, finalPath) == 0 else {
            throw AtomicFile.posixError("Cannot rename \(temporaryPath) to \(finalPath)")
        }
        AtomicFile.syncDirectory(containing: finalPath)
    }

    /// Removes the unfinished file (a job that recorded nothing).
    public func discard() {
        if !closed { close(fd); closed = true }
        unwritten = []
        unlink(temporaryPath)
    }

    private func append(_ bytes: [UInt8]) throws(ExhibitError) {
        if unwritten.isEmpty { unwritten.reserveCapacity(Self.writeSize) }
        unwritten += bytes
        size += Int64(bytes.count)
        if unwritten.count >= Self.writeSize { try flush() }
    }

    /// Writes what `append` holds (the file's digest follows the bytes as written).
    private func flush() throws(ExhibitError) {
        guard !unwritten.isEmpty else { return }
        try AtomicFile.writeAll(fd, unwritten, path: temporaryPath)
        // Only a head start for `seal()`'s fsync; a file system without it loses nothing.
        _ = exhibit_start_writeback(fd, size - Int64(unwritten.count), Int64(unwritten.count))
        fileDigest.update(unwritten)
        unwritten.removeAll(keepingCapacity: true)
    }

    /// Reads a spool file in large blocks.
    package static func stream(_ path: String, expectedLength: Int64, _ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> Void) throws(ExhibitError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read the spool file \(path)") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw AtomicFile.posixError("Cannot read the spool file \(path)")
            }
            total += Int64(count)
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        guard total == expectedLength else {
            throw ExhibitError(.storage, "The spool file \(path) changed size while being archived (\(total) bytes, expected \(expectedLength)).")
        }
    }
}
