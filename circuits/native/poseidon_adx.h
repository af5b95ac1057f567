/*
 * x86-64 kernels of the BN254 Fr arithmetic of poseidon.h, in GCC extended inline assembly
 * with MULX (BMI2) and the two independent carry chains ADCX (carry flag) / ADOX (overflow
 * flag) of ADX. Why assembly: GCC compiles the _addcarry_u64 chains of the C kernels into
 * setc/movzbl round trips and stack spills (66 cycles per 4 x 4-limb product in a dot product
 * where ~20 suffice); with two flag chains a row of a product is 4 MULX and 8 additions.
 *
 * Used only when the CPU has BMI2 and ADX (poseidon.h chooses once, at load time); the C
 * kernels stay the fallback and the reference the tests compare these with. Every function
 * here returns the same fully reduced value (< p) as its C counterpart, so the hashes are
 * equal bit for bit.
 *
 * Measured (AMD EPYC Zen 3, GCC 12 -O3, CPU time of one thread, the minimum of 10 interleaved
 * runs on random inputs while other work loaded the 2 cores to a load average of 7):
 * Poseidon7 31.3 us against 53.4 us for the C kernels of main before these (1.71x), Poseidon16
 * 78.3 against 146.5 us (1.87x); valgrind counts 520k instructions per Poseidon16 against
 * 1,166k. circuits/native/bench-poseidon.ts bench repeats it. Since then (the unrolled dot
 * products below, the blocked partial rounds and the last round's single row of poseidon.h;
 * minimum of 15 interleaved rdtsc runs on one core, load 6): Poseidon7 24.7 us against 30.1,
 * Poseidon16 56.7 us against 75.1 (TSC time at 2.445 GHz; the core runs at ~3.25 GHz).
 *
 * Bounds the carry handling relies on (p < 2^254, its top limb < 2^62):
 * - fe_mul_adx (CIOS, Montgomery reduction interleaved row by row): with a, b < p the running
 *   value stays < 2p, so after each row the fifth limb never carries out (the "no final
 *   carry" variant: no sixth limb);
 * - fe_dot_wide_adx: a sum of n <= 20 products of values < p is < 20 p^2 < 2^512, so eight
 *   limbs hold it and no partial sum carries out of them;
 * - fe_redc_wide_adx: w + m p (m < 2^256) < 20 p^2 + 2^256 p < 2^512, and the quotient < 5p.
 */
#ifndef PARTPROOF_POSEIDON_ADX_H
#define PARTPROOF_POSEIDON_ADX_H

#define POSEIDON_HAVE_ADX 1
#include <cpuid.h>

/* Whether this CPU has BMI2 (MULX) and ADX (ADCX, ADOX): CPUID leaf 7, EBX bits 8 and 19. */
static int cpu_has_bmi2_adx(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (b & (1u << 8)) && (b & (1u << 19));
}

/* Operand names shared by the kernels below: [p0]..[p3] the limbs of p, [inv] -p^-1 mod 2^64 */
#define ADX_P_OPERANDS                                                                \
  [p0] "m"(FR_P[0]), [p1] "m"(FR_P[1]), [p2] "m"(FR_P[2]), [p3] "m"(FR_P[3]), \
      [inv] "m"(FR_INV)

/* One Montgomery step of CIOS: m = T0 * inv; (T0..T3, T4) += m * p, which clears T0 (its carry
 * goes on); the value shifted down one limb is then T1..T4, and T0 (now 0) serves as a zero. */
