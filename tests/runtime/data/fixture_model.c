/* A fake compiled model for the runtime tests, built at test time with
 * `cc -shared -fPIC` (no compiler of ours involved).
 *
 * It computes sum = a + b (+ w when it has weights) over float32[4,256],
 * 64 tiles of 16 elements through exec->parallel_for.  The output is zeroed
 * first and each tile adds into it, so a tile run twice or never shows in
 * the result.  Each tile stages a through the arena, and run returns 2 when
 * the arena is not aligned as the descriptor asks.
 *
 * Its plan has two calls (ABI 2 call table): "clear" (the memset, node
 * "zero out") and "add_tiles" (the tiles, nodes `add "a"` and `w\b`), each
 * bracketed by exec->on_call when that hook is set.
 *
 * Variants (-D):  FIX_ABI_VERSION=n  FIX_STRUCT_SIZE=n  FIX_NO_SYMBOL
 *   FIX_SIDE_WEIGHTS (file "fixture.weights": from ABI 3 with a header
 *   holding build id FIX_BUILD_ID, bytes 1..16; before, hash
 *   FIX_WEIGHTS_HASH)  FIX_ABI_V2 (version 2, its struct size)
 *   FIX_CPU_FEATURES=bits (ABI 3's cpu_features)
 *   FIX_EMBED_WEIGHTS  FIX_RUN_FAILS  FIX_ARENA_ALIGN=n  FIX_BAD_NBYTES
 *   FIX_ARENA_BYTES=n
 *   FIX_ABI_V1 (version 1, its struct size, a garbage call count that a
 *   runtime must not read)  FIX_BAD_CALLS (2 calls, no table)
 */
#include <stdint.h>
#include <string.h>

#include "mlc/model_abi.h"

#define N 1024
#define TILE 16

#ifdef FIX_ABI_V1
#define FIX_ABI_VERSION 1
#define FIX_STRUCT_SIZE MLC_ABI_MODEL_V1_SIZE
#endif
#ifdef FIX_ABI_V2
#define FIX_ABI_VERSION 2
#define FIX_STRUCT_SIZE MLC_ABI_MODEL_V2_SIZE
#endif
#ifndef FIX_CPU_FEATURES
#define FIX_CPU_FEATURES 0
#endif
#ifndef FIX_ABI_VERSION
#define FIX_ABI_VERSION MLC_ABI_VERSION
#endif
#ifndef FIX_STRUCT_SIZE
#define FIX_STRUCT_SIZE sizeof(mlc_abi_model_t)
#endif
#ifndef FIX_ARENA_ALIGN
#define FIX_ARENA_ALIGN 128
#endif
#ifndef FIX_ARENA_BYTES
#define FIX_ARENA_BYTES (N * 4)
#endif
#ifndef FIX_WEIGHTS_HASH
#define FIX_WEIGHTS_HASH 0
#endif

static const int64_t dims[2] = {4, 256};
static const char *const dim_names[2] = {"batch", 0};
#ifdef FIX_BAD_NBYTES
#define NBYTES 100
#else
#define NBYTES (N * 4)
#endif
static const mlc_abi_tensor_t inputs[2] = {
    {"a", 1, 2, dims, dim_names, NBYTES},
    {"b", 1, 2, dims, 0, N * 4},
};
static const mlc_abi_tensor_t outputs[1] = {{"sum", 1, 2, dims, 0, N * 4}};

#ifdef FIX_EMBED_WEIGHTS
static float embedded[N];
__attribute__((constructor)) static void fill(void) {
  for (int i = 0; i < N; i++) embedded[i] = (float)i * 0.5f;
}
#define WEIGHTS embedded
#define WEIGHTS_BYTES (N * 4)
#elif defined(FIX_SIDE_WEIGHTS)
#define WEIGHTS 0
#define WEIGHTS_BYTES (N * 4)
#else
#define WEIGHTS 0
#define WEIGHTS_BYTES 0
#endif

typedef struct ctx {
  const float *a, *b, *w;
  float *sum;
  float *arena;
} ctx_t;

static void tile(void *p, int64_t begin, int64_t end) {
  ctx_t *c = p;
  for (int64_t t = begin; t < end; t++) {
    for (int64_t i = t * TILE; i < (t + 1) * TILE; i++) {
      c->arena[i] = c->a[i];
      c->sum[i] += c->arena[i] + c->b[i] + (c->w ? c->w[i] : 0.0f);
    }
  }
}

static const char *const clear_nodes[1] = {"zero out"};
static const char *const add_nodes[2] = {"add \"a\"", "w\\b"};
static const mlc_abi_call_t calls[2] = {
    {"clear", clear_nodes, 1, 0, 1, 0},
    {"add_tiles", add_nodes, 2, 0, N / TILE, 2 * N},
};
#ifdef FIX_ABI_V1
#define NUM_CALLS (-5)
#define CALLS calls
#elif defined(FIX_BAD_CALLS)
#define NUM_CALLS 2
#define CALLS 0
#else
#define NUM_CALLS 2
#define CALLS calls
#endif

/* exec->on_call exists only from ABI 2 on. */
static void hook(const mlc_abi_exec_t *exec, int32_t call, int32_t phase) {
  if (FIX_ABI_VERSION >= 2 && exec && exec->on_call)
    exec->on_call(exec->hook_ctx, call, phase);
}

static int32_t run(const mlc_abi_exec_t *exec, const void *weights,
                   void *arena, void *const *in, void *const *out) {
#ifdef FIX_RUN_FAILS
  return 3;
#endif
  if ((uintptr_t)arena % FIX_ARENA_ALIGN) return 2;
  if ((WEIGHTS_BYTES != 0) != (weights != 0)) return 4;
  ctx_t c = {in[0], in[1], weights, out[0], arena};
  hook(exec, 0, MLC_ABI_CALL_BEGIN);
  memset(c.sum, 0, N * 4);
  hook(exec, 0, MLC_ABI_CALL_END);
  hook(exec, 1, MLC_ABI_CALL_BEGIN);
  if (exec && exec->parallel_for)
    exec->parallel_for(exec->pool, N / TILE, tile, &c);
  else
    tile(&c, 0, N / TILE);
  hook(exec, 1, MLC_ABI_CALL_END);
  return 0;
}

static const mlc_abi_model_t model = {
    .abi_version = FIX_ABI_VERSION,
    .struct_size = FIX_STRUCT_SIZE,
    .name = "addmodel",
    .producer = "test fixture",
    .target = "generic",
    .num_inputs = 2,
    .num_outputs = 1,
    .inputs = inputs,
    .outputs = outputs,
    .arena_bytes = FIX_ARENA_BYTES,
    .arena_align = FIX_ARENA_ALIGN,
    .weights_bytes = WEIGHTS_BYTES,
    .weights = WEIGHTS,
#ifdef FIX_SIDE_WEIGHTS
    .weights_file = "fixture.weights",
#endif
    .weights_hash = FIX_WEIGHTS_HASH,
    .run = run,
    .num_calls = NUM_CALLS,
    .calls = CALLS,
    .cpu = "fixture-cpu",
    .cpu_features = FIX_CPU_FEATURES,
    .build_id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
};

#ifdef FIX_NO_SYMBOL
const mlc_abi_model_t *not_the_model_get(void) { return &model; }
#else
const mlc_abi_model_t *mlc_model_get(void) { return &model; }
const mlc_abi_model_t *addmodel_model_get(void) { return &model; }
#endif
