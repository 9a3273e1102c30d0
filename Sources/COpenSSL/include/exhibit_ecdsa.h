// ECDSA P-256 for the WACZ signing spec's anonymous signature (DESIGN §9):
// key generation, signing with SHA-256 into raw r||s (IEEE P1363, what WebCrypto
// produces and expects), and verification. In C because key generation by
// curve name and ECDSA_SIG access go through calls Swift cannot make cleanly.
#ifndef EXHIBIT_ECDSA_H
#define EXHIBIT_ECDSA_H

#include <stddef.h>

/// Generates a P-256 key; writes its PKCS#8 PEM (NUL-terminated) into a buffer
/// the caller frees with exhibit_openssl_free. Returns 1 on success.
int exhibit_ecdsa_p256_generate(char **pem, size_t *length);

/// Signs SHA-256(message) with the PEM private key; writes r||s (64 bytes).
int exhibit_ecdsa_p256_sign(const char *private_pem, const unsigned char *message, size_t message_length,
                            unsigned char signature[64]);

/// The SubjectPublicKeyInfo DER of the PEM private key's public half, in a
/// buffer freed with exhibit_openssl_free.
int exhibit_ecdsa_public_spki(const char *private_pem, unsigned char **der, size_t *length);

/// Verifies an r||s signature over SHA-256(message) with an SPKI DER public key
/// on P-256. Returns 1 when valid, 0 when not, -1 on a malformed key.
int exhibit_ecdsa_p256_verify(const unsigned char *spki, size_t spki_length, const unsigned char *message,
                              size_t message_length, const unsigned char signature[64]);

#endif
