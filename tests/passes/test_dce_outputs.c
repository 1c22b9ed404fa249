/* dce and materialize-outputs on graphs built in code: what they remove,
 * what they keep, flags and use counts, and that running either twice
 * changes nothing the second time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "passes/pass.h"

static char *print_graph(const mlc_graph_t *g) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  mlc_graph_print(g, f);
  fclose(f);
  return buf;
}

static bool has_value(const mlc_graph_t *g, const mlc_value_t *v) {
  for (size_t i = 0; i < g->values.len; i++)
    if (g->values.data[i] == v) return true;
  return false;
}

static void test_dce(void **state) {
  (void)state;
  mlc_graph_t *g;
  assert_null(mlc_graph_create("d", &g));
  int64_t d = 4;
  mlc_value_t *x = mlc_graph_add_value_static(g, "x", MLC_DT_F32, 1, &d);
  mlc_value_t *unused_in = mlc_graph_add_value_static(g, "u", MLC_DT_F32, 1, &d);
  x->flags |= MLC_VALUE_INPUT;
  unused_in->flags |= MLC_VALUE_INPUT;
  MLC_VEC_PUSH(&g->inputs, x);
  MLC_VEC_PUSH(&g->inputs, unused_in);
  mlc_value_t *k = mlc_graph_add_const_scalar(g, "k", MLC_DT_F32, 2.0);
  mlc_value_t *a = mlc_graph_add_value_static(g, "a", MLC_DT_F32, 1, &d);
  mlc_value_t *dead = mlc_graph_add_value_static(g, "dead", MLC_DT_F32, 1, &d);
  mlc_value_t *y = mlc_graph_add_value_static(g, "y", MLC_DT_F32, 1, &d);
  mlc_value_t *xk[] = {x, k};
  mlc_graph_add_node(g, MLC_OP_Mul, "dead_mul", 2, xk, 1, &dead);
  mlc_graph_add_node(g, MLC_OP_Neg, "neg", 1, &x, 1, &a);
  mlc_graph_add_node(g, MLC_OP_Exp, "exp", 1, &a, 1, &y);
  MLC_VEC_PUSH(&g->outputs, y);
  mlc_pass_ctx_t ctx = {0};
  assert_null(mlc_pass_dce.run(&ctx, g));
  assert_int_equal(g->nodes.len, 2);
  assert_string_equal(g->nodes.data[0]->name, "neg");
  assert_false(has_value(g, dead));
  assert_false(has_value(g, k)); /* only the dead node used it */
  assert_true(has_value(g, unused_in));
  assert_int_equal(g->inputs.len, 2);
  assert_int_equal(x->nuses, 1);
  assert_int_equal(y->nuses, 1);
  assert_null(mlc_graph_verify(g));
  char *once = print_graph(g);
  assert_null(mlc_pass_dce.run(&ctx, g));
  char *twice = print_graph(g);
  assert_string_equal(once, twice);
  free(once);
  free(twice);
  mlc_graph_destroy(g);
}

static void test_materialize(void **state) {
  (void)state;
  mlc_graph_t *g;
  assert_null(mlc_graph_create("m", &g));
  mlc_dim_t dn = {-1, "N"};
  mlc_value_t *x = mlc_graph_add_value(g, "x", MLC_DT_F32, 1, &dn);
  x->flags |= MLC_VALUE_INPUT | MLC_VALUE_OUTPUT;
  MLC_VEC_PUSH(&g->inputs, x);
  mlc_value_t *y = mlc_graph_add_value(g, "y", MLC_DT_F32, 1, &dn);
  mlc_graph_add_node(g, MLC_OP_Relu, "", 1, &x, 1, &y);
  y->flags |= MLC_VALUE_OUTPUT;
  MLC_VEC_PUSH(&g->outputs, x);
  MLC_VEC_PUSH(&g->outputs, y);
  MLC_VEC_PUSH(&g->outputs, y);
  mlc_pass_ctx_t ctx = {0};
  assert_null(mlc_pass_materialize_outputs.run(&ctx, g));
  assert_int_equal(g->nodes.len, 3);
  mlc_value_t *o0 = g->outputs.data[0], *o2 = g->outputs.data[2];
  assert_ptr_not_equal(o0, x);
  assert_ptr_equal(g->outputs.data[1], y);
  assert_ptr_not_equal(o2, y);
  assert_int_equal(o0->producer->op, MLC_OP_Identity);
  assert_ptr_equal(o0->producer->inputs[0], x);
  assert_string_equal(o0->name, "x");
  assert_string_equal(o0->dims[0].sym, "N");
  assert_true(o0->flags & MLC_VALUE_OUTPUT);
  assert_false(x->flags & MLC_VALUE_OUTPUT); /* no longer an output */
  assert_true(y->flags & MLC_VALUE_OUTPUT);  /* still output 1 */
  assert_ptr_equal(o2->producer->inputs[0], y);
  assert_null(mlc_graph_verify(g));
  assert_null(mlc_pass_materialize_outputs.run(&ctx, g));
  assert_int_equal(g->nodes.len, 3); /* nothing left to do */
  /* every output has a producer now: planning places them (N unbound is
   * fine, no arena value needs a size) */
  assert_null(mlc_pass_plan_memory.run(&ctx, g));
  assert_int_equal(x->storage.kind, MLC_STORAGE_INPUT);
  assert_int_equal(o0->storage.kind, MLC_STORAGE_OUTPUT);
  assert_int_equal(o0->storage.index, 0);
  assert_int_equal(y->storage.index, 1);
  assert_int_equal(o2->storage.index, 2);
  assert_int_equal(g->arena_bytes, 0);
  mlc_graph_destroy(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dce),
      cmocka_unit_test(test_materialize),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
