/* The compile driver (see driver.h): import, bind symbolic dims, run the
 * graph pipeline, then print the graph, lower and print kernels, or hand
 * the program to the LLVM backend.
 *
 * Input shapes are fixed before any pass runs: first the --input-shape
 * bindings set whole shapes (checked against the declared sizes and rank;
 * a size given for a symbolic dim binds that name), then every symbolic
 * dim still unbound gets its --dim value, else the size its name already
 * has elsewhere, else 1 with a note on the diagnostics stream; dims with
 * neither a value nor a name get 1 as well.  A binding that names no
 * input dim or input is an error, so a typo does not silently compile for
 * size 1.
 * Every error leaving mlc_compile starts with "compiling <model>: ".
 * Between lowering and the backend, the tile pipeline (passes/tile_pass.h)
 * runs on the program. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/timer.h"
#include "codegen/llvm.h"
#include "frontend/onnx.h"
#include "passes/lower.h"
#include "passes/pass.h"
#include "passes/tile_pass.h"
#include "tools/cli.h"
#include "tools/driver.h"
#include "tools/npy.h"

static FILE *diag_of(const mlc_compile_options_t *o) {
  return o->diag ? o->diag : stderr;
}

/* The binding for `name`, or NULL. */
static const mlc_dim_binding_t *find_binding(const mlc_compile_options_t *o,
                                             const char *name) {
  for (int i = 0; i < o->ndims; i++)
    if (strcmp(o->dims[i].name, name) == 0) return &o->dims[i];
  return NULL;
}

/* The size an input dim named `sym` already has (from --input-shape, or
 * bound earlier), or -1. */
static int64_t sym_value(const mlc_graph_t *g, const char *sym) {
  for (size_t i = 0; i < g->inputs.len; i++) {
    const mlc_value_t *v = g->inputs.data[i];
    for (int d = 0; d < v->rank; d++)
      if (v->dims[d].sym && v->dims[d].value >= 0 &&
          strcmp(v->dims[d].sym, sym) == 0)
        return v->dims[d].value;
  }
  return -1;
}

/* How many input dims are named `sym`. */
static int sym_uses(const mlc_graph_t *g, const char *sym) {
  int n = 0;
  for (size_t i = 0; i < g->inputs.len; i++) {
    const mlc_value_t *v = g->inputs.data[i];
    for (int d = 0; d < v->rank; d++)
      n += v->dims[d].sym && strcmp(v->dims[d].sym, sym) == 0;
  }
  return n;
}

/* The importer names an input dim that has neither a size nor a name
 * "unk__<n>"; only --input-shape reaches it by a name the user knows. */
static bool is_unnamed(const char *sym) {
  return strncmp(sym, "unk__", 5) == 0;
}

static void bind_dim(const mlc_compile_options_t *o, const mlc_graph_t *g,
                     size_t vi, int di) {
  const mlc_value_t *v = g->inputs.data[vi];
  mlc_dim_t *dim = &v->dims[di];
  if (dim->value >= 0) return; /* declared, or from --input-shape */
  const mlc_dim_binding_t *b = dim->sym ? find_binding(o, dim->sym) : NULL;
  int64_t known = dim->sym ? sym_value(g, dim->sym) : -1;
  if (b) dim->value = b->value;
  else if (known >= 0) dim->value = known;
  if (dim->value >= 0) return;
  char name[256]; /* names from the model, escaped (base/escape.h) */
  if (!dim->sym || is_unnamed(dim->sym)) {
    mlc_escape(name, sizeof name, v->name, 0);
    fprintf(diag_of(o), "note: input '%s' dim %d has no size; bound to 1; "
            "use --input-shape %s=<AxBx...>\n", name, di, name);
  } else {
    mlc_escape(name, sizeof name, dim->sym, 0);
    fprintf(diag_of(o),
            "note: symbolic dim '%s' bound to 1; use --dim %s=<size>\n",
            name, name);
  }
  dim->value = 1;
}

static mlc_value_t *find_input(const mlc_graph_t *g, const char *name) {
  for (size_t i = 0; i < g->inputs.len; i++)
    if (strcmp(g->inputs.data[i]->name, name) == 0) return g->inputs.data[i];
  return NULL;
}

/* Dim `d` of an --input-shape gets `size`: it must agree with the declared
 * size, the --dim of its name and other sizes given for its name. */
