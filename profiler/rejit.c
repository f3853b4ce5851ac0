/* rejit.c: the plugin's "mode": "rejit" (docs/profiler.md, Rules). The matching methods
 * are requested with ICorProfilerInfo4::RequestReJIT, at their module's
 * ModuleLoadFinished or, with "rejit_at", once a method matching that pattern is first
 * JIT-compiled (then for every module loaded so far, and at each later load); the runtime
 * asks for each version's body in GetReJITParameters, which jit.c builds as at JIT time.
 * Here: the requests, the trigger and the ReJIT callbacks' log lines. */
#include "plugin_state.h"

bool ilg__plugin_rejit_init(plugin *p, IUnknown *unk)
{
    HRESULT hr = unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo4, (void **)&p->info4);
    if (FAILED(hr) || !p->info4) {
        p->info4 = NULL;
        ilg__plugin_plog(p, "mode rejit: QueryInterface(ICorProfilerInfo4) returned 0x%08x",
                         (unsigned)hr);
        return false;
    }
    return true;
}

/* The tokens to request in one module (grown on demand). */
typedef struct token_list {
    mdMethodDef *toks;
    size_t count, cap;
    bool nomem;
} token_list;

static bool matches_a_rule(const plugin *p, const char *full, const char *simple)
{
    for (size_t i = 0; i < p->rules.count; i++)
        if (ilg__plugin_rule_matches(&p->rules.items[i], full, simple))
            return true;
    return false;
}

/* Type td's methods with IL (an RVA) whose names match a rule, onto out. */
static void collect_type(worker *w, module_state *ms, mdTypeDef td, token_list *out)
{
    IMetaDataImport *md = ms->md;
    HCORENUM e = NULL;
    mdMethodDef toks[64];
    ULONG n = 0;
    WCHAR wname[NAME_CAP];
    while (!out->nomem && md->lpVtbl->EnumMethods(md, &e, td, toks, 64, &n) == S_OK && n) {
        for (ULONG i = 0; i < n && !out->nomem; i++) {
            mdTypeDef owner = 0;
            ULONG len = 0, rva = 0;
            if (md->lpVtbl->GetMethodProps(md, toks[i], &owner, wname, NAME_CAP, &len, NULL,
                                           NULL, NULL, &rva, NULL) != S_OK || !rva)
                continue;
            ilg__plugin_method_names(w, md, ms->module, owner, wname, len, w->full, w->simple);
            if (!matches_a_rule(w->p, w->full, w->simple))
                continue;
            if (ilg__grow_size((void **)&out->toks, &out->cap, out->count + 1,
                               sizeof *out->toks) != ILG_OK) {
                out->nomem = true;
                break;
            }
            out->toks[out->count++] = toks[i];
        }
    }
    if (e)
        md->lpVtbl->CloseEnum(md, e);
}

/* The module's matching methods (those of <Module>, 0x02000001, and of every TypeDef)
 * requested in one RequestReJIT. */
static void request_module(worker *w, ModuleID module)
{
    plugin *p = w->p;
    module_state *ms = ilg__plugin_module_state_get(w, module);
    token_list list = { 0 };
    ModuleID *mods = NULL;
    if (!ms) {
        COUNT(w, failed);
        ilg__plugin_plog(p, "FAIL module 0x%llx: no metadata importer for its ReJIT requests",
                         (unsigned long long)module);
        return;
    }
    IMetaDataImport *md = ms->md;
    HCORENUM e = NULL;
    mdTypeDef tds[64];
    ULONG n = 0;
    collect_type(w, ms, 0x02000001, &list);
    while (!list.nomem && md->lpVtbl->EnumTypeDefs(md, &e, tds, 64, &n) == S_OK && n)
        for (ULONG i = 0; i < n; i++)
            collect_type(w, ms, tds[i], &list);
    if (e)
        md->lpVtbl->CloseEnum(md, e);
    if (!list.nomem && list.count && !(mods = malloc(list.count * sizeof *mods)))
        list.nomem = true;
    if (list.nomem) {
        COUNT(w, failed);
        ilg__plugin_plog(p, "FAIL module 0x%llx: no memory for its ReJIT requests",
                         (unsigned long long)module);
        goto done;
    }
    size_t kept = 0;
    for (size_t i = 0; i < list.count; i++) {
        if (!ilg__plugin_rejit_prepare(w, ms, list.toks[i]))
            continue;
        list.toks[kept++] = list.toks[i];
        if (p->log_rewrites)
            ilg__plugin_plog_later(p, "rejit-request %s (0x%08x) module 0x%llx", w->full,
                                   (unsigned)list.toks[i], (unsigned long long)module);
    }
    list.count = kept;
    if (!list.count)
        goto done;
    for (size_t i = 0; i < list.count; i++)
        mods[i] = module;
    HRESULT hr = p->info4->lpVtbl->RequestReJIT(p->info4, (ULONG)list.count, mods, list.toks);
    if (hr != S_OK) {
        COUNT(w, failed);
        ilg__plugin_plog(p, "FAIL module 0x%llx: RequestReJIT of %zu methods returned 0x%08x",
                         (unsigned long long)module, list.count, (unsigned)hr);
        goto done;
    }
    for (size_t i = 0; i < list.count; i++)
        COUNT(w, requested);
done:
    free(mods);
    free(list.toks);
}

