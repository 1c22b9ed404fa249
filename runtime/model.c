/* Loading a compiled model and describing its tensors.
 *
 * mlcrt_model_load() checks the file (elf.c: a regular file, an ELF shared
 * library for this machine, not truncated), dlopens it, calls its
 * mlc_model_get(), checks
 * the descriptor (ABI version, 1 or 2, and the struct size of that version
 * first, then that every field the runtime reads is consistent, the call
 * table included from version 2), checks that this CPU has the features a
 * version-3 model needs (cpu.c), and, when the weights live in a side
 * file, maps that file read-only from the library's folder and checks it
 * belongs to the library: from version 3 its header's build id and size
 * (O(1)), before that its size and FNV-1a hash.  mlcrt_model_from_descriptor() does the same for a
 * descriptor linked into the process, looking for the side file in the
 * folder given.  A model is reference-counted so that sessions keep it alive;
 * everything here is safe to call from several threads on the same model.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MLCRT_GET_SYMBOL "mlc_model_get"

/* ---- descriptor checks ---------------------------------------------- */

static mlcrt_status_t *check_tensor(const mlc_abi_tensor_t *t,
                                    const char *kind, int32_t i) {
  if (!t->name)
    return mlcrt_status_make(MLCRT_INCOMPATIBLE, "%s %d has no name", kind, i);
  if (t->rank < 0 || (t->rank > 0 && !t->dims))
    return mlcrt_status_make(MLCRT_INCOMPATIBLE, "%s %d '%s': bad rank %d",
                             kind, i, t->name, t->rank);
  uint64_t elems = 1;
  for (int32_t d = 0; d < t->rank; d++) {
    if (t->dims[d] < 0)
      return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                               "%s %d '%s': dim %d is negative (%lld)", kind,
                               i, t->name, d, (long long)t->dims[d]);
    elems *= (uint64_t)t->dims[d];
  }
  size_t esize = mlcrt_dtype_size(t->dtype);
  if (esize && elems * esize != t->nbytes) {
    char shape[256];
    mlcrt_tensor_describe(t, shape, sizeof shape);
    return mlcrt_status_make(
        MLCRT_INCOMPATIBLE, "%s %d '%s': nbytes %llu does not match %s", kind,
        i, t->name, (unsigned long long)t->nbytes, shape);
  }
  return NULL;
}

static mlcrt_status_t *check_tensors(const mlc_abi_tensor_t *ts, int32_t n,
                                     const char *kind) {
  if (n < 0 || (n > 0 && !ts))
    return mlcrt_status_make(MLCRT_INCOMPATIBLE, "bad %s table (%d entries)",
                             kind, n);
  for (int32_t i = 0; i < n; i++) {
    mlcrt_status_t *st = check_tensor(&ts[i], kind, i);
    if (st) return st;
  }
  return NULL;
}

/* Versions 1 (no call table) to 3 are read; the size must cover the
 * fields of the version the descriptor claims. */
static mlcrt_status_t *check_version(const mlc_abi_model_t *d) {
  if (d->abi_version < MLC_ABI_VERSION_MIN || d->abi_version > MLC_ABI_VERSION)
    return mlcrt_status_make(
        MLCRT_INCOMPATIBLE, "model ABI version %u, this runtime reads %u to %u%s",
        d->abi_version, MLC_ABI_VERSION_MIN, MLC_ABI_VERSION,
        d->abi_version > MLC_ABI_VERSION ? " (the model needs a newer libmlcrt)"
                                         : "");
  size_t need = d->abi_version == 1   ? MLC_ABI_MODEL_V1_SIZE
                : d->abi_version == 2 ? MLC_ABI_MODEL_V2_SIZE
                                      : sizeof(mlc_abi_model_t);
  if (d->struct_size < need)
    return mlcrt_status_make(
        MLCRT_INCOMPATIBLE, "model descriptor is %u bytes, expected at least %zu",
        d->struct_size, need);
  return NULL;
}

