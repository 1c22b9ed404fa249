/* Lowering of the internal ops the gemm-layout pass writes (ir/ops.def):
 * Pack and Im2Col are data movement (constant folding runs them at compile
 * time when their input is a weight); PackedMatMul and ConvCols are
 * GEMMs handed to lower_gemm.c, B read as packed panels or as the columns
 * of an image.  Also the direct GEMM form of a 1x1, stride-1, unpadded
 * Conv, which reads X itself as its columns.
 */
#include "passes/lower_internal.h"

/* Pack: out[.., p, k, j] = B[.., k, p*NB + j] (trans: B[.., p*NB + j, k]),
 * 0 past column N. */
mlc_status_t *lw_build_pack(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_tkernel_t *k = c->k;
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  bool trans = mlc_node_attr_int(n, "trans", 0) != 0;
  int r = y->rank, rx = x->rank;
  if (r != rx + 1 || r < 3) return lw_err(c, MLC_INVALID_MODEL, "Pack rank");
  int64_t yd[LW_MAXR], xd[LW_MAXR];
  lw_value_dims(y, yd);
  lw_value_dims(x, xd);
  int64_t nb = yd[r - 1], N = xd[rx - (trans ? 2 : 1)];
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, r, yd, r, true)) return lw_oom(c);
  mlc_texpr_t *col = lw_add(c, lw_mul_i(c, nest.idx[r - 3], nb), nest.idx[r - 1]);
  mlc_texpr_t *cc = mlc_tx_binary(k, MLC_TB_MIN, col, mlc_tx_i64(k, N - 1));
  mlc_texpr_t *xi[LW_MAXR];
  for (int d = 0; d < rx - 2; d++) xi[d] = nest.idx[d];
  xi[rx - 2] = trans ? cc : nest.idx[r - 2];
  xi[rx - 1] = trans ? nest.idx[r - 2] : cc;
  int bx = lw_buf(c, x, false), by = lw_buf(c, y, true);
  if (bx < 0 || by < 0) return lw_oom(c);
  /* Without a ragged last panel the column needs no clamp: a plain copy
   * whose rows the backend reads as vectors (the clamp made every load a
   * gather: a 1024 x 1024 pack ran at 2 GB/s). */
  if (N % nb == 0) xi[rx - (trans ? 2 : 1)] = col;
  mlc_texpr_t *v = mlc_tx_load(k, bx, lw_flat(c, xi, xd, rx));
  if (N % nb)
    v = mlc_tx_select(k, mlc_tx_binary(k, MLC_TB_LT, col, mlc_tx_i64(k, N)), v,
                      mlc_tx_const(k, x->dtype, 0));
  mlc_tstmt_t *st = mlc_ts_store(k, by, lw_flat(c, nest.idx, yd, r), v);
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, st, true))) return lw_oom(c);
  return NULL;
}

mlc_status_t *lw_build_packed_matmul(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
  int ra = a->rank;
  if (ra < 1 || b->rank != 3 || y->rank != ra)
    return lw_err(c, MLC_INVALID_MODEL, "PackedMatMul ranks");
  lw_gemm_t s = {.a = a, .b = b, .b_panel = b->dims[2].value};
  s.N = mlc_node_attr_int(n, "n", 0);
  s.K = a->dims[ra - 1].value;
  s.M = 1;
  for (int i = 0; i < ra - 1; i++) s.M *= a->dims[i].value;
  s.a_sm = s.K;
  s.a_sk = 1;
  s.finish = lw_gemm_finish_abc; /* Gemm's alpha, with or without C */
  s.out_rank = ra;
  s.out_map[ra - 1] = LW_GM_COL;
  if (ra > 1) s.out_map[ra - 2] = LW_GM_ROW; /* rows span dims [0, ra-1) */
  if (ra > 2 && !lw_group_collapsible(c, 0, ra - 1)) {
    /* keep the batch dims in the grid so the epilogue indexes them */
    s.M = a->dims[ra - 2].value;
    s.nb = ra - 2;
    int64_t st = s.M * s.K;
    for (int i = ra - 3; i >= 0; i--) {
      s.bdims[i] = a->dims[i].value;
      s.a_bs[i] = s.bdims[i] == 1 ? 0 : st;
      st *= s.bdims[i];
      s.out_map[i] = LW_GM_BATCH + i;
    }
  }
  return lw_gemm_kernel(c, n, &s);
}

