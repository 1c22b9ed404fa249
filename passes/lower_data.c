/* Data movement and shape ops: copies (Identity, Reshape, Flatten,
 * Squeeze, Unsqueeze, and noop reductions), Transpose, Concat, Split,
 * Slice, Gather, Expand, Tile, Pad, Shape, Size, ConstantOfShape, Range.
 *
 * Each is a nest over the output shape whose body computes the source
 * index from the output index (grid over outer dims, innermost loop
 * vectorized); Concat and Split are one flat loop per input/output (the
 * axis and the dims after it collapsed) sharing the grid over the dims
 * before the axis.  Every index a load uses is in
 * range by construction (Gather clamps after wrapping negative indices).
 */
#include <string.h>

#include "passes/lower_internal.h"

static mlc_texpr_t *bin(lw_ctx_t *c, mlc_tbinop_t op, mlc_texpr_t *a,
                        mlc_texpr_t *b) {
  return mlc_tx_binary(c->k, op, a, b);
}
static mlc_texpr_t *i64(lw_ctx_t *c, int64_t v) { return mlc_tx_i64(c->k, v); }
static mlc_texpr_t *clampi(lw_ctx_t *c, mlc_texpr_t *x, int64_t n) {
  return bin(c, MLC_TB_MIN, bin(c, MLC_TB_MAX, x, i64(c, 0)), i64(c, n - 1));
}

/* Nest over the output of n; stores value_fn's expression. */
typedef mlc_texpr_t *(*src_fn)(lw_ctx_t *c, const mlc_node_t *n,
                               mlc_texpr_t *const *idx, const void *arg);

static mlc_status_t *map_kernel(lw_ctx_t *c, const mlc_node_t *n, src_fn fn,
                                const void *arg) {
  mlc_value_t *y = n->outputs[0];
  int64_t yd[LW_MAXR];
  lw_value_dims(y, yd);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, y->rank, yd, y->rank, true)) return lw_oom(c);
  mlc_texpr_t *v = fn(c, n, nest.idx, arg);
  if (!v) return lw_oom(c);
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0,
                                 lw_store_out(c, n, nest.idx, y->rank, v), true)))
    return lw_oom(c);
  return NULL;
}

/* ---- copies ---- */

static mlc_texpr_t *copy_src(lw_ctx_t *c, const mlc_node_t *n,
                             mlc_texpr_t *const *idx, const void *arg) {
  (void)arg;
  int b = lw_buf(c, n->inputs[0], false);
  return b < 0 ? NULL : mlc_tx_load(c->k, b, idx[0]);
}

mlc_status_t *lw_build_copy(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *y = n->outputs[0];
  if (mlc_value_numel(y) != mlc_value_numel(n->inputs[0]))
    return lw_err(c, MLC_INVALID_MODEL, "copy between different sizes");
  int64_t cnt = mlc_value_numel(y);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, 1, &cnt, 1, true)) return lw_oom(c);
  int b = lw_buf(c, y, true);
  mlc_texpr_t *v = copy_src(c, n, nest.idx, NULL);
  if (b < 0 || !v) return lw_oom(c);
  mlc_tstmt_t *s = mlc_ts_store(c->k, b, nest.idx[0], v);
  return lw_append(c, lw_nest_wrap(c, &nest, 0, s, true)) ? NULL : lw_oom(c);
}

/* ---- Transpose ---- */

static mlc_texpr_t *transpose_src(lw_ctx_t *c, const mlc_node_t *n,
                                  mlc_texpr_t *const *idx, const void *arg) {
  const int64_t *perm = arg;
  mlc_value_t *x = n->inputs[0];
  mlc_texpr_t *xi[LW_MAXR];
  for (int d = 0; d < x->rank; d++) xi[perm[d]] = idx[d];
  return lw_load_bcast(c, x, xi, x->rank);
}

