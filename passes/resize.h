/* Resize geometry, shared by its shape rule (infer_resize.c) and its
 * lowering (lower_resize.c). */
#ifndef MLC_PASSES_RESIZE_H
#define MLC_PASSES_RESIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "ir/graph.h"

#define MLC_RESIZE_MAX_RANK 12

/* Per axis: output size, whether it is resized, and the coordinate map
 * x_original = ((x_resized * mul + add) / div) - sub (evaluated in f64 in
 * that order, so the rounding matches the ONNX formulas). */
typedef struct mlc_resize_geom {
  int rank;
  int64_t in[MLC_RESIZE_MAX_RANK], out[MLC_RESIZE_MAX_RANK];
  bool resized[MLC_RESIZE_MAX_RANK];
  double mul[MLC_RESIZE_MAX_RANK], add[MLC_RESIZE_MAX_RANK];
  double div[MLC_RESIZE_MAX_RANK], sub[MLC_RESIZE_MAX_RANK];
} mlc_resize_geom_t;

/* Fills g from n (Resize: X, roi?, scales?, sizes?; axes,
 * keep_aspect_ratio_policy, coordinate_transformation_mode) and x's
 * static dims.  Returns NULL or a static message; *unsupported is set
 * when the message is about a form mlc does not handle (scales and sizes
 * not constant, tf_crop_and_resize) rather than an invalid node. */
const char *mlc_resize_geometry(const mlc_node_t *n, mlc_resize_geom_t *g,
                                bool *unsupported);

#endif
