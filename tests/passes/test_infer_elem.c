/* infer-shapes: elementwise broadcasting (with symbolic dims), dtype
 * rules, MatMul, Gemm, Conv and pools (pads, strides, dilations,
 * auto_pad, ceil_mode), normalisations and reductions. */
#include "infer_test_util.h"

#define F32 MLC_DT_F32
#define I64 MLC_DT_I64
#define BOOL MLC_DT_BOOL

/* ---- broadcasting ---- */

static void test_broadcast_static(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input(g, "a", F32, 3, I64S(2, 1, 3));
  mlc_value_t *b = input(g, "b", F32, 2, I64S(4, 1));
  mlc_node_t *n = node(g, MLC_OP_Add, "add", 2, VALS(a, b), 1);
  mlc_node_t *s = node(g, MLC_OP_Sum, "sum", 3, VALS(a, b, a), 1);
  infer_ok(g);
  expect_shape(out0(n), F32, 3, I64S(2, 4, 3));
  expect_shape(out0(s), F32, 3, I64S(2, 4, 3));
  mlc_graph_destroy(g);
}

static void test_broadcast_mismatch(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input(g, "a", F32, 2, I64S(2, 3));
  mlc_value_t *b = input(g, "b", F32, 1, I64S(4));
  node(g, MLC_OP_Mul, "mul", 2, VALS(a, b), 1);
  infer_fails(g, MLC_INVALID_MODEL,
              "node 'mul' (Mul): shapes do not broadcast: dim 1 is 3");
}

static void test_broadcast_symbolic(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input_sym(g, "a", F32, 2, I64S(-1, 3),
                             (const char *[]){"N", NULL});
  mlc_value_t *b = input_sym(g, "b", F32, 2, I64S(-1, 1),
                             (const char *[]){"N", NULL});
  mlc_value_t *c = input(g, "c", F32, 2, I64S(1, 3));
  mlc_value_t *m = input_sym(g, "m", F32, 2, I64S(-1, 3),
                             (const char *[]){"M", NULL});
  mlc_node_t *nn = node(g, MLC_OP_Add, "nn", 2, VALS(a, b), 1);
  mlc_node_t *n1 = node(g, MLC_OP_Add, "n1", 2, VALS(c, a), 1);
  mlc_node_t *nm = node(g, MLC_OP_Add, "nm", 2, VALS(a, m), 1);
  infer_ok(g);
  expect_shape(out0(nn), F32, 2, I64S(-1, 3));
  expect_sym(out0(nn), 0, "N");
  expect_shape(out0(n1), F32, 2, I64S(-1, 3));
  expect_sym(out0(n1), 0, "N");
  expect_shape(out0(nm), F32, 2, I64S(-1, 3)); /* N with M: unknown */
  expect_sym(out0(nm), 0, NULL);
  mlc_graph_destroy(g);
}

static void test_broadcast_bound_symbols_clash(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input_sym(g, "a", F32, 1, I64S(2),
                             (const char *[]){"N"});
  mlc_value_t *b = input(g, "b", F32, 1, I64S(3));
  node(g, MLC_OP_Sub, "sub", 2, VALS(a, b), 1);
  infer_fails(g, MLC_INVALID_MODEL, "dim 0 is N=2 in one operand and 3");
}

/* ---- dtype rules ---- */

static void test_comparison_and_logic(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input(g, "a", I64, 1, I64S(4));
  mlc_value_t *b = input(g, "b", I64, 0, NULL);
  mlc_node_t *eq = node(g, MLC_OP_Less, "lt", 2, VALS(a, b), 1);
  mlc_node_t *nt = node(g, MLC_OP_Not, "not", 1, VALS(out0(eq)), 1);
  mlc_node_t *x = node(g, MLC_OP_Xor, "xor", 2, VALS(out0(eq), out0(nt)), 1);
  mlc_node_t *w = node(g, MLC_OP_Where, "w", 3, VALS(out0(x), a, b), 1);
  infer_ok(g);
  expect_shape(out0(eq), BOOL, 1, I64S(4));
  expect_shape(out0(x), BOOL, 1, I64S(4));
  expect_shape(out0(w), I64, 1, I64S(4));
  mlc_graph_destroy(g);
}

