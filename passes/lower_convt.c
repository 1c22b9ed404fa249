/* ConvTranspose: geometry (shared with shape inference) and lowering.
 *
 * Geometry follows the ONNX text: output = stride * (in - 1) +
 * output_padding + (k - 1) * dilation + 1 - pad_begin - pad_end, unless
 * output_shape is given or auto_pad is SAME_* (output = in * stride); then
 * total_padding = stride * (in - 1) + output_padding + (k - 1) * dilation
 * + 1 - output, split as begin = floor(total / 2) for SAME_UPPER and
 * begin = total - floor(total / 2) otherwise (floor as in ONNX's reference:
 * a negative total, output_shape beyond the full output, grows the end).
 *
 * Lowering is a gather over the output: y[n, m, o] = B[m] + sum over the
 * group's input channels c and kernel taps k of x[n, c, i] * W[c, m', k],
 * where o = i * stride - pad_begin + k * dilation, i.e. the tap
 * contributes when t = o + pad_begin - k * dilation is >= 0, divisible by
 * the stride and t / stride < in.  The load sits inside an IF on that
 * condition.  Accumulation in f32 for f16/bf16.
 */
#include <string.h>

#include "passes/convt.h"
#include "passes/lower_internal.h"

static void ints_or(const mlc_node_t *n, const char *name, int want,
                    int64_t dflt, int64_t *out) {
  const int64_t *v;
  int64_t cnt = mlc_node_attr_ints(n, name, &v);
  for (int i = 0; i < want; i++) out[i] = cnt >= want ? v[i] : dflt;
}

const char *mlc_convt_geometry(const mlc_node_t *n, mlc_convt_geom_t *g) {
  int ns = g->ns;
  if (ns < 1 || ns > MLC_CONVT_MAX_SPATIAL) return "unsupported spatial rank";
  int64_t opad[MLC_CONVT_MAX_SPATIAL], pads[2 * MLC_CONVT_MAX_SPATIAL];
  ints_or(n, "strides", ns, 1, g->stride);
  ints_or(n, "dilations", ns, 1, g->dil);
  ints_or(n, "output_padding", ns, 0, opad);
  ints_or(n, "pads", 2 * ns, 0, pads);
  const char *ap = mlc_node_attr_string(n, "auto_pad", "NOTSET");
  bool same = strncmp(ap, "SAME", 4) == 0, upper = strcmp(ap, "SAME_UPPER") == 0;
  const int64_t *os;
  int64_t nos = mlc_node_attr_ints(n, "output_shape", &os);
  if (nos > 0 && nos != ns && nos != ns + 2)
    return "output_shape has the wrong number of values";
  if (nos == ns + 2) os += 2;
  for (int i = 0; i < ns; i++) {
    if (g->stride[i] < 1 || g->dil[i] < 1)
      return "strides and dilations must be >= 1";
    int64_t full = g->stride[i] * (g->in[i] - 1) + opad[i] +
                   (g->kern[i] - 1) * g->dil[i] + 1;
    if (nos > 0 || same) {
      g->out[i] = nos > 0 ? os[i] : g->in[i] * g->stride[i];
      int64_t tot = full - g->out[i];
      int64_t half = tot >= 0 ? tot / 2 : -((-tot + 1) / 2); /* floor */
      g->pb[i] = upper ? half : tot - half;
      g->pe[i] = tot - g->pb[i];
    } else {
      bool valid = strcmp(ap, "VALID") == 0;
      g->pb[i] = valid ? 0 : pads[i];
      g->pe[i] = valid ? 0 : pads[ns + i];
      g->out[i] = full - g->pb[i] - g->pe[i];
    }
    if (g->out[i] < 0) return "negative output size";
  }
  return NULL;
}

/* x coordinate of spatial dim d for output coordinate o and tap kp;
 * ANDs the validity condition into *ok. */
static mlc_texpr_t *src_coord(lw_ctx_t *c, const mlc_convt_geom_t *g, int d,
                              mlc_texpr_t *o, mlc_texpr_t *kp,
                              mlc_texpr_t **ok) {
  mlc_tkernel_t *k = c->k;
  mlc_texpr_t *t = mlc_tx_binary(k, MLC_TB_SUB, lw_add_i(c, o, g->pb[d]),
                                 lw_mul_i(c, kp, g->dil[d]));
  mlc_texpr_t *i = mlc_tx_binary(k, MLC_TB_DIV, t, mlc_tx_i64(k, g->stride[d]));
  mlc_texpr_t *cond = mlc_tx_binary(k, MLC_TB_GE, t, mlc_tx_i64(k, 0));
  if (g->stride[d] > 1)
    cond = mlc_tx_binary(k, MLC_TB_AND, cond,
                         mlc_tx_binary(k, MLC_TB_EQ,
                                       mlc_tx_binary(k, MLC_TB_MOD, t,
                                                     mlc_tx_i64(k, g->stride[d])),
                                       mlc_tx_i64(k, 0)));
  cond = mlc_tx_binary(k, MLC_TB_AND, cond,
                       mlc_tx_binary(k, MLC_TB_LT, i, mlc_tx_i64(k, g->in[d])));
  *ok = *ok ? mlc_tx_binary(k, MLC_TB_AND, *ok, cond) : cond;
  return i;
}

