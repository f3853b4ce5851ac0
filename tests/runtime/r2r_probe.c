/* r2r_probe.c: a profiler (built against ilgraft/corprof.h alone, on the integration
 * tests' skeleton prof_common.c) that tells which methods a real CoreCLR runs from
 * ReadyToRun code and where that code is. With COR_PRF_MONITOR_CACHE_SEARCHES the
 * runtime reports JITCachedFunctionSearchStarted when a method has a precompiled
 * entry point and ...Finished(FOUND) once its fixups are resolved; JIT-compiled
 * methods get JITCompilationStarted instead. Nothing here refuses precompiled code
 * (no COR_PRF_MONITOR_CODE_TRANSITIONS, no COR_PRF_DISABLE_ALL_NGEN_IMAGES).
 *
 * The code's address is known only after the runtime has published it, so found
 * functions are queued and resolved (GetCodeInfo2, GetFunctionInfo, GetModuleInfo2)
 * at the next callback and at Shutdown. Log lines (PROF_LOG):
 *   SEARCH module=PATH token=0x06..    (the runtime found an entry point)
 *   R2R module=PATH token=0x06.. base=0x.. flags=0x.. rva=0x.. size=N ranges=N hash=H
 *   JIT module=PATH token=0x06..
 * A SEARCH without its R2R line is code the runtime found and then refused (a fixup,
 * such as an instruction set check, failed).
 * rva is the code's address minus the module's base, size the first range's bytes,
 * hash the FNV-1a 64 of those bytes as they are in memory. R2R_PROBE_ONLY (a module
 * path substring) limits the lines to matching modules. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define PENDING_MAX 65536
#define NAME_MAX_CHARS 1024

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FunctionID pending[PENDING_MAX];
static size_t npending;
static unsigned long found, searched, jitted, unresolved;

static bool module_path(ICorProfilerInfo3 *info, ModuleID mod, char *out, LPCBYTE *base,
                        DWORD *flags)
{
    WCHAR w[NAME_MAX_CHARS];
    ULONG n = 0;
    AssemblyID asm_id;
    if (info->lpVtbl->GetModuleInfo2(info, mod, base, NAME_MAX_CHARS, &n, w, &asm_id, flags) != S_OK)
        return false;
    ULONG i;
    for (i = 0; i < n && i + 1 < NAME_MAX_CHARS && w[i]; i++)
        out[i] = w[i] < 0x80 ? (char)w[i] : '?';
    out[i] = 0;
    const char *only = getenv("R2R_PROBE_ONLY");
    return !only || !*only || strstr(out, only) != NULL;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* True when the function's code could be reported (or never will be). */
static bool resolve(ICorProfilerInfo3 *info, FunctionID fid)
{
    COR_PRF_CODE_INFO ranges[8];
    ULONG32 n = 0;
    if (info->lpVtbl->GetCodeInfo2(info, fid, 8, &n, ranges) != S_OK || n == 0)
        return false;
    ClassID cls;
    ModuleID mod;
    mdToken tok;
    LPCBYTE base = NULL;
    DWORD flags = 0;
    char path[NAME_MAX_CHARS];
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) != S_OK ||
        !module_path(info, mod, path, &base, &flags))
        return true;
    const uint8_t *code = (const uint8_t *)ranges[0].startAddress;
    prof_log("R2R module=%s token=0x%08x base=0x%lx flags=0x%x rva=0x%lx size=%lu ranges=%u "
             "hash=%016llx",
             path, (unsigned)tok, (unsigned long)base, (unsigned)flags,
             (unsigned long)(ranges[0].startAddress - (UINT_PTR)base),
             (unsigned long)ranges[0].size, (unsigned)n,
             (unsigned long long)fnv1a(code, ranges[0].size));
    return true;
}

static void drain(ICorProfilerInfo3 *info)
{
    pthread_mutex_lock(&lock);
    size_t kept = 0;
    for (size_t i = 0; i < npending; i++)
        if (!resolve(info, pending[i]))
            pending[kept++] = pending[i];
    npending = kept;
    pthread_mutex_unlock(&lock);
}

static HRESULT pr_initialize(ICorProfilerInfo3 *info)
{
    DWORD mask = COR_PRF_MONITOR_JIT_COMPILATION | COR_PRF_MONITOR_CACHE_SEARCHES;
    HRESULT hr = info->lpVtbl->SetEventMask(info, mask);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    prof_log("initialized mask=0x%x", (unsigned)mask);
    return S_OK;
}

/* "KIND module=PATH token=0x.." for fid, when its module is wanted. */
static void log_function(ICorProfilerInfo3 *info, const char *kind, FunctionID fid)
{
    ClassID cls;
    ModuleID mod;
    mdToken tok;
    LPCBYTE base;
    DWORD flags;
    char path[NAME_MAX_CHARS];
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) == S_OK &&
        module_path(info, mod, path, &base, &flags))
        prof_log("%s module=%s token=0x%08x", kind, path, (unsigned)tok);
}

static HRESULT pr_search_started(ICorProfilerInfo3 *info, FunctionID fid, BOOL *use)
{
    drain(info);
    pthread_mutex_lock(&lock);
    searched++;
    pthread_mutex_unlock(&lock);
    log_function(info, "SEARCH", fid);
    *use = TRUE;
    return S_OK;
}

static HRESULT pr_search_finished(ICorProfilerInfo3 *info, FunctionID fid, COR_PRF_JIT_CACHE result)
{
    if (result != COR_PRF_CACHED_FUNCTION_FOUND)
        return S_OK;
    pthread_mutex_lock(&lock);
    found++;
    prof_check(npending < PENDING_MAX, "more than %d precompiled functions pending", PENDING_MAX);
    if (npending < PENDING_MAX)
        pending[npending++] = fid;
    pthread_mutex_unlock(&lock);
    return S_OK;
}

static HRESULT pr_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    drain(info);
    pthread_mutex_lock(&lock);
    jitted++;
    pthread_mutex_unlock(&lock);
    log_function(info, "JIT", fid);
    return S_OK;
}

static HRESULT pr_shutdown(ICorProfilerInfo3 *info)
{
    drain(info);
    pthread_mutex_lock(&lock);
    unresolved = npending;
    prof_log("summary searched=%lu found=%lu jitted=%lu unresolved=%lu", searched, found, jitted,
             unresolved);
    pthread_mutex_unlock(&lock);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = pr_initialize,
    .jit_started = pr_jit_started,
    .shutdown = pr_shutdown,
    .cache_search_started = pr_search_started,
    .cache_search_finished = pr_search_finished,
};
