/* ilgraft/host.h: the profiler harness host. It plays the part of the CLR for a
 * profiler shared library: loads it the way CoreCLR does (dlopen, DllGetClassObject,
 * IClassFactory::CreateInstance for ICorProfilerCallback2, then QueryInterface for
 * newer callback versions, newest first), calls Initialize with an ICorProfilerInfo3,
 * and for each image delivers the load callbacks, JITCompilationStarted/Finished for
 * every method with IL, the unload callbacks and Shutdown, honouring the event mask.
 * The profiler may rewrite bodies with SetILFunctionBody; the host verifies each new
 * body (ilbody) and keeps a per-method record of what happened.
 *
 * Bookkeeping (module and method records, names, enumerators, diagnostics) is
 * allocated through an IHostMalloc from an IHostMemoryManager (hostmem.h), so fault
 * injection reaches it and leaks show in its report.
 *
 * Ownership: an ilg_host owns the profiler library, the images it ran and every
 * record; pointers it hands out (ilg_host_method.name, .diagnostic, module paths) stay
 * valid until ilg_host_free(). One thread drives a host. By default the profiler's
 * callbacks run on that thread, in a fixed order, so a run is repeatable; with
 * jit_threads > 1 a module's JIT callbacks come from that many threads at once, as in
 * CoreCLR when several threads compile, and the profiler must be thread-safe. */
#ifndef ILGRAFT_HOST_H
#define ILGRAFT_HOST_H

#include <stdbool.h>
#include <stdio.h>

#include "ilgraft/com.h"
#include "ilgraft/common.h"
#include "ilgraft/corprof.h"
#include "ilgraft/hostmem.h"
#include "ilgraft/save.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ilg_host ilg_host;

typedef struct ilg_host_options {
    /* Only methods whose "Namespace.Type::Method" matches this fnmatch(3) pattern get
     * JIT callbacks (NULL: every method with IL). */
    const char *methods_pattern;
    /* Where the host writes its messages (CoreCLR-style load failures and, when trace is
     * set, one line per callback delivered and per call the profiler makes into the host:
     * docs/profiler.md, "--trace"). NULL: stderr. Not closed. */
    FILE *log;
    bool trace;
    /* The memory manager the bookkeeping allocates from (a reference is taken). NULL:
     * the host creates its own with ilg_hostmem_create (which honours
     * ILG_HOSTMEM_FAULTS). */
    IHostMemoryManager *memory;
    /* Threads that deliver each module's JITCompilationStarted/Finished pairs, taking
     * methods in runs of up to 64 from a shared counter (0 or 1: the calling thread alone, in
     * MethodDef order). Each thread has its own ThreadID (GetCurrentThreadID) and the
     * pair for one method always comes from one thread. The per-method results do not
     * depend on it; where in the arena each new body lands does. At most
     * ILG_HOST_MAX_JIT_THREADS. */
    unsigned jit_threads;
    /* Recompile methods as CoreCLR does (docs/profiler.md, "Recompilation"): after each
     * module's first JITCompilationStarted/Finished pairs (MethodDef order) come a pass
     * of OSR pairs for the methods whose original IL branches backward (on-stack
     * replacement), then a pass of tier-1 pairs (tier-up), both with the FunctionIDs of
     * the first pass; a generic method (its own generic parameters or its type's) has
     * two FunctionIDs sharing its token: the shared canonical code and a value-type
     * instantiation. GetILFunctionBody and SetILFunctionBody stay per module and token.
     * Off (and ILG_HOST_RECOMPILE unset): one pair per method. */
    bool recompile;
    /* ReJIT protocol checks (docs/profiler.md, "ReJIT") are errors, not warnings: a
     * request for a method of a module no ModuleLoadFinished announced gets ReJITError
     * CORPROF_E_UNSUPPORTED_CALL_SEQUENCE, ICorProfilerInfo::SetILFunctionBody inside
     * ReJITCompilationStarted is refused with it. */
    bool strict_rejit;
    /* With recompile: a body "rewritten again on recompile" (ilg_host_method) is
     * rejected with CORPROF_E_UNSUPPORTED_CALL_SEQUENCE and ilg_host_run fails with
     * ILG_E_PROF_REWRITTEN_AGAIN. Implies recompile. */
    bool recompile_strict;
    /* Model the JIT's inlining (docs/profiler.md, "Inlining"): while a method compiles,
     * JITInlining(caller, callee) for each call site whose callee CoreCLR's JIT always
     * inlines (a direct call to a non-generic method of the same module, or of a loaded
     * one through a MemberRef, with at most 16 bytes of IL, no EH, localloc or jmp, not
     * NoInlining, not synchronized, not recursive), unless the event mask lacks COR_PRF_MONITOR_JIT_COMPILATION or
     * has COR_PRF_DISABLE_INLINING or COR_PRF_DISABLE_OPTIMIZATIONS. A refusal
     * (*pfShouldInline = FALSE) leaves the call site out of line; an inlined callee
     * whose body SetILFunctionBody changes later is reported as a stale inliner. */
    bool inlining;
} ilg_host_options;

