/* corprof_types.h: the profiling API's IDs, enums, small structs, hook and callback
 * function types and the enumerator interfaces (corprof.idl), which corprof.h's
 * interfaces use. Part of the ABI headers: it includes nothing of ilgraft's own API.
 * Include corprof.h, which includes this. */
#ifndef ILGRAFT_CORPROF_TYPES_H
#define ILGRAFT_CORPROF_TYPES_H

#include "ilgraft/cor_md.h"
#include "ilgraft/unknwn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDs, small structs and hook types (corprof.idl) -------------------------------- */

typedef UINT_PTR ProcessID;
typedef UINT_PTR AssemblyID;
typedef UINT_PTR AppDomainID;
typedef UINT_PTR ModuleID;
typedef UINT_PTR ClassID;
typedef UINT_PTR ThreadID;
typedef UINT_PTR ContextID;
typedef UINT_PTR FunctionID;
typedef UINT_PTR ObjectID;
typedef UINT_PTR GCHandleID;
typedef UINT_PTR COR_PRF_ELT_INFO;
typedef UINT_PTR ReJITID;
typedef UINT_PTR COR_PRF_FRAME_INFO;

typedef union FunctionIDOrClientID {
    FunctionID functionID;
    UINT_PTR clientID;
} FunctionIDOrClientID;

typedef struct COR_IL_MAP {
    ULONG32 oldOffset;       /* IL offset in the original body */
    ULONG32 newOffset;       /* IL offset in the instrumented body */
    BOOL fAccurate;
} COR_IL_MAP;

typedef enum CorDebugIlToNativeMappingTypes {
    NO_MAPPING = -1,
    PROLOG = -2,
    EPILOG = -3
} CorDebugIlToNativeMappingTypes;

typedef struct COR_DEBUG_IL_TO_NATIVE_MAP {
    ULONG32 ilOffset;        /* or a CorDebugIlToNativeMappingTypes value */
    ULONG32 nativeStartOffset;
    ULONG32 nativeEndOffset;
} COR_DEBUG_IL_TO_NATIVE_MAP;

typedef struct COR_PRF_FUNCTION_ARGUMENT_RANGE {
    UINT_PTR startAddress;
    ULONG length;
} COR_PRF_FUNCTION_ARGUMENT_RANGE;

/* Variable length: numRanges entries in ranges[] (declared [1] as in the IDL). */
typedef struct COR_PRF_FUNCTION_ARGUMENT_INFO {
    ULONG numRanges;
    ULONG totalArgumentSize;
    COR_PRF_FUNCTION_ARGUMENT_RANGE ranges[1];
} COR_PRF_FUNCTION_ARGUMENT_INFO;

typedef struct COR_PRF_CODE_INFO {
    UINT_PTR startAddress;
    SIZE_T size;
} COR_PRF_CODE_INFO;

typedef struct COR_PRF_FUNCTION {
    FunctionID functionId;
    ReJITID reJitId;
} COR_PRF_FUNCTION;

typedef struct COR_PRF_METHOD {
    ModuleID moduleId;
    mdMethodDef methodId;
} COR_PRF_METHOD;

typedef enum COR_PRF_STATIC_TYPE {
    COR_PRF_FIELD_NOT_A_STATIC = 0x0,
    COR_PRF_FIELD_APP_DOMAIN_STATIC = 0x1,
    COR_PRF_FIELD_THREAD_STATIC = 0x2,
    COR_PRF_FIELD_CONTEXT_STATIC = 0x4,
    COR_PRF_FIELD_RVA_STATIC = 0x8
} COR_PRF_STATIC_TYPE;

typedef enum COR_PRF_SNAPSHOT_INFO {
    COR_PRF_SNAPSHOT_DEFAULT = 0x0,
    COR_PRF_SNAPSHOT_REGISTER_CONTEXT = 0x1,
    COR_PRF_SNAPSHOT_X86_OPTIMIZED = 0x2
} COR_PRF_SNAPSHOT_INFO;

typedef enum COR_PRF_JIT_CACHE {
    COR_PRF_CACHED_FUNCTION_FOUND = 0,
    COR_PRF_CACHED_FUNCTION_NOT_FOUND = 1
} COR_PRF_JIT_CACHE;

