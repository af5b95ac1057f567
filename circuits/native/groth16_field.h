/*
 * Field arithmetic of the native Groth16 prover (groth16.c): BN254's base field Fq, its
 * quadratic extension Fq2 = Fq[u]/(u^2 + 1) and the scalar field Fr, 4 x 64-bit limbs,
 * little-endian, in Montgomery form (R = 2^256), multiplied with unsigned __int128.
 *
 * The constants (moduli, -p^-1 mod 2^64, R mod p, R^2 mod p, Fr's roots of unity) come from
 * build/groth16_constants.h, which circuits/native/build-prover.ts generates.
 */
#ifndef GROTH16_FIELD_H
#define GROTH16_FIELD_H

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef struct {
  uint64_t v[4];
} f256;

#include "groth16_constants.h"

/* r = a * b * 2^-256 mod p (CIOS Montgomery multiplication; p < 2^254, inputs < p). */
static inline void mont_mul(f256 *r, const f256 *a, const f256 *b, const uint64_t p[4],
                            uint64_t inv) {
  uint64_t t[6] = {0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 4; i++) {
    uint64_t carry = 0;
    for (int j = 0; j < 4; j++) {
      u128 uv = (u128)a->v[j] * b->v[i] + t[j] + carry;
      t[j] = (uint64_t)uv;
      carry = (uint64_t)(uv >> 64);
    }
    u128 s = (u128)t[4] + carry;
    t[4] = (uint64_t)s;
    t[5] = (uint64_t)(s >> 64);
    uint64_t m = t[0] * inv;
    u128 uv = (u128)m * p[0] + t[0];
    carry = (uint64_t)(uv >> 64);
    for (int j = 1; j < 4; j++) {
      uv = (u128)m * p[j] + t[j] + carry;
      t[j - 1] = (uint64_t)uv;
      carry = (uint64_t)(uv >> 64);
    }
    s = (u128)t[4] + carry;
    t[3] = (uint64_t)s;
    t[4] = t[5] + (uint64_t)(s >> 64);
  }
  /* t < 2p: subtract p once if t >= p */
  uint64_t d[4];
  uint64_t borrow = 0;
  for (int j = 0; j < 4; j++) {
    u128 x = (u128)t[j] - p[j] - borrow;
    d[j] = (uint64_t)x;
    borrow = (uint64_t)(x >> 64) & 1;
  }
  if (t[4] || !borrow) {
    memcpy(r->v, d, sizeof d);
  } else {
    memcpy(r->v, t, sizeof d);
  }
}

static inline void mod_add(f256 *r, const f256 *a, const f256 *b, const uint64_t p[4]) {
  uint64_t s[4], d[4], carry = 0, borrow = 0;
  for (int j = 0; j < 4; j++) {
    u128 x = (u128)a->v[j] + b->v[j] + carry;
    s[j] = (uint64_t)x;
    carry = (uint64_t)(x >> 64);
  }
  for (int j = 0; j < 4; j++) {
    u128 x = (u128)s[j] - p[j] - borrow;
    d[j] = (uint64_t)x;
    borrow = (uint64_t)(x >> 64) & 1;
  }
  memcpy(r->v, (carry || !borrow) ? d : s, sizeof s);
}

static inline void mod_sub(f256 *r, const f256 *a, const f256 *b, const uint64_t p[4]) {
  uint64_t d[4], borrow = 0;
  for (int j = 0; j < 4; j++) {
    u128 x = (u128)a->v[j] - b->v[j] - borrow;
    d[j] = (uint64_t)x;
    borrow = (uint64_t)(x >> 64) & 1;
  }
  if (borrow) {
    uint64_t carry = 0;
    for (int j = 0; j < 4; j++) {
      u128 x = (u128)d[j] + p[j] + carry;
      d[j] = (uint64_t)x;
      carry = (uint64_t)(x >> 64);
    }
  }
  memcpy(r->v, d, sizeof d);
}

static inline int f256_is_zero(const f256 *a) { return !(a->v[0] | a->v[1] | a->v[2] | a->v[3]); }
static inline int f256_eq(const f256 *a, const f256 *b) {
  return !((a->v[0] ^ b->v[0]) | (a->v[1] ^ b->v[1]) | (a->v[2] ^ b->v[2]) | (a->v[3] ^ b->v[3]));
}
/* a < p (a canonical element) */
static inline int f256_lt(const f256 *a, const uint64_t p[4]) {
  for (int j = 3; j >= 0; j--) {
    if (a->v[j] != p[j]) return a->v[j] < p[j];
  }
  return 0;
}

/* ------------------------------------------------------------------------------ Fq */