mlc_status_t *lw_build_transpose(lw_ctx_t *c, const mlc_node_t *n) {
  int r = n->inputs[0]->rank;
  int64_t perm[LW_MAXR];
  const int64_t *pv;
  int64_t np = mlc_node_attr_ints(n, "perm", &pv);
  bool seen[LW_MAXR] = {0};
  for (int d = 0; d < r; d++) {
    perm[d] = np == r ? lw_norm_axis(pv[d], r) : r - 1 - d;
    if (perm[d] < 0 || perm[d] >= r || seen[perm[d]])
      return lw_err(c, MLC_INVALID_MODEL, "perm is not a permutation");
    seen[perm[d]] = true;
  }
  return map_kernel(c, n, transpose_src, perm);
}

/* ---- Concat / Split ---- */

/* Dims of v collapsed to rank axis + 1: the dims after the axis fold into
 * it (each part is contiguous there, and so is its slot in the whole). */
static void collapse_after(const mlc_value_t *v, int axis, int64_t *dims) {
  int64_t full[LW_MAXR];
  lw_value_dims(v, full);
  for (int d = 0; d <= axis; d++) dims[d] = full[d];
  for (int d = axis + 1; d < v->rank; d++) dims[axis] *= full[d];
}

/* The part of the whole that a run of parts covers, as a buffer starting
 * `elems` elements (of the dims collapsed after the axis) into it and
 * `nelems` long: the kernels of a split-up Concat then differ only in
 * where their buffers live, and dedupe-kernels lets equal ones share
 * code. */
static int shifted_buf(lw_ctx_t *c, mlc_value_t *whole, bool written,
                       int64_t elems, int64_t nelems) {
  mlc_storage_t st = whole->storage;
  st.offset += elems * (int64_t)mlc_dtype_size(whole->dtype);
  int b = mlc_tkernel_add_buf(c->k, whole->name, whole->dtype, nelems, st,
                              written);
  if (b < 0 || !MLC_VEC_PUSH(&c->bufvals, whole)) return -1;
  return b;
}

typedef struct parts {
  mlc_value_t *whole;
  bool split;
  int axis, n;
  int64_t wd[LW_MAXR]; /* the whole's dims collapsed after the axis */
} parts_t;

static mlc_value_t *part(const mlc_node_t *n, const parts_t *ps, int i) {
  return ps->split ? n->outputs[i] : n->inputs[i];
}

static int64_t part_extent(const parts_t *ps, const mlc_value_t *p) {
  int64_t pd[LW_MAXR];
  collapse_after(p, ps->axis, pd);
  return pd[ps->axis];
}

/* The axis, and every part's rank and extent against the whole's. */
static mlc_status_t *parts_check(lw_ctx_t *c, const mlc_node_t *n,
                                 parts_t *ps) {
  ps->split = n->op == MLC_OP_Split;
  ps->whole = ps->split ? n->inputs[0] : n->outputs[0];
  ps->n = ps->split ? n->noutputs : n->ninputs;
  int64_t axis = lw_norm_axis(mlc_node_attr_int(n, "axis", 0), ps->whole->rank);
  if (axis < 0 || axis >= ps->whole->rank)
    return lw_err(c, MLC_INVALID_MODEL, "axis out of range");
  ps->axis = (int)axis;
  collapse_after(ps->whole, ps->axis, ps->wd);
  int64_t off = 0;
  for (int i = 0; i < ps->n; i++) {
    mlc_value_t *p = part(n, ps, i);
    if (!p) continue;
    if (p->rank != ps->whole->rank)
      return lw_err(c, MLC_INVALID_MODEL, "part %d has rank %d, not %d", i,
                    p->rank, ps->whole->rank);
    off += part_extent(ps, p);
  }
  if (off != ps->wd[ps->axis])
    return lw_err(c, MLC_INVALID_MODEL, "parts do not add up along the axis");
  return NULL;
}

/* One flat copy loop per part of [lo, hi) (LLVM turns it into memcpy),
 * under a grid over the dims before the axis shared by all parts.  Part
 * lo starts `base` into the whole; with `shift` the kernel addresses the
 * whole from there on (shifted_buf), else from its start. */
