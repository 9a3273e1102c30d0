import ChainOfCustody
import Testing

/// `JSONValue(parsing:keepingOnly:)` (verify's provenance check, issue 25): it must refuse
/// exactly what the whole parse refuses — at the same byte, with the same sentence — and
/// keep exactly the named members of what the whole parse builds.
@Suite("JSON parser: selective parse")
struct JSONSelectiveParseTests {
    static let keys = ["@id", "keep", "K"]

    /// The whole parse's value with every member not named in `keys` removed, at any depth.
    static func pruned(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.filter { keys.contains($0.key) }.mapValues(pruned))
        case .array(let items):
            return .array(items.map(pruned))
        default:
            return value
        }
    }

    @Test("refuses what the whole parse refuses, at the same byte, with the same sentence", arguments: [
        #"{"a":1,"a":2}"#,                          // duplicate in a dropped member's object
        #"{"keep":{"x":1,"x":2}}"#,                 // duplicate inside a kept member
        #"{"drop":{"x":1,"x":2}}"#,                 // duplicate inside a dropped member
        #"{"a":{"b":1,"c":2},"a":3}"#,              // duplicate after a nested object's keys
        #"{"a":{"b":{"c":1}},"d":{"c":2,"c":3}}"#,  // duplicate in a later sibling
        #"{"drop":{"\u0078":1,"x":2}}"#,            // the same key, once escaped
        "{\"drop\":{\"\u{212A}\":1,\"K\":2}}",      // canonically equivalent keys (Kelvin sign, K)
        #"{"drop":"\ud800"}"#,                      // lone surrogate in a dropped string
        "{\"drop\":\"\u{01}\"}",                    // control character in a dropped string
        "{\"drop\":[\"\\q\"]}",                     // bad escape in a dropped array
        #"{"drop":1e999}"#,                         // number beyond a double
        #"{"drop":01}"#,                            // leading zero
        #"{"drop":[1 2]}"#,                         // missing separator
        #"{"drop":{"x" 1}}"#,                       // missing colon
        #"{"drop":tru}"#,                           // bad literal
        #"{"keep":[1,]}"#,
        #"{"keep":1} x"#,                           // trailing data
        #"{"drop":"unterminated}"#,
        String(repeating: "[", count: 513) + String(repeating: "]", count: 513),
        "{\"drop\":" + String(repeating: "[", count: 512) + String(repeating: "]", count: 512) + "}",
    ])
    func refusals(input: String) {
        var whole: JSONError?
        do { _ = try JSONValue(parsing: input) } catch { whole = error }
        var selective: JSONError?
        do { _ = try JSONValue(parsing: Array(input.utf8), keepingOnly: Self.keys) } catch { selective = error }
        #expect(whole != nil, "the whole parse accepted \(input)")
        #expect(selective?.message == whole?.message)
        #expect(selective?.offset == whole?.offset)
    }

    @Test("keeps the named members, at every depth, as the whole parse reads them", arguments: [
        #"{"@id":"a","drop":{"keep":1},"keep":[{"keep":true,"x":null},{"K":-2.5}]}"#,
        #"{"\u0040id":"escaped name","keep":"caf\u00e9","drop":[1,2,{"a":"b"}]}"#,
        " [ {\"K\" : 1 } , 2 , \"s\" ] ",
        "{\"\u{212A}\":\"Kelvin sign, kept as K\"}",
        "{" + (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"keep\":{}}",
        #""just a string""#,
        #"{"keep":{"keep":{"keep":1}},"K":{"keep":2,"x":{"keep":3}},"x":{"K":4}}"#,  // the same names at other depths
    ])
    func keeps(input: String) throws {
        let whole = try JSONValue(parsing: input)
        let selective = try JSONValue(parsing: Array(input.utf8), keepingOnly: Self.keys)
        #expect(selective == Self.pruned(whole))
    }

    @Test("a duplicate among more keys than are searched one by one is still refused")
    func manyKeys() {
        let input = "{" + (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k7\":0}"
        #expect(throws: JSONError.self) { try JSONValue(parsing: Array(input.utf8), keepingOnly: Self.keys) }
        #expect(throws: JSONError.self) { try JSONValue(parsing: input) }
    }
}
