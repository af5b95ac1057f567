/*
 * Short-Weierstrass curve y^2 = x^3 + b (a = 0) over a field, in Jacobian coordinates
 * (x = X/Z^2, y = Y/Z^3; Z = 0 is the point at infinity), included once per group by
 * groth16.c: G1 over Fq and G2 over Fq2. Before including, define
 *   CURVE_F   the field's prefix (fq, fq2): functions CURVE_F##_add, _sub, _mul, ...
 *   CURVE_G   the group's prefix (g1, g2): this file defines CURVE_G##_jac, _aff and functions.
 * Formulas: dbl-2009-l, madd-2007-bl, add-2007-bl (Explicit-Formulas Database, a = 0).
 */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define F(name) CAT(CURVE_F, CAT(_, name))
#define G(name) CAT(CURVE_G, CAT(_, name))
#define FT CURVE_F
#define JAC G(jac)
#define AFF G(aff)

typedef struct {
  FT x, y;
} AFF;
typedef struct {
  FT x, y, z;
} JAC;

static inline void G(set_inf)(JAC *p) {
  F(one)(&p->x);
  F(one)(&p->y);
  F(zero)(&p->z);
}
static inline int G(is_inf)(const JAC *p) { return F(is_zero)(&p->z); }
/* the zkey stores the point at infinity as x = y = 0 (not on the curve, since b != 0) */
static inline int G(aff_is_inf)(const AFF *p) { return F(is_zero)(&p->x) && F(is_zero)(&p->y); }

static void G(dbl)(JAC *r, const JAC *p) {
  if (G(is_inf)(p)) {
    *r = *p;
    return;
  }
  FT a, b, c, d, e, f, t, x3, y3, z3;
  F(sqr)(&a, &p->x);
  F(sqr)(&b, &p->y);
  F(sqr)(&c, &b);
  F(add)(&t, &p->x, &b);
  F(sqr)(&t, &t);
  F(sub)(&t, &t, &a);
  F(sub)(&t, &t, &c);
  F(dbl)(&d, &t); /* D = 2((X+B)^2 - A - C) */
  F(dbl)(&e, &a);
  F(add)(&e, &e, &a); /* E = 3A */
  F(sqr)(&f, &e);
  F(dbl)(&t, &d);
  F(sub)(&x3, &f, &t); /* X3 = F - 2D */
  F(sub)(&t, &d, &x3);
  F(mul)(&y3, &e, &t);
  F(dbl)(&c, &c);
  F(dbl)(&c, &c);
  F(dbl)(&c, &c);
  F(sub)(&y3, &y3, &c); /* Y3 = E(D - X3) - 8C */
  F(mul)(&z3, &p->y, &p->z);
  F(dbl)(&z3, &z3); /* Z3 = 2YZ */
  r->x = x3;
  r->y = y3;
  r->z = z3;
}

/* X3 = r^2 - J - 2V, Y3 = r(V - X3) - 2 Y1 J: the end of both additions below */
static inline void G(add_xy)(FT *x3, FT *y3, const FT *rr, const FT *j, const FT *v,
                             const FT *y1) {
  FT t;
  F(sqr)(x3, rr);
  F(sub)(x3, x3, j);
  F(sub)(x3, x3, v);
  F(sub)(x3, x3, v);
  F(sub)(&t, v, x3);
  F(mul)(y3, rr, &t);
  F(mul)(&t, y1, j);
  F(dbl)(&t, &t);
  F(sub)(y3, y3, &t);
}

