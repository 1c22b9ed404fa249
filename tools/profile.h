/* `mlc bench --profile`: turning the runtime's per-call events into a
 * Chrome trace-event file (Perfetto, chrome://tracing) and a per-call
 * summary table.  Private to tools/. */
#ifndef MLC_TOOLS_PROFILE_H
#define MLC_TOOLS_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/status.h"
#include "mlc/mlcrt.h"

/* The profiled runs: run i spans [start_ns[i], end_ns[i]] on the caller's
 * CLOCK_MONOTONIC and owns events [first[i], first[i + 1]) (the last one
 * up to nevents). */
typedef struct mlc_profile {
  const mlcrt_model_t *model;
  const mlcrt_profile_event_t *events;
  size_t nevents;
  const int64_t *start_ns, *end_ns;
  const size_t *first;
  int nruns;
  int threads;
} mlc_profile_t;

/* Writes {"traceEvents": [...]}: one "run" complete event per run and,
 * nested in it, one complete event per kernel call (args: kernel, call,
 * nodes, tiles, flops); ts/dur in microseconds from the first run. */
mlc_status_t *mlc_profile_write_trace(const mlc_profile_t *p, const char *path);

/* Prints the calls sorted by total time: total ms, % of the runs' wall
 * time, times run, GFLOP/s (where the call has flops), kernel and nodes;
 * then the time outside kernels. */
mlc_status_t *mlc_profile_print_summary(const mlc_profile_t *p, FILE *f);

/* Writes s as a JSON string: quotes, backslash and control characters
 * escaped. */
void mlc_json_string(FILE *f, const char *s);

#endif
