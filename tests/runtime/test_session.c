/* Sessions: binding checks with their messages, run before binding,
 * results for 1..N threads (all equal), side and embedded weights, a model
 * released before its sessions, a run function that fails, many
 * sessions on many threads running one model at once (with their own
 * pools or one shared pool), outputs overlapping other buffers, and
 * binding by name.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mlc/mlcrt.h"
#include "runtime/fixture.h"
#include "runtime/expect.h"

/* Under Address- or ThreadSanitizer, let a huge allocation fail with NULL
 * (as libc's malloc does) instead of stopping the program:
 * test_arena_too_large. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1";
}
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) {
  return "allocator_may_return_null=1";
}

typedef struct env {
  char *dir;
  char plain[1024], side[1024], embed[1024], fails[1024], huge[1024];
  float w[FIX_N];
} env_t;

static int setup(void **state) {
  static env_t e;
  e.dir = fixture_tmpdir();
  if (!e.dir) return -1;
  fixture_weights(e.w);
  char defs[256];
  snprintf(defs, sizeof defs, "-DFIX_SIDE_WEIGHTS -DFIX_WEIGHTS_HASH=%lluull",
           (unsigned long long)fixture_fnv(e.w, sizeof e.w));
  int rc = fixture_build(e.dir, "plain.so", "", e.plain, 1024) |
           fixture_build(e.dir, "side.so", defs, e.side, 1024) |
           fixture_build(e.dir, "embed.so", "-DFIX_EMBED_WEIGHTS", e.embed,
                         1024) |
           fixture_build(e.dir, "fails.so", "-DFIX_RUN_FAILS", e.fails, 1024) |
           fixture_build(e.dir, "huge.so", "-DFIX_ARENA_BYTES=4611686018427387904ull",
                         e.huge, 1024) |
           fixture_write_weights(e.dir, "fixture.weights", e.w, sizeof e.w);
  *state = &e;
  return rc ? -1 : 0;
}

static int teardown(void **state) {
  env_t *e = *state;
  fixture_rmdir(e->dir);
  return 0;
}

static mlcrt_model_t *load(const char *path) {
  mlcrt_model_t *m = NULL;
  mlcrt_status_t *st = mlcrt_model_load(path, &m);
  if (st) fail_msg("%s", mlcrt_status_message(st));
  return m;
}

static mlcrt_session_t *open_session(const mlcrt_model_t *m, int threads) {
  mlcrt_session_options_t o = {threads};
  mlcrt_session_t *s = NULL;
  mlcrt_status_t *st = mlcrt_session_create(m, &o, &s);
  if (st) fail_msg("%s", mlcrt_status_message(st));
  return s;
}

static void fill(float *a, float *b, int seed) {
  for (int i = 0; i < FIX_N; i++) {
    a[i] = (float)((i * 7 + seed) % 101);
    b[i] = (float)((i * 3 + seed * 5) % 37) - 18.0f;
  }
}

/* Binds, runs and checks sum = a + b + w_scale * w. */
static void run_and_check(mlcrt_session_t *s, int seed, float w_scale) {
  float a[FIX_N], b[FIX_N], sum[FIX_N];
  fill(a, b, seed);
  memset(sum, 0xff, sizeof sum);
  assert_null(mlcrt_session_bind_input(s, 0, a, sizeof a));
  assert_null(mlcrt_session_bind_input(s, 1, b, sizeof b));
  assert_null(mlcrt_session_bind_output(s, 0, sum, sizeof sum));
  mlcrt_status_t *st = mlcrt_session_run(s);
  if (st) fail_msg("%s", mlcrt_status_message(st));
  for (int i = 0; i < FIX_N; i++)
    if (sum[i] != a[i] + b[i] + w_scale * ((float)i * 0.5f))
      fail_msg("sum[%d] = %g, expected %g", i, sum[i],
               a[i] + b[i] + w_scale * ((float)i * 0.5f));
}

