/* host_private.h: the harness host's records, shared by host.c (loading, the run,
 * reports), info.c (ICorProfilerInfo1..15) and mdimport.c (IMetaDataImport). Not installed.
 *
 * IDs handed to the profiler are addresses of these records: a ModuleID is a
 * host_module *, a FunctionID a host_method *, an AssemblyID the module's assembly
 * member, the AppDomainID the host's domain member. Every ID that comes back from
 * the profiler is looked up among the live records before it is used, so a wrong
 * one gives E_INVALIDARG, never a wild read. */
#ifndef ILG_HOST_PRIVATE_H
#define ILG_HOST_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include "ilgraft/arena.h"
#include "ilgraft/host.h"
#include "ilgraft/hostmem.h"
#include "ilgraft/ilbody.h"
#include "ilgraft/loader.h"
#include "ilgraft/mdemit.h"
#include "ilgraft/metadata.h"

#include "ilg_private.h"

#define HRESULT_INSUFFICIENT_BUFFER ((HRESULT)0x8007007A)

typedef struct host_module host_module;

/* What CoreCLR compiles after a method's first JIT compilation (recompile.c). */
typedef enum host_tiering {
    HOST_TIERING_UNKNOWN = 0,    /* not classified yet */
    HOST_TIERING_NONE,           /* compiled once, optimized: no later pass */
    HOST_TIERING_UP,             /* tier 0, then tier 1 */
    HOST_TIERING_OSR             /* tier 0 with patchpoints, OSR, then tier 1 */
} host_tiering;

/* A method's ReJIT state (rejit.c), made at its first request. pending, ids and the
 * counts are under the host's rejit_lock; the rest under the method's lock. */
typedef struct host_rejit {
    uint32_t pending;            /* the ReJITID of a request not served yet, 0 when none */
    uint32_t active;             /* the ReJITID in force, 0: the original version */
    uint32_t serving;            /* the ReJITID being served (rejit_lock), 0 when none */
    bool revert_serving;         /* a RequestRevert came while it was (rejit_lock) */
    uint32_t *ids;               /* every version served (configured), host heap */
    uint32_t id_count, id_cap;
    uint64_t before;             /* `current` before the active version (for a revert) */
    uint32_t rva, size;          /* the active version's body (0 when it kept the IL) */
    uint8_t status;              /* ilg_host_rejit_status */
    DWORD codegen;               /* SetCodegenFlags of the last version served */
    uint32_t requests, reverts, warnings;
    /* The pending request's version gets GetReJITParameters (rejit_lock): false for an
     * inliner RequestReJITWithInliners rejits without COR_PRF_REJIT_INLINING_CALLBACKS. */
    bool callback;
    uint32_t as_inliner;         /* requests made for it as an inliner (rejit_lock) */
    char *diagnostic;            /* why the last version's body was rejected (host heap) */
    char *warning;               /* the last protocol warning's text (host heap) */
} host_rejit;

typedef struct host_method {
    host_module *module;
    uint32_t token;
    ilg_body_kind kind;
    uint32_t old_rva, old_size;
    uint32_t new_rva, new_size;
    /* The current body (image or arena) as RVA << 32 | size, 0 when there is none: one
     * word, so GetILFunctionBody reads it without a lock while another JIT thread
     * installs bodies. */
    _Atomic uint64_t current;
    ilg_host_method_status status;
    bool jitted;
    uint8_t tiering;             /* host_tiering (recompile: classified in the OSR pass) */
    /* recompile: index + 1 of its value-type instantiation in the module's insts (a
     * generic method's second FunctionID), 0 when it has none. */
    uint32_t inst;
    _Atomic uint32_t jit_events;     /* JITCompilationStarted for the token */
    _Atomic uint32_t set_calls;      /* SetILFunctionBody for the token */
    uint32_t rewritten_again;        /* under the method's lock */
    char *name;                  /* host heap, made on first need */
    char *diagnostic;            /* host heap */
    struct host_rejit *_Atomic rejit; /* NULL until the first ReJIT request */
    /* Its first JIT event is over: a ReJIT request is served at the next service point
     * (before, at that event). */
    atomic_bool compiled;
} host_method;