/* r = p + q, q affine and not infinity (r may alias p) */
static void G(madd)(JAC *r, const JAC *p, const AFF *q) {
  if (G(is_inf)(p)) {
    r->x = q->x;
    r->y = q->y;
    F(one)(&r->z);
    return;
  }
  FT z1z1, u2, s2, h, hh, i, j, rr, v, x3, y3, z3;
  F(sqr)(&z1z1, &p->z);
  F(mul)(&u2, &q->x, &z1z1);
  F(mul)(&s2, &q->y, &p->z);
  F(mul)(&s2, &s2, &z1z1);
  F(sub)(&h, &u2, &p->x);
  F(sub)(&rr, &s2, &p->y);
  if (F(is_zero)(&h)) {
    if (F(is_zero)(&rr)) {
      G(dbl)(r, p);
    } else {
      G(set_inf)(r);
    }
    return;
  }
  F(dbl)(&rr, &rr);
  F(sqr)(&hh, &h);
  F(dbl)(&i, &hh);
  F(dbl)(&i, &i);
  F(mul)(&j, &h, &i);
  F(mul)(&v, &p->x, &i);
  G(add_xy)(&x3, &y3, &rr, &j, &v, &p->y);
  F(add)(&z3, &p->z, &h);
  F(sqr)(&z3, &z3);
  F(sub)(&z3, &z3, &z1z1);
  F(sub)(&z3, &z3, &hh); /* Z3 = (Z1 + H)^2 - Z1Z1 - HH */
  r->x = x3;
  r->y = y3;
  r->z = z3;
}

/* r = p + q (r may alias either) */
static void G(add)(JAC *r, const JAC *p, const JAC *q) {
  if (G(is_inf)(p)) {
    *r = *q;
    return;
  }
  if (G(is_inf)(q)) {
    *r = *p;
    return;
  }
  FT z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, x3, y3, z3;
  F(sqr)(&z1z1, &p->z);
  F(sqr)(&z2z2, &q->z);
  F(mul)(&u1, &p->x, &z2z2);
  F(mul)(&u2, &q->x, &z1z1);
  F(mul)(&s1, &p->y, &q->z);
  F(mul)(&s1, &s1, &z2z2);
  F(mul)(&s2, &q->y, &p->z);
  F(mul)(&s2, &s2, &z1z1);
  F(sub)(&h, &u2, &u1);
  F(sub)(&rr, &s2, &s1);
  if (F(is_zero)(&h)) {
    if (F(is_zero)(&rr)) {
      G(dbl)(r, p);
    } else {
      G(set_inf)(r);
    }
    return;
  }
  F(dbl)(&rr, &rr);
  F(dbl)(&i, &h);
  F(sqr)(&i, &i);
  F(mul)(&j, &h, &i);
  F(mul)(&v, &u1, &i);
  G(add_xy)(&x3, &y3, &rr, &j, &v, &s1);
  F(add)(&z3, &p->z, &q->z);
  F(sqr)(&z3, &z3);
  F(sub)(&z3, &z3, &z1z1);
  F(sub)(&z3, &z3, &z2z2);
  F(mul)(&z3, &z3, &h);
  r->x = x3;
  r->y = y3;
  r->z = z3;
}

static inline void G(from_aff)(JAC *r, const AFF *a) {
  if (G(aff_is_inf)(a)) {
    G(set_inf)(r);
    return;
  }
  r->x = a->x;
  r->y = a->y;
  F(one)(&r->z);
}

/* affine coordinates (x = y = 0 for infinity) */
static void G(to_aff)(AFF *r, const JAC *p) {
  if (G(is_inf)(p)) {
    F(zero)(&r->x);
    F(zero)(&r->y);
    return;
  }
  FT zi, zi2, zi3;
  F(inv)(&zi, &p->z);
  F(sqr)(&zi2, &zi);
  F(mul)(&zi3, &zi2, &zi);
  F(mul)(&r->x, &p->x, &zi2);
  F(mul)(&r->y, &p->y, &zi3);
}

/* r = k * p, k a scalar in standard form (4 little-endian limbs) */
static void G(mul_scalar)(JAC *r, const JAC *p, const uint64_t k[4]) {
  JAC acc;
  G(set_inf)(&acc);
  for (int i = 255; i >= 0; i--) {
    G(dbl)(&acc, &acc);
    if ((k[i / 64] >> (i % 64)) & 1) G(add)(&acc, &acc, p);
  }
  *r = acc;
}

/* ----------------------------------------------------------------------- multi-exponentiation */

/* One MSM, sum of scalar[i] * point[i] over the indices idx (scalars not 0 or 1, points not
 * infinity), by Pippenger's bucket method: windows of c bits; thread t of T sums windows
 * t, t + T, ... into win[]. */
typedef struct {
  const uint8_t *points; /* affine points, sizeof(AFF) bytes each (zkey layout) */
  const fr *scalars;     /* standard form */
  const uint32_t *idx;
  uint32_t n;
  int c, nw, thread, threads;
  JAC *win;
} G(msm_job);

