/* noruntime.c: ICorProfilerInfo methods about runtime state the host never has (objects,
 * static storage, slow-path hooks) whose CoreCLR answer depends on the arguments
 * or the profiler, so one HRESULT from info_unsupported.def would not do: each answers
 * what CoreCLR answers when that state is absent (a class never initialized, no object
 * frozen), observed by the ABI probe (tests/runtime/abi_unsupported.c). */
#include "info_private.h"
#include "md_private.h"

/* The slow-path hooks need one of these in the event mask (CoreCLR's
 * CORProfilerELT3SlowPathEnabled). */
#define ELT3_SLOW_PATH_FLAGS                                                                  \
    (COR_PRF_ENABLE_FUNCTION_ARGS | COR_PRF_ENABLE_FUNCTION_RETVAL | COR_PRF_ENABLE_FRAME_INFO)
#define THREAD_STATIC_ATTRIBUTE "System.ThreadStaticAttribute"

/* No object exists, none is frozen (CoreCLR answers S_OK and FALSE for ObjectID 0). */
HRESULT ilg__info_IsFrozenObject(ICorProfilerInfo15 *This, ObjectID objectId, BOOL *pbFrozen)
{
    INFO_ENTRY(This, "IsFrozenObject", SYNC);
    (void)objectId;
    if (!pbFrozen)
        return E_INVALIDARG;
    *pbFrozen = FALSE;
    return S_OK;
}

/* What kind of static field token of cls's module is: CoreCLR looks the field up in the
 * class's module, whichever type declares it (observed: Program with Box<T>.Value
 * answers S_OK, not a static). False for a token of no Field row. */
static bool field_kind(ilg_host *h, ClassID cls, mdFieldDef field, COR_PRF_STATIC_TYPE *kind)
{
    host_class *c = ilg__host_class_def(h, cls);
    if (!c)
        return false;
    MD_READ_LOCKED(&c->module->importer);
    if (!ilg__md_row_ok(c->module->md, field, ILG_TBL_Field))
        return false;
    uint32_t flags = ilg__md_cell(c->module->md, ILG_TBL_Field, RidFromToken(field),
                                  ILG_MDC_Field_Flags);
    if (!(flags & ILG_FIELDATTR_STATIC))
        *kind = COR_PRF_FIELD_NOT_A_STATIC;
    else if (flags & ILG_FIELDATTR_HASFIELDRVA)
        *kind = COR_PRF_FIELD_RVA_STATIC;
    else if (ilg__md_attribute_row(&c->module->importer, field, THREAD_STATIC_ATTRIBUTE))
        *kind = COR_PRF_FIELD_THREAD_STATIC;
    else
        *kind = COR_PRF_FIELD_APP_DOMAIN_STATIC;
    return true;
}

HRESULT ilg__info_GetStaticFieldInfo(ICorProfilerInfo15 *This, ClassID classId,
                                     mdFieldDef fieldToken, COR_PRF_STATIC_TYPE *pFieldInfo)
{
    INFO_ENTRY(This, "GetStaticFieldInfo", SYNC);
    COR_PRF_STATIC_TYPE kind;
    if (!pFieldInfo || !field_kind(INFO_HOST(This), classId, fieldToken, &kind))
        return E_INVALIDARG;
    *pFieldInfo = kind;
    return S_OK;
}

/* A static's address: E_INVALIDARG unless the field is a static of the kind asked for;
 * then CORPROF_E_DATAINCOMPLETE, CoreCLR's answer before the class is initialized (no
 * class ever is here: no static storage exists). */
static HRESULT static_address(ICorProfilerInfo15 *This, ClassID cls, mdFieldDef field,
                              COR_PRF_STATIC_TYPE want, void **ppAddress)
{
    COR_PRF_STATIC_TYPE kind;
    if (!ppAddress || !field_kind(INFO_HOST(This), cls, field, &kind) || kind != want)
        return E_INVALIDARG;
    return CORPROF_E_DATAINCOMPLETE;
}

HRESULT ilg__info_GetRVAStaticAddress(ICorProfilerInfo15 *This, ClassID classId,
                                      mdFieldDef fieldToken, void **ppAddress)
{
    INFO_ENTRY(This, "GetRVAStaticAddress", SYNC);
    return static_address(This, classId, fieldToken, COR_PRF_FIELD_RVA_STATIC, ppAddress);
}

