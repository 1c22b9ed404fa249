/* Row reductions: Softmax/LogSoftmax, LayerNormalization, the global pools
 * (a row per (n, c)) and Reduce* when
 * the reduced dims are a trailing suffix of the input, so that each output
 * row (or statistic) reduces `len` contiguous elements at `row * len`.
 *
 * A reduction over a row has a fixed lane order, written out in the IR so
 * that the interpreter defines it and a vectorizing backend reproduces it
 * bit for bit: W partial accumulators (W = the lanes of LANE_VECTORS of
 * the target's vectors for the compute dtype, at most 64, halved while it
 * exceeds len), lane l taking elements l, l + W, l + 2W, ... in order:
 *
 *   for l in [0, W) vectorize(W) {          -- one vector of partials
 *     part = init
 *     for t in [0, len / W) part = op(part, elem(t * W + l))
 *     if (l < len % W) part = op(part, elem(len / W * W + l))
 *     scratch[l] = part                     -- a local buffer
 *   }
 *   for h in W/2, W/4, ..., 1:              -- a fixed pairwise tree
 *     for l in [0, h) vectorize  scratch[l] = op(scratch[l], scratch[l + h])
 *   acc = scratch[0]
 *
 * The lanes loop contains a loop, so the LLVM backend widens it
 * (codegen/llvm/widen.c): `part` becomes one <W x T> register, the
 * remainder a masked step (LLVM splits a 64-lane vector into 4 registers:
 * 4 independent chains).  Partials leave the widened loop through the
 * tile-private local buffer, since its locals cannot be read after it.
 * Elementwise passes (softmax's scale, layer norm's normalise) are plain
 * vectorized loops over the row.  Rows go to the grid, several per tile
 * when they are short, so threads split them.
 */
#include "passes/lower_internal.h"

/* Elements a tile should cover (rows are grouped up to this much work);
 * vectors of partials (independent add chains, hiding the latency of the
 * vector add: 4 measured 20% faster than 1 on LayerNorm 128x768). */
enum { ROWS_TILE_WORK = 4096, LANE_VECTORS = 4 };

typedef struct rows {
  lw_ctx_t *c;
  int64_t rows, len;
  int W;             /* partial accumulators (lanes) */
  int sbuf;          /* local scratch buffer of W elements */
  mlc_dtype_t ct;    /* compute dtype */
  mlc_tvar_t *row;   /* the row loop's variable */
  mlc_texpr_t *base; /* row * len */
} rows_t;

/* The value of row element `j` (an i64 expr in [0, len)); may set *side to
 * a statement that runs before the value is accumulated. */
typedef mlc_texpr_t *(*elem_fn)(rows_t *r, const void *ud, mlc_texpr_t *j,
                                mlc_tstmt_t **side);

static mlc_texpr_t *bin(rows_t *r, mlc_tbinop_t op, mlc_texpr_t *a, mlc_texpr_t *b) {
  return mlc_tx_binary(r->c->k, op, a, b);
}
static mlc_texpr_t *var(rows_t *r, mlc_tvar_t *v) { return mlc_tx_var(r->c->k, v); }
static mlc_texpr_t *kf(rows_t *r, double v) { return mlc_tx_const(r->c->k, r->ct, v); }
static mlc_texpr_t *ki(rows_t *r, int64_t v) { return mlc_tx_i64(r->c->k, v); }
static mlc_texpr_t *at(rows_t *r, mlc_texpr_t *j) { return lw_add(r->c, r->base, j); }

/* Loads value `v` (row-major like x, or one element) at row element j, in
 * the compute dtype. */
static mlc_texpr_t *load_ct(rows_t *r, mlc_value_t *v, mlc_texpr_t *j) {
  int b = lw_buf(r->c, v, false);
  if (b < 0) return NULL;
  int64_t n = mlc_value_numel(v);
  mlc_texpr_t *idx = n == 1 ? ki(r, 0) : n == r->len ? j : at(r, j);
  return mlc_tx_cast(r->c->k, r->ct, mlc_tx_load(r->c->k, b, idx));
}

