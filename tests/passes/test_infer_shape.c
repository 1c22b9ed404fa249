/* infer-shapes: data movement and shape ops (Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose, Concat, Split, Slice, Gather, Expand, Tile, Pad,
 * Shape, Size, ConstantOfShape, Range), non-constant shape operands,
 * declared (value_info) shapes, and the folding done during inference
 * (Shape, Size, view ops, small constant nodes). */
#include "infer_test_util.h"

#define F32 MLC_DT_F32
#define I64 MLC_DT_I64

static void test_reshape(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(2, 3, 4));
  mlc_node_t *r1 = node(g, MLC_OP_Reshape, "r1", 2,
                        VALS(x, const_i64(g, "s1", I64S(0, -1), 2)), 1);
  mlc_node_t *r2 = node(g, MLC_OP_Reshape, "r2", 2,
                        VALS(x, const_i64(g, "s2", I64S(4, -1, 2), 3)), 1);
  mlc_value_t *e = input(g, "e", F32, 2, I64S(0, 3));
  mlc_node_t *r3 = node(g, MLC_OP_Reshape, "r3", 2,
                        VALS(e, const_i64(g, "s3", I64S(3, 0), 2)), 1);
  set_int(g, r3, "allowzero", 1);
  infer_ok(g);
  expect_shape(out0(r1), F32, 2, I64S(2, 12));
  expect_shape(out0(r2), F32, 3, I64S(4, 3, 2));
  expect_shape(out0(r3), F32, 2, I64S(3, 0));
  mlc_graph_destroy(g);
}

static void test_reshape_symbolic(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input_sym(g, "x", F32, 3, I64S(-1, 3, 4),
                             (const char *[]){"N", NULL, NULL});
  mlc_node_t *r = node(g, MLC_OP_Reshape, "r", 2,
                       VALS(x, const_i64(g, "s", I64S(0, -1), 2)), 1);
  infer_ok(g);
  expect_shape(out0(r), F32, 2, I64S(-1, 12));
  expect_sym(out0(r), 0, "N");
  mlc_graph_destroy(g);
}

static void test_reshape_errors(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 2, I64S(2, 3));
  mlc_value_t *s = input(g, "s", I64, 1, I64S(2));
  node(g, MLC_OP_Reshape, "r", 2, VALS(x, s), 1);
  infer_fails(g, MLC_UNSUPPORTED, "node 'r' (Reshape): input 1 'shape' is "
              "not a constant; mlc needs static shapes");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 3));
  node(g, MLC_OP_Reshape, "r", 2, VALS(x, const_i64(g, "s", I64S(4, -1), 2)),
       1);
  infer_fails(g, MLC_INVALID_MODEL, "cannot reshape 6 elements");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 3));
  node(g, MLC_OP_Reshape, "r", 2, VALS(x, const_i64(g, "s", I64S(-1, -1), 2)),
       1);
  infer_fails(g, MLC_INVALID_MODEL, "more than one -1");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 3));
  node(g, MLC_OP_Reshape, "r", 2, VALS(x, const_i64(g, "s", I64S(5), 1)), 1);
  infer_fails(g, MLC_INVALID_MODEL, "cannot reshape 6 elements into 5");
}

static void test_flatten_squeeze_unsqueeze(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 4, I64S(2, 1, 3, 1));
  mlc_node_t *f = node(g, MLC_OP_Flatten, "f", 1, VALS(x), 1);
  set_int(g, f, "axis", -1);
  mlc_node_t *f0 = node(g, MLC_OP_Flatten, "f0", 1, VALS(x), 1);
  set_int(g, f0, "axis", 0);
  mlc_node_t *s1 = node(g, MLC_OP_Squeeze, "s1", 1, VALS(x), 1);
  mlc_node_t *s2 = node(g, MLC_OP_Squeeze, "s2", 2,
                        VALS(x, const_i64(g, "a", I64S(-1), 1)), 1);
  mlc_node_t *u = node(g, MLC_OP_Unsqueeze, "u", 2,
                       VALS(x, const_i64(g, "b", I64S(0, -1, 3), 3)), 1);
  infer_ok(g);
  expect_shape(out0(f), F32, 2, I64S(6, 1));
  expect_shape(out0(f0), F32, 2, I64S(1, 6));
  expect_shape(out0(s1), F32, 2, I64S(2, 3));
  expect_shape(out0(s2), F32, 3, I64S(2, 1, 3));
  expect_shape(out0(u), F32, 7, I64S(1, 2, 1, 1, 3, 1, 1));
  mlc_graph_destroy(g);

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 3));
  node(g, MLC_OP_Squeeze, "sq", 2, VALS(x, const_i64(g, "a", I64S(1), 1)), 1);
  infer_fails(g, MLC_INVALID_MODEL, "cannot squeeze dim 1 of size 3");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 3));
  node(g, MLC_OP_Unsqueeze, "u", 2, VALS(x, const_i64(g, "a", I64S(1, 1), 2)),
       1);
  infer_fails(g, MLC_INVALID_MODEL, "axis 1 appears twice");
}

