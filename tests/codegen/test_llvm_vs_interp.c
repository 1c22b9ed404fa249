/* Differential test: real kernels from the lowering (mlc_lower_node on
 * one-node graphs: convolution with pads and groups, matmul, gemm, pools,
 * softmax, layer norm, row reductions with lane partials, f16 activations, integer div/mod/pow, casts,
 * gather, pad...) are compiled by the LLVM backend and run on random
 * inputs; every written buffer must match the tile interpreter (the
 * reference semantics) bit for bit, NaNs aside.  The compiled run uses an
 * executor that runs tiles one at a time in reverse order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>

#include "cg_util.h"
#include "passes/lower.h"

static cg_fix_t F;
static int n_so;

static uint32_t rnd(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

/* Random data of a dtype: floats in [-3, 3) with a few specials, ints in
 * [-20, 20) (non-negative for unsigned), bools 0/1. */
static void fill_random(void *p, mlc_dtype_t dt, int64_t n, uint32_t seed) {
  for (int64_t i = 0; i < n; i++) {
    uint32_t r = rnd(&seed);
    double v = (double)(r % 6000) / 1000.0 - 3.0;
    int64_t iv = (int64_t)(r % 40) - 20;
    switch (dt) {
    case MLC_DT_F32: ((float *)p)[i] = (float)v; break;
    case MLC_DT_F64: ((double *)p)[i] = v; break;
    case MLC_DT_F16: { _Float16 h = (_Float16)v; memcpy((char *)p + 2 * i, &h, 2); break; }
    case MLC_DT_BF16: { float f = (float)v; uint32_t u; memcpy(&u, &f, 4);
      ((uint16_t *)p)[i] = (uint16_t)(u >> 16); break; }
    case MLC_DT_BOOL: ((uint8_t *)p)[i] = r & 1; break;
    case MLC_DT_I8: ((int8_t *)p)[i] = (int8_t)iv; break;
    case MLC_DT_U8: ((uint8_t *)p)[i] = (uint8_t)(r % 40); break;
    case MLC_DT_I32: ((int32_t *)p)[i] = (int32_t)iv; break;
    case MLC_DT_I64: ((int64_t *)p)[i] = iv; break;
    default: memset((char *)p + i * (int64_t)mlc_dtype_size(dt), (int)(r & 7), mlc_dtype_size(dt));
    }
  }
}

static bool same_elem(mlc_dtype_t dt, const void *a, const void *b) {
  if (dt == MLC_DT_F32) {
    float x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    return (isnan(x) && isnan(y)) || memcmp(&x, &y, 4) == 0;
  }
  if (dt == MLC_DT_F64) {
    double x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return (isnan(x) && isnan(y)) || memcmp(&x, &y, 8) == 0;
  }
  if (dt == MLC_DT_F16 || dt == MLC_DT_BF16) {
    uint16_t x, y;
    memcpy(&x, a, 2);
    memcpy(&y, b, 2);
    uint16_t em = dt == MLC_DT_F16 ? 0x7c00 : 0x7f80, mm = dt == MLC_DT_F16 ? 0x3ff : 0x7f;
    bool nx = (x & em) == em && (x & mm), ny = (y & em) == em && (y & mm);
    return (nx && ny) || x == y;
  }
  return memcmp(a, b, mlc_dtype_size(dt)) == 0;
}

/* Runs kernel k (buffer i initialised from data[i] when given, else
 * random) in the interpreter and compiled; compares; takes k. */
static void diff_kernel(mlc_tkernel_t *k, const void *const *data, const char *what,
                        uint32_t seed) {
  mlc_status_t *st;
  int nb = k->nbufs;
  void **ref = calloc((size_t)nb, sizeof *ref), **got = calloc((size_t)nb, sizeof *got);
  for (int i = 0; i < nb; i++) {
    size_t bytes = (size_t)k->bufs[i].nelems * mlc_dtype_size(k->bufs[i].dtype);
    ref[i] = calloc(1, bytes + 8);
    got[i] = calloc(1, bytes + 8);
    if (data && data[i]) memcpy(ref[i], data[i], bytes);
    else if (!k->bufs[i].written) fill_random(ref[i], k->bufs[i].dtype, k->bufs[i].nelems, seed + (uint32_t)i);
    memcpy(got[i], ref[i], bytes);
    if (!k->bufs[i].local)
      k->bufs[i].storage = (mlc_storage_t){k->bufs[i].written ? MLC_STORAGE_OUTPUT : MLC_STORAGE_INPUT, i, 0};
  }
  st = mlc_tkernel_interpret(k, ref);
  if (st) fail_msg("interpreting %s: %s", what, mlc_status_message(st));
  assert_true(MLC_VEC_PUSH(&F.p.kernels, k));
  char file[32];
  snprintf(file, sizeof file, "d%d.so", n_so++);
  const mlc_abi_model_t *m = cg_build(&F, file, 2);
  cg_pool_t pool = {0};
  mlc_abi_exec_t exec = {.pool = &pool, .parallel_for = cg_reverse_for};
  assert_int_equal(m->run(&exec, NULL, NULL, got, got), 0);
  for (int i = 0; i < nb; i++) {
    if (!k->bufs[i].written) continue;
    size_t es = mlc_dtype_size(k->bufs[i].dtype);
    for (int64_t e = 0; e < k->bufs[i].nelems; e++)
      if (!same_elem(k->bufs[i].dtype, (char *)ref[i] + e * (int64_t)es, (char *)got[i] + e * (int64_t)es)) {
        if (k->bufs[i].dtype == MLC_DT_F32)
          fprintf(stderr, "ref %.9g got %.9g\n", (double)((float *)ref[i])[e], (double)((float *)got[i])[e]);
        fail_msg("%s (%s): buffer %d element %lld differs from the interpreter",
                 what, mlc_dtype_name(k->bufs[i].dtype), i, (long long)e);
      }
  }
  dlclose(F.lib);
  F.lib = NULL;
  mlc_program_deinit(&F.p);
  for (int i = 0; i < nb; i++) {
    free(ref[i]);
    free(got[i]);
  }
  free(ref);
  free(got);
}

