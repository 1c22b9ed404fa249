/* LLVM code for f32 EXP, TANH and ERF: the operations of ir/vmath.c, one
 * instruction per C line and in the same order, so compiled kernels and
 * the interpreter agree bit for bit.
 *
 * Only IEEE instructions without fast-math flags (fadd, fsub, fmul, fdiv,
 * fneg, llvm.fma, llvm.fabs), ordered fcmp + select, and i32 arithmetic on
 * bitcasts are used: no calls and no branches, so the scalar form
 * vectorizes in LLVM's loop vectorizer and the widened form (kstate lanes
 * > 0, see kernel.h) is straight vector code.  llvm.fma lowers to one
 * instruction on targets with FMA (x86-64-v3 and up, the host here); on
 * older targets LLVM calls fmaf, which is exact too.
 */
#include "codegen/llvm/kernel.h"
#include "ir/vmath.h"

/* `t` in the current mode: scalar, or <lanes x t>. */
static LLVMTypeRef vt(kstate_t *s, LLVMTypeRef t) {
  return s->lanes ? LLVMVectorType(t, s->lanes) : t;
}

static LLVMValueRef fc(kstate_t *s, float v) {
  return mlc_cgk_splat(LLVMConstReal(s->cg->t_f32, (double)v), s->lanes);
}

static LLVMValueRef ic(kstate_t *s, uint32_t v) {
  return mlc_cgk_splat(LLVMConstInt(s->cg->t_i32, v, 0), s->lanes);
}

static LLVMValueRef fma3(kstate_t *s, LLVMValueRef a, LLVMValueRef b,
                         LLVMValueRef c) {
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef args[3] = {a, b, c};
  return mlc_cgk_call_intr(s, "llvm.fma", &t, 1, args, 3);
}

static LLVMValueRef fabs1(kstate_t *s, LLVMValueRef a) {
  LLVMTypeRef t = LLVMTypeOf(a);
  return mlc_cgk_call_intr(s, "llvm.fabs", &t, 1, &a, 1);
}

/* c ? a : b for an ordered compare `p` of x with constant k. */
static LLVMValueRef sel_cmp(kstate_t *s, LLVMRealPredicate p, LLVMValueRef x,
                            float k, LLVMValueRef a, LLVMValueRef b) {
  LLVMValueRef c = LLVMBuildFCmp(s->b, p, x, fc(s, k), "");
  return LLVMBuildSelect(s->b, c, a, b, "");
}

static LLVMValueRef to_bits(kstate_t *s, LLVMValueRef f) {
  return LLVMBuildBitCast(s->b, f, vt(s, s->cg->t_i32), "");
}

static LLVMValueRef from_bits(kstate_t *s, LLVMValueRef i) {
  return LLVMBuildBitCast(s->b, i, vt(s, s->cg->t_f32), "");
}

static LLVMValueRef horner(kstate_t *s, const float *c, int n, LLVMValueRef x) {
  LLVMValueRef p = fc(s, c[0]);
  for (int i = 1; i < n; i++) p = fma3(s, p, x, fc(s, c[i]));
  return p;
}

/* |y| with the sign bit of x. */
static LLVMValueRef with_sign_of(kstate_t *s, LLVMValueRef y, LLVMValueRef x) {
  LLVMValueRef sx = LLVMBuildAnd(s->b, to_bits(s, x), ic(s, 0x80000000u), "");
  return from_bits(s, LLVMBuildOr(s->b, to_bits(s, y), sx, ""));
}

/* 2^e for the biased exponent e (an i32 value in [1, 254]). */
static LLVMValueRef pow2(kstate_t *s, LLVMValueRef e) {
  return from_bits(s, LLVMBuildShl(s->b, e, ic(s, 23), ""));
}

