/* The graph IR printer: a deterministic, line-oriented text form that
 * graph_parse.c reads back (parse(print(g)) prints identically, except for
 * large constants, whose data prints as a digest; see docs/ir.md).
 *
 * Layout: a header line, one `input` line per graph input, one `const`
 * line per constant that a live node or a graph output uses (in value
 * creation order), one line per live node (node order), one `output` line
 * per graph output.  Values print by their ONNX name when it is a valid
 * identifier shared by no other printed value, otherwise by a number given
 * in print order.  The printer never fails: an out-of-memory while naming
 * falls back to numbering every value by id. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ir/graph_text.h"
#include "ir/program.h"

typedef struct printer {
  const mlc_graph_t *g;
  FILE *out;
  const char **names; /* by value id: printed identifier, or NULL */
  int64_t *numbers;   /* by value id: number when names[id] is NULL */
  unsigned char *shown; /* by value id: 0 not defined by a line, 1 input,
                          2 const line, 3 node output */
  int64_t next_number;
} printer_t;

/* ---- naming ---- */

static int cmp_name(const void *a, const void *b) {
  const mlc_value_t *x = *(mlc_value_t *const *)a, *y = *(mlc_value_t *const *)b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* A constant defined by a `const` line: no live producer. */
static bool is_const_line(const mlc_value_t *v) {
  return mlc_value_is_const(v) && (!v->producer || v->producer->dead);
}

/* Values the printer defines, in print order: inputs, used constants,
 * outputs of live nodes.  Fills `list` (capacity g->values.len + inputs). */
static size_t collect_printed(const mlc_graph_t *g, unsigned char *used,
                              mlc_value_t **list, size_t *out_n_in_const) {
  size_t n = 0;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const mlc_node_t *nd = g->nodes.data[i];
    if (nd->dead) continue;
    for (int k = 0; k < nd->ninputs; k++)
      if (nd->inputs[k]) used[nd->inputs[k]->id] = 1;
  }
  for (size_t i = 0; i < g->outputs.len; i++)
    if (g->outputs.data[i]) used[g->outputs.data[i]->id] = 1;
  for (size_t i = 0; i < g->inputs.len; i++) {
    list[n++] = g->inputs.data[i];
    used[g->inputs.data[i]->id] = 2;
  }
  for (size_t i = 0; i < g->values.len; i++) {
    mlc_value_t *v = g->values.data[i];
    if (is_const_line(v) && used[v->id] == 1) list[n++] = v;
  }
  *out_n_in_const = n;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const mlc_node_t *nd = g->nodes.data[i];
    if (nd->dead) continue;
    for (int k = 0; k < nd->noutputs; k++)
      if (nd->outputs[k]) list[n++] = nd->outputs[k];
  }
  return n;
}

static bool assign_names(printer_t *p) {
  const mlc_graph_t *g = p->g;
  size_t nid = g->next_value_id ? g->next_value_id : 1;
  size_t cap = g->values.len + g->inputs.len + 1;
  unsigned char *used = calloc(nid, 1);
  mlc_value_t **list = calloc(cap, sizeof *list);
  mlc_value_t **sorted = calloc(cap, sizeof *sorted);
  p->names = calloc(nid, sizeof *p->names);
  p->numbers = calloc(nid, sizeof *p->numbers);
  p->shown = calloc(nid, 1);
  bool ok = used && list && sorted && p->names && p->numbers && p->shown;
  if (ok) {
    size_t n_in_const = 0;
    size_t n = collect_printed(g, used, list, &n_in_const);
    memcpy(sorted, list, n * sizeof *list);
    qsort(sorted, n, sizeof *sorted, cmp_name);
    for (size_t i = 0; i < n; i++) {
      const char *nm = sorted[i]->name;
      bool dup = (i > 0 && strcmp(sorted[i - 1]->name, nm) == 0 &&
                  sorted[i - 1] != sorted[i]) ||
                 (i + 1 < n && strcmp(sorted[i + 1]->name, nm) == 0 &&
                  sorted[i + 1] != sorted[i]);
      if (!dup && mlc_text_is_ident(nm)) p->names[sorted[i]->id] = nm;
    }
    for (size_t i = 0; i < n; i++) {
      mlc_value_t *v = list[i];
      if (p->shown[v->id]) continue;
      if (!p->names[v->id]) p->numbers[v->id] = p->next_number++;
      p->shown[v->id] = used[v->id] == 2 ? 1 : i >= n_in_const ? 3 : 2;
    }
  }
  free(used);
  free(list);
  free(sorted);
  return ok;
}

