/* Importer basics: inputs/outputs/initializers, symbolic dims, tensor data
 * from raw and every typed field, attributes of every kind, and the errors
 * for invalid models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "onnx_builder.h"

static mlc_value_t *find_value(mlc_graph_t *g, const char *name) {
  for (size_t i = 0; i < g->values.len; i++)
    if (strcmp(g->values.data[i]->name, name) == 0) return g->values.data[i];
  return NULL;
}

static void expect_error(tb_t *b, Onnx__ModelProto *m, mlc_status_code_t code,
                         const char *needle) {
  mlc_graph_t *g = (mlc_graph_t *)1;
  mlc_status_t *st = tb_import(b, m, &g);
  assert_non_null(st);
  assert_null(g);
  if (!strstr(mlc_status_message(st), needle) || st->code != code)
    fail_msg("got [%s] %s, want [%s] containing '%s'",
             mlc_status_code_name(st->code), mlc_status_message(st),
             mlc_status_code_name(code), needle);
  mlc_status_free(st);
}

static void test_inputs_outputs_consts(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "N,3,?,2");
  tb_input(&b, m, "W", 1, "2,2"); /* also an initializer: a constant */
  float w[4] = {1, 2, 3, 4};
  Onnx__TensorProto *t = tb_tensor(&b, "W", 1, 2, (int64_t[]){2, 2});
  tb_raw(&b, t, w, sizeof w);
  tb_init(&b, m, t);
  tb_node(&b, m, "Add", "add0", "x,W", "y");
  tb_output(&b, m, "y", 1, "N,3,?,2");
  mlc_graph_t *g;
  mlc_status_t *st = tb_import(&b, m, &g);
  assert_null(st);
  assert_int_equal(g->opset, 17);
  assert_int_equal(g->inputs.len, 1);
  mlc_value_t *x = g->inputs.data[0];
  assert_string_equal(x->name, "x");
  assert_true(x->flags & MLC_VALUE_INPUT);
  assert_int_equal(x->dtype, MLC_DT_F32);
  assert_int_equal(x->rank, 4);
  assert_string_equal(x->dims[0].sym, "N");
  assert_int_equal(x->dims[0].value, -1);
  assert_null(x->dims[1].sym);
  assert_int_equal(x->dims[1].value, 3);
  assert_string_equal(x->dims[2].sym, "unk__0");
  mlc_value_t *W = find_value(g, "W");
  assert_true(mlc_value_is_const(W));
  assert_false(W->flags & MLC_VALUE_INPUT);
  assert_memory_equal(W->data, w, sizeof w);
  assert_int_equal(g->nodes.len, 1);
  mlc_node_t *n = g->nodes.data[0];
  assert_int_equal(n->op, MLC_OP_Add);
  assert_string_equal(n->name, "add0");
  assert_ptr_equal(n->inputs[0], x);
  assert_ptr_equal(n->inputs[1], W);
  assert_int_equal(g->outputs.len, 1);
  mlc_value_t *y = g->outputs.data[0];
  assert_ptr_equal(y, n->outputs[0]);
  assert_true(y->flags & MLC_VALUE_OUTPUT);
  assert_int_equal(y->rank, 4);
  /* Non-input dims without a name stay unknown, unnamed. */
  assert_null(y->dims[2].sym);
  assert_int_equal(y->dims[2].value, -1);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void test_unknown_types(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 7, 13);
  tb_input(&b, m, "x", 1, NULL);
  tb_node(&b, m, "Relu", "r", "x", "h");
  tb_node(&b, m, "Relu", "r2", "h", "y");
  tb_output(&b, m, "y", 0, NULL);
  mlc_graph_t *g;
  assert_null(tb_import(&b, m, &g));
  assert_int_equal(g->inputs.data[0]->rank, -1);
  mlc_value_t *h = find_value(g, "h");
  assert_int_equal(h->rank, -1);
  assert_int_equal(h->dtype, MLC_DT_UNDEFINED);
  mlc_graph_destroy(g);
  tb_free(&b);
}

