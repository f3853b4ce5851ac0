/* hostmem_private.h: the host heap's objects, shared by its files: heap.c (IHostMalloc,
 * the live table, leak reports), exec.c (executable chunks), vm.c (IHostMemoryManager and
 * the Win32 virtual-memory calls) and fault.c (the fault policy). Not installed. */
#ifndef ILG_HOSTMEM_PRIVATE_H
#define ILG_HOSTMEM_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "ilg_private.h"
#include "ilgraft/hostmem.h"

/* Executable heaps carve blocks up to SMALL_MAX bytes from chunks of EXEC_CHUNK and
 * map anything bigger on its own. Small blocks are 16-byte granular (code alignment). */
#define EXEC_CHUNK ((size_t)256 << 10)
#define SMALL_MAX 4096
#define SMALL_GRAIN 16
#define SMALL_CLASSES (SMALL_MAX / SMALL_GRAIN)


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

static inline struct host_heap *impl_from_IHostMalloc(IHostMalloc *iface)
{
    return (struct host_heap *)((char *)iface - offsetof(struct host_heap, IHostMalloc_iface));
}

static inline struct host_manager *impl_from_IHostMemoryManager(IHostMemoryManager *iface)
{
    return (struct host_manager *)((char *)iface -
                                   offsetof(struct host_manager, IHostMemoryManager_iface));
}

/* Grows *arr (elements of elem bytes, *cap of them) to hold need; false when out of
 * memory, *arr unchanged. */
static inline bool ilg__hostmem_grow(void **arr, size_t *cap, size_t need, size_t elem)
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

/* vm.c: the manager behind iface, or NULL when iface is not an ilgraft manager. */
struct host_manager *ilg__hostmem_manager(IHostMemoryManager *iface);

/* heap.c: CreateMalloc's new heap of MALLOC_TYPE type (checked by the caller), holding
 * a reference to m. E_OUTOFMEMORY. */
HRESULT ilg__hostmem_heap_create(struct host_manager *m, DWORD type, IHostMalloc **out);

/* fault.c: counts one allocation at file:line (file NULL for Alloc) and says whether
 * the manager's fault policy fails it. */
bool ilg__hostmem_fault_fires(struct host_manager *m, const char *file, int line);

/* exec.c: executable blocks for a MALLOC_EXECUTABLE heap, under the heap's lock.
 * exec_alloc returns the block (executable) and its writable alias (the same address
 * unless dual-mapped), NULL when out of memory; exec_free queues a block for reuse or
 * unmaps a large one; exec_unmap releases every chunk when the heap goes. */
void *ilg__hostmem_exec_alloc(struct host_heap *h, size_t size, void **alias);
void ilg__hostmem_exec_free(struct host_heap *h, void *p, size_t size);
void ilg__hostmem_exec_unmap(struct host_heap *h);

#endif
