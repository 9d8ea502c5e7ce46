/*
 * Long-lived workers (--workers N): N threads started once, each fed blocks
 * through its own small queue, round robin.  The coordinator reads and copies
 * blocks while the workers hash earlier ones; a worker resets its pool
 * (batch_done) after each block.  Lock acquisitions per block are the same as
 * with a thread per block: only thread creation goes away.
 *
 * Why a queue and not one block at a time: every hand-over that finds the
 * other side asleep costs a futex wake-up, and on a virtual machine a wake-up
 * costs about as much as hashing a block.  The coordinator fills a queue up to
 * its depth and then sleeps until the worker has taken half of it, so both
 * sides sleep once per few blocks instead of once per block, and what the
 * benchmark compares is the allocators, not the scheduler.
 */
#include <string.h>

#include "internal.h"

typedef struct {
    worker w;       /* the worker's own, written only on its thread */
    worker handoff; /* the same slot seen from the coordinator, for its allocations */
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a block was handed over, taken, or stop was set */
    /* Handed over, not yet taken: a ring of engine_config_queue_depth entries. */
    block_args *queue[ENGINE_QUEUE_MAX_DEPTH];
    uint32_t head, count;
    bool stop;
    /* Who is waiting on this mailbox, counted as quiescent for pause.  The
       thread that wakes the other takes it out of the count at once, under
       the mailbox lock: a woken thread is never counted as parked while it
       is about to move. */
    bool worker_waiting, coordinator_waiting;
    uint64_t sum;        /* this worker's block hashes, modulo ENGINE_HASH_MODULUS */
    uint64_t result_box; /* where args->result points (the worker adds to sum) */
} mailbox;

/* Waits on the mailbox (lock held) as a quiescent thread; *waiting is
   cleared, and the count dropped, by whoever wakes it (or by itself). */
static void wait_quiescent(engine_run *run, mailbox *mb, bool *waiting)
{
    if (!*waiting) {
        *waiting = true;
        quiescent_add(run, 1);
    }
    pthread_cond_wait(&mb->changed, &mb->lock);
}

static void stop_waiting(engine_run *run, bool *waiting)
{
    if (*waiting) {
        *waiting = false;
        quiescent_add(run, -1);
    }
}

static void *long_lived_main(void *p)
{
    mailbox *mb = p;
    worker *w = &mb->w;
    engine_run *run = w->run;
    const uint32_t depth = engine_config_queue_depth(&run->cfg);
    for (;;) {
        pthread_mutex_lock(&mb->lock);
        while (!mb->count && !mb->stop)
            wait_quiescent(run, mb, &mb->worker_waiting);
        stop_waiting(run, &mb->worker_waiting);
        block_args *args = NULL; /* none: stopped with nothing left to do */
        if (mb->count) {
            args = mb->queue[mb->head];
            mb->head = (mb->head + 1) % depth;
            mb->count--;
        }
        /* The coordinator waits for a full queue to be half taken (at once
           when the queue holds one block, or when nothing is left). */
        if (mb->coordinator_waiting && (mb->count <= depth / 2 || !args)) {
            stop_waiting(run, &mb->coordinator_waiting);
            pthread_cond_signal(&mb->changed);
        }
        pthread_mutex_unlock(&mb->lock);
        if (!args)
            break;
        w->block_index = args->block_index;
        w->status = ENGINE_OK;
        slot_enter(run, w->slot, ENGINE_T_COMPUTE);
        slot_set_state(run, w->slot, ENGINE_SLOT_COMPUTING);
        uint64_t hash = 0;
        if (worker_run_block(w, args, &hash) == ENGINE_OK)
            mb->sum = (mb->sum + hash) % ENGINE_HASH_MODULUS;
        if (w->ops->batch_done)
            w->ops->batch_done(w);
        slot_enter(run, w->slot, ENGINE_T_IDLE);
        slot_set_state(run, w->slot, ENGINE_SLOT_IDLE);
    }
    engine_threads_add(run, -1); /* the last thing this thread does to the run */
    return NULL;
}

