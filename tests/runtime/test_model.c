/* Loading models: every way a library, its descriptor or its weights file
 * can be wrong gives a status with the right code and a message that says
 * what; the good fixtures load and describe their tensors.  Fixture
 * libraries are compiled from data/fixture_model.c at setup (fixture.h).
 */
#include <dlfcn.h>
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mlc/mlcrt.h"
#include "mlc/model_abi.h"
#include "runtime/cpu_check.h"
#include "runtime/fixture.h"
#include "runtime/expect.h"

typedef struct env {
  char *dir;
  char plain[1024], side[1024], side2[1024], embed[1024], nosym[1024],
      abi[1024], size[1024], nbytes[1024], align[1024], avx2[1024], v1[1024];
  float w[FIX_N];
} env_t;

static int setup(void **state) {
  static env_t e;
  e.dir = fixture_tmpdir();
  if (!e.dir) return -1;
  fixture_weights(e.w);
  char defs[256];
  snprintf(defs, sizeof defs,
           "-DFIX_ABI_V2 -DFIX_SIDE_WEIGHTS -DFIX_WEIGHTS_HASH=%lluull",
           (unsigned long long)fixture_fnv(e.w, sizeof e.w));
  int rc = fixture_build(e.dir, "plain.so", "", e.plain, 1024) |
           fixture_build(e.dir, "side.so", "-DFIX_SIDE_WEIGHTS", e.side, 1024) |
           fixture_build(e.dir, "side2.so", defs, e.side2, 1024) |
           fixture_build(e.dir, "embed.so", "-DFIX_EMBED_WEIGHTS", e.embed,
                         1024) |
           fixture_build(e.dir, "nosym.so", "-DFIX_NO_SYMBOL", e.nosym, 1024) |
           fixture_build(e.dir, "abi.so", "-DFIX_ABI_VERSION=7", e.abi, 1024) |
           fixture_build(e.dir, "size.so", "-DFIX_STRUCT_SIZE=16", e.size,
                         1024) |
           fixture_build(e.dir, "nbytes.so", "-DFIX_BAD_NBYTES", e.nbytes,
                         1024) |
           fixture_build(e.dir, "align.so", "-DFIX_ARENA_ALIGN=96", e.align,
                         1024) |
           fixture_build(e.dir, "avx2.so", "-DFIX_CPU_FEATURES=64", e.avx2,
                         1024) |
           fixture_build(e.dir, "v1.so", "-DFIX_ABI_V1", e.v1, 1024);
  *state = &e;
  return rc ? -1 : 0;
}

static int teardown(void **state) {
  env_t *e = *state;
  fixture_rmdir(e->dir);
  return 0;
}

static void test_null_arguments(void **state) {
  (void)state;
  mlcrt_model_t *m = (mlcrt_model_t *)1;
  expect_error(mlcrt_model_load(NULL, &m), MLCRT_INVALID_ARGUMENT, "path");
  assert_null(m);
  expect_error(mlcrt_model_load("", &m), MLCRT_INVALID_ARGUMENT, "path");
  expect_error(mlcrt_model_load("x.so", NULL), MLCRT_INVALID_ARGUMENT,
               "out_model");
  expect_error(mlcrt_model_from_descriptor(NULL, NULL, &m),
               MLCRT_INVALID_ARGUMENT, "descriptor is NULL");
  mlcrt_model_release(NULL);
  assert_int_equal(mlcrt_model_num_inputs(NULL), -1);
  assert_int_equal(mlcrt_model_num_outputs(NULL), -1);
  assert_string_equal(mlcrt_model_name(NULL), "");
  assert_string_equal(mlcrt_model_target(NULL), "");
  assert_int_equal(mlcrt_model_arena_bytes(NULL), 0);
  mlcrt_tensor_info_t info;
  expect_error(mlcrt_model_input_info(NULL, 0, &info), MLCRT_INVALID_ARGUMENT,
               "model is NULL");
  int32_t idx;
  expect_error(mlcrt_model_find_output(NULL, "sum", &idx),
               MLCRT_INVALID_ARGUMENT, "model is NULL");
}

