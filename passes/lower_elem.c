/* Elementwise ops: the formula of each op as a function from operand
 * expressions to a result expression (lw_elem_expr), the single-node
 * elementwise kernel, and fused elementwise groups.
 *
 * Operands arrive in their value dtypes; f16/bf16 math is done in f32 and
 * cast back (the interpreter rounds to nearest even on that cast).
 * Broadcasting is numpy's: each operand is indexed by the output index,
 * right-aligned, size-1 dims contributing nothing (lw_bcast_index).
 * The kernel is a nest over the output shape (outer dims in the grid),
 * innermost loop vectorized.
 */
#include <math.h>
#include <string.h>

#include "passes/lower_internal.h"

typedef struct ex {
  mlc_tkernel_t *k;
  mlc_dtype_t dt; /* compute dtype */
} ex_t;

static mlc_texpr_t *K(ex_t *e, double v) { return mlc_tx_const(e->k, e->dt, v); }
static mlc_texpr_t *B(ex_t *e, mlc_tbinop_t op, mlc_texpr_t *a,
                      mlc_texpr_t *b) {
  return mlc_tx_binary(e->k, op, a, b);
}
static mlc_texpr_t *U(ex_t *e, mlc_tunop_t op, mlc_texpr_t *a) {
  return mlc_tx_unary(e->k, op, a);
}
static mlc_texpr_t *clamp01(ex_t *e, mlc_texpr_t *x) {
  return B(e, MLC_TB_MAX, K(e, 0), B(e, MLC_TB_MIN, K(e, 1), x));
}

static mlc_texpr_t *gelu(ex_t *e, const mlc_node_t *n, mlc_texpr_t *x) {
  const char *ap = mlc_node_attr_string(n, "approximate", "none");
  mlc_texpr_t *inner;
  if (strcmp(ap, "tanh") == 0) {
    mlc_texpr_t *x3 = B(e, MLC_TB_MUL, x, B(e, MLC_TB_MUL, x, x));
    mlc_texpr_t *t = B(e, MLC_TB_ADD, x, B(e, MLC_TB_MUL, K(e, 0.044715), x3));
    inner = U(e, MLC_TU_TANH, B(e, MLC_TB_MUL, K(e, sqrt(2.0 / M_PI)), t));
  } else {
    inner = U(e, MLC_TU_ERF, B(e, MLC_TB_MUL, x, K(e, M_SQRT1_2)));
  }
  return B(e, MLC_TB_MUL, B(e, MLC_TB_MUL, K(e, 0.5), x),
           B(e, MLC_TB_ADD, K(e, 1), inner));
}

