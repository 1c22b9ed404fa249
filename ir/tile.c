/* Tiled IR construction.  Builders allocate in the kernel's arena; NULL in,
 * NULL out, so callers check once at the end of a chain.  See tile.h. */
#include "ir/tile.h"

#include <stdlib.h>
#include <string.h>

mlc_tkernel_t *mlc_tkernel_create(const char *name) {
  mlc_tkernel_t *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  mlc_arena_init(&k->arena);
  k->name = mlc_arena_strdup(&k->arena, name);
  if (!k->name) {
    mlc_tkernel_destroy(k);
    return NULL;
  }
  return k;
}

bool mlc_tkernel_set_nodes(mlc_tkernel_t *k, const char *const *names, int n) {
  const char **v = n > 0 ? mlc_arena_calloc(&k->arena, (size_t)n, sizeof *v) : NULL;
  if (n > 0 && !v) return false;
  for (int i = 0; i < n; i++)
    if (!(v[i] = mlc_arena_strdup(&k->arena, names[i] ? names[i] : ""))) return false;
  k->nodes = v;
  k->nnodes = n > 0 ? n : 0;
  return true;
}

void mlc_tkernel_destroy(mlc_tkernel_t *k) {
  if (!k) return;
  mlc_arena_deinit(&k->arena);
  free(k);
}

/* Grows an arena array by one element (arena arrays are never freed). */
static void *grow(mlc_arena_t *a, void *old, int n, size_t elem) {
  void *p = mlc_arena_calloc(a, (size_t)n + 1, elem);
  if (p && n) memcpy(p, old, (size_t)n * elem);
  return p;
}

int mlc_tkernel_add_buf(mlc_tkernel_t *k, const char *name, mlc_dtype_t dt,
                        int64_t nelems, mlc_storage_t storage, bool written) {
  mlc_tbuf_t *b = grow(&k->arena, k->bufs, k->nbufs, sizeof *b);
  if (!b) return -1;
  k->bufs = b;
  b[k->nbufs] = (mlc_tbuf_t){mlc_arena_strdup(&k->arena, name ? name : ""),
                             dt, nelems, storage, written, false};
  if (!b[k->nbufs].name) return -1;
  return k->nbufs++;
}

int mlc_tkernel_add_local(mlc_tkernel_t *k, const char *name, mlc_dtype_t dt,
                          int64_t nelems) {
  mlc_storage_t none = {0};
  int b = mlc_tkernel_add_buf(k, name, dt, nelems, none, true);
  if (b >= 0) k->bufs[b].local = true;
  return b;
}

mlc_tvar_t *mlc_tkernel_new_var(mlc_tkernel_t *k, mlc_tvar_kind_t kind,
                                mlc_dtype_t dt, const char *prefix) {
  mlc_tvar_t *v = mlc_arena_alloc(&k->arena, sizeof *v);
  if (!v) return NULL;
  v->id = k->nvars++;
  v->kind = kind;
  v->dtype = dt;
  v->name = mlc_arena_printf(&k->arena, "%s%d", prefix ? prefix : "v", v->id);
  return v->name ? v : NULL;
}

mlc_tvar_t *mlc_tkernel_add_grid(mlc_tkernel_t *k, int64_t extent) {
  mlc_tvar_t **g = grow(&k->arena, k->grid, k->ngrid, sizeof *g);
  int64_t *e = grow(&k->arena, k->grid_extents, k->ngrid, sizeof *e);
  mlc_tvar_t *v = mlc_tkernel_new_var(k, MLC_TV_GRID, MLC_DT_I64, "g");
  if (!g || !e || !v) return NULL;
  g[k->ngrid] = v;
  e[k->ngrid] = extent;
  k->grid = g;
  k->grid_extents = e;
  k->ngrid++;
  return v;
}

static mlc_texpr_t *new_expr(mlc_tkernel_t *k, mlc_texpr_kind_t kind,
                             mlc_dtype_t dt) {
  mlc_texpr_t *e = mlc_arena_alloc(&k->arena, sizeof *e);
  if (e) {
    e->kind = kind;
    e->dtype = dt;
  }
  return e;
}

mlc_texpr_t *mlc_tx_int(mlc_tkernel_t *k, mlc_dtype_t dt, int64_t v) {
  mlc_texpr_t *e = new_expr(k, MLC_TX_CONST, dt);
  if (e) {
    e->c.i = v;
    e->c.f = (double)v;
  }
  return e;
}

mlc_texpr_t *mlc_tx_float(mlc_tkernel_t *k, mlc_dtype_t dt, double v) {
  mlc_texpr_t *e = new_expr(k, MLC_TX_CONST, dt);
  if (e) e->c.f = v;
  return e;
}

mlc_texpr_t *mlc_tx_const(mlc_tkernel_t *k, mlc_dtype_t dt, double v) {
  if (mlc_dtype_is_float(dt)) return mlc_tx_float(k, dt, v);
  if (dt == MLC_DT_BOOL) return mlc_tx_int(k, dt, v != 0);
  if (dt == MLC_DT_U64 && v >= 9223372036854775808.0)
    return mlc_tx_int(k, dt, (int64_t)(uint64_t)v);
  return mlc_tx_int(k, dt, (int64_t)v);
}