static void test_bad_files(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = NULL;
  char path[1100];
  snprintf(path, sizeof path, "%s/missing.so", e->dir);
  expect_error(mlcrt_model_load(path, &m), MLCRT_NOT_FOUND, "missing.so");
  expect_error(mlcrt_model_load("mlcrt-no-such-model.so", &m), MLCRT_NOT_FOUND,
               "cannot open shared object file");
  assert_int_equal(fixture_write(e->dir, "text.so", "hello", 5), 0);
  snprintf(path, sizeof path, "%s/text.so", e->dir);
  expect_error(mlcrt_model_load(path, &m), MLCRT_INCOMPATIBLE,
               "not a shared library (no ELF header)");
  expect_error(mlcrt_model_load(e->nosym, &m), MLCRT_INCOMPATIBLE,
               "no symbol mlc_model_get");
  expect_error(mlcrt_model_load(e->abi, &m), MLCRT_INCOMPATIBLE,
               "ABI version 7, this runtime reads 1 to 3 (the model needs a newer libmlcrt)");
  expect_error(mlcrt_model_load(e->size, &m), MLCRT_INCOMPATIBLE,
               "descriptor is 16 bytes");
  expect_error(mlcrt_model_load(e->nbytes, &m), MLCRT_INCOMPATIBLE,
               "input 0 'a': nbytes 100 does not match float32[4,256]");
  expect_error(mlcrt_model_load(e->align, &m), MLCRT_INCOMPATIBLE,
               "alignment 96 is not a power of two");
  assert_null(m);
}

/* Writes `n` bytes of `lib` to <dir>/<name>, with `patch` (if any) of
 * `plen` bytes at offset `at`, and returns the path in `path`. */
static void write_variant(env_t *e, const char *name, const char *lib,
                          size_t n, size_t at, const void *patch, size_t plen,
                          char *path, size_t len) {
  char *copy = malloc(n ? n : 1);
  assert_non_null(copy);
  memcpy(copy, lib, n);
  if (patch) memcpy(copy + at, patch, plen);
  assert_int_equal(fixture_write(e->dir, name, copy, n), 0);
  free(copy);
  snprintf(path, len, "%s/%s", e->dir, name);
}

static char *read_all(const char *path, size_t *out_n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *out_n = (size_t)n;
  return buf;
}

/* Truncated and corrupted copies of a good library: each is a status from
 * the check before dlopen, never a SIGBUS inside the loader. */
static void test_damaged_libraries(void **state) {
  env_t *e = *state;
  size_t n;
  char *lib = read_all(e->plain, &n);
  char path[1100];
  mlcrt_model_t *m = NULL;
  const size_t cuts[] = {0, 3, 10, 63, 64, 200, n / 3, n / 2, n - 100, n - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    write_variant(e, "cut.so", lib, cuts[i], 0, NULL, 0, path, sizeof path);
    mlcrt_status_t *st = mlcrt_model_load(path, &m);
    assert_non_null(st);
    assert_int_equal(mlcrt_status_code(st), MLCRT_INCOMPATIBLE);
    const char *msg = mlcrt_status_message(st);
    if (!strstr(msg, "no ELF header") && !strstr(msg, "truncated") &&
        !strstr(msg, "shorter than an ELF header"))
      fail_msg("cut at %zu: '%s'", cuts[i], msg);
    mlcrt_status_free(st);
    assert_null(m);
  }
  Elf64_Ehdr h;
  memcpy(&h, lib, sizeof h);
  /* Another machine, another class, an object file. */
  uint16_t arm = EM_AARCH64;
  write_variant(e, "arm.so", lib, n, offsetof(Elf64_Ehdr, e_machine), &arm,
                sizeof arm, path, sizeof path);
  expect_error(mlcrt_model_load(path, &m), MLCRT_INCOMPATIBLE,
               "built for aarch64, this is x86_64");
  unsigned char c32 = ELFCLASS32;
  write_variant(e, "c32.so", lib, n, EI_CLASS, &c32, 1, path, sizeof path);
  expect_error(mlcrt_model_load(path, &m), MLCRT_INCOMPATIBLE, "32-bit");
  uint16_t rel = ET_REL;
  write_variant(e, "rel.so", lib, n, offsetof(Elf64_Ehdr, e_type), &rel,
                sizeof rel, path, sizeof path);
  expect_error(mlcrt_model_load(path, &m), MLCRT_INCOMPATIBLE,
               "not a shared library (an object file?");
  /* Tables and segments pointing past the end. */
  uint64_t far = (uint64_t)n * 4;
  write_variant(e, "phoff.so", lib, n, offsetof(Elf64_Ehdr, e_phoff), &far,
                sizeof far, path, sizeof path);
  expect_error(mlcrt_model_load(path, &m), MLCRT_INCOMPATIBLE,
               "program headers past the end");
  write_variant(e, "shoff.so", lib, n, offsetof(Elf64_Ehdr, e_shoff), &far,
                sizeof far, path, sizeof path);
  expect_error(mlcrt_model_load(path, &m), MLCRT_INCOMPATIBLE,
               "section headers past the end");
  uint64_t huge = UINT64_MAX - 8;
  size_t filesz = h.e_phoff + offsetof(Elf64_Phdr, p_filesz);
  write_variant(e, "seg.so", lib, n, filesz, &huge, sizeof huge, path,
                sizeof path);
  expect_error(mlcrt_model_load(path, &m), MLCRT_INCOMPATIBLE,
               "segment 0 needs bytes up to");
  free(lib);
  /* Not regular files: a folder, and a FIFO (which must not block). */
  expect_error(mlcrt_model_load(e->dir, &m), MLCRT_INVALID_ARGUMENT,
               "is a directory");
  snprintf(path, sizeof path, "%s/fifo.so", e->dir);
  assert_int_equal(mkfifo(path, 0600), 0);
  expect_error(mlcrt_model_load(path, &m), MLCRT_INVALID_ARGUMENT,
               "not a regular file");
  assert_null(m);
}

