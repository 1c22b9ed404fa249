/* Wall-clock timing for --time-passes: one monotonic clock and one line
 * format ("time: <step> <ms> ms") shared by the driver and the backends,
 * so every step of a compile reports alike. */
#ifndef MLC_BASE_TIMER_H
#define MLC_BASE_TIMER_H

#include <stdio.h>

/* CLOCK_MONOTONIC in milliseconds. */
double mlc_timer_now_ms(void);

/* Prints "time: %-22s %9.3f ms" to f; nothing when f is NULL. */
void mlc_timer_report(FILE *f, const char *step, double ms);

/* Reports the time since *t0 under `step` and sets *t0 to now. */
void mlc_timer_lap(FILE *f, const char *step, double *t0);

#endif
