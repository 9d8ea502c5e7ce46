/*
 * heapscope engine: the only header cffi sees.
 *
 * The engine runs the "shared memory hasher" exercise (see WORKLOAD.md in the
 * project docs) on a small custom heap under one of several allocator
 * strategies, and keeps live telemetry that another thread may read while a
 * run is going.  Every entry point returns an engine_status; nothing in the
 * engine calls abort() or exit().
 *
 * Keep this header free of system includes other than <stdint.h>/<stddef.h>:
 * cffi parses the declarations below the ENGINE_CDEF_BEGIN marker.
 */
#ifndef HEAPSCOPE_ENGINE_H
#define HEAPSCOPE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

/* ENGINE_CDEF_BEGIN */

/* ---- limits and defaults (reach Python through cffi, never copied) ---- */
#define ENGINE_DEFAULT_HEAP_SIZE 2097152
#define ENGINE_DEFAULT_POOL_SIZE 32768
#define ENGINE_DEFAULT_BATCH_SIZE 20
#define ENGINE_DEFAULT_BLOCK_SIZE 1024
#define ENGINE_DEFAULT_SAMPLE_INTERVAL_US 2000
#define ENGINE_DEFAULT_SAMPLE_CAPACITY 4096
/* The timeline: a row each millisecond, about 4 MiB a run at most. */
#define ENGINE_TIMELINE_INTERVAL_US 1000
#define ENGINE_TIMELINE_BYTES 4194304
#define ENGINE_TIMELINE_MAX_ROWS 4096
#define ENGINE_TIMELINE_MIN_ROWS 256

#define ENGINE_MIN_HEAP_SIZE 4096
#define ENGINE_MAX_HEAP_SIZE 268435456
#define ENGINE_MIN_POOL_SIZE 256
#define ENGINE_MAX_POOL_SIZE 16777216
#define ENGINE_MIN_BATCH_SIZE 1
#define ENGINE_MAX_BATCH_SIZE 128
#define ENGINE_MIN_BLOCK_SIZE 1
#define ENGINE_MAX_BLOCK_SIZE 1048576
#define ENGINE_MIN_GLOBAL_REGION 4096
#define ENGINE_MIN_SAMPLE_INTERVAL_US 100
#define ENGINE_MAX_SAMPLE_INTERVAL_US 1000000
#define ENGINE_MIN_SAMPLE_CAPACITY 16
#define ENGINE_MAX_SAMPLE_CAPACITY 1048576
#define ENGINE_DEFAULT_SLAB_SIZE 16384
#define ENGINE_MIN_SLAB_SIZE 2048
#define ENGINE_MAX_SLAB_SIZE 1048576
#define ENGINE_DEFAULT_CACHE_SIZE 16
#define ENGINE_MIN_CACHE_SIZE 1
#define ENGINE_MAX_CACHE_SIZE 1024
#define ENGINE_MAX_WORKERS 128
/* A long-lived worker's queue holds up to this many blocks, so a refill hands
   over up to half of them for one wake-up on each side.  32 against 8: the
   floor 3% faster and pooled 3-6% (standalone A/Bs of 41-61 runs, 1 MiB and
   5 MiB, two workers), which leaves pooled 1-2% behind the floor instead of
   2-4%; 16 gained most of it.  32 queued blocks of two workers take 70 KiB
   of the default arena's shared region. */
#define ENGINE_QUEUE_MAX_DEPTH 32

#define ENGINE_CELL_BYTES 16
#define ENGINE_HASH_MODULUS 2147483647
#define ENGINE_OWNER_NONE 255
#define ENGINE_OWNER_COORDINATOR 254

/* Slow motion: speed is in parts per million of full speed (1000000 = full). */
#define ENGINE_SPEED_FULL 1000000
#define ENGINE_MIN_SPEED 1000

