/* ArgMax/ArgMin, Hardmax, CumSum, CumProd, GatherElements, ScatterElements,
 * Trilu and TopK.
 *
 * ArgMax/ArgMin and Hardmax: an outer nest over the data's shape with the
 * axis at extent 1, a serial loop over the axis keeping the best value and
 * its index in MLC_TV_LOCAL scalars (strict comparison keeps the first
 * index, >=/<= the last with select_last_index), then the store (Hardmax:
 * a second loop writing 1 at the index and 0 elsewhere).  CumSum/CumProd:
 * a nest over the output; each point sums (multiplies) the axis entries
 * before (or after, with reverse) it, including itself unless exclusive:
 * O(n * axis length),
 * meant for the moderate sizes exporters produce.  GatherElements and
 * Trilu: one nest over the output computing the source index / the mask.
 * Loads stay in range by construction (GatherElements wraps negative
 * indices and clamps).
 */
#include <math.h>
#include <string.h>

#include "passes/lower_internal.h"

static mlc_texpr_t *bin(lw_ctx_t *c, mlc_tbinop_t op, mlc_texpr_t *a,
                        mlc_texpr_t *b) {
  return mlc_tx_binary(c->k, op, a, b);
}
static mlc_texpr_t *i64(lw_ctx_t *c, int64_t v) { return mlc_tx_i64(c->k, v); }
static mlc_texpr_t *var(lw_ctx_t *c, mlc_tvar_t *v) { return mlc_tx_var(c->k, v); }

static mlc_status_t *axis_of(lw_ctx_t *c, int64_t axis, int r, int *out) {
  int64_t a = lw_norm_axis(axis, r);
  if (a < 0 || a >= r) return lw_err(c, MLC_INVALID_MODEL, "axis out of range");
  *out = (int)a;
  return NULL;
}

/* The best-so-far scan over `axis` at outer index `idx` (idx[axis] is
 * replaced by the loop var): returns the loop, sets *best_i. */
static mlc_tstmt_t *argbest_scan(lw_ctx_t *c, mlc_value_t *x, int axis,
                                 mlc_texpr_t *const *idx, bool max, bool last,
                                 mlc_tvar_t *best, mlc_tvar_t *best_i) {
  mlc_tvar_t *j = lw_loopvar(c);
  if (!j) return NULL;
  mlc_texpr_t *xi[LW_MAXR], *x0i[LW_MAXR];
  for (int d = 0; d < x->rank; d++) {
    xi[d] = d == axis ? var(c, j) : idx[d];
    x0i[d] = d == axis ? i64(c, 0) : idx[d];
  }
  mlc_texpr_t *xv = mlc_tx_cast(c->k, best->dtype,
                                lw_load_bcast(c, x, xi, x->rank));
  mlc_texpr_t *x0 = mlc_tx_cast(c->k, best->dtype,
                                lw_load_bcast(c, x, x0i, x->rank));
  mlc_tbinop_t op = max ? (last ? MLC_TB_GE : MLC_TB_GT)
                        : (last ? MLC_TB_LE : MLC_TB_LT);
  /* starting from element 0, a strict comparison keeps the first index */
  mlc_texpr_t *cond = bin(c, op, xv, var(c, best));
  mlc_tstmt_t *upd[2] = {mlc_ts_assign(c->k, best, xv),
                         mlc_ts_assign(c->k, best_i, var(c, j))};
  mlc_tstmt_t *body = mlc_ts_if(c->k, cond, mlc_ts_block(c->k, 2, upd), NULL);
  mlc_tstmt_t *init[3] = {mlc_ts_assign(c->k, best, x0),
                          mlc_ts_assign(c->k, best_i, i64(c, 0)),
                          lw_for(c, j, x->dims[axis].value, body,
                                 MLC_LOOP_SERIAL)};
  return mlc_ts_block(c->k, 3, init);
}

typedef struct arg_nest {
  lw_nest_t nest;
  int axis;
  mlc_tvar_t *best, *best_i;
} arg_nest_t;

