/* The GEMM kernel shared by MatMul, Gemm and Conv.
 *
 * Every GEMM-shaped op describes its operands as an lw_gemm_t: batch dims
 * with per-operand strides (0 = broadcast), C[b, row, col] = init(row,
 * col) + sum_k A(row, k) * B(k, col) with A(row, k) = a[row*a_sm + k*a_sk]
 * and B(k, col) = b[k*b_sk + col*b_sn] (or a packed panel layout, below),
 * and how the result index maps onto the output.  This file states that
 * as one kernel row per tile:
 *
 *   grid [batch..., col panels ceil(N/NB), rows M] block gm
 *   for j in [0, min(NB, N - gn*NB)) vectorize(NB) {
 *     acc = init(gm, gn*NB + j)
 *     for k in [0, K) { acc = fma(A(gm, k), B(k, gn*NB + j), acc) }
 *     store C[gm, gn*NB + j] = epilogue(acc)
 *   }
 *
 * and the register-block tile pass (tile_regblock.c) unroll-and-jams the
 * rows dim by MR, the rows the target's registers hold, into the BLAS
 * micro-kernel shape: MR x NB accumulators in registers across K, each B
 * vector loaded once per k and reused MR times, each A element broadcast
 * once and reused NB times.  Rows vary fastest in the grid, so
 * consecutive tiles (one thread's chunk) reuse the K x NB panel of B from
 * cache.  NB is decided here, because it is the layout of the packed
 * weights (the gemm-layout pass packs with the same rule): NV vectors of
 * the target, a power of two, at most 4 with 32 registers (else 2),
 * shrinking when more than 1/8 of the lanes of N's panels would idle
 * (N = 196: 2 vectors); a direct conv searches NV and MR together for the
 * block that divides its extents (lw_gemm_blocking_fit) and asks the pass
 * for the same fitted MR (`block gm fit`).  FMA is used where the target
 * has it, else multiply then add; the choice is written into the IR, so
 * the interpreter computes exactly what the backend does.
 *
 * Packed B (b_panel > 0): B is stored as [ceil(N/NB)][K][NB] panels (the
 * gemm-layout pass puts constant weights that way), so the panel a tile
 * reads is contiguous.
 *
 * A K nest (nk > 0) replaces the K loop by nested loops whose indexes
 * address A and B with their own strides: a direct convolution reads a
 * padded image as B(k = (c, kh, kw), ow) = xp[c*Hp*Wp + kh*Wp + kw + ow]
 * with the output row in a batch dim, no im2col copy.
 *
 * Swapped (swap): the vector columns run over the spec's M and the
 * register rows over its N, for GEMMs whose N is small (a conv's 7x7 and
 * 14x14 outputs, and the direct conv: output channels as vectors, an
 * output row's pixels as rows); A is then read as panels [ceil(M/NB)][K]
 * [NB] and B is broadcast; stores of a row scatter with stride N, cheap
 * beside K FMAs.
 *
 * Tried and not kept: K chunks of L1 size with partial sums kept in the
 * output (a tile then runs several row blocks per chunk).  On the Xeon dev
 * machine it was slower on 3 of 4 shapes (docs/performance.md, "Tried and
 * dropped").
 */
#include <string.h>

#include "passes/lower_internal.h"
#include "passes/tile_pass.h"

