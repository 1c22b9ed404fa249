/* ModelProto -> graph IR.
 *
 * Order of work: check the model header (IR version >= 3, a graph, the
 * default-domain opset), index value_info/output types and the names every
 * node consumes, turn initializers into constants, create the inputs that
 * are not initializers, convert the nodes in file order (ONNX requires
 * topological order, so an input naming a value not yet defined is an
 * error), then mark the outputs.  Unsupported nodes do not stop the
 * import: their outputs become placeholder values so later nodes still
 * resolve, and all of them are reported together in one MLC_UNSUPPORTED
 * status at the end.  Invalid models stop at the first error, which names
 * the node or tensor.  No shape inference happens here: values get a
 * dtype and shape only where the model states one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

typedef struct import_ctx {
  mlc_graph_t *g;
  Onnx__ModelProto *m;
  Onnx__GraphProto *gp;
  const char *base_dir;
  int64_t opset;
  Onnx__NodeProto **nodes; /* graph nodes, local functions inlined */
  int64_t *node_opsets;    /* default-domain opset per node */
  size_t nnodes;
  mlc_onnx_names_t values; /* name -> mlc_value_t* */
  mlc_onnx_names_t types;  /* name -> Onnx__ValueInfoProto* */
  mlc_onnx_names_t uses;   /* names consumed by a node or a graph output */
  int unk_counter;
  int nunsupported;
  char *unsup; /* ", "-separated list */
  size_t unsup_len;
} import_ctx_t;

static mlc_status_t *oom(const char *what) {
  return MLC_ERR(OUT_OF_MEMORY, "importing %s", what);
}

static bool is_default_domain(const char *d) {
  return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

/* ---- model header ---- */

static mlc_status_t *check_header(import_ctx_t *c) {
  const Onnx__ModelProto *m = c->m;
  if (!m->has_ir_version)
    return MLC_ERR(INVALID_MODEL, "model has no ir_version");
  if (m->ir_version < 3)
    return MLC_ERR(UNSUPPORTED, "IR version %lld is not supported (3 and up "
                   "are)", (long long)m->ir_version);
  if (!m->graph) return MLC_ERR(INVALID_MODEL, "model has no graph");
  c->opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (is_default_domain(o->domain)) c->opset = o->has_version ? o->version : 1;
  }
  /* No default-domain import is fine for a model that uses none. */
  if (c->opset < 1) c->opset = 0;
  if (c->opset > MLC_ONNX_MAX_OPSET)
    return MLC_ERR(UNSUPPORTED, "opset %lld is newer than the newest known "
                   "(%d)", (long long)c->opset, MLC_ONNX_MAX_OPSET);
  c->g->opset = c->opset;
  c->gp = m->graph;
  return NULL;
}

/* ---- types ---- */

static const char *type_kind_name(int vc) {
  switch (vc) {
  case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: return "a sequence";
  case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: return "a map";
  case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: return "an optional";
  case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: return "a sparse tensor";
  default: return "a non-tensor";
  }
}

static mlc_status_t *read_dim(import_ctx_t *c, const Onnx__TensorShapeProto__Dimension *d,
                              const char *name, size_t i, bool is_input,
                              mlc_dim_t *out) {
  *out = (mlc_dim_t){-1, NULL};
  if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
    if (d->dim_value < 0)
      return MLC_ERR(INVALID_MODEL, "value '%s': dim %zu is negative (%lld)",
                     name, i, (long long)d->dim_value);
    out->value = d->dim_value;
  } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
             d->dim_param && *d->dim_param) {
    out->sym = d->dim_param;
  } else if (is_input) {
    out->sym = mlc_arena_printf(&c->g->arena, "unk__%d", c->unk_counter++);
    if (!out->sym) return oom(name);
  }
  return NULL;
}

