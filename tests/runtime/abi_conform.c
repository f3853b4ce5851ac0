/* abi_conform.c: the ABI probe's conformance calls (ILG_ABI_PROBE_CONFORM=1). At fixed
 * points of a run over Hello.dll the probe calls the ICorProfilerInfo4..15 methods the
 * harness host answers, and some it cannot (asked about things that do not exist), and
 * logs each answer as one "CONF <call> ..." line with IDs and addresses left out (only
 * whether they name the expected thing). test_abi_probe runs the probe under a real
 * CoreCLR and under `ilgraft run` and compares the CONF lines one by one. Written
 * against corprof.h alone, like the probe. */
#include <stdlib.h>
#include <string.h>

#include "abi_conform.h"

#define CONF_VAR "ILG_CONF_VAR"

bool conform_enabled(void)
{
    const char *v = getenv("ILG_ABI_PROBE_CONFORM");
    return v && strcmp(v, "1") == 0;
}

static void env_calls(ICorProfilerInfo15 *info)
{
    WCHAR name[64], value[64], buf[64];
    char text[64];
    ULONG len = 0;
    probe_wide(CONF_VAR, name, 64);
    HRESULT hr = info->lpVtbl->GetEnvironmentVariable(info, name, 64, &len, buf);
    probe_log("CONF GetEnvironmentVariable(set) hr=0x%08X len=%u value=%s", (unsigned)hr,
              (unsigned)len, hr == S_OK ? probe_ascii(buf, len, text, sizeof text) : "");
    len = 0;
    hr = info->lpVtbl->GetEnvironmentVariable(info, name, 3, &len, buf);
    probe_log("CONF GetEnvironmentVariable(3 chars) hr=0x%08X len=%u", (unsigned)hr, (unsigned)len);
    len = 0;
    hr = info->lpVtbl->GetEnvironmentVariable(info, name, 0, &len, NULL);
    probe_log("CONF GetEnvironmentVariable(size only) hr=0x%08X len=%u", (unsigned)hr, (unsigned)len);
    probe_wide("ILG_CONF_NO_SUCH_VARIABLE", name, 64);
    len = 0;
    hr = info->lpVtbl->GetEnvironmentVariable(info, name, 64, &len, buf);
    probe_log("CONF GetEnvironmentVariable(unset) hr=0x%08X", (unsigned)hr);
    probe_wide("ILG_CONF_SET", name, 64);
    probe_wide("from the profiler", value, 64);
    hr = info->lpVtbl->SetEnvironmentVariable(info, name, value);
    const char *seen = getenv("ILG_CONF_SET");
    probe_log("CONF SetEnvironmentVariable hr=0x%08X getenv=%s", (unsigned)hr, seen ? seen : "(null)");
    len = 0;
    hr = info->lpVtbl->GetEnvironmentVariable(info, name, 64, &len, buf);
    probe_log("CONF GetEnvironmentVariable(after set) hr=0x%08X len=%u value=%s", (unsigned)hr,
              (unsigned)len, hr == S_OK ? probe_ascii(buf, len, text, sizeof text) : "");
    hr = info->lpVtbl->SetEnvironmentVariable(info, name, NULL);
    seen = getenv("ILG_CONF_SET");
    probe_log("CONF SetEnvironmentVariable(NULL) hr=0x%08X getenv=%s", (unsigned)hr,
              seen ? seen : "(null)");
}

