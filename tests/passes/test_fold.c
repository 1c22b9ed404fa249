/* Constant folding with the real lowering and tile interpreter: the
 * exporter shape chain Shape -> Gather -> Unsqueeze -> Concat -> Reshape
 * (with Mul, Cast, Div, Equal, Where, ConstantOfShape, Range, Slice on
 * the way) folds away during infer-shapes, and fold-constants evaluates
 * large weight arithmetic that inference left alone. */
#include "infer_test_util.h"

#include "passes/fold.h"

#define F32 MLC_DT_F32
#define I64 MLC_DT_I64

static mlc_node_t *gather0(mlc_graph_t *g, const char *name, mlc_value_t *v,
                           int64_t i) {
  return node(g, MLC_OP_Gather, name, 2, VALS(v, scalar(g, "i", I64, (double)i)),
              1);
}

static mlc_node_t *unsq0(mlc_graph_t *g, const char *name, mlc_value_t *v) {
  return node(g, MLC_OP_Unsqueeze, name, 2,
              VALS(v, const_i64(g, "ax0", I64S(0), 1)), 1);
}

static void expect_i64s(const mlc_value_t *v, const int64_t *want, int n) {
  assert_true(mlc_value_is_const(v));
  assert_int_equal(mlc_value_numel(v), n);
  for (int i = 0; i < n; i++)
    assert_int_equal(mlc_value_const_int(v, i), want[i]);
}

static void test_exporter_shape_chain(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input_sym(g, "x", F32, 3, I64S(2, 3, 4),
                             (const char *[]){"N", NULL, NULL});
  mlc_node_t *sh = node(g, MLC_OP_Shape, "sh", 1, VALS(x), 1);
  mlc_node_t *g0 = gather0(g, "g0", out0(sh), 0);
  mlc_node_t *g1 = gather0(g, "g1", out0(sh), 1);
  mlc_node_t *g2 = gather0(g, "g2", out0(sh), 2);
  mlc_node_t *mul = node(g, MLC_OP_Mul, "mul", 2, VALS(out0(g1), out0(g2)), 1);
  mlc_node_t *u0 = unsq0(g, "u0", out0(g0));
  mlc_node_t *u1 = unsq0(g, "u1", out0(mul));
  mlc_node_t *cat = node(g, MLC_OP_Concat, "cat", 2, VALS(out0(u0), out0(u1)),
                         1);
  set_int(g, cat, "axis", 0);
  mlc_node_t *r1 = node(g, MLC_OP_Reshape, "r1", 2, VALS(x, out0(cat)), 1);
  /* Where(Equal(cat, [2, 0]), -1, cat) = [-1, 12] */
  mlc_node_t *eq = node(g, MLC_OP_Equal, "eq", 2,
                        VALS(out0(cat), const_i64(g, "k", I64S(2, 0), 2)), 1);
  mlc_node_t *cos = node(g, MLC_OP_ConstantOfShape, "cos", 1, VALS(out0(u0)),
                         1);
  int64_t one = 1, minus1 = -1;
  mlc_tensor_t t = {.dtype = I64, .rank = 1, .dims = &one, .data = &minus1,
                    .nbytes = 8};
  mlc_attr_t a = {.name = "value", .kind = MLC_ATTR_TENSOR, .t = &t};
  assert_true(mlc_node_set_attr(g, cos, &a));
  mlc_node_t *wh = node(g, MLC_OP_Where, "wh", 3,
                        VALS(out0(eq), out0(cos), out0(cat)), 1);
  mlc_node_t *r2 = node(g, MLC_OP_Reshape, "r2", 2, VALS(x, out0(wh)), 1);
  /* Cast -> Div -> Cast: 12 / 4 = 3; Range(0, 3, 1) -> Slice [1:] -> [1, 2] */
  mlc_node_t *cf = node(g, MLC_OP_Cast, "cf", 1, VALS(out0(mul)), 1);
  set_int(g, cf, "to", F32);
  mlc_node_t *dv = node(g, MLC_OP_Div, "dv", 2,
                        VALS(out0(cf), scalar(g, "four", F32, 4)), 1);
  mlc_node_t *ci = node(g, MLC_OP_Cast, "ci", 1, VALS(out0(dv)), 1);
  set_int(g, ci, "to", I64);
  mlc_node_t *rg = node(g, MLC_OP_Range, "rg", 3,
                        VALS(scalar(g, "z", I64, 0), out0(ci),
                             scalar(g, "o", I64, 1)), 1);
  mlc_node_t *sl = node(g, MLC_OP_Slice, "sl", 3,
                        VALS(out0(rg), const_i64(g, "s", I64S(1), 1),
                             const_i64(g, "e", I64S(INT64_MAX), 1)), 1);
  mlc_value_t *y = input(g, "y", F32, 1, I64S(2));
  mlc_node_t *r3 = node(g, MLC_OP_Reshape, "r3", 2, VALS(y, out0(sl)), 1);
  infer_ok(g);
  expect_i64s(out0(cat), I64S(2, 12), 2);
  expect_i64s(out0(wh), I64S(-1, 12), 2);
  expect_i64s(out0(sl), I64S(1, 2), 2);
  expect_shape(out0(r1), F32, 2, I64S(2, 12));
  expect_shape(out0(r2), F32, 2, I64S(2, 12));
  expect_shape(out0(r3), F32, 2, I64S(1, 2));
  assert_int_equal(g->nodes.len, 3); /* only the three Reshapes are left */
  for (size_t i = 0; i < g->nodes.len; i++)
    assert_int_equal(g->nodes.data[i]->op, MLC_OP_Reshape);
  mlc_graph_destroy(g);
}

