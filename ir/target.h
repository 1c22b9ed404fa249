/* Target descriptions: plain data that passes and both backends read.
 * Chosen by `--target NAME` (and refined by `--cpu`).  Nothing here knows
 * LLVM or CUDA; codegen/llvm resolves "host" details it needs from LLVM. */
#ifndef MLC_IR_TARGET_H
#define MLC_IR_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"

typedef enum mlc_target_kind { MLC_TARGET_CPU, MLC_TARGET_CUDA } mlc_target_kind_t;

typedef struct mlc_target {
  const char *name;     /* "host", "x86_64", "x86_64-avx2", "x86_64-avx512" */
  mlc_target_kind_t kind;
  const char *triple;   /* LLVM target triple */
  const char *cpu;      /* LLVM CPU name; "host" = the build machine's */
  const char *features; /* LLVM feature string, may be "" */
  int vector_bits;      /* widest SIMD register: 128, 256, 512 */
  bool has_fma;         /* fused multiply-add in hardware (FMA3) */
  int num_cores;        /* for partitioning; 0 = unknown */
  int64_t l1d_bytes, l2_bytes, l3_bytes;
  /* GPU targets */
  int sm_arch;          /* e.g. 90 */
  int sm_count;
  int64_t smem_bytes;
} mlc_target_t;

/* Fills *out with the named target; `cpu` (may be NULL) overrides the CPU:
 * "host" (the machine this runs on), "generic", "x86-64-v2/v3/v4" (which
 * also set vector_bits and has_fma), or an LLVM CPU name, which the
 * backend checks and resolves (codegen/backend.h). */
mlc_status_t *mlc_target_lookup(const char *name, const char *cpu,
                                mlc_target_t *out);
/* Comma-separated list of known target names, for --help. */
const char *mlc_target_names(void);

#endif
