/* What `mlc compile` writes, used the way applications and attackers use
 * it (the `mlc` binary built beside this test, run as a subprocess; the
 * tests skip when it is not built):
 *  - a damaged library or an ONNX file given to `mlc run`/`mlc inspect`
 *    is a clean error;
 *  - recompiling a model in place while a process runs it leaves that
 *    process computing with the old weights (files are renamed over, not
 *    rewritten), and a load that mixes the old library with the new
 *    weights says so; --weights-limit 0 puts any weights in a side file;
 *  - an output bound to its input's buffer is refused at run;
 *  - --cpu generic leaves out AVX and AVX-512 instructions, and a library
 *    compiled for this host refuses to load on a CPU without its features
 *    (simulated with MLC_CPU_MASK);
 *  - two models compiled with --emit obj link into one program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlc/mlcrt.h"
#include "model_writer.h"

#define MLC MLC_BUILD_DIR "/tools/mlc"

static char out_text[65536], err_text[65536];

static void slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
  buf[n] = '\0';
  if (f) fclose(f);
}

/* Runs "ENV mlc ARGS" in the current folder; returns its exit code. */
static int mlc_env(const char *env, const char *args) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s '%s' %s >cmd.out 2>cmd.err", env, MLC, args);
  int st = system(cmd);
  slurp("cmd.out", out_text, sizeof out_text);
  slurp("cmd.err", err_text, sizeof err_text);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define EXPECT_ENV(code, env, args)                                        \
  do {                                                                     \
    int rc_ = mlc_env(env, args);                                          \
    if (rc_ != (code))                                                     \
      fail_msg("mlc %s: exit %d, wanted %d\nstdout: %s\nstderr: %s", args, \
               rc_, code, out_text, err_text);                             \
  } while (0)
#define EXPECT(code, args) EXPECT_ENV(code, "", args)
#define EXPECT_IN(text, part) \
  do { if (!strstr(text, part)) fail_msg("'%s' lacks '%s'", text, part); } while (0)

/* Output of a shell command (stdout), as a number. */
static long count_of(const char *cmd) {
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  long n = -1;
  if (fscanf(p, "%ld", &n) != 1) n = -1;
  pclose(p);
  return n;
}

static const float b_a[3] = {1, -2, 3}, b_b[3] = {10, 20, 30};
static const float x_in[6] = {-5, 0, 1, 2, 3, -4};
static const float y_a[6] = {0, 0, 4, 3, 1, 0};      /* relu(x + b_a) */
static const float y_b[6] = {5, 20, 31, 12, 23, 26}; /* relu(x + b_b) */

static int setup(void **state) {
  (void)state;
  if (access(MLC, X_OK) != 0) return 0;
  mkdir("artifacts", 0777);
  if (chdir("artifacts") != 0) return -1;
  return mw_add_relu("a.onnx", b_a) | mw_add_relu("b.onnx", b_b) |
         mw_matmul("mm.onnx");
}

#define NEED_MLC() \
  do { if (access(MLC, X_OK) != 0) skip(); } while (0)

/* ---- damaged and mistaken files ----------------------------------------- */

static void test_wrong_files(void **state) {
  (void)state;
  NEED_MLC();
  EXPECT(1, "run a.onnx --output-dir outs");
  EXPECT_IN(err_text, "not a shared library (no ELF header); 'a.onnx' looks "
                      "like an ONNX model: compile it first");
  EXPECT(0, "compile a.onnx -o whole.so");
  struct stat sb;
  assert_int_equal(stat("whole.so", &sb), 0);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "head -c %lld whole.so > half.so",
           (long long)sb.st_size / 2);
  assert_int_equal(system(cmd), 0);
  EXPECT(1, "inspect half.so");
  EXPECT_IN(err_text, "truncated?");
  EXPECT(1, "run half.so --output-dir outs");
  EXPECT_IN(err_text, "truncated?");
}

/* ---- recompiling in place ------------------------------------------------ */

static mlcrt_session_t *open_session(const char *path, mlcrt_model_t **m) {
  mlcrt_status_t *st = mlcrt_model_load(path, m);
  if (st) fail_msg("%s", mlcrt_status_message(st));
  mlcrt_session_t *s = NULL;
  mlcrt_session_options_t o = {.num_threads = 1};
  assert_null(mlcrt_session_create(*m, &o, &s));
  return s;
}

static void run_session(mlcrt_session_t *s, const float *want) {
  float y[6];
  assert_null(mlcrt_session_bind_input(s, 0, x_in, sizeof x_in));
  assert_null(mlcrt_session_bind_output(s, 0, y, sizeof y));
  assert_null(mlcrt_session_run(s));
  assert_memory_equal(y, want, sizeof y);
}