static void test_transpose_concat(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(2, 3, 4));
  mlc_value_t *y = input(g, "y", F32, 3, I64S(2, 5, 4));
  mlc_node_t *t1 = node(g, MLC_OP_Transpose, "t1", 1, VALS(x), 1);
  mlc_node_t *t2 = node(g, MLC_OP_Transpose, "t2", 1, VALS(x), 1);
  set_ints(g, t2, "perm", I64S(1, 0, 2), 3);
  mlc_node_t *c = node(g, MLC_OP_Concat, "c", 3, VALS(x, y, x), 1);
  set_int(g, c, "axis", -2);
  infer_ok(g);
  expect_shape(out0(t1), F32, 3, I64S(4, 3, 2));
  expect_shape(out0(t2), F32, 3, I64S(3, 2, 4));
  expect_shape(out0(c), F32, 3, I64S(2, 11, 4));
  mlc_graph_destroy(g);

  g = new_graph();
  x = input(g, "x", F32, 3, I64S(2, 3, 4));
  mlc_node_t *t = node(g, MLC_OP_Transpose, "t", 1, VALS(x), 1);
  set_ints(g, t, "perm", I64S(0, 0, 1), 3);
  infer_fails(g, MLC_INVALID_MODEL, "perm is not a permutation");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 3));
  y = input(g, "y", F32, 2, I64S(4, 4));
  c = node(g, MLC_OP_Concat, "c", 2, VALS(x, y), 1);
  set_int(g, c, "axis", 0);
  infer_fails(g, MLC_INVALID_MODEL, "input 1 'y': dim 1 is 4, expected 3");
}

static void test_split(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 2, I64S(4, 7));
  mlc_node_t *s1 = node(g, MLC_OP_Split, "s1", 2,
                        VALS(x, const_i64(g, "sp", I64S(2, 5), 2)), 2);
  set_int(g, s1, "axis", 1);
  mlc_node_t *s2 = node(g, MLC_OP_Split, "s2", 1, VALS(x), 3);
  set_int(g, s2, "axis", 1);
  set_int(g, s2, "num_outputs", 3);
  mlc_node_t *s3 = node(g, MLC_OP_Split, "s3", 1, VALS(x), 2);
  infer_ok(g);
  expect_shape(s1->outputs[0], F32, 2, I64S(4, 2));
  expect_shape(s1->outputs[1], F32, 2, I64S(4, 5));
  expect_shape(s2->outputs[0], F32, 2, I64S(4, 3));
  expect_shape(s2->outputs[1], F32, 2, I64S(4, 3));
  expect_shape(s2->outputs[2], F32, 2, I64S(4, 1));
  expect_shape(s3->outputs[1], F32, 2, I64S(2, 7));
  mlc_graph_destroy(g);

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(4, 7));
  node(g, MLC_OP_Split, "s", 2, VALS(x, const_i64(g, "sp", I64S(1, 2), 2)), 2);
  infer_fails(g, MLC_INVALID_MODEL, "split sizes sum to 3, dim is 4");
}

static mlc_node_t *slice(mlc_graph_t *g, mlc_value_t *x, const int64_t *st,
                         const int64_t *en, const int64_t *ax,
                         const int64_t *sp, int64_t n) {
  mlc_value_t *in[5] = {x, const_i64(g, "st", st, n),
                        const_i64(g, "en", en, n),
                        ax ? const_i64(g, "ax", ax, n) : NULL,
                        sp ? const_i64(g, "sp", sp, n) : NULL};
  return node(g, MLC_OP_Slice, "sl", 5, in, 1);
}

