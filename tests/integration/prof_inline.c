/* prof_inline.c: a test profiler that watches inlining, for the host (`ilgraft run
 * --inline`) and for a real CoreCLR alike (tests/integration/test_inline.c). It asks for
 * JIT events and logs, one line each:
 *   jit <module> <token> <Type::Method>                    at JITCompilationStarted
 *   inline <module> <token> <caller> <module> <token> <callee> yes|refused
 *                                                          at JITInlining
 *   set <Type::Method> 0x<hr>                              after a SetILFunctionBody
 * Environment:
 *   PROF_REFUSE=Name[,Name...]  answer *pfShouldInline = FALSE for callees of these
 *                               (simple) method names
 *   PROF_REWRITE=Name           once JITInlining came for a callee of this name (inlined
 *                               or refused), give the callee a new body at the caller's
 *                               JITCompilationFinished: its IL with a nop in front (the
 *                               stale-inliner case of dotnet/runtime#48081 when inlined)
 *   PROF_REWRITE_NOW=Name       the same, but inside that JITInlining callback (after
 *                               the JIT read the callee's IL, before it inlines it)
 *   PROF_MUTATE=1               the new body changes behaviour instead: its first
 *                               ldc.i4.1 becomes ldc.i4.2 (Leaf.Inc then adds 2), so the
 *                               program's output shows which IL ran
 *   PROF_NO_INLINING=1          add COR_PRF_DISABLE_INLINING to the event mask
 *   PROF_REJIT=Name             COR_PRF_ENABLE_REJIT (and module loads) in the mask; once JITInlining came
 *                               for a callee of this name, ReJIT it at the caller's
 *                               JITCompilationFinished (RequestReJIT), its new body given
 *                               in GetReJITParameters as PROF_REWRITE would set it
 *   PROF_REJIT_FLAGS=n          ... through RequestReJITWithInliners(n) instead
 *   PROF_REJIT_CALLER=1         first RequestReJIT for that caller (given its IL again in
 *                               GetReJITParameters), the callee's request deferred to
 *                               the next JITCompilationStarted
 *   PROF_REJIT_EARLY=1          ... at Inline.dll's ModuleLoadFinished instead, for
 *                               Inl.Leaf's method of that name (before any caller is
 *                               compiled)
 * and with PROF_REJIT the ReJIT callbacks, one line each:
 *   rejit-request 0x<hr>                                   the request's answer
 *   rejit-params <Type::Method> 0x<hr of SetILFunctionBody, or "none">
 *   rejit-start <Type::Method>, rejit-done <Type::Method> 0x<hr>
 *   rejit-error <token> 0x<hr>
 *   and JITInlining inside a ReJIT compilation as "inline ... yes|refused rejit"
 * Thread-safe: the host's --jit-threads workers call it at once. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilgraft/cor_md.h"
#include "prof_common.h"

#define NAME_CHARS 256

/* The callee PROF_REWRITE named, once a caller inlined it: set by JITInlining on the
 * caller's thread, used at that caller's JITCompilationFinished. */
static _Thread_local FunctionID pending_rewrite;
static atomic_bool rewritten;
/* PROF_REJIT's callee, once a caller inlined it (as pending_rewrite), and whether this
 * thread is inside a ReJIT compilation (between ReJITCompilationStarted and Finished). */
static _Thread_local FunctionID pending_rejit;
static atomic_bool rejit_requested;
static _Thread_local bool in_rejit;
static ModuleID rejit_module, caller_module;
static mdMethodDef rejit_token, caller_token;
static atomic_bool deferred;

static void to_narrow(const WCHAR *w, char *s, size_t cap)
{
    size_t i = 0;
    for (; w[i] && i + 1 < cap; i++)
        s[i] = w[i] < 0x80 ? (char)w[i] : '?';
    s[i] = 0;
}

/* fid's module file name (no directory), token, "Type::Method" and simple name. */
typedef struct fn_name {
    char module[NAME_CHARS];
    char full[2 * NAME_CHARS + 2];
    const char *simple;
    ModuleID mod;
    mdToken token;
} fn_name;

