/* Shared assertion for runtime tests: a status with the expected code and
 * a message containing `part`.  Include after <cmocka.h> and mlcrt.h. */
#ifndef MLC_TESTS_RUNTIME_EXPECT_H
#define MLC_TESTS_RUNTIME_EXPECT_H

#include <string.h>

/* Asserts st has `code` and a message containing `part`, then frees it. */
static inline void expect_error(mlcrt_status_t *st, mlcrt_code_t code,
                                const char *part) {
  assert_non_null(st);
  if (!strstr(mlcrt_status_message(st), part))
    fail_msg("message '%s' lacks '%s'", mlcrt_status_message(st), part);
  assert_int_equal(mlcrt_status_code(st), code);
  mlcrt_status_free(st);
}

#endif
