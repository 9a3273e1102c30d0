import ChainOfCustody
import Testing

/// Where objects and arrays end or go on: empty containers with inner whitespace, and the
/// sentence and byte offset of a missing separator (JSONParser's shared
/// `closesAtOnce`/`closesAfterItem`, issue 17).
@Suite("JSON parser: separators and closing brackets")
struct JSONParserSeparatorTests {
    @Test("empty and nested containers, with and without whitespace")
    func containers() throws {
        #expect(try JSONValue(parsing: "{ }") == .object([:]))
        #expect(try JSONValue(parsing: "[\n]") == .array([]))
        #expect(try JSONValue(parsing: #"{"a" : [ 1 , {"b":[]} ] , "c":{}}"#)
            == .object(["a": .array([.integer(1), .object(["b": .array([])])]), "c": .object([:])]))
    }

    @Test("a missing separator names what was expected, at the byte that is not it", arguments: [
        (#"{"a":1 "b":2}"#, "expected ',' or '}' in object", 7),
        ("[1 2]", "expected ',' or ']' in array", 3),
        (#"{"a":[1}"#, "expected ',' or ']' in array", 7),
        (#"[{"a":1]"#, "expected ',' or '}' in object", 7),
        ("[1,2", "expected ',' or ']' in array", 4),
    ])
    func missingSeparator(input: String, message: String, offset: Int) {
        do {
            _ = try JSONValue(parsing: input)
            Issue.record("\(input) parsed")
        } catch {
            #expect(error.message == message)
            #expect(error.offset == offset)
        }
    }
}
