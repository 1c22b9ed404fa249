/* Shape rules for elementwise ops (numpy broadcasting), Cast, Clip,
 * Where, MatMul, Gemm, Softmax, the normalisations and the reductions.
 * Each rule validates ranks and the dtype rules of its ONNX op and
 * records its outputs with infer_set_output (see infer.h). */
#include <string.h>

#include "passes/infer.h"

/* ---- elementwise ---- */

static bool unary_wants_float(mlc_op_t op) {
  switch (op) {
  case MLC_OP_Neg: case MLC_OP_Abs: case MLC_OP_Sign: case MLC_OP_Relu:
  case MLC_OP_Erf: case MLC_OP_Not: case MLC_OP_Identity:
  case MLC_OP_Shrink:
    return false;
  default:
    return true;
  }
}

mlc_status_t *infer_unary(const infer_cx_t *cx) {
  mlc_op_t op = cx->n->op;
  mlc_value_t *x = cx->n->inputs[0];
  mlc_dtype_t out = x->dtype;
  if (op == MLC_OP_Not) {
    MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_bool, "bool"));
  } else if (unary_wants_float(op)) {
    MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_float, "a float type"));
    if (op == MLC_OP_IsNaN || op == MLC_OP_IsInf) out = MLC_DT_BOOL;
  } else {
    MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  }
  infer_shape_t s;
  infer_shape_of(x, &s);
  return infer_set_output(cx, 0, out, &s);
}

static bool is_comparison(mlc_op_t op) {
  return op == MLC_OP_Equal || op == MLC_OP_Less || op == MLC_OP_Greater ||
         op == MLC_OP_LessOrEqual || op == MLC_OP_GreaterOrEqual;
}

static bool is_logical(mlc_op_t op) {
  return op == MLC_OP_And || op == MLC_OP_Or || op == MLC_OP_Xor;
}

static bool is_value(mlc_dtype_t dt) {
  return infer_is_numeric(dt) || dt == MLC_DT_BOOL;
}

/* Checks operand dtypes of a binary op and returns the output dtype. */
static mlc_status_t *binary_dtype(const infer_cx_t *cx, mlc_dtype_t *out) {
  mlc_op_t op = cx->n->op;
  mlc_dtype_t a = cx->n->inputs[0]->dtype;
  if (is_logical(op)) {
    MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_bool, "bool"));
    MLC_RETURN_IF(infer_need_dtype(cx, 1, infer_is_bool, "bool"));
    *out = MLC_DT_BOOL;
    return NULL;
  }
  bool (*pred)(mlc_dtype_t) = op == MLC_OP_Equal ? is_value : infer_is_numeric;
  MLC_RETURN_IF(infer_need_dtype(cx, 0, pred, "a number type"));
  MLC_RETURN_IF(infer_need_dtype(cx, 1, pred, "a number type"));
  if (op != MLC_OP_Pow) MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 1));
  *out = is_comparison(op) ? MLC_DT_BOOL : a;
  return NULL;
}

mlc_status_t *infer_binary(const infer_cx_t *cx) {
  mlc_dtype_t dt;
  MLC_RETURN_IF(binary_dtype(cx, &dt));
  infer_shape_t a, b, s;
  infer_shape_of(cx->n->inputs[0], &a);
  infer_shape_of(cx->n->inputs[1], &b);
  MLC_RETURN_IF(infer_broadcast(cx, &a, &b, &s));
  return infer_set_output(cx, 0, dt, &s);
}

mlc_status_t *infer_variadic(const infer_cx_t *cx) {
  infer_shape_t s, t;
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  infer_shape_of(cx->n->inputs[0], &s);
  for (int i = 1; i < cx->n->ninputs; i++) {
    if (!cx->n->inputs[i]) return infer_err(cx, "input %d is required", i);
    MLC_RETURN_IF(infer_need_same_dtype(cx, 0, i));
    infer_shape_of(cx->n->inputs[i], &t);
    MLC_RETURN_IF(infer_broadcast(cx, &s, &t, &s));
  }
  return infer_set_output(cx, 0, cx->n->inputs[0]->dtype, &s);
}

mlc_status_t *infer_where(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_bool, "bool"));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 1, 2));
  infer_shape_t c, x, y;
  infer_shape_of(cx->n->inputs[0], &c);
  infer_shape_of(cx->n->inputs[1], &x);
  infer_shape_of(cx->n->inputs[2], &y);
  MLC_RETURN_IF(infer_broadcast(cx, &c, &x, &c));
  MLC_RETURN_IF(infer_broadcast(cx, &c, &y, &c));
  return infer_set_output(cx, 0, cx->n->inputs[1]->dtype, &c);
}

mlc_status_t *infer_clip(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  for (int i = 1; i < cx->n->ninputs; i++) {
    mlc_value_t *v = cx->n->inputs[i];
    if (!v) continue;
    MLC_RETURN_IF(infer_need_same_dtype(cx, 0, i));
    if (v->rank > 1 || (v->rank == 1 && infer_dim_known(v->dims[0]) &&
                        v->dims[0].value != 1))
      return infer_err(cx, "input %d '%s' must be a scalar", i, v->name);
  }
  infer_shape_t s;
  infer_shape_of(cx->n->inputs[0], &s);
  return infer_set_output(cx, 0, cx->n->inputs[0]->dtype, &s);
}

