/* The embedding example: its .npy reader (compiled in from
 * examples/embed/npy.c) on good and broken files, and the `embed` program
 * itself run on a fake digits model (tests/runtime/data/fake_digits.c)
 * with images whose predicted class is known.  The program test is skipped
 * when the embed target has not been built.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "examples/embed/npy.c"
#include "runtime/fixture.h"

static char *dir;

static int setup(void **state) {
  dir = fixture_tmpdir();
  return dir ? 0 : -1;
}

static int teardown(void **state) {
  fixture_rmdir(dir);
  return 0;
}

/* Writes a version-`major` .npy with the given dict and data bytes. */
static void write_npy(const char *name, int major, const char *dict,
                      const void *data, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  size_t pre = major == 1 ? 10 : 12, len = strlen(dict) + 1;
  size_t pad = (64 - (pre + len) % 64) % 64;
  unsigned char h[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major,
                         0};
  size_t hl = len + pad;
  for (size_t i = 0; i < pre - 8; i++) h[8 + i] = (unsigned char)(hl >> (8 * i));
  fwrite(h, 1, pre, f);
  fputs(dict, f);
  for (size_t i = 0; i < pad; i++) fputc(' ', f);
  fputc('\n', f);
  fwrite(data, 1, n, f);
  fclose(f);
}

static int read_npy(const char *name, embed_npy_t *out, char *err) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return embed_npy_read(path, out, err, 256);
}

static void expect_bad(const char *name, const char *part) {
  embed_npy_t n;
  char err[256] = "";
  assert_int_equal(read_npy(name, &n, err), -1);
  if (!strstr(err, part)) fail_msg("'%s' lacks '%s'", err, part);
  assert_null(n.data);
}

static void test_npy(void **state) {
  float v[6] = {1, 2, 3, 4, 5, 6};
  write_npy("a.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", v,
            sizeof v);
  embed_npy_t n;
  char err[256];
  assert_int_equal(read_npy("a.npy", &n, err), 0);
  assert_string_equal(n.descr, "<f4");
  assert_int_equal(n.rank, 2);
  assert_int_equal(n.dims[0], 3);
  assert_int_equal(n.nbytes, sizeof v);
  assert_memory_equal(n.data, v, sizeof v);
  embed_npy_free(&n);
  int64_t l[1] = {7};
  write_npy("b.npy", 2,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", l,
            sizeof l);
  assert_int_equal(read_npy("b.npy", &n, err), 0);
  assert_int_equal(n.rank, 1);
  assert_int_equal(((int64_t *)n.data)[0], 7);
  embed_npy_free(&n);
  write_npy("short.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", v,
            20);
  expect_bad("short.npy", "data size does not match");
  write_npy("long.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", v,
            sizeof v);
  expect_bad("long.npy", "data size does not match");
  write_npy("f.npy", 1,
            "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", v,
            sizeof v);
  expect_bad("f.npy", "Fortran");
  write_npy("be.npy", 1,
            "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 2), }", v,
            sizeof v);
  expect_bad("be.npy", "little-endian");
  assert_int_equal(fixture_write(dir, "magic.npy", "hello world!", 12), 0);
  expect_bad("magic.npy", "bad magic");
  expect_bad("none.npy", "No such file");
}

/* Runs `cmd` and returns its combined output (static buffer). */
static const char *run_cmd(const char *cmd, int *rc) {
  static char out[4096];
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  *rc = pclose(p);
  return out;
}

static void test_embed_program(void **state) {
  const char *embed = MLC_BUILD_DIR "/examples/embed/embed";
  struct stat sb;
  if (stat(embed, &sb) != 0) skip();
  char model[1024], cmd[4096];
  snprintf(model, sizeof model, "%s/digits.so", dir);
  snprintf(cmd, sizeof cmd,
           "%s -shared -fPIC -I'%s/include' -o '%s' "
           "'%s/tests/runtime/data/fake_digits.c'",
           getenv("CC") ? getenv("CC") : "cc", MLC_SOURCE_DIR, model,
           MLC_SOURCE_DIR);
  assert_int_equal(system(cmd), 0);
  static float img[4][64];
  int64_t labels[4] = {3, 1, 4, 0};
  float first[4] = {3, 1, 4, 1}; /* predicted classes: the last is wrong */
  for (int i = 0; i < 4; i++) img[i][0] = first[i];
  write_npy("img.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1, 8, 8), }",
            img, sizeof img);
  write_npy("lab.npy", 1,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }",
            labels, sizeof labels);
  write_npy("wide.npy", 1,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 8, 16), }",
            img, sizeof img);
  int rc;
  snprintf(cmd, sizeof cmd, "'%s' '%s' '%s/img.npy' '%s/lab.npy' 2>&1", embed,
           model, dir, dir);
  const char *out = run_cmd(cmd, &rc);
  assert_int_equal(rc, 0);
  if (!strstr(out, "input 0 'image': float32[1,1,8,8] (256 bytes)") ||
      !strstr(out, "output 0 'logits': float32[1,10]") ||
      !strstr(out, "accuracy: 0.750 (3/4)"))
    fail_msg("unexpected output:\n%s", out);
  snprintf(cmd, sizeof cmd, "'%s' '%s' '%s/wide.npy' '%s/lab.npy' 2>&1",
           embed, model, dir, dir);
  out = run_cmd(cmd, &rc);
  assert_int_not_equal(rc, 0);
  if (!strstr(out, "labels must be int64 [2]"))
    fail_msg("unexpected output:\n%s", out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_npy),
      cmocka_unit_test(test_embed_program),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
