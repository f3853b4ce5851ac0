/* corprof_callbacks.h: ICorProfilerCallback1..11 (corprof.idl), the interfaces the
 * runtime calls in a profiler, as slot macros and vtables. Part of the ABI headers: it
 * includes nothing of ilgraft's own API. Include corprof.h, which includes this and
 * checks every slot's offset (corprof_slots.def). */
#ifndef ILGRAFT_CORPROF_CALLBACKS_H
#define ILGRAFT_CORPROF_CALLBACKS_H

#include "ilgraft/cor_md.h"
#include "ilgraft/corprof_types.h"
#include "ilgraft/unknwn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ICorProfilerCallback: what the runtime calls in the profiler ------------------- */
/* Slots 3..71. Return S_OK unless noted; the runtime ignores most results. */
#define ICORPROFILERCALLBACK_SLOTS(T)                                                   \
    HRESULT (*Initialize)(T *This, IUnknown *pICorProfilerInfoUnk);                          \
    HRESULT (*Shutdown)(T *This);                                                            \
    HRESULT (*AppDomainCreationStarted)(T *This, AppDomainID appDomainId);                   \
    HRESULT (*AppDomainCreationFinished)(T *This, AppDomainID appDomainId, HRESULT hrStatus); \
    HRESULT (*AppDomainShutdownStarted)(T *This, AppDomainID appDomainId);                   \
    HRESULT (*AppDomainShutdownFinished)(T *This, AppDomainID appDomainId, HRESULT hrStatus); \
    HRESULT (*AssemblyLoadStarted)(T *This, AssemblyID assemblyId);                          \
    HRESULT (*AssemblyLoadFinished)(T *This, AssemblyID assemblyId, HRESULT hrStatus);       \
    HRESULT (*AssemblyUnloadStarted)(T *This, AssemblyID assemblyId);                        \
    HRESULT (*AssemblyUnloadFinished)(T *This, AssemblyID assemblyId, HRESULT hrStatus);     \
    HRESULT (*ModuleLoadStarted)(T *This, ModuleID moduleId);                                \
    HRESULT (*ModuleLoadFinished)(T *This, ModuleID moduleId, HRESULT hrStatus);             \
    HRESULT (*ModuleUnloadStarted)(T *This, ModuleID moduleId);                              \
    HRESULT (*ModuleUnloadFinished)(T *This, ModuleID moduleId, HRESULT hrStatus);           \
    HRESULT (*ModuleAttachedToAssembly)(T *This, ModuleID moduleId, AssemblyID AssemblyId);  \
    HRESULT (*ClassLoadStarted)(T *This, ClassID classId);                                   \
    HRESULT (*ClassLoadFinished)(T *This, ClassID classId, HRESULT hrStatus);                \
    HRESULT (*ClassUnloadStarted)(T *This, ClassID classId);                                 \
    HRESULT (*ClassUnloadFinished)(T *This, ClassID classId, HRESULT hrStatus);              \
    HRESULT (*FunctionUnloadStarted)(T *This, FunctionID functionId);                        \
    HRESULT (*JITCompilationStarted)(T *This, FunctionID functionId, BOOL fIsSafeToBlock);   \
    HRESULT (*JITCompilationFinished)(T *This, FunctionID functionId, HRESULT hrStatus,      \
                                      BOOL fIsSafeToBlock);                                  \
    HRESULT (*JITCachedFunctionSearchStarted)(T *This, FunctionID functionId,                \
                                              BOOL *pbUseCachedFunction);                    \
    HRESULT (*JITCachedFunctionSearchFinished)(T *This, FunctionID functionId,               \
                                               COR_PRF_JIT_CACHE result);                    \
    HRESULT (*JITFunctionPitched)(T *This, FunctionID functionId);                           \
    HRESULT (*JITInlining)(T *This, FunctionID callerId, FunctionID calleeId,                \
                           BOOL *pfShouldInline);                                            \
    HRESULT (*ThreadCreated)(T *This, ThreadID threadId);                                    \
    HRESULT (*ThreadDestroyed)(T *This, ThreadID threadId);                                  \
    HRESULT (*ThreadAssignedToOSThread)(T *This, ThreadID managedThreadId, DWORD osThreadId); \
    HRESULT (*RemotingClientInvocationStarted)(T *This);                                     \
    HRESULT (*RemotingClientSendingMessage)(T *This, GUID *pCookie, BOOL fIsAsync);          \
    HRESULT (*RemotingClientReceivingReply)(T *This, GUID *pCookie, BOOL fIsAsync);          \
    HRESULT (*RemotingClientInvocationFinished)(T *This);                                    \
    HRESULT (*RemotingServerReceivingMessage)(T *This, GUID *pCookie, BOOL fIsAsync);        \
    HRESULT (*RemotingServerInvocationStarted)(T *This);                                     \
    HRESULT (*RemotingServerInvocationReturned)(T *This);                                    \
    HRESULT (*RemotingServerSendingReply)(T *This, GUID *pCookie, BOOL fIsAsync);            \
    HRESULT (*UnmanagedToManagedTransition)(T *This, FunctionID functionId,                  \
                                            COR_PRF_TRANSITION_REASON reason);               \
    HRESULT (*ManagedToUnmanagedTransition)(T *This, FunctionID functionId,                  \
                                            COR_PRF_TRANSITION_REASON reason);               \
    HRESULT (*RuntimeSuspendStarted)(T *This, COR_PRF_SUSPEND_REASON suspendReason);         \
    HRESULT (*RuntimeSuspendFinished)(T *This);                                              \
    HRESULT (*RuntimeSuspendAborted)(T *This);                                               \
    HRESULT (*RuntimeResumeStarted)(T *This);                                                \
    HRESULT (*RuntimeResumeFinished)(T *This);                                               \
    HRESULT (*RuntimeThreadSuspended)(T *This, ThreadID threadId);                           \
    HRESULT (*RuntimeThreadResumed)(T *This, ThreadID threadId);                             \
    HRESULT (*MovedReferences)(T *This, ULONG cMovedObjectIDRanges,                          \
                               ObjectID oldObjectIDRangeStart[],                             \
                               ObjectID newObjectIDRangeStart[],                             \
                               ULONG cObjectIDRangeLength[]);                                \
    HRESULT (*ObjectAllocated)(T *This, ObjectID objectId, ClassID classId);                 \
    HRESULT (*ObjectsAllocatedByClass)(T *This, ULONG cClassCount, ClassID classIds[],       \
                                       ULONG cObjects[]);                                    \
    HRESULT (*ObjectReferences)(T *This, ObjectID objectId, ClassID classId,                 \
                                ULONG cObjectRefs, ObjectID objectRefIds[]);                 \
    HRESULT (*RootReferences)(T *This, ULONG cRootRefs, ObjectID rootRefIds[]);              \
    HRESULT (*ExceptionThrown)(T *This, ObjectID thrownObjectId);                            \
    HRESULT (*ExceptionSearchFunctionEnter)(T *This, FunctionID functionId);                 \
    HRESULT (*ExceptionSearchFunctionLeave)(T *This);                                        \
    HRESULT (*ExceptionSearchFilterEnter)(T *This, FunctionID functionId);                   \
    HRESULT (*ExceptionSearchFilterLeave)(T *This);                                          \
    HRESULT (*ExceptionSearchCatcherFound)(T *This, FunctionID functionId);                  \
    HRESULT (*ExceptionOSHandlerEnter)(T *This, UINT_PTR unused);                            \
    HRESULT (*ExceptionOSHandlerLeave)(T *This, UINT_PTR unused);                            \
    HRESULT (*ExceptionUnwindFunctionEnter)(T *This, FunctionID functionId);                 \
    HRESULT (*ExceptionUnwindFunctionLeave)(T *This);                                        \
    HRESULT (*ExceptionUnwindFinallyEnter)(T *This, FunctionID functionId);                  \
    HRESULT (*ExceptionUnwindFinallyLeave)(T *This);                                         \
    HRESULT (*ExceptionCatcherEnter)(T *This, FunctionID functionId, ObjectID objectId);     \
    HRESULT (*ExceptionCatcherLeave)(T *This);                                               \
    HRESULT (*COMClassicVTableCreated)(T *This, ClassID wrappedClassId,                      \
                                       REFGUID implementedIID, void *pVTable, ULONG cSlots); \
    HRESULT (*COMClassicVTableDestroyed)(T *This, ClassID wrappedClassId,                    \
                                         REFGUID implementedIID, void *pVTable);             \
    HRESULT (*ExceptionCLRCatcherFound)(T *This);                                            \
    HRESULT (*ExceptionCLRCatcherExecute)(T *This);

