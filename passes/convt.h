/* ConvTranspose geometry, shared by its shape rule (infer_convt.c) and its
 * lowering (lower_convt.c) so the two can never disagree. */
#ifndef MLC_PASSES_CONVT_H
#define MLC_PASSES_CONVT_H

#include <stdint.h>

#include "ir/graph.h"

#define MLC_CONVT_MAX_SPATIAL 8

typedef struct mlc_convt_geom {
  int ns; /* spatial dims */
  int64_t in[MLC_CONVT_MAX_SPATIAL], kern[MLC_CONVT_MAX_SPATIAL];
  int64_t stride[MLC_CONVT_MAX_SPATIAL], dil[MLC_CONVT_MAX_SPATIAL];
  int64_t pb[MLC_CONVT_MAX_SPATIAL], pe[MLC_CONVT_MAX_SPATIAL];
  int64_t out[MLC_CONVT_MAX_SPATIAL];
} mlc_convt_geom_t;

/* Fills strides, dilations, pads and output sizes of g from n's
 * attributes (g->ns, in and kern set by the caller), per the ONNX
 * formulas: explicit pads, output_shape (pads derived from it), or
 * SAME_UPPER/SAME_LOWER (output = input * stride).  Returns NULL, or a
 * static message describing the bad attribute. */
const char *mlc_convt_geometry(const mlc_node_t *n, mlc_convt_geom_t *g);

#endif
