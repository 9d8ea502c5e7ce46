/*
 * The exercise's allocator (umalloc/ufree): first fit over an address-ordered
 * free list, with the exercise's split rule, its 16-byte slivers and one full
 * coalescing pass per free.  Callers provide the locking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t round16(uint64_t n)
{
    return (n + 15u) & ~(uint64_t)15u;
}

/* Relaxed atomic stores rather than memset: the GUI copies the map while
   workers write it (engine_run_copy_heap_map), and a plain memset racing with
   that read is a data race.  Eight cells per store where the map is 8-byte
   aligned (it is page aligned): as cheap as memset for the spans drawn here. */
static void fill_cells(atomic_u8 *cells, uint64_t i, uint64_t end, uint8_t value)
{
    while (i < end && ((uintptr_t)&cells[i] & 7u) != 0)
        atomic_store_explicit(&cells[i++], value, RELAXED);
    uint64_t word = 0x0101010101010101ull * value;
    for (; i + 8 <= end; i += 8)
        __atomic_store_n((uint64_t *)(void *)&cells[i], word, __ATOMIC_RELAXED);
    for (; i < end; i++)
        atomic_store_explicit(&cells[i], value, RELAXED);
}

void heap_map_mark(atomic_u8 *states, atomic_u8 *owners, uint64_t offset, uint64_t bytes,
                   uint8_t state, uint8_t owner)
{
    if (!states)
        return;
    uint64_t first = offset / ENGINE_CELL_BYTES;
    uint64_t end = first + bytes / ENGINE_CELL_BYTES;
    fill_cells(states, first, end, state);
    fill_cells(owners, first, end, owner);
}

/* Eight cells per atomic load where the map is 8-byte aligned (it comes from
   calloc): a whole 256 MiB heap's map copies in ~1/8 of the byte-wise time.
   Atomic accesses of different sizes to the same bytes are still atomic on
   every target we build for, and ThreadSanitizer treats them as such. */
void heap_map_copy(const atomic_u8 *cells, uint8_t *out, uint64_t count)
{
    uint64_t i = 0;
    while (i < count && ((uintptr_t)&cells[i] & 7u) != 0) {
        out[i] = atomic_load_explicit((atomic_u8 *)&cells[i], RELAXED);
        i++;
    }
    for (; i + 8 <= count; i += 8) {
        uint64_t word =
            __atomic_load_n((const uint64_t *)(const void *)&cells[i], __ATOMIC_RELAXED);
        memcpy(out + i, &word, 8);
    }
    for (; i < count; i++)
        out[i] = atomic_load_explicit((atomic_u8 *)&cells[i], RELAXED);
}

static uint64_t offset_of(const engine_arena *a, const void *p)
{
    return (uint64_t)((const uint8_t *)p - a->base);
}

static void mark(engine_arena *a, const void *p, uint64_t bytes, uint8_t state, uint8_t owner)
{
    heap_map_mark(a->cell_state, a->cell_owner, offset_of(a, p), bytes, state, owner);
}

void arena_init(engine_arena *a, uint8_t *base, uint64_t size, uint64_t region_offset,
                atomic_u8 *cell_state, atomic_u8 *cell_owner)
{
    memset(a, 0, sizeof *a);
    a->base = base;
    a->size = size;
    a->region = base + region_offset;
    a->region_size = size - region_offset;
    a->cell_state = cell_state;
    a->cell_owner = cell_owner;
    a->head = (chunk *)a->region;
    a->head->size = a->region_size - HEADER_BYTES;
    a->head->next = NULL;
    atomic_store_explicit(&a->free_list_length, 1, RELAXED);
    atomic_store_explicit(&a->free_list_longest, 1, RELAXED);
    mark(a, a->region, a->region_size, ENGINE_CELL_FREE, ENGINE_OWNER_NONE);
}

void arena_mark_allocated(engine_arena *a, const void *payload, uint8_t owner)
{
    if (!a->cell_state)
        return;
    const chunk *c = (const chunk *)((const uint8_t *)payload - HEADER_BYTES);
    mark(a, c, HEADER_BYTES, ENGINE_CELL_HEADER, owner);
    mark(a, payload, c->size, ENGINE_CELL_GLOBAL, owner);
}

