/* arena_private.h: the graft arena's internals that tests reach into: building an
 * arena over a caller's reservation with an arbitrary base (so exhaustion at the RVA
 * limit can be simulated without reserving 2 GB), and the hook that lets a test lose
 * the race between scanning /proc/self/maps and reserving. Not installed. */
#ifndef ILG_ARENA_PRIVATE_H
#define ILG_ARENA_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "ilgraft/arena.h"

/* An arena whose offsets are counted from base and which hands out
 * [base + start, base + start + reserved), clamped to the RVA limit. The memory there
 * must be a PROT_NONE reservation the caller owns (and unmaps after
 * ilg__arena_destroy); base itself is never dereferenced. */
ilg_status ilg__arena_create(uint8_t *base, uint64_t start, uint64_t reserved, ilg_arena **out);
void ilg__arena_destroy(ilg_arena *arena);

/* Called by ilg_arena_attach after it chose gap [addr, addr + size) and before it
 * reserves it; NULL in normal use. A test sets it to map something there first. */
extern void (*ilg__arena_attach_race_hook)(void *addr, size_t size);

#endif