#define ADX_REDUCE_STEP(T0, T1, T2, T3, T4)                        \
  "movq " T0 ", %%rdx\n\t"                                         \
  "imulq %[inv], %%rdx\n\t"                                        \
  "xorl %k[lo], %k[lo]\n\t" /* clears CF and OF */                \
  "mulxq %[p0], %[lo], %[hi]\n\t"                                  \
  "adcxq %[lo], " T0 "\n\t"                                        \
  "adoxq %[hi], " T1 "\n\t"                                        \
  "mulxq %[p1], %[lo], %[hi]\n\t"                                  \
  "adcxq %[lo], " T1 "\n\t"                                        \
  "adoxq %[hi], " T2 "\n\t"                                        \
  "mulxq %[p2], %[lo], %[hi]\n\t"                                  \
  "adcxq %[lo], " T2 "\n\t"                                        \
  "adoxq %[hi], " T3 "\n\t"                                        \
  "mulxq %[p3], %[lo], %[hi]\n\t"                                  \
  "adcxq %[lo], " T3 "\n\t"                                        \
  "adoxq %[hi], " T4 "\n\t"                                        \
  "adcxq " T0 ", " T4 "\n\t"

/* One product row of CIOS for i >= 1: (T0..T3, T4) += a * b[I] where T4 is written (the
 * previous value is 0: the register freed by the last reduction step). */
#define ADX_MUL_ROW(I, T0, T1, T2, T3, T4)                         \
  "movq " #I "*8(%[b]), %%rdx\n\t"                                 \
  "xorl %k[zero], %k[zero]\n\t"                                    \
  "mulxq 0(%[a]), %[lo], %[hi]\n\t"                                \
  "adoxq %[lo], " T0 "\n\t"                                        \
  "adcxq %[hi], " T1 "\n\t"                                        \
  "mulxq 8(%[a]), %[lo], %[hi]\n\t"                                \
  "adoxq %[lo], " T1 "\n\t"                                        \
  "adcxq %[hi], " T2 "\n\t"                                        \
  "mulxq 16(%[a]), %[lo], %[hi]\n\t"                               \
  "adoxq %[lo], " T2 "\n\t"                                        \
  "adcxq %[hi], " T3 "\n\t"                                        \
  "mulxq 24(%[a]), %[lo], " T4 "\n\t"                              \
  "adoxq %[lo], " T3 "\n\t"                                        \
  "adcxq %[zero], " T4 "\n\t"                                      \
  "adoxq %[zero], " T4 "\n\t"

/* The CIOS rows and reduction steps of a * b / 2^256: the value, < 2p, ends in
 * (t4, t0, t1, t2); t3 is then free */
#define ADX_MONT_MUL                                                                   \
  /* row 0: (t0..t3, t4) = a * b[0] */                                                 \
  "movq 0(%[b]), %%rdx\n\t"                                                            \
  "xorl %k[zero], %k[zero]\n\t"                                                        \
  "mulxq 0(%[a]), %[t0], %[t1]\n\t"                                                    \
  "mulxq 8(%[a]), %[lo], %[t2]\n\t"                                                    \
  "adcxq %[lo], %[t1]\n\t"                                                             \
  "mulxq 16(%[a]), %[lo], %[t3]\n\t"                                                   \
  "adcxq %[lo], %[t2]\n\t"                                                             \
  "mulxq 24(%[a]), %[lo], %[t4]\n\t"                                                   \
  "adcxq %[lo], %[t3]\n\t"                                                             \
  "adcxq %[zero], %[t4]\n\t"                                                           \
  /* the limbs rotate: after each reduction step the value is one register further on */ \
  ADX_REDUCE_STEP("%[t0]", "%[t1]", "%[t2]", "%[t3]", "%[t4]")                         \
  ADX_MUL_ROW(1, "%[t1]", "%[t2]", "%[t3]", "%[t4]", "%[t0]")                          \
  ADX_REDUCE_STEP("%[t1]", "%[t2]", "%[t3]", "%[t4]", "%[t0]")                         \
  ADX_MUL_ROW(2, "%[t2]", "%[t3]", "%[t4]", "%[t0]", "%[t1]")                          \
  ADX_REDUCE_STEP("%[t2]", "%[t3]", "%[t4]", "%[t0]", "%[t1]")                         \
  ADX_MUL_ROW(3, "%[t3]", "%[t4]", "%[t0]", "%[t1]", "%[t2]")                          \
  ADX_REDUCE_STEP("%[t3]", "%[t4]", "%[t0]", "%[t1]", "%[t2]")

