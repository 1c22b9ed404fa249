/* Option parsing for the `mlc` subcommands (see cli.h).
 *
 * A small table-driven scanner, reentrant (no getopt globals): long
 * options as "--name VALUE" or "--name=VALUE", short ones as "-o VALUE" or
 * "-oVALUE", "-O0".."-O3" as a special case, "--" ending the options and a
 * lone "-" counting as a positional argument.  Every parser accepts
 * --help and --version.  Help texts live here, next to the options they
 * describe. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

typedef struct opt_spec {
  const char *name; /* long name without "--" */
  char short_name;  /* 0: none */
  bool has_arg;
  int id;
} opt_spec_t;

enum { OPT_HELP = 1000, OPT_VERSION };

typedef struct scanner {
  int argc, i;
  char **argv;
  const opt_spec_t *specs;
  bool no_more_options;
  FILE *err;
  const char *cmd;
} scanner_t;

/* One step: sets *id (0 for a positional) and *arg.  Returns 1 for an item,
 * 0 at the end and -1 after printing an error. */
static int scan_next(scanner_t *s, int *id, const char **arg) {
  while (s->i < s->argc) {
    const char *a = s->argv[s->i++];
    if (s->no_more_options || a[0] != '-' || a[1] == '\0') {
      *id = 0;
      *arg = a;
      return 1;
    }
    if (strcmp(a, "--") == 0) {
      s->no_more_options = true;
      continue;
    }
    bool is_long = a[1] == '-';
    const char *name = a + (is_long ? 2 : 1), *eq = NULL, *attached = NULL;
    size_t nlen = is_long ? strcspn(name, "=") : 1;
    if (is_long && name[nlen] == '=') eq = name + nlen + 1;
    if (!is_long && name[1]) attached = name + 1;
    const opt_spec_t *sp = s->specs;
    for (; sp->name; sp++) {
      if (is_long ? strlen(sp->name) == nlen && !strncmp(sp->name, name, nlen)
                  : sp->short_name && sp->short_name == name[0])
        break;
    }
    if (!sp->name) {
      fprintf(s->err, "mlc %s: unknown option '%s'\n", s->cmd, a);
      return -1;
    }
    *id = sp->id;
    *arg = NULL;
    if (!sp->has_arg) {
      if (eq || attached) {
        fprintf(s->err, "mlc %s: option '%s' takes no value\n", s->cmd, a);
        return -1;
      }
      return 1;
    }
    if (eq || attached) {
      *arg = eq ? eq : attached;
    } else if (s->i < s->argc) {
      *arg = s->argv[s->i++];
    } else {
      fprintf(s->err, "mlc %s: option '%s' needs a value\n", s->cmd, a);
      return -1;
    }
    return 1;
  }
  return 0;
}

/* ---- help texts -------------------------------------------------------- */

static const char compile_usage[] =
    "usage: mlc compile MODEL.onnx -o OUT [options]\n";
static const char compile_help[] =
    "Compiles an ONNX model into a shared library (and a C header).\n\n"
    "options:\n"
    "  -o, --output OUT       output file ('-' = stdout for graph, tile,\n"
    "                         llvm and asm)\n"
    "  -O0 .. -O3             optimization level (default -O2)\n"
    "  --emit KIND            so | obj | llvm | asm | graph | tile (default:\n"
    "                         from OUT's extension .o .ll .s, else so)\n"
    "  --target NAME          target description (default host)\n"
    "  --cpu NAME             CPU to compile for: host (default: this\n"
    "                         machine), generic, x86-64-v2, x86-64-v3,\n"
    "                         x86-64-v4, or an LLVM CPU name (skylake...);\n"
    "                         the library will not load on an older CPU\n"
    "  --dim NAME=N           size of symbolic input dim NAME (repeatable;\n"
    "                         unbound dims get 1)\n"
    "  --input-shape NAME=AxBxC\n"
    "                         whole shape of input NAME, for dims without\n"
    "                         names or a missing shape (repeatable)\n"
    "  --const NAME=FILE      freeze input NAME to the tensor in FILE (.npy\n"
    "                         or .pb); it stops being a model input. For\n"
    "                         inputs that decide shapes (repeatable)\n"
    "  --name ID              model name, a C identifier (default: from OUT)\n"
    "  --print-after PASS     print the IR after PASS (or 'all') to stderr:\n"
    "                         graph passes infer-shapes, fold-constants,\n"
    "                         gemm-layout, dce, fuse, materialize-outputs,\n"
    "                         plan-memory; tile\n"
    "                         passes (after lowering) register-block,\n"
    "                         dedupe-kernels, plan-threads\n"
    "  --verify-each          run the IR verifier after every pass\n"
    "  --time-passes          print each pass's time to stderr\n"
    "  --weights-limit BYTES  embed weights up to this size, else write\n"
    "                         OUT.weights (suffixes k, M, G; default 256M;\n"
    "                         0: always OUT.weights)\n"
    "  --no-header            do not write the C header beside OUT\n"
    "  -h, --help, --version\n";