/* Lowers n and diffs its kernel. */
static void diff_node(mlc_node_t *n, uint32_t seed) {
  mlc_pass_ctx_t ctx = {0};
  mlc_tkernel_t *k;
  mlc_value_t **bv;
  mlc_status_t *st = mlc_lower_node(&ctx, F.g, n, &k, &bv);
  if (st) fail_msg("lowering %s: %s", mlc_op_name(n->op), mlc_status_message(st));
  const void *data[64] = {0};
  for (int i = 0; i < k->nbufs && i < 64; i++) data[i] = bv[i] ? bv[i]->data : NULL;
  diff_kernel(k, data, mlc_op_name(n->op), seed);
}

static mlc_value_t *val(mlc_dtype_t dt, int rank, const int64_t *dims) {
  mlc_value_t *v = mlc_graph_add_value_static(F.g, "v", dt, rank, dims);
  assert_non_null(v);
  return v;
}

static mlc_value_t *cst_i64(int64_t n, const int64_t *data) {
  return mlc_graph_add_const_i64s(F.g, "c", data, n);
}

static mlc_node_t *node(mlc_op_t op, int ni, mlc_value_t **in, int no, mlc_value_t **o) {
  mlc_node_t *n = mlc_graph_add_node(F.g, op, "n", ni, in, no, o);
  assert_non_null(n);
  return n;
}

static int setup(void **s) {
  (void)s;
  cg_fix_init(&F, "diff");
  return 0;
}
static int teardown(void **s) {
  (void)s;
  cg_fix_deinit(&F);
  return 0;
}

