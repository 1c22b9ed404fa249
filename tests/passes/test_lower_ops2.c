/* Lowering of the ops added on the ops2 branch: the elementwise
 * activations (Elu, Selu, Celu, Softplus, Softsign, ThresholdedRelu,
 * Shrink, Mish), compared with the ONNX formulas computed here in double
 * precision with default and explicit attributes; and ArgMax/ArgMin,
 * Hardmax, CumSum/CumProd, GatherElements, ScatterElements, Trilu and IsInf
 * on small hand-checked
 * examples (ties, negative axes and indices, every attribute); ConvTranspose
 * against a scatter-form reference. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "passes/lower.h"

#define N 9
static const float X[N] = {-3.0f, -1.5f, -0.6f, -0.2f, 0.0f,
                           0.2f, 0.5f, 1.0f, 4.0f};

typedef double (*ref_fn)(double x, double a, double b);

static void near(const float *got, const float *want, int n, float tol) {
  for (int i = 0; i < n; i++)
    if (!(fabsf(got[i] - want[i]) <= tol * (1 + fabsf(want[i]))))
      fail_msg("element %d: got %g want %g", i, got[i], want[i]);
}

static double elu(double x, double a, double b) {
  (void)b;
  return x < 0 ? a * (exp(x) - 1) : x;
}
static double selu(double x, double a, double g) {
  return x <= 0 ? g * (a * exp(x) - a) : g * x;
}
static double celu(double x, double a, double b) {
  (void)b;
  return fmax(0, x) + fmin(0, a * (exp(x / a) - 1));
}
static double softplus(double x, double a, double b) {
  (void)a, (void)b;
  return log(exp(x) + 1);
}
static double softsign(double x, double a, double b) {
  (void)a, (void)b;
  return x / (1 + fabs(x));
}
static double thresholded(double x, double a, double b) {
  (void)b;
  return x > a ? x : 0;
}
static double shrink(double x, double bias, double l) {
  return x < -l ? x + bias : x > l ? x - bias : 0;
}
static double swish(double x, double a, double b) {
  (void)b;
  return x / (1 + exp(-a * x));
}
static double mish(double x, double a, double b) {
  (void)a, (void)b;
  return x * tanh(log1p(exp(x)));
}

/* Lowers n, runs it in the interpreter, returns a heap copy of output 0. */
static void *run_out(mlc_graph_t *g, mlc_node_t *n) {
  mlc_pass_ctx_t ctx = {0};
  mlc_tkernel_t *k;
  mlc_value_t **bv;
  mlc_status_t *st = mlc_lower_node(&ctx, g, n, &k, &bv);
  if (st) fail_msg("%s: %s", mlc_op_name(n->op), mlc_status_message(st));
  void **bufs = calloc((size_t)k->nbufs, sizeof *bufs);
  void *out = NULL;
  for (int i = 0; i < k->nbufs; i++) {
    size_t nb = (size_t)k->bufs[i].nelems * mlc_dtype_size(k->bufs[i].dtype);
    bufs[i] = calloc(1, nb + 1);
    if (bv[i] && bv[i]->data) memcpy(bufs[i], bv[i]->data, nb);
  }
  st = mlc_tkernel_interpret(k, bufs);
  if (st) fail_msg("%s: %s", mlc_op_name(n->op), mlc_status_message(st));
  for (int i = 0; i < k->nbufs; i++) {
    if (bv[i] == n->outputs[0] && !out) out = bufs[i];
    else free(bufs[i]);
  }
  assert_non_null(out);
  free(bufs);
  mlc_tkernel_destroy(k);
  return out;
}

/* Runs op on X with attributes (names may be NULL) and checks against ref
 * called with (a, b). */
