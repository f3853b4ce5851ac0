/* abi_probe.c: a minimal CLR profiler, written against ilgraft/corprof.h alone (no
 * ilgraft library), that proves the header against a real CoreCLR. It implements
 * ICorProfilerCallback3 (every slot), and the calls it makes through ICorProfilerInfo3
 * and IMetaDataImport cross-check each other: a function id from a callback must map
 * back to the method whose IL the runtime compiles, the first address of its code must
 * map back to the same function id, a thrown object's class must be FormatException,
 * GC root kinds must be root kinds, and so on. A slot that slipped would make the
 * runtime call the wrong function with the wrong arguments, or answer a call with
 * something else's result; either shows up as a failed check, garbage or a crash.
 *
 * Environment:
 *   ILG_ABI_PROBE_LOG      log file (one line per event; default stderr)
 *   ILG_ABI_PROBE_REWRITE  "1": give Hello.Program::Answer a new IL body that returns
 *                          42 instead of 41 (GetILFunctionBodyAllocator + SetILFunctionBody)
 *   ILG_ABI_PROBE_TRANSITIONS  "0": leave COR_PRF_MONITOR_CODE_TRANSITIONS off. That flag
 *                          makes the runtime refuse ReadyToRun code (it is part of
 *                          COR_PRF_REQUIRE_PROFILE_IMAGE), so with it every method is
 *                          JIT-compiled; without it precompiled code is used and the
 *                          JITCachedFunctionSearch* callbacks fire instead.
 *   ILG_ABI_PROBE_MAX_CALLBACK  "1" or "2": answer QueryInterface only up to that
 *                          ICorProfilerCallback version (to watch the runtime refuse it);
 *                          "4".."11": up to that version, with the vtable of
 *                          abi_callback11.c (LoadAsNotificationOnly logged)
 *   ILG_ABI_PROBE_NOTIFICATION_ONLY  "1": LoadAsNotificationOnly answers TRUE
 *   ILG_ABI_PROBE_CONFORM  "1": also make the conformance calls (abi_conform.c) and log
 *                          their answers as CONF lines, to compare a runtime with the host
 *   ILG_ABI_PROBE_HIGH     a hexadecimal COR_PRF_HIGH_MONITOR mask set with SetEventMask2
 *                          in Initialize (0x8: COR_PRF_HIGH_DISABLE_TIERED_COMPILATION,
 *                          as New Relic's profiler sets it)
 *   ILG_ABI_PROBE_NOOPT    "1": add COR_PRF_DISABLE_OPTIMIZATIONS to the event mask
 *
 * The parts, one file per area, share abi_probe.h; this file is the COM object
 * (IUnknown, the callback vtable), the class factory and DllGetClassObject.
 *
 * The log's last line is "PASS" when every call returned what it should and every
 * expected event came, else "FAIL <n>" after the lines starting with "FAIL:". */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_probe.h"

#define PROBE_EXPORT __attribute__((visibility("default")))

/* {7C0C5F1E-5A4B-4E55-9C3A-1F2B3C4D5E6F}: the probe's CLSID (CORECLR_PROFILER). */
static const CLSID CLSID_IlgAbiProbe =
    COM_GUID_INIT(0x7C0C5F1E, 0x5A4B, 0x4E55, 0x9C, 0x3A, 0x1F, 0x2B, 0x3C, 0x4D, 0x5E, 0x6F);

/* Set while CreateInstance runs, to tell its own QueryInterface from the runtime's. */
static _Thread_local bool in_create_instance;

/* ---- IUnknown ------------------------------------------------------------------------ */

static const struct {
    const IID *iid;
    const char *name;
} known_iids[] = {
    { &IID_IUnknown, "IUnknown" },
    { &IID_ICorProfilerCallback, "ICorProfilerCallback" },
    { &IID_ICorProfilerCallback2, "ICorProfilerCallback2" },
    { &IID_ICorProfilerCallback3, "ICorProfilerCallback3" },
    { &IID_ICorProfilerCallback4, "ICorProfilerCallback4" },
    { &IID_ICorProfilerCallback5, "ICorProfilerCallback5" },
    { &IID_ICorProfilerCallback6, "ICorProfilerCallback6" },
    { &IID_ICorProfilerCallback7, "ICorProfilerCallback7" },
    { &IID_ICorProfilerCallback8, "ICorProfilerCallback8" },
    { &IID_ICorProfilerCallback9, "ICorProfilerCallback9" },
    { &IID_ICorProfilerCallback10, "ICorProfilerCallback10" },
    { &IID_ICorProfilerCallback11, "ICorProfilerCallback11" },
    { &IID_IClassFactory, "IClassFactory" },
};