static void test_slice(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(10, 8, 6));
  mlc_node_t *a = slice(g, x, I64S(1, 0), I64S(1000, -2), I64S(0, 2),
                        I64S(3, 1), 2); /* 1..10 step 3: 3; 0..4: 4 */
  mlc_node_t *b = slice(g, x, I64S(-1), I64S(INT64_MIN), I64S(1), I64S(-2),
                        1); /* 7,5,3,1 */
  mlc_node_t *c = slice(g, x, I64S(5), I64S(2), NULL, NULL, 1); /* empty */
  mlc_node_t *d = slice(g, x, I64S(100), I64S(-100), I64S(-1), I64S(-1), 1);
  infer_ok(g);
  expect_shape(out0(a), F32, 3, I64S(3, 8, 4));
  expect_shape(out0(b), F32, 3, I64S(10, 4, 6));
  expect_shape(out0(c), F32, 3, I64S(0, 8, 6));
  expect_shape(out0(d), F32, 3, I64S(10, 8, 6)); /* 5 down to 0 */
  mlc_graph_destroy(g);

  g = new_graph();
  x = input(g, "x", F32, 1, I64S(10));
  slice(g, x, I64S(0), I64S(5), NULL, I64S(0), 1);
  infer_fails(g, MLC_INVALID_MODEL, "steps[0] is 0");

  g = new_graph();
  x = input(g, "x", F32, 1, I64S(10));
  mlc_value_t *dyn = input(g, "dyn", I64, 1, I64S(1));
  node(g, MLC_OP_Slice, "sl", 3, VALS(x, const_i64(g, "s", I64S(0), 1), dyn),
       1);
  infer_fails(g, MLC_UNSUPPORTED, "node 'sl' (Slice): input 2 'ends' is not "
              "a constant");
}

static void test_gather_expand_tile_pad(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(5, 1, 3));
  mlc_value_t *idx = input(g, "idx", MLC_DT_I32, 2, I64S(2, 4));
  mlc_node_t *ga = node(g, MLC_OP_Gather, "ga", 2, VALS(x, idx), 1);
  set_int(g, ga, "axis", 1);
  mlc_node_t *ex = node(g, MLC_OP_Expand, "ex", 2,
                        VALS(x, const_i64(g, "es", I64S(2, 1, 4, 1), 4)), 1);
  mlc_node_t *ti = node(g, MLC_OP_Tile, "ti", 2,
                        VALS(x, const_i64(g, "rp", I64S(2, 3, 1), 3)), 1);
  mlc_value_t *pv = scalar(g, "pv", F32, 0);
  mlc_node_t *pa = node(g, MLC_OP_Pad, "pa", 4,
                        VALS(x, const_i64(g, "pd", I64S(1, 2, 0, -1), 4), pv,
                             const_i64(g, "pax", I64S(0, -1), 2)),
                        1);
  infer_ok(g);
  expect_shape(out0(ga), F32, 4, I64S(5, 2, 4, 3));
  expect_shape(out0(ex), F32, 4, I64S(2, 5, 4, 3));
  expect_shape(out0(ti), F32, 3, I64S(10, 3, 3));
  expect_shape(out0(pa), F32, 3, I64S(6, 1, 4));
  mlc_graph_destroy(g);

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(5, 3));
  idx = input(g, "idx", F32, 1, I64S(2));
  node(g, MLC_OP_Gather, "ga", 2, VALS(x, idx), 1);
  infer_fails(g, MLC_INVALID_MODEL, "expected i32 or i64");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(5, 3));
  node(g, MLC_OP_Expand, "ex", 2, VALS(x, const_i64(g, "s", I64S(4, 3), 2)), 1);
  infer_fails(g, MLC_INVALID_MODEL, "node 'ex' (Expand): shapes do not "
              "broadcast");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(5, 3));
  node(g, MLC_OP_Tile, "ti", 2, VALS(x, const_i64(g, "r", I64S(2), 1)), 1);
  infer_fails(g, MLC_INVALID_MODEL, "'repeats' has 1 entries for rank 2");
}

/* ---- Shape, Size, ConstantOfShape, Range, Cast: and their folding ---- */

