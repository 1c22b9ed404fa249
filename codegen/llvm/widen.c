/* Outer-loop vectorization by widening.
 *
 * LLVM's loop vectorizer only handles innermost loops, but the kernels
 * that matter (convolution, matmul) put a reduction loop inside the loop
 * over output elements.  This file vectorizes such a loop L itself: the
 * body is emitted once per W consecutive iterations with every value that
 * depends on L's variable as a <W x T> vector ("varying"), uniform values
 * computed as scalars and broadcast; the last partial group of W runs
 * with the lanes past the end masked off.
 *
 * Which loops: a FOR that contains another FOR and either carries the
 * VECTORIZE hint, or passes these checks (a conservative proof that its
 * iterations are independent):
 *   - every STORE is outside L's inner loops, at an index affine in L's
 *     variable with a nonzero constant stride, and at least one has
 *     stride 1 (else it is not worth it);
 *   - no buffer that L stores to (or that shares its storage bytes) is
 *     loaded in L;
 * and, in both cases:
 *   - inner loop bounds do not depend on L's variable or varying locals;
 *   - every local assigned in L is assigned at L's top level before it
 *     is read in an iteration (no value carried between iterations).
 * Locals assigned in L live in vector allocas.  An IF whose condition is
 * varying becomes a mask: assignments select, loads and stores become
 * llvm.masked.* (so lanes that are off never touch memory), and the
 * branch is skipped when no lane is on.  The tail's lanes past the end
 * are masked for memory only: their locals are never read (no value
 * crosses iterations, stores are masked), so assignments do not select
 * there (a select per accumulator update spilled a 12 x 2 register
 * block).  Loads and
 * stores at stride 1 are contiguous vector accesses; others gather or
 * scatter.  libm calls and integer POW run lane by lane.
 */
#include <stdlib.h>
#include <string.h>

#include "codegen/llvm/kernel.h"

typedef struct wstate {
  kstate_t *s;
  const mlc_tvar_t *v; /* the widened loop's variable */
  unsigned W;
  bool hinted;
  bool *varying;       /* by var id: v and the locals assigned in L */
  LLVMValueRef *wslot; /* by var id: vector allocas of varying locals */
  bool *stored;        /* by buffer: stored in L */
  LLVMValueRef lane0;  /* scalar value of v for lane 0 */
  LLVMValueRef mask;   /* current lane mask, NULL = all lanes */
  LLVMValueRef ifmask; /* its part from varying IFs (NULL = none): lanes
                        * past the loop's end are never read, so only
                        * lanes an IF turned off must keep their locals */
  int nstride1;        /* stores at stride 1 */
} wstate_t;

/* ---- analysis ---------------------------------------------------------------- */

static void mark_assigned(const mlc_tstmt_t *t, bool *set) {
  switch (t->kind) {
  case MLC_TS_FOR: mark_assigned(t->loop.body, set); break;
  case MLC_TS_ASSIGN: set[t->assign.var->id] = true; break;
  case MLC_TS_IF:
    mark_assigned(t->if_.then_s, set);
    if (t->if_.else_s) mark_assigned(t->if_.else_s, set);
    break;
  case MLC_TS_BLOCK:
    for (int i = 0; i < t->block.n; i++) mark_assigned(t->block.stmts[i], set);
    break;
  default: break;
  }
}

/* Does `e` read a variable in `set` (or, with buf >= 0, load buffer `buf`
 * or one sharing its storage)? */
static bool reads_var(const mlc_texpr_t *e, const bool *set) {
  switch (e->kind) {
  case MLC_TX_CONST: return false;
  case MLC_TX_VAR: return set[e->var->id];
  case MLC_TX_LOAD: return reads_var(e->load.index, set);
  case MLC_TX_UNARY: return reads_var(e->un.a, set);
  case MLC_TX_BINARY: return reads_var(e->bin.a, set) || reads_var(e->bin.b, set);
  case MLC_TX_SELECT:
    return reads_var(e->sel.cond, set) || reads_var(e->sel.a, set) || reads_var(e->sel.b, set);
  case MLC_TX_CAST: return reads_var(e->cast.a, set);
  case MLC_TX_FMA:
    return reads_var(e->fma.a, set) || reads_var(e->fma.b, set) ||
           reads_var(e->fma.c, set);
  }
  return true;
}

