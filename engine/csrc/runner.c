/*
 * Runs: reading the input as a stream of blocks, one thread per block in
 * batches, the coordinator's allocations, pools recycled per batch, pause,
 * slow motion and cancel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Scratch per slot for the FLOOR strategy: one tree of a 1 KiB block needs
   16 + 2048 + 511 * 32 bytes; bigger blocks have no more distinct symbols. */
#define FLOOR_SCRATCH_BYTES (32u * 1024u)
#define WORKER_STACK_BYTES (1024u * 1024u)

static const char *const status_text[ENGINE_STATUS_COUNT] = {
    [ENGINE_OK] = "ok",
    [ENGINE_E_INVALID_ARG] = "invalid argument",
    [ENGINE_E_NO_MEMORY] = "out of host memory",
    [ENGINE_E_OPEN] = "cannot open input",
    [ENGINE_E_IS_DIR] = "input is a directory",
    [ENGINE_E_READ] = "cannot read input",
    [ENGINE_E_HEAP_EXHAUSTED] = "heap exhausted",
    [ENGINE_E_INVALID_FREE] = "invalid free",
    [ENGINE_E_THREAD] = "cannot create thread",
    [ENGINE_E_CANCELLED] = "run cancelled",
    [ENGINE_E_STATE] = "not allowed in the run's current state",
    [ENGINE_E_NOT_FILE] = "input is not a regular file",
    [ENGINE_E_INPUT_CHANGED] = "input changed while being read",
};

const char *engine_strerror(int code)
{
    if (code < 0 || code >= ENGINE_STATUS_COUNT)
        return "unknown status";
    return status_text[code];
}

const char *engine_strategy_name(int strategy)
{
    static const char *const names[ENGINE_STRATEGY_COUNT] = {"single", "baseline", "pooled",
                                                             "floor"};
    if (strategy < 0 || strategy >= ENGINE_STRATEGY_COUNT)
        return "unknown";
    return names[strategy];
}

/* ------------------------------------------------------------ config */

void engine_config_defaults(engine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->strategy = ENGINE_STRATEGY_BASELINE;
    cfg->heap_size = ENGINE_DEFAULT_HEAP_SIZE;
    cfg->pool_size = ENGINE_DEFAULT_POOL_SIZE;
    cfg->batch_size = ENGINE_DEFAULT_BATCH_SIZE;
    cfg->block_size = ENGINE_DEFAULT_BLOCK_SIZE;
    cfg->sample_interval_us = ENGINE_DEFAULT_SAMPLE_INTERVAL_US;
    cfg->sample_capacity = ENGINE_DEFAULT_SAMPLE_CAPACITY;
    cfg->telemetry = 1;
}

static uint64_t pools_bytes(const engine_config *cfg)
{
    return cfg->strategy == ENGINE_STRATEGY_POOLED ? cfg->pool_size * cfg->batch_size : 0;
}

#define RANGE_CHECK(field, lo, hi, name, unit)                                               \
    if ((uint64_t)cfg->field < (uint64_t)(lo) || (uint64_t)cfg->field > (uint64_t)(hi)) {    \
        snprintf(message, message_len, "%s must be between %llu and %llu%s (got %llu)", name, \
                 (unsigned long long)(lo), (unsigned long long)(hi), unit,                    \
                 (unsigned long long)cfg->field);                                             \
        return ENGINE_E_INVALID_ARG;                                                          \
    }

