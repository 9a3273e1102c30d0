internal import CCurl

/// A URL as libcurl parses it (RFC 3986 via the `curl_url` API), so the address
/// Exhibit checks is the one libcurl will fetch.
public struct WebAddress: Sendable, Hashable, CustomStringConvertible {
    /// The normalised absolute URL.
    public let text: String
    public let scheme: String
    public let host: String
    public let port: Int?
    public let hasUserInfo: Bool

    /// Parses an absolute URL; nil when libcurl cannot.
    public init?(_ text: String) {
        self.init(text, base: nil)
    }

    /// Resolves `reference` (absolute or relative, e.g. a Location header or an
    /// href) against `base`.
    public init?(_ reference: String, base: WebAddress?) {
        Curl.initialize()
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        let trimmed = reference.trimming(" \t\r\n")
        guard !trimmed.isEmpty, !trimmed.contains(where: { $0 == "\0" }) else { return nil }
        if let base {
            guard curl_url_set(handle, CURLUPART_URL, base.text, 0) == CURLUE_OK else { return nil }
        }
        // Non-web schemes must still parse, so that a file: or ftp: URL is refused
        // by policy (exit 3) rather than reported as malformed.
        let flags = UInt32(CURLU_NON_SUPPORT_SCHEME)
        guard curl_url_set(handle, CURLUPART_URL, trimmed, flags) == CURLUE_OK else { return nil }
        func part(_ which: CURLUPart) -> String? {
            var pointer: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &pointer, 0) == CURLUE_OK, let pointer else { return nil }
            defer { curl_free(pointer) }
            return String(cString: pointer)
        }
        guard let url = part(CURLUPART_URL), let scheme = part(CURLUPART_SCHEME) else { return nil }
        self.text = url
        self.scheme = scheme.lowercased()
        self.host = part(CURLUPART_HOST) ?? ""
        self.port = part(CURLUPART_PORT).flatMap { Int($0) }
        self.hasUserInfo = part(CURLUPART_USER) != nil || part(CURLUPART_PASSWORD) != nil
    }

    public var isWeb: Bool { scheme == "http" || scheme == "https" }

    /// `scheme://host:port`, the unit of politeness and of "same host".
    public var origin: String {
        "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "")
    }

    public var description: String { text }

    /// The URL with its fragment removed (fragments are never sent).
    public var withoutFragment: String {
        guard let hash = text.firstIndex(of: "#") else { return text }
        return String(text[..<hash])
    }
}

extension String {
    func trimming(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

extension WebAddress {
    /// `text` with any password replaced by `***` (`https://user:***@host/`): a
    /// URL refused for carrying credentials is recorded, but its secret is not
    /// written into the ledger, the output or a bundle.
    public static func redactingPassword(_ url: String) -> String {
        // Most URLs have no user info at all: a capture's policy-override entry lists
        // every URL, and the scan below cost 3 µs each before the first request.
        guard url.utf8.contains(UInt8(ascii: "@")) else { return url }
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userInfo = authority[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<scheme.upperBound]) + userInfo[..<colon] + ":***" + String(rest[at...])
    }
}
