/* The graph IR parser: reads the text form written by graph_print.c (see
 * docs/ir.md) into a new graph.  A hand-written recursive descent over
 * characters; each statement is one line, `//` starts a comment.
 *
 * Values must be defined (input, const, or node output) before they are
 * used, so the node order of the text is a valid topological order.  Large
 * constants given as a digest (`<N x f32, fnv:...>` or `<N x f32, zeros>`)
 * are filled with zeros.  Graph attributes are not supported.
 *
 * Errors are MLC_INVALID_ARGUMENT statuses whose message gives line:column,
 * the line itself and a caret under the column.  The lexical helpers
 * (mlc_gp_*) are in graph_parse_lex.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "ir/graph_parse.h"
#include "ir/graph_text.h"

/* ---- the value table ---- */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static entry_t *lookup(parser_t *p, const char *key) {
  if (!p->cap) return NULL;
  for (size_t i = hash_str(key) & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
    if (!p->tab[i].key) return &p->tab[i];
    if (strcmp(p->tab[i].key, key) == 0) return &p->tab[i];
  }
}

static bool table_add(parser_t *p, const char *key, mlc_value_t *v) {
  if ((p->count + 1) * 2 > p->cap) {
    size_t ncap = p->cap ? p->cap * 2 : 64;
    entry_t *old = p->tab;
    size_t ocap = p->cap;
    p->tab = calloc(ncap, sizeof *p->tab);
    if (!p->tab) {
      p->tab = old;
      return false;
    }
    p->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
      if (old[i].key) *lookup(p, old[i].key) = old[i];
    free(old);
  }
  *lookup(p, key) = (entry_t){key, v};
  p->count++;
  return true;
}

/* Reads `%name` or `%123`; *out_key is the arena-owned key. */
static mlc_status_t *value_ref(parser_t *p, const char **out_key) {
  mlc_gp_skip_ws(p);
  if (mlc_gp_peek(p) != '%') return PERR(p, "expected a value (%%name)");
  size_t b = ++p->pos;
  while (p->pos < p->len && mlc_text_ident_char(p->s[p->pos])) p->pos++;
  if (p->pos == b) return PERR(p, "expected a value name after '%%'");
  *out_key = mlc_arena_strndup(&p->g->arena, p->s + b, p->pos - b);
  return *out_key ? NULL : OOM(p);
}

static mlc_status_t *use_value(parser_t *p, mlc_value_t **out) {
  size_t at = (mlc_gp_skip_ws(p), p->pos);
  const char *key;
  MLC_RETURN_IF(value_ref(p, &key));
  entry_t *e = lookup(p, key);
  if (!e || !e->key) return mlc_gp_perr_at(p, at, "undefined value %%%s", key);
  *out = e->v;
  return NULL;
}

static mlc_status_t *define_value(parser_t *p, const char *key, size_t at,
                                  mlc_value_t *v) {
  entry_t *e = lookup(p, key);
  if (e && e->key) return mlc_gp_perr_at(p, at, "value %%%s is defined twice", key);
  return table_add(p, key, v) ? NULL : OOM(p);
}

/* ---- types ---- */

static mlc_status_t *dtype(parser_t *p, mlc_dtype_t *out) {
  size_t n, at = (mlc_gp_skip_ws(p), p->pos);
  const char *s = mlc_gp_ident(p, &n);
  if (!n || !mlc_dtype_parse(s, n, out)) return mlc_gp_perr_at(p, at, "expected a dtype");
  return NULL;
}

typedef MLC_VEC(mlc_dim_t) dim_vec_t;

