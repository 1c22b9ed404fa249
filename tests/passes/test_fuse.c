/* Tests of the fuse pass and of mlc_lower_program on fused groups: groups
 * and FUSED flags are formed as documented, members become contiguous,
 * one kernel per group comes out, and running the program's kernels (with
 * a tiny storage plan made here) gives the same numbers as the unfused
 * program. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "passes/lower.h"
#include "passes/pass.h"

/* x[2,3,5,5] -conv(w[4,3,3,3], b, pads 1)-> c -add(r)-> a -relu-> y ;
 * an independent node in between; then y -sigmoid-> s -mul(s, k)-> z. */
static mlc_graph_t *build(void) {
  mlc_graph_t *g;
  assert_null(mlc_graph_create("f", &g));
  float x[2 * 3 * 5 * 5], w[4 * 3 * 3 * 3], b[4], r[4 * 5 * 5], k[5];
  for (size_t i = 0; i < sizeof x / 4; i++) x[i] = (float)((i * 7) % 11) / 5 - 1;
  for (size_t i = 0; i < sizeof w / 4; i++) w[i] = (float)((i * 5) % 13) / 6 - 1;
  for (size_t i = 0; i < 4; i++) b[i] = (float)i / 4 - 0.3f;
  for (size_t i = 0; i < sizeof r / 4; i++) r[i] = (float)((i * 3) % 7) / 7 - 0.5f;
  for (size_t i = 0; i < 5; i++) k[i] = (float)i + 0.5f;
  mlc_value_t *xv = mlc_graph_add_const(g, "x", MLC_DT_F32, 4, (int64_t[]){2, 3, 5, 5}, x, sizeof x, MLC_DATA_COPY);
  mlc_value_t *wv = mlc_graph_add_const(g, "w", MLC_DT_F32, 4, (int64_t[]){4, 3, 3, 3}, w, sizeof w, MLC_DATA_COPY);
  mlc_value_t *bv = mlc_graph_add_const(g, "b", MLC_DT_F32, 1, (int64_t[]){4}, b, sizeof b, MLC_DATA_COPY);
  mlc_value_t *rv = mlc_graph_add_const(g, "r", MLC_DT_F32, 3, (int64_t[]){4, 5, 5}, r, sizeof r, MLC_DATA_COPY);
  mlc_value_t *kv = mlc_graph_add_const(g, "k", MLC_DT_F32, 1, (int64_t[]){5}, k, sizeof k, MLC_DATA_COPY);
  const int64_t od[4] = {2, 4, 5, 5};
  mlc_value_t *c = mlc_graph_add_value_static(g, "c", MLC_DT_F32, 4, od);
  mlc_value_t *a = mlc_graph_add_value_static(g, "a", MLC_DT_F32, 4, od);
  mlc_value_t *y = mlc_graph_add_value_static(g, "y", MLC_DT_F32, 4, od);
  mlc_value_t *s = mlc_graph_add_value_static(g, "s", MLC_DT_F32, 4, od);
  mlc_value_t *z = mlc_graph_add_value_static(g, "z", MLC_DT_F32, 4, od);
  mlc_value_t *other = mlc_graph_add_value_static(g, "o", MLC_DT_F32, 1, (int64_t[]){5});
  mlc_node_t *conv = mlc_graph_add_node(g, MLC_OP_Conv, "conv", 3, (mlc_value_t *[]){xv, wv, bv}, 1, &c);
  mlc_node_set_ints(g, conv, "pads", (int64_t[]){1, 1, 1, 1}, 4);
  mlc_graph_add_node(g, MLC_OP_Add, "add", 2, (mlc_value_t *[]){c, rv}, 1, &a);
  mlc_graph_add_node(g, MLC_OP_Neg, "other", 1, &kv, 1, &other);
  mlc_graph_add_node(g, MLC_OP_Relu, "relu", 1, &a, 1, &y);
  mlc_graph_add_node(g, MLC_OP_Sigmoid, "sig", 1, &y, 1, &s);
  mlc_graph_add_node(g, MLC_OP_Mul, "mul", 2, (mlc_value_t *[]){s, other}, 1, &z);
  z->flags |= MLC_VALUE_OUTPUT;
  y->flags |= MLC_VALUE_OUTPUT;
  MLC_VEC_PUSH(&g->outputs, y);
  MLC_VEC_PUSH(&g->outputs, z);
  return g;
}

