/* tier_expect.h: what `ilgraft run --recompile` must deliver for each method of an
 * image, worked out by the test suites from the image alone (its metadata through the
 * loader, its IL through ilbody) by CoreCLR's rules as docs/profiler.md states them,
 * without asking the host: which methods have IL, which are generic (two FunctionIDs),
 * and how many JITCompilationStarted each FunctionID gets (tier 0 and tier 1; OSR too
 * for a lexically backward branch; one when the JIT optimizes at once). */
#ifndef ILG_TIER_EXPECT_H
#define ILG_TIER_EXPECT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tier_expect {
    uint32_t methods;        /* MethodDef rows */
    uint8_t *fids;           /* [rid - 1]: 0 without IL, 1, or 2 for a generic method */
    uint8_t *per_fid;        /* [rid - 1]: JIT events of each of its FunctionIDs */
    uint32_t with_il, generic, osr, once; /* methods with IL; of those: generic, with an
                                           * OSR recompilation, compiled only once */
    uint32_t parameterized;  /* methods with IL that are generic or of a generic type */
    uint64_t events, fid_total; /* sums over the image */
} tier_expect;

/* Fills *out for the image at path; recompile false gives one event per method with
 * IL. Fails the test (ck_assert) on a bad image. Free with tier_expect_free. */
void tier_expect_load(const char *path, bool recompile, tier_expect *out);
void tier_expect_free(tier_expect *e);

#endif
