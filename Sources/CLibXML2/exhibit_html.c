// The only file in Exhibit that includes libxml2's headers (see exhibit_html.h).
#include "exhibit_html.h"

#include <pthread.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/encoding.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>

static pthread_once_t exhibit_html_once = PTHREAD_ONCE_INIT;

// Hostile pages produce thousands of parse errors; libxml2 would print each to
// stderr through the generic handler, so drop them (recovery still applies).
static void exhibit_html_silent(void *context, const char *message, ...) {
    (void)context;
    (void)message;
}

static void exhibit_html_initialize_once(void) {
    xmlInitParser();
}

void exhibit_html_initialize(void) {
    pthread_once(&exhibit_html_once, exhibit_html_initialize_once);
}

void exhibit_html_string_free(char *string) {
    if (string != NULL) {
        xmlFree(string);
    }
}

char *exhibit_html_resolve_uri(const char *reference, const char *base) {
    if (reference == NULL || base == NULL) {
        return NULL;
    }
    return (char *)xmlBuildURI((const xmlChar *)reference, (const xmlChar *)base);
}

// MARK: The analysis parse

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    unsigned char *bytes;
    size_t length;
    size_t capacity;
} exhibit_buffer;

// A collected element: its name and attributes as offsets into `strings`
// (which moves as it grows), attributes in `attributes` as name/value pairs.
typedef struct {
    size_t name;
    size_t first_attribute;
    size_t attribute_count;
} exhibit_element;

struct exhibit_html_extract {
    exhibit_buffer text;
    size_t text_scalars;
    int pending_space;
    int pending_break;
    exhibit_buffer title;
    int has_title;
    exhibit_buffer *json_ld;
    size_t json_ld_count;
    size_t json_ld_capacity;
    exhibit_element *elements;
    size_t element_count;
    size_t element_capacity;
    size_t *attributes;
    size_t attribute_count;
    size_t attribute_capacity;
    exhibit_buffer strings;
    int failed;
};

static int exhibit_buffer_reserve(exhibit_buffer *buffer, size_t extra) {
    if (buffer->capacity - buffer->length >= extra) {
        return 1;
    }
    size_t capacity = buffer->capacity < 256 ? 256 : buffer->capacity;
    while (capacity - buffer->length < extra) {
        if (capacity > ((size_t)-1) / 2) {
            return 0;
        }
        capacity *= 2;
    }
    unsigned char *bytes = realloc(buffer->bytes, capacity);
    if (bytes == NULL) {
        return 0;
    }
    buffer->bytes = bytes;
    buffer->capacity = capacity;
    return 1;
}

static void exhibit_buffer_append(struct exhibit_html_extract *extract, exhibit_buffer *buffer,
                                  const unsigned char *bytes, size_t length) {
    if (!exhibit_buffer_reserve(buffer, length)) {
        extract->failed = 1;
        return;
    }
    memcpy(buffer->bytes + buffer->length, bytes, length);
    buffer->length += length;
}

// Grows an array of `size`-byte items to hold one more.
static int exhibit_array_reserve(void **items, size_t count, size_t *capacity, size_t size) {
    if (count < *capacity) {
        return 1;
    }
    size_t grown = *capacity == 0 ? 64 : *capacity * 2;
    void *moved = realloc(*items, grown * size);
    if (moved == NULL) {
        return 0;
    }
    *items = moved;
    *capacity = grown;
    return 1;
}

// The offset of a NUL-terminated copy of `string` in the extract's strings.
static size_t exhibit_intern(struct exhibit_html_extract *extract, const unsigned char *string) {
    size_t offset = extract->strings.length;
    exhibit_buffer_append(extract, &extract->strings, string, strlen((const char *)string) + 1);
    return offset;
}

