/* prof_recompile.c: two IL-rewriting profilers in one library for `ilgraft run
 * --recompile`, both putting a nop in front of every method (a stand-in for an entry
 * probe), thread-safe. PROF_MODE picks how a recompilation is handled:
 *   pile       what a naive rewriter does (and ilgraft's plugin did): at every
 *              JITCompilationStarted, rewrite whatever GetILFunctionBody returns, so the
 *              nops pile up with each tier-up, OSR and instantiation;
 *   once       build each method's body once, from the IL of its first JIT event, and
 *              set that same body again at every later event;
 *   once-copy  the same, but each later event sets a fresh copy (same bytes, new RVA);
 *   once-skip  the same, but later events set nothing.
 * PROF_DISABLE_OPT=1 adds COR_PRF_DISABLE_OPTIMIZATIONS to the event mask;
 * PROF_DISABLE_TIERING=1 sets COR_PRF_HIGH_DISABLE_TIERED_COMPILATION with SetEventMask2.
 * It checks what the host promises under recompilation: every FunctionID names a method
 * (GetFunctionInfo, GetTokenAndMetaDataFromFunction agree), GetFunctionFromToken gives
 * the FunctionID back or, for a method with several, CORPROF_E_FUNCTION_IS_PARAMETERIZED;
 * GetILFunctionBody is per module and token, so at a later event the once modes find
 * their own body; Finished follows Started on the same thread. At Shutdown one line:
 *   events=E fids=F tokens=T multi_fid_tokens=M parameterized=P max_fid_events=X
 *   set_ok=S set_unsupported=U set_other=O */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define SLOTS (1u << 17) /* far more than Mono's mscorlib has methods (27,261) */

typedef enum mode { PILE, ONCE, ONCE_COPY, ONCE_SKIP } mode;

