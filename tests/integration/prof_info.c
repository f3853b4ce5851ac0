/* prof_info.c: a profiler that calls the host's ICorProfilerInfo4..15 answers and checks
 * them against each other and against the image's metadata (read through the host's
 * IMetaDataImport): every Info IID answers with one object; a ClassID for each
 * non-generic TypeDef maps back to its token; each JIT-compiled function's class is the
 * TypeDef that declares its MethodDef and GetFunctionFromTokenAndTypeArgs gives the
 * function back; the enumerators list what the callbacks delivered and follow the IEnum
 * rules (Skip, Reset, Clone, Next past the end); environment variables set by the
 * profiler are seen by GetEnvironmentVariable and not by getenv (as CoreCLR); and the
 * unsupported calls answer CoreCLR's HRESULTs (test_host_integration checks the report
 * counts them). The test sets PROF_INFO_VAR=abc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define MAX_FUNCS 4096
static FunctionID jitted[MAX_FUNCS];
static unsigned jitted_count, classes_named, classes_generic, functions_checked;
static ICorProfilerInfo15 *info15;

static void wide(const char *s, WCHAR *out)
{
    while ((*out++ = (WCHAR)(unsigned char)*s++))
        ;
}

static void check_env(ICorProfilerInfo15 *info)
{
    WCHAR name[64], buf[16];
    ULONG len = 0;
    wide("PROF_INFO_VAR", name);
    HRESULT hr = info->lpVtbl->GetEnvironmentVariable(info, name, 16, &len, buf);
    prof_check(hr == S_OK && len == 3 && buf[0] == 'a' && buf[3] == 0,
               "GetEnvironmentVariable(abc): 0x%08x, length %u", (unsigned)hr, (unsigned)len);
    hr = info->lpVtbl->GetEnvironmentVariable(info, name, 0, &len, NULL);
    prof_check(hr == S_OK && len == 4, "size of abc: 0x%08x, %u", (unsigned)hr, (unsigned)len);
    hr = info->lpVtbl->GetEnvironmentVariable(info, name, 2, &len, buf);
    prof_check(hr == (HRESULT)0x8007007A && len == 4, "abc in 2 chars: 0x%08x, %u", (unsigned)hr,
               (unsigned)len);
    WCHAR set[64], value[16];
    wide("PROF_INFO_SET", set);
    wide("xyz", value);
    prof_check(info->lpVtbl->SetEnvironmentVariable(info, set, value) == S_OK, "SetEnvironmentVariable");
    prof_check(getenv("PROF_INFO_SET") == NULL, "getenv sees a variable the profiler set");
    hr = info->lpVtbl->GetEnvironmentVariable(info, set, 16, &len, buf);
    prof_check(hr == S_OK && len == 3 && buf[0] == 'x', "the set variable: 0x%08x", (unsigned)hr);
    prof_check(info->lpVtbl->SetEnvironmentVariable(info, set, NULL) == S_OK, "delete");
    hr = info->lpVtbl->GetEnvironmentVariable(info, set, 16, &len, buf);
    prof_check(hr == (HRESULT)0x800700CB, "deleted variable: 0x%08x", (unsigned)hr);
    wide("HOME", set);
    prof_check(info->lpVtbl->SetEnvironmentVariable(info, set, NULL) == S_OK, "delete HOME");
    hr = info->lpVtbl->GetEnvironmentVariable(info, set, 16, &len, buf);
    prof_check(hr == (HRESULT)0x800700CB && getenv("HOME"), "HOME deleted for the profiler only");
}

static HRESULT info_initialize(ICorProfilerInfo3 *info)
{
    static const IID *const iids[] = {
        &IID_ICorProfilerInfo,   &IID_ICorProfilerInfo2,  &IID_ICorProfilerInfo3,
        &IID_ICorProfilerInfo4,  &IID_ICorProfilerInfo5,  &IID_ICorProfilerInfo6,
        &IID_ICorProfilerInfo7,  &IID_ICorProfilerInfo8,  &IID_ICorProfilerInfo9,
        &IID_ICorProfilerInfo10, &IID_ICorProfilerInfo11, &IID_ICorProfilerInfo12,
        &IID_ICorProfilerInfo13, &IID_ICorProfilerInfo14, &IID_ICorProfilerInfo15,
    };
    for (size_t v = 0; v < sizeof iids / sizeof iids[0]; v++) {
        IUnknown *u = NULL;
        HRESULT hr = info->lpVtbl->QueryInterface(info, iids[v], (void **)&u);
        prof_check(hr == S_OK && u == (IUnknown *)info, "QueryInterface(Info%zu): 0x%08x", v + 1,
                   (unsigned)hr);
        if (u)
            u->lpVtbl->Release(u);
    }
    info->lpVtbl->QueryInterface(info, &IID_ICorProfilerInfo15, (void **)&info15);
    if (!info15)
        return E_FAIL;
    DWORD mask = COR_PRF_MONITOR_MODULE_LOADS | COR_PRF_MONITOR_JIT_COMPILATION;
    prof_check(info15->lpVtbl->SetEventMask2(info15, mask, COR_PRF_HIGH_DISABLE_TIERED_COMPILATION) ==
                   S_OK, "SetEventMask2");
    DWORD low = 0, high = 0;
    info15->lpVtbl->GetEventMask2(info15, &low, &high);
    prof_check(low == mask && high == COR_PRF_HIGH_DISABLE_TIERED_COMPILATION,
               "GetEventMask2: 0x%x 0x%x", (unsigned)low, (unsigned)high);
    USHORT major = 0, minor = 9;
    COR_PRF_RUNTIME_TYPE type = 0;
    WCHAR ver[32];
    ULONG len = 0;
    HRESULT hr = info15->lpVtbl->GetRuntimeInformation(info15, NULL, &type, &major, &minor, NULL,
                                                       NULL, 32, &len, ver);
    prof_check(hr == S_OK && type == COR_PRF_CORE_CLR && major == 10 && minor == 0 && ver[0] == '1' &&
                   ver[len - 1] == 0,
               "GetRuntimeInformation: 0x%08x type %d %u.%u", (unsigned)hr, (int)type, major, minor);
    FunctionID fid = 0;
    hr = info15->lpVtbl->GetFunctionFromIP(info15, (LPCBYTE)16, &fid);
    prof_check(hr == CORPROF_E_NOT_YET_AVAILABLE, "GetFunctionFromIP in Initialize: 0x%08x",
               (unsigned)hr);
    check_env(info15);
    return S_OK;
}

/* A generic TypeDef instantiated over arg (a ClassID) as often as it has parameters:
 * the instantiation names the TypeDef, the module and the arguments, is the same ClassID
 * when asked again, and a count that is not the type's is COR_E_TYPELOAD (what CoreCLR
 * answers, test_abi_probe). */