static void test_dtype_errors(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input(g, "a", F32, 1, I64S(4));
  mlc_value_t *b = input(g, "b", I64, 1, I64S(4));
  node(g, MLC_OP_Add, "add", 2, VALS(a, b), 1);
  infer_fails(g, MLC_INVALID_MODEL, "input 1 'b' is i64 but input 0 'a'");

  g = new_graph();
  a = input(g, "a", F32, 1, I64S(4));
  node(g, MLC_OP_And, "and", 2, VALS(a, a), 1);
  infer_fails(g, MLC_INVALID_MODEL, "node 'and' (And): input 0 'a': dtype "
              "f32, expected bool");

  g = new_graph();
  b = input(g, "b", I64, 1, I64S(4));
  node(g, MLC_OP_Exp, "exp", 1, VALS(b), 1);
  infer_fails(g, MLC_INVALID_MODEL, "expected a float type");

  g = new_graph(); /* valid ONNX that mlc does not compute on */
  a = input(g, "a", MLC_DT_STRING, 1, I64S(4));
  node(g, MLC_OP_Equal, "eq", 2, VALS(a, a), 1);
  infer_fails(g, MLC_UNSUPPORTED, "input 0 'a': dtype string");

  g = new_graph();
  a = input(g, "a", F32, 1, I64S(4));
  node(g, MLC_OP_Where, "w", 3, VALS(a, a, a), 1);
  infer_fails(g, MLC_INVALID_MODEL, "input 0 'a': dtype f32, expected bool");
}

static void test_cast_clip_unary(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input(g, "a", F32, 2, I64S(2, 3));
  mlc_node_t *c = node(g, MLC_OP_Cast, "c", 1, VALS(a), 1);
  set_int(g, c, "to", MLC_DT_F16);
  mlc_value_t *lo = scalar(g, "lo", F32, 0), *hi = scalar(g, "hi", F32, 6);
  mlc_node_t *cl = node(g, MLC_OP_Clip, "clip", 3, VALS(a, NULL, hi), 1);
  mlc_node_t *nan = node(g, MLC_OP_IsNaN, "nan", 1, VALS(a), 1);
  mlc_node_t *r = node(g, MLC_OP_Relu, "r", 1, VALS(a), 1);
  (void)lo;
  infer_ok(g);
  expect_shape(out0(c), MLC_DT_F16, 2, I64S(2, 3));
  expect_shape(out0(cl), F32, 2, I64S(2, 3));
  expect_shape(out0(nan), BOOL, 2, I64S(2, 3));
  expect_shape(out0(r), F32, 2, I64S(2, 3));
  mlc_graph_destroy(g);

  g = new_graph();
  a = input(g, "a", F32, 1, I64S(2));
  node(g, MLC_OP_Cast, "c", 1, VALS(a), 1);
  infer_fails(g, MLC_INVALID_MODEL, "node 'c' (Cast): attribute 'to' is "
              "required");
}

/* ---- MatMul, Gemm ---- */

static void test_matmul(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input(g, "a", F32, 2, I64S(3, 4));
  mlc_value_t *v = input(g, "v", F32, 1, I64S(4));
  mlc_value_t *b = input(g, "b", F32, 3, I64S(2, 4, 5));
  mlc_value_t *c = input(g, "c", F32, 4, I64S(2, 1, 3, 4));
  mlc_value_t *d = input(g, "d", F32, 3, I64S(5, 4, 6));
  mlc_node_t *m1 = node(g, MLC_OP_MatMul, "m1", 2, VALS(a, v), 1);
  mlc_node_t *m2 = node(g, MLC_OP_MatMul, "m2", 2, VALS(v, b), 1);
  mlc_node_t *m3 = node(g, MLC_OP_MatMul, "m3", 2, VALS(c, d), 1);
  mlc_node_t *m4 = node(g, MLC_OP_MatMul, "m4", 2, VALS(v, v), 1);
  infer_ok(g);
  expect_shape(out0(m1), F32, 1, I64S(3));
  expect_shape(out0(m2), F32, 2, I64S(2, 5));
  expect_shape(out0(m3), F32, 4, I64S(2, 5, 3, 6));
  expect_shape(out0(m4), F32, 0, NULL);
  mlc_graph_destroy(g);

  g = new_graph();
  a = input(g, "a", F32, 2, I64S(3, 4));
  b = input(g, "b", F32, 2, I64S(5, 6));
  node(g, MLC_OP_MatMul, "mm", 2, VALS(a, b), 1);
  infer_fails(g, MLC_INVALID_MODEL, "node 'mm' (MatMul): inner dimensions "
              "of MatMul differ: 4 vs 5");
}

