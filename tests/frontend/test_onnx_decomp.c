/* Frontend decompositions (frontend/onnx_decomp.c): training-mode
 * BatchNormalization, the Reduce* ops built on ReduceSum, RMSNormalization,
 * LpNormalization, Group/InstanceNormalization, and CastLike's
 * import as its own core op.  Checks the nodes the importer adds, their
 * wiring, constants and attributes; the numbers are checked end to end by
 * the node conformance cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "onnx_builder.h"

static mlc_graph_t *import_ok(tb_t *b, Onnx__ModelProto *m) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = tb_import(b, m, &g);
  if (st) fail_msg("import failed: %s", mlc_status_message(st));
  return g;
}

static void expect_ops(const mlc_graph_t *g, int n, const mlc_op_t *ops) {
  assert_int_equal((int)g->nodes.len, n);
  for (int i = 0; i < n; i++)
    if (g->nodes.data[i]->op != ops[i])
      fail_msg("node %d is %s, expected %s", i,
               mlc_op_name(g->nodes.data[i]->op), mlc_op_name(ops[i]));
}

static void expect_i64s(const mlc_value_t *v, int64_t n, const int64_t *want) {
  assert_non_null(v);
  assert_true(mlc_value_is_const(v));
  assert_int_equal(mlc_value_numel(v), n);
  for (int64_t i = 0; i < n; i++)
    assert_int_equal(mlc_value_const_int(v, i), want[i]);
}

static Onnx__ModelProto *bn_model(tb_t *b, int opset, const char *xshape,
                                  Onnx__NodeProto **bn) {
  Onnx__ModelProto *m = tb_model(b, 8, opset);
  tb_input(b, m, "x", 1, xshape);
  static const char *const p[] = {"s", "bb", "mu", "var"};
  for (int i = 0; i < 4; i++) tb_input(b, m, p[i], 1, "2");
  *bn = tb_node(b, m, "BatchNormalization", "bn", "x,s,bb,mu,var",
                "y,rm,rv");
  tb_attr_i(b, *bn, "training_mode", 1);
  tb_output(b, m, "y", 1, NULL);
  tb_output(b, m, "rm", 1, NULL);
  tb_output(b, m, "rv", 1, NULL);
  return m;
}

static void test_bn_training_nodes(void **state) {
  (void)state;
  tb_t b = {0};
  Onnx__NodeProto *bn;
  Onnx__ModelProto *m = bn_model(&b, 15, "4,2,3,5", &bn);
  tb_attr_f(&b, bn, "momentum", 0.75f);
  tb_attr_f(&b, bn, "epsilon", 0.01f);
  mlc_graph_t *g = import_ok(&b, m);
  expect_ops(g, 12, (const mlc_op_t[]){
      MLC_OP_ReduceMean, MLC_OP_Unsqueeze, MLC_OP_Sub, MLC_OP_Mul,
      MLC_OP_ReduceMean, MLC_OP_Mul, MLC_OP_Mul, MLC_OP_Add, MLC_OP_Mul,
      MLC_OP_Mul, MLC_OP_Add, MLC_OP_BatchNormalization});
  mlc_node_t **nd = g->nodes.data;
  /* batch statistics over every axis but 1, not kept */
  assert_string_equal(nd[0]->inputs[0]->name, "x");
  expect_i64s(nd[0]->inputs[1], 3, (const int64_t[]){0, 2, 3});
  assert_int_equal(mlc_node_attr_int(nd[0], "keepdims", 1), 0);
  assert_ptr_equal(nd[2]->inputs[1], nd[1]->outputs[0]);
  assert_ptr_equal(nd[3]->inputs[0], nd[2]->outputs[0]);
  assert_ptr_equal(nd[3]->inputs[1], nd[2]->outputs[0]);
  assert_ptr_equal(nd[4]->inputs[0], nd[3]->outputs[0]);
  /* running_mean = mu * 0.75 + mean * 0.25 */
  assert_string_equal(nd[5]->inputs[0]->name, "mu");
  assert_true(mlc_value_const_float(nd[5]->inputs[1], 0) == 0.75);
  assert_ptr_equal(nd[6]->inputs[0], nd[0]->outputs[0]);
  assert_true(mlc_value_const_float(nd[6]->inputs[1], 0) == 0.25);
  assert_string_equal(nd[7]->outputs[0]->name, "rm");
  assert_string_equal(nd[8]->inputs[0]->name, "var");
  assert_ptr_equal(nd[9]->inputs[0], nd[4]->outputs[0]);
  assert_string_equal(nd[10]->outputs[0]->name, "rv");
  /* Y: inference BatchNormalization on the batch statistics */
  mlc_node_t *y = nd[11];
  assert_int_equal(y->noutputs, 1);
  assert_string_equal(y->outputs[0]->name, "y");
  assert_ptr_equal(y->inputs[3], nd[0]->outputs[0]);
  assert_ptr_equal(y->inputs[4], nd[4]->outputs[0]);
  assert_null(mlc_node_attr(y, "training_mode"));
  assert_null(mlc_node_attr(y, "momentum"));
  assert_true(mlc_node_attr_float(y, "epsilon", 0) == 0.01f);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void expect_unsupported(tb_t *b, Onnx__ModelProto *m, const char *sub) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = tb_import(b, m, &g);
  assert_int_equal(mlc_status_code(st), MLC_UNSUPPORTED);
  if (!strstr(mlc_status_message(st), sub))
    fail_msg("'%s' lacks '%s'", mlc_status_message(st), sub);
  mlc_status_free(st);
}

