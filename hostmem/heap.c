/* heap.c: IHostMalloc (ilgraft/hostmem.h) in C, the Wine way: every live allocation in
 * an open-addressing table by address, allocation sites for leak reports, the fault
 * policy asked before each allocation (fault.c), executable blocks from exec.c. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "hostmem_private.h"

static const IHostMallocVtbl heap_vtbl;

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
    if (!ilg__hostmem_grow((void **)&h->sites, &h->capsites, h->nsites + 1, sizeof *h->sites))
        return UINT32_MAX;
    char *copy = strdup(file);
    if (!copy)
        return UINT32_MAX;
    h->sites[h->nsites] = (site){ file, copy, line };
    return (uint32_t)h->nsites++;
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
    if (riid && (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IHostMalloc))) {
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
    ilg__hostmem_exec_unmap(h);
    for (size_t i = 1; i < h->nsites; i++)
        free(h->sites[i].file);
    free(h->sites);
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
    if (ilg__hostmem_fault_fires(h->mgr, file, line)) {
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
            p = ilg__hostmem_exec_alloc(h, size, &alias);
        else
            p = malloc(size ? size : 1);
    }
    if (p) {
        live_entry e = { (uintptr_t)p, size, s, alias };
        if (!live_insert(h, &e)) {
            if (h->type & MALLOC_EXECUTABLE)
                ilg__hostmem_exec_free(h, p, size);
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
        ilg__hostmem_exec_free(h, pMem, size);
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

HRESULT ilg__hostmem_heap_create(struct host_manager *m, DWORD type, IHostMalloc **out)
{
    struct host_heap *h = calloc(1, sizeof *h);
    if (!h || !ilg__hostmem_grow((void **)&h->sites, &h->capsites, 1, sizeof *h->sites)) {
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
    m->IHostMemoryManager_iface.lpVtbl->AddRef(&m->IHostMemoryManager_iface);
    atomic_fetch_add(&m->heaps, 1);
    *out = &h->IHostMalloc_iface;
    return S_OK;
}

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