typedef f256 fq;
static inline void fq_mul(fq *r, const fq *a, const fq *b) { mont_mul(r, a, b, FQ_P, FQ_INV); }
static inline void fq_sqr(fq *r, const fq *a) { mont_mul(r, a, a, FQ_P, FQ_INV); }
static inline void fq_add(fq *r, const fq *a, const fq *b) { mod_add(r, a, b, FQ_P); }
static inline void fq_sub(fq *r, const fq *a, const fq *b) { mod_sub(r, a, b, FQ_P); }
static inline void fq_dbl(fq *r, const fq *a) { mod_add(r, a, a, FQ_P); }
static inline int fq_is_zero(const fq *a) { return f256_is_zero(a); }
static inline int fq_eq(const fq *a, const fq *b) { return f256_eq(a, b); }
static inline void fq_zero(fq *r) { memset(r, 0, sizeof *r); }
static inline void fq_one(fq *r) { memcpy(r->v, FQ_ONE, sizeof r->v); }
static inline void fq_neg(fq *r, const fq *a) {
  fq z;
  fq_zero(&z);
  fq_sub(r, &z, a);
}
/* a^e for e given as 4 little-endian limbs */
static void fq_pow(fq *r, const fq *a, const uint64_t e[4]) {
  fq acc, base = *a;
  fq_one(&acc);
  for (int i = 0; i < 256; i++) {
    if ((e[i / 64] >> (i % 64)) & 1) fq_mul(&acc, &acc, &base);
    fq_sqr(&base, &base);
  }
  *r = acc;
}
/* 1/a (Fermat: a^(q-2)); a != 0 */
static void fq_inv(fq *r, const fq *a) {
  uint64_t e[4];
  memcpy(e, FQ_P, sizeof e);
  e[0] -= 2; /* q is odd and > 2: no borrow */
  fq_pow(r, a, e);
}
/* Montgomery form -> standard form */
static inline void fq_from_mont(fq *r, const fq *a) {
  fq one = {{1, 0, 0, 0}};
  fq_mul(r, a, &one);
}

/* ----------------------------------------------------------------------------- Fq2 */

typedef struct {
  fq c0, c1;
} fq2;

static inline void fq2_add(fq2 *r, const fq2 *a, const fq2 *b) {
  fq_add(&r->c0, &a->c0, &b->c0);
  fq_add(&r->c1, &a->c1, &b->c1);
}
static inline void fq2_sub(fq2 *r, const fq2 *a, const fq2 *b) {
  fq_sub(&r->c0, &a->c0, &b->c0);
  fq_sub(&r->c1, &a->c1, &b->c1);
}
static inline void fq2_dbl(fq2 *r, const fq2 *a) { fq2_add(r, a, a); }
static inline void fq2_mul(fq2 *r, const fq2 *a, const fq2 *b) {
  fq t0, t1, s0, s1, m;
  fq_mul(&t0, &a->c0, &b->c0);
  fq_mul(&t1, &a->c1, &b->c1);
  fq_add(&s0, &a->c0, &a->c1);
  fq_add(&s1, &b->c0, &b->c1);
  fq_mul(&m, &s0, &s1);
  fq_sub(&r->c0, &t0, &t1); /* u^2 = -1 */
  fq_sub(&m, &m, &t0);
  fq_sub(&r->c1, &m, &t1);
}
static inline void fq2_sqr(fq2 *r, const fq2 *a) {
  fq s, d, p;
  fq_add(&s, &a->c0, &a->c1);
  fq_sub(&d, &a->c0, &a->c1);
  fq_mul(&p, &a->c0, &a->c1);
  fq_mul(&r->c0, &s, &d);
  fq_dbl(&r->c1, &p);
}
static inline int fq2_is_zero(const fq2 *a) { return fq_is_zero(&a->c0) && fq_is_zero(&a->c1); }
static inline int fq2_eq(const fq2 *a, const fq2 *b) {
  return fq_eq(&a->c0, &b->c0) && fq_eq(&a->c1, &b->c1);
}
static inline void fq2_zero(fq2 *r) { memset(r, 0, sizeof *r); }
static inline void fq2_one(fq2 *r) {
  fq_one(&r->c0);
  fq_zero(&r->c1);
}
static void fq2_inv(fq2 *r, const fq2 *a) {
  fq t0, t1, n, ni;
  fq_sqr(&t0, &a->c0);
  fq_sqr(&t1, &a->c1);
  fq_add(&n, &t0, &t1); /* norm: c0^2 + c1^2 */
  fq_inv(&ni, &n);
  fq_mul(&r->c0, &a->c0, &ni);
  fq_mul(&t1, &a->c1, &ni);
  fq_neg(&r->c1, &t1);
}

/* ------------------------------------------------------------------------------ Fr */

typedef f256 fr;
static inline void fr_mul(fr *r, const fr *a, const fr *b) { mont_mul(r, a, b, FR_P, FR_INV); }
static inline void fr_add(fr *r, const fr *a, const fr *b) { mod_add(r, a, b, FR_P); }
static inline void fr_sub(fr *r, const fr *a, const fr *b) { mod_sub(r, a, b, FR_P); }
static inline void fr_from_mont(fr *r, const fr *a) {
  fr one = {{1, 0, 0, 0}};
  fr_mul(r, a, &one);
}
static inline void fr_to_mont(fr *r, const fr *a) {
  fr r2;
  memcpy(r2.v, FR_R2, sizeof r2.v);
  fr_mul(r, a, &r2);
}

#endif
