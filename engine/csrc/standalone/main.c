/*
 * The engine without Python: the same sources behind a tiny command line.
 * Used for sanitizer runs and to measure what driving the engine from Python
 * costs.  Usage:
 *   heapscope-engine FILE [STRATEGY] [--heap N] [--pool N] [--batch N] [--block N]
 *                    [--lock mutex|spin|adaptive] [--workers N] [--slab N] [--cache N]
 *                    [--no-telemetry] [--reader] [--pauser]
 * --reader polls telemetry from another thread during the run, as the GUI does
 * (counters, series, heap map and slot states).  --pauser pauses and resumes
 * the run over and over from another thread and checks that once the engine
 * reports itself paused, no counter and no heap-map cell moves.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine.h"

typedef struct {
    engine_run *run;
    atomic_int done;
    uint64_t polls;
    int went_backwards;
    uint64_t pauses_checked;
    int moved_while_paused;
} reader_state;

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Pauses, waits until the engine says every thread is parked, then checks
   that two looks 2 ms apart are identical; resumes; again. */
static void *pauser_main(void *p)
{
    reader_state *rs = p;
    uint64_t cells = engine_run_heap_cells(rs->run);
    uint8_t *map1 = cells ? malloc(cells) : NULL, *map2 = cells ? malloc(cells) : NULL;
    uint64_t c1[ENGINE_COUNTER_COUNT], c2[ENGINE_COUNTER_COUNT];
    while (!atomic_load(&rs->done)) {
        engine_run_set_paused(rs->run, 1);
        for (int i = 0; i < 2000 && !engine_run_is_paused(rs->run) && !atomic_load(&rs->done); i++)
            sleep_us(100);
        if (engine_run_is_paused(rs->run) && engine_run_state(rs->run) == ENGINE_RUN_RUNNING) {
            engine_run_snapshot(rs->run, c1);
            if (map1)
                engine_run_copy_heap_map(rs->run, map1, NULL);
            sleep_us(2000);
            engine_run_snapshot(rs->run, c2);
            if (map2)
                engine_run_copy_heap_map(rs->run, map2, NULL);
            if (memcmp(c1, c2, sizeof c1) != 0 || (map1 && memcmp(map1, map2, cells) != 0))
                rs->moved_while_paused = 1;
            rs->pauses_checked++;
        }
        engine_run_set_paused(rs->run, 0);
        sleep_us(3000);
    }
    engine_run_set_paused(rs->run, 0);
    free(map1);
    free(map2);
    return NULL;
}