static const char run_usage[] =
    "usage: mlc run MODEL.so --input [NAME=]FILE ... [--output-dir DIR] "
    "[options]\n";
static const char run_help[] =
    "Runs a compiled model on inputs from .npy or .pb files.\n\n"
    "options:\n"
    "  -i, --input [NAME=]FILE   input from FILE (.npy or .pb TensorProto);\n"
    "                            without NAME=, inputs are taken in order\n"
    "  -d, --output-dir DIR      where to write each output as <name>.npy\n"
    "                            (created if missing); without it, a summary\n"
    "                            of each output is printed instead\n"
    "  --output-format npy|pb    output file format (default npy)\n"
    "  --threads N               worker threads, 0..1024 (default 0: one\n"
    "                            per CPU)\n"
    "  -h, --help, --version\n";

static const char bench_usage[] = "usage: mlc bench MODEL.so [options]\n";
static const char bench_help[] =
    "Measures the latency of a compiled model: min, median, p90, mean,\n"
    "max and standard deviation, and runs per second.  Progress goes to\n"
    "stderr when it is a terminal and the runs take over 2 seconds.\n\n"
    "options:\n"
    "  --warmup N                untimed runs first (default 5)\n"
    "  --iters N                 timed runs (default 50)\n"
    "  --threads N               worker threads, 0..1024 (default 0: one\n"
    "                            per CPU)\n"
    "  -i, --input [NAME=]FILE   use this input instead of random data\n"
    "  --json                    print one JSON object\n"
    "  --profile FILE            time every kernel call of the timed runs;\n"
    "                            write a Chrome trace (Perfetto) to FILE and\n"
    "                            print a per-call summary\n"
    "  --profile-runs N          profile only the last N timed runs\n"
    "  -h, --help, --version\n";

static const char inspect_usage[] =
    "usage: mlc inspect MODEL.onnx|MODEL.so [--dot] [--dim NAME=N]...\n";
static const char inspect_help[] =
    "Describes an ONNX model (inputs, outputs, ops, parameters, FLOPs) or\n"
    "a compiled model library (its descriptor).\n\n"
    "options (ONNX models only):\n"
    "  --dot          print the ONNX graph as Graphviz instead\n"
    "  --dim NAME=N   bind a symbolic dim before shape inference\n"
    "  --input-shape NAME=AxBxC\n"
    "                 whole shape of input NAME (as for compile)\n"
    "  -h, --help, --version\n";

static int usage_error(FILE *err, const char *cmd, const char *usage) {
  fputs(usage, err);
  fprintf(err, "Try 'mlc %s --help'.\n", cmd);
  return MLC_CLI_EXIT_USAGE;
}

static int print_help(FILE *out, const char *usage, const char *help) {
  fputs(usage, out);
  fputs(help, out);
  return MLC_CLI_EXIT_OK;
}

static int print_version(FILE *out) {
  fprintf(out, "mlc %s\n", MLC_VERSION_STRING);
  return MLC_CLI_EXIT_OK;
}

/* ---- value parsers ----------------------------------------------------- */

