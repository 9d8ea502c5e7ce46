/*
 * Declarations shared by the engine's C files; not seen by cffi.
 */
#ifndef HEAPSCOPE_INTERNAL_H
#define HEAPSCOPE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "engine.h"

#define RELAXED memory_order_relaxed

typedef _Atomic uint64_t atomic_u64;
typedef _Atomic uint8_t atomic_u8;

/* Single-writer counter update: cheaper than an atomic read-modify-write, and
   still a clean atomic access for readers on other threads. */
static inline void counter_add(atomic_u64 *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RELAXED) + v, RELAXED);
}

static inline void counter_sub(atomic_u64 *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RELAXED) - v, RELAXED);
}

static inline uint64_t counter_get(const atomic_u64 *c)
{
    return atomic_load_explicit((atomic_u64 *)c, RELAXED);
}

/* C11's aligned_alloc wants a size that is a multiple of the alignment. */
static inline void *aligned_alloc_rounded(size_t alignment, size_t size)
{
    return aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}

/* A spin-wait's pause: lets the other hyperthread run and saves power. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* util.c: now_ns is the telemetry's clock (the TSC where the kernel trusts
   it, else CLOCK_MONOTONIC); monotonic_ns is CLOCK_MONOTONIC itself, for
   deadlines given to pthread_cond_timedwait. */
