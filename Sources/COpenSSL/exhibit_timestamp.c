// RFC 3161 with OpenSSL 3.0's TS API (see exhibit_timestamp.h).
#include "exhibit_timestamp.h"
#include "exhibit_der.h"

#include <string.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

static void exhibit_timestamp_error(char *error, size_t size, const char *what) {
    if (error == NULL || size == 0) return;
    unsigned long code = ERR_get_error();
    char detail[256] = "";
    if (code != 0) ERR_error_string_n(code, detail, sizeof(detail));
    snprintf(error, size, "%s%s%s", what, code != 0 ? ": " : "", detail);
    ERR_clear_error();
}

int exhibit_timestamp_request(const unsigned char *digest, size_t digest_length,
                              const unsigned char *nonce, size_t nonce_length,
                              unsigned char **der, size_t *der_length) {
    int ok = 0;
    TS_REQ *request = TS_REQ_new();
    TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR *algorithm = X509_ALGOR_new();
    BIGNUM *number = BN_bin2bn(nonce, (int)nonce_length, NULL);
    ASN1_INTEGER *nonceValue = number ? BN_to_ASN1_INTEGER(number, NULL) : NULL;
    if (!request || !imprint || !algorithm || !nonceValue) goto done;
    if (!X509_ALGOR_set0(algorithm, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL)) goto done;
    if (!TS_MSG_IMPRINT_set_algo(imprint, algorithm)) goto done;
    if (!TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)digest, (int)digest_length)) goto done;
    if (!TS_REQ_set_version(request, 1) || !TS_REQ_set_msg_imprint(request, imprint)) goto done;
    if (!TS_REQ_set_nonce(request, nonceValue) || !TS_REQ_set_cert_req(request, 1)) goto done;
    unsigned char *out = NULL;
    int length = i2d_TS_REQ(request, &out);
    ok = exhibit_hand_over_der(out, length, der, der_length);
done:
    TS_REQ_free(request);
    TS_MSG_IMPRINT_free(imprint);
    X509_ALGOR_free(algorithm);
    ASN1_INTEGER_free(nonceValue);
    BN_free(number);
    return ok;
}

int exhibit_timestamp_verify(const unsigned char *response, size_t response_length,
                             const unsigned char *request, size_t request_length,
                             const char *ca_file,
                             char *gen_time, size_t gen_time_size,
                             char *serial, size_t serial_size,
                             char *error, size_t error_size) {
    int ok = 0;
    const unsigned char *cursor = response;
    TS_RESP *reply = d2i_TS_RESP(NULL, &cursor, (long)response_length);
    cursor = request;
    TS_REQ *query = d2i_TS_REQ(NULL, &cursor, (long)request_length);
    TS_VERIFY_CTX *context = NULL;
    X509_STORE *store = NULL;
    if (!reply) { exhibit_timestamp_error(error, error_size, "the reply is not a DER TimeStampResp"); goto done; }
    if (!query) { exhibit_timestamp_error(error, error_size, "the stored request is not a DER TimeStampReq"); goto done; }
    // Imprint, nonce and version come from the request, as `openssl ts -verify -queryfile` does.
    context = TS_REQ_to_TS_VERIFY_CTX(query, NULL);
    if (!context) { exhibit_timestamp_error(error, error_size, "cannot build a verification context"); goto done; }
    TS_VERIFY_CTX_add_flags(context, TS_VFY_SIGNATURE);
    store = X509_STORE_new();
    if (!store) goto done;
    if (ca_file != NULL) {
        if (X509_STORE_load_file(store, ca_file) != 1) {
            exhibit_timestamp_error(error, error_size, "cannot load the CA file");
            goto done;
        }
    } else if (X509_STORE_set_default_paths(store) != 1) {
        exhibit_timestamp_error(error, error_size, "cannot load the default trust store");
        goto done;
    }
    // The context owns the store from here.
    TS_VERIFY_CTX_set_store(context, store);
    store = NULL;
    if (TS_RESP_verify_response(context, reply) != 1) {
        exhibit_timestamp_error(error, error_size, "the token does not verify");
        goto done;
    }
    TS_TST_INFO *info = TS_RESP_get_tst_info(reply);
    const ASN1_GENERALIZEDTIME *time = info ? TS_TST_INFO_get_time(info) : NULL;
    if (time && gen_time && gen_time_size > 0) {
        int length = ASN1_STRING_length(time);
        if ((size_t)length >= gen_time_size) length = (int)gen_time_size - 1;
        memcpy(gen_time, ASN1_STRING_get0_data(time), (size_t)length);
        gen_time[length] = 0;
    }
    const ASN1_INTEGER *number = info ? TS_TST_INFO_get_serial(info) : NULL;
    if (number && serial && serial_size > 0) {
        BIGNUM *big = ASN1_INTEGER_to_BN(number, NULL);
        char *hex = big ? BN_bn2hex(big) : NULL;
        if (hex) {
            snprintf(serial, serial_size, "%s", hex);
            OPENSSL_free(hex);
        }
        BN_free(big);
    }
    ok = 1;
done:
    TS_VERIFY_CTX_free(context);
    X509_STORE_free(store);
    TS_RESP_free(reply);
    TS_REQ_free(query);
    return ok;
}

