/* Hostile and external input: truncated buffers at every cut point, random
 * byte flips, deep message nesting, external data (including path
 * traversal and bad offsets), TensorProto files, and the real models of
 * the ONNX node suite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/onnx_internal.h"
#include "onnx_builder.h"

/* The suite lives in ../shared beside the checkout (as on CI). */
#define NODE_TESTS MLC_SOURCE_DIR "/../shared/onnx-node-tests"

/* A model touching most features: value_info, initializers, attributes. */
static Onnx__ModelProto *sample_model(tb_t *b) {
  Onnx__ModelProto *m = tb_model(b, 8, 11);
  tb_input(b, m, "x", 1, "N,1,5,5");
  Onnx__TensorProto *w = tb_tensor(b, "w", 1, 4, (int64_t[]){2, 1, 3, 3});
  w->n_float_data = 18;
  w->float_data = tb_alloc(b, 18 * sizeof(float));
  tb_init(b, m, w);
  Onnx__TensorProto *bias = tb_tensor(b, "bias", 1, 1, (int64_t[]){2});
  tb_raw(b, bias, (float[]){1, 2}, 8);
  tb_init(b, m, bias);
  Onnx__NodeProto *c = tb_node(b, m, "Conv", "conv", "x,w,bias", "h");
  tb_attr_ints(b, c, "pads", 4, (int64_t[]){1, 1, 1, 1});
  tb_attr_s(b, c, "auto_pad", "NOTSET");
  Onnx__NodeProto *u = tb_node(b, m, "Unsqueeze", "u", "h", "y");
  tb_attr_ints(b, u, "axes", 1, (int64_t[]){0});
  Onnx__ValueInfoProto *vi = tb_vi(b, "h", 1, "N,2,5,5");
  TB_PUSH(b, m->graph->value_info, m->graph->n_value_info, vi);
  tb_output(b, m, "y", 1, NULL);
  return m;
}

static void import_any(const uint8_t *buf, size_t len) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_onnx_import_buffer(buf, len, NULL, &g);
  if (st) {
    assert_null(g);
    assert_true(st->code != MLC_INTERNAL && st->code != MLC_OK);
    mlc_status_free(st);
  } else {
    assert_non_null(g);
    mlc_graph_destroy(g);
  }
}

static void test_truncated(void **state) {
  tb_t b = {0};
  size_t len;
  uint8_t *buf = tb_pack(&b, sample_model(&b), &len);
  mlc_graph_t *g;
  assert_null(mlc_onnx_import_buffer(buf, len, NULL, &g));
  assert_int_equal(g->nodes.len, 2);
  mlc_graph_destroy(g);
  int failures = 0;
  for (size_t cut = 0; cut < len; cut++) {
    /* A copy of exactly `cut` bytes, so ASan sees any over-read. */
    uint8_t *p = malloc(cut ? cut : 1);
    memcpy(p, buf, cut);
    mlc_status_t *st = mlc_onnx_import_buffer(p, cut, NULL, &g);
    if (st) failures++;
    else mlc_graph_destroy(g);
    mlc_status_free(st);
    free(p);
  }
  assert_true(failures > (int)len / 2);
  tb_free(&b);
}

static void flip_and_import(const uint8_t *buf, size_t len, uint64_t seed,
                            int iters) {
  uint8_t *p = malloc(len);
  for (int iter = 0; iter < iters; iter++) {
    memcpy(p, buf, len);
    int flips = 1 + iter % 4;
    for (int k = 0; k < flips; k++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      size_t at = (size_t)(seed >> 33) % len;
      p[at] ^= (uint8_t)(1u << ((seed >> 20) & 7));
      if (iter % 3 == 0) p[at] = (uint8_t)(seed >> 40);
    }
    import_any(p, len);
  }
  free(p);
}

static void test_byte_flips(void **state) {
  tb_t b = {0};
  size_t len;
  uint8_t *buf = tb_pack(&b, sample_model(&b), &len);
  flip_and_import(buf, len, 12345, 4000);
  tb_free(&b);
  static const char *models[] = {"test_conv_with_strides_padding",
                                 "test_batchnorm_example", "test_constant",
                                 "test_split_equal_parts_1d_opset13"};
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
    char path[1024];
    snprintf(path, sizeof path, NODE_TESTS "/%s/model.onnx", models[i]);
    void *data;
    mlc_status_t *st = mlc_onnx_read_file(path, &data, &len);
    if (st) {
      mlc_status_free(st);
      continue;
    }
    flip_and_import(data, len, 777 + i, 1500);
    free(data);
  }
}

