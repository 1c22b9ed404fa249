/* The contract between a compiled model and the runtime.
 *
 * Every shared library written by `mlc compile` exports
 *
 *     const mlc_abi_model_t *mlc_model_get(void);
 *
 * (and the same function under `<name>_model_get`, for applications that
 * link several models directly).  The descriptor is immutable and lives as
 * long as the library is loaded.  The runtime (libmlcrt) checks
 * `abi_version` and `struct_size` before reading anything else.
 *
 * The generated code has no undefined symbols beyond libc/libm: threading
 * reaches it through the `parallel_for` hook in mlc_abi_exec_t, so a model
 * library works with any runtime of the same ABI version.
 *
 * Applications do not need this header: they use mlcrt.h.  It is public so
 * that other runtimes (and the generated <model>.h) can be written against
 * it.
 */
#ifndef MLC_MODEL_ABI_H
#define MLC_MODEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLC_ABI_VERSION 1u

/* One input or output.  dtype uses ONNX TensorProto.DataType numbers. */
typedef struct mlc_abi_tensor {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *dims;           /* the size each dim was compiled for */
  const char *const *dim_names;  /* per dim: symbolic name, or NULL */
  uint64_t nbytes;               /* packed size in bytes */
} mlc_abi_tensor_t;

/* A range of tiles of one kernel: [begin, end). */
typedef void (*mlc_abi_task_fn)(void *ctx, int64_t begin, int64_t end);

typedef struct mlc_abi_exec {
  void *pool;
  /* Runs fn(ctx, b, e) over disjoint ranges covering [0, n) and returns
   * when all are done.  NULL: the model runs everything on this thread. */
  void (*parallel_for)(void *pool, int64_t n, mlc_abi_task_fn fn, void *ctx);
} mlc_abi_exec_t;

typedef struct mlc_abi_model {
  uint32_t abi_version; /* MLC_ABI_VERSION */
  uint32_t struct_size; /* sizeof(mlc_abi_model_t) */
  const char *name;     /* model name (C identifier) */
  const char *producer; /* "mlc <version>" */
  const char *target;   /* target it was compiled for, e.g. "x86_64-avx512" */
  int32_t num_inputs;
  int32_t num_outputs;
  const mlc_abi_tensor_t *inputs;
  const mlc_abi_tensor_t *outputs;
  uint64_t arena_bytes;   /* scratch memory per session */
  uint64_t arena_align;   /* its alignment (power of two, >= 64) */
  uint64_t weights_bytes; /* size of the weights blob */
  const void *weights;    /* embedded blob, or NULL when in a side file */
  const char *weights_file; /* side file name, relative to the library's
                               folder, or NULL when embedded */
  uint64_t weights_hash;  /* FNV-1a 64 of the blob, to check a side file */
  /* Runs the model once.  `weights` is the blob (embedded or mapped),
   * `arena` arena_bytes of scratch, inputs/outputs the caller's buffers in
   * descriptor order.  Returns 0; nonzero is reserved for future checks. */
  int32_t (*run)(const mlc_abi_exec_t *exec, const void *weights, void *arena,
                 void *const *inputs, void *const *outputs);
} mlc_abi_model_t;

typedef const mlc_abi_model_t *(*mlc_abi_model_get_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
