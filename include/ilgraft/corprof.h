/* ilgraft/corprof.h: the CLR profiling ABI in plain C, the way MIDL's C output lays
 * out COM (an object is a struct whose first member, lpVtbl, points to a table of
 * function pointers; every method takes the object first). A profiler written against
 * this header alone loads into a real CoreCLR and into ilgraft's harness host alike.
 *
 * What is here (facts from the runtime's corprof.idl, cor.h and corerror.h):
 *   - IClassFactory and the DllGetClassObject entry point type;
 *   - ICorProfilerCallback, 2 and 3: every slot (a profiler implements Callback3);
 *   - ICorProfilerInfo through ICorProfilerInfo15: every slot;
 *   - the enumerators they hand out (object, function, module, thread, method);
 *   - the IIDs of Callback4..11 (constants only), so a profiler can answer them;
 *   - the COR_PRF_* event-mask and misc constants, the structs and hook function types
 *     the signatures use, and the CORPROF_E_* / COR_E_* HRESULTs;
 *   - IMethodMalloc (the allocator GetILFunctionBodyAllocator hands out);
 *   - IMetaDataImport and IMetaDataImport2 (cor_md.h), IHostMalloc and
 *     IHostMemoryManager (mscoree.h), IUnknown and GUIDs (unknwn.h).
 * An ABI header: it and the headers it includes declare nothing of ilgraft's own API
 * (tests/unit/abi_alone.sh checks the preprocessed text for ilg_ and ILG_ names).
 * The names are the runtime's own (ICorProfilerInfo3Vtbl, IID_ICorProfilerInfo3,
 * COR_PRF_MONITOR_JIT_COMPILATION ...): profiler authors expect them, so they are the
 * exception to ilgraft's ilg_ prefix.
 *
 * Every slot of every vtable declared here and in the headers above is numbered in
 * corprof_slots.def; the end of this file turns that list into _Static_asserts on
 * offsetof(Vtbl, Method), so a slot that slips fails the build.
 *
 * Linux x64 ABI: STDMETHODCALLTYPE is empty (the platform's C calling convention);
 * the *ID types are pointer-sized; mdToken, ULONG, DWORD are 32-bit unsigned;
 * HRESULT and BOOL 32-bit signed; WCHAR is UTF-16; enums are 32-bit.
 *
 * Lifetime rules are COM's: an interface pointer returned through an out-parameter is a
 * new reference the caller Releases; pointers into the runtime's data (IL bodies, names,
 * signatures) stay valid as long as the module they belong to. */
#ifndef ILGRAFT_CORPROF_H
#define ILGRAFT_CORPROF_H

#include "ilgraft/cor_md.h"
#include "ilgraft/corprof_callbacks.h"
#include "ilgraft/corprof_types.h"
#include "ilgraft/mscoree.h"
#include "ilgraft/unknwn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- HRESULTs (corerror.h: FACILITY_URT = 0x13; winerror.h) ------------------------- */

#ifndef E_UNEXPECTED
#define E_UNEXPECTED                ((HRESULT)0x8000FFFF)
#endif
#define CLASS_E_NOAGGREGATION       ((HRESULT)0x80040110)
#define CLASS_E_CLASSNOTAVAILABLE   ((HRESULT)0x80040111)

#define CORPROF_E_FUNCTION_NOT_COMPILED              ((HRESULT)0x80131350)
#define CORPROF_E_DATAINCOMPLETE                     ((HRESULT)0x80131351)
#define CORPROF_E_FUNCTION_NOT_IL                    ((HRESULT)0x80131354)
#define CORPROF_E_NOT_MANAGED_THREAD                 ((HRESULT)0x80131355)
#define CORPROF_E_CALL_ONLY_FROM_INIT                ((HRESULT)0x80131356)
#define CORPROF_E_NOT_YET_AVAILABLE                  ((HRESULT)0x8013135B)
#define CORPROF_E_TYPE_IS_PARAMETERIZED              ((HRESULT)0x8013135C)
#define CORPROF_E_FUNCTION_IS_PARAMETERIZED          ((HRESULT)0x8013135D)
#define CORPROF_E_STACKSNAPSHOT_INVALID_TGT_THREAD   ((HRESULT)0x8013135E)
#define CORPROF_E_STACKSNAPSHOT_UNMANAGED_CTX        ((HRESULT)0x8013135F)
#define CORPROF_E_STACKSNAPSHOT_UNSAFE               ((HRESULT)0x80131360)
#define CORPROF_E_STACKSNAPSHOT_ABORTED              ((HRESULT)0x80131361)
#define CORPROF_E_LITERALS_HAVE_NO_ADDRESS           ((HRESULT)0x80131362)
#define CORPROF_E_UNSUPPORTED_CALL_SEQUENCE          ((HRESULT)0x80131363)
#define CORPROF_E_ASYNCHRONOUS_UNSAFE                ((HRESULT)0x80131364)
#define CORPROF_E_CLASSID_IS_ARRAY                   ((HRESULT)0x80131365)
#define CORPROF_E_CLASSID_IS_COMPOSITE               ((HRESULT)0x80131366)
#define CORPROF_E_PROFILER_DETACHING                 ((HRESULT)0x80131367)
#define CORPROF_E_PROFILER_NOT_ATTACHABLE            ((HRESULT)0x80131368)
#define CORPROF_E_UNRECOGNIZED_PIPE_MSG_FORMAT       ((HRESULT)0x80131369)
#define CORPROF_E_PROFILER_ALREADY_ACTIVE            ((HRESULT)0x8013136A)
#define CORPROF_E_PROFILEE_INCOMPATIBLE_WITH_TRIGGER ((HRESULT)0x8013136B)
#define CORPROF_E_IPC_FAILED                         ((HRESULT)0x8013136C)
#define CORPROF_E_PROFILEE_PROCESS_NOT_FOUND         ((HRESULT)0x8013136D)
#define CORPROF_E_CALLBACK3_REQUIRED                 ((HRESULT)0x8013136E)
#define CORPROF_E_UNSUPPORTED_FOR_ATTACHING_PROFILER ((HRESULT)0x8013136F)
#define CORPROF_E_IRREVERSIBLE_INSTRUMENTATION_PRESENT ((HRESULT)0x80131370)
#define CORPROF_E_RUNTIME_UNINITIALIZED              ((HRESULT)0x80131371)
#define CORPROF_E_IMMUTABLE_FLAGS_SET                ((HRESULT)0x80131372)
#define CORPROF_E_PROFILER_NOT_YET_INITIALIZED       ((HRESULT)0x80131373)
#define CORPROF_E_INCONSISTENT_WITH_FLAGS            ((HRESULT)0x80131374)
#define CORPROF_E_PROFILER_CANCEL_ACTIVATION         ((HRESULT)0x80131375)
#define CORPROF_E_CONCURRENT_GC_NOT_PROFILABLE       ((HRESULT)0x80131376)
#define CORPROF_E_DEBUGGING_DISABLED                 ((HRESULT)0x80131378)
#define CORPROF_E_TIMEOUT_WAITING_FOR_CONCURRENT_GC  ((HRESULT)0x80131379)
#define CORPROF_E_MODULE_IS_DYNAMIC                  ((HRESULT)0x8013137A)
#define CORPROF_E_CALLBACK4_REQUIRED                 ((HRESULT)0x8013137B)
#define CORPROF_E_REJIT_NOT_ENABLED                  ((HRESULT)0x8013137C)
#define CORPROF_E_FUNCTION_IS_COLLECTIBLE            ((HRESULT)0x8013137E)
#define CORPROF_E_CALLBACK6_REQUIRED                 ((HRESULT)0x80131380)
#define CORPROF_E_CALLBACK7_REQUIRED                 ((HRESULT)0x80131382)
#define CORPROF_E_REJIT_INLINING_DISABLED            ((HRESULT)0x80131383)
#define CORPROF_E_SUSPENSION_IN_PROGRESS             ((HRESULT)0x80131388)
#define CORPROF_E_NOT_GC_OBJECT                      ((HRESULT)0x80131389)

