/* Shape rules for data movement and shape ops: Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose, Concat, Split, Slice, Gather, Expand, Tile, Pad,
 * Shape, Size, ConstantOfShape and Range.
 *
 * Operands that carry shapes (Reshape's shape, axes, starts/ends, split,
 * repeats, pads, Range's inputs) must be constant when the node is
 * visited; infer_const_ints reports them otherwise.  Shape and Size of
 * tensors whose dims are known become constants here, which starts the
 * folding of exporter shape chains (infer.c). */
#include <math.h>
#include <string.h>

#include "passes/infer.h"

static mlc_status_t *out_of_rank(const infer_cx_t *cx, int rank) {
  if (rank > MLC_INFER_MAX_RANK)
    return infer_errc(cx, MLC_UNSUPPORTED, "output rank %d is above %d",
                      rank, MLC_INFER_MAX_RANK);
  return NULL;
}

static mlc_status_t *need_1d(const infer_cx_t *cx, int i) {
  mlc_value_t *v = infer_in(cx, i);
  if (v && v->rank != 1)
    return infer_err(cx, "input %d '%s': rank %d, expected 1", i, v->name,
                     v->rank);
  return NULL;
}

/* ---- Reshape, Flatten ---- */

/* Product of x's dims that the new shape does not copy (0 entries). */
static int64_t reshape_rest(const mlc_value_t *x, const int64_t *sh, int64_t n,
                            bool allowzero) {
  int64_t p = 1;
  for (int k = 0; k < x->rank; k++) {
    if (!allowzero && k < n && sh[k] == 0) continue;
    if (!infer_dim_known(x->dims[k])) return -1;
    p *= x->dims[k].value;
  }
  return p;
}

static mlc_status_t *reshape_minus_one(const infer_cx_t *cx, int64_t *sh,
                                       int64_t n, int neg, bool allowzero,
                                       infer_shape_t *s) {
  const mlc_value_t *x = cx->n->inputs[0];
  int64_t rest = reshape_rest(x, sh, n, allowzero), other = 1;
  for (int64_t i = 0; i < n; i++)
    if (i != neg && !(sh[i] == 0 && !allowzero)) other *= sh[i];
  if (rest < 0) {
    s->d[neg] = infer_dim_unknown();
    return NULL;
  }
  if (other == 0 || rest % other)
    return infer_err(cx, "cannot reshape %lld elements into a shape with "
                     "%lld and a -1", (long long)rest, (long long)other);
  s->d[neg] = infer_dim(rest / other);
  return NULL;
}

mlc_status_t *infer_reshape(const infer_cx_t *cx) {
  int64_t *sh = NULL, n = 0;
  MLC_RETURN_IF(need_1d(cx, 1));
  MLC_RETURN_IF(infer_const_ints(cx, 1, "shape", &sh, &n));
  MLC_RETURN_IF(out_of_rank(cx, (int)n));
  const mlc_value_t *x = cx->n->inputs[0];
  bool allowzero = mlc_node_attr_int(cx->n, "allowzero", 0) != 0;
  infer_shape_t s = {.rank = (int)n};
  int neg = -1;
  for (int i = 0; i < n; i++) {
    if (sh[i] < -1)
      return infer_err(cx, "shape[%d] = %lld", i, (long long)sh[i]);
    if (sh[i] == -1) {
      if (neg >= 0) return infer_err(cx, "shape has more than one -1");
      neg = i;
    } else if (sh[i] == 0 && !allowzero) {
      if (i >= x->rank)
        return infer_err(cx, "shape[%d] = 0 copies a dim input 0 does not "
                         "have (rank %d)", i, x->rank);
      s.d[i] = x->dims[i];
    } else {
      s.d[i] = infer_dim(sh[i]);
    }
  }
  if (neg >= 0) {
    MLC_RETURN_IF(reshape_minus_one(cx, sh, n, neg, allowzero, &s));
  } else {
    int64_t a = mlc_value_numel(x), b = infer_numel(&s, 0, s.rank);
    if (a >= 0 && b >= 0 && a != b)
      return infer_err(cx, "cannot reshape %lld elements into %lld", 
                       (long long)a, (long long)b);
  }
  return infer_set_output(cx, 0, x->dtype, &s);
}

