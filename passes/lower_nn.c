/* Pooling, BatchNormalization (inference), Softmax/LogSoftmax,
 * LayerNormalization and the Reduce* ops.
 *
 * Softmax, LayerNorm and Reduce* whose reduced dims are a trailing suffix
 * (contiguous rows: the common case, and all that BERT and ViT use) go to
 * lower_rows.c, which vectorizes the reductions with a fixed lane order.
 * The rest share one shape here: an outer nest over the kept dims (the
 * reduced dims have extent 1 there), and per outer point serial loops over
 * the reduced dims accumulating into MLC_TV_LOCAL scalars (f32 for
 * f16/bf16).  Softmax and LayerNorm make two or three passes over the
 * reduced dims per outer point, the last one writing the output with its
 * innermost loop vectorized.  When x's last dim is kept, the outer loop
 * over it is vectorized instead (a lane per output point, each reducing
 * serially, so the order is unchanged).  Pools loop over the window with an IF that
 * skips taps in the padding (or beyond the input with ceil_mode).
 */
#include <math.h>
#include <string.h>

#include "passes/lower_internal.h"

/* Loop vars for the reduced dims of `x`; full[d] = kept[d] or the var. */
static bool red_vars(lw_ctx_t *c, int r, const bool *red,
                     mlc_texpr_t *const *kept, mlc_texpr_t **full,
                     mlc_tvar_t **vars) {
  for (int d = 0; d < r; d++) {
    vars[d] = NULL;
    full[d] = kept[d];
    if (!red[d]) continue;
    vars[d] = lw_loopvar(c);
    if (!(full[d] = mlc_tx_var(c->k, vars[d]))) return false;
  }
  return true;
}

static mlc_tstmt_t *red_wrap(lw_ctx_t *c, int r, const int64_t *dims,
                             mlc_tvar_t *const *vars, mlc_tstmt_t *body,
                             bool vec) {
  int inner = -1;
  for (int d = r - 1; d >= 0 && inner < 0; d--)
    if (vars[d]) inner = d;
  for (int d = r - 1; d >= 0; d--)
    if (vars[d])
      body = lw_for(c, vars[d], dims[d], body,
                    vec && d == inner ? MLC_LOOP_VECTORIZE : MLC_LOOP_SERIAL);
  return body;
}

mlc_texpr_t *lw_lowest(lw_ctx_t *c, mlc_dtype_t dt, bool max) {
  if (mlc_dtype_is_float(dt)) return mlc_tx_float(c->k, dt, max ? -INFINITY : INFINITY);
  int64_t bits = (int64_t)mlc_dtype_size(dt) * 8;
  bool sg = mlc_dtype_is_signed(dt);
  if (dt == MLC_DT_BOOL) return mlc_tx_int(c->k, dt, max ? 0 : 1);
  if (max) return mlc_tx_int(c->k, dt, sg ? (bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1))) : 0);
  if (!sg) return mlc_tx_int(c->k, dt, bits == 64 ? -1 : (INT64_C(1) << bits) - 1);
  return mlc_tx_int(c->k, dt, bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1);
}

static mlc_texpr_t *tx_var(lw_ctx_t *c, mlc_tvar_t *v) {
  return mlc_tx_var(c->k, v);
}
static mlc_texpr_t *bin(lw_ctx_t *c, mlc_tbinop_t op, mlc_texpr_t *a,
                        mlc_texpr_t *b) {
  return mlc_tx_binary(c->k, op, a, b);
}
static mlc_texpr_t *kc(lw_ctx_t *c, mlc_dtype_t dt, double v) {
  return mlc_tx_const(c->k, dt, v);
}

/* The element count of the reduced dims when they are a non-empty
 * trailing suffix of x's dims (so rows are contiguous: lower_rows.c), else
 * 0 (and 0 for empty tensors, which the generic shape handles). */