static int lanes_for(const lw_ctx_t *c, mlc_dtype_t ct, int64_t len) {
  int bits = c->target && c->target->vector_bits ? c->target->vector_bits : 512;
  int esz = (int)mlc_dtype_size(ct);
  int w = LANE_VECTORS * bits / 8 / (esz > 0 ? esz : 4);
  if (w > 64) w = 64;
  while (w > 1 && w > len) w /= 2;
  return w < 1 ? 1 : w;
}

static bool rows_init(rows_t *r, lw_ctx_t *c, int64_t rows, int64_t len,
                      mlc_dtype_t ct) {
  *r = (rows_t){.c = c, .rows = rows, .len = len, .ct = ct};
  r->W = lanes_for(c, ct, len);
  r->sbuf = lw_local(c, "part", ct, r->W);
  r->row = lw_loopvar(c);
  r->base = r->row ? lw_mul_i(c, mlc_tx_var(c->k, r->row), len) : NULL;
  return r->sbuf >= 0 && r->base;
}

/* part = op(part, elem(j)), after elem's side statement if any. */
static mlc_tstmt_t *accumulate(rows_t *r, mlc_tvar_t *part, mlc_tbinop_t op,
                               elem_fn f, const void *ud, mlc_texpr_t *j) {
  mlc_tstmt_t *side = NULL;
  mlc_texpr_t *v = f(r, ud, j, &side);
  mlc_tstmt_t *upd = mlc_ts_assign(r->c->k, part, bin(r, op, var(r, part), v));
  if (!side) return upd;
  mlc_tstmt_t *two[2] = {side, upd};
  return mlc_ts_block(r->c->k, 2, two);
}

/* The lanes loop: scratch[l] = the partial of lane l. */
static mlc_tstmt_t *lanes_loop(rows_t *r, mlc_tbinop_t op, mlc_texpr_t *init,
                               elem_fn f, const void *ud) {
  mlc_tkernel_t *k = r->c->k;
  mlc_tvar_t *l = lw_loopvar(r->c), *t = lw_loopvar(r->c);
  mlc_tvar_t *part = mlc_tkernel_new_var(k, MLC_TV_LOCAL, r->ct, "part");
  if (!l || !t || !part) return NULL;
  int64_t nfull = r->len / r->W, rem = r->len % r->W;
  mlc_texpr_t *lv = var(r, l);
  mlc_texpr_t *jt = lw_add(r->c, lw_mul_i(r->c, var(r, t), r->W), lv);
  mlc_tstmt_t *body = mlc_ts_block(k, 0, NULL);
  bool ok = mlc_ts_block_append(k, body, mlc_ts_assign(k, part, init)) &&
            mlc_ts_block_append(k, body, lw_for(r->c, t, nfull, accumulate(r, part, op, f, ud, jt),
                                                MLC_LOOP_SERIAL));
  if (ok && rem) {
    mlc_texpr_t *jr = lw_add_i(r->c, lv, nfull * r->W);
    ok = mlc_ts_block_append(k, body, mlc_ts_if(k, bin(r, MLC_TB_LT, lv, ki(r, rem)),
                                                 accumulate(r, part, op, f, ud, jr), NULL));
  }
  ok = ok && mlc_ts_block_append(k, body, mlc_ts_store(k, r->sbuf, lv, var(r, part)));
  return ok ? mlc_ts_for(k, l, ki(r, 0), ki(r, r->W), MLC_LOOP_VECTORIZE, r->W, body) : NULL;
}

/* The pairwise tree over scratch, then acc = scratch[0]. */
static bool tree(rows_t *r, mlc_tstmt_t *blk, mlc_tbinop_t op, mlc_tvar_t *acc) {
  mlc_tkernel_t *k = r->c->k;
  for (int h = r->W / 2; h >= 1; h /= 2) {
    mlc_tvar_t *l = lw_loopvar(r->c);
    if (!l) return false;
    mlc_texpr_t *a = mlc_tx_load(k, r->sbuf, var(r, l));
    mlc_texpr_t *b = mlc_tx_load(k, r->sbuf, lw_add_i(r->c, var(r, l), h));
    mlc_tstmt_t *s = mlc_ts_store(k, r->sbuf, var(r, l), bin(r, op, a, b));
    if (!mlc_ts_block_append(k, blk, lw_for(r->c, l, h, s, MLC_LOOP_VECTORIZE)))
      return false;
  }
  return mlc_ts_block_append(k, blk, mlc_ts_assign(k, acc, mlc_tx_load(k, r->sbuf, ki(r, 0))));
}