/* Starts the workers; false (the run failed) when one cannot be created. */
static bool start_workers(engine_run *run, mailbox *mbs, uint32_t n)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    bool ok = true;
    slot_enter(run, run->nslots, ENGINE_T_THREAD_START_JOIN);
    for (uint32_t s = 0; s < n && ok; s++) {
        engine_threads_add(run, 1);
        int rc = pthread_create(&mbs[s].thread, &attr, long_lived_main, &mbs[s]);
        if (rc != 0) {
            engine_threads_add(run, -1);
            engine_error err = {.block_index = -1, .slot = (int32_t)s, .sys_errno = rc};
            error_set(&err, ENGINE_E_THREAD, "cannot create long-lived worker %u: %s", s,
                      strerror(rc));
            run_fail(run, &err);
            ok = false;
        } else {
            mbs[s].started = true;
        }
    }
    slot_enter(run, run->nslots, ENGINE_T_IDLE);
    pthread_attr_destroy(&attr);
    return ok;
}

static void stop_and_join_workers(engine_run *run, mailbox *mbs, uint32_t n)
{
    /* While it joins, the coordinator changes nothing: it counts as parked. */
    quiescent_add(run, 1);
    slot_enter(run, run->nslots, ENGINE_T_THREAD_START_JOIN);
    for (uint32_t s = 0; s < n; s++) {
        pthread_mutex_lock(&mbs[s].lock);
        mbs[s].stop = true;
        pthread_cond_signal(&mbs[s].changed);
        pthread_mutex_unlock(&mbs[s].lock);
    }
    for (uint32_t s = 0; s < n; s++)
        if (mbs[s].started)
            pthread_join(mbs[s].thread, NULL);
    slot_enter(run, run->nslots, ENGINE_T_IDLE);
    quiescent_add(run, -1);
}

/* Feeds every block to the workers, round robin: each worker's queue is
   filled up to its depth before the next worker's. */
static void feed_blocks(engine_run *run, mailbox *mbs, uint32_t n, uint8_t *buf)
{
    const uint32_t coord = run->nslots, depth = engine_config_queue_depth(&run->cfg);
    uint64_t offset = 0;
    int64_t next_block = 0;
    for (uint32_t s = 0; run_checkpoint(run, coord); s = (s + 1) % n) {
        mailbox *mb = &mbs[s];
        pthread_mutex_lock(&mb->lock);
        while (mb->count == depth && !run_should_stop(run))
            wait_quiescent(run, mb, &mb->coordinator_waiting);
        stop_waiting(run, &mb->coordinator_waiting);
        pthread_mutex_unlock(&mb->lock);
        for (bool full = false; !full && run_checkpoint(run, coord);) {
            mb->handoff.block_index = next_block;
            block_args *args = NULL;
            if (coordinator_next_block(run, &mb->handoff, buf, &offset, &mb->result_box, &args) <=
                0)
                return;
            pthread_mutex_lock(&mb->lock);
            mb->queue[(mb->head + mb->count) % depth] = args;
            full = ++mb->count == depth;
            if (mb->worker_waiting) { /* the worker has work now */
                stop_waiting(run, &mb->worker_waiting);
                pthread_cond_signal(&mb->changed);
            }
            pthread_mutex_unlock(&mb->lock);
            next_block++;
        }
    }
}

void run_long_lived(engine_run *run)
{
    uint32_t n = run->nslots;
    mailbox *mbs = calloc(n, sizeof *mbs);
    uint8_t *buf = malloc(run->cfg.block_size);
    if (!mbs || !buf) {
        engine_error err = {.block_index = -1, .slot = -1};
        error_set(&err, ENGINE_E_NO_MEMORY, "out of host memory for %u workers", n);
        run_fail(run, &err);
        free(mbs);
        free(buf);
        return;
    }
    for (uint32_t s = 0; s < n; s++) {
        worker *w = &mbs[s].w;
        w->run = run;
        w->arena = &run->arena;
        w->ops = run->ops;
        w->slot = s;
        if (run->ops->worker_init)
            run->ops->worker_init(w);
        mbs[s].handoff = *w;
        pthread_mutex_init(&mbs[s].lock, NULL);
        pthread_cond_init(&mbs[s].changed, NULL);
    }
    if (start_workers(run, mbs, n))
        feed_blocks(run, mbs, n, buf);
    stop_and_join_workers(run, mbs, n);
    for (uint32_t s = 0; s < n; s++) {
        run->signature = (run->signature + mbs[s].sum) % ENGINE_HASH_MODULUS;
        pthread_mutex_destroy(&mbs[s].lock);
        pthread_cond_destroy(&mbs[s].changed);
    }
    free(mbs);
    free(buf);
}
