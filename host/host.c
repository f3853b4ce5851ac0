/* host.c: the harness host's life cycle: loading a profiler the way CoreCLR does and
 * running images through it (load, JIT and unload callbacks in CoreCLR's order, gated
 * by the event mask). The results and the report are report.c's. */
#include <dlfcn.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "host_private.h"
#include "inline_private.h"
#include "trace.h"

#define ILG__WANT_CB_TRACE
#include "trace.inc"

#define HOST_ALLOC(h, n) ILG_HOST_ZALLOC((h)->heap, (n))
#define HOST_FREE(h, p) ILG_HOST_FREE((h)->heap, (p))

static char *host_strdup(ilg_host *h, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = HOST_ALLOC(h, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void host_log(ilg_host *h, const char *fmt, ...) ILG_PRINTF(2, 3);
static void host_log(ilg_host *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(h->log, fmt, ap);
    va_end(ap);
    fputc('\n', h->log);
    fflush(h->log);
}

_Thread_local host_worker *ilg__host_worker;
_Thread_local uint8_t ilg__host_cb_state;

static void host_locks_destroy(ilg_host *h)
{
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->check_lock);
    pthread_mutex_destroy(&h->rejit_lock);
    for (size_t i = 0; i < sizeof h->method_locks / sizeof h->method_locks[0]; i++)
        pthread_mutex_destroy(&h->method_locks[i].m);
}

/* The isolation slot's last-callback text (the trace line is the caller's). */
void ilg__host_enter_callback(ilg_host *host, const char *name)
{
    if (!ilg__isolate_last_callback)
        return;
    pthread_mutex_lock(&host->lock);
    /* The parent reads this page after a crash; keep it NUL-terminated at all times. */
    size_t n = strlen(name);
    if (n > 62)
        n = 62;
    ilg__isolate_last_callback[n] = '\0';
    memcpy(ilg__isolate_last_callback, name, n);
    pthread_mutex_unlock(&host->lock);
}

void ilg__host_trace_stub(ilg_host *host, const char *iface, const char *method)
{
    (void)host;
    (void)iface;
    (void)method;
    ilg__trace_note = "not implemented";
}

bool ilg__host_managed_thread(const ilg_host *host)
{
    return ilg__host_worker && ilg__host_worker->host == host;
}

HRESULT ilg__host_refuse(ilg_host *host, HRESULT hr)
{
    atomic_fetch_add_explicit(&host->refused, 1, memory_order_relaxed);
    static const char init_only[] = "refused: callable only inside Initialize";
    static const char sync[] = "refused: not inside a callback that allows it, on a runtime thread";
    if (host->trace)
        ilg__trace_note = hr == CORPROF_E_CALL_ONLY_FROM_INIT ? init_only : sync;
    return hr;
}

ILG_API ilg_status ilg_host_new(const ilg_host_options *opts, ilg_host **out)
{
    IHostMemoryManager *mem = NULL;
    IHostMalloc *heap = NULL;
    ilg_host *h = NULL;
    ilg_status st;

    if (!out)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "out is NULL");
    if (opts && opts->jit_threads > ILG_HOST_MAX_JIT_THREADS)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, opts->jit_threads,
                         "%u JIT threads asked for, at most %d", opts->jit_threads,
                         ILG_HOST_MAX_JIT_THREADS);
    if (opts && opts->memory) {
        mem = opts->memory;
        mem->lpVtbl->AddRef(mem);
    } else if ((st = ilg_hostmem_create(NULL, &mem)) != ILG_OK) {
        return st;
    }
    if (FAILED(mem->lpVtbl->CreateMalloc(mem, MALLOC_THREADSAFE, &heap))) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "CreateMalloc failed for the host heap");
        goto fail;
    }
    h = ILG_HOST_ZALLOC(heap, sizeof *h);
    if (!h) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the host (%zu bytes)",
                       sizeof *h);
        goto fail;
    }
    h->memory = mem;
    h->heap = heap;
    h->log = opts && opts->log ? opts->log : stderr;
    h->trace = opts && opts->trace;
    h->jit_threads = opts && opts->jit_threads > 1 ? opts->jit_threads : 1;
    h->recompile_strict = opts && opts->recompile_strict;
    h->strict_rejit = opts && opts->strict_rejit;
    /* CoreCLR's first ReJITID in a process is 2 (observed: New Relic's four ReJITs got
     * 2 to 5): ids are handed out from 1 on, pre-incremented. */
    h->rejit_next_id = 1;
    h->recompile = h->recompile_strict || (opts && opts->recompile);
    h->inlining = opts && opts->inlining;
    if (!h->recompile) {
        /* A test suite can run every host it makes with recompilation. */
        const char *env = getenv("ILG_HOST_RECOMPILE");
        h->recompile_strict = env && strcmp(env, "strict") == 0;
        h->recompile = h->recompile_strict || (env && strcmp(env, "1") == 0);
    }
    h->session_tid = (DWORD)gettid();
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->check_lock, NULL);
    pthread_mutex_init(&h->rejit_lock, NULL);
    for (size_t i = 0; i < sizeof h->method_locks / sizeof h->method_locks[0]; i++)
        pthread_mutex_init(&h->method_locks[i].m, NULL);
    if (opts && opts->methods_pattern) {
        h->pattern = host_strdup(h, opts->methods_pattern);
        if (!h->pattern) {
            st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the methods pattern");
            goto fail;
        }
    }
    ilg__host_info_init(h);
    *out = h;
    return ILG_OK;