static mlc_dim_t prod_dim(const infer_shape_t *s, int from, int to) {
  if (to - from == 1) return s->d[from];
  int64_t p = infer_numel(s, from, to);
  return p < 0 ? infer_dim_unknown() : infer_dim(p);
}

mlc_status_t *infer_flatten(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  int64_t axis = mlc_node_attr_int(cx->n, "axis", 1);
  if (axis < -x->rank || axis > x->rank)
    return infer_err(cx, "axis %lld is out of range for rank %d",
                     (long long)axis, x->rank);
  if (axis < 0) axis += x->rank;
  infer_shape_t in, s = {.rank = 2};
  infer_shape_of(x, &in);
  s.d[0] = prod_dim(&in, 0, (int)axis);
  s.d[1] = prod_dim(&in, (int)axis, in.rank);
  return infer_set_output(cx, 0, x->dtype, &s);
}

/* ---- Squeeze, Unsqueeze, Transpose ---- */

/* Axes from input 1, or the pre-opset-13 attribute; n = -1 if neither. */
static mlc_status_t *axes_operand(const infer_cx_t *cx, int64_t **out_v,
                                  int64_t *out_n) {
  if (infer_in(cx, 1)) return infer_const_ints(cx, 1, "axes", out_v, out_n);
  const int64_t *v;
  *out_n = mlc_node_attr_ints(cx->n, "axes", &v);
  *out_v = (int64_t *)v;
  return NULL;
}

mlc_status_t *infer_squeeze(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  int64_t *axes = NULL, n = 0;
  MLC_RETURN_IF(axes_operand(cx, &axes, &n));
  bool drop[MLC_INFER_MAX_RANK] = {false};
  for (int64_t i = 0; i < n; i++) {
    int a = 0;
    MLC_RETURN_IF(infer_axis(cx, axes[i], x->rank, "axis", &a));
    if (infer_dim_known(x->dims[a]) && x->dims[a].value != 1)
      return infer_err(cx, "cannot squeeze dim %d of size %lld", a,
                       (long long)x->dims[a].value);
    drop[a] = true;
  }
  for (int k = 0; n <= 0 && k < x->rank; k++) {
    if (!infer_dim_known(x->dims[k]))
      return infer_errc(cx, MLC_UNSUPPORTED, "squeeze without axes over "
                        "unknown dim %d", k);
    drop[k] = x->dims[k].value == 1;
  }
  infer_shape_t s = {.rank = 0};
  for (int k = 0; k < x->rank; k++)
    if (!drop[k]) s.d[s.rank++] = x->dims[k];
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_unsqueeze(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  int64_t *axes = NULL, n = 0;
  MLC_RETURN_IF(axes_operand(cx, &axes, &n));
  if (n < 0) return infer_err(cx, "input 1 'axes' is required");
  int r = x->rank + (int)n;
  MLC_RETURN_IF(out_of_rank(cx, r));
  bool ins[MLC_INFER_MAX_RANK] = {false};
  for (int64_t i = 0; i < n; i++) {
    int a = 0;
    MLC_RETURN_IF(infer_axis(cx, axes[i], r, "axis", &a));
    if (ins[a]) return infer_err(cx, "axis %d appears twice", a);
    ins[a] = true;
  }
  infer_shape_t s = {.rank = r};
  for (int k = 0, j = 0; k < r; k++)
    s.d[k] = ins[k] ? infer_dim(1) : x->dims[j++];
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_transpose(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  const int64_t *perm;
  int64_t n = mlc_node_attr_ints(cx->n, "perm", &perm);
  if (n >= 0 && n != x->rank)
    return infer_err(cx, "perm has %lld entries for rank %d", (long long)n,
                     x->rank);
  bool seen[MLC_INFER_MAX_RANK] = {false};
  infer_shape_t s = {.rank = x->rank};
  for (int k = 0; k < x->rank; k++) {
    int64_t p = n >= 0 ? perm[k] : x->rank - 1 - k;
    if (p < 0 || p >= x->rank || seen[p])
      return infer_err(cx, "perm is not a permutation of 0..%d", x->rank - 1);
    seen[p] = true;
    s.d[k] = x->dims[p];
  }
  return infer_set_output(cx, 0, x->dtype, &s);
}

/* ---- Concat, Split ---- */

mlc_status_t *infer_concat(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  if (!mlc_node_attr(cx->n, "axis"))
    return infer_err(cx, "attribute 'axis' is required");
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", 0), x->rank,
                           "axis", &axis));
  infer_shape_t s;
  infer_shape_of(x, &s);
  for (int i = 1; i < cx->n->ninputs; i++) {
    const mlc_value_t *v = cx->n->inputs[i];
    if (!v) return infer_err(cx, "input %d is required", i);
    MLC_RETURN_IF(infer_need_same_dtype(cx, 0, i));
    MLC_RETURN_IF(infer_need_rank(cx, i, x->rank, x->rank));
    for (int k = 0; k < s.rank; k++) {
      mlc_dim_t d = v->dims[k];
      if (k == axis) {
        bool known = infer_dim_known(s.d[k]) && infer_dim_known(d);
        s.d[k] = known ? infer_dim(s.d[k].value + d.value)
                       : infer_dim_unknown();
      } else if (infer_dim_known(d) && infer_dim_known(s.d[k]) &&
                 d.value != s.d[k].value) {
        return infer_err(cx, "input %d '%s': dim %d is %lld, expected %lld",
                         i, v->name, k, (long long)d.value,
                         (long long)s.d[k].value);
      } else if (!infer_dim_known(s.d[k])) {
        s.d[k] = d;
      }
    }
  }
  return infer_set_output(cx, 0, x->dtype, &s);
}

