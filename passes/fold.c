/* Constant folding.
 *
 * mlc_fold_node evaluates one node whose inputs are all constant.  View
 * ops reinterpret their input's bytes, so their output simply borrows the
 * input's data.  Every other op is lowered to a standalone kernel
 * (mlc_lower_node) and run by the tile interpreter on host buffers: the
 * inputs point at the constants' data, the outputs are heap blocks the
 * graph adopts.  The interpreter is the reference semantics of the
 * backends, so a folded value equals what the compiled code would compute.
 *
 * A graph input that also has data (an overridable initializer) does not
 * count as constant here.
 *
 * The fold-constants pass folds every remaining node whose inputs are all
 * constant, whatever its size (weight transposes, BatchNorm parameter
 * arithmetic, ...), except nodes whose output is larger than both the
 * fold limit and their inputs together (a big ConstantOfShape or Expand
 * is cheaper to compute at run time than to store), then runs the
 * algebraic clean-ups of fold_algebra.c.
 * It assumes shapes were inferred (infer-shapes ran); nodes with
 * non-static outputs or ops the lowering does not support are left
 * alone. */
#include <stdlib.h>
#include <string.h>

#include "ir/tile.h"
#include "passes/fold.h"
#include "passes/lower.h"

static bool is_view_op(mlc_op_t op) {
  return op == MLC_OP_Identity || op == MLC_OP_Reshape ||
         op == MLC_OP_Flatten || op == MLC_OP_Squeeze ||
         op == MLC_OP_Unsqueeze;
}

static mlc_status_t *fold_view(mlc_graph_t *g, mlc_node_t *n, bool *folded) {
  mlc_value_t *in = n->inputs[0], *out = n->outputs[0];
  int64_t nb = mlc_value_nbytes(out);
  if (nb < 0 || nb != mlc_value_nbytes(in) || in->dtype != out->dtype)
    return NULL;
  MLC_RETURN_IF(mlc_value_set_const(g, out, in->data, (size_t)nb,
                                    MLC_DATA_BORROW));
  *folded = true;
  return NULL;
}

/* Host memory for each kernel buffer: constants' data, or a fresh heap
 * block for an output (owned[i] set). */
static mlc_status_t *bind_buffers(const mlc_tkernel_t *k,
                                  mlc_value_t *const *vals, void **bufs,
                                  bool *owned) {
  for (int i = 0; i < k->nbufs; i++) {
    mlc_value_t *v = vals[i];
    if (k->bufs[i].local) continue; /* the interpreter's own */
    int64_t nb = mlc_value_nbytes(v);
    if (nb < 0 || k->bufs[i].nelems != mlc_value_numel(v))
      return MLC_ERR(INTERNAL, "buffer %d ('%s') does not match its value",
                     i, v->name);
    if (mlc_value_is_const(v)) {
      bufs[i] = (void *)v->data;
      continue;
    }
    bufs[i] = calloc(1, nb ? (size_t)nb : 1);
    if (!bufs[i]) return MLC_ERR(OUT_OF_MEMORY, "buffer %d", i);
    owned[i] = true;
  }
  return NULL;
}

/* Hands the output blocks to the graph and marks their values constant. */
static mlc_status_t *adopt_outputs(mlc_graph_t *g, const mlc_tkernel_t *k,
                                   mlc_value_t *const *vals, void **bufs,
                                   bool *owned) {
  for (int i = 0; i < k->nbufs; i++) {
    if (!owned[i]) continue;
    if (!mlc_graph_adopt_heap(g, bufs[i]))
      return MLC_ERR(OUT_OF_MEMORY, "adopting folded data");
    owned[i] = false;
    size_t nb = (size_t)mlc_value_nbytes(vals[i]);
    MLC_RETURN_IF(mlc_value_set_const(g, vals[i], bufs[i], nb,
                                      MLC_DATA_BORROW));
  }
  return NULL;
}

static mlc_status_t *run_kernel(mlc_graph_t *g, const mlc_tkernel_t *k,
                                mlc_value_t *const *vals) {
  void **bufs = calloc((size_t)k->nbufs + 1, sizeof *bufs);
  bool *owned = calloc((size_t)k->nbufs + 1, sizeof *owned);
  mlc_status_t *st = NULL;
  if (!bufs || !owned) st = MLC_ERR(OUT_OF_MEMORY, "folding");
  if (!st) st = bind_buffers(k, vals, bufs, owned);
  if (!st) st = mlc_tkernel_interpret(k, bufs);
  if (!st) st = adopt_outputs(g, k, vals, bufs, owned);
  for (int i = 0; bufs && owned && i < k->nbufs; i++)
    if (owned[i]) free(bufs[i]);
  free(bufs);
  free(owned);
  return st;
}

static mlc_status_t *fold_lowered(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                                  mlc_node_t *n) {
  mlc_tkernel_t *k = NULL;
  mlc_value_t **vals = NULL;
  MLC_RETURN_IF(mlc_lower_node(ctx, g, n, &k, &vals));
  mlc_status_t *st = run_kernel(g, k, vals);
  mlc_tkernel_destroy(k);
  return st;
}

