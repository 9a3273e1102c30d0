import Foundation
internal import CLibXML2

/// Finds selectors in a page's visible text, in its links and in its own URL.
///
/// A hand-written scanner over Unicode scalars rather than regular expressions:
/// it runs in one pass over multi-megabyte pages, and the offsets it reports are
/// scalar indexes, which is what a Python consumer of the JSON output indexes by.
public struct SelectorScanner: Sendable {
    /// The host of the page, whose country-code TLD lets national phone numbers
    /// (`020 7946 0018` on a `.co.uk` page) be written in E.164.
    public var pageHost: String?

    public init(pageURL: String?) {
        pageHost = pageURL.flatMap { URLParts($0)?.host }
    }

    /// Selectors in visible text, each with its scalar offset.
    /// At most this many selector occurrences are kept per page and kind of scan:
    /// a page that lists a million addresses is itself the finding.
    public static let occurrenceLimit = 10_000

    /// Selectors in visible text. All-ASCII text (most pages' text) is read as
    /// its bytes, where byte and scalar indexes agree; other text is copied
    /// into an array of scalars first.
    public func scan(text: String) -> [Selector] {
        var utf8 = text
        let ascii = utf8.withUTF8 { bytes in bytes.allSatisfy { $0 < 0x80 } ? scan(ASCIIText(bytes: bytes)) : nil }
        return ascii ?? scan(text.scalarArray)
    }

    private func scan<Text: ScalarText>(_ scalars: Text) -> [Selector] {
        var found: [Selector] = []
        scanTokens(scalars, into: &found)
        var phones: [Selector] = []
        scanPhones(scalars, into: &phones)
        found += phones
        var profiles: [Selector] = []
        scanSchemelessProfiles(scalars, into: &profiles)
        found += profiles
        // By offset, then by the kind's name (compared as ranks, not strings).
        return found.sorted { ($0.offset ?? 0, $0.kind.rank) < ($1.offset ?? 0, $1.kind.rank) }
    }

    /// Selectors in a link's `href`: `mailto:`, `tel:` or a profile URL.
    public func scan(link href: String) -> [Selector] {
        let trimmed = href.trimmingWhitespace()
        if trimmed.hasPrefixIgnoringASCIICase("mailto:") {
            var address = String(trimmed.dropFirst(7))
            if let query = address.firstIndex(of: "?") { address = String(address[..<query]) }
            address = address.removingPercentEncoding ?? address
            return address.split(separator: ",").compactMap { part in
                let candidate = part.trimmingWhitespace()
                return Self.validEmail(candidate).map { Selector(kind: .email, value: $0, raw: trimmed, source: .link) }
            }
        }
        if trimmed.hasPrefixIgnoringASCIICase("tel:") {
            var number = String(trimmed.dropFirst(4))
            if let parameters = number.firstIndex(where: { $0 == ";" || $0 == "?" }) { number = String(number[..<parameters]) }
            number = number.removingPercentEncoding ?? number
            return telephone(number).map { [Selector(kind: .phone, value: $0, raw: trimmed, source: .link)] } ?? []
        }
        if let profile = SocialProfile(url: trimmed) {
            return [Selector(kind: .social, value: profile.value, raw: trimmed, source: .link)]
        }
        return []
    }

    /// A profile selector when the page itself is a profile page.
    public func scan(pageURL: String) -> [Selector] {
        SocialProfile(url: pageURL).map { [Selector(kind: .social, value: $0.value, raw: pageURL, source: .page)] } ?? []
    }

    // MARK: Tokens: URLs, e-mail addresses, handles, IP and crypto addresses

