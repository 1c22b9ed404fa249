/* The files the LLVM backend writes: textual IR, assembly, a relocatable
 * object with the weights inside (linked into a C program that includes
 * the generated header and calls the typed entry point), side-file weights
 * over a tiny embed limit, error reporting, and the target table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cg_util.h"
#include "passes/tile_pass.h"

static void build_scale_kernel(cg_fix_t *f, const char *name, int out);

/* out[i] = x[i] * w[i % 4] + 1, grid of 2 tiles of 8 elements. */
static void build_scale(cg_fix_t *f, const char *name) {
  cg_fix_init(f, name);
  int64_t xd[1] = {16}, wd[1] = {4};
  mlc_value_t *x = cg_io(f, "x", MLC_DT_F32, 1, xd, false);
  x->dims[0].sym = "N";
  cg_io(f, "y", MLC_DT_F32, 1, xd, true);
  static const float w[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  mlc_value_t *wv = mlc_graph_add_const(f->g, "w", MLC_DT_F32, 1, wd, w, sizeof w,
                                        MLC_DATA_COPY);
  wv->storage = (mlc_storage_t){MLC_STORAGE_WEIGHT, 0, 64};
  f->p.weights_bytes = 128;
  build_scale_kernel(f, "scale", 0);
}

/* y_out = x * w[i % 4] + 1 over 2 tiles of 8. */
static void build_scale_kernel(cg_fix_t *f, const char *name, int out) {
  mlc_tkernel_t *k = mlc_tkernel_create(name);
  mlc_tkernel_add_buf(k, "x", MLC_DT_F32, 16, (mlc_storage_t){MLC_STORAGE_INPUT, 0, 0}, false);
  mlc_tkernel_add_buf(k, "w", MLC_DT_F32, 4, (mlc_storage_t){MLC_STORAGE_WEIGHT, 0, 64}, false);
  mlc_tkernel_add_buf(k, "y", MLC_DT_F32, 16, (mlc_storage_t){MLC_STORAGE_OUTPUT, out, 0}, true);
  mlc_tvar_t *g = mlc_tkernel_add_grid(k, 2);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_texpr_t *idx = mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_binary(k, MLC_TB_MUL, mlc_tx_var(k, g),
                                                                mlc_tx_i64(k, 8)),
                                   mlc_tx_var(k, i));
  mlc_texpr_t *wi = mlc_tx_binary(k, MLC_TB_MOD, idx, mlc_tx_i64(k, 4));
  mlc_texpr_t *v = mlc_tx_binary(k, MLC_TB_ADD,
                                 mlc_tx_binary(k, MLC_TB_MUL, mlc_tx_load(k, 0, idx),
                                               mlc_tx_load(k, 1, wi)),
                                 mlc_tx_float(k, MLC_DT_F32, 1.0));
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, 8), MLC_LOOP_VECTORIZE, 8,
                       mlc_ts_store(k, 2, idx, v));
  cg_add_kernel(f, k);
}

static mlc_target_t avx2(void) {
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("x86_64-avx2", NULL, &t));
  return t;
}

static void test_emit_llvm_asm(void **state) {
  (void)state;
  cg_fix_t f;
  build_scale(&f, "scale_model");
  mlc_target_t t = avx2();
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_LLVM, "m.ll");
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  char *ll = cg_read_file(f.path, NULL);
  assert_non_null(strstr(ll, "define internal void @scale("));
  assert_non_null(strstr(ll, "@mlc_model_get()"));
  assert_non_null(strstr(ll, "@scale_model_model_get()"));
  assert_non_null(strstr(ll, "@scale_model_run("));
  assert_non_null(strstr(ll, "<8 x float>")); /* the vectorize hint worked */
  assert_non_null(strstr(ll, "x86-64-v3"));
  free(ll);
  o = cg_opts(&f, MLC_EMIT_ASM, "m.s");
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  char *s = cg_read_file(f.path, NULL);
  assert_non_null(strstr(s, "mlc_model_get:"));
  assert_non_null(strstr(s, "ymm")); /* AVX2 registers */
  free(s);
  cg_fix_deinit(&f);
}