/* The panel of N columns (NV vectors) and FMA choice on the target. */
lw_gemm_block_t lw_gemm_blocking(const lw_ctx_t *c, int64_t N, mlc_dtype_t ct) {
  const mlc_target_t *t = c->target;
  int bits = t && t->vector_bits ? t->vector_bits : 512;
  int regs = bits >= 512 ? 32 : 16;
  int esz = (int)mlc_dtype_size(ct);
  lw_gemm_block_t b = {.lanes = bits / 8 / (esz ? esz : 4)};
  if (b.lanes < 1) b.lanes = 1;
  b.fma = mlc_dtype_is_float(ct) && (!t || t->has_fma);
  /* Vectors per row: the most that fit (4 with 32 registers, else 2)
   * unless that leaves more than 1/8 of the lanes of N's panels idle; then
   * the power of two that wastes fewest (N = 196: 2 vectors). */
  int maxnv = regs >= 32 ? 4 : 2;
  int64_t best = -1;
  /* powers of two only: LLVM legalizes a <48 x float> into spills and
   * element inserts (a 1x1 conv with 96 outputs ran at 3 GFLOP/s) */
  for (int nv = maxnv; nv >= 1; nv /= 2) {
    int64_t w = (int64_t)nv * b.lanes, waste = (N + w - 1) / w * w - N;
    if (waste * 8 <= (N + w - 1) / w * w) {
      b.nv = nv;
      break;
    }
    if (best < 0 || waste < best) {
      best = waste;
      b.nv = nv;
    }
  }
  b.nb = b.nv * b.lanes;
  return b;
}

/* A block that tiles M rows and N columns with the fewest idle elements,
 * for kernels whose both extents are small and fixed (a direct conv: the
 * pixels of an output row as rows, output channels as vectors; 28 pixels
 * take 14 x 2 vectors, no idle lane).  Among NV in {4, 2, 1} vectors
 * (powers of two, as above), each with the MR the register-block pass
 * fits to M (mlc_regblock_rows): the least computed per useful element,
 * then the most accumulators; blocks with fewer than 8 accumulators (too
 * few to hide the FMA latency) only when no other fits.  The pass then
 * finds the same MR for the chosen NV. */
lw_gemm_block_t lw_gemm_blocking_fit(const lw_ctx_t *c, int64_t M, int64_t N,
                                     mlc_dtype_t ct) {
  lw_gemm_block_t b = lw_gemm_blocking(c, N, ct);
  const mlc_target_t *t = c->target;
  int bits = t && t->vector_bits ? t->vector_bits : 512;
  int maxnv = bits >= 512 ? 4 : 2;
  double best = -1;
  for (int nv = maxnv; nv >= 1; nv /= 2) {
    int64_t w = (int64_t)nv * b.lanes, pn = (N + w - 1) / w * w;
    double cost;
    int mr = mlc_regblock_rows(t, nv, M, true, &cost);
    /* the row score times the idle fraction of the columns */
    cost = (cost + 1e-3 * mr * nv) * (double)pn / (double)N - 1e-3 * mr * nv;
    if (best < 0 || cost < best) {
      best = cost;
      b.nv = nv;
    }
  }
  b.nb = b.nv * b.lanes;
  return b;
}

/* Can the group's epilogue be indexed with dims [d0, d1) of the output
 * collapsed into dim d1-1?  True when every operand the epilogue loads has,
 * right-aligned to the output, those dims all 1 or all equal to the
 * output's (then one flat index along them addresses it correctly). */
bool lw_group_collapsible(const lw_ctx_t *c, int d0, int d1) {
  if (!c->group) return true;
  const mlc_value_t *out = c->group->out;
  for (int i = 0; i < c->group->nnodes; i++) {
    const mlc_node_t *n = c->group->nodes[i];
    if (n == c->group->anchor) continue;
    for (int j = 0; j < n->ninputs; j++) {
      const mlc_value_t *v = n->inputs[j];
      if (!v || v->flags & MLC_VALUE_FUSED || v == c->group->anchor->outputs[0])
        continue;
      bool all1 = true, full = true;
      for (int d = d0; d < d1; d++) {
        int vd = d - (out->rank - v->rank);
        int64_t e = vd >= 0 ? v->dims[vd].value : 1;
        all1 = all1 && e == 1;
        full = full && e == out->dims[d].value;
      }
      if (!all1 && !full) return false;
    }
  }
  return true;
}

static mlc_texpr_t *sum_strided(lw_ctx_t *c, mlc_texpr_t *const *idx,
                                const int64_t *strides, int n) {
  mlc_texpr_t *e = mlc_tx_i64(c->k, 0);
  for (int i = 0; i < n; i++)
    if (strides[i]) e = lw_add(c, e, lw_mul_i(c, idx[i], strides[i]));
  return e;
}

