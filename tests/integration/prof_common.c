/* prof_common.c: the shared profiler skeleton (see prof_common.h). The default
 * callbacks below are one per ICorProfilerCallback3 slot, in slot order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define PROF_EXPORT __attribute__((visibility("default")))

/* {1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}: every test profiler's CLSID. */
static const CLSID CLSID_IlgTestProfiler =
    ILG_GUID_INIT(0x1F6E4A2B, 0x3C5D, 0x4E7F, 0x80, 0x91, 0xA2, 0xB3, 0xC4, 0xD5, 0xE6, 0xF7);

typedef struct prof_object {
    ICorProfilerCallback3 iface;
    ULONG refs;
    ICorProfilerInfo3 *info;
} prof_object;

static FILE *log_file;
static int failures;

static FILE *prof_out(void)
{
    if (!log_file) {
        const char *path = getenv("PROF_LOG");
        log_file = path && *path ? fopen(path, "w") : NULL;
        if (!log_file)
            log_file = stderr;
    }
    return log_file;
}

void prof_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(prof_out(), fmt, ap);
    va_end(ap);
    fputc('\n', prof_out());
    fflush(prof_out());
}

void prof_check(bool cond, const char *fmt, ...)
{
    va_list ap;
    if (cond)
        return;
    failures++;
    fputs("FAIL: ", prof_out());
    va_start(ap, fmt);
    vfprintf(prof_out(), fmt, ap);
    va_end(ap);
    fputc('\n', prof_out());
    fflush(prof_out());
}

