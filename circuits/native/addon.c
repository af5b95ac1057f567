/*
 * Node-API addon of the commitment tree (circuits/lib/tree-engine.ts loads it;
 * circuits/native/build.ts compiles it): hashes leaves and internal nodes of the Poseidon
 * Merkle-sum tree with the native Poseidon of poseidon.h, on several threads, off the
 * JavaScript thread (the calls return promises).
 *
 * Why native code: circomlibjs' WASM Poseidon hashes ~1,000 Poseidon16 per second per core,
 * so a 10^6-record tree took ~25 min in JavaScript; this code is ~5x faster per core (same
 * run, same load) and runs on every core without worker threads.
 *
 * Calls: hashLeaves / hashNodes hash chosen leaves or nodes of one level (appends, which reuse
 * the rest); hashTree hashes a whole fresh tree in one call, tile by tile (see TILE_LEVELS).
 *
 * Buffers (all little-endian, see circuits/lib/tree-engine.ts):
 *   record (80 B): key lo, key hi, v0, v1, v2, v3 (u64 each), salt (4 x u64)
 *   node  (120 B): hash (4 x u64, standard form), count (u64), sum0..sum3 (lo, hi u64 each),
 *                  min (u64), max (u64)
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <pthread.h>
#include <stdlib.h>

#include "poseidon.h"

/* The version of the calls below, their arguments and results, exported as `abi`:
 * circuits/lib/tree-engine.ts (NATIVE_ADDON_ABI) refuses an addon with another number. Raise
 * both together whenever a call changes meaning (an addon built from older sources with the
 * same call names would otherwise be used wrongly). */
#define PARTPROOF_ADDON_ABI 1

#define NODE_BYTES 120
#define RECORD_BYTES 80
#define FIELD_COUNT 4
#define VALUE_MAX UINT64_MAX

/* ---------------------------------------------------------------- tree jobs */

static inline uint64_t rd64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static inline void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

typedef struct {
  int kind; /* 0 = leaves, 1 = nodes, 2 = a whole tree */
  /* leaves */
  const uint8_t *records;
  const uint32_t *order; /* leaf i > 0 is record order[i - 1] (NULL: record i - 1) */
  uint32_t n; /* records */
  uint32_t m; /* min/max field */
  /* nodes */
  const uint8_t *below;
  uint32_t size_below;
  const uint8_t *pad_below;
  /* common */
  uint8_t *out;
  const int32_t *indices; /* NULL = all of 0..count-1 */
  uint32_t count;
  uint32_t threads;
  int kernel; /* poseidon_kernel when the job was queued */
  /* a whole tree (kind 2): level l's nodes at nodes + level_off[l], level_size[l] of them */
  uint8_t *nodes;
  const uint8_t *pads; /* the padding node of level l at l * NODE_BYTES */
  uint32_t depth;
  size_t level_off[32];
  uint32_t level_size[32];
  uint32_t tiles;        /* 2^TILE_LEVELS-leaf tiles */
  uint32_t next_tile;    /* the next tile a thread takes (atomic) */
  /* N-API */
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[6];
  int nrefs;
} job;

/* packed record k of the sorted order */
static inline const uint8_t *record_at(const job *jb, uint32_t k) {
  return jb->records + (size_t)(jb->order ? jb->order[k] : k) * RECORD_BYTES;
}

