/* Dead code elimination.  A node is live when one of its outputs is a
 * graph output or an input of a live node; a single backward sweep over
 * the (topologically ordered) node list finds them.  Dead nodes are
 * flagged and compacted away, and values that nothing defines or uses any
 * more (outputs of dead nodes, unused constants) are dropped from
 * g->values so they no longer print.  Graph inputs are always kept. */
#include <stdlib.h>

#include "passes/pass.h"

static void mark_live_nodes(mlc_graph_t *g, unsigned char *used) {
  for (size_t i = 0; i < g->outputs.len; i++) used[g->outputs.data[i]->id] = 1;
  for (size_t i = g->nodes.len; i-- > 0;) {
    mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    bool live = false;
    for (int k = 0; k < n->noutputs && !live; k++)
      live = n->outputs[k] && used[n->outputs[k]->id];
    if (!live) {
      n->dead = true;
      continue;
    }
    for (int k = 0; k < n->ninputs; k++)
      if (n->inputs[k]) used[n->inputs[k]->id] = 1;
  }
}

/* Keeps values that are inputs, used, or produced by a live node. */
static void drop_values(mlc_graph_t *g, const unsigned char *used) {
  size_t j = 0;
  for (size_t i = 0; i < g->values.len; i++) {
    mlc_value_t *v = g->values.data[i];
    bool keep = (v->flags & MLC_VALUE_INPUT) || used[v->id] ||
                (v->producer && !v->producer->dead);
    if (keep) g->values.data[j++] = v;
  }
  g->values.len = j;
}

static mlc_status_t *run_dce(mlc_pass_ctx_t *ctx, mlc_graph_t *g) {
  (void)ctx;
  unsigned char *used = calloc((size_t)g->next_value_id + 1, 1);
  if (!used) return MLC_ERR(OUT_OF_MEMORY, "dead code elimination");
  for (size_t i = 0; i < g->inputs.len; i++) used[g->inputs.data[i]->id] = 1;
  mark_live_nodes(g, used);
  mlc_graph_compact(g);
  drop_values(g, used);
  free(used);
  mlc_graph_count_uses(g);
  return NULL;
}

const mlc_pass_t mlc_pass_dce = {
    .name = "dce",
    .summary = "remove nodes whose outputs are never used",
    .run = run_dce,
};
