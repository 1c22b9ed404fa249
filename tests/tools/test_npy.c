/* Tests of tools/npy.c: a write/read round trip for every dtype the format
 * carries, the exact header layout, bfloat16 refusal, and malformed
 * headers, which must give an error and never crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/npy.h"

/* Writes `t` into memory; returns the malloc'ed image. */
static char *encode(const mlc_host_tensor_t *t, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  assert_non_null(f);
  mlc_status_t *st = mlc_npy_write(f, "mem", t);
  fclose(f);
  assert_null(st);
  return buf;
}

static void fill(mlc_host_tensor_t *t, mlc_dtype_t dt, int rank,
                 const int64_t *dims) {
  memset(t, 0, sizeof *t);
  t->dtype = dt;
  t->rank = rank;
  memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
  t->nbytes = (size_t)mlc_shape_numel(rank, dims) * mlc_dtype_size(dt);
  t->data = malloc(t->nbytes + 1);
  for (size_t i = 0; i < t->nbytes; i++)
    ((unsigned char *)t->data)[i] =
        dt == MLC_DT_BOOL ? (unsigned char)(i % 2) : (unsigned char)(i * 7 + 3);
}

static void test_round_trip_every_dtype(void **state) {
  (void)state;
  const mlc_dtype_t dts[] = {MLC_DT_F16, MLC_DT_F32, MLC_DT_F64, MLC_DT_I8,
                             MLC_DT_I16, MLC_DT_I32, MLC_DT_I64, MLC_DT_U8,
                             MLC_DT_U16, MLC_DT_U32, MLC_DT_U64, MLC_DT_BOOL};
  const int64_t shapes[][3] = {{2, 3, 4}, {5, 0, 0}, {0, 0, 0}};
  const int ranks[] = {3, 1, 0};
  for (size_t d = 0; d < sizeof dts / sizeof *dts; d++) {
    for (int s = 0; s < 3; s++) {
      mlc_host_tensor_t t, back;
      fill(&t, dts[d], ranks[s], shapes[s]);
      size_t len;
      char *img = encode(&t, &len);
      assert_int_equal(len % 64, t.nbytes % 64); /* header padded to 64 */
      assert_int_equal(img[len - t.nbytes - 1], '\n');
      mlc_status_t *st = mlc_npy_parse(img, len, "mem", &back);
      assert_null(st);
      assert_int_equal(back.dtype, t.dtype);
      assert_int_equal(back.rank, t.rank);
      for (int i = 0; i < t.rank; i++) assert_int_equal(back.dims[i], t.dims[i]);
      assert_int_equal(back.nbytes, t.nbytes);
      assert_memory_equal(back.data, t.data, t.nbytes);
      free(img);
      mlc_host_tensor_free(&t);
      mlc_host_tensor_free(&back);
    }
  }
}

static void test_header_text(void **state) {
  (void)state;
  const int64_t dims[] = {7};
  mlc_host_tensor_t t;
  fill(&t, MLC_DT_F32, 1, dims);
  size_t len;
  char *img = encode(&t, &len);
  assert_memory_equal(img, "\x93NUMPY\x01\x00", 8);
  const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }";
  assert_memory_equal(img + 10, want, strlen(want));
  assert_int_equal(len, 128 + 28); /* 10 + 58 + 1 padded to 128 */
  free(img);
  mlc_host_tensor_free(&t);
}

