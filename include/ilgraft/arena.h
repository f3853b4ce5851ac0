/* ilgraft/arena.h: the graft arena, a per-module allocator for new IL method bodies
 * that keeps the IMethodMalloc promise: every allocation lies at a positive offset from
 * the module base and ends at or below METHOD_MAX_RVA (0x7FFFFFFF), so its offset is
 * a valid RVA for SetILFunctionBody.
 *
 * Layout (for an image ilgraft mapped; see loader.h):
 *
 *   base        base + span          arena start                   arena end
 *   | image ... |pad to page|        | committed ... | reserved     | guard |
 *                                    ^ first allocation, RVA = page-aligned span
 *
 * The address space is reserved PROT_NONE and committed read-write in chunks as the
 * bump pointer reaches it. Allocation is a lock-free compare-and-swap on one word; a
 * mutex is taken only to commit the next chunk. Nothing is freed one at a time: the
 * memory goes away with the arena (with its image, or with ilg_arena_detach).
 *
 * Thread safety: allocation, ilg_arena_stats and the IMethodMalloc object may be used
 * from any number of threads at once. ilg_arena_configure and the arena's destruction
 * are not concurrent with anything else on the same arena. */
#ifndef ILGRAFT_ARENA_H
#define ILGRAFT_ARENA_H

#include "ilgraft/com.h"
#include "ilgraft/common.h"
#include "ilgraft/corprof.h"
#include "ilgraft/loader.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ilg_arena ilg_arena;

/* Default alignment of arena allocations: fat method headers must be 4-byte aligned
 * (ECMA-335 II.25.4.3). */
#define ILG_ARENA_DEFAULT_ALIGN 4u
/* Largest alignment an allocation may ask for (one page). */
#define ILG_ARENA_MAX_ALIGN 4096u
/* Default bytes committed per slow-path step. */
#define ILG_ARENA_DEFAULT_CHUNK ((uint32_t)256 << 10)

typedef struct ilg_arena_options {
    /* ilg_arena_attach only: address space to reserve (rounded up to pages; 0 means
     * ILG_ARENA_DEFAULT_SIZE). Shrunk so the arena ends at or below the RVA limit. */
    uint64_t size;
    /* Most bytes the arena hands out, padding included (0: all of it). A quota, and
     * how tests reach exhaustion without committing much. */
    uint64_t limit;
    /* Default alignment: a power of two from 1 to ILG_ARENA_MAX_ALIGN (0: 4). */
    uint32_t alignment;
    /* Bytes committed per slow-path step, rounded up to pages (0: default). */
    uint32_t commit_chunk;
} ilg_arena_options;

typedef struct ilg_arena_stats {
    uint8_t *base;          /* the module base: offset 0 */
    uint64_t start;         /* offset of the arena's first byte (the first allocation) */
    uint64_t end;           /* offset at or below which every allocation ends */
    uint64_t reserved;      /* bytes of address space reserved for the arena */
    uint64_t bytes_used;    /* bytes handed out, alignment padding included */
    uint64_t allocations;   /* successful allocations */
    uint64_t failures;      /* failed allocations (exhaustion or commit failure) */
    uint64_t committed;     /* bytes committed read-write, from start */
    uint64_t high_water;    /* offset one past the highest allocation (start if none) */
    uint32_t alignment;     /* default alignment */
    bool attached;          /* made by ilg_arena_attach (owns its own reservation) */
} ilg_arena_stats;

/* The arena of an image ilgraft mapped. The arena belongs to the image: valid until
 * ilg_image_close(); do not detach it. */
ILG_API ilg_status ilg_image_arena(ilg_image *img, ilg_arena **out);

/* An arena for a module something else mapped (an ELF from dlopen, a runtime's own
 * mapping of a PE) whose image covers [base, base + span). Finds free address space
 * upward from the first page at or above base + span, below the RVA limit, by reading
 * /proc/self/maps; reserves it with MAP_FIXED_NOREPLACE (and checks the address it got,
 * retrying when another thread mapped the gap first). The arena's first allocation is
 * at the start of that space, so the gap between the image end and the arena start is
 * the address space other mappings already hold. opts may be NULL.
 * ILG_E_ARENA_NO_SPACE, naming the mapping that blocks, when nothing fits.
 * On success *out is a new arena the caller releases with ilg_arena_detach(). */
ILG_API ilg_status ilg_arena_attach(const void *base, uint64_t span, const ilg_arena_options *opts,
                                    ilg_arena **out);

/* Unmaps an arena made by ilg_arena_attach and frees it; every pointer it handed out
 * becomes invalid. ILG_E_INVALID_ARG for an image's arena (it goes with the image). */
ILG_API ilg_status ilg_arena_detach(ilg_arena *arena);

/* Sets the limit, default alignment and commit chunk (opts->size is ignored). Only
 * before the first allocation: ILG_E_INVALID_ARG afterwards. */
ILG_API ilg_status ilg_arena_configure(ilg_arena *arena, const ilg_arena_options *opts);

/* size bytes at the default alignment. *ptr receives the memory (read-write, zeroed,
 * valid as long as the arena), *rva its offset from the module base (rva may be NULL).
 * ILG_E_INVALID_ARG for size 0; ILG_E_ARENA_EXHAUSTED when it would end past the
 * arena end or the limit (the arena stays usable for smaller requests); ILG_E_MAP when
 * committing fails. */
ILG_API ilg_status ilg_arena_alloc(ilg_arena *arena, size_t size, void **ptr, uint32_t *rva);
/* The same with an explicit alignment (a power of two up to ILG_ARENA_MAX_ALIGN). */
ILG_API ilg_status ilg_arena_alloc_aligned(ilg_arena *arena, size_t size, size_t align, void **ptr,
                                           uint32_t *rva);

/* The RVA of a pointer into memory the arena handed out. ILG_E_RANGE otherwise. */
ILG_API ilg_status ilg_arena_rva(const ilg_arena *arena, const void *ptr, uint32_t *rva);

/* A snapshot of the counters; exact when no allocation is in flight. */
ILG_API ilg_status ilg_arena_stats_get(const ilg_arena *arena, ilg_arena_stats *out);

/* ---- The COM face: IMethodMalloc (corprof.h) ------------------------------------ */

/* The arena's IMethodMalloc: one object per arena, and *out is a new reference the
 * caller Releases. The object may outlive the arena (a profiler may hold it past
 * module unload); its Alloc then returns NULL with ILG_E_ARENA_DETACHED. Alloc returns
 * NULL for cb 0 (as CoreCLR) and on exhaustion too; the reason is in ilg_last_diag(). QueryInterface
 * answers IUnknown and IMethodMalloc only. */
ILG_API ilg_status ilg_arena_method_malloc(ilg_arena *arena, IMethodMalloc **out);

#ifdef __cplusplus
}
#endif
#endif
