import Foundation

// What the scanner's candidates must be to count: a `tel:` number in E.164, a valid e-mail
// address, a dotted-quad IPv4 or a canonical IPv6 address.

extension SelectorScanner {
    /// A `tel:` link's number: E.164 when the country is known, else its digits.
    func telephone(_ written: String) -> String? {
        let plus = written.trimmingWhitespace().hasPrefix("+")
        let digits = written.filter(\.isASCIIDigit)
        guard (7...15).contains(digits.count) || (!plus && digits.hasPrefix("00") && digits.count <= 17) else { return nil }
        if plus { return "+" + digits }
        if digits.hasPrefix("00") { return "+" + digits.dropFirst(2) }
        let nanp = digits.count == 11 && digits.first == "1" ? String(digits.dropFirst()) : digits
        if nanp.count == 10, !digits.hasPrefix("0"),
           let a = nanp.first, a >= "2", nanp[nanp.index(nanp.startIndex, offsetBy: 3)] >= "2" {
            return "+1" + nanp
        }
        if digits.hasPrefix("0"), (9...11).contains(digits.count), let code = pageHost.flatMap(Self.countryCode(forHost:)) {
            return "+" + code + digits.dropFirst()
        }
        return digits
    }

    static let countryCodes: [String: String] = [
        "uk": "44", "de": "49", "fr": "33", "it": "39", "es": "34", "nl": "31", "ie": "353", "au": "61", "jp": "81",
    ]

    static func countryCode(forHost host: String) -> String? {
        guard let tld = host.split(separator: ".").last else { return nil }
        return countryCodes[String(tld)]
    }

    // MARK: Validation

    static func validEmail(_ candidate: String) -> String? {
        if let ascii = validASCIIEmail(candidate) { return ascii.valid ? ascii.lowercased : nil }
        let parts = candidate.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, candidate.count <= 254 else { return nil }
        let local = parts[0]
        let domain = parts[1].lowercased()
        guard local.unicodeScalars.allSatisfy(isLocalPart), !local.hasPrefix("."), !local.hasSuffix("."),
              !local.contains("..") else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") && $0.count <= 63 }),
              domain.unicodeScalars.allSatisfy(isDomain) else { return nil }
        guard let tld = labels.last, tld.count >= 2, tld.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        return candidate.lowercased()
    }

    /// `validEmail` over bytes for an all-ASCII candidate (every one found in
    /// text is): the same rules without splitting into strings. Nil when the
    /// candidate is not ASCII, for the general path to decide.
    private static func validASCIIEmail(_ candidate: String) -> (valid: Bool, lowercased: String)? {
        var candidate = candidate
        return candidate.withUTF8 { bytes -> (Bool, String)? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            let invalid = (false, "")
            guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), bytes.count <= 254 else { return invalid }
            let local = bytes[..<at]
            let domain = bytes[(at + 1)...]
            guard !local.isEmpty, local.count <= 64, !domain.contains(UInt8(ascii: "@")) else { return invalid }
            let dot = UInt8(ascii: "."), dash = UInt8(ascii: "-")
            guard local.allSatisfy({ isLocalPart(Unicode.Scalar($0)) }), local.first != dot, local.last != dot else { return invalid }
            for index in local.indices.dropLast() where local[index] == dot && local[index + 1] == dot { return invalid }
            guard domain.allSatisfy({ isDomain(Unicode.Scalar($0)) }) else { return invalid }
            var labels = 0
            var labelStart = domain.startIndex
            var lastLabel = domain[domain.startIndex..<domain.startIndex]
            for index in domain.startIndex...domain.endIndex where index == domain.endIndex || domain[index] == dot {
                let label = domain[labelStart..<index]
                guard !label.isEmpty, label.first != dash, label.last != dash, label.count <= 63 else { return invalid }
                labels += 1
                lastLabel = label
                labelStart = index + 1
            }
            guard labels >= 2, lastLabel.count >= 2, lastLabel.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }) else {
                return invalid
            }
            let lowered = String(unsafeUninitializedCapacity: bytes.count) { buffer in
                for (index, byte) in bytes.enumerated() { buffer[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
                return bytes.count
            }
            return (true, lowered)
        }
    }

    static func ipv4(_ text: String) -> String? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var values: [Int] = []
        for part in parts {
            guard (1...3).contains(part.count), let value = Int(part), value <= 255 else { return nil }
            values.append(value)
        }
        return values.map(String.init).joined(separator: ".")
    }

    static func ipv6(_ text: String) -> String? {
        var address = in6_addr()
        guard text.count <= 45, inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
