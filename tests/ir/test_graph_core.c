/* Unit tests for the graph IR core (ir/graph.c, ir/dtype.c, ir/tile.c
 * builders): values, constants, nodes, attributes, use counts,
 * topological sort, dtype tables, tiled-IR constant simplification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ir/graph.h"
#include "ir/tile.h"

static void test_dtype(void **state) {
  (void)state;
  assert_int_equal(mlc_dtype_size(MLC_DT_F32), 4);
  assert_int_equal(mlc_dtype_size(MLC_DT_BF16), 2);
  assert_int_equal(mlc_dtype_size(MLC_DT_I4), 0);
  assert_string_equal(mlc_dtype_name(MLC_DT_I64), "i64");
  assert_string_equal(mlc_dtype_name((mlc_dtype_t)99), "?");
  mlc_dtype_t dt;
  assert_true(mlc_dtype_parse("bf16", 4, &dt));
  assert_int_equal(dt, MLC_DT_BF16);
  assert_false(mlc_dtype_parse("f33", 3, &dt));
  assert_true(mlc_dtype_is_float(MLC_DT_F16));
  assert_false(mlc_dtype_is_float(MLC_DT_I8));
  assert_true(mlc_dtype_is_signed(MLC_DT_I8));
  assert_false(mlc_dtype_is_signed(MLC_DT_U8));
  assert_false(mlc_dtype_is_computable(MLC_DT_STRING));
}

static void test_ops_table(void **state) {
  (void)state;
  assert_string_equal(mlc_op_name(MLC_OP_Conv), "Conv");
  mlc_op_t op;
  assert_true(mlc_op_lookup("MatMul", 6, &op));
  assert_int_equal(op, MLC_OP_MatMul);
  assert_false(mlc_op_lookup("Mat", 3, &op));
  assert_true(mlc_op_info(MLC_OP_Add)->flags & MLC_OPF_COMM);
  assert_true(mlc_op_info(MLC_OP_Reshape)->flags & MLC_OPF_VIEW);
  assert_int_equal(mlc_op_info(MLC_OP_Max)->max_inputs, -1);
}

static void test_values_nodes(void **state) {
  (void)state;
  mlc_graph_t *g;
  assert_null(mlc_graph_create("t", &g));
  mlc_dim_t d[2] = {{-1, "N"}, {4, NULL}};
  mlc_value_t *x = mlc_graph_add_value(g, "x", MLC_DT_F32, 2, d);
  assert_non_null(x);
  assert_string_equal(x->dims[0].sym, "N");
  assert_int_equal(mlc_value_numel(x), -1);
  assert_false(mlc_value_is_static(x));
  x->dims[0].value = 3;
  assert_int_equal(mlc_value_numel(x), 12);
  assert_int_equal(mlc_value_nbytes(x), 48);

  int64_t sh[] = {2, 3, -1};
  mlc_value_t *c = mlc_graph_add_const_i64s(g, "shape", sh, 3);
  assert_true(mlc_value_is_const(c));
  assert_int_equal(mlc_value_const_int(c, 2), -1);
  mlc_value_t *s = mlc_graph_add_const_scalar(g, "s", MLC_DT_F32, 0.5);
  assert_int_equal(s->rank, 0);
  assert_true(mlc_value_const_float(s, 0) == 0.5);
  uint16_t h = 0x3c00; /* 1.0 in f16 */
  mlc_value_t *hv =
      mlc_graph_add_const(g, "h", MLC_DT_F16, 0, NULL, &h, 2, MLC_DATA_COPY);
  assert_true(mlc_value_const_float(hv, 0) == 1.0);
  /* wrong byte count is rejected */
  assert_null(mlc_graph_add_const(g, "bad", MLC_DT_F32, 1, (int64_t[]){3}, &h,
                                  2, MLC_DATA_COPY));

  mlc_value_t *y = mlc_graph_add_value(g, "y", MLC_DT_F32, 0, NULL);
  mlc_value_t *z = mlc_graph_add_value(g, "z", MLC_DT_F32, 0, NULL);
  /* add z's producer first, then y's: toposort must reorder */
  mlc_node_t *n2 = mlc_graph_add_node(g, MLC_OP_Relu, "r", 1, &y, 1, &z);
  mlc_node_t *n1 = mlc_graph_add_node(g, MLC_OP_Reshape, "rs", 2,
                                      (mlc_value_t *[]){x, c}, 1, &y);
  assert_ptr_equal(y->producer, n1);
  assert_true(mlc_node_set_int(g, n1, "allowzero", 1));
  assert_true(mlc_node_set_int(g, n1, "allowzero", 0));
  assert_int_equal(n1->nattrs, 1);
  assert_int_equal(mlc_node_attr_int(n1, "allowzero", 5), 0);
  assert_int_equal(mlc_node_attr_int(n1, "missing", 5), 5);
  int64_t perm[] = {1, 0};
  assert_true(mlc_node_set_ints(g, n2, "perm", perm, 2));
  const int64_t *pv;
  assert_int_equal(mlc_node_attr_ints(n2, "perm", &pv), 2);
  assert_int_equal(pv[1], 0);
  assert_true(mlc_node_set_string(g, n2, "mode", "edge"));
  assert_string_equal(mlc_node_attr_string(n2, "mode", ""), "edge");
  assert_string_equal(mlc_node_describe(g, n2), "node 'r' (Relu)");
  n2->name = "";
  assert_string_equal(mlc_node_describe(g, n2), "node (Relu) producing 'z'");
  z->name = "";
  assert_string_equal(mlc_node_describe(g, n2), "node #0 (Relu)");
  n2->name = "r";
  z->name = "z";

  assert_true(MLC_VEC_PUSH(&g->outputs, z));
  mlc_graph_count_uses(g);
  assert_int_equal(y->nuses, 1);
  assert_int_equal(z->nuses, 1);
  assert_null(mlc_graph_toposort(g));
  assert_ptr_equal(g->nodes.data[0], n1);
  assert_ptr_equal(g->nodes.data[1], n2);

  mlc_graph_replace_uses(g, z, y);
  assert_ptr_equal(g->outputs.data[0], y);
  n2->dead = true;
  mlc_graph_compact(g);
  assert_int_equal(g->nodes.len, 1);
  mlc_graph_destroy(g);
}