static void check_instantiation(ModuleID mod, IMetaDataImport *md, mdTypeDef td, ClassID arg)
{
    enum { MAX_PARAMS = 8 };
    IMetaDataImport2 *md2 = NULL;
    HCORENUM e = NULL;
    mdGenericParam gps[MAX_PARAMS];
    ULONG n = 0;
    if (md->lpVtbl->QueryInterface(md, &IID_IMetaDataImport2, (void **)&md2) != S_OK)
        return;
    md2->lpVtbl->EnumGenericParams(md2, &e, td, gps, MAX_PARAMS, &n);
    md2->lpVtbl->CloseEnum(md2, e);
    md2->lpVtbl->Release(md2);
    ClassID args[MAX_PARAMS + 1], got[MAX_PARAMS], cls = 0, again = 0;
    for (ULONG i = 0; i <= MAX_PARAMS; i++)
        args[i] = arg;
    HRESULT hr = info15->lpVtbl->GetClassFromTokenAndTypeArgs(info15, mod, td, n, args, &cls);
    prof_check(hr == S_OK && cls, "GetClassFromTokenAndTypeArgs(0x%08x, %u): 0x%08x",
               (unsigned)td, (unsigned)n, (unsigned)hr);
    info15->lpVtbl->GetClassFromTokenAndTypeArgs(info15, mod, td, n, args, &again);
    prof_check(again == cls, "0x%08x: a second instantiation is another ClassID", (unsigned)td);
    ModuleID cm = 0;
    mdTypeDef tok = 0;
    ULONG32 nargs = 0;
    hr = info15->lpVtbl->GetClassIDInfo2(info15, cls, &cm, &tok, NULL, MAX_PARAMS, &nargs, got);
    prof_check(hr == S_OK && cm == mod && tok == td && nargs == n,
               "GetClassIDInfo2 of 0x%08x's instantiation: 0x%08x, 0x%08x, %u arguments",
               (unsigned)td, (unsigned)hr, (unsigned)tok, (unsigned)nargs);
    for (ULONG32 i = 0; hr == S_OK && i < nargs && i < MAX_PARAMS; i++)
        prof_check(got[i] == arg, "0x%08x's argument %u is another class", (unsigned)td, i);
    hr = info15->lpVtbl->GetClassFromTokenAndTypeArgs(info15, mod, td, n + 1, args, &again);
    prof_check(hr == COR_E_TYPELOAD, "0x%08x with %u arguments: 0x%08x", (unsigned)td,
               (unsigned)n + 1, (unsigned)hr);
}

