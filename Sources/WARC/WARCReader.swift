public import ChainOfCustody

/// A record read back from a `.warc.gz`, with its block digest recomputed.
public struct ReadRecord: Sendable {
    public var offset: Int64
    public var length: Int64
    public var version: String
    public var fields: [(String, String)]
    public var blockLength: Int64
    /// sha256 hex of the block as stored.
    /// Empty when the reader checking declared digests skipped it: an HTTP
    /// response whose WARC-Block-Digest it checked (docs/import.md); and from a
    /// reader that computes no block digest.
    public var blockSHA256: String
    /// The block, when it was no larger than the reader's keep limit.
    public var block: [UInt8]?
    /// For `response` records: the HTTP status line and headers (up to and
    /// without the blank line), and the SHA-1 of the HTTP payload exactly as
    /// stored (chunk framing included) — what web-archive indexes quote when a
    /// record has no WARC-Payload-Digest.
    public var httpHead: [UInt8]?
    public var httpPayloadSHA1: [UInt8]?
    /// With ``WARCReader/checksDeclaredDigests``: the record's own digests checked.
    public var declaredDigests: DeclaredDigestCheck?
    /// Without it: whether the block still hashes to what its WARC-Block-Digest header
    /// declares, when that header names an algorithm Exhibit computes (nil otherwise).
    /// Verification holds an imported response, whose ledger keeps only the declared
    /// digest intake checked, to it.
    public var declaredBlockHolds: Bool?

    /// The first field with this name (case-insensitive).
    public func field(_ name: String) -> String? {
        fields.first { $0.0.caseInsensitiveCompare(name) }?.1
    }

    public var type: String? { field("WARC-Type") }
    public var recordID: String? { field("WARC-Record-ID") }
    public var targetURI: String? { field("WARC-Target-URI") }
}

extension String {
    func caseInsensitiveCompare(_ other: String) -> Bool {
        // Field names are ASCII tokens: compared by bytes, without the two lowercased
        // copies per field and lookup (verify looks up four fields of 8,000 records).
        // Over the contiguous bytes: the UTF8View iterators (allSatisfy, zip) were ~1 % of
        // verify's samples (parseHeader looks three names up among a record's fields).
        var (lhs, rhs) = (self, other)
        let compared: Bool? = lhs.withUTF8 { a in
            rhs.withUTF8 { b in
                guard !a.contains(where: { $0 >= 0x80 }), !b.contains(where: { $0 >= 0x80 }) else { return nil }
                guard a.count == b.count else { return false }
                for index in a.indices where a[index] != b[index] {
                    let folded = a[index] | 0x20
                    guard folded == b[index] | 0x20, folded >= UInt8(ascii: "a"), folded <= UInt8(ascii: "z") else { return false }
                }
                return true
            }
        }
        return compared ?? (lowercased() == other.lowercased())
    }
}

/// Reads every record of a `.warc.gz`, member by member, or of an uncompressed
/// `.warc`, record by record, in constant memory (blocks are hashed as they
/// stream; only blocks up to `keepBlocksUpTo` bytes are kept).
public struct WARCReader {
    public let path: String
    public var keepBlocksUpTo: Int64
    /// Whether response records get `httpPayloadSHA1` (what CDXJ indexes quote);
    /// verification does not need it and skips the work.
    public var computesPayloadSHA1: Bool
    /// Whether each record's WARC-Block-Digest and WARC-Payload-Digest are checked,
    /// in whatever algorithm and encoding they were written (an outside WARC's intake).
    public var checksDeclaredDigests: Bool
    /// Whether each record's block is hashed (`blockSHA256`, `declaredBlockHolds`);
    /// a reader that only reads a page back for analysis skips the work.
    /// Declared digests, when checked, are always hashed.
    public var computesBlockDigest: Bool

