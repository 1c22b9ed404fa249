/* Names from the model in the generated header: a tensor or dim named to
 * close the comment they are printed in (x, then a comment end, then a
 * #define) must not inject code, and control bytes or terminal-format
 * characters must not appear raw.  The header is compiled by the system
 * C compiler with -Wall -Werror, which also rejects a comment opener
 * inside a comment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cg_util.h"
#include "codegen/header.h"

static const char app_src[] =
    "#include \"hostile.h\"\n"
    "#ifdef EVIL\n#error a name defined EVIL\n#endif\n"
    "int main(void) { return HOSTILE_NUM_INPUTS == 1 ? 0 : 1; }\n";

static void test_hostile_names(void **state) {
  (void)state;
  cg_fix_t f;
  cg_fix_init(&f, "hostile");
  int64_t d[2] = {2, 3};
  mlc_value_t *x = cg_io(&f, "x */ #define EVIL 1 /* \\", MLC_DT_F32, 2, d, false);
  x->dims[0].sym = "N*/int evil;/*";
  cg_io(&f, "y\x1b[2J\xe2\x80\xae\xff\n#define EVIL 2", MLC_DT_F32, 2, d, true);
  char hdr[600], src[600], cmd[2000];
  snprintf(hdr, sizeof hdr, "%s/hostile.h", f.dir);
  cg_expect_ok(mlc_codegen_write_header(&f.p, "hostile", hdr));
  char *h = cg_read_file(hdr, NULL);
  for (const char *c = h; *c; c++)
    if ((unsigned char)*c >= 0x7f || ((unsigned char)*c < 0x20 && *c != '\n'))
      fail_msg("raw byte 0x%02x in the header", (unsigned char)*c);
  assert_non_null(strstr(h, "\"x *\\x2f #define EVIL 1 \\x2f* \\x5c\""));
  assert_non_null(strstr(h, "N*\\x2fint evil;\\x2f*=2"));
  assert_non_null(strstr(h, "y\\x1b[2J\\xe2\\x80\\xae\\xff\\x0a#define EVIL 2"));
  free(h);
  snprintf(src, sizeof src, "%s/app.c", f.dir);
  FILE *fp = fopen(src, "w");
  assert_non_null(fp);
  fputs(app_src, fp);
  fclose(fp);
  snprintf(cmd, sizeof cmd,
           "cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I%s -I%s/include %s",
           f.dir, MLC_SOURCE_DIR, src);
  assert_int_equal(system(cmd), 0);
  cg_fix_deinit(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hostile_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
