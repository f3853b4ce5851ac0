/* prof_threads.c: a thread-safe rewriting profiler for runs with several JIT threads
 * (`ilgraft run --jit-threads N`). JITCompilationStarted records the method's ThreadID
 * (GetCurrentThreadID) and copies its body verbatim into the module's IMethodMalloc,
 * installing it with SetILFunctionBody; GetILFunctionBody must then give the copy back
 * on the same thread, whatever the other threads install meanwhile.
 * JITCompilationFinished must come from the thread that started the method, once. It
 * monitors threads too: a JIT callback from any thread but the one it was initialised
 * on must come from a thread announced by ThreadCreated and ThreadAssignedToOSThread
 * (whose OS id GetThreadInfo gives back, and is the calling thread's gettid), and not
 * yet destroyed; ThreadDestroyed comes from the thread itself. At Shutdown one line
 * gives the counts the suite checks:
 *   threads=T started=S finished=F rewritten=R twice=W wrong_thread=X created=C
 *   destroyed=D unannounced=U */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "prof_common.h"

/* Methods by FunctionID, open addressing: far more slots than Mono's mscorlib has
 * methods (27,261), so a probe run stays short. */
#define SLOTS (1u << 17)
#define MAX_THREADS 64

static struct {
    _Atomic uintptr_t fid;       /* 0: free */
    _Atomic uintptr_t thread;    /* who started it */
    atomic_int finished;
} methods[SLOTS];

static atomic_int started, finished, rewritten, twice, wrong_thread, full;
static atomic_int created, destroyed, unannounced;
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static ThreadID threads[MAX_THREADS];
static int thread_count;
/* ThreadCreated ids not yet destroyed (threads_lock); the initialising thread's id. */
static ThreadID live[MAX_THREADS];
static int live_count;
static ThreadID session;

static uint32_t slot_of(FunctionID fid)
{
    uint64_t h = (uint64_t)fid * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 40) & (SLOTS - 1);
}

/* The index of the method's entry, made when `make`; SLOTS when absent (or the table is
 * full). */
static uint32_t entry(FunctionID fid, bool make, bool *made)
{
    *made = false;
    for (uint32_t i = slot_of(fid), n = 0; n < SLOTS; i = (i + 1) & (SLOTS - 1), n++) {
        uintptr_t cur = atomic_load(&methods[i].fid);
        if (cur == fid)
            return i;
        if (cur == 0) {
            if (!make)
                return SLOTS;
            uintptr_t expected = 0;
            if (atomic_compare_exchange_strong(&methods[i].fid, &expected, fid)) {
                *made = true;
                return i;
            }
            if (expected == fid)
                return i;
        }
    }
    full++;
    return SLOTS;
}

static void note_thread(ThreadID t)
{
    pthread_mutex_lock(&threads_lock);
    int i = 0;
    while (i < thread_count && threads[i] != t)
        i++;
    if (i == thread_count && thread_count < MAX_THREADS)
        threads[thread_count++] = t;
    pthread_mutex_unlock(&threads_lock);
}

static bool is_live(ThreadID t)
{
    pthread_mutex_lock(&threads_lock);
    bool found = false;
    for (int i = 0; i < live_count && !found; i++)
        found = live[i] == t;
    pthread_mutex_unlock(&threads_lock);
    return found;
}

static HRESULT th_initialize(ICorProfilerInfo3 *info)
{
    HRESULT hr = info->lpVtbl->SetEventMask(info, COR_PRF_MONITOR_JIT_COMPILATION |
                                                      COR_PRF_MONITOR_MODULE_LOADS |
                                                      COR_PRF_MONITOR_THREADS);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    hr = info->lpVtbl->GetCurrentThreadID(info, &session);
    prof_check(hr == S_OK && session, "GetCurrentThreadID in Initialize returned 0x%08x",
               (unsigned)hr);
    DWORD os = 0;
    hr = info->lpVtbl->GetThreadInfo(info, session, &os);
    prof_check(hr == S_OK && os == (DWORD)gettid(), "GetThreadInfo(session) gave %u (0x%08x), gettid %d",
               (unsigned)os, (unsigned)hr, (int)gettid());
    return S_OK;
}

static HRESULT th_thread_created(ICorProfilerInfo3 *info, ThreadID t)
{
    ThreadID me = 0;
    info->lpVtbl->GetCurrentThreadID(info, &me);
    prof_check(me == t, "ThreadCreated(0x%llx) delivered on thread 0x%llx", (unsigned long long)t,
               (unsigned long long)me);
    created++;
    pthread_mutex_lock(&threads_lock);
    if (live_count < MAX_THREADS)
        live[live_count++] = t;
    pthread_mutex_unlock(&threads_lock);
    return S_OK;
}

static HRESULT th_thread_assigned(ICorProfilerInfo3 *info, ThreadID t, DWORD os)
{
    DWORD back = 0;
    prof_check(is_live(t), "ThreadAssignedToOSThread for 0x%llx before ThreadCreated",
               (unsigned long long)t);
    prof_check(os == (DWORD)gettid(), "ThreadAssignedToOSThread says OS thread %u, gettid %d",
               (unsigned)os, (int)gettid());
    HRESULT hr = info->lpVtbl->GetThreadInfo(info, t, &back);
    prof_check(hr == S_OK && back == os, "GetThreadInfo(0x%llx) gave %u (0x%08x), expected %u",
               (unsigned long long)t, (unsigned)back, (unsigned)hr, (unsigned)os);
    /* A GC-triggering SYNC method inside this callback, which CoreCLR makes where no GC
     * may be triggered: refused (observed under CoreCLR 10 by test_abi_probe's
     * no_trigger_callback_rules_as_coreclr). */
    ICorProfilerModuleEnum *mods = NULL;
    hr = info->lpVtbl->EnumModules(info, &mods);
    prof_check(hr == CORPROF_E_UNSUPPORTED_CALL_SEQUENCE && !mods,
               "EnumModules inside ThreadAssignedToOSThread: 0x%08x", (unsigned)hr);
    return S_OK;
}