/* Prepends a length-delimited field header to [*pos, cap). */
static void prepend(uint8_t *buf, size_t *pos, size_t cap, unsigned field) {
  uint64_t len = cap - *pos;
  uint8_t tmp[10];
  int n = 0;
  do {
    tmp[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
    len >>= 7;
  } while (len);
  *pos -= (size_t)n;
  memcpy(buf + *pos, tmp, (size_t)n);
  buf[--*pos] = (uint8_t)(field << 3 | 2);
}

/* ModelProto.graph -> (GraphProto.node -> NodeProto.attribute ->
 * AttributeProto.g)^levels: 3 message levels per subgraph level. */
static uint8_t *nested_model(int levels, size_t *len) {
  size_t cap = (size_t)levels * 3 * 12 + 64, pos = cap;
  uint8_t *buf = malloc(cap);
  for (int i = 0; i < levels; i++) {
    prepend(buf, &pos, cap, 6);
    prepend(buf, &pos, cap, 5);
    prepend(buf, &pos, cap, 1);
  }
  prepend(buf, &pos, cap, 7);
  *len = cap - pos;
  memmove(buf, buf + pos, *len);
  return buf;
}

static void test_deep_nesting(void **state) {
  size_t len;
  uint8_t *buf = nested_model(200000, &len);
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_onnx_import_buffer(buf, len, NULL, &g);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
  assert_non_null(strstr(mlc_status_message(st), "nest deeper than 64"));
  mlc_status_free(st);
  free(buf);
  /* 15 subgraph levels (46 messages) pass the guard and decode. */
  buf = nested_model(15, &len);
  assert_null(mlc_onnx_wire_check_depth(buf, len, &onnx__model_proto__descriptor,
                                        MLC_ONNX_MAX_NESTING));
  st = mlc_onnx_import_buffer(buf, len, NULL, &g);
  assert_non_null(st);
  assert_null(strstr(mlc_status_message(st), "nest"));
  mlc_status_free(st);
  free(buf);
}

/* ---- external data ---- */

typedef struct {
  char dir[64];
  char model[128];
} ext_env_t;

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static void add_kv(tb_t *b, Onnx__TensorProto *t, const char *k, const char *v) {
  Onnx__StringStringEntryProto *e = tb_alloc(b, sizeof *e);
  onnx__string_string_entry_proto__init(e);
  e->key = tb_str(b, k);
  e->value = tb_str(b, v);
  TB_PUSH(b, t->external_data, t->n_external_data, e);
}

/* Writes a model whose initializer 'w' (f32 [2,2]) is external. */
static mlc_status_t *import_external(ext_env_t *env, const char *loc,
                                     const char *offset, const char *length,
                                     mlc_graph_t **g) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  Onnx__TensorProto *w = tb_tensor(&b, "w", 1, 2, (int64_t[]){2, 2});
  w->has_data_location = 1;
  w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  add_kv(&b, w, "location", loc);
  if (offset) add_kv(&b, w, "offset", offset);
  if (length) add_kv(&b, w, "length", length);
  tb_init(&b, m, w);
  tb_output(&b, m, "w", 1, "2,2");
  size_t len;
  uint8_t *buf = tb_pack(&b, m, &len);
  write_file(env->model, buf, len);
  tb_free(&b);
  return mlc_onnx_import_file(env->model, NULL, g);
}

static void expect_ext_error(ext_env_t *env, const char *loc, const char *off,
                             const char *length, const char *needle) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = import_external(env, loc, off, length, &g);
  assert_non_null(st);
  assert_null(g);
  if (!strstr(mlc_status_message(st), needle))
    fail_msg("%s: got '%s'", loc, mlc_status_message(st));
  mlc_status_free(st);
}