/* ICorProfilerCallback2 appends slots 72..79. name in ThreadNameChanged is not
 * NUL-terminated. */
#define ICORPROFILERCALLBACK2_SLOTS(T)                                                  \
    HRESULT (*ThreadNameChanged)(T *This, ThreadID threadId, ULONG cchName, WCHAR name[]);   \
    HRESULT (*GarbageCollectionStarted)(T *This, int cGenerations,                           \
                                        BOOL generationCollected[],                          \
                                        COR_PRF_GC_REASON reason);                           \
    HRESULT (*SurvivingReferences)(T *This, ULONG cSurvivingObjectIDRanges,                  \
                                   ObjectID objectIDRangeStart[],                            \
                                   ULONG cObjectIDRangeLength[]);                            \
    HRESULT (*GarbageCollectionFinished)(T *This);                                           \
    HRESULT (*FinalizeableObjectQueued)(T *This, DWORD finalizerFlags, ObjectID objectID);   \
    HRESULT (*RootReferences2)(T *This, ULONG cRootRefs, ObjectID rootRefIds[],              \
                               COR_PRF_GC_ROOT_KIND rootKinds[],                             \
                               COR_PRF_GC_ROOT_FLAGS rootFlags[], UINT_PTR rootIds[]);       \
    HRESULT (*HandleCreated)(T *This, GCHandleID handleId, ObjectID initialObjectId);        \
    HRESULT (*HandleDestroyed)(T *This, GCHandleID handleId);

