/*
 * Test harness and micro-benchmark of the Poseidon kernels of poseidon.h: the portable C
 * kernels against the x86-64 BMI2/ADX assembly ones (poseidon_adx.h). Compiled and run by
 * circuits/native/bench-poseidon.ts (which generates poseidon_constants.h first).
 *
 *   bench-poseidon check [N]   N random cases per operation (default 200000), values drawn
 *                              near 0, near p and uniformly below p; exits 1 on a mismatch
 *   bench-poseidon bench [N]   CPU time per hash (P7, P16) and per kernel operation, each kernel
 *
 * Without BMI2/ADX (another CPU or compiler), `check` only runs the C kernels' own identities
 * and says the ADX kernels were not tested.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "poseidon.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}

/* a field element in Montgomery form (so < p): near 0, near p, with all-ones limbs below p's
 * top limb, or uniform */
static void random_fe(fe *r) {
  uint64_t x[4];
  unsigned kind = (unsigned)(rnd() % 5);
  if (kind == 0) { /* small: 0..15 */
    x[0] = rnd() % 16, x[1] = x[2] = x[3] = 0;
  } else if (kind == 1) { /* p - 1 - small */
    unsigned char b = 0;
    SUBB(b, FR_P[0], 1 + rnd() % 16, &x[0]);
    SUBB(b, FR_P[1], 0, &x[1]);
    SUBB(b, FR_P[2], 0, &x[2]);
    SUBB(b, FR_P[3], 0, &x[3]);
  } else if (kind == 2) { /* low limbs all ones, top limb just under p's */
    x[0] = x[1] = x[2] = UINT64_MAX;
    x[3] = FR_P[3] - 1 - rnd() % 4;
  } else { /* uniform below 2^254, then reduced */
    x[0] = rnd(), x[1] = rnd(), x[2] = rnd(), x[3] = rnd() >> 2;
    while (fe_geq_p(x)) fe_sub_p(x);
  }
  /* the raw limbs are used as the Montgomery representation: any value < p is one */
  memcpy(r->v, x, 32);
}

static int same(const fe *a, const fe *b) { return memcmp(a->v, b->v, 32) == 0; }

static void print_fe(const char *label, const fe *a) {
  fprintf(stderr, "  %s = %016llx %016llx %016llx %016llx\n", label,
          (unsigned long long)a->v[3], (unsigned long long)a->v[2], (unsigned long long)a->v[1],
          (unsigned long long)a->v[0]);
}

/* The permutation as circomlibjs' poseidon_opt.js loops it (one multiplication and addition
 * per round and state element in the partial rounds, every row of the last full round's
 * matrix), on the C kernels: the reference the blocked partial rounds of poseidon.h and the
 * last round's single row are checked against. */
static void poseidon_plain(const int t, const int rp, const fe *C, const fe *S, const fe *MT,
                           const fe *PT, fe *state, fe *out) {
  fe tmp[17];
  uint64_t w[8];
  for (int i = 0; i < t; i++) fe_add(&state[i], &state[i], &C[i]);
  for (int r = 0; r < 4; r++) {
    for (int i = 0; i < t; i++) {
      pow5_k(POSEIDON_C, &state[i]);
      fe_add(&state[i], &state[i], &C[(r + 1) * t + i]);
    }
    for (int i = 0; i < t; i++) {
      fe_dot_wide(w, &(r < 3 ? MT : PT)[i * t], 1, state, 1, t);
      fe_redc_wide(&tmp[i], w);
    }
    memcpy(state, tmp, sizeof(fe) * t);
  }
  for (int r = 0; r < rp; r++) {
    const fe *s = &S[(2 * t - 1) * r];
    fe s0 = {{0, 0, 0, 0}}, p;
    pow5_k(POSEIDON_C, &state[0]);
    fe_add(&state[0], &state[0], &C[5 * t + r]);
    for (int j = 0; j < t; j++) {
      fe_mul(&p, &s[j], &state[j]);
      fe_add(&s0, &s0, &p);
    }
    for (int k = 1; k < t; k++) {
      fe_mul(&p, &state[0], &s[t + k - 1]);
      fe_add(&state[k], &state[k], &p);
    }
    state[0] = s0;
  }
  for (int r = 0; r < 4; r++) {
    for (int i = 0; i < t; i++) {
      pow5_k(POSEIDON_C, &state[i]);
      if (r < 3) fe_add(&state[i], &state[i], &C[5 * t + rp + r * t + i]);
    }
    for (int i = 0; i < t; i++) {
      fe_dot_wide(w, &MT[i * t], 1, state, 1, t);
      fe_redc_wide(&tmp[i], w);
    }
    memcpy(state, tmp, sizeof(fe) * t);
  }
  *out = state[0];
}

