/* The register-block pass: unroll-and-jam of a kernel's `block` grid dim.
 *
 * Lowering writes a GEMM-shaped kernel one row per tile and names that
 * grid dim (passes/lower_gemm.c):
 *
 *   kernel .. grid [.., gn: P, gm: M] block gm {
 *     for j in [0, min(NB, ..)) vectorize(NB) {
 *       acc = init(gm)
 *       for k in [0, K) { acc = fma(A[gm, k], B[k, gn*NB + j], acc) }
 *       store C[gm, gn*NB + j] = epilogue(acc)
 *     }
 *   }
 *
 * The pass picks MR, the rows one tile keeps in registers, from the
 * target, and rewrites the dim to ceil(M / MR) tiles of MR rows: a
 * statement that contains no loop is copied MR times with gm replaced by
 * gm*MR + i and its locals renamed per copy (acc, acc1, ...); a loop is
 * kept once with its body jammed.  The MR rows then share every B vector
 * load of the k loop, and their accumulators stay in registers:
 *
 *   kernel .. grid [.., gn: P, gm: ceil(M/MR)] {
 *     for j .. vectorize(NB) {
 *       acc = init(gm*MR) .. accR = init(gm*MR + MR-1)
 *       for k { acc = fma(A[gm*MR, k], B[..], acc) .. }
 *       store C[gm*MR, ..] = epilogue(acc) ..
 *     }
 *   }
 *
 * When MR does not divide M, the copies of the last tile past row M-1
 * compute with gm*MR + i clamped to M-1 (their loads stay in bounds) and
 * their stores are skipped (`if (gm*MR + i < M)`; a store's own index and
 * value use the unclamped row, which the guard makes valid).
 *
 * Legality: the tiles of a grid are independent, so statements of
 * different tiles may interleave.  The kernel is left unchanged (and the
 * hint dropped) when a loop bound reads the dim or a local, when an IF
 * holds a loop, or when the kernel has local buffers (copies would share
 * them).
 *
 * The factor: NV = the lanes of the widest vectorize loop over the
 * target's vector lanes of its accumulator dtype; then
 * mlc_regblock_rows(): MR*NV accumulators + NV B vectors + one broadcast
 * within the vector registers (32 with AVX-512, else 16), at most 12 rows;
 * with `fit`, the MR (up to 14) that tiles M with the fewest idle rows
 * and at least 8 accumulators, ties to more accumulators (a direct conv's
 * 28 pixels: 14 x 2 vectors).  Every choice shows in --emit tile.
 */
#include <stdlib.h>

#include "passes/lower.h"
#include "passes/tile_pass.h"

enum { RB_MAX_ROWS = 12, RB_MAX_ROWS_FIT = 14 };

int mlc_regblock_rows(const mlc_target_t *t, int nv, int64_t rows, bool fit,
                      double *cost) {
  int bits = t && t->vector_bits ? t->vector_bits : 512;
  int regs = bits >= 512 ? 32 : 16;
  if (nv < 1) nv = 1;
  int top = (regs - nv - 1) / nv;
  if (top < 1) top = 1;
  if (!fit) {
    int mr = top > RB_MAX_ROWS ? RB_MAX_ROWS : top;
    if (rows >= 1 && mr > rows) mr = (int)rows;
    if (cost) *cost = 1;
    return mr;
  }
  if (top > RB_MAX_ROWS_FIT) top = RB_MAX_ROWS_FIT;
  int best_mr = 1;
  double best = -1;
  for (int mr = 1; mr <= top && mr <= rows; mr++) {
    int64_t padded = (rows + mr - 1) / mr * mr;
    /* idle fraction, too few accumulators, then more accumulators */
    double c = (double)padded / (double)rows;
    if (mr * nv < 8) c += 1.0;
    c -= 1e-3 * mr * nv;
    if (best < 0 || c < best) {
      best = c;
      best_mr = mr;
    }
  }
  if (cost) *cost = best < 0 ? 1 : best;
  return best_mr;
}

typedef struct rb {
  mlc_tkernel_t *k;
  const mlc_tvar_t *g; /* the blocked grid variable */
  int F;               /* rows per tile */
  int64_t E;           /* the dim's extent before blocking */
  int nvars;           /* variables before the pass */
  mlc_tvar_t **ren;    /* [F * nvars]: copy i's local for a local, lazily */
} rb_t;

