#include "exhibit_ed25519.h"
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Ed25519 verification with per-key tables (RFC 8032 §5.1.7, cofactorless as
   OpenSSL checks it). Every value handled here is public (keys, signatures,
   messages), so the code is variable-time. A result of 1 means the recomputed R
   equals the signature's R byte for byte; a 0 is confirmed by OpenSSL in
   ChainOfCustody's VerifyingKey, so this file can only make acceptances faster,
   never add one that OpenSSL would refuse unless the arithmetic is wrong, which
   Ed25519FastPathTests compare against OpenSSL signature by signature.

   Field elements mod p = 2^255 - 19 in five 51-bit limbs (products in 128 bits);
   points in extended coordinates (Hisil, Wong, Carter, Dawson 2008) with the
   formulas of the ref10 reference implementation; a scalar in 64 signed base-16
   digits, each looked up in a table of 1..8 times 256^i times the point. */

typedef unsigned __int128 u128;
typedef struct { uint64_t v[5]; } fe;
typedef struct { fe X, Y, Z, T; } ge_p3;      /* x = X/Z, y = Y/Z, xy = T/Z */
typedef struct { fe X, Y, Z, T; } ge_p1p1;    /* x = X/Z, y = Y/T */
typedef struct { fe X, Y, Z; } ge_p2;
typedef struct { fe YplusX, YminusX, Z, T2d; } ge_cached;

static const uint64_t MASK51 = (1ULL << 51) - 1;

struct exhibit_ed25519_key {
    unsigned char public_key[32];
    ge_cached base[32][8];      /* (j+1) * 256^i * B */
    ge_cached key[32][8];       /* (j+1) * 256^i * A */
    BIGNUM *order;              /* L */
    EVP_MD *sha512;
};

/* ---------------------------------------------------------------- field */

static inline void fe_carry(fe *h) {
    uint64_t c;
    c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
    c = h->v[1] >> 51; h->v[1] &= MASK51; h->v[2] += c;
    c = h->v[2] >> 51; h->v[2] &= MASK51; h->v[3] += c;
    c = h->v[3] >> 51; h->v[3] &= MASK51; h->v[4] += c;
    c = h->v[4] >> 51; h->v[4] &= MASK51; h->v[0] += c * 19;
}

static inline void fe_add(fe *h, const fe *f, const fe *g) {
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
    fe_carry(h);
}

/* f - g + 4p, limb by limb, so nothing goes below zero for limbs under 2^53. */
static inline void fe_sub(fe *h, const fe *f, const fe *g) {
    h->v[0] = f->v[0] + 0x1FFFFFFFFFFFB4ULL - g->v[0];
    h->v[1] = f->v[1] + 0x1FFFFFFFFFFFFCULL - g->v[1];
    h->v[2] = f->v[2] + 0x1FFFFFFFFFFFFCULL - g->v[2];
    h->v[3] = f->v[3] + 0x1FFFFFFFFFFFFCULL - g->v[3];
    h->v[4] = f->v[4] + 0x1FFFFFFFFFFFFCULL - g->v[4];
    fe_carry(h);
}

static inline void fe_reduce_wide(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
    uint64_t c;
    c = (uint64_t)(r0 >> 51); r1 += c; h->v[0] = (uint64_t)r0 & MASK51;
    c = (uint64_t)(r1 >> 51); r2 += c; h->v[1] = (uint64_t)r1 & MASK51;
    c = (uint64_t)(r2 >> 51); r3 += c; h->v[2] = (uint64_t)r2 & MASK51;
    c = (uint64_t)(r3 >> 51); r4 += c; h->v[3] = (uint64_t)r3 & MASK51;
    c = (uint64_t)(r4 >> 51); h->v[4] = (uint64_t)r4 & MASK51;
    h->v[0] += c * 19;
    c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
}