/* `[d, ...]`, `[*]` (rank -1) or `[]` (rank 0). */
static mlc_status_t *dims(parser_t *p, dim_vec_t *dv, int *out_rank) {
  MLC_RETURN_IF(mlc_gp_expect(p, '['));
  dv->len = 0;
  if (mlc_gp_accept(p, '*')) {
    *out_rank = -1;
    return mlc_gp_expect(p, ']');
  }
  if (!mlc_gp_accept(p, ']')) {
    do {
      mlc_dim_t d = {-1, NULL};
      size_t n;
      const char *s = mlc_gp_ident(p, &n);
      mlc_gp_skip_ws(p);
      if (n || mlc_gp_peek(p) == '"') {
        if (n && !(d.sym = mlc_arena_strndup(&p->g->arena, s, n))) return OOM(p);
        if (!n) MLC_RETURN_IF(mlc_gp_string(p, &d.sym));
        if (mlc_gp_accept(p, '=')) MLC_RETURN_IF(mlc_gp_integer(p, &d.value));
      } else if (!mlc_gp_accept(p, '?')) {
        MLC_RETURN_IF(mlc_gp_integer(p, &d.value));
        if (d.value < 0) return PERR(p, "negative dim");
      }
      if (!MLC_VEC_PUSH(dv, d)) return OOM(p);
    } while (mlc_gp_accept(p, ','));
    MLC_RETURN_IF(mlc_gp_expect(p, ']'));
  }
  *out_rank = (int)dv->len;
  return NULL;
}

static mlc_status_t *storage(parser_t *p, mlc_storage_t *st) {
  size_t n, at = (mlc_gp_skip_ws(p), p->pos);
  const char *s = mlc_gp_ident(p, &n);
  int64_t x = 0;
  if (n > 2 && memcmp(s, "in", 2) == 0 && s[2] >= '0' && s[2] <= '9') {
    st->kind = MLC_STORAGE_INPUT;
    x = strtoll(s + 2, NULL, 10);
  } else if (n > 3 && memcmp(s, "out", 3) == 0 && s[3] >= '0' && s[3] <= '9') {
    st->kind = MLC_STORAGE_OUTPUT;
    x = strtoll(s + 3, NULL, 10);
  } else if (n == 6 && memcmp(s, "weight", 6) == 0) {
    st->kind = MLC_STORAGE_WEIGHT;
  } else if (n == 5 && memcmp(s, "arena", 5) == 0) {
    st->kind = MLC_STORAGE_ARENA;
  } else {
    return mlc_gp_perr_at(p, at, "expected in<N>, out<N>, weight or arena after '@'");
  }
  st->index = (int32_t)x;
  if (mlc_gp_accept(p, '+')) MLC_RETURN_IF(mlc_gp_integer(p, &st->offset));
  return NULL;
}

/* TYPE [@storage] [fused] [place(d, s)]; creates the value. */
static mlc_status_t *typed_value(parser_t *p, const char *key, dim_vec_t *dv,
                                 mlc_value_t **out) {
  mlc_dtype_t dt;
  int rank;
  MLC_RETURN_IF(dtype(p, &dt));
  MLC_RETURN_IF(dims(p, dv, &rank));
  bool numbered = key[0] >= '0' && key[0] <= '9';
  mlc_value_t *v = mlc_graph_add_value(p->g, numbered ? "" : key, dt, rank, dv->data);
  if (!v) return OOM(p);
  if (mlc_gp_accept(p, '@')) MLC_RETURN_IF(storage(p, &v->storage));
  if (mlc_gp_keyword(p, "fused")) v->flags |= MLC_VALUE_FUSED;
  if (mlc_gp_keyword(p, "place")) {
    int64_t d, s;
    MLC_RETURN_IF(mlc_gp_expect(p, '('));
    MLC_RETURN_IF(mlc_gp_integer(p, &d));
    MLC_RETURN_IF(mlc_gp_expect(p, ','));
    MLC_RETURN_IF(mlc_gp_integer(p, &s));
    MLC_RETURN_IF(mlc_gp_expect(p, ')'));
    v->placement = (mlc_placement_t){(int32_t)d, (int32_t)s};
  }
  *out = v;
  return NULL;
}

/* ---- tensor data ---- */

