/* Op table and opset normalization: old attribute operands become constant
 * inputs, changed defaults are made explicit, Constant/Dropout/BatchNorm
 * special cases, and the one-status list of unsupported nodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "onnx_builder.h"

/* Imports a one-node model and returns the graph (must succeed). */
static mlc_graph_t *import_ok(tb_t *b, Onnx__ModelProto *m) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = tb_import(b, m, &g);
  if (st) fail_msg("import failed: %s", mlc_status_message(st));
  return g;
}

static void expect_i64s(const mlc_value_t *v, int64_t n, const int64_t *want) {
  assert_non_null(v);
  assert_true(mlc_value_is_const(v));
  assert_int_equal(v->dtype, MLC_DT_I64);
  assert_int_equal(mlc_value_numel(v), n);
  for (int64_t i = 0; i < n; i++)
    assert_int_equal(mlc_value_const_int(v, i), want[i]);
}

static Onnx__ModelProto *unary_model(tb_t *b, int opset, const char *op,
                                     Onnx__NodeProto **n) {
  Onnx__ModelProto *m = tb_model(b, 7, opset);
  tb_input(b, m, "x", 1, "1,3,4");
  *n = tb_node(b, m, op, "n", "x", "y");
  tb_output(b, m, "y", 1, NULL);
  return m;
}

static void test_unsqueeze_11_vs_13(void **state) {
  tb_t b = {0};
  Onnx__NodeProto *n;
  Onnx__ModelProto *m = unary_model(&b, 11, "Unsqueeze", &n);
  tb_attr_ints(&b, n, "axes", 2, (int64_t[]){0, 3});
  mlc_graph_t *g = import_ok(&b, m);
  mlc_node_t *nd = g->nodes.data[0];
  assert_int_equal(nd->op, MLC_OP_Unsqueeze);
  assert_int_equal(nd->ninputs, 2);
  assert_null(mlc_node_attr(nd, "axes"));
  expect_i64s(nd->inputs[1], 2, (int64_t[]){0, 3});
  mlc_graph_destroy(g);
  tb_free(&b);

  m = tb_model(&b, 8, 13);
  tb_input(&b, m, "x", 1, "1,3,4");
  Onnx__TensorProto *ax = tb_tensor(&b, "axes", 7, 1, (int64_t[]){1});
  tb_raw(&b, ax, (int64_t[]){-1}, 8);
  tb_init(&b, m, ax);
  tb_node(&b, m, "Unsqueeze", "n", "x,axes", "y");
  tb_output(&b, m, "y", 1, NULL);
  g = import_ok(&b, m);
  nd = g->nodes.data[0];
  assert_int_equal(nd->ninputs, 2);
  assert_string_equal(nd->inputs[1]->name, "axes");
  expect_i64s(nd->inputs[1], 1, (int64_t[]){-1});
  mlc_graph_destroy(g);
  /* Unsqueeze-11 without axes is invalid. */
  m = unary_model(&b, 11, "Unsqueeze", &n);
  mlc_status_t *st = tb_import(&b, m, &g);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
  assert_non_null(strstr(mlc_status_message(st), "node 'n' (Unsqueeze)"));
  mlc_status_free(st);
  tb_free(&b);
}

