/* What both embedding programs do once they hold a model: print its tensors
 * and, for a classifier such as the digits demo, measure its accuracy on
 * images and labels read from .npy files. */
#ifndef EMBED_EVAL_H
#define EMBED_EVAL_H

#include <stdio.h>

#include <mlc/mlcrt.h>

/* Prints the model's name, target and every input and output. */
void embed_describe(const mlcrt_model_t *model, FILE *out);

/* Runs the model once per image: input 0 gets image i (float32, the images'
 * shape with the first dim 1), output 0 holds one score per class; prints
 * "accuracy: 0.xxx (n/N)".  Returns 0, or 1 after printing an error. */
int embed_evaluate(const mlcrt_model_t *model, const char *images_path,
                   const char *labels_path);

#endif
