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

static bool name_of(ICorProfilerInfo3 *info, FunctionID fid, fn_name *out)
{
    WCHAR w[NAME_CHARS];
    char type[NAME_CHARS] = "?", meth[NAME_CHARS] = "?";
    ClassID cls = 0;
    ULONG cch = 0;
    IMetaDataImport *imp = NULL;
    mdTypeDef owner = 0;

    memset(out, 0, sizeof *out);
    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &out->mod, &out->token) != S_OK)
        return false;
    if (info->lpVtbl->GetModuleInfo(info, out->mod, NULL, NAME_CHARS, &cch, w, NULL) == S_OK) {
        char path[NAME_CHARS];
        to_narrow(w, path, sizeof path);
        const char *slash = strrchr(path, '/');
        snprintf(out->module, sizeof out->module, "%s", slash ? slash + 1 : path);
    }
    if (info->lpVtbl->GetModuleMetaData(info, out->mod, ofRead, &IID_IMetaDataImport,
                                        (IUnknown **)&imp) == S_OK && imp) {
        if (imp->lpVtbl->GetMethodProps(imp, out->token, &owner, w, NAME_CHARS, &cch, NULL, NULL,
                                        NULL, NULL, NULL) == S_OK)
            to_narrow(w, meth, sizeof meth);
        if (owner && imp->lpVtbl->GetTypeDefProps(imp, owner, w, NAME_CHARS, &cch, NULL,
                                                  NULL) == S_OK)
            to_narrow(w, type, sizeof type);
        imp->lpVtbl->Release(imp);
    }
    snprintf(out->full, sizeof out->full, "%s::%s", type, meth);
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
    HRESULT hr = info->lpVtbl->SetEventMask(info, mask);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    return hr;
}

static HRESULT in_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    fn_name n;
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
    prof_log("inline %s 0x%08x %s %s 0x%08x %s %s", a.module, (unsigned)a.token, a.full, b.module,
             (unsigned)b.token, b.full, refuse ? "refused" : "yes");
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

/* The callee's IL with a nop in front (a tiny header stays tiny, a fat one keeps its
 * flags and grows by one byte: the fixture's callees have no EH sections to move), or
 * with PROF_MUTATE the same length with one constant changed. */
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
    HRESULT hr = info->lpVtbl->SetILFunctionBody(info, n.mod, n.token, p);
    prof_log("set %s 0x%08x", n.full, (unsigned)hr);
}

static HRESULT in_jit_finished(ICorProfilerInfo3 *info, FunctionID fid)
{
    FunctionID callee = pending_rewrite;
    pending_rewrite = 0;
    if (callee && !atomic_exchange(&rewritten, true))
        rewrite(info, callee);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = in_initialize,
    .jit_started = in_jit_started,
    .jit_finished = in_jit_finished,
    .jit_inlining = in_inlining,
};
