import Glibc

extension Ledger {
    /// The file's bytes from `offset` to its end, read under a shared lock like
    /// ``readLocked()``, so that a reader that has already seen the first `offset`
    /// bytes (the index, which remembers how far it read) does not read them again.
    /// An `offset` past the end gives no bytes.
    public func readLocked(from offset: Int) throws(ExhibitError) -> [UInt8] {
        try FileLock.withLock(path: path, .shared, what: "the ledger \(path)") { (fd: Int32) throws(ExhibitError) -> [UInt8] in
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw AtomicFile.posixError("Cannot inspect the ledger \(path)") }
            let size = Int(info.st_size)
            guard size > offset else { return [] }
            var result = [UInt8](repeating: 0, count: size - offset)
            var done = 0
            while done < result.count {
                let count = result.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
                if count == 0 { break }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFile.posixError("Cannot read the ledger \(path)")
                }
                done += count
            }
            result.removeSubrange(done...)
            return result
        }
    }

    /// The size of the ledger file now (no lock: a size that is not a line's end is
    /// seen as a change by callers, which then read under the lock).
    public func currentSize() throws(ExhibitError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw AtomicFile.posixError("Cannot inspect the ledger \(path)") }
        return Int(info.st_size)
    }
}
