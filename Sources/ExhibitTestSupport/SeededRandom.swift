import Foundation

/// A random generator for tests whose failure must replay: seeded from
/// `EXHIBIT_TEST_SEED` when set, else from a fresh random seed, and able to say
/// its seed so a failure message carries it.
///
/// ```swift
/// var random = SeededRandom()
/// let delay = Int.random(in: 5...250, using: &random)
/// #expect(verify.status == 0, "round \(round), \(random.replay): \(verify.stdout)")
/// ```
///
/// To replay: `EXHIBIT_TEST_SEED=<seed> swift test --filter <the test>`. The numbers
/// are SplitMix64's (Steele, Lea and Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014), the same on every machine for the same seed; a test
/// that also races real processes replays the same choices, not the same schedule.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The environment variable that fixes the seed.
    public static let environmentVariable = "EXHIBIT_TEST_SEED"

    public let seed: UInt64
    private var state: UInt64

    /// `seed`, else `$EXHIBIT_TEST_SEED` (decimal or 0x-hex), else a fresh random seed.
    public init(seed: UInt64? = nil) {
        let chosen = seed ?? Self.environmentSeed ?? UInt64.random(in: .min ... .max)
        self.seed = chosen
        state = chosen
    }

    /// The seed given in the environment, if it parses.
    public static var environmentSeed: UInt64? {
        guard let text = ProcessInfo.processInfo.environment[environmentVariable]?.trimmingCharacters(in: .whitespaces),
              !text.isEmpty else { return nil }
        if text.lowercased().hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }

    /// For failure messages: how to run the test again with the same numbers.
    public var replay: String { "seed \(seed) (replay with \(Self.environmentVariable)=\(seed))" }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            var word = next()
            for _ in 0..<min(8, count - result.count) {
                result.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return result
    }
}
