/* Helpers for the codegen tests: hand-built programs (graph values with
 * storage planned by hand, kernels from the tile builders), emitting into a
 * temporary folder, loading the result with dlopen, and two executors (NULL
 * and one whose parallel_for splits [0, n) into single tiles run in reverse
 * order, so any dependence between tiles shows up). */
#ifndef MLC_TESTS_CODEGEN_CG_UTIL_H
#define MLC_TESTS_CODEGEN_CG_UTIL_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/llvm.h"
#include "mlc/model_abi.h"

typedef struct cg_fix {
  mlc_graph_t *g;
  mlc_program_t p;
  char dir[256];
  char path[512];
  void *lib;
} cg_fix_t;

static inline void cg_fix_init(cg_fix_t *f, const char *name) {
  memset(f, 0, sizeof *f);
  assert_null(mlc_graph_create(name, &f->g));
  f->p.graph = f->g;
  snprintf(f->dir, sizeof f->dir, "/tmp/mlc-cgtest-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
}

static inline void cg_fix_deinit(cg_fix_t *f) {
  if (f->lib) dlclose(f->lib);
  mlc_program_deinit(&f->p);
  mlc_graph_destroy(f->g);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
}

/* A graph input/output with static dims and its storage. */
static inline mlc_value_t *cg_io(cg_fix_t *f, const char *name, mlc_dtype_t dt,
                                 int rank, const int64_t *dims, bool output) {
  mlc_value_t *v = mlc_graph_add_value_static(f->g, name, dt, rank, dims);
  assert_non_null(v);
  if (output) {
    v->flags |= MLC_VALUE_OUTPUT;
    v->storage = (mlc_storage_t){MLC_STORAGE_OUTPUT, (int32_t)f->g->outputs.len, 0};
    assert_true(MLC_VEC_PUSH(&f->g->outputs, v));
  } else {
    v->flags |= MLC_VALUE_INPUT;
    v->storage = (mlc_storage_t){MLC_STORAGE_INPUT, (int32_t)f->g->inputs.len, 0};
    assert_true(MLC_VEC_PUSH(&f->g->inputs, v));
  }
  return v;
}

static inline void cg_add_kernel(cg_fix_t *f, mlc_tkernel_t *k) {
  assert_non_null(k->body);
  assert_true(MLC_VEC_PUSH(&f->p.kernels, k));
}

static inline mlc_codegen_options_t cg_opts(cg_fix_t *f, mlc_emit_kind_t kind,
                                            const char *file) {
  snprintf(f->path, sizeof f->path, "%s/%s", f->dir, file);
  return (mlc_codegen_options_t){.emit = kind, .output_path = f->path,
                                 .model_name = f->g->name, .opt_level = 2,
                                 .weights_embed_limit = -1};
}

static inline void cg_expect_ok(mlc_status_t *st) {
  if (st) fprintf(stderr, "error: %s\n", mlc_status_message(st));
  assert_null(st);
}

/* Emits a .so for the host target and loads it; returns the descriptor. */
static inline const mlc_abi_model_t *cg_build(cg_fix_t *f, const char *file,
                                              int opt_level) {
  mlc_target_t t;
  cg_expect_ok(mlc_target_lookup("host", NULL, &t));
  mlc_codegen_options_t o = cg_opts(f, MLC_EMIT_SO, file);
  o.opt_level = opt_level;
  cg_expect_ok(mlc_llvm_emit(&f->p, &t, &o));
  f->lib = dlopen(f->path, RTLD_NOW | RTLD_LOCAL);
  if (!f->lib) fprintf(stderr, "dlopen: %s\n", dlerror());
  assert_non_null(f->lib);
  mlc_abi_model_get_fn get = (mlc_abi_model_get_fn)dlsym(f->lib, "mlc_model_get");
  assert_non_null(get);
  const mlc_abi_model_t *m = get();
  assert_int_equal(m->abi_version, MLC_ABI_VERSION);
  assert_int_equal(m->struct_size, sizeof(mlc_abi_model_t));
  return m;
}

/* parallel_for that runs single tiles in reverse order and counts calls. */
typedef struct cg_pool { int calls; int64_t tiles; } cg_pool_t;
static inline void cg_reverse_for(void *pool, int64_t n, mlc_abi_task_fn fn, void *ctx) {
  cg_pool_t *p = pool;
  p->calls++;
  for (int64_t i = n - 1; i >= 0; i--) {
    fn(ctx, i, i + 1);
    p->tiles++;
  }
}

static inline size_t cg_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static inline char *cg_read_file(const char *path, size_t *out_n) {
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
  buf[n] = 0;
  fclose(fp);
  if (out_n) *out_n = (size_t)n;
  return buf;
}

#endif
