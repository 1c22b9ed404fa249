/* AttributeProto -> mlc_attr_t.  Names stay ONNX's; every value lives in
 * the graph's arena (tensor data as onnx_tensor.c hands it over).  Graph,
 * sparse-tensor and type-proto attributes are not imported: the caller is
 * told why and reports the node as unsupported.  Attributes without a
 * `type` (old exporters) get the kind of the one value field that is set.
 *
 * The kind of every attribute the importer or a pass reads is checked
 * here, once, against the ONNX schemas (mlc_onnx_attr_check_kind): the
 * readers fall back to the default when the kind does not match, so a
 * Transpose `perm` given as floats would otherwise be silently ignored.
 * In ONNX an attribute name has one type in every op that mlc imports,
 * except `value` (a tensor; a float in Pad before 11) and `to` (an int;
 * a string in Cast-1), so the table is keyed by name with those two
 * exceptions.  An int where a float is expected is converted (the value
 * is exact for the small integers exporters write); names not in the
 * table (not read by anything) are left alone.
 */
#include <string.h>

#include "frontend/onnx_internal.h"

typedef Onnx__AttributeProto__AttributeType atype_t;

static atype_t infer_type(const Onnx__AttributeProto *a) {
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
    return a->type;
  if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  if (a->n_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
  if (a->n_graphs) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
  return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static mlc_status_t *oom(const char *desc, const char *name) {
  return MLC_ERR(OUT_OF_MEMORY, "%s: attribute '%s'", desc, name);
}

static mlc_status_t *convert_tensor(mlc_graph_t *g, Onnx__TensorProto *tp,
                                    const char *base_dir, const char *what,
                                    mlc_tensor_t **out) {
  mlc_tensor_t *t = mlc_arena_alloc(&g->arena, sizeof *t);
  if (!t) return MLC_ERR(OUT_OF_MEMORY, "%s", what);
  MLC_RETURN_IF(mlc_onnx_tensor_to_graph(g, tp, base_dir, what, t));
  *out = t;
  return NULL;
}

static mlc_status_t *convert_lists(mlc_graph_t *g, Onnx__AttributeProto *a,
                                   atype_t type, const char *base_dir,
                                   const char *desc, mlc_attr_t *out) {
  mlc_arena_t *ar = &g->arena;
  switch (type) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
    out->kind = MLC_ATTR_FLOATS;
    out->floats.n = (int64_t)a->n_floats;
    out->floats.v = mlc_arena_memdup(ar, a->floats, a->n_floats * sizeof(float));
    return out->floats.v ? NULL : oom(desc, a->name);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    out->kind = MLC_ATTR_INTS;
    out->ints.n = (int64_t)a->n_ints;
    out->ints.v = mlc_arena_memdup(ar, a->ints, a->n_ints * sizeof(int64_t));
    return out->ints.v ? NULL : oom(desc, a->name);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
    out->kind = MLC_ATTR_STRINGS;
    out->strings.n = (int64_t)a->n_strings;
    out->strings.v = mlc_arena_calloc(ar, a->n_strings + 1, sizeof(char *));
    if (!out->strings.v) return oom(desc, a->name);
    for (size_t i = 0; i < a->n_strings; i++) {
      const ProtobufCBinaryData *sd = &a->strings[i];
      out->strings.v[i] = mlc_arena_strndup(
          ar, sd->data ? (const char *)sd->data : "", sd->data ? sd->len : 0);
      if (!out->strings.v[i]) return oom(desc, a->name);
    }
    return NULL;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
    out->kind = MLC_ATTR_TENSORS;
    out->tensors.n = (int64_t)a->n_tensors;
    out->tensors.v = mlc_arena_calloc(ar, a->n_tensors + 1, sizeof(mlc_tensor_t *));
    if (!out->tensors.v) return oom(desc, a->name);
    for (size_t i = 0; i < a->n_tensors; i++) {
      const char *what = mlc_arena_printf(ar, "%s: attribute '%s' tensor %zu",
                                          desc, a->name, i);
      if (!what) return oom(desc, a->name);
      MLC_RETURN_IF(convert_tensor(g, a->tensors[i], base_dir, what,
                                   &out->tensors.v[i]));
    }
    return NULL;
  default:
    return MLC_ERR(INTERNAL, "%s: attribute '%s': unexpected type", desc,
                   a->name);
  }
}

/* ---- kinds ---- */

#define K(kind) (1u << MLC_ATTR_##kind)

typedef struct attr_kind {
  const char *name;
  const char *op; /* NULL: every op */
  unsigned kinds;
} attr_kind_t;

/* From onnx.defs for the ops of onnx_ops.c's table (plus CumProd, Swish). */
static const attr_kind_t attr_kinds[] = {
    {"value", "Pad", K(FLOAT)}, {"value", NULL, K(TENSOR)},
    {"to", "Cast", K(INT) | K(STRING)},
    {"allowzero", NULL, K(INT)}, {"alpha", NULL, K(FLOAT)},
    {"antialias", NULL, K(INT)}, {"approximate", NULL, K(STRING)},
    {"auto_pad", NULL, K(STRING)}, {"axes", NULL, K(INTS)},
    {"axis", NULL, K(INT)}, {"beta", NULL, K(FLOAT)}, {"bias", NULL, K(FLOAT)},
    {"broadcast", NULL, K(INT)}, {"ceil_mode", NULL, K(INT)},
    {"consumed_inputs", NULL, K(INTS)},
    {"coordinate_transformation_mode", NULL, K(STRING)},
    {"count_include_pad", NULL, K(INT)}, {"cubic_coeff_a", NULL, K(FLOAT)},
    {"detect_negative", NULL, K(INT)}, {"detect_positive", NULL, K(INT)},
    {"dilations", NULL, K(INTS)}, {"end", NULL, K(INT)},
    {"ends", NULL, K(INTS)}, {"epsilon", NULL, K(FLOAT)},
    {"exclude_outside", NULL, K(INT)}, {"exclusive", NULL, K(INT)},
    {"extrapolation_value", NULL, K(FLOAT)}, {"fmod", NULL, K(INT)},
    {"gamma", NULL, K(FLOAT)}, {"group", NULL, K(INT)},
    {"is_test", NULL, K(INT)}, {"k", NULL, K(INT)},
    {"keep_aspect_ratio_policy", NULL, K(STRING)}, {"keepdims", NULL, K(INT)},
    {"kernel_shape", NULL, K(INTS)}, {"lambd", NULL, K(FLOAT)},
    {"largest", NULL, K(INT)}, {"max", NULL, K(FLOAT)}, {"min", NULL, K(FLOAT)},
    {"mode", NULL, K(STRING)}, {"momentum", NULL, K(FLOAT)},
    {"nearest_mode", NULL, K(STRING)}, {"noop_with_empty_axes", NULL, K(INT)},
    {"num_groups", NULL, K(INT)}, {"num_outputs", NULL, K(INT)},
    {"output_padding", NULL, K(INTS)}, {"output_shape", NULL, K(INTS)},
    {"p", NULL, K(INT)}, {"paddings", NULL, K(INTS)}, {"pads", NULL, K(INTS)},
    {"perm", NULL, K(INTS)}, {"ratio", NULL, K(FLOAT)},
    {"reduction", NULL, K(STRING)}, {"reverse", NULL, K(INT)},
    {"saturate", NULL, K(INT)}, {"seed", NULL, K(INT)},
    {"select_last_index", NULL, K(INT)}, {"shape", NULL, K(INTS)},
    {"sorted", NULL, K(INT)}, {"spatial", NULL, K(INT)},
    {"split", NULL, K(INTS)}, {"start", NULL, K(INT)},
    {"starts", NULL, K(INTS)}, {"stash_type", NULL, K(INT)},
    {"storage_order", NULL, K(INT)}, {"strides", NULL, K(INTS)},
    {"training_mode", NULL, K(INT)}, {"transA", NULL, K(INT)},
    {"transB", NULL, K(INT)}, {"upper", NULL, K(INT)},
    {"value_float", NULL, K(FLOAT)}, {"value_floats", NULL, K(FLOATS)},
    {"value_int", NULL, K(INT)}, {"value_ints", NULL, K(INTS)},
    {"value_string", NULL, K(STRING)}, {"value_strings", NULL, K(STRINGS)},
};

static const char *kind_name(mlc_attr_kind_t k) {
  static const char *const names[] = {
      [MLC_ATTR_FLOAT] = "a float", [MLC_ATTR_INT] = "an int",
      [MLC_ATTR_STRING] = "a string", [MLC_ATTR_TENSOR] = "a tensor",
      [MLC_ATTR_GRAPH] = "a graph", [MLC_ATTR_FLOATS] = "floats",
      [MLC_ATTR_INTS] = "ints", [MLC_ATTR_STRINGS] = "strings",
      [MLC_ATTR_TENSORS] = "tensors", [MLC_ATTR_GRAPHS] = "graphs"};
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "unknown";
}

static unsigned expected_kinds(const char *op_type, const char *name) {
  unsigned any = 0;
  for (size_t i = 0; i < sizeof attr_kinds / sizeof *attr_kinds; i++) {
    const attr_kind_t *r = &attr_kinds[i];
    if (strcmp(r->name, name) != 0) continue;
    if (r->op && op_type && strcmp(r->op, op_type) == 0) return r->kinds;
    if (!r->op) any = r->kinds;
  }
  return any;
}

mlc_status_t *mlc_onnx_attr_check_kind(const char *op_type, mlc_attr_t *a,
                                       const char *desc) {
  unsigned want = expected_kinds(op_type, a->name);
  if (!want || (want & (1u << a->kind))) return NULL;
  if (want == K(FLOAT) && a->kind == MLC_ATTR_INT) {
    float f = (float)a->i;
    a->kind = MLC_ATTR_FLOAT;
    a->f = f;
    return NULL;
  }
  const char *first = NULL, *second = NULL;
  for (unsigned k = 0; k < 32; k++)
    if (want & (1u << k)) *(first ? &second : &first) = kind_name(k);
  return MLC_ERR(INVALID_MODEL, "%s: attribute '%s' is %s, should be %s%s%s",
                 desc, a->name, kind_name(a->kind), first,
                 second ? " or " : "", second ? second : "");
}

mlc_status_t *mlc_onnx_attr_convert(mlc_graph_t *g, Onnx__AttributeProto *a,
                                    const char *base_dir, const char *desc,
                                    mlc_attr_t *out, const char **why) {
  *why = NULL;
  memset(out, 0, sizeof *out);
  if (!a->name || !*a->name)
    return MLC_ERR(INVALID_MODEL, "%s: attribute without a name", desc);
  if (a->ref_attr_name && *a->ref_attr_name)
    return MLC_ERR(INVALID_MODEL, "%s: attribute '%s' refers to a function "
                   "attribute outside a function", desc, a->name);
  out->name = mlc_arena_strdup(&g->arena, a->name);
  if (!out->name) return oom(desc, a->name);
  atype_t type = infer_type(a);
  switch (type) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
    out->kind = MLC_ATTR_FLOAT;
    out->f = a->f;
    return NULL;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
    out->kind = MLC_ATTR_INT;
    out->i = a->i;
    return NULL;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
    out->kind = MLC_ATTR_STRING;
    out->s = mlc_arena_strndup(&g->arena,
                               a->s.data ? (const char *)a->s.data : "",
                               a->s.data ? a->s.len : 0);
    return out->s ? NULL : oom(desc, a->name);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
    if (!a->t)
      return MLC_ERR(INVALID_MODEL, "%s: tensor attribute '%s' has no tensor",
                     desc, a->name);
    out->kind = MLC_ATTR_TENSOR;
    const char *what = mlc_arena_printf(&g->arena, "%s: attribute '%s'", desc,
                                        a->name);
    if (!what) return oom(desc, a->name);
    return convert_tensor(g, a->t, base_dir, what, &out->t);
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
    *why = "graph attribute";
    return NULL;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
    *why = "sparse tensor attribute";
    return NULL;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
    *why = "type attribute";
    return NULL;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
    return MLC_ERR(INVALID_MODEL, "%s: attribute '%s' has no type and no value",
                   desc, a->name);
  default:
    if ((int)type >= ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS &&
        (int)type <= ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS)
      return convert_lists(g, a, type, base_dir, desc, out);
    return MLC_ERR(INVALID_MODEL, "%s: attribute '%s' has unknown type %d",
                   desc, a->name, (int)type);
  }
}
