/* The infer-shapes pass: visits the nodes in order and computes every
 * output's dtype and shape from the node's inputs with ONNX semantics.
 *
 * It assumes the nodes are in topological order and that the importer has
 * turned shape-carrying operands (Reshape's shape, axes, pads, ...) into
 * inputs.  Those operands must be constant when their node is visited, so
 * the pass folds as it goes: Shape and Size of static tensors become
 * constants in their rules, and any node whose inputs are all constant and
 * whose outputs are small (ctx->fold_max_elems, default 65536 elements) is
 * evaluated by mlc_fold_node (fold.c).  Folded nodes are marked dead and
 * dropped at the end with mlc_graph_compact.
 *
 * This file holds the helpers every rule uses and the dispatch; the rules
 * live in infer_elem.c, infer_conv.c and infer_shape.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "passes/fold.h"
#include "passes/infer.h"

/* ---- errors ---- */

static mlc_status_t *errv(const infer_cx_t *cx, mlc_status_code_t code,
                          const char *fmt, va_list ap) {
  mlc_status_t *st = mlc_status_makev(code, fmt, ap);
  return mlc_status_annotate(st, "%s", mlc_node_describe(cx->g, cx->n));
}

mlc_status_t *infer_err(const infer_cx_t *cx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mlc_status_t *st = errv(cx, MLC_INVALID_MODEL, fmt, ap);
  va_end(ap);
  return st;
}

mlc_status_t *infer_errc(const infer_cx_t *cx, mlc_status_code_t code,
                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mlc_status_t *st = errv(cx, code, fmt, ap);
  va_end(ap);
  return st;
}

/* ---- dtypes and ranks ---- */

bool infer_is_numeric(mlc_dtype_t dt) {
  return mlc_dtype_is_int(dt) || mlc_dtype_is_float(dt);
}
bool infer_is_bool(mlc_dtype_t dt) { return dt == MLC_DT_BOOL; }
bool infer_is_index(mlc_dtype_t dt) {
  return dt == MLC_DT_I32 || dt == MLC_DT_I64;
}
bool infer_is_float(mlc_dtype_t dt) { return mlc_dtype_is_float(dt); }

void infer_shape_of(const mlc_value_t *v, infer_shape_t *out) {
  out->rank = v->rank;
  for (int i = 0; i < v->rank && i < MLC_INFER_MAX_RANK; i++)
    out->d[i] = v->dims[i];
}

mlc_status_t *infer_need_rank(const infer_cx_t *cx, int i, int min, int max) {
  mlc_value_t *v = infer_in(cx, i);
  if (!v) return infer_err(cx, "input %d is required", i);
  if (v->rank < min || (max >= 0 && v->rank > max)) {
    if (min == max)
      return infer_err(cx, "input %d '%s': rank %d, expected %d", i, v->name,
                       v->rank, min);
    if (max < 0)
      return infer_err(cx, "input %d '%s': rank %d, expected at least %d", i,
                       v->name, v->rank, min);
    return infer_err(cx, "input %d '%s': rank %d, expected %d to %d", i,
                     v->name, v->rank, min, max);
  }
  return NULL;
}

mlc_status_t *infer_need_same_dtype(const infer_cx_t *cx, int i, int j) {
  mlc_value_t *a = infer_in(cx, i), *b = infer_in(cx, j);
  if (a && b && a->dtype != b->dtype)
    return infer_err(cx, "input %d '%s' is %s but input %d '%s' is %s", j,
                     b->name, mlc_dtype_name(b->dtype), i, a->name,
                     mlc_dtype_name(a->dtype));
  return NULL;
}

mlc_status_t *infer_need_dtype(const infer_cx_t *cx, int i,
                               bool (*pred)(mlc_dtype_t), const char *what) {
  mlc_value_t *v = infer_in(cx, i);
  if (v && !pred(v->dtype))
    return infer_errc(cx,
                      mlc_dtype_is_computable(v->dtype) ? MLC_INVALID_MODEL
                                                        : MLC_UNSUPPORTED,
                      "input %d '%s': dtype %s, expected %s", i, v->name,
                      mlc_dtype_name(v->dtype), what);
  return NULL;
}

mlc_status_t *infer_not_const(const infer_cx_t *cx, int i, const char *name) {
  const mlc_value_t *v = cx->n->inputs[i];
  if (v && (v->flags & MLC_VALUE_INPUT))
    return infer_errc(cx, MLC_UNSUPPORTED,
                      "input %d '%s' is not a constant; mlc needs static "
                      "shapes (it is graph input '%s': freeze it with "
                      "--const %s=FILE)",
                      i, name, v->name, v->name);
  return infer_errc(cx, MLC_UNSUPPORTED,
                    "input %d '%s' is not a constant; mlc needs static shapes",
                    i, name);
}

