/* Tiled-IR kernel -> LLVM function.
 *
 * Each kernel becomes two internal functions:
 *   <name>.impl(ptr b0, ..., ptr bN, i64 begin, i64 end)  the tile loop
 *   <name>(ptr ctx, i64 begin, i64 end)                   loads ctx[i], calls
 * so that buffer params can carry `noalias` (only when no other buffer of
 * the kernel overlaps the same storage and one of them is written); the
 * inliner turns it into scoped alias metadata; a local buffer's param is
 * unused (the host passes NULL) and an alloca in the entry block stands in
 * for it, reused by the tiles of one call.  The tile loop decomposes
 * the linear tile index row-major into the grid variables.
 *
 * Values in registers: bool is i1 (i8 in memory); f16 and bf16 are
 * computed in float, rounded to their type only by stores, casts and
 * constants (as ir/tile_interp.c does), so arithmetic never depends on
 * LLVM's half/bfloat support; in memory they are half and i16.  Loop and local variables live in allocas
 * that SROA/mem2reg promote.  Semantics follow ir/tile.h: guarded integer
 * division, NaN-propagating float min/max, roundeven, saturating
 * float->int casts, f32 exp/tanh/erf emitted by vmath.c from ir/vmath.c's
 * sequences; where ir/tile.h is silent, ir/tile_interp.c decides
 * (min/max of equal values, integer POW, logic ops on floats).
 */
#include <llvm-c/DebugInfo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/llvm/kernel.h"



void mlc_cgk_fail(kstate_t *s, mlc_status_t *st) {
  if (!s->err) s->err = st;
  else mlc_status_free(st);
}

/* ---- types ---------------------------------------------------------------- */

LLVMTypeRef mlc_cgk_reg_type(mlc_cg_t *cg, mlc_dtype_t dt) {
  switch (dt) {
  case MLC_DT_BOOL: return cg->t_i1;
  case MLC_DT_I8: case MLC_DT_U8: return cg->t_i8;
  case MLC_DT_I16: case MLC_DT_U16: return cg->t_i16;
  case MLC_DT_I32: case MLC_DT_U32: return cg->t_i32;
  case MLC_DT_I64: case MLC_DT_U64: return cg->t_i64;
  case MLC_DT_F16: case MLC_DT_BF16: case MLC_DT_F32: return cg->t_f32;
  case MLC_DT_F64: return cg->t_f64;
  default: return NULL;
  }
}

LLVMTypeRef mlc_cgk_mem_type(mlc_cg_t *cg, mlc_dtype_t dt) {
  switch (dt) {
  case MLC_DT_BOOL: return cg->t_i8;
  case MLC_DT_F16: return cg->t_half;
  case MLC_DT_BF16: return cg->t_i16;
  default: return mlc_cgk_reg_type(cg, dt);
  }
}

static bool is_float(mlc_dtype_t dt) { return mlc_dtype_is_float(dt); }
static bool is_signed_int(mlc_dtype_t dt) {
  return mlc_dtype_is_int(dt) && mlc_dtype_is_signed(dt);
}

/* The type of a value in the current mode: `t`, or <lanes x t> while
 * emitting widened code (widen.c). */
static LLVMTypeRef ty(kstate_t *s, LLVMTypeRef t) {
  return s->lanes ? LLVMVectorType(t, s->lanes) : t;
}

LLVMValueRef mlc_cgk_splat(LLVMValueRef c, unsigned lanes) {
  if (!lanes) return c;
  LLVMValueRef v[64];
  for (unsigned i = 0; i < lanes && i < 64; i++) v[i] = c;
  return LLVMConstVector(v, lanes);
}

static bool is_vec(LLVMValueRef v) {
  return LLVMGetTypeKind(LLVMTypeOf(v)) == LLVMVectorTypeKind;
}

static LLVMTypeRef scalar_of(LLVMTypeRef t) {
  return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? LLVMGetElementType(t) : t;
}

/* Applies a scalar call lane by lane (libm, mlc.ipow) to vector operands. */
typedef LLVMValueRef (*scalar_fn)(kstate_t *s, LLVMValueRef a, LLVMValueRef b,
                                  const void *ctx);
static LLVMValueRef per_lane(kstate_t *s, scalar_fn f, LLVMValueRef a,
                             LLVMValueRef b, const void *ctx, LLVMTypeRef rt) {
  LLVMValueRef r = LLVMGetPoison(rt);
  unsigned n = LLVMGetVectorSize(LLVMTypeOf(a));
  for (unsigned i = 0; i < n; i++) {
    LLVMValueRef idx = LLVMConstInt(s->cg->t_i32, i, 0);
    LLVMValueRef x = LLVMBuildExtractElement(s->b, a, idx, "");
    LLVMValueRef y = b ? LLVMBuildExtractElement(s->b, b, idx, "") : NULL;
    r = LLVMBuildInsertElement(s->b, r, f(s, x, y, ctx), idx, "");
  }
  return r;
}

/* An integer constant of scalar type `t` in the current mode. */
static LLVMValueRef kint(kstate_t *s, LLVMTypeRef t, unsigned long long v) {
  return mlc_cgk_splat(LLVMConstInt(t, v, 0), s->lanes);
}

/* ---- helpers ---------------------------------------------------------------- */

LLVMValueRef mlc_cgk_call_intr(kstate_t *s, const char *name, LLVMTypeRef *tys,
                               size_t ntys, LLVMValueRef *args, unsigned nargs) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(s->cg->mod, id, tys, ntys);
  LLVMTypeRef ft = LLVMIntrinsicGetType(s->cg->ctx, id, tys, ntys);
  return LLVMBuildCall2(s->b, ft, f, args, nargs, "");
}

