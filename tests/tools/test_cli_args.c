/* Tests of the `mlc` option parsers (tools/cli_args.c) and the output
 * name sanitizer: accepted forms fill the options, every bad usage gives
 * exit code 2 with a usage line on the error stream, --help and --version
 * give exit code 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "passes/tile_pass.h"
#include "tools/cli.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))

typedef struct streams {
  FILE *out, *err;
  char *obuf, *ebuf;
  size_t olen, elen;
} streams_t;

static void open_streams(streams_t *s) {
  memset(s, 0, sizeof *s);
  s->out = open_memstream(&s->obuf, &s->olen);
  s->err = open_memstream(&s->ebuf, &s->elen);
}

static void close_streams(streams_t *s) {
  fclose(s->out);
  fclose(s->err);
}

static void free_streams(streams_t *s) {
  free(s->obuf);
  free(s->ebuf);
}

#define COMPILE(...)                                                      \
  mlc_cli_parse_compile(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), s.out, s.err, &o)

static void test_compile_ok(void **state) {
  (void)state;
  streams_t s;
  open_streams(&s);
  mlc_cli_compile_t o;
  int r = COMPILE("compile", "m.onnx", "-o", "out.so", "-O3", "--dim",
                  "N=8", "--dim=seq=128", "--target", "x86_64-avx2",
                  "--cpu=znver4", "--name", "net_1", "--print-after", "all",
                  "--verify-each", "--time-passes", "--weights-limit", "64M",
                  "--no-header");
  close_streams(&s);
  assert_int_equal(r, MLC_CLI_CONTINUE);
  const mlc_compile_options_t *c = &o.opts;
  assert_string_equal(c->model_path, "m.onnx");
  assert_string_equal(c->output_path, "out.so");
  assert_int_equal(c->opt_level, 3);
  assert_int_equal(c->emit, MLC_EMIT_KIND_SO);
  assert_int_equal(c->ndims, 2);
  assert_string_equal(c->dims[0].name, "N");
  assert_int_equal(c->dims[0].value, 8);
  assert_string_equal(c->dims[1].name, "seq");
  assert_int_equal(c->dims[1].value, 128);
  assert_string_equal(c->target, "x86_64-avx2");
  assert_string_equal(c->cpu, "znver4");
  assert_string_equal(c->model_name, "net_1");
  assert_string_equal(c->print_after, "all");
  assert_true(c->verify_each && c->time_passes);
  assert_false(c->write_header);
  assert_int_equal(c->weights_embed_limit, 64 << 20);
  assert_int_equal(s.elen, 0);
  mlc_cli_compile_free(&o);
  free_streams(&s);
}

static void test_compile_defaults_and_emit(void **state) {
  (void)state;
  streams_t s;
  open_streams(&s);
  mlc_cli_compile_t o;
  assert_int_equal(COMPILE("compile", "-ox.o", "m.onnx"), MLC_CLI_CONTINUE);
  assert_int_equal(o.opts.emit, MLC_EMIT_KIND_OBJ);
  assert_int_equal(o.opts.opt_level, 2);
  assert_true(o.opts.write_header);
  assert_true(o.opts.weights_embed_limit < 0); /* the backend's default */
  mlc_cli_compile_free(&o);
  /* 0 is a limit like any other: every weight goes to the side file. */
  assert_int_equal(COMPILE("compile", "m.onnx", "-o", "x.so", "--weights-limit", "0"),
                   MLC_CLI_CONTINUE);
  assert_int_equal(o.opts.weights_embed_limit, 0);
  mlc_cli_compile_free(&o);
  assert_int_equal(COMPILE("compile", "m.onnx", "-o", "x.ll"), MLC_CLI_CONTINUE);
  assert_int_equal(o.opts.emit, MLC_EMIT_KIND_LLVM);
  mlc_cli_compile_free(&o);
  assert_int_equal(COMPILE("compile", "m.onnx", "-o", "-", "--emit", "graph"),
                   MLC_CLI_CONTINUE);
  assert_int_equal(o.opts.emit, MLC_EMIT_KIND_GRAPH);
  mlc_cli_compile_free(&o);
  /* After "--" everything is positional, "-" included. */
  assert_int_equal(COMPILE("compile", "-o", "a.so", "--", "-weird.onnx"),
                   MLC_CLI_CONTINUE);
  assert_string_equal(o.opts.model_path, "-weird.onnx");
  mlc_cli_compile_free(&o);
  assert_int_equal(COMPILE("compile", "-o", "a.so", "--", "a.onnx", "-o"),
                   MLC_CLI_EXIT_USAGE);
  mlc_cli_compile_free(&o);
  close_streams(&s);
  free_streams(&s);
}

