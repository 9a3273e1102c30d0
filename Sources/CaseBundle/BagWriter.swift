public import ChainOfCustody
import Foundation

/// Writes a BagIt 1.0 bag (RFC 8493) into a directory: payload files under
/// `data/`, each hashed with SHA-256 and SHA-512 as it is written (one read of
/// each source file), then the tag files — bagit.txt, bag-info.txt, both
/// payload manifests and tagmanifest-sha256.txt — in a fixed order and format,
/// so the same payload gives the same bytes.
public struct BagWriter {
    public let root: String
    /// Payload files written so far: path from the bag's root (`data/…`), digests, size.
    public private(set) var payload: [String: (sha256: String, sha512: String, size: Int64)] = [:]

    /// File names in a bag are restricted to these characters, so that every
    /// recipient's tools (and file systems) agree on them.
    static func isSafeName(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.contains("..") && !path.contains("//")
            && path.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "-")
            }
    }

    /// Creates `root` (which must not exist) with a `data/` folder, private to the user.
    public init(root: String) throws(ExhibitError) {
        self.root = root
        guard mkdir(root, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create the bag directory \(root)") }
        guard mkdir(root + "/data", 0o700) == 0 else { throw AtomicFile.posixError("Cannot create \(root)/data") }
    }

    /// Copies `source` to `data/<relative>`, hashing as it copies.
    public mutating func copy(from source: String, to relative: String) throws(ExhibitError) {
        let path = try prepare(relative)
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw AtomicFile.posixError("Cannot read \(source)") }
        defer { close(input) }
        let output = open(root + "/" + path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw AtomicFile.posixError("Cannot create \(root)/\(path)") }
        defer { close(output) }
        let digest = DigestStream([.sha256, .sha512])
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw AtomicFile.posixError("Cannot read \(source)") }
            if count == 0 { break }
            let chunk = Array(buffer[0..<count])
            digest.update(chunk)
            try AtomicFile.writeAll(output, chunk, path: root + "/" + path)
        }
        guard fsync(output) == 0 else { throw AtomicFile.posixError("Cannot flush \(root)/\(path)") }
        let hex = digest.finishHex()
        payload[path] = (hex[.sha256]!, hex[.sha512]!, digest.byteCount)
    }

    /// Writes `bytes` to `data/<relative>`.
    public mutating func write(_ bytes: [UInt8], to relative: String) throws(ExhibitError) {
        let path = try prepare(relative)
        try Self.writeFile(bytes, to: root + "/" + path)
        let digest = DigestStream([.sha256, .sha512])
        digest.update(bytes)
        let hex = digest.finishHex()
        payload[path] = (hex[.sha256]!, hex[.sha512]!, Int64(bytes.count))
    }

    /// `Payload-Oxum`: total payload bytes and number of payload files.
    public var payloadOxum: String {
        "\(payload.values.reduce(0) { $0 + $1.size }).\(payload.count)"
    }

    /// Writes the tag files. `info` are bag-info.txt's lines in order (Payload-Oxum
    /// is added after Bagging-Date). `seal`, given the sha256 of bagit.txt,
    /// bag-info.txt and the payload manifests, returns the bytes of a signed tag
    /// file that covers them (``BagSeal``), listed in the tag manifest like the rest.
    /// Returns the sha256 of tagmanifest-sha256.txt.
    @discardableResult
    public func finish(
        info: [(String, String)], seal: (([String: String]) throws(ExhibitError) -> [UInt8])? = nil
    ) throws(ExhibitError) -> String {
        var infoLines = info
        let oxumAt = (infoLines.firstIndex { $0.0 == "Bagging-Date" }).map { $0 + 1 } ?? infoLines.count
        infoLines.insert(("Payload-Oxum", payloadOxum), at: oxumAt)
        var files: [(String, [UInt8])] = [
            ("bagit.txt", Array("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".utf8)),
            ("bag-info.txt", Array(infoLines.map { "\($0.0): \(Self.oneLine($0.1))\n" }.joined().utf8)),
            ("manifest-sha256.txt", Array(payload.keys.sorted().map { "\(payload[$0]!.sha256)  \($0)\n" }.joined().utf8)),
            ("manifest-sha512.txt", Array(payload.keys.sorted().map { "\(payload[$0]!.sha512)  \($0)\n" }.joined().utf8)),
        ]
        if let seal {
            var digests: [String: String] = [:]
            for (name, bytes) in files { digests[name] = Digest.sha256Hex(bytes) }
            files.append((BagSeal.fileName, try seal(digests)))
        }
        for (name, bytes) in files { try Self.writeFile(bytes, to: root + "/" + name) }
        let tagManifest = files.map { "\(Digest.sha256Hex($0.1))  \($0.0)\n" }.joined()
        try Self.writeFile(Array(tagManifest.utf8), to: root + "/tagmanifest-sha256.txt")
        AtomicFile.syncDirectory(containing: root + "/bagit.txt")
        return Digest.sha256Hex(Array(tagManifest.utf8))
    }

    private func prepare(_ relative: String) throws(ExhibitError) -> String {
        let path = "data/" + relative
        guard Self.isSafeName(path) else {
            throw ExhibitError(.storage, "The file name \(relative) cannot go into a bag (only letters, digits and . _ / - are allowed).")
        }
        guard payload[path] == nil else { throw ExhibitError(.storage, "\(path) would be written twice into the bag.") }
        var directory = ""
        for component in path.split(separator: "/").dropLast() {
            directory += (directory.isEmpty ? "" : "/") + component
            if mkdir(root + "/" + directory, 0o700) != 0, errno != EEXIST {
                throw AtomicFile.posixError("Cannot create \(root)/\(directory)")
            }
        }
        return path
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws(ExhibitError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot create \(path)") }
        defer { close(fd) }
        try AtomicFile.writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw AtomicFile.posixError("Cannot flush \(path)") }
    }

    /// bag-info values are single lines; a newline in a title must not start a new tag.
    static func oneLine(_ value: String) -> String {
        value.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
