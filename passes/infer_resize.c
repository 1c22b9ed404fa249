/* Shape rule for Resize: the data's dtype, sizes from mlc_resize_geometry
 * (shared with the lowering); scales/sizes must be constants. */
#include "passes/infer.h"
#include "passes/resize.h"

mlc_status_t *infer_resize(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, MLC_RESIZE_MAX_RANK));
  for (int d = 0; d < x->rank; d++)
    if (!infer_dim_known(x->dims[d]))
      return infer_errc(cx, MLC_UNSUPPORTED, "input dims must be static");
  mlc_value_t *sc = infer_in(cx, 2), *sz = infer_in(cx, 3);
  if (sc && !infer_is_float(sc->dtype))
    return infer_err(cx, "scales must be a float tensor");
  if (sz && sz->dtype != MLC_DT_I64)
    return infer_err(cx, "sizes must be an i64 tensor");
  mlc_resize_geom_t g;
  bool unsup = false;
  const char *why = mlc_resize_geometry(cx->n, &g, &unsup);
  if (why)
    return unsup ? infer_errc(cx, MLC_UNSUPPORTED, "%s", why)
                 : infer_err(cx, "%s", why);
  infer_shape_t s = {.rank = x->rank};
  for (int d = 0; d < x->rank; d++) s.d[d] = infer_dim(g.out[d]);
  return infer_set_output(cx, 0, x->dtype, &s);
}