static bool reads_var(const mlc_texpr_t *e, const rb_t *r) {
  if (!e) return false;
  switch (e->kind) {
  case MLC_TX_CONST: return false;
  case MLC_TX_VAR: return e->var == r->g || e->var->kind == MLC_TV_LOCAL;
  case MLC_TX_LOAD: return reads_var(e->load.index, r);
  case MLC_TX_UNARY: return reads_var(e->un.a, r);
  case MLC_TX_BINARY: return reads_var(e->bin.a, r) || reads_var(e->bin.b, r);
  case MLC_TX_SELECT:
    return reads_var(e->sel.cond, r) || reads_var(e->sel.a, r) || reads_var(e->sel.b, r);
  case MLC_TX_CAST: return reads_var(e->cast.a, r);
  case MLC_TX_FMA:
    return reads_var(e->fma.a, r) || reads_var(e->fma.b, r) || reads_var(e->fma.c, r);
  }
  return false;
}

/* Whether jam() takes s: loop bounds free of the dim and of locals, no
 * loop inside an IF. */
static bool jammable(const rb_t *r, const mlc_tstmt_t *s) {
  switch (s->kind) {
  case MLC_TS_FOR:
    return !reads_var(s->loop.begin, r) && !reads_var(s->loop.end, r) &&
           jammable(r, s->loop.body);
  case MLC_TS_IF: return !mlc_tstmt_has_loop(s);
  case MLC_TS_BLOCK:
    for (int i = 0; i < s->block.n; i++)
      if (!jammable(r, s->block.stmts[i])) return false;
    return true;
  default: return true;
  }
}

/* gm*F + i, clamped to E-1 when asked and F does not divide E. */
static mlc_texpr_t *row(rb_t *r, int i, bool clamp) {
  mlc_tkernel_t *k = r->k;
  mlc_texpr_t *e = mlc_tx_binary(k, MLC_TB_ADD,
                                 mlc_tx_binary(k, MLC_TB_MUL, mlc_tx_var(k, (mlc_tvar_t *)r->g),
                                               mlc_tx_i64(k, r->F)),
                                 mlc_tx_i64(k, i));
  if (clamp && r->E % r->F)
    e = mlc_tx_binary(k, MLC_TB_MIN, e, mlc_tx_i64(k, r->E - 1));
  return e;
}

static mlc_tvar_t *local_of(rb_t *r, mlc_tvar_t *v, int i) {
  if (v->kind != MLC_TV_LOCAL || i == 0 || v->id >= r->nvars) return v;
  mlc_tvar_t **slot = &r->ren[(size_t)i * (size_t)r->nvars + (size_t)v->id];
  if (!*slot) *slot = mlc_tkernel_new_var(r->k, MLC_TV_LOCAL, v->dtype, v->name);
  return *slot;
}

/* Copy i of expression e. */
static mlc_texpr_t *cx(rb_t *r, const mlc_texpr_t *e, int i, bool clamp) {
  mlc_tkernel_t *k = r->k;
  /* expressions are immutable: one that reads neither the dim nor a local
   * is the same in every copy and is shared */
  if (!reads_var(e, r)) return (mlc_texpr_t *)e;
  switch (e->kind) {
  case MLC_TX_CONST: return (mlc_texpr_t *)e;
  case MLC_TX_VAR:
    if (e->var == r->g) return row(r, i, clamp);
    return mlc_tx_var(k, local_of(r, e->var, i));
  case MLC_TX_LOAD: return mlc_tx_load(k, e->load.buf, cx(r, e->load.index, i, clamp));
  case MLC_TX_UNARY: return mlc_tx_unary(k, e->un.op, cx(r, e->un.a, i, clamp));
  case MLC_TX_BINARY:
    return mlc_tx_binary(k, e->bin.op, cx(r, e->bin.a, i, clamp), cx(r, e->bin.b, i, clamp));
  case MLC_TX_SELECT:
    return mlc_tx_select(k, cx(r, e->sel.cond, i, clamp), cx(r, e->sel.a, i, clamp),
                         cx(r, e->sel.b, i, clamp));
  case MLC_TX_CAST: return mlc_tx_cast(k, e->dtype, cx(r, e->cast.a, i, clamp));
  case MLC_TX_FMA:
    return mlc_tx_fma(k, cx(r, e->fma.a, i, clamp), cx(r, e->fma.b, i, clamp),
                      cx(r, e->fma.c, i, clamp));
  }
  return NULL;
}

/* Copy i of a statement without loops. */
static mlc_tstmt_t *cs(rb_t *r, const mlc_tstmt_t *s, int i) {
  mlc_tkernel_t *k = r->k;
  switch (s->kind) {
  case MLC_TS_ASSIGN:
    return mlc_ts_assign(k, local_of(r, s->assign.var, i), cx(r, s->assign.value, i, true));
  case MLC_TS_STORE: {
    mlc_tstmt_t *st = mlc_ts_store(k, s->store.buf, cx(r, s->store.index, i, false),
                                   cx(r, s->store.value, i, false));
    if (!(r->E % r->F)) return st;
    return mlc_ts_if(k, mlc_tx_binary(k, MLC_TB_LT, row(r, i, false), mlc_tx_i64(k, r->E)),
                     st, NULL);
  }
  case MLC_TS_IF:
    return mlc_ts_if(k, cx(r, s->if_.cond, i, true), cs(r, s->if_.then_s, i),
                     s->if_.else_s ? cs(r, s->if_.else_s, i) : NULL);
  case MLC_TS_BLOCK: {
    mlc_tstmt_t *b = mlc_ts_block(k, 0, NULL);
    for (int j = 0; b && j < s->block.n; j++)
      if (!mlc_ts_block_append(k, b, cs(r, s->block.stmts[j], i))) return NULL;
    return b;
  }
  case MLC_TS_FOR: break; /* jam() keeps loops */
  }
  return NULL;
}