static void test_gemm(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = input(g, "a", F32, 2, I64S(4, 3));
  mlc_value_t *b = input(g, "b", F32, 2, I64S(5, 4));
  mlc_value_t *c = input(g, "c", F32, 1, I64S(5));
  mlc_node_t *n = node(g, MLC_OP_Gemm, "gemm", 3, VALS(a, b, c), 1);
  set_int(g, n, "transA", 1);
  set_int(g, n, "transB", 1);
  infer_ok(g);
  expect_shape(out0(n), F32, 2, I64S(3, 5));
  mlc_graph_destroy(g);

  g = new_graph();
  a = input(g, "a", F32, 2, I64S(3, 4));
  b = input(g, "b", F32, 2, I64S(4, 5));
  c = input(g, "c", F32, 1, I64S(3));
  node(g, MLC_OP_Gemm, "gemm", 3, VALS(a, b, c), 1);
  infer_fails(g, MLC_INVALID_MODEL, "shapes do not broadcast");

  g = new_graph();
  a = input(g, "a", F32, 3, I64S(1, 3, 4));
  b = input(g, "b", F32, 2, I64S(4, 5));
  node(g, MLC_OP_Gemm, "gemm", 2, VALS(a, b), 1);
  infer_fails(g, MLC_INVALID_MODEL, "input 0 'a': rank 3, expected 2");
}

/* ---- Conv and pools ---- */

static mlc_node_t *conv(mlc_graph_t *g, const int64_t *xs, const int64_t *ws) {
  mlc_value_t *x = input(g, "x", F32, 4, xs);
  mlc_value_t *w = input(g, "w", F32, 4, ws);
  return node(g, MLC_OP_Conv, "conv", 2, VALS(x, w), 1);
}

static void test_conv(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_node_t *n = conv(g, I64S(1, 3, 32, 32), I64S(8, 3, 3, 3));
  set_ints(g, n, "pads", I64S(1, 1, 1, 1), 4);
  set_ints(g, n, "strides", I64S(2, 2), 2);
  infer_ok(g);
  expect_shape(out0(n), F32, 4, I64S(1, 8, 16, 16));
  mlc_graph_destroy(g);

  g = new_graph(); /* dilation 2, asymmetric pads, groups */
  n = conv(g, I64S(2, 4, 10, 9), I64S(6, 2, 3, 2));
  set_ints(g, n, "dilations", I64S(2, 3), 2);
  set_ints(g, n, "pads", I64S(0, 1, 2, 0), 4);
  set_int(g, n, "group", 2);
  infer_ok(g); /* h: 10+2-5+1 = 8; w: 9+1-4+1 = 7 */
  expect_shape(out0(n), F32, 4, I64S(2, 6, 8, 7));
  mlc_graph_destroy(g);

  g = new_graph();
  n = conv(g, I64S(1, 3, 7, 8), I64S(4, 3, 3, 3));
  set_ints(g, n, "strides", I64S(2, 3), 2);
  assert_true(mlc_node_set_string(g, n, "auto_pad", "SAME_UPPER"));
  infer_ok(g);
  expect_shape(out0(n), F32, 4, I64S(1, 4, 4, 3));
  mlc_graph_destroy(g);

  g = new_graph();
  n = conv(g, I64S(1, 3, 7, 8), I64S(4, 3, 3, 3));
  set_ints(g, n, "strides", I64S(2, 2), 2);
  set_ints(g, n, "pads", I64S(5, 5, 5, 5), 4); /* ignored with VALID */
  assert_true(mlc_node_set_string(g, n, "auto_pad", "VALID"));
  infer_ok(g);
  expect_shape(out0(n), F32, 4, I64S(1, 4, 3, 3));
  mlc_graph_destroy(g);
}

static void test_conv_errors(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  conv(g, I64S(1, 3, 8, 8), I64S(8, 4, 3, 3));
  infer_fails(g, MLC_INVALID_MODEL, "node 'conv' (Conv): input 1 'w': 4 "
              "input channels x group 1 != 3");

  g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 4, I64S(1, 3, 8, 8));
  mlc_value_t *w = input(g, "w", F32, 3, I64S(8, 3, 3));
  node(g, MLC_OP_Conv, "conv", 2, VALS(x, w), 1);
  infer_fails(g, MLC_INVALID_MODEL, "input 1 'w': rank 3, expected 4");

  g = new_graph();
  mlc_node_t *n = conv(g, I64S(1, 3, 2, 2), I64S(8, 3, 3, 3));
  (void)n;
  infer_fails(g, MLC_INVALID_MODEL, "does not fit");

  g = new_graph();
  n = conv(g, I64S(1, 3, 8, 8), I64S(8, 3, 3, 3));
  set_ints(g, n, "kernel_shape", I64S(5, 5), 2);
  infer_fails(g, MLC_INVALID_MODEL, "kernel_shape[0] = 5 but the weight has 3");
}

