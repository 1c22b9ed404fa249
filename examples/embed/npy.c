/* The .npy reader of the embedding example (see npy.h).
 *
 * Layout: "\x93NUMPY", major, minor, a header length (2 bytes in version 1,
 * 4 in versions 2 and 3, little-endian), then a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (360, 1, 8, 8), }
 * padded with spaces, then the raw data.  The dict is read with plain string
 * scanning; big-endian data and Fortran order are refused.
 */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int npy_fail(char *err, size_t len, const char *path, const char *what) {
  snprintf(err, len, "%s: %s", path, what);
  return -1;
}

/* Finds the value after 'key': in the dict text, or NULL. */
static const char *dict_value(const char *dict, const char *key) {
  const char *p = strstr(dict, key);
  if (!p) return NULL;
  p = strchr(p + strlen(key), ':');
  if (!p) return NULL;
  for (p++; *p == ' '; p++) {
  }
  return p;
}

static int parse_descr(const char *dict, embed_npy_t *out) {
  const char *v = dict_value(dict, "'descr'");
  if (!v || (*v != '\'' && *v != '"')) return -1;
  size_t n = strcspn(v + 1, "'\"");
  if (n < 3 || n >= sizeof out->descr) return -1;
  memcpy(out->descr, v + 1, n);
  out->descr[n] = '\0';
  char order = out->descr[0];
  long size = strtol(out->descr + 2, NULL, 10);
  if ((order != '<' && order != '|' && !(order == '>' && size == 1)) ||
      size <= 0 || size > 16)
    return -1;
  out->elem_size = (size_t)size;
  return 0;
}

static int parse_shape(const char *dict, embed_npy_t *out) {
  const char *v = dict_value(dict, "'shape'");
  if (!v || *v != '(') return -1;
  v++;
  out->rank = 0;
  for (;;) {
    while (*v == ' ' || *v == ',') v++;
    if (*v == ')') return 0;
    if (!isdigit((unsigned char)*v) || out->rank == EMBED_NPY_MAX_RANK)
      return -1;
    char *end;
    errno = 0;
    long long d = strtoll(v, &end, 10);
    if (errno || d < 0) return -1;
    out->dims[out->rank++] = d;
    v = end;
  }
}

/* Reads and checks the header; leaves f at the start of the data. */
static int read_header(FILE *f, const char *path, embed_npy_t *out, char *err,
                       size_t err_len) {
  unsigned char pre[10];
  if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0)
    return npy_fail(err, err_len, path, "not a .npy file (bad magic)");
  int major = pre[6];
  size_t lenbytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3 || fread(pre, 1, lenbytes, f) != lenbytes)
    return npy_fail(err, err_len, path, "unsupported .npy version");
  size_t hlen = pre[0] | (size_t)pre[1] << 8;
  if (lenbytes == 4) hlen |= (size_t)pre[2] << 16 | (size_t)pre[3] << 24;
  char *dict = malloc(hlen + 1);
  if (!dict) return npy_fail(err, err_len, path, "out of memory");
  int rc = -1;
  if (fread(dict, 1, hlen, f) != hlen) {
    npy_fail(err, err_len, path, "truncated header");
  } else {
    dict[hlen] = '\0';
    const char *fo = dict_value(dict, "'fortran_order'");
    if (parse_descr(dict, out) != 0)
      npy_fail(err, err_len, path, "unsupported dtype (need little-endian)");
    else if (!fo || strncmp(fo, "False", 5) != 0)
      npy_fail(err, err_len, path, "Fortran order is not supported");
    else if (parse_shape(dict, out) != 0)
      npy_fail(err, err_len, path, "cannot read the shape");
    else
      rc = 0;
  }
  free(dict);
  return rc;
}

int embed_npy_read(const char *path, embed_npy_t *out, char *err,
                   size_t err_len) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return npy_fail(err, err_len, path, strerror(errno));
  int rc = read_header(f, path, out, err, err_len);
  if (rc == 0) {
    size_t n = out->elem_size;
    for (int i = 0; i < out->rank; i++) n *= (size_t)out->dims[i];
    out->nbytes = n;
    out->data = malloc(n ? n : 1);
    if (!out->data)
      rc = npy_fail(err, err_len, path, "out of memory");
    else if (fread(out->data, 1, n, f) != n || fgetc(f) != EOF)
      rc = npy_fail(err, err_len, path, "data size does not match the shape");
  }
  fclose(f);
  if (rc != 0) embed_npy_free(out);
  return rc;
}

void embed_npy_free(embed_npy_t *npy) {
  free(npy->data);
  npy->data = NULL;
}