typedef struct gemm_st {
  lw_ctx_t *c;
  const mlc_node_t *n;
  const lw_gemm_t *s;
  lw_gemm_block_t blk;
  mlc_dtype_t ct;
  int ba, bb;
  mlc_texpr_t *bidx[LW_MAXR];
  mlc_tvar_t *gn, *gm, *vj, *vk[LW_GEMM_MAX_K];
  int nk; /* K loops: 1, or the spec's nk */
  int64_t KM, KN; /* the kernel's rows and vector columns (swapped: N, M) */
} gemm_st_t;

static mlc_texpr_t *var(gemm_st_t *g, mlc_tvar_t *v) {
  return mlc_tx_var(g->c->k, v);
}

/* gn*NB + j */
static mlc_texpr_t *col_expr(gemm_st_t *g) {
  return lw_add(g->c, lw_mul_i(g->c, var(g, g->gn), g->blk.nb), var(g, g->vj));
}

/* The spec's row and column of the tile's kernel row gm and the vector
 * column. */
static mlc_texpr_t *spec_row(gemm_st_t *g) {
  return g->s->swap ? col_expr(g) : var(g, g->gm);
}
static mlc_texpr_t *spec_col(gemm_st_t *g) {
  return g->s->swap ? var(g, g->gm) : col_expr(g);
}

/* The K offset of operand A (a) or B: k * stride, or over a K nest. */
static mlc_texpr_t *k_offset(gemm_st_t *g, bool a) {
  const lw_gemm_t *s = g->s;
  if (!s->nk) return lw_mul_i(g->c, var(g, g->vk[0]), a ? s->a_sk : s->b_sk);
  mlc_texpr_t *e = mlc_tx_i64(g->c->k, 0);
  for (int i = 0; i < s->nk; i++)
    e = lw_add(g->c, e, lw_mul_i(g->c, var(g, g->vk[i]), a ? s->a_ks[i] : s->b_ks[i]));
  return e;
}

static mlc_texpr_t *load_b(gemm_st_t *g) {
  lw_ctx_t *c = g->c;
  const lw_gemm_t *s = g->s;
  mlc_texpr_t *kk = var(g, g->vk[0]), *base = sum_strided(c, g->bidx, s->b_bs, s->nb);
  mlc_texpr_t *ix;
  if (s->b_panel) /* [N/NB][K][NB]: gn*K*NB + k*NB + j */
    ix = lw_add(c, lw_mul_i(c, var(g, g->gn), s->K * s->b_panel),
                lw_add(c, lw_mul_i(c, kk, s->b_panel), var(g, g->vj)));
  else
    ix = lw_add(c, k_offset(g, false), lw_mul_i(c, spec_col(g), s->b_sn));
  return mlc_tx_cast(c->k, g->ct, mlc_tx_load(c->k, g->bb, lw_add(c, base, ix)));
}

static mlc_texpr_t *load_a(gemm_st_t *g) {
  lw_ctx_t *c = g->c;
  const lw_gemm_t *s = g->s;
  mlc_texpr_t *kk = var(g, g->vk[0]), *ix;
  if (s->a_panel) /* [M/NB][K][NB], swapped: gn*K*NB + k*NB + j */
    ix = lw_add(c, lw_mul_i(c, var(g, g->gn), s->K * s->a_panel),
                lw_add(c, lw_mul_i(c, s->nk ? k_offset(g, true) : kk, s->a_panel),
                       var(g, g->vj)));
  else
    ix = lw_add(c, lw_mul_i(c, spec_row(g), s->a_sm), k_offset(g, true));
  ix = lw_add(c, sum_strided(c, g->bidx, s->a_bs, s->nb), ix);
  return mlc_tx_cast(c->k, g->ct, mlc_tx_load(c->k, g->ba, ix));
}

