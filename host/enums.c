/* enums.c: the enumerators the host's ICorProfilerInfo hands out (EnumModules,
 * EnumJITedFunctions/2, EnumThreads, EnumModuleFrozenObjects): one object kind holding
 * a snapshot of its elements, with a vtable per interface (they differ only in Next's
 * element type). Each is the caller's reference, freed by its last Release; it holds
 * copies, never pointers into the host's records, so it may outlive a run. Under --trace
 * the Info method's trace wrapper hands it the host (ilg__trace_enum): its calls are then
 * traced too. */
#include <stdlib.h>

#include "host_private.h"
#include "trace.h"

typedef struct host_enum {
    union {
        ICorProfilerObjectEnum object;
        ICorProfilerFunctionEnum function;
        ICorProfilerModuleEnum module;
        ICorProfilerThreadEnum thread;
    } iface;                     /* the one interface it was made for */
    const IID *iid;
    ilg_host *_Atomic trace;     /* under --trace: the host whose log gets its calls */
    _Atomic ULONG refs;
    size_t elem_size;
    ULONG count, pos;
    _Alignas(max_align_t) unsigned char items[];
} host_enum;

static host_enum *enum_from(void *iface)
{
    return (host_enum *)((char *)iface - offsetof(host_enum, iface));
}

/* Its interface's name, for its trace lines. */
static const char *enum_name(const host_enum *e)
{
    return IsEqualGUID(e->iid, &IID_ICorProfilerFunctionEnum) ? "ICorProfilerFunctionEnum"
           : IsEqualGUID(e->iid, &IID_ICorProfilerModuleEnum) ? "ICorProfilerModuleEnum"
           : IsEqualGUID(e->iid, &IID_ICorProfilerThreadEnum) ? "ICorProfilerThreadEnum"
                                                               : "ICorProfilerObjectEnum";
}

/* A traced call's line: the method, one argument (NULL: none), the answer, and count
 * elements from first (each's first word: an ID, or COR_PRF_FUNCTION's FunctionID). */
#define ENUM_TRACE_ITEMS 8
static void enum_trace(host_enum *e, const char *method, const char *arg, ULONG value,
                       HRESULT hr, const void *first, ULONG count)
{
    ilg_host *h = atomic_load(&e->trace);
    if (!h)
        return;
    ilg__trace_call tc;
    ilg__trace_begin(&tc, h, enum_name(e), method);
    if (arg)
        ilg__trace_dec(&tc, arg, (long long)value);
    ilg__trace_hresult(&tc, hr);
    for (ULONG i = 0; SUCCEEDED(hr) && first && i < count && i < ENUM_TRACE_ITEMS; i++) {
        UINT_PTR id;
        memcpy(&id, (const unsigned char *)first + (size_t)i * e->elem_size, sizeof id);
        ilg__trace_id(&tc, NULL, id);
    }
    ilg__trace_end(&tc);
}

void ilg__trace_enum(ilg_host *host, void *iface)
{
    if (iface)
        atomic_store(&enum_from(iface)->trace, host);
}

