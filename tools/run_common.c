/* What `mlc run` and `mlc bench` share: reading input tensors (.npy or
 * .pb by extension), matching them to the model's inputs, random inputs,
 * output buffers, session setup with libmlcrt, and writing outputs.
 *
 * Every check happens here, before the runtime sees a buffer, so the
 * messages name the input and the file: "input 'x' (from a.npy): dtype
 * float64, the model expects float32".  Runtime errors are turned into
 * our status (never MLC_INVALID_ARGUMENT: they are failed runs, exit 1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/onnx.h"
#include "mlc/mlcrt.h"
#include "tools/cli.h"
#include "tools/npy.h"

mlc_status_t *mlc_cli_from_rt(void *rt_status) {
  mlcrt_status_t *rs = rt_status;
  if (!rs) return NULL;
  mlc_status_code_t code =
      mlcrt_status_code(rs) == MLCRT_IO_ERROR ||
              mlcrt_status_code(rs) == MLCRT_NOT_FOUND
          ? MLC_IO_ERROR
          : mlcrt_status_code(rs) == MLCRT_OUT_OF_MEMORY ? MLC_OUT_OF_MEMORY
                                                         : MLC_INVALID_MODEL;
  mlc_status_t *st = mlc_status_make(code, "%s", mlcrt_status_message(rs));
  mlcrt_status_free(rs);
  return st;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static mlc_status_t *read_pb(const char *path, mlc_host_tensor_t *out) {
  char *name = NULL;
  mlc_tensor_t *t = NULL;
  MLC_RETURN_IF(mlc_onnx_read_tensor_file(path, &name, &t));
  free(name);
  mlc_status_t *st = NULL;
  if (t->rank < 0 || t->rank > MLC_HOST_MAX_RANK) {
    st = MLC_ERR(UNSUPPORTED, "%s: rank %d", path, t->rank);
  } else {
    out->dtype = t->dtype;
    out->rank = t->rank;
    if (t->rank > 0) /* a scalar's dims may be NULL */
      memcpy(out->dims, t->dims, (size_t)t->rank * sizeof *t->dims);
    out->nbytes = t->nbytes;
    out->data = malloc(t->nbytes ? t->nbytes : 1);
    if (!out->data) st = MLC_ERR(OUT_OF_MEMORY, "%s", path);
    else if (t->nbytes) memcpy(out->data, t->data, t->nbytes);
  }
  mlc_tensor_free(t);
  return st;
}

mlc_status_t *mlc_cli_read_tensor(const char *path, mlc_host_tensor_t *out) {
  memset(out, 0, sizeof *out);
  if (has_suffix(path, ".npy")) return mlc_npy_read_file(path, out);
  if (has_suffix(path, ".pb")) return read_pb(path, out);
  return MLC_ERR(INVALID_MODEL, "%s: unknown tensor file type (expected "
                 ".npy or .pb)", path);
}

mlc_status_t *mlc_cli_make_dir(const char *path) {
  char buf[4096];
  if (strlen(path) >= sizeof buf)
    return MLC_ERR(IO_ERROR, "%s: path too long", path);
  strcpy(buf, path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return MLC_ERR(IO_ERROR, "creating %s: %s", buf, strerror(errno));
    *p = c;
    if (!c) break;
  }
  struct stat sb;
  if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return MLC_ERR(IO_ERROR, "%s: not a directory", path);
  return NULL;
}

mlc_status_t *mlc_cli_write_tensor(const char *dir, const char *file_stem,
                                   const char *name, mlc_out_format_t format,
                                   const mlc_host_tensor_t *t) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%s.%s", dir, file_stem,
                   format == MLC_OUT_PB ? "pb" : "npy");
  if (n < 0 || (size_t)n >= sizeof path)
    return MLC_ERR(IO_ERROR, "%s/%s: path too long", dir, file_stem);
  mlc_status_t *st;
  if (format == MLC_OUT_NPY) {
    st = mlc_npy_write_file(path, t);
  } else {
    mlc_tensor_t pt = {t->dtype, t->rank, (int64_t *)t->dims, t->data,
                       t->nbytes};
    st = mlc_onnx_write_tensor_file(path, name, &pt);
  }
  MLC_RETURN_IF_ERROR(st, "output '%s'", name);
  return NULL;
}

/* An ONNX ModelProto starts with field 1 (ir_version, a varint): 0x08. */
static bool looks_like_onnx(const char *path) {
  if (has_suffix(path, ".onnx")) return true;
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  int c = fgetc(f);
  fclose(f);
  return c == 0x08;
}