static void test_shape_size_fold(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 3, I64S(2, 3, 4));
  mlc_node_t *sh = node(g, MLC_OP_Shape, "sh", 1, VALS(x), 1);
  set_int(g, sh, "start", -2);
  mlc_node_t *sz = node(g, MLC_OP_Size, "sz", 1, VALS(x), 1);
  mlc_value_t *y = input(g, "y", F32, 1, I64S(12));
  mlc_node_t *r = node(g, MLC_OP_Reshape, "r", 2, VALS(y, out0(sh)), 1);
  infer_ok(g);
  expect_shape(out0(sh), I64, 1, I64S(2));
  assert_true(mlc_value_is_const(out0(sh)));
  assert_int_equal(mlc_value_const_int(out0(sh), 0), 3);
  assert_int_equal(mlc_value_const_int(out0(sh), 1), 4);
  assert_true(mlc_value_is_const(out0(sz)));
  assert_int_equal(mlc_value_const_int(out0(sz), 0), 24);
  expect_shape(out0(r), F32, 2, I64S(3, 4));
  /* Shape and Size are gone, the Reshape stays. */
  assert_int_equal(g->nodes.len, 1);
  assert_ptr_equal(g->nodes.data[0], r);
  mlc_graph_destroy(g);
}

static void test_shape_of_symbolic(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input_sym(g, "x", F32, 2, I64S(-1, 3),
                             (const char *[]){"N", NULL});
  mlc_node_t *sh = node(g, MLC_OP_Shape, "sh", 1, VALS(x), 1);
  mlc_node_t *tail = node(g, MLC_OP_Shape, "tail", 1, VALS(x), 1);
  set_int(g, tail, "start", 1);
  mlc_value_t *y = input(g, "y", F32, 1, I64S(6));
  node(g, MLC_OP_Reshape, "r", 2, VALS(y, out0(sh)), 1);
  mlc_status_t *st = infer(g);
  assert_non_null(st); /* the full shape is not constant */
  assert_non_null(strstr(mlc_status_message(st), "input 1 'shape' is not a "
                                                  "constant"));
  mlc_status_free(st);
  assert_false(mlc_value_is_const(out0(sh)));
  assert_true(mlc_value_is_const(out0(tail))); /* [3] is known */
  assert_int_equal(mlc_value_const_int(out0(tail), 0), 3);
  mlc_graph_destroy(g);
}

static void test_view_fold_chain(void **state) {
  (void)state;
  /* Shape -> Unsqueeze -> Squeeze -> Reshape: views of constants fold
   * without the lowering, so the last Reshape sees a constant shape. */
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 2, I64S(6, 2));
  mlc_node_t *sh = node(g, MLC_OP_Shape, "sh", 1, VALS(x), 1);
  mlc_node_t *un = node(g, MLC_OP_Unsqueeze, "un", 2,
                        VALS(out0(sh), const_i64(g, "a0", I64S(0), 1)), 1);
  mlc_node_t *sq = node(g, MLC_OP_Squeeze, "sq", 2,
                        VALS(out0(un), const_i64(g, "a1", I64S(0), 1)), 1);
  mlc_value_t *y = input(g, "y", F32, 2, I64S(3, 4));
  mlc_node_t *r = node(g, MLC_OP_Reshape, "r", 2, VALS(y, out0(sq)), 1);
  infer_ok(g);
  expect_shape(out0(un), I64, 2, I64S(1, 2));
  assert_true(mlc_value_is_const(out0(sq)));
  assert_int_equal(mlc_value_const_int(out0(sq), 0), 6);
  expect_shape(out0(r), F32, 2, I64S(6, 2));
  assert_int_equal(g->nodes.len, 1);
  mlc_graph_destroy(g);
}