static const char app_src[] =
    "#include <math.h>\n#include <stdio.h>\n#include \"app_model.h\"\n"
    "int main(void) {\n"
    "  static float x[APP_MODEL_INPUT0_NUMEL], y[APP_MODEL_OUTPUT0_NUMEL];\n"
    "  static _Alignas(64) unsigned char ws[APP_MODEL_WORKSPACE_BYTES + 64];\n"
    "  for (int i = 0; i < 16; i++) x[i] = (float)i;\n"
    "  if (app_model_run(ws, NULL, x, y) != 0) return 2;\n"
    "  for (int i = 0; i < 16; i++)\n"
    "    if (fabsf(y[i] - (x[i] * (float)(i % 4 + 1) + 1.0f)) > 1e-6f) return 3;\n"
    "  const mlc_abi_model_t *m = app_model_model_get();\n"
    "  if (m->num_inputs != APP_MODEL_NUM_INPUTS || !m->weights) return 4;\n"
    "  if (APP_MODEL_INPUT0_DTYPE != 1 || APP_MODEL_WEIGHTS_BYTES != 128) return 5;\n"
    "  if (!m->inputs[0].dim_names[0] || m->inputs[0].dim_names[0][0] != 'N') return 6;\n"
    "  return 0;\n}\n";

static void test_emit_obj_and_header(void **state) {
  (void)state;
  cg_fix_t f;
  build_scale(&f, "app-model"); /* not an identifier: sanitized */
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("x86_64", NULL, &t));
  char hdr[600], app[600], src[600], cmd[3000];
  snprintf(hdr, sizeof hdr, "%s/app_model.h", f.dir);
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_OBJ, "app_model.o");
  o.header_path = hdr;
  o.model_name = NULL; /* from the graph name */
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  size_t n;
  char *obj = cg_read_file(f.path, &n);
  assert_true(n > 64 && memcmp(obj, "\177ELF", 4) == 0);
  assert_int_equal(obj[16], 1); /* ET_REL */
  free(obj);
  char *h = cg_read_file(hdr, NULL);
  assert_non_null(strstr(h, "#ifndef APP_MODEL_MLC_H"));
  assert_non_null(strstr(h, "#include <mlc/model_abi.h>"));
  assert_non_null(strstr(h, "#define APP_MODEL_NUM_OUTPUTS 1"));
  assert_non_null(strstr(h, "#define APP_MODEL_INPUT0_DIM0 16"));
  assert_non_null(strstr(h, "const mlc_abi_model_t *app_model_model_get(void);"));
  assert_non_null(strstr(h, "const float *in0"));
  free(h);
  snprintf(src, sizeof src, "%s/app.c", f.dir);
  snprintf(app, sizeof app, "%s/app", f.dir);
  FILE *fp = fopen(src, "w");
  fputs(app_src, fp);
  fclose(fp);
  snprintf(cmd, sizeof cmd, "cc -std=c11 -Wall -Werror -I%s -I%s/include -o %s %s %s -lm",
           f.dir, MLC_SOURCE_DIR, app, src, f.path);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(system(app), 0);
  cg_fix_deinit(&f);
}

static void test_side_file_weights(void **state) {
  (void)state;
  cg_fix_t f;
  build_scale(&f, "side");
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("host", NULL, &t));
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_SO, "side.so");
  o.weights_embed_limit = 16;
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  char wpath[600];
  snprintf(wpath, sizeof wpath, "%s.weights", f.path);
  size_t n;
  char *file = cg_read_file(wpath, &n);
  assert_int_equal(n, 64 + 128); /* header, then the blob */
  mlc_abi_weights_header_t h;
  memcpy(&h, file, sizeof h);
  const char *blob = file + sizeof h;
  assert_memory_equal(h.magic, MLC_ABI_WEIGHTS_MAGIC, 8);
  assert_int_equal(h.version, MLC_ABI_WEIGHTS_VERSION);
  assert_int_equal(h.header_bytes, 64);
  assert_int_equal(h.weights_bytes, 128);
  f.lib = dlopen(f.path, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(f.lib);
  const mlc_abi_model_t *m = ((mlc_abi_model_get_fn)dlsym(f.lib, "side_model_get"))();
  assert_null(m->weights);
  assert_string_equal(m->weights_file, "side.so.weights");
  assert_int_equal(m->weights_hash, mlc_fnv1a64(blob, 128));
  assert_memory_equal(h.build_id, m->build_id, 16);
  static const uint8_t zero[16];
  assert_memory_not_equal(m->build_id, zero, 16);
  /* No temporary file is left beside the outputs. */
  char cmd[700];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q tmp", f.dir);
  assert_int_not_equal(system(cmd), 0);
  float x[16], y[16];
  for (int i = 0; i < 16; i++) x[i] = (float)i - 3.0f;
  void *ins[1] = {x}, *outs[1] = {y};
  cg_pool_t pool = {0};
  mlc_abi_exec_t exec = {.pool = &pool, .parallel_for = cg_reverse_for};
  assert_int_equal(m->run(&exec, blob, NULL, ins, outs), 0);
  assert_int_equal(pool.calls, 1);
  for (int i = 0; i < 16; i++) assert_float_equal(y[i], x[i] * (float)(i % 4 + 1) + 1.0f, 1e-6);
  free(file);
  cg_fix_deinit(&f);
}

