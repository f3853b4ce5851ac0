/* abi_unsupported.c: the ABI probe's calls of the ICorProfilerInfo methods the harness
 * host cannot answer (host/info_unsupported.def), made under a real CoreCLR and under
 * the host at JITCompilationStarted(Main) (ILG_ABI_PROBE_CONFORM=1). Each asks about
 * something that does not exist in either (ObjectID 0, an address in no method, a
 * handle or session that was never made, Main before it is compiled) and logs a CONF
 * line: the HRESULT CoreCLR gives is the one the host's table must give. A call about
 * something that does exist under CoreCLR (the current thread's handle, a loaded class's
 * layout, the GC heap's generations) logs a DIFF line instead: CoreCLR answers it and
 * the host cannot (docs/coreclr-observed.md lists each with the reason); test_abi_probe
 * checks that both runs made the same DIFF calls. Methods whose call would change the
 * run (detach, suspension, a new EventPipe provider or session) are not called. */
#include <stdio.h>

#include "abi_conform.h"
#include "ilgraft/cor_md.h"

static void conf(const char *what, HRESULT hr)
{
    probe_log("CONF unsupported %s hr=0x%08X", what, (unsigned)hr);
}

static void diff(const char *what, HRESULT hr)
{
    probe_log("DIFF unsupported %s hr=0x%08X", what, (unsigned)hr);
}

static BOOL stop_at_first(ObjectID object, void *state)
{
    (void)object;
    (void)state;
    return FALSE;
}

static HRESULT no_frame(FunctionID f, UINT_PTR ip, COR_PRF_FRAME_INFO frame, ULONG32 size,
                        BYTE context[], void *data)
{
    (void)f, (void)ip, (void)frame, (void)size, (void)context;
    ++*(unsigned *)data;
    return S_OK;
}

/* ObjectID 0 names no object: what each object call answers for it. */
static void objects(ICorProfilerInfo15 *info)
{
    ClassID cls = 0;
    ULONG size = 0;
    SIZE_T size2 = 0;
    ULONG32 dims[1] = { 0 };
    int lower[1] = { 0 };
    BYTE *data = NULL;
    COR_PRF_GC_GENERATION_RANGE range;
    BOOL frozen = FALSE;
    ObjectID obj = 0;
    conf("GetClassFromObject(0)", info->lpVtbl->GetClassFromObject(info, 0, &cls));
    conf("GetObjectSize(0)", info->lpVtbl->GetObjectSize(info, 0, &size));
    conf("GetObjectSize2(0)", info->lpVtbl->GetObjectSize2(info, 0, &size2));
    conf("GetArrayObjectInfo(0)",
         info->lpVtbl->GetArrayObjectInfo(info, 0, 1, dims, lower, &data));
    conf("GetObjectGeneration(0)", info->lpVtbl->GetObjectGeneration(info, 0, &range));
    conf("IsFrozenObject(0)", info->lpVtbl->IsFrozenObject(info, 0, &frozen));
    conf("GetObjectIDFromHandle(0)", info->lpVtbl->GetObjectIDFromHandle(info, 0, &obj));
    /* EnumerateObjectReferences(0) is not asked: CoreCLR 10.0.12 reads through ObjectID 0
     * and crashes (SIGSEGV, observed). */
    ObjectHandleID handle = 0;
    HRESULT hr = info->lpVtbl->CreateHandle(info, 0, COR_PRF_HANDLE_TYPE_WEAK, &handle);
    conf("CreateHandle(0)", hr);
    if (hr == S_OK && handle)
        info->lpVtbl->DestroyHandle(info, handle);
    conf("DestroyHandle(0)", info->lpVtbl->DestroyHandle(info, 0));
}