/* Reads dtype and shape from a value's declared type (vi may be NULL). */
static mlc_status_t *declared_type(import_ctx_t *c, const Onnx__ValueInfoProto *vi,
                                   const char *name, bool is_input, bool strict,
                                   mlc_dtype_t *dt, int *rank, mlc_dim_t **dims) {
  *dt = MLC_DT_UNDEFINED;
  *rank = -1;
  *dims = NULL;
  const Onnx__TypeProto *tp = vi ? vi->type : NULL;
  if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) return NULL;
  if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
    /* Inside the graph, leave it unknown: the node that makes such a
     * value is itself unsupported and is reported with the others. */
    if (!strict) return NULL;
    return MLC_ERR(UNSUPPORTED, "value '%s' has %s type (only tensors are "
                   "supported)", name, type_kind_name(tp->value_case));
  }
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (tt->has_elem_type && tt->elem_type != 0) {
    const char *what = mlc_arena_printf(&c->g->arena, "value '%s'", name);
    if (!what) return oom(name);
    MLC_RETURN_IF(mlc_onnx_dtype_check(tt->elem_type, what, dt));
  }
  if (!tt->shape) return NULL;
  if (tt->shape->n_dim > MLC_ONNX_MAX_RANK)
    return MLC_ERR(UNSUPPORTED, "value '%s': rank %zu is above %d", name,
                   tt->shape->n_dim, MLC_ONNX_MAX_RANK);
  *rank = (int)tt->shape->n_dim;
  *dims = mlc_arena_calloc(&c->g->arena, tt->shape->n_dim + 1, sizeof **dims);
  if (!*dims) return oom(name);
  /* Count bytes, not elements: plan and codegen need the byte size in an
   * int64 (f32[2^62] has a valid count but -1 bytes). */
  size_t es = mlc_dtype_size(*dt);
  int64_t numel = es ? (int64_t)es : 1;
  for (size_t i = 0; i < tt->shape->n_dim; i++) {
    mlc_dim_t *d = &(*dims)[i];
    MLC_RETURN_IF(read_dim(c, tt->shape->dim[i], name, i, is_input, d));
    if (d->value > 0 && numel > INT64_MAX / d->value)
      return MLC_ERR(INVALID_MODEL, "value '%s': byte size overflows",
                     name);
    if (d->value > 0) numel *= d->value;
  }
  return NULL;
}

static mlc_status_t *new_value(import_ctx_t *c, const char *name, bool is_input,
                               mlc_value_t **out) {
  mlc_dtype_t dt;
  int rank;
  mlc_dim_t *dims;
  MLC_RETURN_IF(declared_type(c, mlc_onnx_names_get(&c->types, name), name,
                              is_input, is_input, &dt, &rank, &dims));
  mlc_value_t *v = mlc_graph_add_value(c->g, name, dt, rank, dims);
  if (!v || !mlc_onnx_names_put(&c->values, v->name, v)) return oom(name);
  *out = v;
  return NULL;
}

/* ---- indexes ---- */

static mlc_status_t *index_names(import_ctx_t *c) {
  const Onnx__GraphProto *gp = c->gp;
  for (size_t i = 0; i < gp->n_value_info; i++)
    if (gp->value_info[i]->name &&
        !mlc_onnx_names_put(&c->types, gp->value_info[i]->name, gp->value_info[i]))
      return oom("value_info");
  for (size_t i = 0; i < gp->n_output; i++) {
    const char *name = gp->output[i]->name;
    if (!name || !*name)
      return MLC_ERR(INVALID_MODEL, "graph output %zu has no name", i);
    if (!mlc_onnx_names_put(&c->types, name, gp->output[i]) ||
        !mlc_onnx_names_put(&c->uses, name, c))
      return oom("outputs");
  }
  for (size_t i = 0; i < c->nnodes; i++)
    for (size_t j = 0; j < c->nodes[i]->n_input; j++)
      if (c->nodes[i]->input[j] && *c->nodes[i]->input[j] &&
          !mlc_onnx_names_put(&c->uses, c->nodes[i]->input[j], c))
        return oom("node inputs");
  return NULL;
}

/* ---- initializers and inputs ---- */