static int64_t trailing_len(const mlc_value_t *x, const bool *red) {
  int r = x->rank, a = r;
  while (a > 0 && red[a - 1]) a--;
  int64_t len = 1;
  for (int d = 0; d < r; d++) {
    if (red[d] && d < a) return 0;
    if (d >= a) len *= x->dims[d].value;
  }
  return a < r && mlc_value_numel(x) > 0 ? len : 0;
}

/* ---- Reduce* ---- */

static mlc_status_t *reduce_axes(lw_ctx_t *c, const mlc_node_t *n, int r,
                                 bool *red, bool *noop) {
  int64_t axes[LW_MAXR];
  int na = 0;
  MLC_RETURN_IF(lw_const_ints(c, n, 1, axes, LW_MAXR, &na));
  if (na == 0) {
    int64_t cnt = 0;
    const int64_t *av;
    cnt = mlc_node_attr_ints(n, "axes", &av); /* older opsets */
    for (int64_t i = 0; i < cnt && i < LW_MAXR; i++) axes[na++] = av[i];
  }
  *noop = na == 0 && mlc_node_attr_int(n, "noop_with_empty_axes", 0);
  for (int d = 0; d < r; d++) red[d] = na == 0 && !*noop;
  for (int i = 0; i < na; i++) {
    int64_t a = lw_norm_axis(axes[i], r);
    if (a < 0 || a >= r) return lw_err(c, MLC_INVALID_MODEL, "axis %lld out of range", (long long)axes[i]);
    red[a] = true;
  }
  return NULL;
}

mlc_status_t *lw_build_reduce(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  int r = x->rank;
  bool red[LW_MAXR], noop;
  MLC_RETURN_IF(reduce_axes(c, n, r, red, &noop));
  if (noop) return lw_build_copy(c, n);
  int64_t len = trailing_len(x, red);
  if (len > 0 && mlc_value_numel(y) * len == mlc_value_numel(x))
    return lw_rows_reduce(c, n, len);
  bool keep = mlc_node_attr_int(n, "keepdims", 1) != 0;
  int64_t xd[LW_MAXR], yd[LW_MAXR];
  lw_value_dims(x, xd);
  lw_value_dims(y, yd);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, y->rank, yd, y->rank, true)) return lw_oom(c);
  mlc_texpr_t *kept[LW_MAXR], *full[LW_MAXR];
  mlc_tvar_t *vars[LW_MAXR];
  int64_t cnt = 1;
  for (int d = 0, o = 0; d < r; d++) {
    kept[d] = red[d] ? NULL : nest.idx[o];
    if (red[d]) cnt *= xd[d];
    if (!red[d] || keep) o++;
  }
  mlc_dtype_t ct = lw_compute_dt(y->dtype);
  mlc_tvar_t *acc = mlc_tkernel_new_var(c->k, MLC_TV_LOCAL, ct, "acc");
  if (!acc || !red_vars(c, r, red, kept, full, vars)) return lw_oom(c);
  mlc_texpr_t *xv = mlc_tx_cast(c->k, ct, lw_load_bcast(c, x, full, r));
  mlc_texpr_t *init, *upd;
  switch (n->op) {
  case MLC_OP_ReduceMax: init = lw_lowest(c, ct, true); upd = bin(c, MLC_TB_MAX, tx_var(c, acc), xv); break;
  case MLC_OP_ReduceMin: init = lw_lowest(c, ct, false); upd = bin(c, MLC_TB_MIN, tx_var(c, acc), xv); break;
  case MLC_OP_ReduceProd: init = kc(c, ct, 1); upd = bin(c, MLC_TB_MUL, tx_var(c, acc), xv); break;
  default: init = kc(c, ct, 0); upd = bin(c, MLC_TB_ADD, tx_var(c, acc), xv); break;
  }
  mlc_texpr_t *res = tx_var(c, acc);
  if (n->op == MLC_OP_ReduceMean) res = bin(c, MLC_TB_DIV, res, kc(c, ct, (double)cnt));
  mlc_tstmt_t *parts[3] = {
      mlc_ts_assign(c->k, acc, init),
      red_wrap(c, r, xd, vars, mlc_ts_assign(c->k, acc, upd), false),
      lw_store_out(c, n, nest.idx, y->rank, res)};
  /* the kept innermost dim (if any) is vectorized: each lane one output */
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, mlc_ts_block(c->k, 3, parts), !red[r - 1])))
    return lw_oom(c);
  c->k->flops += mlc_value_numel(x);
  return NULL;
}