/* What a rewritten body can turn into when the JIT or the loader rejects it. */
#define COR_E_EXECUTIONENGINE       ((HRESULT)0x80131506)
#define COR_E_MISSINGMETHOD         ((HRESULT)0x80131513)
#define COR_E_TYPELOAD              ((HRESULT)0x80131522)
#define COR_E_INVALIDPROGRAM        ((HRESULT)0x8013153A)
#define COR_E_BADIMAGEFORMAT        ((HRESULT)0x8007000B)

/* ---- IClassFactory and the profiler library's entry point ------------------------- */

typedef struct IClassFactory IClassFactory;
typedef struct IClassFactoryVtbl {
    COM_IUNKNOWN_SLOTS(IClassFactory)
    HRESULT (*CreateInstance)(IClassFactory *This, IUnknown *pUnkOuter, REFIID riid,
                              void **ppvObject);
    HRESULT (*LockServer)(IClassFactory *This, BOOL fLock);
} IClassFactoryVtbl;
struct IClassFactory {
    const IClassFactoryVtbl *lpVtbl;
};

/* 00000001-0000-0000-C000-000000000046 */
static const IID IID_IClassFactory =
    COM_GUID_INIT(0x00000001, 0x0000, 0x0000, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46);

/* A profiler library exports `DllGetClassObject` with this type. The runtime calls it
 * with the CLSID from CORECLR_PROFILER and IID_IClassFactory, then CreateInstance. */
typedef HRESULT (*LPFNGETCLASSOBJECT)(REFCLSID rclsid, REFIID riid, void **ppv);

/* ---- IMethodMalloc: a module's allocator for new IL bodies ------------------------ */

typedef struct IMethodMalloc IMethodMalloc;
typedef struct IMethodMallocVtbl {
    HRESULT (*QueryInterface)(IMethodMalloc *This, REFIID riid, void **ppvObject);
    ULONG (*AddRef)(IMethodMalloc *This);
    ULONG (*Release)(IMethodMalloc *This);
    /* Slot 3. cb bytes at a positive offset from the module base (a valid RVA once
     * subtracted), or NULL. */
    void *(*Alloc)(IMethodMalloc *This, ULONG cb);
} IMethodMallocVtbl;
struct IMethodMalloc {
    const IMethodMallocVtbl *lpVtbl;
};

/* A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8 */
static const IID IID_IMethodMalloc =
    COM_GUID_INIT(0xA0EFB28B, 0x6EE2, 0x4D7B, 0xB9, 0x83, 0xA7, 0x5E, 0xF7, 0xBE, 0xED, 0xB8);

/* ---- ICorProfilerInfo: what the profiler calls in the runtime ----------------------- */
/* Slots 3..35. */
#define ICORPROFILERINFO_SLOTS(T)                                                       \
    HRESULT (*GetClassFromObject)(T *This, ObjectID objectId, ClassID *pClassId);            \
    HRESULT (*GetClassFromToken)(T *This, ModuleID moduleId, mdTypeDef typeDef,              \
                                 ClassID *pClassId);                                         \
    HRESULT (*GetCodeInfo)(T *This, FunctionID functionId, LPCBYTE *pStart, ULONG *pcSize);  \
    HRESULT (*GetEventMask)(T *This, DWORD *pdwEvents);                                      \
    HRESULT (*GetFunctionFromIP)(T *This, LPCBYTE ip, FunctionID *pFunctionId);              \
    HRESULT (*GetFunctionFromToken)(T *This, ModuleID moduleId, mdToken token,               \
                                    FunctionID *pFunctionId);                                \
    HRESULT (*GetHandleFromThread)(T *This, ThreadID threadId, HANDLE *phThread);            \
    HRESULT (*GetObjectSize)(T *This, ObjectID objectId, ULONG *pcSize);                     \
    HRESULT (*IsArrayClass)(T *This, ClassID classId, CorElementType *pBaseElemType,         \
                            ClassID *pBaseClassId, ULONG *pcRank);                           \
    HRESULT (*GetThreadInfo)(T *This, ThreadID threadId, DWORD *pdwWin32ThreadId);           \
    HRESULT (*GetCurrentThreadID)(T *This, ThreadID *pThreadId);                             \
    HRESULT (*GetClassIDInfo)(T *This, ClassID classId, ModuleID *pModuleId,                 \
                              mdTypeDef *pTypeDefToken);                                     \
    HRESULT (*GetFunctionInfo)(T *This, FunctionID functionId, ClassID *pClassId,            \
                               ModuleID *pModuleId, mdToken *pToken);                        \
    HRESULT (*SetEventMask)(T *This, DWORD dwEvents);                                        \
    HRESULT (*SetEnterLeaveFunctionHooks)(T *This, FunctionEnter *pFuncEnter,                \
                                          FunctionLeave *pFuncLeave,                         \
                                          FunctionTailcall *pFuncTailcall);                  \
    HRESULT (*SetFunctionIDMapper)(T *This, FunctionIDMapper *pFunc);                        \
    HRESULT (*GetTokenAndMetaDataFromFunction)(T *This, FunctionID functionId, REFIID riid,  \
                                               IUnknown **ppImport, mdToken *pToken);        \
    HRESULT (*GetModuleInfo)(T *This, ModuleID moduleId, LPCBYTE *ppBaseLoadAddress,         \
                             ULONG cchName, ULONG *pcchName, WCHAR szName[],                 \
                             AssemblyID *pAssemblyId);                                       \
    HRESULT (*GetModuleMetaData)(T *This, ModuleID moduleId, DWORD dwOpenFlags, REFIID riid, \
                                 IUnknown **ppOut);                                          \
    HRESULT (*GetILFunctionBody)(T *This, ModuleID moduleId, mdMethodDef methodId,           \
                                 LPCBYTE *ppMethodHeader, ULONG *pcbMethodSize);             \
    HRESULT (*GetILFunctionBodyAllocator)(T *This, ModuleID moduleId,                        \
                                          IMethodMalloc **ppMalloc);                         \
    HRESULT (*SetILFunctionBody)(T *This, ModuleID moduleId, mdMethodDef methodid,           \
                                 LPCBYTE pbNewILMethodHeader);                               \
    HRESULT (*GetAppDomainInfo)(T *This, AppDomainID appDomainId, ULONG cchName,             \
                                ULONG *pcchName, WCHAR szName[], ProcessID *pProcessId);     \
    HRESULT (*GetAssemblyInfo)(T *This, AssemblyID assemblyId, ULONG cchName,                \
                               ULONG *pcchName, WCHAR szName[], AppDomainID *pAppDomainId,   \
                               ModuleID *pModuleId);                                         \
    HRESULT (*SetFunctionReJIT)(T *This, FunctionID functionId);                             \
    HRESULT (*ForceGC)(T *This);                                                             \
    HRESULT (*SetILInstrumentedCodeMap)(T *This, FunctionID functionId, BOOL fStartJit,      \
                                        ULONG cILMapEntries, COR_IL_MAP rgILMapEntries[]);   \
    HRESULT (*GetInprocInspectionInterface)(T *This, IUnknown **ppicd);                      \
    HRESULT (*GetInprocInspectionIThisThread)(T *This, IUnknown **ppicd);                    \
    HRESULT (*GetThreadContext)(T *This, ThreadID threadId, ContextID *pContextId);          \
    HRESULT (*BeginInprocDebugging)(T *This, BOOL fThisThreadOnly, DWORD *pdwProfilerContext); \
    HRESULT (*EndInprocDebugging)(T *This, DWORD dwProfilerContext);                         \
    HRESULT (*GetILToNativeMapping)(T *This, FunctionID functionId, ULONG32 cMap,            \
                                    ULONG32 *pcMap, COR_DEBUG_IL_TO_NATIVE_MAP map[]);

