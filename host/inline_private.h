/* inline_private.h: the host's model of the JIT's inlining (`ilgraft run --inline`,
 * docs/profiler.md "Inlining"): which call sites of a method being compiled get
 * JITInlining, the profiler's answers, and per module the inliner -> inlinee records
 * that the stale-inliner warning and RequestReJITWithInliners read. Not installed.
 *
 * Threads: a module's records are guarded by its own rwlock (JIT workers of
 * --jit-threads write while SetILFunctionBody from any thread marks them stale);
 * the records live until the module is freed. */
#ifndef ILG_INLINE_PRIVATE_H
#define ILG_INLINE_PRIVATE_H

#include "host_private.h"

/* One inliner/inlinee pair, kept in the inlinee's module (the inliner may be of any
 * loaded module), over all the inliner's compilations. */
typedef struct host_inline_pair {
    host_method *caller, *callee;
    uint32_t sites;              /* JITInlining delivered for its call sites */
    uint32_t refused;            /* ... answered *pfShouldInline = FALSE */
    uint32_t next;               /* index + 1 of the callee's next pair, 0 at the end */
    /* The callee's body (RVA << 32 | size) the caller last inlined, 0 when it never did;
     * and, once SetILFunctionBody gave the callee different IL after that, the new body (the
     * caller's code keeps the old one: dotnet/runtime#48081). */
    uint64_t inlined_body, stale_body;
} host_inline_pair;

/* Makes m's inlining records (ILG_E_NOMEM without memory). Called at module open under
 * --inline only; m->inlines stays NULL otherwise and every function below is then a
 * no-op. */
ilg_status ilg__inline_module_init(host_module *m);
void ilg__inline_module_free(host_module *m);

/* On worker w between JITCompilationStarted and JITCompilationFinished of caller
 * (FunctionID fid): the rule's call sites of the caller's current body, each delivered
 * as JITInlining(fid, callee, &should) in IL order, and recorded; a pair inlined again
 * holds the callee's current body and is no longer stale. A ReJIT compilation of the
 * caller delivers them too (observed under CoreCLR, docs/coreclr-observed.md "ReJIT
 * and inlining"): ilg__inline_rejit_compile, which is how RequestReJITWithInliners
 * clears a stale inliner. A callee with a ReJIT version is not claimed
 * (ilg__host_rejit_blocks_inlining).
 * w needs host, pass (HOST_PASS_FIRST outside recompile's later passes) and its two
 * inline_ bodies (freed by the owner). */
void ilg__inline_compile(host_worker *w, host_method *caller, FunctionID fid);

/* The same for a ReJIT compilation of caller (rejit.c, between ReJITCompilationStarted
 * and Finished) from body, the new version's IL (RVA << 32 | size): what caller's older
 * code inlined is forgotten first (the new code replaces it: a callee it does not
 * inline again is no longer its inlinee, and is never stale for it), then its call
 * sites are delivered and recorded as at a first compilation. */
void ilg__inline_rejit_compile(host_worker *w, host_method *caller, FunctionID fid,
                               uint64_t body);

/* meth's body in force changed (its current word already stored): SetILFunctionBody,
 * a ReJIT version installed or a revert. Every pair that inlined another body of meth
 * is marked stale; one that inlined this body is stale no more. */
void ilg__inline_body_changed(host_method *meth);

/* The methods (of any module) that inlined MethodDef token callee of module m with the
 * profiler's consent (the inliners RequestReJITWithInliners must recompile too), each once, in
 * the order their pairs were recorded: cb(ctx, caller's FunctionID, caller's token,
 * stale) where stale says the caller holds an older body of the callee than its
 * current one. cb runs under the module's inlining read lock: it must not set bodies
 * or compile. Returns the number of inliners (0 without --inline or for a token that is
 * not a MethodDef of m). */
typedef void (*ilg__inliner_cb)(void *ctx, FunctionID caller, mdMethodDef caller_token,
                                bool stale);
uint32_t ilg__inline_inliners_of(ilg_host *host, host_module *m, mdMethodDef callee,
                                 ilg__inliner_cb cb, void *ctx);

/* For the report (report.c): m's pairs, copied under the lock into *out (host heap,
 * freed by the caller with ILG_HOST_FREE), *count of them; false without memory or
 * records. */
bool ilg__inline_snapshot(host_module *m, host_inline_pair **out, uint32_t *count);

#endif