static void test_conv_pool(void **s) {
  (void)s;
  mlc_value_t *in[3] = {val(MLC_DT_F32, 4, (int64_t[]){2, 4, 9, 8}),
                        val(MLC_DT_F32, 4, (int64_t[]){6, 2, 3, 3}),
                        val(MLC_DT_F32, 1, (int64_t[]){6})};
  mlc_value_t *o = val(MLC_DT_F32, 4, (int64_t[]){2, 6, 5, 8});
  mlc_node_t *n = node(MLC_OP_Conv, 3, in, 1, &o);
  mlc_node_set_int(F.g, n, "group", 2);
  mlc_node_set_ints(F.g, n, "strides", (int64_t[]){2, 1}, 2);
  mlc_node_set_ints(F.g, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
  diff_node(n, 1);
  mlc_value_t *o2 = val(MLC_DT_F32, 4, (int64_t[]){2, 6, 5, 13});
  mlc_value_t *in2[3] = {val(MLC_DT_F32, 4, (int64_t[]){2, 4, 9, 26}), in[1], in[2]};
  n = node(MLC_OP_Conv, 3, in2, 1, &o2); /* stride 2 along the widened dim */
  mlc_node_set_int(F.g, n, "group", 2);
  mlc_node_set_ints(F.g, n, "strides", (int64_t[]){2, 2}, 2);
  mlc_node_set_ints(F.g, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
  diff_node(n, 11);
  mlc_value_t *po[2] = {val(MLC_DT_F32, 4, (int64_t[]){2, 4, 4, 4}),
                        val(MLC_DT_I64, 4, (int64_t[]){2, 4, 4, 4})};
  n = node(MLC_OP_MaxPool, 1, in, 2, po);
  mlc_node_set_ints(F.g, n, "kernel_shape", (int64_t[]){3, 2}, 2);
  mlc_node_set_ints(F.g, n, "strides", (int64_t[]){2, 2}, 2);
  diff_node(n, 2);
  mlc_value_t *ao = val(MLC_DT_F32, 4, (int64_t[]){2, 4, 9, 8});
  n = node(MLC_OP_AveragePool, 1, in, 1, &ao);
  mlc_node_set_ints(F.g, n, "kernel_shape", (int64_t[]){3, 3}, 2);
  mlc_node_set_ints(F.g, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
  diff_node(n, 3);
}

/* A 2-D Conv of x [N, C, H, W] with weights [M, C/group, kh, kw]. */
static void diff_conv2d(const int64_t *xd, const int64_t *wd, const int64_t *yd,
                        int64_t group, const int64_t *strides, const int64_t *pads,
                        const int64_t *dil, bool bias, uint32_t seed) {
  mlc_value_t *in[3] = {val(MLC_DT_F32, 4, xd), val(MLC_DT_F32, 4, wd),
                        val(MLC_DT_F32, 1, (int64_t[]){wd[0]})};
  mlc_value_t *o = val(MLC_DT_F32, 4, yd);
  mlc_node_t *n = node(MLC_OP_Conv, bias ? 3 : 2, in, 1, &o);
  mlc_node_set_int(F.g, n, "group", group);
  mlc_node_set_ints(F.g, n, "strides", strides, 2);
  mlc_node_set_ints(F.g, n, "pads", pads, 4);
  if (dil) mlc_node_set_ints(F.g, n, "dilations", dil, 2);
  diff_node(n, seed);
}

static void diff_pool2d(mlc_op_t op, mlc_dtype_t dt, const int64_t *xd, const int64_t *yd,
                        const int64_t *ks, const int64_t *strides, const int64_t *pads,
                        const int64_t *dil, int incl, uint32_t seed) {
  mlc_value_t *x = val(dt, 4, xd), *o = val(dt, 4, yd);
  mlc_node_t *n = node(op, 1, &x, 1, &o);
  mlc_node_set_ints(F.g, n, "kernel_shape", ks, 2);
  mlc_node_set_ints(F.g, n, "strides", strides, 2);
  mlc_node_set_ints(F.g, n, "pads", pads, 4);
  if (dil) mlc_node_set_ints(F.g, n, "dilations", dil, 2);
  if (incl) mlc_node_set_int(F.g, n, "count_include_pad", 1);
  diff_node(n, seed);
}

/* The border-split kernels (lower_dwconv.c, lower_pool.c): rows wider
 * than one vector (guarded first and last runs, a clean interior), row
 * blocks with remainder rows, planes split over several tiles, ceil_mode
 * windows hanging past the end pad. */
static void test_dwconv_pool(void **s) {
  (void)s;
  int64_t s1[2] = {1, 1}, s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1}, d2[2] = {2, 2};
  /* depthwise 3x3 stride 1 and 2, pad 1, bias */
  diff_conv2d((int64_t[]){1, 3, 22, 37}, (int64_t[]){3, 1, 3, 3}, (int64_t[]){1, 3, 22, 37},
              3, s1, p1, NULL, true, 31);
  diff_conv2d((int64_t[]){2, 3, 21, 40}, (int64_t[]){3, 1, 3, 3}, (int64_t[]){2, 3, 11, 20},
              3, s2, p1, NULL, true, 32);
  /* depthwise 5x5 pad 2 with channel multiplier 2, no bias; a narrow row */
  diff_conv2d((int64_t[]){1, 3, 14, 14}, (int64_t[]){6, 1, 5, 5}, (int64_t[]){1, 6, 14, 14},
              3, s1, (int64_t[]){2, 2, 2, 2}, NULL, false, 33);
  /* grouped (Cg = 3), dilation 2, asymmetric pads */
  diff_conv2d((int64_t[]){1, 6, 19, 35}, (int64_t[]){4, 3, 3, 3}, (int64_t[]){1, 4, 16, 34},
              2, s1, (int64_t[]){1, 2, 0, 1}, d2, true, 34);
  /* a plane split into row blocks over the grid */
  diff_conv2d((int64_t[]){1, 2, 64, 70}, (int64_t[]){2, 1, 3, 3}, (int64_t[]){1, 2, 64, 70},
              2, s1, p1, NULL, true, 35);
  /* MaxPool 3x3 s2 pad 1, ceil_mode output sizes (last window past the end pad) */
  diff_pool2d(MLC_OP_MaxPool, MLC_DT_F32, (int64_t[]){1, 2, 34, 42},
              (int64_t[]){1, 2, 18, 22}, (int64_t[]){3, 3}, s2, p1, NULL, 0, 36);
  diff_pool2d(MLC_OP_MaxPool, MLC_DT_F32, (int64_t[]){1, 2, 20, 40},
              (int64_t[]){1, 2, 18, 36}, (int64_t[]){2, 3}, s1, (int64_t[]){0, 0, 0, 0}, d2, 0, 37);
  /* AveragePool with and without count_include_pad, ceil_mode sizes; f16 */
  for (int incl = 0; incl < 2; incl++)
    diff_pool2d(MLC_OP_AveragePool, MLC_DT_F32, (int64_t[]){1, 2, 34, 42},
                (int64_t[]){1, 2, 18, 22}, (int64_t[]){3, 3}, s2, p1, NULL, incl, 38);
  diff_pool2d(MLC_OP_AveragePool, MLC_DT_F16, (int64_t[]){1, 2, 23, 37},
              (int64_t[]){1, 2, 23, 37}, (int64_t[]){3, 3}, s1, p1, NULL, 1, 39);
}

static void test_linalg(void **s) {
  (void)s;
  mlc_value_t *in[2] = {val(MLC_DT_F32, 3, (int64_t[]){2, 17, 70}),
                        val(MLC_DT_F32, 2, (int64_t[]){70, 67})};
  mlc_value_t *o = val(MLC_DT_F32, 3, (int64_t[]){2, 17, 67});
  diff_node(node(MLC_OP_MatMul, 2, in, 1, &o), 4);
  mlc_value_t *gin[3] = {val(MLC_DT_F32, 2, (int64_t[]){7, 20}),
                         val(MLC_DT_F32, 2, (int64_t[]){70, 7}),
                         val(MLC_DT_F32, 1, (int64_t[]){70})};
  o = val(MLC_DT_F32, 2, (int64_t[]){20, 70});
  mlc_node_t *n = node(MLC_OP_Gemm, 3, gin, 1, &o);
  mlc_node_set_int(F.g, n, "transA", 1);
  mlc_node_set_int(F.g, n, "transB", 1);
  mlc_node_set_float(F.g, n, "alpha", 0.5f);
  diff_node(n, 5);
}

static void test_norm_softmax(void **s) {
  (void)s;
  mlc_value_t *x = val(MLC_DT_F32, 3, (int64_t[]){3, 5, 33});
  mlc_value_t *o = val(MLC_DT_F32, 3, (int64_t[]){3, 5, 33});
  diff_node(node(MLC_OP_Softmax, 1, &x, 1, &o), 6);
  mlc_value_t *in[3] = {x, val(MLC_DT_F32, 1, (int64_t[]){33}), val(MLC_DT_F32, 1, (int64_t[]){33})};
  o = val(MLC_DT_F32, 3, (int64_t[]){3, 5, 33});
  diff_node(node(MLC_OP_LayerNormalization, 3, in, 1, &o), 7);
  mlc_value_t *r = val(MLC_DT_F32, 3, (int64_t[]){3, 1, 33});
  mlc_node_t *n = node(MLC_OP_ReduceMean, 2, (mlc_value_t *[]){x, cst_i64(1, (int64_t[]){1})}, 1, &r);
  diff_node(n, 8); /* middle axis: the kept last dim is widened */
  o = val(MLC_DT_F32, 3, (int64_t[]){3, 5, 33});
  n = node(MLC_OP_Softmax, 1, &x, 1, &o);
  mlc_node_set_int(F.g, n, "axis", 1);
  diff_node(n, 9);
}

/* Row reductions with lane partials (passes/lower_rows.c): rows shorter
 * than the 16 lanes, longer and not a multiple, exactly a multiple; several
 * tiles of rows; f16 (no exp kept in y); LayerNorm statistics; Reduce*
 * over a trailing suffix of several dims and over everything, on ints. */
static mlc_node_t *reduce_node(mlc_op_t op, mlc_value_t *x, mlc_value_t *o,
                               int na, const int64_t *axes, int keep) {
  mlc_node_t *n = node(op, 2, (mlc_value_t *[]){x, cst_i64(na, axes)}, 1, &o);
  mlc_node_set_int(F.g, n, "keepdims", keep);
  return n;
}

static void test_rows(void **s) {
  (void)s;
  const int64_t lens[] = {1, 5, 16, 33, 128, 200};
  for (int i = 0; i < 6; i++) {
    int64_t d[2] = {i == 5 ? 40 : 3, lens[i]};
    mlc_value_t *x = val(MLC_DT_F32, 2, d), *o = val(MLC_DT_F32, 2, d);
    diff_node(node(MLC_OP_Softmax, 1, &x, 1, &o), 20 + (uint32_t)i);
    o = val(MLC_DT_F32, 2, d);
    diff_node(node(MLC_OP_LogSoftmax, 1, &x, 1, &o), 30 + (uint32_t)i);
    mlc_value_t *ln[3] = {x, val(MLC_DT_F32, 1, &d[1]), val(MLC_DT_F32, 1, &d[1])};
    mlc_value_t *lo[3] = {val(MLC_DT_F32, 2, d), val(MLC_DT_F32, 2, (int64_t[]){d[0], 1}),
                          val(MLC_DT_F32, 2, (int64_t[]){d[0], 1})};
    diff_node(node(MLC_OP_LayerNormalization, 3, ln, 3, lo), 40 + (uint32_t)i);
    const mlc_op_t rops[4] = {MLC_OP_ReduceSum, MLC_OP_ReduceMean, MLC_OP_ReduceMax, MLC_OP_ReduceMin};
    o = val(MLC_DT_F32, 1, d);
    diff_node(reduce_node(rops[i % 4], x, o, 1, (int64_t[]){-1}, 0), 50 + (uint32_t)i);
  }
  int64_t d3[3] = {2, 3, 19};
  mlc_value_t *h = val(MLC_DT_F16, 3, d3), *ho = val(MLC_DT_F16, 3, d3);
  diff_node(node(MLC_OP_Softmax, 1, &h, 1, &ho), 60);
  mlc_value_t *x3 = val(MLC_DT_F32, 3, d3);
  mlc_value_t *o = val(MLC_DT_F32, 3, (int64_t[]){2, 1, 1});
  diff_node(reduce_node(MLC_OP_ReduceProd, x3, o, 2, (int64_t[]){1, 2}, 1), 61);
  mlc_value_t *xi = val(MLC_DT_I32, 3, d3), *oi = val(MLC_DT_I32, 1, (int64_t[]){1});
  diff_node(reduce_node(MLC_OP_ReduceSum, xi, oi, 3, (int64_t[]){0, 1, 2}, 0), 62);
}

static void test_activations(void **s) {
  (void)s;
  mlc_op_t ops[] = {MLC_OP_Sigmoid, MLC_OP_Relu, MLC_OP_Gelu, MLC_OP_HardSwish,
                    MLC_OP_Tanh, MLC_OP_Erf, MLC_OP_Exp, MLC_OP_Sqrt, MLC_OP_Round};
  mlc_dtype_t dts[] = {MLC_DT_F32, MLC_DT_F16, MLC_DT_BF16};
  for (size_t d = 0; d < 3; d++)
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
      mlc_value_t *x = val(dts[d], 2, (int64_t[]){7, 37});
      mlc_value_t *o = val(dts[d], 2, (int64_t[]){7, 37});
      diff_node(node(ops[i], 1, &x, 1, &o), 9 + (uint32_t)i);
    }
}

static void test_int_ops(void **s) {
  (void)s;
  mlc_op_t ops[] = {MLC_OP_Div, MLC_OP_Mod, MLC_OP_Pow, MLC_OP_Max, MLC_OP_Sub};
  mlc_dtype_t dts[] = {MLC_DT_I32, MLC_DT_I8, MLC_DT_I64, MLC_DT_U8};
  for (size_t d = 0; d < 4; d++)
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
      mlc_value_t *in[2] = {val(dts[d], 2, (int64_t[]){5, 19}), val(dts[d], 1, (int64_t[]){19})};
      mlc_value_t *o = val(dts[d], 2, (int64_t[]){5, 19});
      diff_node(node(ops[i], 2, in, 1, &o), 30 + (uint32_t)i);
    }
}