    public init(path: String, keepBlocksUpTo: Int64 = 0, computesPayloadSHA1: Bool = true, checksDeclaredDigests: Bool = false,
                computesBlockDigest: Bool = true) {
        self.path = path
        self.keepBlocksUpTo = keepBlocksUpTo
        self.computesPayloadSHA1 = computesPayloadSHA1
        self.checksDeclaredDigests = checksDeclaredDigests
        self.computesBlockDigest = computesBlockDigest || checksDeclaredDigests
    }

    /// Calls `visit` for each record in order. Throws (verification-failed) on a
    /// truncated or malformed file, after visiting the records before the damage.
    /// `fileDigest`, when given, is fed every byte of the file as it is read.
    public func forEachRecord(fileDigest: DigestStream? = nil, _ visit: (ReadRecord) throws(ExhibitError) -> Void) throws(ExhibitError) {
        let reader = try WARCRecordSources.open(path: path)
        reader.input.observer = fileDigest
        try forEachRecord(reader, visit)
    }

    /// The same, reading the file's bytes from `chunks` (a ``CopyingFileReader``
    /// that copies them as they are checked); `gzip` says how the file is stored.
    package func forEachRecord(from chunks: any ByteChunks, gzip: Bool, _ visit: (ReadRecord) throws(ExhibitError) -> Void) throws(ExhibitError) {
        // A copying reader's file digest rides with the payloads' sha256 (RidingDigest).
        try forEachRecord(WARCRecordSources.open(chunks, path: path, gzip: gzip), rider: (chunks as? CopyingFileReader)?.rider, visit)
    }

    private func forEachRecord(_ reader: any WARCRecordSource, rider: RidingDigest? = nil, _ visit: (ReadRecord) throws(ExhibitError) -> Void) throws(ExhibitError) {
        while true {
            var parser = RecordParser(keepBlocksUpTo: keepBlocksUpTo, computesPayloadSHA1: computesPayloadSHA1, checksDeclared: checksDeclaredDigests,
                                      computesBlockDigest: computesBlockDigest)
            parser.rider = rider
            guard let (offset, length) = try reader.nextMember({ (bytes) throws(ExhibitError) in
                try parser.feed(bytes)
            }) else { return }
            var record = try parser.finish(path: path, offset: offset)
            record.offset = offset
            record.length = length
            try visit(record)
        }
    }

    /// The one record whose gzip member starts at `offset`.
    public func record(at offset: Int64) throws(ExhibitError) -> ReadRecord {
        let reader = try WARCRecordSources.open(path: path, offset: offset)
        var parser = RecordParser(keepBlocksUpTo: keepBlocksUpTo, computesPayloadSHA1: computesPayloadSHA1, checksDeclared: checksDeclaredDigests,
                                  computesBlockDigest: computesBlockDigest)
        guard let (start, length) = try reader.nextMember({ (bytes) throws(ExhibitError) in
            try parser.feed(bytes)
        }) else {
            throw ExhibitError(.verificationFailed, "\(path) has no record at offset \(offset)")
        }
        var record = try parser.finish(path: path, offset: start)
        record.offset = start
        record.length = length
        return record
    }

    /// All records (convenience for small files and tests).
    public func records() throws(ExhibitError) -> [ReadRecord] {
        var result: [ReadRecord] = []
        try forEachRecord { result.append($0) }
        return result
    }
}

/// Splits one decompressed member into header, block and trailer.
private struct RecordParser {
    let keepBlocksUpTo: Int64
    var header: [UInt8] = []
    var headerDone = false
    var fields: [(String, String)] = []
    var version = ""
    var contentLength: Int64 = 0
    var blockSeen: Int64 = 0
    var trailer: [UInt8] = []
    var block: [UInt8]? = nil
    var digest = PairedDigest([.sha256])
    // HTTP head and payload digest of response records, found while streaming.
    var tracksHTTP = false
    var httpHead: [UInt8] = []
    var httpHeadDone = false
    var payloadDigest: PairedDigest?
    let computesPayloadSHA1: Bool
    // Declared digests (intake of outside WARCs).
    let checksDeclared: Bool
    var declaredBlock: DeclaredDigest?
    var declaredPayload: DeclaredDigest?
    /// The record is an HTTP request or response: its payload follows the HTTP head.
    var isHTTP = false
    var isRevisit = false
    var dechunker: ChunkDecoder?
    var dechunkedDigest: DigestStream?
    /// Another sha256 stream (the file's) carried beside this record's single ones.
    var rider: RidingDigest?

