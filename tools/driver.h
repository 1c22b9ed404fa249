/* The compile driver: import -> passes -> lowering -> backend, with the
 * options of `mlc compile`.  Used by the CLI and by tests. */
#ifndef MLC_TOOLS_DRIVER_H
#define MLC_TOOLS_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "ir/graph.h"

typedef enum mlc_emit {
  MLC_EMIT_KIND_SO, MLC_EMIT_KIND_OBJ, MLC_EMIT_KIND_LLVM, MLC_EMIT_KIND_ASM,
  MLC_EMIT_KIND_GRAPH, MLC_EMIT_KIND_TILE,
} mlc_emit_t;

typedef struct mlc_dim_binding {
  const char *name;
  int64_t value;
} mlc_dim_binding_t;

/* --const NAME=FILE: graph input NAME frozen to the tensor in FILE (.npy
 * or .pb).  mlc compiles static shapes, so inputs that decide shapes
 * (a Reshape's shape, Reduce axes, Pad pads...) must be known at compile
 * time; a frozen input is no longer an input of the compiled model. */
typedef struct mlc_const_binding {
  const char *name;
  const char *path;
} mlc_const_binding_t;

/* --input-shape NAME=AxBx...: the whole shape of graph input NAME, for
 * inputs whose dims have no names (or that declare no shape at all).  A
 * size given for a symbolic dim binds that name as --dim would. */
typedef struct mlc_shape_binding {
  const char *name;
  int rank;
  const int64_t *dims;
} mlc_shape_binding_t;

typedef struct mlc_compile_options {
  const char *model_path;
  const char *output_path;  /* required */
  mlc_emit_t emit;
  int opt_level;            /* 0..3, default 2 */
  const char *target;       /* NULL: "host" */
  const char *cpu;          /* NULL: the target's */
  const char *model_name;   /* NULL: from the output file name */
  const mlc_dim_binding_t *dims; /* --dim NAME=N */
  int ndims;
  const mlc_const_binding_t *consts; /* --const NAME=FILE */
  int nconsts;
  const mlc_shape_binding_t *shapes; /* --input-shape NAME=AxB */
  int nshapes;
  const char *print_after;
  bool verify_each, time_passes;
  bool write_header;        /* <output minus extension>.h beside the output */
  int64_t weights_embed_limit; /* embed weights up to this many bytes, else
                                  write OUT.weights; 0: always the side file;
                                  negative: the default (256 MiB) */
  FILE *diag;               /* notes and warnings; NULL: stderr */
} mlc_compile_options_t;

mlc_status_t *mlc_compile(const mlc_compile_options_t *opts);

/* Imports the model, binds symbolic dims and runs the graph pipeline
 * (for `mlc inspect` and --emit graph).  The caller destroys *out_graph. */
mlc_status_t *mlc_load_graph(const mlc_compile_options_t *opts,
                             bool optimize, mlc_graph_t **out_graph);

#endif