static mlc_status_t *add_initializer(import_ctx_t *c, size_t i) {
  Onnx__TensorProto *tp = c->gp->initializer[i];
  if (!tp->name || !*tp->name)
    return MLC_ERR(INVALID_MODEL, "initializer %zu has no name", i);
  if (mlc_onnx_names_get(&c->values, tp->name))
    return MLC_ERR(INVALID_MODEL, "initializer '%s' is defined twice", tp->name);
  mlc_tensor_t t;
  const char *what = mlc_arena_printf(&c->g->arena, "tensor '%s'", tp->name);
  if (!what) return oom(tp->name);
  MLC_RETURN_IF(mlc_onnx_tensor_to_graph(c->g, tp, c->base_dir, what, &t));
  mlc_value_t *v = mlc_graph_add_const(c->g, tp->name, t.dtype, t.rank, t.dims,
                                       t.data, t.nbytes, MLC_DATA_BORROW);
  if (!v || !mlc_onnx_names_put(&c->values, v->name, v)) return oom(tp->name);
  return NULL;
}

static mlc_status_t *add_inputs(import_ctx_t *c) {
  const Onnx__GraphProto *gp = c->gp;
  mlc_onnx_names_t seen = {0};
  mlc_status_t *st = NULL;
  for (size_t i = 0; i < gp->n_input && !st; i++) {
    const char *name = gp->input[i]->name;
    if (!name || !*name) {
      st = MLC_ERR(INVALID_MODEL, "graph input %zu has no name", i);
    } else if (mlc_onnx_names_get(&seen, name)) {
      st = MLC_ERR(INVALID_MODEL, "graph input '%s' is listed twice", name);
    } else if (!mlc_onnx_names_put(&seen, name, c)) {
      st = oom(name);
    } else if (!mlc_onnx_names_get(&c->values, name)) {
      /* Not an initializer: a real input, typed by its own entry. */
      mlc_onnx_names_put(&c->types, name, gp->input[i]);
      mlc_value_t *v;
      st = new_value(c, name, true, &v);
      if (!st) {
        v->flags |= MLC_VALUE_INPUT;
        if (!MLC_VEC_PUSH(&c->g->inputs, v)) st = oom(name);
      }
    }
  }
  mlc_onnx_names_deinit(&seen);
  return st;
}

/* ---- unsupported list ---- */

/* An arena copy of s for a message, escaped (base/escape.h) and cut at 80
 * bytes. */
static const char *printable(mlc_arena_t *ar, const char *s) {
  if (!s) return "";
  size_t n = strlen(s);
  char *cut = mlc_arena_strndup(ar, s, n > 80 ? 80 : n);
  const char *e = cut ? mlc_escape_arena(ar, cut, 0) : NULL;
  return e && n > 80 ? mlc_arena_printf(ar, "%s...", e) : e;
}

static mlc_status_t *note_unsupported(import_ctx_t *c, const Onnx__NodeProto *np,
                                      size_t idx, const char *why) {
  mlc_arena_t *ar = &c->g->arena;
  const char *name = printable(ar, np->name), *op = printable(ar, np->op_type);
  const char *domain = printable(ar, np->domain);
  if (!name || !op || !domain) return oom("unsupported list");
  const char *node = *name ? mlc_arena_printf(ar, "node '%s'", name)
                           : mlc_arena_printf(ar, "node #%zu", idx);
  const char *dom = is_default_domain(np->domain)
                        ? ""
                        : mlc_arena_printf(ar, "domain '%s', ", domain);
  if (!node || !dom) return oom("unsupported list");
  char *item = mlc_arena_printf(ar, "%s (%s%s%s%s)", op, dom, node,
                                why ? ": " : "", why ? why : "");
  if (!item) return oom("unsupported list");
  c->nunsupported++;
  if (c->nunsupported > 40) return NULL; /* counted, not listed */
  size_t n = strlen(item);
  char *grown = realloc(c->unsup, c->unsup_len + n + 3);
  if (!grown) return oom("unsupported list");
  c->unsup = grown;
  if (c->unsup_len) {
    memcpy(c->unsup + c->unsup_len, ", ", 2);
    c->unsup_len += 2;
  }
  memcpy(c->unsup + c->unsup_len, item, n + 1);
  c->unsup_len += n;
  return NULL;
}

