/* Models with wide fan-in, compiled by the driver and run through mlcrt:
 *  - Sum, Mean, Max and Min of 100 inputs (more than one kernel takes: the
 *    importer chains them; they used to fail with a false "out of
 *    memory"), bit-exact against a left-to-right reference;
 *  - Concat of 10,000 inputs (one kernel of 10,000 loops took minutes in
 *    LLVM; now one kernel per 16 parts, equal ones sharing code), parts
 *    of varying widths, and a Split of 70 outputs;
 *  - a model of more than 125 inputs and outputs gets no typed <name>_run
 *    (the header says so; the library does not export it).
 * The compile time of the 10,000-input Concat is asserted against a
 * generous bound (60 s; about 3 s on 2 cores). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontend/onnx_builder.h"
#include "mlc/mlcrt.h"
#include "tools/driver.h"

static char dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/mlc_wide_XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes m to dir/name.onnx and compiles it to dir/name.so (+ .h);
 * returns the seconds it took. */
static double compile(tb_t *b, Onnx__ModelProto *m, const char *name) {
  char onnx[128], so[128];
  snprintf(onnx, sizeof onnx, "%s/%s.onnx", dir, name);
  snprintf(so, sizeof so, "%s/%s.so", dir, name);
  size_t len;
  uint8_t *buf = tb_pack(b, m, &len);
  FILE *f = fopen(onnx, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, len, f), len);
  fclose(f);
  mlc_compile_options_t o = {.model_path = onnx, .output_path = so,
                             .opt_level = 2, .write_header = true};
  double t0 = now_s();
  mlc_status_t *st = mlc_compile(&o);
  double dt = now_s() - t0;
  if (st) fail_msg("%s: %s", name, mlc_status_message(st));
  return dt;
}

/* Runs dir/name.so on ins (each in_bytes) into outs (each out_bytes). */
static void run(const char *name, int nin, float *const *ins, size_t in_bytes,
                int nout, float *const *outs, size_t out_bytes) {
  char so[128];
  snprintf(so, sizeof so, "%s/%s.so", dir, name);
  mlcrt_model_t *m = NULL;
  mlcrt_session_t *s = NULL;
  mlcrt_session_options_t so1 = {.num_threads = 2};
  assert_null(mlcrt_model_load(so, &m));
  assert_null(mlcrt_session_create(m, &so1, &s));
  for (int i = 0; i < nin; i++)
    assert_null(mlcrt_session_bind_input(s, i, ins[i], in_bytes));
  for (int i = 0; i < nout; i++)
    assert_null(mlcrt_session_bind_output(s, i, outs[i], out_bytes));
  mlcrt_status_t *st = mlcrt_session_run(s);
  if (st) fail_msg("%s: %s", name, mlcrt_status_message(st));
  mlcrt_session_release(s);
  mlcrt_model_release(m);
}

static char *names(tb_t *b, const char *prefix, int n) {
  char *s = tb_alloc(b, (size_t)n * 12 + 1), *p = s;
  for (int i = 0; i < n; i++)
    p += sprintf(p, "%s%s%d", i ? "," : "", prefix, i);
  return s;
}

/* ---- Sum, Mean, Max, Min ---- */

enum { NV = 100, E = 6 };

static void test_wide_variadic(void **state) {
  (void)state;
  static const char *const ops[] = {"Sum", "Mean", "Max", "Min"};
  float *ins[NV], out[E], want[E];
  for (int i = 0; i < NV; i++) {
    ins[i] = malloc(E * sizeof(float));
    for (int j = 0; j < E; j++) ins[i][j] = sinf((float)(i * E + j)) * 100.0f / (float)(j + 1);
  }
  for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
    tb_t b = {0};
    Onnx__ModelProto *m = tb_model(&b, 8, 13);
    char in[16];
    for (int i = 0; i < NV; i++) {
      snprintf(in, sizeof in, "x%d", i);
      tb_input(&b, m, in, 1, "2,3");
    }
    tb_node(&b, m, ops[k], "wide", names(&b, "x", NV), "y");
    tb_output(&b, m, "y", 1, "2,3");
    compile(&b, m, ops[k]);
    tb_free(&b);
    run(ops[k], NV, ins, E * sizeof(float), 1, (float *[]){out}, sizeof out);
    for (int j = 0; j < E; j++) {
      float r = ins[0][j];
      for (int i = 1; i < NV; i++)
        r = k <= 1 ? r + ins[i][j] : k == 2 ? fmaxf(r, ins[i][j]) : fminf(r, ins[i][j]);
      want[j] = k == 1 ? r / (float)NV : r;
    }
    for (int j = 0; j < E; j++)
      if (out[j] != want[j])
        fail_msg("%s[%d]: %.9g, expected %.9g", ops[k], j, out[j], want[j]);
  }
  for (int i = 0; i < NV; i++) free(ins[i]);
}

/* ---- Concat, Split ---- */

enum { NC = 10000 };

