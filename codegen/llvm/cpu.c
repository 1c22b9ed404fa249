/* CPUs for the LLVM backend: the CPU name and feature string LLVM gets for
 * a target, and the CPU features the generated code may use.
 *
 * --cpu takes "host" (the build machine, resolved with LLVM's host
 * detection), "generic" and the x86-64 levels, or any x86 CPU name LLVM 19
 * knows.  The names are listed here because the LLVM C API has no call
 * that checks one: LLVM itself warns about an unknown name once per
 * subtarget it creates (six times per compile) and falls back to generic
 * code, so an unknown name is refused before LLVM sees it.
 *
 * Which features a CPU name (plus a feature string) enables is LLVM's
 * knowledge too, again out of reach of the C API.  The probe asks LLVM's
 * inliner, which refuses to inline a callee whose subtarget features are
 * not a subset of its caller's (X86TTIImpl::areInlineCompatible): for
 * each feature F of MLC_ABI_X86_FEATURES, a caller with the target's CPU
 * and features calls a callee with the same plus "+F"; the call is
 * inlined exactly when the target already has F.  One small module, one
 * `cgscc(inline)` run: a few milliseconds.
 */
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/llvm.h"
#include "codegen/llvm/cg.h"
#include "mlc/model_abi.h"

void mlc_llvm_init(void) {
  /* LLVM's target registry: idempotent, done by every entry point. */
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
  LLVMInitializeX86AsmParser();
}

/* `llc -mtriple=x86_64 -mcpu=help` of LLVM 19. */
static const char *const x86_cpus[] = {
    "alderlake", "amdfam10", "arrowlake", "arrowlake-s", "arrowlake_s",
    "athlon", "athlon-4", "athlon-fx", "athlon-mp", "athlon-tbird",
    "athlon-xp", "athlon64", "athlon64-sse3", "atom", "atom_sse4_2",
    "atom_sse4_2_movbe", "barcelona", "bdver1", "bdver2", "bdver3", "bdver4",
    "bonnell", "broadwell", "btver1", "btver2", "c3", "c3-2", "cannonlake",
    "cascadelake", "clearwaterforest", "cooperlake", "core-avx-i",
    "core-avx2", "core2", "core_2_duo_sse4_1", "core_2_duo_ssse3",
    "core_2nd_gen_avx", "core_3rd_gen_avx", "core_4th_gen_avx",
    "core_4th_gen_avx_tsx", "core_5th_gen_avx", "core_5th_gen_avx_tsx",
    "core_aes_pclmulqdq", "core_i7_sse4_2", "corei7", "corei7-avx",
    "emeraldrapids", "generic", "geode", "goldmont", "goldmont-plus",
    "goldmont_plus", "gracemont", "grandridge", "graniterapids",
    "graniterapids-d", "graniterapids_d", "haswell", "i386", "i486", "i586",
    "i686", "icelake-client", "icelake-server", "icelake_client",
    "icelake_server", "ivybridge", "k6", "k6-2", "k6-3", "k8", "k8-sse3",
    "knl", "knm", "lakemont", "lunarlake", "meteorlake", "mic_avx512",
    "nehalem", "nocona", "opteron", "opteron-sse3", "pantherlake", "penryn",
    "pentium", "pentium-m", "pentium-mmx", "pentium2", "pentium3",
    "pentium3m", "pentium4", "pentium4m", "pentium_4", "pentium_4_sse3",
    "pentium_ii", "pentium_iii", "pentium_iii_no_xmm_regs", "pentium_m",
    "pentium_mmx", "pentium_pro", "pentiumpro", "prescott", "raptorlake",
    "rocketlake", "sandybridge", "sapphirerapids", "sierraforest",
    "silvermont", "skx", "skylake", "skylake-avx512", "skylake_avx512", "slm",
    "tigerlake", "tremont", "westmere", "winchip-c6", "winchip2", "x86-64",
    "x86-64-v2", "x86-64-v3", "x86-64-v4", "yonah", "znver1", "znver2",
    "znver3", "znver4", "znver5",
};

