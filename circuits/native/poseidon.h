/*
 * Poseidon over the BN254 scalar field, as circomlibjs' `poseidon_opt.js` computes it (the
 * sparse-matrix form from filecoin's neptune; the same function as circomlib's poseidon.circom).
 * Its constants C, S, M, P are generated at build time from circomlibjs'
 * poseidon_constants_opt.json into poseidon_constants.h (circuits/native/build.ts), never
 * pasted here. Field elements are 4 x 64-bit limbs in Montgomery form (R = 2^256); products
 * are scanned column by column (Montgomery reduction interleaved, or once per dot product).
 * No Node.js dependency (addon.c wraps it). CPU time per hash in the addon on a tree's real
 * inputs (one thread, AMD EPYC, GCC 12 -O3): leaf (P7) 51 us, node (P16) 141 us; the former
 * CIOS code with __int128 carries took 70 and 168 us (on random full-width inputs, a C
 * micro-benchmark of the permutation alone: 54 / 151 us against 86 / 225 us). Other than on
 * x86-64 the carries fall back to __int128 (same results, slower with GCC).
 *
 * On x86-64 CPUs with BMI2 and ADX the permutations run on the assembly kernels of
 * poseidon_adx.h instead (chosen at load time; the C kernels below stay the fallback and the
 * reference circuits/native/bench-poseidon.c checks them against).
 */
#ifndef PARTPROOF_POSEIDON_H
#define PARTPROOF_POSEIDON_H
#include <pthread.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef struct {
  uint64_t v[4];
} fe;

#include "poseidon_constants.h" /* FR_P, FR_P2 = 2p, FR_P4 = 4p, FR_INV, FR_R2, constants per width */

/* ---------------------------------------------------------------- field arithmetic
 *
 * Every fe is fully reduced (< p). Where the result of a comparison with p is a coin toss
 * (additions), the subtraction is branch-free: a mispredicted branch costs more than the
 * four subtractions and selects. */

/* Carry chains: the x86-64 add/sub-with-carry intrinsics where there are (GCC compiles
 * unsigned __int128 carry chains into several times more instructions), else __int128. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define ADDC(c, a, b, out) ((c) = _addcarry_u64((c), (a), (b), (unsigned long long *)(out)))
#define SUBB(c, a, b, out) ((c) = _subborrow_u64((c), (a), (b), (unsigned long long *)(out)))
#else
#define ADDC(c, a, b, out)                         \
  do {                                             \
    u128 s_ = (u128)(a) + (b) + (c);               \
    *(out) = (uint64_t)s_;                         \
    (c) = (unsigned char)(s_ >> 64);               \
  } while (0)
#define SUBB(c, a, b, out)                         \
  do {                                             \
    u128 s_ = (u128)(a) - (b) - (c);               \
    *(out) = (uint64_t)s_;                         \
    (c) = (unsigned char)((s_ >> 64) & 1);         \
  } while (0)
#endif

/* a -= m when a >= m, without branches (a, m < 2^256) */
static inline void limbs_cond_sub(uint64_t a[4], const uint64_t m[4]) {
  uint64_t d[4];
  unsigned char borrow = 0;
  SUBB(borrow, a[0], m[0], &d[0]);
  SUBB(borrow, a[1], m[1], &d[1]);
  SUBB(borrow, a[2], m[2], &d[2]);
  SUBB(borrow, a[3], m[3], &d[3]);
  uint64_t keep = (uint64_t)0 - borrow; /* all ones when a < m */
  for (int i = 0; i < 4; i++) a[i] = (a[i] & keep) | (d[i] & ~keep);
}

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
  unsigned char c = 0;
  ADDC(c, a->v[0], b->v[0], &r->v[0]);
  ADDC(c, a->v[1], b->v[1], &r->v[1]);
  ADDC(c, a->v[2], b->v[2], &r->v[2]);
  ADDC(c, a->v[3], b->v[3], &r->v[3]);
  /* a, b < p < 2^254, so the sum never overflows 256 bits; it is >= p about half the time */
  limbs_cond_sub(r->v, FR_P);
}