mlc_texpr_t *mlc_tx_var(mlc_tkernel_t *k, mlc_tvar_t *v) {
  if (!v) return NULL;
  mlc_texpr_t *e = new_expr(k, MLC_TX_VAR, v->dtype);
  if (e) e->var = v;
  return e;
}

mlc_texpr_t *mlc_tx_load(mlc_tkernel_t *k, int buf, mlc_texpr_t *index) {
  if (!index || buf < 0 || buf >= k->nbufs) return NULL;
  mlc_texpr_t *e = new_expr(k, MLC_TX_LOAD, k->bufs[buf].dtype);
  if (e) {
    e->load.buf = buf;
    e->load.index = index;
  }
  return e;
}

mlc_texpr_t *mlc_tx_unary(mlc_tkernel_t *k, mlc_tunop_t op, mlc_texpr_t *a) {
  if (!a) return NULL;
  mlc_texpr_t *e =
      new_expr(k, MLC_TX_UNARY, op == MLC_TU_ISNAN ? MLC_DT_BOOL : a->dtype);
  if (e) {
    e->un.op = op;
    e->un.a = a;
  }
  return e;
}

static bool is_cmp(mlc_tbinop_t op) { return op >= MLC_TB_EQ; }

static bool is_iconst(const mlc_texpr_t *e, int64_t v) {
  return e->kind == MLC_TX_CONST && e->dtype == MLC_DT_I64 && e->c.i == v;
}

/* Simplifies i64 arithmetic on constants; NULL when nothing applies. */
static mlc_texpr_t *fold_i64(mlc_tkernel_t *k, mlc_tbinop_t op, mlc_texpr_t *a,
                             mlc_texpr_t *b) {
  if (a->dtype != MLC_DT_I64 || b->dtype != MLC_DT_I64) return NULL;
  bool ca = a->kind == MLC_TX_CONST, cb = b->kind == MLC_TX_CONST;
  if (ca && cb) {
    int64_t x = a->c.i, y = b->c.i;
    switch (op) {
    case MLC_TB_ADD: return mlc_tx_i64(k, (int64_t)((uint64_t)x + (uint64_t)y));
    case MLC_TB_SUB: return mlc_tx_i64(k, (int64_t)((uint64_t)x - (uint64_t)y));
    case MLC_TB_MUL: return mlc_tx_i64(k, (int64_t)((uint64_t)x * (uint64_t)y));
    case MLC_TB_MIN: return mlc_tx_i64(k, x < y ? x : y);
    case MLC_TB_MAX: return mlc_tx_i64(k, x > y ? x : y);
    default: return NULL;
    }
  }
  switch (op) {
  case MLC_TB_ADD:
    if (is_iconst(a, 0)) return b;
    if (is_iconst(b, 0)) return a;
    return NULL;
  case MLC_TB_SUB: return is_iconst(b, 0) ? a : NULL;
  case MLC_TB_MUL:
    if (is_iconst(a, 1)) return b;
    if (is_iconst(b, 1)) return a;
    if (is_iconst(a, 0) || is_iconst(b, 0)) return mlc_tx_i64(k, 0);
    return NULL;
  case MLC_TB_DIV: return is_iconst(b, 1) ? a : NULL;
  default: return NULL;
  }
}

mlc_texpr_t *mlc_tx_binary(mlc_tkernel_t *k, mlc_tbinop_t op, mlc_texpr_t *a,
                           mlc_texpr_t *b) {
  if (!a || !b) return NULL;
  mlc_texpr_t *f = fold_i64(k, op, a, b);
  if (f) return f;
  mlc_texpr_t *e =
      new_expr(k, MLC_TX_BINARY, is_cmp(op) ? MLC_DT_BOOL : a->dtype);
  if (e) {
    e->bin.op = op;
    e->bin.a = a;
    e->bin.b = b;
  }
  return e;
}

mlc_texpr_t *mlc_tx_select(mlc_tkernel_t *k, mlc_texpr_t *c, mlc_texpr_t *a,
                           mlc_texpr_t *b) {
  if (!c || !a || !b) return NULL;
  mlc_texpr_t *e = new_expr(k, MLC_TX_SELECT, a->dtype);
  if (e) {
    e->sel.cond = c;
    e->sel.a = a;
    e->sel.b = b;
  }
  return e;
}

mlc_texpr_t *mlc_tx_fma(mlc_tkernel_t *k, mlc_texpr_t *a, mlc_texpr_t *b,
                        mlc_texpr_t *c) {
  if (!a || !b || !c) return NULL;
  mlc_texpr_t *e = new_expr(k, MLC_TX_FMA, a->dtype);
  if (e) {
    e->fma.a = a;
    e->fma.b = b;
    e->fma.c = c;
  }
  return e;
}