typedef enum {
    ENGINE_OK = 0,
    ENGINE_E_INVALID_ARG = 1,    /* a parameter outside its valid range */
    ENGINE_E_NO_MEMORY = 2,      /* the host could not give the engine memory */
    ENGINE_E_OPEN = 3,           /* the input file could not be opened */
    ENGINE_E_IS_DIR = 4,         /* the input path is a directory */
    ENGINE_E_READ = 5,           /* reading the input failed */
    ENGINE_E_HEAP_EXHAUSTED = 6, /* umalloc returned NULL during a run */
    ENGINE_E_INVALID_FREE = 7,   /* ufree of a pointer that is not allocated */
    ENGINE_E_THREAD = 8,         /* a thread could not be created */
    ENGINE_E_CANCELLED = 9,      /* the run was cancelled */
    ENGINE_E_STATE = 10,         /* call not allowed in the run's current state */
    ENGINE_E_NOT_FILE = 11,      /* the input is not a regular file (FIFO, device...) */
    ENGINE_E_INPUT_CHANGED = 12, /* the input shrank, grew or changed during the run */
    ENGINE_STATUS_COUNT = 13
} engine_status;

typedef enum {
    ENGINE_STRATEGY_SINGLE = 0,    /* one thread, no locks: the reference */
    ENGINE_STRATEGY_BASELINE = 1,  /* one global mutex around umalloc/ufree */
    ENGINE_STRATEGY_POOLED = 2,    /* per-thread bump pools + locked fallback */
    ENGINE_STRATEGY_FLOOR = 3,     /* benchmark only: no allocator cost at all */
    ENGINE_STRATEGY_SIZECLASS = 4, /* Strategy B: a lock and a free list per size class */
    ENGINE_STRATEGY_BATCHED = 5,   /* Strategy C: per-thread caches refilled in one hold */
    ENGINE_STRATEGY_MALLOC = 6,    /* the C library's malloc/free (no arena) */
    ENGINE_STRATEGY_MIMALLOC = 7,  /* mimalloc, loaded at run time when installed */
    ENGINE_STRATEGY_JEMALLOC = 8,  /* jemalloc, loaded at run time when installed */
    ENGINE_STRATEGY_TCMALLOC = 9,  /* tcmalloc (minimal), loaded at run time when installed */
    ENGINE_STRATEGY_COUNT = 10
} engine_strategy;

/* The kind of every allocator lock in a run (WORKLOAD.md section 9). */
typedef enum {
    ENGINE_LOCK_MUTEX = 0,    /* a normal pthread mutex (default) */
    ENGINE_LOCK_SPIN = 1,     /* test-and-test-and-set with a pause instruction */
    ENGINE_LOCK_ADAPTIVE = 2, /* glibc's adaptive mutex: spins a little, then sleeps */
    ENGINE_LOCK_KIND_COUNT = 3
} engine_lock_kind;