static void print_value_ref(printer_t *p, const mlc_value_t *v) {
  if (!v) {
    fputc('_', p->out);
  } else if (p->names && v->id < p->g->next_value_id && p->names[v->id]) {
    fprintf(p->out, "%%%s", p->names[v->id]);
  } else if (p->numbers && v->id < p->g->next_value_id && p->shown[v->id]) {
    fprintf(p->out, "%%%" PRId64, p->numbers[v->id]);
  } else {
    /* Not defined by any printed line (the verifier rejects this). */
    fprintf(p->out, "%%undefined.%u", (unsigned)v->id);
  }
}

/* ---- strings, numbers, types ---- */

static void print_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
    if (*c == '"' || *c == '\\') fprintf(out, "\\%c", *c);
    else if (*c == '\n') fputs("\\n", out);
    else if (*c < 0x20 || *c >= 0x7f) fprintf(out, "\\x%02x", *c);
    else fputc(*c, out);
  }
  fputc('"', out);
}

static void print_name_or_string(FILE *out, const char *s) {
  if (mlc_text_is_ident(s)) fputs(s, out);
  else print_string(out, s);
}

/* A float attribute: always recognisable as a float (has '.', 'e', or is
 * inf/nan) so the parser can tell it from an int. */
static void print_float_attr(FILE *out, float f) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.9g", (double)f);
  fputs(buf, out);
  if (!strpbrk(buf, ".eEin")) fputs(".0", out);
}

static void print_dims(FILE *out, int rank, const mlc_dim_t *dims) {
  fputc('[', out);
  if (rank < 0) fputc('*', out);
  for (int i = 0; i < rank; i++) {
    if (i) fputc(',', out);
    if (dims[i].sym) {
      print_name_or_string(out, dims[i].sym);
      if (dims[i].value >= 0) fprintf(out, "=%" PRId64, dims[i].value);
    } else if (dims[i].value >= 0) {
      fprintf(out, "%" PRId64, dims[i].value);
    } else {
      fputc('?', out);
    }
  }
  fputc(']', out);
}

void mlc_storage_print(FILE *out, const mlc_storage_t *s) {
  switch (s->kind) {
  case MLC_STORAGE_NONE: break;
  case MLC_STORAGE_INPUT: fprintf(out, " @in%d", (int)s->index); break;
  case MLC_STORAGE_OUTPUT: fprintf(out, " @out%d", (int)s->index); break;
  case MLC_STORAGE_WEIGHT: fprintf(out, " @weight+%" PRId64, s->offset); break;
  case MLC_STORAGE_ARENA: fprintf(out, " @arena+%" PRId64, s->offset); break;
  }
  if ((s->kind == MLC_STORAGE_INPUT || s->kind == MLC_STORAGE_OUTPUT) &&
      s->offset)
    fprintf(out, "+%" PRId64, s->offset);
}

/* dtype, shape, storage, placement and the fused flag of a value. */
static void print_type(FILE *out, const mlc_value_t *v) {
  fputs(mlc_dtype_name(v->dtype), out);
  print_dims(out, v->rank, v->dims);
  mlc_storage_print(out, &v->storage);
  if (v->flags & MLC_VALUE_FUSED) fputs(" fused", out);
  if (v->placement.device != 0 || v->placement.shard_axis != -1)
    fprintf(out, " place(%d, %d)", (int)v->placement.device,
            (int)v->placement.shard_axis);
}

/* ---- tensor data ---- */

static bool printable_elems(mlc_dtype_t dt) {
  return mlc_dtype_is_int(dt) || mlc_dtype_is_float(dt) || dt == MLC_DT_BOOL;
}

