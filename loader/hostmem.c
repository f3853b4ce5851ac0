/* hostmem.c: the host heap (see ilgraft/hostmem.h): IHostMemoryManager and IHostMalloc
 * in C, the Wine way, with allocation tracking, leak reports, fault injection and
 * executable heaps, and the Win32 virtual-memory calls over mmap. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ilg_private.h"
#include "ilgraft/hostmem.h"

/* Executable heaps carve blocks up to SMALL_MAX bytes from chunks of EXEC_CHUNK and
 * map anything bigger on its own. Small blocks are 16-byte granular (code alignment). */
#define EXEC_CHUNK ((size_t)256 << 10)
#define SMALL_MAX 4096
#define SMALL_GRAIN 16
#define SMALL_CLASSES (SMALL_MAX / SMALL_GRAIN)

static size_t page_size(void)
{
    return ilg__page_size();
}

/* ---- Types ---------------------------------------------------------------------------- */

typedef struct reservation {
    uintptr_t base;
    size_t size;
    DWORD protect;        /* PAGE_* given at reservation */
    uint8_t *committed;   /* one bit per page */
} reservation;

typedef struct acquired {
    uintptr_t start;
    size_t size;
} acquired;

struct host_manager {
    IHostMemoryManager IHostMemoryManager_iface;
    atomic_uint refs;
    bool strict_wx;
    uint64_t budget;

    _Atomic uint64_t allocations;
    _Atomic uint64_t injected;
    _Atomic uint64_t heaps;
    atomic_bool policy_on;

    pthread_mutex_t lock; /* everything below */
    uint64_t policy_base;
    uint64_t fail_nth;
    bool repeat;
    char *site_file;
    int site_line;
    reservation *res;
    size_t nres, capres;
    acquired *acq;
    size_t nacq, capacq;
    uint64_t acquired_bytes;
    ICLRMemoryNotificationCallback *callback;
    EMemoryAvailable last_level;
};

typedef struct live_entry {
    uintptr_t ptr;        /* 0: empty slot */
    size_t size;
    uint32_t site;
    void *alias;          /* writable alias (dual-mapped executable heaps) */
} live_entry;

typedef struct site {
    const char *given;    /* the pointer DebugAlloc got, for the fast match */
    char *file;
    int line;
} site;

typedef struct exec_chunk {
    uint8_t *rx, *rw;     /* rw == rx unless dual-mapped */
    size_t size;
    bool large;           /* one block on its own */
} exec_chunk;

typedef struct free_stack {
    void **items;
    size_t n, cap;
} free_stack;

struct host_heap {
    IHostMalloc IHostMalloc_iface;
    atomic_uint refs;
    struct host_manager *mgr;
    DWORD type;
    bool locking;
    pthread_mutex_t lock;

    live_entry *tab;      /* open addressing, linear probing, power-of-two size */
    size_t cap, live;
    site *sites;
    size_t nsites, capsites;

    uint64_t live_bytes, peak_bytes, total_allocs, total_frees, failed_allocs, bad_frees;
    const void *last_bad_free;

    /* executable heaps */
    bool dual;
    exec_chunk *chunks;
    size_t nchunks, capchunks;
    uint8_t *bump, *bump_end, *bump_rw;
    free_stack free_small[SMALL_CLASSES];
};

static const IHostMallocVtbl heap_vtbl;
static const IHostMemoryManagerVtbl manager_vtbl;

static inline struct host_heap *impl_from_IHostMalloc(IHostMalloc *iface)
{
    return (struct host_heap *)((char *)iface - offsetof(struct host_heap, IHostMalloc_iface));
}

static inline struct host_manager *impl_from_IHostMemoryManager(IHostMemoryManager *iface)
{
    return (struct host_manager *)((char *)iface -
                                   offsetof(struct host_manager, IHostMemoryManager_iface));
}

static bool grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* ---- The live table ---------------------------------------------------------------- */

