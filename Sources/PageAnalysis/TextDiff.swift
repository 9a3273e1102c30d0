/// A line diff of two pages' visible text, for watches' change records and
/// `exhibit diff` (DESIGN §18).
///
/// Lines are the visible text's lines with surrounding white space trimmed and
/// blank lines dropped, so a re-indented template is not a change. The diff is
/// Myers' O(ND) algorithm ("An O(ND) Difference Algorithm and Its Variations",
/// 1986) over the part between the common prefix and suffix: the shortest edit
/// script, as `diff -u` finds it.
public enum TextDiff {
    /// One line of the edit script.
    public enum Line: Sendable, Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// Past this many differing lines the middle is reported as all removed and all
    /// added: the search's memory grows with the square of the difference.
    public static let editLimit = 4000

    /// The text's lines, trimmed, without blank ones.
    public static func lines(of text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// The shortest edit script turning `old` into `new`.
    public static func compare(_ old: [String], _ new: [String]) -> [Line] {
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix,
              old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        let a = Array(old[prefix..<(old.count - suffix)])
        let b = Array(new[prefix..<(new.count - suffix)])
        var script = old[..<prefix].map { Line.same($0) }
        script += middle(a, b)
        script += old[(old.count - suffix)...].map { Line.same($0) }
        return script
    }

    /// Myers' forward search, keeping each round's frontier to walk back along.
    private static func middle(_ a: [String], _ b: [String]) -> [Line] {
        if a.isEmpty { return b.map { .added($0) } }
        if b.isEmpty { return a.map { .removed($0) } }
        // Lines as small integers: comparing them is then one instruction.
        var ids: [String: Int] = [:]
        func id(_ line: String) -> Int {
            if let known = ids[line] { return known }
            ids[line] = ids.count
            return ids.count - 1
        }
        let x = a.map(id)
        let y = b.map(id)
        let n = x.count, m = y.count
        let limit = min(n + m, editLimit)
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        var trace: [[Int]] = []
        var found = false
        search: for d in 0...limit {
            trace.append(Array(v[(offset - d)...(offset + d)]))
            for k in stride(from: -d, through: d, by: 2) {
                var i: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    i = v[offset + k + 1]
                } else {
                    i = v[offset + k - 1] + 1
                }
                var j = i - k
                while i < n, j < m, x[i] == y[j] { i += 1; j += 1 }
                v[offset + k] = i
                if i >= n, j >= m { found = true; break search }
            }
        }
        guard found else { return a.map { .removed($0) } + b.map { .added($0) } }
        // Walk back from (n, m): each round d left the frontier of round d − 1 in trace[d].
        var script: [Line] = []
        var i = n, j = m
        for d in stride(from: trace.count - 1, to: 0, by: -1) {
            let previous = trace[d]
            func at(_ k: Int) -> Int { previous[k + d] }
            let k = i - j
            let down = k == -d || (k != d && at(k - 1) < at(k + 1))
            let previousK = down ? k + 1 : k - 1
            let previousI = at(previousK)
            let previousJ = previousI - previousK
            while i > previousI + (down ? 0 : 1), j > previousJ + (down ? 1 : 0) {
                script.append(.same(a[i - 1]))
                i -= 1
                j -= 1
            }
            if down {
                script.append(.added(b[j - 1]))
                j -= 1
            } else {
                script.append(.removed(a[i - 1]))
                i -= 1
            }
        }
        while i > 0, j > 0 {
            script.append(.same(a[i - 1]))
            i -= 1
            j -= 1
        }
        return script.reversed()
    }

    /// The diff in unified format (as `diff` writes it with its unified option): a minus/plus header naming the two
    /// sides, then hunks of changed lines with `context` lines around them.
    /// Empty when the texts have the same lines.
    public static func unified(_ old: [String], _ new: [String], from: String, to: String, context: Int = 3) -> String {
        let script = compare(old, new)
        guard script.contains(where: { if case .same = $0 { false } else { true } }) else { return "" }
        var output = String(repeating: "-", count: 3) + " \(from)\n+++ \(to)\n"
        // Positions (in the script) of changed lines, grouped into hunks whose
        // context would touch.
        var index = 0
        var oldLine = 0, newLine = 0
        var positions: [(old: Int, new: Int)] = []
        for line in script {
            positions.append((oldLine, newLine))
            switch line {
            case .same: oldLine += 1; newLine += 1
            case .removed: oldLine += 1
            case .added: newLine += 1
            }
        }
        while index < script.count {
            guard let firstChange = script[index...].firstIndex(where: { if case .same = $0 { false } else { true } }) else { break }
            let start = max(index, firstChange - context)
            var end = firstChange
            var last = firstChange
            while end < script.count {
                if case .same = script[end] {
                    if end - last > 2 * context { break }
                } else {
                    last = end
                }
                end += 1
            }
            let stop = min(script.count, last + context + 1)
            var oldCount = 0, newCount = 0
            var body = ""
            for line in script[start..<stop] {
                switch line {
                case .same(let text): oldCount += 1; newCount += 1; body += " \(text)\n"
                case .removed(let text): oldCount += 1; body += "-\(text)\n"
                case .added(let text): newCount += 1; body += "+\(text)\n"
                }
            }
            let oldStart = oldCount == 0 ? positions[start].old : positions[start].old + 1
            let newStart = newCount == 0 ? positions[start].new : positions[start].new + 1
            output += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n" + body
            index = stop
        }
        return output
    }

    /// `start,count`, or `start` alone for one line, as `diff -u` writes it.
    private static func range(_ start: Int, _ count: Int) -> String {
        count == 1 ? "\(start)" : "\(start),\(count)"
    }
}
