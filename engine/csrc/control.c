/*
 * Run control from other threads, and the points where engine threads obey
 * it: pause (and knowing when everything is parked), slow motion, cancel,
 * and recording the run's first failure.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"

bool run_park(engine_run *run, uint32_t slot)
{
    uint8_t before = run->slot_states ? atomic_load_explicit(&run->slot_states[slot], RELAXED)
                                      : ENGINE_SLOT_COMPUTING;
    slot_set_state(run, slot, ENGINE_SLOT_PAUSED);
    pthread_mutex_lock(&run->pause_lock);
    run->quiescent_threads++;
    /* With a thread per block, the first thread to park takes the samples
       while paused (sampler_start): the lanes keep moving, and one thread
       wakes for it, not twenty. */
    bool samples = run->sampler_shared && !run->pause_sampler;
    if (samples)
        run->pause_sampler = true;
    while (atomic_load_explicit(&run->paused, RELAXED) && !run_should_stop(run)) {
        if (!samples) {
            pthread_cond_wait(&run->pause_cond, &run->pause_lock);
            continue;
        }
        struct timespec deadline;
        sampler_deadline(run, &deadline);
        /* pause_cond runs on CLOCK_MONOTONIC (runner.c) */
        if (pthread_cond_timedwait(&run->pause_cond, &run->pause_lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&run->pause_lock);
            sampler_take(run);
            pthread_mutex_lock(&run->pause_lock);
        }
    }
    if (samples)
        run->pause_sampler = false;
    run->quiescent_threads--;
    pthread_mutex_unlock(&run->pause_lock);
    slot_set_state(run, slot, before);
    return !run_should_stop(run);
}

int engine_run_is_paused(engine_run *run)
{
    pthread_mutex_lock(&run->pause_lock);
    int paused = atomic_load_explicit(&run->paused, RELAXED) &&
                 run->quiescent_threads == run->engine_threads;
    pthread_mutex_unlock(&run->pause_lock);
    return paused;
}

/* Counts an engine thread in or out (see engine_threads). */
void engine_threads_add(engine_run *run, int delta)
{
    pthread_mutex_lock(&run->pause_lock);
    run->engine_threads = (uint32_t)((int)run->engine_threads + delta);
    pthread_mutex_unlock(&run->pause_lock);
}

void quiescent_add(engine_run *run, int delta)
{
    pthread_mutex_lock(&run->pause_lock);
    run->quiescent_threads = (uint32_t)((int)run->quiescent_threads + delta);
    pthread_mutex_unlock(&run->pause_lock);
}

/* Sleeps without holding up cancel for more than a few milliseconds. */
static void sleep_ns(engine_run *run, uint64_t ns)
{
    const uint64_t step = 5000000; /* 5 ms */
    while (ns > 0 && !run_should_stop(run)) {
        uint64_t d = ns < step ? ns : step;
        struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
        nanosleep(&ts, NULL);
        ns -= d;
    }
}

/* Each allocation stands for 1 us of work at full speed; slow motion stretches
   that to 1 us * (full / speed), so the workers still contend for real.
   Delays too short to sleep accurately are owed (per slot) and slept once
   they add up, so no thread ever spins and starves the GUI. */
#define SLOW_MOTION_MIN_SLEEP_NS 200000u

void run_slow_motion_delay(engine_run *run, uint32_t slot, uint32_t speed_ppm)
{
    atomic_u64 *debt = &run->slots[slot].v[SC_SLOW_DEBT_NS];
    uint64_t owed = counter_get(debt) + 1000ull * ENGINE_SPEED_FULL / speed_ppm - 1000ull;
    if (owed < SLOW_MOTION_MIN_SLEEP_NS) {
        atomic_store_explicit(debt, owed, RELAXED);
        return;
    }
    atomic_store_explicit(debt, 0, RELAXED);
    sampler_poll(run, now_ns()); /* the others may all be waiting behind this sleep */
    sleep_ns(run, owed);
}

void run_fail(engine_run *run, const engine_error *err)
{
    pthread_mutex_lock(&run->error_lock);
    if (!run->has_error) {
        run->has_error = true;
        run->error = *err;
    }
    pthread_mutex_unlock(&run->error_lock);
    atomic_store(&run->cancelled, 1);
    pthread_mutex_lock(&run->pause_lock);
    pthread_cond_broadcast(&run->pause_cond);
    pthread_mutex_unlock(&run->pause_lock);
}

static const char *slot_label(uint32_t slot, uint32_t nslots, char *buf, size_t len)
{
    if (slot >= nslots)
        snprintf(buf, len, "the coordinator");
    else
        snprintf(buf, len, "thread slot T%u", slot);
    return buf;
}

/* Called with the allocator lock held (or by the only thread). */
void run_fail_exhausted(engine_run *run, uint32_t slot, int64_t block, uint64_t size,
                        const char *what)
{
    engine_error err = {0};
    err.code = ENGINE_E_HEAP_EXHAUSTED;
    err.block_index = block;
    err.slot = slot >= run->nslots ? ENGINE_OWNER_COORDINATOR : (int32_t)slot;
    err.requested = size;
    arena_describe(&run->arena, &err.arena_free_bytes, &err.largest_free, &err.free_list_length);
    snprintf(err.what, sizeof err.what, "%s", what);
    char who[32];
    error_set(&err, ENGINE_E_HEAP_EXHAUSTED,
              "heap exhausted: %s asked for %llu bytes (%s) for block %lld; the shared "
              "region has %llu bytes free in %llu chunks, the largest %llu bytes "
              "(heap %llu bytes, pools %llu bytes)",
              slot_label(slot, run->nslots, who, sizeof who), (unsigned long long)size, what,
              (long long)block, (unsigned long long)err.arena_free_bytes,
              (unsigned long long)err.free_list_length, (unsigned long long)err.largest_free,
              (unsigned long long)run->cfg.heap_size, (unsigned long long)run->pool_reserved);
    run_fail(run, &err);
}

void engine_run_cancel(engine_run *run)
{
    atomic_store(&run->cancelled, 1);
    pthread_mutex_lock(&run->pause_lock);
    pthread_cond_broadcast(&run->pause_cond);
    pthread_mutex_unlock(&run->pause_lock);
}

void engine_run_set_paused(engine_run *run, int paused)
{
    pthread_mutex_lock(&run->pause_lock);
    atomic_store_explicit(&run->paused, paused ? 1 : 0, memory_order_release);
    pthread_cond_broadcast(&run->pause_cond);
    pthread_mutex_unlock(&run->pause_lock);
}

void engine_run_set_speed(engine_run *run, uint32_t speed_ppm)
{
    if (speed_ppm < ENGINE_MIN_SPEED)
        speed_ppm = ENGINE_MIN_SPEED;
    if (speed_ppm > ENGINE_SPEED_FULL)
        speed_ppm = ENGINE_SPEED_FULL;
    atomic_store_explicit(&run->speed_ppm, speed_ppm, RELAXED);
}

int engine_run_state(const engine_run *run)
{
    return atomic_load((_Atomic int *)&run->state);
}