/* The name of (module, token) as "Type::Method", "?" when unknown. */
static void token_name(ICorProfilerInfo3 *info, ModuleID mod, mdMethodDef token, char *out,
                       size_t cap)
{
    WCHAR w[NAME_CHARS];
    char type[NAME_CHARS] = "?", meth[NAME_CHARS] = "?";
    ULONG cch = 0;
    mdTypeDef owner = 0;
    IMetaDataImport *imp = NULL;
    if (info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport,
                                        (IUnknown **)&imp) == S_OK && imp) {
        if (imp->lpVtbl->GetMethodProps(imp, token, &owner, w, NAME_CHARS, &cch, NULL, NULL,
                                        NULL, NULL, NULL) == S_OK)
            to_narrow(w, meth, sizeof meth);
        if (owner && imp->lpVtbl->GetTypeDefProps(imp, owner, w, NAME_CHARS, &cch, NULL,
                                                  NULL) == S_OK)
            to_narrow(w, type, sizeof type);
        imp->lpVtbl->Release(imp);
    }
    snprintf(out, cap, "%s::%s", type, meth);
}

static bool name_of(ICorProfilerInfo3 *info, FunctionID fid, fn_name *out)
{
    WCHAR w[NAME_CHARS];
    ClassID cls = 0;
    ULONG cch = 0;

    memset(out, 0, sizeof *out);
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &out->mod, &out->token) != S_OK)
        return false;
    if (info->lpVtbl->GetModuleInfo(info, out->mod, NULL, NAME_CHARS, &cch, w, NULL) == S_OK) {
        char path[NAME_CHARS];
        to_narrow(w, path, sizeof path);
        const char *slash = strrchr(path, '/');
        snprintf(out->module, sizeof out->module, "%s", slash ? slash + 1 : path);
    }
    token_name(info, out->mod, out->token, out->full, sizeof out->full);
    out->simple = strstr(out->full, "::") + 2;
    return true;
}

/* Whether name is one of the comma-separated names of the variable var. */
static bool listed(const char *var, const char *name)
{
    const char *list = getenv(var);
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static HRESULT in_initialize(ICorProfilerInfo3 *info)
{
    DWORD mask = COR_PRF_MONITOR_JIT_COMPILATION;
    const char *off = getenv("PROF_NO_INLINING");
    if (off && strcmp(off, "1") == 0)
        mask |= COR_PRF_DISABLE_INLINING;
    if (getenv("PROF_REJIT")) /* module loads: ReJIT for a module the profiler saw */
        mask |= COR_PRF_ENABLE_REJIT | COR_PRF_MONITOR_MODULE_LOADS;
    HRESULT hr = info->lpVtbl->SetEventMask(info, mask);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    return hr;
}

static void request_rejit(ICorProfilerInfo3 *info, ModuleID mod, mdMethodDef token);

static HRESULT in_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    fn_name n;
    if (atomic_load(&deferred) && atomic_exchange(&deferred, false))
        request_rejit(info, rejit_module, rejit_token);
    if (name_of(info, fid, &n))
        prof_log("jit %s 0x%08x %s", n.module, (unsigned)n.token, n.full);
    return S_OK;
}

static void rewrite(ICorProfilerInfo3 *info, FunctionID fid);

static HRESULT in_inlining(ICorProfilerInfo3 *info, FunctionID caller, FunctionID callee,
                           BOOL *should)
{
    fn_name a, b;
    prof_check(should && *should == TRUE, "JITInlining's *pfShouldInline did not start TRUE");
    if (!should || !name_of(info, caller, &a) || !name_of(info, callee, &b))
        return S_OK;
    bool refuse = listed("PROF_REFUSE", b.simple);
    if (refuse)
        *should = FALSE;
    if (listed("PROF_REWRITE", b.simple))
        pending_rewrite = callee;
    if (listed("PROF_REJIT", b.simple))
        pending_rejit = callee;
    prof_log("inline %s 0x%08x %s %s 0x%08x %s %s%s", a.module, (unsigned)a.token, a.full,
             b.module, (unsigned)b.token, b.full, refuse ? "refused" : "yes",
             in_rejit ? " rejit" : "");
    if (listed("PROF_REWRITE_NOW", b.simple) && !atomic_exchange(&rewritten, true))
        rewrite(info, callee);
    return S_OK;
}

/* With PROF_MUTATE: the body at p (size bytes, a copy) with its first ldc.i4.1 made
 * ldc.i4.2 (scanning from the code's start of a tiny header: the fixture's Leaf.Inc). */
static void mutate(uint8_t *p, ULONG size)
{
    for (ULONG i = 1; i < size; i++)
        if (p[i] == 0x17) {
            p[i] = 0x18;
            return;
        }
}

/* Into p (size + 1 bytes): the body at hdr (size bytes) with a nop in front (a tiny
 * header stays tiny, a fat one keeps its flags and grows by one byte: the fixture's
 * callees have no EH sections to move), or with PROF_MUTATE the same length with one
 * constant changed. Returns the new body's size. */