static void test_recompile_in_place(void **state) {
  (void)state;
  NEED_MLC();
  /* --weights-limit 0: even 12 bytes of weights go to the side file;
   * without it they are embedded. */
  EXPECT(0, "compile a.onnx -o inplace.so --weights-limit 0");
  assert_int_equal(access("inplace.so.weights", R_OK), 0);
  EXPECT(0, "compile a.onnx -o embedded.so");
  assert_int_equal(access("embedded.so.weights", F_OK), -1);
  mlcrt_model_t *m = NULL;
  mlcrt_session_t *s = open_session("./inplace.so", &m);
  run_session(s, y_a);
  /* Another model compiled over the same files while this one runs. */
  EXPECT(0, "compile b.onnx -o inplace.so --weights-limit 0");
  run_session(s, y_a);
  /* The loader hands out the library still loaded under that name; with
   * the new weights file beside it that is a clear error, not wrong
   * results. */
  mlcrt_model_t *m2 = NULL;
  mlcrt_status_t *st = mlcrt_model_load("./inplace.so", &m2);
  assert_non_null(st);
  EXPECT_IN(mlcrt_status_message(st), "belongs to another build of the model");
  mlcrt_status_free(st);
  mlcrt_session_release(s);
  mlcrt_model_release(m);
  /* Once the old one is released, the new one loads. */
  s = open_session("./inplace.so", &m);
  run_session(s, y_b);
  mlcrt_session_release(s);
  mlcrt_model_release(m);
  /* No temporary file is left behind. */
  assert_int_equal(count_of("ls -A | grep -c '\\.tmp-'"), 0);
}

/* A compiled model run in place (output bound to the input's buffer) is
 * refused; with separate buffers it computes the right values. */
