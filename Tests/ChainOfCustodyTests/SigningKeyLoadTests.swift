import ChainOfCustody
import Testing

/// A private key PEM in OpenSSL's own Ed25519 layout is read without OpenSSL's decoders
/// (issue 25); every other PEM still goes through them. Both must give the same key.
@Suite("signing key load")
struct SigningKeyLoadTests {
    @Test("the raw-seed load and OpenSSL's PEM decoder give the same key: identical Ed25519 signatures")
    func sameKeyBothWays() throws {
        let key = try SigningKey.generate()
        let pem = key.privateKeyPEM()
        let message = Array("ledger entry hash".utf8)
        let fast = try SigningKey(pem: pem)
        // CRLF line ends are not the layout the fast path reads: OpenSSL decodes this one.
        let decoded = try SigningKey(pem: pem.split(separator: "\n").joined(separator: "\r\n") + "\r\n")
        let signature = try key.sign(message)
        #expect(try fast.sign(message) == signature)
        #expect(try decoded.sign(message) == signature)
        #expect(try key.publicKey().isValidSignature(try fast.sign(message), for: message))
        #expect(fast.publicKeyPEM() == key.publicKeyPEM())
    }

    @Test("a damaged or foreign PEM is still refused")
    func damagedRefused() throws {
        let pem = try SigningKey.generate().privateKeyPEM()
        var lines = pem.split(separator: "\n").map(String.init)
        lines[1] = String(lines[1].dropLast(4)) + "!!!!"
        #expect(throws: ExhibitError.self) { try SigningKey(pem: lines.joined(separator: "\n") + "\n") }
        #expect(throws: ExhibitError.self) { try SigningKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }
    }
}
