/* Graph IR construction and queries: values, nodes, attributes, use lists
 * and ordering.  Printing, parsing and verification live in their own
 * files.  See graph.h for the ownership rules. */
#include "ir/graph.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const mlc_op_info_t op_table[MLC_OP_COUNT_] = {
#define MLC_OP(nm, mi, ma, mo, mx, fl) {#nm, mi, ma, mo, mx, fl},
#include "ir/ops.def"
#undef MLC_OP
};

const mlc_op_info_t *mlc_op_info(mlc_op_t op) { return &op_table[op]; }

bool mlc_op_lookup(const char *name, size_t len, mlc_op_t *out) {
  for (int i = 0; i < MLC_OP_COUNT_; i++) {
    if (strlen(op_table[i].name) == len &&
        memcmp(op_table[i].name, name, len) == 0) {
      *out = (mlc_op_t)i;
      return true;
    }
  }
  return false;
}

/* ---- values ---- */

int64_t mlc_value_numel(const mlc_value_t *v) {
  if (v->rank < 0) return -1;
  int64_t n = 1;
  for (int i = 0; i < v->rank; i++) {
    if (v->dims[i].value < 0) return -1;
    if (v->dims[i].value && n > INT64_MAX / v->dims[i].value) return -1;
    n *= v->dims[i].value;
  }
  return n;
}

int64_t mlc_value_nbytes(const mlc_value_t *v) {
  int64_t n = mlc_value_numel(v);
  size_t es = mlc_dtype_size(v->dtype);
  if (n < 0 || es == 0 || (n && (uint64_t)n > INT64_MAX / es)) return -1;
  return n * (int64_t)es;
}

bool mlc_value_is_static(const mlc_value_t *v) {
  return mlc_value_numel(v) >= 0;
}

int64_t mlc_value_const_int(const mlc_value_t *v, int64_t i) {
  const void *p = v->data;
  switch (v->dtype) {
  case MLC_DT_BOOL: case MLC_DT_U8: return ((const uint8_t *)p)[i];
  case MLC_DT_I8: return ((const int8_t *)p)[i];
  case MLC_DT_U16: return ((const uint16_t *)p)[i];
  case MLC_DT_I16: return ((const int16_t *)p)[i];
  case MLC_DT_U32: return ((const uint32_t *)p)[i];
  case MLC_DT_I32: return ((const int32_t *)p)[i];
  case MLC_DT_U64: return (int64_t)((const uint64_t *)p)[i];
  case MLC_DT_I64: return ((const int64_t *)p)[i];
  case MLC_DT_F32: return (int64_t)((const float *)p)[i];
  case MLC_DT_F64: return (int64_t)((const double *)p)[i];
  default: return 0;
  }
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f,
           man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal: normalise */
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) {
        man <<= 1;
        exp--;
      }
      bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

double mlc_value_const_float(const mlc_value_t *v, int64_t i) {
  const void *p = v->data;
  switch (v->dtype) {
  case MLC_DT_F32: return ((const float *)p)[i];
  case MLC_DT_F64: return ((const double *)p)[i];
  case MLC_DT_F16: return half_to_float(((const uint16_t *)p)[i]);
  case MLC_DT_BF16: {
    uint32_t bits = (uint32_t)((const uint16_t *)p)[i] << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
  }
  case MLC_DT_U64: return (double)((const uint64_t *)p)[i];
  default: return (double)mlc_value_const_int(v, i);
  }
}

/* ---- graph ---- */

mlc_status_t *mlc_graph_create(const char *name, mlc_graph_t **out_graph) {
  *out_graph = NULL;
  mlc_graph_t *g = calloc(1, sizeof *g);
  if (!g) return MLC_ERR(OUT_OF_MEMORY, "creating graph");
  mlc_arena_init(&g->arena);
  g->name = mlc_arena_strdup(&g->arena, name ? name : "main");
  if (!g->name) {
    mlc_graph_destroy(g);
    return MLC_ERR(OUT_OF_MEMORY, "creating graph");
  }
  *out_graph = g;
  return NULL;
}

void mlc_graph_destroy(mlc_graph_t *g) {
  if (!g) return;
  for (size_t i = 0; i < g->mappings.len; i++)
    munmap(g->mappings.data[i].addr, g->mappings.data[i].len);
  for (size_t i = 0; i < g->heap_blocks.len; i++) free(g->heap_blocks.data[i]);
  MLC_VEC_FREE(&g->mappings);
  MLC_VEC_FREE(&g->heap_blocks);
  MLC_VEC_FREE(&g->nodes);
  MLC_VEC_FREE(&g->values);
  MLC_VEC_FREE(&g->inputs);
  MLC_VEC_FREE(&g->outputs);
  mlc_arena_deinit(&g->arena);
  free(g);
}