static inline uint32_t G(digit)(const fr *s, int bit, int c) {
  int limb = bit / 64, off = bit % 64;
  uint64_t v = s->v[limb] >> off;
  if (off + c > 64 && limb < 3) v |= s->v[limb + 1] << (64 - off);
  return (uint32_t)(v & ((1u << c) - 1));
}

/*
 * Batched affine bucket additions: a bucket holds an affine point; up to `batch` additions
 * "bucket += P" (each to a different bucket) wait in a batch, whose denominators x_P - x_B are
 * inverted together (Montgomery's trick: one inversion and 3 multiplications each), so an
 * addition costs ~6 multiplications instead of a mixed Jacobian addition's ~11. A point whose
 * bucket already waits in the batch goes to that bucket's Jacobian side sum instead.
 */
#ifndef MSM_BATCH_DIV
#define MSM_BATCH_DIV 8
#endif
#ifndef MSM_C_BELOW
#define MSM_C_BELOW 3
#endif
typedef struct {
  AFF *bk;        /* affine buckets */
  uint8_t *full;  /* bucket holds a point */
  JAC *side;      /* Jacobian side sums */
  uint8_t *sided; /* side sum not infinity */
  uint32_t *mark; /* batch number the bucket waits in */
  uint32_t *pb;   /* waiting: bucket, point */
  AFF *pp;
  FT *den, *pref;
  uint32_t n, batch, id;
} G(batcher);

static void G(batch_flush)(G(batcher) *bt) {
  uint32_t n = bt->n;
  if (n == 0) return;
  FT acc, inv;
  F(one)(&acc);
  for (uint32_t k = 0; k < n; k++) {
    F(sub)(&bt->den[k], &bt->pp[k].x, &bt->bk[bt->pb[k]].x);
    bt->pref[k] = acc;
    F(mul)(&acc, &acc, &bt->den[k]);
  }
  F(inv)(&acc, &acc); /* acc = 1 / product of all denominators (none is zero) */
  for (uint32_t k = n; k-- > 0;) {
    FT lam, x3, t;
    F(mul)(&inv, &acc, &bt->pref[k]); /* 1 / den[k] */
    F(mul)(&acc, &acc, &bt->den[k]);
    AFF *b = &bt->bk[bt->pb[k]];
    const AFF *q = &bt->pp[k];
    F(sub)(&t, &q->y, &b->y);
    F(mul)(&lam, &t, &inv);
    F(sqr)(&x3, &lam);
    F(sub)(&x3, &x3, &b->x);
    F(sub)(&x3, &x3, &q->x);
    F(sub)(&t, &b->x, &x3);
    F(mul)(&t, &t, &lam);
    F(sub)(&b->y, &t, &b->y);
    b->x = x3;
  }
  bt->n = 0;
  bt->id++;
}

static void G(batch_add)(G(batcher) *bt, uint32_t b, const AFF *q) {
  if (!bt->full[b]) {
    bt->bk[b] = *q;
    bt->full[b] = 1;
    return;
  }
  if (bt->mark[b] == bt->id) { /* already waiting in this batch */
    G(madd)(&bt->side[b], &bt->side[b], q);
    bt->sided[b] = 1;
    return;
  }
  AFF *bp = &bt->bk[b];
  if (F(eq)(&bp->x, &q->x)) { /* P = bucket (double it) or P = -bucket (empty it): rare */
    if (F(eq)(&bp->y, &q->y)) {
      JAC j;
      G(from_aff)(&j, bp);
      G(dbl)(&j, &j);
      G(to_aff)(bp, &j);
    } else {
      bt->full[b] = 0;
    }
    return;
  }
  bt->mark[b] = bt->id;
  bt->pb[bt->n] = b;
  bt->pp[bt->n] = *q;
  if (++bt->n == bt->batch) G(batch_flush)(bt);
}

