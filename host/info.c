/* info.c: the host's ICorProfilerInfo, one object for versions 1..15: what a runtime-
 * less host can answer from the images and its records (modules, functions, the
 * domain, threads, the runtime it plays); every other slot is a stub from
 * stubs.inc answering CoreCLR's HRESULT for a thing that does not exist
 * (info_unsupported.def), counted for the report. The IL-body methods are in
 * infobody.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "info_private.h"
#include "md_private.h"
#include "trace.h"

/* A stub: the entry with its rule (info_rules.def), then the count, the trace note and
 * the answer of its info_unsupported.def entry. */
#define ILG__INFO_STUB_ENTER(This, method, iface, index, rule)                              \
    do {                                                                                   \
        HOST_ENTRY(INFO_HOST(This), iface, method, rule);                                  \
        return ilg__host_unsupported(INFO_HOST(This), iface, index);                       \
    } while (0)
#define ILG__WANT_INFO_STUBS
#include "stubs.inc"

static struct {
    const char *name;
    HRESULT hr;
    HRESULT init_hr; /* inside Initialize */
    const char *why;
} unsupported[HOST_UNSUP_COUNT] = {
#define INFO_UNSUPPORTED(method, hresult, why)                                              \
    [HOST_UNSUP_##method] = { #method, hresult, hresult, why },
#define INFO_UNSUPPORTED_IN_INIT(method, hresult)
#include "info_unsupported.def"
#undef INFO_UNSUPPORTED
#undef INFO_UNSUPPORTED_IN_INIT
};

/* The Initialize answers that differ, applied over the table once. */
static const struct {
    unsigned index;
    HRESULT hr;
} unsupported_in_init[] = {
#define INFO_UNSUPPORTED(method, hresult, why)
#define INFO_UNSUPPORTED_IN_INIT(method, hresult) { HOST_UNSUP_##method, hresult },
#include "info_unsupported.def"
#undef INFO_UNSUPPORTED
#undef INFO_UNSUPPORTED_IN_INIT
};

const char *ilg__host_unsupported_name(unsigned index)
{
    return index < HOST_UNSUP_COUNT ? unsupported[index].name : "?";
}

HRESULT ilg__host_unsupported(ilg_host *host, const char *iface, unsigned index)
{
    (void)iface;
    atomic_fetch_add_explicit(&host->unsupported[index], 1, memory_order_relaxed);
    bool init = host->initializing;
    HRESULT hr = init ? unsupported[index].init_hr : unsupported[index].hr;
    /* The trace line names the HRESULT; the note says why the host cannot answer. */
    if (host->trace)
        ilg__trace_note = hr == unsupported[index].hr ? unsupported[index].why
                                                      : "inside Initialize: no GC heap yet";
    return hr;
}

/* ---- lookups and strings ------------------------------------------------------------ */

host_module *ilg__host_find_module(const ilg_host *host, UINT_PTR id)
{
    for (uint32_t i = 0; i < host->module_count; i++)
        if ((UINT_PTR)host->modules[i] == id)
            return host->modules[i];
    return NULL;
}


/* A FunctionID is a method record or, with recompile, a generic method's instantiation
 * record, or the record of a function of an instantiation (classes.c); all name the
 * method. */
static host_method *find_added(host_module *m, UINT_PTR id);

host_method *ilg__host_find_method(const ilg_host *host, UINT_PTR id)
{
    for (uint32_t i = 0; i < host->module_count; i++) {
        host_module *m = host->modules[i];
        if (ilg__host_is_record(id, m->methods, m->method_count, sizeof *m->methods))
            return (host_method *)id;
        if (ilg__host_is_record(id, m->insts, m->inst_count, sizeof *m->insts))
            return ((host_inst *)id)->method;
        host_method *added = find_added(m, id);
        if (added)
            return added;
    }
    return ilg__host_generic_method((ilg_host *)host, id);
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
    if ((token >> 24) != ILG_TBL_MethodDef || rid == 0 ||
        rid > m->method_count + atomic_load_explicit(&m->added_count, memory_order_acquire))
        return 0;
    return rid;
}

/* Added record i (0-based) is in chunk k at j: chunk k starts at FIRST * (2^k - 1). */
bool ilg__host_added_slot(uint32_t i, uint32_t *k, uint32_t *j)
{
    uint64_t start = 0;
    for (uint32_t c = 0; c < HOST_ADDED_CHUNKS; c++) {
        uint64_t size = (uint64_t)HOST_ADDED_FIRST << c;
        if (i < start + size) {
            *k = c;
            *j = (uint32_t)(i - start);
            return true;
        }
        start += size;
    }
    return false;
}

host_method *ilg__host_method_at(const host_module *m, uint32_t rid)
{
    uint32_t k, j;
    if (rid >= 1 && rid <= m->method_count)
        return &m->methods[rid - 1];
    if (rid <= m->method_count ||
        rid > m->method_count + atomic_load_explicit(&m->added_count, memory_order_acquire) ||
        !ilg__host_added_slot(rid - m->method_count - 1, &k, &j))
        return NULL;
    return &atomic_load_explicit(&m->added[k], memory_order_acquire)[j];
}

bool ilg__host_method_add(host_module *m, mdToken token)
{
    uint32_t n = atomic_load(&m->added_count), k, j;
    host_method *chunk;
    if (RidFromToken(token) != m->method_count + n + 1 || !ilg__host_added_slot(n, &k, &j))
        return false;
    if (!(chunk = atomic_load(&m->added[k]))) {
        chunk = ILG_HOST_ZALLOC(m->host->heap, sizeof *chunk * ((size_t)HOST_ADDED_FIRST << k));
        if (!chunk)
            return false;
        atomic_store_explicit(&m->added[k], chunk, memory_order_release);
    }
    chunk[j].module = m;
    chunk[j].token = token;
    chunk[j].kind = ILG_BODY_NONE;
    atomic_init(&chunk[j].current, 0);
    atomic_store_explicit(&m->added_count, n + 1, memory_order_release);
    return true;
}

bool ilg__host_in_added(UINT_PTR id, const host_module *m, uint32_t n, size_t size,
                        const void *(*chunk)(const host_module *m, uint32_t c))
{
    uint32_t k, j;
    if (!n || !ilg__host_added_slot(n - 1, &k, &j))
        return false;
    for (uint32_t c = 0; c <= k; c++) {
        const void *first = chunk(m, c);
        uint32_t count = c < k ? HOST_ADDED_FIRST << c : j + 1;
        if (first && ilg__host_is_record(id, first, count, size))
            return true;
    }
    return false;
}

static const void *method_chunk(const host_module *m, uint32_t c)
{
    return atomic_load_explicit(&m->added[c], memory_order_acquire);
}

/* The added record whose address is id, NULL when none. */
static host_method *find_added(host_module *m, UINT_PTR id)
{
    uint32_t n = atomic_load_explicit(&m->added_count, memory_order_acquire);
    return ilg__host_in_added(id, m, n, sizeof(host_method), method_chunk) ? (host_method *)id
                                                                            : NULL;
}

/* Under the method's lock. Formatted once into a stack buffer, again only when it does
 * not fit (asking for the size first would format every name twice and record a
 * diagnostic each time; docs/profiler.md). A name that cannot be formatted is empty
 * ("?" cut to the 0 bytes it asked for). */
const char *ilg__host_method_name_locked(host_method *meth)
{
    host_module *m = meth->module;
    size_t need = 0;
    char text[1024];

    if (meth->name)
        return meth->name;
    /* The tables may grow under another thread's emit call (docs/mdemit.md, "Threads"). */
    pthread_rwlock_rdlock(&m->importer.lock);
    ilg_status st = ilg_md_method_name(m->md, meth->token & 0xFFFFFF, text, sizeof text, &need);
    if (st != ILG_OK && st != ILG_E_RANGE)
        need = 0;
    meth->name = ILG_HOST_ALLOC(m->host->heap, need + 1);
    if (!meth->name) {
        pthread_rwlock_unlock(&m->importer.lock);
        return "?";
    }
    if (st == ILG_OK)
        memcpy(meth->name, text, need + 1);
    else if (!need ||
             ilg_md_method_name(m->md, meth->token & 0xFFFFFF, meth->name, need + 1, NULL) != ILG_OK)
        meth->name[0] = 0;
    pthread_rwlock_unlock(&m->importer.lock);
    return meth->name;
}

const char *ilg__host_method_name(host_method *meth)
{
    pthread_mutex_lock(ilg__host_method_lock(meth));
    const char *name = ilg__host_method_name_locked(meth);
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
    pthread_rwlock_rdlock(&meth->module->importer.lock);
    ilg_status st = ilg_md_method_name(meth->module->md, meth->token & 0xFFFFFF, buf, size, &need);
    pthread_rwlock_unlock(&meth->module->importer.lock);
    if (st == ILG_OK)
        return need;
    /* Unnamable: empty, as ilg__host_method_name_locked makes it. */
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

static ULONG info_AddRef(ICorProfilerInfo15 *This);

static HRESULT info_QueryInterface(ICorProfilerInfo15 *This, REFIID riid, void **ppv)
{
    INFO_ENTRY(This, "QueryInterface", NO_RULE);
    if (!ppv)
        return E_POINTER;
    static const IID *const versions[] = {
        &IID_IUnknown,           &IID_ICorProfilerInfo,   &IID_ICorProfilerInfo2,
        &IID_ICorProfilerInfo3,  &IID_ICorProfilerInfo4,  &IID_ICorProfilerInfo5,
        &IID_ICorProfilerInfo6,  &IID_ICorProfilerInfo7,  &IID_ICorProfilerInfo8,
        &IID_ICorProfilerInfo9,  &IID_ICorProfilerInfo10, &IID_ICorProfilerInfo11,
        &IID_ICorProfilerInfo12, &IID_ICorProfilerInfo13, &IID_ICorProfilerInfo14,
        &IID_ICorProfilerInfo15,
    };
    for (size_t i = 0; riid && i < sizeof versions / sizeof versions[0]; i++)
        if (IsEqualGUID(riid, versions[i])) {
            *ppv = This;
            info_AddRef(This);
            return S_OK;
        }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG info_AddRef(ICorProfilerInfo15 *This)
{
    INFO_ENTRY_NORESULT(This, "AddRef", NO_RULE);
    return atomic_fetch_add(&impl_from_ICorProfilerInfo15(This)->info_refs, 1) + 1;
}

/* The object is part of the host: references are counted (so a test can see a
 * profiler that forgets to Release) but the memory goes with ilg_host_free. */
static ULONG info_Release(ICorProfilerInfo15 *This)
{
    INFO_ENTRY_NORESULT(This, "Release", NO_RULE);
    return ilg__host_unref(&impl_from_ICorProfilerInfo15(This)->info_refs);
}

/* ---- event mask --------------------------------------------------------------------- */

static HRESULT info_GetEventMask(ICorProfilerInfo15 *This, DWORD *pdwEvents)
{
    INFO_ENTRY(This, "GetEventMask", ASYNC);
    if (!pdwEvents)
        return E_INVALIDARG;
    *pdwEvents = impl_from_ICorProfilerInfo15(This)->event_mask;
    return S_OK;
}

static HRESULT info_SetEventMask(ICorProfilerInfo15 *This, DWORD dwEvents)
{
    INFO_ENTRY(This, "SetEventMask", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    /* CoreCLR: outside Initialize the immutable flags must stay as they are (E_FAIL). */
    /* CoreCLR: a notification-only profiler may set only some flags (observed). */
    if (h->notification_only && (dwEvents & ~COR_PRF_ALLOWABLE_NOTIFICATION_PROFILER))
        return E_INVALIDARG;
    if (!h->initializing &&
        (dwEvents & COR_PRF_MONITOR_IMMUTABLE) != (h->event_mask & COR_PRF_MONITOR_IMMUTABLE))
        return E_FAIL;
    h->event_mask = dwEvents;
    return S_OK;
}

/* ---- functions and modules ---------------------------------------------------------- */

static HRESULT info_GetFunctionFromToken(ICorProfilerInfo15 *This, ModuleID moduleId, mdToken token,
                                         FunctionID *pFunctionId)
{
    INFO_ENTRY(This, "GetFunctionFromToken", SYNC);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId);
    uint32_t rid;
    if (!m || !pFunctionId || !(rid = ilg__host_method_rid(m, token)))
        return E_INVALIDARG;
    /* CoreCLR: a generic method, or a generic type's, has a FunctionID per
     * instantiation, none for its token (observed). */
    host_method *meth = ilg__host_method_at(m, rid);
    if (meth->inst || ilg__host_method_parameterized(meth))
        return CORPROF_E_FUNCTION_IS_PARAMETERIZED;
    *pFunctionId = (FunctionID)meth;
    return S_OK;
}

static HRESULT importer_for(host_module *m, REFIID riid, IUnknown **ppOut)
{
    IMetaDataImport *imp = &m->importer.IMetaDataImport_iface;
    /* The host's own call: not the profiler's, so not on the trace. */
    ilg__trace_inner = true;
    HRESULT hr = imp->lpVtbl->QueryInterface(imp, riid, (void **)ppOut);
    ilg__trace_inner = false;
    return hr;
}

static HRESULT info_GetTokenAndMetaDataFromFunction(ICorProfilerInfo15 *This, FunctionID functionId,
                                                    REFIID riid, IUnknown **ppImport,
                                                    mdToken *pToken)
{
    INFO_ENTRY(This, "GetTokenAndMetaDataFromFunction", SYNC);
    host_method *meth = ilg__host_find_method(impl_from_ICorProfilerInfo15(This), functionId);
    HRESULT hr;
    if (!meth || !ppImport || !riid)
        return E_INVALIDARG;
    if (FAILED(hr = importer_for(meth->module, riid, ppImport)))
        return hr;
    if (pToken)
        *pToken = meth->token;
    return S_OK;
}

static HRESULT info_GetModuleInfo(ICorProfilerInfo15 *This, ModuleID moduleId,
                                  LPCBYTE *ppBaseLoadAddress, ULONG cchName, ULONG *pcchName,
                                  WCHAR szName[], AssemblyID *pAssemblyId)
{
    INFO_ENTRY(This, "GetModuleInfo", ASYNC);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId);
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

static HRESULT info_GetModuleMetaData(ICorProfilerInfo15 *This, ModuleID moduleId,
                                      DWORD dwOpenFlags,
                                      REFIID riid, IUnknown **ppOut)
{
    INFO_ENTRY(This, "GetModuleMetaData", SYNC);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId);
    if (!m || !ppOut || !riid)
        return E_INVALIDARG;
    /* One object per module answers the import and the emit interfaces whatever the
     * flags (CoreCLR's readable object answers IMetaDataEmit2 too: New Relic gets it
     * from GetTokenAndMetaDataFromFunction); its emit methods follow the rules of
     * CoreCLR's profiler emitter (host/mdemit.c). */
    (void)dwOpenFlags;
    return importer_for(m, riid, ppOut);
}

/* The domains as CoreCLR 10 names them (docs/coreclr-observed.md): the app's is
 * DefaultDomain until its AppDomainCreationFinished is over, then clrhost; the system
 * domain is named after CoreLib's file. */
#define HOST_DOMAIN_NAME "clrhost"
#define HOST_DOMAIN_NAME_STARTING "DefaultDomain"
#define HOST_SYSTEM_DOMAIN_NAME "System.Private.CoreLib.dll"

/* ---- domains, assemblies, threads --------------------------------------------------- */

static HRESULT info_GetAppDomainInfo(ICorProfilerInfo15 *This, AppDomainID appDomainId,
                                     ULONG cchName, ULONG *pcchName, WCHAR szName[],
                                     ProcessID *pProcessId)
{
    INFO_ENTRY(This, "GetAppDomainInfo", SYNC_TRIGGERS);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    HRESULT hr;
    const char *name;
    if (appDomainId == (AppDomainID)&h->system_domain)
        name = HOST_SYSTEM_DOMAIN_NAME;
    else if (appDomainId == (AppDomainID)&h->domain)
        name = atomic_load(&h->domain_named) ? HOST_DOMAIN_NAME : HOST_DOMAIN_NAME_STARTING;
    else
        return E_INVALIDARG;
    if (FAILED(hr = name_out(name, cchName, pcchName, szName)))
        return hr;
    if (pProcessId)
        *pProcessId = (ProcessID)getpid();
    return hr;
}

static HRESULT info_GetAssemblyInfo(ICorProfilerInfo15 *This, AssemblyID assemblyId, ULONG cchName,
                                    ULONG *pcchName, WCHAR szName[], AppDomainID *pAppDomainId,
                                    ModuleID *pModuleId)
{
    INFO_ENTRY(This, "GetAssemblyInfo", SYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    host_module *m = find_assembly(h, assemblyId);
    const char *name = NULL;
    uint32_t idx;
    HRESULT hr;
    if (!m)
        return E_INVALIDARG;
    /* Held while the name is copied: an emit call may move #Strings. */
    MD_READ_LOCKED(&m->importer);
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

static HRESULT info_GetCurrentThreadID(ICorProfilerInfo15 *This, ThreadID *pThreadId)
{
    INFO_ENTRY(This, "GetCurrentThreadID", ASYNC);
    if (!pThreadId)
        return E_INVALIDARG;
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    host_worker *w = ilg__host_worker;
    /* A thread of the profiler's own is no runtime thread (observed: CoreCLR answers
     * CORPROF_E_NOT_MANAGED_THREAD there, docs/coreclr-observed.md). */
    if ((!w || w->host != h) && (DWORD)gettid() != h->session_tid)
        return CORPROF_E_NOT_MANAGED_THREAD;
    *pThreadId = w && w->host == h ? w->id : (ThreadID)&h->thread;
    return S_OK;
}

/* The enter/leave hooks: CoreCLR keeps them for the code it compiles; the host compiles
 * none, so it keeps nothing. It checks them as CoreCLR does: after the INIT_ONLY rule,
 * all three NULL is E_INVALIDARG (observed, docs/coreclr-observed.md). 3WithInfo, which
 * also needs the slow-path flags, is in noruntime.c. */
static HRESULT elt_hooks(bool any)
{
    return any ? S_OK : E_INVALIDARG;
}

static HRESULT info_SetEnterLeaveFunctionHooks(ICorProfilerInfo15 *This, FunctionEnter *pFuncEnter,
                                               FunctionLeave *pFuncLeave,
                                               FunctionTailcall *pFuncTailcall)
{
    INFO_ENTRY(This, "SetEnterLeaveFunctionHooks", INIT_ONLY);
    return elt_hooks(pFuncEnter || pFuncLeave || pFuncTailcall);
}

static HRESULT info_SetEnterLeaveFunctionHooks2(ICorProfilerInfo15 *This,
                                                FunctionEnter2 *pFuncEnter,
                                                FunctionLeave2 *pFuncLeave,
                                                FunctionTailcall2 *pFuncTailcall)
{
    INFO_ENTRY(This, "SetEnterLeaveFunctionHooks2", INIT_ONLY);
    return elt_hooks(pFuncEnter || pFuncLeave || pFuncTailcall);
}

static HRESULT info_SetEnterLeaveFunctionHooks3(ICorProfilerInfo15 *This,
                                                FunctionEnter3 *pFuncEnter3,
                                                FunctionLeave3 *pFuncLeave3,
                                                FunctionTailcall3 *pFuncTailcall3)
{
    INFO_ENTRY(This, "SetEnterLeaveFunctionHooks3", INIT_ONLY);
    return elt_hooks(pFuncEnter3 || pFuncLeave3 || pFuncTailcall3);
}

/* The OS thread id (gettid, as CoreCLR gives it on Linux) of the session's thread or of
 * one of the run's JIT threads; E_INVALIDARG for any other id, or a JIT thread that has
 * not started. */
static HRESULT info_GetThreadInfo(ICorProfilerInfo15 *This, ThreadID threadId,
                                  DWORD *pdwWin32ThreadId)
{
    INFO_ENTRY(This, "GetThreadInfo", SYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
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

/* ---- Info2..Info15: what the images and the host's records answer ------------------ */

static HRESULT info_GetStringLayout(ICorProfilerInfo15 *This, ULONG *pBufferLengthOffset,
                                    ULONG *pStringLengthOffset, ULONG *pBufferOffset)
{
    INFO_ENTRY(This, "GetStringLayout", SYNC);
    /* CoreCLR 10 on x64 (observed): the length at 8, the characters at 12; the deprecated
     * buffer length is the string length there. */
    if (pBufferLengthOffset)
        *pBufferLengthOffset = 8;
    if (pStringLengthOffset)
        *pStringLengthOffset = 8;
    if (pBufferOffset)
        *pBufferOffset = 12;
    return S_OK;
}

static HRESULT info_GetStringLayout2(ICorProfilerInfo15 *This, ULONG *pStringLengthOffset,
                                     ULONG *pBufferOffset)
{
    INFO_ENTRY(This, "GetStringLayout2", SYNC);
    if (pStringLengthOffset)
        *pStringLengthOffset = 8;
    if (pBufferOffset)
        *pBufferOffset = 12;
    return S_OK;
}

static HRESULT info_EnumModuleFrozenObjects(ICorProfilerInfo15 *This, ModuleID moduleID,
                                            ICorProfilerObjectEnum **ppEnum)
{
    INFO_ENTRY(This, "EnumModuleFrozenObjects", SYNC);
    if (!ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleID) || !ppEnum)
        return E_INVALIDARG;
    /* CoreCLR has no frozen objects in a module: always an empty enumerator. */
    return ilg__host_object_enum(NULL, 0, ppEnum);
}

static HRESULT info_GetThreadAppDomain(ICorProfilerInfo15 *This, ThreadID threadId,
                                       AppDomainID *pAppDomainId)
{
    INFO_ENTRY(This, "GetThreadAppDomain", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    DWORD os = 0;
    if (!pAppDomainId || FAILED(This->lpVtbl->GetThreadInfo(This, threadId, &os)))
        return E_INVALIDARG;
    *pAppDomainId = (AppDomainID)&h->domain;
    return S_OK;
}

/* The FunctionIDs JIT-compiled so far, in module and token order. */
static HRESULT jited_functions(ilg_host *h, ICorProfilerFunctionEnum **ppEnum)
{
    if (!ppEnum)
        return E_INVALIDARG;
    size_t cap = 0, n = 0;
    for (uint32_t i = 0; i < h->module_count; i++)
        cap += h->modules[i]->method_count;
    COR_PRF_FUNCTION *items = calloc(cap ? cap : 1, sizeof *items);
    if (!items)
        return E_OUTOFMEMORY;
    for (uint32_t i = 0; i < h->module_count; i++) {
        host_module *m = h->modules[i];
        for (uint32_t k = 0; k < m->method_count; k++)
            if (atomic_load_explicit(&m->methods[k].jit_events, memory_order_relaxed))
                items[n++].functionId = (FunctionID)&m->methods[k];
    }
    HRESULT hr = ilg__host_function_enum(items, (ULONG)n, ppEnum);
    free(items);
    return hr;
}

static HRESULT info_EnumJITedFunctions(ICorProfilerInfo15 *This, ICorProfilerFunctionEnum **ppEnum)
{
    INFO_ENTRY(This, "EnumJITedFunctions", SYNC);
    return jited_functions(impl_from_ICorProfilerInfo15(This), ppEnum);
}

static HRESULT info_EnumJITedFunctions2(ICorProfilerInfo15 *This, ICorProfilerFunctionEnum **ppEnum)
{
    INFO_ENTRY(This, "EnumJITedFunctions2", SYNC_TRIGGERS);
    /* reJitId 0 for every one: CoreCLR lists no ReJIT version (observed, test_rejit). */
    return jited_functions(impl_from_ICorProfilerInfo15(This), ppEnum);
}

static HRESULT info_EnumModules(ICorProfilerInfo15 *This, ICorProfilerModuleEnum **ppEnum)
{
    INFO_ENTRY(This, "EnumModules", SYNC_TRIGGERS);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    if (!ppEnum)
        return E_INVALIDARG;
    ModuleID *items = calloc(h->module_count ? h->module_count : 1, sizeof *items);
    if (!items)
        return E_OUTOFMEMORY;
    for (uint32_t i = 0; i < h->module_count; i++)
        items[i] = (ModuleID)h->modules[i];
    HRESULT hr = ilg__host_module_enum(items, h->module_count, ppEnum);
    free(items);
    return hr;
}

static HRESULT info_GetRuntimeInformation(ICorProfilerInfo15 *This, USHORT *pClrInstanceId,
                                          COR_PRF_RUNTIME_TYPE *pRuntimeType,
                                          USHORT *pMajorVersion, USHORT *pMinorVersion,
                                          USHORT *pBuildNumber, USHORT *pQFEVersion,
                                          ULONG cchVersionString, ULONG *pcchVersionString,
                                          WCHAR szVersionString[])
{
    INFO_ENTRY(This, "GetRuntimeInformation", SYNC);
    if ((cchVersionString || szVersionString) && !pcchVersionString)
        return E_INVALIDARG;
    /* CoreCLR (observed): the length with the NUL, S_OK even when the buffer is short
     * (the string is then not written). */
    size_t need = strlen(HOST_CLR_VERSION) + 1;
    if (pcchVersionString)
        *pcchVersionString = (ULONG)need;
    if (szVersionString && cchVersionString >= need)
        ilg__host_to_wide(HOST_CLR_VERSION, szVersionString, cchVersionString, NULL);
    if (pClrInstanceId)
        *pClrInstanceId = 0;
    if (pRuntimeType)
        *pRuntimeType = COR_PRF_CORE_CLR;
    if (pMajorVersion)
        *pMajorVersion = HOST_CLR_MAJOR;
    if (pMinorVersion)
        *pMinorVersion = HOST_CLR_MINOR;
    if (pBuildNumber)
        *pBuildNumber = HOST_CLR_BUILD;
    if (pQFEVersion)
        *pQFEVersion = HOST_CLR_QFE;
    return S_OK;
}

static HRESULT info_GetAppDomainsContainingModule(ICorProfilerInfo15 *This, ModuleID moduleId,
                                                  ULONG32 cAppDomainIds, ULONG32 *pcAppDomainIds,
                                                  AppDomainID appDomainIds[])
{
    INFO_ENTRY(This, "GetAppDomainsContainingModule", SYNC_TRIGGERS);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    if (!ilg__host_find_module(h, moduleId) || !pcAppDomainIds || (cAppDomainIds && !appDomainIds))
        return E_INVALIDARG;
    /* One domain holds every module. */
    *pcAppDomainIds = 1;
    if (cAppDomainIds)
        appDomainIds[0] = (AppDomainID)&h->domain;
    return S_OK;
}

static HRESULT info_GetModuleInfo2(ICorProfilerInfo15 *This, ModuleID moduleId,
                                   LPCBYTE *ppBaseLoadAddress, ULONG cchName, ULONG *pcchName,
                                   WCHAR szName[], AssemblyID *pAssemblyId, DWORD *pdwModuleFlags)
{
    INFO_ENTRY(This, "GetModuleInfo2", ASYNC);
    HRESULT hr = info_GetModuleInfo(This, moduleId, ppBaseLoadAddress, cchName, pcchName, szName,
                                    pAssemblyId);
    /* A disk image the host maps by section (CoreCLR adds FLAT_LAYOUT for an image it
     * reads flat, where headers sit at base + file offset; here they sit at base + RVA). */
    if (SUCCEEDED(hr) && pdwModuleFlags)
        *pdwModuleFlags = COR_PRF_MODULE_DISK;
    return hr;
}

/* The session's thread and every started JIT thread of a run. */
static HRESULT info_EnumThreads(ICorProfilerInfo15 *This, ICorProfilerThreadEnum **ppEnum)
{
    INFO_ENTRY(This, "EnumThreads", SYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    ThreadID items[ILG_HOST_MAX_JIT_THREADS + 1];
    ULONG n = 0;
    if (!ppEnum)
        return E_INVALIDARG;
    items[n++] = (ThreadID)&h->thread;
    host_worker *ws = atomic_load(&h->run_workers);
    for (unsigned t = 0; ws && t < h->run_worker_count && n < ILG_HOST_MAX_JIT_THREADS + 1; t++)
        if (ws[t].id != (ThreadID)&h->thread && atomic_load(&ws[t].os_tid))
            items[n++] = ws[t].id;
    return ilg__host_thread_enum(items, n, ppEnum);
}

static HRESULT info_InitializeCurrentThread(ICorProfilerInfo15 *This)
{
    INFO_ENTRY(This, "InitializeCurrentThread", SYNC);
    /* Nothing to set up: the host keeps no per-thread state for a profiler's thread. */
    return S_OK;
}

static HRESULT info_GetReJITIDs(ICorProfilerInfo15 *This, FunctionID functionId, ULONG cReJitIds,
                                ULONG *pcReJitIds, ReJITID reJitIds[])
{
    INFO_ENTRY(This, "GetReJITIDs", SYNC_TRIGGERS);
    host_method *meth = ilg__host_find_method(impl_from_ICorProfilerInfo15(This), functionId);
    if (!meth || !pcReJitIds || (cReJitIds && !reJitIds))
        return E_INVALIDARG;
    /* CoreCLR (observed) lists the original code version, ReJITID 0, then each ReJIT
     * version configured, reverted or not (rejit.c). */
    return ilg__host_rejit_ids(meth, cReJitIds, pcReJitIds, reJitIds);
}

static HRESULT info_GetEventMask2(ICorProfilerInfo15 *This, DWORD *pdwEventsLow,
                                  DWORD *pdwEventsHigh)
{
    INFO_ENTRY(This, "GetEventMask2", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    if (!pdwEventsLow || !pdwEventsHigh)
        return E_INVALIDARG;
    *pdwEventsLow = h->event_mask;
    *pdwEventsHigh = h->event_mask_high;
    return S_OK;
}

static HRESULT info_SetEventMask2(ICorProfilerInfo15 *This, DWORD dwEventsLow, DWORD dwEventsHigh)
{
    INFO_ENTRY(This, "SetEventMask2", ASYNC);
    ilg_host *h = impl_from_ICorProfilerInfo15(This);
    if (h->notification_only && ((dwEventsLow & ~COR_PRF_ALLOWABLE_NOTIFICATION_PROFILER) ||
                                 (dwEventsHigh & ~COR_PRF_HIGH_ALLOWABLE_NOTIFICATION_PROFILER)))
        return E_INVALIDARG;
    /* CoreCLR: the immutable flags of either half change only inside Initialize. */
    if (!h->initializing &&
        ((dwEventsLow & COR_PRF_MONITOR_IMMUTABLE) != (h->event_mask & COR_PRF_MONITOR_IMMUTABLE) ||
         (dwEventsHigh & COR_PRF_HIGH_MONITOR_IMMUTABLE) !=
             (h->event_mask_high & COR_PRF_HIGH_MONITOR_IMMUTABLE)))
        return E_FAIL;
    h->event_mask = dwEventsLow;
    h->event_mask_high = dwEventsHigh;
    return S_OK;
}

static HRESULT info_ApplyMetaData(ICorProfilerInfo15 *This, ModuleID moduleId)
{
    INFO_ENTRY(This, "ApplyMetaData", SYNC_TRIGGERS);
    /* Nothing to apply: what a profiler defined is in the module's tables as soon as
     * the Define* call returns (docs/mdemit.md). */
    return ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId) ? S_OK
                                                                              : E_INVALIDARG;
}

static HRESULT info_GetInMemorySymbolsLength(ICorProfilerInfo15 *This, ModuleID moduleId,
                                             DWORD *pCountSymbolBytes)
{
    INFO_ENTRY(This, "GetInMemorySymbolsLength", SYNC);
    if (!ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId) || !pCountSymbolBytes)
        return E_INVALIDARG;
    *pCountSymbolBytes = 0; /* a module from disk has no in-memory symbol stream */
    return S_OK;
}

static HRESULT info_IsFunctionDynamic(ICorProfilerInfo15 *This, FunctionID functionId,
                                      BOOL *isDynamic)
{
    INFO_ENTRY(This, "IsFunctionDynamic", ASYNC);
    if (!ilg__host_find_method(impl_from_ICorProfilerInfo15(This), functionId) || !isDynamic)
        return E_INVALIDARG;
    *isDynamic = FALSE; /* every FunctionID is a MethodDef of an image */
    return S_OK;
}

/* No native code is ever made: no start address (CoreCLR's answer, S_OK and none, for a
 * method not compiled yet; observed). */
static HRESULT info_GetNativeCodeStartAddresses(ICorProfilerInfo15 *This, FunctionID functionID,
                                                ReJITID reJitId, ULONG32 cCodeStartAddresses,
                                                ULONG32 *pcCodeStartAddresses,
                                                UINT_PTR codeStartAddresses[])
{
    INFO_ENTRY(This, "GetNativeCodeStartAddresses", ASYNC);
    (void)reJitId;
    if (!ilg__host_find_method(impl_from_ICorProfilerInfo15(This), functionID) ||
        !pcCodeStartAddresses || (cCodeStartAddresses && !codeStartAddresses))
        return E_INVALIDARG;
    *pcCodeStartAddresses = 0;
    return S_OK;
}

static HRESULT info_GetLOHObjectSizeThreshold(ICorProfilerInfo15 *This, DWORD *pThreshold)
{
    INFO_ENTRY(This, "GetLOHObjectSizeThreshold", SYNC);
    if (!pThreshold)
        return E_INVALIDARG;
    *pThreshold = 85000; /* CoreCLR's default (GCLOHThreshold unset) */
    return S_OK;
}

static const ICorProfilerInfo15Vtbl info_vtbl = {
    .QueryInterface = info_QueryInterface,
    .AddRef = info_AddRef,
    .Release = info_Release,
    .GetEventMask = info_GetEventMask,
    .SetEventMask = info_SetEventMask,
    .GetFunctionInfo = ilg__info_GetFunctionInfo,
    .GetFunctionFromToken = info_GetFunctionFromToken,
    .GetTokenAndMetaDataFromFunction = info_GetTokenAndMetaDataFromFunction,
    .GetModuleInfo = info_GetModuleInfo,
    .GetModuleMetaData = info_GetModuleMetaData,
    .GetILFunctionBody = ilg__info_GetILFunctionBody,
    .GetILFunctionBodyAllocator = ilg__info_GetILFunctionBodyAllocator,
    .SetILFunctionBody = ilg__info_SetILFunctionBody,
    .GetAppDomainInfo = info_GetAppDomainInfo,
    .GetAssemblyInfo = info_GetAssemblyInfo,
    .GetCurrentThreadID = info_GetCurrentThreadID,
    .SetEnterLeaveFunctionHooks = info_SetEnterLeaveFunctionHooks,
    .SetEnterLeaveFunctionHooks2 = info_SetEnterLeaveFunctionHooks2,
    .SetEnterLeaveFunctionHooks3 = info_SetEnterLeaveFunctionHooks3,
    .GetThreadInfo = info_GetThreadInfo,
    .GetFunctionInfo2 = ilg__info_GetFunctionInfo2,
    .GetStringLayout = info_GetStringLayout,
    .GetFunctionFromTokenAndTypeArgs = ilg__info_GetFunctionFromTokenAndTypeArgs,
    .GetClassFromTokenAndTypeArgs = ilg__info_GetClassFromTokenAndTypeArgs,
    .EnumModuleFrozenObjects = info_EnumModuleFrozenObjects,
    .GetThreadAppDomain = info_GetThreadAppDomain,
    .EnumJITedFunctions = info_EnumJITedFunctions,
    .GetStringLayout2 = info_GetStringLayout2,
    .EnumModules = info_EnumModules,
    .GetRuntimeInformation = info_GetRuntimeInformation,
    .GetAppDomainsContainingModule = info_GetAppDomainsContainingModule,
    .GetModuleInfo2 = info_GetModuleInfo2,
    .EnumThreads = info_EnumThreads,
    .InitializeCurrentThread = info_InitializeCurrentThread,
    .GetReJITIDs = info_GetReJITIDs,
    .EnumJITedFunctions2 = info_EnumJITedFunctions2,
    .GetEventMask2 = info_GetEventMask2,
    .SetEventMask2 = info_SetEventMask2,
    .ApplyMetaData = info_ApplyMetaData,
    .GetInMemorySymbolsLength = info_GetInMemorySymbolsLength,
    .IsFunctionDynamic = info_IsFunctionDynamic,
    .GetLOHObjectSizeThreshold = info_GetLOHObjectSizeThreshold,
    .GetEnvironmentVariable = ilg__info_GetEnvironmentVariable,
    .SetEnvironmentVariable = ilg__info_SetEnvironmentVariable,
    .GetClassFromToken = ilg__info_GetClassFromToken,
    .GetClassIDInfo = ilg__info_GetClassIDInfo,
    .GetClassIDInfo2 = ilg__info_GetClassIDInfo2,
    .IsArrayClass = ilg__info_IsArrayClass,
    .GetNativeCodeStartAddresses = info_GetNativeCodeStartAddresses,
    .IsFrozenObject = ilg__info_IsFrozenObject,
    .GetStaticFieldInfo = ilg__info_GetStaticFieldInfo,
    .GetRVAStaticAddress = ilg__info_GetRVAStaticAddress,
    .GetAppDomainStaticAddress = ilg__info_GetAppDomainStaticAddress,
    .GetThreadStaticAddress = ilg__info_GetThreadStaticAddress,
    .GetThreadStaticAddress2 = ilg__info_GetThreadStaticAddress2,
    .GetBoxClassLayout = ilg__info_GetBoxClassLayout,
    .RequestReJIT = ilg__info_RequestReJIT,
    .RequestReJITWithInliners = ilg__info_RequestReJITWithInliners,
    .RequestRevert = ilg__info_RequestRevert,
    .SetEnterLeaveFunctionHooks3WithInfo = ilg__info_SetEnterLeaveFunctionHooks3WithInfo,
    .DoStackSnapshot = ilg__info_DoStackSnapshot,
    ILG__INFO_STUB_SLOTS
};

/* Under --trace the profiler gets this one: each slot traces the call and makes it
 * through info_vtbl (trace.inc). */
#define ILG__TRACE_HOST(This) INFO_HOST(This)
#define ILG__TRACE_REAL info_vtbl
#define ILG__WANT_INFO_TRACE
#include "trace.inc"
static const ICorProfilerInfo15Vtbl info_trace_vtbl = { ILG__INFO_TRACE_SLOTS };

static pthread_once_t unsupported_once = PTHREAD_ONCE_INIT;

static void unsupported_init(void)
{
    for (size_t i = 0; i < sizeof unsupported_in_init / sizeof unsupported_in_init[0]; i++)
        unsupported[unsupported_in_init[i].index].init_hr = unsupported_in_init[i].hr;
}

void ilg__host_info_init(ilg_host *host)
{
    pthread_once(&unsupported_once, unsupported_init);
    host->ICorProfilerInfo15_iface.lpVtbl = host->trace ? &info_trace_vtbl : &info_vtbl;
    pthread_mutex_init(&host->env_lock, NULL);
    pthread_mutex_init(&host->generics_lock, NULL);
}

void ilg__host_info_free(ilg_host *host)
{
    ilg__host_env_free(host);
    pthread_mutex_destroy(&host->env_lock);
    ilg__host_generics_free(host);
    pthread_mutex_destroy(&host->generics_lock);
}
