// A JSON value type with a strict RFC 8259 parser.
//
// Evidence records are hashed and signed over their canonical form (see CanonicalJSON.swift),
// so the parser refuses anything two readers could disagree about: duplicate keys, invalid
// UTF-8, lone surrogates, trailing data, numbers outside IEEE 754 range. Accepting such input
// silently would let two parties see different content behind the same digest.

/// A JSON value as defined by RFC 8259.
///
/// Numbers keep the distinction a reader can see in the text: a number written without a
/// fraction or exponent that fits `Int64` stays exact as ``integer(_:)``; every other number is
/// a ``number(_:)``.
public enum JSONValue: Sendable, Hashable {
    /// The literal `null`.
    case null
    /// The literals `true` and `false`.
    case bool(Bool)
    /// A JSON number with no fraction and no exponent that fits `Int64`, kept exact.
    case integer(Int64)
    /// Every other JSON number, as an IEEE 754 double.
    case number(Double)
    /// A string of Unicode scalars, stored exactly as written (never normalised).
    case string(String)
    /// An ordered list of values.
    case array([JSONValue])
    /// An unordered set of uniquely named members.
    case object([String: JSONValue])
}

/// Why JSON text could not be parsed, or a value could not be serialised.
public struct JSONError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in words.
    public let message: String
    /// The byte offset in the input where the problem was found; `nil` when serialising.
    public let offset: Int?

    /// Creates an error with a message and, for parse errors, the byte offset of the problem.
    public init(message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    /// The message, followed by the byte offset when there is one.
    public var description: String {
        if let offset {
            return "\(message) (at byte \(offset))"
        }
        return message
    }
}

// MARK: - Parsing

extension JSONValue {
    /// The deepest nesting of arrays and objects accepted by the parser and written by the
    /// serialiser. Bounding it keeps recursion far from the stack limit on hostile input.
    static let maximumNestingDepth = 512

    /// Parses one JSON text (RFC 8259) from UTF-8 bytes.
    ///
    /// The parser is strict: the input must be well-formed UTF-8 with no byte order mark;
    /// only the four JSON whitespace characters may surround tokens; object keys must be
    /// unique; `\u` escapes may not encode lone surrogates; numbers may not have leading
    /// zeros, may not be `NaN` or `Infinity`, and must be within `Double` range; nothing but
    /// whitespace may follow the value; arrays and objects may nest at most 512 deep.
    ///
    /// Keys are compared the way `Dictionary<String, _>` compares them, that is by Unicode
    /// canonical equivalence, so `"\u00e9"` and `"e\u0301"` in one object are rejected as
    /// duplicates rather than one silently replacing the other.
    ///
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public init(parsing bytes: [UInt8]) throws(JSONError) {
        var parser = JSONParser(bytes: bytes)
        self = try parser.parseDocument()
    }

    /// Parses one JSON text (RFC 8259) from a string, with the same rules as parsing its UTF-8 bytes.
    ///
    /// - Throws: ``JSONError`` with the UTF-8 byte offset of the first problem.
    public init(parsing text: String) throws(JSONError) {
        try self.init(parsing: Array(text.utf8))
    }
}

extension JSONValue {
    /// The member named `key` when this is an object that has one; otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The string when this is ``string(_:)``; otherwise `nil`.
    public var stringValue: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    /// The integer when this is ``integer(_:)``; otherwise `nil`.
    ///
    /// A ``number(_:)`` is never converted, even when integral: a number read with a fraction
    /// or exponent was not written as an exact integer, and silently truncating it would hide that.
    public var intValue: Int64? {
        guard case .integer(let value) = self else { return nil }
        return value
    }

    /// The Boolean when this is ``bool(_:)``; otherwise `nil`.
    public var boolValue: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    /// The elements when this is ``array(_:)``; otherwise `nil`.
    public var arrayValue: [JSONValue]? {
        guard case .array(let value) = self else { return nil }
        return value
    }

    /// The members when this is ``object(_:)``; otherwise `nil`.
    public var objectValue: [String: JSONValue]? {
        guard case .object(let value) = self else { return nil }
        return value
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral {
    /// Creates ``null``.
    public init(nilLiteral: ()) {
        self = .null
    }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// Creates ``bool(_:)``.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// Creates ``integer(_:)``.
    public init(integerLiteral value: Int64) {
        self = .integer(value)
    }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// Creates ``number(_:)``.
    public init(floatLiteral value: Double) {
        self = .number(value)
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// Creates ``string(_:)``.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// Creates ``array(_:)``.
    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Creates ``object(_:)``.
    ///
    /// A repeated key traps, as it does in a `Dictionary` literal: it is a programming error,
    /// and keeping either value silently could change what gets signed.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(uniqueKeysWithValues: elements))
    }
}