static inline size_t slot_of(uintptr_t p, size_t cap)
{
    return (size_t)(((uint64_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
}

static live_entry *live_find(struct host_heap *h, uintptr_t p)
{
    if (!h->cap || !p)
        return NULL;
    for (size_t i = slot_of(p, h->cap);; i = (i + 1) & (h->cap - 1)) {
        if (h->tab[i].ptr == p)
            return &h->tab[i];
        if (!h->tab[i].ptr)
            return NULL;
    }
}

static bool live_insert(struct host_heap *h, const live_entry *e)
{
    if ((h->live + 1) * 2 > h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 64;
        live_entry *nt = calloc(ncap, sizeof *nt);
        if (!nt)
            return false;
        for (size_t i = 0; i < h->cap; i++) {
            if (!h->tab[i].ptr)
                continue;
            size_t j = slot_of(h->tab[i].ptr, ncap);
            while (nt[j].ptr)
                j = (j + 1) & (ncap - 1);
            nt[j] = h->tab[i];
        }
        free(h->tab);
        h->tab = nt;
        h->cap = ncap;
    }
    size_t i = slot_of(e->ptr, h->cap);
    while (h->tab[i].ptr)
        i = (i + 1) & (h->cap - 1);
    h->tab[i] = *e;
    h->live++;
    return true;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void live_remove(struct host_heap *h, live_entry *e)
{
    size_t i = (size_t)(e - h->tab), mask = h->cap - 1;
    for (size_t j = (i + 1) & mask; h->tab[j].ptr; j = (j + 1) & mask) {
        size_t home = slot_of(h->tab[j].ptr, h->cap);
        /* Move j into the hole at i when its home is not in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            h->tab[i] = h->tab[j];
            i = j;
        }
    }
    memset(&h->tab[i], 0, sizeof h->tab[i]);
    h->live--;
}

/* The site index of (file, line); 0 is plain Alloc. UINT32_MAX when out of memory. */
static uint32_t site_index(struct host_heap *h, const char *file, int line)
{
    if (!file)
        return 0;
    for (size_t i = 1; i < h->nsites; i++)
        if (h->sites[i].given == file && h->sites[i].line == line)
            return (uint32_t)i;
    for (size_t i = 1; i < h->nsites; i++)
        if (h->sites[i].line == line && strcmp(h->sites[i].file, file) == 0)
            return (uint32_t)i;
    if (!grow_array((void **)&h->sites, &h->capsites, h->nsites + 1, sizeof *h->sites))
        return UINT32_MAX;
    char *copy = strdup(file);
    if (!copy)
        return UINT32_MAX;
    h->sites[h->nsites] = (site){ file, copy, line };
    return (uint32_t)h->nsites++;
}

/* ---- Fault policy ---------------------------------------------------------------------- */

static bool site_matches(const char *want, const char *file)
{
    size_t lw = strlen(want), lf = strlen(file);
    if (lf == lw)
        return strcmp(want, file) == 0;
    return lf > lw && file[lf - lw - 1] == '/' && strcmp(file + lf - lw, want) == 0;
}

static bool fault_fires(struct host_manager *m, const char *file, int line)
{
    uint64_t n = atomic_fetch_add_explicit(&m->allocations, 1, memory_order_relaxed) + 1;
    if (!atomic_load_explicit(&m->policy_on, memory_order_acquire))
        return false;
    bool fire = false;
    pthread_mutex_lock(&m->lock);
    uint64_t rel = n - m->policy_base;
    if (m->fail_nth)
        fire = m->repeat ? rel % m->fail_nth == 0 : rel == m->fail_nth;
    if (m->site_file && file && site_matches(m->site_file, file) &&
        (m->site_line == 0 || m->site_line == line))
        fire = true;
    pthread_mutex_unlock(&m->lock);
    if (fire)
        atomic_fetch_add_explicit(&m->injected, 1, memory_order_relaxed);
    return fire;
}

ilg_status ilg_fault_policy_parse(const char *spec, ilg_fault_policy *out)
{
    if (!spec || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "spec and out are required");
    ilg_fault_policy p = { 0 };
    const char *s = spec;
    while (*s) {
        size_t len = strcspn(s, ",");
        const char *eq = memchr(s, '=', len);
        if (!eq)
            goto bad;
        size_t klen = (size_t)(eq - s);
        const char *v = eq + 1;
        size_t vlen = len - klen - 1;
        if ((klen == 3 && memcmp(s, "nth", 3) == 0) || (klen == 5 && memcmp(s, "every", 5) == 0)) {
            char buf[24], *end;
            if (vlen == 0 || vlen >= sizeof buf || *v == '-')
                goto bad;
            memcpy(buf, v, vlen);
            buf[vlen] = 0;
            errno = 0;
            unsigned long long n = strtoull(buf, &end, 10);
            if (errno || *end || n == 0)
                goto bad;
            p.fail_nth = n;
            p.repeat = klen == 5;
        } else if (klen == 4 && memcmp(s, "site", 4) == 0) {
            /* FILE or FILE:LINE; the file runs to the comma, so it cannot hold one. */
            const char *colon = NULL;
            for (const char *c = v; c < v + vlen; c++)
                if (*c == ':')
                    colon = c;
            if (vlen == 0 || colon == v)
                goto bad;
            p.site_file = v; /* not terminated: set copies up to the ':' or ',' */
            if (colon) {
                char buf[16], *end;
                size_t llen = (size_t)(v + vlen - colon - 1);
                if (llen == 0 || llen >= sizeof buf)
                    goto bad;
                memcpy(buf, colon + 1, llen);
                buf[llen] = 0;
                long line = strtol(buf, &end, 10);
                if (*end || line <= 0 || line > INT32_MAX)
                    goto bad;
                p.site_line = (int)line;
            }
        } else {
            goto bad;
        }
        s += len;
        if (*s == ',')
            s++;
    }
    *out = p;
    return ILG_OK;
bad:
    return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, (uint64_t)(s - spec),
                     "fault policy '%s': item at offset %zu is not nth=N, every=N or "
                     "site=FILE[:LINE]",
                     spec, (size_t)(s - spec));
}

ilg_status ilg_hostmem_set_fault_policy(IHostMemoryManager *iface, const ilg_fault_policy *policy)
{
    if (!iface || iface->lpVtbl != &manager_vtbl)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "not an ilgraft memory manager");
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    char *file = NULL;
    if (policy && policy->site_file) {
        /* A site parsed from "FILE:LINE,..." is not terminated at the colon. */
        size_t n = strcspn(policy->site_file, policy->site_line ? ":," : ",");
        file = strndup(policy->site_file, n);
        if (!file)
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "fault policy site");
    }
    pthread_mutex_lock(&m->lock);
    free(m->site_file);
    m->site_file = file;
    m->site_line = policy ? policy->site_line : 0;
    m->fail_nth = policy ? policy->fail_nth : 0;
    m->repeat = policy ? policy->repeat : false;
    m->policy_base = atomic_load(&m->allocations);
    atomic_store_explicit(&m->policy_on, m->fail_nth || m->site_file, memory_order_release);
    pthread_mutex_unlock(&m->lock);
    return ILG_OK;
}

/* ---- Executable memory ------------------------------------------------------------- */

/* size bytes of executable memory: writable and executable at rx, or (dual) executable
 * at *rx and writable at *rw. */
static bool exec_map(struct host_heap *h, size_t size, uint8_t **rx, uint8_t **rw)
{
    if (!h->dual) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p != MAP_FAILED) {
            *rx = *rw = p;
            return true;
        }
        if (errno != EACCES && errno != EPERM)
            return false;
        h->dual = true; /* the kernel enforces W^X: switch for good */
    }
    int fd = memfd_create("ilgraft-exec", MFD_CLOEXEC);
    if (fd < 0)
        return false;
    void *x = MAP_FAILED, *w = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0) {
        x = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    close(fd);
    if (x == MAP_FAILED || w == MAP_FAILED) {
        if (x != MAP_FAILED)
            munmap(x, size);
        if (w != MAP_FAILED)
            munmap(w, size);
        return false;
    }
    *rx = x;
    *rw = w;
    return true;
}

static bool exec_add_chunk(struct host_heap *h, uint8_t *rx, uint8_t *rw, size_t size, bool large)
{
    if (!grow_array((void **)&h->chunks, &h->capchunks, h->nchunks + 1, sizeof *h->chunks))
        return false;
    h->chunks[h->nchunks++] = (exec_chunk){ rx, rw, size, large };
    return true;
}

static void *exec_alloc(struct host_heap *h, size_t size, void **alias)
{
    if (size > SMALL_MAX) {
        size_t n = ilg__align_up(size, page_size());
        uint8_t *rx, *rw;
        if (!exec_map(h, n, &rx, &rw))
            return NULL;
        if (!exec_add_chunk(h, rx, rw, n, true)) {
            munmap(rx, n);
            if (rw != rx)
                munmap(rw, n);
            return NULL;
        }
        *alias = rw;
        return rx;
    }
    size_t n = ilg__align_up(size ? size : 1, SMALL_GRAIN);
    free_stack *fs = &h->free_small[n / SMALL_GRAIN - 1];
    if (fs->n) {
        uint8_t *p = fs->items[--fs->n];
        for (size_t i = 0; i < h->nchunks; i++)
            if (p >= h->chunks[i].rx && p < h->chunks[i].rx + h->chunks[i].size) {
                *alias = h->chunks[i].rw + (p - h->chunks[i].rx);
                return p;
            }
    }
    if (!h->bump || (size_t)(h->bump_end - h->bump) < n) {
        uint8_t *rx, *rw;
        if (!exec_map(h, EXEC_CHUNK, &rx, &rw))
            return NULL;
        if (!exec_add_chunk(h, rx, rw, EXEC_CHUNK, false)) {
            munmap(rx, EXEC_CHUNK);
            if (rw != rx)
                munmap(rw, EXEC_CHUNK);
            return NULL;
        }
        h->bump = rx;
        h->bump_rw = rw;
        h->bump_end = rx + EXEC_CHUNK;
    }
    void *p = h->bump;
    *alias = h->bump_rw;
    h->bump += n;
    h->bump_rw += n;
    return p;
}

static void exec_free(struct host_heap *h, void *p, size_t size)
{
    if (size > SMALL_MAX) {
        for (size_t i = 0; i < h->nchunks; i++) {
            exec_chunk *c = &h->chunks[i];
            if (c->large && c->rx == p) {
                munmap(c->rx, c->size);
                if (c->rw != c->rx)
                    munmap(c->rw, c->size);
                h->chunks[i] = h->chunks[--h->nchunks];
                return;
            }
        }
        return;
    }
    size_t n = ilg__align_up(size ? size : 1, SMALL_GRAIN);
    free_stack *fs = &h->free_small[n / SMALL_GRAIN - 1];
    /* A block that cannot be queued for reuse stays unused until the heap goes. */
    if (grow_array((void **)&fs->items, &fs->cap, fs->n + 1, sizeof *fs->items))
        fs->items[fs->n++] = p;
}

/* ---- IHostMalloc --------------------------------------------------------------------- */

static inline void heap_lock(struct host_heap *h)
{
    if (h->locking)
        pthread_mutex_lock(&h->lock);
}

static inline void heap_unlock(struct host_heap *h)
{
    if (h->locking)
        pthread_mutex_unlock(&h->lock);
}

static HRESULT heap_QueryInterface(IHostMalloc *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (riid && (ilg_guid_equal(riid, &IID_IUnknown) || ilg_guid_equal(riid, &IID_IHostMalloc))) {
        *ppv = iface;
        iface->lpVtbl->AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG heap_AddRef(IHostMalloc *iface)
{
    return atomic_fetch_add(&impl_from_IHostMalloc(iface)->refs, 1) + 1;
}

static void heap_destroy(struct host_heap *h)
{
    for (size_t i = 0; i < h->cap; i++)
        if (h->tab[i].ptr && !(h->type & MALLOC_EXECUTABLE))
            free((void *)h->tab[i].ptr);
    for (size_t i = 0; i < h->nchunks; i++) {
        munmap(h->chunks[i].rx, h->chunks[i].size);
        if (h->chunks[i].rw != h->chunks[i].rx)
            munmap(h->chunks[i].rw, h->chunks[i].size);
    }
    for (size_t i = 0; i < SMALL_CLASSES; i++)
        free(h->free_small[i].items);
    for (size_t i = 1; i < h->nsites; i++)
        free(h->sites[i].file);
    free(h->sites);
    free(h->chunks);
    free(h->tab);
    pthread_mutex_destroy(&h->lock);
    atomic_fetch_sub(&h->mgr->heaps, 1);
    h->mgr->IHostMemoryManager_iface.lpVtbl->Release(&h->mgr->IHostMemoryManager_iface);
    free(h);
}

static ULONG heap_Release(IHostMalloc *iface)
{
    struct host_heap *h = impl_from_IHostMalloc(iface);
    ULONG refs = atomic_fetch_sub(&h->refs, 1) - 1;
    if (refs == 0)
        heap_destroy(h);
    return refs;
}

static HRESULT heap_alloc(struct host_heap *h, size_t size, const char *file, int line, void **ppMem)
{
    if (!ppMem) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "IHostMalloc: ppMem is NULL");
        return E_INVALIDARG;
    }
    *ppMem = NULL;
    if (fault_fires(h->mgr, file, line)) {
        heap_lock(h);
        h->failed_allocs++;
        heap_unlock(h);
        ilg__fail(ILG_E_HOSTMEM_FAULT_INJECTED, ILG_WHERE_NONE, 0,
                  "allocation of %zu bytes at %s:%d failed by the fault policy", size,
                  file ? file : "(Alloc)", line);
        return E_OUTOFMEMORY;
    }
    heap_lock(h);
    void *p = NULL, *alias = NULL;
    uint32_t s = site_index(h, file, line);
    if (s != UINT32_MAX) {
        if (h->type & MALLOC_EXECUTABLE)
            p = exec_alloc(h, size, &alias);
        else
            p = malloc(size ? size : 1);
    }
    if (p) {
        live_entry e = { (uintptr_t)p, size, s, alias };
        if (!live_insert(h, &e)) {
            if (h->type & MALLOC_EXECUTABLE)
                exec_free(h, p, size);
            else
                free(p);
            p = NULL;
        }
    }
    if (!p) {
        h->failed_allocs++;
        heap_unlock(h);
        ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "host heap: no memory for %zu bytes", size);
        return E_OUTOFMEMORY;
    }
    h->total_allocs++;
    h->live_bytes += size;
    if (h->live_bytes > h->peak_bytes)
        h->peak_bytes = h->live_bytes;
    heap_unlock(h);
    *ppMem = p;
    return S_OK;
}

