/* The tiled IR verifier (see tile.h for the rules it enforces):
 *
 *  - dtypes: every expression has a computable dtype that matches its kind:
 *    a VAR has its variable's dtype, a LOAD its buffer's; indexes and loop
 *    bounds are i64; UNARY keeps the operand's dtype (ISNAN gives bool,
 *    takes a float; math functions take floats; NOT takes bool or ints);
 *    BINARY operands share one dtype, comparisons give bool, others keep it,
 *    AND/OR/XOR take bool or ints, arithmetic does not take bool; SELECT
 *    takes a bool condition and two operands of its own dtype; CAST goes
 *    between computable dtypes; IF conditions are bool; a STORE's value has
 *    the buffer's dtype, an ASSIGN's the local's.
 *  - variables: ids in [0, nvars) and one variable object per id; grid
 *    variables are the kernel's, i64, in scope everywhere; a loop variable
 *    is i64, LOOP kind, read only inside its loop, and not rebound by a
 *    nested loop; a local is read only after an ASSIGN to it earlier in
 *    program text.
 *  - buffers: indexes in [0, nbufs), constant element indexes within
 *    [0, nelems), stores only to buffers marked written; local buffers
 *    are written, have no storage and at most MLC_TBUF_LOCAL_MAX_BYTES.
 *  - shape: grid extents >= 1, no NULL statements or operands.
 *
 * Errors are MLC_INTERNAL with the kernel name and a path to the fault. */
#include <inttypes.h>
#include <stdlib.h>

#include "ir/tile.h"

typedef struct tverifier {
  const mlc_tkernel_t *k;
  const mlc_tvar_t **vars;  /* by id: first variable object seen */
  unsigned char *in_scope;  /* by id: grid or enclosing loop variable */
  unsigned char *assigned;  /* by id: local assigned earlier */
} tverifier_t;

#define VERR(...) MLC_ERR(INTERNAL, __VA_ARGS__)

static mlc_status_t *check_var(tverifier_t *vf, const mlc_tvar_t *v) {
  if (!v) return VERR("NULL variable");
  if (v->id < 0 || v->id >= vf->k->nvars)
    return VERR("variable '%s' has id %d outside [0, %d)", v->name ? v->name : "?",
                v->id, vf->k->nvars);
  if (vf->vars[v->id] && vf->vars[v->id] != v)
    return VERR("two variables share id %d", v->id);
  vf->vars[v->id] = v;
  if ((v->kind == MLC_TV_GRID || v->kind == MLC_TV_LOOP) && v->dtype != MLC_DT_I64)
    return VERR("variable '%s' is %s, expected i64", v->name, mlc_dtype_name(v->dtype));
  if (!mlc_dtype_is_computable(v->dtype))
    return VERR("variable '%s' has dtype %s", v->name, mlc_dtype_name(v->dtype));
  return NULL;
}

static mlc_status_t *check_expr(tverifier_t *vf, const mlc_texpr_t *e);

static mlc_status_t *check_index(tverifier_t *vf, int buf, const mlc_texpr_t *idx) {
  const mlc_tkernel_t *k = vf->k;
  if (buf < 0 || buf >= k->nbufs)
    return VERR("buffer %d out of range [0, %d)", buf, k->nbufs);
  MLC_RETURN_IF_ERROR(check_expr(vf, idx), "index");
  if (idx->dtype != MLC_DT_I64)
    return VERR("index has dtype %s, expected i64", mlc_dtype_name(idx->dtype));
  if (idx->kind == MLC_TX_CONST && (idx->c.i < 0 || idx->c.i >= k->bufs[buf].nelems))
    return VERR("constant index %" PRId64 " outside [0, %" PRId64 ") of '%s'",
                idx->c.i, k->bufs[buf].nelems, k->bufs[buf].name);
  return NULL;
}

static mlc_status_t *check_var_read(tverifier_t *vf, const mlc_texpr_t *e) {
  const mlc_tvar_t *v = e->var;
  MLC_RETURN_IF(check_var(vf, v));
  if (e->dtype != v->dtype)
    return VERR("read of '%s' has dtype %s, the variable %s", v->name,
                mlc_dtype_name(e->dtype), mlc_dtype_name(v->dtype));
  if (v->kind == MLC_TV_LOCAL && !vf->assigned[v->id])
    return VERR("local '%s' read before any assignment", v->name);
  if (v->kind != MLC_TV_LOCAL && !vf->in_scope[v->id])
    return VERR("variable '%s' read outside its loop", v->name);
  return NULL;
}