static const char *const feature_names[MLC_ABI_X86_NUM_FEATURES] = {
#define NAME_(id, bit, name) [bit] = name,
    MLC_ABI_X86_FEATURES(NAME_)
#undef NAME_
};

bool mlc_llvm_cpu_known(const char *cpu) {
  if (!cpu) return false;
  if (strcmp(cpu, "host") == 0) return true;
  for (size_t i = 0; i < sizeof x86_cpus / sizeof *x86_cpus; i++)
    if (strcmp(x86_cpus[i], cpu) == 0) return true;
  return false;
}

mlc_status_t *mlc_llvm_target_cpu(const mlc_target_t *t, char *cpu,
                                  size_t cpu_len, char *features,
                                  size_t features_len) {
  if (!mlc_llvm_cpu_known(t->cpu))
    return MLC_ERR(INVALID_ARGUMENT,
                   "--cpu: unknown CPU '%s' (use host, generic, x86-64-v2, "
                   "x86-64-v3, x86-64-v4, or an x86 CPU name LLVM knows, such "
                   "as skylake, icelake-server, znver3: `llc -mcpu=help` "
                   "lists them)", t->cpu ? t->cpu : "");
  bool host = strcmp(t->cpu, "host") == 0;
  char *hcpu = host ? LLVMGetHostCPUName() : NULL;
  char *hfeat = host && (!t->features || !*t->features) ? LLVMGetHostCPUFeatures()
                                                        : NULL;
  snprintf(cpu, cpu_len, "%s", hcpu ? hcpu : t->cpu);
  const char *fs = hfeat ? hfeat : (t->features ? t->features : "");
  /* An x86-64 subtarget must have 64-bit mode: LLVM aborts ("64-bit code
   * requested on a subtarget that doesn't support it") on a 32-bit CPU
   * name unless the feature is explicit. */
  bool x86_64 = strncmp(t->triple, "x86_64", 6) == 0;
  int n = snprintf(features, features_len, "%s%s%s",
                   x86_64 && !host ? "+64bit" : "",
                   x86_64 && !host && *fs ? "," : "", fs);
  LLVMDisposeMessage(hcpu);
  LLVMDisposeMessage(hfeat);
  if (n < 0 || (size_t)n >= features_len)
    return MLC_ERR(INTERNAL, "target %s: feature string too long", t->name);
  return NULL;
}

/* ---- the probe ------------------------------------------------------------ */

static void set_attr(LLVMContextRef c, LLVMValueRef f, const char *k,
                     const char *v) {
  LLVMAttributeRef a = LLVMCreateStringAttribute(c, k, (unsigned)strlen(k), v,
                                                 (unsigned)strlen(v));
  LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, a);
}

/* caller_<bit>() { return callee_<bit>(); } with callee_<bit> given "+F". */
static mlc_status_t *add_pair(LLVMModuleRef m, LLVMBuilderRef b, int bit,
                              const char *cpu, const char *features) {
  LLVMContextRef c = LLVMGetModuleContext(m);
  LLVMTypeRef i32 = LLVMInt32TypeInContext(c);
  LLVMTypeRef ft = LLVMFunctionType(i32, NULL, 0, 0);
  char name[64], plus[4200];
  int n = snprintf(plus, sizeof plus, "%s%s+%s", features, *features ? "," : "",
                   feature_names[bit]);
  if (n < 0 || (size_t)n >= sizeof plus)
    return MLC_ERR(INTERNAL, "CPU probe: feature string too long");
  snprintf(name, sizeof name, "callee_%d", bit);
  LLVMValueRef callee = LLVMAddFunction(m, name, ft);
  LLVMSetLinkage(callee, LLVMInternalLinkage);
  set_attr(c, callee, "target-cpu", cpu);
  set_attr(c, callee, "target-features", plus);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, callee, "e"));
  LLVMBuildRet(b, LLVMConstInt(i32, (unsigned long long)bit, 0));
  snprintf(name, sizeof name, "caller_%d", bit);
  LLVMValueRef caller = LLVMAddFunction(m, name, ft);
  set_attr(c, caller, "target-cpu", cpu);
  if (*features) set_attr(c, caller, "target-features", features);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, caller, "e"));
  LLVMBuildRet(b, LLVMBuildCall2(b, ft, callee, NULL, 0, ""));
  return NULL;
}

