/// Collects the nodes of one case's graph in three sections (people and tool, observables,
/// actions with their records) so that the document reads top-down in the order a reader
/// needs: who and with what, on what, then what happened in order.
struct GraphBuilder {
    let facts: BundleFacts
    /// Files of the payload by path; the first wins should a path appear twice.
    private let files: [String: BundleFacts.File]

    private var agents: [LD] = []
    private var observables: [LD] = []
    private var actions: [LD] = []

    private var personIDs: [String: String] = [:]
    private var fileIDs: Set<String> = []
    private var urlIDs: [String: (url: String, target: String)] = [:]

    init(facts: BundleFacts) {
        self.facts = facts
        var files: [String: BundleFacts.File] = [:]
        for file in facts.files where files[file.path] == nil { files[file.path] = file }
        self.files = files
    }

    /// `kb:<kind>-<uuid>`, the UUID derived from the case id, the kind and the node's name.
    /// Case ids and kinds hold no `/`, so the joined name is unambiguous.
    func id(_ kind: String, _ name: String) -> String {
        "kb:\(kind)-\(ProvenanceGraph.uuid5("\(facts.caseID)/\(kind)/\(name)"))"
    }

    mutating func build() -> [LD] {
        addPeople()
        let tool = addTool()
        let exhibits = addCaptures(tool: tool)
        addImports(tool: tool, exhibits: exhibits)
        addCustody(tool: tool, exhibits: exhibits)

        var investigation: [(String, LD)] = [
            ("@id", .string(id("investigation", facts.caseID))),
            ("@type", "case-investigation:Investigation"),
            ("uco-core:name", .string(facts.caseID)),
            ("uco-core:description", .string(facts.title)),
            // Plain strings: typed with InvestigationFormVocab they are a Warning in 1.4.
            ("case-investigation:investigationForm", "case"),
            ("case-investigation:investigationStatus", .string(facts.status)),
            ("case-investigation:focus", .string(facts.categoryTitle)),
            ("uco-core:startTime", dateTime(facts.openedAt)),
        ]
        if let closedAt = facts.closedAt { investigation.append(("uco-core:endTime", dateTime(closedAt))) }
        // Every top-level node is a UcoObject, and the investigation lists them all. Facets
        // and hashes are not UcoObjects and must not be listed (sh:class Violation); they are
        // nested inside their nodes, so they are not in this list.
        let nodes = agents + observables + actions
        investigation.append(("uco-core:object", .array(nodes.map { ref($0.id!) })))
        return [.object(investigation)] + nodes
    }

    // MARK: People and tool

    /// A Person per actor, and each role they hold as a Role linked by a `Has_Role`
    /// relationship: an action can have only one performer (maxCount 1), so the role cannot
    /// be a second performer. Actors that acted but are missing from `facts.actors` still get
    /// a Person (named by their id), because a reference to an untyped node is a Violation.
    private mutating func addPeople() {
        var roles: [String] = []
        for actor in facts.actors {
            addPerson(actor.id, name: actor.name, description: "Exhibit actor \(actor.id), badge \(actor.badge)")
            for role in actor.roles where !roles.contains(role) { roles.append(role) }
        }
        var roleIDs: [String: String] = [:]
        for role in roles {
            let roleID = id("role", role)
            roleIDs[role] = roleID
            // CASE has a class for investigators; Exhibit's other roles (custodian, analyst,
            // supervisor, decision-maker) have none, so they are plain UCO roles with a name.
            let type = role == "investigator" ? "case-investigation:Investigator" : "uco-role:Role"
            add(.agents, [("@id", .string(roleID)), ("@type", .string(type)), ("uco-core:name", .string(role))])
        }
        for actor in facts.actors {
            for role in actor.roles.uniqued() {
                add(.agents, [
                    ("@id", .string(id("relationship", "has-role/\(actor.id)/\(role)"))),
                    ("@type", "uco-core:Relationship"),
                    ("uco-core:source", ref(personIDs[actor.id]!)),
                    ("uco-core:target", ref(roleIDs[role]!)),
                    ("uco-core:kindOfRelationship", "Has_Role"),
                    ("uco-core:isDirectional", .bool(true)),
                ])
            }
        }
        let acting = facts.artifacts.map(\.actor)
            + facts.timeline.filter { ProvenanceGraph.custodyActions.contains($0.action) || $0.action == "import" }.map(\.actor)
        for actor in acting where personIDs[actor] == nil {
            addPerson(actor, name: actor, description: "Exhibit actor \(actor), not among the bundle's actors")
        }
    }

