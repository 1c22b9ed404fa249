/* Element type properties and names.  See dtype.h. */
#include "ir/dtype.h"

#include <string.h>

static const struct {
  const char *name;
  unsigned char size;
} info[MLC_DT_COUNT_] = {
    [MLC_DT_UNDEFINED] = {"undef", 0},  [MLC_DT_F32] = {"f32", 4},
    [MLC_DT_U8] = {"u8", 1},            [MLC_DT_I8] = {"i8", 1},
    [MLC_DT_U16] = {"u16", 2},          [MLC_DT_I16] = {"i16", 2},
    [MLC_DT_I32] = {"i32", 4},          [MLC_DT_I64] = {"i64", 8},
    [MLC_DT_STRING] = {"string", 0},    [MLC_DT_BOOL] = {"bool", 1},
    [MLC_DT_F16] = {"f16", 2},          [MLC_DT_F64] = {"f64", 8},
    [MLC_DT_U32] = {"u32", 4},          [MLC_DT_U64] = {"u64", 8},
    [MLC_DT_C64] = {"c64", 8},          [MLC_DT_C128] = {"c128", 16},
    [MLC_DT_BF16] = {"bf16", 2},        [MLC_DT_F8E4M3FN] = {"f8e4m3fn", 1},
    [MLC_DT_F8E4M3FNUZ] = {"f8e4m3fnuz", 1},
    [MLC_DT_F8E5M2] = {"f8e5m2", 1},    [MLC_DT_F8E5M2FNUZ] = {"f8e5m2fnuz", 1},
    [MLC_DT_U4] = {"u4", 0},            [MLC_DT_I4] = {"i4", 0},
    [MLC_DT_F4E2M1] = {"f4e2m1", 0},    [MLC_DT_F8E8M0] = {"f8e8m0", 1},
    [MLC_DT_U2] = {"u2", 0},            [MLC_DT_I2] = {"i2", 0},
};

static bool valid(mlc_dtype_t dt) {
  return (int)dt >= 0 && dt < MLC_DT_COUNT_;
}

size_t mlc_dtype_size(mlc_dtype_t dt) { return valid(dt) ? info[dt].size : 0; }

const char *mlc_dtype_name(mlc_dtype_t dt) {
  return valid(dt) ? info[dt].name : "?";
}

bool mlc_dtype_parse(const char *s, size_t len, mlc_dtype_t *out) {
  for (int i = 0; i < MLC_DT_COUNT_; i++) {
    if (strlen(info[i].name) == len && memcmp(info[i].name, s, len) == 0) {
      *out = (mlc_dtype_t)i;
      return true;
    }
  }
  return false;
}

bool mlc_dtype_is_float(mlc_dtype_t dt) {
  return dt == MLC_DT_F16 || dt == MLC_DT_BF16 || dt == MLC_DT_F32 ||
         dt == MLC_DT_F64;
}

bool mlc_dtype_is_int(mlc_dtype_t dt) {
  switch (dt) {
  case MLC_DT_U8: case MLC_DT_I8: case MLC_DT_U16: case MLC_DT_I16:
  case MLC_DT_U32: case MLC_DT_I32: case MLC_DT_U64: case MLC_DT_I64:
    return true;
  default:
    return false;
  }
}

bool mlc_dtype_is_signed(mlc_dtype_t dt) {
  return mlc_dtype_is_float(dt) || dt == MLC_DT_I8 || dt == MLC_DT_I16 ||
         dt == MLC_DT_I32 || dt == MLC_DT_I64;
}

bool mlc_dtype_is_computable(mlc_dtype_t dt) {
  return dt == MLC_DT_BOOL || mlc_dtype_is_int(dt) || mlc_dtype_is_float(dt);
}
