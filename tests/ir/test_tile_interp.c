/* Tests of the tiled-IR interpreter: the semantics tile.h promises
 * (integer division guards, NaN-propagating min/max, round half to even,
 * saturating float->int casts, f16/bf16 rounding on store), grid
 * iteration, and run-time bounds errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/tile.h"

static mlc_storage_t S0 = {0};

/* out[i] = op(a[i], b[i]) over n elements of dtype dt (result dtype rdt). */
static mlc_tkernel_t *bin_kernel(mlc_tbinop_t op, mlc_dtype_t dt,
                                 mlc_dtype_t rdt, int64_t n) {
  mlc_tkernel_t *k = mlc_tkernel_create("bin");
  int a = mlc_tkernel_add_buf(k, "a", dt, n, S0, false);
  int b = mlc_tkernel_add_buf(k, "b", dt, n, S0, false);
  int o = mlc_tkernel_add_buf(k, "o", rdt, n, S0, true);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_texpr_t *iv = mlc_tx_var(k, i);
  mlc_tstmt_t *s = mlc_ts_store(
      k, o, iv,
      mlc_tx_binary(k, op, mlc_tx_load(k, a, iv), mlc_tx_load(k, b, iv)));
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, n),
                       MLC_LOOP_VECTORIZE, 0, s);
  assert_non_null(k->body);
  return k;
}

static void run(mlc_tkernel_t *k, void *a, void *b, void *o) {
  void *bufs[3] = {a, b, o};
  mlc_status_t *st = mlc_tkernel_interpret(k, bufs);
  assert_null(st);
  mlc_tkernel_destroy(k);
}

static void test_int_div_mod_guards(void **state) {
  (void)state;
  int32_t a[5] = {7, -7, 5, INT32_MIN, 9}, b[5] = {2, 2, 0, -1, -4}, o[5];
  run(bin_kernel(MLC_TB_DIV, MLC_DT_I32, MLC_DT_I32, 5), a, b, o);
  int32_t want[5] = {3, -3, 0, INT32_MIN, -2};
  assert_memory_equal(o, want, sizeof want);
  run(bin_kernel(MLC_TB_MOD, MLC_DT_I32, MLC_DT_I32, 5), a, b, o);
  int32_t wmod[5] = {1, -1, 0, 0, 1};
  assert_memory_equal(o, wmod, sizeof wmod);
}

static void test_u8_wraps_and_u64_unsigned(void **state) {
  (void)state;
  uint8_t a[2] = {200, 3}, b[2] = {100, 5}, o[2];
  run(bin_kernel(MLC_TB_ADD, MLC_DT_U8, MLC_DT_U8, 2), a, b, o);
  assert_int_equal(o[0], 44);
  assert_int_equal(o[1], 8);
  uint64_t x[1] = {UINT64_MAX}, y[1] = {2}, z[1];
  run(bin_kernel(MLC_TB_DIV, MLC_DT_U64, MLC_DT_U64, 1), x, y, z);
  assert_true(z[0] == UINT64_MAX / 2);
  uint8_t lt[1];
  run(bin_kernel(MLC_TB_LT, MLC_DT_U64, MLC_DT_BOOL, 1), y, x, lt);
  assert_int_equal(lt[0], 1);
}

static void test_float_minmax_nan(void **state) {
  (void)state;
  float a[3] = {1, NAN, 3}, b[3] = {NAN, 2, 1}, o[3];
  run(bin_kernel(MLC_TB_MIN, MLC_DT_F32, MLC_DT_F32, 3), a, b, o);
  assert_true(isnan(o[0]) && isnan(o[1]));
  assert_true(o[2] == 1.0f);
  run(bin_kernel(MLC_TB_MAX, MLC_DT_F32, MLC_DT_F32, 3), a, b, o);
  assert_true(isnan(o[0]) && isnan(o[1]) && o[2] == 3.0f);
}

/* out[i] = cast<to>(unary(op, a[i])) or just cast when op < 0. */
static mlc_tkernel_t *un_kernel(int op, mlc_dtype_t dt, mlc_dtype_t to,
                                int64_t n) {
  mlc_tkernel_t *k = mlc_tkernel_create("un");
  int a = mlc_tkernel_add_buf(k, "a", dt, n, S0, false);
  int o = mlc_tkernel_add_buf(k, "o", to, n, S0, true);
  mlc_tvar_t *g = mlc_tkernel_add_grid(k, n);
  mlc_texpr_t *gv = mlc_tx_var(k, g);
  mlc_texpr_t *v = mlc_tx_load(k, a, gv);
  if (op >= 0) v = mlc_tx_unary(k, (mlc_tunop_t)op, v);
  k->body = mlc_ts_store(k, o, gv, mlc_tx_cast(k, to, v));
  assert_non_null(k->body);
  return k;
}

