// Bundle facts compare equal only when everything in them does (BundleFacts is
// Equatable so that two exports of one ledger can be shown to agree).

extension MediaFacts: Equatable {
    public static func == (lhs: MediaFacts, rhs: MediaFacts) -> Bool {
        lhs.kind == rhs.kind && lhs.summary == rhs.summary && lhs.pdq == rhs.pdq && lhs.quality == rhs.quality
            && lhs.frames == rhs.frames && lhs.unavailable == rhs.unavailable && lhs.hashUnavailable == rhs.hashUnavailable
            && lhs.seq == rhs.seq
    }
}