uint64_t now_ns(void);
uint64_t monotonic_ns(void);
void error_set(engine_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct worker worker;
typedef struct strategy_ops strategy_ops;

/* ------------------------------------------------------------ strategies */

/* One allocator strategy: everything that differs between strategies lives
   behind these hooks, so runner.c never names one.  Hooks marked "may be
   NULL" are skipped when absent.  Adding a strategy = one strategy_<name>.c
   defining its strategy_ops, and one line in strategy_table.c. */
struct strategy_ops {
    const char *name;
    /* false: the coordinator hashes every block itself on one thread slot,
       with no locks (the reference); true: a thread per block, in batches,
       or long-lived workers. */
    bool threaded;
    /* true: the strategy allocates elsewhere than the arena (malloc and the
       production allocators): no heap map, lock acquisitions not observable. */
    bool no_arena;
    /* May be NULL (always available): 1 when it can run here, else 0 and why. */
    int (*available)(char *why, size_t why_len);
    /* Bytes at the start of the arena taken out of the shared free list
       (pools); may be NULL for none. */
    uint64_t (*reserved_bytes)(const engine_config *cfg);
    /* Per-run private state (run->strategy_state) and its heap-map marks;
       returns an engine_status.  May be NULL. */
    int (*run_init)(engine_run *run);
    void (*run_destroy)(engine_run *run); /* may be NULL */
    /* Sets up one thread slot's worker (w->slot, w->run are set). May be NULL. */
    void (*worker_init)(worker *w);
    void *(*alloc)(worker *w, uint64_t size, const char *what);
    int (*free)(worker *w, void *ptr, const char *what);
    /* On the worker's thread once its block is hashed.  May be NULL. */
    void (*block_done)(worker *w);
    /* On the coordinator, per slot, after the batch's threads are joined; on
       a long-lived worker, after each of its blocks.  May be NULL. */
    void (*batch_done)(worker *w);
    /* The coordinator's per-block allocations (buffer copy, argument record)
       for the worker w; NULL hook = the locked shared allocator. */
    void *(*coordinator_alloc)(worker *w, uint64_t size, const char *what, bool is_record);
};

/* strategy_table.c: indexed by engine_strategy; NULL when out of range. */
const strategy_ops *strategy_for(int strategy);
extern const strategy_ops strategy_single, strategy_baseline, strategy_pooled, strategy_floor;
extern const strategy_ops strategy_sizeclass, strategy_batched;
/* strategy_malloc.c: the C library's malloc and the production allocators */
extern const strategy_ops strategy_malloc, strategy_mimalloc, strategy_jemalloc, strategy_tcmalloc;

/* ---------------------------------------------------------------- arena */

/* Every chunk starts with this 16-byte header.  Allocated: payload size and
   the magic word.  Free: payload size and the next free chunk. */
typedef struct chunk {
    uint64_t size;
    union {
        uint64_t magic;
        struct chunk *next;
    };
} chunk;

#define CHUNK_MAGIC 0xDEADBEEFull
#define HEADER_BYTES 16u

struct engine_arena {
    uint8_t *base;   /* start of the whole arena (pools included) */
    uint64_t size;   /* whole arena */
    uint8_t *region; /* start of the free-list region */
    uint64_t region_size;
    chunk *head; /* address-ordered free list */
    /* Written only under the allocator lock (or by the one thread that owns
       the arena), read by telemetry readers at any time. */
    atomic_u64 global_allocs, global_frees, free_list_length;
    atomic_u64 visits_alloc, visits_free, bytes_in_use, sliver_bytes;
    atomic_u64 free_list_longest;
    /* Heap map, one byte per 16-byte cell; NULL when telemetry is off.
       Atomic bytes: workers write them while the GUI copies them. */
    atomic_u8 *cell_state;
    atomic_u8 *cell_owner;
    bool owns_memory; /* created by engine_arena_create */
};

/* Lays out an arena over memory the caller owns; region_offset bytes at the
   start are left out of the free list (the pools). */
void arena_init(engine_arena *a, uint8_t *base, uint64_t size, uint64_t region_offset,
                atomic_u8 *cell_state, atomic_u8 *cell_owner);
/* First fit; NULL when nothing fits (or size is 0).  mark_cells false
   leaves the chunk's cells on the heap map to arena_mark_allocated. */
void *arena_umalloc(engine_arena *a, uint64_t size, uint8_t owner, bool mark_cells);
void arena_mark_allocated(engine_arena *a, const void *payload, uint8_t owner);
/* ENGINE_OK, or ENGINE_E_INVALID_FREE with err filled.  mark_cells false:
   the caller marked them already (arena_mark_freeing). */
int arena_ufree(engine_arena *a, void *ptr, bool mark_cells, engine_error *err);
/* Marks a valid allocated chunk's cells free; anything else is left to
   arena_ufree to report.  Reads the chunk's header without the lock: only
   for a chunk the caller allocated and has not freed yet (the workload
   frees only what it allocated; arena_ufree checks again under the lock). */
void arena_mark_freeing(engine_arena *a, void *ptr);
/* Free bytes, largest free payload, list length (walks the list). */
void arena_describe(const engine_arena *a, uint64_t *free_bytes, uint64_t *largest,
                    uint64_t *length);
/* Copies count cells with atomic loads (see heap_map_mark). */
void heap_map_copy(const atomic_u8 *cells, uint8_t *out, uint64_t count);
void heap_map_mark(atomic_u8 *states, atomic_u8 *owners, uint64_t offset, uint64_t bytes,
                   uint8_t state, uint8_t owner);

/* ---------------------------------------------------------------- locks */

/* An allocator lock of the run's kind (engine_lock_kind). */
typedef struct {
    int kind;
    pthread_mutex_t mutex; /* mutex and adaptive */
    _Atomic int spin;      /* spin: 1 while held */
} alloc_lock;

/* locking.c: the raw lock, no accounting (ENGINE_OK or ENGINE_E_NO_MEMORY). */
int alloc_lock_init(alloc_lock *l, int kind);
void alloc_lock_destroy(alloc_lock *l);

/* ---------------------------------------------------------------- runs */

enum {
    SC_ACQ_ALLOC,
    SC_ACQ_FREE,
    SC_CONTENDED,
    SC_POOL_ALLOCS,
    SC_POOL_FREES,
    SC_BLOCKS_DONE,
    SC_BYTES_DONE,
    SC_POOL_BYTES_IN_USE,
    SC_SLOW_DEBT_NS,  /* slow motion owed but not yet slept */
    SC_MID_BLOCK_SUM, /* workers mid-block at each of this slot's acquisitions */
    SC_SLAB_REFILLS,  /* sizeclass */
    SC_CACHE_REFILLS, /* batched */
    SC_CACHE_FLUSHES, /* batched */
    SC_TRYLOCK_FAILS, /* batched */
    /* Where the slot's time goes (slot_enter): nanoseconds per engine_time_state
       up to the last transition, the state since then and when it began, and a
       sequence number, odd while a transition is being written. */
    SC_TIME,
    SC_TIME_END = SC_TIME + ENGINE_T_IDLE, /* idle is the rest of the wall time */
    SC_TSTATE = SC_TIME_END,
    SC_TSINCE,
    SC_TSEQ,
    /* Timeline boundaries (every ENGINE_TIMELINE_INTERVAL_US after t0): the
       next one this lane's current state has not crossed yet (now_ns clock),
       and how many crossing records it has written (see slot_crossed). */
    SC_XNEXT,
    SC_XCOUNT,
    SC_COUNT
};
/* The finished lock waits, and the other states' time so far. */
#define SC_WAIT_NS (SC_TIME + ENGINE_T_LOCK_WAIT)

/* One row per thread slot (plus one for the coordinator), each written by a
   single thread at a time, padded so slots never share a cache line. */
typedef struct {
    _Alignas(128) atomic_u64 v[32];
} slot_counters;

_Static_assert(SC_COUNT <= 32, "slot counter row too small");

/* A slot's nanoseconds per busy state (ENGINE_T_IDLE entries), the state in
   progress counted up to now (a time the caller read before calling); safe
   from any thread. */
void slot_times(const slot_counters *sc, uint64_t now, uint64_t *out);

struct engine_run {
    engine_config cfg;
    int fd;
    char *path;
    char path_shown[128]; /* printable, shortened: for messages */
    uint64_t total_bytes, total_blocks;
    struct timespec input_mtime; /* to notice an input changed mid-run */
    uint32_t nslots;             /* worker slots; the coordinator is nslots */

    uint8_t *arena_memory;
    engine_arena arena;
    uint64_t pool_reserved; /* bytes reserved at the arena start (pools) */
    alloc_lock arena_lock;  /* the shared free list's lock */

    slot_counters *slots;               /* nslots + 1 rows */
    atomic_u8 *slot_states;             /* nslots + 1 bytes */
    atomic_u8 *cell_state, *cell_owner; /* NULL without telemetry */
    uint64_t ncells;
    const strategy_ops *ops;
    void *strategy_state; /* the strategy's own, from its run_init */

    _Atomic int state;
    /* Read on every allocation, written only by the controls: on lines of
       their own, apart from what the threads write per block (mid_block,
       pause_lock), whose writes would make every read here a cache miss. */
    _Alignas(128) _Atomic int cancelled;
    _Atomic int paused;
    _Atomic uint32_t speed_ppm;
    /* With a thread per block: when the next telemetry sample is due (now_ns
       clock; UINT64_MAX otherwise), for whichever engine thread is awake to
       take it (sampler_poll).  Changes every few ms. */
    atomic_u64 sampler_due_at;
    _Alignas(128) pthread_mutex_t pause_lock;
    pthread_cond_t pause_cond;
    /* Under pause_lock: engine threads that exist (coordinator + workers
       started and not yet done) and how many of them are parked (or, for the
       coordinator, joining workers).  Equal while paused = nothing moves. */
    uint32_t engine_threads;
    uint32_t quiescent_threads;
    bool pause_sampler; /* a parked thread takes the samples (run_park) */
    /* Workers between the start and the end of their block: sampled at every
       lock acquisition, it shows the pile-up that contention causes. */
    _Alignas(128) _Atomic uint32_t mid_block;

    _Alignas(128) pthread_mutex_t error_lock;
    bool has_error;
    engine_error error;

    uint64_t signature;
    atomic_u64 t0_ns, wall_ns;

    /* Timeline: every lane's cumulative busy time per state, sampled each
       millisecond; rows of 1 + (nslots + 1) * ENGINE_T_IDLE words.  When full,
       the older half is thinned, so the last seconds keep full resolution. */
    atomic_u64 *timeline;
    /* Per lane, a ring of ENGINE_CROSSING_RECORDS records of the states that
       crossed a timeline boundary (slot_crossed); NULL without telemetry. */
    atomic_u64 *crossings;
    /* The sampler's own, written by whichever thread samples (see
       sampler_start): the next timeline boundary to write, the series'
       interval and next row, and when anything is next due (ns after t0). */
    uint64_t next_boundary_row;
    uint64_t series_interval_ns, next_series_ns, sampler_due_ns;
    uint64_t timeline_capacity, timeline_words;
    atomic_u64 timeline_rows;
    atomic_u64 timeline_generation; /* odd while thinning */

    /* Sampler: a time series that downsamples itself when full. */
    atomic_u64 *series; /* capacity rows of 1 + COUNTER_COUNT */
    uint64_t series_capacity;
    atomic_u64 series_rows;
    atomic_u64 series_generation; /* odd while compacting */
    pthread_t sampler;
    bool sampler_running;
    bool sampler_shared; /* no sampler thread: see sampler_start */
    _Atomic int sampler_busy; /* the token of the thread taking a sample */
    pthread_mutex_t sampler_lock;
    pthread_cond_t sampler_cond;
    bool sampler_stop;
};

/* Per-thread state while a block is hashed. */
struct worker {
    engine_run *run; /* NULL for the standalone block hash */
    engine_arena *arena;
    const strategy_ops *ops;
    uint32_t slot;
    int64_t block_index;
    void *state; /* the strategy's per-slot state */
    int status;  /* first failure in this worker */
    /* the argument record the coordinator handed over */
    void *arg_record;
};

/* A bump region: a pool (pooled) or scratch (floor).  One per worker, each
   on its own cache lines (written on every allocation: two workers' regions
   sharing a line cost pooled 15% of its speed). */
typedef struct {
    _Alignas(128) uint8_t *base;
    uint64_t size;
    uint64_t used;
    /* Pooled: how far the fast path may bump (the pool's size at full
       speed, 0 in slow motion), the bytes already shown on the heap map and
       counted in the slot's counters, and the allocations and frees not
       counted there yet. */
    uint64_t fast_limit;
    uint64_t marked, publish_at;
    uint64_t unpublished_allocs, unpublished_frees;
} bump_region;

/* The argument record, allocated on the arena by the coordinator. */
typedef struct {
    int64_t block_index;
    uint8_t *buffer;
    uint64_t length;
    uint64_t *result;
} block_args;

#define ARG_RECORD_BYTES 32u
_Static_assert(sizeof(block_args) == ARG_RECORD_BYTES, "argument record is 32 bytes");

/* runner.c: one block on a worker's thread: hash, then free what the
   coordinator handed over (counted, the pile-up tracked); *hash_out is set
   when it returns ENGINE_OK. */
int worker_run_block(worker *w, block_args *args, uint64_t *hash_out);
/* On the coordinator: reads the next block and hands it to w (its copy and
   argument record allocated for w, result pointing at *result).  1 = *out
   ready, 0 = end of input, -1 = the run failed. */
int coordinator_next_block(engine_run *run, worker *w, uint8_t *buf, uint64_t *offset,
                           uint64_t *result, block_args **out);

/* Worker threads' stacks: the tree is on the arena, the stack holds little. */
#define WORKER_STACK_BYTES (1024u * 1024u)

/* workers.c: N long-lived workers, each fed blocks through its own queue. */
void run_long_lived(engine_run *run);


/* workload.c: the Huffman block hash, allocating through the worker. */
int block_hash(worker *w, const uint8_t *data, uint64_t len, uint64_t *hash_out);

/* strategy_table.c: the workload's allocations, through the worker's strategy */
void *worker_alloc(worker *w, uint64_t size, const char *what);
int worker_free(worker *w, void *ptr, const char *what);

/* strategy_baseline.c: the locked shared allocator, also every strategy's fallback */
void *baseline_alloc(worker *w, uint64_t size, const char *what);
int baseline_free(worker *w, void *ptr, const char *what);

/* locking.c: any allocator lock with the accounting every strategy shares:
   the acquisition counted (counter: SC_ACQ_ALLOC or SC_ACQ_FREE), contention,
   the pile-up, the slot's display state and its time (lock_wait, then
   in_allocator until run_unlock). */
void run_lock(engine_run *run, uint32_t slot, alloc_lock *l, int counter);
/* One try: true = held, accounted like run_lock; false = busy, counted in
   SC_TRYLOCK_FAILS, nothing else changes. */
bool run_trylock(engine_run *run, uint32_t slot, alloc_lock *l, int counter);
void run_unlock(engine_run *run, uint32_t slot, alloc_lock *l);
/* umalloc/ufree on the run's arena under its arena lock. */
void *locked_alloc(engine_run *run, uint32_t slot, int64_t block, uint64_t size, const char *what);
int locked_free(engine_run *run, uint32_t slot, int64_t block, void *ptr, const char *what);

/* runner.c: control points shared by the strategies.  The fast paths are
   inline: they run on every allocation. */
static inline bool run_should_stop(engine_run *run)
{
    return atomic_load_explicit(&run->cancelled, RELAXED) != 0;
}
bool run_park(engine_run *run, uint32_t slot);
/* Parks while paused; false when the run is being cancelled. */
static inline bool run_checkpoint(engine_run *run, uint32_t slot)
{
    if (atomic_load_explicit(&run->paused, memory_order_acquire))
        return run_park(run, slot);
    return !run_should_stop(run);
}
void run_slow_motion_delay(engine_run *run, uint32_t slot, uint32_t speed_ppm);
/* The user slowed the run below full speed. */
static inline bool run_is_slowed(const engine_run *run)
{
    return atomic_load_explicit(&run->speed_ppm, RELAXED) < ENGINE_SPEED_FULL;
}
/* Slow motion: sleeps in proportion to the speed setting. */
static inline void run_slow_motion(engine_run *run, uint32_t slot)
{
    uint32_t speed = atomic_load_explicit(&run->speed_ppm, RELAXED);
    if (speed < ENGINE_SPEED_FULL)
        run_slow_motion_delay(run, slot, speed);
}
/* Records the run's first error (later ones are dropped). */
void run_fail(engine_run *run, const engine_error *err);
void run_fail_exhausted(engine_run *run, uint32_t slot, int64_t block, uint64_t size,
                        const char *what);
static inline void slot_set_state(engine_run *run, uint32_t slot, uint8_t state)
{
    if (run->slot_states)
        atomic_store_explicit(&run->slot_states[slot], state, RELAXED);
}

/* telemetry.c: records that the state a lane is leaving crossed a timeline
   boundary (at most once a boundary, so about once a millisecond). */
#define ENGINE_CROSSING_RECORDS 64u
#define ENGINE_CROSSING_WORDS 8u
void slot_crossed(engine_run *run, uint32_t slot, uint64_t state, uint64_t since, uint64_t now);

/* Moves a slot to another time state now.  A seqlock lets readers on other
   threads see the three words change together; the clock is read after the
   sequence turns odd, so a reader that saw an even sequence after reading its
   own time t has every transition from before t (rows never go backwards).
   Returns the time of the transition (0 without telemetry). */
static inline uint64_t slot_enter(engine_run *run, uint32_t slot, int state)
{
    if (!run->cfg.telemetry)
        return 0; /* without telemetry nothing is timed: what benchmarks compare */
    atomic_u64 *v = run->slots[slot].v;
    uint64_t seq = counter_get(&v[SC_TSEQ]);
    atomic_store_explicit(&v[SC_TSEQ], seq + 1, RELAXED);
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t now = now_ns();
    uint64_t current = counter_get(&v[SC_TSTATE]), since = counter_get(&v[SC_TSINCE]);
    if (now >= counter_get(&v[SC_XNEXT]))
        slot_crossed(run, slot, current, since, now);
    if (current < ENGINE_T_IDLE && now > since)
        counter_add(&v[SC_TIME + current], now - since);
    atomic_store_explicit(&v[SC_TSTATE], (uint64_t)state, RELAXED);
    atomic_store_explicit(&v[SC_TSINCE], now, RELAXED);
    atomic_store_explicit(&v[SC_TSEQ], seq + 2, memory_order_release);
    return now;
}

/* control.c: engine threads in and out of the pause accounting */
void engine_threads_add(engine_run *run, int delta);
void quiescent_add(engine_run *run, int delta);

/* input.c: opens a regular file only (non-blocking, so a FIFO cannot hang
   it); shown gets the path as messages print it. */
struct stat;
int input_open(const char *path, char *shown, size_t shown_len, int *fd_out, struct stat *st,
               engine_error *err);
/* The next block: its length, 0 at the end, -1 when the run failed. */
int64_t input_read_block(engine_run *run, uint8_t *buf, uint64_t offset);

/* telemetry.c */
void telemetry_snapshot(const engine_run *run, uint64_t *out);
/* The sampler takes a series row every sample_interval_us and writes the
   timeline's boundary rows.  With long-lived workers or none it is a thread
   of its own.  With a thread per block (shared) there is no sampler thread:
   on this 2-core machine one cost pooled runs 4-6% even asleep, and waking
   the coordinator from its joins with a timer cost 3% more (arming a timer
   is probably a VM exit here; README, Benchmark).  Instead, whichever engine
   thread is awake when a sample is due takes it (sampler_poll): the
   coordinator between thread creations, a worker after it releases a lock
   or before a slow-motion sleep, and, while paused, the first thread that
   parked. */
int sampler_start(engine_run *run, bool shared);
void sampler_stop(engine_run *run);
/* Takes the samples due by now, unless another thread is taking them. */
void sampler_take(engine_run *run);
/* now: a now_ns() time, e.g. what slot_enter returned. */
static inline bool sampler_is_due(const engine_run *run, uint64_t now)
{
    return now >= atomic_load_explicit(&run->sampler_due_at, RELAXED);
}
static inline void sampler_poll(engine_run *run, uint64_t now)
{
    if (sampler_is_due(run, now))
        sampler_take(run);
}
/* When the next sample is due, on CLOCK_MONOTONIC (for timed waits). */
void sampler_deadline(const engine_run *run, struct timespec *deadline);

#endif
