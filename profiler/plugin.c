/* plugin.c: libilgraft_profiler.so, the rewriting profiler. A COM object implementing
 * ICorProfilerCallback3, written against ilgraft/corprof.h alone so the same build
 * loads into the ilgraft host and into a real CoreCLR. At JITCompilationStarted it
 * names the method through IMetaDataImport, applies every matching rule of the rules
 * file (ILGRAFT_RULES) to the decoded body, encodes it into memory from the module's
 * IMethodMalloc and installs it with SetILFunctionBody, logging each rewrite (ILGRAFT_LOG,
 * else stderr). The body's address always comes from GetILFunctionBody: CoreCLR loads
 * application assemblies flat, so base + RVA would be wrong (docs/coreclr-observed.md).
 * With "mode": "rejit" (rejit.c) the matching methods are requested with RequestReJIT
 * instead and their bodies, built by the same code, go to GetReJITParameters'
 * function control. This file holds the COM objects, the workers and the callbacks;
 * names.c and jit.c the JIT path. */
#include <unistd.h>

#include "plugin_state.h"

#define PLUGIN_EXPORT __attribute__((visibility("default")))

/* {B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}: the plugin's CLSID (CORECLR_PROFILER). */
static const CLSID CLSID_IlgraftProfiler =
    COM_GUID_INIT(0xB2E3A7C4, 0x6D15, 0x4F38, 0x9A, 0x21, 0x5C, 0x7E, 0x0D, 0x3F, 0x8B, 0x94);

static plugin *impl_from_ICorProfilerCallback3(ICorProfilerCallback3 *iface)
{
    return (plugin *)((char *)iface - offsetof(plugin, ICorProfilerCallback3_iface));
}

/* "ilgraft-plugin: " and the formatted text as one line of the log; now: written out
 * at once (log.c). */
static void vplog(plugin *p, bool now, const char *fmt, va_list ap)
{
    static const char prefix[] = "ilgraft-plugin: ";
    const size_t pn = sizeof prefix - 1;
    char small[1024], *line = small;
    va_list again;
    va_copy(again, ap);
    memcpy(small, prefix, pn);
    int n = vsnprintf(small + pn, sizeof small - pn - 1, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len >= sizeof small - pn - 1) {
        if ((line = malloc(pn + len + 2)) != NULL) {
            memcpy(line, prefix, pn);
            vsnprintf(line + pn, len + 1, fmt, again);
        } else {
            line = small; /* cut to what fitted */
            len = sizeof small - pn - 2;
        }
    }
    va_end(again);
    line[pn + len] = '\n';
    ilg__plugin_log_write(p->log, line, pn + len + 1, now);
    if (line != small)
        free(line);
}

/* A line written out at once: set-up, failures, missing probes, the summary. */
void ilg__plugin_plog(plugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vplog(p, true, fmt, ap);
    va_end(ap);
}

/* A line that may wait in the log's buffer (the rewrites level). */
void ilg__plugin_plog_later(plugin *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vplog(p, false, fmt, ap);
    va_end(ap);
}

/* ---- workers ------------------------------------------------------------------------ */

static void worker_free(worker *w)
{
    ilg_body_free(w->body);
    ilg_body_free(w->snippet);
    free(w->out.data);
    free(w->probes);
    for (size_t i = 0; i < w->module_count; i++)
        ilg__plugin_module_state_free(&w->modules[i]);
    free(w->modules);
    free(w->old_offsets);
    free(w->line);
    free(w->acts);
    free(w);
}

/* Drops what the worker cached for a module id that a new module now has. */
static void worker_forget(worker *w, ModuleID module)
{
    ilg__plugin_module_state_forget(w, module);
    ilg__plugin_probe_drop(w->probes, &w->probe_count, module);
    if (w->name_module == module)
        w->name_module = 0;
}

/* The key's destructor: the thread is gone, its worker (caches and all) waits for the
 * next new thread. */
