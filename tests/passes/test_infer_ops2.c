/* Shape inference of the ops added on the ops2 branch: CastLike becomes a
 * Cast to its second input's dtype; the new activations keep dtype and
 * shape and refuse integer inputs (Shrink accepts them). */
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_castlike_becomes_cast),
      cmocka_unit_test(test_castlike_declared_output_mismatch),
      cmocka_unit_test(test_activations_keep_shape_and_want_float),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
