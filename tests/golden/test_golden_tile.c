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

#include "passes/tile_pass.h"

static char *read_file(const char *path, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) buf[n] = 0;
  *out_len = (size_t)n;
  return buf;
}

static size_t trimmed_len(const char *s, size_t n) {
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r')) n--;
  return n;
}

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
  const char *s = list;
  while (*s && *s != '\n') {
    while (*s == ' ' || *s == ',') s++;
    const char *b = s;
    while (*s && *s != ',' && *s != '\n' && *s != ' ' && *s != '\r') s++;
    if (s == b) continue;
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(s - b), b);
    const mlc_tpass_t *pass = mlc_tpass_find(name);
    if (!pass) fail_msg("%s: unknown tile pass '%s'", path, name);
    st = mlc_tpipeline_run(&ctx, &pass, 1, p);
    if (!st) st = mlc_program_verify(p);
    if (st) fail_msg("%s: pass %s: %s", path, name, mlc_status_message(st));
  }
}

static void update_file(const char *path, const char *text, size_t head_len,
                        const char *actual, size_t actual_len) {
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("%s: cannot rewrite", path);
  fwrite(text, 1, head_len, f);
  fwrite(actual, 1, actual_len, f);
  fclose(f);
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
  size_t len = 0;
  char *text = read_file(path, &len);
  if (!text) fail_msg("%s: cannot read", path);
  const char *run = strstr(text, "// RUN:");
  const char *exp = strstr(text, "// EXPECT:");
  if (!run || !exp || exp < run) fail_msg("%s: needs '// RUN:' and '// EXPECT:'", path);
  const char *in_begin = strchr(run, '\n');
  const char *exp_body = strchr(exp, '\n');
  exp_body = exp_body ? exp_body + 1 : text + len;
  mlc_program_t p;
  mlc_status_t *st = mlc_program_parse(in_begin, (size_t)(exp - in_begin), &p);
  if (st) fail_msg("%s: input: %s", path, mlc_status_message(st));
  st = mlc_program_verify(&p);
  if (st) fail_msg("%s: input does not verify: %s", path, mlc_status_message(st));
  run_passes(path, run + strlen("// RUN:"), &p);
  size_t alen = 0;
  char *actual = print_program(&p, &alen);
  mlc_program_deinit(&p);
  size_t want_len = trimmed_len(exp_body, (size_t)(text + len - exp_body));
  size_t got_len = trimmed_len(actual, alen);
  bool same = want_len == got_len && memcmp(exp_body, actual, got_len) == 0;
  const char *upd = getenv("MLC_GOLDEN_UPDATE");
  if (!same && upd && strcmp(upd, "1") == 0) {
    update_file(path, text, (size_t)(exp_body - text), actual, alen);
    same = true;
  }
  if (same) same = round_trips(path, actual, alen);
  else
    fprintf(stderr, "%s: mismatch\n--- expected\n%.*s\n--- actual\n%.*s\n", path,
            (int)want_len, exp_body, (int)got_len, actual);
  free(actual);
  free(text);
  assert_true(same);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  DIR *d = opendir(MLC_GOLDEN_TILE_DIR);
  if (!d) {
    fprintf(stderr, "cannot open %s\n", MLC_GOLDEN_TILE_DIR);
    return 1;
  }
  MLC_VEC(char *) files = {0};
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".mlt") != 0) continue;
    if (argc > 1 && !strstr(e->d_name, argv[1])) continue;
    char *path = malloc(strlen(MLC_GOLDEN_TILE_DIR) + n + 2);
    if (!path) return 1;
    sprintf(path, "%s/%s", MLC_GOLDEN_TILE_DIR, e->d_name);
    if (!MLC_VEC_PUSH(&files, path)) return 1;
  }
  closedir(d);
  qsort(files.data, files.len, sizeof *files.data, cmp_str);
  struct CMUnitTest *tests = calloc(files.len + 1, sizeof *tests);
  if (!tests) return 1;
  for (size_t i = 0; i < files.len; i++) {
    tests[i].name = strrchr(files.data[i], '/') + 1;
    tests[i].test_func = test_one_file;
    tests[i].initial_state = files.data[i];
  }
  int rc = files.len ? _cmocka_run_group_tests("golden_tile", tests, files.len, NULL, NULL)
                     : (fprintf(stderr, "no golden tile files\n"), 1);
  for (size_t i = 0; i < files.len; i++) free(files.data[i]);
  MLC_VEC_FREE(&files);
  free(tests);
  return rc;
}
