/*
 * Strategy dispatch, and the single-threaded reference strategy (no locks).
 * Each threaded strategy lives in its own file.
 */
#include <stdio.h>

#include "internal.h"

void *worker_alloc(worker *w, uint64_t size, const char *what)
{
    /* Allocations and frees are the workers' safe points for pause/cancel. */
    if (w->run && !run_checkpoint(w->run, w->slot)) {
        w->status = ENGINE_E_CANCELLED;
        return NULL;
    }
    switch (w->strategy) {
    case ENGINE_STRATEGY_BASELINE:
        return baseline_alloc(w, size, what);
    case ENGINE_STRATEGY_POOLED:
        return pooled_alloc(w, size, what);
    case ENGINE_STRATEGY_FLOOR:
        return floor_alloc(w, size, what);
    default:
        return single_alloc(w, size, what);
    }
}

int worker_free(worker *w, void *ptr, const char *what)
{
    if (w->run && !run_checkpoint(w->run, w->slot)) {
        w->status = ENGINE_E_CANCELLED;
        return ENGINE_E_CANCELLED;
    }
    int rc;
    switch (w->strategy) {
    case ENGINE_STRATEGY_BASELINE:
        rc = baseline_free(w, ptr, what);
        break;
    case ENGINE_STRATEGY_POOLED:
        rc = pooled_free(w, ptr, what);
        break;
    case ENGINE_STRATEGY_FLOOR:
        rc = ENGINE_OK; /* scratch memory is recycled per block */
        break;
    default:
        rc = single_free(w, ptr, what);
        break;
    }
    if (rc != ENGINE_OK)
        w->status = rc;
    return rc;
}

void *single_alloc(worker *w, uint64_t size, const char *what)
{
    void *p = arena_umalloc(w->arena, size, (uint8_t)w->slot);
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

int single_free(worker *w, void *ptr, const char *what)
{
    engine_error err = {0};
    int rc = arena_ufree(w->arena, ptr, &err);
    if (rc != ENGINE_OK && w->run) {
        err.block_index = w->block_index;
        err.slot = (int32_t)w->slot;
        snprintf(err.what, sizeof err.what, "%s", what);
        run_fail(w->run, &err);
    }
    return rc;
}