#define ILG_HOST_MAX_JIT_THREADS 64

/* A new host without a profiler. opts may be NULL. *out is freed with ilg_host_free.
 * When opts leaves recompile off, the environment variable ILG_HOST_RECOMPILE turns it
 * on: "1" as recompile, "strict" as recompile_strict (so a test suite can run every
 * host it makes that way). */
ILG_API ilg_status ilg_host_new(const ilg_host_options *opts, ilg_host **out);

/* Releases the profiler, unloads its library, closes every image, frees the records.
 * NULL is allowed. */
ILG_API void ilg_host_free(ilg_host *host);

/* Loads the profiler at path with the CLSID in text form, braces optional
 * ("{8A8CC829-...}"), and runs Initialize, as CoreCLR 10 does: dlopen with lazy symbol
 * binding, DllGetClassObject, CreateInstance(ICorProfilerCallback2), QueryInterface for
 * Callback2 again, then Callback11 down to Callback3 (the first answered is the version;
 * none is needed). Each failing step is logged with CoreCLR's wording and gives a
 * status: ILG_E_PROF_BAD_CLSID, ILG_E_PROF_LOAD (dlopen or no DllGetClassObject),
 * ILG_E_PROF_CLASS_FACTORY, ILG_E_PROF_CREATE_INSTANCE, ILG_E_PROF_NO_CALLBACK2 (the
 * object refused the second Callback2 query), ILG_E_PROF_INIT_FAILED (Initialize
 * returned a failure). ILG_E_INVALID_ARG when a profiler is already loaded. */
ILG_API ilg_status ilg_host_load_profiler(ilg_host *host, const char *path, const char *clsid);

/* The profiler CoreCLR 10 would load at startup (profilinghelper.cpp): only when
 * CORECLR_ENABLE_PROFILING is a nonzero hexadecimal number; the CLSID from
 * CORECLR_PROFILER, with braces (ILG_E_PROF_BAD_CLSID without); the library from
 * CORECLR_PROFILER_PATH_64, else CORECLR_PROFILER_PATH. An empty variable counts as
 * unset; no DOTNET_ name is read. ILG_E_NOT_FOUND names what is missing. */
ILG_API ilg_status ilg_host_load_profiler_env(ilg_host *host);

/* CORECLR_PROFILER_PATH_64, else CORECLR_PROFILER_PATH (empty ones skipped), else NULL.
 * The string is the environment's (valid until it changes). */
ILG_API const char *ilg_host_env_profiler_path(void);

/* Whether CORECLR_ENABLE_PROFILING enables profiling as CoreCLR reads it. */
ILG_API bool ilg_host_env_profiling_enabled(void);

/* The highest callback interface version the profiler answered (2..11), 0 before a
 * profiler is loaded. */
ILG_API int ilg_host_callback_version(const ilg_host *host);

/* Opens each image and runs it through the profiler: AppDomain creation (once, before
 * the first image), assembly and module loads, JIT callbacks, then for every image the
 * unload callbacks, AppDomain shutdown and Shutdown. Call once per host. Fails on the
 * first image that does not open or has no metadata (the images before it have run;
 * Shutdown is still delivered). With recompile_strict, a run that rejected a body
 * rewritten again on recompile completes and then fails with
 * ILG_E_PROF_REWRITTEN_AGAIN. */
ILG_API ilg_status ilg_host_run(ilg_host *host, const char *const *images, size_t count);

typedef enum ilg_host_method_status {
    ILG_HOST_UNCHANGED = 0,
    ILG_HOST_REWRITTEN,
    ILG_HOST_REJECTED
} ilg_host_method_status;

/* What ReJIT did to a method (docs/profiler.md, "ReJIT"). */
typedef enum ilg_host_rejit_status {
    ILG_HOST_REJIT_NONE = 0,     /* never requested, or requested and not served */
    ILG_HOST_REJIT_REJITTED,     /* a version with the body GetReJITParameters set is in force */
    ILG_HOST_REJIT_SAME_IL,      /* served with no body set: the same IL compiled again */
    ILG_HOST_REJIT_REJECTED,     /* the body set was rejected: the IL before stays */
    ILG_HOST_REJIT_REVERTED      /* RequestRevert undid a served version */
} ilg_host_rejit_status;