static void worker_retire(void *v)
{
    worker *w = v;
    plugin *p = w->p;
    pthread_mutex_lock(&p->lock);
    w->next_free = p->free_workers;
    p->free_workers = w;
    pthread_mutex_unlock(&p->lock);
}

/* This thread's worker with the module ids loaded since its last method forgotten;
 * NULL when memory is short. */
static worker *worker_get(plugin *p)
{
    worker *w = pthread_getspecific(p->key);
    if (!w) {
        pthread_mutex_lock(&p->lock);
        if ((w = p->free_workers))
            p->free_workers = w->next_free;
        pthread_mutex_unlock(&p->lock);
        if (!w) {
            w = calloc(1, sizeof *w);
            if (!w)
                return NULL;
            w->p = p;
            if (ilg_body_new(&w->body) != ILG_OK || ilg_body_new(&w->snippet) != ILG_OK) {
                worker_free(w);
                return NULL;
            }
            pthread_mutex_lock(&p->lock);
            w->next = p->workers;
            p->workers = w;
            /* A new worker has nothing cached: earlier loads do not concern it. */
            w->forgotten = atomic_load(&p->forget_count);
            pthread_mutex_unlock(&p->lock);
        }
        if (pthread_setspecific(p->key, w) != 0) {
            worker_retire(w);
            return NULL;
        }
    }
    size_t n = atomic_load_explicit(&p->forget_count, memory_order_acquire);
    if (w->forgotten != n) {
        pthread_mutex_lock(&p->lock); /* the log may be reallocated by a new entry */
        for (size_t i = w->forgotten; i < n; i++)
            worker_forget(w, p->forget[i]);
        pthread_mutex_unlock(&p->lock);
        w->forgotten = n;
    }
    return w;
}

/* ---- ICorProfilerCallback3 ---------------------------------------------------------- */

static HRESULT cb_QueryInterface(ICorProfilerCallback3 *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_ICorProfilerCallback) ||
        IsEqualGUID(riid, &IID_ICorProfilerCallback2) ||
        IsEqualGUID(riid, &IID_ICorProfilerCallback3) ||
        IsEqualGUID(riid, &IID_ICorProfilerCallback4)) {
        *ppv = This;
        This->lpVtbl->AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG cb_AddRef(ICorProfilerCallback3 *This)
{
    return (ULONG)atomic_fetch_add(&impl_from_ICorProfilerCallback3(This)->refs, 1) + 1;
}

static ULONG cb_Release(ICorProfilerCallback3 *This)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    ULONG left = (ULONG)atomic_fetch_sub(&p->refs, 1) - 1;
    if (!left) {
        if (p->info)
            p->info->lpVtbl->Release(p->info);
        if (p->info4)
            p->info4->lpVtbl->Release(p->info4);
        free(p->loaded);
        ilg__plugin_rules_free(&p->rules);
        /* No destructor runs for a deleted key: every worker, in use or not, goes here. */
        if (p->have_key)
            pthread_key_delete(p->key);
        for (worker *w = p->workers, *next; w; w = next) {
            next = w->next;
            worker_free(w);
        }
        free(p->forget);
        ilg__plugin_methods_free(p->methods);
        free(p->probe_of);
        free(p->probes);
        ilg__plugin_log_free(p->log);
        pthread_mutex_destroy(&p->probe_lock);
        pthread_mutex_destroy(&p->lock);
        free(p);
    }
    return left;
}

/* The log: ILGRAFT_LOG with each "%p" replaced by the process id ("%%" by "%"), opened
 * for append, else stderr. A process that starts processes (dotnet build, a compiler
 * server) hands them its environment, so each child loads the plugin with the same
 * ILGRAFT_LOG: appending keeps the parent's lines, and "%p" gives each its own file.
 * Every write(2) holds whole lines (log.c), so processes sharing one file interleave
 * whole lines; each starts with a line naming the process. */
