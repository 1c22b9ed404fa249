/* Private interface shared by the lowering files (lower*.c).
 *
 * A lowering context (lw_ctx_t) holds the kernel being built, the graph
 * value of each kernel buffer, and optionally the fusion group whose
 * elementwise epilogue the kernel's final stores must apply.  Op builders
 * (one per op family, in lower_elem.c, lower_linalg.c, lower_nn.c,
 * lower_data.c) append statements to ctx->body and find buffers with
 * lw_buf(), so the same builder serves mlc_lower_node (buffers added up
 * front in node order) and mlc_lower_program (buffers added on demand).
 *
 * Loop nests: lw_nest_make() turns a static shape into grid dimensions
 * (outer dims, possibly the last grid dim split into blocks) and loops;
 * lw_nest_wrap() wraps a body into those loops, the innermost vectorized
 * when asked.
 */
#ifndef MLC_PASSES_LOWER_INTERNAL_H
#define MLC_PASSES_LOWER_INTERNAL_H

#include "base/vec.h"
#include "passes/lower.h"

#define LW_MAXR 12
/* Most inputs of one elementwise node (the ONNX importer chains wider
 * Sum/Mean/Max/Min; mlc_lower_supports refuses wider ones). */
#define LW_MAX_OPERANDS (LW_MAXR * 4)

/* A fusion group as the lowering sees it: nodes in order; `anchor` (the
 * first node, or NULL) is a MatMul/Gemm/Conv whose output the elementwise
 * rest consumes; `out` is the value the kernel stores. */
typedef struct lw_group {
  mlc_node_t **nodes;
  int nnodes;
  mlc_node_t *anchor;
  mlc_value_t *out;
  mlc_texpr_t **memo; /* per node: expression built in the current store */
} lw_group_t;

typedef struct lw_ctx {
  mlc_graph_t *g;
  const mlc_target_t *target; /* NULL: defaults (folding, tests) */
  mlc_tkernel_t *k;
  const mlc_node_t *n; /* node being lowered, for messages */
  MLC_VEC(mlc_value_t *) bufvals;
  mlc_tstmt_t *body;
  lw_group_t *group; /* NULL unless lowering a fused group */
} lw_ctx_t;

typedef struct lw_nest {
  int rank;
  int64_t dims[LW_MAXR];
  mlc_texpr_t *idx[LW_MAXR];
  mlc_tvar_t *var[LW_MAXR]; /* loop var, NULL for pure grid dims */
  mlc_texpr_t *begin[LW_MAXR], *end[LW_MAXR];
  int npure; /* leading dims that are pure grid dims */
} lw_nest_t;

typedef mlc_status_t *(*lw_build_fn)(lw_ctx_t *c, const mlc_node_t *n);

/* lower.c */
int lw_buf(lw_ctx_t *c, mlc_value_t *v, bool written);
/* Adds a local (tile-private scratch) buffer; its graph value is NULL. */
int lw_local(lw_ctx_t *c, const char *name, mlc_dtype_t dt, int64_t n);
mlc_status_t *lw_err(lw_ctx_t *c, mlc_status_code_t code, const char *fmt,
                     ...) MLC_PRINTF(3, 4);
mlc_status_t *lw_oom(lw_ctx_t *c);
bool lw_append(lw_ctx_t *c, mlc_tstmt_t *s);
/* Builds a nest over `dims`; at most `max_grid` leading dims go into the
 * grid; `allow_block` lets the last grid dim be split into blocks. */
bool lw_nest_make(lw_ctx_t *c, lw_nest_t *nest, int rank, const int64_t *dims,
                  int max_grid, bool allow_block);
/* Nest sharing the pure grid dims of `proto` (the first proto->npure). */
bool lw_nest_share(lw_ctx_t *c, lw_nest_t *nest, int rank, const int64_t *dims,
                   const lw_nest_t *proto);
mlc_tstmt_t *lw_nest_wrap(lw_ctx_t *c, const lw_nest_t *nest, int from,
                          mlc_tstmt_t *body, bool vec_inner);
/* Serial loop var in [0, n) around body. */
mlc_tstmt_t *lw_for(lw_ctx_t *c, mlc_tvar_t *v, int64_t n, mlc_tstmt_t *body,
                    mlc_loop_kind_t kind);
mlc_tvar_t *lw_loopvar(lw_ctx_t *c);
mlc_texpr_t *lw_flat(lw_ctx_t *c, mlc_texpr_t *const *idx, const int64_t *dims,
                     int rank);
