/* The tiled IR parser: reads the text form written by tile_print.c (see
 * docs/ir.md) into kernels, and a program's text (kernels one after the
 * other, as `--emit tile` and `--print-after` print them) into a program.
 * A hand-written recursive descent that reuses the graph parser's lexical
 * helpers (graph_parse_lex.c: identifiers, numbers, line:column errors);
 * line breaks are blanks here, and `//` starts a comment.
 *
 * The parser resolves names and builds the tree exactly as written: no
 * builder folding (`(0 + i1)` stays an ADD), single statements are not
 * wrapped in blocks.  Dtypes follow from the text (a load has its
 * buffer's, a comparison gives bool, a constant says its own); checking
 * them is the verifier's job (mlc_tkernel_verify), so that malformed IR
 * can be written down for its tests.  Variables: grid variables come from
 * the header; `for NAME` makes a loop variable (sibling loops that print
 * the same name share one); `NAME = EXPR` on a new name makes a local of
 * the value's dtype.  Buffers are named as printed: by name, or `buf<N>`
 * for buffer N when its name could not be printed.
 *
 * Errors are MLC_INVALID_ARGUMENT statuses "line L:C: expected ...", the
 * line and a caret; nesting deeper than MAX_DEPTH is an error, not a stack
 * overflow. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "ir/graph_parse.h"
#include "ir/graph_text.h"
#include "ir/program.h"
#include "ir/tile.h"

#define MAX_DEPTH 1000

typedef struct tparser {
  parser_t lx; /* text and position, for the mlc_gp_* helpers */
  mlc_tkernel_t *k;
  MLC_VEC(mlc_tvar_t *) vars; /* every variable, found by name */
  int depth;
} tparser_t;

#define TERR(tp, at, ...) mlc_gp_perr_at(&(tp)->lx, (at), __VA_ARGS__)
#define TOOM() MLC_ERR(OUT_OF_MEMORY, "out of memory parsing tile text")

/* ---- lexical layer: newlines are blanks ---- */

static void ws(tparser_t *tp) {
  for (;;) {
    mlc_gp_skip_ws(&tp->lx);
    if (mlc_gp_peek(&tp->lx) != '\n') return;
    tp->lx.pos++;
  }
}

static size_t here(tparser_t *tp) {
  ws(tp);
  return tp->lx.pos;
}

static bool accept(tparser_t *tp, char c) {
  ws(tp);
  return mlc_gp_accept(&tp->lx, c);
}

static mlc_status_t *expect(tparser_t *tp, char c) {
  ws(tp);
  return mlc_gp_expect(&tp->lx, c);
}

static bool keyword(tparser_t *tp, const char *kw) {
  ws(tp);
  return mlc_gp_keyword(&tp->lx, kw);
}

static const char *ident(tparser_t *tp, size_t *n) {
  ws(tp);
  return mlc_gp_ident(&tp->lx, n);
}

/* The character right after the current position's blanks (not newlines). */
static int peek_after_blanks(tparser_t *tp) {
  mlc_gp_skip_ws(&tp->lx);
  return mlc_gp_peek(&tp->lx);
}

