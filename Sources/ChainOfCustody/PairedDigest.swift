internal import COpenSSL
import Dispatch
import Foundation

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

    /// Feeds `bytes`. A `rider` (another SHA-256 stream, over other bytes) is hashed
    /// alongside this one's SHA-256, in the lane a single stream leaves free.
    public func update(_ bytes: UnsafeRawBufferPointer, rider: RidingDigest? = nil) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        rider?.waitForPasses()
        for item in fast {
            if item.algorithm == .sha256, let rider {
                rider.ride(along: item.context, over: bytes)
            } else {
                exhibit_sha_pair_update(item.context, base, bytes.count, nil, nil, 0)
            }
        }
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
    /// paired pass, and the passes run on up to two cores at once. A SHA-256 that only
    /// one of them computes carries `rider`, when given, in its free lane.
    ///
    /// With a rider the passes run in the background and this returns at once: `bytes`
    /// must stay valid, and neither digest be touched, until ``RidingDigest/waitForPasses()``
    /// (which every later update, and every call on the rider, makes first). The caller
    /// meanwhile prepares the next bytes (a record reader inflates them), so that the
    /// second core hashes whenever it is free instead of at each hand-over.
    public static func update(_ first: PairedDigest, _ second: PairedDigest, with bytes: UnsafeRawBufferPointer, rider: RidingDigest? = nil) {
        guard bytes.baseAddress != nil, bytes.count > 0 else { return }
        let pipeline = rider
        pipeline?.waitForPasses()
        var jobs: [Job] = []
        var rider = rider
        func single(_ item: (algorithm: DigestAlgorithm, context: UnsafeMutablePointer<exhibit_sha_ctx>)) -> Job {
            guard item.algorithm == .sha256, let carried = rider else { return .sha(item.context, nil) }
            rider = nil
            return .ride(item.context, carried)
        }
        for item in first.fast {
            if let partner = second.fast.first(where: { $0.algorithm == item.algorithm })?.context {
                jobs.append(.sha(item.context, partner))
            } else {
                jobs.append(single(item))
            }
        }
        for item in second.fast where !first.fast.contains(where: { $0.algorithm == item.algorithm }) {
            jobs.append(single(item))
        }
        for stream in [first.rest, second.rest].compactMap({ $0 }) { jobs.append(.stream(stream)) }
        let work = Work(jobs: jobs, bytes: bytes, owners: [first, second])
        if let pipeline, bytes.count >= 64 * 1024 {
            for index in jobs.indices {
                DispatchQueue.global().async(group: pipeline.passes) { work.run(index) }
            }
        } else if jobs.count == 1 || bytes.count < 64 * 1024 {
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
        case ride(UnsafeMutablePointer<exhibit_sha_ctx>, RidingDigest)
        case stream(DigestStream)
    }

    /// Each job touches its own contexts only, and the bytes outlive
    /// concurrentPerform, which returns when every job is done, or a background
    /// pass, whose reader waits for it before it reuses or frees them.
    private struct Work: @unchecked Sendable {
        let jobs: [Job]
        let bytes: UnsafeRawBufferPointer
        /// The digests whose contexts the jobs hash into: a background pass keeps them
        /// alive when their reader gives up (a damaged record) before the pass ends.
        let owners: [PairedDigest]

        func run(_ index: Int) {
            switch jobs[index] {
            case .sha(let first, let second):
                exhibit_sha_pair_update(first, bytes.baseAddress, bytes.count, second, second == nil ? nil : bytes.baseAddress, second == nil ? 0 : bytes.count)
            case .ride(let context, let rider):
                rider.ride(along: context, over: bytes)
            case .stream(let stream):
                stream.update(bytes)
            }
        }
    }
}

