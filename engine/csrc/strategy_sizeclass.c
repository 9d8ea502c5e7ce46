/*
 * Size classes ("Strategy B", WORKLOAD.md section 9): requests rounded up to
 * 16 bytes go to the classes 16, 32, 48, 64, 128, 256, 512, 1024 and 2048;
 * larger ones take the baseline's locked path.  Each class has its own lock
 * (of the run's lock kind) and its own LIFO free list of equal-sized slots,
 * never coalesced.  A class with no free slot takes one slab (cfg.slab_size)
 * from the shared arena through the baseline allocator, under the arena lock
 * (counted: the class lock and the arena lock are both acquisitions), and
 * carves it on demand.  Slabs never go back to the arena.
 *
 * Every allocation goes through the classes, the coordinator's block copy and
 * argument record included (coordinator_alloc), so a block takes one class
 * lock per allocation and per free, 2 x (2k + 3) as the baseline, plus one
 * arena lock per slab refill; what changes is that each hold is a few
 * instructions instead of a free-list walk, and that different sizes do not
 * wait for one another.
 *
 * Finding a slot's class on free: a byte per 16-byte cell of the arena (the
 * slot map, the strategy's own, present without telemetry too) says which
 * class's slab the cell is in, whether a slot starts there and whether that
 * slot is free.  Slots are multiples of 16 bytes in slabs whose payload is
 * 16-byte aligned, so every allocation stays 16-byte aligned.
 *
 * Lock order: a class lock, then the arena lock (refill); never the reverse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SC_CLASSES 9
static const uint32_t class_bytes[SC_CLASSES] = {16, 32, 48, 64, 128, 256, 512, 1024, 2048};

/* Slot map byte: 0 = not in a slab; low 4 bits = class index + 1 for every
   cell of a slab's payload; SLOT_START where a slot begins; SLOT_FREE on a
   slot start while the slot is not allocated (carved or not). */
#define MAP_CLASS_MASK 0x0fu
#define MAP_SLOT_START 0x40u
#define MAP_SLOT_FREE 0x80u

typedef struct {
    _Alignas(128) alloc_lock lock;
    /* under lock */
    void *free_list; /* freed slots, linked through their first word */
    uint8_t *carve;  /* the newest slab's next never-used slot */
    uint8_t *carve_end;
} size_class;

typedef struct {
    size_class classes[SC_CLASSES];
    int locks_made;         /* class locks initialised (for a partial init) */
    atomic_u8 *slot_map;    /* one byte per arena cell */
    _Atomic uint64_t slabs; /* every class's, for the exhaustion message */
} sizeclass_state;

/* Class index for a request, or -1 when larger than the biggest class. */
static int class_of(uint64_t size)
{
    uint64_t want = (size + 15u) & ~(uint64_t)15u;
    if (want <= 64)
        return want == 0 ? 0 : (int)(want / 16) - 1;
    for (int c = 4; c < SC_CLASSES; c++)
        if (want <= class_bytes[c])
            return c;
    return -1;
}

static void sizeclass_run_destroy(engine_run *run)
{
    sizeclass_state *st = run->strategy_state;
    if (!st)
        return;
    for (int c = 0; c < st->locks_made; c++)
        alloc_lock_destroy(&st->classes[c].lock);
    free((void *)st->slot_map);
    free(st);
    run->strategy_state = NULL;
}

static int sizeclass_run_init(engine_run *run)
{
    sizeclass_state *st = aligned_alloc_rounded(128, sizeof *st);
    if (!st)
        return ENGINE_E_NO_MEMORY;
    memset(st, 0, sizeof *st);
    run->strategy_state = st;
    st->slot_map = calloc(run->cfg.heap_size / ENGINE_CELL_BYTES, 1);
    if (!st->slot_map) {
        sizeclass_run_destroy(run);
        return ENGINE_E_NO_MEMORY;
    }
    for (int c = 0; c < SC_CLASSES; c++) {
        if (alloc_lock_init(&st->classes[c].lock, run->cfg.lock_kind) != ENGINE_OK) {
            sizeclass_run_destroy(run);
            return ENGINE_E_NO_MEMORY;
        }
        st->locks_made = c + 1;
    }
    return ENGINE_OK;
}

