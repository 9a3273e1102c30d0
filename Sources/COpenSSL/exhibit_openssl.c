// Out-of-line OpenSSL helpers. Kept deliberately small: anything that can be a
// static inline wrapper in the header is one.
#include "exhibit_openssl.h"

#include <string.h>

int exhibit_ssl_peer_certificate_pem(void *ssl, int index, unsigned char **pem, size_t *length) {
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain((const SSL *)ssl);
    if (chain == NULL || index < 0 || index >= sk_X509_num(chain)) return 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return 0;
    int ok = 0;
    char *data = NULL;
    long size = 0;
    if (PEM_write_bio_X509(bio, sk_X509_value(chain, index)) == 1 && (size = BIO_get_mem_data(bio, &data)) > 0) {
        unsigned char *copy = OPENSSL_malloc((size_t)size);
        if (copy != NULL) {
            memcpy(copy, data, (size_t)size);
            *pem = copy;
            *length = (size_t)size;
            ok = 1;
        }
    }
    BIO_free(bio);
    return ok;
}
