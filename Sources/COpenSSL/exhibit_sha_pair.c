#include "exhibit_sha_pair.h"
#include <immintrin.h>
#include <cpuid.h>
#include <string.h>

/* SHA-256 and SHA-1 of two byte streams at once with the x86 SHA extensions.
   One stream's rounds wait on the latency of sha256rnds2 / sha1rnds4; a second,
   independent stream interleaved with it fills those waits, so on the bench
   machine (AMD EPYC, Zen 4) two SHA-256 digests cost about what one costs with
   OpenSSL (1.95x the bytes per CPU second; SHA-1 1.7x). An imported WARC
   record needs the same algorithm over its block and over its payload, which
   are nearly the same bytes (docs/import.md). Not thread-safe per context. */

int exhibit_sha_pair_available(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int sha = (b >> 29) & 1;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    return sha && ssse3 && sse41;
#else
    return 0;
#endif
}

#if defined(__x86_64__)
static const uint32_t K256[64] = {
    0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
    0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
    0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
    0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
    0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,
    0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
    0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,
    0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2};

#define TARGET __attribute__((target("sha,sse4.1,ssse3")))

TARGET static inline void s256_load(const uint32_t s[8], __m128i *s0, __m128i *s1) {
    __m128i t = _mm_loadu_si128((const __m128i *)&s[0]);
    __m128i u = _mm_loadu_si128((const __m128i *)&s[4]);
    t = _mm_shuffle_epi32(t, 0xB1);
    u = _mm_shuffle_epi32(u, 0x1B);
    *s0 = _mm_alignr_epi8(t, u, 8);
    *s1 = _mm_blend_epi16(u, t, 0xF0);
}

TARGET static inline void s256_store(uint32_t s[8], __m128i s0, __m128i s1) {
    __m128i t = _mm_shuffle_epi32(s0, 0x1B);
    s1 = _mm_shuffle_epi32(s1, 0xB1);
    s0 = _mm_blend_epi16(t, s1, 0xF0);
    s1 = _mm_alignr_epi8(s1, t, 8);
    _mm_storeu_si128((__m128i *)&s[0], s0);
    _mm_storeu_si128((__m128i *)&s[4], s1);
}

/* Message words 4I..4I+3 into W[I & 3]: the first four groups are the block at P,
   its big-endian words byte-swapped by MASK; the rest come from NEXT (S256_NEXT or
   S1_NEXT) over the four before. I is constant once the loop is unrolled, so only
   one branch is compiled for each round group. */
#define SCHEDULE(W, P, I, MASK, NEXT) do { \
    if ((I) < 4) W[I] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((P) + 16 * (I))), MASK); \
    else W[(I) & 3] = NEXT(W, I); } while (0)

#define S256_ROUNDS(S0, S1, W, I) do { \
    __m128i m_ = _mm_add_epi32(W, _mm_loadu_si128((const __m128i *)&K256[4 * (I)])); \
    S1 = _mm_sha256rnds2_epu32(S1, S0, m_); \
    m_ = _mm_shuffle_epi32(m_, 0x0E); \
    S0 = _mm_sha256rnds2_epu32(S0, S1, m_); } while (0)

#define S256_NEXT(W, I) _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(W[((I) - 4) & 3], W[((I) - 3) & 3]), \
    _mm_alignr_epi8(W[((I) - 1) & 3], W[((I) - 2) & 3], 4)), W[((I) - 1) & 3])

TARGET static void s256_blocks(uint32_t s[8], const uint8_t *p, size_t n) {
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a0, a1;
    s256_load(s, &a0, &a1);
    for (; n > 0; n--, p += 64) {
        __m128i sa0 = a0, sa1 = a1, w[4];
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < 16; i++) {
            SCHEDULE(w, p, i, mask, S256_NEXT);
            S256_ROUNDS(a0, a1, w[i & 3], i);
        }
        a0 = _mm_add_epi32(a0, sa0);
        a1 = _mm_add_epi32(a1, sa1);
    }
    s256_store(s, a0, a1);
}

