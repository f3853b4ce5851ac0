/* abi_lifecycle.c: Initialize (Info versions, event mask, runtime information) and
 * Shutdown (enumerations, slot pairing, the PASS or FAIL verdict). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi_probe.h"

static const char *const seen_names[SEEN_COUNT] = {
    "ModuleLoadFinished(System.Private.CoreLib)", "ModuleLoadFinished(Hello)",
    "ModuleAttachedToAssembly(Hello)", "AssemblyLoadFinished(Hello)",
    "AppDomainCreationFinished", "JITCompilationStarted(Main)", "JITCompilationFinished(Main)",
    "GetCodeInfo2/GetFunctionFromIP(Main)", "JITCompilationStarted(Square)",
    "ExceptionThrown(System.FormatException)", "ExceptionSearchCatcherFound(SafeParse)",
    "ExceptionCatcherEnter(SafeParse)", "ExceptionUnwindFunctionEnter(SafeParse)",
    "GarbageCollectionStarted(induced)", "GarbageCollectionFinished", "RootReferences2",
    "ThreadNameChanged(ilgraft-main)", "HandleDestroyed", "FinalizeableObjectQueued(Finalizable)",
    "IMetaDataImport tour of Hello.dll", "DoStackSnapshot(Main on the stack)",
    "ClassLoadFinished(Hello.Program)", "ThreadCreated", "RuntimeSuspendStarted(GC)",
    "Managed/UnmanagedTransition", "JITCachedFunctionSearchFinished(found)",
};

/* SetEventMask2(mask, p->high) through ICorProfilerInfo5, read back with GetEventMask2. */
static void set_high_mask(probe *p, IUnknown *unk, DWORD mask)
{
    ICorProfilerInfo5 *info5 = NULL;
    if (!probe_expect_hr(p, "QueryInterface(ICorProfilerInfo5)",
                         unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo5, (void **)&info5),
                         S_OK))
        return;
    DWORD low = 0, high = 0;
    probe_expect_hr(p, "SetEventMask2", info5->lpVtbl->SetEventMask2(info5, mask, p->high), S_OK);
    probe_expect_hr(p, "GetEventMask2", info5->lpVtbl->GetEventMask2(info5, &low, &high), S_OK);
    probe_log("EventMaskHigh set=0x%X get=0x%X", (unsigned)p->high, (unsigned)high);
    if (low != mask || high != p->high)
        probe_fail(p, "GetEventMask2 gave 0x%08X/0x%X after SetEventMask2(0x%08X, 0x%X)",
                   (unsigned)low, (unsigned)high, (unsigned)mask, (unsigned)p->high);
    info5->lpVtbl->Release(info5);
}