static void store_elem(mlc_dtype_t dt, void *data, int64_t i, const num_t *n) {
  unsigned char *p = data;
  switch (dt) {
  case MLC_DT_F32: { float f = n->is_float ? (float)n->f : (float)n->i; memcpy(p + 4 * i, &f, 4); break; }
  case MLC_DT_F64: { double d = n->is_float ? n->f : (double)n->i; memcpy(p + 8 * i, &d, 8); break; }
  case MLC_DT_F16: case MLC_DT_BF16: case MLC_DT_I16: case MLC_DT_U16: {
    uint16_t h = (uint16_t)n->u; memcpy(p + 2 * i, &h, 2); break; }
  case MLC_DT_I32: case MLC_DT_U32: { uint32_t x = (uint32_t)n->u; memcpy(p + 4 * i, &x, 4); break; }
  case MLC_DT_I64: case MLC_DT_U64: memcpy(p + 8 * i, &n->u, 8); break;
  default: p[i] = (unsigned char)n->u; break;
  }
}

/* `[e, ...]` with exactly `numel` elements, or `<numel x dt, zeros|fnv:H>`.
 * Returns arena-owned data of `nbytes`. */
static mlc_status_t *tensor_data(parser_t *p, mlc_dtype_t dt, int64_t numel,
                                 size_t nbytes, void **out) {
  size_t at = (mlc_gp_skip_ws(p), p->pos);
  void *data = mlc_arena_alloc(&p->g->arena, nbytes ? nbytes : 1);
  if (!data) return OOM(p);
  *out = data;
  if (mlc_gp_accept(p, '<')) {
    int64_t n;
    mlc_dtype_t dt2;
    size_t kl;
    MLC_RETURN_IF(mlc_gp_integer(p, &n));
    const char *x = mlc_gp_ident(p, &kl);
    if (kl != 1 || *x != 'x') return PERR(p, "expected 'x' in a digest");
    MLC_RETURN_IF(dtype(p, &dt2));
    if (n != numel || dt2 != dt)
      return mlc_gp_perr_at(p, at, "digest says %" PRId64 " x %s, the type %" PRId64 " x %s",
                     n, mlc_dtype_name(dt2), numel, mlc_dtype_name(dt));
    MLC_RETURN_IF(mlc_gp_expect(p, ','));
    if (mlc_gp_keyword(p, "fnv")) {
      MLC_RETURN_IF(mlc_gp_expect(p, ':'));
      while (p->pos < p->len && mlc_gp_hexval(p->s[p->pos]) >= 0) p->pos++;
    } else if (!mlc_gp_keyword(p, "zeros")) {
      return PERR(p, "expected 'zeros' or 'fnv:HEX'");
    }
    return mlc_gp_expect(p, '>');
  }
  if (mlc_dtype_size(dt) == 0 || !(mlc_dtype_is_int(dt) || mlc_dtype_is_float(dt) ||
                                   dt == MLC_DT_BOOL))
    return mlc_gp_perr_at(p, at, "elements of %s cannot be written out; use a digest",
                   mlc_dtype_name(dt));
  MLC_RETURN_IF(mlc_gp_expect(p, '['));
  int64_t i = 0;
  if (!mlc_gp_accept(p, ']')) {
    do {
      num_t n;
      size_t eat = (mlc_gp_skip_ws(p), p->pos);
      MLC_RETURN_IF(mlc_gp_number(p, &n));
      if (i >= numel) return mlc_gp_perr_at(p, eat, "more than %" PRId64 " elements", numel);
      if (n.is_float && !mlc_dtype_is_float(dt))
        return mlc_gp_perr_at(p, eat, "float element in a %s tensor", mlc_dtype_name(dt));
      store_elem(dt, data, i++, &n);
    } while (mlc_gp_accept(p, ','));
    MLC_RETURN_IF(mlc_gp_expect(p, ']'));
  }
  if (i != numel)
    return mlc_gp_perr_at(p, at, "%" PRId64 " elements for a tensor of %" PRId64, i, numel);
  return NULL;
}

/* ---- attributes ---- */

