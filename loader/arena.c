/* arena.c: the graft arena (see ilgraft/arena.h): a bump allocator over address space
 * reserved right above a module, so every new IL body gets a valid positive RVA; the
 * arena of each image the loader maps, arenas attached to foreign modules, and the
 * IMethodMalloc COM object.
 *
 * The arena's shared state is one 64-bit word: the next free offset in the low half
 * and a count in the high half (offsets never exceed 0x7FFFFFFF, and a 2 GB arena
 * cannot hold 2^32 allocations). Threads claim space from it with compare-and-swap,
 * but not per allocation: each thread bumps through a block of its own (a slot), and
 * only a block that runs out goes back to the shared word. One shared word bumped by
 * every allocation would put two threads' allocations in the same cache lines and
 * serialise them on that word (measured: 2 threads ran 5x slower than 1). A thread
 * whose block is still the newest claim extends it in place, so one thread's
 * allocations stay contiguous and exhaustion is exact. Threads beyond the slot count
 * fall back to one compare-and-swap per allocation, which also counts it. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena_private.h"
#include "loader_private.h"

/* Every allocation ends at or below this offset (METHOD_MAX_RVA). */
#define RVA_END ((uint64_t)ILG_METHOD_MAX_RVA)
#define STATE_TOP(s) ((uint64_t)(uint32_t)(s))
#define STATE_COUNT(s) ((s) >> 32)
/* Tries before ilg_arena_attach gives up on a gap other threads keep taking. */
#define ATTACH_TRIES 16
/* Threads with a block of their own per arena, and the block size they claim. */
#define SLOTS 16
#define BLOCK_BYTES ((uint64_t)16 << 10)
/* The least a commit populates up front (see arena_grow). */
#define POPULATE_MIN ((uint64_t)64 << 10)
/* Arenas a thread remembers its slot for without searching. */
#define TLS_WAYS 4

void (*ilg__arena_attach_race_hook)(void *addr, size_t size);

struct method_malloc {
    IMethodMalloc IMethodMalloc_iface;
    atomic_uint refs;
    _Atomic(ilg_arena *) arena;  /* NULL once the arena is gone */
};

/* One thread's block. Only the owner writes it (relaxed atomic stores: plain moves, but
 * statistics may read them from other threads). The fast path reads and writes one
 * word: the count and the next offset at the arena's alignment together, so an
 * allocation's only dependency on the one before is a load, an add and a store. */
typedef struct slot {
    _Alignas(64) _Atomic uint64_t word;     /* allocations << 32 | next aligned offset */
    _Atomic uint64_t last;                  /* exact end of the owner's last allocation */
    _Atomic uint64_t end;                   /* end of its block */
    _Atomic uint64_t blk;                   /* start of its block */
    _Atomic uint64_t used_before;           /* bytes handed out in its earlier blocks */
    _Atomic uintptr_t owner;                /* pthread_self() of the owner, 0 while free */
} slot;

#define WORD_NEXT(w) ((uint64_t)(uint32_t)(w))
#define WORD_COUNT(w) ((w) >> 32)

struct ilg_arena {
    /* Read by every allocation; written only when a block runs out. */
    _Alignas(64) _Atomic uint64_t state;   /* next unclaimed offset | shared count << 32 */
    _Atomic uint64_t avail_end;             /* min(committed end, limit end) */
    uint8_t *base;
    uint64_t id;                            /* never reused: keys the thread caches */
    uint32_t align;
    _Atomic uint32_t nslots;                /* slots claimed (may pass SLOTS) */

    slot slots[SLOTS];
    _Alignas(64) _Atomic uint64_t shared_used;  /* bytes of slotless allocations */
    _Atomic uint64_t shared_high;               /* end of the highest of them */

