/* abi_probe.h: the ABI probe's private header: the profiler object (one per
 * CreateInstance), the log and the check helpers every part uses (abi_log.c), the
 * names of functions, modules and objects (abi_names.c), and the ICorProfilerCallback3
 * methods, one file per area, that abi_probe.c puts in its vtable. */
#ifndef ILG_ABI_PROBE_H
#define ILG_ABI_PROBE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "abi_conform.h"
#include "ilgraft/corprof.h"

#define NAME_CAP 1024
#define SLOT_COUNT 83

/* The events the run must produce (checked at Shutdown). */
enum seen_bit {
    SEEN_CORELIB_LOADED, SEEN_HELLO_LOADED, SEEN_HELLO_ATTACHED, SEEN_HELLO_ASSEMBLY,
    SEEN_APPDOMAIN, SEEN_MAIN_JIT, SEEN_MAIN_JIT_FINISHED, SEEN_MAIN_CODE_CHECKED,
    SEEN_SQUARE_JIT, SEEN_FORMAT_EXCEPTION, SEEN_CATCHER_FOUND, SEEN_CATCHER_ENTER,
    SEEN_UNWIND_SAFEPARSE, SEEN_INDUCED_GC, SEEN_GC_FINISHED, SEEN_ROOTS, SEEN_THREAD_NAME,
    SEEN_HANDLE_DESTROYED, SEEN_FINALIZABLE_QUEUED, SEEN_METADATA_TOUR, SEEN_STACK_SNAPSHOT,
    SEEN_CLASS_PROGRAM, SEEN_THREAD_CREATED, SEEN_SUSPEND, SEEN_TRANSITION, SEEN_CACHE_SEARCH,
    SEEN_COUNT
};

typedef struct probe {
    ICorProfilerCallback3 ICorProfilerCallback3_iface;
    atomic_uint refs;
    ICorProfilerInfo3 *info;
    ICorProfilerInfo15 *info15; /* conformance mode only */
    bool conform_main_done;
    bool rewrite;
    bool transitions;          /* COR_PRF_MONITOR_CODE_TRANSITIONS on */
    int max_callback;          /* highest ICorProfilerCallback version QI accepts */
    DWORD high;                /* SetEventMask2's high half (ILG_ABI_PROBE_HIGH) */
    bool noopt;                /* COR_PRF_DISABLE_OPTIMIZATIONS on */
    pthread_mutex_t lock;      /* guards everything below */
    unsigned failures;
    bool seen[SEEN_COUNT];
    unsigned long counts[SLOT_COUNT];
    ModuleID hello_module;
    ModuleID corelib_module;
    FunctionID main_fid;
    mdMethodDef main_token;
    unsigned long gc_roots, gc_objects, gc_moved, gc_surviving, gc_started, gc_finished;
    bool resuming;             /* between RuntimeResumeStarted and RuntimeResumeFinished */
    ThreadID suspended[256];   /* RuntimeThreadSuspended and not yet resumed */
    size_t suspended_count;
    GCHandleID handles[4096];  /* handles created since the last check, to pair destroys */
    size_t handle_count;
} probe;

static inline probe *impl_from_ICorProfilerCallback3(ICorProfilerCallback3 *iface)
{
    return (probe *)((char *)iface - offsetof(probe, ICorProfilerCallback3_iface));
}

/* ---- abi_log.c: the log (probe_log, in abi_conform.h) and the checks ------------------ */