static const char *iid_name(REFIID riid)
{
    for (size_t i = 0; i < sizeof known_iids / sizeof known_iids[0]; i++)
        if (IsEqualGUID(riid, known_iids[i].iid))
            return known_iids[i].name;
    return "?";
}

/* ICorProfilerCallback4..max (max up to 11; abi_callback11.c extends the vtable). */
static bool newer_callback(REFIID riid, int max)
{
    static const IID *const newer[] = { &IID_ICorProfilerCallback4, &IID_ICorProfilerCallback5,
                                        &IID_ICorProfilerCallback6, &IID_ICorProfilerCallback7,
                                        &IID_ICorProfilerCallback8, &IID_ICorProfilerCallback9,
                                        &IID_ICorProfilerCallback10,
                                        &IID_ICorProfilerCallback11 };
    enum { FIRST_NEWER = 4 };
    for (int v = FIRST_NEWER; v <= max && v - FIRST_NEWER < (int)(sizeof newer / sizeof newer[0]);
         v++)
        if (IsEqualGUID(riid, newer[v - FIRST_NEWER]))
            return true;
    return false;
}

static HRESULT cb_QueryInterface(ICorProfilerCallback3 *iface, REFIID riid, void **ppv)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    char g[GUID_TEXT_SIZE];
    HRESULT hr = E_NOINTERFACE;
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_ICorProfilerCallback) ||
        (IsEqualGUID(riid, &IID_ICorProfilerCallback2) && p->max_callback >= 2) ||
        (IsEqualGUID(riid, &IID_ICorProfilerCallback3) && p->max_callback >= 3) ||
        newer_callback(riid, p->max_callback)) {
        *ppv = iface;
        iface->lpVtbl->AddRef(iface);
        hr = S_OK;
    }
    probe_log("CallbackQI iid=%s name=%s hr=0x%08X from=%s", probe_guid_text(riid, g),
              iid_name(riid), (unsigned)hr, in_create_instance ? "CreateInstance" : "runtime");
    return hr;
}

static ULONG cb_AddRef(ICorProfilerCallback3 *iface)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    return atomic_fetch_add(&p->refs, 1) + 1;
}

static ULONG cb_Release(ICorProfilerCallback3 *iface)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ULONG left = atomic_fetch_sub(&p->refs, 1) - 1;
    if (left == 0) {
        probe_log("Release: last reference (failures %u)", p->failures);
        if (p->info)
            p->info->lpVtbl->Release(p->info);
        if (p->info15)
            p->info15->lpVtbl->Release(p->info15);
        pthread_mutex_destroy(&p->lock);
        free(p);
    }
    return left;
}

/* Designated initializers: each function lands in the member of that NAME, wherever the
 * header puts it, so the runtime's calls test the header's slot order. */