/* ICorProfilerInfo2 appends slots 36..56. */
#define ICORPROFILERINFO2_SLOTS(T)                                                      \
    HRESULT (*DoStackSnapshot)(T *This, ThreadID thread, StackSnapshotCallback *callback,    \
                               ULONG32 infoFlags, void *clientData, BYTE context[],          \
                               ULONG32 contextSize);                                         \
    HRESULT (*SetEnterLeaveFunctionHooks2)(T *This, FunctionEnter2 *pFuncEnter,              \
                                           FunctionLeave2 *pFuncLeave,                       \
                                           FunctionTailcall2 *pFuncTailcall);                \
    HRESULT (*GetFunctionInfo2)(T *This, FunctionID funcId, COR_PRF_FRAME_INFO frameInfo,    \
                                ClassID *pClassId, ModuleID *pModuleId, mdToken *pToken,     \
                                ULONG32 cTypeArgs, ULONG32 *pcTypeArgs, ClassID typeArgs[]); \
    HRESULT (*GetStringLayout)(T *This, ULONG *pBufferLengthOffset,                          \
                               ULONG *pStringLengthOffset, ULONG *pBufferOffset);            \
    HRESULT (*GetClassLayout)(T *This, ClassID classID, COR_FIELD_OFFSET rFieldOffset[],     \
                              ULONG cFieldOffset, ULONG *pcFieldOffset,                      \
                              ULONG *pulClassSize);                                          \
    HRESULT (*GetClassIDInfo2)(T *This, ClassID classId, ModuleID *pModuleId,                \
                               mdTypeDef *pTypeDefToken, ClassID *pParentClassId,            \
                               ULONG32 cNumTypeArgs, ULONG32 *pcNumTypeArgs,                 \
                               ClassID typeArgs[]);                                          \
    HRESULT (*GetCodeInfo2)(T *This, FunctionID functionID, ULONG32 cCodeInfos,              \
                            ULONG32 *pcCodeInfos, COR_PRF_CODE_INFO codeInfos[]);            \
    HRESULT (*GetClassFromTokenAndTypeArgs)(T *This, ModuleID moduleID, mdTypeDef typeDef,  \
                                            ULONG32 cTypeArgs, ClassID typeArgs[],           \
                                            ClassID *pClassID);                              \
    HRESULT (*GetFunctionFromTokenAndTypeArgs)(T *This, ModuleID moduleID,                   \
                                               mdMethodDef funcDef, ClassID classId,         \
                                               ULONG32 cTypeArgs, ClassID typeArgs[],        \
                                               FunctionID *pFunctionID);                     \
    HRESULT (*EnumModuleFrozenObjects)(T *This, ModuleID moduleID,                           \
                                       ICorProfilerObjectEnum **ppEnum);                     \
    HRESULT (*GetArrayObjectInfo)(T *This, ObjectID objectId, ULONG32 cDimensions,           \
                                  ULONG32 pDimensionSizes[], int pDimensionLowerBounds[],    \
                                  BYTE **ppData);                                            \
    HRESULT (*GetBoxClassLayout)(T *This, ClassID classId, ULONG32 *pBufferOffset);          \
    HRESULT (*GetThreadAppDomain)(T *This, ThreadID threadId, AppDomainID *pAppDomainId);    \
    HRESULT (*GetRVAStaticAddress)(T *This, ClassID classId, mdFieldDef fieldToken,          \
                                   void **ppAddress);                                        \
    HRESULT (*GetAppDomainStaticAddress)(T *This, ClassID classId, mdFieldDef fieldToken,    \
                                         AppDomainID appDomainId, void **ppAddress);         \
    HRESULT (*GetThreadStaticAddress)(T *This, ClassID classId, mdFieldDef fieldToken,       \
                                      ThreadID threadId, void **ppAddress);                  \
    HRESULT (*GetContextStaticAddress)(T *This, ClassID classId, mdFieldDef fieldToken,      \
                                       ContextID contextId, void **ppAddress);               \
    HRESULT (*GetStaticFieldInfo)(T *This, ClassID classId, mdFieldDef fieldToken,           \
                                  COR_PRF_STATIC_TYPE *pFieldInfo);                          \
    HRESULT (*GetGenerationBounds)(T *This, ULONG cObjectRanges, ULONG *pcObjectRanges,      \
                                   COR_PRF_GC_GENERATION_RANGE ranges[]);                    \
    HRESULT (*GetObjectGeneration)(T *This, ObjectID objectId,                               \
                                   COR_PRF_GC_GENERATION_RANGE *range);                      \
    HRESULT (*GetNotifiedExceptionClauseInfo)(T *This, COR_PRF_EX_CLAUSE_INFO *pinfo);

/* ICorProfilerInfo3 appends slots 57..70. */
#define ICORPROFILERINFO3_SLOTS(T)                                                      \
    HRESULT (*EnumJITedFunctions)(T *This, ICorProfilerFunctionEnum **ppEnum);               \
    HRESULT (*RequestProfilerDetach)(T *This, DWORD dwExpectedCompletionMilliseconds);       \
    HRESULT (*SetFunctionIDMapper2)(T *This, FunctionIDMapper2 *pFunc, void *clientData);    \
    HRESULT (*GetStringLayout2)(T *This, ULONG *pStringLengthOffset, ULONG *pBufferOffset);  \
    HRESULT (*SetEnterLeaveFunctionHooks3)(T *This, FunctionEnter3 *pFuncEnter3,             \
                                           FunctionLeave3 *pFuncLeave3,                      \
                                           FunctionTailcall3 *pFuncTailcall3);               \
    HRESULT (*SetEnterLeaveFunctionHooks3WithInfo)(                                          \
        T *This, FunctionEnter3WithInfo *pFuncEnter3WithInfo,                                \
        FunctionLeave3WithInfo *pFuncLeave3WithInfo,                                         \
        FunctionTailcall3WithInfo *pFuncTailcall3WithInfo);                                  \
    HRESULT (*GetFunctionEnter3Info)(T *This, FunctionID functionId, COR_PRF_ELT_INFO eltInfo, \
                                     COR_PRF_FRAME_INFO *pFrameInfo, ULONG *pcbArgumentInfo, \
                                     COR_PRF_FUNCTION_ARGUMENT_INFO *pArgumentInfo);         \
    HRESULT (*GetFunctionLeave3Info)(T *This, FunctionID functionId, COR_PRF_ELT_INFO eltInfo, \
                                     COR_PRF_FRAME_INFO *pFrameInfo,                         \
                                     COR_PRF_FUNCTION_ARGUMENT_RANGE *pRetvalRange);         \
    HRESULT (*GetFunctionTailcall3Info)(T *This, FunctionID functionId,                      \
                                        COR_PRF_ELT_INFO eltInfo,                            \
                                        COR_PRF_FRAME_INFO *pFrameInfo);                     \
    HRESULT (*EnumModules)(T *This, ICorProfilerModuleEnum **ppEnum);                        \
    HRESULT (*GetRuntimeInformation)(T *This, USHORT *pClrInstanceId,                        \
                                     COR_PRF_RUNTIME_TYPE *pRuntimeType,                     \
                                     USHORT *pMajorVersion, USHORT *pMinorVersion,           \
                                     USHORT *pBuildNumber, USHORT *pQFEVersion,              \
                                     ULONG cchVersionString, ULONG *pcchVersionString,       \
                                     WCHAR szVersionString[]);                               \
    HRESULT (*GetThreadStaticAddress2)(T *This, ClassID classId, mdFieldDef fieldToken,      \
                                       AppDomainID appDomainId, ThreadID threadId,           \
                                       void **ppAddress);                                    \
    HRESULT (*GetAppDomainsContainingModule)(T *This, ModuleID moduleId,                     \
                                             ULONG32 cAppDomainIds, ULONG32 *pcAppDomainIds, \
                                             AppDomainID appDomainIds[]);                    \
    HRESULT (*GetModuleInfo2)(T *This, ModuleID moduleId, LPCBYTE *ppBaseLoadAddress,        \
                              ULONG cchName, ULONG *pcchName, WCHAR szName[],                \
                              AssemblyID *pAssemblyId, DWORD *pdwModuleFlags);

