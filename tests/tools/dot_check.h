/* A check on `mlc inspect --dot` text for the tests: every edge starts at
 * a declared box.  Include it after <cmocka.h>. */
#ifndef MLC_TESTS_TOOLS_DOT_CHECK_H
#define MLC_TESTS_TOOLS_DOT_CHECK_H

#include <stdio.h>
#include <string.h>

/* Fails unless the source of every edge is declared: Graphviz draws an
 * undeclared one as a bare box named by its id. */
static inline void assert_edges_declared(const char *dot) {
  for (const char *e = strstr(dot, " -> "); e; e = strstr(e + 4, " -> ")) {
    const char *start = e;
    while (start > dot && start[-1] != ' ') start--;
    char decl[32];
    snprintf(decl, sizeof decl, "  %.*s [", (int)(e - start), start);
    if (!strstr(dot, decl)) fail_msg("edge from undeclared '%.*s' in:\n%s",
                                     (int)(e - start), start, dot);
  }
}

#endif
