/* The tile pass pipeline and its runner (see tile_pass.h).  Every opt
 * level runs the same list today: register-block decides the register
 * tiles of the GEMM kernels (before dedupe, which compares the blocked
 * kernels); dedupe-kernels only saves compile time and code size, so -O0
 * gets it too (the LLVM backend deduplicated at every level before the
 * pass existed). */
#include <string.h>

#include "passes/tile_pass.h"

static const mlc_tpass_t *const pipeline[] = {
    &mlc_tpass_register_block,
    &mlc_tpass_dedupe_kernels,
    &mlc_tpass_plan_threads,
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

mlc_status_t *mlc_tpipeline_default(const mlc_pass_ctx_t *ctx,
                                    const mlc_tpass_t *const **out_passes,
                                    size_t *out_count) {
  (void)ctx;
  *out_passes = pipeline;
  *out_count = COUNT(pipeline);
  return NULL;
}

const mlc_tpass_t *const *mlc_tpass_all(size_t *out_count) {
  *out_count = COUNT(pipeline);
  return pipeline;
}

const mlc_tpass_t *mlc_tpass_find(const char *name) {
  for (size_t i = 0; i < COUNT(pipeline); i++)
    if (strcmp(pipeline[i]->name, name) == 0) return pipeline[i];
  return NULL;
}

static mlc_status_t *run_tile_pass(mlc_pass_ctx_t *ctx, const void *pass,
                                   void *ir) {
  const mlc_tpass_t *tp = pass;
  mlc_program_t *p = ir;
  if (tp->run) return tp->run(ctx, p);
  for (size_t i = 0; i < p->kernels.len; i++)
    MLC_RETURN_IF_ERROR(tp->run_kernel(ctx, p->kernels.data[i]), "kernel %s",
                        p->kernels.data[i]->name);
  return NULL;
}

static mlc_status_t *verify_program(const void *p) { return mlc_program_verify(p); }
static void print_program(const void *p, FILE *out) { mlc_program_print(p, out); }

mlc_status_t *mlc_tpipeline_run(mlc_pass_ctx_t *ctx,
                                const mlc_tpass_t *const *passes, size_t n,
                                mlc_program_t *p) {
  const mlc_pass_ir_t how = {verify_program, print_program};
  for (size_t i = 0; i < n; i++)
    MLC_RETURN_IF(mlc_pass_step(ctx, passes[i]->name, run_tile_pass, passes[i],
                                p, &how));
  return NULL;
}

mlc_status_t *mlc_tpipeline_run_default(mlc_pass_ctx_t *ctx, mlc_program_t *p) {
  const mlc_tpass_t *const *passes;
  size_t n;
  MLC_RETURN_IF(mlc_tpipeline_default(ctx, &passes, &n));
  return mlc_tpipeline_run(ctx, passes, n, p);
}