static ULONG new_body(uint8_t *p, LPCBYTE hdr, ULONG size)
{
    const char *mut = getenv("PROF_MUTATE");
    if (mut && strcmp(mut, "1") == 0 && (hdr[0] & 3) == 2) {
        memcpy(p, hdr, size);
        mutate(p, size);
    } else if ((hdr[0] & 3) == 2 && (hdr[0] >> 2) < 63) {
        p[0] = (uint8_t)(((hdr[0] >> 2) + 1) << 2 | 2);
        p[1] = 0x00;
        memcpy(p + 2, hdr + 1, size - 1);
    } else {
        memcpy(p, hdr, 12);
        uint32_t code = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 |
                        (uint32_t)hdr[7] << 24;
        code++;
        for (int i = 0; i < 4; i++)
            p[4 + i] = (uint8_t)(code >> (8 * i));
        p[12] = 0x00;
        memcpy(p + 13, hdr + 12, size - 12);
    }
    return mut && strcmp(mut, "1") == 0 && (hdr[0] & 3) == 2 ? size : size + 1;
}

static void rewrite(ICorProfilerInfo3 *info, FunctionID fid)
{
    fn_name n;
    LPCBYTE hdr = NULL;
    ULONG size = 0;
    IMethodMalloc *alloc = NULL;
    if (!name_of(info, fid, &n) ||
        info->lpVtbl->GetILFunctionBody(info, n.mod, n.token, &hdr, &size) != S_OK ||
        info->lpVtbl->GetILFunctionBodyAllocator(info, n.mod, &alloc) != S_OK)
        return;
    uint8_t *p = alloc->lpVtbl->Alloc(alloc, size + 1);
    alloc->lpVtbl->Release(alloc);
    if (!p)
        return;
    new_body(p, hdr, size);
    HRESULT hr = info->lpVtbl->SetILFunctionBody(info, n.mod, n.token, p);
    prof_log("set %s 0x%08x", n.full, (unsigned)hr);
}

/* PROF_REJIT's request for (mod, token), through RequestReJITWithInliners with
 * PROF_REJIT_FLAGS. */
static void request_rejit(ICorProfilerInfo3 *info, ModuleID mod, mdMethodDef token)
{
    fn_name n = { .mod = mod, .token = token };
    ICorProfilerInfo10 *info10 = NULL;
    rejit_module = n.mod;
    rejit_token = n.token;
    const char *flags = getenv("PROF_REJIT_FLAGS");
    HRESULT hr = E_NOINTERFACE;
    if (info->lpVtbl->QueryInterface(info, &IID_ICorProfilerInfo10, (void **)&info10) == S_OK) {
        if (flags)
            hr = info10->lpVtbl->RequestReJITWithInliners(info10, (DWORD)strtoul(flags, NULL, 0),
                                                          1, &n.mod, &n.token);
        else
            hr = info10->lpVtbl->RequestReJIT(info10, 1, &n.mod, &n.token);
        info10->lpVtbl->Release(info10);
    }
    prof_log("rejit-request 0x%08x", (unsigned)hr);
}

static HRESULT in_jit_finished(ICorProfilerInfo3 *info, FunctionID fid)
{
    FunctionID callee = pending_rewrite;
    pending_rewrite = 0;
    if (callee && !atomic_exchange(&rewritten, true))
        rewrite(info, callee);
    callee = pending_rejit;
    pending_rejit = 0;
    fn_name n, c;
    if (!callee || getenv("PROF_REJIT_EARLY") || !name_of(info, callee, &n) ||
        atomic_exchange(&rejit_requested, true))
        return S_OK;
    if (!getenv("PROF_REJIT_CALLER") || !name_of(info, fid, &c)) {
        request_rejit(info, n.mod, n.token);
        return S_OK;
    }
    ICorProfilerInfo4 *info4 = NULL;
    HRESULT hr = info->lpVtbl->QueryInterface(info, &IID_ICorProfilerInfo4, (void **)&info4);
    caller_module = c.mod;
    caller_token = c.token;
    rejit_module = n.mod;
    rejit_token = n.token;
    atomic_store(&deferred, true);
    if (hr == S_OK) {
        hr = info4->lpVtbl->RequestReJIT(info4, 1, &c.mod, &c.token);
        info4->lpVtbl->Release(info4);
    }
    prof_log("rejit-request-caller 0x%08x", (unsigned)hr);
    return S_OK;
}

