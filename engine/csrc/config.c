/*
 * Status texts, strategy names, and the one validator of run parameters
 * (its messages name the valid range; Python shows them as they are).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const status_text[ENGINE_STATUS_COUNT] = {
    [ENGINE_OK] = "ok",
    [ENGINE_E_INVALID_ARG] = "invalid argument",
    [ENGINE_E_NO_MEMORY] = "out of host memory",
    [ENGINE_E_OPEN] = "cannot open input",
    [ENGINE_E_IS_DIR] = "input is a directory",
    [ENGINE_E_READ] = "cannot read input",
    [ENGINE_E_HEAP_EXHAUSTED] = "heap exhausted",
    [ENGINE_E_INVALID_FREE] = "invalid free",
    [ENGINE_E_THREAD] = "cannot create thread",
    [ENGINE_E_CANCELLED] = "run cancelled",
    [ENGINE_E_STATE] = "not allowed in the run's current state",
    [ENGINE_E_NOT_FILE] = "input is not a regular file",
    [ENGINE_E_INPUT_CHANGED] = "input changed while being read",
};

const char *engine_strerror(int code)
{
    if (code < 0 || code >= ENGINE_STATUS_COUNT)
        return "unknown status";
    return status_text[code];
}

const char *engine_strategy_name(int strategy)
{
    const strategy_ops *ops = strategy_for(strategy);
    return ops ? ops->name : "unknown";
}

/* ------------------------------------------------------------ config */

void engine_config_defaults(engine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->strategy = ENGINE_STRATEGY_BASELINE;
    cfg->heap_size = ENGINE_DEFAULT_HEAP_SIZE;
    cfg->pool_size = ENGINE_DEFAULT_POOL_SIZE;
    cfg->batch_size = ENGINE_DEFAULT_BATCH_SIZE;
    cfg->block_size = ENGINE_DEFAULT_BLOCK_SIZE;
    cfg->sample_interval_us = ENGINE_DEFAULT_SAMPLE_INTERVAL_US;
    cfg->sample_capacity = ENGINE_DEFAULT_SAMPLE_CAPACITY;
    cfg->telemetry = 1;
    cfg->lock_kind = ENGINE_LOCK_MUTEX;
    cfg->workers = 0;
    cfg->slab_size = ENGINE_DEFAULT_SLAB_SIZE;
    cfg->cache_size = ENGINE_DEFAULT_CACHE_SIZE;
}

static const char *const lock_kind_names[ENGINE_LOCK_KIND_COUNT] = {
    [ENGINE_LOCK_MUTEX] = "mutex",
    [ENGINE_LOCK_SPIN] = "spin",
    [ENGINE_LOCK_ADAPTIVE] = "adaptive",
};

const char *engine_lock_kind_name(int kind)
{
    if (kind < 0 || kind >= ENGINE_LOCK_KIND_COUNT)
        return "unknown";
    return lock_kind_names[kind];
}

int engine_strategy_uses_arena(int strategy)
{
    const strategy_ops *ops = strategy_for(strategy);
    return ops && !ops->no_arena;
}

int engine_strategy_available(int strategy, char *why, size_t why_len)
{
    const strategy_ops *ops = strategy_for(strategy);
    if (why && why_len)
        why[0] = '\0';
    if (!ops) {
        if (why && why_len)
            snprintf(why, why_len, "unknown strategy %d", strategy);
        return 0;
    }
    return ops->available ? ops->available(why, why_len) : 1;
}

uint64_t engine_config_reserved_bytes(const engine_config *cfg)
{
    const strategy_ops *ops = strategy_for(cfg->strategy);
    return ops && ops->reserved_bytes ? ops->reserved_bytes(cfg) : 0;
}

uint32_t engine_config_thread_slots(const engine_config *cfg)
{
    const strategy_ops *ops = strategy_for(cfg->strategy);
    if (!ops || !ops->threaded)
        return 1;
    return cfg->workers ? cfg->workers : cfg->batch_size;
}

uint32_t engine_config_queue_depth(const engine_config *cfg)
{
    if (cfg->workers == 0)
        return 1;
    /* A queued block holds its copy and its record in the shared arena: keep
       what all queues can hold (each worker's queue plus the block it is on)
       to a quarter of the arena outside the pools. */
    uint64_t reserved = engine_config_reserved_bytes(cfg);
    uint64_t shared = cfg->heap_size > reserved ? cfg->heap_size - reserved : 0;
    uint64_t per_block = ((cfg->block_size + 15u) & ~(uint64_t)15u) + ARG_RECORD_BYTES + 64u;
    uint64_t fits = shared / 4u / ((uint64_t)cfg->workers * per_block);
    if (fits <= 2)
        return 1;
    return fits - 1 < ENGINE_QUEUE_MAX_DEPTH ? (uint32_t)(fits - 1) : ENGINE_QUEUE_MAX_DEPTH;
}

