/* Shape rules of the internal ops the gemm-layout pass writes (Pack,
 * PackedMatMul, Im2Col, ConvCols; see ir/ops.def).  The pass only builds
 * them on static shapes it has checked, but the rules still validate what
 * they read, so a hand-written graph (the text form) gets an error, not a
 * wrong kernel. */
#include "passes/infer.h"

static mlc_status_t *attr_pos(const infer_cx_t *cx, const char *name,
                              int64_t *out) {
  *out = mlc_node_attr_int(cx->n, name, 0);
  if (*out < 1) return infer_err(cx, "attribute '%s' must be >= 1", name);
  return NULL;
}

mlc_status_t *infer_pack(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 2, MLC_INFER_MAX_RANK - 1));
  int64_t panel;
  MLC_RETURN_IF(attr_pos(cx, "panel", &panel));
  bool trans = mlc_node_attr_int(cx->n, "trans", 0) != 0;
  infer_shape_t s;
  infer_shape_of(cx->n->inputs[0], &s);
  mlc_dim_t k = s.d[s.rank - (trans ? 1 : 2)], n = s.d[s.rank - (trans ? 2 : 1)];
  if (!infer_dim_known(k) || !infer_dim_known(n))
    return infer_err(cx, "Pack needs static K and N");
  s.d[s.rank - 2] = infer_dim((n.value + panel - 1) / panel);
  s.d[s.rank - 1] = k;
  s.d[s.rank++] = infer_dim(panel);
  return infer_set_output(cx, 0, cx->n->inputs[0]->dtype, &s);
}

mlc_status_t *infer_packed_matmul(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_rank(cx, 1, 3, 3));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 1));
  int64_t n;
  MLC_RETURN_IF(attr_pos(cx, "n", &n));
  const mlc_value_t *a = cx->n->inputs[0], *b = cx->n->inputs[1];
  mlc_dim_t ka = a->dims[a->rank - 1], kb = b->dims[1];
  if (infer_dim_known(ka) && infer_dim_known(kb) && ka.value != kb.value)
    return infer_err(cx, "inner dimensions differ: %lld vs %lld",
                     (long long)ka.value, (long long)kb.value);
  if (infer_dim_known(b->dims[0]) && infer_dim_known(b->dims[2]) &&
      b->dims[0].value * b->dims[2].value < n)
    return infer_err(cx, "packed B holds fewer than n = %lld columns",
                     (long long)n);
  infer_shape_t s;
  infer_shape_of(a, &s);
  s.d[s.rank - 1] = infer_dim(n);
  mlc_value_t *c = infer_in(cx, 2);
  if (c && (c->rank > 2 || a->rank != 2))
    return infer_err(cx, "a bias needs 2-D A and a bias of rank <= 2");
  return infer_set_output(cx, 0, a->dtype, &s);
}

/* Im2Col and ConvCols both carry out_shape: the output's spatial dims. */
static mlc_status_t *out_shape(const infer_cx_t *cx, int ns, int64_t *out_p,
                               const int64_t **out_v) {
  int64_t cnt = mlc_node_attr_ints(cx->n, "out_shape", out_v);
  if (cnt != ns) return infer_err(cx, "out_shape has %lld dims, expected %d",
                                  (long long)cnt, ns);
  int64_t p = 1;
  for (int i = 0; i < ns; i++) {
    if ((*out_v)[i] < 1) return infer_err(cx, "out_shape dims must be >= 1");
    p *= (*out_v)[i];
  }
  *out_p = p;
  return NULL;
}

mlc_status_t *infer_im2col(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 3, 8));
  const mlc_value_t *x = cx->n->inputs[0];
  int ns = x->rank - 2;
  const int64_t *ks, *os;
  if (mlc_node_attr_ints(cx->n, "kernel_shape", &ks) != ns)
    return infer_err(cx, "kernel_shape must have %d dims", ns);
  int64_t taps = 1, p;
  for (int i = 0; i < ns; i++) taps *= ks[i];
  MLC_RETURN_IF(out_shape(cx, ns, &p, &os));
  if (!infer_dim_known(x->dims[1])) return infer_err(cx, "Im2Col needs static C");
  infer_shape_t s = {.rank = 3,
                     .d = {x->dims[0], infer_dim(x->dims[1].value * taps), infer_dim(p)}};
  return infer_set_output(cx, 0, x->dtype, &s);
}