int engine_config_check(const engine_config *cfg, char *message, size_t message_len)
{
    if (cfg->strategy < 0 || cfg->strategy >= ENGINE_STRATEGY_COUNT) {
        snprintf(message, message_len,
                 "strategy must be single, baseline, pooled or floor (got %d)", cfg->strategy);
        return ENGINE_E_INVALID_ARG;
    }
    RANGE_CHECK(heap_size, ENGINE_MIN_HEAP_SIZE, ENGINE_MAX_HEAP_SIZE, "heap size", " bytes");
    if (cfg->heap_size % 16 != 0) {
        snprintf(message, message_len, "heap size must be a multiple of 16 bytes (got %llu)",
                 (unsigned long long)cfg->heap_size);
        return ENGINE_E_INVALID_ARG;
    }
    RANGE_CHECK(pool_size, ENGINE_MIN_POOL_SIZE, ENGINE_MAX_POOL_SIZE, "pool size", " bytes");
    if (cfg->pool_size % 16 != 0) {
        snprintf(message, message_len, "pool size must be a multiple of 16 bytes (got %llu)",
                 (unsigned long long)cfg->pool_size);
        return ENGINE_E_INVALID_ARG;
    }
    RANGE_CHECK(batch_size, ENGINE_MIN_BATCH_SIZE, ENGINE_MAX_BATCH_SIZE, "batch size",
                " threads");
    RANGE_CHECK(block_size, ENGINE_MIN_BLOCK_SIZE, ENGINE_MAX_BLOCK_SIZE, "block size",
                " bytes");
    RANGE_CHECK(sample_interval_us, ENGINE_MIN_SAMPLE_INTERVAL_US,
                ENGINE_MAX_SAMPLE_INTERVAL_US, "sample interval", " microseconds");
    RANGE_CHECK(sample_capacity, ENGINE_MIN_SAMPLE_CAPACITY, ENGINE_MAX_SAMPLE_CAPACITY,
                "sample capacity", " rows");
    uint64_t pools = pools_bytes(cfg);
    if (pools + ENGINE_MIN_GLOBAL_REGION > cfg->heap_size) {
        uint64_t max_pool =
            cfg->heap_size > ENGINE_MIN_GLOBAL_REGION
                ? ((cfg->heap_size - ENGINE_MIN_GLOBAL_REGION) / cfg->batch_size) & ~15ull
                : 0;
        char advice[128];
        if (max_pool >= ENGINE_MIN_POOL_SIZE)
            snprintf(advice, sizeof advice, "pool size at most %llu bytes with this heap and batch",
                     (unsigned long long)max_pool);
        else
            snprintf(advice, sizeof advice, "these pools need a heap of at least %llu bytes",
                     (unsigned long long)(pools + ENGINE_MIN_GLOBAL_REGION));
        snprintf(message, message_len,
                 "heap too small for the pools: %u pools of %llu bytes take %llu of the "
                 "%llu-byte heap, which must keep at least %u bytes for the shared region (%s)",
                 cfg->batch_size, (unsigned long long)cfg->pool_size,
                 (unsigned long long)pools, (unsigned long long)cfg->heap_size,
                 ENGINE_MIN_GLOBAL_REGION, advice);
        return ENGINE_E_INVALID_ARG;
    }
    return ENGINE_OK;
}

/* ------------------------------------------------------------ control */

bool run_park(engine_run *run, uint32_t slot)
{
    uint8_t before = run->slot_states ? atomic_load_explicit(&run->slot_states[slot], RELAXED)
                                      : ENGINE_SLOT_COMPUTING;
    slot_set_state(run, slot, ENGINE_SLOT_PAUSED);
    pthread_mutex_lock(&run->pause_lock);
    run->quiescent_threads++;
    while (atomic_load_explicit(&run->paused, RELAXED) && !run_should_stop(run))
        pthread_cond_wait(&run->pause_cond, &run->pause_lock);
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
static void engine_threads_add(engine_run *run, int delta)
{
    pthread_mutex_lock(&run->pause_lock);
    run->engine_threads = (uint32_t)((int)run->engine_threads + delta);
    pthread_mutex_unlock(&run->pause_lock);
}

static void quiescent_add(engine_run *run, int delta)
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
    arena_describe(&run->arena, &err.arena_free_bytes, &err.largest_free,
                   &err.free_list_length);
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

/* ------------------------------------------------------------ create */

/* The path as messages show it: one line whatever bytes it holds (control
   bytes escaped as \xNN) and short enough for a message (middle elided). */
static void path_for_messages(const char *path, char *out, size_t out_len)
{
    char escaped[1024];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 5 < sizeof escaped; p++) {
        if (*p < 0x20 || *p == 0x7f)
            n += (size_t)snprintf(escaped + n, sizeof escaped - n, "\\x%02x", *p);
        else
            escaped[n++] = (char)*p;
    }
    escaped[n] = 0;
    if (n < out_len) {
        memcpy(out, escaped, n + 1);
        return;
    }
    size_t head = (out_len - 4) / 3, tail = out_len - 4 - head;
    snprintf(out, out_len, "%.*s...%s", (int)head, escaped, escaped + n - tail);
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a file";
}