    /* Slow path, statistics and lifetime. */
    _Alignas(64) pthread_mutex_t commit_lock;
    _Atomic uint64_t committed_end;         /* written under commit_lock */
    _Atomic uint64_t failures;
    uint64_t start;                         /* first offset (page aligned address) */
    uint64_t res_end;                       /* end of the reservation */
    uint64_t end;                           /* min(res_end, RVA_END) */
    uint64_t limit_end;                     /* min(end, start + limit) */
    uint32_t chunk;
    bool attached;                          /* owns [map, map + map_size) */
    uint8_t *map;
    size_t map_size;
    struct method_malloc *com;
};

static _Atomic uint64_t next_arena_id = 1;

/* ---- IMethodMalloc ------------------------------------------------------------- */

static inline struct method_malloc *impl_from_IMethodMalloc(IMethodMalloc *iface)
{
    return (struct method_malloc *)((char *)iface - offsetof(struct method_malloc, IMethodMalloc_iface));
}

static HRESULT mm_QueryInterface(IMethodMalloc *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (riid && (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IMethodMalloc))) {
        *ppv = iface;
        iface->lpVtbl->AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG mm_AddRef(IMethodMalloc *iface)
{
    return atomic_fetch_add(&impl_from_IMethodMalloc(iface)->refs, 1) + 1;
}

static ULONG mm_Release(IMethodMalloc *iface)
{
    struct method_malloc *m = impl_from_IMethodMalloc(iface);
    ULONG refs = atomic_fetch_sub(&m->refs, 1) - 1;
    if (refs == 0)
        free(m);
    return refs;
}

static inline ilg_status arena_alloc(ilg_arena *a, size_t size, uint64_t align, void **ptr,
                                     uint32_t *rva);

static void *mm_Alloc(IMethodMalloc *iface, ULONG cb)
{
    ilg_arena *a = atomic_load_explicit(&impl_from_IMethodMalloc(iface)->arena, memory_order_acquire);
    void *p;
    if (!a) {
        ilg__fail(ILG_E_ARENA_DETACHED, ILG_WHERE_NONE, 0,
                  "IMethodMalloc::Alloc(%u): the module this allocator belonged to is closed", cb);
        return NULL;
    }
    /* Alloc(0) is NULL, as in CoreCLR; arena_alloc directly, not through the exported
     * ilg_arena_alloc and its PLT entry. */
    if (cb == 0) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                  "allocation of 0 bytes (IMethodMalloc::Alloc(0) returns NULL)");
        return NULL;
    }
    return arena_alloc(a, cb, a->align, &p, NULL) == ILG_OK ? p : NULL;
}

static const IMethodMallocVtbl method_malloc_vtbl = {
    mm_QueryInterface,
    mm_AddRef,
    mm_Release,
    mm_Alloc,
};

/* ---- Life cycle -------------------------------------------------------------------- */

ilg_status ilg__arena_create(uint8_t *base, uint64_t start, uint64_t reserved, ilg_arena **out)
{
    const size_t page = ilg__page_size();
    ilg_arena *a = NULL;
    struct method_malloc *m = NULL;

    if (((uintptr_t)(base + start) & (page - 1)) || (reserved & (page - 1)))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_RVA, start,
                         "arena at %p size 0x%" PRIx64 " is not page aligned",
                         (void *)(base + start), reserved);
    if (posix_memalign((void **)&a, 64, sizeof *a) != 0)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "arena object");
    memset(a, 0, sizeof *a);
    m = calloc(1, sizeof *m);
    if (!m) {
        free(a);
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "IMethodMalloc object");
    }
    pthread_mutex_init(&a->commit_lock, NULL);
    a->base = base;
    a->start = start;
    a->res_end = start + reserved;
    /* An image reaching past the RVA limit gets an empty arena: every request fails. */
    uint64_t first = start < RVA_END ? start : RVA_END;
    a->end = a->res_end < RVA_END ? a->res_end : RVA_END;
    if (a->end < first)
        a->end = first;
    a->limit_end = a->end;
    a->align = ILG_ARENA_DEFAULT_ALIGN;
    a->chunk = ILG_ARENA_DEFAULT_CHUNK;
    a->id = atomic_fetch_add(&next_arena_id, 1);
    atomic_init(&a->state, first);
    atomic_init(&a->avail_end, first);
    atomic_init(&a->committed_end, first);
    atomic_init(&a->failures, 0);

    m->IMethodMalloc_iface.lpVtbl = &method_malloc_vtbl;
    atomic_init(&m->refs, 1); /* the arena's own reference */
    atomic_init(&m->arena, a);
    a->com = m;
    *out = a;
    return ILG_OK;
}