static void *G(msm_worker)(void *arg) {
  G(msm_job) *jb = (G(msm_job) *)arg;
  uint32_t nb = (1u << jb->c) - 1;
  uint32_t batch = nb / MSM_BATCH_DIV < 1024 ? nb / MSM_BATCH_DIV : 1024;
  if (batch < 1) batch = 1;
  G(batcher) bt = {0};
  bt.bk = (AFF *)malloc(sizeof(AFF) * nb);
  bt.full = (uint8_t *)malloc(nb);
  bt.side = (JAC *)malloc(sizeof(JAC) * nb);
  bt.sided = (uint8_t *)malloc(nb);
  bt.mark = (uint32_t *)malloc(sizeof(uint32_t) * nb);
  bt.pb = (uint32_t *)malloc(sizeof(uint32_t) * batch);
  bt.pp = (AFF *)malloc(sizeof(AFF) * batch);
  bt.den = (FT *)malloc(sizeof(FT) * batch);
  bt.pref = (FT *)malloc(sizeof(FT) * batch);
  bt.batch = batch;
  void *ret = NULL;
  if (!bt.bk || !bt.full || !bt.side || !bt.sided || !bt.mark || !bt.pb || !bt.pp || !bt.den ||
      !bt.pref) {
    ret = (void *)1;
    goto out;
  }
  AFF a;
  for (int w = jb->thread; w < jb->nw; w += jb->threads) {
    memset(bt.full, 0, nb);
    memset(bt.sided, 0, nb);
    for (uint32_t b = 0; b < nb; b++) {
      G(set_inf)(&bt.side[b]);
      bt.mark[b] = UINT32_MAX;
    }
    bt.n = 0;
    bt.id = 0;
    for (uint32_t k = 0; k < jb->n; k++) {
      uint32_t i = jb->idx[k];
      uint32_t d = G(digit)(&jb->scalars[i], w * jb->c, jb->c);
      if (!d) continue;
      memcpy(&a, jb->points + (size_t)i * sizeof(AFF), sizeof(AFF));
      G(batch_add)(&bt, d - 1, &a);
    }
    G(batch_flush)(&bt);
    /* sum of d * bucket[d-1]: running sums from the top bucket down */
    JAC run, sum;
    G(set_inf)(&run);
    G(set_inf)(&sum);
    for (uint32_t b = nb; b-- > 0;) {
      if (bt.full[b]) G(madd)(&run, &run, &bt.bk[b]);
      if (bt.sided[b]) G(add)(&run, &run, &bt.side[b]);
      G(add)(&sum, &sum, &run);
    }
    jb->win[w] = sum;
  }
out:
  free(bt.bk);
  free(bt.full);
  free(bt.side);
  free(bt.sided);
  free(bt.mark);
  free(bt.pb);
  free(bt.pp);
  free(bt.den);
  free(bt.pref);
  return ret;
}

/* r = sum over i < n of scalars[i] * points[i]; 0 on success, -1 when out of memory */
static int G(msm)(JAC *r, const uint8_t *points, const fr *scalars, uint32_t n, int threads) {
  G(set_inf)(r);
  uint32_t *idx = (uint32_t *)malloc(sizeof(uint32_t) * (n ? n : 1));
  if (!idx) return -1;
  uint32_t m = 0;
  JAC ones;
  G(set_inf)(&ones);
  AFF a;
  for (uint32_t i = 0; i < n; i++) {
    const fr *s = &scalars[i];
    if (!(s->v[1] | s->v[2] | s->v[3]) && s->v[0] <= 1) {
      if (s->v[0] == 1) { /* most witness values are bits: one addition, no windows */
        memcpy(&a, points + (size_t)i * sizeof(AFF), sizeof(AFF));
        if (!G(aff_is_inf)(&a)) G(madd)(&ones, &ones, &a);
      }
      continue;
    }
    memcpy(&a, points + (size_t)i * sizeof(AFF), sizeof(AFF));
    if (G(aff_is_inf)(&a)) continue;
    idx[m++] = i;
  }
  if (m > 0) {
    int lg = 0;
    while ((1u << (lg + 1)) <= m) lg++;
    int c = lg - MSM_C_BELOW; /* buckets (2^c) well below the points per window */
    if (c < 2) c = 2;
    if (c > 16) c = 16;
    int nw = (254 + c - 1) / c;
    if (threads < 1) threads = 1;
    if (threads > nw) threads = nw;
    JAC *win = (JAC *)malloc(sizeof(JAC) * nw);
    G(msm_job) *jobs = (G(msm_job) *)malloc(sizeof(G(msm_job)) * threads);
    pthread_t *tids = (pthread_t *)malloc(sizeof(pthread_t) * threads);
    int failed = !win || !jobs || !tids;
    if (!failed) {
      int started = 1;
      for (int t = 0; t < threads; t++) {
        jobs[t] = (G(msm_job)){points, scalars, idx, m, c, nw, t, threads, win};
      }
      for (int t = 1; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, G(msm_worker), &jobs[t]) != 0) break;
        started++;
      }
      /* windows of threads that did not start run here */
      for (int t = 0; t < threads; t++) {
        if (t == 0 || t >= started) failed |= G(msm_worker)(&jobs[t]) != NULL;
      }
      for (int t = 1; t < started; t++) {
        void *res;
        pthread_join(tids[t], &res);
        failed |= res != NULL;
      }
    }
    if (!failed) {
      JAC acc = win[nw - 1];
      for (int w = nw - 2; w >= 0; w--) {
        for (int k = 0; k < c; k++) G(dbl)(&acc, &acc);
        G(add)(&acc, &acc, &win[w]);
      }
      *r = acc;
    }
    free(win);
    free(jobs);
    free(tids);
    if (failed) {
      free(idx);
      return -1;
    }
  }
  G(add)(r, r, &ones);
  free(idx);
  return 0;
}

