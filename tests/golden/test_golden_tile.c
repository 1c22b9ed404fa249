/* The golden test runner for tile passes.  Each file in tests/golden/tile
 * (ending .mlt) is
 *
 *   // RUN: pass1,pass2
 *   <an input program in tiled IR text: kernels as `--emit tile` prints>
 *   // EXPECT:
 *   <the program as printed after running the tile passes in order>
 *
 * Passes are found by name with mlc_tpass_find, so every pass of the tile
 * pipeline can be named.  The passes see the x86_64-avx2 target (fixed, so
 * results do not depend on the machine running the tests).  The input must
 * verify (mlc_program_verify) and so must the program after each pass; the
 * printed result must equal the expected text (trailing blank lines
 * ignored) and must itself parse and print back unchanged.  Setting
 * MLC_GOLDEN_UPDATE=1 rewrites the expected part of every file with the
 * actual output (review the diff before committing).  An optional argument
 * runs only the files whose name contains it. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golden_util.h"

#include "passes/tile_pass.h"

static char *print_program(const mlc_program_t *p, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  mlc_program_print(p, f);
  fclose(f);
  return buf;
}

/* Runs the comma-separated passes in `list` (up to the end of the line). */
static void run_passes(const char *path, const char *list, mlc_program_t *p) {
  mlc_target_t target;
  mlc_status_t *st = mlc_target_lookup("x86_64-avx2", NULL, &target);
  if (st) fail_msg("%s", mlc_status_message(st));
  mlc_pass_ctx_t ctx = {.target = &target, .opt_level = 2};
  size_t n;
  for (const char *b; (b = golden_next_pass(&list, &n));) {
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)n, b);
    const mlc_tpass_t *pass = mlc_tpass_find(name);
    if (!pass) fail_msg("%s: unknown tile pass '%s'", path, name);
    st = mlc_tpipeline_run(&ctx, &pass, 1, p);
    if (!st) st = mlc_program_verify(p);
    if (st) fail_msg("%s: pass %s: %s", path, name, mlc_status_message(st));
  }
}

/* The expected text parses and prints back unchanged. */
static bool round_trips(const char *path, const char *actual, size_t alen) {
  mlc_program_t p2;
  mlc_status_t *st = mlc_program_parse(actual, alen, &p2);
  if (st) fail_msg("%s: output does not parse: %s", path, mlc_status_message(st));
  size_t again_len = 0;
  char *again = print_program(&p2, &again_len);
  mlc_program_deinit(&p2);
  bool same = again_len == alen && memcmp(again, actual, alen) == 0;
  if (!same) fprintf(stderr, "%s: output does not round-trip:\n%s", path, again);
  free(again);
  return same;
}

static void test_one_file(void **state) {
  const char *path = *state;
  golden_file_t gf = {0};
  golden_read(path, &gf);
  mlc_program_t p;
  mlc_status_t *st = mlc_program_parse(gf.input, gf.input_len, &p);
  if (st) fail_msg("%s: input: %s", path, mlc_status_message(st));
  st = mlc_program_verify(&p);
  if (st) fail_msg("%s: input does not verify: %s", path, mlc_status_message(st));
  run_passes(path, gf.passes, &p);
  size_t alen = 0;
  char *actual = print_program(&p, &alen);
  mlc_program_deinit(&p);
  bool same = golden_compare(path, &gf, actual, alen) && round_trips(path, actual, alen);
  free(actual);
  free(gf.text);
  assert_true(same);
}

int main(int argc, char **argv) {
  return golden_main(argc, argv, MLC_GOLDEN_TILE_DIR, ".mlt", "golden_tile", test_one_file);
}