/* Each bad command line must give 2 and print a usage line. */
static void expect_usage(int argc, char **argv,
                         int (*parse)(int, char **, FILE *, FILE *, void *),
                         const char *needle) {
  streams_t s;
  open_streams(&s);
  union { mlc_cli_compile_t c; mlc_cli_run_t r; mlc_cli_inspect_t i; } o;
  int r = parse(argc, argv, s.out, s.err, &o);
  close_streams(&s);
  if (r != MLC_CLI_EXIT_USAGE) fail_msg("'%s ... %s' gave %d", argv[0], argv[argc - 1], r);
  if (!strstr(s.ebuf, "usage: mlc ")) fail_msg("no usage line: %s", s.ebuf);
  if (!strstr(s.ebuf, needle)) fail_msg("'%s' lacks '%s'", s.ebuf, needle);
  assert_int_equal(s.olen, 0);
  if (parse == (void *)mlc_cli_parse_compile) mlc_cli_compile_free(&o.c);
  else if (parse == (void *)mlc_cli_parse_inspect) mlc_cli_inspect_free(&o.i);
  else mlc_cli_run_free(&o.r);
  free_streams(&s);
}

#define USAGE(fn, needle, ...) \
  expect_usage(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (void *)fn, needle)

static void test_usage_errors(void **state) {
  (void)state;
  void *pc = (void *)mlc_cli_parse_compile, *pr = (void *)mlc_cli_parse_run,
       *pb = (void *)mlc_cli_parse_bench, *pi = (void *)mlc_cli_parse_inspect;
  USAGE(pc, "unknown option '--bogus'", "compile", "m.onnx", "-o", "a.so", "--bogus");
  USAGE(pc, "needs a value", "compile", "m.onnx", "-o");
  USAGE(pc, "no output", "compile", "m.onnx");
  USAGE(pc, "no model", "compile", "-o", "a.so");
  USAGE(pc, "more than one model", "compile", "a.onnx", "b.onnx", "-o", "a.so");
  USAGE(pc, "-O (optimization level): 4 is out of range 0..3", "compile",
        "m.onnx", "-o", "a.so", "-O4");
  USAGE(pc, "-O (optimization level) wants an integer in 0..3, got 'fast'",
        "compile", "m.onnx", "-o", "a.so", "-Ofast");
  USAGE(pc, "--emit", "compile", "m.onnx", "-o", "a.so", "--emit", "exe");
  USAGE(pc, "--dim", "compile", "m.onnx", "-o", "a.so", "--dim", "N");
  USAGE(pc, "--dim", "compile", "m.onnx", "-o", "a.so", "--dim", "N=0");
  USAGE(pc, "--dim", "compile", "m.onnx", "-o", "a.so", "--dim", "=4");
  USAGE(pc, "--dim", "compile", "m.onnx", "-o", "a.so", "--dim", "N=4x");
  USAGE(pc, "--input-shape", "compile", "m.onnx", "-o", "a.so", "--input-shape", "x");
  USAGE(pc, "--input-shape", "compile", "m.onnx", "-o", "a.so", "--input-shape", "x=");
  USAGE(pc, "--input-shape", "compile", "m.onnx", "-o", "a.so", "--input-shape", "=2x3");
  USAGE(pc, "--input-shape", "compile", "m.onnx", "-o", "a.so", "--input-shape", "x=2x0");
  USAGE(pc, "--input-shape", "compile", "m.onnx", "-o", "a.so", "--input-shape", "x=2xx3");
  USAGE(pc, "--input-shape", "compile", "m.onnx", "-o", "a.so", "--input-shape", "x=2x3x");
  USAGE(pc, "--input-shape", "compile", "m.onnx", "-o", "a.so", "--input-shape", "x=2,3");
  USAGE(pc, "C identifier", "compile", "m.onnx", "-o", "a.so", "--name", "1net");
  USAGE(pc, "byte count", "compile", "m.onnx", "-o", "a.so", "--weights-limit", "-1");
  USAGE(pc, "takes no value", "compile", "m.onnx", "-o", "a.so", "--verify-each=1");
  USAGE(pc, "-o -", "compile", "m.onnx", "-o", "-");
  USAGE(pr, "no model", "run", "--output-dir", "d");
  USAGE(pr, "--output-format wants npy or pb, got 'csv'", "run", "m.so", "-d",
        "d", "--output-format", "csv");
  USAGE(pr, "--threads: -2 is out of range 0..1024", "run", "m.so", "-d", "d",
        "--threads", "-2");
  USAGE(pr, "--threads: 1025 is out of range 0..1024", "run", "m.so",
        "--threads=1025");
  USAGE(pr, "--threads wants an integer in 0..1024, got '2x'", "run", "m.so",
        "--threads", "2x");
  USAGE(pr, "unexpected argument", "run", "m.so", "x.npy", "-d", "d");
  USAGE(pr, "unknown option", "run", "m.so", "-d", "d", "--json");
  USAGE(pb, "mlc bench: --iters: 0 is out of range 1..1000000000", "bench",
        "m.so", "--iters", "0");
  USAGE(pb, "--iters: 99999999999 is out of range", "bench", "m.so",
        "--iters", "99999999999");
  USAGE(pb, "--warmup wants an integer in 0..1000000000, got 'many'", "bench",
        "m.so", "--warmup", "many");
  USAGE(pb, "no model", "bench", "--json");
  USAGE(pb, "--profile-runs: 0 is out of range", "bench", "m.so",
        "--profile-runs", "0");
  USAGE(pb, "--threads: 5000 is out of range 0..1024", "bench", "m.so",
        "--threads", "5000");
  USAGE(pb, "needs a value", "bench", "m.so", "--profile");
  USAGE(pi, "no file", "inspect", "--dot");
  USAGE(pi, "more than one", "inspect", "a.onnx", "b.onnx");
  USAGE(pi, "--dim", "inspect", "a.onnx", "--dim", "batch");
  USAGE(pi, "--input-shape", "inspect", "a.onnx", "--input-shape", "x=1xN");
}

