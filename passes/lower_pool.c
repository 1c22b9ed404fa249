/* 2-D MaxPool and AveragePool with the border-split nests of
 * lower_window.c.
 *
 * One tile per (n, channel, block of output rows); a body computes R
 * output rows at one vector of output columns and visits exactly the taps
 * inside the input, in the order kh, kw of the generic kernel
 * (lower_nn.c), so results are bit-identical to it:
 *
 *   MaxPool:     acc = -inf; acc = select(x > acc, x, acc) per tap
 *                (a NaN never replaces acc, as the generic `if (x > acc)`)
 *   AveragePool: acc = 0; acc = acc + x per tap; Y = acc / count
 *
 * The count is the row run's count (constant) times the columns' count: a
 * constant in the interior, a sum of 0/1 per column tap in guarded runs;
 * taps inside the input, or, with count_include_pad, inside input + pads
 * (a ceil_mode window hanging past the end pad does not count what hangs
 * over).  An empty window gives -inf (max) or 0/0 (average), like the
 * generic kernel.  MaxPool with an Indices output, integer dtypes, global
 * pools and other ranks keep the generic kernel.
 */
#include <math.h>

#include "passes/lower_internal.h"

enum { POOL_MAX_TAPS = 4096, POOL_ROWS = 2 };

typedef struct pool {
  lw_ctx_t *c;
  const mlc_node_t *n;
  lw_win_t w;
  lw_win2d_t p;
  int64_t C, H, W;
  int bx;
  mlc_dtype_t ct;
  bool is_max, incl;
} pool_t;

static mlc_texpr_t *tap_load(pool_t *s, mlc_texpr_t *oh, int64_t kh,
                             mlc_texpr_t *ow, int64_t kw) {
  lw_ctx_t *c = s->c;
  const lw_win_t *w = &s->w;
  mlc_texpr_t *plane = lw_add(c, lw_mul_i(c, s->p.n, s->C), s->p.ch);
  mlc_texpr_t *xrow = lw_add_i(c, lw_mul_i(c, oh, w->stride[0]), kh * w->dil[0] - w->pb[0]);
  mlc_texpr_t *xcol = lw_add_i(c, lw_mul_i(c, ow, w->stride[1]), kw * w->dil[1] - w->pb[1]);
  mlc_texpr_t *xi = lw_add(c, lw_mul_i(c, lw_add(c, lw_mul_i(c, plane, s->H), xrow), s->W),
                           xcol);
  return mlc_tx_cast(c->k, s->ct, mlc_tx_load(c->k, s->bx, xi));
}

static mlc_texpr_t *update(pool_t *s, mlc_tvar_t *acc, mlc_texpr_t *xv) {
  mlc_tkernel_t *k = s->c->k;
  mlc_texpr_t *a = mlc_tx_var(k, acc);
  if (!s->is_max) return mlc_tx_binary(k, MLC_TB_ADD, a, xv);
  return mlc_tx_select(k, mlc_tx_binary(k, MLC_TB_GT, xv, a), xv, mlc_tx_var(k, acc));
}

/* acc[r] = update(acc[r], X) per tap (order kh, kw) and row r; a row tap
 * outside the input for some rows of the run under an IF on oh, a column
 * tap likewise under one IF on ow for all rows; all inside a one-trip
 * loop: the backend widens loops that contain a loop
 * (codegen/llvm/widen.c), which makes the column IFs masked loads. */
static mlc_tstmt_t *pool_taps(pool_t *s, mlc_tvar_t **acc, mlc_texpr_t *const *oh,
                              int nrow, mlc_texpr_t *ow, const lw_run_t *rr,
                              const lw_run_t *cr) {
  lw_ctx_t *c = s->c;
  mlc_tkernel_t *k = c->k;
  mlc_tvar_t *v = lw_loopvar(c);
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  if (!v || !blk) return NULL;
  for (int64_t kh = 0; kh < s->w.kern[0]; kh++) {
    mlc_texpr_t *rcond[LW_WIN_MAXRB];
    bool in[LW_WIN_MAXRB], any = false;
    for (int r = 0; r < nrow; r++) {
      in[r] = lw_win2d_tap(c, &s->p, 0, rr, kh, false, oh[r], &rcond[r]);
      any = any || in[r];
    }
    if (!any) continue;
    mlc_tstmt_t *row = mlc_ts_block(k, 0, NULL);
    for (int64_t kw = 0; kw < s->w.kern[1]; kw++) {
      mlc_texpr_t *cc;
      if (!lw_win2d_tap(c, &s->p, 1, cr, kw, false, ow, &cc)) continue;
      mlc_tstmt_t *rows = mlc_ts_block(k, 0, NULL);
      for (int r = 0; r < nrow; r++) {
        if (!in[r]) continue;
        mlc_tstmt_t *st = mlc_ts_assign(k, acc[r], update(s, acc[r],
                                                          tap_load(s, oh[r], kh, ow, kw)));
        if (nrow > 1 && rcond[r]) st = mlc_ts_if(k, rcond[r], st, NULL);
        if (!mlc_ts_block_append(k, rows, st)) return NULL;
      }
      if (!mlc_ts_block_append(k, row, cc ? mlc_ts_if(k, cc, rows, NULL) : rows)) return NULL;
    }
    if (nrow == 1 && rcond[0]) row = mlc_ts_if(k, rcond[0], row, NULL);
    if (!mlc_ts_block_append(k, blk, row)) return NULL;
  }
  return lw_for(c, v, 1, blk, MLC_LOOP_SERIAL);
}