static const ICorProfilerCallback3Vtbl probe_vtbl = {
    .QueryInterface = cb_QueryInterface,
    .AddRef = cb_AddRef,
    .Release = cb_Release,
    .Initialize = cb_Initialize,
    .Shutdown = cb_Shutdown,
    .AppDomainCreationStarted = cb_AppDomainCreationStarted,
    .AppDomainCreationFinished = cb_AppDomainCreationFinished,
    .AppDomainShutdownStarted = cb_AppDomainShutdownStarted,
    .AppDomainShutdownFinished = cb_AppDomainShutdownFinished,
    .AssemblyLoadStarted = cb_AssemblyLoadStarted,
    .AssemblyLoadFinished = cb_AssemblyLoadFinished,
    .AssemblyUnloadStarted = cb_AssemblyUnloadStarted,
    .AssemblyUnloadFinished = cb_AssemblyUnloadFinished,
    .ModuleLoadStarted = cb_ModuleLoadStarted,
    .ModuleLoadFinished = cb_ModuleLoadFinished,
    .ModuleUnloadStarted = cb_ModuleUnloadStarted,
    .ModuleUnloadFinished = cb_ModuleUnloadFinished,
    .ModuleAttachedToAssembly = cb_ModuleAttachedToAssembly,
    .ClassLoadStarted = cb_ClassLoadStarted,
    .ClassLoadFinished = cb_ClassLoadFinished,
    .ClassUnloadStarted = cb_ClassUnloadStarted,
    .ClassUnloadFinished = cb_ClassUnloadFinished,
    .FunctionUnloadStarted = cb_FunctionUnloadStarted,
    .JITCompilationStarted = cb_JITCompilationStarted,
    .JITCompilationFinished = cb_JITCompilationFinished,
    .JITCachedFunctionSearchStarted = cb_JITCachedFunctionSearchStarted,
    .JITCachedFunctionSearchFinished = cb_JITCachedFunctionSearchFinished,
    .JITFunctionPitched = cb_JITFunctionPitched,
    .JITInlining = cb_JITInlining,
    .ThreadCreated = cb_ThreadCreated,
    .ThreadDestroyed = cb_ThreadDestroyed,
    .ThreadAssignedToOSThread = cb_ThreadAssignedToOSThread,
    .RemotingClientInvocationStarted = cb_RemotingClientInvocationStarted,
    .RemotingClientSendingMessage = cb_RemotingClientSendingMessage,
    .RemotingClientReceivingReply = cb_RemotingClientReceivingReply,
    .RemotingClientInvocationFinished = cb_RemotingClientInvocationFinished,
    .RemotingServerReceivingMessage = cb_RemotingServerReceivingMessage,
    .RemotingServerInvocationStarted = cb_RemotingServerInvocationStarted,
    .RemotingServerInvocationReturned = cb_RemotingServerInvocationReturned,
    .RemotingServerSendingReply = cb_RemotingServerSendingReply,
    .UnmanagedToManagedTransition = cb_UnmanagedToManagedTransition,
    .ManagedToUnmanagedTransition = cb_ManagedToUnmanagedTransition,
    .RuntimeSuspendStarted = cb_RuntimeSuspendStarted,
    .RuntimeSuspendFinished = cb_RuntimeSuspendFinished,
    .RuntimeSuspendAborted = cb_RuntimeSuspendAborted,
    .RuntimeResumeStarted = cb_RuntimeResumeStarted,
    .RuntimeResumeFinished = cb_RuntimeResumeFinished,
    .RuntimeThreadSuspended = cb_RuntimeThreadSuspended,
    .RuntimeThreadResumed = cb_RuntimeThreadResumed,
    .MovedReferences = cb_MovedReferences,
    .ObjectAllocated = cb_ObjectAllocated,
    .ObjectsAllocatedByClass = cb_ObjectsAllocatedByClass,
    .ObjectReferences = cb_ObjectReferences,
    .RootReferences = cb_RootReferences,
    .ExceptionThrown = cb_ExceptionThrown,
    .ExceptionSearchFunctionEnter = cb_ExceptionSearchFunctionEnter,
    .ExceptionSearchFunctionLeave = cb_ExceptionSearchFunctionLeave,
    .ExceptionSearchFilterEnter = cb_ExceptionSearchFilterEnter,
    .ExceptionSearchFilterLeave = cb_ExceptionSearchFilterLeave,
    .ExceptionSearchCatcherFound = cb_ExceptionSearchCatcherFound,
    .ExceptionOSHandlerEnter = cb_ExceptionOSHandlerEnter,
    .ExceptionOSHandlerLeave = cb_ExceptionOSHandlerLeave,
    .ExceptionUnwindFunctionEnter = cb_ExceptionUnwindFunctionEnter,
    .ExceptionUnwindFunctionLeave = cb_ExceptionUnwindFunctionLeave,
    .ExceptionUnwindFinallyEnter = cb_ExceptionUnwindFinallyEnter,
    .ExceptionUnwindFinallyLeave = cb_ExceptionUnwindFinallyLeave,
    .ExceptionCatcherEnter = cb_ExceptionCatcherEnter,
    .ExceptionCatcherLeave = cb_ExceptionCatcherLeave,
    .COMClassicVTableCreated = cb_COMClassicVTableCreated,
    .COMClassicVTableDestroyed = cb_COMClassicVTableDestroyed,
    .ExceptionCLRCatcherFound = cb_ExceptionCLRCatcherFound,
    .ExceptionCLRCatcherExecute = cb_ExceptionCLRCatcherExecute,
    .ThreadNameChanged = cb_ThreadNameChanged,
    .GarbageCollectionStarted = cb_GarbageCollectionStarted,
    .SurvivingReferences = cb_SurvivingReferences,
    .GarbageCollectionFinished = cb_GarbageCollectionFinished,
    .FinalizeableObjectQueued = cb_FinalizeableObjectQueued,
    .RootReferences2 = cb_RootReferences2,
    .HandleCreated = cb_HandleCreated,
    .HandleDestroyed = cb_HandleDestroyed,
    .InitializeForAttach = cb_InitializeForAttach,
    .ProfilerAttachComplete = cb_ProfilerAttachComplete,
    .ProfilerDetachSucceeded = cb_ProfilerDetachSucceeded,
};

