/* Error bounds and special values of the reference f32 exp, tanh and erf
 * (ir/vmath.c), which define EXP, TANH and ERF of the tiled IR on f32,
 * f16 and bf16.
 *
 * The error is measured in ulps of the f32 result against libm's double
 * result rounded nowhere: |got - ref| / ulp(ref), where ulp(ref) is the
 * spacing of f32 at |ref| (2^-149 below the normal range).  The sweep
 * takes every 64th bit pattern over all 2^32 (with a varying low offset,
 * so the low mantissa bits vary too), both signs, subnormals to infinity;
 * where the f32 result is 0, 1 or inf it must be exactly that, and tanh
 * and erf must be exactly odd, which spares most libm calls.
 * The bounds asserted are the ones docs/ir.md states; the figures measured
 * are printed.  The last test checks that the interpreter applies these
 * functions to f32, f16 and bf16 buffers. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ir/tile.h"
#include "ir/vmath.h"

static float fbits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static uint32_t ubits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* Error of `got` in ulps of the f32 result nearest `ref`; an infinity is
 * exact when ref rounds to it (|ref| >= FLT_MAX + half an ulp). */
static double ulp_err(float got, double ref) {
  if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got) ? 0 : INFINITY;
  double ovf = ldexp(2.0 - ldexp(1.0, -24), 127);
  if (isinf(got))
    return (got > 0 ? ref >= ovf : ref <= -ovf) ? 0 : INFINITY;
  if (fabs(ref) >= ovf) ref = copysign(ldexp(1.0, 128), ref);
  int e;
  frexp(ref, &e); /* |ref| in [2^(e-1), 2^e) */
  int ue = e - 24 < -149 ? -149 : e - 24;
  return fabs((double)got - ref) / ldexp(1.0, ue);
}

typedef float (*f32_fn)(float);
typedef double (*f64_fn)(double);

/* A function under test: inside [lo, hi] it is compared with libm; below
 * lo it must give exactly at_lo and above hi exactly at_hi (the f32
 * results there are 0, 1 or inf).  An odd function is compared on x >= 0
 * and must give exactly -f(x) at -x. */
typedef struct vm_case {
  const char *name;
  f32_fn f;
  f64_fn ref;
  float lo, hi, at_lo, at_hi;
  bool odd;
  double bound;
} vm_case_t;

/* Error of f at x (0 when exact where it must be); *ref_calls counts the
 * libm comparisons. */
static double err_at(const vm_case_t *c, float x, long *ref_calls) {
  float got = c->f(x);
  if (c->odd && signbit(x)) {
    float pos = c->f(-x);
    return ubits(got) == ubits(-pos) || (isnan(got) && isnan(pos)) ? 0 : INFINITY;
  }
  if (x < c->lo) return ubits(got) == ubits(c->at_lo) ? 0 : INFINITY;
  if (x > c->hi) return ubits(got) == ubits(c->at_hi) ? 0 : INFINITY;
  ++*ref_calls;
  return ulp_err(got, c->ref((double)x));
}

/* Max error over every 64th bit pattern (with a varying low offset, so
 * the low mantissa bits vary too); *at gets the worst input. */
static double sweep(const vm_case_t *c, float *at, long *ref_calls) {
  double worst = 0;
  for (uint64_t b = 0; b < (1ull << 32); b += 64) {
    float x = fbits((uint32_t)b | (uint32_t)((b >> 6) * 29 % 64));
    double err = err_at(c, x, ref_calls);
    if (err > worst) {
      worst = err;
      *at = x;
    }
  }
  return worst;
}

static void check_bound(const vm_case_t *c) {
  float at = 0;
  long calls = 0;
  double worst = sweep(c, &at, &calls);
  printf("%s: max %.3f ulp at %a (bound %.1f; %ld inputs against libm)\n", c->name, worst,
         (double)at, c->bound, calls);
  assert_true(worst <= c->bound);
}

static double exp_ref(double x) { return exp(x); }
static double tanh_ref(double x) { return tanh(x); }
static double erf_ref(double x) { return erf(x); }

