/* MatMul, Gemm and Conv.
 *
 * MatMul and Gemm describe their operands by strides (which covers
 * transA/transB, 1-D operands and batch broadcasting alike) as an
 * lw_gemm_t and get the register-blocked kernel of lower_gemm.c; its
 * stores go through lw_store_out, so a fused epilogue is applied in
 * registers.
 *
 * Conv, when neither a GEMM form (lower_packed.c) nor the 2-D window
 * kernel (lower_dwconv.c) applies: a nest over the output [N, M,
 * spatial...] (outer dims in the grid); per output point an accumulator
 * starts at the bias and sums over the group's input channels and the
 * kernel window; taps outside the input (padding) are skipped by an IF.
 * auto_pad is resolved here from static shapes.
 */
#include <math.h>
#include <string.h>

#include "passes/lower_internal.h"

/* Collapses the batch dims of a MatMul into its rows when B is shared by
 * every batch and A is contiguous across them ([B, S, K] x [K, N] is one
 * [B*S, K] x [K, N]), as long as the fused epilogue can be indexed that
 * way; the row index then runs over the collapsed dims. */
static void mm_collapse(lw_ctx_t *c, lw_gemm_t *s, int ra) {
  if (s->nb == 0 || ra < 2) return;
  for (int i = 0; i < s->nb; i++)
    if (s->b_bs[i] != 0 || (s->a_bs[i] == 0 && s->bdims[i] != 1)) return;
  if (!lw_group_collapsible(c, 0, s->out_rank - 1)) return;
  for (int i = 0; i < s->nb; i++) {
    s->M *= s->bdims[i];
    s->out_map[i] = LW_GM_ZERO;
  }
  s->nb = 0;
}

mlc_status_t *lw_build_matmul(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
  int ra = a->rank, rb = b->rank;
  if (ra < 1 || rb < 1) return lw_err(c, MLC_INVALID_MODEL, "rank-0 operand");
  lw_gemm_t s = {.a = a, .b = b};
  s.M = ra == 1 ? 1 : a->dims[ra - 2].value;
  s.K = a->dims[ra - 1].value;
  s.N = rb == 1 ? 1 : b->dims[rb - 1].value;
  int64_t kb = rb == 1 ? b->dims[0].value : b->dims[rb - 2].value;
  if (kb != s.K)
    return lw_err(c, MLC_INVALID_MODEL, "inner dims %lld and %lld differ",
                  (long long)s.K, (long long)kb);
  s.a_sm = ra == 1 ? 0 : s.K;
  s.a_sk = 1;
  s.b_sk = rb == 1 ? 1 : s.N;
  s.b_sn = 1;
  int na = ra > 2 ? ra - 2 : 0, nbb = rb > 2 ? rb - 2 : 0;
  s.nb = na > nbb ? na : nbb;
  int64_t sa = s.M * s.K, sb = s.K * s.N;
  for (int i = s.nb - 1; i >= 0; i--) {
    int ia = i - (s.nb - na), ib = i - (s.nb - nbb);
    int64_t da = ia >= 0 ? a->dims[ia].value : 1;
    int64_t db = ib >= 0 ? b->dims[ib].value : 1;
    s.bdims[i] = da > db ? da : db;
    s.a_bs[i] = da == 1 ? 0 : sa;
    s.b_bs[i] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
  }
  int r = 0;
  for (int i = 0; i < s.nb; i++) s.out_map[r++] = LW_GM_BATCH + i;
  if (ra > 1) s.out_map[r++] = LW_GM_ROW;
  if (rb > 1) s.out_map[r++] = LW_GM_COL;
  if (r != y->rank)
    return lw_err(c, MLC_INVALID_MODEL, "output rank %d, expected %d",
                  y->rank, r);
  s.out_rank = r;
  if (rb <= 2) mm_collapse(c, &s, ra);
  return lw_gemm_kernel(c, n, &s);
}

mlc_texpr_t *lw_gemm_finish_abc(lw_ctx_t *c, const mlc_node_t *n,
                                mlc_texpr_t *acc, mlc_texpr_t *m,
                                mlc_texpr_t *col) {
  mlc_dtype_t ct = acc->dtype;
  double alpha = mlc_node_attr_float(n, "alpha", 1.0f);
  double beta = mlc_node_attr_float(n, "beta", 1.0f);
  mlc_texpr_t *r = acc;
  if (alpha != 1.0)
    r = mlc_tx_binary(c->k, MLC_TB_MUL, r, mlc_tx_const(c->k, ct, alpha));
  if (n->ninputs > 2 && n->inputs[2] && beta != 0.0) {
    mlc_texpr_t *idx[2] = {m, col};
    mlc_texpr_t *cv =
        mlc_tx_cast(c->k, ct, lw_load_bcast(c, n->inputs[2], idx, 2));
    if (beta != 1.0)
      cv = mlc_tx_binary(c->k, MLC_TB_MUL, cv, mlc_tx_const(c->k, ct, beta));
    r = mlc_tx_binary(c->k, MLC_TB_ADD, r, cv);
  }
  return r;
}

