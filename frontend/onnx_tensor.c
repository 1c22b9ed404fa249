/* TensorProto decoding: initializers, tensor attributes, .pb tensor files.
 *
 * A tensor's data comes from exactly one place: raw_data (packed little
 * endian, used as is), external data (a file relative to the model folder,
 * mmap'ed and borrowed), or the typed field ONNX assigns to its dtype:
 *   float_data   f32, c64 (2 per element)
 *   int32_data   i8 i16 i32 u8 u16 bool f16 bf16 and 8-bit floats (bit
 *                patterns of the element, truncated to its width)
 *   int64_data   i64
 *   double_data  f64, c128 (2 per element)
 *   uint64_data  u32 u64
 * Strings and sub-byte types are unsupported.  Dims must be non-negative
 * and their product, times the element size, must fit in size_t and match
 * the data exactly.  External locations must be relative and stay inside
 * the model folder: no '..' component, and no symbolic link on the way
 * (each component is opened with O_NOFOLLOW below the folder, so neither
 * a file link nor a directory link can point outside).  The file must be
 * a regular file (a FIFO or a device is refused, not waited on) and only
 * the bytes the tensor needs are mapped.  Assumes a little-endian host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

mlc_status_t *mlc_onnx_dtype_check(int64_t dt, const char *what,
                                   mlc_dtype_t *out) {
  if (dt <= 0 || dt >= MLC_DT_COUNT_)
    return MLC_ERR(INVALID_MODEL, "%s: data type %lld is not an ONNX type",
                   what, (long long)dt);
  *out = (mlc_dtype_t)dt;
  return NULL;
}

/* Element count and byte size from dims, with overflow checks. */
static mlc_status_t *tensor_size(const Onnx__TensorProto *tp, size_t esize,
                                 const char *what, size_t *numel,
                                 size_t *nbytes) {
  if (tp->n_dims > MLC_ONNX_MAX_RANK)
    return MLC_ERR(UNSUPPORTED, "%s: rank %zu is above %d", what,
                   tp->n_dims, MLC_ONNX_MAX_RANK);
  /* The bytes of the non-zero dims must fit int64 even when a zero dim
   * makes the tensor empty: the passes compute strides from all dims. */
  uint64_t n = 1, nz = esize ? esize : 1;
  for (size_t i = 0; i < tp->n_dims; i++) {
    int64_t d = tp->dims[i];
    if (d < 0)
      return MLC_ERR(INVALID_MODEL, "%s: dim %zu is negative (%lld)",
                     what, i, (long long)d);
    if (d && nz > (uint64_t)INT64_MAX / (uint64_t)d)
      return MLC_ERR(INVALID_MODEL, "%s: byte size overflows", what);
    if (d) nz *= (uint64_t)d;
    n *= (uint64_t)d;
  }
  *numel = (size_t)n;
  *nbytes = (size_t)n * esize;
  return NULL;
}

/* Which typed field holds `dt`, and how many field entries per element. */
typedef enum { F_NONE, F_FLOAT, F_INT32, F_INT64, F_DOUBLE, F_UINT64 } field_t;

static field_t typed_field(mlc_dtype_t dt, size_t *per_elem) {
  *per_elem = 1;
  switch (dt) {
  case MLC_DT_F32: return F_FLOAT;
  case MLC_DT_C64: *per_elem = 2; return F_FLOAT;
  case MLC_DT_I64: return F_INT64;
  case MLC_DT_F64: return F_DOUBLE;
  case MLC_DT_C128: *per_elem = 2; return F_DOUBLE;
  case MLC_DT_U32: case MLC_DT_U64: return F_UINT64;
  case MLC_DT_STRING: return F_NONE;
  default: return mlc_dtype_size(dt) ? F_INT32 : F_NONE;
  }
}

static size_t field_count(const Onnx__TensorProto *tp, field_t f) {
  switch (f) {
  case F_FLOAT: return tp->n_float_data;
  case F_INT32: return tp->n_int32_data;
  case F_INT64: return tp->n_int64_data;
  case F_DOUBLE: return tp->n_double_data;
  case F_UINT64: return tp->n_uint64_data;
  default: return 0;
  }
}

