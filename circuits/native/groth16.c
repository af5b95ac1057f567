/*
 * Native Groth16 prover over BN254 (circuits/native/groth16.ts loads it; build-prover.ts
 * compiles it). Reads a snarkjs zkey (mapped from its file) and a snarkjs .wtns (bytes) and
 * computes the same proof snarkjs' groth16.prove would, with fresh randomness:
 *   1. A·w, B·w at the domain points from the zkey's coefficients, C·w = (A·w)(B·w);
 *   2. each: inverse FFT, multiply coefficient i by g^i (g a 2n-th root of unity: the odd
 *      coset, where the zkey's H points live), FFT; then A·B − C there;
 *   3. multi-exponentiations (Pippenger, all threads) of the zkey's A, B1, B2, C, H points;
 *   4. pi_a = A + alpha + r·delta, pi_b = B2 + beta + s·delta, pi_c = C + H + s·pi_a +
 *      r·(B1 + beta + s·delta) − r·s·delta, with r, s drawn from getrandom(2).
 *
 * Why native code: snarkjs' WebAssembly prover needs ~10 s of CPU for range_d20 (40k
 * constraints); the npm registry has no native prover for Node (rapidsnark is not published
 * there), and this code is a few times faster per core.
 *
 * It also multiplies one fixed base by many scalars (fixedBaseMul: windowed tables, all threads),
 * which the development setup (scripts/lib/dev-ptau.ts, dev-zkey.ts) spends most of its time on.
 *
 * Formats (all little-endian): binary files "zkey"/"wtns": magic, u32 version, u32 number of
 * sections, then per section u32 type, u64 size, data. Field elements are 32 bytes; the zkey's
 * points are affine in Montgomery form (x = y = 0 for infinity), the witness in standard form.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "groth16_field.h"

#define CURVE_F fq
#define CURVE_G g1
#include "groth16_curve.h"
#define CURVE_F fq2
#define CURVE_G g2
#include "groth16_curve.h"

/* ------------------------------------------------------------------- binary files */

typedef struct {
  const uint8_t *data; /* NULL when the file has no such section */
  uint64_t size;
} section;

#define MAX_SECTION 16

static uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Finds the sections of a binary file; returns an error message or NULL. */
static const char *read_sections(const uint8_t *buf, uint64_t len, const char *magic,
                                 section secs[MAX_SECTION]) {
  memset(secs, 0, sizeof(section) * MAX_SECTION);
  if (len < 12 || memcmp(buf, magic, 4) != 0) return "not a snarkjs binary file of that type";
  uint32_t n = rd32(buf + 8);
  uint64_t pos = 12;
  for (uint32_t k = 0; k < n; k++) {
    if (pos + 12 > len) return "truncated section table";
    uint32_t type = rd32(buf + pos);
    uint64_t size;
    memcpy(&size, buf + pos + 4, 8);
    pos += 12;
    if (size > len - pos) return "a section runs past the end of the file";
    if (type < MAX_SECTION) {
      if (secs[type].data) return "a section appears twice";
      secs[type].data = buf + pos;
      secs[type].size = size;
    }
    pos += size;
  }
  return NULL;
}

/* ------------------------------------------------------------------------- FFT */

static void bit_reverse(fr *a, uint32_t n, int lg) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t j = 0;
    for (int b = 0; b < lg; b++) j |= ((i >> b) & 1) << (lg - 1 - b);
    if (i < j) {
      fr t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}

/* In place: a[i] = sum_j a[j] * w^(ij), w = FR_ROOTS[lg] (ffjavascript's root of order 2^lg). */
static int fft(fr *a, int lg) {
  uint32_t n = 1u << lg;
  fr *tw = (fr *)malloc(sizeof(fr) * (n / 2 + 1));
  if (!tw) return -1;
  fr w;
  memcpy(w.v, FR_ROOTS[lg], sizeof w.v);
  memcpy(tw[0].v, FR_ONE, sizeof tw[0].v);
  for (uint32_t k = 1; k < n / 2; k++) fr_mul(&tw[k], &tw[k - 1], &w);
  bit_reverse(a, n, lg);
  for (uint32_t len = 2; len <= n; len <<= 1) {
    uint32_t half = len / 2, step = n / len;
    for (uint32_t i = 0; i < n; i += len) {
      for (uint32_t j = 0; j < half; j++) {
        fr t;
        fr_mul(&t, &a[i + j + half], &tw[j * step]);
        fr u = a[i + j];
        fr_add(&a[i + j], &u, &t);
        fr_sub(&a[i + j + half], &u, &t);
      }
    }
  }
  free(tw);
  return 0;
}

