/*
 * Small helpers every engine file uses: the clock and error messages.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"

uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The telemetry reads the clock inside the baseline's critical sections
   (WORKLOAD.md 10: in_allocator ends before the unlock), and every
   nanosecond there is paid again by the threads piling up behind the lock.
   clock_gettime costs about 24 ns here, a bare rdtsc about 10: interleaved
   A/B runs of the standalone binary measured the baseline's telemetry on/off
   ratio at 1.13 with the first and 1.07 with the second (1 MiB, three A/Bs of
   9-21 runs each; an lfence before the rdtsc lost the gain).  So on
   x86-64, when the kernel itself keeps CLOCK_MONOTONIC on the TSC (it checked
   that the TSC is invariant and synchronised across CPUs), the engine reads
   the TSC and converts with a scale calibrated once per process against
   CLOCK_MONOTONIC.  HEAPSCOPE_CLOCK=monotonic forces clock_gettime.
   The calibration is process-wide on purpose: it is written once, under
   pthread_once, before any reader, and never changes, so two runs share
   nothing they could disturb. */
#if defined(__x86_64__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

typedef struct {
    bool use_tsc;
    uint64_t tsc0, ns0; /* one instant on both clocks */
    double ns_per_tick;
} clock_calibration;

static clock_calibration calibration;
static pthread_once_t calibration_once = PTHREAD_ONCE_INIT;

#if HAVE_TSC
static bool kernel_uses_tsc(void)
{
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f)
        return false;
    char name[32] = {0};
    bool tsc = fgets(name, sizeof name, f) && strcmp(name, "tsc\n") == 0;
    fclose(f);
    return tsc;
}

/* One instant on both clocks: the TSC midway between two reads that
   bracket one clock_gettime, keeping the tightest of a few brackets. */
static void both_clocks(uint64_t *tsc, uint64_t *ns)
{
    uint64_t tightest = UINT64_MAX;
    for (int i = 0; i < 8; i++) {
        uint64_t before = __rdtsc(), mono = monotonic_ns(), after = __rdtsc();
        if (after >= before && after - before < tightest) {
            tightest = after - before;
            *tsc = before + (after - before) / 2;
            *ns = mono;
        }
    }
}
#endif

static void calibrate(void)
{
    calibration.use_tsc = false;
#if HAVE_TSC
    const char *forced = getenv("HEAPSCOPE_CLOCK");
    if ((forced && strcmp(forced, "monotonic") == 0) || !kernel_uses_tsc())
        return;
    uint64_t tsc0 = 0, ns0 = 0, tsc1 = 0, ns1 = 0;
    both_clocks(&tsc0, &ns0);
    /* 5 ms apart: brackets of tens of ns make the scale good to 1e-5. */
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 5000000};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
    }
    both_clocks(&tsc1, &ns1);
    if (tsc1 <= tsc0 || ns1 <= ns0)
        return;
    double scale = (double)(ns1 - ns0) / (double)(tsc1 - tsc0);
    if (!(scale > 0.01 && scale < 100.0)) /* 10 MHz to 100 GHz, or not a TSC */
        return;
    calibration = (clock_calibration){
        .use_tsc = true, .tsc0 = tsc0, .ns0 = ns0, .ns_per_tick = scale};
#endif
}

uint64_t now_ns(void)
{
    pthread_once(&calibration_once, calibrate);
#if HAVE_TSC
    if (calibration.use_tsc) {
        /* No lfence: slot_enter's seq_cst fence already orders the odd
           sequence number before this read on AMD (MFENCE is dispatch
           serialising there); on Intel the read may pass the fence by the
           few nanoseconds a store takes to drain: a transition can then
           carry a time that much before a reader's.  The timeline's rows
           never go below the row before (telemetry.c). */
        uint64_t tsc = __rdtsc();
        /* Another CPU's TSC a few ticks behind the calibration instant. */
        if (tsc <= calibration.tsc0)
            return calibration.ns0;
        return calibration.ns0 + (uint64_t)((double)(tsc - calibration.tsc0) *
                                            calibration.ns_per_tick);
    }
#endif
    return monotonic_ns();
}

const char *engine_clock_source(void)
{
    pthread_once(&calibration_once, calibrate);
    return calibration.use_tsc ? "tsc" : "clock_gettime";
}

void error_set(engine_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}
