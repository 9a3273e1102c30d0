public import ChainOfCustody
import Foundation

/// An HTTP response read back from a case's WARC file, with its body decoded for
/// analysis: what `exhibit reindex` analyses, so the index can be rebuilt from
/// the WARC files and the ledger alone.
public struct ArchivedResponse: Sendable {
    public var targetURI: String
    public var status: Int
    public var contentType: String?
    /// The payload with chunk framing and gzip/deflate undone (decoded size capped at 16 MiB).
    public var body: [UInt8]
    /// The payload as the server sent it, de-chunked but not decoded: what a
    /// capture's `payload_sha256` covers.
    public var payload: [UInt8]

    /// Larger bodies are not analysed, at capture or on reindex.
    public static let analysisLimit = 16 << 20

    /// Reads the `response` record whose gzip member starts at `offset`.
    public init(warcPath: String, offset: Int64) throws(ExhibitError) {
        // Nothing here reads the block's digest: the ledger holds the payload's.
        try self.init(try WARCReader(path: warcPath, keepBlocksUpTo: Int64(Self.analysisLimit) + (1 << 20), computesBlockDigest: false).record(at: offset),
                      warcPath: warcPath, offset: offset)
    }

    /// Reads the `response` record whose gzip member starts at `offset` and is `length`
    /// bytes long, as a capture entry records it: only the member's bytes are read, not
    /// the reader's 256 KiB chunk (a watch run reads a thousand small pages this way).
    /// Without a length, or for a member that is not gzip, as `init(warcPath:offset:)`.
    public init(warcPath: String, offset: Int64, length: Int64?) throws(ExhibitError) {
        guard let length, length > 18, length <= Int64(Self.analysisLimit) else {
            try self.init(warcPath: warcPath, offset: offset)
            return
        }
        var first: ReadRecord?
        if let member = try? MemberBytes(path: warcPath, offset: offset, length: Int(length)), member.isGzip {
            // The payload's SHA-1 and the block's SHA-256 are for digest checks; nothing here reads them.
            try? WARCReader(path: warcPath, keepBlocksUpTo: Int64(Self.analysisLimit) + (1 << 20), computesPayloadSHA1: false,
                            computesBlockDigest: false)
                .forEachRecord(from: member, gzip: true) { record in if first == nil { first = record } }
        }
        // A length that does not frame one member is read the long way.
        guard let first else {
            try self.init(warcPath: warcPath, offset: offset)
            return
        }
        try self.init(first, warcPath: warcPath, offset: offset)
    }

    private init(_ record: ReadRecord, warcPath: String, offset: Int64) throws(ExhibitError) {
        guard record.type == "response", let block = record.block else {
            throw ExhibitError(.verificationFailed, "The record at offset \(offset) of \(warcPath) is not a response that can be analysed.")
        }
        targetURI = record.targetURI ?? ""
        guard let head = record.httpHead else {
            throw ExhibitError(.verificationFailed, "The response at offset \(offset) of \(warcPath) has no complete HTTP header.")
        }
        status = HTTPHead.statusCode(in: head).flatMap { Int($0) } ?? 0
        contentType = HTTPHead.firstValue(of: "content-type", in: head)
        let chunked = HTTPHead.firstValue(of: "transfer-encoding", in: head)?.lowercased().contains("chunked") ?? false
        // The head ends with a blank line: CRLF CRLF.
        let raw = Array(block[(head.count + 4)...])
        guard raw.count <= Self.analysisLimit else {
            throw ExhibitError(.verificationFailed, "The response at offset \(offset) of \(warcPath) is larger than \(Self.analysisLimit >> 20) MiB and is not analysed.")
        }
        payload = ContentDecoding.payload(raw, chunked: chunked, contentEncoding: nil, limit: Self.analysisLimit)
        body = ContentDecoding.payload(payload, chunked: false, contentEncoding: HTTPHead.firstValue(of: "content-encoding", in: head), limit: Self.analysisLimit)
    }
}

