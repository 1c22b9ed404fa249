/* Helpers for the runtime tests: build fake model libraries from
 * tests/runtime/data/fixture_model.c with the system C compiler ($CC or cc) into a fresh
 * temporary folder, and write side weights files.  Header-only (static
 * functions) because tests/CMakeLists.txt builds each test_*.c alone.
 */
#ifndef MLC_TESTS_RUNTIME_FIXTURE_H
#define MLC_TESTS_RUNTIME_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlc/model_abi.h"

#define FIX_N 1024

/* A fresh folder under $TMPDIR (or /tmp); NULL on failure. */
static inline char *fixture_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/mlcrt-test-XXXXXX", base ? base : "/tmp");
  return mkdtemp(buf);
}

static inline void fixture_rmdir(const char *dir) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Compiles the fixture with `defines` into <dir>/<name>; returns 0 on
 * success and writes the library's path into `path`. */
static inline int fixture_build(const char *dir, const char *name,
                                const char *defines, char *path,
                                size_t len) {
  const char *cc = getenv("CC");
  char cmd[2048];
  snprintf(path, len, "%s/%s", dir, name);
  snprintf(cmd, sizeof cmd,
           "%s -shared -fPIC -O1 -I'%s/include' %s -o '%s' "
           "'%s/tests/runtime/data/fixture_model.c'",
           cc && cc[0] ? cc : "cc", MLC_SOURCE_DIR, defines, path,
           MLC_SOURCE_DIR);
  int rc = system(cmd);
  if (rc != 0) fprintf(stderr, "fixture build failed: %s\n", cmd);
  return rc;
}

/* FNV-1a 64, written again here so the test does not trust the runtime's. */
static inline uint64_t fixture_fnv_from(uint64_t h, const void *data,
                                        size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static inline uint64_t fixture_fnv(const void *data, size_t n) {
  return fixture_fnv_from(14695981039346656037ull, data, n);
}

/* The weights the fixture expects: w[i] = i * 0.5. */
static inline void fixture_weights(float *w) {
  for (int i = 0; i < FIX_N; i++) w[i] = (float)i * 0.5f;
}

/* Writes `n` bytes of `data` to <dir>/<name>; 0 on success. */
static inline int fixture_write(const char *dir, const char *name,
                                const void *data, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(data, 1, n, f);
  return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* The build id of the fixture (ABI 3): bytes 1..16. */
static inline void fixture_build_id(uint8_t id[16]) {
  for (int i = 0; i < 16; i++) id[i] = (uint8_t)(i + 1);
}

/* Writes an ABI-3 side weights file: the header (with `id`, or the
 * fixture's build id when NULL) and then the blob; 0 on success. */
static inline int fixture_write_weights_id(const char *dir, const char *name,
                                           const void *blob, size_t n,
                                           const uint8_t *id) {
  size_t hb = sizeof(mlc_abi_weights_header_t);
  mlc_abi_weights_header_t h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, MLC_ABI_WEIGHTS_MAGIC, sizeof h.magic);
  h.version = MLC_ABI_WEIGHTS_VERSION;
  h.header_bytes = (uint32_t)hb;
  h.weights_bytes = n;
  if (id) memcpy(h.build_id, id, 16);
  else fixture_build_id(h.build_id);
  char *buf = malloc(hb + n);
  if (!buf) return -1;
  memcpy(buf, &h, hb);
  memcpy(buf + hb, blob, n);
  int rc = fixture_write(dir, name, buf, hb + n);
  free(buf);
  return rc;
}

static inline int fixture_write_weights(const char *dir, const char *name,
                                        const void *blob, size_t n) {
  return fixture_write_weights_id(dir, name, blob, n, NULL);
}

#endif