static bool is(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

static mlc_status_t *integer(tparser_t *tp, int64_t lo, int64_t hi,
                             const char *what, int64_t *out) {
  size_t at = here(tp);
  MLC_RETURN_IF(mlc_gp_integer(&tp->lx, out));
  if (*out < lo || *out > hi)
    return TERR(tp, at, "%s must be in [%" PRId64 ", %" PRId64 "]", what, lo, hi);
  return NULL;
}

static mlc_status_t *dtype(tparser_t *tp, mlc_dtype_t *out) {
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  if (!n || !mlc_dtype_parse(s, n, out)) return TERR(tp, at, "expected a dtype");
  return NULL;
}

/* ---- names ---- */

static mlc_tvar_t *find_var(tparser_t *tp, const char *s, size_t n) {
  for (size_t i = 0; i < tp->vars.len; i++)
    if (is(s, n, tp->vars.data[i]->name)) return tp->vars.data[i];
  return NULL;
}

static mlc_status_t *new_var(tparser_t *tp, mlc_tvar_kind_t kind, mlc_dtype_t dt,
                             const char *s, size_t n, mlc_tvar_t **out) {
  mlc_tkernel_t *k = tp->k;
  mlc_tvar_t *v = mlc_tkernel_new_var(k, kind, dt, "v");
  if (!v || !(v->name = mlc_arena_strndup(&k->arena, s, n))) return TOOM();
  if (!MLC_VEC_PUSH(&tp->vars, v)) return TOOM();
  *out = v;
  return NULL;
}

/* A buffer by its printed name: a unique name, else `buf<N>`. */
static int find_buf(tparser_t *tp, const char *s, size_t n) {
  const mlc_tkernel_t *k = tp->k;
  int found = -1, count = 0;
  for (int i = 0; i < k->nbufs; i++)
    if (is(s, n, k->bufs[i].name)) found = i, count++;
  if (count == 1) return found;
  if (n < 4 || n > 12 || memcmp(s, "buf", 3) != 0) return -1;
  int64_t x = 0;
  for (size_t i = 3; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    x = x * 10 + (s[i] - '0');
  }
  return x < k->nbufs ? (int)x : -1;
}

static mlc_status_t *buf_ref(tparser_t *tp, int *out) {
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  if (!n) return TERR(tp, at, "expected a buffer name");
  if ((*out = find_buf(tp, s, n)) < 0)
    return TERR(tp, at, "unknown buffer '%.*s'", (int)n, s);
  return NULL;
}

/* ---- expressions ---- */

static mlc_status_t *expr(tparser_t *tp, mlc_texpr_t **out);

/* Nodes built as written (the builders fold i64 arithmetic and drop
 * no-op casts). */
static mlc_texpr_t *raw_expr(mlc_tkernel_t *k, mlc_texpr_kind_t kind, mlc_dtype_t dt) {
  mlc_texpr_t *e = mlc_arena_calloc(&k->arena, 1, sizeof *e);
  if (e) e->kind = kind, e->dtype = dt;
  return e;
}

static mlc_status_t *binary(tparser_t *tp, mlc_tbinop_t op, mlc_texpr_t *a,
                            mlc_texpr_t *b, mlc_texpr_t **out) {
  bool cmp = op >= MLC_TB_EQ; /* comparisons give bool */
  mlc_texpr_t *e = raw_expr(tp->k, MLC_TX_BINARY, cmp ? MLC_DT_BOOL : a->dtype);
  if (!e) return TOOM();
  e->bin.op = op;
  e->bin.a = a;
  e->bin.b = b;
  *out = e;
  return NULL;
}

/* `NUMBER` (i64) or `NUMBER:DTYPE`. */
static mlc_status_t *constant(tparser_t *tp, mlc_texpr_t **out) {
  size_t at = here(tp);
  num_t num;
  mlc_dtype_t dt = MLC_DT_I64;
  MLC_RETURN_IF(mlc_gp_number(&tp->lx, &num));
  bool typed = mlc_gp_peek(&tp->lx) == ':';
  if (typed) {
    tp->lx.pos++;
    MLC_RETURN_IF(dtype(tp, &dt));
  }
  mlc_tkernel_t *k = tp->k;
  if (mlc_dtype_is_float(dt)) {
    *out = mlc_tx_float(k, dt, num.f);
  } else if (mlc_dtype_is_int(dt) || dt == MLC_DT_BOOL) {
    if (num.is_float && !typed)
      return TERR(tp, at, "a float constant needs a dtype, as in 1.5:f32");
    if (num.is_float)
      return TERR(tp, at, "expected an integer for a %s constant", mlc_dtype_name(dt));
    if (dt == MLC_DT_I64 && tp->lx.s[at] != '-' && num.u > (uint64_t)INT64_MAX)
      return TERR(tp, at, "integer out of i64 range");
    *out = mlc_tx_int(k, dt, dt == MLC_DT_U64 ? (int64_t)num.u : num.i);
  } else {
    return TERR(tp, at, "no constants of dtype %s", mlc_dtype_name(dt));
  }
  return *out ? NULL : TOOM();
}

/* `(A, B, ...)` with exactly n operands. */
static mlc_status_t *args(tparser_t *tp, int n, mlc_texpr_t **a) {
  MLC_RETURN_IF(expect(tp, '('));
  for (int i = 0; i < n; i++) {
    if (i) MLC_RETURN_IF(expect(tp, ','));
    MLC_RETURN_IF(expr(tp, &a[i]));
  }
  return expect(tp, ')');
}

/* `name(...)`: unary ops, binary ops without an infix sign, select, fma. */
static mlc_status_t *call(tparser_t *tp, const char *s, size_t n, size_t at,
                          mlc_texpr_t **out) {
  mlc_tkernel_t *k = tp->k;
  mlc_texpr_t *a[3];
  for (int op = 0; op < MLC_TU_COUNT_; op++)
    if (is(s, n, mlc_tunop_name((mlc_tunop_t)op))) {
      MLC_RETURN_IF(args(tp, 1, a));
      return (*out = mlc_tx_unary(k, (mlc_tunop_t)op, a[0])) ? NULL : TOOM();
    }
  for (int op = 0; op < MLC_TB_COUNT_; op++)
    if (is(s, n, mlc_tbinop_name((mlc_tbinop_t)op))) {
      MLC_RETURN_IF(args(tp, 2, a));
      return binary(tp, (mlc_tbinop_t)op, a[0], a[1], out);
    }
  if (is(s, n, "select") || is(s, n, "fma")) {
    MLC_RETURN_IF(args(tp, 3, a));
    *out = s[0] == 's' ? mlc_tx_select(k, a[0], a[1], a[2]) : mlc_tx_fma(k, a[0], a[1], a[2]);
    return *out ? NULL : TOOM();
  }
  return TERR(tp, at, "unknown function '%.*s'", (int)n, s);
}

/* `cast<DTYPE>(A)`, after `cast`. */
static mlc_status_t *cast(tparser_t *tp, mlc_texpr_t **out) {
  mlc_dtype_t dt;
  mlc_texpr_t *a;
  MLC_RETURN_IF(expect(tp, '<'));
  MLC_RETURN_IF(dtype(tp, &dt));
  MLC_RETURN_IF(expect(tp, '>'));
  MLC_RETURN_IF(args(tp, 1, &a));
  mlc_texpr_t *e = raw_expr(tp->k, MLC_TX_CAST, dt);
  if (!e) return TOOM();
  e->cast.a = a;
  *out = e;
  return NULL;
}

/* The infix operator of `(A OP B)`. */
static mlc_status_t *infix_op(tparser_t *tp, mlc_tbinop_t *out) {
  static const struct { const char *sym; mlc_tbinop_t op; } ops[] = {
      {"==", MLC_TB_EQ}, {"!=", MLC_TB_NE}, {"<=", MLC_TB_LE}, {">=", MLC_TB_GE},
      {"+", MLC_TB_ADD}, {"-", MLC_TB_SUB}, {"*", MLC_TB_MUL}, {"/", MLC_TB_DIV},
      {"%", MLC_TB_MOD}, {"&", MLC_TB_AND}, {"|", MLC_TB_OR},  {"^", MLC_TB_XOR},
      {"<", MLC_TB_LT},  {">", MLC_TB_GT}};
  size_t at = here(tp), left = tp->lx.len - at;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
    size_t n = strlen(ops[i].sym);
    if (n <= left && memcmp(tp->lx.s + at, ops[i].sym, n) == 0) {
      tp->lx.pos += n;
      *out = ops[i].op;
      return NULL;
    }
  }
  return TERR(tp, at, "expected a binary operator (+ - * / %% & | ^ == != < <= > >=)");
}

