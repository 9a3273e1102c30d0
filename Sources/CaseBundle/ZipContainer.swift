public import ChainOfCustody
import Foundation
import ZIPFoundation

/// Zip files for bundles: written deterministically, read defensively.
///
/// A zip from outside is hostile until proven otherwise: entries may name
/// absolute paths or `..` to write outside the target, be symbolic links, repeat
/// a name so a later entry replaces a checked one, or declare (or secretly hold)
/// far more data than the disk has. `extract` refuses all of these before writing
/// anything, and counts the bytes it actually inflates against the same budget.
public enum ZipContainer {
    /// Every entry's time: fixed, so two zips of the same bag are the same bytes.
    static let entryDate = Date(timeIntervalSince1970: 946_684_800) // 2000-01-01T00:00:00Z

    /// Zips `directory` under one top-level folder `topFolder`, entries sorted by
    /// path. Text is deflated; WARC files and media, already compressed, are stored.
    public static func write(directory: String, topFolder: String, to path: String, stored: (String) -> Bool = { _ in false }) throws(ExhibitError) {
        do {
            let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
            try archive.addEntry(with: topFolder + "/", type: .directory, uncompressedSize: Int64(0), modificationDate: entryDate,
                                 permissions: 0o755, provider: { _, _ in Data() })
            for relative in try files(in: directory) {
                let source = directory + "/" + relative
                try add(try AtomicFile.read(source), at: topFolder + "/" + relative, compressed: !stored(relative) && isText(relative), to: archive)
            }
        } catch let error as ExhibitError {
            throw error
        } catch {
            throw ExhibitError(.storage, "Cannot write the zip file \(path) (\(error)).")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    /// One file entry with the fixed time and mode, so equal input gives equal zips.
    static func add(_ bytes: [UInt8], at path: String, compressed: Bool, to archive: Archive) throws {
        try archive.addEntry(
            with: path, type: .file, uncompressedSize: Int64(bytes.count), modificationDate: entryDate,
            permissions: 0o644, compressionMethod: compressed ? .deflate : .none,
            provider: { position, size in Data(bytes[Int(position)..<min(bytes.count, Int(position) + size)]) })
    }

    static func isText(_ path: String) -> Bool {
        [".txt", ".json", ".jsonl", ".jsonld", ".html", ".csv", ".pem", ".cdxj", ".cdx"].contains { path.hasSuffix($0) }
    }

    /// Regular files under `directory`, relative, sorted.
    static func files(in directory: String) throws -> [String] {
        var result: [String] = []
        let manager = FileManager.default
        guard let enumerator = manager.enumerator(atPath: directory) else { return [] }
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append(relative)
            }
        }
        return result.sorted()
    }

    /// Limits on what `extract` accepts.
    public struct Limits: Sendable {
        /// Total declared uncompressed bytes.
        public var totalBytes: UInt64 = 8 << 30
        /// Number of entries.
        public var entries = 200_000
        /// Uncompressed/compressed ratio above which a large entry is a zip bomb
        /// (bundles hold WARC files and media, which hardly compress at all).
        public var ratio: UInt64 = 200
        /// What any zip may expand to, whatever its size (DESIGN §16 "Containers").
        public var allowance: UInt64 = 64 << 20
        /// Beyond `allowance`, how many times its own size a zip may expand to in all:
        /// a zip of N bytes may write at most `allowance + expansion × N` bytes.
        public var expansion: UInt64 = 100

        public init() {}
    }

    /// What one extraction may write in all, charged first with the sizes the
    /// entries declare (to refuse before writing anything) and then, separately,
    /// with every inflated chunk before it is written (so a zip that lies is
    /// stopped mid-entry, not after it). The smallest of three bounds applies:
    /// `Limits.totalBytes`; 64 MiB plus 100 times the zip's own size, which no
    /// bundle comes near (its WARC files and media are stored, not deflated) but
    /// a bomb of zeros (about 1000:1) exceeds at once; and the free space of the
    /// destination's file system when the extraction began.
    struct Budget {
        let path: String
        let limits: Limits
        /// The zip's own size in bytes.
        let containerSize: UInt64
        /// `allowance + expansion × containerSize`.
        let expansionBound: UInt64
        /// Free bytes on the destination's file system (`statvfs` f_bavail × f_frsize).
        let available: UInt64
        private(set) var used: UInt64 = 0

        init(path: String, containerSize: UInt64, available: UInt64, limits: Limits) {
            self.path = path
            self.limits = limits
            self.containerSize = containerSize
            let (product, overflow) = limits.expansion.multipliedReportingOverflow(by: containerSize)
            let (sum, overflow2) = limits.allowance.addingReportingOverflow(product)
            self.expansionBound = overflow || overflow2 ? .max : sum
            self.available = available
        }