static void test_bn_training_declines(void **state) {
  (void)state;
  tb_t b = {0};
  Onnx__NodeProto *bn;
  expect_unsupported(&b, bn_model(&b, 9, "4,2,3", &bn), "training_mode=1");
  expect_unsupported(&b, bn_model(&b, 14, NULL, &bn), "unknown rank");
  tb_free(&b);
}

/* One Reduce* node on x[2,3,4]; axes as an attribute before opset 18. */
static mlc_graph_t *reduce_graph(tb_t *b, const char *op, int opset) {
  Onnx__ModelProto *m = tb_model(b, 8, opset);
  tb_input(b, m, "x", 1, "2,3,4");
  Onnx__NodeProto *n;
  if (opset < 18) {
    n = tb_node(b, m, op, "r", "x", "y");
    tb_attr_ints(b, n, "axes", 1, (const int64_t[]){1});
  } else {
    Onnx__TensorProto *ax = tb_tensor(b, "axes", 7, 1, (const int64_t[]){1});
    tb_raw(b, ax, (const int64_t[]){1}, 8);
    tb_init(b, m, ax);
    n = tb_node(b, m, op, "r", "x,axes", "y");
  }
  tb_attr_i(b, n, "keepdims", 0);
  tb_output(b, m, "y", 1, NULL);
  return import_ok(b, m);
}

static void test_reduce_via_sum(void **state) {
  (void)state;
  static const struct {
    const char *op;
    int opset;
    mlc_op_t pre, post; /* MLC_OP_COUNT_: none */
  } cases[] = {
      {"ReduceSumSquare", 13, MLC_OP_Mul, MLC_OP_COUNT_},
      {"ReduceL1", 18, MLC_OP_Abs, MLC_OP_COUNT_},
      {"ReduceL2", 11, MLC_OP_Mul, MLC_OP_Sqrt},
      {"ReduceLogSum", 18, MLC_OP_COUNT_, MLC_OP_Log},
      {"ReduceLogSumExp", 13, MLC_OP_Exp, MLC_OP_Log},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    tb_t b = {0};
    mlc_graph_t *g = reduce_graph(&b, cases[i].op, cases[i].opset);
    mlc_op_t ops[3];
    int n = 0;
    if (cases[i].pre != MLC_OP_COUNT_) ops[n++] = cases[i].pre;
    ops[n++] = MLC_OP_ReduceSum;
    if (cases[i].post != MLC_OP_COUNT_) ops[n++] = cases[i].post;
    expect_ops(g, n, ops);
    int s = cases[i].pre != MLC_OP_COUNT_;
    mlc_node_t *sum = g->nodes.data[s];
    expect_i64s(sum->inputs[1], 1, (const int64_t[]){1});
    assert_int_equal(mlc_node_attr_int(sum, "keepdims", 1), 0);
    assert_string_equal(g->nodes.data[n - 1]->outputs[0]->name, "y");
    /* Every step names the ONNX op; the strings outlive the ModelProto
     * (they once pointed into it: use after free under ASan). */
    for (int k = 0; k < n; k++)
      assert_string_equal(g->nodes.data[k]->onnx_op, cases[i].op);
    if (s) {
      mlc_node_t *pre = g->nodes.data[0];
      assert_string_equal(pre->inputs[0]->name, "x");
      if (cases[i].pre == MLC_OP_Mul)
        assert_ptr_equal(pre->inputs[1], pre->inputs[0]);
      assert_ptr_equal(sum->inputs[0], pre->outputs[0]);
    }
    if (cases[i].post != MLC_OP_COUNT_) {
      mlc_node_t *post = g->nodes.data[n - 1];
      assert_int_equal(post->ninputs, 1);
      assert_ptr_equal(post->inputs[0], sum->outputs[0]);
      assert_int_equal(post->nattrs, 0);
    }
    mlc_graph_destroy(g);
    tb_free(&b);
  }
}

