/* Status values: creation, annotation and release.  See status.h. */
#include "base/status.h"

#include "base/escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mlc_status_t oom_status = {MLC_OUT_OF_MEMORY, (char *)"out of memory"};

/* Formats, then escapes what must not reach a terminal raw (names from
 * model files end up in messages; base/escape.h). */
static char *vformat(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (!s) return NULL;
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  return mlc_escape_message(s);
}

mlc_status_t *mlc_status_makev(mlc_status_code_t code, const char *fmt,
                               va_list ap) {
  mlc_status_t *st = malloc(sizeof *st);
  if (!st) return &oom_status;
  st->code = code;
  st->message = vformat(fmt, ap);
  if (!st->message) {
    free(st);
    return &oom_status;
  }
  return st;
}

mlc_status_t *mlc_status_make(mlc_status_code_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mlc_status_t *st = mlc_status_makev(code, fmt, ap);
  va_end(ap);
  return st;
}

mlc_status_t *mlc_status_annotate(mlc_status_t *st, const char *fmt, ...) {
  if (!st || st == &oom_status) return st;
  va_list ap;
  va_start(ap, fmt);
  char *ctx = vformat(fmt, ap);
  va_end(ap);
  if (!ctx) return st;
  size_t a = strlen(ctx), b = strlen(st->message);
  char *msg = malloc(a + 2 + b + 1);
  if (msg) {
    memcpy(msg, ctx, a);
    memcpy(msg + a, ": ", 2);
    memcpy(msg + a + 2, st->message, b + 1);
    free(st->message);
    st->message = msg;
  }
  free(ctx);
  return st;
}

void mlc_status_free(mlc_status_t *st) {
  if (!st || st == &oom_status) return;
  free(st->message);
  free(st);
}

const char *mlc_status_message(const mlc_status_t *st) {
  return st ? st->message : "ok";
}

const char *mlc_status_code_name(mlc_status_code_t code) {
  switch (code) {
  case MLC_OK: return "ok";
  case MLC_INVALID_ARGUMENT: return "invalid argument";
  case MLC_INVALID_MODEL: return "invalid model";
  case MLC_UNSUPPORTED: return "unsupported";
  case MLC_IO_ERROR: return "i/o error";
  case MLC_OUT_OF_MEMORY: return "out of memory";
  case MLC_INTERNAL: return "internal error";
  }
  return "unknown";
}
