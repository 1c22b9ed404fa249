/* Tests of mlc_lower_node: tiny hand-built graphs, one node each, lowered
 * and run in the tile interpreter, compared with references computed here
 * (or values from the ONNX spec examples). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "passes/lower.h"

static mlc_graph_t *G;

static int setup(void **s) {
  (void)s;
  return mlc_graph_create("t", &G) ? -1 : 0;
}
static int teardown(void **s) {
  (void)s;
  mlc_graph_destroy(G);
  return 0;
}

/* Input values are constants so their data travels with them. */
static mlc_value_t *cst(mlc_dtype_t dt, int rank, const int64_t *dims,
                        const void *data) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  mlc_value_t *v = mlc_graph_add_const(G, "in", dt, rank, dims, data,
                                       (size_t)n * mlc_dtype_size(dt),
                                       MLC_DATA_COPY);
  assert_non_null(v);
  return v;
}
static mlc_value_t *out(mlc_dtype_t dt, int rank, const int64_t *dims) {
  mlc_value_t *v = mlc_graph_add_value_static(G, "out", dt, rank, dims);
  assert_non_null(v);
  return v;
}
static mlc_node_t *node(mlc_op_t op, int ni, mlc_value_t **in, int no,
                        mlc_value_t **o) {
  mlc_node_t *n = mlc_graph_add_node(G, op, "n", ni, in, no, o);
  assert_non_null(n);
  return n;
}

/* Lowers and interprets n; returns heap copies of outputs (caller frees). */
static void run_node(mlc_node_t *n, void **outs) {
  mlc_pass_ctx_t ctx = {0};
  mlc_tkernel_t *k;
  mlc_value_t **bv;
  mlc_status_t *st = mlc_lower_node(&ctx, G, n, &k, &bv);
  if (st) fail_msg("%s", mlc_status_message(st));
  void **bufs = calloc((size_t)k->nbufs, sizeof *bufs);
  for (int i = 0; i < k->nbufs; i++) {
    size_t nb = (size_t)k->bufs[i].nelems * mlc_dtype_size(k->bufs[i].dtype);
    bufs[i] = calloc(1, nb + 1);
    if (bv[i] && bv[i]->data) memcpy(bufs[i], bv[i]->data, nb);
  }
  st = mlc_tkernel_interpret(k, bufs);
  if (st) fail_msg("%s", mlc_status_message(st));
  for (int o = 0; o < n->noutputs; o++) {
    outs[o] = NULL;
    for (int i = 0; i < k->nbufs; i++)
      if (bv[i] == n->outputs[o] && !outs[o]) {
        outs[o] = bufs[i];
        bufs[i] = NULL;
      }
  }
  for (int i = 0; i < k->nbufs; i++) free(bufs[i]);
  free(bufs);
  mlc_tkernel_destroy(k);
}

static float *run1f(mlc_node_t *n) {
  void *o[4];
  run_node(n, o);
  return o[0];
}

static void near(const float *got, const float *want, int n, float tol) {
  for (int i = 0; i < n; i++)
    if (!(fabsf(got[i] - want[i]) <= tol * (1 + fabsf(want[i]))))
      fail_msg("element %d: got %g want %g", i, got[i], want[i]);
}

/* ---- elementwise ---- */

static void test_add_broadcast(void **s) {
  (void)s;
  float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30};
  mlc_value_t *in[2] = {cst(MLC_DT_F32, 2, (int64_t[]){2, 3}, a),
                        cst(MLC_DT_F32, 1, (int64_t[]){3}, b)};
  mlc_value_t *o = out(MLC_DT_F32, 2, (int64_t[]){2, 3});
  float *y = run1f(node(MLC_OP_Add, 2, in, 1, &o));
  near(y, (float[]){11, 22, 33, 14, 25, 36}, 6, 0);
  free(y);
}

static void test_int_div_and_python_mod(void **s) {
  (void)s;
  int32_t a[4] = {7, -7, 7, -7}, b[4] = {2, 2, -2, -2};
  mlc_value_t *in[2] = {cst(MLC_DT_I32, 1, (int64_t[]){4}, a),
                        cst(MLC_DT_I32, 1, (int64_t[]){4}, b)};
  mlc_value_t *o = out(MLC_DT_I32, 1, (int64_t[]){4});
  int32_t *y = (int32_t *)run1f(node(MLC_OP_Div, 2, in, 1, &o));
  assert_memory_equal(y, ((int32_t[]){3, -3, -3, 3}), 16);
  free(y);
  o = out(MLC_DT_I32, 1, (int64_t[]){4});
  y = (int32_t *)run1f(node(MLC_OP_Mod, 2, in, 1, &o));
  assert_memory_equal(y, ((int32_t[]){1, 1, -1, -1}), 16);
  free(y);
  o = out(MLC_DT_I32, 1, (int64_t[]){4});
  mlc_node_t *n = node(MLC_OP_Mod, 2, in, 1, &o);
  mlc_node_set_int(G, n, "fmod", 1);
  y = (int32_t *)run1f(n);
  assert_memory_equal(y, ((int32_t[]){1, -1, 1, -1}), 16);
  free(y);
}