typedef struct ilg_host_method {
    uint32_t token;
    const char *name;            /* "int32 Calc::Add(int32, int32)" */
    uint32_t old_rva, old_size;  /* the image's body (0, 0 when it has none) */
    uint32_t new_rva, new_size;  /* the accepted replacement (0, 0 when none) */
    ilg_host_method_status status;
    bool jitted;                 /* JIT callbacks were delivered for it */
    const char *diagnostic;      /* why the last SetILFunctionBody was rejected, or NULL */
    uint32_t jit_events;         /* JITCompilationStarted for its token, all FunctionIDs */
    uint32_t set_calls;          /* SetILFunctionBody calls for its token */
    /* Calls that set a body "rewritten again on recompile": made during a JIT event
     * for the method that is not its first, when its current body is one the profiler
     * set, with bytes that differ from that body (accepted, or rejected under
     * recompile_strict). A profiler that rewrites whatever GetILFunctionBody returns
     * does this at every recompilation. */
    uint32_t rewritten_again;
    /* ReJIT: the last version served (its ReJITID, 0 when none), its body (0, 0 when it
     * kept the IL), the requests and reverts made, the protocol warnings and the last
     * one's text, and why the last body was rejected. */
    ilg_host_rejit_status rejit_status;
    uint32_t rejit_id, rejit_rva, rejit_size;
    uint32_t rejit_requests, rejit_reverts, rejit_warnings;
    bool rejit_pending;          /* a request not served (the method was never compiled) */
    const char *rejit_warning, *rejit_diagnostic;
    /* Of rejit_requests, those RequestReJITWithInliners made for it as an inliner of a
     * method named in the request (docs/profiler.md, "ReJIT and inlining"). */
    uint32_t rejit_as_inliner;
} ilg_host_method;

typedef struct ilg_host_module {
    const char *path;
    uint64_t image_size;
    uint64_t arena_offset;
    uint32_t method_count;       /* MethodDef rows, those a profiler defined included */
} ilg_host_module;

ILG_API uint32_t ilg_host_module_count(const ilg_host *host);
ILG_API ilg_status ilg_host_module_get(const ilg_host *host, uint32_t index, ilg_host_module *out);
/* Method rid (1-based MethodDef row) of module index. */
ILG_API ilg_status ilg_host_method_get(const ilg_host *host, uint32_t index, uint32_t rid,
                                       ilg_host_method *out);

typedef enum ilg_report_format {
    /* A table per module (methods rewritten, rejected or rewritten again on recompile,
     * with their JIT events and SetILFunctionBody calls, then a summary line). */
    ILG_REPORT_TEXT = 0,
    /* {"modules": [{"path", "image_size", "arena_offset", "methods": [{"token", "name",
     * "old_rva", "old_size", "new_rva", "new_size", "status", "jit_events",
     * "set_body_calls", "rewritten_again", "diagnostic"?}], "inlining"?, "warnings"?}]}
     * listing every method; with inlining, each module's "inlining" ({"sites",
     * "refused", "pairs": [{"inliner", "inliner_token", "inlinee", "inlinee_token",
     * "sites", "refused", "inlined", "stale"}]}) and "warnings" (one text per stale
     * inliner). */
    ILG_REPORT_JSON = 1,
    /* Only each module's header and summary line, and the methods rejected or rewritten
     * again on recompile with their diagnostics: no other method is named (batch runs
     * over large assemblies, where naming every rewritten method costs more than
     * rewriting it). */
    ILG_REPORT_SUMMARY = 2
} ilg_report_format;

/* Writes the report in the given format to `to` (ILG_E_IO when writing fails). */
ILG_API ilg_status ilg_host_write_report(const ilg_host *host, ilg_report_format format, FILE *to);

/* ---- isolation ---------------------------------------------------------------------- */

typedef struct ilg_isolate_result {
    bool exited;                 /* the child exited (exit_code is valid) */
    int exit_code;
    int signal;                  /* the signal that killed it, 0 if none */
    bool timed_out;              /* killed after timeout_ms */
    char last_callback[64];      /* the last callback the host entered, "" if none */
} ilg_isolate_result;

/* Runs fn(ctx) in a child process (fork) and waits up to timeout_ms (0: no limit).
 * While it runs, every host in the child records the callback it is delivering in
 * memory the parent can read, so a crash or hang is reported with the last callback.
 * A hung child is killed with SIGKILL. The child's exit code is fn's return value.
 * fn starts with SIGSEGV, SIGBUS, SIGILL and SIGFPE at their default action (a
 * sanitizer's handler would turn a crash into an exit code). ILG_E_IO when fork or the
 * shared page fails. */
ILG_API ilg_status ilg_isolate_run(int (*fn)(void *ctx), void *ctx, unsigned timeout_ms,
                                   ilg_isolate_result *out);

/* After ilg_host_run: writes every module the host ran into dir (which must exist)
 * under its original file name: modules with rewritten methods through
 * ilg_save_write, the others as byte copies, so dir holds a complete set. Beside each
 * one it copies the application files dotnet reads, NAME.runtimeconfig.json and
 * NAME.deps.json (NAME: the module's file name without its extension), when they are
 * beside the input, so that `dotnet DIR/NAME.dll` runs as is. A module whose output
 * path is its own input is refused (ILG_E_INVALID_ARG). Stops at the first failure
 * (ILG_E_IO for a file that cannot be read or written). *written (may be NULL)
 * receives the number of modules written (the copied application files not counted). */
ILG_API ilg_status ilg_host_save(ilg_host *host, const char *dir, const ilg_save_options *opts,
                                 uint32_t *written);

#ifdef __cplusplus
}
#endif
#endif
