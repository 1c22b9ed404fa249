/* The tiled IR parser (ir/tile_parse.c): hand-written texts using every
 * construct print back identically and build the tree as written; errors
 * give line:column and what was expected; every truncation and many
 * one-byte mutations of a valid text give a clean status or a kernel, never
 * a crash; programs check kernel names and `shares`, and
 * mlc_program_verify checks that sharing is sound.  (Round trips over
 * real lowerings are in tests/tools/test_tile_roundtrip.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/program.h"
#include "ir/tile.h"

/* Every statement and expression kind, all loop kinds, typed constants
 * (negative, u64 above INT64_MAX, inf/nan, bool), storage with offsets,
 * named grid dimensions, an empty then-branch, `shares`. */
static const char k_full[] =
    "kernel k0(in x: f32[64] @in0+16, in buf1: i32[4] @weight+64, "
    "out y: f32[64] @arena+128, out buf3: u64[2] @out1) grid [row: 4, g1: 2] shares base {\n"
    "  for i2 in [0, 16) vectorize(8) {\n"
    "    store y[((row * 16) + i2)] = fma(x[((row * 16) + i2)], 2:f32, -0.5:f32)\n"
    "  }\n"
    "  acc3 = 0:f32\n"
    "  for i2 in [(0 + 1), min(16, (g1 * 8))) unroll {\n"
    "    acc3 = max((acc3 + x[i2]), -inf:f32)\n"
    "  }\n"
    "  for i4 in [0, 2) {\n"
    "    if ((cast<i32>(acc3) == buf1[(i4 % 4)]) & not(isnan(acc3))) {\n"
    "    } else {\n"
    "      store buf3[i4] = 18446744073709551615:u64\n"
    "    }\n"
    "  }\n"
    "  if select(false, true, (row >= 2)) {\n"
    "    store y[63] = select(isnan(acc3), nan:f32, pow(neg(acc3), 1e+20:f32))\n"
    "    store y[-1] = cast<f32>(-3:i8)\n"
    "  }\n"
    "}\n";

static char *print_kernel(const mlc_tkernel_t *k, size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  assert_non_null(f);
  mlc_tkernel_print(k, f);
  fclose(f);
  if (len) *len = n;
  return buf;
}

static mlc_tkernel_t *parse_ok(const char *text) {
  mlc_tkernel_t *k = NULL;
  mlc_status_t *st = mlc_tkernel_parse(text, strlen(text), &k);
  if (st) fail_msg("%s", mlc_status_message(st));
  return k;
}

static void test_round_trip_every_construct(void **state) {
  (void)state;
  char *text = strdup(k_full);
  mlc_tkernel_t *k = parse_ok(text);
  size_t n;
  char *out = print_kernel(k, &n);
  assert_string_equal(out, text);
  /* names, dtypes and storage came through */
  assert_int_equal(k->nbufs, 4);
  assert_true(k->bufs[2].written && !k->bufs[0].written);
  assert_int_equal(k->bufs[0].storage.kind, MLC_STORAGE_INPUT);
  assert_int_equal(k->bufs[0].storage.offset, 16);
  assert_int_equal(k->bufs[3].storage.index, 1);
  assert_int_equal(k->bufs[3].dtype, MLC_DT_U64);
  assert_string_equal(k->grid[0]->name, "row");
  assert_int_equal(k->grid_extents[1], 2);
  assert_string_equal(k->shares, "base");
  /* i2 of two sibling loops is one variable; y[-1] is parsed, the
   * verifier rejects it */
  mlc_status_t *st = mlc_tkernel_verify(k);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "constant index -1"));
  mlc_status_free(st);
  free(out);
  mlc_tkernel_destroy(k);
  free(text);
}

/* A local buffer: printed and parsed as `local`, no storage; every tile
 * (grid point) uses it as scratch; the interpreter allocates it itself
 * (NULL is passed for it); the verifier bounds its size. */
static const char k_local[] =
    "kernel k0(in x: f32[8], out y: f32[2], local part: f32[2]) grid [2] {\n"
    "  for i1 in [0, 2) vectorize(2) {\n"
    "    store part[i1] = (x[((g0 * 4) + i1)] + x[(((g0 * 4) + i1) + 2)])\n"
    "  }\n"
    "  store y[g0] = (part[0] + part[1])\n"
    "}\n";