void ilg__arena_destroy(ilg_arena *a)
{
    if (!a)
        return;
    /* The COM object may outlive us: cut its link first, then drop our reference. */
    atomic_store_explicit(&a->com->arena, NULL, memory_order_release);
    a->com->IMethodMalloc_iface.lpVtbl->Release(&a->com->IMethodMalloc_iface);
    pthread_mutex_destroy(&a->commit_lock);
    if (a->attached)
        munmap(a->map, a->map_size);
    free(a);
}

ilg_status ilg__image_arena_create(ilg_image *img)
{
    return ilg__arena_create(img->base, img->arena_offset, img->arena_size, &img->arena);
}

void ilg__image_arena_destroy(ilg_image *img)
{
    ilg__arena_destroy(img->arena);
    img->arena = NULL;
}

ilg_status ilg_image_arena(ilg_image *img, ilg_arena **out)
{
    if (!img || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "image and out are required");
    if (!img->arena)
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "image %s has no arena", img->path);
    *out = img->arena;
    return ILG_OK;
}

ilg_status ilg_arena_detach(ilg_arena *a)
{
    if (!a)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "arena is required");
    if (!a->attached)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_RVA, a->start,
                         "the arena at offset 0x%" PRIx64 " belongs to an image; it goes with "
                         "ilg_image_close", a->start);
    ilg__arena_destroy(a);
    return ILG_OK;
}

static ilg_status check_align(uint64_t align)
{
    if (!ilg__is_pow2(align) || align > ILG_ARENA_MAX_ALIGN)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                         "alignment %" PRIu64 " is not a power of two from 1 to %u", align,
                         ILG_ARENA_MAX_ALIGN);
    return ILG_OK;
}

ilg_status ilg_arena_configure(ilg_arena *a, const ilg_arena_options *opts)
{
    if (!a || !opts)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "arena and options are required");
    uint64_t s = atomic_load(&a->state);
    if (STATE_TOP(s) != (a->start < RVA_END ? a->start : RVA_END))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_RVA, STATE_TOP(s),
                         "the arena has handed out memory up to RVA 0x%" PRIx64
                         "; configure it before the first allocation", STATE_TOP(s));
    uint32_t align = opts->alignment ? opts->alignment : ILG_ARENA_DEFAULT_ALIGN;
    if (check_align(align) != ILG_OK)
        return ILG_E_INVALID_ARG;
    uint64_t chunk = opts->commit_chunk ? opts->commit_chunk : ILG_ARENA_DEFAULT_CHUNK;
    chunk = ilg__align_up(chunk, ilg__page_size());
    if (chunk > UINT32_MAX)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "commit chunk 0x%" PRIx64 " is too large",
                         chunk);
    pthread_mutex_lock(&a->commit_lock);
    a->align = align;
    a->chunk = (uint32_t)chunk;
    a->limit_end = a->end;
    if (opts->limit && opts->limit < a->end - STATE_TOP(s))
        a->limit_end = STATE_TOP(s) + opts->limit;
    uint64_t c = atomic_load(&a->committed_end);
    atomic_store_explicit(&a->avail_end, c < a->limit_end ? c : a->limit_end, memory_order_release);
    pthread_mutex_unlock(&a->commit_lock);
    return ILG_OK;
}

/* ---- Allocation ---------------------------------------------------------------------- */

