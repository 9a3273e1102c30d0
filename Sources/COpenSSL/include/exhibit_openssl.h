// Exhibit's view of OpenSSL libcrypto 3.0.
//
// Swift cannot call C macros or variadic functions, so each one Exhibit needs is
// given a typed, prefixed name here (the pattern of swift-crypto's
// CCryptoBoringSSLShims). Nothing above ChainOfCustody's wrappers uses these.
#ifndef EXHIBIT_OPENSSL_H
#define EXHIBIT_OPENSSL_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/ts.h>
#include <openssl/rand.h>

/// Initialises libcrypto without its atexit handler, which otherwise races
/// libcurl's cleanup at process exit (DESIGN §13). Idempotent.
static inline int exhibit_openssl_init(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}

/// `OPENSSL_free` is a macro.
static inline void exhibit_openssl_free(void *pointer) {
    OPENSSL_free(pointer);
}

/// `BIO_get_mem_data` is a macro; returns the length and sets *data.
static inline long exhibit_bio_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

/// The newest error on this thread's queue, formatted, or 0 when empty.
static inline unsigned long exhibit_err_get_error(void) {
    return ERR_get_error();
}

/// `sk_X509_num` and `sk_X509_value` are macros.
static inline int exhibit_sk_x509_num(const STACK_OF(X509) *stack) {
    return sk_X509_num(stack);
}
static inline X509 *exhibit_sk_x509_value(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}

#include <openssl/ssl.h>

/// TLS facts of a live connection (libcurl's CURLINFO_TLS_SSL_PTR internals is an SSL*).
static inline const char *exhibit_ssl_version(void *ssl) {
    return SSL_get_version((const SSL *)ssl);
}
static inline const char *exhibit_ssl_cipher(void *ssl) {
    const SSL_CIPHER *cipher = SSL_get_current_cipher((const SSL *)ssl);
    return cipher == NULL ? NULL : SSL_CIPHER_get_name(cipher);
}

/// How many certificates the peer of a live connection sent (its chain, leaf first), as
/// the handshake left them in the session; 0 when none are known.
static inline int exhibit_ssl_peer_chain_count(void *ssl) {
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain((const SSL *)ssl);
    return chain == NULL ? 0 : sk_X509_num(chain);
}

/// Certificate `index` of that chain as PEM (PEM_write_bio_X509: the text libcurl's
/// CURLINFO_CERTINFO gives as "Cert:" for a connection it opened), handed over in `*pem`
/// (`*length` bytes, no terminator) for the caller to free with exhibit_openssl_free.
/// 0 when there is no such certificate or encoding failed. Unlike CURLINFO_CERTINFO it
/// also answers for a connection a transfer reused.
int exhibit_ssl_peer_certificate_pem(void *ssl, int index, unsigned char **pem, size_t *length);

#endif
