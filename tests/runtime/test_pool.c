/* The thread pool behind parallel_for: every index of [0, n) is run exactly
 * once in contiguous near-equal chunks, the work really spreads over the
 * workers, nested calls run inline instead of deadlocking, and pools can be
 * created and released quickly.  Also statuses, dtypes and the version.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mlc/mlcrt.h"
#include "runtime/internal.h"
#include "runtime/pool.h"

enum { MAXN = 4096, MAXCALLS = 64 };

typedef struct record {
  atomic_int hits[MAXN];
  atomic_int calls;
  int64_t begin[MAXCALLS], end[MAXCALLS];
  pthread_t who[MAXCALLS];
  mlcrt_pool_t *pool; /* for the nested test */
  atomic_int inner;
} record_t;

static void count(void *ctx, int64_t b, int64_t e) {
  record_t *r = ctx;
  int c = atomic_fetch_add(&r->calls, 1);
  if (c < MAXCALLS) {
    r->begin[c] = b;
    r->end[c] = e;
    r->who[c] = pthread_self();
  }
  for (int64_t i = b; i < e; i++) atomic_fetch_add(&r->hits[i], 1);
  usleep(200); /* long enough for every worker to take its chunk */
}

static void check_cover(int32_t threads, int64_t n) {
  static record_t r;
  memset(&r, 0, sizeof r);
  mlcrt_pool_t *p = NULL;
  assert_null(mlcrt_pool_create(threads, &p));
  assert_int_equal(mlcrt_pool_num_threads(p), threads);
  mlcrt_pool_parallel_for(p, n, count, &r);
  for (int64_t i = 0; i < n; i++)
    if (atomic_load(&r.hits[i]) != 1)
      fail_msg("threads %d n %lld: index %lld ran %d times", threads,
               (long long)n, (long long)i, atomic_load(&r.hits[i]));
  int64_t expected = n <= 0 ? 0 : n == 1 ? 1 : n < threads ? n : threads;
  assert_int_equal(atomic_load(&r.calls), expected);
  int64_t lo = n, hi = 0;
  for (int c = 0; c < expected; c++) {
    int64_t len = r.end[c] - r.begin[c];
    lo = len < lo ? len : lo;
    hi = len > hi ? len : hi;
  }
  if (expected > 1) assert_true(hi - lo <= 1); /* static, balanced split */
  mlcrt_pool_release(p);
}

static void test_cover(void **state) {
  (void)state;
  int32_t threads[] = {1, 2, 3, 8};
  int64_t ns[] = {0, 1, 2, 3, 7, 64, 1000, MAXN};
  for (size_t t = 0; t < 4; t++)
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
      check_cover(threads[t], ns[i]);
}

static void test_chunk_math(void **state) {
  (void)state;
  int64_t b, e, n = INT64_MAX - 5, prev = 0;
  for (int64_t i = 0; i < 7; i++) {
    mlcrt_pool_chunk(n, 7, i, &b, &e);
    assert_true(b == prev && e > b);
    prev = e;
  }
  assert_true(prev == n);
  mlcrt_pool_chunk(10, 4, 0, &b, &e);
  assert_true(b == 0 && e == 3);
  mlcrt_pool_chunk(10, 4, 3, &b, &e);
  assert_true(b == 8 && e == 10);
}

static void test_spreads(void **state) {
  (void)state;
  static record_t r;
  memset(&r, 0, sizeof r);
  mlcrt_pool_t *p = NULL;
  assert_null(mlcrt_pool_create(4, &p));
  mlcrt_pool_parallel_for(p, 4, count, &r);
  assert_int_equal(atomic_load(&r.calls), 4);
  int distinct = 0;
  for (int i = 0; i < 4; i++) {
    int seen = 0;
    for (int j = 0; j < i; j++) seen |= pthread_equal(r.who[i], r.who[j]);
    distinct += !seen;
  }
  assert_int_equal(distinct, 4);
  mlcrt_pool_release(p);
}

static void outer(void *ctx, int64_t b, int64_t e) {
  record_t *r = ctx;
  for (int64_t i = b; i < e; i++) {
    mlcrt_pool_parallel_for(r->pool, 8, count, r); /* nested: runs inline */
    atomic_fetch_add(&r->inner, 1);
  }
}