static bool float_only(mlc_tunop_t op) {
  return op != MLC_TU_NEG && op != MLC_TU_ABS && op != MLC_TU_NOT;
}

static mlc_status_t *check_unary(tverifier_t *vf, const mlc_texpr_t *e) {
  const mlc_texpr_t *a = e->un.a;
  const char *nm = mlc_tunop_name(e->un.op);
  if ((unsigned)e->un.op >= MLC_TU_COUNT_) return VERR("bad unary op %d", (int)e->un.op);
  MLC_RETURN_IF_ERROR(check_expr(vf, a), "%s", nm);
  mlc_dtype_t want = e->un.op == MLC_TU_ISNAN ? MLC_DT_BOOL : a->dtype;
  if (e->dtype != want)
    return VERR("%s gives %s, expected %s", nm, mlc_dtype_name(e->dtype),
                mlc_dtype_name(want));
  if (float_only(e->un.op) && !mlc_dtype_is_float(a->dtype))
    return VERR("%s of %s, expected a float", nm, mlc_dtype_name(a->dtype));
  if (e->un.op == MLC_TU_NOT && mlc_dtype_is_float(a->dtype))
    return VERR("not of %s, expected bool or an int", mlc_dtype_name(a->dtype));
  if (e->un.op != MLC_TU_NOT && a->dtype == MLC_DT_BOOL)
    return VERR("%s of bool", nm);
  return NULL;
}

static mlc_status_t *check_binary(tverifier_t *vf, const mlc_texpr_t *e) {
  mlc_tbinop_t op = e->bin.op;
  if ((unsigned)op >= MLC_TB_COUNT_) return VERR("bad binary op %d", (int)op);
  const char *nm = mlc_tbinop_name(op);
  MLC_RETURN_IF_ERROR(check_expr(vf, e->bin.a), "%s operand 0", nm);
  MLC_RETURN_IF_ERROR(check_expr(vf, e->bin.b), "%s operand 1", nm);
  mlc_dtype_t dt = e->bin.a->dtype;
  if (e->bin.b->dtype != dt)
    return VERR("%s of %s and %s", nm, mlc_dtype_name(dt),
                mlc_dtype_name(e->bin.b->dtype));
  bool cmp = op >= MLC_TB_EQ, logic = op == MLC_TB_AND || op == MLC_TB_OR ||
                                      op == MLC_TB_XOR;
  mlc_dtype_t want = cmp ? MLC_DT_BOOL : dt;
  if (e->dtype != want)
    return VERR("%s gives %s, expected %s", nm, mlc_dtype_name(e->dtype),
                mlc_dtype_name(want));
  if (logic && mlc_dtype_is_float(dt))
    return VERR("%s of %s, expected bool or an int", nm, mlc_dtype_name(dt));
  if (!logic && !cmp && dt == MLC_DT_BOOL) return VERR("%s of bool", nm);
  return NULL;
}

static mlc_status_t *check_fma(tverifier_t *vf, const mlc_texpr_t *e) {
  const mlc_texpr_t *ops[3] = {e->fma.a, e->fma.b, e->fma.c};
  for (int i = 0; i < 3; i++) {
    MLC_RETURN_IF_ERROR(check_expr(vf, ops[i]), "fma operand %d", i);
    if (ops[i]->dtype != e->dtype)
      return VERR("fma operand %d is %s, the fma %s", i,
                  mlc_dtype_name(ops[i]->dtype), mlc_dtype_name(e->dtype));
  }
  if (!mlc_dtype_is_float(e->dtype))
    return VERR("fma of %s, expected a float", mlc_dtype_name(e->dtype));
  return NULL;
}

