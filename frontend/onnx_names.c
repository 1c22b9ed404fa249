/* A small open-addressing hash table from names to pointers, used while
 * importing a graph to resolve value names.  Keys are borrowed (they point
 * into the unpacked proto, which outlives the table). */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_internal.h"

static size_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

void mlc_onnx_names_deinit(mlc_onnx_names_t *t) {
  free(t->keys);
  free(t->vals);
  memset(t, 0, sizeof *t);
}

static bool grow(mlc_onnx_names_t *t) {
  size_t cap = t->cap ? t->cap * 2 : 64;
  const char **keys = calloc(cap, sizeof *keys);
  void **vals = calloc(cap, sizeof *vals);
  if (!keys || !vals) {
    free(keys);
    free(vals);
    return false;
  }
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->keys[i]) continue;
    size_t j = hash_str(t->keys[i]) & (cap - 1);
    while (keys[j]) j = (j + 1) & (cap - 1);
    keys[j] = t->keys[i];
    vals[j] = t->vals[i];
  }
  free(t->keys);
  free(t->vals);
  t->keys = keys;
  t->vals = vals;
  t->cap = cap;
  return true;
}

bool mlc_onnx_names_put(mlc_onnx_names_t *t, const char *key, void *val) {
  if ((t->len + 1) * 2 > t->cap && !grow(t)) return false;
  size_t j = hash_str(key) & (t->cap - 1);
  while (t->keys[j] && strcmp(t->keys[j], key) != 0) j = (j + 1) & (t->cap - 1);
  if (!t->keys[j]) t->len++;
  t->keys[j] = key;
  t->vals[j] = val;
  return true;
}

void *mlc_onnx_names_get(const mlc_onnx_names_t *t, const char *key) {
  if (!t->cap || !key) return NULL;
  size_t j = hash_str(key) & (t->cap - 1);
  while (t->keys[j]) {
    if (strcmp(t->keys[j], key) == 0) return t->vals[j];
    j = (j + 1) & (t->cap - 1);
  }
  return NULL;
}