static void test_local_buffer(void **state) {
  (void)state;
  mlc_tkernel_t *k = parse_ok(k_local);
  char *out = print_kernel(k, NULL);
  assert_string_equal(out, k_local);
  free(out);
  assert_true(k->bufs[2].local && k->bufs[2].written && !k->bufs[1].local);
  assert_int_equal(k->bufs[2].storage.kind, MLC_STORAGE_NONE);
  mlc_status_t *st = mlc_tkernel_verify(k);
  if (st) fail_msg("%s", mlc_status_message(st));
  float x[8] = {1, 2, 3, 4, 10, 20, 30, 40}, y[2] = {0};
  void *bufs[3] = {x, y, NULL};
  st = mlc_tkernel_interpret(k, bufs);
  if (st) fail_msg("%s", mlc_status_message(st));
  assert_true(y[0] == 10 && y[1] == 100);
  k->bufs[2].nelems = MLC_TBUF_LOCAL_MAX_BYTES / 4 + 1;
  st = mlc_tkernel_verify(k);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "is over 4096 bytes"));
  mlc_status_free(st);
  mlc_tkernel_destroy(k);
}

/* The tree is built as written: no folding of `(0 + 1)`, no dropping of a
 * same-type cast, single statements not wrapped in blocks, dtypes derived. */
static void test_tree_as_written(void **state) {
  (void)state;
  mlc_tkernel_t *k = parse_ok(
      "kernel t(in a: f32[4], out b: f32[4]) grid [] {\n"
      "  for i0 in [(0 + 0), (2 * 2)) {\n"
      "    store b[i0] = cast<f32>((a[i0] < 1:f32))\n"
      "  }\n"
      "}\n");
  assert_int_equal(k->body->kind, MLC_TS_FOR);
  const mlc_texpr_t *b = k->body->loop.begin;
  assert_int_equal(b->kind, MLC_TX_BINARY);
  assert_int_equal(b->bin.op, MLC_TB_ADD);
  const mlc_tstmt_t *s = k->body->loop.body;
  assert_int_equal(s->kind, MLC_TS_STORE);
  assert_int_equal(s->store.value->kind, MLC_TX_CAST);
  assert_int_equal(s->store.value->cast.a->dtype, MLC_DT_BOOL);
  assert_int_equal(s->store.value->cast.a->bin.op, MLC_TB_LT);
  assert_null(mlc_tkernel_verify(k));
  /* it runs: b = (a < 1) */
  float a[4] = {0, 2, -1, 1}, out[4];
  void *bufs[2] = {a, out};
  assert_null(mlc_tkernel_interpret(k, bufs));
  assert_true(out[0] == 1 && out[1] == 0 && out[2] == 1 && out[3] == 0);
  mlc_tkernel_destroy(k);
  /* buffers whose names are not unique are written buf<N> */
  k = parse_ok("kernel t(in x: f32[4], out x: f32[4]) grid [] {\n"
               "  store buf1[0] = buf0[3] // comment\n"
               "}\n");
  assert_int_equal(k->body->store.buf, 1);
  assert_int_equal(k->body->store.value->load.buf, 0);
  char *text = print_kernel(k, NULL);
  assert_string_equal(text, "kernel t(in buf0: f32[4], out buf1: f32[4]) grid [] {\n"
                            "  store buf1[0] = buf0[3]\n"
                            "}\n");
  mlc_tkernel_destroy(k);
  k = parse_ok(text);
  free(text);
  text = print_kernel(k, NULL);
  assert_non_null(strstr(text, "store buf1[0] = buf0[3]"));
  free(text);
  mlc_tkernel_destroy(k);
}

static void expect_error(const char *text, const char *where, const char *what) {
  mlc_tkernel_t *k = (mlc_tkernel_t *)1;
  mlc_status_t *st = mlc_tkernel_parse(text, strlen(text), &k);
  if (!st) fail_msg("parsed: %s", text);
  assert_null(k);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_ARGUMENT);
  const char *msg = mlc_status_message(st);
  if (!strstr(msg, where) || !strstr(msg, what))
    fail_msg("want '%s' and '%s' in:\n%s", where, what, msg);
  mlc_status_free(st);
}

#define HDR "kernel t(in a: f32[4], out b: f32[4]) grid [2] {\n"