static void test_help_and_version(void **state) {
  (void)state;
  const char *cmds[] = {"compile", "run", "bench", "inspect"};
  int (*parsers[])(int, char **, FILE *, FILE *, void *) = {
      (void *)mlc_cli_parse_compile, (void *)mlc_cli_parse_run,
      (void *)mlc_cli_parse_bench, (void *)mlc_cli_parse_inspect};
  for (int i = 0; i < 4; i++) {
    const char *flags[] = {"--help", "-h", "--version"};
    for (int f = 0; f < 3; f++) {
      streams_t s;
      open_streams(&s);
      union { mlc_cli_compile_t c; mlc_cli_run_t r; mlc_cli_inspect_t i; } o;
      char *argv[] = {(char *)cmds[i], (char *)flags[f], NULL};
      assert_int_equal(parsers[i](2, argv, s.out, s.err, &o), MLC_CLI_EXIT_OK);
      close_streams(&s);
      assert_int_equal(s.elen, 0);
      assert_non_null(strstr(s.obuf, f == 2 ? "mlc " MLC_VERSION_STRING
                                            : "usage: mlc "));
      free_streams(&s);
      if (i == 0) mlc_cli_compile_free(&o.c);
      else if (i == 3) mlc_cli_inspect_free(&o.i);
      else mlc_cli_run_free(&o.r);
    }
  }
}

