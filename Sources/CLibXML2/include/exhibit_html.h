// An opaque C view of libxml2's HTML parser.
//
// This header includes no libxml2 header on purpose: Debian's libxml2 pulls in
// ICU's headers, which clash with Foundation's bundled ICU in any Swift module
// that sees both (DESIGN §13). Only exhibit_html.c includes libxml2; Swift sees
// opaque handles, plain C strings and byte buffers, as swift-corelibs-foundation's
// CFXMLInterface does.
#ifndef EXHIBIT_HTML_H
#define EXHIBIT_HTML_H

#include <stddef.h>

/// Initialises libxml2 once per process (thread-safe). Never paired with
/// xmlCleanupParser, which is unsafe while other threads may still parse.
void exhibit_html_initialize(void);

/// Resolves `reference` against `base` per RFC 3986 (libxml2's xmlBuildURI).
/// Returns NULL when either is not a URI libxml2 can parse. Free with
/// exhibit_html_string_free.
char *exhibit_html_resolve_uri(const char *reference, const char *base);
/// Frees a string returned by this shim (libxml2's xmlFree behind it).
void exhibit_html_string_free(char *string);

/// What one parse of a page collects for page analysis. libxml2's HTML parser
/// runs with recovery, without network access and without entity substitution;
/// its SAX events are read directly instead of building a tree: the tree
/// builder was most of the cost of a big page, and the analysis reads each node
/// once. The parse stops where the tree builder would have (an element nested
/// deeper than libxml2's xmlParserMaxDepth).
/// Rules (PageAnalysis's AnalyzedPage documents them for users):
/// - visible text: text outside <head>, the first <title>, script, style,
///   noscript, template, svg, iframe, object and math; runs of white space
///   (Unicode White_Space) become one space, a block element's start or end one
///   line break; at most `text_limit` scalars (separators count);
/// - title: the text of the first <title>; a later <title> is skipped whole;
/// - JSON-LD: the text of each <script type="application/ld+json">, a block
///   taking text while it is shorter than `json_ld_limit` bytes;
/// - elements: meta, link, base, a, area, img, source, video, audio, input and
///   time with their attributes, in document order, outside the skipped
///   subtrees above.
/// Text is UTF-8 as libxml2 decoded it. All pointers are valid until
/// exhibit_html_extract_free.
typedef struct exhibit_html_extract *exhibit_html_extract_ref;

typedef enum {
    EXHIBIT_HTML_ANALYSIS_OK = 0,
    /// libxml2 started no document (a tree parse would have returned NULL).
    EXHIBIT_HTML_ANALYSIS_NO_DOCUMENT = 1,
    EXHIBIT_HTML_ANALYSIS_OUT_OF_MEMORY = 2
} exhibit_html_analysis_status;

/// Parses `length` bytes. `encoding` may be NULL (the BOM and meta tag decide).
/// With `stops_at_text_limit`, the parse ends once the visible text holds
/// `text_limit` scalars: what follows (a later title included) is not read.
/// Returns NULL, with the reason in `status`, when there is nothing to read.
exhibit_html_extract_ref exhibit_html_analyze(const char *bytes, size_t length, const char *encoding,
                                              size_t text_limit, size_t json_ld_limit, int stops_at_text_limit,
                                              exhibit_html_analysis_status *status);
void exhibit_html_extract_free(exhibit_html_extract_ref extract);
const unsigned char *exhibit_html_extract_text(exhibit_html_extract_ref extract, size_t *length);
/// NULL when the document has no <title>.
const unsigned char *exhibit_html_extract_title(exhibit_html_extract_ref extract, size_t *length);
size_t exhibit_html_extract_json_ld_count(exhibit_html_extract_ref extract);
const unsigned char *exhibit_html_extract_json_ld(exhibit_html_extract_ref extract, size_t index,
                                                  size_t *length);
size_t exhibit_html_extract_element_count(exhibit_html_extract_ref extract);
/// Lower-case element name.
const char *exhibit_html_extract_element_name(exhibit_html_extract_ref extract, size_t index);
/// The attribute's value ("" for an attribute written without one), or NULL.
const char *exhibit_html_extract_element_attribute(exhibit_html_extract_ref extract, size_t index,
                                                   const char *name);

/// Scanning all-ASCII visible text for selectors (PageAnalysis's SelectorScanner
/// over ASCII text). The next token (a run of bytes other than ASCII white space)
/// at or after `from` that holds a digit, '@' or ':' or is at least `long_token`
/// bytes long: 1 with its bounds and whether it holds one of those, 0 when none is left.
int exhibit_text_next_token(const unsigned char *bytes, size_t length, size_t from, size_t long_token,
                            size_t *start, size_t *end, int *marked);
/// The first index at or after `from` holding '+', '(' or a digit; `length` when none.
size_t exhibit_text_next_phone_start(const unsigned char *bytes, size_t length, size_t from);

#endif