static void *reader_main(void *p)
{
    reader_state *rs = p;
    uint64_t prev[ENGINE_COUNTER_COUNT] = {0}, now[ENGINE_COUNTER_COUNT];
    uint64_t rows_cap = engine_run_series_capacity(rs->run);
    uint64_t *rows = rows_cap ? malloc(rows_cap * (1 + ENGINE_COUNTER_COUNT) * 8) : NULL;
    uint64_t cells = engine_run_heap_cells(rs->run);
    uint8_t *states = cells ? malloc(cells) : NULL, *owners = cells ? malloc(cells) : NULL;
    uint8_t slot_states[256];
    uint32_t slots = engine_run_slot_count(rs->run);
    uint64_t tl_cap = engine_timeline_capacity(slots), tl_words = engine_timeline_row_words(slots);
    uint64_t *timeline = malloc(tl_cap * tl_words * 8);
    uint64_t *times = malloc((slots + 1u) * ENGINE_TIME_STATE_COUNT * 8);
    uint64_t *last_row = calloc(tl_words, 8);
    while (!atomic_load(&rs->done)) {
        engine_run_snapshot(rs->run, now);
        if (now[ENGINE_C_LOCK_ACQUISITIONS] < prev[ENGINE_C_LOCK_ACQUISITIONS] ||
            now[ENGINE_C_BLOCKS_DONE] < prev[ENGINE_C_BLOCKS_DONE])
            rs->went_backwards = 1;
        memcpy(prev, now, sizeof now);
        if (rows)
            engine_run_series(rs->run, rows, rows_cap);
        if (states && owners)
            engine_run_copy_heap_map(rs->run, states, owners);
        engine_run_copy_slot_states(rs->run, slot_states);
        (void)engine_run_is_paused(rs->run);
        if (times)
            engine_run_time_breakdown(rs->run, times);
        /* The timeline's new rows: time and every cumulative value never go
           down from one row to the next. */
        uint64_t n = timeline && last_row
                         ? engine_run_timeline(rs->run, last_row[0] ? (int64_t)last_row[0] : -1,
                                               timeline, tl_cap)
                         : 0;
        for (uint64_t r = 0; r < n; r++) {
            for (uint64_t w = 0; w < tl_words; w++)
                if (timeline[r * tl_words + w] < last_row[w])
                    rs->went_backwards = 1;
            memcpy(last_row, timeline + r * tl_words, tl_words * 8);
        }
        rs->polls++;
    }
    free(timeline);
    free(times);
    free(last_row);
    free(rows);
    free(states);
    free(owners);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [STRATEGY] [options]\n", argv[0]);
        return 2;
    }
    engine_config cfg;
    engine_config_defaults(&cfg);
    int with_reader = 0, with_pauser = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int found = 0;
        for (int s = 0; s < ENGINE_STRATEGY_COUNT; s++)
            if (strcmp(a, engine_strategy_name(s)) == 0) {
                cfg.strategy = s;
                found = 1;
            }
        if (found)
            continue;
        if (strcmp(a, "--no-telemetry") == 0)
            cfg.telemetry = 0;
        else if (strcmp(a, "--reader") == 0)
            with_reader = 1;
        else if (strcmp(a, "--pauser") == 0)
            with_pauser = 1;
        else if (i + 1 < argc && strcmp(a, "--heap") == 0)
            cfg.heap_size = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--pool") == 0)
            cfg.pool_size = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--batch") == 0)
            cfg.batch_size = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--block") == 0)
            cfg.block_size = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--workers") == 0)
            cfg.workers = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--slab") == 0)
            cfg.slab_size = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--cache") == 0)
            cfg.cache_size = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(a, "--lock") == 0) {
            const char *kind = argv[++i];
            cfg.lock_kind = -1;
            for (int k = 0; k < ENGINE_LOCK_KIND_COUNT; k++)
                if (strcmp(kind, engine_lock_kind_name(k)) == 0)
                    cfg.lock_kind = k;
        } else {
            fprintf(stderr, "error: unknown argument '%s'\n", a);
            return 2;
        }
    }

    engine_error err;
    engine_run *run;
    int rc = engine_run_create(&cfg, argv[1], &run, &err);
    if (rc != ENGINE_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        return 2;
    }
    reader_state rs = {.run = run};
    pthread_t reader, pauser;
    if (with_reader && pthread_create(&reader, NULL, reader_main, &rs) != 0)
        with_reader = 0;
    if (with_pauser && pthread_create(&pauser, NULL, pauser_main, &rs) != 0)
        with_pauser = 0;
    rc = engine_run_execute(run, &err);
    atomic_store(&rs.done, 1);
    if (with_reader)
        pthread_join(reader, NULL);
    if (with_pauser)
        pthread_join(pauser, NULL);
    if (rc != ENGINE_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        engine_run_destroy(run);
        return rc == ENGINE_E_HEAP_EXHAUSTED ? 3 : 1;
    }
    uint64_t c[ENGINE_COUNTER_COUNT];
    engine_run_snapshot(run, c);
    printf("Final signature: %llu\n", (unsigned long long)engine_run_signature(run));
    if (engine_strategy_uses_arena(cfg.strategy))
        printf("Lock acquisitions: %llu\n", (unsigned long long)c[ENGINE_C_LOCK_ACQUISITIONS]);
    else /* the allocator's locks are its own */
        printf("Lock acquisitions: not observable (%s's locks are its own)\n",
               engine_strategy_name(cfg.strategy));
    printf("Wall time: %.6f s\n", (double)engine_run_wall_ns(run) / 1e9);
    if (with_reader)
        printf("Reader polls: %llu%s\n", (unsigned long long)rs.polls,
               rs.went_backwards ? " (counters went backwards!)" : "");
    if (with_pauser)
        printf("Pauses checked: %llu%s\n", (unsigned long long)rs.pauses_checked,
               rs.moved_while_paused ? " (something moved while paused!)" : "");
    engine_run_destroy(run);
    return rs.went_backwards || rs.moved_while_paused ? 4 : 0;
}