static void leaf_node(const job *jb, uint32_t i) {
  /* leaf i: 0 = low sentinel, 1..n = record i-1; nextKey = key of leaf i+1 (padding: 2^128-1) */
  uint64_t in[7][4];
  memset(in, 0, sizeof in);
  uint8_t *o = jb->out + (size_t)i * NODE_BYTES;
  memset(o + 32, 0, NODE_BYTES - 32);
  if (i == 0) {
    wr64(o + 104, VALUE_MAX);
  } else {
    const uint8_t *r = record_at(jb, i - 1);
    in[0][0] = rd64(r);
    in[0][1] = rd64(r + 8);
    for (int f = 0; f < FIELD_COUNT; f++) in[2 + f][0] = rd64(r + 16 + 8 * f);
    for (int w = 0; w < 4; w++) in[6][w] = rd64(r + 48 + 8 * w);
    wr64(o + 32, 1);
    for (int f = 0; f < FIELD_COUNT; f++) wr64(o + 40 + 16 * f, in[2 + f][0]);
    wr64(o + 104, in[2 + jb->m][0]);
    wr64(o + 112, in[2 + jb->m][0]);
  }
  if (i < jb->n) {
    const uint8_t *nx = record_at(jb, i);
    in[1][0] = rd64(nx);
    in[1][1] = rd64(nx + 8);
  } else {
    in[1][0] = UINT64_MAX;
    in[1][1] = UINT64_MAX;
  }
  fe state[8], h;
  memset(&state[0], 0, sizeof(fe));
  for (int j = 0; j < 7; j++) fe_from_u64s_k(jb->kernel, &state[1 + j], in[j]);
  poseidon7_k(jb->kernel, state, &h);
  fe_to_u64s_k(jb->kernel, (uint64_t *)in[0], &h);
  memcpy(o, in[0], 32);
}

static void inner_node(const job *jb, uint32_t i) {
  const uint8_t *ch[2];
  for (int s = 0; s < 2; s++) {
    uint32_t c = 2 * i + s;
    ch[s] = c < jb->size_below ? jb->below + (size_t)c * NODE_BYTES : jb->pad_below;
  }
  fe state[17], h;
  memset(&state[0], 0, sizeof(fe));
  for (int s = 0; s < 2; s++) {
    const uint8_t *c = ch[s];
    uint64_t x[4];
    memcpy(x, c, 32);
    fe_from_u64s_k(jb->kernel, &state[1 + 8 * s], x);
    /* count, sums (128-bit), min, max */
    uint64_t y[4] = {rd64(c + 32), 0, 0, 0};
    fe_from_u64s_k(jb->kernel, &state[2 + 8 * s], y);
    for (int f = 0; f < FIELD_COUNT; f++) {
      y[0] = rd64(c + 40 + 16 * f);
      y[1] = rd64(c + 48 + 16 * f);
      fe_from_u64s_k(jb->kernel, &state[3 + 8 * s + f], y);
    }
    y[1] = 0;
    y[0] = rd64(c + 104);
    fe_from_u64s_k(jb->kernel, &state[7 + 8 * s], y);
    y[0] = rd64(c + 112);
    fe_from_u64s_k(jb->kernel, &state[8 + 8 * s], y);
  }
  poseidon16_k(jb->kernel, state, &h);
  uint8_t *o = jb->out + (size_t)i * NODE_BYTES;
  uint64_t hv[4];
  fe_to_u64s_k(jb->kernel, hv, &h);
  memcpy(o, hv, 32);
  wr64(o + 32, rd64(ch[0] + 32) + rd64(ch[1] + 32));
  for (int f = 0; f < FIELD_COUNT; f++) {
    u128 a = ((u128)rd64(ch[0] + 48 + 16 * f) << 64) | rd64(ch[0] + 40 + 16 * f);
    u128 b = ((u128)rd64(ch[1] + 48 + 16 * f) << 64) | rd64(ch[1] + 40 + 16 * f);
    u128 s = a + b;
    wr64(o + 40 + 16 * f, (uint64_t)s);
    wr64(o + 48 + 16 * f, (uint64_t)(s >> 64));
  }
  uint64_t mn0 = rd64(ch[0] + 104), mn1 = rd64(ch[1] + 104);
  uint64_t mx0 = rd64(ch[0] + 112), mx1 = rd64(ch[1] + 112);
  wr64(o + 104, mn0 < mn1 ? mn0 : mn1);
  wr64(o + 112, mx0 > mx1 ? mx0 : mx1);
}

typedef struct {
  const job *jb;
  uint32_t from, to;
} slice;

