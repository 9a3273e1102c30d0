import ChainOfCustody
import Dispatch
import Foundation
import MediaEvidence
import MediaForensics

// The two `make bench` media rows (issue 22, scripts/bench/media.py).
//
//   exhibit-bench pdq [--jobs N] FILE...
//       Exhibit's decode + PDQ of each image file, N files at a time (default: one per
//       core), printed in argument order as `HEX QUALITY PATH` so the harness can check
//       every hash against pdqhash's before it believes the time.
//   exhibit-bench similar INDEX [--hashes N] [--queries Q] [--seed S]
//       Fills INDEX (a media-index.sqlite, created through MediaHashIndex) with N random
//       hashes plus, for each of Q random query hashes, planted copies at distances 1, 8,
//       16, 24, 31 (spread over all 16 chunks, the pigeonhole worst case) and 32, unless
//       it already holds hashes; then times MediaHashIndex.lookup(maxDistance: 31) for
//       each query in this process (the library call `exhibit similar` makes per query
//       hash), and prints `similar HASHES QUERIES PLANTED FOUND FALSE P50_MS P95_MS
//       MAX_MS MAX_CANDIDATES FILL_S CPU_P95_MS`: FOUND counts planted copies within 31
//       that came back, FALSE returned hashes farther than 31 (must be 0); CPU_P95_MS is
//       the p95 of the lookups' own thread CPU time, which a loaded machine does not inflate.

enum MediaBench {
    static let usage = "exhibit-bench pdq [--jobs N] FILE... | exhibit-bench similar INDEX [--hashes N] [--queries Q] [--seed S]"

    /// Takes `--name N` out of the arguments.
    static func option(_ name: String, in arguments: inout [String], default value: Int) -> Int {
        guard let flag = arguments.firstIndex(of: name) else { return value }
        guard flag + 1 < arguments.count, let number = Int(arguments[flag + 1]), number > 0 else { fail(usage) }
        arguments.removeSubrange(flag...flag + 1)
        return number
    }

    static func pdq(_ arguments: [String]) {
        var arguments = arguments
        let jobs = option("--jobs", in: &arguments, default: ProcessInfo.processInfo.activeProcessorCount)
        guard !arguments.isEmpty else { fail(usage) }
        let files = arguments
        let results = Results(count: files.count)
        let next = Results.Counter()
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while let index = next.take(below: files.count) {
                let line: String
                do throws(ExhibitError) {
                    let hash = try ImageDecoder.pdq(of: try AtomicFile.read(files[index]))
                    line = "\(hash.hex) \(hash.quality) \(files[index])"
                } catch {
                    line = "error \(error.message) \(files[index])"
                }
                results.set(index, line)
            }
        }
        let lines = results.all()
        print(lines.joined(separator: "\n"))
        if lines.contains(where: { $0.hasPrefix("error ") }) { exit(5) }
    }

    static func similar(_ arguments: [String]) {
        var arguments = arguments
        let total = option("--hashes", in: &arguments, default: 1_000_000)
        let queryCount = option("--queries", in: &arguments, default: 100)
        let seed = option("--seed", in: &arguments, default: 22)
        guard arguments.count == 1, let path = arguments.first else { fail(usage) }
        let distances = [1, 8, 16, 24, 31, 32]
        do throws(ExhibitError) {
            let index = try MediaHashIndex(path: path)
            var random = SplitMix64(seed: UInt64(seed))
            // The queries and their planted copies, the same for a given seed.
            var queries: [(PDQHash, [String: Int])] = []
            var planted: [MediaHashIndex.Entry] = []
            for query in 0..<queryCount {
                let base = PDQHash(bytes: random.bytes(32), quality: 100)
                var copies: [String: Int] = [:]
                for distance in distances {
                    var bits = Array(0..<256)
                    bits.shuffle(using: &random)
                    if distance == 31 {
                        bits = (0..<16).flatMap { chunk in (0..<(chunk == 15 ? 1 : 2)).map { chunk * 16 + 3 * $0 } }
                    }
                    var bytes = base.bytes
                    for bit in bits.prefix(distance) { bytes[31 - bit / 8] ^= 1 << UInt8(bit % 8) }
                    let name = "P-\(query)-\(distance)"
                    planted.append(.init(caseID: "BENCH", artifact: name, url: "", firstSeen: "", frame: nil,
                                         hash: PDQHash(bytes: bytes, quality: 100), sha256: ""))
                    copies[name] = distance
                }
                queries.append((base, copies))
            }
            var fillSeconds = 0.0
            if try index.count() == 0 {
                let started = Date()
                var batch = planted
                for number in 0..<total {
                    batch.append(.init(caseID: "BENCH", artifact: "R-\(number)", url: "", firstSeen: "", frame: nil,
                                       hash: PDQHash(bytes: random.bytes(32), quality: 100), sha256: ""))
                    if batch.count == 100_000 || number == total - 1 {
                        try index.insert(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                fillSeconds = Date().timeIntervalSince(started)
            }
            let indexed = try index.count()
            _ = try index.lookup(queries[0].0, maxDistance: 31)  // opens the connection
            var times: [Double] = [], cpu: [Double] = []
            var found = 0, wrong = 0, worstCandidates = 0
            for (query, copies) in queries {
                let started = DispatchTime.now().uptimeNanoseconds, startedCPU = threadCPUSeconds()
                let (matches, candidates) = try index.lookup(query, maxDistance: 31)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
                cpu.append((threadCPUSeconds() - startedCPU) * 1000)
                worstCandidates = max(worstCandidates, candidates)
                for match in matches {
                    if match.distance > 31 || (copies[match.entry.artifact] ?? 0) > 31 { wrong += 1 }
                    if copies[match.entry.artifact] == match.distance { found += 1 }
                }
            }
            times.sort()
            cpu.sort()
            let percentile = { (p: Int) in times[min(times.count - 1, times.count * p / 100)] }
            let expected = queries.count * distances.filter { $0 <= 31 }.count
            print("similar \(indexed) \(queries.count) \(expected) \(found) \(wrong) "
                + String(format: "%.3f %.3f %.3f", percentile(50), percentile(95), times.last ?? 0)
                + " \(worstCandidates) " + String(format: "%.1f", fillSeconds)
                + String(format: " %.3f", cpu[min(cpu.count - 1, cpu.count * 95 / 100)]))
        } catch {
            fail(error.message, status: 5)
        }
    }

    /// Lines written by several threads, each to its own slot.
    final class Results: @unchecked Sendable {
        private var lines: [String]
        private let lock = NSLock()

        init(count: Int) { lines = Array(repeating: "", count: count) }

        func set(_ index: Int, _ line: String) { lock.withLock { lines[index] = line } }
        func all() -> [String] { lock.withLock { lines } }

        /// Hands out 0, 1, 2 … once each.
        final class Counter: @unchecked Sendable {
            private var value = 0
            private let lock = NSLock()

            func take(below limit: Int) -> Int? {
                lock.withLock {
                    guard value < limit else { return nil }
                    defer { value += 1 }
                    return value
                }
            }
        }
    }
}

/// This thread's CPU time in seconds.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// A seeded generator, so that a run's random hashes and queries can be made again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}