static mlc_status_t *attr_tensor(parser_t *p, mlc_tensor_t **out) {
  mlc_tensor_t *t = mlc_arena_alloc(&p->g->arena, sizeof *t);
  if (!t) return OOM(p);
  MLC_RETURN_IF(dtype(p, &t->dtype));
  MLC_RETURN_IF(mlc_gp_expect(p, '['));
  MLC_VEC(int64_t) dv = {0};
  mlc_status_t *st = NULL;
  if (!mlc_gp_accept(p, ']')) {
    do {
      int64_t d;
      if ((st = mlc_gp_integer(p, &d))) break;
      if (d < 0) { st = PERR(p, "negative dim"); break; }
      if (!MLC_VEC_PUSH(&dv, d)) { st = OOM(p); break; }
    } while (mlc_gp_accept(p, ','));
    if (!st) st = mlc_gp_expect(p, ']');
  }
  int64_t numel = 1;
  for (size_t i = 0; i < dv.len; i++) numel *= dv.data[i];
  t->rank = (int)dv.len;
  if (!st && dv.len && !(t->dims = mlc_arena_memdup(&p->g->arena, dv.data, dv.len * 8)))
    st = OOM(p);
  MLC_VEC_FREE(&dv);
  MLC_RETURN_IF(st);
  t->nbytes = (size_t)numel * mlc_dtype_size(t->dtype);
  void *data;
  MLC_RETURN_IF(tensor_data(p, t->dtype, numel, t->nbytes, &data));
  t->data = data;
  *out = t;
  return NULL;
}

typedef MLC_VEC(num_t) num_vec_t;

static mlc_status_t *attr_list(parser_t *p, mlc_attr_t *a) {
  mlc_arena_t *ar = &p->g->arena;
  mlc_gp_skip_ws(p);
  int c = mlc_gp_peek(p);
  if (c == '"') {
    MLC_VEC(const char *) sv = {0};
    mlc_status_t *st = NULL;
    do {
      const char *s;
      if ((st = mlc_gp_string(p, &s))) break;
      if (!MLC_VEC_PUSH(&sv, s)) { st = OOM(p); break; }
    } while (mlc_gp_accept(p, ','));
    a->kind = MLC_ATTR_STRINGS;
    a->strings.n = (int64_t)sv.len;
    if (!st && !(a->strings.v = mlc_arena_memdup(ar, sv.data, sv.len * sizeof *sv.data)))
      st = OOM(p);
    MLC_VEC_FREE(&sv);
    MLC_RETURN_IF(st);
    return mlc_gp_expect(p, ']');
  }
  size_t n0;
  size_t save = p->pos;
  const char *w = mlc_gp_ident(p, &n0);
  bool is_num_word = (n0 == 3 && (memcmp(w, "inf", 3) == 0 || memcmp(w, "nan", 3) == 0));
  p->pos = save;
  if (n0 && !is_num_word) {
    MLC_VEC(mlc_tensor_t *) tv = {0};
    mlc_status_t *st = NULL;
    do {
      mlc_tensor_t *t;
      if ((st = attr_tensor(p, &t))) break;
      if (!MLC_VEC_PUSH(&tv, t)) { st = OOM(p); break; }
    } while (mlc_gp_accept(p, ','));
    a->kind = MLC_ATTR_TENSORS;
    a->tensors.n = (int64_t)tv.len;
    if (!st && !(a->tensors.v = mlc_arena_memdup(ar, tv.data, tv.len * sizeof *tv.data)))
      st = OOM(p);
    MLC_VEC_FREE(&tv);
    MLC_RETURN_IF(st);
    return mlc_gp_expect(p, ']');
  }
  /* numbers: floats if any element is written as a float */
  num_vec_t nv = {0};
  mlc_status_t *st = NULL;
  bool any_float = false;
  do {
    num_t n;
    if ((st = mlc_gp_number(p, &n))) break;
    any_float |= n.is_float;
    if (!MLC_VEC_PUSH(&nv, n)) { st = OOM(p); break; }
  } while (mlc_gp_accept(p, ','));
  if (!st) st = mlc_gp_expect(p, ']');
  a->kind = any_float ? MLC_ATTR_FLOATS : MLC_ATTR_INTS;
  a->ints.n = (int64_t)nv.len;
  if (!st && any_float) {
    if (!(a->floats.v = mlc_arena_calloc(ar, nv.len + 1, sizeof(float)))) st = OOM(p);
    for (size_t i = 0; !st && i < nv.len; i++) a->floats.v[i] = (float)nv.data[i].f;
  } else if (!st) {
    if (!(a->ints.v = mlc_arena_calloc(ar, nv.len + 1, sizeof(int64_t)))) st = OOM(p);
    for (size_t i = 0; !st && i < nv.len; i++) a->ints.v[i] = nv.data[i].i;
  }
  MLC_VEC_FREE(&nv);
  return st;
}

