/* Runs code from the LLVM backend: hand-built programs are compiled to a
 * shared library, loaded with dlopen and run through the descriptor (with
 * no executor and with one that splits the tiles) and the typed entry
 * point; outputs are compared with values computed here from the
 * semantics in ir/tile.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>

#include "cg_util.h"

/* ---- a small network: broadcast add, row sums, a matmul ------------------- */

static mlc_tkernel_t *k_add(int x, int w, int t) {
  (void)x; (void)w; (void)t;
  mlc_tkernel_t *k = mlc_tkernel_create("add_bcast");
  int bx = mlc_tkernel_add_buf(k, "x", MLC_DT_F32, 32, (mlc_storage_t){MLC_STORAGE_INPUT, 0, 0}, false);
  int bw = mlc_tkernel_add_buf(k, "w", MLC_DT_F32, 8, (mlc_storage_t){MLC_STORAGE_WEIGHT, 0, 0}, false);
  int bt = mlc_tkernel_add_buf(k, "t", MLC_DT_F32, 32, (mlc_storage_t){MLC_STORAGE_ARENA, 0, 64}, true);
  mlc_tvar_t *g = mlc_tkernel_add_grid(k, 4);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_texpr_t *idx = mlc_tx_binary(k, MLC_TB_ADD,
                                   mlc_tx_binary(k, MLC_TB_MUL, mlc_tx_var(k, g), mlc_tx_i64(k, 8)),
                                   mlc_tx_var(k, i));
  mlc_texpr_t *v = mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_load(k, bx, idx),
                                 mlc_tx_load(k, bw, mlc_tx_var(k, i)));
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, 8), MLC_LOOP_VECTORIZE, 4,
                       mlc_ts_store(k, bt, idx, v));
  return k;
}

/* out0[row] = sum_j t[row, j]; two rows per tile, accumulator local. */
static mlc_tkernel_t *k_sum(void) {
  mlc_tkernel_t *k = mlc_tkernel_create("row_sum");
  int bt = mlc_tkernel_add_buf(k, "t", MLC_DT_F32, 32, (mlc_storage_t){MLC_STORAGE_ARENA, 0, 64}, false);
  int bo = mlc_tkernel_add_buf(k, "sum", MLC_DT_F32, 4, (mlc_storage_t){MLC_STORAGE_OUTPUT, 0, 0}, true);
  mlc_tvar_t *g = mlc_tkernel_add_grid(k, 2);
  mlc_tvar_t *r = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "r");
  mlc_tvar_t *j = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "j");
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F32, "acc");
  mlc_texpr_t *row = mlc_tx_binary(k, MLC_TB_ADD,
                                   mlc_tx_binary(k, MLC_TB_MUL, mlc_tx_var(k, g), mlc_tx_i64(k, 2)),
                                   mlc_tx_var(k, r));
  mlc_texpr_t *ti = mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_binary(k, MLC_TB_MUL, row, mlc_tx_i64(k, 8)),
                                  mlc_tx_var(k, j));
  mlc_tstmt_t *inner = mlc_ts_for(
      k, j, mlc_tx_i64(k, 0), mlc_tx_i64(k, 8), MLC_LOOP_UNROLL, 0,
      mlc_ts_assign(k, acc, mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_var(k, acc), mlc_tx_load(k, bt, ti))));
  mlc_tstmt_t *s[3] = {mlc_ts_assign(k, acc, mlc_tx_float(k, MLC_DT_F32, 0.0)), inner,
                       mlc_ts_store(k, bo, row, mlc_tx_var(k, acc))};
  k->body = mlc_ts_for(k, r, mlc_tx_i64(k, 0), mlc_tx_i64(k, 2), MLC_LOOP_SERIAL, 0,
                       mlc_ts_block(k, 3, s));
  return k;
}