/* A FunctionID of its own for a generic method's value-type instantiation (recompile):
 * the instantiation shares the method's token, record and body. */
typedef struct host_inst {
    host_method *method;
} host_inst;

/* An emulated class: a ClassID per TypeDef (its address), what GetClassFromToken,
 * GetClassIDInfo/2 and GetFunctionInfo/2 answer. A generic type has none of its own
 * (CoreCLR's ClassIDs are per instantiation). */
typedef struct host_class {
    host_module *module;
    uint32_t token;
    /* Set at load; for a TypeDef the profiler defined, by DefineGenericParam (under the
     * metadata write lock) while readers may look. */
    _Atomic bool generic;
} host_class;

/* One metadata object per module (mdimport.c, mdassembly.c): IMetaDataImport2 extends
 * IMetaDataImport, so one vtable answers both; IMetaDataAssemblyImport has its own. */
/* The chunks of added method records (host_module.added). */
#define HOST_ADDED_CHUNKS 24
#define HOST_ADDED_FIRST 64u

typedef struct host_mdimport {
    union {
        IMetaDataImport IMetaDataImport_iface;
        IMetaDataImport2 IMetaDataImport2_iface;
    };
    IMetaDataAssemblyImport IMetaDataAssemblyImport_iface;
    union {
        IMetaDataEmit IMetaDataEmit_iface;
        IMetaDataEmit2 IMetaDataEmit2_iface;
    };
    IMetaDataAssemblyEmit IMetaDataAssemblyEmit_iface;
    _Atomic ULONG refs;          /* references the profiler holds, over all five */
    /* The module's metadata lock (docs/mdemit.md, "Threads"): every emit call holds it
     * for writing, every import call for reading. */
    pthread_rwlock_t lock;
    ilg_mdemit *em;              /* the image's writer, opened by the first emit call */
    /* Row lookups by a column's value (md_private.h), made on first need, freed with
     * the module; indexed [table][column]. */
    struct md_index *_Atomic index[ILG_TBL_COUNT][9];
    host_module *module;
} host_mdimport;

struct host_module {
    ilg_host *host;
    char *path;                  /* as given (host heap) */
    char *full_path;             /* absolute, what GetModuleInfo reports (host heap) */
    ilg_image *img;
    const ilg_metadata *md;
    ilg_image_info info;
    ilg_arena *arena;
    uint32_t method_count;
    host_method *methods;        /* [rid - 1], host heap */
    host_inst *insts;            /* recompile: the generic methods' instantiations */
    uint32_t inst_count;
    host_class *classes;         /* [TypeDef rid - 1], host heap */
    uint32_t class_count;
    char assembly;               /* its address is the AssemblyID */
    /* ModuleLoadFinished was delivered for it (the ReJIT protocol check). */
    atomic_bool announced;
    host_mdimport importer;
    /* Records of the methods a profiler defined (DefineMethod): chunk k holds
     * HOST_ADDED_FIRST << k of them, rids method_count + 1 on, allocated once and never
     * moved (FunctionIDs are their addresses); added_count grows under the metadata
     * lock, readers load it. */
    host_method *_Atomic added[HOST_ADDED_CHUNKS];
    _Atomic uint32_t added_count;
    /* Records of the TypeDefs a profiler defined (DefineTypeDef, DefineNestedType), in
     * chunks as added[] (ClassIDs are their addresses), rids class_count + 1 on. */
    host_class *_Atomic added_classes[HOST_ADDED_CHUNKS];
    _Atomic uint32_t added_class_count;
    /* Under --trace, what GetILFunctionBodyAllocator hands out: the arena's IMethodMalloc
     * (inner, a reference taken on first need, released with the module) behind a
     * tracing one (trace.c). */
    struct host_malloc_trace {
        IMethodMalloc IMethodMalloc_iface;
        IMethodMalloc *_Atomic inner;
        host_module *module;
    } malloc_trace;
    /* Under --inline: the inliner -> inlinee records (inline.c), else NULL. */
    struct host_inlines *inlines;
};

