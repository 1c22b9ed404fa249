/* Private interfaces of the ONNX importer, shared by its files:
 *   onnx_wire.c    wire-format nesting guard and protobuf-c unpacking
 *   onnx_tensor.c  TensorProto decoding (typed fields, raw, external data)
 *   onnx_function.c  inlining of model-local functions
 *   onnx_names.c   name -> value table used while importing a graph
 *   onnx_import.c  ModelProto -> graph: values, nodes, attributes, checks
 *   onnx_ops.c     the op table and opset normalization
 * Everything here assumes a little-endian host (as ONNX raw_data is). */
#ifndef MLC_FRONTEND_ONNX_INTERNAL_H
#define MLC_FRONTEND_ONNX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "ir/graph.h"
#include "onnx/onnx.pb-c.h"

/* Deepest message nesting accepted before unpacking (protobuf-c recurses). */
#define MLC_ONNX_MAX_NESTING 64
/* Largest tensor rank accepted. */
#define MLC_ONNX_MAX_RANK 64
/* Most function-body nodes (calls included) that inlining may copy in
 * all: 8 levels of 16 calls each would otherwise be 16^8 = 4 * 10^9. */
#define MLC_ONNX_MAX_INLINED_NODES 1000000
/* Most inputs of one imported Sum, Mean, Max or Min; wider ones become a
 * chain (onnx_decomp.c). */
#define MLC_ONNX_MAX_VARIADIC 32
/* Newest default-domain opset the op table knows. */
#define MLC_ONNX_MAX_OPSET 28

/* ---- onnx_wire.c ---- */

/* Walks the wire format of `desc` messages iteratively and fails with
 * MLC_INVALID_MODEL when sub-messages nest deeper than the limit.  Other
 * malformations are left to protobuf-c. */
mlc_status_t *mlc_onnx_wire_check_depth(const uint8_t *data, size_t len,
                                        const ProtobufCMessageDescriptor *desc,
                                        int max_depth);
mlc_status_t *mlc_onnx_unpack_model(const void *data, size_t len,
                                    Onnx__ModelProto **out_model);
mlc_status_t *mlc_onnx_unpack_tensor(const void *data, size_t len,
                                     Onnx__TensorProto **out_tensor);
/* Reads a whole regular file into a malloc'ed buffer (base/file.h: a FIFO
 * or a device is refused, not waited on). */
mlc_status_t *mlc_onnx_read_file(const char *path, void **out_data,
                                 size_t *out_len);

/* ---- onnx_tensor.c ---- */

typedef enum {
  MLC_ONNX_DATA_PROTO, /* points into the unpacked proto (raw_data) */
  MLC_ONNX_DATA_HEAP,  /* malloc'ed block, owned by the decoded tensor */
  MLC_ONNX_DATA_MAP,   /* inside an mmap'ed region, owned too */
} mlc_onnx_data_kind_t;

typedef struct mlc_onnx_tensor {
  mlc_dtype_t dtype;
  int rank;
  const int64_t *dims; /* the proto's dims */
  const void *data;
  size_t nbytes;
  mlc_onnx_data_kind_t kind;
  void *heap;          /* HEAP: block to free */
  void *map_addr;      /* MAP: region to munmap */
  size_t map_len;
} mlc_onnx_tensor_t;

/* Checks dtype and dims of `tp` and finds its data (raw_data, a typed
 * field, or external data relative to `base_dir`).  `what` names the
 * tensor in messages ("tensor 'w'", "node 'c' (Constant): attribute
 * 'value'").  On success the caller owns out's heap/map. */
mlc_status_t *mlc_onnx_tensor_decode(const Onnx__TensorProto *tp,
                                     const char *base_dir, const char *what,
                                     mlc_onnx_tensor_t *out);
void mlc_onnx_tensor_release(mlc_onnx_tensor_t *t);
/* Decodes `tp` and hands its data to `g`: raw_data is stolen from the
 * proto (no copy), typed data adopted, external data borrowed from a
 * mapping the graph keeps.  Fills dtype, rank, dims (arena) and data. */
