/*
 * malloc, mimalloc, jemalloc, tcmalloc: the same workload (the coordinator's
 * block copy and argument record, the worker's tree) on a real allocator
 * instead of the arena.  No heap map, and no lock that heapscope can count:
 * the allocator's locks (if any) are its own, so the lock count is not
 * observable (WORKLOAD.md section 9).  The lock kind does not apply: accepted
 * and ignored, as there is no arena lock to make of that kind.
 *
 * malloc is the C library's.  The others are loaded at run time with dlopen
 * (RTLD_NOW | RTLD_LOCAL: their malloc/free never replace the process's) and
 * called through their own prefixed API, so the workload really runs on
 * THAT allocator: mi_malloc/mi_free, tc_malloc/tc_free, and jemalloc's
 * mallocx/dallocx (Debian's build exports no je_ prefix; mallocx/dallocx
 * exist only in jemalloc).  A library is loaded once per process
 * (pthread_once), never unloaded, and its table is immutable afterwards.
 * HEAPSCOPE_<NAME>_LIBRARY (e.g. HEAPSCOPE_MIMALLOC_LIBRARY) names another
 * file to load instead, for a library installed elsewhere.
 *
 * Requests are rounded up to a multiple of 16 as the arena does; that makes
 * every one of these allocators return 16-byte aligned memory (their small
 * size classes below 16 are 8-aligned), and every pointer is checked anyway.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ThreadSanitizer does not see the synchronisation inside an allocator it
   did not instrument (a dlopened one): memory freed on one thread and
   handed out again on another would look like a race.  The allocator does
   order the two; tell TSan so.  The sync point is the allocator, not the
   chunk's address: jemalloc hands a freed slab back as a chunk of another
   size class, whose start is not any freed chunk's start (CI saw a 32-byte
   node freed on one thread reported racing the 2 KiB heap array that
   another thread was given over it). */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define TSAN_FREED(a) __tsan_release((void *)(a))
#define TSAN_ALLOCATED(a) __tsan_acquire((void *)(a))
#else
#define TSAN_FREED(a) ((void)(a))
#define TSAN_ALLOCATED(a) ((void)(a))
#endif

/* What the message advises for a library with initial-exec thread-locals
   (Debian's jemalloc needs 2632 bytes; glibc keeps about 1.5 KiB spare).
   engine/__main__.py starts python -m engine with the same. */
#define STATIC_TLS_TUNABLE "glibc.rtld.optional_static_tls"
#define STATIC_TLS_BYTES 8192

enum { LIB_MIMALLOC, LIB_JEMALLOC, LIB_TCMALLOC, LIB_COUNT };

/* What heapscope needs from one allocator. */
typedef struct {
    const char *name;    /* as the strategy is called */
    const char *soname;  /* the Debian library file */
    const char *package; /* the Debian package that installs it */
    const char *env;     /* overrides soname */
    const char *sym_alloc, *sym_free;
    bool with_flags; /* jemalloc: mallocx(size, flags) / dallocx(ptr, flags) */
} foreign_spec;

static const foreign_spec specs[LIB_COUNT] = {
    [LIB_MIMALLOC] = {"mimalloc", "libmimalloc.so.2", "libmimalloc2.0",
                      "HEAPSCOPE_MIMALLOC_LIBRARY", "mi_malloc", "mi_free", false},
    [LIB_JEMALLOC] = {"jemalloc", "libjemalloc.so.2", "libjemalloc2", "HEAPSCOPE_JEMALLOC_LIBRARY",
                      "mallocx", "dallocx", true},
    [LIB_TCMALLOC] = {"tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4",
                      "HEAPSCOPE_TCMALLOC_LIBRARY", "tc_malloc", "tc_free", false},
};

/* One loaded allocator (or why it is not), or the C library's. */
typedef struct {
    void *(*alloc)(size_t);
    void (*release)(void *);
    void *(*alloc_flags)(size_t, int);
    void (*release_flags)(void *, int);
    const char *name;
    bool ok;
    char why[256];
} allocator;

static allocator loaded[LIB_COUNT];
static pthread_once_t once[LIB_COUNT] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

static const allocator c_library = {
    .alloc = malloc,
    .release = free,
    .name = "malloc",
    .ok = true,
};

