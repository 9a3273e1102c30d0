import AsyncHTTPClient
public import CaseManagement
public import ChainOfCustody
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A workspace's evidence servers, `remotes.json`: name → URL, CA file and the server's
/// receipt key, pinned when the remote was added (a receipt signed by another key is refused).
public struct Remote: Codable, Sendable, Equatable {
    public var name: String
    public var url: String
    public var caFile: String?
    public var serverKey: String

    enum CodingKeys: String, CodingKey {
        case name, url
        case caFile = "ca_file"
        case serverKey = "server_key"
    }

    static func path(in workspace: Workspace) -> String { workspace.root + "/remotes.json" }

    /// Every remote of the workspace, by name.
    public static func all(in workspace: Workspace) throws(ExhibitError) -> [String: Remote] {
        let path = path(in: workspace)
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        do {
            return try JSONDecoder().decode([String: Remote].self, from: Data(try AtomicFile.read(path)))
        } catch let error as ExhibitError {
            throw error
        } catch {
            throw ExhibitError(.storage, "The remotes file \(path) cannot be read: \(error.localizedDescription)")
        }
    }

    /// The remote called `name`, or the only one when `name` is nil.
    public static func named(_ name: String?, in workspace: Workspace) throws(ExhibitError) -> Remote {
        let remotes = try all(in: workspace)
        if let name {
            guard let remote = remotes[name] else {
                throw ExhibitError(.usage, "The workspace has no evidence server called \(name); add it with `exhibit remote add`.")
            }
            return remote
        }
        guard remotes.count == 1, let only = remotes.values.first else {
            throw ExhibitError(.usage, remotes.isEmpty
                ? "The workspace has no evidence server; add one with `exhibit remote add`."
                : "The workspace has several evidence servers (\(remotes.keys.sorted().joined(separator: ", "))); name one.")
        }
        return only
    }

    static func save(_ remote: Remote, in workspace: Workspace) throws(ExhibitError) {
        try workspace.withExclusiveLock { () throws(ExhibitError) in
            var remotes = try all(in: workspace)
            remotes[remote.name] = remote
            try AtomicFile.write(try encodeJSON(remotes), to: path(in: workspace))
        }
    }
}

/// Signed HTTP requests to an evidence server (RFC 9421 with the acting actor's key).
struct RemoteConnection {
    let baseURL: String
    let client: HTTPClient

    init(url: String, caFile: String?) throws(ExhibitError) {
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw ExhibitError(.usage, "The evidence server address \(url) is not an http:// or https:// URL.")
        }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(600))
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caFile)
            configuration.tlsConfiguration = tls
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func close() async {
        try? await client.shutdown()
    }

    struct Answer {
        var status: Int
        var body: [UInt8]
        var json: JSONValue? { try? JSONValue(parsing: body) }
    }

    func send(_ method: HTTPMethod, _ path: String, body: [UInt8] = [], signer: LedgerSigner?) async throws(ExhibitError) -> Answer {
        let url = baseURL + path
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let signer {
            for header in try MessageSignature.headers(method: method.rawValue, targetURI: url, body: body, signer: signer) {
                request.headers.add(name: header.name, value: header.value)
            }
        }
        request.headers.add(name: "User-Agent", value: ExhibitRelease.userAgent)
        if !body.isEmpty {
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(900))
            let bytes = try await response.body.collect(upTo: 4 << 30)
            return Answer(status: Int(response.status.code), body: Array(bytes.readableBytesView))
        } catch {
            throw ExhibitError(.storage, "The evidence server \(baseURL) cannot be reached: \(error).")
        }
    }

    /// Throws the server's one-sentence refusal unless the answer is 2xx.
    func check(_ answer: Answer) throws(ExhibitError) -> JSONValue {
        guard (200..<300).contains(answer.status) else {
            let sentence = answer.json?["error"]?.stringValue ?? "The evidence server answered HTTP \(answer.status)."
            switch answer.status {
            case 401, 403: throw ExhibitError(.notPermitted, sentence)
            case 409, 422: throw ExhibitError(.verificationFailed, sentence)
            case 400, 404: throw ExhibitError(.usage, sentence)
            default: throw ExhibitError(.storage, sentence)
            }
        }
        return answer.json ?? .null
    }
}