static void open_log(plugin *p)
{
    const char *pattern = getenv("ILGRAFT_LOG");
    char path[4096], cmd[512] = "";
    size_t o = 0;
    p->log_opened = true;
    if (!pattern || !*pattern)
        return;
    for (const char *c = pattern; *c && o + 24 < sizeof path; c++) {
        if (c[0] == '%' && c[1] == 'p') {
            o += (size_t)snprintf(path + o, sizeof path - o, "%ld", (long)getpid());
            c++;
        } else {
            path[o++] = *c;
            c += c[0] == '%' && c[1] == '%';
        }
    }
    path[o] = 0;
    int err = ilg__plugin_log_open(p->log, path, p->log_rewrites);
    if (err) {
        ilg__plugin_plog(p, "cannot open ILGRAFT_LOG %s: %s; logging to stderr", path, strerror(err));
        return;
    }
    /* The program: /proc/self/cmdline, its NUL-separated arguments joined by spaces. */
    FILE *c = fopen("/proc/self/cmdline", "r");
    if (c) {
        size_t n = fread(cmd, 1, sizeof cmd - 1, c);
        fclose(c);
        for (size_t i = 0; i + 1 < n; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        cmd[n] = 0;
    }
    ilg__plugin_plog(p, "process %ld: %s", (long)getpid(), cmd[0] ? cmd : "?");
}

/* Per rule, the first rule that names the same probe: rules sharing a probe share its
 * lookup and its "not found" line. */
static bool probe_ids(plugin *p)
{
    const ilg__plugin_rules *r = &p->rules;
    if (!(p->probe_of = calloc(r->count ? r->count : 1, sizeof *p->probe_of)))
        return false;
    for (size_t i = 0; i < r->count; i++) {
        p->probe_of[i] = i;
        for (size_t k = 0; k < i && r->items[i].probe; k++)
            if (ilg__plugin_same_probe(&r->items[k], &r->items[i])) {
                p->probe_of[i] = k;
                break;
            }
    }
    return true;
}

static HRESULT cb_Initialize(ICorProfilerCallback3 *This, IUnknown *unk)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    const char *level = getenv("ILGRAFT_LOG_LEVEL");
    p->log_rewrites = !(level && strcmp(level, "failures") == 0);
    if (!p->log_opened)
        open_log(p);
    const char *rules = getenv("ILGRAFT_RULES");
    if (!rules || !*rules) {
        ilg__plugin_plog(p, "ILGRAFT_RULES is not set: nothing to do");
        return E_FAIL;
    }
    ilg_status st = ilg__plugin_rules_load(rules, &p->rules);
    if (st != ILG_OK) {
        ilg__plugin_plog(p, "rules: %s: %s", ilg_status_name(st), ilg_last_diag()->message);
        return E_FAIL;
    }
    if (!probe_ids(p)) {
        ilg__plugin_plog(p, "no memory for the rules' probes");
        return E_OUTOFMEMORY;
    }
    for (size_t i = 0; i < p->rules.count; i++)
        p->simple_needed |= strcmp(p->rules.items[i].match, "*") != 0;
    p->names_needed = p->log_rewrites || p->simple_needed;
    HRESULT hr = unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo3, (void **)&p->info);
    if (FAILED(hr)) {
        ilg__plugin_plog(p, "QueryInterface(ICorProfilerInfo3) returned 0x%08x", (unsigned)hr);
        return hr;
    }
    DWORD mask = COR_PRF_MONITOR_JIT_COMPILATION | COR_PRF_MONITOR_MODULE_LOADS;
    if (p->rules.disable_inlining)
        mask |= COR_PRF_DISABLE_INLINING;
    /* Code transitions make CoreCLR refuse ReadyToRun code altogether (observed; see
     * docs/coreclr-observed.md); DISABLE_ALL_NGEN_IMAGES alone is the documented flag. */
    if (p->rules.disable_ngen)
        mask |= COR_PRF_DISABLE_ALL_NGEN_IMAGES | COR_PRF_MONITOR_CODE_TRANSITIONS;
    /* ReJIT mode: ENABLE_REJIT can only be set here, in Initialize (CoreCLR refuses it
     * later); the JIT events stay for "rejit_at", inlining stays off, as a ReJIT version
     * does not reach the callers that inlined the original. */
    if (p->rules.rejit) {
        if (!ilg__plugin_rejit_init(p, unk))
            return E_FAIL;
        mask |= COR_PRF_ENABLE_REJIT;
    }
    hr = p->info->lpVtbl->SetEventMask(p->info, mask);
    ilg__plugin_plog(p, "%zu rules from %s, event mask 0x%08x: 0x%08x", p->rules.count, rules,
         (unsigned)mask, (unsigned)hr);
    return hr;
}

