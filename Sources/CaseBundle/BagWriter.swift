public import ChainOfCustody
import Foundation
import Glibc

/// Writes a BagIt 1.0 bag (RFC 8493) into a directory: payload files under
/// `data/`, each hashed with SHA-256 and SHA-512 as it is written (one read of
/// each source file), then the tag files — bagit.txt, bag-info.txt, both
/// payload manifests and tagmanifest-sha256.txt — in a fixed order and format,
/// so the same payload gives the same bytes.
public struct BagWriter {
    public let root: String
    /// Payload files written so far: path from the bag's root (`data/…`), digests, size.
    public private(set) var payload: [String: (sha256: String, sha512: String, size: Int64)] = [:]
    /// Copies being flushed to the disk while the export goes on, and the paths they cover.
    private var flushing: [BackgroundFlush] = []
    private var flushingPaths = Set<String>()

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
        try copy([(source, relative)])
    }

    /// Copies each `source` to `data/<relative>` on every core, biggest first, each
    /// file read once and hashed for both manifests as it is copied. The copies are
    /// made durable together by ``finish(info:seal:)``.
    public mutating func copy(_ files: [(source: String, relative: String)]) throws(ExhibitError) {
        var jobs: [(source: String, path: String, size: Int64)] = []
        for (source, relative) in files {
            let path = try prepare(relative)
            var info = stat()
            jobs.append((source, path, stat(source, &info) == 0 ? Int64(info.st_size) : 0))
        }
        jobs.sort { $0.size > $1.size }
        let root = root
        let copied = Parallel.map(jobs) { job in
            Result { () throws(ExhibitError) -> FileDigestCache.Result in
                try Self.copyFile(from: job.source, to: root + "/" + job.path)
            }
        }
        for (job, result) in zip(jobs, copied) {
            let (hex, size) = try result.get()
            payload[job.path] = (hex[.sha256]!, hex[.sha512]!, size)
        }
        // The disk writes the copies while the bag is checked and its documents are made,
        // instead of all at once in finish(info:seal:), which still waits for them.
        let paths = jobs.map(\.path)
        flushing.append(BackgroundFlush(root: root, paths: paths))
        flushingPaths.formUnion(paths)
    }

    /// One file copied in large blocks and hashed with SHA-256 and SHA-512 on the way;
    /// made durable later, with the others (``finish(info:seal:)``).
    static func copyFile(from source: String, to target: String) throws(ExhibitError) -> FileDigestCache.Result {
        try HashedCopy.copy(from: source, to: target, algorithms: [.sha256, .sha512], blockSize: 4 << 20, createFailure: "Cannot create", sync: false)
    }

    /// Writes `bytes` to `data/<relative>`.
    public mutating func write(_ bytes: [UInt8], to relative: String) throws(ExhibitError) {
        try write([(relative, bytes)])
    }

    /// Writes each document to `data/<relative>` on every core, each hashed for both
    /// manifests: a case's derived documents are thousands of files (one court sheet per
    /// exhibit), whose creation, writing and hashing took a second on one core.
    public mutating func write(_ documents: [(relative: String, bytes: [UInt8])]) throws(ExhibitError) {
        for (relative, _) in documents { _ = try reserve(relative) }
        add(try Self.store(documents, in: root, width: Parallel.width))
    }

    /// Documents written into a bag's data/ by ``store(_:in:width:flushing:)``, not yet in its manifests.
    public struct Stored: Sendable {
        fileprivate var files: [(path: String, sha256: String, sha512: String, size: Int64)] = []
        /// Their flush to the disk, when it was started at once.
        fileprivate var flush: BackgroundFlush?
    }

    /// Writes each document to `<root>/data/<relative>` (never over an existing file) and
    /// hashes it for both manifests, `width` at a time; ``add(_:)`` then lists them. A
    /// thread that has just made documents writes them while other threads make theirs;
    /// with `flushing`, the disk starts writing them too (``finish(info:seal:)`` waits).
    public static func store(
        _ documents: [(relative: String, bytes: [UInt8])], in root: String, width: Int = 1, flushing: Bool = false
    ) throws(ExhibitError) -> Stored {
        var paths: [String] = []
        var folders = Set<String>()
        for (relative, _) in documents { paths.append(try Self.folders(for: relative, in: root, made: &folders)) }
        let (made, width) = (paths, documents.count > 1 ? width : 1)
        let written = Parallel.map(Array(documents.indices), width: width) { index in
            Result { () throws(ExhibitError) -> [DigestAlgorithm: String] in
                let bytes = documents[index].bytes
                try writeFile(bytes, to: root + "/" + made[index], sync: false)
                let digest = DigestStream([.sha256, .sha512])
                digest.update(bytes)
                return digest.finishHex()
            }
        }
        var stored = Stored()
        for (index, result) in written.enumerated() {
            let hex = try result.get()
            stored.files.append((made[index], hex[.sha256]!, hex[.sha512]!, Int64(documents[index].bytes.count)))
        }
        if flushing { stored.flush = BackgroundFlush(root: root, paths: made) }
        return stored
    }

    /// Lists documents written by ``store(_:in:width:flushing:)`` in the manifests (their
    /// files were created exclusively, so none is listed twice).
    public mutating func add(_ stored: Stored) {
        for file in stored.files { payload[file.path] = (file.sha256, file.sha512, file.size) }
        if let flush = stored.flush {
            flushing.append(flush)
            flushingPaths.formUnion(stored.files.map(\.path))
        }
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
        try syncPayload()
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

    /// Payload files are written without waiting for the disk, then flushed all at
    /// once before the tag files that describe them: many fsyncs in flight share the
    /// file system's journal commits, where one after another each waits for its own.
    func syncPayload() throws(ExhibitError) {
        let rest = payload.keys.filter { !flushingPaths.contains($0) }.sorted()
        let failed = [Self.flush(root: root, paths: rest)] + flushing.map { $0.wait() }
        if let failed = failed.compactMap({ $0 }).first {
            throw ExhibitError(.storage, "Cannot flush \(root)/\(failed) to the disk.")
        }
    }

    /// fsync of every path, 32 at a time; the first path that failed, if any.
    static func flush(root: String, paths: [String]) -> String? {
        Parallel.map(paths, width: 32) { path -> String? in
            let fd = open(root + "/" + path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return path }
            defer { close(fd) }
            return fsync(fd) == 0 ? nil : path
        }.compactMap { $0 }.first
    }

    /// Reserves `data/<relative>` and makes its folders.
    private mutating func prepare(_ relative: String) throws(ExhibitError) -> String {
        _ = try reserve(relative)
        var made = Set<String>()
        return try Self.folders(for: relative, in: root, made: &made)
    }

    /// `data/<relative>`, listed (with no digests yet) so that the same name twice is refused.
    private mutating func reserve(_ relative: String) throws(ExhibitError) -> String {
        let path = "data/" + relative
        guard payload[path] == nil else { throw ExhibitError(.storage, "\(path) would be written twice into the bag.") }
        payload[path] = ("", "", 0)
        return path
    }

    /// `data/<relative>` once its name is checked and its folders exist (`made`: the
    /// folders this caller already made, not asked for again).
    private static func folders(for relative: String, in root: String, made: inout Set<String>) throws(ExhibitError) -> String {
        let path = "data/" + relative
        guard isSafeName(path) else {
            throw ExhibitError(.storage, "The file name \(relative) cannot go into a bag (only letters, digits and . _ / - are allowed).")
        }
        var directory = ""
        for component in path.split(separator: "/").dropLast() {
            directory += (directory.isEmpty ? "" : "/") + component
            guard made.insert(directory).inserted else { continue }
            if mkdir(root + "/" + directory, 0o700) != 0, errno != EEXIST {
                throw AtomicFile.posixError("Cannot create \(root)/\(directory)")
            }
        }
        return path
    }

    static func writeFile(_ bytes: [UInt8], to path: String, sync: Bool = true) throws(ExhibitError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot create \(path)") }
        defer { close(fd) }
        try AtomicFile.writeAll(fd, bytes, path: path)
        guard !sync || fsync(fd) == 0 else { throw AtomicFile.posixError("Cannot flush \(path)") }
    }

    /// bag-info values are single lines; a newline in a title must not start a new tag.
    static func oneLine(_ value: String) -> String {
        value.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Files flushed to the disk on a background thread; ``wait()`` returns once they all are.
private final class BackgroundFlush: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Written once by the flushing thread before `done` is signalled, read only after
    /// waiting on it: the semaphore orders the two.
    private var failed: String?

    init(root: String, paths: [String]) {
        DispatchQueue.global().async { [self] in
            failed = BagWriter.flush(root: root, paths: paths)
            done.signal()
        }
    }

    /// The first path that could not be flushed, if any.
    func wait() -> String? {
        done.wait()
        done.signal()  // a second wait (a second finish) returns at once
        return failed
    }
}
