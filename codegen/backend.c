/* The backend registry (codegen/backend.h): one entry per target kind,
 * and the check that asks a backend about every kernel before it emits. */
#include <string.h>

#include "codegen/backend.h"
#include "codegen/llvm.h"

static const mlc_backend_t *const backends[] = {
    &mlc_backend_llvm_cpu,
};

const mlc_backend_t *mlc_backend_for(const mlc_target_t *t) {
  if (!t) return NULL;
  for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
    if (backends[i]->kind == t->kind) return backends[i];
  return NULL;
}

enum { CHECK_LISTED = 4 };

mlc_status_t *mlc_backend_check(const mlc_backend_t *b, const mlc_program_t *p,
                                const mlc_target_t *t) {
  mlc_status_t *first = NULL;
  size_t bad = 0;
  char names[256] = "";
  for (size_t i = 0; i < p->kernels.len; i++) {
    mlc_status_t *st = b->supports(p->kernels.data[i], t);
    if (!st) continue;
    if (bad < CHECK_LISTED && strlen(names) + strlen(p->kernels.data[i]->name) + 3 < sizeof names) {
      if (names[0]) strcat(names, ", ");
      strcat(names, p->kernels.data[i]->name);
    }
    if (!first) first = st;
    else mlc_status_free(st);
    bad++;
  }
  if (!first) return NULL;
  mlc_status_t *st = MLC_ERR(UNSUPPORTED, "backend %s (target %s) cannot emit %zu "
                             "kernel%s (%s%s); the first: %s", b->name,
                             t->name ? t->name : "?", bad, bad == 1 ? "" : "s",
                             names, bad > CHECK_LISTED ? ", ..." : "",
                             mlc_status_message(first));
  mlc_status_free(first);
  return st;
}
