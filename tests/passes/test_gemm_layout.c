/* The gemm-layout pass against plain C references: a Conv or MatMul/Gemm
 * graph runs through infer-shapes, gemm-layout and fold-constants (which
 * packs the weights); then the input is bound as a constant and a second
 * fold computes every node with the real lowering and the tile
 * interpreter.  The result must match a double-precision loop within a
 * tight tolerance, and the graph must show the rewrite the pass promises
 * (Im2Col + ConvCols, swap for small outputs, PackedMatMul). */
#include "infer_test_util.h"

#include <math.h>
#include <stdlib.h>

#include "passes/lower.h"

#define F32 MLC_DT_F32

static uint32_t rnd(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

static float *random_floats(int64_t n, uint32_t seed) {
  float *p = malloc((size_t)n * sizeof *p);
  assert_non_null(p);
  for (int64_t i = 0; i < n; i++) p[i] = (float)(rnd(&seed) % 2001) / 1000.0f - 1.0f;
  return p;
}

static mlc_value_t *weight(mlc_graph_t *g, const char *name, int rank,
                           const int64_t *dims, const float *data) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  mlc_value_t *v = mlc_graph_add_const(g, name, F32, rank, dims, data,
                                       (size_t)n * 4, MLC_DATA_COPY);
  assert_non_null(v);
  return v;
}

static bool has_op(const mlc_graph_t *g, mlc_op_t op, const char *attr) {
  for (size_t i = 0; i < g->nodes.len; i++) {
    const mlc_node_t *n = g->nodes.data[i];
    if (!n->dead && n->op == op && (!attr || mlc_node_attr_int(n, attr, 0)))
      return true;
  }
  return false;
}

/* Runs the pipeline on g, checks the rewrite (op `op` with attribute
 * `attr` set is live), binds x to xdata, folds, returns y's data. */
static const float *run_graph(mlc_graph_t *g, mlc_value_t *x, const float *xdata,
                              mlc_value_t *y, mlc_op_t op, const char *attr) {
  mlc_target_t t;
  assert_null(mlc_target_lookup("x86_64-avx512", NULL, &t));
  mlc_pass_ctx_t ctx = {.target = &t, .opt_level = 2};
  const mlc_pass_t *ps[3] = {&mlc_pass_infer_shapes, &mlc_pass_gemm_layout,
                             &mlc_pass_fold_constants};
  mlc_status_t *st = mlc_pipeline_run(&ctx, ps, 3, g);
  if (st) fail_msg("%s", mlc_status_message(st));
  if (!has_op(g, op, attr)) fail_msg("no live %s after gemm-layout", mlc_op_name(op));
  assert_null(mlc_value_set_const(g, x, xdata, (size_t)mlc_value_nbytes(x),
                                  MLC_DATA_COPY));
  x->flags &= ~(unsigned)MLC_VALUE_INPUT;
  st = mlc_pass_fold_constants.run(&ctx, g);
  if (st) fail_msg("%s", mlc_status_message(st));
  assert_true(mlc_value_is_const(y));
  return y->data;
}

static void expect_close(const float *got, const double *want, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  if (!(sqrt(num) <= 1e-6 * sqrt(den) + 1e-12))
    fail_msg("relative L2 error %g", sqrt(num / (den > 0 ? den : 1)));
}

typedef struct conv_case {
  int64_t C, H, W, M, kh, kw, sh, sw, ph, pw, dh, dw;
  const char *expect_attr; /* "swap", "direct" or NULL */
  mlc_op_t expect_op;
} conv_case_t;

static void conv_ref(const conv_case_t *c, const float *x, const float *w,
                     const float *b, int64_t OH, int64_t OW, double *y) {
  for (int64_t m = 0; m < c->M; m++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        double acc = b[m];
        for (int64_t ci = 0; ci < c->C; ci++)
          for (int64_t i = 0; i < c->kh; i++)
            for (int64_t j = 0; j < c->kw; j++) {
              int64_t ih = oh * c->sh - c->ph + i * c->dh;
              int64_t iw = ow * c->sw - c->pw + j * c->dw;
              if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
              acc += (double)x[(ci * c->H + ih) * c->W + iw] *
                     w[((m * c->C + ci) * c->kh + i) * c->kw + j];
            }
        y[(m * OH + oh) * OW + ow] = acc > 0 ? acc : 0; /* fused Relu */
      }
}

