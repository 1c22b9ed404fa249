/* The FMA peak probe of the benchmark (bench/run.py compiles it at run time
 * with `cc -O2 -march=native -pthread` and runs it once per thread count).
 *
 * Each thread runs ACC independent chains of fused multiply-adds on the
 * widest vectors the compiler targets (AVX-512, else AVX2+FMA, else SSE
 * multiply+add; 16-byte GNU vectors elsewhere): ACC accumulators hide the FMA latency (4 cycles, two
 * ports: 8 in flight at least), and no value is loaded or stored in the
 * loop.  The threads start together, run for about --seconds, and the
 * probe prints one JSON line per thread count:
 *
 *   {"threads": 2, "isa": "avx512", "seconds": 0.201, "gflops": 480.1,
 *    "gflops_per_core": 240.0}
 *
 * Usage: peak THREADS[,THREADS...] [SECONDS]   (default 1 and 0.2)
 */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACC 12 /* accumulators per thread (the CHAINS list below) */

#if defined(__AVX512F__)
typedef __m512 vec_t;
#define ISA "avx512"
#define LANES 16
#define VSET1 _mm512_set1_ps
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VSUM(v) _mm512_reduce_add_ps(v)
#define FLOPS_PER_OP 2
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec_t;
#define ISA "avx2"
#define LANES 8
#define VSET1 _mm256_set1_ps
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VSUM(v) vsum256(v)
#define FLOPS_PER_OP 2
static float vsum256(__m256 v) {
  float t[8];
  _mm256_storeu_ps(t, v);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#elif defined(__SSE__)
typedef __m128 vec_t;
#define ISA "sse"
#define LANES 4
#define VSET1 _mm_set1_ps
#define VFMA(a, b, c) _mm_add_ps(_mm_mul_ps(a, b), c)
#define VSUM(v) vsum128(v)
#define FLOPS_PER_OP 2
static float vsum128(__m128 v) {
  float t[4];
  _mm_storeu_ps(t, v);
  return t[0] + t[1] + t[2] + t[3];
}
#else /* other targets: 16-byte GNU vectors; a*b+c contracts to FMA */
typedef float vec_t __attribute__((vector_size(16)));
#define ISA "generic128"
#define LANES 4
#define VSET1(x) ((vec_t){(x), (x), (x), (x)})
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VSUM(v) ((v)[0] + (v)[1] + (v)[2] + (v)[3])
#define FLOPS_PER_OP 2
#endif

typedef struct job {
  long iters;        /* outer iterations, each ACC vector FMAs */
  pthread_barrier_t *start;
  float sink;        /* keeps the chains alive */
} job_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ACC independent chains a_i = a_i * m + c, written out so that -O2 keeps
 * every accumulator in a register (an array would live in memory).  The
 * multiplier is just below 1 and the addend small: the values stay finite
 * forever. */
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECL(i) vec_t a##i = VSET1(1.0f + 0.001f * (float)(i));
#define STEP(i) a##i = VFMA(a##i, m, c);
#define SUM(i) s += VSUM(a##i);
static float fma_chains(long iters) {
  CHAINS(DECL)
  vec_t m = VSET1(0.999999f), c = VSET1(1e-6f);
  for (long it = 0; it < iters; it++) {
    CHAINS(STEP)
  }
  float s = 0.0f;
  CHAINS(SUM)
  return s;
}

static void *worker(void *arg) {
  job_t *j = arg;
  pthread_barrier_wait(j->start);
  j->sink = fma_chains(j->iters);
  return NULL;
}

/* Runs `threads` threads of `iters` iterations each; returns the wall time
 * from the common start to the last thread's end (< 0 on failure). */
static double run_threads(int threads, long iters) {
  pthread_t tid[256];
  job_t jobs[256];
  pthread_barrier_t start;
  if (threads < 1 || threads > 256 ||
      pthread_barrier_init(&start, NULL, (unsigned)threads + 1) != 0)
    return -1.0;
  int made = 0;
  for (; made < threads; made++) {
    jobs[made] = (job_t){.iters = iters, .start = &start};
    if (pthread_create(&tid[made], NULL, worker, &jobs[made]) != 0) break;
  }
  if (made < threads) {
    fprintf(stderr, "peak: cannot start thread %d\n", made + 1);
    exit(1); /* a tool: the barrier would never open */
  }
  pthread_barrier_wait(&start);
  double t0 = now_s();
  for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
  double t = now_s() - t0;
  pthread_barrier_destroy(&start);
  float s = 0.0f;
  for (int i = 0; i < threads; i++) s += jobs[i].sink;
  if (s != s) fprintf(stderr, "peak: NaN in the chains\n");
  return t;
}

static void probe(int threads, double seconds) {
  long iters = 1 << 16;
  double t = run_threads(1, iters); /* calibrate on one thread */
  while (t < 0.02) {
    iters *= 2;
    t = run_threads(1, iters);
  }
  iters = (long)((double)iters * seconds / t);
  t = run_threads(threads, iters);
  double flops = (double)threads * (double)iters * ACC * LANES * FLOPS_PER_OP;
  double gf = flops / t * 1e-9;
  printf("{\"threads\": %d, \"isa\": \"%s\", \"seconds\": %.3f, "
         "\"gflops\": %.1f, \"gflops_per_core\": %.1f}\n",
         threads, ISA, t, gf, gf / threads);
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *list = argc > 1 ? argv[1] : "1";
  double seconds = argc > 2 ? atof(argv[2]) : 0.2;
  if (seconds <= 0.0 || seconds > 60.0) {
    fprintf(stderr, "peak: SECONDS must be in (0, 60]\n");
    return 2;
  }
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    int n = atoi(tok);
    if (n < 1 || n > 256) {
      fprintf(stderr, "peak: bad thread count '%s'\n", tok);
      return 2;
    }
    probe(n, seconds);
  }
  return 0;
}