/* the fixed-bound limb loops must be unrolled for the limbs to stay in registers */
#if defined(__clang__)
#define UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define UNROLL _Pragma("GCC unroll 8")
#else
#define UNROLL
#endif

/* 192-bit accumulator (lo, hi, top) of the product-scanning loops: acc += x * y */
#define ACC_MAC(x, y)                         \
  do {                                        \
    u128 p_ = (u128)(x) * (y);                \
    unsigned char c_ = 0;                     \
    ADDC(c_, lo, (uint64_t)p_, &lo);          \
    ADDC(c_, hi, (uint64_t)(p_ >> 64), &hi);  \
    top += c_;                                \
  } while (0)
/* acc >>= 64 */
#define ACC_SHIFT() \
  do {              \
    lo = hi;        \
    hi = top;       \
    top = 0;        \
  } while (0)

/* r = a * b / 2^256 mod p: product and Montgomery reduction interleaved column by column
 * (product scanning, "FIPS" order). The result is < 2p and >= p only rarely, so that
 * subtraction keeps its (well-predicted) branch. */
static inline void fe_mul(fe *r, const fe *a, const fe *b) {
  const uint64_t *x = a->v, *y = b->v;
  uint64_t m[4], t[4];
  uint64_t lo = 0, hi = 0, top = 0;
  UNROLL
  for (int i = 0; i < 4; i++) {
    UNROLL
    for (int j = 0; j <= i; j++) ACC_MAC(x[j], y[i - j]);
    UNROLL
    for (int j = 0; j < i; j++) ACC_MAC(m[j], FR_P[i - j]);
    m[i] = lo * FR_INV;
    ACC_MAC(m[i], FR_P[0]); /* clears the low word */
    ACC_SHIFT();
  }
  UNROLL
  for (int i = 4; i < 8; i++) {
    UNROLL
    for (int j = i - 3; j < 4; j++) {
      ACC_MAC(x[j], y[i - j]);
      ACC_MAC(m[j], FR_P[i - j]);
    }
    t[i - 4] = lo;
    ACC_SHIFT();
  }
  if (fe_geq_p(t)) fe_sub_p(t);
  memcpy(r->v, t, 32);
}

/* Lazy reduction for dot products: w (8 limbs) = sum_{j < n} a[j * sa] * b[j * sb] as plain
 * integers, accumulated column by column (product scanning) in a 192-bit accumulator, and
 * reduced once by fe_redc_wide: one Montgomery reduction per output instead of one per
 * product. With a, b < p and n <= 20 the sum is < 20 p^2 < 2^512. */
static inline void fe_dot_wide(uint64_t w[8], const fe *a, int sa, const fe *b, int sb, int n) {
  /* two accumulators (even and odd j) halve the carry chain each product waits for */
  uint64_t lo = 0, hi = 0, top = 0;
  uint64_t lo2 = 0, hi2 = 0, top2 = 0;
  UNROLL
  for (int k = 0; k < 7; k++) {
    const int i0 = k < 4 ? 0 : k - 3, i1 = k < 4 ? k : 3;
    int j = 0;
    for (; j + 1 < n; j += 2) {
      const uint64_t *x = a[j * sa].v, *y = b[j * sb].v;
      const uint64_t *x2 = a[(j + 1) * sa].v, *y2 = b[(j + 1) * sb].v;
      UNROLL
      for (int i = i0; i <= i1; i++) {
        ACC_MAC(x[i], y[k - i]);
        {
          u128 p_ = (u128)x2[i] * y2[k - i];
          unsigned char c_ = 0;
          ADDC(c_, lo2, (uint64_t)p_, &lo2);
          ADDC(c_, hi2, (uint64_t)(p_ >> 64), &hi2);
          top2 += c_;
        }
      }
    }
    if (j < n) {
      const uint64_t *x = a[j * sa].v, *y = b[j * sb].v;
      UNROLL
      for (int i = i0; i <= i1; i++) ACC_MAC(x[i], y[k - i]);
    }
    unsigned char c = 0;
    ADDC(c, lo, lo2, &lo);
    ADDC(c, hi, hi2, &hi);
    top += top2 + c;
    lo2 = hi2 = top2 = 0;
    w[k] = lo;
    ACC_SHIFT();
  }
  w[7] = lo;
}

