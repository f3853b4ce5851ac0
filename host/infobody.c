/* infobody.c: the host's ICorProfilerInfo methods of IL bodies (moved from info.c,
 * unchanged): GetILFunctionBody, GetILFunctionBodyAllocator and SetILFunctionBody, which
 * verifies a new body against the module's metadata (under its read lock) and places it
 * in the graft arena (docs/profiler.md, docs/mdemit.md). */
#include <stdarg.h>
#include <string.h>

#include "info_private.h"
#include "inline_private.h"
#include "md_private.h"
#include "trace.h"

HRESULT ilg__info_GetILFunctionBody(ICorProfilerInfo15 *This, ModuleID moduleId,
                                    mdMethodDef methodId, LPCBYTE *ppMethodHeader,
                                    ULONG *pcbMethodSize)
{
    INFO_ENTRY(This, "GetILFunctionBody", ASYNC);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId);
    uint32_t rid;
    if (!m || !(rid = ilg__host_method_rid(m, methodId)))
        return E_INVALIDARG;
    uint64_t cur = atomic_load_explicit(&ilg__host_method_at(m, rid)->current, memory_order_acquire);
    if (!cur)
        return CORPROF_E_FUNCTION_NOT_IL;
    if (ppMethodHeader)
        *ppMethodHeader = m->info.base + (cur >> 32);
    if (pcbMethodSize)
        *pcbMethodSize = (ULONG)cur;
    return S_OK;
}

HRESULT ilg__info_GetILFunctionBodyAllocator(ICorProfilerInfo15 *This, ModuleID moduleId,
                                             IMethodMalloc **ppMalloc)
{
    INFO_ENTRY(This, "GetILFunctionBodyAllocator", SYNC_TRIGGERS);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId);
    if (!m || !ppMalloc)
        return E_INVALIDARG;
    if (m->host->trace)
        return ilg__trace_malloc(m, ppMalloc);
    if (ilg_arena_method_malloc(m->arena, ppMalloc) != ILG_OK)
        return E_OUTOFMEMORY;
    return S_OK;
}

static ilg_status resolver_call_shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this,
                                      bool *pushes)
{
    return ilg_md_call_shape(ctx, token, pops, has_this, pushes);
}

/* Where the header may be read: the mapped image region holding it, or the part of the
 * arena handed out so far. *avail is how many bytes follow it there. */
static bool header_extent(host_module *m, const uint8_t *p, size_t *avail)
{
    const uint8_t *base = m->info.base;
    ilg_arena_stats as;
    uintptr_t off;

    /* The .NET Framework's rule: the header lies above the base, in the module. */
    if ((uintptr_t)p <= (uintptr_t)base)
        return false;
    off = (uintptr_t)p - (uintptr_t)base;
    if (off < m->info.image_size) {
        for (uint32_t i = 0; i < m->info.region_count; i++) {
            ilg_region r;
            const uint8_t *q;
            if (ilg_image_region(m->img, i, &r) != ILG_OK || off < r.rva ||
                off >= r.rva + r.virtual_size)
                continue;
            *avail = (size_t)(r.rva + r.virtual_size - off);
            return ilg_image_rva_to_ptr(m->img, off, *avail, &q) == ILG_OK;
        }
        return false;
    }
    if (ilg_arena_stats_get(m->arena, &as) != ILG_OK)
        return false;
    if (off >= as.start && off < as.high_water) {
        *avail = (size_t)(as.high_water - off);
        return true;
    }
    return false;
}

static HRESULT reject(host_method *meth, HRESULT hr, const char *fmt, ...) ILG_PRINTF(3, 4);
static HRESULT reject(host_method *meth, HRESULT hr, const char *fmt, ...)
{
    ilg_host *h = meth->module->host;
    char text[512], why[384];
    /* The reason first: callers pass ilg_last_diag()'s message, which naming the method
     * may overwrite (found by fuzz_host: decode failures were reported with a naming
     * diagnostic). */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(ilg__host_method_lock(meth));
    snprintf(text, sizeof text, "%s (0x%08x): %s", ilg__host_method_name_locked(meth), meth->token, why);
    ILG_HOST_FREE(h->heap, meth->diagnostic);
    meth->diagnostic = ILG_HOST_ALLOC(h->heap, strlen(text) + 1);
    if (meth->diagnostic)
        memcpy(meth->diagnostic, text, strlen(text) + 1);
    /* A rejection after an accepted body leaves that body in place. */
    if (meth->status != ILG_HOST_REWRITTEN)
        meth->status = ILG_HOST_REJECTED;
    if (h->trace)
        fprintf(h->log, "SetILFunctionBody rejected: %s\n", text);
    pthread_mutex_unlock(ilg__host_method_lock(meth));
    return hr;
}