mlc_status_t *infer_cast(const infer_cx_t *cx) {
  const mlc_attr_t *a = mlc_node_attr(cx->n, "to");
  if (!a || a->kind != MLC_ATTR_INT)
    return infer_err(cx, "attribute 'to' is required");
  if (a->i <= MLC_DT_UNDEFINED || a->i >= MLC_DT_COUNT_ ||
      a->i == MLC_DT_STRING)
    return infer_err(cx, "attribute 'to' = %lld is not a tensor dtype",
                     (long long)a->i);
  infer_shape_t s;
  infer_shape_of(cx->n->inputs[0], &s);
  return infer_set_output(cx, 0, (mlc_dtype_t)a->i, &s);
}

/* CastLike(x, like) becomes Cast(x) to like's dtype (saturate kept), so
 * folding, fusion and lowering only ever see Cast. */
mlc_status_t *infer_castlike(const infer_cx_t *cx) {
  mlc_node_t *n = cx->n;
  mlc_dtype_t to = n->inputs[1]->dtype;
  if (to == MLC_DT_STRING)
    return infer_errc(cx, MLC_UNSUPPORTED, "cast to string");
  if (!mlc_node_set_int(cx->g, n, "to", (int64_t)to))
    return MLC_ERR(OUT_OF_MEMORY, "%s", mlc_node_describe(cx->g, n));
  n->op = MLC_OP_Cast;
  n->ninputs = 1;
  return infer_cast(cx);
}

/* ---- MatMul, Gemm ---- */

static mlc_status_t *need_dim_match(const infer_cx_t *cx, mlc_dim_t a,
                                    mlc_dim_t b, const char *what) {
  if (infer_dim_known(a) && infer_dim_known(b) && a.value != b.value)
    return infer_err(cx, "%s: %lld vs %lld", what, (long long)a.value,
                     (long long)b.value);
  return NULL;
}

mlc_status_t *infer_matmul(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_rank(cx, 1, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 1));
  infer_shape_t a, b, ba, bb, s;
  infer_shape_of(cx->n->inputs[0], &a);
  infer_shape_of(cx->n->inputs[1], &b);
  bool a1 = a.rank == 1, b1 = b.rank == 1;
  if (a1) a = (infer_shape_t){.rank = 2, .d = {infer_dim(1), a.d[0]}};
  if (b1) b = (infer_shape_t){.rank = 2, .d = {b.d[0], infer_dim(1)}};
  MLC_RETURN_IF(need_dim_match(cx, a.d[a.rank - 1], b.d[b.rank - 2],
                               "inner dimensions of MatMul differ"));
  ba = a, bb = b;
  ba.rank -= 2, bb.rank -= 2;
  MLC_RETURN_IF(infer_broadcast(cx, &ba, &bb, &s));
  if (!a1) s.d[s.rank++] = a.d[a.rank - 2];
  if (!b1) s.d[s.rank++] = b.d[b.rank - 1];
  return infer_set_output(cx, 0, cx->n->inputs[0]->dtype, &s);
}

mlc_status_t *infer_gemm(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 2, 2));
  MLC_RETURN_IF(infer_need_rank(cx, 1, 2, 2));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 1));
  const mlc_value_t *a = cx->n->inputs[0], *b = cx->n->inputs[1];
  bool ta = mlc_node_attr_int(cx->n, "transA", 0) != 0;
  bool tb = mlc_node_attr_int(cx->n, "transB", 0) != 0;
  mlc_dim_t m = a->dims[ta ? 1 : 0], ka = a->dims[ta ? 0 : 1];
  mlc_dim_t kb = b->dims[tb ? 1 : 0], nn = b->dims[tb ? 0 : 1];
  MLC_RETURN_IF(need_dim_match(cx, ka, kb, "inner dimensions of Gemm differ"));
  infer_shape_t s = {.rank = 2, .d = {m, nn}};
  mlc_value_t *c = infer_in(cx, 2);
  if (c) {
    MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 2));
    if (c->rank > 2) return infer_err(cx, "input 2 '%s': rank %d, expected "
                                      "at most 2", c->name, c->rank);
    infer_shape_t cs, r;
    infer_shape_of(c, &cs);
    MLC_RETURN_IF(infer_broadcast(cx, &s, &cs, &r));
    MLC_RETURN_IF(need_dim_match(cx, r.d[0], m, "input 2 does not "
                                 "broadcast to the output (dim 0)"));
    MLC_RETURN_IF(need_dim_match(cx, r.d[1], nn, "input 2 does not "
                                 "broadcast to the output (dim 1)"));
  }
  return infer_set_output(cx, 0, a->dtype, &s);
}

/* ---- Softmax, normalisations ---- */

