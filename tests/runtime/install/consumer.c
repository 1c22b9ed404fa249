/* A program built against an installed mlc, once through find_package(mlc)
 * and once through pkg-config: it must compile with the installed headers,
 * link libmlcrt and get a proper status back from a failed load. */
#include <stdio.h>
#include <string.h>

#include <mlc/mlcrt.h>

int main(void) {
  mlcrt_model_t *m = NULL;
  mlcrt_status_t *st = mlcrt_model_load("/nonexistent/model.so", &m);
  int ok = st && mlcrt_status_code(st) == MLCRT_NOT_FOUND && m == NULL;
  printf("mlcrt %s: %s\n", mlcrt_version(), mlcrt_status_message(st));
  mlcrt_status_free(st);
  return ok && strcmp(mlcrt_version(), "0.1.0") == 0 ? 0 : 1;
}
