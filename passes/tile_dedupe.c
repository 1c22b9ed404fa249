/* The dedupe-kernels pass: a kernel that is mlc_tkernel_same as an earlier
 * one (equal up to its name and where its buffers live) gets
 * `shares = <that kernel's name>`, and backends run the earlier kernel's
 * code on its buffers instead of emitting it again.  ResNet-style models
 * repeat the same layer shapes many times, so this roughly halves the code
 * LLVM optimizes.  The shared-with kernel is always the first of its kind,
 * which never shares itself; kernels that already share keep their mark.
 * Shows in `--emit tile` as `grid [..] shares NAME`. */
#include <stdlib.h>

#include "passes/tile_pass.h"

static mlc_status_t *run(mlc_pass_ctx_t *ctx, mlc_program_t *p) {
  (void)ctx;
  size_t n = p->kernels.len;
  uint64_t *hashes = calloc(n + 1, sizeof *hashes);
  if (!hashes) return MLC_ERR(OUT_OF_MEMORY, "dedupe-kernels");
  for (size_t i = 0; i < n; i++) {
    mlc_tkernel_t *k = p->kernels.data[i];
    hashes[i] = mlc_tkernel_hash(k);
    for (size_t j = 0; j < i && !k->shares; j++) {
      const mlc_tkernel_t *o = p->kernels.data[j];
      if (o->shares || hashes[j] != hashes[i] || !mlc_tkernel_same(o, k)) continue;
      if (!(k->shares = mlc_arena_strdup(&k->arena, o->name))) {
        free(hashes);
        return MLC_ERR(OUT_OF_MEMORY, "dedupe-kernels");
      }
    }
  }
  free(hashes);
  return NULL;
}

const mlc_tpass_t mlc_tpass_dedupe_kernels = {
    .name = "dedupe-kernels",
    .summary = "kernels identical but for name and buffer storage share code",
    .run = run,
};