/* (t4, t0, t1, t2) -= p unless that borrows (the copies in lo, hi, t3, rdx) */
#define ADX_CSUB_P                  \
  "movq %[t4], %[lo]\n\t"           \
  "movq %[t0], %[hi]\n\t"           \
  "movq %[t1], %[t3]\n\t"           \
  "movq %[t2], %%rdx\n\t"           \
  "subq %[p0], %[lo]\n\t"           \
  "sbbq %[p1], %[hi]\n\t"           \
  "sbbq %[p2], %[t3]\n\t"           \
  "sbbq %[p3], %%rdx\n\t"           \
  "cmovncq %[lo], %[t4]\n\t"        \
  "cmovncq %[hi], %[t0]\n\t"        \
  "cmovncq %[t3], %[t1]\n\t"        \
  "cmovncq %%rdx, %[t2]\n\t"

#define ADX_STORE_R                 \
  "movq %[t4], 0(%[r])\n\t"         \
  "movq %[t0], 8(%[r])\n\t"         \
  "movq %[t1], 16(%[r])\n\t"        \
  "movq %[t2], 24(%[r])\n\t"

/* r = a * b / 2^256 mod p (Montgomery form, all < p; r may be a or b) */
static inline void fe_mul_adx(fe *r, const fe *a, const fe *b) {
  uint64_t t0, t1, t2, t3, t4, lo, hi, zero;
  __asm__ __volatile__(ADX_MONT_MUL ADX_CSUB_P ADX_STORE_R
                       : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3),
                         [t4] "=&r"(t4), [lo] "=&r"(lo), [hi] "=&r"(hi), [zero] "=&r"(zero)
                       : [a] "r"(a->v), [b] "r"(b->v), [r] "r"(r->v), ADX_P_OPERANDS
                       : "rdx", "cc", "memory");
}

/* r = a * b / 2^256 + c mod p, the same as fe_mul then fe_add with one fewer reduction: the
 * product before its final subtraction is < 2p, plus c < 3p (< 2^256), then two conditional
 * subtractions of p (all < p; r may be any of a, b, c) */
static inline void fe_mul_add_adx(fe *r, const fe *a, const fe *b, const fe *c) {
  uint64_t t0, t1, t2, t3, t4, lo, hi, zero;
  __asm__ __volatile__(ADX_MONT_MUL
                       "addq 0(%[c]), %[t4]\n\t"
                       "adcq 8(%[c]), %[t0]\n\t"
                       "adcq 16(%[c]), %[t1]\n\t"
                       "adcq 24(%[c]), %[t2]\n\t" ADX_CSUB_P ADX_CSUB_P ADX_STORE_R
                       : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3),
                         [t4] "=&r"(t4), [lo] "=&r"(lo), [hi] "=&r"(hi), [zero] "=&r"(zero)
                       : [a] "r"(a->v), [b] "r"(b->v), [c] "r"(c->v), [r] "r"(r->v),
                         ADX_P_OPERANDS
                       : "rdx", "cc", "memory");
}

