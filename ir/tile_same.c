/* Structural comparison of tiled-IR kernels: a hash and an equality that
 * ignore kernel names and where buffers live, and the noalias rule that
 * both backends and the comparison share.  The dedupe-kernels pass
 * (passes/tile_dedupe.c) uses them to let identical kernels share code,
 * and mlc_program_verify to check such sharing.
 *
 * Kernels are equal when their buffers agree in dtype, element count,
 * written flag and noalias pattern, their grids agree, and their bodies
 * are structurally identical (variables compared by id, kind and dtype).
 * The hash is consistent with the equality, so it filters candidates.
 */
#include <string.h>

#include "ir/tile.h"

/* ---- noalias ---- */

static bool storages_overlap(const mlc_tbuf_t *a, const mlc_tbuf_t *b) {
  if (a->storage.kind != b->storage.kind) return false;
  if (a->storage.kind == MLC_STORAGE_NONE) return true; /* unknown */
  if ((a->storage.kind == MLC_STORAGE_INPUT || a->storage.kind == MLC_STORAGE_OUTPUT) &&
      a->storage.index != b->storage.index)
    return false;
  size_t ea = mlc_dtype_size(a->dtype), eb = mlc_dtype_size(b->dtype);
  int64_t a0 = a->storage.offset, b0 = b->storage.offset, a1, b1;
  /* Sizes too large to add up (only hand-written text has them) overlap. */
  if (__builtin_mul_overflow(a->nelems, (int64_t)(ea ? ea : 1), &a1) ||
      __builtin_add_overflow(a1, a0, &a1) ||
      __builtin_mul_overflow(b->nelems, (int64_t)(eb ? eb : 1), &b1) ||
      __builtin_add_overflow(b1, b0, &b1))
    return true;
  return a0 < b1 && b0 < a1;
}

/* noalias is sound for buffer i when no buffer sharing its bytes is written
 * (by either side). */
bool mlc_tkernel_buf_noalias(const mlc_tkernel_t *k, int i) {
  for (int j = 0; j < k->nbufs; j++) {
    if (j == i || k->bufs[i].local || k->bufs[j].local) continue;
    if ((k->bufs[i].written || k->bufs[j].written) &&
        storages_overlap(&k->bufs[i], &k->bufs[j]))
      return false;
  }
  return true;
}

/* ---- hash and equality ---- */

#define MIX(h, v) ((h) = ((h) ^ (uint64_t)(v)) * 1099511628211ull)

static uint64_t hash_expr(const mlc_texpr_t *e, uint64_t h) {
  MIX(h, e->kind);
  MIX(h, e->dtype);
  switch (e->kind) {
  case MLC_TX_CONST: {
    uint64_t fbits;
    memcpy(&fbits, &e->c.f, sizeof fbits);
    MIX(h, e->c.i);
    MIX(h, fbits);
    break;
  }
  case MLC_TX_VAR: MIX(h, e->var->id); break;
  case MLC_TX_LOAD: MIX(h, e->load.buf); return hash_expr(e->load.index, h);
  case MLC_TX_UNARY: MIX(h, e->un.op); return hash_expr(e->un.a, h);
  case MLC_TX_BINARY:
    MIX(h, e->bin.op);
    return hash_expr(e->bin.b, hash_expr(e->bin.a, h));
  case MLC_TX_SELECT:
    return hash_expr(e->sel.b, hash_expr(e->sel.a, hash_expr(e->sel.cond, h)));
  case MLC_TX_CAST: return hash_expr(e->cast.a, h);
  case MLC_TX_FMA:
    return hash_expr(e->fma.c, hash_expr(e->fma.b, hash_expr(e->fma.a, h)));
  }
  return h;
}

static uint64_t hash_stmt(const mlc_tstmt_t *t, uint64_t h) {
  MIX(h, t->kind);
  switch (t->kind) {
  case MLC_TS_FOR:
    MIX(h, t->loop.var->id);
    MIX(h, t->loop.loop_kind);
    MIX(h, t->loop.width);
    h = hash_expr(t->loop.end, hash_expr(t->loop.begin, h));
    return hash_stmt(t->loop.body, h);
  case MLC_TS_STORE:
    MIX(h, t->store.buf);
    return hash_expr(t->store.value, hash_expr(t->store.index, h));
  case MLC_TS_ASSIGN: MIX(h, t->assign.var->id); return hash_expr(t->assign.value, h);
  case MLC_TS_IF:
    h = hash_stmt(t->if_.then_s, hash_expr(t->if_.cond, h));
    return t->if_.else_s ? hash_stmt(t->if_.else_s, h) : h;
  case MLC_TS_BLOCK:
    MIX(h, t->block.n);
    for (int i = 0; i < t->block.n; i++) h = hash_stmt(t->block.stmts[i], h);
    return h;
  }
  return h;
}

