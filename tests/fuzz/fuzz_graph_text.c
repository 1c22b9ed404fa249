/* libFuzzer target: the graph IR text parser (mlc_graph_parse) followed
 * by the verifier; a parsed graph is also printed (to /dev/null) since
 * the printer walks everything the parser built.
 *
 * The text is passed with its exact length and no terminating NUL, so a
 * read past `len` is caught.  MLC_FUZZ_NUL_TERMINATE=1 appends a NUL
 * (still passing `len`), which hides such over-reads so that a known one
 * does not stop the search for others. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"

static FILE *sink;
static int nul_terminate;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *e = getenv("MLC_FUZZ_NUL_TERMINATE");
  nul_terminate = e && *e == '1';
  sink = fopen("/dev/null", "w");
  return sink ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = NULL;
  if (nul_terminate) {
    copy = malloc(size + 1);
    if (!copy) abort();
    memcpy(copy, data, size);
    copy[size] = 0;
    data = (const uint8_t *)copy;
  }
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_graph_parse((const char *)data, size, &g);
  if (!st) {
    st = mlc_graph_verify(g);
    if (!st) mlc_graph_print(g, sink);
    mlc_graph_destroy(g);
  }
  if (st) {
    if (!*mlc_status_message(st)) abort();
    mlc_status_free(st);
  }
  free(copy);
  return 0;
}