    // Switches, not sets: these run twice per word of text, and hashing was a
    // tenth of the analysis time.
    private static func isLeadingPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "(", "[", "{", "<", "\"", "'", "«", "“", "‘", "¿", "¡", "*": true
        default: false
        }
    }

    private static func isTrailingPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case ".", ",", ";", "!", "?", ")", "]", "}", ">", "\"", "'", "»", "”", "’", "*": true
        default: false
        }
    }

    private func scanTokens<Text: ScalarText>(_ scalars: Text, into found: inout [Selector]) {
        var index = 0
        // Only tokens with a digit, "@" or ":" hold a selector, or those as long
        // as a Bitcoin address; plain words are passed over without strings.
        while found.count < Self.occurrenceLimit, let token = scalars.nextMarkedToken(from: index, long: 25) {
            index = token.end
            var start = token.start
            var end = token.end
            while start < end, Self.isLeadingPunctuation(scalars[start]) { start += 1 }
            while end > start, Self.isTrailingPunctuation(scalars[end - 1]) { end -= 1 }
            // Trimmed punctuation is never a digit, "@" or ":", so `marked` holds
            // for the trimmed token too.
            guard end > start, token.marked || end - start >= 25 else { continue }
            classify(scalars, start, end, into: &found)
        }
    }

    private func classify<Text: ScalarText>(_ s: Text, _ start: Int, _ end: Int, into found: inout [Selector]) {
        let token = s.string(start, end)
        let lower = token.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            var url = token
            while let last = url.unicodeScalars.last, last == ":" { url.unicodeScalars.removeLast() }
            if let profile = SocialProfile(url: url) {
                found.append(Selector(kind: .social, value: profile.value, raw: url, source: .text, offset: start))
            }
            return
        }
        var coreEnd = end
        while coreEnd > start, s[coreEnd - 1] == ":" { coreEnd -= 1 }
        if token.unicodeScalars.contains("@") {
            scanAt(s, start, coreEnd, into: &found)
        }
        scanRuns(s, start, coreEnd, into: &found)
        scanIPv6(s, start, end, into: &found)
    }

    /// E-mail addresses and `@handle` mentions within one token.
    private func scanAt<Text: ScalarText>(_ s: Text, _ start: Int, _ end: Int, into found: inout [Selector]) {
        var index = start
        while index < end {
            defer { index += 1 }
            guard s[index] == "@" else { continue }
            let before = index > start ? s[index - 1] : nil
            if let before, Self.isLocalPart(before) {
                // local@domain
                var localStart = index
                while localStart > start, Self.isLocalPart(s[localStart - 1]) { localStart -= 1 }
                var domainEnd = index + 1
                while domainEnd < end, Self.isDomain(s[domainEnd]) { domainEnd += 1 }
                while domainEnd > index + 1, s[domainEnd - 1] == "." || s[domainEnd - 1] == "-" { domainEnd -= 1 }
                var local = localStart
                while local < index, s[local] == "." { local += 1 }
                let candidate = s.string(local, domainEnd)
                if let email = Self.validEmail(candidate) {
                    found.append(Selector(kind: .email, value: email, raw: candidate, source: .text, offset: local))
                    index = domainEnd - 1
                }
            } else if before == nil || !Self.isMentionBlocker(before!) {
                // @handle
                var nameEnd = index + 1
                while nameEnd < end, Self.isHandle(s[nameEnd]) || s[nameEnd] == "." { nameEnd += 1 }
                while nameEnd > index + 1, s[nameEnd - 1] == "." { nameEnd -= 1 }
                let length = nameEnd - index - 1
                let next = nameEnd < end ? s[nameEnd] : nil
                if (2...30).contains(length), next != "@" {
                    let raw = s.string(index, nameEnd)
                    found.append(Selector(kind: .handle, value: raw.lowercased(), raw: raw, source: .text, offset: index))
                }
                index = nameEnd - 1
            }
        }
    }

    /// Alphanumeric runs (crypto addresses) and digit-and-dot runs (IPv4).
    private func scanRuns<Text: ScalarText>(_ s: Text, _ start: Int, _ end: Int, into found: inout [Selector]) {
        var index = start
        while index < end {
            guard Self.isASCIIAlnum(s[index]) else { index += 1; continue }
            let runStart = index
            while index < end, Self.isASCIIAlnum(s[index]) { index += 1 }
            guard index - runStart >= 14 else { continue }
            let run = s.string(runStart, index)
            let lower = run.lowercased()
            if lower.count == 42, lower.hasPrefix("0x"), lower.dropFirst(2).allSatisfy(\.isHexDigit) {
                found.append(Selector(kind: .ethereum, value: lower, raw: run, source: .text, offset: runStart))
            } else if (25...34).contains(run.count), run.first == "1" || run.first == "3", CryptoAddress.isBase58Check(run) {
                found.append(Selector(kind: .bitcoin, value: run, raw: run, source: .text, offset: runStart))
            } else if lower.hasPrefix("bc1"), (14...74).contains(run.count), CryptoAddress.isBech32(run) {
                found.append(Selector(kind: .bitcoin, value: lower, raw: run, source: .text, offset: runStart))
            }
        }
        // IPv4: maximal runs of digits and dots, bounded by neither letters nor digits.
        index = start
        while index < end {
            guard Self.isDigit(s[index]), index == start || !Self.isIPv4Neighbour(s[index - 1]) else { index += 1; continue }
            let runStart = index
            while index < end, Self.isDigit(s[index]) || s[index] == "." { index += 1 }
            var runEnd = index
            while runEnd > runStart, s[runEnd - 1] == "." { runEnd -= 1 }
            if index < end, Self.isASCIIAlnum(s[index]) { continue }
            if let address = Self.ipv4(s.string(runStart, runEnd)) {
                found.append(Selector(kind: .ipv4, value: address, raw: s.string(runStart, runEnd), source: .text, offset: runStart))
            }
        }
    }

    private func scanIPv6<Text: ScalarText>(_ s: Text, _ start: Int, _ end: Int, into found: inout [Selector]) {
        guard (start..<end).contains(where: { s[$0] == ":" }) else { return }
        var colons = 0
        var hex = false
        var candidateEnd = start
        while candidateEnd < end {
            let scalar = s[candidateEnd]
            if scalar == ":" { colons += 1 } else if scalar == "." || Self.isHex(scalar) { hex = hex || Self.isHex(scalar) } else { break }
            candidateEnd += 1
        }
        // Allow "[addr]:port", "addr/64" and "addr%eth0" around an address.
        if candidateEnd < end, s[candidateEnd] != "]", s[candidateEnd] != "/", s[candidateEnd] != "%" { return }
        guard colons >= 2, hex else { return }
        var text = s.string(start, candidateEnd)
        while text.hasSuffix(".") { text.removeLast() }
        if let canonical = Self.ipv6(text) {
            found.append(Selector(kind: .ipv6, value: canonical, raw: text, source: .text, offset: start))
        }
    }

    // MARK: Profile URLs written without a scheme

    /// How far back from a token's first "/" its start may lie: the longest
    /// profile host with a subdomain prefix, and some opening punctuation.
    private static let schemelessHostReach = SocialProfile.longestHost + 4

    /// Profile URLs in text without a scheme (`twitter.com/jdoe`,
    /// `www.facebook.com/jane.doe`): a token that begins, after opening
    /// punctuation, with a platform's host followed by a path, read as if it were
    /// `https://` + the token. Tokens with a scheme are `classify`'s.
    ///
    /// The host must start the token, so a host inside another address
    /// (`example.org/twitter.com/x`, `me@twitter.com/x`) is not a profile, and
    /// a host with no path ("twitter.com is down", "on twitter.com.") names no
    /// one and is not a selector. Only the first "/" of a token can end its
    /// host, so each token is looked at once.
    private func scanSchemelessProfiles<Text: ScalarText>(_ s: Text, into found: inout [Selector]) {
        var index = 0
        while found.count < Self.occurrenceLimit {
            let slash = s.nextSlash(from: index)
            guard slash < s.count else { return }
            var start = slash
            while start > 0, slash - start <= Self.schemelessHostReach, !s[start - 1].isSpace { start -= 1 }
            var end = slash + 1
            while end < s.count, !s[end].isSpace { end += 1 }
            index = end
            // Too far from the token's start to follow a profile host.
            guard start == 0 || s[start - 1].isSpace else { continue }
            while start < slash, Self.isLeadingPunctuation(s[start]) { start += 1 }
            guard slash - start >= 4, slash - start <= SocialProfile.longestHost, Self.isASCIIAlnum(s[slash - 1]),
                  SocialProfile.isProfileHost(s.string(start, slash).lowercased()) else { continue }
            while end > slash + 1, Self.isTrailingPunctuation(s[end - 1]) || s[end - 1] == ":" { end -= 1 }
            let raw = s.string(start, end)
            if let profile = SocialProfile(url: "https://" + raw) {
                found.append(Selector(kind: .social, value: profile.value, raw: raw, source: .text, offset: start))
            }
        }
    }

    // MARK: Phone numbers

    private struct PhoneSpan {
        var start: Int
        var groups: [(digits: String, start: Int, end: Int)] = []
        var plus = false
    }

    private func scanPhones<Text: ScalarText>(_ s: Text, into found: inout [Selector]) {
        var index = 0
        let count = s.count
        while index < count, found.count < Self.occurrenceLimit {
            index = s.nextPhoneStart(from: index)
            guard index < count, index == 0 || Self.isPhoneBoundary(s[index - 1]) else { index += 1; continue }
            let span = Self.phoneSpan(s, from: index)
            guard !span.groups.isEmpty else { index += 1; continue }
            if let (value, endGroup) = phone(from: span, scalars: s) {
                let end = span.groups[endGroup].end
                let after = end < count ? s[end] : nil
                if after == nil || !Self.isASCIIAlnum(after!) {
                    let raw = s.string(index, end)
                    found.append(Selector(kind: .phone, value: value, raw: raw, source: .text, offset: index))
                    index = end
                    continue
                }
            }
            index = max(index + 1, span.groups[0].end)
        }
    }

    /// Digit groups separated by at most three of ` -.()`, starting at `start`.
    private static func phoneSpan<Text: ScalarText>(_ s: Text, from start: Int) -> PhoneSpan {
        var span = PhoneSpan(start: start)
        var index = start
        if s[index] == "+" { span.plus = true; index += 1 }
        var separators = 0
        while index < s.count {
            let scalar = s[index]
            if isDigit(scalar) {
                let groupStart = index
                while index < s.count, isDigit(s[index]) { index += 1 }
                span.groups.append((s.string(groupStart, index), groupStart, index))
                separators = 0
            } else if scalar == " " || scalar == "-" || scalar == "." || scalar == "(" || scalar == ")" || scalar == "\u{00A0}" {
                separators += 1
                if separators > 3 { break }
                index += 1
            } else {
                break
            }
            if span.groups.count > 8 { break }
        }
        return span
    }

    /// The E.164 value of the longest reading of the span that is a phone number,
    /// and the index of its last group.
    private func phone<Text: ScalarText>(from span: PhoneSpan, scalars s: Text) -> (String, Int)? {
        let groups = span.groups
        // International: "+44 20 …" or "0044 20 …".
        if span.plus || groups[0].digits.hasPrefix("00") {
            var digits = ""
            var lastGroup = -1
            for (offset, group) in groups.enumerated() {
                if offset > 0, group.start - groups[offset - 1].end > 2 { break }
                if digits.count + group.digits.count > (span.plus ? 15 : 17) { break }
                digits += group.digits
                lastGroup = offset
            }
            if !span.plus { digits = String(digits.dropFirst(2)) }
            guard lastGroup >= 0, (8...15).contains(digits.count), digits.first != "0" else { return nil }
            return ("+" + digits, lastGroup)
        }
        // North American layouts: (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX, NXX NXX XXXX, with an optional "1".
        let lengths = groups.map(\.digits.count)
        var first = 0
        if lengths.starts(with: [1, 3, 3, 4]), groups[0].digits == "1" { first = 1 }
        if lengths.count >= first + 3, Array(lengths[first..<(first + 3)]) == [3, 3, 4] {
            let area = groups[first].digits
            let exchange = groups[first + 1].digits
            let separator1 = s.string(groups[first].end, groups[first + 1].start)
            let separator2 = s.string(groups[first + 1].end, groups[first + 2].start)
            let opener = first == 0 ? (groups[0].start > span.start ? s.string(span.start, groups[0].start) : "")
                : s.string(groups[0].end, groups[1].start)
            let parenthesised = opener.hasSuffix("(") && separator1.hasPrefix(")")
            let plain = !opener.contains("(") && !separator1.contains(")") && ["-", ".", " "].contains(separator1)
            if (parenthesised && [")", ") ", ")-"].contains(separator1)) || plain,
               ["-", ".", " "].contains(separator2),
               let a = area.first, a >= "2", let e = exchange.first, e >= "2" {
                return ("+1" + area + exchange + groups[first + 2].digits, first + 2)
            }
        }
        // National numbers with a trunk 0 on a page from a country we know.
        if groups[0].digits.hasPrefix("0"), let code = pageHost.flatMap(Self.countryCode(forHost:)) {
            var digits = ""
            var lastGroup = -1
            for (offset, group) in groups.enumerated() {
                if offset > 0, group.start - groups[offset - 1].end > 2 { break }
                if digits.count + group.digits.count > 11 { break }
                digits += group.digits
                lastGroup = offset
            }
            guard lastGroup >= 0, (9...11).contains(digits.count) else { return nil }
            return ("+" + code + digits.dropFirst(), lastGroup)
        }
        return nil
    }

    // MARK: Character classes

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
    static func isASCIIAlnum(_ s: Unicode.Scalar) -> Bool {
        isDigit(s) || (s.value | 0x20 >= 0x61 && s.value | 0x20 <= 0x7A)
    }
    static func isHex(_ s: Unicode.Scalar) -> Bool {
        isDigit(s) || (s.value | 0x20 >= 0x61 && s.value | 0x20 <= 0x66)
    }
    static func isLocalPart(_ s: Unicode.Scalar) -> Bool {
        isASCIIAlnum(s) || s == "." || s == "_" || s == "%" || s == "+" || s == "-"
    }
    static func isDomain(_ s: Unicode.Scalar) -> Bool { isASCIIAlnum(s) || s == "." || s == "-" }
    static func isHandle(_ s: Unicode.Scalar) -> Bool { isASCIIAlnum(s) || s == "_" }
    static func isMentionBlocker(_ s: Unicode.Scalar) -> Bool {
        isLocalPart(s) || s == "/" || s == ":" || s == "@"
    }
    static func isIPv4Neighbour(_ s: Unicode.Scalar) -> Bool { isASCIIAlnum(s) || s == "." }
    /// A phone number starts after a space or punctuation, not inside a word, a
    /// URL path, a query string or an amount.
    static func isPhoneBoundary(_ s: Unicode.Scalar) -> Bool {
        if s.isSpace { return true }
        if isASCIIAlnum(s) { return false }
        return !"/\\._-=&?#@+%$€£¥,".unicodeScalars.contains(s)
    }
}