static inline void fe_mul(fe *h, const fe *f, const fe *g) {
    uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static inline void fe_sq(fe *h, const fe *f) {
    uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 r0 = (u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)(2 * f2) * f3_19;
    u128 r1 = (u128)f0_2 * f1 + (u128)(2 * f2) * f4_19 + (u128)f3 * f3_19;
    u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)(2 * f3) * f4_19;
    u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19;
    u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
    fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static inline void fe_sqn(fe *h, const fe *f, int n) {
    fe_sq(h, f);
    for (int i = 1; i < n; i++) fe_sq(h, h);
}

static void fe_frombytes(fe *h, const unsigned char s[32]) {
    uint64_t a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = 0;
        for (int j = 7; j >= 0; j--) a[i] = a[i] << 8 | s[8 * i + j];
    }
    h->v[0] = a[0] & MASK51;
    h->v[1] = (a[0] >> 51 | a[1] << 13) & MASK51;
    h->v[2] = (a[1] >> 38 | a[2] << 26) & MASK51;
    h->v[3] = (a[2] >> 25 | a[3] << 39) & MASK51;
    h->v[4] = (a[3] >> 12) & MASK51;   /* bit 255 is not part of the number */
}

/* The canonical encoding (the value below p), 255 bits little-endian. */
static void fe_tobytes(unsigned char s[32], const fe *f) {
    fe h = *f;
    fe_carry(&h);
    fe_carry(&h);
    /* q = 1 exactly when h >= p: h + 19 then carries out of bit 255. */
    uint64_t q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    uint64_t c;
    c = h.v[0] >> 51; h.v[0] &= MASK51; h.v[1] += c;
    c = h.v[1] >> 51; h.v[1] &= MASK51; h.v[2] += c;
    c = h.v[2] >> 51; h.v[2] &= MASK51; h.v[3] += c;
    c = h.v[3] >> 51; h.v[3] &= MASK51; h.v[4] += c;
    h.v[4] &= MASK51;
    uint64_t a[4] = {
        h.v[0] | h.v[1] << 51, h.v[1] >> 13 | h.v[2] << 38, h.v[2] >> 26 | h.v[3] << 25, h.v[3] >> 39 | h.v[4] << 12,
    };
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) s[8 * i + j] = (unsigned char)(a[i] >> (8 * j));
}