static mlc_status_t *empty_list(parser_t *p, const char *kw, size_t n,
                                mlc_attr_t *a, bool *out_found) {
  static const struct { const char *kw; mlc_attr_kind_t kind; } kinds[] = {
      {"ints", MLC_ATTR_INTS}, {"floats", MLC_ATTR_FLOATS},
      {"strings", MLC_ATTR_STRINGS}, {"tensors", MLC_ATTR_TENSORS},
      {"graphs", MLC_ATTR_GRAPHS}};
  *out_found = false;
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    if (strlen(kinds[i].kw) == n && memcmp(kinds[i].kw, kw, n) == 0) {
      a->kind = kinds[i].kind;
      a->ints.n = 0;
      *out_found = true;
      MLC_RETURN_IF(mlc_gp_expect(p, '['));
      return mlc_gp_expect(p, ']');
    }
  }
  return NULL;
}

static mlc_status_t *attr_value(parser_t *p, mlc_attr_t *a) {
  mlc_gp_skip_ws(p);
  size_t at = p->pos;
  int c = mlc_gp_peek(p);
  if (c == '"') {
    a->kind = MLC_ATTR_STRING;
    return mlc_gp_string(p, &a->s);
  }
  if (c == '[') {
    p->pos++;
    if (mlc_gp_accept(p, ']')) {
      a->kind = MLC_ATTR_INTS;
      return NULL;
    }
    return attr_list(p, a);
  }
  size_t n;
  const char *s = mlc_gp_ident(p, &n);
  if (n == 5 && memcmp(s, "graph", 5) == 0)
    return mlc_gp_perr_at(p, at, "graph attributes are not supported by the parser");
  bool found;
  MLC_RETURN_IF(empty_list(p, s, n, a, &found));
  if (found) return NULL;
  mlc_dtype_t dt;
  if (n && mlc_dtype_parse(s, n, &dt)) {
    p->pos = at;
    a->kind = MLC_ATTR_TENSOR;
    return attr_tensor(p, &a->t);
  }
  p->pos = at;
  num_t num;
  MLC_RETURN_IF(mlc_gp_number(p, &num));
  a->kind = num.is_float ? MLC_ATTR_FLOAT : MLC_ATTR_INT;
  if (num.is_float) a->f = (float)num.f;
  else a->i = num.i;
  return NULL;
}

static mlc_status_t *attrs(parser_t *p, mlc_node_t *nd) {
  if (!mlc_gp_accept(p, '{')) return NULL;
  if (mlc_gp_accept(p, '}')) return NULL;
  do {
    mlc_attr_t a = {0};
    size_t at = (mlc_gp_skip_ws(p), p->pos);
    MLC_RETURN_IF(mlc_gp_name_or_string(p, &a.name));
    MLC_RETURN_IF(mlc_gp_expect(p, '='));
    MLC_RETURN_IF(attr_value(p, &a));
    if (mlc_node_attr(nd, a.name))
      return mlc_gp_perr_at(p, at, "attribute '%s' given twice", a.name);
    if (!mlc_node_set_attr(p->g, nd, &a)) return OOM(p);
  } while (mlc_gp_accept(p, ','));
  return mlc_gp_expect(p, '}');
}

/* ---- statements ---- */

static mlc_status_t *header(parser_t *p) {
  if (!mlc_gp_keyword(p, "graph")) return PERR(p, "expected 'graph NAME opset N'");
  MLC_RETURN_IF(mlc_gp_name_or_string(p, &p->g->name));
  if (!mlc_gp_keyword(p, "opset")) return PERR(p, "expected 'opset'");
  MLC_RETURN_IF(mlc_gp_integer(p, &p->g->opset));
  if (mlc_gp_keyword(p, "arena")) MLC_RETURN_IF(mlc_gp_integer(p, &p->g->arena_bytes));
  if (mlc_gp_keyword(p, "weights")) MLC_RETURN_IF(mlc_gp_integer(p, &p->g->weights_bytes));
  return mlc_gp_end_of_line(p);
}

