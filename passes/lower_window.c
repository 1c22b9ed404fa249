/* Border-split loop nests for 2-D sliding-window kernels (depthwise and
 * grouped Conv in lower_dwconv.c, MaxPool/AveragePool in lower_pool.c).
 *
 * Shapes are static, so for each tap k of each spatial dim the lowering
 * knows the outputs o where it lands inside the input (0 <= o*stride -
 * pad_begin + k*dilation < in): a contiguous range [in_lo, in_hi) (and
 * [pad_lo, pad_hi) within input + pads, which AveragePool's
 * count_include_pad needs).  Their intersection is the interior, where
 * every tap is inside.  lw_win2d_tap() says whether a tap can be inside
 * somewhere in a run of outputs and, if only for part of it, gives the
 * condition on the output coordinate.
 *
 * Columns (the vectorized dim): at most three runs, cut at multiples of
 * the vector width: a guarded run up to the first multiple at or after the
 * left border, the interior in whole vectors (no guard), a guarded rest
 * (the right border and the interior's last partial vector); one guarded
 * run when the interior holds no whole vector (small planes).  A column
 * tap outside the input for part of a run sits under an IF on ow, which
 * the backend turns into a masked load.
 *
 * Rows: interior rows in blocks of R rows per body (R accumulator chains;
 * for stride 1, input rows that LLVM loads once for several output rows),
 * all other rows (borders, a tile's partial block) one at a time through a
 * body whose row taps are under IFs on oh (uniform across the vector: a
 * branch).  Per column run:
 *
 *   grid [N, channels, row blocks]
 *   for ob in [0, nb)                                        (serial)
 *     for ow in the column run               (vectorize, lanes wide)
 *       body(oh = b + ob*R + r for r < R, ow)     interior, no row IFs
 *   for oh in the tile's rows                                (serial)
 *     if (oh not in [b, b + nb*R))
 *       for ow in the column run             (vectorize, lanes wide)
 *         body(oh, ow)                                 row taps guarded
 *
 * With one tile of rows R is chosen to divide the interior.  Row blocks
 * split planes larger than LW_WIN_TILE outputs over the grid.  Every load
 * is affine in ow (contiguous for stride 1, a strided load otherwise).
 * The interpreter runs the same statements, so the schedule is visible in
 * --emit tile and exact.
 */
#include "passes/lower_internal.h"

enum { LW_WIN_TILE = 2048 };

int lw_win_lanes(const lw_ctx_t *c, mlc_dtype_t ct) {
  int bits = c->target && c->target->vector_bits ? c->target->vector_bits : 512;
  int esz = (int)mlc_dtype_size(ct), lanes = bits / 8 / (esz ? esz : 4);
  return lanes < 4 ? 4 : lanes;
}

/* Outputs of dim d where tap k is inside [lo, hi) of the input coordinate:
 * [*o0, *o1), empty as 0, 0. */
static void tap_outs(const lw_win_t *w, int d, int64_t k, int64_t lo, int64_t hi,
                     int64_t *o0, int64_t *o1) {
  *o0 = *o1 = 0;
  bool seen = false;
  for (int64_t o = 0; o < w->out[d]; o++) {
    int64_t x = o * w->stride[d] - w->pb[d] + k * w->dil[d];
    if (x < lo || x >= hi) continue;
    if (!seen) *o0 = o;
    seen = true;
    *o1 = o + 1;
  }
}

/* Per-tap ranges of dim d and its interior [lo, hi) (empty: lo >= hi). */
static void dim_plan(const lw_win_t *w, int d, lw_wdim_t *q) {
  q->lo = 0;
  q->hi = w->out[d];
  for (int64_t k = 0; k < w->kern[d]; k++) {
    tap_outs(w, d, k, 0, w->in[d], &q->in_lo[k], &q->in_hi[k]);
    tap_outs(w, d, k, -w->pb[d], w->in[d] + w->pe[d], &q->pad_lo[k], &q->pad_hi[k]);
    if (q->in_lo[k] > q->lo) q->lo = q->in_lo[k];
    if (q->in_hi[k] < q->hi) q->hi = q->in_hi[k];
  }
}

/* Column runs: a guarded first part up to a multiple of the lanes, the
 * interior in whole vectors, a guarded rest; one run when the interior
 * holds no whole vector. */