/* Evaluations on the domain -> evaluations on the odd coset g·<w> (g^2 = w). */
typedef struct {
  fr *a;
  int lg;
  int failed;
} coset_job;

static void *to_odd_coset(void *arg) {
  coset_job *jb = (coset_job *)arg;
  uint32_t n = 1u << jb->lg;
  fr *a = jb->a;
  /* inverse FFT: a forward FFT, indices 1..n-1 reversed, times 1/n */
  if (fft(a, jb->lg) != 0) {
    jb->failed = 1;
    return NULL;
  }
  for (uint32_t i = 1; i < n - i; i++) {
    fr t = a[i];
    a[i] = a[n - i];
    a[n - i] = t;
  }
  fr ninv, g, gi;
  memcpy(ninv.v, FR_INV_2K[jb->lg], sizeof ninv.v);
  memcpy(g.v, FR_ROOTS[jb->lg + 1], sizeof g.v);
  gi = ninv; /* coefficient i times g^i / n */
  for (uint32_t i = 0; i < n; i++) {
    fr_mul(&a[i], &a[i], &gi);
    fr_mul(&gi, &gi, &g);
  }
  if (fft(a, jb->lg) != 0) jb->failed = 1;
  return NULL;
}

/* ----------------------------------------------------------------------- proving */

typedef struct {
  /* inputs */
  char *zkey_path;
  uint8_t *wtns; /* a copy of the witness file */
  size_t wtns_len;
  int threads;
  /* outputs */
  uint8_t proof[259]; /* pi_a (x, y), pi_b (x.c0, x.c1, y.c0, y.c1), pi_c; 3 infinity flags */
  uint32_t n_public;
  char error[200];
  /* N-API */
  napi_async_work work;
  napi_deferred deferred;
} prove_job;

static void put_fq(uint8_t *out, const fq *a) {
  fq s;
  fq_from_mont(&s, a);
  memcpy(out, s.v, 32);
}