bool mlc_graph_adopt_heap(mlc_graph_t *g, void *block) {
  return MLC_VEC_PUSH(&g->heap_blocks, block);
}

bool mlc_graph_add_mapping(mlc_graph_t *g, void *addr, size_t len) {
  mlc_mapping_t m = {addr, len};
  return MLC_VEC_PUSH(&g->mappings, m);
}

mlc_value_t *mlc_graph_add_value(mlc_graph_t *g, const char *name,
                                 mlc_dtype_t dtype, int rank,
                                 const mlc_dim_t *dims) {
  mlc_value_t *v = mlc_arena_alloc(&g->arena, sizeof *v);
  if (!v) return NULL;
  v->id = g->next_value_id++;
  v->name = mlc_arena_strdup(&g->arena, name ? name : "");
  v->dtype = dtype;
  v->rank = rank;
  v->placement.shard_axis = -1;
  if (rank > 0) {
    v->dims = mlc_arena_calloc(&g->arena, (size_t)rank, sizeof *v->dims);
    if (!v->dims) return NULL;
    for (int i = 0; i < rank; i++) {
      v->dims[i] = dims ? dims[i] : (mlc_dim_t){-1, NULL};
      if (v->dims[i].sym)
        v->dims[i].sym = mlc_arena_strdup(&g->arena, v->dims[i].sym);
    }
  }
  if (!v->name || !MLC_VEC_PUSH(&g->values, v)) return NULL;
  return v;
}

mlc_value_t *mlc_graph_add_value_static(mlc_graph_t *g, const char *name,
                                        mlc_dtype_t dtype, int rank,
                                        const int64_t *dims) {
  mlc_value_t *v = mlc_graph_add_value(g, name, dtype, rank, NULL);
  if (v)
    for (int i = 0; i < rank; i++) v->dims[i].value = dims[i];
  return v;
}

mlc_status_t *mlc_value_set_const(mlc_graph_t *g, mlc_value_t *v,
                                  const void *data, size_t nbytes,
                                  mlc_data_mode_t mode) {
  int64_t want = mlc_value_nbytes(v);
  if (want < 0 || (size_t)want != nbytes)
    return MLC_ERR(INVALID_MODEL,
                   "constant '%s': %zu bytes of data for a %s tensor of "
                   "%lld bytes",
                   v->name, nbytes, mlc_dtype_name(v->dtype), (long long)want);
  if (mode == MLC_DATA_COPY) {
    data = mlc_arena_memdup(&g->arena, data, nbytes);
    if (!data) return MLC_ERR(OUT_OF_MEMORY, "constant '%s'", v->name);
  }
  v->data = data;
  v->flags |= MLC_VALUE_CONST;
  return NULL;
}

mlc_value_t *mlc_graph_add_const(mlc_graph_t *g, const char *name,
                                 mlc_dtype_t dtype, int rank,
                                 const int64_t *dims, const void *data,
                                 size_t nbytes, mlc_data_mode_t mode) {
  mlc_value_t *v = mlc_graph_add_value_static(g, name, dtype, rank, dims);
  if (!v) return NULL;
  mlc_status_t *st = mlc_value_set_const(g, v, data, nbytes, mode);
  if (st) {
    mlc_status_free(st);
    return NULL;
  }
  return v;
}

mlc_value_t *mlc_graph_add_const_i64s(mlc_graph_t *g, const char *name,
                                      const int64_t *v, int64_t n) {
  return mlc_graph_add_const(g, name, MLC_DT_I64, 1, &n, v,
                             (size_t)n * sizeof(int64_t), MLC_DATA_COPY);
}

mlc_value_t *mlc_graph_add_const_scalar(mlc_graph_t *g, const char *name,
                                        mlc_dtype_t dtype, double x) {
  unsigned char buf[16] = {0};
  switch (dtype) {
  case MLC_DT_F32: { float f = (float)x; memcpy(buf, &f, 4); break; }
  case MLC_DT_F64: memcpy(buf, &x, 8); break;
  case MLC_DT_I64: case MLC_DT_U64: {
    int64_t i = (int64_t)x; memcpy(buf, &i, 8); break; }
  case MLC_DT_I32: case MLC_DT_U32: {
    int32_t i = (int32_t)x; memcpy(buf, &i, 4); break; }
  case MLC_DT_I16: case MLC_DT_U16: {
    int16_t i = (int16_t)x; memcpy(buf, &i, 2); break; }
  case MLC_DT_I8: case MLC_DT_U8: case MLC_DT_BOOL: buf[0] = (unsigned char)(int)x; break;
  default: return NULL; /* f16/bf16 scalars: build the bits yourself */
  }
  return mlc_graph_add_const(g, name, dtype, 0, NULL, buf,
                             mlc_dtype_size(dtype), MLC_DATA_COPY);
}