static void test_casts_where(void **s) {
  (void)s;
  mlc_dtype_t dts[] = {MLC_DT_I8, MLC_DT_U8, MLC_DT_I64, MLC_DT_F16, MLC_DT_BF16, MLC_DT_BOOL, MLC_DT_F64};
  for (size_t d = 0; d < 7; d++) {
    mlc_value_t *x = val(MLC_DT_F32, 1, (int64_t[]){100});
    mlc_value_t *o = val(dts[d], 1, (int64_t[]){100});
    mlc_node_t *n = node(MLC_OP_Cast, 1, &x, 1, &o);
    mlc_node_set_int(F.g, n, "to", dts[d]);
    diff_node(n, 50 + (uint32_t)d);
  }
  mlc_value_t *in[3] = {val(MLC_DT_BOOL, 2, (int64_t[]){4, 9}), val(MLC_DT_F32, 1, (int64_t[]){9}),
                        val(MLC_DT_F32, 2, (int64_t[]){4, 9})};
  mlc_value_t *o = val(MLC_DT_F32, 2, (int64_t[]){4, 9});
  diff_node(node(MLC_OP_Where, 3, in, 1, &o), 60);
}

static void test_data_movement(void **s) {
  (void)s;
  mlc_value_t *x = val(MLC_DT_F32, 3, (int64_t[]){4, 6, 5});
  mlc_value_t *idx = cst_i64(4, (int64_t[]){5, 0, -1, 2});
  mlc_value_t *o = val(MLC_DT_F32, 3, (int64_t[]){4, 4, 5});
  mlc_node_t *n = node(MLC_OP_Gather, 2, (mlc_value_t *[]){x, idx}, 1, &o);
  mlc_node_set_int(F.g, n, "axis", 1);
  diff_node(n, 70);
  o = val(MLC_DT_F32, 3, (int64_t[]){5, 4, 6});
  n = node(MLC_OP_Transpose, 1, &x, 1, &o);
  mlc_node_set_ints(F.g, n, "perm", (int64_t[]){2, 0, 1}, 3);
  diff_node(n, 71);
  mlc_value_t *pads = cst_i64(6, (int64_t[]){0, 1, 2, 1, 0, 1});
  o = val(MLC_DT_F32, 3, (int64_t[]){5, 7, 8});
  n = node(MLC_OP_Pad, 2, (mlc_value_t *[]){x, pads}, 1, &o);
  mlc_node_set_string(F.g, n, "mode", "reflect");
  diff_node(n, 72);
}