static void test_exp_bound(void **state) {
  (void)state;
  vm_case_t c = {"exp", mlc_vmath_expf, exp_ref, -104.0f, 89.0f, 0.0f, INFINITY, false, 1.5};
  check_bound(&c);
}

static void test_tanh_bound(void **state) {
  (void)state;
  vm_case_t c = {"tanh", mlc_vmath_tanhf, tanh_ref, 0.0f, 9.1f, 0.0f, 1.0f, true, 2.0};
  check_bound(&c);
}

static void test_erf_bound(void **state) {
  (void)state;
  vm_case_t c = {"erf", mlc_vmath_erff, erf_ref, 0.0f, 4.0f, 0.0f, 1.0f, true, 2.0};
  check_bound(&c);
}

static void assert_same(float got, float want) {
  if (ubits(got) != ubits(want))
    fail_msg("got %a, want %a", (double)got, (double)want);
}

static void test_exp_specials(void **state) {
  (void)state;
  assert_true(isnan(mlc_vmath_expf(NAN)));
  assert_true(isnan(mlc_vmath_expf(-NAN)));
  assert_same(mlc_vmath_expf(INFINITY), INFINITY);
  assert_same(mlc_vmath_expf(-INFINITY), 0.0f);
  assert_same(mlc_vmath_expf(0.0f), 1.0f);
  assert_same(mlc_vmath_expf(-0.0f), 1.0f);
  assert_same(mlc_vmath_expf(fbits(1)), 1.0f); /* smallest subnormal */
  /* The overflow threshold: 0x42b17217 is the last finite result. */
  float last = mlc_vmath_expf(fbits(0x42b17217u));
  assert_true(isfinite(last) && last > 3.4e38f);
  assert_same(mlc_vmath_expf(fbits(0x42b17218u)), INFINITY);
  assert_same(mlc_vmath_expf(1000.0f), INFINITY);
  /* Subnormal results round once; below about -103.97 they are +0. */
  assert_true(ulp_err(mlc_vmath_expf(-100.0f), exp(-100.0)) <= 1.0);
  assert_true(ulp_err(mlc_vmath_expf(-90.0f), exp(-90.0)) <= 1.0);
  assert_same(mlc_vmath_expf(-103.0f), (float)exp(-103.0)); /* 1.3 * 2^-149 */
  assert_same(mlc_vmath_expf(-103.0f), fbits(1));
  assert_same(mlc_vmath_expf(-104.0f), 0.0f);
  assert_same(mlc_vmath_expf(-1000.0f), 0.0f);
  assert_same(mlc_vmath_expf(1.0f), (float)exp(1.0));
}

/* f is odd: f(-x) is -f(x) bit for bit, and f keeps the sign of zero. */
static void check_odd(f32_fn f) {
  assert_same(f(0.0f), 0.0f);
  assert_same(f(-0.0f), -0.0f);
  for (uint32_t u = 1; u < 0x7f800000u; u += 0x10001u)
    assert_same(f(-fbits(u)), -f(fbits(u)));
}

static void test_tanh_specials(void **state) {
  (void)state;
  assert_true(isnan(mlc_vmath_tanhf(NAN)));
  assert_same(mlc_vmath_tanhf(INFINITY), 1.0f);
  assert_same(mlc_vmath_tanhf(-INFINITY), -1.0f);
  assert_same(mlc_vmath_tanhf(10.0f), 1.0f);
  assert_same(mlc_vmath_tanhf(-100.0f), -1.0f);
  assert_same(mlc_vmath_tanhf(fbits(5)), fbits(5)); /* tanh(x) = x, subnormal */
  assert_same(mlc_vmath_tanhf(1e-20f), 1e-20f);
  check_odd(mlc_vmath_tanhf);
}