    private mutating func addPerson(_ actorID: String, name: String, description: String) {
        let personID = id("person", actorID)
        personIDs[actorID] = personID
        add(.agents, [
            ("@id", .string(personID)),
            ("@type", "uco-identity:Person"),
            ("uco-core:name", .string(name)),
            ("uco-core:description", .string(description)),
        ])
    }

    private mutating func addTool() -> String {
        let toolID = id("tool", "\(facts.toolName)/\(facts.toolVersion)")
        add(.agents, [
            ("@id", .string(toolID)),
            ("@type", "uco-tool:Tool"),
            ("uco-core:name", .string(facts.toolName)),
            ("uco-tool:version", .string(facts.toolVersion)),
            ("uco-tool:toolType", "Web evidence capture"),
        ])
        return toolID
    }

    // MARK: Observables

    /// The URL observable of an address, once per address however often it was captured,
    /// with the record of the `designate-target` action that produced it.
    private mutating func url(_ address: String) -> (url: String, target: String) {
        if let known = urlIDs[address] { return known }
        let urlID = id("url", address)
        add(.observables, [
            ("@id", .string(urlID)),
            ("@type", "uco-observable:URL"),
            ("uco-core:hasFacet", .array([.object([
                ("@id", .string(id("url-facet", address))),
                ("@type", "uco-observable:URLFacet"),
                ("uco-observable:fullValue", .string(address)),
            ])])),
        ])
        let known = (url: urlID, target: id("provenance-record", "target/\(address)"))
        urlIDs[address] = known
        return known
    }

    /// A File observable for an evidence file of the payload, once per path (one WARC file
    /// holds many artifacts). Without a digest or size the file is still named, so that the
    /// capture's result stays complete, but no content facet claims what nobody measured.
    private mutating func file(path: String, size: Int64?, sha256: String?, mediaType: String?) -> String {
        let fileID = id("file", path)
        guard fileIDs.insert(fileID).inserted else { return fileID }
        var fileFacet: [(String, LD)] = [
            ("@id", .string(id("file-facet", path))),
            ("@type", "uco-observable:FileFacet"),
            ("uco-observable:fileName", .string(String(path.split(separator: "/").last ?? Substring(path)))),
            ("uco-observable:filePath", .string(path)),
        ]
        var content: [(String, LD)] = [
            ("@id", .string(id("content-data-facet", path))),
            ("@type", "uco-observable:ContentDataFacet"),
        ]
        if let size {
            fileFacet.append(("uco-observable:sizeInBytes", .integer(size)))
            content.append(("uco-observable:sizeInBytes", .integer(size)))
        }
        if let mediaType { content.append(("uco-observable:mimeType", .string(mediaType))) }
        if let sha256 { content.append(("uco-observable:hash", .array([hash(path, "SHA256", sha256)]))) }
        var facets: [LD] = [.object(fileFacet)]
        if size != nil || sha256 != nil { facets.append(.object(content)) }
        add(.observables, [("@id", .string(fileID)), ("@type", "uco-observable:File"), ("uco-core:hasFacet", .array(facets))])
        return fileID
    }