/* The slow path: the caller wants [off, off + size) and the space up to want_end (at
 * least off + size) committed. Commits a chunk at a time, never past the limit's page,
 * or reports exhaustion when [off, off + size) does not fit. */
static ilg_status arena_grow(ilg_arena *a, uint64_t off, size_t size, uint64_t want_end)
{
    const uint64_t page = ilg__page_size();
    ilg_status status = ILG_OK;
    uint64_t fresh_lo = 0, c = 0;

    pthread_mutex_lock(&a->commit_lock);
    if (off > a->limit_end || size > a->limit_end - off) {
        atomic_fetch_add_explicit(&a->failures, 1, memory_order_relaxed);
        status = ilg__fail(ILG_E_ARENA_EXHAUSTED, ILG_WHERE_RVA, off,
                           "%zu bytes at RVA 0x%" PRIx64 " would end past the arena's %s 0x%" PRIx64
                           " (arena 0x%" PRIx64 "-0x%" PRIx64 ")",
                           size, off, a->limit_end < a->end ? "limit" : "end", a->limit_end, a->start,
                           a->end);
        goto out;
    }
    uint64_t need = want_end > off + size ? want_end : off + size;
    if (need > a->limit_end)
        need = a->limit_end;
    c = atomic_load_explicit(&a->committed_end, memory_order_relaxed);
    if (need > c) {
        /* Chunks are counted from the arena start, whose address is page aligned. */
        uint64_t want = a->start + ilg__align_up(need - a->start, a->chunk);
        uint64_t cap = a->start + ilg__align_up(a->limit_end - a->start, page);
        if (want > cap)
            want = cap;
        if (mprotect(a->base + c, (size_t)(want - c), PROT_READ | PROT_WRITE) != 0) {
            atomic_fetch_add_explicit(&a->failures, 1, memory_order_relaxed);
            status = ilg__fail(ILG_E_MAP, ILG_WHERE_RVA, c,
                               "cannot commit arena bytes 0x%" PRIx64 "-0x%" PRIx64 ": %s", c, want,
                               strerror(errno));
            goto out;
        }
        atomic_store_explicit(&a->committed_end, want, memory_order_release);
        fresh_lo = c;
        c = want;
    }
    atomic_store_explicit(&a->avail_end, c < a->limit_end ? c : a->limit_end, memory_order_release);
out:
    pthread_mutex_unlock(&a->commit_lock);
    /* A bump allocator hands out what it commits, in order: fault the new pages in with
     * one call instead of a fault per page later. As much as the arena had committed
     * before (at least 64 KiB), up to the chunk: a module that gets a few bodies pays
     * for 16 pages, not 64, and a busy one populates whole chunks. Outside the lock, so
     * that other threads go on allocating meanwhile (they fault in what they reach
     * first). Advice only: a kernel before 5.14 refuses it. */
    if (fresh_lo < c) {
        uint64_t n = fresh_lo - a->start > POPULATE_MIN ? fresh_lo - a->start : POPULATE_MIN;
        if (n > c - fresh_lo)
            n = c - fresh_lo;
        (void)madvise(a->base + fresh_lo, (size_t)n, ILG_MADV_POPULATE_WRITE);
    }
    return status;
}