static void test_toposort_cycle(void **state) {
  (void)state;
  mlc_graph_t *g;
  assert_null(mlc_graph_create(NULL, &g));
  mlc_value_t *a = mlc_graph_add_value(g, "a", MLC_DT_F32, 0, NULL);
  mlc_value_t *b = mlc_graph_add_value(g, "b", MLC_DT_F32, 0, NULL);
  mlc_graph_add_node(g, MLC_OP_Relu, "n1", 1, &a, 1, &b);
  mlc_graph_add_node(g, MLC_OP_Relu, "n2", 1, &b, 1, &a);
  mlc_status_t *st = mlc_graph_toposort(g);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "cycle"));
  mlc_status_free(st);
  mlc_graph_destroy(g);
}

static void test_tile_builders(void **state) {
  (void)state;
  mlc_tkernel_t *k = mlc_tkernel_create("k0");
  assert_non_null(k);
  mlc_storage_t none = {0};
  int b = mlc_tkernel_add_buf(k, "x", MLC_DT_F32, 16, none, false);
  assert_int_equal(b, 0);
  mlc_tvar_t *g0 = mlc_tkernel_add_grid(k, 4);
  assert_int_equal(k->ngrid, 1);
  assert_int_equal(k->grid_extents[0], 4);
  /* i64 constant arithmetic folds */
  mlc_texpr_t *e = mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_i64(k, 2), mlc_tx_i64(k, 3));
  assert_int_equal(e->kind, MLC_TX_CONST);
  assert_int_equal(e->c.i, 5);
  mlc_texpr_t *v = mlc_tx_var(k, g0);
  assert_ptr_equal(mlc_tx_binary(k, MLC_TB_MUL, v, mlc_tx_i64(k, 1)), v);
  assert_ptr_equal(mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_i64(k, 0), v), v);
  mlc_texpr_t *cmp = mlc_tx_binary(k, MLC_TB_LT, v, mlc_tx_i64(k, 2));
  assert_int_equal(cmp->dtype, MLC_DT_BOOL);
  assert_null(mlc_tx_load(k, 5, v));   /* no such buffer */
  assert_null(mlc_tx_unary(k, MLC_TU_EXP, NULL)); /* NULL propagates */
  mlc_tstmt_t *blk = mlc_ts_block(k, 0, NULL);
  assert_true(mlc_ts_block_append(k, blk, mlc_ts_assign(k,
      mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F32, "acc"),
      mlc_tx_float(k, MLC_DT_F32, 0))));
  assert_int_equal(blk->block.n, 1);
  assert_string_equal(mlc_tbinop_name(MLC_TB_GE), "ge");
  assert_string_equal(mlc_tunop_name(MLC_TU_ISNAN), "isnan");
  mlc_tkernel_destroy(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dtype),
      cmocka_unit_test(test_ops_table),
      cmocka_unit_test(test_values_nodes),
      cmocka_unit_test(test_toposort_cycle),
      cmocka_unit_test(test_tile_builders),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
