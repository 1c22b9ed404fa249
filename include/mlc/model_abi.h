/* The contract between a compiled model and the runtime.
 *
 * Every shared library written by `mlc compile` exports
 *
 *     const mlc_abi_model_t *mlc_model_get(void);
 *
 * and the same function under `<name>_model_get` (<name>: --name, else
 * the output file's stem, as a C identifier), for applications that link
 * models directly.  In an object file (--emit obj) `mlc_model_get` is a
 * weak symbol, so that several models link into one program; such a
 * program calls each model's `<name>_model_get`.  The descriptor is
 * immutable and lives as long as the library is loaded.  The runtime
 * (libmlcrt) checks `abi_version` and `struct_size` before reading
 * anything else.
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
 * plan reads exec fields it would not pass.  3 appends the CPU the code was
 * compiled for, the CPU features it may use (`cpu_features`, checked at
 * load) and a random `build_id`; a side weights file of a version-3 model
 * starts with an mlc_abi_weights_header_t holding the same id, so the
 * runtime checks that library and weights belong together in O(1)
 * instead of hashing the file.  A version-3 runtime reads versions 1 to 3;
 * older runtimes refuse version 3 (they would skip the CPU check).
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

#define MLC_ABI_VERSION 3u
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

/* x86-64 CPU features beyond the x86-64 baseline (SSE2) that generated
 * code may use: bit `id` of mlc_abi_model_t.cpu_features, named as LLVM
 * names the feature.  X(ID, bit, "name").  (CX16 and LAHF/SAHF, part of
 * x86-64-v2, are not listed: generated code uses neither.) */
#define MLC_ABI_X86_FEATURES(X)                                              \
  X(SSE3, 0, "sse3") X(SSSE3, 1, "ssse3") X(SSE4_1, 2, "sse4.1")             \
  X(SSE4_2, 3, "sse4.2") X(POPCNT, 4, "popcnt") X(AVX, 5, "avx")             \
  X(AVX2, 6, "avx2") X(FMA, 7, "fma") X(F16C, 8, "f16c") X(BMI, 9, "bmi")    \
  X(BMI2, 10, "bmi2") X(LZCNT, 11, "lzcnt") X(MOVBE, 12, "movbe")            \
  X(AVX512F, 13, "avx512f") X(AVX512CD, 14, "avx512cd")                      \
  X(AVX512BW, 15, "avx512bw") X(AVX512DQ, 16, "avx512dq")                    \
  X(AVX512VL, 17, "avx512vl") X(AVX512VNNI, 18, "avx512vnni")                \
  X(AVX512BF16, 19, "avx512bf16") X(AVX512FP16, 20, "avx512fp16")            \
  X(AVX512VBMI, 21, "avx512vbmi") X(AVX512VBMI2, 22, "avx512vbmi2")          \
  X(AVX512IFMA, 23, "avx512ifma") X(AVX512BITALG, 24, "avx512bitalg")        \
  X(AVX512VPOPCNTDQ, 25, "avx512vpopcntdq") X(AVXVNNI, 26, "avxvnni")        \
  X(GFNI, 27, "gfni") X(VAES, 28, "vaes") X(VPCLMULQDQ, 29, "vpclmulqdq")    \
  X(AES, 30, "aes") X(PCLMUL, 31, "pclmul") X(SHA, 32, "sha")                \
  X(PRFCHW, 33, "prfchw") X(AMX_TILE, 34, "amx-tile")                        \
  X(AMX_INT8, 35, "amx-int8") X(AMX_BF16, 36, "amx-bf16")                    \
  X(FMA4, 37, "fma4") X(XOP, 38, "xop") X(SSE4A, 39, "sse4a")                \
  X(TBM, 40, "tbm")

enum {
#define MLC_ABI_X86_ENUM_(id, bit, name) MLC_ABI_X86_##id = bit,
  MLC_ABI_X86_FEATURES(MLC_ABI_X86_ENUM_)
#undef MLC_ABI_X86_ENUM_
  MLC_ABI_X86_NUM_FEATURES = 41
};

/* The header of a version-3 side weights file; the blob follows at
 * `header_bytes` (64).  Little-endian, as the targets are. */
#define MLC_ABI_WEIGHTS_MAGIC "\177MLCWTS" /* 8 bytes with the NUL */
#define MLC_ABI_WEIGHTS_VERSION 1u
typedef struct mlc_abi_weights_header {
  char magic[8];          /* MLC_ABI_WEIGHTS_MAGIC */
  uint32_t version;       /* MLC_ABI_WEIGHTS_VERSION */
  uint32_t header_bytes;  /* 64: where the blob starts */
  uint64_t weights_bytes; /* the blob's size (the descriptor's too) */
  uint8_t build_id[16];   /* the descriptor's build_id */
  uint8_t reserved[24];   /* 0 */
} mlc_abi_weights_header_t;

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
  uint64_t weights_hash;  /* FNV-1a 64 of the blob; versions 1 and 2 check
                             a side file with it (version 3: build_id) */
  /* Runs the model once.  `weights` is the blob (embedded or mapped),
   * `arena` arena_bytes of scratch, inputs/outputs the caller's buffers in
   * descriptor order.  Returns 0; nonzero is reserved for future checks. */
  int32_t (*run)(const mlc_abi_exec_t *exec, const void *weights, void *arena,
                 void *const *inputs, void *const *outputs);
  /* Version 2: the host plan's calls (struct_size covers them). */
  int32_t num_calls;
  int32_t reserved;         /* 0 */
  const mlc_abi_call_t *calls;
  /* Version 3. */
  const char *cpu;          /* CPU the code was compiled for (an LLVM CPU
                               name, e.g. "x86-64-v3", "skylake-avx512") */
  uint64_t cpu_features;    /* bits (1 << MLC_ABI_X86_*) of the features the
                               code may use; the runtime refuses to load it
                               on a CPU that lacks one */
  uint8_t build_id[16];     /* random per compile; a side weights file's
                               header carries the same */
} mlc_abi_model_t;

/* sizeof(mlc_abi_model_t) as version 1 laid it out: up to `run`. */
#define MLC_ABI_MODEL_V1_SIZE \
  (offsetof(mlc_abi_model_t, run) + sizeof(void (*)(void)))
/* ... and as version 2 did: up to `calls`. */
#define MLC_ABI_MODEL_V2_SIZE \
  (offsetof(mlc_abi_model_t, calls) + sizeof(void *))

typedef const mlc_abi_model_t *(*mlc_abi_model_get_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