static bool parse_i64(const char *s, int64_t *out) {
  if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s) return false;
  *out = v;
  return *end == '\0';
}

/* An integer option in lo..hi; false after a message that names the
 * option ("--threads: 5000 is out of range 0..1024"). */
static bool int_option(FILE *err, const char *cmd, const char *opt,
                       const char *s, int lo, int hi, int *out) {
  int64_t v;
  bool neg = s && s[0] == '-';
  if (!parse_i64(neg ? s + 1 : s, &v)) {
    fprintf(err, "mlc %s: %s wants an integer in %d..%d, got '%s'\n", cmd,
            opt, lo, hi, s ? s : "");
    return false;
  }
  if (neg) v = -v;
  if (v < lo || v > hi) {
    fprintf(err, "mlc %s: %s: %s is out of range %d..%d\n", cmd, opt, s, lo,
            hi);
    return false;
  }
  *out = (int)v;
  return true;
}

bool mlc_cli_parse_dim(const char *s, mlc_dim_binding_t *b) {
  const char *eq = strrchr(s, '=');
  int64_t v;
  if (!eq || eq == s || !parse_i64(eq + 1, &v) || v < 1) return false;
  b->name = s; /* caller copies the name part (see copy_dim) */
  b->value = v;
  return true;
}

bool mlc_cli_parse_shape(const char *s, mlc_cli_shape_t *b) {
  const char *eq = strrchr(s, '=');
  if (!eq || eq == s || !eq[1]) return false;
  b->name = s; /* caller copies the name part */
  b->rank = 0;
  for (const char *p = eq + 1;; p++) {
    char digits[24];
    size_t n = strcspn(p, "x");
    int64_t v;
    if (n == 0 || n >= sizeof digits || b->rank >= MLC_CLI_MAX_RANK)
      return false;
    memcpy(digits, p, n);
    digits[n] = '\0';
    if (!parse_i64(digits, &v) || v < 1) return false;
    b->dims[b->rank++] = v;
    p += n;
    if (!*p) return true;
  }
}

bool mlc_cli_parse_bytes(const char *s, int64_t *out) {
  if (!s || *s < '0' || *s > '9') return false;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno) return false;
  int shift = 0;
  switch (*end) {
  case '\0': break;
  case 'k': case 'K': shift = 10; end++; break;
  case 'm': case 'M': shift = 20; end++; break;
  case 'g': case 'G': shift = 30; end++; break;
  default: return false;
  }
  if (*end == 'B' || *end == 'b') end++;
  if (*end || v > (INT64_MAX >> shift)) return false;
  *out = (int64_t)v << shift;
  return true;
}

/* Appends a --dim binding; its name is a heap copy of the part before the
 * last '='.  Returns false (after a message) when malformed. */
static bool add_dim(mlc_dim_binding_t **dims, int *n, const char *arg,
                    FILE *err, const char *cmd) {
  mlc_dim_binding_t b;
  if (!mlc_cli_parse_dim(arg, &b)) {
    fprintf(err, "mlc %s: --dim wants NAME=N with N >= 1, got '%s'\n", cmd,
            arg);
    return false;
  }
  mlc_dim_binding_t *nd = realloc(*dims, (size_t)(*n + 1) * sizeof *nd);
  char *name = strndup(arg, (size_t)(strrchr(arg, '=') - arg));
  if (!nd || !name) {
    free(name);
    if (nd) *dims = nd;
    fprintf(err, "mlc %s: out of memory\n", cmd);
    return false;
  }
  nd[*n] = (mlc_dim_binding_t){name, b.value};
  *dims = nd;
  (*n)++;
  return true;
}

static void free_dims(mlc_dim_binding_t *dims, int n) {
  for (int i = 0; i < n; i++) free((char *)dims[i].name);
  free(dims);
}