static HRESULT cb_Shutdown(ICorProfilerCallback3 *This)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    unsigned long jit = 0, methods = 0, matched = 0, rewritten = 0, failed = 0, skipped = 0,
                  recompiles = 0, restored = 0, threads = 0, requested = 0, rejitted = 0,
                  rejit_errors = 0;
    pthread_mutex_lock(&p->lock);
    for (worker *w = p->workers; w; w = w->next) {
        threads++;
        jit += atomic_load_explicit(&w->jit, memory_order_relaxed);
        methods += atomic_load_explicit(&w->methods, memory_order_relaxed);
        matched += atomic_load_explicit(&w->matched, memory_order_relaxed);
        rewritten += atomic_load_explicit(&w->rewritten, memory_order_relaxed);
        failed += atomic_load_explicit(&w->failed, memory_order_relaxed);
        skipped += atomic_load_explicit(&w->skipped, memory_order_relaxed);
        recompiles += atomic_load_explicit(&w->recompiles, memory_order_relaxed);
        restored += atomic_load_explicit(&w->restored, memory_order_relaxed);
        requested += atomic_load_explicit(&w->requested, memory_order_relaxed);
        rejitted += atomic_load_explicit(&w->rejitted, memory_order_relaxed);
        rejit_errors += atomic_load_explicit(&w->rejit_errors, memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->lock);
    /* jit: JITCompilationStarted events; methods: distinct methods among them; matched,
     * rewritten, failed, skipped: per method, at its first compilation; recompiles: the
     * events for methods handled before; restored: recompiles that found another body
     * and set the plugin's again. threads: workers made, i.e. the most threads that had
     * JIT-compiled at one time and not yet exited (an exited thread's worker goes to
     * the next new one). In rejit mode methods, matched, rewritten and skipped count
     * GetReJITParameters calls, and three more follow: requested (methods named in
     * RequestReJIT), rejit (ReJIT versions compiled), rejit_errors (ReJITError calls). */
    char more[96] = "";
    if (p->rules.rejit)
        snprintf(more, sizeof more, " requested=%lu rejit=%lu rejit_errors=%lu", requested,
                 rejitted, rejit_errors);
    ilg__plugin_plog(p,
         "summary jit=%lu methods=%lu matched=%lu rewritten=%lu failed=%lu skipped=%lu "
         "recompiles=%lu restored=%lu threads=%lu%s",
         jit, methods, matched, rewritten, failed, skipped, recompiles, restored, threads, more);
    return S_OK;
}

/* A ModuleID can be reused once its module is unloaded (collectible assemblies): what
 * is cached or recorded under the id belongs to the old module and goes before the new
 * one JITs: the methods' bodies and the probes here, each worker's caches through the
 * forget log. */