static mlc_status_t *unsupported_status(import_ctx_t *c) {
  int listed = c->nunsupported > 40 ? 40 : c->nunsupported;
  if (listed < c->nunsupported)
    return MLC_ERR(UNSUPPORTED, "unsupported ops (%d nodes): %s, and %d more",
                   c->nunsupported, c->unsup, c->nunsupported - listed);
  return MLC_ERR(UNSUPPORTED, "unsupported ops (%d node%s): %s",
                 c->nunsupported, c->nunsupported == 1 ? "" : "s", c->unsup);
}

/* ---- nodes ---- */

static mlc_status_t *node_inputs(import_ctx_t *c, mlc_onnx_node_t *n) {
  const Onnx__NodeProto *np = n->np;
  for (size_t j = 0; j < np->n_input; j++) {
    const char *name = np->input[j];
    mlc_value_t *v = NULL;
    if (name && *name) {
      v = mlc_onnx_names_get(&c->values, name);
      if (!v)
        return MLC_ERR(INVALID_MODEL, "%s: input %zu '%s' is not defined",
                       n->desc, j, name);
    }
    n->in[n->nin++] = v;
  }
  return NULL;
}

static mlc_status_t *node_outputs(import_ctx_t *c, mlc_onnx_node_t *n) {
  const Onnx__NodeProto *np = n->np;
  for (size_t j = 0; j < np->n_output; j++) {
    const char *name = np->output[j];
    mlc_value_t *v = NULL;
    n->out_used[j] = false;
    if (name && *name) {
      if (mlc_onnx_names_get(&c->values, name))
        return MLC_ERR(INVALID_MODEL, "%s: output %zu '%s' is already defined",
                       n->desc, j, name);
      MLC_RETURN_IF_ERROR(new_value(c, name, false, &v), "%s", n->desc);
      n->out_used[j] = mlc_onnx_names_get(&c->uses, name) != NULL;
    }
    n->out[n->nout++] = v;
  }
  return NULL;
}

/* Converts attributes; *why is set for kinds we do not import. */
static mlc_status_t *node_attrs(import_ctx_t *c, mlc_onnx_node_t *n,
                                const char **why) {
  const Onnx__NodeProto *np = n->np;
  for (size_t j = 0; j < np->n_attribute; j++) {
    const char *w;
    mlc_attr_t a;
    MLC_RETURN_IF(mlc_onnx_attr_convert(c->g, np->attribute[j], c->base_dir,
                                        n->desc, &a, &w));
    if (w) {
      *why = w;
      continue;
    }
    if (mlc_onnx_attr_find(n, a.name))
      return MLC_ERR(INVALID_MODEL, "%s: attribute '%s' given twice", n->desc,
                     a.name);
    n->attrs[n->nattrs++] = a;
  }
  return NULL;
}

static mlc_status_t *node_setup(import_ctx_t *c, size_t idx, mlc_onnx_node_t *n) {
  const Onnx__NodeProto *np = c->nodes[idx];
  mlc_arena_t *ar = &c->g->arena;
  memset(n, 0, sizeof *n);
  n->g = c->g;
  n->np = np;
  n->opset = c->node_opsets[idx];
  if (!np->op_type || !*np->op_type)
    return MLC_ERR(INVALID_MODEL, "node #%zu ('%s') has no op_type", idx,
                   np->name ? np->name : "");
  n->desc = np->name && *np->name
                ? mlc_arena_printf(ar, "node '%s' (%s)", np->name, np->op_type)
                : mlc_arena_printf(ar, "node #%zu (%s)", idx, np->op_type);
  n->in = mlc_arena_calloc(ar, np->n_input + 8, sizeof *n->in);
  n->out = mlc_arena_calloc(ar, np->n_output + 1, sizeof *n->out);
  n->out_used = mlc_arena_calloc(ar, np->n_output + 1, sizeof *n->out_used);
  n->attrs = mlc_arena_calloc(ar, np->n_attribute + 8, sizeof *n->attrs);
  if (!n->desc || !n->in || !n->out || !n->out_used || !n->attrs)
    return oom("node");
  return NULL;
}

