/* A lowered program: the graph (with storage planned) and its kernels in
 * execution order.  This is what a backend consumes: the host plan is the
 * kernel sequence, each kernel's buffers say where their bytes live
 * (input, output, weights blob + offset, arena + offset), and the weights
 * blob is every WEIGHT-stored constant of the graph at its offset. */
#ifndef MLC_IR_PROGRAM_H
#define MLC_IR_PROGRAM_H

#include "base/vec.h"
#include "ir/graph.h"
#include "ir/tile.h"

typedef struct mlc_program {
  mlc_graph_t *graph;               /* borrowed */
  MLC_VEC(mlc_tkernel_t *) kernels; /* owned, execution order */
  int64_t arena_bytes;              /* session scratch size */
  int64_t weights_bytes;            /* blob size */
} mlc_program_t;

/* The kernels in order, each as mlc_tkernel_print writes it, separated by
 * blank lines: the text of `--emit tile` and of --print-after for tile
 * passes. */
void mlc_program_print(const mlc_program_t *p, FILE *out);
/* Parses that text (tile_parse.c) into *out: kernels only (graph NULL,
 * sizes 0).  Kernel names must be unique and `shares` must name an
 * earlier kernel.  On error *out is empty. */
mlc_status_t *mlc_program_parse(const char *text, size_t len, mlc_program_t *out);
/* mlc_tkernel_verify on every kernel, kernel names unique, and each
 * `shares` naming an earlier kernel that shares nothing itself and is
 * mlc_tkernel_same as the sharer.  Errors are MLC_INTERNAL. */
mlc_status_t *mlc_program_verify(const mlc_program_t *p);
/* Destroys the kernels; the graph is not touched. */
void mlc_program_deinit(mlc_program_t *p);
/* Writes the weights blob (weights_bytes long) into `dst`: each constant
 * with WEIGHT storage copied to its offset, padding zeroed. */
void mlc_program_pack_weights(const mlc_program_t *p, void *dst);
/* FNV-1a 64 over `n` bytes: the weights_hash of the model ABI. */
uint64_t mlc_fnv1a64(const void *data, size_t n);

#endif