static mlc_value_t *const_f32(mlc_graph_t *g, const char *name, int rank,
                              const int64_t *dims, const float *v, size_t n) {
  mlc_value_t *c = mlc_graph_add_const(g, name, F32, rank, dims, v,
                                       n * sizeof *v, MLC_DATA_COPY);
  assert_non_null(c);
  return c;
}

static void test_fold_constants_pass(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  /* Weight transpose and BatchNorm-style parameter arithmetic. */
  mlc_value_t *w = const_f32(g, "w", 2, I64S(2, 3),
                             (const float[]){1, 2, 3, 4, 5, 6}, 6);
  mlc_node_t *tr = node(g, MLC_OP_Transpose, "tr", 1, VALS(w), 1);
  mlc_value_t *var = const_f32(g, "var", 1, I64S(2), (const float[]){3, 15}, 2);
  mlc_value_t *sc = const_f32(g, "sc", 1, I64S(2), (const float[]){4, 8}, 2);
  mlc_node_t *ad = node(g, MLC_OP_Add, "ad", 2,
                        VALS(var, scalar(g, "eps", F32, 1)), 1);
  mlc_node_t *sq = node(g, MLC_OP_Sqrt, "sq", 1, VALS(out0(ad)), 1);
  mlc_node_t *dv = node(g, MLC_OP_Div, "dv", 2, VALS(sc, out0(sq)), 1);
  mlc_value_t *x = input(g, "x", F32, 2, I64S(4, 3));
  mlc_node_t *mm = node(g, MLC_OP_MatMul, "mm", 2, VALS(x, out0(tr)), 1);
  mlc_node_t *ar = node(g, MLC_OP_AllReduce, "ar", 1, VALS(sc), 1);
  mlc_pass_ctx_t ctx = {.fold_max_elems = 1}; /* infer folds nothing here */
  mlc_status_t *st = mlc_pass_infer_shapes.run(&ctx, g);
  if (st) fail_msg("%s", mlc_status_message(st));
  assert_int_equal(g->nodes.len, 6);
  assert_false(mlc_value_is_const(out0(tr)));
  st = mlc_pass_fold_constants.run(&ctx, g);
  if (st) fail_msg("%s", mlc_status_message(st));
  assert_int_equal(g->nodes.len, 2); /* MatMul and the collective */
  assert_ptr_equal(g->nodes.data[0], mm);
  assert_ptr_equal(g->nodes.data[1], ar);
  const float *t = out0(tr)->data;
  const float want_t[] = {1, 4, 2, 5, 3, 6};
  for (int i = 0; i < 6; i++) assert_float_equal(t[i], want_t[i], 0);
  const float *d = out0(dv)->data;
  assert_float_equal(d[0], 2.0f, 1e-6);
  assert_float_equal(d[1], 2.0f, 1e-6);
  mlc_graph_destroy(g);
}

static void test_fold_does_not_grow_weights(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_node_t *big = node(g, MLC_OP_ConstantOfShape, "big", 1,
                         VALS(const_i64(g, "s", I64S(4, 5), 2)), 1);
  mlc_node_t *small = node(g, MLC_OP_ConstantOfShape, "small", 1,
                           VALS(const_i64(g, "t", I64S(2, 2), 2)), 1);
  mlc_pass_ctx_t ctx = {.fold_max_elems = 8};
  assert_null(mlc_pass_infer_shapes.run(&ctx, g));
  assert_null(mlc_pass_fold_constants.run(&ctx, g));
  assert_false(mlc_value_is_const(out0(big))); /* 20 > max(8, 2) */
  assert_true(mlc_value_is_const(out0(small)));
  assert_int_equal(g->nodes.len, 1);
  mlc_graph_destroy(g);
}

static void test_fold_node_reports(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *a = const_i64(g, "a", I64S(1, 2, 3), 3);
  mlc_value_t *x = input(g, "x", I64, 1, I64S(3));
  mlc_node_t *add = node(g, MLC_OP_Add, "add", 2, VALS(a, a), 1);
  mlc_node_t *dyn = node(g, MLC_OP_Add, "dyn", 2, VALS(a, x), 1);
  mlc_pass_ctx_t ctx = {.fold_max_elems = 1};
  assert_null(mlc_pass_infer_shapes.run(&ctx, g));
  bool folded = true;
  assert_null(mlc_fold_node(&ctx, g, dyn, &folded));
  assert_false(folded);
  assert_false(dyn->dead);
  assert_null(mlc_fold_node(&ctx, g, add, &folded));
  assert_true(folded);
  assert_true(add->dead);
  expect_i64s(out0(add), I64S(2, 4, 6), 3);
  mlc_graph_destroy(g);

  /* A graph input with a default value may be overridden: not folded. */
  g = new_graph();
  x = input(g, "x", I64, 1, I64S(3));
  assert_null(mlc_value_set_const(g, x, I64S(1, 2, 3), 24, MLC_DATA_COPY));
  add = node(g, MLC_OP_Add, "add", 2, VALS(x, x), 1);
  assert_null(mlc_pass_infer_shapes.run(&ctx, g));
  assert_null(mlc_pass_fold_constants.run(&ctx, g));
  assert_false(add->dead);
  assert_false(mlc_value_is_const(out0(add)));
  mlc_graph_destroy(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exporter_shape_chain),
      cmocka_unit_test(test_fold_constants_pass),
      cmocka_unit_test(test_fold_does_not_grow_weights),
      cmocka_unit_test(test_fold_node_reports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
