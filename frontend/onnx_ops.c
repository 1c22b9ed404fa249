/* The ONNX op table: (op_type, opset) -> core op plus a normalizer.
 *
 * Rows are keyed by op type and the opset version from which they apply; a
 * node uses the newest row whose version is <= the model's opset, and an
 * op with no such row is unsupported.  A new row appears only where the
 * import changes (the ONNX versions in between share it).  Normalizers
 * rewrite old forms into the core form of ir/ops.def: operands that old
 * opsets gave as attributes become constant inputs, defaults that changed
 * between opsets are set explicitly, attributes that no longer mean
 * anything (consumed_inputs, broadcast, is_test, momentum) are dropped.
 * A normalizer declines (sets *why) for forms the core ops cannot express;
 * the node is then reported as unsupported.
 */
#include <math.h>
#include <string.h>

#include "frontend/onnx_decomp.h"
#include "frontend/onnx_internal.h"

typedef mlc_status_t *(*norm_fn)(mlc_onnx_node_t *n, const char **why);

typedef struct op_row {
  const char *onnx;
  int since;
  mlc_op_t op;
  norm_fn norm;
} op_row_t;

/* ---- attribute helpers ---- */

mlc_attr_t *mlc_onnx_attr_find(mlc_onnx_node_t *n, const char *name) {
  for (int i = 0; i < n->nattrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

void mlc_onnx_attr_remove(mlc_onnx_node_t *n, const char *name) {
  for (int i = 0; i < n->nattrs; i++) {
    if (strcmp(n->attrs[i].name, name) == 0) {
      memmove(&n->attrs[i], &n->attrs[i + 1],
              sizeof *n->attrs * (size_t)(n->nattrs - i - 1));
      n->nattrs--;
      return;
    }
  }
}

/* Capacity is n_attribute + 8; normalizers add at most a few. */
bool mlc_onnx_attr_set_int(mlc_onnx_node_t *n, const char *name, int64_t v) {
  mlc_attr_t *a = mlc_onnx_attr_find(n, name);
  if (!a) {
    a = &n->attrs[n->nattrs++];
    a->name = name; /* string literal: lives forever */
  }
  a->kind = MLC_ATTR_INT;
  a->i = v;
  return true;
}

static void set_default_int(mlc_onnx_node_t *n, const char *name, int64_t v) {
  if (!mlc_onnx_attr_find(n, name)) mlc_onnx_attr_set_int(n, name, v);
}

static void set_default_float(mlc_onnx_node_t *n, const char *name, float v) {
  if (mlc_onnx_attr_find(n, name)) return;
  mlc_attr_t *a = &n->attrs[n->nattrs++];
  *a = (mlc_attr_t){.name = name, .kind = MLC_ATTR_FLOAT, .f = v};
}

static mlc_status_t *attr_kind_error(mlc_onnx_node_t *n, const char *name,
                                     const char *want) {
  return MLC_ERR(INVALID_MODEL, "%s: attribute '%s' should be %s", n->desc,
                 name, want);
}

/* ---- constants made from attributes ---- */

static const char *const_name(mlc_onnx_node_t *n, const char *what) {
  const char *base = n->nout > 0 && n->out[0] ? n->out[0]->name : n->np->name;
  return mlc_arena_printf(&n->g->arena, "%s__%s", base ? base : "", what);
}

static mlc_status_t *oom(mlc_onnx_node_t *n) {
  return MLC_ERR(OUT_OF_MEMORY, "%s", n->desc);
}

/* Sets input `idx` to a 1-D i64 constant made of ints attribute `name`
 * and removes the attribute.  Absent attribute: input left as is. */
static mlc_status_t *ints_attr_to_input(mlc_onnx_node_t *n, const char *name,
                                        int idx) {
  mlc_attr_t *a = mlc_onnx_attr_find(n, name);
  if (!a) return NULL;
  if (a->kind != MLC_ATTR_INTS) return attr_kind_error(n, name, "ints");
  const char *cname = const_name(n, name);
  mlc_value_t *v = cname ? mlc_graph_add_const_i64s(n->g, cname, a->ints.v,
                                                    a->ints.n) : NULL;
  if (!v) return oom(n);
  while (n->nin <= idx) n->in[n->nin++] = NULL;
  n->in[idx] = v;
  mlc_onnx_attr_remove(n, name);
  return NULL;
}

static uint16_t float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xff, m = x & 0x7fffff;
  if (e == 0xff) return (uint16_t)(sign | 0x7c00 | (m ? 0x200 : 0));
  int ne = (int)e - 127 + 15;
  if (ne >= 31) return (uint16_t)(sign | 0x7c00);
  if (ne <= 0) {
    if (ne < -10) return (uint16_t)sign;
    m |= 0x800000;
    uint32_t shift = (uint32_t)(14 - ne);
    uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = sign | ((uint32_t)ne << 10) | (m >> 13);
  uint32_t rem = m & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
  return (uint16_t)h;
}

/* A scalar constant of `dt` (f32 when unknown) holding `x`. */
static mlc_value_t *scalar_const(mlc_onnx_node_t *n, const char *what,
                                 mlc_dtype_t dt, double x) {
  const char *cname = const_name(n, what);
  if (!cname) return NULL;
  if (dt == MLC_DT_F16 || dt == MLC_DT_BF16) {
    float f = (float)x;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    uint16_t h = dt == MLC_DT_F16 ? float_to_half(f)
                                  : (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
    return mlc_graph_add_const(n->g, cname, dt, 0, NULL, &h, 2, MLC_DATA_COPY);
  }
  if (dt == MLC_DT_UNDEFINED || !mlc_dtype_is_computable(dt)) dt = MLC_DT_F32;
  return mlc_graph_add_const_scalar(n->g, cname, dt, x);
}

mlc_value_t *mlc_onnx_scalar_const(mlc_onnx_node_t *n, const char *what,
                                   mlc_dtype_t dt, double x) {
  return what ? scalar_const(n, what, dt, x) : NULL;
}

static mlc_dtype_t input_dtype(const mlc_onnx_node_t *n, int i) {
  return n->nin > i && n->in[i] ? n->in[i]->dtype : MLC_DT_UNDEFINED;
}

/* ---- normalizers ---- */

/* Opset < 7 binary ops: broadcast=1 with an explicit axis aligned B at
 * that axis, which numpy broadcasting cannot say without knowing ranks. */
static mlc_status_t *norm_legacy_bcast(mlc_onnx_node_t *n, const char **why) {
  const mlc_attr_t *b = mlc_onnx_attr_find(n, "broadcast");
  if (b && b->kind == MLC_ATTR_INT && b->i && mlc_onnx_attr_find(n, "axis")) {
    *why = "legacy broadcast with an axis";
    return NULL;
  }
  mlc_onnx_attr_remove(n, "broadcast");
  mlc_onnx_attr_remove(n, "axis");
  return NULL;
}

static mlc_status_t *norm_variadic(mlc_onnx_node_t *n, const char **why) {
  return mlc_onnx_decomp_variadic(n);
}

static mlc_status_t *norm_gemm_old(mlc_onnx_node_t *n, const char **why) {
  mlc_onnx_attr_remove(n, "broadcast");
  return NULL;
}

static mlc_status_t *norm_softmax_old(mlc_onnx_node_t *n, const char **why) {
  set_default_int(n, "axis", 1);
  mlc_onnx_attr_set_int(n, "coerce_2d", 1);
  return NULL;
}

static mlc_status_t *norm_softmax_13(mlc_onnx_node_t *n, const char **why) {
  set_default_int(n, "axis", -1);
  return NULL;
}

static mlc_status_t *float_attr_to_input(mlc_onnx_node_t *n, const char *name,
                                         int idx) {
  mlc_attr_t *a = mlc_onnx_attr_find(n, name);
  if (!a) return NULL;
  if (a->kind != MLC_ATTR_FLOAT) return attr_kind_error(n, name, "a float");
  mlc_value_t *v = scalar_const(n, name, input_dtype(n, 0), a->f);
  if (!v) return oom(n);
  while (n->nin <= idx) n->in[n->nin++] = NULL;
  n->in[idx] = v;
  mlc_onnx_attr_remove(n, name);
  return NULL;
}

static mlc_status_t *norm_clip_old(mlc_onnx_node_t *n, const char **why) {
  n->nin = n->nin > 1 ? 1 : n->nin;
  MLC_RETURN_IF(float_attr_to_input(n, "min", 1));
  return float_attr_to_input(n, "max", 2);
}

static mlc_status_t *norm_axes_attr(mlc_onnx_node_t *n, const char **why) {
  n->nin = n->nin > 1 ? 1 : n->nin;
  return ints_attr_to_input(n, "axes", 1);
}

static mlc_status_t *norm_unsqueeze_old(mlc_onnx_node_t *n, const char **why) {
  if (!mlc_onnx_attr_find(n, "axes"))
    return MLC_ERR(INVALID_MODEL, "%s: attribute 'axes' is required", n->desc);
  return norm_axes_attr(n, why);
}

static mlc_status_t *norm_reduce_old(mlc_onnx_node_t *n, const char **why) {
  set_default_int(n, "keepdims", 1);
  return norm_axes_attr(n, why);
}

static mlc_status_t *norm_reduce(mlc_onnx_node_t *n, const char **why) {
  set_default_int(n, "keepdims", 1);
  return NULL;
}

/* Reduce* built on ReduceSum (see onnx_decomp.c): the axes are
 * normalised as for ReduceSum, then the pre/post steps are added. */
#define REDUCE_VIA_SUM(fn, pre, post)                                        \
  static mlc_status_t *fn##_old(mlc_onnx_node_t *n, const char **why) {     \
    MLC_RETURN_IF(norm_reduce_old(n, why));                                \
    return mlc_onnx_decomp_reduce(n, pre, post);                           \
  }                                                                        \
  static mlc_status_t *fn(mlc_onnx_node_t *n, const char **why) {           \
    MLC_RETURN_IF(norm_reduce(n, why));                                    \
    return mlc_onnx_decomp_reduce(n, pre, post);                           \
  }
REDUCE_VIA_SUM(norm_reduce_sumsquare, MLC_OP_Mul, MLC_OP_COUNT_)
REDUCE_VIA_SUM(norm_reduce_l1, MLC_OP_Abs, MLC_OP_COUNT_)
REDUCE_VIA_SUM(norm_reduce_l2, MLC_OP_Mul, MLC_OP_Sqrt)
REDUCE_VIA_SUM(norm_reduce_logsum, MLC_OP_COUNT_, MLC_OP_Log)
REDUCE_VIA_SUM(norm_reduce_logsumexp, MLC_OP_Exp, MLC_OP_Log)

static mlc_status_t *norm_slice_old(mlc_onnx_node_t *n, const char **why) {
  if (!mlc_onnx_attr_find(n, "starts") || !mlc_onnx_attr_find(n, "ends"))
    return MLC_ERR(INVALID_MODEL, "%s: attributes 'starts' and 'ends' are "
                   "required", n->desc);
  n->nin = n->nin > 1 ? 1 : n->nin;
  MLC_RETURN_IF(ints_attr_to_input(n, "starts", 1));
  MLC_RETURN_IF(ints_attr_to_input(n, "ends", 2));
  return ints_attr_to_input(n, "axes", 3);
}

/* Split before 18: without `split`, equal parts, one per output. */
static mlc_status_t *norm_split_old(mlc_onnx_node_t *n, const char **why) {
  if (mlc_onnx_attr_find(n, "split")) {
    n->nin = n->nin > 1 ? 1 : n->nin;
    MLC_RETURN_IF(ints_attr_to_input(n, "split", 1));
  }
  if (n->nin < 2 || !n->in[1]) mlc_onnx_attr_set_int(n, "num_outputs", n->nout);
  return NULL;
}

static mlc_status_t *norm_split_13(mlc_onnx_node_t *n, const char **why) {
  if (n->nin < 2 || !n->in[1]) mlc_onnx_attr_set_int(n, "num_outputs", n->nout);
  return NULL;
}

static mlc_status_t *norm_pad_old(mlc_onnx_node_t *n, const char **why) {
  mlc_attr_t *p = mlc_onnx_attr_find(n, "pads");
  if (!p && (p = mlc_onnx_attr_find(n, "paddings"))) p->name = "pads";
  if (!p) return MLC_ERR(INVALID_MODEL, "%s: attribute 'pads' is required",
                         n->desc);
  n->nin = 1;
  MLC_RETURN_IF(ints_attr_to_input(n, "pads", 1));
  mlc_attr_t *val = mlc_onnx_attr_find(n, "value");
  float value = 0;
  if (val) {
    if (val->kind != MLC_ATTR_FLOAT) return attr_kind_error(n, "value", "a float");
    value = val->f;
    mlc_onnx_attr_remove(n, "value");
  }
  mlc_value_t *v = scalar_const(n, "value", input_dtype(n, 0), value);
  if (!v) return oom(n);
  n->in[n->nin++] = v;
  return NULL;
}

static mlc_status_t *norm_reshape_old(mlc_onnx_node_t *n, const char **why) {
  if (!mlc_onnx_attr_find(n, "shape"))
    return MLC_ERR(INVALID_MODEL, "%s: attribute 'shape' is required", n->desc);
  n->nin = n->nin > 1 ? 1 : n->nin;
  return ints_attr_to_input(n, "shape", 1);
}

static mlc_status_t *norm_concat_old(mlc_onnx_node_t *n, const char **why) {
  set_default_int(n, "axis", 1);
  return NULL;
}

/* Every Cast: `to` must name an ONNX type. */
static mlc_status_t *norm_cast(mlc_onnx_node_t *n, const char **why) {
  const mlc_attr_t *a = mlc_onnx_attr_find(n, "to");
  if (!a || a->kind != MLC_ATTR_INT)
    return MLC_ERR(INVALID_MODEL, "%s: attribute 'to' (an int) is required",
                   n->desc);
  mlc_dtype_t dt;
  return mlc_onnx_dtype_check(a->i, n->desc, &dt);
}

static mlc_status_t *norm_cast_old(mlc_onnx_node_t *n, const char **why) {
  static const char *names[] = {
      "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
      "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
      "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  mlc_attr_t *a = mlc_onnx_attr_find(n, "to");
  if (!a || a->kind != MLC_ATTR_STRING) return norm_cast(n, why);
  for (int i = 1; i < (int)(sizeof names / sizeof *names); i++) {
    if (strcmp(a->s, names[i]) == 0) {
      a->kind = MLC_ATTR_INT;
      a->i = i;
      return NULL;
    }
  }
  return MLC_ERR(INVALID_MODEL, "%s: 'to' names no type ('%s')", n->desc, a->s);
}

static mlc_status_t *norm_dropout(mlc_onnx_node_t *n, const char **why) {
  if (n->nout > 1 && n->out[1] && n->out_used[1]) {
    *why = "mask output is used";
    return NULL;
  }
  if (n->nin > 2 && n->in[2]) {
    /* Training mode with a constant ratio of 0 keeps every element and
     * scales by 1/(1-0): a copy (torchvision's Swin exports this). */
    const mlc_value_t *tm = n->in[2], *r = n->nin > 1 ? n->in[1] : NULL;
    bool keep_all = r && mlc_value_is_const(r) && mlc_value_numel(r) == 1 &&
                    mlc_value_const_float(r, 0) == 0.0;
    if (!keep_all && (!mlc_value_is_const(tm) || mlc_value_numel(tm) != 1 ||
                      mlc_value_const_int(tm, 0) != 0)) {
      *why = "training mode";
      return NULL;
    }
  }
  n->op = MLC_OP_Identity;
  n->nin = n->nin > 1 ? 1 : n->nin;
  n->nout = 1;
  n->nattrs = 0;
  return NULL;
}

static mlc_status_t *norm_batchnorm(mlc_onnx_node_t *n, const char **why) {
  if (mlc_onnx_attr_find(n, "training_mode") &&
      mlc_onnx_attr_find(n, "training_mode")->i) {
    if (n->opset < 14) {
      *why = "training_mode=1";
      return NULL;
    }
    MLC_RETURN_IF(mlc_onnx_decomp_bn_training(n, why));
    if (*why) return NULL;
  }
  for (int i = 1; i < n->nout; i++)
    if (n->out[i] && n->out_used[i]) {
      *why = "training outputs are used";
      return NULL;
    }
  mlc_attr_t *sp = mlc_onnx_attr_find(n, "spatial");
  if (sp && sp->kind == MLC_ATTR_INT && sp->i == 0) {
    *why = "spatial=0";
    return NULL;
  }
  static const char *drop[] = {"spatial", "is_test", "momentum", "training_mode"};
  for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
    mlc_onnx_attr_remove(n, drop[i]);
  set_default_float(n, "epsilon", 1e-5f);
  n->nout = 1;
  return NULL;
}

/* Resize from 11: the forms the core op cannot express are declined. */
static mlc_status_t *norm_resize(mlc_onnx_node_t *n, const char **why) {
  const mlc_attr_t *m = mlc_onnx_attr_find(n, "mode");
  const mlc_attr_t *ct = mlc_onnx_attr_find(n, "coordinate_transformation_mode");
  const mlc_attr_t *aa = mlc_onnx_attr_find(n, "antialias");
  if (m && m->kind == MLC_ATTR_STRING && strcmp(m->s, "cubic") == 0)
    *why = "mode cubic";
  else if (ct && ct->kind == MLC_ATTR_STRING &&
           strcmp(ct->s, "tf_crop_and_resize") == 0)
    *why = "coordinate_transformation_mode tf_crop_and_resize";
  else if (aa && aa->kind == MLC_ATTR_INT && aa->i)
    *why = "antialias";
  return NULL;
}

static mlc_status_t *norm_resize_10(mlc_onnx_node_t *n, const char **why) {
  *why = "Resize-10 (scales-only form)";
  return NULL;
}

static mlc_status_t *norm_rmsnorm(mlc_onnx_node_t *n, const char **why) {
  return mlc_onnx_decomp_rmsnorm(n, why);
}

static mlc_status_t *norm_lpnorm(mlc_onnx_node_t *n, const char **why) {
  return mlc_onnx_decomp_lpnorm(n, why);
}

/* TopK-1: `k` attribute -> input 1. */
static mlc_status_t *norm_topk_old(mlc_onnx_node_t *n, const char **why) {
  mlc_attr_t *k = mlc_onnx_attr_find(n, "k");
  if (!k || k->kind != MLC_ATTR_INT)
    return MLC_ERR(INVALID_MODEL, "%s: attribute 'k' (an int) is required",
                   n->desc);
  mlc_value_t *v = mlc_graph_add_const_i64s(n->g, const_name(n, "k"), &k->i, 1);
  if (!v) return oom(n);
  n->in[1] = v;
  n->nin = 2;
  mlc_onnx_attr_remove(n, "k");
  return NULL;
}

static mlc_status_t *norm_groupnorm(mlc_onnx_node_t *n, const char **why) {
  return mlc_onnx_decomp_groupnorm(n, why);
}

static mlc_status_t *norm_instancenorm(mlc_onnx_node_t *n, const char **why) {
  return mlc_onnx_decomp_instancenorm(n, why);
}

static mlc_status_t *norm_groupnorm_18(mlc_onnx_node_t *n, const char **why) {
  *why = "GroupNormalization-18 (per-group scale and bias)";
  return NULL;
}

static mlc_status_t *norm_tile_old(mlc_onnx_node_t *n, const char **why) {
  *why = "Tile-1 (tiles/axis inputs)";
  return NULL;
}

/* Constant: the output becomes a constant value; no node is added. */
static mlc_status_t *norm_constant(mlc_onnx_node_t *n, const char **why) {
  if (n->nattrs != 1) {
    if (n->nattrs == 0) *why = "no supported value attribute";
    else return MLC_ERR(INVALID_MODEL, "%s: needs exactly one value attribute",
                        n->desc);
    return NULL;
  }
  const mlc_attr_t *a = &n->attrs[0];
  mlc_tensor_t *t = &n->const_value;
  int64_t *dims = mlc_arena_alloc(&n->g->arena, sizeof *dims);
  if (!dims) return oom(n);
  if (strcmp(a->name, "value") == 0 && a->kind == MLC_ATTR_TENSOR) {
    *t = *a->t;
  } else if (strcmp(a->name, "value_float") == 0 && a->kind == MLC_ATTR_FLOAT) {
    *t = (mlc_tensor_t){MLC_DT_F32, 0, dims, &a->f, sizeof(float)};
  } else if (strcmp(a->name, "value_int") == 0 && a->kind == MLC_ATTR_INT) {
    *t = (mlc_tensor_t){MLC_DT_I64, 0, dims, &a->i, sizeof(int64_t)};
  } else if (strcmp(a->name, "value_floats") == 0 && a->kind == MLC_ATTR_FLOATS) {
    dims[0] = a->floats.n;
    *t = (mlc_tensor_t){MLC_DT_F32, 1, dims, a->floats.v,
                        (size_t)a->floats.n * sizeof(float)};
  } else if (strcmp(a->name, "value_ints") == 0 && a->kind == MLC_ATTR_INTS) {
    dims[0] = a->ints.n;
    *t = (mlc_tensor_t){MLC_DT_I64, 1, dims, a->ints.v,
                        (size_t)a->ints.n * sizeof(int64_t)};
  } else if (strncmp(a->name, "value_string", 12) == 0) {
    *why = "string constant";
    return NULL;
  } else {
    return MLC_ERR(INVALID_MODEL, "%s: attribute '%s' is not a constant value",
                   n->desc, a->name);
  }
  if (n->nout != 1 || !n->out[0])
    return MLC_ERR(INVALID_MODEL, "%s: needs exactly one output", n->desc);
  n->is_const = true;
  return NULL;
}

/* ---- the table ---- */

#define ROW(name, since, norm) {#name, since, MLC_OP_##name, norm}
#define SIMPLE(name, since) ROW(name, since, NULL)

static const op_row_t op_rows[] = {
    SIMPLE(Identity, 1), SIMPLE(Neg, 1), SIMPLE(Abs, 1), SIMPLE(Sqrt, 1),
    SIMPLE(Reciprocal, 1), SIMPLE(Exp, 1), SIMPLE(Log, 1), SIMPLE(Relu, 1),
    SIMPLE(LeakyRelu, 1), SIMPLE(Sigmoid, 1), SIMPLE(HardSigmoid, 1),
    SIMPLE(HardSwish, 14), SIMPLE(Tanh, 1), SIMPLE(Erf, 9), SIMPLE(Gelu, 20),
    SIMPLE(Floor, 1), SIMPLE(Ceil, 1), SIMPLE(Round, 11), SIMPLE(Sign, 9),
    SIMPLE(Sin, 7), SIMPLE(Cos, 7), SIMPLE(Not, 1), SIMPLE(IsNaN, 9),
    ROW(Cast, 1, norm_cast_old), ROW(Cast, 6, norm_cast),
    SIMPLE(CastLike, 15),
    SIMPLE(Elu, 1), SIMPLE(Selu, 1), SIMPLE(Celu, 12), SIMPLE(Softplus, 1),
    SIMPLE(Softsign, 1), SIMPLE(ThresholdedRelu, 10), SIMPLE(Shrink, 9),
    SIMPLE(Mish, 18), SIMPLE(Swish, 24),
    ROW(Clip, 1, norm_clip_old), SIMPLE(Clip, 11),
    ROW(Add, 1, norm_legacy_bcast), SIMPLE(Add, 7),
    ROW(Sub, 1, norm_legacy_bcast), SIMPLE(Sub, 7),
    ROW(Mul, 1, norm_legacy_bcast), SIMPLE(Mul, 7),
    ROW(Div, 1, norm_legacy_bcast), SIMPLE(Div, 7),
    ROW(Pow, 1, norm_legacy_bcast), SIMPLE(Pow, 7),
    SIMPLE(Mod, 10), ROW(Min, 1, norm_variadic), ROW(Max, 1, norm_variadic),
    ROW(Sum, 1, norm_variadic), ROW(Mean, 1, norm_variadic),
    ROW(Equal, 1, norm_legacy_bcast), SIMPLE(Equal, 7),
    ROW(Less, 1, norm_legacy_bcast), SIMPLE(Less, 7),
    ROW(Greater, 1, norm_legacy_bcast), SIMPLE(Greater, 7),
    SIMPLE(LessOrEqual, 12), SIMPLE(GreaterOrEqual, 12),
    ROW(And, 1, norm_legacy_bcast), SIMPLE(And, 7),
    ROW(Or, 1, norm_legacy_bcast), SIMPLE(Or, 7),
    ROW(Xor, 1, norm_legacy_bcast), SIMPLE(Xor, 7),
    SIMPLE(Where, 9), SIMPLE(MatMul, 1),
    ROW(Gemm, 1, norm_gemm_old), SIMPLE(Gemm, 7),
    SIMPLE(Conv, 1), SIMPLE(MaxPool, 1), SIMPLE(AveragePool, 1),
    SIMPLE(GlobalAveragePool, 1), SIMPLE(GlobalMaxPool, 1),
    ROW(BatchNormalization, 1, norm_batchnorm),
    ROW(Softmax, 1, norm_softmax_old), ROW(Softmax, 13, norm_softmax_13),
    ROW(LogSoftmax, 1, norm_softmax_old), ROW(LogSoftmax, 13, norm_softmax_13),
    SIMPLE(LayerNormalization, 17),
    ROW(ReduceMean, 1, norm_reduce_old), ROW(ReduceMean, 18, norm_reduce),
    ROW(ReduceSum, 1, norm_reduce_old), ROW(ReduceSum, 13, norm_reduce),
    ROW(ReduceMax, 1, norm_reduce_old), ROW(ReduceMax, 18, norm_reduce),
    ROW(ReduceMin, 1, norm_reduce_old), ROW(ReduceMin, 18, norm_reduce),
    ROW(ReduceProd, 1, norm_reduce_old), ROW(ReduceProd, 18, norm_reduce),
    {"ReduceSumSquare", 1, MLC_OP_ReduceSum, norm_reduce_sumsquare_old},
    {"ReduceSumSquare", 18, MLC_OP_ReduceSum, norm_reduce_sumsquare},
    {"ReduceL1", 1, MLC_OP_ReduceSum, norm_reduce_l1_old},
    {"ReduceL1", 18, MLC_OP_ReduceSum, norm_reduce_l1},
    {"ReduceL2", 1, MLC_OP_ReduceSum, norm_reduce_l2_old},
    {"ReduceL2", 18, MLC_OP_ReduceSum, norm_reduce_l2},
    {"ReduceLogSum", 1, MLC_OP_ReduceSum, norm_reduce_logsum_old},
    {"ReduceLogSum", 18, MLC_OP_ReduceSum, norm_reduce_logsum},
    {"ReduceLogSumExp", 1, MLC_OP_ReduceSum, norm_reduce_logsumexp_old},
    {"ReduceLogSumExp", 18, MLC_OP_ReduceSum, norm_reduce_logsumexp},
    ROW(Reshape, 1, norm_reshape_old), SIMPLE(Reshape, 5),
    SIMPLE(Flatten, 1),
    ROW(Squeeze, 1, norm_axes_attr), SIMPLE(Squeeze, 13),
    ROW(Unsqueeze, 1, norm_unsqueeze_old), SIMPLE(Unsqueeze, 13),
    SIMPLE(Transpose, 1),
    ROW(Concat, 1, norm_concat_old), SIMPLE(Concat, 4),
    ROW(Split, 1, norm_split_old), ROW(Split, 13, norm_split_13),
    SIMPLE(Split, 18),
    ROW(Slice, 1, norm_slice_old), SIMPLE(Slice, 10),
    SIMPLE(Gather, 1), SIMPLE(Expand, 8),
    ROW(Tile, 1, norm_tile_old), SIMPLE(Tile, 6),
    ROW(Pad, 1, norm_pad_old), SIMPLE(Pad, 11),
    SIMPLE(Shape, 1), SIMPLE(Size, 1), SIMPLE(ConstantOfShape, 9),
    SIMPLE(Range, 11),
    SIMPLE(ArgMax, 1), SIMPLE(ArgMin, 1), SIMPLE(Hardmax, 13),
    SIMPLE(CumSum, 11), SIMPLE(GatherElements, 11), SIMPLE(Trilu, 14),
    SIMPLE(CumProd, 26), SIMPLE(IsInf, 10), SIMPLE(ScatterElements, 11),
    {"Scatter", 9, MLC_OP_ScatterElements, NULL},
    ROW(TopK, 1, norm_topk_old), SIMPLE(TopK, 10),
    SIMPLE(ConvTranspose, 1),
    ROW(Resize, 10, norm_resize_10), ROW(Resize, 11, norm_resize),
    {"RMSNormalization", 23, MLC_OP_Mul, norm_rmsnorm},
    {"LpNormalization", 1, MLC_OP_Div, norm_lpnorm},
    {"GroupNormalization", 18, MLC_OP_Reshape, norm_groupnorm_18},
    {"GroupNormalization", 21, MLC_OP_Reshape, norm_groupnorm},
    {"InstanceNormalization", 1, MLC_OP_Reshape, norm_instancenorm},
    {"Dropout", 1, MLC_OP_Identity, norm_dropout},
    {"Constant", 1, MLC_OP_Identity, norm_constant},
};

static const op_row_t *find_row(const char *op_type, int64_t opset) {
  const op_row_t *best = NULL;
  for (size_t i = 0; i < sizeof op_rows / sizeof *op_rows; i++) {
    const op_row_t *r = &op_rows[i];
    if (r->since <= opset && strcmp(r->onnx, op_type) == 0 &&
        (!best || r->since > best->since))
      best = r;
  }
  return best;
}

mlc_status_t *mlc_onnx_op_convert(mlc_onnx_node_t *n, bool *unknown,
                                  const char **why) {
  *unknown = false;
  *why = NULL;
  const op_row_t *r = find_row(n->np->op_type, n->opset);
  if (!r) {
    *unknown = true;
    int first = 0; /* rows of one op are in ascending order */
    for (size_t i = 0; i < sizeof op_rows / sizeof *op_rows && !first; i++)
      if (strcmp(op_rows[i].onnx, n->np->op_type) == 0) first = op_rows[i].since;
    if (first) *why = mlc_arena_printf(&n->g->arena, "needs opset %d", first);
    return NULL;
  }
  n->op = r->op;
  for (int i = 0; i < n->nattrs; i++)
    MLC_RETURN_IF(mlc_onnx_attr_check_kind(r->onnx, &n->attrs[i], n->desc));
  if (n->opset < 6) mlc_onnx_attr_remove(n, "consumed_inputs");
  if (r->norm) MLC_RETURN_IF(r->norm(n, why));
  if (*why) *unknown = true;
  return NULL;
}
