/* The ONNX importer: ModelProto (protobuf-c) -> graph IR.
 *
 * Imports graph inputs (those that are not initializers), outputs,
 * initializers (raw_data and every typed field, every numeric dtype;
 * external data relative to the model's folder, read with mmap),
 * attributes of every kind, opset imports and value_info, keeping
 * symbolic dims (dim_param) as symbolic.  Each ONNX node maps to core ops
 * through a table keyed by op type and opset (frontend/onnx_ops.c);
 * Constant nodes become constant values.
 *
 * Errors name the node (name, op type, input index) and the reason; all
 * unsupported ops of a model are reported in one status, e.g.
 *   "unsupported ops (3 nodes): NonMaxSuppression (node 'nms_1'), ..."
 */
#ifndef MLC_FRONTEND_ONNX_H
#define MLC_FRONTEND_ONNX_H

#include <stddef.h>

#include "base/status.h"
#include "ir/graph.h"

typedef struct mlc_import_options {
  /* Folder that external data locations are relative to; NULL: the
   * model file's folder (or the current folder for buffers). */
  const char *base_dir;
} mlc_import_options_t;

mlc_status_t *mlc_onnx_import_file(const char *path,
                                   const mlc_import_options_t *opts,
                                   mlc_graph_t **out_graph);
mlc_status_t *mlc_onnx_import_buffer(const void *data, size_t len,
                                     const mlc_import_options_t *opts,
                                     mlc_graph_t **out_graph);

/* TensorProto files (the node suite's input_K.pb / output_K.pb, and
 * `mlc run --output-format pb`).  Reading gives a tensor whose dims and
 * data are malloc'ed (free with mlc_tensor_free); writing packs `t`. */
mlc_status_t *mlc_onnx_read_tensor_file(const char *path, char **out_name,
                                        mlc_tensor_t **out_tensor);
mlc_status_t *mlc_onnx_write_tensor_file(const char *path, const char *name,
                                         const mlc_tensor_t *t);
void mlc_tensor_free(mlc_tensor_t *t);

#endif