static void test_file_round_trip(void **state) {
  (void)state;
  const int64_t dims[] = {3, 2};
  mlc_host_tensor_t t, back;
  fill(&t, MLC_DT_I64, 2, dims);
  const char *path = "test_npy_round_trip.npy";
  assert_null(mlc_npy_write_file(path, &t));
  assert_null(mlc_npy_read_file(path, &back));
  assert_int_equal(back.dtype, MLC_DT_I64);
  assert_memory_equal(back.data, t.data, t.nbytes);
  mlc_host_tensor_free(&back);
  remove(path);
  mlc_status_t *st = mlc_npy_read_file("no/such/file.npy", &back);
  assert_non_null(st);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  assert_non_null(strstr(mlc_status_message(st), "no/such/file.npy"));
  mlc_status_free(st);
  mlc_host_tensor_free(&t);
  /* A FIFO blocked in fopen and /dev/zero was read until memory ran out:
   * both are refused at once (the alarm turns a hang into a failure). */
  const char *fifo = "test_npy_fifo.npy";
  remove(fifo);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  alarm(20);
  st = mlc_npy_read_file(fifo, &back);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  assert_non_null(strstr(mlc_status_message(st), "is a FIFO"));
  mlc_status_free(st);
  st = mlc_npy_read_file("/dev/zero", &back);
  assert_int_equal(mlc_status_code(st), MLC_IO_ERROR);
  mlc_status_free(st);
  alarm(0);
  remove(fifo);
}

static void test_bf16_refused(void **state) {
  (void)state;
  const int64_t dims[] = {2};
  mlc_host_tensor_t t;
  fill(&t, MLC_DT_BF16, 1, dims);
  FILE *f = tmpfile();
  mlc_status_t *st = mlc_npy_write(f, "out/y.npy", &t);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "--output-format pb"));
  mlc_status_free(st);
  fclose(f);
  mlc_host_tensor_free(&t);
}

/* Builds a v1.0 image with the given header dict and `data` bytes. */
static size_t make_image(char *buf, const char *dict, size_t data) {
  size_t n = strlen(dict);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (char)(n & 0xff);
  buf[9] = (char)(n >> 8);
  memcpy(buf + 10, dict, n);
  memset(buf + 10 + n, 0, data);
  return 10 + n + data;
}

static void expect_error(const char *img, size_t len, const char *needle) {
  mlc_host_tensor_t t;
  mlc_status_t *st = mlc_npy_parse(img, len, "bad.npy", &t);
  if (!st) fail_msg("accepted: %.*s", (int)len, img);
  if (!strstr(mlc_status_message(st), needle))
    fail_msg("message '%s' lacks '%s'", mlc_status_message(st), needle);
  assert_null(t.data);
  mlc_status_free(st);
}

static void test_malformed(void **state) {
  (void)state;
  char buf[512];
  const struct { const char *dict; size_t data; const char *needle; } cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 4, "truncated data"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "big-endian"},
      {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "unsupported npy dtype"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24, "Fortran"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 0, "non-negative"},
      {"{'descr': '<f4', 'fortran_order': False}", 0, "no 'shape'"},
      {"{'fortran_order': False, 'shape': (1,)}", 4, "no 'descr'"},
      {"{'descr': '<f4', 'shape': (1,", 4, "shape"},
      {"{'descr': '<f4, 'shape': (1,)}", 4, "malformed"},
      {"{'descr': '<f4', 'shape': (99999999999999999999,)}", 4, "too large"},
      {"{'descr': '<f4', 'shape': (4294967296, 4294967296, 4294967296)}", 4, "too large"},
      {"{'descr': '<f4', 'shape': (1,), 'extra': 1}", 4, "unknown key"},
      {"{'descr': [('a', '<f4')], 'shape': (1,)}", 4, "quoted string"},
      {"", 0, "expected '{'"},
      {"{'descr': '<f4', 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)}", 4, "rank above"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t len = make_image(buf, cases[i].dict, cases[i].data);
    expect_error(buf, len, cases[i].needle);
  }
  expect_error("\x93NUMPY\x01", 7, "bad magic");
  expect_error("PK\x03\x04 not npy at all", 20, "bad magic");
  size_t len = make_image(buf, "{'descr': '<f4', 'shape': ()}", 4);
  buf[8] = (char)0xff; /* header length beyond the file */
  expect_error(buf, len, "truncated npy header");
  buf[6] = 9;
  expect_error(buf, len, "version 9");
  /* Every truncation of a valid image fails cleanly. */
  const int64_t dims[] = {2, 2};
  mlc_host_tensor_t t;
  fill(&t, MLC_DT_F32, 2, dims);
  size_t full;
  char *img = encode(&t, &full);
  for (size_t cut = 0; cut < full; cut++) {
    mlc_host_tensor_t back;
    mlc_status_t *st = mlc_npy_parse(img, cut, "cut.npy", &back);
    assert_non_null(st);
    mlc_status_free(st);
  }
  free(img);
  mlc_host_tensor_free(&t);
}