/* PROF_REJIT_EARLY: the request at Inline.dll's load, for Inl.Leaf's method. */
static HRESULT in_module_loaded(ICorProfilerInfo3 *info, ModuleID mod)
{
    WCHAR w[NAME_CHARS];
    char path[NAME_CHARS];
    ULONG cch = 0;
    IMetaDataImport *imp = NULL;
    mdTypeDef leaf = 0;
    mdMethodDef token = 0;
    const char *name = getenv("PROF_REJIT");
    if (!name || !getenv("PROF_REJIT_EARLY") ||
        info->lpVtbl->GetModuleInfo(info, mod, NULL, NAME_CHARS, &cch, w, NULL) != S_OK)
        return S_OK;
    to_narrow(w, path, sizeof path);
    const char *slash = strrchr(path, '/');
    if (strcmp(slash ? slash + 1 : path, "Inline.dll") != 0 ||
        info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport,
                                        (IUnknown **)&imp) != S_OK)
        return S_OK;
    static const char leaf_name[] = "Inl.Leaf";
    size_t i = 0;
    for (; leaf_name[i]; i++)
        w[i] = (WCHAR)leaf_name[i];
    w[i] = 0;
    HRESULT hr = imp->lpVtbl->FindTypeDefByName(imp, w, 0, &leaf);
    for (i = 0; hr == S_OK && name[i] && i + 1 < NAME_CHARS; i++)
        w[i] = (WCHAR)name[i];
    w[i] = 0;
    if (hr == S_OK)
        hr = imp->lpVtbl->FindMethod(imp, leaf, w, NULL, 0, &token);
    imp->lpVtbl->Release(imp);
    prof_check(hr == S_OK, "Inl.Leaf::%s not found: 0x%08x", name, (unsigned)hr);
    if (hr == S_OK && !atomic_exchange(&rejit_requested, true))
        request_rejit(info, mod, token);
    return S_OK;
}


/* The requested callee gets its new body (malloc'd, freed on return: the control copies
 * it); an inliner the runtime rejits too is left with the IL it has. */
static HRESULT in_rejit_parameters(ICorProfilerInfo3 *info, ModuleID mod, mdMethodDef token,
                                   ICorProfilerFunctionControl *control)
{
    char name[2 * NAME_CHARS + 2];
    LPCBYTE hdr = NULL;
    ULONG size = 0;
    token_name(info, mod, token, name, sizeof name);
    if (!((mod == rejit_module && token == rejit_token) ||
          (mod == caller_module && token == caller_token)) ||
        info->lpVtbl->GetILFunctionBody(info, mod, token, &hdr, &size) != S_OK) {
        prof_log("rejit-params %s none", name);
        return S_OK;
    }
    uint8_t *p = malloc(size + 1);
    if (!p)
        return E_OUTOFMEMORY;
    ULONG n = new_body(p, hdr, size);
    HRESULT hr = control->lpVtbl->SetILFunctionBody(control, n, p);
    free(p);
    prof_log("rejit-params %s 0x%08x", name, (unsigned)hr);
    return S_OK;
}

static HRESULT in_rejit_started(ICorProfilerInfo3 *info, FunctionID fid, ReJITID id)
{
    (void)id;
    fn_name n;
    if (name_of(info, fid, &n))
        prof_log("rejit-start %s", n.full);
    in_rejit = true;
    return S_OK;
}

static HRESULT in_rejit_finished(ICorProfilerInfo3 *info, FunctionID fid, ReJITID id, HRESULT hr)
{
    (void)id;
    fn_name n;
    in_rejit = false;
    if (name_of(info, fid, &n))
        prof_log("rejit-done %s 0x%08x", n.full, (unsigned)hr);
    return S_OK;
}

static HRESULT in_rejit_error(ICorProfilerInfo3 *info, ModuleID mod, mdMethodDef token,
                              FunctionID fid, HRESULT hr)
{
    (void)info, (void)mod, (void)fid;
    prof_log("rejit-error 0x%08x 0x%08x", (unsigned)token, (unsigned)hr);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = in_initialize,
    .jit_started = in_jit_started,
    .jit_finished = in_jit_finished,
    .jit_inlining = in_inlining,
    .module_load_finished = in_module_loaded,
    .rejit_started = in_rejit_started,
    .rejit_parameters = in_rejit_parameters,
    .rejit_finished = in_rejit_finished,
    .rejit_error = in_rejit_error,
};
