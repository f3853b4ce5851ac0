/* ilgraft/hostmem.h: the host heap: an IHostMemoryManager (mscoree.h) whose
 * CreateMalloc hands out IHostMalloc heaps, with what a test bench needs on top:
 * every live allocation is tracked (so Free of a foreign pointer is detected and a leak
 * report groups what is still live by allocation site), a fault-injection policy fails
 * chosen allocations, and executable heaps hold code that runs.
 *
 * The COM objects follow the usual rules: every pointer an ilgraft call or a COM method
 * returns through an out-parameter is a new reference the caller Releases; a heap keeps
 * its manager alive. Memory from a heap stays valid until Free or until the heap's last
 * reference is released (which frees whatever is still live).
 *
 * Threads: a manager may be used from any thread. A heap made with MALLOC_THREADSAFE
 * may be used from several threads at once; one made without it skips locking, so its
 * caller serialises Alloc, DebugAlloc, Free and the ilg_hostmalloc_* calls on it.
 *
 * W^X: an executable heap (MALLOC_EXECUTABLE) returns memory that is writable and
 * executable at the same address, because that is what the CLR's contract for it
 * (HeapCreate with HEAP_CREATE_ENABLE_EXECUTE) promises its callers. Those pages come
 * only from the executable heap's own mappings, never shared with data heaps. With
 * ilg_hostmem_options.strict_wx (or when the kernel refuses writable+executable
 * pages) each chunk is mapped twice from one memfd instead, read+execute where Alloc
 * points and read+write at an alias that ilg_hostmalloc_code_alias() gives, so no page
 * is ever writable and executable at once. */
#ifndef ILGRAFT_HOSTMEM_H
#define ILGRAFT_HOSTMEM_H

#include "ilgraft/com.h"
#include "ilgraft/common.h"
#include "ilgraft/mscoree.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ilgraft's side ------------------------------------------------------------------- */

typedef struct ilg_hostmem_options {
    /* Executable heaps use dual mappings (see the top of this file). */
    bool strict_wx;
    /* NeedsVirtualAddressSpace refuses when the acquired total would exceed this
     * (0: no budget). */
    uint64_t address_space_budget;
} ilg_hostmem_options;

/* A new memory manager (one reference, *out). opts may be NULL. When the environment
 * variable ILG_HOSTMEM_FAULTS holds a policy (ilg_fault_policy_parse syntax) the
 * manager starts with it, so whole programs can be fault-tested. */
ILG_API ilg_status ilg_hostmem_create(const ilg_hostmem_options *opts, IHostMemoryManager **out);

/* Fault injection over every heap of a manager. Allocations are counted from when the
 * policy is set, across all the manager's heaps. */
typedef struct ilg_fault_policy {
    uint64_t fail_nth;      /* fail the Nth allocation (1 is the next one); 0: off */
    bool repeat;            /* with fail_nth: every Nth allocation, not only the first */
    const char *site_file;  /* fail every DebugAlloc whose file is this path or ends with
                               "/" + this (so "host/host.c" matches __FILE__ from any
                               build directory); NULL: off. Copied by set. */
    int site_line;          /* with site_file: only this line (0: any line) */
} ilg_fault_policy;

/* Installs the policy (copied); NULL removes it. */
ILG_API ilg_status ilg_hostmem_set_fault_policy(IHostMemoryManager *mgr, const ilg_fault_policy *policy);

/* Parses "nth=N", "every=N" (nth N, repeat) and "site=FILE[:LINE]", comma-separated,
 * e.g. "site=host/host.c:120" or "nth=5". out->site_file points into spec, which
 * must outlive out. ILG_E_INVALID_ARG naming the offset of what does not parse. */
ILG_API ilg_status ilg_fault_policy_parse(const char *spec, ilg_fault_policy *out);

typedef struct ilg_hostmem_stats {
    uint64_t heaps;            /* IHostMalloc objects alive */
    uint64_t allocations;      /* allocation requests counted by the fault policy */
    uint64_t injected_faults;  /* allocations the policy failed */
    uint64_t reservations;     /* VirtualAlloc reservations alive */
    uint64_t reserved_bytes;
    uint64_t acquired_bytes;   /* AcquiredVirtualAddressSpace minus Released */
} ilg_hostmem_stats;