static mlc_status_t *arg_setup(lw_ctx_t *c, const mlc_node_t *n, int64_t dflt,
                               arg_nest_t *a) {
  mlc_value_t *x = n->inputs[0];
  int r = x->rank;
  if (r == 0) return lw_err(c, MLC_INVALID_MODEL, "rank-0 input");
  MLC_RETURN_IF(axis_of(c, mlc_node_attr_int(n, "axis", dflt), r, &a->axis));
  if (x->dims[a->axis].value == 0)
    return lw_err(c, MLC_INVALID_MODEL, "empty reduction axis");
  int64_t od[LW_MAXR];
  lw_value_dims(x, od);
  od[a->axis] = 1;
  a->best = mlc_tkernel_new_var(c->k, MLC_TV_LOCAL, lw_compute_dt(x->dtype),
                                "best");
  a->best_i = mlc_tkernel_new_var(c->k, MLC_TV_LOCAL, MLC_DT_I64, "best_i");
  if (!a->best || !a->best_i || !lw_nest_make(c, &a->nest, r, od, r, true))
    return lw_oom(c);
  return NULL;
}

mlc_status_t *lw_build_argminmax(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  arg_nest_t a;
  MLC_RETURN_IF(arg_setup(c, n, 0, &a));
  bool keep = mlc_node_attr_int(n, "keepdims", 1) != 0;
  bool last = mlc_node_attr_int(n, "select_last_index", 0) != 0;
  mlc_texpr_t *yi[LW_MAXR];
  for (int d = 0, o = 0; d < x->rank; d++)
    if (d != a.axis || keep) yi[o++] = a.nest.idx[d];
  mlc_tstmt_t *parts[2] = {
      argbest_scan(c, x, a.axis, a.nest.idx, n->op == MLC_OP_ArgMax, last,
                   a.best, a.best_i),
      lw_store_out(c, n, yi, y->rank, var(c, a.best_i))};
  if (!parts[0] || !parts[1] ||
      !lw_append(c, lw_nest_wrap(c, &a.nest, 0, mlc_ts_block(c->k, 2, parts),
                                 false)))
    return lw_oom(c);
  c->k->flops += mlc_value_numel(x);
  return NULL;
}

mlc_status_t *lw_build_hardmax(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  if (mlc_value_numel(x) == 0) return NULL;
  arg_nest_t a;
  MLC_RETURN_IF(arg_setup(c, n, -1, &a));
  mlc_tvar_t *j = lw_loopvar(c);
  int by = lw_buf(c, y, true);
  if (!j || by < 0) return lw_oom(c);
  mlc_texpr_t *yi[LW_MAXR];
  for (int d = 0; d < x->rank; d++) yi[d] = d == a.axis ? var(c, j) : a.nest.idx[d];
  int64_t xd[LW_MAXR];
  lw_value_dims(x, xd);
  mlc_texpr_t *one = mlc_tx_select(c->k, bin(c, MLC_TB_EQ, var(c, j), var(c, a.best_i)),
                                   mlc_tx_const(c->k, y->dtype, 1),
                                   mlc_tx_const(c->k, y->dtype, 0));
  mlc_tstmt_t *st = mlc_ts_store(c->k, by, lw_flat(c, yi, xd, x->rank), one);
  mlc_tstmt_t *parts[2] = {
      argbest_scan(c, x, a.axis, a.nest.idx, true, false, a.best, a.best_i),
      lw_for(c, j, xd[a.axis], st, MLC_LOOP_SERIAL)};
  if (!parts[0] || !parts[1] ||
      !lw_append(c, lw_nest_wrap(c, &a.nest, 0, mlc_ts_block(c->k, 2, parts),
                                 false)))
    return lw_oom(c);
  c->k->flops += 2 * mlc_value_numel(x);
  return NULL;
}

/* ---- CumSum, CumProd ---- */

