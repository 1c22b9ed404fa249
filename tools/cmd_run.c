/* `mlc run`: loads a compiled model with libmlcrt, reads its inputs from
 * .npy/.pb files, runs it once and writes every output to
 * DIR/<name>.npy (or .pb).  Output names are sanitized for the file
 * system; two outputs that sanitize alike get "_<index>" appended. */
#include <stdlib.h>
#include <string.h>

#include "mlc/mlcrt.h"
#include "tools/cli.h"
#include "tools/npy.h"

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

static mlc_status_t *run(const mlc_cli_run_t *o) {
  mlc_cli_session_t r;
  mlc_status_t *st = mlc_cli_session_open(o, false, &r);
  if (!st) st = check_format(o, &r);
  if (!st) st = mlc_cli_from_rt(mlcrt_session_run(r.session));
  if (!st) st = write_outputs(o, &r);
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