static mlc_status_t *check_expr_kind(tverifier_t *vf, const mlc_texpr_t *e) {
  switch (e->kind) {
  case MLC_TX_CONST:
    if (e->dtype == MLC_DT_BOOL && e->c.i != 0 && e->c.i != 1)
      return VERR("bool constant %" PRId64, e->c.i);
    return NULL;
  case MLC_TX_VAR: return check_var_read(vf, e);
  case MLC_TX_LOAD: {
    MLC_RETURN_IF_ERROR(check_index(vf, e->load.buf, e->load.index),
                        "load from buffer %d", e->load.buf);
    mlc_dtype_t bdt = vf->k->bufs[e->load.buf].dtype;
    if (e->dtype != bdt)
      return VERR("load from '%s' has dtype %s, the buffer %s",
                  vf->k->bufs[e->load.buf].name, mlc_dtype_name(e->dtype),
                  mlc_dtype_name(bdt));
    return NULL;
  }
  case MLC_TX_UNARY: return check_unary(vf, e);
  case MLC_TX_BINARY: return check_binary(vf, e);
  case MLC_TX_SELECT:
    MLC_RETURN_IF_ERROR(check_expr(vf, e->sel.cond), "select condition");
    MLC_RETURN_IF_ERROR(check_expr(vf, e->sel.a), "select operand 1");
    MLC_RETURN_IF_ERROR(check_expr(vf, e->sel.b), "select operand 2");
    if (e->sel.cond->dtype != MLC_DT_BOOL)
      return VERR("select condition is %s, expected bool",
                  mlc_dtype_name(e->sel.cond->dtype));
    if (e->sel.a->dtype != e->dtype || e->sel.b->dtype != e->dtype)
      return VERR("select of %s and %s gives %s", mlc_dtype_name(e->sel.a->dtype),
                  mlc_dtype_name(e->sel.b->dtype), mlc_dtype_name(e->dtype));
    return NULL;
  case MLC_TX_CAST: return check_expr(vf, e->cast.a);
  case MLC_TX_FMA: return check_fma(vf, e);
  }
  return VERR("bad expression kind %d", (int)e->kind);
}

static mlc_status_t *check_expr(tverifier_t *vf, const mlc_texpr_t *e) {
  if (!e) return VERR("NULL expression");
  if (!mlc_dtype_is_computable(e->dtype))
    return VERR("expression of dtype %s", mlc_dtype_name(e->dtype));
  return check_expr_kind(vf, e);
}

static mlc_status_t *check_stmt(tverifier_t *vf, const mlc_tstmt_t *s);

static mlc_status_t *check_i64(tverifier_t *vf, const mlc_texpr_t *e, const char *what) {
  MLC_RETURN_IF_ERROR(check_expr(vf, e), "%s", what);
  if (e->dtype != MLC_DT_I64)
    return VERR("%s has dtype %s, expected i64", what, mlc_dtype_name(e->dtype));
  return NULL;
}

static mlc_status_t *check_for(tverifier_t *vf, const mlc_tstmt_t *s) {
  const mlc_tvar_t *v = s->loop.var;
  MLC_RETURN_IF(check_var(vf, v));
  const char *nm = v->name ? v->name : "?";
  if (v->kind != MLC_TV_LOOP) return VERR("loop over '%s', not a loop variable", nm);
  MLC_RETURN_IF_ERROR(check_i64(vf, s->loop.begin, "begin"), "for %s", nm);
  MLC_RETURN_IF_ERROR(check_i64(vf, s->loop.end, "end"), "for %s", nm);
  if (s->loop.width < 0) return VERR("for %s: vector width %d", nm, s->loop.width);
  if (vf->in_scope[v->id]) return VERR("for %s: variable already bound by an enclosing loop", nm);
  vf->in_scope[v->id] = 1;
  mlc_status_t *st = check_stmt(vf, s->loop.body);
  vf->in_scope[v->id] = 0;
  return mlc_status_annotate(st, "for %s", nm);
}

static mlc_status_t *check_store(tverifier_t *vf, const mlc_tstmt_t *s) {
  int b = s->store.buf;
  MLC_RETURN_IF_ERROR(check_index(vf, b, s->store.index), "store to buffer %d", b);
  const mlc_tbuf_t *buf = &vf->k->bufs[b];
  MLC_RETURN_IF_ERROR(check_expr(vf, s->store.value), "store to '%s'", buf->name);
  if (!buf->written) return VERR("store to '%s', which is not a written buffer", buf->name);
  if (s->store.value->dtype != buf->dtype)
    return VERR("store of %s to '%s' of %s", mlc_dtype_name(s->store.value->dtype),
                buf->name, mlc_dtype_name(buf->dtype));
  return NULL;
}

