public import MediaEvidence

// What the report (and the case browser, which shows the same rows) says of an image or
// video's metadata and PDQ hash (DESIGN §19), and of how an imported item was received
// (DESIGN §20). Every value comes from a signed ledger entry; each is escaped like any
// other text from the evidence.

extension CaseReport {
    /// Table rows for what media analysis found: capture time, GPS, device, software,
    /// dimensions, duration, edit history, content credentials and the PDQ hash, or
    /// "metadata unavailable: REASON" for each tool that failed on the file.
    public static func mediaRows(_ media: MediaFacts) -> String {
        let summary = media.summary
        func mono(_ value: String) -> String { "<span class=\"mono\">\(text(value))</span>" }
        var out = ""
        // Each reason reads "metadata unavailable: …" as the analysis recorded it.
        for reason in media.unavailable {
            out += row("Metadata", notRecorded(reason))
        }
        if let time = summary.captureTime { out += row("Taken (as the file says)", mono(time)) }
        if let latitude = summary.latitude, let longitude = summary.longitude {
            var gps = "\(mono(latitude)), \(mono(longitude)) <span class=\"muted\">(latitude, longitude in decimal degrees)</span>"
            if let altitude = summary.altitude { gps += "; altitude \(mono(altitude)) m" }
            out += row("GPS position", gps)
        }
        let device = [summary.make, summary.model].compactMap { $0 }.joined(separator: " ")
        if !device.isEmpty { out += row("Device (make, model)", text(device)) }
        if let software = summary.software { out += row("Software", text(software)) }
        if let width = summary.width, let height = summary.height {
            out += row("Dimensions", "\(grouped(Int64(width))) × \(grouped(Int64(height))) px")
        }
        if let duration = summary.duration { out += row("Duration", "\(mono(duration)) s") }
        if !summary.editHistory.isEmpty {
            out += row("Edit history", summary.editHistory.map { text($0) }.joined(separator: "<br>"))
        }
        out += row("Content credentials (C2PA)", summary.c2paPresent
            ? "present" + (summary.c2paClaimGenerator.map { "; claim generator \(text($0))" } ?? "") + " <span class=\"muted\">(presence only; not validated)</span>"
            : notRecorded("none found"))
        if let pdq = media.pdq {
            out += row("PDQ hash", "<span class=\"mono wrap\">\(text(pdq))</span>" + (media.quality.map { " <span class=\"muted\">(quality \($0) of 100)</span>" } ?? ""))
        } else if media.frames > 0 {
            out += row("PDQ hashes", "\(media.frames) video keyframe \(media.frames == 1 ? "hash" : "hashes") (one a second and at each scene cut), in the metadata record")
        } else if let reason = media.hashUnavailable {
            out += row("PDQ hash", notRecorded("none: " + reason))
        }
        out += row("Analysed", "ledger entry seq \(media.seq) (<code>media-analysis</code>); the tools' full output is its WARC <code>metadata</code> record")
        return out
    }

    /// Table rows for how an imported item reached the case: the source statement, the
    /// receiver, from whom and when, the file it came in and what the check found.
    public static func intakeRows(_ receipt: ImportReceipt, receiver: String) -> String {
        var out = row("Imported", "yes: received, not captured by Exhibit (ledger entry seq \(receipt.seq), <code>import</code>)")
        out += row("Source statement", text(receipt.source))
        out += row("Received by", receiver)
        out += row("Received from", receipt.receivedFrom.map { text($0) } ?? notRecorded("not stated"))
        out += row("Received at", receipt.receivedAt.map { "<span class=\"mono\">\(text($0))</span>" }
            ?? notRecorded("not stated; recorded at \(receipt.time)"))
        var file = "<span class=\"mono wrap\">\(text(receipt.fileName))</span> (\(text(receipt.kind))"
        if let size = receipt.size { file += ", " + sizeLabel(size) }
        file += ")<br>SHA-256 <span class=\"mono wrap\">\(text(receipt.sha256))</span>"
        out += row("File received", file)
        if let verdict = receipt.verdict {
            out += row("Check at intake", text(verdict) + (receipt.checkDetail.map { ": " + text($0) } ?? ""))
        }
        return out
    }
}