/* ---- nodes ---- */

mlc_node_t *mlc_graph_add_node(mlc_graph_t *g, mlc_op_t op, const char *name,
                               int ninputs, mlc_value_t *const *inputs,
                               int noutputs, mlc_value_t *const *outputs) {
  mlc_node_t *n = mlc_arena_alloc(&g->arena, sizeof *n);
  if (!n) return NULL;
  n->id = g->next_node_id++;
  n->op = op;
  n->group = -1;
  n->name = mlc_arena_strdup(&g->arena, name ? name : "");
  n->onnx_op = mlc_op_name(op);
  n->ninputs = ninputs;
  n->noutputs = noutputs;
  n->inputs = mlc_arena_calloc(&g->arena, (size_t)(ninputs + 1), sizeof *n->inputs);
  n->outputs = mlc_arena_calloc(&g->arena, (size_t)(noutputs + 1), sizeof *n->outputs);
  if (!n->name || !n->inputs || !n->outputs) return NULL;
  for (int i = 0; i < ninputs; i++) n->inputs[i] = inputs[i];
  for (int i = 0; i < noutputs; i++) {
    n->outputs[i] = outputs[i];
    if (outputs[i]) {
      outputs[i]->producer = n;
      outputs[i]->producer_output = i;
    }
  }
  if (!MLC_VEC_PUSH(&g->nodes, n)) return NULL;
  return n;
}

const mlc_attr_t *mlc_node_attr(const mlc_node_t *n, const char *name) {
  for (int i = 0; i < n->nattrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

int64_t mlc_node_attr_int(const mlc_node_t *n, const char *name, int64_t d) {
  const mlc_attr_t *a = mlc_node_attr(n, name);
  return a && a->kind == MLC_ATTR_INT ? a->i : d;
}

float mlc_node_attr_float(const mlc_node_t *n, const char *name, float d) {
  const mlc_attr_t *a = mlc_node_attr(n, name);
  if (a && a->kind == MLC_ATTR_FLOAT) return a->f;
  if (a && a->kind == MLC_ATTR_INT) return (float)a->i;
  return d;
}

const char *mlc_node_attr_string(const mlc_node_t *n, const char *name,
                                 const char *d) {
  const mlc_attr_t *a = mlc_node_attr(n, name);
  return a && a->kind == MLC_ATTR_STRING ? a->s : d;
}

int64_t mlc_node_attr_ints(const mlc_node_t *n, const char *name,
                           const int64_t **out_v) {
  const mlc_attr_t *a = mlc_node_attr(n, name);
  if (!a || a->kind != MLC_ATTR_INTS) return -1;
  *out_v = a->ints.v;
  return a->ints.n;
}

int64_t mlc_node_attr_floats(const mlc_node_t *n, const char *name,
                             const float **out_v) {
  const mlc_attr_t *a = mlc_node_attr(n, name);
  if (!a || a->kind != MLC_ATTR_FLOATS) return -1;
  *out_v = a->floats.v;
  return a->floats.n;
}

/* Unnamed nodes (exporters often leave names empty) are identified by
 * their first output's name, which the user can find in the model. */
const char *mlc_node_describe(mlc_graph_t *g, const mlc_node_t *n) {
  const char *op = n->onnx_op ? n->onnx_op : mlc_op_name(n->op);
  const mlc_value_t *out = n->noutputs > 0 ? n->outputs[0] : NULL;
  const char *s;
  if (n->name && n->name[0])
    s = mlc_arena_printf(&g->arena, "node '%s' (%s)", n->name, op);
  else if (out && out->name && out->name[0])
    s = mlc_arena_printf(&g->arena, "node (%s) producing '%s'", op, out->name);
  else
    s = mlc_arena_printf(&g->arena, "node #%u (%s)", (unsigned)n->id, op);
  return s ? s : "node";
}

bool mlc_node_set_attr(mlc_graph_t *g, mlc_node_t *n, const mlc_attr_t *a) {
  for (int i = 0; i < n->nattrs; i++) {
    if (strcmp(n->attrs[i].name, a->name) == 0) {
      n->attrs[i] = *a;
      return true;
    }
  }
  mlc_attr_t *na = mlc_arena_calloc(&g->arena, (size_t)n->nattrs + 1, sizeof *na);
  if (!na) return false;
  if (n->nattrs) memcpy(na, n->attrs, (size_t)n->nattrs * sizeof *na);
  na[n->nattrs] = *a;
  na[n->nattrs].name = mlc_arena_strdup(&g->arena, a->name);
  if (!na[n->nattrs].name) return false;
  n->attrs = na;
  n->nattrs++;
  return true;
}

bool mlc_node_set_int(mlc_graph_t *g, mlc_node_t *n, const char *name,
                      int64_t v) {
  mlc_attr_t a = {.name = name, .kind = MLC_ATTR_INT, .i = v};
  return mlc_node_set_attr(g, n, &a);
}

bool mlc_node_set_float(mlc_graph_t *g, mlc_node_t *n, const char *name,
                        float v) {
  mlc_attr_t a = {.name = name, .kind = MLC_ATTR_FLOAT, .f = v};
  return mlc_node_set_attr(g, n, &a);
}

bool mlc_node_set_string(mlc_graph_t *g, mlc_node_t *n, const char *name,
                         const char *v) {
  mlc_attr_t a = {.name = name, .kind = MLC_ATTR_STRING,
                  .s = mlc_arena_strdup(&g->arena, v)};
  return a.s && mlc_node_set_attr(g, n, &a);
}

bool mlc_node_set_ints(mlc_graph_t *g, mlc_node_t *n, const char *name,
                       const int64_t *v, int64_t count) {
  mlc_attr_t a = {.name = name, .kind = MLC_ATTR_INTS};
  a.ints.n = count;
  a.ints.v = mlc_arena_memdup(&g->arena, v, (size_t)count * sizeof *v);
  return a.ints.v && mlc_node_set_attr(g, n, &a);
}

bool mlc_node_set_floats(mlc_graph_t *g, mlc_node_t *n, const char *name,
                         const float *v, int64_t count) {
  mlc_attr_t a = {.name = name, .kind = MLC_ATTR_FLOATS};
  a.floats.n = count;
  a.floats.v = mlc_arena_memdup(&g->arena, v, (size_t)count * sizeof *v);
  return a.floats.v && mlc_node_set_attr(g, n, &a);
}

/* ---- whole-graph edits ---- */

void mlc_graph_replace_uses(mlc_graph_t *g, mlc_value_t *from,
                            mlc_value_t *to) {
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    for (int k = 0; k < n->ninputs; k++)
      if (n->inputs[k] == from) n->inputs[k] = to;
  }
  for (size_t i = 0; i < g->outputs.len; i++)
    if (g->outputs.data[i] == from) g->outputs.data[i] = to;
}

void mlc_graph_count_uses(mlc_graph_t *g) {
  for (size_t i = 0; i < g->values.len; i++) g->values.data[i]->nuses = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    for (int k = 0; k < n->ninputs; k++)
      if (n->inputs[k]) n->inputs[k]->nuses++;
  }
  for (size_t i = 0; i < g->outputs.len; i++) g->outputs.data[i]->nuses++;
}

