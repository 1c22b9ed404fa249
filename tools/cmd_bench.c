/* `mlc bench`: runs a compiled model `warmup` times untimed, then `iters`
 * times, each timed with the monotonic clock, and reports the median,
 * minimum, 90th percentile (nearest rank), mean and maximum latency, the
 * sample standard deviation and the throughput (timed runs per second of
 * their summed latency).  Inputs are deterministic random data unless
 * given with --input.  When stderr is a terminal and the runs have taken
 * over 2 seconds, a progress line there is redrawn a few times a second
 * and erased at the end.
 *
 * --profile FILE turns the runtime's per-call events on for the timed runs
 * (the last --profile-runs of them, when given) and writes a Chrome trace
 * plus a per-call summary (tools/profile.c).  The profiled runs stay in the
 * latency figures: the hook costs two clock reads per kernel call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mlc/mlcrt.h"
#include "tools/cli.h"
#include "tools/profile.h"

typedef struct stats {
  double median, min, p90, mean, max, stddev;
  double runs_per_s; /* 0 when the runs took no measurable time */
} stats_t;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static stats_t compute_stats(double *t, int n) {
  stats_t s = {0};
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  s.min = t[0];
  s.max = t[n - 1];
  s.median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
  int rank = (int)ceil(0.9 * n);
  s.p90 = t[rank > 0 ? rank - 1 : 0];
  double sum = 0;
  for (int i = 0; i < n; i++) sum += t[i];
  s.mean = sum / n;
  double sq = 0;
  for (int i = 0; i < n; i++) sq += (t[i] - s.mean) * (t[i] - s.mean);
  s.stddev = n > 1 ? sqrt(sq / (n - 1)) : 0;
  s.runs_per_s = sum > 0 ? n * 1e3 / sum : 0;
  return s;
}

/* ---- progress on stderr ------------------------------------------------ */

#define PROGRESS_AFTER_NS 2000000000LL  /* quiet for runs shorter than this */
#define PROGRESS_EVERY_NS 250000000LL

typedef struct progress {
  bool tty, shown;
  int64_t start_ns, last_ns;
  int done, total; /* warmup and timed runs together */
} progress_t;

static void progress_step(progress_t *p, int64_t now, int warmup) {
  p->done++;
  if (!p->tty || now - p->start_ns < PROGRESS_AFTER_NS ||
      (p->shown && now - p->last_ns < PROGRESS_EVERY_NS && p->done < p->total))
    return;
  bool warm = p->done <= warmup;
  int k = warm ? p->done : p->done - warmup;
  int of = warm ? warmup : p->total - warmup;
  fprintf(stderr, "\rbench: %s %d/%d (%.0f%%), %.1f s ", warm ? "warmup" : "run",
          k, of, 100.0 * p->done / p->total, (double)(now - p->start_ns) / 1e9);
  fflush(stderr);
  p->shown = true;
  p->last_ns = now;
}

static void progress_end(progress_t *p) {
  if (p->shown) fputs("\r\033[K", stderr);
  p->shown = false;
}

static void report(const mlc_cli_run_t *o, const mlc_cli_session_t *s,
                   const stats_t *st) {
  const char *name = mlcrt_model_name(s->model);
  int threads = o->threads ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (o->json) {
    printf("{\"model\": ");
    mlc_json_string(stdout, name ? name : "");
    printf(", \"path\": ");
    mlc_json_string(stdout, o->model);
    printf(", \"iters\": %d, \"warmup\": %d, \"threads\": %d, "
           "\"median_ms\": %.6f, \"min_ms\": %.6f, \"p90_ms\": %.6f, "
           "\"mean_ms\": %.6f, \"max_ms\": %.6f, \"stddev_ms\": %.6f, "
           "\"runs_per_s\": %.3f",
           o->iters, o->warmup, threads, st->median, st->min, st->p90,
           st->mean, st->max, st->stddev, st->runs_per_s);
    if (o->profile) {
      printf(", \"profile\": ");
      mlc_json_string(stdout, o->profile);
    }
    printf("}\n");
    return;
  }
  printf("model:   %s (%s)\n", name ? name : "?", o->model);
  printf("iters:   %d (after %d warmup), threads: %d\n", o->iters, o->warmup,
         threads);
  /* Three decimals hide sub-microsecond models: use more below 1 ms. */
  int prec = st->median >= 1.0 ? 3 : 6;
  printf("latency: median %.*f ms, min %.*f ms, p90 %.*f ms, mean %.*f ms, "
         "max %.*f ms, stddev %.*f ms\n", prec, st->median, prec, st->min,
         prec, st->p90, prec, st->mean, prec, st->max, prec, st->stddev);
  printf("throughput: %.*f runs/s\n", st->runs_per_s >= 100 ? 1 : 3,
         st->runs_per_s);
}

