/* Constant folding of one node (fold.c), shared by infer-shapes, which
 * folds shape arithmetic while it infers, and fold-constants. */
#ifndef MLC_PASSES_FOLD_H
#define MLC_PASSES_FOLD_H

#include "passes/pass.h"

/* ctx->fold_max_elems, or the default of 65536 elements when it is 0. */
int64_t mlc_fold_limit(const mlc_pass_ctx_t *ctx);

/* Evaluates node `n`, whose present inputs must all be constant and whose
 * outputs must have static shapes, and turns its outputs into constants;
 * the node is then marked dead.  View ops (Identity, Reshape, Flatten,
 * Squeeze, Unsqueeze) share their input's bytes; other ops run through
 * the lowering (mlc_lower_node) and the tile interpreter.  When the
 * lowering does not support the node, it is left alone and *out_folded
 * is false. */
mlc_status_t *mlc_fold_node(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                            mlc_node_t *n, bool *out_folded);

/* Algebraic clean-ups (fold_algebra.c): bypasses no-op nodes (Identity,
 * same-dtype Cast, shape-preserving views, identity Transpose, x+0, x*1,
 * ...) and merges view chains and Transpose pairs.  Sets *out_changed
 * when it rewrote anything.  Shapes must have been inferred. */
mlc_status_t *mlc_fold_algebra(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                               bool *out_changed);

#endif