/* A thread delivering JIT callbacks during a run: its ThreadID and SetILFunctionBody's
 * decode and verify state, so that threads verify without sharing or waiting. Worker 0
 * is the thread that called ilg_host_run. */
typedef struct host_worker host_worker;
struct host_worker {
    ilg_host *host;
    ThreadID id;
    unsigned index;              /* 0 .. jit_threads - 1 */
    _Atomic DWORD os_tid;        /* gettid() of its thread once it runs, for GetThreadInfo */
    host_module *module;         /* the module whose methods it compiles */
    _Atomic uint32_t *next;      /* the next method index to claim (shared) */
    uint32_t run;                /* methods claimed at a time */
    ilg_body *check_body;        /* made on first use, freed after the run */
    ilg_findings check_findings;
    /* Under --inline: the caller's and a callee's decoded bodies (inline.c), made on
     * first use, freed after the run; apart from check_body, which a profiler's
     * SetILFunctionBody inside JITInlining uses. */
    ilg_body *inline_caller, *inline_callee;
    uint8_t pass;                /* host_pass it delivers */
    /* The method whose JIT event it is delivering (NULL between events), and whether
     * that event is not the method's first (SetILFunctionBody judges "again" by it). */
    host_method *event;
    bool event_again;
    char thread;                 /* its address is the ThreadID of workers 1.. */
};

/* The passes of a module's JIT events: the first compilations, then with recompile
 * the OSR and tier-1 recompilations (docs/profiler.md). */
typedef enum host_pass { HOST_PASS_FIRST = 0, HOST_PASS_OSR, HOST_PASS_TIER1 } host_pass;

/* The ICorProfilerInfo methods the host cannot answer (info_unsupported.def). */
typedef enum host_unsupported {
#define INFO_UNSUPPORTED(method, hr, why) HOST_UNSUP_##method,
#define INFO_UNSUPPORTED_IN_INIT(method, hr)
#include "info_unsupported.def"
#undef INFO_UNSUPPORTED
#undef INFO_UNSUPPORTED_IN_INIT
    HOST_UNSUP_COUNT
} host_unsupported;

struct ilg_host {
    /* The object handed to Initialize: one vtable, the newest's, answers every Info
     * version (each is a prefix of the next), as CoreCLR's ProfToEEInterfaceImpl does. */
    ICorProfilerInfo15 ICorProfilerInfo15_iface;
    _Atomic ULONG info_refs;
    IHostMemoryManager *memory;
    IHostMalloc *heap;
    FILE *log;
    bool trace;
    char *pattern;               /* host heap */

    void *lib;                   /* dlopen handle */
    ICorProfilerCallback2 *callback; /* every callback the host makes is Callback2's */
    int callback_version;
    /* A Callback11 profiler's LoadAsNotificationOnly answer (asked before Initialize, as
     * CoreCLR asks): its event mask is then limited as CoreCLR limits a notification
     * profiler's. */
    bool notification_only;
    char clsid_text[ILG_GUID_TEXT_SIZE + 2];
    _Atomic DWORD event_mask;    /* the profiler may set it from any JIT thread */
    _Atomic DWORD event_mask_high; /* SetEventMask2's COR_PRF_HIGH_MONITOR half */
    /* Inside Initialize: immutable flags may change, INIT_ONLY methods are allowed (read
     * from any thread the profiler starts). */
    atomic_bool initializing;
    /* Calls refused by their rule (ilg__host_entry), for the report. */
    _Atomic uint32_t refused;
    bool ran;
    bool recompile, recompile_strict;
    bool inlining;               /* --inline: JITInlining for the rule's call sites */
    _Atomic uint32_t again_rejected; /* bodies rejected as rewritten again (strict) */
    unsigned jit_threads;        /* threads delivering a module's JIT callbacks (>= 1) */
    /* During ilg_host_run: the workers, for GetThreadInfo (NULL outside a run). */
    host_worker *_Atomic run_workers;
    unsigned run_worker_count;
    DWORD session_tid;           /* gettid() of the thread driving the host */
    /* SetILFunctionBody's decode and verify state for a thread that is not one of the
     * run's workers (the profiler's own threads, or calls outside ilg_host_run):
     * made on first use, freed with the host, used under check_lock. */
    pthread_mutex_t check_lock;
    ilg_body *check_body;
    ilg_findings check_findings;
    /* Guards the trace and isolation outputs. */
    pthread_mutex_t lock;
    /* A method record's status, name and diagnostic are guarded by one of these, chosen
     * by its address: one lock for all makes JIT threads wait on each other
     * (docs/profiler.md). 128 bytes apart, so that no two of them share a cache line
     * whatever the heap's 16-byte alignment puts them. */
    struct {
        pthread_mutex_t m;
        char apart[128 - sizeof(pthread_mutex_t)];
    } method_locks[64];