void mlc_graph_compact(mlc_graph_t *g) {
  size_t j = 0;
  for (size_t i = 0; i < g->nodes.len; i++)
    if (!g->nodes.data[i]->dead) g->nodes.data[j++] = g->nodes.data[i];
  g->nodes.len = j;
}

/* Kahn's algorithm over live nodes, stable with respect to current order. */
mlc_status_t *mlc_graph_toposort(mlc_graph_t *g) {
  mlc_graph_compact(g);
  size_t n = g->nodes.len;
  mlc_node_t **order = malloc((n + 1) * sizeof *order);
  unsigned char *done = calloc(n + 1, 1);
  if (!order || !done) {
    free(order);
    free(done);
    return MLC_ERR(OUT_OF_MEMORY, "sorting graph");
  }
  for (size_t i = 0; i < n; i++) g->nodes.data[i]->scratch = (void *)(i + 1);
  size_t placed = 0;
  bool progress = true;
  while (placed < n && progress) {
    progress = false;
    for (size_t i = 0; i < n; i++) {
      if (done[i]) continue;
      mlc_node_t *nd = g->nodes.data[i];
      bool ready = true;
      for (int k = 0; k < nd->ninputs && ready; k++) {
        mlc_value_t *v = nd->inputs[k];
        if (v && v->producer && !v->producer->dead) {
          size_t pi = (size_t)v->producer->scratch;
          if (pi && !done[pi - 1]) ready = false;
        }
      }
      if (ready) {
        done[i] = 1;
        order[placed++] = nd;
        progress = true;
      }
    }
  }
  for (size_t i = 0; i < n; i++) g->nodes.data[i]->scratch = NULL;
  if (placed < n) {
    free(order);
    free(done);
    return MLC_ERR(INVALID_MODEL, "the graph has a cycle");
  }
  memcpy(g->nodes.data, order, n * sizeof *order);
  free(order);
  free(done);
  return NULL;
}
