/* Lowering driver: per-node kernels (mlc_lower_node), support queries, and
 * whole-program lowering of a planned graph (mlc_lower_program), plus the
 * helpers every op builder uses (buffers, loop nests, index arithmetic).
 *
 * Assumes shape inference ran: every value a builder touches has a known
 * dtype and static shape, otherwise the node is MLC_UNSUPPORTED.  Operands
 * that ONNX once gave as attributes (axes, pads, ...) must be constants.
 * See docs/tiled-ir-lowering.md for the kernel shapes produced.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "passes/lower_internal.h"

/* ---- context helpers ---- */

int lw_buf(lw_ctx_t *c, mlc_value_t *v, bool written) {
  for (size_t i = 0; i < c->bufvals.len; i++)
    if (c->bufvals.data[i] == v) {
      if (written) c->k->bufs[i].written = true;
      return (int)i;
    }
  int b = mlc_tkernel_add_buf(c->k, v->name, v->dtype, mlc_value_numel(v),
                              v->storage, written);
  if (b < 0 || !MLC_VEC_PUSH(&c->bufvals, v)) return -1;
  return b;
}

int lw_local(lw_ctx_t *c, const char *name, mlc_dtype_t dt, int64_t n) {
  int b = mlc_tkernel_add_local(c->k, name, dt, n);
  mlc_value_t *none = NULL;
  if (b < 0 || !MLC_VEC_PUSH(&c->bufvals, none)) return -1;
  return b;
}

mlc_status_t *lw_err(lw_ctx_t *c, mlc_status_code_t code, const char *fmt,
                     ...) {
  va_list ap;
  va_start(ap, fmt);
  mlc_status_t *st = mlc_status_makev(code, fmt, ap);
  va_end(ap);
  return mlc_status_annotate(st, "%s", mlc_node_describe(c->g, c->n));
}

mlc_status_t *lw_oom(lw_ctx_t *c) {
  return lw_err(c, MLC_OUT_OF_MEMORY, "out of memory building its kernel");
}

bool lw_append(lw_ctx_t *c, mlc_tstmt_t *s) {
  return s && mlc_ts_block_append(c->k, c->body, s);
}

mlc_tvar_t *lw_loopvar(lw_ctx_t *c) {
  return mlc_tkernel_new_var(c->k, MLC_TV_LOOP, MLC_DT_I64, "i");
}

mlc_texpr_t *lw_add(lw_ctx_t *c, mlc_texpr_t *a, mlc_texpr_t *b) {
  return mlc_tx_binary(c->k, MLC_TB_ADD, a, b);
}
mlc_texpr_t *lw_mul(lw_ctx_t *c, mlc_texpr_t *a, mlc_texpr_t *b) {
  return mlc_tx_binary(c->k, MLC_TB_MUL, a, b);
}
mlc_texpr_t *lw_mul_i(lw_ctx_t *c, mlc_texpr_t *a, int64_t b) {
  return lw_mul(c, a, mlc_tx_i64(c->k, b));
}
mlc_texpr_t *lw_add_i(lw_ctx_t *c, mlc_texpr_t *a, int64_t b) {
  return lw_add(c, a, mlc_tx_i64(c->k, b));
}

int64_t lw_norm_axis(int64_t axis, int rank) {
  return axis < 0 ? axis + rank : axis;
}

mlc_dtype_t lw_compute_dt(mlc_dtype_t dt) {
  return (dt == MLC_DT_F16 || dt == MLC_DT_BF16) ? MLC_DT_F32 : dt;
}

void lw_value_dims(const mlc_value_t *v, int64_t *dims) {
  for (int i = 0; i < v->rank; i++) dims[i] = v->dims[i].value;
}

/* ---- loop nests ---- */

enum { LW_TILE_WORK = 4096, LW_GRID_INNER = 2048 };

static bool nest_loop(lw_ctx_t *c, lw_nest_t *nest, int d) {
  nest->var[d] = lw_loopvar(c);
  nest->begin[d] = mlc_tx_i64(c->k, 0);
  nest->end[d] = mlc_tx_i64(c->k, nest->dims[d]);
  nest->idx[d] = mlc_tx_var(c->k, nest->var[d]);
  return nest->idx[d] && nest->begin[d] && nest->end[d];
}