static uint64_t cell_of(const engine_run *run, const void *p)
{
    return (uint64_t)((const uint8_t *)p - run->arena.base) / ENGINE_CELL_BYTES;
}

static const char *who(const engine_run *run, uint32_t slot, char *buf, size_t len)
{
    if (slot >= run->nslots)
        snprintf(buf, len, "the coordinator");
    else
        snprintf(buf, len, "thread slot T%u", slot);
    return buf;
}

/* Takes a slab for class c from the arena (class lock held): counted under
   the arena lock.  false = the arena has no room left: the run has failed
   with a message saying so. */
static bool refill(engine_run *run, sizeclass_state *st, int c, uint32_t slot, int64_t block,
                   const char *what)
{
    size_class *cls = &st->classes[c];
    uint64_t slab = run->cfg.slab_size;
    uint8_t owner = slot >= run->nslots ? ENGINE_OWNER_COORDINATOR : (uint8_t)slot;
    run_lock(run, slot, &run->arena_lock, SC_ACQ_ALLOC);
    uint8_t *p = arena_umalloc(&run->arena, slab, owner, true);
    if (!p) {
        engine_error err = {0};
        err.code = ENGINE_E_HEAP_EXHAUSTED;
        err.block_index = block;
        err.slot = slot >= run->nslots ? ENGINE_OWNER_COORDINATOR : (int32_t)slot;
        err.requested = slab;
        arena_describe(&run->arena, &err.arena_free_bytes, &err.largest_free,
                       &err.free_list_length);
        snprintf(err.what, sizeof err.what, "slab for size class %u (%s)", class_bytes[c], what);
        char by[32];
        error_set(&err, ENGINE_E_HEAP_EXHAUSTED,
                  "heap exhausted: %s needs a new %llu-byte slab for size class %u (%s) for "
                  "block %lld, and the shared region has %llu bytes free in %llu chunks, the "
                  "largest %llu bytes (heap %llu bytes; %llu slabs taken by the size classes, "
                  "which never give them back)",
                  who(run, slot, by, sizeof by), (unsigned long long)slab, class_bytes[c], what,
                  (long long)block, (unsigned long long)err.arena_free_bytes,
                  (unsigned long long)err.free_list_length, (unsigned long long)err.largest_free,
                  (unsigned long long)run->cfg.heap_size,
                  (unsigned long long)atomic_load_explicit(&st->slabs, RELAXED));
        run_fail(run, &err);
        run_unlock(run, slot, &run->arena_lock);
        /* back in the class lock's hold */
        slot_enter(run, slot, ENGINE_T_IN_ALLOCATOR);
        slot_set_state(run, slot, ENGINE_SLOT_HOLDING);
        return false;
    }
    run_slow_motion(run, slot);
    run_unlock(run, slot, &run->arena_lock);
    slot_enter(run, slot, ENGINE_T_IN_ALLOCATOR); /* still holding the class lock */
    slot_set_state(run, slot, ENGINE_SLOT_HOLDING);

    /* The slot map before any slot is handed out: a free on another thread
       reads it after the allocation reached it (a happens-before chain). */
    uint64_t first = cell_of(run, p), cells = slab / ENGINE_CELL_BYTES;
    uint32_t step = class_bytes[c] / ENGINE_CELL_BYTES;
    uint64_t usable = slab / class_bytes[c] * step; /* cells in whole slots */
    for (uint64_t i = 0; i < cells; i++) {
        uint8_t v = (uint8_t)(c + 1);
        if (i < usable && i % step == 0)
            v |= MAP_SLOT_START | MAP_SLOT_FREE;
        atomic_store_explicit(&st->slot_map[first + i], v, RELAXED);
    }
    heap_map_mark(run->cell_state, run->cell_owner, first * ENGINE_CELL_BYTES, slab,
                  ENGINE_CELL_SLAB, (uint8_t)c);
    cls->carve = p;
    cls->carve_end = p + usable * ENGINE_CELL_BYTES;
    atomic_fetch_add_explicit(&st->slabs, 1, RELAXED);
    counter_add(&run->slots[slot].v[SC_SLAB_REFILLS], 1);
    return true;
}