ILG_API ilg_status ilg_hostmem_stats_get(IHostMemoryManager *mgr, ilg_hostmem_stats *out);

/* Reads the memory load (as GetMemoryLoad), maps it to a level (90% or more in use:
 * Low, 60% or less: High, else Neutral) and, when it differs from the last level
 * reported, calls the registered callback's OnMemoryNotification. *level (may be NULL)
 * receives the level. */
ILG_API ilg_status ilg_hostmem_check_memory(IHostMemoryManager *mgr, EMemoryAvailable *level);

typedef struct ilg_hostmalloc_stats {
    DWORD type;                /* MALLOC_* flags it was created with */
    uint64_t live_count;       /* allocations not yet freed */
    uint64_t live_bytes;
    uint64_t peak_bytes;
    uint64_t total_allocs;
    uint64_t total_frees;
    uint64_t failed_allocs;    /* out of memory or injected */
    uint64_t bad_frees;        /* Free of a pointer that was not live here */
    const void *last_bad_free; /* the last such pointer (never dereferenced) */
    bool dual_mapped;          /* executable heap with a writable alias (strict W^X) */
} ilg_hostmalloc_stats;

/* Statistics of a heap this library created (ILG_E_INVALID_ARG for any other). */
ILG_API ilg_status ilg_hostmalloc_stats_get(IHostMalloc *heap, ilg_hostmalloc_stats *out);

/* The address to write code through for p, a live allocation of an executable heap:
 * p itself, or its writable alias when the heap is dual-mapped. The alias stays valid
 * as long as p. */
ILG_API ilg_status ilg_hostmalloc_code_alias(IHostMalloc *heap, void *p, void **writable);

typedef struct ilg_leak_site {
    const char *file;          /* DebugAlloc's file, or "(Alloc)" for plain Alloc */
    int line;
    uint64_t count;            /* live allocations from this site */
    uint64_t bytes;
} ilg_leak_site;

typedef struct ilg_leak_report {
    uint64_t count;            /* all live allocations */
    uint64_t bytes;
    size_t site_count;
    ilg_leak_site *sites;      /* most bytes first, then file and line */
    uint64_t bad_frees;        /* Free calls with a pointer that was not live here */
    const void *last_bad_free;
} ilg_leak_report;

/* What is live in the heap now, grouped by site. *out is owned by the caller (one
 * block, strings included; it outlives the heap) and freed with ilg_leak_report_free. */
ILG_API ilg_status ilg_hostmalloc_leaks(IHostMalloc *heap, ilg_leak_report **out);
/* "N bytes in M allocations at FILE:LINE" per site, then a total line and, if any,
 * the count of bad frees. */
ILG_API ilg_status ilg_leak_report_print(const ilg_leak_report *report, FILE *to);
ILG_API void ilg_leak_report_free(ilg_leak_report *report);

/* Allocation with the caller's site, for code that allocates its records through a
 * host heap (so leak reports and site faults name it). NULL on failure. */
static inline void *ilg_hostmalloc_at(IHostMalloc *heap, size_t size, const char *file, int line)
{
    void *p = NULL;
    if (FAILED(heap->lpVtbl->DebugAlloc(heap, size, eTaskCritical, (char *)file, line, &p)))
        return NULL;
    return p;
}
static inline void *ilg_hostmalloc_zeroed_at(IHostMalloc *heap, size_t size, const char *file,
                                             int line)
{
    void *p = ilg_hostmalloc_at(heap, size, file, line);
    if (p)
        memset(p, 0, size);
    return p;
}
#define ILG_HOST_ALLOC(heap, size) ilg_hostmalloc_at((heap), (size), __FILE__, __LINE__)
#define ILG_HOST_ZALLOC(heap, size) ilg_hostmalloc_zeroed_at((heap), (size), __FILE__, __LINE__)
#define ILG_HOST_FREE(heap, p) ((void)(heap)->lpVtbl->Free((heap), (p)))

#ifdef __cplusplus
}
#endif
#endif
