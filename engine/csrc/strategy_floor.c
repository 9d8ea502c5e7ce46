/*
 * Floor (benchmark only): the same threads and tree, with no allocator cost at
 * all.  Allocations bump through a per-slot scratch buffer that is recycled
 * per block; nothing is counted, locked or drawn.
 */
#include "internal.h"

void *floor_alloc(worker *w, uint64_t size, const char *what)
{
    (void)what;
    uint64_t want = (size + 15u) & ~(uint64_t)15u;
    if (w->pool_used + want > w->pool_size) {
        w->status = ENGINE_E_HEAP_EXHAUSTED;
        run_fail_exhausted(w->run, w->slot, w->block_index, size, "floor scratch");
        return NULL;
    }
    uint8_t *p = w->pool + w->pool_used;
    w->pool_used += want;
    return p;
}
