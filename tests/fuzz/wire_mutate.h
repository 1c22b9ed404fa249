/* Helpers for mutating protobuf images: a fixed-seed LCG for
 * reproducible mutations, and a walker over the protobuf wire format that
 * records where the length prefixes of length-delimited fields are
 * (descending into those that parse as messages), so a test can replace
 * them with huge values.  Knows nothing of ONNX's schema. */
#ifndef MLC_TESTS_FUZZ_WIRE_MUTATE_H
#define MLC_TESTS_FUZZ_WIRE_MUTATE_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t lcg_next(uint64_t *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 33;
}

typedef struct {
  size_t pos[256]; /* offsets of length varints */
  size_t n;
} len_sites_t;

static inline int read_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *i < len; shift += 7) {
    uint8_t b = p[(*i)++];
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return 1;
  }
  return 0;
}

/* Records length-delimited fields of [p, p+len), descending into each
 * that parses as a message.  Returns 0 if the bytes are not a message. */
static inline int walk_message(const uint8_t *base, size_t off, size_t len,
                        int depth, len_sites_t *s) {
  size_t i = off, end = off + len;
  while (i < end) {
    uint64_t key, v;
    if (!read_varint(base, end, &i, &key) || (key >> 3) == 0) return 0;
    switch (key & 7) {
      case 0: if (!read_varint(base, end, &i, &v)) return 0; break;
      case 1: i += 8; break;
      case 5: i += 4; break;
      case 2: {
        size_t at = i;
        if (!read_varint(base, end, &i, &v) || v > end - i) return 0;
        if (s->n < sizeof s->pos / sizeof s->pos[0]) s->pos[s->n++] = at;
        if (depth < 6) {
          size_t saved = s->n;
          if (!walk_message(base, i, (size_t)v, depth + 1, s)) s->n = saved;
        }
        i += (size_t)v;
        break;
      }
      default: return 0;
    }
    if (i > end) return 0;
  }
  return 1;
}

#endif
