/* Lowering of the elementwise activations added on the ops2 branch (Elu,
 * Selu, Celu, Softplus, Softsign, ThresholdedRelu, Shrink, Mish): one node
 * each, lowered and run in the tile interpreter, compared with the ONNX
 * formulas computed here in double precision, with default and explicit
 * attributes. */
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
static double mish(double x, double a, double b) {
  (void)a, (void)b;
  return x * tanh(log1p(exp(x)));
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
  mlc_pass_ctx_t ctx = {0};
  mlc_tkernel_t *k;
  mlc_value_t **bv;
  mlc_status_t *st = mlc_lower_node(&ctx, g, n, &k, &bv);
  if (st) fail_msg("%s: %s", mlc_op_name(op), mlc_status_message(st));
  void **bufs = calloc((size_t)k->nbufs, sizeof *bufs);
  float *out = NULL;
  for (int i = 0; i < k->nbufs; i++) {
    size_t nb = (size_t)k->bufs[i].nelems * mlc_dtype_size(k->bufs[i].dtype);
    bufs[i] = calloc(1, nb + 1);
    if (bv[i]->data) memcpy(bufs[i], bv[i]->data, nb);
    if (bv[i] == y) out = bufs[i];
  }
  assert_non_null(out);
  st = mlc_tkernel_interpret(k, bufs);
  if (st) fail_msg("%s: %s", mlc_op_name(op), mlc_status_message(st));
  for (int i = 0; i < N; i++) {
    double want = ref(X[i], a, b);
    if (!(fabs(out[i] - want) <= 1e-5 * (1 + fabs(want))))
      fail_msg("%s x=%g: got %g want %g", mlc_op_name(op), X[i], out[i], want);
  }
  for (int i = 0; i < k->nbufs; i++) free(bufs[i]);
  free(bufs);
  mlc_tkernel_destroy(k);
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
}

static void test_threshold_and_shrink(void **s) {
  (void)s;
  check(MLC_OP_ThresholdedRelu, NULL, 1.0f, NULL, 0, thresholded);
  check(MLC_OP_ThresholdedRelu, "alpha", 0.4f, NULL, 0, thresholded);
  check(MLC_OP_Shrink, NULL, 0.0f, NULL, 0.5f, shrink);
  check(MLC_OP_Shrink, "bias", 1.5f, "lambd", 1.0f, shrink);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_elu_selu_celu),
      cmocka_unit_test(test_softplus_softsign_mish),
      cmocka_unit_test(test_threshold_and_shrink),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