static void remove_weights(env_t *e) {
  char path[1100];
  snprintf(path, sizeof path, "%s/fixture.weights", e->dir);
  unlink(path);
}

static void test_describe(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = NULL;
  assert_null(mlcrt_model_load(e->plain, &m));
  assert_string_equal(mlcrt_model_name(m), "addmodel");
  assert_string_equal(mlcrt_model_target(m), "generic");
  assert_int_equal(mlcrt_model_arena_bytes(m), FIX_N * 4);
  assert_int_equal(mlcrt_model_num_inputs(m), 2);
  assert_int_equal(mlcrt_model_num_outputs(m), 1);
  mlcrt_tensor_info_t info;
  assert_null(mlcrt_model_input_info(m, 0, &info));
  assert_string_equal(info.name, "a");
  assert_int_equal(info.dtype, MLCRT_FLOAT32);
  assert_int_equal(info.rank, 2);
  assert_int_equal(info.dims[1], 256);
  assert_string_equal(info.dim_names[0], "batch");
  assert_int_equal(info.nbytes, FIX_N * 4);
  assert_null(mlcrt_model_output_info(m, 0, &info));
  assert_string_equal(info.name, "sum");
  expect_error(mlcrt_model_input_info(m, 2, &info), MLCRT_INVALID_ARGUMENT,
               "input index 2 out of range (model 'addmodel' has 2)");
  expect_error(mlcrt_model_output_info(m, -1, &info), MLCRT_INVALID_ARGUMENT,
               "output index -1 out of range");
  expect_error(mlcrt_model_output_info(m, 0, NULL), MLCRT_INVALID_ARGUMENT,
               "out_info is NULL");
  int32_t idx = -1;
  assert_null(mlcrt_model_find_input(m, "b", &idx));
  assert_int_equal(idx, 1);
  assert_null(mlcrt_model_find_output(m, "sum", &idx));
  assert_int_equal(idx, 0);
  expect_error(mlcrt_model_find_input(m, "sum", &idx), MLCRT_NOT_FOUND,
               "no input named 'sum'");
  expect_error(mlcrt_model_find_input(m, NULL, &idx), MLCRT_INVALID_ARGUMENT,
               "name is NULL");
  mlcrt_model_release(m);
}

