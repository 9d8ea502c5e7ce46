/*
 * Floor (benchmark only): the same threads and tree, with no allocator cost at
 * all.  Allocations bump through a per-slot scratch buffer that is recycled
 * per block; the coordinator's copies live there too; nothing is counted,
 * locked or drawn.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One tree of a 1 KiB block needs 16 + 2048 + 511 * 32 bytes; bigger blocks
   have no more distinct symbols. */
#define FLOOR_SCRATCH_BYTES (32u * 1024u)

typedef struct {
    uint8_t *memory;
    bump_region *slots;
    uint8_t *handoff; /* per slot: which of its handoff areas is next */
    uint32_t handoff_areas;
} floor_state;

/* A block's copy and its argument record. */
static uint64_t handoff_bytes(const engine_config *cfg)
{
    return ((cfg->block_size + 15u) & ~15u) + ARG_RECORD_BYTES;
}

/* Per slot: tree scratch, then a handoff area per block a long-lived worker
   can have queued, plus the one it hashes from while the coordinator fills
   the next (two with a thread per block). */
static uint64_t slot_stride(const engine_config *cfg, uint32_t areas)
{
    return FLOOR_SCRATCH_BYTES + areas * handoff_bytes(cfg);
}

static int floor_run_init(engine_run *run)
{
    floor_state *st = calloc(1, sizeof *st);
    if (!st)
        return ENGINE_E_NO_MEMORY;
    st->handoff_areas = engine_config_queue_depth(&run->cfg) + 1;
    st->memory = malloc(slot_stride(&run->cfg, st->handoff_areas) * run->nslots);
    st->slots = aligned_alloc_rounded(_Alignof(bump_region), run->nslots * sizeof *st->slots);
    st->handoff = calloc(run->nslots, 1);
    if (st->slots)
        memset(st->slots, 0, run->nslots * sizeof *st->slots);
    if (!st->memory || !st->slots || !st->handoff) {
        free(st->memory);
        free(st->slots);
        free(st->handoff);
        free(st);
        return ENGINE_E_NO_MEMORY;
    }
    run->strategy_state = st;
    return ENGINE_OK;
}

static void floor_run_destroy(engine_run *run)
{
    floor_state *st = run->strategy_state;
    if (!st)
        return;
    free(st->memory);
    free(st->slots);
    free(st->handoff);
    free(st);
    run->strategy_state = NULL;
}

static void floor_worker_init(worker *w)
{
    floor_state *st = w->run->strategy_state;
    bump_region *r = &st->slots[w->slot];
    r->base = st->memory + (uint64_t)w->slot * slot_stride(&w->run->cfg, st->handoff_areas);
    r->size = FLOOR_SCRATCH_BYTES;
    w->state = r;
}

static void *floor_alloc(worker *w, uint64_t size, const char *what)
{
    (void)what;
    bump_region *r = w->state;
    uint64_t want = (size + 15u) & ~(uint64_t)15u;
    if (r->used + want > r->size) {
        w->status = ENGINE_E_HEAP_EXHAUSTED;
        run_fail_exhausted(w->run, w->slot, w->block_index, size, "floor scratch");
        return NULL;
    }
    uint8_t *p = r->base + r->used;
    r->used += want;
    return p;
}

static int floor_free(worker *w, void *ptr, const char *what)
{
    (void)w, (void)ptr, (void)what;
    return ENGINE_OK; /* the scratch is recycled per block */
}

static void floor_batch_done(worker *w)
{
    ((bump_region *)w->state)->used = 0;
}

static void *floor_coordinator_alloc(worker *w, uint64_t size, const char *what, bool is_record)
{
    (void)size, (void)what;
    floor_state *st = w->run->strategy_state;
    bump_region *r = w->state;
    if (!is_record) /* a new block: the next area (the worker may be using the others) */
        st->handoff[w->slot] = (uint8_t)((st->handoff[w->slot] + 1u) % st->handoff_areas);
    uint8_t *area =
        r->base + FLOOR_SCRATCH_BYTES + st->handoff[w->slot] * handoff_bytes(&w->run->cfg);
    return is_record ? area + ((w->run->cfg.block_size + 15u) & ~15u) : area;
}

const strategy_ops strategy_floor = {
    .name = "floor",
    .threaded = true,
    .run_init = floor_run_init,
    .run_destroy = floor_run_destroy,
    .worker_init = floor_worker_init,
    .alloc = floor_alloc,
    .free = floor_free,
    .batch_done = floor_batch_done,
    .coordinator_alloc = floor_coordinator_alloc,
};
