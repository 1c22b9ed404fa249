/* The plan-threads pass: decides which kernels run on the calling thread
 * alone.  Handing a kernel to the thread pool costs a wake-up and a join
 * (microseconds), more than a small kernel's whole run, and transformer
 * models have many such kernels (reshapes, small elementwise ops, the
 * per-token pieces around attention).  A kernel whose work estimate, the
 * larger of its flops and the elements its buffers hold, is below
 * MLC_SERIAL_WORK gets `serial`: the host plan calls it directly with all
 * its tiles.  Kernels of one tile are direct calls anyway and are left
 * unmarked.  Shows in `--emit tile` as `grid [..] serial`. */
#include "passes/tile_pass.h"

/* About 10 microseconds of work on one core for the kernels that have
 * little arithmetic per element: a pool dispatch costs about as much. */
#define MLC_SERIAL_WORK ((int64_t)1 << 16)

static int64_t kernel_work(const mlc_tkernel_t *k) {
  int64_t elems = 0;
  for (int i = 0; i < k->nbufs; i++) elems += k->bufs[i].nelems;
  return k->flops > elems ? k->flops : elems;
}

static mlc_status_t *run_kernel(mlc_pass_ctx_t *ctx, mlc_tkernel_t *k) {
  (void)ctx;
  if (mlc_tkernel_ntiles(k) > 1 && kernel_work(k) < MLC_SERIAL_WORK) k->serial = true;
  return NULL;
}

const mlc_tpass_t mlc_tpass_plan_threads = {
    .name = "plan-threads",
    .summary = "kernels too small for a pool dispatch run on the calling thread",
    .run_kernel = run_kernel,
};
