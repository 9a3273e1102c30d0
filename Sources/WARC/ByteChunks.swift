package import ChainOfCustody
import Foundation

/// A file's bytes in order, a chunk at a time: read from the file itself
/// (``FileChunks``), or handed over by a reader that also copies them
/// (``CopyingFileReader``). A chunk stays valid until the next call.
package protocol ByteChunks: AnyObject {
    func next() throws(ExhibitError) -> UnsafeRawBufferPointer?
}

/// Reads a file from an offset in large chunks, retrying interrupted reads.
final class FileChunks: ByteChunks {
    private let fd: Int32
    private let path: String
    private let buffer: UnsafeMutableRawBufferPointer

    init(path: String, offset: Int64 = 0, chunkSize: Int = 256 * 1024) throws(ExhibitError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read \(path)") }
        buffer = .allocate(byteCount: chunkSize, alignment: 64)
        if offset > 0, lseek(fd, off_t(offset), SEEK_SET) != off_t(offset) {
            close(fd)
            buffer.deallocate()
            throw AtomicFile.posixError("Cannot read \(path) at offset \(offset)")
        }
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    func next() throws(ExhibitError) -> UnsafeRawBufferPointer? {
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw AtomicFile.posixError("Cannot read \(path)") }
            return count == 0 ? nil : UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        }
    }
}

/// Where a record reader stands in its input: the current chunk, how much of it
/// is consumed, and the file offset of its first byte.
final class InputCursor {
    private let chunks: any ByteChunks
    private(set) var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
    var start = 0
    /// File bytes consumed before `bytes[0]`.
    private(set) var consumedBefore: Int64
    /// Sees every byte read, in order: a file's own digest from the same read that checks its records.
    var observer: DigestStream?

    init(_ chunks: any ByteChunks, offset: Int64 = 0) {
        self.chunks = chunks
        consumedBefore = offset
    }

    /// The file offset of the next unconsumed byte.
    var position: Int64 { consumedBefore + Int64(start) }
    var available: Int { bytes.count - start }

    /// Makes at least one unconsumed byte available; false at the end of the input.
    func fill() throws(ExhibitError) -> Bool {
        if start < bytes.count { return true }
        consumedBefore += Int64(bytes.count)
        start = 0
        bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        guard let next = try chunks.next(), next.count > 0 else { return false }
        observer?.update(next)
        bytes = next
        return true
    }
}