static int random_fr(fr *out) {
  for (;;) {
    uint8_t b[32];
    size_t got = 0;
    while (got < sizeof b) {
      ssize_t k = getrandom(b + got, sizeof b - got, 0);
      if (k < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      got += (size_t)k;
    }
    memcpy(out->v, b, 32);
    out->v[3] &= (1ULL << 62) - 1; /* r < 2^254: accept below r (p > 3/4 per draw) */
    if (f256_lt(out, FR_P)) return 0;
  }
}

/* PARTPROOF_PROVER_TRACE=1: each step's wall time on stderr */
static double trace_t0;
static void trace(const char *step) {
  static int on = -1;
  if (on < 0) on = getenv("PARTPROOF_PROVER_TRACE") != NULL;
  if (!on) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  if (step) fprintf(stderr, "groth16: %-12s %8.1f ms\n", step, now - trace_t0);
  trace_t0 = now;
}

#define FAIL(msg)                                              \
  do {                                                         \
    snprintf(jb->error, sizeof jb->error, "%s", (msg));        \
    goto done;                                                 \
  } while (0)

static void prove(prove_job *jb) {
  int fd = -1;
  uint8_t *map = MAP_FAILED;
  size_t map_len = 0;
  fr *w = NULL, *abc[3] = {NULL, NULL, NULL};
  section zs[MAX_SECTION], ws[MAX_SECTION];
  const char *err;

  trace(NULL);
  fd = open(jb->zkey_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) FAIL("cannot open the zkey");
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 12) FAIL("cannot read the zkey");
  map_len = (size_t)st.st_size;
  map = (uint8_t *)mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) FAIL("cannot map the zkey");
  if ((err = read_sections(map, map_len, "zkey", zs))) FAIL(err);
  if ((err = read_sections(jb->wtns, jb->wtns_len, "wtns", ws))) FAIL(err);

  /* zkey header */
  if (!zs[1].data || zs[1].size < 4 || rd32(zs[1].data) != 1) FAIL("the zkey is not groth16");
  const uint8_t *h = zs[2].data;
  if (!h || zs[2].size < 84 + 576) FAIL("the zkey has no groth16 header");
  if (rd32(h) != 32 || memcmp(h + 4, FQ_P, 32) != 0 || rd32(h + 36) != 32 ||
      memcmp(h + 40, FR_P, 32) != 0) {
    FAIL("the zkey is not over BN254 (bn128)");
  }
  uint32_t n_vars = rd32(h + 72), n_public = rd32(h + 76), domain = rd32(h + 80);
  int lg = 0;
  while (lg < 31 && (1u << lg) < domain) lg++;
  if (domain == 0 || (1u << lg) != domain || lg >= 28) FAIL("bad domain size in the zkey");
  if (n_public + 1 > n_vars) FAIL("bad sizes in the zkey header");
  const uint8_t *vk = h + 84;
  g1_aff alpha1, beta1, delta1;
  g2_aff beta2, delta2;
  memcpy(&alpha1, vk, 64);
  memcpy(&beta1, vk + 64, 64);
  memcpy(&beta2, vk + 128, 128);
  memcpy(&delta1, vk + 384, 64);
  memcpy(&delta2, vk + 448, 128);
  /* sections of points and coefficients */
  if (!zs[4].data || zs[4].size < 4) FAIL("the zkey has no coefficients");
  uint32_t n_coef = rd32(zs[4].data);
  if (zs[4].size != 4 + (uint64_t)n_coef * 44) FAIL("bad coefficient section in the zkey");
  if (!zs[5].data || zs[5].size != (uint64_t)n_vars * 64 || !zs[6].data ||
      zs[6].size != (uint64_t)n_vars * 64 || !zs[7].data ||
      zs[7].size != (uint64_t)n_vars * 128 || !zs[8].data ||
      zs[8].size != (uint64_t)(n_vars - n_public - 1) * 64 || !zs[9].data ||
      zs[9].size != (uint64_t)domain * 64) {
    FAIL("bad point sections in the zkey");
  }

  /* witness */
  if (!ws[1].data || ws[1].size < 40 || rd32(ws[1].data) != 32 ||
      memcmp(ws[1].data + 4, FR_P, 32) != 0) {
    FAIL("the witness is not over BN254's scalar field");
  }
  if (rd32(ws[1].data + 36) != n_vars) FAIL("the witness does not have the circuit's length");
  if (!ws[2].data || ws[2].size != (uint64_t)n_vars * 32) FAIL("bad witness section");
  w = (fr *)malloc(sizeof(fr) * n_vars);
  for (int k = 0; k < 3; k++) abc[k] = (fr *)calloc(domain, sizeof(fr));
  if (!w || !abc[0] || !abc[1] || !abc[2]) FAIL("out of memory");
  memcpy(w, ws[2].data, (size_t)n_vars * 32);
  for (uint32_t i = 0; i < n_vars; i++) {
    if (!f256_lt(&w[i], FR_P)) FAIL("a witness value is not below the field's modulus");
  }

  /* 1. A·w and B·w at the domain points; the coefficients are c·R^2 mod r, so a Montgomery
   *    product with a standard-form witness value is c·w in Montgomery form. */
  const uint8_t *co = zs[4].data + 4;
  for (uint32_t k = 0; k < n_coef; k++, co += 44) {
    uint32_t m = rd32(co), c = rd32(co + 4), s = rd32(co + 8);
    if (m > 1 || c >= domain || s >= n_vars) FAIL("bad coefficient in the zkey");
    fr coef, t;
    memcpy(coef.v, co + 12, 32);
    fr_mul(&t, &coef, &w[s]);
    fr_add(&abc[m][c], &abc[m][c], &t);
  }
  for (uint32_t i = 0; i < domain; i++) fr_mul(&abc[2][i], &abc[0][i], &abc[1][i]);

  trace("A, B, C");
  /* 2. to the odd coset, A, B and C each in its own thread */
  coset_job cj[3];
  pthread_t ct[3];
  int started[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++) {
    cj[k] = (coset_job){abc[k], lg, 0};
    if (jb->threads > 1) started[k] = pthread_create(&ct[k], NULL, to_odd_coset, &cj[k]) == 0;
    if (!started[k]) to_odd_coset(&cj[k]);
  }
  for (int k = 0; k < 3; k++) {
    if (started[k]) pthread_join(ct[k], NULL);
  }
  if (cj[0].failed || cj[1].failed || cj[2].failed) FAIL("out of memory");
  /* H's scalars: A·B − C on the coset, standard form (reusing A's array) */
  for (uint32_t i = 0; i < domain; i++) {
    fr t;
    fr_mul(&t, &abc[0][i], &abc[1][i]);
    fr_sub(&t, &t, &abc[2][i]);
    fr_from_mont(&abc[0][i], &t);
  }

  trace("FFTs, H");
  /* 3. multi-exponentiations */
  g1_jac pa, pb1, pc, ph, t1;
  g2_jac pb, t2;
  int th = jb->threads;
  if (g1_msm(&pa, zs[5].data, w, n_vars, th)) FAIL("out of memory");
  trace("MSM A");
  if (g1_msm(&pb1, zs[6].data, w, n_vars, th)) FAIL("out of memory");
  trace("MSM B1");
  if (g2_msm(&pb, zs[7].data, w, n_vars, th)) FAIL("out of memory");
  trace("MSM B2");
  if (g1_msm(&pc, zs[8].data, w + n_public + 1, n_vars - n_public - 1, th)) FAIL("out of memory");
  trace("MSM C");
  if (g1_msm(&ph, zs[9].data, abc[0], domain, th)) FAIL("out of memory");
  trace("MSM H");

  /* 4. randomness and the proof */
  fr r, s, rm, sm, rs;
  if (random_fr(&r) || random_fr(&s)) FAIL("getrandom failed");
  fr_to_mont(&rm, &r);
  fr_to_mont(&sm, &s);
  fr_mul(&rs, &rm, &sm);
  fr_from_mont(&rs, &rs);
  { /* -r·s mod r */
    fr z = {{0, 0, 0, 0}};
    fr_sub(&rs, &z, &rs);
  }
  g1_jac d1;
  g1_from_aff(&d1, &delta1);
  g1_from_aff(&t1, &alpha1);
  g1_add(&pa, &pa, &t1);
  g1_mul_scalar(&t1, &d1, r.v);
  g1_add(&pa, &pa, &t1); /* pi_a */
  g2_from_aff(&t2, &beta2);
  g2_add(&pb, &pb, &t2);
  g2_jac d2;
  g2_from_aff(&d2, &delta2);
  g2_mul_scalar(&t2, &d2, s.v);
  g2_add(&pb, &pb, &t2); /* pi_b */
  g1_from_aff(&t1, &beta1);
  g1_add(&pb1, &pb1, &t1);
  g1_mul_scalar(&t1, &d1, s.v);
  g1_add(&pb1, &pb1, &t1); /* B in G1 */
  g1_add(&pc, &pc, &ph);
  g1_mul_scalar(&t1, &pa, s.v);
  g1_add(&pc, &pc, &t1);
  g1_mul_scalar(&t1, &pb1, r.v);
  g1_add(&pc, &pc, &t1);
  g1_mul_scalar(&t1, &d1, rs.v);
  g1_add(&pc, &pc, &t1); /* pi_c */

  g1_aff oa, oc;
  g2_aff ob;
  g1_to_aff(&oa, &pa);
  g2_to_aff(&ob, &pb);
  g1_to_aff(&oc, &pc);
  put_fq(jb->proof, &oa.x);
  put_fq(jb->proof + 32, &oa.y);
  put_fq(jb->proof + 64, &ob.x.c0);
  put_fq(jb->proof + 96, &ob.x.c1);
  put_fq(jb->proof + 128, &ob.y.c0);
  put_fq(jb->proof + 160, &ob.y.c1);
  put_fq(jb->proof + 192, &oc.x);
  put_fq(jb->proof + 224, &oc.y);
  jb->proof[256] = (uint8_t)g1_is_inf(&pa);
  jb->proof[257] = (uint8_t)g2_is_inf(&pb);
  jb->proof[258] = (uint8_t)g1_is_inf(&pc);
  jb->n_public = n_public;
  trace("proof");