/* Main at its JITCompilationStarted: not compiled yet under CoreCLR either. */
static void code(ICorProfilerInfo15 *info, FunctionID main)
{
    COR_DEBUG_IL_TO_NATIVE_MAP map[2];
    COR_PRF_CODE_INFO codes[2];
    ULONG32 n = 0;
    conf("GetILToNativeMapping(Main, not compiled)",
         info->lpVtbl->GetILToNativeMapping(info, main, 2, &n, map));
    conf("GetILToNativeMapping2(Main, not compiled)",
         info->lpVtbl->GetILToNativeMapping2(info, main, 0, 2, &n, map));
    conf("GetCodeInfo3(Main, not compiled)", info->lpVtbl->GetCodeInfo3(info, main, 0, 2, &n, codes));
    conf("GetILToNativeMapping3(no code)",
         info->lpVtbl->GetILToNativeMapping3(info, (UINT_PTR)16, 2, &n, map));
    conf("SetFunctionReJIT(Main)", info->lpVtbl->SetFunctionReJIT(info, main));
    conf("SetILInstrumentedCodeMap(Main, empty)",
         info->lpVtbl->SetILInstrumentedCodeMap(info, main, TRUE, 0, NULL));
    COR_PRF_FRAME_INFO frame = 0;
    ULONG cb = 0;
    COR_PRF_FUNCTION_ARGUMENT_RANGE ret;
    conf("GetFunctionEnter3Info(no hook)",
         info->lpVtbl->GetFunctionEnter3Info(info, main, 0, &frame, &cb, NULL));
    conf("GetFunctionLeave3Info(no hook)",
         info->lpVtbl->GetFunctionLeave3Info(info, main, 0, &frame, &ret));
    conf("GetFunctionTailcall3Info(no hook)",
         info->lpVtbl->GetFunctionTailcall3Info(info, main, 0, &frame));
}

/* ReJIT is not enabled (the probe never sets COR_PRF_ENABLE_REJIT). */
static void rejit(ICorProfilerInfo15 *info, ModuleID hello, mdMethodDef main_token)
{
    ModuleID mods[1] = { hello };
    mdMethodDef toks[1] = { main_token };
    HRESULT status[1] = { 0 };
    conf("RequestReJIT(Main, not enabled)", info->lpVtbl->RequestReJIT(info, 1, mods, toks));
    conf("RequestRevert(Main, not enabled)",
         info->lpVtbl->RequestRevert(info, 1, mods, toks, status));
    conf("RequestReJITWithInliners(Main, not enabled)",
         info->lpVtbl->RequestReJITWithInliners(info, 0, 1, mods, toks));
    BOOL incomplete = FALSE;
    ICorProfilerMethodEnum *e = NULL;
    HRESULT hr = info->lpVtbl->EnumNgenModuleMethodsInliningThisMethod(info, hello, hello,
                                                                      main_token, &incomplete, &e);
    conf("EnumNgenModuleMethodsInliningThisMethod(Hello)", hr);
    if (hr == S_OK && e)
        e->lpVtbl->Release(e);
    BYTE buf[16];
    DWORD read = 0;
    conf("ReadInMemorySymbols(Hello, on disk)",
         info->lpVtbl->ReadInMemorySymbols(info, hello, 0, buf, sizeof buf, &read));
}

/* The static-field calls for one class and field, as what. */
static void static_field(ICorProfilerInfo15 *info, const char *what, ClassID cls,
                         mdFieldDef field, AppDomainID domain, ThreadID thread)
{
    void *addr = NULL;
    COR_PRF_STATIC_TYPE kind = 99;
    char line[160];
    snprintf(line, sizeof line, "GetRVAStaticAddress(%s)", what);
    conf(line, info->lpVtbl->GetRVAStaticAddress(info, cls, field, &addr));
    snprintf(line, sizeof line, "GetAppDomainStaticAddress(%s)", what);
    conf(line, info->lpVtbl->GetAppDomainStaticAddress(info, cls, field, domain, &addr));
    snprintf(line, sizeof line, "GetThreadStaticAddress(%s)", what);
    conf(line, info->lpVtbl->GetThreadStaticAddress(info, cls, field, thread, &addr));
    snprintf(line, sizeof line, "GetThreadStaticAddress2(%s)", what);
    conf(line, info->lpVtbl->GetThreadStaticAddress2(info, cls, field, domain, thread, &addr));
    snprintf(line, sizeof line, "GetContextStaticAddress(%s)", what);
    conf(line, info->lpVtbl->GetContextStaticAddress(info, cls, field, 0, &addr));
    HRESULT hr = info->lpVtbl->GetStaticFieldInfo(info, cls, field, &kind);
    probe_log("CONF unsupported GetStaticFieldInfo(%s) hr=0x%08X kind=%d", what, (unsigned)hr,
              hr == S_OK ? (int)kind : -1);
}

/* Program (loaded: its Main is being compiled) with an instance field of another class
 * (Box<T>.Value), and IntBox's static field Made (IntBox is loaded by GetClassFromToken,
 * never initialized: no static storage yet). */
