internal import COpenSSL

/// An actor's Ed25519 private key: signs ledger entries.
///
/// One `EVP_PKEY` owned by the instance and freed in `deinit`. Keys are created
/// with OpenSSL's EVP API and stored as unencrypted PKCS#8 PEM in a mode-0600 file
/// that never leaves the workspace.
public final class SigningKey {
    fileprivate let pkey: OpaquePointer

    private init(pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// A fresh key pair.
    public static func generate() throws(ExhibitError) -> SigningKey {
        OpenSSL.initialize()
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw ExhibitError(.storage, "OpenSSL could not create an Ed25519 key context: \(OpenSSL.drainErrors()).")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &key) == 1, let key else {
            throw ExhibitError(.storage, "OpenSSL could not generate an Ed25519 key: \(OpenSSL.drainErrors()).")
        }
        return SigningKey(pkey: key)
    }

    /// Loads a PEM private key; it must be Ed25519.
    public convenience init(pem: String) throws(ExhibitError) {
        if let seed = Self.ed25519Seed(pem: pem) {
            OpenSSL.initialize()
            if let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, seed.count) {
                self.init(pkey: key)
                return
            }
            _ = OpenSSL.drainErrors()
        }
        self.init(pkey: try readEd25519(pem: pem, what: "private key", showingErrors: true) {
            PEM_read_bio_PrivateKey($0, nil, nil, nil)
        })
    }

    /// The DER of an Ed25519 PKCS#8 private key as OpenSSL writes it (RFC 8410 §7:
    /// version 0, the Ed25519 OID, the 32-byte seed), less the seed.
    private static let pkcs8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    /// The seed of a PEM that is exactly that layout, else nil (any other PEM goes
    /// through OpenSSL's decoders). OpenSSL's PEM decoder set-up cost half a millisecond
    /// of each command that signs an entry (`exhibit search`, issue 25); the base64 is
    /// read here byte by byte, as Foundation's decoder cost a tenth of that again.
    private static func ed25519Seed(pem: String) -> [UInt8]? {
        let header = Array("-----BEGIN PRIVATE KEY-----\n".utf8), footer = Array("-----END PRIVATE KEY-----\n".utf8)
        let bytes = Array(pem.utf8)
        guard bytes.count > header.count + footer.count, bytes.starts(with: header), bytes.suffix(footer.count).elementsEqual(footer) else { return nil }
        var der: [UInt8] = []
        var accumulator: UInt32 = 0, bits = 0, padding = 0
        for byte in bytes[header.count..<(bytes.count - footer.count)] {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): padding += 1; continue
            case UInt8(ascii: "\n"): continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                der.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // 48 bytes are 64 base64 characters without padding.
        guard padding == 0, bits == 0, der.count == pkcs8Prefix.count + 32, der.starts(with: pkcs8Prefix) else { return nil }
        return Array(der.suffix(32))
    }

    /// PKCS#8 PEM of the private key.
    public func privateKeyPEM() -> String {
        let bio = BIO_new(BIO_s_mem())!
        defer { BIO_free(bio) }
        PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil)
        return readMemoryBIO(bio)
    }

    /// SubjectPublicKeyInfo PEM of the public half (what `openssl pkeyutl -pubin` reads).
    public func publicKeyPEM() -> String {
        let bio = BIO_new(BIO_s_mem())!
        defer { BIO_free(bio) }
        PEM_write_bio_PUBKEY(bio, pkey)
        return readMemoryBIO(bio)
    }

    /// The public key, for checking this key's own signatures.
    public func publicKey() throws(ExhibitError) -> VerifyingKey {
        try VerifyingKey(pem: publicKeyPEM())
    }

    /// A pure Ed25519 signature (RFC 8032) over `message`: 64 bytes.
    public func sign(_ message: [UInt8]) throws(ExhibitError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else {
            throw ExhibitError(.storage, "OpenSSL could not allocate a signing context.")
        }
        defer { EVP_MD_CTX_free(context) }
        // Ed25519 hashes internally: no digest is named (NULL), one-shot only.
        guard EVP_DigestSignInit(context, nil, nil, nil, pkey) == 1 else {
            throw ExhibitError(.storage, "OpenSSL could not start an Ed25519 signature: \(OpenSSL.drainErrors()).")
        }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = signature.count
        let status = message.withUnsafeBufferPointer { buffer in
            EVP_DigestSign(context, &signature, &length, buffer.baseAddress, buffer.count)
        }
        guard status == 1 else {
            throw ExhibitError(.storage, "OpenSSL could not sign: \(OpenSSL.drainErrors()).")
        }
        return Array(signature.prefix(length))
    }
}

@available(*, unavailable)
extension SigningKey: Sendable {}

/// An actor's Ed25519 public key: checks ledger signatures.
public final class VerifyingKey {
    fileprivate let pkey: OpaquePointer
    /// The key as loaded: a thread that needs the key loads its own copy from it,
    /// since OpenSSL does not promise that one `EVP_PKEY` may be used by several
    /// threads at once (openssl-threads(7)).
    public let pem: String

    /// Loads a SubjectPublicKeyInfo PEM; it must be Ed25519.
    public init(pem: String) throws(ExhibitError) {
        self.pkey = try readEd25519(pem: pem, what: "public key", showingErrors: false) {
            PEM_read_bio_PUBKEY($0, nil, nil, nil)
        }
        self.pem = pem
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// True when `signature` is a valid Ed25519 signature of `message` by this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, pkey) == 1 else {
            _ = OpenSSL.drainErrors()
            return false
        }
        let status = signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, msg.baseAddress, msg.count)
            }
        }
        if status != 1 { _ = OpenSSL.drainErrors() }
        return status == 1
    }
}

@available(*, unavailable)
extension VerifyingKey: Sendable {}

/// Reads one PEM key with `read` (a `PEM_read_bio_…` call) and requires it to be
/// Ed25519; the error names `what` ("private key", "public key").
private func readEd25519(pem: String, what: String, showingErrors: Bool,
                         read: (OpaquePointer) -> OpaquePointer?) throws(ExhibitError) -> OpaquePointer {
    OpenSSL.initialize()
    let key: OpaquePointer? = pem.withCString { text in
        guard let bio = BIO_new_mem_buf(text, -1) else { return nil }
        defer { BIO_free(bio) }
        return read(bio)
    }
    guard let key else {
        let errors = OpenSSL.drainErrors()
        throw ExhibitError(.storage, "The \(what) is not a readable PEM key" + (showingErrors ? " (\(errors))." : "."))
    }
    guard EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 else {
        EVP_PKEY_free(key)
        throw ExhibitError(.storage, "The \(what) is not an Ed25519 key.")
    }
    return key
}