static HRESULT heap_Alloc(IHostMalloc *iface, SIZE_T cbSize, EMemoryCriticalLevel level, void **ppMem)
{
    return heap_alloc(impl_from_IHostMalloc(iface), cbSize, NULL, 0, ppMem);
}

static HRESULT heap_DebugAlloc(IHostMalloc *iface, SIZE_T cbSize, EMemoryCriticalLevel level,
                               char *pszFileName, int iLineNo, void **ppMem)
{
    return heap_alloc(impl_from_IHostMalloc(iface), cbSize, pszFileName ? pszFileName : "(null)",
                      iLineNo, ppMem);
}

static HRESULT heap_Free(IHostMalloc *iface, void *pMem)
{
    struct host_heap *h = impl_from_IHostMalloc(iface);
    if (!pMem)
        return S_OK;
    heap_lock(h);
    live_entry *e = live_find(h, (uintptr_t)pMem);
    if (!e) {
        h->bad_frees++;
        h->last_bad_free = pMem;
        heap_unlock(h);
        ilg__fail(ILG_E_HOSTMEM_BAD_FREE, ILG_WHERE_NONE, 0,
                  "IHostMalloc::Free(%p): not a live allocation of this heap (%zu live)", pMem,
                  h->live);
        return HOST_E_INVALIDOPERATION;
    }
    size_t size = e->size;
    live_remove(h, e);
    if (h->type & MALLOC_EXECUTABLE)
        exec_free(h, pMem, size);
    else
        free(pMem);
    h->total_frees++;
    h->live_bytes -= size;
    heap_unlock(h);
    return S_OK;
}