static void print_elem(FILE *out, mlc_dtype_t dt, const void *data, int64_t i) {
  const unsigned char *p = data;
  switch (dt) {
  case MLC_DT_F32: { float f; memcpy(&f, p + 4 * i, 4); fprintf(out, "%.9g", (double)f); break; }
  case MLC_DT_F64: { double d; memcpy(&d, p + 8 * i, 8); fprintf(out, "%.17g", d); break; }
  case MLC_DT_F16: case MLC_DT_BF16: {
    uint16_t h; memcpy(&h, p + 2 * i, 2); fprintf(out, "0x%04x", h); break; }
  case MLC_DT_U64: { uint64_t u; memcpy(&u, p + 8 * i, 8); fprintf(out, "%" PRIu64, u); break; }
  case MLC_DT_I64: { int64_t x; memcpy(&x, p + 8 * i, 8); fprintf(out, "%" PRId64, x); break; }
  case MLC_DT_I32: { int32_t x; memcpy(&x, p + 4 * i, 4); fprintf(out, "%" PRId32, x); break; }
  case MLC_DT_U32: { uint32_t x; memcpy(&x, p + 4 * i, 4); fprintf(out, "%" PRIu32, x); break; }
  case MLC_DT_I16: { int16_t x; memcpy(&x, p + 2 * i, 2); fprintf(out, "%d", x); break; }
  case MLC_DT_U16: { uint16_t x; memcpy(&x, p + 2 * i, 2); fprintf(out, "%u", x); break; }
  case MLC_DT_I8: fprintf(out, "%d", (int)(int8_t)p[i]); break;
  default: fprintf(out, "%u", (unsigned)p[i]); break; /* u8, bool */
  }
}

static bool all_zero(const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++)
    if (p[i]) return false;
  return true;
}

/* `[e0, e1, ...]` for small printable tensors, else a digest. */
static void print_data(FILE *out, mlc_dtype_t dt, int64_t numel,
                       const void *data, int64_t nbytes) {
  if (!data || numel < 0 || nbytes < 0) {
    fputs("<no data>", out);
    return;
  }
  if (numel <= MLC_GRAPH_TEXT_MAX_CONST_ELEMS && printable_elems(dt)) {
    fputc('[', out);
    for (int64_t i = 0; i < numel; i++) {
      if (i) fputs(", ", out);
      print_elem(out, dt, data, i);
    }
    fputc(']', out);
    return;
  }
  fprintf(out, "<%" PRId64 " x %s, ", numel, mlc_dtype_name(dt));
  if (all_zero(data, (size_t)nbytes)) fputs("zeros>", out);
  else fprintf(out, "fnv:%016" PRIx64 ">", mlc_fnv1a64(data, (size_t)nbytes));
}

static void print_tensor(FILE *out, const mlc_tensor_t *t) {
  if (!t) {
    fputs("<no tensor>", out);
    return;
  }
  fputs(mlc_dtype_name(t->dtype), out);
  fputc('[', out);
  int64_t numel = 1;
  for (int i = 0; i < t->rank; i++) {
    fprintf(out, i ? ",%" PRId64 : "%" PRId64, t->dims[i]);
    numel *= t->dims[i];
  }
  fputs("] ", out);
  print_data(out, t->dtype, numel, t->data, (int64_t)t->nbytes);
}

/* ---- attributes ---- */

static void print_attr_value(FILE *out, const mlc_attr_t *a) {
  static const char *const list_kind[] = {
      [MLC_ATTR_FLOATS] = "floats", [MLC_ATTR_INTS] = "ints",
      [MLC_ATTR_STRINGS] = "strings", [MLC_ATTR_TENSORS] = "tensors",
      [MLC_ATTR_GRAPHS] = "graphs"};
  switch (a->kind) {
  case MLC_ATTR_FLOAT: print_float_attr(out, a->f); return;
  case MLC_ATTR_INT: fprintf(out, "%" PRId64, a->i); return;
  case MLC_ATTR_STRING: print_string(out, a->s); return;
  case MLC_ATTR_TENSOR: print_tensor(out, a->t); return;
  case MLC_ATTR_GRAPH:
    fputs("graph<", out);
    print_name_or_string(out, a->g ? a->g->name : "");
    fputc('>', out);
    return;
  default: break;
  }
  int64_t n = a->ints.n; /* every list member of the union starts with n */
  if (n == 0) {
    fprintf(out, "%s[]", list_kind[a->kind]);
    return;
  }
  fputc('[', out);
  for (int64_t i = 0; i < n; i++) {
    if (i) fputs(", ", out);
    switch (a->kind) {
    case MLC_ATTR_FLOATS: print_float_attr(out, a->floats.v[i]); break;
    case MLC_ATTR_INTS: fprintf(out, "%" PRId64, a->ints.v[i]); break;
    case MLC_ATTR_STRINGS: print_string(out, a->strings.v[i]); break;
    case MLC_ATTR_TENSORS: print_tensor(out, a->tensors.v[i]); break;
    default:
      fputs("graph<", out);
      print_name_or_string(out, a->graphs.v[i] ? a->graphs.v[i]->name : "");
      fputc('>', out);
      break;
    }
  }
  fputc(']', out);
}

