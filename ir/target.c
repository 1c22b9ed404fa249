/* Target descriptions by name.
 *
 * A target is plain data (ir/target.h): triple, LLVM CPU and feature
 * strings, vector width, core count and cache sizes.  "host" inspects the
 * machine this runs on with __builtin_cpu_supports (x86 only) and sysconf;
 * its CPU stays "host", which codegen/llvm resolves with LLVM's own host
 * detection.  The named x86_64 levels are fixed so a build is reproducible
 * on any machine.  All strings are static literals.
 */
#include "ir/target.h"

#include <string.h>
#include <unistd.h>

#define MLC_TRIPLE_X86_64 "x86_64-pc-linux-gnu"

static const char *const target_names =
    "host, x86_64, x86_64-avx2, x86_64-avx512";

const char *mlc_target_names(void) { return target_names; }

/* Cache sizes from sysconf, with typical values when unknown. */
static int64_t cache_size(int name, int64_t dflt) {
  long v = sysconf(name);
  return v > 0 ? (int64_t)v : dflt;
}

static void fill_common(mlc_target_t *t) {
  t->kind = MLC_TARGET_CPU;
  t->triple = MLC_TRIPLE_X86_64;
  t->features = "";
  t->l1d_bytes = 32 * 1024;
  t->l2_bytes = 1024 * 1024;
  t->l3_bytes = 32 * 1024 * 1024;
}

static void fill_host(mlc_target_t *t) {
  fill_common(t);
  t->name = "host";
  t->cpu = "host";
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  t->has_fma = __builtin_cpu_supports("fma");
  if (__builtin_cpu_supports("avx512f"))
    t->vector_bits = 512;
  else if (__builtin_cpu_supports("avx2"))
    t->vector_bits = 256;
  else
    t->vector_bits = 128;
#else
  t->vector_bits = 128;
#endif
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  t->num_cores = n > 0 ? (int)n : 0;
#ifdef _SC_LEVEL1_DCACHE_SIZE
  t->l1d_bytes = cache_size(_SC_LEVEL1_DCACHE_SIZE, t->l1d_bytes);
  t->l2_bytes = cache_size(_SC_LEVEL2_CACHE_SIZE, t->l2_bytes);
  t->l3_bytes = cache_size(_SC_LEVEL3_CACHE_SIZE, t->l3_bytes);
#else
  (void)cache_size;
#endif
}

/* --cpu: the x86-64 levels and "host" set the vector width and FMA they
 * imply; another CPU name keeps the target's until the backend, which
 * knows the name, resolves it (codegen/backend.h, resolve_cpu). */
static void apply_cpu(mlc_target_t *t, const char *cpu) {
  static const struct {
    const char *cpu;
    int bits;
    bool fma;
  } levels[] = {{"generic", 128, false},   {"x86-64", 128, false},
                {"x86-64-v2", 128, false}, {"x86-64-v3", 256, true},
                {"x86-64-v4", 512, true}};
  t->cpu = cpu;
  if (strcmp(cpu, "host") == 0) {
    mlc_target_t host;
    fill_host(&host);
    t->vector_bits = host.vector_bits;
    t->has_fma = host.has_fma;
    return;
  }
  for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
    if (strcmp(cpu, levels[i].cpu) == 0) {
      t->vector_bits = levels[i].bits;
      t->has_fma = levels[i].fma;
    }
}

mlc_status_t *mlc_target_lookup(const char *name, const char *cpu,
                                mlc_target_t *out) {
  if (!name || !out)
    return MLC_ERR(INVALID_ARGUMENT, "target lookup: missing name");
  memset(out, 0, sizeof *out);
  if (strcmp(name, "host") == 0) {
    fill_host(out);
  } else if (strcmp(name, "x86_64") == 0) {
    fill_common(out);
    out->name = "x86_64";
    out->cpu = "x86-64";
    out->vector_bits = 128;
  } else if (strcmp(name, "x86_64-avx2") == 0) {
    fill_common(out);
    out->name = "x86_64-avx2";
    out->cpu = "x86-64-v3";
    out->vector_bits = 256;
    out->has_fma = true;
  } else if (strcmp(name, "x86_64-avx512") == 0) {
    fill_common(out);
    out->name = "x86_64-avx512";
    out->cpu = "x86-64-v4";
    out->vector_bits = 512;
    out->has_fma = true;
  } else {
    return MLC_ERR(INVALID_ARGUMENT, "unknown target '%s' (known: %s)", name,
                   target_names);
  }
  if (cpu && *cpu) apply_cpu(out, cpu);
  return NULL;
}
