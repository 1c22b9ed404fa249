/* Unit tests for base/escape.c and the escaping of status messages:
 * what passes, what becomes \xHH, comment delimiters, snprintf-like
 * truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/escape.h"
#include "base/status.h"

static void expect(const char *in, unsigned flags, const char *want) {
  char buf[256];
  size_t n = mlc_escape(buf, sizeof buf, in, flags);
  if (strcmp(buf, want) != 0) fail_msg("'%s', expected '%s'", buf, want);
  assert_int_equal(n, strlen(want));
}

static void test_escape(void **state) {
  (void)state;
  expect("conv1/weight:0", 0, "conv1/weight:0");
  expect(NULL, 0, "");
  expect("a\\b", 0, "a\\x5cb");
  expect("n\n1\t\x1b[2J\x7f", 0, "n\\x0a1\\x09\\x1b[2J\\x7f");
  expect("onn\xcb::Conv", 0, "onn\\xcb::Conv");           /* invalid UTF-8 */
  expect("caf\xc3\xa9 \xe6\x97\xa5", 0, "caf\xc3\xa9 \xe6\x97\xa5"); /* valid */
  expect("caf\xc3\xa9", MLC_ESC_ASCII, "caf\\xc3\\xa9");
  expect("\xc0\xaf", 0, "\\xc0\\xaf");                     /* overlong */
  expect("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");             /* surrogate */
  expect("a\xe2\x80\xae" "b", 0, "a\\xe2\\x80\\xaeb");     /* RTL override */
  expect("\xc2\x9b" "31m", 0, "\\xc2\\x9b31m");            /* C1 CSI */
  expect("x */ y /* z", MLC_ESC_COMMENT, "x *\\x2f y \\x2f* z");
  expect("a/b*c", MLC_ESC_COMMENT, "a/b*c");
  expect("*/", 0, "*/");
}

static void test_truncation(void **state) {
  (void)state;
  char buf[6];
  assert_int_equal(mlc_escape(buf, sizeof buf, "ab\x01" "cd", 0), 8);
  assert_string_equal(buf, "ab\\x0");
  assert_int_equal(mlc_escape(NULL, 0, "\x01", 0), 4);
}

/* Every status message is escaped as it is made; '\', newlines and tabs
 * stay (messages have line breaks and already-escaped names). */
static void test_status_messages(void **state) {
  (void)state;
  mlc_status_t *st = MLC_ERR(INVALID_MODEL, "input 0 '%s' is not defined",
                             "onn\xcb::Conv\x1b[2J");
  assert_string_equal(mlc_status_message(st),
                      "input 0 'onn\\xcb::Conv\\x1b[2J' is not defined");
  st = mlc_status_annotate(st, "model '%s'", "m\x07");
  assert_string_equal(mlc_status_message(st), "model 'm\\x07': input 0 "
                      "'onn\\xcb::Conv\\x1b[2J' is not defined");
  mlc_status_free(st);
  st = MLC_ERR(INVALID_ARGUMENT, "line 1:2: bad\n\tx\\y \xc3\xa9");
  assert_string_equal(mlc_status_message(st), "line 1:2: bad\n\tx\\y \xc3\xa9");
  mlc_status_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape),
      cmocka_unit_test(test_truncation),
      cmocka_unit_test(test_status_messages),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
