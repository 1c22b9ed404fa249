/* libmlcrt: load and run models compiled by `mlc compile`.
 *
 *     mlcrt_model_t *model;
 *     mlcrt_status_t *st = mlcrt_model_load("model.so", &model);
 *     if (st) { fprintf(stderr, "%s\n", mlcrt_status_message(st));
 *               mlcrt_status_free(st); return 1; }
 *     mlcrt_session_t *s;
 *     st = mlcrt_session_create(model, NULL, &s);          // default options
 *     st = mlcrt_session_bind_input(s, 0, x, sizeof x);    // caller's memory
 *     st = mlcrt_session_bind_output(s, 0, y, sizeof y);
 *     st = mlcrt_session_run(s);
 *     mlcrt_session_release(s);
 *     mlcrt_model_release(model);
 *
 * Errors: every function that can fail returns an mlcrt_status_t*: NULL on
 * success, otherwise a status the caller owns (read its code and message,
 * then mlcrt_status_free()).  No function aborts or crashes on bad
 * arguments: NULL pointers, wrong indexes, wrong sizes, dtypes or shapes
 * give a status whose message names the tensor and what was wrong.
 * Messages are safe to print: control bytes, invalid UTF-8 and terminal
 * format characters in names (from the model or the caller) are \xHH.
 *
 * Threads: a model may be shared by any number of threads; a session is
 * used by one thread at a time.  Each session owns its scratch arena, and
 * its thread pool unless it was created with a pool shared by several
 * sessions (mlcrt_pool_create, mlcrt_session_create_with_pool).
 */
#ifndef MLCRT_H
#define MLCRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLCRT_VERSION_MAJOR 0
#define MLCRT_VERSION_MINOR 1
#define MLCRT_VERSION_PATCH 0

typedef enum mlcrt_code {
  MLCRT_OK = 0,
  MLCRT_INVALID_ARGUMENT = 1, /* NULL, bad index, size, dtype or shape */
  MLCRT_NOT_FOUND = 2,        /* file, symbol or tensor name */
  MLCRT_INCOMPATIBLE = 3,     /* library is not an mlc model of this ABI */
  MLCRT_IO_ERROR = 4,         /* reading or mapping a file */
  MLCRT_OUT_OF_MEMORY = 5,
  MLCRT_FAILED_PRECONDITION = 6, /* e.g. run before every tensor is bound */
  MLCRT_INTERNAL = 7,
} mlcrt_code_t;

typedef struct mlcrt_status mlcrt_status_t;
mlcrt_code_t mlcrt_status_code(const mlcrt_status_t *st);  /* OK for NULL */
const char *mlcrt_status_message(const mlcrt_status_t *st); /* "ok" for NULL */
void mlcrt_status_free(mlcrt_status_t *st);

/* Element types: ONNX TensorProto.DataType numbers. */
typedef enum mlcrt_dtype {
  MLCRT_FLOAT32 = 1, MLCRT_UINT8 = 2, MLCRT_INT8 = 3, MLCRT_UINT16 = 4,
  MLCRT_INT16 = 5, MLCRT_INT32 = 6, MLCRT_INT64 = 7, MLCRT_BOOL = 9,
  MLCRT_FLOAT16 = 10, MLCRT_FLOAT64 = 11, MLCRT_UINT32 = 12,
  MLCRT_UINT64 = 13, MLCRT_BFLOAT16 = 16,
} mlcrt_dtype_t;
const char *mlcrt_dtype_name(int32_t dtype); /* "float32", ...; "unknown" */
size_t mlcrt_dtype_size(int32_t dtype);      /* 0 if unknown */

typedef struct mlcrt_model mlcrt_model_t;
typedef struct mlcrt_session mlcrt_session_t;
typedef struct mlcrt_pool mlcrt_pool_t;

/* Loads a compiled model library: checks the file (a regular file, an ELF
 * shared library for this machine, not truncated), dlopens it, checks its
 * descriptor and that this CPU has the CPU features the model was compiled
 * to use (MLCRT_INCOMPATIBLE naming the missing ones; MLC_CPU_MASK hides
 * features, for testing: see docs/c-api.md), and, when its weights are in a
 * side file, maps that file read-only and checks it belongs to the library
 * (its header's build id and size; an older model's size and hash).  The
 * library's constructors run in dlopen: load only libraries you trust. */