fail:
    if (h) {
        host_locks_destroy(h);
        ILG_HOST_FREE(heap, h);
    }
    if (heap)
        heap->lpVtbl->Release(heap);
    mem->lpVtbl->Release(mem);
    return st;
}

static void module_free(ilg_host *h, host_module *m)
{
    for (uint32_t i = 0; m->methods && i < m->method_count; i++) {
        HOST_FREE(h, m->methods[i].name);
        HOST_FREE(h, m->methods[i].diagnostic);
        ilg__host_rejit_free(h, &m->methods[i]);
    }
    HOST_FREE(h, m->methods);
    for (uint32_t rid = m->method_count + 1; rid <= m->method_count + m->added_count; rid++) {
        host_method *meth = ilg__host_method_at(m, rid);
        HOST_FREE(h, meth->name);
        HOST_FREE(h, meth->diagnostic);
        ilg__host_rejit_free(h, meth);
    }
    for (size_t k = 0; k < HOST_ADDED_CHUNKS; k++) {
        HOST_FREE(h, m->added[k]);
        HOST_FREE(h, m->added_classes[k]);
    }
    ilg__inline_module_free(m);
    HOST_FREE(h, m->insts);
    HOST_FREE(h, m->classes);
    HOST_FREE(h, m->path);
    HOST_FREE(h, m->full_path);
    ilg__host_mdimport_free(m);
    ilg__trace_malloc_free(m);
    ilg_image_close(m->img);
    HOST_FREE(h, m);
}

ILG_API void ilg_host_free(ilg_host *host)
{
    if (!host)
        return;
    if (host->callback)
        host->callback->lpVtbl->Release(host->callback);
    /* The library goes only after the last call into it. */
    if (host->lib)
        dlclose(host->lib);
    for (uint32_t i = 0; i < host->module_count; i++)
        module_free(host, host->modules[i]);
    HOST_FREE(host, host->modules);
    HOST_FREE(host, host->pattern);
    ilg__host_rejit_host_free(host);
    ilg__host_info_free(host);
    ilg_body_free(host->check_body);
    ilg_findings_free(&host->check_findings);
    host_locks_destroy(host);
    IHostMalloc *heap = host->heap;
    IHostMemoryManager *mem = host->memory;
    FILE *log = host->log;
    ILG_HOST_FREE(heap, host);
    /* Everything the host allocated must be back by now; say so when it is not (the
     * heap would free it silently on release). Enumerators the profiler never closed
     * show up here too, under mdimport.c. */
    ilg_leak_report *leaks = NULL;
    if (ilg_hostmalloc_leaks(heap, &leaks) == ILG_OK && leaks->count) {
        fprintf(log, "ilgraft host: bookkeeping leaked %llu bytes in %llu allocations:\n",
                (unsigned long long)leaks->bytes, (unsigned long long)leaks->count);
        ilg_leak_report_print(leaks, log);
    }
    ilg_leak_report_free(leaks);
    heap->lpVtbl->Release(heap);
    mem->lpVtbl->Release(mem);
}