static mlc_status_t *paren(tparser_t *tp, mlc_texpr_t **out) {
  mlc_texpr_t *a, *b;
  mlc_tbinop_t op = MLC_TB_ADD;
  MLC_RETURN_IF(expr(tp, &a));
  MLC_RETURN_IF(infix_op(tp, &op));
  MLC_RETURN_IF(expr(tp, &b));
  MLC_RETURN_IF(expect(tp, ')'));
  return binary(tp, op, a, b, out);
}

/* An expression starting with an identifier. */
static mlc_status_t *named(tparser_t *tp, mlc_texpr_t **out) {
  mlc_tkernel_t *k = tp->k;
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  int next = mlc_gp_peek(&tp->lx);
  if ((is(s, n, "inf") || is(s, n, "nan")) && next == ':') {
    tp->lx.pos = at;
    return constant(tp, out);
  }
  if (is(s, n, "true") || is(s, n, "false"))
    return (*out = mlc_tx_int(k, MLC_DT_BOOL, s[0] == 't')) ? NULL : TOOM();
  if (is(s, n, "cast") && next == '<') return cast(tp, out);
  next = peek_after_blanks(tp);
  if (next == '(') return call(tp, s, n, at, out);
  if (next == '[') {
    tp->lx.pos = at;
    int buf;
    mlc_texpr_t *idx;
    MLC_RETURN_IF(buf_ref(tp, &buf));
    MLC_RETURN_IF(expect(tp, '['));
    MLC_RETURN_IF(expr(tp, &idx));
    MLC_RETURN_IF(expect(tp, ']'));
    return (*out = mlc_tx_load(k, buf, idx)) ? NULL : TOOM();
  }
  mlc_tvar_t *v = find_var(tp, s, n);
  if (!v) return TERR(tp, at, "undefined variable '%.*s'", (int)n, s);
  return (*out = mlc_tx_var(k, v)) ? NULL : TOOM();
}