/// A SHA-256 over bytes that arrive apart from the stream it rides with: a file's
/// digest, taken from the compressed chunks while its records' payloads are hashed.
///
/// A single SHA-256 stream leaves half of the CPU's SHA unit idle (each round waits
/// on the one before); a pair costs about what one costs (exhibit_sha_pair.c). An
/// imported `.warc.gz` needs the sha256 of the file as received and of each HTTP
/// payload: hashed apart that was two full passes, on two threads; riding together
/// it is one. Bytes are queued with ``append(_:release:)`` and hashed, in order,
/// beside the payload passes that ``PairedDigest`` makes (``ride(along:over:)``), or
/// alone by ``drain(keeping:)`` when no payload comes to carry them.
///
/// The rider also keeps the passes ``PairedDigest`` runs in the background for the
/// reader it serves (``passes``). The queue is shared with them under `lock`; the
/// context is hashed only by a pass, or by `drain` and `finishHex` after waiting for
/// the passes, so never by two threads at once.
public final class RidingDigest: @unchecked Sendable {
    private let context = UnsafeMutablePointer<exhibit_sha_ctx>.allocate(capacity: 1)
    /// Background passes over bytes the reader handed over and must keep until they end.
    let passes = DispatchGroup()
    // `queue` and `front` are read and written only while `lock` is held.
    private let lock = NSLock()
    /// Queued pieces, oldest first; `release` is called once a piece is hashed whole.
    private var queue: [(bytes: UnsafeRawBufferPointer, release: () -> Void)] = []
    /// Bytes of the front piece already hashed.
    private var front = 0
    /// How many bytes have been hashed so far (read after ``waitForPasses()``).
    public private(set) var byteCount: Int64 = 0

    /// A rider exists only where the SHA instructions are (without them each digest
    /// is a plain OpenSSL stream and there is no free lane to ride in).
    public init?() {
        guard PairedDigest.accelerated else {
            context.deallocate()
            return nil
        }
        exhibit_sha_pair_init(context, Int32(EXHIBIT_SHA256))
    }

    deinit {
        passes.wait()
        context.deallocate()
    }

    /// Waits until no background pass runs: the bytes they read may then be reused.
    public func waitForPasses() {
        passes.wait()
    }

    /// How many pieces wait to be hashed.
    public var queued: Int {
        lock.lock()
        defer { lock.unlock() }
        return queue.count
    }

    /// Queues `bytes`, which must stay valid until `release` is called.
    public func append(_ bytes: UnsafeRawBufferPointer, release: @escaping () -> Void) {
        guard bytes.count > 0 else { return release() }
        lock.lock()
        queue.append((bytes, release))
        lock.unlock()
    }

    /// The unhashed part of the front piece, at most `limit` bytes.
    private func next(upTo limit: Int) -> UnsafeRawBufferPointer? {
        lock.lock()
        defer { lock.unlock() }
        guard let piece = queue.first else { return nil }
        let count = min(limit, piece.bytes.count - front)
        return UnsafeRawBufferPointer(start: piece.bytes.baseAddress! + front, count: count)
    }

    /// Marks `count` bytes of the front piece hashed; releases it when whole.
    private func advance(by count: Int) {
        byteCount += Int64(count)
        lock.lock()
        front += count
        var done: (() -> Void)?
        if front == queue[0].bytes.count {
            done = queue.removeFirst().release
            front = 0
        }
        lock.unlock()
        done?()
    }

    /// Hashes `bytes` into `partner` (a SHA-256 context) and as many queued bytes into
    /// this digest, paired; what either has beyond the other is hashed alone.
    func ride(along partner: UnsafeMutablePointer<exhibit_sha_ctx>, over bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count, let piece = next(upTo: bytes.count - offset) {
            exhibit_sha_pair_update(partner, bytes.baseAddress! + offset, piece.count, context, piece.baseAddress, piece.count)
            offset += piece.count
            advance(by: piece.count)
        }
        if offset < bytes.count {
            exhibit_sha_pair_update(partner, bytes.baseAddress! + offset, bytes.count - offset, nil, nil, 0)
        }
    }

    /// Hashes queued pieces alone, oldest first, until at most `keeping` wait (waiting
    /// for the background passes first when there is anything to hash).
    public func drain(keeping: Int = 0) {
        guard queued > keeping else { return }
        waitForPasses()
        while queued > keeping, let piece = next(upTo: Int.max) {
            exhibit_sha_pair_update(context, piece.baseAddress, piece.count, nil, nil, 0)
            advance(by: piece.count)
        }
    }

    /// The sha256 of every byte appended, in hex (queued pieces are hashed first). Call once.
    public func finishHex() -> String {
        waitForPasses()
        drain()
        var output = [UInt8](repeating: 0, count: 32)
        output.withUnsafeMutableBufferPointer { exhibit_sha_pair_final(context, $0.baseAddress) }
        return Hex.encode(output)
    }
}
