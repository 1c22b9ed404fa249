/* Host tensors and the NumPy .npy format, for `mlc run` and `mlc bench`.
 *
 * A host tensor is a packed, little-endian, C-order array on the heap.
 * The .npy reader accepts format versions 1.0, 2.0 and 3.0, little-endian
 * (or byte-order-free) dtypes <f2 <f4 <f8 <i1..<i8 <u1..<u8 |b1 and C
 * order; everything else is an error that names the file and the reason,
 * never a crash.  The writer emits version 1.0 (2.0 when the header does
 * not fit) with the header padded to a multiple of 64 bytes. */
#ifndef MLC_TOOLS_NPY_H
#define MLC_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "ir/dtype.h"

#define MLC_HOST_MAX_RANK 32

typedef struct mlc_host_tensor {
  mlc_dtype_t dtype;
  int rank;
  int64_t dims[MLC_HOST_MAX_RANK];
  void *data; /* malloc'ed, nbytes long (may be NULL when nbytes is 0) */
  size_t nbytes;
} mlc_host_tensor_t;

/* Frees the data and zeroes the struct. */
void mlc_host_tensor_free(mlc_host_tensor_t *t);
/* Elements of a shape; -1 on a negative dim or overflow. */
int64_t mlc_shape_numel(int rank, const int64_t *dims);
/* "[2, 3, 4]" into buf. */
void mlc_shape_format(int rank, const int64_t *dims, char *buf, size_t cap);

/* The npy dtype string ("<f4", "|b1") of a dtype, or NULL if none. */
const char *mlc_npy_descr(mlc_dtype_t dt);

/* Parses a whole .npy image.  `what` names it in messages (a path). */
mlc_status_t *mlc_npy_parse(const void *buf, size_t len, const char *what,
                            mlc_host_tensor_t *out);
mlc_status_t *mlc_npy_read_file(const char *path, mlc_host_tensor_t *out);
/* Writes `t` to `f`; `what` names the destination in messages. */
mlc_status_t *mlc_npy_write(FILE *f, const char *what,
                            const mlc_host_tensor_t *t);
mlc_status_t *mlc_npy_write_file(const char *path, const mlc_host_tensor_t *t);

#endif
