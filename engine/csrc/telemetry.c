/*
 * Telemetry readers and the sampler.  Counters live in per-slot rows (one
 * writer each) and in the arena (written under the allocator lock); a
 * snapshot sums them.  The sampler thread appends one snapshot row every few
 * milliseconds; when its buffer is full it keeps every other row and doubles
 * its interval, so a run of any length keeps its start and stays bounded.
 * The timeline has a row every millisecond: each lane's cumulative time per
 * state (see slot_enter) at that boundary, written after the fact from the
 * lanes' records (see "boundaries" below), thinned from the oldest end when
 * full.
 */
#include <errno.h>
#include <sched.h>
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
    [ENGINE_C_SLAB_REFILLS] = "slab_refills",
    [ENGINE_C_CACHE_REFILLS] = "cache_refills",
    [ENGINE_C_CACHE_FLUSHES] = "cache_flushes",
    [ENGINE_C_TRYLOCK_FAILS] = "trylock_fails",
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
    out[ENGINE_C_SLAB_REFILLS] = sum[SC_SLAB_REFILLS];
    out[ENGINE_C_CACHE_REFILLS] = sum[SC_CACHE_REFILLS];
    out[ENGINE_C_CACHE_FLUSHES] = sum[SC_CACHE_FLUSHES];
    out[ENGINE_C_TRYLOCK_FAILS] = sum[SC_TRYLOCK_FAILS];
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

/* A lane's transition is being written: a few instructions, so spin a
   little before giving up the core.  The reader may be a worker taking a
   sample mid-block (sampler_take), and a yield on a busy machine would hold
   up its block, and its batch, for a whole time slice. */
static void wait_for_transition(unsigned tries)
{
    if (tries < 256)
        cpu_relax();
    else
        sched_yield(); /* the writer was preempted mid-transition */
}

/* A lane's finished time per state, its current state and since when, and
   how many crossing records it has written, all from one moment (its
   seqlock, see slot_enter). */
typedef struct {
    uint64_t state, since, crossings;
} lane_now;

static lane_now lane_read(const slot_counters *sc, uint64_t *times)
{
    atomic_u64 *v = (atomic_u64 *)sc->v;
    for (unsigned tries = 0;; tries++) {
        uint64_t seq = atomic_load_explicit(&v[SC_TSEQ], memory_order_acquire);
        if (seq & 1u) {
            wait_for_transition(tries);
            continue;
        }
        for (int t = 0; t < ENGINE_T_IDLE; t++)
            times[t] = counter_get(&v[SC_TIME + t]);
        lane_now lane = {.state = counter_get(&v[SC_TSTATE]),
                         .since = counter_get(&v[SC_TSINCE]),
                         .crossings = counter_get(&v[SC_XCOUNT])};
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&v[SC_TSEQ], RELAXED) == seq)
            return lane;
    }
}

void slot_times(const slot_counters *sc, uint64_t now, uint64_t *out)
{
    lane_now lane = lane_read(sc, out);
    if (lane.state < ENGINE_T_IDLE && now > lane.since)
        out[lane.state] += now - lane.since;
}

/* A final row stamped with the run's wall time may come after rows the
   sampler stamped a little later (it woke between the end and the stop):
   those go, so time never runs backwards.  No counts are lost (each row holds
   running totals or levels), and readers retry while the generation is odd. */
static void drop_rows_from(atomic_u64 *rows, uint64_t words, atomic_u64 *count,
                           atomic_u64 *generation, uint64_t t)
{
    uint64_t n = counter_get(count), kept = n;
    while (kept > 1 && counter_get(&rows[(kept - 1) * words]) >= t)
        kept--;
    if (kept == n)
        return;
    atomic_fetch_add(generation, 1);
    atomic_store_explicit(count, kept, memory_order_release);
    atomic_fetch_add(generation, 1);
}

/* ------------------------------------------------------------ timeline */

static uint64_t elapsed_now(const engine_run *run)
{
    return now_ns() - counter_get(&run->t0_ns);
}

