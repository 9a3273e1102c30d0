// libcurl, loaded on first use.
//
// Nothing is linked against -lcurl: libcurl drags about 25 libraries of its own (GnuTLS,
// Kerberos, LDAP, libssh2, librtmp, nghttp2, brotli, …) that the dynamic loader used to map
// and relocate at the start of every command, a third of the start of `exhibit search`,
// which makes no network call (issue 25). The first call of any function below opens
// libcurl.so.4 once (dlopen, under pthread_once) and resolves every function Exhibit uses;
// the curl_* functions here have the names and prototypes of curl.h, hidden from other
// libraries, so the Swift code calls them as before. If libcurl cannot be loaded, the
// functions that create something return NULL and the rest report failure;
// exhibit_curl_load_error() says why.
#include "exhibit_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#if defined(__APPLE__)
#define EXHIBIT_LIBCURL "libcurl.4.dylib"
#else
#define EXHIBIT_LIBCURL "libcurl.so.4"
#endif

#define EXHIBIT_HIDDEN __attribute__((visibility("hidden")))

// Every libcurl function Exhibit calls: X(name, return type, parameters).
#define EXHIBIT_CURL_FUNCTIONS(X) \
    X(curl_global_init, CURLcode, (long flags)) \
    X(curl_version, char *, (void)) \
    X(curl_easy_init, CURL *, (void)) \
    X(curl_easy_cleanup, void, (CURL *curl)) \
    X(curl_easy_perform, CURLcode, (CURL *curl)) \
    X(curl_easy_strerror, const char *, (CURLcode code)) \
    X(curl_easy_option_by_id, const struct curl_easyoption *, (CURLoption id)) \
    X(curl_easy_setopt, CURLcode, (CURL *curl, CURLoption option, ...)) \
    X(curl_easy_getinfo, CURLcode, (CURL *curl, CURLINFO info, ...)) \
    X(curl_slist_append, struct curl_slist *, (struct curl_slist *list, const char *data)) \
    X(curl_slist_free_all, void, (struct curl_slist *list)) \
    X(curl_free, void, (void *p)) \
    X(curl_url, CURLU *, (void)) \
    X(curl_url_set, CURLUcode, (CURLU *handle, CURLUPart what, const char *part, unsigned int flags)) \
    X(curl_url_get, CURLUcode, (CURLU *handle, CURLUPart what, char **part, unsigned int flags)) \
    X(curl_url_cleanup, void, (CURLU *handle)) \
    X(curl_multi_init, CURLM *, (void)) \
    X(curl_multi_cleanup, CURLMcode, (CURLM *multi)) \
    X(curl_multi_add_handle, CURLMcode, (CURLM *multi, CURL *curl)) \
    X(curl_multi_remove_handle, CURLMcode, (CURLM *multi, CURL *curl)) \
    X(curl_multi_perform, CURLMcode, (CURLM *multi, int *running)) \
    X(curl_multi_poll, CURLMcode, (CURLM *multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds, int timeout_ms, int *ret)) \
    X(curl_multi_info_read, CURLMsg *, (CURLM *multi, int *msgs_in_queue)) \
    X(curl_multi_strerror, const char *, (CURLMcode code)) \
    X(curl_multi_setopt, CURLMcode, (CURLM *multi, CURLMoption option, ...))

#define EXHIBIT_CURL_POINTER(name, result, parameters) result (*name) parameters;
static struct {
    EXHIBIT_CURL_FUNCTIONS(EXHIBIT_CURL_POINTER)
} api;
static char load_error[512];
static int loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load_libcurl(void) {
    void *library = dlopen(EXHIBIT_LIBCURL, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof load_error, "%s cannot be loaded (%s); install libcurl 7.80 or later",
                 EXHIBIT_LIBCURL, reason ? reason : "no reason given");
        return;
    }
