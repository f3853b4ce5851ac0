/* prof_rejit.c: the ReJIT path of a rewriting profiler (issue 17), on the C# fixture
 * Calc.dll, logged so that a run under the harness host and one under a real CoreCLR
 * can be compared line by line ("rejit: ..." lines; "jit: ..." lines are not compared:
 * CoreCLR compiles only what runs). At Calc's ModuleLoadFinished it makes the requests
 * CoreCLR answers with errors (none, a NULL module, a TypeDef token, a token past the
 * table, a revert of a method never rejitted), then RequestReJIT for Graft.Calc's Add,
 * Sub, Sum and Square and RequestRevert for Sum. In GetReJITParameters it gives each a
 * new body through ICorProfilerFunctionControl (built in malloc'd memory and freed on
 * return: the control must copy it): Add multiplies, Sub adds, Square adds one, Sum
 * (reverted before it runs) would answer 0; so the program prints "add 2 3 = 6",
 * "sub total = 33", "sum 4 = 10", "square 7 = 50". ReJITCompilationFinished asks
 * GetReJITIDs; Shutdown asks it for each method (and with PROF_REJIT_REVERT_AT_END
 * reverts Square, then asks again).
 *
 * PROF_REJIT_MODE:
 *   norejit     COR_PRF_ENABLE_REJIT left out of the mask: the requests' answers;
 *   wrongcb     also calls ICorProfilerInfo::SetILFunctionBody in ReJITCompilationStarted
 *               with `ldc.i4.0; ret` (the protocol mistake the host warns about);
 *   badmap      gives SetILInstrumentedCodeMap a map with a new offset past the code;
 *   wrongmap    ... one that maps the second instruction where the first is;
 *   unsortedmap ... one out of order;
 *   thread      the requests come from a thread the profiler starts at Calc's load,
 *               while the host's JIT threads deliver events (no bad requests then),
 *               joined at Main's JIT event (whichever thread delivers it);
 *   late        no requests at load; at Sum's JITCompilationStarted, ReJIT for Add and
 *               Sub (compiled, and under CoreCLR never called again) and Answer (not
 *               compiled yet);
 *   noil        only requests in CoreLib's ModuleLoadFinished for methods without IL
 *               (CoreLib must be loaded: the host's first image);
 *   badbody     Add's body falls off its end (the JIT refuses it): SetILFunctionBody's
 *               and ReJITCompilationFinished's answers for it are logged as "jit:" (the
 *               host verifies at once, CoreCLR when it compiles);
 *   nomodule    no MODULE_LOADS in the mask: the requests come from Main's
 *               JITCompilationStarted, for a module no ModuleLoadFinished announced. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define OP_LDARG_0 0x02
#define OP_LDARG_1 0x03
#define OP_LDC_I4_0 0x16
#define OP_LDC_I4_1 0x17
#define OP_ADD 0x58
#define OP_MUL 0x5A
#define OP_RET 0x2A
#define TINY(code_size) ((uint8_t)(((code_size) << 2) | 2))
#define NAMES 4
#define NAME_CHARS 128

enum { ADD, SUB, SUM, SQUARE };
static const char *const method_names[NAMES] = { "Add", "Sub", "Sum", "Square" };
/* The new bodies (tiny headers). */
static const uint8_t new_bodies[NAMES][8] = {
    { TINY(4), OP_LDARG_0, OP_LDARG_1, OP_MUL, OP_RET },
    { TINY(4), OP_LDARG_0, OP_LDARG_1, OP_ADD, OP_RET },
    { TINY(2), OP_LDC_I4_0, OP_RET },
    { TINY(6), OP_LDARG_0, OP_LDARG_0, OP_MUL, OP_LDC_I4_1, OP_ADD, OP_RET },
};
static const uint8_t new_sizes[NAMES] = { 5, 5, 3, 7 };
/* badbody mode's body for Add: falls off its end (no ret), what CoreCLR's JIT refuses. */
static const uint8_t bad_body[] = { TINY(3), OP_LDARG_0, OP_LDARG_1, OP_ADD };

static ICorProfilerInfo4 *info4;
static ICorProfilerInfo10 *info10;
static ModuleID calc_module;
static mdMethodDef tokens[NAMES];
static mdMethodDef answer_token, main_token;
static mdTypeDef calc_type;
static pthread_t request_thread;
static atomic_bool thread_started;

