/* The gemm-layout pass: puts the operands of GEMM-shaped ops into the
 * layout the register-blocked kernel (passes/lower_gemm.c) reads best.
 *
 *  - MatMul with a 2-D B, and Gemm without transA: B becomes Pack(B), the
 *    K x NB column panels stored contiguously (NB from the target, the
 *    kernel's panel width), and the node becomes PackedMatMul.  Constant
 *    weights are packed at compile time (the constant folding that runs
 *    after this pass computes the Pack); a B computed at run time is
 *    packed only when enough row blocks reuse each panel (M >= 64) to pay
 *    for the copy.  Packing removes the large power-of-two row strides
 *    whose cache-set conflicts made a 1024-wide B several times slower.
 *  - A 2-D Conv with group 1 and at least DIRECT_MIN_M output channels
 *    that is not pointwise becomes a direct ConvCols (direct = 1): X
 *    padded by an explicit Pad node, W packed into panels over the
 *    output channels (or, for K = C*taps below DIRECT_SWAP_MIN_K, kept as
 *    it is, pixels then being the vectors); the kernel reads each tap's
 *    input in place, so no im2col copy is made (the copy was 9-37% of a
 *    ResNet-50 conv).
 *  - Other Convs with group 1 that are not pointwise become Im2Col(X) (the
 *    columns [N, C*taps, P] in the arena) feeding ConvCols, a GEMM of the
 *    weights [M, C*taps] by the columns.  Pointwise convs are GEMMs over X
 *    already and are left alone, unless the output is small (P < 256
 *    pixels): then ConvCols reads X as its columns and runs swapped
 *    (output channels as the vector dim, pixels as register rows, the
 *    weights packed into panels over M), as do small non-pointwise convs.
 *    Grouped and depthwise convs keep the direct kernel.
 *
 * Nodes are rewritten in place (op, inputs, attributes) so their outputs,
 * names and fusion behaviour stay; new producers are appended and the
 * graph is re-sorted.  Runs after fold-constants (so weights are known
 * constants) and is followed by a second fold-constants.
 */
#include <stdio.h>
#include <string.h>

#include "passes/lower.h"
#include "passes/pass.h"

/* Largest Im2Col buffer the pass creates (bytes). */
#define GL_MAX_COLS_BYTES ((int64_t)512 << 20)
/* Fewest output channels a direct conv takes (its vector dim); the
 * shortest K (C * taps) for which it runs swapped (channels as vectors),
 * and the narrowest output row that takes pixels as vectors. */
enum { DIRECT_MIN_M = 16, DIRECT_SWAP_MIN_K = 64, DIRECT_MIN_OW = 16 };

static bool float_gemm_dtype(mlc_dtype_t dt) {
  return dt == MLC_DT_F32 || dt == MLC_DT_F16 || dt == MLC_DT_BF16;
}

static mlc_status_t *oom(mlc_graph_t *g, const mlc_node_t *n) {
  return MLC_ERR(OUT_OF_MEMORY, "%s: gemm-layout", mlc_node_describe(g, n));
}

/* Appends Pack(b) and returns its output, or NULL on out-of-memory. */
static mlc_value_t *add_pack(mlc_graph_t *g, mlc_node_t *n, mlc_value_t *b,
                             bool trans, int64_t panel) {
  int64_t K = b->dims[trans ? 1 : 0].value, N = b->dims[trans ? 0 : 1].value;
  int64_t dims[3] = {(N + panel - 1) / panel, K, panel};
  char name[256];
  snprintf(name, sizeof name, "%.200s__packed%u", b->name, (unsigned)n->id);
  mlc_value_t *bp = mlc_graph_add_value_static(g, name, b->dtype, 3, dims);
  if (!bp) return NULL;
  mlc_node_t *p = mlc_graph_add_node(g, MLC_OP_Pack, name, 1, &b, 1, &bp);
  if (!p || !mlc_node_set_int(g, p, "panel", panel) ||
      !mlc_node_set_int(g, p, "trans", trans))
    return NULL;
  return bp;
}