mlc_texpr_t *mlc_tx_cast(mlc_tkernel_t *k, mlc_dtype_t dt, mlc_texpr_t *a) {
  if (!a) return NULL;
  if (a->dtype == dt) return a;
  mlc_texpr_t *e = new_expr(k, MLC_TX_CAST, dt);
  if (e) e->cast.a = a;
  return e;
}

static mlc_tstmt_t *new_stmt(mlc_tkernel_t *k, mlc_tstmt_kind_t kind) {
  mlc_tstmt_t *s = mlc_arena_alloc(&k->arena, sizeof *s);
  if (s) s->kind = kind;
  return s;
}

mlc_tstmt_t *mlc_ts_for(mlc_tkernel_t *k, mlc_tvar_t *var, mlc_texpr_t *begin,
                        mlc_texpr_t *end, mlc_loop_kind_t kind, int width,
                        mlc_tstmt_t *body) {
  if (!var || !begin || !end || !body) return NULL;
  mlc_tstmt_t *s = new_stmt(k, MLC_TS_FOR);
  if (s) {
    s->loop.var = var;
    s->loop.begin = begin;
    s->loop.end = end;
    s->loop.loop_kind = kind;
    s->loop.width = width;
    s->loop.body = body;
  }
  return s;
}

mlc_tstmt_t *mlc_ts_store(mlc_tkernel_t *k, int buf, mlc_texpr_t *index,
                          mlc_texpr_t *value) {
  if (!index || !value || buf < 0 || buf >= k->nbufs) return NULL;
  mlc_tstmt_t *s = new_stmt(k, MLC_TS_STORE);
  if (s) {
    s->store.buf = buf;
    s->store.index = index;
    s->store.value = value;
  }
  return s;
}

mlc_tstmt_t *mlc_ts_assign(mlc_tkernel_t *k, mlc_tvar_t *var,
                           mlc_texpr_t *value) {
  if (!var || !value) return NULL;
  mlc_tstmt_t *s = new_stmt(k, MLC_TS_ASSIGN);
  if (s) {
    s->assign.var = var;
    s->assign.value = value;
  }
  return s;
}

mlc_tstmt_t *mlc_ts_if(mlc_tkernel_t *k, mlc_texpr_t *cond, mlc_tstmt_t *then_s,
                       mlc_tstmt_t *else_s) {
  if (!cond || !then_s) return NULL;
  mlc_tstmt_t *s = new_stmt(k, MLC_TS_IF);
  if (s) {
    s->if_.cond = cond;
    s->if_.then_s = then_s;
    s->if_.else_s = else_s;
  }
  return s;
}

mlc_tstmt_t *mlc_ts_block(mlc_tkernel_t *k, int n, mlc_tstmt_t *const *stmts) {
  for (int i = 0; i < n; i++)
    if (!stmts[i]) return NULL;
  mlc_tstmt_t *s = new_stmt(k, MLC_TS_BLOCK);
  if (!s) return NULL;
  s->block.n = n;
  if (n) {
    s->block.stmts = mlc_arena_calloc(&k->arena, (size_t)n, sizeof *stmts);
    if (!s->block.stmts) return NULL;
    memcpy(s->block.stmts, stmts, (size_t)n * sizeof *stmts);
  }
  return s;
}

bool mlc_ts_block_append(mlc_tkernel_t *k, mlc_tstmt_t *block, mlc_tstmt_t *s) {
  if (!block || !s || block->kind != MLC_TS_BLOCK) return false;
  mlc_tstmt_t **p = grow(&k->arena, block->block.stmts, block->block.n, sizeof *p);
  if (!p) return false;
  p[block->block.n++] = s;
  block->block.stmts = p;
  return true;
}

const char *mlc_tunop_name(mlc_tunop_t op) {
  static const char *const names[MLC_TU_COUNT_] = {
      "neg", "abs", "sqrt", "exp", "log", "tanh", "erf",
      "floor", "ceil", "round", "sin", "cos", "not", "isnan"};
  return (unsigned)op < MLC_TU_COUNT_ ? names[op] : "?";
}

const char *mlc_tbinop_name(mlc_tbinop_t op) {
  static const char *const names[MLC_TB_COUNT_] = {
      "add", "sub", "mul", "div", "mod", "pow", "min", "max", "and",
      "or",  "xor", "eq",  "ne",  "lt",  "le",  "gt",  "ge"};
  return (unsigned)op < MLC_TB_COUNT_ ? names[op] : "?";
}

int64_t mlc_tkernel_ntiles(const mlc_tkernel_t *k) {
  int64_t n = 1;
  for (int i = 0; i < k->ngrid; i++) n *= k->grid_extents[i];
  return n;
}

bool mlc_tstmt_has_loop(const mlc_tstmt_t *s) {
  switch (s->kind) {
  case MLC_TS_FOR: return true;
  case MLC_TS_IF:
    return mlc_tstmt_has_loop(s->if_.then_s) ||
           (s->if_.else_s && mlc_tstmt_has_loop(s->if_.else_s));
  case MLC_TS_BLOCK:
    for (int i = 0; i < s->block.n; i++)
      if (mlc_tstmt_has_loop(s->block.stmts[i])) return true;
    return false;
  default: return false;
  }
}
