/*
 * Poseidon over the BN254 scalar field, as circomlibjs' `poseidon_opt.js` computes it (the
 * sparse-matrix form from filecoin's neptune; the same function as circomlib's poseidon.circom).
 * Its constants C, S, M, P are generated at build time from circomlibjs'
 * poseidon_constants_opt.json into poseidon_constants.h (circuits/native/build.ts), never
 * pasted here. Field elements are 4 x 64-bit limbs in Montgomery form (R = 2^256), multiplied
 * with CIOS using unsigned __int128. No Node.js dependency (addon.c wraps it).
 */
#ifndef PARTPROOF_POSEIDON_H
#define PARTPROOF_POSEIDON_H
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef struct {
  uint64_t v[4];
} fe;

#include "poseidon_constants.h" /* FR_P, FR_INV, FR_R2, FR_ONE, constants per width */

/* ---------------------------------------------------------------- field arithmetic */

static inline int fe_geq_p(const uint64_t *a) {
  for (int i = 3; i >= 0; i--) {
    if (a[i] > FR_P[i]) return 1;
    if (a[i] < FR_P[i]) return 0;
  }
  return 1;
}

static inline void fe_sub_p(uint64_t *a) {
  u128 borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 d = (u128)a[i] - FR_P[i] - borrow;
    a[i] = (uint64_t)d;
    borrow = (d >> 64) & 1;
  }
}

static inline void fe_add(fe *r, const fe *a, const fe *b) {
  u128 c = 0;
  for (int i = 0; i < 4; i++) {
    c += (u128)a->v[i] + b->v[i];
    r->v[i] = (uint64_t)c;
    c >>= 64;
  }
  /* a, b < p < 2^254, so the sum never overflows 256 bits */
  if (fe_geq_p(r->v)) fe_sub_p(r->v);
}

/* r = a * b / 2^256 mod p (CIOS; the top limb of p is < 2^62, so no extra carry word) */
static inline void fe_mul(fe *r, const fe *a, const fe *b) {
  uint64_t t[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; i++) {
    u128 A = (u128)a->v[0] * b->v[i] + t[0];
    uint64_t m = (uint64_t)A * FR_INV;
    u128 C = (u128)m * FR_P[0] + (uint64_t)A;
    A >>= 64;
    C >>= 64;
    for (int j = 1; j < 4; j++) {
      A += (u128)a->v[j] * b->v[i] + t[j];
      C += (u128)m * FR_P[j] + (uint64_t)A;
      t[j - 1] = (uint64_t)C;
      A >>= 64;
      C >>= 64;
    }
    t[3] = (uint64_t)(C + A);
  }
  if (fe_geq_p(t)) fe_sub_p(t);
  memcpy(r->v, t, 32);
}

static inline void fe_pow5(fe *a) {
  fe x2, x4;
  fe_mul(&x2, a, a);
  fe_mul(&x4, &x2, &x2);
  fe_mul(a, &x4, a);
}

/* Lazy reduction for matrix-vector products: sum up to 17 full 512-bit products in 9 limbs and
 * reduce once (one Montgomery reduction per output instead of one per product). */
static inline void carry_into(uint64_t acc[9], int k, u128 c) {
  for (; c != 0 && k < 9; k++) {
    c += acc[k];
    acc[k] = (uint64_t)c;
    c >>= 64;
  }
}

static inline void fe_mac_wide(uint64_t acc[9], const fe *a, const fe *b) {
  for (int i = 0; i < 4; i++) {
    u128 c = 0;
    for (int j = 0; j < 4; j++) {
      c += (u128)a->v[j] * b->v[i] + acc[i + j];
      acc[i + j] = (uint64_t)c;
      c >>= 64;
    }
    carry_into(acc, i + 4, c);
  }
}

