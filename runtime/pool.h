/* A thread pool: persistent worker threads that run the parallel_for hook
 * of mlc_abi_exec_t, owned by one session or shared by several (the
 * public mlcrt_pool_create/mlcrt_pool_release of mlcrt.h are these).
 *
 * A pool of N threads counts the caller: it starts N-1 workers.
 * mlcrt_pool_parallel_for() splits [0, n) statically into min(N, n)
 * contiguous chunks of near-equal size, runs chunk 0 on the calling thread
 * and the others on workers, and returns when all are done.  Workers wait on
 * a condition variable between jobs after a short bounded spin, so an idle
 * pool uses no CPU.  A call made while the pool is already busy (a nested
 * call from inside a task, or a second thread misusing the session) runs
 * inline on its caller instead of deadlocking.
 */
#ifndef MLCRT_POOL_H
#define MLCRT_POOL_H

#include <stdint.h>

#include "mlc/mlcrt.h"
#include "mlc/model_abi.h"

#define MLCRT_MAX_THREADS 1024

/* The create, release and num_threads functions are declared in mlcrt.h;
 * a session retains the pool it uses. */
void mlcrt_pool_retain(mlcrt_pool_t *pool);
/* One per online CPU, at most MLCRT_MAX_THREADS. */
int32_t mlcrt_pool_default_threads(void);

/* Matches mlc_abi_exec_t.parallel_for; `pool` is an mlcrt_pool_t*. */
void mlcrt_pool_parallel_for(void *pool, int64_t n, mlc_abi_task_fn fn,
                             void *ctx);

/* The bounds of chunk i of `chunks` over [0, n): exposed for tests. */
void mlcrt_pool_chunk(int64_t n, int64_t chunks, int64_t i, int64_t *begin,
                      int64_t *end);

#endif