/* r = w / 2^256 mod p for w < 20 p^2 (Montgomery reduction by product scanning; the quotient
 * is then < 5 p, and three branch-free subtractions of 4p, 2p, p finish it) */
static inline void fe_redc_wide(fe *r, const uint64_t w[8]) {
  uint64_t m[4];
  uint64_t lo = 0, hi = 0, top = 0;
  UNROLL
  for (int i = 0; i < 4; i++) {
    unsigned char c = 0;
    ADDC(c, lo, w[i], &lo);
    ADDC(c, hi, 0, &hi);
    top += c;
    UNROLL
    for (int j = 0; j < i; j++) ACC_MAC(m[j], FR_P[i - j]);
    m[i] = lo * FR_INV;
    ACC_MAC(m[i], FR_P[0]);
    ACC_SHIFT();
  }
  UNROLL
  for (int i = 4; i < 8; i++) {
    unsigned char c = 0;
    ADDC(c, lo, w[i], &lo);
    ADDC(c, hi, 0, &hi);
    top += c;
    UNROLL
    for (int j = i - 3; j < 4; j++) ACC_MAC(m[j], FR_P[i - j]);
    r->v[i - 4] = lo;
    ACC_SHIFT();
  }
  limbs_cond_sub(r->v, FR_P4);
  limbs_cond_sub(r->v, FR_P2);
  limbs_cond_sub(r->v, FR_P);
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

/* r = a * b / 2^256 + c mod p */
static inline void fe_mul_add(fe *r, const fe *a, const fe *b, const fe *c) {
  fe p;
  fe_mul(&p, a, b);
  fe_add(r, c, &p);
}

/* ---------------------------------------------------------------- kernels
 *
 * On x86-64 with GCC or clang, poseidon_adx.h adds assembly kernels (MULX/ADCX/ADOX) of
 * fe_mul, fe_add, fe_dot_wide and fe_redc_wide with the same results. Each permutation below
 * is compiled twice, once per kernel set (K = POSEIDON_C or POSEIDON_ADX, a compile-time
 * constant, so the choice costs nothing inside the loops), and poseidon7 / poseidon16 take
 * the set chosen once at load time (poseidon_select_kernel). */
#define POSEIDON_C 0
#define POSEIDON_ADX 1
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(PARTPROOF_NO_ASM)
#include "poseidon_adx.h"
#define K_MUL(K, r, a, b) ((K) ? fe_mul_adx(r, a, b) : fe_mul(r, a, b))
#define K_ADD(K, r, a, b) ((K) ? fe_add_adx(r, a, b) : fe_add(r, a, b))
#define K_DOT(K, w, a, b, n) ((K) ? fe_dot_adx(w, a, b, n) : fe_dot_wide(w, a, 1, b, 1, n))
#define K_REDC(K, r, w) ((K) ? fe_redc_wide_adx(r, w) : fe_redc_wide(r, w))
#define K_MUL_ADD(K, r, a, b, c) ((K) ? fe_mul_add_adx(r, a, b, c) : fe_mul_add(r, a, b, c))
#else
#define POSEIDON_HAVE_ADX 0
static int cpu_has_bmi2_adx(void) { return 0; }
#define K_MUL(K, r, a, b) ((void)(K), fe_mul(r, a, b))
#define K_ADD(K, r, a, b) ((void)(K), fe_add(r, a, b))
#define K_DOT(K, w, a, b, n) ((void)(K), fe_dot_wide(w, a, 1, b, 1, n))
#define K_REDC(K, r, w) ((void)(K), fe_redc_wide(r, w))
#define K_MUL_ADD(K, r, a, b, c) ((void)(K), fe_mul_add(r, a, b, c))
#endif

/* fe_from_u64s / fe_to_u64s with kernel set K (a run-time value is fine: one branch) */
static inline void fe_from_u64s_k(const int K, fe *r, const uint64_t *x) {
  fe a, r2;
  memcpy(a.v, x, 32);
  while (fe_geq_p(a.v)) fe_sub_p(a.v);
  memcpy(r2.v, FR_R2, 32);
  K_MUL(K, r, &a, &r2);
}

static inline void fe_to_u64s_k(const int K, uint64_t *out, const fe *a) {
  fe one = {{1, 0, 0, 0}}, r;
  K_MUL(K, &r, a, &one);
  memcpy(out, r.v, 32);
}

/* ---------------------------------------------------------------- Poseidon (opt form) */

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* w += x (8 limbs; the sums the permutations form stay below 2^512) */
static inline void wide_add(uint64_t w[8], const uint64_t x[8]) {
  unsigned char c = 0;
  for (int i = 0; i < 8; i++) ADDC(c, w[i], x[i], &w[i]);
}

/* w += a * 2^256 (whose Montgomery reduction is a itself) */
static inline void wide_add_high(uint64_t w[8], const fe *a) {
  unsigned char c = 0;
  for (int i = 0; i < 4; i++) ADDC(c, w[4 + i], a->v[i], &w[4 + i]);
}

/* Partial rounds per block: 4 keeps every sum below the bounds of fe_dot_wide and
 * fe_redc_wide (a round's dot product has at most t + 3 = 20 pairs: 20 (p-1)^2 + (2^256 - 1) p
 * < 2^512 and the quotient < 5p; a block's end adds 4 pairs and a value < p at 2^256). */
#define POSEIDON_BLOCK 4

/*
 * Tables of the blocked partial rounds, derived once from circomlibjs' S (poseidon_opt's
 * sparse matrices): in round a, s = S[(2t - 1) a], its new state[0] = s[0..t-1] . state and
 * then state[k] += y_a * s[t + k - 1] for k >= 1, where y_a is the S-boxed state[0] the
 * round began with. Within a block starting at r0, state[k] is left as it was at r0, so
 * round a's dot product also needs sum_{r0 <= b < a} y_b * E[a][b - r0] with
 * E[a][q] = sum_{k >= 1} s_a[k] * s_{r0+q}[t + k - 1]; and U[block][k - 1][q] =
 * s_{r0+q}[t + k - 1] (the block's updates of state[k], contiguous for one dot product).
 */
#define POSEIDON_TABLES(t)                                                        \
  static fe POSEIDON_E_##t[POSEIDON_RP_##t][POSEIDON_BLOCK];                      \
  static fe POSEIDON_U_##t[(POSEIDON_RP_##t + POSEIDON_BLOCK - 1) / POSEIDON_BLOCK] \
                          [(t - 1) * POSEIDON_BLOCK];
POSEIDON_TABLES(8)
POSEIDON_TABLES(17)

static void poseidon_fill_tables(const int t, const int rp, const fe *S, fe (*E)[POSEIDON_BLOCK],
                                 fe *U) {
  for (int a = 0; a < rp; a++) {
    const int r0 = a - a % POSEIDON_BLOCK;
    const fe *sa = &S[(2 * t - 1) * a];
    memset(E[a], 0, sizeof E[a]);
    for (int q = 0; r0 + q < a; q++) {
      const fe *sb = &S[(2 * t - 1) * (r0 + q)];
      for (int k = 1; k < t; k++) fe_mul_add(&E[a][q], &sa[k], &sb[t + k - 1], &E[a][q]);
    }
  }
  for (int r0 = 0; r0 < rp; r0 += POSEIDON_BLOCK) {
    fe *u = U + (size_t)(r0 / POSEIDON_BLOCK) * (t - 1) * POSEIDON_BLOCK;
    memset(u, 0, sizeof(fe) * (t - 1) * POSEIDON_BLOCK);
    for (int q = 0; q < POSEIDON_BLOCK && r0 + q < rp; q++) {
      for (int k = 1; k < t; k++)
        u[(k - 1) * POSEIDON_BLOCK + q] = S[(2 * t - 1) * (r0 + q) + t + k - 1];
    }
  }
}

static void poseidon_tables_init(void) {
  poseidon_fill_tables(8, POSEIDON_RP_8, POSEIDON_S_8, POSEIDON_E_8, POSEIDON_U_8[0]);
  poseidon_fill_tables(17, POSEIDON_RP_17, POSEIDON_S_17, POSEIDON_E_17, POSEIDON_U_17[0]);
}

/* fills the tables once per process (any thread may hash first) */
static void poseidon_tables_ready(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, poseidon_tables_init);
}