/* A FAIL line; the failure counts towards Shutdown's verdict. */
void probe_fail(probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* hr must equal want; false (and a FAIL line) otherwise. */
bool probe_expect_hr(probe *p, const char *what, HRESULT hr, HRESULT want);
unsigned probe_failures(probe *p);
void probe_mark(probe *p, enum seen_bit bit);
/* One more call of vtable slot `slot` (counted for Shutdown's pairing checks). */
void probe_count(probe *p, unsigned slot);
/* UTF-16 (n units, or up to a NUL when n is SIZE_MAX) to UTF-8 in out; returns out. */
const char *probe_utf8(const WCHAR *w, size_t n, char *out, size_t cap);
const char *probe_base_name(const char *path);
bool probe_wide_eq(const WCHAR *w, const char *ascii);
/* A GUID in registry text form, in buf; returns buf. */
#define GUID_TEXT_SIZE 37
char *probe_guid_text(const GUID *g, char buf[GUID_TEXT_SIZE]);

/* ---- abi_names.c: names of things ---------------------------------------------------- */

typedef struct method_desc {
    ModuleID module;
    ClassID klass;
    mdMethodDef token;
    mdTypeDef type_token;
    ULONG rva;
    char module_name[NAME_CAP];   /* base name */
    char type[NAME_CAP];
    char method[NAME_CAP];
    char full[2 * NAME_CAP + 4];  /* Type::Method */
} method_desc;

/* Module file name (base name) of a module; "" when the call fails. */
void module_base_name(probe *p, ModuleID mod, char *out, size_t cap);
/* Type name of a TypeDef through an IMetaDataImport. */
bool type_name(probe *p, IMetaDataImport *md, mdTypeDef td, char *out, size_t cap);
/* Everything about a FunctionID, through GetFunctionInfo, GetTokenAndMetaDataFromFunction,
 * GetMethodProps, GetTypeDefProps and GetModuleInfo; the two token sources must agree. */
bool describe_function(probe *p, FunctionID fid, method_desc *d);
bool is_hello(const method_desc *d, const char *full);
/* Class of an object, as module + type name (GetClassFromObject, GetClassIDInfo,
 * GetModuleMetaData, GetTypeDefProps). */
bool object_type(probe *p, ObjectID obj, ClassID *klass, char *out, size_t cap);

/* ---- abi_metadata.c: the IMetaDataImport tour of Hello.dll (marks SEEN_METADATA_TOUR) - */
void metadata_tour(probe *p, ModuleID mod);

/* ---- the callbacks, by area ---------------------------------------------------------- */

/* A callback that only counts its slot and logs its name. */
#define SIMPLE_EVENT(fn, slot, text)                                                     \
    HRESULT fn(ICorProfilerCallback3 *iface)                                             \
    {                                                                                    \
        probe *p = impl_from_ICorProfilerCallback3(iface);                               \
        probe_count(p, slot);                                                            \
        probe_log(text);                                                                 \
        return S_OK;                                                                     \
    }

/* abi_loads.c: app domains, assemblies, modules, classes */
HRESULT cb_AppDomainCreationStarted(ICorProfilerCallback3 *iface, AppDomainID id);
HRESULT cb_AppDomainCreationFinished(ICorProfilerCallback3 *iface, AppDomainID id, HRESULT st);
HRESULT cb_AppDomainShutdownStarted(ICorProfilerCallback3 *iface, AppDomainID id);
HRESULT cb_AppDomainShutdownFinished(ICorProfilerCallback3 *iface, AppDomainID id, HRESULT st);
HRESULT cb_AssemblyLoadStarted(ICorProfilerCallback3 *iface, AssemblyID id);
HRESULT cb_AssemblyLoadFinished(ICorProfilerCallback3 *iface, AssemblyID id, HRESULT st);
HRESULT cb_AssemblyUnloadStarted(ICorProfilerCallback3 *iface, AssemblyID id);
HRESULT cb_AssemblyUnloadFinished(ICorProfilerCallback3 *iface, AssemblyID id, HRESULT st);
HRESULT cb_ModuleLoadStarted(ICorProfilerCallback3 *iface, ModuleID id);
HRESULT cb_ModuleLoadFinished(ICorProfilerCallback3 *iface, ModuleID id, HRESULT st);
HRESULT cb_ModuleUnloadStarted(ICorProfilerCallback3 *iface, ModuleID id);
HRESULT cb_ModuleUnloadFinished(ICorProfilerCallback3 *iface, ModuleID id, HRESULT st);
HRESULT cb_ModuleAttachedToAssembly(ICorProfilerCallback3 *iface, ModuleID mod, AssemblyID asm_id);
HRESULT cb_ClassLoadStarted(ICorProfilerCallback3 *iface, ClassID id);
HRESULT cb_ClassLoadFinished(ICorProfilerCallback3 *iface, ClassID id, HRESULT st);
HRESULT cb_ClassUnloadStarted(ICorProfilerCallback3 *iface, ClassID id);
HRESULT cb_ClassUnloadFinished(ICorProfilerCallback3 *iface, ClassID id, HRESULT st);
HRESULT cb_FunctionUnloadStarted(ICorProfilerCallback3 *iface, FunctionID id);

/* abi_jit.c: JIT compilation, cached code, inlining */
HRESULT cb_JITCompilationStarted(ICorProfilerCallback3 *iface, FunctionID fid, BOOL safe);
HRESULT cb_JITCompilationFinished(ICorProfilerCallback3 *iface, FunctionID fid, HRESULT st,
                                  BOOL safe);
HRESULT cb_JITCachedFunctionSearchStarted(ICorProfilerCallback3 *iface, FunctionID fid,
                                          BOOL *use_cached);
HRESULT cb_JITCachedFunctionSearchFinished(ICorProfilerCallback3 *iface, FunctionID fid,
                                           COR_PRF_JIT_CACHE result);
HRESULT cb_JITFunctionPitched(ICorProfilerCallback3 *iface, FunctionID fid);
HRESULT cb_JITInlining(ICorProfilerCallback3 *iface, FunctionID caller, FunctionID callee,
                       BOOL *should);

/* abi_threads.c: threads, remoting, code transitions, suspension */
HRESULT cb_ThreadCreated(ICorProfilerCallback3 *iface, ThreadID tid);
HRESULT cb_ThreadDestroyed(ICorProfilerCallback3 *iface, ThreadID tid);
HRESULT cb_ThreadAssignedToOSThread(ICorProfilerCallback3 *iface, ThreadID tid, DWORD os);
HRESULT cb_ThreadNameChanged(ICorProfilerCallback3 *iface, ThreadID tid, ULONG cch, WCHAR name[]);
HRESULT cb_RemotingClientInvocationStarted(ICorProfilerCallback3 *iface);
HRESULT cb_RemotingClientSendingMessage(ICorProfilerCallback3 *iface, GUID *c, BOOL a);
HRESULT cb_RemotingClientReceivingReply(ICorProfilerCallback3 *iface, GUID *c, BOOL a);
HRESULT cb_RemotingClientInvocationFinished(ICorProfilerCallback3 *iface);
HRESULT cb_RemotingServerReceivingMessage(ICorProfilerCallback3 *iface, GUID *c, BOOL a);
HRESULT cb_RemotingServerInvocationStarted(ICorProfilerCallback3 *iface);
HRESULT cb_RemotingServerInvocationReturned(ICorProfilerCallback3 *iface);
HRESULT cb_RemotingServerSendingReply(ICorProfilerCallback3 *iface, GUID *c, BOOL a);
HRESULT cb_UnmanagedToManagedTransition(ICorProfilerCallback3 *iface, FunctionID fid,
                                        COR_PRF_TRANSITION_REASON reason);
HRESULT cb_ManagedToUnmanagedTransition(ICorProfilerCallback3 *iface, FunctionID fid,
                                        COR_PRF_TRANSITION_REASON reason);
HRESULT cb_RuntimeSuspendStarted(ICorProfilerCallback3 *iface, COR_PRF_SUSPEND_REASON reason);
HRESULT cb_RuntimeResumeStarted(ICorProfilerCallback3 *iface);
HRESULT cb_RuntimeResumeFinished(ICorProfilerCallback3 *iface);
HRESULT cb_RuntimeThreadSuspended(ICorProfilerCallback3 *iface, ThreadID tid);
HRESULT cb_RuntimeThreadResumed(ICorProfilerCallback3 *iface, ThreadID tid);
/* Events that only count and log (SIMPLE_EVENT). */
HRESULT cb_RuntimeSuspendFinished(ICorProfilerCallback3 *iface);
HRESULT cb_RuntimeSuspendAborted(ICorProfilerCallback3 *iface);

/* abi_gc.c: the garbage collector */
HRESULT cb_MovedReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID old_start[],
                           ObjectID new_start[], ULONG lengths[]);