/* ---- loading ------------------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" (braces optional) into *g. */
static bool parse_clsid(const char *s, GUID *g)
{
    static const int groups[5] = { 8, 4, 4, 4, 12 };
    uint8_t bytes[16];
    size_t len = strlen(s);
    int nb = 0;

    if (len == 38 && s[0] == '{' && s[37] == '}') {
        s++;
        len = 36;
    }
    if (len != 36)
        return false;
    for (int gi = 0, pos = 0; gi < 5; gi++) {
        for (int k = 0; k < groups[gi]; k += 2, pos += 2) {
            int hi = hexval(s[pos]), lo = hexval(s[pos + 1]);
            if (hi < 0 || lo < 0)
                return false;
            bytes[nb++] = (uint8_t)(hi << 4 | lo);
        }
        if (gi < 4 && s[pos++] != '-')
            return false;
    }
    g->Data1 =
        (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
    g->Data2 = (uint16_t)(bytes[4] << 8 | bytes[5]);
    g->Data3 = (uint16_t)(bytes[6] << 8 | bytes[7]);
    memcpy(g->Data4, bytes + 8, 8);
    return true;
}

/* Newest first, as CoreCLR asks after CreateInstance (EEToProfInterfaceImpl::CreateProfiler:
 * each version is asked only while no newer one was answered, Callback3 last). */
static const IID *const newer_callbacks[] = {
    &IID_ICorProfilerCallback11, &IID_ICorProfilerCallback10, &IID_ICorProfilerCallback9,
    &IID_ICorProfilerCallback8,  &IID_ICorProfilerCallback7,  &IID_ICorProfilerCallback6,
    &IID_ICorProfilerCallback5,  &IID_ICorProfilerCallback4,  &IID_ICorProfilerCallback3,
};

/* Loading, phase 1: the library (dlopen) and its DllGetClassObject; the library is
 * unloaded again when it has none. */
static ilg_status load_library(ilg_host *host, const char *path, LPFNGETCLASSOBJECT *out)
{
    /* RTLD_LAZY as CoreCLR's PAL (LoadLibrary): a profiler may leave undefined a function
     * it never calls (New Relic's leaves a PAL export). */
    host->lib = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (!host->lib) {
        const char *why = dlerror();
        host_log(host,
                 "Loading profiler failed. The profiler DLL could not be loaded: %s. "
                 "Profiler CLSID: '%s'. Profiler path: '%s'.",
                 why ? why : "?", host->clsid_text, path);
        return ilg__fail(ILG_E_PROF_LOAD, ILG_WHERE_NONE, 0, "dlopen '%s': %s", path,
                         why ? why : "?");
    }
    *(void **)out = dlsym(host->lib, "DllGetClassObject");
    if (!*out) {
        host_log(host,
                 "Loading profiler failed. The profiler DLL does not export "
                 "DllGetClassObject. Profiler CLSID: '%s'. Profiler path: '%s'.",
                 host->clsid_text, path);
        dlclose(host->lib);
        host->lib = NULL;
        return ilg__fail(ILG_E_PROF_LOAD, ILG_WHERE_NONE, 0, "'%s' exports no DllGetClassObject",
                         path);
    }
    return ILG_OK;
}

/* Phase 2: the profiler object, as ICorProfilerCallback2 from the class factory. */
static ilg_status create_profiler(ilg_host *host, LPFNGETCLASSOBJECT get_class_object,
                                  const GUID *clsid, ICorProfilerCallback2 **out)
{
    IClassFactory *factory = NULL;
    HRESULT hr = get_class_object(clsid, &IID_IClassFactory, (void **)&factory);
    if (FAILED(hr) || !factory) {
        host_log(host,
                 "Loading profiler failed. The profiler's DllGetClassObject failed to "
                 "return a class factory. Profiler CLSID: '%s'. HRESULT: 0x%08x.",
                 host->clsid_text, (unsigned)hr);
        return ilg__fail(ILG_E_PROF_CLASS_FACTORY, ILG_WHERE_NONE, 0,
                         "DllGetClassObject(%s) returned 0x%08x", host->clsid_text, (unsigned)hr);
    }
    hr = factory->lpVtbl->CreateInstance(factory, NULL, &IID_ICorProfilerCallback2, (void **)out);
    factory->lpVtbl->Release(factory);
    if (FAILED(hr) || !*out) {
        *out = NULL;
        host_log(host,
                 "Loading profiler failed. The profiler COM object could not be "
                 "instantiated. Profiler CLSID: '%s'. HRESULT: 0x%08x.",
                 host->clsid_text, (unsigned)hr);
        return ilg__fail(ILG_E_PROF_CREATE_INSTANCE, ILG_WHERE_NONE, 0,
                         "CreateInstance(ICorProfilerCallback2) returned 0x%08x", (unsigned)hr);
    }
    return ILG_OK;
}

/* Under --trace: one of the host's QueryInterface calls on the profiler's object. */
static void trace_query(ilg_host *host, const IID *iid, HRESULT hr)
{
    if (!host->trace)
        return;
    ilg__trace_call tc;
    ilg__trace_begin(&tc, host, NULL, "QueryInterface");
    ilg__trace_guid(&tc, "riid", iid);
    ilg__trace_hresult(&tc, hr);
    ilg__trace_end(&tc);
}

/* CoreCLR asks a Callback11 profiler, before Initialize, whether it loads as a
 * notification-only profiler (a failure counts as no; observed with the ABI probe).
 * No Info call can come from it: the profiler has no Info object yet. */
static void ask_notification_only(ilg_host *host, ICorProfilerCallback11 *cb11)
{
    BOOL only = FALSE;
    ilg__host_enter_callback(host, "LoadAsNotificationOnly");
    if (host->trace)
        trace_cb_LoadAsNotificationOnly(host, &only);
    HRESULT hr = cb11->lpVtbl->LoadAsNotificationOnly(cb11, &only);
    if (host->trace)
        ilg__trace_cb_return(host, "LoadAsNotificationOnly", hr);
    if (FAILED(hr))
        only = FALSE;
    host->notification_only = only != FALSE;
    if (host->trace && host->notification_only)
        host_log(host, "Profiler loads as a notification-only profiler. Profiler CLSID: '%s'.",
                 host->clsid_text);
}

/* Phase 3: QueryInterface for ICorProfilerCallback2 again (the object the host keeps,
 * as CoreCLR 10 does), then for Callback11 down to Callback3, stopping at the first one
 * answered: that is the version. A profiler that answers only Callback2 is initialized
 * (CoreCLR 10 does; 2.0 did not). Releases created. */
static ilg_status negotiate_callbacks(ilg_host *host, ICorProfilerCallback2 *created)
{
    ICorProfilerCallback2 *cb2 = NULL;
    HRESULT hr =
        created->lpVtbl->QueryInterface(created, &IID_ICorProfilerCallback2, (void **)&cb2);
    trace_query(host, &IID_ICorProfilerCallback2, hr);
    created->lpVtbl->Release(created);
    if (FAILED(hr) || !cb2) {
        host_log(host,
                 "Loading profiler failed. The profiler COM object does not answer "
                 "QueryInterface for ICorProfilerCallback2. Profiler CLSID: '%s'. "
                 "HRESULT: 0x%08x.",
                 host->clsid_text, (unsigned)hr);
        return ilg__fail(ILG_E_PROF_NO_CALLBACK2, ILG_WHERE_NONE, 0,
                         "QueryInterface(ICorProfilerCallback2) returned 0x%08x", (unsigned)hr);
    }
    host->callback_version = 2;
    for (size_t i = 0; i < ILG_ARRAY_LEN(newer_callbacks); i++) {
        IUnknown *newer = NULL;
        HRESULT qhr = cb2->lpVtbl->QueryInterface(cb2, newer_callbacks[i], (void **)&newer);
        trace_query(host, newer_callbacks[i], qhr);
        if (SUCCEEDED(qhr) && newer) {
            host->callback_version = 11 - (int)i;
            if (newer_callbacks[i] == &IID_ICorProfilerCallback11)
                ask_notification_only(host, (ICorProfilerCallback11 *)newer);
            newer->lpVtbl->Release(newer);
            break;
        }
    }
    host->callback = cb2;
    return ILG_OK;
}

/* Phase 4: Initialize with the host's ICorProfilerInfo15. A failure releases the
 * profiler, as CoreCLR does before running unprofiled: no more callbacks. */
static ilg_status initialize_profiler(ilg_host *host)
{
    ICorProfilerCallback2 *cb2 = host->callback;
    IUnknown *info = (IUnknown *)&host->ICorProfilerInfo15_iface;
    ilg__host_enter_callback(host, "Initialize");
    if (host->trace)
        trace_cb_Initialize(host, info);
    uint8_t outer = ilg__host_cb_state;
    ilg__host_cb_state = HOST_CB_INSIDE | HOST_CB_TRIGGERS;
    atomic_store(&host->initializing, true);
    HRESULT hr = cb2->lpVtbl->Initialize(cb2, info);
    atomic_store(&host->initializing, false);
    ilg__host_cb_state = outer;
    if (host->trace)
        ilg__trace_cb_return(host, "Initialize", hr);
    if (FAILED(hr)) {
        host_log(host,
                 "Loading profiler failed. The profiler's Initialize returned a failure "
                 "HRESULT. Profiler CLSID: '%s'. HRESULT: 0x%08x.",
                 host->clsid_text, (unsigned)hr);
        cb2->lpVtbl->Release(cb2);
        host->callback = NULL;
        return ilg__fail(ILG_E_PROF_INIT_FAILED, ILG_WHERE_NONE, 0, "Initialize returned 0x%08x",
                         (unsigned)hr);
    }
    if (host->trace)
        host_log(host, "Profiler was loaded successfully. Profiler CLSID: '%s'.", host->clsid_text);
    return ILG_OK;
}

ILG_API ilg_status ilg_host_load_profiler(ilg_host *host, const char *path, const char *clsid)
{
    GUID g;
    LPFNGETCLASSOBJECT get_class_object;
    ICorProfilerCallback2 *cb2 = NULL;
    ilg_status st;

    if (!host || !path || !clsid)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "host, path and clsid are required");
    if (host->lib || host->callback)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "a profiler is already loaded");
    if (!parse_clsid(clsid, &g)) {
        host_log(host,
                 "Loading profiler failed. The profiler CLSID '%s' is not a valid GUID. "
                 "Profiler path: '%s'.",
                 clsid, path);
        return ilg__fail(ILG_E_PROF_BAD_CLSID, ILG_WHERE_NONE, 0, "CLSID '%s' is not a GUID",
                         clsid);
    }
    snprintf(host->clsid_text, sizeof host->clsid_text, "{%s}",
             ilg_guid_format(&g, (char[ILG_GUID_TEXT_SIZE]){ 0 }));
    if ((st = load_library(host, path, &get_class_object)) != ILG_OK)
        return st;
    if ((st = create_profiler(host, get_class_object, &g, &cb2)) != ILG_OK) {
        /* Nothing was created that could refer into the library: unload it. Once an
         * object exists, the library stays mapped until ilg_host_free. */
        dlclose(host->lib);
        host->lib = NULL;
        return st;
    }
    if ((st = negotiate_callbacks(host, cb2)) != ILG_OK)
        return st;
    return initialize_profiler(host);
}