static LLVMValueRef intr1(kstate_t *s, const char *name, LLVMValueRef a) {
  LLVMTypeRef t = LLVMTypeOf(a);
  return mlc_cgk_call_intr(s, name, &t, 1, &a, 1);
}

static LLVMValueRef intr2(kstate_t *s, const char *name, LLVMValueRef a,
                          LLVMValueRef b) {
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef args[2] = {a, b};
  return mlc_cgk_call_intr(s, name, &t, 1, args, 2);
}

/* A libm function of one argument (float or double), declared pure. */
static LLVMValueRef libm1(kstate_t *s, const char *fname, const char *dname,
                          LLVMValueRef a);
static LLVMValueRef libm1_lane(kstate_t *s, LLVMValueRef a, LLVMValueRef b,
                               const void *names) {
  (void)b;
  const char *const *n = names;
  return libm1(s, n[0], n[1], a);
}

static LLVMValueRef libm1(kstate_t *s, const char *fname, const char *dname,
                          LLVMValueRef a) {
  mlc_cg_t *cg = s->cg;
  if (is_vec(a)) {
    const char *names[2] = {fname, dname};
    unsigned lanes = s->lanes;
    s->lanes = 0;
    LLVMValueRef r = per_lane(s, libm1_lane, a, NULL, names, LLVMTypeOf(a));
    s->lanes = lanes;
    return r;
  }
  bool f64 = LLVMTypeOf(a) == cg->t_f64;
  LLVMTypeRef t = f64 ? cg->t_f64 : cg->t_f32;
  LLVMTypeRef ft = LLVMFunctionType(t, &t, 1, 0);
  const char *name = f64 ? dname : fname;
  LLVMValueRef f = LLVMGetNamedFunction(cg->mod, name);
  if (!f) f = LLVMAddFunction(cg->mod, name, ft);
  return LLVMBuildCall2(s->b, ft, f, &a, 1, "");
}

static LLVMValueRef fconst(kstate_t *s, LLVMValueRef like, double v) {
  return mlc_cgk_splat(LLVMConstReal(scalar_of(LLVMTypeOf(like)), v), s->lanes);
}

static LLVMValueRef iconst(kstate_t *s, LLVMValueRef like, long long v) {
  LLVMTypeRef t = scalar_of(LLVMTypeOf(like));
  return mlc_cgk_splat(LLVMConstInt(t, (unsigned long long)v, 1), s->lanes);
}



/* float -> bf16 bits (i16), round to nearest even, NaN kept quiet. */
static LLVMValueRef bf16_encode(kstate_t *s, LLVMValueRef v) {
  mlc_cg_t *cg = s->cg;
  LLVMBuilderRef b = s->b;
  LLVMValueRef bits = LLVMBuildBitCast(b, v, ty(s, cg->t_i32), "");
  LLVMValueRef hi = LLVMBuildLShr(b, bits, kint(s, cg->t_i32, 16), "");
  LLVMValueRef lsb = LLVMBuildAnd(b, hi, kint(s, cg->t_i32, 1), "");
  LLVMValueRef r = LLVMBuildAdd(b, bits, kint(s, cg->t_i32, 0x7fff), "");
  r = LLVMBuildAdd(b, r, lsb, "");
  r = LLVMBuildLShr(b, r, kint(s, cg->t_i32, 16), "");
  LLVMValueRef qnan = LLVMBuildOr(b, hi, kint(s, cg->t_i32, 0x40), "");
  LLVMValueRef isnan = LLVMBuildFCmp(b, LLVMRealUNO, v, v, "");
  r = LLVMBuildSelect(b, isnan, qnan, r, "");
  return LLVMBuildTrunc(b, r, ty(s, cg->t_i16), "");
}

static LLVMValueRef bf16_decode(kstate_t *s, LLVMValueRef bits16) {
  mlc_cg_t *cg = s->cg;
  LLVMValueRef w = LLVMBuildZExt(s->b, bits16, ty(s, cg->t_i32), "");
  w = LLVMBuildShl(s->b, w, kint(s, cg->t_i32, 16), "");
  return LLVMBuildBitCast(s->b, w, ty(s, cg->t_f32), "");
}

/* Rounds a float register value to the precision of `dt` (f16, bf16). */
static LLVMValueRef round_to(kstate_t *s, mlc_dtype_t dt, LLVMValueRef v) {
  if (dt == MLC_DT_F16) {
    LLVMValueRef h = LLVMBuildFPTrunc(s->b, v, ty(s, s->cg->t_half), "");
    return LLVMBuildFPExt(s->b, h, ty(s, s->cg->t_f32), "");
  }
  if (dt == MLC_DT_BF16) return bf16_decode(s, bf16_encode(s, v));
  return v;
}

/* ---- expressions ---------------------------------------------------------- */

static LLVMValueRef ex(kstate_t *s, const mlc_texpr_t *e);

static LLVMValueRef poison(kstate_t *s, mlc_dtype_t dt) {
  LLVMTypeRef t = mlc_cgk_reg_type(s->cg, dt);
  return LLVMGetPoison(t ? t : s->cg->t_i64);
}

static LLVMValueRef ex_const(kstate_t *s, const mlc_texpr_t *e) {
  LLVMTypeRef t = mlc_cgk_reg_type(s->cg, e->dtype);
  if (e->dtype == MLC_DT_BOOL) return LLVMConstInt(t, e->c.i != 0, 0);
  if (!is_float(e->dtype)) return LLVMConstInt(t, (unsigned long long)e->c.i, 1);
  return round_to(s, e->dtype, LLVMConstReal(t, e->c.f));
}

