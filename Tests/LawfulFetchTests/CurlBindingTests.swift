import LawfulFetch
import Testing

/// The libcurl binding (DESIGN §13): the typed shim reaches the linked libcurl, which
/// is Debian's OpenSSL build (libcurl4-openssl-dev).
@Suite("libcurl binding")
struct CurlBindingTests {
    @Test func versionNamesLibcurlAndOpenSSL() throws {
        let version = Curl.version
        #expect(version.hasPrefix("libcurl/"))
        #expect(version.contains("OpenSSL/"))
        // libcurl/MAJOR.MINOR.PATCH
        let first = try #require(version.split(separator: " ").first)
        let number = first.dropFirst("libcurl/".count).split(separator: ".")
        #expect(number.count >= 3)
        #expect(number.prefix(3).allSatisfy { Int($0) != nil })
    }

    /// `curl_global_init` is not thread-safe and must run once: initialising from many
    /// tasks at once, and again afterwards, leaves a libcurl that still answers.
    @Test func initialisingTwiceIsHarmless() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { Curl.initialize() } }
        }
        Curl.initialize()
        #expect(Curl.version.hasPrefix("libcurl/"), "\(Curl.version)")
    }
}