mlc_status_t *infer_softmax(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_float, "a float type"));
  int64_t dflt = cx->g->opset > 0 && cx->g->opset < 13 ? 1 : -1;
  int axis = 0;
  if (x->rank > 0)
    MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", dflt),
                             x->rank, "axis", &axis));
  infer_shape_t s;
  infer_shape_of(x, &s);
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_batchnorm(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 2, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_float, "a float type"));
  const mlc_value_t *x = cx->n->inputs[0];
  static const char *const names[] = {"", "scale", "B", "input_mean",
                                      "input_var"};
  for (int i = 1; i < 5; i++) {
    MLC_RETURN_IF(infer_need_rank(cx, i, 1, 1));
    MLC_RETURN_IF(infer_need_dtype(cx, i, infer_is_float, "a float type"));
    const mlc_value_t *p = cx->n->inputs[i];
    if (infer_dim_known(p->dims[0]) && infer_dim_known(x->dims[1]) &&
        p->dims[0].value != x->dims[1].value)
      return infer_err(cx, "input %d '%s' (%s) has %lld elements for %lld "
                       "channels", i, p->name, names[i],
                       (long long)p->dims[0].value,
                       (long long)x->dims[1].value);
  }
  infer_shape_t s;
  infer_shape_of(x, &s);
  return infer_set_output(cx, 0, x->dtype, &s);
}

static mlc_status_t *need_bcast_to(const infer_cx_t *cx, int i,
                                   const infer_shape_t *to) {
  mlc_value_t *v = infer_in(cx, i);
  if (!v) return NULL;
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, i));
  infer_shape_t s, r;
  infer_shape_of(v, &s);
  MLC_RETURN_IF(infer_broadcast(cx, to, &s, &r));
  if (r.rank != to->rank)
    return infer_err(cx, "input %d '%s' has more dims than the normalised "
                     "axes", i, v->name);
  for (int k = 0; k < r.rank; k++)
    MLC_RETURN_IF(need_dim_match(cx, r.d[k], to->d[k], "input does not "
                                 "broadcast to the normalised shape"));
  return NULL;
}

mlc_status_t *infer_layernorm(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_float, "a float type"));
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", -1), x->rank,
                           "axis", &axis));
  infer_shape_t s, tail = {.rank = x->rank - axis};
  infer_shape_of(x, &s);
  for (int k = axis; k < x->rank; k++) tail.d[k - axis] = s.d[k];
  MLC_RETURN_IF(need_bcast_to(cx, 1, &tail));
  MLC_RETURN_IF(need_bcast_to(cx, 2, &tail));
  MLC_RETURN_IF(infer_set_output(cx, 0, x->dtype, &s));
  int64_t stash = mlc_node_attr_int(cx->n, "stash_type", MLC_DT_F32);
  if (!mlc_dtype_is_float((mlc_dtype_t)stash))
    return infer_err(cx, "stash_type %lld is not a float type",
                     (long long)stash);
  for (int k = axis; k < s.rank; k++) s.d[k] = infer_dim(1);
  MLC_RETURN_IF(infer_set_output(cx, 1, (mlc_dtype_t)stash, &s));
  return infer_set_output(cx, 2, (mlc_dtype_t)stash, &s);
}

/* ---- reductions ---- */

/* Fills reduce[] (one flag per axis) from the axes input or attribute. */
static mlc_status_t *reduce_axes(const infer_cx_t *cx, int rank, bool *reduce,
                                 bool *out_noop) {
  int64_t *axes = NULL, n = 0;
  if (infer_in(cx, 1)) {
    MLC_RETURN_IF(infer_const_ints(cx, 1, "axes", &axes, &n));
  } else {
    const int64_t *av;
    int64_t an = mlc_node_attr_ints(cx->n, "axes", &av);
    if (an > 0) axes = (int64_t *)av, n = an;
  }
  *out_noop = false;
  if (n == 0) {
    bool noop = mlc_node_attr_int(cx->n, "noop_with_empty_axes", 0) != 0;
    for (int k = 0; k < rank; k++) reduce[k] = !noop;
    *out_noop = noop;
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) {
    int a = 0;
    MLC_RETURN_IF(infer_axis(cx, axes[i], rank, "reduction axis", &a));
    if (reduce[a]) return infer_err(cx, "axis %d is reduced twice", a);
    reduce[a] = true;
  }
  return NULL;
}

mlc_status_t *infer_reduce(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  bool minmax = cx->n->op == MLC_OP_ReduceMax || cx->n->op == MLC_OP_ReduceMin;
  MLC_RETURN_IF(infer_need_dtype(cx, 0, minmax ? is_value : infer_is_numeric,
                                 minmax ? "a number type or bool"
                                        : "a number type"));
  bool reduce[MLC_INFER_MAX_RANK] = {false}, noop;
  MLC_RETURN_IF(reduce_axes(cx, x->rank, reduce, &noop));
  bool keep = mlc_node_attr_int(cx->n, "keepdims", 1) != 0;
  infer_shape_t s = {.rank = 0};
  for (int k = 0; k < x->rank; k++) {
    if (!reduce[k]) s.d[s.rank++] = x->dims[k];
    else if (keep) s.d[s.rank++] = infer_dim(1);
  }
  return infer_set_output(cx, 0, x->dtype, &s);
}
