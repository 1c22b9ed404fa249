/* The graph IR: a typed dataflow graph.
 *
 * A graph owns an arena; every value, node, attribute and string of the
 * graph lives there and dies with mlc_graph_destroy().  Tensor data of
 * constants is either copied into the arena, borrowed from a memory mapping
 * the graph owns (external data), or heap data the graph adopted.
 *
 * Values carry a dtype and a shape whose dims may be symbolic: a symbolic
 * dim keeps its ONNX dim_param name in `sym`; `value` is its size once
 * bound (the driver binds every symbolic input dim before shape inference,
 * from --dim NAME=N or to 1), or -1 while unknown.  rank -1 means unknown
 * rank.  Values also carry a placement (device and sharding) for the
 * partitioning pass, and a storage assignment filled by memory planning.
 *
 * Nodes are kept in `nodes` in topological order; passes that add nodes
 * call mlc_graph_toposort() when they cannot insert in order.  Removed
 * nodes are flagged dead and dropped by mlc_graph_compact().
 */
#ifndef MLC_IR_GRAPH_H
#define MLC_IR_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/status.h"
#include "base/vec.h"
#include "ir/dtype.h"

/* ---- ops ---------------------------------------------------------------- */

enum {
  MLC_OPF_ELEM = 1 << 0,
  MLC_OPF_COMM = 1 << 1,
  MLC_OPF_FUSE = 1 << 2,
  MLC_OPF_LAYOUT = 1 << 3,
  MLC_OPF_VIEW = 1 << 4,
  MLC_OPF_REDUCE = 1 << 5,
  MLC_OPF_COLL = 1 << 6,
  MLC_OPF_GEMM = 1 << 7,
};

typedef enum mlc_op {
#define MLC_OP(name, ...) MLC_OP_##name,
#include "ir/ops.def"
#undef MLC_OP
  MLC_OP_COUNT_
} mlc_op_t;

typedef struct mlc_op_info {
  const char *name;
  int min_inputs, max_inputs; /* max -1: variadic */
  int min_outputs, max_outputs;
  unsigned flags;
} mlc_op_info_t;

const mlc_op_info_t *mlc_op_info(mlc_op_t op);
static inline const char *mlc_op_name(mlc_op_t op) {
  return mlc_op_info(op)->name;
}
/* Finds a core op by its printed name; false if none. */
bool mlc_op_lookup(const char *name, size_t len, mlc_op_t *out);

/* ---- tensors, attributes ------------------------------------------------ */

typedef struct mlc_dim {
  int64_t value;   /* size; -1 while unknown */
  const char *sym; /* dim_param name, or NULL for a static dim */
} mlc_dim_t;

/* A constant tensor as it appears in an attribute. */
typedef struct mlc_tensor {
  mlc_dtype_t dtype;
  int rank;
  int64_t *dims;
  const void *data; /* nbytes of packed little-endian elements */
  size_t nbytes;
} mlc_tensor_t;

typedef enum mlc_attr_kind {
  MLC_ATTR_FLOAT,
  MLC_ATTR_INT,
  MLC_ATTR_STRING,
  MLC_ATTR_TENSOR,
  MLC_ATTR_GRAPH,
  MLC_ATTR_FLOATS,
  MLC_ATTR_INTS,
  MLC_ATTR_STRINGS,
  MLC_ATTR_TENSORS,
  MLC_ATTR_GRAPHS,
} mlc_attr_kind_t;

struct mlc_graph;

typedef struct mlc_attr {
  const char *name;
  mlc_attr_kind_t kind;
  union {
    float f;
    int64_t i;
    const char *s;
    mlc_tensor_t *t;
    struct mlc_graph *g;
    struct { int64_t n; float *v; } floats;
    struct { int64_t n; int64_t *v; } ints;
    struct { int64_t n; const char **v; } strings;
    struct { int64_t n; mlc_tensor_t **v; } tensors;
    struct { int64_t n; struct mlc_graph **v; } graphs;
  };
} mlc_attr_t;

/* ---- values ------------------------------------------------------------- */

enum {
  MLC_VALUE_INPUT = 1 << 0,  /* a graph input */
  MLC_VALUE_OUTPUT = 1 << 1, /* a graph output */
  MLC_VALUE_CONST = 1 << 2,  /* data != NULL: an initializer or folded */
  MLC_VALUE_FUSED = 1 << 3,  /* lives only inside a fused kernel: no storage */
};

