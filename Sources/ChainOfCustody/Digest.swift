internal import COpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A digest algorithm Exhibit computes with OpenSSL's EVP interface.
///
/// SHA-256 is the evidence digest everywhere; SHA-512, SHA-1 and MD5 are
/// computed on request in the same pass because legacy forensic tools quote them.
public enum DigestAlgorithm: String, Sendable, CaseIterable, Codable, Hashable {
    case sha256, sha512, sha1, md5

    fileprivate var evp: OpaquePointer? {
        switch self {
        case .sha256: EVP_sha256()
        case .sha512: EVP_sha512()
        case .sha1: EVP_sha1()
        case .md5: EVP_md5()
        }
    }
}

/// A streaming digest over one or more algorithms, fed once.
///
/// Owns one `EVP_MD_CTX` per algorithm, freed in `deinit`. Not for sharing
/// between threads: feed it from the thread that reads the data.
public final class DigestStream {
    private let algorithms: [DigestAlgorithm]
    private var contexts: [OpaquePointer]
    private var finished = false
    /// How many bytes have been fed so far.
    public private(set) var byteCount: Int64 = 0

    public init(_ algorithms: [DigestAlgorithm] = [.sha256]) {
        OpenSSL.initialize()
        var unique: [DigestAlgorithm] = []
        for algorithm in algorithms where !unique.contains(algorithm) { unique.append(algorithm) }
        self.algorithms = unique
        self.contexts = unique.map { algorithm in
            // EVP_MD_CTX_new fails only when memory is exhausted; crashing then is correct.
            let context = EVP_MD_CTX_new()!
            precondition(EVP_DigestInit_ex(context, algorithm.evp, nil) == 1, "EVP_DigestInit_ex failed")
            return context
        }
    }

    deinit {
        for context in contexts { EVP_MD_CTX_free(context) }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "DigestStream used after finish()")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        for context in contexts {
            EVP_DigestUpdate(context, base, bytes.count)
        }
        byteCount += Int64(bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Finishes every algorithm; the stream cannot be fed afterwards.
    public func finish() -> [DigestAlgorithm: [UInt8]] {
        precondition(!finished, "DigestStream finished twice")
        finished = true
        var result: [DigestAlgorithm: [UInt8]] = [:]
        for (algorithm, context) in zip(algorithms, contexts) {
            var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &output, &length)
            result[algorithm] = Array(output.prefix(Int(length)))
        }
        return result
    }

    /// Finishes and returns lowercase hex per algorithm.
    public func finishHex() -> [DigestAlgorithm: String] {
        finish().mapValues { Hex.encode($0) }
    }
}

/// One-shot digests.
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        let stream = DigestStream([.sha256])
        stream.update(bytes)
        return stream.finish()[.sha256]!
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.encode(sha256(bytes))
    }

    public static func sha256Hex(_ text: String) -> String {
        sha256Hex(Array(text.utf8))
    }

    /// The digests and size of a file, read once in large blocks.
    ///
    /// Several algorithms over a big file are split between two threads that hash
    /// the same block at once: their costs add up on one core (MD5 and SHA-512 each
    /// take about twice as long as SHA-256 with the CPU's SHA extensions).
    /// Blocking: call it from a thread of its own, not the Swift concurrency pool.
    public static func file(
        atPath path: String, algorithms: [DigestAlgorithm] = [.sha256]
    ) throws(ExhibitError) -> (digests: [DigestAlgorithm: String], size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ExhibitError(.storage, "Cannot read \(path): \(String(cString: strerror(errno))).")
        }
        defer { close(fd) }
        var info = stat()
        let big = fstat(fd, &info) == 0 && Int64(info.st_size) >= splitThreshold
        let groups = big && Parallel.width > 1 ? split(algorithms) : [algorithms]
        let streams = OwnedStreams(groups.map { DigestStream($0) })
        // A small file's buffer is its size (and one byte, to meet the end in the second
        // read): verify reads 6,000 files of ~100 KB, and a fresh 1 MiB buffer each came
        // from its own mapping, every page faulted in again by the read.
        let blockSize = big ? 4 << 20 : min(1 << 20, max(4096, Int(info.st_size) + 1))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
        defer { buffer.deallocate() }
        var size: Int64 = 0
        while true {
            let count = read(fd, buffer.baseAddress, blockSize)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ExhibitError(.storage, "Cannot read \(path): \(String(cString: strerror(errno))).")
            }
            let block = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            if streams.all.count == 1 {
                streams.all[0].update(block)
            } else {
                let round = Round(streams: streams.all, block: block)
                DispatchQueue.concurrentPerform(iterations: round.streams.count) { round.streams[$0].update(round.block) }
            }
            size += Int64(count)
        }
        var digests: [DigestAlgorithm: String] = [:]
        for stream in streams.all { digests.merge(stream.finishHex()) { first, _ in first } }
        return (digests, size)
    }

    private struct OwnedStreams {
        let all: [DigestStream]
        init(_ all: [DigestStream]) { self.all = all }
    }

    /// One block for the threads of `concurrentPerform`: each iteration feeds only
    /// its own stream and only reads the block, and the caller waits for all of them
    /// before it reads the next block into the same buffer.
    private struct Round: @unchecked Sendable {
        let streams: [DigestStream]
        let block: UnsafeRawBufferPointer
    }

    /// Files from this size (8 MiB) hash several algorithms on two threads.
    static let splitThreshold: Int64 = 8 << 20

    /// Two groups of about equal cost (relative times per byte measured with
    /// `openssl speed` on x86-64 with SHA extensions).
    static func split(_ algorithms: [DigestAlgorithm]) -> [[DigestAlgorithm]] {
        guard algorithms.count > 1 else { return [algorithms] }
        func cost(_ algorithm: DigestAlgorithm) -> Double {
            switch algorithm {
            case .md5: 1.6
            case .sha512: 1.3
            case .sha256: 0.65
            case .sha1: 0.5
            }
        }
        var groups: [[DigestAlgorithm]] = [[], []]
        var totals = [0.0, 0.0]
        for algorithm in algorithms.sorted(by: { cost($0) > cost($1) }) {
            let lighter = totals[0] <= totals[1] ? 0 : 1
            groups[lighter].append(algorithm)
            totals[lighter] += cost(algorithm)
        }
        return groups
    }
}

