/*
 * The allocator locks, of the run's kind (mutex, spin, adaptive), and the
 * accounting every locked path shares.  Every acquisition is counted (umalloc and ufree
 * separately); a trylock first tells whether the lock was busy, and only then
 * is the wait timed.  With telemetry on, the time the lock is held (in the
 * allocator) is timed too: two clock reads per locked call (three when it
 * waits), never on a pool's fast path.
 */
#include <sched.h>
#include <stdio.h>

#include "internal.h"

/* ------------------------------------------------------------ raw locks */

int alloc_lock_init(alloc_lock *l, int kind)
{
    l->kind = kind;
    atomic_init(&l->spin, 0);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (kind == ENGINE_LOCK_ADAPTIVE)
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    int rc = pthread_mutex_init(&l->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    return rc == 0 ? ENGINE_OK : ENGINE_E_NO_MEMORY;
}

void alloc_lock_destroy(alloc_lock *l)
{
    pthread_mutex_destroy(&l->mutex);
}

static bool raw_trylock(alloc_lock *l)
{
    if (l->kind != ENGINE_LOCK_SPIN)
        return pthread_mutex_trylock(&l->mutex) == 0;
    return atomic_load_explicit(&l->spin, RELAXED) == 0 &&
           !atomic_exchange_explicit(&l->spin, 1, memory_order_acquire);
}

/* Test-and-test-and-set: spin on a plain load (the cache line stays shared)
   and only then try the exchange.  In slow motion the holder sleeps inside
   the lock, so waiters yield their core instead of burning it (the GUI must
   keep one). */
static void raw_lock(engine_run *run, alloc_lock *l)
{
    if (l->kind != ENGINE_LOCK_SPIN) {
        pthread_mutex_lock(&l->mutex);
        return;
    }
    for (;;) {
        if (!atomic_exchange_explicit(&l->spin, 1, memory_order_acquire))
            return;
        while (atomic_load_explicit(&l->spin, RELAXED)) {
            if (run_is_slowed(run))
                sched_yield();
            else
                cpu_relax();
        }
    }
}

static void raw_unlock(alloc_lock *l)
{
    if (l->kind != ENGINE_LOCK_SPIN)
        pthread_mutex_unlock(&l->mutex);
    else
        atomic_store_explicit(&l->spin, 0, memory_order_release);
}

/* ------------------------------------------------------------ accounted */

/* The clock read of an uncontended acquisition (most of them) happens before
   the lock is taken, not inside the critical section: the baseline's time is
   its critical sections, and telemetry must not lengthen them. */

static void acquired(engine_run *run, uint32_t slot, int counter)
{
    slot_counters *sc = &run->slots[slot];
    counter_add(&sc->v[counter], 1);
    counter_add(&sc->v[SC_MID_BLOCK_SUM], atomic_load_explicit(&run->mid_block, RELAXED));
    slot_set_state(run, slot, ENGINE_SLOT_HOLDING);
}

void run_lock(engine_run *run, uint32_t slot, alloc_lock *l, int counter)
{
    /* In the allocator from just before the lock is tried: uncontended (most
       acquisitions), the critical section reads no clock; contended, the few
       nanoseconds of the failed try count as allocator time. */
    slot_enter(run, slot, ENGINE_T_IN_ALLOCATOR);
    if (!raw_trylock(l)) {
        slot_set_state(run, slot, ENGINE_SLOT_WAITING);
        slot_enter(run, slot, ENGINE_T_LOCK_WAIT);
        raw_lock(run, l);
        slot_enter(run, slot, ENGINE_T_IN_ALLOCATOR);
        counter_add(&run->slots[slot].v[SC_CONTENDED], 1);
    }
    acquired(run, slot, counter);
}

bool run_trylock(engine_run *run, uint32_t slot, alloc_lock *l, int counter)
{
    if (!raw_trylock(l)) {
        counter_add(&run->slots[slot].v[SC_TRYLOCK_FAILS], 1);
        return false;
    }
    slot_enter(run, slot, ENGINE_T_IN_ALLOCATOR);
    acquired(run, slot, counter);
    return true;
}

void run_unlock(engine_run *run, uint32_t slot, alloc_lock *l)
{
    /* Back to computing (the coordinator has no compute state, WORKLOAD.md 10)
       before the unlock: the unlock wakes a waiter that often takes this core,
       and the time until this thread runs again is not the lock's. */
    int after = slot == run->nslots ? ENGINE_T_IDLE : ENGINE_T_COMPUTE;
    uint64_t now = slot_enter(run, slot, after);
    raw_unlock(l);
    slot_set_state(run, slot, ENGINE_SLOT_COMPUTING);
    if (sampler_is_due(run, now)) {
        /* a sample is due (sampler_start): taken outside the lock, as idle */
        slot_enter(run, slot, ENGINE_T_IDLE);
        sampler_take(run);
        slot_enter(run, slot, after);
    }
}

/* ------------------------------------------------------------ the arena */

/* The heap map's cells of the chunk a locked call takes or gives back are
   marked outside the lock at full speed: the baseline's critical sections
   are its wall time, and every nanosecond added there is paid again by the
   threads piling up behind the lock (README, Benchmark).  No other thread
   can write those cells meanwhile: a chunk is its caller's from the moment
   umalloc returns it until ufree puts it back, so its "allocated" cells are
   marked after the unlock and its "free" cells before the lock.  In slow
   motion the marks stay inside the lock, so the map shows each step as it
   happens rather than one step late (or a queued chunk free early). */

void *locked_alloc(engine_run *run, uint32_t slot, int64_t block, uint64_t size, const char *what)
{
    run_lock(run, slot, &run->arena_lock, SC_ACQ_ALLOC);
    uint8_t owner = slot == run->nslots ? ENGINE_OWNER_COORDINATOR : (uint8_t)slot;
    bool mark_in_lock = run_is_slowed(run);
    void *p = arena_umalloc(&run->arena, size, owner, mark_in_lock);
    if (p)
        run_slow_motion(run, slot); /* inside the lock: the others really queue */
    else
        run_fail_exhausted(run, slot, block, size, what);
    run_unlock(run, slot, &run->arena_lock);
    if (p && !mark_in_lock)
        arena_mark_allocated(&run->arena, p, owner);
    return p;
}

int locked_free(engine_run *run, uint32_t slot, int64_t block, void *ptr, const char *what)
{
    engine_error err = {0};
    bool mark_in_lock = run_is_slowed(run);
    if (!mark_in_lock)
        arena_mark_freeing(&run->arena, ptr);
    run_lock(run, slot, &run->arena_lock, SC_ACQ_FREE);
    int rc = arena_ufree(&run->arena, ptr, mark_in_lock, &err);
    run_unlock(run, slot, &run->arena_lock);
    if (rc != ENGINE_OK) {
        err.block_index = block;
        err.slot = slot == run->nslots ? ENGINE_OWNER_COORDINATOR : (int32_t)slot;
        snprintf(err.what, sizeof err.what, "%s", what);
        run_fail(run, &err);
    }
    return rc;
}
