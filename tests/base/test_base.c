/* Unit tests for base/: status messages and context, arena allocation and
 * alignment, the growable array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/arena.h"
#include "base/status.h"
#include "base/vec.h"

static mlc_status_t *inner(int fail) {
  if (fail) return MLC_ERR(INVALID_MODEL, "bad dim %d", 7);
  return NULL;
}

static mlc_status_t *outer(int fail) {
  MLC_RETURN_IF_ERROR(inner(fail), "node '%s'", "conv1");
  return NULL;
}

static void test_status_context(void **state) {
  (void)state;
  assert_null(outer(0));
  mlc_status_t *st = outer(1);
  assert_non_null(st);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_MODEL);
  assert_string_equal(mlc_status_message(st), "node 'conv1': bad dim 7");
  st = mlc_status_annotate(st, "compiling %s", "m.onnx");
  assert_string_equal(mlc_status_message(st),
                      "compiling m.onnx: node 'conv1': bad dim 7");
  mlc_status_free(st);
  assert_string_equal(mlc_status_message(NULL), "ok");
  assert_null(mlc_status_annotate(NULL, "x"));
  assert_string_equal(mlc_status_code_name(MLC_UNSUPPORTED), "unsupported");
}

static void test_arena(void **state) {
  (void)state;
  mlc_arena_t a;
  mlc_arena_init(&a);
  char *p = mlc_arena_alloc(&a, 3);
  assert_non_null(p);
  assert_int_equal((uintptr_t)p % 16, 0);
  for (int i = 0; i < 3; i++) assert_int_equal(p[i], 0);
  void *big = mlc_arena_alloc_aligned(&a, 1 << 20, 64); /* > block size */
  assert_non_null(big);
  assert_int_equal((uintptr_t)big % 64, 0);
  memset(big, 1, 1 << 20);
  for (int i = 0; i < 10000; i++) {
    int *q = mlc_arena_alloc(&a, sizeof(int));
    assert_non_null(q);
    *q = i;
  }
  assert_string_equal(mlc_arena_strdup(&a, "abc"), "abc");
  assert_string_equal(mlc_arena_printf(&a, "%s-%d", "k", 12), "k-12");
  assert_null(mlc_arena_calloc(&a, SIZE_MAX / 2, 4)); /* overflow */
  assert_null(mlc_arena_alloc(&a, SIZE_MAX - 8));
  mlc_arena_deinit(&a);
}

static void test_vec(void **state) {
  (void)state;
  MLC_VEC(int) v = {0};
  for (int i = 0; i < 1000; i++) assert_true(MLC_VEC_PUSH(&v, i * 2));
  assert_int_equal(v.len, 1000);
  assert_true(v.cap >= 1000);
  for (int i = 0; i < 1000; i++) assert_int_equal(v.data[i], i * 2);
  MLC_VEC_FREE(&v);
  assert_null(v.data);
  assert_int_equal(v.len, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_context),
      cmocka_unit_test(test_arena),
      cmocka_unit_test(test_vec),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