/* Index arithmetic is in bounds by construction (ir/tile.h), so i64
 * add/sub/mul inside an index get `nsw`, which spares the vectorizer its
 * overflow checks.  Data arithmetic keeps wrapping semantics. */
static LLVMValueRef elem_ptr(kstate_t *s, int buf, const mlc_texpr_t *index) {
  s->in_index++;
  LLVMValueRef idx = ex(s, index);
  s->in_index--;
  LLVMTypeRef mt = mlc_cgk_mem_type(s->cg, s->k->bufs[buf].dtype);
  return LLVMBuildInBoundsGEP2(s->b, mt, s->bufs[buf], &idx, 1, "");
}

static LLVMValueRef ex_load(kstate_t *s, const mlc_texpr_t *e) {
  mlc_dtype_t dt = s->k->bufs[e->load.buf].dtype;
  LLVMValueRef p = elem_ptr(s, e->load.buf, e->load.index);
  LLVMValueRef v = LLVMBuildLoad2(s->b, mlc_cgk_mem_type(s->cg, dt), p, "");
  return mlc_cgk_from_mem(s, dt, v);
}

LLVMValueRef mlc_cgk_from_mem(kstate_t *s, mlc_dtype_t dt, LLVMValueRef v) {
  switch (dt) {
  case MLC_DT_BOOL: return LLVMBuildICmp(s->b, LLVMIntNE, v, kint(s, s->cg->t_i8, 0), "");
  case MLC_DT_F16: return LLVMBuildFPExt(s->b, v, ty(s, s->cg->t_f32), "");
  case MLC_DT_BF16: return bf16_decode(s, v);
  default: return v;
  }
}

LLVMValueRef mlc_cgk_to_mem(kstate_t *s, mlc_dtype_t dt, LLVMValueRef v) {
  switch (dt) {
  case MLC_DT_BOOL: return LLVMBuildZExt(s->b, v, ty(s, s->cg->t_i8), "");
  case MLC_DT_F16: return LLVMBuildFPTrunc(s->b, v, ty(s, s->cg->t_half), "");
  case MLC_DT_BF16: return bf16_encode(s, v);
  default: return v;
  }
}

static LLVMValueRef f_to_int_sat(kstate_t *s, mlc_dtype_t dt, LLVMValueRef v) {
  LLVMTypeRef tys[2] = {ty(s, mlc_cgk_reg_type(s->cg, dt)), LLVMTypeOf(v)};
  const char *n = is_signed_int(dt) ? "llvm.fptosi.sat" : "llvm.fptoui.sat";
  return mlc_cgk_call_intr(s, n, tys, 2, &v, 1);
}

static LLVMValueRef float_unary(kstate_t *s, mlc_tunop_t op, LLVMValueRef a) {
  LLVMValueRef v = scalar_of(LLVMTypeOf(a)) == s->cg->t_f32 ? mlc_cgk_vmath(s, op, a) : NULL;
  if (v) return v; /* f32 exp/tanh/erf: ir/vmath.c's sequence */
  switch (op) {
  case MLC_TU_NEG: return LLVMBuildFNeg(s->b, a, "");
  case MLC_TU_ABS: return intr1(s, "llvm.fabs", a);
  case MLC_TU_SQRT: return intr1(s, "llvm.sqrt", a);
  case MLC_TU_EXP: return intr1(s, "llvm.exp", a);
  case MLC_TU_LOG: return intr1(s, "llvm.log", a);
  case MLC_TU_TANH: return libm1(s, "tanhf", "tanh", a);
  case MLC_TU_ERF: return libm1(s, "erff", "erf", a);
  case MLC_TU_FLOOR: return intr1(s, "llvm.floor", a);
  case MLC_TU_CEIL: return intr1(s, "llvm.ceil", a);
  case MLC_TU_ROUND: return intr1(s, "llvm.roundeven", a);
  case MLC_TU_SIN: return intr1(s, "llvm.sin", a);
  case MLC_TU_COS: return intr1(s, "llvm.cos", a);
  case MLC_TU_NOT: return a; /* rejected by the verifier; keep going */
  default: return a;
  }
}

static LLVMValueRef int_unary(kstate_t *s, mlc_tunop_t op, mlc_dtype_t dt,
                              LLVMValueRef a) {
  switch (op) {
  case MLC_TU_NEG: return LLVMBuildNeg(s->b, a, "");
  case MLC_TU_ABS:
    if (!is_signed_int(dt)) return a;
    return intr2(s, "llvm.abs", a, LLVMConstInt(s->cg->t_i1, 0, 0));
  case MLC_TU_NOT: return LLVMBuildNot(s->b, a, "");
  case MLC_TU_ISNAN: return kint(s, s->cg->t_i1, 0);
  default: return a; /* floor, sqrt, exp... of an int: itself (interpreter) */
  }
}

LLVMValueRef mlc_cgk_unary(kstate_t *s, mlc_tunop_t op, mlc_dtype_t dt,
                           LLVMValueRef a) {
  if (!is_float(dt)) return int_unary(s, op, dt, a);
  if (op == MLC_TU_ISNAN) return LLVMBuildFCmp(s->b, LLVMRealUNO, a, a, "");
  return float_unary(s, op, a);
}

