import CaseManagement
public import ChainOfCustody
import Foundation

/// The court documents of a case (DESIGN §21): the certificate of authenticity,
/// the exhibit list and one exhibit sheet per exhibit, each as its own HTML file
/// and all together in `court.html` (a table of contents, then each document on new
/// pages) from which the PDF is printed; `certificate.json` and `certificate.sig`
/// state and sign the facts and the sha256 of every document.
///
/// Same rules as the report (``CaseReport``): every value from evidence is escaped,
/// no script, nothing external (pictures are `data:` URIs), no time of generation,
/// so the same ledger gives the same bytes.
public enum CourtDocuments {
    /// Turns the whole set's HTML into a PDF (headless Chromium; see CaseReplay's
    /// `CourtPrinter`). `footer` is the text every page's footer carries besides the
    /// page number.
    public typealias Printer = @Sendable (_ html: [UInt8], _ footer: String) throws(ExhibitError) -> [UInt8]

    public static let folder = "court"
    public static let wholeSet = "court.html"
    public static let pdf = "court.pdf"

    /// What the documents are made from.
    struct Input {
        var facts: BundleFacts
        var entries: [LedgerEntry]
        var certifier: CourtCertificate.Certifier
        var signer: SigningKey
        var template: (text: String, origin: String)
        var zone: CourtZone
        /// A file of the bag by its path from the bag's top (`data/blobs/…`).
        var file: (String) -> [UInt8]?
    }