static bool varying(const wstate_t *w, const mlc_texpr_t *e) {
  return reads_var(e, w->varying);
}

/* Index `e` = uniform + stride * v with a constant stride? */
static bool affine(const wstate_t *w, const mlc_texpr_t *e, int64_t *stride) {
  if (!varying(w, e)) {
    *stride = 0;
    return true;
  }
  int64_t a, b;
  switch (e->kind) {
  case MLC_TX_VAR:
    *stride = 1;
    return e->var == w->v;
  case MLC_TX_BINARY:
    if (e->dtype != MLC_DT_I64) return false;
    if (!affine(w, e->bin.a, &a) || !affine(w, e->bin.b, &b)) return false;
    switch (e->bin.op) {
    case MLC_TB_ADD: *stride = a + b; return true;
    case MLC_TB_SUB: *stride = a - b; return true;
    case MLC_TB_MUL:
      if (b == 0 && e->bin.b->kind == MLC_TX_CONST) { *stride = a * e->bin.b->c.i; return true; }
      if (a == 0 && e->bin.a->kind == MLC_TX_CONST) { *stride = b * e->bin.a->c.i; return true; }
      return false;
    default: return false;
    }
  default: return false;
  }
}

static bool bufs_overlap(const mlc_tbuf_t *a, const mlc_tbuf_t *b) {
  if (a->storage.kind != b->storage.kind) return false;
  if (a->storage.kind == MLC_STORAGE_NONE) return true;
  if (a->storage.kind <= MLC_STORAGE_OUTPUT && a->storage.index != b->storage.index)
    return false;
  int64_t a1 = a->storage.offset + a->nelems * (int64_t)mlc_dtype_size(a->dtype);
  int64_t b1 = b->storage.offset + b->nelems * (int64_t)mlc_dtype_size(b->dtype);
  return a->storage.offset < b1 && b->storage.offset < a1;
}

/* Loads in `e` of a buffer L stores to (or overlapping one)? */
static bool loads_stored(const wstate_t *w, const mlc_texpr_t *e) {
  const mlc_tkernel_t *k = w->s->k;
  switch (e->kind) {
  case MLC_TX_LOAD:
    for (int j = 0; j < k->nbufs; j++)
      if (w->stored[j] && (j == e->load.buf || bufs_overlap(&k->bufs[j], &k->bufs[e->load.buf])))
        return true;
    return loads_stored(w, e->load.index);
  case MLC_TX_UNARY: return loads_stored(w, e->un.a);
  case MLC_TX_BINARY: return loads_stored(w, e->bin.a) || loads_stored(w, e->bin.b);
  case MLC_TX_SELECT:
    return loads_stored(w, e->sel.cond) || loads_stored(w, e->sel.a) || loads_stored(w, e->sel.b);
  case MLC_TX_CAST: return loads_stored(w, e->cast.a);
  case MLC_TX_FMA:
    return loads_stored(w, e->fma.a) || loads_stored(w, e->fma.b) ||
           loads_stored(w, e->fma.c);
  default: return false;
  }
}

/* Stores and loop bounds; `inner`: inside one of L's inner loops. */
static bool check_stmt(wstate_t *w, const mlc_tstmt_t *t, bool inner) {
  int64_t stride;
  switch (t->kind) {
  case MLC_TS_FOR:
    if (varying(w, t->loop.begin) || varying(w, t->loop.end)) return false;
    return check_stmt(w, t->loop.body, true);
  case MLC_TS_STORE:
    /* unhinted: one store per buffer, so iterations write disjoint sets */
    if (w->stored[t->store.buf] && !w->hinted) return false;
    w->stored[t->store.buf] = true;
    if (w->hinted) return true;
    if (inner || !affine(w, t->store.index, &stride) || stride == 0) return false;
    w->nstride1 += stride == 1;
    return true;
  case MLC_TS_IF:
    return check_stmt(w, t->if_.then_s, inner) &&
           (!t->if_.else_s || check_stmt(w, t->if_.else_s, inner));
  case MLC_TS_BLOCK:
    for (int i = 0; i < t->block.n; i++)
      if (!check_stmt(w, t->block.stmts[i], inner)) return false;
    return true;
  default: return true;
  }
}

