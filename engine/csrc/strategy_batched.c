/*
 * Batched ("Strategy C", WORKLOAD.md section 9): each thread slot keeps a
 * small cache per size class (16, 32, 48, 64, 128, 256, 512, 1024, 2048
 * bytes), up to M = cfg.cache_size chunks each.  The cached chunks are
 * ordinary arena chunks (a header, then a payload of exactly the class's
 * size), so:
 * - an allocation from a non-empty cache takes no lock;
 * - an empty cache takes the arena lock once and refills up to M chunks with
 *   umalloc in that one hold (counted once, as an allocation), and at most
 *   REFILL_BYTES of them (at least one chunk): 8 chunks of 2048 at the
 *   default M = 16, so 20 threads' caches cannot swallow the 2 MiB arena
 *   (16 heap arrays each would be 660 KiB; M = 1024 would not fit at all);
 * - a free goes to the cache of its chunk's class (the header's size); when
 *   that cache already holds M chunks they are flushed back with ufree in one
 *   hold (counted once, as a free) before the freed chunk goes in;
 * - requests larger than 2048 bytes, and frees of chunks whose size is not a
 *   class's (the last block's shorter copy), take the locked baseline path.
 * The arena lock is taken with a trylock first; a busy lock is retried after
 * a short backoff (every failed try counted), and after TRY_LIMIT tries the
 * thread waits for it like everybody else, so it never spins for long.
 *
 * Caches are emptied when a block's work ends, in two holds: block_done
 * (on the worker, once its tree is freed) gives back everything cached, so
 * a thread that waits for its batch's end holds no memory the others could
 * use (flushing only after the join kept 20 threads' leftovers, 8 heap
 * arrays each, out of the free list: twice the walking, about twice the
 * time); the block's last two frees (its copy and its argument record) come
 * after block_done, and batch_done gives them back: on the coordinator right
 * after it joined the batch's threads (thread per block; the lock counted on
 * the coordinator's row), on the worker itself after each block (long-lived
 * workers; their caches do not live across blocks).  At the default M it
 * costs no lock: the argument record's free would otherwise find the 32-byte
 * cache full (a block frees exactly the 32-byte chunks its refills took) and
 * flush it anyway.
 * Both worker modes take the same locks per block, and the count does not
 * depend on how threads interleave: a cache only sees its thread's sequence.
 * The coordinator's two allocations per block take the baseline's locked
 * path, as with pooled.
 *
 * A cached chunk's magic word is CACHED_MAGIC, so a second free of it is
 * caught as an invalid free, and ufree never sees it until it is flushed.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BC_CLASSES 9
static const uint32_t class_bytes[BC_CLASSES] = {16, 32, 48, 64, 128, 256, 512, 1024, 2048};

#define CACHED_MAGIC 0xCAC4EDC4ull
#define TRY_LIMIT 4         /* trylocks before waiting on the lock */
#define REFILL_BYTES 16384u /* payload bytes one refill takes at most */

typedef struct {
    _Alignas(128) void *head[BC_CLASSES]; /* linked through the payload's first word */
    uint32_t count[BC_CLASSES];
} thread_cache;

static int class_of(uint64_t size)
{
    uint64_t want = (size + 15u) & ~(uint64_t)15u;
    if (want == 0)
        return -1;
    if (want <= 64)
        return (int)(want / 16) - 1;
    for (int c = 4; c < BC_CLASSES; c++)
        if (want <= class_bytes[c])
            return c;
    return -1;
}

/* The class whose chunks have exactly this payload, or -1. */
static int class_exact(uint64_t payload)
{
    int c = class_of(payload);
    return c >= 0 && class_bytes[c] == payload ? c : -1;
}

static int batched_run_init(engine_run *run)
{
    thread_cache *caches = aligned_alloc_rounded(128, sizeof *caches * run->nslots);
    if (!caches)
        return ENGINE_E_NO_MEMORY;
    memset(caches, 0, sizeof *caches * run->nslots);
    run->strategy_state = caches;
    return ENGINE_OK;
}