static mlc_status_t *expr_inner(tparser_t *tp, mlc_texpr_t **out) {
  size_t at = here(tp);
  int c = mlc_gp_peek(&tp->lx);
  if (c == '(') {
    tp->lx.pos++;
    return paren(tp, out);
  }
  if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return constant(tp, out);
  if (c >= 0 && mlc_text_ident_start((char)c)) return named(tp, out);
  return TERR(tp, at, "expected an expression");
}

static mlc_status_t *expr(tparser_t *tp, mlc_texpr_t **out) {
  *out = NULL;
  if (tp->depth >= MAX_DEPTH)
    return TERR(tp, here(tp), "nesting deeper than %d", MAX_DEPTH);
  tp->depth++;
  mlc_status_t *st = expr_inner(tp, out);
  tp->depth--;
  return st;
}

/* ---- statements ---- */

static mlc_status_t *stmt(tparser_t *tp, mlc_tstmt_t **out);

/* The statements up to `}` (after `{`): one statement as itself, else a
 * block (empty for none). */
static mlc_status_t *stmt_list(tparser_t *tp, mlc_tstmt_t **out) {
  MLC_VEC(mlc_tstmt_t *) v = {0};
  mlc_status_t *st = NULL;
  while (!st && !accept(tp, '}')) {
    mlc_tstmt_t *s = NULL;
    if (mlc_gp_peek(&tp->lx) == -1) st = TERR(tp, tp->lx.pos, "expected '}'");
    if (!st) st = stmt(tp, &s);
    if (!st && !MLC_VEC_PUSH(&v, s)) st = TOOM();
  }
  if (!st) {
    *out = v.len == 1 ? v.data[0] : mlc_ts_block(tp->k, (int)v.len, v.data);
    if (!*out) st = TOOM();
  }
  MLC_VEC_FREE(&v);
  return st;
}

static mlc_status_t *body(tparser_t *tp, mlc_tstmt_t **out) {
  MLC_RETURN_IF(expect(tp, '{'));
  return stmt_list(tp, out);
}

