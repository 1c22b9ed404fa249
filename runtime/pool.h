/* A session's thread pool: persistent worker threads that run the
 * parallel_for hook of mlc_abi_exec_t.
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

typedef struct mlcrt_pool mlcrt_pool_t;

/* num_threads >= 1 (the caller included). */
mlcrt_status_t *mlcrt_pool_create(int32_t num_threads,
                                  mlcrt_pool_t **out_pool);
void mlcrt_pool_release(mlcrt_pool_t *pool); /* joins the workers */
int32_t mlcrt_pool_num_threads(const mlcrt_pool_t *pool);

/* Matches mlc_abi_exec_t.parallel_for; `pool` is an mlcrt_pool_t*. */
void mlcrt_pool_parallel_for(void *pool, int64_t n, mlc_abi_task_fn fn,
                             void *ctx);

/* The bounds of chunk i of `chunks` over [0, n): exposed for tests. */
void mlcrt_pool_chunk(int64_t n, int64_t chunks, int64_t i, int64_t *begin,
                      int64_t *end);

#endif