static HRESULT enum_qi(void *iface, REFIID riid, void **ppv)
{
    host_enum *e = enum_from(iface);
    if (!ppv)
        return E_POINTER;
    if (!riid || (!IsEqualGUID(riid, &IID_IUnknown) && !IsEqualGUID(riid, e->iid))) {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    atomic_fetch_add(&e->refs, 1);
    *ppv = iface;
    return S_OK;
}

static ULONG enum_addref(void *iface)
{
    return atomic_fetch_add(&enum_from(iface)->refs, 1) + 1;
}

static ULONG enum_release(void *iface)
{
    host_enum *e = enum_from(iface);
    ULONG n = ilg__host_unref(&e->refs);
    if (!n)
        free(e);
    return n;
}

/* IEnum's Skip: S_FALSE when fewer than celt remained. */
static HRESULT enum_skip(void *iface, ULONG celt)
{
    host_enum *e = enum_from(iface);
    ULONG left = e->count - e->pos;
    e->pos += celt < left ? celt : left;
    HRESULT hr = celt <= left ? S_OK : S_FALSE;
    enum_trace(e, "Skip", "celt", celt, hr, NULL, 0);
    return hr;
}

static HRESULT enum_reset(void *iface)
{
    enum_from(iface)->pos = 0;
    enum_trace(enum_from(iface), "Reset", NULL, 0, S_OK, NULL, 0);
    return S_OK;
}

static HRESULT enum_count(void *iface, ULONG *pcelt)
{
    host_enum *e = enum_from(iface);
    HRESULT hr = pcelt ? S_OK : E_INVALIDARG;
    if (pcelt)
        *pcelt = e->count;
    enum_trace(e, "GetCount", NULL, 0, hr, NULL, 0);
    return hr;
}

/* Next: S_FALSE when fewer than celt were left (CoreCLR's ProfilerEnum). */
static HRESULT enum_next(void *iface, ULONG celt, void *out, ULONG *fetched)
{
    host_enum *e = enum_from(iface);
    if ((celt && !out) || (celt > 1 && !fetched)) {
        enum_trace(e, "Next", "celt", celt, E_INVALIDARG, NULL, 0);
        return E_INVALIDARG;
    }
    ULONG left = e->count - e->pos, n = celt < left ? celt : left;
    if (n)
        memcpy(out, e->items + (size_t)e->pos * e->elem_size, (size_t)n * e->elem_size);
    e->pos += n;
    if (fetched)
        *fetched = n;
    HRESULT hr = n == celt ? S_OK : S_FALSE;
    enum_trace(e, "Next", "celt", celt, hr, out, n);
    return hr;
}

static host_enum *enum_make(const void *vtbl, const IID *iid, size_t elem_size, const void *items,
                            ULONG count, ULONG pos);

static HRESULT enum_clone(void *iface, void **ppEnum)
{
    host_enum *e = enum_from(iface);
    if (!ppEnum)
        return E_INVALIDARG;
    host_enum *c =
        enum_make(*(const void **)iface, e->iid, e->elem_size, e->items, e->count, e->pos);
    HRESULT hr = c ? S_OK : E_OUTOFMEMORY;
    if (c) {
        atomic_store(&c->trace, atomic_load(&e->trace));
        *ppEnum = &c->iface;
    }
    enum_trace(e, "Clone", NULL, 0, hr, NULL, 0);
    return hr;
}

/* The typed vtable of interface T with element ELEM over the functions above. */
#define HOST_ENUM_VTBL(T, ELEM, name)                                                      \
    static HRESULT name##_qi(T *This, REFIID riid, void **ppv) { return enum_qi(This, riid, ppv); } \
    static ULONG name##_addref(T *This) { return enum_addref(This); }                      \
    static ULONG name##_release(T *This) { return enum_release(This); }                    \
    static HRESULT name##_skip(T *This, ULONG celt) { return enum_skip(This, celt); }       \
    static HRESULT name##_reset(T *This) { return enum_reset(This); }                      \
    static HRESULT name##_clone(T *This, T **pp) { return enum_clone(This, (void **)pp); } \
    static HRESULT name##_count(T *This, ULONG *pcelt) { return enum_count(This, pcelt); } \
    static HRESULT name##_next(T *This, ULONG celt, ELEM items[], ULONG *fetched)          \
    {                                                                                      \
        return enum_next(This, celt, items, fetched);                                      \
    }                                                                                      \
    static const T##Vtbl name##_vtbl = { name##_qi,    name##_addref, name##_release,      \
                                         name##_skip,  name##_reset,  name##_clone,        \
                                         name##_count, name##_next };

HOST_ENUM_VTBL(ICorProfilerObjectEnum, ObjectID, object_enum)
HOST_ENUM_VTBL(ICorProfilerFunctionEnum, COR_PRF_FUNCTION, function_enum)
HOST_ENUM_VTBL(ICorProfilerModuleEnum, ModuleID, module_enum)
HOST_ENUM_VTBL(ICorProfilerThreadEnum, ThreadID, thread_enum)

static host_enum *enum_make(const void *vtbl, const IID *iid, size_t elem_size, const void *items,
                            ULONG count, ULONG pos)
{
    host_enum *e = calloc(1, sizeof *e + (size_t)count * elem_size);
    if (!e)
        return NULL;
    *(const void **)&e->iface = vtbl;
    e->iid = iid;
    atomic_init(&e->refs, 1);
    e->elem_size = elem_size;
    e->count = count;
    e->pos = pos;
    if (count)
        memcpy(e->items, items, (size_t)count * elem_size);
    return e;
}

HRESULT ilg__host_object_enum(const ObjectID *items, ULONG count, ICorProfilerObjectEnum **out)
{
    host_enum *e = enum_make(&object_enum_vtbl, &IID_ICorProfilerObjectEnum, sizeof *items, items,
                             count, 0);
    if (!e)
        return E_OUTOFMEMORY;
    *out = &e->iface.object;
    return S_OK;
}

HRESULT ilg__host_function_enum(const COR_PRF_FUNCTION *items, ULONG count,
                                ICorProfilerFunctionEnum **out)
{
    host_enum *e = enum_make(&function_enum_vtbl, &IID_ICorProfilerFunctionEnum, sizeof *items,
                             items, count, 0);
    if (!e)
        return E_OUTOFMEMORY;
    *out = &e->iface.function;
    return S_OK;
}

HRESULT ilg__host_module_enum(const ModuleID *items, ULONG count, ICorProfilerModuleEnum **out)
{
    host_enum *e = enum_make(&module_enum_vtbl, &IID_ICorProfilerModuleEnum, sizeof *items, items,
                             count, 0);
    if (!e)
        return E_OUTOFMEMORY;
    *out = &e->iface.module;
    return S_OK;
}

HRESULT ilg__host_thread_enum(const ThreadID *items, ULONG count, ICorProfilerThreadEnum **out)
{
    host_enum *e = enum_make(&thread_enum_vtbl, &IID_ICorProfilerThreadEnum, sizeof *items, items,
                             count, 0);
    if (!e)
        return E_OUTOFMEMORY;
    *out = &e->iface.thread;
    return S_OK;
}
