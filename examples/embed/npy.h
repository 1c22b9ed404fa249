/* A minimal reader for NumPy .npy files (format versions 1-3): little-endian
 * or byte-sized dtypes, C order, any rank up to 8.  Enough for the example's
 * images and labels; not a general NumPy loader. */
#ifndef EMBED_NPY_H
#define EMBED_NPY_H

#include <stddef.h>
#include <stdint.h>

#define EMBED_NPY_MAX_RANK 8

typedef struct embed_npy {
  char descr[8];    /* e.g. "<f4", "<i8", "|u1" */
  int rank;
  int64_t dims[EMBED_NPY_MAX_RANK];
  size_t elem_size; /* from descr */
  size_t nbytes;    /* product of dims * elem_size */
  void *data;       /* malloc'd, nbytes */
} embed_npy_t;

/* Reads `path` into `out`.  Returns 0, or -1 with a message in err. */
int embed_npy_read(const char *path, embed_npy_t *out, char *err,
                   size_t err_len);
void embed_npy_free(embed_npy_t *npy);

#endif