static bool check_loads(wstate_t *w, const mlc_tstmt_t *t) {
  switch (t->kind) {
  case MLC_TS_FOR: return check_loads(w, t->loop.body);
  case MLC_TS_STORE:
    return !loads_stored(w, t->store.index) && !loads_stored(w, t->store.value);
  case MLC_TS_ASSIGN: return !loads_stored(w, t->assign.value);
  case MLC_TS_IF:
    return !loads_stored(w, t->if_.cond) && check_loads(w, t->if_.then_s) &&
           (!t->if_.else_s || check_loads(w, t->if_.else_s));
  case MLC_TS_BLOCK:
    for (int i = 0; i < t->block.n; i++)
      if (!check_loads(w, t->block.stmts[i])) return false;
    return true;
  }
  return false;
}

/* Reads of a not-yet-assigned local of L in statement `t`? */
static bool reads_undefined(const mlc_tstmt_t *t, const bool *undef) {
  switch (t->kind) {
  case MLC_TS_FOR:
    return reads_var(t->loop.begin, undef) || reads_var(t->loop.end, undef) ||
           reads_undefined(t->loop.body, undef);
  case MLC_TS_STORE: return reads_var(t->store.index, undef) || reads_var(t->store.value, undef);
  case MLC_TS_ASSIGN: return reads_var(t->assign.value, undef);
  case MLC_TS_IF:
    return reads_var(t->if_.cond, undef) || reads_undefined(t->if_.then_s, undef) ||
           (t->if_.else_s && reads_undefined(t->if_.else_s, undef));
  case MLC_TS_BLOCK:
    for (int i = 0; i < t->block.n; i++)
      if (reads_undefined(t->block.stmts[i], undef)) return true;
    return false;
  }
  return true;
}

/* Locals of L are assigned at top level before any read. */
static bool locals_defined_first(const mlc_tstmt_t *body, bool *undef) {
  int n = body->kind == MLC_TS_BLOCK ? body->block.n : 1;
  for (int i = 0; i < n; i++) {
    const mlc_tstmt_t *t = body->kind == MLC_TS_BLOCK ? body->block.stmts[i] : body;
    if (t->kind == MLC_TS_BLOCK) {
      if (!locals_defined_first(t, undef)) return false;
      continue;
    }
    if (reads_undefined(t, undef)) return false;
    if (t->kind == MLC_TS_ASSIGN) undef[t->assign.var->id] = false;
  }
  return true;
}

/* Is a variable of `set` read anywhere in `t` outside the loop `skip`? */
static bool read_outside(const mlc_tstmt_t *t, const mlc_tstmt_t *skip, const bool *set) {
  if (t == skip) return false;
  switch (t->kind) {
  case MLC_TS_FOR:
    return reads_var(t->loop.begin, set) || reads_var(t->loop.end, set) ||
           read_outside(t->loop.body, skip, set);
  case MLC_TS_STORE: return reads_var(t->store.index, set) || reads_var(t->store.value, set);
  case MLC_TS_ASSIGN: return reads_var(t->assign.value, set);
  case MLC_TS_IF:
    return reads_var(t->if_.cond, set) || read_outside(t->if_.then_s, skip, set) ||
           (t->if_.else_s && read_outside(t->if_.else_s, skip, set));
  case MLC_TS_BLOCK:
    for (int i = 0; i < t->block.n; i++)
      if (read_outside(t->block.stmts[i], skip, set)) return true;
    return false;
  }
  return true;
}

