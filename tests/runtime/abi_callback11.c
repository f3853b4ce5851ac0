/* abi_callback11.c: the ABI probe as an ICorProfilerCallback11 profiler
 * (ILG_ABI_PROBE_MAX_CALLBACK=4..11): its Callback3 vtable extended with the fifteen
 * slots of versions 4 to 11, each answering S_OK, and LoadAsNotificationOnly, which logs
 * that it was asked and answers ILG_ABI_PROBE_NOTIFICATION_ONLY ("1": TRUE). Slots 0..82
 * are the Callback3 vtable's, so one object answers every version. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "abi_conform.h"

static ICorProfilerCallback11Vtbl extended;
static const ICorProfilerCallback3Vtbl *extended_base;
static pthread_once_t extended_once = PTHREAD_ONCE_INIT;

#define UNUSED(x) (void)(x)

static HRESULT rejit_started(ICorProfilerCallback11 *This, FunctionID f, ReJITID r, BOOL safe)
{
    UNUSED(This), UNUSED(f), UNUSED(r), UNUSED(safe);
    return S_OK;
}
static HRESULT rejit_parameters(ICorProfilerCallback11 *This, ModuleID m, mdMethodDef t,
                                ICorProfilerFunctionControl *c)
{
    UNUSED(This), UNUSED(m), UNUSED(t), UNUSED(c);
    return S_OK;
}
static HRESULT rejit_finished(ICorProfilerCallback11 *This, FunctionID f, ReJITID r, HRESULT hr,
                              BOOL safe)
{
    UNUSED(This), UNUSED(f), UNUSED(r), UNUSED(hr), UNUSED(safe);
    return S_OK;
}
static HRESULT rejit_error(ICorProfilerCallback11 *This, ModuleID m, mdMethodDef t, FunctionID f,
                           HRESULT hr)
{
    UNUSED(This), UNUSED(m), UNUSED(t), UNUSED(f), UNUSED(hr);
    return S_OK;
}
static HRESULT moved2(ICorProfilerCallback11 *This, ULONG n, ObjectID o[], ObjectID nw[],
                      SIZE_T len[])
{
    UNUSED(This), UNUSED(n), UNUSED(o), UNUSED(nw), UNUSED(len);
    return S_OK;
}
static HRESULT surviving2(ICorProfilerCallback11 *This, ULONG n, ObjectID o[], SIZE_T len[])
{
    UNUSED(This), UNUSED(n), UNUSED(o), UNUSED(len);
    return S_OK;
}
static HRESULT cwt_references(ICorProfilerCallback11 *This, ULONG n, ObjectID k[], ObjectID v[],
                              GCHandleID r[])
{
    UNUSED(This), UNUSED(n), UNUSED(k), UNUSED(v), UNUSED(r);
    return S_OK;
}
static HRESULT assembly_references(ICorProfilerCallback11 *This, const WCHAR *path,
                                   ICorProfilerAssemblyReferenceProvider *p)
{
    UNUSED(This), UNUSED(path), UNUSED(p);
    return S_OK;
}
static HRESULT symbols_updated(ICorProfilerCallback11 *This, ModuleID m)
{
    UNUSED(This), UNUSED(m);
    return S_OK;
}
static HRESULT dynamic_started(ICorProfilerCallback11 *This, FunctionID f, BOOL safe,
                               LPCBYTE header, ULONG size)
{
    UNUSED(This), UNUSED(f), UNUSED(safe), UNUSED(header), UNUSED(size);
    return S_OK;
}
static HRESULT dynamic_finished(ICorProfilerCallback11 *This, FunctionID f, HRESULT hr, BOOL safe)
{
    UNUSED(This), UNUSED(f), UNUSED(hr), UNUSED(safe);
    return S_OK;
}
static HRESULT dynamic_unloaded(ICorProfilerCallback11 *This, FunctionID f)
{
    UNUSED(This), UNUSED(f);
    return S_OK;
}
static HRESULT eventpipe_event(ICorProfilerCallback11 *This, EVENTPIPE_PROVIDER provider,
                               DWORD id, DWORD version, ULONG cbm, LPCBYTE meta, ULONG cbd,
                               LPCBYTE data, LPCGUID activity, LPCGUID related, ThreadID thread,
                               ULONG nframes, UINT_PTR frames[])
{
    UNUSED(This), UNUSED(provider), UNUSED(id), UNUSED(version), UNUSED(cbm), UNUSED(meta);
    UNUSED(cbd), UNUSED(data), UNUSED(activity), UNUSED(related), UNUSED(thread);
    UNUSED(nframes), UNUSED(frames);
    return S_OK;
}
static HRESULT eventpipe_provider(ICorProfilerCallback11 *This, EVENTPIPE_PROVIDER provider)
{
    UNUSED(This), UNUSED(provider);
    return S_OK;
}

static HRESULT load_as_notification_only(ICorProfilerCallback11 *This, BOOL *pbNotificationOnly)
{
    UNUSED(This);
    const char *v = getenv("ILG_ABI_PROBE_NOTIFICATION_ONLY");
    BOOL answer = v && strcmp(v, "1") == 0;
    probe_log("LoadAsNotificationOnly answer=%d", (int)answer);
    if (!pbNotificationOnly)
        return E_POINTER;
    *pbNotificationOnly = answer;
    return S_OK;
}

static void build(void)
{
    /* The first 83 slots are Callback3's, the same functions in the same places. */
    memcpy(&extended, extended_base, sizeof *extended_base);
    extended.ReJITCompilationStarted = rejit_started;
    extended.GetReJITParameters = rejit_parameters;
    extended.ReJITCompilationFinished = rejit_finished;
    extended.ReJITError = rejit_error;
    extended.MovedReferences2 = moved2;
    extended.SurvivingReferences2 = surviving2;
    extended.ConditionalWeakTableElementReferences = cwt_references;
    extended.GetAssemblyReferences = assembly_references;
    extended.ModuleInMemorySymbolsUpdated = symbols_updated;
    extended.DynamicMethodJITCompilationStarted = dynamic_started;
    extended.DynamicMethodJITCompilationFinished = dynamic_finished;
    extended.DynamicMethodUnloaded = dynamic_unloaded;
    extended.EventPipeEventDelivered = eventpipe_event;
    extended.EventPipeProviderCreated = eventpipe_provider;
    extended.LoadAsNotificationOnly = load_as_notification_only;
}

const ICorProfilerCallback3Vtbl *probe_vtbl_through_11(const ICorProfilerCallback3Vtbl *base)
{
    extended_base = base;
    pthread_once(&extended_once, build);
    return (const ICorProfilerCallback3Vtbl *)(const void *)&extended;
}
