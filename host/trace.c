/* trace.c: the line-makers of --trace (trace.h). A line is built in the caller's
 * ilg__trace_call and written whole under the host's lock, so that lines of JIT threads
 * never interleave. Nothing here runs without --trace: the generated wrappers are in a
 * vtable the host hands out only then, and host.c calls the callback line-makers only
 * then. */
#include <stdarg.h>
#include <stdio.h>

#include "trace.h"

_Thread_local const char *ilg__trace_note;
_Thread_local bool ilg__trace_inner;

/* The HRESULTs a trace names (the others print in hex). */
#define TRACE_HRESULTS(X)                                                                    \
    X(S_OK) X(S_FALSE) X(E_FAIL) X(E_INVALIDARG) X(E_NOTIMPL) X(E_OUTOFMEMORY)              \
    X(E_NOINTERFACE) X(E_POINTER) X(E_UNEXPECTED) X(CLDB_S_TRUNCATION)                      \
    X(CLDB_E_RECORD_NOTFOUND) X(CLDB_E_INDEX_NOTFOUND) X(CLDB_E_FILE_CORRUPT)               \
    X(META_E_INVALID_TOKEN_TYPE) X(META_E_BAD_SIGNATURE) X(META_S_DUPLICATE)               \
    X(META_E_STRINGSPACE_FULL)                                                             \
    X(CORPROF_E_FUNCTION_NOT_COMPILED) X(CORPROF_E_DATAINCOMPLETE)                          \
    X(CORPROF_E_FUNCTION_NOT_IL) X(CORPROF_E_NOT_MANAGED_THREAD)                            \
    X(CORPROF_E_CALL_ONLY_FROM_INIT) X(CORPROF_E_NOT_YET_AVAILABLE)                         \
    X(CORPROF_E_TYPE_IS_PARAMETERIZED) X(CORPROF_E_FUNCTION_IS_PARAMETERIZED)               \
    X(CORPROF_E_STACKSNAPSHOT_UNMANAGED_CTX) X(CORPROF_E_UNSUPPORTED_CALL_SEQUENCE)         \
    X(CORPROF_E_IMMUTABLE_FLAGS_SET) X(CORPROF_E_INCONSISTENT_WITH_FLAGS)                   \
    X(CORPROF_E_RUNTIME_UNINITIALIZED) X(CORPROF_E_CLASSID_IS_ARRAY)                        \
    X(CORPROF_E_CLASSID_IS_COMPOSITE) X(CORPROF_E_REJIT_NOT_ENABLED)                        \
    X(CORPROF_E_CALLBACK4_REQUIRED) X(CORPROF_E_ASYNCHRONOUS_UNSAFE)

const char *ilg__trace_hr_name(HRESULT hr, char buf[16])
{
#define TRACE_HR_CASE(name)                                                                  \
    if (hr == (HRESULT)(name))                                                               \
        return #name;
    TRACE_HRESULTS(TRACE_HR_CASE)
#undef TRACE_HR_CASE
    if (hr == HRESULT_INSUFFICIENT_BUFFER)
        return "HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)";
    snprintf(buf, 16, "0x%08X", (unsigned)hr);
    return buf;
}

static void put(ilg__trace_call *tc, const char *fmt, ...) ILG_PRINTF(2, 3);
static void put(ilg__trace_call *tc, const char *fmt, ...)
{
    if (tc->len >= sizeof tc->line)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tc->line + tc->len, sizeof tc->line - tc->len, fmt, ap);
    va_end(ap);
    tc->len = n < 0 ? sizeof tc->line : tc->len + (size_t)n;
}

/* ", name=" before every argument but the first, ": " before the first out value;
 * no "name=" for an unnamed value (an enumerator's elements). */
static void label(ilg__trace_call *tc, const char *name)
{
    if (tc->outs && tc->first)
        put(tc, ": ");
    else if (!tc->first)
        put(tc, ", ");
    tc->first = false;
    if (name)
        put(tc, "%s=", name);
}

void ilg__trace_begin(ilg__trace_call *tc, ilg_host *host, const char *iface, const char *method)
{
    tc->host = host;
    tc->len = 0;
    tc->first = true;
    tc->outs = false;
    tc->line[0] = '\0';
    ilg__trace_note = NULL;
    /* A call made from inside a callback is indented under it. */
    const char *indent = iface && (ilg__host_cb_state & HOST_CB_INSIDE) ? "  " : "";
    if (iface)
        put(tc, "%s%s::%s(", indent, iface, method);
    else
        put(tc, "callback %s(", method);
}

void ilg__trace_id(ilg__trace_call *tc, const char *name, unsigned long long v)
{
    label(tc, name);
    put(tc, "0x%llx", v);
}

void ilg__trace_dec(ilg__trace_call *tc, const char *name, long long v)
{
    label(tc, name);
    put(tc, "%lld", v);
}

