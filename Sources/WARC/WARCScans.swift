public import ChainOfCustody
import Foundation

/// One reading of each WARC file for verification: its records' ids, types, targets,
/// placement and block digests, and — from the same read — the file's own digests.
///
/// A scan needs nothing from the ledger, so verification starts every file's scan
/// on a ``WorkQueue`` before it has parsed the ledger, and compares the records with
/// the ledger afterwards (``WARCVerification``). A scan asked for while it runs is
/// waited for, never read twice.
public final class WARCScans: @unchecked Sendable {
    /// What verification needs of one record (its block is not kept).
    struct Record: Sendable {
        var offset: Int64
        var length: Int64
        var recordID: String?
        var type: String?
        var targetURI: String?
        var blockDigestHeader: String?
        var blockSHA256: String
        var declaredBlockHolds: Bool?
    }

    /// A file's records in order, up to the damage that stopped the reading, if any.
    struct Scan: Sendable {
        var records: [Record] = []
        var damage: String?
    }

    private let digests: FileDigestCache?
    // `done` and `started` are touched only while `condition` is locked.
    private let condition = NSCondition()
    private var done: [String: Scan] = [:]
    private var started: Set<String> = []

    /// `digests`, when given, receives each file's digests from its scan.
    public init(digests: FileDigestCache?) {
        self.digests = digests
    }

    /// Queues a scan of each file on `queue`, biggest first; returns at once.
    public func schedule(_ paths: [String], on queue: WorkQueue) {
        queue.submit(paths.map { path in (cost: WARCVerification.fileSize(path), job: { _ = self.scan(path) }) })
    }

    /// The scan of the file at `path`: remembered, waited for while another thread
    /// reads it, or read now.
    func scan(_ path: String) -> Scan {
        condition.lock()
        while started.contains(path), done[path] == nil { condition.wait() }
        if let scan = done[path] {
            condition.unlock()
            return scan
        }
        started.insert(path)
        condition.unlock()
        let scan = read(path)
        condition.lock()
        done[path] = scan
        condition.broadcast()
        condition.unlock()
        return scan
    }

    private func read(_ path: String) -> Scan {
        var scan = Scan()
        let digesting = digests?.beginReading(path) == true
        let fileDigest = digesting ? digests.map { DigestStream($0.algorithms) } : nil
        do throws(ExhibitError) {
            try WARCReader(path: path, computesPayloadSHA1: false).forEachRecord(fileDigest: fileDigest) { (record) throws(ExhibitError) in
                scan.records.append(Record(
                    offset: record.offset, length: record.length, recordID: record.recordID, type: record.type,
                    targetURI: record.targetURI, blockDigestHeader: record.field("WARC-Block-Digest"),
                    blockSHA256: record.blockSHA256, declaredBlockHolds: record.declaredBlockHolds))
            }
        } catch {
            scan.damage = error.message
        }
        if digesting, let digests {
            // Read to its end: the file's digests are complete. A damaged file's are not:
            // the file-level check reads it again.
            if scan.damage == nil, let fileDigest {
                digests.record((fileDigest.finishHex(), fileDigest.byteCount), forPath: path)
            } else {
                digests.abandon(path)
            }
        }
        return scan
    }
}
