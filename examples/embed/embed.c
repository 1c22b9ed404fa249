/* The embedding example: an application that links only libmlcrt, loads a
 * model library compiled by `mlc compile`, prints its inputs and outputs,
 * and, given images and labels, prints the model's accuracy on them.
 *
 *     embed MODEL.so [IMAGES.npy LABELS.npy]
 *
 * For the digits demo: IMAGES float32 [N,1,8,8], LABELS int64 [N]; input 0
 * is float32[1,1,8,8] and output 0 the float32[1,10] logits.
 */
#include <stdio.h>

#include <mlc/mlcrt.h>

#include "eval.h"

int main(int argc, char **argv) {
  if (argc != 2 && argc != 4) {
    fprintf(stderr, "usage: %s MODEL.so [IMAGES.npy LABELS.npy]\n", argv[0]);
    return 2;
  }
  mlcrt_model_t *model = NULL;
  mlcrt_status_t *st = mlcrt_model_load(argv[1], &model);
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
