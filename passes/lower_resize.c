/* Resize (nearest and N-linear): geometry (shared with shape inference)
 * and lowering.
 *
 * Output sizes: from `sizes` (with keep_aspect_ratio_policy not_larger /
 * not_smaller: one common scale, round-half-up sizes) or floor(in *
 * scale) from `scales`; axes not listed in `axes` keep their size.  The
 * scale of an axis is the given one, or out / in with sizes; the
 * coordinate formulas' length_resized is scale * in.  Coordinates
 * follow coordinate_transformation_mode (half_pixel, half_pixel_symmetric,
 * pytorch_half_pixel, align_corners, asymmetric); tf_crop_and_resize and
 * cubic are not handled.
 *
 * Kernel: a nest over the output; per resized axis the source coordinate
 * is computed in f64.  nearest rounds it per nearest_mode and clamps to
 * the input; linear takes floor and floor + 1 (each clamped, which equals
 * ONNX's edge padding) with weights 1 - f and f, summing the 2^k corners
 * of the k resized axes in f64.
 */
#include <math.h>
#include <string.h>

#include "passes/lower_internal.h"
#include "passes/resize.h"

static const char *read_targets(const mlc_node_t *n, mlc_resize_geom_t *g,
                                const int64_t *axes, int na,
                                bool *unsupported, double *scale) {
  const mlc_value_t *sc = n->ninputs > 2 ? n->inputs[2] : NULL;
  const mlc_value_t *sz = n->ninputs > 3 ? n->inputs[3] : NULL;
  if (sc && mlc_value_numel(sc) == 0) sc = NULL;
  if (sz && mlc_value_numel(sz) == 0) sz = NULL;
  if (!sc == !sz) return "exactly one of scales and sizes must be given";
  const mlc_value_t *t = sc ? sc : sz;
  if (!mlc_value_is_const(t)) {
    *unsupported = true;
    return sc ? "input 2 'scales' is not a constant; mlc needs static shapes"
              : "input 3 'sizes' is not a constant; mlc needs static shapes";
  }
  if (mlc_value_numel(t) != na) return "scales/sizes length differs from the axes";
  const char *pol = mlc_node_attr_string(n, "keep_aspect_ratio_policy", "stretch");
  bool nl = strcmp(pol, "not_larger") == 0, ns = strcmp(pol, "not_smaller") == 0;
  double common = nl ? INFINITY : 0;
  for (int i = 0; i < na; i++) {
    int a = (int)axes[i];
    if (sc) {
      scale[a] = mlc_value_const_float(sc, i);
      if (!(scale[a] > 0)) return "scales must be > 0";
      g->out[a] = (int64_t)floor((double)g->in[a] * scale[a]);
    } else {
      g->out[a] = mlc_value_const_int(sz, i);
      if (g->out[a] < 0) return "sizes must be >= 0";
      scale[a] = g->in[a] ? (double)g->out[a] / (double)g->in[a] : 1.0;
      common = nl ? fmin(common, scale[a]) : fmax(common, scale[a]);
    }
  }
  if (sz && (nl || ns))
    for (int i = 0; i < na; i++) {
      int a = (int)axes[i];
      scale[a] = common;
      g->out[a] = (int64_t)floor(common * (double)g->in[a] + 0.5);
    }
  return NULL;
}

/* Coordinate map of axis a (see resize.h).  As in ONNX's reference,
 * length_resized is the fractional output width scale * in, not the
 * integer size (they differ when scales do not divide evenly). */
static void coord_map(mlc_resize_geom_t *g, int a, const char *mode,
                      double s) {
  double in = (double)g->in[a], out = s * in;
  g->mul[a] = 1, g->add[a] = 0.5, g->div[a] = s, g->sub[a] = 0.5;
  if (strcmp(mode, "asymmetric") == 0) {
    g->add[a] = 0, g->sub[a] = 0;
  } else if (strcmp(mode, "align_corners") == 0) {
    g->mul[a] = out > 1 ? in - 1 : 0, g->add[a] = 0;
    g->div[a] = out > 1 ? out - 1 : 1, g->sub[a] = 0;
  } else if (strcmp(mode, "pytorch_half_pixel") == 0 && out <= 1) {
    g->mul[a] = 0, g->add[a] = 0, g->div[a] = 1, g->sub[a] = 0;
  } else if (strcmp(mode, "half_pixel_symmetric") == 0) {
    double adj = (double)g->out[a] / out;
    g->sub[a] = 0.5 - in / 2 * (1 - adj);
  }
}

