/* The tiled IR: one kernel per fused group of graph nodes.
 *
 * A kernel reads and writes flat buffers (params).  Its iteration space is a
 * grid of tiles: `ngrid` grid variables with static extents; each point of
 * the grid is one tile, and tiles are independent (any order, any thread,
 * or one CUDA block each).  The body is a loop nest over the buffers that
 * runs once per tile, with the grid variables bound.
 *
 * Statements: FOR loops (half-open [begin, end), step 1, with an annotation:
 * serial, vectorize with a width, unroll), STORE of a value to a buffer
 * element, ASSIGN to a mutable local scalar (accumulators), IF, and BLOCK
 * (a sequence).  Expressions are trees: constants, variable reads (loop,
 * grid or local), LOADs from buffers, unary and binary arithmetic, SELECT
 * CAST and FMA.  Every expression has a dtype; index and loop expressions are
 * i64; comparisons give bool.  Operands of a binary op share one dtype,
 * except that comparisons take any same-typed pair and give bool.
 *
 * Buffer indexes are flat element indexes (row-major arithmetic is written
 * out by the lowering).  Loads and stores are within bounds by
 * construction: the lowering guarantees it and the verifier checks what it
 * can (constant indexes).
 *
 * Semantics that backends must agree on (the interpreter in tile_interp.c
 * is the reference): integer DIV truncates toward zero and gives 0 for a
 * zero divisor (and INT_MIN / -1 gives INT_MIN); integer MOD is the C
 * remainder with the same guards; float MOD is fmod; MIN/MAX on floats
 * propagate NaN; ROUND rounds half to even; CAST float->int truncates
 * toward zero (saturating, NaN -> 0); CAST to bool is `x != 0`.  FMA(a, b,
 * c) is a * b + c with one rounding (C's fmaf/fma), in f32 for f16/bf16
 * (which are computed in f32 like every other float op); it is how
 * micro-kernels say "use the FMA unit" without allowing LLVM to contract
 * other arithmetic, so the backends stay bit-exact with the interpreter.
 * EXP, TANH and ERF on f32 (and f16/bf16, computed in f32) are the fixed
 * f32 operation sequences of ir/vmath.h, bit for bit; on f64, libm's.
 *
 * A kernel owns an arena holding all its statements and expressions.
 */
#ifndef MLC_IR_TILE_H
#define MLC_IR_TILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/status.h"
#include "ir/dtype.h"
#include "ir/graph.h" /* mlc_storage_t */

typedef enum mlc_tunop {
  MLC_TU_NEG, MLC_TU_ABS, MLC_TU_SQRT, MLC_TU_EXP, MLC_TU_LOG, MLC_TU_TANH,
  MLC_TU_ERF, MLC_TU_FLOOR, MLC_TU_CEIL, MLC_TU_ROUND, MLC_TU_SIN,
  MLC_TU_COS, MLC_TU_NOT, /* logical not on bool, bitwise on ints */
  MLC_TU_ISNAN,           /* -> bool */
  MLC_TU_COUNT_
} mlc_tunop_t;

typedef enum mlc_tbinop {
  MLC_TB_ADD, MLC_TB_SUB, MLC_TB_MUL, MLC_TB_DIV, MLC_TB_MOD, MLC_TB_POW,
  MLC_TB_MIN, MLC_TB_MAX,
  MLC_TB_AND, MLC_TB_OR, MLC_TB_XOR, /* logical on bool, bitwise on ints */
  MLC_TB_EQ, MLC_TB_NE, MLC_TB_LT, MLC_TB_LE, MLC_TB_GT, MLC_TB_GE, /* bool */
  MLC_TB_COUNT_
} mlc_tbinop_t;

typedef enum mlc_texpr_kind {
  MLC_TX_CONST, MLC_TX_VAR, MLC_TX_LOAD, MLC_TX_UNARY, MLC_TX_BINARY,
  MLC_TX_SELECT, MLC_TX_CAST,
  MLC_TX_FMA, /* a * b + c, rounded once (floats only) */
} mlc_texpr_kind_t;