/* ICorProfilerInfo4 appends slots 71..80. */
#define ICORPROFILERINFO4_SLOTS(T)                                                      \
    HRESULT (*EnumThreads)(T *This, ICorProfilerThreadEnum **ppEnum);                        \
    HRESULT (*InitializeCurrentThread)(T *This);                                             \
    HRESULT (*RequestReJIT)(T *This, ULONG cFunctions, ModuleID moduleIds[],                 \
                            mdMethodDef methodIds[]);                                        \
    HRESULT (*RequestRevert)(T *This, ULONG cFunctions, ModuleID moduleIds[],                \
                             mdMethodDef methodIds[], HRESULT status[]);                     \
    HRESULT (*GetCodeInfo3)(T *This, FunctionID functionID, ReJITID reJitId,                 \
                            ULONG32 cCodeInfos, ULONG32 *pcCodeInfos,                        \
                            COR_PRF_CODE_INFO codeInfos[]);                                  \
    HRESULT (*GetFunctionFromIP2)(T *This, LPCBYTE ip, FunctionID *pFunctionId,              \
                                  ReJITID *pReJitId);                                        \
    HRESULT (*GetReJITIDs)(T *This, FunctionID functionId, ULONG cReJitIds,                  \
                           ULONG *pcReJitIds, ReJITID reJitIds[]);                           \
    HRESULT (*GetILToNativeMapping2)(T *This, FunctionID functionId, ReJITID reJitId,        \
                                     ULONG32 cMap, ULONG32 *pcMap,                           \
                                     COR_DEBUG_IL_TO_NATIVE_MAP map[]);                      \
    HRESULT (*EnumJITedFunctions2)(T *This, ICorProfilerFunctionEnum **ppEnum);              \
    HRESULT (*GetObjectSize2)(T *This, ObjectID objectId, SIZE_T *pcSize);

/* ICorProfilerInfo5 appends slots 81..82: the high half of the event mask. */
#define ICORPROFILERINFO5_SLOTS(T)                                                      \
    HRESULT (*GetEventMask2)(T *This, DWORD *pdwEventsLow, DWORD *pdwEventsHigh);            \
    HRESULT (*SetEventMask2)(T *This, DWORD dwEventsLow, DWORD dwEventsHigh);

/* ICorProfilerInfo6 appends slot 83. */
#define ICORPROFILERINFO6_SLOTS(T)                                                      \
    HRESULT (*EnumNgenModuleMethodsInliningThisMethod)(                                      \
        T *This, ModuleID inlinersModuleId, ModuleID inlineeModuleId,                        \
        mdMethodDef inlineeMethodId, BOOL *incompleteData, ICorProfilerMethodEnum **ppEnum);

/* ICorProfilerInfo7 appends slots 84..86. */
#define ICORPROFILERINFO7_SLOTS(T)                                                      \
    HRESULT (*ApplyMetaData)(T *This, ModuleID moduleId);                                    \
    HRESULT (*GetInMemorySymbolsLength)(T *This, ModuleID moduleId,                          \
                                        DWORD *pCountSymbolBytes);                           \
    HRESULT (*ReadInMemorySymbols)(T *This, ModuleID moduleId, DWORD symbolsReadOffset,      \
                                   BYTE *pSymbolBytes, DWORD countSymbolBytes,               \
                                   DWORD *pCountSymbolBytesRead);

/* ICorProfilerInfo8 appends slots 87..89. */
#define ICORPROFILERINFO8_SLOTS(T)                                                      \
    HRESULT (*IsFunctionDynamic)(T *This, FunctionID functionId, BOOL *isDynamic);           \
    HRESULT (*GetFunctionFromIP3)(T *This, LPCBYTE ip, FunctionID *functionId,               \
                                  ReJITID *pReJitId);                                        \
    HRESULT (*GetDynamicFunctionInfo)(T *This, FunctionID functionId, ModuleID *moduleId,    \
                                      PCCOR_SIGNATURE *ppvSig, ULONG *pbSig, ULONG cchName,  \
                                      ULONG *pcchName, WCHAR wszName[]);

/* ICorProfilerInfo9 appends slots 90..92. */
#define ICORPROFILERINFO9_SLOTS(T)                                                      \
    HRESULT (*GetNativeCodeStartAddresses)(T *This, FunctionID functionID, ReJITID reJitId,  \
                                           ULONG32 cCodeStartAddresses,                      \
                                           ULONG32 *pcCodeStartAddresses,                    \
                                           UINT_PTR codeStartAddresses[]);                   \
    HRESULT (*GetILToNativeMapping3)(T *This, UINT_PTR pNativeCodeStartAddress,              \
                                     ULONG32 cMap, ULONG32 *pcMap,                           \
                                     COR_DEBUG_IL_TO_NATIVE_MAP map[]);                      \
    HRESULT (*GetCodeInfo4)(T *This, UINT_PTR pNativeCodeStartAddress, ULONG32 cCodeInfos,   \
                            ULONG32 *pcCodeInfos, COR_PRF_CODE_INFO codeInfos[]);

/* ICorProfilerInfo10 appends slots 93..98. */
#define ICORPROFILERINFO10_SLOTS(T)                                                     \
    HRESULT (*EnumerateObjectReferences)(T *This, ObjectID objectId,                         \
                                         ObjectReferenceCallback *callback,                  \
                                         void *clientData);                                  \
    HRESULT (*IsFrozenObject)(T *This, ObjectID objectId, BOOL *pbFrozen);                   \
    HRESULT (*GetLOHObjectSizeThreshold)(T *This, DWORD *pThreshold);                        \
    HRESULT (*RequestReJITWithInliners)(T *This, DWORD dwRejitFlags, ULONG cFunctions,       \
                                        ModuleID moduleIds[], mdMethodDef methodIds[]);      \
    HRESULT (*SuspendRuntime)(T *This);                                                      \
    HRESULT (*ResumeRuntime)(T *This);

/* ICorProfilerInfo11 appends slots 99..100. */
#define ICORPROFILERINFO11_SLOTS(T)                                                     \
    HRESULT (*GetEnvironmentVariable)(T *This, const WCHAR *szName, ULONG cchValue,          \
                                      ULONG *pcchValue, WCHAR szValue[]);                    \
    HRESULT (*SetEnvironmentVariable)(T *This, const WCHAR *szName, const WCHAR *szValue);