uint64_t engine_timeline_row_words(uint32_t worker_slots)
{
    return 1u + ((uint64_t)worker_slots + 1u) * ENGINE_T_IDLE;
}

uint64_t engine_timeline_capacity(uint32_t worker_slots)
{
    /* About 4 MiB a run whatever the batch size; 4096 rows (4 s at full
       resolution) for the default 20 threads. */
    uint64_t rows = ENGINE_TIMELINE_BYTES / (engine_timeline_row_words(worker_slots) * 8u);
    if (rows > ENGINE_TIMELINE_MAX_ROWS)
        rows = ENGINE_TIMELINE_MAX_ROWS;
    return rows < ENGINE_TIMELINE_MIN_ROWS ? ENGINE_TIMELINE_MIN_ROWS : rows & ~(uint64_t)3;
}

/* ------------------------------------------------------------ boundaries

   The timeline has a row at every boundary (each ENGINE_TIMELINE_INTERVAL_US
   after t0), built after the fact: a lane's cumulative times at boundary B
   come from its live state when that state began at or before B, and
   otherwise from the record of the state that was in progress at B, which
   the lane wrote when it left that state (slot_crossed; at most one record a
   boundary).  The sampler thread then need not wake at every boundary: a
   wake-up on a busy 2-core machine preempts an engine thread, and waking
   every millisecond cost pooled runs about 3% (README, Benchmark). */

#define BOUNDARY_NS ((uint64_t)ENGINE_TIMELINE_INTERVAL_US * 1000u)
#define LANES_MAX ((ENGINE_MAX_BATCH_SIZE > ENGINE_MAX_WORKERS ? ENGINE_MAX_BATCH_SIZE \
                                                              : ENGINE_MAX_WORKERS) + 1)

static atomic_u64 *crossing_record(const engine_run *run, uint32_t slot, uint64_t i)
{
    uint64_t index = (uint64_t)slot * ENGINE_CROSSING_RECORDS + i % ENGINE_CROSSING_RECORDS;
    return run->crossings + index * ENGINE_CROSSING_WORDS;
}

/* Called by slot_enter inside the lane's seqlock, before the state's time is
   added: the record holds the state, its start and the cumulative times up
   to that start.  The count goes up first, so a reader that saw any word of
   the new record also sees the count that tells it the slot was reused. */
void slot_crossed(engine_run *run, uint32_t slot, uint64_t state, uint64_t since, uint64_t now)
{
    atomic_u64 *v = run->slots[slot].v;
    uint64_t n = counter_get(&v[SC_XCOUNT]);
    atomic_store_explicit(&v[SC_XCOUNT], n + 1, RELAXED);
    atomic_thread_fence(memory_order_release);
    atomic_u64 *record = crossing_record(run, slot, n);
    atomic_store_explicit(&record[0], since, RELAXED);
    atomic_store_explicit(&record[1], state, RELAXED);
    for (int t = 0; t < ENGINE_T_IDLE; t++)
        atomic_store_explicit(&record[2 + t], counter_get(&v[SC_TIME + t]), RELAXED);
    uint64_t t0 = counter_get(&run->t0_ns);
    uint64_t next = now >= t0 ? t0 + ((now - t0) / BOUNDARY_NS + 1) * BOUNDARY_NS : t0;
    atomic_store_explicit(&v[SC_XNEXT], next, RELAXED);
}

/* One lane's cumulative busy time per state at the absolute time at (now_ns
   clock); false when the record it needs has been overwritten. */
