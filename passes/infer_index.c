/* Shape rules for ArgMax/ArgMin, Hardmax, CumSum/CumProd, GatherElements,
 * ScatterElements, Trilu and TopK (see infer.h).  ArgMax/ArgMin give i64 with the axis removed or
 * kept as 1; the others keep the data's shape (GatherElements takes the
 * indices' shape) and dtype. */
#include <string.h>

#include "passes/infer.h"

static bool is_value(mlc_dtype_t dt) {
  return infer_is_numeric(dt) || dt == MLC_DT_BOOL;
}

mlc_status_t *infer_argminmax(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", 0), x->rank,
                           "axis", &axis));
  bool keep = mlc_node_attr_int(cx->n, "keepdims", 1) != 0;
  infer_shape_t s = {.rank = 0};
  for (int k = 0; k < x->rank; k++) {
    if (k != axis) s.d[s.rank++] = x->dims[k];
    else if (keep) s.d[s.rank++] = infer_dim(1);
  }
  return infer_set_output(cx, 0, MLC_DT_I64, &s);
}

mlc_status_t *infer_hardmax(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_float, "a float type"));
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", -1), x->rank,
                           "axis", &axis));
  infer_shape_t s;
  infer_shape_of(x, &s);
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_cumsum(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  MLC_RETURN_IF(infer_need_dtype(cx, 1, infer_is_index, "i32 or i64"));
  int64_t *ax = NULL, n = 0;
  MLC_RETURN_IF(infer_const_ints(cx, 1, "axis", &ax, &n));
  if (n != 1) return infer_err(cx, "input 1 'axis' must hold one value");
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, ax[0], x->rank, "axis", &axis));
  infer_shape_t s;
  infer_shape_of(x, &s);
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_gather_elements(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0], *idx = cx->n->inputs[1];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, is_value, "a number type or bool"));
  MLC_RETURN_IF(infer_need_dtype(cx, 1, infer_is_index, "i32 or i64"));
  if (idx->rank != x->rank)
    return infer_err(cx, "indices have rank %d, data rank %d", idx->rank,
                     x->rank);
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", 0), x->rank,
                           "axis", &axis));
  infer_shape_t s;
  infer_shape_of(idx, &s);
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_trilu(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 2, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, is_value, "a number type or bool"));
  if (infer_in(cx, 1)) {
    MLC_RETURN_IF(infer_need_dtype(cx, 1, infer_is_index, "i64"));
    int64_t *k = NULL, n = 0;
    MLC_RETURN_IF(infer_const_ints(cx, 1, "k", &k, &n));
    if (n != 1) return infer_err(cx, "input 1 'k' must hold one value");
  }
  infer_shape_t s;
  infer_shape_of(x, &s);
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_scatter_elements(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0], *idx = cx->n->inputs[1];
  const mlc_value_t *upd = cx->n->inputs[2];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, is_value, "a number type or bool"));
  MLC_RETURN_IF(infer_need_dtype(cx, 1, infer_is_index, "i32 or i64"));
  MLC_RETURN_IF(infer_need_same_dtype(cx, 0, 2));
  if (idx->rank != x->rank || upd->rank != x->rank)
    return infer_err(cx, "data, indices and updates must have the same rank");
  for (int d = 0; d < x->rank; d++)
    if (infer_dim_known(idx->dims[d]) && infer_dim_known(upd->dims[d]) &&
        idx->dims[d].value != upd->dims[d].value)
      return infer_err(cx, "indices and updates differ in dim %d", d);
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", 0), x->rank,
                           "axis", &axis));
  const char *red = mlc_node_attr_string(cx->n, "reduction", "none");
  if (strcmp(red, "none") && strcmp(red, "add") && strcmp(red, "mul") &&
      strcmp(red, "max") && strcmp(red, "min"))
    return infer_err(cx, "reduction '%s'", red);
  infer_shape_t s;
  infer_shape_of(x, &s);
  return infer_set_output(cx, 0, x->dtype, &s);
}

mlc_status_t *infer_topk(const infer_cx_t *cx) {
  const mlc_value_t *x = cx->n->inputs[0];
  MLC_RETURN_IF(infer_need_rank(cx, 0, 1, -1));
  MLC_RETURN_IF(infer_need_dtype(cx, 0, infer_is_numeric, "a number type"));
  MLC_RETURN_IF(infer_need_dtype(cx, 1, infer_is_index, "i64"));
  int64_t *k = NULL, n = 0;
  MLC_RETURN_IF(infer_const_ints(cx, 1, "K", &k, &n));
  if (n != 1 || k[0] < 0) return infer_err(cx, "input 1 'K' must be one value >= 0");
  int axis = 0;
  MLC_RETURN_IF(infer_axis(cx, mlc_node_attr_int(cx->n, "axis", -1), x->rank,
                           "axis", &axis));
  if (infer_dim_known(x->dims[axis]) && k[0] > x->dims[axis].value)
    return infer_err(cx, "K = %lld exceeds the axis length %lld",
                     (long long)k[0], (long long)x->dims[axis].value);
  infer_shape_t s;
  infer_shape_of(x, &s);
  s.d[axis] = infer_dim(k[0]);
  MLC_RETURN_IF(infer_set_output(cx, 0, x->dtype, &s));
  return infer_set_output(cx, 1, MLC_DT_I64, &s);
}
