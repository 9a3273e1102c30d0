import Foundation

/// Where each byte of a rewritten text came from, so that a match found in the rewritten
/// text is reported at its place in the text the searcher reads (DESIGN §23: offsets and
/// excerpts point into the original).
///
/// The rewritten text is a sequence of segments. A verbatim segment is a copy: its byte
/// `k` is source byte `source + k`. Any other segment stands for `sourceLength` source
/// bytes at `source` as a whole ("É" written as "E", "ß" as "ss"; a space put between the
/// words of "#ProudVeteran" stands for nothing). Dropped characters (soft hyphens,
/// zero-width characters, combining marks) have no segment: the source jumps over them.
struct OffsetMap {
    private struct Segment {
        var normalized: Int
        var source: Int
        /// Source bytes the segment stands for; -1 for a verbatim copy.
        var sourceLength: Int
    }

    private var segments: [Segment] = []

    /// Records that the bytes about to be appended at `position` are a copy of the source
    /// from `source` on; continues the current verbatim segment when they follow it.
    mutating func copy(from source: Int, to position: Int) {
        if let last = segments.last, last.sourceLength < 0, position - last.normalized == source - last.source { return }
        segments.append(Segment(normalized: position, source: source, sourceLength: -1))
    }

    /// Records that the bytes about to be appended at `position` stand for the
    /// `length` source bytes at `source`.
    mutating func replace(source: Int, length: Int, at position: Int) {
        segments.append(Segment(normalized: position, source: source, sourceLength: length))
    }

    /// The last segment that starts at or before `position`.
    private func segment(containing position: Int) -> Segment {
        var low = 0, high = segments.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if segments[middle].normalized <= position { low = middle } else { high = middle - 1 }
        }
        return segments[low]
    }

    /// The source byte where a match starting at `position` starts.
    func sourceStart(_ position: Int) -> Int {
        let segment = segment(containing: position)
        return segment.sourceLength < 0 ? segment.source + position - segment.normalized : segment.source
    }

    /// The source byte where a match ending before `end` ends (exclusive).
    func sourceEnd(_ end: Int) -> Int {
        let segment = segment(containing: end - 1)
        return segment.sourceLength < 0 ? segment.source + end - segment.normalized : segment.source + segment.sourceLength
    }
}

/// The text as screening reads it (DESIGN §23), and the way back to the original.
///
/// Two rewrites, each done only when the text needs it, so plain ASCII prose is read as it
/// is:
///
/// 1. **Characters** (``ScreeningNormalizer/foldCharacters(_:)``, only when the text has a
///    non-ASCII byte): compatibility decomposition (NFKD, so "ＭＵＳＬＩＭ", "𝐌𝐮𝐬𝐥𝐢𝐦" and
///    "ﬁ" read as plain letters), combining marks dropped (diacritics: "Église" → "Eglise"),
///    zero-width and other invisible format characters and soft hyphens dropped, letters
///    that look like Latin ones mapped to them (the UTS #39 skeleton idea, for Cyrillic,
///    Greek, Armenian and a few Latin letters: "Мuѕlіm" with Cyrillic М, ѕ, і → "Muslim"),
///    and the remaining letters case-folded ("ß" → "ss"). NFKD then dropping marks gives the
///    same letters as NFKC with diacritics removed; composing again would only be undone.
/// 2. **Separators and hashtags** (``ScreeningNormalizer/joinSeparatedLetters(_:)``, only
///    when the text has a "#" or three single letters in a row): three or more single
///    letters each separated by one space, dot, hyphen or underscore are joined into one
///    word ("M u s l i m", "M.u.s.l.i.m" → "Muslim"), and a hashtag's words are separated
///    where its case or letters and digits change ("#ProudVeteran" → "#Proud Veteran").
///    Hashtag bodies and joined letters are *run-together tokens*: screening also looks
///    for terms inside them ("#pregnantlife").
struct ScreeningText {
    /// The text screening reads; nil when that is the original bytes themselves.
    var bytes: [UInt8]?
    /// Rewritten → original, applied from the last to the first.
    var maps: [OffsetMap] = []
    /// Byte ranges of `bytes` (or of the original) that are run-together tokens.
    var runTogether: [Range<Int>] = []
    /// True when the original bytes are all ASCII (a byte offset is a scalar offset).
    var isASCII: Bool

    init(_ original: UnsafeBufferPointer<UInt8>) {
        let ascii = ScreeningNormalizer.isASCII(original)
        isASCII = ascii
        var current: [UInt8]? = nil
        if !ascii {
            let (folded, map) = ScreeningNormalizer.foldCharacters(original)
            current = folded
            maps.append(map)
        }
        let joined: ScreeningNormalizer.Joined?
        if let bytes = current {
            joined = bytes.withUnsafeBufferPointer { ScreeningNormalizer.joinSeparatedLetters($0) }
        } else {
            joined = ScreeningNormalizer.joinSeparatedLetters(original)
        }
        if let joined {
            runTogether = joined.runTogether
            if let bytes = joined.bytes, let map = joined.map {
                current = bytes
                maps.append(map)
            }
        }
        bytes = current
    }

    /// The original byte range of `range` of the screened bytes, widened over combining
    /// marks that follow it in the original (they belong to its last letter).
    func originalRange(_ range: Range<Int>, in original: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var start = range.lowerBound, end = range.upperBound
        for map in maps.reversed() {
            (start, end) = (map.sourceStart(start), map.sourceEnd(end))
        }
        while end < original.count, original[end] >= 0x80 {
            let (value, length) = ScreeningNormalizer.decode(original, end)
            guard let scalar = Unicode.Scalar(value) else { break }
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark: end += length
            default: return start..<end
            }
        }
        return start..<end
    }
}