/* input %x : TYPE [= DATA]   and   const %w : TYPE = DATA */
static mlc_status_t *input_or_const(parser_t *p, bool is_input, dim_vec_t *dv) {
  const char *key;
  size_t at = (mlc_gp_skip_ws(p), p->pos);
  MLC_RETURN_IF(value_ref(p, &key));
  MLC_RETURN_IF(mlc_gp_expect(p, ':'));
  mlc_value_t *v;
  MLC_RETURN_IF(typed_value(p, key, dv, &v));
  MLC_RETURN_IF(define_value(p, key, at, v));
  if (is_input) {
    v->flags |= MLC_VALUE_INPUT;
    if (!MLC_VEC_PUSH(&p->g->inputs, v)) return OOM(p);
  }
  if (!is_input || mlc_gp_accept(p, '=')) {
    if (is_input == false) MLC_RETURN_IF(mlc_gp_expect(p, '='));
    int64_t nbytes = mlc_value_nbytes(v);
    if (nbytes < 0)
      return mlc_gp_perr_at(p, at, "constant %%%s needs a static shape and a sized dtype",
                     key);
    void *data;
    MLC_RETURN_IF(tensor_data(p, v->dtype, mlc_value_numel(v), (size_t)nbytes, &data));
    MLC_RETURN_IF_ERROR(mlc_value_set_const(p->g, v, data, (size_t)nbytes,
                                            MLC_DATA_BORROW),
                        "value %%%s", key);
  }
  return mlc_gp_end_of_line(p);
}

static mlc_status_t *output_stmt(parser_t *p) {
  mlc_value_t *v;
  MLC_RETURN_IF(use_value(p, &v));
  v->flags |= MLC_VALUE_OUTPUT;
  if (!MLC_VEC_PUSH(&p->g->outputs, v)) return OOM(p);
  return mlc_gp_end_of_line(p);
}

typedef MLC_VEC(const char *) key_vec_t;
typedef MLC_VEC(size_t) pos_vec_t;
typedef MLC_VEC(mlc_value_t *) val_vec_t;

/* `%a, _, %b =` : output keys (NULL for `_`) and their columns. */
static mlc_status_t *node_lhs(parser_t *p, key_vec_t *keys, pos_vec_t *at) {
  do {
    const char *key = NULL;
    size_t col = (mlc_gp_skip_ws(p), p->pos);
    if (!mlc_gp_accept(p, '_')) MLC_RETURN_IF(value_ref(p, &key));
    if (!MLC_VEC_PUSH(keys, key) || !MLC_VEC_PUSH(at, col)) return OOM(p);
  } while (mlc_gp_accept(p, ','));
  return mlc_gp_expect(p, '=');
}

static mlc_status_t *node_inputs(parser_t *p, val_vec_t *ins) {
  MLC_RETURN_IF(mlc_gp_expect(p, '('));
  if (mlc_gp_accept(p, ')')) return NULL;
  do {
    mlc_value_t *v = NULL;
    if (!mlc_gp_accept(p, '_')) MLC_RETURN_IF(use_value(p, &v));
    if (!MLC_VEC_PUSH(ins, v)) return OOM(p);
  } while (mlc_gp_accept(p, ','));
  return mlc_gp_expect(p, ')');
}

/* `: TYPE, _, TYPE` matching the outputs; defines them. */
static mlc_status_t *node_types(parser_t *p, mlc_node_t *nd, key_vec_t *keys,
                                pos_vec_t *at, dim_vec_t *dv) {
  MLC_RETURN_IF(mlc_gp_expect(p, ':'));
  for (int k = 0; k < nd->noutputs; k++) {
    if (k) MLC_RETURN_IF(mlc_gp_expect(p, ','));
    if (!keys->data[k]) {
      if (!mlc_gp_accept(p, '_')) return PERR(p, "expected '_' for an absent output");
      continue;
    }
    mlc_value_t *v;
    MLC_RETURN_IF(typed_value(p, keys->data[k], dv, &v));
    nd->outputs[k] = v;
    v->producer = nd;
    v->producer_output = k;
    MLC_RETURN_IF(define_value(p, keys->data[k], at->data[k], v));
  }
  return NULL;
}