static mlc_status_t *shape_dim(const mlc_compile_options_t *o,
                               const mlc_graph_t *g, mlc_dim_t *dim, int d,
                               int64_t size) {
  if (!dim->sym && dim->value >= 0 && dim->value != size)
    return MLC_ERR(INVALID_ARGUMENT, "dim %d is %lld in the model, %lld "
                   "given", d, (long long)dim->value, (long long)size);
  const mlc_dim_binding_t *b = dim->sym ? find_binding(o, dim->sym) : NULL;
  int64_t other = b ? b->value : dim->sym ? sym_value(g, dim->sym) : -1;
  if (other >= 0 && other != size)
    return MLC_ERR(INVALID_ARGUMENT, "dim %d ('%s') is given %lld, but %s "
                   "makes '%s' %lld", d, dim->sym, (long long)size,
                   b ? "--dim" : "another --input-shape", dim->sym,
                   (long long)other);
  dim->value = size;
  /* A name the importer made up for a dim without one ("unk__3", shared
   * with no other dim) is dropped: the size now comes from the user. */
  if (dim->sym && is_unnamed(dim->sym) && sym_uses(g, dim->sym) == 1)
    dim->sym = NULL;
  return NULL;
}

static mlc_status_t *apply_shape(const mlc_compile_options_t *o,
                                 mlc_graph_t *g, const mlc_shape_binding_t *b) {
  mlc_value_t *v = find_input(g, b->name);
  if (!v)
    return MLC_ERR(INVALID_ARGUMENT, "the model has no input named '%s'",
                   b->name);
  if (v->rank < 0) { /* no declared shape: the binding gives the rank */
    mlc_dim_t *dims = mlc_arena_calloc(&g->arena, (size_t)b->rank + 1,
                                       sizeof *dims);
    if (!dims) return MLC_ERR(OUT_OF_MEMORY, "input '%s'", v->name);
    for (int d = 0; d < b->rank; d++) dims[d] = (mlc_dim_t){-1, NULL};
    v->dims = dims;
    v->rank = b->rank;
  } else if (v->rank != b->rank) {
    return MLC_ERR(INVALID_ARGUMENT, "%d size(s) given, the input has rank "
                   "%d", b->rank, v->rank);
  }
  for (int d = 0; d < b->rank; d++)
    MLC_RETURN_IF(shape_dim(o, g, &v->dims[d], d, b->dims[d]));
  return NULL;
}

static bool graph_has_dim(const mlc_graph_t *g, const char *name) {
  for (size_t i = 0; i < g->inputs.len; i++) {
    const mlc_value_t *v = g->inputs.data[i];
    for (int d = 0; d < v->rank; d++)
      if (v->dims[d].sym && strcmp(v->dims[d].sym, name) == 0) return true;
  }
  return false;
}

/* The import checked declared sizes; a --dim value can still make an
 * input's bytes (over its non-zero dims) overflow int64. */
static mlc_status_t *check_bound_size(const mlc_value_t *v) {
  size_t es = mlc_dtype_size(v->dtype);
  int64_t n = es ? (int64_t)es : 1;
  for (int d = 0; d < v->rank; d++) {
    int64_t x = v->dims[d].value;
    if (x <= 0) continue;
    if (n > INT64_MAX / x)
      return MLC_ERR(INVALID_ARGUMENT, "input '%s': with the --dim and "
                     "--input-shape values its byte size overflows", v->name);
    n *= x;
  }
  return NULL;
}

static mlc_status_t *bind_dims(const mlc_compile_options_t *o,
                               mlc_graph_t *g) {
  for (int i = 0; i < o->nshapes; i++)
    MLC_RETURN_IF_ERROR(apply_shape(o, g, &o->shapes[i]), "--input-shape %s",
                        o->shapes[i].name);
  for (int i = 0; i < o->ndims; i++)
    if (!graph_has_dim(g, o->dims[i].name))
      return MLC_ERR(INVALID_ARGUMENT,
                     "--dim %s: the model has no input dim named '%s'",
                     o->dims[i].name, o->dims[i].name);
  for (size_t i = 0; i < g->inputs.len; i++) {
    const mlc_value_t *v = g->inputs.data[i];
    if (v->rank < 0)
      return MLC_ERR(UNSUPPORTED, "input '%s' has unknown rank (give its "
                     "shape with --input-shape %s=AxBx...)", v->name, v->name);
    for (int d = 0; d < v->rank; d++) bind_dim(o, g, i, d);
    MLC_RETURN_IF(check_bound_size(v));
  }
  return NULL;
}

/* ---- --const: freezing inputs ----------------------------------------- */