/* A variable CoreCLR's CLRConfig reads: an empty value counts as unset (observed:
 * CORECLR_PROFILER_PATH_64= falls through to CORECLR_PROFILER_PATH). */
static const char *clr_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

ILG_API const char *ilg_host_env_profiler_path(void)
{
    const char *path = clr_env("CORECLR_PROFILER_PATH_64");
    return path ? path : clr_env("CORECLR_PROFILER_PATH");
}

ILG_API bool ilg_host_env_profiling_enabled(void)
{
    /* A CLRConfig DWORD: hexadecimal, leading digits suffice ("1x" is 1), no digits is
     * the default 0. */
    const char *v = clr_env("CORECLR_ENABLE_PROFILING");
    char *end;
    if (!v)
        return false;
    errno = 0;
    unsigned long n = strtoul(v, &end, 16);
    return end != v && errno != ERANGE && (uint32_t)n != 0;
}

ILG_API ilg_status ilg_host_load_profiler_env(ilg_host *host)
{
    const char *clsid = clr_env("CORECLR_PROFILER");
    const char *path = ilg_host_env_profiler_path();
    if (!host)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "host is NULL");
    if (!ilg_host_env_profiling_enabled())
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0,
                         "CORECLR_ENABLE_PROFILING is not set to a nonzero number");
    if (!clsid || !path)
        return ilg__fail(ILG_E_NOT_FOUND, ILG_WHERE_NONE, 0, "%s is not set",
                         !clsid ? "CORECLR_PROFILER" : "CORECLR_PROFILER_PATH(_64)");
    if (clsid[0] != '{') {
        /* CoreCLR on Unix takes only the braced form (a ProgID is Windows-only). */
        host_log(host,
                 "Loading profiler failed. The profiler CLSID '%s' is not a valid GUID. "
                 "Profiler path: '%s'.",
                 clsid, path);
        return ilg__fail(ILG_E_PROF_BAD_CLSID, ILG_WHERE_NONE, 0,
                         "CORECLR_PROFILER '%s' has no braces (CoreCLR needs them)", clsid);
    }
    return ilg_host_load_profiler(host, path, clsid);
}

ILG_API int ilg_host_callback_version(const ilg_host *host)
{
    return host ? host->callback_version : 0;
}