void ilg__trace_hex(ilg__trace_call *tc, const char *name, unsigned long long v)
{
    label(tc, name);
    put(tc, "0x%llX", v);
}

void ilg__trace_tok(ilg__trace_call *tc, const char *name, uint32_t v)
{
    label(tc, name);
    put(tc, "0x%08X", (unsigned)v);
}

void ilg__trace_hr(ilg__trace_call *tc, const char *name, HRESULT v)
{
    char buf[16];
    label(tc, name);
    put(tc, "%s", ilg__trace_hr_name(v, buf));
}

void ilg__trace_ptr(ilg__trace_call *tc, const char *name, const void *v)
{
    label(tc, name);
    put(tc, v ? "%p" : "NULL", v);
}

void ilg__trace_text(ilg__trace_call *tc, const char *name, const char *text)
{
    label(tc, name);
    put(tc, "%s", text);
}

void ilg__trace_utf8(ilg__trace_call *tc, const char *name, const char *text)
{
    label(tc, name);
    if (!text)
        put(tc, "NULL");
    else
        put(tc, "\"%.*s\"", ILG__TRACE_TEXT_MAX, text);
}

void ilg__trace_wstr(ilg__trace_call *tc, const char *name, const WCHAR *w, unsigned long max)
{
    label(tc, name);
    if (!w) {
        put(tc, "NULL");
        return;
    }
    if (!max || max > ILG__TRACE_TEXT_MAX)
        max = ILG__TRACE_TEXT_MAX;
    put(tc, "\"");
    for (unsigned long i = 0; i < max && w[i]; i++) {
        /* ASCII as it is, the rest as \uXXXX: the line stays one line of plain text. */
        if (w[i] >= ' ' && w[i] < 0x7F && w[i] != '"' && w[i] != '\\')
            put(tc, "%c", (char)w[i]);
        else
            put(tc, "\\u%04X", (unsigned)w[i]);
    }
    put(tc, "\"");
}

/* The interfaces a trace names after their IID. */
#define TRACE_IIDS(X)                                                                        \
    X(IUnknown) X(IClassFactory) X(IMethodMalloc) X(IMetaDataImport) X(IMetaDataImport2)    \
    X(IMetaDataEmit) X(IMetaDataEmit2) X(IMetaDataAssemblyImport) X(IMetaDataAssemblyEmit)  \
    X(ICorProfilerCallback)                                                                \
    X(ICorProfilerCallback2) X(ICorProfilerCallback3) X(ICorProfilerCallback4)              \
    X(ICorProfilerCallback5) X(ICorProfilerCallback6) X(ICorProfilerCallback7)              \
    X(ICorProfilerCallback8) X(ICorProfilerCallback9) X(ICorProfilerCallback10)             \
    X(ICorProfilerCallback11) X(ICorProfilerInfo) X(ICorProfilerInfo2) X(ICorProfilerInfo3) \
    X(ICorProfilerInfo4) X(ICorProfilerInfo5) X(ICorProfilerInfo6) X(ICorProfilerInfo7)     \
    X(ICorProfilerInfo8) X(ICorProfilerInfo9) X(ICorProfilerInfo10) X(ICorProfilerInfo11)   \
    X(ICorProfilerInfo12) X(ICorProfilerInfo13) X(ICorProfilerInfo14) X(ICorProfilerInfo15) \
    X(ICorProfilerObjectEnum) X(ICorProfilerFunctionEnum) X(ICorProfilerModuleEnum)         \
    X(ICorProfilerThreadEnum)