/* The exponential-family activations and the shrink/threshold ones. */
static mlc_texpr_t *activation_expr(ex_t *e, const mlc_node_t *n,
                                    mlc_texpr_t *x) {
  mlc_texpr_t *neg = B(e, MLC_TB_LT, x, K(e, 0));
  switch (n->op) {
  case MLC_OP_Elu: {
    double a = mlc_node_attr_float(n, "alpha", 1.0f);
    mlc_texpr_t *em1 = B(e, MLC_TB_SUB, U(e, MLC_TU_EXP, x), K(e, 1));
    return mlc_tx_select(e->k, neg, B(e, MLC_TB_MUL, K(e, a), em1), x);
  }
  case MLC_OP_Selu: {
    double a = mlc_node_attr_float(n, "alpha", 1.67326319217681884765625f);
    double g = mlc_node_attr_float(n, "gamma", 1.05070102214813232421875f);
    mlc_texpr_t *lo = B(e, MLC_TB_SUB, B(e, MLC_TB_MUL, K(e, a),
                                         U(e, MLC_TU_EXP, x)), K(e, a));
    mlc_texpr_t *le = B(e, MLC_TB_LE, x, K(e, 0));
    return B(e, MLC_TB_MUL, K(e, g), mlc_tx_select(e->k, le, lo, x));
  }
  case MLC_OP_Celu: {
    double a = mlc_node_attr_float(n, "alpha", 1.0f);
    mlc_texpr_t *em1 = B(e, MLC_TB_SUB, U(e, MLC_TU_EXP, B(e, MLC_TB_DIV, x,
                                                           K(e, a))), K(e, 1));
    return B(e, MLC_TB_ADD, B(e, MLC_TB_MAX, x, K(e, 0)),
             B(e, MLC_TB_MIN, K(e, 0), B(e, MLC_TB_MUL, K(e, a), em1)));
  }
  case MLC_OP_Softplus:
    return U(e, MLC_TU_LOG, B(e, MLC_TB_ADD, U(e, MLC_TU_EXP, x), K(e, 1)));
  case MLC_OP_Mish: {
    mlc_texpr_t *sp =
        U(e, MLC_TU_LOG, B(e, MLC_TB_ADD, U(e, MLC_TU_EXP, x), K(e, 1)));
    return B(e, MLC_TB_MUL, x, U(e, MLC_TU_TANH, sp));
  }
  case MLC_OP_Swish: {
    double a = mlc_node_attr_float(n, "alpha", 1.0f);
    mlc_texpr_t *e1 = U(e, MLC_TU_EXP, U(e, MLC_TU_NEG, B(e, MLC_TB_MUL, x, K(e, a))));
    return B(e, MLC_TB_DIV, x, B(e, MLC_TB_ADD, K(e, 1), e1));
  }
  case MLC_OP_Softsign:
    return B(e, MLC_TB_DIV, x, B(e, MLC_TB_ADD, K(e, 1), U(e, MLC_TU_ABS, x)));
  case MLC_OP_ThresholdedRelu: {
    double a = mlc_node_attr_float(n, "alpha", 1.0f);
    return mlc_tx_select(e->k, B(e, MLC_TB_GT, x, K(e, a)), x, K(e, 0));
  }
  case MLC_OP_Shrink: {
    double bias = mlc_node_attr_float(n, "bias", 0.0f);
    double l = mlc_node_attr_float(n, "lambd", 0.5f);
    mlc_texpr_t *hi = mlc_tx_select(e->k, B(e, MLC_TB_GT, x, K(e, l)),
                                    B(e, MLC_TB_SUB, x, K(e, bias)), K(e, 0));
    return mlc_tx_select(e->k, B(e, MLC_TB_LT, x, K(e, -l)),
                         B(e, MLC_TB_ADD, x, K(e, bias)), hi);
  }
  default: return NULL;
  }
}

