/* The escaping routine itself, header-only, shared by base/escape.c and
 * libmlcrt (runtime/status.c).
 *
 * libmlcrt depends on nothing of the compiler, and its static library is
 * linked into programs together with mlc_base; so it cannot link
 * base/escape.c (the symbols would clash) and must not carry a copy of the
 * logic (the two would drift).  Everything here is static inline with the
 * prefix mlc_esc_, so each file that includes it gets private copies and
 * exports nothing.  This header may include libc headers only.
 *
 * The rules (base/escape.h describes them for callers):
 *   - printable ASCII passes, except '\' (written \x5c);
 *   - control bytes, DEL and bytes that are not valid UTF-8 become \xHH;
 *   - valid UTF-8 passes, except C1 controls and the bidirectional and
 *     invisible format characters, whose bytes become \xHH;
 *   - MLC_ESC_ASCII: every byte above 0x7e becomes \xHH;
 *   - MLC_ESC_COMMENT: a '/' next to a '*' becomes \x2f;
 *   - bytes listed in `keep` pass as they are (messages keep '\', '\n'
 *     and '\t').
 */
#ifndef MLC_BASE_ESCAPE_IMPL_H
#define MLC_BASE_ESCAPE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum {
  MLC_ESC_ASCII = 1u,   /* escape all non-ASCII bytes */
  MLC_ESC_COMMENT = 2u, /* safe inside a C block comment */
};

/* What a message keeps unescaped: line breaks, tabs, and '\' (names in it
 * may already be escaped). */
#define MLC_ESC_MESSAGE_KEEP "\\\n\t"

/* Length of the valid UTF-8 sequence at s (2..4), or 0; *cp its code
 * point.  Overlong forms, surrogates and values above U+10FFFF are
 * invalid. */
static inline size_t mlc_esc_utf8_seq(const unsigned char *s, unsigned *cp) {
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
static inline bool mlc_esc_hidden(unsigned cp) {
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0xfeff;
}

/* Where escaped text goes: out[0..cap), with len counting every byte
 * written or that would have been (as snprintf does). */
typedef struct mlc_esc_sink {
  char *out;
  size_t cap, len;
} mlc_esc_sink_t;

static inline void mlc_esc_put(mlc_esc_sink_t *k, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++, k->len++)
    if (k->len + 1 < k->cap) k->out[k->len] = p[i];
}

static inline void mlc_esc_put_hex(mlc_esc_sink_t *k, unsigned char ch) {
  static const char hex[] = "0123456789abcdef";
  char e[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
  mlc_esc_put(k, e, 4);
}

/* Escapes str (NULL: "") into k and NUL-terminates it when k->cap > 0. */
static inline void mlc_esc_into(mlc_esc_sink_t *k, const char *str,
                                unsigned flags, const char *keep) {
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  const unsigned char *start = s;
  while (*s) {
    unsigned char ch = *s;
    unsigned cp;
    size_t n;
    if (ch != '\\' && ch >= 0x20 && ch < 0x7f) {
      bool brk = (flags & MLC_ESC_COMMENT) && ch == '/' &&
                 ((s > start && s[-1] == '*') || s[1] == '*');
      if (brk) mlc_esc_put_hex(k, ch);
      else mlc_esc_put(k, (const char *)s, 1);
      s++;
    } else if (strchr(keep, ch)) {
      mlc_esc_put(k, (const char *)s++, 1);
    } else if (ch >= 0x80 && !(flags & MLC_ESC_ASCII) &&
               (n = mlc_esc_utf8_seq(s, &cp))) {
      if (mlc_esc_hidden(cp))
        for (size_t i = 0; i < n; i++) mlc_esc_put_hex(k, s[i]);
      else
        mlc_esc_put(k, (const char *)s, n);
      s += n;
    } else {
      mlc_esc_put_hex(k, *s++);
    }
  }
  if (k->cap) k->out[k->len < k->cap ? k->len : k->cap - 1] = 0;
}

/* Takes a malloc'ed message and returns it escaped with
 * MLC_ESC_MESSAGE_KEEP: msg itself when nothing needs escaping, else a new
 * malloc'ed string (msg is freed).  NULL when out of memory (msg is freed
 * too, so an unescaped message never survives a failed allocation). */
static inline char *mlc_esc_message(char *msg) {
  mlc_esc_sink_t k = {NULL, 0, 0};
  mlc_esc_into(&k, msg, 0, MLC_ESC_MESSAGE_KEEP);
  if (k.len == strlen(msg)) return msg; /* nothing to escape */
  k.out = malloc(k.len + 1);
  if (k.out) {
    k.cap = k.len + 1;
    k.len = 0;
    mlc_esc_into(&k, msg, 0, MLC_ESC_MESSAGE_KEEP);
  }
  free(msg);
  return k.out;
}

#endif
