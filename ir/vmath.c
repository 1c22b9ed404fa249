/* The reference f32 exp, tanh and erf of the tiled IR (see ir/vmath.h for
 * the algorithms and their bounds).
 *
 * Every line is one IEEE f32 operation, in the order codegen/llvm/vmath.c
 * emits them; a multiply-add is written as fmaf where it is one, and this
 * file is compiled with -ffp-contract=off (CMakeLists.txt) so the C
 * compiler fuses nothing else.  Integer steps on bit patterns use uint32_t
 * (wrapping, as LLVM's i32 add/sub/shl/lshr), so a NaN's garbage exponent
 * is well defined.  Comparisons are ordered (false on NaN), as LLVM's
 * fcmp olt/ogt/oge.
 */
#include "ir/vmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Coefficients: near-minimax (Chebyshev) fits made with mpmath, rounded to
 * f32; highest degree first. */
const float mlc_vmath_exp_poly[MLC_VMATH_EXP_N] = {
    0x1.6d10fcp-10f, 0x1.120b62p-7f, 0x1.55551ap-5f, 0x1.5554dep-3f, 0x1p-1f};
const float mlc_vmath_tanh_poly[MLC_VMATH_TANH_N] = {
    -0x1.8f8de4p-8f, 0x1.58048ep-6f, -0x1.b9258ap-5f, 0x1.110e1cp-3f,
    -0x1.555552p-2f};
const float mlc_vmath_erf_small_poly[MLC_VMATH_ERF_SMALL_N] = {
    0x1.4a569p-14f, -0x1.a45088p-11f, 0x1.54127p-8f, -0x1.b7fabap-6f,
    0x1.ce2d1p-4f,  -0x1.81273ep-2f,  0x1.06eba8p-3f};
const float mlc_vmath_erf_large_poly[MLC_VMATH_ERF_LARGE_N] = {
    0x1.f06b54p-4f, -0x1.a74dcp-5f,  -0x1.cbe5dep-3f, 0x1.d481ccp-5f,
    0x1.43c406p-1f, 0x1.f11a4ep-1f, 0x1.b7ac3p-1f,   0x1.07802cp-2f};

static uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* c[0] x^(n-1) + ... + c[n-1], one fmaf per step. */
static float horner(const float *c, int n, float x) {
  float p = c[0];
  for (int i = 1; i < n; i++) p = fmaf(p, x, c[i]);
  return p;
}

/* |y| with the sign bit of x. */
static float with_sign_of(float y, float x) {
  return float_of(bits_of(y) | (bits_of(x) & 0x80000000u));
}

float mlc_vmath_expf(float x) {
  float xc = x > MLC_VMATH_EXP_HI ? MLC_VMATH_EXP_HI : x;
  xc = xc < MLC_VMATH_EXP_LO ? MLC_VMATH_EXP_LO : xc;
  float k = fmaf(xc, MLC_VMATH_LOG2E, MLC_VMATH_SHIFT);
  float n = k - MLC_VMATH_SHIFT;
  float r = fmaf(n, -MLC_VMATH_LN2_HI, xc);
  r = fmaf(n, -MLC_VMATH_LN2_LO, r);
  float p = horner(mlc_vmath_exp_poly, MLC_VMATH_EXP_N, r);
  float z = r * r;
  float y = fmaf(p, z, r);
  y = y + 1.0f;
  /* m = n + 256 in [106, 384]; h = floor(m / 2); the two factors are
   * 2^(h - 128) and 2^(m - h - 128), both normal. */
  uint32_t m = bits_of(k) - (MLC_VMATH_SHIFT_BITS - 256u);
  uint32_t h = m >> 1;
  float s1 = float_of((h - 1u) << 23);
  float s2 = float_of((m - h - 1u) << 23);
  y = y * s1;
  return y * s2;
}

float mlc_vmath_tanhf(float x) {
  float a = fabsf(x);
  float z = a * a;
  float p = horner(mlc_vmath_tanh_poly, MLC_VMATH_TANH_N, z);
  float a3 = a * z;
  float small = fmaf(a3, p, a);
  float e = mlc_vmath_expf(a + a);
  float d = e + 1.0f;
  float q = 2.0f / d;
  float large = 1.0f - q;
  float y = a < MLC_VMATH_TANH_SMALL ? small : large;
  return with_sign_of(y, x);
}

float mlc_vmath_erff(float x) {
  float a = fabsf(x);
  float z = a * a;
  float p = horner(mlc_vmath_erf_small_poly, MLC_VMATH_ERF_SMALL_N, z);
  float small = fmaf(a, p, a);
  float d = 2.0f + a;
  float t = 2.0f / d;
  float u = t - MLC_VMATH_ERF_TMID;
  float q = horner(mlc_vmath_erf_large_poly, MLC_VMATH_ERF_LARGE_N, u);
  float e = mlc_vmath_expf(-z);
  float large = fmaf(-e, q, 1.0f);
  float y = a < 1.0f ? small : large;
  y = a >= MLC_VMATH_ERF_SAT ? 1.0f : y;
  return with_sign_of(y, x);
}