static mlc_texpr_t *unary_expr(ex_t *e, const mlc_node_t *n, mlc_texpr_t *x) {
  bool fl = mlc_dtype_is_float(e->dt);
  switch (n->op) {
  case MLC_OP_Neg: return U(e, MLC_TU_NEG, x);
  case MLC_OP_Abs: return U(e, MLC_TU_ABS, x);
  case MLC_OP_Sqrt: return U(e, MLC_TU_SQRT, x);
  case MLC_OP_Exp: return U(e, MLC_TU_EXP, x);
  case MLC_OP_Log: return U(e, MLC_TU_LOG, x);
  case MLC_OP_Tanh: return U(e, MLC_TU_TANH, x);
  case MLC_OP_Erf: return U(e, MLC_TU_ERF, x);
  case MLC_OP_Sin: return U(e, MLC_TU_SIN, x);
  case MLC_OP_Cos: return U(e, MLC_TU_COS, x);
  case MLC_OP_Not: return U(e, MLC_TU_NOT, x);
  case MLC_OP_Floor: return fl ? U(e, MLC_TU_FLOOR, x) : x;
  case MLC_OP_Ceil: return fl ? U(e, MLC_TU_CEIL, x) : x;
  case MLC_OP_Round: return fl ? U(e, MLC_TU_ROUND, x) : x;
  case MLC_OP_Reciprocal: return B(e, MLC_TB_DIV, K(e, 1), x);
  case MLC_OP_Relu: return B(e, MLC_TB_MAX, x, K(e, 0));
  case MLC_OP_LeakyRelu: {
    double a = mlc_node_attr_float(n, "alpha", 0.01f);
    return mlc_tx_select(e->k, B(e, MLC_TB_LT, x, K(e, 0)),
                         B(e, MLC_TB_MUL, x, K(e, a)), x);
  }
  case MLC_OP_Sigmoid:
    return B(e, MLC_TB_DIV, K(e, 1),
             B(e, MLC_TB_ADD, K(e, 1), U(e, MLC_TU_EXP, U(e, MLC_TU_NEG, x))));
  case MLC_OP_HardSigmoid: {
    double a = mlc_node_attr_float(n, "alpha", 0.2f);
    double b = mlc_node_attr_float(n, "beta", 0.5f);
    return clamp01(e, B(e, MLC_TB_ADD, B(e, MLC_TB_MUL, x, K(e, a)), K(e, b)));
  }
  case MLC_OP_HardSwish:
    return B(e, MLC_TB_MUL, x,
             clamp01(e, B(e, MLC_TB_ADD, B(e, MLC_TB_MUL, x, K(e, 1.0 / 6)),
                          K(e, 0.5))));
  case MLC_OP_Gelu: return gelu(e, n, x);
  case MLC_OP_Sign: {
    mlc_texpr_t *neg = mlc_tx_select(e->k, B(e, MLC_TB_LT, x, K(e, 0)),
                                     K(e, -1), fl ? x : K(e, 0));
    return mlc_tx_select(e->k, B(e, MLC_TB_GT, x, K(e, 0)), K(e, 1), neg);
  }
  default: return activation_expr(e, n, x);
  }
}

/* Python-style modulo (sign of the divisor) for fmod=0. */
static mlc_texpr_t *py_mod(ex_t *e, mlc_texpr_t *a, mlc_texpr_t *b) {
  mlc_texpr_t *r = B(e, MLC_TB_MOD, a, b);
  if (!mlc_dtype_is_signed(e->dt)) return r;
  mlc_texpr_t *fix = mlc_tx_binary(
      e->k, MLC_TB_AND, B(e, MLC_TB_NE, r, K(e, 0)),
      B(e, MLC_TB_NE, B(e, MLC_TB_LT, r, K(e, 0)), B(e, MLC_TB_LT, b, K(e, 0))));
  return mlc_tx_select(e->k, fix, B(e, MLC_TB_ADD, r, b), r);
}

static mlc_texpr_t *variadic(ex_t *e, const mlc_node_t *n,
                             mlc_texpr_t *const *a, int na) {
  mlc_tbinop_t op = n->op == MLC_OP_Min   ? MLC_TB_MIN
                    : n->op == MLC_OP_Max ? MLC_TB_MAX
                                          : MLC_TB_ADD;
  mlc_texpr_t *r = a[0];
  for (int i = 1; i < na; i++) r = B(e, op, r, a[i]);
  if (n->op == MLC_OP_Mean) r = B(e, MLC_TB_DIV, r, K(e, na));
  return r;
}

static mlc_texpr_t *binary_expr(ex_t *e, const mlc_node_t *n,
                                mlc_texpr_t *const *a) {
  static const struct { mlc_op_t op; mlc_tbinop_t b; } map[] = {
      {MLC_OP_Add, MLC_TB_ADD}, {MLC_OP_Sub, MLC_TB_SUB},
      {MLC_OP_Mul, MLC_TB_MUL}, {MLC_OP_Div, MLC_TB_DIV},
      {MLC_OP_Equal, MLC_TB_EQ}, {MLC_OP_Less, MLC_TB_LT},
      {MLC_OP_LessOrEqual, MLC_TB_LE}, {MLC_OP_Greater, MLC_TB_GT},
      {MLC_OP_GreaterOrEqual, MLC_TB_GE}, {MLC_OP_And, MLC_TB_AND},
      {MLC_OP_Or, MLC_TB_OR}, {MLC_OP_Xor, MLC_TB_XOR}};
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (map[i].op == n->op) return B(e, map[i].b, a[0], a[1]);
  if (n->op == MLC_OP_Mod)
    return mlc_node_attr_int(n, "fmod", 0) ? B(e, MLC_TB_MOD, a[0], a[1])
                                           : py_mod(e, a[0], a[1]);
  return NULL;
}

