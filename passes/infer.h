/* Private interface of the shape inference pass (infer.c and the
 * infer_*.c rule files).  Each rule reads the node's inputs, validates
 * ranks and dtypes, and records every output's dtype and shape with
 * infer_set_output.  Shapes are built in a small fixed-size struct on the
 * stack; ranks above MLC_INFER_MAX_RANK are reported as unsupported. */
#ifndef MLC_PASSES_INFER_H
#define MLC_PASSES_INFER_H

#include "passes/pass.h"

#define MLC_INFER_MAX_RANK 32

typedef struct infer_shape {
  int rank;
  mlc_dim_t d[MLC_INFER_MAX_RANK];
} infer_shape_t;

/* What a rule works on: the pass context, the graph and the node. */
typedef struct infer_cx {
  const mlc_pass_ctx_t *ctx;
  mlc_graph_t *g;
  mlc_node_t *n;
} infer_cx_t;

/* Infers one node's outputs (and folds it when small and constant). */
mlc_status_t *mlc_infer_node(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                             mlc_node_t *n);

/* ---- helpers (infer.c) ---- */

/* An MLC_INVALID_MODEL error prefixed with the node's description. */
mlc_status_t *infer_err(const infer_cx_t *cx, const char *fmt, ...)
    MLC_PRINTF(2, 3) MLC_MUST_USE;
/* Same with another status code. */
/* The error for a shape-deciding operand that is not constant: names the
 * operand and, when it is a graph input, how to freeze it (--const). */
mlc_status_t *infer_not_const(const infer_cx_t *cx, int i, const char *name);
mlc_status_t *infer_errc(const infer_cx_t *cx, mlc_status_code_t code,
                         const char *fmt, ...) MLC_PRINTF(3, 4) MLC_MUST_USE;

static inline mlc_value_t *infer_in(const infer_cx_t *cx, int i) {
  return i < cx->n->ninputs ? cx->n->inputs[i] : NULL;
}
static inline bool infer_dim_known(mlc_dim_t d) { return d.value >= 0; }
static inline mlc_dim_t infer_dim(int64_t v) { return (mlc_dim_t){v, NULL}; }
static inline mlc_dim_t infer_dim_unknown(void) {
  return (mlc_dim_t){-1, NULL};
}

/* Copies the shape of a value (rank must be known). */
void infer_shape_of(const mlc_value_t *v, infer_shape_t *out);
/* Errors unless input i is present with a rank in [min, max] (max -1:
 * any). */
mlc_status_t *infer_need_rank(const infer_cx_t *cx, int i, int min, int max);
/* Errors unless inputs i and j have the same dtype. */
mlc_status_t *infer_need_same_dtype(const infer_cx_t *cx, int i, int j);
/* Errors unless input i's dtype satisfies pred; `what` names the rule. */
mlc_status_t *infer_need_dtype(const infer_cx_t *cx, int i,
                               bool (*pred)(mlc_dtype_t), const char *what);
bool infer_is_numeric(mlc_dtype_t dt); /* ints and floats, not bool */
bool infer_is_bool(mlc_dtype_t dt);
bool infer_is_index(mlc_dtype_t dt); /* i32 or i64 */
bool infer_is_float(mlc_dtype_t dt);

/* Reads constant integer input i (rank 0 or 1) into arena memory.
 * `name` is the ONNX input name, for the error when it is not constant. */
mlc_status_t *infer_const_ints(const infer_cx_t *cx, int i, const char *name,
                               int64_t **out_v, int64_t *out_n);
/* Normalises a possibly negative axis into [0, rank). */
mlc_status_t *infer_axis(const infer_cx_t *cx, int64_t axis, int rank,
                         const char *what, int *out_axis);
/* Numpy broadcast of two dims / shapes; error names the inputs. */
mlc_status_t *infer_broadcast(const infer_cx_t *cx, const infer_shape_t *a,
                              const infer_shape_t *b, infer_shape_t *out);
