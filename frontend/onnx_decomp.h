/* Private interface of the frontend decompositions (onnx_decomp.c): ONNX
 * ops that are imported as a few core nodes rather than one.  Each entry
 * point is called by a normalizer of onnx_ops.c on a node already in its
 * core form; it adds the helper nodes before the node (so file order stays
 * topological) and rewrites the node itself into the last step. */
#ifndef MLC_FRONTEND_ONNX_DECOMP_H
#define MLC_FRONTEND_ONNX_DECOMP_H

#include "frontend/onnx_internal.h"

/* A scalar constant of `dt` (f32 when unknown; f16/bf16 rounded to
 * nearest even) named after the node and `what`.  NULL on OOM. */
mlc_value_t *mlc_onnx_scalar_const(mlc_onnx_node_t *n, const char *what,
                                   mlc_dtype_t dt, double x);

/* Sum, Max, Min and Mean with more than MLC_ONNX_MAX_VARIADIC inputs
 * (one kernel takes at most 48 operands, and one expression over them
 * all would be as deep as the input count): a left-to-right chain of
 * nodes of the same op (Sum for Mean) with at most that many inputs
 * each, the node itself the last; a Mean then becomes Div(sum,
 * CastLike(count, sum)).  The order of the operations is unchanged, so
 * f32 and f64 results are the same bits (f16 and bf16 round between
 * links).  Nodes with fewer inputs are left alone. */
mlc_status_t *mlc_onnx_decomp_variadic(mlc_onnx_node_t *n);

/* BatchNormalization with training_mode=1 (opset >= 14): batch mean and
 * population variance over every axis but 1 (ReduceMean, Sub, Mul), Y by
 * the inference BatchNormalization on them, running_mean / running_var
 * as input * momentum + current * (1 - momentum).  Sets *why when the
 * input's rank is not known at import. */
mlc_status_t *mlc_onnx_decomp_bn_training(mlc_onnx_node_t *n,
                                          const char **why);

/* The Reduce* ops built on ReduceSum: `n` is a ReduceSum in core form
 * (data, axes?); `pre` (Mul = square, Abs, Exp, or MLC_OP_COUNT_ for
 * none) is applied to the data first, `post` (Sqrt, Log or
 * MLC_OP_COUNT_) to the sum. */
mlc_status_t *mlc_onnx_decomp_reduce(mlc_onnx_node_t *n, mlc_op_t pre,
                                     mlc_op_t post);

/* RMSNormalization (opset 23): Cast to stash_type, Mul, ReduceMean over
 * [axis, rank) keepdims, Add epsilon, Sqrt, Div, CastLike back to X, and
 * the node itself becomes Mul(., scale). */
mlc_status_t *mlc_onnx_decomp_rmsnorm(mlc_onnx_node_t *n, const char **why);

/* LpNormalization (p 1 or 2): the node becomes Where(norm == 0, 0,
 * Div(X, norm)) with norm = ReduceSum(Abs(X)) or Sqrt(ReduceSum(X * X))
 * over `axis`, kept (a zero norm gives 0, as ONNX defines). */
mlc_status_t *mlc_onnx_decomp_lpnorm(mlc_onnx_node_t *n, const char **why);

/* GroupNormalization (opset 21, per-channel scale/bias; X not known to
 * be other than f32) and InstanceNormalization (groups = channels): X viewed
 * as [N, groups, -1] by Reshape, mean and population variance over the
 * last axis (ReduceMean, Sub, Mul), (X - mean) / Sqrt(var + epsilon),
 * viewed as [N, C, -1] (Slice of Shape(X), Concat), times Unsqueeze(scale)
 * plus Unsqueeze(bias); the node becomes the Reshape to Shape(X). */
mlc_status_t *mlc_onnx_decomp_groupnorm(mlc_onnx_node_t *n, const char **why);
mlc_status_t *mlc_onnx_decomp_instancenorm(mlc_onnx_node_t *n,
                                           const char **why);

#endif