static void batched_run_destroy(engine_run *run)
{
    free(run->strategy_state);
    run->strategy_state = NULL;
}

static void batched_worker_init(worker *w)
{
    w->state = &((thread_cache *)w->run->strategy_state)[w->slot];
}

/* The arena lock, trylock first: a busy lock is tried again after a backoff
   that doubles each time (in slow motion the holder sleeps, so yield
   instead); after TRY_LIMIT failed tries, wait for it. */
static void take_arena_lock(engine_run *run, uint32_t slot, int counter)
{
    for (int attempt = 0; attempt < TRY_LIMIT; attempt++) {
        if (run_trylock(run, slot, &run->arena_lock, counter))
            return;
        slot_set_state(run, slot, ENGINE_SLOT_WAITING);
        slot_enter(run, slot, ENGINE_T_LOCK_WAIT);
        if (run_is_slowed(run)) {
            sched_yield();
        } else {
            for (uint32_t i = 0; i < (64u << attempt); i++)
                cpu_relax();
        }
    }
    run_lock(run, slot, &run->arena_lock, counter);
}

static chunk *header_of(void *payload)
{
    return (chunk *)((uint8_t *)payload - HEADER_BYTES);
}

static void show(engine_run *run, void *payload, uint64_t bytes, uint8_t state, uint8_t owner)
{
    if (!run->cell_state)
        return;
    uint64_t off = (uint64_t)((uint8_t *)payload - run->arena.base);
    if (state == ENGINE_CELL_CACHED) {
        heap_map_mark(run->cell_state, run->cell_owner, off - HEADER_BYTES, HEADER_BYTES + bytes,
                      ENGINE_CELL_CACHED, owner);
    } else {
        heap_map_mark(run->cell_state, run->cell_owner, off - HEADER_BYTES, HEADER_BYTES,
                      ENGINE_CELL_HEADER, owner);
        heap_map_mark(run->cell_state, run->cell_owner, off, bytes, state, owner);
    }
}

/* Up to M chunks of class c in one hold of the arena lock; false (the run
   failed) when not even one fits. */
static bool refill(worker *w, thread_cache *tc, int c, const char *what)
{
    engine_run *run = w->run;
    uint32_t m = REFILL_BYTES / class_bytes[c];
    if (m > run->cfg.cache_size)
        m = run->cfg.cache_size;
    uint8_t owner = (uint8_t)w->slot;
    take_arena_lock(run, w->slot, SC_ACQ_ALLOC);
    void **tail = &tc->head[c];
    uint32_t got = 0;
    for (; got < m; got++) {
        void *p = arena_umalloc(&run->arena, class_bytes[c], owner, true);
        if (!p)
            break;
        header_of(p)->magic = CACHED_MAGIC;
        show(run, p, class_bytes[c], ENGINE_CELL_CACHED, owner);
        *tail = p; /* in address order as umalloc hands them out */
        tail = (void **)p;
    }
    *tail = NULL;
    tc->count[c] = got;
    if (got == 0)
        run_fail_exhausted(run, w->slot, w->block_index, class_bytes[c], what);
    else
        run_slow_motion(run, w->slot);
    run_unlock(run, w->slot, &run->arena_lock);
    if (got == 0) {
        w->status = ENGINE_E_HEAP_EXHAUSTED;
        return false;
    }
    counter_add(&run->slots[w->slot].v[SC_CACHE_REFILLS], 1);
    return true;
}

/* Gives class c's cached chunks back with ufree (arena lock held). */
static int give_back(engine_run *run, thread_cache *tc, int c)
{
    int rc = ENGINE_OK;
    while (tc->head[c]) {
        void *p = tc->head[c];
        tc->head[c] = *(void **)p;
        header_of(p)->magic = CHUNK_MAGIC;
        engine_error err = {0};
        if (arena_ufree(&run->arena, p, true, &err) != ENGINE_OK && rc == ENGINE_OK) {
            err.block_index = -1;
            err.slot = -1;
            run_fail(run, &err);
            rc = ENGINE_E_INVALID_FREE;
        }
    }
    tc->count[c] = 0;
    return rc;
}