static void col_runs(const lw_win_t *w, lw_win2d_t *p) {
  int64_t OW = w->out[1], a = p->dim[1].lo, b = p->dim[1].hi, L = p->lanes;
  int64_t c1 = (a + L - 1) / L * L, c2 = b > c1 ? c1 + (b - c1) / L * L : c1;
  p->nc = 0;
  if (c2 <= c1) {
    p->cols[p->nc++] = (lw_run_t){0, OW};
    return;
  }
  if (c1 > 0) p->cols[p->nc++] = (lw_run_t){0, c1};
  p->cols[p->nc++] = (lw_run_t){c1, c2};
  if (c2 < OW) p->cols[p->nc++] = (lw_run_t){c2, OW};
}

/* Taps of dim d inside the input somewhere in run r. */
static int64_t run_taps(const lw_win_t *w, const lw_win2d_t *p, int d, const lw_run_t *r) {
  int64_t n = 0;
  for (int64_t k = 0; k < w->kern[d]; k++)
    n += p->dim[d].in_lo[k] < r->o1 && r->o0 < p->dim[d].in_hi[k];
  return n;
}

/* Rows per blocked body: rblk, or with one tile of rows the largest R in
 * (rblk/2, rblk] that divides the interior; 0 when the interior is
 * shorter than a block. */
static int block_rows(const lw_win2d_t *p) {
  int64_t n = p->rows_in.o1 - p->rows_in.o0;
  if (p->rblk < 2 || n < p->rblk) return 0;
  if (p->single)
    for (int R = p->rblk; 2 * R > p->rblk; R--)
      if (n % R == 0) return R;
  return p->rblk;
}

bool lw_win2d_plan(const lw_win_t *w, lw_win2d_t *p, int lanes, int rblk,
                   int64_t max_taps) {
  if (w->ns != 2 || w->kern[0] > LW_WIN_MAXK || w->kern[1] > LW_WIN_MAXK ||
      w->out[0] < 1 || w->out[1] < 1)
    return false;
  p->lanes = lanes;
  p->rblk = rblk < 1 ? 1 : rblk > LW_WIN_MAXRB ? LW_WIN_MAXRB : rblk;
  dim_plan(w, 0, &p->dim[0]);
  dim_plan(w, 1, &p->dim[1]);
  col_runs(w, p);
  p->rows_all = (lw_run_t){0, w->out[0]};
  p->rows_in = p->dim[0].lo < p->dim[0].hi ? (lw_run_t){p->dim[0].lo, p->dim[0].hi}
                                           : (lw_run_t){0, 0};
  int64_t taps = 0, rows = run_taps(w, p, 0, &p->rows_all);
  for (int j = 0; j < p->nc; j++)
    taps += rows * run_taps(w, p, 1, &p->cols[j]) * (p->rblk + 1);
  return taps <= max_taps;
}

bool lw_win2d_tap(lw_ctx_t *c, const lw_win2d_t *p, int d, const lw_run_t *r,
                  int64_t k, bool padded, mlc_texpr_t *o, mlc_texpr_t **cond) {
  mlc_tkernel_t *mk = c->k;
  const lw_wdim_t *q = &p->dim[d];
  int64_t lo = padded ? q->pad_lo[k] : q->in_lo[k], hi = padded ? q->pad_hi[k] : q->in_hi[k];
  *cond = NULL;
  if (lo >= hi || hi <= r->o0 || lo >= r->o1) return false;
  if (lo > r->o0) *cond = mlc_tx_binary(mk, MLC_TB_GE, o, mlc_tx_i64(mk, lo));
  if (hi < r->o1) {
    mlc_texpr_t *lt = mlc_tx_binary(mk, MLC_TB_LT, o, mlc_tx_i64(mk, hi));
    *cond = *cond ? mlc_tx_binary(mk, MLC_TB_AND, *cond, lt) : lt;
  }
  return true;
}

bool lw_win2d_grid(lw_ctx_t *c, const lw_win_t *w, lw_win2d_t *p, int64_t N,
                   int64_t C) {
  mlc_tkernel_t *k = c->k;
  int64_t OH = w->out[0], OW = w->out[1];
  int64_t nblk = OH * OW / LW_WIN_TILE;
  if (nblk < 1) nblk = 1;
  p->rb = (OH + nblk - 1) / nblk;
  p->rb = (p->rb + p->rblk - 1) / p->rblk * p->rblk;
  nblk = (OH + p->rb - 1) / p->rb;
  mlc_tvar_t *gn = mlc_tkernel_add_grid(k, N), *gc = mlc_tkernel_add_grid(k, C);
  if (!gn || !gc) return false;
  p->n = mlc_tx_var(k, gn);
  p->ch = mlc_tx_var(k, gc);
  p->r0 = mlc_tx_i64(k, 0);
  p->single = nblk == 1;
  if (nblk > 1) {
    mlc_tvar_t *gr = mlc_tkernel_add_grid(k, nblk);
    p->r0 = gr ? lw_mul_i(c, mlc_tx_var(k, gr), p->rb) : NULL;
  }
  return p->n && p->ch && p->r0;
}