static void test_null_arguments(void **state) {
  env_t *e = *state;
  mlcrt_session_t *s = (mlcrt_session_t *)1;
  expect_error(mlcrt_session_create(NULL, NULL, &s), MLCRT_INVALID_ARGUMENT,
               "model is NULL");
  assert_null(s);
  mlcrt_model_t *m = load(e->plain);
  expect_error(mlcrt_session_create(m, NULL, NULL), MLCRT_INVALID_ARGUMENT,
               "out_session is NULL");
  mlcrt_session_options_t o = {-1};
  expect_error(mlcrt_session_create(m, &o, &s), MLCRT_INVALID_ARGUMENT,
               "num_threads -1");
  o.num_threads = 100000;
  expect_error(mlcrt_session_create(m, &o, &s), MLCRT_INVALID_ARGUMENT,
               "num_threads 100000");
  float x[4];
  expect_error(mlcrt_session_bind_input(NULL, 0, x, sizeof x),
               MLCRT_INVALID_ARGUMENT, "session is NULL");
  expect_error(mlcrt_session_bind_output_checked(NULL, 0, x, sizeof x, 1, 0,
                                                 NULL),
               MLCRT_INVALID_ARGUMENT, "session is NULL");
  expect_error(mlcrt_session_run(NULL), MLCRT_INVALID_ARGUMENT,
               "session is NULL");
  mlcrt_session_release(NULL);
  mlcrt_model_release(m);
}

static void test_bind_errors(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->plain);
  mlcrt_session_t *s = open_session(m, 1);
  static float buf[FIX_N];
  expect_error(mlcrt_session_bind_input(s, 2, buf, sizeof buf),
               MLCRT_INVALID_ARGUMENT,
               "input index 2 out of range (model 'addmodel' has 2)");
  expect_error(mlcrt_session_bind_output(s, -1, buf, sizeof buf),
               MLCRT_INVALID_ARGUMENT, "output index -1 out of range");
  expect_error(mlcrt_session_bind_input(s, 0, buf, 256),
               MLCRT_INVALID_ARGUMENT,
               "input 0 'a': 256 bytes bound, expected 4096 (float32[4,256])");
  expect_error(mlcrt_session_bind_output(s, 0, NULL, sizeof buf),
               MLCRT_INVALID_ARGUMENT, "output 0 'sum': data is NULL");
  int64_t good[2] = {4, 256}, bad0[2] = {2, 256}, bad1[2] = {4, 255};
  expect_error(mlcrt_session_bind_input_checked(s, 0, buf, sizeof buf,
                                                MLCRT_INT64, 2, good),
               MLCRT_INVALID_ARGUMENT,
               "input 0 'a': dtype int64 (7) bound, expected float32[4,256]");
  expect_error(mlcrt_session_bind_input_checked(s, 1, buf, sizeof buf,
                                                MLCRT_FLOAT32, 3, good),
               MLCRT_INVALID_ARGUMENT,
               "input 1 'b': rank 3 bound, expected 2 (float32[4,256])");
  expect_error(mlcrt_session_bind_input_checked(s, 0, buf, sizeof buf,
                                                MLCRT_FLOAT32, 2, bad0),
               MLCRT_INVALID_ARGUMENT,
               "input 0 'a': dim 0 ('batch') is 2, expected 4");
  expect_error(mlcrt_session_bind_output_checked(s, 0, buf, sizeof buf,
                                                 MLCRT_FLOAT32, 2, bad1),
               MLCRT_INVALID_ARGUMENT,
               "output 0 'sum': dim 1 is 255, expected 256 (float32[4,256])");
  expect_error(mlcrt_session_bind_output_checked(s, 0, buf, sizeof buf,
                                                 MLCRT_FLOAT32, 2, NULL),
               MLCRT_INVALID_ARGUMENT, "dims is NULL");
  assert_null(mlcrt_session_bind_input_checked(s, 0, buf, sizeof buf,
                                               MLCRT_FLOAT32, 2, good));
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

static void test_run_unbound(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->plain);
  mlcrt_session_t *s = open_session(m, 2);
  static float a[FIX_N];
  expect_error(mlcrt_session_run(s), MLCRT_FAILED_PRECONDITION,
               "3 tensors not bound: input 0 'a', input 1 'b', output 0 'sum'");
  assert_null(mlcrt_session_bind_input(s, 0, a, sizeof a));
  /* A failed bind leaves the tensor unbound. */
  expect_error(mlcrt_session_bind_input(s, 1, a, 4), MLCRT_INVALID_ARGUMENT,
               "4 bytes bound");
  expect_error(mlcrt_session_run(s), MLCRT_FAILED_PRECONDITION,
               "running model 'addmodel': 2 tensors not bound: input 1 'b', "
               "output 0 'sum'");
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