/* out1[i][j] = sum_k t[i,k] * x[j,k], 2x2 tiles over a 2x2 grid. */
static mlc_tkernel_t *k_mm(void) {
  mlc_tkernel_t *k = mlc_tkernel_create("matmul_tile");
  int bt = mlc_tkernel_add_buf(k, "t", MLC_DT_F32, 32, (mlc_storage_t){MLC_STORAGE_ARENA, 0, 64}, false);
  int bx = mlc_tkernel_add_buf(k, "x", MLC_DT_F32, 32, (mlc_storage_t){MLC_STORAGE_INPUT, 0, 0}, false);
  int bo = mlc_tkernel_add_buf(k, "mm", MLC_DT_F32, 16, (mlc_storage_t){MLC_STORAGE_OUTPUT, 1, 0}, true);
  mlc_tvar_t *gi = mlc_tkernel_add_grid(k, 2), *gj = mlc_tkernel_add_grid(k, 2);
  mlc_tvar_t *a = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "a");
  mlc_tvar_t *b = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "b");
  mlc_tvar_t *kk = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "k");
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F32, "acc");
#define I64(v) mlc_tx_i64(k, v)
#define V(v) mlc_tx_var(k, v)
#define ADD(x, y) mlc_tx_binary(k, MLC_TB_ADD, x, y)
#define MUL(x, y) mlc_tx_binary(k, MLC_TB_MUL, x, y)
  mlc_texpr_t *i = ADD(MUL(V(gi), I64(2)), V(a)), *j = ADD(MUL(V(gj), I64(2)), V(b));
  mlc_texpr_t *prod = MUL(mlc_tx_load(k, bt, ADD(MUL(i, I64(8)), V(kk))),
                          mlc_tx_load(k, bx, ADD(MUL(j, I64(8)), V(kk))));
  mlc_tstmt_t *red = mlc_ts_for(k, kk, I64(0), I64(8), MLC_LOOP_SERIAL, 0,
                                mlc_ts_assign(k, acc, ADD(V(acc), prod)));
  mlc_tstmt_t *s[3] = {mlc_ts_assign(k, acc, mlc_tx_float(k, MLC_DT_F32, 0.0)), red,
                       mlc_ts_store(k, bo, ADD(MUL(i, I64(4)), j), V(acc))};
  mlc_tstmt_t *lb = mlc_ts_for(k, b, I64(0), I64(2), MLC_LOOP_SERIAL, 0, mlc_ts_block(k, 3, s));
  k->body = mlc_ts_for(k, a, I64(0), I64(2), MLC_LOOP_SERIAL, 0, lb);
#undef I64
#undef V
#undef ADD
#undef MUL
  return k;
}

static const float net_w[8] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 3.0f, 1.5f, -2.0f};

static void build_net(cg_fix_t *f) {
  cg_fix_init(f, "net");
  int64_t xd[2] = {4, 8}, sd[1] = {4}, md[2] = {4, 4}, wd[1] = {8};
  cg_io(f, "x", MLC_DT_F32, 2, xd, false);
  cg_io(f, "sum", MLC_DT_F32, 1, sd, true);
  cg_io(f, "mm", MLC_DT_F32, 2, md, true);
  mlc_value_t *w = mlc_graph_add_const(f->g, "w", MLC_DT_F32, 1, wd, net_w, sizeof net_w,
                                       MLC_DATA_COPY);
  assert_non_null(w);
  w->storage = (mlc_storage_t){MLC_STORAGE_WEIGHT, 0, 0};
  f->p.weights_bytes = 64;
  f->p.arena_bytes = 192;
  mlc_tkernel_t *add = k_add(0, 1, 2);
  static const char *const names[2] = {"add \"q\"", "relu\\1"};
  assert_true(mlc_tkernel_set_nodes(add, names, 2));
  add->flops = 32;
  cg_add_kernel(f, add);
  cg_add_kernel(f, k_sum());
  cg_add_kernel(f, k_mm());
}

/* exec->on_call: records (call, phase, pool calls so far) in order. */
typedef struct hook_log {
  cg_pool_t *pool;
  int n;
  int32_t call[8], phase[8], pool_calls[8];
} hook_log_t;

static void log_call(void *ctx, int32_t call, int32_t phase) {
  hook_log_t *l = ctx;
  if (l->n < 8) {
    l->call[l->n] = call;
    l->phase[l->n] = phase;
    l->pool_calls[l->n] = l->pool->calls;
  }
  l->n++;
}

/* The call table and the profiling hook: each call bracketed, in order,
 * its parallel_for inside the bracket. */