TARGET static void s256_blocks2(uint32_t s[8], const uint8_t *p, uint32_t t[8], const uint8_t *q, size_t n) {
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a0, a1, b0, b1;
    s256_load(s, &a0, &a1);
    s256_load(t, &b0, &b1);
    for (; n > 0; n--, p += 64, q += 64) {
        __m128i sa0 = a0, sa1 = a1, sb0 = b0, sb1 = b1, w[4], v[4];
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < 16; i++) {
            SCHEDULE(w, p, i, mask, S256_NEXT);
            SCHEDULE(v, q, i, mask, S256_NEXT);
            S256_ROUNDS(a0, a1, w[i & 3], i);
            S256_ROUNDS(b0, b1, v[i & 3], i);
        }
        a0 = _mm_add_epi32(a0, sa0); a1 = _mm_add_epi32(a1, sa1);
        b0 = _mm_add_epi32(b0, sb0); b1 = _mm_add_epi32(b1, sb1);
    }
    s256_store(s, a0, a1);
    s256_store(t, b0, b1);
}

#define S1_F(I) ((I) < 5 ? 0 : (I) < 10 ? 1 : (I) < 15 ? 2 : 3)
#define S1_NEXT(W, I) _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32(W[((I) - 4) & 3], W[((I) - 3) & 3]), W[((I) - 2) & 3]), W[((I) - 1) & 3])
/* One group of four rounds; the function selector must be a constant. */
#define S1_GROUP(ABCD, E, PREV, W, I, F) do { \
    if ((I) == 0) E = _mm_add_epi32(E, W[0]); else E = _mm_sha1nexte_epu32(PREV, W[(I) & 3]); \
    PREV = ABCD; ABCD = _mm_sha1rnds4_epu32(ABCD, E, F); } while (0)

TARGET static void s1_blocks(uint32_t s[5], const uint8_t *p, size_t n) {
    const __m128i mask = _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)s), 0x1B);
    __m128i e0 = _mm_set_epi32((int)s[4], 0, 0, 0);
    for (; n > 0; n--, p += 64) {
        __m128i sabcd = abcd, se = e0, prev = abcd, e = e0, w[4];
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < 20; i++) {
            SCHEDULE(w, p, i, mask, S1_NEXT);
            if (i < 5) S1_GROUP(abcd, e, prev, w, i, 0);
            else if (i < 10) S1_GROUP(abcd, e, prev, w, i, 1);
            else if (i < 15) S1_GROUP(abcd, e, prev, w, i, 2);
            else S1_GROUP(abcd, e, prev, w, i, 3);
        }
        e0 = _mm_sha1nexte_epu32(prev, se);
        abcd = _mm_add_epi32(abcd, sabcd);
    }
    _mm_storeu_si128((__m128i *)s, _mm_shuffle_epi32(abcd, 0x1B));
    s[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}

TARGET static void s1_blocks2(uint32_t s[5], const uint8_t *p, uint32_t t[5], const uint8_t *q, size_t n) {
    const __m128i mask = _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)s), 0x1B);
    __m128i e0 = _mm_set_epi32((int)s[4], 0, 0, 0);
    __m128i xbcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)t), 0x1B);
    __m128i x0 = _mm_set_epi32((int)t[4], 0, 0, 0);
    for (; n > 0; n--, p += 64, q += 64) {
        __m128i sabcd = abcd, se = e0, prev = abcd, e = e0, w[4];
        __m128i sxbcd = xbcd, sx = x0, xprev = xbcd, x = x0, v[4];
        _Pragma("clang loop unroll(full)")
        for (int i = 0; i < 20; i++) {
            SCHEDULE(w, p, i, mask, S1_NEXT);
            SCHEDULE(v, q, i, mask, S1_NEXT);
            if (i < 5) { S1_GROUP(abcd, e, prev, w, i, 0); S1_GROUP(xbcd, x, xprev, v, i, 0); }
            else if (i < 10) { S1_GROUP(abcd, e, prev, w, i, 1); S1_GROUP(xbcd, x, xprev, v, i, 1); }
            else if (i < 15) { S1_GROUP(abcd, e, prev, w, i, 2); S1_GROUP(xbcd, x, xprev, v, i, 2); }
            else { S1_GROUP(abcd, e, prev, w, i, 3); S1_GROUP(xbcd, x, xprev, v, i, 3); }
        }
        e0 = _mm_sha1nexte_epu32(prev, se);
        abcd = _mm_add_epi32(abcd, sabcd);
        x0 = _mm_sha1nexte_epu32(xprev, sx);
        xbcd = _mm_add_epi32(xbcd, sxbcd);
    }
    _mm_storeu_si128((__m128i *)s, _mm_shuffle_epi32(abcd, 0x1B));
    s[4] = (uint32_t)_mm_extract_epi32(e0, 3);
    _mm_storeu_si128((__m128i *)t, _mm_shuffle_epi32(xbcd, 0x1B));
    t[4] = (uint32_t)_mm_extract_epi32(x0, 3);
}
#endif