/* 1, 2, 3, 8 threads and the default all give the exact same sums. */
static void test_threads_agree(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->plain);
  int counts[] = {1, 2, 3, 8, 0};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    mlcrt_session_t *s = open_session(m, counts[i]);
    for (int r = 0; r < 20; r++) run_and_check(s, r, 0.0f);
    mlcrt_session_release(s);
  }
  mlcrt_model_release(m);
}

static void test_weights(void **state) {
  env_t *e = *state;
  const char *paths[] = {e->side, e->embed};
  for (int i = 0; i < 2; i++) {
    mlcrt_model_t *m = load(paths[i]);
    mlcrt_session_t *s = open_session(m, 4);
    run_and_check(s, 3, 1.0f);
    mlcrt_session_release(s);
    mlcrt_model_release(m);
  }
}

static void test_model_released_first(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->side);
  mlcrt_session_t *s = open_session(m, 2);
  mlcrt_model_release(m); /* the session keeps it (and its mapping) alive */
  run_and_check(s, 5, 1.0f);
  mlcrt_session_release(s);
}

static void test_run_fails(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->fails);
  mlcrt_session_t *s = open_session(m, 1);
  static float a[FIX_N], b[FIX_N], sum[FIX_N];
  assert_null(mlcrt_session_bind_input(s, 0, a, sizeof a));
  assert_null(mlcrt_session_bind_input(s, 1, b, sizeof b));
  assert_null(mlcrt_session_bind_output(s, 0, sum, sizeof sum));
  expect_error(mlcrt_session_run(s), MLCRT_INTERNAL, "returned 3");
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

/* An arena too large to allocate: a clean out-of-memory status. */
static void test_arena_too_large(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->huge);
  mlcrt_session_t *s = NULL;
  expect_error(mlcrt_session_create(m, NULL, &s), MLCRT_OUT_OF_MEMORY,
               "creating a session for model 'addmodel': allocating an arena "
               "of 4611686018427387904 bytes");
  assert_null(s);
  mlcrt_model_release(m);
}

typedef struct worker_arg {
  const mlcrt_model_t *model;
  int id;
  int failures;
  mlcrt_pool_t *pool; /* NULL: a pool of the session's own */
} worker_arg_t;

static void *worker(void *p) {
  worker_arg_t *w = p;
  mlcrt_session_options_t o = {1 + w->id % 3};
  mlcrt_session_t *s = NULL;
  mlcrt_status_t *st = w->pool
                           ? mlcrt_session_create_with_pool(w->model, w->pool, &s)
                           : mlcrt_session_create(w->model, &o, &s);
  if (st) {
    mlcrt_status_free(st);
    w->failures++;
    return NULL;
  }
  float a[FIX_N], b[FIX_N], sum[FIX_N];
  for (int r = 0; r < 100; r++) {
    fill(a, b, w->id * 1000 + r);
    st = mlcrt_session_bind_input(s, 0, a, sizeof a);
    if (!st) st = mlcrt_session_bind_input(s, 1, b, sizeof b);
    if (!st) st = mlcrt_session_bind_output(s, 0, sum, sizeof sum);
    if (!st) st = mlcrt_session_run(s);
    if (st) {
      mlcrt_status_free(st);
      w->failures++;
      continue;
    }
    for (int i = 0; i < FIX_N; i++)
      if (sum[i] != a[i] + b[i] + (float)i * 0.5f) {
        w->failures++;
        break;
      }
  }
  mlcrt_session_release(s);
  return NULL;
}

static void test_concurrent_sessions(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->side);
  enum { T = 6 };
  pthread_t th[T];
  worker_arg_t args[T];
  for (int i = 0; i < T; i++) {
    args[i] = (worker_arg_t){m, i, 0, NULL};
    assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
  }
  for (int i = 0; i < T; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  mlcrt_model_release(m);
}

/* Loading and releasing the same library from several threads at once. */
static void *load_worker(void *p) {
  const char *path = p;
  for (int i = 0; i < 20; i++) {
    mlcrt_model_t *m = NULL;
    mlcrt_status_t *st = mlcrt_model_load(path, &m);
    if (st) {
      mlcrt_status_free(st);
      return (void *)1;
    }
    mlcrt_model_release(m);
  }
  return NULL;
}