/* ------------------------------------------------------------- fixed-base multiplication */

/* out[i] = the affine form of in[i] (x = y = 0 for infinity), with one inversion for all
 * (Montgomery's trick); tmp holds n field elements. */
static void G(batch_to_aff)(AFF *out, const JAC *in, size_t n, FT *tmp) {
  FT acc, zi, zi2, zi3;
  F(one)(&acc);
  for (size_t i = 0; i < n; i++) {
    tmp[i] = acc;
    if (!G(is_inf)(&in[i])) F(mul)(&acc, &acc, &in[i].z);
  }
  F(inv)(&acc, &acc);
  for (size_t i = n; i-- > 0;) {
    if (G(is_inf)(&in[i])) {
      F(zero)(&out[i].x);
      F(zero)(&out[i].y);
      continue;
    }
    F(mul)(&zi, &acc, &tmp[i]); /* 1 / z_i */
    F(mul)(&acc, &acc, &in[i].z);
    F(sqr)(&zi2, &zi);
    F(mul)(&zi3, &zi2, &zi);
    F(mul)(&out[i].x, &in[i].x, &zi2);
    F(mul)(&out[i].y, &in[i].y, &zi3);
  }
}

/*
 * Fixed-base multiplication k_i * P of many scalars by one base P, with a window of c bits:
 * table row w holds d * 2^(c*w) * P (affine) for 1 <= d < 2^c, so k * P is the sum of one
 * table point per nonzero c-bit digit of k: ceil(254 / c) mixed additions at most. Thread t of
 * T builds rows t, t + T, ... and then multiplies its share of the scalars.
 */
#define FB_CHUNK 512
typedef struct {
  JAC base;           /* P (not infinity) */
  AFF *table;         /* nw rows of nd points */
  const fr *scalars;  /* standard form, below r */
  AFF *out;
  size_t n;
  int c, nw, thread, threads;
  int failed;
} G(fb_job);

static void *G(fb_table_worker)(void *arg) {
  G(fb_job) *jb = (G(fb_job) *)arg;
  uint32_t nd = (1u << jb->c) - 1;
  JAC *row = (JAC *)malloc(sizeof(JAC) * nd);
  FT *tmp = (FT *)malloc(sizeof(FT) * nd);
  if (!row || !tmp) {
    jb->failed = 1;
  } else {
    for (int w = jb->thread; w < jb->nw; w += jb->threads) {
      JAC b = jb->base;
      for (int k = 0; k < jb->c * w; k++) G(dbl)(&b, &b); /* 2^(c*w) * P */
      AFF ba;
      G(to_aff)(&ba, &b);
      row[0] = b;
      for (uint32_t d = 1; d < nd; d++) G(madd)(&row[d], &row[d - 1], &ba);
      G(batch_to_aff)(jb->table + (size_t)w * nd, row, nd, tmp);
    }
  }
  free(row);
  free(tmp);
  return NULL;
}