/* ---- the run ------------------------------------------------------------------------ */

/* A callback is delivered only when a profiler is there and its mask asks for it, with
 * the thread's callback state (host_private.h) set to state while it runs, and traced
 * before and after under --trace. */
#define DELIVER_AS(h, bit, state, name, ...)                                               \
    do {                                                                                   \
        if ((h)->callback && ((h)->event_mask & (bit)) == (bit)) {                         \
            ilg__host_enter_callback((h), #name);                                          \
            if ((h)->trace)                                                                \
                trace_cb_##name((h), __VA_ARGS__);                                         \
            uint8_t cb_outer_ = ilg__host_cb_state;                                        \
            ilg__host_cb_state = (state);                                                  \
            HRESULT cb_hr_ = (h)->callback->lpVtbl->name((h)->callback, __VA_ARGS__);      \
            ilg__host_cb_state = cb_outer_;                                                \
            if ((h)->trace)                                                                \
                ilg__trace_cb_return((h), #name, cb_hr_);                                  \
        }                                                                                  \
    } while (0)
#define DELIVER(h, bit, name, ...)                                                         \
    DELIVER_AS(h, bit, HOST_CB_INSIDE | HOST_CB_TRIGGERS, name, __VA_ARGS__)

static ilg_status module_open(ilg_host *h, const char *path, host_module **out)
{
    host_module *m = HOST_ALLOC(h, sizeof *m);
    ilg_status st;

    if (!m)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the module record");
    m->host = h;
    m->path = host_strdup(h, path);
    if (!m->path) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the module path");
        goto fail;
    }
    /* CoreCLR names modules by their full path. */
    char *abs = realpath(path, NULL);
    m->full_path = host_strdup(h, abs ? abs : path);
    free(abs);
    if (!m->full_path) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for the module path");
        goto fail;
    }
    if ((st = ilg_image_open(path, NULL, &m->img)) != ILG_OK ||
        (st = ilg_image_metadata(m->img, &m->md)) != ILG_OK ||
        (st = ilg_image_get_info(m->img, &m->info)) != ILG_OK ||
        (st = ilg_image_arena(m->img, &m->arena)) != ILG_OK)
        goto fail;
    m->method_count = ilg_md_row_count(m->md, ILG_TBL_MethodDef);
    if (m->method_count) {
        m->methods = HOST_ALLOC(h, (size_t)m->method_count * sizeof *m->methods);
        if (!m->methods) {
            st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %u method records",
                           m->method_count);
            goto fail;
        }
    }
    for (uint32_t rid = 1; rid <= m->method_count; rid++) {
        host_method *meth = &m->methods[rid - 1];
        ilg_method_body body;
        meth->module = m;
        meth->token = 0x06000000u | rid;
        if ((st = ilg_md_method_body(m->md, rid, &body)) != ILG_OK) {
            ilg__fail_context("%s: method 0x%08x", path, meth->token);
            goto fail;
        }
        meth->kind = body.kind;
        if (body.kind == ILG_BODY_TINY || body.kind == ILG_BODY_FAT) {
            meth->old_rva = body.rva;
            meth->old_size = body.body_size;
            atomic_init(&meth->current, (uint64_t)body.rva << 32 | body.body_size);
        }
    }
    if ((h->recompile && (st = ilg__host_make_insts(m)) != ILG_OK) ||
        (st = ilg__host_make_classes(m)) != ILG_OK ||
        (h->inlining && (st = ilg__inline_module_init(m)) != ILG_OK))
        goto fail;
    ilg__host_mdimport_init(m);
    ilg__trace_malloc_init(m);
    *out = m;
    return ILG_OK;
fail:
    module_free(h, m);
    return st;
}

static ilg_status host_add_module(ilg_host *h, host_module *m)
{
    if (h->module_count == h->module_cap) {
        uint32_t cap = h->module_cap ? h->module_cap * 2 : 4;
        host_module **mods = HOST_ALLOC(h, cap * sizeof *mods);
        if (!mods)
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %u modules", cap);
        if (h->module_count)
            memcpy(mods, h->modules, h->module_count * sizeof *mods);
        HOST_FREE(h, h->modules);
        h->modules = mods;
        h->module_cap = cap;
    }
    h->modules[h->module_count++] = m;
    return ILG_OK;
}

static bool method_selected(ilg_host *h, host_method *meth)
{
    char buf[1024];
    ilg_method_info mi;
    size_t n;

    if (!h->pattern)
        return true;
    /* On a JIT worker, while a profiler's thread may be emitting into the module. */
    pthread_rwlock_rdlock(&meth->module->importer.lock);
    bool found = ilg_md_method(meth->module->md, meth->token & 0xFFFFFF, &mi) == ILG_OK;
    n = 0;
    if (found && mi.owner)
        ilg_md_type_name(meth->module->md, mi.owner, buf, sizeof buf - 2, &n);
    if (n >= sizeof buf - 2)
        n = 0;
    buf[n] = '\0';
    if (found)
        snprintf(buf + n, sizeof buf - n, "::%s", mi.name);
    pthread_rwlock_unlock(&meth->module->importer.lock);
    return found && fnmatch(h->pattern, buf, 0) == 0;
}

/* The most methods a JIT thread claims at a time: few enough claims that the shared
 * counter is no bottleneck, and runs long enough that a thread compiles a type's methods
 * together (as one does when the type is first used). A small module gets shorter runs,
 * so that every thread has a share of it. */
#define JIT_RUN_MAX 64