static void test_castlike_import(void **state) {
  (void)state;
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 19);
  tb_input(&b, m, "x", 1, "3");
  tb_input(&b, m, "like", 10, "1");
  Onnx__NodeProto *n = tb_node(&b, m, "CastLike", "c", "x,like", "y");
  tb_attr_i(&b, n, "saturate", 0);
  tb_output(&b, m, "y", 10, NULL);
  mlc_graph_t *g = import_ok(&b, m);
  expect_ops(g, 1, (const mlc_op_t[]){MLC_OP_CastLike});
  assert_int_equal(g->nodes.data[0]->ninputs, 2);
  assert_int_equal(mlc_node_attr_int(g->nodes.data[0], "saturate", 1), 0);
  mlc_graph_destroy(g);
  tb_free(&b);
  m = tb_model(&b, 8, 13);
  tb_input(&b, m, "x", 1, "3");
  tb_input(&b, m, "like", 10, "1");
  tb_node(&b, m, "CastLike", "c", "x,like", "y");
  tb_output(&b, m, "y", 10, NULL);
  expect_unsupported(&b, m, "needs opset 15");
  tb_free(&b);
}

static void test_rmsnorm_nodes(void **state) {
  (void)state;
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 23);
  tb_input(&b, m, "x", 10, "2,3,4"); /* f16 */
  tb_input(&b, m, "s", 10, "4");
  Onnx__NodeProto *n = tb_node(&b, m, "RMSNormalization", "rn", "x,s", "y");
  tb_attr_i(&b, n, "axis", -2);
  tb_attr_f(&b, n, "epsilon", 0.125f);
  tb_output(&b, m, "y", 10, NULL);
  mlc_graph_t *g = import_ok(&b, m);
  expect_ops(g, 8, (const mlc_op_t[]){
      MLC_OP_Cast, MLC_OP_Mul, MLC_OP_ReduceMean, MLC_OP_Add, MLC_OP_Sqrt,
      MLC_OP_Div, MLC_OP_CastLike, MLC_OP_Mul});
  mlc_node_t **nd = g->nodes.data;
  assert_int_equal(mlc_node_attr_int(nd[0], "to", 0), MLC_DT_F32);
  expect_i64s(nd[2]->inputs[1], 2, (const int64_t[]){-2, -1});
  assert_int_equal(mlc_node_attr_int(nd[2], "keepdims", 0), 1);
  assert_int_equal(nd[3]->inputs[1]->dtype, MLC_DT_F32);
  assert_true(mlc_value_const_float(nd[3]->inputs[1], 0) == 0.125);
  assert_ptr_equal(nd[5]->inputs[0], nd[0]->outputs[0]);
  assert_string_equal(nd[6]->inputs[1]->name, "x");
  assert_ptr_equal(nd[7]->inputs[0], nd[6]->outputs[0]);
  assert_string_equal(nd[7]->inputs[1]->name, "s");
  assert_string_equal(nd[7]->outputs[0]->name, "y");
  assert_int_equal(nd[7]->nattrs, 0);
  mlc_graph_destroy(g);
  tb_free(&b);
  /* a non-negative axis needs the rank */
  m = tb_model(&b, 8, 23);
  tb_input(&b, m, "x", 1, NULL);
  tb_input(&b, m, "s", 1, "4");
  n = tb_node(&b, m, "RMSNormalization", "rn", "x,s", "y");
  tb_attr_i(&b, n, "axis", 1);
  tb_output(&b, m, "y", 1, NULL);
  expect_unsupported(&b, m, "unknown rank");
  tb_free(&b);
}