/* Index into `v` (rank <= rank) broadcast against idx (right-aligned). */
mlc_texpr_t *lw_bcast_index(lw_ctx_t *c, mlc_texpr_t *const *idx, int rank,
                            const mlc_value_t *v);
mlc_texpr_t *lw_load_bcast(lw_ctx_t *c, mlc_value_t *v,
                           mlc_texpr_t *const *idx, int rank);
void lw_value_dims(const mlc_value_t *v, int64_t *dims);
mlc_texpr_t *lw_add(lw_ctx_t *c, mlc_texpr_t *a, mlc_texpr_t *b);
mlc_texpr_t *lw_mul(lw_ctx_t *c, mlc_texpr_t *a, mlc_texpr_t *b);
mlc_texpr_t *lw_mul_i(lw_ctx_t *c, mlc_texpr_t *a, int64_t b);
mlc_texpr_t *lw_add_i(lw_ctx_t *c, mlc_texpr_t *a, int64_t b);
/* Stores `value` (dtype of n's output 0) at output index idx, applying
 * the fused epilogue when n is the group's anchor. */
mlc_tstmt_t *lw_store_out(lw_ctx_t *c, const mlc_node_t *n,
                          mlc_texpr_t *const *idx, int rank,
                          mlc_texpr_t *value);
/* Reads constant input `i` of n as int64s (up to max); -1 + error if it is
 * not a constant. *out_n gets the count (0 if the input is absent). */
mlc_status_t *lw_const_ints(lw_ctx_t *c, const mlc_node_t *n, int i,
                            int64_t *out, int max, int *out_n);
int64_t lw_norm_axis(int64_t axis, int rank);
/* Compute dtype for a value dtype: f32 for f16/bf16. */
mlc_dtype_t lw_compute_dt(mlc_dtype_t dt);

/* lower_elem.c */
/* The elementwise formula of n applied to operand expressions a[i] (in
 * the dtypes of n's inputs; absent optional inputs NULL); gives an
 * expression of n's output dtype. */
mlc_texpr_t *lw_elem_expr(lw_ctx_t *c, const mlc_node_t *n,
                          mlc_texpr_t *const *a, int na);
mlc_status_t *lw_build_elem(lw_ctx_t *c, const mlc_node_t *n);
/* Expression for value v inside the current group at output index idx. */
mlc_texpr_t *lw_group_expr(lw_ctx_t *c, mlc_value_t *v,
                           mlc_texpr_t *const *idx, int rank,
                           mlc_texpr_t *anchor_value);
mlc_status_t *lw_build_group_elem(lw_ctx_t *c);

/* Window geometry of Conv and pools over `ns` spatial dims. */
typedef struct lw_win {
  int ns;
  int64_t in[LW_MAXR], out[LW_MAXR], kern[LW_MAXR], stride[LW_MAXR],
      dil[LW_MAXR], pb[LW_MAXR], pe[LW_MAXR];
} lw_win_t;

/* lower_linalg.c */
/* Fills strides, dilations and pads (auto_pad resolved) of w; in, out and
 * kern must be set. */
mlc_status_t *lw_window(lw_ctx_t *c, const mlc_node_t *n, lw_win_t *w);
/* Input coordinate o*stride - pb + kpos*dil of spatial dim d; ANDs its
 * bounds check into *ok (NULL at first). */
mlc_texpr_t *lw_win_coord(lw_ctx_t *c, const lw_win_t *w, int d,
                          mlc_texpr_t *o, mlc_texpr_t *kpos, mlc_texpr_t **ok);
