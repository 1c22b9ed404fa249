/* Bump allocator over a linked list of heap blocks.  See arena.h. */
#include "base/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mlc_arena_block {
  mlc_arena_block_t *next;
  size_t size, used;
  _Alignas(64) unsigned char data[];
};

void mlc_arena_init(mlc_arena_t *a) {
  a->head = NULL;
  a->block_size = 64 * 1024;
  a->bytes_in_use = 0;
}

void mlc_arena_deinit(mlc_arena_t *a) {
  mlc_arena_block_t *b = a->head;
  while (b) {
    mlc_arena_block_t *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
  a->bytes_in_use = 0;
}

void *mlc_arena_alloc_aligned(mlc_arena_t *a, size_t size, size_t align) {
  if (align < 16) align = 16;
  mlc_arena_block_t *b = a->head;
  if (b) {
    size_t off = (b->used + align - 1) & ~(align - 1);
    if (off <= b->size && size <= b->size - off) {
      b->used = off + size;
      return b->data + off;
    }
  }
  if (size > SIZE_MAX - align - sizeof *b) return NULL;
  size_t cap = size + align;
  if (cap < a->block_size) cap = a->block_size;
  b = calloc(1, sizeof *b + cap);
  if (!b) return NULL;
  b->size = cap;
  b->next = a->head;
  a->head = b;
  a->bytes_in_use += cap;
  size_t off = 0;
  uintptr_t base = (uintptr_t)b->data;
  off = ((base + align - 1) & ~(uintptr_t)(align - 1)) - base;
  b->used = off + size;
  return b->data + off;
}

void *mlc_arena_alloc(mlc_arena_t *a, size_t size) {
  return mlc_arena_alloc_aligned(a, size, 16);
}

void *mlc_arena_calloc(mlc_arena_t *a, size_t n, size_t elem_size) {
  if (elem_size && n > SIZE_MAX / elem_size) return NULL;
  return mlc_arena_alloc(a, n * elem_size);
}

char *mlc_arena_strndup(mlc_arena_t *a, const char *s, size_t n) {
  char *p = mlc_arena_alloc(a, n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = 0;
  }
  return p;
}

char *mlc_arena_strdup(mlc_arena_t *a, const char *s) {
  return s ? mlc_arena_strndup(a, s, strlen(s)) : NULL;
}

void *mlc_arena_memdup(mlc_arena_t *a, const void *p, size_t size) {
  void *q = mlc_arena_alloc_aligned(a, size ? size : 1, 64);
  if (q && size) memcpy(q, p, size);
  return q;
}

char *mlc_arena_printf(mlc_arena_t *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = n < 0 ? NULL : mlc_arena_alloc(a, (size_t)n + 1);
  if (p) vsnprintf(p, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return p;
}
