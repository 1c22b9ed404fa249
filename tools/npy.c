/* NumPy .npy reading and writing, and host tensor helpers (see npy.h).
 *
 * The header is a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * parsed here by a small scanner that accepts either quote style, any
 * key order, spaces anywhere and Python 2 long suffixes ("3L").  Every
 * read is bounds-checked against the buffer, so a malformed or truncated
 * file gives an error.  Assumes a little-endian host (checked below). */
#include "tools/npy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the npy code assumes a little-endian host"
#endif

void mlc_host_tensor_free(mlc_host_tensor_t *t) {
  if (!t) return;
  free(t->data);
  memset(t, 0, sizeof *t);
}

int64_t mlc_shape_numel(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return -1;
    if (dims[i] != 0 && n > INT64_MAX / dims[i]) return -1;
    n *= dims[i];
  }
  return n;
}

void mlc_shape_format(int rank, const int64_t *dims, char *buf, size_t cap) {
  size_t len = 0;
  if (cap == 0) return;
  buf[0] = '\0';
  len += (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < rank && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "",
                            (long long)dims[i]);
  if (len < cap) snprintf(buf + len, cap - len, "]");
}

static const struct {
  mlc_dtype_t dt;
  const char *descr;
} descrs[] = {
    {MLC_DT_F16, "<f2"}, {MLC_DT_F32, "<f4"}, {MLC_DT_F64, "<f8"},
    {MLC_DT_I8, "|i1"},  {MLC_DT_I16, "<i2"}, {MLC_DT_I32, "<i4"},
    {MLC_DT_I64, "<i8"}, {MLC_DT_U8, "|u1"},  {MLC_DT_U16, "<u2"},
    {MLC_DT_U32, "<u4"}, {MLC_DT_U64, "<u8"}, {MLC_DT_BOOL, "|b1"},
};
#define NDESCRS (sizeof descrs / sizeof *descrs)

const char *mlc_npy_descr(mlc_dtype_t dt) {
  for (size_t i = 0; i < NDESCRS; i++)
    if (descrs[i].dt == dt) return descrs[i].descr;
  return NULL;
}

/* Maps a descr string ("<f4", "=i8", "|u1", ">i1") to a dtype.  Byte order
 * does not matter for one-byte types; '=' is the (little-endian) host's. */
static mlc_status_t *descr_to_dtype(const char *s, size_t len,
                                    const char *what, mlc_dtype_t *out) {
  bool one_byte = len == 3 && s[2] == '1';
  bool little = len >= 2 && (s[0] == '<' || s[0] == '=' || s[0] == '|');
  if (len >= 2 && s[0] == '>' && !one_byte)
    return MLC_ERR(UNSUPPORTED, "%s: big-endian dtype '%.*s' is not supported",
                   what, (int)len, s);
  if (little || (len >= 2 && s[0] == '>')) {
    for (size_t i = 0; i < NDESCRS; i++)
      if (strlen(descrs[i].descr) == len &&
          memcmp(descrs[i].descr + 1, s + 1, len - 1) == 0) {
        *out = descrs[i].dt;
        return NULL;
      }
  }
  return MLC_ERR(UNSUPPORTED,
                 "%s: unsupported npy dtype '%.*s' (supported: <f2 <f4 <f8 "
                 "<i1..<i8 <u1..<u8 |b1)", what, (int)len, s);
}

/* ---- header scanner ---------------------------------------------------- */

typedef struct scan {
  const char *p, *end;
  const char *what;
} scan_t;

static void skip_ws(scan_t *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' ||
                           *s->p == '\r'))
    s->p++;
}

static bool eat(scan_t *s, char c) {
  skip_ws(s);
  if (s->p < s->end && *s->p == c) {
    s->p++;
    return true;
  }
  return false;
}

static mlc_status_t *bad_header(const scan_t *s, const char *why) {
  return MLC_ERR(INVALID_ARGUMENT, "%s: malformed npy header: %s", s->what, why);
}

/* A quoted string; sets *str and *len to its contents (no escapes needed). */
static mlc_status_t *scan_string(scan_t *s, const char **str, size_t *len) {
  skip_ws(s);
  if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
    return bad_header(s, "expected a quoted string");
  char q = *s->p++;
  const char *start = s->p;
  while (s->p < s->end && *s->p != q) s->p++;
  if (s->p >= s->end) return bad_header(s, "unterminated string");
  *str = start;
  *len = (size_t)(s->p - start);
  s->p++;
  return NULL;
}

