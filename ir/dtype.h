/* Element types.  The numbering is ONNX's TensorProto.DataType, so a dtype
 * read from a model or written into a compiled model's descriptor needs no
 * translation.  Types the backends cannot compute on yet (string, complex,
 * float8, 4-bit and 2-bit) are still named so errors can say what they saw. */
#ifndef MLC_IR_DTYPE_H
#define MLC_IR_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum mlc_dtype {
  MLC_DT_UNDEFINED = 0,
  MLC_DT_F32 = 1,
  MLC_DT_U8 = 2,
  MLC_DT_I8 = 3,
  MLC_DT_U16 = 4,
  MLC_DT_I16 = 5,
  MLC_DT_I32 = 6,
  MLC_DT_I64 = 7,
  MLC_DT_STRING = 8,
  MLC_DT_BOOL = 9,
  MLC_DT_F16 = 10,
  MLC_DT_F64 = 11,
  MLC_DT_U32 = 12,
  MLC_DT_U64 = 13,
  MLC_DT_C64 = 14,
  MLC_DT_C128 = 15,
  MLC_DT_BF16 = 16,
  MLC_DT_F8E4M3FN = 17,
  MLC_DT_F8E4M3FNUZ = 18,
  MLC_DT_F8E5M2 = 19,
  MLC_DT_F8E5M2FNUZ = 20,
  MLC_DT_U4 = 21,
  MLC_DT_I4 = 22,
  MLC_DT_F4E2M1 = 23,
  MLC_DT_F8E8M0 = 24,
  MLC_DT_U2 = 25,
  MLC_DT_I2 = 26,
  MLC_DT_COUNT_
} mlc_dtype_t;

/* Bytes per element; 0 for undefined, string and sub-byte types. */
size_t mlc_dtype_size(mlc_dtype_t dt);
/* Short name used by the IR printers: "f32", "i64", "bool", "bf16", ...;
 * "dtype<N>" style names are never returned: unknown values give "?". */
const char *mlc_dtype_name(mlc_dtype_t dt);
/* Inverse of mlc_dtype_name; false if `s` names no dtype. */
bool mlc_dtype_parse(const char *s, size_t len, mlc_dtype_t *out);

bool mlc_dtype_is_float(mlc_dtype_t dt);   /* f16 bf16 f32 f64 */
bool mlc_dtype_is_int(mlc_dtype_t dt);     /* signed and unsigned ints */
bool mlc_dtype_is_signed(mlc_dtype_t dt);  /* signed ints and floats */
/* True for the dtypes the compiler computes on: bool, ints, f16, bf16, f32,
 * f64. */
bool mlc_dtype_is_computable(mlc_dtype_t dt);

#endif
