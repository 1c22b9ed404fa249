/* Graph passes: one pass per file, each a small struct with a name and a
 * run function.  Pipelines are explicit arrays (pipeline.c) run top to
 * bottom by mlc_pipeline_run, which handles --print-after, --verify-each
 * and --time-passes for every pass alike. */
#ifndef MLC_PASSES_PASS_H
#define MLC_PASSES_PASS_H

#include <stdbool.h>
#include <stdio.h>

#include "base/status.h"
#include "ir/graph.h"
#include "ir/target.h"

typedef struct mlc_pass_ctx {
  const mlc_target_t *target;
  int opt_level;           /* 0..3 */
  FILE *diag;              /* warnings and notes; NULL = silent */
  const char *print_after; /* pass name, "all", or NULL */
  FILE *print_out;         /* where --print-after goes (stderr if NULL) */
  bool verify_each;
  bool time_passes;
  /* Constant folding computes a node when its output has at most this
   * many elements, or any size when the inputs are all weights that would
   * otherwise be transformed at every run (0 = default). */
  int64_t fold_max_elems;
} mlc_pass_ctx_t;

typedef struct mlc_pass {
  const char *name;    /* as used by --print-after */
  const char *summary; /* one line for --help */
  mlc_status_t *(*run)(mlc_pass_ctx_t *ctx, mlc_graph_t *g);
} mlc_pass_t;

/* Each pass, defined in its own file. */
extern const mlc_pass_t mlc_pass_infer_shapes;  /* infer.c: dtypes, shapes,
                                                  folding of shape math */
extern const mlc_pass_t mlc_pass_fold_constants; /* fold.c */
extern const mlc_pass_t mlc_pass_dce;            /* dce.c */
extern const mlc_pass_t mlc_pass_gemm_layout;   /* gemm_layout.c: packed
                                                  weights, Im2Col */
extern const mlc_pass_t mlc_pass_fuse;           /* fuse.c: node->group */
extern const mlc_pass_t mlc_pass_materialize_outputs; /* outputs.c */
extern const mlc_pass_t mlc_pass_plan_memory;    /* plan.c: value->storage */

/* The default pipeline for opt level `ctx->opt_level`. */
mlc_status_t *mlc_pipeline_default(const mlc_pass_ctx_t *ctx,
                                   const mlc_pass_t *const **out_passes,
                                   size_t *out_count);
mlc_status_t *mlc_pipeline_run(mlc_pass_ctx_t *ctx,
                               const mlc_pass_t *const *passes, size_t n,
                               mlc_graph_t *g);
/* Finds a pass of the default pipelines by name (for --print-after). */
const mlc_pass_t *mlc_pass_find(const char *name);

/* What the runners need to know of the IR a pass works on. */
typedef struct mlc_pass_ir {
  mlc_status_t *(*verify)(const void *ir);
  void (*print)(const void *ir, FILE *out);
} mlc_pass_ir_t;

/* Runs one pass, `run(ctx, pass, ir)`, and does what the options ask
 * after it: --time-passes, --verify-each, --print-after.  The graph runner
 * and the tile runner (tile_pipeline.c) both go through it. */
mlc_status_t *mlc_pass_step(mlc_pass_ctx_t *ctx, const char *name,
                            mlc_status_t *(*run)(mlc_pass_ctx_t *ctx,
                                                 const void *pass, void *ir),
                            const void *pass, void *ir,
                            const mlc_pass_ir_t *how);


#endif