static const char *iid_name(const GUID *g)
{
#define TRACE_IID_CASE(name)                                                                 \
    if (IsEqualGUID(g, &IID_##name))                                                         \
        return #name;
    TRACE_IIDS(TRACE_IID_CASE)
#undef TRACE_IID_CASE
    return NULL;
}

void ilg__trace_guid(ilg__trace_call *tc, const char *name, const GUID *g)
{
    char buf[ILG_GUID_TEXT_SIZE];
    label(tc, name);
    if (!g) {
        put(tc, "NULL");
        return;
    }
    put(tc, "{%s}", ilg_guid_format(g, buf));
    const char *known = iid_name(g);
    if (known)
        put(tc, " (%s)", known);
}

void ilg__trace_open(ilg__trace_call *tc)
{
    put(tc, ")");
}

void ilg__trace_hresult(ilg__trace_call *tc, HRESULT hr)
{
    char buf[16];
    put(tc, ") = %s", ilg__trace_hr_name(hr, buf));
    tc->outs = true;
    tc->first = true;
}

void ilg__trace_result(ilg__trace_call *tc, long long r)
{
    put(tc, ") = %lld", r);
    tc->outs = true;
    tc->first = true;
}

void ilg__trace_void(ilg__trace_call *tc)
{
    put(tc, ")");
}

void ilg__trace_end(ilg__trace_call *tc)
{
    ilg_host *h = tc->host;
    if (ilg__trace_inner)
        return;
    if (ilg__trace_note)
        put(tc, " [%s]", ilg__trace_note);
    ilg__trace_note = NULL;
    if (h->jit_threads > 1 && ilg__host_worker && ilg__host_worker->host == h)
        put(tc, " (thread %u)", ilg__host_worker->index);
    if (tc->len >= sizeof tc->line) {
        static const char ellipsis[] = "...";
        memcpy(tc->line + sizeof tc->line - sizeof ellipsis, ellipsis, sizeof ellipsis);
    }
    pthread_mutex_lock(&h->lock);
    fputs(tc->line, h->log);
    fputc('\n', h->log);
    fflush(h->log);
    pthread_mutex_unlock(&h->lock);
}

void ilg__trace_cb_return(ilg_host *host, const char *name, HRESULT hr)
{
    ilg__trace_call tc;
    char buf[16];
    tc.host = host;
    tc.len = 0;
    tc.line[0] = '\0';
    ilg__trace_note = NULL;
    put(&tc, "callback %s = %s", name, ilg__trace_hr_name(hr, buf));
    ilg__trace_end(&tc);
}

/* ---- IMethodMalloc under --trace --------------------------------------------------- */

static struct host_malloc_trace *impl_from_IMethodMalloc(IMethodMalloc *iface)
{
    return (struct host_malloc_trace *)((char *)iface -
                                        offsetof(struct host_malloc_trace, IMethodMalloc_iface));
}

static HRESULT malloc_QueryInterface(IMethodMalloc *This, REFIID riid, void **ppv)
{
    struct host_malloc_trace *mt = impl_from_IMethodMalloc(This);
    ilg__trace_call tc;
    HRESULT hr = E_NOINTERFACE;
    ilg__trace_begin(&tc, mt->module->host, "IMethodMalloc", "QueryInterface");
    ilg__trace_guid(&tc, "riid", riid);
    if (!ppv) {
        hr = E_POINTER;
    } else if (riid && (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IMethodMalloc))) {
        IMethodMalloc *inner = atomic_load(&mt->inner);
        inner->lpVtbl->AddRef(inner);
        *ppv = This;
        hr = S_OK;
    } else {
        *ppv = NULL;
    }
    ilg__trace_hresult(&tc, hr);
    ilg__trace_end(&tc);
    return hr;
}

/* The count is the arena allocator's: the wrapper lives as long as the module. */
static ULONG malloc_AddRef(IMethodMalloc *This)
{
    IMethodMalloc *inner = atomic_load(&impl_from_IMethodMalloc(This)->inner);
    return inner->lpVtbl->AddRef(inner);
}

static ULONG malloc_Release(IMethodMalloc *This)
{
    IMethodMalloc *inner = atomic_load(&impl_from_IMethodMalloc(This)->inner);
    return inner->lpVtbl->Release(inner);
}

static void *malloc_Alloc(IMethodMalloc *This, ULONG cb)
{
    struct host_malloc_trace *mt = impl_from_IMethodMalloc(This);
    IMethodMalloc *inner = atomic_load(&mt->inner);
    ilg__trace_call tc;
    ilg__trace_begin(&tc, mt->module->host, "IMethodMalloc", "Alloc");
    ilg__trace_dec(&tc, "cb", (long long)cb);
    void *p = inner->lpVtbl->Alloc(inner, cb);
    put(&tc, ") = ");
    put(&tc, p ? "%p" : "NULL", p);
    ilg__trace_end(&tc);
    return p;
}

static const IMethodMallocVtbl malloc_trace_vtbl = {
    malloc_QueryInterface, malloc_AddRef, malloc_Release, malloc_Alloc,
};

void ilg__trace_malloc_init(host_module *m)
{
    m->malloc_trace.module = m;
    m->malloc_trace.IMethodMalloc_iface.lpVtbl = &malloc_trace_vtbl;
}

HRESULT ilg__trace_malloc(host_module *m, IMethodMalloc **out)
{
    struct host_malloc_trace *mt = &m->malloc_trace;
    IMethodMalloc *inner = atomic_load(&mt->inner);
    if (!inner) {
        /* The first caller's reference stays with the wrapper; a thread that loses the
         * race gives its own back. */
        IMethodMalloc *mine = NULL, *none = NULL;
        if (ilg_arena_method_malloc(m->arena, &mine) != ILG_OK)
            return E_OUTOFMEMORY;
        if (!atomic_compare_exchange_strong(&mt->inner, &none, mine))
            mine->lpVtbl->Release(mine);
        inner = atomic_load(&mt->inner);
    }
    inner->lpVtbl->AddRef(inner);
    *out = &mt->IMethodMalloc_iface;
    return S_OK;
}

void ilg__trace_malloc_free(host_module *m)
{
    IMethodMalloc *inner = atomic_load(&m->malloc_trace.inner);
    if (inner)
        inner->lpVtbl->Release(inner);
}