static bool qualifies(wstate_t *w, const mlc_tstmt_t *t) {
  const mlc_tstmt_t *body = t->loop.body;
  if (!mlc_tstmt_has_loop(body)) return false; /* LLVM's own vectorizer does these */
  const mlc_texpr_t *b = t->loop.begin, *e = t->loop.end;
  if (b->kind == MLC_TX_CONST && e->kind == MLC_TX_CONST) {
    /* a short static loop: the narrowest power of two covering it */
    int64_t n = e->c.i - b->c.i;
    while (w->W > 4 && (int64_t)w->W / 2 >= n) w->W /= 2;
    if (n < 3) return false;
  }
  mark_assigned(body, w->varying);
  /* values of L's locals live in vector slots: none may be read after L */
  if (read_outside(w->s->k->body, t, w->varying)) return false;
  w->varying[w->v->id] = true;
  int nv = w->s->k->nvars;
  bool *undef = calloc((size_t)nv + 1, sizeof *undef);
  if (!undef) return false;
  memcpy(undef, w->varying, (size_t)nv * sizeof *undef);
  undef[w->v->id] = false;
  bool ok = locals_defined_first(body, undef);
  free(undef);
  if (!ok || !check_stmt(w, body, false)) return false;
  if (w->hinted) return true;
  return w->nstride1 > 0 && check_loads(w, body);
}

/* ---- emission ------------------------------------------------------------------ */

static LLVMValueRef wx(wstate_t *w, const mlc_texpr_t *e);

static LLVMTypeRef vec(wstate_t *w, LLVMTypeRef t) { return LLVMVectorType(t, w->W); }

/* The vector alloca of a varying local, created on first use. */
static LLVMValueRef wslot(wstate_t *w, const mlc_tvar_t *var) {
  if (!w->wslot[var->id])
    w->wslot[var->id] =
        mlc_cgk_alloca(w->s, vec(w, mlc_cgk_reg_type(w->s->cg, var->dtype)), var->name);
  return w->wslot[var->id];
}

static LLVMValueRef bcast(wstate_t *w, LLVMValueRef x) {
  LLVMBuilderRef B = w->s->b;
  LLVMValueRef v = LLVMGetPoison(vec(w, LLVMTypeOf(x)));
  v = LLVMBuildInsertElement(B, v, x, LLVMConstInt(w->s->cg->t_i32, 0, 0), "");
  LLVMValueRef zero = LLVMConstNull(vec(w, w->s->cg->t_i32));
  return LLVMBuildShuffleVector(B, v, LLVMGetPoison(LLVMTypeOf(v)), zero, "");
}

static LLVMValueRef scalar(wstate_t *w, const mlc_texpr_t *e) {
  unsigned lanes = w->s->lanes;
  w->s->lanes = 0;
  LLVMValueRef v = mlc_cgk_expr(w->s, e);
  w->s->lanes = lanes;
  return v;
}

static LLVMValueRef all_lanes(wstate_t *w) {
  return mlc_cgk_splat(LLVMConstInt(w->s->cg->t_i1, 1, 0), w->W);
}

static LLVMValueRef align_of(wstate_t *w, mlc_dtype_t dt) {
  size_t a = mlc_dtype_size(dt);
  return LLVMConstInt(w->s->cg->t_i32, a ? a : 1, 0);
}

/* Address of a W-element access: a scalar pointer for stride 1 (*contig),
 * else a vector of pointers. */
static LLVMValueRef access_ptr(wstate_t *w, int buf, const mlc_texpr_t *index,
                               bool *contig) {
  kstate_t *s = w->s;
  LLVMTypeRef mt = mlc_cgk_mem_type(s->cg, s->k->bufs[buf].dtype);
  int64_t stride = 0;
  *contig = affine(w, index, &stride) && stride == 1;
  s->in_index++;
  LLVMValueRef idx = *contig ? scalar(w, index) : wx(w, index);
  s->in_index--;
  return LLVMBuildInBoundsGEP2(s->b, mt, s->bufs[buf], &idx, 1, "");
}