bool lw_nest_make(lw_ctx_t *c, lw_nest_t *nest, int rank, const int64_t *dims,
                  int max_grid, bool allow_block) {
  memset(nest, 0, sizeof *nest);
  nest->rank = rank;
  for (int d = 0; d < rank; d++) nest->dims[d] = dims[d];
  int d = 0;
  /* Pure grid dims while what is left is still a decent tile. */
  for (; d < rank - 1 && d < max_grid; d++) {
    int64_t inner = 1;
    for (int j = d + 1; j < rank; j++) inner *= dims[j];
    if (inner < LW_GRID_INNER || dims[d] < 1) break;
    mlc_tvar_t *gv = mlc_tkernel_add_grid(c->k, dims[d]);
    if (!gv || !(nest->idx[d] = mlc_tx_var(c->k, gv))) return false;
  }
  nest->npure = d;
  if (d < rank && d < max_grid && allow_block) {
    int64_t inner = 1;
    for (int j = d + 1; j < rank; j++) inner *= dims[j];
    int64_t blk = (LW_TILE_WORK + inner - 1) / (inner ? inner : 1);
    if (blk < 1) blk = 1;
    int64_t nblk = (dims[d] + blk - 1) / blk;
    if (nblk > 1) {
      mlc_tvar_t *gv = mlc_tkernel_add_grid(c->k, nblk);
      nest->var[d] = lw_loopvar(c);
      nest->begin[d] = lw_mul_i(c, mlc_tx_var(c->k, gv), blk);
      nest->end[d] = mlc_tx_binary(c->k, MLC_TB_MIN,
                                   lw_add_i(c, nest->begin[d], blk),
                                   mlc_tx_i64(c->k, dims[d]));
      nest->idx[d] = mlc_tx_var(c->k, nest->var[d]);
      if (!nest->idx[d] || !nest->end[d]) return false;
      d++;
    }
  }
  for (; d < rank; d++)
    if (!nest_loop(c, nest, d)) return false;
  return true;
}

bool lw_nest_share(lw_ctx_t *c, lw_nest_t *nest, int rank, const int64_t *dims,
                   const lw_nest_t *proto) {
  memset(nest, 0, sizeof *nest);
  nest->rank = rank;
  nest->npure = proto->npure;
  for (int d = 0; d < rank; d++) {
    nest->dims[d] = dims[d];
    if (d < proto->npure) {
      nest->idx[d] = proto->idx[d];
    } else if (!nest_loop(c, nest, d)) {
      return false;
    }
  }
  return true;
}

mlc_tstmt_t *lw_nest_wrap(lw_ctx_t *c, const lw_nest_t *nest, int from,
                          mlc_tstmt_t *body, bool vec_inner) {
  int inner = nest->rank - 1;
  for (int d = nest->rank - 1; d >= from; d--) {
    if (!nest->var[d]) continue;
    bool vec = vec_inner && d == inner;
    body = mlc_ts_for(c->k, nest->var[d], nest->begin[d], nest->end[d],
                      vec ? MLC_LOOP_VECTORIZE : MLC_LOOP_SERIAL, 0, body);
  }
  return body;
}

mlc_tstmt_t *lw_for(lw_ctx_t *c, mlc_tvar_t *v, int64_t n, mlc_tstmt_t *body,
                    mlc_loop_kind_t kind) {
  return mlc_ts_for(c->k, v, mlc_tx_i64(c->k, 0), mlc_tx_i64(c->k, n), kind,
                    0, body);
}

mlc_texpr_t *lw_flat(lw_ctx_t *c, mlc_texpr_t *const *idx, const int64_t *dims,
                     int rank) {
  mlc_texpr_t *e = mlc_tx_i64(c->k, 0);
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    if (dims[d] != 1) e = lw_add(c, e, lw_mul_i(c, idx[d], stride));
    stride *= dims[d];
  }
  return e;
}

