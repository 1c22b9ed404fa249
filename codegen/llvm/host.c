/* The host side of a compiled model, in LLVM IR.
 *
 *   run(exec, weights, arena, inputs, outputs)   internal; the host plan:
 *       for each kernel, in order, a stack array of buffer pointers
 *       (inputs[i]/outputs[i]/weights/arena + offset) and one call, either
 *       exec->parallel_for(pool, ntiles, kernel, bufs) or kernel(bufs, 0, n),
 *       bracketed by exec->on_call(hook_ctx, i, BEGIN/END) when that
 *       profiling hook is set (one branch each when it is not).
 *   the descriptor (mlc_abi_model_t, include/mlc/model_abi.h), a constant,
 *       with the call table: per call of the plan, the kernel's name, the
 *       ONNX nodes it computes, its tile count and flops;
 *   mlc_model_get / <model>_model_get       exported, return the descriptor
 *       (mlc_model_get is weak in an object file, so models link together);
 *   <model>_run(workspace, weights, in0.., out0..)   exported, typed entry
 *       for static linking: single-threaded, weights NULL = embedded blob;
 *       only for models of at most 125 inputs + outputs
 *       (mlc_codegen_has_typed_run).
 * The descriptor layout is built from LLVM struct types whose natural
 * layout matches the C structs on the supported (LP64) targets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/header.h"
#include "codegen/llvm/cg.h"
#include "mlc/model_abi.h"

#define MLC_PRODUCER "mlc 0.1.0"

static char *prefixed(const mlc_cg_t *cg, const char *suffix) {
  size_t n = strlen(cg->model_name) + strlen(suffix) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s", cg->model_name, suffix);
  return s;
}

static LLVMTypeRef run_type(mlc_cg_t *cg) {
  LLVMTypeRef ps[5] = {cg->t_ptr, cg->t_ptr, cg->t_ptr, cg->t_ptr, cg->t_ptr};
  return LLVMFunctionType(cg->t_i32, ps, 5, 0);
}

static LLVMTypeRef typed_run_type(mlc_cg_t *cg) {
  const mlc_graph_t *g = cg->prog->graph;
  unsigned n = 2 + (unsigned)(g->inputs.len + g->outputs.len);
  LLVMTypeRef *ps = calloc(n, sizeof *ps);
  if (!ps) return NULL;
  for (unsigned i = 0; i < n; i++) ps[i] = cg->t_ptr;
  LLVMTypeRef t = LLVMFunctionType(cg->t_i32, ps, n, 0);
  free(ps);
  return t;
}

static LLVMTypeRef get_type(mlc_cg_t *cg) {
  return LLVMFunctionType(cg->t_ptr, NULL, 0, 0);
}

static void add_fn(mlc_cg_t *cg, const char *name, LLVMTypeRef t, bool exported) {
  if (!name || !t || LLVMGetNamedFunction(cg->mod, name)) return;
  LLVMValueRef f = LLVMAddFunction(cg->mod, name, t);
  if (!exported) LLVMSetLinkage(f, LLVMInternalLinkage);
}

void mlc_cg_declare_externals(mlc_cg_t *cg) {
  char *mget = prefixed(cg, "_model_get"), *mrun = prefixed(cg, "_run");
  add_fn(cg, "mlc_model_get", get_type(cg), true);
  add_fn(cg, mget, get_type(cg), true);
  if (mlc_codegen_has_typed_run(cg->prog->graph))
    add_fn(cg, mrun, typed_run_type(cg), true);
  add_fn(cg, "run", run_type(cg), false);
  free(mget);
  free(mrun);
  if (cg->weights_embedded) {
    char *w = prefixed(cg, "_weights");
    if (!w) return;
    LLVMValueRef g = LLVMAddGlobal(cg->mod, cg->t_i8, w);
    LLVMSetVisibility(g, LLVMHiddenVisibility);
    LLVMSetAlignment(g, 64);
    LLVMSetGlobalConstant(g, 1);
    free(w);
  }
}

static LLVMValueRef weights_symbol(mlc_cg_t *cg) {
  if (!cg->weights_embedded) return LLVMConstNull(cg->t_ptr);
  char *w = prefixed(cg, "_weights");
  LLVMValueRef g = w ? LLVMGetNamedGlobal(cg->mod, w) : NULL;
  free(w);
  return g ? g : LLVMConstNull(cg->t_ptr);
}

/* ---- run: the host plan ---------------------------------------------------- */

