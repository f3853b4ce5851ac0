/* info.c: the host's ICorProfilerInfo3: the methods profilers use to find modules,
 * functions and IL and to rewrite bodies; every other slot answers E_NOTIMPL. */
#include <stdarg.h>
#include <unistd.h>

#include "host_private.h"

static ilg_host *impl_from_ICorProfilerInfo3(ICorProfilerInfo3 *iface)
{
    return (ilg_host *)((char *)iface - offsetof(ilg_host, ICorProfilerInfo3_iface));
}

/* Every method's first statement (host_private.h, "Entry into the host"), with the rule
 * CoreCLR's ProfToEEInterfaceImpl applies to the method (its PROFILER_TO_CLR_ENTRYPOINT_*
 * macro and flags; IUnknown's methods have none). */
#define INFO_HOST(This) impl_from_ICorProfilerInfo3(This)
#define INFO_ENTRY(This, method, rule)                                                      \
    HOST_ENTRY(INFO_HOST(This), "ICorProfilerInfo3", method, INFO_##rule)
#define INFO_ENTRY_NORESULT(This, method, rule)                                             \
    HOST_ENTRY_NORESULT(INFO_HOST(This), "ICorProfilerInfo3", method, INFO_##rule)
#define ILG__INFO_STUB_ENTER(This, method)                                                  \
    HOST_STUB_ENTRY(INFO_HOST(This), "ICorProfilerInfo3", method)
/* The rules the implemented methods have in CoreCLR: all are allowed after attach. */
#define INFO_NO_RULE HOST_CALL_ANY
#define INFO_ASYNC (HOST_CALL_ASYNC | HOST_CALL_AFTER_ATTACH)
#define INFO_SYNC (HOST_CALL_SYNC | HOST_CALL_AFTER_ATTACH)
#define INFO_SYNC_TRIGGERS (HOST_CALL_SYNC | HOST_CALL_AFTER_ATTACH | HOST_CALL_TRIGGERS)
#define ILG__WANT_INFO_STUBS
#include "stubs.inc"

/* ---- lookups and strings ------------------------------------------------------------ */

host_module *ilg__host_find_module(const ilg_host *host, UINT_PTR id)
{
    for (uint32_t i = 0; i < host->module_count; i++)
        if ((UINT_PTR)host->modules[i] == id)
            return host->modules[i];
    return NULL;
}

/* Whether id is the address of one of count records of size size from first. */
static bool is_record(UINT_PTR id, const void *first, uint32_t count, size_t size)
{
    UINT_PTR from = (UINT_PTR)first;
    return count && id >= from && id < from + (UINT_PTR)count * size && (id - from) % size == 0;
}

/* A FunctionID is a method record or, with recompile, a generic method's instantiation
 * record; both name the method. */
host_method *ilg__host_find_method(const ilg_host *host, UINT_PTR id)
{
    for (uint32_t i = 0; i < host->module_count; i++) {
        host_module *m = host->modules[i];
        if (is_record(id, m->methods, m->method_count, sizeof *m->methods))
            return (host_method *)id;
        if (is_record(id, m->insts, m->inst_count, sizeof *m->insts))
            return ((host_inst *)id)->method;
    }
    return NULL;
}

static host_module *find_assembly(const ilg_host *host, UINT_PTR id)
{
    for (uint32_t i = 0; i < host->module_count; i++)
        if ((UINT_PTR)&host->modules[i]->assembly == id)
            return host->modules[i];
    return NULL;
}

uint32_t ilg__host_method_rid(const host_module *m, mdToken token)
{
    uint32_t rid = token & 0xFFFFFF;
    if ((token >> 24) != ILG_TBL_MethodDef || rid == 0 || rid > m->method_count)
        return 0;
    return rid;
}

/* Under the method's lock. Formatted once into a stack buffer, again only when it does
 * not fit (asking for the size first would format every name twice and record a
 * diagnostic each time; docs/profiler.md). A name that cannot be formatted is empty
 * ("?" cut to the 0 bytes it asked for). */
static const char *method_name_locked(host_method *meth)
{
    host_module *m = meth->module;
    size_t need = 0;
    char text[1024];

    if (meth->name)
        return meth->name;
    ilg_status st = ilg_md_method_name(m->md, meth->token & 0xFFFFFF, text, sizeof text, &need);
    if (st != ILG_OK && st != ILG_E_RANGE)
        need = 0;
    meth->name = ILG_HOST_ALLOC(m->host->heap, need + 1);
    if (!meth->name)
        return "?";
    if (st == ILG_OK)
        memcpy(meth->name, text, need + 1);
    else if (!need ||
             ilg_md_method_name(m->md, meth->token & 0xFFFFFF, meth->name, need + 1, NULL) != ILG_OK)
        meth->name[0] = 0;
    return meth->name;
}

const char *ilg__host_method_name(host_method *meth)
{
    pthread_mutex_lock(ilg__host_method_lock(meth));
    const char *name = method_name_locked(meth);
    pthread_mutex_unlock(ilg__host_method_lock(meth));
    return name;
}

size_t ilg__host_method_name_put(host_method *meth, char *buf, size_t size)
{
    pthread_mutex_lock(ilg__host_method_lock(meth));
    const char *name = meth->name;
    pthread_mutex_unlock(ilg__host_method_lock(meth));
    size_t need = 0;
    if (name) {
        need = strlen(name);
        if (need >= size)
            return SIZE_MAX;
        memcpy(buf, name, need);
        return need;
    }
    ilg_status st = ilg_md_method_name(meth->module->md, meth->token & 0xFFFFFF, buf, size, &need);
    if (st == ILG_OK)
        return need;
    /* Unnamable: empty, as method_name_locked makes it. */
    return st == ILG_E_RANGE ? SIZE_MAX : 0;
}

bool ilg__host_to_wide(const char *text, WCHAR *buf, ULONG cch, ULONG *pch)
{
    if (!buf && !pch)
        return true; /* the caller wants other properties: nothing to convert */
    size_t need = ilg__utf8_to_utf16(text, SIZE_MAX, buf, cch);
    if (pch)
        *pch = (ULONG)need;
    return need <= cch;
}

bool ilg__host_from_wide(const WCHAR *text, char *buf, size_t size)
{
    bool complete;
    ilg__utf16_to_utf8(text, SIZE_MAX, buf, size, &complete);
    return complete;
}

/* Name out-parameters of the profiling API: truncation is an error there. */
static HRESULT name_out(const char *text, ULONG cch, ULONG *pch, WCHAR *buf)
{
    if (cch && !buf)
        return E_INVALIDARG;
    return ilg__host_to_wide(text, buf, cch, pch) || !buf ? S_OK : HRESULT_INSUFFICIENT_BUFFER;
}

/* ---- IUnknown ----------------------------------------------------------------------- */

static HRESULT info_QueryInterface(ICorProfilerInfo3 *This, REFIID riid, void **ppv)
{
    INFO_ENTRY(This, "QueryInterface", NO_RULE);
    if (!ppv)
        return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_ICorProfilerInfo) ||
        IsEqualGUID(riid, &IID_ICorProfilerInfo2) ||
        IsEqualGUID(riid, &IID_ICorProfilerInfo3)) {
        *ppv = This;
        This->lpVtbl->AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG info_AddRef(ICorProfilerInfo3 *This)
{
    INFO_ENTRY_NORESULT(This, "AddRef", NO_RULE);
    return atomic_fetch_add(&impl_from_ICorProfilerInfo3(This)->info_refs, 1) + 1;
}

/* The object is part of the host: references are counted (so a test can see a
 * profiler that forgets to Release) but the memory goes with ilg_host_free. */
static ULONG info_Release(ICorProfilerInfo3 *This)
{
    INFO_ENTRY_NORESULT(This, "Release", NO_RULE);
    return ilg__host_unref(&impl_from_ICorProfilerInfo3(This)->info_refs);
}

/* ---- event mask --------------------------------------------------------------------- */

static HRESULT info_GetEventMask(ICorProfilerInfo3 *This, DWORD *pdwEvents)
{
    INFO_ENTRY(This, "GetEventMask", ASYNC);
    if (!pdwEvents)
        return E_INVALIDARG;
    *pdwEvents = impl_from_ICorProfilerInfo3(This)->event_mask;
    return S_OK;
}

static HRESULT info_SetEventMask(ICorProfilerInfo3 *This, DWORD dwEvents)
{
    INFO_ENTRY(This, "SetEventMask", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo3(This);
    /* CoreCLR: outside Initialize the immutable flags must stay as they are (E_FAIL). */
    if (!h->initializing &&
        (dwEvents & COR_PRF_MONITOR_IMMUTABLE) != (h->event_mask & COR_PRF_MONITOR_IMMUTABLE))
        return E_FAIL;
    h->event_mask = dwEvents;
    return S_OK;
}

/* ---- functions and modules ---------------------------------------------------------- */

static HRESULT info_GetFunctionInfo(ICorProfilerInfo3 *This, FunctionID functionId,
                                    ClassID *pClassId, ModuleID *pModuleId, mdToken *pToken)
{
    INFO_ENTRY(This, "GetFunctionInfo", ASYNC);
    host_method *meth = ilg__host_find_method(impl_from_ICorProfilerInfo3(This), functionId);
    if (!meth)
        return E_INVALIDARG;
    /* Classes are not emulated: no ClassID (as CoreCLR gives for shared generic code). */
    if (pClassId)
        *pClassId = 0;
    if (pModuleId)
        *pModuleId = (ModuleID)meth->module;
    if (pToken)
        *pToken = meth->token;
    return S_OK;
}

static HRESULT info_GetFunctionFromToken(ICorProfilerInfo3 *This, ModuleID moduleId, mdToken token,
                                         FunctionID *pFunctionId)
{
    INFO_ENTRY(This, "GetFunctionFromToken", SYNC);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo3(This), moduleId);
    uint32_t rid;
    if (!m || !pFunctionId || !(rid = ilg__host_method_rid(m, token)))
        return E_INVALIDARG;
    /* CoreCLR: a generic method has a FunctionID per instantiation, none for its token. */
    if (m->methods[rid - 1].inst)
        return CORPROF_E_FUNCTION_IS_PARAMETERIZED;
    *pFunctionId = (FunctionID)&m->methods[rid - 1];
    return S_OK;
}

static HRESULT importer_for(host_module *m, REFIID riid, IUnknown **ppOut)
{
    IMetaDataImport *imp = &m->importer.IMetaDataImport_iface;
    return imp->lpVtbl->QueryInterface(imp, riid, (void **)ppOut);
}

static HRESULT info_GetTokenAndMetaDataFromFunction(ICorProfilerInfo3 *This, FunctionID functionId,
                                                    REFIID riid, IUnknown **ppImport,
                                                    mdToken *pToken)
{
    INFO_ENTRY(This, "GetTokenAndMetaDataFromFunction", SYNC);
    host_method *meth = ilg__host_find_method(impl_from_ICorProfilerInfo3(This), functionId);
    HRESULT hr;
    if (!meth || !ppImport || !riid)
        return E_INVALIDARG;
    if (FAILED(hr = importer_for(meth->module, riid, ppImport)))
        return hr;
    if (pToken)
        *pToken = meth->token;
    return S_OK;
}

static HRESULT info_GetModuleInfo(ICorProfilerInfo3 *This, ModuleID moduleId,
                                  LPCBYTE *ppBaseLoadAddress, ULONG cchName, ULONG *pcchName,
                                  WCHAR szName[], AssemblyID *pAssemblyId)
{
    INFO_ENTRY(This, "GetModuleInfo", ASYNC);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo3(This), moduleId);
    HRESULT hr;
    if (!m)
        return E_INVALIDARG;
    if (FAILED(hr = name_out(m->full_path, cchName, pcchName, szName)))
        return hr;
    if (ppBaseLoadAddress)
        *ppBaseLoadAddress = m->info.base;
    if (pAssemblyId)
        *pAssemblyId = (AssemblyID)&m->assembly;
    return hr;
}

static HRESULT info_GetModuleMetaData(ICorProfilerInfo3 *This, ModuleID moduleId, DWORD dwOpenFlags,
                                      REFIID riid, IUnknown **ppOut)
{
    INFO_ENTRY(This, "GetModuleMetaData", SYNC);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo3(This), moduleId);
    if (!m || !ppOut || !riid)
        return E_INVALIDARG;
    /* Read-only emulation: asking to write (ofWrite) gets no emitter. */
    if (dwOpenFlags & ofWrite) {
        *ppOut = NULL;
        return E_NOTIMPL;
    }
    return importer_for(m, riid, ppOut);
}