static void check(mlc_op_t op, const char *an, float a, const char *bn,
                  float b, ref_fn ref) {
  mlc_graph_t *g;
  assert_null(mlc_graph_create("t", &g));
  int64_t dims[1] = {N};
  mlc_value_t *x = mlc_graph_add_const(g, "x", MLC_DT_F32, 1, dims, X,
                                       sizeof X, MLC_DATA_COPY);
  mlc_value_t *y = mlc_graph_add_value_static(g, "y", MLC_DT_F32, 1, dims);
  assert_non_null(x);
  assert_non_null(y);
  mlc_node_t *n = mlc_graph_add_node(g, op, "n", 1, &x, 1, &y);
  assert_non_null(n);
  if (an) assert_true(mlc_node_set_float(g, n, an, a));
  if (bn) assert_true(mlc_node_set_float(g, n, bn, b));
  float *out = run_out(g, n);
  for (int i = 0; i < N; i++) {
    double want = ref(X[i], a, b);
    if (!(fabs(out[i] - want) <= 1e-5 * (1 + fabs(want))))
      fail_msg("%s x=%g: got %g want %g", mlc_op_name(op), X[i], out[i], want);
  }
  free(out);
  mlc_graph_destroy(g);
}

static void test_elu_selu_celu(void **s) {
  (void)s;
  check(MLC_OP_Elu, NULL, 1.0f, NULL, 0, elu);
  check(MLC_OP_Elu, "alpha", 2.0f, NULL, 0, elu);
  check(MLC_OP_Selu, NULL, 1.67326319217681884765625f, NULL,
        1.05070102214813232421875f, selu);
  check(MLC_OP_Selu, "alpha", 2.0f, "gamma", 3.0f, selu);
  check(MLC_OP_Celu, NULL, 1.0f, NULL, 0, celu);
  check(MLC_OP_Celu, "alpha", 2.0f, NULL, 0, celu);
}

static void test_softplus_softsign_mish(void **s) {
  (void)s;
  check(MLC_OP_Softplus, NULL, 0, NULL, 0, softplus);
  check(MLC_OP_Softsign, NULL, 0, NULL, 0, softsign);
  check(MLC_OP_Mish, NULL, 0, NULL, 0, mish);
  check(MLC_OP_Swish, NULL, 1.0f, NULL, 0, swish);
  check(MLC_OP_Swish, "alpha", 1.702f, NULL, 0, swish);
}

static void test_threshold_and_shrink(void **s) {
  (void)s;
  check(MLC_OP_ThresholdedRelu, NULL, 1.0f, NULL, 0, thresholded);
  check(MLC_OP_ThresholdedRelu, "alpha", 0.4f, NULL, 0, thresholded);
  check(MLC_OP_Shrink, NULL, 0.0f, NULL, 0.5f, shrink);
  check(MLC_OP_Shrink, "bias", 1.5f, "lambd", 1.0f, shrink);
}

/* ---- index ops ---- */

static mlc_graph_t *G;

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
static mlc_node_t *node1(mlc_op_t op, int ni, mlc_value_t **in,
                         mlc_dtype_t dt, int rank, const int64_t *dims) {
  mlc_value_t *o = mlc_graph_add_value_static(G, "out", dt, rank, dims);
  assert_non_null(o);
  mlc_node_t *n = mlc_graph_add_node(G, op, "n", ni, in, 1, &o);
  assert_non_null(n);
  return n;
}

/* x[2,4] with ties: row 0 max 5 at 1 and 3, min 1 at 0; row 1 max 9 at 2,
 * min -2 at 0 and 3. */
static const float AX[8] = {1, 5, 2, 5, -2, 0, 9, -2};

static void test_argmax_argmin(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  mlc_value_t *x = cst(MLC_DT_F32, 2, (int64_t[]){2, 4}, AX);
  mlc_node_t *n = node1(MLC_OP_ArgMax, 1, &x, MLC_DT_I64, 2, (int64_t[]){2, 1});
  mlc_node_set_int(G, n, "axis", 1);
  int64_t *y = run_out(G, n);
  assert_memory_equal(y, ((int64_t[]){1, 2}), 16);
  free(y);
  mlc_node_set_int(G, n, "select_last_index", 1);
  y = run_out(G, n);
  assert_memory_equal(y, ((int64_t[]){3, 2}), 16);
  free(y);
  n = node1(MLC_OP_ArgMin, 1, &x, MLC_DT_I64, 1, (int64_t[]){2});
  mlc_node_set_int(G, n, "axis", -1);
  mlc_node_set_int(G, n, "keepdims", 0);
  y = run_out(G, n);
  assert_memory_equal(y, ((int64_t[]){0, 0}), 16);
  free(y);
  mlc_node_set_int(G, n, "select_last_index", 1);
  y = run_out(G, n);
  assert_memory_equal(y, ((int64_t[]){0, 3}), 16);
  free(y);
  /* axis 0 (default), keepdims: per column */
  n = node1(MLC_OP_ArgMax, 1, &x, MLC_DT_I64, 2, (int64_t[]){1, 4});
  y = run_out(G, n);
  assert_memory_equal(y, ((int64_t[]){0, 0, 1, 0}), 32);
  free(y);
  mlc_graph_destroy(G);
}

