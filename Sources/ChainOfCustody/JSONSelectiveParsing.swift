// What the parser tells besides the value (whether the bytes are already canonical,
// where the top-level members lie), and the selective parse that builds only the
// members a check reads. The selective parse walks JSONParser's cursor with its
// readers (JSONParser.swift), so both accept and refuse the same text.

// MARK: - Accessors

extension JSONValue {
    /// Parses like ``init(parsing:)`` and also tells whether the bytes are already the
    /// value's canonical form (RFC 8785), and where each member of a top-level object
    /// has its value. When they are, a member's bytes are its canonical form too, so
    /// a ledger subject's digest needs no second serialisation.
    static func parsingNotingCanonical(_ bytes: [UInt8]) throws(JSONError) -> (value: JSONValue, isCanonical: Bool, members: [String: Range<Int>]) {
        var parser = JSONParser(bytes: bytes)
        parser.recordsMembers = true
        let value = try parser.parseDocument()
        return (value, parser.isCanonical, parser.topLevelMembers)
    }

    /// Parses like ``init(parsing:)`` and tells whether `bytes` are certainly the value's
    /// canonical form (RFC 8785), as the ledger's subject digests rely on: true means
    /// they are; false means they may not be (a number with a fraction or exponent is
    /// never judged here), and ``canonicalBytes()`` must decide.
    public static func parsingTellingCanonical(_ bytes: [UInt8]) throws(JSONError) -> (value: JSONValue, isCanonical: Bool) {
        let (value, isCanonical, _) = try parsingNotingCanonical(bytes)
        return (value, isCanonical)
    }
}

// MARK: - Selective parsing

/// The member names a selective parse keeps, as bytes for the keys written plainly.
struct KeySelection {
    private let names: [String]
    private let utf8: [[UInt8]]

    init(_ names: [String]) {
        self.names = names
        utf8 = names.map { Array($0.utf8) }
    }

    /// The kept name `key` equals, if any: by bytes for a plain ASCII key (two such
    /// strings are equal exactly when their bytes are), as Strings otherwise (as a
    /// Dictionary compares keys, so an escaped or canonically equivalent spelling is kept too).
    func keeps(_ key: ObjectKeys.Key, in bytes: [UInt8]) -> String? {
        switch key {
        case .bytes(let range):
            for (index, name) in utf8.enumerated() where name.count == range.count && bytes[range].elementsEqual(name) {
                return names[index]
            }
            return nil
        case .decoded(let string):
            return names.first { $0 == string }
        }
    }
}

/// The keys of one object read so far, to refuse a duplicate as the full parser does
/// (its Dictionary compares keys as Strings: by canonical equivalence).
struct ObjectKeys {
    /// A key: the byte range of a plain ASCII key, or the decoded string of any other.
    enum Key {
        case bytes(Range<Int>)
        case decoded(String)

        func string(in input: [UInt8]) -> String {
            switch self {
            case .bytes(let range): return String(decoding: input[range], as: UTF8.self)
            case .decoded(let string): return string
            }
        }
    }

    /// Where this object's plain keys start in the parser's stack of them; the ones above are its own.
    let base: Int
    private var decoded: [String] = []
    /// Past a few dozen keys, every key as a String in a set (no quadratic search).
    private var many: Set<String>?

    init(base: Int) {
        self.base = base
    }

    /// Adds `key`, a plain one on top of `plain`; false when the object already has it.
    mutating func insert(_ key: Key, in input: [UInt8], plain: inout [Range<Int>]) -> Bool {
        if many != nil { return many!.insert(key.string(in: input)).inserted }
        switch key {
        case .bytes(let range):
            // Two plain ASCII keys are the same String exactly when their bytes are.
            for other in plain[base...] where other.count == range.count && input[other].elementsEqual(input[range]) { return false }
            if !decoded.isEmpty {
                let string = key.string(in: input)
                if decoded.contains(string) { return false }
            }
            plain.append(range)
        case .decoded(let string):
            if decoded.contains(string) { return false }
            for other in plain[base...] where String(decoding: input[other], as: UTF8.self) == string { return false }
            decoded.append(string)
        }
        if plain.count - base + decoded.count > 32 {
            many = Set(plain[base...].map { String(decoding: input[$0], as: UTF8.self) } + decoded)
        }
        return true
    }
}