static mlc_status_t *check_frozen_shape(const mlc_value_t *v,
                                        const mlc_host_tensor_t *t) {
  if (t->dtype != v->dtype)
    return MLC_ERR(INVALID_ARGUMENT, "the file holds %s, the input is %s",
                   mlc_dtype_name(t->dtype), mlc_dtype_name(v->dtype));
  if (v->rank >= 0 && v->rank != t->rank)
    return MLC_ERR(INVALID_ARGUMENT, "the file has rank %d, the input %d",
                   t->rank, v->rank);
  for (int d = 0; v->rank >= 0 && d < v->rank; d++)
    if (!v->dims[d].sym && v->dims[d].value >= 0 &&
        v->dims[d].value != t->dims[d])
      return MLC_ERR(INVALID_ARGUMENT, "dim %d is %lld in the file, %lld in "
                     "the model", d, (long long)t->dims[d],
                     (long long)v->dims[d].value);
  return NULL;
}

/* Turns graph input `name` into a constant holding the tensor in `path`. */
static mlc_status_t *freeze_input(mlc_graph_t *g, const char *name,
                                  const char *path) {
  size_t i = 0;
  while (i < g->inputs.len && strcmp(g->inputs.data[i]->name, name) != 0) i++;
  if (i == g->inputs.len)
    return MLC_ERR(INVALID_ARGUMENT, "the model has no input named '%s'",
                   name);
  mlc_value_t *v = g->inputs.data[i];
  mlc_host_tensor_t t;
  MLC_RETURN_IF(mlc_cli_read_tensor(path, &t));
  mlc_status_t *st = check_frozen_shape(v, &t);
  if (!st) {
    mlc_value_t tmp = *v; /* the file's shape, the value's dims storage */
    tmp.rank = t.rank;
    tmp.dims = mlc_arena_calloc(&g->arena, (size_t)t.rank + 1, sizeof *tmp.dims);
    if (!tmp.dims) st = MLC_ERR(OUT_OF_MEMORY, "freezing '%s'", name);
    for (int d = 0; !st && d < t.rank; d++)
      tmp.dims[d] = (mlc_dim_t){t.dims[d], NULL};
    if (!st) {
      *v = tmp;
      st = mlc_value_set_const(g, v, t.data, t.nbytes, MLC_DATA_COPY);
    }
  }
  mlc_host_tensor_free(&t);
  if (st) return mlc_status_annotate(st, "%s", path);
  v->flags &= ~(unsigned)MLC_VALUE_INPUT;
  memmove(&g->inputs.data[i], &g->inputs.data[i + 1],
          (g->inputs.len - i - 1) * sizeof *g->inputs.data);
  g->inputs.len--;
  return NULL;
}

static mlc_status_t *freeze_inputs(const mlc_compile_options_t *o,
                                   mlc_graph_t *g) {
  for (int i = 0; i < o->nconsts; i++)
    MLC_RETURN_IF_ERROR(freeze_input(g, o->consts[i].name, o->consts[i].path),
                        "--const %s", o->consts[i].name);
  return NULL;
}

static mlc_status_t *make_ctx(const mlc_compile_options_t *o,
                              mlc_target_t *target, mlc_pass_ctx_t *ctx) {
  if (o->opt_level < 0 || o->opt_level > 3)
    return MLC_ERR(INVALID_ARGUMENT, "optimization level %d is not 0..3",
                   o->opt_level);
  if (o->print_after && strcmp(o->print_after, "all") != 0 &&
      !mlc_pass_find(o->print_after) && !mlc_tpass_find(o->print_after))
    return MLC_ERR(INVALID_ARGUMENT, "--print-after: no pass named '%s'",
                   o->print_after);
  /* The lookup's message names the target and lists the known ones; the
   * backend checks the CPU and derives what follows from it. */
  MLC_RETURN_IF(
      mlc_target_lookup(o->target ? o->target : "host", o->cpu, target));
  const mlc_backend_t *be = mlc_backend_for(target);
  if (be && be->resolve_cpu) MLC_RETURN_IF(be->resolve_cpu(target));
  *ctx = (mlc_pass_ctx_t){
      .target = target,
      .opt_level = o->opt_level,
      .diag = diag_of(o),
      .print_after = o->print_after,
      .verify_each = o->verify_each,
      .time_passes = o->time_passes,
  };
  return NULL;
}