/* One JITCompilationStarted/Finished pair for FunctionID fid of meth, counted for the
 * method; while it runs, SetILFunctionBody knows the event and whether it is the
 * method's first. */
static void jit_pair(host_worker *w, host_method *meth, FunctionID fid)
{
    ilg_host *h = w->host;
    if (!h->callback || !(h->event_mask & COR_PRF_MONITOR_JIT_COMPILATION))
        return;
    w->event = meth;
    w->event_again = atomic_fetch_add_explicit(&meth->jit_events, 1, memory_order_relaxed) > 0;
    DELIVER(h, COR_PRF_MONITOR_JIT_COMPILATION, JITCompilationStarted, fid, TRUE);
    /* The JIT asks about inlining while it compiles the body in force (inline.c). */
    if (h->inlining)
        ilg__inline_compile(w, meth, fid);
    DELIVER(h, COR_PRF_MONITOR_JIT_COMPILATION, JITCompilationFinished, fid, S_OK, TRUE);
    w->event = NULL;
    if (atomic_load_explicit(&h->rejit_queue_count, memory_order_relaxed))
        ilg__host_rejit_serve(h);
}

/* Method meth's events in w's pass: its first compilation (each of its FunctionIDs in
 * turn), then with recompile its OSR and tier-1 recompilations (docs/profiler.md). */
static void jit_method(host_worker *w, host_method *meth)
{
    ilg_host *h = w->host;
    const uint32_t fids = meth->inst ? 2 : 1;

    switch ((host_pass)w->pass) {
    case HOST_PASS_FIRST:
        if (meth->kind != ILG_BODY_TINY && meth->kind != ILG_BODY_FAT)
            return;
        if (!h->callback || !(h->event_mask & COR_PRF_MONITOR_JIT_COMPILATION))
            return;
        if (!method_selected(h, meth))
            return;
        meth->jitted = true;
        /* A ReJIT requested before its first call: that call compiles the new version
         * (CoreCLR sends no JITCompilationStarted then, observed). */
        if (ilg__host_rejit_first_call(w, meth)) {
            atomic_store(&meth->compiled, true);
            ilg__host_rejit_serve(h);
            return;
        }
        break;
    case HOST_PASS_OSR:
        if (!meth->jitted)
            return;
        meth->tiering = (uint8_t)ilg__host_tiering(meth, &w->check_body);
        if (meth->tiering != HOST_TIERING_OSR)
            return;
        break;
    case HOST_PASS_TIER1:
        if (!meth->jitted || meth->tiering == HOST_TIERING_NONE)
            return;
        break;
    }
    for (uint32_t k = 0; k < fids; k++)
        if (w->pass == HOST_PASS_FIRST || !ilg__host_rejit_recompile(w, meth, ilg__host_fid(meth, k)))
            jit_pair(w, meth, ilg__host_fid(meth, k));
    if (w->pass == HOST_PASS_FIRST) {
        atomic_store(&meth->compiled, true);
        if (atomic_load_explicit(&h->rejit_queue_count, memory_order_relaxed))
            ilg__host_rejit_serve(h);
    }
}

static void jit_claimed(host_worker *w)
{
    host_module *m = w->module;
    for (;;) {
        uint32_t i = atomic_fetch_add_explicit(w->next, w->run, memory_order_relaxed);
        if (i >= m->method_count)
            return;
        uint32_t end = m->method_count - i > w->run ? i + w->run : m->method_count;
        for (; i < end; i++)
            jit_method(w, &m->methods[i]);
    }
}

/* A JIT thread of its own: announced to a profiler that monitors threads as CoreCLR
 * announces a new managed thread (created, then its OS thread), and destroyed when its
 * share is done. */
static void *jit_thread(void *arg)
{
    host_worker *w = arg;
    ilg_host *h = w->host;
    ilg__host_worker = w;
    const DWORD tid = (DWORD)gettid();
    atomic_store(&w->os_tid, tid);
    DELIVER(h, COR_PRF_MONITOR_THREADS, ThreadCreated, w->id);
    /* CoreCLR makes this callback where a GC must not be triggered: TRIGGERS methods are
     * refused inside it. */
    DELIVER_AS(h, COR_PRF_MONITOR_THREADS, HOST_CB_INSIDE, ThreadAssignedToOSThread, w->id, tid);
    jit_claimed(w);
    DELIVER(h, COR_PRF_MONITOR_THREADS, ThreadDestroyed, w->id);
    ilg__host_worker = NULL;
    return NULL;
}

/* One pass over the module's methods: in MethodDef order on this thread, or from the
 * workers' threads and this one together (started for the pass and joined at its end,
 * so a method's later pass never overtakes its earlier one). A thread that cannot be
 * started leaves its share to the others. */
static void jit_pass(host_module *m, host_worker *workers, unsigned count, host_pass pass)
{
    _Atomic uint32_t next = 0;
    pthread_t tids[ILG_HOST_MAX_JIT_THREADS];
    bool started[ILG_HOST_MAX_JIT_THREADS] = { false };
    uint32_t run = m->method_count;

    if (count > 1) {
        run = m->method_count / (count * 16);
        run = run < 1 ? 1 : run > JIT_RUN_MAX ? JIT_RUN_MAX : run;
    }
    for (unsigned t = 0; t < count; t++) {
        workers[t].module = m;
        workers[t].next = &next;
        workers[t].run = run ? run : 1;
        workers[t].pass = (uint8_t)pass;
    }
    for (unsigned t = 1; t < count; t++)
        started[t] = pthread_create(&tids[t], NULL, jit_thread, &workers[t]) == 0;
    jit_claimed(&workers[0]);
    for (unsigned t = 1; t < count; t++)
        if (started[t])
            pthread_join(tids[t], NULL);
}

