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
 * Versions.  1: the first layout.  2 appends the call table (`calls`: one
 * entry per kernel call of the host plan, with the ONNX nodes it computes)
 * to mlc_abi_model_t and the profiling hook (`on_call`, `hook_ctx`) to
 * mlc_abi_exec_t.  A version-2 runtime runs version-1 models (it reads
 * only their version-1 fields, and they read only the first two fields of
 * the exec struct); a version-1 runtime refuses version-2 models, whose
 * plan reads exec fields it would not pass.
 *
 * Applications do not need this header: they use mlcrt.h.  It is public so
 * that other runtimes (and the generated <model>.h) can be written against
 * it.
 */
#ifndef MLC_MODEL_ABI_H
#define MLC_MODEL_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLC_ABI_VERSION 2u
#define MLC_ABI_VERSION_MIN 1u /* oldest layout a runtime of this header reads */

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

/* Phases of the per-call hook. */
#define MLC_ABI_CALL_BEGIN 0
#define MLC_ABI_CALL_END 1

typedef struct mlc_abi_exec {
  void *pool;
  /* Runs fn(ctx, b, e) over disjoint ranges covering [0, n) and returns
   * when all are done.  NULL: the model runs everything on this thread. */
  void (*parallel_for)(void *pool, int64_t n, mlc_abi_task_fn fn, void *ctx);
  /* Version 2.  NULL normally.  When set, the plan calls
   * on_call(hook_ctx, i, MLC_ABI_CALL_BEGIN) right before call i (an index
   * into the descriptor's `calls`) and on_call(hook_ctx, i,
   * MLC_ABI_CALL_END) right after it returns, on the thread that runs the
   * plan.  The cost when NULL is one predictable branch per call. */
  void (*on_call)(void *hook_ctx, int32_t call, int32_t phase);
  void *hook_ctx;
} mlc_abi_exec_t;

/* One kernel call of the host plan, in plan order.  Calls of de-duplicated
 * kernels share `kernel` (the function's name) but each lists its own
 * nodes.  Node names are the ONNX node names (an unnamed node is named by
 * its first output); they may hold any character. */
typedef struct mlc_abi_call {
  const char *kernel;
  const char *const *nodes; /* num_nodes names */
  int32_t num_nodes;
  int32_t reserved;         /* 0 */
  int64_t tiles;            /* grid size: tiles handed to parallel_for */
  int64_t flops;            /* estimated floating-point work, 0 if unknown */
} mlc_abi_call_t;

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
  /* Version 2: the host plan's calls (struct_size covers them). */
  int32_t num_calls;
  int32_t reserved;         /* 0 */
  const mlc_abi_call_t *calls;
} mlc_abi_model_t;

/* sizeof(mlc_abi_model_t) as version 1 laid it out: up to `run`. */
#define MLC_ABI_MODEL_V1_SIZE \
  (offsetof(mlc_abi_model_t, run) + sizeof(void (*)(void)))

typedef const mlc_abi_model_t *(*mlc_abi_model_get_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