typedef enum mlc_tvar_kind {
  MLC_TV_GRID,  /* a grid coordinate, bound per tile */
  MLC_TV_LOOP,  /* a FOR induction variable (i64) */
  MLC_TV_LOCAL, /* a mutable scalar, written by ASSIGN */
} mlc_tvar_kind_t;

typedef struct mlc_tvar {
  int id; /* unique within the kernel, dense from 0 */
  mlc_tvar_kind_t kind;
  mlc_dtype_t dtype; /* i64 for grid and loop variables */
  const char *name;  /* for printing: "g0", "i3", "acc" */
} mlc_tvar_t;

typedef struct mlc_texpr mlc_texpr_t;
struct mlc_texpr {
  mlc_texpr_kind_t kind;
  mlc_dtype_t dtype;
  union {
    struct { int64_t i; double f; } c; /* CONST: `i` for ints/bool, `f` for floats */
    mlc_tvar_t *var;                      /* VAR */
    struct { int buf; mlc_texpr_t *index; } load;     /* LOAD */
    struct { mlc_tunop_t op; mlc_texpr_t *a; } un;    /* UNARY */
    struct { mlc_tbinop_t op; mlc_texpr_t *a, *b; } bin; /* BINARY */
    struct { mlc_texpr_t *cond, *a, *b; } sel;        /* SELECT */
    struct { mlc_texpr_t *a; } cast;                  /* CAST to `dtype` */
    struct { mlc_texpr_t *a, *b, *c; } fma;           /* FMA */
  };
};

typedef enum mlc_tstmt_kind {
  MLC_TS_FOR, MLC_TS_STORE, MLC_TS_ASSIGN, MLC_TS_IF, MLC_TS_BLOCK,
} mlc_tstmt_kind_t;

typedef enum mlc_loop_kind {
  MLC_LOOP_SERIAL,
  MLC_LOOP_VECTORIZE, /* iterations independent; vectorize by `width` */
  MLC_LOOP_UNROLL,    /* unroll fully (small static trip count) */
} mlc_loop_kind_t;

typedef struct mlc_tstmt mlc_tstmt_t;
struct mlc_tstmt {
  mlc_tstmt_kind_t kind;
  union {
    struct {
      mlc_tvar_t *var;
      mlc_texpr_t *begin, *end; /* i64 */
      mlc_loop_kind_t loop_kind;
      int width; /* VECTORIZE: lanes (0 = backend's choice) */
      mlc_tstmt_t *body;
    } loop;
    struct { int buf; mlc_texpr_t *index, *value; } store;
    struct { mlc_tvar_t *var; mlc_texpr_t *value; } assign;
    struct { mlc_texpr_t *cond; mlc_tstmt_t *then_s, *else_s; } if_; /* else may be NULL */
    struct { int n; mlc_tstmt_t **stmts; } block;
  };
};

/* A kernel parameter: a flat buffer of `nelems` elements of `dtype`, which
 * lives in `storage` (copied from the graph value by the lowering).
 *
 * A `local` buffer is no parameter but tile-private scratch (a small
 * stack array in the LLVM backend): the caller binds nothing to it, every
 * tile sees its own copy, and its contents are undefined when a tile
 * starts, so a kernel stores each element before loading it.  Lowerings
 * use it to carry values out of a vectorized loop (reduction partials). */
typedef struct mlc_tbuf {
  const char *name; /* graph value name, for printing and debugging */
  mlc_dtype_t dtype;
  int64_t nelems;
  mlc_storage_t storage; /* NONE for a local buffer */
  bool written; /* the kernel stores to it (always, for a local one) */
  bool local;   /* tile-private scratch, not a parameter */
} mlc_tbuf_t;

/* Local buffers hold at most this many bytes (they live on the stack). */
enum { MLC_TBUF_LOCAL_MAX_BYTES = 4096 };