/* ICorProfilerInfo12 appends slots 101..107 (EventPipe). */
#define ICORPROFILERINFO12_SLOTS(T)                                                     \
    HRESULT (*EventPipeStartSession)(T *This, UINT32 cProviderConfigs,                       \
                                     COR_PRF_EVENTPIPE_PROVIDER_CONFIG pProviderConfigs[],   \
                                     BOOL requestRundown, EVENTPIPE_SESSION *pSession);      \
    HRESULT (*EventPipeAddProviderToSession)(T *This, EVENTPIPE_SESSION session,             \
                                             COR_PRF_EVENTPIPE_PROVIDER_CONFIG providerConfig); \
    HRESULT (*EventPipeStopSession)(T *This, EVENTPIPE_SESSION session);                     \
    HRESULT (*EventPipeCreateProvider)(T *This, const WCHAR *providerName,                   \
                                       EVENTPIPE_PROVIDER *pProvider);                       \
    HRESULT (*EventPipeGetProviderInfo)(T *This, EVENTPIPE_PROVIDER provider, ULONG cchName, \
                                        ULONG *pcchName, WCHAR providerName[]);              \
    HRESULT (*EventPipeDefineEvent)(T *This, EVENTPIPE_PROVIDER provider,                    \
                                    const WCHAR *eventName, UINT32 eventID, UINT64 keywords, \
                                    UINT32 eventVersion, UINT32 level, UINT8 opcode,         \
                                    BOOL needStack, UINT32 cParamDescs,                      \
                                    COR_PRF_EVENTPIPE_PARAM_DESC pParamDescs[],              \
                                    EVENTPIPE_EVENT *pEvent);                                \
    HRESULT (*EventPipeWriteEvent)(T *This, EVENTPIPE_EVENT event, UINT32 cData,             \
                                   COR_PRF_EVENT_DATA data[], LPCGUID pActivityId,           \
                                   LPCGUID pRelatedActivityId);

/* ICorProfilerInfo13 appends slots 108..110. */
#define ICORPROFILERINFO13_SLOTS(T)                                                     \
    HRESULT (*CreateHandle)(T *This, ObjectID object, COR_PRF_HANDLE_TYPE type,              \
                            ObjectHandleID *pHandle);                                        \
    HRESULT (*DestroyHandle)(T *This, ObjectHandleID handle);                                \
    HRESULT (*GetObjectIDFromHandle)(T *This, ObjectHandleID handle, ObjectID *pObject);

/* ICorProfilerInfo14 appends slots 111..113. */
#define ICORPROFILERINFO14_SLOTS(T)                                                     \
    HRESULT (*EnumerateNonGCObjects)(T *This, ICorProfilerObjectEnum **ppEnum);              \
    HRESULT (*GetNonGCHeapBounds)(T *This, ULONG cObjectRanges, ULONG *pcObjectRanges,       \
                                  COR_PRF_NONGC_HEAP_RANGE ranges[]);                        \
    HRESULT (*EventPipeCreateProvider2)(T *This, const WCHAR *providerName,                  \
                                        EventPipeProviderCallback *pCallback,                \
                                        EVENTPIPE_PROVIDER *pProvider);

/* ICorProfilerInfo15 appends slot 114. */
#define ICORPROFILERINFO15_SLOTS(T)                                                     \
    HRESULT (*EnumerateGCHeapObjects)(T *This, ObjectCallback callback, void *callbackState);

typedef struct ICorProfilerInfo ICorProfilerInfo;
typedef struct ICorProfilerInfoVtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo)
} ICorProfilerInfoVtbl;
struct ICorProfilerInfo {
    const ICorProfilerInfoVtbl *lpVtbl;
};

typedef struct ICorProfilerInfo2 ICorProfilerInfo2;
typedef struct ICorProfilerInfo2Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo2)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo2)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo2)
} ICorProfilerInfo2Vtbl;
struct ICorProfilerInfo2 {
    const ICorProfilerInfo2Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo3 ICorProfilerInfo3;
typedef struct ICorProfilerInfo3Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo3)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo3)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo3)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo3)
} ICorProfilerInfo3Vtbl;
struct ICorProfilerInfo3 {
    const ICorProfilerInfo3Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo4 ICorProfilerInfo4;
typedef struct ICorProfilerInfo4Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo4)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo4)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo4)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo4)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo4)
} ICorProfilerInfo4Vtbl;
struct ICorProfilerInfo4 {
    const ICorProfilerInfo4Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo5 ICorProfilerInfo5;
typedef struct ICorProfilerInfo5Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo5)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo5)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo5)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo5)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo5)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo5)
} ICorProfilerInfo5Vtbl;
struct ICorProfilerInfo5 {
    const ICorProfilerInfo5Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo6 ICorProfilerInfo6;
typedef struct ICorProfilerInfo6Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo6)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo6)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo6)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo6)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo6)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo6)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo6)
} ICorProfilerInfo6Vtbl;
struct ICorProfilerInfo6 {
    const ICorProfilerInfo6Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo7 ICorProfilerInfo7;
typedef struct ICorProfilerInfo7Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo7)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo7)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo7)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo7)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo7)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo7)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo7)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo7)
} ICorProfilerInfo7Vtbl;
struct ICorProfilerInfo7 {
    const ICorProfilerInfo7Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo8 ICorProfilerInfo8;
typedef struct ICorProfilerInfo8Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo8)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo8)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo8)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo8)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo8)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo8)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo8)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo8)
    ICORPROFILERINFO8_SLOTS(ICorProfilerInfo8)
} ICorProfilerInfo8Vtbl;
struct ICorProfilerInfo8 {
    const ICorProfilerInfo8Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo9 ICorProfilerInfo9;
typedef struct ICorProfilerInfo9Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO8_SLOTS(ICorProfilerInfo9)
    ICORPROFILERINFO9_SLOTS(ICorProfilerInfo9)
} ICorProfilerInfo9Vtbl;
struct ICorProfilerInfo9 {
    const ICorProfilerInfo9Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo10 ICorProfilerInfo10;
typedef struct ICorProfilerInfo10Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO8_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO9_SLOTS(ICorProfilerInfo10)
    ICORPROFILERINFO10_SLOTS(ICorProfilerInfo10)
} ICorProfilerInfo10Vtbl;
struct ICorProfilerInfo10 {
    const ICorProfilerInfo10Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo11 ICorProfilerInfo11;
typedef struct ICorProfilerInfo11Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO8_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO9_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO10_SLOTS(ICorProfilerInfo11)
    ICORPROFILERINFO11_SLOTS(ICorProfilerInfo11)
} ICorProfilerInfo11Vtbl;
struct ICorProfilerInfo11 {
    const ICorProfilerInfo11Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo12 ICorProfilerInfo12;
typedef struct ICorProfilerInfo12Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO8_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO9_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO10_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO11_SLOTS(ICorProfilerInfo12)
    ICORPROFILERINFO12_SLOTS(ICorProfilerInfo12)
} ICorProfilerInfo12Vtbl;
struct ICorProfilerInfo12 {
    const ICorProfilerInfo12Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo13 ICorProfilerInfo13;
typedef struct ICorProfilerInfo13Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO8_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO9_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO10_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO11_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO12_SLOTS(ICorProfilerInfo13)
    ICORPROFILERINFO13_SLOTS(ICorProfilerInfo13)
} ICorProfilerInfo13Vtbl;
struct ICorProfilerInfo13 {
    const ICorProfilerInfo13Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo14 ICorProfilerInfo14;
typedef struct ICorProfilerInfo14Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO8_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO9_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO10_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO11_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO12_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO13_SLOTS(ICorProfilerInfo14)
    ICORPROFILERINFO14_SLOTS(ICorProfilerInfo14)
} ICorProfilerInfo14Vtbl;
struct ICorProfilerInfo14 {
    const ICorProfilerInfo14Vtbl *lpVtbl;
};