static const IHostMallocVtbl heap_vtbl = {
    heap_QueryInterface,
    heap_AddRef,
    heap_Release,
    heap_Alloc,
    heap_DebugAlloc,
    heap_Free,
};

static struct host_heap *heap_from(IHostMalloc *iface)
{
    return iface && iface->lpVtbl == &heap_vtbl ? impl_from_IHostMalloc(iface) : NULL;
}

ilg_status ilg_hostmalloc_stats_get(IHostMalloc *iface, ilg_hostmalloc_stats *out)
{
    struct host_heap *h = heap_from(iface);
    if (!h || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "an ilgraft IHostMalloc and out are required");
    heap_lock(h);
    ilg_hostmalloc_stats s = {
        .type = h->type,
        .live_count = h->live,
        .live_bytes = h->live_bytes,
        .peak_bytes = h->peak_bytes,
        .total_allocs = h->total_allocs,
        .total_frees = h->total_frees,
        .failed_allocs = h->failed_allocs,
        .bad_frees = h->bad_frees,
        .last_bad_free = h->last_bad_free,
        .dual_mapped = h->dual,
    };
    heap_unlock(h);
    *out = s;
    return ILG_OK;
}

ilg_status ilg_hostmalloc_code_alias(IHostMalloc *iface, void *p, void **writable)
{
    struct host_heap *h = heap_from(iface);
    if (!h || !writable)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "an ilgraft IHostMalloc and writable are required");
    if (!(h->type & MALLOC_EXECUTABLE))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "the heap is not executable (type 0x%x)",
                         (unsigned)h->type);
    heap_lock(h);
    live_entry *e = live_find(h, (uintptr_t)p);
    void *alias = e ? e->alias : NULL;
    heap_unlock(h);
    if (!alias)
        return ilg__fail(ILG_E_HOSTMEM_BAD_FREE, ILG_WHERE_NONE, 0, "%p is not a live allocation of this heap", p);
    *writable = alias;
    return ILG_OK;
}

static int site_order(const void *pa, const void *pb)
{
    const ilg_leak_site *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    int c = strcmp(a->file, b->file);
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

ilg_status ilg_hostmalloc_leaks(IHostMalloc *iface, ilg_leak_report **out)
{
    struct host_heap *h = heap_from(iface);
    ilg_status status = ILG_OK;
    if (!h || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "an ilgraft IHostMalloc and out are required");
    heap_lock(h);
    size_t nsites = h->nsites ? h->nsites : 1;
    uint64_t *cnt = calloc(nsites * 2, sizeof *cnt);
    ilg_leak_report *r = NULL;
    if (!cnt) {
        status = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "leak report of %zu sites", nsites);
        goto out;
    }
    for (size_t i = 0; i < h->cap; i++)
        if (h->tab[i].ptr) {
            cnt[h->tab[i].site * 2]++;
            cnt[h->tab[i].site * 2 + 1] += h->tab[i].size;
        }
    size_t used = 0, text = 0;
    for (size_t i = 0; i < nsites; i++)
        if (cnt[i * 2]) {
            used++;
            text += (i ? strlen(h->sites[i].file) : strlen("(Alloc)")) + 1;
        }
    r = calloc(1, sizeof *r + used * sizeof(ilg_leak_site) + text);
    if (!r) {
        status = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "leak report of %zu sites", used);
        goto out;
    }
    r->sites = (ilg_leak_site *)(r + 1);
    char *str = (char *)(r->sites + used);
    for (size_t i = 0; i < nsites; i++) {
        if (!cnt[i * 2])
            continue;
        const char *f = i ? h->sites[i].file : "(Alloc)";
        size_t n = strlen(f) + 1;
        memcpy(str, f, n);
        r->sites[r->site_count++] = (ilg_leak_site){ str, i ? h->sites[i].line : 0, cnt[i * 2],
                                                     cnt[i * 2 + 1] };
        str += n;
        r->count += cnt[i * 2];
        r->bytes += cnt[i * 2 + 1];
    }
    r->bad_frees = h->bad_frees;
    r->last_bad_free = h->last_bad_free;
    qsort(r->sites, r->site_count, sizeof *r->sites, site_order);
    *out = r;
    r = NULL;
