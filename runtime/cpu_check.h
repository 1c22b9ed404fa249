/* CPU features of this machine and the load-time check of a model's
 * (cpu.c).  Private to the runtime and the `mlc` tool (which links the
 * static runtime: `mlc inspect` shows what a model needs and what this CPU
 * lacks); not part of the public API.  Bits are 1 << MLC_ABI_X86_*
 * (mlc/model_abi.h). */
#ifndef MLCRT_CPU_CHECK_H
#define MLCRT_CPU_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "mlc/mlcrt.h"
#include "mlc/model_abi.h"

/* The features this CPU has and the OS enables (cpuid + XGETBV). */
uint64_t mlcrt_cpu_detect(void);
/* mlcrt_cpu_detect() limited by MLC_CPU_MASK (a testing aid: a list of
 * levels and features, see mlcrt_cpu_parse); a bad list is an
 * MLCRT_INVALID_ARGUMENT status. */
mlcrt_status_t *mlcrt_cpu_available(uint64_t *out_bits);
/* Parses a list of x86-64 levels ("generic", "x86-64", "x86-64-v2",
 * "x86-64-v3", "x86-64-v4") and feature names ("avx2", "avx512f", ...),
 * separated by commas or spaces, into the union of their bits. */
mlcrt_status_t *mlcrt_cpu_parse(const char *list, uint64_t *out_bits);
/* The feature's name for a bit, NULL past the table. */
const char *mlcrt_cpu_feature_name(int bit);
/* "avx2 fma ..." into buf (always terminated); returns the length wanted. */
size_t mlcrt_cpu_format(uint64_t bits, char *buf, size_t len);
/* NULL when the model's cpu_features are all available (always for
 * versions 1 and 2, which do not record them), else an
 * MLCRT_INCOMPATIBLE status naming the CPU and the missing features. */
mlcrt_status_t *mlcrt_cpu_check(const mlc_abi_model_t *d);

#endif
