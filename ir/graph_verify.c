/* The graph IR verifier: structural checks that every pass must preserve.
 *
 *  - SSA: each value is produced by at most one live node, and its
 *    producer/producer_output fields point back at that node; a value is
 *    not both produced and a graph input or constant.
 *  - Order: every input of a live node is a graph input, a constant, or an
 *    output of an earlier live node (nodes are in topological order).
 *  - Arity: input and output counts within the op's mlc_op_info range; the
 *    first min_inputs inputs and min_outputs outputs are present.
 *  - Types: every value that a live node reads or writes, every graph input
 *    and output has a known dtype.
 *  - Constants: data present, static shape, a dtype with a byte size.
 *  - Graph outputs are produced by a live node or are inputs or constants.
 *  - Fusion groups: the nodes of one group are contiguous in node order.
 *
 * Dead nodes are ignored.  Errors are MLC_INTERNAL (a pass broke the IR)
 * and name the node by index, name and op. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"

enum { DEF_NONE = 0, DEF_INPUT, DEF_CONST, DEF_NODE };

typedef struct verifier {
  const mlc_graph_t *g;
  unsigned char *def; /* by value id: how the value is defined so far */
} verifier_t;

static const char *vname(const mlc_value_t *v) {
  return v->name && v->name[0] ? v->name : "<unnamed>";
}

static mlc_status_t *node_err(const mlc_node_t *n, size_t idx, const char *fmt,
                              const char *a, long long b) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, a, b);
  return MLC_ERR(INTERNAL, "verify: node #%zu '%s' (%s): %s", idx,
                 n->name ? n->name : "", mlc_op_name(n->op), msg);
}

static bool id_ok(const verifier_t *vf, const mlc_value_t *v) {
  return v->id < vf->g->next_value_id;
}

static mlc_status_t *check_value_type(const mlc_value_t *v) {
  if (v->dtype <= MLC_DT_UNDEFINED || v->dtype >= MLC_DT_COUNT_)
    return MLC_ERR(INTERNAL, "verify: value '%s' has no known dtype", vname(v));
  if (v->rank > 0 && !v->dims)
    return MLC_ERR(INTERNAL, "verify: value '%s' has rank %d but no dims",
                   vname(v), v->rank);
  return NULL;
}

static mlc_status_t *check_const(const mlc_value_t *v) {
  if (!v->data)
    return MLC_ERR(INTERNAL, "verify: constant '%s' has no data", vname(v));
  if (mlc_value_nbytes(v) < 0)
    return MLC_ERR(INTERNAL,
                   "verify: constant '%s' (%s) has no static byte size",
                   vname(v), mlc_dtype_name(v->dtype));
  return NULL;
}

/* Inputs and constants: defined before any node. */
static mlc_status_t *define_sources(verifier_t *vf) {
  const mlc_graph_t *g = vf->g;
  for (size_t i = 0; i < g->inputs.len; i++) {
    mlc_value_t *v = g->inputs.data[i];
    if (!v || !id_ok(vf, v))
      return MLC_ERR(INTERNAL, "verify: graph input %zu is not a value", i);
    if (vf->def[v->id] == DEF_INPUT)
      return MLC_ERR(INTERNAL, "verify: value '%s' is graph input twice", vname(v));
    vf->def[v->id] = DEF_INPUT;
    MLC_RETURN_IF(check_value_type(v));
    if (mlc_value_is_const(v)) MLC_RETURN_IF(check_const(v));
  }
  for (size_t i = 0; i < g->values.len; i++) {
    mlc_value_t *v = g->values.data[i];
    if (!mlc_value_is_const(v) || !id_ok(vf, v) || vf->def[v->id]) continue;
    MLC_RETURN_IF(check_const(v));
    if (v->producer && !v->producer->dead)
      return MLC_ERR(INTERNAL,
                     "verify: constant '%s' is also produced by a live node",
                     vname(v));
    vf->def[v->id] = DEF_CONST;
  }
  return NULL;
}

static mlc_status_t *check_arity(const mlc_node_t *n, size_t idx) {
  const mlc_op_info_t *info = mlc_op_info(n->op);
  if (n->ninputs < info->min_inputs ||
      (info->max_inputs >= 0 && n->ninputs > info->max_inputs))
    return node_err(n, idx, "%s%lld inputs, outside the op's range", "",
                    n->ninputs);
  if (n->noutputs < info->min_outputs ||
      (info->max_outputs >= 0 && n->noutputs > info->max_outputs))
    return node_err(n, idx, "%s%lld outputs, outside the op's range", "",
                    n->noutputs);
  for (int k = 0; k < info->min_inputs; k++)
    if (!n->inputs[k]) return node_err(n, idx, "%srequired input %lld is absent", "", k);
  for (int k = 0; k < info->min_outputs; k++)
    if (!n->outputs[k])
      return node_err(n, idx, "%srequired output %lld is absent", "", k);
  return NULL;
}