/* Run-wide counters, in the order of engine_counter_name(). */
typedef enum {
    ENGINE_C_LOCK_ACQ_ALLOC = 0, /* allocator lock taken by umalloc */
    ENGINE_C_LOCK_ACQ_FREE,      /* allocator lock taken by ufree */
    ENGINE_C_LOCK_CONTENDED,     /* acquisitions that found the lock busy */
    ENGINE_C_LOCK_WAIT_NS,       /* nanoseconds spent waiting for the lock (0 without telemetry) */
    ENGINE_C_POOL_ALLOCS,        /* allocations served by a thread's pool */
    ENGINE_C_POOL_FREES,         /* frees of pool memory (no-ops) */
    ENGINE_C_GLOBAL_ALLOCS,      /* allocations served by the free list */
    ENGINE_C_GLOBAL_FREES,       /* frees returned to the free list */
    ENGINE_C_BLOCKS_DONE,
    ENGINE_C_BYTES_DONE,
    ENGINE_C_FREE_LIST_LENGTH,   /* gauge: chunks on the free list now */
    ENGINE_C_VISITS_ALLOC,       /* free-list nodes examined by umalloc */
    ENGINE_C_VISITS_FREE,        /* free-list nodes walked by ufree */
    ENGINE_C_ARENA_BYTES_IN_USE, /* gauge: headers + payloads + pool bytes used */
    ENGINE_C_SLIVER_BYTES,       /* bytes lost for good to 16-byte slivers */
    ENGINE_C_LOCK_ACQUISITIONS,  /* alloc + free acquisitions */
    ENGINE_C_FREE_LIST_LONGEST,  /* the longest the free list has been */
    ENGINE_C_MID_BLOCK_SUM,      /* workers mid-block, summed over lock acquisitions */
    ENGINE_C_SLAB_REFILLS,       /* sizeclass: slabs a class took from the arena */
    ENGINE_C_CACHE_REFILLS,      /* batched: caches refilled in one lock hold */
    ENGINE_C_CACHE_FLUSHES,      /* batched: caches flushed back in one lock hold */
    ENGINE_C_TRYLOCK_FAILS,      /* batched: tries that found the lock busy */
    ENGINE_COUNTER_COUNT
} engine_counter;

/* What each thread slot is doing right now. */
typedef enum {
    ENGINE_SLOT_IDLE = 0,
    ENGINE_SLOT_COMPUTING = 1,
    ENGINE_SLOT_WAITING = 2, /* waiting for an allocator lock */
    ENGINE_SLOT_HOLDING = 3, /* holding an allocator lock */
    ENGINE_SLOT_PAUSED = 4
} engine_slot_state;

/* Where a thread slot's time goes (WORKLOAD.md section 10). */
typedef enum {
    ENGINE_T_COMPUTE = 0,           /* hashing, pool bumps included */
    ENGINE_T_LOCK_WAIT = 1,         /* blocked on an allocator lock */
    ENGINE_T_IN_ALLOCATOR = 2,      /* holding an allocator lock in umalloc/ufree */
    ENGINE_T_THREAD_START_JOIN = 3, /* coordinator: creating and joining workers */
    ENGINE_T_READ = 4,              /* coordinator: reading the input */
    ENGINE_T_IDLE = 5,              /* everything else: the rest of the wall time */
    ENGINE_TIME_STATE_COUNT = 6
} engine_time_state;

/* One byte per 16-byte arena cell. */
typedef enum {
    ENGINE_CELL_FREE = 0,
    ENGINE_CELL_HEADER = 1,
    ENGINE_CELL_GLOBAL = 2,
    ENGINE_CELL_POOL_RESERVED = 3,
    ENGINE_CELL_POOL_USED = 4,
    ENGINE_CELL_SLIVER = 5,
    ENGINE_CELL_SLAB = 6,   /* sizeclass: a slab's slots; owner = size class index */
    ENGINE_CELL_CACHED = 7, /* batched: free chunks in a thread's cache; owner = slot */
    ENGINE_CELL_STATE_COUNT = 8
} engine_cell_state;

/* Run lifecycle. */
typedef enum {
    ENGINE_RUN_READY = 0,
    ENGINE_RUN_RUNNING = 1,
    ENGINE_RUN_FINISHED = 2,
    ENGINE_RUN_FAILED = 3,
    ENGINE_RUN_CANCELLED = 4
} engine_run_phase;

typedef struct {
    int strategy;        /* engine_strategy */
    uint64_t heap_size;  /* bytes, multiple of 16 */
    uint64_t pool_size;  /* bytes per thread slot (pooled), multiple of 16 */
    uint32_t batch_size; /* threads per batch (= thread slots) */
    uint32_t block_size; /* bytes per block */
    uint32_t sample_interval_us;
    uint32_t sample_capacity; /* rows kept; older rows are downsampled */
    int telemetry;            /* 0: no heap map, no sampler (benchmarks) */
    int lock_kind;            /* engine_lock_kind, for every allocator lock */
    uint32_t workers;         /* 0: a thread per block in batches; N: N long-lived workers */
    uint64_t slab_size;       /* sizeclass: bytes a class takes from the arena at a time */
    uint32_t cache_size;      /* batched: chunks per size class in a thread's cache (M) */
} engine_config;