static void test_concurrent_loads(void **state) {
  env_t *e = *state;
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&th[i], NULL, load_worker, e->side), 0);
  for (int i = 0; i < 4; i++) {
    void *rc;
    pthread_join(th[i], &rc);
    assert_null(rc);
  }
}

/* Threads of this process, from /proc (-1 if unknown). */
static int thread_count(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  int n = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1) break;
  fclose(f);
  return n;
}

/* One pool for many sessions: they start no threads of their own, give
 * the same results, run at once from many threads, and keep the pool
 * alive after its creator released it. */
static void test_shared_pool(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->side);
  mlcrt_pool_t *pool = NULL;
  expect_error(mlcrt_pool_create(-1, &pool), MLCRT_INVALID_ARGUMENT,
               "num_threads -1 is not in [0, 1024]");
  expect_error(mlcrt_pool_create(1025, &pool), MLCRT_INVALID_ARGUMENT,
               "[0, 1024]");
  expect_error(mlcrt_pool_create(2, NULL), MLCRT_INVALID_ARGUMENT,
               "out_pool is NULL");
  assert_int_equal(mlcrt_pool_num_threads(NULL), 0);
  int before = thread_count();
  assert_null(mlcrt_pool_create(3, &pool));
  assert_int_equal(mlcrt_pool_num_threads(pool), 3);
  mlcrt_session_t *s = NULL;
  expect_error(mlcrt_session_create_with_pool(NULL, pool, &s),
               MLCRT_INVALID_ARGUMENT, "model is NULL");
  expect_error(mlcrt_session_create_with_pool(m, NULL, &s),
               MLCRT_INVALID_ARGUMENT, "pool is NULL");
  enum { S = 5 };
  mlcrt_session_t *ss[S];
  for (int i = 0; i < S; i++)
    assert_null(mlcrt_session_create_with_pool(m, pool, &ss[i]));
  if (before > 0) assert_int_equal(thread_count(), before + 2);
  for (int i = 0; i < S; i++) run_and_check(ss[i], i, 1.0f);
  /* The sessions hold the pool: its creator may let go first. */
  mlcrt_pool_release(pool);
  for (int i = 0; i < S; i++) run_and_check(ss[i], i + 10, 1.0f);
  for (int i = 0; i < S; i++) mlcrt_session_release(ss[i]);
  if (before > 0) assert_int_equal(thread_count(), before);
  /* Many threads, each with its session on one pool, at once. */
  assert_null(mlcrt_pool_create(4, &pool));
  enum { T = 6 };
  pthread_t th[T];
  worker_arg_t args[T];
  for (int i = 0; i < T; i++) {
    args[i] = (worker_arg_t){m, i, 0, pool};
    assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
  }
  for (int i = 0; i < T; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  mlcrt_pool_release(pool);
  mlcrt_model_release(m);
}

/* Outputs must not share memory with inputs or other outputs: the run is
 * refused, naming both tensors (before, it computed garbage in place).
 * Inputs may share memory; bindings may overlap in passing. */