mlc_status_t *infer_const_ints(const infer_cx_t *cx, int i, const char *name,
                               int64_t **out_v, int64_t *out_n) {
  mlc_value_t *v = infer_in(cx, i);
  if (!v) return infer_err(cx, "input %d '%s' is required", i, name);
  if (!mlc_value_is_const(v)) return infer_not_const(cx, i, name);
  if (!mlc_dtype_is_int(v->dtype))
    return infer_err(cx, "input %d '%s': dtype %s, expected an integer type",
                     i, name, mlc_dtype_name(v->dtype));
  if (v->rank > 1)
    return infer_err(cx, "input %d '%s': rank %d, expected 0 or 1", i, name,
                     v->rank);
  int64_t n = mlc_value_numel(v);
  int64_t *out = mlc_arena_calloc(&cx->g->arena, (size_t)n + 1, sizeof *out);
  if (!out) return MLC_ERR(OUT_OF_MEMORY, "reading input %d", i);
  for (int64_t k = 0; k < n; k++) out[k] = mlc_value_const_int(v, k);
  *out_v = out;
  *out_n = n;
  return NULL;
}

mlc_status_t *infer_axis(const infer_cx_t *cx, int64_t axis, int rank,
                         const char *what, int *out_axis) {
  if (axis < -rank || axis >= rank)
    return infer_err(cx, "%s %lld is out of range for rank %d", what,
                     (long long)axis, rank);
  *out_axis = (int)(axis < 0 ? axis + rank : axis);
  return NULL;
}

int64_t infer_numel(const infer_shape_t *s, int from, int to) {
  int64_t n = 1;
  for (int i = from; i < to; i++) {
    if (!infer_dim_known(s->d[i])) return -1;
    int64_t d = s->d[i].value;
    /* Overflow reads as unknown here; infer_set_output rejects the shape. */
    if (d && n > INT64_MAX / d) return -1;
    n *= d;
  }
  return n;
}

/* ---- broadcasting ---- */

static bool same_sym(mlc_dim_t a, mlc_dim_t b) {
  return a.sym && b.sym && strcmp(a.sym, b.sym) == 0;
}

/* One dim of a numpy broadcast; false when both are known and clash. */
static bool bcast_dim(mlc_dim_t a, mlc_dim_t b, mlc_dim_t *out) {
  bool ka = infer_dim_known(a), kb = infer_dim_known(b);
  if (ka && kb) {
    if (a.value == b.value) *out = a.sym ? a : b;
    else if (a.value == 1) *out = b;
    else if (b.value == 1) *out = a;
    else return false;
  } else if (ka) {
    *out = a.value == 1 ? b : a;
  } else if (kb) {
    *out = b.value == 1 ? a : b;
  } else {
    *out = same_sym(a, b) ? a : infer_dim_unknown();
  }
  return true;
}

static const char *dim_str(const infer_cx_t *cx, mlc_dim_t d) {
  if (d.sym && d.value >= 0)
    return mlc_arena_printf(&cx->g->arena, "%s=%lld", d.sym,
                            (long long)d.value);
  if (d.sym) return d.sym;
  if (d.value < 0) return "?";
  return mlc_arena_printf(&cx->g->arena, "%lld", (long long)d.value);
}

mlc_status_t *infer_broadcast(const infer_cx_t *cx, const infer_shape_t *a,
                              const infer_shape_t *b, infer_shape_t *out) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  infer_shape_t res = {.rank = r};
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    mlc_dim_t da = ia >= 0 ? a->d[ia] : infer_dim(1);
    mlc_dim_t db = ib >= 0 ? b->d[ib] : infer_dim(1);
    if (!bcast_dim(da, db, &res.d[i]))
      return infer_err(cx,
                       "shapes do not broadcast: dim %d is %s in one operand "
                       "and %s in the other",
                       i, dim_str(cx, da), dim_str(cx, db));
  }
  *out = res;
  return NULL;
}

/* ---- recording outputs ---- */

static mlc_status_t *check_declared(const infer_cx_t *cx, int i,
                                    const mlc_value_t *v, mlc_dtype_t dt,
                                    const infer_shape_t *s) {
  if (v->dtype != MLC_DT_UNDEFINED && v->dtype != dt)
    return infer_err(cx, "output %d '%s' is declared %s but computes %s", i,
                     v->name, mlc_dtype_name(v->dtype), mlc_dtype_name(dt));
  if (v->rank < 0) return NULL;
  if (v->rank != s->rank)
    return infer_err(cx, "output %d '%s' is declared with rank %d but has "
                     "rank %d", i, v->name, v->rank, s->rank);
  for (int k = 0; k < s->rank; k++) {
    mlc_dim_t dd = v->dims[k], id = s->d[k];
    if (infer_dim_known(dd) && infer_dim_known(id) && dd.value != id.value)
      return infer_err(cx, "output %d '%s': dim %d is declared %s but is %s",
                       i, v->name, k, dim_str(cx, dd), dim_str(cx, id));
  }
  return NULL;
}

