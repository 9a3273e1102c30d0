@testable import CaseBundle
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// The CASE/UCO provenance graph (data/provenance.jsonld): deterministic, every node id
/// ending in a UUID, and accepted by the CASE project's own validator, offline.
@Suite("CASE/UCO provenance graph")
struct ProvenanceGraphTests {
    static let warc = "data/warc/OC-2026-0001-20260302T094501Z-0001.warc.gz"
    static let blob = "data/blobs/sha256/9f/9f2c4e1b7a0d3c58e6f1a2b4c7d9e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2"

    /// One case as an export would gather it: two actors, a page and an image in one WARC
    /// file (the image also as a blob), a 404 page, then verify, timestamp and export.
    static let facts = BundleFacts(
        caseID: "OC-2026-0001",
        title: "Counterfeit watches offered on market.example",
        category: "online-crime",
        categoryTitle: "Online crime",
        policySections: "IV.B.1.d",
        agency: "Metro Police Cyber Unit",
        status: "open",
        fields: ["platform": "market.example", "complainant": "Brand protection desk"],
        openedAt: "2026-03-02T09:14:05.120431Z",
        closedAt: nil,
        actors: [
            .init(id: "a-0001", name: "Dana Whitfield", badge: "4711", roles: ["investigator"]),
            .init(id: "a-0002", name: "Sam Okafor", badge: "5820", roles: ["custodian", "analyst"]),
        ],
        artifacts: [
            .init(
                id: "A-0002", seq: 2, actor: "a-0001", url: "https://market.example/listing/8841", finalURL: nil,
                started: "2026-03-02T09:45:01.004512Z", ended: "2026-03-02T09:45:01.881202Z", status: 200,
                contentType: "text/html; charset=utf-8", size: 48_213,
                sha256: "5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f60718293a4b5c6d7e8f90", md5: "a3f2c1d4e5b6a7980123456789abcdef",
                ip: "203.0.113.10", certificateSubject: "CN=market.example", title: "Rolex Submariner – like new",
                role: "page", warcPath: warc, blobPath: nil, responseOffset: 1_024,
                recordIDs: ["<urn:uuid:0b6f0c4e-8a47-4d4e-9a51-1f3c2b7d9e01>", "<urn:uuid:7c2d4f10-3b5a-4e8c-9d21-6a0b8e4f2c13>"],
                tags: ["listing"]),
            .init(
                id: "A-0003", seq: 3, actor: "a-0001", url: "https://cdn.market.example/img/8841-1.jpg", finalURL: nil,
                started: "2026-03-02T09:45:02.113007Z", ended: "2026-03-02T09:45:02.540118Z", status: 200,
                contentType: "image/jpeg", size: 183_772,
                sha256: "9f2c4e1b7a0d3c58e6f1a2b4c7d9e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2", md5: nil,
                ip: "203.0.113.20", certificateSubject: "CN=cdn.market.example", title: nil,
                role: "media", warcPath: warc, blobPath: blob, responseOffset: 50_877,
                recordIDs: ["<urn:uuid:2e8a5c71-0d4f-4b9a-8c36-5f1e7a2d0b94>"], tags: []),
            .init(
                id: "A-0004", seq: 4, actor: "a-0001", url: "http://market.example/listing/8842",
                finalURL: "https://market.example/listing/8842",
                started: nil, ended: "2026-03-02T09:45:03.902245Z", status: 404,
                contentType: "text/html", size: 1_311,
                sha256: "c0ffee254729296a45a3885639ac7e10f9d54979a1b2c3d4e5f60718293a4b5c", md5: nil,
                ip: "203.0.113.10", certificateSubject: "CN=market.example", title: "Not found",
                role: "page", warcPath: warc, blobPath: nil, responseOffset: 236_140,
                recordIDs: ["<urn:uuid:91d3b6e2-4c58-4f07-a1e9-3d2c5b8a7f60>"], tags: []),
        ],
        timeline: [
            .init(seq: 1, time: "2026-03-02T09:14:05.120431Z", actor: "a-0001", action: "open",
                  summary: "case OC-2026-0001 (online-crime) opened by a-0001", hash: String(repeating: "1", count: 64), artifact: nil),
            .init(seq: 2, time: "2026-03-02T09:45:01.881202Z", actor: "a-0001", action: "capture",
                  summary: "captured https://market.example/listing/8841 (200)", hash: String(repeating: "2", count: 64), artifact: "A-0002"),
            .init(seq: 3, time: "2026-03-02T09:45:02.540118Z", actor: "a-0001", action: "capture",
                  summary: "captured https://cdn.market.example/img/8841-1.jpg (200)", hash: String(repeating: "3", count: 64), artifact: "A-0003"),
            .init(seq: 4, time: "2026-03-02T09:45:03.902245Z", actor: "a-0001", action: "capture",
                  summary: "captured http://market.example/listing/8842 (404)", hash: String(repeating: "4", count: 64), artifact: "A-0004"),
            .init(seq: 5, time: "2026-03-02T10:02:44.310000Z", actor: "a-0002", action: "verify",
                  summary: "verified: intact (4 entries)", hash: String(repeating: "5", count: 64), artifact: nil),
            .init(seq: 6, time: "2026-03-02T10:03:10.007731Z", actor: "a-0002", action: "timestamp",
                  summary: "ledger head timestamped by tsa.example", hash: String(repeating: "6", count: 64), artifact: nil),
            .init(seq: 7, time: "2026-03-02T11:20:00.500000Z", actor: "a-0002", action: "export",
                  summary: "exported as BagIt (full audience)", hash: String(repeating: "7", count: 64), artifact: nil),
        ],
        files: [
            .init(path: warc, sha256: "ee7505daf46c371a7c95f5be05dda40a58e44967e1f4d4fc168f8c899c884f81", size: 241_907),
            .init(path: blob, sha256: "9f2c4e1b7a0d3c58e6f1a2b4c7d9e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2", size: 183_772),
            .init(path: "data/timestamps/6.tsr", sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", size: 3_521),
        ],
        verification: .init(intact: true, entries: 7, findings: []),
        ledgerHead: String(repeating: "7", count: 64),
        toolName: "Exhibit",
        toolVersion: "0.1.0")

    /// The `@graph` nodes by id.
    static func nodes(_ document: [UInt8]) throws -> [String: [String: Any]] {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(document)) as? [String: Any])
        let graph = try #require(root["@graph"] as? [[String: Any]])
        var nodes: [String: [String: Any]] = [:]
        for node in graph { nodes[try #require(node["@id"] as? String)] = node }
        #expect(nodes.count == graph.count, "a node id appears twice in @graph")
        return nodes
    }

    /// Every `@id` anywhere in the document, definitions and references.
    static func ids(in value: Any) -> [String] {
        if let object = value as? [String: Any] {
            return ((object["@id"] as? String).map { [$0] } ?? []) + object.values.flatMap { ids(in: $0) }
        }
        if let array = value as? [Any] { return array.flatMap { ids(in: $0) } }
        return []
    }

    static func refs(_ value: Any?) -> [String] {
        ((value as? [[String: Any]]) ?? (value as? [String: Any]).map { [$0] } ?? []).compactMap { $0["@id"] as? String }
    }

    @Test("valid, deterministic JSON whose ids end in UUIDs and that names every URL and digest")
    func documentIsDeterministicAndComplete() throws {
        let document = ProvenanceGraph.document(for: Self.facts)
        #expect(document == ProvenanceGraph.document(for: Self.facts))
        // The strict RFC 8259 parser: no duplicate keys, valid UTF-8, nothing trailing.
        _ = try JSONValue(parsing: document)
        let text = String(decoding: document, as: UTF8.self)
        #expect(text.hasSuffix("}\n"))

        let root = try #require(try JSONSerialization.jsonObject(with: Data(document)) as? [String: Any])
        let context = try #require(root["@context"] as? [String: String])
        #expect(context.values.allSatisfy { !$0.isEmpty }, "the context is inline, never a URL to fetch")
        let uuidSuffix = try Regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        let allIDs = Self.ids(in: root["@graph"] as Any)
        #expect(allIDs.count > 50)
        for id in allIDs {
            #expect(id.hasPrefix("kb:") && id.contains(uuidSuffix), "\(id)")
        }

        for artifact in Self.facts.artifacts {
            #expect(text.contains("\"\(artifact.url)\""), "\(artifact.url)")
            #expect(text.contains("\"\(artifact.sha256!)\""), "\(artifact.id)")
            if let md5 = artifact.md5 { #expect(text.contains("\"\(md5)\""), "\(artifact.id)") }
        }
        // The WARC file and the blob; timestamp tokens are not tied to any event, so not listed.
        for file in Self.facts.files where !file.path.hasPrefix("data/timestamps/") {
            #expect(text.contains("\"\(file.sha256)\""), "\(file.path)")
        }

        // A different case gives different ids for the same roles.
        var other = Self.facts
        other.caseID = "OC-2026-0002"
        #expect(Set(allIDs).isDisjoint(with: Self.ids(in: try JSONSerialization.jsonObject(with: Data(ProvenanceGraph.document(for: other))))))
    }

    /// The ids are standard UUIDv5, so a recipient can recompute them; the expected values are
    /// Python's `uuid.uuid5(UUID("6b1e4c0d-932a-4f57-a861-2fd04b17c93e"), name)`.
    @Test("node ids are RFC 4122 version-5 UUIDs of the case id and the node's role")
    func idsAreStandardUUIDv5() throws {
        #expect(ProvenanceGraph.uuid5("OC-2026-0001/investigation/OC-2026-0001") == "45d0cee1-14d4-55c2-b4f8-84cc7b37df09")
        #expect(ProvenanceGraph.uuid5("OC-2026-0001/url/https://market.example/listing/8841") == "c9a9b636-09e4-59a7-95dd-555e9709dfa9")
        let text = String(decoding: ProvenanceGraph.document(for: Self.facts), as: UTF8.self)
        #expect(text.contains("\"kb:investigation-45d0cee1-14d4-55c2-b4f8-84cc7b37df09\""))
        #expect(text.contains("\"kb:url-c9a9b636-09e4-59a7-95dd-555e9709dfa9\""))
    }

    @Test("captures and custody actions form one chain through provenance records")
    func custodyChain() throws {
        let nodes = try Self.nodes(ProvenanceGraph.document(for: Self.facts))
        func type(_ id: String) -> String? { nodes[id]?["@type"] as? String }

        // Every reference points at a node of the graph (an untyped reference is a Violation).
        for (_, node) in nodes {
            for id in Self.ids(in: node) where !id.contains("facet-") && !id.contains("hash-") {
                #expect(nodes[id] != nil, "dangling reference \(id)")
            }
        }
        let investigation = try #require(nodes.values.first { $0["@type"] as? String == "case-investigation:Investigation" })
        #expect(investigation["uco-core:name"] as? String == "OC-2026-0001")
        #expect(investigation["case-investigation:focus"] as? String == "Online crime")
        #expect(Set(Self.refs(investigation["uco-core:object"])) == Set(nodes.keys).subtracting([investigation["@id"] as! String]))

        let people = nodes.values.filter { $0["@type"] as? String == "uco-identity:Person" }
        #expect(Set(people.compactMap { $0["uco-core:name"] as? String }) == ["Dana Whitfield", "Sam Okafor"])
        let tools = nodes.values.filter { $0["@type"] as? String == "uco-tool:Tool" }
        #expect(tools.count == 1 && tools.first?["uco-tool:version"] as? String == "0.1.0")

        let actions = nodes.values.filter { $0["@type"] as? String == "case-investigation:InvestigativeAction" }
        for action in actions {
            #expect(action["uco-action:performer"] is [String: Any], "one performer, not a list")
        }
        let captures = actions.filter { $0["uco-core:name"] as? String == "capture" }
        #expect(captures.count == 3)
        for capture in captures {
            #expect(Self.refs(capture["uco-action:instrument"]) == [tools.first?["@id"] as? String])
            #expect(Self.refs(capture["uco-action:object"]).contains { type($0) == "uco-observable:URL" })
        }
        // The 404 page was captured without a first-request time: it starts when it ended.
        let notFound = try #require(captures.first { ($0["uco-core:description"] as? String)?.contains("404") == true })
        #expect((notFound["uco-action:startTime"] as? [String: String])?["@value"] == "2026-03-02T09:45:03.902245Z")
        // The image's capture returns the WARC file, the blob, the payload and its record.
        let image = try #require(captures.first { ($0["uco-core:description"] as? String)?.contains("8841-1.jpg") == true })
        let imageResults = Self.refs(image["uco-action:result"])
        #expect(imageResults.filter { type($0) == "uco-observable:File" }.count == 2)
        #expect(imageResults.filter { type($0) == "uco-observable:ContentData" }.count == 1)
        #expect(imageResults.filter { type($0) == "case-investigation:ProvenanceRecord" }.count == 1)
        // Each payload lies in its WARC file.
        let contained = nodes.values.filter { $0["uco-core:kindOfRelationship"] as? String == "Contained_Within" }
        #expect(contained.count == 3)
        #expect(contained.allSatisfy { Self.refs($0["uco-core:target"]).allSatisfy { type($0) == "uco-observable:File" } })

        // verify → timestamp → export, each taking the previous action's three records.
        var previous = captures.map { $0["@id"] as! String }
        var previousRecords = captures.flatMap { Self.refs($0["uco-action:result"]).filter { type($0) == "case-investigation:ProvenanceRecord" } }
        for name in ["verify", "timestamp", "export"] {
            let action = try #require(actions.first { $0["uco-core:name"] as? String == name })
            #expect(Set(Self.refs(action["case-investigation:wasInformedBy"])) == Set(previous), "\(name)")
            #expect(Set(Self.refs(action["uco-action:object"])) == Set(previousRecords), "\(name)")
            let records = Self.refs(action["uco-action:result"])
            #expect(records.count == 3 && records.allSatisfy { type($0) == "case-investigation:ProvenanceRecord" })
            #expect(Set(records.compactMap { nodes[$0]?["case-investigation:exhibitNumber"] as? String }) == ["A-0002", "A-0003", "A-0004"])
            previous = [action["@id"] as! String]
            previousRecords = records
        }
        #expect(!actions.contains { $0["uco-core:name"] as? String == "open" })
    }

    /// Runs `case_validate --built-version case-1.4.0` on a document and expects it to conform
    /// with no Info or Warning either (any of them makes it print `Conforms: False`, exit 1).
    static func validate(_ document: [UInt8]) throws {
        let directory = TemporaryDirectory("provenance")
        let path = directory.child("provenance.jsonld")
        try Data(document).write(to: URL(fileURLWithPath: path))
        // Missing validator: Validators.path throws, so the test fails rather than skips.
        let validator = try Validators.path(of: "case_validate")
        // Offline: every fetch through Python's urllib goes to a closed port, so a graph that
        // needed a remote context or ontology would fail here instead of passing by download.
        var environment = ProcessInfo.processInfo.environment
        for proxy in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"] { environment[proxy] = "http://127.0.0.1:9" }
        environment["no_proxy"] = nil
        environment["NO_PROXY"] = nil
        // Command.run reads stdout and stderr (one pipe) to the end before waiting for exit.
        let (status, output) = try Command.run(validator, ["--built-version", "case-1.4.0", path], environment: environment)
        #expect(status == 0, "\(output)")
        #expect(output.contains("Conforms: True"), "\(output)")
    }

    @Test("case_validate --built-version case-1.4.0 accepts the graph offline, with no warnings")
    func caseValidateAcceptsTheGraph() throws {
        try Self.validate(ProvenanceGraph.document(for: Self.facts))
    }

    /// A custody action before any capture (by an actor the bundle does not list), a capture
    /// between two custody actions, files whose sizes and digests are not known, a closed case.
    @Test("interleaved captures and custody, unknown actors and unmeasured files still give a valid chain")
    func interleavedCustody() throws {
        var facts = Self.facts
        facts.caseID = "OC-2026-0003"
        facts.status = "closed"
        facts.closedAt = "2026-03-05T16:00:00.000000Z"
        var page = facts.artifacts[0]
        page.seq = 3
        page.id = "A-0003"
        var imported = facts.artifacts[1]
        imported.seq = 5
        imported.id = "A-0005"
        imported.url = page.url
        imported.warcPath = nil
        imported.blobPath = "data/blobs/sha256/ab/ab54"
        imported.started = nil
        facts.artifacts = [page, imported]
        facts.files = []
        func event(_ seq: Int, _ actor: String, _ action: String, _ artifact: String? = nil) -> BundleFacts.Event {
            .init(seq: seq, time: "2026-03-0\(seq)T10:00:00.000000Z", actor: actor, action: action,
                  summary: "\(action) by \(actor)", hash: String(repeating: "\(seq)", count: 64), artifact: artifact)
        }
        facts.timeline = [
            event(1, "a-0001", "open"), event(2, "a-0009", "transfer"), event(3, "a-0001", "capture", "A-0003"),
            event(4, "a-0002", "verify"), event(5, "a-0001", "capture", "A-0005"), event(6, "a-0002", "export"),
            event(7, "a-0002", "close"),
        ]
        let document = ProvenanceGraph.document(for: facts)
        let nodes = try Self.nodes(document)
        struct NoSuchAction: Error { var name: String }
        func action(_ name: String) throws -> [String: Any] {
            let found = nodes.values.first { $0["uco-core:name"] as? String == name && $0["@type"] as? String == "case-investigation:InvestigativeAction" }
            guard let found else { throw NoSuchAction(name: name) }
            return found
        }
        func id(_ node: [String: Any]) -> String { node["@id"] as! String }
        func records(_ node: [String: Any]) -> [String] {
            Self.refs(node["uco-action:result"]).filter { nodes[$0]?["@type"] as? String == "case-investigation:ProvenanceRecord" }
        }

        let transfer = try action("transfer")
        #expect(transfer["uco-action:object"] == nil && transfer["uco-action:result"] == nil, "nothing captured yet")
        let unknown = try #require(nodes[Self.refs(transfer["uco-action:performer"]).first ?? ""])
        #expect(unknown["@type"] as? String == "uco-identity:Person" && unknown["uco-core:name"] as? String == "a-0009")

        let captures = nodes.values.filter { $0["uco-core:name"] as? String == "capture" }
        let first = try #require(captures.first { records($0).contains { nodes[$0]?["case-investigation:exhibitNumber"] as? String == "A-0003" } })
        let second = try #require(captures.first { records($0).contains { nodes[$0]?["case-investigation:exhibitNumber"] as? String == "A-0005" } })
        let verify = try action("verify")
        #expect(Set(Self.refs(verify["uco-action:object"])) == Set(records(first)))
        #expect(Set(Self.refs(verify["case-investigation:wasInformedBy"])) == [id(transfer), id(first)])
        // Export takes verify's record of A-0003 and the capture record of A-0005.
        let export = try action("export")
        #expect(Set(Self.refs(export["uco-action:object"])) == Set(records(verify) + records(second)))
        #expect(Set(Self.refs(export["case-investigation:wasInformedBy"])) == [id(verify), id(second)])
        #expect(records(try action("close")).count == 2)
        // One URL node and one designate-target for the address captured twice.
        #expect(nodes.values.filter { $0["@type"] as? String == "uco-observable:URL" }.count == 1)
        #expect(nodes.values.filter { $0["uco-core:name"] as? String == "designate-target" }.count == 1)
        // The blob missing from the file list is described by the artifact's own size and digest.
        let text = String(decoding: document, as: UTF8.self)
        #expect(text.contains(imported.sha256!) && text.contains("\"uco-observable:sizeInBytes\": \(imported.size!)"))
        #expect(text.contains("\"2026-03-05T16:00:00.000000Z\""))

        try Self.validate(document)
    }
}
