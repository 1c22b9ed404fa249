/* The CPU backend: program -> LLVM IR (LLVM C API) -> object -> shared
 * library.  Only files under codegen/llvm include LLVM headers. */
#ifndef MLC_CODEGEN_LLVM_H
#define MLC_CODEGEN_LLVM_H

#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "ir/program.h"
#include "codegen/backend.h"
#include "ir/target.h"

mlc_status_t *mlc_llvm_emit(const mlc_program_t *p, const mlc_target_t *t,
                            const mlc_codegen_options_t *opts);
/* The backend struct of this emitter (codegen/backend.h). */
extern const mlc_backend_t mlc_backend_llvm_cpu;

/* True for "host" and the x86 CPU names LLVM 19 knows (cpu.c). */
bool mlc_llvm_cpu_known(const char *cpu);
/* The backend's resolve_cpu: refuses an unknown t->cpu (naming the kinds
 * --cpu takes) and, unless it is "host", sets t->vector_bits and
 * t->has_fma from the features LLVM enables for it. */
mlc_status_t *mlc_llvm_resolve_cpu(mlc_target_t *t);
/* The MLC_ABI_X86_* bits (mlc/model_abi.h) of the features LLVM enables
 * for t's CPU and feature string: what code compiled for t may use. */
mlc_status_t *mlc_llvm_target_features(const mlc_target_t *t,
                                       uint64_t *out_bits);

/* LLVM's name and features for the host CPU, to fill mlc_target_t. */
mlc_status_t *mlc_llvm_host_cpu(char *name, size_t name_len, char *features,
                                size_t features_len);

#endif