mlc_status_t *lw_build_gemm(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *a = n->inputs[0], *b = n->inputs[1];
  if (a->rank != 2 || b->rank != 2)
    return lw_err(c, MLC_INVALID_MODEL, "Gemm operands must be 2-D");
  bool ta = mlc_node_attr_int(n, "transA", 0) != 0;
  bool tb = mlc_node_attr_int(n, "transB", 0) != 0;
  lw_gemm_t s = {.a = a, .b = b, .finish = lw_gemm_finish_abc, .out_rank = 2,
                 .out_map = {LW_GM_ROW, LW_GM_COL}};
  int64_t a0 = a->dims[0].value, a1 = a->dims[1].value;
  int64_t b0 = b->dims[0].value, b1 = b->dims[1].value;
  s.M = ta ? a1 : a0;
  s.K = ta ? a0 : a1;
  s.N = tb ? b0 : b1;
  if ((tb ? b1 : b0) != s.K)
    return lw_err(c, MLC_INVALID_MODEL, "inner dims differ");
  s.a_sm = ta ? 1 : a1;
  s.a_sk = ta ? a1 : 1;
  s.b_sk = tb ? 1 : b1;
  s.b_sn = tb ? b1 : 1;
  return lw_gemm_kernel(c, n, &s);
}

/* ---- Conv ---- */

mlc_status_t *lw_window(lw_ctx_t *c, const mlc_node_t *n, lw_win_t *w) {
  const int64_t *v;
  int ns = w->ns;
  for (int i = 0; i < ns; i++) {
    w->stride[i] = w->dil[i] = 1;
    w->pb[i] = w->pe[i] = 0;
  }
  int64_t cnt = mlc_node_attr_ints(n, "strides", &v);
  for (int i = 0; i < ns && i < cnt; i++) w->stride[i] = v[i];
  cnt = mlc_node_attr_ints(n, "dilations", &v);
  for (int i = 0; i < ns && i < cnt; i++) w->dil[i] = v[i];
  cnt = mlc_node_attr_ints(n, "pads", &v);
  if (cnt == 2 * ns)
    for (int i = 0; i < ns; i++) {
      w->pb[i] = v[i];
      w->pe[i] = v[ns + i];
    }
  const char *ap = mlc_node_attr_string(n, "auto_pad", "NOTSET");
  bool upper = strcmp(ap, "SAME_UPPER") == 0;
  if (upper || strcmp(ap, "SAME_LOWER") == 0) {
    for (int i = 0; i < ns; i++) {
      int64_t o = (w->in[i] + w->stride[i] - 1) / w->stride[i];
      int64_t tot = (o - 1) * w->stride[i] + (w->kern[i] - 1) * w->dil[i] + 1 -
                    w->in[i];
      if (tot < 0) tot = 0;
      w->pb[i] = upper ? tot / 2 : tot - tot / 2;
      w->pe[i] = tot - w->pb[i];
    }
  } else if (strcmp(ap, "VALID") == 0) {
    for (int i = 0; i < ns; i++) w->pb[i] = w->pe[i] = 0;
  }
  for (int i = 0; i < ns; i++)
    if (w->stride[i] < 1 || w->dil[i] < 1)
      return lw_err(c, MLC_INVALID_MODEL, "strides and dilations must be >= 1");
  return NULL;
}

mlc_texpr_t *lw_win_coord(lw_ctx_t *c, const lw_win_t *w, int d, mlc_texpr_t *o,
                          mlc_texpr_t *kpos, mlc_texpr_t **ok) {
  mlc_tkernel_t *k = c->k;
  mlc_texpr_t *x = lw_add(c, lw_add_i(c, lw_mul_i(c, o, w->stride[d]), -w->pb[d]),
                          lw_mul_i(c, kpos, w->dil[d]));
  mlc_texpr_t *in = mlc_tx_binary(
      k, MLC_TB_AND, mlc_tx_binary(k, MLC_TB_GE, x, mlc_tx_i64(k, 0)),
      mlc_tx_binary(k, MLC_TB_LT, x, mlc_tx_i64(k, w->in[d])));
  *ok = *ok ? mlc_tx_binary(k, MLC_TB_AND, *ok, in) : in;
  return x;
}

