/* abi_jit.c: the JIT callbacks; Main's code is checked with GetCodeInfo2 and
 * DoStackSnapshot, and ILG_ABI_PROBE_REWRITE gives Answer a new body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi_probe.h"

typedef struct snapshot {
    probe *p;
    FunctionID want;
    unsigned frames, managed;
    bool found;
} snapshot;

static HRESULT snapshot_frame(FunctionID fid, UINT_PTR ip, COR_PRF_FRAME_INFO frame,
                              ULONG32 context_size, BYTE context[], void *client)
{
    snapshot *s = client;
    s->frames++;
    if (fid) {
        s->managed++;
        s->found |= fid == s->want;
    }
    return S_OK;
}

/* Answer's new body: the same tiny body with ldc.i4.s 41 turned into ldc.i4.s 42. */
static void rewrite_answer(probe *p, const method_desc *d)
{
    ICorProfilerInfo3 *info = p->info;
    LPCBYTE body = NULL;
    ULONG size = 0;
    HRESULT hr = info->lpVtbl->GetILFunctionBody(info, d->module, d->token, &body, &size);
    if (!probe_expect_hr(p, "GetILFunctionBody(Answer)", hr, S_OK))
        return;
    /* tiny header (code size 3), ldc.i4.s 41, ret */
    static const BYTE expected[] = { (3 << 2) | 2, 0x1F, 41, 0x2A };
    if (size != sizeof expected || memcmp(body, expected, sizeof expected) != 0) {
        probe_fail(p, "Answer's body is not tiny 'ldc.i4.s 41; ret' (%u bytes)", (unsigned)size);
        return;
    }
    IMethodMalloc *alloc = NULL;
    hr = info->lpVtbl->GetILFunctionBodyAllocator(info, d->module, &alloc);
    if (!probe_expect_hr(p, "GetILFunctionBodyAllocator", hr, S_OK))
        return;
    BYTE *fresh = alloc->lpVtbl->Alloc(alloc, size);
    alloc->lpVtbl->Release(alloc);
    if (!fresh) {
        probe_fail(p, "IMethodMalloc::Alloc(%u) gave NULL", (unsigned)size);
        return;
    }
    memcpy(fresh, body, size);
    fresh[2] = 42;
    hr = info->lpVtbl->SetILFunctionBody(info, d->module, d->token, fresh);
    probe_expect_hr(p, "SetILFunctionBody(Answer)", hr, S_OK);
    LPCBYTE now = NULL;
    ULONG now_size = 0;
    hr = info->lpVtbl->GetILFunctionBody(info, d->module, d->token, &now, &now_size);
    probe_expect_hr(p, "GetILFunctionBody(Answer) after SetILFunctionBody", hr, S_OK);
    probe_log("Rewrite method=%s old=%p new=%p now=%p now_size=%u", d->full, (const void *)body,
              (void *)fresh, (const void *)now, (unsigned)now_size);
    if (now != fresh || now_size != size)
        probe_fail(p, "GetILFunctionBody after SetILFunctionBody: %p (%u bytes), want %p",
                   (const void *)now, (unsigned)now_size, (void *)fresh);
}