void prof_finish(void)
{
    if (failures)
        prof_log("FAIL %d", failures);
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

static prof_object *impl_from_cb(ICorProfilerCallback3 *iface)
{
    return (prof_object *)((char *)iface - offsetof(prof_object, iface));
}

static HRESULT cb_QueryInterface(ICorProfilerCallback3 *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (ilg_guid_equal(riid, &IID_IUnknown) || ilg_guid_equal(riid, &IID_ICorProfilerCallback) ||
        ilg_guid_equal(riid, &IID_ICorProfilerCallback2) ||
        (ilg_guid_equal(riid, &IID_ICorProfilerCallback3) &&
         !(prof_test_hooks.refuse_callback3 && prof_test_hooks.refuse_callback3()))) {
        *ppv = This;
        This->lpVtbl->AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG cb_AddRef(ICorProfilerCallback3 *This)
{
    return ++impl_from_cb(This)->refs;
}

static ULONG cb_Release(ICorProfilerCallback3 *This)
{
    prof_object *p = impl_from_cb(This);
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
    prof_object *p = impl_from_cb(This);
    HRESULT hr = pICorProfilerInfoUnk->lpVtbl->QueryInterface(
        pICorProfilerInfoUnk, &IID_ICorProfilerInfo3, (void **)&p->info);
    prof_check(hr == S_OK, "QueryInterface(ICorProfilerInfo3) returned 0x%08x", (unsigned)hr);
    if (FAILED(hr))
        return hr;
    return prof_test_hooks.initialize ? prof_test_hooks.initialize(p->info) : S_OK;
}

static HRESULT cb_Shutdown(ICorProfilerCallback3 *This)
{
    prof_object *p = impl_from_cb(This);
    HRESULT hr = prof_test_hooks.shutdown ? prof_test_hooks.shutdown(p->info) : S_OK;
    prof_finish();
    return hr;
}

static HRESULT cb_ModuleLoadFinished(ICorProfilerCallback3 *This, ModuleID moduleId,
                                     HRESULT hrStatus)
{
    prof_object *p = impl_from_cb(This);
    return prof_test_hooks.module_load_finished
               ? prof_test_hooks.module_load_finished(p->info, moduleId)
               : S_OK;
}

static HRESULT cb_JITCompilationStarted(ICorProfilerCallback3 *This, FunctionID functionId,
                                        BOOL fIsSafeToBlock)
{
    prof_object *p = impl_from_cb(This);
    return prof_test_hooks.jit_started ? prof_test_hooks.jit_started(p->info, functionId) : S_OK;
}

static HRESULT cb_JITCompilationFinished(ICorProfilerCallback3 *This, FunctionID functionId,
                                         HRESULT hrStatus, BOOL fIsSafeToBlock)
{
    return S_OK;
}

static HRESULT cb_AppDomainCreationStarted(ICorProfilerCallback3 *This, AppDomainID appDomainId)
{
    return S_OK;
}

static HRESULT cb_AppDomainCreationFinished(ICorProfilerCallback3 *This, AppDomainID appDomainId,
                                            HRESULT hrStatus)
{
    return S_OK;
}

static HRESULT cb_AppDomainShutdownStarted(ICorProfilerCallback3 *This, AppDomainID appDomainId)
{
    return S_OK;
}

static HRESULT cb_AppDomainShutdownFinished(ICorProfilerCallback3 *This, AppDomainID appDomainId,
                                            HRESULT hrStatus)
{
    return S_OK;
}

static HRESULT cb_AssemblyLoadStarted(ICorProfilerCallback3 *This, AssemblyID assemblyId)
{
    return S_OK;
}

static HRESULT cb_AssemblyLoadFinished(ICorProfilerCallback3 *This, AssemblyID assemblyId,
                                       HRESULT hrStatus)
{
    return S_OK;
}

static HRESULT cb_AssemblyUnloadStarted(ICorProfilerCallback3 *This, AssemblyID assemblyId)
{
    return S_OK;
}

static HRESULT cb_AssemblyUnloadFinished(ICorProfilerCallback3 *This, AssemblyID assemblyId,
                                         HRESULT hrStatus)
{
    return S_OK;
}

static HRESULT cb_ModuleLoadStarted(ICorProfilerCallback3 *This, ModuleID moduleId)
{
    return S_OK;
}

static HRESULT cb_ModuleUnloadStarted(ICorProfilerCallback3 *This, ModuleID moduleId)
{
    return S_OK;
}

static HRESULT cb_ModuleUnloadFinished(ICorProfilerCallback3 *This, ModuleID moduleId,
                                       HRESULT hrStatus)
{
    return S_OK;
}

static HRESULT cb_ModuleAttachedToAssembly(ICorProfilerCallback3 *This, ModuleID moduleId,
                                           AssemblyID AssemblyId)
{
    return S_OK;
}

static HRESULT cb_ClassLoadStarted(ICorProfilerCallback3 *This, ClassID classId)
{
    return S_OK;
}

static HRESULT cb_ClassLoadFinished(ICorProfilerCallback3 *This, ClassID classId, HRESULT hrStatus)
{
    return S_OK;
}

static HRESULT cb_ClassUnloadStarted(ICorProfilerCallback3 *This, ClassID classId)
{
    return S_OK;
}

static HRESULT cb_ClassUnloadFinished(ICorProfilerCallback3 *This, ClassID classId,
                                      HRESULT hrStatus)
{
    return S_OK;
}

static HRESULT cb_FunctionUnloadStarted(ICorProfilerCallback3 *This, FunctionID functionId)
{
    return S_OK;
}

static HRESULT cb_JITCachedFunctionSearchStarted(ICorProfilerCallback3 *This, FunctionID functionId,
                                                 BOOL *pbUseCachedFunction)
{
    return S_OK;
}

static HRESULT cb_JITCachedFunctionSearchFinished(ICorProfilerCallback3 *This,
                                                  FunctionID functionId, COR_PRF_JIT_CACHE result)
{
    return S_OK;
}

static HRESULT cb_JITFunctionPitched(ICorProfilerCallback3 *This, FunctionID functionId)
{
    return S_OK;
}

static HRESULT cb_JITInlining(ICorProfilerCallback3 *This, FunctionID callerId, FunctionID calleeId,
                              BOOL *pfShouldInline)
{
    return S_OK;
}

static HRESULT cb_ThreadCreated(ICorProfilerCallback3 *This, ThreadID threadId)
{
    return S_OK;
}

static HRESULT cb_ThreadDestroyed(ICorProfilerCallback3 *This, ThreadID threadId)
{
    return S_OK;
}

static HRESULT cb_ThreadAssignedToOSThread(ICorProfilerCallback3 *This, ThreadID managedThreadId,
                                           DWORD osThreadId)
{
    return S_OK;
}

static HRESULT cb_RemotingClientInvocationStarted(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_RemotingClientSendingMessage(ICorProfilerCallback3 *This, GUID *pCookie,
                                               BOOL fIsAsync)
{
    return S_OK;
}

static HRESULT cb_RemotingClientReceivingReply(ICorProfilerCallback3 *This, GUID *pCookie,
                                               BOOL fIsAsync)
{
    return S_OK;
}

static HRESULT cb_RemotingClientInvocationFinished(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_RemotingServerReceivingMessage(ICorProfilerCallback3 *This, GUID *pCookie,
                                                 BOOL fIsAsync)
{
    return S_OK;
}

static HRESULT cb_RemotingServerInvocationStarted(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_RemotingServerInvocationReturned(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_RemotingServerSendingReply(ICorProfilerCallback3 *This, GUID *pCookie,
                                             BOOL fIsAsync)
{
    return S_OK;
}

static HRESULT cb_UnmanagedToManagedTransition(ICorProfilerCallback3 *This, FunctionID functionId,
                                               COR_PRF_TRANSITION_REASON reason)
{
    return S_OK;
}

static HRESULT cb_ManagedToUnmanagedTransition(ICorProfilerCallback3 *This, FunctionID functionId,
                                               COR_PRF_TRANSITION_REASON reason)
{
    return S_OK;
}

static HRESULT cb_RuntimeSuspendStarted(ICorProfilerCallback3 *This,
                                        COR_PRF_SUSPEND_REASON suspendReason)
{
    return S_OK;
}

static HRESULT cb_RuntimeSuspendFinished(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_RuntimeSuspendAborted(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_RuntimeResumeStarted(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_RuntimeResumeFinished(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_RuntimeThreadSuspended(ICorProfilerCallback3 *This, ThreadID threadId)
{
    return S_OK;
}

static HRESULT cb_RuntimeThreadResumed(ICorProfilerCallback3 *This, ThreadID threadId)
{
    return S_OK;
}

static HRESULT cb_MovedReferences(ICorProfilerCallback3 *This, ULONG cMovedObjectIDRanges,
                                  ObjectID oldObjectIDRangeStart[],
                                  ObjectID newObjectIDRangeStart[], ULONG cObjectIDRangeLength[])
{
    return S_OK;
}

static HRESULT cb_ObjectAllocated(ICorProfilerCallback3 *This, ObjectID objectId, ClassID classId)
{
    return S_OK;
}

static HRESULT cb_ObjectsAllocatedByClass(ICorProfilerCallback3 *This, ULONG cClassCount,
                                          ClassID classIds[], ULONG cObjects[])
{
    return S_OK;
}

static HRESULT cb_ObjectReferences(ICorProfilerCallback3 *This, ObjectID objectId, ClassID classId,
                                   ULONG cObjectRefs, ObjectID objectRefIds[])
{
    return S_OK;
}

static HRESULT cb_RootReferences(ICorProfilerCallback3 *This, ULONG cRootRefs,
                                 ObjectID rootRefIds[])
{
    return S_OK;
}

static HRESULT cb_ExceptionThrown(ICorProfilerCallback3 *This, ObjectID thrownObjectId)
{
    return S_OK;
}

static HRESULT cb_ExceptionSearchFunctionEnter(ICorProfilerCallback3 *This, FunctionID functionId)
{
    return S_OK;
}

static HRESULT cb_ExceptionSearchFunctionLeave(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_ExceptionSearchFilterEnter(ICorProfilerCallback3 *This, FunctionID functionId)
{
    return S_OK;
}

static HRESULT cb_ExceptionSearchFilterLeave(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_ExceptionSearchCatcherFound(ICorProfilerCallback3 *This, FunctionID functionId)
{
    return S_OK;
}

static HRESULT cb_ExceptionOSHandlerEnter(ICorProfilerCallback3 *This, UINT_PTR unused)
{
    return S_OK;
}

static HRESULT cb_ExceptionOSHandlerLeave(ICorProfilerCallback3 *This, UINT_PTR unused)
{
    return S_OK;
}

static HRESULT cb_ExceptionUnwindFunctionEnter(ICorProfilerCallback3 *This, FunctionID functionId)
{
    return S_OK;
}

static HRESULT cb_ExceptionUnwindFunctionLeave(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_ExceptionUnwindFinallyEnter(ICorProfilerCallback3 *This, FunctionID functionId)
{
    return S_OK;
}

static HRESULT cb_ExceptionUnwindFinallyLeave(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_ExceptionCatcherEnter(ICorProfilerCallback3 *This, FunctionID functionId,
                                        ObjectID objectId)
{
    return S_OK;
}

static HRESULT cb_ExceptionCatcherLeave(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_COMClassicVTableCreated(ICorProfilerCallback3 *This, ClassID wrappedClassId,
                                          REFGUID implementedIID, void *pVTable, ULONG cSlots)
{
    return S_OK;
}

static HRESULT cb_COMClassicVTableDestroyed(ICorProfilerCallback3 *This, ClassID wrappedClassId,
                                            REFGUID implementedIID, void *pVTable)
{
    return S_OK;
}

static HRESULT cb_ExceptionCLRCatcherFound(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_ExceptionCLRCatcherExecute(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_ThreadNameChanged(ICorProfilerCallback3 *This, ThreadID threadId, ULONG cchName,
                                    WCHAR name[])
{
    return S_OK;
}

static HRESULT cb_GarbageCollectionStarted(ICorProfilerCallback3 *This, int cGenerations,
                                           BOOL generationCollected[], COR_PRF_GC_REASON reason)
{
    return S_OK;
}

static HRESULT cb_SurvivingReferences(ICorProfilerCallback3 *This, ULONG cSurvivingObjectIDRanges,
                                      ObjectID objectIDRangeStart[], ULONG cObjectIDRangeLength[])
{
    return S_OK;
}

static HRESULT cb_GarbageCollectionFinished(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_FinalizeableObjectQueued(ICorProfilerCallback3 *This, DWORD finalizerFlags,
                                           ObjectID objectID)
{
    return S_OK;
}

static HRESULT cb_RootReferences2(ICorProfilerCallback3 *This, ULONG cRootRefs,
                                  ObjectID rootRefIds[], COR_PRF_GC_ROOT_KIND rootKinds[],
                                  COR_PRF_GC_ROOT_FLAGS rootFlags[], UINT_PTR rootIds[])
{
    return S_OK;
}

static HRESULT cb_HandleCreated(ICorProfilerCallback3 *This, GCHandleID handleId,
                                ObjectID initialObjectId)
{
    return S_OK;
}

static HRESULT cb_HandleDestroyed(ICorProfilerCallback3 *This, GCHandleID handleId)
{
    return S_OK;
}

static HRESULT cb_InitializeForAttach(ICorProfilerCallback3 *This, IUnknown *pCorProfilerInfoUnk,
                                      void *pvClientData, UINT cbClientData)
{
    return S_OK;
}

static HRESULT cb_ProfilerAttachComplete(ICorProfilerCallback3 *This)
{
    return S_OK;
}

static HRESULT cb_ProfilerDetachSucceeded(ICorProfilerCallback3 *This)
{
    return S_OK;
}

#define PROF_STUB_SLOTS                                                                           \
    .AppDomainCreationStarted = cb_AppDomainCreationStarted,                                      \
    .AppDomainCreationFinished = cb_AppDomainCreationFinished,                                    \
    .AppDomainShutdownStarted = cb_AppDomainShutdownStarted,                                      \
    .AppDomainShutdownFinished = cb_AppDomainShutdownFinished,                                    \
    .AssemblyLoadStarted = cb_AssemblyLoadStarted,                                                \
    .AssemblyLoadFinished = cb_AssemblyLoadFinished,                                              \
    .AssemblyUnloadStarted = cb_AssemblyUnloadStarted,                                            \
    .AssemblyUnloadFinished = cb_AssemblyUnloadFinished,                                          \
    .ModuleLoadStarted = cb_ModuleLoadStarted, .ModuleUnloadStarted = cb_ModuleUnloadStarted,     \
    .ModuleUnloadFinished = cb_ModuleUnloadFinished,                                              \
    .ModuleAttachedToAssembly = cb_ModuleAttachedToAssembly,                                      \
    .ClassLoadStarted = cb_ClassLoadStarted, .ClassLoadFinished = cb_ClassLoadFinished,           \
    .ClassUnloadStarted = cb_ClassUnloadStarted, .ClassUnloadFinished = cb_ClassUnloadFinished,   \
    .FunctionUnloadStarted = cb_FunctionUnloadStarted,                                            \
    .JITCachedFunctionSearchStarted = cb_JITCachedFunctionSearchStarted,                          \
    .JITCachedFunctionSearchFinished = cb_JITCachedFunctionSearchFinished,                        \
    .JITFunctionPitched = cb_JITFunctionPitched, .JITInlining = cb_JITInlining,                   \
    .ThreadCreated = cb_ThreadCreated, .ThreadDestroyed = cb_ThreadDestroyed,                     \
    .ThreadAssignedToOSThread = cb_ThreadAssignedToOSThread,                                      \
    .RemotingClientInvocationStarted = cb_RemotingClientInvocationStarted,                        \
    .RemotingClientSendingMessage = cb_RemotingClientSendingMessage,                              \
    .RemotingClientReceivingReply = cb_RemotingClientReceivingReply,                              \
    .RemotingClientInvocationFinished = cb_RemotingClientInvocationFinished,                      \
    .RemotingServerReceivingMessage = cb_RemotingServerReceivingMessage,                          \
    .RemotingServerInvocationStarted = cb_RemotingServerInvocationStarted,                        \
    .RemotingServerInvocationReturned = cb_RemotingServerInvocationReturned,                      \
    .RemotingServerSendingReply = cb_RemotingServerSendingReply,                                  \
    .UnmanagedToManagedTransition = cb_UnmanagedToManagedTransition,                              \
    .ManagedToUnmanagedTransition = cb_ManagedToUnmanagedTransition,                              \
    .RuntimeSuspendStarted = cb_RuntimeSuspendStarted,                                            \
    .RuntimeSuspendFinished = cb_RuntimeSuspendFinished,                                          \
    .RuntimeSuspendAborted = cb_RuntimeSuspendAborted,                                            \
    .RuntimeResumeStarted = cb_RuntimeResumeStarted,                                              \
    .RuntimeResumeFinished = cb_RuntimeResumeFinished,                                            \
    .RuntimeThreadSuspended = cb_RuntimeThreadSuspended,                                          \
    .RuntimeThreadResumed = cb_RuntimeThreadResumed, .MovedReferences = cb_MovedReferences,       \
    .ObjectAllocated = cb_ObjectAllocated, .ObjectsAllocatedByClass = cb_ObjectsAllocatedByClass, \
    .ObjectReferences = cb_ObjectReferences, .RootReferences = cb_RootReferences,                 \
    .ExceptionThrown = cb_ExceptionThrown,                                                        \
    .ExceptionSearchFunctionEnter = cb_ExceptionSearchFunctionEnter,                              \
    .ExceptionSearchFunctionLeave = cb_ExceptionSearchFunctionLeave,                              \
    .ExceptionSearchFilterEnter = cb_ExceptionSearchFilterEnter,                                  \
    .ExceptionSearchFilterLeave = cb_ExceptionSearchFilterLeave,                                  \
    .ExceptionSearchCatcherFound = cb_ExceptionSearchCatcherFound,                                \
    .ExceptionOSHandlerEnter = cb_ExceptionOSHandlerEnter,                                        \
    .ExceptionOSHandlerLeave = cb_ExceptionOSHandlerLeave,                                        \
    .ExceptionUnwindFunctionEnter = cb_ExceptionUnwindFunctionEnter,                              \
    .ExceptionUnwindFunctionLeave = cb_ExceptionUnwindFunctionLeave,                              \
    .ExceptionUnwindFinallyEnter = cb_ExceptionUnwindFinallyEnter,                                \
    .ExceptionUnwindFinallyLeave = cb_ExceptionUnwindFinallyLeave,                                \
    .ExceptionCatcherEnter = cb_ExceptionCatcherEnter,                                            \
    .ExceptionCatcherLeave = cb_ExceptionCatcherLeave,                                            \
    .COMClassicVTableCreated = cb_COMClassicVTableCreated,                                        \
    .COMClassicVTableDestroyed = cb_COMClassicVTableDestroyed,                                    \
    .ExceptionCLRCatcherFound = cb_ExceptionCLRCatcherFound,                                      \
    .ExceptionCLRCatcherExecute = cb_ExceptionCLRCatcherExecute,                                  \
    .ThreadNameChanged = cb_ThreadNameChanged,                                                    \
    .GarbageCollectionStarted = cb_GarbageCollectionStarted,                                      \
    .SurvivingReferences = cb_SurvivingReferences,                                                \
    .GarbageCollectionFinished = cb_GarbageCollectionFinished,                                    \
    .FinalizeableObjectQueued = cb_FinalizeableObjectQueued,                                      \
    .RootReferences2 = cb_RootReferences2, .HandleCreated = cb_HandleCreated,                     \
    .HandleDestroyed = cb_HandleDestroyed, .InitializeForAttach = cb_InitializeForAttach,         \
    .ProfilerAttachComplete = cb_ProfilerAttachComplete,                                          \
    .ProfilerDetachSucceeded = cb_ProfilerDetachSucceeded,

static const ICorProfilerCallback3Vtbl cb_vtbl = { .QueryInterface = cb_QueryInterface,
                                                   .AddRef = cb_AddRef,
                                                   .Release = cb_Release,
                                                   .Initialize = cb_Initialize,
                                                   .Shutdown = cb_Shutdown,
                                                   .ModuleLoadFinished = cb_ModuleLoadFinished,
                                                   .JITCompilationStarted =
                                                       cb_JITCompilationStarted,
                                                   .JITCompilationFinished =
                                                       cb_JITCompilationFinished,
                                                   PROF_STUB_SLOTS };

/* ---- class factory ------------------------------------------------------------------ */

static HRESULT cf_QueryInterface(IClassFactory *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (ilg_guid_equal(riid, &IID_IUnknown) || ilg_guid_equal(riid, &IID_IClassFactory)) {
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
    p->iface.lpVtbl = &cb_vtbl;
    p->refs = 1;
    hr = cb_QueryInterface(&p->iface, riid, ppv);
    cb_Release(&p->iface);
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
    if (!ilg_guid_equal(rclsid, &CLSID_IlgTestProfiler))
        return CLASS_E_CLASSNOTAVAILABLE;
    return cf_QueryInterface(&factory, riid, ppv);
}
