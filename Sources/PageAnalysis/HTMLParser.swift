internal import CLibXML2

/// libxml2's HTML parser and URI resolver through Exhibit's opaque C shim
/// (DESIGN §13): no Swift module sees libxml2's headers.
///
/// Parsing recovers from broken markup, never touches the network and never
/// expands entities. Analysis reads the parser's events and builds no tree
/// (decision 116), so there is no document object to own or free.
public enum HTMLParser {
    /// What page analysis reads from a page, collected in C from one parse that
    /// builds no tree (exhibit_html_analyze; its header states the rules).
    /// `element` is called, in document order, for each element whose attributes
    /// analysis reads (meta, link, base, a, area, img, source, video, audio,
    /// input, time) outside the skipped subtrees. Nil when libxml2 started no
    /// document from the bytes with this encoding, or memory ran out. With
    /// `stopsAtTextLimit` the parse ends once the text holds `textLimit` scalars.
    static func analysisWalk(
        bytes: [UInt8], encoding: String?, textLimit: Int, jsonLDLimit: Int, stopsAtTextLimit: Bool = false,
        element visit: (_ name: String, _ attribute: (String) -> String?) -> Void
    ) -> AnalysisWalk? {
        // libxml2 wants a non-NULL pointer even for zero bytes.
        let input = bytes.isEmpty ? [0] : bytes
        var status = EXHIBIT_HTML_ANALYSIS_OK
        let parsed: exhibit_html_extract_ref? = input.withUnsafeBufferPointer { buffer in
            let pointer = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            return withOptionalCString(encoding) { charset in
                exhibit_html_analyze(pointer, bytes.count, charset, textLimit, jsonLDLimit, stopsAtTextLimit ? 1 : 0, &status)
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
