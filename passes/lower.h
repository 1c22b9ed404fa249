/* Lowering from the graph IR to the tiled IR.
 *
 * mlc_lower_node builds a standalone kernel for one node: its buffers are
 * the node's present inputs then its outputs (then any local scratch
 * buffers), and *out_buf_values (arena memory of the kernel) gives the
 * graph value of each buffer (NULL for a local one).  It always
 * produces a kernel, also for VIEW ops (a copy), and never looks at
 * storage beyond copying value->storage into each buffer.  Constant
 * folding runs these kernels in the tile interpreter.
 *
 * mlc_lower_program lowers a planned graph (after plan_memory) into a
 * program: one kernel per fusion group (node->group) or per ungrouped
 * node, in node order; VIEW nodes whose output storage equals their
 * input's produce no kernel.
 */
#ifndef MLC_PASSES_LOWER_H
#define MLC_PASSES_LOWER_H

#include "ir/program.h"
#include "passes/pass.h"

mlc_status_t *mlc_lower_node(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                             mlc_node_t *n, mlc_tkernel_t **out_kernel,
                             mlc_value_t ***out_buf_values);
/* True if the lowering handles this node (op, dtypes, attributes). */
bool mlc_lower_supports(const mlc_graph_t *g, const mlc_node_t *n);

/* Scheduling facts the gemm-layout pass shares with the lowering: the
 * column panel width of the GEMM kernel for N columns of dtype dt on
 * target t (NULL: defaults); whether a Conv is pointwise (1x1, stride 1,
 * no padding, group 1: a GEMM over X as it is); a Conv's resolved window
 * (out: strides[ns], dilations[ns], pads[2*ns] with auto_pad applied). */
int64_t mlc_lower_gemm_panel(const mlc_target_t *t, int64_t n, mlc_dtype_t dt);
/* The panel width over output channels of a direct conv with m output
 * channels and output rows of ow pixels (ConvCols with direct = 1). */
int64_t mlc_lower_conv_direct_panel(const mlc_target_t *t, int64_t m, int64_t ow,
                                    mlc_dtype_t dt);
bool mlc_lower_conv_is_pointwise(const mlc_node_t *n);
mlc_status_t *mlc_lower_conv_geometry(mlc_graph_t *g, const mlc_node_t *n,
                                      int64_t *out);

mlc_status_t *mlc_lower_program(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                                mlc_program_t *out_program);

#endif