/* r = a + b mod p (all < p; r may be a or b); a + b < 2^255 never carries out */
static inline void fe_add_adx(fe *r, const fe *a, const fe *b) {
  uint64_t t0, t1, t2, t3, s0, s1, s2, s3;
  __asm__ __volatile__(
      "movq 0(%[a]), %[t0]\n\t"
      "movq 8(%[a]), %[t1]\n\t"
      "movq 16(%[a]), %[t2]\n\t"
      "movq 24(%[a]), %[t3]\n\t"
      "addq 0(%[b]), %[t0]\n\t"
      "adcq 8(%[b]), %[t1]\n\t"
      "adcq 16(%[b]), %[t2]\n\t"
      "adcq 24(%[b]), %[t3]\n\t"
      "movq %[t0], %[s0]\n\t"
      "movq %[t1], %[s1]\n\t"
      "movq %[t2], %[s2]\n\t"
      "movq %[t3], %[s3]\n\t"
      "subq %[p0], %[s0]\n\t"
      "sbbq %[p1], %[s1]\n\t"
      "sbbq %[p2], %[s2]\n\t"
      "sbbq %[p3], %[s3]\n\t"
      "cmovncq %[s0], %[t0]\n\t"
      "cmovncq %[s1], %[t1]\n\t"
      "cmovncq %[s2], %[t2]\n\t"
      "cmovncq %[s3], %[t3]\n\t"
      "movq %[t0], 0(%[r])\n\t"
      "movq %[t1], 8(%[r])\n\t"
      "movq %[t2], 16(%[r])\n\t"
      "movq %[t3], 24(%[r])\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [s0] "=&r"(s0),
        [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3)
      : [a] "r"(a->v), [b] "r"(b->v), [r] "r"(r->v), [p0] "m"(FR_P[0]), [p1] "m"(FR_P[1]),
        [p2] "m"(FR_P[2]), [p3] "m"(FR_P[3])
      : "cc", "memory");
}

/* One row pass of the dot product: for every pair j, (W0..W5) += a[j].v[I] * b[j] (a 64 x 256
 * bit product). W5 starts the pass at 0 and only takes carries (OF chain); the carries of the
 * CF chain out of W3 are counted in c4 and added to W4 once at the end of the pass. Neither
 * can overflow (at most 20 carries each), so every pair ends with CF = OF = 0, and the loop's
 * add of 64 to the negative idx leaves them 0 too: the flags are cleared once per pass. */
#define ADX_DOT_ROW(I, W0, W1, W2, W3, W4, W5)                     \
  "movq %[neg], %[idx]\n\t"                                        \
  "xorl %k[c4], %k[c4]\n\t" /* also clears CF and OF */           \
  /* two pairs per loop; an odd count enters at the second */     \
  "testq $32, %[idx]\n\t" /* idx = -32 n: bit 5 is n's parity */ \
  "jz 1f\n\t"                                                      \
  "subq $32, %[idx]\n\t" /* CF = OF = 0: idx stays negative */    \
  "jmp 2f\n\t"                                                     \
  "1:\n\t"                                                         \
  "movq " #I "*8+0(%[ae],%[idx]), %%rdx\n\t"                     \
  "mulxq 0(%[be],%[idx]), %[lo], %[hi]\n\t"                      \
  "adcxq %[lo], " W0 "\n\t"                                        \
  "adoxq %[hi], " W1 "\n\t"                                        \
  "mulxq 0+8(%[be],%[idx]), %[lo], %[hi]\n\t"                    \
  "adcxq %[lo], " W1 "\n\t"                                        \
  "adoxq %[hi], " W2 "\n\t"                                        \
  "mulxq 0+16(%[be],%[idx]), %[lo], %[hi]\n\t"                   \
  "adcxq %[lo], " W2 "\n\t"                                        \
  "adoxq %[hi], " W3 "\n\t"                                        \
  "mulxq 0+24(%[be],%[idx]), %[lo], %[hi]\n\t"                   \
  "adcxq %[lo], " W3 "\n\t"                                        \
  "adoxq %[hi], " W4 "\n\t"                                        \
  "adcxq %[zero], %[c4]\n\t"                                       \
  "adoxq %[zero], " W5 "\n\t"                                      \
  "2:\n\t"                                                         \
  "movq " #I "*8+32(%[ae],%[idx]), %%rdx\n\t"                     \
  "mulxq 32(%[be],%[idx]), %[lo], %[hi]\n\t"                      \
  "adcxq %[lo], " W0 "\n\t"                                        \
  "adoxq %[hi], " W1 "\n\t"                                        \
  "mulxq 32+8(%[be],%[idx]), %[lo], %[hi]\n\t"                    \
  "adcxq %[lo], " W1 "\n\t"                                        \
  "adoxq %[hi], " W2 "\n\t"                                        \
  "mulxq 32+16(%[be],%[idx]), %[lo], %[hi]\n\t"                   \
  "adcxq %[lo], " W2 "\n\t"                                        \
  "adoxq %[hi], " W3 "\n\t"                                        \
  "mulxq 32+24(%[be],%[idx]), %[lo], %[hi]\n\t"                   \
  "adcxq %[lo], " W3 "\n\t"                                        \
  "adoxq %[hi], " W4 "\n\t"                                        \
  "adcxq %[zero], %[c4]\n\t"                                       \
  "adoxq %[zero], " W5 "\n\t"                                      \
  "addq $64, %[idx]\n\t"                                           \
  "jnz 1b\n\t"                                                     \
  "addq %[c4], " W4 "\n\t"                                         \
  "adcq $0, " W5 "\n\t"