/* Taps of dim d inside the input (padded: input + pads) at output o of
 * run r: a constant, plus a 0/1 per tap that is only sometimes inside. */
static mlc_texpr_t *dim_count(pool_t *s, int d, const lw_run_t *r, mlc_texpr_t *o) {
  mlc_tkernel_t *k = s->c->k;
  int64_t fixed = 0;
  mlc_texpr_t *var = NULL, *one = mlc_tx_const(k, s->ct, 1), *zero = mlc_tx_const(k, s->ct, 0);
  for (int64_t t = 0; t < s->w.kern[d]; t++) {
    mlc_texpr_t *cond;
    if (!lw_win2d_tap(s->c, &s->p, d, r, t, s->incl, o, &cond)) continue;
    if (!cond) {
      fixed++;
      continue;
    }
    mlc_texpr_t *sel = mlc_tx_select(k, cond, one, zero);
    var = var ? mlc_tx_binary(k, MLC_TB_ADD, var, sel) : sel;
  }
  mlc_texpr_t *n = mlc_tx_const(k, s->ct, (double)fixed);
  return var ? mlc_tx_binary(k, MLC_TB_ADD, n, var) : n;
}

/* AveragePool's divisor: the rows' count times the columns' count, the
 * number of taps the generic kernel counts one by one (exact integers). */
static mlc_tstmt_t *pool_body(void *ctx, mlc_texpr_t *const *oh, int nrow,
                              mlc_texpr_t *ow, const lw_run_t *rr,
                              const lw_run_t *cr) {
  pool_t *s = ctx;
  lw_ctx_t *c = s->c;
  mlc_tkernel_t *k = c->k;
  mlc_tvar_t *acc[LW_WIN_MAXRB];
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL), *fin = mlc_ts_block(k, 0, NULL);
  if (!blk || !fin) return NULL;
  mlc_texpr_t *cols = s->is_max ? NULL : dim_count(s, 1, cr, ow);
  for (int r = 0; r < nrow; r++) {
    if (!(acc[r] = mlc_tkernel_new_var(k, MLC_TV_LOCAL, s->ct, "acc"))) return NULL;
    mlc_texpr_t *init = s->is_max ? mlc_tx_float(k, s->ct, -INFINITY)
                                  : mlc_tx_const(k, s->ct, 0);
    mlc_texpr_t *res = mlc_tx_var(k, acc[r]);
    if (cols)
      res = mlc_tx_binary(k, MLC_TB_DIV, res,
                          mlc_tx_binary(k, MLC_TB_MUL, dim_count(s, 0, rr, oh[r]), cols));
    mlc_texpr_t *idx[4] = {s->p.n, s->p.ch, oh[r], ow};
    if (!mlc_ts_block_append(k, blk, mlc_ts_assign(k, acc[r], init)) ||
        !mlc_ts_block_append(k, fin, lw_store_out(c, s->n, idx, 4, res)))
      return NULL;
  }
  if (!mlc_ts_block_append(k, blk, pool_taps(s, acc, oh, nrow, ow, rr, cr)) ||
      !mlc_ts_block_append(k, blk, fin))
    return NULL;
  return blk;
}

/* Geometry of n; *ok false if the kernel does not apply. */
static mlc_status_t *pool_setup(pool_t *s, bool *ok) {
  const mlc_node_t *n = s->n;
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  *ok = false;
  s->is_max = n->op == MLC_OP_MaxPool;
  if ((!s->is_max && n->op != MLC_OP_AveragePool) || x->rank != 4 || y->rank != 4 ||
      mlc_value_numel(y) == 0 || !mlc_dtype_is_float(y->dtype) ||
      (s->is_max && n->noutputs > 1 && n->outputs[1]))
    return NULL;
  const int64_t *ks;
  if (mlc_node_attr_ints(n, "kernel_shape", &ks) != 2) return NULL; /* generic errs */
  s->incl = mlc_node_attr_int(n, "count_include_pad", 0) != 0;
  s->C = x->dims[1].value;
  s->H = x->dims[2].value;
  s->W = x->dims[3].value;
  s->w.ns = 2;
  for (int i = 0; i < 2; i++) {
    s->w.in[i] = x->dims[2 + i].value;
    s->w.out[i] = y->dims[2 + i].value;
    s->w.kern[i] = ks[i];
  }
  MLC_RETURN_IF(lw_window(s->c, n, &s->w));
  *ok = lw_win2d_plan(&s->w, &s->p, lw_win_lanes(s->c, lw_compute_dt(y->dtype)),
                      POOL_ROWS, POOL_MAX_TAPS);
  return NULL;
}

mlc_status_t *lw_build_pool2d(lw_ctx_t *c, const mlc_node_t *n, bool *done) {
  pool_t s = {.c = c, .n = n};
  MLC_RETURN_IF(pool_setup(&s, done));
  if (!*done) return NULL;
  mlc_value_t *y = n->outputs[0];
  s.ct = lw_compute_dt(y->dtype);
  s.bx = lw_buf(c, n->inputs[0], false);
  if (s.bx < 0 || !lw_win2d_grid(c, &s.w, &s.p, y->dims[0].value, y->dims[1].value) ||
      !lw_win2d_emit(c, &s.p, pool_body, &s))
    return lw_oom(c);
  c->k->flops += mlc_value_numel(y) * s.w.kern[0] * s.w.kern[1];
  return NULL;
}
