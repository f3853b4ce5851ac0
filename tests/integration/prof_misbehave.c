/* prof_misbehave.c: a profiler that breaks the rules, one way per PROF_MODE, to check
 * that the harness host answers as the runtime should and survives:
 *   malloc     hands SetILFunctionBody a heap copy of the body: E_INVALIDARG
 *   base       hands it the module base itself: E_INVALIDARG (the header must lie above)
 *   corrupt    a body from the module's allocator that falls off its end: the verifier
 *              rejects it (COR_E_INVALIDPROGRAM)
 *   undecodable  a body with an unassigned opcode (0x24): COR_E_BADIMAGEFORMAT
 *   badlocal   a body that loads a local the method does not have: the type-level
 *              verifier (what CoreCLR's JIT refuses) rejects it (COR_E_INVALIDPROGRAM)
 *   fieldcall  a body that calls a Field token: COR_E_BADIMAGEFORMAT, as CoreCLR
 *   nocb3      refuses ICorProfilerCallback3 (initialized all the same, as by CoreCLR 10)
 *   nocb2again answers Callback2 at CreateInstance only (prof_common.c)
 *   initfail   Initialize returns E_FAIL
 *   crash      dereferences NULL in JITCompilationStarted (run it with --isolate)
 *   hang       never returns from ModuleLoadFinished (run it with --isolate --timeout) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "prof_common.h"

static const char *mode(void)
{
    const char *m = getenv("PROF_MODE");
    return m ? m : "";
}

static bool is(const char *m)
{
    return strcmp(mode(), m) == 0;
}

static int attempts;

static bool mb_refuse_callback3(void)
{
    return is("nocb3");
}

static HRESULT mb_initialize(ICorProfilerInfo3 *info)
{
    HRESULT hr = info->lpVtbl->SetEventMask(info, COR_PRF_MONITOR_MODULE_LOADS |
                                                      COR_PRF_MONITOR_JIT_COMPILATION);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    return is("initfail") ? E_FAIL : S_OK;
}

static HRESULT mb_module_load_finished(ICorProfilerInfo3 *info, ModuleID mod)
{
    if (is("hang"))
        for (;;)
            pause();
    return S_OK;
}

static HRESULT mb_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    ModuleID mod = 0;
    mdToken tok = 0;
    LPCBYTE header = NULL, base = NULL;
    ULONG size = 0;
    IMethodMalloc *alloc = NULL;
    HRESULT hr, want;
    uint8_t *p = NULL;

    if (is("crash")) {
        /* A store to the unmapped first page, through a volatile address so the
         * compiler keeps it (and not NULL, which UBSan would stop first). */
        volatile uintptr_t nowhere = 16;
        *(volatile int *)nowhere = 1;
    }
    info->lpVtbl->GetFunctionInfo(info, fid, NULL, &mod, &tok);
    info->lpVtbl->GetModuleInfo(info, mod, &base, 0, NULL, NULL, NULL);
    if (info->lpVtbl->GetILFunctionBody(info, mod, tok, &header, &size) != S_OK)
        return S_OK;
    if (is("malloc")) {
        p = malloc(size);
        if (!p)
            return S_OK;
        memcpy(p, header, size);
        want = E_INVALIDARG;
        hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, p);
        free(p);
    } else if (is("base")) {
        want = E_INVALIDARG;
        hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, base);
    } else if (is("corrupt") || is("undecodable") || is("badlocal") || is("fieldcall")) {
        if (info->lpVtbl->GetILFunctionBodyAllocator(info, mod, &alloc) != S_OK)
            return S_OK;
        p = alloc->lpVtbl->Alloc(alloc, 8);
        alloc->lpVtbl->Release(alloc);
        if (!p)
            return S_OK;
        if (is("corrupt")) {
            /* ldc.i4.0; pop; nop: control runs off the end of the code. */
            static const uint8_t body[] = { (3 << 2) | 2, 0x16, 0x26, 0x00 };
            memcpy(p, body, sizeof body);
            want = COR_E_INVALIDPROGRAM;
        } else if (is("badlocal")) {
            /* ldloc.0; pop; ret in a tiny body, which has no locals */
            static const uint8_t body[] = { (3 << 2) | 2, 0x06, 0x26, 0x2A };
            memcpy(p, body, sizeof body);
            want = COR_E_INVALIDPROGRAM;
        } else if (is("fieldcall")) {
            /* call 0x04000001; ret */
            static const uint8_t body[] = { (6 << 2) | 2, 0x28, 0x01, 0x00, 0x00, 0x04, 0x2A };
            memcpy(p, body, sizeof body);
            want = COR_E_BADIMAGEFORMAT;
        } else {
            static const uint8_t body[] = { (2 << 2) | 2, 0x24, 0x2A };
            memcpy(p, body, sizeof body);
            want = COR_E_BADIMAGEFORMAT;
        }
        hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, p);
    } else {
        return S_OK;
    }
    attempts++;
    prof_check(hr == want, "SetILFunctionBody(0x%08x) in mode %s returned 0x%08x, expected 0x%08x",
               tok, mode(), (unsigned)hr, (unsigned)want);
    /* A rejected body leaves the old one in place. */
    LPCBYTE now = NULL;
    info->lpVtbl->GetILFunctionBody(info, mod, tok, &now, NULL);
    prof_check(now == header, "GetILFunctionBody after a rejected body changed");
    return S_OK;
}

static HRESULT mb_shutdown(ICorProfilerInfo3 *info)
{
    prof_log("mode=%s attempts=%d", mode(), attempts);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = mb_initialize,
    .module_load_finished = mb_module_load_finished,
    .jit_started = mb_jit_started,
    .shutdown = mb_shutdown,
    .refuse_callback3 = mb_refuse_callback3,
};