done:
  free(w);
  for (int k = 0; k < 3; k++) free(abc[k]);
  if (map != MAP_FAILED) munmap(map, map_len);
  if (fd >= 0) close(fd);
}

/* ------------------------------------------------------------------------ N-API */

/* Rejects a promise with an Error carrying msg. */
static void reject_with(napi_env env, napi_deferred deferred, const char *msg) {
  napi_value m, err;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &err);
  napi_reject_deferred(env, deferred, err);
}

static void execute(napi_env env, void *data) {
  (void)env;
  prove((prove_job *)data);
}

static void complete(napi_env env, napi_status status, void *data) {
  prove_job *jb = (prove_job *)data;
  if (status != napi_ok && !jb->error[0]) {
    snprintf(jb->error, sizeof jb->error, "the native proof was cancelled");
  }
  if (jb->error[0]) {
    reject_with(env, jb->deferred, jb->error);
  } else {
    napi_value obj, buf, np;
    void *dst;
    napi_create_object(env, &obj);
    napi_create_buffer_copy(env, sizeof jb->proof, jb->proof, &dst, &buf);
    napi_create_uint32(env, jb->n_public, &np);
    napi_set_named_property(env, obj, "proof", buf);
    napi_set_named_property(env, obj, "nPublic", np);
    napi_resolve_deferred(env, jb->deferred, obj);
  }
  napi_delete_async_work(env, jb->work);
  free(jb->zkey_path);
  free(jb->wtns);
  free(jb);
}

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* prove(zkeyPath: string, wtns: Uint8Array (a .wtns file), threads: number)
 *   -> Promise<{ proof: Buffer (259 bytes), nPublic: number }> */