/* Pow: the exponent may have another dtype than the base. */
static mlc_texpr_t *pow_expr(lw_ctx_t *c, mlc_texpr_t *x, mlc_texpr_t *y,
                             mlc_dtype_t out) {
  mlc_tkernel_t *k = c->k;
  if (!x || !y) return NULL;
  if (!mlc_dtype_is_float(x->dtype) && mlc_dtype_is_float(y->dtype)) {
    mlc_texpr_t *r = mlc_tx_binary(k, MLC_TB_POW, mlc_tx_cast(k, MLC_DT_F64, x),
                                   mlc_tx_cast(k, MLC_DT_F64, y));
    return mlc_tx_cast(k, out, r);
  }
  mlc_dtype_t ct = lw_compute_dt(x->dtype);
  mlc_texpr_t *r = mlc_tx_binary(k, MLC_TB_POW, mlc_tx_cast(k, ct, x),
                                 mlc_tx_cast(k, ct, y));
  return mlc_tx_cast(k, out, r);
}

static mlc_texpr_t *clip_expr(ex_t *e, mlc_texpr_t *const *a, int na) {
  mlc_texpr_t *r = a[0];
  if (na > 1 && a[1]) r = B(e, MLC_TB_MAX, r, a[1]);
  if (na > 2 && a[2]) r = B(e, MLC_TB_MIN, r, a[2]);
  return r;
}

/* IsInf: x == +inf (detect_positive) or x == -inf (detect_negative). */
static mlc_texpr_t *isinf_expr(lw_ctx_t *c, const mlc_node_t *n,
                               mlc_texpr_t *x) {
  mlc_dtype_t dt = lw_compute_dt(x->dtype);
  x = mlc_tx_cast(c->k, dt, x);
  bool pos = mlc_node_attr_int(n, "detect_positive", 1) != 0;
  bool neg = mlc_node_attr_int(n, "detect_negative", 1) != 0;
  mlc_texpr_t *p = mlc_tx_binary(c->k, MLC_TB_EQ, x, mlc_tx_const(c->k, dt, INFINITY));
  mlc_texpr_t *m = mlc_tx_binary(c->k, MLC_TB_EQ, x, mlc_tx_const(c->k, dt, -INFINITY));
  if (pos && neg) return mlc_tx_binary(c->k, MLC_TB_OR, p, m);
  if (pos || neg) return pos ? p : m;
  return mlc_tx_binary(c->k, MLC_TB_AND, p, m); /* never both: false */
}

mlc_texpr_t *lw_elem_expr(lw_ctx_t *c, const mlc_node_t *n,
                          mlc_texpr_t *const *a, int na) {
  mlc_dtype_t out = n->outputs[0]->dtype;
  if (!a[0]) return NULL;
  if (n->op == MLC_OP_Cast) return mlc_tx_cast(c->k, out, a[0]);
  if (n->op == MLC_OP_IsNaN) return mlc_tx_unary(c->k, MLC_TU_ISNAN, a[0]);
  if (n->op == MLC_OP_IsInf) return isinf_expr(c, n, a[0]);
  if (n->op == MLC_OP_Pow) return pow_expr(c, a[0], a[1], out);
  if (n->op == MLC_OP_Where) return mlc_tx_select(c->k, a[0], a[1], a[2]);
  /* Everything else computes in one dtype: the first operand's, widened. */
  ex_t e = {c->k, lw_compute_dt(a[0]->dtype)};
  mlc_texpr_t *ops[LW_MAX_OPERANDS] = {0};
  if (na > (int)(sizeof ops / sizeof *ops)) return NULL;
  for (int i = 0; i < na; i++) {
    ops[i] = a[i] ? mlc_tx_cast(c->k, e.dt, a[i]) : NULL;
    if (a[i] && !ops[i]) return NULL;
  }
  mlc_texpr_t *r;
  switch (n->op) {
  case MLC_OP_Min: case MLC_OP_Max: case MLC_OP_Sum: case MLC_OP_Mean:
    r = variadic(&e, n, ops, na);
    break;
  case MLC_OP_Clip: r = clip_expr(&e, ops, na); break;
  default:
    r = na >= 2 ? binary_expr(&e, n, ops) : unary_expr(&e, n, ops[0]);
    break;
  }
  return mlc_tx_cast(c->k, out, r);
}

