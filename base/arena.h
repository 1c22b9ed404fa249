/* A bump allocator.  IR objects (graphs, kernels) live in an arena owned by
 * their container and are freed all at once with mlc_arena_deinit().
 * Allocation returns NULL when the heap is exhausted; callers turn that into
 * an MLC_OUT_OF_MEMORY status.  Memory is zero-filled. */
#ifndef MLC_BASE_ARENA_H
#define MLC_BASE_ARENA_H

#include <stddef.h>

typedef struct mlc_arena_block mlc_arena_block_t;

typedef struct mlc_arena {
  mlc_arena_block_t *head;
  size_t block_size;   /* default size of new blocks */
  size_t bytes_in_use; /* total allocated from the heap, for statistics */
} mlc_arena_t;

void mlc_arena_init(mlc_arena_t *a);
void mlc_arena_deinit(mlc_arena_t *a);

/* Zero-filled, aligned to 16 bytes (or `align` if larger, power of two). */
void *mlc_arena_alloc(mlc_arena_t *a, size_t size);
void *mlc_arena_alloc_aligned(mlc_arena_t *a, size_t size, size_t align);
/* Array allocation with overflow check; NULL on overflow. */
void *mlc_arena_calloc(mlc_arena_t *a, size_t n, size_t elem_size);
char *mlc_arena_strdup(mlc_arena_t *a, const char *s);
char *mlc_arena_strndup(mlc_arena_t *a, const char *s, size_t n);
char *mlc_arena_printf(mlc_arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *mlc_arena_memdup(mlc_arena_t *a, const void *p, size_t size);

#endif