out:
    heap_unlock(h);
    free(cnt);
    free(r);
    return status;
}

ilg_status ilg_leak_report_print(const ilg_leak_report *r, FILE *to)
{
    if (!r || !to)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "report and stream are required");
    for (size_t i = 0; i < r->site_count; i++)
        fprintf(to, "%" PRIu64 " bytes in %" PRIu64 " allocation%s at %s:%d\n", r->sites[i].bytes,
                r->sites[i].count, r->sites[i].count == 1 ? "" : "s", r->sites[i].file,
                r->sites[i].line);
    fprintf(to, "total: %" PRIu64 " bytes in %" PRIu64 " live allocation%s at %zu site%s\n",
            r->bytes, r->count, r->count == 1 ? "" : "s", r->site_count,
            r->site_count == 1 ? "" : "s");
    if (r->bad_frees)
        fprintf(to, "bad frees: %" PRIu64 " (last %p)\n", r->bad_frees, r->last_bad_free);
    return ferror(to) ? ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot write the leak report") : ILG_OK;
}

void ilg_leak_report_free(ilg_leak_report *r) { free(r); }

/* ---- IHostMemoryManager ------------------------------------------------------------- */

static HRESULT mgr_QueryInterface(IHostMemoryManager *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (riid && (ilg_guid_equal(riid, &IID_IUnknown) || ilg_guid_equal(riid, &IID_IHostMemoryManager))) {
        *ppv = iface;
        iface->lpVtbl->AddRef(iface);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG mgr_AddRef(IHostMemoryManager *iface)
{
    return atomic_fetch_add(&impl_from_IHostMemoryManager(iface)->refs, 1) + 1;
}

static ULONG mgr_Release(IHostMemoryManager *iface)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    ULONG refs = atomic_fetch_sub(&m->refs, 1) - 1;
    if (refs)
        return refs;
    /* Reservations the CLR never released go with the manager. */
    for (size_t i = 0; i < m->nres; i++) {
        munmap((void *)m->res[i].base, m->res[i].size);
        free(m->res[i].committed);
    }
    if (m->callback)
        m->callback->lpVtbl->Release(m->callback);
    free(m->res);
    free(m->acq);
    free(m->site_file);
    pthread_mutex_destroy(&m->lock);
    free(m);
    return 0;
}

static HRESULT mgr_CreateMalloc(IHostMemoryManager *iface, DWORD type, IHostMalloc **ppMalloc)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    if (!ppMalloc) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "CreateMalloc: ppMalloc is NULL");
        return E_INVALIDARG;
    }
    *ppMalloc = NULL;
    if (type & ~(DWORD)(MALLOC_THREADSAFE | MALLOC_EXECUTABLE)) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "CreateMalloc: unknown MALLOC_TYPE bits 0x%x",
                  (unsigned)type);
        return E_INVALIDARG;
    }
    struct host_heap *h = calloc(1, sizeof *h);
    if (!h || !grow_array((void **)&h->sites, &h->capsites, 1, sizeof *h->sites)) {
        free(h);
        ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "CreateMalloc: heap object");
        return E_OUTOFMEMORY;
    }
    h->IHostMalloc_iface.lpVtbl = &heap_vtbl;
    atomic_init(&h->refs, 1);
    h->type = type;
    h->locking = type & MALLOC_THREADSAFE;
    h->dual = m->strict_wx && (type & MALLOC_EXECUTABLE);
    h->sites[0] = (site){ NULL, NULL, 0 };
    h->nsites = 1;
    pthread_mutex_init(&h->lock, NULL);
    h->mgr = m;
    iface->lpVtbl->AddRef(iface);
    atomic_fetch_add(&m->heaps, 1);
    *ppMalloc = &h->IHostMalloc_iface;
    return S_OK;
}

static int prot_from_page(DWORD p)
{
    switch (p) {
    case PAGE_NOACCESS: return PROT_NONE;
    case PAGE_READONLY: return PROT_READ;
    case PAGE_READWRITE: case PAGE_WRITECOPY: return PROT_READ | PROT_WRITE;
    case PAGE_EXECUTE: return PROT_EXEC;
    case PAGE_EXECUTE_READ: return PROT_READ | PROT_EXEC;
    case PAGE_EXECUTE_READWRITE: case PAGE_EXECUTE_WRITECOPY: return PROT_READ | PROT_WRITE | PROT_EXEC;
    default: return -1;
    }
}

static DWORD page_from_perms(const char perms[4])
{
    bool r = perms[0] == 'r', w = perms[1] == 'w', x = perms[2] == 'x';
    if (x)
        return w ? PAGE_EXECUTE_READWRITE : r ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
    return w ? PAGE_READWRITE : r ? PAGE_READONLY : PAGE_NOACCESS;
}

