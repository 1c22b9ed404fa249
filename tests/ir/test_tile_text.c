/* Tiled IR printer output for hand-built kernels, and the tiled IR
 * verifier: accepts a well-formed kernel, rejects each kind of fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/tile.h"

static char *print_kernel(const mlc_tkernel_t *k) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  mlc_tkernel_print(k, f);
  fclose(f);
  return buf;
}

typedef struct fixture {
  mlc_tkernel_t *k;
  int x, y;          /* buffers: x f32[64] input, y f32[64] output */
  mlc_tvar_t *g0, *i, *acc;
} fixture_t;

static mlc_texpr_t *flat_index(fixture_t *f) {
  mlc_tkernel_t *k = f->k;
  return mlc_tx_binary(k, MLC_TB_ADD,
                       mlc_tx_binary(k, MLC_TB_MUL, mlc_tx_var(k, f->g0), mlc_tx_i64(k, 16)),
                       mlc_tx_var(k, f->i));
}

/* y[g0*16+i] = max(x[..], 0) for i in a vector loop; then a reduction into
 * a local, an if/else and a select with a cast. */
static void build(fixture_t *f) {
  mlc_tkernel_t *k = f->k = mlc_tkernel_create("relu_sum_0");
  assert_non_null(k);
  mlc_storage_t in0 = {MLC_STORAGE_INPUT, 0, 0}, ar = {MLC_STORAGE_ARENA, 0, 128};
  f->x = mlc_tkernel_add_buf(k, "x", MLC_DT_F32, 64, in0, false);
  f->y = mlc_tkernel_add_buf(k, "y", MLC_DT_F32, 64, ar, true);
  f->g0 = mlc_tkernel_add_grid(k, 4);
  f->i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  f->acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F32, "acc");
  mlc_texpr_t *relu = mlc_tx_binary(k, MLC_TB_MAX, mlc_tx_load(k, f->x, flat_index(f)),
                                    mlc_tx_float(k, MLC_DT_F32, 0.0));
  mlc_tstmt_t *vec = mlc_ts_for(k, f->i, mlc_tx_i64(k, 0), mlc_tx_i64(k, 16),
                                MLC_LOOP_VECTORIZE, 8, mlc_ts_store(k, f->y, flat_index(f), relu));
  mlc_tstmt_t *init = mlc_ts_assign(k, f->acc, mlc_tx_float(k, MLC_DT_F32, 0.5));
  mlc_texpr_t *sum = mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_var(k, f->acc),
                                   mlc_tx_load(k, f->x, flat_index(f)));
  mlc_tstmt_t *red = mlc_ts_for(k, f->i, mlc_tx_i64(k, 0), mlc_tx_i64(k, 16),
                                MLC_LOOP_UNROLL, 0, mlc_ts_assign(k, f->acc, sum));
  mlc_texpr_t *cond = mlc_tx_binary(k, MLC_TB_LT, mlc_tx_var(k, f->g0), mlc_tx_i64(k, 2));
  mlc_texpr_t *sel = mlc_tx_select(
      k, mlc_tx_unary(k, MLC_TU_ISNAN, mlc_tx_var(k, f->acc)),
      mlc_tx_cast(k, MLC_DT_F32, mlc_tx_int(k, MLC_DT_I32, -1)), mlc_tx_var(k, f->acc));
  mlc_tstmt_t *then_s = mlc_ts_store(k, f->y, mlc_tx_i64(k, 0), sel);
  mlc_tstmt_t *else_s = mlc_ts_store(k, f->y, mlc_tx_i64(k, 63),
                                     mlc_tx_unary(k, MLC_TU_EXP, mlc_tx_var(k, f->acc)));
  mlc_tstmt_t *stmts[] = {vec, init, red, mlc_ts_if(k, cond, then_s, else_s)};
  k->body = mlc_ts_block(k, 4, stmts);
  assert_non_null(k->body);
}