static bool lane_times_at(const engine_run *run, uint32_t slot, uint64_t at, uint64_t *out)
{
    atomic_u64 *v = (atomic_u64 *)run->slots[slot].v;
    lane_now lane = lane_read(&run->slots[slot], out);
    uint64_t state = lane.state, since = lane.since, n = lane.crossings;
    if (at < since) { /* the state in progress at `at` has ended: find its record */
        bool found = false;
        for (uint64_t i = n; i-- > 0 && n - i <= ENGINE_CROSSING_RECORDS;) {
            const atomic_u64 *record = crossing_record(run, slot, i);
            uint64_t record_since = counter_get(&record[0]);
            if (record_since > at)
                continue;
            state = counter_get(&record[1]);
            since = record_since;
            for (int t = 0; t < ENGINE_T_IDLE; t++)
                out[t] = counter_get(&record[2 + t]);
            atomic_thread_fence(memory_order_acquire);
            /* reused while it was read? */
            found = counter_get(&v[SC_XCOUNT]) <= i + ENGINE_CROSSING_RECORDS;
            break;
        }
        if (!found)
            return false;
    }
    if (state < ENGINE_T_IDLE && at > since)
        out[state] += at - since;
    return true;
}

static bool lanes_at(const engine_run *run, uint64_t at, uint64_t *out)
{
    for (uint32_t s = 0; s <= run->nslots; s++)
        if (!lane_times_at(run, s, at, out + (uint64_t)s * ENGINE_T_IDLE))
            return false;
    return true;
}

/* Appends one row: every lane's cumulative busy time at elapsed ns.  When
   full, the older half keeps every other row: cumulative rows lose
   resolution there, never time, and the newer half keeps every row. */
static void timeline_append(engine_run *run, uint64_t elapsed, const uint64_t *times)
{
    uint64_t words = run->timeline_words;
    atomic_u64 *rows = run->timeline;
    uint64_t n = counter_get(&run->timeline_rows);
    if (n == run->timeline_capacity) {
        uint64_t half = n / 2, kept = 1; /* row 0, the start, always stays */
        atomic_fetch_add(&run->timeline_generation, 1);
        for (uint64_t i = 2; i < half; i += 2, kept++)
            for (uint64_t w = 0; w < words; w++)
                atomic_store_explicit(&rows[kept * words + w], counter_get(&rows[i * words + w]),
                                      RELAXED);
        for (uint64_t i = half; i < n; i++, kept++)
            for (uint64_t w = 0; w < words; w++)
                atomic_store_explicit(&rows[kept * words + w], counter_get(&rows[i * words + w]),
                                      RELAXED);
        n = kept;
        atomic_store_explicit(&run->timeline_rows, n, memory_order_release);
        atomic_fetch_add(&run->timeline_generation, 1);
    }
    atomic_u64 *row = rows + n * words;
    /* Never below the row before: where the TSC read can pass the fence in
       slot_enter (util.c), a transition may carry a time a few ns before the
       previous row's, which counted the old state up to that row. */
    const atomic_u64 *previous = n ? rows + (n - 1) * words : NULL;
    for (uint64_t i = 1; i < words; i++) {
        uint64_t value = times[i - 1];
        if (previous && value < counter_get(&previous[i]))
            value = counter_get(&previous[i]);
        atomic_store_explicit(&row[i], value, RELAXED);
    }
    atomic_store_explicit(&row[0], elapsed, RELAXED);
    atomic_store_explicit(&run->timeline_rows, n + 1, memory_order_release);
}

/* The rows of every boundary up to elapsed not written yet.  Each lane keeps
   records of at least its last ENGINE_CROSSING_RECORDS boundaries: a
   sampler that was kept off a core for longer skips the older ones. */
static void boundary_rows(engine_run *run, uint64_t elapsed)
{
    uint64_t times[LANES_MAX * ENGINE_T_IDLE];
    uint64_t t0 = counter_get(&run->t0_ns), last = elapsed / BOUNDARY_NS;
    uint64_t b = run->next_boundary_row;
    if (last > ENGINE_CROSSING_RECORDS && b < last - ENGINE_CROSSING_RECORDS)
        b = last - ENGINE_CROSSING_RECORDS;
    for (; b <= last; b++)
        if (lanes_at(run, t0 + b * BOUNDARY_NS, times))
            timeline_append(run, b * BOUNDARY_NS, times);
    run->next_boundary_row = last + 1;
}

