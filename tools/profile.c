/* The output of `mlc bench --profile` (see profile.h).
 *
 * Trace: Chrome's trace-event JSON format, "X" (complete) events with ts
 * and dur in microseconds, printed from integer nanoseconds so a kernel
 * event never pokes out of its run event by a rounding step.  pid 1 is the
 * bench process; tid is the runtime's thread number (0: the thread that
 * ran the plan).  A kernel event is named by its kernel and carries the
 * call index, so calls of a de-duplicated kernel stay apart.
 *
 * Summary: one row per call of the plan (not per kernel function), sorted
 * by total time.  Node names go to the terminal with control characters
 * escaped and the list cut at NODES_WIDTH characters.
 */
#include "tools/profile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NODES_WIDTH 60

void mlc_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

/* ns as microseconds with three decimals, exactly. */
static void write_us(FILE *f, int64_t ns) {
  if (ns < 0) ns = 0;
  fprintf(f, "%lld.%03lld", (long long)(ns / 1000), (long long)(ns % 1000));
}

static void write_complete(FILE *f, const char *name, const char *cat,
                           int64_t ts, int64_t dur, int tid) {
  fputs(",\n{\"name\": ", f);
  mlc_json_string(f, name);
  fprintf(f, ", \"cat\": \"%s\", \"ph\": \"X\", \"ts\": ", cat);
  write_us(f, ts);
  fputs(", \"dur\": ", f);
  write_us(f, dur);
  fprintf(f, ", \"pid\": 1, \"tid\": %d, \"args\": {", tid);
}

static void write_call(FILE *f, const mlc_profile_t *p,
                       const mlcrt_profile_event_t *e, int64_t base) {
  mlcrt_call_info_t c = {0};
  mlcrt_status_free(mlcrt_model_call_info(p->model, e->call, &c));
  write_complete(f, c.kernel ? c.kernel : "?", "kernel", e->start_ns - base,
                 e->end_ns - e->start_ns, e->thread);
  fputs("\"kernel\": ", f);
  mlc_json_string(f, c.kernel ? c.kernel : "?");
  fprintf(f, ", \"call\": %d, \"nodes\": [", e->call);
  for (int32_t i = 0; i < c.num_nodes; i++) {
    if (i) fputs(", ", f);
    mlc_json_string(f, c.nodes[i]);
  }
  fprintf(f, "], \"tiles\": %lld, \"flops\": %lld}}", (long long)c.tiles,
          (long long)c.flops);
}

static void write_events(FILE *f, const mlc_profile_t *p) {
  const char *model = mlcrt_model_name(p->model);
  fputs("{\"displayTimeUnit\": \"ms\", \"otherData\": {\"model\": ", f);
  mlc_json_string(f, model);
  fprintf(f, ", \"runs\": %d, \"threads\": %d},\n\"traceEvents\": [\n",
          p->nruns, p->threads);
  fputs("{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": 0, "
        "\"args\": {\"name\": ", f);
  mlc_json_string(f, model);
  fputs("}},\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, "
        "\"tid\": 0, \"args\": {\"name\": \"plan\"}}", f);
  int64_t base = p->nruns > 0 ? p->start_ns[0] : 0;
  for (int r = 0; r < p->nruns; r++) {
    write_complete(f, "run", "run", p->start_ns[r] - base,
                   p->end_ns[r] - p->start_ns[r], 0);
    fprintf(f, "\"iteration\": %d}}", r);
    size_t end = r + 1 < p->nruns ? p->first[r + 1] : p->nevents;
    for (size_t i = p->first[r]; i < end; i++)
      write_call(f, p, &p->events[i], base);
  }
  fputs("\n]}\n", f);
}

mlc_status_t *mlc_profile_write_trace(const mlc_profile_t *p, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return MLC_ERR(IO_ERROR, "%s: %s", path, strerror(errno));
  write_events(f, p);
  bool bad = ferror(f) != 0;
  bad |= fclose(f) != 0;
  return bad ? MLC_ERR(IO_ERROR, "%s: write failed", path) : NULL;
}

