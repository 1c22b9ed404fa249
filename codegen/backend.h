/* The backend interface: a struct of data and hooks per code generator,
 * chosen by the target's kind, that the driver asks and never calls by
 * name (QBE's Target, ggml's backend_i).
 *
 *   resolve_cpu(t)  checks t->cpu (an MLC_INVALID_ARGUMENT status for a
 *                   CPU the backend does not know) and fills what follows
 *                   from it (vector width, FMA); NULL hook: nothing to do;
 *   supports(k, t)  NULL when the backend can emit kernel k for target t,
 *                   else an MLC_UNSUPPORTED status saying why;
 *   emit(p, t, o)   the whole program: kernels, host plan, weights, and
 *                   the artifact `o` asks for.
 *
 * Kernels are free of the memory plan (each buffer says where its bytes
 * live) and the program lists the calls, so whatever a backend needs
 * beyond the tiled IR it derives from the target description.  The CPU
 * backend (codegen/llvm) is the one registered today; the CUDA backend
 * plugs in as a second entry for MLC_TARGET_CUDA.
 */
#ifndef MLC_CODEGEN_BACKEND_H
#define MLC_CODEGEN_BACKEND_H

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
   * the runtime maps; smaller ones are embedded.  0: every model with
   * weights gets the side file; negative: the default, 256 MiB. */
  int64_t weights_embed_limit;
  const char *cc;            /* linker driver; NULL: $CC or "cc" */
  FILE *time_out;            /* --time-passes: each step's time; NULL: none */
} mlc_codegen_options_t;

typedef struct mlc_backend {
  const char *name;          /* "llvm-cpu" */
  mlc_target_kind_t kind;    /* the targets it serves */
  mlc_status_t *(*resolve_cpu)(mlc_target_t *t);
  mlc_status_t *(*supports)(const mlc_tkernel_t *k, const mlc_target_t *t);
  mlc_status_t *(*emit)(const mlc_program_t *p, const mlc_target_t *t,
                        const mlc_codegen_options_t *o);
} mlc_backend_t;

/* The backend for t's kind, or NULL when none is built in. */
const mlc_backend_t *mlc_backend_for(const mlc_target_t *t);
/* Asks b about every kernel of p; one error listing each kernel it cannot
 * emit (up to a handful, then a count). */
mlc_status_t *mlc_backend_check(const mlc_backend_t *b, const mlc_program_t *p,
                                const mlc_target_t *t);

#endif