// The length of the UTF-8 sequence at `bytes` and its scalar; an ill-formed
// sequence counts as one byte that is not white space.
static size_t exhibit_utf8_next(const unsigned char *bytes, size_t available, unsigned int *scalar) {
    unsigned char lead = bytes[0];
    size_t length;
    unsigned int value;
    if (lead < 0x80) {
        *scalar = lead;
        return 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        value = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        value = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        value = lead & 0x07;
    } else {
        *scalar = 0xFFFD;
        return 1;
    }
    if (length > available) {
        *scalar = 0xFFFD;
        return 1;
    }
    for (size_t index = 1; index < length; index++) {
        if ((bytes[index] & 0xC0) != 0x80) {
            *scalar = 0xFFFD;
            return 1;
        }
        value = (value << 6) | (bytes[index] & 0x3F);
    }
    *scalar = value;
    return length;
}

// Unicode's White_Space property, as Swift's Unicode.Scalar.Properties.isWhitespace.
static int exhibit_is_white_space(unsigned int scalar) {
    if (scalar < 0x80) {
        return scalar == 0x20 || (scalar >= 0x09 && scalar <= 0x0D);
    }
    return scalar == 0x85 || scalar == 0xA0 || scalar == 0x1680 || (scalar >= 0x2000 && scalar <= 0x200A) ||
           scalar == 0x2028 || scalar == 0x2029 || scalar == 0x202F || scalar == 0x205F || scalar == 0x3000;
}

static void exhibit_append_visible(struct exhibit_html_extract *extract, const unsigned char *bytes,
                                   size_t length, size_t text_limit) {
    // White space runs shrink to one separator, and at most one separator comes
    // from before these bytes, so the output fits in length + 1 bytes.
    if (!exhibit_buffer_reserve(&extract->text, length + 1)) {
        extract->failed = 1;
        return;
    }
    // Locals, not the struct's fields: stores through `out` could alias them,
    // which kept the compiler from holding them in registers.
    unsigned char *out = extract->text.bytes + extract->text.length;
    size_t scalars = extract->text_scalars;
    int pending_space = extract->pending_space;
    int pending_break = extract->pending_break;
    int started = extract->text.length > 0;
    size_t index = 0;
    while (index < length && scalars < text_limit) {
        unsigned char byte = bytes[index];
        // Most text is runs of printable ASCII between single spaces: copy a
        // whole run at once.
        if (byte > 0x20 && byte < 0x80) {
            if (started && (pending_break || pending_space)) {
                *out++ = pending_break ? '\n' : ' ';
                scalars += 1;
            }
            pending_break = 0;
            pending_space = 0;
            started = 1;
            size_t room = text_limit - scalars;
            size_t end = length - index < room ? length : index + room;
            size_t run = index + 1;
            while (run < end && bytes[run] > 0x20 && bytes[run] < 0x80) {
                run++;
            }
            memcpy(out, bytes + index, run - index);
            out += run - index;
            scalars += run - index;
            index = run;
            continue;
        }
        unsigned int scalar = byte;
        size_t step = byte < 0x80 ? 1 : exhibit_utf8_next(bytes + index, length - index, &scalar);
        // NUL never reached the Swift walk (C strings); count it as white space.
        if (scalar < 0x80 ? (scalar == 0x20 || (scalar >= 0x09 && scalar <= 0x0D) || scalar == 0)
                          : exhibit_is_white_space(scalar)) {
            pending_space = 1;
            index += step;
            continue;
        }
        if (started && (pending_break || pending_space)) {
            *out++ = pending_break ? '\n' : ' ';
            scalars += 1;
        }
        pending_break = 0;
        pending_space = 0;
        started = 1;
        if (step == 1) {
            *out++ = byte;
        } else {
            memcpy(out, bytes + index, step);
            out += step;
        }
        scalars += 1;
        index += step;
    }
    extract->text.length = (size_t)(out - extract->text.bytes);
    extract->text_scalars = scalars;
    extract->pending_space = pending_space;
    extract->pending_break = pending_break;
}

