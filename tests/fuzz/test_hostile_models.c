/* Truncated, corrupted and hostile model files: import + the default pass
 * pipeline must return success or a status with a message, never crash,
 * and finish in bounded time.
 *
 *  - mutants of real models (a few from the ONNX node suite, found at
 *    MLC_SOURCE_DIR/../shared/onnx-node-tests and skipped when absent,
 *    and examples/digits/digits.onnx): truncation at many offsets,
 *    deterministic byte flips, and protobuf length prefixes replaced by
 *    huge values;
 *  - hand-made hostile models: huge and negative dims, tensors with no or
 *    wrongly sized data, external data outside the folder or past EOF,
 *    cycles, a 100k-node chain, deeply nested subgraphs, constant ops
 *    that would fold into gigantic tensors;
 *  - an allocation-failure sweep: malloc/calloc/realloc are wrapped at
 *    link time (see CMakeLists.txt) and the Nth allocation fails, for
 *    N = 1.. until the import and pipeline of a small model succeed.
 *
 * The allocation counter is the only global state; it is armed only
 * around the sweep's calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../frontend/onnx_builder.h"
#include "fuzz_util.h"
#include "wire_mutate.h"
#include "tools/npy.h"

#define NODE_TESTS MLC_SOURCE_DIR "/../shared/onnx-node-tests"
#define DIGITS MLC_SOURCE_DIR "/examples/digits/digits.onnx"
/* No single mutant may take longer than this (seconds). */
#define MUTANT_MAX_S 5.0

/* ---- allocation failure injection ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static struct {
  int armed;
  long count;   /* allocations seen while armed */
  long fail_at; /* 1-based index of the allocation to fail */
} alloc_fault;

static int alloc_should_fail(void) {
  if (!alloc_fault.armed) return 0;
  return ++alloc_fault.count == alloc_fault.fail_at;
}

void *__wrap_malloc(size_t n) {
  return alloc_should_fail() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  return alloc_should_fail() ? NULL : __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  return alloc_should_fail() ? NULL : __real_realloc(p, n);
}

/* ---- helpers ---- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
  int ok, failed, internal;
} tally_t;

/* Runs one input; fails the test on an empty message or a slow run.
 * Returns the status code. */
static mlc_status_code_t run_one(const void *buf, size_t len, const char *what,
                                 tally_t *t) {
  double t0 = now_s();
  mlc_status_t *st = fz_import_optimize(buf, len, "/nonexistent-mlc-dir", 2);
  double dt = now_s() - t0;
  if (dt > MUTANT_MAX_S) fail_msg("%s: took %.1f s", what, dt);
  mlc_status_code_t code = mlc_status_code(st);
  if (!t) print_message("  %s: %s\n", what, mlc_status_message(st));
  if (st) {
    const char *msg = mlc_status_message(st);
    if (!msg || !*msg) fail_msg("%s: status without a message", what);
    if (code == MLC_INTERNAL) {
      if (t && t->internal < 3) print_message("  %s: internal: %s\n", what, msg);
      if (t) t->internal++;
    }
    if (t) t->failed++;
    mlc_status_free(st);
  } else if (t) {
    t->ok++;
  }
  return code;
}

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* ---- mutants of real models ---- */

static void mutate_model(const char *path) {
  size_t len;
  uint8_t *orig = read_all(path, &len);
  if (!orig) {
    print_message("  skipped %s (absent)\n", path);
    return;
  }
  uint8_t *buf = malloc(len + 32);
  assert_non_null(buf);
  tally_t t = {0};
  double t0 = now_s();
  char what[96];
  /* Truncation: every cut in the first 64 bytes, then 96 spread cuts. */
  for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : len / 96 + 1)) {
    memcpy(buf, orig, cut);
    snprintf(what, sizeof what, "truncated at %zu", cut);
    run_one(buf, cut, what, &t);
  }
  /* Byte flips: 300 mutants of 1..4 random bytes each, fixed seed. */
  uint64_t seed = 0x6d6c63u ^ len;
  for (int m = 0; m < 300; m++) {
    memcpy(buf, orig, len);
    int flips = 1 + (int)(lcg_next(&seed) % 4);
    for (int k = 0; k < flips; k++) {
      size_t at = lcg_next(&seed) % len;
      uint8_t x = (uint8_t)lcg_next(&seed);
      buf[at] = (m % 3 == 0) ? (uint8_t)(buf[at] ^ (1u << (x & 7))) : x;
    }
    snprintf(what, sizeof what, "byte flips #%d", m);
    run_one(buf, len, what, &t);
  }
  /* Length prefixes replaced by huge (or off-by-one) values. */
  len_sites_t sites = {.n = 0};
  walk_message(orig, 0, len, 0, &sites);
  static const uint64_t huge[] = {0x7fffffffu, 0xffffffffu,
                                  (uint64_t)1 << 62, UINT64_MAX};
  for (size_t k = 0; k < sites.n; k++) {
    size_t at = sites.pos[k], after = at;
    uint64_t old;
    read_varint(orig, len, &after, &old);
    for (size_t h = 0; h < 5; h++) {
      uint64_t v = h < 4 ? huge[h] : old + 1;
      uint8_t enc[10];
      size_t n = 0;
      do {
        enc[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) enc[n] |= 0x80;
        n++;
      } while (v);
      size_t tail = len - after;
      memcpy(buf, orig, at);
      memcpy(buf + at, enc, n);
      memcpy(buf + at + n, orig + after, tail);
      snprintf(what, sizeof what, "length at %zu -> variant %zu", at, h);
      run_one(buf, at + n + tail, what, &t);
    }
  }
  print_message("  %s: %d ok, %d errors (%d internal), %zu length sites, "
                "%.2f s\n", path + (strlen(path) > 60 ? strlen(path) - 60 : 0),
                t.ok, t.failed, t.internal, sites.n, now_s() - t0);
  free(buf);
  free(orig);
}

