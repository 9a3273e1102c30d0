/// Which of many texts contain which of many short patterns, found in one pass over
/// each text (Rabin–Karp: one rolling hash per distinct pattern length).
///
/// The court documents list, for every exhibit, the ledger entries whose subject names
/// it (its artifact id, digest or record ids). Searching each entry's text for each
/// exhibit's names is exhibits × entries substring searches — minutes for a case of
/// 4,000 captures; this answers the same question (byte substring containment) with
/// one scan of the texts.
struct SubstringIndex {
    private var hits: [String: Set<Int64>] = [:]

    /// `texts` by key (a ledger seq); `patterns` are searched for in every text.
    init(patterns: Set<String>, texts: [Int64: [UInt8]]) {
        let wanted = patterns.filter { !$0.isEmpty }
        let byLength = Dictionary(grouping: wanted.map { Array($0.utf8) }, by: \.count)
        for (length, group) in byLength {
            var table: [UInt64: [[UInt8]]] = [:]
            // One bit per low 20 bits of a pattern's hash: most windows match no pattern,
            // and a bit test is far cheaper than the dictionary's hashing of the key.
            var filter = [UInt64](repeating: 0, count: Self.filterWords)
            for pattern in group {
                let key = Self.hash(pattern[...])
                table[key, default: []].append(pattern)
                filter[Int(key & Self.filterMask) >> 6] |= 1 << (key & 63)
            }
            // base^(length-1), to take the leaving byte out of the window.
            var power: UInt64 = 1
            for _ in 1..<length { power = power &* Self.base }
            for (key, text) in texts where text.count >= length {
                text.withUnsafeBufferPointer { bytes in
                    var rolling = Self.hash(bytes[0..<length])
                    var start = 0
                    while true {
                        if filter[Int(rolling & Self.filterMask) >> 6] & (1 << (rolling & 63)) != 0, let candidates = table[rolling] {
                            for pattern in candidates where pattern.elementsEqual(bytes[start..<(start + length)]) {
                                hits[String(decoding: pattern, as: UTF8.self), default: []].insert(key)
                            }
                        }
                        guard start + length < bytes.count else { break }
                        rolling = (rolling &- UInt64(bytes[start]) &* power) &* Self.base &+ UInt64(bytes[start + length])
                        start += 1
                    }
                }
            }
        }
    }

    /// The keys of the texts that contain `pattern`.
    func texts(containing pattern: String) -> Set<Int64> {
        hits[pattern] ?? []
    }

    private static let base: UInt64 = 1_099_511_628_211
    private static let filterMask: UInt64 = (1 << 20) - 1
    private static let filterWords = (1 << 20) / 64

    private static func hash<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var value: UInt64 = 0
        for byte in bytes { value = value &* base &+ UInt64(byte) }
        return value
    }
}
