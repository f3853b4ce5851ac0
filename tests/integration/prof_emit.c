/* prof_emit.c: the emit calls real rewriting profilers make, on the C# fixture Hello.dll,
 * the same under the harness host and under a real CoreCLR, each logged as one line
 * "emit: <step> hr=0x........ tok=0x........ [read-back]" so that a test can compare the
 * two logs line by line (issue 16, deliverable 6). At Hello's ModuleLoadFinished:
 *   - GetModuleMetaData(ofRead|ofWrite, IMetaDataImport2), QI IMetaDataEmit2 and
 *     IMetaDataAssemblyEmit; DefineAssemblyRef (ProbeLib 1.0.0.0);
 *   - TypeRefs by name in System.Console and System.Runtime (existing ones answer
 *     META_S_DUPLICATE), a new TypeRef, MemberRefs (Console.WriteLine(string), which
 *     Hello calls: a duplicate; Console.Write(string), new, then again: a duplicate);
 *   - a user string twice, a local signature twice (GetTokenFromSig);
 *   - a new type Emitted.Helper with a static method Say (RVA 0) whose body, set by
 *     SetILFunctionBody, writes the user string through the new Write MemberRef;
 *     a method Quiet (body: ret) defined on Hello.Program, a type the image had (the
 *     host threads it through MethodPtr);
 *   - Program.Answer rewritten to call Say first, so the program prints the string
 *     before "answer = 41".
 * Read-backs: GetTypeRefProps, GetMemberRefProps, GetTypeDefProps, GetMethodProps of
 * what was defined. Each definition is also logged as the profiler made it, "emit-def:
 * <kind> <token> ..." (names, scopes, parents, signatures as hex, user strings, bodies
 * as instructions, the RVA GetRVA answers), the expectation test_emit holds an
 * independent reader of the saved image to (tests/integration/md_read). PROF_EMIT_ONLY
 * (a file-name substring, default "Hello.dll") picks the module. PROF_EMIT_JIT: emit
 * calls from the JIT threads; PROF_EMIT_RACE: reads from the JIT threads while the
 * profiler's own thread emits (see race_jit). The steps live in prof_emit_refs.c,
 * prof_emit_types.c, prof_emit_translate.c and prof_emit_more.c (prof_emit.h). */
#include "prof_emit.h"

void emit_step(const char *what, HRESULT hr, mdToken tok)
{
    prof_log("emit: %s hr=0x%08x tok=0x%08x", what, (unsigned)hr, (unsigned)tok);
}

