public import WARC
public import ChainOfCustody
import Foundation

/// What capture and render jobs share when they write evidence files under
/// DESIGN §2's commit protocol: the job id, the WARC directory, the warcinfo
/// record that opens each file, and blobs staged under a temporary name and
/// renamed once the ledger records them.
public enum EvidenceFiles {
    /// `<prefix>-YYYYMMDDTHHMMSSZ-<8 hex>`: sortable by time, unique per job.
    public static func jobID(prefix: String) -> String {
        let stamp = LedgerTime.now().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return prefix + "-" + stamp.prefix(15) + "Z-" + Hex.encode(OpenSSL.randomBytes(4))
    }

    /// Creates `<case>/warc` when needed and checks it is a writable directory.
    public static func prepareWARCDirectory(caseDirectory: String) throws(ExhibitError) -> String {
        let directory = caseDirectory + "/warc"
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw AtomicFile.posixError("Cannot create \(directory)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              access(directory, W_OK) == 0 else {
            throw ExhibitError(.storage, "Cannot write WARC files: \(directory) is not a writable directory; check the workspace's permissions and disk.")
        }
        return directory
    }

    /// The warcinfo record that opens every WARC file Exhibit writes: software,
    /// format, operator (name, badge, actor id, agency), case and job, then the
    /// job's own fields.
    public static func warcinfo(fileName: String, session: ActingSession, caseID: String, jobField: (String, String),
                                software: String, extra: [(String, String)]) -> WARCRecord {
        let actor = session.actor
        var fields: [(String, String)] = [
            ("software", software),
            ("format", "WARC File Format 1.1"),
            ("conformsTo", "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"),
            ("operator", "\(actor.name) (badge \(actor.badge), actor \(actor.id)), \(session.workspace.info.agency)"),
            ("case", caseID),
            jobField,
        ]
        fields += extra
        let body = fields.map { "\($0.0): \($0.1)\r\n" }.joined()
        return WARCRecord(
            type: "warcinfo", date: LedgerTime.now(), contentType: "application/warc-fields",
            fields: [("WARC-Filename", fileName)], block: .init(bytes: Array(body.utf8)))
    }

    /// A blob's place in the content-addressed store: `blobs/sha256/<2 hex>/<hex>`.
    public static func blobPath(sha256: String) -> String {
        "blobs/sha256/\(sha256.prefix(2))/\(sha256)"
    }

    /// Writes a blob under `<final>.<jobID>.tmp` and fsyncs it (DESIGN §2 step 1).
    /// `fill` writes the bytes to the descriptor and returns how many it wrote.
    /// Returns the temporary and final paths, or nil when the blob is already stored.
    public static func stageBlob(caseDirectory: String, sha256: String, jobID: String,
                                 fill: (Int32, String) throws(ExhibitError) -> Int64) throws(ExhibitError) -> (temporary: String, final: String, size: Int64)? {
        let relative = blobPath(sha256: sha256)
        let final = caseDirectory + "/" + relative
        guard !FileManager.default.fileExists(atPath: final) else { return nil }
        let directory = (final as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ExhibitError(.storage, "Cannot create \(directory): \(error.localizedDescription)")
        }
        let temporary = final + ".\(jobID).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot write the blob \(relative)") }
        var failure: ExhibitError?
        var size: Int64 = 0
        do throws(ExhibitError) {
            size = try fill(fd, temporary)
            guard fsync(fd) == 0 else { throw AtomicFile.posixError("Cannot flush the blob \(relative)") }
        } catch {
            failure = error
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        return (temporary, final, size)
    }

    /// Renames a staged blob into place once its ledger entry is on disk (step 3);
    /// a copy that meanwhile appeared under the final name wins and the stage is removed.
    public static func commitBlob(temporary: String, final: String) {
        if FileManager.default.fileExists(atPath: final) {
            unlink(temporary)
        } else if rename(temporary, final) == 0 {
            AtomicFile.syncDirectory(containing: final)
        }
    }
}
