internal import CLibXML2

/// An HTML document parsed by libxml2 through Exhibit's opaque C shim.
///
/// Parsing recovers from broken markup, never touches the network and never
/// expands entities. The tree is owned by this instance and freed in `deinit`;
/// nodes are only reachable through the document's own walking methods, so none
/// outlives it.
public final class HTMLDocument {
    private let document: exhibit_html_document_ref

    /// Parses `bytes`. `encoding` is the charset from the HTTP header, if any; when
    /// nil, libxml2 decides from the BOM and the meta tag.
    public init(bytes: [UInt8], baseURL: String? = nil, encoding: String? = nil) throws(PageAnalysisError) {
        // libxml2 wants a non-NULL pointer even for zero bytes.
        let input = bytes.isEmpty ? [0] : bytes
        let parsed: exhibit_html_document_ref? = input.withUnsafeBufferPointer { buffer in
            let pointer = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            return withOptionalCString(baseURL) { base in
                withOptionalCString(encoding) { charset in
                    exhibit_html_parse(pointer, bytes.count, base, charset)
                }
            }
        }
        guard let parsed else {
            throw PageAnalysisError("libxml2 could not build a document from \(bytes.count) bytes.")
        }
        self.document = parsed
    }

    deinit {
        exhibit_html_document_free(document)
    }

    /// The encoding libxml2 decoded the bytes with, when it recorded one.
    public var encoding: String? {
        exhibit_html_document_encoding(document).map { String(cString: $0) }
    }

    /// Calls `visit` for every element in document order, with its lower-case name
    /// and an accessor for its attributes. `skipping` names elements whose
    /// subtrees are not entered (e.g. `script`, `style`).
    public func forEachElement(_ visit: (_ name: String, _ attribute: (String) -> String?) -> Void) {
        walk(exhibit_html_document_root(document), onElement: visit, onText: { _, _ in })
    }

    /// The document's text content in order, with the name of each text's parent
    /// element, so callers can drop script and style text.
    public func forEachText(_ visit: (_ parent: String, _ text: String) -> Void) {
        walk(exhibit_html_document_root(document), onElement: { _, _ in }, onText: visit)
    }

    /// The `<title>` text, whitespace collapsed.
    public var title: String? {
        var result: String?
        forEachText { parent, text in
            if result == nil, parent == "title" { result = text }
        }
        return result.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
    }

    /// What page analysis reads from a page, collected in C from one parse that
    /// builds no tree (exhibit_html_analyze; its header states the rules).
    /// `element` is called, in document order, for each element whose attributes
    /// analysis reads (meta, link, base, a, area, img, source, video, audio,
    /// input, time) outside the skipped subtrees. Nil when libxml2 started no
    /// document from the bytes with this encoding, or memory ran out.
    static func analysisWalk(
        bytes: [UInt8], encoding: String?, textLimit: Int, jsonLDLimit: Int,
        element visit: (_ name: String, _ attribute: (String) -> String?) -> Void
    ) -> AnalysisWalk? {
        // libxml2 wants a non-NULL pointer even for zero bytes.
        let input = bytes.isEmpty ? [0] : bytes
        var status = EXHIBIT_HTML_ANALYSIS_OK
        let parsed: exhibit_html_extract_ref? = input.withUnsafeBufferPointer { buffer in
            let pointer = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            return withOptionalCString(encoding) { charset in
                exhibit_html_analyze(pointer, bytes.count, charset, textLimit, jsonLDLimit, &status)
            }
        }
        guard let extract = parsed else { return nil }
        defer { exhibit_html_extract_free(extract) }
        for index in 0..<exhibit_html_extract_element_count(extract) {
            let name = String(cString: exhibit_html_extract_element_name(extract, index))
            visit(name) { attribute in
                exhibit_html_extract_element_attribute(extract, index, attribute).map { String(cString: $0) }
            }
        }
        func string(_ bytes: UnsafePointer<UInt8>?, _ length: Int) -> String? {
            bytes.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
        }
        var length = 0
        let text = string(exhibit_html_extract_text(extract, &length), length) ?? ""
        let title = string(exhibit_html_extract_title(extract, &length), length)
        let jsonLD = (0..<exhibit_html_extract_json_ld_count(extract)).map { index in
            string(exhibit_html_extract_json_ld(extract, index, &length), length) ?? ""
        }
        return AnalysisWalk(text: text, title: title, jsonLD: jsonLD)
    }

    /// Resolves a reference against a base URL per RFC 3986 (libxml2's resolver).
    /// Spaces and non-ASCII characters are percent-encoded first, as browsers do.
    public static func resolve(_ reference: String, against base: String) -> String? {
        let escapedReference = percentEncodeUnsafe(reference)
        let escapedBase = percentEncodeUnsafe(base)
        guard let resolved = exhibit_html_resolve_uri(escapedReference, escapedBase) else { return nil }
        defer { exhibit_html_string_free(resolved) }
        return String(cString: resolved)
    }

    static func percentEncodeUnsafe(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: "\\") }) else { return text }
        var output = ""
        for byte in text.utf8 {
            if byte <= 0x20 || byte >= 0x7F {
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            } else if byte == UInt8(ascii: "\\") {
                output += "/"
            } else {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return output
    }

    /// Iterative walk: hostile pages nest thousands of levels deep, and recursion
    /// would exhaust the thread's stack.
    private func walk(
        _ root: exhibit_html_node_ref?,
        onElement: (String, (String) -> String?) -> Void,
        onText: (String, String) -> Void
    ) {
        var stack: [(node: exhibit_html_node_ref, parent: String)] = []
        if let root { stack.append((root, "")) }
        while let (node, parent) = stack.popLast() {
            switch exhibit_html_node_kind_of(node) {
            case EXHIBIT_HTML_NODE_ELEMENT:
                let name = exhibit_html_node_name(node).map { String(cString: $0) } ?? ""
                onElement(name) { attribute in
                    guard let value = exhibit_html_node_attribute(node, attribute) else { return nil }
                    defer { exhibit_html_string_free(value) }
                    return String(cString: value)
                }
                var children: [exhibit_html_node_ref] = []
                var child = exhibit_html_node_first_child(node)
                while let current = child {
                    children.append(current)
                    child = exhibit_html_node_next_sibling(current)
                }
                for child in children.reversed() { stack.append((child, name)) }
            case EXHIBIT_HTML_NODE_TEXT, EXHIBIT_HTML_NODE_CDATA:
                if let text = exhibit_html_node_text(node) {
                    onText(parent, String(cString: text))
                }
            default:
                break
            }
        }
    }
}

@available(*, unavailable)
extension HTMLDocument: Sendable {}

/// A page could not be analysed.
public struct PageAnalysisError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}

/// The text parts of a document that page analysis keeps (see `analysisWalk`).
struct AnalysisWalk {
    /// Visible text, white space collapsed, block boundaries as line breaks.
    var text: String
    /// The first `<title>`'s text as written; nil without a `<title>`.
    var title: String?
    /// Each JSON-LD script's text.
    var jsonLD: [String]
}
