internal import COpenSSL
import LoopbackServer
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// A local RFC 3161 time-stamping authority on 127.0.0.1, in-process, for tests:
/// its own CA, and a TSA certificate with a critical extendedKeyUsage of
/// timeStamping, signing replies with OpenSSL's TS_RESP_CTX.
public final class LocalTSA: Sendable {
    public let url: String
    /// The CA certificate (PEM): what `exhibit timestamp` is given as its CA file, and `openssl ts -verify -CAfile` takes.
    public let caCertificatePath: String
    public let tsaCertificatePath: String
    private let server: LoopbackServer
    private let served: NIOLockedValueBox<Int>

    private init(url: String, directory: String, server: LoopbackServer, served: NIOLockedValueBox<Int>) {
        self.url = url
        self.caCertificatePath = directory + "/ca.pem"
        self.tsaCertificatePath = directory + "/tsa.pem"
        self.server = server
        self.served = served
    }

    /// How many requests were answered.
    public func requestCount() -> Int {
        served.withLockedValue { $0 }
    }

    public static func start(directory: String) async throws -> LocalTSA {
        try await Blocking.run { try makeCertificates(in: directory) }
        let served = NIOLockedValueBox(0)
        let router = Router()
        router.post("/") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let query = Array(body.readableBytesView)
            let serial = served.withLockedValue { count -> Int in
                count += 1
                return count
            }
            var der: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard exhibit_timestamp_respond(query, query.count, directory + "/tsa.pem", directory + "/tsa.key",
                                            directory + "/ca.pem", serial, &der, &length) == 1, let der else {
                return Response(status: .badRequest)
            }
            defer { exhibit_openssl_free(der) }
            let reply = ByteBuffer(bytes: UnsafeBufferPointer(start: der, count: length))
            return Response(status: .ok, headers: [.contentType: "application/timestamp-reply"], body: .init(byteBuffer: reply))
        }
        // The one loopback rule and executor, like the fixture site (see LoopbackServer).
        let server = try await LoopbackServer.start(responder: router.buildResponder(), host: Self.host, port: 0)
        return LocalTSA(url: server.baseURL + "/", directory: directory, server: server, served: served)
    }

    private static let host = LoopbackHost("127.0.0.1")!

    public func stop() async {
        await server.stop()
    }
    /// A CA and a TSA certificate made with the `openssl` command-line tool.
    static func makeCertificates(in directory: String) throws {
        let openssl = "/usr/bin/openssl"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let extensions = directory + "/tsa.ext"
        try Data("extendedKeyUsage = critical,timeStamping\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n".utf8)
            .write(to: URL(fileURLWithPath: extensions))
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/ca.key", "-out", directory + "/ca.pem",
             "-days", "30", "-subj", "/CN=Exhibit Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/tsa.key", "-out", directory + "/tsa.csr",
             "-subj", "/CN=Exhibit Test TSA"],
            ["x509", "-req", "-in", directory + "/tsa.csr", "-CA", directory + "/ca.pem", "-CAkey", directory + "/ca.key",
             "-CAcreateserial", "-out", directory + "/tsa.pem", "-days", "30", "-extfile", extensions],
        ]
        for step in steps {
            let result = try Command.run(openssl, step)
            guard result.status == 0 else {
                throw NSError(domain: "LocalTSA", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: result.output])
            }
        }
    }
}
