/* Compile speed: a program of 100 convolution-like kernels (3x3 direct
 * convolutions with a vectorized inner loop, as the lowering writes them
 * for a ResNet) must compile to a shared library at -O2 in seconds.  The
 * limit is generous (shared, loaded CI machines); the time is printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "cg_util.h"

enum { C = 64, H = 14, NK = 100 };

/* out[co, y, x] = sum_{ci,ky,kx} in[ci, y+ky, x+kx] * w[co, ci, ky, kx]
 * (input padded to H+2), then relu; grid over co. */
static mlc_tkernel_t *conv_kernel(int n, int64_t in_off, int64_t out_off) {
  char name[32];
  snprintf(name, sizeof name, "conv%d", n);
  mlc_tkernel_t *k = mlc_tkernel_create(name);
  int64_t P = H + 2;
  int bi = mlc_tkernel_add_buf(k, "in", MLC_DT_F32, C * P * P,
                               (mlc_storage_t){MLC_STORAGE_ARENA, 0, in_off}, false);
  int bw = mlc_tkernel_add_buf(k, "w", MLC_DT_F32, C * C * 9,
                               (mlc_storage_t){MLC_STORAGE_WEIGHT, 0, 0}, false);
  int bo = mlc_tkernel_add_buf(k, "out", MLC_DT_F32, C * P * P,
                               (mlc_storage_t){MLC_STORAGE_ARENA, 0, out_off}, true);
  mlc_tvar_t *co = mlc_tkernel_add_grid(k, C);
  mlc_tvar_t *y = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "y");
  mlc_tvar_t *x = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "x");
  mlc_tvar_t *ci = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "ci");
  mlc_tvar_t *ky = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "ky");
  mlc_tvar_t *kx = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "kx");
  mlc_tvar_t *acc = mlc_tkernel_new_var(k, MLC_TV_LOCAL, MLC_DT_F32, "acc");
#define I(v) mlc_tx_i64(k, v)
#define V(v) mlc_tx_var(k, v)
#define ADD(a, b) mlc_tx_binary(k, MLC_TB_ADD, a, b)
#define MUL(a, b) mlc_tx_binary(k, MLC_TB_MUL, a, b)
  mlc_texpr_t *iidx = ADD(MUL(ADD(MUL(V(ci), I(P)), ADD(V(y), V(ky))), I(P)), ADD(V(x), V(kx)));
  mlc_texpr_t *widx = ADD(MUL(ADD(MUL(ADD(MUL(V(co), I(C)), V(ci)), I(3)), V(ky)), I(3)), V(kx));
  mlc_tstmt_t *mac = mlc_ts_assign(
      k, acc, ADD(V(acc), MUL(mlc_tx_load(k, bi, iidx), mlc_tx_load(k, bw, widx))));
  mlc_tstmt_t *lkx = mlc_ts_for(k, kx, I(0), I(3), MLC_LOOP_UNROLL, 0, mac);
  mlc_tstmt_t *lky = mlc_ts_for(k, ky, I(0), I(3), MLC_LOOP_UNROLL, 0, lkx);
  mlc_tstmt_t *lci = mlc_ts_for(k, ci, I(0), I(C), MLC_LOOP_SERIAL, 0, lky);
  mlc_texpr_t *oidx = ADD(MUL(ADD(MUL(V(co), I(P)), ADD(V(y), I(1))), I(P)), ADD(V(x), I(1)));
  /* a per-kernel threshold keeps the kernels distinct (no dedupe) */
  mlc_texpr_t *relu = mlc_tx_binary(k, MLC_TB_MAX, V(acc), mlc_tx_float(k, MLC_DT_F32, 0.001 * n));
  mlc_tstmt_t *s[3] = {mlc_ts_assign(k, acc, mlc_tx_float(k, MLC_DT_F32, 0.0)), lci,
                       mlc_ts_store(k, bo, oidx, relu)};
  mlc_tstmt_t *lx = mlc_ts_for(k, x, I(0), I(H), MLC_LOOP_VECTORIZE, 8, mlc_ts_block(k, 3, s));
  k->body = mlc_ts_for(k, y, I(0), I(H), MLC_LOOP_SERIAL, 0, lx);
#undef I
#undef V
#undef ADD
#undef MUL
  return k;
}

static void test_hundred_kernels(void **state) {
  (void)state;
  cg_fix_t f;
  cg_fix_init(&f, "speed");
  int64_t d[1] = {C * (H + 2) * (H + 2)};
  int64_t bytes = d[0] * 4;
  cg_io(&f, "x", MLC_DT_F32, 1, d, false);
  cg_io(&f, "y", MLC_DT_F32, 1, d, true);
  for (int i = 0; i < NK; i++)
    cg_add_kernel(&f, conv_kernel(i, (i % 2) * bytes, ((i + 1) % 2) * bytes));
  f.p.arena_bytes = 2 * bytes;
  f.p.weights_bytes = C * C * 9 * 4;
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("x86_64-avx2", NULL, &t));
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_SO, "speed.so");
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
  printf("compiled %d conv kernels at -O2 in %.2f s\n", NK, s);
  assert_true(s < 60.0);
  assert_true(cg_file_size(f.path) > 0);
  cg_fix_deinit(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_hundred_kernels)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