/* Every TypeDef: its ClassID (or CORPROF_E_TYPE_IS_PARAMETERIZED) maps back. */
static void check_classes(ModuleID mod, IMetaDataImport *md)
{
    ClassID module_class = 0;
    info15->lpVtbl->GetClassFromToken(info15, mod, 0x02000001, &module_class);
    HCORENUM e = NULL;
    mdTypeDef tds[64];
    ULONG got = 0;
    while (md->lpVtbl->EnumTypeDefs(md, &e, tds, 64, &got) == S_OK && got) {
        for (ULONG i = 0; i < got; i++) {
            ClassID cls = 0, parent = 1;
            HRESULT hr = info15->lpVtbl->GetClassFromToken(info15, mod, tds[i], &cls);
            if (hr == CORPROF_E_TYPE_IS_PARAMETERIZED) {
                check_instantiation(mod, md, tds[i], module_class);
                classes_generic++;
                continue;
            }
            ModuleID cm = 0;
            mdTypeDef tok = 0;
            ULONG32 nargs = 9;
            prof_check(hr == S_OK && cls, "GetClassFromToken(0x%08x): 0x%08x", (unsigned)tds[i],
                       (unsigned)hr);
            hr = info15->lpVtbl->GetClassIDInfo2(info15, cls, &cm, &tok, &parent, 0, &nargs, NULL);
            prof_check(hr == S_OK && cm == mod && tok == tds[i] && nargs == 0,
                       "GetClassIDInfo2 of 0x%08x: 0x%08x gave 0x%08x", (unsigned)tds[i],
                       (unsigned)hr, (unsigned)tok);
            if (parent) {
                hr = info15->lpVtbl->GetClassIDInfo(info15, parent, &cm, &tok);
                prof_check(hr == S_OK && cm == mod, "parent of 0x%08x is no class of the module",
                           (unsigned)tds[i]);
            }
            prof_check(info15->lpVtbl->IsArrayClass(info15, cls, NULL, NULL, NULL) == S_FALSE,
                       "IsArrayClass(0x%08x)", (unsigned)tds[i]);
            classes_named++;
        }
    }
    md->lpVtbl->CloseEnum(md, e);
    ClassID cls = 0;
    prof_check(info15->lpVtbl->GetClassFromToken(info15, mod, 0x06000001, &cls) == E_INVALIDARG,
               "GetClassFromToken(MethodDef)");
    prof_check(info15->lpVtbl->GetClassIDInfo(info15, 12345, NULL, NULL) == E_INVALIDARG,
               "GetClassIDInfo(bogus)");
}

