/* CPU features: what this CPU offers, and the check a version-3 model
 * passes at load (see cpu_check.h).
 *
 * Detection reads cpuid leaves 1, 7 (subleaves 0 and 1) and 0x80000001,
 * and XGETBV for the register state the OS saves: AVX-class features
 * count only when the OS saves the YMM state (XCR0 bits 1-2), AVX-512
 * only with the opmask and ZMM state (bits 5-7) too, AMX only with the
 * tile state (bits 17-18), as LLVM's own host detection decides.  On other
 * architectures nothing is detected and nothing is required (the ELF
 * machine check already refuses x86 libraries there).
 *
 * MLC_CPU_MASK (for testing) hides features: the CPU is taken to have only
 * the features it has that are also in the list, e.g. "x86-64-v2" or
 * "x86-64-v3,avx512f".  Read on every load.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "internal.h"

#define CPU_BIT(id) (UINT64_C(1) << MLC_ABI_X86_##id)

static const char *const feature_names[MLC_ABI_X86_NUM_FEATURES] = {
#define NAME_(id, bit, name) [bit] = name,
    MLC_ABI_X86_FEATURES(NAME_)
#undef NAME_
};

/* The x86-64 micro-architecture levels of the psABI, in our bits. */
#define LEVEL_V2                                                  \
  (CPU_BIT(SSE3) | CPU_BIT(SSSE3) | CPU_BIT(SSE4_1) | CPU_BIT(SSE4_2) | \
   CPU_BIT(POPCNT))
#define LEVEL_V3                                                  \
  (LEVEL_V2 | CPU_BIT(AVX) | CPU_BIT(AVX2) | CPU_BIT(BMI) |           \
   CPU_BIT(BMI2) | CPU_BIT(F16C) | CPU_BIT(FMA) | CPU_BIT(LZCNT) |   \
   CPU_BIT(MOVBE))
#define LEVEL_V4                                                  \
  (LEVEL_V3 | CPU_BIT(AVX512F) | CPU_BIT(AVX512BW) |                 \
   CPU_BIT(AVX512CD) | CPU_BIT(AVX512DQ) | CPU_BIT(AVX512VL))

static const struct {
  const char *name;
  uint64_t bits;
} cpu_levels[] = {
    {"generic", 0},           {"x86-64", 0},
    {"x86-64-v2", LEVEL_V2},  {"x86-64-v3", LEVEL_V3},
    {"x86-64-v4", LEVEL_V4},
};

