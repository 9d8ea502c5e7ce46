/*
 * Read-only accessors of a run, for Python and the standalone binary.
 */
#include "internal.h"

uint32_t engine_run_slot_count(const engine_run *run)
{
    return run->nslots;
}
uint64_t engine_run_pool_reserved(const engine_run *run)
{
    return run->pool_reserved;
}
uint64_t engine_run_total_blocks(const engine_run *run)
{
    return run->total_blocks;
}
uint64_t engine_run_total_bytes(const engine_run *run)
{
    return run->total_bytes;
}
uint64_t engine_run_signature(const engine_run *run)
{
    return run->signature;
}
uint64_t engine_run_wall_ns(const engine_run *run)
{
    return counter_get(&run->wall_ns);
}
const uint8_t *engine_run_slot_states(const engine_run *run)
{
    return (const uint8_t *)run->slot_states;
}
const uint8_t *engine_run_heap_states(const engine_run *run)
{
    return (const uint8_t *)run->cell_state;
}
const uint8_t *engine_run_heap_owners(const engine_run *run)
{
    return (const uint8_t *)run->cell_owner;
}

int engine_run_copy_heap_map(const engine_run *run, uint8_t *states, uint8_t *owners)
{
    if (!run->cell_state)
        return ENGINE_E_STATE;
    if (states)
        heap_map_copy(run->cell_state, states, run->ncells);
    if (owners)
        heap_map_copy(run->cell_owner, owners, run->ncells);
    return ENGINE_OK;
}

void engine_run_copy_slot_states(const engine_run *run, uint8_t *out)
{
    for (uint32_t s = 0; s < run->nslots; s++)
        out[s] = atomic_load_explicit(&run->slot_states[s], RELAXED);
}
uint64_t engine_run_heap_cells(const engine_run *run)
{
    return run->ncells;
}
uint64_t engine_run_series_capacity(const engine_run *run)
{
    return run->series_capacity;
}

uint64_t engine_run_elapsed_ns(const engine_run *run)
{
    int state = engine_run_state(run);
    if (state == ENGINE_RUN_READY)
        return 0;
    if (state == ENGINE_RUN_RUNNING)
        return now_ns() - counter_get(&run->t0_ns);
    return counter_get(&run->wall_ns);
}

void engine_run_time_breakdown(const engine_run *run, uint64_t *out)
{
    uint64_t elapsed = engine_run_elapsed_ns(run);
    uint64_t now = counter_get(&run->t0_ns) + elapsed;
    for (uint32_t s = 0; s <= run->nslots; s++) {
        uint64_t *row = out + (uint64_t)s * ENGINE_TIME_STATE_COUNT;
        slot_times(&run->slots[s], now, row);
        uint64_t busy = 0;
        for (int t = 0; t < ENGINE_T_IDLE; t++)
            busy += row[t];
        row[ENGINE_T_IDLE] = elapsed > busy ? elapsed - busy : 0;
    }
}