static void test_external_data(void **state) {
  ext_env_t env;
  strcpy(env.dir, "/tmp/mlc_fe_XXXXXX");
  assert_non_null(mkdtemp(env.dir));
  snprintf(env.model, sizeof env.model, "%s/model.onnx", env.dir);
  char path[160];
  snprintf(path, sizeof path, "%s/w.bin", env.dir);
  float blob[1100];
  for (int i = 0; i < 1100; i++) blob[i] = (float)i;
  write_file(path, blob, sizeof blob);
  mlc_graph_t *g = NULL;
  /* Offset 4100: not page aligned, so the mapping must round down. */
  mlc_status_t *st = import_external(&env, "w.bin", "4100", "16", &g);
  if (st) fail_msg("%s", mlc_status_message(st));
  const float *d = g->outputs.data[0]->data;
  assert_true(d[0] == 1025.0f && d[3] == 1028.0f);
  assert_int_equal(g->mappings.len, 1);
  mlc_graph_destroy(g);
  st = import_external(&env, "./w.bin", NULL, NULL, &g);
  assert_null(st);
  assert_true(((const float *)g->outputs.data[0]->data)[2] == 2.0f);
  mlc_graph_destroy(g);
  /* Buffers resolve locations against opts->base_dir. */
  void *bytes;
  size_t nbytes;
  assert_null(mlc_onnx_read_file(env.model, &bytes, &nbytes));
  mlc_import_options_t opts = {.base_dir = env.dir};
  assert_null(mlc_onnx_import_buffer(bytes, nbytes, &opts, &g));
  mlc_graph_destroy(g);
  st = mlc_onnx_import_buffer(bytes, nbytes, NULL, &g); /* "." has no w.bin */
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  mlc_status_free(st);
  free(bytes);
  expect_ext_error(&env, "../w.bin", NULL, NULL, "leaves the model folder");
  expect_ext_error(&env, "sub/../../w.bin", NULL, NULL, "leaves the model");
  expect_ext_error(&env, "/etc/passwd", NULL, NULL, "is absolute");
  expect_ext_error(&env, "w.bin", "4390", NULL, "past the end");
  expect_ext_error(&env, "w.bin", "99999999999", NULL, "past the end");
  expect_ext_error(&env, "w.bin", "-4", NULL, "not a number");
  expect_ext_error(&env, "w.bin", NULL, "12", "length 12");
  expect_ext_error(&env, "missing.bin", NULL, NULL, "missing.bin");
  unlink(path);
  unlink(env.model);
  rmdir(env.dir);
}

/* ---- tensor files and the node suite ---- */

static void test_tensor_files(void **state) {
  char path[] = "/tmp/mlc_fe_tensor_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  int64_t dims[2] = {2, 3};
  int32_t data[6] = {1, -2, 3, -4, 5, -6};
  mlc_tensor_t t = {MLC_DT_I32, 2, dims, data, sizeof data};
  assert_null(mlc_onnx_write_tensor_file(path, "t0", &t));
  char *name;
  mlc_tensor_t *r;
  assert_null(mlc_onnx_read_tensor_file(path, &name, &r));
  assert_string_equal(name, "t0");
  assert_int_equal(r->dtype, MLC_DT_I32);
  assert_int_equal(r->rank, 2);
  assert_int_equal(r->dims[1], 3);
  assert_memory_equal(r->data, data, sizeof data);
  free(name);
  mlc_tensor_free(r);
  write_file(path, "\x0a\xff", 2);
  mlc_status_t *st = mlc_onnx_read_tensor_file(path, &name, &r);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
  mlc_status_free(st);
  unlink(path);
  /* A FIFO as a tensor file or as the model: refused, not waited on (the
   * alarm turns a hang into a failure); /dev/zero is not read forever. */
  assert_int_equal(mkfifo(path, 0600), 0);
  alarm(20);
  st = mlc_onnx_read_tensor_file(path, &name, &r);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  assert_non_null(strstr(mlc_status_message(st), "FIFO"));
  mlc_status_free(st);
  mlc_graph_t *g = NULL;
  st = mlc_onnx_import_file(path, NULL, &g);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  mlc_status_free(st);
  st = mlc_onnx_import_file("/dev/zero", NULL, &g);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  mlc_status_free(st);
  alarm(0);
  unlink(path);

  if (access(NODE_TESTS, R_OK) != 0) skip();
  assert_null(mlc_onnx_read_tensor_file(
      NODE_TESTS "/test_conv_with_strides_padding/test_data_set_0/input_0.pb",
      &name, &r));
  assert_int_equal(r->dtype, MLC_DT_F32);
  assert_int_equal(r->rank, 4);
  assert_int_equal(r->dims[2], 7);
  assert_int_equal(r->nbytes, 35 * 4);
  free(name);
  mlc_tensor_free(r);
}

static mlc_graph_t *import_node_test(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, NODE_TESTS "/%s/model.onnx", name);
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_onnx_import_file(path, NULL, &g);
  if (st) fail_msg("%s", mlc_status_message(st));
  return g;
}