/* ---- IL bodies ---------------------------------------------------------------------- */

static HRESULT info_GetILFunctionBody(ICorProfilerInfo3 *This, ModuleID moduleId,
                                      mdMethodDef methodId, LPCBYTE *ppMethodHeader,
                                      ULONG *pcbMethodSize)
{
    INFO_ENTRY(This, "GetILFunctionBody", ASYNC);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo3(This), moduleId);
    uint32_t rid;
    if (!m || !(rid = ilg__host_method_rid(m, methodId)))
        return E_INVALIDARG;
    uint64_t cur = atomic_load_explicit(&m->methods[rid - 1].current, memory_order_acquire);
    if (!cur)
        return CORPROF_E_FUNCTION_NOT_IL;
    if (ppMethodHeader)
        *ppMethodHeader = m->info.base + (cur >> 32);
    if (pcbMethodSize)
        *pcbMethodSize = (ULONG)cur;
    return S_OK;
}

static HRESULT info_GetILFunctionBodyAllocator(ICorProfilerInfo3 *This, ModuleID moduleId,
                                               IMethodMalloc **ppMalloc)
{
    INFO_ENTRY(This, "GetILFunctionBodyAllocator", SYNC_TRIGGERS);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo3(This), moduleId);
    if (!m || !ppMalloc)
        return E_INVALIDARG;
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
    snprintf(text, sizeof text, "%s (0x%08x): %s", method_name_locked(meth), meth->token, why);
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

