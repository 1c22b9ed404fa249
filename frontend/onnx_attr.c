/* AttributeProto -> mlc_attr_t.  Names stay ONNX's; every value lives in
 * the graph's arena (tensor data as onnx_tensor.c hands it over).  Graph,
 * sparse-tensor and type-proto attributes are not imported: the caller is
 * told why and reports the node as unsupported.  Attributes without a
 * `type` (old exporters) get the kind of the one value field that is set.
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
