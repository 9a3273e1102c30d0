package import ChainOfCustody
import Foundation

/// Reads a file once and does three things with each chunk at the same time: its
/// sha256 on the reading thread, a copy to `destination` on a writing thread, and
/// whatever the caller does with ``next()`` (a WARC's record checks) on the
/// caller's thread. What is checked is therefore exactly what is kept: the same
/// bytes in memory are hashed, written and checked.
///
/// With `ridesDigest` (and the CPU's SHA instructions), the file's sha256 is not
/// taken on the reading thread: each chunk handed to the caller is queued on
/// ``rider``, whose bytes the record checks hash beside their payloads' sha256 in one
/// paired pass (``RidingDigest``); what no payload carried is hashed on the caller's
/// thread, in ``next()`` once more than two chunks wait, and in ``finish()``.
///
/// The copy is written with O_DIRECT where the file system allows it: a buffered
/// copy of 1 GiB then fsync spent ~6 s flushing the page cache on the bench
/// machine, against ~0.7 s for the same bytes written directly (docs/import.md).
/// Memory stays at `depth` chunks whatever the file's size.
package final class CopyingFileReader: ByteChunks, @unchecked Sendable {
    // Shared state is read and written only while `condition` is locked.
    private let condition = NSCondition()
    private var filled: [Int] = []          // chunks read, in order, for the caller
    private var toWrite: [Int] = []         // chunks read, in order, for the writer
    private var free: [Int]
    private var users: [Int]                // per chunk: how many of caller and writer still need it
    private var lengths: [Int]
    private var readDone = false
    private var writeDone = false
    private var failure: ExhibitError?
    private var cancelled = false
    private var current: Int?

    private let chunks: [UnsafeMutableRawBufferPointer]
    private let input: Int32
    private let output: Int32
    private let direct: Bool
    private let source: String
    private let destination: String
    private let digest = DigestStream([.sha256])
    /// The file's sha256 when it rides with the caller's digests; nil: `digest` on the reading thread.
    package let rider: RidingDigest?
    /// Whether the rider's background passes may read the chunk last handed out (an
    /// uncompressed WARC's blocks are hashed straight from it), so that ``next()``
    /// waits for them before it lets that chunk go. A gzip reader hashes its own
    /// inflated bytes and clears this: the passes then run on while it reads on.
    package var passesReadChunks = true
    private var threads: [Thread] = []
    private let finished = DispatchGroup()

    /// O_DIRECT from Linux's <asm/fcntl.h>, which Glibc exports only under _GNU_SOURCE.
    #if arch(arm64)
    static let directIO: Int32 = 0o200000
    #else
    static let directIO: Int32 = 0o40000
    #endif

    /// Opens `source` and creates `destination` (which must not exist), and starts reading.
    package init(source: String, destination: String, chunkSize: Int = 2 << 20, depth: Int = 8, ridesDigest: Bool = false) throws(ExhibitError) {
        rider = ridesDigest ? RidingDigest() : nil
        self.source = source
        self.destination = destination
        input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw AtomicFile.posixError("Cannot read \(source)") }
        var fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | Self.directIO, 0o600)
        direct = fd >= 0
        if fd < 0, errno == EINVAL { fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        guard fd >= 0 else {
            close(input)
            throw AtomicFile.posixError("Cannot write \(destination)")
        }
        output = fd
        // Direct I/O wants buffers, offsets and lengths aligned to the block size.
        chunks = (0..<depth).map { _ in .allocate(byteCount: chunkSize, alignment: 4096) }
        free = Array(0..<depth)
        users = Array(repeating: 0, count: depth)
        lengths = Array(repeating: 0, count: depth)
        start { $0.readLoop() }
        start { $0.writeLoop() }
    }

    deinit {
        close(input)
        close(output)
        for chunk in chunks { chunk.deallocate() }
    }

    private func start(_ body: @escaping @Sendable (CopyingFileReader) -> Void) {
        finished.enter()
        let thread = Thread { [self] in
            body(self)
            finished.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The next chunk for the caller; the previous one is released.
    package func next() throws(ExhibitError) -> UnsafeRawBufferPointer? {
        // Chunks no payload carried are hashed here, so that the reader never waits
        // for free chunks the rider holds (outside the lock: a release takes it).
        rider?.drain(keeping: 2)
        if passesReadChunks { rider?.waitForPasses() }
        condition.lock()
        if let current { release(current) }
        current = nil
        while filled.isEmpty && !readDone && failure == nil { condition.wait() }
        if let failure {
            condition.unlock()
            throw failure
        }
        guard !filled.isEmpty else {
            condition.unlock()
            return nil
        }
        let index = filled.removeFirst()
        current = index
        condition.unlock()
        let chunk = UnsafeRawBufferPointer(rebasing: chunks[index][0..<lengths[index]])
        queueOnRider(index)
        return chunk
    }

    /// Hands chunk `index` to the rider, which releases it once hashed.
    private func queueOnRider(_ index: Int) {
        rider?.append(UnsafeRawBufferPointer(rebasing: chunks[index][0..<lengths[index]])) { [unowned self] in
            condition.lock()
            release(index)
            condition.unlock()
        }
    }

    /// Waits for the copy to be whole and flushed; returns its sha256 and size.
    /// Call after the last ``next()`` (or after the caller gave up: ``cancel()``).
    package func finish() throws(ExhibitError) -> (sha256: String, size: Int64) {
        finished.wait()
        condition.lock()
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
        let sha256: String
        let size: Int64
        if let rider {
            // Chunks read but never asked for still belong to the file.
            condition.lock()
            let unread = filled
            filled = []
            condition.unlock()
            for index in unread { queueOnRider(index) }
            sha256 = rider.finishHex()
            size = rider.byteCount
        } else {
            sha256 = digest.finishHex()[.sha256]!
            size = digest.byteCount
        }
        if direct, ftruncate(output, off_t(size)) != 0 { throw AtomicFile.posixError("Cannot write \(destination)") }
        guard fsync(output) == 0 else { throw AtomicFile.posixError("Cannot flush \(destination)") }
        return (sha256, size)
    }

    /// Stops reading and writing (the caller failed); waits for both threads.
    package func cancel() {
        rider?.waitForPasses()
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }

    /// Called with the lock held.
    private func release(_ index: Int) {
        users[index] -= 1
        if users[index] == 0 {
            free.append(index)
            condition.broadcast()
        }
    }

    private func fail(_ error: ExhibitError) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    private func readLoop() {
        while true {
            condition.lock()
            while free.isEmpty && !cancelled && failure == nil { condition.wait() }
            if cancelled || failure != nil {
                readDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let index = free.removeFirst()
            condition.unlock()
            // A whole chunk unless at the end: direct writes need aligned offsets.
            let chunk = chunks[index]
            var count = 0
            while count < chunk.count {
                let got = read(input, chunk.baseAddress! + count, chunk.count - count)
                if got < 0, errno == EINTR { continue }
                if got < 0 { return finishReading(failing: AtomicFile.posixError("Cannot read \(source)")) }
                if got == 0 { break }
                count += got
            }
            if count == 0 {
                condition.lock()
                free.append(index)
                condition.unlock()
                return finishReading(failing: nil)
            }
            if rider == nil { digest.update(UnsafeRawBufferPointer(rebasing: chunk[0..<count])) }
            condition.lock()
            lengths[index] = count
            // The caller and the writer, and the rider when the file's digest rides.
            users[index] = rider == nil ? 2 : 3
            filled.append(index)
            toWrite.append(index)
            condition.broadcast()
            condition.unlock()
        }
    }

    private func finishReading(failing error: ExhibitError?) {
        condition.lock()
        if let error, failure == nil { failure = error }
        readDone = true
        condition.broadcast()
        condition.unlock()
    }

    private func writeLoop() {
        while true {
            condition.lock()
            while toWrite.isEmpty && !readDone && !cancelled && failure == nil { condition.wait() }
            if cancelled || failure != nil || toWrite.isEmpty {
                writeDone = true
                condition.unlock()
                return
            }
            let index = toWrite.removeFirst()
            condition.unlock()
            let chunk = chunks[index]
            var length = lengths[index]
            if direct, length % 4096 != 0 {
                // The last chunk: padded to the block size, cut back by finish().
                let padded = (length + 4095) / 4096 * 4096
                (chunk.baseAddress! + length).initializeMemory(as: UInt8.self, repeating: 0, count: padded - length)
                length = padded
            }
            var written = 0
            while written < length {
                let result = write(output, chunk.baseAddress! + written, length - written)
                if result < 0, errno == EINTR { continue }
                if result < 0 { return fail(AtomicFile.posixError("Cannot write \(destination)")) }
                written += result
            }
            condition.lock()
            release(index)
            condition.unlock()
        }
    }
}
