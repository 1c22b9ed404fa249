/* Test helper: builds small ONNX ModelProtos with the protobuf-c structs.
 * Every allocation is recorded in a tb_t and released by tb_free(), so a
 * test builds a model, packs it, and frees everything in one call.
 * Shapes are written as strings: "N,3,?,4" (a name is a dim_param, a
 * number a dim_value, '?' neither); NULL means no shape at all. */
#ifndef MLC_TESTS_ONNX_BUILDER_H
#define MLC_TESTS_ONNX_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "onnx/onnx.pb-c.h"

typedef struct tb {
  void **ptrs;
  size_t n, cap;
} tb_t;

static inline void *tb_alloc(tb_t *b, size_t size) {
  if (b->n == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 256;
    b->ptrs = realloc(b->ptrs, b->cap * sizeof *b->ptrs);
  }
  void *p = calloc(1, size ? size : 1);
  b->ptrs[b->n++] = p;
  return p;
}

static inline void tb_free(tb_t *b) {
  for (size_t i = 0; i < b->n; i++) free(b->ptrs[i]);
  free(b->ptrs);
  memset(b, 0, sizeof *b);
}

static inline char *tb_str(tb_t *b, const char *s) {
  char *p = tb_alloc(b, strlen(s) + 1);
  strcpy(p, s);
  return p;
}

/* Appends `x` to a protobuf-c repeated field (array `*arr` of `*n`). */
#define TB_PUSH(b, arr, n, x)                                          \
  do {                                                                 \
    void *na_ = tb_alloc((b), sizeof(*(arr)) * ((n) + 1));             \
    if (n) memcpy(na_, (arr), sizeof(*(arr)) * (n));                   \
    (arr) = na_;                                                       \
    (arr)[(n)++] = (x);                                                \
  } while (0)

/* Splits "a,b,,c" into names ("" for empty entries). */
static inline size_t tb_split(tb_t *b, const char *list, char ***out) {
  *out = NULL;
  size_t n = 0;
  if (!list) return 0;
  const char *p = list;
  for (;;) {
    size_t len = strcspn(p, ",");
    char *s = tb_alloc(b, len + 1);
    memcpy(s, p, len);
    TB_PUSH(b, *out, n, s);
    if (!p[len]) break;
    p += len + 1;
  }
  return n;
}

static inline Onnx__ModelProto *tb_model(tb_t *b, int64_t ir, int64_t opset) {
  Onnx__ModelProto *m = tb_alloc(b, sizeof *m);
  onnx__model_proto__init(m);
  m->has_ir_version = 1;
  m->ir_version = ir;
  Onnx__OperatorSetIdProto *o = tb_alloc(b, sizeof *o);
  onnx__operator_set_id_proto__init(o);
  o->domain = tb_str(b, "");
  o->has_version = 1;
  o->version = opset;
  TB_PUSH(b, m->opset_import, m->n_opset_import, o);
  m->graph = tb_alloc(b, sizeof *m->graph);
  onnx__graph_proto__init(m->graph);
  m->graph->name = tb_str(b, "test");
  return m;
}

