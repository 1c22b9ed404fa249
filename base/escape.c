/* Escaping text from model files before it is printed.  See escape.h. */
#include "base/escape.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (2..4), or 0; *cp its code
 * point.  Overlong forms, surrogates and values above U+10FFFF are
 * invalid. */
static size_t utf8_seq(const unsigned char *s, unsigned *cp) {
  unsigned c = s[0], n, min;
  if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80, c &= 0x1f;
  else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800, c &= 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000, c &= 0x07;
  else return 0;
  for (unsigned i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    c = c << 6 | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  *cp = c;
  return n;
}

/* Characters that change how a terminal shows the text around them. */
static bool hidden(unsigned cp) {
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0xfeff;
}

typedef struct sink {
  char *out;
  size_t cap, len;
} sink_t;

static void put(sink_t *k, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++, k->len++)
    if (k->len + 1 < k->cap) k->out[k->len] = p[i];
}

static void put_hex(sink_t *k, unsigned char ch) {
  static const char hex[] = "0123456789abcdef";
  char e[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
  put(k, e, 4);
}

/* keep: bytes passed through as they are even though they are not
 * printable ASCII ('\\', '\n', '\t' for messages). */
static void escape_into(sink_t *k, const char *str, unsigned flags,
                        const char *keep) {
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  while (*s) {
    unsigned char ch = *s;
    unsigned cp;
    size_t n;
    if (ch != '\\' && ch >= 0x20 && ch < 0x7f) {
      bool brk = (flags & MLC_ESC_COMMENT) && ch == '/' &&
                 ((s > (const unsigned char *)str && s[-1] == '*') || s[1] == '*');
      if (brk) put_hex(k, ch);
      else put(k, (const char *)s, 1);
      s++;
    } else if (ch && strchr(keep, ch)) {
      put(k, (const char *)s++, 1);
    } else if (ch >= 0x80 && !(flags & MLC_ESC_ASCII) &&
               (n = utf8_seq(s, &cp)) && !hidden(cp)) {
      put(k, (const char *)s, n);
      s += n;
    } else if (ch >= 0x80 && !(flags & MLC_ESC_ASCII) &&
               (n = utf8_seq(s, &cp))) {
      for (size_t i = 0; i < n; i++) put_hex(k, s[i]);
      s += n;
    } else {
      put_hex(k, *s++);
    }
  }
  if (k->cap) k->out[k->len < k->cap ? k->len : k->cap - 1] = 0;
}

size_t mlc_escape(char *out, size_t cap, const char *s, unsigned flags) {
  sink_t k = {out, cap, 0};
  escape_into(&k, s, flags, "");
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

char *mlc_escape_message(const char *msg) {
  sink_t k = {NULL, 0, 0};
  escape_into(&k, msg, 0, "\\\n\t");
  if (k.len == strlen(msg)) return NULL; /* nothing to escape */
  k.out = malloc(k.len + 1);
  if (!k.out) return NULL;
  k.cap = k.len + 1;
  k.len = 0;
  escape_into(&k, msg, 0, "\\\n\t");
  return k.out;
}
