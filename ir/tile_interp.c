/* The reference interpreter of the tiled IR (see ir/tile.h for the
 * semantics it defines).
 *
 * Every scalar is held in a small union: integers and bool as int64 (u64
 * keeps its bit pattern and is compared/divided as unsigned), floats as
 * double.  Results of integer ops are wrapped to their dtype's width after
 * each operation; f32, f16 and bf16 arithmetic is done in float and f16/bf16
 * are rounded to nearest even only when stored (or cast to).  Buffer reads
 * and writes are bounds-checked: an out-of-range index sets an error that
 * stops the run and is returned as a status.  No allocation happens per
 * element: the heap blocks are the variable array and local buffers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/tile.h"
#include "ir/vmath.h"

typedef union tval {
  int64_t i;
  double f;
} tval_t;

typedef struct interp {
  const mlc_tkernel_t *k;
  void *const *bufs;
  tval_t *vars;
  mlc_status_t *err;
} interp_t;

/* ---- scalar conversions ---- */

static float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, ex = (h >> 10) & 0x1f,
           man = h & 0x3ff, bits;
  if (ex == 0) {
    if (man == 0) {
      bits = sign;
    } else {
      ex = 127 - 15 + 1;
      while (!(man & 0x400)) {
        man <<= 1;
        ex--;
      }
      bits = sign | (ex << 23) | ((man & 0x3ff) << 13);
    }
  } else if (ex == 31) {
    bits = sign | 0x7f800000 | (man << 13);
  } else {
    bits = sign | ((ex + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t ax = x & 0x7fffffff;
  if (ax > 0x7f800000) return (uint16_t)(sign | 0x7e00); /* NaN */
  if (ax >= 0x477ff000) return (uint16_t)(sign | 0x7c00); /* overflow: inf */
  if (ax < 0x38800000) { /* subnormal or zero in f16 */
    if (ax < 0x33000000) return (uint16_t)sign; /* below half the min */
    uint32_t e = ax >> 23, man = (ax & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e; /* f16 subnormal unit is 2^-24 */
    uint32_t r = man >> shift, rem = man & ((1u << shift) - 1),
             half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) r++;
    return (uint16_t)(sign | r);
  }
  uint32_t r = ((ax >> 13) - ((127 - 15) << 10));
  uint32_t rem = ax & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
  return (uint16_t)(sign | r);
}

static float bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40);
  uint32_t lsb = (x >> 16) & 1;
  x += 0x7fff + lsb;
  return (uint16_t)(x >> 16);
}

/* Rounds a double to the precision of float dtype `dt`. */
static double round_float(mlc_dtype_t dt, double v) {
  switch (dt) {
  case MLC_DT_F32: return (float)v;
  case MLC_DT_F16: return f16_to_f32(f32_to_f16((float)v));
  case MLC_DT_BF16: return bf16_to_f32(f32_to_bf16((float)v));
  default: return v;
  }
}

/* Wraps an integer result to the width of `dt`. */
static int64_t wrap_int(mlc_dtype_t dt, int64_t v) {
  switch (dt) {
  case MLC_DT_BOOL: return v != 0;
  case MLC_DT_I8: return (int8_t)v;
  case MLC_DT_U8: return (uint8_t)v;
  case MLC_DT_I16: return (int16_t)v;
  case MLC_DT_U16: return (uint16_t)v;
  case MLC_DT_I32: return (int32_t)v;
  case MLC_DT_U32: return (uint32_t)v;
  default: return v;
  }
}

static void int_range(mlc_dtype_t dt, double *lo, double *hi) {
  switch (dt) {
  case MLC_DT_I8: *lo = -128; *hi = 127; break;
  case MLC_DT_U8: *lo = 0; *hi = 255; break;
  case MLC_DT_I16: *lo = -32768; *hi = 32767; break;
  case MLC_DT_U16: *lo = 0; *hi = 65535; break;
  case MLC_DT_I32: *lo = -2147483648.0; *hi = 2147483647.0; break;
  case MLC_DT_U32: *lo = 0; *hi = 4294967295.0; break;
  case MLC_DT_U64: *lo = 0; *hi = 18446744073709551615.0; break;
  default: *lo = -9223372036854775808.0; *hi = 9223372036854775807.0; break;
  }
}