/* Im2Col: out[n, (c, taps...), (o...)] = X[n, c, o*stride - pad + tap*dil]
 * or 0 in the padding, over the expanded shape [N, C, kern..., out...].
 * The last output dim runs as three loops, zeros left of the input, a
 * copy with affine (vectorizable) loads, zeros right of it, so no load is
 * ever clamped or gathered; the other spatial dims only decide whether a
 * row is inside the input at all. */
typedef struct i2c {
  lw_ctx_t *c;
  lw_win_t w;
  int ns, bx, by;
  int64_t ed[LW_MAXR], xd[LW_MAXR];
} i2c_t;

/* The ow range whose input column is inside: [lo, hi) of [0, OW). */
static void i2c_range(i2c_t *s, mlc_texpr_t *tap, mlc_texpr_t **lo,
                      mlc_texpr_t **hi) {
  lw_ctx_t *c = s->c;
  mlc_tkernel_t *k = c->k;
  int d = s->ns - 1;
  int64_t st = s->w.stride[d];
  mlc_texpr_t *td = lw_mul_i(c, tap, s->w.dil[d]);
  mlc_texpr_t *a = lw_add_i(c, lw_mul_i(c, td, -1), s->w.pb[d] + st - 1);
  *lo = mlc_tx_binary(k, MLC_TB_MAX, mlc_tx_i64(k, 0),
                      mlc_tx_binary(k, MLC_TB_DIV, a, mlc_tx_i64(k, st)));
  mlc_texpr_t *b = lw_add_i(c, lw_mul_i(c, td, -1), s->w.in[d] - 1 + s->w.pb[d]);
  b = lw_add_i(c, mlc_tx_binary(k, MLC_TB_MAX, b, mlc_tx_i64(k, -st)), st);
  *hi = mlc_tx_binary(k, MLC_TB_MIN, mlc_tx_i64(k, s->w.out[d]),
                      mlc_tx_binary(k, MLC_TB_DIV, b, mlc_tx_i64(k, st)));
  *lo = mlc_tx_binary(k, MLC_TB_MIN, *lo, *hi);
}

static mlc_tstmt_t *i2c_loop(i2c_t *s, mlc_texpr_t **idx, mlc_texpr_t *b,
                             mlc_texpr_t *e, mlc_texpr_t *xi_flat_base) {
  lw_ctx_t *c = s->c;
  mlc_tkernel_t *k = c->k;
  int r = 2 + 2 * s->ns, d = s->ns - 1;
  mlc_tvar_t *v = lw_loopvar(c);
  idx[r - 1] = mlc_tx_var(k, v);
  mlc_texpr_t *val;
  if (xi_flat_base) {
    mlc_texpr_t *col = lw_add(c, lw_add_i(c, lw_mul_i(c, idx[r - 1], s->w.stride[d]),
                                          -s->w.pb[d]),
                              lw_mul_i(c, idx[2 + d], s->w.dil[d]));
    val = mlc_tx_load(k, s->bx, lw_add(c, xi_flat_base, col));
  } else {
    val = mlc_tx_const(k, c->bufvals.data[s->bx]->dtype, 0);
  }
  mlc_tstmt_t *st = mlc_ts_store(k, s->by, lw_flat(c, idx, s->ed, r), val);
  return mlc_ts_for(k, v, b, e, MLC_LOOP_VECTORIZE, 0, st);
}

