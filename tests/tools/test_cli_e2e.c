/* End-to-end tests of the `mlc` command, run as a subprocess (the binary
 * built beside this test; skipped when it is not built).  The ONNX model
 * is written here by a tiny protobuf encoder, so the test needs no
 * Python and no data files:
 *     y = Relu(Add(x[N, 3], b[3]))   b = [1, -2, 3]
 * It checks exit codes (0, 1, 2), compile -> run -> outputs, the shape
 * check of run, inspect of both file kinds, bench --json, the --dim
 * error and the steps --time-passes reports. */
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

#include "ir/program.h"
#include "tools/cli_test.h"
#include "tools/npy.h"

/* ValueInfoProto for a float tensor of dims given as names or numbers. */
static void value_info(pb_t *out, int field, const char *name,
                       const char *d0, int64_t d1) {
  pb_t dim0 = {0}, dim1 = {0}, shape = {0}, tensor = {0}, type = {0}, vi = {0};
  pb_str(&dim0, 2, d0);                /* dim_param */
  pb_int(&dim1, 1, (uint64_t)d1);      /* dim_value */
  pb_msg(&shape, 1, &dim0);
  pb_msg(&shape, 1, &dim1);
  pb_int(&tensor, 1, 1);               /* elem_type FLOAT */
  pb_msg(&tensor, 2, &shape);
  pb_msg(&type, 1, &tensor);
  pb_str(&vi, 1, name);
  pb_msg(&vi, 2, &type);
  pb_msg(out, field, &vi);
}

static void write_model(const char *path) {
  pb_t add = {0}, relu = {0}, init = {0}, graph = {0}, opset = {0}, model = {0};
  pb_str(&add, 1, "x"); pb_str(&add, 1, "b"); pb_str(&add, 2, "s");
  pb_str(&add, 3, "add0"); pb_str(&add, 4, "Add");
  pb_str(&relu, 1, "s"); pb_str(&relu, 2, "y");
  pb_str(&relu, 3, "relu0"); pb_str(&relu, 4, "Relu");
  const float b[3] = {1, -2, 3};
  pb_int(&init, 1, 3); pb_int(&init, 2, 1); pb_str(&init, 8, "b");
  pb_bytes(&init, 9, b, sizeof b);
  pb_msg(&graph, 1, &add);
  pb_msg(&graph, 1, &relu);
  pb_str(&graph, 2, "e2e");
  pb_msg(&graph, 5, &init);
  value_info(&graph, 11, "x", "N", 3);
  value_info(&graph, 12, "y", "N", 3);
  pb_str(&opset, 1, "");
  pb_int(&opset, 2, 17);
  pb_int(&model, 1, 8);                /* ir_version */
  pb_msg(&model, 7, &graph);
  pb_msg(&model, 8, &opset);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(model.buf, 1, model.len, f), model.len);
  fclose(f);
}

/* y = Relu(x) with x and y float scalars (rank 0: no dims anywhere). */
static void write_scalar_model(const char *path) {
  pb_t relu = {0}, graph = {0}, opset = {0}, model = {0};
  pb_str(&relu, 1, "x"); pb_str(&relu, 2, "y");
  pb_str(&relu, 3, "relu0"); pb_str(&relu, 4, "Relu");
  pb_msg(&graph, 1, &relu);
  pb_str(&graph, 2, "scalar");
  const char *names[2] = {"x", "y"};
  for (int i = 0; i < 2; i++) {
    pb_t shape = {0}, tensor = {0}, type = {0}, vi = {0};
    pb_int(&tensor, 1, 1);             /* elem_type FLOAT */
    pb_msg(&tensor, 2, &shape);        /* present and empty: rank 0 */
    pb_msg(&type, 1, &tensor);
    pb_str(&vi, 1, names[i]);
    pb_msg(&vi, 2, &type);
    pb_msg(&graph, i ? 12 : 11, &vi);
  }
  pb_str(&opset, 1, "");
  pb_int(&opset, 2, 17);
  pb_int(&model, 1, 8);
  pb_msg(&model, 7, &graph);
  pb_msg(&model, 8, &opset);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(model.buf, 1, model.len, f), model.len);
  fclose(f);
}

/* A rank-0 float TensorProto named x holding v. */
static void write_scalar_pb(const char *path, float v) {
  pb_t t = {0};
  pb_int(&t, 2, 1);                    /* data_type FLOAT, no dims */
  pb_str(&t, 8, "x");
  pb_bytes(&t, 9, &v, sizeof v);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(t.buf, 1, t.len, f), t.len);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  if (access(MLC, X_OK) != 0) return 0;
  mkdir("e2e", 0777);
  if (chdir("e2e") != 0) return -1;
  write_model("net.onnx");
  return 0;
}

#define NEED_MLC() \
  do { if (access(MLC, X_OK) != 0) skip(); } while (0)