typedef struct mlc_tkernel {
  mlc_arena_t arena;
  const char *name; /* unique in the program, a C identifier */
  int nbufs;
  mlc_tbuf_t *bufs;
  int ngrid;
  mlc_tvar_t **grid;      /* grid variables, outermost first */
  int64_t *grid_extents;  /* static extents, each >= 1 */
  int nvars;              /* total variables (ids 0..nvars-1) */
  mlc_tstmt_t *body;
  /* Estimated work for the scheduler and cost model. */
  int64_t flops;
  /* NULL, or the name of an earlier kernel of the program that is
   * mlc_tkernel_same as this one: backends run that kernel's code on this
   * kernel's buffers (set by the dedupe-kernels pass; printed `shares N`). */
  const char *shares;
  /* Run every tile on the calling thread, never through the pool (set by
   * the plan-threads pass for kernels too small to pay for a dispatch;
   * printed `serial`). */
  bool serial;
  /* 0, or 1 + the grid dim whose tiles the register-block pass may
   * unroll-and-jam (the rows of a GEMM: tiles that load the same B
   * vectors); block_fit asks for the factor that tiles the dim's extent
   * with the fewest idle rows.  Set by lowering, consumed (reset) by the
   * pass; printed `block gN [fit]`.  A hint only: semantics never depend
   * on it. */
  int block;
  bool block_fit;
  /* The graph nodes it computes, by ONNX name (an unnamed node by its first
   * output's), for profiles and the model's call table.  Set by lowering;
   * a pass that copies or merges kernels keeps each call's own list. */
  int nnodes;
  const char **nodes;
} mlc_tkernel_t;

/* ---- construction (tile.c) ---- */
/* Builders allocate in the kernel's arena and return NULL on out-of-memory;
 * every builder accepts NULL operands and then returns NULL, so a chain of
 * builders needs one NULL check at the end. */

mlc_tkernel_t *mlc_tkernel_create(const char *name);
void mlc_tkernel_destroy(mlc_tkernel_t *k);
/* Copies `n` node names into the kernel's arena as k->nodes; false on
 * out-of-memory. */
bool mlc_tkernel_set_nodes(mlc_tkernel_t *k, const char *const *names, int n);
/* Adds a buffer param; returns its index, or -1 on out-of-memory. */
int mlc_tkernel_add_buf(mlc_tkernel_t *k, const char *name, mlc_dtype_t dt,
                        int64_t nelems, mlc_storage_t storage, bool written);
/* Adds a local (tile-private scratch) buffer; returns its index, or -1. */
int mlc_tkernel_add_local(mlc_tkernel_t *k, const char *name, mlc_dtype_t dt,
                          int64_t nelems);
/* Adds a grid dimension; returns its variable. */
mlc_tvar_t *mlc_tkernel_add_grid(mlc_tkernel_t *k, int64_t extent);
mlc_tvar_t *mlc_tkernel_new_var(mlc_tkernel_t *k, mlc_tvar_kind_t kind,
                                mlc_dtype_t dt, const char *name_prefix);

mlc_texpr_t *mlc_tx_int(mlc_tkernel_t *k, mlc_dtype_t dt, int64_t v);
static inline mlc_texpr_t *mlc_tx_i64(mlc_tkernel_t *k, int64_t v) {
  return mlc_tx_int(k, MLC_DT_I64, v);
}
mlc_texpr_t *mlc_tx_float(mlc_tkernel_t *k, mlc_dtype_t dt, double v);
/* A constant of any computable dtype from a double (ints truncate). */
mlc_texpr_t *mlc_tx_const(mlc_tkernel_t *k, mlc_dtype_t dt, double v);
mlc_texpr_t *mlc_tx_var(mlc_tkernel_t *k, mlc_tvar_t *v);
mlc_texpr_t *mlc_tx_load(mlc_tkernel_t *k, int buf, mlc_texpr_t *index);
mlc_texpr_t *mlc_tx_unary(mlc_tkernel_t *k, mlc_tunop_t op, mlc_texpr_t *a);
/* Binary: folds i64 constant arithmetic (ADD/SUB/MUL/MIN/MAX with a zero
 * or one operand, or two constants) so index expressions stay small. */
