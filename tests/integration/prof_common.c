/* prof_common.c: the shared profiler skeleton (see prof_common.h). The default
 * callbacks below are one per ICorProfilerCallback3 slot, in slot order. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define PROF_EXPORT __attribute__((visibility("default")))

/* {1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}: every test profiler's CLSID. */
static const CLSID CLSID_IlgTestProfiler =
    COM_GUID_INIT(0x1F6E4A2B, 0x3C5D, 0x4E7F, 0x80, 0x91, 0xA2, 0xB3, 0xC4, 0xD5, 0xE6, 0xF7);

typedef struct prof_object {
    ICorProfilerCallback3 ICorProfilerCallback3_iface;
    ULONG refs;
    ICorProfilerInfo3 *info;
} prof_object;

static FILE *log_file;
static atomic_int failures; /* checks may fail on several JIT threads at once */

static void open_log(void)
{
    const char *path = getenv("PROF_LOG");
    log_file = path && *path ? fopen(path, "w") : NULL;
    if (!log_file)
        log_file = stderr;
}

/* Opened once, whichever thread logs first (a profiler's own thread may race a JIT
 * thread to it: ThreadSanitizer saw prof_rejit's). */
static FILE *prof_out(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, open_log);
    return log_file;
}

void prof_log(const char *fmt, ...)
{
    va_list ap;
    FILE *out = prof_out();
    flockfile(out); /* whole lines, whichever thread logs */
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
    funlockfile(out);
}

void prof_check(bool cond, const char *fmt, ...)
{
    va_list ap;
    if (cond)
        return;
    failures++;
    FILE *out = prof_out();
    flockfile(out);
    fputs("FAIL: ", out);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
    funlockfile(out);
}

void prof_finish(void)
{
    if (failures)
        prof_log("FAIL %d", (int)failures);
    else
        prof_log("PASS");
}

uint32_t prof_pe_image_size(const uint8_t *base)
{
    uint32_t lfanew;
    if (base[0] != 'M' || base[1] != 'Z')
        return 0;
    memcpy(&lfanew, base + 0x3C, 4);
    if (lfanew > 0x1000 || memcmp(base + lfanew, "PE\0\0", 4) != 0)
        return 0;
    /* SizeOfImage: optional header offset 56 (PE32 and PE32+ alike). */
    uint32_t size;
    memcpy(&size, base + lfanew + 4 + 20 + 56, 4);
    return size;
}

static prof_object *impl_from_ICorProfilerCallback3(ICorProfilerCallback3 *iface)
{
    return (prof_object *)((char *)iface - offsetof(prof_object, ICorProfilerCallback3_iface));
}

/* Set while CreateInstance asks its own object for the requested interface. */
static bool in_create_instance;

static HRESULT cb_QueryInterface(ICorProfilerCallback3 *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    /* PROF_MODE=nocb2again: Callback2 from CreateInstance, but not when asked again. */
    const char *mode = getenv("PROF_MODE");
    if (!in_create_instance && mode && strcmp(mode, "nocb2again") == 0 &&
        IsEqualGUID(riid, &IID_ICorProfilerCallback2)) {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_ICorProfilerCallback) ||
        IsEqualGUID(riid, &IID_ICorProfilerCallback2) ||
        (IsEqualGUID(riid, &IID_ICorProfilerCallback3) &&
         !(prof_test_hooks.refuse_callback3 && prof_test_hooks.refuse_callback3())) ||
        (IsEqualGUID(riid, &IID_ICorProfilerCallback4) && prof_test_hooks.rejit_parameters)) {
        *ppv = This;
        This->lpVtbl->AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG cb_AddRef(ICorProfilerCallback3 *This)
{
    return ++impl_from_ICorProfilerCallback3(This)->refs;
}

static ULONG cb_Release(ICorProfilerCallback3 *This)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    ULONG left = --p->refs;
    if (!left) {
        if (p->info)
            p->info->lpVtbl->Release(p->info);
        free(p);
    }
    return left;
}

static HRESULT cb_Initialize(ICorProfilerCallback3 *This, IUnknown *pICorProfilerInfoUnk)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    HRESULT hr = pICorProfilerInfoUnk->lpVtbl->QueryInterface(
        pICorProfilerInfoUnk, &IID_ICorProfilerInfo3, (void **)&p->info);
    prof_check(hr == S_OK, "QueryInterface(ICorProfilerInfo3) returned 0x%08x", (unsigned)hr);
    if (FAILED(hr))
        return hr;
    return prof_test_hooks.initialize ? prof_test_hooks.initialize(p->info) : S_OK;
}

