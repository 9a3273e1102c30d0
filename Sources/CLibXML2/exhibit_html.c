// The only file in Exhibit that includes libxml2's headers (see exhibit_html.h).
#include "exhibit_html.h"

#include <pthread.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
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

exhibit_html_document_ref exhibit_html_parse(const char *bytes, size_t length,
                                             const char *base_url, const char *encoding) {
    exhibit_html_initialize();
    // Per-thread error handlers: silence libxml2's own printing on this thread.
    xmlSetGenericErrorFunc(NULL, exhibit_html_silent);
    if (length > (size_t)0x7fffffff) {
        return NULL;
    }
    // RECOVER: real pages are broken. NONET: never fetch a DTD or entity.
    // No HTML_PARSE_NOENT: entities are not expanded (billion laughs).
    int options = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                  HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT;
    htmlDocPtr doc = htmlReadMemory(bytes, (int)length, base_url, encoding, options);
    return (exhibit_html_document_ref)doc;
}

void exhibit_html_document_free(exhibit_html_document_ref document) {
    if (document != NULL) {
        xmlFreeDoc((xmlDocPtr)document);
    }
}

const char *exhibit_html_document_encoding(exhibit_html_document_ref document) {
    if (document == NULL) {
        return NULL;
    }
    return (const char *)((xmlDocPtr)document)->encoding;
}

exhibit_html_node_ref exhibit_html_document_root(exhibit_html_document_ref document) {
    if (document == NULL) {
        return NULL;
    }
    return (exhibit_html_node_ref)xmlDocGetRootElement((xmlDocPtr)document);
}

exhibit_html_node_ref exhibit_html_node_first_child(exhibit_html_node_ref node) {
    return node == NULL ? NULL : (exhibit_html_node_ref)((xmlNodePtr)node)->children;
}

exhibit_html_node_ref exhibit_html_node_next_sibling(exhibit_html_node_ref node) {
    return node == NULL ? NULL : (exhibit_html_node_ref)((xmlNodePtr)node)->next;
}

exhibit_html_node_kind exhibit_html_node_kind_of(exhibit_html_node_ref node) {
    if (node == NULL) {
        return EXHIBIT_HTML_NODE_OTHER;
    }
    switch (((xmlNodePtr)node)->type) {
    case XML_ELEMENT_NODE: return EXHIBIT_HTML_NODE_ELEMENT;
    case XML_TEXT_NODE: return EXHIBIT_HTML_NODE_TEXT;
    case XML_CDATA_SECTION_NODE: return EXHIBIT_HTML_NODE_CDATA;
    case XML_COMMENT_NODE: return EXHIBIT_HTML_NODE_COMMENT;
    default: return EXHIBIT_HTML_NODE_OTHER;
    }
}

const char *exhibit_html_node_name(exhibit_html_node_ref node) {
    if (node == NULL || ((xmlNodePtr)node)->type != XML_ELEMENT_NODE) {
        return NULL;
    }
    return (const char *)((xmlNodePtr)node)->name;
}

char *exhibit_html_node_attribute(exhibit_html_node_ref node, const char *name) {
    if (node == NULL || ((xmlNodePtr)node)->type != XML_ELEMENT_NODE) {
        return NULL;
    }
    return (char *)xmlGetProp((xmlNodePtr)node, (const xmlChar *)name);
}