/* Import + bind + (optionally) the default pipeline, with `ctx` made. */
static mlc_status_t *load(const mlc_compile_options_t *o, mlc_pass_ctx_t *ctx,
                          bool optimize, mlc_graph_t **out_graph) {
  mlc_graph_t *g = NULL;
  if (!o->model_path) return MLC_ERR(INVALID_ARGUMENT, "no model path given");
  double t0 = mlc_timer_now_ms();
  MLC_RETURN_IF(mlc_onnx_import_file(o->model_path, NULL, &g));
  if (ctx->time_passes) mlc_timer_report(ctx->diag, "import", mlc_timer_now_ms() - t0);
  mlc_status_t *st = freeze_inputs(o, g);
  if (!st) st = bind_dims(o, g);
  if (!st && optimize) {
    const mlc_pass_t *const *passes;
    size_t n;
    st = mlc_pipeline_default(ctx, &passes, &n);
    if (!st) st = mlc_pipeline_run(ctx, passes, n, g);
  }
  if (st) {
    mlc_graph_destroy(g);
    return st;
  }
  *out_graph = g;
  return NULL;
}

mlc_status_t *mlc_load_graph(const mlc_compile_options_t *opts, bool optimize,
                             mlc_graph_t **out_graph) {
  mlc_target_t target;
  mlc_pass_ctx_t ctx;
  *out_graph = NULL;
  MLC_RETURN_IF_ERROR(make_ctx(opts, &target, &ctx), "loading %s",
                      opts->model_path ? opts->model_path : "(no model)");
  MLC_RETURN_IF_ERROR(load(opts, &ctx, optimize, out_graph), "loading %s",
                      opts->model_path);
  return NULL;
}

/* ---- output names ------------------------------------------------------ */

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Length of `path` without the extension of its last component. */
static size_t stem_len(const char *path) {
  const char *base = base_name(path), *dot = strrchr(base, '.');
  return dot && dot != base ? (size_t)(dot - path) : strlen(path);
}

/* The C identifier for a model compiled to `path`: the file's stem with
 * every other character turned into '_' ("my-net.so" -> "my_net"). */