static mlcrt_status_t *check_calls(const mlc_abi_model_t *d) {
  if (d->abi_version < 2) return NULL;
  if (d->num_calls < 0 || (d->num_calls > 0 && !d->calls))
    return mlcrt_status_make(MLCRT_INCOMPATIBLE, "bad call table (%d entries)",
                             d->num_calls);
  for (int32_t i = 0; i < d->num_calls; i++) {
    const mlc_abi_call_t *c = &d->calls[i];
    bool names = c->num_nodes >= 0 && (c->num_nodes == 0 || c->nodes);
    for (int32_t j = 0; names && j < c->num_nodes; j++) names = c->nodes[j] != NULL;
    if (!c->kernel || !names)
      return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                               "call %d: missing kernel or node names", i);
  }
  return NULL;
}

static mlcrt_status_t *check_descriptor(const mlc_abi_model_t *d) {
  if (!d)
    return mlcrt_status_make(MLCRT_INCOMPATIBLE, "model descriptor is NULL");
  mlcrt_status_t *vst = check_version(d);
  if (vst) return vst;
  if (!d->run)
    return mlcrt_status_make(MLCRT_INCOMPATIBLE, "model has no run function");
  if (d->arena_align && (d->arena_align & (d->arena_align - 1)))
    return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                             "arena alignment %llu is not a power of two",
                             (unsigned long long)d->arena_align);
  if (d->weights_bytes && !d->weights && !d->weights_file)
    return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                             "model has %llu bytes of weights but neither an "
                             "embedded blob nor a weights file",
                             (unsigned long long)d->weights_bytes);
  mlcrt_status_t *st = check_tensors(d->inputs, d->num_inputs, "input");
  if (!st) st = check_tensors(d->outputs, d->num_outputs, "output");
  if (!st) st = check_calls(d);
  return st;
}

/* ---- side weights file ------------------------------------------------ */

/* "00112233...": 32 hex digits of a build id. */
static void hex_id(const uint8_t id[16], char out[33]) {
  for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* Version 3: the header names the build; O(1) whatever the file's size. */
static mlcrt_status_t *check_weights_header(const mlc_abi_model_t *d, int fd,
                                    uint64_t size, const char *path) {
  mlc_abi_weights_header_t h;
  uint64_t want = sizeof h + d->weights_bytes;
  if (size != want)
    return mlcrt_status_make(MLCRT_IO_ERROR,
                             "weights file '%s' is %llu bytes, expected %llu "
                             "(a %zu-byte header and %llu bytes of weights)",
                             path, (unsigned long long)size,
                             (unsigned long long)want, sizeof h,
                             (unsigned long long)d->weights_bytes);
  if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
    return mlcrt_status_make(MLCRT_IO_ERROR, "weights file '%s': %s", path,
                             strerror(errno));
  if (memcmp(h.magic, MLC_ABI_WEIGHTS_MAGIC, sizeof h.magic) != 0 ||
      h.version != MLC_ABI_WEIGHTS_VERSION || h.header_bytes != sizeof h ||
      h.weights_bytes != d->weights_bytes)
    return mlcrt_status_make(MLCRT_IO_ERROR,
                             "weights file '%s' has no valid mlc weights "
                             "header (version %u)", path, h.version);
  if (memcmp(h.build_id, d->build_id, sizeof h.build_id) != 0) {
    char file_id[33], lib_id[33];
    hex_id(h.build_id, file_id);
    hex_id(d->build_id, lib_id);
    return mlcrt_status_make(
        MLCRT_IO_ERROR,
        "weights file '%s' belongs to another build of the model (build id "
        "%s, the library's is %s): the library and its weights file must "
        "come from the same compile (recompiled while this library was "
        "loaded, or copied separately?)",
        path, file_id, lib_id);
  }
  return NULL;
}

/* Versions 1 and 2: a bare blob whose FNV-1a hash the descriptor holds. */
static mlcrt_status_t *check_hash(const mlc_abi_model_t *d, const void *blob,
                                  const char *path) {
  uint64_t h = mlcrt_fnv1a64(blob, d->weights_bytes);
  if (h == d->weights_hash) return NULL;
  return mlcrt_status_make(
      MLCRT_IO_ERROR,
      "weights file '%s': hash %016llx, expected %016llx (stale or from "
      "another compile?)",
      path, (unsigned long long)h, (unsigned long long)d->weights_hash);
}

static mlcrt_status_t *map_fd(mlcrt_model_t *m, int fd, const char *path) {
  const mlc_abi_model_t *d = m->desc;
  struct stat sb;
  if (fstat(fd, &sb) != 0)
    return mlcrt_status_make(MLCRT_IO_ERROR, "weights file '%s': %s", path,
                             strerror(errno));
  if (!S_ISREG(sb.st_mode))
    return mlcrt_status_make(MLCRT_IO_ERROR,
                             "weights file '%s' is not a regular file", path);
  uint64_t size = (uint64_t)sb.st_size;
  size_t skip = d->abi_version >= 3 ? sizeof(mlc_abi_weights_header_t) : 0;
  mlcrt_status_t *st =
      skip ? check_weights_header(d, fd, size, path)
      : size != d->weights_bytes
          ? mlcrt_status_make(MLCRT_IO_ERROR,
                              "weights file '%s' is %lld bytes, expected %llu",
                              path, (long long)sb.st_size,
                              (unsigned long long)d->weights_bytes)
          : NULL;
  if (st || size == 0) return st;
  if (size > SIZE_MAX)
    return mlcrt_status_make(MLCRT_IO_ERROR, "weights file '%s' is too large",
                             path);
  void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED)
    return mlcrt_status_make(MLCRT_IO_ERROR, "mapping weights file '%s': %s",
                             path, strerror(errno));
  m->map_addr = p;
  m->map_len = (size_t)size;
  m->weights = (const char *)p + skip;
  return skip ? NULL : check_hash(d, p, path);
}