/* Under m->lock: the reservation holding [p, p + n), or NULL. */
static reservation *res_find(struct host_manager *m, uintptr_t p, size_t n)
{
    for (size_t i = 0; i < m->nres; i++)
        if (p >= m->res[i].base && ilg__in_range(p - m->res[i].base, n, m->res[i].size))
            return &m->res[i];
    return NULL;
}

static void res_mark(reservation *r, uintptr_t p, size_t n, bool committed)
{
    const size_t page = page_size();
    for (size_t i = (p - r->base) / page; i < (p - r->base + n) / page; i++) {
        if (committed)
            r->committed[i / 8] |= (uint8_t)(1u << (i % 8));
        else
            r->committed[i / 8] &= (uint8_t)~(1u << (i % 8));
    }
}

static bool res_committed(const reservation *r, uintptr_t p)
{
    size_t i = (p - r->base) / page_size();
    return r->committed[i / 8] & (1u << (i % 8));
}

static HRESULT mgr_VirtualAlloc(IHostMemoryManager *iface, void *pAddress, SIZE_T dwSize,
                                DWORD type, DWORD protect, EMemoryCriticalLevel level, void **ppMem)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    const size_t page = page_size();
    HRESULT hr = S_OK;

    if (!ppMem || !dwSize || (type & ~(DWORD)(MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_TOP_DOWN)) ||
        !(type & (MEM_COMMIT | MEM_RESERVE | MEM_RESET)) ||
        ((type & MEM_RESET) && (type & (MEM_COMMIT | MEM_RESERVE)))) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                  "VirtualAlloc(%p, 0x%zx, type 0x%x): bad size, type or out pointer", pAddress,
                  dwSize, (unsigned)type);
        return E_INVALIDARG;
    }
    *ppMem = NULL;
    int prot = prot_from_page(protect);
    if (prot < 0) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "VirtualAlloc: protection 0x%x", (unsigned)protect);
        return E_INVALIDARG;
    }
    uintptr_t lo = (uintptr_t)pAddress & ~(uintptr_t)(page - 1);
    size_t n = ilg__align_up((uintptr_t)pAddress + dwSize - lo, page);
    if (!pAddress && (type & MEM_COMMIT))
        type |= MEM_RESERVE; /* commit with no address reserves too, as on Windows */

    pthread_mutex_lock(&m->lock);
    if (type & MEM_RESERVE) {
        uint8_t *bits = calloc(n / page / 8 + 1, 1);
        int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (lo ? MAP_FIXED_NOREPLACE : 0);
        void *p = bits && grow_array((void **)&m->res, &m->capres, m->nres + 1, sizeof *m->res)
                      ? mmap((void *)lo, n, (type & MEM_COMMIT) ? prot : PROT_NONE, flags, -1, 0)
                      : MAP_FAILED;
        if (p != MAP_FAILED && lo && (uintptr_t)p != lo) {
            munmap(p, n);
            p = MAP_FAILED;
            errno = EEXIST;
        }
        if (p == MAP_FAILED) {
            free(bits);
            ilg__fail(ILG_E_MAP, ILG_WHERE_NONE, 0, "VirtualAlloc: cannot reserve 0x%zx bytes at %p: %s",
                      n, (void *)lo, strerror(errno));
            hr = E_OUTOFMEMORY;
            goto out;
        }
        reservation *r = &m->res[m->nres++];
        *r = (reservation){ (uintptr_t)p, n, protect, bits };
        if (type & MEM_COMMIT)
            res_mark(r, r->base, n, true);
        *ppMem = p;
        goto out;
    }
    reservation *r = res_find(m, lo, n);
    if (!r) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                  "VirtualAlloc: %p+0x%zx lies in no reservation of this manager", pAddress, dwSize);
        hr = E_INVALIDARG;
        goto out;
    }
    if (type & MEM_RESET) {
        /* The contents are no longer wanted; the pages stay committed. */
        madvise((void *)lo, n, MADV_DONTNEED);
    } else if (mprotect((void *)lo, n, prot) != 0) {
        ilg__fail(ILG_E_MAP, ILG_WHERE_NONE, 0, "VirtualAlloc: cannot commit %p+0x%zx: %s", (void *)lo,
                  n, strerror(errno));
        hr = E_OUTOFMEMORY;
        goto out;
    } else {
        res_mark(r, lo, n, true);
    }
    *ppMem = (void *)lo;
out:
    pthread_mutex_unlock(&m->lock);
    return hr;
}

static HRESULT mgr_VirtualFree(IHostMemoryManager *iface, void *lpAddress, SIZE_T dwSize, DWORD type)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    const size_t page = page_size();
    HRESULT hr = S_OK;
    uintptr_t lo = (uintptr_t)lpAddress & ~(uintptr_t)(page - 1);

    if (type != MEM_RELEASE && type != MEM_DECOMMIT) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "VirtualFree: free type 0x%x", (unsigned)type);
        return E_INVALIDARG;
    }
    pthread_mutex_lock(&m->lock);
    reservation *r = res_find(m, lo, 1);
    if (!r) {
        ilg__fail(ILG_E_HOSTMEM_BAD_FREE, ILG_WHERE_NONE, 0,
                  "VirtualFree(%p): not memory this manager's VirtualAlloc reserved", lpAddress);
        hr = HOST_E_INVALIDOPERATION;
        goto out;
    }
    if (type == MEM_RELEASE) {
        if (dwSize != 0 || (uintptr_t)lpAddress != r->base) {
            ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                      "VirtualFree(%p, 0x%zx, MEM_RELEASE): needs the reservation base %p and size 0",
                      lpAddress, dwSize, (void *)r->base);
            hr = E_INVALIDARG;
            goto out;
        }
        munmap((void *)r->base, r->size);
        free(r->committed);
        *r = m->res[--m->nres];
        goto out;
    }
    size_t n = dwSize ? ilg__align_up((uintptr_t)lpAddress + dwSize - lo, page) : r->size - (lo - r->base);
    if (!ilg__in_range(lo - r->base, n, r->size)) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "VirtualFree: %p+0x%zx crosses the reservation end",
                  lpAddress, dwSize);
        hr = E_INVALIDARG;
        goto out;
    }
    /* Decommitted pages read back as zero when committed again, as on Windows. */
    madvise((void *)lo, n, MADV_DONTNEED);
    if (mprotect((void *)lo, n, PROT_NONE) != 0) {
        ilg__fail(ILG_E_MAP, ILG_WHERE_NONE, 0, "VirtualFree: cannot decommit: %s", strerror(errno));
        hr = E_FAIL;
        goto out;
    }
    res_mark(r, lo, n, false);