/* Rejects a shape whose byte size does not fit int64.  Zero dims are
 * skipped so that an empty tensor with huge other dims is caught too:
 * lowering computes strides from those dims. */
static mlc_status_t *check_size(const infer_cx_t *cx, int i, mlc_dtype_t dt,
                                const infer_shape_t *s) {
  size_t es = mlc_dtype_size(dt);
  int64_t n = es ? (int64_t)es : 1;
  for (int k = 0; k < s->rank; k++) {
    int64_t d = s->d[k].value;
    if (!infer_dim_known(s->d[k]) || d == 0) continue;
    if (n > INT64_MAX / d)
      return infer_err(cx, "output %d: shape too large (dim %d = %lld "
                       "overflows the byte size)", i, k, (long long)d);
    n *= d;
  }
  return NULL;
}

mlc_status_t *infer_set_output(const infer_cx_t *cx, int i, mlc_dtype_t dt,
                               const infer_shape_t *s) {
  if (i >= cx->n->noutputs || !cx->n->outputs[i]) return NULL;
  mlc_value_t *v = cx->n->outputs[i];
  MLC_RETURN_IF(check_size(cx, i, dt, s));
  MLC_RETURN_IF(check_declared(cx, i, v, dt, s));
  if (v->rank != s->rank) {
    mlc_dim_t *dims = NULL;
    if (s->rank > 0) {
      dims = mlc_arena_calloc(&cx->g->arena, (size_t)s->rank, sizeof *dims);
      if (!dims) return MLC_ERR(OUT_OF_MEMORY, "output %d", i);
      for (int k = 0; k < s->rank; k++) dims[k] = infer_dim_unknown();
    }
    v->dims = dims;
    v->rank = s->rank;
  }
  for (int k = 0; k < s->rank; k++) {
    mlc_dim_t id = s->d[k], dd = v->dims[k];
    bool keep = !infer_dim_known(id) && (infer_dim_known(dd) || !id.sym);
    v->dims[k] = keep ? dd : id;
  }
  v->dtype = dt;
  return NULL;
}

/* ---- dispatch ---- */

static mlc_status_t *infer_identity(const infer_cx_t *cx) {
  infer_shape_t s;
  infer_shape_of(cx->n->inputs[0], &s);
  return infer_set_output(cx, 0, cx->n->inputs[0]->dtype, &s);
}

static mlc_status_t *(*rule_for(mlc_op_t op))(const infer_cx_t *) {
  switch (op) {
  case MLC_OP_Identity: case MLC_OP_AllReduce: return infer_identity;
  case MLC_OP_Cast: return infer_cast;
  case MLC_OP_CastLike: return infer_castlike;
  case MLC_OP_Clip: return infer_clip;
  case MLC_OP_Where: return infer_where;
  case MLC_OP_Min: case MLC_OP_Max: case MLC_OP_Sum: case MLC_OP_Mean:
    return infer_variadic;
  case MLC_OP_MatMul: return infer_matmul;
  case MLC_OP_Gemm: return infer_gemm;
  case MLC_OP_Pack: return infer_pack;
  case MLC_OP_PackedMatMul: return infer_packed_matmul;
  case MLC_OP_Im2Col: return infer_im2col;
  case MLC_OP_ConvCols: return infer_conv_cols;
  case MLC_OP_Conv: return infer_conv;
  case MLC_OP_MaxPool: case MLC_OP_AveragePool: return infer_pool;
  case MLC_OP_GlobalAveragePool: case MLC_OP_GlobalMaxPool:
    return infer_global_pool;
  case MLC_OP_BatchNormalization: return infer_batchnorm;
  case MLC_OP_Softmax: case MLC_OP_LogSoftmax: return infer_softmax;
  case MLC_OP_LayerNormalization: return infer_layernorm;
  case MLC_OP_ReduceMean: case MLC_OP_ReduceSum: case MLC_OP_ReduceMax:
  case MLC_OP_ReduceMin: case MLC_OP_ReduceProd: return infer_reduce;
  case MLC_OP_Reshape: return infer_reshape;
  case MLC_OP_Flatten: return infer_flatten;
  case MLC_OP_Squeeze: return infer_squeeze;
  case MLC_OP_Unsqueeze: return infer_unsqueeze;
  case MLC_OP_Transpose: return infer_transpose;
  case MLC_OP_Concat: return infer_concat;
  case MLC_OP_Split: return infer_split;
  case MLC_OP_Slice: return infer_slice;
  case MLC_OP_Gather: return infer_gather;
  case MLC_OP_Expand: return infer_expand;
  case MLC_OP_Tile: return infer_tile;
  case MLC_OP_Pad: return infer_pad;
  case MLC_OP_Shape: return infer_shape_op;
  case MLC_OP_Size: return infer_size;
  case MLC_OP_ConstantOfShape: return infer_const_of_shape;
  case MLC_OP_Range: return infer_range;
  case MLC_OP_AllGather: return NULL;
  case MLC_OP_ArgMax: case MLC_OP_ArgMin: return infer_argminmax;
  case MLC_OP_Hardmax: return infer_hardmax;
  case MLC_OP_Resize: return infer_resize;
  case MLC_OP_ConvTranspose: return infer_convtranspose;
  case MLC_OP_CumSum: case MLC_OP_CumProd: return infer_cumsum;
  case MLC_OP_GatherElements: return infer_gather_elements;
  case MLC_OP_Trilu: return infer_trilu;
  case MLC_OP_ScatterElements: return infer_scatter_elements;
  case MLC_OP_TopK: return infer_topk;
  default: break;
  }
  unsigned f = mlc_op_info(op)->flags;
  if (f & MLC_OPF_ELEM)
    return mlc_op_info(op)->max_inputs == 1 ? infer_unary : infer_binary;
  return NULL;
}