/* The jam of the F copies of s (jammable); NULL on out-of-memory. */
static mlc_tstmt_t *jam(rb_t *r, const mlc_tstmt_t *s) {
  mlc_tkernel_t *k = r->k;
  if (!mlc_tstmt_has_loop(s)) {
    mlc_tstmt_t *b = mlc_ts_block(k, 0, NULL);
    for (int i = 0; b && i < r->F; i++)
      if (!mlc_ts_block_append(k, b, cs(r, s, i))) return NULL;
    return b;
  }
  switch (s->kind) {
  case MLC_TS_FOR:
    return mlc_ts_for(k, s->loop.var, s->loop.begin, s->loop.end, s->loop.loop_kind,
                      s->loop.width, jam(r, s->loop.body));
  case MLC_TS_BLOCK: {
    mlc_tstmt_t *b = mlc_ts_block(k, 0, NULL);
    for (int j = 0; b && j < s->block.n; j++)
      if (!mlc_ts_block_append(k, b, jam(r, s->block.stmts[j]))) return NULL;
    return b;
  }
  default: return NULL; /* not jammable */
  }
}

/* Vectors per row: the widest vectorize loop's lanes over the target's
 * lanes of the first local it assigns (the accumulator); 0 when none. */
static int widest(const mlc_tstmt_t *s, const mlc_tvar_t **acc) {
  int w = 0;
  switch (s->kind) {
  case MLC_TS_FOR:
    if (s->loop.loop_kind == MLC_LOOP_VECTORIZE) w = s->loop.width;
    {
      int inner = widest(s->loop.body, acc);
      if (inner > w) w = inner;
    }
    break;
  case MLC_TS_ASSIGN:
    if (!*acc) *acc = s->assign.var;
    break;
  case MLC_TS_IF:
    w = widest(s->if_.then_s, acc);
    if (s->if_.else_s) {
      int e = widest(s->if_.else_s, acc);
      if (e > w) w = e;
    }
    break;
  case MLC_TS_BLOCK:
    for (int i = 0; i < s->block.n; i++) {
      int e = widest(s->block.stmts[i], acc);
      if (e > w) w = e;
    }
    break;
  default: break;
  }
  return w;
}

static mlc_status_t *run_kernel(mlc_pass_ctx_t *ctx, mlc_tkernel_t *k) {
  int d = k->block - 1;
  bool fit = k->block_fit;
  k->block = 0;
  k->block_fit = false;
  if (d < 0 || d >= k->ngrid || !k->body) return NULL;
  for (int i = 0; i < k->nbufs; i++)
    if (k->bufs[i].local) return NULL;
  const mlc_tvar_t *acc = NULL;
  int width = widest(k->body, &acc);
  int bits = ctx && ctx->target && ctx->target->vector_bits ? ctx->target->vector_bits : 512;
  int esz = acc ? (int)mlc_dtype_size(acc->dtype) : 4;
  int lanes = bits / 8 / (esz > 0 ? esz : 4);
  int nv = lanes > 0 && width > lanes ? width / lanes : 1;
  rb_t r = {.k = k, .g = k->grid[d], .E = k->grid_extents[d], .nvars = k->nvars};
  r.F = mlc_regblock_rows(ctx ? ctx->target : NULL, nv, r.E, fit, NULL);
  if (r.F <= 1 || !jammable(&r, k->body)) return NULL;
  r.ren = calloc((size_t)r.F * (size_t)(r.nvars + 1), sizeof *r.ren);
  if (!r.ren) return MLC_ERR(OUT_OF_MEMORY, "register-block");
  mlc_tstmt_t *body = jam(&r, k->body);
  free(r.ren);
  if (!body) return MLC_ERR(OUT_OF_MEMORY, "register-block");
  k->body = body;
  k->grid_extents[d] = (r.E + r.F - 1) / r.F;
  return NULL;
}

const mlc_tpass_t mlc_tpass_register_block = {
    .name = "register-block",
    .summary = "unroll-and-jam a kernel's block grid dim by the rows its registers hold",
    .run_kernel = run_kernel,
};
