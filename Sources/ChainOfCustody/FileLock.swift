import Foundation

/// An advisory `flock` on an open file, held for the length of a closure.
///
/// The case ledger, the witness log and the disposal register are appended by
/// several processes at once; each append takes the exclusive lock and each
/// reader the shared one, so nobody sees a line half-written.
public enum FileLock {
    public enum Mode: Sendable { case shared, exclusive }

    /// Runs `body` while `fd` is locked; `what` names the file in errors.
    public static func withLock<T>(
        _ fd: Int32, _ mode: Mode, what: String, _ body: () throws(ExhibitError) -> T
    ) throws(ExhibitError) -> T {
        while flock(fd, mode == .exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { throw AtomicFile.posixError("Cannot lock \(what)") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Opens `path` with `flags` and runs `body` with the file locked.
    public static func withLock<T>(
        path: String, flags: Int32 = 0 /* O_RDONLY */, _ mode: Mode, what: String, _ body: (Int32) throws(ExhibitError) -> T
    ) throws(ExhibitError) -> T {
        let fd = open(path, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot open \(what)") }
        defer { close(fd) }
        return try withLock(fd, mode, what: what) { () throws(ExhibitError) -> T in try body(fd) }
    }

    /// Takes the lock without waiting; false when another holder has it.
    public static func tryLock(_ fd: Int32, _ mode: Mode) -> Bool {
        while flock(fd, (mode == .exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            guard errno == EINTR else { return false }
        }
        return true
    }

    /// Releases a lock taken with ``tryLock(_:_:)``.
    public static func unlock(_ fd: Int32) {
        flock(fd, LOCK_UN)
    }

    /// A lock held for as long as the object lives: for a lock that spans a piece
    /// of work rather than one call (a case's writers, an export in progress).
    /// The kernel drops it if the process dies, so it also tells others whether
    /// its holder is still running.
    public final class Held {
        public let fd: Int32

        /// Opens `path` (a file or directory, per `flags`) and takes the lock,
        /// waiting when `wait` is true; throws `busy` when it is false and the lock
        /// is taken.
        public init(path: String, flags: Int32 = 0 /* O_RDONLY */, mode: Mode, wait: Bool, what: String,
                    busy: @autoclosure () -> ExhibitError) throws(ExhibitError) {
            fd = open(path, flags | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw AtomicFile.posixError("Cannot open \(what)") }
            if wait {
                while flock(fd, mode == .exclusive ? LOCK_EX : LOCK_SH) != 0 {
                    guard errno == EINTR else {
                        let error = AtomicFile.posixError("Cannot lock \(what)")
                        close(fd)
                        throw error
                    }
                }
            } else if !FileLock.tryLock(fd, mode) {
                close(fd)
                throw busy()
            }
        }

        deinit {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }
}

/// Appending to a hash-chained log file so that a failure leaves no trace.
public enum AppendOnlyFile {
    /// Writes `bytes` at the end of `fd` (opened with `O_APPEND`) and fsyncs. On a
    /// short write, ENOSPC, EIO or any other error the file is cut back to
    /// `previousSize` and fsynced before the error is thrown (DESIGN §16): a full
    /// disk must not leave a torn line that blocks every later append.
    public static func append(_ bytes: [UInt8], to fd: Int32, previousSize: Int64, what: String) throws(ExhibitError) {
        do throws(ExhibitError) {
            try AtomicFile.writeAll(fd, bytes, path: what)
            guard fsync(fd) == 0 else { throw AtomicFile.posixError("Cannot flush \(what)") }
        } catch {
            rollBack(fd, to: previousSize)
            throw error
        }
    }

    /// Cuts the file back to `size` and makes that durable.
    public static func rollBack(_ fd: Int32, to size: Int64) {
        _ = ftruncate(fd, off_t(size))
        _ = fsync(fd)
    }

    /// The size of the open file.
    public static func size(_ fd: Int32, what: String) throws(ExhibitError) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AtomicFile.posixError("Cannot inspect \(what)") }
        return Int64(info.st_size)
    }

    /// The lines of the file, last first, read backwards in growing windows until
    /// `stop` returns true for one of them or the file's start is reached, so finding
    /// a recent line costs the same in a long file as in a short one. A final line
    /// without newline is passed as unterminated.
    public static func scanBackwards(_ fd: Int32, what: String, _ stop: (Ledger.Line) -> Bool) throws(ExhibitError) {
        var end = Int(try self.size(fd, what: what))
        var window = 64 * 1024
        // The start of a line that began before the window last read, with its newline.
        var carry: [UInt8] = []
        while end > 0 || !carry.isEmpty {
            let start = max(0, end - window)
            var chunk = [UInt8](repeating: 0, count: end - start)
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
            guard count == chunk.count else { throw AtomicFile.posixError("Cannot read \(what)") }
            chunk += carry
            var lines = Ledger.lines(of: chunk)[...]
            if start > 0 {
                // The first piece may begin before this window: keep it for the next.
                guard let newline = chunk.firstIndex(of: UInt8(ascii: "\n")), newline + 1 < chunk.count else {
                    carry = chunk
                    end = start
                    window *= 4
                    continue
                }
                carry = Array(chunk[...newline])
                lines = lines.dropFirst()
            } else {
                carry = []
            }
            for line in lines.reversed() where stop(line) { return }
            end = start
            window *= 4
        }
    }
}
