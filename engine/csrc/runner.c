/*
 * Runs: creating and destroying one, and executing it: the coordinator reads
 * the input block by block and hashes each one itself (a strategy that is
 * not threaded) or hands it to a thread of its own, in batches.  Everything
 * a strategy does differently goes through run->ops (internal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------ create */

/* The arena and its heap map come straight from the kernel: zeroed, page
   aligned, and munmap gives every byte back at once (malloc would keep a
   freed 2 MiB arena in its heap, so a GUI doing run after run grew by one
   arena each time).  MAP_POPULATE faults the pages in now, at create, as the
   memset of the malloc days did: faulting them in mid-run cost pooled runs
   2-6% of their wall time. */
static void *map_zeroed(uint64_t bytes)
{
    void *p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void unmap(void *p, uint64_t bytes)
{
    if (p)
        munmap(p, (size_t)bytes);
}

static uint64_t crossings_bytes(const engine_run *run)
{
    return (uint64_t)(run->nslots + 1) * ENGINE_CROSSING_RECORDS * ENGINE_CROSSING_WORDS *
           sizeof(uint64_t);
}

static void run_free_memory(engine_run *run)
{
    unmap(run->arena_memory, run->cfg.heap_size);
    free(run->slots);
    free((void *)run->slot_states);
    unmap((void *)run->cell_state, 2 * run->ncells);
    if (run->ops && run->ops->run_destroy)
        run->ops->run_destroy(run);
    free((void *)run->series);
    unmap((void *)run->timeline, run->timeline_capacity * run->timeline_words * sizeof(uint64_t));
    unmap((void *)run->crossings, crossings_bytes(run));
    free(run->path);
}

/* Undoes a create that failed before its locks were made. */
static void discard_new_run(engine_run *run)
{
    close(run->fd);
    run_free_memory(run);
    free(run);
}

int engine_run_create(const engine_config *cfg, const char *path, engine_run **out,
                      engine_error *err)
{
    *out = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    char msg[256];
    if (engine_config_check(cfg, msg, sizeof msg) != ENGINE_OK) {
        error_set(err, ENGINE_E_INVALID_ARG, "%s", msg);
        return ENGINE_E_INVALID_ARG;
    }
    /* A production allocator that is not installed here: say why, up front. */
    if (!engine_strategy_available(cfg->strategy, msg, sizeof msg)) {
        error_set(err, ENGINE_E_INVALID_ARG, "the %s strategy cannot run here: %s",
                  engine_strategy_name(cfg->strategy), msg);
        return ENGINE_E_INVALID_ARG;
    }

    char shown[sizeof((engine_run *)0)->path_shown];
    int fd;
    struct stat st;
    int code = input_open(path, shown, sizeof shown, &fd, &st, err);
    if (code != ENGINE_OK)
        return code;

    engine_run *run = aligned_alloc_rounded(_Alignof(engine_run), sizeof *run);
    if (run)
        memset(run, 0, sizeof *run);
    if (!run) {
        close(fd);
        error_set(err, ENGINE_E_NO_MEMORY, "out of host memory creating the run");
        return ENGINE_E_NO_MEMORY;
    }
    run->cfg = *cfg;
    run->fd = fd;
    run->path = strdup(path);
    memcpy(run->path_shown, shown, sizeof shown);
    run->input_mtime = st.st_mtim;
    run->ops = strategy_for(cfg->strategy);
    run->nslots = engine_config_thread_slots(cfg);
    run->total_bytes = (uint64_t)st.st_size;
    run->total_blocks = (run->total_bytes + cfg->block_size - 1) / cfg->block_size;
    run->pool_reserved = engine_config_reserved_bytes(cfg);
    run->ncells = cfg->heap_size / ENGINE_CELL_BYTES;

    bool ok = run->path != NULL;
    run->arena_memory = map_zeroed(cfg->heap_size);
    run->slots = aligned_alloc_rounded(128, sizeof(slot_counters) * (run->nslots + 1));
    run->slot_states = calloc(run->nslots + 1, 1);
    ok = ok && run->arena_memory && run->slots && run->slot_states;
    if (ok) {
        memset(run->slots, 0, sizeof(slot_counters) * (run->nslots + 1));
        for (uint32_t s = 0; s <= run->nslots; s++) /* every lane starts idle */
            atomic_store_explicit(&run->slots[s].v[SC_TSTATE], ENGINE_T_IDLE, RELAXED);
    }
    if (ok && cfg->telemetry) {
        run->cell_state = map_zeroed(2 * run->ncells);
        run->series_capacity = cfg->sample_capacity & ~1u; /* halves cleanly */
        run->series = calloc(run->series_capacity, sizeof(uint64_t) * (1 + ENGINE_COUNTER_COUNT));
        run->timeline_words = engine_timeline_row_words(run->nslots);
        run->timeline_capacity = engine_timeline_capacity(run->nslots);
        run->timeline = map_zeroed(run->timeline_capacity * run->timeline_words * sizeof(uint64_t));
        run->crossings = map_zeroed(crossings_bytes(run));
        ok = run->cell_state && run->series && run->timeline && run->crossings;
        if (ok)
            run->cell_owner = run->cell_state + run->ncells;
    }
    if (!ok) {
        discard_new_run(run);
        error_set(err, ENGINE_E_NO_MEMORY, "out of host memory creating the run (heap %llu bytes)",
                  (unsigned long long)cfg->heap_size);
        return ENGINE_E_NO_MEMORY;
    }

    /* mmap gave zeroed memory: every run starts from the same bytes. */
    arena_init(&run->arena, run->arena_memory, cfg->heap_size, run->pool_reserved, run->cell_state,
               run->cell_owner);
    /* Before the strategy's own state: its locks take the same kind. */
    if (alloc_lock_init(&run->arena_lock, cfg->lock_kind) != ENGINE_OK) {
        discard_new_run(run);
        error_set(err, ENGINE_E_NO_MEMORY, "cannot create the allocator lock");
        return ENGINE_E_NO_MEMORY;
    }
    if (run->ops->run_init && run->ops->run_init(run) != ENGINE_OK) {
        discard_new_run(run);
        error_set(err, ENGINE_E_NO_MEMORY, "out of host memory creating the run's %s state",
                  engine_strategy_name(cfg->strategy));
        return ENGINE_E_NO_MEMORY;
    }

    /* The sampler's timed waits (its own, or the coordinator's while paused)
       run on the monotonic clock: a wall-clock change must not stall or
       hurry them. */
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_mutex_init(&run->pause_lock, NULL);
    pthread_cond_init(&run->pause_cond, &monotonic);
    pthread_mutex_init(&run->error_lock, NULL);
    pthread_mutex_init(&run->sampler_lock, NULL);
    pthread_cond_init(&run->sampler_cond, &monotonic);
    pthread_condattr_destroy(&monotonic);
    atomic_store(&run->speed_ppm, ENGINE_SPEED_FULL);
    atomic_store(&run->state, ENGINE_RUN_READY);
    *out = run;
    return ENGINE_OK;
}

void engine_run_destroy(engine_run *run)
{
    if (!run)
        return;
    if (run->fd >= 0)
        close(run->fd);
    alloc_lock_destroy(&run->arena_lock);
    pthread_mutex_destroy(&run->pause_lock);
    pthread_cond_destroy(&run->pause_cond);
    pthread_mutex_destroy(&run->error_lock);
    pthread_mutex_destroy(&run->sampler_lock);
    pthread_cond_destroy(&run->sampler_cond);
    run_free_memory(run);
    free(run);
}

/* ------------------------------------------------------------ single */

static void run_single(engine_run *run)
{
    uint8_t *buf = malloc(run->cfg.block_size);
    if (!buf) {
        engine_error err = {.block_index = -1, .slot = -1};
        error_set(&err, ENGINE_E_NO_MEMORY, "out of host memory for the block buffer");
        run_fail(run, &err);
        return;
    }
    worker w = {.run = run, .arena = &run->arena, .ops = run->ops};
    if (run->ops->worker_init)
        run->ops->worker_init(&w);
    /* One thread does everything: its time is slot 0's while it hashes and
       the coordinator's while it reads. */
    slot_counters *sc = &run->slots[0];
    uint64_t offset = 0;
    for (int64_t index = 0; run_checkpoint(run, 0); index++) {
        slot_enter(run, 0, ENGINE_T_IDLE);
        slot_enter(run, run->nslots, ENGINE_T_READ);
        int64_t len = input_read_block(run, buf, offset);
        slot_enter(run, run->nslots, ENGINE_T_IDLE);
        if (len <= 0)
            break;
        slot_enter(run, 0, ENGINE_T_COMPUTE);
        slot_set_state(run, 0, ENGINE_SLOT_COMPUTING);
        w.block_index = index;
        uint64_t hash = 0;
        if (block_hash(&w, buf, (uint64_t)len, &hash) != ENGINE_OK)
            break;
        run->signature = (run->signature + hash) % ENGINE_HASH_MODULUS;
        offset += (uint64_t)len;
        counter_add(&sc->v[SC_BLOCKS_DONE], 1);
        counter_add(&sc->v[SC_BYTES_DONE], (uint64_t)len);
    }
    slot_enter(run, 0, ENGINE_T_IDLE);
    slot_set_state(run, 0, ENGINE_SLOT_IDLE);
    free(buf);
}

/* ------------------------------------------------------------ threaded */

typedef struct {
    worker w;
    pthread_t thread;
    uint64_t result;
} slot_task;

int worker_run_block(worker *w, block_args *args, uint64_t *hash_out)
{
    engine_run *run = w->run;
    atomic_fetch_add_explicit(&run->mid_block, 1, RELAXED);
    uint64_t hash = 0;
    int rc = block_hash(w, args->buffer, args->length, &hash);
    if (w->ops->block_done)
        w->ops->block_done(w);
    if (rc == ENGINE_OK) {
        uint64_t length = args->length;
        /* The worker frees what the coordinator handed it: buffer, then record. */
        rc = worker_free(w, args->buffer, "block buffer copy");
        if (rc == ENGINE_OK)
            rc = worker_free(w, args, "argument record");
        if (rc == ENGINE_OK) {
            slot_counters *sc = &run->slots[w->slot];
            counter_add(&sc->v[SC_BLOCKS_DONE], 1);
            counter_add(&sc->v[SC_BYTES_DONE], length);
            *hash_out = hash;
        }
    }
    atomic_fetch_sub_explicit(&run->mid_block, 1, RELAXED);
    return rc;
}

static void *worker_main(void *p)
{
    slot_task *task = p;
    worker *w = &task->w;
    engine_run *run = w->run;
    block_args *args = w->arg_record;
    uint64_t *result = args->result; /* args itself is freed by the block's end */
    slot_enter(run, w->slot, ENGINE_T_COMPUTE);
    slot_set_state(run, w->slot, ENGINE_SLOT_COMPUTING);
    uint64_t hash = 0;
    if (worker_run_block(w, args, &hash) == ENGINE_OK)
        *result = hash;
    slot_enter(run, w->slot, ENGINE_T_IDLE);
    slot_set_state(run, w->slot, ENGINE_SLOT_IDLE);
    engine_threads_add(run, -1); /* the last thing this thread does to the run */
    return NULL;
}

/* The coordinator's allocations for one block: the strategy's own, or the
   locked shared allocator. */
static void *coordinator_alloc(engine_run *run, worker *w, uint64_t size, const char *what,
                               bool is_record)
{
    if (run->ops->coordinator_alloc)
        return run->ops->coordinator_alloc(w, size, what, is_record);
    return locked_alloc(run, run->nslots, w->block_index, size, what);
}

int coordinator_next_block(engine_run *run, worker *w, uint8_t *buf, uint64_t *offset,
                           uint64_t *result, block_args **out)
{
    const uint32_t coord = run->nslots;
    slot_enter(run, coord, ENGINE_T_READ);
    int64_t len = input_read_block(run, buf, *offset);
    slot_enter(run, coord, ENGINE_T_IDLE);
    if (len <= 0)
        return len == 0 ? 0 : -1;
    w->status = ENGINE_OK;
    uint8_t *copy = coordinator_alloc(run, w, (uint64_t)len, "block buffer copy", false);
    if (!copy)
        return -1;
    memcpy(copy, buf, (size_t)len);
    block_args *args = coordinator_alloc(run, w, ARG_RECORD_BYTES, "argument record", true);
    if (!args)
        return -1;
    args->block_index = w->block_index;
    args->buffer = copy;
    args->length = (uint64_t)len;
    args->result = result;
    *offset += (uint64_t)len;
    *out = args;
    return 1;
}

static void run_threaded(engine_run *run)
{
    const engine_config *cfg = &run->cfg;
    uint32_t nslots = run->nslots;
    slot_task *tasks = calloc(nslots, sizeof *tasks);
    uint8_t *buf = malloc(cfg->block_size);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    if (!tasks || !buf) {
        engine_error err = {.block_index = -1, .slot = -1};
        error_set(&err, ENGINE_E_NO_MEMORY, "out of host memory for %u thread slots", nslots);
        run_fail(run, &err);
        free(tasks);
        free(buf);
        pthread_attr_destroy(&attr);
        return;
    }
    for (uint32_t s = 0; s < nslots; s++) {
        worker *w = &tasks[s].w;
        w->run = run;
        w->arena = &run->arena;
        w->ops = run->ops;
        w->slot = s;
        if (run->ops->worker_init)
            run->ops->worker_init(w);
    }

    uint64_t offset = 0;
    int64_t next_block = 0;
    bool at_end = false;
    const uint32_t coord = nslots;
    while (!at_end && !run_should_stop(run)) {
        uint32_t started = 0;
        for (uint32_t s = 0; s < nslots; s++) {
            if (!run_checkpoint(run, coord))
                break;
            slot_task *task = &tasks[s];
            task->w.block_index = next_block;
            block_args *args = NULL;
            int got = coordinator_next_block(run, &task->w, buf, &offset, &task->result, &args);
            if (got <= 0) {
                at_end = got == 0;
                break;
            }
            task->w.arg_record = args;
            engine_threads_add(run, 1);
            slot_enter(run, coord, ENGINE_T_THREAD_START_JOIN);
            int rc = pthread_create(&task->thread, &attr, worker_main, task);
            sampler_poll(run, slot_enter(run, coord, ENGINE_T_IDLE));
            if (rc != 0) {
                engine_threads_add(run, -1);
                engine_error err = {.block_index = next_block, .slot = (int32_t)s, .sys_errno = rc};
                error_set(&err, ENGINE_E_THREAD, "cannot create the thread for block %lld: %s",
                          (long long)next_block, strerror(rc));
                run_fail(run, &err);
                break;
            }
            started++;
            next_block++;
        }
        /* While it joins, the coordinator changes nothing: it counts as parked
           (see engine_run_is_paused), and parks for real before it recycles. */
        quiescent_add(run, 1);
        slot_enter(run, coord, ENGINE_T_THREAD_START_JOIN);
        for (uint32_t s = 0; s < started; s++)
            pthread_join(tasks[s].thread, NULL);
        slot_enter(run, coord, ENGINE_T_IDLE);
        quiescent_add(run, -1);
        (void)run_checkpoint(run, coord);
        for (uint32_t s = 0; s < started; s++) {
            if (tasks[s].w.status == ENGINE_OK)
                run->signature = (run->signature + tasks[s].result) % ENGINE_HASH_MODULUS;
            if (run->ops->batch_done)
                run->ops->batch_done(&tasks[s].w);
        }
    }
    pthread_attr_destroy(&attr);
    free(tasks);
    free(buf);
}

/* ------------------------------------------------------------ execute */

int engine_run_execute(engine_run *run, engine_error *err)
{
    /* The coordinator (the thread calling execute) is counted before the run
       is seen running: a run paused before its start then reads as paused
       only once the coordinator has parked, never in between. */
    engine_threads_add(run, 1);
    int expected = ENGINE_RUN_READY;
    if (!atomic_compare_exchange_strong(&run->state, &expected, ENGINE_RUN_RUNNING)) {
        engine_threads_add(run, -1);
        error_set(err, ENGINE_E_STATE, "this run has already been started");
        return ENGINE_E_STATE;
    }
    uint64_t t0 = now_ns();
    atomic_store(&run->t0_ns, t0);
    /* The coordinator's time is read, thread_start_join and in_allocator;
       the rest (copying blocks, bookkeeping) counts as idle (WORKLOAD.md 10),
       the state every lane starts in. */
    bool thread_per_block = run->ops->threaded && !run->cfg.workers;
    atomic_store(&run->sampler_due_at, UINT64_MAX);
    if (run->cfg.telemetry && sampler_start(run, thread_per_block) != ENGINE_OK) {
        engine_error e = {.block_index = -1, .slot = -1};
        error_set(&e, ENGINE_E_THREAD, "cannot start the telemetry sampler thread");
        run_fail(run, &e);
    } else if (!run->ops->threaded) {
        run_single(run);
    } else if (run->cfg.workers) {
        run_long_lived(run);
    } else {
        run_threaded(run);
    }
    slot_enter(run, run->nslots, ENGINE_T_IDLE);
    /* read after every lane's last transition: no lane is busy past the end */
    atomic_store(&run->wall_ns, now_ns() - t0);
    sampler_stop(run);
    engine_threads_add(run, -1);

    int code = ENGINE_OK;
    pthread_mutex_lock(&run->error_lock);
    if (run->has_error) {
        code = run->error.code;
        if (err)
            *err = run->error;
    }
    pthread_mutex_unlock(&run->error_lock);
    if (code == ENGINE_OK && run_should_stop(run)) {
        code = ENGINE_E_CANCELLED;
        if (err) {
            memset(err, 0, sizeof *err);
            err->block_index = -1;
            err->slot = -1;
        }
        error_set(err, code, "run cancelled");
    }
    atomic_store(&run->state, code == ENGINE_OK            ? ENGINE_RUN_FINISHED
                              : code == ENGINE_E_CANCELLED ? ENGINE_RUN_CANCELLED
                                                           : ENGINE_RUN_FAILED);
    return code;
}
