public import ChainOfCustody
import Foundation

/// An Exhibit workspace: a directory holding actors, keys and cases (DESIGN §2).
public struct Workspace: Sendable {
    /// The format of workspace.json and the layout below it; raised on any
    /// incompatible change so that an old binary refuses a newer workspace.
    public static let formatVersion = 1

    /// What workspace.json records.
    public struct Info: Codable, Sendable, Equatable {
        public var format: String
        public var formatVersion: Int
        public var agency: String
        public var created: String
        /// Overrides `Exhibit/<version>` as the capture User-Agent when set.
        public var userAgent: String?
        /// Extra digests to compute alongside SHA-256 (e.g. md5, sha1).
        public var extraDigests: [DigestAlgorithm]?
        /// The default RFC 3161 authority for `exhibit timestamp`.
        public var defaultTSA: String?

        enum CodingKeys: String, CodingKey {
            case format, agency, created
            case formatVersion = "format_version"
            case userAgent = "user_agent"
            case extraDigests = "extra_digests"
            case defaultTSA = "default_tsa"
        }
    }

    public let root: String
    public let info: Info

    public var casesDirectory: String { root + "/cases" }
    public var actorsDirectory: String { root + "/actors" }
    public var keysDirectory: String { root + "/keys" }
    public var infoPath: String { root + "/workspace.json" }
    public var disposalsPath: String { root + "/disposals.jsonl" }
    /// The workspace witness log (DESIGN §16): every case head ever reached.
    public var witnessPath: String { root + "/witness.jsonl" }
    public var witness: WitnessLog { WitnessLog(path: witnessPath) }
    public var indexPath: String { root + "/index.sqlite" }

    /// The directory named, else `$EXHIBIT_WORKSPACE`, else `./exhibit-workspace`.
    public static func resolvePath(_ explicit: String?, environment: [String: String]? = nil) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let chosen = explicit ?? environment["EXHIBIT_WORKSPACE"] ?? "exhibit-workspace"
        return standardizedPath(chosen)
    }

    /// What `URL(fileURLWithPath:).standardizedFileURL.path` gives — absolute, without
    /// `.`, `..` or repeated slashes, nothing resolved on disk — worked out on the string:
    /// Foundation's URL took half a millisecond of every command's start (issue 25). A
    /// path starting with `~` (which URL expands) still goes through URL.
    static func standardizedPath(_ path: String) -> String {
        guard !path.isEmpty, !path.hasPrefix("~") else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        var absolute = path
        if !path.hasPrefix("/") {
            guard let directory = getcwd(nil, 0) else { return URL(fileURLWithPath: path).standardizedFileURL.path }
            absolute = String(cString: directory) + "/" + path
            free(directory)
        }
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Opens an existing workspace.
    public init(opening root: String) throws(ExhibitError) {
        let path = root + "/workspace.json"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ExhibitError(.storage, "No Exhibit workspace at \(root); create one with `exhibit init`, or name one that exists.", input: .workspace)
        }
        let bytes = try AtomicFile.read(path)
        let info: Info
        do {
            info = try JSONDecoder().decode(Info.self, from: Data(bytes))
        } catch {
            throw ExhibitError(.storage, "\(path) is not a valid workspace file; restore it from a copy.")
        }
        guard info.format == "exhibit-workspace" else {
            throw ExhibitError(.storage, "\(path) is not an Exhibit workspace file.")
        }
        guard info.formatVersion <= Self.formatVersion else {
            throw ExhibitError(.storage, "The workspace at \(root) has format version \(info.formatVersion), newer than this Exhibit understands (\(Self.formatVersion)); upgrade Exhibit.")
        }
        self.root = root
        self.info = info
    }

    /// Creates a workspace at `root`, which must not exist or be an empty directory.
    ///
    /// The tree is built in a hidden sibling directory and renamed into place, so
    /// a failure leaves nothing behind.
    @discardableResult
    public static func create(at root: String, agency: String, extraDigests: [DigestAlgorithm] = []) throws(ExhibitError) -> Workspace {
        let trimmed = agency.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ExhibitError(.usage, "The agency name is empty; give one.", input: .agency)
        }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: root, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ExhibitError(.storage, "\(root) exists and is not a directory; choose another workspace.", input: .workspace)
            }
            let contents = (try? manager.contentsOfDirectory(atPath: root)) ?? ["?"]
            guard contents.isEmpty else {
                throw ExhibitError(.storage, "\(root) is not empty; refusing to initialise a workspace over existing files — choose a new or empty directory.")
            }
        }
        let parent = (root as NSString).deletingLastPathComponent
        do {
            try manager.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw ExhibitError(.storage, "Cannot create \(parent): \(error.localizedDescription)")
        }
        let staging = parent + "/." + (root as NSString).lastPathComponent + ".creating-\(getpid())"
        try? manager.removeItem(atPath: staging)
        do throws(ExhibitError) {
            for directory in [staging, staging + "/actors", staging + "/keys", staging + "/cases"] {
                guard mkdir(directory, 0o700) == 0 else {
                    throw AtomicFile.posixError("Cannot create \(directory)")
                }
            }
            let info = Info(
                format: "exhibit-workspace", formatVersion: formatVersion, agency: trimmed,
                created: LedgerTime.now(), userAgent: nil,
                extraDigests: extraDigests.isEmpty ? nil : extraDigests.filter { $0 != .sha256 }, defaultTSA: nil)
            try AtomicFile.write(try encodeJSON(info), to: staging + "/workspace.json", mode: 0o600)
            // rename(2) replaces an empty directory atomically.
            guard rename(staging, root) == 0 else {
                throw AtomicFile.posixError("Cannot create the workspace at \(root)")
            }
            AtomicFile.syncDirectory(parent)
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
        return try Workspace(opening: root)
    }

    /// Runs `body` holding the workspace's exclusive lock (a `flock` on
    /// workspace.json), which serialises id allocation across processes.
    public func withExclusiveLock<T>(_ body: () throws(ExhibitError) -> T) throws(ExhibitError) -> T {
        try FileLock.withLock(path: infoPath, .exclusive, what: "the workspace (\(infoPath))") { (_: Int32) throws(ExhibitError) -> T in
            try body()
        }
    }
}

/// Encodes a value as pretty, key-sorted JSON with a trailing newline (for the
/// human-readable caches: workspace.json, actors, case.json).
public func encodeJSON(_ value: some Encodable) throws(ExhibitError) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do {
        return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
    } catch {
        throw ExhibitError(.storage, "Cannot encode JSON: \(error).")
    }
}
