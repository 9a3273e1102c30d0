import CaseManagement
package import ChainOfCustody
import Foundation
package import WARC

/// Sealing batches under the commit protocol of DESIGN §2: the records of finished
/// chains go into the open WARC file; at a seal the file is flushed, every pending
/// entry is recorded with its digest in one ledger append, then file and blobs are
/// renamed into place.
extension CaptureRun {
    /// One deferred page's records, compressed, and its facts (on any thread).
    /// The observer, if any, hears of the page (`CaptureSealObserver.prepared(_:)`).
    static func prepare(_ item: Deferred, warcinfoID: String, compressors: GzipCompressorPool,
                        observer: (any CaptureSealObserver)? = nil) -> PagePreparer.Output {
        Result { () throws(ExhibitError) -> ([CompressedRecord], PageFacts?) in
            var members: [CompressedRecord] = []
            for hop in item.chain.hops {
                for record in Self.records(for: hop, warcinfoID: warcinfoID) {
                    members.append(try WARCWriter.compress(record, with: compressors))
                }
            }
            guard let last = item.chain.hops.last, let html = htmlBody(last) else { return (members, nil) }
            if let observer, let page = PreparedPage(url: item.chain.url.text, hop: last, html: html) { observer.prepared(page) }
            return (members, PageFacts(html: html, url: last.url.text, contentType: last.contentType))
        }
    }

    /// The records and facts of the pages still waiting (prepared while the transfers
    /// went on, the rest now), written in order and recorded like any other capture.
    mutating func prepareDeferred(progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) {
        deferredBytes = 0
        guard !deferred.isEmpty else { return }
        try writePrepared(preparer?.drain() ?? [], progress: progress)
    }

    /// Writes the deferred pages that are prepared, in the order they arrived, while the
    /// transfers go on: at the seal only the last few are left to write, and a page's
    /// body is freed once its records are in the file.
    mutating func writeReadyPages() throws(ExhibitError) {
        guard !deferred.isEmpty, let ready = preparer?.takeReady(), !ready.isEmpty else { return }
        try writePrepared(ready, progress: progress)
    }

    /// Appends the prepared records of the first `outputs.count` deferred pages and
    /// keeps their entries for the seal.
    private mutating func writePrepared(_ outputs: [PagePreparer.Output], progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) {
        let writer = try currentWriter()
        let items = deferred.prefix(outputs.count)
        deferred.removeFirst(items.count)
        for (item, result) in zip(items, outputs) {
            let (members, facts) = try result.get()
            var records: [WrittenRecord] = []
            for member in members { records.append(try writer.append(member)) }
            var subject = item.subject
            subject["records"] = .array(records.map(\.json))
            var blob: (String, String)?
            if let last = item.chain.hops.last {
                // A page that leads nowhere has nothing to follow; its line went out when it arrived.
                _ = try complete(item.chain, last: last, facts: facts, page: nil, records: records, subject: &subject, blob: &blob, progress: nil)
                if facts?.passwordField == true, last.status != 401, last.status != 403 {
                    progress?(CaptureProgress(outcome: nil, line: "access-restricted \(item.chain.url.text) — a login page (password field), captured as is",
                                              bytes: 0, queued: undecided))
                }
            }
            written.append(Pending(action: "capture", subject: subject, records: records, blob: blob))
        }
    }

    /// The body as the page's author wrote it (framing and gzip undone), for
    /// analysis only; at most 16 MiB.
    static func bodyForAnalysis(_ hop: HopResult) -> [UInt8]? {
        let limit = 16 << 20
        guard let raw = hop.body ?? hop.spoolPath.flatMap({ try? AtomicFile.read($0) }) else { return nil }
        return ContentDecoding.payload(raw, chunked: hop.chunked, contentEncoding: hop.contentEncoding, limit: limit)
    }