typedef struct ICorProfilerInfo15 ICorProfilerInfo15;
typedef struct ICorProfilerInfo15Vtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO2_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO3_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO4_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO5_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO6_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO7_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO8_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO9_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO10_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO11_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO12_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO13_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO14_SLOTS(ICorProfilerInfo15)
    ICORPROFILERINFO15_SLOTS(ICorProfilerInfo15)
} ICorProfilerInfo15Vtbl;
struct ICorProfilerInfo15 {
    const ICorProfilerInfo15Vtbl *lpVtbl;
};

/* ---- IIDs --------------------------------------------------------------------------- */

/* 176FBED1-A55C-4796-98CA-A9DA0EF883E7 */
static const IID IID_ICorProfilerCallback =
    COM_GUID_INIT(0x176FBED1, 0xA55C, 0x4796, 0x98, 0xCA, 0xA9, 0xDA, 0x0E, 0xF8, 0x83, 0xE7);
/* 8A8CC829-CCF2-49FE-BBAE-0F022228071A */
static const IID IID_ICorProfilerCallback2 =
    COM_GUID_INIT(0x8A8CC829, 0xCCF2, 0x49FE, 0xBB, 0xAE, 0x0F, 0x02, 0x22, 0x28, 0x07, 0x1A);
/* 4FD2ED52-7731-4B8D-9469-03D2CC3086C5 */
static const IID IID_ICorProfilerCallback3 =
    COM_GUID_INIT(0x4FD2ED52, 0x7731, 0x4B8D, 0x94, 0x69, 0x03, 0xD2, 0xCC, 0x30, 0x86, 0xC5);
/* Newer callback versions: IIDs only (no vtables here). */
/* 7B63B2E3-107D-4D48-B2F6-F61E229470D2 */
static const IID IID_ICorProfilerCallback4 =
    COM_GUID_INIT(0x7B63B2E3, 0x107D, 0x4D48, 0xB2, 0xF6, 0xF6, 0x1E, 0x22, 0x94, 0x70, 0xD2);
/* 8DFBA405-8C9F-45F8-BFFA-83B14CEF78B5 */
static const IID IID_ICorProfilerCallback5 =
    COM_GUID_INIT(0x8DFBA405, 0x8C9F, 0x45F8, 0xBF, 0xFA, 0x83, 0xB1, 0x4C, 0xEF, 0x78, 0xB5);
/* FC13DF4B-4448-4F4F-950C-BA8D19D00C36 */
static const IID IID_ICorProfilerCallback6 =
    COM_GUID_INIT(0xFC13DF4B, 0x4448, 0x4F4F, 0x95, 0x0C, 0xBA, 0x8D, 0x19, 0xD0, 0x0C, 0x36);
/* F76A2DBA-1D52-4539-866C-2AA518F9EFC3 */
static const IID IID_ICorProfilerCallback7 =
    COM_GUID_INIT(0xF76A2DBA, 0x1D52, 0x4539, 0x86, 0x6C, 0x2A, 0xA5, 0x18, 0xF9, 0xEF, 0xC3);
/* 5BED9B15-C079-4D47-BFE2-215A140C07E0 */
static const IID IID_ICorProfilerCallback8 =
    COM_GUID_INIT(0x5BED9B15, 0xC079, 0x4D47, 0xBF, 0xE2, 0x21, 0x5A, 0x14, 0x0C, 0x07, 0xE0);
/* 27583EC3-C8F5-482F-8052-194B8CE4705A */
static const IID IID_ICorProfilerCallback9 =
    COM_GUID_INIT(0x27583EC3, 0xC8F5, 0x482F, 0x80, 0x52, 0x19, 0x4B, 0x8C, 0xE4, 0x70, 0x5A);
/* CEC5B60E-C69C-495F-87F6-84D28EE16FFB */
static const IID IID_ICorProfilerCallback10 =
    COM_GUID_INIT(0xCEC5B60E, 0xC69C, 0x495F, 0x87, 0xF6, 0x84, 0xD2, 0x8E, 0xE1, 0x6F, 0xFB);
/* 42350846-AAED-47F7-B128-FD0C98881CDE */
static const IID IID_ICorProfilerCallback11 =
    COM_GUID_INIT(0x42350846, 0xAAED, 0x47F7, 0xB1, 0x28, 0xFD, 0x0C, 0x98, 0x88, 0x1C, 0xDE);

/* 28B5557D-3F3F-48B4-90B2-5F9EEA2F6C48 */
static const IID IID_ICorProfilerInfo =
    COM_GUID_INIT(0x28B5557D, 0x3F3F, 0x48B4, 0x90, 0xB2, 0x5F, 0x9E, 0xEA, 0x2F, 0x6C, 0x48);
/* CC0935CD-A518-487D-B0BB-A93214E65478 */
static const IID IID_ICorProfilerInfo2 =
    COM_GUID_INIT(0xCC0935CD, 0xA518, 0x487D, 0xB0, 0xBB, 0xA9, 0x32, 0x14, 0xE6, 0x54, 0x78);
/* B555ED4F-452A-4E54-8B39-B5360BAD32A0 */
static const IID IID_ICorProfilerInfo3 =
    COM_GUID_INIT(0xB555ED4F, 0x452A, 0x4E54, 0x8B, 0x39, 0xB5, 0x36, 0x0B, 0xAD, 0x32, 0xA0);
/* 0D8FDCAA-6257-47BF-B1BF-94DAC88466EE */
static const IID IID_ICorProfilerInfo4 =
    COM_GUID_INIT(0x0D8FDCAA, 0x6257, 0x47BF, 0xB1, 0xBF, 0x94, 0xDA, 0xC8, 0x84, 0x66, 0xEE);
/* 07602928-CE38-4B83-81E7-74ADAF781214 */
static const IID IID_ICorProfilerInfo5 =
    COM_GUID_INIT(0x07602928, 0xCE38, 0x4B83, 0x81, 0xE7, 0x74, 0xAD, 0xAF, 0x78, 0x12, 0x14);
/* F30A070D-BFFB-46A7-B1D8-8781EF7B698A */
static const IID IID_ICorProfilerInfo6 =
    COM_GUID_INIT(0xF30A070D, 0xBFFB, 0x46A7, 0xB1, 0xD8, 0x87, 0x81, 0xEF, 0x7B, 0x69, 0x8A);
/* 9AEECC0D-63E0-4187-8C00-E312F503F663 */
static const IID IID_ICorProfilerInfo7 =
    COM_GUID_INIT(0x9AEECC0D, 0x63E0, 0x4187, 0x8C, 0x00, 0xE3, 0x12, 0xF5, 0x03, 0xF6, 0x63);
/* C5AC80A6-782E-4716-8044-39598C60CFBF */
static const IID IID_ICorProfilerInfo8 =
    COM_GUID_INIT(0xC5AC80A6, 0x782E, 0x4716, 0x80, 0x44, 0x39, 0x59, 0x8C, 0x60, 0xCF, 0xBF);
/* 008170DB-F8CC-4796-9A51-DC8AA0B47012 */
static const IID IID_ICorProfilerInfo9 =
    COM_GUID_INIT(0x008170DB, 0xF8CC, 0x4796, 0x9A, 0x51, 0xDC, 0x8A, 0xA0, 0xB4, 0x70, 0x12);
/* 2F1B5152-C869-40C9-AA5F-3ABE026BD720 */
static const IID IID_ICorProfilerInfo10 =
    COM_GUID_INIT(0x2F1B5152, 0xC869, 0x40C9, 0xAA, 0x5F, 0x3A, 0xBE, 0x02, 0x6B, 0xD7, 0x20);