static void test_errors_say_where_and_what(void **state) {
  (void)state;
  expect_error("", "line 1:1", "expected 'kernel'");
  expect_error("kernal t() grid [] {}", "line 1:1", "expected 'kernel'");
  expect_error("kernel t(in a f32[4]) grid [] {}", "line 1:15", "expected ':'");
  expect_error("kernel t(in a: q32[4]) grid [] {}", "line 1:16", "expected a dtype");
  expect_error("kernel t(inout a: f32[4]) grid [] {}", "line 1:10", "expected 'in', 'out' or 'local'");
  expect_error("kernel t(in a: f32[4] @stack+0) grid [] {}", "line 1:24", "expected in<N>");
  expect_error("kernel t(in a: f32[4] @arena) grid [] {}", "line 1:29", "expected '+OFFSET'");
  expect_error("kernel t() grid [0] {}", "line 1:18", "a grid extent must be in [1,");
  expect_error("kernel t() {}", "line 1:12", "expected 'grid'");
  expect_error("kernel t() grid [] shares {}", "line 1:27", "expected a kernel name after");
  expect_error(HDR "  store c[0] = 1:f32\n}\n", "line 2:9", "unknown buffer 'c'");
  expect_error(HDR "  store b[i9] = 1:f32\n}\n", "line 2:11", "undefined variable 'i9'");
  expect_error(HDR "  store b[0] = 1.5\n}\n", "line 2:16", "a float constant needs a dtype");
  expect_error(HDR "  store b[0] = 1.5:i32\n}\n", "line 2:16", "expected an integer for a i32");
  expect_error(HDR "  store b[9223372036854775808] = 1:f32\n}\n", "line 2:11", "out of i64 range");
  expect_error(HDR "  store b[0] = (a[0] ** 2:f32)\n}\n", "line 2:23", "expected an expression");
  expect_error(HDR "  store b[0] = (a[0] @ 2:f32)\n}\n", "line 2:22", "expected a binary operator");
  expect_error(HDR "  store b[0] = sqr(a[0])\n}\n", "line 2:16", "unknown function 'sqr'");
  expect_error(HDR "  store b[0] = fma(a[0], a[1])\n}\n", "line 2:30", "expected ','");
  expect_error(HDR "  store b[0] = cast<f32(a[0])\n}\n", "line 2:24", "expected '>'");
  expect_error(HDR "  for g0 in [0, 4) {\n  }\n}\n", "line 2:7", "'g0' is a grid variable");
  expect_error(HDR "  for i1 of [0, 4) {\n  }\n}\n", "line 2:10", "expected 'in'");
  expect_error(HDR "  for i1 in [0, 4) vectorize(-1) {\n  }\n}\n", "line 2:30",
               "a vector width must be in");
  expect_error(HDR "  while 1 {\n  }\n}\n", "line 2:3", "expected a statement");
  expect_error(HDR "  store b[0] = 1:f32\n", "line 3:1", "expected '}'");
  expect_error(HDR "}\nkernel u() grid [] {\n}\n", "line 3:1",
               "expected the end of the text after the kernel");
  /* the message shows the line and a caret under the column */
  mlc_tkernel_t *k;
  const char *t = HDR "  store b[0] = x\n}\n";
  mlc_status_t *st = mlc_tkernel_parse(t, strlen(t), &k);
  assert_non_null(strstr(mlc_status_message(st), "\n  store b[0] = x\n               ^"));
  mlc_status_free(st);
}

/* Deep nesting is an error, not a stack overflow. */
static void test_nesting_limit(void **state) {
  (void)state;
  size_t depth = 100000;
  char *t = malloc(depth * 2 + 200);
  size_t n = (size_t)sprintf(t, HDR "  store b[0] = ");
  for (size_t i = 0; i < depth; i++) t[n++] = '(';
  t[n] = 0;
  expect_error(t, "line 2:", "nesting deeper than");
  n = (size_t)sprintf(t, HDR);
  for (size_t i = 0; i < depth && n < depth * 2; i++) n += (size_t)sprintf(t + n, "if true {");
  expect_error(t, "line 2:", "nesting deeper than");
  free(t);
}

/* Parsing `len` bytes of `text` gives a kernel that prints, or an
 * INVALID_ARGUMENT status with a line:column. */
static void parse_clean(const char *text, size_t len) {
  mlc_tkernel_t *k = NULL;
  mlc_status_t *st = mlc_tkernel_parse(text, len, &k);
  if (st) {
    assert_int_equal(mlc_status_code(st), MLC_INVALID_ARGUMENT);
    assert_non_null(strstr(mlc_status_message(st), "line "));
    assert_null(k);
    mlc_status_free(st);
    return;
  }
  char *out = print_kernel(k, NULL);
  mlc_status_free(mlc_tkernel_verify(k));
  free(out);
  mlc_tkernel_destroy(k);
}

static void test_truncations_and_mutations(void **state) {
  (void)state;
  char *text = strdup(k_full);
  size_t len = strlen(text);
  /* every prefix, copied so that nothing past it is readable */
  for (size_t n = 0; n < len; n++) {
    char *cut = malloc(n + 1);
    memcpy(cut, text, n);
    parse_clean(cut, n);
    free(cut);
  }
  /* one-byte mutations with bytes that matter to the grammar */
  static const char subs[] = "()[]{},:=<>+-*/%&|^!@ \n0123456789.xeginf\"#\x01\xff";
  char *m = malloc(len);
  uint32_t seed = 12345;
  for (int trial = 0; trial < 20000; trial++) {
    memcpy(m, text, len);
    seed = seed * 1664525u + 1013904223u;
    size_t at = (seed >> 8) % len;
    m[at] = subs[(seed >> 20) % (sizeof subs - 1)];
    parse_clean(m, len);
  }
  free(m);
  free(text);
}

/* ---- programs ---- */