static void test_pow_int_base_float_exponent(void **s) {
  (void)s;
  int32_t a[3] = {1, 2, 3};
  float b[3] = {4, 5, 6};
  mlc_value_t *in[2] = {cst(MLC_DT_I32, 1, (int64_t[]){3}, a),
                        cst(MLC_DT_F32, 1, (int64_t[]){3}, b)};
  mlc_value_t *o = out(MLC_DT_I32, 1, (int64_t[]){3});
  int32_t *y = (int32_t *)run1f(node(MLC_OP_Pow, 2, in, 1, &o));
  assert_memory_equal(y, ((int32_t[]){1, 32, 729}), 12);
  free(y);
}

static void test_variadic_sum_mean_max(void **s) {
  (void)s;
  float a[3] = {3, 0, 2}, b[3] = {1, 3, 4}, c[1] = {2};
  mlc_value_t *in[3] = {cst(MLC_DT_F32, 1, (int64_t[]){3}, a),
                        cst(MLC_DT_F32, 1, (int64_t[]){3}, b),
                        cst(MLC_DT_F32, 1, (int64_t[]){1}, c)};
  mlc_value_t *o = out(MLC_DT_F32, 1, (int64_t[]){3});
  float *y = run1f(node(MLC_OP_Sum, 3, in, 1, &o));
  near(y, (float[]){6, 5, 8}, 3, 0);
  free(y);
  o = out(MLC_DT_F32, 1, (int64_t[]){3});
  y = run1f(node(MLC_OP_Mean, 3, in, 1, &o));
  near(y, (float[]){2, 5.0f / 3, 8.0f / 3}, 3, 1e-6f);
  free(y);
  o = out(MLC_DT_F32, 1, (int64_t[]){3});
  y = run1f(node(MLC_OP_Max, 3, in, 1, &o));
  near(y, (float[]){3, 3, 4}, 3, 0);
  free(y);
}

static void test_clip_min_only_and_cast(void **s) {
  (void)s;
  float a[4] = {-2, 0.5f, 3, 300};
  float lo = 0;
  mlc_value_t *in[3] = {cst(MLC_DT_F32, 1, (int64_t[]){4}, a),
                        cst(MLC_DT_F32, 0, NULL, &lo), NULL};
  mlc_value_t *o = out(MLC_DT_F32, 1, (int64_t[]){4});
  float *y = run1f(node(MLC_OP_Clip, 3, in, 1, &o));
  near(y, (float[]){0, 0.5f, 3, 300}, 4, 0);
  free(y);
  o = out(MLC_DT_I8, 1, (int64_t[]){4});
  mlc_node_t *n = node(MLC_OP_Cast, 1, in, 1, &o);
  mlc_node_set_int(G, n, "to", MLC_DT_I8);
  int8_t *yi = (int8_t *)run1f(n);
  assert_memory_equal(yi, ((int8_t[]){-2, 0, 3, 127}), 4);
  free(yi);
}

static void test_unary_activations_f16(void **s) {
  (void)s;
  /* f16 inputs: -1, 0.5, 2 (0xbc00, 0x3800, 0x4000). */
  uint16_t a[3] = {0xbc00, 0x3800, 0x4000};
  mlc_value_t *in[1] = {cst(MLC_DT_F16, 1, (int64_t[]){3}, a)};
  mlc_op_t ops[4] = {MLC_OP_Sigmoid, MLC_OP_Relu, MLC_OP_Gelu, MLC_OP_HardSwish};
  double x[3] = {-1, 0.5, 2};
  for (int t = 0; t < 4; t++) {
    mlc_value_t *o = out(MLC_DT_F16, 1, (int64_t[]){3});
    mlc_node_t *n = node(ops[t], 1, in, 1, &o);
    uint16_t *y = (uint16_t *)run1f(n);
    mlc_value_t tmp = {.dtype = MLC_DT_F16, .rank = 1, .data = y};
    for (int i = 0; i < 3; i++) {
      double want = ops[t] == MLC_OP_Sigmoid ? 1 / (1 + exp(-x[i]))
                    : ops[t] == MLC_OP_Relu  ? fmax(x[i], 0)
                    : ops[t] == MLC_OP_Gelu  ? 0.5 * x[i] * (1 + erf(x[i] / sqrt(2)))
                                             : x[i] * fmin(1, fmax(0, x[i] / 6 + 0.5));
      double got = mlc_value_const_float(&tmp, i);
      if (fabs(got - want) > 2e-3 * (1 + fabs(want)))
        fail_msg("op %d elem %d: %g vs %g", t, i, got, want);
    }
    free(y);
  }
}

