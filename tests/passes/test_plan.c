/* Memory planning checked by property: on random graphs, no two arena
 * values whose lifetimes (producer step to last reader, views included)
 * overlap share bytes, every offset is 64-byte aligned and within the
 * arena.  Also the errors plan-memory reports, and the passes' names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "passes/pass.h"

static uint32_t rng_next(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

/* A random DAG of Add/Neg/Reshape nodes over 1-D f32 values. */
static mlc_graph_t *random_graph(uint32_t seed, int nnodes) {
  mlc_graph_t *g;
  assert_null(mlc_graph_create("rand", &g));
  MLC_VEC(mlc_value_t *) pool = {0};
  int64_t d = 8;
  mlc_value_t *x = mlc_graph_add_value_static(g, "x", MLC_DT_F32, 1, &d);
  x->flags |= MLC_VALUE_INPUT;
  MLC_VEC_PUSH(&g->inputs, x);
  MLC_VEC_PUSH(&pool, x);
  int64_t one = 8;
  mlc_value_t *shape = mlc_graph_add_const_i64s(g, "shape", &one, 1);
  for (int i = 0; i < nnodes; i++) {
    mlc_value_t *a = pool.data[rng_next(&seed) % pool.len];
    mlc_value_t *b = pool.data[rng_next(&seed) % pool.len];
    int64_t dd = 8;
    mlc_value_t *o = mlc_graph_add_value_static(g, "", MLC_DT_F32, 1, &dd);
    uint32_t r = rng_next(&seed) % 3;
    mlc_value_t *ins[] = {a, r == 2 ? shape : b};
    mlc_op_t op = r == 0 ? MLC_OP_Add : r == 1 ? MLC_OP_Neg : MLC_OP_Reshape;
    mlc_graph_add_node(g, op, "", op == MLC_OP_Neg ? 1 : 2, ins, 1, &o);
    MLC_VEC_PUSH(&pool, o);
  }
  MLC_VEC_PUSH(&g->outputs, pool.data[pool.len - 1]);
  MLC_VEC_FREE(&pool);
  return g;
}

static mlc_value_t *view_root(mlc_value_t *v) {
  while (v->producer && (mlc_op_info(v->producer->op)->flags & MLC_OPF_VIEW) &&
         !(v->flags & MLC_VALUE_OUTPUT) && v->storage.kind != MLC_STORAGE_OUTPUT)
    v = v->producer->inputs[0];
  return v;
}

static void check_plan(mlc_graph_t *g) {
  size_t n = g->nodes.len, nv = g->next_value_id;
  int64_t *first = calloc(nv, sizeof *first), *last = calloc(nv, sizeof *last);
  for (size_t i = 0; i < nv; i++) first[i] = last[i] = -1;
  for (size_t i = 0; i < n; i++) {
    mlc_node_t *nd = g->nodes.data[i];
    mlc_value_t *o = nd->outputs[0];
    mlc_value_t *r = view_root(o);
    if (r == o) first[o->id] = last[o->id] = (int64_t)i;
    for (int k = 0; k < nd->ninputs; k++) {
      mlc_value_t *ri = view_root(nd->inputs[k]);
      if (first[ri->id] >= 0 && last[ri->id] < (int64_t)i) last[ri->id] = (int64_t)i;
    }
  }
  for (size_t i = 0; i < g->values.len; i++) {
    mlc_value_t *a = g->values.data[i];
    if (a->storage.kind != MLC_STORAGE_ARENA) continue;
    assert_int_equal(a->storage.offset % 64, 0);
    assert_true(a->storage.offset + mlc_value_nbytes(a) <= g->arena_bytes);
    mlc_value_t *ra = view_root(a);
    for (size_t j = 0; j < g->values.len; j++) {
      mlc_value_t *b = g->values.data[j];
      mlc_value_t *rb = view_root(b);
      if (b->storage.kind != MLC_STORAGE_ARENA || ra == rb) continue;
      bool live_together = first[ra->id] <= last[rb->id] && first[rb->id] <= last[ra->id];
      bool overlap = a->storage.offset < b->storage.offset + mlc_value_nbytes(b) &&
                     b->storage.offset < a->storage.offset + mlc_value_nbytes(a);
      assert_false(live_together && overlap);
    }
    if (ra != a) assert_int_equal(a->storage.offset, ra->storage.offset);
  }
  free(first);
  free(last);
}

static void test_random_graphs(void **state) {
  (void)state;
  mlc_pass_ctx_t ctx = {0};
  int reused = 0;
  for (uint32_t seed = 1; seed <= 200; seed++) {
    mlc_graph_t *g = random_graph(seed, 3 + (int)(seed % 40));
    assert_null(mlc_pass_materialize_outputs.run(&ctx, g));
    assert_null(mlc_pass_plan_memory.run(&ctx, g));
    assert_null(mlc_graph_verify(g));
    check_plan(g);
    assert_true(g->weights_bytes == 0 || g->weights_bytes == 64);
    int64_t total = 0;
    for (size_t i = 0; i < g->values.len; i++)
      if (g->values.data[i]->storage.kind == MLC_STORAGE_ARENA &&
          view_root(g->values.data[i]) == g->values.data[i])
        total += 64;
    reused += g->arena_bytes < total;
    mlc_graph_destroy(g);
  }
  assert_true(reused > 100); /* the planner does reuse memory */
}

static void test_errors(void **state) {
  (void)state;
  mlc_pass_ctx_t ctx = {0};
  mlc_graph_t *g = random_graph(7, 3);
  MLC_VEC_PUSH(&g->outputs, g->inputs.data[0]);
  mlc_status_t *st = mlc_pass_plan_memory.run(&ctx, g);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "run materialize-outputs first"));
  mlc_status_free(st);
  mlc_graph_destroy(g);
  g = random_graph(9, 3);
  g->nodes.data[1]->outputs[0]->dims[0].value = -1;
  st = mlc_pass_plan_memory.run(&ctx, g);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "has no static byte size"));
  mlc_status_free(st);
  mlc_graph_destroy(g);
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(mlc_pass_dce.name, "dce");
  assert_string_equal(mlc_pass_materialize_outputs.name, "materialize-outputs");
  assert_string_equal(mlc_pass_plan_memory.name, "plan-memory");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_graphs),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