/* r = acc / 2^256 mod p for acc < 17 p^2 (Montgomery reduction, then a few subtractions) */
static inline void fe_reduce_wide(fe *r, uint64_t acc[9]) {
  for (int i = 0; i < 4; i++) {
    uint64_t m = acc[i] * FR_INV;
    u128 c = 0;
    for (int j = 0; j < 4; j++) {
      c += (u128)m * FR_P[j] + acc[i + j];
      acc[i + j] = (uint64_t)c;
      c >>= 64;
    }
    carry_into(acc, i + 4, c);
  }
  /* (acc + m p) / 2^256 < (17 p / 2^256 + 1) p < 6 p: acc[8] is 0 */
  memcpy(r->v, acc + 4, 32);
  while (fe_geq_p(r->v)) fe_sub_p(r->v);
}

/* out[i] = sum_j mat[j * t + i] * in[j] */
static inline void fe_mat_vec(fe *out, const fe *mat, const fe *in, int t) {
  for (int i = 0; i < t; i++) {
    uint64_t acc[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < t; j++) fe_mac_wide(acc, &mat[j * t + i], &in[j]);
    fe_reduce_wide(&out[i], acc);
  }
}

/* standard-form integer < 2^256 (reduced mod p first if needed) -> Montgomery form */
static inline void fe_from_u64s(fe *r, const uint64_t *x) {
  fe a;
  memcpy(a.v, x, 32);
  while (fe_geq_p(a.v)) fe_sub_p(a.v);
  fe r2;
  memcpy(r2.v, FR_R2, 32);
  fe_mul(r, &a, &r2);
}

static inline void fe_to_u64s(uint64_t *out, const fe *a) {
  fe one = {{1, 0, 0, 0}};
  fe r;
  fe_mul(&r, a, &one);
  memcpy(out, r.v, 32);
}

/* ---------------------------------------------------------------- Poseidon (opt form) */

typedef struct {
  int t, rp;
  const fe *C, *S, *M, *P; /* M and P are t x t, indexed [j * t + i] as circomlibjs' M[j][i] */
} params;

static void poseidon(const params *pr, fe *state /* t elements, state[0] = 0 */, fe *out) {
  const int t = pr->t;
  const fe *C = pr->C, *S = pr->S, *M = pr->M, *P = pr->P;
  fe tmp[17];
  for (int i = 0; i < t; i++) fe_add(&state[i], &state[i], &C[i]);
  for (int r = 0; r < 4; r++) {
    const fe *mat = r < 3 ? M : P;
    for (int i = 0; i < t; i++) {
      fe_pow5(&state[i]);
      fe_add(&state[i], &state[i], &C[(r + 1) * t + i]);
    }
    fe_mat_vec(tmp, mat, state, t);
    memcpy(state, tmp, sizeof(fe) * t);
  }
  for (int r = 0; r < pr->rp; r++) {
    fe_pow5(&state[0]);
    fe_add(&state[0], &state[0], &C[5 * t + r]);
    const fe *s = &S[(2 * t - 1) * r];
    fe s0, p;
    uint64_t acc[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < t; j++) fe_mac_wide(acc, &s[j], &state[j]);
    fe_reduce_wide(&s0, acc);
    for (int k = 1; k < t; k++) {
      fe_mul(&p, &state[0], &s[t + k - 1]);
      fe_add(&state[k], &state[k], &p);
    }
    state[0] = s0;
  }
  for (int r = 0; r < 4; r++) {
    for (int i = 0; i < t; i++) {
      fe_pow5(&state[i]);
      if (r < 3) fe_add(&state[i], &state[i], &C[5 * t + pr->rp + r * t + i]);
    }
    fe_mat_vec(tmp, M, state, t);
    memcpy(state, tmp, sizeof(fe) * t);
  }
  *out = state[0];
}

static const params P7 = {8, POSEIDON_RP_8, POSEIDON_C_8, POSEIDON_S_8, POSEIDON_M_8,
                          POSEIDON_P_8};
static const params P16 = {17, POSEIDON_RP_17, POSEIDON_C_17, POSEIDON_S_17, POSEIDON_M_17,
                           POSEIDON_P_17};

#endif