static void test_where_and_compare(void **s) {
  (void)s;
  uint8_t c[2] = {1, 0};
  int64_t a[4] = {1, 2, 3, 4}, b[2] = {9, 8};
  mlc_value_t *in[3] = {cst(MLC_DT_BOOL, 1, (int64_t[]){2}, c),
                        cst(MLC_DT_I64, 2, (int64_t[]){2, 2}, a),
                        cst(MLC_DT_I64, 1, (int64_t[]){2}, b)};
  mlc_value_t *o = out(MLC_DT_I64, 2, (int64_t[]){2, 2});
  int64_t *y = (int64_t *)run1f(node(MLC_OP_Where, 3, in, 1, &o));
  assert_memory_equal(y, ((int64_t[]){1, 8, 3, 8}), 32);
  free(y);
  mlc_value_t *in2[2] = {in[1], in[2]};
  o = out(MLC_DT_BOOL, 2, (int64_t[]){2, 2});
  uint8_t *yb = (uint8_t *)run1f(node(MLC_OP_Greater, 2, in2, 1, &o));
  assert_memory_equal(yb, ((uint8_t[]){0, 0, 0, 0}), 4);
  free(yb);
}

/* ---- linear algebra ---- */

static void fill(float *p, int n, int seed) {
  for (int i = 0; i < n; i++) p[i] = (float)(((i * 37 + seed * 11) % 17) - 8) / 4;
}

static void test_matmul_batch_broadcast(void **s) {
  (void)s;
  enum { B = 2, M = 3, K = 70, N = 5 };
  float a[B * M * K], b[K * N], want[B * M * N];
  fill(a, B * M * K, 1);
  fill(b, K * N, 2);
  for (int bb = 0; bb < B; bb++)
    for (int m = 0; m < M; m++)
      for (int n = 0; n < N; n++) {
        double acc = 0;
        for (int k = 0; k < K; k++) acc += a[(bb * M + m) * K + k] * b[k * N + n];
        want[(bb * M + m) * N + n] = (float)acc;
      }
  mlc_value_t *in[2] = {cst(MLC_DT_F32, 3, (int64_t[]){B, M, K}, a),
                        cst(MLC_DT_F32, 2, (int64_t[]){K, N}, b)};
  mlc_value_t *o = out(MLC_DT_F32, 3, (int64_t[]){B, M, N});
  float *y = run1f(node(MLC_OP_MatMul, 2, in, 1, &o));
  near(y, want, B * M * N, 1e-5f);
  free(y);
  /* 1-D x 2-D */
  mlc_value_t *in1[2] = {cst(MLC_DT_F32, 1, (int64_t[]){K}, a), in[1]};
  o = out(MLC_DT_F32, 1, (int64_t[]){N});
  y = run1f(node(MLC_OP_MatMul, 2, in1, 1, &o));
  near(y, want, N, 1e-5f);
  free(y);
}

static void test_gemm_trans_and_bias(void **s) {
  (void)s;
  enum { M = 20, K = 7, N = 70 };
  float a[K * M], b[N * K], cb[N], want[M * N];
  fill(a, K * M, 3);
  fill(b, N * K, 4);
  fill(cb, N, 5);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      double acc = 0;
      for (int k = 0; k < K; k++) acc += a[k * M + m] * b[n * K + k];
      want[m * N + n] = (float)(0.5 * acc + 2.0 * cb[n]);
    }
  mlc_value_t *in[3] = {cst(MLC_DT_F32, 2, (int64_t[]){K, M}, a),
                        cst(MLC_DT_F32, 2, (int64_t[]){N, K}, b),
                        cst(MLC_DT_F32, 1, (int64_t[]){N}, cb)};
  mlc_value_t *o = out(MLC_DT_F32, 2, (int64_t[]){M, N});
  mlc_node_t *n = node(MLC_OP_Gemm, 3, in, 1, &o);
  mlc_node_set_int(G, n, "transA", 1);
  mlc_node_set_int(G, n, "transB", 1);
  mlc_node_set_float(G, n, "alpha", 0.5f);
  mlc_node_set_float(G, n, "beta", 2.0f);
  float *y = run1f(n);
  near(y, want, M * N, 1e-5f);
  free(y);
}