static HRESULT cb_Shutdown(ICorProfilerCallback3 *This)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    HRESULT hr = prof_test_hooks.shutdown ? prof_test_hooks.shutdown(p->info) : S_OK;
    prof_finish();
    return hr;
}

static HRESULT cb_ModuleLoadFinished(ICorProfilerCallback3 *This, ModuleID moduleId,
                                     HRESULT hrStatus)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.module_load_finished
               ? prof_test_hooks.module_load_finished(p->info, moduleId)
               : S_OK;
}

static HRESULT cb_JITCompilationStarted(ICorProfilerCallback3 *This, FunctionID functionId,
                                        BOOL fIsSafeToBlock)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.jit_started ? prof_test_hooks.jit_started(p->info, functionId) : S_OK;
}

static HRESULT cb_JITCompilationFinished(ICorProfilerCallback3 *This, FunctionID functionId,
                                         HRESULT hrStatus, BOOL fIsSafeToBlock)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.jit_finished ? prof_test_hooks.jit_finished(p->info, functionId)
                                        : S_OK;
}

/* Thread callbacks go to the hooks (prof_threads checks them). */
static HRESULT cb_ThreadCreated(ICorProfilerCallback3 *This, ThreadID threadId)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.thread_created ? prof_test_hooks.thread_created(p->info, threadId)
                                          : S_OK;
}

static HRESULT cb_ThreadDestroyed(ICorProfilerCallback3 *This, ThreadID threadId)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.thread_destroyed ? prof_test_hooks.thread_destroyed(p->info, threadId)
                                            : S_OK;
}

static HRESULT cb_ThreadAssignedToOSThread(ICorProfilerCallback3 *This, ThreadID managedThreadId,
                                           DWORD osThreadId)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.thread_assigned
               ? prof_test_hooks.thread_assigned(p->info, managedThreadId, osThreadId)
               : S_OK;
}

static HRESULT cb_JITCachedFunctionSearchStarted(ICorProfilerCallback3 *This, FunctionID functionId,
                                                 BOOL *pbUseCachedFunction)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.cache_search_started
               ? prof_test_hooks.cache_search_started(p->info, functionId, pbUseCachedFunction)
               : S_OK;
}

static HRESULT cb_JITCachedFunctionSearchFinished(ICorProfilerCallback3 *This,
                                                  FunctionID functionId, COR_PRF_JIT_CACHE result)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.cache_search_finished
               ? prof_test_hooks.cache_search_finished(p->info, functionId, result)
               : S_OK;
}

/* ICorProfilerCallback4's slots, after Callback3's (the vtable below appends them). */
static HRESULT cb_ReJITCompilationStarted(ICorProfilerCallback3 *This, FunctionID functionId,
                                          ReJITID rejitId, BOOL fIsSafeToBlock)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.rejit_started ? prof_test_hooks.rejit_started(p->info, functionId, rejitId)
                                         : S_OK;
}

static HRESULT cb_GetReJITParameters(ICorProfilerCallback3 *This, ModuleID moduleId,
                                     mdMethodDef methodId, ICorProfilerFunctionControl *control)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.rejit_parameters
               ? prof_test_hooks.rejit_parameters(p->info, moduleId, methodId, control)
               : S_OK;
}

static HRESULT cb_ReJITCompilationFinished(ICorProfilerCallback3 *This, FunctionID functionId,
                                           ReJITID rejitId, HRESULT hrStatus, BOOL fIsSafeToBlock)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.rejit_finished
               ? prof_test_hooks.rejit_finished(p->info, functionId, rejitId, hrStatus)
               : S_OK;
}

static HRESULT cb_ReJITError(ICorProfilerCallback3 *This, ModuleID moduleId, mdMethodDef methodId,
                             FunctionID functionId, HRESULT hrStatus)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.rejit_error
               ? prof_test_hooks.rejit_error(p->info, moduleId, methodId, functionId, hrStatus)
               : S_OK;
}

static HRESULT cb_MovedReferences2(ICorProfilerCallback3 *This, ULONG n, ObjectID from[],
                                   ObjectID to[], SIZE_T len[])
{
    return S_OK;
}

static HRESULT cb_SurvivingReferences2(ICorProfilerCallback3 *This, ULONG n, ObjectID start[],
                                       SIZE_T len[])
{
    return S_OK;
}

static HRESULT cb_JITInlining(ICorProfilerCallback3 *This, FunctionID callerId, FunctionID calleeId,
                              BOOL *pfShouldInline)
{
    prof_object *p = impl_from_ICorProfilerCallback3(This);
    return prof_test_hooks.jit_inlining
               ? prof_test_hooks.jit_inlining(p->info, callerId, calleeId, pfShouldInline)
               : S_OK;
}