    /// Copies a media payload into the content-addressed blob store under a
    /// temporary name; renamed after the ledger records it.
    mutating func storeBlob(_ hop: HopResult, subject: inout [String: JSONValue]) throws(ExhibitError) -> (String, String)? {
        guard hop.spoolPath != nil || hop.body != nil else { return nil }
        let sha = hop.dechunkedSHA256 ?? hop.payloadSHA256
        let relative = EvidenceFiles.blobPath(sha256: sha)
        let chunked = hop.chunked
        let staged = try EvidenceFiles.stageBlob(caseDirectory: caseDirectory, sha256: sha, jobID: captureID) { (fd, temporary) throws(ExhibitError) -> Int64 in
            var decoder = chunked ? ChunkDecoder() : nil
            var written: Int64 = 0
            try Self.forEachBodyChunk(hop) { (chunk) throws(ExhibitError) in
                if decoder != nil {
                    var out: [UInt8] = []
                    decoder!.feed(chunk) { out.append(contentsOf: $0) }
                    try AtomicFile.writeAll(fd, out, path: temporary)
                    written += Int64(out.count)
                } else {
                    try AtomicFile.writeAll(fd, Array(chunk), path: temporary)
                    written += Int64(chunk.count)
                }
            }
            return written
        }
        subject["blob"] = .object(["path": .string(relative), "sha256": .string(sha), "size": .integer(staged?.size ?? hop.bodyLength)])
        return staged.map { ($0.temporary, $0.final) }
    }

    /// The body as transferred, in pieces, from memory or from its spool file.
    static func forEachBodyChunk(_ hop: HopResult, _ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> Void) throws(ExhibitError) {
        if let bytes = hop.body {
            try withBytes(bytes, body)
        } else if let spool = hop.spoolPath {
            try WARCWriter.stream(spool, expectedLength: hop.bodyLength, body)
        }
    }

    /// The open WARC file, creating it (with its warcinfo record) when needed.
    package mutating func currentWriter() throws(ExhibitError) -> WARCWriter {
        if let writer { return writer }
        fileIndex += 1
        let name = fileIndex == 1 ? "\(captureID).warc.gz" : "\(captureID)-\(fileIndex).warc.gz"
        let writer = try WARCWriter(finalPath: warcDirectory + "/" + name)
        var extra: [(String, String)] = [
            ("http-header-user-agent", job.session.workspace.info.userAgent ?? ExhibitRelease.userAgent),
            ("robots", options.depth > 0 ? "obey (beyond the URLs given)" : "not consulted (only the URLs given)"),
            ("policy", "lawful capture of public pages (IV.B.8): public addresses only, checked on the connected address; no credentials, cookies or Authorization sent; 401/403 and login pages recorded as access-restricted"),
        ]
        if !options.allowNetworks.isEmpty {
            extra.append(("policy-override", "allow-network \(options.allowNetworks.joined(separator: " ")) — \(options.allowReason ?? "")"))
        }
        if options.tlsInsecure {
            extra.append(("policy-override", "tls-insecure — \(options.tlsInsecureReason ?? "")"))
        }
        let info = EvidenceFiles.warcinfo(
            fileName: name, session: job.session, caseID: job.caseID, jobField: ("capture-id", captureID),
            software: "Exhibit/\(ExhibitRelease.version) (\(Curl.version))", extra: extra)
        try writer.write(info)
        warcinfoID = info.recordID
        self.writer = writer
        urlsInFile = 0
        return writer
    }

