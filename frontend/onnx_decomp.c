/* Frontend decompositions: ONNX ops imported as a few core nodes.
 *
 * The node being converted stays the last step of the decomposition (it
 * keeps its name and its first output); the steps before it are added to
 * the graph here, while the importer is still converting that node, so
 * they precede it in node order.  Helper values get names derived from
 * the node's first output ("<out>__<what>") and unknown dtype and shape:
 * shape inference fills them in like any other value.  Only core ops
 * whose semantics live elsewhere are used, so each decomposed op has one
 * definition (e.g. training-mode BatchNormalization reuses the inference
 * BatchNormalization for Y).
 */
#include <stdio.h>
#include <string.h>

#include "frontend/onnx_decomp.h"

static mlc_status_t *dc_oom(mlc_onnx_node_t *n) {
  return MLC_ERR(OUT_OF_MEMORY, "%s", n->desc);
}

static const char *dc_name(mlc_onnx_node_t *n, const char *what) {
  const char *base = n->nout > 0 && n->out[0] ? n->out[0]->name : n->np->name;
  return mlc_arena_printf(&n->g->arena, "%s__%s", base ? base : "", what);
}

/* Adds op(ins) -> out (a fresh value when out is NULL); returns the node. */
static mlc_node_t *dc_add(mlc_onnx_node_t *n, mlc_op_t op, const char *what,
                          int nin, mlc_value_t *const *ins, mlc_value_t *out) {
  const char *vname = dc_name(n, what);
  if (!vname) return NULL;
  if (!out) out = mlc_graph_add_value(n->g, vname, MLC_DT_UNDEFINED, -1, NULL);
  if (!out) return NULL;
  const char *nname = mlc_arena_printf(&n->g->arena, "%s/%s",
                                       n->np->name ? n->np->name : "", what);
  if (!nname) return NULL;
  for (int i = 0; i < nin; i++)
    if (!ins[i]) return NULL;
  mlc_node_t *node = mlc_graph_add_node(n->g, op, nname, nin, ins, 1, &out);
  if (!node) return NULL;
  /* A copy: np belongs to the ModelProto, freed when the import ends. */
  node->onnx_op = mlc_arena_strdup(&n->g->arena, n->np->op_type);
  return node->onnx_op ? node : NULL;
}

static mlc_value_t *dc_val(mlc_node_t *node) {
  return node ? node->outputs[0] : NULL;
}

/* ---- Sum, Mean, Max, Min with many inputs ---- */

mlc_status_t *mlc_onnx_decomp_variadic(mlc_onnx_node_t *n) {
  enum { K = MLC_ONNX_MAX_VARIADIC };
  if (n->nin <= K) return NULL;
  for (int i = 0; i < n->nin; i++)
    if (!n->in[i])
      return MLC_ERR(INVALID_MODEL, "%s: input %d is empty", n->desc, i);
  bool mean = n->op == MLC_OP_Mean;
  mlc_op_t op = mean ? MLC_OP_Sum : n->op;
  int total = n->nin, used = K, step = 0;
  char what[32];
  snprintf(what, sizeof what, "part%d", step++);
  mlc_value_t *acc = dc_val(dc_add(n, op, mlc_arena_strdup(&n->g->arena, what),
                                   K, n->in, NULL));
  mlc_value_t *ins[K];
  /* Left to right, so the operations happen in the original order. */
  while (acc && total - used > (mean ? 0 : K - 1)) {
    int take = total - used < K - 1 ? total - used : K - 1;
    ins[0] = acc;
    memcpy(ins + 1, n->in + used, sizeof *ins * (size_t)take);
    snprintf(what, sizeof what, "part%d", step++);
    acc = dc_val(dc_add(n, op, mlc_arena_strdup(&n->g->arena, what),
                        take + 1, ins, NULL));
    used += take;
  }
  if (!acc) return dc_oom(n);
  n->in[0] = acc;
  if (!mean) {
    memmove(n->in + 1, n->in + used, sizeof *n->in * (size_t)(total - used));
    n->nin = 1 + total - used;
    return NULL;
  }
  /* Mean: the node becomes Div(sum, count in the sum's dtype). */
  mlc_value_t *cnt = mlc_onnx_scalar_const(
      n, mlc_arena_strdup(&n->g->arena, "count"), MLC_DT_F64, total);
  mlc_value_t *cl[2] = {cnt, acc};
  mlc_value_t *k = cnt ? dc_val(dc_add(n, MLC_OP_CastLike, "count_like", 2, cl,
                                       NULL)) : NULL;
  if (!k) return dc_oom(n);
  n->op = MLC_OP_Div;
  n->in[1] = k;
  n->nin = 2;
  return NULL;
}

