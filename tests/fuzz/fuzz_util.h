/* Shared by the libFuzzer targets and the hostile-model test: import an
 * ONNX image and run the default pass pipeline on it, the way
 * `mlc compile` does before code generation.  Symbolic input dims are
 * left symbolic (the CLI binds them to 1; the passes must cope either
 * way).  Assumes the "host" target can always be looked up. */
#ifndef MLC_TESTS_FUZZ_UTIL_H
#define MLC_TESTS_FUZZ_UTIL_H

#include <stddef.h>

#include "frontend/onnx.h"
#include "ir/target.h"
#include "passes/pass.h"

/* Imports `buf` (external data relative to `base_dir`) and runs the
 * default pipeline at `opt_level`.  NULL on success; the graph is always
 * released. */
static inline mlc_status_t *fz_import_optimize(const void *buf, size_t len,
                                               const char *base_dir,
                                               int opt_level) {
  mlc_import_options_t io = {.base_dir = base_dir};
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_onnx_import_buffer(buf, len, &io, &g);
  if (st) return st;
  mlc_target_t target;
  st = mlc_target_lookup("host", NULL, &target);
  if (!st) {
    mlc_pass_ctx_t ctx = {.target = &target, .opt_level = opt_level};
    const mlc_pass_t *const *passes;
    size_t n;
    st = mlc_pipeline_default(&ctx, &passes, &n);
    if (!st) st = mlc_pipeline_run(&ctx, passes, n, g);
  }
  mlc_graph_destroy(g);
  return st;
}

#endif