extension JSONValue {
    /// Parses like ``init(parsing:)`` — accepting and refusing exactly the same texts, with
    /// the same duplicate-key, UTF-8, escape, number and depth rules — but keeps, in every
    /// object at any depth, only the members named in `keys`. For a large document of
    /// which a check reads a few members (a 30 MB provenance graph): the rest is read and
    /// validated but never built.
    public init(parsing bytes: [UInt8], keepingOnly keys: [String]) throws(JSONError) {
        var parser = JSONParser(bytes: bytes)
        self = try parser.parseSelectedDocument(keys: KeySelection(keys))
    }
}

// MARK: - The selective parse

extension JSONParser {
    /// ``parseDocument()`` keeping only the members `keys` names.
    mutating func parseSelectedDocument(keys: KeySelection) throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try parseSelected(depth: 0, keys: keys, keep: true)!
        skipWhitespace()
        guard position == bytes.count else {
            throw failure("unexpected data after the JSON value")
        }
        return value
    }

    /// Parses the value at `position` like ``parseValue(depth:)``, accepting and refusing
    /// exactly the same text, but keeps in every object only the members `keys` names
    /// (``KeySelection/keeps(_:in:)``); with `keep` false nothing is built and nil is returned.
    /// Every member is still read: a dropped one is validated as a kept one would be, and
    /// every object's keys are checked for duplicates.
    private mutating func parseSelected(depth: Int, keys: KeySelection, keep: Bool) throws(JSONError) -> JSONValue? {
        guard let byte = peek() else {
            throw failure("unexpected end of input, expected a value")
        }
        switch byte {
        case UInt8(ascii: "{"):
            try checkDepth(depth + 1)
            position += 1
            var members: [String: JSONValue] = [:]
            var seen = ObjectKeys(base: plainKeys.count)
            defer { plainKeys.removeSubrange(seen.base...) }
            if closesAtOnce(UInt8(ascii: "}")) { return keep ? .object(members) : nil }
            while true {
                try expectKey()
                let keyOffset = position
                let key = try readKey()
                guard seen.insert(key, in: bytes, plain: &plainKeys) else {
                    throw JSONError(message: "duplicate object key \(String(reflecting: key.string(in: bytes)))", offset: keyOffset)
                }
                try expectColon()
                if keep, let name = keys.keeps(key, in: bytes) {
                    members[name] = try parseSelected(depth: depth + 1, keys: keys, keep: true)
                } else {
                    _ = try parseSelected(depth: depth + 1, keys: keys, keep: false)
                }
                if try closesAfterItem(UInt8(ascii: "}"), else: "expected ',' or '}' in object") { return keep ? .object(members) : nil }
            }
        case UInt8(ascii: "["):
            try checkDepth(depth + 1)
            position += 1
            var elements: [JSONValue] = []
            if closesAtOnce(UInt8(ascii: "]")) { return keep ? .array(elements) : nil }
            while true {
                skipWhitespace()
                if let element = try parseSelected(depth: depth + 1, keys: keys, keep: keep) { elements.append(element) }
                if try closesAfterItem(UInt8(ascii: "]"), else: "expected ',' or ']' in array") { return keep ? .array(elements) : nil }
            }
        case UInt8(ascii: "\""):
            if keep { return .string(try parseString()) }
            _ = try readKey()
            return nil
        default:
            let value = try parseValue(depth: depth)
            return keep ? value : nil
        }
    }

    /// Reads the string at `position` without making it a String when it is printable
    /// ASCII without escapes (its bytes are then the string); otherwise parsed whole.
    private mutating func readKey() throws(JSONError) -> ObjectKeys.Key {
        let start = position + 1
        var end = start
        while end < bytes.count, bytes[end] >= 0x20, bytes[end] < 0x80, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            position = end + 1
            return .bytes(start..<end)
        }
        return .decoded(try parseString())
    }
}