mlc_texpr_t *lw_bcast_index(lw_ctx_t *c, mlc_texpr_t *const *idx, int rank,
                            const mlc_value_t *v) {
  mlc_texpr_t *e = mlc_tx_i64(c->k, 0);
  int64_t stride = 1;
  for (int j = v->rank - 1; j >= 0; j--) {
    int64_t dj = v->dims[j].value;
    int d = rank - v->rank + j;
    if (dj != 1 && d >= 0) e = lw_add(c, e, lw_mul_i(c, idx[d], stride));
    stride *= dj;
  }
  return e;
}

mlc_texpr_t *lw_load_bcast(lw_ctx_t *c, mlc_value_t *v,
                           mlc_texpr_t *const *idx, int rank) {
  int b = lw_buf(c, v, false);
  if (b < 0) return NULL;
  return mlc_tx_load(c->k, b, lw_bcast_index(c, idx, rank, v));
}

mlc_tstmt_t *lw_store_out(lw_ctx_t *c, const mlc_node_t *n,
                          mlc_texpr_t *const *idx, int rank,
                          mlc_texpr_t *value) {
  mlc_value_t *out = n->outputs[0];
  if (c->group && c->group->anchor == n) {
    memset(c->group->memo, 0, sizeof *c->group->memo * c->group->nnodes);
    value = lw_group_expr(c, c->group->out, idx, rank, value);
    out = c->group->out;
  }
  int b = lw_buf(c, out, true);
  int64_t dims[LW_MAXR];
  lw_value_dims(out, dims);
  if (b < 0 || !value) return NULL;
  return mlc_ts_store(c->k, b, lw_flat(c, idx, dims, rank),
                      mlc_tx_cast(c->k, out->dtype, value));
}

mlc_status_t *lw_const_ints(lw_ctx_t *c, const mlc_node_t *n, int i,
                            int64_t *out, int max, int *out_n) {
  *out_n = 0;
  if (i >= n->ninputs || !n->inputs[i]) return NULL;
  const mlc_value_t *v = n->inputs[i];
  if (!mlc_value_is_const(v) || !v->data)
    return lw_err(c, MLC_UNSUPPORTED,
                  "input %d ('%s') must be a constant to be lowered", i,
                  v->name);
  int64_t cnt = mlc_value_numel(v);
  if (cnt < 0 || cnt > max)
    return lw_err(c, MLC_UNSUPPORTED, "input %d: %lld values, at most %d", i,
                  (long long)cnt, max);
  for (int64_t j = 0; j < cnt; j++) out[j] = mlc_value_const_int(v, j);
  *out_n = (int)cnt;
  return NULL;
}

/* ---- dispatch ---- */

static lw_build_fn builder_for(mlc_op_t op) {
  if (op >= MLC_OP_COUNT_) return NULL;
  if (mlc_op_info(op)->flags & MLC_OPF_ELEM) return lw_build_elem;
  switch (op) {
  case MLC_OP_MatMul: return lw_build_matmul;
  case MLC_OP_Gemm: return lw_build_gemm;
  case MLC_OP_Conv: return lw_build_conv;
  case MLC_OP_Pack: return lw_build_pack;
  case MLC_OP_PackedMatMul: return lw_build_packed_matmul;
  case MLC_OP_Im2Col: return lw_build_im2col;
  case MLC_OP_ConvCols: return lw_build_conv_cols;
  case MLC_OP_MaxPool: case MLC_OP_AveragePool:
  case MLC_OP_GlobalAveragePool: case MLC_OP_GlobalMaxPool:
    return lw_build_pool;
  case MLC_OP_BatchNormalization: return lw_build_batchnorm;
  case MLC_OP_Softmax: case MLC_OP_LogSoftmax: return lw_build_softmax;
  case MLC_OP_LayerNormalization: return lw_build_layernorm;
  case MLC_OP_ReduceMean: case MLC_OP_ReduceSum: case MLC_OP_ReduceMax:
  case MLC_OP_ReduceMin: case MLC_OP_ReduceProd:
    return lw_build_reduce;
  case MLC_OP_Identity: case MLC_OP_Reshape: case MLC_OP_Flatten:
  case MLC_OP_Squeeze: case MLC_OP_Unsqueeze:
    return lw_build_copy;
  case MLC_OP_Transpose: return lw_build_transpose;
  case MLC_OP_Concat: return lw_build_concat;
  case MLC_OP_Split: return lw_build_split;
  case MLC_OP_Slice: return lw_build_slice;
  case MLC_OP_Gather: return lw_build_gather;
  case MLC_OP_Expand: return lw_build_expand;
  case MLC_OP_Tile: return lw_build_tile;
  case MLC_OP_Pad: return lw_build_pad;
  case MLC_OP_Shape: case MLC_OP_Size: return lw_build_shape;
  case MLC_OP_ConstantOfShape: return lw_build_cofs;
  case MLC_OP_Range: return lw_build_range;
  case MLC_OP_ArgMax: case MLC_OP_ArgMin: return lw_build_argminmax;
  case MLC_OP_Hardmax: return lw_build_hardmax;
  case MLC_OP_Resize: return lw_build_resize;
  case MLC_OP_ConvTranspose: return lw_build_convtranspose;
  case MLC_OP_CumSum: case MLC_OP_CumProd: return lw_build_cumsum;
  case MLC_OP_GatherElements: return lw_build_gather_elements;
  case MLC_OP_Trilu: return lw_build_trilu;
  case MLC_OP_ScatterElements: return lw_build_scatter_elements;
  case MLC_OP_TopK: return lw_build_topk;
  default: return NULL;
  }
}