/* w (8 limbs) = sum_{j < n} a[j] * b[j] as plain integers (n >= 1, n <= 20, all < p):
 * operand scanning one limb of the a[j] at a time over all pairs, in a six-register window
 * that slides up one limb per pass (the limb that leaves it is final and is stored). */
static inline void fe_dot_wide_adx(uint64_t w[8], const fe *a, const fe *b, int n) {
  uint64_t r0, r1, r2, r3, r4, r5, c4, lo, hi, idx;
  static const uint64_t zero = 0; /* a memory operand: no register is left for it at -O0 */
  const int64_t neg = -32 * (int64_t)n;
  const uint64_t *ae = a[n].v, *be = b[n].v; /* one past the end: idx counts up to 0 */
  __asm__ __volatile__(
      "xorl %k[r0], %k[r0]\n\t"
      "xorl %k[r1], %k[r1]\n\t"
      "xorl %k[r2], %k[r2]\n\t"
      "xorl %k[r3], %k[r3]\n\t"
      "xorl %k[r4], %k[r4]\n\t"
      "xorl %k[r5], %k[r5]\n\t"
      ADX_DOT_ROW(0, "%[r0]", "%[r1]", "%[r2]", "%[r3]", "%[r4]", "%[r5]")
      "movq %[r0], 0(%[w])\n\t"
      "xorl %k[r0], %k[r0]\n\t"
      ADX_DOT_ROW(1, "%[r1]", "%[r2]", "%[r3]", "%[r4]", "%[r5]", "%[r0]")
      "movq %[r1], 8(%[w])\n\t"
      "xorl %k[r1], %k[r1]\n\t"
      ADX_DOT_ROW(2, "%[r2]", "%[r3]", "%[r4]", "%[r5]", "%[r0]", "%[r1]")
      "movq %[r2], 16(%[w])\n\t"
      "xorl %k[r2], %k[r2]\n\t"
      ADX_DOT_ROW(3, "%[r3]", "%[r4]", "%[r5]", "%[r0]", "%[r1]", "%[r2]")
      "movq %[r3], 24(%[w])\n\t"
      "movq %[r4], 32(%[w])\n\t"
      "movq %[r5], 40(%[w])\n\t"
      "movq %[r0], 48(%[w])\n\t"
      "movq %[r1], 56(%[w])\n\t"
      : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3), [r4] "=&r"(r4),
        [r5] "=&r"(r5), [c4] "=&r"(c4), [lo] "=&r"(lo), [hi] "=&r"(hi), [idx] "=&r"(idx)
      /* "memory" rather than memory operands for a, b and w: their addresses could take more
       * registers than there are (14 with -O0) */
      : [ae] "r"(ae), [be] "r"(be), [w] "r"(w), [neg] "m"(neg), [zero] "m"(zero)
      : "rdx", "cc", "memory");
}

/* The dot products of the permutations have a compile-time length (t = 8 or 17, and 1..4
 * pairs in the blocked partial rounds of poseidon.h): those are
 * fully unrolled below, with every operand at a fixed displacement from a or b. Measured on
 * AMD EPYC Zen 3 (core cycles of one call, minimum of 200 x 200 calls, one core): 17 pairs
 * 435 cycles against 631 for the loop above, 8 pairs 217 against 306 (the loop's index
 * arithmetic and entry branch cost more than the products; ~6.4 cycles per pair row is what
 * four MULX and ten ADCX/ADOX take here, measured alone). Same rows, same results. */