/* `for NAME in [BEGIN, END) [vectorize(W) | unroll] { ... }` */
static mlc_status_t *for_stmt(tparser_t *tp, mlc_tstmt_t **out) {
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  if (!n) return TERR(tp, at, "expected a loop variable");
  mlc_tvar_t *v = find_var(tp, s, n);
  if (v && v->kind != MLC_TV_LOOP)
    return TERR(tp, at, "'%.*s' is a %s variable, not a loop's", (int)n, s,
                v->kind == MLC_TV_GRID ? "grid" : "local");
  if (!v) MLC_RETURN_IF(new_var(tp, MLC_TV_LOOP, MLC_DT_I64, s, n, &v));
  if (!keyword(tp, "in")) return TERR(tp, here(tp), "expected 'in'");
  mlc_texpr_t *b, *e;
  MLC_RETURN_IF(expect(tp, '['));
  MLC_RETURN_IF(expr(tp, &b));
  MLC_RETURN_IF(expect(tp, ','));
  MLC_RETURN_IF(expr(tp, &e));
  MLC_RETURN_IF(expect(tp, ')'));
  mlc_loop_kind_t kind = MLC_LOOP_SERIAL;
  int64_t width = 0;
  if (keyword(tp, "vectorize")) {
    kind = MLC_LOOP_VECTORIZE;
    MLC_RETURN_IF(expect(tp, '('));
    MLC_RETURN_IF(integer(tp, 0, 1 << 16, "a vector width", &width));
    MLC_RETURN_IF(expect(tp, ')'));
  } else if (keyword(tp, "unroll")) {
    kind = MLC_LOOP_UNROLL;
  }
  mlc_tstmt_t *bd;
  MLC_RETURN_IF(body(tp, &bd));
  *out = mlc_ts_for(tp->k, v, b, e, kind, (int)width, bd);
  return *out ? NULL : TOOM();
}

/* `store BUF[INDEX] = VALUE` */
static mlc_status_t *store_stmt(tparser_t *tp, mlc_tstmt_t **out) {
  int buf;
  mlc_texpr_t *idx, *val;
  MLC_RETURN_IF(buf_ref(tp, &buf));
  MLC_RETURN_IF(expect(tp, '['));
  MLC_RETURN_IF(expr(tp, &idx));
  MLC_RETURN_IF(expect(tp, ']'));
  MLC_RETURN_IF(expect(tp, '='));
  MLC_RETURN_IF(expr(tp, &val));
  *out = mlc_ts_store(tp->k, buf, idx, val);
  return *out ? NULL : TOOM();
}

/* `if COND { ... } [else { ... }]` */
static mlc_status_t *if_stmt(tparser_t *tp, mlc_tstmt_t **out) {
  mlc_texpr_t *c;
  mlc_tstmt_t *t, *e = NULL;
  MLC_RETURN_IF(expr(tp, &c));
  MLC_RETURN_IF(body(tp, &t));
  if (keyword(tp, "else")) MLC_RETURN_IF(body(tp, &e));
  *out = mlc_ts_if(tp->k, c, t, e);
  return *out ? NULL : TOOM();
}

/* `NAME = VALUE`; a new name is a local of the value's dtype. */
static mlc_status_t *assign_stmt(tparser_t *tp, mlc_tstmt_t **out) {
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  mlc_texpr_t *val;
  if (!accept(tp, '=') || mlc_gp_peek(&tp->lx) == '=')
    return TERR(tp, at, "expected a statement: for, store, if or NAME = VALUE");
  MLC_RETURN_IF(expr(tp, &val));
  mlc_tvar_t *v = find_var(tp, s, n);
  if (!v) MLC_RETURN_IF(new_var(tp, MLC_TV_LOCAL, val->dtype, s, n, &v));
  *out = mlc_ts_assign(tp->k, v, val);
  return *out ? NULL : TOOM();
}

static mlc_status_t *stmt_inner(tparser_t *tp, mlc_tstmt_t **out) {
  if (keyword(tp, "for")) return for_stmt(tp, out);
  if (keyword(tp, "store")) return store_stmt(tp, out);
  if (keyword(tp, "if")) return if_stmt(tp, out);
  size_t n, at = here(tp);
  ident(tp, &n);
  tp->lx.pos = at;
  if (!n) return TERR(tp, at, "expected a statement: for, store, if or NAME = VALUE");
  return assign_stmt(tp, out);
}

static mlc_status_t *stmt(tparser_t *tp, mlc_tstmt_t **out) {
  *out = NULL;
  if (tp->depth >= MAX_DEPTH)
    return TERR(tp, here(tp), "nesting deeper than %d", MAX_DEPTH);
  tp->depth++;
  mlc_status_t *st = stmt_inner(tp, out);
  tp->depth--;
  return st;
}

/* ---- the kernel header ---- */

/* `@in<N>`, `@out<N>` (each with an optional `+OFF`), `@weight+OFF`,
 * `@arena+OFF`, after the `@`. */
