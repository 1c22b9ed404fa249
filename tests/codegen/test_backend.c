/* The backend interface (codegen/backend.h): the registry picks the CPU
 * backend for CPU targets and none for a CUDA target in this build, and
 * mlc_backend_check lists the kernels a backend cannot emit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codegen/backend.h"
#include "codegen/llvm.h"

static mlc_tkernel_t *copy_kernel(const char *name, mlc_dtype_t dt) {
  mlc_tkernel_t *k = mlc_tkernel_create(name);
  assert_non_null(k);
  int a = mlc_tkernel_add_buf(k, "a", dt, 4, (mlc_storage_t){0}, false);
  int b = mlc_tkernel_add_buf(k, "b", dt, 4, (mlc_storage_t){0}, true);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, 4), MLC_LOOP_SERIAL, 0,
                       mlc_ts_store(k, b, mlc_tx_var(k, i),
                                    mlc_tx_load(k, a, mlc_tx_var(k, i))));
  return k;
}

static void test_registry(void **state) {
  (void)state;
  mlc_target_t t;
  assert_null(mlc_target_lookup("x86_64-avx2", NULL, &t));
  const mlc_backend_t *b = mlc_backend_for(&t);
  assert_non_null(b);
  assert_string_equal(b->name, "llvm-cpu");
  assert_ptr_equal(b, &mlc_backend_llvm_cpu);
  t.kind = MLC_TARGET_CUDA;
  assert_null(mlc_backend_for(&t));
  assert_null(mlc_backend_for(NULL));
}

static void test_check_lists_unsupported(void **state) {
  (void)state;
  mlc_target_t t;
  assert_null(mlc_target_lookup("x86_64", NULL, &t));
  const mlc_backend_t *b = mlc_backend_for(&t);
  mlc_program_t p = {0};
  assert_true(MLC_VEC_PUSH(&p.kernels, copy_kernel("k0_ok", MLC_DT_F32)));
  assert_null(mlc_backend_check(b, &p, &t));
  assert_true(MLC_VEC_PUSH(&p.kernels, copy_kernel("k1_str", MLC_DT_STRING)));
  assert_true(MLC_VEC_PUSH(&p.kernels, copy_kernel("k2_c64", MLC_DT_C64)));
  mlc_status_t *st = mlc_backend_check(b, &p, &t);
  assert_non_null(st);
  assert_int_equal(st->code, MLC_UNSUPPORTED);
  const char *m = mlc_status_message(st);
  assert_non_null(strstr(m, "llvm-cpu"));
  assert_non_null(strstr(m, "2 kernels"));
  assert_non_null(strstr(m, "k1_str, k2_c64"));
  assert_null(strstr(m, "k0_ok"));
  mlc_status_free(st);
  mlc_program_deinit(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry),
      cmocka_unit_test(test_check_lists_unsupported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