/* ---- Softmax / LogSoftmax ---- */

/* Outer nest over x's shape with the reduced dims at extent 1. */
static bool outer_nest(lw_ctx_t *c, lw_nest_t *nest, const mlc_value_t *x,
                       const bool *red, mlc_texpr_t **kept) {
  int64_t od[LW_MAXR];
  for (int d = 0; d < x->rank; d++) od[d] = red[d] ? 1 : x->dims[d].value;
  if (!lw_nest_make(c, nest, x->rank, od, x->rank, true)) return false;
  for (int d = 0; d < x->rank; d++) kept[d] = red[d] ? NULL : nest->idx[d];
  return true;
}

mlc_status_t *lw_build_softmax(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_tkernel_t *k = c->k;
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  int r = x->rank;
  if (r == 0) return lw_err(c, MLC_INVALID_MODEL, "rank-0 input");
  bool coerce = mlc_node_attr_int(n, "coerce_2d", 0) != 0;
  int64_t axis = lw_norm_axis(mlc_node_attr_int(n, "axis", coerce ? 1 : -1), r);
  if (axis < 0 || axis >= r) return lw_err(c, MLC_INVALID_MODEL, "axis out of range");
  bool red[LW_MAXR];
  for (int d = 0; d < r; d++) red[d] = coerce ? d >= axis : d == axis;
  int64_t len = trailing_len(x, red);
  if (len > 0) return lw_rows_softmax(c, n, len);
  int64_t xd[LW_MAXR];
  lw_value_dims(x, xd);
  lw_nest_t nest;
  mlc_texpr_t *kept[LW_MAXR], *f1[LW_MAXR], *f2[LW_MAXR], *f3[LW_MAXR];
  mlc_tvar_t *v1[LW_MAXR], *v2[LW_MAXR], *v3[LW_MAXR];
  mlc_dtype_t ct = lw_compute_dt(x->dtype);
  mlc_tvar_t *mx = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "max");
  mlc_tvar_t *sum = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "sum");
  int by = lw_buf(c, y, true);
  if (!mx || !sum || by < 0 || !outer_nest(c, &nest, x, red, kept) ||
      !red_vars(c, r, red, kept, f1, v1) || !red_vars(c, r, red, kept, f2, v2) ||
      !red_vars(c, r, red, kept, f3, v3))
    return lw_oom(c);
  mlc_texpr_t *x1 = mlc_tx_cast(k, ct, lw_load_bcast(c, x, f1, r));
  mlc_texpr_t *x2 = mlc_tx_cast(k, ct, lw_load_bcast(c, x, f2, r));
  mlc_texpr_t *x3 = mlc_tx_cast(k, ct, lw_load_bcast(c, x, f3, r));
  mlc_texpr_t *e2 = mlc_tx_unary(k, MLC_TU_EXP, bin(c, MLC_TB_SUB, x2, tx_var(c, mx)));
  mlc_texpr_t *d3 = bin(c, MLC_TB_SUB, x3, tx_var(c, mx));
  mlc_texpr_t *res = n->op == MLC_OP_LogSoftmax
      ? bin(c, MLC_TB_SUB, d3, mlc_tx_unary(k, MLC_TU_LOG, tx_var(c, sum)))
      : bin(c, MLC_TB_DIV, mlc_tx_unary(k, MLC_TU_EXP, d3), tx_var(c, sum));
  mlc_tstmt_t *parts[5] = {
      mlc_ts_assign(k, mx, lw_lowest(c, ct, true)),
      red_wrap(c, r, xd, v1, mlc_ts_assign(k, mx, bin(c, MLC_TB_MAX, tx_var(c, mx), x1)), false),
      mlc_ts_assign(k, sum, kc(c, ct, 0)),
      red_wrap(c, r, xd, v2, mlc_ts_assign(k, sum, bin(c, MLC_TB_ADD, tx_var(c, sum), e2)), false),
      red_wrap(c, r, xd, v3, mlc_ts_store(k, by, lw_flat(c, f3, xd, r), mlc_tx_cast(k, y->dtype, res)), true)};
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, mlc_ts_block(k, 5, parts), !red[r - 1])))
    return lw_oom(c);
  k->flops += 5 * mlc_value_numel(x);
  return NULL;
}