static HRESULT info_SetILFunctionBody(ICorProfilerInfo3 *This, ModuleID moduleId,
                                      mdMethodDef methodid, LPCBYTE pbNewILMethodHeader)
{
    INFO_ENTRY(This, "SetILFunctionBody", SYNC_TRIGGERS);
    ilg_host *h = impl_from_ICorProfilerInfo3(This);
    host_module *m = ilg__host_find_module(h, moduleId);
    host_worker *w = ilg__host_worker;
    size_t avail = 0;
    uint32_t rid;
    HRESULT hr = S_OK;

    if (!m || !(rid = ilg__host_method_rid(m, methodid)) || !pbNewILMethodHeader)
        return E_INVALIDARG;
    host_method *meth = &m->methods[rid - 1];
    atomic_fetch_add_explicit(&meth->set_calls, 1, memory_order_relaxed);
    if (!header_extent(m, pbNewILMethodHeader, &avail))
        return reject(meth, E_INVALIDARG,
                      "header %p is not inside the module's image [%p, +0x%llx) or its arena "
                      "(use GetILFunctionBodyAllocator)",
                      (const void *)pbNewILMethodHeader, (void *)m->info.base,
                      (unsigned long long)m->info.image_size);
    /* A run's thread verifies with its own state; any other thread shares the host's. */
    bool shared = !w || w->host != h;
    ilg_body **bodyp = shared ? &h->check_body : &w->check_body;
    ilg_findings *findings = shared ? &h->check_findings : &w->check_findings;
    if (shared)
        pthread_mutex_lock(&h->check_lock);
    if (!*bodyp && ilg_body_new(bodyp) != ILG_OK) {
        hr = E_OUTOFMEMORY;
        goto done;
    }
    ilg_body *body = *bodyp;
    if (ilg_body_decode(body, pbNewILMethodHeader, avail) != ILG_OK) {
        const ilg_diag *d = ilg_last_diag();
        hr = reject(meth, COR_E_BADIMAGEFORMAT, "IL offset 0x%04llx: %s: %s",
                    (unsigned long long)d->offset, ilg_status_name(d->status), d->message);
        goto done;
    }
    if (FAILED(hr = check_again(h, w, meth, pbNewILMethodHeader, body->size)))
        goto done;
    {
        uint32_t pops = 0;
        bool has_this = false, pushes = false;
        ilg_stack_resolver r = { resolver_call_shape, (void *)m->md, -1 };
        if (ilg_md_call_shape(m->md, meth->token, &pops, &has_this, &pushes) == ILG_OK)
            r.ret_pops = pushes ? 1 : 0;
        /* What CoreCLR's JIT would refuse, the module's metadata telling the types
         * (docs/ilbody.md); the runtime's exception for the fault it meets first. */
        ilg_type_resolver tr;
        ilg_md_type_resolver(ilg_md_module_scope(m->md), meth->token, &tr);
        const ilg_verify_options vo = { ILG_VERIFY_JIT, &r, &tr };
        if (ilg_body_verify_opts(body, &vo, findings) != ILG_OK) {
            hr =
                reject(meth, E_OUTOFMEMORY, "verifier could not run: %s", ilg_last_diag()->message);
            goto done;
        }
        if (findings->errors) {
            const ilg_finding *f = NULL; /* the error at the lowest offset */
            for (uint32_t k = 0; k < findings->count; k++)
                if (findings->items[k].severity == ILG_SEVERITY_ERROR && (!f || findings->items[k].offset < f->offset))
                    f = &findings->items[k];
            hr = reject(meth, findings->outcome == ILG_OUTCOME_BAD_IMAGE ? COR_E_BADIMAGEFORMAT : COR_E_INVALIDPROGRAM,
                        "IL offset 0x%04x: %s: %s%s", f->offset, ilg_status_name(f->rule), f->message,
                        findings->errors > 1 ? " (and more)" : "");
            goto done;
        }
    }
    uint32_t rva = (uint32_t)((uintptr_t)pbNewILMethodHeader - (uintptr_t)m->info.base);
    pthread_mutex_lock(ilg__host_method_lock(meth));
    atomic_store_explicit(&meth->current, (uint64_t)rva << 32 | body->size, memory_order_release);
    meth->new_rva = rva;
    meth->new_size = body->size;
    meth->status = ILG_HOST_REWRITTEN;
    ILG_HOST_FREE(h->heap, meth->diagnostic);
    meth->diagnostic = NULL;
    pthread_mutex_unlock(ilg__host_method_lock(meth));
done:
    if (shared)
        pthread_mutex_unlock(&h->check_lock);
    return hr;
}

