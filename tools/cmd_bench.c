/* `mlc bench`: runs a compiled model `warmup` times untimed, then `iters`
 * times, each timed with the monotonic clock, and reports the median,
 * minimum, 90th percentile (nearest rank) and mean latency.  Inputs are
 * deterministic random data unless given with --input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mlc/mlcrt.h"
#include "tools/cli.h"

typedef struct stats {
  double median, min, p90, mean, max;
} stats_t;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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
  for (int i = 0; i < n; i++) s.mean += t[i];
  s.mean /= n;
  return s;
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void report(const mlc_cli_run_t *o, const mlc_cli_session_t *s,
                   const stats_t *st) {
  const char *name = mlcrt_model_name(s->model);
  int threads = o->threads ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (o->json) {
    printf("{\"model\": ");
    json_string(stdout, name ? name : "");
    printf(", \"path\": ");
    json_string(stdout, o->model);
    printf(", \"iters\": %d, \"warmup\": %d, \"threads\": %d, "
           "\"median_ms\": %.6f, \"min_ms\": %.6f, \"p90_ms\": %.6f, "
           "\"mean_ms\": %.6f, \"max_ms\": %.6f}\n",
           o->iters, o->warmup, threads, st->median, st->min, st->p90,
           st->mean, st->max);
    return;
  }
  printf("model:   %s (%s)\n", name ? name : "?", o->model);
  printf("iters:   %d (after %d warmup), threads: %d\n", o->iters, o->warmup,
         threads);
  /* Three decimals hide sub-microsecond models: use more below 1 ms. */
  int prec = st->median >= 1.0 ? 3 : 6;
  printf("latency: median %.*f ms, min %.*f ms, p90 %.*f ms, mean %.*f ms\n",
         prec, st->median, prec, st->min, prec, st->p90, prec, st->mean);
}

static mlc_status_t *bench(const mlc_cli_run_t *o) {
  mlc_cli_session_t s;
  double *times = malloc((size_t)o->iters * sizeof *times);
  mlc_status_t *st = times ? mlc_cli_session_open(o, true, &s)
                           : MLC_ERR(OUT_OF_MEMORY, "timings");
  for (int i = 0; !st && i < o->warmup; i++)
    st = mlc_cli_from_rt(mlcrt_session_run(s.session));
  for (int i = 0; !st && i < o->iters; i++) {
    double t0 = now_ms();
    st = mlc_cli_from_rt(mlcrt_session_run(s.session));
    times[i] = now_ms() - t0;
  }
  if (!st) {
    stats_t stats = compute_stats(times, o->iters);
    report(o, &s, &stats);
  }
  if (times) mlc_cli_session_close(&s);
  free(times);
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