static HRESULT cb_ModuleLoadFinished(ICorProfilerCallback3 *This, ModuleID moduleId,
                                     HRESULT hrStatus)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    HRESULT hr = S_OK;
    size_t dropped = ilg__plugin_methods_forget(p->methods, moduleId);
    if (dropped && p->log_rewrites)
        ilg__plugin_plog(p, "module 0x%llx reused: %zu methods' bodies forgotten", (unsigned long long)moduleId,
             dropped);
    pthread_mutex_lock(&p->probe_lock);
    ilg__plugin_probe_drop(p->probes, &p->probe_count, moduleId);
    pthread_mutex_unlock(&p->probe_lock);
    pthread_mutex_lock(&p->lock);
    size_t n = atomic_load_explicit(&p->forget_count, memory_order_relaxed);
    if (ilg__grow_size((void **)&p->forget, &p->forget_cap, n + 1, sizeof *p->forget) != ILG_OK) {
        hr = E_OUTOFMEMORY;
        goto done;
    }
    p->forget[n] = moduleId;
    atomic_store_explicit(&p->forget_count, n + 1, memory_order_release);
done:
    pthread_mutex_unlock(&p->lock);
    if (p->rules.rejit && hr == S_OK && SUCCEEDED(hrStatus)) {
        worker *w = worker_get(p);
        if (w)
            ilg__plugin_rejit_module_loaded(w, moduleId);
        else
            ilg__plugin_plog(p, "FAIL module 0x%llx: no memory for this thread's state",
                             (unsigned long long)moduleId);
    }
    return hr;
}

static HRESULT cb_JITCompilationStarted(ICorProfilerCallback3 *This, FunctionID functionId,
                                        BOOL fIsSafeToBlock)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    worker *w = worker_get(p);
    if (w && p->rules.rejit)
        ilg__plugin_rejit_on_jit(w, functionId);
    else if (w)
        ilg__plugin_on_jit(w, functionId);
    else
        ilg__plugin_plog(p, "FAIL function 0x%llx: no memory for this thread's state",
             (unsigned long long)functionId);
    return S_OK;
}

static HRESULT cb_JITCompilationFinished(ICorProfilerCallback3 *This, FunctionID functionId,
                                         HRESULT hrStatus, BOOL fIsSafeToBlock)
{
    return S_OK;
}

/* ICorProfilerCallback4's ReJIT callbacks ("mode": "rejit"; rejit.c, jit.c). */
static HRESULT cb_ReJITCompilationStarted(ICorProfilerCallback3 *This, FunctionID functionId,
                                          ReJITID rejitId, BOOL fIsSafeToBlock)
{
    return S_OK;
}

static HRESULT cb_GetReJITParameters(ICorProfilerCallback3 *This, ModuleID moduleId,
                                     mdMethodDef methodId, ICorProfilerFunctionControl *control)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    worker *w = worker_get(p);
    if (w)
        ilg__plugin_on_rejit_parameters(w, moduleId, methodId, control);
    else
        ilg__plugin_plog(p, "FAIL method 0x%08x: no memory for this thread's state",
                         (unsigned)methodId);
    return S_OK;
}

static HRESULT cb_ReJITCompilationFinished(ICorProfilerCallback3 *This, FunctionID functionId,
                                           ReJITID rejitId, HRESULT hrStatus, BOOL fIsSafeToBlock)
{
    worker *w = worker_get(impl_from_ICorProfilerCallback3(This));
    if (w)
        ilg__plugin_rejit_finished(w, functionId, rejitId, hrStatus);
    return S_OK;
}

static HRESULT cb_ReJITError(ICorProfilerCallback3 *This, ModuleID moduleId, mdMethodDef methodId,
                             FunctionID functionId, HRESULT hrStatus)
{
    plugin *p = impl_from_ICorProfilerCallback3(This);
    worker *w = worker_get(p);
    if (w)
        ilg__plugin_rejit_error(w, moduleId, methodId, functionId, hrStatus);
    else
        ilg__plugin_plog(p, "FAIL method 0x%08x: ReJITError 0x%08x", (unsigned)methodId,
                         (unsigned)hrStatus);
    return S_OK;
}

static HRESULT cb_MovedReferences2(ICorProfilerCallback3 *This, ULONG n, ObjectID from[],
                                   ObjectID to[], SIZE_T len[])
{
    return S_OK;
}