/* Storage: constants in the weights blob, everything else in the arena. */
static void plan(mlc_graph_t *g) {
  int64_t w = 0, a = 0;
  for (size_t i = 0; i < g->values.len; i++) {
    mlc_value_t *v = g->values.data[i];
    int64_t nb = mlc_value_nbytes(v);
    if (v->flags & MLC_VALUE_FUSED) continue;
    if (v->data) {
      v->storage = (mlc_storage_t){MLC_STORAGE_WEIGHT, 0, w};
      w += (nb + 63) / 64 * 64;
    } else {
      v->storage = (mlc_storage_t){MLC_STORAGE_ARENA, 0, a};
      a += (nb + 63) / 64 * 64;
    }
  }
  g->weights_bytes = w;
  g->arena_bytes = a;
}

/* Runs the program; returns the arena (caller frees). */
static char *execute(mlc_graph_t *g, mlc_program_t *p) {
  plan(g);
  mlc_pass_ctx_t ctx = {0};
  mlc_status_t *st = mlc_lower_program(&ctx, g, p);
  if (st) fail_msg("%s", mlc_status_message(st));
  char *weights = malloc((size_t)p->weights_bytes + 1);
  char *arena = calloc(1, (size_t)p->arena_bytes + 1);
  mlc_program_pack_weights(p, weights);
  for (size_t i = 0; i < p->kernels.len; i++) {
    mlc_tkernel_t *k = p->kernels.data[i];
    void *bufs[16];
    assert_true(k->nbufs <= 16);
    for (int b = 0; b < k->nbufs; b++) {
      mlc_storage_t s = k->bufs[b].storage;
      assert_true(s.kind == MLC_STORAGE_WEIGHT || s.kind == MLC_STORAGE_ARENA);
      bufs[b] = (s.kind == MLC_STORAGE_WEIGHT ? weights : arena) + s.offset;
    }
    st = mlc_tkernel_interpret(k, bufs);
    if (st) fail_msg("%s: %s", k->name, mlc_status_message(st));
  }
  free(weights);
  return arena;
}

static mlc_value_t *find(mlc_graph_t *g, const char *name) {
  for (size_t i = 0; i < g->values.len; i++)
    if (strcmp(g->values.data[i]->name, name) == 0) return g->values.data[i];
  return NULL;
}

static void test_groups_and_flags(void **state) {
  (void)state;
  mlc_graph_t *g = build();
  mlc_pass_ctx_t ctx = {0};
  assert_null(mlc_pass_fuse.run(&ctx, g));
  /* conv+add+relu is one group (y is a graph output, so it ends there);
   * sigmoid+mul another; the Neg stays alone and moves before them. */
  const char *order[6] = {"other", "conv", "add", "relu", "sig", "mul"};
  for (int i = 0; i < 6; i++) assert_string_equal(g->nodes.data[i]->name, order[i]);
  int g1 = g->nodes.data[1]->group, g2 = g->nodes.data[4]->group;
  assert_int_equal(g->nodes.data[0]->group, -1);
  assert_true(g1 >= 0 && g2 >= 0 && g1 != g2);
  assert_int_equal(g->nodes.data[2]->group, g1);
  assert_int_equal(g->nodes.data[3]->group, g1);
  assert_int_equal(g->nodes.data[5]->group, g2);
  assert_true(find(g, "c")->flags & MLC_VALUE_FUSED);
  assert_true(find(g, "a")->flags & MLC_VALUE_FUSED);
  assert_true(find(g, "s")->flags & MLC_VALUE_FUSED);
  assert_false(find(g, "y")->flags & MLC_VALUE_FUSED);
  assert_false(find(g, "z")->flags & MLC_VALUE_FUSED);
  mlc_graph_destroy(g);
}