static void test_usage_exit_codes(void **state) {
  (void)state;
  NEED_MLC();
  EXPECT(2, "");
  assert_non_null(strstr(err_text, "usage: mlc"));
  EXPECT(2, "frobnicate");
  EXPECT(0, "--version");
  assert_non_null(strstr(out_text, "mlc " MLC_VERSION_STRING));
  EXPECT(0, "--help");
  const char *cmds[] = {"compile", "run", "bench", "inspect"};
  for (int i = 0; i < 4; i++) {
    char args[64];
    snprintf(args, sizeof args, "%s --help", cmds[i]);
    EXPECT(0, args);
    assert_non_null(strstr(out_text, "usage: mlc"));
    snprintf(args, sizeof args, "%s --version", cmds[i]);
    EXPECT(0, args);
    snprintf(args, sizeof args, "%s --no-such-option", cmds[i]);
    EXPECT(2, args);
    assert_non_null(strstr(err_text, "usage: mlc"));
  }
  EXPECT(2, "compile net.onnx");               /* no -o */
  EXPECT(2, "compile net.onnx -o x.so -O");    /* missing argument */
  EXPECT(1, "compile missing.onnx -o x.so");
  assert_non_null(strstr(err_text, "compiling missing.onnx"));
  EXPECT(2, "compile net.onnx -o x.so --dim M=3");
  assert_non_null(strstr(err_text, "'M'"));
  /* N x 3 floats: the bytes overflow int64 (the header said _BYTES -1). */
  EXPECT(2, "compile net.onnx -o x.so --dim N=4611686018427387904");
  assert_non_null(strstr(err_text, "byte size overflows"));
}

static void test_compile_run(void **state) {
  (void)state;
  NEED_MLC();
  EXPECT(0, "compile net.onnx -o net.so --dim N=2");
  assert_int_equal(access("net.so", R_OK), 0);
  assert_int_equal(access("net.h", R_OK), 0);
  mlc_host_tensor_t x = {.dtype = MLC_DT_F32, .rank = 2, .dims = {2, 3}};
  float xv[6] = {-5, 0, 1, 2, 3, -4};
  x.data = xv;
  x.nbytes = sizeof xv;
  assert_null(mlc_npy_write_file("x.npy", &x));
  EXPECT(0, "run net.so --input x=x.npy --output-dir outs");
  mlc_host_tensor_t y;
  assert_null(mlc_npy_read_file("outs/y.npy", &y));
  assert_int_equal(y.dtype, MLC_DT_F32);
  assert_int_equal(y.rank, 2);
  const float want[6] = {0, 0, 4, 3, 1, 0}; /* relu(x + [1, -2, 3]) */
  assert_memory_equal(y.data, want, sizeof want);
  mlc_host_tensor_free(&y);
  /* An input by position, outputs as TensorProto. */
  EXPECT(0, "run net.so --input x.npy -d outs_pb --output-format pb");
  assert_int_equal(access("outs_pb/y.pb", R_OK), 0);
  /* Inputs go after --input: a bare file is a usage error. */
  EXPECT(2, "run net.so x.npy --output-dir outs");
  /* Wrong shape: exit 1 naming the input and both shapes. */
  x.dims[0] = 3;
  float big[9] = {0};
  x.data = big;
  x.nbytes = sizeof big;
  assert_null(mlc_npy_write_file("x3.npy", &x));
  EXPECT(1, "run net.so --input x=x3.npy --output-dir outs");
  assert_non_null(strstr(err_text, "input 'x'"));
  assert_non_null(strstr(err_text, "[3, 3]"));
  assert_non_null(strstr(err_text, "[2, 3]"));
  EXPECT(1, "run net.so --output-dir outs"); /* no input data */
  EXPECT(1, "run net.so --input z=x.npy --output-dir outs");
  assert_non_null(strstr(err_text, "'z'"));
}

static void test_inspect_bench_emit(void **state) {
  (void)state;
  NEED_MLC();
  EXPECT(0, "inspect net.onnx");
  assert_non_null(strstr(out_text, "f32 [N, 3]"));
  assert_non_null(strstr(out_text, "Relu"));
  assert_non_null(strstr(out_text, "params:   3"));
  assert_non_null(strstr(out_text, "estimate"));
  assert_non_null(strstr(err_text, "symbolic dim 'N' bound to 1"));
  EXPECT(0, "inspect net.onnx --dot --dim N=2");
  assert_non_null(strstr(out_text, "digraph"));
  assert_null(strstr(out_text, "params"));
  EXPECT(0, "compile net.onnx -o net1.so");
  EXPECT(0, "inspect net1.so");
  assert_non_null(strstr(out_text, "model:    net1"));
  assert_non_null(strstr(out_text, "1 (N)"));
  assert_non_null(strstr(out_text, "calls (1):")); /* Add+Relu fused */
  assert_non_null(strstr(out_text, "nodes \"add0\", \"relu0\"\n"));
  EXPECT(0, "bench net1.so --iters 3 --warmup 1 --json");
  assert_non_null(strstr(out_text, "\"median_ms\""));
  assert_non_null(strstr(out_text, "\"iters\": 3"));
  EXPECT(0, "compile net.onnx -o - --emit graph");
  assert_non_null(strstr(out_text, "Relu"));
  /* Model names: --name, else from the output file, as a C identifier;
   * the header lands beside the output, in a folder made on demand. */
  EXPECT(0, "compile net.onnx -o lib/named.so --name custom_name");
  slurp("lib/named.h", out_text, sizeof out_text);
  assert_non_null(strstr(out_text, "custom_name_model_get"));
  EXPECT(0, "compile net.onnx -o 9lives-net.v2.so");
  EXPECT(0, "inspect 9lives-net.v2.so");
  assert_non_null(strstr(out_text, "model:    m_9lives_net_v2\n"));
  EXPECT(0, "compile net.onnx -o net.ll"); /* kind from the extension */
  assert_int_equal(access("net.ll", R_OK), 0);
  EXPECT(0, "compile net.onnx -o net2.so --no-header");
  assert_int_equal(access("net2.h", F_OK), -1);
  EXPECT(1, "inspect net.ll"); /* neither ONNX nor a library */
}