/* Sizes of the Split outputs along an axis of size `dim` (-1 unknown). */
static mlc_status_t *split_sizes(const infer_cx_t *cx, int64_t dim, int nout,
                                 int64_t *sz) {
  int64_t *sp = NULL, n = -1;
  if (infer_in(cx, 1)) {
    MLC_RETURN_IF(infer_const_ints(cx, 1, "split", &sp, &n));
  } else {
    const int64_t *v;
    n = mlc_node_attr_ints(cx->n, "split", &v);
    sp = (int64_t *)v;
  }
  if (n >= 0) {
    if (n != nout)
      return infer_err(cx, "split has %lld sizes for %d outputs",
                       (long long)n, nout);
    int64_t sum = 0;
    for (int i = 0; i < nout; i++) {
      if (sp[i] < 0) return infer_err(cx, "split[%d] = %lld", i,
                                      (long long)sp[i]);
      sum += sz[i] = sp[i];
    }
    if (dim >= 0 && sum != dim)
      return infer_err(cx, "split sizes sum to %lld, dim is %lld",
                       (long long)sum, (long long)dim);
    return NULL;
  }
  int64_t num = mlc_node_attr_int(cx->n, "num_outputs", nout);
  if (num != nout)
    return infer_err(cx, "num_outputs %lld but %d outputs", (long long)num,
                     nout);
  bool uneven = mlc_node_attr(cx->n, "num_outputs") != NULL;
  if (dim >= 0 && !uneven && dim % nout)
    return infer_err(cx, "dim %lld does not split into %d equal parts",
                     (long long)dim, nout);
  int64_t chunk = dim < 0 ? -1 : (dim + nout - 1) / nout;
  for (int i = 0; i < nout; i++) {
    int64_t left = dim - chunk * i;
    sz[i] = dim < 0 ? -1 : (left < chunk ? (left > 0 ? left : 0) : chunk);
  }
  return NULL;
}

mlc_status_t *infer_split(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  int nout = cx->n->noutputs;
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", 0), x->rank,
                           "axis", &axis));
  int64_t *sz = mlc_arena_calloc(&cx->g->arena, (size_t)nout + 1, sizeof *sz);
  if (!sz) return MLC_ERR(OUT_OF_MEMORY, "split");
  MLC_RETURN_IF(split_sizes(cx, x->dims[axis].value, nout, sz));
  for (int i = 0; i < nout; i++) {
    infer_shape_t s;
    infer_shape_of(x, &s);
    s.d[axis] = sz[i] < 0 ? infer_dim_unknown() : infer_dim(sz[i]);
    MLC_RETURN_IF(infer_set_output(cx, i, x->dtype, &s));
  }
  return NULL;
}