/* Integer DIV/MOD that never trap: x/0 = 0, x%0 = 0, MIN/-1 = MIN. */
static LLVMValueRef int_divmod(kstate_t *s, bool div, mlc_dtype_t dt,
                               LLVMValueRef a, LLVMValueRef b) {
  LLVMBuilderRef B = s->b;
  LLVMValueRef zero = iconst(s, a, 0), one = iconst(s, a, 1);
  LLVMValueRef isz = LLVMBuildICmp(B, LLVMIntEQ, b, zero, "");
  if (!is_signed_int(dt)) {
    LLVMValueRef d = LLVMBuildSelect(B, isz, one, b, "");
    LLVMValueRef r = div ? LLVMBuildUDiv(B, a, d, "") : LLVMBuildURem(B, a, d, "");
    return LLVMBuildSelect(B, isz, zero, r, "");
  }
  LLVMValueRef ism1 = LLVMBuildICmp(B, LLVMIntEQ, b, iconst(s, a, -1), "");
  LLVMValueRef bad = LLVMBuildOr(B, isz, ism1, "");
  LLVMValueRef d = LLVMBuildSelect(B, bad, one, b, "");
  if (!div) return LLVMBuildSRem(B, a, d, ""); /* x%1 = 0 covers both */
  LLVMValueRef q = LLVMBuildSDiv(B, a, d, "");
  q = LLVMBuildSelect(B, ism1, LLVMBuildNeg(B, a, ""), q, "");
  return LLVMBuildSelect(B, isz, zero, q, "");
}

static LLVMValueRef float_binary(kstate_t *s, mlc_tbinop_t op, LLVMValueRef a,
                                 LLVMValueRef b) {
  LLVMBuilderRef B = s->b;
  switch (op) {
  case MLC_TB_ADD: return LLVMBuildFAdd(B, a, b, "");
  case MLC_TB_SUB: return LLVMBuildFSub(B, a, b, "");
  case MLC_TB_MUL: return LLVMBuildFMul(B, a, b, "");
  case MLC_TB_DIV: return LLVMBuildFDiv(B, a, b, "");
  case MLC_TB_MOD: return LLVMBuildFRem(B, a, b, "");
  case MLC_TB_POW: return intr2(s, "llvm.pow", a, b);
  case MLC_TB_MIN: case MLC_TB_MAX: {
    /* NaN if either is NaN, else a < b ? a : b (a > b for MAX). */
    LLVMRealPredicate p = op == MLC_TB_MIN ? LLVMRealOLT : LLVMRealOGT;
    LLVMValueRef pick = LLVMBuildSelect(B, LLVMBuildFCmp(B, p, a, b, ""), a, b, "");
    LLVMValueRef uno = LLVMBuildFCmp(B, LLVMRealUNO, a, b, "");
    return LLVMBuildSelect(B, uno, fconst(s, a, NAN), pick, "");
  }
  default: { /* AND/OR/XOR: logical, 1.0 or 0.0 */
    LLVMValueRef x = LLVMBuildFCmp(B, LLVMRealUNE, a, fconst(s, a, 0.0), "");
    LLVMValueRef y = LLVMBuildFCmp(B, LLVMRealUNE, b, fconst(s, b, 0.0), "");
    LLVMValueRef r = op == MLC_TB_AND  ? LLVMBuildAnd(B, x, y, "")
                     : op == MLC_TB_OR ? LLVMBuildOr(B, x, y, "")
                                       : LLVMBuildXor(B, x, y, "");
    return LLVMBuildUIToFP(B, r, LLVMTypeOf(a), "");
  }
  }
}

/* Integer POW through the module's mlc.ipow on the i64-extended operands,
 * wrapped back to the type. */
static LLVMValueRef int_pow(kstate_t *s, mlc_dtype_t dt, LLVMValueRef a,
                            LLVMValueRef b);
static LLVMValueRef int_pow_lane(kstate_t *s, LLVMValueRef a, LLVMValueRef b,
                                 const void *dt) {
  return int_pow(s, *(const mlc_dtype_t *)dt, a, b);
}

static LLVMValueRef int_pow(kstate_t *s, mlc_dtype_t dt, LLVMValueRef a,
                            LLVMValueRef b) {
  if (is_vec(a)) {
    unsigned lanes = s->lanes;
    s->lanes = 0;
    LLVMValueRef r = per_lane(s, int_pow_lane, a, b, &dt, LLVMTypeOf(a));
    s->lanes = lanes;
    return r;
  }
  LLVMTypeRef ft, t = LLVMTypeOf(a);
  LLVMValueRef fn = mlc_cg_ipow_fn(s->cg, &ft);
  bool sg = is_signed_int(dt) || dt == MLC_DT_U64;
  LLVMTypeRef I = s->cg->t_i64;
  LLVMValueRef args[2] = {
      sg ? LLVMBuildSExtOrBitCast(s->b, a, I, "") : LLVMBuildZExtOrBitCast(s->b, a, I, ""),
      sg ? LLVMBuildSExtOrBitCast(s->b, b, I, "") : LLVMBuildZExtOrBitCast(s->b, b, I, "")};
  LLVMValueRef r = LLVMBuildCall2(s->b, ft, fn, args, 2, "");
  return LLVMBuildTruncOrBitCast(s->b, r, t, "");
}