/* Float -> int: truncate toward zero, saturate, NaN -> 0. */
static int64_t float_to_int(mlc_dtype_t dt, double v) {
  if (isnan(v)) return 0;
  double lo, hi;
  int_range(dt, &lo, &hi);
  v = trunc(v);
  if (dt == MLC_DT_U64) {
    if (v <= 0) return 0;
    if (v >= hi) return (int64_t)UINT64_MAX;
    return (int64_t)(uint64_t)v;
  }
  if (v <= lo) return (int64_t)lo;
  if (v >= hi) return dt == MLC_DT_I64 ? INT64_MAX : (int64_t)hi;
  return (int64_t)v;
}

static tval_t cast_val(mlc_dtype_t from, mlc_dtype_t to, tval_t v) {
  tval_t r;
  bool ff = mlc_dtype_is_float(from), tf = mlc_dtype_is_float(to);
  if (to == MLC_DT_BOOL) {
    r.i = ff ? v.f != 0 : v.i != 0;
  } else if (ff && tf) {
    r.f = round_float(to, v.f);
  } else if (ff) {
    r.i = float_to_int(to, v.f);
  } else if (tf) {
    double d = from == MLC_DT_U64 ? (double)(uint64_t)v.i : (double)v.i;
    r.f = round_float(to, d);
  } else {
    r.i = wrap_int(to, v.i);
  }
  return r;
}

/* ---- memory ---- */

static tval_t load_elem(mlc_dtype_t dt, const void *p, int64_t i) {
  tval_t r = {0};
  switch (dt) {
  case MLC_DT_BOOL: r.i = ((const uint8_t *)p)[i] != 0; break;
  case MLC_DT_U8: r.i = ((const uint8_t *)p)[i]; break;
  case MLC_DT_I8: r.i = ((const int8_t *)p)[i]; break;
  case MLC_DT_U16: r.i = ((const uint16_t *)p)[i]; break;
  case MLC_DT_I16: r.i = ((const int16_t *)p)[i]; break;
  case MLC_DT_U32: r.i = ((const uint32_t *)p)[i]; break;
  case MLC_DT_I32: r.i = ((const int32_t *)p)[i]; break;
  case MLC_DT_U64: case MLC_DT_I64: r.i = ((const int64_t *)p)[i]; break;
  case MLC_DT_F32: r.f = ((const float *)p)[i]; break;
  case MLC_DT_F64: r.f = ((const double *)p)[i]; break;
  case MLC_DT_F16: r.f = f16_to_f32(((const uint16_t *)p)[i]); break;
  case MLC_DT_BF16: r.f = bf16_to_f32(((const uint16_t *)p)[i]); break;
  default: break;
  }
  return r;
}

static void store_elem(mlc_dtype_t dt, void *p, int64_t i, tval_t v) {
  switch (dt) {
  case MLC_DT_BOOL: ((uint8_t *)p)[i] = v.i != 0; break;
  case MLC_DT_U8: case MLC_DT_I8: ((uint8_t *)p)[i] = (uint8_t)v.i; break;
  case MLC_DT_U16: case MLC_DT_I16: ((uint16_t *)p)[i] = (uint16_t)v.i; break;
  case MLC_DT_U32: case MLC_DT_I32: ((uint32_t *)p)[i] = (uint32_t)v.i; break;
  case MLC_DT_U64: case MLC_DT_I64: ((int64_t *)p)[i] = v.i; break;
  case MLC_DT_F32: ((float *)p)[i] = (float)v.f; break;
  case MLC_DT_F64: ((double *)p)[i] = v.f; break;
  case MLC_DT_F16: ((uint16_t *)p)[i] = f32_to_f16((float)v.f); break;
  case MLC_DT_BF16: ((uint16_t *)p)[i] = f32_to_bf16((float)v.f); break;
  default: break;
  }
}

static bool check_index(interp_t *in, int buf, int64_t idx, const char *what) {
  if (in->err) return false;
  if (buf < 0 || buf >= in->k->nbufs) {
    in->err = MLC_ERR(INTERNAL, "kernel %s: %s of buffer %d: no such buffer",
                      in->k->name, what, buf);
    return false;
  }
  if (idx < 0 || idx >= in->k->bufs[buf].nelems) {
    in->err = MLC_ERR(INVALID_ARGUMENT,
                      "kernel %s: %s of %s[%lld] out of range (%lld elements)",
                      in->k->name, what, in->k->bufs[buf].name, (long long)idx,
                      (long long)in->k->bufs[buf].nelems);
    return false;
  }
  return true;
}

/* ---- expressions ---- */

static tval_t eval(interp_t *in, const mlc_texpr_t *e);