/* ---- LayerNormalization ---- */

static mlc_tstmt_t *store_stat(lw_ctx_t *c, const mlc_node_t *n, int i,
                               mlc_texpr_t *const *kept_idx, int r,
                               mlc_texpr_t *v) {
  if (n->noutputs <= i || !n->outputs[i] || n->outputs[i]->flags & MLC_VALUE_FUSED)
    return NULL;
  mlc_value_t *o = n->outputs[i];
  int b = lw_buf(c, o, true);
  if (b < 0) return NULL;
  mlc_texpr_t *z[LW_MAXR];
  for (int d = 0; d < r; d++) z[d] = kept_idx[d] ? kept_idx[d] : mlc_tx_i64(c->k, 0);
  return mlc_ts_store(c->k, b, lw_bcast_index(c, z, r, o), mlc_tx_cast(c->k, o->dtype, v));
}

/* Can lower_rows.c take it: scale and bias of one or `len` elements,
 * statistics of one element per row? */
static bool ln_rows_ok(const mlc_node_t *n, int64_t len) {
  if (len <= 0) return false;
  int64_t rows = mlc_value_numel(n->inputs[0]) / len;
  for (int i = 1; i < n->ninputs && i < 3; i++)
    if (n->inputs[i] && mlc_value_numel(n->inputs[i]) != 1 && mlc_value_numel(n->inputs[i]) != len)
      return false;
  for (int i = 1; i < n->noutputs && i < 3; i++)
    if (n->outputs[i] && mlc_value_numel(n->outputs[i]) != rows) return false;
  return true;
}

