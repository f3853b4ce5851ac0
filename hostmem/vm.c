/* vm.c: IHostMemoryManager (ilgraft/hostmem.h) in C, the Wine way: the manager object
 * (its heaps come from heap.c), the Win32 virtual-memory calls over mmap with
 * reservations tracked page by page, memory load and notifications, and the CLR's
 * address-space reports. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "hostmem_private.h"

static const IHostMemoryManagerVtbl manager_vtbl;

static HRESULT mgr_QueryInterface(IHostMemoryManager *iface, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (riid && (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IHostMemoryManager))) {
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
    return ilg__hostmem_heap_create(m, type, ppMalloc);
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
    const size_t page = ilg__page_size();
    for (size_t i = (p - r->base) / page; i < (p - r->base + n) / page; i++) {
        if (committed)
            r->committed[i / 8] |= (uint8_t)(1u << (i % 8));
        else
            r->committed[i / 8] &= (uint8_t)~(1u << (i % 8));
    }
}

static bool res_committed(const reservation *r, uintptr_t p)
{
    size_t i = (p - r->base) / ilg__page_size();
    return r->committed[i / 8] & (1u << (i % 8));
}

static HRESULT mgr_VirtualAlloc(IHostMemoryManager *iface, void *pAddress, SIZE_T dwSize,
                                DWORD type, DWORD protect, EMemoryCriticalLevel level, void **ppMem)
{
    struct host_manager *m = impl_from_IHostMemoryManager(iface);
    const size_t page = ilg__page_size();
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
        void *p = bits && ilg__hostmem_grow((void **)&m->res, &m->capres, m->nres + 1, sizeof *m->res)
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
    const size_t page = ilg__page_size();
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
    const size_t page = ilg__page_size();
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
    const size_t page = ilg__page_size();
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
    } else if (!ilg__hostmem_grow((void **)&m->acq, &m->capacq, m->nacq + 1, sizeof *m->acq)) {
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

struct host_manager *ilg__hostmem_manager(IHostMemoryManager *iface)
{
    return iface && iface->lpVtbl == &manager_vtbl ? impl_from_IHostMemoryManager(iface) : NULL;
}

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
