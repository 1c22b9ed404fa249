/* Inlining of model-local functions (ModelProto.functions).
 *
 * Before nodes are converted, the graph's node list is expanded: a node
 * whose (domain, op_type) names a local function is replaced by copies of
 * the function body.  In the copies, formal inputs and outputs become the
 * call's actual names, every other name gets the prefix "<call>/" (the
 * call node's name, or "#<index>" when it has none), node names get the
 * same prefix, and attributes that refer to a function attribute
 * (ref_attr_name) take the call's attribute of that name or are dropped
 * when the call does not give it.  Body nodes use the function's own
 * default-domain opset when it declares one.  Calls inside bodies are
 * expanded too, up to a fixed depth (so recursion is an error), and all
 * inlining together may copy at most MLC_ONNX_MAX_INLINED_NODES body
 * nodes (calls included), so that a few kilobytes of nested functions
 * each calling the next many times cannot expand into billions.  The
 * copies are shallow (they share strings and tensors with the proto) and
 * live in the graph's arena.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_internal.h"

#define MAX_FUNCTION_DEPTH 8

typedef struct expand_ctx {
  const Onnx__ModelProto *m;
  mlc_arena_t *ar;
  size_t copied; /* body nodes copied so far, calls included */
  MLC_VEC(Onnx__NodeProto *) nodes;
  MLC_VEC(int64_t) opsets;
} expand_ctx_t;

static bool domain_eq(const char *a, const char *b) {
  bool da = !a || !*a || strcmp(a, "ai.onnx") == 0;
  bool db = !b || !*b || strcmp(b, "ai.onnx") == 0;
  if (da || db) return da && db;
  return strcmp(a, b) == 0;
}

static const Onnx__FunctionProto *find_function(const Onnx__ModelProto *m,
                                                const Onnx__NodeProto *np) {
  if (!np->op_type) return NULL;
  for (size_t i = 0; i < m->n_functions; i++) {
    const Onnx__FunctionProto *f = m->functions[i];
    if (f->name && strcmp(f->name, np->op_type) == 0 &&
        domain_eq(f->domain, np->domain))
      return f;
  }
  return NULL;
}

static int64_t function_opset(const Onnx__FunctionProto *f, int64_t dflt) {
  for (size_t i = 0; i < f->n_opset_import; i++)
    if (domain_eq(f->opset_import[i]->domain, "") && f->opset_import[i]->has_version)
      return f->opset_import[i]->version;
  return dflt;
}

static mlc_status_t *oom(void) {
  return MLC_ERR(OUT_OF_MEMORY, "inlining functions");
}

static mlc_status_t *push(expand_ctx_t *x, Onnx__NodeProto *np, int64_t opset) {
  if (!MLC_VEC_PUSH(&x->nodes, np) || !MLC_VEC_PUSH(&x->opsets, opset))
    return oom();
  return NULL;
}

/* The name a body value gets at the call site. */
static char *rename_value(expand_ctx_t *x, const Onnx__FunctionProto *f,
                          const Onnx__NodeProto *call, const char *prefix,
                          const char *name) {
  if (!name || !*name) return mlc_arena_strdup(x->ar, "");
  for (size_t i = 0; i < f->n_input; i++)
    if (f->input[i] && strcmp(f->input[i], name) == 0)
      return mlc_arena_strdup(x->ar, i < call->n_input ? call->input[i] : "");
  for (size_t i = 0; i < f->n_output; i++)
    if (f->output[i] && strcmp(f->output[i], name) == 0 && i < call->n_output &&
        call->output[i] && *call->output[i])
      return mlc_arena_strdup(x->ar, call->output[i]);
  return mlc_arena_printf(x->ar, "%s/%s", prefix, name);
}

static char **rename_list(expand_ctx_t *x, const Onnx__FunctionProto *f,
                          const Onnx__NodeProto *call, const char *prefix,
                          char **names, size_t n) {
  char **out = mlc_arena_calloc(x->ar, n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++)
    if (!(out[i] = rename_value(x, f, call, prefix, names[i]))) return NULL;
  return out;
}

static Onnx__AttributeProto *call_attr(const Onnx__NodeProto *call,
                                       const char *name) {
  for (size_t i = 0; i < call->n_attribute; i++)
    if (call->attribute[i]->name && strcmp(call->attribute[i]->name, name) == 0)
      return call->attribute[i];
  return NULL;
}