/* Appends acc = the op-reduction of elem over the row to `blk`. */
static bool reduce_row(rows_t *r, mlc_tstmt_t *blk, mlc_tbinop_t op, mlc_texpr_t *init,
                       elem_fn f, const void *ud, mlc_tvar_t *acc) {
  return acc && mlc_ts_block_append(r->c->k, blk, lanes_loop(r, op, init, f, ud)) &&
         tree(r, blk, op, acc);
}

/* Appends `for j in [0, len) vectorize: store(j)` where store builds the
 * statement for element j. */
static bool row_pass(rows_t *r, mlc_tstmt_t *blk, mlc_tstmt_t *(*store)(rows_t *, const void *, mlc_texpr_t *),
                     const void *ud) {
  mlc_tvar_t *j = lw_loopvar(r->c);
  return j && mlc_ts_block_append(r->c->k, blk, lw_for(r->c, j, r->len, store(r, ud, var(r, j)),
                                                        MLC_LOOP_VECTORIZE));
}

/* Wraps the per-row block in the row loop (rows grouped into tiles on the
 * grid) and appends it to the kernel. */
static bool rows_finish(rows_t *r, mlc_tstmt_t *blk) {
  lw_ctx_t *c = r->c;
  int64_t rpt = (ROWS_TILE_WORK + r->len - 1) / r->len;
  if (rpt > r->rows) rpt = r->rows;
  int64_t ntiles = (r->rows + rpt - 1) / rpt;
  mlc_texpr_t *b = ki(r, 0), *e = ki(r, r->rows);
  if (ntiles > 1) {
    mlc_tvar_t *g = mlc_tkernel_add_grid(c->k, ntiles);
    if (!g) return false;
    b = lw_mul_i(c, mlc_tx_var(c->k, g), rpt);
    e = bin(r, MLC_TB_MIN, lw_add_i(c, b, rpt), ki(r, r->rows));
  }
  return lw_append(c, mlc_ts_for(c->k, r->row, b, e, MLC_LOOP_SERIAL, 0, blk));
}

/* ---- Softmax / LogSoftmax ---- */

typedef struct smax {
  mlc_value_t *x, *y;
  int by;
  mlc_tvar_t *mx, *sum, *fin; /* fin: 1 / sum, or log(sum) */
  bool keep_exp;              /* the exp pass leaves exp(x - max) in y */
} smax_t;

static mlc_texpr_t *sm_x(rows_t *r, const void *ud, mlc_texpr_t *j, mlc_tstmt_t **side) {
  (void)side;
  return load_ct(r, ((const smax_t *)ud)->x, j);
}

static mlc_texpr_t *sm_exp(rows_t *r, const void *ud, mlc_texpr_t *j, mlc_tstmt_t **side) {
  const smax_t *s = ud;
  mlc_texpr_t *e = mlc_tx_unary(r->c->k, MLC_TU_EXP, bin(r, MLC_TB_SUB, load_ct(r, s->x, j), var(r, s->mx)));
  if (!s->keep_exp) return e;
  *side = mlc_ts_store(r->c->k, s->by, at(r, j), e);
  return mlc_tx_load(r->c->k, s->by, at(r, j));
}

static mlc_tstmt_t *sm_store(rows_t *r, const void *ud, mlc_texpr_t *j) {
  const smax_t *s = ud;
  mlc_tkernel_t *k = r->c->k;
  mlc_texpr_t *v;
  if (s->keep_exp) v = mlc_tx_load(k, s->by, at(r, j));
  else v = bin(r, MLC_TB_SUB, load_ct(r, s->x, j), var(r, s->mx));
  if (s->fin == s->sum) { /* LogSoftmax: (x - max) - log(sum) */
    v = bin(r, MLC_TB_SUB, v, mlc_tx_unary(k, MLC_TU_LOG, var(r, s->sum)));
  } else {
    if (!s->keep_exp) v = mlc_tx_unary(k, MLC_TU_EXP, v);
    v = bin(r, MLC_TB_MUL, v, var(r, s->fin));
  }
  return mlc_ts_store(k, s->by, at(r, j), mlc_tx_cast(k, s->y->dtype, v));
}