/* one pair of the unrolled pass I: (W0..W5) += a[J].v[I] * b[J], carries of the CF chain out
 * of W3 counted in c4 (as in ADX_DOT_ROW; every pair ends with CF = OF = 0) */
#define ADX_DOT_PAIR(J, I, W0, W1, W2, W3, W4, W5)                 \
  "movq 32*(" #J ")+8*" #I "(%[a]), %%rdx\n\t"                       \
  "mulxq 32*(" #J ")(%[b]), %[lo], %[hi]\n\t"                        \
  "adcxq %[lo], " W0 "\n\t"                                        \
  "adoxq %[hi], " W1 "\n\t"                                        \
  "mulxq 32*(" #J ")+8(%[b]), %[lo], %[hi]\n\t"                      \
  "adcxq %[lo], " W1 "\n\t"                                        \
  "adoxq %[hi], " W2 "\n\t"                                        \
  "mulxq 32*(" #J ")+16(%[b]), %[lo], %[hi]\n\t"                     \
  "adcxq %[lo], " W2 "\n\t"                                        \
  "adoxq %[hi], " W3 "\n\t"                                        \
  "mulxq 32*(" #J ")+24(%[b]), %[lo], %[hi]\n\t"                     \
  "adcxq %[lo], " W3 "\n\t"                                        \
  "adoxq %[hi], " W4 "\n\t"                                        \
  "adcxq %[zero], %[c4]\n\t"                                       \
  "adoxq %[zero], " W5 "\n\t"

#define ADX_DOT_PAIRS8(J0, I, ...)                                                   \
  ADX_DOT_PAIR(J0 + 0, I, __VA_ARGS__) ADX_DOT_PAIR(J0 + 1, I, __VA_ARGS__)         \
      ADX_DOT_PAIR(J0 + 2, I, __VA_ARGS__) ADX_DOT_PAIR(J0 + 3, I, __VA_ARGS__)     \
          ADX_DOT_PAIR(J0 + 4, I, __VA_ARGS__) ADX_DOT_PAIR(J0 + 5, I, __VA_ARGS__) \
              ADX_DOT_PAIR(J0 + 6, I, __VA_ARGS__) ADX_DOT_PAIR(J0 + 7, I, __VA_ARGS__)
#define ADX_DOT_PAIRS_OF_1(I, ...) ADX_DOT_PAIR(0, I, __VA_ARGS__)
#define ADX_DOT_PAIRS_OF_2(I, ...) ADX_DOT_PAIR(0, I, __VA_ARGS__) ADX_DOT_PAIR(1, I, __VA_ARGS__)
#define ADX_DOT_PAIRS_OF_3(I, ...) ADX_DOT_PAIRS_OF_2(I, __VA_ARGS__) ADX_DOT_PAIR(2, I, __VA_ARGS__)
#define ADX_DOT_PAIRS_OF_4(I, ...)                                        \
  ADX_DOT_PAIR(0, I, __VA_ARGS__) ADX_DOT_PAIR(1, I, __VA_ARGS__)         \
      ADX_DOT_PAIR(2, I, __VA_ARGS__) ADX_DOT_PAIR(3, I, __VA_ARGS__)
#define ADX_DOT_PAIRS_OF_8(I, ...) ADX_DOT_PAIRS8(0, I, __VA_ARGS__)
#define ADX_DOT_PAIRS_OF_17(I, ...) \
  ADX_DOT_PAIRS8(0, I, __VA_ARGS__) ADX_DOT_PAIRS8(8, I, __VA_ARGS__) ADX_DOT_PAIR(16, I, __VA_ARGS__)

