/* Border-split loop nests for 2-D sliding-window kernels (depthwise and
 * grouped Conv in lower_dwconv.c, MaxPool/AveragePool in lower_pool.c).
 *
 * Shapes are static, so for each spatial dim the lowering knows, for every
 * output position o, which taps k of the window land inside the input
 * (0 <= o*stride - pad_begin + k*dilation < in): a contiguous range that
 * is the whole window in the interior and shrinks near the borders.
 *
 * Rows: lw_win_segments() cuts the output rows into runs with the same
 * row-tap range [k0, k1) (and the same range within input + pads, which
 * AveragePool's count_include_pad needs): typically one-row runs at each
 * border and one long interior run.  A body visits exactly its run's row
 * taps, so rows never need a guard.
 *
 * Columns (the vectorized dim): at most three runs, cut at multiples of
 * the vector width: a guarded run up to the first multiple at or after the
 * left border, the interior in whole vectors (every tap inside the input,
 * no guard), a guarded rest (the right border and the interior's last
 * partial vector); one guarded run when the interior holds no whole
 * vector (small planes).  In a guarded run, a column tap that is outside
 * the input for some columns of the run sits under an IF on ow
 * (lw_win2d_col_tap), which the backend turns into a masked load.
 *
 * lw_win2d_emit() writes one nest per (row run, column run):
 *
 *   grid [N, channels, row blocks]
 *   for ob in row blocks of the run within the tile           (serial)
 *     for ow in the column run                  (vectorize, lanes wide)
 *       body(oh = first + ob*R + r for r < R, ow)
 *   for oh in the run's remaining rows                        (serial)
 *     for ow in the column run                  (vectorize, lanes wide)
 *       body(oh, ow)
 *
 * R output rows per body give R independent accumulator chains (and, for
 * stride 1, input rows that LLVM loads once for several output rows); with
 * one tile of rows, R is chosen to divide the run so there is no
 * remainder loop.  Row blocks split planes larger than LW_WIN_TILE outputs
 * over the grid.  Every load inside a run is affine in ow (contiguous for
 * stride 1, a strided load otherwise).  The interpreter runs the same
 * statements, so the schedule is visible in --emit tile and exact.
 */
#include <string.h>

#include "passes/lower_internal.h"

enum { LW_WIN_TILE = 2048 };

/* Taps of dim d at output o inside [lo, hi) of the input coordinate. */
static void tap_range(const lw_win_t *w, int d, int64_t o, int64_t lo,
                      int64_t hi, int64_t *k0, int64_t *k1) {
  *k0 = *k1 = 0;
  bool seen = false;
  for (int64_t k = 0; k < w->kern[d]; k++) {
    int64_t x = o * w->stride[d] - w->pb[d] + k * w->dil[d];
    if (x < lo || x >= hi) continue;
    if (!seen) *k0 = k;
    seen = true;
    *k1 = k + 1;
  }
}

int lw_win_segments(const lw_win_t *w, int d, lw_seg_t *out, int max) {
  int n = 0;
  for (int64_t o = 0; o < w->out[d]; o++) {
    lw_seg_t s = {.o0 = o, .o1 = o + 1};
    tap_range(w, d, o, 0, w->in[d], &s.k0, &s.k1);
    tap_range(w, d, o, -w->pb[d], w->in[d] + w->pe[d], &s.p0, &s.p1);
    if (n > 0) {
      lw_seg_t *p = &out[n - 1];
      if (p->k0 == s.k0 && p->k1 == s.k1 && p->p0 == s.p0 && p->p1 == s.p1) {
        p->o1 = s.o1;
        continue;
      }
    }
    if (n == max) return -1;
    out[n++] = s;
  }
  return n;
}

int lw_win_lanes(const lw_ctx_t *c, mlc_dtype_t ct) {
  int bits = c->target && c->target->vector_bits ? c->target->vector_bits : 512;
  int esz = (int)mlc_dtype_size(ct), lanes = bits / 8 / (esz ? esz : 4);
  return lanes < 4 ? 4 : lanes;
}

/* Columns where column tap kw is inside [lo, hi) of the input coordinate:
 * [*c0, *c1), empty as 0, 0. */
