/* 2-D Conv with any group on the direct path: the depthwise convolutions
 * of MobileNet/EfficientNet (group == C, one input channel per output
 * channel), grouped convolutions, and any 2-D Conv that the gemm-layout
 * pass left as Conv.
 *
 * One tile per (n, output channel m, block of output rows), built with the
 * border-split nests of lower_window.c; a body computes R output rows at
 * one vector of output columns:
 *
 *   acc_r = bias[m] (or 0)                                 r < R
 *   for ci in [0, Cg)
 *     per row tap kh of the row run, column tap kw of the column run:
 *       [if (ow inside for kw)]                  (guarded column runs)
 *       acc_r = fma(X[n, g*Cg + ci, oh_r*sh - ph + kh*dh, ow*sw - pw + kw*dw],
 *                   W[m, ci, kh, kw], acc_r)                r < R
 *   Y[n, m, oh_r, ow] = epilogue(acc_r)                    (lw_store_out)
 *
 * with g = m / (M / group).  Each accumulator sees its taps in the order
 * ci, kh, kw; X loads are affine in ow, so the ow loop becomes vector
 * code with R accumulator vectors.  FMA is used where the target has it
 * (the choice is in the IR, so the interpreter computes the same bits).
 * Applies to 2-D float convolutions whose unrolled taps stay under
 * CONV_MAX_TAPS; others keep the generic kernel of lower_linalg.c.
 */
#include "passes/lower_internal.h"

enum { CONV_MAX_TAPS = 4096, CONV_ROWS = 6 };

typedef struct dwc {
  lw_ctx_t *c;
  const mlc_node_t *n;
  lw_win_t w;
  lw_win2d_t p;
  int64_t Cg, Mg, C, H, W;
  int bx, bw;
  mlc_dtype_t ct;
  bool fma;
} dwc_t;

static mlc_texpr_t *madd(dwc_t *s, mlc_texpr_t *a, mlc_texpr_t *b,
                         mlc_texpr_t *acc) {
  mlc_tkernel_t *k = s->c->k;
  if (s->fma) return mlc_tx_fma(k, a, b, acc);
  return mlc_tx_binary(k, MLC_TB_ADD, acc, mlc_tx_binary(k, MLC_TB_MUL, a, b));
}

/* X[n, g*Cg + ci, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw], g = m / Mg */
static mlc_texpr_t *load_x(dwc_t *s, mlc_texpr_t *ci, mlc_texpr_t *oh, int64_t kh,
                           mlc_texpr_t *ow, int64_t kw) {
  lw_ctx_t *c = s->c;
  mlc_tkernel_t *k = c->k;
  const lw_win_t *w = &s->w;
  mlc_texpr_t *g = mlc_tx_binary(k, MLC_TB_DIV, s->p.ch, mlc_tx_i64(k, s->Mg));
  mlc_texpr_t *plane = lw_add(c, lw_add(c, lw_mul_i(c, s->p.n, s->C),
                                        lw_mul_i(c, g, s->Cg)), ci);
  mlc_texpr_t *xrow = lw_add_i(c, lw_mul_i(c, oh, w->stride[0]), kh * w->dil[0] - w->pb[0]);
  mlc_texpr_t *xcol = lw_add_i(c, lw_mul_i(c, ow, w->stride[1]), kw * w->dil[1] - w->pb[1]);
  mlc_texpr_t *xi = lw_add(c, lw_mul_i(c, lw_add(c, lw_mul_i(c, plane, s->H), xrow), s->W),
                           xcol);
  return mlc_tx_cast(k, s->ct, mlc_tx_load(k, s->bx, xi));
}

/* W[m, ci, kh, kw] */
static mlc_texpr_t *load_w(dwc_t *s, mlc_texpr_t *ci, int64_t kh, int64_t kw) {
  lw_ctx_t *c = s->c;
  const lw_win_t *w = &s->w;
  mlc_texpr_t *mc = lw_add(c, lw_mul_i(c, s->p.ch, s->Cg), ci);
  mlc_texpr_t *wi = lw_add_i(c, lw_mul_i(c, mc, w->kern[0] * w->kern[1]),
                             kh * w->kern[1] + kw);
  return mlc_tx_cast(c->k, s->ct, mlc_tx_load(c->k, s->bw, wi));
}