static void test_wide_concat(void **state) {
  (void)state;
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 13);
  char in[16];
  for (int i = 0; i < NC; i++) {
    snprintf(in, sizeof in, "x%d", i);
    tb_input(&b, m, in, 1, "2,1");
  }
  tb_attr_i(&b, tb_node(&b, m, "Concat", "cat", names(&b, "x", NC), "y"),
            "axis", 1);
  tb_output(&b, m, "y", 1, "2,10000");
  double dt = compile(&b, m, "cat");
  tb_free(&b);
  print_message("  Concat of %d inputs compiled in %.1f s\n", NC, dt);
  if (dt > 60) fail_msg("Concat of %d inputs took %.0f s", NC, dt);
  float (*x)[2] = malloc(sizeof(float[NC][2]));
  float *ins[NC], *y = malloc(sizeof(float[2][NC]));
  for (int i = 0; i < NC; i++) {
    x[i][0] = (float)i;
    x[i][1] = -(float)i - 0.5f;
    ins[i] = x[i];
  }
  run("cat", NC, ins, 2 * sizeof(float), 1, &y, sizeof(float[2][NC]));
  for (int i = 0; i < NC; i++)
    if (y[i] != x[i][0] || y[NC + i] != x[i][1])
      fail_msg("y[.., %d] = %g, %g", i, y[i], y[NC + i]);
  free(x);
  free(y);
  /* No typed entry for 10,001 inputs and outputs. */
  char path[128];
  snprintf(path, sizeof path, "%s/cat.so", dir);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(lib);
  assert_null(dlsym(lib, "cat_run"));
  assert_non_null(dlsym(lib, "cat_model_get"));
  dlclose(lib);
  snprintf(path, sizeof path, "%s/cat.h", dir);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char text[4096];
  text[fread(text, 1, sizeof text - 1, f)] = 0;
  fclose(f);
  assert_null(strstr(text, "cat_run("));
  assert_non_null(strstr(text, "has no typed\n * cat_run: a C function"));
}

/* Parts of widths 1..5 along axis 2 of [2, 3, w, 2], across several
 * kernels; and their Split back. */
enum { NP = 37 };

static int width(int i) { return 1 + i % 5; }

static void test_uneven_parts(void **state) {
  (void)state;
  tb_t b = {0};
  Onnx__ModelProto *m = tb_model(&b, 8, 13);
  char in[16], shape[32];
  for (int i = 0; i < NP; i++) {
    snprintf(in, sizeof in, "x%d", i);
    snprintf(shape, sizeof shape, "2,3,%d,2", width(i));
    tb_input(&b, m, in, 1, shape);
  }
  tb_attr_i(&b, tb_node(&b, m, "Concat", "cat", names(&b, "x", NP), "c"),
            "axis", 2);
  tb_node(&b, m, "Neg", "neg", "c", "d");
  Onnx__NodeProto *sp = tb_node(&b, m, "Split", "split", "d", names(&b, "y", NP));
  tb_attr_i(&b, sp, "axis", 2);
  int64_t split[NP];
  for (int i = 0; i < NP; i++) split[i] = width(i);
  Onnx__TensorProto *t = tb_tensor(&b, "widths", 7, 1, (int64_t[]){NP});
  tb_raw(&b, t, split, sizeof split);
  tb_init(&b, m, t);
  sp->n_input = tb_split(&b, "d,widths", &sp->input);
  for (int i = 0; i < NP; i++) {
    snprintf(in, sizeof in, "y%d", i);
    snprintf(shape, sizeof shape, "2,3,%d,2", width(i));
    tb_output(&b, m, in, 1, shape);
  }
  compile(&b, m, "uneven");
  tb_free(&b);
  float *ins[NP], *outs[NP];
  for (int i = 0; i < NP; i++) {
    ins[i] = malloc((size_t)(12 * width(i)) * sizeof(float));
    outs[i] = calloc((size_t)(12 * width(i)), sizeof(float));
    for (int j = 0; j < 12 * width(i); j++) ins[i][j] = (float)(i * 100 + j);
  }
  char so[128];
  snprintf(so, sizeof so, "%s/uneven.so", dir);
  mlcrt_model_t *mm = NULL;
  mlcrt_session_t *s = NULL;
  assert_null(mlcrt_model_load(so, &mm));
  assert_null(mlcrt_session_create(mm, NULL, &s));
  for (int i = 0; i < NP; i++) {
    size_t nb = (size_t)(12 * width(i)) * sizeof(float);
    assert_null(mlcrt_session_bind_input(s, i, ins[i], nb));
    assert_null(mlcrt_session_bind_output(s, i, outs[i], nb));
  }
  assert_null(mlcrt_session_run(s));
  mlcrt_session_release(s);
  mlcrt_model_release(mm);
  for (int i = 0; i < NP; i++) {
    for (int j = 0; j < 12 * width(i); j++)
      if (outs[i][j] != -ins[i][j])
        fail_msg("y%d[%d] = %g, expected %g", i, j, outs[i][j], -ins[i][j]);
    free(ins[i]);
    free(outs[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wide_variadic),
      cmocka_unit_test(test_uneven_parts),
      cmocka_unit_test(test_wide_concat),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