/* Naive grouped 2-D convolution with pads, strides, dilations and bias. */
static void test_conv2d_groups_pads(void **s) {
  (void)s;
  enum { N = 2, C = 4, H = 7, W = 6, M = 6, G2 = 2, KH = 3, KW = 2 };
  const int sh = 2, sw = 1, dh = 1, dw = 2, ph0 = 1, pw0 = 0, ph1 = 1, pw1 = 2;
  const int OH = (H + ph0 + ph1 - (dh * (KH - 1) + 1)) / sh + 1;
  const int OW = (W + pw0 + pw1 - (dw * (KW - 1) + 1)) / sw + 1;
  const int Cg = C / G2;
  float x[N * C * H * W], w[M * Cg * KH * KW], bias[M];
  float *want = calloc((size_t)(N * M * OH * OW), sizeof *want);
  fill(x, N * C * H * W, 6);
  fill(w, M * Cg * KH * KW, 7);
  fill(bias, M, 8);
  for (int n = 0; n < N; n++)
    for (int m = 0; m < M; m++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          double acc = bias[m];
          int g = m / (M / G2);
          for (int c = 0; c < Cg; c++)
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++) {
                int ih = oh * sh - ph0 + kh * dh, iw = ow * sw - pw0 + kw * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x[((n * C + g * Cg + c) * H + ih) * W + iw] *
                       w[((m * Cg + c) * KH + kh) * KW + kw];
              }
          want[((n * M + m) * OH + oh) * OW + ow] = (float)acc;
        }
  mlc_value_t *in[3] = {cst(MLC_DT_F32, 4, (int64_t[]){N, C, H, W}, x),
                        cst(MLC_DT_F32, 4, (int64_t[]){M, Cg, KH, KW}, w),
                        cst(MLC_DT_F32, 1, (int64_t[]){M}, bias)};
  mlc_value_t *o = out(MLC_DT_F32, 4, (int64_t[]){N, M, OH, OW});
  mlc_node_t *nd = node(MLC_OP_Conv, 3, in, 1, &o);
  mlc_node_set_int(G, nd, "group", G2);
  mlc_node_set_ints(G, nd, "strides", (int64_t[]){sh, sw}, 2);
  mlc_node_set_ints(G, nd, "dilations", (int64_t[]){dh, dw}, 2);
  mlc_node_set_ints(G, nd, "pads", (int64_t[]){ph0, pw0, ph1, pw1}, 4);
  float *y = run1f(nd);
  near(y, want, N * M * OH * OW, 1e-5f);
  free(y);
  free(want);
}


/* 1-D Conv with auto_pad SAME_LOWER and stride 2 against a naive loop. */
static void test_conv1d_same_lower(void **s) {
  (void)s;
  enum { C = 2, L = 9, M = 3, KL = 4, S = 2, OL = (L + S - 1) / S };
  const int tot = (OL - 1) * S + KL - L, pb = tot - tot / 2;
  float x[C * L], w[M * C * KL], want[M * OL];
  fill(x, C * L, 9);
  fill(w, M * C * KL, 10);
  for (int m = 0; m < M; m++)
    for (int o = 0; o < OL; o++) {
      double acc = 0;
      for (int c = 0; c < C; c++)
        for (int k = 0; k < KL; k++) {
          int i = o * S - pb + k;
          if (i >= 0 && i < L) acc += x[c * L + i] * w[(m * C + c) * KL + k];
        }
      want[m * OL + o] = (float)acc;
    }
  mlc_value_t *in[2] = {cst(MLC_DT_F32, 3, (int64_t[]){1, C, L}, x),
                        cst(MLC_DT_F32, 3, (int64_t[]){M, C, KL}, w)};
  mlc_value_t *o = out(MLC_DT_F32, 3, (int64_t[]){1, M, OL});
  mlc_node_t *n = node(MLC_OP_Conv, 2, in, 1, &o);
  mlc_node_set_string(G, n, "auto_pad", "SAME_LOWER");
  mlc_node_set_ints(G, n, "strides", (int64_t[]){S}, 1);
  float *y = run1f(n);
  near(y, want, M * OL, 1e-5f);
  free(y);
}

/* ---- pools, normalization, reductions ---- */