/* A load at a small constant stride k (2..4, e.g. a stride-2 convolution):
 * one masked load of W*k contiguous elements with only every k-th enabled
 * (nothing past the last needed element is touched), then a shuffle that
 * keeps those; cheaper than a gather. */
static LLVMValueRef strided_load(wstate_t *w, const mlc_texpr_t *e, int64_t k) {
  kstate_t *s = w->s;
  mlc_dtype_t dt = s->k->bufs[e->load.buf].dtype;
  LLVMTypeRef mt = mlc_cgk_mem_type(s->cg, dt);
  unsigned n = w->W * (unsigned)k;
  LLVMTypeRef wide = LLVMVectorType(mt, n);
  s->in_index++;
  LLVMValueRef idx = scalar(w, e->load.index);
  s->in_index--;
  LLVMValueRef p = LLVMBuildInBoundsGEP2(s->b, mt, s->bufs[e->load.buf], &idx, 1, "");
  LLVMValueRef sel[256], pick[64];
  LLVMValueRef lanes = w->mask ? w->mask : all_lanes(w);
  LLVMValueRef off = LLVMConstNull(LLVMVectorType(s->cg->t_i1, w->W));
  for (unsigned j = 0; j < n; j++) /* element j comes from lane j/k when j%k==0 */
    sel[j] = LLVMConstInt(s->cg->t_i32, j % k ? w->W : j / k, 0);
  LLVMValueRef mask = LLVMBuildShuffleVector(s->b, lanes, off, LLVMConstVector(sel, n), "");
  LLVMTypeRef tys[2] = {wide, LLVMTypeOf(p)};
  LLVMValueRef args[4] = {p, align_of(w, dt), mask, LLVMConstNull(wide)};
  LLVMValueRef v = mlc_cgk_call_intr(s, "llvm.masked.load", tys, 2, args, 4);
  for (unsigned l = 0; l < w->W; l++) pick[l] = LLVMConstInt(s->cg->t_i32, l * (unsigned)k, 0);
  v = LLVMBuildShuffleVector(s->b, v, LLVMGetPoison(wide), LLVMConstVector(pick, w->W), "");
  return mlc_cgk_from_mem(s, dt, v);
}

static LLVMValueRef w_load(wstate_t *w, const mlc_texpr_t *e) {
  kstate_t *s = w->s;
  mlc_dtype_t dt = s->k->bufs[e->load.buf].dtype;
  LLVMTypeRef vt = vec(w, mlc_cgk_mem_type(s->cg, dt));
  int64_t stride;
  if (affine(w, e->load.index, &stride) && stride >= 2 && stride <= 4 && w->W <= 64)
    return strided_load(w, e, stride);
  bool contig;
  LLVMValueRef p = access_ptr(w, e->load.buf, e->load.index, &contig), v;
  if (contig && !w->mask) {
    v = LLVMBuildLoad2(s->b, vt, p, "");
    LLVMSetAlignment(v, (unsigned)LLVMConstIntGetZExtValue(align_of(w, dt)));
  } else {
    LLVMTypeRef tys[2] = {vt, LLVMTypeOf(p)};
    LLVMValueRef args[4] = {p, align_of(w, dt), w->mask ? w->mask : all_lanes(w),
                            LLVMConstNull(vt)};
    v = mlc_cgk_call_intr(s, contig ? "llvm.masked.load" : "llvm.masked.gather", tys, 2,
                          args, 4);
  }
  return mlc_cgk_from_mem(s, dt, v);
}

