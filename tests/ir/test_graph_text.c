/* Graph IR text form: printer/parser round trip (every attribute kind,
 * symbolic and unknown dims, constants small and large, storage, groups),
 * value naming, and parser error messages with line:column and caret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/graph.h"

static char *print_to_string(const mlc_graph_t *g) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  mlc_graph_print(g, f);
  fclose(f);
  return buf;
}

static mlc_graph_t *parse_ok(const char *text) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_graph_parse(text, strlen(text), &g);
  if (st) fprintf(stderr, "%s\n", mlc_status_message(st));
  assert_null(st);
  assert_non_null(g);
  return g;
}

/* Parses `text`, prints it, and expects the print to equal `text`. */
static void expect_round_trip(const char *text) {
  mlc_graph_t *g = parse_ok(text);
  char *out = print_to_string(g);
  assert_string_equal(out, text);
  mlc_graph_t *g2 = parse_ok(out);
  char *out2 = print_to_string(g2);
  assert_string_equal(out2, out);
  free(out);
  free(out2);
  mlc_graph_destroy(g);
  mlc_graph_destroy(g2);
}

static const char *const k_full =
    "graph test_net opset 17 arena 4096 weights 128\n"
    "  input %x : f32[N,3,H=224,?] @in0\n"
    "  input %y : i64[*] @in1\n"
    "  input %q : u8[\"batch size\"=2,\"\",3]\n"
    "  input %s : bf16[] place(1, 0)\n"
    "  const %w : f32[2,2] @weight+0 = [1, -2.5, 3.00000011e-05, inf]\n"
    "  const %idx : i64[3] @weight+64 = [0, -1, 9223372036854775807]\n"
    "  const %mask : bool[2] = [1, 0]\n"
    "  const %h : f16[2] = [0x3c00, 0xfc00]\n"
    "  const %u : u64[1] = [18446744073709551615]\n"
    "  const %big : f32[4,5] = <20 x f32, zeros>\n"
    "  const %d : f64[] = [0.10000000000000001]\n"
    "  %a = Add(%x, %w) : f32[N,3,224,?] @arena+0 group=0 name=\"add/1\"\n"
    "  %b = Relu(%a) : f32[N,3,224,?] fused group=0\n"
    "  %c = Clip(%b, _, %d) {alpha = 0.5, n = -3, s = \"q\\\"\\n\\x01\", "
    "v = ints[]} : f32[N,3,224,?] @out0\n"
    "  %p0, _ = MaxPool(%c) {kernel_shape = [2, 2], f = [1.0, 2.5], "
    "names = [\"a\", \"b\"], t = i64[2] [4, 5], "
    "ts = [f32[] [1.5], u8[20] <20 x u8, zeros>], e = floats[]} : "
    "f32[?,?,?,?], _\n"
    "  %sq = Squeeze(%y, %idx) : i64[*]\n"
    "  %m = Where(%mask, %big, %h) : f32[4,5]\n"
    "  %z = Concat(%u, %u) {axis = 0} : u64[2]\n"
    "  output %c\n"
    "  output %p0\n"
    "  output %sq\n"
    "  output %m\n"
    "  output %z\n"
    "  output %s\n";

static void test_round_trip_full(void **state) {
  (void)state;
  expect_round_trip(k_full);
}