/* ---- BatchNormalization, training mode ---- */

static mlc_value_t *bn_reduce_mean(mlc_onnx_node_t *n, const char *what,
                                   mlc_value_t *x, mlc_value_t *axes) {
  mlc_value_t *ins[2] = {x, axes};
  mlc_node_t *r = dc_add(n, MLC_OP_ReduceMean, what, 2, ins, NULL);
  if (!r || !mlc_node_set_int(n->g, r, "keepdims", 0)) return NULL;
  return dc_val(r);
}

/* out = running * momentum + current * (1 - momentum) */
static bool bn_update(mlc_onnx_node_t *n, const char *what, double mom,
                      mlc_value_t *running, mlc_value_t *current,
                      mlc_value_t *out) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s_momentum", what);
  mlc_value_t *km = mlc_onnx_scalar_const(n, mlc_arena_strdup(&n->g->arena, buf),
                                          running->dtype, mom);
  snprintf(buf, sizeof buf, "%s_1m_momentum", what);
  mlc_value_t *k1 = mlc_onnx_scalar_const(
      n, mlc_arena_strdup(&n->g->arena, buf), n->in[0]->dtype, 1.0 - mom);
  snprintf(buf, sizeof buf, "%s_old", what);
  mlc_value_t *a[2] = {running, km};
  mlc_value_t *p = dc_val(dc_add(n, MLC_OP_Mul, mlc_arena_strdup(&n->g->arena, buf), 2, a, NULL));
  snprintf(buf, sizeof buf, "%s_new", what);
  mlc_value_t *b[2] = {current, k1};
  mlc_value_t *q = dc_val(dc_add(n, MLC_OP_Mul, mlc_arena_strdup(&n->g->arena, buf), 2, b, NULL));
  mlc_value_t *s[2] = {p, q};
  snprintf(buf, sizeof buf, "%s_update", what);
  return p && q && dc_add(n, MLC_OP_Add, mlc_arena_strdup(&n->g->arena, buf), 2, s, out);
}

mlc_status_t *mlc_onnx_decomp_bn_training(mlc_onnx_node_t *n,
                                          const char **why) {
  mlc_value_t *x = n->in[0];
  if (n->nin < 5 || !n->in[3] || !n->in[4])
    return MLC_ERR(INVALID_MODEL, "%s: needs 5 inputs", n->desc);
  if (x->rank < 2) {
    *why = "training_mode=1 with an input of unknown rank";
    return NULL;
  }
  const mlc_attr_t *ma = mlc_onnx_attr_find(n, "momentum");
  double mom = ma && ma->kind == MLC_ATTR_FLOAT ? ma->f : 0.9;
  int64_t axes[MLC_ONNX_MAX_RANK];
  int na = 0;
  for (int d = 0; d < x->rank && d < MLC_ONNX_MAX_RANK; d++)
    if (d != 1) axes[na++] = d;
  const char *an = dc_name(n, "bn_axes");
  mlc_value_t *ax = an ? mlc_graph_add_const_i64s(n->g, an, axes, na) : NULL;
  mlc_value_t *mean = bn_reduce_mean(n, "bn_mean", x, ax);
  mlc_value_t *u[2] = {mean, ax};
  mlc_value_t *mk = dc_val(dc_add(n, MLC_OP_Unsqueeze, "bn_mean_b", 2, u, NULL));
  mlc_value_t *s[2] = {x, mk};
  mlc_value_t *d = dc_val(dc_add(n, MLC_OP_Sub, "bn_centered", 2, s, NULL));
  mlc_value_t *sq[2] = {d, d};
  mlc_value_t *d2 = dc_val(dc_add(n, MLC_OP_Mul, "bn_sq", 2, sq, NULL));
  mlc_value_t *var = d2 ? bn_reduce_mean(n, "bn_var", d2, ax) : NULL;
  if (!var) return dc_oom(n);
  if (n->nout > 1 && n->out[1] &&
      !bn_update(n, "bn_rmean", mom, n->in[3], mean, n->out[1]))
    return dc_oom(n);
  if (n->nout > 2 && n->out[2] &&
      !bn_update(n, "bn_rvar", mom, n->in[4], var, n->out[2]))
    return dc_oom(n);
  n->in[3] = mean;
  n->in[4] = var;
  n->nout = 1;
  return NULL;
}

/* ---- Reduce* on ReduceSum ---- */

