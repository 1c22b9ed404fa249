/* Shape inference of the ops added on the ops2 branch: CastLike becomes a
 * Cast to its second input's dtype; the new activations keep dtype and
 * shape and refuse integer inputs (Shrink accepts them); ConvTranspose's
 * output size with explicit pads, auto_pad and output_shape; Resize's output
 * size from scales and from sizes with axes and an aspect-ratio policy. */
#include "infer_test_util.h"

static void test_castlike_becomes_cast(void **s) {
  (void)s;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", MLC_DT_F32, 2, I64S(2, 3));
  mlc_value_t *like = input(g, "like", MLC_DT_I32, 1, I64S(7));
  mlc_node_t *n = node(g, MLC_OP_CastLike, "c", 2, VALS(x, like), 1);
  set_int(g, n, "saturate", 0);
  infer_ok(g);
  assert_int_equal(n->op, MLC_OP_Cast);
  assert_int_equal(n->ninputs, 1);
  assert_ptr_equal(n->inputs[0], x);
  assert_int_equal(mlc_node_attr_int(n, "to", -1), MLC_DT_I32);
  assert_int_equal(mlc_node_attr_int(n, "saturate", 1), 0);
  expect_shape(out0(n), MLC_DT_I32, 2, I64S(2, 3));
  mlc_graph_destroy(g);
}

static void test_castlike_declared_output_mismatch(void **s) {
  (void)s;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", MLC_DT_F32, 1, I64S(4));
  mlc_value_t *like = input(g, "like", MLC_DT_F16, 0, NULL);
  mlc_node_t *n = node(g, MLC_OP_CastLike, "c", 2, VALS(x, like), 1);
  out0(n)->dtype = MLC_DT_F64; /* declared by the model, wrongly */
  infer_fails(g, MLC_INVALID_MODEL, "computes f16"); /* destroys g */
}

static void test_activations_keep_shape_and_want_float(void **s) {
  (void)s;
  static const mlc_op_t ops[] = {MLC_OP_Elu, MLC_OP_Selu, MLC_OP_Celu,
                                 MLC_OP_Softplus, MLC_OP_Softsign,
                                 MLC_OP_ThresholdedRelu, MLC_OP_Mish};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
    mlc_graph_t *g = new_graph();
    mlc_value_t *x = input(g, "x", MLC_DT_F16, 3, I64S(1, 2, 5));
    mlc_node_t *n = node(g, ops[i], "a", 1, VALS(x), 1);
    infer_ok(g);
    expect_shape(out0(n), MLC_DT_F16, 3, I64S(1, 2, 5));
    mlc_graph_destroy(g);
    g = new_graph();
    x = input(g, "x", MLC_DT_I32, 1, I64S(3));
    node(g, ops[i], "a", 1, VALS(x), 1);
    infer_fails(g, MLC_INVALID_MODEL, "float");
  }
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", MLC_DT_I32, 1, I64S(3));
  mlc_node_t *n = node(g, MLC_OP_Shrink, "s", 1, VALS(x), 1);
  infer_ok(g);
  expect_shape(out0(n), MLC_DT_I32, 1, I64S(3));
  mlc_graph_destroy(g);
}

static mlc_node_t *convt(mlc_graph_t *g, int64_t in, int64_t k, int grp) {
  mlc_value_t *x = input(g, "x", MLC_DT_F32, 4, I64S(2, 4, in, in));
  mlc_value_t *w = input(g, "w", MLC_DT_F32, 4, I64S(4, 3, k, k));
  mlc_node_t *n = node(g, MLC_OP_ConvTranspose, "ct", 2, VALS(x, w), 1);
  set_int(g, n, "group", grp);
  return n;
}