mlc_status_t *mlc_onnx_tensor_to_graph(mlc_graph_t *g, Onnx__TensorProto *tp,
                                       const char *base_dir, const char *what,
                                       mlc_tensor_t *out);
/* Checks an ONNX elem_type number; `what` names the place. */
mlc_status_t *mlc_onnx_dtype_check(int64_t dt, const char *what,
                                   mlc_dtype_t *out);

/* ---- onnx_attr.c ---- */

/* Converts one attribute into `out` (arena-owned).  Kinds the importer does
 * not handle (graphs, sparse tensors, type protos) set *why instead. */
mlc_status_t *mlc_onnx_attr_convert(mlc_graph_t *g, Onnx__AttributeProto *a,
                                    const char *base_dir, const char *desc,
                                    mlc_attr_t *out, const char **why);

/* Checks the kind of `a`, an attribute of a default-domain `op_type`
 * node that the op table imports, against the ONNX schemas: MLC_INVALID_MODEL naming node and
 * attribute when it differs ("node 't' (Transpose): attribute 'perm' is
 * floats, should be ints").  An int where a float is expected becomes
 * that float.  Names no reader knows pass unchecked. */
mlc_status_t *mlc_onnx_attr_check_kind(const char *op_type, mlc_attr_t *a,
                                       const char *desc);

/* ---- onnx_function.c ---- */

/* The graph's node list with calls of model-local functions replaced by
 * their bodies, and the default-domain opset of each node.  Arena-owned. */
mlc_status_t *mlc_onnx_expand_functions(const Onnx__ModelProto *m,
                                        int64_t opset, mlc_arena_t *ar,
                                        Onnx__NodeProto ***out_nodes,
                                        int64_t **out_opsets, size_t *out_n);

/* ---- onnx_names.c ---- */

typedef struct mlc_onnx_names {
  const char **keys;
  void **vals;
  size_t cap, len;
} mlc_onnx_names_t;

void mlc_onnx_names_deinit(mlc_onnx_names_t *t);
/* false on out-of-memory; replaces an existing entry. */
bool mlc_onnx_names_put(mlc_onnx_names_t *t, const char *key, void *val);
void *mlc_onnx_names_get(const mlc_onnx_names_t *t, const char *key);

/* ---- onnx_ops.c ---- */

/* One node being converted.  The importer fills the ONNX view (proto,
 * inputs, outputs, converted attributes); the op's normalizer turns it into
 * the core form (op, inputs, attrs) before the node is added. */
typedef struct mlc_onnx_node {
  mlc_graph_t *g;
  const Onnx__NodeProto *np;
  int64_t opset;
  const char *desc; /* "node 'conv1' (Conv)" */
  mlc_op_t op;
  mlc_value_t **in; /* capacity np->n_input + 8 */
  int nin;
  mlc_value_t **out;
  int nout;
  bool *out_used;   /* per output: consumed by a node or a graph output */
  mlc_attr_t *attrs; /* capacity np->n_attribute + 8 */
  int nattrs;
  /* Set by the normalizer when the node is a constant (Constant) or
   * vanishes (Dropout -> Identity keeps a node; nothing vanishes yet). */
  bool is_const;
  mlc_tensor_t const_value;
} mlc_onnx_node_t;

typedef enum {
  MLC_ONNX_OP_OK,
  MLC_ONNX_OP_UNKNOWN, /* no table entry for this op at this opset */
} mlc_onnx_op_find_t;

/* Looks the op up and normalizes `n`.  Returns NULL and sets *unknown when
 * the table has no entry (or the normalizer declines a form it cannot
 * express: *why says which); an error status for invalid nodes. */
mlc_status_t *mlc_onnx_op_convert(mlc_onnx_node_t *n, bool *unknown,
                                  const char **why);

/* Attribute helpers for normalizers. */
mlc_attr_t *mlc_onnx_attr_find(mlc_onnx_node_t *n, const char *name);
void mlc_onnx_attr_remove(mlc_onnx_node_t *n, const char *name);
bool mlc_onnx_attr_set_int(mlc_onnx_node_t *n, const char *name, int64_t v);

#endif