static void test_parsed_contents(void **state) {
  (void)state;
  mlc_graph_t *g = parse_ok(k_full);
  assert_string_equal(g->name, "test_net");
  assert_int_equal(g->opset, 17);
  assert_int_equal(g->arena_bytes, 4096);
  assert_int_equal(g->inputs.len, 4);
  mlc_value_t *x = g->inputs.data[0];
  assert_int_equal(x->rank, 4);
  assert_string_equal(x->dims[0].sym, "N");
  assert_int_equal(x->dims[0].value, -1);
  assert_string_equal(x->dims[2].sym, "H");
  assert_int_equal(x->dims[2].value, 224);
  assert_int_equal(x->dims[3].value, -1);
  assert_null(x->dims[3].sym);
  assert_int_equal(g->inputs.data[1]->rank, -1);
  assert_string_equal(g->inputs.data[2]->dims[0].sym, "batch size");
  assert_int_equal(g->inputs.data[2]->dims[0].value, 2);
  assert_string_equal(g->inputs.data[2]->dims[1].sym, "");
  assert_int_equal(g->inputs.data[3]->rank, 0);
  assert_int_equal(g->inputs.data[3]->placement.device, 1);
  mlc_node_t *add = g->nodes.data[0];
  assert_string_equal(add->name, "add/1");
  assert_int_equal(add->group, 0);
  mlc_value_t *w = add->inputs[1];
  assert_true(mlc_value_is_const(w));
  assert_true(mlc_value_const_float(w, 1) == -2.5);
  assert_int_equal(w->storage.kind, MLC_STORAGE_WEIGHT);
  mlc_node_t *clip = g->nodes.data[2];
  assert_null(clip->inputs[1]);
  assert_true(mlc_node_attr_float(clip, "alpha", 0) == 0.5f);
  assert_int_equal(mlc_node_attr_int(clip, "n", 0), -3);
  assert_string_equal(mlc_node_attr_string(clip, "s", ""), "q\"\n\x01");
  assert_int_equal(mlc_node_attr(clip, "v")->kind, MLC_ATTR_INTS);
  mlc_node_t *pool = g->nodes.data[3];
  assert_int_equal(pool->noutputs, 2);
  assert_null(pool->outputs[1]);
  const mlc_attr_t *t = mlc_node_attr(pool, "t");
  assert_int_equal(t->kind, MLC_ATTR_TENSOR);
  assert_int_equal(((const int64_t *)t->t->data)[1], 5);
  assert_int_equal(mlc_node_attr(pool, "ts")->tensors.n, 2);
  assert_int_equal(mlc_node_attr(pool, "e")->kind, MLC_ATTR_FLOATS);
  assert_int_equal(mlc_node_attr(pool, "names")->kind, MLC_ATTR_STRINGS);
  assert_true(g->nodes.data[1]->outputs[0]->flags & MLC_VALUE_FUSED);
  assert_null(mlc_graph_verify(g));
  mlc_graph_destroy(g);
}

/* Names that are not identifiers or not unique print as numbers; unused
 * constants are not printed; large non-zero data prints as a digest. */
static void test_naming_and_digest(void **state) {
  (void)state;
  mlc_graph_t *g;
  assert_null(mlc_graph_create("my model", &g));
  int64_t d2[] = {2};
  mlc_value_t *in = mlc_graph_add_value_static(g, "input:0", MLC_DT_F32, 1, d2);
  mlc_value_t *t1 = mlc_graph_add_value_static(g, "t", MLC_DT_F32, 1, d2);
  mlc_value_t *t2 = mlc_graph_add_value_static(g, "t", MLC_DT_F32, 1, d2);
  mlc_value_t *o = mlc_graph_add_value_static(g, "out", MLC_DT_F32, 1, d2);
  float big[20];
  for (int i = 0; i < 20; i++) big[i] = (float)i;
  int64_t d20[] = {20};
  mlc_graph_add_const(g, "unused", MLC_DT_F32, 1, d20, big, sizeof big, MLC_DATA_COPY);
  mlc_value_t *c = mlc_graph_add_const(g, "big", MLC_DT_F32, 1, d20, big,
                                       sizeof big, MLC_DATA_COPY);
  MLC_VEC_PUSH(&g->inputs, in);
  mlc_graph_add_node(g, MLC_OP_Neg, "", 1, &in, 1, &t1);
  mlc_graph_add_node(g, MLC_OP_Neg, "", 1, &t1, 1, &t2);
  mlc_value_t *ab[] = {t2, c};
  mlc_graph_add_node(g, MLC_OP_Add, "", 2, ab, 1, &o);
  MLC_VEC_PUSH(&g->outputs, o);
  char *text = print_to_string(g);
  assert_non_null(strstr(text, "graph \"my model\" opset 0\n  input %0 : f32[2]\n"));
  assert_non_null(strstr(text, "  const %big : f32[20] = <20 x f32, fnv:"));
  assert_null(strstr(text, "unused"));
  assert_non_null(strstr(text, "  %1 = Neg(%0) : f32[2]\n  %2 = Neg(%1) : f32[2]\n"
                               "  %out = Add(%2, %big) : f32[2]\n  output %out\n"));
  /* The parser fills digests with zeros. */
  mlc_graph_t *g2 = parse_ok(text);
  char *text2 = print_to_string(g2);
  assert_non_null(strstr(text2, "  const %big : f32[20] = <20 x f32, zeros>\n"));
  free(text);
  free(text2);
  mlc_graph_destroy(g);
  mlc_graph_destroy(g2);
}

static void test_comments_and_blank_lines(void **state) {
  (void)state;
  mlc_graph_t *g = parse_ok("// leading comment\n\ngraph g opset 13  // c\n"
                            "  input %x : f32[1]\n\n  %y = Neg(%x) : f32[1] // n\n"
                            "  output %y\n");
  char *t = print_to_string(g);
  assert_string_equal(t, "graph g opset 13\n  input %x : f32[1]\n"
                         "  %y = Neg(%x) : f32[1]\n  output %y\n");
  free(t);
  mlc_graph_destroy(g);
}

/* ---- errors ---- */

