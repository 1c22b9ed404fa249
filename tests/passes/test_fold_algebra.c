/* fold-constants' algebraic clean-ups: no-op nodes are bypassed (x+0,
 * x*1, same-dtype Cast, identity Transpose, shape-preserving views), view
 * chains and Transpose pairs merge, and nothing that broadens a shape or
 * produces a graph output is bypassed. */
#include "infer_test_util.h"

#define F32 MLC_DT_F32

static void run_both(mlc_graph_t *g) {
  mlc_pass_ctx_t ctx = {0};
  mlc_status_t *st = mlc_pass_infer_shapes.run(&ctx, g);
  if (!st) st = mlc_pass_fold_constants.run(&ctx, g);
  if (st) fail_msg("%s", mlc_status_message(st));
}

static void mark_output(mlc_graph_t *g, mlc_value_t *v) {
  v->flags |= MLC_VALUE_OUTPUT;
  assert_true(MLC_VEC_PUSH(&g->outputs, v));
}

static void test_neutral_elements(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 2, I64S(2, 3));
  mlc_node_t *add = node(g, MLC_OP_Add, "add", 2,
                         VALS(scalar(g, "z", F32, 0), x), 1);
  mlc_node_t *mul = node(g, MLC_OP_Mul, "mul", 2,
                         VALS(out0(add), scalar(g, "o", F32, 1)), 1);
  mlc_node_t *cast = node(g, MLC_OP_Cast, "cast", 1, VALS(out0(mul)), 1);
  set_int(g, cast, "to", F32);
  mlc_node_t *id = node(g, MLC_OP_Identity, "id", 1, VALS(out0(cast)), 1);
  mlc_node_t *relu = node(g, MLC_OP_Relu, "relu", 1, VALS(out0(id)), 1);
  /* x[3] * ones[2,3] broadens x: must stay */
  mlc_value_t *v = input(g, "v", F32, 1, I64S(3));
  float ones[6] = {1, 1, 1, 1, 1, 1};
  mlc_value_t *o6 = mlc_graph_add_const(g, "o6", F32, 2, I64S(2, 3), ones,
                                        sizeof ones, MLC_DATA_COPY);
  mlc_node_t *wide = node(g, MLC_OP_Mul, "wide", 2, VALS(v, o6), 1);
  /* x - 2 is no no-op */
  mlc_node_t *sub = node(g, MLC_OP_Sub, "sub", 2,
                         VALS(x, scalar(g, "two", F32, 2)), 1);
  run_both(g);
  assert_ptr_equal(relu->inputs[0], x);
  assert_int_equal(g->nodes.len, 3);
  assert_ptr_equal(g->nodes.data[0], relu);
  assert_ptr_equal(g->nodes.data[1], wide);
  assert_ptr_equal(g->nodes.data[2], sub);
  mlc_graph_destroy(g);
}

static void test_graph_output_kept(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 2, I64S(2, 3));
  mlc_node_t *id = node(g, MLC_OP_Identity, "id", 1, VALS(x), 1);
  mark_output(g, out0(id));
  run_both(g);
  assert_int_equal(g->nodes.len, 1);
  assert_ptr_equal(g->outputs.data[0], out0(id));
  mlc_graph_destroy(g);
}

static void test_view_chain(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 2, I64S(2, 6));
  mlc_node_t *u = node(g, MLC_OP_Unsqueeze, "u", 2,
                       VALS(x, const_i64(g, "a", I64S(0), 1)), 1);
  mlc_node_t *f = node(g, MLC_OP_Flatten, "f", 1, VALS(out0(u)), 1);
  set_int(g, f, "axis", 2);
  mlc_node_t *r = node(g, MLC_OP_Reshape, "r", 2,
                       VALS(out0(f), const_i64(g, "s", I64S(3, 4), 2)), 1);
  mark_output(g, out0(r));
  run_both(g);
  /* f became Reshape(x, [2, 6]) == x's shape and was bypassed; r reads x */
  assert_int_equal(r->op, MLC_OP_Reshape);
  assert_ptr_equal(r->inputs[0], x);
  assert_int_equal(mlc_value_const_int(r->inputs[1], 0), 3);
  assert_int_equal(mlc_value_const_int(r->inputs[1], 1), 4);
  expect_shape(out0(r), F32, 2, I64S(3, 4));
  mlc_graph_destroy(g);
}

static void test_transpose_pairs(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(2, 3, 4));
  mlc_node_t *t1 = node(g, MLC_OP_Transpose, "t1", 1, VALS(x), 1);
  set_ints(g, t1, "perm", I64S(1, 2, 0), 3);
  mlc_node_t *t2 = node(g, MLC_OP_Transpose, "t2", 1, VALS(out0(t1)), 1);
  set_ints(g, t2, "perm", I64S(2, 0, 1), 3); /* undoes t1 */
  mlc_node_t *t3 = node(g, MLC_OP_Transpose, "t3", 1, VALS(out0(t1)), 1);
  set_ints(g, t3, "perm", I64S(1, 0, 2), 3);
  mlc_node_t *a = node(g, MLC_OP_Relu, "a", 1, VALS(out0(t2)), 1);
  mlc_node_t *b = node(g, MLC_OP_Relu, "b", 1, VALS(out0(t3)), 1);
  run_both(g);
  assert_ptr_equal(a->inputs[0], x);
  assert_ptr_equal(t3->inputs[0], x);
  const int64_t *p;
  assert_int_equal(mlc_node_attr_ints(t3, "perm", &p), 3);
  assert_int_equal(p[0], 2); /* t3(t1(x)) = x.transpose(2, 1, 0) */
  assert_int_equal(p[1], 1);
  assert_int_equal(p[2], 0);
  expect_shape(out0(t3), F32, 3, I64S(4, 3, 2));
  assert_ptr_equal(b->inputs[0], out0(t3));
  mlc_graph_destroy(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_neutral_elements),
      cmocka_unit_test(test_graph_output_kept),
      cmocka_unit_test(test_view_chain),
      cmocka_unit_test(test_transpose_pairs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