static void test_hardmax(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  mlc_value_t *x = cst(MLC_DT_F32, 2, (int64_t[]){2, 4}, AX);
  mlc_node_t *n = node1(MLC_OP_Hardmax, 1, &x, MLC_DT_F32, 2, (int64_t[]){2, 4});
  float *y = run_out(G, n); /* axis -1; first of the tied maxima */
  assert_memory_equal(y, ((float[]){0, 1, 0, 0, 0, 0, 1, 0}), 32);
  free(y);
  mlc_node_set_int(G, n, "axis", 0);
  y = run_out(G, n);
  assert_memory_equal(y, ((float[]){1, 1, 0, 1, 0, 0, 1, 0}), 32);
  free(y);
  mlc_graph_destroy(G);
}

static void test_cumsum_variants(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  int32_t xv[6] = {1, 2, 3, 4, 5, 6};
  int64_t axis = 1;
  mlc_value_t *in[2] = {cst(MLC_DT_I32, 2, (int64_t[]){2, 3}, xv),
                        cst(MLC_DT_I64, 0, NULL, &axis)};
  static const struct { int excl, rev; int32_t want[6]; } cases[] = {
      {0, 0, {1, 3, 6, 4, 9, 15}},
      {1, 0, {0, 1, 3, 0, 4, 9}},
      {0, 1, {6, 5, 3, 15, 11, 6}},
      {1, 1, {5, 3, 0, 11, 6, 0}},
  };
  for (size_t i = 0; i < 4; i++) {
    mlc_node_t *n = node1(MLC_OP_CumSum, 2, in, MLC_DT_I32, 2, (int64_t[]){2, 3});
    mlc_node_set_int(G, n, "exclusive", cases[i].excl);
    mlc_node_set_int(G, n, "reverse", cases[i].rev);
    int32_t *y = run_out(G, n);
    assert_memory_equal(y, cases[i].want, 24);
    free(y);
  }
  /* CumProd, exclusive and reversed: products of the later entries */
  mlc_node_t *pn = node1(MLC_OP_CumProd, 2, in, MLC_DT_I32, 2, (int64_t[]){2, 3});
  mlc_node_set_int(G, pn, "exclusive", 1);
  mlc_node_set_int(G, pn, "reverse", 1);
  int32_t *py = run_out(G, pn);
  assert_memory_equal(py, ((int32_t[]){6, 3, 1, 30, 6, 1}), 24);
  free(py);
  axis = -2; /* along rows */
  in[1] = cst(MLC_DT_I64, 1, (int64_t[]){1}, &axis);
  int32_t *y = run_out(G, node1(MLC_OP_CumSum, 2, in, MLC_DT_I32, 2, (int64_t[]){2, 3}));
  assert_memory_equal(y, ((int32_t[]){1, 2, 3, 5, 7, 9}), 24);
  free(y);
  mlc_graph_destroy(G);
}

static void test_gather_elements(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int64_t iv[6] = {1, -1, 0, 2, 0, 0}; /* [2,3], -1 wraps to 2 */
  mlc_value_t *in[2] = {cst(MLC_DT_F32, 2, (int64_t[]){3, 3}, xv),
                        cst(MLC_DT_I64, 2, (int64_t[]){2, 3}, iv)};
  mlc_node_t *n = node1(MLC_OP_GatherElements, 2, in, MLC_DT_F32, 2, (int64_t[]){2, 3});
  float *y = run_out(G, n); /* axis 0: y[i][j] = x[idx[i][j]][j] */
  assert_memory_equal(y, ((float[]){4, 8, 3, 7, 2, 3}), 24);
  free(y);
  mlc_node_set_int(G, n, "axis", 1); /* y[i][j] = x[i][idx[i][j]] */
  y = run_out(G, n);
  assert_memory_equal(y, ((float[]){2, 3, 1, 6, 4, 4}), 24);
  free(y);
  mlc_graph_destroy(G);
}