mlc_status_t *lw_build_layernorm(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_tkernel_t *k = c->k;
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  mlc_value_t *scale = n->ninputs > 1 ? n->inputs[1] : NULL;
  mlc_value_t *bias = n->ninputs > 2 ? n->inputs[2] : NULL;
  int r = x->rank;
  int64_t axis = lw_norm_axis(mlc_node_attr_int(n, "axis", -1), r);
  if (axis < 0 || axis >= r) return lw_err(c, MLC_INVALID_MODEL, "axis out of range");
  double eps = mlc_node_attr_float(n, "epsilon", 1e-5f);
  bool red[LW_MAXR];
  int64_t xd[LW_MAXR], cnt = 1;
  lw_value_dims(x, xd);
  for (int d = 0; d < r; d++) {
    red[d] = d >= axis;
    if (red[d]) cnt *= xd[d];
  }
  if (ln_rows_ok(n, trailing_len(x, red))) return lw_rows_layernorm(c, n, cnt, eps);
  mlc_dtype_t ct = x->dtype == MLC_DT_F64 ? MLC_DT_F64 : MLC_DT_F32;
  lw_nest_t nest;
  mlc_texpr_t *kept[LW_MAXR], *f1[LW_MAXR], *f2[LW_MAXR], *f3[LW_MAXR];
  mlc_tvar_t *v1[LW_MAXR], *v2[LW_MAXR], *v3[LW_MAXR];
  mlc_tvar_t *mean = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "mean");
  mlc_tvar_t *var = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "var");
  int by = lw_buf(c, y, true);
  if (!mean || !var || by < 0 || !outer_nest(c, &nest, x, red, kept) ||
      !red_vars(c, r, red, kept, f1, v1) || !red_vars(c, r, red, kept, f2, v2) ||
      !red_vars(c, r, red, kept, f3, v3))
    return lw_oom(c);
  mlc_texpr_t *x1 = mlc_tx_cast(k, ct, lw_load_bcast(c, x, f1, r));
  mlc_texpr_t *dx2 = bin(c, MLC_TB_SUB, mlc_tx_cast(k, ct, lw_load_bcast(c, x, f2, r)), tx_var(c, mean));
  mlc_texpr_t *res = bin(c, MLC_TB_MUL, bin(c, MLC_TB_SUB, mlc_tx_cast(k, ct, lw_load_bcast(c, x, f3, r)), tx_var(c, mean)), tx_var(c, var));
  if (scale) res = bin(c, MLC_TB_MUL, res, mlc_tx_cast(k, ct, lw_load_bcast(c, scale, f3, r)));
  if (bias) res = bin(c, MLC_TB_ADD, res, mlc_tx_cast(k, ct, lw_load_bcast(c, bias, f3, r)));
  mlc_texpr_t *fcnt = kc(c, ct, (double)cnt);
  /* var holds the inverse standard deviation after the second pass. */
  mlc_texpr_t *inv = bin(c, MLC_TB_DIV, kc(c, ct, 1),
      mlc_tx_unary(k, MLC_TU_SQRT, bin(c, MLC_TB_ADD, bin(c, MLC_TB_DIV, tx_var(c, var), fcnt), kc(c, ct, eps))));
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  mlc_tstmt_t *parts[] = {
      mlc_ts_assign(k, mean, kc(c, ct, 0)),
      red_wrap(c, r, xd, v1, mlc_ts_assign(k, mean, bin(c, MLC_TB_ADD, tx_var(c, mean), x1)), false),
      mlc_ts_assign(k, mean, bin(c, MLC_TB_DIV, tx_var(c, mean), fcnt)),
      mlc_ts_assign(k, var, kc(c, ct, 0)),
      red_wrap(c, r, xd, v2, mlc_ts_assign(k, var, bin(c, MLC_TB_ADD, tx_var(c, var), bin(c, MLC_TB_MUL, dx2, dx2))), false),
      mlc_ts_assign(k, var, inv),
      red_wrap(c, r, xd, v3, mlc_ts_store(k, by, lw_flat(c, f3, xd, r), mlc_tx_cast(k, y->dtype, res)), true)};
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
    if (!mlc_ts_block_append(k, blk, parts[i])) return lw_oom(c);
  mlc_tstmt_t *s1 = store_stat(c, n, 1, kept, r, tx_var(c, mean));
  mlc_tstmt_t *s2 = store_stat(c, n, 2, kept, r, tx_var(c, var));
  if ((s1 && !mlc_ts_block_append(k, blk, s1)) || (s2 && !mlc_ts_block_append(k, blk, s2)))
    return lw_oom(c);
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, blk, false))) return lw_oom(c);
  k->flops += 8 * mlc_value_numel(x);
  return NULL;
}

/* ---- BatchNormalization ---- */

mlc_status_t *lw_build_batchnorm(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_tkernel_t *k = c->k;
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  int r = x->rank;
  if (r < 2) return lw_err(c, MLC_INVALID_MODEL, "input rank %d < 2", r);
  double eps = mlc_node_attr_float(n, "epsilon", 1e-5f);
  int64_t xd[LW_MAXR];
  lw_value_dims(x, xd);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, r, xd, r, true)) return lw_oom(c);
  mlc_dtype_t ct = lw_compute_dt(y->dtype);
  mlc_texpr_t *p[5];
  for (int i = 1; i < 5; i++) {
    int b = lw_buf(c, n->inputs[i], false);
    if (b < 0) return lw_oom(c);
    p[i] = mlc_tx_cast(k, ct, mlc_tx_load(k, b, nest.idx[1]));
  }
  mlc_texpr_t *xv = mlc_tx_cast(k, ct, lw_load_bcast(c, x, nest.idx, r));
  mlc_texpr_t *den = mlc_tx_unary(k, MLC_TU_SQRT, bin(c, MLC_TB_ADD, p[4], kc(c, ct, eps)));
  mlc_texpr_t *v = bin(c, MLC_TB_ADD, bin(c, MLC_TB_MUL, bin(c, MLC_TB_DIV, bin(c, MLC_TB_SUB, xv, p[3]), den), p[1]), p[2]);
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, lw_store_out(c, n, nest.idx, r, v), true)))
    return lw_oom(c);
  k->flops += 5 * mlc_value_numel(x);
  return NULL;
}