static void test_round_half_even(void **state) {
  (void)state;
  float a[6] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.6f}, o[6];
  run(un_kernel(MLC_TU_ROUND, MLC_DT_F32, MLC_DT_F32, 6), a, o, NULL);
  float want[6] = {0, 2, 2, -0.0f, -2, 3};
  for (int i = 0; i < 6; i++) assert_true(o[i] == want[i]);
}

static void test_saturating_casts(void **state) {
  (void)state;
  float a[5] = {300.7f, -300.f, NAN, -1.9f, 1e30f};
  int8_t o[5];
  run(un_kernel(-1, MLC_DT_F32, MLC_DT_I8, 5), a, o, NULL);
  int8_t want[5] = {127, -128, 0, -1, 127};
  assert_memory_equal(o, want, 5);
  uint8_t ob[5];
  run(un_kernel(-1, MLC_DT_F32, MLC_DT_BOOL, 5), a, ob, NULL);
  assert_int_equal(ob[2], 1); /* NaN != 0 */
  uint32_t ou[2];
  float b[2] = {-5.f, 5e9f};
  run(un_kernel(-1, MLC_DT_F32, MLC_DT_U32, 2), b, ou, NULL);
  assert_true(ou[0] == 0 && ou[1] == UINT32_MAX);
}

static void test_f16_bf16_round_to_nearest_even(void **state) {
  (void)state;
  /* 1 + 2^-11 is halfway between f16 1.0 and 1+2^-10: ties to 1.0;
   * 1 + 3*2^-11 ties up to 1 + 2^-9. */
  float a[4] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 65520.f, 1e-8f};
  uint16_t h[4];
  run(un_kernel(-1, MLC_DT_F32, MLC_DT_F16, 4), a, h, NULL);
  assert_int_equal(h[0], 0x3c00);
  assert_int_equal(h[1], 0x3c02);
  assert_int_equal(h[2], 0x7c00); /* overflows to inf */
  assert_int_equal(h[3], 0x0000);
  float bsrc[2] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f};
  uint16_t bf[2];
  run(un_kernel(-1, MLC_DT_F32, MLC_DT_BF16, 2), bsrc, bf, NULL);
  assert_int_equal(bf[0], 0x3f80);
  assert_int_equal(bf[1], 0x3f82);
  /* f16 -> f32 via a load: subnormal 2^-24. */
  uint16_t sub[1] = {0x0001};
  float f[1];
  run(un_kernel(-1, MLC_DT_F16, MLC_DT_F32, 1), sub, f, NULL);
  assert_true(f[0] == 0x1p-24f);
}

static void test_out_of_range_is_error(void **state) {
  (void)state;
  mlc_tkernel_t *k = mlc_tkernel_create("oob");
  int a = mlc_tkernel_add_buf(k, "a", MLC_DT_F32, 2, S0, false);
  int o = mlc_tkernel_add_buf(k, "o", MLC_DT_F32, 4, S0, true);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_texpr_t *iv = mlc_tx_var(k, i);
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, 4),
                       MLC_LOOP_SERIAL, 0,
                       mlc_ts_store(k, o, iv, mlc_tx_load(k, a, iv)));
  float x[2] = {1, 2}, y[4] = {0};
  void *bufs[2] = {x, y};
  mlc_status_t *st = mlc_tkernel_interpret(k, bufs);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "out of range"));
  mlc_status_free(st);
  assert_true(y[0] == 1 && y[1] == 2);
  mlc_tkernel_destroy(k);
}

/* Accumulation through a local over a 2-D grid: row sums. */
static void test_grid_and_locals(void **state) {
  (void)state;
  mlc_tkernel_t *k = mlc_tkernel_create("rows");
  int a = mlc_tkernel_add_buf(k, "a", MLC_DT_I32, 12, S0, false);
  int o = mlc_tkernel_add_buf(k, "o", MLC_DT_I64, 4, S0, true);
  mlc_tvar_t *g0 = mlc_tkernel_add_grid(k, 2), *g1 = mlc_tkernel_add_grid(k, 2);
  mlc_tvar_t *j = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "j");
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_I64, "acc");
  mlc_texpr_t *row = mlc_tx_binary(
      k, MLC_TB_ADD, mlc_tx_binary(k, MLC_TB_MUL, mlc_tx_var(k, g0), mlc_tx_i64(k, 2)),
      mlc_tx_var(k, g1));
  mlc_texpr_t *idx = mlc_tx_binary(
      k, MLC_TB_ADD, mlc_tx_binary(k, MLC_TB_MUL, row, mlc_tx_i64(k, 3)),
      mlc_tx_var(k, j));
  mlc_tstmt_t *parts[3] = {
      mlc_ts_assign(k, acc, mlc_tx_i64(k, 0)),
      mlc_ts_for(k, j, mlc_tx_i64(k, 0), mlc_tx_i64(k, 3), MLC_LOOP_SERIAL, 0,
                 mlc_ts_assign(k, acc, mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_var(k, acc),
                                                     mlc_tx_cast(k, MLC_DT_I64, mlc_tx_load(k, a, idx))))),
      mlc_ts_store(k, o, row, mlc_tx_var(k, acc))};
  k->body = mlc_ts_block(k, 3, parts);
  int32_t x[12];
  for (int i = 0; i < 12; i++) x[i] = i;
  int64_t y[4];
  void *bufs[2] = {x, y};
  assert_null(mlc_tkernel_interpret(k, bufs));
  for (int r = 0; r < 4; r++) assert_int_equal(y[r], 9 * r + 3);
  mlc_tkernel_destroy(k);
}