/* The final row, at the run's wall time: every lane has made its last
   transition, so their live states give it. */
static void final_timeline_row(engine_run *run, uint64_t end)
{
    uint64_t times[LANES_MAX * ENGINE_T_IDLE];
    boundary_rows(run, end);
    drop_rows_from(run->timeline, run->timeline_words, &run->timeline_rows,
                   &run->timeline_generation, end);
    uint64_t at = counter_get(&run->t0_ns) + end;
    for (uint32_t s = 0; s <= run->nslots; s++)
        slot_times(&run->slots[s], at, times + (uint64_t)s * ENGINE_T_IDLE);
    timeline_append(run, end, times);
}

uint64_t engine_run_timeline(const engine_run *run, int64_t after_ns, uint64_t *out,
                             uint64_t max_rows)
{
    if (!run->timeline)
        return 0;
    engine_run *r = (engine_run *)run;
    uint64_t words = run->timeline_words;
    for (;;) {
        uint64_t g1 = atomic_load_explicit(&r->timeline_generation, memory_order_acquire);
        if (g1 & 1u)
            continue;
        uint64_t n = atomic_load_explicit(&r->timeline_rows, memory_order_acquire);
        /* Rows are in time order: skip those at or before after_ns (binary
           search), copy the rest, oldest first, up to max_rows. */
        uint64_t lo = 0, hi = n;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            uint64_t t = atomic_load_explicit(&r->timeline[mid * words], RELAXED);
            if (after_ns >= 0 && t <= (uint64_t)after_ns)
                lo = mid + 1;
            else
                hi = mid;
        }
        uint64_t count = n - lo < max_rows ? n - lo : max_rows;
        for (uint64_t i = 0; i < count * words; i++)
            out[i] = atomic_load_explicit(&r->timeline[lo * words + i], RELAXED);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&r->timeline_generation, RELAXED) == g1)
            return count;
    }
}

/* ------------------------------------------------------------ sampler */

