/* Growth for MLC_VEC: doubling, with overflow checks.  See vec.h. */
#include "base/vec.h"

#include <stdint.h>
#include <stdlib.h>

bool mlc_vec_grow_(void **data, size_t *cap, size_t need, size_t elem) {
  size_t n = *cap ? *cap : 8;
  while (n < need) {
    if (n > SIZE_MAX / 2) return false;
    n *= 2;
  }
  if (n > SIZE_MAX / elem) return false;
  void *p = realloc(*data, n * elem);
  if (!p) return false;
  *data = p;
  *cap = n;
  return true;
}