static mlcrt_status_t *map_weights(mlcrt_model_t *m, const char *dir) {
  const mlc_abi_model_t *d = m->desc;
  size_t plen = strlen(dir) + 1 + strlen(d->weights_file) + 1;
  char *path = malloc(plen);
  if (!path) return mlcrt_status_oom();
  snprintf(path, plen, "%s/%s", dir, d->weights_file);
  mlcrt_status_t *st = NULL;
  /* O_NONBLOCK: a FIFO in its place must not block the caller. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    st = mlcrt_status_make(errno == ENOENT ? MLCRT_NOT_FOUND : MLCRT_IO_ERROR,
                           "weights file '%s': %s", path, strerror(errno));
  else
    st = map_fd(m, fd, path);
  if (fd >= 0) close(fd);
  free(path);
  return st;
}

/* ---- creation and release --------------------------------------------- */

static void model_destroy(mlcrt_model_t *m) {
  if (m->map_addr) munmap(m->map_addr, m->map_len);
  if (m->dl_handle) dlclose(m->dl_handle);
  free(m);
}

/* Checks the descriptor and finds the weights; takes ownership of
 * dl_handle (closed on failure). */
static mlcrt_status_t *model_init(const mlc_abi_model_t *desc, void *dl_handle,
                                  const char *weights_dir,
                                  mlcrt_model_t **out_model) {
  mlcrt_status_t *st = check_descriptor(desc);
  if (!st) st = mlcrt_cpu_check(desc);
  if (st) {
    if (dl_handle) dlclose(dl_handle);
    return st;
  }
  mlcrt_model_t *m = calloc(1, sizeof *m);
  if (!m) {
    if (dl_handle) dlclose(dl_handle);
    return mlcrt_status_oom();
  }
  m->desc = desc;
  m->dl_handle = dl_handle;
  if (desc->abi_version >= 2) {
    m->num_calls = desc->num_calls;
    m->calls = desc->calls;
  }
  atomic_init(&m->refs, 1);
  if (desc->weights)
    m->weights = desc->weights;
  else if (desc->weights_file)
    st = map_weights(m, weights_dir ? weights_dir : ".");
  if (st) {
    model_destroy(m);
    return st;
  }
  *out_model = m;
  return NULL;
}

mlcrt_status_t *mlcrt_model_from_descriptor(const mlc_abi_model_t *descriptor,
                                            const char *weights_dir,
                                            mlcrt_model_t **out_model) {
  if (!out_model)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_model_from_descriptor: out_model is NULL");
  *out_model = NULL;
  if (!descriptor)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_model_from_descriptor: descriptor is NULL");
  mlcrt_status_t *st = model_init(descriptor, NULL, weights_dir, out_model);
  bool named = descriptor->abi_version >= MLC_ABI_VERSION_MIN &&
               descriptor->abi_version <= MLC_ABI_VERSION &&
               descriptor->struct_size >= MLC_ABI_MODEL_V1_SIZE && descriptor->name;
  return mlcrt_status_annotate(st, "model '%s'", named ? descriptor->name : "?");
}

/* The folder of the loaded library, found from one of its symbols; falls
 * back to the folder of `path`.  Returns a malloc'd string or NULL. */
static char *library_dir(void *symbol, const char *path) {
  Dl_info info;
  const char *file = path;
  if (dladdr(symbol, &info) && info.dli_fname && info.dli_fname[0])
    file = info.dli_fname;
  const char *slash = strrchr(file, '/');
  if (!slash) return strdup(".");
  size_t n = slash == file ? 1 : (size_t)(slash - file);
  char *dir = malloc(n + 1);
  if (dir) {
    memcpy(dir, file, n);
    dir[n] = '\0';
  }
  return dir;
}

/* dlopen searches the system paths for a bare name; look in the current
 * folder first, as users of a command line expect. */
static void *open_library(const char *path) {
  if (!strchr(path, '/') && access(path, F_OK) == 0) {
    size_t n = strlen(path) + 3;
    char *local = malloc(n);
    if (!local) return NULL;
    snprintf(local, n, "./%s", path);
    void *h = dlopen(local, RTLD_NOW | RTLD_LOCAL);
    free(local);
    return h;
  }
  return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static mlcrt_status_t *load(const char *path, mlcrt_model_t **out_model) {
  /* A file we can see is checked before the loader maps it; a bare name
   * found only through the loader's search path is a system library. */
  bool local = strchr(path, '/') || access(path, F_OK) == 0;
  if (local) {
    mlcrt_status_t *st = mlcrt_elf_check_file(path);
    if (st) return st;
  }
  void *h = open_library(path);
  if (!h) {
    /* A bare name the loader did not find anywhere is "not found" too. */
    const char *err = dlerror();
    bool missing = err && strstr(err, "cannot open shared object file");
    return mlcrt_status_make(missing ? MLCRT_NOT_FOUND : MLCRT_INCOMPATIBLE,
                             "cannot load: %s",
                             err ? err : "unknown dlopen error");
  }
  void *sym = dlsym(h, MLCRT_GET_SYMBOL);
  if (!sym) {
    dlclose(h);
    return mlcrt_status_make(MLCRT_INCOMPATIBLE,
                             "no symbol " MLCRT_GET_SYMBOL
                             " (not a model compiled by mlc?)");
  }
  mlc_abi_model_get_fn get;
  memcpy(&get, &sym, sizeof get); /* object to function pointer, POSIX-style */
  char *dir = library_dir(sym, path);
  if (!dir) {
    dlclose(h);
    return mlcrt_status_oom();
  }
  mlcrt_status_t *st = model_init(get(), h, dir, out_model);
  free(dir);
  return st;
}

mlcrt_status_t *mlcrt_model_load(const char *path, mlcrt_model_t **out_model) {
  if (!out_model)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_model_load: out_model is NULL");
  *out_model = NULL;
  if (!path || !path[0])
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_model_load: path is NULL or empty");
  return mlcrt_status_annotate(load(path, out_model), "loading '%s'", path);
}

void mlcrt_model_retain(const mlcrt_model_t *model) {
  /* The count is the one mutable part of a model; the API hands out const
   * pointers because nothing a caller can see ever changes. */
  atomic_fetch_add_explicit(&((mlcrt_model_t *)model)->refs, 1,
                            memory_order_relaxed);
}

void mlcrt_model_release(mlcrt_model_t *model) {
  if (!model) return;
  if (atomic_fetch_sub_explicit(&model->refs, 1, memory_order_acq_rel) == 1)
    model_destroy(model);
}

/* ---- describing ---------------------------------------------------------- */

int32_t mlcrt_model_num_inputs(const mlcrt_model_t *model) {
  return model ? model->desc->num_inputs : -1;
}

int32_t mlcrt_model_num_outputs(const mlcrt_model_t *model) {
  return model ? model->desc->num_outputs : -1;
}

static mlcrt_status_t *tensor_info(const mlcrt_model_t *model, int32_t index,
                                   mlcrt_tensor_info_t *out_info, int output) {
  const char *fn = output ? "mlcrt_model_output_info" : "mlcrt_model_input_info";
  if (!model || !out_info)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                             model ? "out_info" : "model");
  int32_t n = output ? model->desc->num_outputs : model->desc->num_inputs;
  if (index < 0 || index >= n)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "%s: %s index %d out of range (model '%s' has %d)",
                             fn, output ? "output" : "input", index,
                             mlcrt_model_name(model), n);
  const mlc_abi_tensor_t *t =
      output ? &model->desc->outputs[index] : &model->desc->inputs[index];
  out_info->name = t->name;
  out_info->dtype = t->dtype;
  out_info->rank = t->rank;
  out_info->dims = t->dims;
  out_info->dim_names = t->dim_names;
  out_info->nbytes = (size_t)t->nbytes;
  return NULL;
}