const char *mlc_resize_geometry(const mlc_node_t *n, mlc_resize_geom_t *g,
                                bool *unsupported) {
  const mlc_value_t *x = n->inputs[0];
  *unsupported = false;
  g->rank = x->rank;
  if (x->rank < 1 || x->rank > MLC_RESIZE_MAX_RANK) return "unsupported rank";
  const char *mode = mlc_node_attr_string(n, "coordinate_transformation_mode",
                                          "half_pixel");
  if (strcmp(mode, "tf_crop_and_resize") == 0) {
    *unsupported = true;
    return "coordinate_transformation_mode tf_crop_and_resize";
  }
  int64_t axes[MLC_RESIZE_MAX_RANK];
  const int64_t *av;
  int64_t na = mlc_node_attr_ints(n, "axes", &av);
  if (na > x->rank) return "too many axes";
  if (na < 0) na = x->rank;
  for (int i = 0; i < na; i++) {
    int64_t a = mlc_node_attr_ints(n, "axes", &av) >= 0 ? av[i] : i;
    if (a < 0) a += x->rank;
    if (a < 0 || a >= x->rank) return "axis out of range";
    axes[i] = a;
  }
  double scale[MLC_RESIZE_MAX_RANK];
  for (int d = 0; d < x->rank; d++) {
    g->in[d] = g->out[d] = x->dims[d].value;
    scale[d] = 1.0;
  }
  const char *why = read_targets(n, g, axes, (int)na, unsupported, scale);
  if (why) return why;
  for (int d = 0; d < x->rank; d++) {
    g->resized[d] = !(scale[d] == 1.0 && g->out[d] == g->in[d]);
    coord_map(g, d, mode, scale[d]);
  }
  return NULL;
}

/* ---- lowering ---- */

static mlc_texpr_t *f64(lw_ctx_t *c, double v) {
  return mlc_tx_const(c->k, MLC_DT_F64, v);
}
static mlc_texpr_t *bin(lw_ctx_t *c, mlc_tbinop_t op, mlc_texpr_t *a,
                        mlc_texpr_t *b) {
  return mlc_tx_binary(c->k, op, a, b);
}
static mlc_texpr_t *clamp_i(lw_ctx_t *c, mlc_texpr_t *i, int64_t n) {
  return bin(c, MLC_TB_MIN, bin(c, MLC_TB_MAX, i, mlc_tx_i64(c->k, 0)),
             mlc_tx_i64(c->k, n - 1));
}

static mlc_texpr_t *src_coord(lw_ctx_t *c, const mlc_resize_geom_t *g, int d,
                              mlc_texpr_t *o) {
  mlc_texpr_t *x = mlc_tx_cast(c->k, MLC_DT_F64, o);
  x = bin(c, MLC_TB_ADD, bin(c, MLC_TB_MUL, x, f64(c, g->mul[d])), f64(c, g->add[d]));
  return bin(c, MLC_TB_SUB, bin(c, MLC_TB_DIV, x, f64(c, g->div[d])), f64(c, g->sub[d]));
}

static mlc_texpr_t *nearest(lw_ctx_t *c, const mlc_node_t *n, mlc_texpr_t *x) {
  const char *m = mlc_node_attr_string(n, "nearest_mode", "round_prefer_floor");
  if (strcmp(m, "floor") == 0) return mlc_tx_unary(c->k, MLC_TU_FLOOR, x);
  if (strcmp(m, "ceil") == 0) return mlc_tx_unary(c->k, MLC_TU_CEIL, x);
  if (strcmp(m, "round_prefer_ceil") == 0)
    return mlc_tx_unary(c->k, MLC_TU_FLOOR, bin(c, MLC_TB_ADD, x, f64(c, 0.5)));
  return mlc_tx_unary(c->k, MLC_TU_CEIL, bin(c, MLC_TB_SUB, x, f64(c, 0.5)));
}

