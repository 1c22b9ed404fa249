/* Status values for the compiler library.
 *
 * A function that can fail returns `mlc_status_t *`: NULL means success,
 * anything else is a heap-allocated error that the caller owns and must
 * either return further up (optionally adding context) or release with
 * mlc_status_free().  The message grows as context is prepended on the way
 * up, so the final text reads outermost-first:
 *   "compiling model.onnx: node 'conv1' (Conv): input 1: rank 3, expected 4"
 *
 * Messages are escaped as they are made (mlc_escape_message): control
 * bytes, invalid UTF-8 and terminal-format characters from names in a
 * model become \xHH, so no message carries them to a terminal.
 *
 * If allocating a status fails, a static out-of-memory status is returned
 * instead; mlc_status_free() ignores it.  Nothing here aborts.
 */
#ifndef MLC_BASE_STATUS_H
#define MLC_BASE_STATUS_H

#include <stdarg.h>
#include <stddef.h>

typedef enum mlc_status_code {
  MLC_OK = 0,
  MLC_INVALID_ARGUMENT, /* bad usage or option */
  MLC_INVALID_MODEL,    /* the model file is malformed or inconsistent */
  MLC_UNSUPPORTED,      /* valid input this version does not handle */
  MLC_IO_ERROR,         /* a file could not be read or written */
  MLC_OUT_OF_MEMORY,
  MLC_INTERNAL,         /* a bug in mlc: an invariant did not hold */
} mlc_status_code_t;

typedef struct mlc_status {
  mlc_status_code_t code;
  char *message; /* NUL-terminated, owned */
} mlc_status_t;

#if defined(__GNUC__)
#define MLC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MLC_MUST_USE __attribute__((warn_unused_result))
#else
#define MLC_PRINTF(f, a)
#define MLC_MUST_USE
#endif

/* Creates an error status with a printf-style message. */
mlc_status_t *mlc_status_make(mlc_status_code_t code, const char *fmt, ...)
    MLC_PRINTF(2, 3) MLC_MUST_USE;
mlc_status_t *mlc_status_makev(mlc_status_code_t code, const char *fmt,
                               va_list ap) MLC_MUST_USE;

/* Prepends "<context>: " to the message of `st` and returns it.
 * Returns NULL if `st` is NULL. */
mlc_status_t *mlc_status_annotate(mlc_status_t *st, const char *fmt, ...)
    MLC_PRINTF(2, 3) MLC_MUST_USE;

void mlc_status_free(mlc_status_t *st);

static inline mlc_status_code_t mlc_status_code(const mlc_status_t *st) {
  return st ? st->code : MLC_OK;
}
const char *mlc_status_message(const mlc_status_t *st); /* "ok" for NULL */
const char *mlc_status_code_name(mlc_status_code_t code);

/* Returns the status of `expr` if it failed, with context prepended. */
#define MLC_RETURN_IF_ERROR(expr, ...)                                   \
  do {                                                                   \
    mlc_status_t *mlc_st_ = (expr);                                      \
    if (mlc_st_) return mlc_status_annotate(mlc_st_, __VA_ARGS__);       \
  } while (0)

/* Returns the status of `expr` unchanged if it failed. */
#define MLC_RETURN_IF(expr)                                              \
  do {                                                                   \
    mlc_status_t *mlc_st_ = (expr);                                      \
    if (mlc_st_) return mlc_st_;                                         \
  } while (0)

#define MLC_ERR(code, ...) mlc_status_make(MLC_##code, __VA_ARGS__)

#endif