/* A Constant (or folded) node: its one output becomes a constant value. */
static mlc_status_t *make_const(import_ctx_t *c, mlc_onnx_node_t *n) {
  mlc_value_t *v = n->nout > 0 ? n->out[0] : NULL;
  if (!v) return MLC_ERR(INVALID_MODEL, "%s: has no output", n->desc);
  const mlc_tensor_t *t = &n->const_value;
  v->dtype = t->dtype;
  v->rank = t->rank;
  v->dims = mlc_arena_calloc(&c->g->arena, (size_t)t->rank + 1, sizeof *v->dims);
  if (!v->dims) return oom(n->desc);
  for (int i = 0; i < t->rank; i++) v->dims[i] = (mlc_dim_t){t->dims[i], NULL};
  MLC_RETURN_IF_ERROR(mlc_value_set_const(c->g, v, t->data, t->nbytes, MLC_DATA_BORROW),
                "%s", n->desc);
  return NULL;
}

static mlc_status_t *emit_node(import_ctx_t *c, mlc_onnx_node_t *n) {
  while (n->nin > 0 && !n->in[n->nin - 1]) n->nin--;
  while (n->nout > 1 && !n->out[n->nout - 1]) n->nout--;
  const mlc_op_info_t *info = mlc_op_info(n->op);
  if (n->nin < info->min_inputs ||
      (info->max_inputs >= 0 && n->nin > info->max_inputs))
    return MLC_ERR(INVALID_MODEL, "%s: %d inputs, %s takes %d to %d", n->desc,
                   n->nin, info->name, info->min_inputs, info->max_inputs);
  if (n->nout < info->min_outputs ||
      (info->max_outputs >= 0 && n->nout > info->max_outputs))
    return MLC_ERR(INVALID_MODEL, "%s: %d outputs, %s gives %d to %d", n->desc,
                   n->nout, info->name, info->min_outputs, info->max_outputs);
  for (int i = 0; i < info->min_inputs; i++)
    if (!n->in[i])
      return MLC_ERR(INVALID_MODEL, "%s: required input %d is missing",
                     n->desc, i);
  mlc_node_t *node = mlc_graph_add_node(c->g, n->op, n->np->name, n->nin, n->in,
                                        n->nout, n->out);
  if (!node) return oom(n->desc);
  node->onnx_op = mlc_arena_strdup(&c->g->arena, n->np->op_type);
  if (!node->onnx_op) return oom(n->desc);
  node->attrs = n->attrs;
  node->nattrs = n->nattrs;
  return NULL;
}

static mlc_status_t *import_node(import_ctx_t *c, size_t idx) {
  mlc_onnx_node_t n;
  MLC_RETURN_IF(node_setup(c, idx, &n));
  MLC_RETURN_IF(node_inputs(c, &n));
  MLC_RETURN_IF(node_outputs(c, &n));
  const char *why = NULL;
  if (!is_default_domain(n.np->domain))
    return note_unsupported(c, n.np, idx, NULL);
  if (n.opset == 0)
    return MLC_ERR(INVALID_MODEL, "%s: model imports no default-domain opset",
                   n.desc);
  MLC_RETURN_IF(node_attrs(c, &n, &why));
  if (why) return note_unsupported(c, n.np, idx, why);
  bool unknown = false;
  MLC_RETURN_IF(mlc_onnx_op_convert(&n, &unknown, &why));
  if (unknown) return note_unsupported(c, n.np, idx, why);
  return n.is_const ? make_const(c, &n) : emit_node(c, &n);
}

/* ---- outputs ---- */

