/* See timer.h. */
#include "base/timer.h"

#include <time.h>

double mlc_timer_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void mlc_timer_report(FILE *f, const char *step, double ms) {
  if (f) fprintf(f, "time: %-22s %9.3f ms\n", step, ms);
}

void mlc_timer_lap(FILE *f, const char *step, double *t0) {
  double t1 = mlc_timer_now_ms();
  mlc_timer_report(f, step, t1 - *t0);
  *t0 = t1;
}
