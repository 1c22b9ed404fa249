/* libFuzzer target: the graph IR text parser (mlc_graph_parse) followed
 * by the verifier; a parsed graph is also printed (to /dev/null) since
 * the printer walks everything the parser built. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ir/graph.h"

static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  sink = fopen("/dev/null", "w");
  return sink ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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
  return 0;
}