static void test_erf_specials(void **state) {
  (void)state;
  assert_true(isnan(mlc_vmath_erff(NAN)));
  assert_same(mlc_vmath_erff(INFINITY), 1.0f);
  assert_same(mlc_vmath_erff(-INFINITY), -1.0f);
  assert_same(mlc_vmath_erff(MLC_VMATH_ERF_SAT), 1.0f);
  assert_same(mlc_vmath_erff(-5.0f), -1.0f);
  /* Just below the saturation point the result is still 1 - ulp or 1. */
  assert_true(ulp_err(mlc_vmath_erff(3.9f), erf(3.9)) <= 1.0);
  assert_true(ulp_err(mlc_vmath_erff(fbits(1000)), erf((double)fbits(1000))) <= 1.0);
  assert_true(ulp_err(mlc_vmath_erff(1.0f), erf(1.0)) <= 1.0);
  check_odd(mlc_vmath_erff);
}

/* The interpreter's EXP/TANH/ERF on f32, f16 and bf16 buffers are these
 * functions (f16/bf16 rounded on store). */
static void test_interpreter_uses_vmath(void **state) {
  (void)state;
  const mlc_tunop_t ops[3] = {MLC_TU_EXP, MLC_TU_TANH, MLC_TU_ERF};
  const f32_fn fns[3] = {mlc_vmath_expf, mlc_vmath_tanhf, mlc_vmath_erff};
  enum { N = 257 };
  float in[N], out[N];
  for (int i = 0; i < N; i++) in[i] = (float)(i - 128) * 0.0371f;
  for (int o = 0; o < 3; o++) {
    mlc_tkernel_t *k = mlc_tkernel_create("u");
    int a = mlc_tkernel_add_buf(k, "a", MLC_DT_F32, N, (mlc_storage_t){0}, false);
    int r = mlc_tkernel_add_buf(k, "r", MLC_DT_F32, N, (mlc_storage_t){0}, true);
    mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
    mlc_texpr_t *iv = mlc_tx_var(k, i);
    mlc_tstmt_t *s = mlc_ts_store(k, r, iv, mlc_tx_unary(k, ops[o], mlc_tx_load(k, a, iv)));
    k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, N), MLC_LOOP_SERIAL, 0, s);
    assert_non_null(k->body);
    void *bufs[2] = {in, out};
    assert_null(mlc_tkernel_interpret(k, bufs));
    mlc_tkernel_destroy(k);
    for (int j = 0; j < N; j++) assert_same(out[j], fns[o](in[j]));
  }
}

static void test_interpreter_bf16(void **state) {
  (void)state;
  enum { N = 64 };
  uint16_t in[N], out[N];
  for (int i = 0; i < N; i++) in[i] = (uint16_t)(ubits((float)(i - 32) * 0.17f) >> 16);
  mlc_tkernel_t *k = mlc_tkernel_create("u");
  int a = mlc_tkernel_add_buf(k, "a", MLC_DT_BF16, N, (mlc_storage_t){0}, false);
  int r = mlc_tkernel_add_buf(k, "r", MLC_DT_BF16, N, (mlc_storage_t){0}, true);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_texpr_t *iv = mlc_tx_var(k, i);
  mlc_tstmt_t *s = mlc_ts_store(k, r, iv, mlc_tx_unary(k, MLC_TU_TANH, mlc_tx_load(k, a, iv)));
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, N), MLC_LOOP_SERIAL, 0, s);
  assert_non_null(k->body);
  void *bufs[2] = {in, out};
  assert_null(mlc_tkernel_interpret(k, bufs));
  mlc_tkernel_destroy(k);
  for (int j = 0; j < N; j++) {
    uint32_t t = ubits(mlc_vmath_tanhf(fbits((uint32_t)in[j] << 16)));
    uint16_t want = (uint16_t)((t + 0x7fffu + ((t >> 16) & 1u)) >> 16); /* RNE */
    assert_int_equal(out[j], want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exp_bound),     cmocka_unit_test(test_tanh_bound),
      cmocka_unit_test(test_erf_bound),     cmocka_unit_test(test_exp_specials),
      cmocka_unit_test(test_tanh_specials), cmocka_unit_test(test_erf_specials),
      cmocka_unit_test(test_interpreter_uses_vmath),
      cmocka_unit_test(test_interpreter_bf16),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