static mlc_texpr_t *linear(lw_ctx_t *c, const mlc_resize_geom_t *g,
                           mlc_value_t *x, mlc_texpr_t *const *oi) {
  int r = g->rank, ax[LW_MAXR], k = 0;
  mlc_texpr_t *i0[LW_MAXR], *i1[LW_MAXR], *f[LW_MAXR], *idx[LW_MAXR];
  for (int d = 0; d < r; d++) {
    if (!g->resized[d]) continue;
    mlc_texpr_t *xs = src_coord(c, g, d, oi[d]);
    mlc_texpr_t *fl = mlc_tx_unary(c->k, MLC_TU_FLOOR, xs);
    mlc_texpr_t *b = mlc_tx_cast(c->k, MLC_DT_I64, fl);
    f[k] = bin(c, MLC_TB_SUB, xs, fl);
    i0[k] = clamp_i(c, b, g->in[d]);
    i1[k] = clamp_i(c, lw_add_i(c, b, 1), g->in[d]);
    ax[k++] = d;
  }
  if (k > 8) return NULL;
  mlc_texpr_t *sum = NULL;
  for (int m = 0; m < (1 << k); m++) {
    mlc_texpr_t *w = f64(c, 1);
    for (int d = 0; d < r; d++) idx[d] = oi[d];
    for (int j = 0; j < k; j++) {
      bool hi = (m >> j) & 1;
      idx[ax[j]] = hi ? i1[j] : i0[j];
      w = bin(c, MLC_TB_MUL, w, hi ? f[j] : bin(c, MLC_TB_SUB, f64(c, 1), f[j]));
    }
    mlc_texpr_t *v = mlc_tx_cast(c->k, MLC_DT_F64, lw_load_bcast(c, x, idx, r));
    mlc_texpr_t *t = bin(c, MLC_TB_MUL, w, v);
    sum = sum ? bin(c, MLC_TB_ADD, sum, t) : t;
  }
  return sum;
}

mlc_status_t *lw_build_resize(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  mlc_resize_geom_t g;
  bool unsup;
  const char *why = mlc_resize_geometry(n, &g, &unsup);
  if (why) return lw_err(c, unsup ? MLC_UNSUPPORTED : MLC_INVALID_MODEL, "%s", why);
  if (g.rank != y->rank) return lw_err(c, MLC_INVALID_MODEL, "output rank");
  for (int d = 0; d < g.rank; d++)
    if (g.out[d] != y->dims[d].value)
      return lw_err(c, MLC_INVALID_MODEL, "output dim %d mismatch", d);
  if (mlc_value_numel(y) == 0) return NULL;
  if (mlc_value_numel(x) == 0)
    return lw_err(c, MLC_INVALID_MODEL, "resizing an empty input");
  const char *mode = mlc_node_attr_string(n, "mode", "nearest");
  int64_t yd[LW_MAXR];
  lw_value_dims(y, yd);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, y->rank, yd, y->rank, true)) return lw_oom(c);
  mlc_texpr_t *v;
  if (strcmp(mode, "linear") == 0) {
    v = linear(c, &g, x, nest.idx);
    if (!v) return lw_err(c, MLC_UNSUPPORTED, "linear resize of more than 8 axes");
  } else if (strcmp(mode, "nearest") == 0) {
    mlc_texpr_t *idx[LW_MAXR];
    for (int d = 0; d < g.rank; d++)
      idx[d] = !g.resized[d] ? nest.idx[d]
               : clamp_i(c, mlc_tx_cast(c->k, MLC_DT_I64,
                                        nearest(c, n, src_coord(c, &g, d, nest.idx[d]))),
                         g.in[d]);
    v = lw_load_bcast(c, x, idx, g.rank);
  } else {
    return lw_err(c, MLC_UNSUPPORTED, "mode '%s'", mode);
  }
  v = mlc_tx_cast(c->k, y->dtype, v);
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, lw_store_out(c, n, nest.idx, y->rank, v), true)))
    return lw_oom(c);
  return NULL;
}