/* The arena and its heap map come straight from the kernel: zeroed, page
   aligned, untouched pages cost no memory, and munmap gives every byte back
   at once (malloc would keep a freed 2 MiB arena in its heap, so a GUI doing
   run after run grew by one arena each time). */
static void *map_zeroed(uint64_t bytes)
{
    void *p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void unmap(void *p, uint64_t bytes)
{
    if (p)
        munmap(p, (size_t)bytes);
}

static void run_free_memory(engine_run *run)
{
    unmap(run->arena_memory, run->cfg.heap_size);
    free(run->slots);
    free((void *)run->slot_states);
    unmap((void *)run->cell_state, 2 * run->ncells);
    free(run->floor_memory);
    free((void *)run->series);
    free(run->path);
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

    char shown[sizeof ((engine_run *)0)->path_shown];
    path_for_messages(path, shown, sizeof shown);
    /* Non-blocking: opening a FIFO must not wait for a writer.  Then only
       regular files go on: a FIFO, /dev/zero or a socket has no size and may
       never end. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (err)
            err->sys_errno = e;
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* e.g. a socket: ENXIO */
            int code = S_ISDIR(st.st_mode) ? ENGINE_E_IS_DIR : ENGINE_E_NOT_FILE;
            error_set(err, code, "cannot read '%s': it is %s, not a regular file", shown,
                      file_kind(st.st_mode));
            return code;
        }
        error_set(err, ENGINE_E_OPEN, "cannot open '%s': %s", shown, strerror(e));
        return ENGINE_E_OPEN;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        if (err)
            err->sys_errno = e;
        error_set(err, ENGINE_E_OPEN, "cannot open '%s': fstat failed: %s", shown, strerror(e));
        return ENGINE_E_OPEN;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        int code = S_ISDIR(st.st_mode) ? ENGINE_E_IS_DIR : ENGINE_E_NOT_FILE;
        error_set(err, code, "cannot read '%s': it is %s, not a regular file", shown,
                  file_kind(st.st_mode));
        return code;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);

    engine_run *run = calloc(1, sizeof *run);
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
    run->nslots = cfg->strategy == ENGINE_STRATEGY_SINGLE ? 1 : cfg->batch_size;
    run->total_bytes = (uint64_t)st.st_size;
    run->total_blocks = (run->total_bytes + cfg->block_size - 1) / cfg->block_size;
    run->pool_reserved = pools_bytes(cfg);
    run->ncells = cfg->heap_size / ENGINE_CELL_BYTES;

    bool ok = run->path != NULL;
    run->arena_memory = map_zeroed(cfg->heap_size);
    run->slots = aligned_alloc_rounded(128, sizeof(slot_counters) * (run->nslots + 1));
    run->slot_states = calloc(run->nslots + 1, 1);
    ok = ok && run->arena_memory && run->slots && run->slot_states;
    if (ok)
        memset(run->slots, 0, sizeof(slot_counters) * (run->nslots + 1));
    if (ok && cfg->telemetry) {
        run->cell_state = map_zeroed(2 * run->ncells);
        run->series_capacity = cfg->sample_capacity & ~1u; /* halves cleanly */
        run->series = calloc(run->series_capacity, sizeof(uint64_t) * (1 + ENGINE_COUNTER_COUNT));
        ok = run->cell_state && run->series;
        if (ok)
            run->cell_owner = run->cell_state + run->ncells;
    }
    if (ok && cfg->strategy == ENGINE_STRATEGY_FLOOR) {
        uint64_t scratch = FLOOR_SCRATCH_BYTES + cfg->block_size + ARG_RECORD_BYTES;
        run->floor_memory = malloc(scratch * run->nslots);
        ok = run->floor_memory != NULL;
    }
    if (!ok) {
        close(fd);
        run_free_memory(run);
        free(run);
        error_set(err, ENGINE_E_NO_MEMORY, "out of host memory creating the run (heap %llu bytes)",
                  (unsigned long long)cfg->heap_size);
        return ENGINE_E_NO_MEMORY;
    }

    /* mmap gave zeroed memory: every run starts from the same bytes. */
    arena_init(&run->arena, run->arena_memory, cfg->heap_size, run->pool_reserved,
               run->cell_state, run->cell_owner);
    for (uint32_t s = 0; s < run->nslots && run->pool_reserved; s++)
        heap_map_mark(run->cell_state, run->cell_owner, (uint64_t)s * cfg->pool_size,
                      cfg->pool_size, ENGINE_CELL_POOL_RESERVED, (uint8_t)s);

    pthread_mutex_init(&run->heap_lock, NULL);
    pthread_mutex_init(&run->pause_lock, NULL);
    pthread_cond_init(&run->pause_cond, NULL);
    pthread_mutex_init(&run->error_lock, NULL);
    pthread_mutex_init(&run->sampler_lock, NULL);
    /* The sampler's timed wait runs on the monotonic clock: a wall-clock
       change must not stall or hurry it. */
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
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
    pthread_mutex_destroy(&run->heap_lock);
    pthread_mutex_destroy(&run->pause_lock);
    pthread_cond_destroy(&run->pause_cond);
    pthread_mutex_destroy(&run->error_lock);
    pthread_mutex_destroy(&run->sampler_lock);
    pthread_cond_destroy(&run->sampler_cond);
    run_free_memory(run);
    free(run);
}