/* Per FunctionID and per (module, token), open addressing under one lock. */
static struct fid_entry {
    uintptr_t fid;
    int events;
} fids[2 * SLOTS];
static struct tok_entry {
    ModuleID mod;
    mdToken tok;
    int fid_count;
    FunctionID first_fid;
    uint8_t *body; /* the once modes' body (arena), NULL until built */
    ULONG size;
} toks[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static mode the_mode;
static atomic_int events, parameterized, set_ok, set_unsupported, set_other, full;
static _Thread_local FunctionID in_flight;

static uint32_t hash(uint64_t v, uint32_t slots)
{
    return (uint32_t)((v * 0x9E3779B97F4A7C15ull) >> 40) & (slots - 1);
}

/* Under lock: the entry of fid, made when absent (NULL when the table is full). */
static struct fid_entry *fid_entry(FunctionID fid, bool *made)
{
    const uint32_t slots = 2 * SLOTS;
    for (uint32_t i = hash(fid, slots), n = 0; n < slots; i = (i + 1) & (slots - 1), n++) {
        if (fids[i].fid == fid || !fids[i].fid) {
            *made = !fids[i].fid;
            fids[i].fid = fid;
            return &fids[i];
        }
    }
    full++;
    return NULL;
}

static struct tok_entry *tok_entry(ModuleID mod, mdToken tok, bool *made)
{
    for (uint32_t i = hash(mod ^ tok, SLOTS), n = 0; n < SLOTS; i = (i + 1) & (SLOTS - 1), n++) {
        if ((toks[i].mod == mod && toks[i].tok == tok) || !toks[i].mod) {
            *made = !toks[i].mod;
            toks[i].mod = mod;
            toks[i].tok = tok;
            return &toks[i];
        }
    }
    full++;
    return NULL;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Adds one to every code offset of the EH sections at s (n bytes): try, handler and
 * filter offsets (ECMA-335 II.25.4.5-6). False when a section does not fit. */
static bool shift_eh(uint8_t *s, size_t n)
{
    for (size_t at = 0; at + 4 <= n;) {
        uint8_t kind = s[at];
        bool fat = kind & 0x40;
        uint32_t data = fat ? rd32(s + at) >> 8 : s[at + 1];
        size_t clause = fat ? 24 : 12;
        if (data < 4 || at + data > n)
            return false;
        for (size_t c = at + 4; c + clause <= at + data; c += clause) {
            uint8_t *p = s + c;
            if (fat) {
                wr32(p + 4, rd32(p + 4) + 1);
                wr32(p + 12, rd32(p + 12) + 1);
                if (rd32(p) == 1) /* filter */
                    wr32(p + 20, rd32(p + 20) + 1);
            } else {
                uint16_t t = (uint16_t)(p[2] | p[3] << 8), hnd = (uint16_t)(p[5] | p[6] << 8);
                t++, hnd++;
                p[2] = (uint8_t)t, p[3] = (uint8_t)(t >> 8);
                p[5] = (uint8_t)hnd, p[6] = (uint8_t)(hnd >> 8);
                if ((p[0] | p[1] << 8) == 1)
                    wr32(p + 8, rd32(p + 8) + 1);
            }
        }
        if (!(kind & 0x80))
            return true;
        at = (at + data + 3) & ~(size_t)3;
    }
    return false;
}

/* The body at h (size bytes) with a nop in front of its code, into out (size + 16
 * bytes, 4-byte aligned); its size, 0 when the header makes no sense. Branches are
 * relative, so only the EH offsets move. A tiny body that outgrows 63 bytes turns fat. */
static size_t prepend_nop(const uint8_t *h, size_t size, uint8_t *out)
{
    if ((h[0] & 3) == 2) {
        uint32_t code = h[0] >> 2;
        if (code + 1 > size)
            return 0;
        if (code < 63) {
            out[0] = (uint8_t)((code + 1) << 2 | 2);
            out[1] = 0x00;
            memcpy(out + 2, h + 1, code);
            return code + 2;
        }
        memset(out, 0, 12);
        out[0] = 0x03, out[1] = 0x30, out[2] = 8; /* fat, 3 dwords; maxstack 8 */
        wr32(out + 4, code + 1);
        out[12] = 0x00;
        memcpy(out + 13, h + 1, code);
        return 13 + code;
    }
    uint32_t code = rd32(h + 4);
    if (size < 12 || code > size - 12)
        return 0;
    memcpy(out, h, 12);
    wr32(out + 4, code + 1);
    out[12] = 0x00;
    memcpy(out + 13, h + 12, code);
    if (!(h[0] & 0x08)) /* no more sections */
        return 13 + code;
    size_t old_at = (12 + code + 3) & ~(size_t)3, new_at = (13 + code + 3) & ~(size_t)3;
    if (old_at > size)
        return 0;
    memset(out + 13 + code, 0, new_at - (13 + code));
    memcpy(out + new_at, h + old_at, size - old_at);
    return shift_eh(out + new_at, size - old_at) ? new_at + size - old_at : 0;
}

static HRESULT rc_initialize(ICorProfilerInfo3 *info)
{
    const char *m = getenv("PROF_MODE");
    the_mode = !m || !strcmp(m, "pile") ? PILE
               : !strcmp(m, "once")      ? ONCE
               : !strcmp(m, "once-copy") ? ONCE_COPY
                                         : ONCE_SKIP;
    prof_check(!m || !strcmp(m, "pile") || !strncmp(m, "once", 4), "unknown PROF_MODE %s", m);
    /* PROF_DISABLE_OPT=1: COR_PRF_DISABLE_OPTIMIZATIONS, which takes every method out of
     * tiered compilation in CoreCLR. */
    const char *noopt = getenv("PROF_DISABLE_OPT");
    DWORD mask = COR_PRF_MONITOR_JIT_COMPILATION | COR_PRF_MONITOR_MODULE_LOADS;
    if (noopt && strcmp(noopt, "1") == 0)
        mask |= COR_PRF_DISABLE_OPTIMIZATIONS;
    HRESULT hr = info->lpVtbl->SetEventMask(info, mask);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    /* PROF_DISABLE_TIERING=1: the high flag New Relic's profiler sets, which does the
     * same through SetEventMask2 (ICorProfilerInfo5). */
    const char *notier = getenv("PROF_DISABLE_TIERING");
    if (notier && strcmp(notier, "1") == 0) {
        ICorProfilerInfo5 *info5 = NULL;
        hr = info->lpVtbl->QueryInterface(info, &IID_ICorProfilerInfo5, (void **)&info5);
        prof_check(hr == S_OK && info5, "QueryInterface(ICorProfilerInfo5) returned 0x%08x",
                   (unsigned)hr);
        if (info5) {
            hr = info5->lpVtbl->SetEventMask2(info5, mask, COR_PRF_HIGH_DISABLE_TIERED_COMPILATION);
            prof_check(hr == S_OK, "SetEventMask2 returned 0x%08x", (unsigned)hr);
            info5->lpVtbl->Release(info5);
        }
    }
    return S_OK;
}

/* A new body, made from src (size bytes) with a nop in front (copy: unchanged) in the
 * module's allocator; NULL on failure (checked). */
static uint8_t *new_body(ICorProfilerInfo3 *info, ModuleID mod, const uint8_t *src, ULONG size,
                         bool copy, ULONG *new_size)
{
    IMethodMalloc *alloc = NULL;
    HRESULT hr = info->lpVtbl->GetILFunctionBodyAllocator(info, mod, &alloc);
    prof_check(hr == S_OK && alloc, "GetILFunctionBodyAllocator returned 0x%08x", (unsigned)hr);
    if (!alloc)
        return NULL;
    uint8_t *mem = alloc->lpVtbl->Alloc(alloc, size + 16 + 3);
    alloc->lpVtbl->Release(alloc);
    prof_check(mem != NULL, "IMethodMalloc::Alloc(%u) returned NULL", (unsigned)size + 19);
    if (!mem)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)mem + 3) & ~(uintptr_t)3);
    size_t n = size;
    if (copy)
        memcpy(p, src, size);
    else
        n = prepend_nop(src, size, p);
    prof_check(n != 0, "cannot put a nop in front of a %u-byte body", (unsigned)size);
    *new_size = (ULONG)n;
    return n ? p : NULL;
}