typedef enum COR_PRF_TRANSITION_REASON {
    COR_PRF_TRANSITION_CALL = 0,
    COR_PRF_TRANSITION_RETURN = 1
} COR_PRF_TRANSITION_REASON;

typedef enum COR_PRF_SUSPEND_REASON {
    COR_PRF_SUSPEND_OTHER = 0,
    COR_PRF_SUSPEND_FOR_GC = 1,
    COR_PRF_SUSPEND_FOR_APPDOMAIN_SHUTDOWN = 2,
    COR_PRF_SUSPEND_FOR_CODE_PITCHING = 3,
    COR_PRF_SUSPEND_FOR_SHUTDOWN = 4,
    COR_PRF_SUSPEND_FOR_INPROC_DEBUGGER = 6,
    COR_PRF_SUSPEND_FOR_GC_PREP = 7,
    COR_PRF_SUSPEND_FOR_REJIT = 8,
    COR_PRF_SUSPEND_FOR_PROFILER = 9
} COR_PRF_SUSPEND_REASON;

typedef enum COR_PRF_RUNTIME_TYPE {
    COR_PRF_DESKTOP_CLR = 0x1,
    COR_PRF_CORE_CLR = 0x2
} COR_PRF_RUNTIME_TYPE;

typedef enum COR_PRF_GC_ROOT_KIND {
    COR_PRF_GC_ROOT_OTHER = 0,
    COR_PRF_GC_ROOT_STACK = 1,
    COR_PRF_GC_ROOT_FINALIZER = 2,
    COR_PRF_GC_ROOT_HANDLE = 3
} COR_PRF_GC_ROOT_KIND;

typedef enum COR_PRF_GC_ROOT_FLAGS {
    COR_PRF_GC_ROOT_PINNING = 0x1,
    COR_PRF_GC_ROOT_WEAKREF = 0x2,
    COR_PRF_GC_ROOT_INTERIOR = 0x4,
    COR_PRF_GC_ROOT_REFCOUNTED = 0x8
} COR_PRF_GC_ROOT_FLAGS;

typedef enum COR_PRF_FINALIZER_FLAGS {
    COR_PRF_FINALIZER_CRITICAL = 0x1
} COR_PRF_FINALIZER_FLAGS;

typedef enum COR_PRF_GC_GENERATION {
    COR_PRF_GC_GEN_0 = 0,
    COR_PRF_GC_GEN_1 = 1,
    COR_PRF_GC_GEN_2 = 2,
    COR_PRF_GC_LARGE_OBJECT_HEAP = 3,
    COR_PRF_GC_PINNED_OBJECT_HEAP = 4
} COR_PRF_GC_GENERATION;

typedef struct COR_PRF_GC_GENERATION_RANGE {
    COR_PRF_GC_GENERATION generation;
    ObjectID rangeStart;
    UINT_PTR rangeLength;            /* exact only inside GC callbacks */
    UINT_PTR rangeLengthReserved;
} COR_PRF_GC_GENERATION_RANGE;

typedef enum COR_PRF_CLAUSE_TYPE {
    COR_PRF_CLAUSE_NONE = 0,
    COR_PRF_CLAUSE_FILTER = 1,
    COR_PRF_CLAUSE_CATCH = 2,
    COR_PRF_CLAUSE_FINALLY = 3
} COR_PRF_CLAUSE_TYPE;

typedef struct COR_PRF_EX_CLAUSE_INFO {
    COR_PRF_CLAUSE_TYPE clauseType;
    UINT_PTR programCounter;         /* native entry of the handler */
    UINT_PTR framePointer;
    UINT_PTR shadowStackPointer;
} COR_PRF_EX_CLAUSE_INFO;

typedef enum COR_PRF_GC_REASON {
    COR_PRF_GC_OTHER = 0,
    COR_PRF_GC_INDUCED = 1
} COR_PRF_GC_REASON;

/* GetModuleInfo2's *pdwModuleFlags. */
#define COR_PRF_MODULE_DISK            0x00000001u
#define COR_PRF_MODULE_NGEN            0x00000002u
#define COR_PRF_MODULE_DYNAMIC         0x00000004u
#define COR_PRF_MODULE_COLLECTIBLE     0x00000008u
#define COR_PRF_MODULE_RESOURCE        0x00000010u
#define COR_PRF_MODULE_FLAT_LAYOUT     0x00000020u
#define COR_PRF_MODULE_WINDOWS_RUNTIME 0x00000040u

