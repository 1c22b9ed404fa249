/* Summaries of a graph for `mlc inspect`: op histogram, parameter count,
 * FLOPs estimate and a Graphviz rendering.  They read the graph only and
 * need nothing beyond ir/, so tests build graphs by hand. */
#ifndef MLC_TOOLS_GRAPH_STATS_H
#define MLC_TOOLS_GRAPH_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "ir/graph.h"

/* "f32 [N, 3, 224, 224]": symbolic dims by name, unknown ones as '?'. */
void mlc_stats_format_value(const mlc_value_t *v, char *buf, size_t cap);

/* Prints "  <count>  <op>" lines, most frequent first (ties by name), with
 * the ONNX op type each node was imported from (node->onnx_op, else the
 * core op name).  Returns the number of live nodes. */
int mlc_stats_print_histogram(const mlc_graph_t *g, FILE *out);

/* Elements of every constant value (initializers, Constant nodes). */
int64_t mlc_stats_param_count(const mlc_graph_t *g, int64_t *out_bytes);

/* Estimated FLOPs: 2*MACs for MatMul, Gemm and Conv, one per output
 * element for elementwise ops; other ops count 0.  *out_unknown counts
 * counted-kind nodes skipped because a shape was unknown. */
int64_t mlc_stats_flops(const mlc_graph_t *g, int *out_unknown);

/* A Graphviz digraph: graph inputs and outputs as ellipses, nodes as
 * boxes labelled with op type and name, edges labelled with value shapes
 * (the value's name where its rank is unknown).
 * Constants (initializers, and values whose producer was folded away)
 * are left out to keep large models readable. */
void mlc_stats_print_dot(const mlc_graph_t *g, FILE *out);

#endif