/* Appends one row; true when the series had to be halved first. */
static bool sample_row(engine_run *run, uint64_t elapsed, bool final)
{
    bool compacted = false;
    if (final)
        drop_rows_from(run->series, ROW_WORDS, &run->series_rows, &run->series_generation, elapsed);
    uint64_t row[ROW_WORDS];
    row[0] = elapsed;
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

/* How often the sampler writes the timeline's boundary rows when the series
   is sampled less often: what a live view of the lanes may lag behind. */
#define TIMELINE_WAKE_NS (8u * 1000u * 1000u)

/* Takes what is due at elapsed: the timeline's boundary rows always (live
   views stay current), a series row when its interval has passed.  Sets
   when the next call is due. */
static void sampler_step(engine_run *run, uint64_t elapsed)
{
    boundary_rows(run, elapsed);
    if (elapsed >= run->next_series_ns) {
        /* After a compaction the rows kept are twice as far apart: keep
           the spacing even by sampling half as often from then on. */
        if (sample_row(run, elapsed, false))
            run->series_interval_ns *= 2;
        run->next_series_ns = elapsed + run->series_interval_ns;
    }
    uint64_t next_timeline = elapsed + TIMELINE_WAKE_NS;
    uint64_t due = run->next_series_ns < next_timeline ? run->next_series_ns : next_timeline;
    run->sampler_due_ns = due;
    if (run->sampler_shared)
        atomic_store_explicit(&run->sampler_due_at, counter_get(&run->t0_ns) + due, RELAXED);
}

/* The final state, always the last row of both, at the run's wall time
   (engine_run_execute stores it before stopping the sampler). */
static void sampler_finish(engine_run *run)
{
    uint64_t wall = counter_get(&run->wall_ns);
    uint64_t end = wall ? wall : elapsed_now(run);
    final_timeline_row(run, end);
    sample_row(run, end, true);
}

void sampler_deadline(const engine_run *run, struct timespec *deadline)
{
    /* The telemetry's times may be on the TSC (util.c): go from one clock
       to the other by the time left.  Shared, another thread may be taking
       a sample: read the atomic copy. */
    uint64_t t0 = counter_get(&run->t0_ns);
    uint64_t due_elapsed = run->sampler_shared
                               ? atomic_load_explicit(&run->sampler_due_at, RELAXED) - t0
                               : run->sampler_due_ns;
    uint64_t so_far = elapsed_now(run);
    uint64_t left = due_elapsed > so_far ? due_elapsed - so_far : 0;
    if (left > 1000000000u) /* nothing is due that late: no overflow */
        left = 1000000000u;
    uint64_t due = monotonic_ns() + left;
    deadline->tv_sec = (time_t)(due / 1000000000u);
    deadline->tv_nsec = (long)(due % 1000000000u);
}

/* The token makes one thread at a time the sampler: its acquire sees what
   the previous one wrote (the rows, sampler_due_ns, next_boundary_row). */
static bool sampler_acquire(engine_run *run)
{
    int expected = 0;
    return atomic_compare_exchange_strong_explicit(&run->sampler_busy, &expected, 1,
                                                   memory_order_acquire, RELAXED);
}

void sampler_take(engine_run *run)
{
    if (!run->sampler_shared || !sampler_acquire(run))
        return; /* another thread is taking this sample */
    uint64_t elapsed = elapsed_now(run);
    if (elapsed >= run->sampler_due_ns) /* not taken just before */
        sampler_step(run, elapsed);
    atomic_store_explicit(&run->sampler_busy, 0, memory_order_release);
}

static void *sampler_main(void *p)
{
    engine_run *run = p;
    pthread_mutex_lock(&run->sampler_lock);
    while (!run->sampler_stop) {
        struct timespec deadline;
        sampler_deadline(run, &deadline);
        while (!run->sampler_stop) {
            /* sampler_cond runs on CLOCK_MONOTONIC (runner.c) */
            int rc = pthread_cond_timedwait(&run->sampler_cond, &run->sampler_lock, &deadline);
            if (rc == ETIMEDOUT)
                break;
        }
        if (run->sampler_stop)
            break;
        pthread_mutex_unlock(&run->sampler_lock);
        sampler_step(run, elapsed_now(run));
        pthread_mutex_lock(&run->sampler_lock);
    }
    pthread_mutex_unlock(&run->sampler_lock);
    sampler_finish(run);
    return NULL;
}

int sampler_start(engine_run *run, bool shared)
{
    /* The first row is taken here, on the coordinator, before any work: every
       series starts at the run's start and ends with its final state, however
       late the sampler thread gets a core (a busy machine once left runs of a
       millisecond with the final row alone). */
    sample_row(run, elapsed_now(run), false);
    run->next_boundary_row = 1;
    run->series_interval_ns = (uint64_t)run->cfg.sample_interval_us * 1000u;
    run->next_series_ns = run->series_interval_ns;
    uint64_t due = run->next_series_ns < TIMELINE_WAKE_NS ? run->next_series_ns : TIMELINE_WAKE_NS;
    run->sampler_due_ns = due;
    run->sampler_stop = false;
    if (shared) {
        run->sampler_shared = true;
        atomic_store_explicit(&run->sampler_due_at, counter_get(&run->t0_ns) + due, RELAXED);
        return ENGINE_OK;
    }
    if (pthread_create(&run->sampler, NULL, sampler_main, run) != 0)
        return ENGINE_E_THREAD;
    run->sampler_running = true;
    return ENGINE_OK;
}

void sampler_stop(engine_run *run)
{
    if (run->sampler_shared) {
        /* Every worker has been joined; the token orders their last samples
           before the final rows. */
        atomic_store_explicit(&run->sampler_due_at, UINT64_MAX, RELAXED);
        while (!sampler_acquire(run))
            sched_yield();
        sampler_finish(run);
        run->sampler_shared = false;
        atomic_store_explicit(&run->sampler_busy, 0, memory_order_release);
        return;
    }
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