void conform_initialize(IUnknown *unk, DWORD mask)
{
    ICorProfilerInfo15 *info = NULL;
    HRESULT hr = unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo15, (void **)&info);
    probe_log("CONF QueryInterface(ICorProfilerInfo15) hr=0x%08X", (unsigned)hr);
    if (hr != S_OK)
        return;
    USHORT instance = 9, major = 0, minor = 0, build = 0, qfe = 0;
    COR_PRF_RUNTIME_TYPE type = 0;
    WCHAR ver[64];
    ULONG len = 0;
    char text[64];
    hr = info->lpVtbl->GetRuntimeInformation(info, &instance, &type, &major, &minor, &build, &qfe,
                                             64, &len, ver);
    probe_log("CONF GetRuntimeInformation hr=0x%08X instance=%u type=%d version=%u.%u.%u.%u "
              "len=%u string=%s",
              (unsigned)hr, instance, (int)type, major, minor, build, qfe, (unsigned)len,
              probe_ascii(ver, len, text, sizeof text));
    len = 0;
    hr = info->lpVtbl->GetRuntimeInformation(info, NULL, NULL, NULL, NULL, NULL, NULL, 2, &len, ver);
    probe_log("CONF GetRuntimeInformation(2 chars) hr=0x%08X len=%u", (unsigned)hr, (unsigned)len);

    DWORD low = 0, high = 0;
    hr = info->lpVtbl->GetEventMask2(info, &low, &high);
    probe_log("CONF GetEventMask2 hr=0x%08X low_is_mask=%d high=0x%X", (unsigned)hr, low == mask,
              (unsigned)high);
    hr = info->lpVtbl->SetEventMask2(info, mask, COR_PRF_HIGH_DISABLE_TIERED_COMPILATION);
    low = high = 0;
    HRESULT hr2 = info->lpVtbl->GetEventMask2(info, &low, &high);
    probe_log("CONF SetEventMask2(init) hr=0x%08X get=0x%08X low_is_mask=%d high=0x%X",
              (unsigned)hr, (unsigned)hr2, low == mask, (unsigned)high);

    ULONG a = 0, b = 0, c = 0;
    hr = info->lpVtbl->GetStringLayout(info, &a, &b, &c);
    probe_log("CONF GetStringLayout hr=0x%08X %u %u %u", (unsigned)hr, (unsigned)a, (unsigned)b,
              (unsigned)c);
    hr = info->lpVtbl->GetStringLayout2(info, &b, &c);
    probe_log("CONF GetStringLayout2 hr=0x%08X %u %u", (unsigned)hr, (unsigned)b, (unsigned)c);
    hr = info->lpVtbl->InitializeCurrentThread(info);
    probe_log("CONF InitializeCurrentThread hr=0x%08X", (unsigned)hr);
    DWORD loh = 0;
    hr = info->lpVtbl->GetLOHObjectSizeThreshold(info, &loh);
    probe_log("CONF GetLOHObjectSizeThreshold hr=0x%08X threshold=%u", (unsigned)hr, (unsigned)loh);
    env_calls(info);

    /* No code lies at address 16: what each answers for an IP that is in no method. */
    FunctionID fid = 0;
    ReJITID rejit = 0;
    hr = info->lpVtbl->GetFunctionFromIP(info, (LPCBYTE)16, &fid);
    probe_log("CONF GetFunctionFromIP(no code) hr=0x%08X", (unsigned)hr);
    hr = info->lpVtbl->GetFunctionFromIP3(info, (LPCBYTE)16, &fid, &rejit);
    probe_log("CONF GetFunctionFromIP3(no code) hr=0x%08X", (unsigned)hr);
    ULONG32 n = 0;
    COR_PRF_CODE_INFO code[2];
    hr = info->lpVtbl->GetCodeInfo4(info, 16, 2, &n, code);
    probe_log("CONF GetCodeInfo4(no code) hr=0x%08X", (unsigned)hr);
    conform_unsupported_init(info);
    conform_rules_init(info);
    info->lpVtbl->Release(info);
}

void conform_module(ICorProfilerInfo15 *info, ModuleID hello)
{
    LPCBYTE base = NULL;
    WCHAR name[512];
    ULONG len = 0;
    AssemblyID asm_id = 0;
    DWORD flags = 0;
    HRESULT hr = info->lpVtbl->GetModuleInfo2(info, hello, &base, 512, &len, name, &asm_id, &flags);
    /* FLAT_LAYOUT aside: CoreCLR reads Hello flat, the host maps it (coreclr-observed.md). */
    probe_log("CONF GetModuleInfo2 hr=0x%08X base=%d flags=0x%X", (unsigned)hr, base != NULL,
              (unsigned)(flags & ~COR_PRF_MODULE_FLAT_LAYOUT));
    AppDomainID ads[4] = { 0 };
    ULONG32 n = 0;
    hr = info->lpVtbl->GetAppDomainsContainingModule(info, hello, 4, &n, ads);
    probe_log("CONF GetAppDomainsContainingModule hr=0x%08X count=%u", (unsigned)hr, (unsigned)n);
    if (hr == S_OK && n) {
        WCHAR dn[128];
        ULONG dlen = 0;
        ProcessID pid = 0;
        char text[128];
        hr = info->lpVtbl->GetAppDomainInfo(info, ads[0], 128, &dlen, dn, &pid);
        probe_log("CONF GetAppDomainInfo hr=0x%08X len=%u name=%s", (unsigned)hr, (unsigned)dlen,
                  hr == S_OK ? probe_ascii(dn, dlen, text, sizeof text) : "");
    }
    ICorProfilerObjectEnum *objs = NULL;
    hr = info->lpVtbl->EnumModuleFrozenObjects(info, hello, &objs);
    ULONG count = 99;
    if (hr == S_OK) {
        objs->lpVtbl->GetCount(objs, &count);
        objs->lpVtbl->Release(objs);
    }
    probe_log("CONF EnumModuleFrozenObjects hr=0x%08X count=%u", (unsigned)hr, (unsigned)count);
    DWORD syms = 99;
    hr = info->lpVtbl->GetInMemorySymbolsLength(info, hello, &syms);
    probe_log("CONF GetInMemorySymbolsLength hr=0x%08X bytes=%u", (unsigned)hr, (unsigned)syms);
    hr = info->lpVtbl->ApplyMetaData(info, hello);
    probe_log("CONF ApplyMetaData(nothing defined) hr=0x%08X", (unsigned)hr);
    DWORD low = 0, high = 0;
    info->lpVtbl->GetEventMask2(info, &low, &high);
    hr = info->lpVtbl->SetEventMask2(info, low, high ^ COR_PRF_HIGH_DISABLE_TIERED_COMPILATION);
    probe_log("CONF SetEventMask2(immutable, after init) hr=0x%08X", (unsigned)hr);
    hr = info->lpVtbl->SetEventMask2(info, low, high);
    probe_log("CONF SetEventMask2(same, after init) hr=0x%08X", (unsigned)hr);
    conform_rules_callback(info, hello);
}

