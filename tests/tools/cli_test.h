/* What the tests that run the `mlc` command share: a minimal protobuf
 * writer, to make ONNX models without Python or data files, and a runner
 * that captures the command's exit code, stdout and stderr.  Include it
 * after <cmocka.h>; each test program runs in a folder of its own (the
 * runner writes e2e.out and e2e.err in the current folder). */
#ifndef MLC_TESTS_TOOLS_CLI_TEST_H
#define MLC_TESTS_TOOLS_CLI_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MLC MLC_BUILD_DIR "/tools/mlc"

/* ---- a minimal protobuf writer ----------------------------------------- */

typedef struct pb {
  unsigned char buf[4096];
  size_t len;
} pb_t;

static inline void pb_varint(pb_t *p, uint64_t v) {
  do {
    unsigned char b = v & 0x7f;
    v >>= 7;
    p->buf[p->len++] = (unsigned char)(b | (v ? 0x80 : 0));
  } while (v);
}

static inline void pb_int(pb_t *p, int field, uint64_t v) {
  pb_varint(p, (uint64_t)field << 3);
  pb_varint(p, v);
}

static inline void pb_bytes(pb_t *p, int field, const void *data, size_t n) {
  pb_varint(p, (uint64_t)field << 3 | 2);
  pb_varint(p, n);
  memcpy(p->buf + p->len, data, n);
  p->len += n;
}

static inline void pb_str(pb_t *p, int field, const char *s) {
  pb_bytes(p, field, s, strlen(s));
}

static inline void pb_msg(pb_t *p, int field, const pb_t *m) {
  pb_bytes(p, field, m->buf, m->len);
}

/* ---- running the command ----------------------------------------------- */

static char out_text[65536], err_text[65536];

static inline void slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
  buf[n] = '\0';
  if (f) fclose(f);
}

/* Runs "mlc ARGS" in the current folder; returns its exit code. */
static inline int mlc(const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' %s >e2e.out 2>e2e.err", MLC, args);
  int st = system(cmd);
  slurp("e2e.out", out_text, sizeof out_text);
  slurp("e2e.err", err_text, sizeof err_text);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define EXPECT(code, args)                                                 \
  do {                                                                     \
    int rc_ = mlc(args);                                                   \
    if (rc_ != (code))                                                     \
      fail_msg("mlc %s: exit %d, wanted %d\nstdout: %s\nstderr: %s", args, \
               rc_, code, out_text, err_text);                             \
  } while (0)

#endif