static LLVMValueRef wx(wstate_t *w, const mlc_texpr_t *e) {
  kstate_t *s = w->s;
  if (!varying(w, e)) return bcast(w, scalar(w, e));
  switch (e->kind) {
  case MLC_TX_VAR:
    if (e->var == w->v) {
      LLVMValueRef step[64];
      for (unsigned i = 0; i < w->W; i++) step[i] = LLVMConstInt(s->cg->t_i64, i, 0);
      return LLVMBuildNSWAdd(s->b, bcast(w, w->lane0), LLVMConstVector(step, w->W), "");
    }
    return LLVMBuildLoad2(s->b, vec(w, mlc_cgk_reg_type(s->cg, e->var->dtype)),
                          wslot(w, e->var), "");
  case MLC_TX_LOAD: return w_load(w, e);
  case MLC_TX_UNARY: return mlc_cgk_unary(s, e->un.op, e->un.a->dtype, wx(w, e->un.a));
  case MLC_TX_BINARY:
    return mlc_cgk_binary(s, e->bin.op, e->bin.a->dtype, wx(w, e->bin.a), wx(w, e->bin.b));
  case MLC_TX_SELECT: {
    LLVMValueRef c = wx(w, e->sel.cond), a = wx(w, e->sel.a), b = wx(w, e->sel.b);
    return LLVMBuildSelect(s->b, c, a, b, "");
  }
  case MLC_TX_CAST: return mlc_cgk_cast(s, e->cast.a->dtype, e->dtype, wx(w, e->cast.a));
  case MLC_TX_FMA:
    return mlc_cgk_fma(s, wx(w, e->fma.a), wx(w, e->fma.b), wx(w, e->fma.c));
  default: return bcast(w, scalar(w, e));
  }
}

static void ws(wstate_t *w, const mlc_tstmt_t *t);

static void w_store(wstate_t *w, const mlc_tstmt_t *t) {
  kstate_t *s = w->s;
  mlc_dtype_t dt = s->k->bufs[t->store.buf].dtype;
  LLVMValueRef v = mlc_cgk_to_mem(s, dt, wx(w, t->store.value));
  bool contig;
  LLVMValueRef p = access_ptr(w, t->store.buf, t->store.index, &contig);
  if (contig && !w->mask) {
    LLVMValueRef st = LLVMBuildStore(s->b, v, p);
    LLVMSetAlignment(st, (unsigned)LLVMConstIntGetZExtValue(align_of(w, dt)));
    return;
  }
  LLVMTypeRef tys[2] = {LLVMTypeOf(v), LLVMTypeOf(p)};
  LLVMValueRef args[4] = {v, p, align_of(w, dt), w->mask ? w->mask : all_lanes(w)};
  mlc_cgk_call_intr(s, contig ? "llvm.masked.store" : "llvm.masked.scatter", tys, 2, args, 4);
}

static void w_assign(wstate_t *w, const mlc_tstmt_t *t) {
  kstate_t *s = w->s;
  const mlc_tvar_t *var = t->assign.var;
  LLVMValueRef v = wx(w, t->assign.value);
  if (w->ifmask) {
    LLVMValueRef old = LLVMBuildLoad2(s->b, LLVMTypeOf(v), wslot(w, var), "");
    v = LLVMBuildSelect(s->b, w->ifmask, v, old, "");
  }
  LLVMBuildStore(s->b, v, wslot(w, var));
}

/* A serial loop skeleton: slot = begin; while (slot < end) { body; slot += step }. */
static void w_loop(wstate_t *w, LLVMValueRef slot, LLVMValueRef begin, LLVMValueRef end,
                   int64_t step, void (*body)(wstate_t *, const void *, LLVMValueRef),
                   const void *ctx) {
  kstate_t *s = w->s;
  if (begin) LLVMBuildStore(s->b, begin, slot);
  LLVMBasicBlockRef cond = mlc_cgk_block(s, "w.cond"), bb = mlc_cgk_block(s, "w.body"),
                    exit = mlc_cgk_block(s, "w.end");
  LLVMBuildBr(s->b, cond);
  LLVMPositionBuilderAtEnd(s->b, cond);
  LLVMValueRef i = LLVMBuildLoad2(s->b, s->cg->t_i64, slot, "");
  LLVMBuildCondBr(s->b, LLVMBuildICmp(s->b, LLVMIntSLT, i, end, ""), bb, exit);
  LLVMPositionBuilderAtEnd(s->b, bb);
  body(w, ctx, i);
  LLVMValueRef i2 = LLVMBuildLoad2(s->b, s->cg->t_i64, slot, "");
  i2 = LLVMBuildNSWAdd(s->b, i2, LLVMConstInt(s->cg->t_i64, (unsigned long long)step, 0), "");
  LLVMBuildStore(s->b, i2, slot);
  LLVMBuildBr(s->b, cond);
  LLVMPositionBuilderAtEnd(s->b, exit);
}

