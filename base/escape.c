/* Escaping text from model files before it is printed.  See escape.h; the
 * routine is mlc_esc_into in escape_impl.h, shared with libmlcrt. */
#include "base/escape.h"

#include <stdlib.h>
#include <string.h>

size_t mlc_escape(char *out, size_t cap, const char *s, unsigned flags) {
  mlc_esc_sink_t k = {out, cap, 0};
  mlc_esc_into(&k, s, flags, "");
  return k.len;
}

const char *mlc_escape_arena(mlc_arena_t *ar, const char *s, unsigned flags) {
  size_t n = mlc_escape(NULL, 0, s, flags);
  char *out = mlc_arena_alloc(ar, n + 1);
  if (out) mlc_escape(out, n + 1, s, flags);
  return out;
}

void mlc_escape_fputs(FILE *f, const char *s, unsigned flags) {
  char buf[256];
  size_t n = mlc_escape(buf, sizeof buf, s, flags);
  if (n < sizeof buf) {
    fputs(buf, f);
    return;
  }
  char *big = malloc(n + 1);
  if (big) {
    mlc_escape(big, n + 1, s, flags);
    fputs(big, f);
    free(big);
  } else {
    fputs("(name)", f);
  }
}

char *mlc_escape_message(char *msg) { return mlc_esc_message(msg); }