/* 06398876-8987-4154-B621-40A00D6E4D04 */
static const IID IID_ICorProfilerInfo11 =
    COM_GUID_INIT(0x06398876, 0x8987, 0x4154, 0xB6, 0x21, 0x40, 0xA0, 0x0D, 0x6E, 0x4D, 0x04);
/* 27B24CCD-1CB1-47C5-96EE-98190DC30959 */
static const IID IID_ICorProfilerInfo12 =
    COM_GUID_INIT(0x27B24CCD, 0x1CB1, 0x47C5, 0x96, 0xEE, 0x98, 0x19, 0x0D, 0xC3, 0x09, 0x59);
/* 6E6C7EE2-0701-4EC2-9D29-2E8733B66934 */
static const IID IID_ICorProfilerInfo13 =
    COM_GUID_INIT(0x6E6C7EE2, 0x0701, 0x4EC2, 0x9D, 0x29, 0x2E, 0x87, 0x33, 0xB6, 0x69, 0x34);
/* F460E352-D76D-4FE9-835F-F6AF9D6E862D */
static const IID IID_ICorProfilerInfo14 =
    COM_GUID_INIT(0xF460E352, 0xD76D, 0x4FE9, 0x83, 0x5F, 0xF6, 0xAF, 0x9D, 0x6E, 0x86, 0x2D);
/* B446462D-BD22-41DD-872D-DC714C49EB56 */
static const IID IID_ICorProfilerInfo15 =
    COM_GUID_INIT(0xB446462D, 0xBD22, 0x41DD, 0x87, 0x2D, 0xDC, 0x71, 0x4C, 0x49, 0xEB, 0x56);

/* 2C6269BD-2D13-4321-AE12-6686365FD6AF */
static const IID IID_ICorProfilerObjectEnum =
    COM_GUID_INIT(0x2C6269BD, 0x2D13, 0x4321, 0xAE, 0x12, 0x66, 0x86, 0x36, 0x5F, 0xD6, 0xAF);
/* FF71301A-B994-429D-A10B-B345A65280EF */
static const IID IID_ICorProfilerFunctionEnum =
    COM_GUID_INIT(0xFF71301A, 0xB994, 0x429D, 0xA1, 0x0B, 0xB3, 0x45, 0xA6, 0x52, 0x80, 0xEF);
/* B0266D75-2081-4493-AF7F-028BA34DB891 */
static const IID IID_ICorProfilerModuleEnum =
    COM_GUID_INIT(0xB0266D75, 0x2081, 0x4493, 0xAF, 0x7F, 0x02, 0x8B, 0xA3, 0x4D, 0xB8, 0x91);
/* Interfaces of newer versions, IIDs only. */
/* 571194F7-25ED-419F-AA8B-7016B3159701 */
static const IID IID_ICorProfilerThreadEnum =
    COM_GUID_INIT(0x571194F7, 0x25ED, 0x419F, 0xAA, 0x8B, 0x70, 0x16, 0xB3, 0x15, 0x97, 0x01);
/* FCCEE788-0088-454B-A811-C99F298D1942 */
static const IID IID_ICorProfilerMethodEnum =
    COM_GUID_INIT(0xFCCEE788, 0x0088, 0x454B, 0xA8, 0x11, 0xC9, 0x9F, 0x29, 0x8D, 0x19, 0x42);
/* F0963021-E1EA-4732-8581-E01B0BD3C0C6 */
static const IID IID_ICorProfilerFunctionControl =
    COM_GUID_INIT(0xF0963021, 0xE1EA, 0x4732, 0x85, 0x81, 0xE0, 0x1B, 0x0B, 0xD3, 0xC0, 0xC6);
/* 66A78C24-2EEF-4F65-B45F-DD1D8038BF3C */
static const IID IID_ICorProfilerAssemblyReferenceProvider =
    COM_GUID_INIT(0x66A78C24, 0x2EEF, 0x4F65, 0xB4, 0x5F, 0xDD, 0x1D, 0x80, 0x38, 0xBF, 0x3C);

/* ---- Compile-time layout checks ----------------------------------------------------- */

#ifdef __cplusplus
#define CORPROF_STATIC_ASSERT static_assert
#else
#define CORPROF_STATIC_ASSERT _Static_assert
#endif

/* Enums travel in 32-bit slots and arrays (RootReferences2 passes arrays of them). */
CORPROF_STATIC_ASSERT(sizeof(COR_PRF_GC_ROOT_KIND) == 4, "enum size");
CORPROF_STATIC_ASSERT(sizeof(COR_PRF_GC_ROOT_FLAGS) == 4, "enum size");
CORPROF_STATIC_ASSERT(sizeof(COR_PRF_GC_GENERATION) == 4, "enum size");
CORPROF_STATIC_ASSERT(sizeof(COR_PRF_CLAUSE_TYPE) == 4, "enum size");
CORPROF_STATIC_ASSERT(sizeof(COR_PRF_STATIC_TYPE) == 4, "enum size");
CORPROF_STATIC_ASSERT(sizeof(COR_PRF_RUNTIME_TYPE) == 4, "enum size");
CORPROF_STATIC_ASSERT(sizeof(ModuleID) == sizeof(void *), "IDs are pointer-sized");

/* CORPROF_SLOT(interface, version, method, slot) from corprof_slots.def: the method is at
 * that slot in the interface's vtable of that version and of every later version. */
