// RFC 3161 time-stamp requests and response verification with OpenSSL's TS API,
// kept in C so the Swift side sees three plain functions.
#ifndef EXHIBIT_TIMESTAMP_H
#define EXHIBIT_TIMESTAMP_H

#include <stddef.h>

/// Builds a DER TimeStampReq over a SHA-256 digest, with the given nonce and
/// certReq set. On success returns 1 and *der (free with exhibit_openssl_free).
int exhibit_timestamp_request(const unsigned char *digest, size_t digest_length,
                              const unsigned char *nonce, size_t nonce_length,
                              unsigned char **der, size_t *der_length);

/// Verifies a DER TimeStampResp against the DER request it answers (imprint,
/// nonce, version) and its signature chain to the CA file (or the default trust
/// store when ca_file is NULL). Returns 1 when valid; fills gen_time
/// (e.g. "20261128192000Z") and serial (hex); on failure fills error.
int exhibit_timestamp_verify(const unsigned char *response, size_t response_length,
                             const unsigned char *request, size_t request_length,
                             const char *ca_file,
                             char *gen_time, size_t gen_time_size,
                             char *serial, size_t serial_size,
                             char *error, size_t error_size);

/// Answers a DER TimeStampReq as an RFC 3161 authority would, signing with the
/// given PEM certificate and key (policy 1.2.3.4.1, SHA-256, the CA chain
/// included). For Exhibit's local test authority; returns 1 and *der on success.
int exhibit_timestamp_respond(const unsigned char *request, size_t request_length,
                              const char *signer_certificate, const char *signer_key,
                              const char *chain, long serial,
                              unsigned char **der, size_t *der_length);

#endif