static bool is_f32ish(mlc_dtype_t dt) {
  return dt == MLC_DT_F32 || dt == MLC_DT_F16 || dt == MLC_DT_BF16;
}

static double unary_float(mlc_tunop_t op, mlc_dtype_t dt, double x) {
  if (is_f32ish(dt)) {
    float f = (float)x;
    switch (op) {
    case MLC_TU_NEG: return -f;
    case MLC_TU_ABS: return fabsf(f);
    case MLC_TU_SQRT: return sqrtf(f);
    case MLC_TU_EXP: return mlc_vmath_expf(f);
    case MLC_TU_LOG: return logf(f);
    case MLC_TU_TANH: return mlc_vmath_tanhf(f);
    case MLC_TU_ERF: return mlc_vmath_erff(f);
    case MLC_TU_FLOOR: return floorf(f);
    case MLC_TU_CEIL: return ceilf(f);
    case MLC_TU_ROUND: return nearbyintf(f);
    case MLC_TU_SIN: return sinf(f);
    case MLC_TU_COS: return cosf(f);
    default: return f;
    }
  }
  switch (op) {
  case MLC_TU_NEG: return -x;
  case MLC_TU_ABS: return fabs(x);
  case MLC_TU_SQRT: return sqrt(x);
  case MLC_TU_EXP: return exp(x);
  case MLC_TU_LOG: return log(x);
  case MLC_TU_TANH: return tanh(x);
  case MLC_TU_ERF: return erf(x);
  case MLC_TU_FLOOR: return floor(x);
  case MLC_TU_CEIL: return ceil(x);
  case MLC_TU_ROUND: return nearbyint(x);
  case MLC_TU_SIN: return sin(x);
  case MLC_TU_COS: return cos(x);
  default: return x;
  }
}

static tval_t eval_unary(interp_t *in, const mlc_texpr_t *e) {
  mlc_dtype_t dt = e->un.a->dtype;
  tval_t a = eval(in, e->un.a), r;
  if (e->un.op == MLC_TU_ISNAN) {
    r.i = mlc_dtype_is_float(dt) ? isnan(a.f) != 0 : 0;
    return r;
  }
  if (mlc_dtype_is_float(dt)) {
    r.f = unary_float(e->un.op, dt, a.f);
    return r;
  }
  switch (e->un.op) {
  case MLC_TU_NEG: r.i = (int64_t)(0 - (uint64_t)a.i); break;
  case MLC_TU_ABS:
    r.i = (mlc_dtype_is_signed(dt) && a.i < 0) ? (int64_t)(0 - (uint64_t)a.i)
                                               : a.i;
    break;
  case MLC_TU_NOT: r.i = dt == MLC_DT_BOOL ? !a.i : ~a.i; break;
  default: r.i = a.i; break; /* floor/ceil/round of an int: itself */
  }
  r.i = wrap_int(dt, r.i);
  return r;
}

static double pow_float(mlc_dtype_t dt, double a, double b) {
  return is_f32ish(dt) ? powf((float)a, (float)b) : pow(a, b);
}

static int64_t pow_int(int64_t a, int64_t b) {
  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
  uint64_t r = 1, x = (uint64_t)a;
  while (b) {
    if (b & 1) r *= x;
    x *= x;
    b >>= 1;
  }
  return (int64_t)r;
}

static tval_t binary_float(mlc_tbinop_t op, mlc_dtype_t dt, double a,
                           double b) {
  tval_t r;
  switch (op) {
  case MLC_TB_ADD: r.f = a + b; break;
  case MLC_TB_SUB: r.f = a - b; break;
  case MLC_TB_MUL: r.f = a * b; break;
  case MLC_TB_DIV: r.f = a / b; break;
  case MLC_TB_MOD: r.f = is_f32ish(dt) ? fmodf((float)a, (float)b) : fmod(a, b);
    break;
  case MLC_TB_POW: r.f = pow_float(dt, a, b); break;
  case MLC_TB_MIN: r.f = (isnan(a) || isnan(b)) ? NAN : (a < b ? a : b); break;
  case MLC_TB_MAX: r.f = (isnan(a) || isnan(b)) ? NAN : (a > b ? a : b); break;
  case MLC_TB_AND: r.f = (a != 0) && (b != 0); break;
  case MLC_TB_OR: r.f = (a != 0) || (b != 0); break;
  case MLC_TB_XOR: r.f = (a != 0) != (b != 0); break;
  case MLC_TB_EQ: r.i = a == b; return r;
  case MLC_TB_NE: r.i = a != b; return r;
  case MLC_TB_LT: r.i = a < b; return r;
  case MLC_TB_LE: r.i = a <= b; return r;
  case MLC_TB_GT: r.i = a > b; return r;
  case MLC_TB_GE: r.i = a >= b; return r;
  default: r.f = 0; break;
  }
  if (is_f32ish(dt)) r.f = (float)r.f;
  return r;
}