static const char *const node_models[] = {
    "test_conv_with_strides_padding", "test_gemm_all_attributes",
    "test_batchnorm_epsilon", "test_maxpool_2d_pads", "test_gather_0",
    "test_averagepool_2d_pads", "test_concat_3d_axis_1",
    "test_layer_normalization_3d_axis1_epsilon_expanded",
    "test_group_normalization_example_expanded",
    "test_flexattention_expanded_ver26",
    "test_causal_conv_with_state_with_past_state_expanded",
    "test_gelu_tanh_2", "test_flatten_axis2",
    /* These stop in import or infer-shapes (If, shape inputs). */
    "test_reshape_reordered_all_dims", "test_lstm_defaults", "test_if",
};

static void test_mutated_node_models(void **state) {
  if (access(NODE_TESTS, R_OK) != 0) {
    print_message("  node suite not found at %s: skipped\n", NODE_TESTS);
    skip();
  }
  char path[512];
  for (size_t i = 0; i < sizeof node_models / sizeof *node_models; i++) {
    snprintf(path, sizeof path, "%s/%s/model.onnx", NODE_TESTS, node_models[i]);
    mutate_model(path);
  }
}

static void test_mutated_digits(void **state) {
  /* The unmutated model must compile, or the mutants prove little. */
  size_t len;
  uint8_t *orig = read_all(DIGITS, &len);
  assert_non_null(orig);
  assert_int_equal(run_one(orig, len, "digits", NULL), MLC_OK);
  free(orig);
  mutate_model(DIGITS);
}

/* ---- hand-made hostile models ---- */

/* Packs and runs `m`; returns the status code. */
/* With MLC_FUZZ_SAVE_DIR set, each hand-made model is also written there
 * (as <what>.onnx, odd characters replaced) for trying with `mlc`. */
static void save_model(const uint8_t *buf, size_t len, const char *what) {
  const char *dir = getenv("MLC_FUZZ_SAVE_DIR");
  if (!dir) return;
  char path[512];
  int n = snprintf(path, sizeof path, "%s/", dir);
  for (const char *c = what; *c && n < 500; c++)
    path[n++] = (isalnum((unsigned char)*c) || *c == '-') ? *c : '_';
  snprintf(path + n, sizeof path - (size_t)n, ".onnx");
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(buf, 1, len, f);
  fclose(f);
}

static mlc_status_code_t run_model(tb_t *b, Onnx__ModelProto *m,
                                   const char *what) {
  size_t len;
  uint8_t *buf = tb_pack(b, m, &len);
  save_model(buf, len, what);
  return run_one(buf, len, what, NULL);
}

static void expect_error(tb_t *b, Onnx__ModelProto *m, const char *what) {
  if (run_model(b, m, what) == MLC_OK) fail_msg("%s: accepted", what);
}

/* Imports and optimizes `m`; fails the test unless that fails with a
 * message containing `want`. */
static void expect_message(tb_t *b, Onnx__ModelProto *m, const char *what,
                           const char *want) {
  size_t len;
  uint8_t *buf = tb_pack(b, m, &len);
  save_model(buf, len, what);
  double t0 = now_s();
  mlc_status_t *st = fz_import_optimize(buf, len, "/nonexistent-mlc-dir", 2);
  double dt = now_s() - t0;
  if (!st) fail_msg("%s: accepted", what);
  print_message("  %s: %s\n", what, mlc_status_message(st));
  if (!strstr(mlc_status_message(st), want))
    fail_msg("%s: message lacks '%s'", what, want);
  mlc_status_free(st);
  if (dt > MUTANT_MAX_S) fail_msg("%s: took %.1f s", what, dt);
}