/* ICorProfilerCallback3 appends slots 80..82 (attach and detach). */
#define ICORPROFILERCALLBACK3_SLOTS(T)                                                  \
    HRESULT (*InitializeForAttach)(T *This, IUnknown *pCorProfilerInfoUnk,                   \
                                   void *pvClientData, UINT cbClientData);                   \
    HRESULT (*ProfilerAttachComplete)(T *This);                                              \
    HRESULT (*ProfilerDetachSucceeded)(T *This);

/* ICorProfilerCallback4..11 append slots 83..97 (ReJIT, GC, assembly references,
 * symbols, dynamic methods, EventPipe, notification-only loading). The interfaces they
 * pass are declared only as far as the slots need. */
typedef struct ICorProfilerFunctionControl ICorProfilerFunctionControl;
typedef struct ICorProfilerAssemblyReferenceProvider ICorProfilerAssemblyReferenceProvider;
#define ICORPROFILERCALLBACK4_SLOTS(T)                                                  \
    HRESULT (*ReJITCompilationStarted)(T *This, FunctionID functionId, ReJITID rejitId,      \
                                       BOOL fIsSafeToBlock);                                 \
    HRESULT (*GetReJITParameters)(T *This, ModuleID moduleId, mdMethodDef methodId,          \
                                  ICorProfilerFunctionControl *pFunctionControl);            \
    HRESULT (*ReJITCompilationFinished)(T *This, FunctionID functionId, ReJITID rejitId,     \
                                        HRESULT hrStatus, BOOL fIsSafeToBlock);              \
    HRESULT (*ReJITError)(T *This, ModuleID moduleId, mdMethodDef methodId,                  \
                          FunctionID functionId, HRESULT hrStatus);                          \
    HRESULT (*MovedReferences2)(T *This, ULONG cMovedObjectIDRanges,                         \
                                ObjectID oldObjectIDRangeStart[],                            \
                                ObjectID newObjectIDRangeStart[],                            \
                                SIZE_T cObjectIDRangeLength[]);                              \
    HRESULT (*SurvivingReferences2)(T *This, ULONG cSurvivingObjectIDRanges,                 \
                                    ObjectID objectIDRangeStart[],                           \
                                    SIZE_T cObjectIDRangeLength[]);