static mdToken token_of(ICorProfilerInfo3 *info, FunctionID fid);

static const char *mode(void)
{
    const char *m = getenv("PROF_REJIT_MODE");
    return m ? m : "";
}

static bool is_mode(const char *m)
{
    return strcmp(mode(), m) == 0;
}

static int index_of(mdMethodDef tok)
{
    for (int i = 0; i < NAMES; i++)
        if (tokens[i] == tok)
            return i;
    return -1;
}

static const char *name_of(mdMethodDef tok)
{
    int i = index_of(tok);
    return i < 0 ? (tok == answer_token ? "Answer" : "?") : method_names[i];
}

static void to_wide(const char *s, WCHAR *w, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        w[i] = (WCHAR)(unsigned char)s[i];
    w[i] = 0;
}


/* The module's file name ends in Calc.dll. */
static bool is_calc(ICorProfilerInfo3 *info, ModuleID mod)
{
    WCHAR name[512];
    ULONG n = 0;
    LPCBYTE base;
    AssemblyID asm_id;
    if (FAILED(info->lpVtbl->GetModuleInfo(info, mod, &base, 512, &n, name, &asm_id)) || n < 9)
        return false;
    char tail[9];
    for (int i = 0; i < 8; i++)
        tail[i] = (char)name[n - 9 + i];
    tail[8] = 0;
    return strcmp(tail, "Calc.dll") == 0;
}

static bool find_methods(ICorProfilerInfo3 *info, ModuleID mod)
{
    IMetaDataImport *imp = NULL;
    WCHAR w[NAME_CHARS];
    HRESULT hr = info->lpVtbl->GetModuleMetaData(info, mod, 0, &IID_IMetaDataImport, (IUnknown **)&imp);
    prof_check(hr == S_OK, "GetModuleMetaData: 0x%08x", (unsigned)hr);
    if (FAILED(hr))
        return false;
    to_wide("Graft.Calc", w, NAME_CHARS);
    hr = imp->lpVtbl->FindTypeDefByName(imp, w, 0, &calc_type);
    prof_check(hr == S_OK, "FindTypeDefByName(Graft.Calc): 0x%08x", (unsigned)hr);
    for (int i = 0; hr == S_OK && i < NAMES; i++) {
        to_wide(method_names[i], w, NAME_CHARS);
        hr = imp->lpVtbl->FindMethod(imp, calc_type, w, NULL, 0, &tokens[i]);
        prof_check(hr == S_OK, "FindMethod(%s): 0x%08x", method_names[i], (unsigned)hr);
    }
    to_wide("Answer", w, NAME_CHARS);
    if (hr == S_OK)
        hr = imp->lpVtbl->FindMethod(imp, calc_type, w, NULL, 0, &answer_token);
    mdTypeDef program;
    to_wide("Graft.Program", w, NAME_CHARS);
    if (hr == S_OK)
        hr = imp->lpVtbl->FindTypeDefByName(imp, w, 0, &program);
    to_wide("Main", w, NAME_CHARS);
    if (hr == S_OK)
        hr = imp->lpVtbl->FindMethod(imp, program, w, NULL, 0, &main_token);
    imp->lpVtbl->Release(imp);
    return hr == S_OK;
}