/* COR_PRF_MISC: IDs with a special meaning. */
#define PROFILER_PARENT_UNKNOWN 0xFFFFFFFDu
#define PROFILER_GLOBAL_CLASS   0xFFFFFFFEu
#define PROFILER_GLOBAL_MODULE  0xFFFFFFFFu

/* ICorProfilerFunctionControl::SetCodegenFlags (Info4 ReJIT). */
#define COR_PRF_CODEGEN_DISABLE_INLINING          0x0001u
#define COR_PRF_CODEGEN_DISABLE_ALL_OPTIMIZATIONS 0x0002u

/* The event mask (SetEventMask's DWORD). Macros, not an enum: the top bit does not fit
 * a C enum constant. */
typedef DWORD COR_PRF_MONITOR;
#define COR_PRF_MONITOR_NONE                 0x00000000u
#define COR_PRF_MONITOR_FUNCTION_UNLOADS     0x00000001u
#define COR_PRF_MONITOR_CLASS_LOADS          0x00000002u
#define COR_PRF_MONITOR_MODULE_LOADS         0x00000004u
#define COR_PRF_MONITOR_ASSEMBLY_LOADS       0x00000008u
#define COR_PRF_MONITOR_APPDOMAIN_LOADS      0x00000010u
#define COR_PRF_MONITOR_JIT_COMPILATION      0x00000020u
#define COR_PRF_MONITOR_EXCEPTIONS           0x00000040u
#define COR_PRF_MONITOR_GC                   0x00000080u
#define COR_PRF_MONITOR_OBJECT_ALLOCATED     0x00000100u
#define COR_PRF_MONITOR_THREADS              0x00000200u
#define COR_PRF_MONITOR_REMOTING             0x00000400u
#define COR_PRF_MONITOR_CODE_TRANSITIONS     0x00000800u
#define COR_PRF_MONITOR_ENTERLEAVE           0x00001000u
#define COR_PRF_MONITOR_CCW                  0x00002000u
#define COR_PRF_MONITOR_REMOTING_COOKIE      (0x00004000u | COR_PRF_MONITOR_REMOTING)
#define COR_PRF_MONITOR_REMOTING_ASYNC       (0x00008000u | COR_PRF_MONITOR_REMOTING)
#define COR_PRF_MONITOR_SUSPENDS             0x00010000u
#define COR_PRF_MONITOR_CACHE_SEARCHES       0x00020000u
#define COR_PRF_ENABLE_REJIT                 0x00040000u
#define COR_PRF_ENABLE_INPROC_DEBUGGING      0x00080000u
#define COR_PRF_ENABLE_JIT_MAPS              0x00100000u
#define COR_PRF_DISABLE_INLINING             0x00200000u
#define COR_PRF_DISABLE_OPTIMIZATIONS        0x00400000u
#define COR_PRF_ENABLE_OBJECT_ALLOCATED      0x00800000u
#define COR_PRF_MONITOR_CLR_EXCEPTIONS       0x01000000u
#define COR_PRF_MONITOR_ALL                  0x0107FFFFu
#define COR_PRF_ENABLE_FUNCTION_ARGS         0x02000000u
#define COR_PRF_ENABLE_FUNCTION_RETVAL       0x04000000u
#define COR_PRF_ENABLE_FRAME_INFO            0x08000000u
#define COR_PRF_ENABLE_STACK_SNAPSHOT        0x10000000u
#define COR_PRF_USE_PROFILE_IMAGES           0x20000000u
#define COR_PRF_DISABLE_TRANSPARENCY_CHECKS_UNDER_FULL_TRUST 0x40000000u
#define COR_PRF_DISABLE_ALL_NGEN_IMAGES      0x80000000u
#define COR_PRF_ALL                          0x8FFFFFFFu
#define COR_PRF_REQUIRE_PROFILE_IMAGE                                                   \
    (COR_PRF_USE_PROFILE_IMAGES | COR_PRF_MONITOR_CODE_TRANSITIONS | COR_PRF_MONITOR_ENTERLEAVE)