/* One tap (kh, kw) for rows oh[0..nrow): acc[r] = madd(X, W, acc[r]). */
static mlc_tstmt_t *conv_tap(dwc_t *s, mlc_tvar_t **acc, mlc_texpr_t *ci,
                             mlc_texpr_t *const *oh, mlc_texpr_t *const *rcond,
                             int nrow, mlc_texpr_t *ow, int64_t kh, int64_t kw) {
  mlc_tkernel_t *k = s->c->k;
  mlc_texpr_t *wv = load_w(s, ci, kh, kw);
  mlc_tstmt_t *rows = mlc_ts_block(k, 0, NULL);
  for (int r = 0; r < nrow; r++) {
    mlc_texpr_t *xv = load_x(s, ci, oh[r], kh, ow, kw);
    mlc_tstmt_t *st = mlc_ts_assign(k, acc[r], madd(s, xv, wv, mlc_tx_var(k, acc[r])));
    if (rcond[r]) st = mlc_ts_if(k, rcond[r], st, NULL);
    if (!mlc_ts_block_append(k, rows, st)) return NULL;
  }
  return rows;
}

/* for ci in [0, Cg) { acc[r] = madd(X, W, acc[r]) per tap and row r }:
 * taps in the order kh, kw of the generic kernel, the rows interleaved
 * (independent chains).  A row tap outside the input for some rows of the
 * run is under an IF on oh (uniform across the vector), a column tap
 * likewise under one IF on ow for all rows (a masked load).  The channel
 * loop stays a loop even for Cg == 1: the backend widens loops that
 * contain a loop (codegen/llvm/widen.c). */
static mlc_tstmt_t *conv_taps(dwc_t *s, mlc_tvar_t **acc, mlc_texpr_t *const *oh,
                              int nrow, mlc_texpr_t *ow, const lw_run_t *rr,
                              const lw_run_t *cr) {
  lw_ctx_t *c = s->c;
  mlc_tkernel_t *k = c->k;
  mlc_tvar_t *v = lw_loopvar(c);
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  if (!v || !blk) return NULL;
  mlc_texpr_t *ci = mlc_tx_var(k, v), *rcond[LW_WIN_MAXRB], *none[LW_WIN_MAXRB] = {0};
  for (int64_t kh = 0; kh < s->w.kern[0]; kh++) {
    bool any = false;
    for (int r = 0; r < nrow; r++) {
      bool in = lw_win2d_tap(c, &s->p, 0, rr, kh, false, oh[r], &rcond[r]);
      if (!in) rcond[r] = mlc_tx_int(k, MLC_DT_BOOL, 0);
      any = any || in;
    }
    if (!any) continue;
    mlc_tstmt_t *row = mlc_ts_block(k, 0, NULL);
    for (int64_t kw = 0; kw < s->w.kern[1]; kw++) {
      mlc_texpr_t *cc;
      if (!lw_win2d_tap(c, &s->p, 1, cr, kw, false, ow, &cc)) continue;
      mlc_tstmt_t *t = conv_tap(s, acc, ci, oh, nrow == 1 ? none : rcond, nrow, ow, kh, kw);
      if (!mlc_ts_block_append(k, row, cc ? mlc_ts_if(k, cc, t, NULL) : t)) return NULL;
    }
    if (nrow == 1 && rcond[0]) row = mlc_ts_if(k, rcond[0], row, NULL);
    if (!mlc_ts_block_append(k, blk, row)) return NULL;
  }
  return lw_for(c, v, s->Cg, blk, MLC_LOOP_SERIAL);
}

