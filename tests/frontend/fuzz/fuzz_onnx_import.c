/* libFuzzer target for the ONNX importer: any byte string must import or
 * fail with a status, never crash, leak or read out of bounds.  Not part
 * of the CMake build (it needs clang's -fsanitize=fuzzer); see
 * docs/frontend.md for the command line. */
#include <stddef.h>
#include <stdint.h>

#include "frontend/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlc_graph_t *g = NULL;
  mlc_status_t *st = mlc_onnx_import_buffer(data, size, NULL, &g);
  if (st) mlc_status_free(st);
  else mlc_graph_destroy(g);
  return 0;
}