/* Appends an --input-shape binding: a heap copy of the name and dims. */
static bool add_shape(mlc_shape_binding_t **shapes, int *n, const char *arg,
                      FILE *err, const char *cmd) {
  mlc_cli_shape_t b;
  if (!mlc_cli_parse_shape(arg, &b)) {
    fprintf(err, "mlc %s: --input-shape wants NAME=AxBx... (each size >= 1, "
            "at most %d), got '%s'\n", cmd, MLC_CLI_MAX_RANK, arg);
    return false;
  }
  mlc_shape_binding_t *ns = realloc(*shapes, (size_t)(*n + 1) * sizeof *ns);
  char *name = strndup(arg, (size_t)(strrchr(arg, '=') - arg));
  int64_t *dims = malloc((size_t)b.rank * sizeof *dims);
  if (!ns || !name || !dims) {
    free(name);
    free(dims);
    if (ns) *shapes = ns;
    fprintf(err, "mlc %s: out of memory\n", cmd);
    return false;
  }
  memcpy(dims, b.dims, (size_t)b.rank * sizeof *dims);
  ns[*n] = (mlc_shape_binding_t){.name = name, .rank = b.rank, .dims = dims};
  *shapes = ns;
  (*n)++;
  return true;
}

static void free_shapes(mlc_shape_binding_t *shapes, int n) {
  for (int i = 0; i < n; i++) {
    free((char *)shapes[i].name);
    free((int64_t *)shapes[i].dims);
  }
  free(shapes);
}

static bool add_input(mlc_cli_run_t *o, const char *arg, FILE *err) {
  const char **ni = realloc(o->inputs, (size_t)(o->ninputs + 1) * sizeof *ni);
  if (!ni) {
    fprintf(err, "mlc: out of memory\n");
    return false;
  }
  ni[o->ninputs++] = arg;
  o->inputs = ni;
  return true;
}

/* ---- compile ----------------------------------------------------------- */

enum {
  C_OUTPUT = 1, C_OPT, C_EMIT, C_TARGET, C_CPU, C_DIM, C_NAME, C_PRINT_AFTER,
  C_VERIFY, C_TIME, C_WEIGHTS, C_NO_HEADER, C_CONST, C_SHAPE,
};

static const opt_spec_t compile_specs[] = {
    {"output", 'o', true, C_OUTPUT},    {"opt-level", 'O', true, C_OPT},
    {"emit", 0, true, C_EMIT},          {"target", 0, true, C_TARGET},
    {"cpu", 0, true, C_CPU},            {"dim", 0, true, C_DIM},
    {"name", 0, true, C_NAME},          {"print-after", 0, true, C_PRINT_AFTER},
    {"verify-each", 0, false, C_VERIFY}, {"time-passes", 0, false, C_TIME},
    {"weights-limit", 0, true, C_WEIGHTS}, {"no-header", 0, false, C_NO_HEADER},
    {"const", 0, true, C_CONST},        {"input-shape", 0, true, C_SHAPE},
    {"help", 'h', false, OPT_HELP},     {"version", 0, false, OPT_VERSION},
    {NULL, 0, false, 0},
};

static const struct {
  const char *name;
  mlc_emit_t kind;
} emit_names[] = {
    {"so", MLC_EMIT_KIND_SO},     {"obj", MLC_EMIT_KIND_OBJ},
    {"llvm", MLC_EMIT_KIND_LLVM}, {"asm", MLC_EMIT_KIND_ASM},
    {"graph", MLC_EMIT_KIND_GRAPH}, {"tile", MLC_EMIT_KIND_TILE},
};