void *arena_umalloc(engine_arena *a, uint64_t size, uint8_t owner, bool mark_cells)
{
    if (size == 0 || size > a->region_size)
        return NULL;
    uint64_t want = round16(size);

    chunk *prev = NULL, *cur = a->head;
    uint64_t visits = 0;
    while (cur) {
        visits++;
        if (cur->size >= want)
            break;
        prev = cur;
        cur = cur->next;
    }
    counter_add(&a->visits_alloc, visits);
    if (!cur)
        return NULL;

    uint64_t have = cur->size;
    chunk *replacement;
    if (have - want > HEADER_BYTES) {
        /* Split: the rest becomes a free chunk in the old chunk's place. */
        chunk *rest = (chunk *)((uint8_t *)cur + HEADER_BYTES + want);
        rest->size = have - want - HEADER_BYTES;
        rest->next = cur->next;
        replacement = rest;
    } else {
        /* Whole chunk; when 16 bytes are left over they are lost for good (the
           header records only what was asked), which also stops coalescing. */
        replacement = cur->next;
        counter_sub(&a->free_list_length, 1);
        if (have - want == HEADER_BYTES) {
            counter_add(&a->sliver_bytes, HEADER_BYTES);
            mark(a, (uint8_t *)cur + HEADER_BYTES + want, HEADER_BYTES, ENGINE_CELL_SLIVER, owner);
        }
    }
    if (prev)
        prev->next = replacement;
    else
        a->head = replacement;

    cur->size = want;
    cur->magic = CHUNK_MAGIC;
    counter_add(&a->global_allocs, 1);
    counter_add(&a->bytes_in_use, HEADER_BYTES + want);
    if (mark_cells)
        arena_mark_allocated(a, (uint8_t *)cur + HEADER_BYTES, owner);
    return (uint8_t *)cur + HEADER_BYTES;
}

/* The allocated chunk whose payload starts at ptr, or NULL with err set. */
static chunk *chunk_to_free(const engine_arena *a, void *ptr, engine_error *err)
{
    uint8_t *p = ptr;
    uint8_t *region_end = a->region + a->region_size;
    /* Messages name heap offsets, never raw addresses: they mean something to
       the reader and do not leak the process layout. */
    if (p < a->base || p >= a->base + a->size) {
        error_set(err, ENGINE_E_INVALID_FREE,
                  "invalid free: the pointer is not inside the %llu-byte heap",
                  (unsigned long long)a->size);
        return NULL;
    }
    if (p < a->region + HEADER_BYTES || p >= region_end) {
        error_set(err, ENGINE_E_INVALID_FREE,
                  "invalid free at heap offset %llu: outside the shared region (bytes %llu to "
                  "%llu)",
                  (unsigned long long)offset_of(a, p), (unsigned long long)(a->region - a->base),
                  (unsigned long long)a->size);
        return NULL;
    }
    if (offset_of(a, p) % 16 != 0) {
        error_set(err, ENGINE_E_INVALID_FREE,
                  "invalid free at heap offset %llu: not a multiple of 16, so not the start "
                  "of a chunk's payload",
                  (unsigned long long)offset_of(a, p));
        return NULL;
    }
    chunk *c = (chunk *)(p - HEADER_BYTES);
    if (c->magic != CHUNK_MAGIC || c->size > (uint64_t)(region_end - p)) {
        error_set(err, ENGINE_E_INVALID_FREE,
                  "invalid free at heap offset %llu: no allocated chunk there "
                  "(double free or foreign pointer)",
                  (unsigned long long)offset_of(a, p));
        return NULL;
    }
    return c;
}

void arena_mark_freeing(engine_arena *a, void *ptr)
{
    chunk *c = ptr && a->cell_state ? chunk_to_free(a, ptr, NULL) : NULL;
    if (c)
        mark(a, c, HEADER_BYTES + c->size, ENGINE_CELL_FREE, ENGINE_OWNER_NONE);
}

int arena_ufree(engine_arena *a, void *ptr, bool mark_cells, engine_error *err)
{
    if (!ptr)
        return ENGINE_OK;
    chunk *c = chunk_to_free(a, ptr, err);
    if (!c)
        return ENGINE_E_INVALID_FREE;

    counter_sub(&a->bytes_in_use, HEADER_BYTES + c->size);
    counter_add(&a->global_frees, 1);
    if (mark_cells)
        mark(a, c, HEADER_BYTES + c->size, ENGINE_CELL_FREE, ENGINE_OWNER_NONE);

    /* Insert in address order. */
    uint64_t visits = 0;
    chunk *prev = NULL, *cur = a->head;
    while (cur && cur < c) {
        visits++;
        prev = cur;
        cur = cur->next;
    }
    c->next = cur;
    if (prev)
        prev->next = c;
    else
        a->head = c;
    counter_add(&a->free_list_length, 1);
    if (counter_get(&a->free_list_length) > counter_get(&a->free_list_longest))
        atomic_store_explicit(&a->free_list_longest, counter_get(&a->free_list_length), RELAXED);

    /* One full coalescing pass over the whole list. */
    for (cur = a->head; cur;) {
        visits++;
        chunk *next = cur->next;
        if (next && (uint8_t *)cur + HEADER_BYTES + cur->size == (uint8_t *)next) {
            cur->size += HEADER_BYTES + next->size;
            cur->next = next->next;
            counter_sub(&a->free_list_length, 1);
        } else {
            cur = next;
        }
    }
    counter_add(&a->visits_free, visits);
    return ENGINE_OK;
}