/* Loads one allocator into *out: ok, or why not (one line). */
static void load_allocator(const foreign_spec *spec, allocator *out)
{
    memset(out, 0, sizeof *out);
    out->name = spec->name;
    const char *file = getenv(spec->env);
    bool overridden = file && *file;
    if (!overridden)
        file = spec->soname;
    char from[80] = "";
    if (overridden)
        snprintf(from, sizeof from, " (set by %s)", spec->env);
    void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *err = dlerror();
        if (!err || strstr(err, "No such file"))
            snprintf(out->why, sizeof out->why,
                     "%s is not installed (%s%s not found; Debian package %s)", spec->name, file,
                     from, spec->package);
        else if (strstr(err, "static TLS"))
            /* Its thread-locals use the initial-exec model: they must fit in
               the static TLS that glibc sets aside when the process starts. */
            snprintf(out->why, sizeof out->why,
                     "%s cannot be loaded into this process: it needs more static TLS than glibc "
                     "reserved at start (start the process with GLIBC_TUNABLES=%s=%d; python -m "
                     "engine does)",
                     spec->name, STATIC_TLS_TUNABLE, STATIC_TLS_BYTES);
        else
            snprintf(out->why, sizeof out->why, "%s cannot be loaded (%s%s; Debian package %s)",
                     spec->name, err, from, spec->package);
        return;
    }
    void *a = dlsym(handle, spec->sym_alloc);
    void *f = dlsym(handle, spec->sym_free);
    if (!a || !f) {
        snprintf(out->why, sizeof out->why,
                 "%s cannot be used (%s%s does not export %s and %s; Debian package %s)",
                 spec->name, file, from, spec->sym_alloc, spec->sym_free, spec->package);
        dlclose(handle); /* nothing of it was used */
        return;
    }
    /* dlsym gives object pointers; POSIX guarantees they convert. */
    if (spec->with_flags) {
        memcpy(&out->alloc_flags, &a, sizeof a);
        memcpy(&out->release_flags, &f, sizeof f);
    } else {
        memcpy(&out->alloc, &a, sizeof a);
        memcpy(&out->release, &f, sizeof f);
    }
    out->ok = true; /* the handle stays open for the life of the process */
}

static void load_mimalloc(void)
{
    load_allocator(&specs[LIB_MIMALLOC], &loaded[LIB_MIMALLOC]);
}
static void load_jemalloc(void)
{
    load_allocator(&specs[LIB_JEMALLOC], &loaded[LIB_JEMALLOC]);
}
static void load_tcmalloc(void)
{
    load_allocator(&specs[LIB_TCMALLOC], &loaded[LIB_TCMALLOC]);
}

static void (*const loaders[LIB_COUNT])(void) = {load_mimalloc, load_jemalloc, load_tcmalloc};

/* The allocator, loaded on first use; immutable once returned. */
static const allocator *foreign(int lib)
{
    pthread_once(&once[lib], loaders[lib]);
    return &loaded[lib];
}

static int report(const allocator *a, char *why, size_t why_len)
{
    if (!a->ok && why && why_len)
        snprintf(why, why_len, "%s", a->why);
    return a->ok ? 1 : 0;
}

static int mimalloc_available(char *why, size_t why_len)
{
    return report(foreign(LIB_MIMALLOC), why, why_len);
}
static int jemalloc_available(char *why, size_t why_len)
{
    return report(foreign(LIB_JEMALLOC), why, why_len);
}
static int tcmalloc_available(char *why, size_t why_len)
{
    return report(foreign(LIB_TCMALLOC), why, why_len);
}

/* ------------------------------------------------------------ runs */

static int run_init_with(engine_run *run, const allocator *a)
{
    if (!a->ok) /* engine_run_create refuses an unavailable strategy first */
        return ENGINE_E_INVALID_ARG;
    run->strategy_state = (void *)a; /* shared, read-only */
    return ENGINE_OK;
}

static int malloc_run_init(engine_run *run)
{
    return run_init_with(run, &c_library);
}
static int mimalloc_run_init(engine_run *run)
{
    return run_init_with(run, foreign(LIB_MIMALLOC));
}
static int jemalloc_run_init(engine_run *run)
{
    return run_init_with(run, foreign(LIB_JEMALLOC));
}
static int tcmalloc_run_init(engine_run *run)
{
    return run_init_with(run, foreign(LIB_TCMALLOC));
}

