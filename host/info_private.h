/* info_private.h: what the files of the host's ICorProfilerInfo share (info.c, env.c,
 * classes.c): the object's impl_from, the entry macros with CoreCLR's call rules, and the
 * methods implemented outside info.c, which its vtable names. */
#ifndef ILG_HOST_INFO_PRIVATE_H
#define ILG_HOST_INFO_PRIVATE_H

#include "host_private.h"

static inline ilg_host *impl_from_ICorProfilerInfo15(ICorProfilerInfo15 *iface)
{
    return (ilg_host *)((char *)iface - offsetof(ilg_host, ICorProfilerInfo15_iface));
}

/* Every method's first statement (host_private.h, "Entry into the host"), with the rule
 * CoreCLR's ProfToEEInterfaceImpl applies to the method (its PROFILER_TO_CLR_ENTRYPOINT_*
 * macro and flags; IUnknown's methods have none). */
#define INFO_HOST(This) impl_from_ICorProfilerInfo15(This)
#define INFO_ENTRY(This, method, rule)                                                      \
    HOST_ENTRY(INFO_HOST(This), "ICorProfilerInfo", method, INFO_##rule)
#define INFO_ENTRY_NORESULT(This, method, rule)                                             \
    HOST_ENTRY_NORESULT(INFO_HOST(This), "ICorProfilerInfo", method, INFO_##rule)
/* The rules of info_rules.def (which says what each means); gen_stubs.py checks that an
 * implemented method's INFO_ENTRY names the rule the list gives it. */
#define INFO_NO_RULE HOST_CALL_ANY
#define INFO_UNVERIFIED HOST_CALL_ANY
#define INFO_ASYNC (HOST_CALL_ASYNC | HOST_CALL_AFTER_ATTACH)
#define INFO_ASYNC_TRIGGERS (HOST_CALL_ASYNC | HOST_CALL_AFTER_ATTACH | HOST_CALL_TRIGGERS)
#define INFO_ASYNC_STARTUP HOST_CALL_ASYNC
#define INFO_SYNC (HOST_CALL_SYNC | HOST_CALL_AFTER_ATTACH)
#define INFO_SYNC_TRIGGERS (HOST_CALL_SYNC | HOST_CALL_AFTER_ATTACH | HOST_CALL_TRIGGERS)
#define INFO_SYNC_STARTUP HOST_CALL_SYNC
#define INFO_SYNC_TRIGGERS_STARTUP (HOST_CALL_SYNC | HOST_CALL_TRIGGERS)
#define INFO_INIT_ONLY HOST_CALL_INIT_ONLY
#define INFO_FORCEGC (HOST_CALL_FORCEGC | HOST_CALL_AFTER_ATTACH | HOST_CALL_TRIGGERS)

/* Whether id is the address of one of count records of size size from first. */
static inline bool ilg__host_is_record(UINT_PTR id, const void *first, uint32_t count, size_t size)
{
    UINT_PTR from = (UINT_PTR)first;
    return count && id >= from && id < from + (UINT_PTR)count * size && (id - from) % size == 0;
}

/* Whether id is the address of one of the first n records of a module's added chunks
 * (host_module.added or added_classes, records of size bytes; chunk(m, c) loads
 * chunk c). */
bool ilg__host_in_added(UINT_PTR id, const host_module *m, uint32_t n, size_t size,
                        const void *(*chunk)(const host_module *m, uint32_t c));

HRESULT ilg__info_GetEnvironmentVariable(ICorProfilerInfo15 *This, const WCHAR *szName,
                                         ULONG cchValue, ULONG *pcchValue, WCHAR szValue[]);
HRESULT ilg__info_SetEnvironmentVariable(ICorProfilerInfo15 *This, const WCHAR *szName,
                                         const WCHAR *szValue);
HRESULT ilg__info_GetClassFromToken(ICorProfilerInfo15 *This, ModuleID moduleId,
                                    mdTypeDef typeDef, ClassID *pClassId);
HRESULT ilg__info_GetClassIDInfo(ICorProfilerInfo15 *This, ClassID classId, ModuleID *pModuleId,
                                 mdTypeDef *pTypeDefToken);
HRESULT ilg__info_GetClassIDInfo2(ICorProfilerInfo15 *This, ClassID classId,
                                  ModuleID *pModuleId, mdTypeDef *pTypeDefToken,
                                  ClassID *pParentClassId, ULONG32 cNumTypeArgs,
                                  ULONG32 *pcNumTypeArgs, ClassID typeArgs[]);
HRESULT ilg__info_IsArrayClass(ICorProfilerInfo15 *This, ClassID classId,
                               CorElementType *pBaseElemType, ClassID *pBaseClassId,
                               ULONG *pcRank);
HRESULT ilg__info_GetClassFromTokenAndTypeArgs(ICorProfilerInfo15 *This, ModuleID moduleID,
                                               mdTypeDef typeDef, ULONG32 cTypeArgs,
                                               ClassID typeArgs[], ClassID *pClassID);
HRESULT ilg__info_GetFunctionInfo(ICorProfilerInfo15 *This, FunctionID functionId,
                                  ClassID *pClassId, ModuleID *pModuleId, mdToken *pToken);
HRESULT ilg__info_GetFunctionInfo2(ICorProfilerInfo15 *This, FunctionID funcId,
                                   COR_PRF_FRAME_INFO frameInfo, ClassID *pClassId,
                                   ModuleID *pModuleId, mdToken *pToken, ULONG32 cTypeArgs,
                                   ULONG32 *pcTypeArgs, ClassID typeArgs[]);
HRESULT ilg__info_GetFunctionFromTokenAndTypeArgs(ICorProfilerInfo15 *This, ModuleID moduleID,
                                                  mdMethodDef funcDef, ClassID classId,
                                                  ULONG32 cTypeArgs, ClassID typeArgs[],
                                                  FunctionID *pFunctionID);
/* The IL-body methods (infobody.c). */
HRESULT ilg__info_GetILFunctionBody(ICorProfilerInfo15 *This, ModuleID moduleId,
                                    mdMethodDef methodId, LPCBYTE *ppMethodHeader,
                                    ULONG *pcbMethodSize);
HRESULT ilg__info_GetILFunctionBodyAllocator(ICorProfilerInfo15 *This, ModuleID moduleId,
                                             IMethodMalloc **ppMalloc);
HRESULT ilg__info_SetILFunctionBody(ICorProfilerInfo15 *This, ModuleID moduleId,
                                    mdMethodDef methodid, LPCBYTE pbNewILMethodHeader);
/* meth's name, made once under the module's metadata lock (the caller holds the
 * method's lock); "?" without memory. Owned by the method record. */
const char *ilg__host_method_name_locked(host_method *meth);
/* The method of a FunctionID classes.c made for an instantiation, NULL for another ID. */
host_method *ilg__host_generic_method(ilg_host *h, UINT_PTR id);
void ilg__host_generics_free(ilg_host *h);
/* Whether meth's type is generic or meth has type parameters of its own: CoreCLR gives
 * such a method a FunctionID per instantiation, none for its token. */
bool ilg__host_method_parameterized(const host_method *meth);
/* The TypeDef record a ClassID the host handed out names (an instantiation's generic
 * TypeDef), NULL for any other value. */
host_class *ilg__host_class_def(ilg_host *h, ClassID id);
bool ilg__host_class_is_value_type(const host_class *c);
/* noruntime.c */
HRESULT ilg__info_IsFrozenObject(ICorProfilerInfo15 *This, ObjectID objectId, BOOL *pbFrozen);
HRESULT ilg__info_GetStaticFieldInfo(ICorProfilerInfo15 *This, ClassID classId,
                                     mdFieldDef fieldToken, COR_PRF_STATIC_TYPE *pFieldInfo);
HRESULT ilg__info_GetRVAStaticAddress(ICorProfilerInfo15 *This, ClassID classId,
                                      mdFieldDef fieldToken, void **ppAddress);
HRESULT ilg__info_GetAppDomainStaticAddress(ICorProfilerInfo15 *This, ClassID classId,
                                            mdFieldDef fieldToken, AppDomainID appDomainId,
                                            void **ppAddress);
HRESULT ilg__info_GetThreadStaticAddress(ICorProfilerInfo15 *This, ClassID classId,
                                         mdFieldDef fieldToken, ThreadID threadId,
                                         void **ppAddress);
HRESULT ilg__info_GetThreadStaticAddress2(ICorProfilerInfo15 *This, ClassID classId,
                                          mdFieldDef fieldToken, AppDomainID appDomainId,
                                          ThreadID threadId, void **ppAddress);
HRESULT ilg__info_GetBoxClassLayout(ICorProfilerInfo15 *This, ClassID classId,
                                    ULONG32 *pBufferOffset);
HRESULT ilg__info_RequestReJIT(ICorProfilerInfo15 *This, ULONG cFunctions, ModuleID moduleIds[],
                               mdMethodDef methodIds[]);
HRESULT ilg__info_RequestRevert(ICorProfilerInfo15 *This, ULONG cFunctions, ModuleID moduleIds[],
                                mdMethodDef methodIds[], HRESULT status[]);
HRESULT ilg__info_RequestReJITWithInliners(ICorProfilerInfo15 *This, DWORD dwRejitFlags,
                                           ULONG cFunctions, ModuleID moduleIds[],
                                           mdMethodDef methodIds[]);
HRESULT ilg__info_SetEnterLeaveFunctionHooks3WithInfo(
    ICorProfilerInfo15 *This, FunctionEnter3WithInfo *pFuncEnter3WithInfo,
    FunctionLeave3WithInfo *pFuncLeave3WithInfo, FunctionTailcall3WithInfo *pFuncTailcall3WithInfo);
HRESULT ilg__info_DoStackSnapshot(ICorProfilerInfo15 *This, ThreadID thread,
                                  StackSnapshotCallback *callback, ULONG32 infoFlags,
                                  void *clientData, BYTE context[], ULONG32 contextSize);
void ilg__host_env_free(ilg_host *host);

#endif