typedef struct host {
  mlc_cg_t *cg;
  LLVMBuilderRef b;
  LLVMValueRef fn, bufs, pf, pool, hook, hook_ctx;
  LLVMValueRef expect;  /* llvm.expect.i1: the hook is expected unset */
  LLVMTypeRef expect_t;
} host_t;

static LLVMValueRef idx_ptr(host_t *h, LLVMValueRef base, int64_t i) {
  LLVMValueRef idx = LLVMConstInt(h->cg->t_i64, (unsigned long long)i, 0);
  return LLVMBuildInBoundsGEP2(h->b, h->cg->t_ptr, base, &idx, 1, "");
}

static mlc_status_t *buf_pointer(host_t *h, const mlc_tkernel_t *k, int i,
                                 LLVMValueRef *out) {
  const mlc_storage_t *s = &k->bufs[i].storage;
  LLVMValueRef base;
  if (k->bufs[i].local) { /* the kernel's own scratch */
    *out = LLVMConstNull(h->cg->t_ptr);
    return NULL;
  }
  switch (s->kind) {
  case MLC_STORAGE_INPUT:
    base = LLVMBuildLoad2(h->b, h->cg->t_ptr, idx_ptr(h, LLVMGetParam(h->fn, 3), s->index), "");
    break;
  case MLC_STORAGE_OUTPUT:
    base = LLVMBuildLoad2(h->b, h->cg->t_ptr, idx_ptr(h, LLVMGetParam(h->fn, 4), s->index), "");
    break;
  case MLC_STORAGE_WEIGHT: base = LLVMGetParam(h->fn, 1); break;
  case MLC_STORAGE_ARENA: base = LLVMGetParam(h->fn, 2); break;
  default:
    return MLC_ERR(INTERNAL, "kernel %s: buffer '%s' has no planned storage",
                   k->name, k->bufs[i].name);
  }
  LLVMValueRef off = LLVMConstInt(h->cg->t_i64, (unsigned long long)s->offset, 0);
  *out = LLVMBuildGEP2(h->b, h->cg->t_i8, base, &off, 1, "");
  return NULL;
}

/* Field i of *exec in the "exec" block, or NULL (phi) without an exec. */
static LLVMValueRef exec_field(host_t *h, LLVMValueRef exec, int64_t i,
                               LLVMBasicBlockRef *bb) {
  LLVMValueRef v = LLVMBuildLoad2(h->b, h->cg->t_ptr, idx_ptr(h, exec, i), "");
  LLVMBasicBlockRef here = LLVMGetInsertBlock(h->b);
  LLVMPositionBuilderAtEnd(h->b, bb[2]);
  LLVMValueRef phi = LLVMBuildPhi(h->b, h->cg->t_ptr, "");
  LLVMValueRef in[2] = {LLVMConstNull(h->cg->t_ptr), v};
  LLVMAddIncoming(phi, in, bb, 2);
  LLVMPositionBuilderAtEnd(h->b, here);
  return phi;
}

/* exec ? exec->{pool, parallel_for, on_call, hook_ctx} : NULLs. */
static void load_exec(host_t *h) {
  mlc_cg_t *cg = h->cg;
  LLVMValueRef exec = LLVMGetParam(h->fn, 0);
  LLVMBasicBlockRef bb[3] = {LLVMGetInsertBlock(h->b),
                             LLVMAppendBasicBlockInContext(cg->ctx, h->fn, "exec"),
                             LLVMAppendBasicBlockInContext(cg->ctx, h->fn, "plan")};
  LLVMBuildCondBr(h->b, LLVMBuildIsNull(h->b, exec, ""), bb[2], bb[1]);
  LLVMPositionBuilderAtEnd(h->b, bb[1]);
  h->pool = exec_field(h, exec, 0, bb);
  h->pf = exec_field(h, exec, 1, bb);
  h->hook = exec_field(h, exec, 2, bb);
  h->hook_ctx = exec_field(h, exec, 3, bb);
  LLVMBuildBr(h->b, bb[2]);
  LLVMPositionBuilderAtEnd(h->b, bb[2]);
}