static mlc_status_t *pack_matmul(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                                 mlc_node_t *n, bool *changed) {
  mlc_value_t *a = n->inputs[0], *b = n->inputs[1];
  bool gemm = n->op == MLC_OP_Gemm;
  if (b->rank != 2 || a->rank < 1 || !float_gemm_dtype(a->dtype) ||
      !mlc_value_is_static(a) || !mlc_value_is_static(b) ||
      !mlc_value_is_static(n->outputs[0]))
    return NULL;
  if (gemm && mlc_node_attr_int(n, "transA", 0)) return NULL;
  bool trans = gemm && mlc_node_attr_int(n, "transB", 0);
  int64_t N = b->dims[trans ? 0 : 1].value, K = b->dims[trans ? 1 : 0].value;
  int64_t M = 1;
  for (int i = 0; i < a->rank - 1; i++) M *= a->dims[i].value;
  if (N < 1 || K < 1 || M < 1) return NULL;
  if (!mlc_value_is_const(b) && (M < 64 || N < 64 || K < 16)) return NULL;
  int64_t panel = mlc_lower_gemm_panel(ctx->target, N, a->dtype);
  mlc_value_t *bp = add_pack(g, n, b, trans, panel);
  if (!bp || !mlc_node_set_int(g, n, "n", N)) return oom(g, n);
  n->inputs[1] = bp;
  n->op = MLC_OP_PackedMatMul;
  *changed = true;
  return NULL;
}

/* Appends op(x, const ints) with a static output of `dims` (names: x's
 * name plus the suffixes and n's id) and returns the output, or NULL on
 * out-of-memory. */
static mlc_value_t *add_with_ints(mlc_graph_t *g, const mlc_node_t *n, mlc_op_t op,
                                  mlc_value_t *x, const int64_t *ints, int nints,
                                  const char *const_sfx, const char *out_sfx, int rank,
                                  const int64_t *dims) {
  char name[256];
  snprintf(name, sizeof name, "%.200s%s%u", x->name, const_sfx, (unsigned)n->id);
  mlc_value_t *cv = mlc_graph_add_const_i64s(g, name, ints, nints);
  snprintf(name, sizeof name, "%.200s%s%u", x->name, out_sfx, (unsigned)n->id);
  mlc_value_t *y = cv ? mlc_graph_add_value_static(g, name, x->dtype, rank, dims) : NULL;
  mlc_value_t *ins[2] = {x, cv};
  if (!y || !mlc_graph_add_node(g, op, name, 2, ins, 1, &y)) return NULL;
  return y;
}

/* For a swapped ConvCols: W as [M, K] packed into panels over M
 * (Reshape then Pack, both folded at compile time for weights). */
static mlc_value_t *pack_conv_weights(mlc_graph_t *g, mlc_node_t *n, int64_t M,
                                      int64_t K, int64_t panel) {
  int64_t shape[2] = {M, K};
  mlc_value_t *w2 = add_with_ints(g, n, MLC_OP_Reshape, n->inputs[1], shape, 2,
                                  "__mk", "__2d", 2, shape);
  return w2 ? add_pack(g, n, w2, true, panel) : NULL;
}

/* Small outputs (7x7, 14x14) waste vector lanes when pixels are the
 * vector dim: then output channels are, and pixels the register rows. */
static bool conv_swap(int64_t M, int64_t K, int64_t P) {
  return P < 256 && M >= 32 && K >= 32;
}

/* Pads X by the conv's pads (an explicit Pad node), or returns X when
 * there are none; NULL on out-of-memory. */
static mlc_value_t *pad_input(mlc_graph_t *g, mlc_node_t *n, const int64_t *geo) {
  mlc_value_t *x = n->inputs[0];
  int64_t pads[8] = {0}, dims[4];
  bool padded = false;
  for (int i = 0; i < 2; i++) {
    pads[2 + i] = geo[4 + i]; /* begins of dims 2, 3 */
    pads[6 + i] = geo[6 + i]; /* ends */
    padded = padded || pads[2 + i] || pads[6 + i];
  }
  if (!padded) return x;
  for (int d = 0; d < 4; d++) dims[d] = x->dims[d].value + pads[d] + pads[4 + d];
  return add_with_ints(g, n, MLC_OP_Pad, x, pads, 8, "__pads", "__padded", 4, dims);
}

/* A 2-D conv as a direct ConvCols (lower_packed.c): X padded, W packed
 * into panels over the output channels, no im2col. */
static mlc_status_t *conv_to_direct(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                                    mlc_node_t *n, const int64_t *geo,
                                    const int64_t *ks, const int64_t *os) {
  int64_t M = n->inputs[1]->dims[0].value, K = n->inputs[1]->dims[1].value * ks[0] * ks[1];
  mlc_value_t *xp = pad_input(g, n, geo), *wp = n->inputs[1];
  /* Channels as vectors need K FMAs to pay for each row's scattered store
   * (a 3-channel 3x3 stem ran at 25 GFLOP/s so); short K keeps pixels as
   * vectors and the weights as they are. */
  bool swap = K >= DIRECT_SWAP_MIN_K || os[1] < DIRECT_MIN_OW;
  if (swap && xp) {
    int64_t panel = mlc_lower_conv_direct_panel(ctx->target, M, os[1], n->inputs[0]->dtype);
    wp = pack_conv_weights(g, n, M, K, panel);
  }
  if (!wp || !mlc_node_set_int(g, n, "direct", 1) || !mlc_node_set_int(g, n, "m", M) ||
      !mlc_node_set_ints(g, n, "kernel_shape", ks, 2) ||
      !mlc_node_set_ints(g, n, "strides", geo, 2) ||
      !mlc_node_set_ints(g, n, "dilations", geo + 2, 2) ||
      !mlc_node_set_ints(g, n, "out_shape", os, 2))
    return oom(g, n);
  n->inputs[0] = xp;
  n->inputs[1] = wp;
  n->op = MLC_OP_ConvCols;
  return NULL;
}