/* One initializer per typed field and dtype; checks the packed bytes. */
static void check_typed(mlc_dtype_t dt, void (*fill)(tb_t *, Onnx__TensorProto *),
                        const void *want, size_t nbytes) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  Onnx__TensorProto *t = tb_tensor(&b, "c", (int)dt, 1, (int64_t[]){3});
  fill(&b, t);
  tb_init(&b, m, t);
  tb_node(&b, m, "Identity", "id", "c", "y");
  tb_output(&b, m, "y", (int)dt, "3");
  mlc_graph_t *g;
  mlc_status_t *st = tb_import(&b, m, &g);
  if (st) fail_msg("dtype %s: %s", mlc_dtype_name(dt), mlc_status_message(st));
  mlc_value_t *c = find_value(g, "c");
  assert_int_equal(c->dtype, dt);
  assert_int_equal(mlc_value_nbytes(c), nbytes);
  assert_memory_equal(c->data, want, nbytes);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void fill_i32(tb_t *b, Onnx__TensorProto *t) {
  t->n_int32_data = 3;
  t->int32_data = tb_alloc(b, 3 * sizeof(int32_t));
  t->int32_data[0] = -1;
  t->int32_data[1] = 2;
  t->int32_data[2] = 0x3c00; /* 1.0 as f16 */
}
static void fill_f32(tb_t *b, Onnx__TensorProto *t) {
  t->n_float_data = 3;
  t->float_data = tb_alloc(b, 3 * sizeof(float));
  t->float_data[0] = 1.5f, t->float_data[1] = -2, t->float_data[2] = 0;
}
static void fill_i64(tb_t *b, Onnx__TensorProto *t) {
  t->n_int64_data = 3;
  t->int64_data = tb_alloc(b, 3 * sizeof(int64_t));
  t->int64_data[0] = -5, t->int64_data[1] = 1ll << 40, t->int64_data[2] = 7;
}
static void fill_f64(tb_t *b, Onnx__TensorProto *t) {
  t->n_double_data = 3;
  t->double_data = tb_alloc(b, 3 * sizeof(double));
  t->double_data[0] = 0.25, t->double_data[1] = -1e300, t->double_data[2] = 3;
}
static void fill_u64(tb_t *b, Onnx__TensorProto *t) {
  t->n_uint64_data = 3;
  t->uint64_data = tb_alloc(b, 3 * sizeof(uint64_t));
  t->uint64_data[0] = 1, t->uint64_data[1] = 0xffffffffu, t->uint64_data[2] = 9;
}

static void test_typed_fields(void **state) {
  check_typed(MLC_DT_F32, fill_f32, (float[]){1.5f, -2, 0}, 12);
  check_typed(MLC_DT_I32, fill_i32, (int32_t[]){-1, 2, 0x3c00}, 12);
  check_typed(MLC_DT_I16, fill_i32, (int16_t[]){-1, 2, 0x3c00}, 6);
  check_typed(MLC_DT_U16, fill_i32, (uint16_t[]){0xffff, 2, 0x3c00}, 6);
  check_typed(MLC_DT_F16, fill_i32, (uint16_t[]){0xffff, 2, 0x3c00}, 6);
  check_typed(MLC_DT_BF16, fill_i32, (uint16_t[]){0xffff, 2, 0x3c00}, 6);
  check_typed(MLC_DT_I8, fill_i32, (int8_t[]){-1, 2, 0}, 3);
  check_typed(MLC_DT_U8, fill_i32, (uint8_t[]){0xff, 2, 0}, 3);
  check_typed(MLC_DT_BOOL, fill_i32, (uint8_t[]){0xff, 2, 0}, 3);
  check_typed(MLC_DT_I64, fill_i64, (int64_t[]){-5, 1ll << 40, 7}, 24);
  check_typed(MLC_DT_F64, fill_f64, (double[]){0.25, -1e300, 3}, 24);
  check_typed(MLC_DT_U64, fill_u64, (uint64_t[]){1, 0xffffffffu, 9}, 24);
  check_typed(MLC_DT_U32, fill_u64, (uint32_t[]){1, 0xffffffffu, 9}, 12);
}