/* x (shape) -> Relu -> h -> Neg -> y */
static mlc_status_code_t two_op_model(const char *shape, const char *what) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, shape);
  tb_node(&b, m, "Relu", "r", "x", "h");
  tb_node(&b, m, "Neg", "n", "h", "y");
  tb_output(&b, m, "y", 1, NULL);
  mlc_status_code_t code = run_model(&b, m, what);
  tb_free(&b);
  return code;
}

static void test_huge_and_negative_dims(void **state) {
  /* 2^62 floats do not fit in memory, let alone 2^62 * 2^62 of them. */
  assert_int_not_equal(two_op_model("4611686018427387904,4", "dims 2^62,4"),
                       MLC_OK);
  assert_int_not_equal(
      two_op_model("4611686018427387904,4611686018427387904", "dims 2^62^2"),
      MLC_OK);
  assert_int_not_equal(two_op_model("-5,3", "negative dim"), MLC_OK);
  assert_int_not_equal(two_op_model("-1", "dim -1"), MLC_OK);
  /* INT64_MIN */
  assert_int_not_equal(two_op_model("-9223372036854775808", "dim INT64_MIN"),
                       MLC_OK);
}

/* A model whose only output is initializer `t`, consumed by Relu. */
static mlc_status_code_t init_model(tb_t *b, Onnx__TensorProto *t,
                                    const char *what) {
  Onnx__ModelProto *m = tb_model(b, 8, 17);
  tb_init(b, m, t);
  tb_node(b, m, "Relu", "r", t->name, "y");
  tb_output(b, m, "y", t->data_type, NULL);
  return run_model(b, m, what);
}

static void test_bad_tensor_data(void **state) {
  tb_t b = {0};
  /* 10^9 elements with no data at all. */
  Onnx__TensorProto *t = tb_tensor(&b, "w", 1, 2, (int64_t[]){1000000, 1000});
  assert_int_not_equal(init_model(&b, t, "1e9 elems, no data"), MLC_OK);
  /* ... and with one float of data. */
  t = tb_tensor(&b, "w", 1, 1, (int64_t[]){1000000000});
  t->n_float_data = 1;
  t->float_data = tb_alloc(&b, sizeof(float));
  assert_int_not_equal(init_model(&b, t, "1e9 elems, 1 float"), MLC_OK);
  /* raw_data of the wrong size, short and long. */
  t = tb_tensor(&b, "w", 1, 2, (int64_t[]){2, 2});
  tb_raw(&b, t, (float[]){1, 2, 3}, 12);
  assert_int_not_equal(init_model(&b, t, "raw 12 of 16"), MLC_OK);
  t = tb_tensor(&b, "w", 1, 1, (int64_t[]){2});
  tb_raw(&b, t, (float[]){1, 2, 3}, 12);
  assert_int_not_equal(init_model(&b, t, "raw 12 of 8"), MLC_OK);
  /* Dims whose product overflows int64, with a little data. */
  t = tb_tensor(&b, "w", 1, 3,
                (int64_t[]){INT64_C(1) << 40, INT64_C(1) << 40, 16});
  tb_raw(&b, t, (float[]){1, 2, 3, 4}, 16);
  assert_int_not_equal(init_model(&b, t, "numel overflow"), MLC_OK);
  /* Negative dim on an initializer. */
  t = tb_tensor(&b, "w", 1, 1, (int64_t[]){-4});
  tb_raw(&b, t, (float[]){1, 2, 3, 4}, 16);
  assert_int_not_equal(init_model(&b, t, "negative init dim"), MLC_OK);
  /* Unknown data type. */
  t = tb_tensor(&b, "w", 999, 1, (int64_t[]){1});
  tb_raw(&b, t, (float[]){1}, 4);
  assert_int_not_equal(init_model(&b, t, "dtype 999"), MLC_OK);
  tb_free(&b);
}

static void add_kv(tb_t *b, Onnx__TensorProto *t, const char *k, const char *v) {
  Onnx__StringStringEntryProto *e = tb_alloc(b, sizeof *e);
  onnx__string_string_entry_proto__init(e);
  e->key = tb_str(b, k);
  e->value = tb_str(b, v);
  TB_PUSH(b, t->external_data, t->n_external_data, e);
}

/* Initializer w (f32 [2,2]) stored externally at loc/offset/length,
 * imported with base_dir `dir`. */
