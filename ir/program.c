/* Lowered programs: printing, verification, teardown, weights packing.
 * See program.h (the parser is in tile_parse.c). */
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

void mlc_program_print(const mlc_program_t *p, FILE *out) {
  for (size_t i = 0; i < p->kernels.len; i++) {
    if (i) fputc('\n', out);
    mlc_tkernel_print(p->kernels.data[i], out);
  }
}

/* Kernel i's `shares`: an earlier kernel that shares nothing and is the same. */
static mlc_status_t *check_shares(const mlc_program_t *p, size_t i) {
  const mlc_tkernel_t *k = p->kernels.data[i];
  for (size_t j = 0; j < i; j++) {
    const mlc_tkernel_t *o = p->kernels.data[j];
    if (strcmp(o->name, k->shares) != 0) continue;
    if (o->shares)
      return MLC_ERR(INTERNAL, "kernel %s shares %s, which shares %s itself",
                     k->name, o->name, o->shares);
    if (!mlc_tkernel_same(o, k))
      return MLC_ERR(INTERNAL, "kernel %s shares %s but differs from it",
                     k->name, o->name);
    return NULL;
  }
  return MLC_ERR(INTERNAL, "kernel %s shares %s, which is not an earlier kernel",
                 k->name, k->shares);
}

mlc_status_t *mlc_program_verify(const mlc_program_t *p) {
  for (size_t i = 0; i < p->kernels.len; i++) {
    const mlc_tkernel_t *k = p->kernels.data[i];
    MLC_RETURN_IF(mlc_tkernel_verify(k));
    for (size_t j = 0; j < i; j++)
      if (strcmp(p->kernels.data[j]->name, k->name) == 0)
        return MLC_ERR(INTERNAL, "kernels %zu and %zu are both named %s", j, i,
                       k->name);
    if (k->shares) MLC_RETURN_IF(check_shares(p, i));
  }
  return NULL;
}