static mlc_status_t *copy_parts(lw_ctx_t *c, const mlc_node_t *n,
                                const parts_t *ps, int lo, int hi,
                                int64_t base, bool shift) {
  int r = ps->axis + 1;
  lw_nest_t proto;
  if (!lw_nest_make(c, &proto, r, ps->wd, ps->axis, false)) return lw_oom(c);
  int64_t ext = 0, outer = 1;
  for (int i = lo; shift && i < hi; i++)
    if (part(n, ps, i)) ext += part_extent(ps, part(n, ps, i));
  for (int d = 0; d < ps->axis; d++) outer *= ps->wd[d];
  int64_t nelems = outer && ext ? (outer - 1) * ps->wd[ps->axis] + ext : 0;
  int bw = shift ? shifted_buf(c, ps->whole, !ps->split, base, nelems)
                 : lw_buf(c, ps->whole, !ps->split);
  int64_t off = shift ? 0 : base;
  for (int i = lo; i < hi; i++) {
    mlc_value_t *p = part(n, ps, i);
    if (!p) continue;
    int64_t pd[LW_MAXR];
    collapse_after(p, ps->axis, pd);
    lw_nest_t nest;
    int bp = lw_buf(c, p, ps->split);
    if (bw < 0 || bp < 0 || !lw_nest_share(c, &nest, r, pd, &proto))
      return lw_oom(c);
    mlc_texpr_t *wi[LW_MAXR];
    memcpy(wi, nest.idx, sizeof wi);
    wi[ps->axis] = lw_add_i(c, nest.idx[ps->axis], off);
    mlc_texpr_t *pidx = lw_flat(c, nest.idx, pd, r),
                *widx = lw_flat(c, wi, ps->wd, r);
    mlc_tstmt_t *s =
        ps->split ? mlc_ts_store(c->k, bp, pidx, mlc_tx_load(c->k, bw, widx))
                  : mlc_ts_store(c->k, bw, widx, mlc_tx_load(c->k, bp, pidx));
    if (mlc_value_numel(p) > 0 &&
        !lw_append(c, lw_nest_wrap(c, &nest, 0, s, true)))
      return lw_oom(c);
    off += pd[ps->axis];
  }
  return NULL;
}

static mlc_status_t *concat_like(lw_ctx_t *c, const mlc_node_t *n) {
  parts_t ps;
  MLC_RETURN_IF(parts_check(c, n, &ps));
  return copy_parts(c, n, &ps, 0, ps.n, 0, false);
}

mlc_status_t *lw_build_concat(lw_ctx_t *c, const mlc_node_t *n) {
  return concat_like(c, n);
}

mlc_status_t *lw_build_split(lw_ctx_t *c, const mlc_node_t *n) {
  return concat_like(c, n);
}

mlc_status_t *lw_build_parts(lw_ctx_t *c, const mlc_node_t *n, int lo, int hi,
                             int64_t *base) {
  parts_t ps;
  if (lo == 0) MLC_RETURN_IF(parts_check(c, n, &ps));
  /* Later runs: checked by the first; only the fields are needed. */
  ps.split = n->op == MLC_OP_Split;
  ps.whole = ps.split ? n->inputs[0] : n->outputs[0];
  ps.n = ps.split ? n->noutputs : n->ninputs;
  ps.axis = (int)lw_norm_axis(mlc_node_attr_int(n, "axis", 0), ps.whole->rank);
  collapse_after(ps.whole, ps.axis, ps.wd);
  MLC_RETURN_IF(copy_parts(c, n, &ps, lo, hi, *base, true));
  for (int i = lo; i < hi; i++)
    if (part(n, &ps, i)) *base += part_extent(&ps, part(n, &ps, i));
  return NULL;
}

/* ---- Slice ---- */

typedef struct slice_arg { int64_t start[LW_MAXR], step[LW_MAXR]; } slice_arg_t;

static mlc_texpr_t *slice_src(lw_ctx_t *c, const mlc_node_t *n,
                              mlc_texpr_t *const *idx, const void *arg) {
  const slice_arg_t *s = arg;
  mlc_value_t *x = n->inputs[0];
  mlc_texpr_t *xi[LW_MAXR];
  for (int d = 0; d < x->rank; d++)
    xi[d] = lw_add_i(c, lw_mul_i(c, idx[d], s->step[d]), s->start[d]);
  return lw_load_bcast(c, x, xi, x->rank);
}