/* if (hook) hook(hook_ctx, call, phase); */
static void call_hook(host_t *h, size_t call, int phase) {
  mlc_cg_t *cg = h->cg;
  LLVMBasicBlockRef yes = LLVMAppendBasicBlockInContext(cg->ctx, h->fn, "hook");
  LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(cg->ctx, h->fn, "");
  LLVMValueRef set = LLVMBuildIsNotNull(h->b, h->hook, "");
  LLVMValueRef eargs[2] = {set, LLVMConstInt(cg->t_i1, 0, 0)};
  set = LLVMBuildCall2(h->b, h->expect_t, h->expect, eargs, 2, "");
  LLVMBuildCondBr(h->b, set, yes, next);
  LLVMPositionBuilderAtEnd(h->b, yes);
  LLVMTypeRef ps[3] = {cg->t_ptr, cg->t_i32, cg->t_i32};
  LLVMTypeRef ht = LLVMFunctionType(cg->t_void, ps, 3, 0);
  LLVMValueRef args[3] = {h->hook_ctx, LLVMConstInt(cg->t_i32, call, 0),
                          LLVMConstInt(cg->t_i32, (unsigned long long)phase, 0)};
  LLVMBuildCall2(h->b, ht, h->hook, args, 3, "");
  LLVMBuildBr(h->b, next);
  LLVMPositionBuilderAtEnd(h->b, next);
}

/* kernel(bufs, 0, ntiles) on this thread when `ways` is 1 (one tile, or a
 * serial kernel), else through exec->parallel_for when there is a pool. */
static void call_kernel(host_t *h, LLVMValueRef fn, int64_t ways, int64_t ntiles) {
  mlc_cg_t *cg = h->cg;
  LLVMValueRef n = LLVMConstInt(cg->t_i64, (unsigned long long)ntiles, 0);
  LLVMValueRef direct[3] = {h->bufs, LLVMConstInt(cg->t_i64, 0, 0), n};
  if (ways <= 1) {
    LLVMBuildCall2(h->b, cg->task_fn_type, fn, direct, 3, "");
    return;
  }
  LLVMBasicBlockRef par = LLVMAppendBasicBlockInContext(cg->ctx, h->fn, "par");
  LLVMBasicBlockRef ser = LLVMAppendBasicBlockInContext(cg->ctx, h->fn, "ser");
  LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(cg->ctx, h->fn, "next");
  LLVMBuildCondBr(h->b, LLVMBuildIsNotNull(h->b, h->pf, ""), par, ser);
  LLVMPositionBuilderAtEnd(h->b, par);
  LLVMTypeRef ps[4] = {cg->t_ptr, cg->t_i64, cg->t_ptr, cg->t_ptr};
  LLVMTypeRef pft = LLVMFunctionType(cg->t_void, ps, 4, 0);
  LLVMValueRef pargs[4] = {h->pool, n, fn, h->bufs};
  LLVMBuildCall2(h->b, pft, h->pf, pargs, 4, "");
  LLVMBuildBr(h->b, next);
  LLVMPositionBuilderAtEnd(h->b, ser);
  LLVMBuildCall2(h->b, cg->task_fn_type, fn, direct, 3, "");
  LLVMBuildBr(h->b, next);
  LLVMPositionBuilderAtEnd(h->b, next);
}