static const char k_prog[] =
    "kernel a(in x: f32[8] @in0, out y: f32[8] @arena+0) grid [2] {\n"
    "  for i1 in [0, 4) vectorize(4) {\n"
    "    store y[((g0 * 4) + i1)] = exp(x[((g0 * 4) + i1)])\n"
    "  }\n"
    "}\n"
    "\n"
    "// a comment between kernels\n"
    "kernel b(in x: f32[8] @arena+0, out y: f32[8] @out0) grid [2] shares a {\n"
    "  for i1 in [0, 4) vectorize(4) {\n"
    "    store y[((g0 * 4) + i1)] = exp(x[((g0 * 4) + i1)])\n"
    "  }\n"
    "}\n";

static char *print_program(const mlc_program_t *p) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  mlc_program_print(p, f);
  fclose(f);
  return buf;
}

static void test_program_parse_and_verify(void **state) {
  (void)state;
  mlc_program_t p;
  assert_null(mlc_program_parse(k_prog, strlen(k_prog), &p));
  assert_int_equal(p.kernels.len, 2);
  assert_null(mlc_program_verify(&p));
  char *out = print_program(&p);
  assert_non_null(strstr(out, "}\n\nkernel b("));
  assert_null(strstr(out, "comment"));
  free(out);
  /* b differs from a: the sharing claim fails verification */
  p.kernels.data[1]->body->loop.loop_kind = MLC_LOOP_SERIAL;
  mlc_status_t *st = mlc_program_verify(&p);
  assert_int_equal(mlc_status_code(st), MLC_INTERNAL);
  assert_non_null(strstr(mlc_status_message(st), "kernel b shares a but differs"));
  mlc_status_free(st);
  mlc_program_deinit(&p);
  /* an empty text is an empty program */
  assert_null(mlc_program_parse("  // nothing\n", 13, &p));
  assert_int_equal(p.kernels.len, 0);
  mlc_program_deinit(&p);
}

static void expect_program_error(const char *text, const char *want) {
  mlc_program_t p;
  mlc_status_t *st = mlc_program_parse(text, strlen(text), &p);
  if (!st) fail_msg("parsed: %s", text);
  if (!strstr(mlc_status_message(st), want))
    fail_msg("want '%s' in:\n%s", want, mlc_status_message(st));
  assert_int_equal(p.kernels.len, 0);
  mlc_status_free(st);
}

static void test_program_errors(void **state) {
  (void)state;
  expect_program_error("kernel a() grid [] {\n}\nkernel a() grid [] {\n}\n",
                       "line 3:1: kernel 'a' is defined twice");
  expect_program_error("kernel a() grid [] shares b {\n}\nkernel b() grid [] {\n}\n",
                       "line 1:1: kernel 'a' shares 'b', which is not an earlier kernel");
  expect_program_error("kernel a() grid [] {\n}\nstore", "line 3:1: expected 'kernel'");
  /* truncations of a program: clean errors */
  size_t len = strlen(k_prog);
  for (size_t n = 0; n < len; n++) {
    char *cut = malloc(n + 1);
    memcpy(cut, k_prog, n);
    mlc_program_t p;
    mlc_status_t *st = mlc_program_parse(cut, n, &p);
    if (st) assert_int_equal(mlc_status_code(st), MLC_INVALID_ARGUMENT);
    mlc_status_free(st);
    mlc_program_deinit(&p);
    free(cut);
  }
}

/* A sharer of a sharer, and a duplicate name, fail verification. */
static void test_program_verify_rules(void **state) {
  (void)state;
  mlc_program_t p;
  assert_null(mlc_program_parse(k_prog, strlen(k_prog), &p));
  mlc_tkernel_t *c = NULL;
  const char *kb = strstr(k_prog, "kernel b");
  assert_null(mlc_tkernel_parse(kb, strlen(kb), &c));
  assert_true(MLC_VEC_PUSH(&p.kernels, c));
  c->name = "c";
  c->shares = "b";
  mlc_status_t *st = mlc_program_verify(&p);
  assert_non_null(strstr(mlc_status_message(st), "kernel c shares b, which shares a itself"));
  mlc_status_free(st);
  c->name = "a";
  c->shares = NULL;
  st = mlc_program_verify(&p);
  assert_non_null(strstr(mlc_status_message(st), "kernels 0 and 2 are both named a"));
  mlc_status_free(st);
  mlc_program_deinit(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_construct),
      cmocka_unit_test(test_local_buffer),
      cmocka_unit_test(test_tree_as_written),
      cmocka_unit_test(test_errors_say_where_and_what),
      cmocka_unit_test(test_nesting_limit),
      cmocka_unit_test(test_truncations_and_mutations),
      cmocka_unit_test(test_program_parse_and_verify),
      cmocka_unit_test(test_program_errors),
      cmocka_unit_test(test_program_verify_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
