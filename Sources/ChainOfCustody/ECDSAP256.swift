internal import COpenSSL

/// ECDSA on P-256 with SHA-256, signatures as raw r||s (64 bytes): the form
/// WebCrypto produces, which the WACZ signing spec's anonymous signature uses
/// (DESIGN §9). Keys are PKCS#8 PEM text, kept in the workspace's keys/ folder.
public enum ECDSAP256 {
    /// A fresh private key, as PKCS#8 PEM.
    public static func generatePrivateKeyPEM() throws(ExhibitError) -> String {
        OpenSSL.initialize()
        var buffer: UnsafeMutablePointer<CChar>?
        var length = 0
        guard exhibit_ecdsa_p256_generate(&buffer, &length) == 1, let buffer else {
            throw ExhibitError(.storage, "OpenSSL could not generate a P-256 key: \(OpenSSL.drainErrors()).")
        }
        defer { exhibit_openssl_free(buffer) }
        return String(cString: buffer)
    }

    /// The raw r||s signature over SHA-256(message).
    public static func sign(_ message: [UInt8], privateKeyPEM: String) throws(ExhibitError) -> [UInt8] {
        OpenSSL.initialize()
        var signature = [UInt8](repeating: 0, count: 64)
        let ok = message.withUnsafeBufferPointer { bytes in
            signature.withUnsafeMutableBufferPointer { output in
                exhibit_ecdsa_p256_sign(privateKeyPEM, bytes.baseAddress, bytes.count, output.baseAddress)
            }
        }
        guard ok == 1 else {
            throw ExhibitError(.storage, "The WACZ signing key could not sign (is it a P-256 key?): \(OpenSSL.drainErrors()).")
        }
        return signature
    }

    /// The public key as SubjectPublicKeyInfo DER.
    public static func publicKeySPKI(privateKeyPEM: String) throws(ExhibitError) -> [UInt8] {
        OpenSSL.initialize()
        var buffer: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard exhibit_ecdsa_public_spki(privateKeyPEM, &buffer, &length) == 1, let buffer else {
            throw ExhibitError(.storage, "The WACZ signing key could not be read: \(OpenSSL.drainErrors()).")
        }
        defer { exhibit_openssl_free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: length))
    }

    /// Whether `signature` (r||s) is valid over SHA-256(message) for the SPKI
    /// DER public key; false for a malformed key or signature.
    public static func verify(_ signature: [UInt8], over message: [UInt8], publicKeySPKI: [UInt8]) -> Bool {
        guard signature.count == 64, !publicKeySPKI.isEmpty else { return false }
        OpenSSL.initialize()
        let result = publicKeySPKI.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { bytes in
                signature.withUnsafeBufferPointer { sig in
                    exhibit_ecdsa_p256_verify(key.baseAddress, key.count, bytes.baseAddress, bytes.count, sig.baseAddress)
                }
            }
        }
        _ = OpenSSL.drainErrors()
        return result == 1
    }
}