/* `compile --help` names every pass --print-after accepts: the graph
 * passes of the -O2 pipeline and every tile pass. */
static void test_help_lists_passes(void **state) {
  (void)state;
  streams_t s;
  open_streams(&s);
  mlc_cli_compile_t o;
  char *argv[] = {"compile", "--help", NULL};
  assert_int_equal(mlc_cli_parse_compile(2, argv, s.out, s.err, &o), MLC_CLI_EXIT_OK);
  close_streams(&s);
  mlc_pass_ctx_t ctx = {.opt_level = 2};
  const mlc_pass_t *const *gp;
  size_t n;
  assert_null(mlc_pipeline_default(&ctx, &gp, &n));
  for (size_t i = 0; i < n; i++)
    if (!strstr(s.obuf, gp[i]->name)) fail_msg("--help lacks pass %s", gp[i]->name);
  const mlc_tpass_t *const *tp = mlc_tpass_all(&n);
  assert_true(n >= 1);
  for (size_t i = 0; i < n; i++)
    if (!strstr(s.obuf, tp[i]->name)) fail_msg("--help lacks tile pass %s", tp[i]->name);
  free_streams(&s);
  mlc_cli_compile_free(&o);
}

static void test_run_and_bench_ok(void **state) {
  (void)state;
  streams_t s;
  open_streams(&s);
  mlc_cli_run_t o;
  char *argv[] = {"run", "m.so", "--input", "x=a.npy", "-i", "b.pb",
                  "--output-dir=out", "--output-format", "pb", "--threads", "4",
                  NULL};
  assert_int_equal(mlc_cli_parse_run(11, argv, s.out, s.err, &o), MLC_CLI_CONTINUE);
  assert_string_equal(o.model, "m.so");
  assert_int_equal(o.ninputs, 2);
  assert_string_equal(o.inputs[0], "x=a.npy");
  assert_string_equal(o.inputs[1], "b.pb");
  assert_string_equal(o.output_dir, "out");
  assert_int_equal(o.format, MLC_OUT_PB);
  assert_int_equal(o.threads, 4);
  mlc_cli_run_free(&o);
  char *bargv[] = {"bench", "m.so", "--warmup", "0", "--iters", "7", "--json",
                   "--profile", "t.json", "--profile-runs=3", NULL};
  assert_int_equal(mlc_cli_parse_bench(10, bargv, s.out, s.err, &o), MLC_CLI_CONTINUE);
  assert_int_equal(o.warmup, 0);
  assert_int_equal(o.iters, 7);
  assert_true(o.json);
  assert_string_equal(o.profile, "t.json");
  assert_int_equal(o.profile_runs, 3);
  assert_int_equal(o.ninputs, 0);
  mlc_cli_run_free(&o);
  close_streams(&s);
  free_streams(&s);
}

static void test_value_parsers(void **state) {
  (void)state;
  int64_t v;
  assert_true(mlc_cli_parse_bytes("0", &v) && v == 0);
  assert_true(mlc_cli_parse_bytes("4k", &v) && v == 4096);
  assert_true(mlc_cli_parse_bytes("2G", &v) && v == (int64_t)2 << 30);
  assert_true(mlc_cli_parse_bytes("3MB", &v) && v == 3 << 20);
  assert_false(mlc_cli_parse_bytes("", &v));
  assert_false(mlc_cli_parse_bytes("1T", &v));
  assert_false(mlc_cli_parse_bytes("99999999999999G", &v));
  mlc_dim_binding_t b;
  assert_true(mlc_cli_parse_dim("a=b=3", &b) && b.value == 3);
  assert_false(mlc_cli_parse_dim("N=", &b));
  assert_false(mlc_cli_parse_dim("N=-1", &b));
  mlc_cli_shape_t sh;
  assert_true(mlc_cli_parse_shape("in=put=1x3x224x224", &sh));
  assert_int_equal(sh.rank, 4);
  assert_int_equal(sh.dims[0], 1);
  assert_int_equal(sh.dims[1], 3);
  assert_int_equal(sh.dims[3], 224);
  assert_true(mlc_cli_parse_shape("x=7", &sh) && sh.rank == 1 && sh.dims[0] == 7);
  assert_false(mlc_cli_parse_shape("x=-1x2", &sh));
  assert_false(mlc_cli_parse_shape("x=1x99999999999999999999", &sh));
  char many[200] = "x=1";
  for (int i = 1; i <= MLC_CLI_MAX_RANK; i++) strcat(many, "x1");
  assert_false(mlc_cli_parse_shape(many, &sh)); /* rank 33 */
  many[strlen(many) - 2] = '\0';
  assert_true(mlc_cli_parse_shape(many, &sh) && sh.rank == MLC_CLI_MAX_RANK);
}

