/* abi_gc.c: the garbage collection callbacks (roots, references, handles,
 * finalization). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_probe.h"

HRESULT cb_MovedReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID old_start[],
                                  ObjectID new_start[], ULONG lengths[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 49);
    if (n && (!old_start || !new_start || !lengths))
        probe_fail(p, "MovedReferences(%u) with NULL arrays", (unsigned)n);
    pthread_mutex_lock(&p->lock);
    p->gc_moved += n;
    pthread_mutex_unlock(&p->lock);
    return S_OK;
}

HRESULT cb_ObjectAllocated(ICorProfilerCallback3 *iface, ObjectID obj, ClassID cls)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 50);
    probe_log("ObjectAllocated object=0x%lx class=0x%lx", (unsigned long)obj, (unsigned long)cls);
    return S_OK;
}

HRESULT cb_ObjectsAllocatedByClass(ICorProfilerCallback3 *iface, ULONG n, ClassID classes[],
                                          ULONG counts[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 51);
    probe_log("ObjectsAllocatedByClass classes=%u", (unsigned)n);
    if (n && (!classes || !counts))
        probe_fail(p, "ObjectsAllocatedByClass(%u) with NULL arrays", (unsigned)n);
    return S_OK;
}

HRESULT cb_ObjectReferences(ICorProfilerCallback3 *iface, ObjectID obj, ClassID cls,
                                   ULONG n, ObjectID refs[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 52);
    if (!obj || !cls || (n && !refs))
        probe_fail(p, "ObjectReferences(0x%lx, 0x%lx, %u, %p)", (unsigned long)obj,
                   (unsigned long)cls, (unsigned)n, (void *)refs);
    pthread_mutex_lock(&p->lock);
    p->gc_objects++;
    pthread_mutex_unlock(&p->lock);
    return S_OK;
}

HRESULT cb_RootReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID refs[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 53);
    if (n && !refs)
        probe_fail(p, "RootReferences(%u, NULL)", (unsigned)n);
    return S_OK;
}

HRESULT cb_GarbageCollectionStarted(ICorProfilerCallback3 *iface, int ngen, BOOL collected[],
                                           COR_PRF_GC_REASON reason)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    char gens[64] = "";
    probe_count(p, 73);
    if (ngen < 1 || ngen > 8 || !collected) {
        probe_fail(p, "GarbageCollectionStarted(%d, %p, %d)", ngen, (void *)collected, (int)reason);
        return S_OK;
    }
    for (int g = 0; g < ngen; g++)
        gens[g] = collected[g] ? '1' : '0';
    gens[ngen] = 0;
    COR_PRF_GC_GENERATION_RANGE ranges[64];
    ULONG nranges = 0;
    HRESULT hr = info->lpVtbl->GetGenerationBounds(info, 64, &nranges, ranges);
    probe_expect_hr(p, "GetGenerationBounds", hr, S_OK);
    bool sane = nranges > 0;
    for (ULONG i = 0; i < nranges && i < 64; i++)
        sane &= (unsigned)ranges[i].generation <= COR_PRF_GC_PINNED_OBJECT_HEAP &&
                ranges[i].rangeStart != 0 && ranges[i].rangeLength <= ranges[i].rangeLengthReserved;
    probe_log("GarbageCollectionStarted generations=%d collected=%s reason=%d bounds=%u", ngen,
              gens, (int)reason, (unsigned)nranges);
    if (!sane)
        probe_fail(p, "GetGenerationBounds: %u implausible ranges", (unsigned)nranges);
    if (reason != COR_PRF_GC_OTHER && reason != COR_PRF_GC_INDUCED)
        probe_fail(p, "GarbageCollectionStarted: reason %d", (int)reason);
    pthread_mutex_lock(&p->lock);
    p->gc_started++;
    pthread_mutex_unlock(&p->lock);
    if (reason == COR_PRF_GC_INDUCED && collected[0])
        probe_mark(p, SEEN_INDUCED_GC);
    return S_OK;
}

HRESULT cb_SurvivingReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID starts[],
                                      ULONG lengths[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 74);
    if (n && (!starts || !lengths))
        probe_fail(p, "SurvivingReferences(%u) with NULL arrays", (unsigned)n);
    pthread_mutex_lock(&p->lock);
    p->gc_surviving += n;
    pthread_mutex_unlock(&p->lock);
    return S_OK;
}

HRESULT cb_GarbageCollectionFinished(ICorProfilerCallback3 *iface)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 75);
    pthread_mutex_lock(&p->lock);
    p->gc_finished++;
    bool paired = p->gc_finished <= p->gc_started;
    pthread_mutex_unlock(&p->lock);
    probe_log("GarbageCollectionFinished");
    if (!paired)
        probe_fail(p, "GarbageCollectionFinished without GarbageCollectionStarted");
    else
        probe_mark(p, SEEN_GC_FINISHED);
    return S_OK;
}

HRESULT cb_FinalizeableObjectQueued(ICorProfilerCallback3 *iface, DWORD flags, ObjectID obj)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    char type[NAME_CAP];
    probe_count(p, 76);
    object_type(p, obj, NULL, type, sizeof type);
    probe_log("FinalizeableObjectQueued flags=0x%X object=0x%lx type=%s", (unsigned)flags,
              (unsigned long)obj, type);
    if (flags & ~(DWORD)COR_PRF_FINALIZER_CRITICAL)
        probe_fail(p, "FinalizeableObjectQueued: flags 0x%X", (unsigned)flags);
    if (strcmp(type, "Hello.Finalizable") == 0)
        probe_mark(p, SEEN_FINALIZABLE_QUEUED);
    return S_OK;
}

HRESULT cb_RootReferences2(ICorProfilerCallback3 *iface, ULONG n, ObjectID refs[],
                                  COR_PRF_GC_ROOT_KIND kinds[], COR_PRF_GC_ROOT_FLAGS flags[],
                                  UINT_PTR ids[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 77);
    if (n && (!refs || !kinds || !flags || !ids)) {
        probe_fail(p, "RootReferences2(%u) with NULL arrays", (unsigned)n);
        return S_OK;
    }
    for (ULONG i = 0; i < n; i++)
        if ((unsigned)kinds[i] > COR_PRF_GC_ROOT_HANDLE || (unsigned)flags[i] > 0xF) {
            probe_fail(p, "RootReferences2: root %u has kind %d flags 0x%X", (unsigned)i,
                       (int)kinds[i], (unsigned)flags[i]);
            return S_OK;
        }
    pthread_mutex_lock(&p->lock);
    p->gc_roots += n;
    pthread_mutex_unlock(&p->lock);
    if (n)
        probe_mark(p, SEEN_ROOTS);
    return S_OK;
}

HRESULT cb_HandleCreated(ICorProfilerCallback3 *iface, GCHandleID handle, ObjectID obj)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 78);
    probe_log("HandleCreated handle=0x%lx object=0x%lx", (unsigned long)handle, (unsigned long)obj);
    if (!handle)
        probe_fail(p, "HandleCreated with a zero handle");
    pthread_mutex_lock(&p->lock);
    if (p->handle_count < sizeof p->handles / sizeof p->handles[0])
        p->handles[p->handle_count++] = handle;
    pthread_mutex_unlock(&p->lock);
    return S_OK;
}

HRESULT cb_HandleDestroyed(ICorProfilerCallback3 *iface, GCHandleID handle)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    bool known = false;
    probe_count(p, 79);
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->handle_count && !known; i++)
        known = p->handles[i] == handle;
    pthread_mutex_unlock(&p->lock);
    probe_log("HandleDestroyed handle=0x%lx created_here=%d", (unsigned long)handle, known);
    if (known)
        probe_mark(p, SEEN_HANDLE_DESTROYED);
    return S_OK;
}
