/*
 * Single-threaded reference: the coordinator hashes every block itself on
 * the whole arena, with no lock.  Also the allocator of engine_block_hash
 * (a worker with no run).
 */
#include <stdio.h>

#include "internal.h"

static void *single_alloc(worker *w, uint64_t size, const char *what)
{
    void *p = arena_umalloc(w->arena, size, (uint8_t)w->slot, true);
    if (!p) {
        w->status = ENGINE_E_HEAP_EXHAUSTED;
        if (w->run)
            run_fail_exhausted(w->run, w->slot, w->block_index, size, what);
        return NULL;
    }
    if (w->run)
        run_slow_motion(w->run, w->slot);
    return p;
}

static int single_free(worker *w, void *ptr, const char *what)
{
    engine_error err = {0};
    int rc = arena_ufree(w->arena, ptr, true, &err);
    if (rc != ENGINE_OK && w->run) {
        err.block_index = w->block_index;
        err.slot = (int32_t)w->slot;
        snprintf(err.what, sizeof err.what, "%s", what);
        run_fail(w->run, &err);
    }
    return rc;
}

const strategy_ops strategy_single = {
    .name = "single",
    .threaded = false,
    .alloc = single_alloc,
    .free = single_free,
};
