// The CASE 1.4 / UCO 1.4 provenance graph of a bundle (data/provenance.jsonld, DESIGN §9).
//
// The modelling follows the hand-built sample that `case_validate --built-version case-1.4.0`
// accepted with no Info, Warning or Violation (docs/research/bundle-formats.md §1):
//
// - chain of custody is the object/result hand-off through ProvenanceRecords: every action
//   returns one record per exhibit, and the next action takes those records as its objects
//   and is `case-investigation:wasInformedBy` the action that produced them;
// - each capture starts from a `designate-target` action that has no object and returns the
//   URL, because CASE (and case-prov's `case_prov_check`) expects every chain to start at an
//   action with no input, and a capture's only input, the URL, is otherwise produced by nothing;
// - every node, facets and hashes included, has an IRI ending in a UUID: blank nodes are a
//   Violation and an id without a UUID suffix is an Info;
// - vocabulary-backed literals (hashMethod, investigationForm) are plain strings, which UCO 1.4
//   requires (typing them with the vocabulary datatype is a Warning);
// - hashes are `xsd:hexBinary`, times `xsd:dateTime`, sizes JSON integers (`xsd:integer`).

import ChainOfCustody

/// Builds `data/provenance.jsonld`, the CASE/UCO chain of custody of a case bundle.
public enum ProvenanceGraph {
    /// The JSON-LD document, UTF-8, deterministic: same facts → same bytes.
    ///
    /// The graph holds the investigation, a person per actor with their roles, the Exhibit
    /// tool, for every artifact its URL, the evidence files it lives in (WARC file and blob)
    /// with their SHA-256, its response payload with the digests the ledger recorded, and the
    /// capture action, and then, in ledger order, every later custody action (verify,
    /// timestamp, transfer, export, hold, release, close) chained to the one before.
    ///
    /// The `@context` is inline so that validating the document never touches the network.
    /// Node ids are name-based UUIDs of the case id and the node's role, so nothing depends
    /// on randomness or on the time of export. The output is pretty-printed with two-space
    /// indentation, `@id` and `@type` first in every node, and ends with a newline.
    public static func document(for facts: BundleFacts) -> [UInt8] {
        var builder = GraphBuilder(facts: facts)
        let root = LD.object([
            ("@context", context),
            ("@graph", .array(builder.build())),
        ])
        var writer = LDWriter()
        writer.write(root, indent: 0)
        writer.bytes.append(0x0A)
        return writer.bytes
    }

    /// Only the prefixes the graph uses.
    fileprivate static let context = LD.object([
        // An application namespace of our own rather than CASE-Examples' example.org; the
        // UUID suffix, not the base, is what makes each id unique.
        ("kb", "urn:exhibit:"),
        ("case-investigation", "https://ontology.caseontology.org/case/investigation/"),
        ("uco-action", "https://ontology.unifiedcyberontology.org/uco/action/"),
        ("uco-core", "https://ontology.unifiedcyberontology.org/uco/core/"),
        ("uco-identity", "https://ontology.unifiedcyberontology.org/uco/identity/"),
        ("uco-observable", "https://ontology.unifiedcyberontology.org/uco/observable/"),
        ("uco-role", "https://ontology.unifiedcyberontology.org/uco/role/"),
        ("uco-tool", "https://ontology.unifiedcyberontology.org/uco/tool/"),
        ("uco-types", "https://ontology.unifiedcyberontology.org/uco/types/"),
        ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ].map { ($0.0, LD.string($0.1)) })

    /// The ledger actions that act on evidence already held; each becomes one action in the chain.
    static let custodyActions: Set<String> = ["verify", "timestamp", "transfer", "export", "hold", "release", "close"]

    /// Namespace of Exhibit's name-based node ids (a fixed random UUID, never to change:
    /// changing it would change every id of every bundle).
    static let idNamespace: [UInt8] = [
        0x6b, 0x1e, 0x4c, 0x0d, 0x93, 0x2a, 0x4f, 0x57, 0xa8, 0x61, 0x2f, 0xd0, 0x4b, 0x17, 0xc9, 0x3e,
    ]

    /// An RFC 4122 version-5 UUID (SHA-1, name-based) of `name` in Exhibit's namespace.
    ///
    /// Version 5 rather than a SHA-256 variant: UCO's id shape only accepts versions 0–5, and
    /// a standard UUIDv5 can be recomputed by a recipient with any UUID library
    /// (`uuid.uuid5(namespace, name)`). SHA-1 only spreads names here; nothing relies on its
    /// collision resistance, the evidence digests are SHA-256.
    static func uuid5(_ name: String) -> String {
        let stream = DigestStream([.sha1])
        stream.update(idNamespace)
        stream.update(Array(name.utf8))
        var bytes = Array(stream.finish()[.sha1]!.prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        // 8-4-4-4-12 hex digits, written as bytes: a provenance graph names some 40,000
        // nodes this way, and slicing an array of Characters was half of this function.
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(Self.hexDigits[Int(byte >> 4)])
            text.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

// MARK: - The graph