static bool has_call(LLVMValueRef f) {
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb;
       bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i;
         i = LLVMGetNextInstruction(i))
      if (LLVMIsACallInst(i)) return true;
  return false;
}

mlc_status_t *mlc_llvm_cpu_features(LLVMTargetMachineRef tm, const char *triple,
                                    const char *cpu, const char *features,
                                    uint64_t *out_bits) {
  *out_bits = 0;
  LLVMContextRef c = LLVMContextCreate();
  LLVMModuleRef m = LLVMModuleCreateWithNameInContext("mlc-cpu-probe", c);
  LLVMSetTarget(m, triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(m, dl);
  LLVMDisposeTargetData(dl);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
  mlc_status_t *st = NULL;
  for (int bit = 0; bit < MLC_ABI_X86_NUM_FEATURES && !st; bit++)
    st = add_pair(m, b, bit, cpu, features);
  LLVMDisposeBuilder(b);
  if (!st) {
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMErrorRef err = LLVMRunPasses(m, "cgscc(inline)", tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (err) {
      char *msg = LLVMGetErrorMessage(err);
      st = MLC_ERR(INTERNAL, "CPU probe: %s", msg);
      LLVMDisposeErrorMessage(msg);
    }
  }
  for (int bit = 0; bit < MLC_ABI_X86_NUM_FEATURES && !st; bit++) {
    char name[64];
    snprintf(name, sizeof name, "caller_%d", bit);
    LLVMValueRef f = LLVMGetNamedFunction(m, name);
    if (f && !has_call(f)) *out_bits |= UINT64_C(1) << bit;
  }
  LLVMDisposeModule(m);
  LLVMContextDispose(c);
  return st;
}

/* ---- the backend hook ------------------------------------------------------ */

mlc_status_t *mlc_llvm_target_of(const mlc_target_t *t, LLVMTargetRef *out) {
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(t->triple, out, &msg)) {
    mlc_status_t *st = MLC_ERR(UNSUPPORTED, "target %s (triple %s): %s", t->name,
                               t->triple, msg ? msg : "unknown triple");
    LLVMDisposeMessage(msg);
    return st;
  }
  return NULL;
}

mlc_status_t *mlc_llvm_target_features(const mlc_target_t *t,
                                       uint64_t *out_bits) {
  mlc_llvm_init();
  char cpu[128], features[4096];
  MLC_RETURN_IF(mlc_llvm_target_cpu(t, cpu, sizeof cpu, features, sizeof features));
  LLVMTargetRef target;
  MLC_RETURN_IF(mlc_llvm_target_of(t, &target));
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
      target, t->triple, cpu, features, LLVMCodeGenLevelNone, LLVMRelocPIC,
      LLVMCodeModelDefault);
  if (!tm) return MLC_ERR(UNSUPPORTED, "target %s: no LLVM target machine", t->name);
  mlc_status_t *st = mlc_llvm_cpu_features(tm, t->triple, cpu, features, out_bits);
  LLVMDisposeTargetMachine(tm);
  return st;
}

mlc_status_t *mlc_llvm_resolve_cpu(mlc_target_t *t) {
  if (!mlc_llvm_cpu_known(t->cpu)) {
    char cpu[8], features[8];
    return mlc_llvm_target_cpu(t, cpu, sizeof cpu, features, sizeof features);
  }
  if (strcmp(t->cpu, "host") == 0) return NULL; /* the lookup detected it */
  uint64_t bits;
  MLC_RETURN_IF(mlc_llvm_target_features(t, &bits));
  t->vector_bits = bits >> MLC_ABI_X86_AVX512F & 1 ? 512
                   : bits >> MLC_ABI_X86_AVX & 1   ? 256
                                                   : 128;
  t->has_fma = bits >> MLC_ABI_X86_FMA & 1;
  return NULL;
}
