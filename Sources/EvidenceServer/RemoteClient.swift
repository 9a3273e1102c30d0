public import CaseManagement
public import ChainOfCustody
import Foundation
import LawfulFetch

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

/// The two methods the evidence server's API uses.
enum RemoteMethod: String, Sendable {
    case GET, POST
}

/// Signed HTTP requests to an evidence server (RFC 9421 with the acting actor's key),
/// sent with libcurl (LawfulFetch's ``CurlRequest``): TLS with host name verification,
/// the workspace's CA file for the server's certificate when one was given.
struct RemoteConnection: Sendable {
    let baseURL: String
    let caFile: String?

    init(url: String, caFile: String?) throws(ExhibitError) {
        baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw ExhibitError(.usage, "The evidence server address \(url) is not an http:// or https:// URL.")
        }
        self.caFile = caFile
    }

    struct Answer {
        var status: Int
        var body: [UInt8]
        var json: JSONValue? { try? JSONValue(parsing: body) }
    }

    /// How long one request may take: two minutes, and a second more per MiB sent or
    /// expected back (`expectedBytes`, a file's recorded size). A connection that stalls is
    /// given up after that instead of libcurl's 15-minute default for Exhibit's requests;
    /// a push's wait includes the server's verification, which reads every byte sent.
    static func timeout(sending: Int, expecting expectedBytes: Int64 = 0) -> Int {
        120 + Int((Int64(sending) + max(0, expectedBytes)) >> 20)
    }

    func send(_ method: RemoteMethod, _ path: String, body: [UInt8] = [], expecting expectedBytes: Int64 = 0,
              signer: LedgerSigner?) async throws(ExhibitError) -> Answer {
        let url = baseURL + path
        var headers: [String] = []
        if let signer {
            for header in try MessageSignature.headers(method: method.rawValue, targetURI: url, body: body, signer: signer) {
                headers.append("\(header.name): \(header.value)")
            }
        }
        if !body.isEmpty { headers.append("Content-Type: application/octet-stream") }
        let request = CurlRequest(method: method.rawValue, url: url, headers: headers, body: body, caFile: caFile,
                                  timeout: Self.timeout(sending: body.count, expecting: expectedBytes))
        let answer = try await request.send()
        return Answer(status: answer.status, body: answer.body)
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
