/* `mlc inspect`: describes an ONNX model or a compiled model library.
 *
 * A file starting with the ELF magic is a compiled model: it is checked as
 * libmlcrt checks a library before loading it (runtime/elf.c), opened
 * with dlopen and its descriptor (model_abi.h) printed as is, without
 * loading weights; from ABI 2 on that includes the call table (each call's
 * kernel, tiles, flops and ONNX nodes, the names as JSON strings), from
 * ABI 3 the CPU it was compiled for, the CPU features it needs (and those
 * this machine lacks) and its build id.  Anything else is imported as ONNX: inputs and outputs
 * as declared, the op histogram and parameter count of the imported graph,
 * then shape inference (symbolic dims bound as for compile) for the FLOPs
 * estimate.  With --dot only the Graphviz rendering (of the graph after
 * shape inference, when that succeeds) is printed.  --dot, --dim and
 * --input-shape are for ONNX models: given with a library they are a
 * usage error, not silently ignored. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/escape.h"
#include "ir/target.h"
#include "mlc/model_abi.h"
#include "passes/pass.h"
#include "runtime/cpu_check.h"
#include "runtime/elf_check.h"
#include "tools/cli.h"
#include "tools/graph_stats.h"
#include "tools/profile.h"

static bool is_elf(const char *path) {
  unsigned char magic[4] = {0};
  /* non-blocking and regular files only: a FIFO must not hang inspect */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat sb;
  ssize_t n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? read(fd, magic, 4) : -1;
  close(fd);
  return n == 4 && memcmp(magic, "\x7f" "ELF", 4) == 0;
}

/* Names from a model library's descriptor, escaped for the terminal
 * (base/escape.h); a few rotating buffers so one printf can take several. */
static const char *esc(const char *s) {
  static char bufs[4][512];
  static int next;
  char *b = bufs[next++ & 3];
  mlc_escape(b, sizeof bufs[0], s ? s : "?", 0);
  return b;
}

/* ---- compiled models --------------------------------------------------- */

static void print_abi_tensor(const mlc_abi_tensor_t *t) {
  printf("  %-20s %-8s [", esc(t->name), mlc_dtype_name((mlc_dtype_t)t->dtype));
  for (int32_t d = 0; d < t->rank; d++) {
    printf("%s%lld", d ? ", " : "", (long long)t->dims[d]);
    if (t->dim_names && t->dim_names[d]) printf(" (%s)", esc(t->dim_names[d]));
  }
  printf("]  %llu bytes\n", (unsigned long long)t->nbytes);
}

/* The CPU a version-3 model was compiled for, the features it needs and
 * whether this machine has them (as libmlcrt's load check decides). */
static void print_cpu(const mlc_abi_model_t *m) {
  char list[1024], missing[1024];
  printf("cpu:      %s\n", esc(m->cpu));
  mlcrt_cpu_format(m->cpu_features, list, sizeof list);
  printf("features: %s\n", m->cpu_features ? list : "(x86-64 baseline only)");
  uint64_t have;
  mlcrt_status_t *st = mlcrt_cpu_available(&have);
  if (st) {
    printf("          (this CPU: %s)\n", mlcrt_status_message(st));
    mlcrt_status_free(st);
  } else if (m->cpu_features & ~have) {
    mlcrt_cpu_format(m->cpu_features & ~have, missing, sizeof missing);
    printf("          (this CPU lacks: %s; the model will not load here)\n",
           missing);
  }
  printf("build:    ");
  for (int i = 0; i < 16; i++) printf("%02x", m->build_id[i]);
  printf("\n");
}