static int exhibit_name_in(const char *name, const char *const *names, size_t count) {
    for (size_t index = 0; index < count; index++) {
        if (strcmp(name, names[index]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int exhibit_compare_names(const void *left, const void *right) {
    return strcmp(*(const char *const *)left, *(const char *const *)right);
}

enum {
    EXHIBIT_KIND_HEAD = 1,
    EXHIBIT_KIND_TITLE = 2,
    EXHIBIT_KIND_SCRIPT = 4,
    EXHIBIT_KIND_COLLECTED = 8,
    EXHIBIT_KIND_HIDDEN = 16,
    EXHIBIT_KIND_BLOCK = 32,
};

static unsigned exhibit_classify_name(const char *name) {
    static const char *const hidden[] = {"script", "style", "noscript", "template", "svg", "iframe", "object", "math"};
    static const char *const collected[] = {"a", "img", "meta", "link", "source", "area", "base", "video", "audio",
                                            "input", "time"};
    // Sorted for bsearch.
    static const char *const blocks[] = {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "legend", "li", "main", "nav", "ol", "option", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul",
    };
    unsigned kind = 0;
    if (strcmp(name, "head") == 0) {
        kind |= EXHIBIT_KIND_HEAD;
    } else if (strcmp(name, "title") == 0) {
        kind |= EXHIBIT_KIND_TITLE;
    } else if (strcmp(name, "script") == 0) {
        kind |= EXHIBIT_KIND_SCRIPT;
    }
    if (exhibit_name_in(name, collected, sizeof collected / sizeof collected[0])) {
        kind |= EXHIBIT_KIND_COLLECTED;
    }
    if (exhibit_name_in(name, hidden, sizeof hidden / sizeof hidden[0])) {
        kind |= EXHIBIT_KIND_HIDDEN;
    }
    if (bsearch(&name, blocks, sizeof blocks / sizeof blocks[0], sizeof blocks[0], exhibit_compare_names) != NULL) {
        kind |= EXHIBIT_KIND_BLOCK;
    }
    return kind;
}

// Every element start and end needs its name's kind; a page has a few dozen
// distinct names, so kinds are cached by name (hashed by content).
#define EXHIBIT_NAME_SLOTS 128
#define EXHIBIT_NAME_CACHED 16

typedef struct {
    char name[EXHIBIT_NAME_CACHED];
    unsigned kind;
    int used;
} exhibit_name_slot;

typedef struct {
    struct exhibit_html_extract *extract;
    size_t text_limit;
    size_t json_ld_limit;
    // The parse ends at the text limit (a removal check needs no more).
    int stops_at_text_limit;
    int document_started;
    int head_depth;
    int title_open;
    int json_ld_open;
    // Which text node the last characters event belonged to, as the tree
    // builder would have made it: consecutive events of one kind with nothing
    // between them are one node (0 none, 1 text, 2 CDATA).
    int last_text_kind;
    // Whether the JSON-LD text node being read is kept (decided at its start).
    int json_ld_node_kept;
    // Depth inside a subtree that is skipped whole (script, a second title,
    // hidden elements); 0 when events are being read.
    size_t skip_depth;
    // Elements open, and whether the parse stopped where the tree builder
    // would have (see exhibit_sax_start_element).
    size_t depth;
    int halted;
    exhibit_name_slot names[EXHIBIT_NAME_SLOTS];
} exhibit_parse_state;

static unsigned exhibit_kind(exhibit_parse_state *state, const xmlChar *name) {
    uint32_t hash = 2166136261u;
    size_t length = 0;
    while (name[length] != 0) {
        if (length == EXHIBIT_NAME_CACHED - 1) {
            return exhibit_classify_name((const char *)name);
        }
        hash = (hash ^ name[length]) * 16777619u;
        length++;
    }
    for (size_t probe = 0; probe < 8; probe++) {
        exhibit_name_slot *entry = &state->names[(hash + probe) % EXHIBIT_NAME_SLOTS];
        if (!entry->used) {
            memcpy(entry->name, name, length + 1);
            entry->kind = exhibit_classify_name((const char *)name);
            entry->used = 1;
            return entry->kind;
        }
        if (memcmp(entry->name, name, length + 1) == 0) {
            return entry->kind;
        }
    }
    return exhibit_classify_name((const char *)name);
}

// An attribute's value from a SAX attribute list; "" for one written without
// a value (what xmlGetProp gives on the tree), NULL when absent.
static const xmlChar *exhibit_attribute(const xmlChar **attributes, const char *name) {
    if (attributes == NULL) {
        return NULL;
    }
    for (size_t index = 0; attributes[index] != NULL; index += 2) {
        if (strcmp((const char *)attributes[index], name) == 0) {
            return attributes[index + 1] != NULL ? attributes[index + 1] : (const xmlChar *)"";
        }
    }
    return NULL;
}

// type="application/ld+json", ignoring case and surrounding white space.
static int exhibit_is_json_ld(const xmlChar **attributes) {
    const xmlChar *type = exhibit_attribute(attributes, "type");
    if (type == NULL) {
        return 0;
    }
    const unsigned char *start = type;
    const unsigned char *end = type + strlen((const char *)type);
    unsigned int scalar;
    while (start < end) {
        size_t step = exhibit_utf8_next(start, (size_t)(end - start), &scalar);
        if (!exhibit_is_white_space(scalar)) {
            break;
        }
        start += step;
    }
    // Trailing white space: step back over whole sequences.
    while (end > start) {
        const unsigned char *last = end - 1;
        while (last > start && (*last & 0xC0) == 0x80) {
            last--;
        }
        exhibit_utf8_next(last, (size_t)(end - last), &scalar);
        if (!exhibit_is_white_space(scalar)) {
            break;
        }
        end = last;
    }
    static const char expected[] = "application/ld+json";
    return (size_t)(end - start) == sizeof expected - 1 &&
           strncasecmp((const char *)start, expected, sizeof expected - 1) == 0;
}

static void exhibit_collect(struct exhibit_html_extract *extract, const xmlChar *name, const xmlChar **attributes) {
    if (!exhibit_array_reserve((void **)&extract->elements, extract->element_count, &extract->element_capacity,
                               sizeof *extract->elements)) {
        extract->failed = 1;
        return;
    }
    exhibit_element element = {exhibit_intern(extract, name), extract->attribute_count, 0};
    for (size_t index = 0; attributes != NULL && attributes[index] != NULL; index += 2) {
        // Room for the name and the value (the capacity doubles from 64, so it
        // stays even and one check covers both).
        if (!exhibit_array_reserve((void **)&extract->attributes, extract->attribute_count,
                                   &extract->attribute_capacity, sizeof *extract->attributes)) {
            extract->failed = 1;
            return;
        }
        const xmlChar *value = attributes[index + 1] != NULL ? attributes[index + 1] : (const xmlChar *)"";
        extract->attributes[extract->attribute_count++] = exhibit_intern(extract, attributes[index]);
        extract->attributes[extract->attribute_count++] = exhibit_intern(extract, value);
        element.attribute_count += 1;
    }
    extract->elements[extract->element_count++] = element;
}

static exhibit_parse_state *exhibit_state_of(void *context) {
    return (exhibit_parse_state *)((htmlParserCtxtPtr)context)->_private;
}

static void exhibit_sax_start_document(void *context) {
    exhibit_state_of(context)->document_started = 1;
}

static void exhibit_sax_start_element(void *context, const xmlChar *name, const xmlChar **attributes) {
    exhibit_parse_state *state = exhibit_state_of(context);
    struct exhibit_html_extract *extract = state->extract;
    state->last_text_kind = 0;
    if (state->halted) {
        return;
    }
    // libxml2's tree builder refuses an element nested deeper than
    // xmlParserMaxDepth and halts the parse there (without XML_PARSE_HUGE): stop
    // at the same element, so a page gives the same analysis as a walk of its
    // tree, and a hostile page's nesting costs no more than it did.
    if (state->depth > xmlParserMaxDepth) {
        state->halted = 1;
        xmlStopParser((xmlParserCtxtPtr)context);
        return;
    }
    state->depth += 1;
    if (state->skip_depth > 0) {
        state->skip_depth += 1;
        return;
    }
    if (name == NULL || extract->failed) {
        state->skip_depth = 1;
        return;
    }
    unsigned kind = exhibit_kind(state, name);
    if (kind & EXHIBIT_KIND_HEAD) {
        state->head_depth += 1;
    } else if (kind & EXHIBIT_KIND_TITLE) {
        if (extract->has_title) {
            state->skip_depth = 1;
            return;
        }
        extract->has_title = 1;
        state->title_open = 1;
    } else if (kind & EXHIBIT_KIND_SCRIPT) {
        if (!exhibit_is_json_ld(attributes)) {
            state->skip_depth = 1;
            return;
        }
        if (!exhibit_array_reserve((void **)&extract->json_ld, extract->json_ld_count, &extract->json_ld_capacity,
                                   sizeof *extract->json_ld)) {
            extract->failed = 1;
            state->skip_depth = 1;
            return;
        }
        extract->json_ld[extract->json_ld_count++] = (exhibit_buffer){NULL, 0, 0};
        state->json_ld_open = 1;
        return;
    } else if (kind & EXHIBIT_KIND_COLLECTED) {
        exhibit_collect(extract, name, attributes);
    }
    if (kind & EXHIBIT_KIND_HIDDEN) {
        state->skip_depth = 1;
        return;
    }
    if (kind & EXHIBIT_KIND_BLOCK) {
        extract->pending_break = 1;
    }
}

static void exhibit_sax_end_element(void *context, const xmlChar *name) {
    exhibit_parse_state *state = exhibit_state_of(context);
    state->last_text_kind = 0;
    if (state->halted) {
        return;
    }
    if (state->depth > 0) {
        state->depth -= 1;
    }
    if (state->skip_depth > 0) {
        // The skipped element's own end is not an event of the walk.
        state->skip_depth -= 1;
        return;
    }
    if (name == NULL) {
        return;
    }
    unsigned kind = exhibit_kind(state, name);
    if (kind & EXHIBIT_KIND_HEAD) {
        state->head_depth -= 1;
    } else if (kind & EXHIBIT_KIND_TITLE) {
        state->title_open = 0;
    } else if (kind & EXHIBIT_KIND_SCRIPT) {
        state->json_ld_open = 0;
    }
    if (kind & EXHIBIT_KIND_BLOCK) {
        state->extract->pending_break = 1;
    }
}

// A comment or processing instruction: nothing to read, but it ends a text node.
static void exhibit_sax_comment(void *context, const xmlChar *value) {
    (void)value;
    exhibit_state_of(context)->last_text_kind = 0;
}

static void exhibit_sax_processing_instruction(void *context, const xmlChar *target, const xmlChar *data) {
    (void)target;
    (void)data;
    exhibit_state_of(context)->last_text_kind = 0;
}

static void exhibit_sax_text(void *context, const xmlChar *characters, int length, int kind) {
    exhibit_parse_state *state = exhibit_state_of(context);
    struct exhibit_html_extract *extract = state->extract;
    int continues = state->last_text_kind == kind;
    state->last_text_kind = kind;
    // No element open: the tree builder has no node to put the text in and
    // drops it (a stray "<" before <html>, text after the document's end).
    if (state->halted || state->depth == 0 || state->skip_depth > 0 || characters == NULL || length <= 0 ||
        extract->failed) {
        return;
    }
    if (state->title_open) {
        exhibit_buffer_append(extract, &extract->title, characters, (size_t)length);
    } else if (state->json_ld_open) {
        // libxml2 hands a script's content over in pieces of 1,000 bytes; the
        // tree joined them into one node, kept whole when the block was still
        // under the limit at its start.
        exhibit_buffer *block = &extract->json_ld[extract->json_ld_count - 1];
        if (!continues) {
            state->json_ld_node_kept = block->length < state->json_ld_limit;
        }
        if (state->json_ld_node_kept) {
            exhibit_buffer_append(extract, block, characters, (size_t)length);
        }
    } else if (state->head_depth == 0 && extract->text_scalars < state->text_limit) {
        exhibit_append_visible(extract, characters, (size_t)length, state->text_limit);
        if (state->stops_at_text_limit && extract->text_scalars >= state->text_limit) {
            state->halted = 1;
            xmlStopParser((xmlParserCtxtPtr)context);
        }
    }
}

static void exhibit_sax_characters(void *context, const xmlChar *characters, int length) {
    exhibit_sax_text(context, characters, length, 1);
}

static void exhibit_sax_cdata(void *context, const xmlChar *characters, int length) {
    exhibit_sax_text(context, characters, length, 2);
}

exhibit_html_extract_ref exhibit_html_analyze(const char *bytes, size_t length, const char *encoding,
                                              size_t text_limit, size_t json_ld_limit, int stops_at_text_limit,
                                              exhibit_html_analysis_status *status) {
    exhibit_html_initialize();
    xmlSetGenericErrorFunc(NULL, exhibit_html_silent);
    *status = EXHIBIT_HTML_ANALYSIS_NO_DOCUMENT;
    if (length > (size_t)0x7fffffff) {
        return NULL;
    }
    struct exhibit_html_extract *extract = calloc(1, sizeof *extract);
    // Large (the name cache): on the heap, not the caller's stack.
    exhibit_parse_state *state = calloc(1, sizeof *state);
    // Made as htmlReadMemory makes it (an XML memory context switched to HTML),
    // so UTF-8 stays the default when an encoding label is unknown to libxml2.
    htmlParserCtxtPtr context = xmlCreateMemoryParserCtxt(bytes, (int)length);
    if (extract == NULL || state == NULL || context == NULL || context->sax == NULL) {
        // libxml2 makes no context for empty input either: no document then.
        *status = extract == NULL || state == NULL || (context != NULL && context->sax == NULL)
                      ? EXHIBIT_HTML_ANALYSIS_OUT_OF_MEMORY
                      : EXHIBIT_HTML_ANALYSIS_NO_DOCUMENT;
        free(extract);
        free(state);
        if (context != NULL) {
            xmlFreeParserCtxt(context);
        }
        return NULL;
    }
    state->extract = extract;
    state->text_limit = text_limit;
    state->json_ld_limit = json_ld_limit;
    state->stops_at_text_limit = stops_at_text_limit;
    context->_private = state;
    // The events are read here instead of building a tree: the tree builder's
    // handlers are replaced, so no node is allocated and nothing needs freeing
    // node by node afterwards. `initialized` is 1, as in libxml2's HTML handler.
    xmlSAXHandler *sax = context->sax;
    memset(sax, 0, sizeof *sax);
    sax->initialized = 1;
    sax->startDocument = exhibit_sax_start_document;
    sax->startElement = exhibit_sax_start_element;
    sax->endElement = exhibit_sax_end_element;
    // Blanks arrive as characters (no HTML_PARSE_NOBLANKS); the tree builder's
    // ignorableWhitespace did nothing, so none is set. Script and style content
    // arrives as CDATA.
    sax->characters = exhibit_sax_characters;
    sax->cdataBlock = exhibit_sax_cdata;
    sax->comment = exhibit_sax_comment;
    sax->processingInstruction = exhibit_sax_processing_instruction;
    // What htmlReadMemory then does (htmlDoRead): the options, HTML mode, the
    // encoding when libxml2 knows the label (an unknown one is ignored), the parse.
    int options = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                  HTML_PARSE_COMPACT;
    htmlCtxtUseOptions(context, options);
    context->html = 1;
    if (encoding != NULL) {
        xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler(encoding);
        if (handler != NULL) {
            xmlSwitchToEncoding(context, handler);
            if (context->input->encoding != NULL) {
                xmlFree((xmlChar *)context->input->encoding);
            }
            context->input->encoding = xmlStrdup((const xmlChar *)encoding);
        }
    }
    htmlParseDocument(context);
    if (context->myDoc != NULL) {
        xmlFreeDoc(context->myDoc);
        context->myDoc = NULL;
    }
    int started = state->document_started;
    int failed = extract->failed;
    context->_private = NULL;
    xmlFreeParserCtxt(context);
    free(state);
    if (failed) {
        exhibit_html_extract_free(extract);
        *status = EXHIBIT_HTML_ANALYSIS_OUT_OF_MEMORY;
        return NULL;
    }
    if (!started) {
        exhibit_html_extract_free(extract);
        return NULL;
    }
    *status = EXHIBIT_HTML_ANALYSIS_OK;
    return extract;
}

void exhibit_html_extract_free(exhibit_html_extract_ref extract) {
    if (extract == NULL) {
        return;
    }
    free(extract->text.bytes);
    free(extract->title.bytes);
    for (size_t index = 0; index < extract->json_ld_count; index++) {
        free(extract->json_ld[index].bytes);
    }
    free(extract->json_ld);
    free(extract->elements);
    free(extract->attributes);
    free(extract->strings.bytes);
    free(extract);
}

const unsigned char *exhibit_html_extract_text(exhibit_html_extract_ref extract, size_t *length) {
    *length = extract->text.length;
    return extract->text.bytes != NULL ? extract->text.bytes : (const unsigned char *)"";
}

const unsigned char *exhibit_html_extract_title(exhibit_html_extract_ref extract, size_t *length) {
    *length = extract->title.length;
    if (!extract->has_title) {
        return NULL;
    }
    // An empty title has no buffer yet; hand out a valid empty string.
    return extract->title.bytes != NULL ? extract->title.bytes : (const unsigned char *)"";
}

size_t exhibit_html_extract_json_ld_count(exhibit_html_extract_ref extract) {
    return extract->json_ld_count;
}

const unsigned char *exhibit_html_extract_json_ld(exhibit_html_extract_ref extract, size_t index,
                                                  size_t *length) {
    if (index >= extract->json_ld_count) {
        *length = 0;
        return (const unsigned char *)"";
    }
    *length = extract->json_ld[index].length;
    return extract->json_ld[index].bytes != NULL ? extract->json_ld[index].bytes : (const unsigned char *)"";
}

size_t exhibit_html_extract_element_count(exhibit_html_extract_ref extract) {
    return extract->element_count;
}

const char *exhibit_html_extract_element_name(exhibit_html_extract_ref extract, size_t index) {
    if (index >= extract->element_count) {
        return "";
    }
    return (const char *)extract->strings.bytes + extract->elements[index].name;
}

const char *exhibit_html_extract_element_attribute(exhibit_html_extract_ref extract, size_t index,
                                                   const char *name) {
    if (index >= extract->element_count) {
        return NULL;
    }
    const exhibit_element *element = &extract->elements[index];
    const char *strings = (const char *)extract->strings.bytes;
    for (size_t pair = 0; pair < element->attribute_count; pair++) {
        size_t at = element->first_attribute + 2 * pair;
        if (strcmp(strings + extract->attributes[at], name) == 0) {
            return strings + extract->attributes[at + 1];
        }
    }
    return NULL;
}

// MARK: Scanning ASCII text

// 1: ASCII white space; 2: a digit, '@' or ':' (what a selector holds);
// 4: what a phone number starts with ('+', '(' or a digit).
static const unsigned char exhibit_text_class[256] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1,
    ['0'] = 6, ['1'] = 6, ['2'] = 6, ['3'] = 6, ['4'] = 6, ['5'] = 6, ['6'] = 6, ['7'] = 6, ['8'] = 6, ['9'] = 6,
    ['@'] = 2, [':'] = 2, ['+'] = 4, ['('] = 4,
};

int exhibit_text_next_token(const unsigned char *bytes, size_t length, size_t from, size_t long_token,
                            size_t *start, size_t *end, int *marked) {
    size_t index = from;
    for (;;) {
        while (index < length && (exhibit_text_class[bytes[index]] & 1)) {
            index++;
        }
        if (index >= length) {
            return 0;
        }
        size_t first = index;
        unsigned char seen = 0;
        while (index < length && !(exhibit_text_class[bytes[index]] & 1)) {
            seen |= exhibit_text_class[bytes[index]];
            index++;
        }
        if ((seen & 2) || index - first >= long_token) {
            *start = first;
            *end = index;
            *marked = (seen & 2) != 0;
            return 1;
        }
    }
}

size_t exhibit_text_next_phone_start(const unsigned char *bytes, size_t length, size_t from) {
    size_t index = from;
    while (index < length && !(exhibit_text_class[bytes[index]] & 4)) {
        index++;
    }
    return index;
}