static void test_fused_program_matches_unfused(void **state) {
  (void)state;
  mlc_graph_t *g0 = build(), *g1 = build();
  mlc_pass_ctx_t ctx = {0};
  assert_null(mlc_pass_fuse.run(&ctx, g1));
  mlc_program_t p0, p1;
  char *a0 = execute(g0, &p0), *a1 = execute(g1, &p1);
  assert_int_equal(p0.kernels.len, 6);
  assert_int_equal(p1.kernels.len, 3);
  assert_ptr_equal(p1.graph, g1);
  /* kernel names are unique C identifiers */
  assert_string_equal(p1.kernels.data[1]->name, "k1_conv");
  const char *outs[2] = {"y", "z"};
  for (int o = 0; o < 2; o++) {
    mlc_value_t *v0 = find(g0, outs[o]), *v1 = find(g1, outs[o]);
    const float *x0 = (const float *)(a0 + v0->storage.offset);
    const float *x1 = (const float *)(a1 + v1->storage.offset);
    int64_t n = mlc_value_numel(v0);
    int nonzero = 0;
    for (int64_t i = 0; i < n; i++) {
      assert_true(fabsf(x0[i] - x1[i]) <= 1e-6f * (1 + fabsf(x0[i])));
      nonzero += x0[i] != 0;
    }
    assert_true(nonzero > n / 4);
  }
  free(a0);
  free(a1);
  mlc_program_deinit(&p0);
  mlc_program_deinit(&p1);
  mlc_graph_destroy(g0);
  mlc_graph_destroy(g1);
}


/* MatMul [3,40]x[40,70] + bias[70] -> Gelu, fused into one kernel whose
 * epilogue loads the bias at the output column. */
static void test_matmul_epilogue(void **state) {
  (void)state;
  mlc_graph_t *gs[2];
  char *arena[2];
  mlc_program_t p[2];
  for (int f = 0; f < 2; f++) {
    mlc_graph_t *g;
    assert_null(mlc_graph_create("m", &g));
    static float a[3 * 40], b[40 * 70], bias[70];
    for (int i = 0; i < 3 * 40; i++) a[i] = (float)((i * 7) % 9) / 9 - 0.4f;
    for (int i = 0; i < 40 * 70; i++) b[i] = (float)((i * 5) % 11) / 11 - 0.5f;
    for (int i = 0; i < 70; i++) bias[i] = (float)i / 70 - 0.5f;
    mlc_value_t *av = mlc_graph_add_const(g, "a", MLC_DT_F32, 2, (int64_t[]){3, 40}, a, sizeof a, MLC_DATA_COPY);
    mlc_value_t *bv = mlc_graph_add_const(g, "b", MLC_DT_F32, 2, (int64_t[]){40, 70}, b, sizeof b, MLC_DATA_COPY);
    mlc_value_t *cv = mlc_graph_add_const(g, "bias", MLC_DT_F32, 1, (int64_t[]){70}, bias, sizeof bias, MLC_DATA_COPY);
    mlc_value_t *mm = mlc_graph_add_value_static(g, "mm", MLC_DT_F32, 2, (int64_t[]){3, 70});
    mlc_value_t *ad = mlc_graph_add_value_static(g, "ad", MLC_DT_F32, 2, (int64_t[]){3, 70});
    mlc_value_t *y = mlc_graph_add_value_static(g, "y", MLC_DT_F32, 2, (int64_t[]){3, 70});
    mlc_graph_add_node(g, MLC_OP_MatMul, "mm", 2, (mlc_value_t *[]){av, bv}, 1, &mm);
    mlc_graph_add_node(g, MLC_OP_Add, "add", 2, (mlc_value_t *[]){cv, mm}, 1, &ad);
    mlc_graph_add_node(g, MLC_OP_Gelu, "gelu", 1, &ad, 1, &y);
    y->flags |= MLC_VALUE_OUTPUT;
    MLC_VEC_PUSH(&g->outputs, y);
    mlc_pass_ctx_t ctx = {0};
    if (f) assert_null(mlc_pass_fuse.run(&ctx, g));
    arena[f] = execute(g, &p[f]);
    gs[f] = g;
  }
  assert_int_equal(p[0].kernels.len, 3);
  assert_int_equal(p[1].kernels.len, 1);
  assert_int_equal(p[1].kernels.data[0]->nbufs, 4); /* a, b, y, bias */
  mlc_value_t *y0 = find(gs[0], "y"), *y1 = find(gs[1], "y");
  const float *x0 = (const float *)(arena[0] + y0->storage.offset);
  const float *x1 = (const float *)(arena[1] + y1->storage.offset);
  for (int i = 0; i < 3 * 70; i++) assert_true(fabsf(x0[i] - x1[i]) <= 1e-6f);
  for (int f = 0; f < 2; f++) {
    free(arena[f]);
    mlc_program_deinit(&p[f]);
    mlc_graph_destroy(gs[f]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_groups_and_flags),
      cmocka_unit_test(test_fused_program_matches_unfused),
      cmocka_unit_test(test_matmul_epilogue),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
