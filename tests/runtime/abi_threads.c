/* abi_threads.c: the thread, remoting, code transition and suspension callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi_probe.h"

HRESULT cb_ThreadCreated(ICorProfilerCallback3 *iface, ThreadID tid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 29);
    probe_log("ThreadCreated thread=0x%lx", (unsigned long)tid);
    startup_event(p->info, "ThreadCreated", 't', tid, NULL);
    if (tid)
        probe_mark(p, SEEN_THREAD_CREATED);
    return S_OK;
}

HRESULT cb_ThreadDestroyed(ICorProfilerCallback3 *iface, ThreadID tid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 30);
    probe_log("ThreadDestroyed thread=0x%lx", (unsigned long)tid);
    return S_OK;
}

HRESULT cb_ThreadAssignedToOSThread(ICorProfilerCallback3 *iface, ThreadID tid, DWORD os)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 31);
    probe_log("ThreadAssignedToOSThread thread=0x%lx os_thread=%u", (unsigned long)tid,
              (unsigned)os);
    startup_event(p->info, "ThreadAssignedToOSThread", 't', tid,
                  (pid_t)os == (pid_t)syscall(SYS_gettid) ? "os=self" : "os=other");
    if (!tid || !os)
        probe_fail(p, "ThreadAssignedToOSThread(0x%lx, %u)", (unsigned long)tid, (unsigned)os);
    if (p->info15)
        conform_rules_no_trigger(p->info15);
    return S_OK;
}

HRESULT cb_ThreadNameChanged(ICorProfilerCallback3 *iface, ThreadID tid, ULONG cch,
                                    WCHAR name[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    char buf[NAME_CAP];
    probe_count(p, 72);
    probe_utf8(name, name ? cch : 0, buf, sizeof buf);
    probe_log("ThreadNameChanged thread=0x%lx cch=%u name=%s", (unsigned long)tid, (unsigned)cch,
              buf);
    if (strcmp(buf, "ilgraft-main") == 0) {
        ThreadID self = 0;
        HRESULT hr = p->info->lpVtbl->GetCurrentThreadID(p->info, &self);
        if (probe_expect_hr(p, "GetCurrentThreadID", hr, S_OK) && self == tid)
            probe_mark(p, SEEN_THREAD_NAME);
        else
            probe_fail(p, "ThreadNameChanged for 0x%lx on thread 0x%lx", (unsigned long)tid,
                       (unsigned long)self);
    }
    return S_OK;
}

/* ---- remoting (gone from CoreCLR; never called) --------------------------------------- */

static HRESULT remoting(probe *p, unsigned slot, const char *name)
{
    probe_count(p, slot);
    probe_fail(p, "%s called: CoreCLR has no remoting", name);
    return S_OK;
}

HRESULT cb_RemotingClientInvocationStarted(ICorProfilerCallback3 *iface)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 32, "RemotingClientInvocationStarted");
}
HRESULT cb_RemotingClientSendingMessage(ICorProfilerCallback3 *iface, GUID *c, BOOL a)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 33, "RemotingClientSendingMessage");
}
HRESULT cb_RemotingClientReceivingReply(ICorProfilerCallback3 *iface, GUID *c, BOOL a)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 34, "RemotingClientReceivingReply");
}
HRESULT cb_RemotingClientInvocationFinished(ICorProfilerCallback3 *iface)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 35, "RemotingClientInvocationFinished");
}
HRESULT cb_RemotingServerReceivingMessage(ICorProfilerCallback3 *iface, GUID *c, BOOL a)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 36, "RemotingServerReceivingMessage");
}
HRESULT cb_RemotingServerInvocationStarted(ICorProfilerCallback3 *iface)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 37, "RemotingServerInvocationStarted");
}
HRESULT cb_RemotingServerInvocationReturned(ICorProfilerCallback3 *iface)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 38, "RemotingServerInvocationReturned");
}
HRESULT cb_RemotingServerSendingReply(ICorProfilerCallback3 *iface, GUID *c, BOOL a)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 39, "RemotingServerSendingReply");
}

/* ---- transitions and suspension -------------------------------------------------------- */

