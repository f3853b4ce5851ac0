/* classes.c: class emulation for ICorProfilerInfo: a ClassID per non-generic TypeDef
 * (GetClassFromToken, GetClassIDInfo/2, IsArrayClass). */
#include "info_private.h"

/* ---- classes -------------------------------------------------------------------------- */

static host_class *find_class(const ilg_host *h, UINT_PTR id)
{
    for (uint32_t i = 0; i < h->module_count; i++) {
        host_module *m = h->modules[i];
        if (ilg__host_is_record(id, m->classes, m->class_count, sizeof *m->classes))
            return (host_class *)id;
    }
    return NULL;
}

static host_class *module_class(host_module *m, mdToken token)
{
    uint32_t rid = token & 0xFFFFFF;
    if ((token >> 24) != ILG_TBL_TypeDef || !rid || rid > m->class_count)
        return NULL;
    return &m->classes[rid - 1];
}

HRESULT ilg__info_GetClassFromToken(ICorProfilerInfo15 *This, ModuleID moduleId,
                                      mdTypeDef typeDef, ClassID *pClassId)
{
    INFO_ENTRY(This, "GetClassFromToken", SYNC_TRIGGERS);
    host_module *m = ilg__host_find_module(impl_from_ICorProfilerInfo15(This), moduleId);
    host_class *c;
    if (!m || !pClassId || !(c = module_class(m, typeDef)))
        return E_INVALIDARG;
    if (c->generic)
        return CORPROF_E_TYPE_IS_PARAMETERIZED;
    *pClassId = (ClassID)c;
    return S_OK;
}

HRESULT ilg__info_GetClassIDInfo(ICorProfilerInfo15 *This, ClassID classId, ModuleID *pModuleId,
                                   mdTypeDef *pTypeDefToken)
{
    INFO_ENTRY(This, "GetClassIDInfo", ASYNC);
    host_class *c = find_class(impl_from_ICorProfilerInfo15(This), classId);
    if (!c)
        return E_INVALIDARG;
    if (pModuleId)
        *pModuleId = (ModuleID)c->module;
    if (pTypeDefToken)
        *pTypeDefToken = c->token;
    return S_OK;
}

/* The parent is the base type's ClassID when it is a TypeDef of the same module, else 0
 * (a base in another assembly, System.Object say, is not loaded here). */
HRESULT ilg__info_GetClassIDInfo2(ICorProfilerInfo15 *This, ClassID classId,
                                    ModuleID *pModuleId, mdTypeDef *pTypeDefToken,
                                    ClassID *pParentClassId, ULONG32 cNumTypeArgs,
                                    ULONG32 *pcNumTypeArgs, ClassID typeArgs[])
{
    INFO_ENTRY(This, "GetClassIDInfo2", ASYNC);
    host_class *c = find_class(impl_from_ICorProfilerInfo15(This), classId);
    if (!c || (cNumTypeArgs && !typeArgs))
        return E_INVALIDARG;
    if (pParentClassId) {
        uint32_t extends = 0;
        host_class *base = NULL;
        if (ilg_md_cell(c->module->md, ILG_TBL_TypeDef, c->token & 0xFFFFFF,
                        ILG_MDC_TypeDef_Extends, &extends) == ILG_OK)
            base = module_class(c->module, extends);
        *pParentClassId = base && !base->generic ? (ClassID)base : 0;
    }
    if (pModuleId)
        *pModuleId = (ModuleID)c->module;
    if (pTypeDefToken)
        *pTypeDefToken = c->token;
    if (pcNumTypeArgs)
        *pcNumTypeArgs = 0;
    return S_OK;
}

/* A TypeDef's class is never an array: S_FALSE, as CoreCLR answers for a non-array. */
HRESULT ilg__info_IsArrayClass(ICorProfilerInfo15 *This, ClassID classId,
                                 CorElementType *pBaseElemType, ClassID *pBaseClassId,
                                 ULONG *pcRank)
{
    INFO_ENTRY(This, "IsArrayClass", ASYNC);
    if (!find_class(impl_from_ICorProfilerInfo15(This), classId))
        return E_INVALIDARG;
    (void)pBaseElemType;
    (void)pBaseClassId;
    (void)pcRank;
    return S_FALSE;
}

ilg_status ilg__host_make_classes(host_module *m)
{
    const ilg_metadata *md = m->md;
    m->class_count = ilg_md_row_count(md, ILG_TBL_TypeDef);
    if (!m->class_count)
        return ILG_OK;
    m->classes = ILG_HOST_ZALLOC(m->host->heap, (size_t)m->class_count * sizeof *m->classes);
    if (!m->classes)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %u class records",
                         m->class_count);
    for (uint32_t rid = 1; rid <= m->class_count; rid++) {
        m->classes[rid - 1].module = m;
        m->classes[rid - 1].token = (uint32_t)ILG_TBL_TypeDef << 24 | rid;
    }
    const uint32_t params = ilg_md_row_count(md, ILG_TBL_GenericParam);
    for (uint32_t r = 1; r <= params; r++) {
        uint32_t owner = 0;
        if (ilg_md_cell(md, ILG_TBL_GenericParam, r, ILG_MDC_GenericParam_Owner, &owner) != ILG_OK)
            continue;
        uint32_t rid = owner & 0xFFFFFF;
        if (owner >> 24 == ILG_TBL_TypeDef && rid >= 1 && rid <= m->class_count)
            m->classes[rid - 1].generic = true;
    }
    return ILG_OK;
}