/* A hinted loop with an inner loop, widened by the backend: a varying IF
 * with an else (masks), a stride-2 scatter, a gather, tanh and integer
 * POW lane by lane, an f16 and a bool local, and a remainder (13 is not
 * a multiple of the width). */
static void test_widened_constructs(void **s) {
  (void)s;
  mlc_tkernel_t *k = mlc_tkernel_create("widen");
  int bx = mlc_tkernel_add_buf(k, "x", MLC_DT_F32, 13 * 5, (mlc_storage_t){0}, false);
  int bn = mlc_tkernel_add_buf(k, "n", MLC_DT_I32, 13, (mlc_storage_t){0}, false);
  int by = mlc_tkernel_add_buf(k, "y", MLC_DT_F32, 26, (mlc_storage_t){0}, true);
  int bh = mlc_tkernel_add_buf(k, "h", MLC_DT_F16, 13, (mlc_storage_t){0}, true);
  int bp = mlc_tkernel_add_buf(k, "p", MLC_DT_I32, 13, (mlc_storage_t){0}, true);
  mlc_tvar_t *g = mlc_tkernel_add_grid(k, 2);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_tvar_t *j = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "j");
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F32, "acc");
  mlc_tvar_t *hv = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F16, "hv");
  mlc_tvar_t *flag = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_BOOL, "flag");