mlc_status_t *lw_build_slice(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0];
  int r = x->rank;
  int64_t st[LW_MAXR], en[LW_MAXR], ax[LW_MAXR], sp[LW_MAXR];
  int ns, ne, na, nsp;
  MLC_RETURN_IF(lw_const_ints(c, n, 1, st, LW_MAXR, &ns));
  MLC_RETURN_IF(lw_const_ints(c, n, 2, en, LW_MAXR, &ne));
  MLC_RETURN_IF(lw_const_ints(c, n, 3, ax, LW_MAXR, &na));
  MLC_RETURN_IF(lw_const_ints(c, n, 4, sp, LW_MAXR, &nsp));
  slice_arg_t s;
  for (int d = 0; d < r; d++) {
    s.start[d] = 0;
    s.step[d] = 1;
  }
  for (int i = 0; i < ns; i++) {
    int64_t a = na ? lw_norm_axis(ax[i], r) : i;
    int64_t step = nsp ? sp[i] : 1;
    if (a < 0 || a >= r || step == 0) return lw_err(c, MLC_INVALID_MODEL, "bad axis or zero step");
    int64_t dim = x->dims[a].value, b = st[i];
    if (b < 0) b += dim;
    if (step > 0) b = b < 0 ? 0 : b > dim ? dim : b;
    else b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
    s.start[a] = b;
    s.step[a] = step;
  }
  if (mlc_value_numel(n->outputs[0]) == 0) return NULL;
  return map_kernel(c, n, slice_src, &s);
}

/* ---- Gather ---- */

static mlc_texpr_t *gather_src(lw_ctx_t *c, const mlc_node_t *n,
                               mlc_texpr_t *const *idx, const void *arg) {
  int64_t axis = *(const int64_t *)arg;
  mlc_value_t *x = n->inputs[0], *ind = n->inputs[1];
  int q = ind->rank;
  int64_t dim = x->dims[axis].value;
  mlc_texpr_t *ii = mlc_tx_cast(c->k, MLC_DT_I64, lw_load_bcast(c, ind, idx + axis, q));
  ii = mlc_tx_select(c->k, bin(c, MLC_TB_LT, ii, i64(c, 0)), lw_add_i(c, ii, dim), ii);
  mlc_texpr_t *xi[LW_MAXR];
  for (int d = 0; d < x->rank; d++)
    xi[d] = d < axis ? idx[d] : d == axis ? clampi(c, ii, dim) : idx[d + q - 1];
  return lw_load_bcast(c, x, xi, x->rank);
}

mlc_status_t *lw_build_gather(lw_ctx_t *c, const mlc_node_t *n) {
  int r = n->inputs[0]->rank;
  int64_t axis = lw_norm_axis(mlc_node_attr_int(n, "axis", 0), r);
  if (axis < 0 || axis >= r) return lw_err(c, MLC_INVALID_MODEL, "axis out of range");
  if (mlc_value_numel(n->outputs[0]) == 0) return NULL;
  return map_kernel(c, n, gather_src, &axis);
}

/* ---- Expand / Tile ---- */

static mlc_texpr_t *expand_src(lw_ctx_t *c, const mlc_node_t *n,
                               mlc_texpr_t *const *idx, const void *arg) {
  (void)arg;
  return lw_load_bcast(c, n->inputs[0], idx, n->outputs[0]->rank);
}

mlc_status_t *lw_build_expand(lw_ctx_t *c, const mlc_node_t *n) {
  if (mlc_value_numel(n->outputs[0]) == 0) return NULL;
  return map_kernel(c, n, expand_src, NULL);
}