#define COR_PRF_ALLOWABLE_AFTER_ATTACH                                                  \
    (COR_PRF_MONITOR_THREADS | COR_PRF_MONITOR_MODULE_LOADS | COR_PRF_MONITOR_ASSEMBLY_LOADS | \
     COR_PRF_MONITOR_APPDOMAIN_LOADS | COR_PRF_ENABLE_STACK_SNAPSHOT | COR_PRF_MONITOR_GC |     \
     COR_PRF_MONITOR_SUSPENDS | COR_PRF_MONITOR_CLASS_LOADS | COR_PRF_MONITOR_EXCEPTIONS |      \
     COR_PRF_MONITOR_JIT_COMPILATION | COR_PRF_DISABLE_INLINING |                              \
     COR_PRF_DISABLE_OPTIMIZATIONS | COR_PRF_ENABLE_REJIT)
/* What a profiler loaded as notification-only may set (corprof.idl's value). */
#define COR_PRF_ALLOWABLE_NOTIFICATION_PROFILER 0xB1E32B7Fu
/* Flags that can only be set from Initialize. */
#define COR_PRF_MONITOR_IMMUTABLE                                                       \
    (COR_PRF_MONITOR_CODE_TRANSITIONS | COR_PRF_MONITOR_REMOTING |                      \
     COR_PRF_MONITOR_REMOTING_COOKIE | COR_PRF_MONITOR_REMOTING_ASYNC |                 \
     COR_PRF_ENABLE_INPROC_DEBUGGING | COR_PRF_ENABLE_JIT_MAPS |                        \
     COR_PRF_ENABLE_OBJECT_ALLOCATED | COR_PRF_ENABLE_FUNCTION_ARGS |                   \
     COR_PRF_ENABLE_FUNCTION_RETVAL | COR_PRF_ENABLE_FRAME_INFO |                       \
     COR_PRF_USE_PROFILE_IMAGES | COR_PRF_DISABLE_TRANSPARENCY_CHECKS_UNDER_FULL_TRUST | \
     COR_PRF_DISABLE_ALL_NGEN_IMAGES)

/* The high half (Info5::SetEventMask2). */
#define COR_PRF_HIGH_MONITOR_NONE                     0x00000000u
#define COR_PRF_HIGH_ADD_ASSEMBLY_REFERENCES          0x00000001u
#define COR_PRF_HIGH_IN_MEMORY_SYMBOLS_UPDATED        0x00000002u
#define COR_PRF_HIGH_MONITOR_DYNAMIC_FUNCTION_UNLOADS 0x00000004u
#define COR_PRF_HIGH_DISABLE_TIERED_COMPILATION       0x00000008u
#define COR_PRF_HIGH_BASIC_GC                         0x00000010u
#define COR_PRF_HIGH_MONITOR_GC_MOVED_OBJECTS         0x00000020u
#define COR_PRF_HIGH_REQUIRE_PROFILE_IMAGE            0x00000000u
#define COR_PRF_HIGH_MONITOR_LARGEOBJECT_ALLOCATED    0x00000040u
#define COR_PRF_HIGH_MONITOR_EVENT_PIPE               0x00000080u
#define COR_PRF_HIGH_MONITOR_PINNEDOBJECT_ALLOCATED   0x00000100u
#define COR_PRF_HIGH_MONITOR_IMMUTABLE                COR_PRF_HIGH_DISABLE_TIERED_COMPILATION
#define COR_PRF_HIGH_ALLOWABLE_NOTIFICATION_PROFILER                                    \
    (COR_PRF_HIGH_IN_MEMORY_SYMBOLS_UPDATED | COR_PRF_HIGH_MONITOR_DYNAMIC_FUNCTION_UNLOADS |  \
     COR_PRF_HIGH_DISABLE_TIERED_COMPILATION | COR_PRF_HIGH_BASIC_GC |                      \
     COR_PRF_HIGH_MONITOR_GC_MOVED_OBJECTS | COR_PRF_HIGH_MONITOR_LARGEOBJECT_ALLOCATED |   \
     COR_PRF_HIGH_MONITOR_EVENT_PIPE)

/* Enter/leave hooks. These are function TYPES, as in the IDL; the Set*Hooks methods
 * take pointers to them. The runtime calls them without saving registers, so real
 * implementations are assembly stubs that preserve everything they touch. */
