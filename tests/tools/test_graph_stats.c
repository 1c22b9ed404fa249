/* Tests of tools/graph_stats.c on hand-built graphs: the FLOPs estimate
 * of MatMul, Gemm (transposed), Conv and elementwise ops, the parameter
 * count, the op histogram order and the Graphviz output (also after a
 * node was folded away). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/dot_check.h"
#include "tools/graph_stats.h"

static mlc_value_t *input(mlc_graph_t *g, const char *name, int rank,
                          const int64_t *dims) {
  mlc_value_t *v = mlc_graph_add_value_static(g, name, MLC_DT_F32, rank, dims);
  assert_non_null(v);
  v->flags |= MLC_VALUE_INPUT;
  assert_true(MLC_VEC_PUSH(&g->inputs, v));
  return v;
}

static mlc_value_t *weight(mlc_graph_t *g, const char *name, int rank,
                           const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *zeros = calloc((size_t)n, sizeof *zeros);
  mlc_value_t *v = mlc_graph_add_const(g, name, MLC_DT_F32, rank, dims, zeros,
                                       (size_t)n * 4, MLC_DATA_COPY);
  free(zeros);
  assert_non_null(v);
  return v;
}

static mlc_value_t *node(mlc_graph_t *g, mlc_op_t op, const char *onnx_op,
                         int nin, mlc_value_t **ins, int rank,
                         const int64_t *dims) {
  mlc_value_t *out = mlc_graph_add_value_static(g, "", MLC_DT_F32, rank, dims);
  mlc_node_t *n = mlc_graph_add_node(g, op, onnx_op, nin, ins, 1, &out);
  assert_non_null(n);
  n->onnx_op = onnx_op;
  return out;
}

/* x[2,8] @ w[8,4] -> Relu -> Gemm(transA) with a[4,2]^T -> [2,3];
 * Conv [1,3,8,8] * w[6,3,3,3] -> [1,6,6,6]. */
static mlc_graph_t *build(void) {
  mlc_graph_t *g;
  assert_null(mlc_graph_create("net \"q\"", &g));
  mlc_value_t *x = input(g, "x", 2, (int64_t[]){2, 8});
  mlc_value_t *w = weight(g, "w", 2, (int64_t[]){8, 4});
  mlc_value_t *mm = node(g, MLC_OP_MatMul, "MatMul", 2, (mlc_value_t *[]){x, w},
                         2, (int64_t[]){2, 4});
  mlc_value_t *r = node(g, MLC_OP_Relu, "Relu", 1, &mm, 2, (int64_t[]){2, 4});
  mlc_value_t *t = node(g, MLC_OP_Transpose, "Transpose", 1, &r, 2,
                        (int64_t[]){4, 2});
  mlc_value_t *b = weight(g, "b", 2, (int64_t[]){4, 3});
  mlc_value_t *gm = node(g, MLC_OP_Gemm, "Gemm", 2, (mlc_value_t *[]){t, b}, 2,
                         (int64_t[]){2, 3});
  assert_true(mlc_node_set_int(g, gm->producer, "transA", 1));
  mlc_value_t *img = input(g, "img", 4, (int64_t[]){1, 3, 8, 8});
  mlc_value_t *k = weight(g, "k", 4, (int64_t[]){6, 3, 3, 3});
  mlc_value_t *c = node(g, MLC_OP_Conv, "Conv", 2, (mlc_value_t *[]){img, k},
                        4, (int64_t[]){1, 6, 6, 6});
  mlc_value_t *r2 = node(g, MLC_OP_Relu, "Relu", 1, &c, 4, (int64_t[]){1, 6, 6, 6});
  gm->flags |= MLC_VALUE_OUTPUT;
  r2->flags |= MLC_VALUE_OUTPUT;
  assert_true(MLC_VEC_PUSH(&g->outputs, gm));
  assert_true(MLC_VEC_PUSH(&g->outputs, r2));
  return g;
}