static bool value_ok(const mlc_value_t *v) {
  return v && mlc_dtype_is_computable(v->dtype) && mlc_value_is_static(v) &&
         v->rank <= LW_MAXR;
}

/* Shape and Size read only the input's shape: its dtype may be anything. */
static bool node_values_ok(const mlc_node_t *n) {
  bool shape_only = n->op == MLC_OP_Shape || n->op == MLC_OP_Size;
  for (int i = 0; i < n->ninputs; i++) {
    const mlc_value_t *v = n->inputs[i];
    if (!v) continue;
    if (shape_only ? !mlc_value_is_static(v) || v->rank > LW_MAXR
                   : !value_ok(v))
      return false;
  }
  for (int i = 0; i < n->noutputs; i++)
    if (!value_ok(n->outputs[i])) return false;
  return true;
}

static bool too_wide(const mlc_node_t *n) {
  return (mlc_op_info(n->op)->flags & MLC_OPF_ELEM) &&
         n->ninputs > LW_MAX_OPERANDS;
}

bool mlc_lower_supports(const mlc_graph_t *g, const mlc_node_t *n) {
  (void)g;
  return n && builder_for(n->op) && !too_wide(n) && node_values_ok(n);
}

static mlc_status_t *check_node(lw_ctx_t *c, const mlc_node_t *n) {
  if (!builder_for(n->op))
    return lw_err(c, MLC_UNSUPPORTED, "no lowering for op %s",
                  mlc_op_name(n->op));
  if (too_wide(n))
    return lw_err(c, MLC_UNSUPPORTED, "%d inputs; an elementwise kernel takes "
                  "at most %d (the ONNX importer chains wider Sum, Mean, Max "
                  "and Min)", n->ninputs, LW_MAX_OPERANDS);
  if (!node_values_ok(n))
    return lw_err(c, MLC_UNSUPPORTED,
                  "lowering needs static shapes (rank <= %d) and computable "
                  "dtypes on every input and output", LW_MAXR);
  return NULL;
}

static mlc_tkernel_t *new_kernel(lw_ctx_t *c, const char *name) {
  c->k = mlc_tkernel_create(name);
  if (!c->k) return NULL;
  c->body = mlc_ts_block(c->k, 0, NULL);
  c->k->body = c->body;
  return c->body ? c->k : NULL;
}

static void lower_name(char *dst, size_t cap, int id, mlc_op_t op) {
  int len = snprintf(dst, cap, "k%d_%s", id, mlc_op_name(op));
  for (int i = 0; i < len && (size_t)i < cap; i++)
    dst[i] = (char)tolower((unsigned char)dst[i]);
}