static bool scan_word(scan_t *s, const char *w) {
  skip_ws(s);
  size_t n = strlen(w);
  if ((size_t)(s->end - s->p) >= n && memcmp(s->p, w, n) == 0) {
    s->p += n;
    return true;
  }
  return false;
}

static mlc_status_t *scan_shape(scan_t *s, int *rank, int64_t *dims) {
  if (!eat(s, '(')) return bad_header(s, "'shape' is not a tuple");
  *rank = 0;
  for (;;) {
    if (eat(s, ')')) return NULL;
    skip_ws(s);
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
      return bad_header(s, "shape entries must be non-negative integers");
    int64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
      if (v > (INT64_MAX - 9) / 10) return bad_header(s, "dim too large");
      v = v * 10 + (*s->p++ - '0');
    }
    if (s->p < s->end && (*s->p == 'L' || *s->p == 'l')) s->p++;
    if (*rank >= MLC_HOST_MAX_RANK)
      return bad_header(s, "rank above 32");
    dims[(*rank)++] = v;
    if (!eat(s, ',')) {
      if (!eat(s, ')')) return bad_header(s, "expected ',' or ')' in shape");
      return NULL;
    }
  }
}

typedef struct header {
  const char *descr;
  size_t descr_len;
  bool fortran, have_descr, have_shape;
  int rank;
  int64_t dims[MLC_HOST_MAX_RANK];
} header_t;

static mlc_status_t *scan_entry(scan_t *s, header_t *h) {
  const char *key;
  size_t klen;
  MLC_RETURN_IF(scan_string(s, &key, &klen));
  if (!eat(s, ':')) return bad_header(s, "expected ':'");
  if (klen == 5 && memcmp(key, "descr", 5) == 0) {
    h->have_descr = true;
    return scan_string(s, &h->descr, &h->descr_len);
  }
  if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
    if (scan_word(s, "True")) h->fortran = true;
    else if (scan_word(s, "False")) h->fortran = false;
    else return bad_header(s, "'fortran_order' is not True or False");
    return NULL;
  }
  if (klen == 5 && memcmp(key, "shape", 5) == 0) {
    h->have_shape = true;
    return scan_shape(s, &h->rank, h->dims);
  }
  return bad_header(s, "unknown key");
}

static mlc_status_t *scan_header(scan_t *s, header_t *h) {
  if (!eat(s, '{')) return bad_header(s, "expected '{'");
  for (;;) {
    if (eat(s, '}')) break;
    MLC_RETURN_IF(scan_entry(s, h));
    if (!eat(s, ',')) {
      if (!eat(s, '}')) return bad_header(s, "expected ',' or '}'");
      break;
    }
  }
  if (!h->have_descr) return bad_header(s, "no 'descr'");
  if (!h->have_shape) return bad_header(s, "no 'shape'");
  return NULL;
}

/* ---- reading ----------------------------------------------------------- */