static mlc_status_t *storage(tparser_t *tp, mlc_storage_t *st) {
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  size_t digits = 0;
  if (n > 2 && memcmp(s, "in", 2) == 0) st->kind = MLC_STORAGE_INPUT, digits = 2;
  else if (n > 3 && memcmp(s, "out", 3) == 0) st->kind = MLC_STORAGE_OUTPUT, digits = 3;
  else if (is(s, n, "weight")) st->kind = MLC_STORAGE_WEIGHT;
  else if (is(s, n, "arena")) st->kind = MLC_STORAGE_ARENA;
  else return TERR(tp, at, "expected in<N>, out<N>, weight or arena after '@'");
  int64_t x = 0;
  for (size_t i = digits; digits && i < n; i++) {
    if (s[i] < '0' || s[i] > '9' || (x = x * 10 + (s[i] - '0')) > INT32_MAX)
      return TERR(tp, at, "bad storage index (digits up to 2147483647)");
  }
  st->index = (int32_t)x;
  if (accept(tp, '+')) MLC_RETURN_IF(integer(tp, 0, INT64_MAX, "an offset", &st->offset));
  else if (!digits) return TERR(tp, here(tp), "expected '+OFFSET'");
  return NULL;
}

/* `in NAME: DTYPE[N] [@STORAGE]`, `out ...` or `local NAME: DTYPE[N]`. */
static mlc_status_t *param(tparser_t *tp) {
  mlc_tkernel_t *k = tp->k;
  bool local = keyword(tp, "local");
  bool written = local || keyword(tp, "out");
  if (!written && !keyword(tp, "in")) return TERR(tp, here(tp), "expected 'in', 'out' or 'local'");
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  if (!n) return TERR(tp, at, "expected a buffer name");
  const char *name = mlc_arena_strndup(&k->arena, s, n);
  mlc_dtype_t dt;
  int64_t nelems;
  mlc_storage_t sto = {0};
  MLC_RETURN_IF(expect(tp, ':'));
  MLC_RETURN_IF(dtype(tp, &dt));
  MLC_RETURN_IF(expect(tp, '['));
  MLC_RETURN_IF(integer(tp, 0, INT64_MAX, "an element count", &nelems));
  MLC_RETURN_IF(expect(tp, ']'));
  if (!local && accept(tp, '@')) MLC_RETURN_IF(storage(tp, &sto));
  int b = !name ? -1 : local ? mlc_tkernel_add_local(k, name, dt, nelems)
                            : mlc_tkernel_add_buf(k, name, dt, nelems, sto, written);
  if (b < 0) return TOOM();
  return NULL;
}

/* `EXTENT` or `NAME: EXTENT`. */
static mlc_status_t *grid_dim(tparser_t *tp) {
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  if (n) MLC_RETURN_IF(expect(tp, ':'));
  if (n && find_var(tp, s, n)) return TERR(tp, at, "grid variable '%.*s' given twice", (int)n, s);
  int64_t extent;
  MLC_RETURN_IF(integer(tp, 1, INT64_MAX, "a grid extent", &extent));
  mlc_tvar_t *v = mlc_tkernel_add_grid(tp->k, extent);
  if (!v || (n && !(v->name = mlc_arena_strndup(&tp->k->arena, s, n)))) return TOOM();
  return MLC_VEC_PUSH(&tp->vars, v) ? NULL : TOOM();
}

