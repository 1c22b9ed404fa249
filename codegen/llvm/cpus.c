/* The x86 CPU names LLVM knows (codegen/llvm.h): a list read from
 * `llc -mcpu=help` when the build was configured (llvm_cpus.inc), because
 * the LLVM C API cannot ask whether a name is valid, and an unknown name
 * makes LLVM print its "not a recognized processor" warning once for
 * every subtarget it creates (six for one compile). */
#include <string.h>

#include "codegen/llvm.h"

static const char *const x86_cpus[] = {
#include "llvm_cpus.inc"
    NULL,
};

bool mlc_llvm_cpu_known(const char *cpu, bool *out_checked) {
  *out_checked = x86_cpus[0] != NULL;
  if (!*out_checked || !cpu) return true;
  for (const char *const *c = x86_cpus; *c; c++)
    if (strcmp(*c, cpu) == 0) return true;
  return false;
}