mlc_status_t *mlc_cli_load_model(const char *path, mlcrt_model_t **out) {
  /* The runtime's message names the file. */
  mlc_status_t *st = mlc_cli_from_rt(mlcrt_model_load(path, out));
  if (st && strstr(mlc_status_message(st), "no ELF header") &&
      looks_like_onnx(path)) {
    mlc_status_t *hint = mlc_status_make(
        mlc_status_code(st), "%s; '%s' looks like an ONNX model: compile "
        "it first (mlc compile %s -o MODEL.so) and run the library", mlc_status_message(st),
        path, path);
    mlc_status_free(st);
    st = hint;
  }
  return st;
}

/* ---- inputs ------------------------------------------------------------ */

static mlc_status_t *check_input(const mlcrt_tensor_info_t *info,
                                 const char *file, const mlc_host_tensor_t *t) {
  if ((int32_t)t->dtype != info->dtype)
    return MLC_ERR(INVALID_MODEL, "input '%s' (from %s): dtype %s, the model "
                   "expects %s", info->name, file, mlcrt_dtype_name(t->dtype),
                   mlcrt_dtype_name(info->dtype));
  bool same = t->rank == info->rank;
  for (int d = 0; same && d < t->rank; d++) same = t->dims[d] == info->dims[d];
  if (!same) {
    char got[256], want[256];
    mlc_shape_format(t->rank, t->dims, got, sizeof got);
    mlc_shape_format(info->rank, info->dims, want, sizeof want);
    bool symbolic = false;
    for (int d = 0; info->dim_names && d < info->rank; d++)
      symbolic |= info->dim_names[d] != NULL;
    return MLC_ERR(INVALID_MODEL, "input '%s' (from %s): shape %s, the model "
                   "was compiled for %s%s", info->name, file, got, want,
                   symbolic ? " (recompile with --dim NAME=N for other "
                              "sizes of its symbolic dims)" : "");
  }
  return NULL;
}

static mlc_status_t *load_one(const mlcrt_model_t *m, int32_t index,
                              const char *file, mlc_host_tensor_t *inputs) {
  mlcrt_tensor_info_t info;
  MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_model_input_info(m, index, &info)));
  if (inputs[index].data || inputs[index].nbytes)
    return MLC_ERR(INVALID_MODEL, "input '%s' given twice", info.name);
  mlc_host_tensor_t t;
  MLC_RETURN_IF_ERROR(mlc_cli_read_tensor(file, &t), "input '%s'", info.name);
  mlc_status_t *st = check_input(&info, file, &t);
  if (st) {
    mlc_host_tensor_free(&t);
    return st;
  }
  inputs[index] = t;
  if (!inputs[index].data) inputs[index].data = malloc(1); /* mark as given */
  return NULL;
}

/* The input a "NAME=FILE" spec names, or -1 when NAME is no input. */
static int32_t named_input(const mlcrt_model_t *m, const char *spec,
                           const char **file) {
  const char *eq = strchr(spec, '=');
  if (!eq) return -1;
  int32_t n = mlcrt_model_num_inputs(m);
  for (int32_t i = 0; i < n; i++) {
    mlcrt_tensor_info_t info;
    mlcrt_status_t *rs = mlcrt_model_input_info(m, i, &info);
    if (rs) {
      mlcrt_status_free(rs);
      continue;
    }
    if (strlen(info.name) == (size_t)(eq - spec) &&
        memcmp(info.name, spec, (size_t)(eq - spec)) == 0) {
      *file = eq + 1;
      return i;
    }
  }
  return -1;
}

static mlc_status_t *unknown_name(const mlcrt_model_t *m, const char *spec) {
  char names[1024] = "";
  size_t len = 0;
  for (int32_t i = 0; i < mlcrt_model_num_inputs(m) && len < sizeof names; i++) {
    mlcrt_tensor_info_t info;
    mlcrt_status_t *rs = mlcrt_model_input_info(m, i, &info);
    if (rs) {
      mlcrt_status_free(rs);
      continue;
    }
    len += (size_t)snprintf(names + len, sizeof names - len, "%s'%s'",
                            i ? ", " : "", info.name);
  }
  return MLC_ERR(INVALID_MODEL, "--input %s: the model has no input named "
                 "'%.*s' and no such file exists (inputs: %s)", spec,
                 (int)(strchr(spec, '=') - spec), spec, names);
}

static bool file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

