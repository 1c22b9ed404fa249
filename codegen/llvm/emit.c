/* mlc_llvm_emit: program -> LLVM module -> file.
 *
 * Steps: a target machine for the target (PIC; cpu and features from
 * cpu.c, which also finds the CPU features the code may use), the module
 * (kernels, then the host plan and the descriptor with a random build id),
 * LLVMVerifyModule, the new pass manager ("default<On>" with loop and SLP
 * vectorization at O2+), then the requested output.  Weights: the packed
 * blob is embedded by assembling a tiny `.S` with `.incbin` (never an LLVM
 * constant) when it fits opts->weights_embed_limit, else it goes to
 * "<output>.weights" after a header with the build id.  The output and the
 * side file are written to temporary files beside them and renamed over
 * them at the end (publish), so a process that has the old ones mapped
 * keeps them.  Intermediate files live in a private mkdtemp folder,
 * always removed.
 * With opts->time_out, each step reports its time there (--time-passes):
 * "llvm: weights", "llvm: emit ir", "llvm: optimize", "llvm: object" (or
 * "llvm: write ir"/"llvm: assembly"), "link", "header".
 */
#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/timer.h"
#include "codegen/header.h"
#include "codegen/llvm.h"
#include "codegen/llvm/cg.h"
#include "codegen/llvm/tools.h"
#include "mlc/model_abi.h"

#define DEFAULT_EMBED_LIMIT ((int64_t)256 << 20)

typedef struct emit {
  const mlc_program_t *p;
  const mlc_target_t *t;
  const mlc_codegen_options_t *o;
  char model[256];
  char tmp[1024];
  char path[5200]; /* scratch for building paths */
  bool embed;
  char *weights_file; /* side file base name, or NULL */
  uint64_t hash;
  char cpu[128];         /* resolved LLVM CPU name */
  char features[4096];   /* resolved feature string */
  uint64_t cpu_features; /* MLC_ABI_X86_* bits LLVM enables for them */
  uint8_t build_id[16];  /* random per compile */
  char out_tmp[4200];    /* the output, written here, renamed at the end */
  char weights_tmp[4200]; /* the side weights file, likewise ("": none) */
  char weights_path[4200]; /* <output>.weights */
  char *diag_error; /* first error diagnostic LLVM reported, or NULL */
} emit_t;

/* LLVM diagnostics: remarks and warnings (e.g. "loop not vectorized") are
 * dropped; the first error is kept for the status. */
static void on_diagnostic(LLVMDiagnosticInfoRef di, void *ctx) {
  emit_t *e = ctx;
  if (LLVMGetDiagInfoSeverity(di) != LLVMDSError || e->diag_error) return;
  char *d = LLVMGetDiagInfoDescription(di);
  e->diag_error = d ? strdup(d) : NULL;
  LLVMDisposeMessage(d);
}

static const char *tmp_path(emit_t *e, const char *name) {
  snprintf(e->path, sizeof e->path, "%s/%s", e->tmp, name);
  return e->path;
}

mlc_status_t *mlc_llvm_host_cpu(char *name, size_t name_len, char *features,
                                size_t features_len) {
  char *n = LLVMGetHostCPUName(), *f = LLVMGetHostCPUFeatures();
  if (name && name_len) snprintf(name, name_len, "%s", n ? n : "");
  if (features && features_len) snprintf(features, features_len, "%s", f ? f : "");
  LLVMDisposeMessage(n);
  LLVMDisposeMessage(f);
  return NULL;
}

static mlc_status_t *make_tm(emit_t *e, LLVMTargetMachineRef *out) {
  const mlc_target_t *t = e->t;
  LLVMTargetRef target;
  MLC_RETURN_IF(mlc_llvm_target_of(t, &target));
  MLC_RETURN_IF(mlc_llvm_target_cpu(t, e->cpu, sizeof e->cpu, e->features,
                                    sizeof e->features));
  static const LLVMCodeGenOptLevel levels[4] = {
      LLVMCodeGenLevelNone, LLVMCodeGenLevelLess, LLVMCodeGenLevelDefault,
      LLVMCodeGenLevelAggressive};
  int lvl = e->o->opt_level < 0 ? 0 : e->o->opt_level > 3 ? 3 : e->o->opt_level;
  *out = LLVMCreateTargetMachine(target, t->triple, e->cpu, e->features, levels[lvl],
                                 LLVMRelocPIC, LLVMCodeModelDefault);
  if (!*out) return MLC_ERR(UNSUPPORTED, "target %s: no LLVM target machine", t->name);
  mlc_status_t *st = mlc_llvm_cpu_features(*out, t->triple, e->cpu, e->features,
                                           &e->cpu_features);
  if (st) {
    LLVMDisposeTargetMachine(*out);
    *out = NULL;
  }
  return st;
}