static HRESULT cb_SurvivingReferences2(ICorProfilerCallback3 *This, ULONG n, ObjectID start[],
                                       SIZE_T len[])
{
    return S_OK;
}

#include "callback_stubs.inc"

/* Callback3's vtable followed by Callback4's six slots. */
static const struct {
    ICorProfilerCallback3Vtbl cb3;
    HRESULT (*ReJITCompilationStarted)(ICorProfilerCallback3 *, FunctionID, ReJITID, BOOL);
    HRESULT (*GetReJITParameters)(ICorProfilerCallback3 *, ModuleID, mdMethodDef,
                                  ICorProfilerFunctionControl *);
    HRESULT (*ReJITCompilationFinished)(ICorProfilerCallback3 *, FunctionID, ReJITID, HRESULT,
                                        BOOL);
    HRESULT (*ReJITError)(ICorProfilerCallback3 *, ModuleID, mdMethodDef, FunctionID, HRESULT);
    HRESULT (*MovedReferences2)(ICorProfilerCallback3 *, ULONG, ObjectID[], ObjectID[], SIZE_T[]);
    HRESULT (*SurvivingReferences2)(ICorProfilerCallback3 *, ULONG, ObjectID[], SIZE_T[]);
} plugin_vtbl = { .cb3 = {
    .QueryInterface = cb_QueryInterface,
    .AddRef = cb_AddRef,
    .Release = cb_Release,
    .Initialize = cb_Initialize,
    .Shutdown = cb_Shutdown,
    .ModuleLoadFinished = cb_ModuleLoadFinished,
    .JITCompilationStarted = cb_JITCompilationStarted,
    .JITCompilationFinished = cb_JITCompilationFinished,
    ILG_CB3_STUB_SLOTS },
    cb_ReJITCompilationStarted, cb_GetReJITParameters, cb_ReJITCompilationFinished,
    cb_ReJITError, cb_MovedReferences2, cb_SurvivingReferences2 };
_Static_assert(offsetof(ICorProfilerCallback4Vtbl, SurvivingReferences2) ==
                   sizeof plugin_vtbl - sizeof(void *),
               "Callback4's slots follow Callback3's");

/* ---- class factory ------------------------------------------------------------------ */

static HRESULT cf_QueryInterface(IClassFactory *This, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IClassFactory)) {
        *ppv = This;
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

/* The factory is a static object: there is nothing to count. */
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
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    plugin *p = calloc(1, sizeof *p);
    if (!p)
        return E_OUTOFMEMORY;
    p->ICorProfilerCallback3_iface.lpVtbl = &plugin_vtbl.cb3;
    atomic_init(&p->refs, 1);
    atomic_init(&p->forget_count, 0);
    atomic_init(&p->rejit_armed, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->probe_lock, NULL);
    if (ilg__plugin_methods_new(&p->methods) != ILG_OK || !(p->log = ilg__plugin_log_new()) ||
        pthread_key_create(&p->key, worker_retire) != 0) {
        cb_Release(&p->ICorProfilerCallback3_iface);
        return E_OUTOFMEMORY;
    }
    p->have_key = true;
    HRESULT hr = cb_QueryInterface(&p->ICorProfilerCallback3_iface, riid, ppv);
    cb_Release(&p->ICorProfilerCallback3_iface);
    return hr;
}

static HRESULT cf_LockServer(IClassFactory *This, BOOL lock)
{
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    cf_QueryInterface, cf_AddRef, cf_Release, cf_CreateInstance, cf_LockServer,
};
static IClassFactory factory = { &factory_vtbl };

PLUGIN_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv);
PLUGIN_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!IsEqualGUID(rclsid, &CLSID_IlgraftProfiler))
        return CLASS_E_CLASSNOTAVAILABLE;
    return cf_QueryInterface(&factory, riid, ppv);
}