mlc_status_t *lw_build_cumsum(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  int r = x->rank;
  int64_t ax[1];
  int na = 0;
  MLC_RETURN_IF(lw_const_ints(c, n, 1, ax, 1, &na));
  if (na != 1) return lw_err(c, MLC_INVALID_MODEL, "axis must be one value");
  int axis = 0;
  MLC_RETURN_IF(axis_of(c, ax[0], r, &axis));
  if (mlc_value_numel(y) == 0) return NULL;
  bool excl = mlc_node_attr_int(n, "exclusive", 0) != 0;
  bool rev = mlc_node_attr_int(n, "reverse", 0) != 0;
  int64_t xd[LW_MAXR];
  lw_value_dims(x, xd);
  lw_nest_t nest;
  mlc_dtype_t ct = lw_compute_dt(y->dtype);
  mlc_tvar_t *acc = mlc_tkernel_new_var(c->k, MLC_TV_LOCAL, ct, "acc");
  mlc_tvar_t *j = lw_loopvar(c);
  if (!acc || !j || !lw_nest_make(c, &nest, r, xd, r, true)) return lw_oom(c);
  mlc_texpr_t *xi[LW_MAXR];
  for (int d = 0; d < r; d++) xi[d] = d == axis ? var(c, j) : nest.idx[d];
  mlc_texpr_t *xv = mlc_tx_cast(c->k, ct, lw_load_bcast(c, x, xi, r));
  mlc_tbinop_t op = rev ? (excl ? MLC_TB_GT : MLC_TB_GE)
                        : (excl ? MLC_TB_LT : MLC_TB_LE);
  mlc_texpr_t *take = bin(c, op, var(c, j), nest.idx[axis]);
  bool prod = n->op == MLC_OP_CumProd;
  mlc_texpr_t *unit = mlc_tx_const(c->k, ct, prod ? 1 : 0);
  mlc_texpr_t *add = bin(c, prod ? MLC_TB_MUL : MLC_TB_ADD, var(c, acc),
                         mlc_tx_select(c->k, take, xv, unit));
  mlc_tstmt_t *parts[3] = {
      mlc_ts_assign(c->k, acc, unit),
      lw_for(c, j, xd[axis], mlc_ts_assign(c->k, acc, add), MLC_LOOP_SERIAL),
      lw_store_out(c, n, nest.idx, r, mlc_tx_cast(c->k, y->dtype, var(c, acc)))};
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, mlc_ts_block(c->k, 3, parts), false)))
    return lw_oom(c);
  c->k->flops += mlc_value_numel(x) * xd[axis];
  return NULL;
}

/* ---- GatherElements, Trilu ---- */

mlc_status_t *lw_build_gather_elements(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *ind = n->inputs[1], *y = n->outputs[0];
  int r = x->rank, axis = 0;
  MLC_RETURN_IF(axis_of(c, mlc_node_attr_int(n, "axis", 0), r, &axis));
  if (mlc_value_numel(y) == 0) return NULL;
  int64_t yd[LW_MAXR];
  lw_value_dims(y, yd);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, r, yd, r, true)) return lw_oom(c);
  int64_t dim = x->dims[axis].value;
  mlc_texpr_t *ii = mlc_tx_cast(c->k, MLC_DT_I64, lw_load_bcast(c, ind, nest.idx, r));
  ii = mlc_tx_select(c->k, bin(c, MLC_TB_LT, ii, i64(c, 0)), lw_add_i(c, ii, dim), ii);
  ii = bin(c, MLC_TB_MIN, bin(c, MLC_TB_MAX, ii, i64(c, 0)), i64(c, dim - 1));
  mlc_texpr_t *xi[LW_MAXR];
  for (int d = 0; d < r; d++) {
    /* indices may be smaller than data on other axes, never larger */
    if (d != axis && yd[d] > x->dims[d].value)
      return lw_err(c, MLC_INVALID_MODEL, "indices dim %d exceeds data", d);
    xi[d] = d == axis ? ii : nest.idx[d];
  }
  mlc_texpr_t *v = lw_load_bcast(c, x, xi, r);
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, lw_store_out(c, n, nest.idx, r, v), true)))
    return lw_oom(c);
  return NULL;
}