static napi_value prove_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return throw_error(env, "prove: expected (zkeyPath, wtns, threads)");
  size_t path_len;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &path_len) != napi_ok) {
    return throw_error(env, "prove: zkeyPath must be a string");
  }
  bool is_ta;
  napi_is_typedarray(env, argv[1], &is_ta);
  if (!is_ta) return throw_error(env, "prove: wtns must be a Uint8Array");
  napi_typedarray_type type;
  size_t length, offset;
  void *bytes;
  napi_value ab;
  napi_get_typedarray_info(env, argv[1], &type, &length, &bytes, &ab, &offset);
  if (type != napi_uint8_array) return throw_error(env, "prove: wtns must be a Uint8Array");
  uint32_t threads;
  if (napi_get_value_uint32(env, argv[2], &threads) != napi_ok || threads < 1 || threads > 256) {
    return throw_error(env, "prove: threads must be 1..256");
  }
  prove_job *jb = (prove_job *)calloc(1, sizeof(prove_job));
  if (!jb) return throw_error(env, "prove: out of memory");
  jb->zkey_path = (char *)malloc(path_len + 1);
  jb->wtns = (uint8_t *)malloc(length ? length : 1);
  if (!jb->zkey_path || !jb->wtns) {
    free(jb->zkey_path);
    free(jb->wtns);
    free(jb);
    return throw_error(env, "prove: out of memory");
  }
  napi_get_value_string_utf8(env, argv[0], jb->zkey_path, path_len + 1, &path_len);
  memcpy(jb->wtns, bytes, length); /* the caller may reuse its buffer meanwhile */
  jb->wtns_len = length;
  jb->threads = (int)threads;
  napi_value promise, name;
  napi_create_promise(env, &jb->deferred, &promise);
  napi_create_string_utf8(env, "partproof-groth16", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, jb, &jb->work);
  napi_queue_async_work(env, jb->work);
  return promise;
}

/* ------------------------------------------------------------ fixed-base multiplication */

typedef struct {
  int group; /* 1: G1, 2: G2 */
  uint8_t base[128];
  fr *scalars;
  size_t n;
  int threads;
  uint8_t *out; /* n affine points, 64 or 128 bytes each */
  char error[120];
  napi_async_work work;
  napi_deferred deferred;
} fb_js_job;

static void fb_execute(napi_env env, void *data) {
  (void)env;
  fb_js_job *jb = (fb_js_job *)data;
  for (size_t i = 0; i < jb->n; i++) {
    if (!f256_lt(&jb->scalars[i], FR_P)) {
      snprintf(jb->error, sizeof jb->error, "fixedBaseMul: scalar %zu is not below r", i);
      return;
    }
  }
  int rc;
  if (jb->group == 1) {
    g1_aff base;
    memcpy(&base, jb->base, sizeof base);
    if (g1_aff_is_inf(&base)) {
      snprintf(jb->error, sizeof jb->error, "fixedBaseMul: the base is the point at infinity");
      return;
    }
    rc = g1_fixed_base_mul((g1_aff *)jb->out, &base, jb->scalars, jb->n, jb->threads);
  } else {
    g2_aff base;
    memcpy(&base, jb->base, sizeof base);
    if (g2_aff_is_inf(&base)) {
      snprintf(jb->error, sizeof jb->error, "fixedBaseMul: the base is the point at infinity");
      return;
    }
    rc = g2_fixed_base_mul((g2_aff *)jb->out, &base, jb->scalars, jb->n, jb->threads);
  }
  if (rc != 0) snprintf(jb->error, sizeof jb->error, "fixedBaseMul: out of memory");
}

