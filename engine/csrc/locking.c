/*
 * The global allocator lock.  Every acquisition is counted (umalloc and ufree
 * separately); a trylock first tells whether the lock was busy, and only then
 * is the wait timed.  With telemetry on, the time the lock is held (in the
 * allocator) is timed too: two clock reads per locked call (three when it
 * waits), never on a pool's fast path.
 */
#include <stdio.h>

#include "internal.h"

static void lock_acquire(engine_run *run, uint32_t slot, int counter)
{
    slot_counters *sc = &run->slots[slot];
    if (pthread_mutex_trylock(&run->heap_lock) != 0) {
        slot_set_state(run, slot, ENGINE_SLOT_WAITING);
        slot_enter(run, slot, ENGINE_T_LOCK_WAIT);
        pthread_mutex_lock(&run->heap_lock);
        counter_add(&sc->v[SC_CONTENDED], 1);
    }
    slot_enter(run, slot, ENGINE_T_IN_ALLOCATOR);
    counter_add(&sc->v[counter], 1);
    counter_add(&sc->v[SC_MID_BLOCK_SUM], atomic_load_explicit(&run->mid_block, RELAXED));
    slot_set_state(run, slot, ENGINE_SLOT_HOLDING);
}

static void lock_release(engine_run *run, uint32_t slot)
{
    /* back to computing; the coordinator has no compute state (WORKLOAD.md 10) */
    slot_enter(run, slot, slot == run->nslots ? ENGINE_T_IDLE : ENGINE_T_COMPUTE);
    pthread_mutex_unlock(&run->heap_lock);
    slot_set_state(run, slot, ENGINE_SLOT_COMPUTING);
}

void *locked_alloc(engine_run *run, uint32_t slot, int64_t block, uint64_t size, const char *what)
{
    lock_acquire(run, slot, SC_ACQ_ALLOC);
    uint8_t owner = slot == run->nslots ? ENGINE_OWNER_COORDINATOR : (uint8_t)slot;
    void *p = arena_umalloc(&run->arena, size, owner);
    if (p)
        run_slow_motion(run, slot); /* inside the lock: the others really queue */
    else
        run_fail_exhausted(run, slot, block, size, what);
    lock_release(run, slot);
    return p;
}

int locked_free(engine_run *run, uint32_t slot, int64_t block, void *ptr, const char *what)
{
    engine_error err = {0};
    lock_acquire(run, slot, SC_ACQ_FREE);
    int rc = arena_ufree(&run->arena, ptr, &err);
    lock_release(run, slot);
    if (rc != ENGINE_OK) {
        err.block_index = block;
        err.slot = slot == run->nslots ? ENGINE_OWNER_COORDINATOR : (int32_t)slot;
        snprintf(err.what, sizeof err.what, "%s", what);
        run_fail(run, &err);
    }
    return rc;
}
