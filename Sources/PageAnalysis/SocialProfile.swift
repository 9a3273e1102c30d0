/// The parts of an absolute http(s) URL that profile matching needs. Not a
/// general URL parser: capture uses libcurl's, and resolution uses libxml2's.
struct URLParts {
    var host: String
    /// Everything after the authority, without the fragment.
    var pathAndQuery: Substring

    init?(_ url: String) {
        let schemeLength: Int
        if url.hasPrefixIgnoringASCIICase("https://") { schemeLength = 8 } else if url.hasPrefixIgnoringASCIICase("http://") { schemeLength = 7 } else { return nil }
        var rest = Substring(url.utf8.dropFirst(schemeLength))
        if let fragment = rest.utf8.firstIndex(of: UInt8(ascii: "#")) { rest = rest[..<fragment] }
        let authorityEnd = rest.utf8.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.utf8.lastIndex(of: UInt8(ascii: "@")) { authority = authority[authority.utf8.index(after: at)...] }
        if let colon = authority.utf8.lastIndex(of: UInt8(ascii: ":")), !authority.hasPrefix("[") { authority = authority[..<colon] }
        guard !authority.isEmpty else { return nil }
        host = authority.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        pathAndQuery = rest[authorityEnd...]
    }

    var path: Substring {
        pathAndQuery.utf8.firstIndex(of: UInt8(ascii: "?")).map { pathAndQuery[..<$0] } ?? pathAndQuery
    }

    var query: Substring {
        pathAndQuery.utf8.firstIndex(of: UInt8(ascii: "?")).map { pathAndQuery[pathAndQuery.utf8.index(after: $0)...] } ?? ""
    }

    var segments: [String] {
        path.split(separator: "/").map { String($0).removingPercentEncodingSafely }
    }

    func queryValue(_ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return String(parts[1]) }
        }
        return nil
    }
}

/// A social-media profile named by a URL: `platform:handle` (DESIGN §7).
public struct SocialProfile: Sendable, Equatable {
    public var platform: String
    public var handle: String
    public var value: String { "\(platform):\(handle)" }

    /// Paths on each platform that are features, not profiles.
    static let reserved: [String: Set<String>] = [
        "twitter": ["home", "search", "explore", "hashtag", "i", "intent", "share", "settings", "login", "signup",
                    "messages", "notifications", "tos", "privacy", "compose", "logout"],
        "instagram": ["p", "reel", "reels", "explore", "stories", "accounts", "direct", "about", "legal", "tv"],
        "facebook": ["sharer", "sharer.php", "share", "share.php", "events", "groups", "pages", "watch", "marketplace",
                     "login", "login.php", "help", "policies", "privacy", "dialog", "plugins", "photo.php", "story.php",
                     "permalink.php", "hashtag", "profile.php"],
        "telegram": ["share", "joinchat", "addstickers", "addemoji", "s", "c", "proxy", "socks", "iv"],
    ]

    /// The hosts the switch below knows: most links go elsewhere, and are
    /// dismissed before their paths are split.
    static let hosts: Set<String> = [
        "twitter.com", "x.com", "instagram.com", "facebook.com", "fb.com", "tiktok.com", "youtube.com", "t.me",
        "telegram.me", "snapchat.com", "reddit.com",
    ]

    /// Subdomains that name the same site (`www.`, the mobile sites, Reddit's old and new).
    static let hostPrefixes = ["www.", "m.", "mobile.", "old.", "new."]

    /// The longest host `init(url:)` accepts, with its prefix.
    static let longestHost = hosts.map(\.count).max()! + hostPrefixes.map(\.count).max()!

    /// The host without a prefix from `hostPrefixes`.
    static func platformHost(_ host: String) -> String {
        for prefix in hostPrefixes where host.hasPrefix(prefix) { return String(host.dropFirst(prefix.count)) }
        return host
    }

    /// Whether a (lower-cased) host is one whose paths may name a profile.
    static func isProfileHost(_ host: String) -> Bool {
        hosts.contains(platformHost(host))
    }

    public init?(url: String) {
        guard let parts = URLParts(url) else { return nil }
        let host = Self.platformHost(parts.host)
        guard Self.hosts.contains(host) else { return nil }
        let segments = parts.segments
        guard let first = segments.first else { return nil }
        func named(_ platform: String, _ handle: String, allowed: (Character) -> Bool, maxLength: Int) -> (String, String)? {
            guard !handle.isEmpty, handle.count <= maxLength, handle.allSatisfy(allowed),
                  !(Self.reserved[platform]?.contains(handle.lowercased()) ?? false) else { return nil }
            return (platform, handle.lowercased())
        }
        let word: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        let dotted: (Character) -> Bool = { word($0) || $0 == "." }
        var result: (String, String)?
        switch host {
        case "twitter.com", "x.com":
            result = named("twitter", first, allowed: word, maxLength: 50)
        case "instagram.com":
            result = named("instagram", first, allowed: dotted, maxLength: 30)
        case "facebook.com", "fb.com":
            if first.lowercased() == "profile.php", let id = parts.queryValue("id"), !id.isEmpty, id.allSatisfy(\.isASCIIDigit) {
                result = ("facebook", id)
            } else {
                result = named("facebook", first, allowed: { dotted($0) || $0 == "-" }, maxLength: 50)
            }
        case "tiktok.com":
            if first.hasPrefix("@") { result = named("tiktok", String(first.dropFirst()), allowed: dotted, maxLength: 24) }
        case "youtube.com":
            if first.hasPrefix("@") {
                result = named("youtube", String(first.dropFirst()), allowed: { dotted($0) || $0 == "-" }, maxLength: 30)
            } else if ["c", "user"].contains(first.lowercased()), segments.count > 1 {
                result = named("youtube", segments[1], allowed: { dotted($0) || $0 == "-" }, maxLength: 100)
            } else if first.lowercased() == "channel", segments.count > 1 {
                let id = segments[1]
                if !id.isEmpty, id.count <= 64, id.allSatisfy({ word($0) || $0 == "-" }) { result = ("youtube", "channel/" + id) }
            }
        case "t.me", "telegram.me":
            if !first.hasPrefix("+") { result = named("telegram", first, allowed: word, maxLength: 32) }
        case "snapchat.com":
            if first.lowercased() == "add", segments.count > 1 {
                result = named("snapchat", segments[1], allowed: { dotted($0) || $0 == "-" }, maxLength: 30)
            }
        case "reddit.com":
            if ["user", "u"].contains(first.lowercased()), segments.count > 1 {
                result = named("reddit", segments[1], allowed: { word($0) || $0 == "-" }, maxLength: 30)
            }
        default:
            break
        }
        guard let (platform, handle) = result else { return nil }
        self.platform = platform
        self.handle = handle
    }
}

extension String {
    var removingPercentEncodingSafely: String {
        guard utf8.contains(UInt8(ascii: "%")) else { return self }
        var bytes: [UInt8] = []
        var iterator = Array(utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Whether the text starts with `prefix` (ASCII), ignoring ASCII case: a
    /// scheme check that does not lower-case a whole URL first.
    func hasPrefixIgnoringASCIICase(_ prefix: String) -> Bool {
        var text = utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = text.next() else { return false }
            let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            guard folded == expected else { return false }
        }
        return true
    }
}