static void test_errors(void **state) {
  (void)state;
  cg_fix_t f;
  build_scale(&f, "bad");
  mlc_target_t t = avx2();
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_SO, "bad.so");
  o.cc = "cc -Wl,--no-such-linker-flag";
  mlc_status_t *st = mlc_llvm_emit(&f.p, &t, &o);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "no-such-linker-flag"));
  mlc_status_free(st);
  /* a buffer without planned storage names its kernel */
  f.p.kernels.data[0]->bufs[1].storage.kind = MLC_STORAGE_NONE;
  o = cg_opts(&f, MLC_EMIT_LLVM, "bad.ll");
  st = mlc_llvm_emit(&f.p, &t, &o);
  assert_non_null(st);
  assert_non_null(strstr(mlc_status_message(st), "scale"));
  mlc_status_free(st);
  cg_fix_deinit(&f);
}

/* Two kernels identical but for name and output storage: the backend
 * emits both until the dedupe-kernels pass marks the second as sharing the
 * first's code; then one function serves both calls.  A `shares` that
 * names a different kernel is an error, not wrong code. */
static void test_dedupe(void **state) {
  (void)state;
  cg_fix_t f;
  build_scale(&f, "dup");
  int64_t d[1] = {16};
  cg_io(&f, "y2", MLC_DT_F32, 1, d, true);
  build_scale_kernel(&f, "scale_again", 1);
  mlc_target_t t = avx2();
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_LLVM, "dup.ll");
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  char *ll = cg_read_file(f.path, NULL);
  assert_non_null(strstr(ll, "@scale_again("));
  free(ll);
  mlc_pass_ctx_t ctx = {.target = &t};
  cg_expect_ok(mlc_tpipeline_run(&ctx, (const mlc_tpass_t *const[]){&mlc_tpass_dedupe_kernels},
                                 1, &f.p));
  assert_string_equal(f.p.kernels.data[1]->shares, "scale");
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  ll = cg_read_file(f.path, NULL);
  assert_non_null(strstr(ll, "define internal void @scale("));
  assert_null(strstr(ll, "@scale_again("));
  free(ll);
  mlc_tkernel_t *k = f.p.kernels.data[1];
  k->grid_extents[0] = 1; /* now differs from scale */
  mlc_status_t *st = mlc_llvm_emit(&f.p, &t, &o);
  assert_int_equal(mlc_status_code(st), MLC_INTERNAL);
  assert_non_null(strstr(mlc_status_message(st), "scale_again shares scale"));
  mlc_status_free(st);
  k->grid_extents[0] = 2;
  const mlc_abi_model_t *m = cg_build(&f, "dup.so", 2);
  float x[16], y[16], y2[16];
  for (int i = 0; i < 16; i++) x[i] = (float)i;
  void *ins[1] = {x}, *outs[2] = {y, y2};
  assert_int_equal(m->run(NULL, m->weights, NULL, ins, outs), 0);
  for (int i = 0; i < 16; i++) {
    assert_float_equal(y[i], x[i] * (float)(i % 4 + 1) + 1.0f, 1e-6);
    assert_float_equal(y2[i], y[i], 0);
  }
  cg_fix_deinit(&f);
}