static LLVMValueRef int_binary(kstate_t *s, mlc_tbinop_t op, mlc_dtype_t dt,
                               LLVMValueRef a, LLVMValueRef b) {
  LLVMBuilderRef B = s->b;
  bool sg = is_signed_int(dt);
  bool nsw = s->in_index > 0 && dt == MLC_DT_I64;
  switch (op) {
  case MLC_TB_ADD: return nsw ? LLVMBuildNSWAdd(B, a, b, "") : LLVMBuildAdd(B, a, b, "");
  case MLC_TB_SUB: return nsw ? LLVMBuildNSWSub(B, a, b, "") : LLVMBuildSub(B, a, b, "");
  case MLC_TB_MUL: return nsw ? LLVMBuildNSWMul(B, a, b, "") : LLVMBuildMul(B, a, b, "");
  case MLC_TB_DIV: return int_divmod(s, true, dt, a, b);
  case MLC_TB_MOD: return int_divmod(s, false, dt, a, b);
  case MLC_TB_POW: return int_pow(s, dt, a, b);
  case MLC_TB_MIN: return intr2(s, sg ? "llvm.smin" : "llvm.umin", a, b);
  case MLC_TB_MAX: return intr2(s, sg ? "llvm.smax" : "llvm.umax", a, b);
  case MLC_TB_AND: return LLVMBuildAnd(B, a, b, "");
  case MLC_TB_OR: return LLVMBuildOr(B, a, b, "");
  case MLC_TB_XOR: return LLVMBuildXor(B, a, b, "");
  default: return a;
  }
}

static LLVMValueRef compare(kstate_t *s, mlc_tbinop_t op, mlc_dtype_t dt,
                            LLVMValueRef a, LLVMValueRef b) {
  static const LLVMRealPredicate fp[] = {LLVMRealOEQ, LLVMRealUNE, LLVMRealOLT,
                                         LLVMRealOLE, LLVMRealOGT, LLVMRealOGE};
  static const LLVMIntPredicate si[] = {LLVMIntEQ,  LLVMIntNE,  LLVMIntSLT,
                                        LLVMIntSLE, LLVMIntSGT, LLVMIntSGE};
  static const LLVMIntPredicate ui[] = {LLVMIntEQ,  LLVMIntNE,  LLVMIntULT,
                                        LLVMIntULE, LLVMIntUGT, LLVMIntUGE};
  int i = (int)op - (int)MLC_TB_EQ;
  if (is_float(dt)) return LLVMBuildFCmp(s->b, fp[i], a, b, "");
  return LLVMBuildICmp(s->b, is_signed_int(dt) ? si[i] : ui[i], a, b, "");
}

LLVMValueRef mlc_cgk_binary(kstate_t *s, mlc_tbinop_t op, mlc_dtype_t dt,
                            LLVMValueRef a, LLVMValueRef b) {
  if (LLVMTypeOf(a) != LLVMTypeOf(b)) {
    mlc_cgk_fail(s, MLC_ERR(INTERNAL, "%s: operands of '%s' differ in dtype",
                            s->k->name, mlc_tbinop_name(op)));
    return a;
  }
  if (op >= MLC_TB_EQ) return compare(s, op, dt, a, b);
  if (!is_float(dt)) return int_binary(s, op, dt, a, b);
  return float_binary(s, op, a, b);
}

LLVMValueRef mlc_cgk_fma(kstate_t *s, LLVMValueRef a, LLVMValueRef b,
                         LLVMValueRef c) {
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef args[3] = {a, b, c};
  return mlc_cgk_call_intr(s, "llvm.fma", &t, 1, args, 3);
}

static LLVMValueRef cast_from_float(kstate_t *s, mlc_dtype_t from,
                                    mlc_dtype_t to, LLVMValueRef v) {
  mlc_cg_t *cg = s->cg;
  if (to == MLC_DT_BOOL)
    return LLVMBuildFCmp(s->b, LLVMRealUNE, v, fconst(s, v, 0.0), "");
  if (!is_float(to)) return f_to_int_sat(s, to, v);
  if (to == MLC_DT_F64) return from == MLC_DT_F64 ? v : LLVMBuildFPExt(s->b, v, ty(s, cg->t_f64), "");
  if (from == MLC_DT_F64) v = LLVMBuildFPTrunc(s->b, v, ty(s, cg->t_f32), "");
  return round_to(s, to, v);
}

LLVMValueRef mlc_cgk_cast(kstate_t *s, mlc_dtype_t from, mlc_dtype_t to,
                          LLVMValueRef v) {
  LLVMTypeRef tt = ty(s, mlc_cgk_reg_type(s->cg, to));
  if (is_float(from)) return cast_from_float(s, from, to, v);
  if (to == MLC_DT_BOOL) {
    if (from == MLC_DT_BOOL) return v;
    return LLVMBuildICmp(s->b, LLVMIntNE, v, iconst(s, v, 0), "");
  }
  bool sg = is_signed_int(from);
  if (is_float(to)) {
    v = sg ? LLVMBuildSIToFP(s->b, v, tt, "") : LLVMBuildUIToFP(s->b, v, tt, "");
    return round_to(s, to, v);
  }
  unsigned fw = LLVMGetIntTypeWidth(scalar_of(LLVMTypeOf(v)));
  unsigned tw = LLVMGetIntTypeWidth(scalar_of(tt));
  if (fw == tw) return v;
  if (fw > tw) return LLVMBuildTrunc(s->b, v, tt, "");
  return sg ? LLVMBuildSExt(s->b, v, tt, "") : LLVMBuildZExt(s->b, v, tt, "");
}

