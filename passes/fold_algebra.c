/* Algebraic clean-ups run by fold-constants after constant folding.
 *
 * Each rewrite keeps every value's dtype and shape, and assumes shapes
 * were inferred (static shapes are needed for the view rewrites):
 *   - no-ops: Identity; Cast to the same dtype; Reshape, Flatten, Squeeze,
 *     Unsqueeze, Expand and Tile whose output shape equals the input's;
 *     Transpose with the identity permutation; Add/Sub of 0, Mul/Div/Pow
 *     by 1 (a constant operand that does not broaden the shape): uses of
 *     the output are redirected to the input and the node dies;
 *   - chains: a view op fed by a view op becomes one Reshape of the
 *     first input to the final shape; Transpose of Transpose becomes one
 *     Transpose with the composed permutation.
 * A node whose output is a graph output is never bypassed (the output
 * keeps its name and producer); the nodes a chain bypasses are left for
 * DCE. */
#include <string.h>

#include "passes/fold.h"

static bool same_shape(const mlc_value_t *a, const mlc_value_t *b) {
  if (a->dtype != b->dtype || a->rank != b->rank || !mlc_value_is_static(a) ||
      !mlc_value_is_static(b))
    return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i].value != b->dims[i].value) return false;
  return true;
}

/* True if constant `c` holds `want` in every element. */
static bool const_all(const mlc_value_t *c, double want) {
  if (!mlc_value_is_const(c) || !mlc_dtype_is_computable(c->dtype) ||
      c->dtype == MLC_DT_BOOL)
    return false;
  int64_t n = mlc_value_numel(c);
  for (int64_t i = 0; i < n; i++)
    if (mlc_value_const_float(c, i) != want) return false;
  return n > 0;
}

static bool identity_perm(const mlc_node_t *n, int rank) {
  const int64_t *p;
  int64_t np = mlc_node_attr_ints(n, "perm", &p);
  if (np < 0) return rank <= 1;
  for (int64_t i = 0; i < np; i++)
    if (p[i] != i) return false;
  return true;
}

/* The operand a no-op node passes through, or NULL. */
static mlc_value_t *passthrough(const mlc_node_t *n) {
  mlc_value_t *x = n->inputs[0], *y = n->outputs[0];
  mlc_value_t *b = n->ninputs > 1 ? n->inputs[1] : NULL;
  switch (n->op) {
  case MLC_OP_Identity: case MLC_OP_Cast: case MLC_OP_Reshape:
  case MLC_OP_Flatten: case MLC_OP_Squeeze: case MLC_OP_Unsqueeze:
  case MLC_OP_Expand: case MLC_OP_Tile:
    return same_shape(x, y) ? x : NULL;
  case MLC_OP_Transpose:
    return same_shape(x, y) && identity_perm(n, x->rank) ? x : NULL;
  case MLC_OP_Add:
    if (same_shape(b, y) && const_all(x, 0)) return b;
    return same_shape(x, y) && const_all(b, 0) ? x : NULL;
  case MLC_OP_Mul:
    if (same_shape(b, y) && const_all(x, 1)) return b;
    return same_shape(x, y) && const_all(b, 1) ? x : NULL;
  case MLC_OP_Sub:
    return same_shape(x, y) && const_all(b, 0) ? x : NULL;
  case MLC_OP_Div: case MLC_OP_Pow:
    return same_shape(x, y) && const_all(b, 1) ? x : NULL;
  default:
    return NULL;
  }
}

static bool is_view(mlc_op_t op) {
  return op == MLC_OP_Reshape || op == MLC_OP_Flatten ||
         op == MLC_OP_Squeeze || op == MLC_OP_Unsqueeze;
}

/* Rewrites view(view(x)) into Reshape(x, static output dims). */
static mlc_status_t *merge_views(mlc_graph_t *g, mlc_node_t *n, bool *changed) {
  mlc_node_t *p = n->inputs[0]->producer;
  mlc_value_t *y = n->outputs[0];
  if (!is_view(n->op) || !p || p->dead || !is_view(p->op) ||
      !mlc_value_is_static(y))
    return NULL;
  int64_t dims[64];
  if (y->rank > 64) return NULL;
  for (int i = 0; i < y->rank; i++) dims[i] = y->dims[i].value;
  mlc_value_t *shape = mlc_graph_add_const_i64s(g, "", dims, y->rank);
  mlc_value_t **ins = mlc_arena_calloc(&g->arena, 3, sizeof *ins);
  if (!shape || !ins || !mlc_node_set_int(g, n, "allowzero", 1))
    return MLC_ERR(OUT_OF_MEMORY, "merging views");
  ins[0] = p->inputs[0];
  ins[1] = shape;
  n->inputs = ins;
  n->ninputs = 2;
  n->op = MLC_OP_Reshape;
  *changed = true;
  return NULL;
}

/* Rewrites Transpose(Transpose(x, p1), p2) into Transpose(x, p1[p2]). */
static mlc_status_t *merge_transposes(mlc_graph_t *g, mlc_node_t *n,
                                      bool *changed) {
  mlc_node_t *p = n->inputs[0]->producer;
  if (n->op != MLC_OP_Transpose || !p || p->dead ||
      p->op != MLC_OP_Transpose)
    return NULL;
  int r = n->inputs[0]->rank;
  if (r < 0 || r > 64) return NULL;
  int64_t p1[64], p2[64], comp[64];
  const int64_t *v;
  int64_t k1 = mlc_node_attr_ints(p, "perm", &v);
  for (int i = 0; i < r; i++) p1[i] = k1 == r ? v[i] : r - 1 - i;
  int64_t k2 = mlc_node_attr_ints(n, "perm", &v);
  for (int i = 0; i < r; i++) p2[i] = k2 == r ? v[i] : r - 1 - i;
  for (int i = 0; i < r; i++) comp[i] = p1[p2[i]];
  if (!mlc_node_set_ints(g, n, "perm", comp, r))
    return MLC_ERR(OUT_OF_MEMORY, "merging transposes");
  n->inputs[0] = p->inputs[0];
  *changed = true;
  return NULL;
}

static bool is_graph_output(const mlc_graph_t *g, const mlc_value_t *v) {
  if (v->flags & MLC_VALUE_OUTPUT) return true;
  for (size_t i = 0; i < g->outputs.len; i++)
    if (g->outputs.data[i] == v) return true;
  return false;
}

static bool bypass(mlc_graph_t *g, mlc_node_t *n) {
  if (n->noutputs != 1 || !n->outputs[0] || n->ninputs < 1 || !n->inputs[0])
    return false;
  mlc_value_t *y = n->outputs[0];
  if (is_graph_output(g, y)) return false;
  mlc_value_t *x = passthrough(n);
  if (!x) return false;
  mlc_graph_replace_uses(g, y, x);
  n->dead = true;
  return true;
}

mlc_status_t *mlc_fold_algebra(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                               bool *out_changed) {
  (void)ctx;
  *out_changed = false;
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    if (n->dead || n->ninputs < 1 || !n->inputs[0] || n->noutputs < 1 ||
        !n->outputs[0])
      continue;
    MLC_RETURN_IF_ERROR(merge_views(g, n, out_changed), "%s",
                        mlc_node_describe(g, n));
    MLC_RETURN_IF_ERROR(merge_transposes(g, n, out_changed), "%s",
                        mlc_node_describe(g, n));
    if (bypass(g, n)) *out_changed = true;
  }
  return NULL;
}