/* ConvCols with direct = 1: xp [N, C, Hp, Wp] (X padded), W packed
 * panels [.., C*KH*KW, NB] or as in Conv [m, C, KH, KW] (pixels as the
 * vectors), attributes m, kernel_shape, strides,
 * dilations and out_shape (2 each), which must agree with xp. */
static mlc_status_t *infer_conv_direct(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 4, 4));
  MLC_RETURN_IF(infer_need_rank(cx, 1, 3, 4));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 1));
  const mlc_value_t *xp = cx->n->inputs[0], *w = cx->n->inputs[1];
  const int64_t *ks, *st, *dl, *os;
  int64_t p, m = mlc_node_attr_int(cx->n, "m", 0);
  if (mlc_node_attr_ints(cx->n, "kernel_shape", &ks) != 2 ||
      mlc_node_attr_ints(cx->n, "strides", &st) != 2 ||
      mlc_node_attr_ints(cx->n, "dilations", &dl) != 2)
    return infer_err(cx, "a direct ConvCols needs 2 kernel_shape, strides and dilations");
  MLC_RETURN_IF(out_shape(cx, 2, &p, &os));
  if (m < 1) return infer_err(cx, "output channels unknown");
  for (int i = 0; i < 2; i++) {
    int64_t in = xp->dims[2 + i].value;
    if (ks[i] < 1 || st[i] < 1 || dl[i] < 1 || !infer_dim_known(xp->dims[2 + i]) ||
        (os[i] - 1) * st[i] + (ks[i] - 1) * dl[i] >= in)
      return infer_err(cx, "the window of dim %d does not fit the padded input", 2 + i);
  }
  bool packed = w->rank == 3;
  if (!infer_dim_known(xp->dims[1]) ||
      (packed && w->dims[1].value != xp->dims[1].value * ks[0] * ks[1]) ||
      (!packed && (w->dims[0].value != m || w->dims[1].value != xp->dims[1].value ||
                   w->dims[2].value != ks[0] || w->dims[3].value != ks[1])))
    return infer_err(cx, "weights do not match C, m and kernel_shape");
  infer_shape_t s = {.rank = 4, .d = {xp->dims[0], infer_dim(m), infer_dim(os[0]),
                                      infer_dim(os[1])}};
  return infer_set_output(cx, 0, xp->dtype, &s);
}

/* ConvCols: cols [N, K, P...] (Im2Col's output, or X of a pointwise
 * conv); W [M, C, kern...], or with swap=1 packed panels [.., K, NB] and
 * M in attribute m; direct = 1: above. */
mlc_status_t *infer_conv_cols(const infer_cx_t *cx) {
  if (mlc_node_attr_int(cx->n, "direct", 0)) return infer_conv_direct(cx);
  MLC_RETURN_IF(infer_need_rank(cx, 0, 3, 8));
  MLC_RETURN_IF(infer_need_rank(cx, 1, 3, 8));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 1));
  const mlc_value_t *cols = cx->n->inputs[0], *w = cx->n->inputs[1];
  bool swap = mlc_node_attr_int(cx->n, "swap", 0) != 0;
  const int64_t *os;
  int ns = (int)mlc_node_attr_ints(cx->n, "out_shape", &os);
  int64_t p, k = 1, cp = 1;
  if (ns < 1 || ns > 6) return infer_err(cx, "out_shape must have 1 to 6 dims");
  MLC_RETURN_IF(out_shape(cx, ns, &p, &os));
  if (swap) {
    if (w->rank != 3) return infer_err(cx, "swapped ConvCols needs packed weights");
    k = w->dims[1].value;
  } else {
    if (w->rank != 2 + ns) return infer_err(cx, "weights rank %d, expected %d",
                                            w->rank, 2 + ns);
    for (int i = 1; i < w->rank; i++) k *= w->dims[i].value;
  }
  for (int i = 2; i < cols->rank; i++) cp *= cols->dims[i].value;
  mlc_dim_t m = swap ? infer_dim(mlc_node_attr_int(cx->n, "m", 0)) : w->dims[0];
  if (m.value < 1) return infer_err(cx, "output channels unknown");
  if (cols->dims[1].value != k || cp != p)
    return infer_err(cx, "columns [%lld, %lld] do not match the weights "
                     "(%lld) and out_shape (%lld)", (long long)cols->dims[1].value,
                     (long long)cp, (long long)k, (long long)p);
  infer_shape_t s = {.rank = 2 + ns, .d = {cols->dims[0], m}};
  for (int i = 0; i < ns; i++) s.d[2 + i] = infer_dim(os[i]);
  return infer_set_output(cx, 0, cols->dtype, &s);
}