void conform_main_jit(ICorProfilerInfo15 *info, FunctionID main, ModuleID hello, mdToken token)
{
    ClassID cls = 0, args[4];
    ModuleID mod = 0;
    mdToken tok = 0;
    ULONG32 nargs = 99;
    HRESULT hr = info->lpVtbl->GetFunctionInfo2(info, main, 0, &cls, &mod, &tok, 4, &nargs, args);
    probe_log("CONF GetFunctionInfo2(Main) hr=0x%08X class=%d module_is_hello=%d token=0x%08X "
              "type_args=%u",
              (unsigned)hr, cls != 0, mod == hello, (unsigned)tok, (unsigned)nargs);
    /* Main's class, Hello.Program: ClassID <-> token both ways. */
    ModuleID cmod = 0;
    mdTypeDef ctok = 0;
    hr = info->lpVtbl->GetClassIDInfo(info, cls, &cmod, &ctok);
    probe_log("CONF GetClassIDInfo(Main's class) hr=0x%08X module_is_hello=%d token=0x%08X",
              (unsigned)hr, cmod == hello, (unsigned)ctok);
    ClassID again = 0, parent = 0;
    hr = info->lpVtbl->GetClassFromToken(info, hello, ctok, &again);
    probe_log("CONF GetClassFromToken(Program) hr=0x%08X same=%d", (unsigned)hr, again == cls);
    nargs = 99;
    hr = info->lpVtbl->GetClassIDInfo2(info, cls, &cmod, &ctok, &parent, 4, &nargs, args);
    probe_log("CONF GetClassIDInfo2(Program) hr=0x%08X token=0x%08X type_args=%u", (unsigned)hr,
              (unsigned)ctok, (unsigned)nargs);
    probe_log("GetClassIDInfo2(Program) parent=0x%lx", (unsigned long)parent);
    CorElementType elem = 0;
    ClassID base = 0;
    ULONG rank = 0;
    hr = info->lpVtbl->IsArrayClass(info, cls, &elem, &base, &rank);
    probe_log("CONF IsArrayClass(Program) hr=0x%08X", (unsigned)hr);
    FunctionID fid = 0;
    hr = info->lpVtbl->GetFunctionFromTokenAndTypeArgs(info, hello, token, 0, 0, NULL, &fid);
    probe_log("CONF GetFunctionFromTokenAndTypeArgs(Main, class 0) hr=0x%08X", (unsigned)hr);
    fid = 0;
    hr = info->lpVtbl->GetFunctionFromTokenAndTypeArgs(info, hello, token, cls, 0, NULL, &fid);
    probe_log("CONF GetFunctionFromTokenAndTypeArgs(Main) hr=0x%08X is_main=%d", (unsigned)hr,
              fid == main);
    ReJITID rejit = 0;
    hr = info->lpVtbl->GetFunctionFromIP(info, (LPCBYTE)16, &fid);
    probe_log("CONF GetFunctionFromIP(no code, in a callback) hr=0x%08X", (unsigned)hr);
    hr = info->lpVtbl->GetFunctionFromIP2(info, (LPCBYTE)16, &fid, &rejit);
    probe_log("CONF GetFunctionFromIP2(no code, in a callback) hr=0x%08X", (unsigned)hr);
    BOOL dyn = 7;
    hr = info->lpVtbl->IsFunctionDynamic(info, main, &dyn);
    probe_log("CONF IsFunctionDynamic(Main) hr=0x%08X dynamic=%d", (unsigned)hr, (int)dyn);
    ULONG nre = 99;
    ReJITID re[2];
    hr = info->lpVtbl->GetReJITIDs(info, main, 2, &nre, re);
    probe_log("CONF GetReJITIDs(Main) hr=0x%08X count=%u", (unsigned)hr, (unsigned)nre);
    AppDomainID ad = 0, ads[2] = { 0 };
    ThreadID thread = 0;
    ULONG32 n = 0;
    info->lpVtbl->GetCurrentThreadID(info, &thread);
    info->lpVtbl->GetAppDomainsContainingModule(info, hello, 2, &n, ads);
    hr = info->lpVtbl->GetThreadAppDomain(info, thread, &ad);
    probe_log("CONF GetThreadAppDomain hr=0x%08X is_hello_domain=%d", (unsigned)hr, ad == ads[0]);
    /* Main is about to be compiled: no native code yet. */
    LPCBYTE start = NULL;
    ULONG size = 0;
    hr = info->lpVtbl->GetCodeInfo(info, main, &start, &size);
    probe_log("CONF GetCodeInfo(Main, not compiled) hr=0x%08X", (unsigned)hr);
    COR_PRF_CODE_INFO code[2];
    ULONG32 ncode = 0;
    hr = info->lpVtbl->GetCodeInfo2(info, main, 2, &ncode, code);
    probe_log("CONF GetCodeInfo2(Main, not compiled) hr=0x%08X", (unsigned)hr);
    UINT_PTR starts[2];
    ULONG32 nstarts = 99;
    hr = info->lpVtbl->GetNativeCodeStartAddresses(info, main, 0, 2, &nstarts, starts);
    probe_log("CONF GetNativeCodeStartAddresses(Main, not compiled) hr=0x%08X count=%u",
              (unsigned)hr, (unsigned)nstarts);
    ModuleID dmod = 0;
    PCCOR_SIGNATURE sig = NULL;
    ULONG nsig = 0, nlen = 0;
    WCHAR dname[64];
    hr = info->lpVtbl->GetDynamicFunctionInfo(info, main, &dmod, &sig, &nsig, 64, &nlen, dname);
    probe_log("CONF GetDynamicFunctionInfo(Main) hr=0x%08X", (unsigned)hr);
}

