public import ChainOfCustody
import Foundation

/// The staging folder of an export in flight, recorded in the workspace so that
/// an interrupted export leaves no copy of evidence behind (DESIGN §16
/// "Containers").
///
/// `exhibit export` builds its bag in `.<out>.partial-<hex>` beside the output path: copies
/// of the ledger, the WARC files and the blobs. A failure removes the folder; a
/// kill -9 cannot. So before the folder exists, the export writes
/// `<workspace>/exports-in-progress/<hex>.json` (the folder's path, the case, the
/// process id) and holds an exclusive `flock` on that record until the folder is
/// gone. The next command that authorises an actor (``ActingSession/authorize(_:caseID:command:)``)
/// calls ``removeAbandoned(workspace:)``: a record whose lock it can take belongs
/// to a process that has ended, so it removes the folder and the record and says so.
///
/// The lock decides, not `kill(pid, 0)`: the kernel drops it the moment the
/// exporter dies, and a pid that another process has since been given cannot keep
/// a leftover alive (the same rule as ``CaseRecovery``'s writer lock). The pid is
/// kept for the notice.
///
/// ```swift
/// let staging = try ExportStaging(beside: output, caseID: id, workspace: workspace)
/// defer { staging.end() }
/// // build the bag in staging.path, then rename it (or a zip of it) to output
/// ```
public final class ExportStaging {
    /// The staging folder: `.<name of the output>.partial-<12 hex>` beside the output path. Not
    /// created here; the export creates it.
    public let path: String
    private let recordPath: String
    /// The open record, locked for as long as this export runs; -1 once ended.
    private var fd: Int32

    /// The folder under the workspace that holds one record per export in flight.
    public static func recordsDirectory(of workspace: Workspace) -> String {
        workspace.root + "/exports-in-progress"
    }

    /// Chooses the staging folder beside `output` and records it, durably and
    /// locked, before anything is copied there.
    public init(beside output: String, caseID: String, workspace: Workspace) throws(ExhibitError) {
        let suffix = Hex.encode(OpenSSL.randomBytes(6))
        let parent = (output as NSString).deletingLastPathComponent
        path = parent + "/." + (output as NSString).lastPathComponent + ".partial-" + suffix
        let directory = Self.recordsDirectory(of: workspace)
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw AtomicFile.posixError("Cannot create \(directory) to record the export in progress")
        }
        recordPath = directory + "/" + suffix + ".json"
        // Written under a temporary name, locked before it is renamed into view, so
        // no other command ever sees the record unlocked while this export runs.
        let temporary = directory + "/" + suffix + ".tmp"
        fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot record the export in progress in \(directory)") }
        do throws(ExhibitError) {
            guard FileLock.tryLock(fd, .exclusive) else { throw AtomicFile.posixError("Cannot lock \(temporary)") }
            let record = Record(case: caseID, path: path, pid: Int64(getpid()), started: LedgerTime.now())
            try AtomicFile.writeAll(fd, try encodeJSON(record), path: temporary)
            guard fsync(fd) == 0 else { throw AtomicFile.posixError("Cannot flush \(temporary)") }
            guard rename(temporary, recordPath) == 0 else { throw AtomicFile.posixError("Cannot rename \(temporary)") }
            AtomicFile.syncDirectory(directory)
        } catch {
            unlink(temporary)
            close(fd)
            fd = -1
            throw error
        }
    }

    deinit { end() }

    /// Removes the staging folder, then its record, then lets go of the lock. Safe
    /// to call more than once.
    public func end() {
        guard fd >= 0 else { return }
        try? FileManager.default.removeItem(atPath: path)
        unlink(recordPath)
        AtomicFile.syncDirectory(containing: recordPath)
        close(fd)
        fd = -1
    }

    /// Removes the staging folders of exports whose process has ended, and their
    /// records; returns one sentence per folder removed. Records of running
    /// exports (their lock is held) are left alone.
    public static func removeAbandoned(workspace: Workspace) -> [String] {
        let directory = recordsDirectory(of: workspace)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory), !names.isEmpty else { return [] }
        var notices: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") || name.hasSuffix(".tmp") {
            let recordPath = directory + "/" + name
            let fd = open(recordPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            // Held: that export is still running (in this process or another).
            guard FileLock.tryLock(fd, .exclusive) else { continue }
            // Another command may have cleaned this record up between open and flock.
            var opened = stat()
            var current = stat()
            guard fstat(fd, &opened) == 0, lstat(recordPath, &current) == 0,
                  opened.st_ino == current.st_ino, opened.st_dev == current.st_dev else { continue }
            // A `.tmp` record was never renamed: its export was killed before creating anything.
            if name.hasSuffix(".json"), let bytes = try? AtomicFile.read(recordPath),
               let record = try? JSONDecoder().decode(Record.self, from: Data(bytes)),
               isStagingFolder(record.path, suffix: String(name.dropLast(5))) {
                do {
                    try FileManager.default.removeItem(atPath: record.path)
                    AtomicFile.syncDirectory(containing: record.path)
                    notices.append("Removed \(record.path), the unfinished copy of case \(record.case)'s evidence left by an export that was interrupted (process \(record.pid), started \(record.started)).")
                } catch {
                    // Gone already (the export ended between removing it and its record), or not removable now: keep the record for the next command.
                    if FileManager.default.fileExists(atPath: record.path) { continue }
                }
            }
            unlink(recordPath)
            AtomicFile.syncDirectory(directory)
        }
        return notices
    }

    /// Whether `path` is what ``init(beside:caseID:workspace:)`` would have chosen
    /// for this record: an absolute `.<name>.partial-<suffix>` that is a real
    /// directory (not a link). A record edited to name anything else is not followed.
    static func isStagingFolder(_ path: String, suffix: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        guard path.hasPrefix("/"), !path.split(separator: "/").contains(".."),
              name.hasPrefix("."), name.hasSuffix(".partial-" + suffix), name.count > 1 + ".partial-".count + suffix.count,
              suffix.count == 12, suffix.allSatisfy(\.isHexDigit) else { return false }
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// What `exports-in-progress/<hex>.json` holds.
    struct Record: Codable {
        var `case`: String
        var path: String
        var pid: Int64
        var started: String
    }
}

@available(*, unavailable)
extension ExportStaging: Sendable {}
