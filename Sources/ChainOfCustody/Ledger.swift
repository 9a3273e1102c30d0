import Foundation

/// A case's append-only custody ledger, `ledger.jsonl` (DESIGN §5).
///
/// Appends take an exclusive `flock` on the ledger file, read the head, write the
/// new lines in one `write` and fsync before returning, so two processes appending
/// to one case never interleave or fork the chain, and a command reports success
/// only for entries already on disk. Several drafts appended together share one
/// fsync (group commit).
public struct Ledger: Sendable {
    /// Path of the `ledger.jsonl` file.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The ledger of the case whose files are in `directory` (a case directory, or a
    /// bag's `data/` folder): its ``fileName`` there.
    public init(directory: String) {
        self.init(path: directory + "/" + Self.fileName)
    }

    /// What a case's ledger file is called in its directory.
    public static let fileName = "ledger.jsonl"

    /// A head that something outside the ledger remembers the case reaching: the
    /// workspace witness log, or case.json.
    public struct Remembered: Sendable {
        public var seq: Int64
        public var head: String
        /// Says what remembers it, for the refusal ("case.json").
        public var source: String
        /// Whether the ledger may have gone past it unseen: true for a cache
        /// written after the ledger (case.json), false for the witness log.
        public var mayLag: Bool
    }

    /// Appends the drafts in order, signed by `signer`; returns the entries written.
    ///
    /// Compare-and-swap (DESIGN §16): the ledger must still end where `witness` and
    /// `remembered` (read under the ledger's lock) last saw it, or nothing is written
    /// and a verification error says so. After the lines are fsynced, the new head
    /// is recorded in `witness`; if any step fails, the file is cut back to its
    /// previous length. `replacingTornTail` (for `exhibit recover`) first cuts off
    /// exactly those bytes, which must be the ledger's incomplete last line.
    @discardableResult
    public func append(
        _ drafts: [LedgerDraft], caseID: String, signer: LedgerSigner,
        witness: WitnessLog? = nil, remembered: () -> [Remembered] = { [] },
        replacingTornTail torn: [UInt8]? = nil
    ) throws(ExhibitError) -> [LedgerEntry] {
        guard !drafts.isEmpty else { return [] }
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot open the ledger \(path)") }
        defer { close(fd) }
        return try FileLock.withLock(fd, .exclusive, what: "the ledger \(path)") { () throws(ExhibitError) -> [LedgerEntry] in
            if let torn { try cutTornTail(torn, fd: fd) }
            let size = try AppendOnlyFile.size(fd, what: path)
            let head = try Self.lastEntry(fd: fd, path: path)
            var memories = remembered()
            if let witness, let record = try witness.latest(for: caseID) {
                memories.append(Remembered(seq: record.seq, head: record.head, source: "the workspace witness log", mayLag: false))
            }
            for memory in memories { try requireReaches(memory, head: head, fd: fd, caseID: caseID) }
            let (entries, bytes) = try Self.entries(drafts, after: head, caseID: caseID, signer: signer)
            try AppendOnlyFile.append(bytes, to: fd, previousSize: size, what: path)
            if let witness, let last = entries.last {
                do throws(ExhibitError) {
                    try witness.witness(last, signer: signer)
                } catch {
                    // The entries and their witness are one unit: without the witness
                    // record a later check would take them for an unwitnessed tail.
                    AppendOnlyFile.rollBack(fd, to: size)
                    throw error
                }
            }
            return entries
        }
    }

    /// Refuses unless the ledger still reaches `memory`: same length and head, or
    /// (for the witness, whose record may be missing after a crash between the two
    /// writes) longer with `memory.head` at `memory.seq`.
    private func requireReaches(_ memory: Remembered, head: LedgerEntry?, fd: Int32, caseID: String) throws(ExhibitError) {
        let have = head?.seq ?? 0
        let refusal = { (found: String) -> ExhibitError in
            ExhibitError(.verificationFailed, "The ledger of \(caseID) no longer ends where it did: \(memory.source) remembers \(memory.seq) entries ending with \(memory.head), but \(found). Nothing was written; run `exhibit verify \(caseID)`.")
        }
        if memory.seq > have { throw refusal("the ledger has \(have)") }
        if memory.seq == have {
            if head?.hash != memory.head { throw refusal("its entry \(have) is \(head?.hash ?? "missing")") }
            return
        }
        if memory.mayLag { return }
        var found: String?
        try AppendOnlyFile.scanBackwards(fd, what: path) { line in
            guard let entry = try? LedgerEntry(line: Array(line.bytes)), entry.seq <= memory.seq else { return false }
            if entry.seq == memory.seq { found = entry.hash }
            return true
        }
        if found != memory.head { throw refusal("its entry \(memory.seq) is \(found ?? "missing")") }
    }