static int64_t idiv(mlc_dtype_t dt, int64_t a, int64_t b, bool mod) {
  if (b == 0) return 0;
  if (dt == MLC_DT_U64) {
    uint64_t x = (uint64_t)a, y = (uint64_t)b;
    return (int64_t)(mod ? x % y : x / y);
  }
  if (b == -1) return mod ? 0 : (int64_t)(0 - (uint64_t)a);
  return mod ? a % b : a / b;
}

static int cmp_int(mlc_dtype_t dt, int64_t a, int64_t b) {
  if (dt == MLC_DT_U64) {
    uint64_t x = (uint64_t)a, y = (uint64_t)b;
    return x < y ? -1 : x > y;
  }
  return a < b ? -1 : a > b;
}

static tval_t binary_int(mlc_tbinop_t op, mlc_dtype_t dt, int64_t a,
                         int64_t b) {
  tval_t r;
  uint64_t x = (uint64_t)a, y = (uint64_t)b;
  int c = cmp_int(dt, a, b);
  switch (op) {
  case MLC_TB_ADD: r.i = (int64_t)(x + y); break;
  case MLC_TB_SUB: r.i = (int64_t)(x - y); break;
  case MLC_TB_MUL: r.i = (int64_t)(x * y); break;
  case MLC_TB_DIV: r.i = idiv(dt, a, b, false); break;
  case MLC_TB_MOD: r.i = idiv(dt, a, b, true); break;
  case MLC_TB_POW: r.i = pow_int(a, b); break;
  case MLC_TB_MIN: r.i = c <= 0 ? a : b; break;
  case MLC_TB_MAX: r.i = c >= 0 ? a : b; break;
  case MLC_TB_AND: r.i = a & b; break;
  case MLC_TB_OR: r.i = a | b; break;
  case MLC_TB_XOR: r.i = a ^ b; break;
  case MLC_TB_EQ: r.i = c == 0; return r;
  case MLC_TB_NE: r.i = c != 0; return r;
  case MLC_TB_LT: r.i = c < 0; return r;
  case MLC_TB_LE: r.i = c <= 0; return r;
  case MLC_TB_GT: r.i = c > 0; return r;
  case MLC_TB_GE: r.i = c >= 0; return r;
  default: r.i = 0; break;
  }
  r.i = wrap_int(dt, r.i);
  return r;
}

static tval_t eval_binary(interp_t *in, const mlc_texpr_t *e) {
  mlc_dtype_t dt = e->bin.a->dtype;
  tval_t a = eval(in, e->bin.a), b = eval(in, e->bin.b);
  if (mlc_dtype_is_float(dt)) return binary_float(e->bin.op, dt, a.f, b.f);
  return binary_int(e->bin.op, dt, a.i, b.i);
}

static tval_t eval(interp_t *in, const mlc_texpr_t *e) {
  tval_t r = {0};
  switch (e->kind) {
  case MLC_TX_CONST:
    if (mlc_dtype_is_float(e->dtype))
      r.f = round_float(e->dtype, e->c.f);
    else
      r.i = wrap_int(e->dtype, e->c.i);
    return r;
  case MLC_TX_VAR: return in->vars[e->var->id];
  case MLC_TX_LOAD: {
    int64_t idx = eval(in, e->load.index).i;
    if (!check_index(in, e->load.buf, idx, "load")) return r;
    return load_elem(in->k->bufs[e->load.buf].dtype, in->bufs[e->load.buf],
                     idx);
  }
  case MLC_TX_UNARY: return eval_unary(in, e);
  case MLC_TX_BINARY: return eval_binary(in, e);
  case MLC_TX_SELECT:
    return eval(in, e->sel.cond).i ? eval(in, e->sel.a) : eval(in, e->sel.b);
  case MLC_TX_CAST: return cast_val(e->cast.a->dtype, e->dtype,
                                    eval(in, e->cast.a));
  case MLC_TX_FMA: {
    double a = eval(in, e->fma.a).f, b = eval(in, e->fma.b).f,
           c = eval(in, e->fma.c).f;
    r.f = e->dtype == MLC_DT_F64 ? fma(a, b, c)
                                 : (double)fmaf((float)a, (float)b, (float)c);
    return r;
  }
  }
  return r;
}