static void expect_error(const char *text, const char *where, const char *what,
                         const char *caret_line) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_graph_parse(text, strlen(text), &g);
  assert_non_null(st);
  assert_null(g);
  const char *msg = mlc_status_message(st);
  if (!strstr(msg, where) || !strstr(msg, what) || !strstr(msg, caret_line))
    fprintf(stderr, "unexpected message:\n%s\n", msg);
  assert_non_null(strstr(msg, where));
  assert_non_null(strstr(msg, what));
  assert_non_null(strstr(msg, caret_line));
  assert_int_equal(mlc_status_code(st), MLC_INVALID_ARGUMENT);
  mlc_status_free(st);
}

static void test_parse_errors(void **state) {
  (void)state;
  expect_error("graph g opset 1\n  input %x : f32[1]\n  %y = Neg(%q) : f32[1]\n",
               "line 3:12:", "undefined value %q",
               "  %y = Neg(%q) : f32[1]\n           ^");
  expect_error("graph g opset 1\n  input %x : f32[1]\n  %y = Frob(%x) : f32[1]\n",
               "line 3:8:", "unknown op 'Frob'", "       ^");
  expect_error("graph g opset 1\n  input %x : f33[1]\n", "line 2:14:",
               "expected a dtype", "             ^");
  expect_error("graph g opset 1\n  const %c : f32[3] = [1, 2]\n", "line 2:23:",
               "2 elements for a tensor of 3", "");
  expect_error("graph g opset 1\n  input %x : f32[1]\n  input %x : f32[1]\n",
               "line 3:9:", "defined twice", "");
  expect_error("graph g opset 1\n  input %x : f32[1\n", "line 2:19:",
               "expected ']'", "");
  expect_error("graph g\n", "line 1:8:", "expected 'opset'", "");
  expect_error("", "line 1:1:", "empty graph text", "");
  expect_error("graph g opset 1\n  const %c : i32[1] = [1.5]\n", "line 2:24:",
               "float element in a i32 tensor", "");
  expect_error("graph g opset 1\n  input %x : f32[1]\n"
               "  %y = Neg(%x) {g = graph<body>} : f32[1]\n",
               "line 3:21:", "graph attributes are not supported", "");
  expect_error("graph g opset 1\n  input %x : f32[1]\n  %y = Neg(%x) : f32[1] junk\n",
               "line 3:25:", "unexpected text at end of line", "");
  expect_error("graph g opset 1\n  input %x : f32[1] @heap+3\n", "line 2:22:",
               "expected in<N>", "");
  expect_error("graph g opset 1\n  const %c : f32[30] = <20 x f32, zeros>\n",
               "line 2:24:", "digest says 20 x f32", "");
}

/* Mutated texts never crash the parser: each either gives a line:column
 * error or parses, and then its print parses back and prints the same. */
static void test_mutations_do_not_crash(void **state) {
  (void)state;
  static const char alphabet[] = "%_[]{}()<>,:=@+-*?\"\n 0123456789.xefinaz";
  size_t n = strlen(k_full);
  char *buf = malloc(n + 8);
  uint32_t seed = 12345;
  int parsed = 0;
  for (int iter = 0; iter < 4000; iter++) {
    memcpy(buf, k_full, n + 1);
    size_t len = n;
    for (int m = 0; m < 1 + iter % 3; m++) {
      seed = seed * 1664525u + 1013904223u;
      size_t at = (seed >> 8) % len;
      char c = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
      if ((seed & 3) == 0 && len > 1) { /* delete */
        memmove(buf + at, buf + at + 1, len - at);
        len--;
      } else {
        buf[at] = c;
      }
    }
    mlc_graph_t *g = NULL;
    mlc_status_t *st = mlc_graph_parse(buf, len, &g);
    if (st) {
      assert_null(g);
      assert_non_null(strstr(mlc_status_message(st), "line "));
      mlc_status_free(st);
      continue;
    }
    parsed++;
    char *out = print_to_string(g);
    mlc_graph_t *g2 = NULL;
    st = mlc_graph_parse(out, strlen(out), &g2);
    if (st) fprintf(stderr, "%s\n%s\n", out, mlc_status_message(st));
    assert_null(st);
    char *out2 = print_to_string(g2);
    if (strcmp(out, out2) != 0) fprintf(stderr, "%s\n---\n%s\n", out, out2);
    assert_string_equal(out, out2);
    free(out);
    free(out2);
    mlc_graph_destroy(g2);
    mlc_status_free(mlc_graph_verify(g));
    mlc_graph_destroy(g);
  }
  free(buf);
  assert_true(parsed > 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_full),
      cmocka_unit_test(test_parsed_contents),
      cmocka_unit_test(test_naming_and_digest),
      cmocka_unit_test(test_comments_and_blank_lines),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_mutations_do_not_crash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
