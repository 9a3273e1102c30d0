internal import COpenSSL

/// Process-wide OpenSSL set-up.
public enum OpenSSL {
    // A global `let` is initialised once, thread-safely, on first use.
    private static let initialized: Bool = exhibit_openssl_init() == 1

    /// Initialises libcrypto without its atexit handler (DESIGN §13). Call before
    /// any other OpenSSL or libcurl use; later calls do nothing.
    public static func initialize() {
        _ = initialized
    }

    /// The error queue of this thread as one line, then cleared. Read it right
    /// after the failing call: the queue is per thread.
    static func drainErrors() -> String {
        var messages: [String] = []
        while true {
            let code = exhibit_err_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "no OpenSSL error reported" : messages.joined(separator: "; ")
    }

    /// Cryptographically secure random bytes from OpenSSL's DRBG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        initialize()
        var bytes = [UInt8](repeating: 0, count: count)
        // RAND_bytes fails only if the DRBG cannot be seeded; evidence must not be
        // salted with predictable bytes, so stop rather than continue.
        precondition(RAND_bytes(&bytes, Int32(count)) == 1, "OpenSSL RAND_bytes failed: \(drainErrors())")
        return bytes
    }
}

/// Reads the contents of a memory BIO as a String.
func readMemoryBIO(_ bio: OpaquePointer) -> String {
    var pointer: UnsafeMutablePointer<CChar>?
    let length = exhibit_bio_get_mem_data(bio, &pointer)
    guard let pointer, length > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
}