    /// Cuts `torn` off the end of the file, after checking it is exactly the
    /// incomplete last line.
    private func cutTornTail(_ torn: [UInt8], fd: Int32) throws(ExhibitError) {
        let size = try AppendOnlyFile.size(fd, what: path)
        var last: Line?
        try AppendOnlyFile.scanBackwards(fd, what: path) { line in
            last = line
            return true
        }
        guard let last, !last.terminated, Array(last.bytes) == torn else {
            throw ExhibitError(.storage, "The ledger \(path) changed while its torn last line was being set aside; nothing was written, try again.")
        }
        guard ftruncate(fd, off_t(size - Int64(torn.count))) == 0, fsync(fd) == 0 else {
            throw AtomicFile.posixError("Cannot cut the torn line off the ledger \(path)")
        }
    }

    /// The bytes of the ledger's last line when it is incomplete (no newline):
    /// what only a power loss during an append leaves. nil when the ledger ends
    /// with a complete line.
    public func tornTail() throws(ExhibitError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read the ledger \(path)") }
        defer { close(fd) }
        return try FileLock.withLock(fd, .shared, what: "the ledger \(path)") { () throws(ExhibitError) -> [UInt8]? in
            var last: Line?
            try AppendOnlyFile.scanBackwards(fd, what: path) { line in
                last = line
                return true
            }
            guard let last, !last.terminated else { return nil }
            return Array(last.bytes)
        }
    }

    /// From this many drafts (a capture's seal) the entries are prepared on every core.
    public static let parallelBatch = 32

    /// The drafts as signed entries chained after `head`, and their lines. Each
    /// subject's canonical JSON and digest, then each signature and line, are
    /// independent: a batch of `parallelBatch` or more does them on every core.
    /// Only the hash chain, which is cheap, runs in order.
    private static func entries(
        _ drafts: [LedgerDraft], after head: LedgerEntry?, caseID: String, signer: LedgerSigner
    ) throws(ExhibitError) -> ([LedgerEntry], [UInt8]) {
        let width = drafts.count >= parallelBatch ? Parallel.width : 1
        let salted = drafts.map { (draft: $0, salt: Hex.encode(OpenSSL.randomBytes(32))) }
        // canonical(subject) is kept for the line (`line(canonicalSubject:)`): a capture's
        // subjects are most of each line, and canonicalising them twice showed in its profile.
        let digests = Parallel.map(salted, width: width) { item -> Result<(digest: String, subject: [UInt8]), ExhibitError> in
            Result { () throws(ExhibitError) in
                let canonical = try LedgerEntry.canonicalSubject(item.draft.subject)
                return (try LedgerEntry.subjectDigest(salt: item.salt, canonicalSubject: canonical[...]), canonical)
            }
        }
        var seq = (head?.seq ?? 0) + 1
        var prev = head?.hash ?? LedgerEntry.genesisPrev
        var chained: [(entry: LedgerEntry, subject: [UInt8])] = []
        for (item, digest) in zip(salted, digests) {
            let (subjectDigest, canonical) = try digest.get()
            let entry = LedgerEntry(
                seq: seq, time: LedgerTime.now(), caseID: caseID, actor: signer.actorID, action: item.draft.action,
                subject: item.draft.subject, salt: item.salt, subjectDigest: subjectDigest, prev: prev)
            chained.append((entry, canonical))
            prev = entry.hash
            seq += 1
        }
        guard width > 1 else { return try signed(chained[...], with: signer.key) }
        // Each thread signs with its own copy of the key (openssl-threads(7)
        // makes no promise for one `EVP_PKEY` used by several threads at once).
        let pem = signer.key.privateKeyPEM()
        let unsigned = chained
        let slices = (0..<width).map { part in (part * unsigned.count / width)..<((part + 1) * unsigned.count / width) }
        let signedSlices = Parallel.map(slices, width: width) { range -> Result<([LedgerEntry], [UInt8]), ExhibitError> in
            Result { () throws(ExhibitError) in try signed(unsigned[range], with: try SigningKey(pem: pem)) }
        }
        var entries: [LedgerEntry] = []
        var bytes: [UInt8] = []
        for slice in signedSlices {
            let (sliceEntries, sliceBytes) = try slice.get()
            entries += sliceEntries
            bytes += sliceBytes
        }
        return (entries, bytes)
    }

    /// The entries signed by `key`, and their lines.
    private static func signed(_ chained: ArraySlice<(entry: LedgerEntry, subject: [UInt8])>, with key: SigningKey) throws(ExhibitError) -> ([LedgerEntry], [UInt8]) {
        var entries: [LedgerEntry] = []
        var bytes: [UInt8] = []
        for (var entry, subject) in chained {
            entry.signature = Data(try key.sign(Array(entry.hash.utf8))).base64EncodedString()
            bytes += try entry.line(canonicalSubject: subject)
            bytes.append(UInt8(ascii: "\n"))
            entries.append(entry)
        }
        return (entries, bytes)
    }

