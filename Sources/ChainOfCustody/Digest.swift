internal import COpenSSL
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
    /// Blocking: call it from a thread of its own, not the Swift concurrency pool.
    public static func file(
        atPath path: String, algorithms: [DigestAlgorithm] = [.sha256]
    ) throws(ExhibitError) -> (digests: [DigestAlgorithm: String], size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ExhibitError(.storage, "Cannot read \(path): \(String(cString: strerror(errno))).")
        }
        defer { close(fd) }
        let stream = DigestStream(algorithms)
        let blockSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, blockSize)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ExhibitError(.storage, "Cannot read \(path): \(String(cString: strerror(errno))).")
            }
            stream.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return (stream.finishHex(), stream.byteCount)
    }
}
