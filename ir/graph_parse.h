/* Private to the graph IR parser (graph_parse.c, graph_parse_lex.c): the
 * parser state and its lexical helpers.  Every statement is one line;
 * blanks and `//` comments are skipped by mlc_gp_skip_ws (not newlines). */
#ifndef MLC_IR_GRAPH_PARSE_H
#define MLC_IR_GRAPH_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/graph.h"

typedef struct entry {
  const char *key; /* printed name without '%', arena-owned */
  mlc_value_t *v;
} entry_t;

typedef struct parser {
  const char *s;
  size_t len, pos;
  mlc_graph_t *g;
  entry_t *tab; /* open addressing, cap a power of two */
  size_t cap, count;
} parser_t;

typedef struct num {
  bool is_float;
  double f;
  int64_t i;
  uint64_t u; /* for values above INT64_MAX */
} num_t;

/* An MLC_INVALID_ARGUMENT status: "line L:C: message", the line, a caret. */
mlc_status_t *mlc_gp_perr_at(parser_t *p, size_t at, const char *fmt, ...)
    MLC_PRINTF(3, 4);
#define PERR(p, ...) mlc_gp_perr_at((p), (p)->pos, __VA_ARGS__)
#define OOM(p) MLC_ERR(OUT_OF_MEMORY, "parsing graph text")

int mlc_gp_peek(parser_t *p); /* next char, -1 at end */
void mlc_gp_skip_ws(parser_t *p);
bool mlc_gp_accept(parser_t *p, char c);
mlc_status_t *mlc_gp_expect(parser_t *p, char c);
/* An identifier ([A-Za-z_][A-Za-z0-9_.]*); *out_len 0 when none. */
const char *mlc_gp_ident(parser_t *p, size_t *out_len);
/* Consumes identifier `kw` if it is next. */
bool mlc_gp_keyword(parser_t *p, const char *kw);
mlc_status_t *mlc_gp_end_of_line(parser_t *p);
/* An int (decimal or 0x hex, u64 range) or a float (C syntax, inf, nan). */
mlc_status_t *mlc_gp_number(parser_t *p, num_t *out);
mlc_status_t *mlc_gp_integer(parser_t *p, int64_t *out);
int mlc_gp_hexval(int c); /* -1 if not a hex digit */
/* A quoted string with \" \\ \n \xHH escapes, arena-owned. */
mlc_status_t *mlc_gp_string(parser_t *p, const char **out);
/* An identifier or a quoted string, arena-owned. */
mlc_status_t *mlc_gp_name_or_string(parser_t *p, const char **out);

#endif