/* Threads without a slot: one compare-and-swap per allocation, counted in the word. */
static ilg_status shared_alloc(ilg_arena *a, size_t size, uint64_t align, uint64_t *out)
{
    uint64_t cur = atomic_load_explicit(&a->state, memory_order_relaxed);
    for (;;) {
        uint64_t top = STATE_TOP(cur);
        uint64_t off = (top + align - 1) & ~(align - 1);
        if (size > a->limit_end ||
            off + size > atomic_load_explicit(&a->avail_end, memory_order_acquire)) {
            ilg_status st = arena_grow(a, off, size, 0);
            if (st != ILG_OK)
                return st;
            cur = atomic_load_explicit(&a->state, memory_order_relaxed);
            continue;
        }
        uint64_t next = ((STATE_COUNT(cur) + 1) << 32) | (off + size);
        if (atomic_compare_exchange_weak_explicit(&a->state, &cur, next, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            atomic_fetch_add_explicit(&a->shared_used, off + size - top, memory_order_relaxed);
            uint64_t high = atomic_load_explicit(&a->shared_high, memory_order_relaxed);
            while (high < off + size &&
                   !atomic_compare_exchange_weak_explicit(&a->shared_high, &high, off + size,
                                                          memory_order_relaxed, memory_order_relaxed))
                ;
            *out = off;
            return ILG_OK;
        }
    }
}

/* Records the owner's allocation [off, off + size) in its slot. */
static inline void slot_commit(const ilg_arena *a, slot *s, uint64_t off, size_t size)
{
    const uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    const uint64_t mask = (uint64_t)a->align - 1;
    atomic_store_explicit(&s->word, ((WORD_COUNT(w) + 1) << 32) | ((off + size + mask) & ~mask),
                          memory_order_relaxed);
    atomic_store_explicit(&s->last, off + size, memory_order_relaxed);
}

/* Slot s's block cannot hold the request: extend the block in place when nobody has
 * claimed space after it, else start a new block at the shared top (the old block's
 * tail stays unused). Then makes the allocation from the block. */
static ilg_status slot_refill(ilg_arena *a, slot *s, size_t size, uint64_t align, uint64_t *out)
{
    uint64_t cur = atomic_load_explicit(&a->state, memory_order_relaxed);
    for (;;) {
        uint64_t top = STATE_TOP(cur);
        uint64_t scur = atomic_load_explicit(&s->last, memory_order_relaxed);
        uint64_t send = atomic_load_explicit(&s->end, memory_order_relaxed);
        /* extend in place only when the block is the newest claim (then scur is in it) */
        uint64_t from = send == top && send ? scur : top;
        uint64_t off = (from + align - 1) & ~(align - 1);
        if (size > a->limit_end || off + size > a->limit_end)
            return arena_grow(a, off, size, 0); /* reports the exhaustion */
        uint64_t need = off + size;
        uint64_t blk = top + BLOCK_BYTES > need ? top + BLOCK_BYTES : need;
        if (blk > a->limit_end)
            blk = a->limit_end;
        if (blk > atomic_load_explicit(&a->avail_end, memory_order_acquire)) {
            ilg_status st = arena_grow(a, off, size, blk);
            if (st != ILG_OK)
                return st;
            cur = atomic_load_explicit(&a->state, memory_order_relaxed);
            continue;
        }
        uint64_t next = (cur & ~(uint64_t)UINT32_MAX) | blk;
        if (atomic_compare_exchange_weak_explicit(&a->state, &cur, next, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            if (from != scur) {
                /* a new block: the old one's bytes are final */
                uint64_t b0 = atomic_load_explicit(&s->blk, memory_order_relaxed);
                atomic_store_explicit(&s->used_before,
                                      atomic_load_explicit(&s->used_before, memory_order_relaxed) +
                                          scur - b0,
                                      memory_order_relaxed);
                atomic_store_explicit(&s->blk, from, memory_order_relaxed);
            }
            atomic_store_explicit(&s->end, blk, memory_order_relaxed);
            slot_commit(a, s, off, size);
            *out = off;
            return ILG_OK;
        }
    }
}

/* Per thread: the slot it owns in each of the last TLS_WAYS arenas it used (NULL when
 * the arena had none left), most recent first. Arena ids are never reused, so an entry
 * for an arena that is gone never matches again and is never followed. */
/* initial-exec: the fast path reads it with one %fs-relative load instead of calling
 * __tls_get_addr (the library's few bytes of TLS fit glibc's static surplus even when
 * it is dlopen'd). */
static _Thread_local __attribute__((tls_model("initial-exec"))) struct {
    uint64_t id;
    slot *s;
} tls_slots[TLS_WAYS];

static slot *slot_lookup(ilg_arena *a)
{
    const uintptr_t me = (uintptr_t)pthread_self();
    slot *found = NULL;
    int k;
    for (k = 1; k < TLS_WAYS; k++)
        if (tls_slots[k].id == a->id) {
            found = tls_slots[k].s;
            goto hit;
        }
    k = TLS_WAYS - 1;
    /* A slot this thread owns (forgotten from the cache), or one left by an exited
     * thread whose id this thread now has: either way no live thread uses it. */
    uint32_t n = atomic_load(&a->nslots);
    for (uint32_t i = 0; i < n && i < SLOTS; i++)
        if (atomic_load_explicit(&a->slots[i].owner, memory_order_acquire) == me) {
            found = &a->slots[i];
            goto hit;
        }
    uint32_t idx = atomic_fetch_add(&a->nslots, 1);
    if (idx < SLOTS) {
        found = &a->slots[idx];
        atomic_store_explicit(&found->owner, me, memory_order_release);
    }
hit:
    for (; k > 0; k--)
        tls_slots[k] = tls_slots[k - 1];
    tls_slots[0].id = a->id;
    tls_slots[0].s = found;
    return found;
}

/* Everything but the fast path: the slot lookup, a block refill, the shared bump. Kept
 * out of line (and reached by a tail call) so the fast path needs no stack frame. */
static __attribute__((noinline)) ilg_status arena_alloc_slow(ilg_arena *a, size_t size,
                                                             uint64_t align, void **ptr,
                                                             uint32_t *rva)
{
    slot *s = tls_slots[0].id == a->id ? tls_slots[0].s : slot_lookup(a);
    uint64_t off;
    ilg_status st;
    if (!s) {
        st = shared_alloc(a, size, align, &off);
    } else {
        /* from the exact end: an alignment below the arena's may fit before next */
        uint64_t last = atomic_load_explicit(&s->last, memory_order_relaxed);
        off = (last + align - 1) & ~(align - 1);
        if (size <= BLOCK_BYTES && off + size <= atomic_load_explicit(&s->end, memory_order_relaxed)) {
            slot_commit(a, s, off, size);
            st = ILG_OK;
        } else {
            st = slot_refill(a, s, size, align, &off);
        }
    }
    if (st != ILG_OK)
        return st;
    *ptr = a->base + off;
    if (rva)
        *rva = (uint32_t)off;
    return ILG_OK;
}

static inline __attribute__((always_inline)) ilg_status arena_alloc(ilg_arena *a, size_t size,
                                                                    uint64_t align, void **ptr,
                                                                    uint32_t *rva)
{
    slot *s = tls_slots[0].s;
    if (tls_slots[0].id == a->id && s && align == a->align) {
        const uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
        const uint64_t off = WORD_NEXT(w);
        if (size <= BLOCK_BYTES && off + size <= atomic_load_explicit(&s->end, memory_order_relaxed)) {
            /* The fast path: the block is this thread's and already committed, and next
             * is aligned, so next + the rounded size is aligned again. */
            atomic_store_explicit(&s->word, w + ((uint64_t)1 << 32) + ((size + align - 1) & ~(align - 1)),
                                  memory_order_relaxed);
            atomic_store_explicit(&s->last, off + size, memory_order_relaxed);
            *ptr = a->base + off;
            if (rva)
                *rva = (uint32_t)off;
            return ILG_OK;
        }
    }
    return arena_alloc_slow(a, size, align, ptr, rva);
}

ilg_status ilg_arena_alloc(ilg_arena *a, size_t size, void **ptr, uint32_t *rva)
{
    if (!a || !ptr)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "arena and ptr are required");
    if (size == 0)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                         "allocation of 0 bytes (IMethodMalloc::Alloc(0) returns NULL)");
    return arena_alloc(a, size, a->align, ptr, rva);
}