/* Packs a typed field into a new heap block of nbytes. */
static mlc_status_t *unpack_typed(const Onnx__TensorProto *tp, field_t f,
                                  size_t esize, size_t count, size_t nbytes,
                                  const char *what, mlc_onnx_tensor_t *out) {
  uint8_t *buf = malloc(nbytes ? nbytes : 1);
  if (!buf) return MLC_ERR(OUT_OF_MEMORY, "%s", what);
  switch (f) {
  case F_FLOAT: memcpy(buf, tp->float_data, nbytes); break;
  case F_INT64: memcpy(buf, tp->int64_data, nbytes); break;
  case F_DOUBLE: memcpy(buf, tp->double_data, nbytes); break;
  case F_UINT64:
    if (esize == 8) {
      memcpy(buf, tp->uint64_data, nbytes);
    } else {
      for (size_t i = 0; i < count; i++) {
        uint32_t v = (uint32_t)tp->uint64_data[i];
        memcpy(buf + i * 4, &v, 4);
      }
    }
    break;
  case F_INT32:
    for (size_t i = 0; i < count; i++) {
      uint32_t v = (uint32_t)tp->int32_data[i];
      memcpy(buf + i * esize, &v, esize); /* low bytes, little endian */
    }
    break;
  default: break;
  }
  out->data = buf;
  out->heap = buf;
  out->kind = MLC_ONNX_DATA_HEAP;
  return NULL;
}

/* Rejects absolute locations and any '..' component. */
static mlc_status_t *check_location(const char *loc, const char *what) {
  if (!loc || !*loc)
    return MLC_ERR(INVALID_MODEL, "%s: external data has no location",
                   what);
  if (loc[0] == '/' || loc[0] == '\\')
    return MLC_ERR(INVALID_MODEL,
                   "%s: external data location '%s' is absolute",
                   what, loc);
  for (const char *p = loc; *p;) {
    size_t n = strcspn(p, "/\\");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return MLC_ERR(INVALID_MODEL,
                     "%s: external data location '%s' leaves the "
                     "model folder", what, loc);
    p += n;
    if (*p) p++;
  }
  return NULL;
}

static mlc_status_t *parse_u64(const char *s, const char *key,
                               const char *what, uint64_t *out) {
  char *end;
  errno = 0;
  if (!s || !*s || *s == '-' || *s == '+')
    goto bad;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) goto bad;
  *out = v;
  return NULL;
bad:
  return MLC_ERR(INVALID_MODEL, "%s: external data %s '%s' is not "
                 "a number", what, key, s ? s : "");
}

/* Why component `name` of an external location could not be opened. */
static mlc_status_t *component_error(int dfd, const char *name, int err,
                                     const char *loc, const char *what) {
  struct stat sb;
  if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
    return MLC_ERR(INVALID_MODEL, "%s: external data location '%s': '%s' "
                   "is a symbolic link (links inside the model folder are "
                   "not followed)", what, loc, name);
  return MLC_ERR(IO_ERROR, "%s: external data location '%s': '%s': %s",
                 what, loc, name, strerror(err));
}

/* Opens `loc` below `dir` one component at a time with O_NOFOLLOW, so that
 * no symbolic link (to a file or to a directory) leads out of the model
 * folder, and checks that it is a regular file (a FIFO would block). */
static mlc_status_t *open_beneath(const char *dir, const char *loc,
                                  const char *what, int *out_fd,
                                  uint64_t *out_size) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return MLC_ERR(IO_ERROR, "%s: model folder '%s': %s", what, dir,
                   strerror(errno));
  char *rest = strdup(loc);
  if (!rest) {
    close(dfd);
    return MLC_ERR(OUT_OF_MEMORY, "%s", what);
  }
  mlc_status_t *st = NULL;
  char *name = rest, *slash;
  while (!st && (slash = strchr(name, '/'))) {
    *slash = 0;
    if (*name && strcmp(name, ".") != 0) {
      int nfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                      O_CLOEXEC);
      if (nfd < 0) st = component_error(dfd, name, errno, loc, what);
      close(dfd);
      dfd = nfd;
    }
    name = slash + 1;
  }
  if (!st && (!*name || strcmp(name, ".") == 0))
    st = MLC_ERR(INVALID_MODEL, "%s: external data location '%s' does not "
                 "name a file", what, loc);
  struct stat sb; /* a clear message for a link; O_NOFOLLOW still guards */
  if (!st && fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(sb.st_mode))
    st = component_error(dfd, name, ELOOP, loc, what);
  if (!st) {
    char *w = malloc(strlen(what) + strlen(loc) + 32);
    if (w) sprintf(w, "%s: external data '%s'", what, loc);
    st = w ? mlc_file_open_regular(dfd, name, O_NOFOLLOW, w, out_fd, out_size)
           : MLC_ERR(OUT_OF_MEMORY, "%s", what);
    free(w);
  }
  if (dfd >= 0) close(dfd);
  free(rest);
  return st;
}