static void set_body(ICorProfilerInfo3 *info, ModuleID mod, mdToken tok, const uint8_t *p)
{
    HRESULT hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, p);
    if (hr == S_OK)
        set_ok++;
    else if (hr == CORPROF_E_UNSUPPORTED_CALL_SEQUENCE)
        set_unsupported++;
    else {
        set_other++;
        prof_check(false, "SetILFunctionBody(0x%08x) returned 0x%08x", tok, (unsigned)hr);
    }
}

/* The IDs of fid agree with each other; a method with several FunctionIDs has none for
 * its token. */
static bool identify(ICorProfilerInfo3 *info, FunctionID fid, ModuleID *mod, mdToken *tok)
{
    ModuleID mod2 = 0;
    mdToken tok2 = 0;
    FunctionID back = 0;
    IUnknown *md = NULL;
    HRESULT hr = info->lpVtbl->GetFunctionInfo(info, fid, NULL, &mod2, &tok2);
    prof_check(hr == S_OK && (tok2 >> 24) == 0x06, "GetFunctionInfo returned 0x%08x", (unsigned)hr);
    if (hr != S_OK)
        return false;
    hr = info->lpVtbl->GetTokenAndMetaDataFromFunction(info, fid, &IID_IMetaDataImport, &md, tok);
    prof_check(hr == S_OK && *tok == tok2, "GetTokenAndMetaDataFromFunction: 0x%08x, 0x%08x",
               (unsigned)hr, *tok);
    if (md)
        md->lpVtbl->Release(md);
    *mod = mod2;
    *tok = tok2;
    hr = info->lpVtbl->GetFunctionFromToken(info, mod2, tok2, &back);
    if (hr == CORPROF_E_FUNCTION_IS_PARAMETERIZED)
        parameterized++;
    else
        prof_check(hr == S_OK && back == fid, "GetFunctionFromToken(0x%08x): 0x%08x", tok2,
                   (unsigned)hr);
    return true;
}