/* ------------------------------------------------------------ input */

static void fail_input_changed(engine_run *run, uint64_t offset, const char *how)
{
    engine_error err = {0};
    err.block_index = (int64_t)(offset / run->cfg.block_size);
    err.slot = -1;
    error_set(&err, ENGINE_E_INPUT_CHANGED,
              "'%s' %s while being read (it had %llu bytes when the run started): no "
              "signature, run it again on a file that stays put",
              run->path_shown, how, (unsigned long long)run->total_bytes);
    run_fail(run, &err);
}

/* At the announced end: the file must not have grown or been rewritten. */
static bool input_unchanged_at_end(engine_run *run, uint8_t *buf)
{
    ssize_t n;
    do
        n = read(run->fd, buf, 1);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        engine_error err = {.block_index = -1, .slot = -1, .sys_errno = errno};
        error_set(&err, ENGINE_E_READ, "cannot read '%s' at byte %llu: %s", run->path_shown,
                  (unsigned long long)run->total_bytes, strerror(errno));
        run_fail(run, &err);
        return false;
    }
    if (n > 0 && run->total_bytes == 0) {
        /* /proc and /sys files say they are empty and are not. */
        engine_error err = {.block_index = -1, .slot = -1};
        error_set(&err, ENGINE_E_NOT_FILE,
                  "cannot read '%s': it reports a size of 0 bytes but has data (a /proc or "
                  "/sys file?); copy it to a regular file first",
                  run->path_shown);
        run_fail(run, &err);
        return false;
    }
    struct stat st;
    if (n > 0 || (fstat(run->fd, &st) == 0 && (uint64_t)st.st_size > run->total_bytes)) {
        fail_input_changed(run, run->total_bytes, "grew");
        return false;
    }
    if (fstat(run->fd, &st) == 0 &&
        (st.st_mtim.tv_sec != run->input_mtime.tv_sec ||
         st.st_mtim.tv_nsec != run->input_mtime.tv_nsec)) {
        fail_input_changed(run, run->total_bytes, "was modified");
        return false;
    }
    return true;
}

