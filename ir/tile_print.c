/* The tiled IR printer: a deterministic text form for reading and for
 * golden tests; tile_parse.c reads it back.  See docs/ir.md for the syntax:
 *
 *   kernel add_0(in a: f32[16] @in0, out y: f32[16] @out0) grid [4] {
 *     for i1 in [0, 4) vectorize(4) {
 *       store y[((g0 * 4) + i1)] = (a[((g0 * 4) + i1)] + 1:f32)
 *     }
 *   }
 *
 * Buffers print by name when it is an identifier unique among the kernel's
 * buffers, else as `buf<index>`.  i64 constants print bare, other constants
 * as `value:dtype` (bool as true/false).  The printer never fails. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph_text.h"
#include "ir/tile.h"

typedef struct tprinter {
  const mlc_tkernel_t *k;
  FILE *out;
} tprinter_t;

static void print_buf_name(tprinter_t *p, int b) {
  const mlc_tkernel_t *k = p->k;
  if (b < 0 || b >= k->nbufs) {
    fprintf(p->out, "<bad buffer %d>", b);
    return;
  }
  const char *nm = k->bufs[b].name;
  bool ok = mlc_text_is_ident(nm);
  for (int i = 0; i < k->nbufs && ok; i++)
    if (i != b && k->bufs[i].name && strcmp(k->bufs[i].name, nm) == 0) ok = false;
  if (ok) fputs(nm, p->out);
  else fprintf(p->out, "buf%d", b);
}

static void print_const(FILE *out, const mlc_texpr_t *e) {
  if (e->dtype == MLC_DT_BOOL) {
    fputs(e->c.i ? "true" : "false", out);
    return;
  }
  if (mlc_dtype_is_float(e->dtype)) {
    fprintf(out, e->dtype == MLC_DT_F64 ? "%.17g:%s" : "%.9g:%s", e->c.f,
            mlc_dtype_name(e->dtype));
    return;
  }
  if (e->dtype == MLC_DT_U64) fprintf(out, "%" PRIu64, (uint64_t)e->c.i);
  else fprintf(out, "%" PRId64, e->c.i);
  if (e->dtype != MLC_DT_I64) fprintf(out, ":%s", mlc_dtype_name(e->dtype));
}

static const char *infix(mlc_tbinop_t op) {
  static const char *const sym[MLC_TB_COUNT_] = {
      [MLC_TB_ADD] = "+", [MLC_TB_SUB] = "-", [MLC_TB_MUL] = "*",
      [MLC_TB_DIV] = "/", [MLC_TB_MOD] = "%", [MLC_TB_AND] = "&",
      [MLC_TB_OR] = "|",  [MLC_TB_XOR] = "^", [MLC_TB_EQ] = "==",
      [MLC_TB_NE] = "!=", [MLC_TB_LT] = "<",  [MLC_TB_LE] = "<=",
      [MLC_TB_GT] = ">",  [MLC_TB_GE] = ">="};
  return (unsigned)op < MLC_TB_COUNT_ ? sym[op] : NULL;
}

static void print_expr(tprinter_t *p, const mlc_texpr_t *e) {
  FILE *out = p->out;
  if (!e) {
    fputs("<null>", out);
    return;
  }
  switch (e->kind) {
  case MLC_TX_CONST: print_const(out, e); return;
  case MLC_TX_VAR: fputs(e->var && e->var->name ? e->var->name : "<null var>", out); return;
  case MLC_TX_LOAD:
    print_buf_name(p, e->load.buf);
    fputc('[', out);
    print_expr(p, e->load.index);
    fputc(']', out);
    return;
  case MLC_TX_UNARY:
    fprintf(out, "%s(", mlc_tunop_name(e->un.op));
    print_expr(p, e->un.a);
    fputc(')', out);
    return;
  case MLC_TX_BINARY: {
    const char *s = infix(e->bin.op);
    fputs(s ? "(" : mlc_tbinop_name(e->bin.op), out);
    if (!s) fputc('(', out);
    print_expr(p, e->bin.a);
    fprintf(out, s ? " %s " : ", ", s);
    print_expr(p, e->bin.b);
    fputc(')', out);
    return;
  }
  case MLC_TX_SELECT:
    fputs("select(", out);
    print_expr(p, e->sel.cond);
    fputs(", ", out);
    print_expr(p, e->sel.a);
    fputs(", ", out);
    print_expr(p, e->sel.b);
    fputc(')', out);
    return;
  case MLC_TX_FMA:
    fputs("fma(", out);
    print_expr(p, e->fma.a);
    fputs(", ", out);
    print_expr(p, e->fma.b);
    fputs(", ", out);
    print_expr(p, e->fma.c);
    fputc(')', out);
    return;
  case MLC_TX_CAST:
    fprintf(out, "cast<%s>(", mlc_dtype_name(e->dtype));
    print_expr(p, e->cast.a);
    fputc(')', out);
    return;
  }
  fputs("<bad expr>", out);
}

static void indent(FILE *out, int depth) {
  for (int i = 0; i < depth; i++) fputs("  ", out);
}

static void print_stmt(tprinter_t *p, const mlc_tstmt_t *s, int depth);

static void print_body(tprinter_t *p, const mlc_tstmt_t *s, int depth) {
  fputs(" {\n", p->out);
  print_stmt(p, s, depth + 1);
  indent(p->out, depth);
  fputc('}', p->out);
}

static void print_for(tprinter_t *p, const mlc_tstmt_t *s, int depth) {
  FILE *out = p->out;
  fprintf(out, "for %s in [", s->loop.var && s->loop.var->name ? s->loop.var->name : "<null>");
  print_expr(p, s->loop.begin);
  fputs(", ", out);
  print_expr(p, s->loop.end);
  fputc(')', out);
  if (s->loop.loop_kind == MLC_LOOP_VECTORIZE) fprintf(out, " vectorize(%d)", s->loop.width);
  else if (s->loop.loop_kind == MLC_LOOP_UNROLL) fputs(" unroll", out);
  print_body(p, s->loop.body, depth);
  fputc('\n', out);
}

static void print_stmt(tprinter_t *p, const mlc_tstmt_t *s, int depth) {
  FILE *out = p->out;
  if (s && s->kind == MLC_TS_BLOCK) {
    for (int i = 0; i < s->block.n; i++) print_stmt(p, s->block.stmts[i], depth);
    return;
  }
  indent(out, depth);
  if (!s) {
    fputs("<null>\n", out);
    return;
  }
  switch (s->kind) {
  case MLC_TS_FOR: print_for(p, s, depth); return;
  case MLC_TS_STORE:
    fputs("store ", out);
    print_buf_name(p, s->store.buf);
    fputc('[', out);
    print_expr(p, s->store.index);
    fputs("] = ", out);
    print_expr(p, s->store.value);
    break;
  case MLC_TS_ASSIGN:
    fprintf(out, "%s = ", s->assign.var && s->assign.var->name ? s->assign.var->name : "<null>");
    print_expr(p, s->assign.value);
    break;
  case MLC_TS_IF:
    fputs("if ", out);
    print_expr(p, s->if_.cond);
    print_body(p, s->if_.then_s, depth);
    if (s->if_.else_s) {
      fputs(" else", out);
      print_body(p, s->if_.else_s, depth);
    }
    break;
  default: fputs("<bad stmt>", out); break;
  }
  fputc('\n', out);
}

static bool canonical_grid(const mlc_tkernel_t *k) {
  char buf[32];
  for (int i = 0; i < k->ngrid; i++) {
    snprintf(buf, sizeof buf, "g%d", i);
    if (!k->grid[i] || !k->grid[i]->name || strcmp(k->grid[i]->name, buf) != 0)
      return false;
  }
  return true;
}

static void print_header(tprinter_t *p) {
  const mlc_tkernel_t *k = p->k;
  FILE *out = p->out;
  fprintf(out, "kernel %s(", k->name ? k->name : "");
  for (int i = 0; i < k->nbufs; i++) {
    const mlc_tbuf_t *b = &k->bufs[i];
    fputs(i ? ", " : "", out);
    fputs(b->local ? "local " : b->written ? "out " : "in ", out);
    print_buf_name(p, i);
    fprintf(out, ": %s[%" PRId64 "]", mlc_dtype_name(b->dtype), b->nelems);
    mlc_storage_print(out, &b->storage);
  }
  fputs(") grid [", out);
  bool canon = canonical_grid(k);
  for (int i = 0; i < k->ngrid; i++) {
    fputs(i ? ", " : "", out);
    if (!canon) fprintf(out, "%s: ", k->grid[i] && k->grid[i]->name ? k->grid[i]->name : "?");
    fprintf(out, "%" PRId64, k->grid_extents[i]);
  }
  fputc(']', out);
  if (k->block > 0 && k->block <= k->ngrid) {
    const mlc_tvar_t *g = k->grid[k->block - 1];
    fprintf(out, " block %s%s", g && g->name ? g->name : "?", k->block_fit ? " fit" : "");
  }
  if (k->shares) fprintf(out, " shares %s", k->shares);
  if (k->serial) fputs(" serial", out);
  fputs(" {\n", out);
}

void mlc_tkernel_print(const mlc_tkernel_t *k, FILE *out) {
  tprinter_t p = {k, out};
  print_header(&p);
  if (k->body) print_stmt(&p, k->body, 1);
  fputs("}\n", out);
}
