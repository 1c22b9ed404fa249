/* Graph summaries for `mlc inspect` (see graph_stats.h).  The FLOPs rules
 * are deliberately simple: it is an estimate to compare models, not a
 * cost model. */
#include "tools/graph_stats.h"

#include <stdlib.h>
#include <string.h>

void mlc_stats_format_value(const mlc_value_t *v, char *buf, size_t cap) {
  size_t len = (size_t)snprintf(buf, cap, "%s ", mlc_dtype_name(v->dtype));
  if (v->rank < 0) {
    if (len < cap) snprintf(buf + len, cap - len, "[unknown rank]");
    return;
  }
  if (len < cap) len += (size_t)snprintf(buf + len, cap - len, "[");
  for (int d = 0; d < v->rank && len < cap; d++) {
    const mlc_dim_t *dim = &v->dims[d];
    const char *sep = d ? ", " : "";
    if (dim->sym)
      len += (size_t)snprintf(buf + len, cap - len, "%s%s", sep, dim->sym);
    else if (dim->value >= 0)
      len += (size_t)snprintf(buf + len, cap - len, "%s%lld", sep,
                              (long long)dim->value);
    else
      len += (size_t)snprintf(buf + len, cap - len, "%s?", sep);
  }
  if (len < cap) snprintf(buf + len, cap - len, "]");
}

static const char *op_type(const mlc_node_t *n) {
  return n->onnx_op && *n->onnx_op ? n->onnx_op : mlc_op_name(n->op);
}

typedef struct op_count {
  const char *op;
  int count;
} op_count_t;

static int cmp_count(const void *a, const void *b) {
  const op_count_t *x = a, *y = b;
  if (x->count != y->count) return y->count - x->count;
  return strcmp(x->op, y->op);
}

int mlc_stats_print_histogram(const mlc_graph_t *g, FILE *out) {
  op_count_t *counts = calloc(g->nodes.len + 1, sizeof *counts);
  size_t n = 0;
  int live = 0;
  if (!counts) return -1;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const mlc_node_t *node = g->nodes.data[i];
    if (node->dead) continue;
    live++;
    size_t j = 0;
    while (j < n && strcmp(counts[j].op, op_type(node)) != 0) j++;
    if (j == n) counts[n++].op = op_type(node);
    counts[j].count++;
  }
  qsort(counts, n, sizeof *counts, cmp_count);
  for (size_t j = 0; j < n; j++)
    fprintf(out, "  %6d  %s\n", counts[j].count, counts[j].op);
  free(counts);
  return live;
}

int64_t mlc_stats_param_count(const mlc_graph_t *g, int64_t *out_bytes) {
  int64_t elems = 0, bytes = 0;
  for (size_t i = 0; i < g->values.len; i++) {
    const mlc_value_t *v = g->values.data[i];
    if (!mlc_value_is_const(v)) continue;
    int64_t n = mlc_value_numel(v), b = mlc_value_nbytes(v);
    if (n > 0) elems += n;
    if (b > 0) bytes += b;
  }
  if (out_bytes) *out_bytes = bytes;
  return elems;
}

/* Multiply-accumulates of one MatMul/Gemm/Conv node, or -1 if unknown. */
static int64_t node_macs(const mlc_node_t *n) {
  const mlc_value_t *a = n->inputs[0], *b = n->ninputs > 1 ? n->inputs[1] : NULL;
  const mlc_value_t *y = n->outputs[0];
  int64_t out = mlc_value_numel(y);
  if (!a || !b || out < 0 || a->rank < 1 || b->rank < 1) return -1;
  int64_t k = -1;
  if (n->op == MLC_OP_MatMul) {
    k = a->dims[a->rank - 1].value;
  } else if (n->op == MLC_OP_Gemm) {
    bool trans_a = mlc_node_attr_int(n, "transA", 0) != 0;
    if (a->rank != 2) return -1;
    k = a->dims[trans_a ? 0 : 1].value;
  } else if (n->op == MLC_OP_Conv) {
    /* Each output element reads C/group * prod(kernel) weights. */
    int64_t w = mlc_value_numel(b);
    int64_t m = b->dims[0].value;
    if (w < 0 || m <= 0) return -1;
    k = w / m;
  }
  return k < 0 ? -1 : out * k;
}