static void print_attrs(FILE *out, const mlc_node_t *n) {
  if (!n->nattrs) return;
  fputs(" {", out);
  for (int i = 0; i < n->nattrs; i++) {
    if (i) fputs(", ", out);
    print_name_or_string(out, n->attrs[i].name);
    fputs(" = ", out);
    print_attr_value(out, &n->attrs[i]);
  }
  fputc('}', out);
}

/* ---- lines ---- */

static void print_header(printer_t *p) {
  const mlc_graph_t *g = p->g;
  fputs("graph ", p->out);
  print_name_or_string(p->out, g->name ? g->name : "");
  fprintf(p->out, " opset %" PRId64, g->opset);
  if (g->arena_bytes) fprintf(p->out, " arena %" PRId64, g->arena_bytes);
  if (g->weights_bytes) fprintf(p->out, " weights %" PRId64, g->weights_bytes);
  fputc('\n', p->out);
}

static void print_const_data(printer_t *p, const mlc_value_t *v) {
  fputs(" = ", p->out);
  print_data(p->out, v->dtype, mlc_value_numel(v), v->data, mlc_value_nbytes(v));
}

static void print_node(printer_t *p, const mlc_node_t *n) {
  FILE *out = p->out;
  fputs("  ", out);
  for (int k = 0; k < n->noutputs; k++) {
    if (k) fputs(", ", out);
    print_value_ref(p, n->outputs[k]);
  }
  fprintf(out, " = %s(", mlc_op_name(n->op));
  for (int k = 0; k < n->ninputs; k++) {
    if (k) fputs(", ", out);
    print_value_ref(p, n->inputs[k]);
  }
  fputc(')', out);
  print_attrs(out, n);
  fputs(" : ", out);
  for (int k = 0; k < n->noutputs; k++) {
    if (k) fputs(", ", out);
    if (n->outputs[k]) print_type(out, n->outputs[k]);
    else fputc('_', out);
  }
  if (n->group >= 0) fprintf(out, " group=%d", n->group);
  if (n->name && n->name[0]) {
    fputs(" name=", out);
    print_string(out, n->name);
  }
  fputc('\n', out);
}

void mlc_graph_print(const mlc_graph_t *g, FILE *out) {
  printer_t p = {.g = g, .out = out};
  if (!assign_names(&p)) {
    free(p.names);
    free(p.numbers);
    free(p.shown);
    p.names = NULL;
    p.numbers = NULL;
    p.shown = NULL;
  }
  print_header(&p);
  for (size_t i = 0; i < g->inputs.len; i++) {
    const mlc_value_t *v = g->inputs.data[i];
    fputs("  input ", out);
    print_value_ref(&p, v);
    fputs(" : ", out);
    print_type(out, v);
    if (mlc_value_is_const(v)) print_const_data(&p, v);
    fputc('\n', out);
  }
  for (size_t i = 0; i < g->values.len && p.shown; i++) {
    const mlc_value_t *v = g->values.data[i];
    if (p.shown[v->id] != 2) continue;
    fputs("  const ", out);
    print_value_ref(&p, v);
    fputs(" : ", out);
    print_type(out, v);
    print_const_data(&p, v);
    fputc('\n', out);
  }
  for (size_t i = 0; i < g->nodes.len; i++)
    if (!g->nodes.data[i]->dead) print_node(&p, g->nodes.data[i]);
  for (size_t i = 0; i < g->outputs.len; i++) {
    fputs("  output ", out);
    print_value_ref(&p, g->outputs.data[i]);
    fputc('\n', out);
  }
  free(p.names);
  free(p.numbers);
  free(p.shown);
}
