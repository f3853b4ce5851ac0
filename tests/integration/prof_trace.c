/* prof_trace.c: a profiler that logs, as "CALL <line>", every call it makes into the host
 * and what it got back, written as `ilgraft run --trace` documents its lines
 * (docs/profiler.md, "--trace"): arguments it passed, the HRESULT it received, the out
 * values it read. test_host_integration checks that the host's trace holds each of those
 * lines. Among the calls: metadata (with the scope ResolveTypeRef hands out), the IL
 * allocator, an enumerator, a rule-breaking one
 * (SetEnterLeaveFunctionHooks3 after Initialize: CORPROF_E_CALL_ONLY_FROM_INIT) and calls
 * from a thread of its own. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "prof_common.h"

static ICorProfilerInfo15 *info15;

/* The profiler's own names for the HRESULTs it meets (corprof.h's constants). */
static const char *hr_name(HRESULT hr)
{
    static char other[16];
    static const struct {
        HRESULT hr;
        const char *name;
    } names[] = {
        { S_OK, "S_OK" },
        { E_INVALIDARG, "E_INVALIDARG" },
        { CORPROF_E_CALL_ONLY_FROM_INIT, "CORPROF_E_CALL_ONLY_FROM_INIT" },
        { CORPROF_E_NOT_MANAGED_THREAD, "CORPROF_E_NOT_MANAGED_THREAD" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].hr == hr)
            return names[i].name;
    snprintf(other, sizeof other, "0x%08X", (unsigned)hr);
    return other;
}

static HRESULT trace_initialize(ICorProfilerInfo3 *info)
{
    HRESULT hr = info->lpVtbl->QueryInterface(info, &IID_ICorProfilerInfo15, (void **)&info15);
    prof_check(hr == S_OK, "Info15");
    if (hr != S_OK)
        return E_FAIL;
    DWORD mask = COR_PRF_MONITOR_MODULE_LOADS | COR_PRF_MONITOR_JIT_COMPILATION;
    hr = info15->lpVtbl->SetEventMask(info15, mask);
    prof_log("CALL ICorProfilerInfo::SetEventMask(dwEvents=0x%X) = %s", (unsigned)mask,
             hr_name(hr));
    hr = info15->lpVtbl->SetEnterLeaveFunctionHooks3(info15, NULL, NULL, NULL);
    prof_log("CALL ICorProfilerInfo3::SetEnterLeaveFunctionHooks3(pFuncEnter3=NULL, "
             "pFuncLeave3=NULL, pFuncTailcall3=NULL) = %s",
             hr_name(hr));
    return S_OK;
}

static void *own_thread(void *arg)
{
    ThreadID tid = 0;
    HRESULT hr = info15->lpVtbl->GetCurrentThreadID(info15, &tid);
    prof_log("CALL ICorProfilerInfo::GetCurrentThreadID() = %s", hr_name(hr));
    (void)arg;
    return NULL;
}

static void metadata_calls(ModuleID mod)
{
    IMetaDataImport *md = NULL;
    HRESULT hr = info15->lpVtbl->GetModuleMetaData(info15, mod, ofRead, &IID_IMetaDataImport,
                                                   (IUnknown **)&md);
    prof_log("CALL ICorProfilerInfo::GetModuleMetaData(moduleId=0x%llx, dwOpenFlags=0x0, "
             "riid={7DAC8207-D3AE-4C75-9B67-92801A497D44} (IMetaDataImport)) = %s: *ppOut=%p",
             (unsigned long long)mod, hr_name(hr), (void *)md);
    if (hr != S_OK)
        return;
    HCORENUM e = NULL;
    mdTypeDef td = 0;
    ULONG got = 0;
    hr = md->lpVtbl->EnumTypeDefs(md, &e, &td, 1, &got);
    prof_log("CALL IMetaDataImport::EnumTypeDefs(rTypeDefs=%p, cMax=1) = %s: *phEnum=%p, "
             "*pcTypeDefs=%u",
             (void *)&td, hr_name(hr), e, (unsigned)got);
    md->lpVtbl->CloseEnum(md, e);
    prof_log("CALL IMetaDataImport::CloseEnum(hEnum=%p)", e);
    /* ResolveTypeRef hands out a metadata object: traced too (its Release is on the trace). */
    IUnknown *scope = NULL;
    mdTypeDef resolved = 0;
    hr = md->lpVtbl->ResolveTypeRef(md, td, &IID_IMetaDataImport, &scope, &resolved);
    prof_log("CALL IMetaDataImport::ResolveTypeRef(tr=0x%08X, "
             "riid={7DAC8207-D3AE-4C75-9B67-92801A497D44} (IMetaDataImport)) = %s: "
             "*ppIScope=%p, *ptd=0x%08X",
             (unsigned)td, hr_name(hr), (void *)scope, (unsigned)resolved);
    prof_check(hr == S_OK && resolved == td, "ResolveTypeRef of a TypeDef");
    if (hr == S_OK) {
        ULONG scope_refs = scope->lpVtbl->Release(scope);
        prof_log("CALL IMetaDataImport::Release() = %u", (unsigned)scope_refs);
    }
    ULONG refs = md->lpVtbl->Release(md);
    prof_log("CALL IMetaDataImport::Release() = %u", (unsigned)refs);
}

