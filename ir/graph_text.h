/* Private helpers shared by the graph IR printer and parser (graph_print.c,
 * graph_parse.c): the lexical rules of the text form described in
 * docs/ir.md.  Not part of the IR's public interface. */
#ifndef MLC_IR_GRAPH_TEXT_H
#define MLC_IR_GRAPH_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Constants with more elements than this print as a digest. */
#define MLC_GRAPH_TEXT_MAX_CONST_ELEMS 16

static inline bool mlc_text_ident_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static inline bool mlc_text_ident_char(char c) {
  return mlc_text_ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}

/* True when `s` can be printed bare: [A-Za-z_][A-Za-z0-9_.]*. */
static inline bool mlc_text_is_ident(const char *s) {
  if (!s || !mlc_text_ident_start(s[0])) return false;
  for (size_t i = 1; s[i]; i++)
    if (!mlc_text_ident_char(s[i])) return false;
  return true;
}

#endif