static void tap_cols(const lw_win_t *w, int64_t kw, int64_t lo, int64_t hi,
                     int64_t *c0, int64_t *c1) {
  *c0 = *c1 = 0;
  bool seen = false;
  for (int64_t o = 0; o < w->out[1]; o++) {
    int64_t x = o * w->stride[1] - w->pb[1] + kw * w->dil[1];
    if (x < lo || x >= hi) continue;
    if (!seen) *c0 = o;
    seen = true;
    *c1 = o + 1;
  }
}

/* Column runs: a guarded first part up to a multiple of the lanes, the
 * interior in whole vectors, a guarded rest; one guarded run when the
 * interior holds no whole vector. */
static void col_runs(const lw_win_t *w, lw_win2d_t *p) {
  int64_t OW = w->out[1], a = 0, b = OW, L = p->lanes;
  for (int64_t kw = 0; kw < w->kern[1]; kw++) {
    tap_cols(w, kw, 0, w->in[1], &p->in_lo[kw], &p->in_hi[kw]);
    tap_cols(w, kw, -w->pb[1], w->in[1] + w->pe[1], &p->pad_lo[kw], &p->pad_hi[kw]);
    if (p->in_lo[kw] > a) a = p->in_lo[kw];
    if (p->in_hi[kw] < b) b = p->in_hi[kw];
  }
  int64_t c1 = (a + L - 1) / L * L, c2 = b > c1 ? c1 + (b - c1) / L * L : c1;
  p->nc = 0;
  if (c2 <= c1) {
    p->cols[p->nc++] = (lw_colrun_t){0, OW, true};
    return;
  }
  if (c1 > 0) p->cols[p->nc++] = (lw_colrun_t){0, c1, true};
  p->cols[p->nc++] = (lw_colrun_t){c1, c2, false};
  if (c2 < OW) p->cols[p->nc++] = (lw_colrun_t){c2, OW, true};
}

/* Column taps of run r that are inside the input somewhere in it. */
static int64_t run_taps(const lw_win_t *w, const lw_win2d_t *p, const lw_colrun_t *r) {
  int64_t n = 0;
  for (int64_t kw = 0; kw < w->kern[1]; kw++)
    n += p->in_lo[kw] < r->o1 && r->o0 < p->in_hi[kw];
  return n;
}

bool lw_win2d_plan(const lw_win_t *w, lw_win2d_t *p, int lanes, int rblk,
                   int64_t max_taps) {
  if (w->ns != 2 || w->kern[1] > LW_WIN_MAXK || w->out[1] < 1) return false;
  p->lanes = lanes;
  p->rblk = rblk < 1 ? 1 : rblk > LW_WIN_MAXRB ? LW_WIN_MAXRB : rblk;
  p->nr = lw_win_segments(w, 0, p->rows, LW_WIN_MAXSEG);
  if (p->nr < 1) return false;
  col_runs(w, p);
  int64_t taps = 0;
  for (int i = 0; i < p->nr; i++)
    for (int j = 0; j < p->nc; j++)
      taps += (p->rows[i].k1 - p->rows[i].k0) * run_taps(w, p, &p->cols[j]) *
              (p->rblk + 1);
  return taps <= max_taps;
}