static void *run_slice(void *arg) {
  const slice *s = (const slice *)arg;
  const job *jb = s->jb;
  for (uint32_t k = s->from; k < s->to; k++) {
    uint32_t i = jb->indices ? (uint32_t)jb->indices[k] : k;
    if (jb->kind == 0)
      leaf_node(jb, i);
    else
      inner_node(jb, i);
  }
  return NULL;
}

/* Levels hashed tile by tile: a tile is the subtree of 2^TILE_LEVELS leaves under one node of
 * level TILE_LEVELS (its leaves, then its nodes level by level). Threads take tiles from a
 * shared counter rather than fixed halves, so that a thread the OS runs less (a loaded machine)
 * does fewer, and a tile's nodes are hashed while its children are still in the core's cache;
 * no thread waits for the others between levels. 2^8 leaves: ~4k tiles at 10^6 records. */
#define TILE_LEVELS 8

static void hash_range(const job *jb, uint32_t level, uint32_t from, uint32_t to) {
  if (level == 0) {
    job lj = *jb;
    lj.out = jb->nodes;
    for (uint32_t i = from; i < to; i++) leaf_node(&lj, i);
    return;
  }
  job nj = *jb;
  nj.below = jb->nodes + jb->level_off[level - 1];
  nj.size_below = jb->level_size[level - 1];
  nj.pad_below = jb->pads + (size_t)(level - 1) * NODE_BYTES;
  nj.out = jb->nodes + jb->level_off[level];
  for (uint32_t i = from; i < to; i++) inner_node(&nj, i);
}

static void *run_tiles(void *arg) {
  job *jb = (job *)arg;
  const uint32_t top = jb->depth < TILE_LEVELS ? jb->depth : TILE_LEVELS;
  for (;;) {
    uint32_t t = __atomic_fetch_add(&jb->next_tile, 1, __ATOMIC_RELAXED);
    if (t >= jb->tiles) break;
    for (uint32_t l = 0; l <= top; l++) {
      uint32_t from = (uint32_t)(((uint64_t)t << TILE_LEVELS) >> l);
      uint64_t to = ((uint64_t)(t + 1) << TILE_LEVELS) >> l;
      if (to > jb->level_size[l]) to = jb->level_size[l];
      if (from < to) hash_range(jb, l, from, (uint32_t)to);
    }
  }
  return NULL;
}

static void run_job(const job *jb);

/* the levels above the tiles: few nodes (1/256 of the leaves), each level split evenly */
static void run_upper_level(const job *jb, uint32_t level, uint32_t th) {
  job nj = *jb;
  nj.kind = 1;
  nj.below = jb->nodes + jb->level_off[level - 1];
  nj.size_below = jb->level_size[level - 1];
  nj.pad_below = jb->pads + (size_t)(level - 1) * NODE_BYTES;
  nj.out = jb->nodes + jb->level_off[level];
  nj.indices = NULL;
  nj.count = jb->level_size[level];
  nj.threads = th;
  run_job(&nj);
}

static void run_tree(job *jb) {
  uint32_t th = jb->threads < 1 ? 1 : jb->threads > 64 ? 64 : jb->threads;
  if (jb->tiles < 2 * th) th = 1;
  pthread_t tid[64];
  uint32_t started = 0;
  jb->next_tile = 0;
  for (uint32_t k = 1; k < th; k++) {
    if (pthread_create(&tid[k], NULL, run_tiles, jb) != 0) break;
    started = k;
  }
  run_tiles(jb); /* tiles of threads that could not start are taken here */
  for (uint32_t k = 1; k <= started; k++) pthread_join(tid[k], NULL);
  for (uint32_t l = TILE_LEVELS + 1; l <= jb->depth; l++) run_upper_level(jb, l, th);
}