static mlc_texpr_t *tile_src(lw_ctx_t *c, const mlc_node_t *n,
                             mlc_texpr_t *const *idx, const void *arg) {
  (void)arg;
  mlc_value_t *x = n->inputs[0];
  mlc_texpr_t *xi[LW_MAXR];
  for (int d = 0; d < x->rank; d++)
    xi[d] = bin(c, MLC_TB_MOD, idx[d], i64(c, x->dims[d].value));
  return lw_load_bcast(c, x, xi, x->rank);
}

mlc_status_t *lw_build_tile(lw_ctx_t *c, const mlc_node_t *n) {
  if (mlc_value_numel(n->outputs[0]) == 0) return NULL;
  return map_kernel(c, n, tile_src, NULL);
}

/* ---- Pad ---- */

typedef struct pad_arg { int64_t pb[LW_MAXR]; int mode; } pad_arg_t;

static mlc_texpr_t *pad_coord(lw_ctx_t *c, mlc_texpr_t *i, int64_t dim,
                              int mode) {
  switch (mode) {
  case 1: { /* reflect */
    mlc_texpr_t *a = mlc_tx_select(c->k, bin(c, MLC_TB_LT, i, i64(c, 0)),
                                   mlc_tx_unary(c->k, MLC_TU_NEG, i), i);
    a = mlc_tx_select(c->k, bin(c, MLC_TB_GE, a, i64(c, dim)),
                      bin(c, MLC_TB_SUB, i64(c, 2 * (dim - 1)), a), a);
    return clampi(c, a, dim);
  }
  case 3: /* wrap */
    return bin(c, MLC_TB_MOD, lw_add_i(c, bin(c, MLC_TB_MOD, i, i64(c, dim)), dim),
               i64(c, dim));
  default: return clampi(c, i, dim); /* edge, and constant's load */
  }
}

static mlc_texpr_t *pad_src(lw_ctx_t *c, const mlc_node_t *n,
                            mlc_texpr_t *const *idx, const void *arg) {
  const pad_arg_t *p = arg;
  mlc_value_t *x = n->inputs[0];
  mlc_texpr_t *xi[LW_MAXR], *ok = NULL;
  for (int d = 0; d < x->rank; d++) {
    int64_t dim = x->dims[d].value;
    mlc_texpr_t *i = lw_add_i(c, idx[d], -p->pb[d]);
    mlc_texpr_t *in = bin(c, MLC_TB_AND, bin(c, MLC_TB_GE, i, i64(c, 0)),
                          bin(c, MLC_TB_LT, i, i64(c, dim)));
    ok = ok ? bin(c, MLC_TB_AND, ok, in) : in;
    xi[d] = pad_coord(c, i, dim, p->mode);
  }
  mlc_texpr_t *v = lw_load_bcast(c, x, xi, x->rank);
  if (p->mode != 0 || x->rank == 0) return v;
  mlc_texpr_t *fill = mlc_tx_const(c->k, x->dtype, 0);
  if (n->ninputs > 2 && n->inputs[2] && mlc_value_numel(n->inputs[2]) > 0) {
    int b = lw_buf(c, n->inputs[2], false);
    fill = b < 0 ? NULL : mlc_tx_load(c->k, b, i64(c, 0));
  }
  return mlc_tx_select(c->k, ok, v, fill);
}

/* Constant padding without cropping, row by row: an output row (all dims
 * but the last) inside the input is fill, a contiguous copy of the input
 * row, fill; other rows are fill.  The generic map clamps every source
 * index, which made each load a gather. */