/* Without "rejit_at", or once it came: requested now; before it: noted. */
void ilg__plugin_rejit_module_loaded(worker *w, ModuleID module)
{
    plugin *p = w->p;
    bool now = true;
    if (p->rules.rejit_at) {
        pthread_mutex_lock(&p->lock);
        now = atomic_load_explicit(&p->rejit_armed, memory_order_relaxed);
        if (!now && ilg__grow_size((void **)&p->loaded, &p->loaded_cap, p->loaded_count + 1,
                                   sizeof *p->loaded) == ILG_OK)
            p->loaded[p->loaded_count++] = module;
        else if (!now)
            ilg__plugin_plog(p, "FAIL module 0x%llx: no memory to note it for rejit_at",
                             (unsigned long long)module);
        pthread_mutex_unlock(&p->lock);
    }
    if (now)
        request_module(w, module);
}

/* The first JIT compilation of a method matching "rejit_at": every module noted so far
 * gets its requests, on this thread, inside this JITCompilationStarted (CoreCLR takes
 * them there: docs/coreclr-observed.md, ReJIT). */
void ilg__plugin_rejit_on_jit(worker *w, FunctionID fid)
{
    plugin *p = w->p;
    ICorProfilerInfo3 *info = p->info;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    module_state *ms;
    WCHAR wname[NAME_CAP];
    ULONG len = 0;
    mdTypeDef owner = 0;
    COUNT(w, jit);
    if (!p->rules.rejit_at || atomic_load_explicit(&p->rejit_armed, memory_order_acquire))
        return;
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) != S_OK ||
        !(ms = ilg__plugin_module_state_get(w, mod)) ||
        ms->md->lpVtbl->GetMethodProps(ms->md, tok, &owner, wname, NAME_CAP, &len, NULL, NULL,
                                       NULL, NULL, NULL) != S_OK)
        return;
    ilg__plugin_method_names(w, ms->md, mod, owner, wname, len, w->full, w->simple);
    const ilg__plugin_rule at = { .match = p->rules.rejit_at };
    if (!ilg__plugin_rule_matches(&at, w->full, w->simple))
        return;
    pthread_mutex_lock(&p->lock);
    bool first = !atomic_load_explicit(&p->rejit_armed, memory_order_relaxed);
    ModuleID *mods = p->loaded;
    size_t n = p->loaded_count;
    atomic_store_explicit(&p->rejit_armed, true, memory_order_release);
    p->loaded = NULL;
    p->loaded_count = p->loaded_cap = 0;
    pthread_mutex_unlock(&p->lock);
    if (!first)
        return;
    ilg__plugin_plog(p, "rejit_at %s (0x%08x): requesting the matching methods of %zu modules",
                     w->full, (unsigned)tok, n);
    for (size_t i = 0; i < n; i++)
        request_module(w, mods[i]);
    free(mods);
}

/* The method's name for a line about fid ("?" when unknown); its token into *tok. */
static void name_function(worker *w, FunctionID fid, mdToken *tok, char *full)
{
    ICorProfilerInfo3 *info = w->p->info;
    ClassID cls = 0;
    ModuleID mod = 0;
    module_state *ms;
    *tok = 0;
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, tok) == S_OK &&
        (ms = ilg__plugin_module_state_get(w, mod)))
        ilg__plugin_name_method(w, ms, *tok, full);
    else
        strcpy(full, "?");
}

void ilg__plugin_rejit_finished(worker *w, FunctionID fid, ReJITID id, HRESULT hr)
{
    char full[FULL_CAP];
    mdToken tok = 0;
    if (hr == S_OK)
        COUNT(w, rejitted);
    else
        COUNT(w, failed);
    if (hr == S_OK && !w->p->log_rewrites)
        return;
    name_function(w, fid, &tok, full);
    if (hr != S_OK)
        ilg__plugin_plog(w->p, "FAIL %s (0x%08x): ReJITCompilationFinished function 0x%llx "
                         "rejitid=%llu returned 0x%08x",
                         full, (unsigned)tok, (unsigned long long)fid, (unsigned long long)id,
                         (unsigned)hr);
    else
        ilg__plugin_plog_later(w->p, "rejit-compiled %s (0x%08x) function 0x%llx rejitid=%llu",
                               full, (unsigned)tok, (unsigned long long)fid,
                               (unsigned long long)id);
}

void ilg__plugin_rejit_error(worker *w, ModuleID mod, mdMethodDef tok, FunctionID fid, HRESULT hr)
{
    char full[FULL_CAP] = "?";
    module_state *ms = mod ? ilg__plugin_module_state_get(w, mod) : NULL;
    COUNT(w, rejit_errors);
    COUNT(w, failed);
    if (ms)
        ilg__plugin_name_method(w, ms, tok, full);
    ilg__plugin_plog(w->p, "FAIL %s (0x%08x): ReJITError module 0x%llx function 0x%llx: 0x%08x",
                     full, (unsigned)tok, (unsigned long long)mod, (unsigned long long)fid,
                     (unsigned)hr);
}