static void test_convtranspose_shapes(void **s) {
  (void)s;
  mlc_graph_t *g = new_graph();
  mlc_node_t *n = convt(g, 5, 3, 2); /* 1*(5-1) + 3 = 7, 3*2 channels */
  infer_ok(g);
  expect_shape(out0(n), MLC_DT_F32, 4, I64S(2, 6, 7, 7));
  mlc_graph_destroy(g);
  g = new_graph();
  n = convt(g, 5, 3, 1); /* dim 2: 2*4 + 1 + (2*2 + 1) - 1 - 2 = 11 */
  set_ints(g, n, "strides", I64S(2, 3), 2);
  set_ints(g, n, "dilations", I64S(2, 1), 2);
  set_ints(g, n, "output_padding", I64S(1, 0), 2);
  set_ints(g, n, "pads", I64S(1, 0, 2, 1), 4);
  infer_ok(g); /* dim 3: 3*4 + 0 + 3 - 0 - 1 = 14 */
  expect_shape(out0(n), MLC_DT_F32, 4, I64S(2, 3, 11, 14));
  mlc_graph_destroy(g);
  g = new_graph();
  n = convt(g, 5, 3, 1);
  set_ints(g, n, "strides", I64S(2, 2), 2);
  mlc_node_set_string(g, n, "auto_pad", "SAME_UPPER");
  infer_ok(g); /* in * stride */
  expect_shape(out0(n), MLC_DT_F32, 4, I64S(2, 3, 10, 10));
  mlc_graph_destroy(g);
  g = new_graph();
  n = convt(g, 5, 3, 1);
  set_ints(g, n, "output_shape", I64S(9, 6), 2);
  set_ints(g, n, "pads", I64S(5, 5, 5, 5), 4); /* ignored */
  infer_ok(g);
  expect_shape(out0(n), MLC_DT_F32, 4, I64S(2, 3, 9, 6));
  mlc_graph_destroy(g);
  g = new_graph();
  convt(g, 5, 3, 3); /* 4 channels do not split into 3 groups */
  infer_fails(g, MLC_INVALID_MODEL, "group");
}

static void test_resize_shapes(void **s) {
  (void)s;
  static const float sc[4] = {1, 1, 0.6f, 2.5f};
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", MLC_DT_F32, 4, I64S(1, 3, 5, 4));
  mlc_value_t *scales = mlc_graph_add_const(g, "scales", MLC_DT_F32, 1,
                                            I64S(4), sc, sizeof sc,
                                            MLC_DATA_COPY);
  mlc_node_t *n = node(g, MLC_OP_Resize, "r", 3, VALS(x, NULL, scales), 1);
  infer_ok(g); /* floor(5 * 0.6) = 3, floor(4 * 2.5) = 10 */
  expect_shape(out0(n), MLC_DT_F32, 4, I64S(1, 3, 3, 10));
  mlc_graph_destroy(g);
  /* sizes on axes (3, 2) with not_smaller: scale max(6/4, 2/5) = 1.5 */
  g = new_graph();
  x = input(g, "x", MLC_DT_F32, 4, I64S(1, 3, 5, 4));
  mlc_value_t *sizes = const_i64(g, "sizes", I64S(6, 2), 2);
  n = node(g, MLC_OP_Resize, "r", 4, VALS(x, NULL, NULL, sizes), 1);
  set_ints(g, n, "axes", I64S(3, 2), 2);
  mlc_node_set_string(g, n, "keep_aspect_ratio_policy", "not_smaller");
  infer_ok(g); /* round(5 * 1.5) = 8 (half up), 4 * 1.5 = 6 */
  expect_shape(out0(n), MLC_DT_F32, 4, I64S(1, 3, 8, 6));
  mlc_graph_destroy(g);
  /* runtime scales are unsupported; both scales and sizes invalid */
  g = new_graph();
  x = input(g, "x", MLC_DT_F32, 2, I64S(2, 2));
  mlc_value_t *rs = input(g, "s", MLC_DT_F32, 1, I64S(2));
  node(g, MLC_OP_Resize, "r", 3, VALS(x, NULL, rs), 1);
  infer_fails(g, MLC_UNSUPPORTED, "'scales' is not a constant");
  g = new_graph();
  x = input(g, "x", MLC_DT_F32, 2, I64S(2, 2));
  scales = mlc_graph_add_const(g, "scales", MLC_DT_F32, 1, I64S(2), sc,
                               2 * sizeof *sc, MLC_DATA_COPY);
  sizes = const_i64(g, "sizes", I64S(4, 4), 2);
  node(g, MLC_OP_Resize, "r", 4, VALS(x, NULL, scales, sizes), 1);
  infer_fails(g, MLC_INVALID_MODEL, "exactly one of scales and sizes");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_castlike_becomes_cast),
      cmocka_unit_test(test_castlike_declared_output_mismatch),
      cmocka_unit_test(test_activations_keep_shape_and_want_float),
      cmocka_unit_test(test_convtranspose_shapes),
      cmocka_unit_test(test_resize_shapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