HRESULT cb_ObjectAllocated(ICorProfilerCallback3 *iface, ObjectID obj, ClassID cls);
HRESULT cb_ObjectsAllocatedByClass(ICorProfilerCallback3 *iface, ULONG n, ClassID classes[],
                                   ULONG counts[]);
HRESULT cb_ObjectReferences(ICorProfilerCallback3 *iface, ObjectID obj, ClassID cls, ULONG n,
                            ObjectID refs[]);
HRESULT cb_RootReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID refs[]);
HRESULT cb_GarbageCollectionStarted(ICorProfilerCallback3 *iface, int ngen, BOOL collected[],
                                    COR_PRF_GC_REASON reason);
HRESULT cb_SurvivingReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID starts[],
                               ULONG lengths[]);
HRESULT cb_GarbageCollectionFinished(ICorProfilerCallback3 *iface);
HRESULT cb_FinalizeableObjectQueued(ICorProfilerCallback3 *iface, DWORD flags, ObjectID obj);
HRESULT cb_RootReferences2(ICorProfilerCallback3 *iface, ULONG n, ObjectID refs[],
                           COR_PRF_GC_ROOT_KIND kinds[], COR_PRF_GC_ROOT_FLAGS flags[],
                           UINT_PTR ids[]);
HRESULT cb_HandleCreated(ICorProfilerCallback3 *iface, GCHandleID handle, ObjectID obj);
HRESULT cb_HandleDestroyed(ICorProfilerCallback3 *iface, GCHandleID handle);