static HRESULT em_module_loaded(ICorProfilerInfo3 *info, ModuleID mod)
{
    WCHAR wname[1024];
    char name[1024];
    ULONG cch = 0;
    const char *only = getenv("PROF_EMIT_ONLY");
    if (info->lpVtbl->GetModuleInfo(info, mod, NULL, 1024, &cch, wname, NULL) != S_OK)
        return S_OK;
    to_narrow(wname, name, sizeof name);
    if (strstr(name, "System.Private.CoreLib.dll"))
        emit_corelib_mod = mod;
    if (!strstr(name, only && *only ? only : "Hello.dll"))
        return S_OK;
    emit_ctx c = { info, mod, NULL, NULL, NULL };
    IMetaDataAssemblyEmit *aemit = NULL;
    /* The read-only object (ofRead alone): does it answer the emit interfaces? */
    IMetaDataImport *ro = NULL;
    IUnknown *ro_emit = NULL;
    STEP("metadata ofRead", info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport,
                                                            (IUnknown **)&ro), 0);
    if (ro) {
        STEP("ofRead qi emit",
             ro->lpVtbl->QueryInterface(ro, &IID_IMetaDataEmit, (void **)&ro_emit), 0);
        if (ro_emit)
            ro_emit->lpVtbl->Release(ro_emit);
        ro->lpVtbl->Release(ro);
    }
    HRESULT hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead | ofWrite, &IID_IMetaDataImport2,
                                                 (IUnknown **)&c.imp);
    emit_step("metadata", hr, 0);
    prof_check(hr == S_OK && c.imp, "GetModuleMetaData(ofWrite) = 0x%08x", (unsigned)hr);
    if (hr != S_OK || !c.imp)
        return S_OK;
    STEP("qi emit2", c.imp->lpVtbl->QueryInterface(c.imp, &IID_IMetaDataEmit2, (void **)&c.emit),
         0);
    STEP("qi assemblyimport", c.imp->lpVtbl->QueryInterface(c.imp, &IID_IMetaDataAssemblyImport,
                                                            (void **)&c.aimp), 0);
    STEP("qi assemblyemit", c.imp->lpVtbl->QueryInterface(c.imp, &IID_IMetaDataAssemblyEmit,
                                                          (void **)&aemit), 0);
    prof_check(c.emit && c.aimp && aemit, "an emit interface is missing");
    if (c.emit && c.aimp && aemit) {
        static const uint8_t token[8] = { 0xb0, 0x3f, 0x5f, 0x7f, 0x11, 0xd5, 0x0a, 0x3a };
        WCHAR w[NAME_MAX_CHARS];
        ASSEMBLYMETADATA amd;
        mdAssemblyRef ar = 0;
        memset(&amd, 0, sizeof amd);
        amd.usMajorVersion = 1;
        to_wide("ProbeLib", w, NAME_MAX_CHARS);
        STEP("define assemblyref", aemit->lpVtbl->DefineAssemblyRef(aemit, token, sizeof token, w,
                                                                    &amd, NULL, 0, 0, &ar), ar);
        char h[2 * sizeof token + 1];
        prof_log("emit-def: assemblyref 0x%08x name=ProbeLib version=%u.%u.%u.%u token=%s",
                 (unsigned)ar, amd.usMajorVersion, amd.usMinorVersion, amd.usBuildNumber,
                 amd.usRevisionNumber, hex(token, sizeof token, h, sizeof h));
        mdMemberRef write = 0;
        mdString text = 0;
        mdTypeRef object = 0;
        emit_define_refs(&c, &write, &text, &object);
        mdMethodDef say = emit_define_helper(&c, write, text, object);
        emit_rewrite_answer(&c, say);
        emit_observe_class(&c, say, object);
        if (getenv("PROF_EMIT_CLASS"))
            emit_define_more(&c, aemit, object);
        emit_translate(&c, aemit, object);
    }
    if (aemit)
        aemit->lpVtbl->Release(aemit);
    if (c.aimp)
        c.aimp->lpVtbl->Release(c.aimp);
    if (c.emit)
        c.emit->lpVtbl->Release(c.emit);
    c.imp->lpVtbl->Release(c.imp);
    return S_OK;
}

/* PROF_EMIT_RACE: from the first JIT event on, the profiler's own thread defines
 * TypeRefs, MemberRefs and user strings into the JIT'ed module until Shutdown, while
 * every JIT event (from the host's JIT threads) asks the Info methods that read the
 * module's metadata and reads the newest TypeRef back: each answer must agree with the
 * others (the metadata lock; under TSan, no race). */
#define RACE_MAX 20000u
static struct {
    pthread_mutex_t start_lock;
    pthread_t thread;
    bool started;
    ModuleID mod;
    IMetaDataEmit2 *emit;
    atomic_bool stop, running;
    atomic_uint defined, events, overlapped;
    atomic_uint last; /* (i << 8) | 1 once TypeRef i is defined; its token in last_tok */
    atomic_uint last_tok;
} race = { .start_lock = PTHREAD_MUTEX_INITIALIZER };

static void race_name(char *buf, size_t cap, const char *kind, unsigned i)
{
    snprintf(buf, cap, "Race.%s%u", kind, i);
}