/* mmaps [offset, offset+nbytes) of the open external file `fd` of `fsize`
 * bytes; `loc` names it in messages. */
static mlc_status_t *map_external(int fd, uint64_t fsize, const char *loc,
                                  uint64_t offset, bool has_length,
                                  uint64_t length, size_t nbytes,
                                  const char *what, mlc_onnx_tensor_t *out) {
  if (has_length && length != nbytes)
    return MLC_ERR(INVALID_MODEL, "%s: external data length %llu, "
                   "but dims and dtype need %zu bytes", what,
                   (unsigned long long)length, nbytes);
  if (offset > fsize || nbytes > fsize - offset)
    return MLC_ERR(INVALID_MODEL, "%s: external data [%llu, +%zu) "
                   "is past the end of '%s' (%llu bytes)", what,
                   (unsigned long long)offset, nbytes, loc,
                   (unsigned long long)fsize);
  long page = sysconf(_SC_PAGESIZE);
  uint64_t start = offset - offset % (uint64_t)(page > 0 ? page : 4096);
  size_t maplen = (size_t)(offset - start) + nbytes;
  void *addr = maplen ? mmap(NULL, maplen, PROT_READ, MAP_PRIVATE, fd,
                             (off_t)start) : NULL;
  if (maplen && addr == MAP_FAILED)
    return MLC_ERR(IO_ERROR, "%s: mmap '%s': %s", what, loc,
                   strerror(errno));
  out->kind = MLC_ONNX_DATA_MAP;
  out->map_addr = addr;
  out->map_len = maplen;
  out->data = addr ? (const uint8_t *)addr + (offset - start) : NULL;
  return NULL;
}

static mlc_status_t *decode_external(const Onnx__TensorProto *tp,
                                     const char *base_dir, size_t nbytes,
                                     const char *what, mlc_onnx_tensor_t *out) {
  const char *loc = NULL;
  uint64_t offset = 0, length = 0;
  bool has_length = false;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const char *k = tp->external_data[i]->key, *v = tp->external_data[i]->value;
    if (!k) continue;
    if (strcmp(k, "location") == 0) {
      loc = v;
    } else if (strcmp(k, "offset") == 0) {
      MLC_RETURN_IF(parse_u64(v, k, what, &offset));
    } else if (strcmp(k, "length") == 0) {
      MLC_RETURN_IF(parse_u64(v, k, what, &length));
      has_length = true;
    }
  }
  MLC_RETURN_IF(check_location(loc, what));
  const char *dir = base_dir && *base_dir ? base_dir : ".";
  int fd;
  uint64_t fsize;
  MLC_RETURN_IF(open_beneath(dir, loc, what, &fd, &fsize));
  mlc_status_t *st = map_external(fd, fsize, loc, offset, has_length, length,
                                  nbytes, what, out);
  close(fd);
  return st;
}

