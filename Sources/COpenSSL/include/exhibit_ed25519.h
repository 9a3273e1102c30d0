// Ed25519 signature checks for many signatures by one key (a ledger's entries by
// one actor): the key's multiples are computed once, so a check is two fixed-base
// scalar multiplications instead of OpenSSL's decoding of the key and a double
// scalar multiplication each time (about 4x fewer CPU cycles per signature).
#ifndef EXHIBIT_ED25519_H
#define EXHIBIT_ED25519_H

#include <stddef.h>

typedef struct exhibit_ed25519_key exhibit_ed25519_key;

/// Precomputes the multiples of a raw 32-byte Ed25519 public key and of the base
/// point. NULL when the key is not the canonical encoding of a curve point (such a
/// key is left to OpenSSL) or memory is short. Read-only afterwards: one key may be
/// used by several threads at once.
exhibit_ed25519_key *exhibit_ed25519_key_new(const unsigned char public_key[32]);

void exhibit_ed25519_key_free(exhibit_ed25519_key *key);

/// 1 when the signature's S is below the group order and the encoding of
/// [S]B - [SHA-512(R || A || message) mod L]A equals its R byte for byte: RFC 8032's
/// check without the cofactor, exactly what OpenSSL's ossl_ed25519_verify computes.
/// 0 otherwise, or when a step failed: the caller then asks OpenSSL, so that every
/// rejection is OpenSSL's own.
int exhibit_ed25519_verify(const exhibit_ed25519_key *key, const unsigned char signature[64],
                           const unsigned char *message, size_t message_length);

#endif
