/* Frontend decompositions: ONNX ops imported as a few core nodes.
 *
 * The node being converted stays the last step of the decomposition (it
 * keeps its name and its first output); the steps before it are added to
 * the graph here, while the importer is still converting that node, so
 * they precede it in node order.  Helper values get names derived from
 * the node's first output ("<out>__<what>") and unknown dtype and shape:
 * shape inference fills them in like any other value.  Only core ops
 * whose semantics live elsewhere are used, so each decomposed op has one
 * definition (e.g. training-mode BatchNormalization reuses the inference
 * BatchNormalization for Y).
 */
#include <stdio.h>
#include <string.h>

#include "frontend/onnx_decomp.h"

static mlc_status_t *dc_oom(mlc_onnx_node_t *n) {
  return MLC_ERR(OUT_OF_MEMORY, "%s", n->desc);
}

static const char *dc_name(mlc_onnx_node_t *n, const char *what) {
  const char *base = n->nout > 0 && n->out[0] ? n->out[0]->name : n->np->name;
  return mlc_arena_printf(&n->g->arena, "%s__%s", base ? base : "", what);
}

/* Adds op(ins) -> out (a fresh value when out is NULL); returns the node. */
static mlc_node_t *dc_add(mlc_onnx_node_t *n, mlc_op_t op, const char *what,
                          int nin, mlc_value_t *const *ins, mlc_value_t *out) {
  const char *vname = dc_name(n, what);
  if (!vname) return NULL;
  if (!out) out = mlc_graph_add_value(n->g, vname, MLC_DT_UNDEFINED, -1, NULL);
  if (!out) return NULL;
  const char *nname = mlc_arena_printf(&n->g->arena, "%s/%s",
                                       n->np->name ? n->np->name : "", what);
  if (!nname) return NULL;
  for (int i = 0; i < nin; i++)
    if (!ins[i]) return NULL;
  mlc_node_t *node = mlc_graph_add_node(n->g, op, nname, nin, ins, 1, &out);
  if (node) node->onnx_op = n->np->op_type;
  return node;
}

static mlc_value_t *dc_val(mlc_node_t *node) {
  return node ? node->outputs[0] : NULL;
}

/* ---- BatchNormalization, training mode ---- */

static mlc_value_t *bn_reduce_mean(mlc_onnx_node_t *n, const char *what,
                                   mlc_value_t *x, mlc_value_t *axes) {
  mlc_value_t *ins[2] = {x, axes};
  mlc_node_t *r = dc_add(n, MLC_OP_ReduceMean, what, 2, ins, NULL);
  if (!r || !mlc_node_set_int(n->g, r, "keepdims", 0)) return NULL;
  return dc_val(r);
}

/* out = running * momentum + current * (1 - momentum) */
static bool bn_update(mlc_onnx_node_t *n, const char *what, double mom,
                      mlc_value_t *running, mlc_value_t *current,
                      mlc_value_t *out) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s_momentum", what);
  mlc_value_t *km = mlc_onnx_scalar_const(n, mlc_arena_strdup(&n->g->arena, buf),
                                          running->dtype, mom);
  snprintf(buf, sizeof buf, "%s_1m_momentum", what);
  mlc_value_t *k1 = mlc_onnx_scalar_const(
      n, mlc_arena_strdup(&n->g->arena, buf), n->in[0]->dtype, 1.0 - mom);
  snprintf(buf, sizeof buf, "%s_old", what);
  mlc_value_t *a[2] = {running, km};
  mlc_value_t *p = dc_val(dc_add(n, MLC_OP_Mul, mlc_arena_strdup(&n->g->arena, buf), 2, a, NULL));
  snprintf(buf, sizeof buf, "%s_new", what);
  mlc_value_t *b[2] = {current, k1};
  mlc_value_t *q = dc_val(dc_add(n, MLC_OP_Mul, mlc_arena_strdup(&n->g->arena, buf), 2, b, NULL));
  mlc_value_t *s[2] = {p, q};
  snprintf(buf, sizeof buf, "%s_update", what);
  return p && q && dc_add(n, MLC_OP_Add, mlc_arena_strdup(&n->g->arena, buf), 2, s, out);
}

mlc_status_t *mlc_onnx_decomp_bn_training(mlc_onnx_node_t *n,
                                          const char **why) {
  mlc_value_t *x = n->in[0];
  if (n->nin < 5 || !n->in[3] || !n->in[4])
    return MLC_ERR(INVALID_MODEL, "%s: needs 5 inputs", n->desc);
  if (x->rank < 2) {
    *why = "training_mode=1 with an input of unknown rank";
    return NULL;
  }
  const mlc_attr_t *ma = mlc_onnx_attr_find(n, "momentum");
  double mom = ma && ma->kind == MLC_ATTR_FLOAT ? ma->f : 0.9;
  int64_t axes[MLC_ONNX_MAX_RANK];
  int na = 0;
  for (int d = 0; d < x->rank && d < MLC_ONNX_MAX_RANK; d++)
    if (d != 1) axes[na++] = d;
  const char *an = dc_name(n, "bn_axes");
  mlc_value_t *ax = an ? mlc_graph_add_const_i64s(n->g, an, axes, na) : NULL;
  mlc_value_t *mean = bn_reduce_mean(n, "bn_mean", x, ax);
  mlc_value_t *u[2] = {mean, ax};
  mlc_value_t *mk = dc_val(dc_add(n, MLC_OP_Unsqueeze, "bn_mean_b", 2, u, NULL));
  mlc_value_t *s[2] = {x, mk};
  mlc_value_t *d = dc_val(dc_add(n, MLC_OP_Sub, "bn_centered", 2, s, NULL));
  mlc_value_t *sq[2] = {d, d};
  mlc_value_t *d2 = dc_val(dc_add(n, MLC_OP_Mul, "bn_sq", 2, sq, NULL));
  mlc_value_t *var = d2 ? bn_reduce_mean(n, "bn_var", d2, ax) : NULL;
  if (!var) return dc_oom(n);
  if (n->nout > 1 && n->out[1] &&
      !bn_update(n, "bn_rmean", mom, n->in[3], mean, n->out[1]))
    return dc_oom(n);
  if (n->nout > 2 && n->out[2] &&
      !bn_update(n, "bn_rvar", mom, n->in[4], var, n->out[2]))
    return dc_oom(n);
  n->in[3] = mean;
  n->in[4] = var;
  n->nout = 1;
  return NULL;
}

/* ---- Reduce* on ReduceSum ---- */

mlc_status_t *mlc_onnx_decomp_reduce(mlc_onnx_node_t *n, mlc_op_t pre,
                                     mlc_op_t post) {
  if (pre != MLC_OP_COUNT_) {
    mlc_value_t *ins[2] = {n->in[0], n->in[0]};
    mlc_value_t *p = dc_val(dc_add(n, pre, "reduce_pre", pre == MLC_OP_Mul ? 2 : 1,
                                   ins, NULL));
    if (!p) return dc_oom(n);
    n->in[0] = p;
  }
  if (post == MLC_OP_COUNT_) return NULL;
  int nin = n->nin;
  while (nin > 1 && !n->in[nin - 1]) nin--;
  mlc_node_t *r = dc_add(n, MLC_OP_ReduceSum, "reduce_sum", nin, n->in, NULL);
  if (!r) return dc_oom(n);
  for (int i = 0; i < n->nattrs; i++)
    if (!mlc_node_set_attr(n->g, r, &n->attrs[i])) return dc_oom(n);
  n->op = post;
  n->in[0] = r->outputs[0];
  n->nin = 1;
  n->nattrs = 0;
  return NULL;
}