static mlc_status_t *emit_run(mlc_cg_t *cg, LLVMValueRef *fns) {
  const mlc_program_t *p = cg->prog;
  host_t h = {.cg = cg, .fn = LLVMGetNamedFunction(cg->mod, "run")};
  h.b = LLVMCreateBuilderInContext(cg->ctx);
  LLVMPositionBuilderAtEnd(h.b, LLVMAppendBasicBlockInContext(cg->ctx, h.fn, "entry"));
  int maxb = 1;
  for (size_t i = 0; i < p->kernels.len; i++)
    if (p->kernels.data[i]->nbufs > maxb) maxb = p->kernels.data[i]->nbufs;
  h.bufs = LLVMBuildAlloca(h.b, LLVMArrayType2(cg->t_ptr, (uint64_t)maxb), "bufs");
  unsigned eid = LLVMLookupIntrinsicID("llvm.expect", 11);
  h.expect = LLVMGetIntrinsicDeclaration(cg->mod, eid, &cg->t_i1, 1);
  h.expect_t = LLVMIntrinsicGetType(cg->ctx, eid, &cg->t_i1, 1);
  load_exec(&h);
  mlc_status_t *err = NULL;
  for (size_t i = 0; i < p->kernels.len && !err; i++) {
    const mlc_tkernel_t *k = p->kernels.data[i];
    for (int j = 0; j < k->nbufs && !err; j++) {
      LLVMValueRef ptr = NULL;
      err = buf_pointer(&h, k, j, &ptr);
      if (!err) LLVMBuildStore(h.b, ptr, idx_ptr(&h, h.bufs, j));
    }
    if (err) break;
    call_hook(&h, i, MLC_ABI_CALL_BEGIN);
    call_kernel(&h, fns[i], k->serial ? 1 : mlc_tkernel_ntiles(k), mlc_tkernel_ntiles(k));
    call_hook(&h, i, MLC_ABI_CALL_END);
  }
  LLVMBuildRet(h.b, LLVMConstInt(cg->t_i32, 0, 0));
  LLVMDisposeBuilder(h.b);
  return err;
}

/* ---- descriptor ------------------------------------------------------------ */

static LLVMValueRef private_global(mlc_cg_t *cg, LLVMValueRef init, const char *name) {
  LLVMValueRef g = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  return g;
}

static LLVMValueRef cstr(mlc_cg_t *cg, const char *s) {
  if (!s) return LLVMConstNull(cg->t_ptr);
  LLVMValueRef init = LLVMConstStringInContext2(cg->ctx, s, strlen(s), 0);
  return private_global(cg, init, ".str");
}

static LLVMTypeRef tensor_type(mlc_cg_t *cg) {
  LLVMTypeRef f[6] = {cg->t_ptr, cg->t_i32, cg->t_i32, cg->t_ptr, cg->t_ptr, cg->t_i64};
  return LLVMStructTypeInContext(cg->ctx, f, 6, 0);
}

static LLVMValueRef tensor_desc(mlc_cg_t *cg, const mlc_value_t *v) {
  int rank = v->rank > 0 ? v->rank : 0;
  LLVMValueRef dims = LLVMConstNull(cg->t_ptr), names = dims;
  if (rank > 0) {
    LLVMValueRef d[rank], n[rank];
    for (int i = 0; i < rank; i++) {
      d[i] = LLVMConstInt(cg->t_i64, (unsigned long long)v->dims[i].value, 1);
      n[i] = cstr(cg, v->dims[i].sym);
    }
    dims = private_global(cg, LLVMConstArray2(cg->t_i64, d, (uint64_t)rank), ".dims");
    names = private_global(cg, LLVMConstArray2(cg->t_ptr, n, (uint64_t)rank), ".dimnames");
  }
  int64_t nb = mlc_value_nbytes(v);
  LLVMValueRef f[6] = {cstr(cg, v->name), LLVMConstInt(cg->t_i32, (unsigned)v->dtype, 0),
                       LLVMConstInt(cg->t_i32, (unsigned)rank, 0), dims, names,
                       LLVMConstInt(cg->t_i64, (unsigned long long)(nb > 0 ? nb : 0), 0)};
  return LLVMConstNamedStruct(tensor_type(cg), f, 6);
}

static LLVMValueRef tensor_array(mlc_cg_t *cg, mlc_value_t *const *vs, size_t n,
                                 const char *name) {
  if (n == 0) return LLVMConstNull(cg->t_ptr);
  LLVMValueRef *el = calloc(n, sizeof *el);
  if (!el) return LLVMConstNull(cg->t_ptr);
  for (size_t i = 0; i < n; i++) el[i] = tensor_desc(cg, vs[i]);
  LLVMValueRef arr = LLVMConstArray2(tensor_type(cg), el, n);
  free(el);
  return private_global(cg, arr, name);
}

