/* rejit.c: ReJIT in the harness host (docs/profiler.md, "ReJIT"): RequestReJIT,
 * RequestReJITWithInliners (the methods named and, under --inline, the inliners
 * inline.c recorded for them), RequestRevert and GetReJITIDs, the ICorProfilerFunctionControl that GetReJITParameters
 * passes, the serving of requests (GetReJITParameters, ReJITCompilationStarted,
 * ReJITCompilationFinished) at the points of the host's model, and the protocol checks.
 *
 * A request is validated at once, as CoreCLR validates it (its ReJITError callbacks come
 * from inside the request); a valid one marks the method with a new ReJITID (pending)
 * and queues it. A method not compiled yet is served at its first JIT event, in place of
 * JITCompilationStarted/Finished (as CoreCLR at its first call); one already compiled at
 * the next service point (ilg__host_rejit_serve): after a JIT pair on the thread that
 * delivered it, after a module's load callbacks, and before the unload callbacks. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "info_private.h"
#include "inline_private.h"
#include "trace.h"

#define ILG__WANT_CB_TRACE
#include "trace.inc"

#define ILG__TRACE_HOST(This) (impl_from_ICorProfilerFunctionControl(This)->host)
#define ILG__TRACE_REAL fc_vtbl

_Thread_local host_method *ilg__host_rejit_started;

enum { CALLBACK_WITH_REJIT = 4 };
#define REJIT_WHY_MAX 384

/* The object GetReJITParameters passes: open while the callback runs; the body it takes
 * is copied into the module's arena at once (the profiler frees its buffer on return). */
typedef struct host_fc {
    ICorProfilerFunctionControl ICorProfilerFunctionControl_iface;
    _Atomic ULONG refs;
    ilg_host *host;
    host_method *meth;
    atomic_bool open;
    struct host_fc *prev, *next; /* h->rejit_orphans, when still referenced after the call */
    /* Under the method's lock: */
    bool body_set;
    HRESULT body_hr;             /* the last SetILFunctionBody's verdict */
    uint32_t rva, size;          /* the accepted copy */
    char why[REJIT_WHY_MAX];
    DWORD codegen;
    COR_IL_MAP *map;             /* host heap */
    ULONG map_count;
} host_fc;

static inline host_fc *impl_from_ICorProfilerFunctionControl(ICorProfilerFunctionControl *iface)
{
    return (host_fc *)((char *)iface - offsetof(host_fc, ICorProfilerFunctionControl_iface));
}

/* ---- records -------------------------------------------------------------------------- */

/* meth's ReJIT record, made on first need under rejit_lock; NULL without memory. */
static host_rejit *rejit_of(host_method *meth)
{
    ilg_host *h = meth->module->host;
    host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    if (r)
        return r;
    r = ILG_HOST_ZALLOC(h->heap, sizeof *r);
    if (r)
        atomic_store_explicit(&meth->rejit, r, memory_order_release);
    return r;
}

/* A protocol warning for meth (docs/profiler.md, "ReJIT protocol checks"), counted and
 * kept (the last one's text); also an error under strict_rejit. */
static void warn(host_method *meth, const char *fmt, ...) ILG_PRINTF(2, 3);
static void warn(host_method *meth, const char *fmt, ...)
{
    ilg_host *h = meth->module->host;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&h->rejit_lock);
    host_rejit *r = rejit_of(meth);
    if (r) {
        r->warnings++;
        ILG_HOST_FREE(h->heap, r->warning);
        r->warning = ILG_HOST_ALLOC(h->heap, strlen(text) + 1);
        if (r->warning)
            memcpy(r->warning, text, strlen(text) + 1);
    }
    atomic_fetch_add(&h->rejit_warnings, 1);
    pthread_mutex_unlock(&h->rejit_lock);
    if (h->trace) {
        pthread_mutex_lock(&h->lock);
        fprintf(h->log, "ReJIT protocol %s: %s (0x%08x): %s\n", h->strict_rejit ? "error" : "warning",
                ilg__host_method_name(meth), meth->token, text);
        pthread_mutex_unlock(&h->lock);
    }
}

void ilg__host_rejit_free(ilg_host *h, host_method *meth)
{
    host_rejit *r = atomic_load(&meth->rejit);
    if (!r)
        return;
    ILG_HOST_FREE(h->heap, r->ids);
    ILG_HOST_FREE(h->heap, r->warning);
    ILG_HOST_FREE(h->heap, r->diagnostic);
    ILG_HOST_FREE(h->heap, r);
}

/* ---- delivery ------------------------------------------------------------------------- */

