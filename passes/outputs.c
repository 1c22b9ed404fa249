/* Materialize outputs: gives every graph output its own producer node, so
 * memory planning can place each output in the caller's output buffer.
 * An output needs a fresh value, produced by an Identity node appended at
 * the end of the node list, when it is
 *   - a graph input or a constant (no node writes it), or
 *   - the same value as an earlier graph output (one buffer per output).
 * The fresh value copies the dtype, shape and name of the original (the
 * name is what the compiled model reports for that output); the original
 * loses its MLC_VALUE_OUTPUT flag unless it remains an output elsewhere.
 * Outputs produced by view ops (Reshape of an input, say) keep their node:
 * planning gives them OUTPUT storage and the lowering copies. */
#include "passes/pass.h"

static bool needs_copy(const mlc_graph_t *g, size_t j) {
  const mlc_value_t *v = g->outputs.data[j];
  if ((v->flags & (MLC_VALUE_INPUT | MLC_VALUE_CONST)) || !v->producer ||
      v->producer->dead)
    return true;
  for (size_t i = 0; i < j; i++)
    if (g->outputs.data[i] == v) return true;
  return false;
}

static bool still_output(const mlc_graph_t *g, const mlc_value_t *v) {
  for (size_t i = 0; i < g->outputs.len; i++)
    if (g->outputs.data[i] == v) return true;
  return false;
}

static mlc_status_t *run_outputs(mlc_pass_ctx_t *ctx, mlc_graph_t *g) {
  (void)ctx;
  for (size_t j = 0; j < g->outputs.len; j++) {
    if (!needs_copy(g, j)) continue;
    mlc_value_t *v = g->outputs.data[j];
    mlc_value_t *copy = mlc_graph_add_value(g, v->name, v->dtype, v->rank, v->dims);
    if (!copy ||
        !mlc_graph_add_node(g, MLC_OP_Identity, "", 1, &v, 1, &copy))
      return MLC_ERR(OUT_OF_MEMORY, "materializing output %zu", j);
    copy->placement = v->placement;
    copy->flags |= MLC_VALUE_OUTPUT;
    g->outputs.data[j] = copy;
    if (!still_output(g, v)) v->flags &= ~(unsigned)MLC_VALUE_OUTPUT;
  }
  mlc_graph_count_uses(g);
  return NULL;
}

const mlc_pass_t mlc_pass_materialize_outputs = {
    .name = "materialize-outputs",
    .summary = "give each graph output its own producing node",
    .run = run_outputs,
};