/* ---- domains, assemblies, threads --------------------------------------------------- */

static HRESULT info_GetAppDomainInfo(ICorProfilerInfo3 *This, AppDomainID appDomainId,
                                     ULONG cchName, ULONG *pcchName, WCHAR szName[],
                                     ProcessID *pProcessId)
{
    INFO_ENTRY(This, "GetAppDomainInfo", SYNC_TRIGGERS);
    ilg_host *h = impl_from_ICorProfilerInfo3(This);
    HRESULT hr;
    if (appDomainId != (AppDomainID)&h->domain)
        return E_INVALIDARG;
    if (FAILED(hr = name_out("DefaultDomain", cchName, pcchName, szName)))
        return hr;
    if (pProcessId)
        *pProcessId = (ProcessID)getpid();
    return hr;
}

static HRESULT info_GetAssemblyInfo(ICorProfilerInfo3 *This, AssemblyID assemblyId, ULONG cchName,
                                    ULONG *pcchName, WCHAR szName[], AppDomainID *pAppDomainId,
                                    ModuleID *pModuleId)
{
    INFO_ENTRY(This, "GetAssemblyInfo", SYNC);
    ilg_host *h = impl_from_ICorProfilerInfo3(This);
    host_module *m = find_assembly(h, assemblyId);
    const char *name = NULL;
    uint32_t idx;
    HRESULT hr;
    if (!m)
        return E_INVALIDARG;
    /* The Assembly row's Name (column 7), as the runtime reports it. */
    if (ilg_md_row_count(m->md, ILG_TBL_Assembly) < 1 ||
        ilg_md_cell(m->md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_Name, &idx) != ILG_OK ||
        ilg_md_string(m->md, idx, &name) != ILG_OK)
        name = m->full_path;
    if (FAILED(hr = name_out(name, cchName, pcchName, szName)))
        return hr;
    if (pAppDomainId)
        *pAppDomainId = (AppDomainID)&h->domain;
    if (pModuleId)
        *pModuleId = (ModuleID)m;
    return hr;
}