static void ws_body(wstate_t *w, const void *t, LLVMValueRef i) {
  (void)i;
  ws(w, t);
}

/* The widened loop's body: lane 0 is the counter. */
static void vector_body(wstate_t *w, const void *t, LLVMValueRef i) {
  w->lane0 = i;
  ws(w, t);
}

static void w_inner_for(wstate_t *w, const mlc_tstmt_t *t) {
  kstate_t *s = w->s;
  LLVMValueRef slot = mlc_cgk_var_slot(s, t->loop.var);
  LLVMValueRef b = scalar(w, t->loop.begin), e = scalar(w, t->loop.end);
  w_loop(w, slot, b, e, 1, ws_body, t->loop.body);
}

/* Runs `t` under `mask`, skipped when no lane is on (so uniform work in
 * it, such as a scalar load, only runs when some lane wants it). */
static void masked_branch(wstate_t *w, LLVMValueRef mask, LLVMValueRef ifmask,
                          const mlc_tstmt_t *t) {
  kstate_t *s = w->s;
  w->ifmask = ifmask;
  LLVMTypeRef mt = LLVMTypeOf(mask);
  LLVMValueRef any = mlc_cgk_call_intr(s, "llvm.vector.reduce.or", &mt, 1, &mask, 1);
  LLVMBasicBlockRef on = mlc_cgk_block(s, "w.on"), join = mlc_cgk_block(s, "w.off");
  LLVMBuildCondBr(s->b, any, on, join);
  LLVMPositionBuilderAtEnd(s->b, on);
  w->mask = mask;
  ws(w, t);
  LLVMBuildBr(s->b, join);
  LLVMPositionBuilderAtEnd(s->b, join);
}

static void w_if(wstate_t *w, const mlc_tstmt_t *t) {
  kstate_t *s = w->s;
  if (!varying(w, t->if_.cond)) {
    LLVMValueRef c = scalar(w, t->if_.cond);
    LLVMBasicBlockRef th = mlc_cgk_block(s, "w.then"), join = mlc_cgk_block(s, "w.endif");
    LLVMBasicBlockRef el = t->if_.else_s ? mlc_cgk_block(s, "w.else") : join;
    LLVMBuildCondBr(s->b, c, th, el);
    LLVMPositionBuilderAtEnd(s->b, th);
    ws(w, t->if_.then_s);
    LLVMBuildBr(s->b, join);
    if (t->if_.else_s) {
      LLVMPositionBuilderAtEnd(s->b, el);
      ws(w, t->if_.else_s);
      LLVMBuildBr(s->b, join);
    }
    LLVMPositionBuilderAtEnd(s->b, join);
    return;
  }
  LLVMValueRef c = wx(w, t->if_.cond), outer = w->mask, outer_if = w->ifmask;
  masked_branch(w, outer ? LLVMBuildAnd(s->b, outer, c, "") : c,
                outer_if ? LLVMBuildAnd(s->b, outer_if, c, "") : c, t->if_.then_s);
  if (t->if_.else_s) {
    LLVMValueRef nc = LLVMBuildNot(s->b, c, "");
    masked_branch(w, outer ? LLVMBuildAnd(s->b, outer, nc, "") : nc,
                  outer_if ? LLVMBuildAnd(s->b, outer_if, nc, "") : nc, t->if_.else_s);
  }
  w->mask = outer;
  w->ifmask = outer_if;
}

