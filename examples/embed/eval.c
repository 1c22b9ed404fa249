/* Describing a model and measuring a classifier's accuracy (see eval.h),
 * using nothing but the public runtime API and the small .npy reader.
 * The session is created once; each image is bound in place (no copy) with
 * the checked bind, so a data set of the wrong shape is reported by the
 * runtime with the dim that differs.
 */
#include "eval.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

static void print_tensor(FILE *out, const char *kind, int32_t i,
                         const mlcrt_tensor_info_t *t) {
  fprintf(out, "  %s %d '%s': %s[", kind, i, t->name,
          mlcrt_dtype_name(t->dtype));
  for (int32_t d = 0; d < t->rank; d++) {
    const char *sym = t->dim_names ? t->dim_names[d] : NULL;
    fprintf(out, "%s%s%s%lld", d ? "," : "", sym ? sym : "", sym ? "=" : "",
            (long long)t->dims[d]);
  }
  fprintf(out, "] (%zu bytes)\n", t->nbytes);
}

void embed_describe(const mlcrt_model_t *model, FILE *out) {
  fprintf(out, "model '%s', target %s, arena %zu bytes\n",
          mlcrt_model_name(model), mlcrt_model_target(model),
          mlcrt_model_arena_bytes(model));
  mlcrt_tensor_info_t t;
  for (int32_t i = 0; i < mlcrt_model_num_inputs(model); i++)
    if (!mlcrt_model_input_info(model, i, &t)) print_tensor(out, "input", i, &t);
  for (int32_t i = 0; i < mlcrt_model_num_outputs(model); i++)
    if (!mlcrt_model_output_info(model, i, &t))
      print_tensor(out, "output", i, &t);
}

/* Prints and frees st; returns 1 (for `return report(st)`). */
static int report(mlcrt_status_t *st) {
  fprintf(stderr, "error: %s\n", mlcrt_status_message(st));
  mlcrt_status_free(st);
  return 1;
}

static int argmax(const float *v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return (int)best;
}

/* Checks the data sets against each other and the model's output. */
static int check_data(const embed_npy_t *img, const embed_npy_t *lab,
                      const mlcrt_tensor_info_t *out) {
  if (strcmp(img->descr, "<f4") != 0 || img->rank < 1) {
    fprintf(stderr, "error: images must be float32 [N,...], got %s rank %d\n",
            img->descr, img->rank);
    return 1;
  }
  if (strcmp(lab->descr, "<i8") != 0 || lab->rank != 1 ||
      lab->dims[0] != img->dims[0]) {
    fprintf(stderr, "error: labels must be int64 [%lld], got %s rank %d\n",
            (long long)img->dims[0], lab->descr, lab->rank);
    return 1;
  }
  if (out->dtype != MLCRT_FLOAT32 || out->nbytes < 4) {
    fprintf(stderr, "error: output 0 '%s' is not float32 scores\n",
            out->name);
    return 1;
  }
  return 0;
}

/* Runs every image and counts the correct predictions. */
static mlcrt_status_t *classify(mlcrt_session_t *s, const embed_npy_t *img,
                                const int64_t *labels, float *scores,
                                size_t nscores, int64_t *correct) {
  int64_t n = img->dims[0];
  size_t per_image = img->nbytes / (size_t)(n ? n : 1);
  int64_t dims[EMBED_NPY_MAX_RANK];
  memcpy(dims, img->dims, sizeof dims);
  dims[0] = 1;
  mlcrt_status_t *st = mlcrt_session_bind_output(s, 0, scores, nscores * 4);
  for (int64_t i = 0; i < n && !st; i++) {
    const char *x = (const char *)img->data + (size_t)i * per_image;
    st = mlcrt_session_bind_input_checked(s, 0, x, per_image, MLCRT_FLOAT32,
                                          img->rank, dims);
    if (!st) st = mlcrt_session_run(s);
    if (!st && argmax(scores, nscores) == labels[i]) (*correct)++;
  }
  return st;
}

static int evaluate(const mlcrt_model_t *model, const embed_npy_t *img,
                    const embed_npy_t *lab) {
  mlcrt_tensor_info_t out;
  mlcrt_status_t *st = mlcrt_model_output_info(model, 0, &out);
  if (st) return report(st);
  if (check_data(img, lab, &out)) return 1;
  size_t nscores = out.nbytes / 4;
  float *scores = malloc(out.nbytes);
  mlcrt_session_t *s = NULL;
  if (!scores) return fputs("error: out of memory\n", stderr), 1;
  st = mlcrt_session_create(model, NULL, &s);
  int64_t correct = 0, n = img->dims[0];
  if (!st) st = classify(s, img, lab->data, scores, nscores, &correct);
  mlcrt_session_release(s);
  free(scores);
  if (st) return report(st);
  printf("accuracy: %.3f (%lld/%lld)\n", n ? (double)correct / (double)n : 0.0,
         (long long)correct, (long long)n);
  return 0;
}

int embed_evaluate(const mlcrt_model_t *model, const char *images_path,
                   const char *labels_path) {
  char err[512];
  embed_npy_t img, lab;
  if (embed_npy_read(images_path, &img, err, sizeof err) != 0) {
    fprintf(stderr, "error: %s\n", err);
    return 1;
  }
  if (embed_npy_read(labels_path, &lab, err, sizeof err) != 0) {
    fprintf(stderr, "error: %s\n", err);
    embed_npy_free(&img);
    return 1;
  }
  int rc = evaluate(model, &img, &lab);
  embed_npy_free(&img);
  embed_npy_free(&lab);
  return rc;
}