static mlc_status_t *node_tail(parser_t *p, mlc_node_t *nd) {
  if (mlc_gp_keyword(p, "group")) {
    int64_t grp;
    MLC_RETURN_IF(mlc_gp_expect(p, '='));
    MLC_RETURN_IF(mlc_gp_integer(p, &grp));
    nd->group = (int)grp;
  }
  if (mlc_gp_keyword(p, "name")) {
    MLC_RETURN_IF(mlc_gp_expect(p, '='));
    MLC_RETURN_IF(mlc_gp_string(p, &nd->name));
  }
  return mlc_gp_end_of_line(p);
}

static mlc_status_t *node_stmt(parser_t *p, dim_vec_t *dv) {
  key_vec_t keys = {0};
  pos_vec_t at = {0};
  val_vec_t ins = {0};
  mlc_status_t *st = node_lhs(p, &keys, &at);
  size_t n, op_at = (mlc_gp_skip_ws(p), p->pos);
  const char *opname = mlc_gp_ident(p, &n);
  mlc_op_t op;
  if (!st && !mlc_op_lookup(opname, n, &op))
    st = mlc_gp_perr_at(p, op_at, n ? "unknown op '%.*s'" : "expected an op name%.*s",
                 (int)n, opname);
  if (!st) st = node_inputs(p, &ins);
  mlc_node_t *nd = NULL;
  if (!st) {
    mlc_value_t **outs = calloc(keys.len + 1, sizeof *outs);
    nd = outs ? mlc_graph_add_node(p->g, op, "", (int)ins.len, ins.data,
                                   (int)keys.len, outs)
              : NULL;
    free(outs);
    if (!nd) st = OOM(p);
  }
  if (!st) st = attrs(p, nd);
  if (!st) st = node_types(p, nd, &keys, &at, dv);
  if (!st) st = node_tail(p, nd);
  MLC_VEC_FREE(&keys);
  MLC_VEC_FREE(&at);
  MLC_VEC_FREE(&ins);
  return st;
}

static mlc_status_t *statement(parser_t *p, dim_vec_t *dv) {
  if (mlc_gp_keyword(p, "input")) return input_or_const(p, true, dv);
  if (mlc_gp_keyword(p, "const")) return input_or_const(p, false, dv);
  if (mlc_gp_keyword(p, "output")) return output_stmt(p);
  mlc_gp_skip_ws(p);
  if (mlc_gp_peek(p) != '%' && mlc_gp_peek(p) != '_')
    return PERR(p, "expected 'input', 'const', 'output' or a node");
  return node_stmt(p, dv);
}

/* Skips blank and comment-only lines; false at end of text. */
static bool next_statement(parser_t *p) {
  for (;;) {
    mlc_gp_skip_ws(p);
    if (mlc_gp_peek(p) == -1) return false;
    if (mlc_gp_peek(p) != '\n') return true;
    p->pos++;
  }
}

mlc_status_t *mlc_graph_parse(const char *text, size_t len,
                              mlc_graph_t **out_graph) {
  *out_graph = NULL;
  parser_t p = {.s = text, .len = len};
  MLC_RETURN_IF(mlc_graph_create("main", &p.g));
  dim_vec_t dv = {0};
  mlc_status_t *st = NULL;
  if (!next_statement(&p)) st = PERR(&p, "empty graph text");
  if (!st) st = header(&p);
  while (!st && next_statement(&p)) st = statement(&p, &dv);
  MLC_VEC_FREE(&dv);
  free(p.tab);
  if (st) {
    mlc_graph_destroy(p.g);
    return st;
  }
  *out_graph = p.g;
  return NULL;
}