ilg_status ilg_arena_alloc_aligned(ilg_arena *a, size_t size, size_t align, void **ptr, uint32_t *rva)
{
    if (!a || !ptr)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "arena and ptr are required");
    if (size == 0)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "allocation of 0 bytes");
    if (check_align(align) != ILG_OK)
        return ILG_E_INVALID_ARG;
    return arena_alloc(a, size, align, ptr, rva);
}

ilg_status ilg_arena_rva(const ilg_arena *a, const void *ptr, uint32_t *rva)
{
    if (!a || !rva)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "arena and rva are required");
    uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)a->base;
    uint64_t top = STATE_TOP(atomic_load_explicit(&((ilg_arena *)a)->state, memory_order_relaxed));
    if (p < b + a->start || p >= b + top)
        return ilg__fail(ILG_E_RANGE, ILG_WHERE_NONE, 0,
                         "%p is not in the arena's allocated range (RVA 0x%" PRIx64 "-0x%" PRIx64 ")",
                         ptr, a->start, top);
    *rva = (uint32_t)(p - b);
    return ILG_OK;
}

ilg_status ilg_arena_stats_get(const ilg_arena *ca, ilg_arena_stats *out)
{
    if (!ca || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "arena and out are required");
    ilg_arena *a = (ilg_arena *)ca; /* atomics are read, never written */
    uint64_t st = atomic_load(&a->state);
    uint64_t first = a->start < RVA_END ? a->start : RVA_END;
    uint64_t count = STATE_COUNT(st), used = atomic_load(&a->shared_used);
    uint64_t high = count ? atomic_load(&a->shared_high) : first;
    uint32_t n = atomic_load(&a->nslots);
    for (uint32_t i = 0; i < n && i < SLOTS; i++) {
        const slot *sl = &a->slots[i];
        uint64_t c = WORD_COUNT(atomic_load_explicit(&sl->word, memory_order_relaxed));
        uint64_t last = atomic_load_explicit(&sl->last, memory_order_relaxed);
        count += c;
        used += atomic_load_explicit(&sl->used_before, memory_order_relaxed) + last -
                atomic_load_explicit(&sl->blk, memory_order_relaxed);
        if (c && last > high)
            high = last;
    }
    ilg_arena_stats s = {
        .base = a->base,
        .start = a->start,
        .end = a->limit_end,
        .reserved = a->res_end - a->start,
        .bytes_used = used,
        .allocations = count,
        .failures = atomic_load(&a->failures),
        .committed = atomic_load(&a->committed_end) - first,
        .high_water = high,
        .alignment = a->align,
        .attached = a->attached,
    };
    *out = s;
    return ILG_OK;
}