#define I(v) mlc_tx_i64(k, v)
#define V(v) mlc_tx_var(k, v)
#define B(op, a, b) mlc_tx_binary(k, MLC_TB_##op, a, b)
#define F32(v) mlc_tx_float(k, MLC_DT_F32, v)
  mlc_texpr_t *xij = mlc_tx_load(k, bx, B(ADD, B(MUL, V(j), I(13)), V(i))); /* stride 1 */
  mlc_texpr_t *xg = mlc_tx_load(k, bx, B(ADD, B(MUL, V(i), I(5)), V(j)));  /* gather */
  mlc_texpr_t *cond = B(GT, xij, F32(0.0));
  mlc_tstmt_t *then_s = mlc_ts_assign(k, acc, B(ADD, V(acc), mlc_tx_unary(k, MLC_TU_TANH, xg)));
  mlc_tstmt_t *else_s = mlc_ts_block(k, 2, (mlc_tstmt_t *[]){
      mlc_ts_assign(k, acc, B(SUB, V(acc), xij)),
      mlc_ts_assign(k, flag, mlc_tx_unary(k, MLC_TU_NOT, V(flag)))});
  mlc_tstmt_t *inner = mlc_ts_for(k, j, I(0), I(5), MLC_LOOP_SERIAL, 0,
                                  mlc_ts_if(k, cond, then_s, else_s));
  mlc_texpr_t *nv = mlc_tx_load(k, bn, V(i));
  mlc_tstmt_t *body[7] = {
      mlc_ts_assign(k, acc, mlc_tx_cast(k, MLC_DT_F32, V(g))),
      mlc_ts_assign(k, flag, mlc_tx_int(k, MLC_DT_BOOL, 0)),
      inner,
      mlc_ts_assign(k, hv, mlc_tx_cast(k, MLC_DT_F16, B(MUL, V(acc), F32(1.0 / 3.0)))),
      mlc_ts_store(k, by, B(ADD, B(MUL, V(i), I(2)), V(g)),
                   mlc_tx_select(k, V(flag), V(acc), mlc_tx_unary(k, MLC_TU_NEG, V(acc)))),
      mlc_ts_if(k, B(EQ, V(g), I(0)), mlc_ts_block(k, 2, (mlc_tstmt_t *[]){
          mlc_ts_store(k, bh, V(i), V(hv)),
          mlc_ts_store(k, bp, V(i), B(POW, nv, mlc_tx_int(k, MLC_DT_I32, 3)))}), NULL),
      NULL};
  k->body = mlc_ts_for(k, i, I(0), I(13), MLC_LOOP_VECTORIZE, 4, mlc_ts_block(k, 6, body));
#undef I
#undef V
#undef B
#undef F32
  assert_non_null(k->body);
  diff_kernel(k, NULL, "widened loop", 99);
}

/* Loops the backend must not widen on its own: overlapping stores in
 * consecutive iterations, and a local read after the loop. */
static void test_not_widened(void **s) {
  (void)s;
  mlc_tkernel_t *k = mlc_tkernel_create("overlap");
  int bx = mlc_tkernel_add_buf(k, "x", MLC_DT_F32, 40, (mlc_storage_t){0}, false);
  int by = mlc_tkernel_add_buf(k, "y", MLC_DT_F32, 21, (mlc_storage_t){0}, true);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_tvar_t *j = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "j");
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F32, "acc");
#define I(v) mlc_tx_i64(k, v)
#define V(v) mlc_tx_var(k, v)
#define B(op, a, b) mlc_tx_binary(k, MLC_TB_##op, a, b)
  mlc_tstmt_t *red = mlc_ts_for(k, j, I(0), I(2), MLC_LOOP_SERIAL, 0,
      mlc_ts_assign(k, acc, B(ADD, V(acc), mlc_tx_load(k, bx, B(ADD, B(MUL, V(i), I(2)), V(j))))));
  mlc_tstmt_t *body[4] = {
      mlc_ts_assign(k, acc, mlc_tx_float(k, MLC_DT_F32, 0.0)), red,
      mlc_ts_store(k, by, V(i), V(acc)),
      mlc_ts_store(k, by, B(ADD, V(i), I(1)), mlc_tx_unary(k, MLC_TU_NEG, V(acc)))};
  mlc_tstmt_t *loop = mlc_ts_for(k, i, I(0), I(19), MLC_LOOP_SERIAL, 0, mlc_ts_block(k, 4, body));
  mlc_tstmt_t *top[2] = {loop, mlc_ts_store(k, by, I(20), V(acc))}; /* acc after the loop */
  k->body = mlc_ts_block(k, 2, top);
#undef I
#undef V
#undef B
  assert_non_null(k->body);
  diff_kernel(k, NULL, "overlapping stores", 5);
}

/* EXP, TANH and ERF of ir/vmath.c: inputs sweep the f32 bit patterns
 * (every 65537th), [-12, 12] densely, and the special values.  One loop
 * is left to LLVM's loop vectorizer (scalar code, vector body and scalar
 * epilogue), the other has an inner loop so the backend widens it
 * (widen.c), with a remainder of 5 rows. */
enum { VM_SPECIALS = 24, VM_N = VM_SPECIALS + 65536 + 32768, VM_ROWS = 61 };