const char *mlcrt_cpu_feature_name(int bit) {
  return bit >= 0 && bit < MLC_ABI_X86_NUM_FEATURES ? feature_names[bit]
                                                     : NULL;
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef struct cpu_regs {
  unsigned a, b, c, d;
} cpu_regs_t;

static cpu_regs_t cpu_leaf(unsigned l, unsigned sub) {
  cpu_regs_t r = {0, 0, 0, 0};
  if (__get_cpuid_max(l & 0x80000000u, NULL) >= l)
    __cpuid_count(l, sub, r.a, r.b, r.c, r.d);
  return r;
}

static uint64_t cpu_xcr0(bool osxsave) {
  if (!osxsave) return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

#define CPU_ON(reg, n) (((reg) >> (n)) & 1u)

static uint64_t cpu_detect_bits(void) {
  cpu_regs_t l1 = cpu_leaf(1, 0), l7 = cpu_leaf(7, 0), l71 = cpu_leaf(7, 1);
  cpu_regs_t e1 = cpu_leaf(0x80000001u, 0);
  uint64_t x = cpu_xcr0(CPU_ON(l1.c, 27));
  bool avx_os = (x & 0x6) == 0x6, zmm_os = avx_os && (x & 0xe0) == 0xe0;
  bool amx_os = (x & 0x60000) == 0x60000;
  const struct {
    int id;
    unsigned reg;
    int bit;
    int state; /* 0: none, 1: AVX state, 2: AVX-512 state, 3: AMX state */
  } table[] = {
      {MLC_ABI_X86_SSE3, l1.c, 0, 0},        {MLC_ABI_X86_PCLMUL, l1.c, 1, 0},
      {MLC_ABI_X86_SSSE3, l1.c, 9, 0},       {MLC_ABI_X86_FMA, l1.c, 12, 1},
      {MLC_ABI_X86_SSE4_1, l1.c, 19, 0},
      {MLC_ABI_X86_SSE4_2, l1.c, 20, 0},     {MLC_ABI_X86_MOVBE, l1.c, 22, 0},
      {MLC_ABI_X86_POPCNT, l1.c, 23, 0},     {MLC_ABI_X86_AES, l1.c, 25, 0},
      {MLC_ABI_X86_AVX, l1.c, 28, 1},        {MLC_ABI_X86_F16C, l1.c, 29, 1},
      {MLC_ABI_X86_BMI, l7.b, 3, 0},         {MLC_ABI_X86_AVX2, l7.b, 5, 1},
      {MLC_ABI_X86_BMI2, l7.b, 8, 0},        {MLC_ABI_X86_AVX512F, l7.b, 16, 2},
      {MLC_ABI_X86_AVX512DQ, l7.b, 17, 2},   {MLC_ABI_X86_AVX512IFMA, l7.b, 21, 2},
      {MLC_ABI_X86_AVX512CD, l7.b, 28, 2},   {MLC_ABI_X86_SHA, l7.b, 29, 0},
      {MLC_ABI_X86_AVX512BW, l7.b, 30, 2},   {MLC_ABI_X86_AVX512VL, l7.b, 31, 2},
      {MLC_ABI_X86_AVX512VBMI, l7.c, 1, 2},  {MLC_ABI_X86_AVX512VBMI2, l7.c, 6, 2},
      {MLC_ABI_X86_GFNI, l7.c, 8, 0},        {MLC_ABI_X86_VAES, l7.c, 9, 1},
      {MLC_ABI_X86_VPCLMULQDQ, l7.c, 10, 1}, {MLC_ABI_X86_AVX512VNNI, l7.c, 11, 2},
      {MLC_ABI_X86_AVX512BITALG, l7.c, 12, 2},
      {MLC_ABI_X86_AVX512VPOPCNTDQ, l7.c, 14, 2},
      {MLC_ABI_X86_AMX_BF16, l7.d, 22, 3},   {MLC_ABI_X86_AVX512FP16, l7.d, 23, 2},
      {MLC_ABI_X86_AMX_TILE, l7.d, 24, 3},   {MLC_ABI_X86_AMX_INT8, l7.d, 25, 3},
      {MLC_ABI_X86_AVXVNNI, l71.a, 4, 1},    {MLC_ABI_X86_AVX512BF16, l71.a, 5, 2},
      {MLC_ABI_X86_LZCNT, e1.c, 5, 0},
      {MLC_ABI_X86_SSE4A, e1.c, 6, 0},       {MLC_ABI_X86_PRFCHW, e1.c, 8, 0},
      {MLC_ABI_X86_XOP, e1.c, 11, 1},        {MLC_ABI_X86_FMA4, e1.c, 16, 1},
      {MLC_ABI_X86_TBM, e1.c, 21, 0},
  };
  const bool state_ok[4] = {true, avx_os, zmm_os, amx_os};
  uint64_t have = 0;
  for (size_t i = 0; i < sizeof table / sizeof *table; i++)
    if (CPU_ON(table[i].reg, table[i].bit) && state_ok[table[i].state])
      have |= UINT64_C(1) << table[i].id;
  return have;
}
#else
static uint64_t cpu_detect_bits(void) { return 0; }
#endif

uint64_t mlcrt_cpu_detect(void) { return cpu_detect_bits(); }

/* One name of a list: a level or a feature; false if unknown. */
static bool cpu_lookup(const char *name, size_t n, uint64_t *bits) {
  for (size_t i = 0; i < sizeof cpu_levels / sizeof *cpu_levels; i++)
    if (strlen(cpu_levels[i].name) == n && !strncmp(cpu_levels[i].name, name, n)) {
      *bits = cpu_levels[i].bits;
      return true;
    }
  for (int b = 0; b < MLC_ABI_X86_NUM_FEATURES; b++)
    if (strlen(feature_names[b]) == n && !strncmp(feature_names[b], name, n)) {
      *bits = UINT64_C(1) << b;
      return true;
    }
  return false;
}

mlcrt_status_t *mlcrt_cpu_parse(const char *list, uint64_t *out_bits) {
  uint64_t all = 0;
  for (const char *p = list; *p;) {
    size_t skip = strspn(p, ", \t"), n = strcspn(p + skip, ", \t");
    p += skip;
    if (!n) break;
    uint64_t bits;
    if (!cpu_lookup(p, n, &bits))
      return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                               "unknown CPU feature or level '%.*s' (levels: "
                               "generic, x86-64-v2, x86-64-v3, x86-64-v4; "
                               "features as LLVM names them, e.g. avx2)",
                               (int)(n > 64 ? 64 : n), p);
    all |= bits;
    p += n;
  }
  *out_bits = all;
  return NULL;
}

mlcrt_status_t *mlcrt_cpu_available(uint64_t *out_bits) {
  uint64_t have = cpu_detect_bits();
  const char *mask = getenv("MLC_CPU_MASK");
  if (mask && *mask) {
    uint64_t keep;
    mlcrt_status_t *st = mlcrt_cpu_parse(mask, &keep);
    if (st) return mlcrt_status_annotate(st, "MLC_CPU_MASK");
    have &= keep;
  }
  *out_bits = have;
  return NULL;
}

size_t mlcrt_cpu_format(uint64_t bits, char *buf, size_t len) {
  size_t used = 0;
  if (len) buf[0] = '\0';
  for (int b = 0; b < 64; b++) {
    if (!(bits >> b & 1)) continue;
    const char *n = mlcrt_cpu_feature_name(b);
    char unknown[16];
    if (!n) {
      snprintf(unknown, sizeof unknown, "bit%d", b);
      n = unknown;
    }
    if (used < len)
      used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
                               n);
  }
  return used;
}

mlcrt_status_t *mlcrt_cpu_check(const mlc_abi_model_t *d) {
  if (d->abi_version < 3) return NULL;
  uint64_t have;
  mlcrt_status_t *st = mlcrt_cpu_available(&have);
  if (st) return st;
  uint64_t missing = d->cpu_features & ~have;
  if (!missing) return NULL;
  char list[512];
  mlcrt_cpu_format(missing, list, sizeof list);
  return mlcrt_status_make(
      MLCRT_INCOMPATIBLE,
      "model '%s' was compiled for CPU '%s' and needs CPU features this CPU "
      "lacks: %s (recompile it with --cpu host on this machine, or with "
      "--cpu generic, x86-64-v2 or x86-64-v3 for older CPUs)",
      d->name ? d->name : "?", d->cpu ? d->cpu : "?", list);
}