/* Records the ONNX names of nodes[0..cnt) on the kernel (an unnamed node
 * by its first output, else by "#id"). */
static bool record_nodes(lw_ctx_t *c, mlc_node_t **nodes, int cnt) {
  const char **names = calloc((size_t)cnt, sizeof *names);
  char (*ids)[24] = calloc((size_t)cnt, sizeof *ids);
  bool ok = names && ids;
  for (int i = 0; ok && i < cnt; i++) {
    const mlc_node_t *n = nodes[i];
    const mlc_value_t *out = n->noutputs > 0 ? n->outputs[0] : NULL;
    snprintf(ids[i], sizeof ids[i], "#%u", (unsigned)n->id);
    names[i] = n->name && n->name[0] ? n->name
               : out && out->name && out->name[0] ? out->name : ids[i];
  }
  ok = ok && mlc_tkernel_set_nodes(c->k, names, cnt);
  free(names);
  free(ids);
  return ok;
}

mlc_status_t *mlc_lower_node(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                             mlc_node_t *n, mlc_tkernel_t **out_kernel,
                             mlc_value_t ***out_buf_values) {
  *out_kernel = NULL;
  if (out_buf_values) *out_buf_values = NULL;
  lw_ctx_t c = {.g = g, .n = n, .target = ctx ? ctx->target : NULL};
  MLC_RETURN_IF(check_node(&c, n));
  char name[96];
  lower_name(name, sizeof name, (int)n->id, n->op);
  if (!new_kernel(&c, name) || !record_nodes(&c, &n, 1)) {
    mlc_tkernel_destroy(c.k);
    return lw_oom(&c);
  }
  mlc_status_t *st = NULL;
  /* Buffers: present inputs, then outputs, in node order. */
  for (int i = 0; i < n->ninputs && !st; i++)
    if (n->inputs[i] &&
        (mlc_tkernel_add_buf(c.k, n->inputs[i]->name, n->inputs[i]->dtype,
                             mlc_value_numel(n->inputs[i]),
                             n->inputs[i]->storage, false) < 0 ||
         !MLC_VEC_PUSH(&c.bufvals, n->inputs[i])))
      st = lw_oom(&c);
  for (int i = 0; i < n->noutputs && !st; i++)
    if (mlc_tkernel_add_buf(c.k, n->outputs[i]->name, n->outputs[i]->dtype,
                            mlc_value_numel(n->outputs[i]),
                            n->outputs[i]->storage, true) < 0 ||
        !MLC_VEC_PUSH(&c.bufvals, n->outputs[i]))
      st = lw_oom(&c);
  if (!st) st = builder_for(n->op)(&c, n);
  if (!st && out_buf_values) {
    mlc_value_t **bv =
        mlc_arena_calloc(&c.k->arena, c.bufvals.len + 1, sizeof *bv);
    if (!bv) st = lw_oom(&c);
    else {
      memcpy(bv, c.bufvals.data, c.bufvals.len * sizeof *bv);
      *out_buf_values = bv;
    }
  }
  MLC_VEC_FREE(&c.bufvals);
  if (st) {
    mlc_tkernel_destroy(c.k);
    return st;
  }
  *out_kernel = c.k;
  return NULL;
}

/* ---- program ---- */

static bool same_storage(const mlc_storage_t *a, const mlc_storage_t *b) {
  return a->kind == b->kind && a->index == b->index && a->offset == b->offset;
}

static bool is_anchor_op(mlc_op_t op) {
  return (mlc_op_info(op)->flags & MLC_OPF_GEMM) != 0;
}