out:
    pthread_mutex_unlock(&m->lock);
    return hr;
}

static HRESULT mgr_VirtualQuery(IHostMemoryManager *iface, void *lpAddress, void *lpBuffer,
                                SIZE_T dwLength, SIZE_T *pResult)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    const size_t page = page_size();
    if (!lpBuffer || !pResult || dwLength < sizeof(MEMORY_BASIC_INFORMATION)) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "VirtualQuery: buffer of %zu bytes, need %zu",
                  dwLength, sizeof(MEMORY_BASIC_INFORMATION));
        return E_INVALIDARG;
    }
    uintptr_t p = (uintptr_t)lpAddress & ~(uintptr_t)(page - 1);
    ilg_maps_entry ml;
    uintptr_t next;
    MEMORY_BASIC_INFORMATION mbi = { .BaseAddress = (void *)p };
    int found = ilg__maps_lookup(p, &ml, &next);
    if (found < 0) {
        ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "VirtualQuery: cannot read /proc/self/maps");
        return E_FAIL;
    }
    if (!found) {
        mbi.State = MEM_FREE;
        mbi.Protect = PAGE_NOACCESS;
        mbi.RegionSize = next - p;
    } else {
        DWORD prot = page_from_perms(ml.perms);
        mbi.Type = ml.path[0] == '/' ? MEM_MAPPED : MEM_PRIVATE;
        mbi.AllocationBase = (void *)ml.lo;
        mbi.AllocationProtect = prot;
        mbi.RegionSize = ml.hi - p;
        mbi.State = prot == PAGE_NOACCESS ? MEM_RESERVE : MEM_COMMIT;
        mbi.Protect = mbi.State == MEM_COMMIT ? prot : 0;
        pthread_mutex_lock(&m->lock);
        reservation *r = res_find(m, p, 1);
        if (r) {
            /* Ours: the commit bitmap decides, and the run ends where it changes. */
            bool c = res_committed(r, p);
            uintptr_t q = p + page, end = ml.hi < r->base + r->size ? ml.hi : r->base + r->size;
            while (q < end && res_committed(r, q) == c)
                q += page;
            mbi.AllocationBase = (void *)r->base;
            mbi.AllocationProtect = r->protect;
            mbi.State = c ? MEM_COMMIT : MEM_RESERVE;
            mbi.Protect = c ? prot : 0;
            mbi.RegionSize = q - p;
        }
        pthread_mutex_unlock(&m->lock);
    }
    memcpy(lpBuffer, &mbi, sizeof mbi);
    *pResult = sizeof mbi;
    return S_OK;
}

static HRESULT mgr_VirtualProtect(IHostMemoryManager *iface, void *lpAddress, SIZE_T dwSize,
                                  DWORD flNewProtect, DWORD *pflOldProtect)
{
    const size_t page = page_size();
    int prot = prot_from_page(flNewProtect);
    if (!pflOldProtect || !dwSize || prot < 0) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                  "VirtualProtect(%p, 0x%zx, 0x%x): bad size, protection or old-protection pointer",
                  lpAddress, dwSize, (unsigned)flNewProtect);
        return E_INVALIDARG;
    }
    uintptr_t lo = (uintptr_t)lpAddress & ~(uintptr_t)(page - 1);
    size_t n = ilg__align_up((uintptr_t)lpAddress + dwSize - lo, page);
    ilg_maps_entry ml;
    uintptr_t next;
    if (ilg__maps_lookup(lo, &ml, &next) != 1) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "VirtualProtect: %p is not mapped", lpAddress);
        return E_INVALIDARG;
    }
    if (mprotect((void *)lo, n, prot) != 0) {
        ilg__fail(ILG_E_MAP, ILG_WHERE_NONE, 0, "VirtualProtect: mprotect %p+0x%zx: %s", (void *)lo, n,
                  strerror(errno));
        return E_INVALIDARG;
    }
    *pflOldProtect = page_from_perms(ml.perms);
    return S_OK;
}

static bool read_meminfo(uint64_t *total, uint64_t *avail)
{
    FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    unsigned long long v;
    *total = *avail = 0;
    if (!f)
        return false;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
            *total = v * 1024;
        else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
            *avail = v * 1024;
    }
    fclose(f);
    return *total != 0;
}

static HRESULT mgr_GetMemoryLoad(IHostMemoryManager *iface, DWORD *pMemoryLoad, SIZE_T *pAvailableBytes)
{
    uint64_t total, avail;
    if (!pMemoryLoad || !pAvailableBytes) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "GetMemoryLoad: NULL out pointer");
        return E_INVALIDARG;
    }
    if (!read_meminfo(&total, &avail)) {
        ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "GetMemoryLoad: cannot read /proc/meminfo");
        return E_FAIL;
    }
    if (avail > total)
        avail = total;
    *pMemoryLoad = (DWORD)((total - avail) * 100 / total);
    *pAvailableBytes = (SIZE_T)avail;
    return S_OK;
}

static HRESULT mgr_RegisterMemoryNotificationCallback(IHostMemoryManager *iface,
                                                      ICLRMemoryNotificationCallback *cb)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    if (cb)
        cb->lpVtbl->AddRef(cb);
    pthread_mutex_lock(&m->lock);
    ICLRMemoryNotificationCallback *old = m->callback;
    m->callback = cb;
    m->last_level = 0;
    pthread_mutex_unlock(&m->lock);
    if (old)
        old->lpVtbl->Release(old);
    return S_OK;
}

