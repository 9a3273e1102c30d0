// Exhibit's view of libcurl.
//
// libcurl is not linked: exhibit_curl.c opens it on first use and defines the curl_*
// functions Exhibit calls (curl.h's names and prototypes; see there why).
// `curl_easy_setopt`, `curl_easy_getinfo` and `curl_multi_setopt` are variadic and
// cannot be called from Swift; each argument type gets a typed, prefixed wrapper
// (the pattern of GRDB's shim.h). The callback typedefs give Swift a non-capturing
// `@convention(c)` shape; context travels through the userdata pointer.
#ifndef EXHIBIT_CURL_H
#define EXHIBIT_CURL_H

#include <curl/curl.h>

typedef size_t (*exhibit_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);
typedef int (*exhibit_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);
typedef curl_socket_t (*exhibit_curl_opensocket_callback)(void *userdata, curlsocktype purpose, struct curl_sockaddr *address);
typedef int (*exhibit_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

CURLcode exhibit_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode exhibit_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode exhibit_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode exhibit_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode exhibit_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode exhibit_curl_setopt_data_callback(CURL *handle, CURLoption option, exhibit_curl_data_callback value);
CURLcode exhibit_curl_setopt_debug_callback(CURL *handle, exhibit_curl_debug_callback value);
CURLcode exhibit_curl_setopt_opensocket_callback(CURL *handle, exhibit_curl_opensocket_callback value);
CURLcode exhibit_curl_setopt_xferinfo_callback(CURL *handle, exhibit_curl_xferinfo_callback value);

CURLcode exhibit_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode exhibit_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode exhibit_curl_getinfo_string(CURL *handle, CURLINFO info, char **value);
CURLcode exhibit_curl_getinfo_pointer(CURL *handle, CURLINFO info, void **value);
CURLcode exhibit_curl_getinfo_certinfo(CURL *handle, struct curl_certinfo **value);
CURLcode exhibit_curl_getinfo_tls_session(CURL *handle, struct curl_tlssessioninfo **value);

CURLMcode exhibit_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/// The version string of the libcurl in use, e.g. "libcurl/7.88.1 OpenSSL/3.0.x zlib/…"
/// (or why it could not be loaded).
const char *exhibit_curl_version(void);

/// NULL once libcurl is loaded (loading it if it is not yet); otherwise one sentence
/// saying why it cannot be.
const char *exhibit_curl_load_error(void);

#endif
