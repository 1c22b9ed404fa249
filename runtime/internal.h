/* Private declarations shared by the files of libmlcrt.
 *
 * Statuses are built here with printf-style messages; the model and session
 * structs are defined here so that session.c can read the model it runs.
 * Nothing in this header is part of the public API (include/mlc/mlcrt.h).
 */
#ifndef MLCRT_INTERNAL_H
#define MLCRT_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "mlc/mlcrt.h"
#include "mlc/model_abi.h"
#include "cpu_check.h"
#include "elf_check.h"

#if defined(__GNUC__)
#define MLCRT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MLCRT_PRINTF(f, a)
#endif

/* A heap status with a formatted message; the static out-of-memory status
 * when allocating it fails. */
mlcrt_status_t *mlcrt_status_make(mlcrt_code_t code, const char *fmt, ...)
    MLCRT_PRINTF(2, 3);
/* Prepends "<context>: " to st's message; returns st (NULL stays NULL). */
mlcrt_status_t *mlcrt_status_annotate(mlcrt_status_t *st, const char *fmt,
                                      ...) MLCRT_PRINTF(2, 3);
/* The shared static out-of-memory status. */
mlcrt_status_t *mlcrt_status_oom(void);

/* Copies s into buf (always NUL-terminated) with bytes outside printable
 * ASCII, quotes and backslashes escaped (\xNN, \', \\), and "..." when it
 * does not fit: names from callers and model files in messages. */
void mlcrt_escape(const char *s, char *buf, size_t len);

/* Writes "float32[1,1,16,16]" into buf (always NUL-terminated). */
void mlcrt_tensor_describe(const mlc_abi_tensor_t *t, char *buf, size_t len);

/* A loaded model: the descriptor, where its weights are, and what to undo
 * on release.  Reference-counted: every session holds one reference. */
struct mlcrt_model {
  const mlc_abi_model_t *desc;
  void *dl_handle;        /* NULL for mlcrt_model_from_descriptor */
  const void *weights;    /* embedded blob or the mapping; may be NULL */
  void *map_addr;         /* mmap of the side weights file, or NULL */
  size_t map_len;
  int32_t num_calls;           /* 0 for an ABI-1 model */
  const mlc_abi_call_t *calls; /* NULL for an ABI-1 model */
  atomic_int refs;
};

void mlcrt_model_retain(const mlcrt_model_t *model);

/* FNV-1a 64 over n bytes (offset basis 0xcbf29ce484222325), as the ABI
 * defines weights_hash. */
uint64_t mlcrt_fnv1a64(const void *data, size_t n);
/* The same loop from the offset basis 1469598103934665603, a digit short of
 * the standard one, which ir/program.c's mlc_fnv1a64 used in the first
 * compilers; side files they wrote are accepted too (see model.c). */

#endif