/* One hold: class c's cache (c >= 0) or every class's (c < 0), the lock
   accounted to slot acct (the thread doing it). */
static int flush(engine_run *run, thread_cache *tc, int c, uint32_t acct)
{
    bool any = false;
    for (int k = 0; k < BC_CLASSES; k++)
        any = any || ((c < 0 || k == c) && tc->count[k]);
    if (!any)
        return ENGINE_OK;
    take_arena_lock(run, acct, SC_ACQ_FREE);
    int rc = ENGINE_OK;
    for (int k = 0; k < BC_CLASSES; k++)
        if ((c < 0 || k == c) && tc->count[k] && give_back(run, tc, k) != ENGINE_OK)
            rc = ENGINE_E_INVALID_FREE;
    run_unlock(run, acct, &run->arena_lock);
    counter_add(&run->slots[acct].v[SC_CACHE_FLUSHES], 1);
    return rc;
}

static void *batched_alloc(worker *w, uint64_t size, const char *what)
{
    int c = class_of(size);
    if (c < 0)
        return baseline_alloc(w, size, what);
    thread_cache *tc = w->state;
    if (!tc->count[c] && !refill(w, tc, c, what))
        return NULL;
    void *p = tc->head[c];
    tc->head[c] = *(void **)p;
    tc->count[c]--;
    header_of(p)->magic = CHUNK_MAGIC;
    show(w->run, p, class_bytes[c], ENGINE_CELL_GLOBAL, (uint8_t)w->slot);
    run_slow_motion(w->run, w->slot);
    return p;
}

static int batched_free(worker *w, void *ptr, const char *what)
{
    engine_run *run = w->run;
    uint8_t *p = ptr;
    const engine_arena *a = &run->arena;
    /* Anything that is not a plain allocated chunk of a class's size: the
       baseline's ufree frees it or says what is wrong with it. */
    if (!p || p < a->region + HEADER_BYTES || p >= a->region + a->region_size ||
        (uint64_t)(p - a->base) % 16 != 0)
        return baseline_free(w, ptr, what);
    chunk *h = header_of(p);
    int c = h->magic == CHUNK_MAGIC ? class_exact(h->size) : -1;
    if (c < 0)
        return baseline_free(w, ptr, what);
    thread_cache *tc = w->state;
    if (tc->count[c] >= run->cfg.cache_size) {
        int rc = flush(run, tc, c, w->slot);
        if (rc != ENGINE_OK)
            return rc;
    }
    h->magic = CACHED_MAGIC;
    *(void **)p = tc->head[c];
    tc->head[c] = p;
    tc->count[c]++;
    show(run, p, class_bytes[c], ENGINE_CELL_CACHED, (uint8_t)w->slot);
    return ENGINE_OK;
}

/* The block's tree is freed (see the top): everything cached goes back. */
static void batched_block_done(worker *w)
{
    if (flush(w->run, w->state, -1, w->slot) != ENGINE_OK)
        w->status = ENGINE_E_INVALID_FREE;
}

/* The thread's block is over: its copy and argument record go back. */
static void batched_batch_done(worker *w)
{
    engine_run *run = w->run;
    uint32_t acct = run->cfg.workers ? w->slot : run->nslots;
    if (flush(run, w->state, -1, acct) != ENGINE_OK)
        w->status = ENGINE_E_INVALID_FREE;
}

const strategy_ops strategy_batched = {
    .name = "batched",
    .threaded = true,
    .run_init = batched_run_init,
    .run_destroy = batched_run_destroy,
    .worker_init = batched_worker_init,
    .alloc = batched_alloc,
    .free = batched_free,
    .block_done = batched_block_done,
    .batch_done = batched_batch_done,
};