#define RANGE_CHECK(field, lo, hi, name, unit)                                                     \
    if ((uint64_t)cfg->field < (uint64_t)(lo) || (uint64_t)cfg->field > (uint64_t)(hi)) {          \
        snprintf(message, message_len, "%s must be between %llu and %llu%s (got %llu)", name,      \
                 (unsigned long long)(lo), (unsigned long long)(hi), unit,                         \
                 (unsigned long long)cfg->field);                                                  \
        return ENGINE_E_INVALID_ARG;                                                               \
    }

int engine_config_check(const engine_config *cfg, char *message, size_t message_len)
{
    if (!strategy_for(cfg->strategy)) {
        char names[128] = "";
        for (int s = 0; s < ENGINE_STRATEGY_COUNT; s++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     s == 0                           ? ""
                     : s == ENGINE_STRATEGY_COUNT - 1 ? " or "
                                                      : ", ",
                     engine_strategy_name(s));
        snprintf(message, message_len, "strategy must be %s (got %d)", names, cfg->strategy);
        return ENGINE_E_INVALID_ARG;
    }
    RANGE_CHECK(heap_size, ENGINE_MIN_HEAP_SIZE, ENGINE_MAX_HEAP_SIZE, "heap size", " bytes");
    if (cfg->heap_size % 16 != 0) {
        snprintf(message, message_len, "heap size must be a multiple of 16 bytes (got %llu)",
                 (unsigned long long)cfg->heap_size);
        return ENGINE_E_INVALID_ARG;
    }
    RANGE_CHECK(pool_size, ENGINE_MIN_POOL_SIZE, ENGINE_MAX_POOL_SIZE, "pool size", " bytes");
    if (cfg->pool_size % 16 != 0) {
        snprintf(message, message_len, "pool size must be a multiple of 16 bytes (got %llu)",
                 (unsigned long long)cfg->pool_size);
        return ENGINE_E_INVALID_ARG;
    }
    RANGE_CHECK(batch_size, ENGINE_MIN_BATCH_SIZE, ENGINE_MAX_BATCH_SIZE, "batch size", " threads");
    RANGE_CHECK(block_size, ENGINE_MIN_BLOCK_SIZE, ENGINE_MAX_BLOCK_SIZE, "block size", " bytes");
    RANGE_CHECK(sample_interval_us, ENGINE_MIN_SAMPLE_INTERVAL_US, ENGINE_MAX_SAMPLE_INTERVAL_US,
                "sample interval", " microseconds");
    RANGE_CHECK(sample_capacity, ENGINE_MIN_SAMPLE_CAPACITY, ENGINE_MAX_SAMPLE_CAPACITY,
                "sample capacity", " rows");
    if (cfg->lock_kind < 0 || cfg->lock_kind >= ENGINE_LOCK_KIND_COUNT) {
        snprintf(message, message_len, "lock kind must be mutex, spin or adaptive (got %d)",
                 cfg->lock_kind);
        return ENGINE_E_INVALID_ARG;
    }
    RANGE_CHECK(workers, 0, ENGINE_MAX_WORKERS, "workers", " (0: a thread per block)");
    RANGE_CHECK(slab_size, ENGINE_MIN_SLAB_SIZE, ENGINE_MAX_SLAB_SIZE, "slab size", " bytes");
    if (cfg->slab_size % 16 != 0) {
        snprintf(message, message_len, "slab size must be a multiple of 16 bytes (got %llu)",
                 (unsigned long long)cfg->slab_size);
        return ENGINE_E_INVALID_ARG;
    }
    RANGE_CHECK(cache_size, ENGINE_MIN_CACHE_SIZE, ENGINE_MAX_CACHE_SIZE, "cache size", " chunks");
    uint64_t pools = engine_config_reserved_bytes(cfg);
    uint32_t slots = engine_config_thread_slots(cfg);
    if (pools + ENGINE_MIN_GLOBAL_REGION > cfg->heap_size) {
        uint64_t max_pool = cfg->heap_size > ENGINE_MIN_GLOBAL_REGION
                                ? ((cfg->heap_size - ENGINE_MIN_GLOBAL_REGION) / slots) & ~15ull
                                : 0;
        char advice[128];
        if (max_pool >= ENGINE_MIN_POOL_SIZE)
            snprintf(advice, sizeof advice, "pool size at most %llu bytes with this heap and batch",
                     (unsigned long long)max_pool);
        else
            snprintf(advice, sizeof advice, "these pools need a heap of at least %llu bytes",
                     (unsigned long long)(pools + ENGINE_MIN_GLOBAL_REGION));
        snprintf(message, message_len,
                 "heap too small for the pools: %u pools of %llu bytes take %llu of the "
                 "%llu-byte heap, which must keep at least %u bytes for the shared region (%s)",
                 slots, (unsigned long long)cfg->pool_size, (unsigned long long)pools,
                 (unsigned long long)cfg->heap_size, ENGINE_MIN_GLOBAL_REGION, advice);
        return ENGINE_E_INVALID_ARG;
    }
    return ENGINE_OK;
}