static void test_print_kernel(void **state) {
  (void)state;
  fixture_t f;
  build(&f);
  char *text = print_kernel(f.k);
  const char *want =
      "kernel relu_sum_0(in x: f32[64] @in0, out y: f32[64] @arena+128) grid [4] {\n"
      "  for i1 in [0, 16) vectorize(8) {\n"
      "    store y[((g0 * 16) + i1)] = max(x[((g0 * 16) + i1)], 0:f32)\n"
      "  }\n"
      "  acc2 = 0.5:f32\n"
      "  for i1 in [0, 16) unroll {\n"
      "    acc2 = (acc2 + x[((g0 * 16) + i1)])\n"
      "  }\n"
      "  if (g0 < 2) {\n"
      "    store y[0] = select(isnan(acc2), cast<f32>(-1:i32), acc2)\n"
      "  } else {\n"
      "    store y[63] = exp(acc2)\n"
      "  }\n"
      "}\n";
  assert_string_equal(text, want);
  free(text);
  assert_null(mlc_tkernel_verify(f.k));
  mlc_tkernel_destroy(f.k);
}

static void test_print_names(void **state) {
  (void)state;
  mlc_tkernel_t *k = mlc_tkernel_create("k");
  mlc_storage_t none = {0};
  int a = mlc_tkernel_add_buf(k, "t", MLC_DT_I64, 2, none, true);
  mlc_tkernel_add_buf(k, "t", MLC_DT_BOOL, 1, none, false);
  int c = mlc_tkernel_add_buf(k, "conv/out:0", MLC_DT_U8, 1, none, true);
  mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F32, "x"); /* shifts grid ids */
  mlc_tkernel_add_grid(k, 2);
  mlc_tstmt_t *s[] = {mlc_ts_store(k, a, mlc_tx_i64(k, 1), mlc_tx_i64(k, -7)),
                      mlc_ts_store(k, c, mlc_tx_i64(k, 0),
                                   mlc_tx_cast(k, MLC_DT_U8, mlc_tx_load(k, 1, mlc_tx_i64(k, 0))))};
  k->body = mlc_ts_block(k, 2, s);
  char *text = print_kernel(k);
  assert_string_equal(text,
                      "kernel k(out buf0: i64[2], in buf1: bool[1], out buf2: u8[1]) "
                      "grid [g1: 2] {\n"
                      "  store buf0[1] = -7\n"
                      "  store buf2[0] = cast<u8>(buf1[0])\n"
                      "}\n");
  free(text);
  assert_null(mlc_tkernel_verify(k));
  mlc_tkernel_destroy(k);
}

/* ---- verifier errors ---- */

static void expect_verify_error(mlc_tkernel_t *k, const char *what) {
  mlc_status_t *st = mlc_tkernel_verify(k);
  assert_non_null(st);
  if (!strstr(mlc_status_message(st), what))
    fprintf(stderr, "message: %s\nexpected: %s\n", mlc_status_message(st), what);
  assert_non_null(strstr(mlc_status_message(st), what));
  assert_non_null(strstr(mlc_status_message(st), "kernel relu_sum_0"));
  mlc_status_free(st);
  mlc_tkernel_destroy(k);
}

static mlc_tstmt_t *first_stmt(fixture_t *f, int i) { return f->k->body->block.stmts[i]; }

