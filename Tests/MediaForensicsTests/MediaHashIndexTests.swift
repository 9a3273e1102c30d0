import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
@testable import MediaEvidence
import MediaForensics
import Testing

/// The multi-index lookup finds every planted near match and reads only a sliver
/// of the index (docs/media.md).
@Suite struct MediaHashIndexTests {
    @Test func plantedMatchesAreAllFoundWithoutAScan() throws {
        var random = SeededRandom()
        let ws = try TestWorkspace("media-index")
        let index = try MediaHashIndex(workspace: ws.workspace)
        let total = 100_000
        var entries: [MediaHashIndex.Entry] = []
        entries.reserveCapacity(total)
        for number in 0..<total {
            entries.append(.init(caseID: "BENCH", artifact: "R-\(number)", url: "", firstSeen: "", frame: nil,
                                 hash: PDQHash(bytes: random.bytes(32), quality: 100), sha256: ""))
        }
        // Planted: for each of 40 queries, copies at distances 1…31 with the flipped bits
        // spread over every chunk (the hard case for exact-chunk probing), and one at 32.
        var queries: [(PDQHash, [String: Int])] = []
        for query in 0..<40 {
            let base = PDQHash(bytes: random.bytes(32), quality: 100)
            var planted: [String: Int] = [:]
            for distance in [1, 8, 16, 17, 24, 31, 32] {
                var bits = Array(0..<256)
                bits.shuffle(using: &random)
                if distance == 31 {
                    // Two bits in each of 15 chunks and one in the last: no chunk is exact.
                    bits = (0..<16).flatMap { chunk in (0..<(chunk == 15 ? 1 : 2)).map { chunk * 16 + $0 } }
                }
                var bytes = base.bytes
                for bit in bits.prefix(distance) { bytes[31 - bit / 8] ^= 1 << UInt8(bit % 8) }
                let name = "P-\(query)-\(distance)"
                entries.append(.init(caseID: "BENCH", artifact: name, url: "", firstSeen: "", frame: nil,
                                     hash: PDQHash(bytes: bytes, quality: 100), sha256: ""))
                planted[name] = distance
            }
            queries.append((base, planted))
        }
        try index.insert(entries)
        var times: [Double] = []
        var worstCandidates = 0
        for (query, planted) in queries {
            let started = Date()
            let (matches, candidates) = try index.lookup(query, maxDistance: 31)
            times.append(Date().timeIntervalSince(started))
            worstCandidates = max(worstCandidates, candidates)
            let found = Dictionary(matches.map { ($0.entry.artifact, $0.distance) }, uniquingKeysWith: min)
            for (name, distance) in planted where distance <= 31 {
                #expect(found[name] == distance, "\(name) at \(distance) not found (\(random.replay))")
            }
            #expect(planted.filter { $0.value > 31 }.allSatisfy { found[$0.key] == nil })
        }
        times.sort()
        let p95 = times[times.count * 95 / 100]
        print("similar over \(entries.count) hashes: p95 \(String(format: "%.2f", p95 * 1000)) ms, at most \(worstCandidates) candidates read")
        #expect(worstCandidates < entries.count / 20, "\(worstCandidates) candidates: the lookup read too much of the index")
    }

    @Test func neighbourMasks() {
        #expect(MediaHashIndex.neighbours(radius: 0) == [0])
        #expect(MediaHashIndex.neighbours(radius: 1).count == 17)
        #expect(MediaHashIndex.neighbours(radius: 2).count == 137)
    }
}