static mlc_status_t *pad_rows(lw_ctx_t *c, const mlc_node_t *n, const pad_arg_t *p,
                              bool *done) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  int r = x->rank;
  int64_t xd[LW_MAXR], yd[LW_MAXR];
  lw_value_dims(x, xd);
  lw_value_dims(y, yd);
  for (int d = 0; d < r; d++)
    if (p->pb[d] < 0 || yd[d] - xd[d] - p->pb[d] < 0) return NULL;
  *done = true;
  mlc_tkernel_t *k = c->k;
  mlc_texpr_t *fill = mlc_tx_const(k, x->dtype, 0);
  if (n->ninputs > 2 && n->inputs[2] && mlc_value_numel(n->inputs[2]) > 0) {
    int b = lw_buf(c, n->inputs[2], false);
    fill = b < 0 ? NULL : mlc_tx_load(k, b, i64(c, 0));
  }
  lw_nest_t nest;
  int bx = lw_buf(c, x, false), by = lw_buf(c, y, true);
  if (!fill || bx < 0 || by < 0 || !lw_nest_make(c, &nest, r - 1, yd, r - 1, true))
    return lw_oom(c);
  mlc_texpr_t *xi[LW_MAXR], *yi[LW_MAXR], *ok = NULL;
  for (int d = 0; d < r - 1; d++) {
    mlc_texpr_t *i = lw_add_i(c, nest.idx[d], -p->pb[d]);
    mlc_texpr_t *in = bin(c, MLC_TB_AND, bin(c, MLC_TB_GE, i, i64(c, 0)),
                          bin(c, MLC_TB_LT, i, i64(c, xd[d])));
    ok = ok ? bin(c, MLC_TB_AND, ok, in) : in;
    xi[d] = i;
    yi[d] = nest.idx[d];
  }
  int64_t lo = p->pb[r - 1], len = xd[r - 1], w = yd[r - 1];
  /* a run [a, b) of the last dim: fill, or the input shifted by lo */
  mlc_tstmt_t *run[4];
  int64_t ra[4] = {0, lo, lo + len, 0}, rb[4] = {lo, lo + len, w, w};
  for (int i = 0; i < (ok ? 4 : 3); i++) { /* run[3]: rows outside the input */
    mlc_tvar_t *v = lw_loopvar(c);
    if (!v) return lw_oom(c);
    yi[r - 1] = mlc_tx_var(k, v);
    mlc_texpr_t *val = fill;
    if (i == 1) {
      xi[r - 1] = lw_add_i(c, yi[r - 1], -lo);
      val = mlc_tx_load(k, bx, lw_flat(c, xi, xd, r));
    }
    mlc_tstmt_t *st = mlc_ts_store(k, by, lw_flat(c, yi, yd, r), val);
    run[i] = mlc_ts_for(k, v, i64(c, ra[i]), i64(c, rb[i]), MLC_LOOP_VECTORIZE, 0, st);
  }
  mlc_tstmt_t *body = mlc_ts_block(k, 3, run);
  if (ok) body = mlc_ts_if(k, ok, body, run[3]);
  if (!body || !lw_append(c, lw_nest_wrap(c, &nest, 0, body, false))) return lw_oom(c);
  return NULL;
}

mlc_status_t *lw_build_pad(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0];
  int r = x->rank;
  int64_t pads[2 * LW_MAXR], axes[LW_MAXR];
  int np, na;
  MLC_RETURN_IF(lw_const_ints(c, n, 1, pads, 2 * LW_MAXR, &np));
  MLC_RETURN_IF(lw_const_ints(c, n, 3, axes, LW_MAXR, &na));
  if (!na) {
    na = r;
    for (int d = 0; d < r; d++) axes[d] = d;
  }
  if (np != 2 * na) return lw_err(c, MLC_INVALID_MODEL, "%d pads for %d axes", np, na);
  pad_arg_t p = {.mode = 0};
  const char *mode = mlc_node_attr_string(n, "mode", "constant");
  if (strcmp(mode, "reflect") == 0) p.mode = 1;
  else if (strcmp(mode, "edge") == 0) p.mode = 2;
  else if (strcmp(mode, "wrap") == 0) p.mode = 3;
  else if (strcmp(mode, "constant") != 0)
    return lw_err(c, MLC_UNSUPPORTED, "pad mode '%s'", mode);
  for (int i = 0; i < na; i++) {
    int64_t a = lw_norm_axis(axes[i], r);
    if (a < 0 || a >= r) return lw_err(c, MLC_INVALID_MODEL, "axis out of range");
    p.pb[a] = pads[i];
  }
  if (mlc_value_numel(n->outputs[0]) == 0) return NULL;
  if (p.mode == 0 && r >= 1 && mlc_value_numel(x) > 0) {
    bool done = false;
    MLC_RETURN_IF(pad_rows(c, n, &p, &done));
    if (done) return NULL;
  }
  if (p.mode != 0 && mlc_value_numel(x) == 0)
    return lw_err(c, MLC_INVALID_MODEL, "%s padding of an empty tensor", mode);
  return map_kernel(c, n, pad_src, &p);
}