    char domain;                 /* its address is the AppDomainID */
    char system_domain;          /* its address is the system domain's AppDomainID:
                                  * created and named at startup, holding nothing */
    atomic_bool domain_named;    /* the app's domain is `clrhost` (else DefaultDomain) */
    char thread;                 /* its address is the ThreadID */
    /* SetEnvironmentVariable's variables, seen by GetEnvironmentVariable only (CoreCLR
     * keeps them from the process's environ too), under env_lock. */
    struct host_env *env;
    pthread_mutex_t env_lock;
    /* The instantiations of generic types and methods handed out as ClassIDs and
     * FunctionIDs (classes.c), each a record of the host heap, under generics_lock. */
    pthread_mutex_t generics_lock;
    struct host_generic **generics;
    uint32_t generic_count, generic_cap;
    /* Calls of each unsupported Info method (info_unsupported.def), for the report. */
    _Atomic uint32_t unsupported[HOST_UNSUP_COUNT];
    host_module **modules;       /* host heap */
    uint32_t module_count, module_cap;
    /* ReJIT (rejit.c): the requests in order, the last ReJITID handed out, function
     * controls the profiler still holds after GetReJITParameters, under rejit_lock. */
    pthread_mutex_t rejit_lock;
    host_method **rejit_queue;   /* host heap */
    _Atomic uint32_t rejit_queue_count;
    uint32_t rejit_queue_cap;
    uint32_t rejit_next_id;
    struct host_fc *rejit_orphans;
    _Atomic uint32_t rejit_warnings; /* protocol warnings, all methods */
    bool strict_rejit;           /* protocol warnings are errors */
};

/* A Release of an object that lives in the host's records: counts down to 0, not
 * past it (a profiler that releases too often must not wrap the count). */
static inline ULONG ilg__host_unref(_Atomic ULONG *refs)
{
    ULONG n = atomic_load(refs);
    while (n && !atomic_compare_exchange_weak(refs, &n, n - 1))
        ;
    return n ? n - 1 : 0;
}

static inline pthread_mutex_t *ilg__host_method_lock(const host_method *meth)
{
    ilg_host *h = meth->module->host;
    size_t n = sizeof h->method_locks / sizeof h->method_locks[0];
    return &h->method_locks[((uintptr_t)meth / sizeof *meth) % n].m;
}

/* ---- Entry into the host from the profiler -------------------------------------------
 * The first statement of every ICorProfilerInfo and IMetaDataImport method the host
 * gives a profiler, implemented or stub, in the manner of CoreCLR's
 * PROFILER_TO_CLR_ENTRYPOINT_* macros: HOST_ENTRY(host, interface, method, rule)
 * returns from the method with the HRESULT ilg__host_entry gives when that is not S_OK;
 * HOST_STUB_ENTRY does the same for a metadata method the host does not implement, whose
 * --trace line then ends "[not implemented]" (an unsupported Info method goes through
 * ilg__host_unsupported instead); the _NORESULT forms are for methods that return no
 * HRESULT (AddRef, Release, CloseEnum, IsValidToken), which cannot refuse.
 *
 * rule is the method's rule in CoreCLR (which macro its ProfToEEInterfaceImpl method
 * opens with, and that macro's flags; host/info_rules.def lists every Info method's).
 * ilg__host_entry enforces it with CoreCLR's HRESULTs (docs/profiler.md, "Call rules"):
 * a SYNC method is refused (CORPROF_E_UNSUPPORTED_CALL_SEQUENCE) on a thread the host
 * manages (the session thread during ilg_host_run, the JIT workers) outside a callback,
 * and a TRIGGERS one also inside a callback that must not trigger a GC; a thread the
 * host does not manage (the profiler's own, or the session thread in Initialize, which
 * CoreCLR calls before the thread is a runtime thread) passes, as in CoreCLR. An
 * INIT_ONLY method is refused (CORPROF_E_CALL_ONLY_FROM_INIT) on every thread once
 * Initialize has returned. */