/* ---- groups ---- */

static int group_index_of(const lw_group_t *grp, const mlc_value_t *v) {
  for (int i = 0; i < grp->nnodes; i++)
    for (int j = 0; j < grp->nodes[i]->noutputs; j++)
      if (grp->nodes[i]->outputs[j] == v) return i;
  return -1;
}

static mlc_texpr_t *node_expr(lw_ctx_t *c, const mlc_node_t *n,
                              mlc_texpr_t *const *idx, int rank,
                              mlc_texpr_t *anchor_value) {
  mlc_texpr_t *a[LW_MAX_OPERANDS];
  int na = n->ninputs;
  if (na > (int)(sizeof a / sizeof *a)) return NULL;
  for (int i = 0; i < na; i++) {
    a[i] = NULL;
    if (!n->inputs[i]) continue;
    a[i] = lw_group_expr(c, n->inputs[i], idx, rank, anchor_value);
    if (!a[i]) return NULL;
  }
  return lw_elem_expr(c, n, a, na);
}

mlc_texpr_t *lw_group_expr(lw_ctx_t *c, mlc_value_t *v,
                           mlc_texpr_t *const *idx, int rank,
                           mlc_texpr_t *anchor_value) {
  lw_group_t *grp = c->group;
  if (grp) {
    int gi = group_index_of(grp, v);
    if (gi >= 0 && grp->nodes[gi] == grp->anchor) return anchor_value;
    if (gi >= 0) {
      if (!grp->memo[gi])
        grp->memo[gi] = node_expr(c, grp->nodes[gi], idx, rank, anchor_value);
      return grp->memo[gi];
    }
  }
  return lw_load_bcast(c, v, idx, rank);
}

/* A nest over `out`'s shape storing expression of `out` at each point. */
static mlc_status_t *elem_kernel(lw_ctx_t *c, const mlc_node_t *n,
                                 mlc_value_t *out) {
  int64_t dims[LW_MAXR];
  lw_value_dims(out, dims);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, out->rank, dims, out->rank, true))
    return lw_oom(c);
  mlc_texpr_t *v;
  if (c->group) {
    memset(c->group->memo, 0, sizeof *c->group->memo * c->group->nnodes);
    v = lw_group_expr(c, out, nest.idx, out->rank, NULL);
  } else {
    v = node_expr(c, n, nest.idx, out->rank, NULL);
  }
  int b = lw_buf(c, out, true);
  if (!v || b < 0) return lw_oom(c);
  mlc_tstmt_t *st =
      mlc_ts_store(c->k, b, lw_flat(c, nest.idx, dims, out->rank),
                   mlc_tx_cast(c->k, out->dtype, v));
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, st, true))) return lw_oom(c);
  int64_t cnt = mlc_value_numel(out);
  c->k->flops += cnt * (c->group ? c->group->nnodes : 1);
  return NULL;
}

mlc_status_t *lw_build_elem(lw_ctx_t *c, const mlc_node_t *n) {
  return elem_kernel(c, n, n->outputs[0]);
}

mlc_status_t *lw_build_group_elem(lw_ctx_t *c) {
  return elem_kernel(c, c->group->nodes[c->group->nnodes - 1], c->group->out);
}