        /// Adds `bytes`, declared (`writing` false) or about to be written, and
        /// throws storage (exit 5) once the total passes a bound.
        mutating func charge(_ bytes: UInt64, writing: Bool) throws(ExhibitError) {
            let (sum, overflow) = used.addingReportingOverflow(bytes)
            used = overflow ? .max : sum
            let outcome = writing
                ? "extraction was stopped and what it wrote removed"
                : "refused, nothing was extracted"
            let verb = writing ? "expanded to" : "declares"
            if used > limits.totalBytes {
                throw ExhibitError(.storage, "\(path) \(verb) more than \(limits.totalBytes >> 30) GiB of content; \(outcome).")
            }
            if used > expansionBound {
                throw ExhibitError(.storage, "\(path) \(verb) more than \(expansionBound) bytes (\(limits.allowance >> 20) MiB plus \(limits.expansion) times its own \(containerSize) bytes), a zip bomb; \(outcome).")
            }
            if used > available {
                throw ExhibitError(.storage, "\(path) \(verb) more than the \(available) bytes free where it is extracted; \(outcome) (free some disk space and try again).")
            }
        }
    }

    /// Extracts the zip at `path` into `target` (a new directory). Throws
    /// storage (exit 5) for any entry that could escape, link, repeat or
    /// overflow, before anything is written, and stops as soon as the bytes
    /// inflated would pass the ``Budget``; `target` is removed on failure.
    public static func extract(_ path: String, into target: String, limits: Limits = Limits()) throws(ExhibitError) {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ExhibitError(.storage, "\(path) is not a readable zip file.")
        }
        var names = Set<String>()
        var count = 0
        var available: UInt64 = .max
        var info = statvfs()
        if statvfs((target as NSString).deletingLastPathComponent, &info) == 0 {
            available = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        }
        var containerInfo = stat()
        let containerSize = stat(path, &containerInfo) == 0 ? UInt64(max(containerInfo.st_size, 0)) : 0
        var declared = Budget(path: path, containerSize: containerSize, available: available, limits: limits)
        for entry in archive {
            count += 1
            guard count <= limits.entries else {
                throw ExhibitError(.storage, "\(path) has more than \(limits.entries) entries; refused.")
            }
            let name = entry.path
            if let reason = refusal(name: name, type: entry.type) {
                throw ExhibitError(.storage, "\(path): the entry \(name) \(reason); refused, nothing was extracted.")
            }
            do {
                guard names.insert(name.hasSuffix("/") ? String(name.dropLast()) : name).inserted else {
                    throw ExhibitError(.storage, "\(path) holds the entry \(name) twice; refused (a later copy could replace a checked one).")
                }
                let size = entry.uncompressedSize
                try declared.charge(size, writing: false)
                if size > 64 << 20, size / max(entry.compressedSize, 1) > limits.ratio {
                    throw ExhibitError(.storage, "\(path): the entry \(name) expands \(size / max(entry.compressedSize, 1)) times (a zip bomb); refused.")
                }
            }
        }
        guard mkdir(target, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create \(target)") }
        // The same bounds again, on the bytes actually inflated, checked before each chunk is written.
        var written = Budget(path: path, containerSize: containerSize, available: available, limits: limits)
        do {
            for entry in archive {
                let destination = target + "/" + entry.path
                if entry.type == .directory {
                    try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
                    continue
                }
                try FileManager.default.createDirectory(
                    atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
                guard fd >= 0 else { throw AtomicFile.posixError("Cannot create \(destination)") }
                defer { close(fd) }
                var entryWritten: UInt64 = 0
                let entryDeclared = entry.uncompressedSize
                _ = try archive.extract(entry, skipCRC32: false) { data in
                    entryWritten += UInt64(data.count)
                    // The central directory may lie: stop at what it declared.
                    guard entryWritten <= entryDeclared else {
                        throw ExhibitError(.storage, "\(path): the entry \(entry.path) holds more than it declares; refused.")
                    }
                    try written.charge(UInt64(data.count), writing: true)
                    try AtomicFile.writeAll(fd, Array(data), path: destination)
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            if let error = error as? ExhibitError { throw error }
            throw ExhibitError(.storage, "\(path) could not be extracted (\(error)).")
        }
    }

    /// Why an entry name or type is refused, or nil when it is acceptable.
    static func refusal(name: String, type: Entry.EntryType) -> String? {
        if type == .symlink { return "is a symbolic link" }
        if name.isEmpty || name.hasPrefix("/") || name.hasPrefix("\\") { return "has an absolute path" }
        if name.contains("\0") || name.contains("\\") { return "has a backslash or NUL in its name" }
        if name.count > 1 && name.dropFirst().hasPrefix(":") { return "has a drive letter" }
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0 == ".." }) { return "climbs out of the folder with .." }
        if components.dropLast().contains(where: { $0.isEmpty || $0 == "." }) { return "has an empty or . path component" }
        return nil
    }
}
