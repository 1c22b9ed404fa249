/* Unit tests for base/file.c: only regular files are read, FIFOs and
 * devices are refused at once (an alarm turns a hang into a failure), and
 * reads stop at the size the file had when it was opened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

static char dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/mlc_test_file_XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  return rmdir(dir);
}

static void expect_refused(const char *path, uint64_t max, const char *want) {
  void *data = (void *)1;
  size_t len = 1;
  alarm(20);
  mlc_status_t *st = mlc_file_read_all(path, max, &data, &len);
  alarm(0);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  if (!strstr(mlc_status_message(st), want))
    fail_msg("'%s' lacks '%s'", mlc_status_message(st), want);
  assert_null(data);
  assert_int_equal(len, 0);
  mlc_status_free(st);
}

static void test_regular(void **state) {
  (void)state;
  char path[96];
  snprintf(path, sizeof path, "%s/f", dir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("hello", f);
  fclose(f);
  void *data;
  size_t len;
  assert_null(mlc_file_read_all(path, 5, &data, &len));
  assert_int_equal(len, 5);
  assert_memory_equal(data, "hello", 6); /* and a terminating zero */
  free(data);
  expect_refused(path, 4, "more than the 4 accepted");
  unlink(path);
  expect_refused(path, UINT64_MAX, "No such file");
}

static void test_special_files(void **state) {
  (void)state;
  char path[96];
  snprintf(path, sizeof path, "%s/fifo", dir);
  assert_int_equal(mkfifo(path, 0600), 0);
  expect_refused(path, UINT64_MAX, "is a FIFO, not a regular file");
  unlink(path);
  expect_refused("/dev/zero", UINT64_MAX, "is a character device");
  expect_refused(dir, UINT64_MAX, "is a directory");
}

static void test_open_at(void **state) {
  (void)state;
  char path[96];
  snprintf(path, sizeof path, "%s/link", dir);
  assert_int_equal(symlink("/etc/passwd", path), 0);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  assert_true(dfd >= 0);
  int fd = 0;
  uint64_t size = 1;
  mlc_status_t *st = mlc_file_open_regular(dfd, "link", O_NOFOLLOW, "w",
                                           &fd, &size);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  assert_int_equal(fd, -1);
  mlc_status_free(st);
  close(dfd);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_regular),
      cmocka_unit_test(test_special_files),
      cmocka_unit_test(test_open_at),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