static LLVMValueRef ex(kstate_t *s, const mlc_texpr_t *e) {
  if (!mlc_cgk_reg_type(s->cg, e->dtype)) {
    mlc_cgk_fail(s, MLC_ERR(UNSUPPORTED, "%s: dtype %s cannot be computed on the CPU",
                    s->k->name, mlc_dtype_name(e->dtype)));
    return LLVMGetPoison(s->cg->t_i64);
  }
  switch (e->kind) {
  case MLC_TX_CONST: return ex_const(s, e);
  case MLC_TX_VAR:
    if (e->var->kind == MLC_TV_GRID) return s->vars[e->var->id];
    return LLVMBuildLoad2(s->b, mlc_cgk_reg_type(s->cg, e->var->dtype),
                          s->vars[e->var->id], e->var->name ? e->var->name : "");
  case MLC_TX_LOAD: return ex_load(s, e);
  case MLC_TX_UNARY: return mlc_cgk_unary(s, e->un.op, e->un.a->dtype, ex(s, e->un.a));
  case MLC_TX_BINARY:
    return mlc_cgk_binary(s, e->bin.op, e->bin.a->dtype, ex(s, e->bin.a), ex(s, e->bin.b));
  case MLC_TX_SELECT: {
    LLVMValueRef c = ex(s, e->sel.cond), a = ex(s, e->sel.a), b = ex(s, e->sel.b);
    return LLVMBuildSelect(s->b, c, a, b, "");
  }
  case MLC_TX_CAST: return mlc_cgk_cast(s, e->cast.a->dtype, e->dtype, ex(s, e->cast.a));
  case MLC_TX_FMA:
    return mlc_cgk_fma(s, ex(s, e->fma.a), ex(s, e->fma.b), ex(s, e->fma.c));
  }
  return poison(s, e->dtype);
}

/* ---- statements ---------------------------------------------------------- */

static void st(kstate_t *s, const mlc_tstmt_t *t);

LLVMValueRef mlc_cgk_alloca(kstate_t *s, LLVMTypeRef t, const char *name) {
  LLVMBuilderRef ab = LLVMCreateBuilderInContext(s->cg->ctx);
  LLVMPositionBuilderAtEnd(ab, s->entry);
  LLVMValueRef a = LLVMBuildAlloca(ab, t, name ? name : "");
  LLVMDisposeBuilder(ab);
  return a;
}

/* The alloca of a loop/local variable, created in the entry block. */
static LLVMValueRef var_slot(kstate_t *s, const mlc_tvar_t *v) {
  if (!s->vars[v->id])
    s->vars[v->id] = mlc_cgk_alloca(s, mlc_cgk_reg_type(s->cg, v->dtype), v->name);
  return s->vars[v->id];
}

LLVMValueRef mlc_cgk_var_slot(kstate_t *s, const mlc_tvar_t *v) {
  return var_slot(s, v);
}

static LLVMBasicBlockRef new_block(kstate_t *s, const char *name) {
  return LLVMAppendBasicBlockInContext(s->cg->ctx, s->fn, name);
}

LLVMBasicBlockRef mlc_cgk_block(kstate_t *s, const char *name) {
  return new_block(s, name);
}

/* A distinct !llvm.loop node with the loop's hints (NULL when none). */
static LLVMMetadataRef loop_md(kstate_t *s, const mlc_tstmt_t *t) {
  mlc_cg_t *cg = s->cg;
  LLVMMetadataRef ops[3];
  size_t n = 1;
  if (t->loop.loop_kind == MLC_LOOP_VECTORIZE) {
    LLVMMetadataRef en[2] = {
        LLVMMDStringInContext2(cg->ctx, "llvm.loop.vectorize.enable", 26),
        LLVMValueAsMetadata(LLVMConstInt(cg->t_i1, 1, 0))};
    ops[n++] = LLVMMDNodeInContext2(cg->ctx, en, 2);
    if (t->loop.width > 1) {
      LLVMMetadataRef w[2] = {
          LLVMMDStringInContext2(cg->ctx, "llvm.loop.vectorize.width", 25),
          LLVMValueAsMetadata(LLVMConstInt(cg->t_i32, (unsigned)t->loop.width, 0))};
      ops[n++] = LLVMMDNodeInContext2(cg->ctx, w, 2);
    }
  } else if (t->loop.loop_kind == MLC_LOOP_UNROLL) {
    LLVMMetadataRef u = LLVMMDStringInContext2(cg->ctx, "llvm.loop.unroll.full", 21);
    ops[n++] = LLVMMDNodeInContext2(cg->ctx, &u, 1);
  } else {
    return NULL;
  }
  LLVMMetadataRef tmp = LLVMTemporaryMDNode(cg->ctx, NULL, 0);
  ops[0] = tmp;
  LLVMMetadataRef node = LLVMMDNodeInContext2(cg->ctx, ops, n);
  LLVMMetadataReplaceAllUsesWith(tmp, node);
  return node;
}

/* for (v = begin; v < end; v++) body, with hints on the latch branch. */
static void st_for(kstate_t *s, const mlc_tstmt_t *t) {
  LLVMValueRef slot = var_slot(s, t->loop.var);
  LLVMValueRef end = ex(s, t->loop.end);
  LLVMBuildStore(s->b, ex(s, t->loop.begin), slot);
  LLVMBasicBlockRef cond = new_block(s, "for.cond"), body = new_block(s, "for.body"),
                    exit = new_block(s, "for.end");
  LLVMBuildBr(s->b, cond);
  LLVMPositionBuilderAtEnd(s->b, cond);
  LLVMValueRef i = LLVMBuildLoad2(s->b, s->cg->t_i64, slot, "");
  LLVMBuildCondBr(s->b, LLVMBuildICmp(s->b, LLVMIntSLT, i, end, ""), body, exit);
  LLVMPositionBuilderAtEnd(s->b, body);
  st(s, t->loop.body);
  LLVMValueRef i2 = LLVMBuildLoad2(s->b, s->cg->t_i64, slot, "");
  i2 = LLVMBuildNSWAdd(s->b, i2, LLVMConstInt(s->cg->t_i64, 1, 0), "");
  LLVMBuildStore(s->b, i2, slot);
  LLVMValueRef br = LLVMBuildBr(s->b, cond);
  LLVMMetadataRef md = loop_md(s, t);
  if (md) LLVMSetMetadata(br, s->cg->md_loop, LLVMMetadataAsValue(s->cg->ctx, md));
  LLVMPositionBuilderAtEnd(s->b, exit);
}