static bool module_listed(ICorProfilerInfo15 *info, ModuleID hello, ULONG *total)
{
    ICorProfilerModuleEnum *e = NULL;
    bool found = false;
    *total = 0;
    if (info->lpVtbl->EnumModules(info, &e) != S_OK)
        return false;
    e->lpVtbl->GetCount(e, total);
    ModuleID batch[16];
    ULONG got = 0;
    HRESULT hr;
    while ((hr = e->lpVtbl->Next(e, 16, batch, &got)) == S_OK || (hr == S_FALSE && got)) {
        for (ULONG i = 0; i < got; i++)
            found |= batch[i] == hello;
        if (hr == S_FALSE)
            break;
    }
    e->lpVtbl->Release(e);
    return found;
}

/* Whether the JIT enumerator (EnumJITedFunctions or 2) lists main, with reJitId 0. */
static bool main_listed(ICorProfilerInfo15 *info, bool two, FunctionID main)
{
    ICorProfilerFunctionEnum *e = NULL;
    bool found = false;
    HRESULT hr = two ? info->lpVtbl->EnumJITedFunctions2(info, &e)
                     : info->lpVtbl->EnumJITedFunctions(info, &e);
    if (hr != S_OK)
        return false;
    COR_PRF_FUNCTION batch[64];
    ULONG got = 0;
    while ((hr = e->lpVtbl->Next(e, 64, batch, &got)) == S_OK || (hr == S_FALSE && got)) {
        for (ULONG i = 0; i < got; i++)
            found |= batch[i].functionId == main && batch[i].reJitId == 0;
        if (hr == S_FALSE)
            break;
    }
    /* Past the end: S_FALSE and nothing fetched. */
    got = 9;
    hr = e->lpVtbl->Next(e, 1, batch, &got);
    probe_log("CONF FunctionEnum::Next(past the end) hr=0x%08X fetched=%u", (unsigned)hr,
              (unsigned)got);
    e->lpVtbl->Release(e);
    return found;
}

void conform_shutdown(ICorProfilerInfo15 *info, ModuleID hello, FunctionID main)
{
    ULONG total = 0;
    bool listed = module_listed(info, hello, &total);
    probe_log("CONF EnumModules hello=%d some=%d", listed, total >= 1);
    probe_log("CONF EnumJITedFunctions main=%d", main_listed(info, false, main));
    probe_log("CONF EnumJITedFunctions2 main=%d", main_listed(info, true, main));
    ICorProfilerThreadEnum *threads = NULL;
    HRESULT hr = info->lpVtbl->EnumThreads(info, &threads);
    ULONG count = 0;
    if (hr == S_OK) {
        threads->lpVtbl->GetCount(threads, &count);
        threads->lpVtbl->Release(threads);
    }
    probe_log("CONF EnumThreads hr=0x%08X some=%d", (unsigned)hr, count >= 1);
}
