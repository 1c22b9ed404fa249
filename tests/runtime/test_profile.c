/* Profiling through the runtime: the call table of an ABI-2 model, events
 * (one per call per run, in plan order, ordered and non-overlapping times,
 * inside the caller's own clock readings), disabling and clearing, a
 * version-1 model (loads and runs, refuses profiling, its stray call
 * fields ignored) and a broken call table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>
#include <cmocka.h>

#include "mlc/mlcrt.h"
#include "runtime/fixture.h"
#include "runtime/expect.h"

typedef struct env {
  char *dir;
  char plain[1024], v1[1024], badcalls[1024];
  float a[FIX_N], b[FIX_N], sum[FIX_N];
} env_t;

static int setup(void **state) {
  static env_t e;
  e.dir = fixture_tmpdir();
  if (!e.dir) return -1;
  int rc = fixture_build(e.dir, "plain.so", "", e.plain, 1024) |
           fixture_build(e.dir, "v1.so", "-DFIX_ABI_V1", e.v1, 1024) |
           fixture_build(e.dir, "badcalls.so", "-DFIX_BAD_CALLS", e.badcalls,
                         1024);
  for (int i = 0; i < FIX_N; i++) e.a[i] = (float)i, e.b[i] = 1.0f;
  *state = &e;
  return rc ? -1 : 0;
}

static int teardown(void **state) {
  env_t *e = *state;
  fixture_rmdir(e->dir);
  return 0;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A bound session over `path` with `threads`. */
static mlcrt_session_t *open_session(env_t *e, const char *path,
                                     int32_t threads, mlcrt_model_t **m) {
  assert_null(mlcrt_model_load(path, m));
  mlcrt_session_options_t o = {threads};
  mlcrt_session_t *s = NULL;
  assert_null(mlcrt_session_create(*m, &o, &s));
  assert_null(mlcrt_session_bind_input(s, 0, e->a, sizeof e->a));
  assert_null(mlcrt_session_bind_input(s, 1, e->b, sizeof e->b));
  assert_null(mlcrt_session_bind_output(s, 0, e->sum, sizeof e->sum));
  return s;
}

static void test_call_table(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = NULL;
  assert_null(mlcrt_model_load(e->plain, &m));
  assert_int_equal(mlcrt_model_num_calls(m), 2);
  assert_int_equal(mlcrt_model_num_calls(NULL), -1);
  mlcrt_call_info_t c;
  assert_null(mlcrt_model_call_info(m, 1, &c));
  assert_string_equal(c.kernel, "add_tiles");
  assert_int_equal(c.num_nodes, 2);
  assert_string_equal(c.nodes[0], "add \"a\"");
  assert_string_equal(c.nodes[1], "w\\b");
  assert_int_equal(c.tiles, 64);
  assert_int_equal(c.flops, 2 * FIX_N);
  expect_error(mlcrt_model_call_info(m, 2, &c), MLCRT_INVALID_ARGUMENT,
               "call index 2 out of range (model 'addmodel' has 2)");
  expect_error(mlcrt_model_call_info(m, 0, NULL), MLCRT_INVALID_ARGUMENT,
               "out_info is NULL");
  mlcrt_model_release(m);
}

static void check_events(const mlcrt_profile_event_t *ev, size_t n,
                         int64_t t0, int64_t t1) {
  assert_int_equal(n % 2, 0);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(ev[i].call, (int32_t)(i % 2));
    assert_int_equal(ev[i].thread, 0);
    assert_true(ev[i].start_ns <= ev[i].end_ns);
    assert_true(ev[i].start_ns >= (i ? ev[i - 1].end_ns : t0));
  }
  assert_true(n == 0 || ev[n - 1].end_ns <= t1);
}

static void run_profiled(env_t *e, int32_t threads) {
  mlcrt_model_t *m = NULL;
  mlcrt_session_t *s = open_session(e, e->plain, threads, &m);
  const mlcrt_profile_event_t *ev = NULL;
  size_t n = 7;
  assert_null(mlcrt_session_run(s)); /* not profiling: no events */
  assert_null(mlcrt_session_profile_events(s, &ev, &n));
  assert_int_equal(n, 0);
  assert_null(mlcrt_session_set_profiling(s, 1));
  int64_t t0 = now_ns();
  for (int r = 0; r < 300; r++) assert_null(mlcrt_session_run(s));
  int64_t t1 = now_ns();
  assert_float_equal(e->sum[5], 6.0f, 0);
  assert_null(mlcrt_session_profile_events(s, &ev, &n));
  assert_int_equal(n, 600); /* grows past the first reservation */
  check_events(ev, n, t0, t1);
  assert_null(mlcrt_session_set_profiling(s, 0));
  assert_null(mlcrt_session_run(s));
  assert_null(mlcrt_session_profile_events(s, &ev, &n));
  assert_int_equal(n, 600); /* kept, none added */
  mlcrt_session_profile_clear(s);
  assert_null(mlcrt_session_profile_events(s, &ev, &n));
  assert_int_equal(n, 0);
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

static void test_events(void **state) {
  run_profiled(*state, 1);
  run_profiled(*state, 3);
}

static void test_null_arguments(void **state) {
  (void)state;
  const mlcrt_profile_event_t *ev;
  size_t n;
  expect_error(mlcrt_session_set_profiling(NULL, 1), MLCRT_INVALID_ARGUMENT,
               "session is NULL");
  expect_error(mlcrt_session_profile_events(NULL, &ev, &n),
               MLCRT_INVALID_ARGUMENT, "session is NULL");
  mlcrt_session_profile_clear(NULL);
  expect_error(mlcrt_model_call_info(NULL, 0, NULL), MLCRT_INVALID_ARGUMENT,
               "model is NULL");
}

static void test_abi_v1(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = NULL;
  mlcrt_session_t *s = open_session(e, e->v1, 2, &m);
  assert_int_equal(mlcrt_model_num_calls(m), 0);
  assert_null(mlcrt_session_run(s));
  assert_float_equal(e->sum[9], 10.0f, 0);
  expect_error(mlcrt_session_set_profiling(s, 1), MLCRT_FAILED_PRECONDITION,
               "model 'addmodel' has ABI version 1, which has no profiling");
  assert_null(mlcrt_session_set_profiling(s, 0));
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

static void test_bad_call_table(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = NULL;
  expect_error(mlcrt_model_load(e->badcalls, &m), MLCRT_INCOMPATIBLE,
               "bad call table (2 entries)");
  assert_null(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_call_table),
      cmocka_unit_test(test_events),
      cmocka_unit_test(test_null_arguments),
      cmocka_unit_test(test_abi_v1),
      cmocka_unit_test(test_bad_call_table),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