#define CB4(h) ((ICorProfilerCallback4 *)(void *)(h)->callback)
#define DELIVER4(h, name, ...)                                                             \
    do {                                                                                   \
        ilg__host_enter_callback((h), #name);                                              \
        if ((h)->trace)                                                                    \
            trace_cb_##name((h), __VA_ARGS__);                                             \
        uint8_t cb_outer_ = ilg__host_cb_state;                                            \
        ilg__host_cb_state = HOST_CB_INSIDE | HOST_CB_TRIGGERS;                            \
        HRESULT cb_hr_ = CB4(h)->lpVtbl->name(CB4(h), __VA_ARGS__);                        \
        ilg__host_cb_state = cb_outer_;                                                    \
        if ((h)->trace)                                                                    \
            ilg__trace_cb_return((h), #name, cb_hr_);                                      \
    } while (0)

static void rejit_error(ilg_host *h, ModuleID mod, mdMethodDef token, HRESULT hr)
{
    if (h->callback)
        DELIVER4(h, ReJITError, mod, token, (FunctionID)0, hr);
}

/* ---- ICorProfilerFunctionControl ------------------------------------------------------ */

static HRESULT fc_QueryInterface(ICorProfilerFunctionControl *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (riid && (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ICorProfilerFunctionControl))) {
        *ppv = This;
        This->lpVtbl->AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG fc_AddRef(ICorProfilerFunctionControl *This)
{
    return atomic_fetch_add(&impl_from_ICorProfilerFunctionControl(This)->refs, 1) + 1;
}

static void fc_free(host_fc *fc)
{
    ILG_HOST_FREE(fc->host->heap, fc->map);
    ILG_HOST_FREE(fc->host->heap, fc);
}

static ULONG fc_Release(ICorProfilerFunctionControl *This)
{
    host_fc *fc = impl_from_ICorProfilerFunctionControl(This);
    ilg_host *h = fc->host;
    /* The count and the orphan list change together: the host's release after the
     * callback and the profiler's last one may race. */
    pthread_mutex_lock(&h->rejit_lock);
    ULONG left = ilg__host_unref(&fc->refs);
    bool orphan = fc->prev || fc->next || h->rejit_orphans == fc;
    if (!left && orphan) {
        if (fc->prev)
            fc->prev->next = fc->next;
        else
            h->rejit_orphans = fc->next;
        if (fc->next)
            fc->next->prev = fc->prev;
    }
    pthread_mutex_unlock(&h->rejit_lock);
    if (!left && (orphan || !atomic_load(&fc->open)))
        fc_free(fc);
    return left;
}

/* CoreCLR keeps the flags for the new version's compilation; nothing is compiled here. */
static HRESULT fc_SetCodegenFlags(ICorProfilerFunctionControl *This, DWORD flags)
{
    host_fc *fc = impl_from_ICorProfilerFunctionControl(This);
    if (!atomic_load(&fc->open))
        return CORPROF_E_UNSUPPORTED_CALL_SEQUENCE;
    pthread_mutex_lock(ilg__host_method_lock(fc->meth));
    fc->codegen = flags;
    pthread_mutex_unlock(ilg__host_method_lock(fc->meth));
    return S_OK;
}

/* Copies the body into the arena and verifies the copy there (as JIT-time bodies are);
 * the last accepted body is the new version's. */
static HRESULT fc_SetILFunctionBody(ICorProfilerFunctionControl *This, ULONG cb, LPCBYTE p)
{
    host_fc *fc = impl_from_ICorProfilerFunctionControl(This);
    host_method *meth = fc->meth;
    void *copy = NULL;
    uint32_t rva = 0, size = 0;
    char why[REJIT_WHY_MAX];
    if (!atomic_load(&fc->open))
        return CORPROF_E_UNSUPPORTED_CALL_SEQUENCE;
    if (!cb || !p)
        return E_INVALIDARG;
    if (ilg_arena_alloc(meth->module->arena, cb, &copy, &rva) != ILG_OK)
        return E_OUTOFMEMORY;
    memcpy(copy, p, cb);
    HRESULT hr = ilg__host_check_body(meth, copy, cb, false, &size, why, sizeof why);
    pthread_mutex_lock(ilg__host_method_lock(meth));
    fc->body_hr = hr;
    if (SUCCEEDED(hr)) {
        fc->body_set = true;
        fc->rva = rva;
        fc->size = size;
        fc->why[0] = '\0';
    } else {
        /* The last body set is the version's, as in CoreCLR: a rejected one after an
         * accepted one leaves the version without a body the JIT would take. */
        fc->body_set = false;
        snprintf(fc->why, sizeof fc->why, "%s", why);
    }
    pthread_mutex_unlock(ilg__host_method_lock(meth));
    if (FAILED(hr) && meth->module->host->trace)
        ilg__trace_note = fc->why;
    return hr;
}

static HRESULT fc_SetILInstrumentedCodeMap(ICorProfilerFunctionControl *This, ULONG n,
                                           COR_IL_MAP *map)
{
    host_fc *fc = impl_from_ICorProfilerFunctionControl(This);
    ilg_host *h = fc->host;
    if (!atomic_load(&fc->open))
        return CORPROF_E_UNSUPPORTED_CALL_SEQUENCE;
    if (n && !map)
        return E_INVALIDARG;
    COR_IL_MAP *copy = n ? ILG_HOST_ALLOC(h->heap, n * sizeof *copy) : NULL;
    if (n && !copy)
        return E_OUTOFMEMORY;
    if (n)
        memcpy(copy, map, n * sizeof *copy);
    pthread_mutex_lock(ilg__host_method_lock(fc->meth));
    COR_IL_MAP *old = fc->map;
    fc->map = copy;
    fc->map_count = n;
    pthread_mutex_unlock(ilg__host_method_lock(fc->meth));
    ILG_HOST_FREE(h->heap, old);
    return S_OK;
}

static const ICorProfilerFunctionControlVtbl fc_vtbl = {
    fc_QueryInterface,   fc_AddRef, fc_Release, fc_SetCodegenFlags, fc_SetILFunctionBody,
    fc_SetILInstrumentedCodeMap,
};

#undef ILG__WANT_CB_TRACE
#define ILG__WANT_FC_TRACE
#include "trace.inc"
static const ICorProfilerFunctionControlVtbl fc_trace_vtbl = { ILG__FC_TRACE_SLOTS };

/* ---- the instrumented code map check -------------------------------------------------- */

/* Whether off is an instruction's offset in b, or the end of its code. */
static bool at_boundary(const ilg_body *b, uint32_t off)
{
    if (off == b->code_size)
        return true;
    uint32_t lo = 0, hi = b->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->instrs[mid].offset == off)
            return true;
        if (b->instrs[mid].offset < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* The same instruction in both bodies: opcode and operand (branch targets are left out:
 * they move with any insertion). */
static bool same_instr(const ilg_body *a, uint32_t i, const ilg_body *b, uint32_t k)
{
    const ilg_instr *x = &a->instrs[i], *y = &b->instrs[k];
    if (x->op != y->op)
        return false;
    switch ((ilg_operand_kind)ilg_opcode_get((ilg_opcode)x->op)->operand) {
    case ILG_OPND_NONE: case ILG_OPND_BR1: case ILG_OPND_BR4: case ILG_OPND_SWITCH:
        return true;
    case ILG_OPND_R4:
        return memcmp(&x->arg.r4, &y->arg.r4, sizeof x->arg.r4) == 0;
    case ILG_OPND_R8:
        return memcmp(&x->arg.r8, &y->arg.r8, sizeof x->arg.r8) == 0;
    case ILG_OPND_METHOD: case ILG_OPND_FIELD: case ILG_OPND_TYPE: case ILG_OPND_TOKEN:
    case ILG_OPND_STRING: case ILG_OPND_SIG:
        return x->arg.token == y->arg.token;
    default:
        return x->arg.i == y->arg.i;
    }
}

/* The largest bodies aligned (instructions, each way): the table is (n+1)(m+1) shorts. */
#define ALIGN_MAX 2048u

/* Where each original instruction went: match[i] is the new body's instruction the
 * longest common subsequence of the two instruction lists pairs with old instruction i,
 * UINT32_MAX for one changed or removed. False when the bodies are too large. */
static bool align(const ilg_body *o, const ilg_body *n, uint32_t *match)
{
    const uint32_t a = o->count, b = n->count;
    if (a > ALIGN_MAX || b > ALIGN_MAX)
        return false;
    uint16_t *t = calloc((size_t)(a + 1) * (b + 1), sizeof *t);
    if (!t)
        return false;
#define T(i, k) t[(size_t)(i) * (b + 1) + (k)]
    for (uint32_t i = a; i-- > 0;)
        for (uint32_t k = b; k-- > 0;)
            T(i, k) = same_instr(o, i, n, k) ? (uint16_t)(T(i + 1, k + 1) + 1)
                      : T(i + 1, k) > T(i, k + 1) ? T(i + 1, k) : T(i, k + 1);
    for (uint32_t i = 0, k = 0; i < a;) {
        if (k < b && same_instr(o, i, n, k) && T(i, k) == T(i + 1, k + 1) + 1)
            match[i++] = k++;
        else if (k < b && T(i, k + 1) >= T(i + 1, k))
            k++;
        else
            match[i++] = UINT32_MAX;
    }
#undef T
    free(t);
    return true;
}

/* The index of the instruction at offset off of b, or UINT32_MAX. */
static uint32_t instr_at(const ilg_body *b, uint32_t off)
{
    for (uint32_t lo = 0, hi = b->count; lo < hi;) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->instrs[mid].offset == off)
            return mid;
        if (b->instrs[mid].offset < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return UINT32_MAX;
}

/* The first entry of the map that disagrees with the two bodies, into why (false when
 * none does): an offset that is no instruction of its body; an entry out of order (the
 * map must be sorted and the code not reordered, corprof.idl's COR_IL_MAP notes); an old
 * instruction kept unchanged in the new body (the bodies aligned instruction by
 * instruction) whose entry names another new offset holding another instruction. */
static bool map_disagrees(const host_fc *fc, const ilg_body *o, const ilg_body *n,
                          const uint32_t *match, char *why, size_t size)
{
    for (ULONG k = 0; k < fc->map_count; k++) {
        const COR_IL_MAP *e = &fc->map[k];
        const bool old_ok = at_boundary(o, e->oldOffset), new_ok = at_boundary(n, e->newOffset);
        if (!old_ok || !new_ok) {
            snprintf(why, size, "entry %lu (old 0x%x -> new 0x%x): %s 0x%x is no instruction of the "
                     "%s body (%u bytes of code)", (unsigned long)k, e->oldOffset, e->newOffset,
                     old_ok ? "new offset" : "old offset", old_ok ? e->newOffset : e->oldOffset,
                     old_ok ? "new" : "original", old_ok ? n->code_size : o->code_size);
            return true;
        }
        if (k && (e->oldOffset <= e[-1].oldOffset || e->newOffset < e[-1].newOffset)) {
            snprintf(why, size, "entry %lu (old 0x%x -> new 0x%x) comes after (old 0x%x -> new "
                     "0x%x): the map is not in ascending order", (unsigned long)k, e->oldOffset,
                     e->newOffset, e[-1].oldOffset, e[-1].newOffset);
            return true;
        }
        const uint32_t i = instr_at(o, e->oldOffset), at = instr_at(n, e->newOffset);
        if (!match || i == UINT32_MAX || match[i] == UINT32_MAX || at == UINT32_MAX ||
            same_instr(o, i, n, at))
            continue;
        snprintf(why, size, "entry %lu (old 0x%x -> new 0x%x): the original %s at 0x%x is at new "
                 "offset 0x%x, and 0x%x holds a %s", (unsigned long)k, e->oldOffset, e->newOffset,
                 ilg_opcode_get((ilg_opcode)o->instrs[i].op)->name, e->oldOffset,
                 n->instrs[match[i]].offset, e->newOffset,
                 ilg_opcode_get((ilg_opcode)n->instrs[at].op)->name);
        return true;
    }
    return false;
}

/* The map a profiler gave against the body the new version replaces and the new body,
 * both decoded: a warning for the first entry that disagrees (map_disagrees). */
static void check_map(host_fc *fc, uint64_t before)
{
    host_method *meth = fc->meth;
    const uint8_t *base = meth->module->info.base;
    ilg_body *old_b = NULL, *new_b = NULL;
    uint32_t *match = NULL;
    char why[400];
    if (!fc->map_count || !fc->body_set || !before || ilg_body_new(&old_b) != ILG_OK ||
        ilg_body_new(&new_b) != ILG_OK)
        goto done;
    if (ilg_body_decode(old_b, base + (before >> 32), (uint32_t)before) != ILG_OK ||
        ilg_body_decode(new_b, base + fc->rva, fc->size) != ILG_OK)
        goto done;
    match = calloc(old_b->count ? old_b->count : 1, sizeof *match);
    if (match && !align(old_b, new_b, match)) {
        free(match);
        match = NULL;
    }
    if (map_disagrees(fc, old_b, new_b, match, why, sizeof why))
        warn(meth, "SetILInstrumentedCodeMap %s", why);
done:
    free(match);
    ilg_body_free(old_b);
    ilg_body_free(new_b);
}

/* ---- serving -------------------------------------------------------------------------- */

/* Version id of meth is configured (GetReJITParameters returned): GetReJITIDs lists it
 * from now on, through ReJITCompilationStarted/Finished (observed). */
static void record_id(host_method *meth, uint32_t id)
{
    ilg_host *h = meth->module->host;
    pthread_mutex_lock(&h->rejit_lock);
    host_rejit *r = rejit_of(meth);
    if (r && r->id_count == r->id_cap) {
        uint32_t cap = r->id_cap ? r->id_cap * 2 : 4;
        uint32_t *ids = ILG_HOST_ALLOC(h->heap, cap * sizeof *ids);
        if (ids) {
            if (r->id_count)
                memcpy(ids, r->ids, r->id_count * sizeof *ids);
            ILG_HOST_FREE(h->heap, r->ids);
            r->ids = ids;
            r->id_cap = cap;
        }
    }
    if (r && r->id_count < r->id_cap)
        r->ids[r->id_count++] = id;
    pthread_mutex_unlock(&h->rejit_lock);
}

/* The new version's outcome, applied after ReJITCompilationFinished: the body the
 * control accepted becomes the body in force (the one in force before is kept for
 * RequestRevert); none set keeps the IL (CoreCLR rejits the same IL). */
static void apply(host_method *meth, host_fc *fc, uint32_t id, uint64_t before)
{
    ilg_host *h = meth->module->host;
    host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    if (!r)
        return;
    /* A revert that came while the version was compiled undoes it once compiled. */
    pthread_mutex_lock(&h->rejit_lock);
    bool reverted = r->revert_serving;
    r->serving = 0;
    r->revert_serving = false;
    pthread_mutex_unlock(&h->rejit_lock);
    pthread_mutex_lock(ilg__host_method_lock(meth));
    if (reverted) {
        r->active = 0;
        r->status = ILG_HOST_REJIT_REVERTED;
        pthread_mutex_unlock(ilg__host_method_lock(meth));
        return;
    }
    r->active = id;
    r->before = before;
    r->codegen = fc->codegen;
    ILG_HOST_FREE(h->heap, r->diagnostic);
    r->diagnostic = NULL;
    if (fc->body_set) {
        r->status = ILG_HOST_REJIT_REJITTED;
        r->rva = fc->rva;
        r->size = fc->size;
        atomic_store_explicit(&meth->current, (uint64_t)fc->rva << 32 | fc->size,
                              memory_order_release);
    } else {
        r->status = FAILED(fc->body_hr) ? ILG_HOST_REJIT_REJECTED : ILG_HOST_REJIT_SAME_IL;
        r->rva = r->size = 0;
    }
    if (FAILED(fc->body_hr) && !fc->body_set) {
        size_t n = strlen(fc->why) + 1;
        r->diagnostic = ILG_HOST_ALLOC(h->heap, n);
        if (r->diagnostic)
            memcpy(r->diagnostic, fc->why, n);
    }
    pthread_mutex_unlock(ilg__host_method_lock(meth));
}

/* The body of meth's original (default) IL version: the one in force before its first
 * ReJIT version (Info's SetILFunctionBody may have replaced the image's); *replaced
 * says whether an active ReJIT version gave it another body. */
static uint64_t default_body(host_method *meth, bool *replaced)
{
    host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    pthread_mutex_lock(ilg__host_method_lock(meth));
    uint64_t body = r && r->active ? r->before
                                   : atomic_load_explicit(&meth->current, memory_order_acquire);
    *replaced = r && r->active && r->rva;
    pthread_mutex_unlock(ilg__host_method_lock(meth));
    return body;
}

/* A version the runtime makes without GetReJITParameters (an inliner of a method named
 * to RequestReJITWithInliners without COR_PRF_REJIT_INLINING_CALLBACKS): CoreCLR gives
 * it the original IL (ConfigureILCodeVersion), so a body an earlier ReJIT gave the
 * method is gone. */
static void configure_silently(host_method *meth, host_fc *fc, uint32_t id)
{
    bool replaced = false;
    const uint64_t body = default_body(meth, &replaced);
    fc->body_hr = S_OK;
    if (!replaced)
        return; /* the IL in force is the original: the same IL is compiled */
    fc->body_set = true;
    fc->rva = (uint32_t)(body >> 32);
    fc->size = (uint32_t)body;
    warn(meth, "ReJIT %u, made by RequestReJITWithInliners for this method as an inliner "
               "without COR_PRF_REJIT_INLINING_CALLBACKS, compiles its original IL: the body "
               "its earlier ReJIT gave it is gone (no GetReJITParameters to give it again)",
         id);
}

/* Serves ReJIT id of meth: GetReJITParameters with a function control (unless the
 * version has no callback), then for each of its FunctionIDs ReJITCompilationStarted,
 * under --inline the JITInlining of the new IL's call sites, and
 * ReJITCompilationFinished (CoreCLR's order, observed), then the outcome. */
static void serve(ilg_host *h, host_method *meth, uint32_t id, bool callback)
{
    host_fc *fc = ILG_HOST_ZALLOC(h->heap, sizeof *fc);
    if (!fc)
        return;
    fc->ICorProfilerFunctionControl_iface.lpVtbl = h->trace ? &fc_trace_vtbl : &fc_vtbl;
    fc->host = h;
    fc->meth = meth;
    atomic_store(&fc->refs, 1);
    atomic_store(&fc->open, true);
    if (!h->callback) {
        fc_free(fc);
        return;
    }
    if (callback)
        DELIVER4(h, GetReJITParameters, (ModuleID)meth->module, meth->token,
                 &fc->ICorProfilerFunctionControl_iface);
    else
        configure_silently(meth, fc, id);
    atomic_store(&fc->open, false);
    record_id(meth, id);
    /* A body the JIT refuses: CoreCLR sends ReJITCompilationStarted, the compilation
     * fails and the call throws InvalidProgramException, with no Finished (observed). */
    const bool refused = !fc->body_set && FAILED(fc->body_hr);
    const uint32_t fids = meth->inst ? 2 : 1;
    /* The JIT compiles the new version's IL: the body set, else the IL in force. */
    const uint64_t body = fc->body_set ? (uint64_t)fc->rva << 32 | fc->size
                                       : atomic_load_explicit(&meth->current, memory_order_acquire);
    host_worker jit = { .host = h, .pass = HOST_PASS_FIRST };
    for (uint32_t k = 0; k < fids; k++) {
        FunctionID fid = ilg__host_fid(meth, k);
        host_method *outer = ilg__host_rejit_started;
        ilg__host_rejit_started = meth;
        DELIVER4(h, ReJITCompilationStarted, fid, (ReJITID)id, TRUE);
        ilg__host_rejit_started = outer;
        if (refused)
            continue;
        if (h->inlining)
            ilg__inline_rejit_compile(&jit, meth, fid, body);
        DELIVER4(h, ReJITCompilationFinished, fid, (ReJITID)id, S_OK, TRUE);
    }
    ilg_body_free(jit.inline_caller);
    ilg_body_free(jit.inline_callee);
    if (refused)
        warn(meth, "ReJIT %u leaves the method in a state the runtime would not run: its body "
                   "was rejected (0x%08x: %s); CoreCLR takes it and the JIT refuses it at the "
                   "method's next call (no ReJITCompilationFinished, the call throws)",
             id, (unsigned)fc->body_hr, fc->why);
    /* What is in force now is what the new version replaces (a body Info's
     * SetILFunctionBody set meanwhile went to the original version, as in CoreCLR). */
    uint64_t before = atomic_load_explicit(&meth->current, memory_order_acquire);
    host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    if (r && r->active)
        before = r->before;
    check_map(fc, before);
    apply(meth, fc, id, before);
    ilg__inline_body_changed(meth); /* inliners not rejitted keep the old body */
    pthread_mutex_lock(&h->rejit_lock);
    bool keep = ilg__host_unref(&fc->refs) != 0;
    if (keep) { /* the profiler kept a reference: freed by its last Release or the host */
        fc->next = h->rejit_orphans;
        if (fc->next)
            fc->next->prev = fc;
        h->rejit_orphans = fc;
    }
    pthread_mutex_unlock(&h->rejit_lock);
    if (!keep)
        fc_free(fc);
}

/* Takes meth's pending request (its id, 0 when none, and whether it gets
 * GetReJITParameters into *callback) under rejit_lock. */
static uint32_t take_pending(ilg_host *h, host_method *meth, bool *callback)
{
    host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    if (!r)
        return 0;
    pthread_mutex_lock(&h->rejit_lock);
    uint32_t id = r->pending;
    *callback = r->callback;
    r->pending = 0;
    r->serving = id;
    pthread_mutex_unlock(&h->rejit_lock);
    return id;
}

bool ilg__host_rejit_first_call(host_worker *w, host_method *meth)
{
    ilg_host *h = w->host;
    bool callback = true;
    uint32_t id = take_pending(h, meth, &callback);
    if (!id)
        return false;
    serve(h, meth, id, callback);
    return true;
}

bool ilg__host_rejit_recompile(host_worker *w, host_method *meth, FunctionID fid)
{
    ilg_host *h = w->host;
    host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    if (!r || !h->callback)
        return false;
    pthread_mutex_lock(ilg__host_method_lock(meth));
    uint32_t id = r->active;
    pthread_mutex_unlock(ilg__host_method_lock(meth));
    if (!id)
        return false;
    /* CoreCLR raises the JIT events for a code version of the default IL version only;
     * one of a ReJIT version (its tier-1 or OSR code) gets the ReJIT pair. */
    DELIVER4(h, ReJITCompilationStarted, fid, (ReJITID)id, TRUE);
    if (h->inlining) /* the version's optimized code inlines as its first compilation */
        ilg__inline_rejit_compile(w, meth, fid,
                                  atomic_load_explicit(&meth->current, memory_order_acquire));
    DELIVER4(h, ReJITCompilationFinished, fid, (ReJITID)id, S_OK, TRUE);
    return true;
}

void ilg__host_rejit_serve(ilg_host *h)
{
    for (;;) {
        host_method *meth = NULL;
        uint32_t id = 0;
        bool callback = true;
        pthread_mutex_lock(&h->rejit_lock);
        /* The oldest request whose method is compiled; requests whose method has none
         * pending any more (reverted, served at its JIT event) leave the queue. */
        uint32_t k = 0, keep = 0;
        for (; k < h->rejit_queue_count && !meth; k++) {
            host_method *q = h->rejit_queue[k];
            host_rejit *r = atomic_load(&q->rejit);
            if (!r->pending)
                continue;
            if (atomic_load(&q->compiled)) {
                meth = q;
                id = r->pending;
                callback = r->callback;
                r->pending = 0;
                r->serving = id;
                continue;
            }
            h->rejit_queue[keep++] = q;
        }
        for (; k < h->rejit_queue_count; k++)
            h->rejit_queue[keep++] = h->rejit_queue[k];
        h->rejit_queue_count = keep;
        pthread_mutex_unlock(&h->rejit_lock);
        if (!meth)
            return;
        serve(h, meth, id, callback);
    }
}

/* ---- requests ------------------------------------------------------------------------- */

/* The gate CoreCLR puts before a ReJIT request (observed): Callback4 (RequestReJIT
 * only: a revert without it answers CORPROF_E_REJIT_NOT_ENABLED), then
 * COR_PRF_ENABLE_REJIT, then the arrays. */
static HRESULT gate(ilg_host *h, bool revert, ULONG n, ModuleID mods[], mdMethodDef toks[])
{
    if (!revert && h->callback_version < CALLBACK_WITH_REJIT)
        return CORPROF_E_CALLBACK4_REQUIRED;
    if (!(atomic_load(&h->event_mask) & COR_PRF_ENABLE_REJIT))
        return CORPROF_E_REJIT_NOT_ENABLED;
    if (!n || !mods || !toks)
        return E_INVALIDARG;
    return S_OK;
}

/* The method a (module, token) pair names, or NULL after a ReJITError (E_INVALIDARG, as
 * CoreCLR reports a NULL module, a token that is no MethodDef or one past the table). */
static host_method *named(ilg_host *h, ModuleID mod, mdMethodDef tok)
{
    host_module *m = ilg__host_find_module(h, mod);
    uint32_t rid = m ? ilg__host_method_rid(m, tok) : 0;
    if (!rid) {
        rejit_error(h, mod, tok, E_INVALIDARG);
        return NULL;
    }
    return ilg__host_method_at(m, rid);
}

/* Queues meth with a new ReJITID (a request already pending is replaced: its version
 * was never configured), with GetReJITParameters when callback. As an inliner
 * (RequestReJITWithInliners), a request already pending is reused, as CoreCLR's
 * BindILVersion reuses a version not configured yet; it gains the callback, never
 * loses it. */
static HRESULT request_one(ilg_host *h, host_method *meth, bool callback, bool as_inliner)
{
    if (!as_inliner && !meth->module->announced)
        warn(meth, "ReJIT requested for a method of a module no ModuleLoadFinished announced "
                   "(the profiler cannot have seen the module load)");
    pthread_mutex_lock(&h->rejit_lock);
    host_rejit *r = rejit_of(meth);
    HRESULT hr = E_OUTOFMEMORY;
    if (r && as_inliner)
        r->as_inliner++;
    if (r && as_inliner && r->pending) {
        r->callback |= callback;
        r->requests++;
        pthread_mutex_unlock(&h->rejit_lock);
        return S_OK;
    }
    if (r && h->rejit_queue_count == h->rejit_queue_cap) {
        uint32_t cap = h->rejit_queue_cap ? h->rejit_queue_cap * 2 : 16;
        host_method **q = ILG_HOST_ALLOC(h->heap, cap * sizeof *q);
        if (q) {
            if (h->rejit_queue_count)
                memcpy(q, h->rejit_queue, h->rejit_queue_count * sizeof *q);
            ILG_HOST_FREE(h->heap, h->rejit_queue);
            h->rejit_queue = q;
            h->rejit_queue_cap = cap;
        }
    }
    if (r && h->rejit_queue_count < h->rejit_queue_cap) {
        r->pending = ++h->rejit_next_id;
        r->callback = callback;
        r->requests++;
        h->rejit_queue[h->rejit_queue_count++] = meth;
        hr = S_OK;
    }
    pthread_mutex_unlock(&h->rejit_lock);
    return hr;
}

/* The inliners of one method, gathered under inline.c's lock, requested after it. */
typedef struct inliner_list {
    ilg_host *host;
    host_method **at;            /* host heap */
    uint32_t count, cap;
    bool nomem;
} inliner_list;

static void note_inliner(void *ctx, FunctionID caller, mdMethodDef token, bool stale)
{
    (void)token, (void)stale;
    inliner_list *l = ctx;
    host_method *meth = ilg__host_find_method(l->host, caller);
    if (!meth)
        return;
    if (l->count == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        host_method **at = ILG_HOST_ALLOC(l->host->heap, cap * sizeof *at);
        if (!at) {
            l->nomem = true;
            return;
        }
        if (l->count)
            memcpy(at, l->at, l->count * sizeof *at);
        ILG_HOST_FREE(l->host->heap, l->at);
        l->at = at;
        l->cap = cap;
    }
    l->at[l->count++] = meth;
}

/* COR_PRF_REJIT_BLOCK_INLINING: the methods that inlined meth get a ReJIT of their own
 * (CoreCLR's UpdateJitInlinerActiveILVersions, over its JIT inline tracking), with
 * GetReJITParameters only under COR_PRF_REJIT_INLINING_CALLBACKS; the JIT inlines none
 * of the rejitted methods afterwards (ilg__host_rejit_blocks_inlining). ReadyToRun
 * inliners (CoreCLR's UpdateNativeInlinerActiveILVersions) are not modelled. */
static HRESULT request_inliners(ilg_host *h, host_method *meth, DWORD flags)
{
    inliner_list l = { .host = h };
    ilg__inline_inliners_of(h, meth->module, meth->token, note_inliner, &l);
    HRESULT hr = l.nomem ? E_OUTOFMEMORY : S_OK;
    for (uint32_t k = 0; SUCCEEDED(hr) && k < l.count; k++)
        hr = request_one(h, l.at[k], (flags & COR_PRF_REJIT_INLINING_CALLBACKS) != 0, true);
    ILG_HOST_FREE(h->heap, l.at);
    return hr;
}

static HRESULT request(ilg_host *h, ULONG n, ModuleID mods[], mdMethodDef toks[], DWORD *flags)
{
    HRESULT hr = gate(h, false, n, mods, toks);
    if (hr != S_OK)
        return hr;
    /* RequestReJITWithInliners needs COR_PRF_REJIT_BLOCK_INLINING; other bits are ignored
     * (observed: 0, 0x2 and 0x80 E_INVALIDARG, 0x1, 0x3 and 0x81 S_OK). */
    if (flags && !(*flags & COR_PRF_REJIT_BLOCK_INLINING))
        return E_INVALIDARG;
    if (h->strict_rejit) {
        for (ULONG i = 0; i < n; i++) {
            host_module *m = ilg__host_find_module(h, mods[i]);
            if (m && !m->announced)
                rejit_error(h, mods[i], toks[i], CORPROF_E_UNSUPPORTED_CALL_SEQUENCE);
        }
    }
    for (ULONG i = 0; i < n; i++) {
        host_method *meth = named(h, mods[i], toks[i]);
        if (!meth || (h->strict_rejit && !meth->module->announced))
            continue;
        if (FAILED(request_one(h, meth, true, false)))
            return E_OUTOFMEMORY;
        if (flags && FAILED(request_inliners(h, meth, *flags)))
            return E_OUTOFMEMORY;
    }
    return S_OK;
}

HRESULT ilg__info_RequestReJIT(ICorProfilerInfo15 *This, ULONG cFunctions, ModuleID moduleIds[],
                               mdMethodDef methodIds[])
{
    INFO_ENTRY(This, "RequestReJIT", SYNC_TRIGGERS);
    return request(INFO_HOST(This), cFunctions, moduleIds, methodIds, NULL);
}

/* The methods named are rejitted as RequestReJIT would, and their inliners with them
 * (request_inliners). */
HRESULT ilg__info_RequestReJITWithInliners(ICorProfilerInfo15 *This, DWORD dwRejitFlags,
                                           ULONG cFunctions, ModuleID moduleIds[],
                                           mdMethodDef methodIds[])
{
    INFO_ENTRY(This, "RequestReJITWithInliners", SYNC_TRIGGERS);
    return request(INFO_HOST(This), cFunctions, moduleIds, methodIds, &dwRejitFlags);
}

/* Back to the version before the ReJIT: a pending request is dropped; a served one's
 * body gives way to the one in force before it. CoreCLR answers S_OK in status[i] for
 * every entry, even one it reported with ReJITError (observed). */
HRESULT ilg__info_RequestRevert(ICorProfilerInfo15 *This, ULONG cFunctions, ModuleID moduleIds[],
                                mdMethodDef methodIds[], HRESULT status[])
{
    INFO_ENTRY(This, "RequestRevert", SYNC_TRIGGERS);
    ilg_host *h = INFO_HOST(This);
    HRESULT hr = gate(h, true, cFunctions, moduleIds, methodIds);
    if (hr != S_OK)
        return hr;
    for (ULONG i = 0; i < cFunctions; i++) {
        host_method *meth = named(h, moduleIds[i], methodIds[i]);
        if (status)
            status[i] = S_OK;
        host_rejit *r = meth ? atomic_load(&meth->rejit) : NULL;
        if (!r)
            continue;
        pthread_mutex_lock(&h->rejit_lock);
        r->pending = 0;
        if (r->serving)
            r->revert_serving = true;
        pthread_mutex_unlock(&h->rejit_lock);
        pthread_mutex_lock(ilg__host_method_lock(meth));
        if (r->active) {
            atomic_store_explicit(&meth->current, r->before, memory_order_release);
            r->active = 0;
            r->status = ILG_HOST_REJIT_REVERTED;
        }
        r->reverts++;
        pthread_mutex_unlock(ilg__host_method_lock(meth));
        ilg__inline_body_changed(meth); /* the old body is in force again */
    }
    return S_OK;
}

bool ilg__host_rejit_blocks_inlining(host_method *meth)
{
    ilg_host *h = meth->module->host;
    host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    if (!r || !(atomic_load(&h->event_mask) & COR_PRF_ENABLE_REJIT))
        return false;
    pthread_mutex_lock(&h->rejit_lock);
    bool block = r->pending || r->serving;
    pthread_mutex_unlock(&h->rejit_lock);
    if (!block) {
        pthread_mutex_lock(ilg__host_method_lock(meth));
        block = r->active != 0;
        pthread_mutex_unlock(ilg__host_method_lock(meth));
    }
    return block;
}

HRESULT ilg__host_rejit_ids(host_method *meth, ULONG cap, ULONG *count, ReJITID ids[])
{
    ilg_host *h = meth->module->host;
    host_rejit *r = atomic_load_explicit(&meth->rejit, memory_order_acquire);
    pthread_mutex_lock(&h->rejit_lock);
    /* The original version (0), then each version GetReJITParameters configured, reverted
     * or not (observed: a request reverted before it was served adds none). */
    ULONG n = 1 + (r ? r->id_count : 0);
    for (ULONG k = 0; k < n && k < cap; k++)
        ids[k] = k ? r->ids[k - 1] : 0;
    pthread_mutex_unlock(&h->rejit_lock);
    *count = n;
    return S_OK;
}

/* Info's SetILFunctionBody for meth: inside ReJITCompilationStarted of meth it is the
 * protocol mistake of setting the body from the wrong callback (CoreCLR takes it, S_OK,
 * for the original version, not the ReJIT being compiled). */
HRESULT ilg__host_rejit_info_body(host_method *meth)
{
    if (ilg__host_rejit_started != meth)
        return S_OK;
    warn(meth, "ICorProfilerInfo::SetILFunctionBody called in ReJITCompilationStarted: the body "
               "goes to the original version, not this ReJIT (set it with "
               "ICorProfilerFunctionControl::SetILFunctionBody in GetReJITParameters)");
    return meth->module->host->strict_rejit ? CORPROF_E_UNSUPPORTED_CALL_SEQUENCE : S_OK;
}

void ilg__host_rejit_host_free(ilg_host *h)
{
    for (host_fc *fc = h->rejit_orphans, *next; fc; fc = next) {
        next = fc->next;
        fc_free(fc);
    }
    h->rejit_orphans = NULL;
    ILG_HOST_FREE(h->heap, h->rejit_queue);
    h->rejit_queue = NULL;
}
