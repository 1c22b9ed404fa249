/* Private interface of the LLVM backend (the files in codegen/llvm).
 *
 * One mlc_cg_t per emitted module: the LLVM context, module and builder,
 * the LLVM types used everywhere, and the program being compiled.  kernel.c
 * turns each tiled-IR kernel into a function, host.c writes the host plan
 * (`run`), the descriptor and the typed entry point, emit.c drives the
 * whole thing (target machine, passes, files, linking).
 */
#ifndef MLC_CODEGEN_LLVM_CG_H
#define MLC_CODEGEN_LLVM_CG_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include <stdbool.h>

#include "base/status.h"
#include "ir/program.h"
#include "ir/target.h"

typedef struct mlc_cg {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTypeRef t_void, t_i1, t_i8, t_i16, t_i32, t_i64, t_half, t_bf16, t_f32,
      t_f64, t_ptr;
  LLVMTypeRef task_fn_type; /* void (ptr, i64, i64) */
  unsigned md_loop;         /* kind id of !llvm.loop */
  const mlc_program_t *prog;
  const mlc_target_t *target;
  const char *model_name;   /* sanitized C identifier */
  bool weights_embedded;    /* the blob is linked in as <model>_weights */
  bool weak_generic_getter; /* mlc_model_get weak (an object file) */
  const char *cpu;          /* LLVM CPU name the code is compiled for */
  uint64_t cpu_features;    /* MLC_ABI_X86_* bits it may use */
  const uint8_t *build_id;  /* 16 random bytes of this compile */
} mlc_cg_t;

/* Registers LLVM's X86 target (idempotent; cpu.c). */
void mlc_llvm_init(void);
/* The CPU name and feature string LLVM gets for t: "host" resolved with
 * LLVM's host detection, "+64bit" stated for other x86-64 CPUs; an
 * unknown CPU name is an MLC_INVALID_ARGUMENT error. */
/* The LLVM target of t's triple; an error naming target and triple. */
mlc_status_t *mlc_llvm_target_of(const mlc_target_t *t, LLVMTargetRef *out);
mlc_status_t *mlc_llvm_target_cpu(const mlc_target_t *t, char *cpu,
                                  size_t cpu_len, char *features,
                                  size_t features_len);
/* The MLC_ABI_X86_* bits LLVM enables for functions with this target-cpu
 * and target-features, asked of the inliner (cpu.c). */
mlc_status_t *mlc_llvm_cpu_features(LLVMTargetMachineRef tm, const char *triple,
                                    const char *cpu, const char *features,
                                    uint64_t *out_bits);

/* Emits `void <kernel->name>(void *ctx, int64_t begin, int64_t end)` as an
 * internal function; *out_fn receives it.  Errors name the kernel. */
mlc_status_t *mlc_cg_kernel(mlc_cg_t *cg, const mlc_tkernel_t *k,
                            LLVMValueRef *out_fn);

/* Emits run, the descriptor, mlc_model_get, <model>_model_get and
 * <model>_run.  `fns[i]` is the function of kernel i. */
mlc_status_t *mlc_cg_host(mlc_cg_t *cg, LLVMValueRef *fns,
                          const char *weights_file, uint64_t weights_hash);

/* Creates the module's external symbols (exported functions, `run`, the
 * embedded weights symbol) before any kernel, so that a kernel whose name
 * collides is the one LLVM renames. */
void mlc_cg_declare_externals(mlc_cg_t *cg);

/* The module's integer power helper `i64 mlc.ipow(i64, i64)` (helpers.c),
 * created on first use; *out_type gets its function type. */
LLVMValueRef mlc_cg_ipow_fn(mlc_cg_t *cg, LLVMTypeRef *out_type);

#endif