static void statics(ICorProfilerInfo15 *info, ClassID program, ModuleID hello,
                    AppDomainID domain, ThreadID thread)
{
    IUnknown *unk = NULL;
    mdTypeDef intbox = 0;
    mdFieldDef made = 0, value = 0;
    ClassID intbox_cls = 0;
    if (info->lpVtbl->GetModuleMetaData(info, hello, ofRead, &IID_IMetaDataImport, &unk) == S_OK) {
        IMetaDataImport *md = (IMetaDataImport *)unk;
        const WCHAR intbox_name[] = { 'H', 'e', 'l', 'l', 'o', '.', 'I', 'n', 't', 'B', 'o', 'x', 0 };
        const WCHAR box_name[] = { 'H', 'e', 'l', 'l', 'o', '.', 'B', 'o', 'x', '`', '1', 0 };
        const WCHAR made_name[] = { 'M', 'a', 'd', 'e', 0 };
        const WCHAR value_name[] = { 'V', 'a', 'l', 'u', 'e', 0 };
        mdTypeDef box = 0;
        md->lpVtbl->FindTypeDefByName(md, intbox_name, 0, &intbox);
        md->lpVtbl->FindTypeDefByName(md, box_name, 0, &box);
        md->lpVtbl->FindField(md, intbox, made_name, NULL, 0, &made);
        md->lpVtbl->FindField(md, box, value_name, NULL, 0, &value);
        md->lpVtbl->Release(md);
    }
    info->lpVtbl->GetClassFromToken(info, hello, intbox, &intbox_cls);
    probe_log("CONF unsupported statics: IntBox=%d Made=%d Box.Value=%d", intbox_cls != 0,
              made != 0, value != 0);
    static_field(info, "Program, Box.Value", program, value, domain, thread);
    static_field(info, "IntBox, Made", intbox_cls, made, domain, thread);
    ULONG32 offset = 0;
    conf("GetBoxClassLayout(Program, a class)",
         info->lpVtbl->GetBoxClassLayout(info, program, &offset));
    COR_FIELD_OFFSET fields[4];
    ULONG nf = 0, size = 0;
    diff("GetClassLayout(Program, loaded)",
         info->lpVtbl->GetClassLayout(info, program, fields, 4, &nf, &size));
}

static void runtime_state(ICorProfilerInfo15 *info, ThreadID thread)
{
    HANDLE handle = NULL;
    ContextID ctx = 0;
    IUnknown *unk = NULL;
    DWORD dbg = 0;
    COR_PRF_EX_CLAUSE_INFO clause;
    conf("GetHandleFromThread(0)", info->lpVtbl->GetHandleFromThread(info, 0, &handle));
    diff("GetHandleFromThread(current)", info->lpVtbl->GetHandleFromThread(info, thread, &handle));
    conf("GetThreadContext(0)", info->lpVtbl->GetThreadContext(info, 0, &ctx));
    diff("GetThreadContext(current)", info->lpVtbl->GetThreadContext(info, thread, &ctx));
    conf("GetInprocInspectionInterface", info->lpVtbl->GetInprocInspectionInterface(info, &unk));
    conf("GetInprocInspectionIThisThread",
         info->lpVtbl->GetInprocInspectionIThisThread(info, &unk));
    conf("BeginInprocDebugging", info->lpVtbl->BeginInprocDebugging(info, TRUE, &dbg));
    conf("EndInprocDebugging", info->lpVtbl->EndInprocDebugging(info, 0));
    conf("GetNotifiedExceptionClauseInfo(none in flight)",
         info->lpVtbl->GetNotifiedExceptionClauseInfo(info, &clause));
    conf("ForceGC(from a managed thread)", info->lpVtbl->ForceGC(info));
    unsigned frames = 0;
    HRESULT hr = info->lpVtbl->DoStackSnapshot(info, 0, no_frame, COR_PRF_SNAPSHOT_DEFAULT,
                                               &frames, NULL, 0);
    probe_log("CONF unsupported DoStackSnapshot(current, Main not running) hr=0x%08X frames=%u",
              (unsigned)hr, frames);
    ULONG n = 0;
    COR_PRF_GC_GENERATION_RANGE ranges[8];
    diff("GetGenerationBounds", info->lpVtbl->GetGenerationBounds(info, 8, &n, ranges));
    COR_PRF_NONGC_HEAP_RANGE nongc[8];
    diff("GetNonGCHeapBounds", info->lpVtbl->GetNonGCHeapBounds(info, 8, &n, nongc));
    ICorProfilerObjectEnum *e = NULL;
    hr = info->lpVtbl->EnumerateNonGCObjects(info, &e);
    diff("EnumerateNonGCObjects", hr);
    if (hr == S_OK && e)
        e->lpVtbl->Release(e);
    conf("EnumerateGCHeapObjects(runtime not suspended)",
         info->lpVtbl->EnumerateGCHeapObjects(info, stop_at_first, NULL));
}