static void test_lpnorm_nodes(void **state) {
  (void)state;
  for (int p = 1; p <= 3; p++) {
    tb_t b = {0};
    Onnx__ModelProto *m = tb_model(&b, 8, 13);
    tb_input(&b, m, "x", 1, "2,3");
    Onnx__NodeProto *n = tb_node(&b, m, "LpNormalization", "lp", "x", "y");
    tb_attr_i(&b, n, "p", p);
    tb_attr_i(&b, n, "axis", 0);
    tb_output(&b, m, "y", 1, NULL);
    if (p == 3) {
      expect_unsupported(&b, m, "p other than 1 or 2");
      tb_free(&b);
      continue;
    }
    mlc_graph_t *g = import_ok(&b, m);
    if (p == 1)
      expect_ops(g, 6, (const mlc_op_t[]){MLC_OP_Abs, MLC_OP_ReduceSum,
                                          MLC_OP_Sub, MLC_OP_Equal, MLC_OP_Div,
                                          MLC_OP_Where});
    else
      expect_ops(g, 7, (const mlc_op_t[]){MLC_OP_Mul, MLC_OP_ReduceSum,
                                          MLC_OP_Sqrt, MLC_OP_Sub, MLC_OP_Equal,
                                          MLC_OP_Div, MLC_OP_Where});
    mlc_node_t **nd = g->nodes.data;
    size_t last = g->nodes.len - 1;
    expect_i64s(nd[1]->inputs[1], 1, (const int64_t[]){0});
    assert_int_equal(mlc_node_attr_int(nd[1], "keepdims", 0), 1);
    mlc_value_t *norm = nd[last - 4]->outputs[0];
    mlc_node_t *zero = nd[last - 3], *eq = nd[last - 2], *div = nd[last - 1];
    assert_ptr_equal(zero->inputs[0], norm);
    assert_ptr_equal(zero->inputs[1], norm);
    assert_ptr_equal(eq->inputs[0], norm);
    assert_ptr_equal(eq->inputs[1], zero->outputs[0]);
    assert_string_equal(div->inputs[0]->name, "x");
    assert_ptr_equal(div->inputs[1], norm);
    /* the node itself: Where(norm == 0, 0, x / norm) */
    assert_ptr_equal(nd[last]->inputs[0], eq->outputs[0]);
    assert_ptr_equal(nd[last]->inputs[1], zero->outputs[0]);
    assert_ptr_equal(nd[last]->inputs[2], div->outputs[0]);
    assert_string_equal(nd[last]->outputs[0]->name, "y");
    mlc_graph_destroy(g);
    tb_free(&b);
  }
}

static Onnx__ModelProto *gn_model(tb_t *b, const char *op, int opset,
                                  int elem) {
  Onnx__ModelProto *m = tb_model(b, 8, opset);
  tb_input(b, m, "x", elem, "2,4,3,3");
  tb_input(b, m, "s", elem, "4");
  tb_input(b, m, "bb", elem, "4");
  Onnx__NodeProto *n = tb_node(b, m, op, "gn", "x,s,bb", "y");
  if (strcmp(op, "GroupNormalization") == 0) tb_attr_i(b, n, "num_groups", 2);
  tb_attr_f(b, n, "epsilon", 0.5f);
  tb_output(b, m, "y", elem, NULL);
  return m;
}

static void test_group_instance_norm_nodes(void **state) {
  (void)state;
  for (int inst = 0; inst < 2; inst++) {
    tb_t b = {0};
    mlc_graph_t *g = import_ok(&b, gn_model(&b, inst ? "InstanceNormalization"
                                                     : "GroupNormalization",
                                            21, 1));
    expect_ops(g, 18, (const mlc_op_t[]){
        MLC_OP_Shape, MLC_OP_Reshape, MLC_OP_ReduceMean, MLC_OP_Sub,
        MLC_OP_Mul, MLC_OP_ReduceMean, MLC_OP_CastLike, MLC_OP_Add,
        MLC_OP_Sqrt, MLC_OP_Div, MLC_OP_Slice, MLC_OP_Concat, MLC_OP_Reshape,
        MLC_OP_Unsqueeze, MLC_OP_Mul, MLC_OP_Unsqueeze, MLC_OP_Add,
        MLC_OP_Reshape});
    mlc_node_t **nd = g->nodes.data;
    /* grouped view [0, groups, -1]; groups 0 (= channels) for instance */
    expect_i64s(nd[1]->inputs[1], 3, (const int64_t[]){0, inst ? 0 : 2, -1});
    expect_i64s(nd[2]->inputs[1], 1, (const int64_t[]){2});
    assert_true(mlc_value_const_float(nd[6]->inputs[0], 0) == 0.5);
    assert_int_equal(mlc_node_attr_int(nd[11], "axis", -1), 0);
    mlc_node_t *last = nd[g->nodes.len - 1];
    assert_string_equal(last->outputs[0]->name, "y");
    assert_ptr_equal(last->inputs[1], nd[0]->outputs[0]); /* Shape(x) */
    assert_int_equal(last->nattrs, 0);
    mlc_graph_destroy(g);
    tb_free(&b);
  }
  tb_t b = {0};
  expect_unsupported(&b, gn_model(&b, "GroupNormalization", 18, 1),
                     "per-group scale");
  expect_unsupported(&b, gn_model(&b, "GroupNormalization", 21, 10),
                     "non-f32");
  tb_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bn_training_nodes),
      cmocka_unit_test(test_bn_training_declines),
      cmocka_unit_test(test_reduce_via_sum),
      cmocka_unit_test(test_castlike_import),
      cmocka_unit_test(test_rmsnorm_nodes),
      cmocka_unit_test(test_lpnorm_nodes),
      cmocka_unit_test(test_group_instance_norm_nodes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