static LLVMValueRef emit_exp(kstate_t *s, LLVMValueRef x) {
  LLVMBuilderRef b = s->b;
  LLVMValueRef xc = sel_cmp(s, LLVMRealOGT, x, MLC_VMATH_EXP_HI, fc(s, MLC_VMATH_EXP_HI), x);
  xc = sel_cmp(s, LLVMRealOLT, xc, MLC_VMATH_EXP_LO, fc(s, MLC_VMATH_EXP_LO), xc);
  LLVMValueRef k = fma3(s, xc, fc(s, MLC_VMATH_LOG2E), fc(s, MLC_VMATH_SHIFT));
  LLVMValueRef n = LLVMBuildFSub(b, k, fc(s, MLC_VMATH_SHIFT), "");
  LLVMValueRef r = fma3(s, n, fc(s, -MLC_VMATH_LN2_HI), xc);
  r = fma3(s, n, fc(s, -MLC_VMATH_LN2_LO), r);
  LLVMValueRef p = horner(s, mlc_vmath_exp_poly, MLC_VMATH_EXP_N, r);
  LLVMValueRef z = LLVMBuildFMul(b, r, r, "");
  LLVMValueRef y = fma3(s, p, z, r);
  y = LLVMBuildFAdd(b, y, fc(s, 1.0f), "");
  LLVMValueRef m = LLVMBuildSub(b, to_bits(s, k), ic(s, MLC_VMATH_SHIFT_BITS - 256u), "");
  LLVMValueRef h = LLVMBuildLShr(b, m, ic(s, 1), "");
  LLVMValueRef s1 = pow2(s, LLVMBuildSub(b, h, ic(s, 1), ""));
  LLVMValueRef s2 = pow2(s, LLVMBuildSub(b, LLVMBuildSub(b, m, h, ""), ic(s, 1), ""));
  y = LLVMBuildFMul(b, y, s1, "");
  return LLVMBuildFMul(b, y, s2, "");
}

static LLVMValueRef emit_tanh(kstate_t *s, LLVMValueRef x) {
  LLVMBuilderRef b = s->b;
  LLVMValueRef a = fabs1(s, x);
  LLVMValueRef z = LLVMBuildFMul(b, a, a, "");
  LLVMValueRef p = horner(s, mlc_vmath_tanh_poly, MLC_VMATH_TANH_N, z);
  LLVMValueRef a3 = LLVMBuildFMul(b, a, z, "");
  LLVMValueRef small = fma3(s, a3, p, a);
  LLVMValueRef e = emit_exp(s, LLVMBuildFAdd(b, a, a, ""));
  LLVMValueRef d = LLVMBuildFAdd(b, e, fc(s, 1.0f), "");
  LLVMValueRef q = LLVMBuildFDiv(b, fc(s, 2.0f), d, "");
  LLVMValueRef large = LLVMBuildFSub(b, fc(s, 1.0f), q, "");
  LLVMValueRef y = sel_cmp(s, LLVMRealOLT, a, MLC_VMATH_TANH_SMALL, small, large);
  return with_sign_of(s, y, x);
}

static LLVMValueRef emit_erf(kstate_t *s, LLVMValueRef x) {
  LLVMBuilderRef b = s->b;
  LLVMValueRef a = fabs1(s, x);
  LLVMValueRef z = LLVMBuildFMul(b, a, a, "");
  LLVMValueRef p = horner(s, mlc_vmath_erf_small_poly, MLC_VMATH_ERF_SMALL_N, z);
  LLVMValueRef small = fma3(s, a, p, a);
  LLVMValueRef d = LLVMBuildFAdd(b, fc(s, 2.0f), a, "");
  LLVMValueRef t = LLVMBuildFDiv(b, fc(s, 2.0f), d, "");
  LLVMValueRef u = LLVMBuildFSub(b, t, fc(s, MLC_VMATH_ERF_TMID), "");
  LLVMValueRef q = horner(s, mlc_vmath_erf_large_poly, MLC_VMATH_ERF_LARGE_N, u);
  LLVMValueRef e = emit_exp(s, LLVMBuildFNeg(b, z, ""));
  LLVMValueRef large = fma3(s, LLVMBuildFNeg(b, e, ""), q, fc(s, 1.0f));
  LLVMValueRef y = sel_cmp(s, LLVMRealOLT, a, 1.0f, small, large);
  y = sel_cmp(s, LLVMRealOGE, a, MLC_VMATH_ERF_SAT, fc(s, 1.0f), y);
  return with_sign_of(s, y, x);
}

LLVMValueRef mlc_cgk_vmath(kstate_t *s, mlc_tunop_t op, LLVMValueRef a) {
  switch (op) {
  case MLC_TU_EXP: return emit_exp(s, a);
  case MLC_TU_TANH: return emit_tanh(s, a);
  case MLC_TU_ERF: return emit_erf(s, a);
  default: return NULL;
  }
}