static bool parse_emit(const char *s, mlc_emit_t *out) {
  for (size_t i = 0; i < sizeof emit_names / sizeof *emit_names; i++)
    if (strcmp(s, emit_names[i].name) == 0) {
      *out = emit_names[i].kind;
      return true;
    }
  return false;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static mlc_emit_t emit_from_extension(const char *path) {
  if (ends_with(path, ".o")) return MLC_EMIT_KIND_OBJ;
  if (ends_with(path, ".ll")) return MLC_EMIT_KIND_LLVM;
  if (ends_with(path, ".s")) return MLC_EMIT_KIND_ASM;
  return MLC_EMIT_KIND_SO;
}

static bool is_c_identifier(const char *s) {
  if (!*s || (*s >= '0' && *s <= '9')) return false;
  for (; *s; s++)
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9')))
      return false;
  return true;
}

/* Appends a --const binding NAME=FILE (both point into argv). */
static bool add_const(mlc_cli_compile_t *o, const char *arg, FILE *err) {
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg || !eq[1]) {
    fprintf(err, "mlc compile: --const wants NAME=FILE, got '%s'\n", arg);
    return false;
  }
  int n = o->opts.nconsts;
  mlc_const_binding_t *nc = realloc(o->consts, (size_t)(n + 1) * sizeof *nc);
  char *name = strndup(arg, (size_t)(eq - arg));
  if (!nc || !name) {
    free(name);
    if (nc) o->consts = nc;
    fprintf(err, "mlc: out of memory\n");
    return false;
  }
  nc[n] = (mlc_const_binding_t){name, eq + 1};
  o->consts = nc;
  o->opts.nconsts = n + 1;
  return true;
}

/* Applies one compile option; returns false after printing an error. */
static bool compile_option(mlc_cli_compile_t *o, int id, const char *arg,
                           bool *emit_given, FILE *err) {
  mlc_compile_options_t *c = &o->opts;
  switch (id) {
  case C_OUTPUT: c->output_path = arg; return true;
  case C_TARGET: c->target = arg; return true;
  case C_CPU: c->cpu = arg; return true;
  case C_PRINT_AFTER: c->print_after = arg; return true;
  case C_VERIFY: c->verify_each = true; return true;
  case C_TIME: c->time_passes = true; return true;
  case C_NO_HEADER: c->write_header = false; return true;
  case C_DIM: return add_dim(&o->dims, &c->ndims, arg, err, "compile");
  case C_CONST: return add_const(o, arg, err);
  case C_SHAPE:
    return add_shape(&o->shapes, &c->nshapes, arg, err, "compile");
  case C_OPT:
    return int_option(err, "compile", "-O (optimization level)", arg, 0, 3,
                      &c->opt_level);
  case C_EMIT:
    *emit_given = true;
    if (parse_emit(arg, &c->emit)) return true;
    fprintf(err, "mlc compile: --emit wants so, obj, llvm, asm, graph or "
            "tile, got '%s'\n", arg);
    return false;
  case C_NAME:
    c->model_name = arg;
    if (is_c_identifier(arg)) return true;
    fprintf(err, "mlc compile: --name must be a C identifier, got '%s'\n", arg);
    return false;
  case C_WEIGHTS:
    if (mlc_cli_parse_bytes(arg, &c->weights_embed_limit)) return true;
    fprintf(err, "mlc compile: --weights-limit wants a byte count, got '%s'\n",
            arg);
    return false;
  }
  return false;
}

static int compile_check(mlc_cli_compile_t *o, bool emit_given, FILE *err) {
  mlc_compile_options_t *c = &o->opts;
  if (!c->model_path) {
    fprintf(err, "mlc compile: no model given\n");
    return usage_error(err, "compile", compile_usage);
  }
  if (!c->output_path) {
    fprintf(err, "mlc compile: no output given (-o OUT)\n");
    return usage_error(err, "compile", compile_usage);
  }
  if (!emit_given) c->emit = emit_from_extension(c->output_path);
  if (strcmp(c->output_path, "-") == 0 &&
      (c->emit == MLC_EMIT_KIND_SO || c->emit == MLC_EMIT_KIND_OBJ)) {
    fprintf(err, "mlc compile: -o - works for --emit graph, tile, llvm and "
            "asm only\n");
    return usage_error(err, "compile", compile_usage);
  }
  c->dims = o->dims;
  c->consts = o->consts;
  c->shapes = o->shapes;
  return MLC_CLI_CONTINUE;
}