mlc_status_t *lw_build_im2col(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_tkernel_t *k = c->k;
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  i2c_t s = {.c = c, .ns = x->rank - 2};
  int ns = s.ns, r = 2 + 2 * ns;
  s.w.ns = ns;
  const int64_t *ks, *os;
  if (mlc_node_attr_ints(n, "kernel_shape", &ks) != ns ||
      mlc_node_attr_ints(n, "out_shape", &os) != ns || r > LW_MAXR)
    return lw_err(c, MLC_INVALID_MODEL, "Im2Col attributes");
  lw_value_dims(x, s.xd);
  s.ed[0] = s.xd[0];
  s.ed[1] = s.xd[1];
  for (int i = 0; i < ns; i++) {
    s.w.in[i] = s.xd[2 + i];
    s.w.kern[i] = s.ed[2 + i] = ks[i];
    s.w.out[i] = s.ed[2 + ns + i] = os[i];
  }
  MLC_RETURN_IF(lw_window(c, n, &s.w));
  s.bx = lw_buf(c, x, false);
  s.by = lw_buf(c, y, true);
  lw_nest_t nest;
  if (s.bx < 0 || s.by < 0 || !lw_nest_make(c, &nest, r - 1, s.ed, r - 1, false))
    return lw_oom(c);
  mlc_texpr_t *idx[LW_MAXR], *xi[LW_MAXR], *rowok = NULL;
  for (int i = 0; i < r - 1; i++) idx[i] = nest.idx[i];
  xi[0] = idx[0];
  xi[1] = idx[1];
  for (int d = 0; d + 1 < ns; d++)
    xi[2 + d] = lw_win_coord(c, &s.w, d, idx[2 + ns + d], idx[2 + d], &rowok);
  xi[2 + ns - 1] = mlc_tx_i64(k, 0);
  mlc_texpr_t *base = lw_flat(c, xi, s.xd, x->rank), *lo, *hi;
  i2c_range(&s, idx[2 + ns - 1], &lo, &hi);
  mlc_texpr_t *OW = mlc_tx_i64(k, s.w.out[ns - 1]);
  if (rowok) {
    lo = mlc_tx_select(k, rowok, lo, OW);
    hi = mlc_tx_select(k, rowok, hi, OW);
  }
  mlc_tstmt_t *parts[3] = {i2c_loop(&s, idx, mlc_tx_i64(k, 0), lo, NULL),
                           i2c_loop(&s, idx, lo, hi, base),
                           i2c_loop(&s, idx, hi, OW, NULL)};
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, mlc_ts_block(k, 3, parts), false)))
    return lw_oom(c);
  return NULL;
}

static mlc_texpr_t *conv_bias(lw_ctx_t *c, const mlc_node_t *n, mlc_texpr_t *acc,
                              mlc_texpr_t *m, mlc_texpr_t *col) {
  (void)acc, (void)col;
  return lw_load_bcast(c, n->inputs[2], &m, 1);
}

/* Y[n, m, out...] = bias[m] + sum_k W[m, k] * cols[n, k, p], p the flat
 * output position; `cols` is Im2Col's output or X itself. */
static mlc_status_t *conv_gemm(lw_ctx_t *c, const mlc_node_t *n, mlc_value_t *cols,
                               int64_t K, int64_t P) {
  mlc_value_t *wv = n->inputs[1], *y = n->outputs[0];
  int r = y->rank;
  lw_gemm_t s = {.a = wv, .b = cols, .nb = 1, .M = y->dims[1].value, .N = P, .K = K,
                 .a_sm = K, .a_sk = 1, .b_sk = P, .b_sn = 1, .out_rank = r,
                 .col_span = r - 2};
  if (mlc_node_attr_int(n, "swap", 0)) {
    if (wv->rank != 3) return lw_err(c, MLC_INVALID_MODEL, "swapped ConvCols weights");
    s.swap = true;
    s.a_panel = wv->dims[2].value;
  }
  s.bdims[0] = y->dims[0].value;
  s.b_bs[0] = s.bdims[0] == 1 ? 0 : K * P;
  s.out_map[0] = LW_GM_BATCH;
  s.out_map[1] = LW_GM_ROW;
  s.out_map[r - 1] = LW_GM_COL;
  if (n->ninputs > 2 && n->inputs[2]) s.init = conv_bias;
  return lw_gemm_kernel(c, n, &s);
}

/* ConvCols with direct = 1: a 2-D conv over the padded image xp [N, C,
 * Hp, Wp] (no im2col), the weights packed over output channels:
 *   Y[n, m, oh, ow] = bias[m] + sum_{c, kh, kw} W[m, (c, kh, kw)] *
 *                     xp[n, c, oh*sh + kh*dh, ow*sw + kw*dw]
 * a swapped GEMM: output channels are the vector columns (a panel of W
 * per k), the pixels of one output row the register rows (each a
 * broadcast of one input element, so any stride works), K the nest
 * (c, kh, kw), the output row a batch dim.  With W unpacked ([m, C, KH,
 * KW], for short K) it is not swapped: the pixels of the row are the
 * vectors (a column stride then loads strided) and channels the rows. */