static void check_calls(const mlc_abi_model_t *m, const float *x, void *arena,
                        void **outs) {
  assert_int_equal(m->abi_version, MLC_ABI_VERSION);
  assert_int_equal(m->num_calls, 3);
  assert_string_equal(m->calls[0].kernel, "add_bcast");
  assert_int_equal(m->calls[0].num_nodes, 2);
  assert_string_equal(m->calls[0].nodes[0], "add \"q\"");
  assert_string_equal(m->calls[0].nodes[1], "relu\\1");
  assert_int_equal(m->calls[0].flops, 32);
  assert_string_equal(m->calls[2].kernel, "matmul_tile");
  assert_int_equal(m->calls[1].num_nodes, 0);
  int64_t tiles[3] = {4, 2, 4};
  for (int i = 0; i < 3; i++) assert_int_equal(m->calls[i].tiles, tiles[i]);
  cg_pool_t pool = {0};
  hook_log_t log = {.pool = &pool};
  mlc_abi_exec_t exec = {.pool = &pool, .parallel_for = cg_reverse_for,
                         .on_call = log_call, .hook_ctx = &log};
  const void *ins[1] = {x};
  assert_int_equal(m->run(&exec, m->weights, arena, (void *const *)ins, outs), 0);
  assert_int_equal(log.n, 6);
  for (int i = 0; i < 6; i++) {
    assert_int_equal(log.call[i], i / 2);
    assert_int_equal(log.phase[i], i % 2 ? MLC_ABI_CALL_END : MLC_ABI_CALL_BEGIN);
    assert_int_equal(log.pool_calls[i], i / 2 + i % 2);
  }
}

static void net_reference(const float *x, float *sum, float *mm) {
  float t[32];
  for (int i = 0; i < 32; i++) t[i] = x[i] + net_w[i % 8];
  for (int r = 0; r < 4; r++) {
    float acc = 0;
    for (int j = 0; j < 8; j++) acc += t[r * 8 + j];
    sum[r] = acc;
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      float acc = 0;
      for (int k = 0; k < 8; k++) acc += t[i * 8 + k] * x[j * 8 + k];
      mm[i * 4 + j] = acc;
    }
}

static void check_net(const float *x, const float *sum, const float *mm) {
  float rs[4], rm[16];
  net_reference(x, rs, rm);
  for (int i = 0; i < 4; i++) assert_float_equal(sum[i], rs[i], 1e-4);
  for (int i = 0; i < 16; i++) assert_float_equal(mm[i], rm[i], 1e-3);
}

static void run_net(int opt_level) {
  cg_fix_t f;
  build_net(&f);
  char file[32];
  snprintf(file, sizeof file, "net%d.so", opt_level);
  const mlc_abi_model_t *m = cg_build(&f, file, opt_level);
  assert_string_equal(m->name, "net");
  assert_int_equal(m->num_inputs, 1);
  assert_int_equal(m->num_outputs, 2);
  assert_string_equal(m->inputs[0].name, "x");
  assert_int_equal(m->inputs[0].dtype, 1);
  assert_int_equal(m->inputs[0].rank, 2);
  assert_int_equal(m->inputs[0].dims[1], 8);
  assert_int_equal(m->outputs[1].nbytes, 64);
  assert_int_equal(m->arena_bytes, 192);
  assert_int_equal(m->weights_bytes, 64);
  assert_non_null(m->weights);
  assert_null(m->weights_file);
  assert_memory_equal(m->weights, net_w, sizeof net_w);
  assert_true(((uintptr_t)m->weights & 63) == 0);

  float x[32], sum[4], mm[16];
  for (int i = 0; i < 32; i++) x[i] = (float)((i * 7) % 11) - 5.0f;
  _Alignas(64) unsigned char arena[192];
  void *ins[1] = {x}, *outs[2] = {sum, mm};
  memset(sum, 0, sizeof sum);
  assert_int_equal(m->run(NULL, m->weights, arena, ins, outs), 0);
  check_net(x, sum, mm);

  cg_pool_t pool = {0};
  mlc_abi_exec_t exec = {.pool = &pool, .parallel_for = cg_reverse_for};
  memset(sum, 0, sizeof sum);
  memset(mm, 0, sizeof mm);
  assert_int_equal(m->run(&exec, m->weights, arena, ins, outs), 0);
  check_net(x, sum, mm);
  assert_int_equal(pool.calls, 3);   /* every kernel has > 1 tile */
  assert_int_equal(pool.tiles, 10);  /* 4 + 2 + 4 */

  mlc_abi_exec_t noexec = {.pool = NULL}; /* no parallel_for: direct calls */
  memset(mm, 0, sizeof mm);
  assert_int_equal(m->run(&noexec, m->weights, arena, ins, outs), 0);
  check_net(x, sum, mm);
  memset(sum, 0, sizeof sum);
  memset(mm, 0, sizeof mm);
  check_calls(m, x, arena, outs);
  check_net(x, sum, mm);

  typedef int32_t (*typed_fn)(void *, const void *, const float *, float *, float *);
  typed_fn typed = (typed_fn)dlsym(f.lib, "net_run");
  assert_non_null(typed);
  assert_non_null(dlsym(f.lib, "net_model_get"));
  assert_null(dlsym(f.lib, "add_bcast")); /* kernels stay internal */
  memset(mm, 0, sizeof mm);
  assert_int_equal(typed(arena, NULL, x, sum, mm), 0);
  check_net(x, sum, mm);
  cg_fix_deinit(&f);
}