static void test_maxpool_indices_and_avgpool(void **s) {
  (void)s;
  /* ONNX spec example maxpool_2d_pads style: 1x1x3x3, kernel 2, stride 1,
   * pads 0 -> 2x2. */
  float x[9] = {1, 9, 3, 4, 5, 6, 7, 8, 2};
  mlc_value_t *in[1] = {cst(MLC_DT_F32, 4, (int64_t[]){1, 1, 3, 3}, x)};
  mlc_value_t *o[2] = {out(MLC_DT_F32, 4, (int64_t[]){1, 1, 2, 2}),
                       out(MLC_DT_I64, 4, (int64_t[]){1, 1, 2, 2})};
  mlc_node_t *n = node(MLC_OP_MaxPool, 1, in, 2, o);
  mlc_node_set_ints(G, n, "kernel_shape", (int64_t[]){2, 2}, 2);
  void *res[2];
  run_node(n, res);
  near(res[0], (float[]){9, 9, 8, 8}, 4, 0);
  assert_memory_equal(res[1], ((int64_t[]){1, 1, 7, 7}), 32);
  free(res[0]);
  free(res[1]);
  /* AveragePool 3x3, pads 1: count_include_pad 0 vs 1 at the corner. */
  mlc_value_t *a = out(MLC_DT_F32, 4, (int64_t[]){1, 1, 3, 3});
  n = node(MLC_OP_AveragePool, 1, in, 1, &a);
  mlc_node_set_ints(G, n, "kernel_shape", (int64_t[]){3, 3}, 2);
  mlc_node_set_ints(G, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
  float *y = run1f(n);
  near(y, (float[]){19.0f / 4, 28.0f / 6}, 2, 1e-6f);
  free(y);
  a = out(MLC_DT_F32, 4, (int64_t[]){1, 1, 3, 3});
  n = node(MLC_OP_AveragePool, 1, in, 1, &a);
  mlc_node_set_ints(G, n, "kernel_shape", (int64_t[]){3, 3}, 2);
  mlc_node_set_ints(G, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
  mlc_node_set_int(G, n, "count_include_pad", 1);
  y = run1f(n);
  near(y, (float[]){19.0f / 9, 28.0f / 9}, 2, 1e-6f);
  free(y);
}

static void test_softmax_axis_and_coerce(void **s) {
  (void)s;
  float x[6] = {1, 2, 3, 1, 1, 1};
  mlc_value_t *in[1] = {cst(MLC_DT_F32, 2, (int64_t[]){2, 3}, x)};
  mlc_value_t *o = out(MLC_DT_F32, 2, (int64_t[]){2, 3});
  float *y = run1f(node(MLC_OP_Softmax, 1, in, 1, &o));
  double e = exp(1) + exp(2) + exp(3);
  near(y, (float[]){(float)(exp(1) / e), (float)(exp(2) / e), (float)(exp(3) / e),
                    1.0f / 3, 1.0f / 3, 1.0f / 3}, 6, 1e-6f);
  free(y);
  /* coerce_2d at axis 0: softmax over all 6 elements. */
  o = out(MLC_DT_F32, 2, (int64_t[]){2, 3});
  mlc_node_t *n = node(MLC_OP_LogSoftmax, 1, in, 1, &o);
  mlc_node_set_int(G, n, "coerce_2d", 1);
  mlc_node_set_int(G, n, "axis", 0);
  y = run1f(n);
  double tot = e + 3 * exp(1);
  for (int i = 0; i < 6; i++)
    near(&y[i], (float[]){(float)(x[i] - log(tot))}, 1, 1e-6f);
  free(y);
}

static void test_layernorm_with_stats(void **s) {
  (void)s;
  float x[6] = {1, 2, 3, 2, 4, 6}, sc[3] = {1, 2, 1}, b[3] = {0, 1, 0};
  mlc_value_t *in[3] = {cst(MLC_DT_F32, 2, (int64_t[]){2, 3}, x),
                        cst(MLC_DT_F32, 1, (int64_t[]){3}, sc),
                        cst(MLC_DT_F32, 1, (int64_t[]){3}, b)};
  mlc_value_t *o[3] = {out(MLC_DT_F32, 2, (int64_t[]){2, 3}),
                       out(MLC_DT_F32, 2, (int64_t[]){2, 1}),
                       out(MLC_DT_F32, 2, (int64_t[]){2, 1})};
  mlc_node_t *n = node(MLC_OP_LayerNormalization, 3, in, 3, o);
  mlc_node_set_float(G, n, "epsilon", 0);
  void *r[3];
  run_node(n, r);
  float s1 = sqrtf(2.0f / 3), s2 = sqrtf(8.0f / 3);
  near(r[0], (float[]){-1 / s1, 1, 1 / s1, -2 / s2, 1, 2 / s2}, 6, 1e-5f);
  near(r[1], (float[]){2, 4}, 2, 1e-6f);
  near(r[2], (float[]){1 / s1, 1 / s2}, 2, 1e-5f);
  for (int i = 0; i < 3; i++) free(r[i]);
}

static void test_reduce_keepdims_and_empty_axes(void **s) {
  (void)s;
  int32_t x[12];
  for (int i = 0; i < 12; i++) x[i] = i;
  int64_t axes[2] = {0, -1};
  mlc_value_t *in[2] = {cst(MLC_DT_I32, 3, (int64_t[]){2, 3, 2}, x),
                        mlc_graph_add_const_i64s(G, "axes", axes, 2)};
  mlc_value_t *o = out(MLC_DT_I32, 1, (int64_t[]){3});
  mlc_node_t *n = node(MLC_OP_ReduceSum, 2, in, 1, &o);
  mlc_node_set_int(G, n, "keepdims", 0);
  int32_t *y = (int32_t *)run1f(n);
  assert_memory_equal(y, ((int32_t[]){0 + 1 + 6 + 7, 2 + 3 + 8 + 9, 4 + 5 + 10 + 11}), 12);
  free(y);
  /* No axes: reduce everything. */
  o = out(MLC_DT_I32, 3, (int64_t[]){1, 1, 1});
  y = (int32_t *)run1f(node(MLC_OP_ReduceMax, 1, in, 1, &o));
  assert_int_equal(y[0], 11);
  free(y);
}

static void test_batchnorm(void **s) {
  (void)s;
  float x[4] = {1, 2, 3, 4}, sc[2] = {1, 2}, b[2] = {0, 1}, m[2] = {1, 3},
        v[2] = {4, 1};
  mlc_value_t *in[5] = {cst(MLC_DT_F32, 3, (int64_t[]){1, 2, 2}, x),
                        cst(MLC_DT_F32, 1, (int64_t[]){2}, sc),
                        cst(MLC_DT_F32, 1, (int64_t[]){2}, b),
                        cst(MLC_DT_F32, 1, (int64_t[]){2}, m),
                        cst(MLC_DT_F32, 1, (int64_t[]){2}, v)};
  mlc_value_t *o = out(MLC_DT_F32, 3, (int64_t[]){1, 2, 2});
  mlc_node_t *n = node(MLC_OP_BatchNormalization, 5, in, 1, &o);
  mlc_node_set_float(G, n, "epsilon", 0);
  float *y = run1f(n);
  near(y, (float[]){0, 0.5f, 1, 3}, 4, 1e-6f);
  free(y);
}

/* ---- data movement ---- */

static void test_transpose_slice_gather(void **s) {
  (void)s;
  float x[6] = {0, 1, 2, 3, 4, 5};
  mlc_value_t *xv = cst(MLC_DT_F32, 2, (int64_t[]){2, 3}, x);
  mlc_value_t *o = out(MLC_DT_F32, 2, (int64_t[]){3, 2});
  float *y = run1f(node(MLC_OP_Transpose, 1, &xv, 1, &o));
  near(y, (float[]){0, 3, 1, 4, 2, 5}, 6, 0);
  free(y);
  /* Slice axis 1 from -1 down to the start with step -2: cols 2, 0. */
  int64_t st = -1, en = -100, ax = 1, sp = -2;
  mlc_value_t *in[5] = {xv, mlc_graph_add_const_i64s(G, "s", &st, 1),
                        mlc_graph_add_const_i64s(G, "e", &en, 1),
                        mlc_graph_add_const_i64s(G, "a", &ax, 1),
                        mlc_graph_add_const_i64s(G, "p", &sp, 1)};
  o = out(MLC_DT_F32, 2, (int64_t[]){2, 2});
  y = run1f(node(MLC_OP_Slice, 5, in, 1, &o));
  near(y, (float[]){2, 0, 5, 3}, 4, 0);
  free(y);
  int64_t ind[3] = {-1, 0, 2};
  mlc_value_t *gin[2] = {xv, cst(MLC_DT_I64, 1, (int64_t[]){3}, ind)};
  o = out(MLC_DT_F32, 2, (int64_t[]){2, 3});
  mlc_node_t *n = node(MLC_OP_Gather, 2, gin, 1, &o);
  mlc_node_set_int(G, n, "axis", 1);
  y = run1f(n);
  near(y, (float[]){2, 0, 2, 5, 3, 5}, 6, 0);
  free(y);
}

static void test_concat_split_tile_pad(void **s) {
  (void)s;
  float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
  mlc_value_t *in[2] = {cst(MLC_DT_F32, 2, (int64_t[]){2, 2}, a),
                        cst(MLC_DT_F32, 2, (int64_t[]){2, 1}, b)};
  mlc_value_t *o = out(MLC_DT_F32, 2, (int64_t[]){2, 3});
  mlc_node_t *n = node(MLC_OP_Concat, 2, in, 1, &o);
  mlc_node_set_int(G, n, "axis", -1);
  float *y = run1f(n);
  near(y, (float[]){1, 2, 5, 3, 4, 6}, 6, 0);
  free(y);
  mlc_value_t *so[2] = {out(MLC_DT_F32, 2, (int64_t[]){1, 2}),
                        out(MLC_DT_F32, 2, (int64_t[]){1, 2})};
  n = node(MLC_OP_Split, 1, in, 2, so);
  void *r[2];
  run_node(n, r);
  near(r[0], (float[]){1, 2}, 2, 0);
  near(r[1], (float[]){3, 4}, 2, 0);
  free(r[0]);
  free(r[1]);
  int64_t reps[2] = {1, 2};
  mlc_value_t *tin[2] = {in[0], mlc_graph_add_const_i64s(G, "r", reps, 2)};
  o = out(MLC_DT_F32, 2, (int64_t[]){2, 4});
  y = run1f(node(MLC_OP_Tile, 2, tin, 1, &o));
  near(y, (float[]){1, 2, 1, 2, 3, 4, 3, 4}, 8, 0);
  free(y);
  /* reflect pad of [1,2,3] by 2 on the left and 1 on the right. */
  float v3[3] = {1, 2, 3};
  int64_t pads[2] = {2, 1};
  mlc_value_t *pin[2] = {cst(MLC_DT_F32, 1, (int64_t[]){3}, v3),
                         mlc_graph_add_const_i64s(G, "pads", pads, 2)};
  const char *modes[3] = {"reflect", "edge", "wrap"};
  float want[3][6] = {{3, 2, 1, 2, 3, 2}, {1, 1, 1, 2, 3, 3}, {2, 3, 1, 2, 3, 1}};
  for (int m = 0; m < 3; m++) {
    o = out(MLC_DT_F32, 1, (int64_t[]){6});
    n = node(MLC_OP_Pad, 2, pin, 1, &o);
    mlc_node_set_string(G, n, "mode", modes[m]);
    y = run1f(n);
    near(y, want[m], 6, 0);
    free(y);
  }
  /* constant with value input and a negative (cropping) pad */
  int64_t pads2[2] = {-1, 2};
  float fillv = 9;
  mlc_value_t *pin2[3] = {pin[0], mlc_graph_add_const_i64s(G, "pads2", pads2, 2),
                          cst(MLC_DT_F32, 0, NULL, &fillv)};
  o = out(MLC_DT_F32, 1, (int64_t[]){4});
  y = run1f(node(MLC_OP_Pad, 3, pin2, 1, &o));
  near(y, (float[]){2, 3, 9, 9}, 4, 0);
  free(y);
}

/* Concat copies each input as one flat run: the axis and the dims after it
 * collapse into a single loop (DenseNet's concats of up to 49 inputs were
 * 3-deep nests each, a third of the model's LLVM IR), under a grid over
 * the dims before the axis. */
static void test_concat_flat_copies(void **s) {
  (void)s;
  float a[12], b[6];
  for (int i = 0; i < 12; i++) a[i] = (float)i;
  for (int i = 0; i < 6; i++) b[i] = (float)(100 + i);
  mlc_value_t *in[2] = {cst(MLC_DT_F32, 4, (int64_t[]){2, 2, 1, 3}, a),
                        cst(MLC_DT_F32, 4, (int64_t[]){2, 1, 1, 3}, b)};
  mlc_value_t *o = out(MLC_DT_F32, 4, (int64_t[]){2, 3, 1, 3});
  mlc_node_t *n = node(MLC_OP_Concat, 2, in, 1, &o);
  mlc_node_set_int(G, n, "axis", 1);
  float *y = run1f(n);
  near(y, (float[]){0, 1, 2, 3, 4, 5, 100, 101, 102,
                    6, 7, 8, 9, 10, 11, 103, 104, 105}, 18, 0);
  free(y);
  mlc_pass_ctx_t ctx = {0};
  mlc_tkernel_t *k;
  mlc_value_t **bv;
  mlc_status_t *st = mlc_lower_node(&ctx, G, n, &k, &bv);
  if (st) fail_msg("%s", mlc_status_message(st));
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  mlc_tkernel_print(k, f);
  fclose(f);
  int loops = 0;
  for (const char *p = text; (p = strstr(p, "for ")); p++) loops++;
  /* per input: the loop over the outer dim (too small for a grid) and one
   * flat loop of 6 or 3 elements; not one loop per dim */
  if (loops != 4 || !strstr(text, "[0, 6)") || !strstr(text, "[0, 3)"))
    fail_msg("want one flat loop per input (6 and 3 elements):\n%s", text);
  free(text);
  mlc_tkernel_destroy(k);
}

static void test_shape_range_constantofshape(void **s) {
  (void)s;
  float x[6] = {0};
  mlc_value_t *xv = cst(MLC_DT_F32, 3, (int64_t[]){1, 2, 3}, x);
  mlc_value_t *o = out(MLC_DT_I64, 1, (int64_t[]){2});
  mlc_node_t *n = node(MLC_OP_Shape, 1, &xv, 1, &o);
  mlc_node_set_int(G, n, "start", -2);
  int64_t *y = (int64_t *)run1f(n);
  assert_memory_equal(y, ((int64_t[]){2, 3}), 16);
  free(y);
  float st = 1, lim = 2, d = 0.25f;
  mlc_value_t *rin[3] = {cst(MLC_DT_F32, 0, NULL, &st), cst(MLC_DT_F32, 0, NULL, &lim),
                         cst(MLC_DT_F32, 0, NULL, &d)};
  o = out(MLC_DT_F32, 1, (int64_t[]){4});
  float *yf = run1f(node(MLC_OP_Range, 3, rin, 1, &o));
  near(yf, (float[]){1, 1.25f, 1.5f, 1.75f}, 4, 0);
  free(yf);
}

/* n is not lowerable: mlc_lower_supports says so, and mlc_lower_node
 * fails with UNSUPPORTED and a message containing `what`. */
static void expect_unsupported(mlc_node_t *n, const char *what) {
  mlc_pass_ctx_t ctx = {0};
  mlc_tkernel_t *k;
  mlc_value_t **bv;
  assert_false(mlc_lower_supports(G, n));
  mlc_status_t *st = mlc_lower_node(&ctx, G, n, &k, &bv);
  assert_int_equal(mlc_status_code(st), MLC_UNSUPPORTED);
  assert_non_null(strstr(mlc_status_message(st), what));
  mlc_status_free(st);
}

static void test_unsupported_names_node(void **s) {
  (void)s;
  mlc_value_t *x = mlc_graph_add_value(G, "dyn", MLC_DT_F32, -1, NULL);
  mlc_value_t *o = out(MLC_DT_F32, 1, (int64_t[]){3});
  mlc_node_t *n = mlc_graph_add_node(G, MLC_OP_Relu, "myrelu", 1, &x, 1, &o);
  expect_unsupported(n, "myrelu");
}

/* A Sum wider than one kernel takes (the importer chains those; a graph
 * from elsewhere gets a clear UNSUPPORTED, not a false out of memory). */
static void test_too_wide_sum(void **s) {
  (void)s;
  mlc_value_t *ins[49];
  float one = 1;
  for (int i = 0; i < 49; i++) ins[i] = cst(MLC_DT_F32, 0, NULL, &one);
  mlc_value_t *o = out(MLC_DT_F32, 0, NULL);
  mlc_node_t *n = node(MLC_OP_Sum, 49, ins, 1, &o);
  expect_unsupported(n, "49 inputs");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_too_wide_sum),
      cmocka_unit_test(test_add_broadcast),
      cmocka_unit_test(test_int_div_and_python_mod),
      cmocka_unit_test(test_pow_int_base_float_exponent),
      cmocka_unit_test(test_variadic_sum_mean_max),
      cmocka_unit_test(test_clip_min_only_and_cast),
      cmocka_unit_test(test_unary_activations_f16),
      cmocka_unit_test(test_where_and_compare),
      cmocka_unit_test(test_matmul_batch_broadcast),
      cmocka_unit_test(test_gemm_trans_and_bias),
      cmocka_unit_test(test_conv2d_groups_pads),
      cmocka_unit_test(test_conv1d_same_lower),
      cmocka_unit_test(test_maxpool_indices_and_avgpool),
      cmocka_unit_test(test_softmax_axis_and_coerce),
      cmocka_unit_test(test_layernorm_with_stats),
      cmocka_unit_test(test_reduce_keepdims_and_empty_axes),
      cmocka_unit_test(test_batchnorm),
      cmocka_unit_test(test_transpose_slice_gather),
      cmocka_unit_test(test_concat_split_tile_pad),
      cmocka_unit_test(test_concat_flat_copies),
      cmocka_unit_test(test_shape_range_constantofshape),
      cmocka_unit_test(test_unsupported_names_node),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