static int fe_isnegative(const fe *f) {
    unsigned char s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

static int fe_iszero(const fe *f) {
    unsigned char s[32], zero[32] = {0};
    fe_tobytes(s, f);
    return memcmp(s, zero, 32) == 0;
}

static int fe_equal(const fe *f, const fe *g) {
    unsigned char a[32], b[32];
    fe_tobytes(a, f);
    fe_tobytes(b, g);
    return memcmp(a, b, 32) == 0;
}

static void fe_neg(fe *h, const fe *f) {
    fe zero = {{0, 0, 0, 0, 0}};
    fe_sub(h, &zero, f);
}

static void fe_small(fe *h, uint64_t value) {
    memset(h, 0, sizeof *h);
    h->v[0] = value;
}

/* z^(2^250 - 1), and z^11 on the way: the common start of inversion and square root. */
static void fe_pow_2_250_1(fe *out, fe *z11, const fe *z) {
    fe z2, z9, t, z2_5_0, z2_10_0, z2_20_0, z2_50_0, z2_100_0;
    fe_sq(&z2, z);
    fe_sqn(&t, &z2, 2);
    fe_mul(&z9, &t, z);
    fe_mul(z11, &z9, &z2);
    fe_sq(&t, z11);
    fe_mul(&z2_5_0, &t, &z9);
    fe_sqn(&t, &z2_5_0, 5);
    fe_mul(&z2_10_0, &t, &z2_5_0);
    fe_sqn(&t, &z2_10_0, 10);
    fe_mul(&z2_20_0, &t, &z2_10_0);
    fe_sqn(&t, &z2_20_0, 20);
    fe_mul(&t, &t, &z2_20_0);
    fe_sqn(&t, &t, 10);
    fe_mul(&z2_50_0, &t, &z2_10_0);
    fe_sqn(&t, &z2_50_0, 50);
    fe_mul(&z2_100_0, &t, &z2_50_0);
    fe_sqn(&t, &z2_100_0, 100);
    fe_mul(&t, &t, &z2_100_0);
    fe_sqn(&t, &t, 50);
    fe_mul(out, &t, &z2_50_0);
}

/* z^(p - 2) = z^(2^255 - 21). */
static void fe_invert(fe *out, const fe *z) {
    fe t, z11;
    fe_pow_2_250_1(&t, &z11, z);
    fe_sqn(&t, &t, 5);
    fe_mul(out, &t, &z11);
}

/* z^((p - 5) / 8) = z^(2^252 - 3). */
static void fe_pow22523(fe *out, const fe *z) {
    fe t, z11;
    fe_pow_2_250_1(&t, &z11, z);
    fe_sqn(&t, &t, 2);
    fe_mul(out, &t, z);
}

/* ---------------------------------------------------------------- curve */

typedef struct { fe d, d2, sqrtm1; } curve_constants;

static void curve_constants_init(curve_constants *k) {
    fe a, b;
    /* d = -121665 / 121666 */
    fe_small(&a, 121665);
    fe_neg(&a, &a);
    fe_small(&b, 121666);
    fe_invert(&b, &b);
    fe_mul(&k->d, &a, &b);
    fe_add(&k->d2, &k->d, &k->d);
    /* sqrt(-1) = 2^((p - 1) / 4) = 2^(2^253 - 5) = (2^(2^252 - 3))^2 * 2 */
    fe_small(&a, 2);
    fe_pow22523(&b, &a);
    fe_sq(&b, &b);
    fe_mul(&k->sqrtm1, &b, &a);
}

static void ge_p3_0(ge_p3 *h) {
    fe_small(&h->X, 0);
    fe_small(&h->Y, 1);
    fe_small(&h->Z, 1);
    fe_small(&h->T, 0);
}

static void ge_p3_to_cached(ge_cached *r, const ge_p3 *p, const curve_constants *k) {
    fe_add(&r->YplusX, &p->Y, &p->X);
    fe_sub(&r->YminusX, &p->Y, &p->X);
    r->Z = p->Z;
    fe_mul(&r->T2d, &p->T, &k->d2);
}

static void ge_p1p1_to_p3(ge_p3 *r, const ge_p1p1 *p) {
    fe_mul(&r->X, &p->X, &p->T);
    fe_mul(&r->Y, &p->Y, &p->Z);
    fe_mul(&r->Z, &p->Z, &p->T);
    fe_mul(&r->T, &p->X, &p->Y);
}

static void ge_p1p1_to_p2(ge_p2 *r, const ge_p1p1 *p) {
    fe_mul(&r->X, &p->X, &p->T);
    fe_mul(&r->Y, &p->Y, &p->Z);
    fe_mul(&r->Z, &p->Z, &p->T);
}

static void ge_p2_dbl(ge_p1p1 *r, const ge_p2 *p) {
    fe t0;
    fe_sq(&r->X, &p->X);
    fe_sq(&r->Z, &p->Y);
    fe_sq(&r->T, &p->Z);
    fe_add(&r->T, &r->T, &r->T);
    fe_add(&r->Y, &p->X, &p->Y);
    fe_sq(&t0, &r->Y);
    fe_add(&r->Y, &r->Z, &r->X);
    fe_sub(&r->Z, &r->Z, &r->X);
    fe_sub(&r->X, &t0, &r->Y);
    fe_sub(&r->T, &r->T, &r->Z);
}

static void ge_p3_dbl(ge_p1p1 *r, const ge_p3 *p) {
    ge_p2 q = {p->X, p->Y, p->Z};
    ge_p2_dbl(r, &q);
}

static void ge_add(ge_p1p1 *r, const ge_p3 *p, const ge_cached *q) {
    fe t0;
    fe_add(&r->X, &p->Y, &p->X);
    fe_sub(&r->Y, &p->Y, &p->X);
    fe_mul(&r->Z, &r->X, &q->YplusX);
    fe_mul(&r->Y, &r->Y, &q->YminusX);
    fe_mul(&r->T, &q->T2d, &p->T);
    fe_mul(&r->X, &p->Z, &q->Z);
    fe_add(&t0, &r->X, &r->X);
    fe_sub(&r->X, &r->Z, &r->Y);
    fe_add(&r->Y, &r->Z, &r->Y);
    fe_add(&r->Z, &t0, &r->T);
    fe_sub(&r->T, &t0, &r->T);
}

static void ge_tobytes(unsigned char s[32], const ge_p3 *h) {
    fe recip, x, y;
    fe_invert(&recip, &h->Z);
    fe_mul(&x, &h->X, &recip);
    fe_mul(&y, &h->Y, &recip);
    fe_tobytes(s, &y);
    s[31] ^= (unsigned char)(fe_isnegative(&x) << 7);
}

/* Decodes a point; 0 unless `s` is the canonical encoding of a curve point. */
static int ge_frombytes(ge_p3 *h, const unsigned char s[32], const curve_constants *k) {
    fe u, v, v3, vxx, check;
    fe_frombytes(&h->Y, s);
    fe_small(&h->Z, 1);
    fe_sq(&u, &h->Y);
    fe_mul(&v, &u, &k->d);
    fe_sub(&u, &u, &h->Z);       /* u = y^2 - 1 */
    fe_add(&v, &v, &h->Z);       /* v = d y^2 + 1 */
    fe_sq(&v3, &v);
    fe_mul(&v3, &v3, &v);        /* v^3 */
    fe_sq(&h->X, &v3);
    fe_mul(&h->X, &h->X, &v);
    fe_mul(&h->X, &h->X, &u);    /* u v^7 */
    fe_pow22523(&h->X, &h->X);
    fe_mul(&h->X, &h->X, &v3);
    fe_mul(&h->X, &h->X, &u);    /* x = u v^3 (u v^7)^((p - 5) / 8) */
    fe_sq(&vxx, &h->X);
    fe_mul(&vxx, &vxx, &v);
    if (!fe_equal(&vxx, &u)) {
        fe_add(&check, &vxx, &u);
        if (!fe_iszero(&check)) return 0;
        fe_mul(&h->X, &h->X, &k->sqrtm1);
    }
    if (fe_isnegative(&h->X) != (s[31] >> 7)) fe_neg(&h->X, &h->X);
    fe_mul(&h->T, &h->X, &h->Y);
    unsigned char again[32];
    ge_tobytes(again, h);
    return memcmp(again, s, 32) == 0;
}

/* table[i][j] = (j + 1) * 256^i * p */
static void ge_table(ge_cached table[32][8], const ge_p3 *p, const curve_constants *k) {
    ge_p3 row = *p, acc;
    ge_p1p1 t;
    for (int i = 0; i < 32; i++) {
        ge_p3_to_cached(&table[i][0], &row, k);
        acc = row;
        for (int j = 1; j < 8; j++) {
            ge_add(&t, &acc, &table[i][0]);
            ge_p1p1_to_p3(&acc, &t);
            ge_p3_to_cached(&table[i][j], &acc, k);
        }
        for (int d = 0; d < 8; d++) {
            ge_p3_dbl(&t, &row);
            ge_p1p1_to_p3(&row, &t);
        }
    }
}

/* 64 signed digits in [-8, 8] with a = sum e[i] 16^i; a[31] <= 127. */
static void scalar_digits(signed char e[64], const unsigned char a[32]) {
    for (int i = 0; i < 32; i++) {
        e[2 * i] = a[i] & 15;
        e[2 * i + 1] = (a[i] >> 4) & 15;
    }
    signed char carry = 0;
    for (int i = 0; i < 63; i++) {
        e[i] += carry;
        carry = (signed char)((e[i] + 8) >> 4);
        e[i] -= (signed char)(carry * 16);
    }
    e[63] += carry;
}

static void add_digit(ge_p3 *acc, signed char digit, const ge_cached row[8], int negate) {
    if (digit == 0) return;
    ge_p1p1 t;
    int positive = (digit > 0) != negate;
    const ge_cached *q = &row[(digit > 0 ? digit : -digit) - 1];
    if (positive) {
        ge_add(&t, acc, q);
    } else {
        /* -(x, y) = (-x, y): Y+X and Y-X trade places and T changes sign. */
        ge_cached negated = {q->YminusX, q->YplusX, q->Z, q->T2d};
        fe_neg(&negated.T2d, &q->T2d);
        ge_add(&t, acc, &negated);
    }
    ge_p1p1_to_p3(acc, &t);
}

/* ---------------------------------------------------------------- API */

static const char *ORDER_HEX = "1000000000000000000000000000000014DEF9DEA2F79CD65812631A5CF5D3ED";

exhibit_ed25519_key *exhibit_ed25519_key_new(const unsigned char public_key[32]) {
    exhibit_ed25519_key *key = calloc(1, sizeof *key);
    if (!key) return NULL;
    curve_constants k;
    curve_constants_init(&k);
    ge_p3 a, b;
    /* B: y = 4/5, x even. */
    fe four, five;
    unsigned char encoded[32];
    fe_small(&four, 4);
    fe_small(&five, 5);
    fe_invert(&five, &five);
    fe_mul(&four, &four, &five);
    fe_tobytes(encoded, &four);
    if (!ge_frombytes(&b, encoded, &k) || !ge_frombytes(&a, public_key, &k) ||
        !BN_hex2bn(&key->order, ORDER_HEX) || !(key->sha512 = EVP_MD_fetch(NULL, "SHA512", NULL))) {
        exhibit_ed25519_key_free(key);
        return NULL;
    }
    memcpy(key->public_key, public_key, 32);
    ge_table(key->base, &b, &k);
    ge_table(key->key, &a, &k);
    return key;
}

void exhibit_ed25519_key_free(exhibit_ed25519_key *key) {
    if (!key) return;
    BN_free(key->order);
    EVP_MD_free(key->sha512);
    free(key);
}

/* h = SHA-512(R || A || message) mod L, and whether S < L, as 32-byte little-endian scalars. */
static int scalars(const exhibit_ed25519_key *key, const unsigned char signature[64], const unsigned char *message,
                   size_t message_length, unsigned char h[32]) {
    int ok = 0;
    unsigned char digest[64];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *s = NULL, *wide = NULL;
    if (!md || !bn) goto done;
    if (EVP_DigestInit_ex(md, key->sha512, NULL) != 1 || EVP_DigestUpdate(md, signature, 32) != 1 ||
        EVP_DigestUpdate(md, key->public_key, 32) != 1 || EVP_DigestUpdate(md, message, message_length) != 1 ||
        EVP_DigestFinal_ex(md, digest, NULL) != 1) goto done;
    s = BN_lebin2bn(signature + 32, 32, NULL);
    wide = BN_lebin2bn(digest, 64, NULL);
    if (!s || !wide || BN_cmp(s, key->order) >= 0) goto done;
    if (!BN_nnmod(wide, wide, key->order, bn) || BN_bn2lebinpad(wide, h, 32) != 32) goto done;
    ok = 1;
done:
    BN_free(s);
    BN_free(wide);
    BN_CTX_free(bn);
    EVP_MD_CTX_free(md);
    return ok;
}

int exhibit_ed25519_verify(const exhibit_ed25519_key *key, const unsigned char signature[64],
                           const unsigned char *message, size_t message_length) {
    unsigned char h[32], check[32];
    if (!key || !scalars(key, signature, message, message_length, h)) return 0;
    signed char es[64], eh[64];
    scalar_digits(es, signature + 32);
    scalar_digits(eh, h);
    /* [S]B - [h]A = 16 * (odd digits) + (even digits), each half from the tables. */
    ge_p3 acc;
    ge_p3_0(&acc);
    for (int i = 1; i < 64; i += 2) {
        add_digit(&acc, es[i], key->base[i / 2], 0);
        add_digit(&acc, eh[i], key->key[i / 2], 1);
    }
    ge_p1p1 t;
    ge_p2 p2;
    ge_p3_dbl(&t, &acc);
    for (int i = 0; i < 3; i++) {
        ge_p1p1_to_p2(&p2, &t);
        ge_p2_dbl(&t, &p2);
    }
    ge_p1p1_to_p3(&acc, &t);
    for (int i = 0; i < 64; i += 2) {
        add_digit(&acc, es[i], key->base[i / 2], 0);
        add_digit(&acc, eh[i], key->key[i / 2], 1);
    }
    ge_tobytes(check, &acc);
    return CRYPTO_memcmp(check, signature, 32) == 0;
}