/* FMA rounds once: (1+e)(1-e) - 1 = -e^2 exactly, where mul then add gives
 * 0 in f32; f64 uses fma(); printing shows fma(a, b, c). */
static void test_fma_single_rounding(void **state) {
  (void)state;
  mlc_dtype_t dts[2] = {MLC_DT_F32, MLC_DT_F64};
  for (int t = 0; t < 2; t++) {
    mlc_dtype_t dt = dts[t];
    mlc_tkernel_t *k = mlc_tkernel_create("fma");
    int a = mlc_tkernel_add_buf(k, "a", dt, 1, S0, false);
    int o = mlc_tkernel_add_buf(k, "o", dt, 2, S0, true);
    mlc_texpr_t *x = mlc_tx_load(k, a, mlc_tx_i64(k, 0));
    mlc_texpr_t *y = mlc_tx_binary(k, MLC_TB_SUB, mlc_tx_const(k, dt, 2.0), x);
    mlc_texpr_t *m1 = mlc_tx_const(k, dt, -1.0);
    mlc_tstmt_t *st[2] = {
        mlc_ts_store(k, o, mlc_tx_i64(k, 0), mlc_tx_fma(k, x, y, m1)),
        mlc_ts_store(k, o, mlc_tx_i64(k, 1),
                     mlc_tx_binary(k, MLC_TB_ADD,
                                   mlc_tx_binary(k, MLC_TB_MUL, x, y), m1))};
    k->body = mlc_ts_block(k, 2, st);
    assert_non_null(k->body);
    assert_null(mlc_tkernel_verify(k));
    char *txt = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&txt, &len);
    mlc_tkernel_print(k, f);
    fclose(f);
    assert_non_null(strstr(txt, "fma("));
    free(txt);
    if (dt == MLC_DT_F32) {
      float in = 1.0f + 0x1p-13f, out[2];
      run(k, &in, out, NULL);
      assert_true(out[0] == -0x1p-26f);
      assert_true(out[1] == 0.0f);
    } else {
      double in = 1.0 + 0x1p-30, out[2];
      run(k, &in, out, NULL);
      assert_true(out[0] == -0x1p-60);
      assert_true(out[1] == 0.0);
    }
  }
}

/* The verifier rejects an FMA of ints or of mixed dtypes. */
static void test_fma_verify(void **state) {
  (void)state;
  mlc_tkernel_t *k = mlc_tkernel_create("fmabad");
  int o = mlc_tkernel_add_buf(k, "o", MLC_DT_I32, 1, S0, true);
  mlc_texpr_t *i1 = mlc_tx_int(k, MLC_DT_I32, 1);
  k->body = mlc_ts_store(k, o, mlc_tx_i64(k, 0), mlc_tx_fma(k, i1, i1, i1));
  mlc_status_t *st = mlc_tkernel_verify(k);
  assert_non_null(st);
  mlc_status_free(st);
  mlc_tkernel_destroy(k);
  k = mlc_tkernel_create("fmamix");
  o = mlc_tkernel_add_buf(k, "o", MLC_DT_F32, 1, S0, true);
  mlc_texpr_t *f = mlc_tx_float(k, MLC_DT_F32, 1.0);
  mlc_texpr_t *d = mlc_tx_float(k, MLC_DT_F64, 1.0);
  k->body = mlc_ts_store(k, o, mlc_tx_i64(k, 0), mlc_tx_fma(k, f, d, f));
  st = mlc_tkernel_verify(k);
  assert_non_null(st);
  mlc_status_free(st);
  mlc_tkernel_destroy(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_int_div_mod_guards),
      cmocka_unit_test(test_fma_single_rounding),
      cmocka_unit_test(test_fma_verify),
      cmocka_unit_test(test_u8_wraps_and_u64_unsigned),
      cmocka_unit_test(test_float_minmax_nan),
      cmocka_unit_test(test_round_half_even),
      cmocka_unit_test(test_saturating_casts),
      cmocka_unit_test(test_f16_bf16_round_to_nearest_even),
      cmocka_unit_test(test_out_of_range_is_error),
      cmocka_unit_test(test_grid_and_locals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
