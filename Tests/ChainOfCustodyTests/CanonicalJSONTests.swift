import ChainOfCustody
import Testing

/// Canonicalises JSON text; the helper most vectors below go through.
private func canonical(_ text: String) throws -> String {
    try JSONValue(parsing: text).canonicalString()
}

@Suite("RFC 8785 canonical serialisation")
struct CanonicalJSONTests {
    // MARK: Published RFC 8785 examples

    /// RFC 8785 §3.2.2: numbers, string escapes and literals in one document.
    @Test func rfcSection322Example() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        let value = try JSONValue(parsing: input)
        #expect(try value.canonicalString() == expected)
        #expect(try value.canonicalBytes() == Array(expected.utf8))
    }

    /// RFC 8785 §3.2.3: members sorted by UTF-16 code units, so the emoji (a surrogate
    /// pair starting 0xD83D) sorts before U+FB33, unlike code point order.
    @Test func rfcSection323SortingExample() throws {
        let input = #"""
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """#
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\","
            + "\"\u{F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\","
            + "\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try canonical(input) == expected)
    }

    /// RFC 8785 Appendix B: IEEE 754 bit patterns and the text JCS requires for each.
    @Test(arguments: [
        (0x0000_0000_0000_0000, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
        (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xC340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
        (0x44B5_2D02_C7E1_4AF6, "1e+23"),
        (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
        (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
        (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
        (0x444B_1AE4_D6E2_EF50, "1e+21"),
        (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
        (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
        (0x41B3_DE43_5555_5553, "333333333.3333332"),
        (0x41B3_DE43_5555_5554, "333333333.33333325"),
        (0x41B3_DE43_5555_5555, "333333333.3333333"),
        (0x41B3_DE43_5555_5556, "333333333.3333334"),
        (0x41B3_DE43_5555_5557, "333333333.33333343"),
        (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
        (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
    ] as [(UInt64, String)])
    func rfcAppendixBNumber(bits: UInt64, expected: String) throws {
        let value = JSONValue.number(Double(bitPattern: bits))
        #expect(try value.canonicalString() == expected)
        // The canonical text must read back as the same double.
        let reparsed = try JSONValue(parsing: expected)
        switch reparsed {
        case .integer(let integer): #expect(Double(integer) == Double(bitPattern: bits))
        case .number(let double): #expect(double == Double(bitPattern: bits))
        default: Issue.record("\(expected) did not parse as a number")
        }
    }

    /// RFC 8785 Appendix B: NaN and Infinity have no JSON form and must be refused.
    @Test(arguments: [0x7FFF_FFFF_FFFF_FFFF, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000] as [UInt64])
    func rfcAppendixBNonFiniteThrows(bits: UInt64) {
        let value: JSONValue = ["n": .number(Double(bitPattern: bits))]
        #expect(throws: JSONError.self) { try value.canonicalBytes() }
        #expect(throws: JSONError.self) { try value.canonicalString() }
    }

    // MARK: The RFC author's test vectors (github.com/cyberphone/json-canonicalization, testdata)

    @Test(arguments: [
        (
            #"[56, {"d": true, "10": null, "1": [ ]}]"#,
            #"[56,{"1":[],"10":null,"d":true}]"#
        ),
        (
            #"{"peach": "This sorting order", "péché": "is wrong according to French", "pêche": "but canonicalization MUST", "sin": "ignore locale"}"#,
            #"{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}"#
        ),
        (
            #"{"1": {"f": {"f": "hi","F": 5} ,"\n": 56.0}, "10": { }, "": "empty", "a": { }, "111": [ {"e": "yes","E": "no" } ], "A": { }}"#,
            #"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}"#
        ),
        (
            #"{"Unnormalized Unicode":"A\u030a"}"#,
            "{\"Unnormalized Unicode\":\"A\u{30A}\"}"
        ),
        (
            #"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\u000a": "Newline", "1": "One", "\u0080": "Control\u007f", "\ud83d\ude02": "Smiley", "\u00f6": "Latin Small Letter O With Diaeresis", "\ufb33": "Hebrew Letter Dalet With Dagesh", "</script>": "Browser Challenge"}"#,
            "{\"\\n\":\"Newline\",\"\\r\":\"Carriage Return\",\"1\":\"One\",\"</script>\":\"Browser Challenge\","
                + "\"\u{80}\":\"Control\u{7F}\",\"\u{F6}\":\"Latin Small Letter O With Diaeresis\","
                + "\"\u{20AC}\":\"Euro Sign\",\"\u{1F602}\":\"Smiley\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        ),
    ] as [(String, String)])
    func jcsTestVector(input: String, expected: String) throws {
        #expect(try canonical(input) == expected)
    }

    /// Canonical output must keep unnormalised text byte for byte: A + U+030A stays three bytes.
    @Test func stringsAreNotNormalised() throws {
        let bytes = try JSONValue(parsing: #""A\u030a""#).canonicalBytes()
        #expect(bytes == [0x22, 0x41, 0xCC, 0x8A, 0x22])
    }

    // MARK: Serialisation details

    @Test func controlCharactersUseShortFormsOrLowercaseHex() throws {
        let allControls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let expected = #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#
            + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#
        #expect(try JSONValue.string(allControls).canonicalString() == expected)
    }

    @Test func everythingElseIsWrittenLiterally() throws {
        let text = "/ \u{7F} é € 😀 \u{2028}"
        #expect(try JSONValue.string(text).canonicalBytes() == [0x22] + Array(text.utf8) + [0x22])
        #expect(try JSONValue.string("\"\\").canonicalString() == #""\"\\""#)
    }

    @Test func integersArePlainDecimal() throws {
        #expect(try JSONValue.integer(0).canonicalString() == "0")
        #expect(try JSONValue.integer(-42).canonicalString() == "-42")
        #expect(try JSONValue.integer(.max).canonicalString() == "9223372036854775807")
        #expect(try JSONValue.integer(.min).canonicalString() == "-9223372036854775808")
    }

    @Test func integralDoublesHaveNoFraction() throws {
        #expect(try JSONValue.number(1.0).canonicalString() == "1")
        #expect(try JSONValue.number(-0.0).canonicalString() == "0")
        #expect(try JSONValue.number(100.0).canonicalString() == "100")
        #expect(try JSONValue.number(1e20).canonicalString() == "100000000000000000000")
        #expect(try JSONValue.number(0.5).canonicalString() == "0.5")
        #expect(try JSONValue.number(1e-7).canonicalString() == "1e-7")
    }

    @Test func noWhitespaceAndNestedSorting() throws {
        let value: JSONValue = ["b": [["z": 1, "a": 2]], "a": ["d": true, "c": nil], "e": [], "f": [:]]
        #expect(try value.canonicalString() == #"{"a":{"c":null,"d":true},"b":[{"a":2,"z":1}],"e":[],"f":{}}"#)
    }

    @Test func nestingDeeperThanTheParserAcceptsIsNotSerialised() throws {
        var value: JSONValue = .null
        for _ in 0..<512 { value = [value] }
        #expect(try value.canonicalBytes().count == 512 * 2 + 4)
        value = [value]
        #expect(throws: JSONError.self) { try value.canonicalBytes() }
    }

    // MARK: Round trips

    @Test(arguments: [
        #"{"z": [1, 2.5, -0.0, 1e300, "x\u0000y"], "a": {"nested": [true, false, null]}, "\ud83d\ude00": "", "m": 12345678901234567890}"#,
        "[1e-400, 0, 4.50, 2E3]",
        #"  "just a string with \/ and \u00e9"  "#,
        #"[9007199254740993, -9223372036854775808, 9223372036854775808, 0.1, 123456789012345680000]"#,
    ])
    func parseCanonicalParseIsStable(input: String) throws {
        let first = try JSONValue(parsing: input).canonicalBytes()
        let reparsed = try JSONValue(parsing: first)
        #expect(try reparsed.canonicalBytes() == first)
        // Once canonical, parsing gives back exactly the same value.
        #expect(try JSONValue(parsing: reparsed.canonicalBytes()) == reparsed)
    }

    // MARK: Parser: accepted input

    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue(parsing: " {\"a\": [null, true, false, -7, 2.5, \"s\"], \"o\": {}}\r\n\t")
        let expected: JSONValue = ["a": [nil, true, false, -7, 2.5, "s"], "o": [:]]
        #expect(value == expected)
        #expect(try JSONValue(parsing: "42") == .integer(42))
        #expect(try JSONValue(parsing: "\"top\"") == .string("top"))
    }

    @Test func integersWithinInt64StayExact() throws {
        #expect(try JSONValue(parsing: "9223372036854775807") == .integer(.max))
        #expect(try JSONValue(parsing: "-9223372036854775808") == .integer(.min))
        #expect(try JSONValue(parsing: "9007199254740993") == .integer(9_007_199_254_740_993))
        #expect(try JSONValue(parsing: "-0") == .integer(0))
    }

    @Test func integersBeyondInt64BecomeNumbers() throws {
        #expect(try JSONValue(parsing: "9223372036854775808") == .number(9_223_372_036_854_775_808.0))
        #expect(try JSONValue(parsing: "-9223372036854775809") == .number(-9_223_372_036_854_775_808.0))
        #expect(try JSONValue(parsing: "123456789012345678901234567890") == .number(1.2345678901234568e29))
    }

    @Test func fractionsAndExponentsAreNumbers() throws {
        #expect(try JSONValue(parsing: "1.0") == .number(1.0))
        #expect(try JSONValue(parsing: "1e2") == .number(100))
        #expect(try JSONValue(parsing: "1E+2") == .number(100))
        #expect(try JSONValue(parsing: "-2.5e-3") == .number(-0.0025))
        #expect(try JSONValue(parsing: "1e-400") == .number(0))
    }

    @Test func escapesDecodeToTheRightScalars() throws {
        let value = try JSONValue(parsing: #""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\uD83D\uDE00""#)
        #expect(value == .string("\"\\/\u{8}\u{C}\n\r\tAé€😀"))
    }

    // MARK: Parser: rejected input

    @Test func duplicateKeysAreRejected() throws {
        #expect(throws: JSONError.self) { try JSONValue(parsing: #"{"a": 1, "a": 2}"#) }
        #expect(throws: JSONError.self) { try JSONValue(parsing: #"{"a": 1, "\u0061": 1}"#) }
        #expect(throws: JSONError.self) { try JSONValue(parsing: #"{"x": {"k": 1, "b": 2, "k": 3}}"#) }
        // Canonically equivalent keys would collapse into one Dictionary entry, so they are refused too.
        #expect(throws: JSONError.self) { try JSONValue(parsing: #"{"\u00e9": 1, "e\u0301": 2}"#) }
        // The same key in different objects is fine.
        #expect(try JSONValue(parsing: #"[{"a": 1}, {"a": 2}]"#).arrayValue?.count == 2)
    }

    @Test(arguments: [#"{"a": 1} x"#, "1 2", "[] []", "nullx", "{}}", "[1]]", "\"a\"\"", "0x10", "1 /* c */"])
    func trailingDataIsRejected(input: String) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: input) }
    }

    @Test func errorsCarryTheByteOffset() {
        do throws(JSONError) {
            _ = try JSONValue(parsing: #"{"a": 1} x"#)
            Issue.record("trailing data was accepted")
        } catch {
            #expect(error.offset == 9)
            #expect(error.description.contains("9"))
        }
        do throws(JSONError) {
            _ = try JSONValue(parsing: #"{"a": 1, "a": 2}"#)
            Issue.record("duplicate key was accepted")
        } catch {
            #expect(error.offset == 9)
        }
    }

    @Test(arguments: [
        [0x22, 0xFF, 0x22],                    // never valid in UTF-8
        [0x22, 0x80, 0x22],                    // continuation byte without a lead
        [0x22, 0xC0, 0xAF, 0x22],              // overlong "/"
        [0x22, 0xE0, 0x80, 0xAF, 0x22],        // overlong three-byte form
        [0x22, 0xED, 0xA0, 0x80, 0x22],        // UTF-8-encoded surrogate U+D800
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0xC3, 0x22],                    // truncated two-byte sequence
        [0x22, 0xE2, 0x82],                    // truncated at end of input
        [0xEF, 0xBB, 0xBF, 0x31],              // byte order mark
        [0xC3, 0xA9],                          // non-ASCII outside a string
    ] as [[UInt8]])
    func invalidUTF8IsRejected(bytes: [UInt8]) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: bytes) }
    }

    @Test(arguments: [
        #""\ud800""#,
        #""\udc00""#,
        #""\ud83d x""#,
        #""\ud83d\u0041""#,
        #""\ude00\ud83d""#,
        #""\ud83d\ud83d""#,
        #"{"\udfff": 1}"#,
    ])
    func loneSurrogateEscapesAreRejected(input: String) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: input) }
    }

    @Test func nestingIsLimitedTo512() throws {
        let accepted = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try JSONValue(parsing: accepted).arrayValue != nil)
        let objects = String(repeating: #"{"a":"#, count: 512) + "1" + String(repeating: "}", count: 512)
        #expect(try JSONValue(parsing: objects)["a"] != nil)

        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONError.self) { try JSONValue(parsing: tooDeep) }
        let mixed = String(repeating: #"{"a":["#, count: 257) + String(repeating: "]}", count: 257)
        #expect(throws: JSONError.self) { try JSONValue(parsing: mixed) }
        // Far deeper than any stack could recurse: refused at level 513, not a crash.
        let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(throws: JSONError.self) { try JSONValue(parsing: hostile) }
    }

    @Test(arguments: [
        "", "   ", "01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "1.e5",
        "NaN", "-NaN", "Infinity", "-Infinity", "1e400", "-1e400",
        "tru", "True", "nul", "[1,]", "[,1]", #"{"a":1,}"#, #"{"a" 1}"#, "{a:1}", "{1:1}", "['a']",
        "\"\t\"", "\"a\nb\"", "\"\u{0}\"", #""\x""#, #""\u12""#, #""\u12G4""#, #""\"#, #""abc"#,
        "[1 2]", "\u{A0}1", "\u{C}1",
    ])
    func malformedTextIsRejected(input: String) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: input) }
    }

    // MARK: Accessors and literals

    @Test func accessorsReturnValuesOnlyForTheirOwnCase() {
        let value: JSONValue = ["s": "text", "i": 7, "d": 7.5, "b": true, "a": [1], "o": ["k": nil]]
        #expect(value["s"]?.stringValue == "text")
        #expect(value["i"]?.intValue == 7)
        #expect(value["d"]?.intValue == nil)
        #expect(value["b"]?.boolValue == true)
        #expect(value["a"]?.arrayValue == [1])
        #expect(value["o"]?.objectValue == ["k": .null])
        #expect(value["missing"] == nil)
        #expect(value["s"]?["k"] == nil)
        #expect(JSONValue.integer(1).stringValue == nil)
        #expect(JSONValue.string("1").intValue == nil)
        #expect(JSONValue.null.boolValue == nil)
        #expect(JSONValue.object([:]).arrayValue == nil)
        #expect(JSONValue.array([]).objectValue == nil)
    }

    @Test func literalsBuildTheMatchingCases() {
        let null: JSONValue = nil
        let flag: JSONValue = false
        let integer: JSONValue = 3
        let double: JSONValue = 3.0
        let string: JSONValue = "x"
        let array: JSONValue = [1, "two"]
        let object: JSONValue = ["k": 1]
        #expect(null == .null)
        #expect(flag == .bool(false))
        #expect(integer == .integer(3))
        #expect(double == .number(3.0))
        #expect(integer != double)
        #expect(string == .string("x"))
        #expect(array == .array([.integer(1), .string("two")]))
        #expect(object == .object(["k": .integer(1)]))
    }
}