/* Tile passes answer to --print-after (the program's tile text, which
 * parses like --emit tile's), --time-passes and --verify-each. */
static void test_tile_pass_options(void **state) {
  (void)state;
  NEED_MLC();
  EXPECT(0, "compile net.onnx -o - --emit tile --print-after dedupe-kernels "
            "--verify-each --time-passes");
  assert_non_null(strstr(out_text, "kernel "));
  const char *after = strstr(err_text, "// after dedupe-kernels\n");
  assert_non_null(after);
  assert_non_null(strstr(err_text, "time: dedupe-kernels"));
  assert_non_null(strstr(err_text, "time: plan-memory"));
  mlc_program_t p;
  after = strchr(after, '\n') + 1;
  const char *end = strstr(after, "time: ");
  size_t len = end && end > after ? (size_t)(end - after) : strlen(after);
  assert_null(mlc_program_parse(after, len, &p));
  assert_true(p.kernels.len >= 1);
  mlc_program_deinit(&p);
  EXPECT(0, "compile net.onnx -o net_all.so --print-after all");
  assert_non_null(strstr(err_text, "// after fuse\n"));
  assert_non_null(strstr(err_text, "// after dedupe-kernels\nkernel "));
  EXPECT(2, "compile net.onnx -o x.so --print-after dedupe");
  assert_non_null(strstr(err_text, "no pass named 'dedupe'"));
}

/* --time-passes: one "time: <step> <ms> ms" line per step, in order,
 * from the import to the link, then the total. */
static void test_time_passes(void **state) {
  (void)state;
  NEED_MLC();
  EXPECT(0, "compile net.onnx -o timed.so --time-passes");
  const char *steps[] = {"import", "infer-shapes", "plan-memory", "lower",
                         "llvm: weights", "llvm: emit ir", "llvm: optimize",
                         "llvm: object", "link", "header", "total"};
  const char *at = err_text;
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    char line[64];
    snprintf(line, sizeof line, "time: %-22s ", steps[i]);
    const char *hit = strstr(at, line);
    if (!hit) fail_msg("no '%s' after the previous step in:\n%s", line, err_text);
    double ms = -1;
    assert_int_equal(sscanf(hit + strlen(line), "%lf ms", &ms), 1);
    assert_true(ms >= 0);
    at = hit + strlen(line);
  }
  EXPECT(0, "compile net.onnx -o timed.o");
  assert_null(strstr(err_text, "time:"));
}

/* Scalars: a rank-0 tensor has no dims array, which run, bench and the
 * .pb reader once passed to memcpy (UBSan: null argument). */
static void test_scalar_io(void **state) {
  (void)state;
  NEED_MLC();
  write_scalar_model("scalar.onnx");
  write_scalar_pb("xs.pb", -2.5f);
  EXPECT(0, "compile scalar.onnx -o scalar.so");
  EXPECT(0, "run scalar.so --input x=xs.pb --output-dir outs_s");
  mlc_host_tensor_t y;
  assert_null(mlc_npy_read_file("outs_s/y.npy", &y));
  assert_int_equal(y.dtype, MLC_DT_F32);
  assert_int_equal(y.rank, 0);
  assert_int_equal(y.nbytes, sizeof(float));
  assert_true(*(const float *)y.data == 0.0f);
  mlc_host_tensor_free(&y);
  write_scalar_pb("xs.pb", 1.5f);
  EXPECT(0, "run scalar.so --input x=xs.pb -d outs_s2 --output-format pb");
  assert_int_equal(access("outs_s2/y.pb", R_OK), 0);
  EXPECT(0, "bench scalar.so --iters 2 --warmup 1");
  EXPECT(0, "inspect scalar.so");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_usage_exit_codes),
      cmocka_unit_test(test_compile_run),
      cmocka_unit_test(test_inspect_bench_emit),
      cmocka_unit_test(test_tile_pass_options),
      cmocka_unit_test(test_scalar_io),
      cmocka_unit_test(test_time_passes),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