static void test_in_place_refused(void **state) {
  (void)state;
  NEED_MLC();
  EXPECT(0, "compile a.onnx -o inplace2.so");
  mlcrt_model_t *m = NULL;
  mlcrt_session_t *s = open_session("./inplace2.so", &m);
  float buf[6];
  memcpy(buf, x_in, sizeof buf);
  assert_null(mlcrt_session_bind_input_by_name(s, "x", buf, sizeof buf));
  assert_null(mlcrt_session_bind_output_by_name(s, "y", buf, sizeof buf));
  mlcrt_status_t *st = mlcrt_session_run(s);
  assert_int_equal(mlcrt_status_code(st), MLCRT_INVALID_ARGUMENT);
  EXPECT_IN(mlcrt_status_message(st), "output 0 'y' overlaps input 0 'x' (the same buffer)");
  mlcrt_status_free(st);
  run_session(s, y_a);
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

/* ---- CPU features ---------------------------------------------------------- */

static void test_cpu_generic(void **state) {
  (void)state;
  NEED_MLC();
  /* The check can see AVX-512 code when there is some... */
  EXPECT(0, "compile mm.onnx -o v4.so --cpu x86-64-v4");
  assert_true(count_of("objdump -d v4.so | grep -c zmm") > 0);
  /* ...and --cpu generic has none, nor AVX (ymm), in the object or the
   * library. */
  EXPECT(0, "compile mm.onnx -o generic.o --cpu generic");
  assert_int_equal(count_of("objdump -d generic.o | grep -c 'zmm\\|ymm'"), 0);
  EXPECT(0, "compile mm.onnx -o generic.so --cpu generic");
  assert_int_equal(count_of("objdump -d generic.so | grep -c 'zmm\\|ymm'"), 0);
  EXPECT(0, "inspect generic.so");
  EXPECT_IN(out_text, "cpu:      generic\nfeatures: (x86-64 baseline only)\n");
  EXPECT(0, "inspect v4.so");
  EXPECT_IN(out_text, "features: sse3 ssse3 sse4.1 sse4.2 popcnt avx avx2 fma "
                      "f16c bmi bmi2 lzcnt movbe avx512f avx512cd avx512bw "
                      "avx512dq avx512vl\n");
  /* A CPU name LLVM does not know is refused up front (it used to be
   * warned about six times and compiled as generic code). */
  EXPECT(2, "compile mm.onnx -o bad.so --cpu pentium9");
  EXPECT_IN(err_text, "unknown CPU 'pentium9' (use host, generic, x86-64-v2");
  assert_null(strstr(err_text, "not a recognized processor"));
  EXPECT(0, "compile mm.onnx -o skl.so --cpu skylake");
  EXPECT(0, "inspect skl.so");
  EXPECT_IN(out_text, "cpu:      skylake\n");
}

static void write_x(void) {
  FILE *f = fopen("x.npy", "wb");
  assert_non_null(f);
  char hdr[128];
  int n = snprintf(hdr, sizeof hdr,
                   "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  int pad = 64 - (10 + n + 1) % 64;
  unsigned short len = (unsigned short)(n + pad + 1);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fwrite(&len, 2, 1, f);
  fwrite(hdr, 1, (size_t)n, f);
  for (int i = 0; i < pad; i++) fputc(' ', f);
  fputc('\n', f);
  fwrite(x_in, sizeof x_in, 1, f);
  fclose(f);
}

static void test_cpu_mask(void **state) {
  (void)state;
  NEED_MLC();
  write_x();
  EXPECT(0, "compile a.onnx -o forhost.so");
  EXPECT(0, "inspect forhost.so");
  if (strstr(out_text, "(x86-64 baseline only)")) skip(); /* a baseline CPU */
  /* On a CPU with only the x86-64 baseline it does not load. */
  EXPECT_ENV(1, "MLC_CPU_MASK=generic", "run forhost.so -i x.npy -d outs");
  EXPECT_IN(err_text, "model 'forhost' was compiled for CPU '");
  EXPECT_IN(err_text, "and needs CPU features this CPU lacks: ");
  EXPECT_ENV(0, "MLC_CPU_MASK=generic", "inspect forhost.so");
  EXPECT_IN(out_text, "(this CPU lacks: ");
  /* Compiled for generic x86-64, it runs there. */
  EXPECT(0, "compile a.onnx -o forany.so --cpu generic");
  EXPECT_ENV(0, "MLC_CPU_MASK=generic", "run forany.so -i x.npy -d outs");
  EXPECT_ENV(1, "MLC_CPU_MASK=nonsense", "run forany.so -i x.npy -d outs");
  EXPECT_IN(err_text, "MLC_CPU_MASK: unknown CPU feature or level 'nonsense'");
}

/* ---- objects ----------------------------------------------------------------- */

/* Both models through their typed entries and their descriptors (no
 * libmlcrt, so the program links the same in a sanitizer build). */
static const char two_models_src[] =
    "#include <stdio.h>\n"
    "#include \"obja.h\"\n"
    "#include \"objb.h\"\n"
    "static _Alignas(64) char ws[OBJA_WORKSPACE_BYTES + OBJB_WORKSPACE_BYTES + 64];\n"
    "int main(void) {\n"
    "  float x[6] = {-5, 0, 1, 2, 3, -4}, ya[6], yb[6], yd[6];\n"
    "  if (obja_run(ws, NULL, x, ya) || objb_run(ws, NULL, x, yb)) return 1;\n"
    "  const mlc_abi_model_t *d = objb_model_get();\n"
    "  void *ins[1] = {x}, *outs[1] = {yd};\n"
    "  if (d->run(NULL, d->weights, ws, ins, outs)) return 1;\n"
    "  printf(\"%s %s: \", obja_model_get()->name, d->name);\n"
    "  for (int i = 0; i < 6; i++) printf(\"%g \", ya[i]);\n"
    "  for (int i = 0; i < 6; i++) printf(\"%g \", yb[i]);\n"
    "  for (int i = 0; i < 6; i++) printf(\"%g \", yd[i]);\n"
    "  printf(\"\\n\");\n"
    "  return 0;\n"
    "}\n";

static void test_two_objects(void **state) {
  (void)state;
  NEED_MLC();
  EXPECT(0, "compile a.onnx -o obja.o");
  EXPECT(0, "compile b.onnx -o objb.o");
  FILE *f = fopen("two.c", "w");
  assert_non_null(f);
  fputs(two_models_src, f);
  fclose(f);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cc -std=c11 -Wall -Werror -I. -I'%s/include' -o two two.c obja.o "
           "objb.o -lm 2>link.err",
           MLC_SOURCE_DIR);
  if (system(cmd) != 0) {
    slurp("link.err", err_text, sizeof err_text);
    fail_msg("linking two models: %s", err_text);
  }
  assert_int_equal(system("./two > two.out"), 0);
  slurp("two.out", out_text, sizeof out_text);
  assert_string_equal(out_text,
                      "obja objb: 0 0 4 3 1 0 5 20 31 12 23 26 5 20 31 12 23 26 \n");
  /* The generic getter is weak in an object, strong in a library. */
  assert_int_equal(count_of("nm obja.o | grep -c ' W mlc_model_get$'"), 1);
  EXPECT(0, "compile a.onnx -o liba.so");
  assert_int_equal(count_of("nm -D liba.so | grep -c ' T mlc_model_get$'"), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wrong_files),
      cmocka_unit_test(test_recompile_in_place),
      cmocka_unit_test(test_in_place_refused),
      cmocka_unit_test(test_cpu_generic),
      cmocka_unit_test(test_cpu_mask),
      cmocka_unit_test(test_two_objects),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
