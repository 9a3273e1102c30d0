/// robots.txt rules for Exhibit's crawls (RFC 9309): the group for `Exhibit`
/// if there is one, else the `*` group; longest match wins, Allow wins ties.
public struct RobotsRules: Sendable, Equatable {
    struct Rule: Sendable, Equatable {
        var allow: Bool
        var pattern: String
    }

    private var rules: [Rule]

    /// Everything allowed (no robots.txt, or a 4xx answer).
    public static let allowAll = RobotsRules(rules: [])
    /// Nothing allowed (the server failed to answer: RFC 9309 §2.3.1.4).
    public static let disallowAll = RobotsRules(rules: [Rule(allow: false, pattern: "/")])

    private init(rules: [Rule]) {
        self.rules = rules
    }

    public init(text: String, agent: String = "exhibit") {
        var groups: [(agents: [String], rules: [Rule])] = []
        var lastWasAgent = false
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimming(" \t").lowercased()
            let value = String(parts[1]).trimming(" \t")
            switch key {
            case "user-agent":
                if lastWasAgent, !groups.isEmpty {
                    groups[groups.count - 1].agents.append(value.lowercased())
                } else {
                    groups.append(([value.lowercased()], []))
                }
                lastWasAgent = true
            case "allow", "disallow":
                lastWasAgent = false
                guard !groups.isEmpty else { continue }
                // An empty Disallow allows everything: it adds no rule.
                if value.isEmpty { continue }
                groups[groups.count - 1].rules.append(Rule(allow: key == "allow", pattern: value))
            default:
                lastWasAgent = false
            }
        }
        let agent = agent.lowercased()
        let specific = groups.filter { $0.agents.contains { agent.hasPrefix($0) && $0 != "*" } }
        let chosen = specific.isEmpty ? groups.filter { $0.agents.contains("*") } : specific
        rules = chosen.flatMap(\.rules)
    }

    /// Whether a path (with query) may be fetched.
    public func allows(path: String) -> Bool {
        var best: Rule?
        var bestLength = -1
        for rule in rules where Self.matches(rule.pattern, path) {
            let length = rule.pattern.count
            if length > bestLength || (length == bestLength && rule.allow) {
                best = rule
                bestLength = length
            }
        }
        return best?.allow ?? true
    }

    /// `*` matches any run of characters; a trailing `$` anchors the end.
    static func matches(_ pattern: String, _ path: String) -> Bool {
        var pattern = Substring(pattern)
        let anchored = pattern.hasSuffix("$")
        if anchored { pattern = pattern.dropLast() }
        let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)
        var rest = Substring(path)
        for (index, piece) in pieces.enumerated() {
            if index == 0 {
                guard rest.hasPrefix(piece) else { return false }
                rest = rest.dropFirst(piece.count)
            } else if let range = rest.range(of: piece) {
                rest = rest[range.upperBound...]
            } else {
                return false
            }
        }
        return !anchored || rest.isEmpty || (pieces.count > 1 && pieces.last == "")
    }
}

extension Substring {
    func trimming(_ set: String) -> String { String(self).trimming(set) }
}