static HRESULT info_GetCurrentThreadID(ICorProfilerInfo3 *This, ThreadID *pThreadId)
{
    INFO_ENTRY(This, "GetCurrentThreadID", ASYNC);
    if (!pThreadId)
        return E_INVALIDARG;
    ilg_host *h = impl_from_ICorProfilerInfo3(This);
    host_worker *w = ilg__host_worker;
    *pThreadId = w && w->host == h ? w->id : (ThreadID)&h->thread;
    return S_OK;
}

/* The OS thread id (gettid, as CoreCLR gives it on Linux) of the session's thread or of
 * one of the run's JIT threads; E_INVALIDARG for any other id, or a JIT thread that has
 * not started. */
static HRESULT info_GetThreadInfo(ICorProfilerInfo3 *This, ThreadID threadId,
                                  DWORD *pdwWin32ThreadId)
{
    INFO_ENTRY(This, "GetThreadInfo", SYNC);
    ilg_host *h = impl_from_ICorProfilerInfo3(This);
    if (!pdwWin32ThreadId)
        return E_INVALIDARG;
    host_worker *ws = atomic_load(&h->run_workers);
    for (unsigned t = 0; ws && t < h->run_worker_count; t++)
        if (ws[t].id == threadId) {
            DWORD tid = atomic_load(&ws[t].os_tid);
            if (!tid)
                return E_INVALIDARG;
            *pdwWin32ThreadId = tid;
            return S_OK;
        }
    if (threadId != (ThreadID)&h->thread)
        return E_INVALIDARG;
    *pdwWin32ThreadId = h->session_tid;
    return S_OK;
}