static void test_softmax_defaults(void **state) {
  tb_t b = {0};
  Onnx__NodeProto *n;
  mlc_graph_t *g = import_ok(&b, unary_model(&b, 11, "Softmax", &n));
  mlc_node_t *nd = g->nodes.data[0];
  assert_int_equal(nd->op, MLC_OP_Softmax);
  assert_int_equal(mlc_node_attr_int(nd, "axis", 99), 1);
  assert_int_equal(mlc_node_attr_int(nd, "coerce_2d", 0), 1);
  mlc_graph_destroy(g);
  g = import_ok(&b, unary_model(&b, 13, "LogSoftmax", &n));
  nd = g->nodes.data[0];
  assert_int_equal(nd->op, MLC_OP_LogSoftmax);
  assert_int_equal(mlc_node_attr_int(nd, "axis", 99), -1);
  assert_null(mlc_node_attr(nd, "coerce_2d"));
  mlc_graph_destroy(g);
  Onnx__ModelProto *m = unary_model(&b, 1, "Softmax", &n);
  tb_attr_i(&b, n, "axis", 2);
  g = import_ok(&b, m);
  assert_int_equal(mlc_node_attr_int(g->nodes.data[0], "axis", 99), 2);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void test_clip_pad_slice_old(void **state) {
  tb_t b = {0};
  Onnx__NodeProto *n;
  Onnx__ModelProto *m = unary_model(&b, 6, "Clip", &n);
  tb_attr_f(&b, n, "max", 6.0f);
  mlc_graph_t *g = import_ok(&b, m);
  mlc_node_t *nd = g->nodes.data[0];
  assert_int_equal(nd->ninputs, 3);
  assert_null(nd->inputs[1]);
  assert_int_equal(nd->inputs[2]->dtype, MLC_DT_F32);
  assert_true(mlc_value_const_float(nd->inputs[2], 0) == 6.0);
  assert_int_equal(nd->nattrs, 0);
  mlc_graph_destroy(g);

  m = unary_model(&b, 2, "Pad", &n);
  tb_attr_ints(&b, n, "pads", 6, (int64_t[]){0, 1, 0, 0, 1, 0});
  tb_attr_f(&b, n, "value", 2.5f);
  tb_attr_s(&b, n, "mode", "constant");
  g = import_ok(&b, m);
  nd = g->nodes.data[0];
  assert_int_equal(nd->op, MLC_OP_Pad);
  assert_int_equal(nd->ninputs, 3);
  expect_i64s(nd->inputs[1], 6, (int64_t[]){0, 1, 0, 0, 1, 0});
  assert_int_equal(nd->inputs[2]->rank, 0);
  assert_true(mlc_value_const_float(nd->inputs[2], 0) == 2.5);
  assert_string_equal(mlc_node_attr_string(nd, "mode", ""), "constant");
  assert_null(mlc_node_attr(nd, "value"));
  mlc_graph_destroy(g);

  m = unary_model(&b, 9, "Slice", &n);
  tb_attr_ints(&b, n, "starts", 1, (int64_t[]){1});
  tb_attr_ints(&b, n, "ends", 1, (int64_t[]){3});
  tb_attr_ints(&b, n, "axes", 1, (int64_t[]){2});
  g = import_ok(&b, m);
  nd = g->nodes.data[0];
  assert_int_equal(nd->ninputs, 4);
  expect_i64s(nd->inputs[1], 1, (int64_t[]){1});
  expect_i64s(nd->inputs[2], 1, (int64_t[]){3});
  expect_i64s(nd->inputs[3], 1, (int64_t[]){2});
  assert_int_equal(nd->nattrs, 0);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void test_reduce_split_reshape_cast(void **state) {
  tb_t b = {0};
  Onnx__NodeProto *n;
  Onnx__ModelProto *m = unary_model(&b, 13, "ReduceMean", &n);
  tb_attr_ints(&b, n, "axes", 1, (int64_t[]){-1});
  mlc_graph_t *g = import_ok(&b, m);
  mlc_node_t *nd = g->nodes.data[0];
  expect_i64s(nd->inputs[1], 1, (int64_t[]){-1});
  assert_int_equal(mlc_node_attr_int(nd, "keepdims", 0), 1);
  mlc_graph_destroy(g);
  /* ReduceSum moved axes to an input at 13: a 13 model keeps its input. */
  m = unary_model(&b, 13, "ReduceSum", &n);
  g = import_ok(&b, m);
  assert_int_equal(g->nodes.data[0]->ninputs, 1);
  mlc_graph_destroy(g);

  m = tb_model(&b, 7, 11);
  tb_input(&b, m, "x", 1, "6");
  n = tb_node(&b, m, "Split", "s", "x", "a,b");
  tb_attr_ints(&b, n, "split", 2, (int64_t[]){2, 4});
  tb_output(&b, m, "a", 1, NULL);
  tb_output(&b, m, "b", 1, NULL);
  g = import_ok(&b, m);
  nd = g->nodes.data[0];
  assert_int_equal(nd->noutputs, 2);
  expect_i64s(nd->inputs[1], 2, (int64_t[]){2, 4});
  mlc_graph_destroy(g);
  n->n_attribute = 0;
  g = import_ok(&b, m);
  nd = g->nodes.data[0];
  assert_int_equal(nd->ninputs, 1);
  assert_int_equal(mlc_node_attr_int(nd, "num_outputs", 0), 2);
  mlc_graph_destroy(g);

  m = unary_model(&b, 1, "Reshape", &n);
  tb_attr_ints(&b, n, "shape", 2, (int64_t[]){3, 4});
  g = import_ok(&b, m);
  expect_i64s(g->nodes.data[0]->inputs[1], 2, (int64_t[]){3, 4});
  mlc_graph_destroy(g);

  m = unary_model(&b, 1, "Cast", &n);
  tb_attr_s(&b, n, "to", "INT64");
  g = import_ok(&b, m);
  assert_int_equal(mlc_node_attr_int(g->nodes.data[0], "to", 0), MLC_DT_I64);
  mlc_graph_destroy(g);

  m = unary_model(&b, 13, "Cast", &n);
  tb_attr_i(&b, n, "to", 77);
  mlc_status_t *st = tb_import(&b, m, &g);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
  assert_string_equal(mlc_status_message(st),
                      "node 'n' (Cast): data type 77 is not an ONNX type");
  mlc_status_free(st);

  m = unary_model(&b, 1, "Concat", &n);
  g = import_ok(&b, m);
  assert_int_equal(mlc_node_attr_int(g->nodes.data[0], "axis", 0), 1);
  mlc_graph_destroy(g);

  m = unary_model(&b, 1, "Neg", &n);
  tb_attr_ints(&b, n, "consumed_inputs", 1, (int64_t[]){0});
  g = import_ok(&b, m);
  assert_int_equal(g->nodes.data[0]->nattrs, 0);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void test_constant_nodes(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 13);
  Onnx__NodeProto *c1 = tb_node(&b, m, "Constant", "c1", NULL, "k1");
  tb_attr_ints(&b, c1, "value_ints", 3, (int64_t[]){4, 5, 6});
  Onnx__NodeProto *c2 = tb_node(&b, m, "Constant", "c2", NULL, "k2");
  tb_attr_f(&b, c2, "value_float", 1.25f);
  Onnx__NodeProto *c3 = tb_node(&b, m, "Constant", "c3", NULL, "k3");
  Onnx__AttributeProto *a = tb_attr(&b, c3, "value", 4);
  a->t = tb_tensor(&b, "", 1, 2, (int64_t[]){1, 2});
  tb_raw(&b, a->t, (float[]){7, 8}, 8);
  tb_node(&b, m, "Add", "add", "k2,k3", "y");
  tb_output(&b, m, "k1", 7, NULL);
  tb_output(&b, m, "y", 1, NULL);
  mlc_graph_t *g = import_ok(&b, m);
  assert_int_equal(g->nodes.len, 1);
  expect_i64s(g->outputs.data[0], 3, (int64_t[]){4, 5, 6});
  mlc_node_t *add = g->nodes.data[0];
  assert_int_equal(add->inputs[0]->rank, 0);
  assert_true(mlc_value_const_float(add->inputs[0], 0) == 1.25);
  assert_int_equal(add->inputs[1]->rank, 2);
  assert_true(mlc_value_const_float(add->inputs[1], 1) == 8.0);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void test_dropout_batchnorm(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 13);
  tb_input(&b, m, "x", 1, "2");
  tb_node(&b, m, "Dropout", "d", "x", "y,mask");
  tb_output(&b, m, "y", 1, NULL);
  mlc_graph_t *g = import_ok(&b, m);
  assert_int_equal(g->nodes.data[0]->op, MLC_OP_Identity);
  assert_int_equal(g->nodes.data[0]->noutputs, 1);
  assert_string_equal(g->nodes.data[0]->onnx_op, "Dropout");
  mlc_graph_destroy(g);
  tb_output(&b, m, "mask", 9, NULL);
  mlc_status_t *st = tb_import(&b, m, &g);
  assert_int_equal(mlc_status_code(st), MLC_UNSUPPORTED);
  assert_string_equal(mlc_status_message(st), "unsupported ops (1 node): "
                      "Dropout (node 'd': mask output is used)");
  mlc_status_free(st);
  tb_free(&b);

  /* training_mode=true: a copy only when the ratio is a constant 0 */
  for (int k = 0; k < 2; k++) {
    m = tb_model(&b, 8, 13);
    tb_input(&b, m, "x", 1, "2");
    Onnx__TensorProto *ratio = tb_tensor(&b, "ratio", 1, 0, NULL);
    tb_raw(&b, ratio, (float[]){k ? 0.1f : 0.0f}, 4);
    Onnx__TensorProto *train = tb_tensor(&b, "train", 9, 0, NULL);
    tb_raw(&b, train, (uint8_t[]){1}, 1);
    tb_init(&b, m, ratio);
    tb_init(&b, m, train);
    tb_node(&b, m, "Dropout", "d", "x,ratio,train", "y");
    tb_output(&b, m, "y", 1, NULL);
    if (k == 0) {
      g = import_ok(&b, m);
      assert_int_equal(g->nodes.data[0]->op, MLC_OP_Identity);
      assert_int_equal(g->nodes.data[0]->ninputs, 1);
      mlc_graph_destroy(g);
    } else {
      st = tb_import(&b, m, &g);
      assert_int_equal(mlc_status_code(st), MLC_UNSUPPORTED);
      assert_non_null(strstr(mlc_status_message(st), "training mode"));
      mlc_status_free(st);
    }
    tb_free(&b);
  }

  m = tb_model(&b, 8, 15);
  tb_input(&b, m, "x", 1, "1,2,3,3");
  for (int i = 0; i < 4; i++) tb_input(&b, m, (const char *[]){"s", "bb", "mu", "var"}[i], 1, "2");
  Onnx__NodeProto *bn = tb_node(&b, m, "BatchNormalization", "bn",
                                "x,s,bb,mu,var", "y");
  tb_attr_f(&b, bn, "momentum", 0.9f);
  tb_output(&b, m, "y", 1, NULL);
  g = import_ok(&b, m);
  mlc_node_t *nd = g->nodes.data[0];
  assert_int_equal(nd->op, MLC_OP_BatchNormalization);
  assert_null(mlc_node_attr(nd, "momentum"));
  assert_true(mlc_node_attr_float(nd, "epsilon", 0) == 1e-5f);
  mlc_graph_destroy(g);
  /* training_mode=1 is decomposed (see test_onnx_decomp.c). */
  tb_attr_i(&b, bn, "training_mode", 1);
  g = import_ok(&b, m);
  assert_int_equal(g->nodes.data[0]->op, MLC_OP_ReduceMean);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void test_unsupported_listed_together(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "4");
  tb_node(&b, m, "NonMaxSuppression", "nms", "x", "a");
  tb_node(&b, m, "Relu", "ok", "a", "b");
  tb_node(&b, m, "Unique", "uniq_3", "b", "c,ci"); /* (TopK is supported now) */
  Onnx__NodeProto *custom = tb_node(&b, m, "FusedThing", "f", "c", "d");
  custom->domain = tb_str(&b, "com.example");
  Onnx__NodeProto *iff = tb_node(&b, m, "If", "", "d", "e");
  Onnx__AttributeProto *ga = tb_attr(&b, iff, "then_branch", 5);
  ga->g = tb_alloc(&b, sizeof *ga->g);
  onnx__graph_proto__init(ga->g);
  tb_node(&b, m, "Gelu", "too_new", "e", "f2"); /* Gelu is opset 20 */
  tb_output(&b, m, "f2", 1, NULL);
  mlc_graph_t *g = (mlc_graph_t *)1;
  mlc_status_t *st = tb_import(&b, m, &g);
  assert_null(g);
  assert_int_equal(mlc_status_code(st), MLC_UNSUPPORTED);
  assert_string_equal(mlc_status_message(st),
                      "unsupported ops (5 nodes): NonMaxSuppression (node "
                      "'nms'), Unique (node 'uniq_3'), FusedThing (domain "
                      "'com.example', node 'f'), If (node #4: graph "
                      "attribute), Gelu (node 'too_new': needs opset 20)");
  mlc_status_free(st);
  tb_free(&b);
}

static void test_legacy_broadcast(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 3, 6);
  tb_input(&b, m, "x", 1, "2,3");
  tb_input(&b, m, "z", 1, "3");
  Onnx__NodeProto *n = tb_node(&b, m, "Add", "a", "x,z", "y");
  tb_attr_i(&b, n, "broadcast", 1);
  tb_output(&b, m, "y", 1, NULL);
  mlc_graph_t *g = import_ok(&b, m);
  assert_int_equal(g->nodes.data[0]->nattrs, 0);
  mlc_graph_destroy(g);
  tb_attr_i(&b, n, "axis", 0);
  mlc_status_t *st = tb_import(&b, m, &g);
  assert_int_equal(mlc_status_code(st), MLC_UNSUPPORTED);
  assert_non_null(strstr(mlc_status_message(st), "legacy broadcast"));
  mlc_status_free(st);
  tb_free(&b);
}

static Onnx__FunctionProto *add_function(tb_t *b, Onnx__ModelProto *m,
                                         const char *name) {
  Onnx__FunctionProto *f = tb_alloc(b, sizeof *f);
  onnx__function_proto__init(f);
  f->name = tb_str(b, name);
  f->domain = tb_str(b, "local");
  f->n_input = tb_split(b, "a,b", &f->input);
  f->n_output = tb_split(b, "o", &f->output);
  TB_PUSH(b, m->functions, m->n_functions, f);
  return f;
}

/* Body nodes are built in a scratch model, then moved into the function. */
static void test_function_inlining(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  Onnx__FunctionProto *f = add_function(&b, m, "AddAct");
  Onnx__ModelProto *scratch = tb_model(&b, 8, 17);
  tb_node(&b, scratch, "Add", "add", "a,b", "t");
  Onnx__NodeProto *act = tb_node(&b, scratch, "LeakyRelu", "", "t", "o");
  Onnx__AttributeProto *ref = tb_attr(&b, act, "alpha", 1);
  ref->ref_attr_name = tb_str(&b, "slope");
  f->node = scratch->graph->node;
  f->n_node = scratch->graph->n_node;
  tb_input(&b, m, "x", 1, "4");
  tb_input(&b, m, "z", 1, "4");
  Onnx__NodeProto *call = tb_node(&b, m, "AddAct", "call1", "x,z", "y");
  call->domain = tb_str(&b, "local");
  tb_attr_f(&b, call, "slope", 0.25f);
  tb_output(&b, m, "y", 1, "4");
  mlc_graph_t *g = import_ok(&b, m);
  assert_int_equal(g->nodes.len, 2);
  mlc_node_t *n0 = g->nodes.data[0], *n1 = g->nodes.data[1];
  assert_string_equal(n0->name, "call1/add");
  assert_string_equal(n0->outputs[0]->name, "call1/t");
  assert_string_equal(n0->inputs[1]->name, "z");
  assert_string_equal(n1->name, "call1/#1");
  assert_int_equal(n1->op, MLC_OP_LeakyRelu);
  assert_true(mlc_node_attr_float(n1, "alpha", 0) == 0.25f);
  assert_ptr_equal(n1->outputs[0], g->outputs.data[0]);
  mlc_graph_destroy(g);
  /* A function calling itself is rejected, not expanded forever. */
  Onnx__NodeProto *self = tb_node(&b, scratch, "AddAct", "again", "a,b", "o2");
  self->domain = tb_str(&b, "local");
  f->node = scratch->graph->node;
  f->n_node = scratch->graph->n_node;
  mlc_status_t *st = tb_import(&b, m, &g);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
  assert_non_null(strstr(mlc_status_message(st), "function 'AddAct'"));
  mlc_status_free(st);
  tb_free(&b);
}

/* One-node model x -> op -> y; `set` adds the attribute under test. */
static mlc_status_t *one_node(tb_t *b, const char *op, int opset,
                              void (*set)(tb_t *, Onnx__NodeProto *),
                              mlc_graph_t **g) {
  Onnx__ModelProto *m = tb_model(b, 8, opset);
  tb_input(b, m, "x", 1, "2,3");
  set(b, tb_node(b, m, op, "n", "x", "y"));
  tb_output(b, m, "y", 1, NULL);
  return tb_import(b, m, g);
}

static void perm_floats(tb_t *b, Onnx__NodeProto *n) {
  tb_attr_floats(b, n, "perm", 2, (float[]){1, 0});
}
static void axis_string(tb_t *b, Onnx__NodeProto *n) {
  tb_attr_s(b, n, "axis", "0");
}
static void alpha_ints(tb_t *b, Onnx__NodeProto *n) {
  tb_attr_ints(b, n, "alpha", 1, (int64_t[]){2});
}
static void epsilon_string(tb_t *b, Onnx__NodeProto *n) {
  tb_attr_s(b, n, "epsilon", "1e-3");
}
static void alpha_int(tb_t *b, Onnx__NodeProto *n) { tb_attr_i(b, n, "alpha", 2); }
static void unknown_attr(tb_t *b, Onnx__NodeProto *n) {
  tb_attr_floats(b, n, "no_such_attr", 1, (float[]){1});
}

/* Attributes of the wrong kind are errors naming node and attribute; they
 * used to be ignored (the default perm, axis or alpha was used). */
static void test_attr_kinds(void **state) {
  static const struct {
    const char *op;
    int opset;
    void (*set)(tb_t *, Onnx__NodeProto *);
    const char *want;
  } bad[] = {
      {"Transpose", 17, perm_floats,
       "node 'n' (Transpose): attribute 'perm' is floats, should be ints"},
      {"Softmax", 17, axis_string,
       "node 'n' (Softmax): attribute 'axis' is a string, should be an int"},
      {"LeakyRelu", 17, alpha_ints,
       "node 'n' (LeakyRelu): attribute 'alpha' is ints, should be a float"},
      {"InstanceNormalization", 17, epsilon_string,
       "attribute 'epsilon' is a string, should be a float"},
      {"Cast", 17, axis_string, "attribute 'axis' is a string"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    tb_t b = {0};
    mlc_graph_t *g = NULL;
    mlc_status_t *st = one_node(&b, bad[i].op, bad[i].opset, bad[i].set, &g);
    assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
    if (!strstr(mlc_status_message(st), bad[i].want))
      fail_msg("%s: '%s'", bad[i].op, mlc_status_message(st));
    assert_null(g);
    mlc_status_free(st);
    tb_free(&b);
  }
  /* An int where a float is expected is that float; unknown names pass. */
  tb_t b = {0};
  mlc_graph_t *g = NULL;
  assert_null(one_node(&b, "LeakyRelu", 17, alpha_int, &g));
  assert_true(mlc_node_attr_float(g->nodes.data[0], "alpha", 0) == 2.0f);
  assert_int_equal(g->nodes.data[0]->attrs[0].kind, MLC_ATTR_FLOAT);
  mlc_graph_destroy(g);
  assert_null(one_node(&b, "Relu", 17, unknown_attr, &g));
  mlc_graph_destroy(g);
  tb_free(&b);
}

/* Eight nested functions, each calling the next 16 times: 16^8 = 4 * 10^9
 * nodes from a few kilobytes.  Used to run until memory ran out; now the
 * node budget stops it at once.  Two levels (256 nodes) still inline. */
static mlc_status_t *import_bomb(tb_t *b, int levels, mlc_graph_t **g) {
  Onnx__ModelProto *m = tb_model(b, 8, 17);
  char name[16], callee[16];
  for (int k = 0; k < levels; k++) {
    snprintf(name, sizeof name, "F%d", k);
    Onnx__FunctionProto *f = add_function(b, m, name);
    Onnx__ModelProto *scratch = tb_model(b, 8, 17);
    char in[8] = "a", out[8];
    for (int i = 0; i < 16; i++) {
      snprintf(out, sizeof out, i == 15 ? "o" : "t%d", i);
      if (k == 0) {
        tb_node(b, scratch, "Relu", "", in, out);
      } else {
        snprintf(callee, sizeof callee, "F%d", k - 1);
        char ins[16];
        snprintf(ins, sizeof ins, "%s,b", in);
        tb_node(b, scratch, callee, "", ins, out)->domain = tb_str(b, "local");
      }
      snprintf(in, sizeof in, "%s", out);
    }
    f->node = scratch->graph->node;
    f->n_node = scratch->graph->n_node;
  }
  tb_input(b, m, "x", 1, "4");
  snprintf(name, sizeof name, "F%d", levels - 1);
  tb_node(b, m, name, "call", "x,x", "y")->domain = tb_str(b, "local");
  tb_output(b, m, "y", 1, "4");
  return tb_import(b, m, g);
}

static void test_function_bomb(void **state) {
  tb_t b = {0};
  mlc_graph_t *g = NULL;
  mlc_status_t *st = import_bomb(&b, 8, &g);
  assert_int_equal(mlc_status_code(st), MLC_UNSUPPORTED);
  assert_non_null(strstr(mlc_status_message(st), "more than 1000000 nodes"));
  mlc_status_free(st);
  assert_null(import_bomb(&b, 2, &g));
  assert_int_equal(g->nodes.len, 256);
  mlc_graph_destroy(g);
  tb_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unsqueeze_11_vs_13),
      cmocka_unit_test(test_softmax_defaults),
      cmocka_unit_test(test_clip_pad_slice_old),
      cmocka_unit_test(test_reduce_split_reshape_cast),
      cmocka_unit_test(test_constant_nodes),
      cmocka_unit_test(test_dropout_batchnorm),
      cmocka_unit_test(test_unsupported_listed_together),
      cmocka_unit_test(test_legacy_broadcast),
      cmocka_unit_test(test_function_inlining),
      cmocka_unit_test(test_function_bomb),
      cmocka_unit_test(test_attr_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