    /// Appends one draft.
    @discardableResult
    public func append(_ draft: LedgerDraft, caseID: String, signer: LedgerSigner) throws(ExhibitError) -> LedgerEntry {
        try append([draft], caseID: caseID, signer: signer)[0]
    }

    /// Every entry, strictly parsed; throws on the first malformed line.
    /// (``LedgerVerifier`` reads damaged ledgers leniently and reports each problem.)
    public func entries() throws(ExhibitError) -> [LedgerEntry] {
        try entries(of: try readLocked())
    }

    /// The entries of `bytes` (this ledger's, as ``readLocked()`` gave them), parsed and
    /// refused as ``entries()`` does, for a caller that also needs the bytes.
    public func entries(of bytes: [UInt8]) throws(ExhibitError) -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        for (number, line) in Self.lines(of: bytes).enumerated() {
            if !line.terminated {
                throw ExhibitError(.storage, "The ledger \(path) ends with an incomplete line (a write torn by a crash or power loss); a custodian runs `exhibit recover` on the case, which keeps the torn bytes.")
            }
            do {
                entries.append(try LedgerEntry(line: Array(line.bytes)))
            } catch {
                throw ExhibitError(.storage, "The ledger \(path) is damaged at line \(number + 1) (\(error.message)); run `exhibit verify` on the case.")
            }
        }
        return entries
    }

    /// The file's bytes, read under a shared lock so that an append in progress
    /// in another process is never seen half-written.
    public func readLocked() throws(ExhibitError) -> [UInt8] {
        try FileLock.withLock(path: path, .shared, what: "the ledger \(path)") { (_: Int32) throws(ExhibitError) -> [UInt8] in
            try AtomicFile.read(path)
        }
    }

    /// The last entry, or nil for an empty ledger.
    public func head() throws(ExhibitError) -> LedgerEntry? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot open the ledger \(path)") }
        defer { close(fd) }
        return try Self.lastEntry(fd: fd, path: path)
    }

    /// A line of a ledger file and whether it ended with a newline.
    public struct Line {
        public var bytes: ArraySlice<UInt8>
        public var terminated: Bool
    }

    /// Splits a ledger file into lines; a final line without newline is kept and
    /// marked unterminated (a torn write or truncation).
    public static func lines(of bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            lines.append(Line(bytes: bytes[start..<index], terminated: true))
            start = index + 1
        }
        if start < bytes.count {
            lines.append(Line(bytes: bytes[start..<bytes.count], terminated: false))
        }
        return lines
    }

    /// Reads the last line by scanning backwards from the end of the file, so an
    /// append costs the same on a long ledger as on a short one.
    private static func lastEntry(fd: Int32, path: String) throws(ExhibitError) -> LedgerEntry? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AtomicFile.posixError("Cannot inspect the ledger \(path)") }
        let size = Int(info.st_size)
        if size == 0 { return nil }
        var window = 64 * 1024
        while true {
            let start = max(0, size - window)
            var buffer = [UInt8](repeating: 0, count: size - start)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
            guard count == buffer.count else { throw AtomicFile.posixError("Cannot read the ledger \(path)") }
            guard buffer.last == UInt8(ascii: "\n") else {
                throw ExhibitError(.storage, "The ledger \(path) ends with an incomplete line (a write torn by a crash or power loss), so nothing more can be appended safely; a custodian runs `exhibit recover` on the case, which keeps the torn bytes.")
            }
            let body = buffer.dropLast()
            if let newline = body.lastIndex(of: UInt8(ascii: "\n")) {
                return try parseHead(Array(body[(newline + 1)...]), path: path)
            }
            if start == 0 { return try parseHead(Array(body), path: path) }
            window *= 4
        }
    }

    private static func parseHead(_ line: [UInt8], path: String) throws(ExhibitError) -> LedgerEntry {
        do {
            return try LedgerEntry(line: line)
        } catch {
            throw ExhibitError(.storage, "The last entry of the ledger \(path) is damaged (\(error.message)); run `exhibit verify` on the case.")
        }
    }
}

extension Ledger.Remembered {
    /// A head that a cache written after the ledger remembers (`source`: "case.json"),
    /// so the ledger may have gone past it unseen. The other kind, a head the ledger
    /// must still hold at its `seq`, comes only from the witness log, which `append`
    /// reads under the ledger's lock itself.
    public init(cache source: String, seq: Int64, head: String) {
        self.init(seq: seq, head: head, source: source, mayLag: true)
    }
}