static bool module_listed(ModuleID mod)
{
    ICorProfilerModuleEnum *e = NULL, *c = NULL;
    bool found = false;
    if (info15->lpVtbl->EnumModules(info15, &e) != S_OK)
        return false;
    ULONG n = 0, got = 0;
    ModuleID ids[8];
    e->lpVtbl->GetCount(e, &n);
    prof_check(e->lpVtbl->Skip(e, n + 1) == S_FALSE, "Skip past the end");
    prof_check(e->lpVtbl->Next(e, 1, ids, &got) == S_FALSE && got == 0, "Next at the end");
    e->lpVtbl->Reset(e);
    prof_check(e->lpVtbl->Clone(e, &c) == S_OK, "Clone");
    while (c && c->lpVtbl->Next(c, 1, ids, NULL) == S_OK)
        found |= ids[0] == mod;
    if (c)
        c->lpVtbl->Release(c);
    e->lpVtbl->Release(e);
    return found;
}

static HRESULT info_module_loaded(ICorProfilerInfo3 *info, ModuleID mod)
{
    (void)info;
    DWORD flags = 0;
    HRESULT hr = info15->lpVtbl->GetModuleInfo2(info15, mod, NULL, 0, NULL, NULL, NULL, &flags);
    prof_check(hr == S_OK && flags == COR_PRF_MODULE_DISK, "GetModuleInfo2: 0x%08x flags 0x%x",
               (unsigned)hr, (unsigned)flags);
    prof_check(module_listed(mod), "EnumModules lacks the module just loaded");
    ICorProfilerObjectEnum *objs = NULL;
    ULONG n = 9;
    if (info15->lpVtbl->EnumModuleFrozenObjects(info15, mod, &objs) == S_OK) {
        objs->lpVtbl->GetCount(objs, &n);
        objs->lpVtbl->Release(objs);
    }
    prof_check(n == 0, "frozen objects: %u", (unsigned)n);
    IMetaDataImport *md = NULL;
    if (info15->lpVtbl->GetModuleMetaData(info15, mod, ofRead, &IID_IMetaDataImport,
                                          (IUnknown **)&md) == S_OK) {
        check_classes(mod, md);
        md->lpVtbl->Release(md);
    }
    return S_OK;
}

static HRESULT info_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    (void)info;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    ULONG32 nargs = 9;
    HRESULT hr = info15->lpVtbl->GetFunctionInfo2(info15, fid, 0, &cls, &mod, &tok, 0, &nargs, NULL);
    prof_check(hr == S_OK && nargs == 0, "GetFunctionInfo2: 0x%08x", (unsigned)hr);
    if (jitted_count < MAX_FUNCS)
        jitted[jitted_count++] = fid;
    /* The class is the TypeDef that declares the method, per the metadata. */
    IMetaDataImport *md = NULL;
    mdTypeDef owner = 0;
    if (info15->lpVtbl->GetModuleMetaData(info15, mod, ofRead, &IID_IMetaDataImport,
                                          (IUnknown **)&md) == S_OK) {
        md->lpVtbl->GetMethodProps(md, tok, &owner, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL);
        md->lpVtbl->Release(md);
    }
    ClassID want = 0;
    if (info15->lpVtbl->GetClassFromToken(info15, mod, owner, &want) != S_OK)
        want = 0;
    prof_check(cls == want, "0x%08x: class %lx, its TypeDef 0x%08x gives %lx", (unsigned)tok,
               (unsigned long)cls, (unsigned)owner, (unsigned long)want);
    if (cls) {
        FunctionID again = 0;
        hr = info15->lpVtbl->GetFunctionFromTokenAndTypeArgs(info15, mod, tok, cls, 0, NULL, &again);
        /* A generic method without its type arguments: COR_E_BADIMAGEFORMAT, as CoreCLR
         * answers (test_abi_probe). */
        prof_check((hr == S_OK && again == fid) || hr == COR_E_BADIMAGEFORMAT,
                   "GetFunctionFromTokenAndTypeArgs(0x%08x): 0x%08x", (unsigned)tok, (unsigned)hr);
        functions_checked++;
    }
    BOOL dyn = TRUE;
    prof_check(info15->lpVtbl->IsFunctionDynamic(info15, fid, &dyn) == S_OK && !dyn, "IsFunctionDynamic");
    ReJITID ids[2] = { 7, 7 };
    ULONG n = 0;
    hr = info15->lpVtbl->GetReJITIDs(info15, fid, 2, &n, ids);
    prof_check(hr == S_OK && n == 1 && ids[0] == 0, "GetReJITIDs: 0x%08x %u", (unsigned)hr, (unsigned)n);
    COR_PRF_CODE_INFO code[1];
    ULONG32 nc = 0;
    hr = info15->lpVtbl->GetCodeInfo2(info15, fid, 1, &nc, code);
    prof_check(hr == CORPROF_E_FUNCTION_NOT_COMPILED, "GetCodeInfo2: 0x%08x", (unsigned)hr);
    FunctionID none = 0;
    hr = info15->lpVtbl->GetFunctionFromIP(info15, (LPCBYTE)16, &none);
    prof_check(hr == E_FAIL, "GetFunctionFromIP: 0x%08x", (unsigned)hr);
    return S_OK;
}