bool lw_win2d_col_tap(lw_ctx_t *c, const lw_win2d_t *p, const lw_colrun_t *r,
                      int64_t kw, bool padded, mlc_texpr_t *ow,
                      mlc_texpr_t **cond) {
  mlc_tkernel_t *k = c->k;
  int64_t lo = padded ? p->pad_lo[kw] : p->in_lo[kw];
  int64_t hi = padded ? p->pad_hi[kw] : p->in_hi[kw];
  *cond = NULL;
  if (lo >= hi || hi <= r->o0 || lo >= r->o1) return false;
  if (lo > r->o0) *cond = mlc_tx_binary(k, MLC_TB_GE, ow, mlc_tx_i64(k, lo));
  if (hi < r->o1) {
    mlc_texpr_t *lt = mlc_tx_binary(k, MLC_TB_LT, ow, mlc_tx_i64(k, hi));
    *cond = *cond ? mlc_tx_binary(k, MLC_TB_AND, *cond, lt) : lt;
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
                             int nrow, const lw_seg_t *rs, const lw_colrun_t *cr,
                             lw_win2d_body_fn fn, void *ctx) {
  mlc_tkernel_t *k = c->k;
  mlc_tvar_t *vw = lw_loopvar(c);
  if (!vw) return NULL;
  mlc_tstmt_t *body = fn(ctx, oh, nrow, mlc_tx_var(k, vw), rs, cr);
  return mlc_ts_for(k, vw, mlc_tx_i64(k, cr->o0), mlc_tx_i64(k, cr->o1),
                    MLC_LOOP_VECTORIZE, p->lanes, body);
}

/* Rows per body for run rs: p->rblk, or with one tile of rows the largest
 * R in (rblk/2, rblk] that divides the run (no remainder loop); 1 for runs
 * shorter than a block. */
static int run_rows(const lw_win2d_t *p, const lw_seg_t *rs) {
  int64_t n = rs->o1 - rs->o0;
  if (n < p->rblk) return 1;
  if (p->single)
    for (int R = p->rblk; R > 1 && 2 * R > p->rblk; R--)
      if (n % R == 0) return R;
  return p->rblk;
}

/* Rows [b, e) of run rs in blocks of p->rblk rows, then one at a time:
 *   for ob in [0, (e-b)/R) { oh_r = b + ob*R + r ... }
 *   for oh in [b + (e-b)/R*R, e) { ... }
 * With one tile of rows the bounds are constants and empty loops are left
 * out. */
static mlc_tstmt_t *run_nest(lw_ctx_t *c, const lw_win2d_t *p, int i, int j,
                             lw_win2d_body_fn fn, void *ctx) {
  mlc_tkernel_t *k = c->k;
  const lw_seg_t *rs = &p->rows[i];
  const lw_colrun_t *cr = &p->cols[j];
  int R = run_rows(p, rs);
  mlc_texpr_t *b = mlc_tx_binary(k, MLC_TB_MAX, p->r0, mlc_tx_i64(k, rs->o0));
  mlc_texpr_t *e = mlc_tx_binary(k, MLC_TB_MIN, lw_add_i(c, p->r0, p->rb),
                                 mlc_tx_i64(k, rs->o1));
  mlc_tvar_t *vh = lw_loopvar(c), *vb = lw_loopvar(c);
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  if (!vh || !vb || !blk) return NULL;
  mlc_texpr_t *nb = mlc_tx_i64(k, 0), *oh = mlc_tx_var(k, vh);
  int64_t rows = p->single ? rs->o1 - rs->o0 : -1; /* -1: not static */
  if (R > 1) {
    nb = p->single ? mlc_tx_i64(k, rows / R)
                   : mlc_tx_binary(k, MLC_TB_DIV, mlc_tx_binary(k, MLC_TB_SUB, e, b),
                                   mlc_tx_i64(k, R));
    mlc_texpr_t *oh_r[LW_WIN_MAXRB];
    for (int r = 0; r < R; r++)
      oh_r[r] = lw_add_i(c, lw_add(c, b, lw_mul_i(c, mlc_tx_var(k, vb), R)), r);
    if (!mlc_ts_block_append(k, blk, mlc_ts_for(k, vb, mlc_tx_i64(k, 0), nb,
                                                 MLC_LOOP_SERIAL, 0,
                                                 col_loop(c, p, oh_r, R, rs, cr, fn, ctx))))
      return NULL;
  }
  if (rows >= 0 && R > 1 && rows % R == 0) return blk;
  mlc_tstmt_t *one = mlc_ts_for(k, vh, lw_add(c, b, lw_mul_i(c, nb, R)), e, MLC_LOOP_SERIAL,
                                0, col_loop(c, p, &oh, 1, rs, cr, fn, ctx));
  return mlc_ts_block_append(k, blk, one) ? blk : NULL;
}

bool lw_win2d_emit(lw_ctx_t *c, const lw_win2d_t *p, lw_win2d_body_fn fn,
                   void *ctx) {
  for (int i = 0; i < p->nr; i++)
    for (int j = 0; j < p->nc; j++)
      if (!lw_append(c, run_nest(c, p, i, j, fn, ctx))) return false;
  return true;
}