/* One permutation of width t (a compile-time constant at each call below, so that every loop
 * over the state has a known trip count). MT and PT are circomlibjs' M and P transposed. */
static ALWAYS_INLINE void pow5_k(const int K, fe *a) {
  fe x2, x4;
  K_MUL(K, &x2, a, a);
  K_MUL(K, &x4, &x2, &x2);
  K_MUL(K, a, &x4, a);
}

/* a = a^5 + c (the last multiplication and the addition fused) */
static ALWAYS_INLINE void pow5_add_k(const int K, fe *a, const fe *c) {
  fe x2, x4;
  K_MUL(K, &x2, a, a);
  K_MUL(K, &x4, &x2, &x2);
  K_MUL_ADD(K, a, &x4, a, c);
}

static ALWAYS_INLINE void mat_vec_k(const int K, fe *out, const fe *matT, const fe *in, int t) {
  for (int i = 0; i < t; i++) {
    uint64_t w[8];
    K_DOT(K, w, &matT[i * t], in, t);
    K_REDC(K, &out[i], w);
  }
}

static ALWAYS_INLINE void poseidon_t(const int K, const int t, const int rp, const fe *C, const fe *S,
                                     const fe *MT, const fe *PT, const fe (*E)[POSEIDON_BLOCK],
                                     const fe *U, fe *state /* t elements, state[0] = 0 */,
                                     fe *out) {
  fe tmp[17];
  for (int i = 0; i < t; i++) K_ADD(K, &state[i], &state[i], &C[i]);
  for (int r = 0; r < 4; r++) {
    const fe *mat = r < 3 ? MT : PT;
    for (int i = 0; i < t; i++) {
      pow5_add_k(K, &state[i], &C[(r + 1) * t + i]);
    }
    mat_vec_k(K, tmp, mat, state, t);
    memcpy(state, tmp, sizeof(fe) * t);
  }
  /* Partial rounds, in blocks of POSEIDON_BLOCK (see POSEIDON_TABLES). Round a's new
   * state[0] is the S-row dot product over the state as the block began (state[1..t-1] are
   * not updated inside a block) plus the terms y_q * E[a][q] of the block's earlier rounds;
   * the next round's S-box on it is issued at once. At the block's end, state[k] +=
   * sum_q y_q U[k][q] as one dot product and one reduction per k (instead of one
   * multiplication and reduction per round and k). Every value is the same field element as
   * in circomlibjs' loop. (Computing the part over state[1..t-1] first, while the S-box of
   * y_a finishes, measured no faster.) */
  pow5_add_k(K, &state[0], &C[5 * t]);
  for (int r0 = 0; r0 < rp; r0 += POSEIDON_BLOCK) {
    const int len = rp - r0 < POSEIDON_BLOCK ? rp - r0 : POSEIDON_BLOCK;
    fe y[POSEIDON_BLOCK];
    for (int i = 0; i < len; i++) {
      const int a = r0 + i;
      uint64_t w[8];
      y[i] = state[0];
      K_DOT(K, w, &S[(2 * t - 1) * a], state, t);
      if (i > 0) {
        uint64_t w2[8];
        K_DOT(K, w2, E[a], y, i);
        wide_add(w, w2);
      }
      K_REDC(K, &state[0], w);
      if (a + 1 < rp) pow5_add_k(K, &state[0], &C[5 * t + a + 1]);
    }
    const fe *u = U + (size_t)(r0 / POSEIDON_BLOCK) * (t - 1) * POSEIDON_BLOCK;
    for (int k = 1; k < t; k++) {
      uint64_t w[8];
      K_DOT(K, w, &u[(k - 1) * POSEIDON_BLOCK], y, len);
      wide_add_high(w, &state[k]);
      K_REDC(K, &state[k], w);
    }
  }
  for (int r = 0; r < 3; r++) {
    for (int i = 0; i < t; i++) pow5_add_k(K, &state[i], &C[5 * t + rp + r * t + i]);
    mat_vec_k(K, tmp, MT, state, t);
    memcpy(state, tmp, sizeof(fe) * t);
  }
  /* The last round: the hash is state[0] alone, so only the first row of its matrix-vector
   * product is computed (1 dot product instead of t: ~5 % of a Poseidon16; same value). */
  for (int i = 0; i < t; i++) pow5_k(K, &state[i]);
  {
    uint64_t w[8];
    K_DOT(K, w, MT, state, t);
    K_REDC(K, out, w);
  }
}

