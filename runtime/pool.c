/* The thread pool behind mlc_abi_exec_t.parallel_for (see pool.h).
 *
 * One job at a time: the caller writes the job (n, fn, ctx, chunk count),
 * then bumps `generation` with release order under the mutex and wakes any
 * sleeping worker.  Every worker, whether or not it has a chunk, decrements
 * `pending` when it has finished with the job, so the caller knows that no
 * worker still reads the job fields before it writes the next job.  Workers
 * spin briefly (bounded) on `generation` before sleeping on the condition
 * variable, which keeps the latency of back-to-back kernels low without
 * burning cores between runs.  Worker threads block all signals.
 *
 * A pool may be shared by sessions (mlcrt_session_create_with_pool) that
 * run on different threads at once.  `busy` is the only gate: the caller
 * that takes it (acquire) owns the job fields until it clears it
 * (release) after every worker is done, so the next owner's writes follow
 * the workers' reads; a caller that finds it taken runs its range inline.
 * The pool is reference-counted: the creator and every session using it
 * hold one reference, and the last release joins the workers.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "pool.h"

#ifndef MLCRT_POOL_SPINS
#define MLCRT_POOL_SPINS 2000 /* about 10-100 us of pause instructions */
#endif

typedef struct worker {
  struct mlcrt_pool *pool;
  int64_t index; /* 1..N-1; chunk 0 belongs to the caller */
  pthread_t thread;
} worker_t;

struct mlcrt_pool {
  int32_t num_threads;
  int32_t num_started;
  worker_t *workers;
  pthread_mutex_t mu;
  pthread_cond_t work_cv;
  pthread_cond_t done_cv;
  atomic_uint_fast64_t generation;
  atomic_int pending;
  atomic_bool busy;
  atomic_bool stop; /* set under mu; also read while spinning */
  atomic_int refs;
  /* The current job: written by the caller before `generation` moves. */
  int64_t n;
  int64_t chunks;
  mlc_abi_task_fn fn;
  void *ctx;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

void mlcrt_pool_chunk(int64_t n, int64_t chunks, int64_t i, int64_t *begin,
                      int64_t *end) {
  int64_t q = n / chunks, r = n % chunks;
  *begin = i * q + (i < r ? i : r);
  *end = *begin + q + (i < r ? 1 : 0);
}

/* Waits for a generation other than `seen`; returns false on stop. */
static bool wait_for_job(struct mlcrt_pool *p, uint_fast64_t seen) {
  for (int i = 0; i < MLCRT_POOL_SPINS; i++) {
    if (atomic_load_explicit(&p->generation, memory_order_acquire) != seen ||
        atomic_load_explicit(&p->stop, memory_order_relaxed))
      break;
    cpu_relax();
  }
  pthread_mutex_lock(&p->mu);
  while (!atomic_load_explicit(&p->stop, memory_order_relaxed) &&
         atomic_load_explicit(&p->generation, memory_order_acquire) == seen)
    pthread_cond_wait(&p->work_cv, &p->mu);
  bool stop = atomic_load_explicit(&p->stop, memory_order_relaxed);
  pthread_mutex_unlock(&p->mu);
  return !stop;
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  struct mlcrt_pool *p = w->pool;
  uint_fast64_t seen = 0;
  while (wait_for_job(p, seen)) {
    seen = atomic_load_explicit(&p->generation, memory_order_acquire);
    if (w->index < p->chunks) {
      int64_t b, e;
      mlcrt_pool_chunk(p->n, p->chunks, w->index, &b, &e);
      p->fn(p->ctx, b, e);
    }
    if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done_cv);
      pthread_mutex_unlock(&p->mu);
    }
  }
  return NULL;
}

