/* Lowered programs: teardown, weights packing.  See program.h. */
#include "ir/program.h"

#include <stdlib.h>
#include <string.h>

void mlc_program_deinit(mlc_program_t *p) {
  for (size_t i = 0; i < p->kernels.len; i++)
    mlc_tkernel_destroy(p->kernels.data[i]);
  MLC_VEC_FREE(&p->kernels);
}

void mlc_program_pack_weights(const mlc_program_t *p, void *dst) {
  memset(dst, 0, (size_t)p->weights_bytes);
  const mlc_graph_t *g = p->graph;
  for (size_t i = 0; i < g->values.len; i++) {
    const mlc_value_t *v = g->values.data[i];
    if (v->storage.kind != MLC_STORAGE_WEIGHT || !v->data) continue;
    int64_t n = mlc_value_nbytes(v);
    if (n > 0) memcpy((char *)dst + v->storage.offset, v->data, (size_t)n);
  }
}

uint64_t mlc_fnv1a64(const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t h = 14695981039346656037ull; /* FNV-1a 64 offset basis */
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}