ilg_status ilg_arena_method_malloc(ilg_arena *a, IMethodMalloc **out)
{
    if (!a || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "arena and out are required");
    IMethodMalloc *iface = &a->com->IMethodMalloc_iface;
    iface->lpVtbl->AddRef(iface);
    *out = iface;
    return ILG_OK;
}

/* ---- Attaching to a foreign module ------------------------------------------------ */

/* The first gap of need bytes at or above lo whose first `size` bytes end at or below
 * top. Returns 0 when there is none, with *blocker the first mapping in the way. */
static uintptr_t find_gap(const ilg_maps_entry *v, size_t n, uintptr_t lo, uintptr_t top, uint64_t size,
                          uint64_t need, const ilg_maps_entry **blocker, uint64_t *largest)
{
    uintptr_t cur = lo;
    const size_t page = ilg__page_size();
    *blocker = NULL;
    *largest = 0;
    for (size_t i = 0; i < n && cur + size <= top; i++) {
        if (v[i].hi <= cur)
            continue;
        if (v[i].lo >= cur + need)
            return cur;
        uint64_t gap = v[i].lo > cur ? v[i].lo - cur : 0;
        if (gap > *largest)
            *largest = gap;
        if (!*blocker)
            *blocker = &v[i];
        cur = ilg__align_up(v[i].hi, page);
    }
    return cur + size <= top && cur + need > cur ? cur : 0;
}