/* ---- Shape, Size, ConstantOfShape, Range ---- */

mlc_status_t *lw_build_shape(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  int b = lw_buf(c, y, true);
  if (b < 0) return lw_oom(c);
  if (n->op == MLC_OP_Size)
    return lw_append(c, mlc_ts_store(c->k, b, i64(c, 0),
                                     mlc_tx_const(c->k, y->dtype, (double)mlc_value_numel(x))))
               ? NULL : lw_oom(c);
  int64_t r = x->rank, s = mlc_node_attr_int(n, "start", 0),
          e = mlc_node_attr_int(n, "end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  if (mlc_value_numel(y) != (e > s ? e - s : 0))
    return lw_err(c, MLC_INVALID_MODEL, "output size does not match start/end");
  for (int64_t i = s; i < e; i++)
    if (!lw_append(c, mlc_ts_store(c->k, b, i64(c, i - s),
                                   mlc_tx_int(c->k, y->dtype, x->dims[i].value))))
      return lw_oom(c);
  return NULL;
}

mlc_status_t *lw_build_cofs(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *y = n->outputs[0];
  double v = 0;
  const mlc_attr_t *a = mlc_node_attr(n, "value");
  if (a && a->kind == MLC_ATTR_TENSOR && a->t->nbytes > 0) {
    mlc_value_t tmp = {.dtype = a->t->dtype, .rank = 0, .data = a->t->data};
    v = mlc_dtype_is_float(a->t->dtype) ? mlc_value_const_float(&tmp, 0)
                                        : (double)mlc_value_const_int(&tmp, 0);
  }
  int64_t cnt = mlc_value_numel(y);
  if (cnt == 0) return NULL;
  lw_nest_t nest;
  int b = lw_buf(c, y, true);
  if (b < 0 || !lw_nest_make(c, &nest, 1, &cnt, 1, true)) return lw_oom(c);
  mlc_texpr_t *val = mlc_dtype_is_float(y->dtype) ? mlc_tx_float(c->k, y->dtype, v)
                     : a && a->kind == MLC_ATTR_TENSOR && a->t->nbytes >= 8 &&
                             !mlc_dtype_is_float(a->t->dtype)
                         ? mlc_tx_int(c->k, y->dtype, *(const int64_t *)a->t->data)
                         : mlc_tx_const(c->k, y->dtype, v);
  mlc_tstmt_t *s = mlc_ts_store(c->k, b, nest.idx[0], val);
  return lw_append(c, lw_nest_wrap(c, &nest, 0, s, true)) ? NULL : lw_oom(c);
}

mlc_status_t *lw_build_range(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *y = n->outputs[0];
  int64_t cnt = mlc_value_numel(y);
  if (cnt == 0) return NULL;
  int b0 = lw_buf(c, n->inputs[0], false), b2 = lw_buf(c, n->inputs[2], false);
  int by = lw_buf(c, y, true);
  lw_nest_t nest;
  if (b0 < 0 || b2 < 0 || by < 0 || !lw_nest_make(c, &nest, 1, &cnt, 1, true))
    return lw_oom(c);
  mlc_dtype_t dt = y->dtype;
  mlc_texpr_t *v = bin(c, MLC_TB_ADD, mlc_tx_load(c->k, b0, i64(c, 0)),
                       bin(c, MLC_TB_MUL, mlc_tx_cast(c->k, dt, nest.idx[0]),
                           mlc_tx_load(c->k, b2, i64(c, 0))));
  mlc_tstmt_t *s = mlc_ts_store(c->k, by, nest.idx[0], v);
  return lw_append(c, lw_nest_wrap(c, &nest, 0, s, true)) ? NULL : lw_oom(c);
}