    /// A hop's request, response and metadata records.
    package static func records(for hop: HopResult, warcinfoID: String) -> [WARCRecord] {
        let ids = WARCRecord.newRecordIDs(3)
        let responseID = ids[0]
        var common: [(String, String)] = [("WARC-Warcinfo-ID", warcinfoID)]
        if let ip = hop.ip { common.append(("WARC-IP-Address", ip)) }
        let responseBlock: WARCRecord.Block = hop.spoolPath.map {
            .init(head: hop.responseHead, spoolPath: $0, spoolLength: hop.bodyLength, sha256: hop.blockSHA256)
        } ?? {
            var block = WARCRecord.Block(bytes: hop.responseHead + (hop.body ?? []))
            block.sha256 = hop.blockSHA256
            return block
        }()
        // The standard tools disagree on the payload digest of a chunked body, so
        // it is left out of the header there and the de-chunked digest goes in the
        // metadata record and the ledger.
        let response = WARCRecord(
            type: "response", recordID: responseID, date: hop.started, targetURI: hop.url.withoutFragment,
            contentType: "application/http;msgtype=response", fields: common,
            payloadSHA256: hop.dechunkedSHA256 ?? hop.payloadSHA256, payloadDigestInHeader: !hop.chunked, block: responseBlock)
        let request = WARCRecord(
            type: "request", recordID: ids[1], date: hop.started, targetURI: hop.url.withoutFragment,
            contentType: "application/http;msgtype=request", fields: common + [("WARC-Concurrent-To", responseID)],
            block: .init(bytes: hop.requestBytes))
        var meta: [(String, String)] = []
        if let ip = hop.ip { meta.append(("ip", ip)) }
        if let port = hop.port { meta.append(("port", String(port))) }
        meta.append(("network-decision", hop.networkDecision))
        if let tls = hop.tls {
            if let version = tls.version { meta.append(("tls-version", version)) }
            if let cipher = tls.cipher { meta.append(("tls-cipher", cipher)) }
            for (index, pem) in tls.chainPEM.enumerated() {
                meta.append(("peer-certificate-sha256", tls.chainSHA256[index]))
                // PEM lines folded as continuation lines (leading space) of one field.
                let folded = pem.split(separator: "\n").map(String.init).filter { !$0.isEmpty }.joined(separator: "\r\n ")
                meta.append(("peer-certificate", folded))
            }
        }
        for (name, value) in hop.timingsMicroseconds { meta.append(("time-\(name)-us", String(value))) }
        if let location = hop.location { meta.append(("redirect-location", location)) }
        if let dechunked = hop.dechunkedSHA256 { meta.append(("payload-sha256-dechunked", dechunked)) }
        meta.append(("body-bytes", String(hop.bodyLength)))
        let metaBody = meta.map { "\($0.0): \($0.1)\r\n" }.joined()
        let metadata = WARCRecord(
            type: "metadata", recordID: ids[2], date: hop.started, targetURI: hop.url.withoutFragment,
            contentType: "application/warc-fields",
            fields: [("WARC-Warcinfo-ID", warcinfoID), ("WARC-Concurrent-To", responseID)],
            block: .init(bytes: Array(metaBody.utf8)))
        return [request, response, metadata]
    }

    /// Seals the current WARC file: flush it, record every pending entry with the
    /// file's digest (group commit), then rename the file and blobs into place.
    package mutating func sealFile() throws(ExhibitError) {
        try prepareDeferred(progress: progress)
        pending += written
        written = []
        var drafts: [LedgerDraft] = []
        if let writer {
            if writer.recordCount <= 1 {
                writer.discard()
                for index in pending.indices { pending[index].subject.removeValue(forKey: "warc") }
            } else {
                let (sha, size) = try writer.seal()
                let file = Self.relative(writer.finalPath, to: caseDirectory)
                for index in pending.indices where !pending[index].records.isEmpty {
                    pending[index].subject["warc"] = .object(["file": .string(file), "sha256": .string(sha), "size": .integer(size)])
                }
            }
        }
        drafts = pending.map { LedgerDraft(action: $0.action, subject: .object($0.subject)) }
        var sealed: [LedgerEntry] = []
        if !drafts.isEmpty {
            options.sealObserver?.willSeal()
            sealed = try job.session.store.append(drafts, to: job.caseID, signer: signer)
        }
        if let writer, writer.recordCount > 1 {
            try writer.commit()
            report.warcFiles.append(Self.relative(writer.finalPath, to: caseDirectory))
        }
        for item in pending {
            guard let blob = item.blob else { continue }
            EvidenceFiles.commitBlob(temporary: blob.temporary, final: blob.final)
        }
        if !sealed.isEmpty { options.sealObserver?.sealed(sealed) }
        pending = []
        writer = nil
    }

    package static func relative(_ path: String, to directory: String) -> String {
        path.hasPrefix(directory + "/") ? String(path.dropFirst(directory.count + 1)) : path
    }
}