static HRESULT info_shutdown(ICorProfilerInfo3 *info)
{
    (void)info;
    for (int two = 0; two < 2; two++) {
        ICorProfilerFunctionEnum *e = NULL;
        HRESULT hr = two ? info15->lpVtbl->EnumJITedFunctions2(info15, &e)
                         : info15->lpVtbl->EnumJITedFunctions(info15, &e);
        ULONG n = 0, matched = 0;
        COR_PRF_FUNCTION f;
        if (hr == S_OK) {
            e->lpVtbl->GetCount(e, &n);
            while (e->lpVtbl->Next(e, 1, &f, NULL) == S_OK)
                for (unsigned i = 0; i < jitted_count; i++)
                    matched += f.functionId == jitted[i] && f.reJitId == 0;
            e->lpVtbl->Release(e);
        }
        prof_check(hr == S_OK && n == jitted_count && matched == jitted_count,
                   "EnumJITedFunctions%s: %u listed, %u matched, %u JIT events", two ? "2" : "",
                   (unsigned)n, (unsigned)matched, jitted_count);
    }
    ICorProfilerThreadEnum *t = NULL;
    ThreadID me = 0, id = 0;
    bool found = false;
    info15->lpVtbl->GetCurrentThreadID(info15, &me);
    if (info15->lpVtbl->EnumThreads(info15, &t) == S_OK) {
        while (t->lpVtbl->Next(t, 1, &id, NULL) == S_OK)
            found |= id == me;
        t->lpVtbl->Release(t);
    }
    prof_check(found, "EnumThreads lacks the current thread");
    /* Unsupported: each answers CoreCLR's HRESULT (observed by test_abi_probe: ForceGC
     * from a thread inside a callback, a session without providers) and is counted. */
    ClassID cls = 0;
    prof_check(info15->lpVtbl->GetClassFromObject(info15, 0, &cls) == E_INVALIDARG, "GetClassFromObject");
    /* Inside a callback on a runtime thread CoreCLR refuses ForceGC before looking for a
     * heap (observed: docs/coreclr-observed.md, "Call rules"). */
    prof_check(info15->lpVtbl->ForceGC(info15) == CORPROF_E_UNSUPPORTED_CALL_SEQUENCE, "ForceGC");
    EVENTPIPE_SESSION session = 0;
    prof_check(info15->lpVtbl->EventPipeStartSession(info15, 0, NULL, FALSE, &session) ==
                   E_INVALIDARG,
               "EventPipeStartSession");
    prof_log("classes %u named, %u generic; %u functions by class and token", classes_named,
             classes_generic, functions_checked);
    prof_check(classes_named > 0 && functions_checked > 0, "nothing checked");
    info15->lpVtbl->Release(info15);
    info15 = NULL;
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = info_initialize,
    .module_load_finished = info_module_loaded,
    .jit_started = info_jit_started,
    .shutdown = info_shutdown,
};
