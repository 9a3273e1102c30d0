public import ChainOfCustody
import Foundation
public import WARC

/// The responses a case captured, indexed by URL and capture time, read from
/// the ledger's capture subjects (DESIGN §5, §14: every record with its WARC
/// file and gzip-member offset) and served from the WARC files alone.
///
/// ```
/// let archive = try ReplayArchive(caseDirectory: dir)
/// if let capture = archive.lookup("http://example.org/a.html", near: "20261201104255") {
///     let message = try archive.message(for: capture)   // status, headers, body as transferred
/// }
/// ```
public struct ReplayArchive: Sendable {
    /// One archived response.
    public struct Capture: Sendable, Equatable {
        /// The record's WARC-Target-URI.
        public var url: String
        /// 14 digits, UTC: `20261201104255`.
        public var timestamp: String
        /// The WARC file, relative to the case directory.
        public var warc: String
        public var offset: Int64
        public var recordID: String
        public var blockDigest: String
        /// The ledger entry that recorded it.
        public var seq: Int64
    }

    public let caseDirectory: String
    /// Captures by SURT key, oldest first.
    private let byKey: [String: [Capture]]

    /// Reads the case's ledger. Entries whose WARC file is missing are left out
    /// (`exhibit verify` reports them); nothing is fetched.
    public init(caseDirectory: String) throws(ExhibitError) {
        self.caseDirectory = caseDirectory
        let entries = try Ledger(path: caseDirectory + "/ledger.jsonl").entries()
        var index: [String: [Capture]] = [:]
        for entry in entries where entry.action == "capture" || entry.action == "capture-failed" {
            guard let subject = entry.subject, let file = subject["warc"]?["file"]?.stringValue else { continue }
            // Hops of one chain were fetched within seconds of its start; the exact
            // WARC-Date is read back when a response is served.
            let started = subject["started"]?.stringValue ?? entry.time
            for record in subject["records"]?.arrayValue ?? [] where record["type"]?.stringValue == "response" {
                guard let url = record["target_uri"]?.stringValue, let offset = record["offset"]?.intValue,
                      let id = record["id"]?.stringValue else { continue }
                let capture = Capture(
                    url: url, timestamp: Self.timestamp(started), warc: file, offset: offset, recordID: id,
                    blockDigest: record["block_digest"]?.stringValue ?? "", seq: entry.seq)
                index[CDXJIndex.surt(url), default: []].append(capture)
            }
        }
        // Imported WARCs (docs/import.md) replay like captured ones; each response's
        // time is its own WARC-Date, as the import entry lists it.
        for entry in entries where entry.action == "import" {
            guard let subject = entry.subject, let file = subject["warc"]?["file"]?.stringValue else { continue }
            for item in subject["artifacts"]?.arrayValue ?? [] where item["record_type"]?.stringValue == "response" {
                guard let url = item["url"]?.stringValue, let offset = item["offset"]?.intValue,
                      let id = item["record"]?.stringValue,
                      let record = subject["records"]?.arrayValue?.first(where: { $0["id"]?.stringValue == id }) else { continue }
                let capture = Capture(
                    url: url, timestamp: Self.timestamp(item["time"]?.stringValue ?? entry.time), warc: file, offset: offset,
                    recordID: id, blockDigest: record["block_digest"]?.stringValue ?? "", seq: entry.seq)
                index[CDXJIndex.surt(url), default: []].append(capture)
            }
        }
        byKey = index
    }

    /// Every capture of the case (for listings and tests).
    public var captures: [Capture] {
        byKey.values.flatMap { $0 }.sorted { ($0.timestamp, $0.url) < ($1.timestamp, $1.url) }
    }

    /// The capture of `url` nearest to `timestamp` (14 digits; nil: the latest).
    /// URLs are compared as pywb compares them: by SURT key (scheme, `www.`,
    /// default port, fragment and query order do not matter).
    public func lookup(_ url: String, near timestamp: String?) -> Capture? {
        guard let candidates = byKey[CDXJIndex.surt(url)], !candidates.isEmpty else { return nil }
        guard let wanted = timestamp.flatMap(Self.seconds) else { return candidates.last }
        return candidates.min { lhs, rhs in
            abs((Self.seconds(lhs.timestamp) ?? 0) - wanted) < abs((Self.seconds(rhs.timestamp) ?? 0) - wanted)
        }
    }

    /// The archived response, read from its WARC file (or the file's recorded
    /// temporary name, after a crash between commit steps 2 and 3).
    public func message(for capture: Capture) throws(ExhibitError) -> ReplayedMessage {
        var path = caseDirectory + "/" + capture.warc
        if access(path, R_OK) != 0, access(path + ".tmp", R_OK) == 0 { path += ".tmp" }
        let message = try ReplayedMessage(warcPath: path, offset: capture.offset)
        guard message.recordID == capture.recordID else {
            throw ExhibitError(.verificationFailed, "The WARC file \(capture.warc) does not hold record \(capture.recordID) at offset \(capture.offset); run `exhibit verify` on the case.")
        }
        return message
    }

    /// The archived URL of a route-form path (`/replay/<time>/http:/host/…`): a
    /// client that merged the double slash of `http://` gets it back.
    public static func repairScheme(_ url: String) -> String {
        for scheme in ["http:/", "https:/"] where url.hasPrefix(scheme) && !url.hasPrefix(scheme + "/") {
            return scheme + "/" + url.dropFirst(scheme.count)
        }
        return url
    }

    /// `2026-12-01T10:42:55.982417Z` → `20261201104255`.
    public static func timestamp(_ date: String) -> String {
        String(date.filter(\.isNumber).prefix(14))
    }

    /// Seconds since 1970 of a 14-digit timestamp (shorter ones are padded as pywb does).
    static func seconds(_ timestamp: String) -> Int? {
        var digits = String(timestamp.filter(\.isNumber).prefix(14))
        guard digits.count >= 4 else { return nil }
        let padding = "00000101000000"
        if digits.count < 14 { digits += padding.suffix(14 - digits.count) }
        let chars = Array(digits)
        func number(_ range: Range<Int>) -> Int { Int(String(chars[range])) ?? 0 }
        var parts = DateComponents()
        parts.year = number(0..<4); parts.month = max(1, number(4..<6)); parts.day = max(1, number(6..<8))
        parts.hour = number(8..<10); parts.minute = number(10..<12); parts.second = number(12..<14)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.date(from: parts).map { Int($0.timeIntervalSince1970) }
    }
}

extension ReplayArchive.Capture {
    /// The capture held by one known record (an artifact's own response record)
    /// rather than one found by URL and time: its timestamp stays empty, since
    /// ``ReplayArchive/message(for:)`` reads the record's WARC-Date when it is served.
    /// In an extension, so that the memberwise initialiser stays for the archive.
    public init(record recordID: String, in warc: String, at offset: Int64, url: String, blockDigest: String, seq: Int64) {
        self.init(url: url, timestamp: "", warc: warc, offset: offset, recordID: recordID, blockDigest: blockDigest, seq: seq)
    }
}