static void test_nested(void **state) {
  (void)state;
  static record_t r;
  memset(&r, 0, sizeof r);
  assert_null(mlcrt_pool_create(3, &r.pool));
  mlcrt_pool_parallel_for(r.pool, 6, outer, &r);
  assert_int_equal(atomic_load(&r.inner), 6);
  for (int i = 0; i < 8; i++) assert_int_equal(atomic_load(&r.hits[i]), 6);
  mlcrt_pool_release(r.pool);
}

static void test_many_jobs_and_pools(void **state) {
  (void)state;
  static record_t r;
  for (int k = 0; k < 20; k++) {
    mlcrt_pool_t *p = NULL;
    assert_null(mlcrt_pool_create(1 + k % 5, &p));
    memset(&r, 0, sizeof r);
    for (int j = 0; j < 5; j++) mlcrt_pool_parallel_for(p, 100, count, &r);
    for (int i = 0; i < 100; i++) assert_int_equal(atomic_load(&r.hits[i]), 5);
    mlcrt_pool_release(p);
  }
  mlcrt_pool_parallel_for(NULL, 3, count, &r); /* no pool: inline */
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Between jobs the workers sleep: an idle pool of 4 burns (almost) no CPU
 * time, while 3 spinning workers would burn 3 x 0.3 s. */
static void test_idle_pool_sleeps(void **state) {
  (void)state;
  static record_t r;
  memset(&r, 0, sizeof r);
  mlcrt_pool_t *p = NULL;
  assert_null(mlcrt_pool_create(4, &p));
  mlcrt_pool_parallel_for(p, 8, count, &r);
  usleep(20000); /* past the bounded spin */
  double before = cpu_seconds();
  usleep(300000);
  double used = cpu_seconds() - before;
  if (used > 0.05) fail_msg("idle pool used %.3f s of CPU in 0.3 s", used);
  mlcrt_pool_release(p);
}

static void test_status_and_dtypes(void **state) {
  (void)state;
  assert_int_equal(mlcrt_status_code(NULL), MLCRT_OK);
  assert_string_equal(mlcrt_status_message(NULL), "ok");
  mlcrt_status_free(NULL);
  assert_string_equal(mlcrt_dtype_name(MLCRT_FLOAT32), "float32");
  assert_string_equal(mlcrt_dtype_name(MLCRT_BFLOAT16), "bfloat16");
  assert_string_equal(mlcrt_dtype_name(999), "unknown");
  assert_int_equal(mlcrt_dtype_size(MLCRT_INT64), 8);
  assert_int_equal(mlcrt_dtype_size(MLCRT_BOOL), 1);
  assert_int_equal(mlcrt_dtype_size(-3), 0);
  assert_string_equal(mlcrt_version(), "0.1.0");
  /* The static out-of-memory status: readable, and freeing it is a no-op. */
  mlcrt_status_t *oom = mlcrt_status_oom();
  assert_int_equal(mlcrt_status_code(oom), MLCRT_OUT_OF_MEMORY);
  assert_string_equal(mlcrt_status_message(oom), "out of memory");
  mlcrt_status_free(oom);
  mlcrt_status_free(oom);
  assert_ptr_equal(mlcrt_status_annotate(oom, "ctx"), oom);
  assert_string_equal(mlcrt_status_message(oom), "out of memory");
  mlcrt_status_t *st = mlcrt_status_make(MLCRT_NOT_FOUND, "x %d", 5);
  st = mlcrt_status_annotate(st, "outer %s", "ctx");
  assert_string_equal(mlcrt_status_message(st), "outer ctx: x 5");
  mlcrt_status_free(st);
  assert_null(mlcrt_status_annotate(NULL, "ctx"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cover),
      cmocka_unit_test(test_chunk_math),
      cmocka_unit_test(test_spreads),
      cmocka_unit_test(test_nested),
      cmocka_unit_test(test_many_jobs_and_pools),
      cmocka_unit_test(test_idle_pool_sleeps),
      cmocka_unit_test(test_status_and_dtypes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