static void test_raw_every_dtype(void **state) {
  static const mlc_dtype_t dts[] = {MLC_DT_F32, MLC_DT_U8, MLC_DT_I8,
                                    MLC_DT_U16, MLC_DT_I16, MLC_DT_I32,
                                    MLC_DT_I64, MLC_DT_BOOL, MLC_DT_F16,
                                    MLC_DT_F64, MLC_DT_U32, MLC_DT_U64,
                                    MLC_DT_BF16};
  for (size_t k = 0; k < sizeof dts / sizeof *dts; k++) {
    tb_t b = {0};
    Onnx__ModelProto *m = tb_model(&b, 8, 17);
    size_t es = mlc_dtype_size(dts[k]);
    uint8_t raw[64];
    for (size_t i = 0; i < sizeof raw; i++) raw[i] = (uint8_t)(i * 7 + k);
    Onnx__TensorProto *t = tb_tensor(&b, "c", (int)dts[k], 2, (int64_t[]){2, 2});
    tb_raw(&b, t, raw, 4 * es);
    tb_init(&b, m, t);
    tb_output(&b, m, "c", (int)dts[k], "2,2");
    mlc_graph_t *g;
    assert_null(tb_import(&b, m, &g));
    mlc_value_t *c = g->outputs.data[0];
    assert_true(mlc_value_is_const(c));
    assert_memory_equal(c->data, raw, 4 * es);
    mlc_graph_destroy(g);
    tb_free(&b);
  }
}

static void test_tensor_errors(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  Onnx__TensorProto *t = tb_tensor(&b, "w", 1, 1, (int64_t[]){4});
  tb_raw(&b, t, "abcdefgh", 8);
  tb_init(&b, m, t);
  expect_error(&b, m, MLC_INVALID_MODEL, "tensor 'w': raw_data has 8 bytes");
  t->raw_data.len = 16;
  t->raw_data.data = tb_alloc(&b, 16);
  t->dims[0] = -4;
  expect_error(&b, m, MLC_INVALID_MODEL, "'w': dim 0 is negative");
  t->dims = tb_alloc(&b, 3 * sizeof(int64_t));
  t->n_dims = 3;
  t->dims[0] = t->dims[1] = t->dims[2] = 1ll << 40;
  expect_error(&b, m, MLC_INVALID_MODEL, "overflows");
  t->n_dims = 1;
  t->dims[0] = 4;
  t->data_type = 99;
  expect_error(&b, m, MLC_INVALID_MODEL, "data type 99 is not an ONNX type");
  t->data_type = 1;
  t->has_raw_data = 0;
  t->n_float_data = 3;
  t->float_data = tb_alloc(&b, 12);
  expect_error(&b, m, MLC_INVALID_MODEL, "3 typed values for 4 elements");
  t->data_type = 8;
  expect_error(&b, m, MLC_UNSUPPORTED, "string is not supported");
  tb_free(&b);
}

static void test_attributes(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "2");
  Onnx__NodeProto *n = tb_node(&b, m, "Identity", "id", "x", "y");
  tb_attr_f(&b, n, "f", 0.5f);
  tb_attr_i(&b, n, "i", -7);
  tb_attr_s(&b, n, "s", "hello");
  tb_attr_ints(&b, n, "is", 3, (int64_t[]){1, 2, 3});
  tb_attr_floats(&b, n, "fs", 2, (float[]){1.5f, 2.5f});
  Onnx__AttributeProto *ss = tb_attr(&b, n, "ss", 8);
  ss->n_strings = 2;
  ss->strings = tb_alloc(&b, 2 * sizeof *ss->strings);
  ss->strings[0] = (ProtobufCBinaryData){2, (uint8_t *)tb_str(&b, "ab")};
  ss->strings[1] = (ProtobufCBinaryData){0, NULL};
  Onnx__AttributeProto *ta = tb_attr(&b, n, "t", 4);
  ta->t = tb_tensor(&b, "", 7, 1, (int64_t[]){2});
  tb_raw(&b, ta->t, (int64_t[]){10, 20}, 16);
  Onnx__AttributeProto *tsa = tb_attr(&b, n, "ts", 9);
  Onnx__TensorProto *t1 = tb_tensor(&b, "", 1, 0, NULL);
  t1->n_float_data = 1;
  t1->float_data = tb_alloc(&b, 4);
  t1->float_data[0] = 3.0f;
  TB_PUSH(&b, tsa->tensors, tsa->n_tensors, t1);
  Onnx__AttributeProto *untyped = tb_attr(&b, n, "untyped", 0);
  untyped->has_type = 0;
  untyped->has_i = 1;
  untyped->i = 42;
  tb_output(&b, m, "y", 1, "2");
  mlc_graph_t *g;
  mlc_status_t *st = tb_import(&b, m, &g);
  if (st) fail_msg("%s", mlc_status_message(st));
  mlc_node_t *nd = g->nodes.data[0];
  assert_int_equal(nd->nattrs, 9);
  assert_true(mlc_node_attr_float(nd, "f", 0) == 0.5f);
  assert_int_equal(mlc_node_attr_int(nd, "i", 0), -7);
  assert_string_equal(mlc_node_attr_string(nd, "s", ""), "hello");
  const int64_t *iv;
  assert_int_equal(mlc_node_attr_ints(nd, "is", &iv), 3);
  assert_int_equal(iv[2], 3);
  const float *fv;
  assert_int_equal(mlc_node_attr_floats(nd, "fs", &fv), 2);
  assert_true(fv[1] == 2.5f);
  const mlc_attr_t *a = mlc_node_attr(nd, "ss");
  assert_int_equal(a->kind, MLC_ATTR_STRINGS);
  assert_string_equal(a->strings.v[0], "ab");
  assert_string_equal(a->strings.v[1], "");
  a = mlc_node_attr(nd, "t");
  assert_int_equal(a->kind, MLC_ATTR_TENSOR);
  assert_int_equal(a->t->dtype, MLC_DT_I64);
  assert_int_equal(((const int64_t *)a->t->data)[1], 20);
  a = mlc_node_attr(nd, "ts");
  assert_int_equal(a->kind, MLC_ATTR_TENSORS);
  assert_int_equal(a->tensors.n, 1);
  assert_int_equal(a->tensors.v[0]->rank, 0);
  assert_true(*(const float *)a->tensors.v[0]->data == 3.0f);
  assert_int_equal(mlc_node_attr_int(nd, "untyped", 0), 42);
  mlc_graph_destroy(g);
  tb_free(&b);
}

