internal import CExhibitZlib
package import ChainOfCustody
import Foundation

/// Compresses one gzip member at a time (WARC 1.1 annex D: one member per
/// record, so each record can be read on its own from its offset).
///
/// One compressor serves member after member (`begin(sink:)` resets it): zlib's
/// deflate state is a few hundred KiB that it clears on creation, and creating
/// one per record cost more than compressing a 20 KB page.
///
/// zlib deflates raw here and the member's header and trailer are written as zlib's
/// gzip mode writes them (RFC 1952: no name, time 0, the extra flags zlib sets for
/// the level, OS 3), byte for byte the same member: the trailer's CRC-32 comes from
/// exhibit_crc32 (carry-less multiplication), where zlib's own crc32 was about a
/// thirtieth of the compressing thread's time.
final class GzipMemberCompressor {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 32 * 1024)
    private var sink: ([UInt8]) throws(ExhibitError) -> Void = { _ in }
    private var used = false
    private let header: [UInt8]
    /// CRC-32 and length of the member's uncompressed bytes so far.
    private var crc: UInt32 = 0
    private var length: UInt32 = 0

    /// Level 1 by default: at level 6 compression took a fifth of a capture's
    /// time for a few percent of disk (docs/benchmarks.md); any reader inflates either.
    init(level: Int32 = 1) {
        // Only fails on out-of-memory or a wrong zlib version, neither recoverable.
        precondition(exhibit_deflate_init_raw(&stream, level) == Z_OK, "zlib deflateInit2 failed")
        // deflate.c's gzip header without gzhead: XFL 2 at level 9, 4 at the fastest levels.
        let extraFlags: UInt8 = level == 9 ? 2 : (level < 2 ? 4 : 0)
        header = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, extraFlags, 3]
    }

    deinit {
        deflateEnd(&stream)
    }

    /// Starts a member; `sink` receives its compressed bytes in order.
    func begin(sink: @escaping ([UInt8]) throws(ExhibitError) -> Void) {
        if used { deflateReset(&stream) }
        used = true
        self.sink = sink
        crc = 0
        length = 0
        started = false
    }

    /// Whether the member's header went out (with its first compressed bytes).
    private var started = false

    func compress(_ bytes: UnsafeRawBufferPointer) throws(ExhibitError) {
        guard bytes.count > 0 else { return }
        crc = exhibit_crc32(crc, bytes.baseAddress, bytes.count)
        length &+= UInt32(truncatingIfNeeded: bytes.count)
        try run(bytes, flush: Z_NO_FLUSH)
    }

    func compress(_ bytes: [UInt8]) throws(ExhibitError) {
        try withBytes(bytes) { (buffer) throws(ExhibitError) in try compress(buffer) }
    }

    /// Ends the member; the next starts with `begin(sink:)`.
    func finish() throws(ExhibitError) {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        var trailer = [UInt8](repeating: 0, count: 8)
        for index in 0..<4 {
            trailer[index] = UInt8(truncatingIfNeeded: crc >> (8 * index))
            trailer[4 + index] = UInt8(truncatingIfNeeded: length >> (8 * index))
        }
        try sink(trailer)
        // An idle compressor keeps nothing of the member it wrote.
        sink = { _ in }
    }

    private func run(_ input: UnsafeRawBufferPointer, flush: Int32) throws(ExhibitError) {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while true {
            let status: Int32 = output.withUnsafeMutableBufferPointer { buffer in
                stream.next_out = buffer.baseAddress
                stream.avail_out = uInt(buffer.count)
                return deflate(&stream, flush)
            }
            let produced = output.count - Int(stream.avail_out)
            if produced > 0 {
                if started {
                    try sink(Array(output[0..<produced]))
                } else {
                    started = true
                    try sink(header + output[0..<produced])
                }
            }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    throw ExhibitError(.storage, "zlib could not compress a WARC record (status \(status)).")
                }
            } else if stream.avail_in == 0 && stream.avail_out != 0 {
                return
            }
        }
    }
}

/// Compressors kept for reuse by the threads that compress a capture's records.
package final class GzipCompressorPool: @unchecked Sendable {
    // `idle` is read and written only while `lock` is held.
    private let lock = NSLock()
    private var idle: [GzipMemberCompressor] = []

    package init() {}

    /// Runs `body` with a compressor no other thread is using.
    func withCompressor<T>(_ body: (GzipMemberCompressor) throws(ExhibitError) -> T) throws(ExhibitError) -> T {
        lock.lock()
        let compressor = idle.popLast() ?? GzipMemberCompressor()
        lock.unlock()
        defer {
            lock.lock()
            idle.append(compressor)
            lock.unlock()
        }
        return try body(compressor)
    }
}

