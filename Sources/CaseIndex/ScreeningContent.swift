public import ChainOfCustody
import Foundation
import Screening
import WARC

/// What one WARC record of a capture carries, decoded into text for protected-class
/// screening (DESIGN §23, policy IV.B.6), or the reason text screening cannot judge it.
///
/// Screening reads what a decision-maker bundle's derived WARC would carry, not what
/// the page analysis kept: the request, the response's status line and headers, its
/// body with the transfer and content codings undone (chunked; gzip, x-gzip, deflate
/// with or without its zlib wrapper, identity; stacked as `gzip, gzip`) and decoded
/// from its charset, and the metadata record. An HTML or XML body is screened whole —
/// title, `<meta>` content, alt, aria-label and title attributes, comments, scripts —
/// and once more with its markup removed and character references decoded, so that
/// `preg<b>nant</b>` and `pregn&#97;nt` are read as a browser shows them.
///
/// Content that words cannot judge is `needs-review`: images, video, audio, PDFs and
/// other documents, `application/octet-stream`, bodies with a coding this cannot undo
/// (br, zstd, compress, unknown), damaged coded bodies, unknown charsets, and bodies
/// over ``limit`` once decoded.
public enum ScreeningContent {
    /// The most decoded body bytes screened as text: 64 MiB. Larger bodies are
    /// `needs-review`; a lexicon scan of 64 MiB takes about a second, and a page that
    /// big is rarely a page a person reads.
    public static let limit = 64 << 20

    /// One piece of an artifact's text.
    public struct Part: Sendable, Equatable {
        /// Where it comes from: `request`, `response head`, `response body`,
        /// `response body without markup`, `metadata` …
        public var name: String
        public var text: String
        /// True for a second reading of a part already screened (markup removed,
        /// escapes decoded): its hits repeat the original's and are kept only when new.
        public var derived: Bool

        public init(name: String, text: String, derived: Bool = false) {
            self.name = name
            self.text = text
            self.derived = derived
        }
    }

    /// A record's text, or why it cannot be screened as text.
    public struct Record: Sendable {
        public var parts: [Part]
        /// Set when some of the record is content text screening cannot judge.
        public var needsReview: String?
    }

    /// Reads the record whose gzip member starts at `offset` of `warcPath`.
    public static func read(warcPath: String, offset: Int64) throws(ExhibitError) -> Record {
        let record = try WARCReader(path: warcPath, keepBlocksUpTo: Int64(limit) + (1 << 20), computesPayloadSHA1: false)
            .record(at: offset)
        let type = record.type ?? "record"
        let target = record.targetURI ?? ""
        guard let block = record.block else {
            return Record(parts: [Part(name: type, text: target)],
                          needsReview: "its \(type) record is larger than the \(limit >> 20) MiB screening limit")
        }
        switch type {
        case "response":
            guard let head = record.httpHead, head.count + 4 <= block.count else {
                return Record(parts: [Part(name: type, text: target)], needsReview: "its response record holds no complete HTTP header")
            }
            var parts = [Part(name: "response head", text: target + "\n" + ScreeningDecoding.text(ofHead: head))]
            let body = Array(block[(head.count + 4)...])
            let transfer = codings(HTTPHead.firstValue(of: "transfer-encoding", in: head))
            let chunked = transfer.last == "chunked"
            // Transfer codings were applied over the content codings.
            let contentCodings = codings(HTTPHead.firstValue(of: "content-encoding", in: head))
                + transfer.filter { $0 != "chunked" && $0 != "identity" }
            let judged = judge(body: body, chunked: chunked, codings: contentCodings,
                               contentType: HTTPHead.firstValue(of: "content-type", in: head), name: "response body")
            parts += judged.parts
            return Record(parts: parts, needsReview: judged.needsReview)
        case "resource":
            let judged = judge(body: block, chunked: false, codings: [], contentType: record.field("Content-Type"), name: "resource")
            return Record(parts: [Part(name: "resource", text: target)] + judged.parts, needsReview: judged.needsReview)
        case "metadata":
            return Record(parts: [Part(name: type, text: target + "\n" + ScreeningDecoding.metadataText(block))], needsReview: nil)
        default:
            return Record(parts: [Part(name: type, text: target + "\n" + ScreeningDecoding.lossyText(block))], needsReview: nil)
        }
    }

    /// A body as its reader sees it: codings undone, kind judged, charset decoded.
    static func judge(body raw: [UInt8], chunked: Bool, codings: [String], contentType: String?, name: String) -> Record {
        var body = chunked ? ChunkDecoder.payload(of: raw) : raw
        // Codings are listed in the order they were applied: undo the last first.
        for coding in codings.reversed() {
            switch decode(body, coding: coding) {
            case .success(let decoded): body = decoded
            case .failure(let reason): return Record(parts: [], needsReview: reason)
            }
        }
        guard body.count <= limit else {
            return Record(parts: [], needsReview: "its body is over the \(limit >> 20) MiB screening limit once decoded")
        }
        guard !body.isEmpty else { return Record(parts: [], needsReview: nil) }
        let mime = contentType.map(ScreeningDecoding.mediaType) ?? ""
        let kind: ScreeningDecoding.Kind
        switch ScreeningDecoding.classify(mime: mime, body: body) {
        case .success(let judged): kind = judged
        case .failure(let reason): return Record(parts: [], needsReview: reason)
        }
        let text: String
        switch ScreeningDecoding.decodeCharset(body, contentType: contentType, html: kind == .markup) {
        case .success(let decoded): text = decoded
        case .failure(let reason): return Record(parts: [], needsReview: reason)
        }
        var parts = [Part(name: name, text: text)]
        switch kind {
        case .markup:
            parts.append(Part(name: name + " without markup", text: ScreeningDecoding.withoutMarkup(text), derived: true))
        case .json where text.contains("\\u"):
            parts.append(Part(name: name + " with escapes decoded", text: ScreeningDecoding.jsonUnescaped(text), derived: true))
        default:
            break
        }
        return Record(parts: parts, needsReview: nil)
    }

    // MARK: Codings

    typealias Outcome<T> = ScreeningDecoding.Outcome<T>

    /// A Content-Encoding or Transfer-Encoding value as its list of codings, lower-cased.
    static func codings(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    static func decode(_ body: [UInt8], coding: String) -> Outcome<[UInt8]> {
        switch coding {
        case "identity":
            return .success(body)
        case "gzip", "x-gzip":
            return inflated(body, .gzip, coding)
        case "deflate":
            // RFC 9110 says zlib-wrapped; some servers send raw deflate. Either is read.
            if case .success(let decoded) = inflated(body, .zlib, coding) { return .success(decoded) }
            return inflated(body, .raw, coding)
        default:
            return .failure("its body has Content-Encoding \"\(coding)\", which screening cannot decode")
        }
    }

    typealias Wrapper = ContentDecoding.Wrapper

    static func inflated(_ body: [UInt8], _ wrapper: Wrapper, _ coding: String) -> Outcome<[UInt8]> {
        switch ContentDecoding.inflate(body, wrapper, limit: limit) {
        case .some(.some(let decoded)): return .success(decoded)
        case .some(.none): return .failure("its body is over the \(limit >> 20) MiB screening limit once decoded")
        case .none: return .failure("its \(coding)-coded body is damaged and cannot be decoded")
        }
    }
}