/* Arity and known ranks of the inputs, before any rule looks at them. */
static mlc_status_t *check_inputs(const infer_cx_t *cx) {
  const mlc_op_info_t *info = mlc_op_info(cx->n->op);
  if (cx->n->ninputs < info->min_inputs ||
      (info->max_inputs >= 0 && cx->n->ninputs > info->max_inputs))
    return infer_err(cx, "%d inputs, expected %d to %d", cx->n->ninputs,
                     info->min_inputs, info->max_inputs);
  for (int i = 0; i < cx->n->ninputs; i++) {
    mlc_value_t *v = cx->n->inputs[i];
    if (!v) {
      if (i < info->min_inputs)
        return infer_err(cx, "input %d is required", i);
      continue;
    }
    if (v->rank < 0 || v->dtype == MLC_DT_UNDEFINED)
      return infer_errc(cx, MLC_UNSUPPORTED,
                        "input %d '%s' has an unknown %s", i, v->name,
                        v->rank < 0 ? "rank" : "dtype");
    if (v->rank > MLC_INFER_MAX_RANK)
      return infer_errc(cx, MLC_UNSUPPORTED, "input %d '%s': rank %d is above "
                        "%d", i, v->name, v->rank, MLC_INFER_MAX_RANK);
  }
  return NULL;
}

/* Folds the node now if its inputs are all constant and its outputs are
 * small; a rule that produced constants itself (Shape) leaves it dead. */
static mlc_status_t *maybe_fold(const infer_cx_t *cx) {
  mlc_node_t *n = cx->n;
  bool all_const = true;
  for (int i = 0; i < n->noutputs; i++)
    if (n->outputs[i] && !mlc_value_is_const(n->outputs[i])) all_const = false;
  if (all_const) {
    n->dead = true;
    return NULL;
  }
  for (int i = 0; i < n->ninputs; i++)
    if (n->inputs[i] && !mlc_value_is_const(n->inputs[i])) return NULL;
  for (int i = 0; i < n->noutputs; i++) {
    int64_t ne = n->outputs[i] ? mlc_value_numel(n->outputs[i]) : 0;
    if (ne < 0 || ne > mlc_fold_limit(cx->ctx)) return NULL;
  }
  bool folded = false;
  return mlc_fold_node(cx->ctx, cx->g, n, &folded);
}

mlc_status_t *mlc_infer_node(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                             mlc_node_t *n) {
  infer_cx_t cx = {ctx, g, n};
  MLC_RETURN_IF(check_inputs(&cx));
  mlc_status_t *(*rule)(const infer_cx_t *) = rule_for(n->op);
  if (!rule) return NULL; /* collectives keep their declared shapes */
  MLC_RETURN_IF(rule(&cx));
  return maybe_fold(&cx);
}

static mlc_status_t *run(mlc_pass_ctx_t *ctx, mlc_graph_t *g) {
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    MLC_RETURN_IF(mlc_infer_node(ctx, g, n));
  }
  mlc_graph_compact(g);
  return NULL;
}

const mlc_pass_t mlc_pass_infer_shapes = {
    .name = "infer-shapes",
    .summary = "compute dtypes and shapes; fold shape arithmetic",
    .run = run,
};