HRESULT cb_Initialize(ICorProfilerCallback3 *iface, IUnknown *unk)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 3);
    probe_log("Initialize pid=%d", (int)getpid());
    startup_initialize();
    /* Which ICorProfilerInfo versions the runtime hands out. */
    static const IID *const infos[] = {
        &IID_ICorProfilerInfo, &IID_ICorProfilerInfo2, &IID_ICorProfilerInfo3,
        &IID_ICorProfilerInfo4, &IID_ICorProfilerInfo5, &IID_ICorProfilerInfo6,
        &IID_ICorProfilerInfo7, &IID_ICorProfilerInfo8, &IID_ICorProfilerInfo9,
        &IID_ICorProfilerInfo10, &IID_ICorProfilerInfo11, &IID_ICorProfilerInfo12,
        &IID_ICorProfilerInfo13, &IID_ICorProfilerInfo14, &IID_ICorProfilerInfo15,
    };
    int highest = 0;
    for (int v = 15; v >= 1; v--) {
        IUnknown *out = NULL;
        HRESULT hr = unk->lpVtbl->QueryInterface(unk, infos[v - 1], (void **)&out);
        probe_log("InfoQI version=%d hr=0x%08X", v, (unsigned)hr);
        if (hr == S_OK) {
            if (!out)
                probe_fail(p, "QueryInterface(ICorProfilerInfo%d) gave S_OK and NULL", v);
            else
                out->lpVtbl->Release(out);
            if (!highest)
                highest = v;
        }
    }
    probe_log("InfoHighest version=%d", highest);
    IUnknown *bogus = (IUnknown *)(uintptr_t)1;
    HRESULT hr = unk->lpVtbl->QueryInterface(unk, &IID_IMetaDataImport, (void **)&bogus);
    probe_expect_hr(p, "Info QueryInterface(IID_IMetaDataImport)", hr, E_NOINTERFACE);
    if (bogus)
        probe_fail(p, "a refused QueryInterface left %p in *ppv", (void *)bogus);

    hr = unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo3, (void **)&p->info);
    if (!probe_expect_hr(p, "QueryInterface(ICorProfilerInfo3)", hr, S_OK))
        return E_FAIL;
    ICorProfilerInfo3 *info = p->info;

    const DWORD mask = COR_PRF_MONITOR_MODULE_LOADS | COR_PRF_MONITOR_ASSEMBLY_LOADS |
                       COR_PRF_MONITOR_APPDOMAIN_LOADS | COR_PRF_MONITOR_JIT_COMPILATION |
                       COR_PRF_MONITOR_CLASS_LOADS | COR_PRF_MONITOR_THREADS |
                       COR_PRF_MONITOR_EXCEPTIONS | COR_PRF_MONITOR_GC |
                       COR_PRF_MONITOR_SUSPENDS | COR_PRF_MONITOR_CACHE_SEARCHES |
                       COR_PRF_ENABLE_STACK_SNAPSHOT |
                       (p->transitions ? COR_PRF_MONITOR_CODE_TRANSITIONS : 0) |
                       (p->noopt ? COR_PRF_DISABLE_OPTIMIZATIONS : 0);
    probe_expect_hr(p, "SetEventMask", info->lpVtbl->SetEventMask(info, mask), S_OK);
    if (p->high)
        set_high_mask(p, unk, mask);
    DWORD got = 0;
    probe_expect_hr(p, "GetEventMask", info->lpVtbl->GetEventMask(info, &got), S_OK);
    probe_log("EventMask set=0x%08X get=0x%08X", (unsigned)mask, (unsigned)got);
    if (got != mask)
        probe_fail(p, "GetEventMask gave 0x%08X after SetEventMask(0x%08X)", (unsigned)got,
                   (unsigned)mask);
    if (conform_enabled()) {
        conform_initialize(unk, mask);
        if (unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo15, (void **)&p->info15) != S_OK)
            p->info15 = NULL;
    }

    USHORT instance = 0, major = 0, minor = 0, build = 0, qfe = 0;
    COR_PRF_RUNTIME_TYPE type = 0;
    WCHAR ver[128];
    ULONG ver_len = 0;
    char vbuf[256];
    hr = info->lpVtbl->GetRuntimeInformation(info, &instance, &type, &major, &minor, &build, &qfe,
                                             128, &ver_len, ver);
    if (probe_expect_hr(p, "GetRuntimeInformation", hr, S_OK)) {
        probe_log("RuntimeInformation instance=%u type=%d version=%u.%u.%u.%u string=%s", instance,
                  (int)type, major, minor, build, qfe, probe_utf8(ver, ver_len, vbuf, sizeof vbuf));
        if (type != COR_PRF_CORE_CLR || major < 5)
            probe_fail(p, "GetRuntimeInformation: type %d major %u", (int)type, major);
    }

    ULONG buf_len_off = 0, str_len_off = 0, buf_off = 0, str_len_off2 = 0, buf_off2 = 0;
    hr = info->lpVtbl->GetStringLayout(info, &buf_len_off, &str_len_off, &buf_off);
    probe_expect_hr(p, "GetStringLayout", hr, S_OK);
    hr = info->lpVtbl->GetStringLayout2(info, &str_len_off2, &buf_off2);
    probe_expect_hr(p, "GetStringLayout2", hr, S_OK);
    probe_log("StringLayout length_at=%u chars_at=%u (layout2 %u %u)", (unsigned)str_len_off,
              (unsigned)buf_off, (unsigned)str_len_off2, (unsigned)buf_off2);
    if (str_len_off != str_len_off2 || buf_off != buf_off2 || buf_off != str_len_off + 4)
        probe_fail(p, "GetStringLayout and GetStringLayout2 disagree");
    return S_OK;
}
/* The enumerations at Shutdown: EnumModules must list Hello.dll (and enumerate through
 * its own vtable), EnumJITedFunctions Main, GetAppDomainsContainingModule a domain. */
static void shutdown_enums(probe *p)
{
    ICorProfilerInfo3 *info = p->info;
    HRESULT hr;

    ICorProfilerModuleEnum *mods = NULL;
    hr = info->lpVtbl->EnumModules(info, &mods);
    if (probe_expect_hr(p, "EnumModules", hr, S_OK)) {
        ULONG total = 0, got = 0, seen = 0;
        bool hello = false;
        probe_expect_hr(p, "ModuleEnum::GetCount", mods->lpVtbl->GetCount(mods, &total), S_OK);
        ModuleID batch[16];
        while ((hr = mods->lpVtbl->Next(mods, 16, batch, &got)) == S_OK || (hr == S_FALSE && got)) {
            for (ULONG i = 0; i < got; i++)
                hello |= batch[i] == p->hello_module;
            seen += got;
            if (hr == S_FALSE)
                break;
        }
        probe_log("EnumModules count=%u enumerated=%u hello=%d", (unsigned)total, (unsigned)seen,
                  hello);
        if (!hello || seen != total)
            probe_fail(p, "EnumModules: %u of %u, Hello %s", (unsigned)seen, (unsigned)total,
                       hello ? "found" : "missing");
        mods->lpVtbl->Release(mods);
    }
    ICorProfilerFunctionEnum *funcs = NULL;
    hr = info->lpVtbl->EnumJITedFunctions(info, &funcs);
    if (probe_expect_hr(p, "EnumJITedFunctions", hr, S_OK)) {
        ULONG total = 0, got = 0;
        bool main_found = false;
        probe_expect_hr(p, "FunctionEnum::GetCount", funcs->lpVtbl->GetCount(funcs, &total), S_OK);
        COR_PRF_FUNCTION batch[64];
        while ((hr = funcs->lpVtbl->Next(funcs, 64, batch, &got)) == S_OK ||
               (hr == S_FALSE && got)) {
            for (ULONG i = 0; i < got; i++)
                main_found |= batch[i].functionId == p->main_fid;
            if (hr == S_FALSE)
                break;
        }
        probe_log("EnumJITedFunctions count=%u main=%d", (unsigned)total, main_found);
        if (!main_found)
            probe_fail(p, "EnumJITedFunctions does not list Main");
        funcs->lpVtbl->Release(funcs);
    }
    if (p->hello_module) {
        AppDomainID ads[8];
        ULONG32 n = 0;
        hr = info->lpVtbl->GetAppDomainsContainingModule(info, p->hello_module, 8, &n, ads);
        if (probe_expect_hr(p, "GetAppDomainsContainingModule", hr, S_OK) && n < 1)
            probe_fail(p, "GetAppDomainsContainingModule: none");
    }
}