static void test_scatter_elements(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  float xv[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}; /* [3,3] */
  int64_t iv[4] = {0, -1, 0, 2};             /* [2,2], smaller than data */
  float uv[4] = {10, 20, 30, 40};
  mlc_value_t *in[3] = {cst(MLC_DT_F32, 2, (int64_t[]){3, 3}, xv),
                        cst(MLC_DT_I64, 2, (int64_t[]){2, 2}, iv),
                        cst(MLC_DT_F32, 2, (int64_t[]){2, 2}, uv)};
  /* axis 0: out[idx[i][j]][j] (op)= upd[i][j]; row 0 col 0 gets 10 and 30 */
  mlc_node_t *n = node1(MLC_OP_ScatterElements, 3, in, MLC_DT_F32, 2,
                        (int64_t[]){3, 3});
  float *y = run_out(G, n); /* none: the later update wins */
  assert_memory_equal(y, ((float[]){30, 1, 1, 1, 1, 1, 1, 40, 1}), 36);
  free(y);
  mlc_node_set_string(G, n, "reduction", "add");
  y = run_out(G, n);
  assert_memory_equal(y, ((float[]){41, 1, 1, 1, 1, 1, 1, 61, 1}), 36);
  free(y);
  mlc_node_set_string(G, n, "reduction", "max");
  y = run_out(G, n);
  assert_memory_equal(y, ((float[]){30, 1, 1, 1, 1, 1, 1, 40, 1}), 36);
  free(y);
  /* axis 1: out[i][idx[i][j]] = upd[i][j] */
  n = node1(MLC_OP_ScatterElements, 3, in, MLC_DT_F32, 2, (int64_t[]){3, 3});
  mlc_node_set_int(G, n, "axis", 1);
  y = run_out(G, n);
  assert_memory_equal(y, ((float[]){10, 1, 20, 30, 1, 40, 1, 1, 1}), 36);
  free(y);
  mlc_graph_destroy(G);
}

static void test_topk(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  int64_t k = 3;
  mlc_value_t *in[2] = {cst(MLC_DT_F32, 2, (int64_t[]){2, 4}, AX),
                        cst(MLC_DT_I64, 1, (int64_t[]){1}, &k)};
  for (int largest = 1; largest >= 0; largest--) {
    mlc_value_t *o[2] = {
        mlc_graph_add_value_static(G, "v", MLC_DT_F32, 2, (int64_t[]){2, 3}),
        mlc_graph_add_value_static(G, "i", MLC_DT_I64, 2, (int64_t[]){2, 3})};
    mlc_node_t *n = mlc_graph_add_node(G, MLC_OP_TopK, "n", 2, in, 2, o);
    assert_non_null(n);
    mlc_node_set_int(G, n, "largest", largest);
    float *v = run_out(G, n);
    /* ties keep the lower index first */
    if (largest)
      assert_memory_equal(v, ((float[]){5, 5, 2, 9, 0, -2}), 24);
    else
      assert_memory_equal(v, ((float[]){1, 2, 5, -2, -2, 0}), 24);
    free(v);
  }
  mlc_graph_destroy(G);
}

static void test_trilu(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  float xv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; /* [3,4] */
  mlc_value_t *x = cst(MLC_DT_F32, 2, (int64_t[]){3, 4}, xv);
  mlc_node_t *n = node1(MLC_OP_Trilu, 1, &x, MLC_DT_F32, 2, (int64_t[]){3, 4});
  float *y = run_out(G, n); /* upper, k = 0 */
  assert_memory_equal(y, ((float[]){1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12}), 48);
  free(y);
  int64_t k = -1;
  mlc_value_t *in[2] = {x, cst(MLC_DT_I64, 0, NULL, &k)};
  n = node1(MLC_OP_Trilu, 2, in, MLC_DT_F32, 2, (int64_t[]){3, 4});
  mlc_node_set_int(G, n, "upper", 0);
  y = run_out(G, n); /* lower, below the diagonal only */
  assert_memory_equal(y, ((float[]){0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0}), 48);
  free(y);
  mlc_graph_destroy(G);
}