/* "Rewritten again on recompile" (docs/profiler.md): during a JIT event for meth that
 * is not its first, on the thread delivering it, the current body is one the profiler
 * set and the new one (size bytes at p) differs from it, so the profiler derived the
 * new body from its own output (or changed a compiled method's IL under the JIT). It
 * is counted; under --recompile-strict it is rejected, and the run fails at the end. */
static HRESULT check_again(ilg_host *h, const host_worker *w, host_method *meth, const uint8_t *p,
                           uint32_t size)
{
    if (!w || w->host != h || w->event != meth || !w->event_again)
        return S_OK;
    const uint64_t cur = atomic_load_explicit(&meth->current, memory_order_acquire);
    const uint32_t rva = (uint32_t)(cur >> 32), cur_size = (uint32_t)cur;
    if (!cur || rva == meth->old_rva)
        return S_OK; /* the image's own body: nothing of the profiler's yet */
    if (cur_size == size && memcmp(meth->module->info.base + rva, p, size) == 0)
        return S_OK; /* the same body set again: what a recompilation-safe profiler does */
    pthread_mutex_lock(ilg__host_method_lock(meth));
    meth->rewritten_again++;
    pthread_mutex_unlock(ilg__host_method_lock(meth));
    if (!h->recompile_strict)
        return S_OK;
    atomic_fetch_add(&h->again_rejected, 1);
    /* CORPROF_E_UNSUPPORTED_CALL_SEQUENCE: CoreCLR would take the body and compile the
     * recompilation (an OSR method, tier 1) from IL other than the tier-0 code's. */
    return reject(meth, CORPROF_E_UNSUPPORTED_CALL_SEQUENCE,
                  "rewritten again on recompile: JIT event %u of the method, whose current "
                  "body (RVA 0x%x, %u bytes) the profiler set; the new body (RVA 0x%llx, %u "
                  "bytes) differs from it (build it from the original IL once, and set that "
                  "body again or nothing)",
                  atomic_load_explicit(&meth->jit_events, memory_order_relaxed), rva, cur_size,
                  (unsigned long long)(p - meth->module->info.base), size);
}

static HRESULT set_defined_rva(host_module *m, mdMethodDef token, uint32_t rva)
{
    host_mdimport *imp = &m->importer;
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr = ilg__mde_write_begin(imp, &em, &gen);
    if (FAILED(hr))
        return hr;
    return ilg__mde_write_end(imp, gen, ilg_mdemit_set_cell(em, token, ILG_MDC_MethodDef_RVA, rva),
                              false);
}

/* Decodes and verifies the body at p (avail bytes readable) against meth's module, as
 * CoreCLR's JIT would take it: S_OK with its size in *size, else the HRESULT of the
 * fault met first and why (into why[whysize]). On a run's thread with that thread's own
 * state, else with the host's under check_lock. again: also the "rewritten again on
 * recompile" check of a JIT-time SetILFunctionBody (which records its own rejection). */
