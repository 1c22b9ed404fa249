/* A minimal ONNX writer for the tools tests: a protobuf encoder just big
 * enough for ModelProto with float inputs, outputs and initializers, so
 * the tests need no Python and no data files.  Header-only (static
 * functions) because tests/CMakeLists.txt builds each test_*.c alone.
 * (test_cli_e2e.c has an older copy of the encoder for its fixed model.) */
#ifndef MLC_TESTS_TOOLS_MODEL_WRITER_H
#define MLC_TESTS_TOOLS_MODEL_WRITER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mw_buf {
  unsigned char *buf;
  size_t len, cap;
} mw_buf_t;

static void mw_put(mw_buf_t *p, const void *data, size_t n) {
  if (p->len + n > p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 256;
    while (cap < p->len + n) cap *= 2;
    p->buf = realloc(p->buf, cap);
    if (!p->buf) abort();
    p->cap = cap;
  }
  memcpy(p->buf + p->len, data, n);
  p->len += n;
}

static void mw_varint(mw_buf_t *p, uint64_t v) {
  do {
    unsigned char b = (unsigned char)(v & 0x7f);
    v >>= 7;
    b |= v ? 0x80 : 0;
    mw_put(p, &b, 1);
  } while (v);
}

static void mw_int(mw_buf_t *p, int field, uint64_t v) {
  mw_varint(p, (uint64_t)field << 3);
  mw_varint(p, v);
}

static void mw_bytes(mw_buf_t *p, int field, const void *data, size_t n) {
  mw_varint(p, (uint64_t)field << 3 | 2);
  mw_varint(p, n);
  mw_put(p, data, n);
}

static void mw_str(mw_buf_t *p, int field, const char *s) {
  mw_bytes(p, field, s, strlen(s));
}

/* Appends m as a submessage and frees it. */
static void mw_msg(mw_buf_t *p, int field, mw_buf_t *m) {
  mw_bytes(p, field, m->buf, m->len);
  free(m->buf);
  *m = (mw_buf_t){0};
}

/* NodeProto with up to two inputs and one output. */
static void mw_node(mw_buf_t *graph, const char *op, const char *a,
                    const char *b, const char *out) {
  mw_buf_t n = {0};
  mw_str(&n, 1, a);
  if (b) mw_str(&n, 1, b);
  mw_str(&n, 2, out);
  mw_str(&n, 3, out); /* name the node after its output */
  mw_str(&n, 4, op);
  mw_msg(graph, 1, &n);
}

/* A float initializer of rank 1 or 2 (d1 == 0: rank 1). */
static void mw_init(mw_buf_t *graph, const char *name, const float *v,
                    int64_t d0, int64_t d1) {
  mw_buf_t t = {0};
  mw_int(&t, 1, (uint64_t)d0);
  if (d1) mw_int(&t, 1, (uint64_t)d1);
  mw_int(&t, 2, 1); /* FLOAT */
  mw_str(&t, 8, name);
  mw_bytes(&t, 9, v, (size_t)(d0 * (d1 ? d1 : 1)) * sizeof(float));
  mw_msg(graph, 5, &t);
}

/* ValueInfoProto of a float [d0, d1] tensor (field 11 input, 12 output). */
static void mw_value(mw_buf_t *graph, int field, const char *name, int64_t d0,
                     int64_t d1) {
  mw_buf_t dim0 = {0}, dim1 = {0}, shape = {0}, tensor = {0}, type = {0},
           vi = {0};
  mw_int(&dim0, 1, (uint64_t)d0);
  mw_int(&dim1, 1, (uint64_t)d1);
  mw_msg(&shape, 1, &dim0);
  mw_msg(&shape, 1, &dim1);
  mw_int(&tensor, 1, 1);
  mw_msg(&tensor, 2, &shape);
  mw_msg(&type, 1, &tensor);
  mw_str(&vi, 1, name);
  mw_msg(&vi, 2, &type);
  mw_msg(graph, field, &vi);
}

/* Writes ModelProto(graph) with opset 17 to path; frees graph. */
static int mw_save(const char *path, const char *graph_name, mw_buf_t *graph) {
  mw_buf_t opset = {0}, model = {0};
  mw_str(graph, 2, graph_name);
  mw_str(&opset, 1, "");
  mw_int(&opset, 2, 17);
  mw_int(&model, 1, 8); /* ir_version */
  mw_msg(&model, 7, graph);
  mw_msg(&model, 8, &opset);
  FILE *f = fopen(path, "wb");
  size_t w = f ? fwrite(model.buf, 1, model.len, f) : 0;
  int rc = f && fclose(f) == 0 && w == model.len ? 0 : -1;
  free(model.buf);
  return rc;
}

/* y = Relu(x[2, 3] + b[3]). */
static int mw_add_relu(const char *path, const float b[3]) {
  mw_buf_t g = {0};
  mw_node(&g, "Add", "x", "b", "s");
  mw_node(&g, "Relu", "s", NULL, "y");
  mw_init(&g, "b", b, 3, 0);
  mw_value(&g, 11, "x", 2, 3);
  mw_value(&g, 12, "y", 2, 3);
  return mw_save(path, "addrelu", &g);
}

/* y = Relu(x[8, 64] @ W[64, 64]) with W[i][j] = ((i * 7 + j) % 13) / 8:
 * enough work for the vectorizer to use the widest registers. */
static int mw_matmul(const char *path) {
  static float w[64 * 64];
  for (int i = 0; i < 64 * 64; i++) w[i] = (float)((i / 64 * 7 + i % 64) % 13) / 8;
  mw_buf_t g = {0};
  mw_node(&g, "MatMul", "x", "W", "m");
  mw_node(&g, "Relu", "m", NULL, "y");
  mw_init(&g, "W", w, 64, 64);
  mw_value(&g, 11, "x", 8, 64);
  mw_value(&g, 12, "y", 8, 64);
  return mw_save(path, "matmul", &g);
}

#endif