static HRESULT transition(probe *p, unsigned slot, const char *what, FunctionID fid,
                          COR_PRF_TRANSITION_REASON reason)
{
    probe_count(p, slot);
    char name[2 * NAME_CAP + 4] = "(none)";
    if (fid) {
        method_desc d;
        if (describe_function(p, fid, &d))
            snprintf(name, sizeof name, "%s", d.full);
    }
    probe_log("%s fid=0x%lx reason=%d method=%s", what, (unsigned long)fid, (int)reason, name);
    if (reason != COR_PRF_TRANSITION_CALL && reason != COR_PRF_TRANSITION_RETURN)
        probe_fail(p, "%s: reason %d", what, (int)reason);
    else
        probe_mark(p, SEEN_TRANSITION);
    return S_OK;
}

HRESULT cb_UnmanagedToManagedTransition(ICorProfilerCallback3 *iface, FunctionID fid,
                                               COR_PRF_TRANSITION_REASON reason)
{
    return transition(impl_from_ICorProfilerCallback3(iface), 40, "UnmanagedToManagedTransition",
                      fid, reason);
}

HRESULT cb_ManagedToUnmanagedTransition(ICorProfilerCallback3 *iface, FunctionID fid,
                                               COR_PRF_TRANSITION_REASON reason)
{
    return transition(impl_from_ICorProfilerCallback3(iface), 41, "ManagedToUnmanagedTransition",
                      fid, reason);
}

HRESULT cb_RuntimeSuspendStarted(ICorProfilerCallback3 *iface, COR_PRF_SUSPEND_REASON reason)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 42);
    probe_log("RuntimeSuspendStarted reason=%d", (int)reason);
    if ((unsigned)reason > COR_PRF_SUSPEND_FOR_PROFILER || reason == 5)
        probe_fail(p, "RuntimeSuspendStarted: reason %d", (int)reason);
    if (reason == COR_PRF_SUSPEND_FOR_GC)
        probe_mark(p, SEEN_SUSPEND);
    return S_OK;
}

SIMPLE_EVENT(cb_RuntimeSuspendFinished, 43, "RuntimeSuspendFinished")
SIMPLE_EVENT(cb_RuntimeSuspendAborted, 44, "RuntimeSuspendAborted")

/* The resume pair has one shape, so its order is what tells the two slots apart. */
static HRESULT resume_event(ICorProfilerCallback3 *iface, unsigned slot, bool starting)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, slot);
    pthread_mutex_lock(&p->lock);
    bool in_order = p->resuming != starting;
    p->resuming = starting;
    pthread_mutex_unlock(&p->lock);
    probe_log("%s", starting ? "RuntimeResumeStarted" : "RuntimeResumeFinished");
    if (!in_order)
        probe_fail(p, "%s out of order",
                   starting ? "RuntimeResumeStarted" : "RuntimeResumeFinished");
    return S_OK;
}

HRESULT cb_RuntimeResumeStarted(ICorProfilerCallback3 *iface)
{
    return resume_event(iface, 45, true);
}

HRESULT cb_RuntimeResumeFinished(ICorProfilerCallback3 *iface)
{
    return resume_event(iface, 46, false);
}

/* A thread is resumed only after it was suspended: the order tells the two slots of
 * the same shape apart. */
static HRESULT thread_suspension(ICorProfilerCallback3 *iface, unsigned slot, ThreadID tid,
                                 bool suspending)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, slot);
    pthread_mutex_lock(&p->lock);
    size_t at = p->suspended_count;
    for (size_t i = 0; i < p->suspended_count; i++)
        if (p->suspended[i] == tid)
            at = i;
    bool was = at < p->suspended_count;
    if (suspending && !was && p->suspended_count < sizeof p->suspended / sizeof p->suspended[0])
        p->suspended[p->suspended_count++] = tid;
    else if (!suspending && was)
        p->suspended[at] = p->suspended[--p->suspended_count];
    pthread_mutex_unlock(&p->lock);
    const char *what = suspending ? "RuntimeThreadSuspended" : "RuntimeThreadResumed";
    probe_log("%s thread=0x%lx", what, (unsigned long)tid);
    if (was == suspending)
        probe_fail(p, "%s(0x%lx) while it was %s", what, (unsigned long)tid,
                   was ? "suspended" : "not suspended");
    return S_OK;
}

HRESULT cb_RuntimeThreadSuspended(ICorProfilerCallback3 *iface, ThreadID tid)
{
    return thread_suspension(iface, 47, tid, true);
}

HRESULT cb_RuntimeThreadResumed(ICorProfilerCallback3 *iface, ThreadID tid)
{
    return thread_suspension(iface, 48, tid, false);
}
