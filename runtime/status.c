/* Statuses, dtype names and the version string of libmlcrt.
 *
 * A status is a heap block holding a code and an owned message.  When the
 * block or its message cannot be allocated, a static out-of-memory status is
 * returned instead; mlcrt_status_free() recognises it and leaves it alone.
 * The static status is never written, so it is safe to share across threads.
 *
 * Messages carry names from model files (tensor, dim, model and weights
 * file names) and from callers, so every message and context is escaped as
 * it is made, as the compiler's statuses are: control bytes, invalid UTF-8,
 * C1 controls and bidirectional/invisible format characters become \xHH;
 * '\', newline and tab are kept.  The routine is the compiler's own
 * (base/escape_impl.h, header-only, libc only), so libmlcrt still depends
 * on nothing of the compiler at link time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../base/escape_impl.h"

struct mlcrt_status {
  mlcrt_code_t code;
  char *message;
};

static mlcrt_status_t oom_status = {MLCRT_OUT_OF_MEMORY,
                                    (char *)"out of memory"};

mlcrt_status_t *mlcrt_status_oom(void) { return &oom_status; }

/* Formats, then escapes what must not reach a terminal raw. */
static char *format_message(const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int len = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (len < 0) return NULL;
  char *msg = malloc((size_t)len + 1);
  if (!msg) return NULL;
  vsnprintf(msg, (size_t)len + 1, fmt, ap);
  return mlc_esc_message(msg);
}

mlcrt_status_t *mlcrt_status_make(mlcrt_code_t code, const char *fmt, ...) {
  mlcrt_status_t *st = malloc(sizeof *st);
  if (!st) return &oom_status;
  va_list ap;
  va_start(ap, fmt);
  st->message = format_message(fmt, ap);
  va_end(ap);
  if (!st->message) {
    free(st);
    return &oom_status;
  }
  st->code = code;
  return st;
}

mlcrt_status_t *mlcrt_status_annotate(mlcrt_status_t *st, const char *fmt,
                                      ...) {
  if (!st || st == &oom_status) return st;
  va_list ap;
  va_start(ap, fmt);
  char *ctx = format_message(fmt, ap);
  va_end(ap);
  if (!ctx) return st; /* keep the original message rather than lose it */
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

mlcrt_code_t mlcrt_status_code(const mlcrt_status_t *st) {
  return st ? st->code : MLCRT_OK;
}

const char *mlcrt_status_message(const mlcrt_status_t *st) {
  return st ? st->message : "ok";
}

void mlcrt_status_free(mlcrt_status_t *st) {
  if (!st || st == &oom_status) return;
  free(st->message);
  free(st);
}

typedef struct dtype_entry {
  int32_t dtype;
  const char *name;
  size_t size;
} dtype_entry_t;

static const dtype_entry_t dtypes[] = {
    {MLCRT_FLOAT32, "float32", 4},   {MLCRT_UINT8, "uint8", 1},
    {MLCRT_INT8, "int8", 1},         {MLCRT_UINT16, "uint16", 2},
    {MLCRT_INT16, "int16", 2},       {MLCRT_INT32, "int32", 4},
    {MLCRT_INT64, "int64", 8},       {MLCRT_BOOL, "bool", 1},
    {MLCRT_FLOAT16, "float16", 2},   {MLCRT_FLOAT64, "float64", 8},
    {MLCRT_UINT32, "uint32", 4},     {MLCRT_UINT64, "uint64", 8},
    {14, "complex64", 8},            {15, "complex128", 16},
    {MLCRT_BFLOAT16, "bfloat16", 2},
};

static const dtype_entry_t *dtype_find(int32_t dtype) {
  for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
    if (dtypes[i].dtype == dtype) return &dtypes[i];
  return NULL;
}

const char *mlcrt_dtype_name(int32_t dtype) {
  const dtype_entry_t *e = dtype_find(dtype);
  return e ? e->name : "unknown";
}

size_t mlcrt_dtype_size(int32_t dtype) {
  const dtype_entry_t *e = dtype_find(dtype);
  return e ? e->size : 0;
}

void mlcrt_escape(const char *s, char *buf, size_t len) {
  if (!len) return;
  size_t n = 0;
  bool cut = false;
  for (; s && *s && !cut; s++) {
    unsigned char c = (unsigned char)*s;
    char one[8];
    if (c == '\'' || c == '\\') snprintf(one, sizeof one, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f) snprintf(one, sizeof one, "\\x%02x", c);
    else snprintf(one, sizeof one, "%c", c);
    size_t k = strlen(one);
    cut = n + k + 1 > len;
    if (!cut) {
      memcpy(buf + n, one, k);
      n += k;
    }
  }
  if (cut && len >= 4) {
    if (n > len - 4) n = len - 4;
    memcpy(buf + n, "...", 3);
    n += 3;
  }
  buf[n] = '\0';
}

void mlcrt_tensor_describe(const mlc_abi_tensor_t *t, char *buf, size_t len) {
  if (!len) return;
  size_t used = (size_t)snprintf(buf, len, "%s[", mlcrt_dtype_name(t->dtype));
  for (int32_t i = 0; i < t->rank && t->dims && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "",
                             (long long)t->dims[i]);
  if (used < len) snprintf(buf + used, len - used, "]");
}

static uint64_t fnv1a64_from(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t mlcrt_fnv1a64(const void *data, size_t n) {
  return fnv1a64_from(0xcbf29ce484222325ull, data, n);
}

#define MLCRT_STR2(x) #x
#define MLCRT_STR(x) MLCRT_STR2(x)

const char *mlcrt_version(void) {
  return MLCRT_STR(MLCRT_VERSION_MAJOR) "." MLCRT_STR(
      MLCRT_VERSION_MINOR) "." MLCRT_STR(MLCRT_VERSION_PATCH);
}