static void real_run_destroy(engine_run *run)
{
    run->strategy_state = NULL; /* the allocator table is not the run's */
}

static void real_worker_init(worker *w)
{
    w->state = w->run->strategy_state;
}

/* NULL or a misaligned pointer: the run fails with a one-line reason. */
static void real_fail(worker *w, uint32_t slot, uint64_t size, const char *what, void *p)
{
    engine_run *run = w->run;
    const allocator *a = w->state;
    engine_error err = {0};
    err.block_index = w->block_index;
    err.slot = slot >= run->nslots ? ENGINE_OWNER_COORDINATOR : (int32_t)slot;
    err.requested = size;
    snprintf(err.what, sizeof err.what, "%s", what);
    char who[32];
    if (slot >= run->nslots)
        snprintf(who, sizeof who, "the coordinator");
    else
        snprintf(who, sizeof who, "worker %u", slot);
    if (!p)
        error_set(&err, ENGINE_E_HEAP_EXHAUSTED,
                  "heap exhausted: %s returned NULL when %s asked for %llu bytes (%s) for block "
                  "%lld",
                  a->name, who, (unsigned long long)size, what, (long long)w->block_index);
    else
        error_set(&err, ENGINE_E_NO_MEMORY,
                  "%s returned %p, not 16-byte aligned, when %s asked for %llu bytes (%s) for "
                  "block %lld",
                  a->name, p, who, (unsigned long long)size, what, (long long)w->block_index);
    run_fail(run, &err);
}

static void *real_alloc_at(worker *w, uint32_t slot, uint64_t size, const char *what)
{
    const allocator *a = w->state;
    /* Rounded to 16 as the arena rounds (and never 0: mallocx(0) is undefined). */
    uint64_t want = size ? (size + 15u) & ~(uint64_t)15u : 16u;
    void *p = want > SIZE_MAX ? NULL
              : a->alloc      ? a->alloc((size_t)want)
                              : a->alloc_flags((size_t)want, 0);
    if (!p || ((uintptr_t)p & 15u)) {
        if (p) { /* give it back before failing */
            if (a->release)
                a->release(p);
            else
                a->release_flags(p, 0);
        }
        w->status = p ? ENGINE_E_NO_MEMORY : ENGINE_E_HEAP_EXHAUSTED;
        real_fail(w, slot, size, what, p);
        return NULL;
    }
    TSAN_ALLOCATED(a);
    return p;
}

static void *real_alloc(worker *w, uint64_t size, const char *what)
{
    void *p = real_alloc_at(w, w->slot, size, what);
    if (p)
        run_slow_motion(w->run, w->slot);
    return p;
}

static int real_free(worker *w, void *ptr, const char *what)
{
    (void)what;
    const allocator *a = w->state;
    if (!ptr)
        return ENGINE_OK;
    TSAN_FREED(a);
    if (a->release)
        a->release(ptr);
    else
        a->release_flags(ptr, 0);
    return ENGINE_OK;
}

static void *real_coordinator_alloc(worker *w, uint64_t size, const char *what, bool is_record)
{
    (void)is_record;
    return real_alloc_at(w, w->run->nslots, size, what);
}

#define REAL_STRATEGY(id, label, available_fn, init_fn)                                            \
    const strategy_ops id = {                                                                      \
        .name = label,                                                                             \
        .threaded = true,                                                                          \
        .no_arena = true,                                                                          \
        .available = available_fn,                                                                 \
        .run_init = init_fn,                                                                       \
        .run_destroy = real_run_destroy,                                                           \
        .worker_init = real_worker_init,                                                           \
        .alloc = real_alloc,                                                                       \
        .free = real_free,                                                                         \
        .coordinator_alloc = real_coordinator_alloc,                                               \
    }

REAL_STRATEGY(strategy_malloc, "malloc", NULL, malloc_run_init);
REAL_STRATEGY(strategy_mimalloc, "mimalloc", mimalloc_available, mimalloc_run_init);
REAL_STRATEGY(strategy_jemalloc, "jemalloc", jemalloc_available, jemalloc_run_init);
REAL_STRATEGY(strategy_tcmalloc, "tcmalloc", tcmalloc_available, tcmalloc_run_init);