static mlc_status_code_t external_model(const char *dir, const char *loc,
                                        const char *off, const char *length) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  Onnx__TensorProto *w = tb_tensor(&b, "w", 1, 2, (int64_t[]){2, 2});
  w->has_data_location = 1;
  w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  add_kv(&b, w, "location", loc);
  if (off) add_kv(&b, w, "offset", off);
  if (length) add_kv(&b, w, "length", length);
  tb_init(&b, m, w);
  tb_node(&b, m, "Relu", "r", "w", "y");
  tb_output(&b, m, "y", 1, NULL);
  size_t len;
  uint8_t *buf = tb_pack(&b, m, &len);
  mlc_graph_t *g = NULL;
  mlc_import_options_t io = {.base_dir = dir};
  mlc_status_t *st = mlc_onnx_import_buffer(buf, len, &io, &g);
  tb_free(&b);
  mlc_status_code_t code = mlc_status_code(st);
  if (st) {
    assert_true(*mlc_status_message(st));
    mlc_status_free(st);
  }
  mlc_graph_destroy(g);
  return code;
}

/* Links and special files in the model folder `sub` (inside `dir`, beside
 * `outside`): no link is followed, whether it points out of the folder or
 * not, and FIFOs and devices are refused at once instead of blocking. */
static void external_links(const char *dir, const char *sub,
                           const char *outside) {
  char path[160], sub2[128];
  /* A file link to a file outside, and a directory link to outside. */
  snprintf(path, sizeof path, "%s/out.bin", sub);
  assert_int_equal(symlink(outside, path), 0);
  assert_int_equal(external_model(sub, "out.bin", NULL, NULL), MLC_INVALID_MODEL);
  unlink(path);
  snprintf(path, sizeof path, "%s/up", sub);
  assert_int_equal(symlink(dir, path), 0);
  assert_int_not_equal(external_model(sub, "up/outside.bin", NULL, NULL), MLC_OK);
  assert_int_not_equal(external_model(sub, "up/m/w.bin", NULL, NULL), MLC_OK);
  unlink(path);
  /* A link that stays inside is refused too (and a real folder works). */
  snprintf(path, sizeof path, "%s/same.bin", sub);
  assert_int_equal(symlink("w.bin", path), 0);
  assert_int_not_equal(external_model(sub, "same.bin", NULL, NULL), MLC_OK);
  unlink(path);
  snprintf(sub2, sizeof sub2, "%s/d", sub);
  assert_int_equal(mkdir(sub2, 0700), 0);
  snprintf(path, sizeof path, "%s/d/w.bin", sub);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fwrite((float[]){1, 2, 3, 4}, 16, 1, f);
  fclose(f);
  assert_int_equal(external_model(sub, "d/w.bin", NULL, NULL), MLC_OK);
  assert_int_equal(external_model(sub, "./d//w.bin", NULL, NULL), MLC_OK);
  assert_int_not_equal(external_model(sub, "d/", NULL, NULL), MLC_OK);
  unlink(path);
  rmdir(sub2);
  /* A FIFO with no writer: open() used to block forever.  The alarm
   * turns a hang into a failure. */
  snprintf(path, sizeof path, "%s/fifo.bin", sub);
  assert_int_equal(mkfifo(path, 0600), 0);
  alarm(20);
  assert_int_equal(external_model(sub, "fifo.bin", NULL, NULL), MLC_IO_ERROR);
  alarm(0);
  unlink(path);
}

static void test_external_data(void **state) {
  char dir[64] = "/tmp/mlc_fuzz_ext_XXXXXX", sub[80], file[96];
  assert_non_null(mkdtemp(dir));
  snprintf(sub, sizeof sub, "%s/m", dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  snprintf(file, sizeof file, "%s/w.bin", sub);
  FILE *f = fopen(file, "wb");
  assert_non_null(f);
  float data[4] = {1, 2, 3, 4};
  fwrite(data, sizeof data, 1, f);
  fclose(f);
  snprintf(file, sizeof file, "%s/outside.bin", dir);
  f = fopen(file, "wb");
  assert_non_null(f);
  fwrite(data, sizeof data, 1, f);
  fclose(f);
  assert_int_equal(external_model(sub, "w.bin", NULL, NULL), MLC_OK);
  assert_int_not_equal(external_model(sub, "../outside.bin", NULL, NULL), MLC_OK);
  assert_int_not_equal(external_model(sub, file, NULL, NULL), MLC_OK);
  assert_int_not_equal(external_model(sub, "/dev/zero", NULL, NULL), MLC_OK);
  assert_int_not_equal(external_model(sub, "w.bin", "8", NULL), MLC_OK);
  assert_int_not_equal(external_model(sub, "w.bin", "16", "16"), MLC_OK);
  assert_int_not_equal(external_model(sub, "w.bin", "0", "17"), MLC_OK);
  assert_int_not_equal(
      external_model(sub, "w.bin", "18446744073709551615", NULL), MLC_OK);
  assert_int_not_equal(
      external_model(sub, "w.bin", "9223372036854775807", "16"), MLC_OK);
  assert_int_not_equal(external_model(sub, "", NULL, NULL), MLC_OK);
  assert_int_not_equal(external_model(sub, ".", NULL, NULL), MLC_OK);
  external_links(dir, sub, file);
  unlink(file);
  snprintf(file, sizeof file, "%s/w.bin", sub);
  unlink(file);
  rmdir(sub);
  rmdir(dir);
}

static void test_cycles(void **state) {
  tb_t b = {0};
  /* A node whose input is its own output. */
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "4");
  tb_node(&b, m, "Add", "self", "x,y", "y");
  tb_output(&b, m, "y", 1, NULL);
  expect_error(&b, m, "self loop");
  /* A two-node cycle. */
  m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "4");
  tb_node(&b, m, "Add", "a", "x,q", "p");
  tb_node(&b, m, "Relu", "b", "p", "q");
  tb_output(&b, m, "q", 1, NULL);
  expect_error(&b, m, "two-node cycle");
  /* Two nodes writing the same value. */
  m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "4");
  tb_node(&b, m, "Relu", "a", "x", "y");
  tb_node(&b, m, "Neg", "b", "x", "y");
  tb_output(&b, m, "y", 1, NULL);
  expect_error(&b, m, "double definition");
  /* An output nobody produces, an input never declared. */
  m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "4");
  tb_node(&b, m, "Relu", "a", "nowhere", "y");
  tb_output(&b, m, "z", 1, NULL);
  expect_error(&b, m, "dangling names");
  tb_free(&b);
}