mlc_status_t *mlc_onnx_decomp_reduce(mlc_onnx_node_t *n, mlc_op_t pre,
                                     mlc_op_t post) {
  if (pre != MLC_OP_COUNT_) {
    mlc_value_t *ins[2] = {n->in[0], n->in[0]};
    mlc_value_t *p = dc_val(dc_add(n, pre, "reduce_pre", pre == MLC_OP_Mul ? 2 : 1,
                                   ins, NULL));
    if (!p) return dc_oom(n);
    n->in[0] = p;
  }
  if (post == MLC_OP_COUNT_) return NULL;
  int nin = n->nin;
  while (nin > 1 && !n->in[nin - 1]) nin--;
  mlc_node_t *r = dc_add(n, MLC_OP_ReduceSum, "reduce_sum", nin, n->in, NULL);
  if (!r) return dc_oom(n);
  for (int i = 0; i < n->nattrs; i++)
    if (!mlc_node_set_attr(n->g, r, &n->attrs[i])) return dc_oom(n);
  n->op = post;
  n->in[0] = r->outputs[0];
  n->nin = 1;
  n->nattrs = 0;
  return NULL;
}

/* ---- RMSNormalization, LpNormalization ---- */

/* The normalised axes [axis, rank) as constants: negative axes when the
 * axis is negative (no rank needed), else the rank must be known. */
static mlc_value_t *tail_axes(mlc_onnx_node_t *n, int64_t axis,
                              const char **why) {
  int rank = n->in[0]->rank;
  int64_t ax[MLC_ONNX_MAX_RANK];
  int na = 0;
  if (axis < 0) {
    if (axis < -MLC_ONNX_MAX_RANK || (rank >= 0 && axis < -rank)) {
      *why = "axis out of range";
      return NULL;
    }
    for (int64_t a = axis; a < 0; a++) ax[na++] = a;
  } else {
    if (rank < 0) {
      *why = "non-negative axis with an input of unknown rank";
      return NULL;
    }
    for (int64_t a = axis; a < rank; a++) ax[na++] = a;
    if (na == 0) {
      *why = "axis out of range";
      return NULL;
    }
  }
  const char *an = dc_name(n, "norm_axes");
  return an ? mlc_graph_add_const_i64s(n->g, an, ax, na) : NULL;
}

mlc_status_t *mlc_onnx_decomp_rmsnorm(mlc_onnx_node_t *n, const char **why) {
  if (n->nin != 2 || !n->in[1])
    return MLC_ERR(INVALID_MODEL, "%s: needs inputs X and scale", n->desc);
  const mlc_attr_t *a = mlc_onnx_attr_find(n, "axis");
  const mlc_attr_t *e = mlc_onnx_attr_find(n, "epsilon");
  const mlc_attr_t *st = mlc_onnx_attr_find(n, "stash_type");
  int64_t stash = st && st->kind == MLC_ATTR_INT ? st->i : MLC_DT_F32;
  if (stash != MLC_DT_F32 && stash != MLC_DT_F64) {
    *why = "stash_type other than float or double";
    return NULL;
  }
  mlc_value_t *ax = tail_axes(n, a && a->kind == MLC_ATTR_INT ? a->i : -1, why);
  if (*why) return NULL;
  mlc_value_t *x = n->in[0], *scale = n->in[1];
  mlc_node_t *c = dc_add(n, MLC_OP_Cast, "rms_x", 1, &x, NULL);
  if (!ax || !c || !mlc_node_set_int(n->g, c, "to", stash)) return dc_oom(n);
  mlc_value_t *xs = dc_val(c);
  mlc_value_t *sq[2] = {xs, xs};
  mlc_value_t *x2 = dc_val(dc_add(n, MLC_OP_Mul, "rms_sq", 2, sq, NULL));
  mlc_value_t *rm[2] = {x2, ax};
  mlc_node_t *mean = x2 ? dc_add(n, MLC_OP_ReduceMean, "rms_mean", 2, rm, NULL) : NULL;
  if (!mean || !mlc_node_set_int(n->g, mean, "keepdims", 1)) return dc_oom(n);
  double eps = e && e->kind == MLC_ATTR_FLOAT ? e->f : 1e-5;
  mlc_value_t *ad[2] = {dc_val(mean),
                        mlc_onnx_scalar_const(n, "rms_eps", (mlc_dtype_t)stash, eps)};
  mlc_value_t *me = dc_val(dc_add(n, MLC_OP_Add, "rms_mean_eps", 2, ad, NULL));
  mlc_value_t *rms = me ? dc_val(dc_add(n, MLC_OP_Sqrt, "rms", 1, &me, NULL)) : NULL;
  mlc_value_t *dv[2] = {xs, rms};
  mlc_value_t *nrm = rms ? dc_val(dc_add(n, MLC_OP_Div, "rms_norm", 2, dv, NULL)) : NULL;
  mlc_value_t *cl[2] = {nrm, x};
  mlc_value_t *back = nrm ? dc_val(dc_add(n, MLC_OP_CastLike, "rms_back", 2, cl, NULL)) : NULL;
  if (!back) return dc_oom(n);
  n->op = MLC_OP_Mul;
  n->in[0] = back;
  n->in[1] = scale;
  n->nin = 2;
  n->nattrs = 0;
  return NULL;
}