/* `kernel NAME(PARAMS) grid [DIMS] [block GRIDVAR [fit]] [shares NAME] [serial] {` */
static mlc_status_t *header(tparser_t *tp) {
  mlc_tkernel_t *k = tp->k;
  if (!keyword(tp, "kernel")) return TERR(tp, here(tp), "expected 'kernel'");
  size_t n, at = here(tp);
  const char *s = ident(tp, &n);
  if (!n) return TERR(tp, at, "expected a kernel name");
  if (!(k->name = mlc_arena_strndup(&k->arena, s, n))) return TOOM();
  MLC_RETURN_IF(expect(tp, '('));
  if (!accept(tp, ')')) {
    do MLC_RETURN_IF(param(tp));
    while (accept(tp, ','));
    MLC_RETURN_IF(expect(tp, ')'));
  }
  if (!keyword(tp, "grid")) return TERR(tp, here(tp), "expected 'grid'");
  MLC_RETURN_IF(expect(tp, '['));
  if (!accept(tp, ']')) {
    do MLC_RETURN_IF(grid_dim(tp));
    while (accept(tp, ','));
    MLC_RETURN_IF(expect(tp, ']'));
  }
  if (keyword(tp, "block")) {
    at = here(tp);
    s = ident(tp, &n);
    mlc_tvar_t *v = n ? find_var(tp, s, n) : NULL;
    for (int i = 0; v && i < k->ngrid; i++)
      if (k->grid[i] == v) k->block = i + 1;
    if (!k->block) return TERR(tp, at, "expected a grid variable after 'block'");
    if (keyword(tp, "fit")) k->block_fit = true;
  }
  if (keyword(tp, "shares")) {
    at = here(tp);
    s = ident(tp, &n);
    if (!n) return TERR(tp, at, "expected a kernel name after 'shares'");
    if (!(k->shares = mlc_arena_strndup(&k->arena, s, n))) return TOOM();
  }
  if (keyword(tp, "serial")) k->serial = true;
  return expect(tp, '{');
}

/* One kernel at the current position. */
static mlc_status_t *kernel(parser_t *lx, mlc_tkernel_t **out) {
  *out = NULL;
  tparser_t tp = {.lx = *lx, .k = mlc_tkernel_create("")};
  if (!tp.k) return TOOM();
  mlc_status_t *st = header(&tp);
  if (!st) st = stmt_list(&tp, &tp.k->body);
  MLC_VEC_FREE(&tp.vars);
  lx->pos = tp.lx.pos;
  if (st) {
    mlc_tkernel_destroy(tp.k);
    return st;
  }
  *out = tp.k;
  return NULL;
}

/* Skips blanks, newlines and comments; false at the end of the text. */
static bool more(parser_t *lx) {
  tparser_t tp = {.lx = *lx};
  ws(&tp);
  lx->pos = tp.lx.pos;
  return mlc_gp_peek(lx) != -1;
}

mlc_status_t *mlc_tkernel_parse(const char *text, size_t len, mlc_tkernel_t **out) {
  parser_t lx = {.s = text, .len = len};
  *out = NULL;
  if (!more(&lx)) return mlc_gp_perr_at(&lx, lx.pos, "expected 'kernel'");
  MLC_RETURN_IF(kernel(&lx, out));
  if (!more(&lx)) return NULL;
  mlc_tkernel_destroy(*out);
  *out = NULL;
  return mlc_gp_perr_at(&lx, lx.pos, "expected the end of the text after the kernel");
}

/* ---- programs ---- */

static const mlc_tkernel_t *program_kernel(const mlc_program_t *p, const char *name) {
  for (size_t i = 0; i < p->kernels.len; i++)
    if (strcmp(p->kernels.data[i]->name, name) == 0) return p->kernels.data[i];
  return NULL;
}

/* Names are unique and `shares` names an earlier kernel. */
static mlc_status_t *check_names(parser_t *lx, const mlc_program_t *p,
                                 const mlc_tkernel_t *k, size_t at) {
  if (program_kernel(p, k->name))
    return mlc_gp_perr_at(lx, at, "kernel '%s' is defined twice", k->name);
  if (k->shares && !program_kernel(p, k->shares))
    return mlc_gp_perr_at(lx, at, "kernel '%s' shares '%s', which is not an earlier "
                          "kernel", k->name, k->shares);
  return NULL;
}

mlc_status_t *mlc_program_parse(const char *text, size_t len, mlc_program_t *out) {
  parser_t lx = {.s = text, .len = len};
  *out = (mlc_program_t){0};
  mlc_status_t *st = NULL;
  while (!st && more(&lx)) {
    size_t at = lx.pos;
    mlc_tkernel_t *k = NULL;
    st = kernel(&lx, &k);
    if (!st) st = check_names(&lx, out, k, at);
    if (!st && !MLC_VEC_PUSH(&out->kernels, k)) st = TOOM();
    if (st) mlc_tkernel_destroy(k);
  }
  if (st) mlc_program_deinit(out);
  return st;
}
