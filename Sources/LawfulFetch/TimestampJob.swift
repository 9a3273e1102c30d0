public import CaseManagement
public import ChainOfCustody
import Foundation

/// `exhibit timestamp`: an RFC 3161 token over the case's ledger head, verified,
/// stored under timestamps/ and recorded as a `timestamp` entry (custodian).
public struct TimestampJob: Sendable {
    public struct Result: Sendable, Encodable {
        public var caseID: String
        public var coversSeq: Int64
        public var ledgerHead: String
        public var genTime: String
        public var serial: String
        public var token: String
        public var seq: Int64

        enum CodingKeys: String, CodingKey {
            case seq, serial, token
            case caseID = "case"
            case coversSeq = "covers_seq"
            case ledgerHead = "ledger_head"
            case genTime = "gen_time"
        }
    }

    public let session: ActingSession
    public let caseID: String
    public let tsaURL: String
    public let caFile: String?

    public init(session: ActingSession, caseID: String, tsaURL: String?, caFile: String?) throws(ExhibitError) {
        guard let url = tsaURL ?? session.workspace.info.defaultTSA else {
            throw ExhibitError(.usage, "No time-stamping authority is named and workspace.json sets no default_tsa; name one.", input: .timeStampingAuthority)
        }
        guard let address = WebAddress(url), address.isWeb else {
            throw ExhibitError(.usage, "The time-stamping authority \"\(url)\" is not an http:// or https:// URL; name one that is.", input: .timeStampingAuthority)
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ExhibitError(.storage, "Cannot read the CA file \(caFile).")
        }
        self.session = session
        self.caseID = caseID
        self.tsaURL = address.text
        self.caFile = caFile
    }

    public func run() throws(ExhibitError) -> Result {
        try session.authorize(.timestamp, caseID: caseID, command: "timestamp")
        let store = session.store
        guard let head = try store.ledger(of: caseID).head(), let digest = Hex.decode(head.hash) else {
            throw ExhibitError(.storage, "The ledger of \(caseID) is empty.")
        }
        let request = try TrustedTimestamp.request(sha256Digest: digest)
        let (status, response) = try HTTPPost.send(
            url: tsaURL, body: request, contentType: "application/timestamp-query", caFile: caFile)
        guard status == 200, !response.isEmpty else {
            throw ExhibitError(.storage, "The time-stamping authority at \(tsaURL) answered HTTP \(status) without a token; check the URL.")
        }
        let facts: TrustedTimestamp.Facts
        do {
            facts = try TrustedTimestamp.verify(response: response, request: request, caFile: caFile)
        } catch {
            throw ExhibitError(.storage, "The time-stamping authority's reply does not verify (\(error.message)), so nothing was recorded; check the certificates it is verified against.", input: .trustedCertificates)
        }

        let directory = store.directory(of: caseID)
        let folder = directory + "/timestamps"
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw AtomicFile.posixError("Cannot create \(folder)")
        }
        var files: [(relative: String, bytes: [UInt8])] = [
            ("timestamps/\(head.seq).tsr", response),
            ("timestamps/\(head.seq).tsq", request),
        ]
        if let caFile {
            files.append(("timestamps/\(head.seq).ca.pem", try AtomicFile.read(caFile)))
        }
        // Commit protocol (DESIGN §2): temporary files, fsynced; the entry; then rename.
        for file in files {
            if FileManager.default.fileExists(atPath: directory + "/" + file.relative) {
                throw ExhibitError(.storage, "Ledger head seq \(head.seq) already has a timestamp (\(file.relative)).")
            }
        }
        var written: [String] = []
        do throws(ExhibitError) {
            for file in files {
                let temporary = directory + "/" + file.relative + ".tmp"
                let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw AtomicFile.posixError("Cannot write \(file.relative)") }
                written.append(temporary)
                defer { close(fd) }
                try AtomicFile.writeAll(fd, file.bytes, path: temporary)
                guard fsync(fd) == 0 else { throw AtomicFile.posixError("Cannot flush \(file.relative)") }
            }
        } catch {
            for path in written { unlink(path) }
            throw error
        }
        var subject: [String: JSONValue] = [
            "covers_seq": .integer(head.seq),
            "ledger_head": .string(head.hash),
            "tsa": .string(tsaURL),
            "gen_time": .string(facts.genTime),
            "serial": .string(facts.serial),
            "token": .string(files[0].relative),
            "request": .string(files[1].relative),
            "files": .array(files.map { .object(["path": .string($0.relative), "sha256": .string(Digest.sha256Hex($0.bytes))]) }),
        ]
        if caFile != nil { subject["ca"] = .string(files[2].relative) }
        let entry: LedgerEntry
        do throws(ExhibitError) {
            entry = try store.append(LedgerDraft(action: "timestamp", subject: .object(subject)), to: caseID, signer: try session.signer())
        } catch {
            for path in written { unlink(path) }
            throw error
        }
        for file in files {
            rename(directory + "/" + file.relative + ".tmp", directory + "/" + file.relative)
        }
        AtomicFile.syncDirectory(folder)
        return Result(caseID: caseID, coversSeq: head.seq, ledgerHead: head.hash, genTime: facts.genTime,
                      serial: facts.serial, token: files[0].relative, seq: entry.seq)
    }
}