static void test_node_suite_models(void **state) {
  if (access(NODE_TESTS, R_OK) != 0) skip();
  mlc_graph_t *g = import_node_test("test_conv_with_strides_padding");
  assert_int_equal(g->nodes.len, 1);
  mlc_node_t *n = g->nodes.data[0];
  assert_int_equal(n->op, MLC_OP_Conv);
  assert_int_equal(g->inputs.len, 2);
  assert_int_equal(g->inputs.data[0]->rank, 4);
  assert_int_equal(g->inputs.data[0]->dims[2].value, 7);
  assert_int_equal(g->outputs.data[0]->dims[2].value, 4);
  const int64_t *v;
  assert_int_equal(mlc_node_attr_ints(n, "strides", &v), 2);
  assert_int_equal(v[0], 2);
  mlc_graph_destroy(g);

  g = import_node_test("test_softmax_default_axis");
  assert_int_equal(mlc_node_attr_int(g->nodes.data[0], "axis", 0),
                   g->opset >= 13 ? -1 : 1);
  mlc_graph_destroy(g);

  g = import_node_test("test_split_equal_parts_1d_opset13");
  n = g->nodes.data[0];
  assert_int_equal(n->op, MLC_OP_Split);
  assert_int_equal(n->noutputs, 3);
  assert_int_equal(mlc_node_attr_int(n, "num_outputs", 0), 3);
  mlc_graph_destroy(g);

  g = import_node_test("test_unsqueeze_axis_0");
  assert_int_equal(g->nodes.data[0]->op, MLC_OP_Unsqueeze);
  assert_int_equal(g->nodes.data[0]->ninputs, 2);
  mlc_graph_destroy(g);
}

/* Every model of the suite imports, or fails as unsupported: none is
 * called invalid, and none crashes. */
static void test_whole_node_suite(void **state) {
  DIR *d = opendir(NODE_TESTS);
  if (!d) skip();
  struct dirent *e;
  int ok = 0, unsupported = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[1024];
    snprintf(path, sizeof path, NODE_TESTS "/%s/model.onnx", e->d_name);
    if (access(path, R_OK) != 0) continue;
    mlc_graph_t *g = NULL;
    mlc_status_t *st = mlc_onnx_import_file(path, NULL, &g);
    if (!st) {
      ok++;
      mlc_graph_destroy(g);
      continue;
    }
    if (st->code != MLC_UNSUPPORTED)
      fail_msg("%s: %s", e->d_name, mlc_status_message(st));
    unsupported++;
    mlc_status_free(st);
  }
  closedir(d);
  print_message("node suite: %d imported, %d unsupported\n", ok, unsupported);
  assert_true(ok > 400);
}

/* Names from the file are echoed escaped: no raw control bytes in a message. */
static void test_unprintable_names(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "2");
  tb_node(&b, m, "Bad\x1b[2J\xff", "n\n1", "x", "y");
  tb_output(&b, m, "y", 1, NULL);
  mlc_graph_t *g = NULL;
  mlc_status_t *st = tb_import(&b, m, &g);
  assert_int_equal(mlc_status_code(st), MLC_UNSUPPORTED);
  assert_string_equal(mlc_status_message(st), "unsupported ops (1 node): "
                      "Bad\\x1b[2J\\xff (node 'n\\x0a1')");
  mlc_status_free(st);
  /* Every other message too: an undefined input named with raw bytes. */
  m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "2");
  tb_node(&b, m, "Relu", "r\x1b]0;pwned\x07", "onn\xcb::Conv", "y");
  tb_output(&b, m, "y", 1, NULL);
  st = tb_import(&b, m, &g);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
  assert_string_equal(mlc_status_message(st),
                      "node 'r\\x1b]0;pwned\\x07' (Relu): input 0 "
                      "'onn\\xcb::Conv' is not defined");
  mlc_status_free(st);
  tb_free(&b);
}

/* An empty initializer whose other dims overflow int64 bytes is rejected
 * (passes compute strides from them); one that fits is accepted. */
static void test_empty_huge_initializer(void **state) {
  for (int big = 0; big < 2; big++) {
    tb_t b = {0};
    Onnx__ModelProto *m = tb_model(&b, 8, 17);
    int64_t dims[3] = {0, big ? INT64_C(1) << 40 : 1024, INT64_C(1) << 22};
    tb_init(&b, m, tb_tensor(&b, "c", 1, 3, dims));
    tb_node(&b, m, "Relu", "r", "c", "y");
    tb_output(&b, m, "y", 1, NULL);
    mlc_graph_t *g = NULL;
    mlc_status_t *st = tb_import(&b, m, &g);
    if (big) {
      assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
      assert_non_null(strstr(mlc_status_message(st), "byte size overflows"));
      mlc_status_free(st);
    } else {
      assert_null(st);
      mlc_graph_destroy(g);
    }
    tb_free(&b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_byte_flips),
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_external_data),
      cmocka_unit_test(test_tensor_files),
      cmocka_unit_test(test_node_suite_models),
      cmocka_unit_test(test_whole_node_suite),
      cmocka_unit_test(test_unprintable_names),
      cmocka_unit_test(test_empty_huge_initializer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