static void *race_thread(void *arg)
{
    (void)arg;
    IMetaDataEmit2 *emit = race.emit;
    static const uint8_t void_void[] = { SIG_DEFAULT, 0, ET_VOID };
    for (unsigned i = 0; i < RACE_MAX && !atomic_load(&race.stop); i++) {
        char name[64];
        WCHAR w[64];
        mdTypeRef tr = 0;
        mdMemberRef mr = 0;
        mdString str = 0;
        race_name(name, sizeof name, "T", i);
        to_wide(name, w, 64);
        HRESULT hr =
            emit->lpVtbl->DefineTypeRefByName(emit, TokenFromRid(1, mdtAssemblyRef), w, &tr);
        prof_check(hr == S_OK, "race DefineTypeRefByName(%s) = 0x%08x", name, (unsigned)hr);
        atomic_store(&race.last_tok, tr);
        atomic_store(&race.last, i << 8 | 1);
        race_name(name, sizeof name, "M", i);
        to_wide(name, w, 64);
        hr = emit->lpVtbl->DefineMemberRef(emit, tr, w, void_void, sizeof void_void, &mr);
        prof_check(hr == S_OK, "race DefineMemberRef(%s) = 0x%08x", name, (unsigned)hr);
        hr = emit->lpVtbl->DefineUserString(emit, w, (ULONG)strlen(name), &str);
        prof_check(hr == S_OK, "race DefineUserString(%s) = 0x%08x", name, (unsigned)hr);
        atomic_fetch_add(&race.defined, 1);
    }
    atomic_store(&race.running, false);
    return NULL;
}

static void race_start(void)
{
    HRESULT hr = race.emit ? S_OK : E_FAIL;
    prof_check(hr == S_OK, "race: no emit interface");
    atomic_store(&race.running, true);
    if (hr == S_OK)
        race.started = pthread_create(&race.thread, NULL, race_thread, NULL) == 0;
    if (!race.started)
        atomic_store(&race.running, false);
    prof_check(race.started, "race: no thread");
}

/* The newest TypeRef the race thread defined, read back by name. */
static void race_read_back(IMetaDataImport2 *imp)
{
    unsigned last = atomic_load(&race.last);
    if (!last)
        return;
    mdTypeRef tr = atomic_load(&race.last_tok);
    unsigned i = last >> 8;
    WCHAR w[64];
    char got[64], want[64];
    ULONG cch = 0;
    mdToken scope = 0;
    HRESULT hr = imp->lpVtbl->GetTypeRefProps(imp, tr, &scope, w, 64, &cch);
    to_narrow(w, got, sizeof got);
    race_name(want, sizeof want, "T", i);
    /* last and last_tok are two stores: a newer TypeRef may be read under the older i. */
    prof_check(hr == S_OK && strncmp(got, "Race.T", 6) == 0 && strtoul(got + 6, NULL, 10) >= i,
               "race GetTypeRefProps(0x%08x) = 0x%08x %s, want %s or later", (unsigned)tr,
               (unsigned)hr, got, want);
}

static void race_info(ICorProfilerInfo3 *info, FunctionID fid, ModuleID mod, mdToken md)
{
    ClassID cls = 0, parent = 0, back = 0;
    ModuleID fmod = 0, cmod = 0, amod = 0;
    mdToken tok = 0, td = 0;
    AssemblyID asmid = 0;
    ULONG32 nargs = 0;
    WCHAR w[NAME_MAX_CHARS];
    ULONG cch = 0;
    HRESULT hr = info->lpVtbl->GetFunctionInfo2(info, fid, 0, &cls, &fmod, &tok, 0, &nargs, NULL);
    prof_check(hr == S_OK && fmod == mod && tok == md, "race GetFunctionInfo2 = 0x%08x",
               (unsigned)hr);
    if (cls) {
        hr = info->lpVtbl->GetClassIDInfo2(info, cls, &cmod, &td, &parent, 0, &nargs, NULL);
        prof_check(hr == S_OK && cmod == mod, "race GetClassIDInfo2 = 0x%08x", (unsigned)hr);
    }
    if (cls && !nargs) {
        hr = info->lpVtbl->GetClassFromToken(info, mod, td, &back);
        prof_check(hr == S_OK && back == cls, "race GetClassFromToken(0x%08x) = 0x%08x",
                   (unsigned)td, (unsigned)hr);
    }
    hr = info->lpVtbl->GetModuleInfo(info, mod, NULL, 0, NULL, NULL, &asmid);
    prof_check(hr == S_OK, "race GetModuleInfo = 0x%08x", (unsigned)hr);
    hr = info->lpVtbl->GetAssemblyInfo(info, asmid, NAME_MAX_CHARS, &cch, w, NULL, &amod);
    prof_check(hr == S_OK && amod == mod && cch > 1, "race GetAssemblyInfo = 0x%08x",
               (unsigned)hr);
    FunctionID again = 0;
    hr = info->lpVtbl->GetFunctionFromToken(info, mod, md, &again);
    prof_check((hr == S_OK && again == fid) || hr == CORPROF_E_FUNCTION_IS_PARAMETERIZED,
               "race GetFunctionFromToken(0x%08x) = 0x%08x", (unsigned)md, (unsigned)hr);
}