typedef enum host_call_rule {
    HOST_CALL_ANY = 0,           /* no rule: IUnknown's methods, IMetaDataImport */
    HOST_CALL_ASYNC = 1,         /* _ASYNC_EX: from any thread while the profiler is loaded */
    HOST_CALL_SYNC = 2,          /* _SYNC_EX: inside a callback on a managed thread, else
                                    CORPROF_E_UNSUPPORTED_CALL_SEQUENCE */
    HOST_CALL_INIT_ONLY = 3,     /* _CALLABLE_ON_INIT_ONLY: inside Initialize, else
                                    CORPROF_E_CALL_ONLY_FROM_INIT */
    HOST_CALL_FORCEGC = 4,       /* ForceGC's own test: refused inside a callback on a
                                    managed thread (CORPROF_E_UNSUPPORTED_CALL_SEQUENCE) */
    HOST_CALL_KIND = 0x0F,
    HOST_CALL_AFTER_ATTACH = 0x10, /* kP2EEAllowableAfterAttach: an attached profiler may */
    HOST_CALL_TRIGGERS = 0x20      /* kP2EETriggers: may trigger a GC (a SYNC call then needs
                                      the callback's triggers scope) */
} host_call_rule;

/* The calling thread's callback state (CoreCLR's per-thread profiler callback state):
 * set by the host around every callback it delivers, restored after. */
enum {
    HOST_CB_INSIDE = 1,          /* inside a callback */
    HOST_CB_TRIGGERS = 2         /* ... one that may trigger a GC (all but
                                    ThreadAssignedToOSThread) */
};
extern _Thread_local uint8_t ilg__host_cb_state;

/* The calling thread's worker, or NULL outside a run's threads. */
extern _Thread_local host_worker *ilg__host_worker;

/* A metadata stub's call under --trace: notes "not implemented" for its trace line. */
void ilg__host_trace_stub(ilg_host *host, const char *iface, const char *method);
/* An unsupported Info method's call: counted, its reason noted for its --trace line;
 * returns the HRESULT it answers. */
HRESULT ilg__host_unsupported(ilg_host *host, const char *iface, unsigned index);
/* Its name, HRESULT and reason (info_unsupported.def), index < HOST_UNSUP_COUNT. */
const char *ilg__host_unsupported_name(unsigned index);
/* A call refused by its rule: counted for the report, noted for the trace; returns hr. */
HRESULT ilg__host_refuse(ilg_host *host, HRESULT hr);
/* Whether the calling thread is one the host runs as a runtime thread. */
bool ilg__host_managed_thread(const ilg_host *host);
static inline HRESULT ilg__host_entry(ilg_host *host, const char *iface, const char *method,
                                      unsigned rule, bool stub)
{
    if (stub && host->trace)
        ilg__host_trace_stub(host, iface, method);
    switch (rule & HOST_CALL_KIND) {
    case HOST_CALL_SYNC: {
        unsigned need = HOST_CB_INSIDE | (rule & HOST_CALL_TRIGGERS ? HOST_CB_TRIGGERS : 0);
        if ((ilg__host_cb_state & need) != need && ilg__host_managed_thread(host))
            return ilg__host_refuse(host, CORPROF_E_UNSUPPORTED_CALL_SEQUENCE);
        break;
    }
    case HOST_CALL_INIT_ONLY:
        if (!atomic_load_explicit(&host->initializing, memory_order_acquire))
            return ilg__host_refuse(host, CORPROF_E_CALL_ONLY_FROM_INIT);
        break;
    case HOST_CALL_FORCEGC:
        if ((ilg__host_cb_state & HOST_CB_INSIDE) && ilg__host_managed_thread(host))
            return ilg__host_refuse(host, CORPROF_E_UNSUPPORTED_CALL_SEQUENCE);
        break;
    default:
        break;
    }
    return S_OK;
}
#define HOST_ENTRY_AS(host, iface, method, rule, stub)                                     \
    do {                                                                                   \
        HRESULT host_entry_hr_ = ilg__host_entry((host), (iface), (method), (rule), (stub)); \
        if (host_entry_hr_ != S_OK)                                                        \
            return host_entry_hr_;                                                         \
    } while (0)