static void run_job(const job *jb) {
  if (jb->kind == 2) {
    run_tree((job *)jb);
    return;
  }
  uint32_t th = jb->threads < 1 ? 1 : jb->threads > 64 ? 64 : jb->threads;
  if (jb->count < 64 * th) th = 1;
  pthread_t tid[64];
  slice sl[64];
  uint32_t per = (jb->count + th - 1) / th;
  uint32_t started = 0;
  for (uint32_t k = 0; k < th; k++) {
    sl[k].jb = jb;
    sl[k].from = k * per < jb->count ? k * per : jb->count;
    sl[k].to = (k + 1) * per < jb->count ? (k + 1) * per : jb->count;
  }
  for (uint32_t k = 1; k < th; k++) {
    if (pthread_create(&tid[k], NULL, run_slice, &sl[k]) != 0) break;
    started = k;
  }
  run_slice(&sl[0]);
  /* slices whose thread could not start run here */
  for (uint32_t k = started + 1; k < th; k++) run_slice(&sl[k]);
  for (uint32_t k = 1; k <= started; k++) pthread_join(tid[k], NULL);
}

/* ---------------------------------------------------------------- N-API glue */

static void execute(napi_env env, void *data) {
  (void)env;
  run_job((const job *)data);
}

static void complete(napi_env env, napi_status status, void *data) {
  job *jb = (job *)data;
  napi_value undef;
  napi_get_undefined(env, &undef);
  if (status == napi_ok) {
    napi_resolve_deferred(env, jb->deferred, undef);
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, "native Poseidon job was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, jb->deferred, err);
  }
  for (int k = 0; k < jb->nrefs; k++) napi_delete_reference(env, jb->refs[k]);
  napi_delete_async_work(env, jb->work);
  free(jb);
}

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* frees a job whose arguments were rejected and throws */
static napi_value reject_args(napi_env env, job *jb, const char *msg) {
  for (int k = 0; k < jb->nrefs; k++) napi_delete_reference(env, jb->refs[k]);
  free(jb);
  return throw_error(env, msg);
}

/* byte view of a Uint8Array / Int32Array argument; keeps a reference for the async job */
static int get_bytes(napi_env env, job *jb, napi_value v, void **data, size_t *bytes) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  size_t length, offset;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return 0;
  if (type == napi_uint8_array)
    *bytes = length;
  else if (type == napi_int32_array || type == napi_uint32_array)
    *bytes = length * 4;
  else
    return 0;
  napi_create_reference(env, v, 1, &jb->refs[jb->nrefs++]);
  return 1;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static napi_value queue(napi_env env, job *jb) {
  napi_value promise, name;
  jb->kernel = poseidon_kernel;
  napi_create_promise(env, &jb->deferred, &promise);
  napi_create_string_utf8(env, "partproof-poseidon", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, jb, &jb->work);
  napi_queue_async_work(env, jb->work);
  return promise;
}

static int get_indices(napi_env env, job *jb, napi_value v, uint32_t all) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    jb->indices = NULL;
    jb->count = all;
    return 1;
  }
  void *d;
  size_t bytes;
  if (!get_bytes(env, jb, v, &d, &bytes)) return 0;
  jb->indices = (const int32_t *)d;
  jb->count = (uint32_t)(bytes / 4);
  for (uint32_t k = 0; k < jb->count; k++) {
    if (jb->indices[k] < 0 || (uint32_t)jb->indices[k] >= all) return 0;
  }
  return 1;
}

/* the optional order argument: null / undefined, or n record indices, each < n */
static int get_order(napi_env env, job *jb, size_t argc, napi_value *argv, size_t at) {
  jb->order = NULL;
  if (argc <= at) return 1;
  napi_valuetype t;
  napi_typeof(env, argv[at], &t);
  if (t == napi_null || t == napi_undefined) return 1;
  void *d;
  size_t bytes;
  if (!get_bytes(env, jb, argv[at], &d, &bytes) || bytes / 4 < jb->n) return 0;
  jb->order = (const uint32_t *)d;
  for (uint32_t k = 0; k < jb->n; k++) {
    if (jb->order[k] >= jb->n) return 0;
  }
  return 1;
}

/* hashLeaves(records: Uint8Array (n x 80), n, m, out: Uint8Array ((n+1) x 120),
 *            indices: Int32Array | null, threads, order?: Uint32Array | null) -> Promise<void>
 * (with order, leaf i > 0 is packed record order[i - 1]) */