mlc_status_t *lw_rows_softmax(lw_ctx_t *c, const mlc_node_t *n, int64_t len) {
  mlc_tkernel_t *k = c->k;
  mlc_dtype_t ct = lw_compute_dt(n->inputs[0]->dtype);
  smax_t s = {.x = n->inputs[0], .y = n->outputs[0]};
  bool logsm = n->op == MLC_OP_LogSoftmax;
  s.keep_exp = !logsm && s.y->dtype == ct;
  s.by = lw_buf(c, s.y, true);
  s.mx = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "max");
  s.sum = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "sum");
  s.fin = logsm ? s.sum : mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "inv");
  rows_t r;
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  if (s.by < 0 || !s.fin || !blk || !rows_init(&r, c, mlc_value_numel(s.x) / len, len, ct) ||
      !reduce_row(&r, blk, MLC_TB_MAX, lw_lowest(c, ct, true), sm_x, &s, s.mx) ||
      !reduce_row(&r, blk, MLC_TB_ADD, kf(&r, 0), sm_exp, &s, s.sum) ||
      (!logsm && !mlc_ts_block_append(k, blk, mlc_ts_assign(k, s.fin, bin(&r, MLC_TB_DIV, kf(&r, 1), var(&r, s.sum))))) ||
      !row_pass(&r, blk, sm_store, &s) || !rows_finish(&r, blk))
    return lw_oom(c);
  k->flops += 5 * mlc_value_numel(s.x);
  return NULL;
}

/* ---- LayerNormalization ---- */

typedef struct lnorm {
  mlc_value_t *x, *y, *scale, *bias;
  int by;
  mlc_tvar_t *mean, *inv;
} lnorm_t;

static mlc_texpr_t *ln_x(rows_t *r, const void *ud, mlc_texpr_t *j, mlc_tstmt_t **side) {
  (void)side;
  return load_ct(r, ((const lnorm_t *)ud)->x, j);
}

static mlc_texpr_t *ln_sq(rows_t *r, const void *ud, mlc_texpr_t *j, mlc_tstmt_t **side) {
  (void)side;
  const lnorm_t *s = ud;
  mlc_texpr_t *d = bin(r, MLC_TB_SUB, load_ct(r, s->x, j), var(r, s->mean));
  return bin(r, MLC_TB_MUL, d, d);
}

static mlc_tstmt_t *ln_store(rows_t *r, const void *ud, mlc_texpr_t *j) {
  const lnorm_t *s = ud;
  mlc_texpr_t *v = bin(r, MLC_TB_MUL, bin(r, MLC_TB_SUB, load_ct(r, s->x, j), var(r, s->mean)),
                       var(r, s->inv));
  if (s->scale) v = bin(r, MLC_TB_MUL, v, load_ct(r, s->scale, j));
  if (s->bias) v = bin(r, MLC_TB_ADD, v, load_ct(r, s->bias, j));
  return mlc_ts_store(r->c->k, s->by, at(r, j), mlc_tx_cast(r->c->k, s->y->dtype, v));
}

/* Mean / InvStdDev outputs, one element per row. */
static bool ln_stat(rows_t *r, mlc_tstmt_t *blk, const mlc_node_t *n, int i, mlc_tvar_t *v) {
  if (n->noutputs <= i || !n->outputs[i] || n->outputs[i]->flags & MLC_VALUE_FUSED) return true;
  mlc_value_t *o = n->outputs[i];
  int b = lw_buf(r->c, o, true);
  return b >= 0 && mlc_ts_block_append(r->c->k, blk, mlc_ts_store(r->c->k, b, var(r, r->row),
                                                                mlc_tx_cast(r->c->k, o->dtype, var(r, v))));
}

