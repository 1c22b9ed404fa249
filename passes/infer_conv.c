/* Shape rules for Conv, MaxPool, AveragePool and the global pools.
 *
 * Spatial output sizes follow the ONNX formulas: with auto_pad NOTSET,
 *   out = floor((in + pad_begin + pad_end - ((k - 1) * dilation + 1))
 *               / stride) + 1
 * (ceil instead of floor with ceil_mode, dropping a last window that
 * would start in the end padding); SAME_UPPER / SAME_LOWER give
 * ceil(in / stride); VALID gives ceil((in - effective_k + 1) / stride).
 * Conv takes its kernel size from the weight (kernel_shape, if present,
 * must agree); pools need kernel_shape. */
#include <string.h>

#include "passes/infer.h"

typedef struct window {
  int nsp;                          /* spatial dims */
  int64_t k[MLC_INFER_MAX_RANK];    /* kernel */
  int64_t s[MLC_INFER_MAX_RANK];    /* strides */
  int64_t d[MLC_INFER_MAX_RANK];    /* dilations */
  int64_t p[2 * MLC_INFER_MAX_RANK]; /* pads: begins then ends */
  const char *auto_pad;
  bool ceil_mode;
} window_t;

/* Reads an ints attribute of `want` elements into out (default dflt). */
static mlc_status_t *ints_attr(const infer_cx_t *cx, const char *name,
                               int want, int64_t dflt, int64_t min,
                               int64_t *out) {
  const int64_t *v;
  int64_t n = mlc_node_attr_ints(cx->n, name, &v);
  if (n >= 0 && n != want)
    return infer_err(cx, "attribute '%s' has %lld values, expected %d", name,
                     (long long)n, want);
  for (int i = 0; i < want; i++) {
    out[i] = n >= 0 ? v[i] : dflt;
    if (out[i] < min)
      return infer_err(cx, "attribute '%s'[%d] = %lld, expected >= %lld",
                       name, i, (long long)out[i], (long long)min);
  }
  return NULL;
}

static mlc_status_t *read_window(const infer_cx_t *cx, window_t *w) {
  MLC_RETURN_IF(ints_attr(cx, "strides", w->nsp, 1, 1, w->s));
  MLC_RETURN_IF(ints_attr(cx, "dilations", w->nsp, 1, 1, w->d));
  MLC_RETURN_IF(ints_attr(cx, "pads", 2 * w->nsp, 0, 0, w->p));
  w->auto_pad = mlc_node_attr_string(cx->n, "auto_pad", "NOTSET");
  w->ceil_mode = mlc_node_attr_int(cx->n, "ceil_mode", 0) != 0;
  if (strcmp(w->auto_pad, "NOTSET") && strcmp(w->auto_pad, "VALID") &&
      strcmp(w->auto_pad, "SAME_UPPER") && strcmp(w->auto_pad, "SAME_LOWER"))
    return infer_err(cx, "auto_pad '%s' is not NOTSET, VALID, SAME_UPPER or "
                     "SAME_LOWER", w->auto_pad);
  return NULL;
}

static int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Output size of spatial dim i for input size `in`. */
static mlc_status_t *window_out(const infer_cx_t *cx, const window_t *w,
                                int i, int64_t in, int64_t *out) {
  int64_t keff = (w->k[i] - 1) * w->d[i] + 1, s = w->s[i];
  if (!strncmp(w->auto_pad, "SAME", 4)) {
    *out = div_up(in, s);
    return NULL;
  }
  int64_t pb = 0, pe = 0;
  if (!strcmp(w->auto_pad, "NOTSET")) pb = w->p[i], pe = w->p[w->nsp + i];
  int64_t span = in + pb + pe - keff;
  if (span < 0)
    return infer_err(cx, "spatial dim %d: window of %lld does not fit input "
                     "of %lld (padded %lld)", i, (long long)keff,
                     (long long)in, (long long)(in + pb + pe));
  if (!w->ceil_mode) {
    *out = span / s + 1;
    return NULL;
  }
  *out = div_up(span, s) + 1;
  if ((*out - 1) * s >= in + pb) (*out)--;
  return NULL;
}

/* [N, channels, spatial outputs...] for input x. */
static mlc_status_t *window_shape(const infer_cx_t *cx, const window_t *w,
                                  const mlc_value_t *x, mlc_dim_t channels,
                                  infer_shape_t *s) {
  s->rank = x->rank;
  s->d[0] = x->dims[0];
  s->d[1] = channels;
  for (int i = 0; i < w->nsp; i++) {
    mlc_dim_t in = x->dims[2 + i];
    if (!infer_dim_known(in)) {
      s->d[2 + i] = infer_dim_unknown();
      continue;
    }
    int64_t o = -1;
    MLC_RETURN_IF(window_out(cx, w, i, in.value, &o));
    s->d[2 + i] = infer_dim(o);
  }
  return NULL;
}