static void vmath_inputs(float *x) {
  const float sp[VM_SPECIALS] = {
      0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MAX, -FLT_MAX,
      FLT_MIN, -FLT_MIN, 0x1p-149f, -0x1p-149f, 88.72283f, 88.72284f,
      89.0f, -103.97f, -104.0f, -87.5f, 0.625f, 1.0f, 3.92f, -3.92f, 9.01f, -0.3466f};
  memcpy(x, sp, sizeof sp);
  for (uint32_t i = 0; i < 65536; i++) {
    uint32_t u = i * 65537u + 12345u;
    memcpy(&x[VM_SPECIALS + i], &u, 4);
  }
  for (int i = 0; i < 32768; i++) x[VM_SPECIALS + 65536 + i] = -12.0f + (float)i * (24.0f / 32768.0f);
}

static mlc_tkernel_t *vmath_kernel(bool widened) {
  const mlc_tunop_t ops[3] = {MLC_TU_EXP, MLC_TU_TANH, MLC_TU_ERF};
  mlc_tkernel_t *k = mlc_tkernel_create(widened ? "vmath_w" : "vmath_v");
  int bx = mlc_tkernel_add_buf(k, "x", MLC_DT_F32, VM_N, (mlc_storage_t){0}, false);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_tvar_t *j = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "j");
  /* widened: element j * ROWS + i, i the widened loop; else element i. */
  mlc_texpr_t *idx = widened ? mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_binary(k, MLC_TB_MUL,
                                   mlc_tx_var(k, j), mlc_tx_i64(k, VM_ROWS)), mlc_tx_var(k, i))
                             : mlc_tx_var(k, i);
  mlc_tstmt_t *st[3];
  for (int o = 0; o < 3; o++) {
    int by = mlc_tkernel_add_buf(k, "y", MLC_DT_F32, VM_N, (mlc_storage_t){0}, true);
    st[o] = mlc_ts_store(k, by, idx, mlc_tx_unary(k, ops[o], mlc_tx_load(k, bx, idx)));
  }
  mlc_tstmt_t *body = mlc_ts_block(k, 3, st);
  if (widened)
    body = mlc_ts_for(k, j, mlc_tx_i64(k, 0), mlc_tx_i64(k, VM_N / VM_ROWS), MLC_LOOP_SERIAL, 0, body);
  int64_t n = widened ? VM_ROWS : VM_N;
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, n), MLC_LOOP_VECTORIZE, 8, body);
  assert_non_null(k->body);
  return k;
}

static void test_vmath_sweep(void **s) {
  (void)s;
  float *x = malloc(VM_N * sizeof *x);
  assert_non_null(x);
  vmath_inputs(x);
  const void *data[4] = {x, NULL, NULL, NULL};
  diff_kernel(vmath_kernel(false), data, "exp/tanh/erf, vectorized loop", 0);
  diff_kernel(vmath_kernel(true), data, "exp/tanh/erf, widened loop", 0);
  free(x);
}

/* FMA in scalar code and in a widened loop (an outer loop over outputs
 * with an inner reduction, as the matmul micro-kernels use it), for f32,
 * f16 (computed in f32) and f64: one rounding in both. */
static void test_fma(void **s) {
  (void)s;
  mlc_dtype_t dts[3] = {MLC_DT_F32, MLC_DT_F16, MLC_DT_F64};
  for (int t = 0; t < 3; t++) {
    mlc_dtype_t dt = dts[t], ct = dt == MLC_DT_F16 ? MLC_DT_F32 : dt;
    mlc_tkernel_t *k = mlc_tkernel_create("fma");
    int bx = mlc_tkernel_add_buf(k, "x", dt, 7 * 37, (mlc_storage_t){0}, false);
    int by = mlc_tkernel_add_buf(k, "y", dt, 37 + 1, (mlc_storage_t){0}, true);
    mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
    mlc_tvar_t *j = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "j");
    mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "acc");
#define I(v) mlc_tx_i64(k, v)
#define V(v) mlc_tx_var(k, v)
#define B(op, a, b) mlc_tx_binary(k, MLC_TB_##op, a, b)
#define X(idx) mlc_tx_cast(k, ct, mlc_tx_load(k, bx, idx))
    mlc_texpr_t *xji = X(B(ADD, B(MUL, V(j), I(37)), V(i)));
    mlc_texpr_t *xj = X(B(MUL, V(j), I(37)));
    mlc_tstmt_t *red = mlc_ts_for(k, j, I(0), I(7), MLC_LOOP_SERIAL, 0,
                                  mlc_ts_assign(k, acc, mlc_tx_fma(k, xj, xji, V(acc))));
    mlc_tstmt_t *body[3] = {
        mlc_ts_assign(k, acc, mlc_tx_const(k, ct, 0.5)), red,
        mlc_ts_store(k, by, V(i), mlc_tx_cast(k, dt, V(acc)))};
    mlc_tstmt_t *top[2] = {
        mlc_ts_for(k, i, I(0), I(37), MLC_LOOP_VECTORIZE, 16, mlc_ts_block(k, 3, body)),
        mlc_ts_store(k, by, I(37),
                     mlc_tx_cast(k, dt, mlc_tx_fma(k, X(I(1)), X(I(2)), X(I(3)))))};
    k->body = mlc_ts_block(k, 2, top);
#undef I
#undef V
#undef B
#undef X
    assert_non_null(k->body);
    diff_kernel(k, NULL, "fma", 17 + (uint32_t)t);
  }
}