/* The requests CoreCLR refuses, one by one, with their answers. */
static void bad_requests(ModuleID mod)
{
    ModuleID mods[1] = { mod }, none[1] = { 0 };
    mdMethodDef toks[1];
    HRESULT status[1];
    HRESULT hr = info4->lpVtbl->RequestReJIT(info4, 0, NULL, NULL);
    prof_log("rejit: RequestReJIT(0 methods) hr=0x%08x", (unsigned)hr);
    toks[0] = tokens[ADD];
    hr = info4->lpVtbl->RequestReJIT(info4, 1, none, toks);
    prof_log("rejit: RequestReJIT(module 0) hr=0x%08x", (unsigned)hr);
    toks[0] = calc_type;
    hr = info4->lpVtbl->RequestReJIT(info4, 1, mods, toks);
    prof_log("rejit: RequestReJIT(TypeDef token) hr=0x%08x", (unsigned)hr);
    toks[0] = 0x06000FFF;
    hr = info4->lpVtbl->RequestReJIT(info4, 1, mods, toks);
    prof_log("rejit: RequestReJIT(MethodDef past the table) hr=0x%08x", (unsigned)hr);
    /* RequestReJITWithInliners' flags, on a token past the table (nothing is rejitted). */
    static const DWORD flags[] = { 0, COR_PRF_REJIT_BLOCK_INLINING, COR_PRF_REJIT_INLINING_CALLBACKS,
                                   COR_PRF_REJIT_BLOCK_INLINING | COR_PRF_REJIT_INLINING_CALLBACKS,
                                   0x80, COR_PRF_REJIT_BLOCK_INLINING | 0x80 };
    for (size_t k = 0; info10 && k < sizeof flags / sizeof flags[0]; k++) {
        hr = info10->lpVtbl->RequestReJITWithInliners(info10, flags[k], 1, mods, toks);
        prof_log("rejit: RequestReJITWithInliners(flags 0x%x, past the table) hr=0x%08x",
                 (unsigned)flags[k], (unsigned)hr);
    }
    toks[0] = answer_token;
    status[0] = 0x12345678;
    hr = info4->lpVtbl->RequestRevert(info4, 1, mods, toks, status);
    prof_log("rejit: RequestRevert(never rejitted) hr=0x%08x status=0x%08x", (unsigned)hr,
             (unsigned)status[0]);
    toks[0] = 0x06000FFF;
    status[0] = 0x12345678;
    hr = info4->lpVtbl->RequestRevert(info4, 1, mods, toks, status);
    prof_log("rejit: RequestRevert(MethodDef past the table) hr=0x%08x status=0x%08x",
             (unsigned)hr, (unsigned)status[0]);
}

/* RequestReJIT for the four methods, then RequestRevert for Sum. */
static void good_requests(ModuleID mod)
{
    ModuleID mods[NAMES];
    HRESULT status[1] = { 0x12345678 };
    for (int i = 0; i < NAMES; i++)
        mods[i] = mod;
    HRESULT hr = info4->lpVtbl->RequestReJIT(info4, NAMES, mods, tokens);
    prof_log("rejit: RequestReJIT(Add, Sub, Sum, Square) hr=0x%08x", (unsigned)hr);
    hr = info4->lpVtbl->RequestRevert(info4, 1, mods, &tokens[SUM], status);
    prof_log("rejit: RequestRevert(Sum) hr=0x%08x status=0x%08x", (unsigned)hr, (unsigned)status[0]);
}

static void *request_from_thread(void *arg)
{
    (void)arg;
    /* The profiler's own thread: CoreCLR lets any thread request ReJIT. */
    good_requests(calc_module);
    return NULL;
}

/* noil mode: RequestReJIT in System.Private.CoreLib's ModuleLoadFinished for a method
 * without IL (the abstract IEnumerable.GetEnumerator). */
static void no_il_requests(ICorProfilerInfo3 *info, ModuleID mod)
{
    static const char *const what[][2] = { { "System.Collections.IEnumerable", "GetEnumerator" } };
    IMetaDataImport *imp = NULL;
    WCHAR w[NAME_CHARS];
    if (FAILED(info->lpVtbl->GetModuleMetaData(info, mod, 0, &IID_IMetaDataImport, (IUnknown **)&imp)))
        return;
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
        mdTypeDef td = 0;
        mdMethodDef md = 0;
        to_wide(what[i][0], w, NAME_CHARS);
        HRESULT hr = imp->lpVtbl->FindTypeDefByName(imp, w, 0, &td);
        to_wide(what[i][1], w, NAME_CHARS);
        if (hr == S_OK)
            hr = imp->lpVtbl->FindMethod(imp, td, w, NULL, 0, &md);
        if (hr != S_OK) {
            prof_log("rejit: %s::%s not found hr=0x%08x", what[i][0], what[i][1], (unsigned)hr);
            continue;
        }
        ULONG size = 0;
        LPCBYTE body = NULL;
        HRESULT bhr = info->lpVtbl->GetILFunctionBody(info, mod, md, &body, &size);
        hr = info4->lpVtbl->RequestReJIT(info4, 1, &mod, &md);
        prof_log("rejit: RequestReJIT(%s::%s, GetILFunctionBody hr=0x%08x) hr=0x%08x", what[i][0],
                 what[i][1], (unsigned)bhr, (unsigned)hr);
    }
    imp->lpVtbl->Release(imp);
}