    let computesBlockDigest: Bool

    init(keepBlocksUpTo: Int64, computesPayloadSHA1: Bool, checksDeclared: Bool = false, computesBlockDigest: Bool = true) {
        self.keepBlocksUpTo = keepBlocksUpTo
        self.computesPayloadSHA1 = computesPayloadSHA1
        self.checksDeclared = checksDeclared
        self.computesBlockDigest = computesBlockDigest
        if !computesBlockDigest { digest = PairedDigest([]) }
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(ExhibitError) {
        // The previous piece's digest passes may still run in the background (RidingDigest).
        rider?.waitForPasses()
        var index = 0
        if !headerDone {
            while index < bytes.count {
                header.append(bytes[index])
                index += 1
                if header.count >= 4, header[header.count - 4] == 13, header[header.count - 3] == 10,
                   header[header.count - 2] == 13, header[header.count - 1] == 10 {
                    try parseHeader()
                    headerDone = true
                    break
                }
                guard header.count <= 1 << 20 else {
                    throw ExhibitError(.verificationFailed, "a WARC record header is longer than 1 MiB")
                }
            }
        }
        guard headerDone, index < bytes.count else { return }
        let remainingBlock = contentLength - blockSeen
        let take = Int(min(Int64(bytes.count - index), remainingBlock))
        if take > 0 {
            let slice = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)])
            if block != nil { block!.append(contentsOf: slice) }
            var rest = slice
            if tracksHTTP, !httpHeadDone {
                let head = scanHTTPHead(slice)
                digest.update(UnsafeRawBufferPointer(rebasing: slice[0..<head]))
                rest = UnsafeRawBufferPointer(rebasing: slice[head...])
            }
            if tracksHTTP, httpHeadDone, let payloadDigest {
                // Past the HTTP head every byte is both block and payload: each algorithm
                // the two share is one paired pass, the algorithms on two cores.
                PairedDigest.update(digest, payloadDigest, with: rest, rider: rider)
                if let dechunkedDigest { dechunker?.feed(rest) { dechunkedDigest.update($0) } }
            } else {
                digest.update(rest, rider: rider)
            }
            blockSeen += Int64(take)
            index += take
        }
        if index < bytes.count {
            trailer.append(contentsOf: bytes[index...])
            guard trailer.count <= 4 else {
                throw ExhibitError(.verificationFailed, "a WARC record has bytes beyond its Content-Length")
            }
        }
    }

    mutating func parseHeader() throws(ExhibitError) {
        // Split on CRLF, the colon and the blanks around values by bytes, making Strings
        // only of names and values: Foundation's components(separatedBy:) was an eighth of
        // the time `exhibit verify` spent on a bag, and Character searches and trims per
        // line most of what was left of the header's cost.
        let end = header.count - 4
        var lines: [Range<Int>] = []
        var start = 0
        var index = 0
        while index < end {
            if header[index] == 13, header[index + 1] == 10 {
                lines.append(start..<index)
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(start..<max(start, end))
        version = String(decoding: header[lines[0]], as: UTF8.self)
        guard version.hasPrefix("WARC/") else {
            throw ExhibitError(.verificationFailed, "a record does not start with a WARC version line")
        }
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        /// The text of `range` without blanks at either end.
        func trimmed(_ range: Range<Int>) -> String {
            var (lower, upper) = (range.lowerBound, range.upperBound)
            while lower < upper, isBlank(header[lower]) { lower += 1 }
            while upper > lower, isBlank(header[upper - 1]) { upper -= 1 }
            return String(decoding: header[lower..<upper], as: UTF8.self)
        }
        for line in lines.dropFirst() {
            if let first = line.first, isBlank(header[first]), !fields.isEmpty {
                fields[fields.count - 1].1 += "\n" + trimmed(line)
                continue
            }
            guard let colon = header[line].firstIndex(of: UInt8(ascii: ":")) else {
                throw ExhibitError(.verificationFailed, "a WARC header line has no colon")
            }
            fields.append((String(decoding: header[line.lowerBound..<colon], as: UTF8.self), trimmed((colon + 1)..<line.upperBound)))
        }
        guard let length = fields.first(where: { $0.0.caseInsensitiveCompare("Content-Length") }).flatMap({ Int64($0.1) }),
              length >= 0 else {
            throw ExhibitError(.verificationFailed, "a WARC record has no valid Content-Length")
        }
        contentLength = length
        if length <= keepBlocksUpTo { block = [] }
        tracksHTTP = fields.contains { $0.0.caseInsensitiveCompare("WARC-Type") && $0.1 == "response" }
        if checksDeclared {
            prepareDeclaredChecks()
        } else if computesBlockDigest, let declared = fields.first(where: { $0.0.caseInsensitiveCompare("WARC-Block-Digest") }).map({ DeclaredDigest($0.1) }),
                  let algorithm = declared.algorithm {
            declaredBlock = declared
            if algorithm != .sha256 { digest = PairedDigest([.sha256, algorithm]) }
        }
    }

    /// WARC 1.1 §5.9: the payload of a request or response with an HTTP block is
    /// what follows the HTTP head; for other records it is the whole block. A
    /// revisit's payload digest names the payload of the record it revisits.
    mutating func prepareDeclaredChecks() {
        func field(_ name: String) -> String? { fields.first { $0.0.caseInsensitiveCompare(name) }?.1 }
        declaredBlock = field("WARC-Block-Digest").map(DeclaredDigest.init)
        declaredPayload = field("WARC-Payload-Digest").map(DeclaredDigest.init)
        let type = field("WARC-Type") ?? ""
        isRevisit = type == "revisit"
        isHTTP = (type == "response" || type == "request") && (field("Content-Type") ?? "").lowercased().hasPrefix("application/http")
        if isHTTP { tracksHTTP = true }
        // An HTTP response's block is held by its declared digest (checked here), its
        // payload gets its own sha256 (the artifact's) and the file's sha256 covers every
        // byte: a third sha256 of nearly the same bytes would vouch for nothing more.
        let blockHeldByDeclared = isHTTP && type == "response" && declaredBlock?.algorithm != nil
        var algorithms: [DigestAlgorithm] = blockHeldByDeclared ? [] : [.sha256]
        if let algorithm = declaredBlock?.algorithm { algorithms.append(algorithm) }
        if !isHTTP, !isRevisit, let algorithm = declaredPayload?.algorithm { algorithms.append(algorithm) }
        digest = PairedDigest(algorithms)
    }

    /// Reads the HTTP head from the front of `bytes`, up to its blank line; returns
    /// how many bytes it took (the payload starts after them once `httpHeadDone`).
    mutating func scanHTTPHead(_ bytes: UnsafeRawBufferPointer) -> Int {
        var index = 0
        while !httpHeadDone, index < bytes.count {
            httpHead.append(bytes[index])
            index += 1
            let n = httpHead.count
            if n >= 4, httpHead[n - 4] == 13, httpHead[n - 3] == 10, httpHead[n - 2] == 13, httpHead[n - 1] == 10 {
                httpHeadDone = true
                httpHead.removeLast(4)
                var algorithms: [DigestAlgorithm] = computesPayloadSHA1 ? [.sha1] : []
                if checksDeclared {
                    algorithms.append(.sha256)
                    if let algorithm = declaredPayload?.algorithm { algorithms.append(algorithm) }
                    if HTTPHead.firstValue(of: "transfer-encoding", in: httpHead)?.lowercased().contains("chunked") == true {
                        dechunker = ChunkDecoder()
                        dechunkedDigest = DigestStream(algorithms)
                    }
                }
                if !algorithms.isEmpty { payloadDigest = PairedDigest(algorithms) }
            } else if n > 1 << 20 {
                tracksHTTP = false  // not an HTTP response after all
                return index
            }
        }
        return index
    }

    func finish(path: String, offset: Int64) throws(ExhibitError) -> ReadRecord {
        guard headerDone else {
            throw ExhibitError(.verificationFailed, "the record at offset \(offset) has an incomplete header")
        }
        guard blockSeen == contentLength else {
            throw ExhibitError(.verificationFailed, "the record at offset \(offset) is shorter than its Content-Length (\(blockSeen) of \(contentLength) bytes)")
        }
        guard trailer == [13, 10, 13, 10] else {
            throw ExhibitError(.verificationFailed, "the record at offset \(offset) does not end with CRLF CRLF")
        }
        rider?.waitForPasses()
        let headDone = tracksHTTP && httpHeadDone
        let blockDigests = digest.finish()
        let payloadDigests = payloadDigest?.finish()
        var record = ReadRecord(
            offset: offset, length: 0, version: version, fields: fields, blockLength: contentLength,
            blockSHA256: blockDigests[.sha256].map { Hex.encode($0) } ?? "", block: block,
            httpHead: headDone ? httpHead : nil, httpPayloadSHA1: headDone ? payloadDigests?[.sha1] : nil)
        if checksDeclared {
            record.declaredDigests = declaredCheck(blockDigests: blockDigests, payloadDigests: headDone ? payloadDigests : nil)
        } else if let declaredBlock, let algorithm = declaredBlock.algorithm, let bytes = blockDigests[algorithm] {
            record.declaredBlockHolds = declaredBlock.matches(bytes)
        }
        return record
    }

    func declaredCheck(blockDigests: [DigestAlgorithm: [UInt8]], payloadDigests: [DigestAlgorithm: [UInt8]]?) -> DeclaredDigestCheck {
        let dechunkedLength = dechunkedDigest?.byteCount
        let dechunked = (dechunker?.isDone == true) ? dechunkedDigest?.finish() : nil
        var payload: DigestVerdict
        if let declaredPayload {
            if isRevisit {
                payload = .notApplicable(declared: declaredPayload.text)
            } else if !isHTTP {
                payload = Self.verdict(declaredPayload, blockDigests)
            } else if let payloadDigests {
                payload = Self.verdict(declaredPayload, payloadDigests)
                // Tools disagree whether a chunked payload's digest covers the framing (DESIGN §6).
                if payload.failed, let dechunked, Self.verdict(declaredPayload, dechunked) == .matched { payload = .matched }
            } else {
                payload = .notApplicable(declared: declaredPayload.text)
            }
        } else {
            payload = .absent
        }
        let payloadSHA256 = isHTTP ? payloadDigests?[.sha256].map { Hex.encode($0) } : (isRevisit ? nil : Hex.encode(blockDigests[.sha256]!))
        let payloadLength = isHTTP ? (payloadDigests == nil ? nil : max(0, contentLength - Int64(httpHead.count) - 4)) : (isRevisit ? nil : contentLength)
        return DeclaredDigestCheck(
            block: Self.verdict(declaredBlock, blockDigests), payload: payload,
            payloadSHA256: payloadSHA256, payloadLength: payloadLength,
            dechunkedPayloadSHA256: dechunked?[.sha256].map { Hex.encode($0) }, dechunkedPayloadLength: dechunked == nil ? nil : dechunkedLength)
    }

    static func verdict(_ declared: DeclaredDigest?, _ digests: [DigestAlgorithm: [UInt8]]) -> DigestVerdict {
        guard let declared else { return .absent }
        guard let algorithm = declared.algorithm, let bytes = digests[algorithm] else { return .unsupported(declared: declared.text) }
        if declared.matches(bytes) { return .matched }
        let hex = Hex.encode(bytes)
        let found = declared.value.count == hex.count ? hex : CDXJIndex.base32(bytes)
        return .mismatched(declared: declared.text, found: "\(algorithm.rawValue):\(found)")
    }
}