static void test_flops(void **state) {
  (void)state;
  mlc_graph_t *g = build();
  int unknown = -1;
  int64_t want = 2 * (2 * 4 * 8)        /* MatMul */
                 + 2 * 4                /* Relu */
                 + 2 * (2 * 3 * 4)      /* Gemm, K = 4 from transposed A */
                 + 2 * (216 * 27)       /* Conv: 1*6*6*6 outputs, 3*3*3 each */
                 + 216;                 /* Relu */
  assert_int_equal(mlc_stats_flops(g, &unknown), want);
  assert_int_equal(unknown, 0);
  /* An unknown dim makes the node count as unknown, not as garbage. */
  g->nodes.data[0]->outputs[0]->dims[0].value = -1;
  assert_int_equal(mlc_stats_flops(g, &unknown), want - 2 * 64);
  assert_int_equal(unknown, 1);
  mlc_graph_destroy(g);
}

static void test_params_and_histogram(void **state) {
  (void)state;
  mlc_graph_t *g = build();
  int64_t bytes = 0;
  assert_int_equal(mlc_stats_param_count(g, &bytes), 32 + 12 + 162);
  assert_int_equal(bytes, 4 * (32 + 12 + 162));
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_int_equal(mlc_stats_print_histogram(g, f), 6);
  fclose(f);
  /* Relu twice first, then the rest by name. */
  assert_string_equal(buf, "       2  Relu\n       1  Conv\n       1  Gemm\n"
                           "       1  MatMul\n       1  Transpose\n");
  free(buf);
  mlc_graph_destroy(g);
}

static void test_dot(void **state) {
  (void)state;
  mlc_graph_t *g = build();
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  mlc_stats_print_dot(g, f);
  fclose(f);
  assert_non_null(strstr(buf, "digraph \"net \\\"q\\\"\" {"));
  assert_non_null(strstr(buf, "[shape=ellipse, label=\"x\\nf32 [2, 8]\"]"));
  assert_non_null(strstr(buf, "label=\"MatMul\\nMatMul\""));
  /* x feeds the MatMul; the constant w draws no edge. */
  char edge[64];
  snprintf(edge, sizeof edge, "v%u -> n%u", g->inputs.data[0]->id,
           g->nodes.data[0]->id);
  assert_non_null(strstr(buf, edge));
  assert_null(strstr(buf, "\"w\\n"));
  assert_non_null(strstr(buf, "-> out1"));
  assert_int_equal(buf[len - 2], '}');
  assert_edges_declared(buf);
  free(buf);
  mlc_graph_destroy(g);
}

/* A node folded away by constant folding (dead, its output now holding
 * data) draws neither a box nor an edge. */
static void test_dot_folded(void **state) {
  (void)state;
  mlc_graph_t *g = build();
  mlc_node_t *tr = g->nodes.data[2];
  assert_string_equal(tr->onnx_op, "Transpose");
  float zeros[8] = {0};
  assert_null(mlc_value_set_const(g, tr->outputs[0], zeros, sizeof zeros,
                                  MLC_DATA_COPY));
  tr->dead = true;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  mlc_stats_print_dot(g, f);
  fclose(f);
  char src[32];
  snprintf(src, sizeof src, "n%u ->", tr->id);
  assert_null(strstr(buf, src));
  assert_null(strstr(buf, "Transpose"));
  assert_non_null(strstr(buf, "label=\"Gemm\\n"));
  assert_edges_declared(buf);
  free(buf);
  mlc_graph_destroy(g);
}

static void test_format_value(void **state) {
  (void)state;
  mlc_graph_t *g;
  assert_null(mlc_graph_create("t", &g));
  mlc_dim_t dims[] = {{1, "N"}, {3, NULL}, {-1, NULL}};
  mlc_value_t *v = mlc_graph_add_value(g, "x", MLC_DT_I64, 3, dims);
  char buf[64];
  mlc_stats_format_value(v, buf, sizeof buf);
  assert_string_equal(buf, "i64 [N, 3, ?]");
  v->rank = -1;
  mlc_stats_format_value(v, buf, sizeof buf);
  assert_string_equal(buf, "i64 [unknown rank]");
  mlc_stats_format_value(v, buf, 5); /* truncates, never overflows */
  assert_int_equal(strlen(buf), 4);
  mlc_graph_destroy(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flops),
      cmocka_unit_test(test_params_and_histogram),
      cmocka_unit_test(test_dot),
      cmocka_unit_test(test_dot_folded),
      cmocka_unit_test(test_format_value),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