mlc_status_t *mlc_onnx_decomp_lpnorm(mlc_onnx_node_t *n, const char **why) {
  const mlc_attr_t *a = mlc_onnx_attr_find(n, "axis");
  const mlc_attr_t *p = mlc_onnx_attr_find(n, "p");
  int64_t pv = p && p->kind == MLC_ATTR_INT ? p->i : 2;
  if (pv != 1 && pv != 2) {
    *why = "p other than 1 or 2";
    return NULL;
  }
  int64_t axis = a && a->kind == MLC_ATTR_INT ? a->i : -1;
  const char *an = dc_name(n, "lp_axis");
  mlc_value_t *ax = an ? mlc_graph_add_const_i64s(n->g, an, &axis, 1) : NULL;
  mlc_value_t *x = n->in[0];
  mlc_value_t *pre[2] = {x, x};
  mlc_value_t *t = dc_val(dc_add(n, pv == 2 ? MLC_OP_Mul : MLC_OP_Abs, "lp_pre",
                                 pv == 2 ? 2 : 1, pre, NULL));
  mlc_value_t *rs[2] = {t, ax};
  mlc_node_t *sum = t && ax ? dc_add(n, MLC_OP_ReduceSum, "lp_sum", 2, rs, NULL) : NULL;
  if (!sum || !mlc_node_set_int(n->g, sum, "keepdims", 1)) return dc_oom(n);
  mlc_value_t *norm = dc_val(sum);
  if (pv == 2) norm = dc_val(dc_add(n, MLC_OP_Sqrt, "lp_norm", 1, &norm, NULL));
  /* a zero norm gives 0, not 0/0; the zero is norm - norm so it has X's
   * dtype without knowing it at import */
  mlc_value_t *nn[2] = {norm, norm};
  mlc_value_t *zero = norm ? dc_val(dc_add(n, MLC_OP_Sub, "lp_zero", 2, nn, NULL)) : NULL;
  mlc_value_t *eq[2] = {norm, zero};
  mlc_value_t *isz = zero ? dc_val(dc_add(n, MLC_OP_Equal, "lp_is_zero", 2, eq, NULL)) : NULL;
  mlc_value_t *dv[2] = {x, norm};
  mlc_value_t *q = isz ? dc_val(dc_add(n, MLC_OP_Div, "lp_div", 2, dv, NULL)) : NULL;
  if (!q) return dc_oom(n);
  n->op = MLC_OP_Where;
  n->in[0] = isz;
  n->in[1] = zero;
  n->in[2] = q;
  n->nin = 3;
  n->nattrs = 0;
  return NULL;
}

/* ---- GroupNormalization, InstanceNormalization ---- */

static mlc_value_t *i64s(mlc_onnx_node_t *n, const char *what,
                         const int64_t *v, int64_t cnt) {
  const char *nm = dc_name(n, what);
  return nm ? mlc_graph_add_const_i64s(n->g, nm, v, cnt) : NULL;
}

static mlc_value_t *add2(mlc_onnx_node_t *n, mlc_op_t op, const char *what,
                         mlc_value_t *a, mlc_value_t *b) {
  mlc_value_t *in[2] = {a, b};
  return a && b ? dc_val(dc_add(n, op, what, 2, in, NULL)) : NULL;
}

/* X viewed as [N, groups, -1] (groups 0: the channels), normalised over
 * the last axis, viewed as [N, C, -1] (from Shape(X)), scaled and shifted
 * per channel, and the node itself becomes the Reshape back to X's shape.
 * No rank is needed at import: every shape comes from Shape(X), which
 * shape inference folds. */