static mlc_status_t *conv_channels(const infer_cx_t *cx, mlc_dim_t *out_m) {
  const mlc_value_t *x = cx->n->inputs[0], *wt = cx->n->inputs[1];
  int64_t group = mlc_node_attr_int(cx->n, "group", 1);
  if (group < 1) return infer_err(cx, "group %lld is below 1",
                                  (long long)group);
  mlc_dim_t c = x->dims[1], wc = wt->dims[1], m = wt->dims[0];
  if (infer_dim_known(c) && infer_dim_known(wc) && wc.value * group != c.value)
    return infer_err(cx, "input 1 '%s': %lld input channels x group %lld "
                     "!= %lld channels of input 0", wt->name,
                     (long long)wc.value, (long long)group,
                     (long long)c.value);
  if (infer_dim_known(m) && m.value % group)
    return infer_err(cx, "input 1 '%s': %lld output channels are not a "
                     "multiple of group %lld", wt->name, (long long)m.value,
                     (long long)group);
  mlc_value_t *b = infer_in(cx, 2);
  if (b) {
    MLC_RETURN_IF(infer_need_rank(cx, 2, 1, 1));
    MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 2));
    if (infer_dim_known(b->dims[0]) && infer_dim_known(m) &&
        b->dims[0].value != m.value)
      return infer_err(cx, "input 2 '%s': %lld biases for %lld output "
                       "channels", b->name, (long long)b->dims[0].value,
                       (long long)m.value);
  }
  *out_m = m;
  return NULL;
}

mlc_status_t *infer_conv(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 3, -1));
  const mlc_value_t *x = cx->n->inputs[0], *wt = cx->n->inputs[1];
  MLC_RETURN_IF(infer_need_rank(cx, 1, x->rank, x->rank));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_float, "a float type"));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 1));
  mlc_dim_t m = {-1, NULL};
  MLC_RETURN_IF(conv_channels(cx, &m));
  window_t w = {.nsp = x->rank - 2};
  MLC_RETURN_IF(read_window(cx, &w));
  int64_t ks[MLC_INFER_MAX_RANK];
  bool has_ks = mlc_node_attr(cx->n, "kernel_shape") != NULL;
  if (has_ks) MLC_RETURN_IF(ints_attr(cx, "kernel_shape", w.nsp, 1, 1, ks));
  for (int i = 0; i < w.nsp; i++) {
    mlc_dim_t kd = wt->dims[2 + i];
    if (!infer_dim_known(kd) && !has_ks)
      return infer_errc(cx, MLC_UNSUPPORTED, "input 1 '%s': kernel dim %d "
                        "is unknown", wt->name, 2 + i);
    if (has_ks && infer_dim_known(kd) && kd.value != ks[i])
      return infer_err(cx, "kernel_shape[%d] = %lld but the weight has %lld",
                       i, (long long)ks[i], (long long)kd.value);
    w.k[i] = has_ks ? ks[i] : kd.value;
  }
  infer_shape_t s;
  MLC_RETURN_IF(window_shape(cx, &w, x, m, &s));
  return infer_set_output(cx, 0, x->dtype, &s);
}

static bool pool_dtype_ok(mlc_dtype_t dt) {
  return mlc_dtype_is_float(dt) || dt == MLC_DT_I8 || dt == MLC_DT_U8;
}

mlc_status_t *infer_pool(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 3, -1));
  bool is_max = cx->n->op == MLC_OP_MaxPool;
  MLC_RETURN_IF(infer_need_dtype(cx, 0, is_max ? pool_dtype_ok
                                               : infer_is_float,
                                 is_max ? "a float type, i8 or u8"
                                        : "a float type"));
  const mlc_value_t *x = cx->n->inputs[0];
  window_t w = {.nsp = x->rank - 2};
  if (!mlc_node_attr(cx->n, "kernel_shape"))
    return infer_err(cx, "attribute 'kernel_shape' is required");
  MLC_RETURN_IF(ints_attr(cx, "kernel_shape", w.nsp, 1, 1, w.k));
  MLC_RETURN_IF(read_window(cx, &w));
  infer_shape_t s;
  MLC_RETURN_IF(window_shape(cx, &w, x, x->dims[1], &s));
  MLC_RETURN_IF(infer_set_output(cx, 0, x->dtype, &s));
  if (is_max) return infer_set_output(cx, 1, MLC_DT_I64, &s);
  return NULL;
}

mlc_status_t *infer_global_pool(const infer_cx_t *cx) {
  MLC_RETURN_IF(infer_need_rank(cx, 0, 3, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_float, "a float type"));
  const mlc_value_t *x = cx->n->inputs[0];
  infer_shape_t s;
  infer_shape_of(x, &s);
  for (int i = 2; i < s.rank; i++) s.d[i] = infer_dim(1);
  return infer_set_output(cx, 0, x->dtype, &s);
}
