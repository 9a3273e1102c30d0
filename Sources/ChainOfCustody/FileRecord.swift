/// A file named by its path, with the SHA-256 and size of its bytes: what a bag's
/// payload list, a disposal certificate and the evidence server each record of a file.
public struct FileRecord: Sendable, Equatable, Codable {
    /// Relative to what holds it (the bag's top folder, the case directory).
    public var path: String
    /// Lowercase hex.
    public var sha256: String
    public var size: Int64

    public init(path: String, sha256: String, size: Int64) {
        self.path = path
        self.sha256 = sha256
        self.size = size
    }
}