mlcrt_status_t *mlcrt_model_input_info(const mlcrt_model_t *model,
                                       int32_t index,
                                       mlcrt_tensor_info_t *out_info) {
  return tensor_info(model, index, out_info, 0);
}

mlcrt_status_t *mlcrt_model_output_info(const mlcrt_model_t *model,
                                        int32_t index,
                                        mlcrt_tensor_info_t *out_info) {
  return tensor_info(model, index, out_info, 1);
}

static mlcrt_status_t *find(const mlcrt_model_t *model, const char *name,
                            int32_t *out_index, int output) {
  const char *kind = output ? "output" : "input";
  if (!model || !name || !out_index)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_model_find_%s: %s is NULL", kind,
                             !model ? "model" : !name ? "name" : "out_index");
  int32_t n = output ? model->desc->num_outputs : model->desc->num_inputs;
  const mlc_abi_tensor_t *ts = output ? model->desc->outputs
                                      : model->desc->inputs;
  for (int32_t i = 0; i < n; i++) {
    if (strcmp(ts[i].name, name) == 0) {
      *out_index = i;
      return NULL;
    }
  }
  char want[200], names[400];
  mlcrt_escape(name, want, sizeof want);
  size_t used = 0;
  names[0] = '\0';
  for (int32_t i = 0; i < n && used + 1 < sizeof names; i++) {
    char one[100];
    mlcrt_escape(ts[i].name, one, sizeof one);
    used += (size_t)snprintf(names + used, sizeof names - used, "%s'%s'",
                             i ? ", " : "", one);
  }
  if (used >= sizeof names) strcpy(names + sizeof names - 4, "...");
  return mlcrt_status_make(MLCRT_NOT_FOUND,
                           "model '%s' has no %s named '%s' (its %ss: %s)",
                           mlcrt_model_name(model), kind, want, kind,
                           n ? names : "none");
}

