/* Pass pipelines and the runner.  The default pipeline is an explicit
 * array read top to bottom; the runner applies --print-after,
 * --verify-each and --time-passes uniformly (mlc_pass_step, which the tile
 * pass runner in tile_pipeline.c shares). */
#include <string.h>
#include <time.h>

#include "passes/pass.h"

static const mlc_pass_t *const pipeline_o0[] = {
    &mlc_pass_infer_shapes,
    &mlc_pass_dce,
    &mlc_pass_materialize_outputs,
    &mlc_pass_plan_memory,
};

static const mlc_pass_t *const pipeline_o2[] = {
    &mlc_pass_infer_shapes,
    &mlc_pass_fold_constants,
    &mlc_pass_gemm_layout,
    &mlc_pass_fold_constants, /* computes Pack of constant weights */
    &mlc_pass_dce,
    &mlc_pass_fuse,
    &mlc_pass_materialize_outputs,
    &mlc_pass_plan_memory,
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

mlc_status_t *mlc_pipeline_default(const mlc_pass_ctx_t *ctx,
                                   const mlc_pass_t *const **out_passes,
                                   size_t *out_count) {
  if (ctx->opt_level <= 0) {
    *out_passes = pipeline_o0;
    *out_count = COUNT(pipeline_o0);
  } else {
    *out_passes = pipeline_o2;
    *out_count = COUNT(pipeline_o2);
  }
  return NULL;
}

const mlc_pass_t *mlc_pass_find(const char *name) {
  for (size_t i = 0; i < COUNT(pipeline_o2); i++)
    if (strcmp(pipeline_o2[i]->name, name) == 0) return pipeline_o2[i];
  return NULL;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

mlc_status_t *mlc_pass_step(mlc_pass_ctx_t *ctx, const char *name,
                            mlc_status_t *(*run)(mlc_pass_ctx_t *ctx,
                                                 const void *pass, void *ir),
                            const void *pass, void *ir,
                            const mlc_pass_ir_t *how) {
  double t0 = now_ms();
  MLC_RETURN_IF_ERROR(run(ctx, pass, ir), "pass %s", name);
  double t1 = now_ms();
  if (ctx->time_passes)
    fprintf(ctx->diag ? ctx->diag : stderr, "time: %-22s %9.3f ms\n", name,
            t1 - t0);
  if (ctx->verify_each)
    MLC_RETURN_IF_ERROR(how->verify(ir), "verifying after pass %s", name);
  if (ctx->print_after && (strcmp(ctx->print_after, "all") == 0 ||
                           strcmp(ctx->print_after, name) == 0)) {
    FILE *pout = ctx->print_out ? ctx->print_out : stderr;
    fprintf(pout, "// after %s\n", name);
    how->print(ir, pout);
  }
  return NULL;
}

static mlc_status_t *run_graph_pass(mlc_pass_ctx_t *ctx, const void *pass,
                                    void *g) {
  return ((const mlc_pass_t *)pass)->run(ctx, g);
}

static mlc_status_t *verify_graph(const void *g) { return mlc_graph_verify(g); }
static void print_graph(const void *g, FILE *out) { mlc_graph_print(g, out); }

mlc_status_t *mlc_pipeline_run(mlc_pass_ctx_t *ctx,
                               const mlc_pass_t *const *passes, size_t n,
                               mlc_graph_t *g) {
  const mlc_pass_ir_t how = {verify_graph, print_graph};
  for (size_t i = 0; i < n; i++)
    MLC_RETURN_IF(mlc_pass_step(ctx, passes[i]->name, run_graph_pass, passes[i],
                                g, &how));
  return NULL;
}