/* ---- Slice ---- */

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* Elements selected from a dim of size `dim` (ONNX clamping rules). */
static int64_t slice_len(int64_t dim, int64_t start, int64_t end,
                         int64_t step) {
  if (start < 0) start = start < -dim ? -dim : start, start += dim;
  if (end < 0) end = end < -dim - 1 ? -dim - 1 : end, end += dim;
  if (step > 0) {
    start = clamp(start, 0, dim);
    end = clamp(end, 0, dim);
    return end > start ? (end - start + step - 1) / step : 0;
  }
  start = clamp(start, 0, dim - 1);
  end = clamp(end, -1, dim - 1);
  return start > end ? (start - end - step - 1) / -step : 0;
}

static mlc_status_t *slice_operands(const infer_cx_t *cx, int64_t **st,
                                    int64_t **en, int64_t **ax, int64_t **sp,
                                    int64_t *n) {
  int64_t ne, na = -1, ns = -1;
  MLC_RETURN_IF(infer_const_ints(cx, 1, "starts", st, n));
  MLC_RETURN_IF(infer_const_ints(cx, 2, "ends", en, &ne));
  if (infer_in(cx, 3)) MLC_RETURN_IF(infer_const_ints(cx, 3, "axes", ax, &na));
  if (infer_in(cx, 4))
    MLC_RETURN_IF(infer_const_ints(cx, 4, "steps", sp, &ns));
  if (ne != *n || (na >= 0 && na != *n) || (ns >= 0 && ns != *n))
    return infer_err(cx, "starts, ends, axes and steps differ in length");
  if (na < 0) *ax = NULL;
  if (ns < 0) *sp = NULL;
  return NULL;
}

mlc_status_t *infer_slice(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  int64_t *st = NULL, *en = NULL, *ax = NULL, *sp = NULL, n = 0;
  MLC_RETURN_IF(slice_operands(cx, &st, &en, &ax, &sp, &n));
  infer_shape_t s;
  infer_shape_of(x, &s);
  bool seen[MLC_INFER_MAX_RANK] = {false};
  for (int64_t i = 0; i < n; i++) {
    int a = 0;
    MLC_RETURN_IF(infer_axis(cx, ax ? ax[i] : i, x->rank, "axis", &a));
    if (seen[a]) return infer_err(cx, "axis %d appears twice", a);
    seen[a] = true;
    int64_t step = sp ? sp[i] : 1;
    if (step == 0) return infer_err(cx, "steps[%lld] is 0", (long long)i);
    if (!infer_dim_known(x->dims[a])) {
      s.d[a] = infer_dim_unknown();
      continue;
    }
    s.d[a] = infer_dim(slice_len(x->dims[a].value, st[i], en[i], step));
  }
  return infer_set_output(cx, 0, x->dtype, &s);
}

/* ---- Gather, Expand, Tile, Pad ---- */

mlc_status_t *infer_gather(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0], *idx = cx->n->inputs[1];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 1, infer_is_index, "i32 or i64"));
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", 0), x->rank,
                           "axis", &axis));
  int r = x->rank - 1 + idx->rank;
  MLC_RETURN_IF(out_of_rank(cx, r));
  infer_shape_t s = {.rank = 0};
  for (int k = 0; k < axis; k++) s.d[s.rank++] = x->dims[k];
  for (int k = 0; k < idx->rank; k++) s.d[s.rank++] = idx->dims[k];
  for (int k = axis + 1; k < x->rank; k++) s.d[s.rank++] = x->dims[k];
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_expand(const infer_cx_t *cx) {
  int64_t *sh = NULL, n = 0;
  MLC_RETURN_IF(need_1d(cx, 1));
  MLC_RETURN_IF(infer_const_ints(cx, 1, "shape", &sh, &n));
  MLC_RETURN_IF(out_of_rank(cx, (int)n));
  infer_shape_t x, t = {.rank = (int)n}, s;
  for (int i = 0; i < n; i++) {
    if (sh[i] < 0) return infer_err(cx, "shape[%d] = %lld", i,
                                    (long long)sh[i]);
    t.d[i] = infer_dim(sh[i]);
  }
  infer_shape_of(cx->n->inputs[0], &x);
  MLC_RETURN_IF(infer_broadcast(cx, &x, &t, &s));
  return infer_set_output(cx, 0, cx->n->inputs[0]->dtype, &s);
}