static void check_conv(const conv_case_t *c) {
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 4, I64S(1, c->C, c->H, c->W));
  int64_t wd[4] = {c->M, c->C, c->kh, c->kw};
  float *wdata = random_floats(c->M * c->C * c->kh * c->kw, 7);
  float *bdata = random_floats(c->M, 8);
  float *xdata = random_floats(c->C * c->H * c->W, 9);
  mlc_node_t *cv = node(g, MLC_OP_Conv, "conv", 3,
                        VALS(x, weight(g, "w", 4, wd, wdata), weight(g, "b", 1, &c->M, bdata)), 1);
  set_ints(g, cv, "kernel_shape", I64S(c->kh, c->kw), 2);
  set_ints(g, cv, "strides", I64S(c->sh, c->sw), 2);
  set_ints(g, cv, "dilations", I64S(c->dh, c->dw), 2);
  set_ints(g, cv, "pads", I64S(c->ph, c->pw, c->ph, c->pw), 4);
  mlc_node_t *relu = node(g, MLC_OP_Relu, "relu", 1, VALS(out0(cv)), 1);
  const float *y = run_graph(g, x, xdata, out0(relu), c->expect_op, c->expect_attr);
  int64_t OH = (c->H + 2 * c->ph - c->dh * (c->kh - 1) - 1) / c->sh + 1;
  int64_t OW = (c->W + 2 * c->pw - c->dw * (c->kw - 1) - 1) / c->sw + 1;
  double *want = malloc((size_t)(c->M * OH * OW) * sizeof *want);
  conv_ref(c, xdata, wdata, bdata, OH, OW, want);
  expect_close(y, want, c->M * OH * OW);
  free(want);
  free(wdata);
  free(bdata);
  free(xdata);
  mlc_graph_destroy(g);
}

static void test_conv_rewrites(void **state) {
  (void)state;
  const conv_case_t cases[] = {
      /* 3x3 on 20x20 (P = 400): Im2Col + ConvCols, pixels as vectors */
      {6, 20, 20, 13, 3, 3, 1, 1, 1, 1, 1, 1, NULL, MLC_OP_Im2Col},
      /* 7x7 output, 40 channels: direct (channels as vectors, no Im2Col) */
      {33, 9, 9, 40, 3, 3, 1, 1, 0, 0, 1, 1, "direct", MLC_OP_ConvCols},
      /* padded 3x3 on 28x28, 32 channels: Pad + direct */
      {7, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, "direct", MLC_OP_ConvCols},
      /* a MobileNet stem: 3x3 stride 2 from 3 channels, K = 27: direct
       * with pixels as vectors (W unpacked) */
      {3, 33, 33, 32, 3, 3, 2, 2, 1, 1, 1, 1, "direct", MLC_OP_ConvCols},
      /* a ResNet stem: 7x7 stride 2 pad 3 from 3 channels */
      {3, 30, 30, 64, 7, 7, 2, 2, 3, 3, 1, 1, "direct", MLC_OP_ConvCols},
      /* direct, strided, dilated, asymmetric kernel, ragged channel panel */
      {5, 23, 21, 20, 3, 2, 2, 3, 2, 1, 2, 2, "direct", MLC_OP_ConvCols},
      /* pointwise on 5x6, swapped, no Im2Col */
      {48, 5, 6, 64, 1, 1, 1, 1, 0, 0, 1, 1, "swap", MLC_OP_ConvCols},
      /* pointwise on 17x17 (P = 289): stays a Conv (GEMM over X) */
      {8, 17, 17, 24, 1, 1, 1, 1, 0, 0, 1, 1, NULL, MLC_OP_Conv},
      /* strided, dilated, asymmetric kernel */
      {5, 23, 21, 9, 3, 2, 2, 1, 2, 1, 2, 2, NULL, MLC_OP_Im2Col},
      /* output width 1: the flat position must not sit on the size-1 dim */
      {8, 20, 1, 12, 3, 1, 1, 1, 1, 0, 1, 1, NULL, MLC_OP_Im2Col},
      {8, 20, 1, 40, 3, 1, 1, 1, 1, 0, 1, 1, "direct", MLC_OP_ConvCols},
      /* strided 1x1 (a ResNet downsample): direct */
      {64, 14, 14, 96, 1, 1, 2, 2, 0, 0, 1, 1, "direct", MLC_OP_ConvCols},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_conv(&cases[i]);
}

/* Gemm with alpha and no C: the packed form still scales by alpha. */
static void test_gemm_alpha_no_bias(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  int64_t M = 9, K = 40, N = 70;
  mlc_value_t *a = input(g, "a", F32, 2, I64S(M, K));
  float *w = random_floats(K * N, 3), *ad = random_floats(M * K, 5);
  mlc_node_t *mm = node(g, MLC_OP_Gemm, "gemm", 2, VALS(a, weight(g, "w", 2, I64S(K, N), w)), 1);
  assert_true(mlc_node_set_float(g, mm, "alpha", 0.5f));
  const float *y = run_graph(g, a, ad, out0(mm), MLC_OP_PackedMatMul, NULL);
  double *want = malloc((size_t)(M * N) * sizeof *want);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double acc = 0;
      for (int64_t k = 0; k < K; k++) acc += (double)ad[i * K + k] * w[k * N + j];
      want[i * N + j] = 0.5 * acc;
    }
  expect_close(y, want, M * N);
  free(want);
  free(w);
  free(ad);
  mlc_graph_destroy(g);
}

/* MatMul [2, 9, K] x W[K, 70] and Gemm transB with bias: PackedMatMul,
 * with K = 40 and 300, and A [18, 1, 40]. */