/// The bytes of one gzip member of a WARC file, read at once (its offset and length
/// come from the ledger), as the only chunk of a record reader's input.
private final class MemberBytes: ByteChunks {
    private let buffer: UnsafeMutableRawBufferPointer
    private let count: Int
    private var handedOut = false
    let isGzip: Bool

    init(path: String, offset: Int64, length: Int) throws(ExhibitError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read \(path)") }
        defer { close(fd) }
        buffer = .allocate(byteCount: length, alignment: 64)
        var filled = 0
        while filled < length {
            let read = pread(fd, buffer.baseAddress! + filled, length - filled, off_t(offset) + off_t(filled))
            if read < 0, errno == EINTR { continue }
            guard read >= 0 else {
                buffer.deallocate()
                throw AtomicFile.posixError("Cannot read \(path) at offset \(offset)")
            }
            if read == 0 { break }
            filled += read
        }
        count = filled
        isGzip = filled >= 2 && buffer[0] == 0x1F && buffer[1] == 0x8B
    }

    deinit {
        buffer.deallocate()
    }

    func next() throws(ExhibitError) -> UnsafeRawBufferPointer? {
        guard !handedOut, count > 0 else { return nil }
        handedOut = true
        return UnsafeRawBufferPointer(rebasing: buffer[0..<count])
    }
}

/// An HTTP response read back from a WARC `response` record for replay: the
/// status and header fields as stored, and the body with its chunk framing
/// undone but its content coding (gzip, br …) kept, so a browser receives the
/// bytes the server sent (DESIGN §14 stores chunked bodies framed).
public struct ReplayedMessage: Sendable {
    public var recordID: String
    /// The record's WARC-Date (`2026-12-01T10:42:55.982417Z`).
    public var date: String
    public var targetURI: String
    public var status: Int
    /// The status line's reason phrase, as the server wrote it.
    public var reason: String
    /// Header fields in order, names as sent.
    public var headers: [(String, String)]
    /// The payload, de-chunked when it was sent chunked.
    public var body: [UInt8]
    /// `sha256:<hex>` of the record block, recomputed while reading.
    public var blockDigest: String

    /// Bodies larger than this are not replayed (they are read into memory).
    public static let replayLimit: Int64 = 320 << 20

    /// Reads the `response` record whose gzip member starts at `offset`.
    public init(warcPath: String, offset: Int64) throws(ExhibitError) {
        let record = try WARCReader(path: warcPath, keepBlocksUpTo: Self.replayLimit).record(at: offset)
        guard record.type == "response", let head = record.httpHead else {
            throw ExhibitError(.verificationFailed, "The record at offset \(offset) of \(warcPath) is not an HTTP response.")
        }
        guard let block = record.block else {
            throw ExhibitError(.storage, "The response at offset \(offset) of \(warcPath) is larger than \(Self.replayLimit >> 20) MiB and is not replayed.")
        }
        recordID = record.recordID ?? ""
        date = record.field("WARC-Date") ?? ""
        targetURI = record.targetURI ?? ""
        blockDigest = "sha256:" + record.blockSHA256
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.isEmpty ? "" : lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        reason = parts.count > 2 ? String(parts[2]) : ""
        var fields: [(String, String)] = []
        for line in lines {
            if let first = line.first, first == " " || first == "\t", !fields.isEmpty {
                fields[fields.count - 1].1 += " " + line.trimming(" \t")
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimming(" \t")))
        }
        headers = fields
        let chunked = HTTPHead.firstValue(of: "transfer-encoding", in: head)?.lowercased().contains("chunked") ?? false
        let raw = head.count + 4 <= block.count ? Array(block[(head.count + 4)...]) : []
        body = chunked ? ContentDecoding.payload(raw, chunked: true, contentEncoding: nil, limit: Int(Self.replayLimit)) : raw
    }
}
