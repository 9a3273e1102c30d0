#include "exhibit_ecdsa.h"
#include "exhibit_der.h"

#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static EVP_PKEY *exhibit_read_private(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}

static int exhibit_is_p256(EVP_PKEY *key) {
    char group[64] = {0};
    size_t length = 0;
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return 0;
    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &length)) return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

int exhibit_ecdsa_p256_generate(char **pem, size_t *length) {
    int ok = 0;
    EVP_PKEY *key = NULL;
    BIO *bio = NULL;
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (context == NULL || EVP_PKEY_keygen_init(context) <= 0) goto done;
    if (EVP_PKEY_CTX_set_group_name(context, "P-256") <= 0) goto done;
    if (EVP_PKEY_generate(context, &key) <= 0) goto done;
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) goto done;
    char *data = NULL;
    long size = BIO_get_mem_data(bio, &data);
    if (size <= 0) goto done;
    *pem = OPENSSL_malloc((size_t)size + 1);
    if (*pem == NULL) goto done;
    memcpy(*pem, data, (size_t)size);
    (*pem)[size] = 0;
    *length = (size_t)size;
    ok = 1;
done:
    BIO_free(bio);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(context);
    return ok;
}

int exhibit_ecdsa_p256_sign(const char *private_pem, const unsigned char *message, size_t message_length,
                            unsigned char signature[64]) {
    int ok = 0;
    unsigned char *der = NULL;
    size_t der_length = 0;
    ECDSA_SIG *parsed = NULL;
    EVP_MD_CTX *context = NULL;
    EVP_PKEY *key = exhibit_read_private(private_pem);
    if (key == NULL || !exhibit_is_p256(key)) goto done;
    context = EVP_MD_CTX_new();
    if (context == NULL || EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key) <= 0) goto done;
    if (EVP_DigestSign(context, NULL, &der_length, message, message_length) <= 0) goto done;
    der = OPENSSL_malloc(der_length);
    if (der == NULL || EVP_DigestSign(context, der, &der_length, message, message_length) <= 0) goto done;
    const unsigned char *cursor = der;
    parsed = d2i_ECDSA_SIG(NULL, &cursor, (long)der_length);
    if (parsed == NULL) goto done;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(parsed, &r, &s);
    if (BN_bn2binpad(r, signature, 32) != 32 || BN_bn2binpad(s, signature + 32, 32) != 32) goto done;
    ok = 1;
done:
    ECDSA_SIG_free(parsed);
    OPENSSL_free(der);
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok;
}

int exhibit_ecdsa_public_spki(const char *private_pem, unsigned char **der, size_t *length) {
    EVP_PKEY *key = exhibit_read_private(private_pem);
    if (key == NULL) return 0;
    unsigned char *buffer = NULL;
    int size = i2d_PUBKEY(key, &buffer);
    EVP_PKEY_free(key);
    return exhibit_hand_over_der(buffer, size, der, length);
}

int exhibit_ecdsa_p256_verify(const unsigned char *spki, size_t spki_length, const unsigned char *message,
                              size_t message_length, const unsigned char signature[64]) {
    int result = -1;
    unsigned char *der = NULL;
    ECDSA_SIG *parsed = NULL;
    EVP_MD_CTX *context = NULL;
    const unsigned char *cursor = spki;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &cursor, (long)spki_length);
    if (key == NULL || !exhibit_is_p256(key)) goto done;
    result = 0;
    parsed = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(signature, 32, NULL);
    BIGNUM *s = BN_bin2bn(signature + 32, 32, NULL);
    if (parsed == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(parsed, r, s)) {
        BN_free(r);
        BN_free(s);
        goto done;
    }
    int der_length = i2d_ECDSA_SIG(parsed, &der);
    if (der_length <= 0) goto done;
    context = EVP_MD_CTX_new();
    if (context == NULL || EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) <= 0) goto done;
    result = EVP_DigestVerify(context, der, (size_t)der_length, message, message_length) == 1 ? 1 : 0;
done:
    OPENSSL_free(der);
    ECDSA_SIG_free(parsed);
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return result;
}