/* abi_exceptions.c: exceptions, COM classic vtables, attach and detach */
HRESULT cb_ExceptionThrown(ICorProfilerCallback3 *iface, ObjectID obj);
HRESULT cb_ExceptionSearchFunctionEnter(ICorProfilerCallback3 *iface, FunctionID fid);
HRESULT cb_ExceptionSearchFilterEnter(ICorProfilerCallback3 *iface, FunctionID fid);
HRESULT cb_ExceptionSearchCatcherFound(ICorProfilerCallback3 *iface, FunctionID fid);
HRESULT cb_ExceptionOSHandlerEnter(ICorProfilerCallback3 *iface, UINT_PTR unused);
HRESULT cb_ExceptionOSHandlerLeave(ICorProfilerCallback3 *iface, UINT_PTR unused);
HRESULT cb_ExceptionUnwindFunctionEnter(ICorProfilerCallback3 *iface, FunctionID fid);
HRESULT cb_ExceptionUnwindFinallyEnter(ICorProfilerCallback3 *iface, FunctionID fid);
HRESULT cb_ExceptionCatcherEnter(ICorProfilerCallback3 *iface, FunctionID fid, ObjectID obj);
HRESULT cb_COMClassicVTableCreated(ICorProfilerCallback3 *iface, ClassID cls, REFGUID iid,
                                   void *vtable, ULONG slots);
HRESULT cb_COMClassicVTableDestroyed(ICorProfilerCallback3 *iface, ClassID cls, REFGUID iid,
                                     void *vtable);
HRESULT cb_InitializeForAttach(ICorProfilerCallback3 *iface, IUnknown *unk, void *data, UINT size);
/* Events that only count and log (SIMPLE_EVENT). */
HRESULT cb_ExceptionSearchFunctionLeave(ICorProfilerCallback3 *iface);
HRESULT cb_ExceptionSearchFilterLeave(ICorProfilerCallback3 *iface);
HRESULT cb_ExceptionUnwindFunctionLeave(ICorProfilerCallback3 *iface);
HRESULT cb_ExceptionUnwindFinallyLeave(ICorProfilerCallback3 *iface);
HRESULT cb_ExceptionCatcherLeave(ICorProfilerCallback3 *iface);
HRESULT cb_ExceptionCLRCatcherFound(ICorProfilerCallback3 *iface);
HRESULT cb_ExceptionCLRCatcherExecute(ICorProfilerCallback3 *iface);
HRESULT cb_ProfilerAttachComplete(ICorProfilerCallback3 *iface);
HRESULT cb_ProfilerDetachSucceeded(ICorProfilerCallback3 *iface);

/* abi_lifecycle.c: Initialize and Shutdown */
HRESULT cb_Initialize(ICorProfilerCallback3 *iface, IUnknown *unk);
HRESULT cb_Shutdown(ICorProfilerCallback3 *iface);

#endif