/* ConvTranspose 1-D by scatter: y[n][g*Mg+m][i*s - pb + k*d] += x * w. */
static void convt_ref(const float *x, const float *w, const float *b,
                      int C, int Mg, int grp, int L, int K, int s, int d,
                      int pb, int O, float *y) {
  int Cg = C / grp, M = Mg * grp;
  for (int m = 0; m < M; m++)
    for (int o = 0; o < O; o++) y[m * O + o] = b ? b[m] : 0;
  for (int c = 0; c < C; c++)
    for (int i = 0; i < L; i++)
      for (int m = 0; m < Mg; m++)
        for (int k = 0; k < K; k++) {
          int o = i * s - pb + k * d, mo = (c / Cg) * Mg + m;
          if (o >= 0 && o < O)
            y[mo * O + o] += x[c * L + i] * w[(c * Mg + m) * K + k];
        }
}

static void test_convtranspose_1d(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  enum { C = 4, MG = 3, GRP = 2, L = 5, K = 3 };
  float x[C * L], w[C * MG * K], b[MG * GRP];
  for (int i = 0; i < C * L; i++) x[i] = (float)((i * 7) % 11) - 5;
  for (int i = 0; i < C * MG * K; i++) w[i] = (float)((i * 5) % 7) - 3;
  for (int i = 0; i < MG * GRP; i++) b[i] = 0.5f * (float)i;
  /* stride 2, dilation 2, pads (1, 2), output_padding 1:
   * O = 2 * 4 + 1 + 2 * 2 + 1 - 1 - 2 = 11 */
  enum { O = 11 };
  mlc_value_t *in[3] = {cst(MLC_DT_F32, 3, (int64_t[]){1, C, L}, x),
                        cst(MLC_DT_F32, 3, (int64_t[]){C, MG, K}, w),
                        cst(MLC_DT_F32, 1, (int64_t[]){MG * GRP}, b)};
  mlc_node_t *n = node1(MLC_OP_ConvTranspose, 3, in, MLC_DT_F32, 3,
                        (int64_t[]){1, MG * GRP, O});
  mlc_node_set_int(G, n, "group", GRP);
  mlc_node_set_ints(G, n, "strides", (int64_t[]){2}, 1);
  mlc_node_set_ints(G, n, "dilations", (int64_t[]){2}, 1);
  mlc_node_set_ints(G, n, "pads", (int64_t[]){1, 2}, 2);
  mlc_node_set_ints(G, n, "output_padding", (int64_t[]){1}, 1);
  float *y = run_out(G, n), want[MG * GRP * O];
  convt_ref(x, w, b, C, MG, GRP, L, K, 2, 2, 1, O, want);
  for (int i = 0; i < MG * GRP * O; i++)
    if (fabsf(y[i] - want[i]) > 1e-4f)
      fail_msg("element %d: got %g want %g", i, y[i], want[i]);
  free(y);
  /* output_shape 13 (beyond the full 12): begin pad 0, the end grows */
  n = node1(MLC_OP_ConvTranspose, 2, in, MLC_DT_F32, 3,
            (int64_t[]){1, MG * GRP, 13});
  mlc_node_set_int(G, n, "group", GRP);
  mlc_node_set_ints(G, n, "strides", (int64_t[]){2}, 1);
  mlc_node_set_ints(G, n, "dilations", (int64_t[]){2}, 1);
  mlc_node_set_ints(G, n, "output_shape", (int64_t[]){13}, 1);
  y = run_out(G, n);
  float want2[MG * GRP * 13];
  convt_ref(x, w, NULL, C, MG, GRP, L, K, 2, 2, 0, 13, want2);
  for (int i = 0; i < MG * GRP * 13; i++)
    if (fabsf(y[i] - want2[i]) > 1e-4f)
      fail_msg("output_shape element %d: got %g want %g", i, y[i], want2[i]);
  free(y);
  mlc_graph_destroy(G);
}