static void test_model_errors(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "2");
  Onnx__NodeProto *n = tb_node(&b, m, "Conv", "conv1", "x,x,w", "y");
  tb_output(&b, m, "y", 1, NULL);
  expect_error(&b, m, MLC_INVALID_MODEL,
               "node 'conv1' (Conv): input 2 'w' is not defined");
  n->n_input = 2;
  tb_node(&b, m, "Relu", "again", "x", "y");
  expect_error(&b, m, MLC_INVALID_MODEL,
               "node 'again' (Relu): output 0 'y' is already defined");
  m->graph->n_node = 1;
  m->graph->output[0]->name = tb_str(&b, "z");
  expect_error(&b, m, MLC_INVALID_MODEL, "graph output 'z' is not produced");
  m->graph->output[0]->name = tb_str(&b, "y");
  tb_input(&b, m, "bad", 1, "2,-3");
  expect_error(&b, m, MLC_INVALID_MODEL, "value 'bad': dim 1 is negative");
  m->graph->n_input = 1;
  m->graph->input[0]->type->tensor_type->elem_type = 1234;
  expect_error(&b, m, MLC_INVALID_MODEL, "data type 1234");
  m->graph->input[0]->type->tensor_type->elem_type = 1;
  m->ir_version = 2;
  expect_error(&b, m, MLC_UNSUPPORTED, "IR version 2");
  m->ir_version = 8;
  m->opset_import[0]->domain = tb_str(&b, "com.other");
  expect_error(&b, m, MLC_INVALID_MODEL, "no default-domain opset");
  m->opset_import[0]->domain = tb_str(&b, "ai.onnx");
  m->opset_import[0]->version = 99;
  expect_error(&b, m, MLC_UNSUPPORTED, "opset 99");
  m->opset_import[0]->version = 17;
  m->graph = NULL;
  expect_error(&b, m, MLC_INVALID_MODEL, "model has no graph");
  tb_free(&b);
}

static void test_invalid_buffers(void **state) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_onnx_import_buffer("\xff\xff\xff", 3, NULL, &g);
  assert_non_null(st);
  assert_int_equal(st->code, MLC_INVALID_MODEL);
  assert_string_equal(mlc_status_message(st),
                      "not a valid ONNX model (protobuf decode failed)");
  mlc_status_free(st);
  st = mlc_onnx_import_file("/nonexistent/model.onnx", NULL, &g);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  mlc_status_free(st);
  /* An empty buffer is a ModelProto with nothing set. */
  st = mlc_onnx_import_buffer("", 0, NULL, &g);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
  mlc_status_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inputs_outputs_consts),
      cmocka_unit_test(test_unknown_types),
      cmocka_unit_test(test_typed_fields),
      cmocka_unit_test(test_raw_every_dtype),
      cmocka_unit_test(test_tensor_errors),
      cmocka_unit_test(test_attributes),
      cmocka_unit_test(test_model_errors),
      cmocka_unit_test(test_invalid_buffers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