static mlc_tstmt_t *conv_body(void *ctx, mlc_texpr_t *const *oh, int nrow,
                              mlc_texpr_t *ow, const lw_run_t *rr,
                              const lw_run_t *cr) {
  dwc_t *s = ctx;
  lw_ctx_t *c = s->c;
  mlc_tkernel_t *k = c->k;
  mlc_value_t *bias = s->n->ninputs > 2 ? s->n->inputs[2] : NULL;
  mlc_tvar_t *acc[LW_WIN_MAXRB];
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL), *fin = mlc_ts_block(k, 0, NULL);
  if (!blk || !fin) return NULL;
  for (int r = 0; r < nrow; r++) {
    if (!(acc[r] = mlc_tkernel_new_var(k, MLC_TV_LOCAL, s->ct, "acc"))) return NULL;
    mlc_texpr_t *init = mlc_tx_const(k, s->ct, 0);
    if (bias) init = mlc_tx_cast(k, s->ct, lw_load_bcast(c, bias, &s->p.ch, 1));
    mlc_texpr_t *idx[4] = {s->p.n, s->p.ch, oh[r], ow};
    if (!mlc_ts_block_append(k, blk, mlc_ts_assign(k, acc[r], init)) ||
        !mlc_ts_block_append(k, fin, lw_store_out(c, s->n, idx, 4, mlc_tx_var(k, acc[r]))))
      return NULL;
  }
  if (!mlc_ts_block_append(k, blk, conv_taps(s, acc, oh, nrow, ow, rr, cr)) ||
      !mlc_ts_block_append(k, blk, fin))
    return NULL;
  return blk;
}

/* Geometry of n; false if the kernel does not apply. */
static mlc_status_t *conv_setup(dwc_t *s, bool *ok) {
  lw_ctx_t *c = s->c;
  const mlc_node_t *n = s->n;
  mlc_value_t *x = n->inputs[0], *wv = n->inputs[1], *y = n->outputs[0];
  *ok = false;
  if (x->rank != 4 || wv->rank != 4 || y->rank != 4 || mlc_value_numel(y) == 0 ||
      !mlc_dtype_is_float(y->dtype))
    return NULL;
  int64_t grp = mlc_node_attr_int(n, "group", 1);
  int64_t M = wv->dims[0].value;
  s->C = x->dims[1].value;
  s->Cg = wv->dims[1].value;
  if (grp < 1 || s->C != s->Cg * grp || M % grp) return NULL; /* generic errs */
  s->Mg = M / grp;
  s->H = x->dims[2].value;
  s->W = x->dims[3].value;
  s->w.ns = 2;
  for (int i = 0; i < 2; i++) {
    s->w.in[i] = x->dims[2 + i].value;
    s->w.out[i] = y->dims[2 + i].value;
    s->w.kern[i] = wv->dims[2 + i].value;
  }
  MLC_RETURN_IF(lw_window(c, n, &s->w));
  *ok = lw_win2d_plan(&s->w, &s->p, lw_win_lanes(c, lw_compute_dt(y->dtype)),
                      CONV_ROWS, CONV_MAX_TAPS);
  return NULL;
}

mlc_status_t *lw_build_conv2d(lw_ctx_t *c, const mlc_node_t *n, bool *done) {
  dwc_t s = {.c = c, .n = n};
  MLC_RETURN_IF(conv_setup(&s, done));
  if (!*done) return NULL;
  mlc_value_t *y = n->outputs[0];
  s.ct = lw_compute_dt(y->dtype);
  s.fma = !c->target || c->target->has_fma;
  s.bx = lw_buf(c, n->inputs[0], false);
  s.bw = lw_buf(c, n->inputs[1], false);
  if (s.bx < 0 || s.bw < 0 ||
      !lw_win2d_grid(c, &s.w, &s.p, y->dims[0].value, y->dims[1].value) ||
      !lw_win2d_emit(c, &s.p, conv_body, &s))
    return lw_oom(c);
  c->k->flops += 2 * mlc_value_numel(y) * s.Cg * s.w.kern[0] * s.w.kern[1];
  return NULL;
}