static mlc_status_t *conv_to_cols(const mlc_pass_ctx_t *ctx, mlc_graph_t *g,
                                  mlc_node_t *n, bool *changed) {
  mlc_value_t *x = n->inputs[0], *w = n->inputs[1], *y = n->outputs[0];
  int r = x->rank, ns = r - 2;
  if (r < 3 || r > 5 || w->rank != r || y->rank != r ||
      !float_gemm_dtype(x->dtype) || !mlc_value_is_static(x) ||
      !mlc_value_is_static(w) || !mlc_value_is_static(y) ||
      mlc_node_attr_int(n, "group", 1) != 1)
    return NULL;
  int64_t geo[4 * 3], ks[3], os[3], taps = 1, P = 1, M = w->dims[0].value;
  MLC_RETURN_IF(mlc_lower_conv_geometry(g, n, geo));
  for (int i = 0; i < ns; i++) {
    ks[i] = w->dims[2 + i].value;
    os[i] = y->dims[2 + i].value;
    taps *= ks[i];
    P *= os[i];
  }
  bool pointwise = mlc_lower_conv_is_pointwise(n);
  bool swap = conv_swap(M, x->dims[1].value * taps, P);
  if (pointwise && !swap) return NULL; /* a GEMM over X as it is */
  if (ns == 2 && !pointwise && M >= DIRECT_MIN_M) {
    MLC_RETURN_IF(conv_to_direct(ctx, g, n, geo, ks, os));
    *changed = true;
    return NULL;
  }
  int64_t cdims[3] = {x->dims[0].value, x->dims[1].value * taps, P};
  if (cdims[0] * cdims[1] * P * (int64_t)mlc_dtype_size(x->dtype) > GL_MAX_COLS_BYTES)
    return NULL;
  if (swap) {
    mlc_value_t *wp = pack_conv_weights(g, n, M, cdims[1],
                                        mlc_lower_gemm_panel(ctx->target, M, w->dtype));
    if (!wp || !mlc_node_set_int(g, n, "swap", 1) || !mlc_node_set_int(g, n, "m", M))
      return oom(g, n);
    n->inputs[1] = wp;
  }
  if (!mlc_node_set_ints(g, n, "out_shape", os, ns)) return oom(g, n);
  n->op = MLC_OP_ConvCols;
  *changed = true;
  if (pointwise) return NULL; /* the columns are X itself */
  char name[256];
  snprintf(name, sizeof name, "%.200s__cols%u", y->name, (unsigned)n->id);
  mlc_value_t *cols = mlc_graph_add_value_static(g, name, x->dtype, 3, cdims);
  mlc_node_t *ic = cols ? mlc_graph_add_node(g, MLC_OP_Im2Col, name, 1, &x, 1, &cols) : NULL;
  if (!ic || !mlc_node_set_ints(g, ic, "kernel_shape", ks, ns) ||
      !mlc_node_set_ints(g, ic, "strides", geo, ns) ||
      !mlc_node_set_ints(g, ic, "dilations", geo + ns, ns) ||
      !mlc_node_set_ints(g, ic, "pads", geo + 2 * ns, 2 * ns) ||
      !mlc_node_set_ints(g, ic, "out_shape", os, ns))
    return oom(g, n);
  n->inputs[0] = cols;
  return NULL;
}

static mlc_status_t *run_gemm_layout(mlc_pass_ctx_t *ctx, mlc_graph_t *g) {
  bool changed = false;
  size_t count = g->nodes.len; /* nodes appended here are not revisited */
  for (size_t i = 0; i < count; i++) {
    mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    if (n->op == MLC_OP_MatMul || n->op == MLC_OP_Gemm)
      MLC_RETURN_IF(pack_matmul(ctx, g, n, &changed));
    else if (n->op == MLC_OP_Conv)
      MLC_RETURN_IF(conv_to_cols(ctx, g, n, &changed));
  }
  return changed ? mlc_graph_toposort(g) : NULL;
}

const mlc_pass_t mlc_pass_gemm_layout = {
    .name = "gemm-layout",
    .summary = "pack GEMM weights into panels; Conv to Im2Col + GEMM",
    .run = run_gemm_layout,
};
