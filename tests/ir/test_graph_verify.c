/* The graph verifier: a well-formed graph passes; each kind of violation
 * (SSA, order, arity, dtype, constant data, graph outputs, fusion groups)
 * is reported with a message that names it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/graph.h"

typedef struct fx {
  mlc_graph_t *g;
  mlc_value_t *x, *w, *a, *b;
  mlc_node_t *add, *relu;
} fx_t;

/* x (input), w (const) -> a = Add(x, w) -> b = Relu(a); output b. */
static void build(fx_t *f) {
  assert_null(mlc_graph_create("v", &f->g));
  mlc_graph_t *g = f->g;
  int64_t d[] = {2};
  float wd[] = {1, 2};
  f->x = mlc_graph_add_value_static(g, "x", MLC_DT_F32, 1, d);
  f->x->flags |= MLC_VALUE_INPUT;
  MLC_VEC_PUSH(&g->inputs, f->x);
  f->w = mlc_graph_add_const(g, "w", MLC_DT_F32, 1, d, wd, sizeof wd, MLC_DATA_COPY);
  f->a = mlc_graph_add_value_static(g, "a", MLC_DT_F32, 1, d);
  f->b = mlc_graph_add_value_static(g, "b", MLC_DT_F32, 1, d);
  mlc_value_t *ins[] = {f->x, f->w};
  f->add = mlc_graph_add_node(g, MLC_OP_Add, "add0", 2, ins, 1, &f->a);
  f->relu = mlc_graph_add_node(g, MLC_OP_Relu, "relu0", 1, &f->a, 1, &f->b);
  MLC_VEC_PUSH(&g->outputs, f->b);
  assert_non_null(f->relu);
}

static void expect_error(fx_t *f, const char *what) {
  mlc_status_t *st = mlc_graph_verify(f->g);
  assert_non_null(st);
  if (!strstr(mlc_status_message(st), what))
    fprintf(stderr, "message: %s\nexpected: %s\n", mlc_status_message(st), what);
  assert_non_null(strstr(mlc_status_message(st), what));
  assert_int_equal(mlc_status_code(st), MLC_INTERNAL);
  mlc_status_free(st);
  mlc_graph_destroy(f->g);
}

static void test_valid(void **state) {
  (void)state;
  fx_t f;
  build(&f);
  assert_null(mlc_graph_verify(f.g));
  /* dead nodes are ignored, and outputs may be inputs or constants */
  mlc_value_t *dead_out = mlc_graph_add_value(f.g, "d", MLC_DT_UNDEFINED, -1, NULL);
  mlc_node_t *n = mlc_graph_add_node(f.g, MLC_OP_Neg, "", 1, &f.b, 1, &dead_out);
  n->dead = true;
  MLC_VEC_PUSH(&f.g->outputs, f.x);
  MLC_VEC_PUSH(&f.g->outputs, f.w);
  assert_null(mlc_graph_verify(f.g));
  mlc_graph_destroy(f.g);
}

static void test_ssa(void **state) {
  (void)state;
  fx_t f;
  build(&f);  /* a value produced by two nodes */
  mlc_graph_add_node(f.g, MLC_OP_Neg, "again", 1, &f.x, 1, &f.a);
  expect_error(&f, "node #2 'again' (Neg): output 'a' (0) is produced twice");
  build(&f);  /* a node writing a graph input */
  mlc_graph_add_node(f.g, MLC_OP_Neg, "clobber", 1, &f.b, 1, &f.x);
  expect_error(&f, "output 'x' (0) is a graph input or constant");
  build(&f);  /* producer pointer not pointing back */
  f.a->producer = f.relu;
  expect_error(&f, "output 'a' (0) does not point back at its node");
}

static void test_order(void **state) {
  (void)state;
  fx_t f;
  build(&f);  /* use before definition: swap the two nodes */
  f.g->nodes.data[0] = f.relu;
  f.g->nodes.data[1] = f.add;
  expect_error(&f, "node #0 'relu0' (Relu): input 'a' (0) is not defined before use");
  build(&f);  /* input produced by a dead node */
  f.add->dead = true;
  expect_error(&f, "input 'a' (0) is not defined before use");
}

static void test_arity(void **state) {
  (void)state;
  fx_t f;
  build(&f);
  f.add->ninputs = 1;
  expect_error(&f, "node #0 'add0' (Add): 1 inputs, outside the op's range");
  build(&f);
  f.relu->noutputs = 2;
  expect_error(&f, "2 outputs, outside the op's range");
  build(&f);
  f.add->inputs[1] = NULL;
  expect_error(&f, "required input 1 is absent");
}

static void test_types_and_consts(void **state) {
  (void)state;
  fx_t f;
  build(&f);
  f.a->dtype = MLC_DT_UNDEFINED;
  expect_error(&f, "value 'a' has no known dtype");
  build(&f);
  f.x->dtype = MLC_DT_UNDEFINED;
  expect_error(&f, "value 'x' has no known dtype");
  build(&f);  /* constant whose shape has no static size */
  f.w->dims[0].value = -1;
  expect_error(&f, "constant 'w' (f32) has no static byte size");
  build(&f);
  f.w->data = NULL;
  expect_error(&f, "constant 'w' has no data");
  build(&f);  /* constant also produced by a live node */
  f.b->flags |= MLC_VALUE_CONST;
  f.b->data = f.w->data;
  expect_error(&f, "constant 'b' is also produced by a live node");
}

static void test_outputs_and_groups(void **state) {
  (void)state;
  fx_t f;
  build(&f);  /* graph output nobody produces */
  mlc_value_t *orphan = mlc_graph_add_value_static(f.g, "orphan", MLC_DT_F32, 0, NULL);
  MLC_VEC_PUSH(&f.g->outputs, orphan);
  expect_error(&f, "graph output 1 'orphan' is not produced by a live node");
  build(&f);  /* group 0 split by a node of no group */
  mlc_value_t *c = mlc_graph_add_value_static(f.g, "c", MLC_DT_F32, 0, NULL);
  mlc_node_t *n = mlc_graph_add_node(f.g, MLC_OP_Neg, "late", 1, &f.b, 1, &c);
  f.add->group = 0;
  n->group = 0;
  expect_error(&f, "node #2 'late' (Neg): fusion group 0 is not contiguous");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_ssa),
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_arity),
      cmocka_unit_test(test_types_and_consts),
      cmocka_unit_test(test_outputs_and_groups),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