static void cg_init(mlc_cg_t *cg, emit_t *e, LLVMTargetMachineRef tm) {
  LLVMContextRef c = LLVMContextCreate();
  LLVMContextSetDiagnosticHandler(c, on_diagnostic, e);
  cg->ctx = c;
  cg->mod = LLVMModuleCreateWithNameInContext(e->model, c);
  LLVMSetTarget(cg->mod, e->t->triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(cg->mod, dl);
  LLVMDisposeTargetData(dl);
  cg->t_void = LLVMVoidTypeInContext(c);
  cg->t_i1 = LLVMInt1TypeInContext(c);
  cg->t_i8 = LLVMInt8TypeInContext(c);
  cg->t_i16 = LLVMInt16TypeInContext(c);
  cg->t_i32 = LLVMInt32TypeInContext(c);
  cg->t_i64 = LLVMInt64TypeInContext(c);
  cg->t_half = LLVMHalfTypeInContext(c);
  cg->t_bf16 = LLVMBFloatTypeInContext(c);
  cg->t_f32 = LLVMFloatTypeInContext(c);
  cg->t_f64 = LLVMDoubleTypeInContext(c);
  cg->t_ptr = LLVMPointerTypeInContext(c, 0);
  LLVMTypeRef ps[3] = {cg->t_ptr, cg->t_i64, cg->t_i64};
  cg->task_fn_type = LLVMFunctionType(cg->t_void, ps, 3, 0);
  cg->md_loop = LLVMGetMDKindIDInContext(c, "llvm.loop", 9);
  cg->prog = e->p;
  cg->target = e->t;
  cg->model_name = e->model;
  cg->weights_embedded = e->embed;
  cg->weak_generic_getter = e->o->emit == MLC_EMIT_OBJ;
  cg->cpu = e->cpu;
  cg->cpu_features = e->cpu_features;
  cg->build_id = e->build_id;
}

/* After a failed module verification: which kernel, and LLVM's words. */
static mlc_status_t *verify(mlc_cg_t *cg) {
  char *msg = NULL;
  if (!LLVMVerifyModule(cg->mod, LLVMReturnStatusAction, &msg)) {
    LLVMDisposeMessage(msg);
    return NULL;
  }
  const char *where = "host code";
  for (LLVMValueRef f = LLVMGetFirstFunction(cg->mod); f; f = LLVMGetNextFunction(f)) {
    if (LLVMCountBasicBlocks(f) && LLVMVerifyFunction(f, LLVMReturnStatusAction)) {
      size_t n;
      where = LLVMGetValueName2(f, &n);
      break;
    }
  }
  mlc_status_t *st = MLC_ERR(INTERNAL, "LLVM verifier rejected %s: %s", where,
                             msg ? msg : "");
  LLVMDisposeMessage(msg);
  return st;
}

static void add_fn_attr(mlc_cg_t *cg, LLVMValueRef f, const char *k, const char *v) {
  LLVMAttributeRef a = LLVMCreateStringAttribute(cg->ctx, k, (unsigned)strlen(k), v,
                                                 (unsigned)strlen(v));
  LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, a);
}

/* target-cpu/target-features on every definition, as clang does, so the
 * textual IR carries the target and per-function TTI sees it. */
static void tag_functions(mlc_cg_t *cg, emit_t *e) {
  for (LLVMValueRef f = LLVMGetFirstFunction(cg->mod); f; f = LLVMGetNextFunction(f)) {
    if (!LLVMCountBasicBlocks(f)) continue;
    if (e->cpu[0]) add_fn_attr(cg, f, "target-cpu", e->cpu);
    if (e->features[0]) add_fn_attr(cg, f, "target-features", e->features);
  }
}

/* The function of kernel i: its own, or for a kernel that `shares` (the
 * dedupe-kernels pass), the function of the earlier kernel it names. */