static LLVMValueRef i32c(mlc_cg_t *cg, uint64_t v) { return LLVMConstInt(cg->t_i32, v, 0); }
static LLVMValueRef i64c(mlc_cg_t *cg, uint64_t v) { return LLVMConstInt(cg->t_i64, v, 0); }

/* mlc_abi_call_t: kernel, nodes, num_nodes, reserved, tiles, flops. */
static LLVMTypeRef call_type(mlc_cg_t *cg) {
  LLVMTypeRef f[6] = {cg->t_ptr, cg->t_ptr, cg->t_i32, cg->t_i32, cg->t_i64, cg->t_i64};
  return LLVMStructTypeInContext(cg->ctx, f, 6, 0);
}

static LLVMValueRef call_desc(mlc_cg_t *cg, const mlc_tkernel_t *k) {
  LLVMValueRef nodes = LLVMConstNull(cg->t_ptr);
  if (k->nnodes > 0) {
    LLVMValueRef *n = calloc((size_t)k->nnodes, sizeof *n);
    if (!n) return NULL;
    for (int i = 0; i < k->nnodes; i++) n[i] = cstr(cg, k->nodes[i]);
    nodes = private_global(cg, LLVMConstArray2(cg->t_ptr, n, (uint64_t)k->nnodes),
                           ".nodes");
    free(n);
  }
  LLVMValueRef f[6] = {cstr(cg, k->name), nodes, i32c(cg, (uint64_t)k->nnodes), i32c(cg, 0),
                       i64c(cg, (uint64_t)mlc_tkernel_ntiles(k)),
                       i64c(cg, (uint64_t)(k->flops > 0 ? k->flops : 0))};
  return LLVMConstNamedStruct(call_type(cg), f, 6);
}

/* The call table: one entry per call of the plan (emit_run's order). */
static LLVMValueRef call_table(mlc_cg_t *cg) {
  size_t n = cg->prog->kernels.len;
  if (n == 0) return LLVMConstNull(cg->t_ptr);
  LLVMValueRef *el = calloc(n, sizeof *el);
  if (!el) return NULL;
  for (size_t i = 0; i < n && el; i++)
    if (!(el[i] = call_desc(cg, cg->prog->kernels.data[i]))) {
      free(el);
      return NULL;
    }
  LLVMValueRef arr = LLVMConstArray2(call_type(cg), el, n);
  free(el);
  return private_global(cg, arr, ".calls");
}

static LLVMValueRef build_id(mlc_cg_t *cg) {
  LLVMValueRef b[16];
  for (int i = 0; i < 16; i++)
    b[i] = LLVMConstInt(cg->t_i8, cg->build_id ? cg->build_id[i] : 0, 0);
  return LLVMConstArray2(cg->t_i8, b, 16);
}

/* mlc_abi_model_t, version 3: the fields in declaration order. */
static LLVMValueRef emit_descriptor(mlc_cg_t *cg, const char *weights_file,
                                    uint64_t weights_hash, LLVMValueRef calls) {
  const mlc_graph_t *g = cg->prog->graph;
  LLVMTypeRef P = cg->t_ptr, I32 = cg->t_i32, I64 = cg->t_i64;
  enum { NF = 22 };
  LLVMTypeRef ft[NF] = {I32, I32, P, P, P, I32, I32, P, P, I64, I64, I64, P, P, I64, P,
                        I32, I32, P, P, I64, LLVMArrayType2(cg->t_i8, 16)};
  LLVMTypeRef mt = LLVMStructTypeInContext(cg->ctx, ft, NF, 0);
  LLVMValueRef f[NF] = {
      i32c(cg, MLC_ABI_VERSION), i32c(cg, sizeof(mlc_abi_model_t)),
      cstr(cg, cg->model_name), cstr(cg, MLC_PRODUCER), cstr(cg, cg->target->name),
      i32c(cg, g->inputs.len), i32c(cg, g->outputs.len),
      tensor_array(cg, g->inputs.data, g->inputs.len, ".inputs"),
      tensor_array(cg, g->outputs.data, g->outputs.len, ".outputs"),
      i64c(cg, (uint64_t)cg->prog->arena_bytes), i64c(cg, 64),
      i64c(cg, (uint64_t)cg->prog->weights_bytes), weights_symbol(cg),
      cstr(cg, weights_file), i64c(cg, weights_hash),
      LLVMGetNamedFunction(cg->mod, "run"),
      i32c(cg, cg->prog->kernels.len), i32c(cg, 0), calls,
      cstr(cg, cg->cpu ? cg->cpu : ""), i64c(cg, cg->cpu_features), build_id(cg)};
  LLVMValueRef d = private_global(cg, LLVMConstNamedStruct(mt, f, NF), "mlc_descriptor");
  LLVMSetLinkage(d, LLVMInternalLinkage);
  LLVMSetAlignment(d, 8);
  return d;
}