static int check(long n) {
  long failures = 0;
  fe a[20], b[20], c;
  /* C kernels: results below p, and known identities (a * 1 in Montgomery form = a) */
  fe one;
  {
    uint64_t u[4] = {1, 0, 0, 0};
    fe_from_u64s(&one, u);
  }
  for (long k = 0; k < n && failures < 5; k++) {
    random_fe(&a[0]);
    random_fe(&b[0]);
    fe_mul(&c, &a[0], &one);
    if (!same(&c, &a[0]) || fe_geq_p(c.v)) {
      fprintf(stderr, "C fe_mul(a, 1) != a\n");
      print_fe("a", &a[0]);
      failures++;
    }
  }
#if POSEIDON_HAVE_ADX
  fe d;
  uint64_t w[8], w2[8];
  if (!cpu_has_bmi2_adx()) {
    printf("check: this CPU has no BMI2/ADX: the assembly kernels were not tested\n");
    return failures ? 1 : 0;
  }
  for (long k = 0; k < n && failures < 5; k++) {
    random_fe(&a[0]);
    random_fe(&b[0]);
    fe_mul(&c, &a[0], &b[0]);
    fe_mul_adx(&d, &a[0], &b[0]);
    if (!same(&c, &d)) {
      fprintf(stderr, "fe_mul differs\n");
      print_fe("a", &a[0]), print_fe("b", &b[0]), print_fe("C", &c), print_fe("adx", &d);
      failures++;
    }
    d = a[0]; /* in place, as pow5 does */
    fe_mul_adx(&d, &d, &d);
    fe_mul(&c, &a[0], &a[0]);
    if (!same(&c, &d)) {
      fprintf(stderr, "fe_mul (square in place) differs\n");
      print_fe("a", &a[0]);
      failures++;
    }
    random_fe(&a[1]);
    fe_mul_add(&c, &a[0], &b[0], &a[1]);
    d = a[1]; /* in place, as the partial rounds do */
    fe_mul_add_adx(&d, &a[0], &b[0], &d);
    if (!same(&c, &d)) {
      fprintf(stderr, "fe_mul_add differs\n");
      print_fe("a", &a[0]), print_fe("b", &b[0]), print_fe("c", &a[1]);
      failures++;
    }
    fe_add(&c, &a[0], &b[0]);
    fe_add_adx(&d, &a[0], &b[0]);
    if (!same(&c, &d)) {
      fprintf(stderr, "fe_add differs\n");
      print_fe("a", &a[0]), print_fe("b", &b[0]);
      failures++;
    }
  }
  for (long k = 0; k < n / 16 && failures < 5; k++) {
    int len = 1 + (int)(k % 20); /* up to 20: the blocked partial rounds' longest sums */
    for (int j = 0; j < len; j++) random_fe(&a[j]), random_fe(&b[j]);
    fe_dot_wide(w, a, 1, b, 1, len);
    fe_dot_wide_adx(w2, a, b, len);
    if (memcmp(w, w2, sizeof w) != 0) {
      fprintf(stderr, "fe_dot_wide differs (n = %d)\n", len);
      failures++;
    }
    fe_dot_adx(w2, a, b, len); /* unrolled for n = 8 and 17 */
    if (memcmp(w, w2, sizeof w) != 0) {
      fprintf(stderr, "fe_dot_adx differs (n = %d)\n", len);
      failures++;
    }
    fe_redc_wide(&c, w);
    fe_redc_wide_adx(&d, w);
    if (!same(&c, &d)) {
      fprintf(stderr, "fe_redc_wide differs (n = %d)\n", len);
      failures++;
    }
  }
  /* the largest sums: every pair (p - 1) * (p - 1) */
  for (int j = 0; j < 20; j++) {
    unsigned char bw = 0;
    SUBB(bw, FR_P[0], 1, &a[j].v[0]);
    for (int i = 1; i < 4; i++) SUBB(bw, FR_P[i], 0, &a[j].v[i]);
    b[j] = a[j];
  }
  fe_dot_wide(w, a, 1, b, 1, 17);
  fe_dot_wide_adx(w2, a, b, 17);
  fe_redc_wide(&c, w);
  fe_redc_wide_adx(&d, w2);
  if (memcmp(w, w2, sizeof w) != 0 || !same(&c, &d)) {
    fprintf(stderr, "dot product of 17 x (p - 1)^2 differs\n");
    failures++;
  }
  fe_dot17_adx(w2, a, b);
  if (memcmp(w, w2, sizeof w) != 0) {
    fprintf(stderr, "unrolled dot product of 17 x (p - 1)^2 differs\n");
    failures++;
  }
  for (int len = 1; len <= 20; len++) {
    fe_dot_wide(w, a, 1, b, 1, len);
    fe_dot_adx(w2, a, b, len); /* unrolled for 1..4, 8, 17 */
    fe_redc_wide(&c, w);
    fe_redc_wide_adx(&d, w2);
    if (memcmp(w, w2, sizeof w) != 0 || !same(&c, &d)) {
      fprintf(stderr, "dot product of %d x (p - 1)^2 differs\n", len);
      failures++;
    }
  }
  /* conversions in and out of Montgomery form, inputs up to 2^256 - 1 (reduced first) */
  for (long k = 0; k < n / 16 && failures < 5; k++) {
    uint64_t x[4] = {rnd(), rnd(), rnd(), rnd()}, o1[4], o2[4];
    if (k % 3 == 0) x[3] = FR_P[3] + (k % 2); /* around p and 2p, 3p */
    fe_from_u64s_k(POSEIDON_C, &c, x);
    fe_from_u64s_k(POSEIDON_ADX, &d, x);
    fe_to_u64s_k(POSEIDON_C, o1, &c);
    fe_to_u64s_k(POSEIDON_ADX, o2, &d);
    if (!same(&c, &d) || memcmp(o1, o2, 32) != 0) {
      fprintf(stderr, "conversion differs\n");
      failures++;
    }
  }
  /* whole permutations */
  for (long k = 0; k < n / 1000 + 8 && failures < 5; k++) {
    fe s1[17], s2[17], h1, h2;
    memset(&s1[0], 0, sizeof(fe));
    for (int i = 1; i < 17; i++) random_fe(&s1[i]);
    memcpy(s2, s1, sizeof s1);
    poseidon7_c(s1, &h1);
    poseidon7_adx(s2, &h2);
    if (!same(&h1, &h2)) fprintf(stderr, "poseidon7 differs\n"), failures++;
    memcpy(s2, s1, sizeof s1);
    poseidon16_c(s1, &h1);
    poseidon16_adx(s2, &h2);
    if (!same(&h1, &h2)) fprintf(stderr, "poseidon16 differs\n"), failures++;
  }
  /* the blocked partial rounds and the last round's single row against the plain loop */
  for (long k = 0; k < n / 1000 + 8 && failures < 5; k++) {
    fe s1[17], s2[17], s3[17], h1, h2, h3;
    memset(&s1[0], 0, sizeof(fe));
    for (int i = 1; i < 17; i++) random_fe(&s1[i]);
    memcpy(s2, s1, sizeof s1);
    memcpy(s3, s1, sizeof s1);
    poseidon_plain(8, POSEIDON_RP_8, POSEIDON_C_8, POSEIDON_S_8, POSEIDON_MT_8, POSEIDON_PT_8, s1,
                   &h1);
    poseidon7_c(s2, &h2);
    poseidon7_adx(s3, &h3);
    if (!same(&h1, &h2) || !same(&h1, &h3)) fprintf(stderr, "poseidon7 != plain\n"), failures++;
    memset(&s1[0], 0, sizeof(fe));
    for (int i = 1; i < 17; i++) random_fe(&s1[i]);
    memcpy(s2, s1, sizeof s1);
    memcpy(s3, s1, sizeof s1);
    poseidon_plain(17, POSEIDON_RP_17, POSEIDON_C_17, POSEIDON_S_17, POSEIDON_MT_17,
                   POSEIDON_PT_17, s1, &h1);
    poseidon16_c(s2, &h2);
    poseidon16_adx(s3, &h3);
    if (!same(&h1, &h2) || !same(&h1, &h3)) fprintf(stderr, "poseidon16 != plain\n"), failures++;
  }
  printf("check: %s (%ld cases per operation, C kernels against BMI2/ADX)\n",
         failures ? "MISMATCH" : "all equal", n);
#else
  printf("check: no assembly kernels in this build (not x86-64 GCC/clang)\n");
#endif
  return failures ? 1 : 0;
}

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t sink;

