import ChainOfCustody
import Glibc

/// One file streamed into a new one (created private to the user, never over an
/// existing file) in large blocks, hashed on the way: one read of the source gives
/// both the copy and its digests. A bag's payload and the intake's staged copies
/// share it.
enum HashedCopy {
    /// Copies `source` to `target` with `blockSize`-byte reads and returns the hex
    /// digests of `algorithms` and the size. `createFailure` begins the sentence for
    /// a target that cannot be created (each caller words it for its own file);
    /// `sync` fsyncs the copy before it is closed.
    static func copy(
        from source: String, to target: String, algorithms: [DigestAlgorithm], blockSize: Int,
        createFailure: String, sync: Bool
    ) throws(ExhibitError) -> FileDigestCache.Result {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw AtomicFile.posixError("Cannot read \(source)") }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw AtomicFile.posixError("\(createFailure) \(target)") }
        defer { close(output) }
        let digest = DigestStream(algorithms)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(input, buffer.baseAddress, blockSize)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw AtomicFile.posixError("Cannot read \(source)") }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            digest.update(chunk)
            var written = 0
            while written < count {
                let done = Glibc.write(output, chunk.baseAddress! + written, count - written)
                if done < 0, errno == EINTR { continue }
                guard done > 0 else { throw AtomicFile.posixError("Cannot write \(target)") }
                written += done
            }
        }
        if sync {
            guard fsync(output) == 0 else { throw AtomicFile.posixError("Cannot flush \(target)") }
        }
        let size = digest.byteCount
        return (digest.finishHex(), size)
    }
}