static void test_verify_dtype_errors(void **state) {
  (void)state;
  fixture_t f;
  build(&f);  /* stored value of the wrong dtype */
  first_stmt(&f, 0)->loop.body->store.value = mlc_tx_i64(f.k, 1);
  expect_verify_error(f.k, "store of i64 to 'y' of f32");
  build(&f);  /* binary operands of different dtypes */
  first_stmt(&f, 2)->loop.body->assign.value->bin.b = mlc_tx_float(f.k, MLC_DT_F64, 1);
  expect_verify_error(f.k, "add of f32 and f64");
  build(&f);  /* float index */
  first_stmt(&f, 0)->loop.body->store.index = mlc_tx_float(f.k, MLC_DT_F32, 1);
  expect_verify_error(f.k, "index has dtype f32, expected i64");
  build(&f);  /* if condition not bool */
  first_stmt(&f, 3)->if_.cond = mlc_tx_i64(f.k, 1);
  expect_verify_error(f.k, "if condition is i64, expected bool");
  build(&f);  /* exp of an int */
  first_stmt(&f, 3)->if_.else_s->store.value = mlc_tx_unary(f.k, MLC_TU_EXP, mlc_tx_i64(f.k, 1));
  expect_verify_error(f.k, "exp of i64, expected a float");
  build(&f);  /* comparison claiming a non-bool result */
  first_stmt(&f, 3)->if_.cond->dtype = MLC_DT_I64;
  expect_verify_error(f.k, "lt gives i64, expected bool");
  build(&f);  /* loop bound not i64 */
  first_stmt(&f, 0)->loop.end = mlc_tx_int(f.k, MLC_DT_I32, 16);
  expect_verify_error(f.k, "end has dtype i32, expected i64");
  build(&f);  /* assignment of the wrong dtype */
  first_stmt(&f, 1)->assign.value = mlc_tx_float(f.k, MLC_DT_F64, 0);
  expect_verify_error(f.k, "assignment of f64 to 'acc2' of f32");
}

static void test_verify_scope_errors(void **state) {
  (void)state;
  fixture_t f;
  build(&f);  /* loop variable used after its loop */
  first_stmt(&f, 3)->if_.then_s->store.index = mlc_tx_var(f.k, f.i);
  expect_verify_error(f.k, "variable 'i1' read outside its loop");
  build(&f);  /* local read before assignment: drop the init */
  f.k->body->block.stmts[1] = mlc_ts_store(f.k, f.y, mlc_tx_i64(f.k, 0),
                                           mlc_tx_var(f.k, f.acc));
  expect_verify_error(f.k, "local 'acc2' read before any assignment");
  build(&f);  /* nested loop rebinding the same variable */
  mlc_tstmt_t *inner = first_stmt(&f, 0);
  f.k->body->block.stmts[0] =
      mlc_ts_for(f.k, f.i, mlc_tx_i64(f.k, 0), mlc_tx_i64(f.k, 2), MLC_LOOP_SERIAL, 0, inner);
  expect_verify_error(f.k, "already bound by an enclosing loop");
  build(&f);  /* variable id out of range */
  f.acc->id = 99;
  expect_verify_error(f.k, "id 99 outside [0, 3)");
  build(&f);  /* assigning to a loop variable */
  first_stmt(&f, 1)->assign.var = f.i;
  expect_verify_error(f.k, "assignment to 'i1', not a local");
}

static void test_verify_buffer_errors(void **state) {
  (void)state;
  fixture_t f;
  build(&f);  /* store to a read-only buffer */
  first_stmt(&f, 3)->if_.then_s->store.buf = f.x;
  expect_verify_error(f.k, "store to 'x', which is not a written buffer");
  build(&f);  /* buffer index out of range */
  first_stmt(&f, 3)->if_.else_s->store.buf = 7;
  expect_verify_error(f.k, "buffer 7 out of range [0, 2)");
  build(&f);  /* constant index past the end */
  first_stmt(&f, 3)->if_.else_s->store.index = mlc_tx_i64(f.k, 64);
  expect_verify_error(f.k, "constant index 64 outside [0, 64) of 'y'");
  build(&f);  /* negative constant index in a load */
  first_stmt(&f, 0)->loop.body->store.value->bin.a->load.index = mlc_tx_i64(f.k, -1);
  expect_verify_error(f.k, "constant index -1 outside [0, 64) of 'x'");
  build(&f);  /* zero grid extent */
  f.k->grid_extents[0] = 0;
  expect_verify_error(f.k, "grid dimension 0 has extent 0");
  build(&f);  /* NULL statement in a block */
  f.k->body->block.stmts[2] = NULL;
  expect_verify_error(f.k, "NULL statement");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_print_kernel),
      cmocka_unit_test(test_print_names),
      cmocka_unit_test(test_verify_dtype_errors),
      cmocka_unit_test(test_verify_scope_errors),
      cmocka_unit_test(test_verify_buffer_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