/* Reads the next block, never past the size the file had at the start;
   returns its length, 0 at the end, -1 on error (the run has failed). */
static int64_t read_block(engine_run *run, uint8_t *buf, uint64_t offset)
{
    if (offset >= run->total_bytes)
        return input_unchanged_at_end(run, buf) ? 0 : -1;
    uint64_t want = run->total_bytes - offset, got = 0;
    if (want > run->cfg.block_size)
        want = run->cfg.block_size;
    while (got < want) {
        ssize_t n = read(run->fd, buf + got, want - got);
        if (n == 0) {
            fail_input_changed(run, offset + got, "shrank");
            return -1;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            engine_error err = {0};
            err.block_index = (int64_t)(offset / run->cfg.block_size);
            err.slot = -1;
            err.sys_errno = errno;
            error_set(&err, ENGINE_E_READ, "cannot read '%s' at byte %llu: %s", run->path_shown,
                      (unsigned long long)(offset + got), strerror(errno));
            run_fail(run, &err);
            return -1;
        }
        got += (uint64_t)n;
    }
    return (int64_t)got;
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
    worker w = {.run = run, .arena = &run->arena, .strategy = ENGINE_STRATEGY_SINGLE};
    slot_counters *sc = &run->slots[0];
    uint64_t offset = 0;
    for (int64_t index = 0; run_checkpoint(run, 0); index++) {
        int64_t len = read_block(run, buf, offset);
        if (len <= 0)
            break;
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
    slot_set_state(run, 0, ENGINE_SLOT_IDLE);
    free(buf);
}

/* ------------------------------------------------------------ threaded */

typedef struct {
    worker w;
    pthread_t thread;
    uint64_t result;
    block_args floor_args; /* FLOOR: the argument record off the arena */
} slot_task;

static void *worker_main(void *p)
{
    slot_task *task = p;
    worker *w = &task->w;
    engine_run *run = w->run;
    block_args *args = w->arg_record;
    slot_set_state(run, w->slot, ENGINE_SLOT_COMPUTING);

    uint64_t hash = 0;
    int rc = block_hash(w, args->buffer, args->length, &hash);
    if (w->strategy == ENGINE_STRATEGY_POOLED)
        pooled_show_on_map(w);
    if (rc == ENGINE_OK) {
        *args->result = hash;
        uint64_t length = args->length;
        /* The worker frees what the coordinator handed it: buffer, then record. */
        if (worker_free(w, args->buffer, "block buffer copy") == ENGINE_OK &&
            worker_free(w, args, "argument record") == ENGINE_OK) {
            slot_counters *sc = &run->slots[w->slot];
            counter_add(&sc->v[SC_BLOCKS_DONE], 1);
            counter_add(&sc->v[SC_BYTES_DONE], length);
        }
    }
    slot_set_state(run, w->slot, ENGINE_SLOT_IDLE);
    engine_threads_add(run, -1); /* the last thing this thread does to the run */
    return NULL;
}

/* The coordinator's allocations: on the locked shared region, or off the
   arena entirely for FLOOR. */
static void *coordinator_alloc(engine_run *run, slot_task *task, uint64_t size,
                               const char *what, bool is_record)
{
    if (run->cfg.strategy == ENGINE_STRATEGY_FLOOR)
        return is_record ? (void *)&task->floor_args : task->w.pool + FLOOR_SCRATCH_BYTES;
    return locked_alloc(run, run->nslots, task->w.block_index, size, what);
}

/* Back to "reserved" for the bytes the last batch used. */
static void recycle_pool(engine_run *run, slot_task *task)
{
    worker *w = &task->w;
    if (run->cfg.strategy == ENGINE_STRATEGY_POOLED && w->pool_used) {
        heap_map_mark(run->cell_state, run->cell_owner, (uint64_t)(w->pool - run->arena.base),
                      w->pool_used, ENGINE_CELL_POOL_RESERVED, (uint8_t)w->slot);
        counter_sub(&run->slots[w->slot].v[SC_POOL_BYTES_IN_USE], w->pool_used);
    }
    w->pool_used = 0;
    w->pool_marked = 0;
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
        w->strategy = cfg->strategy;
        w->slot = s;
        if (cfg->strategy == ENGINE_STRATEGY_POOLED) {
            w->pool = run->arena.base + (uint64_t)s * cfg->pool_size;
            w->pool_size = cfg->pool_size;
        } else if (cfg->strategy == ENGINE_STRATEGY_FLOOR) {
            w->pool = run->floor_memory +
                      (uint64_t)s * (FLOOR_SCRATCH_BYTES + cfg->block_size + ARG_RECORD_BYTES);
            w->pool_size = FLOOR_SCRATCH_BYTES;
        }
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
            int64_t len = read_block(run, buf, offset);
            if (len <= 0) {
                at_end = true;
                break;
            }
            slot_task *task = &tasks[s];
            task->w.block_index = next_block;
            task->w.status = ENGINE_OK;
            uint8_t *copy = coordinator_alloc(run, task, (uint64_t)len, "block buffer copy", false);
            if (!copy)
                break;
            memcpy(copy, buf, (size_t)len);
            block_args *args = coordinator_alloc(run, task, ARG_RECORD_BYTES, "argument record", true);
            if (!args)
                break;
            args->block_index = next_block;
            args->buffer = copy;
            args->length = (uint64_t)len;
            args->result = &task->result;
            task->w.arg_record = args;
            engine_threads_add(run, 1);
            int rc = pthread_create(&task->thread, &attr, worker_main, task);
            if (rc != 0) {
                engine_threads_add(run, -1);
                engine_error err = {.block_index = next_block, .slot = (int32_t)s,
                                    .sys_errno = rc};
                error_set(&err, ENGINE_E_THREAD, "cannot create the thread for block %lld: %s",
                          (long long)next_block, strerror(rc));
                run_fail(run, &err);
                break;
            }
            started++;
            next_block++;
            offset += (uint64_t)len;
        }
        /* While it joins, the coordinator changes nothing: it counts as parked
           (see engine_run_is_paused), and parks for real before it recycles. */
        quiescent_add(run, 1);
        for (uint32_t s = 0; s < started; s++)
            pthread_join(tasks[s].thread, NULL);
        quiescent_add(run, -1);
        (void)run_checkpoint(run, coord);
        for (uint32_t s = 0; s < started; s++) {
            if (tasks[s].w.status == ENGINE_OK)
                run->signature = (run->signature + tasks[s].result) % ENGINE_HASH_MODULUS;
            recycle_pool(run, &tasks[s]);
        }
    }
    pthread_attr_destroy(&attr);
    free(tasks);
    free(buf);
}