static void fb_complete(napi_env env, napi_status status, void *data) {
  fb_js_job *jb = (fb_js_job *)data;
  if (status != napi_ok && !jb->error[0]) {
    snprintf(jb->error, sizeof jb->error, "fixedBaseMul was cancelled");
  }
  napi_value buf;
  void *dst;
  size_t size = (jb->group == 1 ? 64 : 128) * jb->n;
  if (jb->error[0]) {
    reject_with(env, jb->deferred, jb->error);
  } else if (napi_create_buffer_copy(env, size, size ? jb->out : (const void *)"", &dst, &buf) ==
             napi_ok) {
    napi_resolve_deferred(env, jb->deferred, buf);
  } else {
    reject_with(env, jb->deferred, "fixedBaseMul: out of memory");
  }
  napi_delete_async_work(env, jb->work);
  free(jb->scalars);
  free(jb->out);
  free(jb);
}

/* Bytes of a Uint8Array argument, or NULL. */
static const uint8_t *u8_arg(napi_env env, napi_value v, size_t *len) {
  bool is_ta;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return NULL;
  napi_typedarray_type type;
  size_t offset;
  void *bytes;
  napi_value ab;
  napi_get_typedarray_info(env, v, &type, len, &bytes, &ab, &offset);
  return type == napi_uint8_array ? (const uint8_t *)bytes : NULL;
}

/* fixedBaseMul(group: 1 | 2, base: Uint8Array (affine point, 64 or 128 bytes, snarkjs' LEM:
 *   Montgomery form, little-endian), scalars: Uint8Array (32-byte little-endian integers below r),
 *   threads: number) -> Promise<Buffer> (scalar_i * base, affine LEM, x = y = 0 for infinity) */
static napi_value fixed_base_mul_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_error(env, "fixedBaseMul: expected (group, base, scalars, threads)");
  uint32_t group, threads;
  if (napi_get_value_uint32(env, argv[0], &group) != napi_ok || (group != 1 && group != 2)) {
    return throw_error(env, "fixedBaseMul: group must be 1 or 2");
  }
  size_t point = group == 1 ? 64 : 128, base_len, scalars_len;
  const uint8_t *base = u8_arg(env, argv[1], &base_len);
  if (!base || base_len != point) {
    return throw_error(env, group == 1 ? "fixedBaseMul: base must be 64 bytes (G1)"
                                       : "fixedBaseMul: base must be 128 bytes (G2)");
  }
  const uint8_t *scalars = u8_arg(env, argv[2], &scalars_len);
  if (!scalars || scalars_len % 32 != 0) {
    return throw_error(env, "fixedBaseMul: scalars must be a Uint8Array of 32-byte integers");
  }
  if (napi_get_value_uint32(env, argv[3], &threads) != napi_ok || threads < 1 || threads > 256) {
    return throw_error(env, "fixedBaseMul: threads must be 1..256");
  }
  size_t n = scalars_len / 32;
  fb_js_job *jb = (fb_js_job *)calloc(1, sizeof(fb_js_job));
  if (!jb) return throw_error(env, "fixedBaseMul: out of memory");
  jb->scalars = (fr *)malloc(n ? scalars_len : 1); /* a copy: the caller may reuse its buffer */
  jb->out = (uint8_t *)malloc(n ? point * n : 1);
  if (!jb->scalars || !jb->out) {
    free(jb->scalars);
    free(jb->out);
    free(jb);
    return throw_error(env, "fixedBaseMul: out of memory");
  }
  memcpy(jb->scalars, scalars, scalars_len);
  memcpy(jb->base, base, point);
  jb->group = (int)group;
  jb->n = n;
  jb->threads = (int)threads;
  napi_value promise, name;
  napi_create_promise(env, &jb->deferred, &promise);
  napi_create_string_utf8(env, "partproof-fixed-base", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, fb_execute, fb_complete, jb, &jb->work);
  napi_queue_async_work(env, jb->work);
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "prove", NAPI_AUTO_LENGTH, prove_js, NULL, &fn);
  napi_set_named_property(env, exports, "prove", fn);
  napi_create_function(env, "fixedBaseMul", NAPI_AUTO_LENGTH, fixed_base_mul_js, NULL, &fn);
  napi_set_named_property(env, exports, "fixedBaseMul", fn);
  return exports;
}