/* Why a run failed: filled by the engine, read after the run. */
typedef struct {
    int code;                  /* engine_status */
    int64_t block_index;       /* -1 when not tied to a block */
    int32_t slot;              /* thread slot, ENGINE_OWNER_COORDINATOR, or -1 */
    uint64_t requested;        /* bytes asked of umalloc */
    uint64_t arena_free_bytes; /* payload bytes on the free list */
    uint64_t largest_free;     /* largest free payload */
    uint64_t free_list_length;
    int sys_errno;
    char what[48];     /* what was being allocated/freed */
    char message[320]; /* full human-readable message */
} engine_error;

typedef struct engine_run engine_run;
typedef struct engine_arena engine_arena;

/* ---- status text and names ---- */
const char *engine_strerror(int code);
const char *engine_counter_name(int counter);
const char *engine_strategy_name(int strategy);
const char *engine_lock_kind_name(int kind);
/* The clock the telemetry reads: "tsc" (calibrated against CLOCK_MONOTONIC
   once per process) or "clock_gettime". */
const char *engine_clock_source(void);
/* 1 when the strategy can run on this machine; else 0 and why (e.g. "mimalloc
   is not installed (libmimalloc.so.2: cannot open shared object file)"). */
int engine_strategy_available(int strategy, char *why, size_t why_len);
/* 1 when the strategy allocates on the arena: a heap map, and lock
   acquisitions that are counted.  0 for the C library's and the production
   allocators (their locks are their own: not observable). */
int engine_strategy_uses_arena(int strategy);

/* ---- configuration ---- */
void engine_config_defaults(engine_config *cfg);
/* Checks every field; on failure writes a message naming the valid range. */
int engine_config_check(const engine_config *cfg, char *message, size_t message_len);
/* What a checked config implies through its strategy: worker thread slots
   (1 when the strategy is not threaded) and bytes reserved at the arena's
   start (the pools). */
uint32_t engine_config_thread_slots(const engine_config *cfg);
uint64_t engine_config_reserved_bytes(const engine_config *cfg);
/* How many blocks a long-lived worker's queue holds, up to
   ENGINE_QUEUE_MAX_DEPTH and as many as a quarter of the arena outside the
   pools has room for (1 with a thread per block: one block per thread). */
uint32_t engine_config_queue_depth(const engine_config *cfg);

/* ---- runs ---- */
int engine_run_create(const engine_config *cfg, const char *path, engine_run **out,
                      engine_error *err);
/* Blocks until the run ends.  Call once, from any one thread. */
int engine_run_execute(engine_run *run, engine_error *err);
/* Safe from any thread, at any time before destroy. */
void engine_run_cancel(engine_run *run);
void engine_run_set_paused(engine_run *run, int paused);
/* 1 once a pause was asked for AND every engine thread is parked (or waiting
   for parked workers): from then until resume, no counter or cell moves. */
int engine_run_is_paused(engine_run *run);
void engine_run_set_speed(engine_run *run, uint32_t speed_ppm);
int engine_run_state(const engine_run *run);
void engine_run_destroy(engine_run *run);

uint64_t engine_run_total_blocks(const engine_run *run);
uint64_t engine_run_total_bytes(const engine_run *run);
uint64_t engine_run_signature(const engine_run *run);
uint64_t engine_run_wall_ns(const engine_run *run);
/* Nanoseconds since execute started (frozen once it ended). */
uint64_t engine_run_elapsed_ns(const engine_run *run);
uint32_t engine_run_slot_count(const engine_run *run);
uint64_t engine_run_pool_reserved(const engine_run *run);

