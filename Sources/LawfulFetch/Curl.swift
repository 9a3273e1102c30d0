internal import CCurl
import ChainOfCustody
import Foundation

/// Process-wide libcurl set-up.
public enum Curl {
    // A global `let` runs once, thread-safely. OpenSSL first (DESIGN §13): its
    // atexit cleanup would otherwise race curl's at exit.
    private static let initialized: Bool = {
        OpenSSL.initialize()
        return curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    /// Initialises libcurl once; later calls do nothing.
    public static func initialize() {
        _ = initialized
    }

    /// Starts `initialize()` on a thread of its own and returns at once. Loading libcurl
    /// maps some 25 libraries and initialises them (about 5 ms, most of the time a capture
    /// takes before its first request); a caller with other work first (a capture reading
    /// its case) has it done meanwhile. Whoever needs libcurl before it is done waits for it.
    public static func preload() {
        _ = loading
    }

    /// The thread `preload()` starts, once per process.
    private static let loading: Void = {
        Thread.detachNewThread { initialize() }
    }()

    /// The linked libcurl's version line, e.g. `libcurl/7.88.1 OpenSSL/3.0.19 zlib/1.2.13`.
    public static var version: String {
        initialize()
        return String(cString: exhibit_curl_version())
    }
}