    /// A `types:Hash`, with an IRI of its own (a blank-node hash is a Violation).
    private func hash(_ owner: String, _ method: String, _ value: String) -> LD {
        .object([
            ("@id", .string(id("hash", "\(owner)/\(method)"))),
            ("@type", "uco-types:Hash"),
            // "SHA256"/"MD5" exactly, untyped: "SHA-256" is not in HashNameVocab (Info), and
            // typing the name with HashNameVocab is a Warning in UCO 1.4.
            ("uco-types:hashMethod", .string(method)),
            ("uco-types:hashValue", typed("xsd:hexBinary", value)),
        ])
    }

    /// The files an artifact lives in: its WARC file and, for media, its blob. Sizes and
    /// digests come from the payload's file list; a blob missing there falls back to the
    /// artifact's payload size and digest, which are the blob's content.
    private mutating func evidence(of artifact: BundleFacts.Artifact) -> (warc: String?, blob: String?) {
        var warc: String?
        var blob: String?
        if let path = artifact.warcPath {
            let known = files[path]
            warc = file(path: path, size: known?.size, sha256: known?.sha256, mediaType: nil)
        }
        if let path = artifact.blobPath {
            let known = files[path]
            blob = file(
                path: path, size: known?.size ?? artifact.size, sha256: known?.sha256 ?? artifact.sha256,
                mediaType: mediaType(artifact.contentType))
        }
        return (warc, blob)
    }

    /// The response payload an artifact recorded (as sent, de-chunked) as ContentData with
    /// the digests the ledger holds for it. A page has no file of its own, so without this
    /// node the graph would not carry the digest of what was captured, only of the WARC file
    /// around it; a `Contained_Within` relationship says which WARC file that is.
    private mutating func payload(of artifact: BundleFacts.Artifact, in warc: String?) -> String? {
        guard artifact.sha256 != nil || artifact.md5 != nil || artifact.size != nil else { return nil }
        let owner = "payload/\(artifact.id)"
        var facet: [(String, LD)] = [
            ("@id", .string(id("content-data-facet", owner))),
            ("@type", "uco-observable:ContentDataFacet"),
        ]
        if let size = artifact.size { facet.append(("uco-observable:sizeInBytes", .integer(size))) }
        if let mediaType = mediaType(artifact.contentType) { facet.append(("uco-observable:mimeType", .string(mediaType))) }
        // MD5 too when recorded: legacy forensic tools quote it (DESIGN §8).
        let hashes = [artifact.sha256.map { hash(owner, "SHA256", $0) }, artifact.md5.map { hash(owner, "MD5", $0) }].compactMap { $0 }
        if !hashes.isEmpty { facet.append(("uco-observable:hash", .array(hashes))) }
        let payloadID = id("content-data", artifact.id)
        add(.observables, [
            ("@id", .string(payloadID)),
            ("@type", "uco-observable:ContentData"),
            ("uco-core:description", .string("Response payload of \(artifact.id)")),
            ("uco-core:hasFacet", .array([.object(facet)] + mediaFacets(of: artifact))),
        ])
        addMediaAnnotation(of: artifact, payload: payloadID)
        if let warc {
            add(.observables, [
                ("@id", .string(id("relationship", "contained-within/\(artifact.id)"))),
                ("@type", "uco-core:Relationship"),
                ("uco-core:source", ref(payloadID)),
                ("uco-core:target", ref(warc)),
                ("uco-core:kindOfRelationship", "Contained_Within"),
                ("uco-core:isDirectional", .bool(true)),
            ])
        }
        return payloadID
    }

    // MARK: Actions

    /// Where an exhibit's chain stands: its latest record, the action that produced it, and
    /// its items, files and payload (every later record lists the same items).
    struct Exhibit {
        var artifact: BundleFacts.Artifact
        var items: [String]
        var record: String
        var producer: String
    }