int64_t mlc_stats_flops(const mlc_graph_t *g, int *out_unknown) {
  int64_t flops = 0;
  int unknown = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const mlc_node_t *n = g->nodes.data[i];
    if (n->dead || n->noutputs < 1 || !n->outputs[0]) continue;
    if (n->op == MLC_OP_MatMul || n->op == MLC_OP_Gemm || n->op == MLC_OP_Conv) {
      int64_t macs = node_macs(n);
      if (macs < 0) unknown++;
      else flops += 2 * macs;
    } else if (mlc_op_info(n->op)->flags & MLC_OPF_ELEM) {
      int64_t e = mlc_value_numel(n->outputs[0]);
      if (e < 0) unknown++;
      else flops += e;
    }
  }
  if (out_unknown) *out_unknown = unknown;
  return flops;
}

/* ---- Graphviz ---------------------------------------------------------- */

static void dot_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', out);
    if (*s == '\n') fputs("\\n", out);
    else fputc(*s, out);
  }
  fputc('"', out);
}

static void dot_value_label(FILE *out, const mlc_value_t *v) {
  char shape[256], label[512];
  mlc_stats_format_value(v, shape, sizeof shape);
  snprintf(label, sizeof label, "%s\n%s", v->name, shape);
  dot_string(out, label);
}

static void dot_nodes(const mlc_graph_t *g, FILE *out) {
  for (size_t i = 0; i < g->inputs.len; i++) {
    fprintf(out, "  v%u [shape=ellipse, label=", g->inputs.data[i]->id);
    dot_value_label(out, g->inputs.data[i]);
    fputs("];\n", out);
  }
  for (size_t i = 0; i < g->nodes.len; i++) {
    const mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    char label[512];
    snprintf(label, sizeof label, "%s%s%s", op_type(n),
             n->name && *n->name ? "\n" : "", n->name ? n->name : "");
    fprintf(out, "  n%u [label=", n->id);
    dot_string(out, label);
    fputs("];\n", out);
  }
  for (size_t i = 0; i < g->outputs.len; i++) {
    fprintf(out, "  out%zu [shape=ellipse, style=bold, label=", i);
    dot_value_label(out, g->outputs.data[i]);
    fputs("];\n", out);
  }
}

/* The dot name of what produces `v`, or NULL for constants: initializers,
 * and values whose producer was folded away (the node is dead, the value
 * now holds its data) are left out like the boxes they would come from. */
static const char *dot_source(const mlc_value_t *v, char *buf, size_t cap) {
  if (mlc_value_is_const(v)) return NULL;
  if (v->producer && !v->producer->dead) snprintf(buf, cap, "n%u", v->producer->id);
  else if (!v->producer && (v->flags & MLC_VALUE_INPUT)) snprintf(buf, cap, "v%u", v->id);
  else return NULL;
  return buf;
}

static void dot_edge(FILE *out, const mlc_value_t *v, const char *dst) {
  char src[32], shape[256];
  if (!dot_source(v, src, sizeof src)) return;
  if (v->rank >= 0) mlc_stats_format_value(v, shape, sizeof shape);
  else snprintf(shape, sizeof shape, "%s", v->name);
  fprintf(out, "  %s -> %s [label=", src, dst);
  dot_string(out, shape);
  fputs("];\n", out);
}

void mlc_stats_print_dot(const mlc_graph_t *g, FILE *out) {
  fputs("digraph ", out);
  dot_string(out, g->name && *g->name ? g->name : "model");
  fputs(" {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n"
        "  edge [fontname=\"Helvetica\", fontsize=10];\n", out);
  dot_nodes(g, out);
  for (size_t i = 0; i < g->nodes.len; i++) {
    const mlc_node_t *n = g->nodes.data[i];
    if (n->dead) continue;
    char dst[32];
    snprintf(dst, sizeof dst, "n%u", n->id);
    for (int k = 0; k < n->ninputs; k++)
      if (n->inputs[k]) dot_edge(out, n->inputs[k], dst);
  }
  for (size_t i = 0; i < g->outputs.len; i++) {
    char dst[32];
    snprintf(dst, sizeof dst, "out%zu", i);
    dot_edge(out, g->outputs.data[i], dst);
  }
  fputs("}\n", out);
}