/* CPU microseconds per hash of width 7 or 16 with kernel set k, on random inputs */
static double time_hash(int k, int inputs, long n) {
  fe state[17], h;
  double t0 = cpu_now();
  for (long i = 0; i < n; i++) {
    memset(&state[0], 0, sizeof(fe));
    for (int j = 1; j <= inputs; j++) random_fe(&state[j]);
    if (inputs == 7)
      poseidon7_k(k, state, &h);
    else
      poseidon16_k(k, state, &h);
    sink ^= h.v[0];
  }
  return (cpu_now() - t0) / n * 1e6;
}

/* CPU nanoseconds per operation of kernel set k: a dependent chain of multiplications, four
 * independent ones, a 17-pair dot product with its reduction, an addition chain */
static void time_ops(int k, long n, double ns[4]) {
  fe a[17], b[17], x, y[4];
  uint64_t w[8];
  for (int j = 0; j < 17; j++) random_fe(&a[j]), random_fe(&b[j]);
  x = a[0];
  double t0 = cpu_now();
  for (long i = 0; i < n; i++) K_MUL(k, &x, &x, &b[i & 15]);
  ns[0] = (cpu_now() - t0) / n * 1e9;
  for (int j = 0; j < 4; j++) y[j] = a[j];
  t0 = cpu_now();
  for (long i = 0; i < n; i += 4)
    for (int j = 0; j < 4; j++) K_MUL(k, &y[j], &y[j], &b[(i + j) & 15]);
  ns[1] = (cpu_now() - t0) / n * 1e9;
  t0 = cpu_now();
  for (long i = 0; i < n / 10; i++) {
    K_DOT(k, w, a, b, 17);
    K_REDC(k, &a[i & 15], w);
  }
  ns[2] = (cpu_now() - t0) / (n / 10) * 1e9;
  t0 = cpu_now();
  for (long i = 0; i < n; i++) K_ADD(k, &x, &x, &b[i & 15]);
  ns[3] = (cpu_now() - t0) / n * 1e9;
  sink ^= x.v[0] ^ y[0].v[1] ^ a[3].v[2];
}

