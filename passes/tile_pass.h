/* Tile passes: transformations of a lowered program (the tiled IR of
 * ir/tile.h and ir/program.h), between mlc_lower_program and a backend.
 * Like graph passes, one pass per file (passes/tile_*.c), each a small
 * struct with a name; the pipeline is an explicit array (tile_pipeline.c)
 * run by mlc_tpipeline_run through the graph runner's mlc_pass_step, so
 * --print-after NAME (prints the program's tile text), --verify-each
 * (mlc_program_verify) and --time-passes apply to them alike.
 *
 * A pass works on the whole program (`run`) or on each kernel in turn
 * (`run_kernel`); exactly one of the two is set.  It reads the target
 * (vector bits, cores, caches) from ctx->target, which may be NULL in
 * tests that run a pass on hand-written text (then it assumes nothing
 * about the machine). */
#ifndef MLC_PASSES_TILE_PASS_H
#define MLC_PASSES_TILE_PASS_H

#include "ir/program.h"
#include "passes/pass.h"

typedef struct mlc_tpass {
  const char *name;    /* as used by --print-after */
  const char *summary; /* one line for --help and docs */
  mlc_status_t *(*run)(mlc_pass_ctx_t *ctx, mlc_program_t *p);
  mlc_status_t *(*run_kernel)(mlc_pass_ctx_t *ctx, mlc_tkernel_t *k);
} mlc_tpass_t;

/* Each pass, defined in its own file. */
extern const mlc_tpass_t mlc_tpass_dedupe_kernels; /* tile_dedupe.c */
extern const mlc_tpass_t mlc_tpass_plan_threads;   /* tile_threads.c */
extern const mlc_tpass_t mlc_tpass_register_block; /* tile_regblock.c */

/* The register-block pass's factor (tile_regblock.c): rows of NV vectors
 * each that one tile keeps in registers on target t (NULL: AVX-512
 * defaults), for a dim of `rows`; with `fit`, the factor that tiles it
 * with the fewest idle rows.  *cost (may be NULL): the fit's score,
 * computed rows over useful ones plus penalties, lower is better. */
int mlc_regblock_rows(const mlc_target_t *t, int nv, int64_t rows, bool fit,
                      double *cost);

/* The default tile pipeline for opt level `ctx->opt_level`. */
mlc_status_t *mlc_tpipeline_default(const mlc_pass_ctx_t *ctx,
                                    const mlc_tpass_t *const **out_passes,
                                    size_t *out_count);
mlc_status_t *mlc_tpipeline_run(mlc_pass_ctx_t *ctx,
                                const mlc_tpass_t *const *passes, size_t n,
                                mlc_program_t *p);
/* The default pipeline, run on `p`: what the driver does after lowering. */
mlc_status_t *mlc_tpipeline_run_default(mlc_pass_ctx_t *ctx, mlc_program_t *p);
/* Finds a tile pass by name (for --print-after and golden tests). */
const mlc_tpass_t *mlc_tpass_find(const char *name);
/* Every tile pass, in pipeline order (for --help): *out_count of them. */
const mlc_tpass_t *const *mlc_tpass_all(size_t *out_count);

#endif