static void print_descriptor(const mlc_abi_model_t *m) {
  printf("model:    %s\n", esc(m->name));
  printf("target:   %s\n", esc(m->target));
  printf("producer: %s\n", esc(m->producer));
  printf("abi:      %u\n", m->abi_version);
  printf("inputs (%d):\n", (int)m->num_inputs);
  for (int32_t i = 0; i < m->num_inputs; i++) print_abi_tensor(&m->inputs[i]);
  printf("outputs (%d):\n", (int)m->num_outputs);
  for (int32_t i = 0; i < m->num_outputs; i++) print_abi_tensor(&m->outputs[i]);
  printf("arena:    %llu bytes (align %llu)\n",
         (unsigned long long)m->arena_bytes, (unsigned long long)m->arena_align);
  printf("weights:  %llu bytes, %s%s\n", (unsigned long long)m->weights_bytes,
         m->weights_file ? "file " : "embedded",
         m->weights_file ? esc(m->weights_file) : "");
  if (m->abi_version >= 3) print_cpu(m);
  if (m->abi_version < 2) return;
  printf("calls (%d):\n", (int)m->num_calls);
  for (int32_t i = 0; i < m->num_calls && m->calls; i++) {
    const mlc_abi_call_t *c = &m->calls[i];
    printf("  %-20s tiles %-6lld flops %-12lld nodes ", c->kernel ? c->kernel : "?",
           (long long)c->tiles, (long long)c->flops);
    for (int32_t j = 0; j < c->num_nodes && c->nodes; j++) {
      if (j) fputs(", ", stdout);
      mlc_json_string(stdout, c->nodes[j]);
    }
    fputc('\n', stdout);
  }
}

static mlc_status_t *inspect_library(const char *path) {
  /* The runtime's check first: dlopen of a truncated file faults. */
  mlc_status_t *chk = mlc_cli_from_rt(mlcrt_elf_check_file(path));
  if (chk) return mlc_status_annotate(chk, "%s", path);
  char buf[4096];
  snprintf(buf, sizeof buf, "%s%s", strchr(path, '/') ? "" : "./", path);
  void *h = dlopen(buf, RTLD_NOW | RTLD_LOCAL);
  if (!h) return MLC_ERR(INVALID_MODEL, "%s: %s", path, dlerror());
  mlc_abi_model_get_fn get;
  *(void **)&get = dlsym(h, "mlc_model_get");
  const mlc_abi_model_t *m = get ? get() : NULL;
  mlc_status_t *st = NULL;
  if (!m)
    st = MLC_ERR(INVALID_MODEL, "%s: not an mlc model (no mlc_model_get)", path);
  else if (m->abi_version < MLC_ABI_VERSION_MIN || m->abi_version > MLC_ABI_VERSION ||
           m->struct_size < (m->abi_version == 1   ? MLC_ABI_MODEL_V1_SIZE
                             : m->abi_version == 2 ? MLC_ABI_MODEL_V2_SIZE
                                                   : sizeof(mlc_abi_model_t)))
    st = MLC_ERR(INVALID_MODEL, "%s: model ABI %u (size %u), this mlc reads "
                 "ABI %u to %u", path, m->abi_version, m->struct_size,
                 MLC_ABI_VERSION_MIN, MLC_ABI_VERSION);
  else
    print_descriptor(m);
  dlclose(h);
  return st;
}

/* ---- ONNX models ------------------------------------------------------- */

static void print_values(const char *title, const mlc_value_t *const *vs,
                         size_t n) {
  printf("%s (%zu):\n", title, n);
  for (size_t i = 0; i < n; i++) {
    char shape[512];
    mlc_stats_format_value(vs[i], shape, sizeof shape);
    printf("  %-20s %s\n", esc(vs[i]->name), shape);
  }
}

/* Runs shape inference on `g` (symbolic dims already bound). */
static mlc_status_t *infer(mlc_graph_t *g) {
  mlc_target_t target;
  MLC_RETURN_IF(mlc_target_lookup("host", NULL, &target));
  mlc_pass_ctx_t ctx = {.target = &target, .opt_level = 0, .diag = NULL};
  return mlc_pass_infer_shapes.run(&ctx, g);
}

