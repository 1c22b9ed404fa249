/* Wire-level safety for protobuf-c, and the unpack wrappers.
 *
 * protobuf-c unpacks nested messages recursively, so a hostile file that
 * nests (say) a million GraphProto/NodeProto/AttributeProto levels would
 * overflow the stack.  Before unpacking we walk the wire format once with
 * an explicit stack, using protobuf-c's own descriptors to tell message
 * fields from bytes, and reject nesting deeper than a fixed limit.  The
 * walk does not judge anything else: when it meets a malformation it stops
 * and lets protobuf-c (which then fails without deep recursion, since the
 * walk already covered everything before that point) report it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "frontend/onnx_internal.h"

typedef struct {
  const ProtobufCMessageDescriptor *desc;
  size_t end;
} wire_frame_t;

/* Reads a varint at *pos; false when truncated or longer than 10 bytes. */
static bool read_varint(const uint8_t *p, size_t end, size_t *pos,
                        uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*pos >= end) return false;
    uint8_t b = p[(*pos)++];
    v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* Skips the payload of a non-nested field; false on malformation. */
static bool skip_field(const uint8_t *p, size_t end, size_t *pos,
                       unsigned wire, uint64_t len) {
  uint64_t dummy;
  switch (wire) {
  case 0: return read_varint(p, end, pos, &dummy);
  case 1: if (end - *pos < 8) return false; *pos += 8; return true;
  case 5: if (end - *pos < 4) return false; *pos += 4; return true;
  case 2: *pos += (size_t)len; return true;
  default: return false; /* groups and reserved wire types */
  }
}

mlc_status_t *mlc_onnx_wire_check_depth(const uint8_t *p, size_t len,
                                        const ProtobufCMessageDescriptor *desc,
                                        int max_depth) {
  wire_frame_t *stack = malloc(sizeof *stack * (size_t)(max_depth + 1));
  if (!stack) return MLC_ERR(OUT_OF_MEMORY, "checking message nesting");
  int depth = 0;
  stack[0] = (wire_frame_t){desc, len};
  size_t pos = 0;
  mlc_status_t *st = NULL;
  while (depth >= 0) {
    wire_frame_t *top = &stack[depth];
    if (pos >= top->end) {
      depth--;
      continue;
    }
    uint64_t tag, flen = 0;
    if (!read_varint(p, top->end, &pos, &tag)) break;
    unsigned wire = (unsigned)(tag & 7);
    if (wire == 2) {
      if (!read_varint(p, top->end, &pos, &flen) || flen > top->end - pos) break;
      const ProtobufCFieldDescriptor *f =
          tag >> 3 <= 0xffffffffu
              ? protobuf_c_message_descriptor_get_field(top->desc,
                                                        (unsigned)(tag >> 3))
              : NULL;
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (depth + 1 >= max_depth) {
          st = MLC_ERR(INVALID_MODEL,
                       "not a valid ONNX model: messages nest deeper than %d "
                       "levels (at byte %zu)", max_depth, pos);
          break;
        }
        stack[++depth] = (wire_frame_t){f->descriptor, pos + (size_t)flen};
        continue;
      }
    }
    if (!skip_field(p, top->end, &pos, wire, flen)) break;
  }
  free(stack);
  return st;
}

mlc_status_t *mlc_onnx_unpack_model(const void *data, size_t len,
                                    Onnx__ModelProto **out_model) {
  *out_model = NULL;
  if (!data && len) return MLC_ERR(INVALID_ARGUMENT, "model buffer is NULL");
  MLC_RETURN_IF(mlc_onnx_wire_check_depth(data, len,
                                          &onnx__model_proto__descriptor,
                                          MLC_ONNX_MAX_NESTING));
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, data);
  if (!m)
    return MLC_ERR(INVALID_MODEL,
                   "not a valid ONNX model (protobuf decode failed)");
  *out_model = m;
  return NULL;
}

mlc_status_t *mlc_onnx_unpack_tensor(const void *data, size_t len,
                                     Onnx__TensorProto **out_tensor) {
  *out_tensor = NULL;
  MLC_RETURN_IF(mlc_onnx_wire_check_depth(data, len,
                                          &onnx__tensor_proto__descriptor,
                                          MLC_ONNX_MAX_NESTING));
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, data);
  if (!t)
    return MLC_ERR(INVALID_MODEL,
                   "not a valid ONNX tensor (protobuf decode failed)");
  *out_tensor = t;
  return NULL;
}

mlc_status_t *mlc_onnx_read_file(const char *path, void **out_data,
                                 size_t *out_len) {
  return mlc_file_read_all(path, UINT64_MAX, out_data, out_len);
}