/* An allocation for slot (a worker's, or the coordinator's = nslots). */
static void *class_alloc(engine_run *run, uint32_t slot, int64_t block, uint64_t size,
                         const char *what)
{
    int c = class_of(size);
    if (c < 0 || size == 0)
        return locked_alloc(run, slot, block, size, what);
    sizeclass_state *st = run->strategy_state;
    size_class *cls = &st->classes[c];
    run_lock(run, slot, &cls->lock, SC_ACQ_ALLOC);
    uint8_t *p = cls->free_list;
    if (p) {
        cls->free_list = *(void **)p;
    } else if (cls->carve < cls->carve_end || refill(run, st, c, slot, block, what)) {
        p = cls->carve;
        cls->carve += class_bytes[c];
    }
    if (p) {
        atomic_u8 *m = &st->slot_map[cell_of(run, p)];
        atomic_store_explicit(m, (uint8_t)(atomic_load_explicit(m, RELAXED) & ~MAP_SLOT_FREE),
                              RELAXED);
        run_slow_motion(run, slot); /* inside the lock: the class's others really queue */
    }
    run_unlock(run, slot, &cls->lock);
    return p;
}

static void *sizeclass_alloc(worker *w, uint64_t size, const char *what)
{
    void *p = class_alloc(w->run, w->slot, w->block_index, size, what);
    if (!p)
        w->status = ENGINE_E_HEAP_EXHAUSTED; /* the run has the details */
    return p;
}

static void *sizeclass_coordinator_alloc(worker *w, uint64_t size, const char *what, bool is_record)
{
    (void)is_record;
    return class_alloc(w->run, w->run->nslots, w->block_index, size, what);
}

static int bad_free(worker *w, const void *p, int c, const char *why)
{
    engine_run *run = w->run;
    engine_error err = {0};
    err.block_index = w->block_index;
    err.slot = (int32_t)w->slot;
    error_set(&err, ENGINE_E_INVALID_FREE,
              "invalid free at heap offset %llu: %s size-class %u slab",
              (unsigned long long)((const uint8_t *)p - run->arena.base), why, class_bytes[c]);
    run_fail(run, &err);
    return ENGINE_E_INVALID_FREE;
}

static int sizeclass_free(worker *w, void *ptr, const char *what)
{
    engine_run *run = w->run;
    uint8_t *p = ptr;
    sizeclass_state *st = run->strategy_state;
    /* Outside the arena or unaligned: the baseline's checks say what is wrong. */
    if (!p || p < run->arena.base || p >= run->arena.base + run->arena.size ||
        (uint64_t)(p - run->arena.base) % ENGINE_CELL_BYTES != 0)
        return baseline_free(w, ptr, what);
    atomic_u8 *m = &st->slot_map[cell_of(run, p)];
    uint8_t v = atomic_load_explicit(m, RELAXED);
    if (v == 0)
        return baseline_free(w, ptr, what); /* a large allocation */
    int c = (int)(v & MAP_CLASS_MASK) - 1;
    if (!(v & MAP_SLOT_START))
        return bad_free(w, p, c, "not the start of a slot in a");
    size_class *cls = &st->classes[c];
    run_lock(run, w->slot, &cls->lock, SC_ACQ_FREE);
    v = atomic_load_explicit(m, RELAXED);
    bool already_free = (v & MAP_SLOT_FREE) != 0;
    if (!already_free) {
        atomic_store_explicit(m, (uint8_t)(v | MAP_SLOT_FREE), RELAXED);
        *(void **)p = cls->free_list;
        cls->free_list = p;
    }
    run_unlock(run, w->slot, &cls->lock);
    if (already_free)
        return bad_free(w, p, c, "double free of a slot in a");
    return ENGINE_OK;
}

const strategy_ops strategy_sizeclass = {
    .name = "sizeclass",
    .threaded = true,
    .run_init = sizeclass_run_init,
    .run_destroy = sizeclass_run_destroy,
    .alloc = sizeclass_alloc,
    .free = sizeclass_free,
    .coordinator_alloc = sizeclass_coordinator_alloc,
};