static void *G(fb_mul_worker)(void *arg) {
  G(fb_job) *jb = (G(fb_job) *)arg;
  uint32_t nd = (1u << jb->c) - 1;
  size_t lo = jb->n * jb->thread / jb->threads, hi = jb->n * (jb->thread + 1) / jb->threads;
  JAC *acc = (JAC *)malloc(sizeof(JAC) * FB_CHUNK);
  FT *tmp = (FT *)malloc(sizeof(FT) * FB_CHUNK);
  if (!acc || !tmp) {
    jb->failed = 1;
  } else {
    for (size_t i0 = lo; i0 < hi; i0 += FB_CHUNK) {
      size_t m = hi - i0 < FB_CHUNK ? hi - i0 : FB_CHUNK;
      for (size_t i = 0; i < m; i++) {
        G(set_inf)(&acc[i]);
        for (int w = 0; w < jb->nw; w++) {
          uint32_t d = G(digit)(&jb->scalars[i0 + i], w * jb->c, jb->c);
          if (d) G(madd)(&acc[i], &acc[i], &jb->table[(size_t)w * nd + d - 1]);
        }
      }
      G(batch_to_aff)(jb->out + i0, acc, m, tmp);
    }
  }
  free(acc);
  free(tmp);
  return NULL;
}

#ifndef FB_MAX_THREADS
#define FB_MAX_THREADS 16 /* below the fewest windows (20, c = 13): every thread builds rows */
#endif
/* Runs fn on jobs[0..threads) in threads (job 0 on the calling one); 0, or -1 if one failed. */
static int G(fb_run)(void *(*fn)(void *), G(fb_job) *jobs, int threads) {
  pthread_t tids[FB_MAX_THREADS];
  int started[FB_MAX_THREADS] = {0};
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&tids[t], NULL, fn, &jobs[t]) == 0;
  for (int t = 0; t < threads; t++) {
    if (t == 0 || !started[t]) fn(&jobs[t]);
  }
  int failed = 0;
  for (int t = 0; t < threads; t++) {
    if (t > 0 && started[t]) pthread_join(tids[t], NULL);
    failed |= jobs[t].failed;
  }
  return failed ? -1 : 0;
}

/* out[i] = scalars[i] * base for i < n (affine, x = y = 0 for infinity); base must be a point of
 * the prime-order group, not infinity. 0 on success, -1 when out of memory. */
static int G(fixed_base_mul)(AFF *out, const AFF *base, const fr *scalars, size_t n, int threads) {
  if (n == 0) return 0;
  /* the window that minimises table + multiplications, ceil(254/c) * (2^c + n) additions;
   * at most 13 bits (a G2 table is then 20 MB) */
  int c = 2;
  double best = 0;
  for (int k = 2; k <= 13; k++) {
    double cost = (double)((254 + k - 1) / k) * ((double)(1u << k) + (double)n);
    if (k == 2 || cost < best) {
      best = cost;
      c = k;
    }
  }
  int nw = (254 + c - 1) / c;
  if (threads < 1) threads = 1;
  if (threads > FB_MAX_THREADS) threads = FB_MAX_THREADS;
  AFF *table = (AFF *)malloc(sizeof(AFF) * (size_t)nw * ((1u << c) - 1));
  G(fb_job) jobs[FB_MAX_THREADS];
  if (!table) return -1;
  for (int t = 0; t < threads; t++) {
    jobs[t] = (G(fb_job)){.table = table, .scalars = scalars, .out = out, .n = n, .c = c,
                          .nw = nw, .thread = t, .threads = threads, .failed = 0};
    G(from_aff)(&jobs[t].base, base);
  }
  int rc = G(fb_run)(G(fb_table_worker), jobs, threads); /* threads <= 16 < nw: no idle row */
  if (rc == 0) rc = G(fb_run)(G(fb_mul_worker), jobs, threads);
  free(table);
  return rc;
}
#undef FB_CHUNK

#undef F
#undef G
#undef FT
#undef JAC
#undef AFF
#undef CURVE_F
#undef CURVE_G