mlc_status_t *mlc_onnx_tensor_decode(const Onnx__TensorProto *tp,
                                     const char *base_dir, const char *what,
                                     mlc_onnx_tensor_t *out) {
  memset(out, 0, sizeof *out);
  if (!tp->has_data_type)
    return MLC_ERR(INVALID_MODEL, "%s: no data type", what);
  mlc_dtype_t dt;
  MLC_RETURN_IF(mlc_onnx_dtype_check(tp->data_type, what, &dt));
  size_t esize = mlc_dtype_size(dt), per_elem;
  field_t f = typed_field(dt, &per_elem);
  if (!esize || f == F_NONE)
    return MLC_ERR(UNSUPPORTED, "%s: data type %s is not supported",
                   what, mlc_dtype_name(dt));
  size_t numel = 0, nbytes = 0;
  MLC_RETURN_IF(tensor_size(tp, esize, what, &numel, &nbytes));
  out->dtype = dt;
  out->rank = (int)tp->n_dims;
  out->dims = tp->dims;
  out->nbytes = nbytes;
  if (tp->has_data_location &&
      tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return decode_external(tp, base_dir, nbytes, what, out);
  if (tp->has_raw_data) {
    if (tp->raw_data.len != nbytes)
      return MLC_ERR(INVALID_MODEL, "%s: raw_data has %zu bytes, "
                     "dims and dtype %s need %zu", what, tp->raw_data.len,
                     mlc_dtype_name(dt), nbytes);
    out->kind = MLC_ONNX_DATA_PROTO;
    out->data = tp->raw_data.data;
    return NULL;
  }
  size_t have = field_count(tp, f);
  if (have / per_elem != numel || have % per_elem)
    return MLC_ERR(INVALID_MODEL, "%s: %zu typed values for %zu "
                   "elements of %s", what, have, numel, mlc_dtype_name(dt));
  /* Fields whose layout is already the packed one are used in place. */
  const void *direct = f == F_FLOAT ? (const void *)tp->float_data
                       : f == F_INT64 ? (const void *)tp->int64_data
                       : f == F_DOUBLE ? (const void *)tp->double_data
                       : f == F_UINT64 && esize == 8 ? (const void *)tp->uint64_data
                       : NULL;
  if (direct || !nbytes) {
    out->kind = MLC_ONNX_DATA_PROTO;
    out->data = direct;
    return NULL;
  }
  return unpack_typed(tp, f, esize / per_elem, have, nbytes, what, out);
}

void mlc_onnx_tensor_release(mlc_onnx_tensor_t *t) {
  if (t->kind == MLC_ONNX_DATA_HEAP) free(t->heap);
  if (t->kind == MLC_ONNX_DATA_MAP && t->map_addr)
    munmap(t->map_addr, t->map_len);
  t->heap = t->map_addr = NULL;
  t->kind = MLC_ONNX_DATA_PROTO;
}

/* Detaches the block at `p` (raw_data or a typed array) from the unpacked
 * proto so protobuf-c will not free it; false if `p` is none of them.
 * protobuf-c's default allocator is malloc, so the graph can free() it. */
static bool steal_block(Onnx__TensorProto *tp, const void *p, bool detach) {
  if (!detach)
    return p == tp->raw_data.data || p == tp->float_data ||
           p == tp->int64_data || p == tp->double_data || p == tp->uint64_data;
  if (p == tp->raw_data.data) {
    tp->raw_data.data = NULL;
    tp->raw_data.len = 0;
    tp->has_raw_data = 0;
  } else if (p == tp->float_data) {
    tp->float_data = NULL;
    tp->n_float_data = 0;
  } else if (p == tp->int64_data) {
    tp->int64_data = NULL;
    tp->n_int64_data = 0;
  } else if (p == tp->double_data) {
    tp->double_data = NULL;
    tp->n_double_data = 0;
  } else if (p == tp->uint64_data) {
    tp->uint64_data = NULL;
    tp->n_uint64_data = 0;
  } else {
    return false;
  }
  return true;
}

/* Moves the decoded data into the graph's ownership; *data gets the
 * pointer the graph keeps.  On failure the decoded tensor still owns it. */
static mlc_status_t *hand_to_graph(mlc_graph_t *g, Onnx__TensorProto *tp,
                                   mlc_onnx_tensor_t *t, const char *what,
                                   const void **data) {
  switch (t->kind) {
  case MLC_ONNX_DATA_HEAP:
    if (!mlc_graph_adopt_heap(g, t->heap)) break;
    t->kind = MLC_ONNX_DATA_PROTO; /* no longer ours to free */
    *data = t->data;
    return NULL;
  case MLC_ONNX_DATA_MAP:
    if (t->map_addr && !mlc_graph_add_mapping(g, t->map_addr, t->map_len))
      break;
    t->kind = MLC_ONNX_DATA_PROTO;
    *data = t->data ? t->data : mlc_arena_alloc(&g->arena, 1);
    return *data ? NULL : MLC_ERR(OUT_OF_MEMORY, "%s", what);
  case MLC_ONNX_DATA_PROTO:
    if (t->nbytes && steal_block(tp, t->data, false) &&
        mlc_graph_adopt_heap(g, (void *)t->data)) {
      steal_block(tp, t->data, true);
      *data = t->data;
      return NULL;
    }
    *data = mlc_arena_memdup(&g->arena, t->data, t->nbytes);
    return *data ? NULL : MLC_ERR(OUT_OF_MEMORY, "%s", what);
  }
  return MLC_ERR(OUT_OF_MEMORY, "%s", what);
}

mlc_status_t *mlc_onnx_tensor_to_graph(mlc_graph_t *g, Onnx__TensorProto *tp,
                                       const char *base_dir, const char *what,
                                       mlc_tensor_t *out) {
  mlc_onnx_tensor_t t;
  MLC_RETURN_IF(mlc_onnx_tensor_decode(tp, base_dir, what, &t));
  int64_t *dims = mlc_arena_memdup(&g->arena, t.dims,
                                   (size_t)t.rank * sizeof *dims);
  const void *data = NULL;
  mlc_status_t *st = dims ? hand_to_graph(g, tp, &t, what, &data)
                          : MLC_ERR(OUT_OF_MEMORY, "%s", what);
  if (st) {
    mlc_onnx_tensor_release(&t);
    return st;
  }
  *out = (mlc_tensor_t){t.dtype, t.rank, dims, data, t.nbytes};
  return NULL;
}

/* ---- .pb tensor files ---- */

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return strdup(".");
  if (slash == path) return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

/* Copies the decoded tensor into malloc'ed storage for the caller. */
static mlc_status_t *tensor_to_heap(const mlc_onnx_tensor_t *d,
                                    mlc_tensor_t **out_tensor) {
  mlc_tensor_t *t = calloc(1, sizeof *t);
  int64_t *dims = malloc(sizeof *dims * (size_t)(d->rank ? d->rank : 1));
  void *data = malloc(d->nbytes ? d->nbytes : 1);
  if (!t || !dims || !data) {
    free(t);
    free(dims);
    free(data);
    return MLC_ERR(OUT_OF_MEMORY, "reading tensor");
  }
  if (d->rank) memcpy(dims, d->dims, sizeof *dims * (size_t)d->rank);
  if (d->nbytes) memcpy(data, d->data, d->nbytes);
  *t = (mlc_tensor_t){d->dtype, d->rank, dims, data, d->nbytes};
  *out_tensor = t;
  return NULL;
}

mlc_status_t *mlc_onnx_read_tensor_file(const char *path, char **out_name,
                                        mlc_tensor_t **out_tensor) {
  if (out_name) *out_name = NULL;
  *out_tensor = NULL;
  void *buf;
  size_t len;
  MLC_RETURN_IF(mlc_onnx_read_file(path, &buf, &len));
  Onnx__TensorProto *tp;
  mlc_status_t *st = mlc_onnx_unpack_tensor(buf, len, &tp);
  free(buf);
  if (st) return mlc_status_annotate(st, "%s", path);
  char *dir = dir_of(path);
  char what[256];
  snprintf(what, sizeof what, "tensor '%.200s'",
           tp->name && *tp->name ? tp->name : "");
  mlc_onnx_tensor_t d;
  st = dir ? mlc_onnx_tensor_decode(tp, dir, what, &d)
           : MLC_ERR(OUT_OF_MEMORY, "%s", path);
  free(dir);
  if (!st) {
    st = tensor_to_heap(&d, out_tensor);
    mlc_onnx_tensor_release(&d);
  }
  if (!st && out_name) {
    *out_name = strdup(tp->name ? tp->name : "");
    if (!*out_name) {
      mlc_tensor_free(*out_tensor);
      *out_tensor = NULL;
      st = MLC_ERR(OUT_OF_MEMORY, "%s", path);
    }
  }
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return st ? mlc_status_annotate(st, "%s", path) : NULL;
}

mlc_status_t *mlc_onnx_write_tensor_file(const char *path, const char *name,
                                         const mlc_tensor_t *t) {
  if (!t || t->rank < 0 || (t->rank && !t->dims) || (t->nbytes && !t->data))
    return MLC_ERR(INVALID_ARGUMENT, "%s: bad tensor to write", path);
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  tp.n_dims = (size_t)t->rank;
  tp.dims = t->dims;
  tp.has_data_type = 1;
  tp.data_type = (int32_t)t->dtype;
  tp.name = (char *)(name ? name : "");
  tp.has_raw_data = 1;
  tp.raw_data.len = t->nbytes;
  tp.raw_data.data = (uint8_t *)t->data;
  size_t n = onnx__tensor_proto__get_packed_size(&tp);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return MLC_ERR(OUT_OF_MEMORY, "%s: packing tensor", path);
  onnx__tensor_proto__pack(&tp, buf);
  FILE *f = fopen(path, "wb");
  if (!f) {
    free(buf);
    return MLC_ERR(IO_ERROR, "%s: %s", path, strerror(errno));
  }
  size_t w = fwrite(buf, 1, n, f);
  free(buf);
  if (fclose(f) != 0 || w != n)
    return MLC_ERR(IO_ERROR, "%s: write failed", path);
  return NULL;
}

void mlc_tensor_free(mlc_tensor_t *t) {
  if (!t) return;
  free(t->dims);
  free((void *)t->data);
  free(t);
}