int mlc_cli_parse_compile(int argc, char **argv, FILE *out, FILE *err,
                          mlc_cli_compile_t *o) {
  memset(o, 0, sizeof *o);
  o->opts.opt_level = 2;
  o->opts.write_header = true;
  o->opts.weights_embed_limit = -1; /* the backend's default */
  scanner_t s = {argc, 1, argv, compile_specs, false, err, "compile"};
  bool emit_given = false;
  int id, r;
  const char *arg;
  while ((r = scan_next(&s, &id, &arg)) == 1) {
    if (id == OPT_HELP) return print_help(out, compile_usage, compile_help);
    if (id == OPT_VERSION) return print_version(out);
    if (id == 0) {
      if (o->opts.model_path) {
        fprintf(err, "mlc compile: more than one model given ('%s')\n", arg);
        return usage_error(err, "compile", compile_usage);
      }
      o->opts.model_path = arg;
    } else if (!compile_option(o, id, arg, &emit_given, err)) {
      return usage_error(err, "compile", compile_usage);
    }
  }
  if (r < 0) return usage_error(err, "compile", compile_usage);
  return compile_check(o, emit_given, err);
}

void mlc_cli_compile_free(mlc_cli_compile_t *o) {
  free_dims(o->dims, o->opts.ndims);
  o->dims = NULL;
  o->opts.dims = NULL;
  o->opts.ndims = 0;
  for (int i = 0; i < o->opts.nconsts; i++) free((char *)o->consts[i].name);
  free(o->consts);
  o->consts = NULL;
  o->opts.consts = NULL;
  o->opts.nconsts = 0;
  free_shapes(o->shapes, o->opts.nshapes);
  o->shapes = NULL;
  o->opts.shapes = NULL;
  o->opts.nshapes = 0;
}

/* ---- run and bench ----------------------------------------------------- */

enum { R_INPUT = 1, R_OUTDIR, R_FORMAT, R_THREADS, R_WARMUP, R_ITERS, R_JSON,
       R_PROFILE, R_PROFILE_RUNS };

static const opt_spec_t run_specs[] = {
    {"input", 'i', true, R_INPUT},    {"output-dir", 'd', true, R_OUTDIR},
    {"output-format", 0, true, R_FORMAT}, {"threads", 0, true, R_THREADS},
    {"help", 'h', false, OPT_HELP},   {"version", 0, false, OPT_VERSION},
    {NULL, 0, false, 0},
};

static const opt_spec_t bench_specs[] = {
    {"input", 'i', true, R_INPUT},  {"threads", 0, true, R_THREADS},
    {"warmup", 0, true, R_WARMUP},  {"iters", 0, true, R_ITERS},
    {"json", 0, false, R_JSON},     {"profile", 0, true, R_PROFILE},
    {"profile-runs", 0, true, R_PROFILE_RUNS}, {"help", 'h', false, OPT_HELP},
    {"version", 0, false, OPT_VERSION}, {NULL, 0, false, 0},
};

static bool run_option(mlc_cli_run_t *o, int id, const char *arg, FILE *err,
                       const char *cmd) {
  switch (id) {
  case R_INPUT: return add_input(o, arg, err);
  case R_OUTDIR: o->output_dir = arg; return true;
  case R_JSON: o->json = true; return true;
  case R_PROFILE: o->profile = arg; return true;
  case R_PROFILE_RUNS:
    return int_option(err, cmd, "--profile-runs", arg, 1, MLC_CLI_MAX_ITERS,
                      &o->profile_runs);
  case R_FORMAT:
    if (strcmp(arg, "npy") == 0) o->format = MLC_OUT_NPY;
    else if (strcmp(arg, "pb") == 0) o->format = MLC_OUT_PB;
    else break;
    return true;
  case R_THREADS:
    return int_option(err, cmd, "--threads", arg, 0, MLC_CLI_MAX_THREADS,
                      &o->threads);
  case R_WARMUP:
    return int_option(err, cmd, "--warmup", arg, 0, MLC_CLI_MAX_ITERS,
                      &o->warmup);
  case R_ITERS:
    return int_option(err, cmd, "--iters", arg, 1, MLC_CLI_MAX_ITERS,
                      &o->iters);
  }
  fprintf(err, "mlc %s: --output-format wants npy or pb, got '%s'\n", cmd,
          arg ? arg : "");
  return false;
}