static void race_jit(ICorProfilerInfo3 *info, FunctionID fid)
{
    IMetaDataImport2 *imp = NULL;
    mdToken md = 0;
    ClassID cls = 0;
    ModuleID mod = 0;
    HRESULT hr = info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &md);
    prof_check(hr == S_OK, "race GetFunctionInfo = 0x%08x", (unsigned)hr);
    if (hr != S_OK)
        return;
    hr = info->lpVtbl->GetTokenAndMetaDataFromFunction(info, fid, &IID_IMetaDataImport2,
                                                       (IUnknown **)&imp, &md);
    prof_check(hr == S_OK && imp, "race GetTokenAndMetaDataFromFunction = 0x%08x", (unsigned)hr);
    if (!imp)
        return;
    /* The first event starts the thread on its method's module. */
    pthread_mutex_lock(&race.start_lock);
    if (!race.started) {
        race.mod = mod;
        imp->lpVtbl->QueryInterface(imp, &IID_IMetaDataEmit2, (void **)&race.emit);
        race_start();
    }
    ModuleID emitted = race.mod;
    pthread_mutex_unlock(&race.start_lock);
    /* The thread keeps pace (a row per event) so that the events overlap its writes
     * whatever the scheduler does. */
    while (atomic_load(&race.running) && atomic_load(&race.defined) <= atomic_load(&race.events))
        sched_yield();
    bool during = atomic_load(&race.running);
    race_info(info, fid, mod, md);
    if (mod == emitted)
        race_read_back(imp);
    WCHAR w[NAME_MAX_CHARS];
    ULONG cch = 0;
    hr = imp->lpVtbl->GetMethodProps(imp, md, NULL, w, NAME_MAX_CHARS, &cch, NULL, NULL, NULL, NULL,
                                     NULL);
    prof_check(SUCCEEDED(hr), "race GetMethodProps(0x%08x) = 0x%08x", md, (unsigned)hr);
    imp->lpVtbl->Release(imp);
    atomic_fetch_add(&race.events, 1);
    if (during && atomic_load(&race.running))
        atomic_fetch_add(&race.overlapped, 1);
}

static HRESULT em_shutdown(ICorProfilerInfo3 *info)
{
    (void)info;
    if (!race.started)
        return S_OK;
    atomic_store(&race.stop, true);
    pthread_join(race.thread, NULL);
    prof_log("race: defined %u, events %u, overlapped %u", atomic_load(&race.defined),
             atomic_load(&race.events), atomic_load(&race.overlapped));
    race.emit->lpVtbl->Release(race.emit);
    return S_OK;
}

/* PROF_EMIT_JIT: at every JIT event (from the host's JIT threads at once) the calls
 * clr-samples makes per method, through GetTokenAndMetaDataFromFunction: a local
 * signature of (rid % JIT_SIG_KINDS) + 1 int32s, a user string, a MemberRef, and a read
 * of the method; "emit-jit: sig K tok" lines let the test check that every thread got
 * the one token of each signature. */