static void test_const_of_shape_range(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_node_t *c1 = node(g, MLC_OP_ConstantOfShape, "c1", 1,
                        VALS(const_i64(g, "s", I64S(2, 3), 2)), 1);
  mlc_node_t *c2 = node(g, MLC_OP_ConstantOfShape, "c2", 1,
                        VALS(const_i64(g, "s2", I64S(4), 1)), 1);
  int64_t one = 1;
  int32_t seven = 7;
  mlc_tensor_t t = {.dtype = MLC_DT_I32, .rank = 1, .dims = &one,
                    .data = &seven, .nbytes = 4};
  mlc_attr_t a = {.name = "value", .kind = MLC_ATTR_TENSOR, .t = &t};
  assert_true(mlc_node_set_attr(g, c2, &a));
  mlc_node_t *r1 = node(g, MLC_OP_Range, "r1", 3,
                        VALS(scalar(g, "a", I64, 10), scalar(g, "b", I64, 1),
                             scalar(g, "c", I64, -3)), 1); /* 10 7 4 */
  mlc_node_t *r2 = node(g, MLC_OP_Range, "r2", 3,
                        VALS(scalar(g, "d", F32, 0), scalar(g, "e", F32, 1),
                             scalar(g, "f", F32, 0.3)), 1); /* 4 */
  mlc_node_t *r3 = node(g, MLC_OP_Range, "r3", 3,
                        VALS(scalar(g, "g", I64, 5), scalar(g, "h", I64, 1),
                             scalar(g, "i", I64, 2)), 1); /* empty */
  infer_ok(g);
  expect_shape(out0(c1), F32, 2, I64S(2, 3));
  expect_shape(out0(c2), MLC_DT_I32, 1, I64S(4));
  expect_shape(out0(r1), I64, 1, I64S(3));
  expect_shape(out0(r2), F32, 1, I64S(4));
  expect_shape(out0(r3), I64, 1, I64S(0));
  /* All small and constant: folded through the lowering. */
  assert_true(mlc_value_is_const(out0(c2)));
  assert_int_equal(mlc_value_const_int(out0(c2), 3), 7);
  assert_true(mlc_value_is_const(out0(r1)));
  assert_int_equal(mlc_value_const_int(out0(r1), 2), 4);
  assert_int_equal(g->nodes.len, 0);
  mlc_graph_destroy(g);

  g = new_graph();
  mlc_value_t *lim = input(g, "lim", I64, 0, NULL);
  node(g, MLC_OP_Range, "r", 3,
       VALS(scalar(g, "a", I64, 0), lim, scalar(g, "c", I64, 1)), 1);
  infer_fails(g, MLC_UNSUPPORTED, "node 'r' (Range): input 1 'limit' is not "
              "a constant");

  g = new_graph();
  node(g, MLC_OP_ConstantOfShape, "c", 1,
       VALS(const_i64(g, "s", I64S(2, -3), 2)), 1);
  infer_fails(g, MLC_INVALID_MODEL, "'input'[1] = -3");
}

/* ---- shapes declared by the model ---- */

static void test_declared_shapes(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = input(g, "x", F32, 2, I64S(2, 4));
  mlc_value_t *out = mlc_graph_add_value_static(g, "o", F32, 2, I64S(2, 5));
  mlc_graph_add_node(g, MLC_OP_Relu, "relu", 1, VALS(x), 1, VALS(out));
  infer_fails(g, MLC_INVALID_MODEL, "node 'relu' (Relu): output 0 'o': dim 1 "
              "is declared 5 but is 4");

  g = new_graph();
  x = input(g, "x", F32, 2, I64S(2, 4));
  out = mlc_graph_add_value_static(g, "o", MLC_DT_F16, 2, I64S(2, 4));
  mlc_graph_add_node(g, MLC_OP_Relu, "relu", 1, VALS(x), 1, VALS(out));
  infer_fails(g, MLC_INVALID_MODEL, "declared f16 but computes f32");

  /* A declared dim the inference cannot know is kept; a declared
   * symbolic dim the inference resolves is replaced. */
  g = new_graph();
  x = input_sym(g, "x", F32, 2, I64S(-1, 4), (const char *[]){"N", NULL});
  mlc_value_t *o = mlc_graph_add_value(
      g, "o", F32, 2, (mlc_dim_t[]){{7, NULL}, {-1, "K"}});
  mlc_graph_add_node(g, MLC_OP_Relu, "relu", 1, VALS(x), 1, VALS(o));
  infer_ok(g);
  expect_shape(o, F32, 2, I64S(7, 4));
  expect_sym(o, 1, NULL);
  mlc_graph_destroy(g);
}

static void test_unknown_rank_input(void **state) {
  (void)state;
  mlc_graph_t *g = new_graph();
  mlc_value_t *x = mlc_graph_add_value(g, "x", F32, -1, NULL);
  node(g, MLC_OP_Relu, "relu", 1, VALS(x), 1);
  infer_fails(g, MLC_UNSUPPORTED, "input 0 'x' has an unknown rank");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reshape),
      cmocka_unit_test(test_reshape_symbolic),
      cmocka_unit_test(test_reshape_errors),
      cmocka_unit_test(test_flatten_squeeze_unsqueeze),
      cmocka_unit_test(test_transpose_concat),
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_slice),
      cmocka_unit_test(test_gather_expand_tile_pad),
      cmocka_unit_test(test_shape_size_fold),
      cmocka_unit_test(test_shape_of_symbolic),
      cmocka_unit_test(test_view_fold_chain),
      cmocka_unit_test(test_const_of_shape_range),
      cmocka_unit_test(test_declared_shapes),
      cmocka_unit_test(test_unknown_rank_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