/* x -> ops[0] -> ops[1] -> ... (n nodes, cycling through `ops`) -> y,
 * imported and optimized in under `max_s` seconds.  The node array is
 * built directly: TB_PUSH copies the array on each push. */
static void chain(int n, const char *const *ops, int nops, double max_s) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "1,8");
  Onnx__NodeProto **nodes = tb_alloc(&b, (size_t)n * sizeof *nodes);
  Onnx__NodeProto *all = tb_alloc(&b, (size_t)n * sizeof *all);
  char (*names)[16] = tb_alloc(&b, (size_t)(n + 1) * 16);
  char **ins = tb_alloc(&b, (size_t)n * sizeof *ins);
  char **outs = tb_alloc(&b, (size_t)n * sizeof *outs);
  snprintf(names[0], 16, "x");
  for (int i = 0; i < n; i++) {
    snprintf(names[i + 1], 16, i == n - 1 ? "y" : "v%d", i);
    Onnx__NodeProto *nd = &all[i];
    onnx__node_proto__init(nd);
    nd->op_type = (char *)ops[i % nops];
    ins[i] = names[i];
    outs[i] = names[i + 1];
    nd->n_input = nd->n_output = 1;
    nd->input = &ins[i];
    nd->output = &outs[i];
    nodes[i] = nd;
  }
  m->graph->node = nodes;
  m->graph->n_node = (size_t)n;
  tb_output(&b, m, "y", 1, NULL);
  double t0 = now_s();
  size_t len;
  uint8_t *buf = tb_pack(&b, m, &len);
  mlc_status_t *st = fz_import_optimize(buf, len, NULL, 2);
  double dt = now_s() - t0;
  char what[64];
  snprintf(what, sizeof what, "chain-%d-%s", n, ops[nops - 1]);
  save_model(buf, len, what);
  print_message("  %d-node chain of %s...: %s in %.2f s\n", n, ops[0],
                mlc_status_message(st), dt);
  assert_true(!st || *mlc_status_message(st));
  mlc_status_free(st);
  tb_free(&b);
  if (dt > max_s) fail_msg("%d-node chain took %.1f s (limit %.0f)", n, dt, max_s);
}

/* One fusion group of 100k members. */
static void test_long_chain(void **state) {
  static const char *const ops[] = {"Relu"};
  chain(100000, ops, 1, 10.0);
}

/* 50k fusion groups of two (Softmax does not fuse). */
static void test_many_groups(void **state) {
  static const char *const ops[] = {"Relu", "Neg", "Softmax"};
  chain(150000, ops, 3, 5.0);
}

/* If nodes nested `depth` deep through then_branch/else_branch. */
static Onnx__GraphProto *nested_graph(tb_t *b, int depth) {
  Onnx__ModelProto *holder = tb_model(b, 8, 17);
  Onnx__GraphProto *g = holder->graph;
  if (depth == 0) {
    Onnx__NodeProto *n = tb_node(b, holder, "Constant", "c", "", "out");
    Onnx__TensorProto *t = tb_tensor(b, "v", 1, 1, (int64_t[]){1});
    tb_raw(b, t, (float[]){1}, 4);
    Onnx__AttributeProto *a = tb_attr(b, n, "value", 4);
    a->t = t;
  } else {
    Onnx__NodeProto *n = tb_node(b, holder, "If", "if", "cond", "out");
    Onnx__AttributeProto *a = tb_attr(b, n, "then_branch", 5);
    a->g = nested_graph(b, depth - 1);
    a = tb_attr(b, n, "else_branch", 5);
    a->g = nested_graph(b, 0);
  }
  tb_output(b, holder, "out", 1, "1");
  return g;
}

