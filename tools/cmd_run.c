/* `mlc run`: loads a compiled model with libmlcrt, reads its inputs from
 * .npy/.pb files, runs it once and writes every output to
 * DIR/<name>.npy (or .pb).  Output names are sanitized for the file
 * system; two outputs that sanitize alike get "_<index>" appended.
 * Without --output-dir it prints a summary of each output instead: dtype,
 * shape, min, max and mean (over the finite values; NaNs and infinities
 * are counted) and the first few values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/graph.h"
#include "mlc/mlcrt.h"
#include "tools/cli.h"
#include "tools/npy.h"

enum { SUMMARY_VALUES = 8 };

/* File stem of output `i`: sanitized, made unique among the outputs. */
static mlc_status_t *output_stem(const mlc_cli_session_t *r, int32_t i, char *buf,
                                 size_t cap) {
  mlcrt_tensor_info_t info, other;
  MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_model_output_info(r->model, i, &info)));
  if (!mlc_cli_sanitize_name(info.name, i, buf, cap - 16))
    return MLC_ERR(IO_ERROR, "output '%s': name too long for a file", info.name);
  for (int32_t j = 0; j < i; j++) {
    char prev[512];
    MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_model_output_info(r->model, j, &other)));
    if (mlc_cli_sanitize_name(other.name, j, prev, sizeof prev) &&
        strcmp(prev, buf) == 0) {
      snprintf(buf + strlen(buf), 16, "_%d", (int)i);
      break;
    }
  }
  return NULL;
}

static mlc_status_t *write_outputs(const mlc_cli_run_t *o, mlc_cli_session_t *r) {
  MLC_RETURN_IF(mlc_cli_make_dir(o->output_dir));
  for (int32_t i = 0; i < r->nout; i++) {
    mlcrt_tensor_info_t info;
    char stem[512];
    MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_model_output_info(r->model, i, &info)));
    MLC_RETURN_IF(output_stem(r, i, stem, sizeof stem));
    MLC_RETURN_IF(mlc_cli_write_tensor(o->output_dir, stem, info.name,
                                       o->format, &r->outputs[i]));
  }
  return NULL;
}

/* Refuses up front (before running) an output that .npy cannot hold. */
static mlc_status_t *check_format(const mlc_cli_run_t *o,
                                  const mlc_cli_session_t *r) {
  for (int32_t i = 0; o->format == MLC_OUT_NPY && i < r->nout; i++) {
    const mlc_host_tensor_t *t = &r->outputs[i];
    if (mlc_npy_descr(t->dtype)) continue;
    mlcrt_tensor_info_t info;
    MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_model_output_info(r->model, i, &info)));
    return MLC_ERR(UNSUPPORTED, "output '%s' is %s, which .npy cannot hold; "
                   "use --output-format pb", info.name,
                   t->dtype == MLC_DT_BF16 ? "bfloat16" : mlc_dtype_name(t->dtype));
  }
  return NULL;
}

/* ---- the summary ------------------------------------------------------- */

/* A name from the model: control bytes and bytes that are not UTF-8 as
 * \xNN, so a hostile name cannot drive the terminal. */
static void print_name(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    int len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
              : (*p & 0xf8) == 0xf0 ? 4 : 0;
    bool ok = len > 0 && !(len == 1 && (*p < 0x20 || *p == 0x7f));
    for (int k = 1; ok && k < len; k++) ok = (p[k] & 0xc0) == 0x80;
    if (!ok) {
      printf("\\x%02x", *p++);
      continue;
    }
    fwrite(p, 1, (size_t)len, stdout);
    p += len;
  }
}

/* Element i of t as a double (bools and ints converted). */
static double element(const mlc_host_tensor_t *t, int64_t i) {
  mlc_value_t v = {.dtype = t->dtype, .data = t->data};
  if (t->dtype == MLC_DT_U64) return (double)((const uint64_t *)t->data)[i];
  return mlc_dtype_is_float(t->dtype) ? mlc_value_const_float(&v, i)
                                      : (double)mlc_value_const_int(&v, i);
}

static void print_element(const mlc_host_tensor_t *t, int64_t i) {
  mlc_value_t v = {.dtype = t->dtype, .data = t->data};
  if (mlc_dtype_is_float(t->dtype))
    printf("%.6g", mlc_value_const_float(&v, i));
  else if (t->dtype == MLC_DT_BOOL)
    fputs(mlc_value_const_int(&v, i) ? "true" : "false", stdout);
  else if (t->dtype == MLC_DT_U64)
    printf("%llu", (unsigned long long)((const uint64_t *)t->data)[i]);
  else
    printf("%lld", (long long)mlc_value_const_int(&v, i));
}

/* "min -1, max 3.5, mean 0.25" over the finite values, then the count of
 * NaNs and infinities when there are any. */
static void print_stats(const mlc_host_tensor_t *t, int64_t n) {
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  int64_t finite = 0, nans = 0, infs = 0;
  for (int64_t i = 0; i < n; i++) {
    double x = element(t, i);
    if (isnan(x)) { nans++; continue; }
    if (isinf(x)) { infs++; continue; }
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
    sum += x;
    finite++;
  }
  if (finite) printf("min %.6g, max %.6g, mean %.6g", lo, hi, sum / (double)finite);
  else printf("no finite values");
  if (nans) printf(", %lld NaN", (long long)nans);
  if (infs) printf(", %lld inf", (long long)infs);
}

static mlc_status_t *print_summary(const mlc_cli_session_t *r) {
  for (int32_t i = 0; i < r->nout; i++) {
    const mlc_host_tensor_t *t = &r->outputs[i];
    mlcrt_tensor_info_t info;
    MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_model_output_info(r->model, i, &info)));
    char shape[256];
    mlc_shape_format(t->rank, t->dims, shape, sizeof shape);
    int64_t n = mlc_shape_numel(t->rank, t->dims);
    printf("output '");
    print_name(info.name);
    printf("': %s %s, %lld value%s\n  ", mlcrt_dtype_name(info.dtype), shape,
           (long long)n, n == 1 ? "" : "s");
    if (n <= 0) {
      printf("(empty)\n");
      continue;
    }
    print_stats(t, n);
    printf("\n  [");
    for (int64_t k = 0; k < n && k < SUMMARY_VALUES; k++) {
      if (k) fputs(", ", stdout);
      print_element(t, k);
    }
    printf("%s]\n", n > SUMMARY_VALUES ? ", ..." : "");
  }
  return fflush(stdout) ? MLC_ERR(IO_ERROR, "stdout: write failed") : NULL;
}

static mlc_status_t *run(const mlc_cli_run_t *o) {
  mlc_cli_session_t r;
  mlc_status_t *st = mlc_cli_session_open(o, false, &r);
  if (!st && o->output_dir) st = check_format(o, &r);
  if (!st) st = mlc_cli_from_rt(mlcrt_session_run(r.session));
  if (!st) st = o->output_dir ? write_outputs(o, &r) : print_summary(&r);
  mlc_cli_session_close(&r);
  return st;
}

int mlc_cmd_run(int argc, char **argv) {
  mlc_cli_run_t o;
  int r = mlc_cli_parse_run(argc, argv, stdout, stderr, &o);
  if (r == MLC_CLI_CONTINUE)
    r = mlc_cli_report(mlc_status_annotate(run(&o), "running %s", o.model),
                       false);
  mlc_cli_run_free(&o);
  return r;
}