#define ILG_CB3_OWN_THREADS
#define ILG_CB3_OWN_INLINING
#define ILG_CB3_OWN_CACHE_SEARCHES
#include "callback_stubs.inc"

/* Callback3's vtable followed by Callback4's six slots (answered for Callback4 only when
 * the profiler has ReJIT hooks). */
static const struct {
    ICorProfilerCallback3Vtbl cb3;
    HRESULT (*ReJITCompilationStarted)(ICorProfilerCallback3 *, FunctionID, ReJITID, BOOL);
    HRESULT (*GetReJITParameters)(ICorProfilerCallback3 *, ModuleID, mdMethodDef,
                                  ICorProfilerFunctionControl *);
    HRESULT (*ReJITCompilationFinished)(ICorProfilerCallback3 *, FunctionID, ReJITID, HRESULT,
                                        BOOL);
    HRESULT (*ReJITError)(ICorProfilerCallback3 *, ModuleID, mdMethodDef, FunctionID, HRESULT);
    HRESULT (*MovedReferences2)(ICorProfilerCallback3 *, ULONG, ObjectID[], ObjectID[], SIZE_T[]);
    HRESULT (*SurvivingReferences2)(ICorProfilerCallback3 *, ULONG, ObjectID[], SIZE_T[]);
} cb4_vtbl = { .cb3 = { .QueryInterface = cb_QueryInterface,
                                                   .AddRef = cb_AddRef,
                                                   .Release = cb_Release,
                                                   .Initialize = cb_Initialize,
                                                   .Shutdown = cb_Shutdown,
                                                   .ModuleLoadFinished = cb_ModuleLoadFinished,
                                                   .JITCompilationStarted =
                                                       cb_JITCompilationStarted,
                                                   .JITCompilationFinished =
                                                       cb_JITCompilationFinished,
                                                   .ThreadCreated = cb_ThreadCreated,
                                                   .ThreadDestroyed = cb_ThreadDestroyed,
                                                   .ThreadAssignedToOSThread =
                                                       cb_ThreadAssignedToOSThread,
                                                   .JITCachedFunctionSearchStarted =
                                                       cb_JITCachedFunctionSearchStarted,
                                                   .JITCachedFunctionSearchFinished =
                                                       cb_JITCachedFunctionSearchFinished,
                                                   .JITInlining = cb_JITInlining,
                                                   ILG_CB3_STUB_SLOTS },
               cb_ReJITCompilationStarted, cb_GetReJITParameters, cb_ReJITCompilationFinished,
               cb_ReJITError, cb_MovedReferences2, cb_SurvivingReferences2 };
_Static_assert(offsetof(ICorProfilerCallback4Vtbl, SurvivingReferences2) ==
                   sizeof cb4_vtbl - sizeof(void *),
               "Callback4's slots follow Callback3's");

/* ---- class factory ------------------------------------------------------------------ */

static HRESULT cf_QueryInterface(IClassFactory *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IClassFactory)) {
        *ppv = This;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

/* The factory is static: counting is not needed. */
static ULONG cf_AddRef(IClassFactory *This)
{
    return 1;
}

static ULONG cf_Release(IClassFactory *This)
{
    return 1;
}

static HRESULT cf_CreateInstance(IClassFactory *This, IUnknown *outer, REFIID riid, void **ppv)
{
    prof_object *p;
    HRESULT hr;
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    /* A factory that cannot make the profiler: the host must say which step failed. */
    const char *mode = getenv("PROF_MODE");
    if (mode && strcmp(mode, "createfail") == 0)
        return E_FAIL;
    p = calloc(1, sizeof *p);
    if (!p)
        return E_OUTOFMEMORY;
    p->ICorProfilerCallback3_iface.lpVtbl = &cb4_vtbl.cb3;
    p->refs = 1;
    in_create_instance = true;
    hr = cb_QueryInterface(&p->ICorProfilerCallback3_iface, riid, ppv);
    in_create_instance = false;
    cb_Release(&p->ICorProfilerCallback3_iface);
    return hr;
}

static HRESULT cf_LockServer(IClassFactory *This, BOOL lock)
{
    return S_OK;
}

static const IClassFactoryVtbl cf_vtbl = {
    cf_QueryInterface, cf_AddRef, cf_Release, cf_CreateInstance, cf_LockServer,
};
static IClassFactory factory = { &cf_vtbl };

PROF_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv);
PROF_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!IsEqualGUID(rclsid, &CLSID_IlgTestProfiler))
        return CLASS_E_CLASSNOTAVAILABLE;
    return cf_QueryInterface(&factory, riid, ppv);
}