static mlc_status_t *check_node(verifier_t *vf, const mlc_node_t *n, size_t idx) {
  if ((unsigned)n->op >= MLC_OP_COUNT_)
    return MLC_ERR(INTERNAL, "verify: node #%zu has op number %d", idx, (int)n->op);
  MLC_RETURN_IF(check_arity(n, idx));
  for (int k = 0; k < n->ninputs; k++) {
    const mlc_value_t *v = n->inputs[k];
    if (!v) continue;
    if (!id_ok(vf, v) || !vf->def[v->id])
      return node_err(n, idx, "input '%s' (%lld) is not defined before use",
                      vname(v), k);
    MLC_RETURN_IF_ERROR(check_value_type(v), "node #%zu (%s) input %d", idx,
                        mlc_op_name(n->op), k);
  }
  for (int k = 0; k < n->noutputs; k++) {
    const mlc_value_t *v = n->outputs[k];
    if (!v) continue;
    if (!id_ok(vf, v))
      return node_err(n, idx, "output '%s' (%lld) has a bad id", vname(v), k);
    if (vf->def[v->id] == DEF_NODE)
      return node_err(n, idx, "output '%s' (%lld) is produced twice", vname(v), k);
    if (vf->def[v->id])
      return node_err(n, idx, "output '%s' (%lld) is a graph input or constant",
                      vname(v), k);
    if (v->producer != n || v->producer_output != k)
      return node_err(n, idx, "output '%s' (%lld) does not point back at its node",
                      vname(v), k);
    MLC_RETURN_IF_ERROR(check_value_type(v), "node #%zu (%s) output %d", idx,
                        mlc_op_name(n->op), k);
    vf->def[v->id] = DEF_NODE;
  }
  return NULL;
}

static mlc_status_t *check_groups(const mlc_graph_t *g) {
  int prev = -1;
  int max_group = -1;
  for (size_t i = 0; i < g->nodes.len; i++)
    if (!g->nodes.data[i]->dead && g->nodes.data[i]->group > max_group)
      max_group = g->nodes.data[i]->group;
  if (max_group < 0) return NULL;
  unsigned char *closed = calloc((size_t)max_group + 1, 1);
  if (!closed) return MLC_ERR(OUT_OF_MEMORY, "verifying graph");
  mlc_status_t *st = NULL;
  for (size_t i = 0; i < g->nodes.len && !st; i++) {
    const mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    if (prev >= 0 && n->group != prev) closed[prev] = 1;
    if (n->group >= 0 && closed[n->group])
      st = node_err(n, i, "%sfusion group %lld is not contiguous", "", n->group);
    prev = n->group;
  }
  free(closed);
  return st;
}

static mlc_status_t *check_outputs(verifier_t *vf) {
  const mlc_graph_t *g = vf->g;
  for (size_t i = 0; i < g->outputs.len; i++) {
    const mlc_value_t *v = g->outputs.data[i];
    if (!v) return MLC_ERR(INTERNAL, "verify: graph output %zu is NULL", i);
    if (!id_ok(vf, v) || !vf->def[v->id])
      return MLC_ERR(INTERNAL,
                     "verify: graph output %zu '%s' is not produced by a live "
                     "node, an input or a constant",
                     i, vname(v));
    MLC_RETURN_IF_ERROR(check_value_type(v), "graph output %zu", i);
  }
  return NULL;
}

/* Before anything else: no value is an output of two live nodes. */
static mlc_status_t *check_single_producer(verifier_t *vf) {
  const mlc_graph_t *g = vf->g;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const mlc_node_t *n = g->nodes.data[i];
    for (int k = 0; k < n->noutputs && !n->dead; k++) {
      const mlc_value_t *v = n->outputs[k];
      if (!v || !id_ok(vf, v)) continue;
      if (vf->def[v->id])
        return node_err(n, i, "output '%s' (%lld) is produced twice", vname(v), k);
      vf->def[v->id] = DEF_NODE;
    }
  }
  memset(vf->def, 0, (size_t)g->next_value_id + 1);
  return NULL;
}

mlc_status_t *mlc_graph_verify(const mlc_graph_t *g) {
  verifier_t vf = {g, calloc((size_t)g->next_value_id + 1, 1)};
  if (!vf.def) return MLC_ERR(OUT_OF_MEMORY, "verifying graph");
  mlc_status_t *st = check_single_producer(&vf);
  if (!st) st = define_sources(&vf);
  for (size_t i = 0; i < g->nodes.len && !st; i++)
    if (!g->nodes.data[i]->dead) st = check_node(&vf, g->nodes.data[i], i);
  if (!st) st = check_outputs(&vf);
  if (!st) st = check_groups(g);
  free(vf.def);
  return st;
}
