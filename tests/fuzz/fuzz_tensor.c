/* libFuzzer target: the TensorProto file reader
 * (mlc_onnx_read_tensor_file).  The input is written to a memfd and read
 * back through /proc/self/fd/N, so no temporary files pile up. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frontend/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("mlc_fuzz_tensor", 0);
  if (fd < 0) abort();
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) abort();
    done += (size_t)w;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  char *name = NULL;
  mlc_tensor_t *t = NULL;
  mlc_status_t *st = mlc_onnx_read_tensor_file(path, &name, &t);
  if (st) {
    if (!*mlc_status_message(st)) abort();
    mlc_status_free(st);
  } else {
    free(name);
    mlc_tensor_free(t);
  }
  close(fd);
  return 0;
}