/* ------------------------------------------------------------ execute */

int engine_run_execute(engine_run *run, engine_error *err)
{
    int expected = ENGINE_RUN_READY;
    if (!atomic_compare_exchange_strong(&run->state, &expected, ENGINE_RUN_RUNNING)) {
        error_set(err, ENGINE_E_STATE, "this run has already been started");
        return ENGINE_E_STATE;
    }
    engine_threads_add(run, 1); /* the coordinator: the thread calling execute */
    atomic_store(&run->t0_ns, now_ns());
    if (run->cfg.telemetry && sampler_start(run) != ENGINE_OK) {
        engine_error e = {.block_index = -1, .slot = -1};
        error_set(&e, ENGINE_E_THREAD, "cannot start the telemetry sampler thread");
        run_fail(run, &e);
    } else if (run->cfg.strategy == ENGINE_STRATEGY_SINGLE) {
        run_single(run);
    } else {
        run_threaded(run);
    }
    atomic_store(&run->wall_ns, now_ns() - atomic_load(&run->t0_ns));
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
    atomic_store(&run->state, code == ENGINE_OK          ? ENGINE_RUN_FINISHED
                              : code == ENGINE_E_CANCELLED ? ENGINE_RUN_CANCELLED
                                                           : ENGINE_RUN_FAILED);
    return code;
}