static mlc_status_t *mark_outputs(import_ctx_t *c) {
  for (size_t i = 0; i < c->gp->n_output; i++) {
    const char *name = c->gp->output[i]->name;
    mlc_value_t *v = mlc_onnx_names_get(&c->values, name);
    if (!v)
      return MLC_ERR(INVALID_MODEL, "graph output '%s' is not produced by any "
                     "node", name);
    if (v->dtype == MLC_DT_UNDEFINED || v->rank < 0) {
      mlc_dtype_t dt;
      int rank;
      mlc_dim_t *dims;
      MLC_RETURN_IF(declared_type(c, c->gp->output[i], name, false, true, &dt,
                                  &rank, &dims));
      if (v->dtype == MLC_DT_UNDEFINED) v->dtype = dt;
      if (v->rank < 0 && rank >= 0) {
        v->rank = rank;
        v->dims = dims;
      }
    }
    v->flags |= MLC_VALUE_OUTPUT;
    if (!MLC_VEC_PUSH(&c->g->outputs, v)) return oom(name);
  }
  return NULL;
}

static mlc_status_t *import_graph(import_ctx_t *c) {
  MLC_RETURN_IF(check_header(c));
  if (c->gp->n_sparse_initializer)
    return MLC_ERR(UNSUPPORTED, "sparse initializers are not supported");
  MLC_RETURN_IF(mlc_onnx_expand_functions(c->m, c->opset, &c->g->arena,
                                          &c->nodes, &c->node_opsets,
                                          &c->nnodes));
  MLC_RETURN_IF(index_names(c));
  for (size_t i = 0; i < c->gp->n_initializer; i++)
    MLC_RETURN_IF(add_initializer(c, i));
  MLC_RETURN_IF(add_inputs(c));
  for (size_t i = 0; i < c->nnodes; i++)
    MLC_RETURN_IF(import_node(c, i));
  if (c->nunsupported) return unsupported_status(c);
  return mark_outputs(c);
}

static mlc_status_t *import_model(Onnx__ModelProto *m, const char *base_dir,
                                  mlc_graph_t **out_graph) {
  mlc_graph_t *g;
  MLC_RETURN_IF(mlc_graph_create(m->graph && m->graph->name ? m->graph->name
                                                            : "model", &g));
  import_ctx_t c = {.g = g, .m = m, .base_dir = base_dir};
  mlc_status_t *st = import_graph(&c);
  mlc_onnx_names_deinit(&c.values);
  mlc_onnx_names_deinit(&c.types);
  mlc_onnx_names_deinit(&c.uses);
  free(c.unsup);
  if (st) {
    mlc_graph_destroy(g);
    return st;
  }
  *out_graph = g;
  return NULL;
}

mlc_status_t *mlc_onnx_import_buffer(const void *data, size_t len,
                                     const mlc_import_options_t *opts,
                                     mlc_graph_t **out_graph) {
  if (!out_graph) return MLC_ERR(INVALID_ARGUMENT, "out_graph is NULL");
  *out_graph = NULL;
  Onnx__ModelProto *m;
  MLC_RETURN_IF(mlc_onnx_unpack_model(data, len, &m));
  const char *base = opts && opts->base_dir ? opts->base_dir : ".";
  mlc_status_t *st = import_model(m, base, out_graph);
  onnx__model_proto__free_unpacked(m, NULL);
  return st;
}

mlc_status_t *mlc_onnx_import_file(const char *path,
                                   const mlc_import_options_t *opts,
                                   mlc_graph_t **out_graph) {
  if (!path || !out_graph)
    return MLC_ERR(INVALID_ARGUMENT, "import: path or out_graph is NULL");
  *out_graph = NULL;
  void *buf;
  size_t len;
  MLC_RETURN_IF(mlc_onnx_read_file(path, &buf, &len));
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : strdup(".");
  mlc_import_options_t o = {.base_dir = dir};
  if (opts && opts->base_dir) o.base_dir = opts->base_dir;
  mlc_status_t *st = dir ? mlc_onnx_import_buffer(buf, len, &o, out_graph)
                         : oom(path);
  free(buf);
  free(dir);
  return st ? mlc_status_annotate(st, "%s", path) : NULL;
}