#define HOST_ENTRY(host, iface, method, rule) HOST_ENTRY_AS(host, iface, method, rule, false)
#define HOST_ENTRY_NORESULT(host, iface, method, rule)                                     \
    ((void)ilg__host_entry((host), (iface), (method), (rule), false))
/* Stubs carry no rule: they refuse nothing and answer E_NOTIMPL. */
#define HOST_STUB_ENTRY(host, iface, method) HOST_ENTRY_AS(host, iface, method, HOST_CALL_ANY, true)
#define HOST_STUB_ENTRY_NORESULT(host, iface, method)                                      \
    ((void)ilg__host_entry((host), (iface), (method), HOST_CALL_ANY, true))

/* What GetRuntimeInformation reports: the CoreCLR the host plays. */
#define HOST_CLR_MAJOR 10
#define HOST_CLR_MINOR 0
#define HOST_CLR_BUILD 12
#define HOST_CLR_QFE 0
#define HOST_CLR_VERSION "10.0.12"

/* info.c */
void ilg__host_info_init(ilg_host *host);
/* Frees what the Info object keeps (the environment overlay). */
void ilg__host_info_free(ilg_host *host);
/* Makes m's class records (ILG_E_NOMEM when they cannot be allocated). */
ilg_status ilg__host_make_classes(host_module *m);
/* Checks id against the live records; NULL when it is not one of them. */
host_module *ilg__host_find_module(const ilg_host *host, UINT_PTR id);
host_method *ilg__host_find_method(const ilg_host *host, UINT_PTR id);
/* Method rid of a MethodDef token in module m, 0 when it is not one. */
uint32_t ilg__host_method_rid(const host_module *m, mdToken token);
/* The record of MethodDef rid of m (an image's method or one a profiler defined), NULL
 * when there is none. */
host_method *ilg__host_method_at(const host_module *m, uint32_t rid);
/* Makes the record of the MethodDef the profiler just defined (under the metadata write
 * lock): false without memory. */
bool ilg__host_method_add(host_module *m, mdToken token);
/* Added record i (0-based) of the chunks added[] or added_classes[]: chunk *k, index *j. */
bool ilg__host_added_slot(uint32_t i, uint32_t *k, uint32_t *j);
/* Under the module's metadata write lock: the record of TypeDef token, just defined
 * (false without memory or when token is not the next rid); a TypeDef token defined
 * here that gets a generic parameter. */
bool ilg__host_class_add(host_module *m, mdToken token);
void ilg__host_class_generic(host_module *m, mdToken token);
/* The method's display name (made and cached on first use), or "?" when out of memory. */
const char *ilg__host_method_name(host_method *meth);
/* The same for a caller that uses it once: the cached name, else made into buf (size
 * bytes) without caching it. Returns its length (buf holds it, not NUL-terminated;
 * 0 for a name that cannot be made), or SIZE_MAX when it needs size bytes or more. */
size_t ilg__host_method_name_put(host_method *meth, char *buf, size_t size);
/* Copies UTF-8 text into a UTF-16 buffer of cch units with the metadata API's rules:
 * *pch (optional) receives the length with the NUL; returns true when it fit. */
bool ilg__host_to_wide(const char *text, WCHAR *buf, ULONG cch, ULONG *pch);
/* UTF-16 to UTF-8 into buf; false when it does not fit or is not valid. */
bool ilg__host_from_wide(const WCHAR *text, char *buf, size_t size);
/* Records the isolation slot's last-callback text (the trace lines are host.c's DELIVER). */
void ilg__host_enter_callback(ilg_host *host, const char *name);