/* A kernel of one tile (called from run directly, never through
 * parallel_for) stays a function of its own at -O2: inlining every such
 * kernel made run hold a whole model's loop nests and LLVM's function
 * passes superlinear (DenseNet-121's run grew to 110k lines of IR). */
static void test_kernels_not_inlined(void **state) {
  (void)state;
  cg_fix_t f;
  cg_fix_init(&f, "one_tile");
  int64_t d[1] = {16};
  mlc_value_t *x = cg_io(&f, "x", MLC_DT_F32, 1, d, false);
  cg_io(&f, "y", MLC_DT_F32, 1, d, true);
  mlc_tkernel_t *k = mlc_tkernel_create("add1");
  mlc_tkernel_add_buf(k, "x", MLC_DT_F32, 16, x->storage, false);
  mlc_tkernel_add_buf(k, "y", MLC_DT_F32, 16, (mlc_storage_t){MLC_STORAGE_OUTPUT, 0, 0}, true);
  mlc_tvar_t *i = mlc_tkernel_new_var(k, MLC_TV_LOOP, MLC_DT_I64, "i");
  mlc_texpr_t *v = mlc_tx_binary(k, MLC_TB_ADD, mlc_tx_load(k, 0, mlc_tx_var(k, i)),
                                 mlc_tx_float(k, MLC_DT_F32, 1.0));
  k->body = mlc_ts_for(k, i, mlc_tx_i64(k, 0), mlc_tx_i64(k, 16), MLC_LOOP_VECTORIZE, 8,
                       mlc_ts_store(k, 1, mlc_tx_var(k, i), v));
  cg_add_kernel(&f, k);
  mlc_target_t t = avx2();
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_LLVM, "one.ll");
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  char *ll = cg_read_file(f.path, NULL);
  if (!strstr(ll, "call void @add1(") && !strstr(ll, "call fastcc void @add1("))
    fail_msg("kernel add1 was inlined into run:\n%s", ll);
  free(ll);
  cg_fix_deinit(&f);
}

/* An unknown CPU must not abort the process inside LLVM (it used to: "64-bit
 * code requested on a subtarget that doesn't support it"), nor go to LLVM
 * to be warned about once per subtarget and compiled as generic code: it is
 * an error naming what --cpu takes, and no file is written. */
static void test_unknown_cpu(void **state) {
  (void)state;
  cg_fix_t f;
  build_scale(&f, "anycpu");
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("x86_64", "nosuchcpu", &t));
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_SO, "anycpu.so");
  mlc_status_t *st = mlc_llvm_emit(&f.p, &t, &o);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_ARGUMENT);
  assert_non_null(strstr(mlc_status_message(st), "unknown CPU 'nosuchcpu' (use host, generic"));
  mlc_status_free(st);
  st = mlc_llvm_resolve_cpu(&t);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_ARGUMENT);
  mlc_status_free(st);
  assert_int_equal(access(f.path, F_OK), -1);
  /* A 32-bit CPU name still gets 64-bit code, not an abort. */
  cg_expect_ok(mlc_target_lookup("x86_64", "i686", &t));
  cg_expect_ok(mlc_llvm_emit(&f.p, &t, &o));
  assert_true(cg_file_size(f.path) > 0);
  cg_fix_deinit(&f);
}

/* The features LLVM enables for a CPU, as the descriptor records them:
 * the x86-64 levels exactly as the psABI defines them, named CPUs as LLVM
 * knows them, and the vector width --cpu implies. */
static void expect_features(const char *cpu, uint64_t want) {
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("host", cpu, &t));
  uint64_t got = 0;
  cg_expect_ok(mlc_llvm_target_features(&t, &got));
  if (got != want) fail_msg("--cpu %s: features %llx, wanted %llx", cpu,
                            (unsigned long long)got, (unsigned long long)want);
}

#define X86(id) (UINT64_C(1) << MLC_ABI_X86_##id)