static HRESULT trace_module(ICorProfilerInfo3 *info, ModuleID mod)
{
    (void)info;
    prof_log("CALL callback ModuleLoadFinished(moduleId=0x%llx, hrStatus=S_OK)",
             (unsigned long long)mod);
    WCHAR name[256];
    char text[256];
    ULONG len = 0;
    AssemblyID asm_id = 0;
    HRESULT hr = info15->lpVtbl->GetModuleInfo(info15, mod, NULL, 256, &len, name, &asm_id);
    size_t n = 0;
    for (; hr == S_OK && n + 1 < sizeof text && name[n]; n++)
        text[n] = (char)name[n];
    text[n] = '\0';
    prof_log("CALL ICorProfilerInfo::GetModuleInfo(moduleId=0x%llx, cchName=256) = %s: "
             "*pcchName=%u, szName=\"%s\", *pAssemblyId=0x%llx",
             (unsigned long long)mod, hr_name(hr), (unsigned)len, text,
             (unsigned long long)asm_id);
    metadata_calls(mod);
    IMethodMalloc *heap = NULL;
    hr = info15->lpVtbl->GetILFunctionBodyAllocator(info15, mod, &heap);
    prof_log("CALL ICorProfilerInfo::GetILFunctionBodyAllocator(moduleId=0x%llx) = %s",
             (unsigned long long)mod, hr_name(hr));
    if (hr == S_OK) {
        void *p = heap->lpVtbl->Alloc(heap, 16);
        prof_log("CALL IMethodMalloc::Alloc(cb=16) = %p", p);
        heap->lpVtbl->Release(heap);
    }
    ICorProfilerModuleEnum *mods = NULL;
    hr = info15->lpVtbl->EnumModules(info15, &mods);
    prof_log("CALL ICorProfilerInfo3::EnumModules() = %s: *ppEnum=%p", hr_name(hr), (void *)mods);
    if (hr == S_OK) {
        ModuleID first = 0;
        ULONG got = 0;
        hr = mods->lpVtbl->Next(mods, 1, &first, &got);
        prof_log("CALL ICorProfilerModuleEnum::Next(celt=1) = %s: 0x%llx", hr_name(hr),
                 (unsigned long long)first);
        mods->lpVtbl->Release(mods);
    }
    /* Not callable after Initialize: the trace shows CoreCLR's refusal. */
    hr = info15->lpVtbl->SetEnterLeaveFunctionHooks3(info15, NULL, NULL, NULL);
    prof_log("CALL ICorProfilerInfo3::SetEnterLeaveFunctionHooks3(pFuncEnter3=NULL, "
             "pFuncLeave3=NULL, pFuncTailcall3=NULL) = %s",
             hr_name(hr));
    pthread_t t;
    if (pthread_create(&t, NULL, own_thread, NULL) == 0)
        pthread_join(t, NULL);
    return S_OK;
}

static HRESULT trace_jit(ICorProfilerInfo3 *info, FunctionID fid)
{
    (void)info;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    HRESULT hr = info15->lpVtbl->GetFunctionInfo(info15, fid, &cls, &mod, &tok);
    prof_log("CALL ICorProfilerInfo::GetFunctionInfo(functionId=0x%llx) = %s: *pClassId=0x%llx, "
             "*pModuleId=0x%llx, *pToken=0x%08X",
             (unsigned long long)fid, hr_name(hr), (unsigned long long)cls,
             (unsigned long long)mod, (unsigned)tok);
    return S_OK;
}

static HRESULT trace_shutdown(ICorProfilerInfo3 *info)
{
    (void)info;
    if (info15)
        info15->lpVtbl->Release(info15);
    prof_finish();
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = trace_initialize,
    .module_load_finished = trace_module,
    .jit_started = trace_jit,
    .shutdown = trace_shutdown,
};