/* The internal ops of the gemm-layout pass: Pack (both orientations),
 * PackedMatMul with a ragged last row block and Gemm's bias, Im2Col with
 * stride, padding and dilation, ConvCols plain and swapped (weights in
 * panels over M, pixels as rows), and a pointwise Conv as a GEMM. */
static void test_gemm_layouts(void **s) {
  (void)s;
  int64_t nb = mlc_lower_gemm_panel(NULL, 67, MLC_DT_F32);
  mlc_value_t *b = val(MLC_DT_F32, 2, (int64_t[]){70, 67});
  mlc_value_t *bp = val(MLC_DT_F32, 3, (int64_t[]){(67 + nb - 1) / nb, 70, nb});
  mlc_node_t *n = node(MLC_OP_Pack, 1, &b, 1, &bp);
  mlc_node_set_int(F.g, n, "panel", nb);
  diff_node(n, 21);
  mlc_value_t *bt = val(MLC_DT_F32, 2, (int64_t[]){67, 70});
  n = node(MLC_OP_Pack, 1, &bt, 1, &bp);
  mlc_node_set_int(F.g, n, "panel", nb);
  mlc_node_set_int(F.g, n, "trans", 1);
  diff_node(n, 22);
  mlc_value_t *pin[3] = {val(MLC_DT_F32, 2, (int64_t[]){23, 70}), bp,
                         val(MLC_DT_F32, 1, (int64_t[]){67})};
  mlc_value_t *po = val(MLC_DT_F32, 2, (int64_t[]){23, 67});
  n = node(MLC_OP_PackedMatMul, 3, pin, 1, &po);
  mlc_node_set_int(F.g, n, "n", 67);
  mlc_node_set_float(F.g, n, "beta", 0.5f);
  diff_node(n, 23);
  /* Im2Col of X [1, 3, 11, 10], 3x2 kernel, stride 2x1, dilation 1x2 */
  mlc_value_t *x = val(MLC_DT_F32, 4, (int64_t[]){1, 3, 11, 10});
  mlc_value_t *cols = val(MLC_DT_F32, 3, (int64_t[]){1, 18, 6 * 10});
  n = node(MLC_OP_Im2Col, 1, &x, 1, &cols);
  mlc_node_set_ints(F.g, n, "kernel_shape", (int64_t[]){3, 2}, 2);
  mlc_node_set_ints(F.g, n, "strides", (int64_t[]){2, 1}, 2);
  mlc_node_set_ints(F.g, n, "dilations", (int64_t[]){1, 2}, 2);
  mlc_node_set_ints(F.g, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
  mlc_node_set_ints(F.g, n, "out_shape", (int64_t[]){6, 10}, 2);
  diff_node(n, 24);
  mlc_value_t *cin[3] = {cols, val(MLC_DT_F32, 4, (int64_t[]){40, 3, 3, 2}),
                         val(MLC_DT_F32, 1, (int64_t[]){40})};
  mlc_value_t *co = val(MLC_DT_F32, 4, (int64_t[]){1, 40, 6, 10});
  n = node(MLC_OP_ConvCols, 3, cin, 1, &co);
  mlc_node_set_ints(F.g, n, "out_shape", (int64_t[]){6, 10}, 2);
  diff_node(n, 25);
  int64_t mp = mlc_lower_gemm_panel(NULL, 40, MLC_DT_F32);
  mlc_value_t *sin[3] = {cols, val(MLC_DT_F32, 3, (int64_t[]){(40 + mp - 1) / mp, 18, mp}),
                         cin[2]};
  n = node(MLC_OP_ConvCols, 3, sin, 1, &co);
  mlc_node_set_ints(F.g, n, "out_shape", (int64_t[]){6, 10}, 2);
  mlc_node_set_int(F.g, n, "swap", 1);
  mlc_node_set_int(F.g, n, "m", 40);
  diff_node(n, 26);
  mlc_value_t *win[2] = {val(MLC_DT_F32, 4, (int64_t[]){2, 5, 7, 9}),
                         val(MLC_DT_F32, 4, (int64_t[]){13, 5, 1, 1})};
  mlc_value_t *wo = val(MLC_DT_F32, 4, (int64_t[]){2, 13, 7, 9});
  diff_node(node(MLC_OP_Conv, 2, win, 1, &wo), 27);
  /* K = 300: K chunks with partial sums in the output, ragged row block */
  mlc_value_t *kin[2] = {val(MLC_DT_F32, 3, (int64_t[]){2, 33, 300}),
                         val(MLC_DT_F32, 2, (int64_t[]){300, 40})};
  mlc_value_t *ko = val(MLC_DT_F32, 3, (int64_t[]){2, 33, 40});
  diff_node(node(MLC_OP_MatMul, 2, kin, 1, &ko), 28);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_pool),   cmocka_unit_test(test_linalg),
      cmocka_unit_test(test_norm_softmax), cmocka_unit_test(test_rows),
      cmocka_unit_test(test_activations),
      cmocka_unit_test(test_int_ops),     cmocka_unit_test(test_casts_where),
      cmocka_unit_test(test_data_movement), cmocka_unit_test(test_widened_constructs),
      cmocka_unit_test(test_not_widened), cmocka_unit_test(test_fma),
      cmocka_unit_test(test_gemm_layouts),
      cmocka_unit_test(test_vmath_sweep),
      cmocka_unit_test(test_dwconv_pool),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