uint64_t mlc_tkernel_hash(const mlc_tkernel_t *k) {
  uint64_t h = 1469598103934665603ull;
  MIX(h, k->nbufs);
  for (int i = 0; i < k->nbufs; i++) {
    MIX(h, k->bufs[i].dtype);
    MIX(h, k->bufs[i].nelems);
    MIX(h, k->bufs[i].written);
    MIX(h, k->bufs[i].local);
    MIX(h, mlc_tkernel_buf_noalias(k, i));
  }
  MIX(h, k->ngrid);
  for (int i = 0; i < k->ngrid; i++) MIX(h, k->grid_extents[i]);
  return k->body ? hash_stmt(k->body, h) : h;
}

static bool same_var(const mlc_tvar_t *a, const mlc_tvar_t *b) {
  return a->id == b->id && a->kind == b->kind && a->dtype == b->dtype;
}

static bool same_expr(const mlc_texpr_t *a, const mlc_texpr_t *b) {
  if (a->kind != b->kind || a->dtype != b->dtype) return false;
  switch (a->kind) {
  case MLC_TX_CONST:
    return a->c.i == b->c.i && memcmp(&a->c.f, &b->c.f, sizeof a->c.f) == 0;
  case MLC_TX_VAR: return same_var(a->var, b->var);
  case MLC_TX_LOAD:
    return a->load.buf == b->load.buf && same_expr(a->load.index, b->load.index);
  case MLC_TX_UNARY: return a->un.op == b->un.op && same_expr(a->un.a, b->un.a);
  case MLC_TX_BINARY:
    return a->bin.op == b->bin.op && same_expr(a->bin.a, b->bin.a) &&
           same_expr(a->bin.b, b->bin.b);
  case MLC_TX_SELECT:
    return same_expr(a->sel.cond, b->sel.cond) && same_expr(a->sel.a, b->sel.a) &&
           same_expr(a->sel.b, b->sel.b);
  case MLC_TX_CAST: return same_expr(a->cast.a, b->cast.a);
  case MLC_TX_FMA:
    return same_expr(a->fma.a, b->fma.a) && same_expr(a->fma.b, b->fma.b) &&
           same_expr(a->fma.c, b->fma.c);
  }
  return false;
}

static bool same_stmt(const mlc_tstmt_t *a, const mlc_tstmt_t *b) {
  if (a->kind != b->kind) return false;
  switch (a->kind) {
  case MLC_TS_FOR:
    return same_var(a->loop.var, b->loop.var) && a->loop.loop_kind == b->loop.loop_kind &&
           a->loop.width == b->loop.width && same_expr(a->loop.begin, b->loop.begin) &&
           same_expr(a->loop.end, b->loop.end) && same_stmt(a->loop.body, b->loop.body);
  case MLC_TS_STORE:
    return a->store.buf == b->store.buf && same_expr(a->store.index, b->store.index) &&
           same_expr(a->store.value, b->store.value);
  case MLC_TS_ASSIGN:
    return same_var(a->assign.var, b->assign.var) && same_expr(a->assign.value, b->assign.value);
  case MLC_TS_IF:
    if (!same_expr(a->if_.cond, b->if_.cond) || !same_stmt(a->if_.then_s, b->if_.then_s))
      return false;
    if (!a->if_.else_s || !b->if_.else_s) return a->if_.else_s == b->if_.else_s;
    return same_stmt(a->if_.else_s, b->if_.else_s);
  case MLC_TS_BLOCK:
    if (a->block.n != b->block.n) return false;
    for (int i = 0; i < a->block.n; i++)
      if (!same_stmt(a->block.stmts[i], b->block.stmts[i])) return false;
    return true;
  }
  return false;
}

bool mlc_tkernel_same(const mlc_tkernel_t *a, const mlc_tkernel_t *b) {
  if (a->nbufs != b->nbufs || a->ngrid != b->ngrid || a->nvars != b->nvars ||
      a->block != b->block || a->block_fit != b->block_fit)
    return false;
  for (int i = 0; i < a->nbufs; i++)
    if (a->bufs[i].dtype != b->bufs[i].dtype || a->bufs[i].nelems != b->bufs[i].nelems ||
        a->bufs[i].written != b->bufs[i].written || a->bufs[i].local != b->bufs[i].local ||
        mlc_tkernel_buf_noalias(a, i) != mlc_tkernel_buf_noalias(b, i))
      return false;
  for (int i = 0; i < a->ngrid; i++)
    if (a->grid_extents[i] != b->grid_extents[i] || !same_var(a->grid[i], b->grid[i]))
      return false;
  if (!a->body || !b->body) return a->body == b->body;
  return same_stmt(a->body, b->body);
}
