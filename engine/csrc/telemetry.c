/*
 * Telemetry readers and the sampler.  Counters live in per-slot rows (one
 * writer each) and in the arena (written under the allocator lock); a
 * snapshot sums them.  The sampler thread appends one snapshot row every few
 * milliseconds; when its buffer is full it keeps every other row and doubles
 * its interval, so a run of any length keeps its start and stays bounded.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define ROW_WORDS (1u + ENGINE_COUNTER_COUNT)

static const char *const counter_names[ENGINE_COUNTER_COUNT] = {
    [ENGINE_C_LOCK_ACQ_ALLOC] = "lock_acquisitions_alloc",
    [ENGINE_C_LOCK_ACQ_FREE] = "lock_acquisitions_free",
    [ENGINE_C_LOCK_CONTENDED] = "lock_contended",
    [ENGINE_C_LOCK_WAIT_NS] = "lock_wait_ns",
    [ENGINE_C_POOL_ALLOCS] = "pool_allocs",
    [ENGINE_C_POOL_FREES] = "pool_frees",
    [ENGINE_C_GLOBAL_ALLOCS] = "global_allocs",
    [ENGINE_C_GLOBAL_FREES] = "global_frees",
    [ENGINE_C_BLOCKS_DONE] = "blocks_done",
    [ENGINE_C_BYTES_DONE] = "bytes_done",
    [ENGINE_C_FREE_LIST_LENGTH] = "free_list_length",
    [ENGINE_C_VISITS_ALLOC] = "free_list_visits_alloc",
    [ENGINE_C_VISITS_FREE] = "free_list_visits_free",
    [ENGINE_C_ARENA_BYTES_IN_USE] = "arena_bytes_in_use",
    [ENGINE_C_SLIVER_BYTES] = "sliver_bytes",
    [ENGINE_C_LOCK_ACQUISITIONS] = "lock_acquisitions",
    [ENGINE_C_FREE_LIST_LONGEST] = "free_list_longest",
    [ENGINE_C_MID_BLOCK_SUM] = "mid_block_at_acquisitions",
};

const char *engine_counter_name(int counter)
{
    if (counter < 0 || counter >= ENGINE_COUNTER_COUNT)
        return NULL;
    return counter_names[counter];
}

void telemetry_snapshot(const engine_run *run, uint64_t *out)
{
    engine_arena_counters(&run->arena, out);
    uint64_t sum[SC_COUNT] = {0};
    for (uint32_t s = 0; s <= run->nslots; s++)
        for (int i = 0; i < SC_COUNT; i++)
            sum[i] += counter_get(&run->slots[s].v[i]);
    out[ENGINE_C_LOCK_ACQ_ALLOC] = sum[SC_ACQ_ALLOC];
    out[ENGINE_C_LOCK_ACQ_FREE] = sum[SC_ACQ_FREE];
    out[ENGINE_C_LOCK_CONTENDED] = sum[SC_CONTENDED];
    out[ENGINE_C_LOCK_WAIT_NS] = sum[SC_WAIT_NS];
    out[ENGINE_C_POOL_ALLOCS] = sum[SC_POOL_ALLOCS];
    out[ENGINE_C_POOL_FREES] = sum[SC_POOL_FREES];
    out[ENGINE_C_BLOCKS_DONE] = sum[SC_BLOCKS_DONE];
    out[ENGINE_C_BYTES_DONE] = sum[SC_BYTES_DONE];
    out[ENGINE_C_ARENA_BYTES_IN_USE] += sum[SC_POOL_BYTES_IN_USE];
    out[ENGINE_C_LOCK_ACQUISITIONS] = sum[SC_ACQ_ALLOC] + sum[SC_ACQ_FREE];
    out[ENGINE_C_MID_BLOCK_SUM] = sum[SC_MID_BLOCK_SUM];
}

void engine_run_snapshot(const engine_run *run, uint64_t *out)
{
    telemetry_snapshot(run, out);
}

void engine_run_slot_wait_ns(const engine_run *run, uint64_t *out)
{
    for (uint32_t s = 0; s < run->nslots; s++)
        out[s] = counter_get(&run->slots[s].v[SC_WAIT_NS]);
}

/* ------------------------------------------------------------ sampler */