static mlc_status_t *check_assign(tverifier_t *vf, const mlc_tstmt_t *s) {
  const mlc_tvar_t *v = s->assign.var;
  MLC_RETURN_IF(check_var(vf, v));
  if (v->kind != MLC_TV_LOCAL) return VERR("assignment to '%s', not a local", v->name);
  MLC_RETURN_IF_ERROR(check_expr(vf, s->assign.value), "assignment to '%s'", v->name);
  if (s->assign.value->dtype != v->dtype)
    return VERR("assignment of %s to '%s' of %s",
                mlc_dtype_name(s->assign.value->dtype), v->name, mlc_dtype_name(v->dtype));
  vf->assigned[v->id] = 1;
  return NULL;
}

static mlc_status_t *check_stmt(tverifier_t *vf, const mlc_tstmt_t *s) {
  if (!s) return VERR("NULL statement");
  switch (s->kind) {
  case MLC_TS_FOR: return check_for(vf, s);
  case MLC_TS_STORE: return check_store(vf, s);
  case MLC_TS_ASSIGN: return check_assign(vf, s);
  case MLC_TS_IF:
    MLC_RETURN_IF_ERROR(check_expr(vf, s->if_.cond), "if condition");
    if (s->if_.cond->dtype != MLC_DT_BOOL)
      return VERR("if condition is %s, expected bool", mlc_dtype_name(s->if_.cond->dtype));
    MLC_RETURN_IF_ERROR(check_stmt(vf, s->if_.then_s), "if");
    if (s->if_.else_s) MLC_RETURN_IF_ERROR(check_stmt(vf, s->if_.else_s), "else");
    return NULL;
  case MLC_TS_BLOCK:
    for (int i = 0; i < s->block.n; i++)
      MLC_RETURN_IF_ERROR(check_stmt(vf, s->block.stmts[i]), "statement %d", i);
    return NULL;
  }
  return VERR("bad statement kind %d", (int)s->kind);
}

static mlc_status_t *check_grid(tverifier_t *vf) {
  const mlc_tkernel_t *k = vf->k;
  for (int i = 0; i < k->ngrid; i++) {
    MLC_RETURN_IF_ERROR(check_var(vf, k->grid[i]), "grid dimension %d", i);
    if (k->grid[i]->kind != MLC_TV_GRID)
      return VERR("grid dimension %d: '%s' is not a grid variable", i, k->grid[i]->name);
    if (k->grid_extents[i] < 1)
      return VERR("grid dimension %d has extent %" PRId64, i, k->grid_extents[i]);
    vf->in_scope[k->grid[i]->id] = 1;
  }
  return NULL;
}

static mlc_status_t *check_local(const mlc_tkernel_t *k, int i) {
  const mlc_tbuf_t *b = &k->bufs[i];
  if (!b->local) return NULL;
  if (!b->written || b->storage.kind != MLC_STORAGE_NONE)
    return VERR("local buffer %d '%s' has storage or is not written", i, b->name);
  size_t esz = mlc_dtype_size(b->dtype);
  if (b->nelems > MLC_TBUF_LOCAL_MAX_BYTES / (int64_t)(esz ? esz : 1))
    return VERR("local buffer %d '%s' is over %d bytes", i, b->name, MLC_TBUF_LOCAL_MAX_BYTES);
  return NULL;
}

mlc_status_t *mlc_tkernel_verify(const mlc_tkernel_t *k) {
  size_t n = (size_t)(k->nvars > 0 ? k->nvars : 0) + 1;
  tverifier_t vf = {k, calloc(n, sizeof *vf.vars), calloc(n, 1), calloc(n, 1)};
  mlc_status_t *st = NULL;
  if (!vf.vars || !vf.in_scope || !vf.assigned) st = MLC_ERR(OUT_OF_MEMORY, "verifying kernel");
  for (int i = 0; !st && i < k->nbufs; i++)
    if (!mlc_dtype_is_computable(k->bufs[i].dtype) || k->bufs[i].nelems < 0)
      st = VERR("buffer %d '%s': %s[%" PRId64 "]", i, k->bufs[i].name,
                mlc_dtype_name(k->bufs[i].dtype), k->bufs[i].nelems);
  for (int i = 0; !st && i < k->nbufs; i++) st = check_local(k, i);
  if (!st) st = check_grid(&vf);
  if (!st && (k->block < 0 || k->block > k->ngrid))
    st = VERR("block names grid dim %d of %d", k->block - 1, k->ngrid);
  if (!st && k->body) st = check_stmt(&vf, k->body); /* no body: empty */
  free(vf.vars);
  free(vf.in_scope);
  free(vf.assigned);
  return mlc_status_annotate(st, "verify: kernel %s", k->name ? k->name : "?");
}