static void test_matmul_gemm_packed(void **state) {
  (void)state;
  for (int t = 0; t < 6; t++) {
    int gemm = t < 4 && (t & 1);
    mlc_graph_t *g = new_graph();
    int64_t M = gemm ? 9 : 18, K = t < 2 || t >= 4 ? 40 : 300, N = 70;
    /* t 4, 5: A [18, 1, K] (nn.MultiheadAttention's seq-first layout): the
     * rows live in dim 0 and dim 1 has extent 1 */
    mlc_value_t *a = t >= 4 ? input(g, "a", F32, 3, I64S(18, 1, K))
                            : input(g, "a", F32, gemm ? 2 : 3, gemm ? I64S(9, K) : I64S(2, 9, K));
    float *w = random_floats(K * N, 3), *bias = random_floats(N, 4), *ad = random_floats(M * K, 5);
    mlc_value_t *wv = weight(g, "w", 2, gemm ? I64S(N, K) : I64S(K, N), w);
    mlc_node_t *mm;
    if (gemm) {
      mm = node(g, MLC_OP_Gemm, "gemm", 3, VALS(a, wv, weight(g, "c", 1, &N, bias)), 1);
      set_int(g, mm, "transB", 1);
    } else {
      mm = node(g, MLC_OP_MatMul, "mm", 2, VALS(a, wv), 1);
    }
    const float *y = run_graph(g, a, ad, out0(mm), MLC_OP_PackedMatMul, NULL);
    double *want = malloc((size_t)(M * N) * sizeof *want);
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double acc = gemm ? bias[j] : 0;
        for (int64_t k = 0; k < K; k++)
          acc += (double)ad[i * K + k] * (gemm ? w[j * K + k] : w[k * N + j]);
        want[i * N + j] = acc;
      }
    expect_close(y, want, M * N);
    free(want);
    free(w);
    free(bias);
    free(ad);
    mlc_graph_destroy(g);
  }
}

/* Binds input v to data: a constant from now on. */
static void bind(mlc_graph_t *g, mlc_value_t *v, const float *data) {
  assert_null(mlc_value_set_const(g, v, data, (size_t)mlc_value_nbytes(v),
                                  MLC_DATA_COPY));
  v->flags &= ~(unsigned)MLC_VALUE_INPUT;
}

/* A run-time B (both operands inputs, M and N >= 64): the Pack is a
 * kernel (here run by the interpreter through its lowering), not folded
 * by the C loop that packs weights. */
static void test_runtime_pack(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  int64_t M = 64, K = 40, N = 70;
  mlc_value_t *a = input(g, "a", F32, 2, I64S(M, K));
  mlc_value_t *b = input(g, "b", F32, 2, I64S(K, N));
  float *ad = random_floats(M * K, 11), *bd = random_floats(K * N, 12);
  mlc_node_t *mm = node(g, MLC_OP_MatMul, "mm", 2, VALS(a, b), 1);
  mlc_target_t t;
  assert_null(mlc_target_lookup("x86_64-avx2", NULL, &t));
  mlc_pass_ctx_t ctx = {.target = &t, .opt_level = 2};
  const mlc_pass_t *ps[3] = {&mlc_pass_infer_shapes, &mlc_pass_gemm_layout,
                             &mlc_pass_fold_constants};
  mlc_status_t *st = mlc_pipeline_run(&ctx, ps, 3, g);
  if (st) fail_msg("%s", mlc_status_message(st));
  assert_true(has_op(g, MLC_OP_Pack, NULL));
  mlc_node_t *pack = NULL;
  for (size_t i = 0; i < g->nodes.len; i++)
    if (g->nodes.data[i]->op == MLC_OP_Pack) pack = g->nodes.data[i];
  bind(g, a, ad);
  bind(g, b, bd);
  /* the Pack through lower + interpret, as fold-constants did before the
   * C fast path; then the rest */
  mlc_tkernel_t *k;
  mlc_value_t **bv;
  assert_null(mlc_lower_node(&ctx, g, pack, &k, &bv));
  float *packed = calloc((size_t)mlc_value_numel(out0(pack)), sizeof *packed);
  void *bufs[2] = {(void *)b->data, packed};
  assert_null(mlc_tkernel_interpret(k, bufs));
  mlc_tkernel_destroy(k);
  assert_null(mlc_pass_fold_constants.run(&ctx, g));
  assert_true(mlc_value_is_const(out0(pack)) || pack->dead);
  const float *y = out0(mm)->data;
  assert_non_null(y);
  double *want = malloc((size_t)(M * N) * sizeof *want);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double acc = 0;
      for (int64_t kk = 0; kk < K; kk++) acc += (double)ad[i * K + kk] * bd[kk * N + j];
      want[i * N + j] = acc;
    }
  expect_close(y, want, M * N);
  /* the interpreter's Pack and the fold's C loop agree byte for byte */
  const mlc_value_t *pv = out0(pack);
  if (mlc_value_is_const(pv))
    assert_memory_equal(packed, pv->data, (size_t)mlc_value_nbytes(pv));
  free(packed);
  free(want);
  free(ad);
  free(bd);
  mlc_graph_destroy(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_rewrites),
      cmocka_unit_test(test_matmul_gemm_packed),
      cmocka_unit_test(test_gemm_alpha_no_bias),
      cmocka_unit_test(test_runtime_pack),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
