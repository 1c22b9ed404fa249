/* Shape rule for ConvTranspose: X [N, C, D...], W [C, M/group, k...],
 * optional B [M]; Y [N, M, O...] with O from mlc_convt_geometry (the
 * lowering uses the same function). */
#include "passes/convt.h"
#include "passes/infer.h"

mlc_status_t *infer_convtranspose(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0], *w = cx->n->inputs[1];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 3, 2 + MLC_CONVT_MAX_SPATIAL));
  MLC_RETURN_IF(infer_need_rank(cx, 1, x->rank, x->rank));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_float, "a float type"));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 1));
  int64_t grp = mlc_node_attr_int(cx->n, "group", 1);
  if (grp < 1) return infer_err(cx, "group %lld < 1", (long long)grp);
  mlc_dim_t C = x->dims[1], Wc = w->dims[0], Mg = w->dims[1];
  if (infer_dim_known(C) && infer_dim_known(Wc) &&
      (C.value != Wc.value || C.value % grp))
    return infer_err(cx, "input has %lld channels, weight %lld, group %lld",
                     (long long)C.value, (long long)Wc.value, (long long)grp);
  if (infer_in(cx, 2)) {
    MLC_RETURN_IF(infer_need_rank(cx, 2, 1, 1));
    MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 2));
  }
  infer_shape_t s = {.rank = x->rank};
  s.d[0] = x->dims[0];
  s.d[1] = infer_dim_known(Mg) ? infer_dim(Mg.value * grp) : infer_dim_unknown();
  mlc_convt_geom_t g = {.ns = x->rank - 2};
  bool known = true;
  for (int i = 0; i < g.ns; i++) {
    known = known && infer_dim_known(x->dims[2 + i]) &&
            infer_dim_known(w->dims[2 + i]);
    g.in[i] = x->dims[2 + i].value;
    g.kern[i] = w->dims[2 + i].value;
  }
  const char *why = known ? mlc_convt_geometry(cx->n, &g) : NULL;
  if (why) return infer_err(cx, "%s", why);
  for (int i = 0; i < g.ns; i++)
    s.d[2 + i] = known ? infer_dim(g.out[i]) : infer_dim_unknown();
  return infer_set_output(cx, 0, x->dtype, &s);
}