    /// One capture per artifact, each preceded (once per address) by the `designate-target`
    /// action that names the URL.
    private mutating func addCaptures(tool: String) -> [Exhibit] {
        var exhibits: [Exhibit] = []
        var designated: Set<String> = []
        for artifact in facts.artifacts {
            if artifact.role == "imported" {
                // Received, not captured: no target was designated; the import action produced it.
                let (warc, blob) = evidence(of: artifact)
                let items = [warc, blob, payload(of: artifact, in: warc)].compactMap { $0 }
                let record = id("provenance-record", "\(artifact.id)/import")
                add(.actions, provenanceRecord(record, exhibit: artifact.id, items: items, description: "\(artifact.id) as received (\(artifact.url))"))
                exhibits.append(Exhibit(artifact: artifact, items: items, record: record,
                                        producer: id("investigative-action", "import/\(artifact.seq)")))
                continue
            }
            let start = artifact.started ?? artifact.ended
            let performer = personIDs[artifact.actor]!
            let (urlID, targetRecord) = url(artifact.url)
            let targetAction = id("investigative-action", "designate-target/\(artifact.url)")
            if designated.insert(artifact.url).inserted {
                // No object and no instrument: the actor named the address to the capture
                // command, which is where this chain starts.
                add(.actions, [
                    ("@id", .string(targetAction)),
                    ("@type", "case-investigation:InvestigativeAction"),
                    ("uco-core:name", "designate-target"),
                    ("uco-core:description", .string("\(artifact.url) named as a capture target")),
                    ("uco-action:startTime", dateTime(start)),
                    ("uco-action:endTime", dateTime(start)),
                    ("uco-action:performer", ref(performer)),
                    ("uco-action:result", .array([ref(urlID), ref(targetRecord)])),
                ])
                add(.actions, [
                    ("@id", .string(targetRecord)),
                    ("@type", "case-investigation:ProvenanceRecord"),
                    ("uco-core:description", .string("Capture target \(artifact.url)")),
                    ("uco-core:object", .array([ref(urlID)])),
                ])
            }

            let (warc, blob) = evidence(of: artifact)
            let items = [warc, blob, payload(of: artifact, in: warc)].compactMap { $0 }
            let captureID = id("investigative-action", "capture/\(artifact.id)")
            let record = id("provenance-record", "\(artifact.id)/capture")
            var description = "Captured \(artifact.url) (HTTP \(artifact.status))"
            if let final = artifact.finalURL, final != artifact.url { description += ", redirected to \(final)" }
            add(.actions, [
                ("@id", .string(captureID)),
                ("@type", "case-investigation:InvestigativeAction"),
                ("uco-core:name", "capture"),
                ("uco-core:description", .string(description)),
                ("uco-action:startTime", dateTime(start)),
                ("uco-action:endTime", dateTime(artifact.ended)),
                ("uco-action:performer", ref(performer)),
                ("uco-action:instrument", ref(tool)),
                ("uco-action:object", .array([ref(targetRecord), ref(urlID)])),
                ("uco-action:result", .array((items + [record]).map(ref))),
                ("case-investigation:wasInformedBy", .array([ref(targetAction)])),
            ])
            add(.actions, provenanceRecord(
                record, exhibit: artifact.id, items: items, description: "\(artifact.id) as captured from \(artifact.url)"))
            exhibits.append(Exhibit(artifact: artifact, items: items, record: record, producer: captureID))
        }
        return exhibits
    }

    /// The custody actions in ledger order. Each takes the latest record of every exhibit
    /// captured before it (by ledger seq, so captures between custody actions join the chain
    /// where they happened) and returns a new record per exhibit; it was informed by the
    /// actions that produced those records and by the custody action before it.
    /// Evidence taken in from outside (`exhibit import`, docs/import.md): one `import`
    /// action per entry, performed by the receiver, described by what was received,
    /// from whom and what the check found.
    private mutating func addImports(tool: String, exhibits: [Exhibit]) {
        for event in facts.timeline where event.action == "import" {
            let received = exhibits.filter { $0.artifact.role == "imported" && $0.artifact.seq == event.seq }.map(\.record)
            var action: [(String, LD)] = [
                ("@id", .string(id("investigative-action", "import/\(event.seq)"))),
                ("@type", "case-investigation:InvestigativeAction"),
                ("uco-core:name", "import"),
                ("uco-core:description", .string(event.summary)),
                ("uco-action:startTime", dateTime(event.time)),
                ("uco-action:endTime", dateTime(event.time)),
                ("uco-action:performer", ref(personIDs[event.actor]!)),
                ("uco-action:instrument", ref(tool)),
            ]
            if !received.isEmpty { action.append(("uco-action:result", .array(received.map(ref)))) }
            add(.actions, action)
        }
    }