/* Pack is pure data movement over every weight matrix of a model (BERT:
 * 85M elements), which the interpreter takes a minute for; this loop
 * computes the same bytes (ir/ops.def: out[.., p, k, j] = B[.., k, p*NB+j],
 * trans: B[.., p*NB+j, k], 0 past column N; test_gemm_layout checks it
 * against the interpreter's lowering). */
static mlc_status_t *fold_pack(mlc_graph_t *g, mlc_node_t *n) {
  const mlc_value_t *x = n->inputs[0];
  mlc_value_t *y = n->outputs[0];
  bool trans = mlc_node_attr_int(n, "trans", 0) != 0;
  int r = y->rank;
  if (r < 3 || x->rank != r - 1 || y->dtype != x->dtype) return NULL;
  int64_t P = y->dims[r - 3].value, K = y->dims[r - 2].value, NB = y->dims[r - 1].value;
  int64_t N = x->dims[x->rank - (trans ? 2 : 1)].value;
  int64_t batch = mlc_value_numel(x) / (K * N > 0 ? K * N : 1);
  size_t es = mlc_dtype_size(x->dtype);
  char *out = calloc(1, (size_t)mlc_value_nbytes(y) + 1);
  if (!out) return MLC_ERR(OUT_OF_MEMORY, "folding %s", mlc_node_describe(g, n));
  const char *in = x->data;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t p = 0; p < P; p++)
      for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < NB && p * NB + j < N; j++) {
          int64_t col = p * NB + j;
          int64_t src = b * K * N + (trans ? col * K + k : k * N + col);
          int64_t dst = ((b * P + p) * K + k) * NB + j;
          memcpy(out + dst * (int64_t)es, in + src * (int64_t)es, es);
        }
  if (!mlc_graph_adopt_heap(g, out)) {
    free(out);
    return MLC_ERR(OUT_OF_MEMORY, "folding %s", mlc_node_describe(g, n));
  }
  return mlc_value_set_const(g, y, out, (size_t)mlc_value_nbytes(y), MLC_DATA_BORROW);
}

static bool outputs_const(const mlc_node_t *n) {
  for (int i = 0; i < n->noutputs; i++)
    if (n->outputs[i] && !mlc_value_is_const(n->outputs[i])) return false;
  return true;
}

static bool foldable(const mlc_node_t *n) {
  if (n->dead || (mlc_op_info(n->op)->flags & MLC_OPF_COLL)) return false;
  for (int i = 0; i < n->ninputs; i++) {
    const mlc_value_t *v = n->inputs[i];
    /* A graph input with a default value can be overridden at run time. */
    if (v && (!mlc_value_is_const(v) || (v->flags & MLC_VALUE_INPUT)))
      return false;
  }
  for (int i = 0; i < n->noutputs; i++)
    if (n->outputs[i] && mlc_value_nbytes(n->outputs[i]) < 0) return false;
  return true;
}

mlc_status_t *mlc_fold_node(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                            mlc_node_t *n, bool *out_folded) {
  *out_folded = false;
  if (!foldable(n)) return NULL;
  if (is_view_op(n->op)) {
    MLC_RETURN_IF_ERROR(fold_view(g, n, out_folded), "folding %s",
                        mlc_node_describe(g, n));
  } else if (n->op == MLC_OP_Pack && mlc_value_is_static(n->outputs[0])) {
    MLC_RETURN_IF_ERROR(fold_pack(g, n), "folding %s", mlc_node_describe(g, n));
  } else if (mlc_lower_supports(g, n)) {
    MLC_RETURN_IF_ERROR(fold_lowered(ctx, g, n), "folding %s",
                        mlc_node_describe(g, n));
  }
  if (outputs_const(n)) {
    n->dead = true;
    *out_folded = true;
  }
  return NULL;
}

int64_t mlc_fold_limit(const mlc_pass_ctx_t *ctx) {
  return ctx->fold_max_elems > 0 ? ctx->fold_max_elems : 65536;
}

/* True if folding would store an output larger than both the limit and
 * the node's inputs together (ConstantOfShape, Expand, Tile, Range of
 * big sizes): cheaper to compute at run time than to ship as weights. */
static bool grows_weights(const mlc_pass_ctx_t *ctx, const mlc_node_t *n) {
  /* Pack only pads each row to its panel width: weights in the layout the
   * GEMM kernel reads are what the fold is for. */
  if (n->op == MLC_OP_Pack) return false;
  int64_t in = 0;
  for (int i = 0; i < n->ninputs; i++)
    if (n->inputs[i]) in += mlc_value_numel(n->inputs[i]);
  int64_t cap = in > mlc_fold_limit(ctx) ? in : mlc_fold_limit(ctx);
  for (int i = 0; i < n->noutputs; i++)
    if (n->outputs[i] && mlc_value_numel(n->outputs[i]) > cap) return true;
  return false;
}

static mlc_status_t *run(mlc_pass_ctx_t *ctx, mlc_graph_t *g) {
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    bool folded;
    if (n->dead || grows_weights(ctx, n)) continue;
    MLC_RETURN_IF(mlc_fold_node(ctx, g, n, &folded));
  }
  bool changed;
  MLC_RETURN_IF(mlc_fold_algebra(ctx, g, &changed));
  mlc_graph_compact(g);
  return NULL;
}

const mlc_pass_t mlc_pass_fold_constants = {
    .name = "fold-constants",
    .summary = "evaluate nodes whose inputs are all constant",
    .run = run,
};