mlcrt_status_t *mlcrt_model_find_input(const mlcrt_model_t *model,
                                       const char *name, int32_t *out_index) {
  return find(model, name, out_index, 0);
}

mlcrt_status_t *mlcrt_model_find_output(const mlcrt_model_t *model,
                                        const char *name, int32_t *out_index) {
  return find(model, name, out_index, 1);
}

const char *mlcrt_model_name(const mlcrt_model_t *model) {
  return model && model->desc->name ? model->desc->name : "";
}

const char *mlcrt_model_target(const mlcrt_model_t *model) {
  return model && model->desc->target ? model->desc->target : "";
}

size_t mlcrt_model_arena_bytes(const mlcrt_model_t *model) {
  return model ? (size_t)model->desc->arena_bytes : 0;
}

/* ---- the call table (ABI 2) ---------------------------------------------- */

int32_t mlcrt_model_num_calls(const mlcrt_model_t *model) {
  return model ? model->num_calls : -1;
}

mlcrt_status_t *mlcrt_model_call_info(const mlcrt_model_t *model, int32_t index,
                                      mlcrt_call_info_t *out_info) {
  if (!model || !out_info)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_model_call_info: %s is NULL",
                             model ? "out_info" : "model");
  if (index < 0 || index >= model->num_calls)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_model_call_info: call index %d out of range "
                             "(model '%s' has %d)",
                             index, mlcrt_model_name(model), model->num_calls);
  const mlc_abi_call_t *c = &model->calls[index];
  out_info->kernel = c->kernel;
  out_info->num_nodes = c->num_nodes;
  out_info->nodes = c->nodes;
  out_info->tiles = c->tiles;
  out_info->flops = c->flops;
  return NULL;
}