/* The kernel set poseidon7 / poseidon16 use: POSEIDON_ADX when the CPU has BMI2 and ADX,
 * else POSEIDON_C, unless poseidon_select_kernel chose otherwise. */
static int poseidon_kernel = POSEIDON_C;

static const char *poseidon_kernel_name(int k) { return k == POSEIDON_ADX ? "adx" : "c"; }

/* Chooses the kernel set: "adx", "c", or NULL / "" for the best this CPU runs. Returns 0, or
 * -1 for an unknown name, -2 when "adx" is asked for and this CPU (or build) lacks it. */
static int poseidon_select_kernel(const char *want) {
  const int adx = POSEIDON_HAVE_ADX && cpu_has_bmi2_adx();
  if (!want || !*want) {
    poseidon_kernel = adx ? POSEIDON_ADX : POSEIDON_C;
  } else if (strcmp(want, "c") == 0) {
    poseidon_kernel = POSEIDON_C;
  } else if (strcmp(want, "adx") == 0) {
    if (!adx) return -2;
    poseidon_kernel = POSEIDON_ADX;
  } else {
    return -1;
  }
  return 0;
}

#define POSEIDON_WIDTH(name, t, K)                                                           \
  static void name(fe *state, fe *out) {                                                     \
    poseidon_tables_ready();                                                                 \
    poseidon_t(K, t, POSEIDON_RP_##t, POSEIDON_C_##t, POSEIDON_S_##t, POSEIDON_MT_##t,        \
               POSEIDON_PT_##t, (const fe(*)[POSEIDON_BLOCK])POSEIDON_E_##t,                   \
               POSEIDON_U_##t[0], state, out);                                               \
  }
POSEIDON_WIDTH(poseidon7_c, 8, POSEIDON_C)
POSEIDON_WIDTH(poseidon16_c, 17, POSEIDON_C)
#if POSEIDON_HAVE_ADX
POSEIDON_WIDTH(poseidon7_adx, 8, POSEIDON_ADX)
POSEIDON_WIDTH(poseidon16_adx, 17, POSEIDON_ADX)
#endif

/* Poseidon of 7 inputs (t = 8) with kernel set k: state[1..7] = inputs, state[0] = 0 */
static void poseidon7_k(int k, fe *state, fe *out) {
#if POSEIDON_HAVE_ADX
  if (k == POSEIDON_ADX) {
    poseidon7_adx(state, out);
    return;
  }
#endif
  (void)k;
  poseidon7_c(state, out);
}

/* Poseidon of 16 inputs (t = 17) with kernel set k: state[1..16] = inputs, state[0] = 0 */
static void poseidon16_k(int k, fe *state, fe *out) {
#if POSEIDON_HAVE_ADX
  if (k == POSEIDON_ADX) {
    poseidon16_adx(state, out);
    return;
  }
#endif
  (void)k;
  poseidon16_c(state, out);
}

#endif