/* Resize of x[1,1,2,2] = {1,2,3,4} to 4x4 by scales 2 (NCHW). */
static float *resize_2x(const char *mode, const char *ctm, const char *nm) {
  static const float x[4] = {1, 2, 3, 4};
  static const float sc[4] = {1, 1, 2, 2};
  mlc_value_t *in[3] = {cst(MLC_DT_F32, 4, (int64_t[]){1, 1, 2, 2}, x), NULL,
                        cst(MLC_DT_F32, 1, (int64_t[]){4}, sc)};
  mlc_node_t *n = node1(MLC_OP_Resize, 3, in, MLC_DT_F32, 4,
                        (int64_t[]){1, 1, 4, 4});
  mlc_node_set_string(G, n, "mode", mode);
  if (ctm) mlc_node_set_string(G, n, "coordinate_transformation_mode", ctm);
  if (nm) mlc_node_set_string(G, n, "nearest_mode", nm);
  return run_out(G, n);
}

static void test_resize_modes(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  /* nearest, asymmetric, floor: each input pixel repeated 2x2 */
  float *y = resize_2x("nearest", "asymmetric", "floor");
  assert_memory_equal(y, ((float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3,
                                    4, 4}), 64);
  free(y);
  /* linear, half_pixel (ONNX's resize_upsample_scales_linear example) */
  y = resize_2x("linear", NULL, NULL);
  near(y, (float[]){1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f,
                    2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4}, 16, 1e-6f);
  free(y);
  /* linear, align_corners: x * (2 - 1) / (4 - 1) */
  y = resize_2x("linear", "align_corners", NULL);
  float t = 1.0f / 3, u = 2.0f / 3;
  near(y, (float[]){1, 1 + t, 1 + u, 2, 1 + 2 * t, 1 + 3 * t, 1 + 4 * t,
                    2 + 2 * t, 1 + 4 * t, 1 + 5 * t, 1 + 6 * t, 2 + 4 * t, 3,
                    3 + t, 3 + u, 4}, 16, 1e-6f);
  free(y);
  /* sizes with not_larger: 2x4 -> sizes (4, 4) -> common scale 1 */
  static const float x2[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  int64_t sz[2] = {4, 4};
  mlc_value_t *in[4] = {cst(MLC_DT_F32, 2, (int64_t[]){2, 4}, x2), NULL, NULL,
                        cst(MLC_DT_I64, 1, (int64_t[]){2}, sz)};
  mlc_node_t *n = node1(MLC_OP_Resize, 4, in, MLC_DT_F32, 2, (int64_t[]){2, 4});
  mlc_node_set_string(G, n, "keep_aspect_ratio_policy", "not_larger");
  y = run_out(G, n);
  near(y, x2, 8, 0);
  free(y);
  mlc_graph_destroy(G);
}

static void test_isinf(void **s) {
  (void)s;
  assert_null(mlc_graph_create("t", &G));
  float xv[5] = {1.0f, INFINITY, -INFINITY, NAN, -2.0f};
  mlc_value_t *x = cst(MLC_DT_F32, 1, (int64_t[]){5}, xv);
  static const struct { int pos, neg; bool want[5]; } cases[] = {
      {1, 1, {0, 1, 1, 0, 0}}, {1, 0, {0, 1, 0, 0, 0}},
      {0, 1, {0, 0, 1, 0, 0}}, {0, 0, {0, 0, 0, 0, 0}}};
  for (size_t i = 0; i < 4; i++) {
    mlc_node_t *n = node1(MLC_OP_IsInf, 1, &x, MLC_DT_BOOL, 1, (int64_t[]){5});
    mlc_node_set_int(G, n, "detect_positive", cases[i].pos);
    mlc_node_set_int(G, n, "detect_negative", cases[i].neg);
    bool *y = run_out(G, n);
    assert_memory_equal(y, cases[i].want, 5);
    free(y);
  }
  mlc_graph_destroy(G);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_elu_selu_celu),
      cmocka_unit_test(test_softplus_softsign_mish),
      cmocka_unit_test(test_threshold_and_shrink),
      cmocka_unit_test(test_argmax_argmin),
      cmocka_unit_test(test_hardmax),
      cmocka_unit_test(test_cumsum_variants),
      cmocka_unit_test(test_gather_elements),
      cmocka_unit_test(test_trilu),
      cmocka_unit_test(test_topk),
      cmocka_unit_test(test_scatter_elements),
      cmocka_unit_test(test_convtranspose_1d),
      cmocka_unit_test(test_resize_modes),
      cmocka_unit_test(test_isinf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
