import CaseManagement
import ChainOfCustody
import Foundation

/// The server's content-addressed file store (a directory given at start): every file of every case
/// once, at `sha256/<2 hex>/<64 hex>`, written under a temporary name, fsynced and
/// renamed. A file is only evidence once a committed `case_files` row names it, so a
/// server killed mid-push leaves at most unreferenced files, never a half case.
struct EvidenceStore: Sendable {
    let root: String

    init(root: String) {
        self.root = root
    }

    func path(of sha256: String) -> String {
        "\(root)/sha256/\(sha256.prefix(2))/\(sha256)"
    }

    static func isDigest(_ text: String) -> Bool {
        text.count == 64 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    /// Creates the store's directories and proves it can write there.
    func prepare() throws(ExhibitError) {
        do {
            try FileManager.default.createDirectory(atPath: root + "/sha256", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/staging", withIntermediateDirectories: true)
        } catch {
            throw ExhibitError(.storage, "The evidence store \(root) cannot be created: \(error.localizedDescription)")
        }
        let probe = root + "/staging/.probe-\(UUID().uuidString)"
        try AtomicFile.write(Array("probe".utf8), to: probe)
        unlink(probe)
    }

    func contains(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: path(of: sha256))
    }

    /// Stores `bytes`, whose sha256 must be `sha256`.
    func put(_ bytes: [UInt8], sha256: String) throws(ExhibitError) {
        guard Digest.sha256Hex(bytes) == sha256 else {
            throw ExhibitError(.verificationFailed, "A file sent as sha256 \(sha256) does not have that digest: it was changed or cut short on the way.")
        }
        if contains(sha256) { return }
        let target = path(of: sha256)
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw ExhibitError(.storage, "The evidence store \(root) cannot be written: \(error.localizedDescription)")
        }
        try AtomicFile.write(bytes, to: target, mode: 0o644)
    }

    func read(_ sha256: String) throws(ExhibitError) -> [UInt8] {
        try AtomicFile.read(path(of: sha256))
    }

    /// A fresh staging directory for one push's verification; removed by the caller.
    func stagingDirectory() throws(ExhibitError) -> String {
        let directory = root + "/staging/" + UUID().uuidString
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ExhibitError(.storage, "The evidence store \(root) cannot be written: \(error.localizedDescription)")
        }
        return directory
    }

    /// Health for the server's store check: the store is writable, and every file the
    /// database names is present (size only; `verify` of a clone checks digests).
    func missing(_ files: [(sha256: String, size: Int64)]) -> [String] {
        files.compactMap { file in
            var info = stat()
            guard stat(path(of: file.sha256), &info) == 0, Int64(info.st_size) == file.size else { return file.sha256 }
            return nil
        }
    }
}

/// The files a ledger records (the same subjects `exhibit verify` reads: `warc`, `blob`
/// and `files`), by path in the case directory.
enum RecordedFiles {
    struct File: Sendable, Equatable {
        var path: String
        var sha256: String
        var size: Int64?
        var seq: Int64
    }

    static func of(_ entries: [LedgerEntry]) -> [File] {
        CaseVerification.recordedFiles(entries)
            .map { File(path: $0.key, sha256: $0.value.sha256, size: $0.value.size, seq: $0.value.seq) }
            .sorted { $0.path < $1.path }
    }

    /// A recorded path is relative and stays inside the case directory.
    static func isSafe(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..") && !path.contains("\0")
    }
}