static mlc_texpr_t *madd(gemm_st_t *g, mlc_texpr_t *a, mlc_texpr_t *b,
                         mlc_texpr_t *acc) {
  mlc_tkernel_t *k = g->c->k;
  if (g->blk.fma) return mlc_tx_fma(k, a, b, acc);
  return mlc_tx_binary(k, MLC_TB_ADD, acc, mlc_tx_binary(k, MLC_TB_MUL, a, b));
}

/* The store: output index from the spec's map, epilogue. */
static mlc_tstmt_t *store_row(gemm_st_t *g, mlc_tvar_t *acc) {
  lw_ctx_t *c = g->c;
  const lw_gemm_t *s = g->s;
  mlc_texpr_t *row = spec_row(g), *col = spec_col(g);
  mlc_texpr_t *oidx[LW_MAXR];
  for (int d = 0; d < s->out_rank; d++) {
    int m = s->out_map[d];
    oidx[d] = m == LW_GM_ROW   ? row
              : m == LW_GM_COL ? col
              : m == LW_GM_ZERO ? mlc_tx_i64(c->k, 0)
                                : g->bidx[m - LW_GM_BATCH];
  }
  if (s->col_span > 1 && !lw_group_collapsible(c, s->out_rank - s->col_span, s->out_rank))
    for (int d = s->out_rank - 1; d >= s->out_rank - s->col_span; d--) {
      int64_t e = c->group->out->dims[d].value;
      oidx[d] = mlc_tx_binary(c->k, MLC_TB_MOD, col, mlc_tx_i64(c->k, e));
      col = mlc_tx_binary(c->k, MLC_TB_DIV, col, mlc_tx_i64(c->k, e));
    }
  col = spec_col(g);
  mlc_texpr_t *v = mlc_tx_var(c->k, acc);
  if (s->finish) v = s->finish(c, g->n, v, row, col);
  return lw_store_out(c, g->n, oidx, s->out_rank, v);
}

/* The body of one tile (one kernel row): init, the K loop, the store. */
static mlc_tstmt_t *tile_body(gemm_st_t *g) {
  lw_ctx_t *c = g->c;
  mlc_tkernel_t *k = c->k;
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, g->ct, "acc");
  if (!blk || !acc) return NULL;
  mlc_texpr_t *init = g->s->init ? g->s->init(c, g->n, NULL, spec_row(g), spec_col(g))
                                 : mlc_tx_const(k, g->ct, 0);
  if (!mlc_ts_block_append(k, blk, mlc_ts_assign(k, acc, mlc_tx_cast(k, g->ct, init))))
    return NULL;
  mlc_tstmt_t *kloop =
      mlc_ts_assign(k, acc, madd(g, load_a(g), load_b(g), mlc_tx_var(k, acc)));
  for (int i = g->nk - 1; i >= 0 && kloop; i--)
    kloop = lw_for(c, g->vk[i], g->s->nk ? g->s->kdims[i] : g->s->K, kloop,
                   MLC_LOOP_SERIAL);
  if (!kloop || !mlc_ts_block_append(k, blk, kloop) ||
      !mlc_ts_block_append(k, blk, store_row(g, acc)))
    return NULL;
  return blk;
}

/* A ROW or COL index that stands for a collapsed run of output dims (ZERO
 * entries, then it) must sit on the run's last dim of extent > 1: flat
 * indexing skips dims of extent 1 (their index is 0), so an index placed
 * on one would be dropped ([197, 1, K] x [K, N] has its rows in dim 0). */
static void place_collapsed(lw_gemm_t *s, const mlc_value_t *out) {
  for (int d = 0; d < s->out_rank; d++) {
    if (s->out_map[d] != LW_GM_ROW && s->out_map[d] != LW_GM_COL) continue;
    int at = d;
    for (int e = d; e >= 0 && (e == d || s->out_map[e] == LW_GM_ZERO); e--)
      if (out->dims[e].value != 1) {
        at = e;
        break;
      }
    if (at != d) {
      s->out_map[at] = s->out_map[d];
      s->out_map[d] = LW_GM_ZERO;
    }
  }
}