/* run without --output-dir is valid (it prints a summary); --input-shape
 * collects name and sizes for compile and inspect. */
static void test_optional_outdir_and_shapes(void **state) {
  (void)state;
  streams_t s;
  open_streams(&s);
  mlc_cli_run_t r;
  char *argv[] = {"run", "m.so", "-i", "x.npy", NULL};
  assert_int_equal(mlc_cli_parse_run(4, argv, s.out, s.err, &r), MLC_CLI_CONTINUE);
  assert_null(r.output_dir);
  mlc_cli_run_free(&r);
  mlc_cli_compile_t o;
  assert_int_equal(COMPILE("compile", "m.onnx", "-o", "a.so", "--input-shape",
                           "x=1x3", "--input-shape=y:0=5"),
                   MLC_CLI_CONTINUE);
  assert_int_equal(o.opts.nshapes, 2);
  assert_string_equal(o.opts.shapes[0].name, "x");
  assert_int_equal(o.opts.shapes[0].rank, 2);
  assert_int_equal(o.opts.shapes[0].dims[1], 3);
  assert_string_equal(o.opts.shapes[1].name, "y:0");
  assert_int_equal(o.opts.shapes[1].dims[0], 5);
  mlc_cli_compile_free(&o);
  assert_null(o.opts.shapes);
  mlc_cli_inspect_t i;
  char *iargv[] = {"inspect", "m.onnx", "--input-shape", "x=2x2", NULL};
  assert_int_equal(mlc_cli_parse_inspect(4, iargv, s.out, s.err, &i),
                   MLC_CLI_CONTINUE);
  assert_int_equal(i.nshapes, 1);
  assert_int_equal(i.shapes[0].rank, 2);
  mlc_cli_inspect_free(&i);
  close_streams(&s);
  assert_int_equal(s.elen, 0);
  free_streams(&s);
}

static void test_sanitize(void **state) {
  (void)state;
  char buf[32];
  assert_true(mlc_cli_sanitize_name("logits", 0, buf, sizeof buf));
  assert_string_equal(buf, "logits");
  assert_true(mlc_cli_sanitize_name("a/b:0 c", 0, buf, sizeof buf));
  assert_string_equal(buf, "a_b_0_c");
  assert_true(mlc_cli_sanitize_name("x.y-z_9", 0, buf, sizeof buf));
  assert_string_equal(buf, "x.y-z_9");
  assert_true(mlc_cli_sanitize_name("../etc/passwd", 0, buf, sizeof buf));
  assert_string_equal(buf, ".._etc_passwd");
  assert_true(mlc_cli_sanitize_name("\xc3\xa9t\xc3\xa9", 0, buf, sizeof buf));
  assert_string_equal(buf, "__t__");
  assert_true(mlc_cli_sanitize_name("", 3, buf, sizeof buf));
  assert_string_equal(buf, "output_3");
  assert_false(mlc_cli_sanitize_name("0123456789", 0, buf, 8));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compile_ok),
      cmocka_unit_test(test_compile_defaults_and_emit),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_help_and_version),
      cmocka_unit_test(test_help_lists_passes),
      cmocka_unit_test(test_run_and_bench_ok),
      cmocka_unit_test(test_value_parsers),
      cmocka_unit_test(test_optional_outdir_and_shapes),
      cmocka_unit_test(test_sanitize),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