static char *model_name_from(const char *path) {
  const char *base = base_name(path);
  size_t n = strcmp(path, "-") == 0 ? 0 : stem_len(path) - (size_t)(base - path);
  if (n == 0) return strdup("model");
  char *s = malloc(n + 3);
  if (!s) return NULL;
  size_t j = 0;
  if (base[0] >= '0' && base[0] <= '9') s[j++] = 'm', s[j++] = '_';
  for (size_t i = 0; i < n; i++) {
    char c = base[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_';
    s[j++] = ok ? c : '_';
  }
  s[j] = '\0';
  return s;
}

static char *header_path_for(const char *path) {
  size_t n = stem_len(path);
  char *h = malloc(n + 3);
  if (!h) return NULL;
  memcpy(h, path, n);
  memcpy(h + n, ".h", 3);
  return h;
}

/* ---- emitters ---------------------------------------------------------- */

static mlc_status_t *open_output(const char *path, FILE **out) {
  if (strcmp(path, "-") == 0) {
    *out = stdout;
    return NULL;
  }
  *out = fopen(path, "w");
  if (!*out) return MLC_ERR(IO_ERROR, "%s: %s", path, strerror(errno));
  return NULL;
}

static mlc_status_t *close_output(const char *path, FILE *f) {
  bool bad = ferror(f) != 0;
  if (f == stdout) bad |= fflush(f) != 0;
  else bad |= fclose(f) != 0;
  if (bad) return MLC_ERR(IO_ERROR, "%s: write failed", path);
  return NULL;
}

static mlc_status_t *emit_graph(const mlc_compile_options_t *o,
                                const mlc_graph_t *g) {
  FILE *f;
  MLC_RETURN_IF(open_output(o->output_path, &f));
  mlc_graph_print(g, f);
  return close_output(o->output_path, f);
}

static mlc_status_t *emit_tile(const mlc_compile_options_t *o,
                               const mlc_program_t *p) {
  FILE *f;
  MLC_RETURN_IF(open_output(o->output_path, &f));
  mlc_program_print(p, f);
  return close_output(o->output_path, f);
}

static mlc_status_t *copy_to_stdout(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return MLC_ERR(IO_ERROR, "%s: %s", path, strerror(errno));
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
  fclose(f);
  return fflush(stdout) ? MLC_ERR(IO_ERROR, "stdout: write failed") : NULL;
}

static const mlc_emit_kind_t backend_kind[] = {
    [MLC_EMIT_KIND_SO] = MLC_EMIT_SO, [MLC_EMIT_KIND_OBJ] = MLC_EMIT_OBJ,
    [MLC_EMIT_KIND_LLVM] = MLC_EMIT_LLVM, [MLC_EMIT_KIND_ASM] = MLC_EMIT_ASM,
};

/* LLVM IR or assembly to stdout: the backend writes files, so go through
 * a temporary one. */
static mlc_status_t *emit_native_stdout(const mlc_backend_t *be,
                                        const mlc_program_t *p,
                                        const mlc_target_t *t,
                                        mlc_codegen_options_t *cg) {
  char tmp[] = "/tmp/mlc-emit-XXXXXX";
  int fd = mkstemp(tmp);
  if (fd < 0) return MLC_ERR(IO_ERROR, "temporary file: %s", strerror(errno));
  close(fd);
  cg->output_path = tmp;
  mlc_status_t *st = be->emit(p, t, cg);
  if (!st) st = copy_to_stdout(tmp);
  unlink(tmp);
  return st;
}

static mlc_status_t *emit_native(const mlc_compile_options_t *o,
                                 const mlc_program_t *p,
                                 const mlc_target_t *t) {
  char *name = o->model_name ? strdup(o->model_name)
                             : model_name_from(o->output_path);
  bool wants_header = o->write_header && (o->emit == MLC_EMIT_KIND_SO ||
                                          o->emit == MLC_EMIT_KIND_OBJ);
  char *header = wants_header ? header_path_for(o->output_path) : NULL;
  if (!name || (wants_header && !header)) {
    free(name);
    free(header);
    return MLC_ERR(OUT_OF_MEMORY, "output names");
  }
  mlc_codegen_options_t cg = {
      .emit = backend_kind[o->emit],
      .output_path = o->output_path,
      .header_path = header,
      .model_name = name,
      .opt_level = o->opt_level,
      .weights_embed_limit = o->weights_embed_limit,
      .time_out = o->time_passes ? diag_of(o) : NULL,
  };
  const mlc_backend_t *be = mlc_backend_for(t);
  mlc_status_t *st = be ? mlc_backend_check(be, p, t)
                        : MLC_ERR(UNSUPPORTED, "no backend for target '%s' in this build",
                                  t->name ? t->name : "?");
  if (!st)
    st = strcmp(o->output_path, "-") == 0 ? emit_native_stdout(be, p, t, &cg)
                                          : be->emit(p, t, &cg);
  free(name);
  free(header);
  return st;
}

static mlc_status_t *compile_graph(const mlc_compile_options_t *o,
                                   mlc_pass_ctx_t *ctx, mlc_graph_t *g) {
  if (o->emit == MLC_EMIT_KIND_GRAPH) return emit_graph(o, g);
  mlc_program_t p = {0};
  double t0 = mlc_timer_now_ms();
  mlc_status_t *st = mlc_lower_program(ctx, g, &p);
  if (!st && ctx->time_passes)
    mlc_timer_report(ctx->diag, "lower", mlc_timer_now_ms() - t0);
  if (!st) st = mlc_tpipeline_run_default(ctx, &p);
  if (!st)
    st = o->emit == MLC_EMIT_KIND_TILE ? emit_tile(o, &p)
                                       : emit_native(o, &p, ctx->target);
  mlc_program_deinit(&p);
  return st;
}

static mlc_status_t *compile(const mlc_compile_options_t *o) {
  if (!o->output_path)
    return MLC_ERR(INVALID_ARGUMENT, "no output path given");
  if ((unsigned)o->emit > MLC_EMIT_KIND_TILE)
    return MLC_ERR(INVALID_ARGUMENT, "unknown emit kind %d", (int)o->emit);
  mlc_target_t target;
  mlc_pass_ctx_t ctx;
  mlc_graph_t *g = NULL;
  double t0 = mlc_timer_now_ms();
  MLC_RETURN_IF(make_ctx(o, &target, &ctx));
  MLC_RETURN_IF(load(o, &ctx, true, &g));
  mlc_status_t *st = compile_graph(o, &ctx, g);
  mlc_graph_destroy(g);
  if (!st && o->time_passes)
    mlc_timer_report(ctx.diag, "total", mlc_timer_now_ms() - t0);
  return st;
}

mlc_status_t *mlc_compile(const mlc_compile_options_t *opts) {
  MLC_RETURN_IF_ERROR(compile(opts), "compiling %s",
                      opts->model_path ? opts->model_path : "(no model)");
  return NULL;
}
