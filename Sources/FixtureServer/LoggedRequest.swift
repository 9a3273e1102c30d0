/// One request as the fixture site received it, recorded before any response is produced.
public struct LoggedRequest: Sendable, Equatable, CustomStringConvertible {
    /// The request method as sent ("GET", "HEAD", …).
    public var method: String
    /// The request target as sent: path and query, e.g. `/test/bytes?n=10`.
    public var uri: String
    /// The request headers in the order received, names as sent. The `Host` header comes first.
    public var headers: [(String, String)]
    /// The address of the server the request arrived at (the `host` the site was started with).
    public var host: String

    public init(method: String, uri: String, headers: [(String, String)], host: String) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.host = host
    }

    /// The path part of `uri` (without the query).
    public var path: String {
        if let question = uri.firstIndex(of: "?") { return String(uri[..<question]) }
        return uri
    }

    /// The first value of the header `name` (compared case-insensitively), if any.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }

    public static func == (lhs: LoggedRequest, rhs: LoggedRequest) -> Bool {
        lhs.method == rhs.method && lhs.uri == rhs.uri && lhs.host == rhs.host
            && lhs.headers.count == rhs.headers.count
            && zip(lhs.headers, rhs.headers).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public var description: String { "\(method) \(uri) (at \(host))" }
}