    private mutating func addCustody(tool: String, exhibits: [Exhibit]) {
        var exhibits = exhibits
        var previous: String?
        for event in facts.timeline where ProvenanceGraph.custodyActions.contains(event.action) {
            let actionID = id("investigative-action", "\(event.action)/\(event.seq)")
            let inScope = exhibits.indices.filter { exhibits[$0].artifact.seq < event.seq }
            let objects = inScope.map { exhibits[$0].record }
            let informedBy = ([previous].compactMap { $0 } + inScope.map { exhibits[$0].producer }).uniqued()
            var records: [[(String, LD)]] = []
            var recordIDs: [String] = []
            for index in inScope {
                let exhibit = exhibits[index]
                let record = id("provenance-record", "\(exhibit.artifact.id)/\(event.action)/\(event.seq)")
                records.append(provenanceRecord(
                    record, exhibit: exhibit.artifact.id, items: exhibit.items,
                    description: "\(exhibit.artifact.id) after \(event.action) (ledger entry \(event.seq))"))
                recordIDs.append(record)
                exhibits[index].record = record
                exhibits[index].producer = actionID
            }
            var action: [(String, LD)] = [
                ("@id", .string(actionID)),
                ("@type", "case-investigation:InvestigativeAction"),
                ("uco-core:name", .string(event.action)),
                ("uco-core:description", .string(event.summary)),
                ("uco-action:startTime", dateTime(event.time)),
                ("uco-action:endTime", dateTime(event.time)),
                ("uco-action:performer", ref(personIDs[event.actor]!)),
                ("uco-action:instrument", ref(tool)),
            ]
            if !objects.isEmpty {
                action.append(("uco-action:object", .array(objects.map(ref))))
                action.append(("uco-action:result", .array(recordIDs.map(ref))))
            }
            if !informedBy.isEmpty { action.append(("case-investigation:wasInformedBy", .array(informedBy.map(ref)))) }
            add(.actions, action)
            for record in records { add(.actions, record) }
            previous = actionID
        }
    }

    private func provenanceRecord(_ recordID: String, exhibit: String, items: [String], description: String) -> [(String, LD)] {
        var record: [(String, LD)] = [
            ("@id", .string(recordID)),
            ("@type", "case-investigation:ProvenanceRecord"),
            ("uco-core:description", .string(description)),
            ("case-investigation:exhibitNumber", .string(exhibit)),
        ]
        if !items.isEmpty { record.append(("uco-core:object", .array(items.map(ref)))) }
        return record
    }

    // MARK: Helpers

    enum Section { case agents, observables, actions }

    /// Appends a top-level node (a UcoObject) to a section.
    mutating func add(_ section: Section, _ members: [(String, LD)]) {
        let node = LD.object(members)
        switch section {
        case .agents: agents.append(node)
        case .observables: observables.append(node)
        case .actions: actions.append(node)
        }
    }

    func ref(_ id: String) -> LD { .object([("@id", .string(id))]) }

    /// Ledger times are RFC 3339 UTC (`…T…Z`), which is xsd:dateTime's lexical form; a
    /// plain string here would be a Violation.
    private func dateTime(_ value: String) -> LD { typed("xsd:dateTime", value) }

    func typed(_ type: String, _ value: String) -> LD { .object([("@type", .string(type)), ("@value", .string(value))]) }

    /// `image/jpeg` from `image/jpeg; charset=…`: the media type without parameters, or nil.
    private func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        let type = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let trimmed = type.trimmingWhitespace().lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each only at its first occurrence.
    fileprivate func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

// MARK: - JSON with ordered members