/* Per timed run: its clock readings and where its events start. */
typedef struct timed {
  int64_t *start, *end;
  size_t *first;
  int profiled_from; /* first profiled run, iters when none */
} timed_t;

static mlc_status_t *profile_report(const mlc_cli_run_t *o,
                                    const mlc_cli_session_t *s,
                                    const timed_t *t) {
  mlc_profile_t p = {.model = s->model, .nruns = o->iters - t->profiled_from,
                     .threads = o->threads ? o->threads
                                           : (int)sysconf(_SC_NPROCESSORS_ONLN)};
  MLC_RETURN_IF(mlc_cli_from_rt(
      mlcrt_session_profile_events(s->session, &p.events, &p.nevents)));
  p.start_ns = t->start + t->profiled_from;
  p.end_ns = t->end + t->profiled_from;
  p.first = t->first + t->profiled_from;
  MLC_RETURN_IF(mlc_profile_write_trace(&p, o->profile));
  return mlc_profile_print_summary(&p, o->json ? stderr : stdout);
}

static mlc_status_t *timed_runs(const mlc_cli_run_t *o, mlc_cli_session_t *s,
                                timed_t *t, progress_t *p) {
  mlc_status_t *st = NULL;
  for (int i = 0; !st && i < o->iters; i++) {
    if (i) progress_step(p, t->end[i - 1], o->warmup);
    if (i == t->profiled_from)
      st = mlc_cli_from_rt(mlcrt_session_set_profiling(s->session, 1));
    const mlcrt_profile_event_t *ev;
    if (!st) st = mlc_cli_from_rt(
        mlcrt_session_profile_events(s->session, &ev, &t->first[i]));
    t->start[i] = now_ns();
    if (!st) st = mlc_cli_from_rt(mlcrt_session_run(s->session));
    t->end[i] = now_ns();
  }
  return st;
}

static mlc_status_t *warmup_runs(const mlc_cli_run_t *o, mlc_cli_session_t *s,
                                 progress_t *p) {
  mlc_status_t *st = NULL;
  for (int i = 0; !st && i < o->warmup; i++) {
    st = mlc_cli_from_rt(mlcrt_session_run(s->session));
    progress_step(p, now_ns(), o->warmup);
  }
  return st;
}

static mlc_status_t *bench(const mlc_cli_run_t *o) {
  mlc_cli_session_t s;
  size_t n = (size_t)o->iters;
  timed_t t = {malloc(n * sizeof *t.start), malloc(n * sizeof *t.end),
               malloc(n * sizeof *t.first), o->iters};
  double *ms = malloc(n * sizeof *ms);
  if (o->profile)
    t.profiled_from = o->profile_runs > 0 && o->profile_runs < o->iters
                          ? o->iters - o->profile_runs : 0;
  bool mem = t.start && t.end && t.first && ms;
  mlc_status_t *st = mem ? mlc_cli_session_open(o, true, &s)
                         : MLC_ERR(OUT_OF_MEMORY, "timings");
  progress_t p = {.tty = isatty(STDERR_FILENO) != 0, .start_ns = now_ns(),
                  .total = o->warmup + o->iters};
  if (!st) st = warmup_runs(o, &s, &p);
  if (!st) st = timed_runs(o, &s, &t, &p);
  progress_end(&p);
  if (!st) {
    for (int i = 0; i < o->iters; i++) ms[i] = (double)(t.end[i] - t.start[i]) / 1e6;
    stats_t stats = compute_stats(ms, o->iters);
    report(o, &s, &stats);
    if (o->profile) st = profile_report(o, &s, &t);
  }
  if (mem) mlc_cli_session_close(&s);
  free(t.start);
  free(t.end);
  free(t.first);
  free(ms);
  return st;
}

int mlc_cmd_bench(int argc, char **argv) {
  mlc_cli_run_t o;
  int r = mlc_cli_parse_bench(argc, argv, stdout, stderr, &o);
  if (r == MLC_CLI_CONTINUE)
    r = mlc_cli_report(mlc_status_annotate(bench(&o), "benchmarking %s",
                                           o.model), false);
  mlc_cli_run_free(&o);
  return r;
}
