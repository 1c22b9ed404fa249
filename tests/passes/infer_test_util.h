/* Helpers shared by the infer-shapes and folding tests: build small
 * graphs, run the pass, and check shapes or errors. */
#ifndef MLC_TESTS_INFER_TEST_UTIL_H
#define MLC_TESTS_INFER_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "passes/pass.h"


#define I64S(...) ((const int64_t[]){__VA_ARGS__})
#define VALS(...) ((mlc_value_t *[]){__VA_ARGS__})

static inline mlc_graph_t *new_graph(void) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_graph_create("t", &g);
  assert_null(st);
  g->opset = 18;
  return g;
}

/* A graph input of static shape. */
static inline mlc_value_t *input(mlc_graph_t *g, const char *name, mlc_dtype_t dt,
                          int rank, const int64_t *dims) {
  mlc_value_t *v = mlc_graph_add_value_static(g, name, dt, rank, dims);
  assert_non_null(v);
  v->flags |= MLC_VALUE_INPUT;
  assert_true(MLC_VEC_PUSH(&g->inputs, v));
  return v;
}

/* A graph input whose dims may be symbolic: sym[i] NULL for static. */
static inline mlc_value_t *input_sym(mlc_graph_t *g, const char *name,
                              mlc_dtype_t dt, int rank, const int64_t *dims,
                              const char *const *sym) {
  mlc_dim_t d[8];
  for (int i = 0; i < rank; i++) d[i] = (mlc_dim_t){dims[i], sym[i]};
  mlc_value_t *v = mlc_graph_add_value(g, name, dt, rank, d);
  assert_non_null(v);
  v->flags |= MLC_VALUE_INPUT;
  return v;
}

static inline mlc_value_t *const_i64(mlc_graph_t *g, const char *name,
                              const int64_t *v, int64_t n) {
  mlc_value_t *c = mlc_graph_add_const_i64s(g, name, v, n);
  assert_non_null(c);
  return c;
}

static inline mlc_value_t *scalar(mlc_graph_t *g, const char *name, mlc_dtype_t dt,
                           double x) {
  mlc_value_t *c = mlc_graph_add_const_scalar(g, name, dt, x);
  assert_non_null(c);
  return c;
}

/* A node with `nout` fresh outputs of unknown dtype and rank, named
 * "<name>" (one output) or "<name>:<i>". */
static inline mlc_node_t *node(mlc_graph_t *g, mlc_op_t op, const char *name,
                        int nin, mlc_value_t *const *ins, int nout) {
  mlc_value_t *outs[8];
  for (int i = 0; i < nout; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, nout == 1 ? "%s" : "%s:%d", name, i);
    outs[i] = mlc_graph_add_value(g, buf, MLC_DT_UNDEFINED, -1, NULL);
    assert_non_null(outs[i]);
  }
  mlc_node_t *n = mlc_graph_add_node(g, op, name, nin, ins, nout, outs);
  assert_non_null(n);
  return n;
}

static inline mlc_value_t *out0(mlc_node_t *n) { return n->outputs[0]; }

static inline mlc_status_t *infer(mlc_graph_t *g) {
  mlc_pass_ctx_t ctx = {0};
  return mlc_pass_infer_shapes.run(&ctx, g);
}

static inline void infer_ok(mlc_graph_t *g) {
  mlc_status_t *st = infer(g);
  if (st) fail_msg("unexpected error: %s", mlc_status_message(st));
}

/* Runs the pass, expects an error of `code` whose message contains
 * `substr`, and destroys the graph. */
static inline void infer_fails(mlc_graph_t *g, mlc_status_code_t code,
                        const char *substr) {
  mlc_status_t *st = infer(g);
  if (!st) fail_msg("expected an error containing \"%s\"", substr);
  if (!strstr(mlc_status_message(st), substr) || st->code != code)
    fail_msg("error \"%s\" (%s), expected %s with \"%s\"",
             mlc_status_message(st), mlc_status_code_name(st->code),
             mlc_status_code_name(code), substr);
  mlc_status_free(st);
  mlc_graph_destroy(g);
}

static inline void expect_shape(const mlc_value_t *v, mlc_dtype_t dt, int rank,
                         const int64_t *dims) {
  if (v->dtype != dt)
    fail_msg("'%s': dtype %s, expected %s", v->name, mlc_dtype_name(v->dtype),
             mlc_dtype_name(dt));
  if (v->rank != rank)
    fail_msg("'%s': rank %d, expected %d", v->name, v->rank, rank);
  for (int i = 0; i < rank; i++)
    if (v->dims[i].value != dims[i])
      fail_msg("'%s': dim %d is %lld, expected %lld", v->name, i,
               (long long)v->dims[i].value, (long long)dims[i]);
}

static inline void expect_sym(const mlc_value_t *v, int i, const char *sym) {
  if (!sym) {
    assert_null(v->dims[i].sym);
    return;
  }
  assert_non_null(v->dims[i].sym);
  assert_string_equal(v->dims[i].sym, sym);
}

static inline void set_ints(mlc_graph_t *g, mlc_node_t *n, const char *name,
                     const int64_t *v, int64_t count) {
  assert_true(mlc_node_set_ints(g, n, name, v, count));
}

static inline void set_int(mlc_graph_t *g, mlc_node_t *n, const char *name,
                    int64_t v) {
  assert_true(mlc_node_set_int(g, n, name, v));
}

#endif