/* The module's JIT events: the first compilations, then with recompile the OSR and
 * tier-1 passes, unless the profiler disabled optimizations or tiered compilation
 * (COR_PRF_HIGH_DISABLE_TIERED_COMPILATION, which New Relic's profiler sets): CoreCLR
 * then compiles every method once, none being eligible for tiered compilation. */
/* Whether a method the profiler defined has a body: one set with SetILFunctionBody, or an
 * RVA it gave (DefineMethod, SetMethodProps, SetRVA). */
static bool added_has_body(host_module *m, host_method *meth)
{
    ilg_method_info mi;
    if (atomic_load_explicit(&meth->current, memory_order_acquire))
        return true;
    pthread_rwlock_rdlock(&m->importer.lock);
    bool rva = ilg_md_method(m->md, RidFromToken(meth->token), &mi) == ILG_OK && mi.rva;
    pthread_rwlock_unlock(&m->importer.lock);
    return rva;
}

/* The methods the profiler defined in m by the end of its methods' first pass, that have a
 * body then: one JIT pair each, in MethodDef order on this thread. CoreCLR compiles such
 * a method when it is first called; the host runs nothing, so it compiles each once, as
 * if every one were called (docs/profiler.md, "Methods the profiler defines"). */
static void jit_added(ilg_host *h, host_module *m, host_worker *w)
{
    const uint32_t n = atomic_load_explicit(&m->added_count, memory_order_acquire);
    if (!h->callback || !(h->event_mask & COR_PRF_MONITOR_JIT_COMPILATION))
        return;
    for (uint32_t rid = m->method_count + 1; rid <= m->method_count + n; rid++) {
        host_method *meth = ilg__host_method_at(m, rid);
        if (!meth || !added_has_body(m, meth) || !method_selected(h, meth))
            continue;
        meth->jitted = true;
        if (!ilg__host_rejit_first_call(w, meth))
            jit_pair(w, meth, (FunctionID)meth);
        atomic_store(&meth->compiled, true);
        ilg__host_rejit_serve(h);
    }
}

static void jit_module(ilg_host *h, host_module *m, host_worker *workers, unsigned count)
{
    jit_pass(m, workers, count, HOST_PASS_FIRST);
    jit_added(h, m, &workers[0]);
    if (!h->recompile || (h->event_mask & COR_PRF_DISABLE_OPTIMIZATIONS) ||
        (h->event_mask_high & COR_PRF_HIGH_DISABLE_TIERED_COMPILATION))
        return;
    jit_pass(m, workers, count, HOST_PASS_OSR);
    jit_pass(m, workers, count, HOST_PASS_TIER1);
}

static void load_module(ilg_host *h, host_module *m)
{
    ModuleID mid = (ModuleID)m;
    AssemblyID aid = (AssemblyID)&m->assembly;

    DELIVER(h, COR_PRF_MONITOR_ASSEMBLY_LOADS, AssemblyLoadStarted, aid);
    DELIVER(h, COR_PRF_MONITOR_MODULE_LOADS, ModuleLoadStarted, mid);
    m->announced = h->callback && (h->event_mask & COR_PRF_MONITOR_MODULE_LOADS);
    DELIVER(h, COR_PRF_MONITOR_MODULE_LOADS, ModuleLoadFinished, mid, S_OK);
    DELIVER(h, COR_PRF_MONITOR_MODULE_LOADS, ModuleAttachedToAssembly, mid, aid);
    DELIVER(h, COR_PRF_MONITOR_ASSEMBLY_LOADS, AssemblyLoadFinished, aid, S_OK);
    /* A service point: requests the load callbacks made for compiled methods. */
    ilg__host_rejit_serve(h);
}

/* Whether m is System.Private.CoreLib (its Assembly row's name), which CoreCLR loads
 * before it creates its domains. */
static bool is_corelib(const host_module *m)
{
    uint32_t idx;
    const char *name = NULL;
    return ilg_md_row_count(m->md, ILG_TBL_Assembly) >= 1 &&
           ilg_md_cell(m->md, ILG_TBL_Assembly, 1, ILG_MDC_Assembly_Name, &idx) == ILG_OK &&
           ilg_md_string(m->md, idx, &name) == ILG_OK &&
           strcmp(name, "System.Private.CoreLib") == 0;
}

/* CoreCLR 10's two domain pairs (docs/coreclr-observed.md): its system domain, then the
 * app's, which GetAppDomainInfo names DefaultDomain until its creation is over and
 * clrhost from the next assembly's load on. */
static void create_domains(ilg_host *h)
{
    AppDomainID sys = (AppDomainID)&h->system_domain, did = (AppDomainID)&h->domain;
    DELIVER(h, COR_PRF_MONITOR_APPDOMAIN_LOADS, AppDomainCreationStarted, sys);
    DELIVER(h, COR_PRF_MONITOR_APPDOMAIN_LOADS, AppDomainCreationFinished, sys, S_OK);
    DELIVER(h, COR_PRF_MONITOR_APPDOMAIN_LOADS, AppDomainCreationStarted, did);
    DELIVER(h, COR_PRF_MONITOR_APPDOMAIN_LOADS, AppDomainCreationFinished, did, S_OK);
    atomic_store(&h->domain_named, true);
}

/* The session's thread, announced as CoreCLR announces its main thread before it loads
 * CoreLib (ThreadCreated, then ThreadAssignedToOSThread where no GC may be triggered);
 * like CoreCLR's, it is never destroyed. */