/* The module's assembly is System.Private.CoreLib. */
static bool is_corelib(ICorProfilerInfo3 *info, ModuleID mod)
{
    WCHAR name[512];
    ULONG n = 0;
    LPCBYTE base;
    AssemblyID asm_id;
    static const char want[] = "System.Private.CoreLib.dll";
    const size_t k = sizeof want - 1;
    if (FAILED(info->lpVtbl->GetModuleInfo(info, mod, &base, 512, &n, name, &asm_id)) || n < k + 1)
        return false;
    for (size_t i = 0; i < k; i++)
        if (name[n - 1 - k + i] != (WCHAR)want[i])
            return false;
    return true;
}

static HRESULT module_load_finished(ICorProfilerInfo3 *info, ModuleID mod)
{
    if (is_mode("noil")) {
        if (is_corelib(info, mod))
            no_il_requests(info, mod);
        return S_OK;
    }
    if (!is_calc(info, mod) || !find_methods(info, mod))
        return S_OK;
    calc_module = mod;
    if (is_mode("norejit")) {
        ModuleID mods[1] = { mod };
        HRESULT status[1] = { 0x12345678 };
        HRESULT hr = info4->lpVtbl->RequestReJIT(info4, 1, mods, &tokens[ADD]);
        prof_log("rejit: RequestReJIT(Add) without ENABLE_REJIT hr=0x%08x", (unsigned)hr);
        hr = info4->lpVtbl->RequestRevert(info4, 1, mods, &tokens[ADD], status);
        prof_log("rejit: RequestRevert(Add) without ENABLE_REJIT hr=0x%08x status=0x%08x",
                 (unsigned)hr, (unsigned)status[0]);
        return S_OK;
    }
    if (is_mode("late"))
        return S_OK;
    if (is_mode("thread")) {
        atomic_store(&thread_started,
                     pthread_create(&request_thread, NULL, request_from_thread, NULL) == 0);
        return S_OK;
    }
    bad_requests(mod);
    good_requests(mod);
    return S_OK;
}

static HRESULT jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    ModuleID mod;
    mdToken tok;
    ClassID cls;
    if (FAILED(info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok)))
        return S_OK;
    if (is_mode("nomodule") && !calc_module && is_calc(info, mod) && find_methods(info, mod)) {
        calc_module = mod;
        good_requests(mod);
    }
    if (mod != calc_module)
        return S_OK;
    /* late mode: at Sum's first JIT event (Add and Sub have run by then under CoreCLR, and
     * are compiled under the host), ReJIT for Add, Sub and Answer (not run yet). */
    if (is_mode("late") && tok == tokens[SUM]) {
        ModuleID mods[3] = { mod, mod, mod };
        mdMethodDef toks[3] = { tokens[ADD], tokens[SUB], answer_token };
        HRESULT hr = info4->lpVtbl->RequestReJIT(info4, 3, mods, toks);
        prof_log("rejit: RequestReJIT(Add, Sub, Answer) at Sum's JIT hr=0x%08x", (unsigned)hr);
    }
    /* thread mode: the requests are made by the time the module's last method (Main)
     * compiles, whichever JIT thread compiles it, so that they are served in the run. */
    if (is_mode("thread") && tok == main_token && atomic_exchange(&thread_started, false))
        pthread_join(request_thread, NULL);
    prof_log("jit: JITCompilationStarted %s 0x%08x", name_of(tok), (unsigned)tok);
    return S_OK;
}