#define CORPROF_SLOT_AT(vtbl, method, slot)                                                \
    CORPROF_STATIC_ASSERT(offsetof(vtbl, method) == (size_t)(slot) * sizeof(void *),       \
                       #vtbl "::" #method " must be vtable slot " #slot);
#define CORPROF_SLOT_IUnknown_1(m, s)                                                      \
    CORPROF_SLOT_AT(IUnknownVtbl, m, s) CORPROF_SLOT_AT(IClassFactoryVtbl, m, s)              \
    CORPROF_SLOT_AT(IMethodMallocVtbl, m, s) CORPROF_SLOT_AT(IHostMallocVtbl, m, s)           \
    CORPROF_SLOT_AT(IHostMemoryManagerVtbl, m, s)                                          \
    CORPROF_SLOT_AT(ICLRMemoryNotificationCallbackVtbl, m, s)                              \
    CORPROF_SLOT_AT(IMetaDataImportVtbl, m, s) CORPROF_SLOT_AT(IMetaDataImport2Vtbl, m, s)    \
    CORPROF_SLOT_AT(IMetaDataEmitVtbl, m, s) CORPROF_SLOT_AT(IMetaDataEmit2Vtbl, m, s)        \
    CORPROF_SLOT_AT(IMetaDataAssemblyEmitVtbl, m, s)                                       \
    CORPROF_SLOT_AT(ICorProfilerObjectEnumVtbl, m, s)                                      \
    CORPROF_SLOT_AT(ICorProfilerFunctionEnumVtbl, m, s)                                    \
    CORPROF_SLOT_AT(ICorProfilerModuleEnumVtbl, m, s)                                      \
    CORPROF_SLOT_AT(ICorProfilerThreadEnumVtbl, m, s)                                      \
    CORPROF_SLOT_AT(ICorProfilerMethodEnumVtbl, m, s)                                      \
    CORPROF_SLOT_AT(ICorProfilerFunctionControlVtbl, m, s)                                 \
    CORPROF_SLOT_ICorProfilerCallback_1(m, s) CORPROF_SLOT_ICorProfilerInfo_1(m, s)
#define CORPROF_SLOT_IClassFactory_1(m, s) CORPROF_SLOT_AT(IClassFactoryVtbl, m, s)
#define CORPROF_SLOT_IMethodMalloc_1(m, s) CORPROF_SLOT_AT(IMethodMallocVtbl, m, s)
#define CORPROF_SLOT_IHostMalloc_1(m, s) CORPROF_SLOT_AT(IHostMallocVtbl, m, s)
#define CORPROF_SLOT_IHostMemoryManager_1(m, s) CORPROF_SLOT_AT(IHostMemoryManagerVtbl, m, s)
#define CORPROF_SLOT_ICLRMemoryNotificationCallback_1(m, s)                                \
    CORPROF_SLOT_AT(ICLRMemoryNotificationCallbackVtbl, m, s)
#define CORPROF_SLOT_IMetaDataImport_1(m, s)                                               \
    CORPROF_SLOT_AT(IMetaDataImportVtbl, m, s) CORPROF_SLOT_AT(IMetaDataImport2Vtbl, m, s)
#define CORPROF_SLOT_IMetaDataImport_2(m, s) CORPROF_SLOT_AT(IMetaDataImport2Vtbl, m, s)
#define CORPROF_SLOT_ICorProfilerObjectEnum_1(m, s) CORPROF_SLOT_AT(ICorProfilerObjectEnumVtbl, m, s)
#define CORPROF_SLOT_ICorProfilerFunctionEnum_1(m, s)                                      \
    CORPROF_SLOT_AT(ICorProfilerFunctionEnumVtbl, m, s)
#define CORPROF_SLOT_ICorProfilerModuleEnum_1(m, s) CORPROF_SLOT_AT(ICorProfilerModuleEnumVtbl, m, s)
#define CORPROF_SLOT_ICorProfilerCallback_1(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallbackVtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_2(m, s)
#define CORPROF_SLOT_ICorProfilerCallback_2(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback2Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_3(m, s)
#define CORPROF_SLOT_ICorProfilerCallback_3(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback3Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_4(m, s)
/* A method of Callback version N sits at its slot in Callback N and every later one. */
#define CORPROF_SLOT_ICorProfilerCallback_11(m, s) CORPROF_SLOT_AT(ICorProfilerCallback11Vtbl, m, s)
#define CORPROF_SLOT_ICorProfilerCallback_10(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback10Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_11(m, s)
#define CORPROF_SLOT_ICorProfilerCallback_9(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback9Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_10(m, s)
#define CORPROF_SLOT_ICorProfilerCallback_8(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback8Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_9(m, s)
#define CORPROF_SLOT_ICorProfilerCallback_7(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback7Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_8(m, s)
#define CORPROF_SLOT_ICorProfilerCallback_6(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback6Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_7(m, s)
#define CORPROF_SLOT_ICorProfilerCallback_5(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback5Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_6(m, s)
#define CORPROF_SLOT_ICorProfilerCallback_4(m, s)                                          \
    CORPROF_SLOT_AT(ICorProfilerCallback4Vtbl, m, s) CORPROF_SLOT_ICorProfilerCallback_5(m, s)
/* A method of Info version N sits at its slot in Info N and every later version. */
#define CORPROF_SLOT_ICorProfilerInfo_15(m, s) CORPROF_SLOT_AT(ICorProfilerInfo15Vtbl, m, s)
#define CORPROF_SLOT_ICorProfilerInfo_14(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo14Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_15(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_13(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo13Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_14(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_12(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo12Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_13(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_11(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo11Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_12(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_10(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo10Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_11(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_9(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo9Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_10(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_8(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo8Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_9(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_7(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo7Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_8(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_6(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo6Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_7(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_5(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo5Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_6(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_4(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo4Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_5(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_3(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo3Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_4(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_2(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfo2Vtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_3(m, s)
#define CORPROF_SLOT_ICorProfilerInfo_1(m, s)                                             \
    CORPROF_SLOT_AT(ICorProfilerInfoVtbl, m, s) CORPROF_SLOT_ICorProfilerInfo_2(m, s)
#define CORPROF_SLOT_ICorProfilerThreadEnum_1(m, s) CORPROF_SLOT_AT(ICorProfilerThreadEnumVtbl, m, s)
#define CORPROF_SLOT_ICorProfilerMethodEnum_1(m, s) CORPROF_SLOT_AT(ICorProfilerMethodEnumVtbl, m, s)
#define CORPROF_SLOT_ICorProfilerFunctionControl_1(m, s)                                   \
    CORPROF_SLOT_AT(ICorProfilerFunctionControlVtbl, m, s)

#define CORPROF_SLOT(iface, version, method, slot) CORPROF_SLOT_##iface##_##version(method, slot)
#include "ilgraft/corprof_slots.def"
#undef CORPROF_SLOT

/* Vtable sizes: the last slot of each is the last method (nothing appended). */
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallbackVtbl) == 72 * sizeof(void *), "Callback: 72 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback2Vtbl) == 80 * sizeof(void *), "Callback2: 80 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback3Vtbl) == 83 * sizeof(void *), "Callback3: 83 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback4Vtbl) == 89 * sizeof(void *), "Callback4: 89 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback5Vtbl) == 90 * sizeof(void *), "Callback5: 90 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback6Vtbl) == 91 * sizeof(void *), "Callback6: 91 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback7Vtbl) == 92 * sizeof(void *), "Callback7: 92 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback8Vtbl) == 94 * sizeof(void *), "Callback8: 94 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback9Vtbl) == 95 * sizeof(void *), "Callback9: 95 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback10Vtbl) == 97 * sizeof(void *), "Callback10: 97 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerCallback11Vtbl) == 98 * sizeof(void *), "Callback11: 98 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfoVtbl) == 36 * sizeof(void *), "Info: 36 slots");
CORPROF_STATIC_ASSERT(sizeof(IMetaDataEmitVtbl) == 52 * sizeof(void *), "Emit: 52 slots");
CORPROF_STATIC_ASSERT(sizeof(IMetaDataEmit2Vtbl) == 60 * sizeof(void *), "Emit2: 60 slots");
CORPROF_STATIC_ASSERT(sizeof(IMetaDataAssemblyEmitVtbl) == 13 * sizeof(void *),
                      "AssemblyEmit: 13 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo2Vtbl) == 57 * sizeof(void *), "Info2: 57 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo3Vtbl) == 71 * sizeof(void *), "Info3: 71 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo4Vtbl) == 81 * sizeof(void *), "Info4: 81 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo5Vtbl) == 83 * sizeof(void *), "Info5: 83 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo6Vtbl) == 84 * sizeof(void *), "Info6: 84 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo7Vtbl) == 87 * sizeof(void *), "Info7: 87 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo8Vtbl) == 90 * sizeof(void *), "Info8: 90 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo9Vtbl) == 93 * sizeof(void *), "Info9: 93 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo10Vtbl) == 99 * sizeof(void *), "Info10: 99 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo11Vtbl) == 101 * sizeof(void *), "Info11: 101 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo12Vtbl) == 108 * sizeof(void *), "Info12: 108 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo13Vtbl) == 111 * sizeof(void *), "Info13: 111 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo14Vtbl) == 114 * sizeof(void *), "Info14: 114 slots");
CORPROF_STATIC_ASSERT(sizeof(ICorProfilerInfo15Vtbl) == 115 * sizeof(void *), "Info15: 115 slots");
CORPROF_STATIC_ASSERT(sizeof(IMetaDataImportVtbl) == 65 * sizeof(void *), "IMetaDataImport: 65 slots");
CORPROF_STATIC_ASSERT(sizeof(IMetaDataImport2Vtbl) == 73 * sizeof(void *), "IMetaDataImport2: 73 slots");

#ifdef __cplusplus
}
#endif
#endif