static void announce_session_thread(ilg_host *h, host_worker *w)
{
    DELIVER(h, COR_PRF_MONITOR_THREADS, ThreadCreated, w->id);
    DELIVER_AS(h, COR_PRF_MONITOR_THREADS, HOST_CB_INSIDE, ThreadAssignedToOSThread, w->id,
               h->session_tid);
}

/* Opens and records the image at path (its callbacks are the caller's). */
static ilg_status open_image(ilg_host *h, const char *path, host_module **out)
{
    host_module *m = NULL;
    ilg_status st;
    if ((st = module_open(h, path, &m)) != ILG_OK)
        return st;
    if ((st = host_add_module(h, m)) != ILG_OK) {
        module_free(h, m);
        return st;
    }
    *out = m;
    return ILG_OK;
}

static void unload_module(ilg_host *h, host_module *m)
{
    ModuleID mid = (ModuleID)m;
    AssemblyID aid = (AssemblyID)&m->assembly;
    DELIVER(h, COR_PRF_MONITOR_ASSEMBLY_LOADS, AssemblyUnloadStarted, aid);
    DELIVER(h, COR_PRF_MONITOR_MODULE_LOADS, ModuleUnloadStarted, mid);
    DELIVER(h, COR_PRF_MONITOR_MODULE_LOADS, ModuleUnloadFinished, mid, S_OK);
    DELIVER(h, COR_PRF_MONITOR_ASSEMBLY_LOADS, AssemblyUnloadFinished, aid, S_OK);
}

ILG_API ilg_status ilg_host_run(ilg_host *host, const char *const *images, size_t count)
{
    ilg_status st = ILG_OK;
    AppDomainID did;

    if (!host || (count && !images))
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "host and images are required");
    if (host->ran)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "ilg_host_run was already called");
    host->ran = true;
    /* One thread needs no allocation; without memory for more, the run uses one. */
    unsigned nworkers = host->jit_threads;
    host_worker solo = { 0 };
    host_worker *workers = nworkers > 1 ? HOST_ALLOC(host, nworkers * sizeof *workers) : NULL;
    if (!workers) {
        if (nworkers > 1)
            host_log(host, "ilgraft host: no memory for %u JIT threads' state: one thread runs",
                     nworkers);
        workers = &solo;
        nworkers = 1;
    }
    for (unsigned t = 0; t < nworkers; t++) {
        workers[t].host = host;
        workers[t].index = t;
        /* The calling thread keeps the ThreadID it has outside the run. */
        workers[t].id = t ? (ThreadID)&workers[t].thread : (ThreadID)&host->thread;
    }
    host->session_tid = (DWORD)gettid();
    atomic_store(&workers[0].os_tid, host->session_tid);
    host->run_worker_count = nworkers;
    atomic_store(&host->run_workers, workers);
    host_worker *outer = ilg__host_worker;
    ilg__host_worker = &workers[0];
    did = (AppDomainID)&host->domain;
    announce_session_thread(host, &workers[0]);
    /* CoreLib first, as CoreCLR loads it, then the domains, then CoreLib's JIT events
     * and the other images; without CoreLib the domains come first. */
    host_module *first = NULL;
    if (count && (st = open_image(host, images[0], &first)) == ILG_OK && is_corelib(first))
        load_module(host, first);
    create_domains(host);
    for (size_t i = 0; st == ILG_OK && i < count; i++) {
        host_module *m = first;
        if (i && (st = open_image(host, images[i], &m)) != ILG_OK)
            break;
        if (i || !is_corelib(m))
            load_module(host, m);
        jit_module(host, m, workers, nworkers);
    }
    /* The last service point: what the profiler requested (from any thread) for methods
     * compiled by now is served before the unloads. */
    ilg__host_rejit_serve(host);
    for (uint32_t i = 0; i < host->module_count; i++)
        unload_module(host, host->modules[i]);
    DELIVER(host, COR_PRF_MONITOR_APPDOMAIN_LOADS, AppDomainShutdownStarted, did);
    DELIVER(host, COR_PRF_MONITOR_APPDOMAIN_LOADS, AppDomainShutdownFinished, did, S_OK);
    if (host->callback) {
        ilg__host_enter_callback(host, "Shutdown");
        if (host->trace)
            trace_cb_Shutdown(host);
        uint8_t outer_state = ilg__host_cb_state;
        ilg__host_cb_state = HOST_CB_INSIDE | HOST_CB_TRIGGERS;
        HRESULT hr = host->callback->lpVtbl->Shutdown(host->callback);
        ilg__host_cb_state = outer_state;
        if (host->trace)
            ilg__trace_cb_return(host, "Shutdown", hr);
    }
    ilg__host_worker = outer;
    atomic_store(&host->run_workers, NULL);
    for (unsigned t = 0; t < nworkers; t++) {
        ilg_body_free(workers[t].check_body);
        ilg_body_free(workers[t].inline_caller);
        ilg_body_free(workers[t].inline_callee);
        ilg_findings_free(&workers[t].check_findings);
    }
    if (workers != &solo)
        HOST_FREE(host, workers);
    uint32_t again = atomic_load(&host->again_rejected);
    if (st == ILG_OK && again)
        st = ilg__fail(ILG_E_PROF_REWRITTEN_AGAIN, ILG_WHERE_NONE, again,
                       "%u bodies rejected: the profiler rewrote its own output again when a "
                       "method was recompiled (--recompile-strict; see the report)",
                       again);
    return st;
}