static HRESULT mgr_NeedsVirtualAddressSpace(IHostMemoryManager *iface, void *start, SIZE_T size)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    HRESULT hr = S_OK;
    pthread_mutex_lock(&m->lock);
    if (m->budget && (size > m->budget || m->acquired_bytes > m->budget - size)) {
        ilg__fail(ILG_E_LIMIT, ILG_WHERE_NONE, 0,
                  "NeedsVirtualAddressSpace(%p, 0x%zx): %" PRIu64 " bytes acquired, budget %" PRIu64,
                  start, size, m->acquired_bytes, m->budget);
        hr = E_OUTOFMEMORY;
    }
    pthread_mutex_unlock(&m->lock);
    return hr;
}

static HRESULT mgr_AcquiredVirtualAddressSpace(IHostMemoryManager *iface, void *start, SIZE_T size)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    HRESULT hr = S_OK;
    pthread_mutex_lock(&m->lock);
    if (!start || !size) {
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "AcquiredVirtualAddressSpace(%p, 0x%zx)", start, size);
        hr = E_INVALIDARG;
    } else if (!grow_array((void **)&m->acq, &m->capacq, m->nacq + 1, sizeof *m->acq)) {
        ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "AcquiredVirtualAddressSpace: record");
        hr = E_OUTOFMEMORY;
    } else {
        m->acq[m->nacq++] = (acquired){ (uintptr_t)start, size };
        m->acquired_bytes += size;
    }
    pthread_mutex_unlock(&m->lock);
    return hr;
}

static HRESULT mgr_ReleasedVirtualAddressSpace(IHostMemoryManager *iface, void *start)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    HRESULT hr = HOST_E_INVALIDOPERATION;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nacq; i++)
        if (m->acq[i].start == (uintptr_t)start) {
            m->acquired_bytes -= m->acq[i].size;
            m->acq[i] = m->acq[--m->nacq];
            hr = S_OK;
            break;
        }
    pthread_mutex_unlock(&m->lock);
    if (hr != S_OK)
        ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                  "ReleasedVirtualAddressSpace(%p): never reported as acquired", start);
    return hr;
}

static const IHostMemoryManagerVtbl manager_vtbl = {
    mgr_QueryInterface,
    mgr_AddRef,
    mgr_Release,
    mgr_CreateMalloc,
    mgr_VirtualAlloc,
    mgr_VirtualFree,
    mgr_VirtualQuery,
    mgr_VirtualProtect,
    mgr_GetMemoryLoad,
    mgr_RegisterMemoryNotificationCallback,
    mgr_NeedsVirtualAddressSpace,
    mgr_AcquiredVirtualAddressSpace,
    mgr_ReleasedVirtualAddressSpace,
};

ilg_status ilg_hostmem_create(const ilg_hostmem_options *opts, IHostMemoryManager **out)
{
    if (!out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "out is required");
    struct host_manager *m = calloc(1, sizeof *m);
    if (!m)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "memory manager");
    m->IHostMemoryManager_iface.lpVtbl = &manager_vtbl;
    atomic_init(&m->refs, 1);
    m->strict_wx = opts && opts->strict_wx;
    m->budget = opts ? opts->address_space_budget : 0;
    pthread_mutex_init(&m->lock, NULL);
    const char *env = getenv("ILG_HOSTMEM_FAULTS");
    if (env && *env) {
        ilg_fault_policy p;
        ilg_status st = ilg_fault_policy_parse(env, &p);
        if (st == ILG_OK)
            st = ilg_hostmem_set_fault_policy(&m->IHostMemoryManager_iface, &p);
        if (st != ILG_OK) {
            mgr_Release(&m->IHostMemoryManager_iface);
            return ilg__fail_context("ILG_HOSTMEM_FAULTS");
        }
    }
    *out = &m->IHostMemoryManager_iface;
    return ILG_OK;
}

ilg_status ilg_hostmem_stats_get(IHostMemoryManager *iface, ilg_hostmem_stats *out)
{
    if (!iface || iface->lpVtbl != &manager_vtbl || !out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "an ilgraft memory manager and out are required");
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    ilg_hostmem_stats s = {
        .heaps = atomic_load(&m->heaps),
        .allocations = atomic_load(&m->allocations),
        .injected_faults = atomic_load(&m->injected),
    };
    pthread_mutex_lock(&m->lock);
    s.reservations = m->nres;
    for (size_t i = 0; i < m->nres; i++)
        s.reserved_bytes += m->res[i].size;
    s.acquired_bytes = m->acquired_bytes;
    pthread_mutex_unlock(&m->lock);
    *out = s;
    return ILG_OK;
}

ilg_status ilg_hostmem_check_memory(IHostMemoryManager *iface, EMemoryAvailable *level)
{
    if (!iface || iface->lpVtbl != &manager_vtbl)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "not an ilgraft memory manager");
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    DWORD load;
    SIZE_T avail;
    if (FAILED(mgr_GetMemoryLoad(iface, &load, &avail)))
        return ilg_last_diag()->status;
    EMemoryAvailable now = load >= 90 ? eMemoryAvailableLow
                         : load <= 60 ? eMemoryAvailableHigh
                                      : eMemoryAvailableNeutral;
    ICLRMemoryNotificationCallback *cb = NULL;
    pthread_mutex_lock(&m->lock);
    if (m->callback && m->last_level != now) {
        cb = m->callback;
        cb->lpVtbl->AddRef(cb);
    }
    m->last_level = now;
    pthread_mutex_unlock(&m->lock);
    if (cb) {
        cb->lpVtbl->OnMemoryNotification(cb, now);
        cb->lpVtbl->Release(cb);
    }
    if (level)
        *level = now;
    return ILG_OK;
}