/// Decompresses a sequence of gzip members, reporting each member's compressed
/// offset and length (what `warcio index` calls offset and length).
final class GzipMemberReader {
    let input: InputCursor
    /// Output buffers for every member (a WARC file has thousands of small ones): two
    /// when the record checks hash in the background (a ``RidingDigest``'s passes), one
    /// inflated into while the other is hashed; one otherwise.
    private let outputs: [UnsafeMutableRawBufferPointer]
    private var turn = 0
    private let rider: RidingDigest?
    private let path: String
    /// Reads `chunks`, whose first byte is at `offset` of the file: the start of a
    /// member, as a ledger's record list gives it.
    init(_ chunks: any ByteChunks, path: String, offset: Int64 = 0) {
        self.path = path
        input = InputCursor(chunks, offset: offset)
        rider = (chunks as? CopyingFileReader)?.rider
        (chunks as? CopyingFileReader)?.passesReadChunks = false
        outputs = (0..<(rider == nil ? 1 : 2)).map { _ in .allocate(byteCount: 1 << 20, alignment: 64) }
    }

    deinit {
        // A pass may still read an output buffer (a record check that failed midway).
        rider?.waitForPasses()
        for output in outputs { output.deallocate() }
    }

    /// Reads the next member, passing its decompressed bytes to `body` in pieces;
    /// returns the member's (offset, length) in the compressed file, or nil at the end.
    func nextMember(_ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> Void) throws(ExhibitError) -> (offset: Int64, length: Int64)? {
        guard try input.fill() else { return nil }
        let offset = input.position
        var stream = z_stream()
        guard exhibit_inflate_init_gzip(&stream) == Z_OK else {
            throw ExhibitError(.storage, "zlib could not start decompressing \(path).")
        }
        defer { inflateEnd(&stream) }
        // The member's CRC-32 is computed here (exhibit_crc32: a fraction of zlib's
        // cost) and checked against its trailer, with the length, as zlib would.
        inflateValidate(&stream, 0)
        var crc: UInt32 = 0
        var trailer: UInt64 = 0  // the last 8 bytes consumed, the newest on top
        while true {
            guard try input.fill() else {
                throw ExhibitError(.verificationFailed, "\(path) ends inside a gzip member at offset \(offset) (truncated)")
            }
            // At most one background pass runs, over the buffer last handed on: the
            // other one is free (each hand-over waits for the pass before it).
            let output = outputs[turn]
            let available = input.available
            stream.next_in = UnsafeMutablePointer(mutating: input.bytes.baseAddress!.assumingMemoryBound(to: Bytef.self) + input.start)
            stream.avail_in = uInt(available)
            stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(output.count)
            let status = inflate(&stream, Z_NO_FLUSH)
            let produced = output.count - Int(stream.avail_out)
            let consumed = available - Int(stream.avail_in)
            for index in max(0, consumed - 8)..<consumed {
                trailer = trailer >> 8 | UInt64(input.bytes[input.start + index]) << 56
            }
            input.start += consumed
            if produced > 0 {
                let bytes = UnsafeRawBufferPointer(rebasing: output[0..<produced])
                crc = exhibit_crc32(crc, bytes.baseAddress, produced)
                try body(bytes)
                turn = (turn + 1) % outputs.count
            }
            if status == Z_STREAM_END {
                guard UInt32(truncatingIfNeeded: trailer) == crc, UInt32(truncatingIfNeeded: trailer >> 32) == UInt32(truncatingIfNeeded: stream.total_out) else {
                    throw ExhibitError(.verificationFailed, "\(path) has a damaged gzip member at offset \(offset) (its CRC-32 or length does not match its bytes)")
                }
                return (offset, input.position - offset)
            }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                throw ExhibitError(.verificationFailed, "\(path) has a damaged gzip member at offset \(offset) (zlib status \(status))")
            }
        }
    }
}

/// `Array.withUnsafeBytes` rethrows untyped errors; this keeps ExhibitError typed.
package func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> R) throws(ExhibitError) -> R {
    var result: Result<R, ExhibitError>?
    array.withUnsafeBytes { buffer in
        result = Result { () throws(ExhibitError) -> R in try body(buffer) }
    }
    return try result!.get()
}