static mlc_status_t *kernel_fn(mlc_cg_t *cg, LLVMValueRef *fns, size_t i) {
  const mlc_program_t *p = cg->prog;
  const mlc_tkernel_t *k = p->kernels.data[i];
  if (!k->shares) return mlc_cg_kernel(cg, k, &fns[i]);
  for (size_t j = 0; j < i; j++) {
    const mlc_tkernel_t *o = p->kernels.data[j];
    if (strcmp(o->name, k->shares) != 0) continue;
    if (o->shares || !mlc_tkernel_same(o, k)) break;
    fns[i] = fns[j];
    return NULL;
  }
  return MLC_ERR(INTERNAL, "kernel %s shares %s, which is not an earlier, "
                 "identical kernel", k->name, k->shares);
}

static mlc_status_t *build_module(mlc_cg_t *cg, emit_t *e) {
  const mlc_program_t *p = e->p;
  mlc_cg_declare_externals(cg);
  LLVMValueRef *fns = calloc(p->kernels.len + 1, sizeof *fns);
  if (!fns) return MLC_ERR(OUT_OF_MEMORY, "codegen");
  mlc_status_t *st = NULL;
  for (size_t i = 0; i < p->kernels.len && !st; i++) st = kernel_fn(cg, fns, i);
  if (!st) st = mlc_cg_host(cg, fns, e->weights_file, e->hash);
  if (!st) tag_functions(cg, e);
  if (!st) st = verify(cg);
  free(fns);
  return st;
}