mlcrt_status_t *mlcrt_model_load(const char *path, mlcrt_model_t **out_model);
/* Wraps a descriptor already linked into the process (see the generated
 * <model>.h): pass `<name>_model_get()`.  `weights_dir` is where a side
 * weights file is looked up (NULL: the current directory).  The same
 * checks as mlcrt_model_load, the CPU features included. */
struct mlc_abi_model;
mlcrt_status_t *mlcrt_model_from_descriptor(
    const struct mlc_abi_model *descriptor, const char *weights_dir,
    mlcrt_model_t **out_model);
void mlcrt_model_release(mlcrt_model_t *model);

/* Describing tensors.  Pointers stay valid while the model is loaded. */
typedef struct mlcrt_tensor_info {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *dims;          /* compiled size of each dim */
  const char *const *dim_names; /* symbolic name per dim, NULL if static */
  size_t nbytes;
} mlcrt_tensor_info_t;

int32_t mlcrt_model_num_inputs(const mlcrt_model_t *model);  /* -1 if NULL */
int32_t mlcrt_model_num_outputs(const mlcrt_model_t *model); /* -1 if NULL */
mlcrt_status_t *mlcrt_model_input_info(const mlcrt_model_t *model,
                                       int32_t index,
                                       mlcrt_tensor_info_t *out_info);
mlcrt_status_t *mlcrt_model_output_info(const mlcrt_model_t *model,
                                        int32_t index,
                                        mlcrt_tensor_info_t *out_info);
/* Finds an input or output index by name (MLCRT_NOT_FOUND, listing the
 * names the model has, if none). */
mlcrt_status_t *mlcrt_model_find_input(const mlcrt_model_t *model,
                                       const char *name, int32_t *out_index);
mlcrt_status_t *mlcrt_model_find_output(const mlcrt_model_t *model,
                                        const char *name, int32_t *out_index);
/* Model name and target strings from the descriptor. */
const char *mlcrt_model_name(const mlcrt_model_t *model);
const char *mlcrt_model_target(const mlcrt_model_t *model);
size_t mlcrt_model_arena_bytes(const mlcrt_model_t *model);

typedef struct mlcrt_session_options {
  int32_t num_threads; /* 0: one per online CPU; 1: run on the caller */
} mlcrt_session_options_t;

mlcrt_status_t *mlcrt_session_create(const mlcrt_model_t *model,
                                     const mlcrt_session_options_t *options,
                                     mlcrt_session_t **out_session);
void mlcrt_session_release(mlcrt_session_t *session);

/* One thread pool for many sessions: instead of N-1 worker threads per
 * session, every session created with mlcrt_session_create_with_pool runs
 * its kernels on the pool's threads (num_threads as in the session
 * options: 0 one per online CPU, at most 1024, the calling thread
 * counted).  The pool runs one kernel at a time: a session whose kernel
 * finds it busy with another session's runs that kernel on its own
 * calling thread, so results never depend on who got the pool, and a
 * process never runs more than num_threads - 1 pool threads besides its
 * own.  Sessions may run on different threads at once as usual.  The pool
 * is reference-counted: each session holds a reference, so the creator may
 * release it at any time; the last release joins the threads. */
mlcrt_status_t *mlcrt_pool_create(int32_t num_threads,
                                  mlcrt_pool_t **out_pool);
void mlcrt_pool_release(mlcrt_pool_t *pool);
/* Threads the pool runs kernels on, the caller included; 0 for NULL. */
int32_t mlcrt_pool_num_threads(const mlcrt_pool_t *pool);
mlcrt_status_t *mlcrt_session_create_with_pool(const mlcrt_model_t *model,
                                               mlcrt_pool_t *pool,
                                               mlcrt_session_t **out_session);

/* Binds caller-owned memory, which must stay valid until the next bind of
 * the same tensor or the session's release.  `nbytes` must equal the
 * tensor's size.  An output's buffer must not overlap any input's or
 * another output's (the model writes outputs while it still reads its
 * inputs, so in-place use gives wrong results): mlcrt_session_run refuses
 * to run, MLCRT_INVALID_ARGUMENT naming both tensors, while one does.
 * Binding does not check it, so buffers can be swapped one bind at a
 * time.  Inputs may share memory with each other. */