/* Slots that came unpaired, each logged as a FAIL line; called under p->lock. */
static unsigned unpaired_slots(probe *p)
{
    /* Paired events come in pairs: a slot swapped with a neighbour of the same shape
     * (say ThreadCreated and ThreadDestroyed) shows up here. */
    static const struct {
        unsigned open, close;
        bool exact;
    } pairs[] = {
        { 5, 6, true },     /* AppDomainCreationStarted / Finished */
        { 9, 10, true },    /* AssemblyLoadStarted / Finished */
        { 13, 14, true },   /* ModuleLoadStarted / Finished */
        { 18, 19, true },   /* ClassLoadStarted / Finished */
        { 23, 24, true },   /* JITCompilationStarted / Finished */
        { 25, 26, false },  /* JITCachedFunctionSearchStarted / Finished */
        { 29, 31, true },   /* ThreadCreated / ThreadAssignedToOSThread */
        { 45, 46, true },   /* RuntimeResumeStarted / Finished */
        { 47, 48, true },   /* RuntimeThreadSuspended / Resumed */
        { 55, 56, true },   /* ExceptionSearchFunctionEnter / Leave */
        { 57, 58, true },   /* ExceptionSearchFilterEnter / Leave */
        { 62, 63, false },  /* ExceptionUnwindFunctionEnter / Leave (not the catching frame) */
        { 64, 65, true },   /* ExceptionUnwindFinallyEnter / Leave */
        { 66, 67, true },   /* ExceptionCatcherEnter / Leave */
        { 73, 75, true },   /* GarbageCollectionStarted / Finished */
    };
    unsigned unpaired = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        unsigned long a = p->counts[pairs[i].open], b = p->counts[pairs[i].close];
        if (pairs[i].exact ? a != b : a < b) {
            probe_log("FAIL: slot %u came %lu times, slot %u %lu times", pairs[i].open, a,
                      pairs[i].close, b);
            unpaired++;
        }
    }
    unsigned long suspends = p->counts[42], ends = p->counts[43] + p->counts[44];
    if (suspends != ends) {
        probe_log("FAIL: %lu RuntimeSuspendStarted, %lu Finished or Aborted", suspends, ends);
        unpaired++;
    }
    /* A collection needs a finished suspension (an aborted one is a rare race). */
    if (p->gc_started && p->counts[43] == 0) {
        probe_log("FAIL: %lu collections but no RuntimeSuspendFinished", p->gc_started);
        unpaired++;
    }
    return unpaired;
}

HRESULT cb_Shutdown(ICorProfilerCallback3 *iface)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 4);
    probe_log("Shutdown");
    if (p->info15)
        conform_shutdown(p->info15, p->hello_module, p->main_fid);
    shutdown_enums(p);

    pthread_mutex_lock(&p->lock);
    probe_log("GCSummary started=%lu finished=%lu roots=%lu object_refs=%lu moved_ranges=%lu "
              "surviving_ranges=%lu",
              p->gc_started, p->gc_finished, p->gc_roots, p->gc_objects, p->gc_moved,
              p->gc_surviving);
    for (unsigned s = 0; s < SLOT_COUNT; s++)
        if (p->counts[s])
            probe_log("Count slot=%u n=%lu", s, p->counts[s]);
    p->failures += unpaired_slots(p);
    unsigned missing = 0;
    for (int b = 0; b < SEEN_COUNT; b++)
        if (!p->seen[b] && !(b == SEEN_TRANSITION && !p->transitions) &&
            !(b == SEEN_CACHE_SEARCH && p->transitions)) {
            probe_log("FAIL: never saw %s", seen_names[b]);
            missing++;
        }
    p->failures += missing;
    unsigned failures = p->failures;
    pthread_mutex_unlock(&p->lock);
    if (failures)
        probe_log("FAIL %u", failures);
    else
        probe_log("PASS");
    return S_OK;
}