/* Where a value's bytes live at run time, decided by memory planning. */
typedef enum mlc_storage_kind {
  MLC_STORAGE_NONE = 0, /* not planned (or fused away) */
  MLC_STORAGE_INPUT,    /* caller's input buffer `index` */
  MLC_STORAGE_OUTPUT,   /* caller's output buffer `index` */
  MLC_STORAGE_WEIGHT,   /* weights blob + offset */
  MLC_STORAGE_ARENA,    /* session arena + offset */
} mlc_storage_kind_t;

typedef struct mlc_storage {
  mlc_storage_kind_t kind;
  int32_t index;  /* INPUT / OUTPUT */
  int64_t offset; /* bytes, for every kind */
} mlc_storage_t;

/* Placement for the partitioning pass: which device, and how the value is
 * split across devices.  Single-device compiles leave it {0, -1}. */
typedef struct mlc_placement {
  int32_t device;
  int32_t shard_axis; /* -1: replicated */
} mlc_placement_t;

typedef struct mlc_node mlc_node_t;

typedef struct mlc_value {
  uint32_t id;
  const char *name; /* ONNX name; "" if none */
  mlc_dtype_t dtype;
  int rank;         /* -1: unknown */
  mlc_dim_t *dims;
  unsigned flags;
  mlc_node_t *producer; /* NULL for inputs and constants */
  int producer_output;
  const void *data; /* constant data, packed, mlc_value_nbytes() long */
  int nuses;        /* filled by mlc_graph_count_uses() */
  mlc_placement_t placement;
  mlc_storage_t storage;
  void *scratch;    /* free for the pass that runs; not preserved */
} mlc_value_t;

/* Number of elements, or -1 when rank or a dim is unknown. */
int64_t mlc_value_numel(const mlc_value_t *v);
/* Bytes of a packed tensor, or -1 when unknown or not byte-sized. */
int64_t mlc_value_nbytes(const mlc_value_t *v);
/* True when rank and every dim are known (bound symbolic dims count). */
bool mlc_value_is_static(const mlc_value_t *v);
static inline bool mlc_value_is_const(const mlc_value_t *v) {
  return v && (v->flags & MLC_VALUE_CONST);
}
/* Reads element `i` of a constant integer-typed value (any int dtype or
 * bool) as int64, or a float-typed one as double. */
int64_t mlc_value_const_int(const mlc_value_t *v, int64_t i);
double mlc_value_const_float(const mlc_value_t *v, int64_t i);

/* ---- nodes -------------------------------------------------------------- */

struct mlc_node {
  uint32_t id;
  mlc_op_t op;
  const char *name;     /* ONNX node name; may be "" */
  const char *onnx_op;  /* ONNX op_type it came from, for messages */
  int ninputs;
  mlc_value_t **inputs; /* NULL entries: absent optional inputs */
  int noutputs;
  mlc_value_t **outputs;
  int nattrs;
  mlc_attr_t *attrs;
  bool dead;
  int group;            /* fusion group, -1 if none */
  void *scratch;
};

const mlc_attr_t *mlc_node_attr(const mlc_node_t *n, const char *name);
int64_t mlc_node_attr_int(const mlc_node_t *n, const char *name, int64_t dflt);
float mlc_node_attr_float(const mlc_node_t *n, const char *name, float dflt);
const char *mlc_node_attr_string(const mlc_node_t *n, const char *name,
                                 const char *dflt);
/* Returns the element count and sets *out_v, or returns -1 if absent. */
int64_t mlc_node_attr_ints(const mlc_node_t *n, const char *name,
                           const int64_t **out_v);
int64_t mlc_node_attr_floats(const mlc_node_t *n, const char *name,
                             const float **out_v);
/* Human description for messages: "node 'conv1' (Conv)". Arena-owned. */
const char *mlc_node_describe(struct mlc_graph *g, const mlc_node_t *n);

/* ---- graphs ------------------------------------------------------------- */

typedef struct mlc_mapping {
  void *addr;
  size_t len;
} mlc_mapping_t;

typedef struct mlc_graph {
  mlc_arena_t arena;
  const char *name;
  int64_t opset; /* default-domain opset the model was imported with */
  MLC_VEC(mlc_node_t *) nodes;
  MLC_VEC(mlc_value_t *) values;
  MLC_VEC(mlc_value_t *) inputs;
  MLC_VEC(mlc_value_t *) outputs;
  MLC_VEC(mlc_mapping_t) mappings; /* munmap'ed on destroy */
  MLC_VEC(void *) heap_blocks;     /* free'd on destroy */
  uint32_t next_value_id, next_node_id;
  /* Filled by plan_memory: session arena size and weights blob size. */
  int64_t arena_bytes, weights_bytes;
} mlc_graph_t;

mlc_status_t *mlc_graph_create(const char *name, mlc_graph_t **out_graph);
void mlc_graph_destroy(mlc_graph_t *g);