static int bench(long n) {
  int kernels[2] = {POSEIDON_C, POSEIDON_ADX};
  int count = POSEIDON_HAVE_ADX && cpu_has_bmi2_adx() ? 2 : 1;
  printf("%-6s %10s %10s %12s %12s %14s %10s\n", "kernel", "P7 us", "P16 us", "mul ns chain",
         "mul ns x4", "dot17+redc ns", "add ns");
  for (int c = 0; c < count; c++) {
    int k = kernels[c];
    double ops[4];
    double p7 = time_hash(k, 7, n), p16 = time_hash(k, 16, n / 2);
    time_ops(k, 2000000, ops);
    printf("%-6s %10.1f %10.1f %12.1f %12.1f %14.1f %10.1f\n", poseidon_kernel_name(k), p7, p16,
           ops[0], ops[1], ops[2], ops[3]);
  }
  poseidon_select_kernel(NULL);
  printf("(CPU time of one thread; random inputs; the addon's default here: %s; checksum %llx)\n",
         poseidon_kernel_name(poseidon_kernel), (unsigned long long)sink);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "check";
  long n = argc > 2 ? atol(argv[2]) : 0;
  if (strcmp(mode, "check") == 0) return check(n > 0 ? n : 200000);
  if (strcmp(mode, "bench") == 0) return bench(n > 0 ? n : 4000);
  fprintf(stderr, "usage: bench-poseidon check|bench [N]\n");
  return 2;
}
