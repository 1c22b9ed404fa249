/* The fuse pass: forms fusion groups that mlc_lower_program turns into one
 * kernel each, the intermediate results living in registers.
 *
 * A group is a chain: it starts at an anchor (an MLC_OPF_GEMM op) or at
 * a fusible elementwise op (MLC_OPF_ELEM | MLC_OPF_FUSE), and grows while
 * the last member's output has exactly one use, is not a graph output,
 * and its consumer is a fusible elementwise op whose output has the same
 * static shape as the chain's first output (so the epilogue runs at the
 * anchor's output index).  A chain also grows over a diamond that closes
 * on it: the last output v has two uses, a side chain of fusible
 * elementwise ops (each output used once, by the next) and a join that
 * reads both v and the side chain's result (SiLU: x * Sigmoid(x); GELU:
 * x * (Erf(x / s) + 1)); lowering memoises member values, so v is computed
 * once.  Every member must be lowerable.  Values inside a group (all
 * member outputs but the last) get MLC_VALUE_FUSED.
 *
 * Members are made contiguous by moving each group to the position of its
 * last member: nothing outside the group uses an internal value, and
 * moving a node later keeps its inputs defined, so the order stays
 * topological.  Groups of one node are left ungrouped (group -1).  A
 * group has at most FUSE_MAX_MEMBERS members and FUSE_MAX_OPERANDS
 * operands.
 */
#include <stdlib.h>
#include <string.h>

#include "passes/lower.h"
#include "passes/pass.h"

/* Most members in one group.  A group becomes one expression tree as deep
 * as the chain, which lowering, the interpreter and codegen walk
 * recursively: a 100k-Relu chain overflowed the stack.  Longer chains are
 * split into several groups. */
enum { FUSE_MAX_MEMBERS = 64 };
/* Most operands (inputs from outside the group) of one group: a chain of
 * wide Sums (the importer's form of a Sum of 10,000 inputs) would else
 * make kernels of thousands of buffers and expressions as deep.  Chains
 * of unary, binary and ternary ops never reach it. */
enum { FUSE_MAX_OPERANDS = 3 * FUSE_MAX_MEMBERS };

static bool is_anchor(const mlc_node_t *n) {
  return (mlc_op_info(n->op)->flags & MLC_OPF_GEMM) != 0;
}

static bool is_fusible_elem(const mlc_node_t *n) {
  unsigned f = mlc_op_info(n->op)->flags;
  return (f & MLC_OPF_ELEM) && (f & MLC_OPF_FUSE) && n->noutputs == 1;
}

static bool same_shape(const mlc_value_t *a, const mlc_value_t *b) {
  if (a->rank != b->rank || !mlc_value_is_static(a) || !mlc_value_is_static(b))
    return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i].value != b->dims[i].value) return false;
  return true;
}

/* Records in each value's scratch the live node using it, so that
 * sole_consumer is O(1) (a scan per chain step was O(L^2) on long chains),
 * and in other[id] a second, earlier user.  Only values with one or two
 * uses are read back, and they have at most two such nodes. */
static void note_consumers(mlc_graph_t *g, mlc_node_t **other) {
  for (size_t i = 0; i < g->values.len; i++) g->values.data[i]->scratch = NULL;
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    for (int j = 0; j < n->ninputs; j++) {
      mlc_value_t *v = n->inputs[j];
      if (!v) continue;
      if (v->scratch && v->scratch != n) other[v->id] = v->scratch;
      v->scratch = n;
    }
  }
}

/* The single node using v, or NULL. */
static mlc_node_t *sole_consumer(const mlc_value_t *v) {
  if (v->nuses != 1 || (v->flags & MLC_VALUE_OUTPUT)) return NULL;
  return v->scratch;
}

/* Can c join a group whose first output has `shape`? */
static bool joinable(mlc_graph_t *g, const mlc_node_t *c, const mlc_value_t *shape) {
  return c && c->group < 0 && !c->dead && is_fusible_elem(c) &&
         mlc_lower_supports(g, c) && same_shape(c->outputs[0], shape);
}

static bool reads(const mlc_node_t *n, const mlc_value_t *v) {
  for (int i = 0; i < n->ninputs; i++)
    if (n->inputs[i] == v) return true;
  return false;
}

/* The diamond closing on v (see the header): fills side[] with the side
 * chain from `a` and then the join `j`; returns their count, or 0. */
static int side_chain(mlc_graph_t *g, const mlc_value_t *v, mlc_node_t *a,
                      mlc_node_t *j, const mlc_value_t *shape,
                      mlc_node_t **side, int max) {
  int n = 0;
  if (!joinable(g, j, shape) || !reads(a, v)) return 0;
  for (mlc_node_t *p = a; n + 1 < max && joinable(g, p, shape); ) {
    side[n++] = p;
    mlc_node_t *next = sole_consumer(p->outputs[0]);
    if (next == j) {
      side[n++] = j;
      return reads(j, v) ? n : 0;
    }
    if (next && reads(next, v)) return 0; /* a third reader of v */
    p = next;
  }
  return 0;
}

