/* The golden IR test runner.  Each golden file (tests/golden, ending .mlg) is
 *
 *   // RUN: pass1,pass2
 *   <input graph text>
 *   // EXPECT:
 *   <the graph as printed after running the passes in order>
 *
 * Passes are named by their .name and looked up in `k_passes` below.  The
 * graph is verified after parsing (unless the first pass is infer-shapes:
 * before it, values may have no dtype) and after each pass; the printed result
 * must equal the expected text (trailing blank lines ignored) and must
 * itself parse and print back unchanged.  Setting
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

#include "ir/graph.h"
#include "passes/pass.h"

/* The passes golden files may name.  Passes of other components are in the
 * table when their source file exists (tests/golden/CMakeLists.txt defines
 * MLC_GOLDEN_HAVE_*); a golden file naming a pass that is not built is
 * skipped.  Passes are listed by hand rather than through mlc_pass_find()
 * so that this program links before every pass of pipeline.c exists. */
static const mlc_pass_t *const k_passes[] = {
#ifdef MLC_GOLDEN_HAVE_INFER
    &mlc_pass_infer_shapes,
#endif
#ifdef MLC_GOLDEN_HAVE_FOLD
    &mlc_pass_fold_constants,
#endif
#ifdef MLC_GOLDEN_HAVE_FUSE
    &mlc_pass_fuse,
#endif
    &mlc_pass_dce,
    &mlc_pass_materialize_outputs,
    &mlc_pass_plan_memory,
};

/* Passes that exist in the project but may not be built yet. */
static const char *const k_pending[] = {"infer-shapes", "fold-constants", "fuse"};

static const mlc_pass_t *find_pass(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof k_passes / sizeof *k_passes; i++)
    if (strlen(k_passes[i]->name) == len && memcmp(k_passes[i]->name, name, len) == 0)
      return k_passes[i];
  return NULL;
}

/* Runs the comma-separated passes in `list` (up to end of line); false
 * when a pass is not built (the file is skipped). */
static bool run_passes(const char *path, const char *list, mlc_graph_t *g) {
  mlc_pass_ctx_t ctx = {.opt_level = 2};
  size_t n;
  for (const char *b; (b = golden_next_pass(&list, &n));) {
    const mlc_pass_t *pass = find_pass(b, n);
    for (size_t i = 0; !pass && i < sizeof k_pending / sizeof *k_pending; i++) {
      if (strlen(k_pending[i]) == n && memcmp(k_pending[i], b, n) == 0) {
        fprintf(stderr, "%s: pass %s is not built yet; skipped\n", path, k_pending[i]);
        return false;
      }
    }
    if (!pass) fail_msg("%s: unknown pass '%.*s'", path, (int)n, b);
    mlc_status_t *st = pass->run(&ctx, g);
    if (!st) st = mlc_graph_verify(g);
    if (st) fail_msg("%s: pass %s: %s", path, pass->name, mlc_status_message(st));
  }
  return true;
}

/* The printed graph parses and prints back unchanged. */
static bool round_trips(const char *path, const char *actual, size_t alen) {
  mlc_graph_t *g2 = NULL;
  mlc_status_t *st = mlc_graph_parse(actual, alen, &g2);
  if (st) fail_msg("%s: output does not parse: %s", path, mlc_status_message(st));
  char *again = NULL;
  size_t again_len = 0;
  FILE *f2 = open_memstream(&again, &again_len);
  mlc_graph_print(g2, f2);
  fclose(f2);
  mlc_graph_destroy(g2);
  bool same = again_len == alen && memcmp(again, actual, alen) == 0;
  if (!same) fprintf(stderr, "%s: output does not round-trip:\n%s", path, again);
  free(again);
  return same;
}

static void test_one_file(void **state) {
  const char *path = *state;
  golden_file_t gf = {0};
  golden_read(path, &gf);
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_graph_parse(gf.input, gf.input_len, &g);
  if (st) fail_msg("%s: input: %s", path, mlc_status_message(st));
  /* Before shape inference, node outputs may be `undef[*]`. */
  const char *first = gf.passes;
  while (*first == ' ') first++;
  if (strncmp(first, "infer-shapes", 12) != 0) st = mlc_graph_verify(g);
  if (st) fail_msg("%s: input does not verify: %s", path, mlc_status_message(st));
  if (!run_passes(path, gf.passes, g)) {
    mlc_graph_destroy(g);
    free(gf.text);
    skip();
  }
  char *actual = NULL;
  size_t alen = 0;
  FILE *f = open_memstream(&actual, &alen);
  mlc_graph_print(g, f);
  fclose(f);
  mlc_graph_destroy(g);
  /* the expected text itself must round-trip */
  bool same = golden_compare(path, &gf, actual, alen) && round_trips(path, actual, alen);
  free(actual);
  free(gf.text);
  assert_true(same);
}

int main(int argc, char **argv) {
  return golden_main(argc, argv, MLC_GOLDEN_DIR, ".mlg", "golden", test_one_file);
}