static mlc_node_t *pool(mlc_graph_t *g, mlc_op_t op, int64_t h, int64_t k,
                        int64_t s, int nout) {
  mlc_value_t *x = input(g, "x", F32, 4, I64S(1, 2, h, h));
  mlc_node_t *n = node(g, op, "pool", 1, VALS(x), nout);
  set_ints(g, n, "kernel_shape", I64S(k, k), 2);
  set_ints(g, n, "strides", I64S(s, s), 2);
  return n;
}

static void test_pools(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_node_t *n = pool(g, MLC_OP_MaxPool, 5, 2, 2, 2);
  infer_ok(g);
  expect_shape(n->outputs[0], F32, 4, I64S(1, 2, 2, 2));
  expect_shape(n->outputs[1], I64, 4, I64S(1, 2, 2, 2));
  mlc_graph_destroy(g);

  g = new_graph();
  n = pool(g, MLC_OP_MaxPool, 5, 2, 2, 1);
  set_int(g, n, "ceil_mode", 1);
  infer_ok(g);
  expect_shape(out0(n), F32, 4, I64S(1, 2, 3, 3));
  mlc_graph_destroy(g);

  g = new_graph(); /* ceil_mode drops a window starting in the end pad */
  n = pool(g, MLC_OP_AveragePool, 4, 2, 3, 1);
  set_int(g, n, "ceil_mode", 1);
  set_ints(g, n, "pads", I64S(1, 1, 1, 1), 4);
  infer_ok(g);
  expect_shape(out0(n), F32, 4, I64S(1, 2, 2, 2));
  mlc_graph_destroy(g);

  g = new_graph();
  n = pool(g, MLC_OP_AveragePool, 7, 3, 2, 1);
  assert_true(mlc_node_set_string(g, n, "auto_pad", "SAME_LOWER"));
  infer_ok(g);
  expect_shape(out0(n), F32, 4, I64S(1, 2, 4, 4));
  mlc_graph_destroy(g);

  g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(1, 2, 9));
  n = node(g, MLC_OP_MaxPool, "pool", 1, VALS(x), 1);
  infer_fails(g, MLC_INVALID_MODEL, "attribute 'kernel_shape' is required");

  g = new_graph();
  n = pool(g, MLC_OP_MaxPool, 5, 2, 2, 1);
  assert_true(mlc_node_set_string(g, n, "auto_pad", "SAME"));
  infer_fails(g, MLC_INVALID_MODEL, "auto_pad 'SAME' is not");
}

static void test_global_pool(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 5, I64S(2, 3, 4, 5, 6));
  mlc_node_t *n = node(g, MLC_OP_GlobalAveragePool, "gap", 1, VALS(x), 1);
  infer_ok(g);
  expect_shape(out0(n), F32, 5, I64S(2, 3, 1, 1, 1));
  mlc_graph_destroy(g);
}

/* ---- normalisations ---- */

static void test_batchnorm(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 4, I64S(2, 3, 4, 4));
  mlc_value_t *p = input(g, "p", F32, 1, I64S(3));
  mlc_node_t *n =
      node(g, MLC_OP_BatchNormalization, "bn", 5, VALS(x, p, p, p, p), 1);
  infer_ok(g);
  expect_shape(out0(n), F32, 4, I64S(2, 3, 4, 4));
  mlc_graph_destroy(g);

  g = new_graph();
  x = input(g, "x", F32, 4, I64S(2, 3, 4, 4));
  p = input(g, "p", F32, 1, I64S(3));
  mlc_value_t *q = input(g, "q", F32, 1, I64S(4));
  node(g, MLC_OP_BatchNormalization, "bn", 5, VALS(x, p, q, p, p), 1);
  infer_fails(g, MLC_INVALID_MODEL, "node 'bn' (BatchNormalization): input 2 "
              "'q' (B) has 4 elements for 3 channels");
}