/* enums.c: enumerators over a copy of count items, the caller's reference (E_OUTOFMEMORY
 * when it cannot be made). */
HRESULT ilg__host_object_enum(const ObjectID *items, ULONG count, ICorProfilerObjectEnum **out);
HRESULT ilg__host_function_enum(const COR_PRF_FUNCTION *items, ULONG count,
                                ICorProfilerFunctionEnum **out);
HRESULT ilg__host_module_enum(const ModuleID *items, ULONG count, ICorProfilerModuleEnum **out);
HRESULT ilg__host_thread_enum(const ThreadID *items, ULONG count, ICorProfilerThreadEnum **out);

/* recompile.c */
/* Marks each generic method of m (its own GenericParam rows or its type's) with an
 * instantiation record; ILG_E_NOMEM when the records cannot be allocated. */
ilg_status ilg__host_make_insts(host_module *m);
/* How CoreCLR tiers meth, from its original IL (decoded into *scratch, made on first
 * use) and its flags; the profiler's COR_PRF_DISABLE_OPTIMIZATIONS is the caller's. */
host_tiering ilg__host_tiering(const host_method *meth, ilg_body **scratch);
/* The FunctionID of meth's instantiation k (0: the method's own record). */
static inline FunctionID ilg__host_fid(const host_method *meth, uint32_t k)
{
    return k ? (FunctionID)&meth->module->insts[meth->inst - 1] : (FunctionID)meth;
}

/* mdimport.c */
void ilg__host_mdimport_init(host_module *m);
/* Frees what the metadata object made for itself (its lookup indexes). */
void ilg__host_mdimport_free(host_module *m);
/* The MethodDef rows [*first, *first + *count) that TypeDef td_rid owns (II.22.37). */
void ilg__host_methods_of(const ilg_metadata *md, uint32_t td_rid, uint32_t *first,
                          uint32_t *count);

/* infobody.c: decodes and verifies a body for meth as the JIT would take it: S_OK and
 * *size, else the fault's HRESULT and why[whysize]. again: the JIT-time "rewritten again
 * on recompile" check too. */
HRESULT ilg__host_check_body(host_method *meth, const uint8_t *p, size_t avail, bool again,
                             uint32_t *size, char *why, size_t whysize);

/* rejit.c */
/* The method whose ReJITCompilationStarted the calling thread is delivering, or NULL. */
extern _Thread_local host_method *ilg__host_rejit_started;
/* At meth's first JIT event: serves its pending ReJIT in place of the JIT pair (true),
 * or false when it has none. */
bool ilg__host_rejit_first_call(host_worker *w, host_method *meth);
/* A recompilation (OSR, tier 1) of meth's FunctionID fid: when a ReJIT version is in
 * force, its ReJITCompilationStarted/Finished pair is delivered (true) in place of the
 * JIT pair. */
bool ilg__host_rejit_recompile(host_worker *w, host_method *meth, FunctionID fid);
/* A service point: serves the queued requests of compiled methods, in request order. */
void ilg__host_rejit_serve(ilg_host *h);
/* Whether the JIT may not inline meth because ReJIT is enabled and a ReJIT version of
 * it is requested or in force (CoreCLR's canInline asks for the default IL version in
 * force; no JITInlining then). Takes the rejit and method locks. */
bool ilg__host_rejit_blocks_inlining(host_method *meth);
/* GetReJITIDs' list for meth: 0, then each version served. */
HRESULT ilg__host_rejit_ids(host_method *meth, ULONG cap, ULONG *count, ReJITID ids[]);
/* Info's SetILFunctionBody for meth: the ReJIT protocol check (S_OK, or the refusal under
 * strict_rejit). */
HRESULT ilg__host_rejit_info_body(host_method *meth);
void ilg__host_rejit_free(ilg_host *h, host_method *meth);
void ilg__host_rejit_host_free(ilg_host *h);

/* isolate.c: the shared page of the current isolated child, or NULL. */
extern char *ilg__isolate_last_callback;

#endif