static void test_net_o2(void **state) { (void)state; run_net(2); }
static void test_net_o0(void **state) { (void)state; run_net(0); }
static void test_net_o3(void **state) { (void)state; run_net(3); }

/* ---- elementwise programs ------------------------------------------------- */

/* One kernel, no grid, a vectorized loop over n elements; `emit` builds
 * the value stored into each output from the loaded inputs. */
typedef mlc_texpr_t *(*elem_fn)(mlc_tkernel_t *k, int out, mlc_texpr_t **in);

static void build_elem(cg_fix_t *f, const char *name, int64_t n, int nin,
                       const mlc_dtype_t *in_dt, int nout, const mlc_dtype_t *out_dt,
                       elem_fn emit) {
  cg_fix_init(f, name);
  mlc_tkernel_t *k = mlc_tkernel_create("elem");
  int64_t dims[1] = {n};
  char nm[16];
  for (int i = 0; i < nin; i++) {
    snprintf(nm, sizeof nm, "in%d", i);
    cg_io(f, mlc_arena_strdup(&f->g->arena, nm), in_dt[i], 1, dims, false);
    mlc_tkernel_add_buf(k, "in", in_dt[i], n, (mlc_storage_t){MLC_STORAGE_INPUT, i, 0}, false);
  }
  for (int i = 0; i < nout; i++) {
    snprintf(nm, sizeof nm, "out%d", i);
    cg_io(f, mlc_arena_strdup(&f->g->arena, nm), out_dt[i], 1, dims, true);
    mlc_tkernel_add_buf(k, "out", out_dt[i], n, (mlc_storage_t){MLC_STORAGE_OUTPUT, i, 0}, true);
  }
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_tstmt_t *body = mlc_ts_block(k, 0, NULL);
  for (int o = 0; o < nout; o++) {
    mlc_texpr_t *in[8];
    for (int j = 0; j < nin; j++) in[j] = mlc_tx_load(k, j, mlc_tx_var(k, i));
    assert_true(mlc_ts_block_append(k, body, mlc_ts_store(k, nin + o, mlc_tx_var(k, i),
                                                         emit(k, o, in))));
  }
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, n), MLC_LOOP_VECTORIZE, 0, body);
  cg_add_kernel(f, k);
}

static mlc_texpr_t *divmod_emit(mlc_tkernel_t *k, int out, mlc_texpr_t **in) {
  static const mlc_tbinop_t ops[4] = {MLC_TB_DIV, MLC_TB_MOD, MLC_TB_DIV, MLC_TB_MOD};
  if (out < 2) return mlc_tx_binary(k, ops[out], in[0], in[1]);
  return mlc_tx_binary(k, ops[out], mlc_tx_cast(k, MLC_DT_U32, in[0]),
                       mlc_tx_cast(k, MLC_DT_U32, in[1]));
}

static void test_int_divmod(void **state) {
  (void)state;
  cg_fix_t f;
  mlc_dtype_t in[2] = {MLC_DT_I32, MLC_DT_I32};
  mlc_dtype_t out[4] = {MLC_DT_I32, MLC_DT_I32, MLC_DT_U32, MLC_DT_U32};
  build_elem(&f, "divmod", 8, 2, in, 4, out, divmod_emit);
  const mlc_abi_model_t *m = cg_build(&f, "divmod.so", 2);
  int32_t a[8] = {7, -7, 7, INT_MIN, INT_MIN, 5, 0, -9};
  int32_t b[8] = {2, 2, 0, -1, 0, -1, 3, 4};
  int32_t q[8], r[8];
  uint32_t uq[8], ur[8];
  void *ins[2] = {a, b}, *outs[4] = {q, r, uq, ur};
  assert_int_equal(m->run(NULL, NULL, NULL, ins, outs), 0);
  for (int i = 0; i < 8; i++) {
    int32_t eq = b[i] == 0 ? 0 : b[i] == -1 ? (int32_t)(0u - (uint32_t)a[i]) : a[i] / b[i];
    int32_t er = (b[i] == 0 || b[i] == -1) ? 0 : a[i] % b[i];
    uint32_t ua = (uint32_t)a[i], ub = (uint32_t)b[i];
    assert_int_equal(q[i], eq);
    assert_int_equal(r[i], er);
    assert_int_equal(uq[i], ub ? ua / ub : 0);
    assert_int_equal(ur[i], ub ? ua % ub : 0);
  }
  cg_fix_deinit(&f);
}