void exhibit_sha_pair_init(exhibit_sha_ctx *ctx, int algorithm) {
    memset(ctx, 0, sizeof *ctx);
    ctx->algorithm = algorithm;
    static const uint32_t h256[8] = {0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19};
    static const uint32_t h1[5] = {0x67452301,0xefcdab89,0x98badcfe,0x10325476,0xc3d2e1f0};
    if (algorithm == EXHIBIT_SHA256) memcpy(ctx->state, h256, sizeof h256);
    else memcpy(ctx->state, h1, sizeof h1);
}

static void blocks(exhibit_sha_ctx *c, const uint8_t *p, size_t n) {
#if defined(__x86_64__)
    if (c->algorithm == EXHIBIT_SHA256) s256_blocks(c->state, p, n); else s1_blocks(c->state, p, n);
#endif
}

static void blocks2(exhibit_sha_ctx *a, const uint8_t *p, exhibit_sha_ctx *b, const uint8_t *q, size_t n) {
#if defined(__x86_64__)
    if (a->algorithm == EXHIBIT_SHA256) s256_blocks2(a->state, p, b->state, q, n);
    else s1_blocks2(a->state, p, b->state, q, n);
#endif
}

/* Fills the partial block from the front of the input; returns the bytes taken. */
static size_t top_up(exhibit_sha_ctx *c, const uint8_t *p, size_t len) {
    if (c->used == 0) return 0;
    size_t take = 64 - c->used < len ? 64 - c->used : len;
    memcpy(c->buffer + c->used, p, take);
    c->used += take;
    if (c->used == 64) { blocks(c, c->buffer, 1); c->used = 0; }
    return take;
}

void exhibit_sha_pair_update(exhibit_sha_ctx *a, const void *pa, size_t la, exhibit_sha_ctx *b, const void *pb, size_t lb) {
    const uint8_t *p = pa, *q = pb;
    a->length += la;
    if (b) b->length += lb;
    size_t t = top_up(a, p, la); p += t; la -= t;
    if (b) { t = top_up(b, q, lb); q += t; lb -= t; }
    size_t na = la / 64, nb = b ? lb / 64 : 0;
    size_t both = na < nb ? na : nb;
    if (both > 0) { blocks2(a, p, b, q, both); p += 64 * both; q += 64 * both; la -= 64 * both; lb -= 64 * both; na -= both; nb -= both; }
    if (na > 0) { blocks(a, p, na); p += 64 * na; la -= 64 * na; }
    if (nb > 0) { blocks(b, q, nb); q += 64 * nb; lb -= 64 * nb; }
    if (la > 0) { memcpy(a->buffer + a->used, p, la); a->used += la; }
    if (b && lb > 0) { memcpy(b->buffer + b->used, q, lb); b->used += lb; }
}

void exhibit_sha_pair_final(exhibit_sha_ctx *c, uint8_t *out) {
    uint64_t bits = c->length * 8;
    c->buffer[c->used++] = 0x80;
    if (c->used > 56) { memset(c->buffer + c->used, 0, 64 - c->used); blocks(c, c->buffer, 1); c->used = 0; }
    memset(c->buffer + c->used, 0, 56 - c->used);
    for (int i = 0; i < 8; i++) c->buffer[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    blocks(c, c->buffer, 1);
    int words = c->algorithm == EXHIBIT_SHA256 ? 8 : 5;
    for (int i = 0; i < words; i++) {
        out[4 * i] = (uint8_t)(c->state[i] >> 24); out[4 * i + 1] = (uint8_t)(c->state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->state[i] >> 8); out[4 * i + 3] = (uint8_t)c->state[i];
    }
}