/* Counters now: out[ENGINE_COUNTER_COUNT]. */
void engine_run_snapshot(const engine_run *run, uint64_t *out);
/* Nanoseconds per time state, per slot: out[(slot_count + 1) *
   ENGINE_TIME_STATE_COUNT], the coordinator's row last.  Each row sums to the
   run's elapsed time (idle takes the rest). */
void engine_run_time_breakdown(const engine_run *run, uint64_t *out);
/* Per-slot lock wait time now: out[slot_count]. */
void engine_run_slot_wait_ns(const engine_run *run, uint64_t *out);

/* Race-free copies of the heap map (heap_cells bytes each; either pointer may
   be NULL) and of the slot states (slot_count bytes), read with atomic loads
   while workers write.  ENGINE_E_STATE when the run has no heap map. */
int engine_run_copy_heap_map(const engine_run *run, uint8_t *states, uint8_t *owners);
void engine_run_copy_slot_states(const engine_run *run, uint8_t *out);

/* Live memory, owned by the run, valid until destroy (NULL without telemetry).
   Reading it directly races with the workers' writes: use the copies above
   where exact values matter. */
const uint8_t *engine_run_slot_states(const engine_run *run);
const uint8_t *engine_run_heap_states(const engine_run *run);
const uint8_t *engine_run_heap_owners(const engine_run *run);
uint64_t engine_run_heap_cells(const engine_run *run);

/* Time series: rows of (1 + ENGINE_COUNTER_COUNT) uint64, the first being the
   timestamp in ns since execute started.  Copies at most max_rows rows,
   consistently even while the sampler downsamples.  Returns rows copied. */
uint64_t engine_run_series(const engine_run *run, uint64_t *out, uint64_t max_rows);
uint64_t engine_run_series_capacity(const engine_run *run);

/* Timeline: rows of engine_timeline_row_words(slot_count) uint64: the time in
   ns since execute started, then per lane (worker slots, the coordinator
   last) the cumulative ns in each busy time state (ENGINE_T_IDLE of them;
   idle is the time minus their sum).  One row at every
   ENGINE_TIMELINE_INTERVAL_US after the start, written a few ms later (the
   sampler builds them from each lane's records of its states rather than
   waking each time); when full the older half is thinned (rows are
   cumulative, so no time is lost); the last row is the run's final state at
   its wall time.  Copies the rows sampled after after_ns (-1: all), oldest
   first, at most max_rows, consistently while the sampler writes.  Returns
   rows copied; 0 without telemetry. */
uint64_t engine_run_timeline(const engine_run *run, int64_t after_ns, uint64_t *out,
                             uint64_t max_rows);
uint64_t engine_timeline_row_words(uint32_t worker_slots);
uint64_t engine_timeline_capacity(uint32_t worker_slots);

/* ---- the bare allocator, for tests and teaching ---- */
int engine_arena_create(uint64_t size, engine_arena **out);
void engine_arena_destroy(engine_arena *arena);
/* size 0: *offset = -1 and ENGINE_OK (umalloc returns NULL). */
int engine_arena_alloc(engine_arena *arena, uint64_t size, int64_t *offset, engine_error *err);
/* offset -1 (NULL) is a no-op. */
int engine_arena_free(engine_arena *arena, int64_t offset, engine_error *err);
/* Free list in list order: offsets of chunk headers and their payload sizes. */
uint64_t engine_arena_free_list(const engine_arena *arena, int64_t *offsets, uint64_t *payloads,
                                uint64_t max);
void engine_arena_counters(const engine_arena *arena, uint64_t *out);
const uint8_t *engine_arena_heap_states(const engine_arena *arena);
uint64_t engine_arena_heap_cells(const engine_arena *arena);

/* ---- the block hash alone (reference, no arena) ---- */
uint64_t engine_block_hash(const uint8_t *data, size_t len);

/* ENGINE_CDEF_END */

#endif