/* ---- statements ---- */

static void exec(interp_t *in, const mlc_tstmt_t *s) {
  if (in->err) return;
  switch (s->kind) {
  case MLC_TS_FOR: {
    int64_t b = eval(in, s->loop.begin).i, end = eval(in, s->loop.end).i;
    int id = s->loop.var->id;
    for (int64_t i = b; i < end && !in->err; i++) {
      in->vars[id].i = i;
      exec(in, s->loop.body);
    }
    break;
  }
  case MLC_TS_STORE: {
    int64_t idx = eval(in, s->store.index).i;
    tval_t v = eval(in, s->store.value);
    if (!check_index(in, s->store.buf, idx, "store")) return;
    store_elem(in->k->bufs[s->store.buf].dtype, in->bufs[s->store.buf], idx,
               v);
    break;
  }
  case MLC_TS_ASSIGN: {
    tval_t v = eval(in, s->assign.value);
    mlc_dtype_t dt = s->assign.var->dtype;
    if (mlc_dtype_is_float(dt))
      v.f = is_f32ish(dt) ? (float)v.f : v.f;
    else
      v.i = wrap_int(dt, v.i);
    in->vars[s->assign.var->id] = v;
    break;
  }
  case MLC_TS_IF:
    if (eval(in, s->if_.cond).i)
      exec(in, s->if_.then_s);
    else if (s->if_.else_s)
      exec(in, s->if_.else_s);
    break;
  case MLC_TS_BLOCK:
    for (int i = 0; i < s->block.n && !in->err; i++)
      exec(in, s->block.stmts[i]);
    break;
  }
}

/* Runs the body once per grid point, last grid dim fastest. */
static void run_grid(interp_t *in) {
  const mlc_tkernel_t *k = in->k;
  for (int d = 0; d < k->ngrid; d++) {
    if (k->grid_extents[d] <= 0) return; /* empty grid: nothing to run */
    in->vars[k->grid[d]->id].i = 0;
  }
  for (;;) {
    exec(in, k->body);
    if (in->err) return;
    int d = k->ngrid - 1;
    for (; d >= 0; d--) {
      int64_t *v = &in->vars[k->grid[d]->id].i;
      if (++*v < k->grid_extents[d]) break;
      *v = 0;
    }
    if (d < 0) return;
  }
}

/* Host memory for the local buffers, in a copy of the caller's array. */
static mlc_status_t *bind_locals(const mlc_tkernel_t *k, void *const *bufs,
                                 void ***out) {
  void **all = calloc((size_t)k->nbufs + 1, sizeof *all);
  if (!all) return MLC_ERR(OUT_OF_MEMORY, "kernel %s: interpreter", k->name);
  *out = all;
  for (int i = 0; i < k->nbufs; i++) {
    size_t nb = (size_t)k->bufs[i].nelems * mlc_dtype_size(k->bufs[i].dtype);
    all[i] = k->bufs[i].local ? calloc(1, nb ? nb : 1) : bufs[i];
    if (!all[i] && k->bufs[i].local)
      return MLC_ERR(OUT_OF_MEMORY, "kernel %s: local buffer %s", k->name, k->bufs[i].name);
    if (!all[i] && k->bufs[i].nelems > 0)
      return MLC_ERR(INVALID_ARGUMENT, "kernel %s: buffer %d (%s) is NULL",
                     k->name, i, k->bufs[i].name);
  }
  return NULL;
}

/* Local buffers are allocated here (bufs[i] is ignored for them) and
 * shared by the tiles, which the semantics allow: a tile stores each local
 * element before it loads it. */
mlc_status_t *mlc_tkernel_interpret(const mlc_tkernel_t *k, void *const *bufs) {
  if (!k) return MLC_ERR(INVALID_ARGUMENT, "interpret: no kernel");
  if (!k->body) return NULL;
  void **all = NULL;
  mlc_status_t *st = bind_locals(k, bufs, &all);
  interp_t in = {k, all, calloc((size_t)k->nvars + 1, sizeof(tval_t)), NULL};
  if (!st && !in.vars) st = MLC_ERR(OUT_OF_MEMORY, "kernel %s: interpreter", k->name);
  if (!st) {
    run_grid(&in);
    st = in.err;
  }
  for (int i = 0; all && i < k->nbufs; i++)
    if (k->bufs[i].local) free(all[i]);
  free(all);
  free(in.vars);
  return st;
}