mlc_status_t *lw_build_trilu(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *y = n->outputs[0];
  int r = y->rank;
  int64_t k = 0;
  int nk = 0;
  MLC_RETURN_IF(lw_const_ints(c, n, 1, &k, 1, &nk));
  bool upper = mlc_node_attr_int(n, "upper", 1) != 0;
  if (mlc_value_numel(y) == 0) return NULL;
  int64_t yd[LW_MAXR];
  lw_value_dims(y, yd);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, r, yd, r, true)) return lw_oom(c);
  /* keep when col - row >= k (upper) or <= k (lower) */
  mlc_texpr_t *diff = bin(c, MLC_TB_SUB, nest.idx[r - 1], nest.idx[r - 2]);
  mlc_texpr_t *keep = bin(c, upper ? MLC_TB_GE : MLC_TB_LE, diff, i64(c, k));
  mlc_texpr_t *v = mlc_tx_select(c->k, keep,
                                 lw_load_bcast(c, n->inputs[0], nest.idx, r),
                                 mlc_tx_const(c->k, y->dtype, 0));
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, lw_store_out(c, n, nest.idx, r, v), true)))
    return lw_oom(c);
  return NULL;
}

/* ---- ScatterElements ---- */

static mlc_texpr_t *scatter_combine(lw_ctx_t *c, const char *red,
                                    mlc_texpr_t *acc, mlc_texpr_t *u) {
  if (strcmp(red, "add") == 0) return bin(c, MLC_TB_ADD, acc, u);
  if (strcmp(red, "mul") == 0) return bin(c, MLC_TB_MUL, acc, u);
  if (strcmp(red, "max") == 0) return bin(c, MLC_TB_MAX, acc, u);
  if (strcmp(red, "min") == 0) return bin(c, MLC_TB_MIN, acc, u);
  return u;
}

/* Gather form: each output point starts from data and applies, in index
 * order, the updates whose target is that point; only the updates on the
 * same line along `axis` can target it, so the cost is O(n * indices'
 * axis length) and the kernel has no write races. */
mlc_status_t *lw_build_scatter_elements(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *ind = n->inputs[1], *upd = n->inputs[2];
  mlc_value_t *y = n->outputs[0];
  int r = x->rank, axis = 0;
  MLC_RETURN_IF(axis_of(c, mlc_node_attr_int(n, "axis", 0), r, &axis));
  if (mlc_value_numel(y) == 0) return NULL;
  if (mlc_value_numel(ind) == 0) return lw_build_copy(c, n); /* no updates */
  const char *red = mlc_node_attr_string(n, "reduction", "none");
  int64_t yd[LW_MAXR], id[LW_MAXR];
  lw_value_dims(y, yd);
  lw_value_dims(ind, id);
  lw_nest_t nest;
  mlc_dtype_t ct = lw_compute_dt(y->dtype);
  mlc_tvar_t *acc = mlc_tkernel_new_var(c->k, MLC_TV_LOCAL, ct, "acc");
  mlc_tvar_t *j = lw_loopvar(c);
  if (!acc || !j || !lw_nest_make(c, &nest, r, yd, r, true)) return lw_oom(c);
  mlc_texpr_t *ui[LW_MAXR], *inside = NULL;
  for (int d = 0; d < r; d++) {
    if (d == axis) {
      ui[d] = var(c, j);
      continue;
    }
    ui[d] = bin(c, MLC_TB_MIN, nest.idx[d], i64(c, id[d] - 1));
    if (id[d] < yd[d]) {
      mlc_texpr_t *lt = bin(c, MLC_TB_LT, nest.idx[d], i64(c, id[d]));
      inside = inside ? bin(c, MLC_TB_AND, inside, lt) : lt;
    }
  }
  int64_t dim = x->dims[axis].value;
  mlc_texpr_t *t = mlc_tx_cast(c->k, MLC_DT_I64, lw_load_bcast(c, ind, ui, r));
  t = mlc_tx_select(c->k, bin(c, MLC_TB_LT, t, i64(c, 0)), lw_add_i(c, t, dim), t);
  mlc_texpr_t *hit = bin(c, MLC_TB_EQ, t, nest.idx[axis]);
  if (inside) hit = bin(c, MLC_TB_AND, inside, hit);
  mlc_texpr_t *u = mlc_tx_cast(c->k, ct, lw_load_bcast(c, upd, ui, r));
  mlc_tstmt_t *body = mlc_ts_if(c->k, hit, mlc_ts_assign(c->k, acc,
                                scatter_combine(c, red, var(c, acc), u)), NULL);
  mlc_tstmt_t *parts[3] = {
      mlc_ts_assign(c->k, acc, mlc_tx_cast(c->k, ct, lw_load_bcast(c, x, nest.idx, r))),
      lw_for(c, j, id[axis], body, MLC_LOOP_SERIAL),
      lw_store_out(c, n, nest.idx, r, mlc_tx_cast(c->k, y->dtype, var(c, acc)))};
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, mlc_ts_block(c->k, 3, parts), false)))
    return lw_oom(c);
  return NULL;
}