/* Lowers nodes[0..cnt) (one group, or one node) into one kernel. */
static mlc_status_t *lower_unit(lw_ctx_t *c, mlc_node_t **nodes, int cnt,
                                int kid) {
  mlc_node_t *last = nodes[cnt - 1];
  c->n = cnt > 1 && is_anchor_op(nodes[0]->op) ? nodes[0] : last;
  for (int i = 0; i < cnt; i++) MLC_RETURN_IF(check_node(c, nodes[i]));
  char name[96];
  lower_name(name, sizeof name, kid, c->n->op);
  if (!new_kernel(c, name) || !record_nodes(c, nodes, cnt)) return lw_oom(c);
  if (cnt == 1) return builder_for(nodes[0]->op)(c, nodes[0]);
  lw_group_t grp = {nodes, cnt, NULL, last->outputs[0], NULL};
  grp.memo = calloc((size_t)cnt, sizeof *grp.memo);
  if (!grp.memo) return lw_oom(c);
  c->group = &grp;
  mlc_status_t *st;
  if (is_anchor_op(nodes[0]->op)) {
    grp.anchor = nodes[0];
    st = builder_for(nodes[0]->op)(c, nodes[0]);
  } else {
    st = lw_build_group_elem(c);
  }
  c->group = NULL;
  free(grp.memo);
  return st;
}

/* Parts of a Concat or Split copied by one kernel: LLVM's time grows
 * faster than linearly with a function's size (a Concat of 10,000 inputs
 * in one kernel took minutes), so wider ones get one kernel per 16 parts
 * (each addressing the whole from its first part on, so that runs of
 * equal shapes share code after dedupe-kernels). */
enum { LW_PARTS_PER_KERNEL = 16 };

static int parts_of(const mlc_node_t *n) {
  if (n->op == MLC_OP_Concat) return n->ninputs;
  if (n->op == MLC_OP_Split) return n->noutputs;
  return 0;
}

/* Lowers a wide Concat/Split into one kernel per LW_PARTS_PER_KERNEL
 * parts, appended to p. */
static mlc_status_t *lower_parts(lw_ctx_t *c, mlc_node_t *n,
                                 mlc_program_t *p) {
  MLC_RETURN_IF(check_node(c, n));
  int parts = parts_of(n);
  int64_t base = 0;
  for (int lo = 0; lo < parts; lo += LW_PARTS_PER_KERNEL) {
    int hi = parts - lo > LW_PARTS_PER_KERNEL ? lo + LW_PARTS_PER_KERNEL
                                              : parts;
    MLC_VEC_FREE(&c->bufvals);
    char name[96];
    lower_name(name, sizeof name, (int)p->kernels.len, n->op);
    if (!new_kernel(c, name) || !record_nodes(c, &n, 1)) return lw_oom(c);
    MLC_RETURN_IF(lw_build_parts(c, n, lo, hi, &base));
    if (!MLC_VEC_PUSH(&p->kernels, c->k)) return lw_oom(c);
    c->k = NULL;
  }
  return NULL;
}

static bool skip_view(const mlc_node_t *n) {
  return (mlc_op_info(n->op)->flags & MLC_OPF_VIEW) && n->inputs[0] &&
         same_storage(&n->inputs[0]->storage, &n->outputs[0]->storage);
}

mlc_status_t *mlc_lower_program(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                                mlc_program_t *p) {
  memset(p, 0, sizeof *p);
  p->graph = g;
  p->arena_bytes = g->arena_bytes;
  p->weights_bytes = g->weights_bytes;
  size_t i = 0;
  while (i < g->nodes.len) {
    mlc_node_t **nodes = &g->nodes.data[i];
    int cnt = 1;
    if (nodes[0]->group >= 0)
      while (i + cnt < g->nodes.len && nodes[cnt]->group == nodes[0]->group)
        cnt++;
    i += (size_t)cnt;
    if (nodes[0]->dead || (cnt == 1 && skip_view(nodes[0]))) continue;
    lw_ctx_t c = {.g = g, .n = nodes[0], .target = ctx ? ctx->target : NULL};
    mlc_status_t *st;
    if (cnt == 1 && parts_of(nodes[0]) > LW_PARTS_PER_KERNEL) {
      st = lower_parts(&c, nodes[0], p);
    } else {
      st = lower_unit(&c, nodes, cnt, (int)p->kernels.len);
      if (!st && !MLC_VEC_PUSH(&p->kernels, c.k)) st = lw_oom(&c);
    }
    MLC_VEC_FREE(&c.bufvals);
    if (st) {
      mlc_tkernel_destroy(c.k);
      mlc_program_deinit(p);
      return mlc_status_annotate(st, "lowering");
    }
  }
  return NULL;
}