/* ---- casts ------------------------------------------------------------------ */

static const mlc_dtype_t cast_dts[7] = {MLC_DT_I32, MLC_DT_U8, MLC_DT_F16, MLC_DT_BF16,
                                        MLC_DT_BOOL, MLC_DT_F32, MLC_DT_I8};

static mlc_texpr_t *cast_emit(mlc_tkernel_t *k, int out, mlc_texpr_t **in) {
  if (out == 5) /* f32 -> f16 -> f32 */
    return mlc_tx_cast(k, MLC_DT_F32, mlc_tx_cast(k, MLC_DT_F16, in[0]));
  return mlc_tx_cast(k, cast_dts[out], in[0]);
}

static uint16_t ref_f16(float x) {
  _Float16 h = (_Float16)x;
  uint16_t u;
  memcpy(&u, &h, 2);
  return u;
}

static uint16_t ref_bf16(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if (isnan(x)) return (uint16_t)((u >> 16) | 0x40);
  return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

static int64_t ref_sat(float x, double lo, double hi) {
  if (isnan(x)) return 0;
  double t = trunc((double)x);
  return (int64_t)(t < lo ? lo : t > hi ? hi : t);
}

static void test_casts(void **state) {
  (void)state;
  cg_fix_t f;
  mlc_dtype_t in[1] = {MLC_DT_F32};
  build_elem(&f, "casts", 10, 1, in, 7, cast_dts, cast_emit);
  const mlc_abi_model_t *m = cg_build(&f, "casts.so", 2);
  float x[10] = {1.5f, -2.7f, NAN, 1e10f, -1e10f, 65520.0f, 3.14159f, 0.1f, 255.9f, -0.0f};
  int32_t o_i32[10];
  uint8_t o_u8[10], o_b[10];
  uint16_t o_h[10], o_bf[10];
  float o_rt[10];
  int8_t o_i8[10];
  void *ins[1] = {x}, *outs[7] = {o_i32, o_u8, o_h, o_bf, o_b, o_rt, o_i8};
  assert_int_equal(m->run(NULL, NULL, NULL, ins, outs), 0);
  for (int i = 0; i < 10; i++) {
    assert_int_equal(o_i32[i], ref_sat(x[i], INT32_MIN, INT32_MAX));
    assert_int_equal(o_u8[i], ref_sat(x[i], 0, 255));
    assert_int_equal(o_i8[i], ref_sat(x[i], -128, 127));
    assert_int_equal(o_h[i], ref_f16(x[i]));
    assert_int_equal(o_bf[i], ref_bf16(x[i]));
    assert_int_equal(o_b[i], x[i] != 0.0f);
    float rt = (float)(_Float16)x[i];
    if (isnan(rt)) assert_true(isnan(o_rt[i]));
    else assert_true(o_rt[i] == rt);
  }
  cg_fix_deinit(&f);
}

/* bf16 and f16 arithmetic: every result rounded to the type. */
static mlc_texpr_t *half_emit(mlc_tkernel_t *k, int out, mlc_texpr_t **in) {
  return mlc_tx_binary(k, out == 0 ? MLC_TB_ADD : MLC_TB_MUL, in[out * 2], in[out * 2 + 1]);
}

static float bf16_to_f(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  float x;
  memcpy(&x, &u, 4);
  return x;
}

static void test_half_math(void **state) {
  (void)state;
  cg_fix_t f;
  mlc_dtype_t in[4] = {MLC_DT_BF16, MLC_DT_BF16, MLC_DT_F16, MLC_DT_F16};
  mlc_dtype_t out[2] = {MLC_DT_BF16, MLC_DT_F16};
  build_elem(&f, "halfmath", 8, 4, in, 2, out, half_emit);
  const mlc_abi_model_t *m = cg_build(&f, "half.so", 2);
  uint16_t a[8], b[8], c[8], d[8], o0[8], o1[8];
  for (int i = 0; i < 8; i++) {
    a[i] = ref_bf16(1.0f + (float)i / 3.0f);
    b[i] = ref_bf16(100.0f - (float)i * 7.3f);
    c[i] = ref_f16(0.1f * (float)(i + 1));
    d[i] = ref_f16(-3.3f + (float)i);
  }
  void *ins[4] = {a, b, c, d}, *outs[2] = {o0, o1};
  assert_int_equal(m->run(NULL, NULL, NULL, ins, outs), 0);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(o0[i], ref_bf16(bf16_to_f(a[i]) + bf16_to_f(b[i])));
    _Float16 hc, hd;
    memcpy(&hc, &c[i], 2);
    memcpy(&hd, &d[i], 2);
    assert_int_equal(o1[i], ref_f16((float)hc * (float)hd));
  }
  cg_fix_deinit(&f);
}

