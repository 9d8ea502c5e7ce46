/*
 * The strategy table, and the workload's allocations dispatched through it.
 * A new strategy is one strategy_<name>.c and one line here.
 */
#include "internal.h"

static const strategy_ops *const table[ENGINE_STRATEGY_COUNT] = {
    [ENGINE_STRATEGY_SINGLE] = &strategy_single,
    [ENGINE_STRATEGY_BASELINE] = &strategy_baseline,
    [ENGINE_STRATEGY_POOLED] = &strategy_pooled,
    [ENGINE_STRATEGY_FLOOR] = &strategy_floor,
    [ENGINE_STRATEGY_SIZECLASS] = &strategy_sizeclass,
    [ENGINE_STRATEGY_BATCHED] = &strategy_batched,
    [ENGINE_STRATEGY_MALLOC] = &strategy_malloc,
    [ENGINE_STRATEGY_MIMALLOC] = &strategy_mimalloc,
    [ENGINE_STRATEGY_JEMALLOC] = &strategy_jemalloc,
    [ENGINE_STRATEGY_TCMALLOC] = &strategy_tcmalloc,
};

const strategy_ops *strategy_for(int strategy)
{
    if (strategy < 0 || strategy >= ENGINE_STRATEGY_COUNT)
        return NULL;
    return table[strategy];
}

void *worker_alloc(worker *w, uint64_t size, const char *what)
{
    /* Allocations and frees are the workers' safe points for pause/cancel. */
    if (w->run && !run_checkpoint(w->run, w->slot)) {
        w->status = ENGINE_E_CANCELLED;
        return NULL;
    }
    return w->ops->alloc(w, size, what);
}

int worker_free(worker *w, void *ptr, const char *what)
{
    if (w->run && !run_checkpoint(w->run, w->slot)) {
        w->status = ENGINE_E_CANCELLED;
        return ENGINE_E_CANCELLED;
    }
    int rc = w->ops->free(w, ptr, what);
    if (rc != ENGINE_OK)
        w->status = rc;
    return rc;
}