#define EXHIBIT_CURL_RESOLVE(name, result, parameters) \
    *(void **)&api.name = dlsym(library, #name); \
    if (api.name == NULL) { \
        snprintf(load_error, sizeof load_error, "%s has no %s; install libcurl 7.80 or later", EXHIBIT_LIBCURL, #name); \
        return; \
    }
    EXHIBIT_CURL_FUNCTIONS(EXHIBIT_CURL_RESOLVE)
    loaded = 1;
}

/// Whether libcurl is loaded (loading it on the first call).
static int ready(void) {
    pthread_once(&load_once, load_libcurl);
    return loaded;
}

const char *exhibit_curl_load_error(void) {
    return ready() ? NULL : load_error;
}

EXHIBIT_HIDDEN CURLcode curl_global_init(long flags) {
    return ready() ? api.curl_global_init(flags) : CURLE_FAILED_INIT;
}
EXHIBIT_HIDDEN char *curl_version(void) {
    return ready() ? api.curl_version() : load_error;
}
EXHIBIT_HIDDEN CURL *curl_easy_init(void) {
    return ready() ? api.curl_easy_init() : NULL;
}
EXHIBIT_HIDDEN void curl_easy_cleanup(CURL *curl) {
    if (ready()) api.curl_easy_cleanup(curl);
}
EXHIBIT_HIDDEN CURLcode curl_easy_perform(CURL *curl) {
    return ready() ? api.curl_easy_perform(curl) : CURLE_FAILED_INIT;
}
EXHIBIT_HIDDEN const char *curl_easy_strerror(CURLcode code) {
    return ready() ? api.curl_easy_strerror(code) : load_error;
}
EXHIBIT_HIDDEN const struct curl_easyoption *curl_easy_option_by_id(CURLoption id) {
    return ready() ? api.curl_easy_option_by_id(id) : NULL;
}
EXHIBIT_HIDDEN struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data) {
    return ready() ? api.curl_slist_append(list, data) : NULL;
}
EXHIBIT_HIDDEN void curl_slist_free_all(struct curl_slist *list) {
    if (ready()) api.curl_slist_free_all(list);
}
EXHIBIT_HIDDEN void curl_free(void *p) {
    if (ready()) api.curl_free(p);
}
EXHIBIT_HIDDEN CURLU *curl_url(void) {
    return ready() ? api.curl_url() : NULL;
}
EXHIBIT_HIDDEN CURLUcode curl_url_set(CURLU *handle, CURLUPart what, const char *part, unsigned int flags) {
    return ready() ? api.curl_url_set(handle, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}
EXHIBIT_HIDDEN CURLUcode curl_url_get(CURLU *handle, CURLUPart what, char **part, unsigned int flags) {
    return ready() ? api.curl_url_get(handle, what, part, flags) : CURLUE_OUT_OF_MEMORY;
}
EXHIBIT_HIDDEN void curl_url_cleanup(CURLU *handle) {
    if (ready()) api.curl_url_cleanup(handle);
}
EXHIBIT_HIDDEN CURLM *curl_multi_init(void) {
    return ready() ? api.curl_multi_init() : NULL;
}
EXHIBIT_HIDDEN CURLMcode curl_multi_cleanup(CURLM *multi) {
    return ready() ? api.curl_multi_cleanup(multi) : CURLM_INTERNAL_ERROR;
}
EXHIBIT_HIDDEN CURLMcode curl_multi_add_handle(CURLM *multi, CURL *curl) {
    return ready() ? api.curl_multi_add_handle(multi, curl) : CURLM_INTERNAL_ERROR;
}
EXHIBIT_HIDDEN CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *curl) {
    return ready() ? api.curl_multi_remove_handle(multi, curl) : CURLM_INTERNAL_ERROR;
}
EXHIBIT_HIDDEN CURLMcode curl_multi_perform(CURLM *multi, int *running) {
    return ready() ? api.curl_multi_perform(multi, running) : CURLM_INTERNAL_ERROR;
}
EXHIBIT_HIDDEN CURLMcode curl_multi_poll(CURLM *multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds, int timeout_ms, int *ret) {
    return ready() ? api.curl_multi_poll(multi, extra_fds, extra_nfds, timeout_ms, ret) : CURLM_INTERNAL_ERROR;
}
EXHIBIT_HIDDEN CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue) {
    return ready() ? api.curl_multi_info_read(multi, msgs_in_queue) : NULL;
}
EXHIBIT_HIDDEN const char *curl_multi_strerror(CURLMcode code) {
    return ready() ? api.curl_multi_strerror(code) : load_error;
}

// The typed wrappers of the variadic calls: each passes exactly one argument of its type.
CURLcode exhibit_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return ready() ? api.curl_easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return ready() ? api.curl_easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return ready() ? api.curl_easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return ready() ? api.curl_easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return ready() ? api.curl_easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_setopt_data_callback(CURL *handle, CURLoption option, exhibit_curl_data_callback value) {
    return ready() ? api.curl_easy_setopt(handle, option, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_setopt_debug_callback(CURL *handle, exhibit_curl_debug_callback value) {
    return ready() ? api.curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_setopt_opensocket_callback(CURL *handle, exhibit_curl_opensocket_callback value) {
    return ready() ? api.curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_setopt_xferinfo_callback(CURL *handle, exhibit_curl_xferinfo_callback value) {
    return ready() ? api.curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value) : CURLE_FAILED_INIT;
}

CURLcode exhibit_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return ready() ? api.curl_easy_getinfo(handle, info, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return ready() ? api.curl_easy_getinfo(handle, info, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return ready() ? api.curl_easy_getinfo(handle, info, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return ready() ? api.curl_easy_getinfo(handle, info, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_getinfo_certinfo(CURL *handle, struct curl_certinfo **value) {
    return ready() ? api.curl_easy_getinfo(handle, CURLINFO_CERTINFO, value) : CURLE_FAILED_INIT;
}
CURLcode exhibit_curl_getinfo_tls_session(CURL *handle, struct curl_tlssessioninfo **value) {
    return ready() ? api.curl_easy_getinfo(handle, CURLINFO_TLS_SSL_PTR, value) : CURLE_FAILED_INIT;
}

CURLMcode exhibit_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return ready() ? api.curl_multi_setopt(multi, option, value) : CURLM_INTERNAL_ERROR;
}

const char *exhibit_curl_version(void) {
    return curl_version();
}
