import ChainOfCustody
@testable import Chromium
import Foundation
import Testing

/// How a DevTools command is written to Chromium's pipe: the canonical JSON writer for
/// the Swift values commands are built of, Foundation's JSONSerialization for anything
/// else, and either way JSON that Chromium reads as the same command.
@Suite("DevTools commands written as JSON")
struct DevToolsMessageTests {
    /// A fulfilled request as BrowserTab writes it: nested arrays and dictionaries,
    /// escapes, non-ASCII, a Bool, an Int and a Double.
    static var command: [String: Any] { [
        "id": 41, "method": "Fetch.fulfillRequest", "sessionId": "S-1",
        "params": [
            "requestId": "interception-job-7.0", "responseCode": 200,
            "responseHeaders": [["name": "Content-Type", "value": "text/html; charset=\"utf-8\""],
                                ["name": "X-Note", "value": "tab\tline\nquote\" back\\ é ✓ \u{01}"]],
            "body": Data("<p>hi</p>".utf8).base64EncodedString(),
            "printBackground": true, "scale": 1.5, "clip": ["x": 0, "y": 0, "width": 1280, "height": 1154],
        ] as [String: Any],
    ] }

    @Test("a command of Swift values is written canonically and reads back as the same command")
    func canonicalRoundTrip() throws {
        let value = try #require(ChromiumProcess.jsonValue(Self.command))
        let bytes = try value.canonicalBytes()
        // The same JSON as Foundation writes for the command (read back, members in any order).
        let foundation = try JSONSerialization.data(withJSONObject: Self.command)
        #expect(try JSONValue(parsing: bytes) == JSONValue(parsing: Array(foundation)))
        // A Bool stays a JSON Boolean and an Int an integer (Chromium rejects `1` for a Boolean).
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"printBackground\":true"))
        #expect(text.contains("\"responseCode\":200"))
        #expect(text.contains("\"scale\":1.5"))
        #expect(text.contains("\\u0001") && text.contains("é ✓"))
    }

    @Test("an NSNumber or another Foundation value is not guessed at: the command falls back to JSONSerialization")
    func foundationValuesFallBack() {
        #expect(ChromiumProcess.jsonValue(["n": NSNumber(value: 1)]) == nil)
        #expect(ChromiumProcess.jsonValue(["list": [1, NSNull()]]) == nil)
        #expect(ChromiumProcess.jsonValue(["when": Date()]) == nil)
        #expect(ChromiumProcess.jsonValue(["ok": false, "n": 0, "x": -2.25]) == .object(["ok": .bool(false), "n": .integer(0), "x": .number(-2.25)]))
    }
}
