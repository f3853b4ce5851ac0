/* abi_exceptions.c: the exception callbacks, COM classic vtables, attach and detach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_probe.h"

HRESULT cb_ExceptionThrown(ICorProfilerCallback3 *iface, ObjectID obj)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    char type[NAME_CAP];
    ClassID cls = 0;
    probe_count(p, 54);
    if (!object_type(p, obj, &cls, type, sizeof type))
        return S_OK;
    ULONG size = 0;
    HRESULT hr = info->lpVtbl->GetObjectSize(info, obj, &size);
    probe_expect_hr(p, "GetObjectSize", hr, S_OK);
    CorElementType elem = 0;
    ClassID elem_cls = 0;
    ULONG rank = 0;
    HRESULT arr = info->lpVtbl->IsArrayClass(info, cls, &elem, &elem_cls, &rank);
    probe_expect_hr(p, "IsArrayClass(exception class)", arr, S_FALSE);
    COR_PRF_GC_GENERATION_RANGE range;
    memset(&range, 0xFF, sizeof range);
    hr = info->lpVtbl->GetObjectGeneration(info, obj, &range);
    probe_log(
        "ExceptionThrown object=0x%lx class=0x%lx size=%u generation=%d gen_hr=0x%08X type=%s",
        (unsigned long)obj, (unsigned long)cls, (unsigned)size, (int)range.generation, (unsigned)hr,
        type);
    if (hr == S_OK &&
        (obj < range.rangeStart || obj >= range.rangeStart + range.rangeLengthReserved))
        probe_fail(p, "GetObjectGeneration: object 0x%lx outside 0x%lx+0x%lx", (unsigned long)obj,
                   (unsigned long)range.rangeStart, (unsigned long)range.rangeLengthReserved);
    if (size < 2 * sizeof(void *))
        probe_fail(p, "GetObjectSize: %u bytes", (unsigned)size);
    if (strcmp(type, "System.FormatException") == 0)
        probe_mark(p, SEEN_FORMAT_EXCEPTION);
    return S_OK;
}

/* Logs an exception event naming the function; true when it is SafeParse. */
static bool exception_at(probe *p, unsigned slot, const char *what, FunctionID fid)
{
    method_desc d;
    probe_count(p, slot);
    if (!describe_function(p, fid, &d))
        return false;
    probe_log("%s fid=0x%lx method=%s", what, (unsigned long)fid, d.full);
    return is_hello(&d, "Hello.Program::SafeParse");
}

HRESULT cb_ExceptionSearchFunctionEnter(ICorProfilerCallback3 *iface, FunctionID fid)
{
    exception_at(impl_from_ICorProfilerCallback3(iface), 55, "ExceptionSearchFunctionEnter", fid);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionSearchFunctionLeave, 56, "ExceptionSearchFunctionLeave")

HRESULT cb_ExceptionSearchFilterEnter(ICorProfilerCallback3 *iface, FunctionID fid)
{
    exception_at(impl_from_ICorProfilerCallback3(iface), 57, "ExceptionSearchFilterEnter", fid);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionSearchFilterLeave, 58, "ExceptionSearchFilterLeave")

HRESULT cb_ExceptionSearchCatcherFound(ICorProfilerCallback3 *iface, FunctionID fid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    if (exception_at(p, 59, "ExceptionSearchCatcherFound", fid))
        probe_mark(p, SEEN_CATCHER_FOUND);
    return S_OK;
}

HRESULT cb_ExceptionOSHandlerEnter(ICorProfilerCallback3 *iface, UINT_PTR unused)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 60);
    probe_log("ExceptionOSHandlerEnter");
    return S_OK;
}

HRESULT cb_ExceptionOSHandlerLeave(ICorProfilerCallback3 *iface, UINT_PTR unused)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 61);
    probe_log("ExceptionOSHandlerLeave");
    return S_OK;
}

HRESULT cb_ExceptionUnwindFunctionEnter(ICorProfilerCallback3 *iface, FunctionID fid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    if (exception_at(p, 62, "ExceptionUnwindFunctionEnter", fid))
        probe_mark(p, SEEN_UNWIND_SAFEPARSE);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionUnwindFunctionLeave, 63, "ExceptionUnwindFunctionLeave")

HRESULT cb_ExceptionUnwindFinallyEnter(ICorProfilerCallback3 *iface, FunctionID fid)
{
    exception_at(impl_from_ICorProfilerCallback3(iface), 64, "ExceptionUnwindFinallyEnter", fid);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionUnwindFinallyLeave, 65, "ExceptionUnwindFinallyLeave")

HRESULT cb_ExceptionCatcherEnter(ICorProfilerCallback3 *iface, FunctionID fid, ObjectID obj)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    if (!exception_at(p, 66, "ExceptionCatcherEnter", fid))
        return S_OK;
    char type[NAME_CAP];
    object_type(p, obj, NULL, type, sizeof type);
    COR_PRF_EX_CLAUSE_INFO clause;
    memset(&clause, 0, sizeof clause);
    HRESULT hr = info->lpVtbl->GetNotifiedExceptionClauseInfo(info, &clause);
    probe_log("ExceptionCatcherEnter object=0x%lx type=%s clause_hr=0x%08X clause_type=%d pc=0x%lx "
              "frame=0x%lx",
              (unsigned long)obj, type, (unsigned)hr, (int)clause.clauseType,
              (unsigned long)clause.programCounter, (unsigned long)clause.framePointer);
    if (strcmp(type, "System.FormatException") != 0)
        probe_fail(p, "ExceptionCatcherEnter(SafeParse) with a %s", type);
    else if (probe_expect_hr(p, "GetNotifiedExceptionClauseInfo", hr, S_OK) &&
             clause.clauseType == COR_PRF_CLAUSE_CATCH && clause.programCounter)
        probe_mark(p, SEEN_CATCHER_ENTER);
    else
        probe_fail(p, "GetNotifiedExceptionClauseInfo: clause type %d pc 0x%lx",
                   (int)clause.clauseType, (unsigned long)clause.programCounter);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionCatcherLeave, 67, "ExceptionCatcherLeave")

HRESULT cb_COMClassicVTableCreated(ICorProfilerCallback3 *iface, ClassID cls, REFGUID iid,
                                          void *vtable, ULONG slots)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 68);
    probe_log("COMClassicVTableCreated class=0x%lx slots=%u", (unsigned long)cls, (unsigned)slots);
    return S_OK;
}

HRESULT cb_COMClassicVTableDestroyed(ICorProfilerCallback3 *iface, ClassID cls, REFGUID iid,
                                            void *vtable)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 69);
    probe_log("COMClassicVTableDestroyed class=0x%lx", (unsigned long)cls);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionCLRCatcherFound, 70, "ExceptionCLRCatcherFound")
SIMPLE_EVENT(cb_ExceptionCLRCatcherExecute, 71, "ExceptionCLRCatcherExecute")

/* ---- Callback3: attach and detach (a startup profiler never sees these) -------------- */

HRESULT cb_InitializeForAttach(ICorProfilerCallback3 *iface, IUnknown *unk, void *data,
                                      UINT size)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 80);
    probe_fail(p, "InitializeForAttach called for a startup profiler");
    return E_NOTIMPL;
}

SIMPLE_EVENT(cb_ProfilerAttachComplete, 81, "ProfilerAttachComplete")
SIMPLE_EVENT(cb_ProfilerDetachSucceeded, 82, "ProfilerDetachSucceeded")