/* No EventPipe session, provider or event was made: 0 names none. */
static void eventpipe(ICorProfilerInfo15 *info)
{
    COR_PRF_EVENTPIPE_PROVIDER_CONFIG cfg = { 0 };
    WCHAR name[16];
    ULONG len = 0;
    EVENTPIPE_EVENT ev = 0;
    EVENTPIPE_SESSION session = 0;
    EVENTPIPE_PROVIDER provider = 0;
    conf("EventPipeStartSession(no providers)",
         info->lpVtbl->EventPipeStartSession(info, 0, NULL, FALSE, &session));
    conf("EventPipeAddProviderToSession(0)",
         info->lpVtbl->EventPipeAddProviderToSession(info, 0, cfg));
    conf("EventPipeStopSession(0)", info->lpVtbl->EventPipeStopSession(info, 0));
    conf("EventPipeGetProviderInfo(0)",
         info->lpVtbl->EventPipeGetProviderInfo(info, 0, 16, &len, name));
    conf("EventPipeDefineEvent(0)",
         info->lpVtbl->EventPipeDefineEvent(info, 0, NULL, 0, 0, 0, 0, 0, FALSE, 0, NULL, &ev));
    conf("EventPipeWriteEvent(0)", info->lpVtbl->EventPipeWriteEvent(info, 0, 0, NULL, NULL, NULL));
    conf("EventPipeCreateProvider(no name)",
         info->lpVtbl->EventPipeCreateProvider(info, NULL, &provider));
    conf("EventPipeCreateProvider2(no name)",
         info->lpVtbl->EventPipeCreateProvider2(info, NULL, NULL, &provider));
}

void conform_unsupported(ICorProfilerInfo15 *info, FunctionID main, ModuleID hello,
                         mdMethodDef main_token)
{
    ClassID program = 0;
    ThreadID thread = 0;
    AppDomainID domains[2] = { 0 };
    ULONG32 nd = 0;
    info->lpVtbl->GetFunctionInfo(info, main, &program, NULL, NULL);
    info->lpVtbl->GetCurrentThreadID(info, &thread);
    info->lpVtbl->GetAppDomainsContainingModule(info, hello, 2, &nd, domains);
    objects(info);
    code(info, main);
    rejit(info, hello, main_token);
    statics(info, program, hello, domains[0], thread);
    runtime_state(info, thread);
    eventpipe(info);
}

/* Hooks that are never called: the probe does not set COR_PRF_MONITOR_ENTERLEAVE. */
static void hook1(FunctionID f)
{
    (void)f;
}
static void hook2(FunctionID f, UINT_PTR c, COR_PRF_FRAME_INFO fr, COR_PRF_FUNCTION_ARGUMENT_RANGE *r)
{
    (void)f, (void)c, (void)fr, (void)r;
}
static void hook2e(FunctionID f, UINT_PTR c, COR_PRF_FRAME_INFO fr,
                   COR_PRF_FUNCTION_ARGUMENT_INFO *a)
{
    (void)f, (void)c, (void)fr, (void)a;
}
static void hook2t(FunctionID f, UINT_PTR c, COR_PRF_FRAME_INFO fr)
{
    (void)f, (void)c, (void)fr;
}
static void hook3(FunctionIDOrClientID f)
{
    (void)f;
}
static void hook3i(FunctionIDOrClientID f, COR_PRF_ELT_INFO e)
{
    (void)f, (void)e;
}

/* Inside Initialize, where CoreCLR accepts hooks (never called here) and mappers. */
void conform_unsupported_init(ICorProfilerInfo15 *info)
{
    conf("SetEnterLeaveFunctionHooks(init)",
         info->lpVtbl->SetEnterLeaveFunctionHooks(info, hook1, hook1, hook1));
    conf("SetEnterLeaveFunctionHooks2(init)",
         info->lpVtbl->SetEnterLeaveFunctionHooks2(info, hook2e, hook2, hook2t));
    conf("SetEnterLeaveFunctionHooks3(init)",
         info->lpVtbl->SetEnterLeaveFunctionHooks3(info, hook3, hook3, hook3));
    conf("SetEnterLeaveFunctionHooks3WithInfo(init)",
         info->lpVtbl->SetEnterLeaveFunctionHooks3WithInfo(info, hook3i, hook3i, hook3i));
    conf("SetFunctionIDMapper(init, none)", info->lpVtbl->SetFunctionIDMapper(info, NULL));
    conf("SetFunctionIDMapper2(init, none)", info->lpVtbl->SetFunctionIDMapper2(info, NULL, NULL));
}