mlc_texpr_t *mlc_tx_binary(mlc_tkernel_t *k, mlc_tbinop_t op, mlc_texpr_t *a,
                           mlc_texpr_t *b);
mlc_texpr_t *mlc_tx_select(mlc_tkernel_t *k, mlc_texpr_t *c, mlc_texpr_t *a,
                           mlc_texpr_t *b);
/* a * b + c rounded once; operands share one float dtype. */
mlc_texpr_t *mlc_tx_fma(mlc_tkernel_t *k, mlc_texpr_t *a, mlc_texpr_t *b,
                        mlc_texpr_t *c);
/* Returns `a` itself when it already has dtype `dt`. */
mlc_texpr_t *mlc_tx_cast(mlc_tkernel_t *k, mlc_dtype_t dt, mlc_texpr_t *a);

mlc_tstmt_t *mlc_ts_for(mlc_tkernel_t *k, mlc_tvar_t *var, mlc_texpr_t *begin,
                        mlc_texpr_t *end, mlc_loop_kind_t kind, int width,
                        mlc_tstmt_t *body);
mlc_tstmt_t *mlc_ts_store(mlc_tkernel_t *k, int buf, mlc_texpr_t *index,
                          mlc_texpr_t *value);
mlc_tstmt_t *mlc_ts_assign(mlc_tkernel_t *k, mlc_tvar_t *var,
                           mlc_texpr_t *value);
mlc_tstmt_t *mlc_ts_if(mlc_tkernel_t *k, mlc_texpr_t *cond, mlc_tstmt_t *then_s,
                       mlc_tstmt_t *else_s);
/* A block of `n` statements (copied); NULL entries are errors. */
mlc_tstmt_t *mlc_ts_block(mlc_tkernel_t *k, int n, mlc_tstmt_t *const *stmts);
/* Appends to a block made by mlc_ts_block (n may start at 0). */
bool mlc_ts_block_append(mlc_tkernel_t *k, mlc_tstmt_t *block, mlc_tstmt_t *s);

const char *mlc_tunop_name(mlc_tunop_t op);   /* "neg", "exp", ... */
const char *mlc_tbinop_name(mlc_tbinop_t op); /* "add", "lt", ... */

/* ---- text form, verifier, interpreter ---- */

/* Deterministic text form; see docs/ir.md. */
void mlc_tkernel_print(const mlc_tkernel_t *k, FILE *out);
/* Parses one kernel in the text form of mlc_tkernel_print (tile_parse.c);
 * errors say "line L:C: what was expected". */
mlc_status_t *mlc_tkernel_parse(const char *text, size_t len,
                                mlc_tkernel_t **out);
/* Checks dtypes of every expression, variable scoping (loop vars used only
 * inside their loop, each var bound before use), buffer indexes in range,
 * constant indexes within nelems, and that stores target written bufs. */
mlc_status_t *mlc_tkernel_verify(const mlc_tkernel_t *k);
/* The number of tiles: the product of the grid extents (1 for no grid). */
int64_t mlc_tkernel_ntiles(const mlc_tkernel_t *k);
/* Whether s is or contains a FOR (in any branch or block). */
bool mlc_tstmt_has_loop(const mlc_tstmt_t *s);
/* Runs every tile of the kernel on host memory: bufs[i] points to
 * bufs[i].nelems elements.  The reference semantics, used by constant
 * folding and to cross-check backends. */
mlc_status_t *mlc_tkernel_interpret(const mlc_tkernel_t *k, void *const *bufs);

/* ---- structural comparison (tile_same.c) ---- */

/* May buffer i of k carry `noalias`: no other buffer shares its storage
 * bytes with either side written? */
bool mlc_tkernel_buf_noalias(const mlc_tkernel_t *k, int i);
/* Equality up to kernel names and buffer storage (but with the same
 * noalias pattern), and a hash consistent with it. */
bool mlc_tkernel_same(const mlc_tkernel_t *a, const mlc_tkernel_t *b);
uint64_t mlc_tkernel_hash(const mlc_tkernel_t *k);

#endif
