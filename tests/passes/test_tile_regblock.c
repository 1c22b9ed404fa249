/* Tests of the register-block tile pass beyond its golden text
 * (tests/golden/tile/register_block.mlt): the blocked kernel computes
 * bit for bit what the one-row kernel computes (interpreted, on every
 * target, ragged and fitted), the factor rule, and that the hint is
 * dropped when the pass declines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/target.h"
#include "passes/tile_pass.h"

/* y[r, j] = relu(bias[j] + sum_k a[r, k] * b[k, j]) over R rows of 16
 * columns, one row per tile, rows marked for blocking. */
static const char *k_gemm =
    "kernel k0_mm(in a: f32[%d] @in0, in b: f32[128] @weight+0, in bias: f32[16] @weight+512,"
    " out y: f32[%d] @out0) grid [g0: 1, g1: %d] block g1%s {\n"
    "  for i2 in [0, 16) vectorize(16) {\n"
    "    acc = bias[i2]\n"
    "    for i3 in [0, 8) {\n"
    "      acc = fma(a[((g1 * 8) + i3)], b[((i3 * 16) + i2)], acc)\n"
    "    }\n"
    "    store y[((g1 * 16) + i2)] = max(acc, 0:f32)\n"
    "  }\n"
    "}\n";

static mlc_tkernel_t *parse_gemm(int rows, bool fit) {
  char text[2048];
  snprintf(text, sizeof text, k_gemm, rows * 8, rows * 16, rows, fit ? " fit" : "");
  mlc_tkernel_t *k = NULL;
  mlc_status_t *st = mlc_tkernel_parse(text, strlen(text), &k);
  if (st) fail_msg("%s", mlc_status_message(st));
  return k;
}

static void run(const mlc_tkernel_t *k, float *a, float *b, float *bias, float *y) {
  void *bufs[4] = {a, b, bias, y};
  mlc_status_t *st = mlc_tkernel_interpret(k, bufs);
  if (st) fail_msg("%s", mlc_status_message(st));
}

static void check_equal(const char *target, int rows, bool fit, int64_t want_tiles) {
  mlc_target_t t;
  assert_null(mlc_target_lookup(target, NULL, &t));
  mlc_pass_ctx_t ctx = {.target = &t, .opt_level = 2};
  float *a = malloc(sizeof(float) * (size_t)rows * 8), b[128], bias[16];
  float *y0 = calloc((size_t)rows * 16, sizeof(float)), *y1 = calloc((size_t)rows * 16, sizeof(float));
  assert_non_null(a);
  for (int i = 0; i < rows * 8; i++) a[i] = (float)((i * 37) % 23) / 7.0f - 1.5f;
  for (int i = 0; i < 128; i++) b[i] = (float)((i * 11) % 17) / 9.0f - 0.9f;
  for (int i = 0; i < 16; i++) bias[i] = (float)i / 16.0f - 0.4f;
  mlc_tkernel_t *k = parse_gemm(rows, fit);
  run(k, a, b, bias, y0);
  assert_null(mlc_tpass_register_block.run_kernel(&ctx, k));
  assert_null(mlc_tkernel_verify(k));
  assert_int_equal(k->block, 0);
  assert_int_equal(mlc_tkernel_ntiles(k), want_tiles);
  memset(y1, 0xff, sizeof(float) * (size_t)rows * 16); /* NaNs: every element must be stored */
  run(k, a, b, bias, y1);
  assert_memory_equal(y0, y1, sizeof(float) * (size_t)rows * 16);
  mlc_tkernel_destroy(k);
  free(a);
  free(y0);
  free(y1);
}

static void test_blocked_equals_rows(void **state) {
  (void)state;
  /* AVX-512: 16 lanes, one vector per row: min(12, (32-1-1)/1) rows */
  check_equal("x86_64-avx512", 13, false, 2);
  check_equal("x86_64-avx512", 24, false, 2);
  /* AVX2: 8 lanes, two vectors: (16-2-1)/2 = 6 rows; 13 -> 3 tiles */
  check_equal("x86_64-avx2", 13, false, 3);
  check_equal("x86_64-avx2", 1, false, 1);
  /* fit on AVX2: 28 rows of two vectors take 4 (7 tiles, none idle, 8
   * accumulators) */
  check_equal("x86_64-avx2", 28, true, 7);
}

static void test_rows_rule(void **state) {
  (void)state;
  mlc_target_t t512, t256;
  assert_null(mlc_target_lookup("x86_64-avx512", NULL, &t512));
  assert_null(mlc_target_lookup("x86_64-avx2", NULL, &t256));
  assert_int_equal(mlc_regblock_rows(&t512, 4, 1000, false, NULL), 6);
  assert_int_equal(mlc_regblock_rows(&t512, 1, 1000, false, NULL), 12);
  assert_int_equal(mlc_regblock_rows(&t512, 4, 3, false, NULL), 3);
  assert_int_equal(mlc_regblock_rows(&t256, 2, 1000, false, NULL), 6);
  /* fit: 28 pixels of 2 AVX-512 vectors: 14 rows, none idle */
  assert_int_equal(mlc_regblock_rows(&t512, 2, 28, true, NULL), 14);
  assert_int_equal(mlc_regblock_rows(&t512, 2, 7, true, NULL), 7);
  assert_int_equal(mlc_regblock_rows(&t512, 4, 56, true, NULL), 4);
}

/* A loop bound that reads the blocked dim: the pass declines, drops the
 * hint and leaves the body as it was. */
static void test_declines(void **state) {
  (void)state;
  const char *text =
      "kernel k0(in a: f32[64] @in0, out y: f32[8] @out0) grid [g0: 8] block g0 {\n"
      "  acc = 0:f32\n"
      "  for i1 in [0, (g0 + 1)) {\n"
      "    acc = (acc + a[((g0 * 8) + i1)])\n"
      "  }\n"
      "  store y[g0] = acc\n"
      "}\n";
  mlc_tkernel_t *k = NULL;
  assert_null(mlc_tkernel_parse(text, strlen(text), &k));
  const mlc_tstmt_t *body = k->body;
  assert_null(mlc_tpass_register_block.run_kernel(NULL, k));
  assert_int_equal(k->block, 0);
  assert_ptr_equal(k->body, body);
  assert_int_equal(mlc_tkernel_ntiles(k), 8);
  mlc_tkernel_destroy(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blocked_equals_rows),
      cmocka_unit_test(test_rows_rule),
      cmocka_unit_test(test_declines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