mlc_status_t *lw_build_matmul(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_gemm(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_conv(lw_ctx_t *c, const mlc_node_t *n);

/* lower_window.c: border-split nests for 2-D window kernels */
enum { LW_WIN_MAXK = 64, LW_WIN_MAXRB = 8 };
/* One spatial dim of a window: for each tap k the outputs [in_lo, in_hi)
 * where it is inside the input and [pad_lo, pad_hi) where it is inside
 * input + pads (empty: lo == hi == 0); [lo, hi) the interior, where all
 * taps are inside the input. */
typedef struct lw_wdim {
  int64_t in_lo[LW_WIN_MAXK], in_hi[LW_WIN_MAXK], pad_lo[LW_WIN_MAXK],
      pad_hi[LW_WIN_MAXK];
  int64_t lo, hi;
} lw_wdim_t;
/* A run of output positions [o0, o1) of one dim. */
typedef struct lw_run {
  int64_t o0, o1;
} lw_run_t;
typedef struct lw_win2d {
  lw_wdim_t dim[2];         /* rows, columns */
  int nc;
  lw_run_t cols[3];         /* column runs (see lower_window.c) */
  lw_run_t rows_in;         /* interior rows (row-blocked bodies) */
  lw_run_t rows_all;        /* all rows (the one-row body) */
  int lanes;                /* vector width of the column loops */
  int rblk;                 /* output rows per blocked body */
  int64_t rb;               /* rows per tile */
  bool single;              /* one tile of rows: static row bounds */
  mlc_texpr_t *n, *ch, *r0; /* grid: batch, channel, first row of the tile */
} lw_win2d_t;
/* The body for output rows oh[0..nrow) (consecutive, in row run rr) at
 * column ow (in column run cr). */
typedef mlc_tstmt_t *(*lw_win2d_body_fn)(void *ctx, mlc_texpr_t *const *oh,
                                         int nrow, mlc_texpr_t *ow,
                                         const lw_run_t *rr, const lw_run_t *cr);
/* Plans a 2-D window for vectors of `lanes` and blocked bodies of up to
 * `rblk` rows; false unless 2-D with kernels up to LW_WIN_MAXK and at most
 * max_taps taps unrolled over all bodies. */
bool lw_win2d_plan(const lw_win_t *w, lw_win2d_t *p, int lanes, int rblk,
                   int64_t max_taps);
/* Is tap k of dim d (0 rows, 1 columns) inside the input (padded: input +
 * pads) somewhere in run r?  *cond gets the condition on the output
 * coordinate o, NULL when it holds throughout r. */
bool lw_win2d_tap(lw_ctx_t *c, const lw_win2d_t *p, int d, const lw_run_t *r,
                  int64_t k, bool padded, mlc_texpr_t *o, mlc_texpr_t **cond);
/* Vector lanes for compute dtype ct on the context's target. */
int lw_win_lanes(const lw_ctx_t *c, mlc_dtype_t ct);
/* Adds the grid [N, C, row blocks]; false on out-of-memory. */
bool lw_win2d_grid(lw_ctx_t *c, const lw_win_t *w, lw_win2d_t *p, int64_t N,
                   int64_t C);
/* Appends the nests of every column run around fn's bodies. */
bool lw_win2d_emit(lw_ctx_t *c, const lw_win2d_t *p, lw_win2d_body_fn fn,
                   void *ctx);

/* lower_dwconv.c: 2-D Conv (any group) with the border split; *done false
 * when it does not apply (the generic direct kernel then runs). */
mlc_status_t *lw_build_conv2d(lw_ctx_t *c, const mlc_node_t *n, bool *done);

/* lower_pool.c: 2-D MaxPool (without Indices) / AveragePool likewise. */
mlc_status_t *lw_build_pool2d(lw_ctx_t *c, const mlc_node_t *n, bool *done);

/* lower_gemm.c */
enum { LW_GEMM_MAX_K = 4 };
/* Output map entries of lw_gemm_t: which index goes into output dim d. */
enum { LW_GM_ZERO = 0, LW_GM_ROW = 1, LW_GM_COL = 2, LW_GM_BATCH = 3 /* + i */ };

typedef mlc_texpr_t *(*lw_gemm_fn)(lw_ctx_t *c, const mlc_node_t *n,
                                   mlc_texpr_t *acc, mlc_texpr_t *row,
                                   mlc_texpr_t *col);
/* A GEMM-shaped computation (see lower_gemm.c). */
typedef struct lw_gemm {
  int nb; /* batch dims (grid dims) */
  int64_t bdims[LW_MAXR], a_bs[LW_MAXR], b_bs[LW_MAXR];
  int64_t M, N, K, a_sm, a_sk, b_sk, b_sn;
  /* nk > 0: K is the nest kdims[0..nk) (K = their product), A and B
   * offset by sum k_i * a_ks[i] / b_ks[i] instead of k * a_sk / b_sk (a
   * direct conv: K = (c, kh, kw) over a padded image; no panels). */
  int nk;
  int64_t kdims[LW_GEMM_MAX_K], a_ks[LW_GEMM_MAX_K], b_ks[LW_GEMM_MAX_K];
  /* fit: the register block is chosen by lw_gemm_blocking_fit */
  bool fit;
  int64_t b_panel; /* > 0: B packed as [ceil(N/b_panel)][K][b_panel] */
  /* swap: the kernel's vector columns run over M and its register rows
   * over N (for small N: a conv's 7x7 or 14x14 outputs); A then comes as
   * panels [ceil(M/a_panel)][K][a_panel] and B is broadcast. */
  bool swap;
  int64_t a_panel;
  mlc_value_t *a, *b;
  int out_rank;
  int out_map[LW_MAXR]; /* LW_GM_* per output dim */
  /* > 1: COL spans the last col_span output dims (ZERO entries, then COL:
   * a conv's flat output position); when a fused epilogue cannot be
   * indexed that way, the store splits COL by div/mod. */
  int col_span;
  /* init(c, n, NULL, row, col): the accumulator's start (NULL fn: 0);
   * finish(c, n, acc, row, col): the value stored (NULL fn: acc). */
  lw_gemm_fn init, finish;
} lw_gemm_t;

typedef struct lw_gemm_block {
  int nv, lanes, nb; /* vectors per row, lanes, nb = nv*lanes (the rows are
                      * the register-block tile pass's) */
  bool fma;
} lw_gemm_block_t;

lw_gemm_block_t lw_gemm_blocking(const lw_ctx_t *c, int64_t N, mlc_dtype_t ct);
lw_gemm_block_t lw_gemm_blocking_fit(const lw_ctx_t *c, int64_t M, int64_t N,
                                     mlc_dtype_t ct);
bool lw_group_collapsible(const lw_ctx_t *c, int d0, int d1);
mlc_status_t *lw_gemm_kernel(lw_ctx_t *c, const mlc_node_t *n,
                             const lw_gemm_t *s);

/* lower_packed.c */
mlc_status_t *lw_build_pack(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_packed_matmul(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_im2col(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_conv_cols(lw_ctx_t *c, const mlc_node_t *n);
bool lw_conv_is_pointwise(const mlc_node_t *n);
mlc_status_t *lw_build_conv_pointwise(lw_ctx_t *c, const mlc_node_t *n);
/* lower_linalg.c: Gemm's alpha * acc + beta * C[m, col] */
mlc_texpr_t *lw_gemm_finish_abc(lw_ctx_t *c, const mlc_node_t *n,
                                mlc_texpr_t *acc, mlc_texpr_t *m,
                                mlc_texpr_t *col);

/* lower_nn.c */
mlc_status_t *lw_build_pool(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_batchnorm(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_softmax(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_layernorm(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_reduce(lw_ctx_t *c, const mlc_node_t *n);
/* The identity of max (max = true: the lowest value) or min for dt. */
mlc_texpr_t *lw_lowest(lw_ctx_t *c, mlc_dtype_t dt, bool max);

/* lower_rows.c: the same ops when the reduced dims are a trailing suffix
 * of `len` elements (rows contiguous); lane-partial reductions. */
mlc_status_t *lw_rows_softmax(lw_ctx_t *c, const mlc_node_t *n, int64_t len);
mlc_status_t *lw_rows_layernorm(lw_ctx_t *c, const mlc_node_t *n, int64_t len,
                                double eps);
mlc_status_t *lw_rows_reduce(lw_ctx_t *c, const mlc_node_t *n, int64_t len);

/* lower_data.c */
mlc_status_t *lw_build_copy(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_transpose(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_concat(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_split(lw_ctx_t *c, const mlc_node_t *n);
/* Concat or Split: the copy loops of parts [lo, hi) only, for a node
 * whose parts are split over kernels; lo 0 checks all parts.  *base is
 * where part lo starts in the whole (0 at first) and is advanced past
 * hi; the whole is addressed from there, so kernels of equal part shapes
 * are the same kernel but for their buffers' storage. */
mlc_status_t *lw_build_parts(lw_ctx_t *c, const mlc_node_t *n, int lo, int hi,
                             int64_t *base);
mlc_status_t *lw_build_slice(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_gather(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_expand(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_tile(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_pad(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_shape(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_cofs(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_range(lw_ctx_t *c, const mlc_node_t *n);

/* lower_convt.c */
mlc_status_t *lw_build_convtranspose(lw_ctx_t *c, const mlc_node_t *n);

/* lower_resize.c */
mlc_status_t *lw_build_resize(lw_ctx_t *c, const mlc_node_t *n);

/* lower_index.c */
mlc_status_t *lw_build_argminmax(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_hardmax(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_cumsum(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_gather_elements(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_trilu(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_scatter_elements(lw_ctx_t *c, const mlc_node_t *n);
mlc_status_t *lw_build_topk(lw_ctx_t *c, const mlc_node_t *n);

#endif