static void test_cpu_features(void **state) {
  (void)state;
  uint64_t v2 = X86(SSE3) | X86(SSSE3) | X86(SSE4_1) | X86(SSE4_2) | X86(POPCNT);
  uint64_t v3 = v2 | X86(AVX) | X86(AVX2) | X86(FMA) | X86(F16C) | X86(BMI) |
                X86(BMI2) | X86(LZCNT) | X86(MOVBE);
  uint64_t v4 = v3 | X86(AVX512F) | X86(AVX512CD) | X86(AVX512BW) |
                X86(AVX512DQ) | X86(AVX512VL);
  expect_features("generic", 0);
  expect_features("x86-64", 0);
  expect_features("x86-64-v2", v2);
  expect_features("x86-64-v3", v3);
  expect_features("x86-64-v4", v4);
  expect_features("skylake", v3 | X86(AES) | X86(PCLMUL) | X86(PRFCHW));
  expect_features("bdver2", v2 | X86(AVX) | X86(FMA) | X86(F16C) | X86(BMI) |
                                X86(LZCNT) | X86(AES) | X86(PCLMUL) |
                                X86(PRFCHW) | X86(FMA4) | X86(XOP) |
                                X86(SSE4A) | X86(TBM));
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("host", "generic", &t));
  assert_int_equal(t.vector_bits, 128);
  assert_false(t.has_fma);
  cg_expect_ok(mlc_target_lookup("x86_64", "znver3", &t));
  cg_expect_ok(mlc_llvm_resolve_cpu(&t));
  assert_int_equal(t.vector_bits, 256);
  assert_true(t.has_fma);
  cg_expect_ok(mlc_target_lookup("x86_64", "skylake-avx512", &t));
  cg_expect_ok(mlc_llvm_resolve_cpu(&t));
  assert_int_equal(t.vector_bits, 512);
  /* A compiled library records its CPU and features. */
  cg_fix_t f;
  build_scale(&f, "v3model");
  mlc_target_t v3t;
  cg_expect_ok(mlc_target_lookup("x86_64-avx2", NULL, &v3t));
  mlc_codegen_options_t o = cg_opts(&f, MLC_EMIT_SO, "v3model.so");
  cg_expect_ok(mlc_llvm_emit(&f.p, &v3t, &o));
  f.lib = dlopen(f.path, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(f.lib);
  const mlc_abi_model_t *m = ((mlc_abi_model_get_fn)dlsym(f.lib, "mlc_model_get"))();
  assert_int_equal(m->abi_version, 3);
  assert_string_equal(m->cpu, "x86-64-v3");
  assert_int_equal(m->cpu_features, v3);
  cg_fix_deinit(&f);
}

static void test_targets(void **state) {
  (void)state;
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("x86_64-avx512", NULL, &t));
  assert_int_equal(t.vector_bits, 512);
  assert_string_equal(t.cpu, "x86-64-v4");
  assert_int_equal(t.kind, MLC_TARGET_CPU);
  cg_expect_ok(mlc_target_lookup("x86_64", "skylake", &t));
  assert_string_equal(t.cpu, "skylake");
  assert_int_equal(t.vector_bits, 128);
  cg_expect_ok(mlc_target_lookup("host", NULL, &t));
  assert_string_equal(t.cpu, "host");
  assert_true(t.vector_bits == 128 || t.vector_bits == 256 || t.vector_bits == 512);
  assert_true(t.num_cores >= 1);
  mlc_status_t *st = mlc_target_lookup("riscv", NULL, &t);
  assert_int_equal(mlc_status_code(st), MLC_INVALID_ARGUMENT);
  assert_non_null(strstr(mlc_status_message(st), "x86_64-avx2"));
  mlc_status_free(st);
  char cpu[64], feat[4096];
  cg_expect_ok(mlc_llvm_host_cpu(cpu, sizeof cpu, feat, sizeof feat));
  assert_true(cpu[0] != 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_emit_llvm_asm),   cmocka_unit_test(test_emit_obj_and_header),
      cmocka_unit_test(test_side_file_weights), cmocka_unit_test(test_errors),
      cmocka_unit_test(test_dedupe),          cmocka_unit_test(test_targets),
      cmocka_unit_test(test_kernels_not_inlined), cmocka_unit_test(test_unknown_cpu),
      cmocka_unit_test(test_cpu_features),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