typedef void FunctionEnter(FunctionID funcID);
typedef void FunctionLeave(FunctionID funcID);
typedef void FunctionTailcall(FunctionID funcID);
typedef void FunctionEnter2(FunctionID funcId, UINT_PTR clientData, COR_PRF_FRAME_INFO func,
                            COR_PRF_FUNCTION_ARGUMENT_INFO *argumentInfo);
typedef void FunctionLeave2(FunctionID funcId, UINT_PTR clientData, COR_PRF_FRAME_INFO func,
                            COR_PRF_FUNCTION_ARGUMENT_RANGE *retvalRange);
typedef void FunctionTailcall2(FunctionID funcId, UINT_PTR clientData, COR_PRF_FRAME_INFO func);
typedef void FunctionEnter3(FunctionIDOrClientID functionIDOrClientID);
typedef void FunctionLeave3(FunctionIDOrClientID functionIDOrClientID);
typedef void FunctionTailcall3(FunctionIDOrClientID functionIDOrClientID);
typedef void FunctionEnter3WithInfo(FunctionIDOrClientID functionIDOrClientID,
                                    COR_PRF_ELT_INFO eltInfo);
typedef void FunctionLeave3WithInfo(FunctionIDOrClientID functionIDOrClientID,
                                    COR_PRF_ELT_INFO eltInfo);
typedef void FunctionTailcall3WithInfo(FunctionIDOrClientID functionIDOrClientID,
                                       COR_PRF_ELT_INFO eltInfo);

/* Maps a FunctionID to the value the hooks receive; must not return 0 for a hooked
 * function (a documented runtime quirk). */
typedef UINT_PTR FunctionIDMapper(FunctionID funcId, BOOL *pbHookFunction);
typedef UINT_PTR FunctionIDMapper2(FunctionID funcId, void *clientData, BOOL *pbHookFunction);

/* DoStackSnapshot calls this once per managed frame (funcId != 0) or run of native
 * frames (funcId == 0). context is only valid with COR_PRF_SNAPSHOT_REGISTER_CONTEXT. */
typedef HRESULT StackSnapshotCallback(FunctionID funcId, UINT_PTR ip, COR_PRF_FRAME_INFO frameInfo,
                                      ULONG32 contextSize, BYTE context[], void *clientData);

/* Types of Info4..15's signatures. */
typedef BOOL ObjectReferenceCallback(ObjectID root, ObjectID *reference, void *clientData);
typedef BOOL (*ObjectCallback)(ObjectID object, void *callbackState);
typedef UINT_PTR EVENTPIPE_PROVIDER;
typedef UINT_PTR EVENTPIPE_EVENT;
typedef UINT64 EVENTPIPE_SESSION;

typedef struct COR_PRF_EVENTPIPE_PROVIDER_CONFIG {
    const WCHAR *providerName;
    UINT64 keywords;
    UINT32 loggingLevel;
    const WCHAR *filterData; /* "key=value;..." */
} COR_PRF_EVENTPIPE_PROVIDER_CONFIG;

typedef struct COR_PRF_EVENTPIPE_PARAM_DESC {
    UINT32 type;
    UINT32 elementType; /* for an array */
    const WCHAR *name;
} COR_PRF_EVENTPIPE_PARAM_DESC;

typedef struct COR_PRF_EVENT_DATA {
    UINT64 ptr;
    UINT32 size;
    UINT32 reserved;
} COR_PRF_EVENT_DATA;

typedef struct COR_PRF_FILTER_DATA {
    UINT64 Ptr;
    UINT32 Size;
    UINT32 Type;
} COR_PRF_FILTER_DATA;

typedef void EventPipeProviderCallback(const UINT8 *source_id, UINT32 is_enabled, UINT8 level,
                                       UINT64 match_any_keywords, UINT64 match_all_keywords,
                                       COR_PRF_FILTER_DATA *filter_data, void *callback_data);

typedef enum COR_PRF_HANDLE_TYPE {
    COR_PRF_HANDLE_TYPE_WEAK = 0x1,
    COR_PRF_HANDLE_TYPE_STRONG = 0x2,
    COR_PRF_HANDLE_TYPE_PINNED = 0x3
} COR_PRF_HANDLE_TYPE;
typedef void **ObjectHandleID;

typedef struct COR_PRF_NONGC_HEAP_RANGE {
    ObjectID rangeStart;
    UINT_PTR rangeLength;
    UINT_PTR rangeLengthReserved;
} COR_PRF_NONGC_HEAP_RANGE;