static const ICorProfilerInfo3Vtbl info_vtbl = { .QueryInterface = info_QueryInterface,
                                                 .AddRef = info_AddRef,
                                                 .Release = info_Release,
                                                 .GetEventMask = info_GetEventMask,
                                                 .SetEventMask = info_SetEventMask,
                                                 .GetFunctionInfo = info_GetFunctionInfo,
                                                 .GetFunctionFromToken = info_GetFunctionFromToken,
                                                 .GetTokenAndMetaDataFromFunction =
                                                     info_GetTokenAndMetaDataFromFunction,
                                                 .GetModuleInfo = info_GetModuleInfo,
                                                 .GetModuleMetaData = info_GetModuleMetaData,
                                                 .GetILFunctionBody = info_GetILFunctionBody,
                                                 .GetILFunctionBodyAllocator =
                                                     info_GetILFunctionBodyAllocator,
                                                 .SetILFunctionBody = info_SetILFunctionBody,
                                                 .GetAppDomainInfo = info_GetAppDomainInfo,
                                                 .GetAssemblyInfo = info_GetAssemblyInfo,
                                                 .GetCurrentThreadID = info_GetCurrentThreadID,
                                                 .GetThreadInfo = info_GetThreadInfo,
                                                 ILG__INFO_STUB_SLOTS };

void ilg__host_info_init(ilg_host *host)
{
    host->ICorProfilerInfo3_iface.lpVtbl = &info_vtbl;
}