void arena_describe(const engine_arena *a, uint64_t *free_bytes, uint64_t *largest,
                    uint64_t *length)
{
    uint64_t total = 0, big = 0, n = 0;
    for (const chunk *c = a->head; c; c = c->next) {
        total += c->size;
        if (c->size > big)
            big = c->size;
        n++;
    }
    *free_bytes = total;
    *largest = big;
    *length = n;
}

/* ---------------------------------------------------- bare arena API */

int engine_arena_create(uint64_t size, engine_arena **out)
{
    *out = NULL;
    if (size < ENGINE_MIN_HEAP_SIZE || size > ENGINE_MAX_HEAP_SIZE || size % 16 != 0)
        return ENGINE_E_INVALID_ARG;
    engine_arena *a = calloc(1, sizeof *a);
    uint8_t *mem = aligned_alloc_rounded(64, size);
    atomic_u8 *cells = calloc(2, size / ENGINE_CELL_BYTES);
    if (!a || !mem || !cells) {
        free(a);
        free(mem);
        free((void *)cells);
        return ENGINE_E_NO_MEMORY;
    }
    memset(mem, 0, size); /* no stale bytes that could pass for a header */
    arena_init(a, mem, size, 0, cells, cells + size / ENGINE_CELL_BYTES);
    a->owns_memory = true;
    *out = a;
    return ENGINE_OK;
}

void engine_arena_destroy(engine_arena *a)
{
    if (!a || !a->owns_memory)
        return;
    free(a->base);
    free((void *)a->cell_state);
    free(a);
}

int engine_arena_alloc(engine_arena *a, uint64_t size, int64_t *offset, engine_error *err)
{
    *offset = -1;
    if (size == 0)
        return ENGINE_OK;
    void *p = arena_umalloc(a, size, 0, true);
    if (!p) {
        uint64_t free_bytes, largest, length;
        arena_describe(a, &free_bytes, &largest, &length);
        if (err) {
            memset(err, 0, sizeof *err);
            err->block_index = -1;
            err->slot = -1;
            err->requested = size;
            err->arena_free_bytes = free_bytes;
            err->largest_free = largest;
            err->free_list_length = length;
        }
        error_set(err, ENGINE_E_HEAP_EXHAUSTED,
                  "heap exhausted: no free chunk for %llu bytes (free %llu bytes in %llu "
                  "chunks, largest %llu)",
                  (unsigned long long)size, (unsigned long long)free_bytes,
                  (unsigned long long)length, (unsigned long long)largest);
        return ENGINE_E_HEAP_EXHAUSTED;
    }
    *offset = (int64_t)offset_of(a, p);
    return ENGINE_OK;
}

int engine_arena_free(engine_arena *a, int64_t offset, engine_error *err)
{
    if (offset == -1)
        return ENGINE_OK;
    if (offset < 0 || (uint64_t)offset >= a->size) {
        error_set(err, ENGINE_E_INVALID_FREE,
                  "invalid free: offset %lld is outside the %llu-byte heap", (long long)offset,
                  (unsigned long long)a->size);
        return ENGINE_E_INVALID_FREE;
    }
    return arena_ufree(a, a->base + offset, true, err);
}

uint64_t engine_arena_free_list(const engine_arena *a, int64_t *offsets, uint64_t *payloads,
                                uint64_t max)
{
    uint64_t n = 0;
    for (const chunk *c = a->head; c && n < max; c = c->next, n++) {
        offsets[n] = (int64_t)offset_of(a, c);
        payloads[n] = c->size;
    }
    return n;
}

void engine_arena_counters(const engine_arena *a, uint64_t *out)
{
    memset(out, 0, sizeof(uint64_t) * ENGINE_COUNTER_COUNT);
    out[ENGINE_C_GLOBAL_ALLOCS] = counter_get(&a->global_allocs);
    out[ENGINE_C_GLOBAL_FREES] = counter_get(&a->global_frees);
    out[ENGINE_C_FREE_LIST_LENGTH] = counter_get(&a->free_list_length);
    out[ENGINE_C_FREE_LIST_LONGEST] = counter_get(&a->free_list_longest);
    out[ENGINE_C_VISITS_ALLOC] = counter_get(&a->visits_alloc);
    out[ENGINE_C_VISITS_FREE] = counter_get(&a->visits_free);
    out[ENGINE_C_ARENA_BYTES_IN_USE] = counter_get(&a->bytes_in_use);
    out[ENGINE_C_SLIVER_BYTES] = counter_get(&a->sliver_bytes);
}

const uint8_t *engine_arena_heap_states(const engine_arena *a)
{
    return (const uint8_t *)a->cell_state;
}

uint64_t engine_arena_heap_cells(const engine_arena *a)
{
    return a->size / ENGINE_CELL_BYTES;
}