static mlc_status_t *optimize(mlc_cg_t *cg, emit_t *e, LLVMTargetMachineRef tm) {
  int lvl = e->o->opt_level < 0 ? 0 : e->o->opt_level > 3 ? 3 : e->o->opt_level;
  char pipeline[32];
  snprintf(pipeline, sizeof pipeline, "default<O%d>", lvl);
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(po, lvl >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(po, lvl >= 2);
  LLVMPassBuilderOptionsSetLoopUnrolling(po, lvl >= 1);
  LLVMErrorRef err = LLVMRunPasses(cg->mod, pipeline, tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (!err) return NULL;
  char *msg = LLVMGetErrorMessage(err);
  mlc_status_t *st = MLC_ERR(INTERNAL, "LLVM %s pipeline: %s", pipeline, msg);
  LLVMDisposeErrorMessage(msg);
  return st;
}

static mlc_status_t *emit_code(LLVMTargetMachineRef tm, LLVMModuleRef m,
                               const char *path, LLVMCodeGenFileType kind) {
  char *msg = NULL;
  if (LLVMTargetMachineEmitToFile(tm, m, (char *)path, kind, &msg)) {
    mlc_status_t *st = MLC_ERR(IO_ERROR, "writing %s: %s", path, msg ? msg : "");
    LLVMDisposeMessage(msg);
    return st;
  }
  return NULL;
}

/* ---- weights ---------------------------------------------------------------- */

static mlc_status_t *assemble_weights(emit_t *e, const void *blob) {
  size_t n = (size_t)e->p->weights_bytes;
  char bin[4200], src[4200], obj[4200], log[4200];
  snprintf(bin, sizeof bin, "%s/weights.bin", e->tmp);
  snprintf(src, sizeof src, "%s/weights.S", e->tmp);
  snprintf(obj, sizeof obj, "%s/weights.o", e->tmp);
  snprintf(log, sizeof log, "%s/weights.log", e->tmp);
  MLC_RETURN_IF(mlc_cg_write_file(bin, blob, n));
  char text[9000];
  int len = snprintf(text, sizeof text,
                     "\t.section .rodata.%s_weights,\"a\",@progbits\n"
                     "\t.balign 64\n\t.globl %s_weights\n\t.hidden %s_weights\n"
                     "\t.type %s_weights,@object\n%s_weights:\n"
                     "\t.incbin \"%s\"\n\t.size %s_weights,%zu\n"
                     "\t.section .note.GNU-stack,\"\",@progbits\n",
                     e->model, e->model, e->model, e->model, e->model, bin, e->model, n);
  MLC_RETURN_IF(mlc_cg_write_file(src, text, (size_t)len));
  const char *args[] = {"-c", "-o", obj, src, NULL};
  MLC_RETURN_IF_ERROR(mlc_cg_run_cc(e->o->cc, args, log), "assembling the weights");
  return NULL;
}

/* The side file: header (build id) and blob, into a temporary sibling of
 * "<output>.weights" that emit renames over it once all else succeeded. */
static mlc_status_t *write_side_file(emit_t *e, const void *blob, size_t n) {
  snprintf(e->weights_path, sizeof e->weights_path, "%s.weights",
           e->o->output_path);
  mlc_abi_weights_header_t h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, MLC_ABI_WEIGHTS_MAGIC, sizeof h.magic);
  h.version = MLC_ABI_WEIGHTS_VERSION;
  h.header_bytes = sizeof h;
  h.weights_bytes = n;
  memcpy(h.build_id, e->build_id, sizeof h.build_id);
  MLC_RETURN_IF(mlc_cg_tmp_sibling(e->weights_path, e->weights_tmp,
                                   sizeof e->weights_tmp));
  MLC_RETURN_IF(mlc_cg_write_file2(e->weights_tmp, &h, sizeof h, blob, n));
  const char *slash = strrchr(e->weights_path, '/');
  e->weights_file = strdup(slash ? slash + 1 : e->weights_path);
  return e->weights_file ? NULL : MLC_ERR(OUT_OF_MEMORY, "weights file name");
}

/* Packs the blob; embeds it (weights.o in the temp folder) or writes the
 * side file; fills e->embed, e->weights_file and e->hash.  A negative
 * limit means the default; 0 sends any weights to a side file. */
static mlc_status_t *prepare_weights(emit_t *e) {
  int64_t n = e->p->weights_bytes;
  if (n <= 0) return NULL;
  void *blob = malloc((size_t)n);
  if (!blob) return MLC_ERR(OUT_OF_MEMORY, "weights blob of %lld bytes", (long long)n);
  mlc_program_pack_weights(e->p, blob);
  e->hash = mlc_fnv1a64(blob, (size_t)n);
  int64_t limit = e->o->weights_embed_limit >= 0 ? e->o->weights_embed_limit
                                                 : DEFAULT_EMBED_LIMIT;
  mlc_status_t *st = NULL;
  e->embed = n <= limit;
  bool linked = e->o->emit == MLC_EMIT_SO || e->o->emit == MLC_EMIT_OBJ;
  if (e->embed && linked) st = assemble_weights(e, blob);
  else if (!e->embed) st = write_side_file(e, blob, (size_t)n);
  free(blob);
  return st;
}

/* ---- output ----------------------------------------------------------------- */

static mlc_status_t *link_output(emit_t *e) {
  char obj[4200], wobj[4200], log[4200];
  snprintf(obj, sizeof obj, "%s/code.o", e->tmp);
  snprintf(wobj, sizeof wobj, "%s/weights.o", e->tmp);
  snprintf(log, sizeof log, "%s/link.log", e->tmp);
  bool w = e->embed && e->p->weights_bytes > 0;
  const char *out = e->out_tmp;
  if (e->o->emit == MLC_EMIT_SO) {
    const char *args[] = {"-shared", "-o", out, obj, w ? wobj : "-lm", "-lm", NULL};
    return mlc_cg_run_cc(e->o->cc, args, log);
  }
  const char *args[] = {"-r", "-nostdlib", "-o", out, obj, w ? wobj : NULL, NULL};
  return mlc_cg_run_cc(e->o->cc, args, log);
}

static mlc_status_t *write_output(emit_t *e, mlc_cg_t *cg, LLVMTargetMachineRef tm) {
  const char *out = e->out_tmp;
  switch (e->o->emit) {
  case MLC_EMIT_LLVM: {
    char *msg = NULL;
    if (LLVMPrintModuleToFile(cg->mod, out, &msg)) {
      mlc_status_t *st = MLC_ERR(IO_ERROR, "writing %s: %s", out, msg ? msg : "");
      LLVMDisposeMessage(msg);
      return st;
    }
    return NULL;
  }
  case MLC_EMIT_ASM: return emit_code(tm, cg->mod, out, LLVMAssemblyFile);
  case MLC_EMIT_SO:
  case MLC_EMIT_OBJ: {
    double t0 = mlc_timer_now_ms();
    MLC_RETURN_IF(emit_code(tm, cg->mod, tmp_path(e, "code.o"), LLVMObjectFile));
    mlc_timer_lap(e->o->time_out, "llvm: object", &t0);
    MLC_RETURN_IF(link_output(e));
    mlc_timer_lap(e->o->time_out, "link", &t0);
    return NULL;
  }
  }
  return MLC_ERR(INVALID_ARGUMENT, "unknown emit kind %d", (int)e->o->emit);
}

static mlc_status_t *emit_in_tmp(emit_t *e) {
  FILE *tf = e->o->time_out;
  double t0 = mlc_timer_now_ms();
  MLC_RETURN_IF(prepare_weights(e));
  mlc_timer_lap(tf, "llvm: weights", &t0);
  LLVMTargetMachineRef tm;
  MLC_RETURN_IF(make_tm(e, &tm));
  mlc_cg_t cg = {0};
  cg_init(&cg, e, tm);
  cg.b = LLVMCreateBuilderInContext(cg.ctx);
  mlc_status_t *st = build_module(&cg, e);
  if (!st) mlc_timer_lap(tf, "llvm: emit ir", &t0);
  if (!st) st = optimize(&cg, e, tm);
  if (!st) mlc_timer_lap(tf, "llvm: optimize", &t0);
  if (!st) st = write_output(e, &cg, tm);
  bool text = e->o->emit == MLC_EMIT_LLVM || e->o->emit == MLC_EMIT_ASM;
  if (!st && text)
    mlc_timer_lap(tf, e->o->emit == MLC_EMIT_LLVM ? "llvm: write ir" : "llvm: assembly", &t0);
  if (!st && e->diag_error) st = MLC_ERR(INTERNAL, "LLVM: %s", e->diag_error);
  LLVMDisposeBuilder(cg.b);
  LLVMDisposeModule(cg.mod);
  LLVMContextDispose(cg.ctx);
  LLVMDisposeTargetMachine(tm);
  return st;
}

/* Renames the finished files over the outputs: the weights first, so a
 * runtime that loads the new library finds its weights (one that loads in
 * between sees the old library with new weights and says so).  Files that
 * are loaded keep their old inode, so running sessions are unaffected. */
static mlc_status_t *publish(emit_t *e) {
  if (e->weights_tmp[0]) {
    MLC_RETURN_IF(mlc_cg_rename(e->weights_tmp, e->weights_path));
    e->weights_tmp[0] = '\0';
  }
  MLC_RETURN_IF(mlc_cg_rename(e->out_tmp, e->o->output_path));
  e->out_tmp[0] = '\0';
  return NULL;
}

mlc_status_t *mlc_llvm_emit(const mlc_program_t *p, const mlc_target_t *t,
                            const mlc_codegen_options_t *opts) {
  if (!p || !p->graph || !t || !opts || !opts->output_path)
    return MLC_ERR(INVALID_ARGUMENT, "mlc_llvm_emit: missing program, target or output");
  if (t->kind != MLC_TARGET_CPU)
    return MLC_ERR(INVALID_ARGUMENT, "target %s is not a CPU target", t->name);
  mlc_llvm_init();
  emit_t *e = calloc(1, sizeof *e);
  if (!e) return MLC_ERR(OUT_OF_MEMORY, "emitting %s", opts->output_path);
  *e = (emit_t){.p = p, .t = t, .o = opts};
  mlc_codegen_c_ident(opts->model_name ? opts->model_name : p->graph->name, e->model,
                      sizeof e->model);
  mlc_cg_random(e->build_id, sizeof e->build_id);
  mlc_status_t *st = mlc_cg_tmp_sibling(opts->output_path, e->out_tmp, sizeof e->out_tmp);
  if (!st) st = mlc_cg_tmpdir_create(e->tmp, sizeof e->tmp);
  if (!st) {
    st = emit_in_tmp(e);
    mlc_cg_tmpdir_remove(e->tmp);
  }
  double t0 = mlc_timer_now_ms();
  if (!st) st = publish(e);
  if (!st && opts->header_path) {
    st = mlc_codegen_write_header(p, e->model, opts->header_path);
    mlc_timer_lap(opts->time_out, "header", &t0);
  }
  if (e->out_tmp[0]) unlink(e->out_tmp);
  if (e->weights_tmp[0]) unlink(e->weights_tmp);
  free(e->weights_file);
  free(e->diag_error);
  free(e);
  return mlc_status_annotate(st, "emitting %s", opts->output_path);
}