#include <openssl/pem.h>

static ASN1_INTEGER *exhibit_timestamp_serial(struct TS_resp_ctx *context, void *data) {
    (void)context;
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    if (serial != NULL) ASN1_INTEGER_set(serial, *(long *)data);
    return serial;
}

int exhibit_timestamp_respond(const unsigned char *request, size_t request_length,
                              const char *signer_certificate, const char *signer_key,
                              const char *chain, long serial,
                              unsigned char **der, size_t *der_length) {
    int ok = 0;
    X509 *certificate = NULL;
    EVP_PKEY *key = NULL;
    STACK_OF(X509) *extra = NULL;
    TS_RESP_CTX *context = NULL;
    TS_RESP *reply = NULL;
    ASN1_OBJECT *policy = NULL;
    BIO *input = NULL;
    FILE *file = fopen(signer_certificate, "r");
    if (file) { certificate = PEM_read_X509(file, NULL, NULL, NULL); fclose(file); }
    file = fopen(signer_key, "r");
    if (file) { key = PEM_read_PrivateKey(file, NULL, NULL, NULL); fclose(file); }
    if (!certificate || !key) goto done;
    extra = sk_X509_new_null();
    file = chain ? fopen(chain, "r") : NULL;
    if (file) {
        X509 *next;
        while ((next = PEM_read_X509(file, NULL, NULL, NULL)) != NULL) sk_X509_push(extra, next);
        ERR_clear_error();
        fclose(file);
    }
    context = TS_RESP_CTX_new();
    policy = OBJ_txt2obj("1.2.3.4.1", 1);
    if (!context || !policy) goto done;
    if (!TS_RESP_CTX_set_signer_cert(context, certificate) || !TS_RESP_CTX_set_signer_key(context, key)) goto done;
    if (!TS_RESP_CTX_set_certs(context, extra) || !TS_RESP_CTX_set_def_policy(context, policy)) goto done;
    if (!TS_RESP_CTX_add_md(context, EVP_sha256())) goto done;
    if (!TS_RESP_CTX_set_signer_digest(context, EVP_sha256())) goto done;
    TS_RESP_CTX_set_serial_cb(context, exhibit_timestamp_serial, &serial);
    input = BIO_new_mem_buf(request, (int)request_length);
    if (!input) goto done;
    reply = TS_RESP_create_response(context, input);
    if (!reply) goto done;
    unsigned char *out = NULL;
    int length = i2d_TS_RESP(reply, &out);
    ok = exhibit_hand_over_der(out, length, der, der_length);
done:
    BIO_free(input);
    TS_RESP_free(reply);
    TS_RESP_CTX_free(context);
    ASN1_OBJECT_free(policy);
    sk_X509_pop_free(extra, X509_free);
    X509_free(certificate);
    EVP_PKEY_free(key);
    return ok;
}
