/* Small internal functions that generated kernels call, created once per
 * module on first use.
 *
 *   i64 mlc.ipow(i64 a, i64 b): integer power by repeated squaring with
 *   wrapping multiplication, as ir/tile_interp.c computes it: for b < 0 the
 *   result is 1 for a == 1, +-1 for a == -1, else 0.
 */
#include <string.h>

#include "codegen/llvm/cg.h"

static void build_ipow(mlc_cg_t *cg, LLVMValueRef fn) {
  LLVMContextRef c = cg->ctx;
  LLVMTypeRef I = cg->t_i64;
  LLVMValueRef a = LLVMGetParam(fn, 0), b = LLVMGetParam(fn, 1);
  LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c, fn, "entry"),
                    negb = LLVMAppendBasicBlockInContext(c, fn, "neg"),
                    loop = LLVMAppendBasicBlockInContext(c, fn, "loop"),
                    body = LLVMAppendBasicBlockInContext(c, fn, "body"),
                    done = LLVMAppendBasicBlockInContext(c, fn, "done");
  LLVMBuilderRef B = LLVMCreateBuilderInContext(c);
  LLVMValueRef zero = LLVMConstInt(I, 0, 0), one = LLVMConstInt(I, 1, 0),
               m1 = LLVMConstInt(I, (unsigned long long)-1, 1);
  LLVMPositionBuilderAtEnd(B, entry);
  LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntSLT, b, zero, ""), negb, loop);

  LLVMPositionBuilderAtEnd(B, negb);
  LLVMValueRef odd = LLVMBuildTrunc(B, b, cg->t_i1, "");
  LLVMValueRef pm1 = LLVMBuildSelect(B, odd, m1, one, "");
  LLVMValueRef r = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntEQ, a, m1, ""), pm1, zero, "");
  r = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntEQ, a, one, ""), one, r, "");
  LLVMBuildRet(B, r);

  LLVMPositionBuilderAtEnd(B, loop);
  LLVMValueRef acc = LLVMBuildPhi(B, I, "r"), x = LLVMBuildPhi(B, I, "x"),
               e = LLVMBuildPhi(B, I, "e");
  LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, e, zero, ""), done, body);

  LLVMPositionBuilderAtEnd(B, body);
  LLVMValueRef bit = LLVMBuildTrunc(B, e, cg->t_i1, "");
  LLVMValueRef acc2 = LLVMBuildSelect(B, bit, LLVMBuildMul(B, acc, x, ""), acc, "");
  LLVMValueRef x2 = LLVMBuildMul(B, x, x, "");
  LLVMValueRef e2 = LLVMBuildLShr(B, e, one, "");
  LLVMBuildBr(B, loop);

  LLVMValueRef av[2] = {one, acc2}, xv[2] = {a, x2}, ev[2] = {b, e2};
  LLVMBasicBlockRef from[2] = {entry, body};
  LLVMAddIncoming(acc, av, from, 2);
  LLVMAddIncoming(x, xv, from, 2);
  LLVMAddIncoming(e, ev, from, 2);

  LLVMPositionBuilderAtEnd(B, done);
  LLVMBuildRet(B, acc);
  LLVMDisposeBuilder(B);
}

LLVMValueRef mlc_cg_ipow_fn(mlc_cg_t *cg, LLVMTypeRef *out_type) {
  LLVMTypeRef ps[2] = {cg->t_i64, cg->t_i64};
  *out_type = LLVMFunctionType(cg->t_i64, ps, 2, 0);
  LLVMValueRef fn = LLVMGetNamedFunction(cg->mod, "mlc.ipow");
  if (fn) return fn;
  fn = LLVMAddFunction(cg->mod, "mlc.ipow", *out_type);
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  build_ipow(cg, fn);
  return fn;
}
