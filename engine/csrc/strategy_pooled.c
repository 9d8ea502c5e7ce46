/*
 * Pooled ("Strategy A"): each thread slot bumps a pointer through its own pool
 * at the start of the arena without any lock; only what does not fit goes to
 * the locked global allocator.  Pool frees are no-ops; the coordinator
 * recycles the pools between batches.
 */
#include "internal.h"

/* The heap map learns of pool use in strides rather than per allocation: a
   pool fills front to back, so the used cells are exactly its first
   pool_used bytes, and marking them 512 bytes at a time keeps the map live
   to within a few tree nodes at a fraction of the cost. */
#define MAP_STRIDE_BYTES 512u

void pooled_show_on_map(worker *w)
{
    engine_run *run = w->run;
    if (w->pool_used > w->pool_marked) {
        heap_map_mark(run->cell_state, run->cell_owner,
                      (uint64_t)(w->pool - run->arena.base) + w->pool_marked,
                      w->pool_used - w->pool_marked, ENGINE_CELL_POOL_USED, (uint8_t)w->slot);
        w->pool_marked = w->pool_used;
    }
}

void *pooled_alloc(worker *w, uint64_t size, const char *what)
{
    uint64_t want = (size + 15u) & ~(uint64_t)15u;
    if (size != 0 && w->pool_used + want <= w->pool_size) {
        uint8_t *p = w->pool + w->pool_used;
        engine_run *run = w->run;
        w->pool_used += want;
        if (w->pool_used - w->pool_marked >= MAP_STRIDE_BYTES)
            pooled_show_on_map(w);
        slot_counters *sc = &run->slots[w->slot];
        counter_add(&sc->v[SC_POOL_ALLOCS], 1);
        counter_add(&sc->v[SC_POOL_BYTES_IN_USE], want);
        run_slow_motion(run, w->slot);
        return p;
    }
    pooled_show_on_map(w); /* the pool is full: show all of it */
    return baseline_alloc(w, size, what);
}

int pooled_free(worker *w, void *ptr, const char *what)
{
    engine_run *run = w->run;
    uint8_t *p = ptr;
    if (p >= run->arena.base && p < run->arena.base + run->pool_reserved) {
        counter_add(&run->slots[w->slot].v[SC_POOL_FREES], 1);
        return ENGINE_OK;
    }
    return baseline_free(w, ptr, what);
}
