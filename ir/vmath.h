/* Vectorizable f32 exp, tanh and erf: the reference semantics of the tiled
 * IR's EXP, TANH and ERF on f32, f16 and bf16 (f16/bf16 compute in f32).
 *
 * Each function is a fixed sequence of IEEE f32 operations: add, sub, mul,
 * div, fused multiply-add (fmaf), compares and selects, fabs, and integer
 * operations on the bit pattern; no branch depends on the value except
 * selects, and no libm call is made.  The interpreter (tile_interp.c) calls
 * these functions; the LLVM backend (codegen/llvm/vmath.c) emits the same
 * operations in the same order, in scalar or vector form, so the two agree
 * bit for bit.  The constants below are shared by both; changing one
 * changes the semantics of the IR (update docs/ir.md and the bounds tested
 * in tests/ir/test_vmath.c).
 *
 * Error against the double-precision libm result, asserted by
 * tests/ir/test_vmath.c on every 64th f32 bit pattern plus special values:
 * exp <= 1.5 ulp, tanh <= 2 ulp, erf <= 2 ulp (measured 1.05, 1.29, 1.20;
 * docs/ir.md).
 * NaN in gives NaN out (payload unspecified); exp(+inf) = +inf,
 * exp(-inf) = +0, tanh(+-inf) = +-1, erf(+-inf) = +-1; tanh and erf keep
 * the sign of zero.
 */
#ifndef MLC_IR_VMATH_H
#define MLC_IR_VMATH_H

/* exp: clamp x to [EXP_LO, EXP_HI]; n = round(x / ln2) by the shifter
 * trick (fma(x, LOG2E, SHIFT) - SHIFT, ties to even); r = x - n ln2 in two
 * fma steps; exp(r) = 1 + (r + r^2 P(r)); times 2^n as two factors
 * 2^floor(n/2) * 2^(n - floor(n/2)) so subnormal results round once. */
#define MLC_VMATH_EXP_HI 0x1.64p+6f  /* 89: exp overflows to +inf */
#define MLC_VMATH_EXP_LO -0x1.ap+6f  /* -104: exp rounds to +0 */
#define MLC_VMATH_LOG2E 0x1.715476p+0f
#define MLC_VMATH_SHIFT 0x1.8p+23f   /* bits 0x4b400000 + n */
#define MLC_VMATH_SHIFT_BITS 0x4b400000u
#define MLC_VMATH_LN2_HI 0x1.62e43p-1f
#define MLC_VMATH_LN2_LO -0x1.05c61p-29f
#define MLC_VMATH_EXP_N 5
extern const float mlc_vmath_exp_poly[MLC_VMATH_EXP_N];

/* tanh on a = |x|: a < TANH_SMALL: a + (a z) P(z), z = a^2; else
 * 1 - 2 / (exp(2a) + 1); then the sign of x. */
#define MLC_VMATH_TANH_SMALL 0x1.4p-1f /* 0.625 */
#define MLC_VMATH_TANH_N 5
extern const float mlc_vmath_tanh_poly[MLC_VMATH_TANH_N];

/* erf on a = |x|: a < 1: a + a P(a^2); a < ERF_SAT: 1 - exp(-a^2) Q(u),
 * u = 2 / (2 + a) - ERF_TMID (Q approximates erfc(a) exp(a^2));
 * a >= ERF_SAT: 1; then the sign of x. */
#define MLC_VMATH_ERF_SAT 0x1.f5c28fp+1f /* 3.92: erf rounds to 1 beyond */
#define MLC_VMATH_ERF_TMID 0x1.012736p-1f
#define MLC_VMATH_ERF_SMALL_N 7
#define MLC_VMATH_ERF_LARGE_N 8
extern const float mlc_vmath_erf_small_poly[MLC_VMATH_ERF_SMALL_N];
extern const float mlc_vmath_erf_large_poly[MLC_VMATH_ERF_LARGE_N];

float mlc_vmath_expf(float x);
float mlc_vmath_tanhf(float x);
float mlc_vmath_erff(float x);

#endif
