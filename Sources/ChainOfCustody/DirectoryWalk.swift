import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every entry below a directory, read with `readdir` and the entry types it
/// returns, as `FileManager.enumerator(atPath:)` lists them: relative paths with
/// `/`, hidden entries included, symbolic links listed but never followed into.
///
/// Verification lists a bag's 6,000 files twice (payload, unaccounted files);
/// Foundation's enumerator followed by `fileExists` per entry was a tenth of a
/// second of it, on one core, before any file was hashed (docs/benchmarks.md).
public enum DirectoryWalk {
    /// One entry found below the directory.
    public struct Entry: Sendable, Equatable {
        /// The path relative to the directory walked.
        public var path: String
        /// A directory, or a link to one (as `FileManager.fileExists(atPath:isDirectory:)` says).
        public var isDirectory: Bool
        /// Present when links are followed (false for a link that leads nowhere).
        public var exists: Bool
        /// A regular file itself, not a link (as `lstat` says).
        public var isRegularFile: Bool
    }

    /// Every entry below `directory`, in no particular order; empty when it cannot be read.
    public static func entries(in directory: String) -> [Entry] {
        var found: [Entry] = []
        walk(directory, prefix: "", into: &found)
        return found
    }

    /// The entries that exist and are not directories (what `ZipContainer.files`
    /// and the enumerator-plus-`fileExists` loops list), sorted.
    public static func files(in directory: String) -> [String] {
        entries(in: directory).filter { $0.exists && !$0.isDirectory }.map(\.path).sorted()
    }

    private static func walk(_ directory: String, prefix: String, into found: inout [Entry]) {
        guard let stream = opendir(directory) else { return }
        while let item = readdir(stream) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let full = directory + "/" + name
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            var entry = Entry(path: relative, isDirectory: false, exists: true, isRegularFile: false)
            var isLink = false
            switch Int32(item.pointee.d_type) {
            case Int32(DT_REG):
                entry.isRegularFile = true
            case Int32(DT_DIR):
                entry.isDirectory = true
            case Int32(DT_LNK), Int32(DT_UNKNOWN):
                var own = stat()
                guard lstat(full, &own) == 0 else { continue }  // gone since readdir
                entry.isRegularFile = own.st_mode & S_IFMT == S_IFREG
                if own.st_mode & S_IFMT == S_IFLNK {
                    isLink = true
                    var target = stat()
                    entry.exists = stat(full, &target) == 0
                    entry.isDirectory = entry.exists && target.st_mode & S_IFMT == S_IFDIR
                } else {
                    entry.isDirectory = own.st_mode & S_IFMT == S_IFDIR
                }
            default:
                break
            }
            found.append(entry)
            // Each directory's entries right after it, as the enumerator gives them;
            // into real directories only, never through a link.
            if entry.isDirectory, !isLink { walk(full, prefix: relative, into: &found) }
        }
        closedir(stream)
    }
}
