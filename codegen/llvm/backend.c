/* The CPU backend's entry in the backend registry: what it can emit (every
 * buffer of a kernel in a dtype it has a memory and register type for, as
 * codegen/llvm/kernel.c maps them) and its emitter (emit.c). */
#include "codegen/llvm.h"

static bool cpu_dtype(mlc_dtype_t dt) {
  switch (dt) {
  case MLC_DT_BOOL: case MLC_DT_I8: case MLC_DT_U8: case MLC_DT_I16:
  case MLC_DT_U16: case MLC_DT_I32: case MLC_DT_U32: case MLC_DT_I64:
  case MLC_DT_U64: case MLC_DT_F16: case MLC_DT_BF16: case MLC_DT_F32:
  case MLC_DT_F64:
    return true;
  default:
    return false;
  }
}

static mlc_status_t *llvm_supports(const mlc_tkernel_t *k, const mlc_target_t *t) {
  (void)t;
  for (int i = 0; i < k->nbufs; i++)
    if (!cpu_dtype(k->bufs[i].dtype))
      return MLC_ERR(UNSUPPORTED, "kernel %s: buffer %d has dtype %s, which the "
                     "CPU backend cannot compute", k->name, i,
                     mlc_dtype_name(k->bufs[i].dtype));
  return NULL;
}

const mlc_backend_t mlc_backend_llvm_cpu = {
    .name = "llvm-cpu",
    .kind = MLC_TARGET_CPU,
    .resolve_cpu = mlc_llvm_resolve_cpu,
    .supports = llvm_supports,
    .emit = mlc_llvm_emit,
};