/* for ow in run cr { body(rows oh[0..nrow)) } */
static mlc_tstmt_t *col_loop(lw_ctx_t *c, const lw_win2d_t *p, mlc_texpr_t **oh,
                             int nrow, const lw_run_t *rr, const lw_run_t *cr,
                             lw_win2d_body_fn fn, void *ctx) {
  mlc_tkernel_t *k = c->k;
  mlc_tvar_t *vw = lw_loopvar(c);
  if (!vw) return NULL;
  mlc_tstmt_t *body = fn(ctx, oh, nrow, mlc_tx_var(k, vw), rr, cr);
  return mlc_ts_for(k, vw, mlc_tx_i64(k, cr->o0), mlc_tx_i64(k, cr->o1),
                    MLC_LOOP_VECTORIZE, p->lanes, body);
}

/* Column run j over the tile's rows [r0, r1):
 *   for ob in [0, nb) { body(interior rows b + ob*R + r, r < R) }
 *   for oh in [r0, r1) { if (oh outside [b, b + nb*R)) body(oh) }
 * where b = max(r0, interior start) and nb the whole blocks of the
 * interior within the tile; the second body guards each row tap. */
static mlc_tstmt_t *run_nest(lw_ctx_t *c, const lw_win2d_t *p, int j,
                             lw_win2d_body_fn fn, void *ctx) {
  mlc_tkernel_t *k = c->k;
  const lw_run_t *cr = &p->cols[j];
  int R = block_rows(p);
  mlc_texpr_t *r1 = mlc_tx_binary(k, MLC_TB_MIN, lw_add_i(c, p->r0, p->rb),
                                  mlc_tx_i64(k, p->rows_all.o1));
  mlc_tvar_t *vh = lw_loopvar(c), *vb = lw_loopvar(c);
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  if (!vh || !vb || !blk) return NULL;
  mlc_texpr_t *oh = mlc_tx_var(k, vh);
  mlc_tstmt_t *one = col_loop(c, p, &oh, 1, &p->rows_all, cr, fn, ctx);
  if (R > 0) {
    mlc_texpr_t *b = mlc_tx_binary(k, MLC_TB_MAX, p->r0, mlc_tx_i64(k, p->rows_in.o0));
    mlc_texpr_t *e = mlc_tx_binary(k, MLC_TB_MIN, r1, mlc_tx_i64(k, p->rows_in.o1));
    mlc_texpr_t *nb = mlc_tx_binary(k, MLC_TB_MAX, mlc_tx_i64(k, 0),
                                    mlc_tx_binary(k, MLC_TB_DIV, mlc_tx_binary(k, MLC_TB_SUB, e, b),
                                                  mlc_tx_i64(k, R)));
    mlc_texpr_t *oh_r[LW_WIN_MAXRB];
    for (int r = 0; r < R; r++)
      oh_r[r] = lw_add_i(c, lw_add(c, b, lw_mul_i(c, mlc_tx_var(k, vb), R)), r);
    if (!mlc_ts_block_append(k, blk, mlc_ts_for(k, vb, mlc_tx_i64(k, 0), nb, MLC_LOOP_SERIAL, 0,
                                                 col_loop(c, p, oh_r, R, &p->rows_in, cr, fn, ctx))))
      return NULL;
    mlc_texpr_t *outside = mlc_tx_binary(
        k, MLC_TB_OR, mlc_tx_binary(k, MLC_TB_LT, oh, b),
        mlc_tx_binary(k, MLC_TB_GE, oh, lw_add(c, b, lw_mul_i(c, nb, R))));
    one = mlc_ts_if(k, outside, one, NULL);
  }
  return mlc_ts_block_append(k, blk, mlc_ts_for(k, vh, p->r0, r1, MLC_LOOP_SERIAL, 0, one))
             ? blk : NULL;
}

bool lw_win2d_emit(lw_ctx_t *c, const lw_win2d_t *p, lw_win2d_body_fn fn,
                   void *ctx) {
  for (int j = 0; j < p->nc; j++)
    if (!lw_append(c, run_nest(c, p, j, fn, ctx))) return false;
  return true;
}
