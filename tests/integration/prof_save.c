/* prof_save.c: the rewriting profiler behind the save tests. It runs unchanged under
 * the harness host and under a real CoreCLR, and its rewrites are a fixed function of
 * the original body, so a test can compute from the input image alone what a saved
 * image must contain:
 *   - a tiny body `ldc.i4.s N; ret` becomes `ldc.i4.s N+1; ret` (Hello's Answer: 41
 *     becomes 42, visible in the program's output);
 *   - a tiny body `ldarg.0; ldarg.1; add; ret` becomes the same with mul (calc's Add:
 *     2 + 3 = 5 becomes 6);
 *   - any other tiny body with room gets a nop in front (identity in effect);
 *   - a fat body is copied verbatim (EH sections included) to a new address.
 * Every body goes through the module's IMethodMalloc, as a real profiler's would.
 * Under a real runtime PROF_SAVE_ONLY (a file-name substring) keeps it to the test's
 * own module, away from the framework's methods. */
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

static int rewritten;

static HRESULT sv_initialize(ICorProfilerInfo3 *info)
{
    DWORD mask = COR_PRF_MONITOR_JIT_COMPILATION;
    HRESULT hr = info->lpVtbl->SetEventMask(info, mask);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    prof_log("initialized");
    return S_OK;
}

static HRESULT sv_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    ClassID cls;
    ModuleID mod = 0;
    mdToken tok = 0;
    LPCBYTE header = NULL;
    ULONG size = 0;
    IMethodMalloc *alloc = NULL;

    if (info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok) != S_OK)
        return S_OK;
    const char *only = getenv("PROF_SAVE_ONLY");
    if (only && *only) {
        WCHAR wname[1024];
        char name[1024];
        ULONG cch = 0, i;
        if (info->lpVtbl->GetModuleInfo(info, mod, NULL, 1024, &cch, wname, NULL) != S_OK)
            return S_OK;
        for (i = 0; i < cch && i < 1023 && wname[i]; i++)
            name[i] = wname[i] < 0x80 ? (char)wname[i] : '?';
        name[i] = '\0';
        if (!strstr(name, only))
            return S_OK;
    }
    /* Methods without IL (runtime-implemented, P/Invoke) are not ours to touch. */
    if (info->lpVtbl->GetILFunctionBody(info, mod, tok, &header, &size) != S_OK || !size)
        return S_OK;
    if (info->lpVtbl->GetILFunctionBodyAllocator(info, mod, &alloc) != S_OK || !alloc)
        return S_OK;
    bool tiny = (header[0] & 3) == 2;
    ULONG code = tiny ? header[0] >> 2 : 0;
    static const uint8_t add_body[] = { 0x02, 0x03, 0x58, 0x2A };
    bool bump = tiny && code == 3 && header[1] == 0x1F && header[3] == 0x2A;
    bool to_mul = tiny && code == 4 && memcmp(header + 1, add_body, 4) == 0;
    ULONG new_size = (tiny && !bump && !to_mul && code < 63) ? size + 1 : size;
    uint8_t *p = alloc->lpVtbl->Alloc(alloc, new_size);
    prof_check(p != NULL, "Alloc(%u) failed for 0x%08x", (unsigned)new_size, tok);
    if (p) {
        memcpy(p, header, size);
        if (bump) {
            p[2] = (uint8_t)(header[2] + 1);
        } else if (to_mul) {
            p[3] = 0x5A;
        } else if (new_size != size) {
            p[0] = (uint8_t)(((code + 1) << 2) | 2);
            p[1] = 0x00; /* nop */
            memcpy(p + 2, header + 1, code);
        }
        HRESULT hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, p);
        prof_check(hr == S_OK, "SetILFunctionBody(0x%08x) returned 0x%08x", tok, (unsigned)hr);
        if (hr == S_OK)
            rewritten++;
        prof_log("rewrote 0x%08x size=%u%s", tok, (unsigned)new_size,
                 bump ? " bump" : to_mul ? " mul" : "");
    }
    alloc->lpVtbl->Release(alloc);
    return S_OK;
}

static HRESULT sv_shutdown(ICorProfilerInfo3 *info)
{
    (void)info;
    prof_log("rewritten=%d", rewritten);
    prof_check(rewritten > 0, "nothing was rewritten");
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = sv_initialize,
    .jit_started = sv_jit_started,
    .shutdown = sv_shutdown,
};