static mlc_status_t *convt_geom(lw_ctx_t *c, const mlc_node_t *n,
                                mlc_convt_geom_t *g, int64_t *grp) {
  mlc_value_t *x = n->inputs[0], *wv = n->inputs[1], *y = n->outputs[0];
  int r = x->rank;
  if (r < 3 || wv->rank != r || y->rank != r)
    return lw_err(c, MLC_INVALID_MODEL, "ConvTranspose needs X, W, Y of equal "
                  "rank >= 3");
  *grp = mlc_node_attr_int(n, "group", 1);
  int64_t C = x->dims[1].value, Mg = wv->dims[1].value;
  if (*grp < 1 || C % *grp || wv->dims[0].value != C ||
      y->dims[1].value != Mg * *grp)
    return lw_err(c, MLC_INVALID_MODEL, "group %lld does not match channels",
                  (long long)*grp);
  g->ns = r - 2;
  for (int i = 0; i < g->ns && i < MLC_CONVT_MAX_SPATIAL; i++) {
    g->in[i] = x->dims[2 + i].value;
    g->kern[i] = wv->dims[2 + i].value;
  }
  const char *why = mlc_convt_geometry(n, g);
  if (why) return lw_err(c, MLC_INVALID_MODEL, "%s", why);
  for (int i = 0; i < g->ns; i++)
    if (g->out[i] != y->dims[2 + i].value)
      return lw_err(c, MLC_INVALID_MODEL, "output dim %d mismatch", 2 + i);
  return NULL;
}

mlc_status_t *lw_build_convtranspose(lw_ctx_t *c, const mlc_node_t *n) {
  mlc_tkernel_t *k = c->k;
  mlc_value_t *x = n->inputs[0], *wv = n->inputs[1], *y = n->outputs[0];
  mlc_value_t *bias = n->ninputs > 2 ? n->inputs[2] : NULL;
  mlc_convt_geom_t g;
  int64_t grp = 1;
  MLC_RETURN_IF(convt_geom(c, n, &g, &grp));
  int r = x->rank;
  if (mlc_value_numel(y) == 0) return NULL;
  int64_t Cg = x->dims[1].value / grp, Mg = wv->dims[1].value;
  int64_t yd[LW_MAXR], xd[LW_MAXR], wd[LW_MAXR];
  lw_value_dims(y, yd);
  lw_value_dims(x, xd);
  lw_value_dims(wv, wd);
  lw_nest_t nest;
  if (!lw_nest_make(c, &nest, r, yd, r, true)) return lw_oom(c);
  mlc_dtype_t ct = lw_compute_dt(y->dtype);
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, ct, "acc");
  mlc_tvar_t *vc = lw_loopvar(c), *vk[LW_MAXR];
  int bx = lw_buf(c, x, false), bw = lw_buf(c, wv, false);
  if (!acc || !vc || bx < 0 || bw < 0) return lw_oom(c);
  /* group of output channel m = m / Mg; input channel = group * Cg + c */
  mlc_texpr_t *gidx = mlc_tx_binary(k, MLC_TB_DIV, nest.idx[1], mlc_tx_i64(k, Mg));
  mlc_texpr_t *xi[LW_MAXR], *wi[LW_MAXR], *ok = NULL;
  xi[0] = nest.idx[0];
  xi[1] = lw_add(c, lw_mul_i(c, gidx, Cg), mlc_tx_var(k, vc));
  wi[0] = xi[1];
  wi[1] = mlc_tx_binary(k, MLC_TB_MOD, nest.idx[1], mlc_tx_i64(k, Mg));
  for (int d = 0; d < g.ns; d++) {
    if (!(vk[d] = lw_loopvar(c))) return lw_oom(c);
    wi[2 + d] = mlc_tx_var(k, vk[d]);
    xi[2 + d] = src_coord(c, &g, d, nest.idx[2 + d], wi[2 + d], &ok);
  }
  mlc_texpr_t *prod = mlc_tx_binary(
      k, MLC_TB_MUL, mlc_tx_cast(k, ct, mlc_tx_load(k, bx, lw_flat(c, xi, xd, r))),
      mlc_tx_cast(k, ct, mlc_tx_load(k, bw, lw_flat(c, wi, wd, r))));
  mlc_tstmt_t *inner = mlc_ts_if(
      k, ok, mlc_ts_assign(k, acc, mlc_tx_binary(k, MLC_TB_ADD,
                                                 mlc_tx_var(k, acc), prod)),
      NULL);
  for (int d = g.ns - 1; d >= 0; d--)
    inner = lw_for(c, vk[d], g.kern[d], inner, MLC_LOOP_SERIAL);
  inner = lw_for(c, vc, Cg, inner, MLC_LOOP_SERIAL);
  mlc_texpr_t *init = mlc_tx_const(k, ct, 0);
  if (bias) init = mlc_tx_cast(k, ct, lw_load_bcast(c, bias, &nest.idx[1], 1));
  mlc_tstmt_t *parts[3] = {mlc_ts_assign(k, acc, init), inner,
                           lw_store_out(c, n, nest.idx, r, mlc_tx_var(k, acc))};
  if (!lw_append(c, lw_nest_wrap(c, &nest, 0, mlc_ts_block(k, 3, parts), false)))
    return lw_oom(c);
  int64_t taps = Cg;
  for (int d = 0; d < g.ns; d++) taps *= g.kern[d];
  k->flops += 2 * mlc_value_numel(y) * taps;
  return NULL;
}