static void test_overlapping_buffers(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->side);
  mlcrt_session_t *s = open_session(m, 2);
  static float a[FIX_N], b[FIX_N], big[3 * FIX_N];
  fill(a, b, 3);
  assert_null(mlcrt_session_bind_input(s, 0, a, sizeof a));
  assert_null(mlcrt_session_bind_input(s, 1, b, sizeof b));
  assert_null(mlcrt_session_bind_output(s, 0, a, sizeof a));
  expect_error(mlcrt_session_run(s), MLCRT_INVALID_ARGUMENT,
               "running model 'addmodel': output 0 'sum' overlaps input 0 'a' "
               "(the same buffer): an output's buffer must not share memory");
  /* Partly: the output starts inside b, or ends inside it. */
  assert_null(mlcrt_session_bind_input(s, 0, big, sizeof a));
  assert_null(mlcrt_session_bind_output(s, 0, big + FIX_N - 1, sizeof a));
  expect_error(mlcrt_session_run(s), MLCRT_INVALID_ARGUMENT,
               "output 0 'sum' overlaps input 0 'a': an output");
  assert_null(mlcrt_session_bind_input(s, 0, a, sizeof a));
  assert_null(mlcrt_session_bind_input(s, 1, big + FIX_N, sizeof b));
  assert_null(mlcrt_session_bind_output(s, 0, big + 1, sizeof a));
  expect_error(mlcrt_session_run(s), MLCRT_INVALID_ARGUMENT,
               "output 0 'sum' overlaps input 1 'b'");
  /* Adjacent is fine; so is one buffer for both inputs. */
  float out[FIX_N];
  memcpy(big, a, sizeof a);
  assert_null(mlcrt_session_bind_input(s, 0, big, sizeof a));
  assert_null(mlcrt_session_bind_input(s, 1, big, sizeof a));
  assert_null(mlcrt_session_bind_output(s, 0, big + FIX_N, sizeof a));
  assert_null(mlcrt_session_run(s));
  for (int i = 0; i < FIX_N; i++) {
    out[i] = big[FIX_N + i];
    assert_true(out[i] == a[i] + a[i] + (float)i * 0.5f);
  }
  /* Swapping buffers one bind at a time passes through an overlap. */
  static float x[FIX_N], y[FIX_N];
  fill(x, b, 4);
  assert_null(mlcrt_session_bind_input(s, 0, x, sizeof x));
  assert_null(mlcrt_session_bind_input(s, 1, b, sizeof b));
  assert_null(mlcrt_session_bind_output(s, 0, y, sizeof y));
  assert_null(mlcrt_session_run(s));
  assert_null(mlcrt_session_bind_input(s, 0, y, sizeof y)); /* = the output */
  assert_null(mlcrt_session_bind_output(s, 0, x, sizeof x));
  assert_null(mlcrt_session_run(s));
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

/* Binding by name: the same checks as by index, and an unknown name lists
 * the model's (escaped). */
static void test_bind_by_name(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = load(e->side);
  mlcrt_session_t *s = open_session(m, 1);
  float a[FIX_N], b[FIX_N], sum[FIX_N];
  fill(a, b, 7);
  assert_null(mlcrt_session_bind_input_by_name(s, "b", b, sizeof b));
  assert_null(mlcrt_session_bind_input_by_name(s, "a", a, sizeof a));
  expect_error(mlcrt_session_run(s), MLCRT_FAILED_PRECONDITION,
               "1 tensor not bound: output 0 'sum'");
  assert_null(mlcrt_session_bind_output_by_name(s, "sum", sum, sizeof sum));
  assert_null(mlcrt_session_run(s));
  for (int i = 0; i < FIX_N; i++)
    assert_true(sum[i] == a[i] + b[i] + (float)i * 0.5f);
  expect_error(mlcrt_session_bind_input_by_name(s, "sum", a, sizeof a),
               MLCRT_NOT_FOUND,
               "model 'addmodel' has no input named 'sum' (its inputs: 'a', 'b')");
  expect_error(mlcrt_session_bind_output_by_name(s, "x\001\n'y", sum, sizeof sum),
               MLCRT_NOT_FOUND,
               "no output named 'x\\x01\\x0a\\'y' (its outputs: 'sum')");
  expect_error(mlcrt_session_bind_input_by_name(s, "a", a, 3),
               MLCRT_INVALID_ARGUMENT, "input 0 'a': 3 bytes bound, expected 4096");
  expect_error(mlcrt_session_bind_input_by_name(s, NULL, a, sizeof a),
               MLCRT_INVALID_ARGUMENT, "name is NULL");
  expect_error(mlcrt_session_bind_output_by_name(NULL, "sum", sum, sizeof sum),
               MLCRT_INVALID_ARGUMENT, "session is NULL");
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_null_arguments),
      cmocka_unit_test(test_bind_errors),
      cmocka_unit_test(test_run_unbound),
      cmocka_unit_test(test_threads_agree),
      cmocka_unit_test(test_weights),
      cmocka_unit_test(test_model_released_first),
      cmocka_unit_test(test_run_fails),
      cmocka_unit_test(test_arena_too_large),
      cmocka_unit_test(test_concurrent_sessions),
      cmocka_unit_test(test_concurrent_loads),
      cmocka_unit_test(test_shared_pool),
      cmocka_unit_test(test_overlapping_buffers),
      cmocka_unit_test(test_bind_by_name),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