static mlc_status_t *conv_direct(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *xp = n->inputs[0], *wv = n->inputs[1], *y = n->outputs[0];
  const int64_t *ks, *st, *dl;
  if (xp->rank != 4 || (wv->rank != 3 && wv->rank != 4) || y->rank != 4 ||
      mlc_node_attr_ints(n, "kernel_shape", &ks) != 2 ||
      mlc_node_attr_ints(n, "strides", &st) != 2 ||
      mlc_node_attr_ints(n, "dilations", &dl) != 2)
    return lw_err(c, MLC_INVALID_MODEL, "direct ConvCols operands");
  int64_t C = xp->dims[1].value, Hp = xp->dims[2].value, Wp = xp->dims[3].value;
  lw_gemm_t s = {.a = wv, .b = xp, .nb = 2, .M = y->dims[1].value, .N = y->dims[3].value,
                 .K = C * ks[0] * ks[1], .b_sn = st[1], .out_rank = 4, .col_span = 1,
                 .swap = true, .a_panel = wv->dims[2].value, .fit = true, .nk = 3,
                 .kdims = {C, ks[0], ks[1]}, .a_ks = {ks[0] * ks[1], ks[1], 1},
                 .b_ks = {Hp * Wp, dl[0] * Wp, dl[1]},
                 .bdims = {y->dims[0].value, y->dims[2].value},
                 .b_bs = {y->dims[0].value == 1 ? 0 : C * Hp * Wp, st[0] * Wp},
                 .out_map = {LW_GM_BATCH, LW_GM_ROW, LW_GM_BATCH + 1, LW_GM_COL}};
  if (wv->rank == 4) { /* W as in Conv: pixels are the vectors, channels the rows */
    s.swap = false;
    s.a_panel = 0;
    s.a_sm = s.K;
  }
  if (n->ninputs > 2 && n->inputs[2]) s.init = conv_bias;
  return lw_gemm_kernel(c, n, &s);
}

mlc_status_t *lw_build_conv_cols(lw_ctx_t *c, const mlc_node_t *n) {
  if (mlc_node_attr_int(n, "direct", 0)) return conv_direct(c, n);
  mlc_value_t *cols = n->inputs[0];
  if (cols->rank < 3) return lw_err(c, MLC_INVALID_MODEL, "ConvCols ranks");
  int64_t P = 1;
  for (int i = 2; i < cols->rank; i++) P *= cols->dims[i].value;
  return conv_gemm(c, n, cols, cols->dims[1].value, P);
}

bool lw_conv_is_pointwise(const mlc_node_t *n) {
  const mlc_value_t *x = n->inputs[0], *w = n->inputs[1];
  if (mlc_node_attr_int(n, "group", 1) != 1 || w->rank != x->rank) return false;
  const int64_t *v;
  int64_t cnt;
  for (int i = 2; i < w->rank; i++)
    if (w->dims[i].value != 1 || x->dims[i].value != n->outputs[0]->dims[i].value)
      return false;
  cnt = mlc_node_attr_ints(n, "strides", &v);
  for (int64_t i = 0; i < cnt; i++) if (v[i] != 1) return false;
  cnt = mlc_node_attr_ints(n, "pads", &v);
  for (int64_t i = 0; i < cnt; i++) if (v[i] != 0) return false;
  return true;
}

/* A pointwise Conv is a GEMM over X viewed as [N, C, P]. */
mlc_status_t *lw_build_conv_pointwise(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0];
  int64_t P = 1;
  for (int i = 2; i < x->rank; i++) P *= x->dims[i].value;
  return conv_gemm(c, n, x, x->dims[1].value, P);
}

bool mlc_lower_conv_is_pointwise(const mlc_node_t *n) {
  return n->ninputs >= 2 && n->inputs[0] && n->inputs[1] && n->noutputs == 1 &&
         n->inputs[0]->rank >= 3 && lw_conv_is_pointwise(n);
}

mlc_status_t *mlc_lower_conv_geometry(mlc_graph_t *g, const mlc_node_t *n,
                                      int64_t *out) {
  const mlc_value_t *x = n->inputs[0], *wv = n->inputs[1], *y = n->outputs[0];
  lw_ctx_t c = {.g = g, .n = n};
  lw_win_t w = {.ns = x->rank - 2};
  for (int i = 0; i < w.ns; i++) {
    w.in[i] = x->dims[2 + i].value;
    w.out[i] = y->dims[2 + i].value;
    w.kern[i] = wv->dims[2 + i].value;
  }
  MLC_RETURN_IF(lw_window(&c, n, &w));
  for (int i = 0; i < w.ns; i++) {
    out[i] = w.stride[i];
    out[w.ns + i] = w.dil[i];
    out[2 * w.ns + i] = w.pb[i];
    out[3 * w.ns + i] = w.pe[i];
  }
  return NULL;
}