/* Resolves ref_attr_name attributes against the call's attributes. */
static Onnx__AttributeProto **resolve_attrs(expand_ctx_t *x,
                                            const Onnx__NodeProto *b,
                                            const Onnx__NodeProto *call,
                                            size_t *out_n) {
  Onnx__AttributeProto **out = mlc_arena_calloc(x->ar, b->n_attribute + 1,
                                                sizeof *out);
  size_t n = 0;
  for (size_t i = 0; out && i < b->n_attribute; i++) {
    Onnx__AttributeProto *a = b->attribute[i];
    if (!a->ref_attr_name || !*a->ref_attr_name) {
      out[n++] = a;
      continue;
    }
    Onnx__AttributeProto *given = call_attr(call, a->ref_attr_name);
    if (!given) continue;
    Onnx__AttributeProto *copy = mlc_arena_alloc(x->ar, sizeof *copy);
    if (!copy) return NULL;
    *copy = *given;
    copy->name = a->name;
    out[n++] = copy;
  }
  *out_n = n;
  return out;
}

static mlc_status_t *expand_node(expand_ctx_t *x, Onnx__NodeProto *np,
                                 const char *prefix, int64_t opset, int depth);

static mlc_status_t *inline_call(expand_ctx_t *x, const Onnx__FunctionProto *f,
                                 const Onnx__NodeProto *call, const char *prefix,
                                 int64_t opset, int depth) {
  if (depth >= MAX_FUNCTION_DEPTH)
    return MLC_ERR(INVALID_MODEL, "function '%s': calls nest deeper than %d "
                   "levels (recursive?)", f->name, MAX_FUNCTION_DEPTH);
  int64_t fopset = function_opset(f, opset);
  for (size_t i = 0; i < f->n_node; i++) {
    if (++x->copied > MLC_ONNX_MAX_INLINED_NODES)
      return MLC_ERR(UNSUPPORTED, "function '%s': inlining the model's "
                     "functions makes more than %d nodes", f->name,
                     MLC_ONNX_MAX_INLINED_NODES);
    const Onnx__NodeProto *b = f->node[i];
    Onnx__NodeProto *nb = mlc_arena_alloc(x->ar, sizeof *nb);
    if (!nb) return oom();
    *nb = *b;
    nb->name = b->name && *b->name
                   ? mlc_arena_printf(x->ar, "%s/%s", prefix, b->name)
                   : mlc_arena_printf(x->ar, "%s/#%zu", prefix, i);
    nb->input = rename_list(x, f, call, prefix, b->input, b->n_input);
    nb->output = rename_list(x, f, call, prefix, b->output, b->n_output);
    nb->attribute = resolve_attrs(x, b, call, &nb->n_attribute);
    if (!nb->name || !nb->input || !nb->output || !nb->attribute) return oom();
    MLC_RETURN_IF(expand_node(x, nb, nb->name, fopset, depth + 1));
  }
  return NULL;
}

static mlc_status_t *expand_node(expand_ctx_t *x, Onnx__NodeProto *np,
                                 const char *prefix, int64_t opset, int depth) {
  const Onnx__FunctionProto *f = find_function(x->m, np);
  if (!f) return push(x, np, opset);
  return inline_call(x, f, np, prefix, opset, depth);
}

mlc_status_t *mlc_onnx_expand_functions(const Onnx__ModelProto *m,
                                        int64_t opset, mlc_arena_t *ar,
                                        Onnx__NodeProto ***out_nodes,
                                        int64_t **out_opsets, size_t *out_n) {
  const Onnx__GraphProto *gp = m->graph;
  expand_ctx_t x = {.m = m, .ar = ar};
  mlc_status_t *st = NULL;
  for (size_t i = 0; i < gp->n_node && !st; i++) {
    Onnx__NodeProto *np = gp->node[i];
    const char *prefix = np->name && *np->name
                             ? np->name
                             : mlc_arena_printf(ar, "#%zu", i);
    st = prefix ? expand_node(&x, np, prefix, opset, 0) : oom();
  }
  /* Copy into the arena so the caller owns nothing on the heap. */
  Onnx__NodeProto **nodes = NULL;
  int64_t *opsets = NULL;
  if (!st) {
    nodes = mlc_arena_calloc(ar, x.nodes.len + 1, sizeof *nodes);
    opsets = mlc_arena_calloc(ar, x.opsets.len + 1, sizeof *opsets);
    if (!nodes || !opsets) st = oom();
  }
  if (!st) {
    if (x.nodes.len) memcpy(nodes, x.nodes.data, x.nodes.len * sizeof *nodes);
    if (x.opsets.len) memcpy(opsets, x.opsets.data, x.opsets.len * sizeof *opsets);
    *out_nodes = nodes;
    *out_opsets = opsets;
    *out_n = x.nodes.len;
  }
  MLC_VEC_FREE(&x.nodes);
  MLC_VEC_FREE(&x.opsets);
  return st;
}
