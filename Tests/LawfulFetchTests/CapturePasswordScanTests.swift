@testable import LawfulFetch
import Testing

/// The capture's password-field scan (`PageFacts.mayHoldPasswordField`) reads eight
/// bytes at a time; it must answer exactly as a plain byte-by-byte scan does, wherever
/// the words fall against those eight-byte steps and the end of the page.
@Suite("Capture password-field scan")
struct CapturePasswordScanTests {
    /// The scan as first written: every offset, one byte at a time.
    static func reference(_ bytes: [UInt8]) -> Bool {
        func matches(_ word: String, at index: Int) -> Bool {
            let word = Array(word.utf8)
            guard index + word.count <= bytes.count else { return false }
            return (0..<word.count).allSatisfy { bytes[index + $0] | 0x20 == word[$0] }
        }
        for index in bytes.indices {
            if matches("password", at: index) { return true }
            guard matches("type", at: index) else { continue }
            var at = index + 4
            while at < bytes.count, PageFacts.isSpace(bytes[at]) { at += 1 }
            guard at < bytes.count, bytes[at] == UInt8(ascii: "=") else { continue }
            at += 1
            while at < bytes.count, PageFacts.isSpace(bytes[at]) { at += 1 }
            var quote: UInt8?
            if at < bytes.count, bytes[at] == UInt8(ascii: "\"") || bytes[at] == UInt8(ascii: "'") {
                quote = bytes[at]
                at += 1
            }
            while at < bytes.count {
                let value = bytes[at]
                if let quote { if value == quote { break } } else if PageFacts.isSpace(value) || value == UInt8(ascii: ">") { break }
                if value == UInt8(ascii: "&") { return true }
                at += 1
            }
        }
        return false
    }

    @Test("each word and near miss, at every offset and page length, answers as the byte-by-byte scan")
    func plantedWords() {
        let pieces = [
            "password", "PassWord", "passwor", "assword", "pass word", "type=\"&#112;x\"", "TYPE = '&x'",
            "type=&x", "type=text", "type =\"text\"", "type", "typ", "ype=&", "wWyY", "type=\"a&", "type= ", "sWyP", "xsw", "yp=&",
            "p\u{E9}ssword",
        ]
        var checked = 0
        var found = 0
        for piece in pieces {
            for offset in 0..<17 {
                for tail in 0..<10 {
                    let page = Array((String(repeating: "x", count: offset) + piece + String(repeating: "y", count: tail)).utf8)
                    for length in [page.count, max(0, page.count - tail - 1)] {
                        let bytes = Array(page[..<length])
                        let expected = Self.reference(bytes)
                        #expect(PageFacts.mayHoldPasswordField(bytes) == expected, "\(piece) at \(offset), \(length) bytes")
                        checked += 1
                        if expected { found += 1 }
                    }
                }
            }
        }
        // Both answers were compared many times.
        #expect(found > 1000 && checked - found > 1000, "\(found) of \(checked)")
    }

    @Test("random pages of word pieces answer as the byte-by-byte scan")
    func randomPages() {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = ["pass", "Word", "ty", "PE", "t", "ype", "=", " ", "\"", "'", "&", ">", "\t", "w", "y", "x"]
            .map { Array($0.utf8) } + [[0x00], [0x80], [0xD7], [0xF9], [0xFF]]
        var positives = 0
        for _ in 0..<3000 {
            let bytes = (0..<Int.random(in: 0..<40, using: &generator)).flatMap { _ in pieces.randomElement(using: &generator)! }
            let expected = Self.reference(bytes)
            if expected { positives += 1 }
            #expect(PageFacts.mayHoldPasswordField(bytes) == expected, "\(bytes)")
        }
        #expect(positives > 10)
    }
}