static uint32_t le32(const unsigned char *p) {
  return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Finds the header text: its offset *hoff and length *hlen. */
static mlc_status_t *locate_header(const unsigned char *b, size_t len,
                                   const char *what, size_t *hoff,
                                   size_t *hlen) {
  if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
    return MLC_ERR(INVALID_ARGUMENT, "%s: not an npy file (bad magic)", what);
  int major = b[6];
  if (major == 1) {
    *hoff = 10;
    *hlen = (size_t)b[8] | (size_t)b[9] << 8;
  } else if (major == 2 || major == 3) {
    if (len < 12)
      return MLC_ERR(INVALID_ARGUMENT, "%s: truncated npy header", what);
    *hoff = 12;
    *hlen = le32(b + 8);
  } else {
    return MLC_ERR(UNSUPPORTED, "%s: npy format version %d.%d", what, major,
                   b[7]);
  }
  if (*hlen > len - *hoff)
    return MLC_ERR(INVALID_ARGUMENT, "%s: truncated npy header (%zu bytes "
                   "announced, %zu present)", what, *hlen, len - *hoff);
  return NULL;
}

static mlc_status_t *check_layout(const header_t *h, const char *what) {
  int big = 0;
  for (int i = 0; i < h->rank; i++) big += h->dims[i] > 1;
  if (h->fortran && big > 1)
    return MLC_ERR(UNSUPPORTED, "%s: Fortran-order arrays are not supported "
                   "(save with numpy.ascontiguousarray)", what);
  return NULL;
}

mlc_status_t *mlc_npy_parse(const void *buf, size_t len, const char *what,
                            mlc_host_tensor_t *out) {
  const unsigned char *b = buf;
  size_t hoff = 0, hlen = 0;
  memset(out, 0, sizeof *out);
  MLC_RETURN_IF(locate_header(b, len, what, &hoff, &hlen));
  scan_t s = {(const char *)b + hoff, (const char *)b + hoff + hlen, what};
  header_t h = {0};
  MLC_RETURN_IF(scan_header(&s, &h));
  MLC_RETURN_IF(check_layout(&h, what));
  mlc_dtype_t dt = MLC_DT_UNDEFINED;
  MLC_RETURN_IF(descr_to_dtype(h.descr, h.descr_len, what, &dt));
  int64_t n = mlc_shape_numel(h.rank, h.dims);
  size_t esize = mlc_dtype_size(dt);
  if (n < 0 || (uint64_t)n > SIZE_MAX / esize)
    return MLC_ERR(INVALID_ARGUMENT, "%s: shape too large", what);
  size_t nbytes = (size_t)n * esize, avail = len - hoff - hlen;
  if (avail < nbytes)
    return MLC_ERR(INVALID_ARGUMENT, "%s: truncated data: %zu bytes expected, "
                   "%zu present", what, nbytes, avail);
  void *data = malloc(nbytes ? nbytes : 1);
  if (!data) return MLC_ERR(OUT_OF_MEMORY, "%s: %zu bytes", what, nbytes);
  memcpy(data, b + hoff + hlen, nbytes);
  out->dtype = dt;
  out->rank = h.rank;
  memcpy(out->dims, h.dims, sizeof h.dims);
  out->data = data;
  out->nbytes = nbytes;
  return NULL;
}

mlc_status_t *mlc_npy_read_file(const char *path, mlc_host_tensor_t *out) {
  unsigned char *buf = NULL;
  size_t len = 0;
  memset(out, 0, sizeof *out);
  /* A regular file only: a FIFO would block, /dev/zero never end. */
  MLC_RETURN_IF(mlc_file_read_all(path, UINT64_MAX, (void **)&buf, &len));
  mlc_status_t *st = mlc_npy_parse(buf, len, path, out);
  free(buf);
  return st;
}

/* ---- writing ----------------------------------------------------------- */

mlc_status_t *mlc_npy_write(FILE *f, const char *what,
                            const mlc_host_tensor_t *t) {
  const char *descr = mlc_npy_descr(t->dtype);
  if (!descr && t->dtype == MLC_DT_BF16)
    return MLC_ERR(UNSUPPORTED, "%s: bfloat16 has no npy dtype; use "
                   "--output-format pb", what);
  if (!descr)
    return MLC_ERR(UNSUPPORTED, "%s: dtype %s has no npy equivalent", what,
                   mlc_dtype_name(t->dtype));
  if (t->rank < 0 || t->rank > MLC_HOST_MAX_RANK)
    return MLC_ERR(INVALID_ARGUMENT, "%s: rank %d", what, t->rank);
  char dict[64 + MLC_HOST_MAX_RANK * 24];
  int n = snprintf(dict, sizeof dict,
                   "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < t->rank; i++)
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld%s",
                  (long long)t->dims[i], t->rank == 1 ? "," : (i + 1 < t->rank ? ", " : ""));
  n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
  /* Pad with spaces so that preamble + header + '\n' is a multiple of 64. */
  size_t pre = 10, total = pre + (size_t)n + 1;
  if (total - pre > 65535) pre = 12, total += 2;
  size_t pad = (64 - total % 64) % 64, hlen = (size_t)n + pad + 1;
  unsigned char head[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', pre == 10 ? 1 : 2, 0};
  for (size_t i = 0; i < pre - 8; i++) head[8 + i] = (unsigned char)(hlen >> (8 * i));
  bool ok = fwrite(head, 1, pre, f) == pre &&
            fwrite(dict, 1, (size_t)n, f) == (size_t)n;
  for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF;
  ok = ok && (t->nbytes == 0 || fwrite(t->data, 1, t->nbytes, f) == t->nbytes);
  if (!ok) return MLC_ERR(IO_ERROR, "%s: write failed: %s", what, strerror(errno));
  return NULL;
}

mlc_status_t *mlc_npy_write_file(const char *path, const mlc_host_tensor_t *t) {
  FILE *f = fopen(path, "wb");
  if (!f) return MLC_ERR(IO_ERROR, "%s: %s", path, strerror(errno));
  mlc_status_t *st = mlc_npy_write(f, path, t);
  if (fclose(f) != 0 && !st)
    st = MLC_ERR(IO_ERROR, "%s: %s", path, strerror(errno));
  if (st) remove(path);
  return st;
}