static napi_value hash_leaves(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) return throw_error(env, "hashLeaves: expected 6 or 7 arguments");
  job *jb = (job *)calloc(1, sizeof(job));
  jb->kind = 0;
  void *rec, *out;
  size_t rec_bytes, out_bytes;
  int ok = get_bytes(env, jb, argv[0], &rec, &rec_bytes) && get_u32(env, argv[1], &jb->n) &&
           get_u32(env, argv[2], &jb->m) && get_bytes(env, jb, argv[3], &out, &out_bytes) &&
           get_u32(env, argv[5], &jb->threads);
  ok = ok && jb->m < FIELD_COUNT && rec_bytes >= (size_t)jb->n * RECORD_BYTES &&
       out_bytes >= ((size_t)jb->n + 1) * NODE_BYTES && jb->n < 0x7fffffff;
  ok = ok && get_indices(env, jb, argv[4], jb->n + 1) && get_order(env, jb, argc, argv, 6);
  if (!ok) return reject_args(env, jb, "hashLeaves: bad arguments");
  jb->records = (const uint8_t *)rec;
  jb->out = (uint8_t *)out;
  return queue(env, jb);
}

/* hashNodes(below: Uint8Array (sizeBelow x 120), sizeBelow, padBelow: Uint8Array (120),
 *           out: Uint8Array (size x 120), size, indices: Int32Array | null, threads)
 *           -> Promise<void> */
static napi_value hash_nodes(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 7) return throw_error(env, "hashNodes: expected 7 arguments");
  job *jb = (job *)calloc(1, sizeof(job));
  jb->kind = 1;
  void *below, *pad, *out;
  size_t below_bytes, pad_bytes, out_bytes;
  uint32_t size;
  int ok = get_bytes(env, jb, argv[0], &below, &below_bytes) &&
           get_u32(env, argv[1], &jb->size_below) &&
           get_bytes(env, jb, argv[2], &pad, &pad_bytes) &&
           get_bytes(env, jb, argv[3], &out, &out_bytes) && get_u32(env, argv[4], &size) &&
           get_u32(env, argv[6], &jb->threads);
  ok = ok && below_bytes >= (size_t)jb->size_below * NODE_BYTES && pad_bytes >= NODE_BYTES &&
       out_bytes >= (size_t)size * NODE_BYTES && size < 0x7fffffff;
  ok = ok && get_indices(env, jb, argv[5], size);
  if (!ok) return reject_args(env, jb, "hashNodes: bad arguments");
  jb->below = (const uint8_t *)below;
  jb->pad_below = (const uint8_t *)pad;
  jb->out = (uint8_t *)out;
  return queue(env, jb);
}

/* hashTree(records: Uint8Array (n x 80), n, m, order: Uint32Array | null, nodes: Uint8Array,
 *          depth, pads: Uint8Array ((depth + 1) x 120), threads) -> Promise<void>
 * Every leaf and node of a tree over n sorted records (in the order `order`, or as packed):
 * level l (0 = leaves) has ceil((n + 1) / 2^l) nodes, stored one level after the other in
 * `nodes`; pads[l] is the padding node of level l (children beyond a level's end). */