mlc_status_t *infer_tile(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  int64_t *rep = NULL, n = 0;
  MLC_RETURN_IF(need_1d(cx, 1));
  MLC_RETURN_IF(infer_const_ints(cx, 1, "repeats", &rep, &n));
  if (n != x->rank)
    return infer_err(cx, "input 1 'repeats' has %lld entries for rank %d",
                     (long long)n, x->rank);
  infer_shape_t s;
  infer_shape_of(x, &s);
  for (int k = 0; k < s.rank; k++) {
    if (rep[k] < 0) return infer_err(cx, "repeats[%d] = %lld", k,
                                     (long long)rep[k]);
    if (infer_dim_known(s.d[k])) s.d[k] = infer_dim(s.d[k].value * rep[k]);
    else if (rep[k] != 1) s.d[k] = infer_dim_unknown();
  }
  return infer_set_output(cx, 0, x->dtype, &s);
}

static mlc_status_t *pad_operands(const infer_cx_t *cx, int rank,
                                  int64_t **pads, int64_t *np, int *axes,
                                  int *na) {
  if (infer_in(cx, 1)) {
    MLC_RETURN_IF(infer_const_ints(cx, 1, "pads", pads, np));
  } else {
    const int64_t *v;
    *np = mlc_node_attr_ints(cx->n, "pads", &v);
    if (*np < 0) return infer_err(cx, "input 1 'pads' is required");
    *pads = (int64_t *)v;
  }
  *na = rank;
  for (int k = 0; k < rank; k++) axes[k] = k;
  if (infer_in(cx, 3)) {
    int64_t *av = NULL, n = 0;
    MLC_RETURN_IF(infer_const_ints(cx, 3, "axes", &av, &n));
    if (n > rank) return infer_err(cx, "more axes than dims");
    *na = (int)n;
    for (int64_t i = 0; i < n; i++)
      MLC_RETURN_IF(infer_axis(cx, av[i], rank, "axis", &axes[i]));
  }
  if (*np != 2 * *na)
    return infer_err(cx, "input 1 'pads' has %lld entries for %d axes",
                     (long long)*np, *na);
  return NULL;
}

mlc_status_t *infer_pad(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  const char *mode = mlc_node_attr_string(cx->n, "mode", "constant");
  if (strcmp(mode, "constant") && strcmp(mode, "reflect") &&
      strcmp(mode, "edge") && strcmp(mode, "wrap"))
    return infer_err(cx, "mode '%s' is not constant, reflect, edge or wrap",
                     mode);
  mlc_value_t *val = infer_in(cx, 2);
  if (val) {
    MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 2));
    if (mlc_value_numel(val) > 1)
      return infer_err(cx, "input 2 'constant_value' must be a scalar");
  }
  int64_t *pads = NULL, np = 0;
  int axes[MLC_INFER_MAX_RANK], na = 0;
  MLC_RETURN_IF(pad_operands(cx, x->rank, &pads, &np, axes, &na));
  infer_shape_t s;
  infer_shape_of(x, &s);
  for (int i = 0; i < na; i++) {
    int a = axes[i];
    if (!infer_dim_known(s.d[a])) continue;
    int64_t d = s.d[a].value + pads[i] + pads[na + i];
    if (d < 0) return infer_err(cx, "padding makes dim %d negative", a);
    s.d[a] = infer_dim(d);
  }
  return infer_set_output(cx, 0, x->dtype, &s);
}

/* ---- Shape, Size, ConstantOfShape, Range ---- */

mlc_status_t *infer_shape_op(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  int64_t r = x->rank;
  int64_t start = mlc_node_attr_int(cx->n, "start", 0);
  int64_t end = mlc_node_attr_int(cx->n, "end", r);
  start = clamp(start < 0 ? start + r : start, 0, r);
  end = clamp(end < 0 ? end + r : end, 0, r);
  int64_t len = end > start ? end - start : 0;
  infer_shape_t s = {.rank = 1, .d = {infer_dim(len)}};
  MLC_RETURN_IF(infer_set_output(cx, 0, MLC_DT_I64, &s));
  int64_t dims[MLC_INFER_MAX_RANK];
  for (int64_t k = 0; k < len; k++) {
    if (!infer_dim_known(x->dims[start + k])) return NULL;
    dims[k] = x->dims[start + k].value;
  }
  return mlc_value_set_const(cx->g, cx->n->outputs[0], dims,
                             (size_t)len * sizeof *dims, MLC_DATA_COPY);
}

