/* The static path: the model library is linked into this program at build
 * time (no dlopen); its generated header declares <name>_model_get(), and
 * mlcrt_model_from_descriptor() wraps that descriptor.  A side weights file,
 * if the model has one, is looked up in WEIGHTS_DIR (default ".").
 *
 *     embed_static [WEIGHTS_DIR [IMAGES.npy LABELS.npy]]
 *
 * Built by CMake only when MLC_EMBED_MODEL names a compiled model library
 * (see CMakeLists.txt), which sets MLC_MODEL_HEADER and MLC_MODEL_GET.
 */
#include <stdio.h>

#include <mlc/mlcrt.h>

#include MLC_MODEL_HEADER

#include "eval.h"

int main(int argc, char **argv) {
  if (argc != 1 && argc != 2 && argc != 4) {
    fprintf(stderr, "usage: %s [WEIGHTS_DIR [IMAGES.npy LABELS.npy]]\n",
            argv[0]);
    return 2;
  }
  mlcrt_model_t *model = NULL;
  mlcrt_status_t *st = mlcrt_model_from_descriptor(
      MLC_MODEL_GET(), argc > 1 ? argv[1] : NULL, &model);
  if (st) {
    fprintf(stderr, "error: %s\n", mlcrt_status_message(st));
    mlcrt_status_free(st);
    return 1;
  }
  embed_describe(model, stdout);
  int rc = argc == 4 ? embed_evaluate(model, argv[2], argv[3]) : 0;
  mlcrt_model_release(model);
  return rc;
}