mlc_status_t *mlc_cli_load_inputs(const mlcrt_model_t *m,
                                  const char *const *specs, int nspecs,
                                  mlc_host_tensor_t *inputs) {
  int32_t n = mlcrt_model_num_inputs(m);
  /* Named ones first, so positional ones fill the gaps in order. */
  for (int i = 0; i < nspecs; i++) {
    const char *file;
    int32_t idx = named_input(m, specs[i], &file);
    if (idx >= 0) MLC_RETURN_IF(load_one(m, idx, file, inputs));
    else if (strchr(specs[i], '=') && !file_exists(specs[i]))
      return unknown_name(m, specs[i]);
  }
  int32_t next = 0;
  for (int i = 0; i < nspecs; i++) {
    const char *file;
    if (named_input(m, specs[i], &file) >= 0) continue;
    while (next < n && inputs[next].data) next++;
    if (next >= n)
      return MLC_ERR(INVALID_MODEL, "--input %s: the model has only %d "
                     "input(s)", specs[i], (int)n);
    MLC_RETURN_IF(load_one(m, next, specs[i], inputs));
  }
  return NULL;
}

/* ---- random inputs, outputs, sessions ---------------------------------- */

static uint64_t next_random(uint64_t *s) { /* xorshift64* */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [-1, 1). */
static float random_unit(uint64_t *s) {
  return (float)((next_random(s) >> 40) * (2.0 / 16777216.0) - 1.0);
}

/* IEEE half from float, round to nearest even; for values in [-1, 1). */
static uint16_t half_from_float(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xff, man = x & 0x7fffff;
  if (exp < 103) return (uint16_t)sign; /* too small: signed zero */
  if (exp < 113) { /* subnormal half */
    man |= 0x800000;
    int shift = (int)(126 - exp);
    uint32_t h = man >> shift, rem = man & ((1u << shift) - 1),
             half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((exp - 112) << 10) | (man >> 13), rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
  return (uint16_t)(sign | h);
}

static void fill_random(mlc_host_tensor_t *t, uint64_t *seed) {
  size_t esize = mlc_dtype_size(t->dtype), n = esize ? t->nbytes / esize : 0;
  unsigned char *p = t->data;
  for (size_t i = 0; i < n; i++, p += esize) {
    float f = random_unit(seed);
    uint64_t small = next_random(seed) % 10;
    switch (t->dtype) {
    case MLC_DT_F32: memcpy(p, &f, 4); break;
    case MLC_DT_F64: { double d = f; memcpy(p, &d, 8); break; }
    case MLC_DT_F16: { uint16_t h = half_from_float(f); memcpy(p, &h, 2); break; }
    case MLC_DT_BF16: {
      uint32_t x;
      memcpy(&x, &f, 4);
      uint16_t b = (uint16_t)(x >> 16);
      memcpy(p, &b, 2);
      break;
    }
    case MLC_DT_BOOL: *p = (unsigned char)(small & 1); break;
    default: /* integers, little-endian: the low byte carries the value */
      memset(p, 0, esize);
      *p = (unsigned char)small;
    }
  }
}

static mlc_status_t *alloc_like(const mlcrt_tensor_info_t *info,
                                mlc_host_tensor_t *t) {
  memset(t, 0, sizeof *t);
  if (info->rank < 0 || info->rank > MLC_HOST_MAX_RANK)
    return MLC_ERR(UNSUPPORTED, "tensor '%s': rank %d", info->name,
                   (int)info->rank);
  t->dtype = (mlc_dtype_t)info->dtype;
  t->rank = info->rank;
  if (info->rank > 0) /* a scalar's dims may be NULL */
    memcpy(t->dims, info->dims, (size_t)info->rank * sizeof *info->dims);
  t->nbytes = info->nbytes;
  t->data = calloc(1, info->nbytes ? info->nbytes : 1);
  if (!t->data)
    return MLC_ERR(OUT_OF_MEMORY, "tensor '%s': %zu bytes", info->name,
                   info->nbytes);
  return NULL;
}

mlc_status_t *mlc_cli_random_inputs(const mlcrt_model_t *m,
                                    mlc_host_tensor_t *inputs) {
  uint64_t seed = 0x6d6c632d62656e63ULL; /* fixed: runs are reproducible */
  for (int32_t i = 0; i < mlcrt_model_num_inputs(m); i++) {
    if (inputs[i].data) continue;
    mlcrt_tensor_info_t info;
    MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_model_input_info(m, i, &info)));
    MLC_RETURN_IF(alloc_like(&info, &inputs[i]));
    fill_random(&inputs[i], &seed);
  }
  return NULL;
}

