internal import COpenSSL
import Dispatch

/// A streaming digest in one or more algorithms, like ``DigestStream``, that can
/// also be fed together with a second one: ``update(_:_:with:)`` hashes the same
/// bytes into both, computing each SHA-256 or SHA-1 pair in one interleaved pass
/// with the CPU's SHA instructions (about the cost of one digest, not two), and
/// the algorithms on separate cores.
///
/// A WARC record checked at intake needs its block and its payload (the block
/// after the HTTP head: nearly the same bytes) in SHA-256 and in the algorithm its
/// writer declared, usually SHA-1; hashed one stream at a time that was four passes
/// over every byte (docs/import.md). Where the CPU lacks the SHA instructions,
/// everything goes through ``DigestStream`` (OpenSSL) as before. Digests are the
/// same either way; only the cost differs.
public final class PairedDigest {
    /// SHA-256 and SHA-1 computed here; one context each, owned and freed here.
    private let fast: [(algorithm: DigestAlgorithm, context: UnsafeMutablePointer<exhibit_sha_ctx>)]
    /// The other algorithms (or all of them without SHA instructions).
    private let rest: DigestStream?
    /// How many bytes have been fed so far.
    public private(set) var byteCount: Int64 = 0

    /// Whether the SHA instructions are there (checked once).
    static let accelerated = exhibit_sha_pair_available() == 1

    public init(_ algorithms: [DigestAlgorithm] = [.sha256]) {
        var unique: [DigestAlgorithm] = []
        for algorithm in algorithms where !unique.contains(algorithm) { unique.append(algorithm) }
        let pairable = Self.accelerated ? unique.filter { $0 == .sha256 || $0 == .sha1 } : []
        fast = pairable.map { algorithm in
            let context = UnsafeMutablePointer<exhibit_sha_ctx>.allocate(capacity: 1)
            exhibit_sha_pair_init(context, algorithm == .sha256 ? Int32(EXHIBIT_SHA256) : Int32(EXHIBIT_SHA1))
            return (algorithm, context)
        }
        let others = unique.filter { !pairable.contains($0) }
        rest = others.isEmpty ? nil : DigestStream(others)
    }

    deinit {
        for item in fast { item.context.deallocate() }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        for item in fast { exhibit_sha_pair_update(item.context, base, bytes.count, nil, nil, 0) }
        rest?.update(bytes)
        byteCount += Int64(bytes.count)
    }

    /// The digests, by algorithm. Call once.
    public func finish() -> [DigestAlgorithm: [UInt8]] {
        var result = rest?.finish() ?? [:]
        for item in fast {
            var output = [UInt8](repeating: 0, count: item.algorithm == .sha256 ? 32 : 20)
            output.withUnsafeMutableBufferPointer { exhibit_sha_pair_final(item.context, $0.baseAddress) }
            result[item.algorithm] = output
        }
        return result
    }

    /// Feeds `bytes` to both `first` and `second`: an algorithm both compute is one
    /// paired pass, and the passes run on up to two cores at once.
    public static func update(_ first: PairedDigest, _ second: PairedDigest, with bytes: UnsafeRawBufferPointer) {
        guard bytes.baseAddress != nil, bytes.count > 0 else { return }
        var jobs: [Job] = []
        for item in first.fast {
            let partner = second.fast.first { $0.algorithm == item.algorithm }?.context
            jobs.append(.sha(item.context, partner))
        }
        for item in second.fast where !first.fast.contains(where: { $0.algorithm == item.algorithm }) {
            jobs.append(.sha(item.context, nil))
        }
        for stream in [first.rest, second.rest].compactMap({ $0 }) { jobs.append(.stream(stream)) }
        let work = Work(jobs: jobs, bytes: bytes)
        if jobs.count == 1 || bytes.count < 64 * 1024 {
            // A small piece costs less than waking a second thread.
            for index in jobs.indices { work.run(index) }
        } else {
            DispatchQueue.concurrentPerform(iterations: jobs.count) { work.run($0) }
        }
        first.byteCount += Int64(bytes.count)
        second.byteCount += Int64(bytes.count)
    }

    private enum Job {
        case sha(UnsafeMutablePointer<exhibit_sha_ctx>, UnsafeMutablePointer<exhibit_sha_ctx>?)
        case stream(DigestStream)
    }

    /// Each job touches its own contexts only, and the bytes outlive
    /// concurrentPerform, which returns when every job is done.
    private struct Work: @unchecked Sendable {
        let jobs: [Job]
        let bytes: UnsafeRawBufferPointer

        func run(_ index: Int) {
            switch jobs[index] {
            case .sha(let first, let second):
                exhibit_sha_pair_update(first, bytes.baseAddress, bytes.count, second, second == nil ? nil : bytes.baseAddress, second == nil ? 0 : bytes.count)
            case .stream(let stream):
                stream.update(bytes)
            }
        }
    }
}
