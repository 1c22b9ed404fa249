/* Private to kernel.c and widen.c: the state of one kernel's translation
 * and the expression/statement emitters both use.
 *
 * Emitters work in two modes: scalar (lanes == 0) and widened (lanes > 0,
 * every value a <lanes x T> vector), which widen.c uses to vectorize a loop
 * that contains other loops (LLVM's loop vectorizer only handles innermost
 * loops).  The op emitters (unary, binary, cast, memory conversions) take
 * already-emitted operands and work in either mode.
 */
#ifndef MLC_CODEGEN_LLVM_KERNEL_H
#define MLC_CODEGEN_LLVM_KERNEL_H

#include "codegen/llvm/cg.h"

typedef struct kstate {
  mlc_cg_t *cg;
  LLVMBuilderRef b;
  const mlc_tkernel_t *k;
  LLVMValueRef fn;
  LLVMBasicBlockRef entry; /* allocas only; branches on at the end */
  LLVMValueRef *bufs;      /* base pointers */
  LLVMValueRef *vars;      /* grid: value; loop/local: alloca */
  mlc_status_t *err;       /* first error */
  int in_index;            /* > 0 while emitting a buffer index */
  unsigned lanes;          /* 0: scalar code; else widened by this many */
} kstate_t;

void mlc_cgk_fail(kstate_t *s, mlc_status_t *st);
LLVMTypeRef mlc_cgk_reg_type(mlc_cg_t *cg, mlc_dtype_t dt);
LLVMTypeRef mlc_cgk_mem_type(mlc_cg_t *cg, mlc_dtype_t dt);
/* A constant splatted to `lanes` (returned as is when lanes == 0). */
LLVMValueRef mlc_cgk_splat(LLVMValueRef c, unsigned lanes);
LLVMValueRef mlc_cgk_call_intr(kstate_t *s, const char *name, LLVMTypeRef *tys,
                               size_t ntys, LLVMValueRef *args, unsigned nargs);

LLVMValueRef mlc_cgk_expr(kstate_t *s, const mlc_texpr_t *e); /* scalar */
void mlc_cgk_stmt(kstate_t *s, const mlc_tstmt_t *t);          /* scalar */
LLVMValueRef mlc_cgk_var_slot(kstate_t *s, const mlc_tvar_t *v);
LLVMValueRef mlc_cgk_alloca(kstate_t *s, LLVMTypeRef t, const char *name);
LLVMBasicBlockRef mlc_cgk_block(kstate_t *s, const char *name);

LLVMValueRef mlc_cgk_unary(kstate_t *s, mlc_tunop_t op, mlc_dtype_t dt,
                           LLVMValueRef a);
LLVMValueRef mlc_cgk_binary(kstate_t *s, mlc_tbinop_t op, mlc_dtype_t dt,
                            LLVMValueRef a, LLVMValueRef b);
LLVMValueRef mlc_cgk_fma(kstate_t *s, LLVMValueRef a, LLVMValueRef b,
                         LLVMValueRef c);
LLVMValueRef mlc_cgk_cast(kstate_t *s, mlc_dtype_t from, mlc_dtype_t to,
                          LLVMValueRef v);
LLVMValueRef mlc_cgk_from_mem(kstate_t *s, mlc_dtype_t dt, LLVMValueRef v);
LLVMValueRef mlc_cgk_to_mem(kstate_t *s, mlc_dtype_t dt, LLVMValueRef v);

/* vmath.c: f32 EXP, TANH, ERF as ir/vmath.c computes them, in either mode;
 * NULL for other ops. */
LLVMValueRef mlc_cgk_vmath(kstate_t *s, mlc_tunop_t op, LLVMValueRef a);

/* widen.c: emits FOR statement `t` widened, when it qualifies; returns
 * false, having emitted nothing, when it does not. */
bool mlc_cgk_widen(kstate_t *s, const mlc_tstmt_t *t);

#endif