static void test_nested_subgraphs(void **state) {
  static const int depths[] = {3, 40, 1000};
  for (size_t i = 0; i < sizeof depths / sizeof *depths; i++) {
    tb_t b = {0};
    Onnx__ModelProto *m = tb_model(&b, 8, 17);
    tb_input(&b, m, "cond", 9, "");
    Onnx__GraphProto *inner = nested_graph(&b, depths[i]);
    m->graph->node = inner->node;
    m->graph->n_node = inner->n_node;
    tb_output(&b, m, "out", 1, "1");
    char what[32];
    snprintf(what, sizeof what, "If nesting %d", depths[i]);
    run_model(&b, m, what);
    tb_free(&b);
  }
}

/* Constant-producing ops asked for gigantic outputs: folding must not
 * try to materialize them. */
static void test_gigantic_folds(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  Onnx__TensorProto *s = tb_tensor(&b, "s", 7, 1, (int64_t[]){3});
  tb_raw(&b, s, (int64_t[]){100000, 100000, 100000}, 24);
  tb_init(&b, m, s);
  tb_node(&b, m, "ConstantOfShape", "cos", "s", "y");
  tb_output(&b, m, "y", 1, NULL);
  /* Too big to fold; compiling it (for a run that will fail to allocate
   * its output) or refusing it are both clean. */
  run_model(&b, m, "ConstantOfShape 1e15");
  /* Reshape to a huge shape with -1. */
  m = tb_model(&b, 8, 17);
  tb_input(&b, m, "x", 1, "2,3");
  s = tb_tensor(&b, "s", 7, 1, (int64_t[]){2});
  tb_raw(&b, s, (int64_t[]){INT64_C(1) << 62, -1}, 16);
  tb_init(&b, m, s);
  tb_node(&b, m, "Reshape", "rs", "x,s", "y");
  tb_output(&b, m, "y", 1, NULL);
  expect_error(&b, m, "Reshape 2^62,-1");
  tb_free(&b);
}

/* Range element counts beyond int64: float and integer. */
static mlc_status_code_t range_model(int dt, const void *vals, size_t esize,
                                     const char *what) {
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 17);
  static const char *const names[] = {"start", "limit", "delta"};
  for (int i = 0; i < 3; i++) {
    Onnx__TensorProto *t = tb_tensor(&b, names[i], dt, 0, NULL);
    tb_raw(&b, t, (const char *)vals + i * esize, esize);
    tb_init(&b, m, t);
  }
  tb_node(&b, m, "Range", "r", "start,limit,delta", "y");
  tb_output(&b, m, "y", dt, NULL);
  mlc_status_code_t code = run_model(&b, m, what);
  tb_free(&b);
  return code;
}

static void test_range_overflow(void **state) {
  int accepted = 0; /* counted, so one run reports every case */
  accepted += range_model(1, (float[]){0, 1e30f, 1e-30f}, 4,
                          "Range f32 1e60 elems") == MLC_OK;
  accepted += range_model(1, (float[]){0, INFINITY, 1}, 4,
                          "Range f32 to inf") == MLC_OK;
  accepted += range_model(11, (double[]){-1e300, 1e300, 1}, 8,
                          "Range f64 2e300 elems") == MLC_OK;
  accepted += range_model(7, (int64_t[]){INT64_MIN, INT64_MAX, 1}, 8,
                          "Range i64 full span") == MLC_OK;
  /* ceil((INT64_MIN - INT64_MAX) / INT64_MIN) = 2: a valid 2-element range
   * {INT64_MAX, -1}; only the old code's -delta overflowed. */
  assert_int_equal(range_model(7, (int64_t[]){INT64_MAX, INT64_MIN, INT64_MIN},
                               8, "Range i64 delta INT64_MIN (2 elements)"),
                   MLC_OK);
  /* 2^62 elements: within int64, but not their bytes. */
  accepted += range_model(7, (int64_t[]){0, INT64_MAX, 2}, 8,
                          "Range i64 2^62") == MLC_OK;
  assert_int_equal(accepted, 0);
}

/* Values whose element count fits in int64 but whose byte size does not:
 * the header would say _BYTES -1 and nothing can hold them. */