mlcrt_status_t *mlcrt_session_bind_input(mlcrt_session_t *session,
                                         int32_t index, const void *data,
                                         size_t nbytes);
mlcrt_status_t *mlcrt_session_bind_output(mlcrt_session_t *session,
                                          int32_t index, void *data,
                                          size_t nbytes);
/* By name: the index of mlcrt_model_find_input/output, then the same
 * bind (MLCRT_NOT_FOUND, listing the model's names, for an unknown one). */
mlcrt_status_t *mlcrt_session_bind_input_by_name(mlcrt_session_t *session,
                                                 const char *name,
                                                 const void *data,
                                                 size_t nbytes);
mlcrt_status_t *mlcrt_session_bind_output_by_name(mlcrt_session_t *session,
                                                  const char *name, void *data,
                                                  size_t nbytes);
/* The checked form: also compares dtype, rank and dims with the model's and
 * says which differs. */
mlcrt_status_t *mlcrt_session_bind_input_checked(
    mlcrt_session_t *session, int32_t index, const void *data, size_t nbytes,
    int32_t dtype, int32_t rank, const int64_t *dims);
mlcrt_status_t *mlcrt_session_bind_output_checked(
    mlcrt_session_t *session, int32_t index, void *data, size_t nbytes,
    int32_t dtype, int32_t rank, const int64_t *dims);

/* Runs the model on the bound tensors: MLCRT_FAILED_PRECONDITION naming
 * the tensors not bound yet, MLCRT_INVALID_ARGUMENT when an output
 * overlaps another bound buffer (see above). */
mlcrt_status_t *mlcrt_session_run(mlcrt_session_t *session);

/* ---- profiling ------------------------------------------------------------
 *
 * A compiled model's host plan is a fixed sequence of kernel calls; the
 * model describes each (models compiled with ABI version 2 and later; an
 * older model has none).  With profiling enabled on a session, every run
 * appends one event per call, in plan order, timed on the thread that runs
 * the plan (the one calling mlcrt_session_run): start and end with
 * CLOCK_MONOTONIC in nanoseconds, so they compare with the caller's own
 * clock_gettime(CLOCK_MONOTONIC) readings.  The cost is two clock reads per
 * call while enabled, one predictable branch per call while not. */
typedef struct mlcrt_call_info {
  const char *kernel;       /* kernel function; de-duplicated calls share it */
  int32_t num_nodes;
  const char *const *nodes; /* ONNX node names it computes (any characters:
                               escape them when writing JSON) */
  int64_t tiles;            /* grid size */
  int64_t flops;            /* estimated floating-point work, 0 if unknown */
} mlcrt_call_info_t;

/* Calls in the model's plan: 0 for a model without a call table, -1 if
 * model is NULL. */
int32_t mlcrt_model_num_calls(const mlcrt_model_t *model);
mlcrt_status_t *mlcrt_model_call_info(const mlcrt_model_t *model,
                                      int32_t index,
                                      mlcrt_call_info_t *out_info);

typedef struct mlcrt_profile_event {
  int32_t call;     /* index for mlcrt_model_call_info */
  int32_t thread;   /* 0: the thread that called mlcrt_session_run */
  int64_t start_ns; /* CLOCK_MONOTONIC */
  int64_t end_ns;
} mlcrt_profile_event_t;

/* Turns event recording on (nonzero) or off.  Events already recorded are
 * kept either way.  MLCRT_FAILED_PRECONDITION when enabling on a model
 * without a call table (compiled by an older mlc: recompile it). */
mlcrt_status_t *mlcrt_session_set_profiling(mlcrt_session_t *session,
                                            int enabled);
/* The events recorded since the session's creation or the last clear, in
 * order.  The pointer stays valid until the next run, clear or release. */
mlcrt_status_t *mlcrt_session_profile_events(
    const mlcrt_session_t *session, const mlcrt_profile_event_t **out_events,
    size_t *out_count);
void mlcrt_session_profile_clear(mlcrt_session_t *session);

/* "0.1.0" */
const char *mlcrt_version(void);

#ifdef __cplusplus
}
#endif

#endif