ilg_status ilg_arena_attach(const void *base, uint64_t span, const ilg_arena_options *opts,
                            ilg_arena **out)
{
    const size_t page = ilg__page_size();
    const uintptr_t b = (uintptr_t)base;
    ilg_maps_entry *maps = NULL;
    size_t nmaps = 0;
    ilg_arena *a = NULL;
    ilg_status status;

    if (!base || !span || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "base, span and out are required");
    if (b & (page - 1))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "module base %p is not page aligned",
                         base);
    const uint64_t first = ilg__align_up(span, page);
    if (first >= RVA_END || b + RVA_END < b)
        return ilg__fail(ILG_E_ARENA_NO_SPACE, ILG_WHERE_RVA, first,
                         "the image span 0x%" PRIx64 " leaves no room below RVA 0x%x", span,
                         ILG_METHOD_MAX_RVA);
    uint64_t size = opts && opts->size ? ilg__align_up(opts->size, page) : ILG_ARENA_DEFAULT_SIZE;
    /* The arena ends at the page at or below the limit; the guard page may lie above. */
    const uint64_t room = ilg__align_up(RVA_END, page) - first;
    if (size > room)
        size = room;
    const uintptr_t lo = b + first, top = b + first + room;

    for (int attempt = 0; attempt < ATTACH_TRIES; attempt++) {
        const ilg_maps_entry *blocker;
        uint64_t largest;
        free(maps);
        maps = NULL;
        if ((status = ilg__maps_read(&maps, &nmaps)) != ILG_OK)
            goto out;
        uintptr_t gap = find_gap(maps, nmaps, lo, top, size, size + page, &blocker, &largest);
        if (!gap) {
            status = ilg__fail(ILG_E_ARENA_NO_SPACE, ILG_WHERE_RVA, first,
                               "no free 0x%" PRIx64 " bytes (plus a guard page) between the image "
                               "end %p and the RVA limit %p: blocked by 0x%" PRIxPTR "-0x%" PRIxPTR
                               " %s (largest gap 0x%" PRIx64 ")",
                               size, (void *)lo, (void *)(b + RVA_END), blocker ? blocker->lo : 0,
                               blocker ? blocker->hi : 0,
                               blocker && blocker->path[0] ? blocker->path : "[anonymous]", largest);
            goto out;
        }
        if (ilg__arena_attach_race_hook)
            ilg__arena_attach_race_hook((void *)gap, (size_t)(size + page));
        void *p = mmap((void *)gap, (size_t)(size + page), PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == MAP_FAILED) {
            if (errno == EEXIST)
                continue; /* someone mapped the gap since we read the maps */
            status = ilg__fail(ILG_E_MAP, ILG_WHERE_RVA, gap - b, "cannot reserve 0x%" PRIx64
                               " bytes at %p: %s", size + page, (void *)gap, strerror(errno));
            goto out;
        }
        if ((uintptr_t)p != gap) {
            /* A kernel without MAP_FIXED_NOREPLACE treats the address as a hint. */
            munmap(p, (size_t)(size + page));
            continue;
        }
        if ((status = ilg__arena_create((uint8_t *)base, gap - b, size, &a)) != ILG_OK) {
            munmap(p, (size_t)(size + page));
            goto out;
        }
        a->attached = true;
        a->map = p;
        a->map_size = (size_t)(size + page);
        if (opts && (opts->alignment || opts->limit || opts->commit_chunk) &&
            (status = ilg_arena_configure(a, opts)) != ILG_OK) {
            ilg__arena_destroy(a);
            goto out;
        }
        *out = a;
        status = ILG_OK;
        goto out;
    }
    status = ilg__fail(ILG_E_ARENA_NO_SPACE, ILG_WHERE_RVA, first,
                       "lost the race for free space above %p %d times", (void *)lo, ATTACH_TRIES);
out:
    free(maps);
    return status;
}
