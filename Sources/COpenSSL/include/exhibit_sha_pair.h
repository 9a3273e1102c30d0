#ifndef EXHIBIT_SHA_PAIR_H
#define EXHIBIT_SHA_PAIR_H
#include <stddef.h>
#include <stdint.h>

// SHA-256 and SHA-1 of two streams at once with the CPU's SHA instructions
// (exhibit_sha_pair.c). Used only where exhibit_sha_pair_available() is 1;
// elsewhere ChainOfCustody's PairedDigest falls back to OpenSSL.
enum { EXHIBIT_SHA256 = 256, EXHIBIT_SHA1 = 1 };
typedef struct {
    uint32_t state[8];
    uint8_t buffer[64];
    uint64_t length;
    size_t used;
    int algorithm;
} exhibit_sha_ctx;

/// 1 when the CPU has the SHA extensions (x86-64 SHA-NI, with SSSE3 and SSE4.1).
int exhibit_sha_pair_available(void);
void exhibit_sha_pair_init(exhibit_sha_ctx *ctx, int algorithm);
/// Feeds `la` bytes to `a` and `lb` bytes to `b` (which may be NULL); both of the same algorithm.
void exhibit_sha_pair_update(exhibit_sha_ctx *a, const void *pa, size_t la, exhibit_sha_ctx *b, const void *pb, size_t lb);
/// Writes the digest (32 or 20 bytes) to `out`; the context is spent.
void exhibit_sha_pair_final(exhibit_sha_ctx *ctx, uint8_t *out);
#endif