mlc_status_t *mlc_cli_alloc_outputs(const mlcrt_model_t *m,
                                    mlc_host_tensor_t *outputs) {
  for (int32_t i = 0; i < mlcrt_model_num_outputs(m); i++) {
    mlcrt_tensor_info_t info;
    MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_model_output_info(m, i, &info)));
    MLC_RETURN_IF(alloc_like(&info, &outputs[i]));
  }
  return NULL;
}

static mlc_status_t *bind_all(mlcrt_session_t *s, const mlcrt_model_t *m,
                              const mlc_host_tensor_t *inputs,
                              mlc_host_tensor_t *outputs) {
  for (int32_t i = 0; i < mlcrt_model_num_inputs(m); i++) {
    const mlc_host_tensor_t *t = &inputs[i];
    MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_session_bind_input_checked(
        s, i, t->data, t->nbytes, (int32_t)t->dtype, t->rank, t->dims)));
  }
  for (int32_t i = 0; i < mlcrt_model_num_outputs(m); i++) {
    mlc_host_tensor_t *t = &outputs[i];
    MLC_RETURN_IF(mlc_cli_from_rt(mlcrt_session_bind_output_checked(
        s, i, t->data, t->nbytes, (int32_t)t->dtype, t->rank, t->dims)));
  }
  return NULL;
}

mlc_status_t *mlc_cli_bind_session(const mlcrt_model_t *m, int threads,
                                   const mlc_host_tensor_t *inputs,
                                   mlc_host_tensor_t *outputs,
                                   mlcrt_session_t **out) {
  mlcrt_session_options_t so = {.num_threads = threads};
  mlcrt_session_t *s = NULL;
  MLC_RETURN_IF_ERROR(mlc_cli_from_rt(mlcrt_session_create(m, &so, &s)),
                      "creating a session");
  mlc_status_t *st = bind_all(s, m, inputs, outputs);
  if (st) {
    mlcrt_session_release(s);
    return st;
  }
  *out = s;
  return NULL;
}

/* ---- sessions for run and bench --------------------------------------- */

void mlc_cli_session_close(mlc_cli_session_t *r) {
  if (r->session) mlcrt_session_release(r->session);
  for (int32_t i = 0; r->inputs && i < r->nin; i++)
    mlc_host_tensor_free(&r->inputs[i]);
  for (int32_t i = 0; r->outputs && i < r->nout; i++)
    mlc_host_tensor_free(&r->outputs[i]);
  free(r->inputs);
  free(r->outputs);
  if (r->model) mlcrt_model_release(r->model);
}

static mlc_status_t *missing_inputs(mlc_cli_session_t *r) {
  char names[1024] = "";
  size_t len = 0;
  int missing = 0;
  for (int32_t i = 0; i < r->nin; i++) {
    if (r->inputs[i].data) continue;
    mlcrt_tensor_info_t info;
    mlcrt_status_t *rs = mlcrt_model_input_info(r->model, i, &info);
    bool known = rs == NULL;
    mlcrt_status_free(rs);
    if (len < sizeof names)
      len += (size_t)snprintf(names + len, sizeof names - len, "%s'%s'",
                              missing ? ", " : "", known ? info.name : "?");
    missing++;
  }
  if (!missing) return NULL;
  return MLC_ERR(INVALID_MODEL, "no data for %d input(s): %s (give "
                 "--input NAME=FILE)", missing, names);
}

mlc_status_t *mlc_cli_session_open(const mlc_cli_run_t *o, bool fill,
                                   mlc_cli_session_t *r) {
  memset(r, 0, sizeof *r);
  MLC_RETURN_IF(mlc_cli_load_model(o->model, &r->model));
  r->nin = mlcrt_model_num_inputs(r->model);
  r->nout = mlcrt_model_num_outputs(r->model);
  r->inputs = calloc((size_t)r->nin + 1, sizeof *r->inputs);
  r->outputs = calloc((size_t)r->nout + 1, sizeof *r->outputs);
  if (!r->inputs || !r->outputs) return MLC_ERR(OUT_OF_MEMORY, "tensors");
  MLC_RETURN_IF(mlc_cli_load_inputs(r->model, o->inputs, o->ninputs, r->inputs));
  if (fill) MLC_RETURN_IF(mlc_cli_random_inputs(r->model, r->inputs));
  MLC_RETURN_IF(missing_inputs(r));
  MLC_RETURN_IF(mlc_cli_alloc_outputs(r->model, r->outputs));
  return mlc_cli_bind_session(r->model, o->threads, r->inputs, r->outputs,
                              &r->session);
}