/* ---- summary ----------------------------------------------------------- */

typedef struct row {
  int32_t call;
  int64_t total_ns, count;
} row_t;

static int by_total(const void *a, const void *b) {
  const row_t *x = a, *y = b;
  if (x->total_ns != y->total_ns) return x->total_ns < y->total_ns ? 1 : -1;
  return (x->call > y->call) - (x->call < y->call);
}

/* "a, b, c" with control characters as \xNN, cut to NODES_WIDTH. */
static void format_nodes(const mlcrt_call_info_t *c, char *out, size_t cap) {
  size_t n = 0;
  for (int32_t i = 0; i < c->num_nodes && n + 8 < cap; i++) {
    if (i) n += (size_t)snprintf(out + n, cap - n, ", ");
    for (const char *s = c->nodes[i]; *s && n + 8 < cap; s++) {
      unsigned char ch = (unsigned char)*s;
      if (ch < 0x20 || ch == 0x7f) n += (size_t)snprintf(out + n, cap - n, "\\x%02x", ch);
      else out[n++] = (char)ch;
    }
  }
  out[n < cap ? n : cap - 1] = '\0';
  if (n > NODES_WIDTH) memcpy(out + NODES_WIDTH - 3, "...", 4);
}

static void print_row(FILE *f, const mlc_profile_t *p, const row_t *r,
                      int64_t wall_ns) {
  mlcrt_call_info_t c = {0};
  mlcrt_status_free(mlcrt_model_call_info(p->model, r->call, &c));
  char nodes[NODES_WIDTH + 32], gf[16] = "-";
  format_nodes(&c, nodes, sizeof nodes);
  if (c.flops > 0 && r->total_ns > 0)
    snprintf(gf, sizeof gf, "%.1f",
             (double)c.flops * (double)r->count / (double)r->total_ns);
  fprintf(f, "%11.3f %7.2f%% %7lld %8s  %-22s %s\n", (double)r->total_ns / 1e6,
          wall_ns > 0 ? 100.0 * (double)r->total_ns / (double)wall_ns : 0.0,
          (long long)r->count, gf, c.kernel ? c.kernel : "?", nodes);
}

mlc_status_t *mlc_profile_print_summary(const mlc_profile_t *p, FILE *f) {
  int32_t ncalls = mlcrt_model_num_calls(p->model);
  row_t *rows = calloc(ncalls > 0 ? (size_t)ncalls : 1, sizeof *rows);
  if (!rows) return MLC_ERR(OUT_OF_MEMORY, "profile summary");
  for (int32_t i = 0; i < ncalls; i++) rows[i].call = i;
  int64_t kernels = 0, wall = 0;
  for (size_t i = 0; i < p->nevents; i++) {
    const mlcrt_profile_event_t *e = &p->events[i];
    if (e->call < 0 || e->call >= ncalls) continue;
    rows[e->call].total_ns += e->end_ns - e->start_ns;
    rows[e->call].count++;
    kernels += e->end_ns - e->start_ns;
  }
  for (int r = 0; r < p->nruns; r++) wall += p->end_ns[r] - p->start_ns[r];
  qsort(rows, (size_t)(ncalls > 0 ? ncalls : 0), sizeof *rows, by_total);
  double runs = p->nruns > 0 ? p->nruns : 1;
  fprintf(f, "profile: %d calls over %d runs: kernels %.3f ms of %.3f ms per "
          "run\n", ncalls, p->nruns, (double)kernels / 1e6 / runs,
          (double)wall / 1e6 / runs);
  fprintf(f, "%11s %8s %7s %8s  %-22s %s\n", "total ms", "% run", "calls",
          "GFLOP/s", "kernel", "nodes");
  for (int32_t i = 0; i < ncalls; i++) print_row(f, p, &rows[i], wall);
  fprintf(f, "%11.3f %7.2f%% %7d %8s  %s\n", (double)(wall - kernels) / 1e6,
          wall > 0 ? 100.0 * (double)(wall - kernels) / (double)wall : 0.0,
          p->nruns, "-", "(outside kernels)");
  free(rows);
  return NULL;
}
