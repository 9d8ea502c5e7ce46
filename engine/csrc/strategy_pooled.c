/*
 * Pooled ("Strategy A"): each thread slot bumps a pointer through its own pool
 * at the start of the arena without any lock; only what does not fit goes to
 * the locked global allocator.  Pool frees are no-ops; the coordinator
 * recycles the pools between batches.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The heap map and the slot's counters learn of pool use in strides rather
   than per allocation: a pool fills front to back, so the used cells are
   exactly its first pool->used bytes.  In slow motion they are published
   512 bytes at a time, which keeps the map and counters live to within a
   few tree nodes; at full speed (and without telemetry) only at the end of
   each block, which comes every few tens of microseconds, far more often
   than a frame: publishing strides at full speed cost pooled 1-2% of its
   wall time with telemetry on (1 MiB and 5 MiB, A/Bs of 61-301 runs).  The
   fast path then touches only the worker's own bump_region, which is what
   lets a pool keep up with the floor (bench/allocators.py). */
#define MAP_STRIDE_BYTES 512u

static uint64_t pooled_reserved_bytes(const engine_config *cfg)
{
    return cfg->pool_size * engine_config_thread_slots(cfg);
}

static int pooled_run_init(engine_run *run)
{
    bump_region *pools = aligned_alloc_rounded(_Alignof(bump_region), run->nslots * sizeof *pools);
    if (!pools)
        return ENGINE_E_NO_MEMORY;
    memset(pools, 0, run->nslots * sizeof *pools);
    for (uint32_t s = 0; s < run->nslots; s++) {
        pools[s].base = run->arena.base + (uint64_t)s * run->cfg.pool_size;
        pools[s].size = run->cfg.pool_size;
        heap_map_mark(run->cell_state, run->cell_owner, (uint64_t)s * run->cfg.pool_size,
                      run->cfg.pool_size, ENGINE_CELL_POOL_RESERVED, (uint8_t)s);
    }
    run->strategy_state = pools;
    return ENGINE_OK;
}

static void pooled_run_destroy(engine_run *run)
{
    free(run->strategy_state);
    run->strategy_state = NULL;
}

/* When the fast path publishes next: a stride past what is shown, or never
   (only at the block's end) without a heap map. */
static void set_publish_at(const engine_run *run, bump_region *pool)
{
    pool->publish_at = run->cell_state ? pool->marked + MAP_STRIDE_BYTES : UINT64_MAX;
}

/* Slow motion is looked at when a block starts and on every slow-path
   call, not on every allocation: at full speed the fast path is one compare
   against the pool's end, as the floor's is (bench/allocators.py).  A switch
   to slow motion therefore takes effect at the next block, which at full
   speed is a few tens of microseconds away. */
static void arm_fast_path(const engine_run *run, bump_region *pool)
{
    pool->fast_limit = run_is_slowed(run) ? 0 : pool->size;
}

static void pooled_worker_init(worker *w)
{
    bump_region *pool = &((bump_region *)w->run->strategy_state)[w->slot];
    set_publish_at(w->run, pool);
    arm_fast_path(w->run, pool);
    w->state = pool;
}

static void publish(worker *w, bump_region *pool)
{
    engine_run *run = w->run;
    slot_counters *sc = &run->slots[w->slot];
    if (pool->used > pool->marked) {
        heap_map_mark(run->cell_state, run->cell_owner,
                      (uint64_t)(pool->base - run->arena.base) + pool->marked,
                      pool->used - pool->marked, ENGINE_CELL_POOL_USED, (uint8_t)w->slot);
        counter_add(&sc->v[SC_POOL_BYTES_IN_USE], pool->used - pool->marked);
        pool->marked = pool->used;
    }
    if (pool->unpublished_allocs) {
        counter_add(&sc->v[SC_POOL_ALLOCS], pool->unpublished_allocs);
        pool->unpublished_allocs = 0;
    }
    if (pool->unpublished_frees) {
        counter_add(&sc->v[SC_POOL_FREES], pool->unpublished_frees);
        pool->unpublished_frees = 0;
    }
    set_publish_at(run, pool);
}

/* Bumps the pool to `used` bytes (the caller checked that they fit). */
static inline void *pool_take(bump_region *pool, uint64_t used)
{
    uint8_t *p = pool->base + pool->used;
    pool->used = used;
    pool->unpublished_allocs++;
    return p;
}

/* In slow motion, or when the pool is full (`used`: the pool's use with this
   allocation).  Kept out of line: inlined, it made the fast path save and
   restore four registers on every allocation (perf annotate), which cost
   pooled more than the allocation itself. */
__attribute__((noinline)) static void *pooled_alloc_slow(worker *w, uint64_t size, uint64_t used,
                                                         const char *what)
{
    bump_region *pool = w->state;
    if (size != 0 && used <= pool->size) {
        void *p = pool_take(pool, used);
        if (run_is_slowed(w->run)) {
            if (used >= pool->publish_at)
                publish(w, pool);
            run_slow_motion(w->run, w->slot);
        }
        arm_fast_path(w->run, pool); /* back at full speed: the rest of the block too */
        return p;
    }
    publish(w, pool); /* the pool is full: show all of it */
    return baseline_alloc(w, size, what);
}

static void *pooled_alloc(worker *w, uint64_t size, const char *what)
{
    bump_region *pool = w->state;
    uint64_t used = pool->used + ((size + 15u) & ~(uint64_t)15u);
    if (size != 0 && used <= pool->fast_limit)
        return pool_take(pool, used);
    return pooled_alloc_slow(w, size, used, what);
}

/* A worker frees only what it allocated: from its own pool, or from the
   shared region when the pool was full (or the coordinator's copies). */
static int pooled_free(worker *w, void *ptr, const char *what)
{
    bump_region *pool = w->state;
    uint8_t *p = ptr;
    if (p >= pool->base && p < pool->base + pool->size) {
        pool->unpublished_frees++;
        return ENGINE_OK;
    }
    return baseline_free(w, ptr, what);
}

static void pooled_block_done(worker *w)
{
    publish(w, w->state);
}

/* Back to "reserved" for the bytes the last batch used. */
static void pooled_batch_done(worker *w)
{
    engine_run *run = w->run;
    bump_region *pool = w->state;
    publish(w, pool); /* normally done at the block's end already */
    if (pool->used) {
        heap_map_mark(run->cell_state, run->cell_owner, (uint64_t)(pool->base - run->arena.base),
                      pool->used, ENGINE_CELL_POOL_RESERVED, (uint8_t)w->slot);
        counter_sub(&run->slots[w->slot].v[SC_POOL_BYTES_IN_USE], pool->used);
    }
    pool->used = 0;
    pool->marked = 0;
    set_publish_at(run, pool);
    arm_fast_path(run, pool);
}

const strategy_ops strategy_pooled = {
    .name = "pooled",
    .threaded = true,
    .reserved_bytes = pooled_reserved_bytes,
    .run_init = pooled_run_init,
    .run_destroy = pooled_run_destroy,
    .worker_init = pooled_worker_init,
    .alloc = pooled_alloc,
    .free = pooled_free,
    .block_done = pooled_block_done,
    .batch_done = pooled_batch_done,
};