/* Creates a value of known dtype and rank; dims copied (may be NULL when
 * rank <= 0).  Returns NULL on out-of-memory. */
mlc_value_t *mlc_graph_add_value(mlc_graph_t *g, const char *name,
                                 mlc_dtype_t dtype, int rank,
                                 const mlc_dim_t *dims);
/* Same, with static int64 dims. */
mlc_value_t *mlc_graph_add_value_static(mlc_graph_t *g, const char *name,
                                        mlc_dtype_t dtype, int rank,
                                        const int64_t *dims);
/* A constant value.  COPY copies `data` into the arena; BORROW keeps the
 * pointer (it must outlive the graph: a mapping or heap block the graph
 * owns, see mlc_graph_adopt_heap / mlc_graph_add_mapping). */
typedef enum { MLC_DATA_COPY, MLC_DATA_BORROW } mlc_data_mode_t;
mlc_value_t *mlc_graph_add_const(mlc_graph_t *g, const char *name,
                                 mlc_dtype_t dtype, int rank,
                                 const int64_t *dims, const void *data,
                                 size_t nbytes, mlc_data_mode_t mode);
/* Convenience: a 1-D i64 constant, and a rank-0 scalar of any dtype. */
mlc_value_t *mlc_graph_add_const_i64s(mlc_graph_t *g, const char *name,
                                      const int64_t *v, int64_t n);
mlc_value_t *mlc_graph_add_const_scalar(mlc_graph_t *g, const char *name,
                                        mlc_dtype_t dtype, double v);
/* Turns an existing value into a constant (constant folding). */
mlc_status_t *mlc_value_set_const(mlc_graph_t *g, mlc_value_t *v,
                                  const void *data, size_t nbytes,
                                  mlc_data_mode_t mode);
bool mlc_graph_adopt_heap(mlc_graph_t *g, void *block);
bool mlc_graph_add_mapping(mlc_graph_t *g, void *addr, size_t len);

/* Appends a node; inputs and outputs copied.  Sets each output's producer.
 * Returns NULL on out-of-memory. */
mlc_node_t *mlc_graph_add_node(mlc_graph_t *g, mlc_op_t op, const char *name,
                               int ninputs, mlc_value_t *const *inputs,
                               int noutputs, mlc_value_t *const *outputs);
/* Attribute setters; false on out-of-memory.  Replace a same-named one. */
bool mlc_node_set_int(mlc_graph_t *g, mlc_node_t *n, const char *name,
                      int64_t v);
bool mlc_node_set_float(mlc_graph_t *g, mlc_node_t *n, const char *name,
                        float v);
bool mlc_node_set_string(mlc_graph_t *g, mlc_node_t *n, const char *name,
                         const char *v);
bool mlc_node_set_ints(mlc_graph_t *g, mlc_node_t *n, const char *name,
                       const int64_t *v, int64_t count);
bool mlc_node_set_floats(mlc_graph_t *g, mlc_node_t *n, const char *name,
                         const float *v, int64_t count);
/* Adds a copy of `a` (shallow for tensors and graphs). */
bool mlc_node_set_attr(mlc_graph_t *g, mlc_node_t *n, const mlc_attr_t *a);

/* Makes every use of `from` (node inputs, graph outputs) use `to`. */
void mlc_graph_replace_uses(mlc_graph_t *g, mlc_value_t *from, mlc_value_t *to);
/* Recomputes value->nuses (graph outputs count as a use). */
void mlc_graph_count_uses(mlc_graph_t *g);
/* Drops dead nodes from `nodes`. */
void mlc_graph_compact(mlc_graph_t *g);
/* Reorders `nodes` topologically; error if there is a cycle. */
mlc_status_t *mlc_graph_toposort(mlc_graph_t *g);

/* ---- text form, verifier (ir/graph_print.c, graph_parse.c, verify.c) ---- */

/* Prints a storage assignment as the text forms show it (" @arena+128",
 * " @in0", nothing for NONE). */
void mlc_storage_print(FILE *out, const mlc_storage_t *s);
/* Deterministic text form; see docs/ir.md.  Constants of more than 16
 * elements print as a digest instead of their elements. */
void mlc_graph_print(const mlc_graph_t *g, FILE *out);
mlc_status_t *mlc_graph_parse(const char *text, size_t len,
                              mlc_graph_t **out_graph);
/* Structural checks: SSA (each value produced once), inputs defined before
 * use, op arity, known dtypes, shapes consistent with constant data. */
mlc_status_t *mlc_graph_verify(const mlc_graph_t *g);

#endif