static void emit_getter(mlc_cg_t *cg, const char *name, LLVMValueRef desc) {
  LLVMValueRef fn = LLVMGetNamedFunction(cg->mod, name);
  if (LLVMCountBasicBlocks(fn)) return; /* model named "mlc" */
  LLVMBuilderRef b = LLVMCreateBuilderInContext(cg->ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
  LLVMBuildRet(b, desc);
  LLVMDisposeBuilder(b);
}

/* <model>_run(workspace, weights, in..., out...): run(NULL, ...). */
static void emit_typed_run(mlc_cg_t *cg, const char *name) {
  const mlc_graph_t *g = cg->prog->graph;
  LLVMValueRef fn = LLVMGetNamedFunction(cg->mod, name);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(cg->ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
  size_t ni = g->inputs.len, no = g->outputs.len;
  LLVMValueRef ins = LLVMBuildAlloca(b, LLVMArrayType2(cg->t_ptr, ni ? ni : 1), "ins");
  LLVMValueRef outs = LLVMBuildAlloca(b, LLVMArrayType2(cg->t_ptr, no ? no : 1), "outs");
  for (size_t i = 0; i < ni + no; i++) {
    LLVMValueRef idx = i64c(cg, i < ni ? i : i - ni);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(b, cg->t_ptr, i < ni ? ins : outs, &idx, 1, "");
    LLVMBuildStore(b, LLVMGetParam(fn, (unsigned)(2 + i)), p);
  }
  LLVMValueRef w = LLVMGetParam(fn, 1);
  w = LLVMBuildSelect(b, LLVMBuildIsNull(b, w, ""), weights_symbol(cg), w, "");
  LLVMValueRef args[5] = {LLVMConstNull(cg->t_ptr), w, LLVMGetParam(fn, 0), ins, outs};
  LLVMValueRef r = LLVMBuildCall2(b, run_type(cg), LLVMGetNamedFunction(cg->mod, "run"),
                                  args, 5, "");
  LLVMBuildRet(b, r);
  LLVMDisposeBuilder(b);
}

mlc_status_t *mlc_cg_host(mlc_cg_t *cg, LLVMValueRef *fns,
                          const char *weights_file, uint64_t weights_hash) {
  MLC_RETURN_IF(emit_run(cg, fns));
  if (cg->prog->kernels.len > INT32_MAX)
    return MLC_ERR(UNSUPPORTED, "%zu kernel calls: the call table holds at most %d",
                   cg->prog->kernels.len, INT32_MAX);
  LLVMValueRef calls = call_table(cg);
  if (!calls) return MLC_ERR(OUT_OF_MEMORY, "call table");
  LLVMValueRef desc = emit_descriptor(cg, weights_file, weights_hash, calls);
  char *mget = prefixed(cg, "_model_get"), *mrun = prefixed(cg, "_run");
  if (!mget || !mrun) {
    free(mget);
    free(mrun);
    return MLC_ERR(OUT_OF_MEMORY, "host code");
  }
  emit_getter(cg, "mlc_model_get", desc);
  emit_getter(cg, mget, desc);
  /* In an object file the generic name is weak, so that several models
   * link into one program (each reached by its <model>_model_get). */
  if (cg->weak_generic_getter && strcmp(mget, "mlc_model_get") != 0)
    LLVMSetLinkage(LLVMGetNamedFunction(cg->mod, "mlc_model_get"), LLVMWeakAnyLinkage);
  if (mlc_codegen_has_typed_run(cg->prog->graph)) emit_typed_run(cg, mrun);
  free(mget);
  free(mrun);
  return NULL;
}
