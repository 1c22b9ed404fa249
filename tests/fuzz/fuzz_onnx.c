/* libFuzzer target: the ONNX importer followed by the default pass
 * pipeline (infer-shapes, fold-constants, dce, fuse, materialize-outputs,
 * plan-memory), so mutated models also exercise shape inference and
 * folding.  External data resolves against an empty temporary folder, so
 * no fuzz input can make the importer read files of the machine.  A
 * failure must be a status with a message; anything else (a crash, a
 * sanitizer report, a leak, a hang) is a bug. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"

static char empty_dir[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  strcpy(empty_dir, "/tmp/mlc_fuzz_onnx_XXXXXX");
  if (!mkdtemp(empty_dir)) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Alternate opt levels on a bit of the size so both pipelines run. */
  mlc_status_t *st = fz_import_optimize(data, size, empty_dir,
                                        (size & 1) ? 0 : 2);
  if (st) {
    const char *msg = mlc_status_message(st);
    if (!msg || !*msg) abort();
    mlc_status_free(st);
  }
  return 0;
}