/* pass I of an unrolled dot product of N pairs: the pairs, then c4 into W4 */
#define ADX_DOT_PASS(N, I, W0, W1, W2, W3, W4, W5)      \
  "xorl %k[c4], %k[c4]\n\t" /* also clears CF and OF */ \
  ADX_DOT_PAIRS_OF_##N(I, W0, W1, W2, W3, W4, W5)       \
  "addq %[c4], " W4 "\n\t"                              \
  "adcq $0, " W5 "\n\t"

/* fe_dot_wide_adx for exactly N pairs, unrolled (not inlined: one copy of ~6 KB per N) */
#define ADX_DOT_UNROLLED(N)                                                                 \
  static __attribute__((noinline)) void fe_dot##N##_adx(uint64_t w[8], const fe *a,        \
                                                        const fe *b) {                      \
    uint64_t r0, r1, r2, r3, r4, r5, c4, lo, hi;                                            \
    __asm__ __volatile__(                                                                   \
        "xorl %k[r0], %k[r0]\n\t"                                                           \
        "xorl %k[r1], %k[r1]\n\t"                                                           \
        "xorl %k[r2], %k[r2]\n\t"                                                           \
        "xorl %k[r3], %k[r3]\n\t"                                                           \
        "xorl %k[r4], %k[r4]\n\t"                                                           \
        "xorl %k[r5], %k[r5]\n\t"                                                           \
        ADX_DOT_PASS(N, 0, "%[r0]", "%[r1]", "%[r2]", "%[r3]", "%[r4]", "%[r5]")             \
        "movq %[r0], 0(%[w])\n\t"                                                           \
        "xorl %k[r0], %k[r0]\n\t"                                                           \
        ADX_DOT_PASS(N, 1, "%[r1]", "%[r2]", "%[r3]", "%[r4]", "%[r5]", "%[r0]")             \
        "movq %[r1], 8(%[w])\n\t"                                                           \
        "xorl %k[r1], %k[r1]\n\t"                                                           \
        ADX_DOT_PASS(N, 2, "%[r2]", "%[r3]", "%[r4]", "%[r5]", "%[r0]", "%[r1]")             \
        "movq %[r2], 16(%[w])\n\t"                                                          \
        "xorl %k[r2], %k[r2]\n\t"                                                           \
        ADX_DOT_PASS(N, 3, "%[r3]", "%[r4]", "%[r5]", "%[r0]", "%[r1]", "%[r2]")             \
        "movq %[r3], 24(%[w])\n\t"                                                          \
        "movq %[r4], 32(%[w])\n\t"                                                          \
        "movq %[r5], 40(%[w])\n\t"                                                          \
        "movq %[r0], 48(%[w])\n\t"                                                          \
        "movq %[r1], 56(%[w])\n\t"                                                          \
        : [r0] "=&r"(r0), [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3), [r4] "=&r"(r4), \
          [r5] "=&r"(r5), [c4] "=&r"(c4), [lo] "=&r"(lo), [hi] "=&r"(hi)                    \
        : [a] "r"(a->v), [b] "r"(b->v), [w] "r"(w), [zero] "m"(adx_zero)                    \
        : "rdx", "cc", "memory");                                                           \
  }
static const uint64_t adx_zero = 0;
ADX_DOT_UNROLLED(1)
ADX_DOT_UNROLLED(2)
ADX_DOT_UNROLLED(3)
ADX_DOT_UNROLLED(4)
ADX_DOT_UNROLLED(8)
ADX_DOT_UNROLLED(17)

/* the dot product of n pairs: unrolled for the permutations' lengths (n a compile-time
 * constant there, so the choice folds away), else the loop */
static inline void fe_dot_adx(uint64_t w[8], const fe *a, const fe *b, int n) {
  switch (n) {
    case 17: fe_dot17_adx(w, a, b); break;
    case 8: fe_dot8_adx(w, a, b); break;
    /* the blocked partial rounds' terms of earlier rounds (1..3 pairs) and updates (4) */
    case 4: fe_dot4_adx(w, a, b); break;
    case 3: fe_dot3_adx(w, a, b); break;
    case 2: fe_dot2_adx(w, a, b); break;
    case 1: fe_dot1_adx(w, a, b); break;
    default: fe_dot_wide_adx(w, a, b, n);
  }
}