HRESULT ilg__info_GetAppDomainStaticAddress(ICorProfilerInfo15 *This, ClassID classId,
                                            mdFieldDef fieldToken, AppDomainID appDomainId,
                                            void **ppAddress)
{
    INFO_ENTRY(This, "GetAppDomainStaticAddress", SYNC);
    (void)appDomainId;
    return static_address(This, classId, fieldToken, COR_PRF_FIELD_APP_DOMAIN_STATIC, ppAddress);
}

HRESULT ilg__info_GetThreadStaticAddress(ICorProfilerInfo15 *This, ClassID classId,
                                         mdFieldDef fieldToken, ThreadID threadId,
                                         void **ppAddress)
{
    INFO_ENTRY(This, "GetThreadStaticAddress", SYNC);
    (void)threadId;
    return static_address(This, classId, fieldToken, COR_PRF_FIELD_THREAD_STATIC, ppAddress);
}

HRESULT ilg__info_GetThreadStaticAddress2(ICorProfilerInfo15 *This, ClassID classId,
                                          mdFieldDef fieldToken, AppDomainID appDomainId,
                                          ThreadID threadId, void **ppAddress)
{
    INFO_ENTRY(This, "GetThreadStaticAddress2", SYNC);
    (void)appDomainId;
    (void)threadId;
    return static_address(This, classId, fieldToken, COR_PRF_FIELD_THREAD_STATIC, ppAddress);
}

/* A boxed value type's data follows the object's method table pointer (observed: 8 for
 * Int32 and a struct instantiation); a class has no boxed form. */
HRESULT ilg__info_GetBoxClassLayout(ICorProfilerInfo15 *This, ClassID classId,
                                    ULONG32 *pBufferOffset)
{
    INFO_ENTRY(This, "GetBoxClassLayout", SYNC);
    host_class *c = ilg__host_class_def(INFO_HOST(This), classId);
    if (!c || !pBufferOffset || !ilg__host_class_is_value_type(c))
        return E_INVALIDARG;
    *pBufferOffset = (ULONG32)sizeof(void *);
    return S_OK;
}

/* INIT_ONLY; then all three hooks NULL is E_INVALIDARG before the flags are looked at
 * (observed: the probe's NULL hooks in Initialize, abi_rules.c, answer E_INVALIDARG without
 * the flags); then accepted when the event mask asks for arguments, return values or
 * frames (the hooks are kept and never called: no managed code runs), else
 * CORPROF_E_INCONSISTENT_WITH_FLAGS (observed, abi_unsupported.c). */
HRESULT ilg__info_SetEnterLeaveFunctionHooks3WithInfo(
    ICorProfilerInfo15 *This, FunctionEnter3WithInfo *pFuncEnter3WithInfo,
    FunctionLeave3WithInfo *pFuncLeave3WithInfo, FunctionTailcall3WithInfo *pFuncTailcall3WithInfo)
{
    INFO_ENTRY(This, "SetEnterLeaveFunctionHooks3WithInfo", INIT_ONLY);
    if (!pFuncEnter3WithInfo && !pFuncLeave3WithInfo && !pFuncTailcall3WithInfo)
        return E_INVALIDARG;
    if (!(atomic_load(&INFO_HOST(This)->event_mask) & ELT3_SLOW_PATH_FLAGS))
        return CORPROF_E_INCONSISTENT_WITH_FLAGS;
    return S_OK;
}

/* No thread of the host ever has a managed frame: the walk calls back for none, S_OK
 * (CoreCLR's answer for a thread whose stack holds no managed code yet, observed at
 * JITCompilationStarted of Main). */
HRESULT ilg__info_DoStackSnapshot(ICorProfilerInfo15 *This, ThreadID thread,
                                  StackSnapshotCallback *callback, ULONG32 infoFlags,
                                  void *clientData, BYTE context[], ULONG32 contextSize)
{
    INFO_ENTRY(This, "DoStackSnapshot", ASYNC);
    (void)thread;
    (void)infoFlags;
    (void)clientData;
    (void)context;
    (void)contextSize;
    return callback ? S_OK : E_INVALIDARG;
}