static HRESULT rejit_parameters(ICorProfilerInfo3 *info, ModuleID mod, mdMethodDef method,
                                ICorProfilerFunctionControl *fc)
{
    (void)info;
    int i = index_of(method);
    prof_log("rejit: GetReJITParameters %s module=%s", name_of(method),
             mod == calc_module ? "Calc" : "other");
    if (i < 0)
        return S_OK;
    HRESULT hr = fc->lpVtbl->SetCodegenFlags(fc, COR_PRF_CODEGEN_DISABLE_INLINING);
    prof_log("rejit: SetCodegenFlags(%s) hr=0x%08x", name_of(method), (unsigned)hr);
    /* Freed on return: the runtime keeps its own copy. */
    const bool bad = is_mode("badbody") && i == ADD;
    const uint8_t *src = bad ? bad_body : new_bodies[i];
    const ULONG size = bad ? (ULONG)sizeof bad_body : new_sizes[i];
    uint8_t *body = malloc(size);
    if (!body)
        return E_OUTOFMEMORY;
    memcpy(body, src, size);
    hr = fc->lpVtbl->SetILFunctionBody(fc, size, body);
    memset(body, 0xCC, size);
    free(body);
    prof_log("%s: SetILFunctionBody(%s, %u bytes) hr=0x%08x", bad ? "jit" : "rejit", name_of(method),
             (unsigned)size, (unsigned)hr);
    /* The bodies keep every instruction's offset: old offset k is new offset k (Square's
     * extra instructions come after its last original one, at offsets 3 and 4), unless
     * the badmap mode says otherwise. */
    COR_IL_MAP map[2] = { { 0, 0, TRUE }, { 2, is_mode("badmap") ? 5 : 2, TRUE } };
    if (is_mode("wrongmap")) /* old 1 (the second ldarg) said to be at new 0 (the first) */
        map[1] = (COR_IL_MAP){ 1, 0, TRUE };
    if (is_mode("unsortedmap")) {
        map[0] = (COR_IL_MAP){ 2, 2, TRUE };
        map[1] = (COR_IL_MAP){ 0, 0, TRUE };
    }
    hr = fc->lpVtbl->SetILInstrumentedCodeMap(fc, 2, map);
    prof_log("rejit: SetILInstrumentedCodeMap(%s) hr=0x%08x", name_of(method), (unsigned)hr);
    return S_OK;
}

static mdToken token_of(ICorProfilerInfo3 *info, FunctionID fid)
{
    ModuleID mod;
    mdToken tok = 0;
    ClassID cls;
    info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok);
    return tok;
}

static HRESULT rejit_started(ICorProfilerInfo3 *info, FunctionID fid, ReJITID id)
{
    mdToken tok = token_of(info, fid);
    prof_log("rejit: ReJITCompilationStarted %s rejitid=%s", name_of(tok), id ? "nonzero" : "0");
    if (is_mode("wrongcb") && index_of(tok) >= 0) {
        IMethodMalloc *alloc = NULL;
        HRESULT hr = info->lpVtbl->GetILFunctionBodyAllocator(info, calc_module, &alloc);
        /* `ldc.i4.0; ret`: were it this ReJIT's body, the method would answer 0. */
        uint8_t *p = SUCCEEDED(hr) ? alloc->lpVtbl->Alloc(alloc, new_sizes[SUM]) : NULL;
        if (p) {
            memcpy(p, new_bodies[SUM], new_sizes[SUM]);
            hr = info->lpVtbl->SetILFunctionBody(info, calc_module, tok, p);
        }
        if (alloc)
            alloc->lpVtbl->Release(alloc);
        prof_log("jit: Info::SetILFunctionBody in ReJITCompilationStarted hr=0x%08x", (unsigned)hr);
    }
    return S_OK;
}

/* GetReJITIDs for fid: how many, and whether want is among them. */
static void log_rejit_ids(const char *when, mdToken tok, FunctionID fid, ReJITID want)
{
    ReJITID ids[8];
    ULONG n = 0;
    HRESULT hr = info4->lpVtbl->GetReJITIDs(info4, fid, 8, &n, ids);
    bool found = false;
    for (ULONG k = 0; k < n && k < 8; k++)
        found |= ids[k] == want;
    prof_log("rejit: GetReJITIDs(%s) %s hr=0x%08x count=%u has-current=%d", name_of(tok), when,
             (unsigned)hr, (unsigned)n, found);
}

static HRESULT rejit_finished(ICorProfilerInfo3 *info, FunctionID fid, ReJITID id, HRESULT status)
{
    mdToken tok = token_of(info, fid);
    prof_log("%s: ReJITCompilationFinished %s hr=0x%08x",
             is_mode("badbody") && tok == tokens[ADD] ? "jit" : "rejit", name_of(tok), (unsigned)status);
    log_rejit_ids("after ReJIT", tok, fid, id);
    return S_OK;
}

static HRESULT rejit_error(ICorProfilerInfo3 *info, ModuleID mod, mdMethodDef method,
                           FunctionID fid, HRESULT hr)
{
    (void)info;
    (void)fid;
    prof_log("rejit: ReJITError token=0x%08x module=%s hr=0x%08x", (unsigned)method,
             mod == calc_module ? "Calc" : mod ? "other" : "0", (unsigned)hr);
    return S_OK;
}