/* ---- pools ---- */

static mlc_status_t *pool_window(lw_ctx_t *c, const mlc_node_t *n,
                                 lw_win_t *w) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  w->ns = x->rank - 2;
  bool global = n->op == MLC_OP_GlobalAveragePool || n->op == MLC_OP_GlobalMaxPool;
  const int64_t *ks = NULL;
  int64_t nk = mlc_node_attr_ints(n, "kernel_shape", &ks);
  if (!global && nk != w->ns)
    return lw_err(c, MLC_INVALID_MODEL, "kernel_shape has %lld entries, expected %d", (long long)nk, w->ns);
  for (int i = 0; i < w->ns; i++) {
    w->in[i] = x->dims[2 + i].value;
    w->out[i] = y->dims[2 + i].value;
    w->kern[i] = global ? w->in[i] : ks[i];
  }
  if (global) {
    for (int i = 0; i < w->ns; i++) {
      w->stride[i] = w->dil[i] = 1;
      w->pb[i] = w->pe[i] = 0;
    }
    return NULL;
  }
  return lw_window(c, n, w);
}

/* Flat input index of the argmax for MaxPool's Indices output. */
static mlc_texpr_t *pool_index(lw_ctx_t *c, const mlc_node_t *n,
                               mlc_texpr_t *const *xi, const int64_t *xd,
                               int r) {
  if (!mlc_node_attr_int(n, "storage_order", 0) || r != 4) return lw_flat(c, xi, xd, r);
  /* column-major spatial: ((n*C + c) * H * W) + w * H + h */
  mlc_texpr_t *nc = lw_add(c, lw_mul_i(c, xi[0], xd[1]), xi[1]);
  return lw_add(c, lw_mul_i(c, nc, xd[2] * xd[3]),
                lw_add(c, lw_mul_i(c, xi[3], xd[2]), xi[2]));
}