HRESULT cb_JITCompilationStarted(ICorProfilerCallback3 *iface, FunctionID fid, BOOL safe)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    method_desc d;
    probe_count(p, 23);
    if (!describe_function(p, fid, &d))
        return S_OK;
    LPCBYTE body = NULL;
    ULONG size = 0;
    HRESULT hr = info->lpVtbl->GetILFunctionBody(info, d.module, d.token, &body, &size);
    probe_expect_hr(p, "GetILFunctionBody", hr, S_OK);
    probe_log("JITCompilationStarted fid=0x%lx safe=%d token=0x%08X rva=0x%X il_size=%u module=%s "
              "method=%s",
              (unsigned long)fid, (int)safe, (unsigned)d.token, (unsigned)d.rva, (unsigned)size,
              d.module_name, d.full);
    if (is_hello(&d, "Hello.Program::Main")) {
        pthread_mutex_lock(&p->lock);
        bool first = !p->conform_main_done;
        p->conform_main_done = true;
        pthread_mutex_unlock(&p->lock);
        if (p->info15 && first) {
            conform_main_jit(p->info15, fid, d.module, d.token);
            pthread_mutex_lock(&p->lock);
            ModuleID corelib = p->corelib_module;
            pthread_mutex_unlock(&p->lock);
            conform_generics(p->info15, d.module, corelib);
            conform_unsupported(p->info15, fid, d.module, d.token);
        }
        /* Where the header lies: base + RVA for a mapped image, base + file offset for a
         * flat one (COR_PRF_MODULE_FLAT_LAYOUT). */
        LPCBYTE base = NULL;
        WCHAR mname[NAME_CAP];
        ULONG mlen = 0;
        AssemblyID masm = 0;
        DWORD mflags = 0;
        hr = info->lpVtbl->GetModuleInfo2(info, d.module, &base, NAME_CAP, &mlen, mname, &masm,
                                          &mflags);
        if (probe_expect_hr(p, "GetModuleInfo2", hr, S_OK))
            probe_log("MainBody header_offset=0x%lx rva=0x%X module_flags=0x%X",
                      (unsigned long)(body - base), (unsigned)d.rva, (unsigned)mflags);
        if (!(mflags & COR_PRF_MODULE_FLAT_LAYOUT) && body != base + d.rva)
            probe_fail(p, "Main's header is not at base + RVA in a mapped module");
        ClassID cls = 1;
        ModuleID mod = 0;
        mdToken tok = 0;
        ULONG32 ntype = 99;
        hr = info->lpVtbl->GetFunctionInfo2(info, fid, 0, &cls, &mod, &tok, 0, &ntype, NULL);
        if (probe_expect_hr(p, "GetFunctionInfo2(Main)", hr, S_OK) &&
            (mod != d.module || tok != d.token || ntype != 0))
            probe_fail(p, "GetFunctionInfo2(Main): module 0x%lx token 0x%08X type args %u",
                       (unsigned long)mod, (unsigned)tok, (unsigned)ntype);
        FunctionID by_token = 0;
        hr = info->lpVtbl->GetFunctionFromToken(info, d.module, d.token, &by_token);
        if (probe_expect_hr(p, "GetFunctionFromToken(Main)", hr, S_OK) && by_token != fid)
            probe_fail(p, "GetFunctionFromToken(Main) 0x%lx, want 0x%lx", (unsigned long)by_token,
                       (unsigned long)fid);
        ThreadID tid = 0;
        DWORD os_tid = 0;
        hr = info->lpVtbl->GetCurrentThreadID(info, &tid);
        if (probe_expect_hr(p, "GetCurrentThreadID", hr, S_OK)) {
            hr = info->lpVtbl->GetThreadInfo(info, tid, &os_tid);
            AppDomainID ad = 0;
            HRESULT hr2 = info->lpVtbl->GetThreadAppDomain(info, tid, &ad);
            probe_log(
                "MainThread thread=0x%lx os_thread=%u gettid=%ld appdomain=0x%lx hr=0x%08X/0x%08X",
                (unsigned long)tid, (unsigned)os_tid, (long)syscall(SYS_gettid), (unsigned long)ad,
                (unsigned)hr, (unsigned)hr2);
            if (hr != S_OK || os_tid != (DWORD)syscall(SYS_gettid))
                probe_fail(p, "GetThreadInfo: hr 0x%08X os thread %u, gettid %ld", (unsigned)hr,
                           (unsigned)os_tid, (long)syscall(SYS_gettid));
            probe_expect_hr(p, "GetThreadAppDomain", hr2, S_OK);
        }
        pthread_mutex_lock(&p->lock);
        if (!p->main_fid)
            p->main_fid = fid;
        mdMethodDef toured = p->main_token;
        pthread_mutex_unlock(&p->lock);
        if (d.token != toured)
            probe_fail(p, "Main's token 0x%08X, the metadata tour found 0x%08X", (unsigned)d.token,
                       (unsigned)toured);
        else
            probe_mark(p, SEEN_MAIN_JIT);
    } else if (is_hello(&d, "Hello.Program::Square")) {
        /* Main called Square: Main must be on this thread's stack. */
        snapshot s = { p, p->main_fid, 0, 0, false };
        hr = info->lpVtbl->DoStackSnapshot(info, 0, snapshot_frame, COR_PRF_SNAPSHOT_DEFAULT, &s,
                                           NULL, 0);
        probe_log("DoStackSnapshot hr=0x%08X frames=%u managed=%u main=%d", (unsigned)hr, s.frames,
                  s.managed, s.found);
        if (probe_expect_hr(p, "DoStackSnapshot", hr, S_OK) && s.found)
            probe_mark(p, SEEN_STACK_SNAPSHOT);
        probe_mark(p, SEEN_SQUARE_JIT);
    } else if (is_hello(&d, "Hello.Program::Answer") && p->rewrite) {
        rewrite_answer(p, &d);
    }
    return S_OK;
}