static napi_value hash_tree(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) return throw_error(env, "hashTree: expected 8 arguments");
  job *jb = (job *)calloc(1, sizeof(job));
  jb->kind = 2;
  void *rec, *nodes, *pads;
  size_t rec_bytes, nodes_bytes, pads_bytes;
  int ok = get_bytes(env, jb, argv[0], &rec, &rec_bytes) && get_u32(env, argv[1], &jb->n) &&
           get_u32(env, argv[2], &jb->m) && get_bytes(env, jb, argv[4], &nodes, &nodes_bytes) &&
           get_u32(env, argv[5], &jb->depth) && get_bytes(env, jb, argv[6], &pads, &pads_bytes) &&
           get_u32(env, argv[7], &jb->threads);
  ok = ok && jb->m < FIELD_COUNT && jb->depth >= 1 && jb->depth <= 30 &&
       (uint64_t)jb->n + 2 <= ((uint64_t)1 << jb->depth) &&
       rec_bytes >= (size_t)jb->n * RECORD_BYTES &&
       pads_bytes >= ((size_t)jb->depth + 1) * NODE_BYTES;
  ok = ok && get_order(env, jb, argc, argv, 3);
  if (ok) {
    uint64_t used = (uint64_t)jb->n + 1, off = 0;
    for (uint32_t l = 0; l <= jb->depth; l++) {
      uint64_t size = (used + ((uint64_t)1 << l) - 1) >> l;
      jb->level_off[l] = (size_t)off;
      jb->level_size[l] = (uint32_t)size;
      off += size * NODE_BYTES;
    }
    ok = nodes_bytes >= off;
    jb->tiles = (uint32_t)((used + (1u << TILE_LEVELS) - 1) >> TILE_LEVELS);
  }
  if (!ok) return reject_args(env, jb, "hashTree: bad arguments");
  jb->records = (const uint8_t *)rec;
  jb->nodes = (uint8_t *)nodes;
  jb->pads = (const uint8_t *)pads;
  return queue(env, jb);
}

/* kernel() -> "adx" | "c": the Poseidon arithmetic kernels jobs queued now use */
static napi_value get_kernel(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, poseidon_kernel_name(poseidon_kernel), NAPI_AUTO_LENGTH, &out);
  return out;
}

/* setKernel(name: "adx" | "c" | "") -> the kernel now used ("" = the best this CPU runs).
 * For tests and benchmarks: it applies to every job queued afterwards, in every thread. */
static napi_value set_kernel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char want[16];
  size_t len = 0;
  if (argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], want, sizeof want, &len) != napi_ok ||
      len >= sizeof want - 1)
    return throw_error(env, "setKernel: expected \"adx\", \"c\" or \"\"");
  int rc = poseidon_select_kernel(want);
  if (rc == -1) return throw_error(env, "setKernel: expected \"adx\", \"c\" or \"\"");
  if (rc == -2) return throw_error(env, "setKernel: this CPU or build has no BMI2/ADX kernel");
  return get_kernel(env, info);
}

/* the kernel set at load: PARTPROOF_POSEIDON_KERNEL=adx|c forces one (tests, benchmarks),
 * else the best this CPU runs; once per process (worker threads load the addon again) */
static int kernel_init_rc;
static void kernel_init(void) {
  kernel_init_rc = poseidon_select_kernel(getenv("PARTPROOF_POSEIDON_KERNEL"));
}

NAPI_MODULE_INIT() {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, kernel_init);
  if (kernel_init_rc != 0) {
    napi_throw_error(env, NULL,
                     kernel_init_rc == -2
                         ? "PARTPROOF_POSEIDON_KERNEL=adx: this CPU or build has no BMI2/ADX"
                         : "PARTPROOF_POSEIDON_KERNEL: expected adx or c");
    return NULL;
  }
  napi_value fn, abi;
  napi_create_uint32(env, PARTPROOF_ADDON_ABI, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  napi_create_function(env, "hashLeaves", NAPI_AUTO_LENGTH, hash_leaves, NULL, &fn);
  napi_set_named_property(env, exports, "hashLeaves", fn);
  napi_create_function(env, "hashNodes", NAPI_AUTO_LENGTH, hash_nodes, NULL, &fn);
  napi_set_named_property(env, exports, "hashNodes", fn);
  napi_create_function(env, "hashTree", NAPI_AUTO_LENGTH, hash_tree, NULL, &fn);
  napi_set_named_property(env, exports, "hashTree", fn);
  napi_create_function(env, "kernel", NAPI_AUTO_LENGTH, get_kernel, NULL, &fn);
  napi_set_named_property(env, exports, "kernel", fn);
  napi_create_function(env, "setKernel", NAPI_AUTO_LENGTH, set_kernel, NULL, &fn);
  napi_set_named_property(env, exports, "setKernel", fn);
  return exports;
}