/// Digests of files already read during one verification, so that each file is
/// read once for every check that needs it (a bag's two manifests, the ledger's
/// file digests, the WARC record checks) and hashed on every core.
///
/// `algorithms` are computed whenever a file is read, even when the first caller
/// asks for fewer: a bag needs SHA-256 and SHA-512 of every payload file, and the
/// case check inside it asks for SHA-256 of the same files.
///
/// A file being read is marked as such: a caller that needs its digests waits for
/// that read instead of starting another, and a prefetch passes it by.
public final class FileDigestCache: @unchecked Sendable {
    public typealias Result = (digests: [DigestAlgorithm: String], size: Int64)
    public let algorithms: [DigestAlgorithm]
    // `known` and `reading` are touched only while `condition` is locked (a pthread
    // mutex, which ThreadSanitizer sees, unlike Synchronization's futex-based Mutex).
    private let condition = NSCondition()
    private var known: [String: Result] = [:]
    private var reading: Set<String> = []

    public init(algorithms: [DigestAlgorithm] = [.sha256]) {
        self.algorithms = algorithms.contains(.sha256) ? algorithms : [.sha256] + algorithms
    }

    /// The digests of the file at `path`, from the cache or read now; waits for a
    /// read of it in progress.
    public func digests(atPath path: String, algorithms wanted: [DigestAlgorithm] = [.sha256]) throws(ExhibitError) -> Result {
        var all = algorithms
        for algorithm in wanted where !all.contains(algorithm) { all.append(algorithm) }
        condition.lock()
        while reading.contains(path) { condition.wait() }
        if let cached = known[path], wanted.allSatisfy({ cached.digests[$0] != nil }) {
            condition.unlock()
            return cached
        }
        reading.insert(path)
        condition.unlock()
        do {
            let result = try Digest.file(atPath: path, algorithms: all)
            record(result, forPath: path)
            return result
        } catch {
            abandon(path)
            throw error
        }
    }

    /// Marks `path` as being read by the caller, who then calls `record` or
    /// `abandon`; false when it is known or already being read.
    public func beginReading(_ path: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard known[path] == nil, !reading.contains(path) else { return false }
        reading.insert(path)
        return true
    }

    /// Remembers digests computed elsewhere (while a WARC file was read for its records).
    public func record(_ result: Result, forPath path: String) {
        condition.lock()
        known[path] = result
        reading.remove(path)
        condition.broadcast()
        condition.unlock()
    }

    /// Ends a read that gave no digests (the file was damaged or unreadable).
    public func abandon(_ path: String) {
        condition.lock()
        reading.remove(path)
        condition.broadcast()
        condition.unlock()
    }

    /// Reads the file unless it is known or being read; unreadable files are left
    /// out (the check that needs one reports it).
    public func prefetch(_ path: String) {
        guard beginReading(path) else { return }
        if let result = try? Digest.file(atPath: path, algorithms: algorithms) {
            record(result, forPath: path)
        } else {
            abandon(path)
        }
    }

    /// Reads every file not yet known, on every core, biggest first. Unreadable
    /// files are left out; the check that needs one reports it.
    public func prefetch(_ paths: [String]) {
        condition.lock()
        let missing = paths.filter { known[$0] == nil && !reading.contains($0) }
        condition.unlock()
        let bySize = missing.map { path in (path, Self.size(path)) }.sorted { $0.1 > $1.1 }.map(\.0)
        _ = Parallel.map(bySize) { path in self.prefetch(path) }
    }

    /// Queues a read of every file not yet known on `queue`, biggest first, and
    /// returns at once.
    public func prefetch(_ paths: [String], on queue: WorkQueue) {
        queue.submit(paths.map { path in (cost: Self.size(path), job: { self.prefetch(path) }) })
    }

    static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}
