/* Lexical helpers of the graph IR parser: error messages with line:column
 * and a caret, blanks and comments, identifiers, numbers and strings.  See
 * graph_parse.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph_parse.h"
#include "ir/graph_text.h"

/* ---- errors ---- */

mlc_status_t *mlc_gp_perr_at(parser_t *p, size_t at, const char *fmt, ...) {
  if (at > p->len) at = p->len;
  size_t line = 1, bol = 0;
  for (size_t i = 0; i < at; i++)
    if (p->s[i] == '\n') line++, bol = i + 1;
  size_t eol = bol;
  while (eol < p->len && p->s[eol] != '\n') eol++;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char *caret = malloc(at - bol + 1);
  if (!caret) return MLC_ERR(OUT_OF_MEMORY, "parsing graph text");
  for (size_t i = bol; i < at; i++) caret[i - bol] = p->s[i] == '\t' ? '\t' : ' ';
  caret[at - bol] = 0;
  mlc_status_t *st = MLC_ERR(INVALID_ARGUMENT, "line %zu:%zu: %s\n%.*s\n%s^",
                             line, at - bol + 1, msg, (int)(eol - bol),
                             p->s + bol, caret);
  free(caret);
  return st;
}

/* ---- characters ---- */

int mlc_gp_peek(parser_t *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

/* Skips blanks and a trailing comment, not newlines. */
void mlc_gp_skip_ws(parser_t *p) {
  for (;;) {
    int c = mlc_gp_peek(p);
    if (c == ' ' || c == '\t' || c == '\r') {
      p->pos++;
    } else if (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '/') {
      while (p->pos < p->len && p->s[p->pos] != '\n') p->pos++;
    } else {
      return;
    }
  }
}

bool mlc_gp_accept(parser_t *p, char c) {
  mlc_gp_skip_ws(p);
  if (mlc_gp_peek(p) != (unsigned char)c) return false;
  p->pos++;
  return true;
}

mlc_status_t *mlc_gp_expect(parser_t *p, char c) {
  if (mlc_gp_accept(p, c)) return NULL;
  return PERR(p, "expected '%c'", c);
}

/* Reads an identifier; *out_len 0 when none. */
const char *mlc_gp_ident(parser_t *p, size_t *out_len) {
  mlc_gp_skip_ws(p);
  size_t b = p->pos;
  if (p->pos < p->len && mlc_text_ident_start(p->s[p->pos]))
    while (p->pos < p->len && mlc_text_ident_char(p->s[p->pos])) p->pos++;
  *out_len = p->pos - b;
  return p->s + b;
}

bool mlc_gp_keyword(parser_t *p, const char *kw) {
  size_t save = p->pos, n;
  const char *s = mlc_gp_ident(p, &n);
  if (n == strlen(kw) && memcmp(s, kw, n) == 0) return true;
  p->pos = save;
  return false;
}

mlc_status_t *mlc_gp_end_of_line(parser_t *p) {
  mlc_gp_skip_ws(p);
  if (mlc_gp_peek(p) == -1) return NULL;
  if (mlc_gp_peek(p) == '\n') {
    p->pos++;
    return NULL;
  }
  return PERR(p, "unexpected text at end of line");
}

/* ---- numbers ---- */


mlc_status_t *mlc_gp_number(parser_t *p, num_t *out) {
  *out = (num_t){0};
  mlc_gp_skip_ws(p);
  size_t b = p->pos;
  if (mlc_gp_peek(p) == '-' || mlc_gp_peek(p) == '+') p->pos++;
  while (p->pos < p->len) {
    char c = p->s[p->pos], prev = p->pos > b ? p->s[p->pos - 1] : 0;
    bool sign_ok = (c == '-' || c == '+') &&
                   (prev == 'e' || prev == 'E' || prev == 'p' || prev == 'P') &&
                   !(p->pos - b >= 2 && (p->s[b + 1] == 'x' || p->s[b + 1] == 'X') &&
                     (prev == 'e' || prev == 'E'));
    if (!(mlc_text_ident_char(c) || sign_ok)) break;
    p->pos++;
  }
  size_t n = p->pos - b;
  char buf[80];
  if (n == 0 || n >= sizeof buf) return mlc_gp_perr_at(p, b, "expected a number");
  memcpy(buf, p->s + b, n);
  buf[n] = 0;
  const char *digits = buf + (buf[0] == '-' || buf[0] == '+');
  bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
  *out = (num_t){0};
  out->is_float = strpbrk(digits, hex ? ".pP" : ".eEpP") || strstr(digits, "inf") ||
                  strstr(digits, "nan");
  char *end;
  errno = 0;
  if (out->is_float) {
    out->f = strtod(buf, &end);
  } else if (buf[0] == '-') {
    out->i = strtoll(buf, &end, hex ? 16 : 10);
    out->u = (uint64_t)out->i;
    out->f = (double)out->i;
  } else {
    out->u = strtoull(buf, &end, hex ? 16 : 10);
    out->i = (int64_t)out->u;
    out->f = (double)out->u;
  }
  if (*end || errno == ERANGE) return mlc_gp_perr_at(p, b, "bad number '%s'", buf);
  return NULL;
}

mlc_status_t *mlc_gp_integer(parser_t *p, int64_t *out) {
  size_t b = p->pos;
  num_t n = {0};
  *out = 0;
  MLC_RETURN_IF(mlc_gp_number(p, &n));
  if (n.is_float) return mlc_gp_perr_at(p, b, "expected an integer");
  *out = n.i;
  return NULL;
}

/* ---- strings ---- */

int mlc_gp_hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

mlc_status_t *mlc_gp_string(parser_t *p, const char **out) {
  mlc_gp_skip_ws(p);
  if (mlc_gp_peek(p) != '"') return PERR(p, "expected a string");
  size_t b = ++p->pos, n = 0, eol = b;
  while (eol < p->len && p->s[eol] != '\n') eol++; /* strings are one line */
  char *buf = mlc_arena_alloc(&p->g->arena, eol - b + 1);
  if (!buf) return OOM(p);
  for (;;) {
    int c = mlc_gp_peek(p);
    if (c == -1 || c == '\n') return mlc_gp_perr_at(p, b - 1, "unterminated string");
    p->pos++;
    if (c == '"') break;
    if (c == '\\') {
      int e = mlc_gp_peek(p);
      p->pos++;
      if (e == 'n') c = '\n';
      else if (e == '"' || e == '\\') c = e;
      else if (e == 'x' && p->pos + 1 < p->len && mlc_gp_hexval(p->s[p->pos]) >= 0 &&
               mlc_gp_hexval(p->s[p->pos + 1]) >= 0) {
        c = mlc_gp_hexval(p->s[p->pos]) * 16 + mlc_gp_hexval(p->s[p->pos + 1]);
        p->pos += 2;
      } else {
        return mlc_gp_perr_at(p, p->pos - 2, "bad escape in string");
      }
    }
    buf[n++] = (char)c;
  }
  *out = buf;
  return NULL;
}

/* An identifier or a quoted string. */
mlc_status_t *mlc_gp_name_or_string(parser_t *p, const char **out) {
  size_t n;
  const char *s = mlc_gp_ident(p, &n);
  if (n) {
    *out = mlc_arena_strndup(&p->g->arena, s, n);
    return *out ? NULL : OOM(p);
  }
  return mlc_gp_string(p, out);
}