static void test_byte_size_overflow(void **state) {
  /* 2^62 elements fit in int64, their 2^64 bytes do not. */
  assert_int_not_equal(two_op_model("4611686018427387904", "dims 2^62"),
                       MLC_OK);
  tb_t b = {0};
  Onnx__ModelProto *m;
  Onnx__TensorProto *s;
  m = tb_model(&b, 8, 17);
  Onnx__TensorProto *one = tb_tensor(&b, "one", 1, 1, (int64_t[]){1});
  tb_raw(&b, one, (float[]){1}, 4);
  tb_init(&b, m, one);
  s = tb_tensor(&b, "s", 7, 1, (int64_t[]){2});
  tb_raw(&b, s, (int64_t[]){INT64_C(1) << 31, INT64_C(1) << 31}, 16);
  tb_init(&b, m, s);
  tb_node(&b, m, "Expand", "e", "one,s", "y");
  tb_output(&b, m, "y", 1, NULL);
  expect_error(&b, m, "Expand 2^62");
  tb_free(&b);
}

/* Four Softmaxes of x summed by Adds: four live values of x's size. */
static Onnx__ModelProto *four_live(tb_t *b, const char *shape) {
  Onnx__ModelProto *m = tb_model(b, 8, 17);
  tb_input(b, m, "x", 1, shape);
  for (int i = 0; i < 4; i++) {
    char out[4];
    snprintf(out, sizeof out, "s%d", i);
    tb_attr_i(b, tb_node(b, m, "Softmax", out, "x", out), "axis", i % 2);
  }
  tb_node(b, m, "Add", "a", "s0,s1", "a");
  tb_node(b, m, "Add", "b", "s2,s3", "b");
  tb_node(b, m, "Add", "y", "a,b", "y");
  tb_output(b, m, "y", 1, NULL);
  return m;
}

/* Live values of 2^61 bytes each: each fits int64, four together do not.
 * The memory plan used to wrap around (an arena of a few bytes that the
 * kernels then wrote far outside of). */
static void test_arena_overflow(void **state) {
  tb_t b = {0};
  expect_message(&b, four_live(&b, "1,576460752303423488"),
                 "arena of 4 x 2^61 bytes", "value 's3'");
  /* At 2^59 bytes each they fit. */
  assert_int_equal(run_model(&b, four_live(&b, "1,144115188075855872"),
                             "arena of 4 x 2^59 bytes"), MLC_OK);
  tb_free(&b);
}

/* Folding must not materialize huge constants from tiny models. */
static void test_fold_size_limit(void **state) {
  tb_t b = {0};
  Onnx__ModelProto *m;
  Onnx__TensorProto *s;
  /* 64M floats from a 100-byte model: folding them is a denial of
   * service (at 2^34 elements it exhausts memory); run_one fails the test
   * when this takes over MUTANT_MAX_S. */
  m = tb_model(&b, 8, 17);
  s = tb_tensor(&b, "s", 7, 1, (int64_t[]){2});
  tb_raw(&b, s, (int64_t[]){8192, 8192}, 16);
  tb_init(&b, m, s);
  tb_node(&b, m, "ConstantOfShape", "cos", "s", "c");
  tb_node(&b, m, "ReduceSum", "sum", "c", "y");
  tb_output(&b, m, "y", 1, NULL);
  run_model(&b, m, "ConstantOfShape 8192x8192 then ReduceSum");
  tb_free(&b);
}

/* ---- allocation failure sweep ---- */

static uint8_t *small_model(tb_t *b, size_t *len) {
  Onnx__ModelProto *m = tb_model(b, 8, 13);
  tb_input(b, m, "x", 1, "1,1,5,5");
  Onnx__TensorProto *w = tb_tensor(b, "w", 1, 4, (int64_t[]){2, 1, 3, 3});
  w->n_float_data = 18;
  w->float_data = tb_alloc(b, 18 * sizeof(float));
  tb_init(b, m, w);
  Onnx__TensorProto *bias = tb_tensor(b, "bias", 1, 1, (int64_t[]){2});
  tb_raw(b, bias, (float[]){1, 2}, 8);
  tb_init(b, m, bias);
  Onnx__NodeProto *c = tb_node(b, m, "Conv", "conv", "x,w,bias", "h");
  tb_attr_ints(b, c, "pads", 4, (int64_t[]){1, 1, 1, 1});
  tb_node(b, m, "Relu", "relu", "h", "r");
  Onnx__TensorProto *s = tb_tensor(b, "s", 7, 1, (int64_t[]){2});
  tb_raw(b, s, (int64_t[]){1, -1}, 16);
  tb_init(b, m, s);
  tb_node(b, m, "Reshape", "flat", "r,s", "y");
  tb_output(b, m, "y", 1, NULL);
  return tb_pack(b, m, len);
}

