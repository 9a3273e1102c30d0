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