static void print_flops(mlc_graph_t *g) {
  mlc_status_t *st = infer(g);
  if (st) {
    printf("FLOPs:    unknown (shape inference failed: %s)\n",
           mlc_status_message(st));
    mlc_status_free(st);
    return;
  }
  int unknown = 0;
  int64_t flops = mlc_stats_flops(g, &unknown);
  printf("FLOPs:    %lld (estimate: 2*MACs of MatMul/Gemm/Conv, one per "
         "element of elementwise ops", (long long)flops);
  if (unknown) printf("; %d node(s) of unknown shape skipped", unknown);
  printf(")\n");
}

/* True if an earlier input dim than (vi, di) has symbolic name `sym`. */
static bool printed_before(const mlc_graph_t *g, size_t vi, int di,
                           const char *sym) {
  for (size_t i = 0; i <= vi; i++) {
    const mlc_value_t *v = g->inputs.data[i];
    for (int d = 0; d < (i == vi ? di : v->rank); d++)
      if (v->dims[d].sym && strcmp(v->dims[d].sym, sym) == 0) return true;
  }
  return false;
}

static void print_bindings(const mlc_graph_t *g) {
  bool any = false;
  for (size_t i = 0; i < g->inputs.len; i++) {
    const mlc_value_t *v = g->inputs.data[i];
    for (int d = 0; d < v->rank; d++) {
      const char *sym = v->dims[d].sym;
      if (!sym || printed_before(g, i, d, sym)) continue;
      printf("%s%s=%lld", any ? ", " : "dims:     ", sym,
             (long long)v->dims[d].value);
      any = true;
    }
  }
  if (any) printf(" (used for FLOPs)\n");
}

static mlc_status_t *inspect_onnx(const mlc_cli_inspect_t *o) {
  mlc_compile_options_t copts = {
      .model_path = o->path, .opt_level = 0, .dims = o->dims,
      .ndims = o->ndims, .shapes = o->shapes, .nshapes = o->nshapes,
      .diag = o->dot ? NULL : stderr};
  mlc_graph_t *g = NULL;
  MLC_RETURN_IF(mlc_load_graph(&copts, false, &g));
  if (o->dot) {
    mlc_status_free(infer(g)); /* shapes on the edges where it works */
    mlc_stats_print_dot(g, stdout);
    mlc_graph_destroy(g);
    return NULL;
  }
  printf("model:    %s (opset %lld)\n", esc(g->name && *g->name ? g->name : "?"),
         (long long)g->opset);
  print_values("inputs", (const mlc_value_t *const *)g->inputs.data,
               g->inputs.len);
  print_values("outputs", (const mlc_value_t *const *)g->outputs.data,
               g->outputs.len);
  printf("ops:\n");
  int nodes = mlc_stats_print_histogram(g, stdout);
  printf("nodes:    %d\n", nodes);
  int64_t bytes = 0, params = mlc_stats_param_count(g, &bytes);
  printf("params:   %lld (%lld bytes of constants)\n", (long long)params,
         (long long)bytes);
  print_bindings(g);
  print_flops(g);
  mlc_graph_destroy(g);
  return NULL;
}

/* The first ONNX-only option given, or NULL. */
static const char *onnx_only_option(const mlc_cli_inspect_t *o) {
  if (o->dot) return "--dot";
  if (o->ndims) return "--dim";
  if (o->nshapes) return "--input-shape";
  return NULL;
}

int mlc_cmd_inspect(int argc, char **argv) {
  mlc_cli_inspect_t o;
  int r = mlc_cli_parse_inspect(argc, argv, stdout, stderr, &o);
  if (r == MLC_CLI_CONTINUE) {
    bool lib = is_elf(o.path);
    const char *opt = lib ? onnx_only_option(&o) : NULL;
    mlc_status_t *st =
        opt ? MLC_ERR(INVALID_ARGUMENT, "%s: %s is a compiled model; %s works "
                      "on ONNX models only (inspect the .onnx it was "
                      "compiled from)", opt, o.path, opt)
            : lib ? inspect_library(o.path) : inspect_onnx(&o);
    r = mlc_cli_report(st, true);
  }
  mlc_cli_inspect_free(&o);
  return r;
}