static void wait_done(struct mlcrt_pool *p) {
  for (int i = 0; i < MLCRT_POOL_SPINS; i++) {
    if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0) return;
    cpu_relax();
  }
  pthread_mutex_lock(&p->mu);
  while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
    pthread_cond_wait(&p->done_cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

void mlcrt_pool_parallel_for(void *pool, int64_t n, mlc_abi_task_fn fn,
                             void *ctx) {
  struct mlcrt_pool *p = pool;
  if (n <= 0 || !fn) return;
  if (!p || p->num_started == 0 || n == 1 ||
      atomic_exchange_explicit(&p->busy, true, memory_order_acquire)) {
    fn(ctx, 0, n);
    return;
  }
  int64_t threads = p->num_started + 1;
  p->n = n;
  p->chunks = n < threads ? n : threads;
  p->fn = fn;
  p->ctx = ctx;
  atomic_store_explicit(&p->pending, p->num_started, memory_order_relaxed);
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  int64_t b, e;
  mlcrt_pool_chunk(n, p->chunks, 0, &b, &e);
  fn(ctx, b, e);
  wait_done(p);
  atomic_store_explicit(&p->busy, false, memory_order_release);
}

static void stop_workers(struct mlcrt_pool *p) {
  pthread_mutex_lock(&p->mu);
  atomic_store_explicit(&p->stop, true, memory_order_relaxed);
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (int32_t i = 0; i < p->num_started; i++)
    pthread_join(p->workers[i].thread, NULL);
}

/* Starts the workers with every signal blocked, so that signals go to the
 * application's own threads. */
static mlcrt_status_t *start_workers(struct mlcrt_pool *p) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  mlcrt_status_t *st = NULL;
  for (int32_t i = 0; i < p->num_threads - 1; i++) {
    p->workers[i].pool = p;
    p->workers[i].index = i + 1;
    int err = pthread_create(&p->workers[i].thread, NULL, worker_main,
                             &p->workers[i]);
    if (err) {
      st = mlcrt_status_make(
          err == ENOMEM ? MLCRT_OUT_OF_MEMORY : MLCRT_INTERNAL,
          "starting worker thread %d of %d: %s", i + 1, p->num_threads - 1,
          strerror(err));
      break;
    }
    p->num_started++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return st;
}

int32_t mlcrt_pool_default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  return n > MLCRT_MAX_THREADS ? MLCRT_MAX_THREADS : (int32_t)n;
}

mlcrt_status_t *mlcrt_pool_create(int32_t num_threads,
                                  mlcrt_pool_t **out_pool) {
  if (!out_pool)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_pool_create: out_pool is NULL");
  *out_pool = NULL;
  if (num_threads < 0 || num_threads > MLCRT_MAX_THREADS)
    return mlcrt_status_make(MLCRT_INVALID_ARGUMENT,
                             "mlcrt_pool_create: num_threads %d is not in "
                             "[0, %d]",
                             num_threads, MLCRT_MAX_THREADS);
  struct mlcrt_pool *p = calloc(1, sizeof *p);
  if (!p) return mlcrt_status_oom();
  p->num_threads = num_threads ? num_threads : mlcrt_pool_default_threads();
  p->workers = calloc((size_t)p->num_threads, sizeof *p->workers);
  if (!p->workers) {
    free(p);
    return mlcrt_status_oom();
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  atomic_init(&p->generation, 0);
  atomic_init(&p->pending, 0);
  atomic_init(&p->busy, false);
  atomic_init(&p->stop, false);
  atomic_init(&p->refs, 1);
  mlcrt_status_t *st = start_workers(p);
  if (st) {
    mlcrt_pool_release(p);
    return st;
  }
  *out_pool = p;
  return NULL;
}

void mlcrt_pool_retain(mlcrt_pool_t *pool) {
  atomic_fetch_add_explicit(&pool->refs, 1, memory_order_relaxed);
}

void mlcrt_pool_release(mlcrt_pool_t *pool) {
  if (!pool) return;
  if (atomic_fetch_sub_explicit(&pool->refs, 1, memory_order_acq_rel) != 1)
    return;
  stop_workers(pool);
  pthread_cond_destroy(&pool->done_cv);
  pthread_cond_destroy(&pool->work_cv);
  pthread_mutex_destroy(&pool->mu);
  free(pool->workers);
  free(pool);
}

int32_t mlcrt_pool_num_threads(const mlcrt_pool_t *pool) {
  return pool ? pool->num_started + 1 : 0;
}