static int parse_run_like(int argc, char **argv, FILE *out, FILE *err,
                          mlc_cli_run_t *o, bool bench) {
  const char *cmd = bench ? "bench" : "run";
  const char *usage = bench ? bench_usage : run_usage;
  memset(o, 0, sizeof *o);
  o->warmup = 5;
  o->iters = 50;
  scanner_t s = {argc, 1, argv, bench ? bench_specs : run_specs, false, err, cmd};
  int id, r;
  const char *arg;
  while ((r = scan_next(&s, &id, &arg)) == 1) {
    if (id == OPT_HELP)
      return print_help(out, usage, bench ? bench_help : run_help);
    if (id == OPT_VERSION) return print_version(out);
    if (id == 0 && o->model) {
      fprintf(err, "mlc %s: unexpected argument '%s' (inputs go after "
              "--input)\n", cmd, arg);
      return usage_error(err, cmd, usage);
    }
    if (id == 0) o->model = arg;
    else if (!run_option(o, id, arg, err, cmd)) return usage_error(err, cmd, usage);
  }
  if (r < 0) return usage_error(err, cmd, usage);
  if (!o->model) {
    fprintf(err, "mlc %s: no model given\n", cmd);
    return usage_error(err, cmd, usage);
  }
  return MLC_CLI_CONTINUE;
}

int mlc_cli_parse_run(int argc, char **argv, FILE *out, FILE *err,
                      mlc_cli_run_t *o) {
  return parse_run_like(argc, argv, out, err, o, false);
}

int mlc_cli_parse_bench(int argc, char **argv, FILE *out, FILE *err,
                        mlc_cli_run_t *o) {
  return parse_run_like(argc, argv, out, err, o, true);
}

void mlc_cli_run_free(mlc_cli_run_t *o) {
  free(o->inputs);
  o->inputs = NULL;
  o->ninputs = 0;
}

/* ---- inspect ----------------------------------------------------------- */

enum { I_DOT = 1, I_DIM, I_SHAPE };

static const opt_spec_t inspect_specs[] = {
    {"dot", 0, false, I_DOT},       {"dim", 0, true, I_DIM},
    {"input-shape", 0, true, I_SHAPE},
    {"help", 'h', false, OPT_HELP}, {"version", 0, false, OPT_VERSION},
    {NULL, 0, false, 0},
};

int mlc_cli_parse_inspect(int argc, char **argv, FILE *out, FILE *err,
                          mlc_cli_inspect_t *o) {
  memset(o, 0, sizeof *o);
  scanner_t s = {argc, 1, argv, inspect_specs, false, err, "inspect"};
  int id, r;
  const char *arg;
  while ((r = scan_next(&s, &id, &arg)) == 1) {
    if (id == OPT_HELP) return print_help(out, inspect_usage, inspect_help);
    if (id == OPT_VERSION) return print_version(out);
    if (id == I_DOT) {
      o->dot = true;
    } else if (id == I_DIM) {
      if (!add_dim(&o->dims, &o->ndims, arg, err, "inspect"))
        return usage_error(err, "inspect", inspect_usage);
    } else if (id == I_SHAPE) {
      if (!add_shape(&o->shapes, &o->nshapes, arg, err, "inspect"))
        return usage_error(err, "inspect", inspect_usage);
    } else if (o->path) {
      fprintf(err, "mlc inspect: more than one file given ('%s')\n", arg);
      return usage_error(err, "inspect", inspect_usage);
    } else {
      o->path = arg;
    }
  }
  if (r < 0) return usage_error(err, "inspect", inspect_usage);
  if (!o->path) {
    fprintf(err, "mlc inspect: no file given\n");
    return usage_error(err, "inspect", inspect_usage);
  }
  return MLC_CLI_CONTINUE;
}

void mlc_cli_inspect_free(mlc_cli_inspect_t *o) {
  free_dims(o->dims, o->ndims);
  o->dims = NULL;
  o->ndims = 0;
  free_shapes(o->shapes, o->nshapes);
  o->shapes = NULL;
  o->nshapes = 0;
}