mlc_status_t *lw_build_conv(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_tkernel_t *k = c->k;
  if (n->inputs[0]->rank >= 3 && lw_conv_is_pointwise(n))
    return lw_build_conv_pointwise(c, n);
  bool done = false;
  MLC_RETURN_IF(lw_build_conv2d(c, n, &done)); /* 2-D: lower_dwconv.c */
  if (done) return NULL;
  mlc_value_t *x = n->inputs[0], *wv = n->inputs[1], *y = n->outputs[0];
  mlc_value_t *bias = n->ninputs > 2 ? n->inputs[2] : NULL;
  int r = x->rank;
  if (r < 3 || wv->rank != r || y->rank != r)
    return lw_err(c, MLC_INVALID_MODEL, "Conv needs X, W, Y of equal rank >= 3");
  lw_win_t w = {.ns = r - 2};
  int64_t grp = mlc_node_attr_int(n, "group", 1);
  int64_t C = x->dims[1].value, M = wv->dims[0].value, Cg = wv->dims[1].value;
  if (grp < 1 || C != Cg * grp || M % grp)
    return lw_err(c, MLC_INVALID_MODEL, "group %lld does not divide channels",
                  (long long)grp);
  for (int i = 0; i < w.ns; i++) {
    w.in[i] = x->dims[2 + i].value;
    w.out[i] = y->dims[2 + i].value;
    w.kern[i] = wv->dims[2 + i].value;
  }
  MLC_RETURN_IF(lw_window(c, n, &w));
  int64_t ydims[LW_MAXR];
  lw_value_dims(y, ydims);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, r, ydims, r, true)) return lw_oom(c);
  mlc_dtype_t ct = lw_compute_dt(y->dtype);
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "acc");
  mlc_tvar_t *vc = lw_loopvar(c), *vk[LW_MAXR];
  int bx = lw_buf(c, x, false), bw = lw_buf(c, wv, false);
  if (!acc || bx < 0 || bw < 0) return lw_oom(c);
  /* Input channel = (m / (M/group)) * Cg + c. */
  mlc_texpr_t *cin = lw_add(
      c, lw_mul_i(c, mlc_tx_binary(k, MLC_TB_DIV, nest.idx[1],
                                   mlc_tx_i64(k, M / grp)), Cg),
      mlc_tx_var(k, vc));
  mlc_texpr_t *xi[LW_MAXR], *wi[LW_MAXR], *ok = NULL;
  xi[0] = nest.idx[0];
  xi[1] = cin;
  wi[0] = nest.idx[1];
  wi[1] = mlc_tx_var(k, vc);
  for (int d = 0; d < w.ns; d++) {
    vk[d] = lw_loopvar(c);
    wi[2 + d] = mlc_tx_var(k, vk[d]);
    xi[2 + d] = lw_win_coord(c, &w, d, nest.idx[2 + d], wi[2 + d], &ok);
  }
  int64_t xd[LW_MAXR], wd[LW_MAXR];
  lw_value_dims(x, xd);
  lw_value_dims(wv, wd);
  mlc_texpr_t *prod = mlc_tx_binary(
      k, MLC_TB_MUL, mlc_tx_cast(k, ct, mlc_tx_load(k, bx, lw_flat(c, xi, xd, r))),
      mlc_tx_cast(k, ct, mlc_tx_load(k, bw, lw_flat(c, wi, wd, r))));
  mlc_tstmt_t *inner = mlc_ts_if(
      k, ok, mlc_ts_assign(k, acc, mlc_tx_binary(k, MLC_TB_ADD,
                                                 mlc_tx_var(k, acc), prod)),
      NULL);
  for (int d = w.ns - 1; d >= 0; d--)
    inner = lw_for(c, vk[d], w.kern[d], inner, MLC_LOOP_SERIAL);
  inner = lw_for(c, vc, Cg, inner, MLC_LOOP_SERIAL);
  mlc_texpr_t *init = mlc_tx_const(k, ct, 0);
  if (bias)
    init = mlc_tx_cast(k, ct, lw_load_bcast(c, bias, &nest.idx[1], 1));
  mlc_tstmt_t *parts[3] = {
      mlc_ts_assign(k, acc, init), inner,
      lw_store_out(c, n, nest.idx, r, mlc_tx_var(k, acc))};
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, mlc_ts_block(k, 3, parts), false)))
    return lw_oom(c);
  int64_t taps = Cg;
  for (int d = 0; d < w.ns; d++) taps *= w.kern[d];
  k->flops += 2 * mlc_value_numel(y) * taps;
  return NULL;
}