    /// The documents, by path inside the court folder, with certificate.json and .sig last.
    static func make(_ input: Input, printer: Printer?) throws(ExhibitError) -> [(String, [UInt8])] {
        let facts = CourtCertificate.facts(
            entries: input.entries, agency: input.facts.agency, title: input.facts.title, certifier: input.certifier,
            verification: input.facts.verification, zone: input.zone)
        let numbered = ExhibitNumbers.assigned(input.entries)
        var renders = input.facts.renders
        if renders.isEmpty { renders = BundleFacts.renders(in: input.entries, artifacts: input.facts.artifacts) }
        var texts: [Int64: [UInt8]] = [:]
        for entry in input.entries {
            if let bytes = try? entry.subject?.canonicalBytes() { texts[entry.seq] = bytes }
        }
        let entryBySeq = Dictionary(input.entries.map { (Int($0.seq), $0) }, uniquingKeysWith: { first, _ in first })
        let names = numbered.reduce(into: Set<String>()) { all, item in
            all.formUnion(Page.needles(item, entry: entryBySeq[Page.seq(of: item)]))
        }
        let page = Page(input: input, facts: facts, numbered: numbered, renders: renders,
                        naming: SubstringIndex(patterns: names, texts: texts), entryBySeq: entryBySeq,
                        indicesBySeq: Dictionary(grouping: input.entries.indices, by: { input.entries[$0].seq }),
                        caseWideIndices: input.entries.indices.filter { Page.caseWide.contains(input.entries[$0].action) },
                        artifactByID: Dictionary(input.facts.artifacts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
                        exhibitByNumber: Page.exhibitsByNumber(facts),
                        numbersByEntry: Page.numbersByEntry(input.entries))

        let certificate = try page.certificate()
        let list = page.exhibitList()
        var sheets: [(String, String)] = []
        for item in numbered { sheets.append((item.number, page.sheet(item))) }

        var files: [(String, [UInt8])] = []
        files.append(("certificate.html", page.document("Certificate of authenticity", certificate)))
        files.append(("exhibit-list.html", page.document("Exhibit list", list)))
        for (number, sheet) in sheets { files.append(("exhibits/\(number).html", page.document("Exhibit \(number)", sheet))) }
        let whole = page.wholeSet(certificate: certificate, list: list, sheets: sheets)
        files.append((wholeSet, whole))
        if let printer {
            files.append((pdf, try printer(whole, "\(input.facts.caseID) — \(input.facts.agency)")))
        }
        var documents: [String: String] = [:]
        for (name, bytes) in files { documents[name] = Digest.sha256Hex(bytes) }
        let (json, signature) = try CourtCertificate.signed(facts, documents: documents, key: input.signer)
        files.append((CourtCertificate.factsFile, json))
        files.append((CourtCertificate.signatureFile, signature))
        return files
    }

    /// HTML of each part; values from evidence go through ``CaseReport/text(_:multiline:url:)``.
    struct Page {
        let input: Input
        let facts: [String: JSONValue]
        let numbered: [ExhibitNumbers.Item]
        let renders: [BundleFacts.Render]
        /// Which entries' subjects (as canonical JSON text) name each item.
        let naming: SubstringIndex
        let entryBySeq: [Int: LedgerEntry]
        /// Positions in `input.entries` by seq, and of the case-wide custody acts.
        let indicesBySeq: [Int64: [Int]]
        let caseWideIndices: [Int]
        let artifactByID: [String: BundleFacts.Artifact]
        /// The certificate facts' `exhibits` members by number (the list, the certificate
        /// and the contents look up three facts of every exhibit).
        let exhibitByNumber: [String: JSONValue]
        /// Per exhibit-number entry (by seq): the numbers it gives each artifact, in the
        /// entry's order, and how many it gives in all (every sheet's custody table
        /// summarises the entry that may number thousands at once).
        let numbersByEntry: [Int64: (byArtifact: [String: [String]], count: Int)]

        var caseID: String { input.facts.caseID }
        func text(_ value: String) -> String { CaseReport.text(value) }
        func url(_ value: String) -> String { CaseReport.text(value, url: true) }

        static let style = """
        body{font:11pt/1.45 "DejaVu Serif",Georgia,serif;color:#000;margin:2em auto;max-width:60em;padding:0 1em}
        h1{font-size:17pt;margin:0 0 .3em}h2{font-size:13pt;margin:1.2em 0 .3em}
        .meta{color:#333}code,.hash{font:9pt "DejaVu Sans Mono",monospace;word-break:break-all}
        table{border-collapse:collapse;width:100%;margin:.4em 0;font-size:10pt}
        th,td{border:1px solid #999;padding:3px 5px;text-align:left;vertical-align:top}
        th{background:#eee;width:14em}table.list th{width:auto}table.list td:first-child{white-space:nowrap}
        table.list td.hash{white-space:nowrap;font-size:7pt}table.list td.item{word-break:break-all}
        section.doc{page-break-before:always;break-before:page}section.doc:first-of-type{page-break-before:auto}
        img.shot{max-width:100%;border:1px solid #666;margin:.4em 0}
        nav ol{line-height:1.8}.mark{font-family:monospace;background:#fdd}
        @media print{body{margin:0;max-width:none}a{color:#000;text-decoration:none}}
        """

        func document(_ title: String, _ body: String) -> [UInt8] {
            Array(("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
            <title>\(CaseReport.plain("\(caseID) — \(title)"))</title>
            <style>\(Self.style)</style>
            </head>
            <body>

            """ + body + "</body>\n</html>\n").utf8)
        }

        func wholeSet(certificate: String, list: String, sheets: [(String, String)]) -> [UInt8] {
            var body = "<section class=\"doc\" id=\"contents\">\n<h1>Court documents — case \(text(caseID))</h1>\n"
            body += "<p class=\"meta\">\(text(input.facts.agency)) — \(text(input.facts.title))</p>\n"
            body += "<nav><h2>Contents</h2>\n<ol>\n<li><a href=\"#certificate\">Certificate of authenticity</a></li>\n"
            body += "<li><a href=\"#exhibit-list\">Exhibit list</a> (\(numbered.count) exhibit\(numbered.count == 1 ? "" : "s"))</li>\n"
            for item in numbered {
                body += "<li><a href=\"#\(item.number)\">Exhibit \(item.number)</a> — \(url(source(item)))</li>\n"
            }
            body += "</ol></nav>\n<p>Every page's footer names the case and the page. certificate.json states the sha256 of "
            body += "this file and of every other document, signed by the certifying actor (docs/court.md).</p>\n</section>\n"
            body += "<section class=\"doc\" id=\"certificate\">\n\(certificate)</section>\n"
            body += "<section class=\"doc\" id=\"exhibit-list\">\n\(list)</section>\n"
            for (number, sheet) in sheets { body += "<section class=\"doc\" id=\"\(number)\">\n\(sheet)</section>\n" }
            return document("Court documents", body)
        }

        func source(_ item: ExhibitNumbers.Item) -> String {
            exhibitFact(item.number, "source")?.stringValue ?? ""
        }

        func exhibitFact(_ number: String, _ key: String) -> JSONValue? {
            exhibitByNumber[number]?[key]
        }

        /// The first `exhibits` member of each number, as a search from the front finds it.
        static func exhibitsByNumber(_ facts: [String: JSONValue]) -> [String: JSONValue] {
            var byNumber: [String: JSONValue] = [:]
            for exhibit in facts["exhibits"]?.arrayValue ?? [] {
                guard let number = exhibit["number"]?.stringValue, byNumber[number] == nil else { continue }
                byNumber[number] = exhibit
            }
            return byNumber
        }

        static func numbersByEntry(_ entries: [LedgerEntry]) -> [Int64: (byArtifact: [String: [String]], count: Int)] {
            var result: [Int64: (byArtifact: [String: [String]], count: Int)] = [:]
            for entry in entries where entry.action == ExhibitNumbers.action {
                guard let all = entry.subject?["numbers"]?.arrayValue else { continue }
                var byArtifact: [String: [String]] = [:]
                for value in all {
                    guard let number = value["number"]?.stringValue, let artifact = value["artifact"]?.stringValue else { continue }
                    byArtifact[artifact, default: []].append("\(number) = \(artifact)")
                }
                result[entry.seq] = (byArtifact, all.count)
            }
            return result
        }

        // MARK: the certificate

        func certificate() throws(ExhibitError) -> String {
            let custodian = facts["custodian"]
            let system = facts["system"]
            let ledger = facts["ledger"]
            let verification = facts["verification"]
            let intact = verification?["intact"]?.boolValue == true
            var timestamps = ""
            let stamps = facts["timestamps"]?.arrayValue ?? []
            if stamps.isEmpty {
                timestamps = "<p>No trusted (RFC 3161) timestamp has been obtained over this ledger.</p>\n"
            } else {
                timestamps = "<p>Trusted timestamps (RFC 3161) were obtained over the ledger:</p>\n<ul>\n"
                for stamp in stamps {
                    timestamps += "<li>ledger entry \(stamp["covers_seq"]?.intValue ?? 0) (head <code>\(text(stamp["ledger_head"]?.stringValue ?? ""))</code>) "
                    timestamps += "stamped \(text(stamp["gen_time"]?.stringValue ?? "")) by \(url(stamp["tsa"]?.stringValue ?? "")); "
                    timestamps += "token <code>\(text(stamp["token"]?.stringValue ?? ""))</code>, sha256 <code>\(text(stamp["token_sha256"]?.stringValue ?? ""))</code>, "
                    timestamps += "recorded in entry \(stamp["entry_seq"]?.intValue ?? 0)</li>\n"
                }
                timestamps += "</ul>\n"
            }
            var table = "<table class=\"list\">\n<tr><th>Exhibit</th><th>Item</th><th>SHA-256</th><th>Hashed (UTC)</th></tr>\n"
            for item in numbered {
                table += "<tr><td>\(item.number)</td><td class=\"item\">\(url(source(item)))</td>"
                table += "<td class=\"hash\">\(text(exhibitFact(item.number, "sha256")?.stringValue ?? ""))</td>"
                table += "<td>\(text(exhibitFact(item.number, "hashed_at")?.stringValue ?? ""))</td></tr>\n"
            }
            table += "</table>\n"
            let kinds = Set(numbered.map(\.kind))
            var method = ""
            for kind in ["capture", "import"] where kinds.contains(kind) {
                method += "\(kind == "import" ? "Imported files" : "Captured web responses"): \(text(CourtCertificate.hashMethod(kind: kind))). "
            }
            if method.isEmpty { method = "No item has been recorded yet." }
            let keyDigest = custodian?["public_key_sha256"]?.stringValue ?? ""
            let signature = """
            <p>The facts above, with the SHA-256 of every document of this set, are stated in <code>certificate.json</code>
            (canonical JSON, RFC 8785). <code>certificate.sig</code> is my Ed25519 signature over those bytes, made with the key of
            actor \(text(custodian?["actor"]?.stringValue ?? "")) whose public key (PEM) has the SHA-256 digest <code>\(text(keyDigest))</code>
            and which signs entries of the custody ledger. Anyone can check it with OpenSSL, without Exhibit (docs/court.md).</p>
            <p>Signature line: <em>Ed25519 signature in certificate.sig</em> — \(text(custodian?["name"]?.stringValue ?? "")), badge \(text(custodian?["badge"]?.stringValue ?? "")).</p>

            """
            let result = intact
                ? "the custody ledger's \(verification?["entries"]?.intValue ?? 0) entries, their signatures, every evidence file and every WARC record matched, with no finding (\(text(verification?["checks"]?.stringValue ?? "")))."
                : "the case did not verify (\(verification?["findings"]?.intValue ?? 0) findings)."
            let zone = facts["time_zone"]
            let values: [String: String] = [
                "agency": text(input.facts.agency),
                "case.id": text(caseID),
                "case.title": text(input.facts.title),
                "custodian.name": text(custodian?["name"]?.stringValue ?? ""),
                "custodian.badge": text(custodian?["badge"]?.stringValue ?? ""),
                "custodian.actor": text(custodian?["actor"]?.stringValue ?? ""),
                "custodian.roles": text((custodian?["roles"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")),
                "system.software": text(system?["software"]?.stringValue ?? ""),
                "system.version": text(system?["version"]?.stringValue ?? ""),
                "system.binary_sha256": text(system?["binary_sha256"]?.stringValue ?? ""),
                "hash_method": method,
                "time_zone": text("\(zone?["name"]?.stringValue ?? "UTC") (\(zone?["source"]?.stringValue ?? ""))"),
                "ledger.entries": String(ledger?["entries"]?.intValue ?? 0),
                "ledger.head": text(ledger?["head"]?.stringValue ?? ""),
                "ledger.last_entry_time": text(ledger?["last_entry_time"]?.stringValue ?? ""),
                "timestamps": timestamps,
                "verification.result": result,
                "exhibits.count": String(numbered.count),
                "exhibits.table": table,
                "signature": signature,
            ]
            return try CourtTemplate.fill(input.template.text, origin: input.template.origin, values: values)
        }

        // MARK: the exhibit list

        func exhibitList() -> String {
            var html = "<h1>Exhibit list — case \(text(caseID))</h1>\n<p class=\"meta\">\(text(input.facts.agency)) — \(text(input.facts.title))</p>\n"
            html += "<p>Exhibit numbers are assigned once, in the custody ledger (<code>exhibit-number</code> entries), and never change between exports.</p>\n"
            html += "<table class=\"list\">\n<tr><th>Exhibit</th><th>Artifact</th><th>Kind</th><th>Item</th><th>Recorded (UTC)</th><th>SHA-256</th></tr>\n"
            for item in numbered {
                html += "<tr><td><a href=\"#\(item.number)\">\(item.number)</a></td><td>\(text(item.artifact))</td><td>\(text(item.kind))</td>"
                html += "<td class=\"item\">\(url(source(item)))</td><td>\(text(exhibitFact(item.number, "hashed_at")?.stringValue ?? ""))</td>"
                html += "<td class=\"hash\">\(text(exhibitFact(item.number, "sha256")?.stringValue ?? ""))</td></tr>\n"
            }
            return html + "</table>\n"
        }

        // MARK: one exhibit sheet

        func sheet(_ item: ExhibitNumbers.Item) -> String {
            let seq = Self.seq(of: item)
            let entry = entryBySeq[seq]
            let subject = entry?.subject
            let artifact = artifactByID[item.artifact]
            func row(_ heading: String, _ value: String) -> String { "<tr><th>\(text(heading))</th><td>\(value)</td></tr>\n" }
            func string(_ key: String) -> String? { subject?[key]?.stringValue }
            var html = "<h1>Exhibit \(item.number)</h1>\n<p class=\"meta\">Case \(text(caseID)) — artifact \(text(item.artifact)) (\(text(item.kind)))</p>\n<table>\n"
            let time = entry?.time ?? ""
            if item.kind == "capture" {
                html += row("URL", url(string("url") ?? ""))
                if let final = string("final_url"), final != string("url") { html += row("Final URL", url(final)) }
                html += row("HTTP status", String(subject?["status"]?.intValue ?? 0))
                if let type = string("content_type") { html += row("Content type", text(type)) }
                let captured = string("ended") ?? time
                html += row("Captured (UTC)", text(captured))
                html += row("Captured (\(input.zone.name))", text(input.zone.local(captured)) + (input.zone.name == "UTC" ? " — the workspace names no time zone, so UTC is shown" : ""))
                html += row("Server IP address", text(string("ip") ?? "not recorded"))
                let tls = subject?["tls"]
                if let tls, tls != .null {
                    var tlsText = "\(text(tls["version"]?.stringValue ?? "")) \(text(tls["cipher"]?.stringValue ?? ""))"
                    if let subjectName = tls["subject"]?.stringValue { tlsText += "<br>certificate: \(text(subjectName))" }
                    for (index, fingerprint) in (tls["chain_sha256"]?.arrayValue ?? []).enumerated() {
                        tlsText += "<br>chain[\(index)] sha256 <code>\(text(fingerprint.stringValue ?? ""))</code>"
                    }
                    html += row("TLS", tlsText)
                } else {
                    html += row("TLS", "none (plain HTTP)")
                }
                html += row("Payload SHA-256", "<code>\(text(string("payload_sha256") ?? ""))</code>")
                if let md5 = artifact?.md5 { html += row("Payload MD5", "<code>\(text(md5))</code>") }
                if let size = subject?["payload_length"]?.intValue { html += row("Payload size", "\(size) bytes") }
                if let warc = subject?["warc"] {
                    html += row("WARC file", "\(text(warc["file"]?.stringValue ?? "")), sha256 <code>\(text(warc["sha256"]?.stringValue ?? ""))</code>")
                }
                var records = ""
                for record in subject?["records"]?.arrayValue ?? [] {
                    records += "\(text(record["type"]?.stringValue ?? "")) \(text(record["id"]?.stringValue ?? "")) <code>\(text(record["block_digest"]?.stringValue ?? ""))</code><br>"
                }
                if !records.isEmpty { html += row("WARC records (block digests)", records) }
            } else {
                html += row("File", text(string("file_name") ?? ""))
                html += row("Kind", text(string("kind") ?? ""))
                html += row("SHA-256", "<code>\(text(string("sha256") ?? ""))</code>")
                if let size = subject?["size"]?.intValue { html += row("Size", "\(size) bytes") }
                html += row("Taken in (UTC)", text(time))
                html += row("Taken in (\(input.zone.name))", text(input.zone.local(time)))
            }
            html += row("Recorded in ledger entry", "\(seq), hash <code>\(text(entry?.hash ?? ""))</code>")
            html += "</table>\n"
            if item.kind == "import" {
                html += "<h2>Intake statement</h2>\n<table>\n"
                html += row("Source", text(string("source") ?? ""))
                html += row("Received from", text(string("received_from") ?? "not stated"))
                html += row("Received at", text(string("received_at") ?? "not stated"))
                html += row("Received by", text(string("receiver") ?? entry?.actor ?? ""))
                if let check = subject?["check"] { html += row("What the check found", text(check.stringValue ?? ((try? check.canonicalBytes()).map { String(decoding: $0, as: UTF8.self) } ?? ""))) }
                html += "</table>\n"
            }
            html += screenshot(item)
            html += custody(item, entry: entry)
            return html
        }

        /// The latest render's screenshot of the page, embedded (at most 4 MiB).
        func screenshot(_ item: ExhibitNumbers.Item) -> String {
            guard let render = renders.last(where: { $0.artifact == item.artifact }), let shot = render.screenshot else {
                return item.kind == "capture" ? "<h2>Screenshot</h2>\n<p>No screenshot: the page was not rendered (<code>exhibit render</code>).</p>\n" : ""
            }
            var html = "<h2>Screenshot</h2>\n<p>Rendered by replaying the archived page (ledger entry \(render.seq), \(text(render.time)) UTC); "
            html += "PNG sha256 <code>\(text(shot.sha256))</code>.</p>\n"
            if let bytes = input.file(shot.path), bytes.count <= 4 << 20, Digest.sha256Hex(bytes) == shot.sha256 {
                html += "<img class=\"shot\" alt=\"Screenshot of exhibit \(item.number)\" src=\"data:image/png;base64,\(Data(bytes).base64EncodedString())\">\n"
            } else {
                html += "<p>The screenshot (\(text(shot.path))) is not embedded: it is larger than 4 MiB or not in this set.</p>\n"
            }
            return html
        }

        /// The custody entries that touched the item: those naming it (its id, a record
        /// of it, its digest) and the case-wide custody acts after it was recorded.
        func custody(_ item: ExhibitNumbers.Item, entry: LedgerEntry?) -> String {
            let seq = Self.seq(of: item)
            let naming = Self.needles(item, entry: entry).reduce(into: Set<Int64>()) { $0.formUnion(self.naming.texts(containing: $1)) }
            var html = "<h2>Chain of custody</h2>\n<table class=\"list\">\n<tr><th>Entry</th><th>Time (UTC)</th><th>Actor</th><th>Action</th><th>What</th></tr>\n"
            // The entry itself, the later entries naming the item, and the later case-wide acts, in ledger order.
            var rows = Set(indicesBySeq[Int64(seq)] ?? [])
            for named in naming where Int(named) > seq { rows.formUnion(indicesBySeq[named] ?? []) }
            for index in caseWideIndices where Int(input.entries[index].seq) > seq { rows.insert(index) }
            for index in rows.sorted() {
                let candidate = input.entries[index]
                guard Int(candidate.seq) == seq || candidate.subject != nil else { continue }
                html += "<tr><td>\(candidate.seq)</td><td>\(text(candidate.time))</td><td>\(text(actorLabel(candidate.actor)))</td>"
                html += "<td>\(text(candidate.action))</td><td>\(text(summary(candidate, for: item)))</td></tr>\n"
            }
            return html + "</table>\n"
        }

        /// Custody acts that concern every item of the case.
        static let caseWide: Set<String> = ["verify", "timestamp", "transfer", "export", "hold", "release", "close"]

        /// The ledger seq of the entry that recorded the item (`A-0012` → 12; 0 for an item of an import).
        static func seq(of item: ExhibitNumbers.Item) -> Int {
            Int(item.artifact.dropFirst(2)) ?? 0
        }

        /// What names the item in a ledger subject: its id, its digest and its records' ids.
        static func needles(_ item: ExhibitNumbers.Item, entry: LedgerEntry?) -> [String] {
            var needles = [item.artifact, item.sha256].filter { !$0.isEmpty }
            for record in entry?.subject?["records"]?.arrayValue ?? [] { if let id = record["id"]?.stringValue { needles.append(id) } }
            return needles
        }

        /// What `entry` did, as the sheet of `item` tells it: an exhibit-number entry
        /// names the item's own number (it may number thousands at once).
        func summary(_ entry: LedgerEntry, for item: ExhibitNumbers.Item) -> String {
            guard let subject = entry.subject else { return FactsCollector.summary(entry) }
            switch entry.action {
            case ExhibitNumbers.action:
                let numbered = numbersByEntry[entry.seq]
                let numbers = numbered?.byArtifact[item.artifact] ?? []
                let others = (numbered?.count ?? 0) - numbers.count
                return "exhibit numbers assigned: " + numbers.joined(separator: ", ")
                    + (others > 0 ? " (and \(others) other\(others == 1 ? "" : "s") in the same entry)" : "")
            case "render":
                return "rendered \(subject["source"]?["url"]?.stringValue ?? "the page") from its WARC record as a screenshot and a PDF"
            case "import":
                return "took in \(subject["file_name"]?.stringValue ?? "a file") (sha256 \(subject["sha256"]?.stringValue ?? "")) from: \(subject["source"]?.stringValue ?? "")"
            default:
                return FactsCollector.summary(entry)
            }
        }

        func actorLabel(_ id: String) -> String {
            guard let person = input.facts.actors.first(where: { $0.id == id }) else { return id }
            return "\(person.name) (\(id), badge \(person.badge))"
        }
    }
}
