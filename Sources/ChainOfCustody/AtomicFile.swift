import Foundation

/// Crash-safe file writes (DESIGN §2): write a temporary file, fsync it, rename it
/// over the final name, fsync the directory. A reader sees the old file or the new
/// one, never a mix.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically with the given permissions.
    public static func write(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o600) throws(ExhibitError) {
        // Unique per process and thread, so concurrent writers of one cache never
        // share a temporary file.
        let temporary = path + ".\(getpid())-\(pthread_self()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw posixError("Cannot write \(path)") }
        do throws(ExhibitError) {
            try writeAll(fd, bytes, path: path)
            guard fsync(fd) == 0 else { throw posixError("Cannot flush \(path)") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = posixError("Cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
        syncDirectory(containing: path)
    }

    /// Writes every byte, retrying on short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(ExhibitError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw posixError("Cannot write \(path)")
            }
            written += result
        }
    }

    /// fsyncs the directory that holds `path`, so a rename or create in it is durable.
    public static func syncDirectory(containing path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    public static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws(ExhibitError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError("Cannot read \(path)") }
        defer { close(fd) }
        // Read straight into an array of the file's size: appending 64 KiB pieces
        // copied byte by byte (a tenth of a second for the 60 MB of a bag's report
        // and provenance graph that verify reads). A file that grew meanwhile is read on.
        var info = stat()
        let expected = fstat(fd, &info) == 0 ? max(0, Int(info.st_size)) : 0
        var failure: Int32 = 0
        var result = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
            while initialized < buffer.count {
                let count = Glibc.read(fd, buffer.baseAddress! + initialized, buffer.count - initialized)
                if count == 0 { break }
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                initialized += count
            }
        }
        if failure != 0 {
            errno = failure
            throw posixError("Cannot read \(path)")
        }
        if result.count < expected { return result }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw posixError("Cannot read \(path)")
            }
            result.append(contentsOf: buffer[0..<count])
        }
        return result
    }

    /// The `*.json` files of a directory (case templates, lexicons), read in name order,
    /// each with its path; `what` names them in the error ("case templates").
    public static func readJSONFiles(in directory: String, what: String) throws(ExhibitError) -> [(name: String, path: String, bytes: [UInt8])] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ExhibitError(.storage, "Cannot read the \(what) in \(directory): \(error.localizedDescription)")
        }
        var files: [(name: String, path: String, bytes: [UInt8])] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = directory + "/" + name
            files.append((name, path, try read(path)))
        }
        return files
    }

    /// An ``ExhibitError`` for the current `errno`: storage (exit 5).
    public static func posixError(_ what: String) -> ExhibitError {
        let code = errno
        let reason = String(cString: strerror(code))
        var advice = ""
        switch code {
        case EACCES, EPERM, EROFS: advice = " Check that the workspace is writable by you."
        case ENOSPC, EDQUOT: advice = " Free some disk space and try again."
        case ENOENT: advice = " Check the path."
        default: break
        }
        return ExhibitError(.storage, "\(what): \(reason).\(advice)")
    }
}