/* Records output i: checks against a shape declared by the model and
 * prefers the inferred dims (keeping declared ones the inference left
 * unknown). */
mlc_status_t *infer_set_output(const infer_cx_t *cx, int i, mlc_dtype_t dt,
                               const infer_shape_t *s);
/* Product of dims; -1 when any is unknown. */
int64_t infer_numel(const infer_shape_t *s, int from, int to);

/* ---- rules ---- */
/* infer_elem.c: elementwise, MatMul, Gemm, normalisations, reductions */
mlc_status_t *infer_unary(const infer_cx_t *cx);
mlc_status_t *infer_binary(const infer_cx_t *cx);
mlc_status_t *infer_variadic(const infer_cx_t *cx);
mlc_status_t *infer_where(const infer_cx_t *cx);
mlc_status_t *infer_clip(const infer_cx_t *cx);
mlc_status_t *infer_cast(const infer_cx_t *cx);
mlc_status_t *infer_castlike(const infer_cx_t *cx);
mlc_status_t *infer_matmul(const infer_cx_t *cx);
mlc_status_t *infer_gemm(const infer_cx_t *cx);
/* infer_gemm.c: internal ops of the gemm-layout pass */
mlc_status_t *infer_pack(const infer_cx_t *cx);
mlc_status_t *infer_packed_matmul(const infer_cx_t *cx);
mlc_status_t *infer_im2col(const infer_cx_t *cx);
mlc_status_t *infer_conv_cols(const infer_cx_t *cx);
mlc_status_t *infer_softmax(const infer_cx_t *cx);
mlc_status_t *infer_batchnorm(const infer_cx_t *cx);
mlc_status_t *infer_layernorm(const infer_cx_t *cx);
mlc_status_t *infer_reduce(const infer_cx_t *cx);
/* infer_conv.c: Conv, pools */
mlc_status_t *infer_conv(const infer_cx_t *cx);
mlc_status_t *infer_pool(const infer_cx_t *cx);
mlc_status_t *infer_global_pool(const infer_cx_t *cx);
/* infer_shape.c: data movement and shape ops */
mlc_status_t *infer_reshape(const infer_cx_t *cx);
mlc_status_t *infer_flatten(const infer_cx_t *cx);
mlc_status_t *infer_squeeze(const infer_cx_t *cx);
mlc_status_t *infer_unsqueeze(const infer_cx_t *cx);
mlc_status_t *infer_transpose(const infer_cx_t *cx);
mlc_status_t *infer_concat(const infer_cx_t *cx);
mlc_status_t *infer_split(const infer_cx_t *cx);
mlc_status_t *infer_slice(const infer_cx_t *cx);
mlc_status_t *infer_gather(const infer_cx_t *cx);
mlc_status_t *infer_expand(const infer_cx_t *cx);
mlc_status_t *infer_tile(const infer_cx_t *cx);
mlc_status_t *infer_pad(const infer_cx_t *cx);
mlc_status_t *infer_shape_op(const infer_cx_t *cx);
mlc_status_t *infer_size(const infer_cx_t *cx);
mlc_status_t *infer_const_of_shape(const infer_cx_t *cx);
mlc_status_t *infer_range(const infer_cx_t *cx);
/* infer_convt.c */
mlc_status_t *infer_convtranspose(const infer_cx_t *cx);
/* infer_resize.c */
mlc_status_t *infer_resize(const infer_cx_t *cx);
/* infer_index.c: ArgMax/ArgMin, Hardmax, CumSum, GatherElements, Trilu */
mlc_status_t *infer_argminmax(const infer_cx_t *cx);
mlc_status_t *infer_hardmax(const infer_cx_t *cx);
mlc_status_t *infer_cumsum(const infer_cx_t *cx);
mlc_status_t *infer_gather_elements(const infer_cx_t *cx);
mlc_status_t *infer_trilu(const infer_cx_t *cx);
mlc_status_t *infer_scatter_elements(const infer_cx_t *cx);
mlc_status_t *infer_topk(const infer_cx_t *cx);

#endif
