/* The CPU backend: program -> LLVM IR (LLVM C API) -> object -> shared
 * library.  Only files under codegen/llvm include LLVM headers. */
#ifndef MLC_CODEGEN_LLVM_H
#define MLC_CODEGEN_LLVM_H

#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "ir/program.h"
#include "ir/target.h"

typedef enum mlc_emit_kind {
  MLC_EMIT_SO,   /* shared library (+ <name>.h beside it) */
  MLC_EMIT_OBJ,  /* relocatable object (+ header; weights inside) */
  MLC_EMIT_LLVM, /* textual LLVM IR after optimization */
  MLC_EMIT_ASM,  /* assembly */
} mlc_emit_kind_t;

typedef struct mlc_codegen_options {
  mlc_emit_kind_t emit;
  const char *output_path;
  const char *header_path;   /* NULL: no header */
  const char *model_name;    /* C identifier prefix for exported symbols */
  int opt_level;             /* 0..3 */
  /* Weights larger than this go to a side file "<output>.weights" that
   * the runtime maps; smaller ones are embedded (default 256 MiB). */
  int64_t weights_embed_limit;
  const char *cc;            /* linker driver; NULL: $CC or "cc" */
  FILE *time_out;            /* --time-passes: each step's time; NULL: none */
} mlc_codegen_options_t;

mlc_status_t *mlc_llvm_emit(const mlc_program_t *p, const mlc_target_t *t,
                            const mlc_codegen_options_t *opts);

/* LLVM's name and features for the host CPU, to fill mlc_target_t. */
mlc_status_t *mlc_llvm_host_cpu(char *name, size_t name_len, char *features,
                                size_t features_len);

#endif