mlc_status_t *lw_gemm_kernel(lw_ctx_t *c, const mlc_node_t *n,
                             const lw_gemm_t *spec) {
  mlc_tkernel_t *k = c->k;
  lw_gemm_t placed = *spec;
  const lw_gemm_t *s = &placed;
  place_collapsed(&placed, c->group ? c->group->out : n->outputs[0]);
  if (mlc_value_numel(n->outputs[0]) == 0 || s->M < 1 || s->N < 1) return NULL;
  gemm_st_t g = {.c = c, .n = n, .s = s, .ct = lw_compute_dt(n->outputs[0]->dtype),
                 .KM = s->swap ? s->N : s->M, .KN = s->swap ? s->M : s->N};
  g.blk = s->fit ? lw_gemm_blocking_fit(c, g.KM, g.KN, g.ct)
                 : lw_gemm_blocking(c, g.KN, g.ct);
  int64_t panel = s->swap ? s->a_panel : s->b_panel;
  if ((s->swap ? s->b_panel : s->a_panel) || (panel && panel != g.blk.nb))
    return lw_err(c, MLC_INTERNAL, "operand packed in panels of %lld, the kernel "
                  "uses %d", (long long)panel, g.blk.nb);
  g.nk = s->nk ? s->nk : 1;
  if (s->nk < 0 || s->nk > LW_GEMM_MAX_K || (s->nk && s->b_panel))
    return lw_err(c, MLC_INTERNAL, "a K nest of %d loops over B panels", s->nk);
  for (int i = 0; i < s->nb; i++)
    g.bidx[i] = mlc_tx_var(k, mlc_tkernel_add_grid(k, s->bdims[i]));
  g.gn = mlc_tkernel_add_grid(k, (g.KN + g.blk.nb - 1) / g.blk.nb);
  /* one kernel row per tile; the register-block tile pass jams MR of
   * them (k->block) */
  g.gm = mlc_tkernel_add_grid(k, g.KM);
  k->block = k->ngrid;
  k->block_fit = s->fit;
  g.vj = lw_loopvar(c);
  for (int i = 0; i < g.nk; i++)
    if (!(g.vk[i] = lw_loopvar(c))) return lw_oom(c);
  g.ba = lw_buf(c, s->a, false);
  g.bb = lw_buf(c, s->b, false);
  if (!g.gn || !g.gm || !g.vj || g.ba < 0 || g.bb < 0) return lw_oom(c);
  mlc_tstmt_t *body = tile_body(&g);
  mlc_texpr_t *end = mlc_tx_binary(k, MLC_TB_MIN, mlc_tx_i64(k, g.blk.nb),
                                   lw_add_i(c, lw_mul_i(c, var(&g, g.gn), -g.blk.nb), g.KN));
  mlc_tstmt_t *loop = mlc_ts_for(k, g.vj, mlc_tx_i64(k, 0), end, MLC_LOOP_VECTORIZE,
                                 g.blk.nb, body);
  if (!lw_append(c, loop)) return lw_oom(c);
  int64_t batch = 1;
  for (int i = 0; i < s->nb; i++) batch *= s->bdims[i];
  k->flops += 2 * batch * s->M * s->N * s->K;
  return NULL;
}

int64_t mlc_lower_gemm_panel(const mlc_target_t *t, int64_t n, mlc_dtype_t dt) {
  lw_ctx_t c = {.target = t};
  return lw_gemm_blocking(&c, n, lw_compute_dt(dt)).nb;
}

int64_t mlc_lower_conv_direct_panel(const mlc_target_t *t, int64_t m, int64_t ow,
                                    mlc_dtype_t dt) {
  lw_ctx_t c = {.target = t};
  return lw_gemm_blocking_fit(&c, ow, m, lw_compute_dt(dt)).nb;
}