// `isSpace` and `ASCIIText` stay in this file, beside the loops that call them once per
// scalar: debug builds (which the tests run) compile file by file and inline only within a
// file, and in ScalarText.swift they made selector scanning a tenth slower.

extension Unicode.Scalar {
    /// White space, with a fast path for ASCII (Unicode's property lookup is slow).
    var isSpace: Bool {
        if value < 0x80 { return value == 0x20 || (value >= 0x09 && value <= 0x0D) }
        return properties.isWhitespace
    }
}

/// All-ASCII text read in place: one byte per scalar, so indexes are the same
/// as in an array of scalars, without its four bytes per character.
struct ASCIIText: ScalarText {
    let bytes: UnsafeBufferPointer<UInt8>
    var count: Int { bytes.count }
    subscript(_ index: Int) -> Unicode.Scalar { Unicode.Scalar(bytes[index]) }
    func string(_ start: Int, _ end: Int) -> String {
        guard end > start else { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    // In C: a table lookup per byte instead of a scalar's comparisons.
    func nextMarkedToken(from index: Int, long: Int) -> (start: Int, end: Int, marked: Bool)? {
        guard let base = bytes.baseAddress else { return nil }
        var start = 0, end = 0
        var marked: Int32 = 0
        guard exhibit_text_next_token(base, bytes.count, index, long, &start, &end, &marked) == 1 else { return nil }
        return (start, end, marked != 0)
    }

    func nextPhoneStart(from index: Int) -> Int {
        guard let base = bytes.baseAddress else { return count }
        return exhibit_text_next_phone_start(base, bytes.count, index)
    }

    func nextSlash(from index: Int) -> Int {
        guard let base = bytes.baseAddress, index < count,
              let found = memchr(base + index, Int32(UInt8(ascii: "/")), count - index) else { return count }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