#define ICORPROFILERCALLBACK5_SLOTS(T)                                                  \
    HRESULT (*ConditionalWeakTableElementReferences)(T *This, ULONG cRootRefs,               \
                                                     ObjectID keyRefIds[],                   \
                                                     ObjectID valueRefIds[],                 \
                                                     GCHandleID rootIds[]);
#define ICORPROFILERCALLBACK6_SLOTS(T)                                                  \
    HRESULT (*GetAssemblyReferences)(T *This, const WCHAR *wszAssemblyPath,                  \
                                     ICorProfilerAssemblyReferenceProvider *pAsmRefProvider);
#define ICORPROFILERCALLBACK7_SLOTS(T)                                                  \
    HRESULT (*ModuleInMemorySymbolsUpdated)(T *This, ModuleID moduleId);
#define ICORPROFILERCALLBACK8_SLOTS(T)                                                  \
    HRESULT (*DynamicMethodJITCompilationStarted)(T *This, FunctionID functionId,            \
                                                  BOOL fIsSafeToBlock, LPCBYTE pILHeader,    \
                                                  ULONG cbILHeader);                         \
    HRESULT (*DynamicMethodJITCompilationFinished)(T *This, FunctionID functionId,           \
                                                   HRESULT hrStatus, BOOL fIsSafeToBlock);
#define ICORPROFILERCALLBACK9_SLOTS(T)                                                  \
    HRESULT (*DynamicMethodUnloaded)(T *This, FunctionID functionId);
#define ICORPROFILERCALLBACK10_SLOTS(T)                                                 \
    HRESULT (*EventPipeEventDelivered)(T *This, EVENTPIPE_PROVIDER provider, DWORD eventId,  \
                                       DWORD eventVersion, ULONG cbMetadataBlob,             \
                                       LPCBYTE metadataBlob, ULONG cbEventData,              \
                                       LPCBYTE eventData, LPCGUID pActivityId,               \
                                       LPCGUID pRelatedActivityId, ThreadID eventThread,     \
                                       ULONG numStackFrames, UINT_PTR stackFrames[]);        \
    HRESULT (*EventPipeProviderCreated)(T *This, EVENTPIPE_PROVIDER provider);
#define ICORPROFILERCALLBACK11_SLOTS(T)                                                 \
    HRESULT (*LoadAsNotificationOnly)(T *This, BOOL *pbNotificationOnly);

typedef struct ICorProfilerCallback ICorProfilerCallback;
typedef struct ICorProfilerCallbackVtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback)
} ICorProfilerCallbackVtbl;
struct ICorProfilerCallback {
    const ICorProfilerCallbackVtbl *lpVtbl;
};