static inline Onnx__ValueInfoProto *tb_vi(tb_t *b, const char *name, int elem,
                                          const char *shape) {
  Onnx__ValueInfoProto *vi = tb_alloc(b, sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = tb_str(b, name);
  Onnx__TypeProto *tp = tb_alloc(b, sizeof *tp);
  onnx__type_proto__init(tp);
  Onnx__TypeProto__Tensor *tt = tb_alloc(b, sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = elem;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  if (!shape) return vi;
  tt->shape = tb_alloc(b, sizeof *tt->shape);
  onnx__tensor_shape_proto__init(tt->shape);
  char **parts;
  size_t n = *shape ? tb_split(b, shape, &parts) : 0;
  for (size_t i = 0; i < n; i++) {
    Onnx__TensorShapeProto__Dimension *d = tb_alloc(b, sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if (parts[i][0] >= '0' && parts[i][0] <= '9') {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = strtoll(parts[i], NULL, 10);
    } else if (parts[i][0] == '-') {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = strtoll(parts[i], NULL, 10);
    } else if (strcmp(parts[i], "?") != 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = parts[i];
    }
    TB_PUSH(b, tt->shape->dim, tt->shape->n_dim, d);
  }
  return vi;
}

static inline void tb_input(tb_t *b, Onnx__ModelProto *m, const char *name,
                            int elem, const char *shape) {
  Onnx__ValueInfoProto *vi = tb_vi(b, name, elem, shape);
  TB_PUSH(b, m->graph->input, m->graph->n_input, vi);
}

static inline void tb_output(tb_t *b, Onnx__ModelProto *m, const char *name,
                             int elem, const char *shape) {
  Onnx__ValueInfoProto *vi = tb_vi(b, name, elem, shape);
  TB_PUSH(b, m->graph->output, m->graph->n_output, vi);
}

static inline Onnx__NodeProto *tb_node(tb_t *b, Onnx__ModelProto *m,
                                       const char *op, const char *name,
                                       const char *inputs, const char *outputs) {
  Onnx__NodeProto *n = tb_alloc(b, sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = tb_str(b, op);
  n->name = tb_str(b, name);
  n->n_input = tb_split(b, inputs, &n->input);
  n->n_output = tb_split(b, outputs, &n->output);
  TB_PUSH(b, m->graph->node, m->graph->n_node, n);
  return n;
}

static inline Onnx__AttributeProto *tb_attr(tb_t *b, Onnx__NodeProto *n,
                                            const char *name, int type) {
  Onnx__AttributeProto *a = tb_alloc(b, sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = tb_str(b, name);
  a->has_type = 1;
  a->type = (Onnx__AttributeProto__AttributeType)type;
  TB_PUSH(b, n->attribute, n->n_attribute, a);
  return a;
}

static inline void tb_attr_i(tb_t *b, Onnx__NodeProto *n, const char *name,
                             int64_t v) {
  Onnx__AttributeProto *a = tb_attr(b, n, name, 2);
  a->has_i = 1;
  a->i = v;
}

static inline void tb_attr_f(tb_t *b, Onnx__NodeProto *n, const char *name,
                             float v) {
  Onnx__AttributeProto *a = tb_attr(b, n, name, 1);
  a->has_f = 1;
  a->f = v;
}

static inline void tb_attr_s(tb_t *b, Onnx__NodeProto *n, const char *name,
                             const char *v) {
  Onnx__AttributeProto *a = tb_attr(b, n, name, 3);
  a->has_s = 1;
  a->s.data = (uint8_t *)tb_str(b, v);
  a->s.len = strlen(v);
}

static inline void tb_attr_ints(tb_t *b, Onnx__NodeProto *n, const char *name,
                                size_t count, const int64_t *v) {
  Onnx__AttributeProto *a = tb_attr(b, n, name, 7);
  a->n_ints = count;
  a->ints = tb_alloc(b, count * sizeof *v);
  memcpy(a->ints, v, count * sizeof *v);
}

static inline void tb_attr_floats(tb_t *b, Onnx__NodeProto *n, const char *name,
                                  size_t count, const float *v) {
  Onnx__AttributeProto *a = tb_attr(b, n, name, 6);
  a->n_floats = count;
  a->floats = tb_alloc(b, count * sizeof *v);
  memcpy(a->floats, v, count * sizeof *v);
}

static inline Onnx__TensorProto *tb_tensor(tb_t *b, const char *name, int dt,
                                           size_t rank, const int64_t *dims) {
  Onnx__TensorProto *t = tb_alloc(b, sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = tb_str(b, name);
  t->has_data_type = 1;
  t->data_type = dt;
  t->n_dims = rank;
  t->dims = tb_alloc(b, rank * sizeof *dims);
  if (rank) memcpy(t->dims, dims, rank * sizeof *dims);
  return t;
}

static inline void tb_raw(tb_t *b, Onnx__TensorProto *t, const void *data,
                          size_t n) {
  t->has_raw_data = 1;
  t->raw_data.len = n;
  t->raw_data.data = tb_alloc(b, n);
  memcpy(t->raw_data.data, data, n);
}

static inline void tb_init(tb_t *b, Onnx__ModelProto *m, Onnx__TensorProto *t) {
  TB_PUSH(b, m->graph->initializer, m->graph->n_initializer, t);
}

static inline uint8_t *tb_pack(tb_t *b, const Onnx__ModelProto *m,
                               size_t *len) {
  *len = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = tb_alloc(b, *len);
  onnx__model_proto__pack(m, buf);
  return buf;
}

/* Packs and imports; returns the status, *g set on success. */
static inline mlc_status_t *tb_import(tb_t *b, const Onnx__ModelProto *m,
                                      mlc_graph_t **g) {
  size_t len;
  uint8_t *buf = tb_pack(b, m, &len);
  return mlc_onnx_import_buffer(buf, len, NULL, g);
}

#endif