static HRESULT rc_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    ModuleID mod = 0;
    mdToken tok = 0;
    LPCBYTE cur = NULL;
    ULONG size = 0, new_size = 0;
    bool made_fid = false, made_tok = false;

    prof_check(!in_flight, "JITCompilationStarted inside another method's event");
    in_flight = fid;
    events++;
    if (!identify(info, fid, &mod, &tok))
        return S_OK;
    HRESULT hr = info->lpVtbl->GetILFunctionBody(info, mod, tok, &cur, &size);
    prof_check(hr == S_OK && cur && size, "GetILFunctionBody(0x%08x) returned 0x%08x", tok,
               (unsigned)hr);
    if (hr != S_OK)
        return S_OK;
    pthread_mutex_lock(&lock);
    struct fid_entry *fe = fid_entry(fid, &made_fid);
    struct tok_entry *te = tok_entry(mod, tok, &made_tok);
    if (fe)
        fe->events++;
    if (te && made_fid)
        te->fid_count++;
    if (te && made_tok)
        te->first_fid = fid;
    pthread_mutex_unlock(&lock);
    if (!te)
        return S_OK;
    if (the_mode == PILE) {
        uint8_t *p = new_body(info, mod, cur, size, false, &new_size);
        if (p)
            set_body(info, mod, tok, p);
        return S_OK;
    }
    /* A method's events all come from one thread in each pass, and passes do not
     * overlap: te->body needs no lock of its own. */
    if (made_tok) {
        te->body = new_body(info, mod, cur, size, false, &te->size);
        if (te->body)
            set_body(info, mod, tok, te->body);
        return S_OK;
    }
    /* The body set last: the first one, or in once-copy a copy of it. */
    prof_check(te->body && size == te->size &&
                   (the_mode == ONCE_COPY ? memcmp(cur, te->body, size) == 0 : cur == te->body),
               "0x%08x: GetILFunctionBody gave %p+%u at a later event, not the body set before "
               "(%p+%u)",
               tok, (const void *)cur, (unsigned)size, (void *)te->body, (unsigned)te->size);
    if (the_mode == ONCE && te->body)
        set_body(info, mod, tok, te->body);
    else if (the_mode == ONCE_COPY && te->body) {
        uint8_t *p = new_body(info, mod, te->body, te->size, true, &new_size);
        if (p)
            set_body(info, mod, tok, p);
    }
    return S_OK;
}

static HRESULT rc_jit_finished(ICorProfilerInfo3 *info, FunctionID fid)
{
    prof_check(in_flight == fid, "JITCompilationFinished(0x%llx) on a thread that started 0x%llx",
               (unsigned long long)fid, (unsigned long long)in_flight);
    in_flight = 0;
    return S_OK;
}

static HRESULT rc_shutdown(ICorProfilerInfo3 *info)
{
    int nfids = 0, ntoks = 0, multi = 0, max_events = 0;
    pthread_mutex_lock(&lock);
    for (uint32_t i = 0; i < 2 * SLOTS; i++)
        if (fids[i].fid) {
            nfids++;
            max_events = fids[i].events > max_events ? fids[i].events : max_events;
        }
    for (uint32_t i = 0; i < SLOTS; i++)
        if (toks[i].mod) {
            ntoks++;
            multi += toks[i].fid_count > 1;
        }
    pthread_mutex_unlock(&lock);
    prof_check(full == 0, "a table filled up");
    prof_log("events=%d fids=%d tokens=%d multi_fid_tokens=%d parameterized=%d max_fid_events=%d "
             "set_ok=%d set_unsupported=%d set_other=%d",
             (int)events, nfids, ntoks, multi, (int)parameterized, max_events, (int)set_ok,
             (int)set_unsupported, (int)set_other);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = rc_initialize,
    .jit_started = rc_jit_started,
    .jit_finished = rc_jit_finished,
    .shutdown = rc_shutdown,
};