static void test_side_weights(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = NULL;
  remove_weights(e);
  /* missing */
  expect_error(mlcrt_model_load(e->side, &m), MLCRT_NOT_FOUND,
               "fixture.weights");
  /* a bare blob (no header): the size says so */
  assert_int_equal(fixture_write(e->dir, "fixture.weights", e->w, sizeof e->w),
                   0);
  expect_error(mlcrt_model_load(e->side, &m), MLCRT_IO_ERROR,
               "is 4096 bytes, expected 4160 (a 64-byte header and 4096 bytes "
               "of weights)");
  /* right size, no header */
  char junk[64 + sizeof e->w];
  memset(junk, 'x', sizeof junk);
  assert_int_equal(fixture_write(e->dir, "fixture.weights", junk, sizeof junk),
                   0);
  expect_error(mlcrt_model_load(e->side, &m), MLCRT_IO_ERROR,
               "has no valid mlc weights header");
  /* another build's weights */
  uint8_t other[16] = {9, 9, 9};
  assert_int_equal(fixture_write_weights_id(e->dir, "fixture.weights", e->w,
                                            sizeof e->w, other),
                   0);
  expect_error(mlcrt_model_load(e->side, &m), MLCRT_IO_ERROR,
               "belongs to another build of the model (build id "
               "09090900000000000000000000000000, the library's is "
               "0102030405060708090a0b0c0d0e0f10)");
  /* a FIFO in its place is refused at once, not waited on */
  remove_weights(e);
  char fifo[1100];
  snprintf(fifo, sizeof fifo, "%s/fixture.weights", e->dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  expect_error(mlcrt_model_load(e->side, &m), MLCRT_IO_ERROR,
               "is not a regular file");
  remove_weights(e);
  assert_null(m);
  /* right: the header decides, the blob is not read (no hash from ABI 3) */
  float other_w[FIX_N] = {0};
  assert_int_equal(fixture_write_weights(e->dir, "fixture.weights", other_w,
                                         sizeof other_w),
                   0);
  assert_null(mlcrt_model_load(e->side, &m));
  assert_non_null(m);
  mlcrt_model_release(m);
}

/* ABI 2 models: a bare blob checked by size and FNV-1a hash. */
static void test_side_weights_v2(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = NULL;
  remove_weights(e);
  assert_int_equal(fixture_write(e->dir, "fixture.weights", e->w, 100), 0);
  expect_error(mlcrt_model_load(e->side2, &m), MLCRT_IO_ERROR,
               "is 100 bytes, expected 4096");
  float bad[FIX_N];
  memcpy(bad, e->w, sizeof bad);
  bad[7] = 1e6f;
  assert_int_equal(fixture_write(e->dir, "fixture.weights", bad, sizeof bad),
                   0);
  expect_error(mlcrt_model_load(e->side2, &m), MLCRT_IO_ERROR, "hash");
  assert_null(m);
  assert_int_equal(
      fixture_write(e->dir, "fixture.weights", e->w, sizeof e->w), 0);
  assert_null(mlcrt_model_load(e->side2, &m));
  assert_non_null(m);
  mlcrt_model_release(m);
}

/* The static path: a descriptor already in the process, weights looked up
 * in the folder given. */
static void test_from_descriptor(void **state) {
  env_t *e = *state;
  assert_int_equal(
      fixture_write_weights(e->dir, "fixture.weights", e->w, sizeof e->w), 0);
  void *h = dlopen(e->side, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(h);
  mlc_abi_model_get_fn get;
  void *sym = dlsym(h, "addmodel_model_get");
  assert_non_null(sym);
  memcpy(&get, &sym, sizeof get);
  mlcrt_model_t *m = NULL;
  assert_null(mlcrt_model_from_descriptor(get(), e->dir, &m));
  assert_string_equal(mlcrt_model_name(m), "addmodel");
  mlcrt_model_release(m);
  char empty[1100];
  snprintf(empty, sizeof empty, "%s/nowhere", e->dir);
  expect_error(mlcrt_model_from_descriptor(get(), empty, &m), MLCRT_NOT_FOUND,
               "model 'addmodel': weights file");
  dlclose(h);
}

/* Hand-made descriptors with inconsistent fields are refused by
 * mlcrt_model_from_descriptor, each with its reason. */
static int32_t dummy_run(const mlc_abi_exec_t *x, const void *w, void *a,
                         void *const *in, void *const *out) {
  return 0;
}

static void expect_bad_descriptor(const mlc_abi_model_t *d, const char *part) {
  mlcrt_model_t *m = NULL;
  expect_error(mlcrt_model_from_descriptor(d, NULL, &m), MLCRT_INCOMPATIBLE,
               part);
  assert_null(m);
}

static void test_bad_descriptors(void **state) {
  (void)state;
  static const int64_t dims[1] = {3};
  static const mlc_abi_tensor_t t[1] = {{"x", 1, 1, dims, NULL, 12}};
  static const mlc_abi_tensor_t noname[1] = {{NULL, 1, 1, dims, NULL, 12}};
  static const mlc_abi_tensor_t nodims[1] = {{"x", 1, 2, NULL, NULL, 12}};
  static const int64_t neg[1] = {-3};
  static const mlc_abi_tensor_t negdim[1] = {{"x", 1, 1, neg, NULL, 12}};
  const mlc_abi_model_t good = {
      .abi_version = MLC_ABI_VERSION, .struct_size = sizeof(mlc_abi_model_t),
      .name = "hand", .producer = "test", .target = "generic",
      .num_inputs = 1, .num_outputs = 1, .inputs = t, .outputs = t,
      .arena_align = 64, .weights_bytes = 16, .weights = (const void *)dims,
      .run = dummy_run};
  mlcrt_model_t *m = NULL;
  assert_null(mlcrt_model_from_descriptor(&good, NULL, &m));
  assert_int_equal(mlcrt_model_num_inputs(m), 1);
  mlcrt_model_release(m);
  mlc_abi_model_t d = good;
  d.run = NULL;
  expect_bad_descriptor(&d, "model 'hand': model has no run function");
  d = good;
  d.num_inputs = -1;
  expect_bad_descriptor(&d, "bad input table (-1 entries)");
  d = good;
  d.outputs = NULL;
  expect_bad_descriptor(&d, "bad output table (1 entries)");
  d = good;
  d.inputs = noname;
  expect_bad_descriptor(&d, "input 0 has no name");
  d = good;
  d.inputs = nodims;
  expect_bad_descriptor(&d, "input 0 'x': bad rank 2");
  d = good;
  d.outputs = negdim;
  expect_bad_descriptor(&d, "output 0 'x': dim 0 is negative (-3)");
  d = good;
  d.weights = NULL;
  expect_bad_descriptor(&d, "16 bytes of weights but neither");
  d = good;
  d.abi_version = 0;
  expect_bad_descriptor(&d, "model '?': model ABI version 0");
}

/* Names in a descriptor are arbitrary bytes from the model: every message
 * that carries one (tensor, dim, model and weights file names) has control
 * bytes, invalid UTF-8 and bidi characters as \xHH, so a model cannot send
 * escape sequences to the terminal that prints the status.  Valid UTF-8,
 * '\' and the message's own punctuation stay as they are. */
static void test_escaped_names(void **state) {
  env_t *e = *state;
  static const int64_t dims[1] = {3};
  static const char *const dim_names[1] = {"b\x1b[31m"};
  static const mlc_abi_tensor_t t[1] = {{"x", 1, 1, dims, dim_names, 12}};
  static const mlc_abi_tensor_t esc_rank[1] = {
      {"x\x1b[2J\xff", 1, 2, NULL, NULL, 12}};
  static const mlc_abi_tensor_t utf8_rank[1] = {
      {"caf\xc3\xa9\\n", 1, 2, NULL, NULL, 12}};
  const mlc_abi_model_t good = {
      .abi_version = MLC_ABI_VERSION, .struct_size = sizeof(mlc_abi_model_t),
      .name = "m\x07\xe2\x80\xae", .producer = "test", .target = "generic",
      .num_inputs = 1, .num_outputs = 1, .inputs = t, .outputs = t,
      .arena_align = 64, .run = dummy_run};
  mlcrt_model_t *m = NULL;
  mlc_abi_model_t d = good;
  d.inputs = esc_rank; /* mlcrt_status_make, then annotated with the model */
  mlcrt_status_t *st = mlcrt_model_from_descriptor(&d, NULL, &m);
  assert_string_equal(mlcrt_status_message(st),
                      "model 'm\\x07\\xe2\\x80\\xae': input 0 "
                      "'x\\x1b[2J\\xff': bad rank 2");
  mlcrt_status_free(st);
  d = good;
  d.outputs = utf8_rank;
  st = mlcrt_model_from_descriptor(&d, NULL, &m);
  assert_non_null(strstr(mlcrt_status_message(st),
                         ": output 0 'caf\xc3\xa9\\n': bad rank 2"));
  mlcrt_status_free(st);
  d = good;
  d.weights_bytes = 16;
  d.weights_file = "w\x1b]0;x\x07.bin";
  expect_error(mlcrt_model_from_descriptor(&d, e->dir, &m), MLCRT_NOT_FOUND,
               "/w\\x1b]0;x\\x07.bin': No such file");
  assert_null(mlcrt_model_from_descriptor(&good, NULL, &m));
  mlcrt_session_t *s = NULL;
  assert_null(mlcrt_session_create(m, NULL, &s));
  float x[3];
  const int64_t two[1] = {2};
  expect_error(mlcrt_session_bind_input_checked(s, 0, x, sizeof x,
                                                MLCRT_FLOAT32, 1, two),
               MLCRT_INVALID_ARGUMENT,
               "input 0 'x': dim 0 ('b\\x1b[31m') is 2, expected 3");
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

/* ABI 3 records the CPU features the code may use; loading on a CPU
 * without one of them (simulated with MLC_CPU_MASK) is a status naming
 * them, before any of the model's code runs. */
static void test_cpu_features(void **state) {
  env_t *e = *state;
  mlcrt_model_t *m = NULL;
  uint64_t have = mlcrt_cpu_detect();
  assert_int_equal(setenv("MLC_CPU_MASK", "x86-64-v2", 1), 0);
  expect_error(mlcrt_model_load(e->avx2, &m), MLCRT_INCOMPATIBLE,
               "model 'addmodel' was compiled for CPU 'fixture-cpu' and needs CPU "
               "features this CPU lacks: avx2 (recompile");
  /* version-1 models record nothing and load anywhere */
  assert_null(mlcrt_model_load(e->v1, &m));
  mlcrt_model_release(m);
  m = NULL;
  assert_int_equal(setenv("MLC_CPU_MASK", "x86-64-v3 avx512f", 1), 0);
  if (have & (UINT64_C(1) << MLC_ABI_X86_AVX2)) {
    assert_null(mlcrt_model_load(e->avx2, &m));
    mlcrt_model_release(m);
    m = NULL;
  }
  assert_int_equal(setenv("MLC_CPU_MASK", "avx2,bogus", 1), 0);
  expect_error(mlcrt_model_load(e->avx2, &m), MLCRT_INVALID_ARGUMENT,
               "MLC_CPU_MASK: unknown CPU feature or level 'bogus'");
  assert_int_equal(unsetenv("MLC_CPU_MASK"), 0);
  /* The static path checks too; every feature is more than any CPU has. */
  static const int64_t dims[1] = {3};
  static const mlc_abi_tensor_t t[1] = {{"x", 1, 1, dims, NULL, 12}};
  mlc_abi_model_t d = {
      .abi_version = MLC_ABI_VERSION, .struct_size = sizeof(mlc_abi_model_t),
      .name = "hand", .producer = "test", .target = "generic",
      .num_inputs = 1, .num_outputs = 1, .inputs = t, .outputs = t,
      .arena_align = 64, .run = dummy_run, .cpu = "everything"};
  d.cpu_features = (UINT64_C(1) << MLC_ABI_X86_NUM_FEATURES) - 1;
  mlcrt_status_t *st = mlcrt_model_from_descriptor(&d, NULL, &m);
  assert_int_equal(mlcrt_status_code(st), MLCRT_INCOMPATIBLE);
  assert_non_null(strstr(mlcrt_status_message(st), "compiled for CPU 'everything'"));
  mlcrt_status_free(st);
  d.cpu_features = have;
  assert_null(mlcrt_model_from_descriptor(&d, NULL, &m));
  mlcrt_model_release(m);
  /* The names and levels the mask and the compiler share. */
  uint64_t bits = 0;
  assert_null(mlcrt_cpu_parse("x86-64-v4", &bits));
  char list[512];
  mlcrt_cpu_format(bits, list, sizeof list);
  assert_string_equal(list, "sse3 ssse3 sse4.1 sse4.2 popcnt avx avx2 fma f16c "
                            "bmi bmi2 lzcnt movbe avx512f avx512cd avx512bw "
                            "avx512dq avx512vl");
  assert_null(mlcrt_cpu_parse("generic", &bits));
  assert_int_equal(bits, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_null_arguments),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_damaged_libraries),
      cmocka_unit_test(test_describe),
      cmocka_unit_test(test_side_weights),
      cmocka_unit_test(test_side_weights_v2),
      cmocka_unit_test(test_from_descriptor),
      cmocka_unit_test(test_bad_descriptors),
      cmocka_unit_test(test_escaped_names),
      cmocka_unit_test(test_cpu_features),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
