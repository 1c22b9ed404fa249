/* The CPU backend: program -> LLVM IR (LLVM C API) -> object -> shared
 * library.  Only files under codegen/llvm include LLVM headers. */
#ifndef MLC_CODEGEN_LLVM_H
#define MLC_CODEGEN_LLVM_H

#include <stdbool.h>
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

/* LLVM's name and features for the host CPU, to fill mlc_target_t. */
mlc_status_t *mlc_llvm_host_cpu(char *name, size_t name_len, char *features,
                                size_t features_len);

/* False when `cpu` is not an x86 CPU name this LLVM knows (LLVM would warn
 * "not a recognized processor" and make generic code).  *out_checked is
 * false, and the answer true, when the build has no list of names. */
bool mlc_llvm_cpu_known(const char *cpu, bool *out_checked);

#endif