mlc_status_t *lw_build_pool(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_tkernel_t *k = c->k;
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  int r = x->rank;
  if (r < 3 || y->rank != r) return lw_err(c, MLC_INVALID_MODEL, "pool needs rank >= 3");
  /* A global pool reduces each (n, c) row of H*W contiguous elements: the
   * row-reduction kernel (vector partials in a fixed lane order, rows
   * split over the grid) instead of a window nest (scalar, one tile). */
  if ((n->op == MLC_OP_GlobalAveragePool || n->op == MLC_OP_GlobalMaxPool) &&
      mlc_value_is_static(x) && mlc_value_numel(x) > 0) {
    int64_t len = 1;
    for (int d = 2; d < r; d++) len *= x->dims[d].value;
    return lw_rows_reduce(c, n, len);
  }
  bool done = false;
  MLC_RETURN_IF(lw_build_pool2d(c, n, &done)); /* 2-D: lower_pool.c */
  if (done) return NULL;
  lw_win_t w;
  MLC_RETURN_IF(pool_window(c, n, &w));
  bool is_max = n->op == MLC_OP_MaxPool || n->op == MLC_OP_GlobalMaxPool;
  bool incl = mlc_node_attr_int(n, "count_include_pad", 0) != 0;
  int64_t xd[LW_MAXR], yd[LW_MAXR];
  lw_value_dims(x, xd);
  lw_value_dims(y, yd);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, r, yd, r, true)) return lw_oom(c);
  mlc_dtype_t ct = lw_compute_dt(y->dtype);
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "acc");
  mlc_tvar_t *cnt = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "cnt");
  mlc_tvar_t *arg = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_I64, "arg");
  mlc_tvar_t *vk[LW_MAXR];
  mlc_texpr_t *xi[LW_MAXR], *ok = NULL, *padok = NULL;
  if (!acc || !cnt || !arg) return lw_oom(c);
  xi[0] = nest.idx[0];
  xi[1] = nest.idx[1];
  for (int d = 0; d < w.ns; d++) {
    vk[d] = lw_loopvar(c);
    xi[2 + d] = lw_win_coord(c, &w, d, nest.idx[2 + d], tx_var(c, vk[d]), &ok);
    mlc_texpr_t *in = bin(c, MLC_TB_AND, bin(c, MLC_TB_GE, xi[2 + d], mlc_tx_i64(k, -w.pb[d])),
                          bin(c, MLC_TB_LT, xi[2 + d], mlc_tx_i64(k, w.in[d] + w.pe[d])));
    padok = padok ? bin(c, MLC_TB_AND, padok, in) : in;
  }
  mlc_texpr_t *xv = mlc_tx_cast(k, ct, lw_load_bcast(c, x, xi, r));
  mlc_tstmt_t *tap, *init, *fin;
  bool want_idx = is_max && n->noutputs > 1 && n->outputs[1];
  if (is_max) {
    mlc_tstmt_t *upd[2] = {mlc_ts_assign(k, acc, xv),
                           mlc_ts_assign(k, arg, pool_index(c, n, xi, xd, r))};
    tap = mlc_ts_if(k, ok, mlc_ts_if(k, bin(c, MLC_TB_GT, xv, tx_var(c, acc)),
                                     mlc_ts_block(k, want_idx ? 2 : 1, upd), NULL), NULL);
    mlc_tstmt_t *in2[2] = {mlc_ts_assign(k, acc, lw_lowest(c, ct, true)),
                           mlc_ts_assign(k, arg, mlc_tx_i64(k, 0))};
    init = mlc_ts_block(k, 2, in2);
    fin = lw_store_out(c, n, nest.idx, r, tx_var(c, acc));
    if (want_idx) {
      int bi = lw_buf(c, n->outputs[1], true);
      mlc_tstmt_t *f2[2] = {fin, bi < 0 ? NULL : mlc_ts_store(k, bi, lw_flat(c, nest.idx, yd, r),
                                                          mlc_tx_cast(k, n->outputs[1]->dtype, tx_var(c, arg)))};
      fin = mlc_ts_block(k, 2, f2);
    }
  } else {
    mlc_tstmt_t *t2[2] = {
        mlc_ts_if(k, ok, mlc_ts_assign(k, acc, bin(c, MLC_TB_ADD, tx_var(c, acc), xv)), NULL),
        mlc_ts_if(k, incl ? padok : ok, mlc_ts_assign(k, cnt, bin(c, MLC_TB_ADD, tx_var(c, cnt), kc(c, ct, 1))), NULL)};
    tap = mlc_ts_block(k, 2, t2);
    mlc_tstmt_t *in2[2] = {mlc_ts_assign(k, acc, kc(c, ct, 0)), mlc_ts_assign(k, cnt, kc(c, ct, 0))};
    init = mlc_ts_block(k, 2, in2);
    fin = lw_store_out(c, n, nest.idx, r, bin(c, MLC_TB_DIV, tx_var(c, acc), tx_var(c, cnt)));
  }
  for (int d = w.ns - 1; d >= 0; d--) tap = lw_for(c, vk[d], w.kern[d], tap, MLC_LOOP_SERIAL);
  mlc_tstmt_t *parts[3] = {init, tap, fin};
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, mlc_ts_block(k, 3, parts), false)))
    return lw_oom(c);
  int64_t taps = 1;
  for (int d = 0; d < w.ns; d++) taps *= w.kern[d];
  k->flops += mlc_value_numel(y) * taps;
  return NULL;
}
