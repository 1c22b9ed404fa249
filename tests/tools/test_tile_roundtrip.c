/* The tiled IR text round-trips on real lowerings: every model of the ONNX
 * node suite listed in tests/conformance/expected_pass.txt is imported,
 * optimized (-O2 and -O0), lowered and run through the tile pipeline; the
 * program's text must parse, print back identically, and verify
 * (mlc_program_verify, so `shares` marks are checked too), before and
 * after the tile passes.  The parsed program, run through dedupe-kernels
 * again, must print the same (the pass sees what the text shows).
 *
 * Models whose shapes need --const (an input decides them) are lowered
 * again with every input frozen to test_data_set_0 (as the conformance
 * runner freezes them); the few that still do not lower are counted.  The
 * suite lives in ../shared beside the checkout; without it the test is
 * skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "passes/lower.h"
#include "passes/tile_pass.h"
#include "tools/driver.h"

#define NODE_TESTS MLC_SOURCE_DIR "/../shared/onnx-node-tests"
#define EXPECTED MLC_SOURCE_DIR "/tests/conformance/expected_pass.txt"

static FILE *g_quiet; /* /dev/null: the import's notes on bound dims */

static char *print_program(const mlc_program_t *p, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  assert_non_null(f);
  mlc_program_print(p, f);
  fclose(f);
  return buf;
}

/* print -> parse -> print is the identity and the parse verifies; after
 * the tile pipeline (`deduped`), dedupe-kernels redoes its marks on the
 * parsed text. */
static void check_round_trip(const char *name, const mlc_program_t *p, bool deduped) {
  size_t len, len2;
  char *text = print_program(p, &len);
  mlc_program_t q;
  mlc_status_t *st = mlc_program_parse(text, len, &q);
  if (st) fail_msg("%s: the printed program does not parse: %s\n%s", name,
                   mlc_status_message(st), text);
  st = mlc_program_verify(&q);
  if (st) fail_msg("%s: the parsed program does not verify: %s", name,
                   mlc_status_message(st));
  char *again = print_program(&q, &len2);
  if (len != len2 || memcmp(text, again, len) != 0)
    fail_msg("%s: round trip differs:\n%s\n--- became\n%s", name, text, again);
  if (!deduped) goto done;
  mlc_pass_ctx_t ctx = {.opt_level = 2};
  for (size_t i = 0; i < q.kernels.len; i++) q.kernels.data[i]->shares = NULL;
  st = mlc_tpass_dedupe_kernels.run(&ctx, &q);
  assert_null(st);
  free(again);
  again = print_program(&q, &len2);
  if (len != len2 || memcmp(text, again, len) != 0)
    fail_msg("%s: dedupe-kernels on the parsed text differs:\n%s\n--- became\n%s",
             name, text, again);
done:
  free(again);
  free(text);
  mlc_program_deinit(&q);
}

/* Loads (with every input frozen to data set 0 when `freeze`) and lowers. */
static mlc_status_t *lower_model(const char *name, const char *path, int opt,
                                 bool freeze, mlc_graph_t **g, mlc_program_t *p) {
  mlc_compile_options_t o = {.model_path = path, .opt_level = opt,
                             .target = "x86_64", .diag = g_quiet};
  mlc_const_binding_t consts[16];
  char files[16][1100];
  if (freeze) {
    mlc_graph_t *raw = NULL;
    MLC_RETURN_IF(mlc_load_graph(&o, false, &raw));
    for (size_t i = 0; i < raw->inputs.len && i < 16; i++) {
      snprintf(files[i], sizeof files[i], NODE_TESTS "/%s/test_data_set_0/input_%zu.pb",
               name, i);
      consts[i] = (mlc_const_binding_t){strdup(raw->inputs.data[i]->name), files[i]};
      o.nconsts++;
    }
    mlc_graph_destroy(raw);
    o.consts = consts;
  }
  mlc_status_t *st = mlc_load_graph(&o, true, g);
  mlc_pass_ctx_t ctx = {.opt_level = opt};
  if (!st) st = mlc_lower_program(&ctx, *g, p);
  for (int i = 0; i < o.nconsts; i++) free((char *)consts[i].name);
  return st;
}

/* 1: round-tripped, 0: did not load or lower. */
static int one_model(const char *name, int opt) {
  char path[1024];
  snprintf(path, sizeof path, NODE_TESTS "/%s/model.onnx", name);
  if (access(path, R_OK) != 0) return 0;
  mlc_graph_t *g = NULL;
  mlc_program_t p = {0};
  mlc_status_t *st = NULL;
  for (int freeze = 0; freeze < 2; freeze++) {
    mlc_status_free(st);
    mlc_graph_destroy(g);
    mlc_program_deinit(&p);
    g = NULL;
    if (!(st = lower_model(name, path, opt, freeze, &g, &p))) break;
  }
  if (st) {
    mlc_status_free(st);
    mlc_graph_destroy(g);
    return 0;
  }
  mlc_pass_ctx_t ctx = {.opt_level = opt};
  check_round_trip(name, &p, false);
  assert_null(mlc_tpipeline_run_default(&ctx, &p));
  check_round_trip(name, &p, true);
  mlc_program_deinit(&p);
  mlc_graph_destroy(g);
  return 1;
}

static void test_node_suite_round_trip(void **state) {
  (void)state;
  FILE *f = fopen(EXPECTED, "r");
  if (access(NODE_TESTS, R_OK) != 0 || !f) {
    if (f) fclose(f);
    print_message("the node suite is not at " NODE_TESTS "; skipped\n");
    skip();
  }
  char line[512];
  int done = 0, skipped = 0;
  g_quiet = fopen("/dev/null", "w");
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, " \t\r\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    for (int opt = 0; opt <= 2; opt += 2) {
      if (one_model(line, opt)) done++;
      else skipped++;
    }
  }
  fclose(f);
  if (g_quiet) fclose(g_quiet);
  print_message("tile round trip: %d programs, %d not lowered\n", done, skipped);
  assert_true(done > 1500);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_node_suite_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
