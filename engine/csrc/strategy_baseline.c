/*
 * Baseline: every umalloc and every ufree takes the one global allocator lock.
 * Its alloc/free are also the fallback of the strategies that try something
 * cheaper first (pooled).
 */
#include "internal.h"

void *baseline_alloc(worker *w, uint64_t size, const char *what)
{
    void *p = locked_alloc(w->run, w->slot, w->block_index, size, what);
    if (!p)
        w->status = ENGINE_E_HEAP_EXHAUSTED; /* locked_alloc recorded the details */
    return p;
}

int baseline_free(worker *w, void *ptr, const char *what)
{
    return locked_free(w->run, w->slot, w->block_index, ptr, what);
}

const strategy_ops strategy_baseline = {
    .name = "baseline",
    .threaded = true,
    .alloc = baseline_alloc,
    .free = baseline_free,
};