/* ---- the class factory and the entry point ------------------------------------------- */

static atomic_uint factory_refs;

static HRESULT cf_QueryInterface(IClassFactory *iface, REFIID riid, void **ppv)
{
    char g[GUID_TEXT_SIZE];
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    HRESULT hr = E_NOINTERFACE;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IClassFactory)) {
        *ppv = iface;
        iface->lpVtbl->AddRef(iface);
        hr = S_OK;
    }
    probe_log("FactoryQI iid=%s name=%s hr=0x%08X", probe_guid_text(riid, g), iid_name(riid),
              (unsigned)hr);
    return hr;
}

/* The factory is a static object; its count only says who still holds it. */
static ULONG cf_AddRef(IClassFactory *iface)
{
    return atomic_fetch_add(&factory_refs, 1) + 1;
}

static ULONG cf_Release(IClassFactory *iface)
{
    return atomic_fetch_sub(&factory_refs, 1) - 1;
}

static HRESULT cf_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid, void **ppv)
{
    char g[GUID_TEXT_SIZE];
    probe_log("CreateInstance outer=%p iid=%s name=%s", (void *)outer, probe_guid_text(riid, g),
              iid_name(riid));
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    probe *p = calloc(1, sizeof *p);
    if (!p)
        return E_OUTOFMEMORY;
    p->ICorProfilerCallback3_iface.lpVtbl = &probe_vtbl;
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->lock, NULL);
    const char *rw = getenv("ILG_ABI_PROBE_REWRITE");
    p->rewrite = rw && strcmp(rw, "1") == 0;
    const char *tr = getenv("ILG_ABI_PROBE_TRANSITIONS");
    p->transitions = !(tr && strcmp(tr, "0") == 0);
    const char *maxcb = getenv("ILG_ABI_PROBE_MAX_CALLBACK");
    p->max_callback = maxcb && *maxcb ? atoi(maxcb) : 3;
    const char *high = getenv("ILG_ABI_PROBE_HIGH");
    p->high = high && *high ? (DWORD)strtoul(high, NULL, 16) : 0;
    const char *noopt = getenv("ILG_ABI_PROBE_NOOPT");
    p->noopt = noopt && strcmp(noopt, "1") == 0;
    if (p->max_callback >= 4)
        p->ICorProfilerCallback3_iface.lpVtbl = probe_vtbl_through_11(&probe_vtbl);
    ICorProfilerCallback3 *cb = &p->ICorProfilerCallback3_iface;
    in_create_instance = true;
    HRESULT hr = cb->lpVtbl->QueryInterface(cb, riid, ppv);
    in_create_instance = false;
    cb->lpVtbl->Release(cb);   /* the QI reference (if any) keeps it alive */
    return hr;
}

static HRESULT cf_LockServer(IClassFactory *iface, BOOL lock)
{
    probe_log("LockServer lock=%d", (int)lock);
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    .QueryInterface = cf_QueryInterface,
    .AddRef = cf_AddRef,
    .Release = cf_Release,
    .CreateInstance = cf_CreateInstance,
    .LockServer = cf_LockServer,
};
static IClassFactory factory = { &factory_vtbl };

PROBE_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv);
PROBE_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv)
{
    char c[GUID_TEXT_SIZE], i[GUID_TEXT_SIZE];
    probe_log("DllGetClassObject clsid=%s iid=%s name=%s", probe_guid_text(rclsid, c),
              probe_guid_text(riid, i), iid_name(riid));
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!IsEqualGUID(rclsid, &CLSID_IlgAbiProbe))
        return CLASS_E_CLASSNOTAVAILABLE;
    /* Every slot filled (a designated initializer that missed one leaves NULL). */
    void *const *slots = (void *const *)&probe_vtbl;
    for (size_t k = 0; k < sizeof probe_vtbl / sizeof(void *); k++)
        if (!slots[k]) {
            probe_log("FAIL: callback vtable slot %zu is empty", k);
            return E_UNEXPECTED;
        }
    return factory.lpVtbl->QueryInterface(&factory, riid, ppv);
}