/* Appends one row; true when the series had to be halved first. */
static bool sample_row(engine_run *run)
{
    bool compacted = false;
    uint64_t row[ROW_WORDS];
    row[0] = now_ns() - counter_get(&run->t0_ns);
    telemetry_snapshot(run, row + 1);

    uint64_t n = counter_get(&run->series_rows);
    if (n == run->series_capacity) {
        /* Keep every other row; readers retry while the generation is odd. */
        atomic_fetch_add(&run->series_generation, 1);
        for (uint64_t i = 1; i < n / 2; i++)
            for (unsigned w = 0; w < ROW_WORDS; w++)
                atomic_store_explicit(&run->series[i * ROW_WORDS + w],
                                      counter_get(&run->series[2 * i * ROW_WORDS + w]), RELAXED);
        n /= 2;
        atomic_store_explicit(&run->series_rows, n, memory_order_release);
        atomic_fetch_add(&run->series_generation, 1);
        compacted = true;
    }
    for (unsigned w = 0; w < ROW_WORDS; w++)
        atomic_store_explicit(&run->series[n * ROW_WORDS + w], row[w], RELAXED);
    atomic_store_explicit(&run->series_rows, n + 1, memory_order_release);
    return compacted;
}

static void *sampler_main(void *p)
{
    engine_run *run = p;
    uint64_t interval = (uint64_t)run->cfg.sample_interval_us * 1000u;
    pthread_mutex_lock(&run->sampler_lock);
    while (!run->sampler_stop) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline); /* sampler_cond uses it */
        uint64_t ns = (uint64_t)deadline.tv_nsec + interval;
        deadline.tv_sec += (time_t)(ns / 1000000000u);
        deadline.tv_nsec = (long)(ns % 1000000000u);
        while (!run->sampler_stop) {
            int rc = pthread_cond_timedwait(&run->sampler_cond, &run->sampler_lock, &deadline);
            if (rc == ETIMEDOUT)
                break;
        }
        if (run->sampler_stop)
            break;
        pthread_mutex_unlock(&run->sampler_lock);
        /* After a compaction the rows kept are twice as far apart: keep the
           spacing even by sampling half as often from then on. */
        if (sample_row(run))
            interval *= 2;
        pthread_mutex_lock(&run->sampler_lock);
    }
    pthread_mutex_unlock(&run->sampler_lock);
    sample_row(run); /* the final state, always the last row */
    return NULL;
}

int sampler_start(engine_run *run)
{
    /* The first row is taken here, on the coordinator, before any work: every
       series starts at the run's start and ends with its final state, however
       late the sampler thread gets a core (a busy machine once left runs of a
       millisecond with the final row alone). */
    sample_row(run);
    run->sampler_stop = false;
    if (pthread_create(&run->sampler, NULL, sampler_main, run) != 0)
        return ENGINE_E_THREAD;
    run->sampler_running = true;
    return ENGINE_OK;
}

void sampler_stop(engine_run *run)
{
    if (!run->sampler_running)
        return;
    pthread_mutex_lock(&run->sampler_lock);
    run->sampler_stop = true;
    pthread_cond_signal(&run->sampler_cond);
    pthread_mutex_unlock(&run->sampler_lock);
    pthread_join(run->sampler, NULL);
    run->sampler_running = false;
}

uint64_t engine_run_series(const engine_run *run, uint64_t *out, uint64_t max_rows)
{
    if (!run->series)
        return 0;
    engine_run *r = (engine_run *)run;
    for (;;) {
        uint64_t g1 = atomic_load_explicit(&r->series_generation, memory_order_acquire);
        if (g1 & 1u)
            continue;
        uint64_t n = atomic_load_explicit(&r->series_rows, memory_order_acquire);
        if (n > max_rows)
            n = max_rows;
        for (uint64_t i = 0; i < n * ROW_WORDS; i++)
            out[i] = atomic_load_explicit(&r->series[i], RELAXED);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&r->series_generation, RELAXED) == g1)
            return n;
    }
}
