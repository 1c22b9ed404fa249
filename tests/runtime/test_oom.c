/* Allocation-failure sweep: the runtime's sources are compiled into this
 * test with malloc, calloc, posix_memalign and strdup redirected to
 * counting versions that fail the Nth call (or every call from the Nth
 * on).  For every N a whole load / create / bind / run / release sequence
 * must end in success or a clean status (an out-of-memory one where the
 * failed allocation was the runtime's), never a crash; the sanitizer build
 * also checks that nothing leaks.  Because this file defines every mlcrt_
 * symbol, the linker takes nothing from mlcrt_static.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/fixture.h"

typedef struct oom_ctl {
  long count;   /* calls so far */
  long fail_at; /* the first call that fails; -1: none */
  int sticky;   /* fail every call from fail_at on */
  long failed;  /* calls that failed */
} oom_ctl_t;

/* Only the test's main thread allocates through these while a sweep step
 * runs (worker threads allocate nothing), so a plain struct is enough. */
static oom_ctl_t oom = {0, -1, 0, 0};

static int oom_fail(void) {
  long n = oom.count++;
  int fail = oom.fail_at >= 0 &&
             (n == oom.fail_at || (oom.sticky && n > oom.fail_at));
  oom.failed += fail;
  return fail;
}

static void *oom_malloc(size_t n) { return oom_fail() ? NULL : malloc(n); }
static void *oom_calloc(size_t a, size_t b) {
  return oom_fail() ? NULL : calloc(a, b);
}
static int oom_posix_memalign(void **p, size_t align, size_t n) {
  return oom_fail() ? 12 /* ENOMEM */ : posix_memalign(p, align, n);
}
static char *oom_strdup(const char *s) { return oom_fail() ? NULL : strdup(s); }

#define malloc oom_malloc
#define calloc oom_calloc
#define posix_memalign oom_posix_memalign
#define strdup oom_strdup
#include "runtime/cpu.c"
#include "runtime/elf.c"
#include "runtime/model.c"
#include "runtime/pool.c"
#include "runtime/session.c"
#include "runtime/status.c"
#undef malloc
#undef calloc
#undef posix_memalign
#undef strdup

static char *dir;
static char lib[1024];

static int setup(void **state) {
  dir = fixture_tmpdir();
  if (!dir) return -1;
  float w[FIX_N];
  fixture_weights(w);
  char defs[256];
  snprintf(defs, sizeof defs, "-DFIX_SIDE_WEIGHTS -DFIX_WEIGHTS_HASH=%lluull",
           (unsigned long long)fixture_fnv(w, sizeof w));
  return fixture_build(dir, "side.so", defs, lib, sizeof lib) |
         fixture_write_weights(dir, "fixture.weights", w, sizeof w);
}

static int teardown(void **state) {
  fixture_rmdir(dir);
  return 0;
}

/* One full use of the runtime; returns the first status (NULL: all ok) and
 * checks the sums when the run happened. */
static mlcrt_status_t *scenario(void) {
  static float a[FIX_N], b[FIX_N], sum[FIX_N];
  for (int i = 0; i < FIX_N; i++) a[i] = b[i] = (float)i;
  mlcrt_model_t *m = NULL;
  mlcrt_session_t *s = NULL;
  mlcrt_session_options_t o = {3};
  mlcrt_status_t *st = mlcrt_model_load(lib, &m);
  if (!st) st = mlcrt_session_create(m, &o, &s);
  if (!st) st = mlcrt_session_bind_input(s, 0, a, sizeof a);
  if (!st) st = mlcrt_session_bind_input(s, 1, b, sizeof b);
  if (!st) st = mlcrt_session_bind_output(s, 0, sum, 3); /* wrong size */
  if (st && mlcrt_status_code(st) == MLCRT_INVALID_ARGUMENT) {
    mlcrt_status_free(st); /* the expected error, allocated or not */
    st = mlcrt_session_bind_output(s, 0, sum, sizeof sum);
  } else if (!st) {
    st = mlcrt_status_make(MLCRT_INTERNAL, "wrong size accepted");
  }
  if (!st) st = mlcrt_session_run(s);
  if (!st && sum[5] != 10.0f + 2.5f)
    st = mlcrt_status_make(MLCRT_INTERNAL, "wrong sum");
  mlcrt_session_release(s);
  mlcrt_model_release(m);
  return st;
}

static void sweep(int sticky) {
  int ooms = 0;
  for (long n = 0;; n++) {
    oom = (oom_ctl_t){0, n, sticky, 0};
    mlcrt_status_t *st = scenario();
    long failed = oom.failed;
    oom.fail_at = -1;
    if (failed == 0) { /* every allocation done: the sweep is complete */
      if (st) fail_msg("no failure injected, yet: %s", mlcrt_status_message(st));
      assert_true(n > 5);
      break;
    }
    if (st) {
      /* "wrong size accepted"/"wrong sum" would be real bugs */
      assert_int_not_equal(mlcrt_status_code(st), MLCRT_INTERNAL);
      ooms += mlcrt_status_code(st) == MLCRT_OUT_OF_MEMORY;
      mlcrt_status_free(st);
    }
  }
  assert_true(ooms > 0);
}

static void test_fail_one_allocation(void **state) { sweep(0); }
static void test_fail_all_from_n(void **state) { sweep(1); }

/* A message with bytes to escape, failing each allocation in turn: the
 * status is out of memory or lacks the context, never unescaped. */
static void test_escape_under_oom(void **state) {
  for (long n = 0;; n++) {
    oom = (oom_ctl_t){0, n, 0, 0};
    mlcrt_status_t *st = mlcrt_status_annotate(
        mlcrt_status_make(MLCRT_NOT_FOUND, "input '%s'", "x\x1b[2J"),
        "model '%s'", "m\x07");
    long failed = oom.failed;
    oom.fail_at = -1;
    const char *msg = mlcrt_status_message(st);
    if (strpbrk(msg, "\x1b\x07")) fail_msg("allocation %ld: raw bytes", n);
    if (!failed)
      assert_string_equal(msg, "model 'm\\x07': input 'x\\x1b[2J'");
    mlcrt_status_free(st);
    if (!failed) break;
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fail_one_allocation),
      cmocka_unit_test(test_fail_all_from_n),
      cmocka_unit_test(test_escape_under_oom),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