static mlc_status_t *group_norm(mlc_onnx_node_t *n, int64_t groups,
                                double eps) {
  mlc_value_t *x = n->in[0], *scale = n->in[1], *bias = n->in[2];
  mlc_value_t *shp = dc_val(dc_add(n, MLC_OP_Shape, "gn_shape", 1, &x, NULL));
  mlc_value_t *xr = add2(n, MLC_OP_Reshape, "gn_grouped", x,
                         i64s(n, "gn_gshape", (const int64_t[]){0, groups, -1}, 3));
  mlc_value_t *ax = i64s(n, "gn_axis", (const int64_t[]){2}, 1);
  mlc_value_t *mean = add2(n, MLC_OP_ReduceMean, "gn_mean", xr, ax);
  mlc_value_t *d = add2(n, MLC_OP_Sub, "gn_centered", xr, mean);
  mlc_value_t *var = add2(n, MLC_OP_ReduceMean, "gn_var",
                          add2(n, MLC_OP_Mul, "gn_sq", d, d), ax);
  /* epsilon in X's dtype, which may not be known yet */
  mlc_value_t *ke = add2(n, MLC_OP_CastLike, "gn_eps_like",
                         mlc_onnx_scalar_const(n, "gn_eps", MLC_DT_F32, eps), x);
  mlc_value_t *den = add2(n, MLC_OP_Add, "gn_var_eps", var, ke);
  den = den ? dc_val(dc_add(n, MLC_OP_Sqrt, "gn_std", 1, &den, NULL)) : NULL;
  mlc_value_t *nrm = add2(n, MLC_OP_Div, "gn_norm", d, den);
  mlc_value_t *sl[3] = {shp, i64s(n, "gn_s0", (const int64_t[]){0}, 1),
                        i64s(n, "gn_s2", (const int64_t[]){2}, 1)};
  mlc_value_t *cat[2] = {shp ? dc_val(dc_add(n, MLC_OP_Slice, "gn_nc", 3, sl, NULL)) : NULL,
                         i64s(n, "gn_m1", (const int64_t[]){-1}, 1)};
  mlc_node_t *cn = cat[0] ? dc_add(n, MLC_OP_Concat, "gn_cshape", 2, cat, NULL) : NULL;
  if (!cn || !mlc_node_set_int(n->g, cn, "axis", 0)) return dc_oom(n);
  mlc_value_t *nc = dc_val(cn);
  mlc_value_t *nr = add2(n, MLC_OP_Reshape, "gn_per_channel", nrm, nc);
  mlc_value_t *one = i64s(n, "gn_ax1", (const int64_t[]){1}, 1);
  mlc_value_t *sc = add2(n, MLC_OP_Unsqueeze, "gn_scale", scale, one);
  mlc_value_t *scaled = add2(n, MLC_OP_Mul, "gn_scaled", nr, sc);
  mlc_value_t *bi = add2(n, MLC_OP_Unsqueeze, "gn_bias", bias, one);
  mlc_value_t *y = add2(n, MLC_OP_Add, "gn_affine", scaled, bi);
  if (!y || !mean || !var) return dc_oom(n);
  n->op = MLC_OP_Reshape;
  n->in[0] = y;
  n->in[1] = shp;
  n->nin = 2;
  n->nattrs = 0;
  return NULL;
}

mlc_status_t *mlc_onnx_decomp_groupnorm(mlc_onnx_node_t *n, const char **why) {
  if (n->nin != 3 || !n->in[1] || !n->in[2])
    return MLC_ERR(INVALID_MODEL, "%s: needs inputs X, scale and bias", n->desc);
  const mlc_attr_t *g = mlc_onnx_attr_find(n, "num_groups");
  const mlc_attr_t *e = mlc_onnx_attr_find(n, "epsilon");
  const mlc_attr_t *st = mlc_onnx_attr_find(n, "stash_type");
  if (!g || g->kind != MLC_ATTR_INT || g->i < 1)
    return MLC_ERR(INVALID_MODEL, "%s: attribute 'num_groups' (an int >= 1) "
                   "is required", n->desc);
  if (st && st->kind == MLC_ATTR_INT && st->i != MLC_DT_F32) {
    *why = "stash_type other than float";
    return NULL;
  }
  if (n->in[0]->dtype != MLC_DT_F32 && n->in[0]->dtype != MLC_DT_UNDEFINED) {
    *why = "GroupNormalization of a non-f32 input (stash_type)";
    return NULL;
  }
  return group_norm(n, g->i, e && e->kind == MLC_ATTR_FLOAT ? e->f : 1e-5);
}

mlc_status_t *mlc_onnx_decomp_instancenorm(mlc_onnx_node_t *n,
                                           const char **why) {
  (void)why;
  if (n->nin != 3 || !n->in[1] || !n->in[2])
    return MLC_ERR(INVALID_MODEL, "%s: needs inputs input, scale and B", n->desc);
  const mlc_attr_t *e = mlc_onnx_attr_find(n, "epsilon");
  return group_norm(n, 0, e && e->kind == MLC_ATTR_FLOAT ? e->f : 1e-5);
}
