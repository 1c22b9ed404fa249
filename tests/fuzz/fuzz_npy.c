/* libFuzzer target: the .npy reader of tools/npy.h (mlc_npy_parse); a
 * parsed tensor is written back out and re-parsed, which must succeed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlc_host_tensor_t t;
  mlc_status_t *st = mlc_npy_parse(data, size, "fuzz.npy", &t);
  if (st) {
    if (!*mlc_status_message(st)) abort();
    mlc_status_free(st);
    return 0;
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) abort();
  st = mlc_npy_write(f, "memory", &t);
  fclose(f);
  if (st) abort(); /* what was read must be writable */
  mlc_host_tensor_t back;
  st = mlc_npy_parse(buf, len, "round trip", &back);
  if (st) abort();
  if (back.nbytes != t.nbytes || back.rank != t.rank) abort();
  mlc_host_tensor_free(&back);
  mlc_host_tensor_free(&t);
  free(buf);
  return 0;
}