/* (x0..x3) -= m when that does not borrow (x < 2^256), without branches */
static inline void limbs_csub_adx(uint64_t *x0, uint64_t *x1, uint64_t *x2, uint64_t *x3,
                                  const uint64_t m[4]) {
  uint64_t s0 = *x0, s1 = *x1, s2 = *x2, s3 = *x3;
  __asm__ __volatile__(
      "subq %[m0], %[s0]\n\t"
      "sbbq %[m1], %[s1]\n\t"
      "sbbq %[m2], %[s2]\n\t"
      "sbbq %[m3], %[s3]\n\t"
      "cmovncq %[s0], %[x0]\n\t"
      "cmovncq %[s1], %[x1]\n\t"
      "cmovncq %[s2], %[x2]\n\t"
      "cmovncq %[s3], %[x3]\n\t"
      : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [x0] "+r"(*x0),
        [x1] "+r"(*x1), [x2] "+r"(*x2), [x3] "+r"(*x3)
      : [m0] "m"(m[0]), [m1] "m"(m[1]), [m2] "m"(m[2]), [m3] "m"(m[3])
      : "cc");
}

/* r = w / 2^256 mod p for w < 20 p^2 (Montgomery reduction of eight limbs; the quotient is
 * < 5p and three branch-free subtractions of 4p, 2p, p finish it, as in fe_redc_wide) */
static inline void fe_redc_wide_adx(fe *r, const uint64_t w[8]) {
  uint64_t t0, t1, t2, t3, t4, t5, t6, t7, lo, hi;
  __asm__ __volatile__(
      "movq 0(%[w]), %[t0]\n\t"
      "movq 8(%[w]), %[t1]\n\t"
      "movq 16(%[w]), %[t2]\n\t"
      "movq 24(%[w]), %[t3]\n\t"
      "movq 32(%[w]), %[t4]\n\t"
      "movq 40(%[w]), %[t5]\n\t"
      "movq 48(%[w]), %[t6]\n\t"
      "movq 56(%[w]), %[t7]\n\t"
      /* step i adds m p at limb i; its two carries run up to the top limb (t_i is then 0) */
      ADX_REDUCE_STEP("%[t0]", "%[t1]", "%[t2]", "%[t3]", "%[t4]")
      "adcxq %[t0], %[t5]\n\t"
      "adoxq %[t0], %[t5]\n\t"
      "adcxq %[t0], %[t6]\n\t"
      "adoxq %[t0], %[t6]\n\t"
      "adcxq %[t0], %[t7]\n\t"
      "adoxq %[t0], %[t7]\n\t"
      ADX_REDUCE_STEP("%[t1]", "%[t2]", "%[t3]", "%[t4]", "%[t5]")
      "adcxq %[t1], %[t6]\n\t"
      "adoxq %[t1], %[t6]\n\t"
      "adcxq %[t1], %[t7]\n\t"
      "adoxq %[t1], %[t7]\n\t"
      ADX_REDUCE_STEP("%[t2]", "%[t3]", "%[t4]", "%[t5]", "%[t6]")
      "adcxq %[t2], %[t7]\n\t"
      "adoxq %[t2], %[t7]\n\t"
      ADX_REDUCE_STEP("%[t3]", "%[t4]", "%[t5]", "%[t6]", "%[t7]")
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
        [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi)
      : [w] "r"(w), ADX_P_OPERANDS
      : "rdx", "cc", "memory");
  (void)t0, (void)t1, (void)t2, (void)t3, (void)lo, (void)hi;
  limbs_csub_adx(&t4, &t5, &t6, &t7, FR_P4);
  limbs_csub_adx(&t4, &t5, &t6, &t7, FR_P2);
  limbs_csub_adx(&t4, &t5, &t6, &t7, FR_P);
  r->v[0] = t4;
  r->v[1] = t5;
  r->v[2] = t6;
  r->v[3] = t7;
}

#endif