HRESULT ilg__host_check_body(host_method *meth, const uint8_t *p, size_t avail, bool again,
                             uint32_t *size, char *why, size_t whysize)
{
    host_module *m = meth->module;
    ilg_host *h = m->host;
    host_worker *w = ilg__host_worker;
    HRESULT hr = S_OK;
    bool shared = !w || w->host != h;
    ilg_body **bodyp = shared ? &h->check_body : &w->check_body;
    ilg_findings *findings = shared ? &h->check_findings : &w->check_findings;
    why[0] = '\0';
    if (shared)
        pthread_mutex_lock(&h->check_lock);
    if (!*bodyp && ilg_body_new(bodyp) != ILG_OK) {
        hr = E_OUTOFMEMORY;
        snprintf(why, whysize, "no memory for the verifier");
        goto done;
    }
    ilg_body *body = *bodyp;
    if (ilg_body_decode(body, p, avail) != ILG_OK) {
        const ilg_diag *d = ilg_last_diag();
        hr = COR_E_BADIMAGEFORMAT;
        snprintf(why, whysize, "IL offset 0x%04llx: %s: %s", (unsigned long long)d->offset,
                 ilg_status_name(d->status), d->message);
        goto done;
    }
    if (again && FAILED(hr = check_again(h, w, meth, p, body->size)))
        goto done;
    uint32_t pops = 0;
    bool has_this = false, pushes = false;
    ilg_stack_resolver r = { resolver_call_shape, (void *)m->md, -1 };
    /* The tables the verifier resolves tokens in may grow under an emit call of another
     * thread: read them under the module's metadata lock. */
    pthread_rwlock_rdlock(&m->importer.lock);
    if (ilg_md_call_shape(m->md, meth->token, &pops, &has_this, &pushes) == ILG_OK)
        r.ret_pops = pushes ? 1 : 0;
    /* What CoreCLR's JIT would refuse, the module's metadata telling the types
     * (docs/ilbody.md); the runtime's exception for the fault it meets first. */
    ilg_type_resolver tr;
    ilg_md_type_resolver(ilg_md_module_scope(m->md), meth->token, &tr);
    const ilg_verify_options vo = { ILG_VERIFY_JIT, &r, &tr };
    ilg_status vst = ilg_body_verify_opts(body, &vo, findings);
    pthread_rwlock_unlock(&m->importer.lock);
    if (vst != ILG_OK) {
        hr = E_OUTOFMEMORY;
        snprintf(why, whysize, "verifier could not run: %s", ilg_last_diag()->message);
        goto done;
    }
    if (findings->errors) {
        const ilg_finding *f = NULL; /* the error at the lowest offset */
        for (uint32_t k = 0; k < findings->count; k++)
            if (findings->items[k].severity == ILG_SEVERITY_ERROR &&
                (!f || findings->items[k].offset < f->offset))
                f = &findings->items[k];
        hr = findings->outcome == ILG_OUTCOME_BAD_IMAGE ? COR_E_BADIMAGEFORMAT : COR_E_INVALIDPROGRAM;
        snprintf(why, whysize, "IL offset 0x%04x: %s: %s%s", f->offset, ilg_status_name(f->rule),
                 f->message, findings->errors > 1 ? " (and more)" : "");
        goto done;
    }
    *size = body->size;
done:
    if (shared)
        pthread_mutex_unlock(&h->check_lock);
    return hr;
}

HRESULT ilg__info_SetILFunctionBody(ICorProfilerInfo15 *This, ModuleID moduleId,
                                    mdMethodDef methodid, LPCBYTE pbNewILMethodHeader)
{
    INFO_ENTRY(This, "SetILFunctionBody", SYNC_TRIGGERS);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    host_module *m = ilg__host_find_module(h, moduleId);
    size_t avail = 0;
    uint32_t rid, size = 0;
    char why[384];

    if (!m || !(rid = ilg__host_method_rid(m, methodid)) || !pbNewILMethodHeader)
        return E_INVALIDARG;
    host_method *meth = ilg__host_method_at(m, rid);
    atomic_fetch_add_explicit(&meth->set_calls, 1, memory_order_relaxed);
    /* A body set for a ReJIT'd method from ReJITCompilationStarted: the protocol says
     * GetReJITParameters' function control (docs/profiler.md, "ReJIT"). */
    HRESULT hr = ilg__host_rejit_info_body(meth);
    if (FAILED(hr))
        return hr;
    if (!header_extent(m, pbNewILMethodHeader, &avail))
        return reject(meth, E_INVALIDARG,
                      "header %p is not inside the module's image [%p, +0x%llx) or its arena "
                      "(use GetILFunctionBodyAllocator)",
                      (const void *)pbNewILMethodHeader, (void *)m->info.base,
                      (unsigned long long)m->info.image_size);
    hr = ilg__host_check_body(meth, pbNewILMethodHeader, avail, true, &size, why, sizeof why);
    if (hr == CORPROF_E_UNSUPPORTED_CALL_SEQUENCE)
        return hr; /* rewritten again: check_again recorded it */
    if (FAILED(hr))
        return reject(meth, hr, "%s", why);
    uint32_t rva = (uint32_t)((uintptr_t)pbNewILMethodHeader - (uintptr_t)m->info.base);
    pthread_mutex_lock(ilg__host_method_lock(meth));
    atomic_store_explicit(&meth->current, (uint64_t)rva << 32 | size, memory_order_release);
    meth->new_rva = rva;
    meth->new_size = size;
    meth->status = ILG_HOST_REWRITTEN;
    ILG_HOST_FREE(h->heap, meth->diagnostic);
    meth->diagnostic = NULL;
    pthread_mutex_unlock(ilg__host_method_lock(meth));
    ilg__inline_body_changed(meth); /* inliners that keep the old body (inline.c) */
    /* A method the profiler defined takes the body's place as its RVA, a positive
     * offset in the arena (CoreCLR leaves it 0); an image's own methods keep theirs
     * until the module is saved (docs/save.md). */
    if (rid > m->method_count)
        hr = set_defined_rva(m, meth->token, rva);
    return hr;
}