/* Random byte flips of a valid image: every result is either an error or
 * a tensor whose size matches its shape (run under ASan to catch reads
 * out of bounds). */
static void test_mutations_never_crash(void **state) {
  (void)state;
  const int64_t dims[] = {3, 5};
  mlc_host_tensor_t t;
  fill(&t, MLC_DT_I16, 2, dims);
  size_t len;
  char *img = encode(&t, &len);
  char *copy = malloc(len);
  uint64_t seed = 12345;
  int accepted = 0;
  for (int iter = 0; iter < 5000; iter++) {
    memcpy(copy, img, len);
    for (int k = 0; k < 1 + iter % 4; k++) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      size_t pos = (size_t)(seed >> 33) % 80; /* the header region */
      copy[pos] = (char)(seed >> 20);
    }
    size_t cut = iter % 7 == 0 ? (size_t)(seed >> 40) % len : len;
    mlc_host_tensor_t back;
    mlc_status_t *st = mlc_npy_parse(copy, cut, "fuzz.npy", &back);
    if (st) {
      mlc_status_free(st);
      continue;
    }
    accepted++;
    assert_int_equal((int64_t)back.nbytes,
                     mlc_shape_numel(back.rank, back.dims) *
                         (int64_t)mlc_dtype_size(back.dtype));
    mlc_host_tensor_free(&back);
  }
  assert_true(accepted > 0); /* flips in padding keep the image valid */
  free(copy);
  free(img);
  mlc_host_tensor_free(&t);
}

static void test_lenient_forms(void **state) {
  (void)state;
  char buf[256];
  mlc_host_tensor_t t;
  /* Double quotes, another key order, Python 2 longs, '=' and '|' orders. */
  size_t len = make_image(buf, "{\"shape\": (2L, 1L), \"descr\": \"=i4\", "
                          "\"fortran_order\": False}", 8);
  assert_null(mlc_npy_parse(buf, len, "ok.npy", &t));
  assert_int_equal(t.dtype, MLC_DT_I32);
  assert_int_equal(t.rank, 2);
  assert_int_equal(t.dims[0], 2);
  mlc_host_tensor_free(&t);
  len = make_image(buf, "{'descr': '|u1', 'fortran_order': True, 'shape': (3,)}", 3);
  assert_null(mlc_npy_parse(buf, len, "ok.npy", &t));
  assert_int_equal(t.dtype, MLC_DT_U8);
  mlc_host_tensor_free(&t);
  /* Version 2.0: a 4-byte header length. */
  const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }";
  size_t n = strlen(dict);
  memcpy(buf, "\x93NUMPY\x02\x00", 8);
  buf[8] = (char)n; buf[9] = buf[10] = buf[11] = 0;
  memcpy(buf + 12, dict, n);
  memset(buf + 12 + n, 0, 8);
  assert_null(mlc_npy_parse(buf, 12 + n + 8, "v2.npy", &t));
  assert_int_equal(t.dtype, MLC_DT_F64);
  mlc_host_tensor_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_dtype),
      cmocka_unit_test(test_header_text),
      cmocka_unit_test(test_file_round_trip),
      cmocka_unit_test(test_bf16_refused),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_mutations_never_crash),
      cmocka_unit_test(test_lenient_forms),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