mlc_status_t *lw_rows_layernorm(lw_ctx_t *c, const mlc_node_t *n, int64_t len, double eps) {
  mlc_tkernel_t *k = c->k;
  lnorm_t s = {.x = n->inputs[0], .y = n->outputs[0],
               .scale = n->ninputs > 1 ? n->inputs[1] : NULL,
               .bias = n->ninputs > 2 ? n->inputs[2] : NULL};
  mlc_dtype_t ct = s.x->dtype == MLC_DT_F64 ? MLC_DT_F64 : MLC_DT_F32;
  s.by = lw_buf(c, s.y, true);
  s.mean = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "mean");
  s.inv = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "var");
  rows_t r;
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  if (s.by < 0 || !s.mean || !s.inv || !blk || !rows_init(&r, c, mlc_value_numel(s.x) / len, len, ct) ||
      !reduce_row(&r, blk, MLC_TB_ADD, kf(&r, 0), ln_x, &s, s.mean) ||
      !mlc_ts_block_append(k, blk, mlc_ts_assign(k, s.mean, bin(&r, MLC_TB_DIV, var(&r, s.mean), kf(&r, (double)len)))) ||
      !reduce_row(&r, blk, MLC_TB_ADD, kf(&r, 0), ln_sq, &s, s.inv))
    return lw_oom(c);
  /* inv = 1 / sqrt(sum of squares / len + eps) */
  mlc_texpr_t *v = bin(&r, MLC_TB_ADD, bin(&r, MLC_TB_DIV, var(&r, s.inv), kf(&r, (double)len)), kf(&r, eps));
  v = bin(&r, MLC_TB_DIV, kf(&r, 1), mlc_tx_unary(k, MLC_TU_SQRT, v));
  if (!mlc_ts_block_append(k, blk, mlc_ts_assign(k, s.inv, v)) || !row_pass(&r, blk, ln_store, &s) ||
      !ln_stat(&r, blk, n, 1, s.mean) || !ln_stat(&r, blk, n, 2, s.inv) || !rows_finish(&r, blk))
    return lw_oom(c);
  k->flops += 8 * mlc_value_numel(s.x);
  return NULL;
}

/* ---- Reduce* ---- */

static mlc_texpr_t *red_x(rows_t *r, const void *ud, mlc_texpr_t *j, mlc_tstmt_t **side) {
  (void)side;
  return load_ct(r, (mlc_value_t *)ud, j);
}

mlc_status_t *lw_rows_reduce(lw_ctx_t *c, const mlc_node_t *n, int64_t len) {
  mlc_tkernel_t *k = c->k;
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  mlc_dtype_t ct = lw_compute_dt(y->dtype);
  mlc_tbinop_t op = MLC_TB_ADD;
  rows_t r;
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "acc");
  int by = lw_buf(c, y, true);
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  if (!acc || by < 0 || !blk || !rows_init(&r, c, mlc_value_numel(x) / len, len, ct))
    return lw_oom(c);
  mlc_texpr_t *init = kf(&r, 0);
  switch (n->op) {
  case MLC_OP_ReduceMax: case MLC_OP_GlobalMaxPool:
    op = MLC_TB_MAX;
    init = lw_lowest(c, ct, true);
    break;
  case MLC_OP_ReduceMin: op = MLC_TB_MIN; init = lw_lowest(c, ct, false); break;
  case MLC_OP_ReduceProd: op = MLC_TB_MUL; init = kf(&r, 1); break;
  default: break;
  }
  mlc_texpr_t *res = var(&r, acc);
  if (n->op == MLC_OP_ReduceMean || n->op == MLC_OP_GlobalAveragePool) res = bin(&r, MLC_TB_DIV, res, kf(&r, (double)len));
  if (!reduce_row(&r, blk, op, init, red_x, x, acc) ||
      !mlc_ts_block_append(k, blk, mlc_ts_store(k, by, var(&r, r.row), mlc_tx_cast(k, y->dtype, res))) ||
      !rows_finish(&r, blk))
    return lw_oom(c);
  k->flops += mlc_value_numel(x);
  return NULL;
}