mlc_status_t *infer_size(const infer_cx_t *cx) {
  infer_shape_t s = {.rank = 0};
  MLC_RETURN_IF(infer_set_output(cx, 0, MLC_DT_I64, &s));
  int64_t n = mlc_value_numel(cx->n->inputs[0]);
  if (n < 0) return NULL;
  return mlc_value_set_const(cx->g, cx->n->outputs[0], &n, sizeof n,
                             MLC_DATA_COPY);
}

mlc_status_t *infer_const_of_shape(const infer_cx_t *cx) {
  int64_t *sh = NULL, n = 0;
  MLC_RETURN_IF(need_1d(cx, 0));
  MLC_RETURN_IF(infer_const_ints(cx, 0, "input", &sh, &n));
  MLC_RETURN_IF(out_of_rank(cx, (int)n));
  mlc_dtype_t dt = MLC_DT_F32;
  const mlc_attr_t *a = mlc_node_attr(cx->n, "value");
  if (a) {
    if (a->kind != MLC_ATTR_TENSOR || !a->t)
      return infer_err(cx, "attribute 'value' is not a tensor");
    int64_t ne = 1;
    for (int k = 0; k < a->t->rank; k++) ne *= a->t->dims[k];
    if (ne != 1)
      return infer_err(cx, "attribute 'value' has %lld elements, expected "
                       "1", (long long)ne);
    dt = a->t->dtype;
  }
  infer_shape_t s = {.rank = (int)n};
  for (int i = 0; i < n; i++) {
    if (sh[i] < 0) return infer_err(cx, "input 0 'input'[%d] = %lld", i,
                                    (long long)sh[i]);
    s.d[i] = infer_dim(sh[i]);
  }
  return infer_set_output(cx, 0, dt, &s);
}

static mlc_status_t *range_count(const infer_cx_t *cx, int64_t *out) {
  static const char *const names[] = {"start", "limit", "delta"};
  for (int i = 0; i < 3; i++) {
    const mlc_value_t *v = cx->n->inputs[i];
    if (!mlc_value_is_const(v)) return infer_not_const(cx, i, names[i]);
    if (mlc_value_numel(v) != 1)
      return infer_err(cx, "input %d '%s' must be a scalar", i, names[i]);
    if (i) MLC_RETURN_IF(infer_need_same_dtype(cx, 0, i));
  }
  const mlc_value_t *const *in = (const mlc_value_t *const *)cx->n->inputs;
  if (mlc_dtype_is_float(in[0]->dtype)) {
    double st = mlc_value_const_float(in[0], 0);
    double li = mlc_value_const_float(in[1], 0);
    double de = mlc_value_const_float(in[2], 0);
    if (de == 0 || isnan(de)) return infer_err(cx, "delta is 0");
    double c = ceil((li - st) / de);
    if (isnan(c)) return infer_err(cx, "element count is not a number");
    /* The cast below is UB unless c fits; 9.2e18 < INT64_MAX. */
    if (!(c < 9.2e18)) return infer_err(cx, "element count %g too large", c);
    *out = c > 0 ? (int64_t)c : 0;
    return NULL;
  }
  int64_t st = mlc_value_const_int(in[0], 0), li = mlc_value_const_int(in[1], 0);
  int64_t de = mlc_value_const_int(in[2], 0);
  if (de == 0) return infer_err(cx, "delta is 0");
  /* In 128 bits neither the span nor the rounding can overflow. */
  __int128 span = (__int128)li - st, d = de;
  if (d < 0) span = -span, d = -d;
  __int128 c = span > 0 ? (span + d - 1) / d : 0;
  if (c > INT64_MAX)
    return infer_err(cx, "element count of %lld..%lld step %lld is too large",
                     (long long)st, (long long)li, (long long)de);
  *out = (int64_t)c;
  return NULL;
}

mlc_status_t *infer_range(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  int64_t count = 0;
  MLC_RETURN_IF(range_count(cx, &count));
  infer_shape_t s = {.rank = 1, .d = {infer_dim(count)}};
  return infer_set_output(cx, 0, cx->n->inputs[0]->dtype, &s);
}
