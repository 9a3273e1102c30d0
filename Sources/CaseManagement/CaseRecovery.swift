public import ChainOfCustody
import Foundation

/// Finishes or removes what an interrupted command left in a case (DESIGN §2):
/// a `*.tmp` file the ledger records (crash between steps 2 and 3) is renamed
/// to its final name when its digest matches; any other `*.tmp` was never
/// evidence and is deleted. Runs only when no other process is writing to the
/// case (writers hold a shared lock on the case directory).
public enum CaseRecovery {
    /// Holds a shared lock on a case directory while evidence is being written,
    /// so recovery in another process leaves in-flight temporary files alone.
    public final class WriterLock {
        private let lock: FileLock.Held

        public init(caseDirectory: String) throws(ExhibitError) {
            let what = "the case directory \(caseDirectory)"
            lock = try FileLock.Held(path: caseDirectory, flags: O_RDONLY | O_DIRECTORY, mode: .shared, wait: true, what: what,
                                     busy: ExhibitError(.storage, "Cannot lock \(what)."))
        }
    }

    /// Recovers the case; returns one sentence per action taken.
    public static func recover(caseDirectory: String) -> [String] {
        let fd = open(caseDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        // Someone is writing: their temporary files are work in progress.
        guard FileLock.tryLock(fd, .exclusive) else { return [] }
        defer { FileLock.unlock(fd) }

        let temporaries = temporaryFiles(in: caseDirectory)
        guard !temporaries.isEmpty else { return [] }
        let recorded = recordedFiles(caseDirectory: caseDirectory)
        var notices: [String] = []
        for relative in temporaries {
            let path = caseDirectory + "/" + relative
            var finalRelative = String(relative.dropLast(4))
            // Blobs may carry a job id before .tmp (<sha>.<job>.tmp).
            if recorded[finalRelative] == nil, finalRelative.hasPrefix("blobs/"),
               let dot = finalRelative.split(separator: "/").last?.firstIndex(of: ".") {
                finalRelative = String(finalRelative[..<dot])
            }
            if let expected = recorded[finalRelative],
               let actual = try? Digest.file(atPath: path).digests[.sha256], actual == expected,
               !FileManager.default.fileExists(atPath: caseDirectory + "/" + finalRelative) {
                if rename(path, caseDirectory + "/" + finalRelative) == 0 {
                    AtomicFile.syncDirectory(containing: caseDirectory + "/" + finalRelative)
                    notices.append("Finished an interrupted write: \(finalRelative) was recorded in the ledger and is now in place.")
                }
                continue
            }
            if unlink(path) == 0 {
                notices.append("Removed an interrupted write: \(relative) was never recorded in the ledger, so it is not evidence.")
            }
        }
        return notices
    }

    /// Every `*.tmp` file below the case directory, relative to it.
    public static func temporaryFiles(in caseDirectory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: caseDirectory) else { return [] }
        var result: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative.hasSuffix(".tmp") { result.append(relative) }
        }
        return result.sorted()
    }

    /// Files the ledger records, relative path → sha256: `subject.warc` and
    /// `subject.blob` objects with `file`/`path` and `sha256`, and those of `subject.files`.
    public static func recordedFiles(caseDirectory: String) -> [String: String] {
        guard let bytes = try? AtomicFile.read(caseDirectory + "/ledger.jsonl") else { return [:] }
        var files: [String: String] = [:]
        for line in Ledger.lines(of: bytes) {
            guard let subject = (try? JSONValue(parsing: Array(line.bytes)))?["subject"] else { continue }
            for file in CaseVerification.recordedFiles(in: subject) { files[file.path] = file.sha256 }
        }
        return files
    }
}