/* EnumJITedFunctions2's entries of the four methods: how many, with which ReJITIDs. */
static void log_jited(ICorProfilerInfo3 *info)
{
    ICorProfilerFunctionEnum *e = NULL;
    HRESULT hr = info4->lpVtbl->EnumJITedFunctions2(info4, &e);
    if (FAILED(hr)) {
        prof_log("rejit: EnumJITedFunctions2 hr=0x%08x", (unsigned)hr);
        return;
    }
    unsigned plain[NAMES] = { 0 }, rejit[NAMES] = { 0 };
    COR_PRF_FUNCTION f;
    ULONG got = 0;
    while (e->lpVtbl->Next(e, 1, &f, &got) == S_OK && got == 1) {
        int i = index_of(token_of(info, f.functionId));
        ModuleID mod = 0;
        mdToken tok;
        ClassID cls;
        info->lpVtbl->GetFunctionInfo(info, f.functionId, &cls, &mod, &tok);
        if (i < 0 || mod != calc_module)
            continue;
        if (f.reJitId)
            rejit[i]++;
        else
            plain[i]++;
    }
    e->lpVtbl->Release(e);
    for (int i = 0; i < NAMES; i++)
        prof_log("rejit: EnumJITedFunctions2 %s: %u with ReJITID 0, %u with another", method_names[i],
                 plain[i], rejit[i]);
}

static HRESULT shutdown(ICorProfilerInfo3 *info)
{
    if (atomic_load(&thread_started))
        pthread_join(request_thread, NULL);
    if (calc_module && !is_mode("norejit") && !is_mode("noil"))
        log_jited(info);
    for (int i = 0; calc_module && i < NAMES; i++) {
        FunctionID fid = 0;
        HRESULT hr = info->lpVtbl->GetFunctionFromToken(info, calc_module, tokens[i], &fid);
        if (hr == S_OK)
            log_rejit_ids("at shutdown", tokens[i], fid, 0);
    }
    if (calc_module && !is_mode("norejit") && getenv("PROF_REJIT_REVERT_AT_END")) {
        /* A revert of a method whose ReJIT was served: its IDs after. */
        HRESULT status[1] = { 0x12345678 };
        FunctionID fid = 0;
        HRESULT hr = info4->lpVtbl->RequestRevert(info4, 1, &calc_module, &tokens[SQUARE], status);
        prof_log("rejit: RequestRevert(Square) at shutdown hr=0x%08x status=0x%08x", (unsigned)hr,
                 (unsigned)status[0]);
        if (info->lpVtbl->GetFunctionFromToken(info, calc_module, tokens[SQUARE], &fid) == S_OK)
            log_rejit_ids("after revert", tokens[SQUARE], fid, 0);
    }
    return S_OK;
}

static HRESULT initialize(ICorProfilerInfo3 *info)
{
    HRESULT hr = info->lpVtbl->QueryInterface(info, &IID_ICorProfilerInfo4, (void **)&info4);
    prof_check(hr == S_OK, "QueryInterface(ICorProfilerInfo4): 0x%08x", (unsigned)hr);
    if (FAILED(hr))
        return hr;
    /* The object lives as long as the profiler: drop the reference QI added. */
    info4->lpVtbl->Release(info4);
    if (SUCCEEDED(info->lpVtbl->QueryInterface(info, &IID_ICorProfilerInfo10, (void **)&info10)))
        info10->lpVtbl->Release(info10);
    else
        info10 = NULL;
    DWORD mask = COR_PRF_MONITOR_JIT_COMPILATION | COR_PRF_DISABLE_INLINING;
    if (!is_mode("norejit"))
        mask |= COR_PRF_ENABLE_REJIT;
    if (!is_mode("nomodule"))
        mask |= COR_PRF_MONITOR_MODULE_LOADS;
    return info->lpVtbl->SetEventMask(info, mask);
}

const prof_hooks prof_test_hooks = {
    .initialize = initialize,
    .module_load_finished = module_load_finished,
    .jit_started = jit_started,
    .shutdown = shutdown,
    .rejit_started = rejit_started,
    .rejit_parameters = rejit_parameters,
    .rejit_finished = rejit_finished,
    .rejit_error = rejit_error,
};