/* Fails allocation N for N = 1.. until a run never reaches N. */
static void sweep(const uint8_t *buf, size_t len, const char *what) {
  long n;
  int swallowed = 0;
  for (n = 1; n < 100000; n++) {
    alloc_fault.count = 0;
    alloc_fault.fail_at = n;
    alloc_fault.armed = 1;
    mlc_status_t *st = fz_import_optimize(buf, len, NULL, 2);
    alloc_fault.armed = 0;
    int reached = alloc_fault.count >= n;
    if (st) {
      if (!*mlc_status_message(st))
        fail_msg("%s: allocation %ld: empty message", what, n);
      mlc_status_free(st);
      if (!reached) fail_msg("%s: failed without an injected fault", what);
    } else if (reached) {
      swallowed++; /* recovered from the failure: fine */
    } else {
      break;
    }
  }
  print_message("  %s: %ld allocations swept (%d recovered)\n", what, n - 1,
                swallowed);
  assert_true(n > 1 && n < 100000);
}

static void test_alloc_failures(void **state) {
  tb_t b = {0};
  size_t len;
  uint8_t *buf = small_model(&b, &len);
  sweep(buf, len, "conv model");
  tb_free(&b);
  char path[512];
  snprintf(path, sizeof path, "%s/test_gemm_all_attributes/model.onnx",
           NODE_TESTS);
  uint8_t *gemm = read_all(path, &len);
  if (gemm) {
    sweep(gemm, len, "node suite gemm");
    free(gemm);
  }
}

/* ---- replay of tests/fuzz/crashers ---- */

/* Every file there once crashed, hung or misbehaved; each must now give
 * success or a status with a message, in bounded time.  The parser is
 * picked by extension: .onnx (import + passes), .pb (TensorProto), .mlg
 * (graph text + verify), .npy.  Files are read into buffers of their
 * exact size so that sanitizer builds catch over-reads. */
static mlc_status_t *replay_one(const char *path, const uint8_t *buf,
                                size_t len) {
  const char *ext = strrchr(path, '.');
  if (strcmp(ext, ".onnx") == 0)
    return fz_import_optimize(buf, len, "/nonexistent-mlc-dir", 2);
  if (strcmp(ext, ".pb") == 0) {
    char *name = NULL;
    mlc_tensor_t *t = NULL;
    mlc_status_t *st = mlc_onnx_read_tensor_file(path, &name, &t);
    free(name);
    if (!st) mlc_tensor_free(t);
    return st;
  }
  if (strcmp(ext, ".mlg") == 0) {
    mlc_graph_t *g = NULL;
    mlc_status_t *st = mlc_graph_parse((const char *)buf, len, &g);
    if (!st) st = mlc_graph_verify(g);
    mlc_graph_destroy(g);
    return st;
  }
  mlc_host_tensor_t t;
  mlc_status_t *st = mlc_npy_parse(buf, len, path, &t);
  if (!st) mlc_host_tensor_free(&t);
  return st;
}

static void test_crashers(void **state) {
  const char *dir = MLC_SOURCE_DIR "/tests/fuzz/crashers";
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  int count = 0;
  while ((e = readdir(d))) {
    const char *ext = strrchr(e->d_name, '.');
    if (!ext || (strcmp(ext, ".onnx") && strcmp(ext, ".pb") &&
                 strcmp(ext, ".mlg") && strcmp(ext, ".npy")))
      continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    assert_non_null(buf);
    double t0 = now_s();
    mlc_status_t *st = replay_one(path, buf, len);
    double dt = now_s() - t0;
    print_message("  %s: %s (%.2f s)\n", e->d_name, mlc_status_message(st), dt);
    if (st && !*mlc_status_message(st)) fail_msg("%s: empty message", path);
    if (dt > MUTANT_MAX_S) fail_msg("%s: took %.1f s", path, dt);
    mlc_status_free(st);
    free(buf);
    count++;
  }
  closedir(d);
  assert_true(count > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_huge_and_negative_dims),
      cmocka_unit_test(test_bad_tensor_data),
      cmocka_unit_test(test_external_data),
      cmocka_unit_test(test_cycles),
      cmocka_unit_test(test_long_chain),
      cmocka_unit_test(test_many_groups),
      cmocka_unit_test(test_nested_subgraphs),
      cmocka_unit_test(test_gigantic_folds),
      cmocka_unit_test(test_range_overflow),
      cmocka_unit_test(test_byte_size_overflow),
      cmocka_unit_test(test_fold_size_limit),
      cmocka_unit_test(test_arena_overflow),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_mutated_digits),
      cmocka_unit_test(test_mutated_node_models),
      cmocka_unit_test(test_crashers),
  };
  /* CMOCKA_TEST_FILTER / CMOCKA_SKIP_FILTER: glob over test names, e.g.
   * to skip the slow chain in a sanitizer build. */
  if (getenv("CMOCKA_TEST_FILTER"))
    cmocka_set_test_filter(getenv("CMOCKA_TEST_FILTER"));
  if (getenv("CMOCKA_SKIP_FILTER"))
    cmocka_set_skip_filter(getenv("CMOCKA_SKIP_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