static void st_if(kstate_t *s, const mlc_tstmt_t *t) {
  LLVMValueRef c = ex(s, t->if_.cond);
  LLVMBasicBlockRef then_b = new_block(s, "if.then"), join = new_block(s, "if.end");
  LLVMBasicBlockRef else_b = t->if_.else_s ? new_block(s, "if.else") : join;
  LLVMBuildCondBr(s->b, c, then_b, else_b);
  LLVMPositionBuilderAtEnd(s->b, then_b);
  st(s, t->if_.then_s);
  LLVMBuildBr(s->b, join);
  if (t->if_.else_s) {
    LLVMPositionBuilderAtEnd(s->b, else_b);
    st(s, t->if_.else_s);
    LLVMBuildBr(s->b, join);
  }
  LLVMPositionBuilderAtEnd(s->b, join);
}

static void st(kstate_t *s, const mlc_tstmt_t *t) {
  switch (t->kind) {
  case MLC_TS_FOR:
    if (!mlc_cgk_widen(s, t)) st_for(s, t);
    break;
  case MLC_TS_STORE: {
    mlc_dtype_t dt = s->k->bufs[t->store.buf].dtype;
    LLVMValueRef v = mlc_cgk_to_mem(s, dt, ex(s, t->store.value));
    LLVMBuildStore(s->b, v, elem_ptr(s, t->store.buf, t->store.index));
    break;
  }
  case MLC_TS_ASSIGN: {
    LLVMValueRef v = ex(s, t->assign.value);
    LLVMBuildStore(s->b, v, var_slot(s, t->assign.var));
    break;
  }
  case MLC_TS_IF: st_if(s, t); break;
  case MLC_TS_BLOCK:
    for (int i = 0; i < t->block.n; i++) st(s, t->block.stmts[i]);
    break;
  }
}

LLVMValueRef mlc_cgk_expr(kstate_t *s, const mlc_texpr_t *e) { return ex(s, e); }
void mlc_cgk_stmt(kstate_t *s, const mlc_tstmt_t *t) { st(s, t); }

/* ---- functions ------------------------------------------------------------ */

static void add_attr(mlc_cg_t *cg, LLVMValueRef fn, LLVMAttributeIndex idx,
                     const char *name) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(cg->ctx, kind, 0));
}

/* The tile loop: grid variables from the linear tile index, then the body. */
static void emit_tile_loop(kstate_t *s, LLVMValueRef begin, LLVMValueRef end) {
  mlc_cg_t *cg = s->cg;
  const mlc_tkernel_t *k = s->k;
  mlc_tvar_t tv = {.id = -1, .kind = MLC_TV_LOOP, .dtype = MLC_DT_I64, .name = "tile"};
  LLVMBuilderRef ab = LLVMCreateBuilderInContext(cg->ctx);
  LLVMPositionBuilderAtEnd(ab, s->entry);
  LLVMValueRef slot = LLVMBuildAlloca(ab, cg->t_i64, tv.name);
  LLVMDisposeBuilder(ab);
  LLVMBuildStore(s->b, begin, slot);
  LLVMBasicBlockRef cond = new_block(s, "tile.cond"), body = new_block(s, "tile.body"),
                    exit = new_block(s, "tile.end");
  LLVMBuildBr(s->b, cond);
  LLVMPositionBuilderAtEnd(s->b, cond);
  LLVMValueRef t = LLVMBuildLoad2(s->b, cg->t_i64, slot, "");
  LLVMBuildCondBr(s->b, LLVMBuildICmp(s->b, LLVMIntSLT, t, end, ""), body, exit);
  LLVMPositionBuilderAtEnd(s->b, body);
  LLVMValueRef rem = t;
  for (int d = k->ngrid - 1; d >= 0; d--) {
    LLVMValueRef ext = LLVMConstInt(cg->t_i64, (unsigned long long)k->grid_extents[d], 0);
    LLVMValueRef g = d == 0 ? rem : LLVMBuildURem(s->b, rem, ext, "");
    if (k->grid_extents[d] == 1) g = LLVMConstInt(cg->t_i64, 0, 0);
    if (d > 0) rem = LLVMBuildUDiv(s->b, rem, ext, "");
    s->vars[k->grid[d]->id] = g;
  }
  st(s, k->body);
  LLVMValueRef t2 = LLVMBuildNSWAdd(s->b, t, LLVMConstInt(cg->t_i64, 1, 0), "");
  LLVMBuildStore(s->b, t2, slot);
  LLVMBuildBr(s->b, cond);
  LLVMPositionBuilderAtEnd(s->b, exit);
  LLVMBuildRetVoid(s->b);
}