static void test_softmax_layernorm(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(2, 5, 8));
  mlc_value_t *sc = input(g, "sc", F32, 1, I64S(8));
  mlc_node_t *sm = node(g, MLC_OP_LogSoftmax, "sm", 1, VALS(x), 1);
  mlc_node_t *ln =
      node(g, MLC_OP_LayerNormalization, "ln", 3, VALS(x, sc, sc), 3);
  set_int(g, ln, "axis", -1);
  set_int(g, ln, "stash_type", MLC_DT_F64);
  infer_ok(g);
  expect_shape(out0(sm), F32, 3, I64S(2, 5, 8));
  expect_shape(ln->outputs[0], F32, 3, I64S(2, 5, 8));
  expect_shape(ln->outputs[1], MLC_DT_F64, 3, I64S(2, 5, 1));
  expect_shape(ln->outputs[2], MLC_DT_F64, 3, I64S(2, 5, 1));
  mlc_graph_destroy(g);

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 5));
  sm = node(g, MLC_OP_Softmax, "sm", 1, VALS(x), 1);
  set_int(g, sm, "axis", 2);
  infer_fails(g, MLC_INVALID_MODEL, "axis 2 is out of range for rank 2");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 5));
  sc = input(g, "sc", F32, 1, I64S(4));
  node(g, MLC_OP_LayerNormalization, "ln", 2, VALS(x, sc), 1);
  infer_fails(g, MLC_INVALID_MODEL, "node 'ln' (LayerNormalization)");
}

/* ---- reductions ---- */

static void test_reduce(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(2, 3, 4));
  mlc_value_t *ax = const_i64(g, "ax", I64S(-1, 0), 2);
  mlc_node_t *r1 = node(g, MLC_OP_ReduceSum, "r1", 2, VALS(x, ax), 1);
  set_int(g, r1, "keepdims", 0);
  mlc_node_t *r2 = node(g, MLC_OP_ReduceMean, "r2", 2, VALS(x, ax), 1);
  mlc_node_t *r3 = node(g, MLC_OP_ReduceMax, "r3", 1, VALS(x), 1);
  mlc_node_t *r4 = node(g, MLC_OP_ReduceMin, "r4", 1, VALS(x), 1);
  set_int(g, r4, "noop_with_empty_axes", 1);
  mlc_node_t *r5 = node(g, MLC_OP_ReduceProd, "r5", 1, VALS(x), 1);
  set_int(g, r5, "keepdims", 0);
  infer_ok(g);
  expect_shape(out0(r1), F32, 1, I64S(3));
  expect_shape(out0(r2), F32, 3, I64S(1, 3, 1));
  expect_shape(out0(r3), F32, 3, I64S(1, 1, 1));
  expect_shape(out0(r4), F32, 3, I64S(2, 3, 4));
  expect_shape(out0(r5), F32, 0, NULL);
  mlc_graph_destroy(g);

  g = new_graph();
  x = input(g, "x", F32, 3, I64S(2, 3, 4));
  mlc_value_t *dyn = input(g, "dyn", I64, 1, I64S(1));
  node(g, MLC_OP_ReduceSum, "rs", 2, VALS(x, dyn), 1);
  infer_fails(g, MLC_UNSUPPORTED, "node 'rs' (ReduceSum): input 1 'axes' is "
              "not a constant; mlc needs static shapes");

  g = new_graph(); /* ReduceMax/Min take bool (opset 20); ReduceSum not */
  x = input(g, "x", BOOL, 2, I64S(2, 3));
  r1 = node(g, MLC_OP_ReduceMax, "r1", 1, VALS(x), 1);
  infer_ok(g);
  expect_shape(out0(r1), BOOL, 2, I64S(1, 1));
  mlc_graph_destroy(g);
  g = new_graph();
  x = input(g, "x", BOOL, 2, I64S(2, 3));
  node(g, MLC_OP_ReduceSum, "rs", 1, VALS(x), 1);
  infer_fails(g, MLC_INVALID_MODEL, "dtype bool, expected a number type");

  g = new_graph();
  x = input(g, "x", F32, 3, I64S(2, 3, 4));
  ax = const_i64(g, "ax", I64S(3), 1);
  node(g, MLC_OP_ReduceSum, "rs", 2, VALS(x, ax), 1);
  infer_fails(g, MLC_INVALID_MODEL, "reduction axis 3 is out of range");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_broadcast_static),
      cmocka_unit_test(test_broadcast_mismatch),
      cmocka_unit_test(test_broadcast_symbolic),
      cmocka_unit_test(test_broadcast_bound_symbols_clash),
      cmocka_unit_test(test_comparison_and_logic),
      cmocka_unit_test(test_dtype_errors),
      cmocka_unit_test(test_cast_clip_unary),
      cmocka_unit_test(test_matmul),
      cmocka_unit_test(test_gemm),
      cmocka_unit_test(test_conv),
      cmocka_unit_test(test_conv_errors),
      cmocka_unit_test(test_pools),
      cmocka_unit_test(test_global_pool),
      cmocka_unit_test(test_batchnorm),
      cmocka_unit_test(test_softmax_layernorm),
      cmocka_unit_test(test_reduce),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
