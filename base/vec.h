/* The one growable-array helper: a typed vector of T on the heap.
 *
 *   MLC_VEC(int) v = {0};
 *   if (!MLC_VEC_PUSH(&v, 42)) return out_of_memory;
 *   for (size_t i = 0; i < v.len; i++) use(v.data[i]);
 *   MLC_VEC_FREE(&v);
 *
 * PUSH evaluates to true on success, false when the heap is exhausted (the
 * vector is unchanged then). */
#ifndef MLC_BASE_VEC_H
#define MLC_BASE_VEC_H

#include <stdbool.h>
#include <stddef.h>

#define MLC_VEC(T) struct { T *data; size_t len, cap; }

bool mlc_vec_grow_(void **data, size_t *cap, size_t need, size_t elem);

#define MLC_VEC_RESERVE(v, n)                                              \
  ((n) <= (v)->cap ||                                                      \
   mlc_vec_grow_((void **)&(v)->data, &(v)->cap, (n), sizeof *(v)->data))

#define MLC_VEC_PUSH(v, x)                                                 \
  (MLC_VEC_RESERVE((v), (v)->len + 1) ? ((v)->data[(v)->len++] = (x), true) \
                                      : false)

#define MLC_VEC_FREE(v)                                                    \
  do {                                                                     \
    free((v)->data);                                                       \
    (v)->data = NULL;                                                      \
    (v)->len = (v)->cap = 0;                                               \
  } while (0)

#endif