static LLVMValueRef make_impl(kstate_t *s) {
  mlc_cg_t *cg = s->cg;
  const mlc_tkernel_t *k = s->k;
  int n = k->nbufs;
  LLVMTypeRef *ps = calloc((size_t)n + 2, sizeof *ps);
  if (!ps) return NULL;
  for (int i = 0; i < n; i++) ps[i] = cg->t_ptr;
  ps[n] = ps[n + 1] = cg->t_i64;
  LLVMTypeRef ft = LLVMFunctionType(cg->t_void, ps, (unsigned)n + 2, 0);
  free(ps);
  char *name = malloc(strlen(k->name) + 8);
  if (!name) return NULL;
  strcpy(name, k->name);
  strcat(name, ".impl");
  LLVMValueRef fn = LLVMAddFunction(cg->mod, name, ft);
  free(name);
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  add_attr(cg, fn, LLVMAttributeFunctionIndex, "nounwind");
  add_attr(cg, fn, LLVMAttributeFunctionIndex, "alwaysinline");
  for (int i = 0; i < n; i++) {
    if (mlc_tkernel_buf_noalias(k, i)) add_attr(cg, fn, (unsigned)i + 1, "noalias");
    add_attr(cg, fn, (unsigned)i + 1, "nocapture");
    add_attr(cg, fn, (unsigned)i + 1, "nonnull");
    LLVMSetValueName2(LLVMGetParam(fn, (unsigned)i), k->bufs[i].name,
                      strlen(k->bufs[i].name));
  }
  return fn;
}

/* <name>(ctx, begin, end): bufs from ctx, then the tile loop. */
static LLVMValueRef make_wrapper(mlc_cg_t *cg, const mlc_tkernel_t *k,
                                 LLVMValueRef impl) {
  LLVMValueRef fn = LLVMAddFunction(cg->mod, k->name, cg->task_fn_type);
  LLVMSetLinkage(fn, LLVMInternalLinkage);
  add_attr(cg, fn, LLVMAttributeFunctionIndex, "nounwind");
  /* Never inlined into run: a kernel called once on the serial path is
   * otherwise inlined, run grows to the whole model's loop nests, and
   * LLVM's function passes go superlinear on it (DenseNet-121: 30 s). */
  add_attr(cg, fn, LLVMAttributeFunctionIndex, "noinline");
  LLVMBuilderRef b = LLVMCreateBuilderInContext(cg->ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry"));
  int n = k->nbufs;
  LLVMValueRef *args = calloc((size_t)n + 2, sizeof *args);
  if (!args) {
    LLVMDisposeBuilder(b);
    return NULL;
  }
  LLVMValueRef ctx = LLVMGetParam(fn, 0);
  for (int i = 0; i < n; i++) {
    LLVMValueRef idx = LLVMConstInt(cg->t_i64, (unsigned)i, 0);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(b, cg->t_ptr, ctx, &idx, 1, "");
    args[i] = LLVMBuildLoad2(b, cg->t_ptr, p, "");
  }
  args[n] = LLVMGetParam(fn, 1);
  args[n + 1] = LLVMGetParam(fn, 2);
  LLVMBuildCall2(b, LLVMGlobalGetValueType(impl), impl, args, (unsigned)n + 2, "");
  LLVMBuildRetVoid(b);
  free(args);
  LLVMDisposeBuilder(b);
  return fn;
}

/* Local buffers: an array alloca each, in place of the (unused) param. */
static void bind_locals(kstate_t *s) {
  for (int i = 0; i < s->k->nbufs && !s->err; i++) {
    const mlc_tbuf_t *b = &s->k->bufs[i];
    if (!b->local) continue;
    LLVMTypeRef at = LLVMArrayType2(mlc_cgk_mem_type(s->cg, b->dtype), (uint64_t)b->nelems);
    s->bufs[i] = mlc_cgk_alloca(s, at, b->name);
    LLVMSetAlignment(s->bufs[i], 64);
  }
}

mlc_status_t *mlc_cg_kernel(mlc_cg_t *cg, const mlc_tkernel_t *k,
                            LLVMValueRef *out_fn) {
  kstate_t s = {.cg = cg, .k = k};
  s.fn = make_impl(&s);
  s.bufs = calloc((size_t)k->nbufs + 1, sizeof *s.bufs);
  s.vars = calloc((size_t)k->nvars + 1, sizeof *s.vars);
  if (!s.fn || !s.bufs || !s.vars) {
    free(s.bufs);
    free(s.vars);
    return MLC_ERR(OUT_OF_MEMORY, "kernel %s", k->name);
  }
  for (int i = 0; i < k->nbufs; i++) {
    s.bufs[i] = LLVMGetParam(s.fn, (unsigned)i);
    if (!mlc_cgk_mem_type(cg, k->bufs[i].dtype))
      mlc_cgk_fail(&s, MLC_ERR(UNSUPPORTED, "kernel %s: buffer '%s' has dtype %s",
                       k->name, k->bufs[i].name, mlc_dtype_name(k->bufs[i].dtype)));
  }
  s.b = LLVMCreateBuilderInContext(cg->ctx);
  s.entry = LLVMAppendBasicBlockInContext(cg->ctx, s.fn, "entry");
  bind_locals(&s);
  LLVMBasicBlockRef start = LLVMAppendBasicBlockInContext(cg->ctx, s.fn, "start");
  LLVMPositionBuilderAtEnd(s.b, start);
  if (!s.err)
    emit_tile_loop(&s, LLVMGetParam(s.fn, (unsigned)k->nbufs),
                   LLVMGetParam(s.fn, (unsigned)k->nbufs + 1));
  else
    LLVMBuildRetVoid(s.b);
  LLVMPositionBuilderAtEnd(s.b, s.entry);
  LLVMBuildBr(s.b, start);
  LLVMDisposeBuilder(s.b);
  free(s.bufs);
  free(s.vars);
  if (s.err) return s.err;
  *out_fn = make_wrapper(cg, k, s.fn);
  return *out_fn ? NULL : MLC_ERR(OUT_OF_MEMORY, "kernel %s", k->name);
}