/* ---- select, NaN min/max, rounding, math ---------------------------------- */

static mlc_texpr_t *misc_emit(mlc_tkernel_t *k, int out, mlc_texpr_t **in) {
  switch (out) {
  case 0: return mlc_tx_select(k, mlc_tx_binary(k, MLC_TB_GT, in[0], in[1]), in[0], in[1]);
  case 1: return mlc_tx_binary(k, MLC_TB_MIN, in[0], in[1]);
  case 2: return mlc_tx_binary(k, MLC_TB_MAX, in[0], in[1]);
  case 3: return mlc_tx_unary(k, MLC_TU_ROUND, in[0]);
  case 4: return mlc_tx_unary(k, MLC_TU_TANH, in[0]);
  case 5: return mlc_tx_unary(k, MLC_TU_ERF, in[0]);
  case 6: return mlc_tx_unary(k, MLC_TU_EXP, in[0]);
  case 7: return mlc_tx_binary(k, MLC_TB_MOD, in[0], in[1]);
  default: return mlc_tx_cast(k, MLC_DT_F32, mlc_tx_unary(k, MLC_TU_ISNAN, in[1]));
  }
}

static void test_select_nan_math(void **state) {
  (void)state;
  cg_fix_t f;
  mlc_dtype_t in[2] = {MLC_DT_F32, MLC_DT_F32};
  mlc_dtype_t out[9];
  for (int i = 0; i < 9; i++) out[i] = MLC_DT_F32;
  build_elem(&f, "misc", 8, 2, in, 9, out, misc_emit);
  const mlc_abi_model_t *m = cg_build(&f, "misc.so", 2);
  float a[8] = {2.5f, -3.5f, NAN, 1.0f, 0.5f, -0.7f, 3.0f, -2.0f};
  float b[8] = {1.0f, NAN, 2.0f, 1.0f, 7.0f, -0.2f, -4.5f, 0.75f};
  float o[9][8];
  void *ins[2] = {a, b}, *outs[9];
  for (int i = 0; i < 9; i++) outs[i] = o[i];
  assert_int_equal(m->run(NULL, NULL, NULL, ins, outs), 0);
  for (int i = 0; i < 8; i++) {
    float sel = a[i] > b[i] ? a[i] : b[i];
    if (isnan(sel)) assert_true(isnan(o[0][i])); else assert_true(o[0][i] == sel);
    bool nan = isnan(a[i]) || isnan(b[i]);
    if (nan) {
      assert_true(isnan(o[1][i]));
      assert_true(isnan(o[2][i]));
    } else {
      assert_true(o[1][i] == fminf(a[i], b[i]));
      assert_true(o[2][i] == fmaxf(a[i], b[i]));
    }
    if (!isnan(a[i])) {
      assert_true(o[3][i] == nearbyintf(a[i])); /* default mode: half to even */
      assert_float_equal(o[4][i], tanhf(a[i]), 1e-6);
      assert_float_equal(o[5][i], erff(a[i]), 1e-6);
      assert_float_equal(o[6][i], expf(a[i]), 1e-5 * expf(a[i]));
    }
    if (!nan) assert_float_equal(o[7][i], fmodf(a[i], b[i]), 1e-6);
    assert_true(o[8][i] == (isnan(b[i]) ? 1.0f : 0.0f));
  }
  assert_true(o[3][0] == 2.0f && o[3][1] == -4.0f);
  cg_fix_deinit(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_net_o2),     cmocka_unit_test(test_net_o0),
      cmocka_unit_test(test_net_o3),     cmocka_unit_test(test_int_divmod),
      cmocka_unit_test(test_casts),      cmocka_unit_test(test_half_math),
      cmocka_unit_test(test_select_nan_math),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