static HRESULT th_thread_destroyed(ICorProfilerInfo3 *info, ThreadID t)
{
    ThreadID me = 0;
    info->lpVtbl->GetCurrentThreadID(info, &me);
    prof_check(me == t, "ThreadDestroyed(0x%llx) delivered on thread 0x%llx",
               (unsigned long long)t, (unsigned long long)me);
    destroyed++;
    pthread_mutex_lock(&threads_lock);
    int i = 0;
    while (i < live_count && live[i] != t)
        i++;
    prof_check(i < live_count, "ThreadDestroyed(0x%llx) of a thread never created",
               (unsigned long long)t);
    if (i < live_count)
        live[i] = live[--live_count];
    pthread_mutex_unlock(&threads_lock);
    return S_OK;
}

static void copy_body(ICorProfilerInfo3 *info, ModuleID mod, mdToken tok)
{
    LPCBYTE header = NULL, now = NULL;
    ULONG size = 0, now_size = 0;
    IMethodMalloc *alloc = NULL;
    HRESULT hr = info->lpVtbl->GetILFunctionBody(info, mod, tok, &header, &size);
    prof_check(hr == S_OK && header && size, "GetILFunctionBody(0x%08x) returned 0x%08x", tok,
               (unsigned)hr);
    if (hr != S_OK)
        return;
    hr = info->lpVtbl->GetILFunctionBodyAllocator(info, mod, &alloc);
    prof_check(hr == S_OK && alloc, "GetILFunctionBodyAllocator returned 0x%08x", (unsigned)hr);
    if (!alloc)
        return;
    /* Fat headers must stay 4-byte aligned. */
    uint8_t *mem = alloc->lpVtbl->Alloc(alloc, size + 3);
    prof_check(mem != NULL, "IMethodMalloc::Alloc(%u) returned NULL", (unsigned)size + 3);
    if (mem) {
        uint8_t *p = (uint8_t *)(((uintptr_t)mem + 3) & ~(uintptr_t)3);
        memcpy(p, header, size);
        hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, p);
        prof_check(hr == S_OK, "SetILFunctionBody(0x%08x) returned 0x%08x", tok, (unsigned)hr);
        hr = info->lpVtbl->GetILFunctionBody(info, mod, tok, &now, &now_size);
        prof_check(hr == S_OK && now == p && now_size == size,
                   "GetILFunctionBody(0x%08x) after the rewrite: %p/%u, expected %p/%u", tok,
                   (const void *)now, (unsigned)now_size, (void *)p, (unsigned)size);
        if (hr == S_OK && now == p)
            rewritten++;
    }
    alloc->lpVtbl->Release(alloc);
}

static HRESULT th_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    ThreadID me = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    bool made;
    HRESULT hr = info->lpVtbl->GetCurrentThreadID(info, &me);
    prof_check(hr == S_OK && me, "GetCurrentThreadID returned 0x%08x", (unsigned)hr);
    note_thread(me);
    if (me != session && !is_live(me))
        unannounced++;
    started++;
    uint32_t i = entry(fid, true, &made);
    if (i == SLOTS)
        return S_OK;
    if (!made) {
        twice++;
        return S_OK;
    }
    atomic_store(&methods[i].thread, (uintptr_t)me);
    hr = info->lpVtbl->GetFunctionInfo(info, fid, NULL, &mod, &tok);
    prof_check(hr == S_OK, "GetFunctionInfo returned 0x%08x", (unsigned)hr);
    if (hr == S_OK)
        copy_body(info, mod, tok);
    return S_OK;
}

static HRESULT th_jit_finished(ICorProfilerInfo3 *info, FunctionID fid)
{
    ThreadID me = 0;
    bool made;
    info->lpVtbl->GetCurrentThreadID(info, &me);
    finished++;
    uint32_t i = entry(fid, false, &made);
    prof_check(i != SLOTS, "JITCompilationFinished for 0x%llx, never started",
               (unsigned long long)fid);
    if (i == SLOTS)
        return S_OK;
    if (atomic_load(&methods[i].thread) != (uintptr_t)me)
        wrong_thread++;
    if (atomic_fetch_add(&methods[i].finished, 1) != 0)
        twice++;
    return S_OK;
}

static HRESULT th_shutdown(ICorProfilerInfo3 *info)
{
    prof_check(full == 0, "the method table filled up");
    prof_log("threads=%d started=%d finished=%d rewritten=%d twice=%d wrong_thread=%d "
             "created=%d destroyed=%d unannounced=%d",
             thread_count, (int)started, (int)finished, (int)rewritten, (int)twice,
             (int)wrong_thread, (int)created, (int)destroyed, (int)unannounced);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = th_initialize,
    .jit_started = th_jit_started,
    .jit_finished = th_jit_finished,
    .thread_created = th_thread_created,
    .thread_assigned = th_thread_assigned,
    .thread_destroyed = th_thread_destroyed,
    .shutdown = th_shutdown,
};
