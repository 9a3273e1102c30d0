import ChainOfCustody
import Foundation
@testable import LawfulFetch
import Testing

/// Every libcurl option Exhibit sets is checked (issue 17, `CurlEasy`): an option libcurl
/// refuses stops the transfer with a sentence that names it, where before the transfer
/// went on under libcurl's defaults. libcurl refuses any string option longer than
/// CURL_MAX_INPUT_LENGTH (8 000 000 bytes), which gives a refusal without a mock.
@Suite("CurlEasy: checked libcurl options")
struct CurlEasyTests {
    static let overLong = String(repeating: "x", count: 8_000_001)
    static let badArgument = "A libcurl function was given a bad argument"

    /// Before: the user agent was silently left unset, the hop ran, and the policy refused
    /// the loopback address as an ordinary outcome.
    @Test func aCaptureOptionLibcurlRefusesStopsTheRunBeforeAnyHop() throws {
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("curl-easy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let engine = try TransferEngine(options: EngineOptions(
            policy: NetworkPolicy(), userAgent: Self.overLong, connectTimeout: 5, totalTimeout: 5, maxBytes: 1 << 20,
            concurrency: 1, perHostConnections: 1, perHostDelay: 0, caFile: nil, tlsInsecure: false, spoolDirectory: spool))
        engine.enqueue([HopRequest(url: try #require(WebAddress("http://127.0.0.1:1/")), chain: 0)])
        var outcomes: [HopOutcome] = []
        let error = #expect(throws: ExhibitError.self) {
            try engine.run { _, outcome in
                outcomes.append(outcome)
                return []
            }
        }
        #expect(error?.message == "libcurl refused option CURLOPT_USERAGENT: \(Self.badArgument).", "\(error?.message ?? "no error")")
        let refusal = error?.cause as? CurlOptionRefusal
        #expect(refusal?.option == "CURLOPT_USERAGENT", "\(String(describing: refusal))")
        #expect(refusal?.code == 43, "CURLE_BAD_FUNCTION_ARGUMENT: \(String(describing: refusal))")
        #expect(outcomes.isEmpty, "no hop ran: \(outcomes.count)")
    }

    /// Before: the URL was silently left unset and the POST failed with "No URL set".
    @Test func aTimestampPostWhoseAddressLibcurlRefusesNamesTheOption() {
        let error = #expect(throws: ExhibitError.self) {
            try HTTPPost.send(url: "http://127.0.0.1:1/" + Self.overLong, body: [0x30, 0x00],
                              contentType: "application/timestamp-query", caFile: nil, timeout: 5)
        }
        #expect(error?.message == "libcurl refused option CURLOPT_URL: \(Self.badArgument).", "\((error?.message ?? "no error").prefix(200))")
    }

    /// The handle's error buffer lives as long as the handle, so a failure reports
    /// libcurl's own detail (with the address and port), not only the code's sentence.
    @Test func aFailedPostReportsLibcurlsDetail() {
        let error = #expect(throws: ExhibitError.self) {
            try HTTPPost.send(url: "http://127.0.0.1:1/tsa", body: [0x30, 0x00], contentType: "application/timestamp-query",
                              caFile: nil, timeout: 5)
        }
        let message = error?.message ?? "no error"
        #expect(message.hasPrefix("Cannot reach http://127.0.0.1:1/tsa: Failed to connect to 127.0.0.1 port 1"), "\(message)")
    }
}