HRESULT cb_JITCompilationFinished(ICorProfilerCallback3 *iface, FunctionID fid, HRESULT st,
                                         BOOL safe)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    probe_count(p, 24);
    probe_log("JITCompilationFinished fid=0x%lx hr=0x%08X safe=%d", (unsigned long)fid,
              (unsigned)st, (int)safe);
    if (fid != p->main_fid)
        return S_OK;
    probe_expect_hr(p, "JITCompilationFinished(Main) status", st, S_OK);
    probe_mark(p, SEEN_MAIN_JIT_FINISHED);
    /* The code's first byte maps back to the function; GetCodeInfo agrees with GetCodeInfo2. */
    COR_PRF_CODE_INFO ranges[8];
    ULONG32 n = 0;
    HRESULT hr = info->lpVtbl->GetCodeInfo2(info, fid, 8, &n, ranges);
    if (!probe_expect_hr(p, "GetCodeInfo2(Main)", hr, S_OK) || n == 0)
        return S_OK;
    FunctionID back = 0;
    hr = info->lpVtbl->GetFunctionFromIP(info, (LPCBYTE)ranges[0].startAddress, &back);
    LPCBYTE start = NULL;
    ULONG size = 0;
    HRESULT hr2 = info->lpVtbl->GetCodeInfo(info, fid, &start, &size);
    COR_DEBUG_IL_TO_NATIVE_MAP map[64];
    ULONG32 nmap = 0;
    HRESULT hr3 = info->lpVtbl->GetILToNativeMapping(info, fid, 64, &nmap, map);
    probe_log("CodeInfo fid=0x%lx ranges=%u start=0x%lx size=%lu from_ip=0x%lx code_info=%p+%u "
              "il_map=%u",
              (unsigned long)fid, (unsigned)n, (unsigned long)ranges[0].startAddress,
              (unsigned long)ranges[0].size, (unsigned long)back, (const void *)start,
              (unsigned)size, (unsigned)nmap);
    if (probe_expect_hr(p, "GetFunctionFromIP(Main's code)", hr, S_OK) && back == fid &&
        probe_expect_hr(p, "GetCodeInfo(Main)", hr2, S_OK) &&
        (UINT_PTR)start == ranges[0].startAddress && size == ranges[0].size &&
        probe_expect_hr(p, "GetILToNativeMapping(Main)", hr3, S_OK) && nmap > 0)
        probe_mark(p, SEEN_MAIN_CODE_CHECKED);
    else
        probe_fail(p, "Main's code info does not map back (from_ip 0x%lx, code_info %p+%u)",
                   (unsigned long)back, (const void *)start, (unsigned)size);
    return S_OK;
}

HRESULT cb_JITCachedFunctionSearchStarted(ICorProfilerCallback3 *iface, FunctionID fid,
                                                 BOOL *use_cached)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 25);
    if (!use_cached)
        probe_fail(p, "JITCachedFunctionSearchStarted: NULL pbUseCachedFunction");
    else
        *use_cached = TRUE;
    return S_OK;
}

HRESULT cb_JITCachedFunctionSearchFinished(ICorProfilerCallback3 *iface, FunctionID fid,
                                                  COR_PRF_JIT_CACHE result)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 26);
    if (result != COR_PRF_CACHED_FUNCTION_FOUND && result != COR_PRF_CACHED_FUNCTION_NOT_FOUND) {
        probe_fail(p, "JITCachedFunctionSearchFinished: result %d", (int)result);
        return S_OK;
    }
    method_desc d;
    if (result == COR_PRF_CACHED_FUNCTION_FOUND && describe_function(p, fid, &d)) {
        probe_log("JITCachedFunctionSearchFinished fid=0x%lx result=%d module=%s method=%s",
                  (unsigned long)fid, (int)result, d.module_name, d.full);
        probe_mark(p, SEEN_CACHE_SEARCH);
    }
    return S_OK;
}

HRESULT cb_JITFunctionPitched(ICorProfilerCallback3 *iface, FunctionID fid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 27);
    probe_log("JITFunctionPitched fid=0x%lx", (unsigned long)fid);
    return S_OK;
}

HRESULT cb_JITInlining(ICorProfilerCallback3 *iface, FunctionID caller, FunctionID callee,
                              BOOL *should)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 28);
    if (!should || !caller || !callee)
        probe_fail(p, "JITInlining(0x%lx, 0x%lx, %p)", (unsigned long)caller, (unsigned long)callee,
                   (void *)should);
    else
        *should = TRUE;
    return S_OK;
}