static int diamond(mlc_graph_t *g, const mlc_value_t *v, mlc_node_t **other,
                   const mlc_value_t *shape, mlc_node_t **side, int max) {
  if (v->nuses != 2 || (v->flags & MLC_VALUE_OUTPUT)) return 0;
  mlc_node_t *u0 = v->scratch, *u1 = other[v->id];
  if (!u0 || !u1 || u0 == u1) return 0;
  int n = side_chain(g, v, u0, u1, shape, side, max);
  return n ? n : side_chain(g, v, u1, u0, shape, side, max);
}

/* Grows a chain from nodes[start]; returns its length (>= 1). */
static int grow_chain(mlc_graph_t *g, mlc_node_t **other, size_t start, int gid) {
  mlc_node_t *first = g->nodes.data[start], *cur = first;
  const mlc_value_t *shape = first->outputs[0];
  mlc_node_t *side[FUSE_MAX_MEMBERS];
  int len = 1, operands = first->ninputs;
  for (;;) {
    if (cur->noutputs != 1 || len >= FUSE_MAX_MEMBERS) break;
    mlc_value_t *v = cur->outputs[0];
    mlc_node_t *c = sole_consumer(v);
    int ns = 0;
    if (joinable(g, c, shape))
      side[ns++] = c;
    else if (!c)
      ns = diamond(g, v, other, shape, side, FUSE_MAX_MEMBERS - len);
    if (!ns) break;
    int more = 0; /* each new member reads at least one value of the group */
    for (int i = 0; i < ns; i++) more += side[i]->ninputs - 1;
    if (operands + more > FUSE_MAX_OPERANDS) break;
    operands += more;
    if (len == 1) first->group = gid;
    v->flags |= MLC_VALUE_FUSED;
    for (int i = 0; i < ns; i++) {
      side[i]->group = gid;
      if (i + 1 < ns) side[i]->outputs[0]->flags |= MLC_VALUE_FUSED;
    }
    cur = side[ns - 1];
    len += ns;
  }
  return len;
}

/* Moves each group's members to the position of its last member.  Each
 * group's members are bucketed first (count, prefix sum, fill), keeping
 * their order, so the whole pass is O(nodes + groups). */
static mlc_status_t *make_contiguous(mlc_graph_t *g, int ngroups) {
  size_t n = g->nodes.len, ng = (size_t)ngroups;
  mlc_node_t **order = malloc((2 * n + 1) * sizeof *order);
  size_t *idx = calloc(3 * ng + 1, sizeof *idx);
  if (!order || !idx) {
    free(order);
    free(idx);
    return MLC_ERR(OUT_OF_MEMORY, "fuse: reordering nodes");
  }
  /* start[k]..start[k+1]: group k in members; pos: fill cursors. */
  mlc_node_t **members = order + n;
  size_t *start = idx, *pos = idx + ng + 1, *last = idx + 2 * ng + 1;
  for (size_t i = 0; i < n; i++) {
    int gr = g->nodes.data[i]->group;
    if (gr >= 0) start[gr + 1]++, last[gr] = i;
  }
  for (size_t k = 0; k < ng; k++) start[k + 1] += start[k];
  memcpy(pos, start, ng * sizeof *pos);
  for (size_t i = 0; i < n; i++) {
    mlc_node_t *nd = g->nodes.data[i];
    if (nd->group >= 0) members[pos[nd->group]++] = nd;
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    mlc_node_t *nd = g->nodes.data[i];
    if (nd->group < 0) {
      order[k++] = nd;
    } else if (last[nd->group] == i) {
      for (size_t j = start[nd->group]; j < start[nd->group + 1]; j++)
        order[k++] = members[j];
    }
  }
  memcpy(g->nodes.data, order, n * sizeof *order);
  free(order);
  free(idx);
  return NULL;
}

static mlc_status_t *fuse_run(mlc_pass_ctx_t *ctx, mlc_graph_t *g) {
  (void)ctx;
  mlc_graph_count_uses(g);
  mlc_node_t **other = calloc((size_t)g->next_value_id + 1, sizeof *other);
  if (!other) return MLC_ERR(OUT_OF_MEMORY, "fuse: consumer table");
  note_consumers(g, other);
  for (size_t i = 0; i < g->nodes.len; i++) g->nodes.data[i]->group = -1;
  int gid = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    if (n->dead || n->group >= 0) continue;
    if (!(is_anchor(n) || is_fusible_elem(n)) || !mlc_lower_supports(g, n))
      continue;
    if (grow_chain(g, other, i, gid) > 1) gid++;
  }
  free(other);
  if (gid == 0) return NULL;
  return make_contiguous(g, gid);
}

const mlc_pass_t mlc_pass_fuse = {
    "fuse", "group elementwise chains and epilogues into one kernel",
    fuse_run};
