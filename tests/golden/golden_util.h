/* Shared by the golden runners (test_golden.c for graph passes,
 * test_golden_tile.c for tile passes): reading a golden file, comparing
 * with trailing blanks trimmed, rewriting the expectation under
 * MLC_GOLDEN_UPDATE=1, and the main that turns each file of a directory
 * with a given extension into one CMocka test.  Include after cmocka.h. */
#ifndef MLC_TESTS_GOLDEN_UTIL_H
#define MLC_TESTS_GOLDEN_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"

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

static void update_file(const char *path, const char *text, size_t head_len,
                        const char *actual, size_t actual_len) {
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("%s: cannot rewrite", path);
  fwrite(text, 1, head_len, f);
  fwrite(actual, 1, actual_len, f);
  fclose(f);
}

/* A golden file: `// RUN: passes`, the input, `// EXPECT:`, the output. */
typedef struct golden_file {
  char *text;          /* the whole file, owned */
  size_t len;
  const char *passes;  /* after "// RUN:", up to the end of that line */
  const char *input;   /* the input text, input_len long */
  size_t input_len;
  const char *expect;  /* the expected output, to the end of the file */
} golden_file_t;

static void golden_read(const char *path, golden_file_t *g) {
  g->text = read_file(path, &g->len);
  if (!g->text) fail_msg("%s: cannot read", path);
  const char *run = strstr(g->text, "// RUN:");
  const char *exp = strstr(g->text, "// EXPECT:");
  if (!run || !exp || exp < run) fail_msg("%s: needs '// RUN:' and '// EXPECT:'", path);
  g->passes = run + strlen("// RUN:");
  g->input = strchr(run, '\n');
  g->input_len = (size_t)(exp - g->input);
  const char *body = strchr(exp, '\n');
  g->expect = body ? body + 1 : g->text + g->len;
}

/* The next name of a comma- or space-separated pass list that ends at the
 * end of its line: its start, *len its length; NULL when none is left. */
static const char *golden_next_pass(const char **list, size_t *len) {
  const char *s = *list;
  while (*s == ' ' || *s == ',' || *s == '\r') s++;
  const char *b = s;
  while (*s && *s != ',' && *s != '\n' && *s != ' ' && *s != '\r') s++;
  *list = s;
  *len = (size_t)(s - b);
  return s == b ? NULL : b;
}

/* Compares `actual` with the expectation (trailing blanks aside); with
 * MLC_GOLDEN_UPDATE=1 a mismatch rewrites the file instead.  Prints the
 * mismatch; returns whether they agree (or the file was updated). */
static bool golden_compare(const char *path, const golden_file_t *g,
                           const char *actual, size_t alen) {
  size_t want_len = trimmed_len(g->expect, (size_t)(g->text + g->len - g->expect));
  size_t got_len = trimmed_len(actual, alen);
  if (want_len == got_len && memcmp(g->expect, actual, got_len) == 0) return true;
  const char *upd = getenv("MLC_GOLDEN_UPDATE");
  if (upd && strcmp(upd, "1") == 0) {
    update_file(path, g->text, (size_t)(g->expect - g->text), actual, alen);
    return true;
  }
  fprintf(stderr, "%s: mismatch\n--- expected\n%.*s\n--- actual\n%.*s\n", path,
          (int)want_len, g->expect, (int)got_len, actual);
  return false;
}

static int golden_cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One test per file of `dir` ending in `ext` (sorted; argv[1], if given,
 * filters by substring), each run by `test` with the path as its state. */
static int golden_main(int argc, char **argv, const char *dir, const char *ext,
                       const char *group, void (*test)(void **)) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "cannot open %s\n", dir);
    return 1;
  }
  MLC_VEC(char *) files = {0};
  size_t el = strlen(ext);
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n <= el || strcmp(e->d_name + n - el, ext) != 0) continue;
    if (argc > 1 && !strstr(e->d_name, argv[1])) continue;
    char *path = malloc(strlen(dir) + n + 2);
    if (!path) return 1;
    sprintf(path, "%s/%s", dir, e->d_name);
    if (!MLC_VEC_PUSH(&files, path)) return 1;
  }
  closedir(d);
  qsort(files.data, files.len, sizeof *files.data, golden_cmp_str);
  struct CMUnitTest *tests = calloc(files.len + 1, sizeof *tests);
  if (!tests) return 1;
  for (size_t i = 0; i < files.len; i++) {
    tests[i].name = strrchr(files.data[i], '/') + 1;
    tests[i].test_func = test;
    tests[i].initial_state = files.data[i];
  }
  int rc = files.len ? _cmocka_run_group_tests(group, tests, files.len, NULL, NULL)
                     : (fprintf(stderr, "no %s files in %s\n", ext, dir), 1);
  for (size_t i = 0; i < files.len; i++) free(files.data[i]);
  MLC_VEC_FREE(&files);
  free(tests);
  return rc;
}

#endif