static void ws(wstate_t *w, const mlc_tstmt_t *t) {
  switch (t->kind) {
  case MLC_TS_FOR: w_inner_for(w, t); break;
  case MLC_TS_STORE: w_store(w, t); break;
  case MLC_TS_ASSIGN: w_assign(w, t); break;
  case MLC_TS_IF: w_if(w, t); break;
  case MLC_TS_BLOCK:
    for (int i = 0; i < t->block.n; i++) ws(w, t->block.stmts[i]);
    break;
  }
}


static unsigned width_for(const kstate_t *s, const mlc_tstmt_t *t) {
  if (t->loop.width > 1) return t->loop.width > 64 ? 64u : (unsigned)t->loop.width;
  int bits = s->cg->target->vector_bits;
  return bits >= 64 ? (unsigned)bits / 32 : 4;
}

static void emit_widened(wstate_t *w, const mlc_tstmt_t *t) {
  kstate_t *s = w->s;
  LLVMValueRef b = mlc_cgk_expr(s, t->loop.begin), e = mlc_cgk_expr(s, t->loop.end);
  LLVMValueRef n = LLVMBuildSub(s->b, e, b, "");
  LLVMValueRef zero = LLVMConstInt(s->cg->t_i64, 0, 0);
  n = LLVMBuildSelect(s->b, LLVMBuildICmp(s->b, LLVMIntSLT, n, zero, ""), zero, n, "");
  LLVMValueRef Wc = LLVMConstInt(s->cg->t_i64, w->W, 0);
  LLVMValueRef vend = LLVMBuildSub(s->b, n, LLVMBuildURem(s->b, n, Wc, ""), "");
  vend = LLVMBuildAdd(s->b, b, vend, "");
  LLVMValueRef slot = mlc_cgk_var_slot(s, w->v);
  s->lanes = w->W;
  w_loop(w, slot, b, vend, w->W, vector_body, t->loop.body);
  /* the tail: one iteration with lanes past the end masked off */
  LLVMValueRef i = LLVMBuildLoad2(s->b, s->cg->t_i64, slot, "");
  LLVMBasicBlockRef tail = mlc_cgk_block(s, "w.tail"), done = mlc_cgk_block(s, "w.done");
  LLVMBuildCondBr(s->b, LLVMBuildICmp(s->b, LLVMIntSLT, i, e, ""), tail, done);
  LLVMPositionBuilderAtEnd(s->b, tail);
  w->lane0 = i;
  LLVMValueRef step[64];
  for (unsigned l = 0; l < w->W; l++) step[l] = LLVMConstInt(s->cg->t_i64, l, 0);
  LLVMValueRef lanes = LLVMBuildAdd(s->b, bcast(w, i), LLVMConstVector(step, w->W), "");
  w->mask = LLVMBuildICmp(s->b, LLVMIntSLT, lanes, bcast(w, e), "");
  ws(w, t->loop.body);
  w->mask = NULL;
  LLVMBuildStore(s->b, e, slot);
  LLVMBuildBr(s->b, done);
  LLVMPositionBuilderAtEnd(s->b, done);
  s->lanes = 0;
}

bool mlc_cgk_widen(kstate_t *s, const mlc_tstmt_t *t) {
  const mlc_tkernel_t *k = s->k;
  wstate_t w = {.s = s, .v = t->loop.var, .W = width_for(s, t),
                .hinted = t->loop.loop_kind == MLC_LOOP_VECTORIZE};
  if (t->loop.loop_kind == MLC_LOOP_UNROLL || w.W < 2) return false;
  w.varying = calloc((size_t)k->nvars + 1, sizeof *w.varying);
  w.wslot = calloc((size_t)k->nvars + 1, sizeof *w.wslot);
  w.stored = calloc((size_t)k->nbufs + 1, sizeof *w.stored);
  bool ok = w.varying && w.wslot && w.stored && qualifies(&w, t);
  if (ok) emit_widened(&w, t);
  free(w.varying);
  free(w.wslot);
  free(w.stored);
  return ok;
}