typedef enum COR_PRF_REJIT_FLAGS {
    COR_PRF_REJIT_BLOCK_INLINING = 0x1,
    COR_PRF_REJIT_INLINING_CALLBACKS = 0x2
} COR_PRF_REJIT_FLAGS;

/* ---- Enumerators handed out by Info2..Info14 ------------------------------------------ */

#define CORPROF_ENUM_SLOTS(T, ELEM)                                               \
    HRESULT (*Skip)(T *This, ULONG celt);                                              \
    HRESULT (*Reset)(T *This);                                                         \
    HRESULT (*Clone)(T *This, T **ppEnum);                                             \
    HRESULT (*GetCount)(T *This, ULONG *pcelt);                                        \
    HRESULT (*Next)(T *This, ULONG celt, ELEM elements[], ULONG *pceltFetched);

typedef struct ICorProfilerObjectEnum ICorProfilerObjectEnum;
typedef struct ICorProfilerObjectEnumVtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerObjectEnum)
    CORPROF_ENUM_SLOTS(ICorProfilerObjectEnum, ObjectID)
} ICorProfilerObjectEnumVtbl;
struct ICorProfilerObjectEnum {
    const ICorProfilerObjectEnumVtbl *lpVtbl;
};

typedef struct ICorProfilerFunctionEnum ICorProfilerFunctionEnum;
typedef struct ICorProfilerFunctionEnumVtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerFunctionEnum)
    CORPROF_ENUM_SLOTS(ICorProfilerFunctionEnum, COR_PRF_FUNCTION)
} ICorProfilerFunctionEnumVtbl;
struct ICorProfilerFunctionEnum {
    const ICorProfilerFunctionEnumVtbl *lpVtbl;
};

typedef struct ICorProfilerModuleEnum ICorProfilerModuleEnum;
typedef struct ICorProfilerModuleEnumVtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerModuleEnum)
    CORPROF_ENUM_SLOTS(ICorProfilerModuleEnum, ModuleID)
} ICorProfilerModuleEnumVtbl;
struct ICorProfilerModuleEnum {
    const ICorProfilerModuleEnumVtbl *lpVtbl;
};

typedef struct ICorProfilerThreadEnum ICorProfilerThreadEnum;
typedef struct ICorProfilerThreadEnumVtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerThreadEnum)
    CORPROF_ENUM_SLOTS(ICorProfilerThreadEnum, ThreadID)
} ICorProfilerThreadEnumVtbl;
struct ICorProfilerThreadEnum {
    const ICorProfilerThreadEnumVtbl *lpVtbl;
};

typedef struct ICorProfilerMethodEnum ICorProfilerMethodEnum;
typedef struct ICorProfilerMethodEnumVtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerMethodEnum)
    CORPROF_ENUM_SLOTS(ICorProfilerMethodEnum, COR_PRF_METHOD)
} ICorProfilerMethodEnumVtbl;
struct ICorProfilerMethodEnum {
    const ICorProfilerMethodEnumVtbl *lpVtbl;
};

/* The object GetReJITParameters passes (corprof.idl, Info4 ReJIT): what the profiler
 * says about the method's new version. The runtime copies the body SetILFunctionBody
 * gives, so the caller may free it on return. */
#define ICORPROFILERFUNCTIONCONTROL_SLOTS(T)                                            \
    HRESULT (*SetCodegenFlags)(T *This, DWORD flags);                                        \
    HRESULT (*SetILFunctionBody)(T *This, ULONG cbNewILMethodHeader,                         \
                                 LPCBYTE pbNewILMethodHeader);                               \
    HRESULT (*SetILInstrumentedCodeMap)(T *This, ULONG cILMapEntries, COR_IL_MAP *rgILMapEntries);
typedef struct ICorProfilerFunctionControl ICorProfilerFunctionControl;
typedef struct ICorProfilerFunctionControlVtbl {
    COM_IUNKNOWN_SLOTS(ICorProfilerFunctionControl)
    ICORPROFILERFUNCTIONCONTROL_SLOTS(ICorProfilerFunctionControl)
} ICorProfilerFunctionControlVtbl;
struct ICorProfilerFunctionControl {
    const ICorProfilerFunctionControlVtbl *lpVtbl;
};

#ifdef __cplusplus
}
#endif

#endif