#define JIT_SIG_KINDS 4u
static HRESULT em_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    if (getenv("PROF_EMIT_RACE")) {
        race_jit(info, fid);
        return S_OK;
    }
    if (getenv("PROF_EMIT_CLASS")) {
        emit_observe_jit(info, fid);
        return S_OK;
    }
    IMetaDataEmit2 *emit = NULL;
    mdToken md = 0, sig_tok = 0, str = 0, mr = 0;
    HRESULT hr = info->lpVtbl->GetTokenAndMetaDataFromFunction(info, fid, &IID_IMetaDataEmit2,
                                                               (IUnknown **)&emit, &md);
    prof_check(hr == S_OK && emit, "GetTokenAndMetaDataFromFunction(Emit2) = 0x%08x",
               (unsigned)hr);
    if (hr != S_OK || !emit)
        return S_OK;
    uint8_t sig[2 + JIT_SIG_KINDS] = { SIG_LOCALS, 0 };
    uint32_t kind = RidFromToken(md) % JIT_SIG_KINDS;
    sig[1] = (uint8_t)(kind + 1);
    for (uint32_t i = 0; i <= kind; i++)
        sig[2 + i] = ET_I4;
    hr = emit->lpVtbl->GetTokenFromSig(emit, sig, kind + 3, &sig_tok);
    prof_check(SUCCEEDED(hr), "GetTokenFromSig = 0x%08x", (unsigned)hr);
    prof_log("emit-jit: sig %u tok=0x%08x", (unsigned)kind, (unsigned)sig_tok);
    static const WCHAR text[] = { 'j', 'i', 't' };
    hr = emit->lpVtbl->DefineUserString(emit, text, 3, &str);
    prof_check(hr == S_OK, "DefineUserString = 0x%08x", (unsigned)hr);
    prof_log("emit-jit: string tok=0x%08x", (unsigned)str);
    static const uint8_t void_void[] = { SIG_DEFAULT, 0, ET_VOID };
    static const WCHAR name[] = { 'P', 'r', 'o', 'b', 'e', 0 };
    hr = emit->lpVtbl->DefineMemberRef(emit, TokenFromRid(1, mdtTypeRef), name, void_void,
                                       sizeof void_void, &mr);
    prof_check(SUCCEEDED(hr), "DefineMemberRef = 0x%08x", (unsigned)hr);
    prof_log("emit-jit: memberref tok=0x%08x", (unsigned)mr);
    IMetaDataImport2 *imp = NULL;
    if (emit->lpVtbl->QueryInterface(emit, &IID_IMetaDataImport2, (void **)&imp) == S_OK) {
        WCHAR w[NAME_MAX_CHARS];
        ULONG cch = 0;
        hr = imp->lpVtbl->GetMethodProps(imp, md, NULL, w, NAME_MAX_CHARS, &cch, NULL, NULL, NULL,
                                         NULL, NULL);
        prof_check(SUCCEEDED(hr), "GetMethodProps(0x%08x) = 0x%08x", md, (unsigned)hr);
        imp->lpVtbl->Release(imp);
    }
    emit->lpVtbl->Release(emit);
    return S_OK;
}

static HRESULT em_initialize(ICorProfilerInfo3 *info)
{
    if (getenv("PROF_EMIT_JIT") || getenv("PROF_EMIT_RACE")) {
        prof_log("jit mode"); /* opens the log before the JIT threads share it */
        HRESULT hr = info->lpVtbl->SetEventMask(info, COR_PRF_MONITOR_JIT_COMPILATION);
        prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
        return S_OK;
    }
    HRESULT hr = info->lpVtbl->SetEventMask(
        info, COR_PRF_MONITOR_MODULE_LOADS |
                  (getenv("PROF_EMIT_CLASS") ? COR_PRF_MONITOR_JIT_COMPILATION : 0));
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = em_initialize,
    .module_load_finished = em_module_loaded,
    .jit_started = em_jit_started,
    .shutdown = em_shutdown,
};