const char *exhibit_html_node_text(exhibit_html_node_ref node) {
    if (node == NULL) {
        return NULL;
    }
    xmlNodePtr n = (xmlNodePtr)node;
    if (n->type != XML_TEXT_NODE && n->type != XML_CDATA_SECTION_NODE) {
        return NULL;
    }
    return (const char *)n->content;
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

// MARK: The analysis walk

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    unsigned char *bytes;
    size_t length;
    size_t capacity;
} exhibit_buffer;

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
    xmlNodePtr *elements;
    size_t element_count;
    size_t element_capacity;
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
                                   size_t text_limit) {
    size_t length = strlen((const char *)bytes);
    // White space runs shrink to one separator, and at most one separator comes
    // from before this node, so its output fits in length + 1 bytes.
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
        unsigned int scalar = byte;
        size_t step = byte < 0x80 ? 1 : exhibit_utf8_next(bytes + index, length - index, &scalar);
        if (scalar < 0x80 ? (scalar == 0x20 || (scalar >= 0x09 && scalar <= 0x0D)) : exhibit_is_white_space(scalar)) {
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

static int exhibit_is_hidden(const char *name) {
    static const char *const hidden[] = {"script", "style", "noscript", "template", "svg", "iframe", "object", "math"};
    return exhibit_name_in(name, hidden, sizeof hidden / sizeof hidden[0]);
}

static int exhibit_compare_names(const void *left, const void *right) {
    return strcmp(*(const char *const *)left, *(const char *const *)right);
}

static int exhibit_is_block(const char *name) {
    // Sorted for bsearch.
    static const char *const blocks[] = {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "legend", "li", "main", "nav", "ol", "option", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul",
    };
    return bsearch(&name, blocks, sizeof blocks / sizeof blocks[0], sizeof blocks[0], exhibit_compare_names) != NULL;
}

static int exhibit_is_collected(const char *name) {
    static const char *const collected[] = {"a", "img", "meta", "link", "source", "area", "base", "video", "audio",
                                            "input", "time"};
    return exhibit_name_in(name, collected, sizeof collected / sizeof collected[0]);
}

// type="application/ld+json", ignoring case and surrounding white space.
static int exhibit_is_json_ld(xmlNodePtr node) {
    xmlChar *type = xmlGetProp(node, (const xmlChar *)"type");
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
    int matches = (size_t)(end - start) == sizeof expected - 1 &&
                  strncasecmp((const char *)start, expected, sizeof expected - 1) == 0;
    xmlFree(type);
    return matches;
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
    unsigned kind = 0;
    if (strcmp(name, "head") == 0) {
        kind |= EXHIBIT_KIND_HEAD;
    } else if (strcmp(name, "title") == 0) {
        kind |= EXHIBIT_KIND_TITLE;
    } else if (strcmp(name, "script") == 0) {
        kind |= EXHIBIT_KIND_SCRIPT;
    }
    if (exhibit_is_collected(name)) {
        kind |= EXHIBIT_KIND_COLLECTED;
    }
    if (exhibit_is_hidden(name)) {
        kind |= EXHIBIT_KIND_HIDDEN;
    }
    if (exhibit_is_block(name)) {
        kind |= EXHIBIT_KIND_BLOCK;
    }
    return kind;
}

// Every element start and end needs its name's kind; a page has a few dozen
// distinct names, so kinds are cached by name (hashed by content: libxml2's HTML
// parser does not intern element names in a dictionary).
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
    int head_depth;
    int title_open;
    int json_ld_open;
    exhibit_name_slot names[EXHIBIT_NAME_SLOTS];
} exhibit_walk_state;

static unsigned exhibit_kind(exhibit_walk_state *state, const xmlChar *name) {
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

// An element starts: 1 to walk its subtree.
static int exhibit_walk_start(exhibit_walk_state *state, xmlNodePtr node) {
    struct exhibit_html_extract *extract = state->extract;
    if (node->name == NULL) {
        return 0;
    }
    unsigned kind = exhibit_kind(state, node->name);
    if (kind & EXHIBIT_KIND_HEAD) {
        state->head_depth += 1;
    } else if (kind & EXHIBIT_KIND_TITLE) {
        if (extract->has_title) {
            return 0;
        }
        extract->has_title = 1;
        state->title_open = 1;
    } else if (kind & EXHIBIT_KIND_SCRIPT) {
        if (!exhibit_is_json_ld(node)) {
            return 0;
        }
        if (extract->json_ld_count == extract->json_ld_capacity) {
            size_t capacity = extract->json_ld_capacity == 0 ? 4 : extract->json_ld_capacity * 2;
            exhibit_buffer *blocks = realloc(extract->json_ld, capacity * sizeof *blocks);
            if (blocks == NULL) {
                extract->failed = 1;
                return 0;
            }
            extract->json_ld = blocks;
            extract->json_ld_capacity = capacity;
        }
        extract->json_ld[extract->json_ld_count++] = (exhibit_buffer){NULL, 0, 0};
        state->json_ld_open = 1;
        return 1;
    } else if (kind & EXHIBIT_KIND_COLLECTED) {
        if (extract->element_count == extract->element_capacity) {
            size_t capacity = extract->element_capacity == 0 ? 64 : extract->element_capacity * 2;
            xmlNodePtr *elements = realloc(extract->elements, capacity * sizeof *elements);
            if (elements == NULL) {
                extract->failed = 1;
                return 0;
            }
            extract->elements = elements;
            extract->element_capacity = capacity;
        }
        extract->elements[extract->element_count++] = node;
    }
    if (kind & EXHIBIT_KIND_HIDDEN) {
        return 0;
    }
    if (kind & EXHIBIT_KIND_BLOCK) {
        extract->pending_break = 1;
    }
    return 1;
}

static void exhibit_walk_end(exhibit_walk_state *state, xmlNodePtr node) {
    if (node->name == NULL) {
        return;
    }
    unsigned kind = exhibit_kind(state, node->name);
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

static void exhibit_walk_text(exhibit_walk_state *state, xmlNodePtr node) {
    struct exhibit_html_extract *extract = state->extract;
    const unsigned char *content = node->content;
    if (content == NULL) {
        return;
    }
    if (state->title_open) {
        exhibit_buffer_append(extract, &extract->title, content, strlen((const char *)content));
    } else if (state->json_ld_open) {
        exhibit_buffer *block = &extract->json_ld[extract->json_ld_count - 1];
        if (block->length < state->json_ld_limit) {
            exhibit_buffer_append(extract, block, content, strlen((const char *)content));
        }
    } else if (state->head_depth == 0 && extract->text_scalars < state->text_limit) {
        exhibit_append_visible(extract, content, state->text_limit);
    }
}

// Walks one top-level node's subtree through parent links: no recursion and no
// stack, so hostile pages nested a million deep cost nothing extra.
static void exhibit_walk_subtree(exhibit_walk_state *state, xmlNodePtr top) {
    xmlNodePtr node = top;
    while (node != NULL && !state->extract->failed) {
        int entered = 0;
        if (node->type == XML_ELEMENT_NODE) {
            entered = exhibit_walk_start(state, node);
        } else if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
            exhibit_walk_text(state, node);
        }
        if (entered && node->children != NULL) {
            node = node->children;
            continue;
        }
        if (entered) {
            exhibit_walk_end(state, node);
        }
        // Next: a sibling, or the end of each ancestor until one has a sibling.
        while (node != NULL) {
            if (node == top) {
                node = NULL;
                break;
            }
            if (node->next != NULL) {
                node = node->next;
                break;
            }
            node = node->parent;
            if (node != NULL) {
                exhibit_walk_end(state, node);
            }
        }
    }
}

exhibit_html_extract_ref exhibit_html_extract(exhibit_html_document_ref document,
                                              size_t text_limit, size_t json_ld_limit) {
    struct exhibit_html_extract *extract = calloc(1, sizeof *extract);
    if (extract == NULL) {
        return NULL;
    }
    // Large (the name cache): on the heap, not the caller's stack.
    exhibit_walk_state *state = calloc(1, sizeof *state);
    if (state == NULL) {
        free(extract);
        return NULL;
    }
    state->extract = extract;
    state->text_limit = text_limit;
    state->json_ld_limit = json_ld_limit;
    xmlNodePtr root = document == NULL ? NULL : xmlDocGetRootElement((xmlDocPtr)document);
    // The root element and what follows it at the top level, as the Swift walk did.
    for (xmlNodePtr top = root; top != NULL && !extract->failed; top = top->next) {
        exhibit_walk_subtree(state, top);
    }
    free(state);
    if (extract->failed) {
        exhibit_html_extract_free(extract);
        return NULL;
    }
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
    free(extract);
}

const unsigned char *exhibit_html_extract_text(exhibit_html_extract_ref extract, size_t *length) {
    *length = extract->text.length;
    return extract->text.bytes;
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

exhibit_html_node_ref exhibit_html_extract_element(exhibit_html_extract_ref extract, size_t index) {
    return index < extract->element_count ? (exhibit_html_node_ref)extract->elements[index] : NULL;
}