typedef struct ICorProfilerCallback2 ICorProfilerCallback2;
typedef struct ICorProfilerCallback2Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback2)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback2)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback2)
} ICorProfilerCallback2Vtbl;
struct ICorProfilerCallback2 {
    const ICorProfilerCallback2Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback3 ICorProfilerCallback3;
typedef struct ICorProfilerCallback3Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback3)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback3)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback3)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback3)
} ICorProfilerCallback3Vtbl;
struct ICorProfilerCallback3 {
    const ICorProfilerCallback3Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback4 ICorProfilerCallback4;
typedef struct ICorProfilerCallback4Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback4)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback4)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback4)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback4)
    ICORPROFILERCALLBACK4_SLOTS(ICorProfilerCallback4)
} ICorProfilerCallback4Vtbl;
struct ICorProfilerCallback4 {
    const ICorProfilerCallback4Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback5 ICorProfilerCallback5;
typedef struct ICorProfilerCallback5Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback5)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback5)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback5)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback5)
    ICORPROFILERCALLBACK4_SLOTS(ICorProfilerCallback5)
    ICORPROFILERCALLBACK5_SLOTS(ICorProfilerCallback5)
} ICorProfilerCallback5Vtbl;
struct ICorProfilerCallback5 {
    const ICorProfilerCallback5Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback6 ICorProfilerCallback6;
typedef struct ICorProfilerCallback6Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback6)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback6)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback6)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback6)
    ICORPROFILERCALLBACK4_SLOTS(ICorProfilerCallback6)
    ICORPROFILERCALLBACK5_SLOTS(ICorProfilerCallback6)
    ICORPROFILERCALLBACK6_SLOTS(ICorProfilerCallback6)
} ICorProfilerCallback6Vtbl;
struct ICorProfilerCallback6 {
    const ICorProfilerCallback6Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback7 ICorProfilerCallback7;
typedef struct ICorProfilerCallback7Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback7)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback7)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback7)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback7)
    ICORPROFILERCALLBACK4_SLOTS(ICorProfilerCallback7)
    ICORPROFILERCALLBACK5_SLOTS(ICorProfilerCallback7)
    ICORPROFILERCALLBACK6_SLOTS(ICorProfilerCallback7)
    ICORPROFILERCALLBACK7_SLOTS(ICorProfilerCallback7)
} ICorProfilerCallback7Vtbl;
struct ICorProfilerCallback7 {
    const ICorProfilerCallback7Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback8 ICorProfilerCallback8;
typedef struct ICorProfilerCallback8Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback8)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback8)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback8)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback8)
    ICORPROFILERCALLBACK4_SLOTS(ICorProfilerCallback8)
    ICORPROFILERCALLBACK5_SLOTS(ICorProfilerCallback8)
    ICORPROFILERCALLBACK6_SLOTS(ICorProfilerCallback8)
    ICORPROFILERCALLBACK7_SLOTS(ICorProfilerCallback8)
    ICORPROFILERCALLBACK8_SLOTS(ICorProfilerCallback8)
} ICorProfilerCallback8Vtbl;
struct ICorProfilerCallback8 {
    const ICorProfilerCallback8Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback9 ICorProfilerCallback9;
typedef struct ICorProfilerCallback9Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK4_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK5_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK6_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK7_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK8_SLOTS(ICorProfilerCallback9)
    ICORPROFILERCALLBACK9_SLOTS(ICorProfilerCallback9)
} ICorProfilerCallback9Vtbl;
struct ICorProfilerCallback9 {
    const ICorProfilerCallback9Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback10 ICorProfilerCallback10;
typedef struct ICorProfilerCallback10Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK4_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK5_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK6_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK7_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK8_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK9_SLOTS(ICorProfilerCallback10)
    ICORPROFILERCALLBACK10_SLOTS(ICorProfilerCallback10)
} ICorProfilerCallback10Vtbl;
struct ICorProfilerCallback10 {
    const ICorProfilerCallback10Vtbl *lpVtbl;
};

typedef struct ICorProfilerCallback11 ICorProfilerCallback11;
typedef struct ICorProfilerCallback11Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK2_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK3_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK4_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK5_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK6_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK7_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK8_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK9_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK10_SLOTS(ICorProfilerCallback11)
    ICORPROFILERCALLBACK11_SLOTS(ICorProfilerCallback11)
} ICorProfilerCallback11Vtbl;
struct ICorProfilerCallback11 {
    const ICorProfilerCallback11Vtbl *lpVtbl;
};

#ifdef __cplusplus
}
#endif
#endif