/* ---- TopK ---- */

/* Per outer point (the axis at extent 1), each element's rank among the
 * axis entries is counted (an entry ranks before it when strictly better,
 * or equal with a lower index: ONNX's tie order); elements of rank < K are
 * stored at that rank.  O(axis length^2) per outer point; the output is
 * always sorted. */
mlc_status_t *lw_build_topk(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *yv = n->outputs[0], *yi = n->outputs[1];
  int r = x->rank, axis = 0;
  MLC_RETURN_IF(axis_of(c, mlc_node_attr_int(n, "axis", -1), r, &axis));
  int64_t kk = yv->dims[axis].value, len = x->dims[axis].value;
  if (mlc_value_numel(yv) == 0) return NULL;
  bool largest = mlc_node_attr_int(n, "largest", 1) != 0;
  int64_t od[LW_MAXR], vd[LW_MAXR];
  lw_value_dims(x, od);
  lw_value_dims(yv, vd);
  od[axis] = 1;
  lw_nest_t nest;
  mlc_dtype_t ct = lw_compute_dt(x->dtype);
  mlc_tvar_t *rank = mlc_tkernel_new_var(c->k, MLC_TV_LOCAL, MLC_DT_I64, "rank");
  mlc_tvar_t *i = lw_loopvar(c), *e = lw_loopvar(c);
  int bv = lw_buf(c, yv, true), bi = yi ? lw_buf(c, yi, true) : -1;
  if (!rank || !i || !e || bv < 0 || (yi && bi < 0) ||
      !lw_nest_make(c, &nest, r, od, r, true))
    return lw_oom(c);
  mlc_texpr_t *xi[LW_MAXR], *xe[LW_MAXR], *oi[LW_MAXR];
  for (int d = 0; d < r; d++) {
    xi[d] = d == axis ? var(c, i) : nest.idx[d];
    xe[d] = d == axis ? var(c, e) : nest.idx[d];
    oi[d] = d == axis ? var(c, rank) : nest.idx[d];
  }
  mlc_texpr_t *vi = mlc_tx_cast(c->k, ct, lw_load_bcast(c, x, xi, r));
  mlc_texpr_t *ve = mlc_tx_cast(c->k, ct, lw_load_bcast(c, x, xe, r));
  mlc_texpr_t *better = bin(c, MLC_TB_OR, bin(c, largest ? MLC_TB_GT : MLC_TB_LT, ve, vi),
                            bin(c, MLC_TB_AND, bin(c, MLC_TB_EQ, ve, vi),
                                bin(c, MLC_TB_LT, var(c, e), var(c, i))));
  mlc_tstmt_t *count = lw_for(c, e, len, mlc_ts_if(c->k, better,
      mlc_ts_assign(c->k, rank, lw_add_i(c, var(c, rank), 1)), NULL), MLC_LOOP_SERIAL);
  mlc_texpr_t *at = lw_flat(c, oi, vd, r);
  mlc_tstmt_t *st[2] = {
      mlc_ts_store(c->k, bv, at, mlc_tx_cast(c->k, yv->dtype, vi)),
      yi ? mlc_ts_store(c->k, bi, at, var(c, i)) : NULL};
  mlc_tstmt_t *store = mlc_ts_if(c->k, bin(c, MLC_TB_LT, var(c, rank), i64(c, kk)),
                                 mlc_ts_block(c->k, yi ? 2 : 1, st), NULL);
  mlc_tstmt_t *per[3] = {mlc_ts_assign(c->k, rank, i64(c, 0)), count, store};
  mlc_tstmt_t *loop = lw_for(c, i, len, mlc_ts_block(c->k, 3, per), MLC_LOOP_SERIAL);
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, loop, false))) return lw_oom(c);
  c->k->flops += mlc_value_numel(x) * len;
  return NULL;
}
