/* abi_rules.c: the ABI probe's call-rule calls (ILG_ABI_PROBE_CONFORM=1): methods called
 * where CoreCLR's rules for them (PROFILER_TO_CLR_ENTRYPOINT_*) allow or refuse them,
 * each answer logged as a "CONF rule ..." line for test_abi_probe to compare between a
 * real CoreCLR and `ilgraft run`. The places: inside Initialize on its own thread and on
 * a thread the probe starts and joins there; inside a later callback (ModuleLoadFinished)
 * on the runtime's thread and again on a thread of the probe's own. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "abi_conform.h"

typedef struct rules_job {
    ICorProfilerInfo15 *info;
    ModuleID hello;
    const char *where;
} rules_job;

static void log_hr(const char *where, const char *call, HRESULT hr)
{
    probe_log("CONF rule %s %s hr=0x%08X", where, call, (unsigned)hr);
}

/* INIT_ONLY: the enter/leave hooks (cleared: NULL hooks change nothing). */
static void init_only_calls(ICorProfilerInfo15 *info, const char *where)
{
    log_hr(where, "SetEnterLeaveFunctionHooks3",
           info->lpVtbl->SetEnterLeaveFunctionHooks3(info, NULL, NULL, NULL));
    log_hr(where, "SetEnterLeaveFunctionHooks2",
           info->lpVtbl->SetEnterLeaveFunctionHooks2(info, NULL, NULL, NULL));
    log_hr(where, "SetEnterLeaveFunctionHooks3WithInfo",
           info->lpVtbl->SetEnterLeaveFunctionHooks3WithInfo(info, NULL, NULL, NULL));
}

/* SYNC and ASYNC methods whose answer does not depend on the thread otherwise. */
static void sync_async_calls(ICorProfilerInfo15 *info, ModuleID hello, const char *where)
{
    ULONG len = 0;
    log_hr(where, "GetRuntimeInformation(SYNC)",
           info->lpVtbl->GetRuntimeInformation(info, NULL, NULL, NULL, NULL, NULL, NULL, 0, &len,
                                               NULL));
    ULONG a = 0, b = 0;
    log_hr(where, "GetStringLayout2(SYNC)", info->lpVtbl->GetStringLayout2(info, &a, &b));
    DWORD low = 0, high = 0;
    log_hr(where, "GetEventMask2(ASYNC)", info->lpVtbl->GetEventMask2(info, &low, &high));
    if (hello) {
        ICorProfilerModuleEnum *modules = NULL;
        HRESULT hr = info->lpVtbl->EnumModules(info, &modules);
        log_hr(where, "EnumModules(SYNC_TRIGGERS)", hr);
        if (hr == S_OK && modules)
            modules->lpVtbl->Release(modules);
        log_hr(where, "GetModuleInfo(ASYNC)",
               info->lpVtbl->GetModuleInfo(info, hello, NULL, 0, &len, NULL, NULL));
        IUnknown *md = NULL;
        hr = info->lpVtbl->GetModuleMetaData(info, hello, ofRead, &IID_IMetaDataImport, &md);
        log_hr(where, "GetModuleMetaData(SYNC)", hr);
        if (hr == S_OK && md)
            md->lpVtbl->Release(md);
    }
}

static void *rules_thread(void *arg)
{
    rules_job *job = arg;
    ThreadID tid = 0;
    log_hr(job->where, "GetCurrentThreadID",
           job->info->lpVtbl->GetCurrentThreadID(job->info, &tid));
    init_only_calls(job->info, job->where);
    sync_async_calls(job->info, job->hello, job->where);
    return NULL;
}

/* On a thread of the probe's own, joined before the callback returns. */
static void on_own_thread(ICorProfilerInfo15 *info, ModuleID hello, const char *where)
{
    rules_job job = { info, hello, where };
    pthread_t t;
    if (pthread_create(&t, NULL, rules_thread, &job) != 0) {
        probe_log("CONF rule %s pthread_create failed", where);
        return;
    }
    pthread_join(t, NULL);
}

void conform_rules_init(ICorProfilerInfo15 *info)
{
    init_only_calls(info, "initialize");
    sync_async_calls(info, 0, "initialize");
    on_own_thread(info, 0, "initialize/own-thread");
}

void conform_rules_callback(ICorProfilerInfo15 *info, ModuleID hello)
{
    init_only_calls(info, "callback");
    sync_async_calls(info, hello, "callback");
    log_hr("callback", "SetFunctionIDMapper(ASYNC_STARTUP)",
           info->lpVtbl->SetFunctionIDMapper(info, NULL));
    log_hr("callback", "ForceGC", info->lpVtbl->ForceGC(info));
    on_own_thread(info, hello, "callback/own-thread");
}

void conform_rules_no_trigger(ICorProfilerInfo15 *info)
{
    static _Atomic int done;
    if (done++)
        return;
    ICorProfilerModuleEnum *modules = NULL;
    HRESULT hr = info->lpVtbl->EnumModules(info, &modules);
    probe_log("RULE thread-assigned EnumModules(SYNC_TRIGGERS) hr=0x%08X", (unsigned)hr);
    if (hr == S_OK && modules)
        modules->lpVtbl->Release(modules);
    ULONG len = 0;
    hr = info->lpVtbl->GetRuntimeInformation(info, NULL, NULL, NULL, NULL, NULL, NULL, 0, &len,
                                             NULL);
    probe_log("RULE thread-assigned GetRuntimeInformation(SYNC) hr=0x%08X", (unsigned)hr);
}
