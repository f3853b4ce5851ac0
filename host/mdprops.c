/* mdprops.c: IMetaDataImport2's properties, events and method semantics, method
 * impls, P/Invoke maps, field marshalling, declarative security and the user-string
 * heap, with RegMeta's conventions (mdimport.c). */
#include "md_private.h"

/* MethodSemanticsAttributes (ECMA-335 II.23.1.12). */
enum {
    MD_SEM_SETTER = 0x0001, MD_SEM_GETTER = 0x0002, MD_SEM_OTHER = 0x0004,
    MD_SEM_ADDON = 0x0008, MD_SEM_REMOVEON = 0x0010, MD_SEM_FIRE = 0x0020
};

/* The properties or events of TypeDef td: its map row's list. */
static HRESULT enum_mapped(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef td, ilg_table map,
                           uint32_t parent_col, uint32_t list_col, ilg_table member, mdToken out[],
                           ULONG cMax, ULONG *pc)
{
    const ilg_metadata *md = MD_OF(This);
    uint32_t first = 0, count = 0, r;
    if (phEnum && !*phEnum) {
        if (!ilg__md_row_ok(md, td, ILG_TBL_TypeDef))
            return E_INVALIDARG;
        if ((r = ilg__md_row_where(ilg__md_impl(This), map, parent_col, RidFromToken(td))) != 0)
            ilg__md_list_of(md, map, r, list_col, member, &first, &count);
    }
    return ilg__md_enum_range(MD_HEAP(This), phEnum, ((uint32_t)member << 24) | first, count, out,
                              cMax, pc);
}

HRESULT ilg__md_EnumProperties(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef td,
                               mdProperty rProperties[], ULONG cMax, ULONG *pcProperties)
{
    MD_ENTRY(This, "EnumProperties");
    return enum_mapped(This, phEnum, td, ILG_TBL_PropertyMap, ILG_MDC_PropertyMap_Parent,
                       ILG_MDC_PropertyMap_PropertyList, ILG_TBL_Property, rProperties, cMax,
                       pcProperties);
}

HRESULT ilg__md_EnumEvents(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef td, mdEvent rEvents[],
                           ULONG cMax, ULONG *pcEvents)
{
    MD_ENTRY(This, "EnumEvents");
    return enum_mapped(This, phEnum, td, ILG_TBL_EventMap, ILG_MDC_EventMap_Parent,
                       ILG_MDC_EventMap_EventList, ILG_TBL_Event, rEvents, cMax, pcEvents);
}

/* The TypeDef whose map lists member row rid (the maps' lists are non-decreasing). */
static mdTypeDef mapped_owner(const ilg_metadata *md, ilg_table map, uint32_t parent_col,
                              uint32_t list_col, ilg_table member, uint32_t rid)
{
    uint32_t first, count, r = ilg__md_owner_of(md, map, list_col, rid);
    if (!r)
        return mdTypeDefNil;
    ilg__md_list_of(md, map, r, list_col, member, &first, &count);
    return rid >= first && rid < first + count ? mdtTypeDef | ilg__md_cell(md, map, r, parent_col)
                                               : mdTypeDefNil;
}

/* The methods tied to a property or event: one per semantics bit asked for (the nil
 * MethodDef when none), the "other" ones into others[cMax] with their count. */
typedef struct semantics {
    mdMethodDef setter, getter, addon, removeon, fire;
    ULONG nother;
} semantics;

static bool semantics_of(host_mdimport *imp, mdToken assoc, mdMethodDef others[], ULONG cMax,
                         semantics *s)
{
    const ilg_metadata *md = imp->module->md;
    const uint32_t *hits;
    uint32_t n;
    s->setter = s->getter = s->addon = s->removeon = s->fire = mdMethodDefNil;
    s->nother = 0;
    if (!ilg__md_rows_where(imp, ILG_TBL_MethodSemantics, ILG_MDC_MethodSemantics_Association,
                            assoc, &hits, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = hits[i];
        mdMethodDef m = mdtMethodDef | ilg__md_cell(md, ILG_TBL_MethodSemantics, r,
                                                    ILG_MDC_MethodSemantics_Method);
        switch (ilg__md_cell(md, ILG_TBL_MethodSemantics, r, ILG_MDC_MethodSemantics_Semantics)) {
        case MD_SEM_SETTER: s->setter = m; break;
        case MD_SEM_GETTER: s->getter = m; break;
        case MD_SEM_ADDON: s->addon = m; break;
        case MD_SEM_REMOVEON: s->removeon = m; break;
        case MD_SEM_FIRE: s->fire = m; break;
        case MD_SEM_OTHER:
            if (others && s->nother < cMax)
                others[s->nother++] = m;
            break;
        default: break;
        }
    }
    return true;
}

HRESULT ilg__md_GetPropertyProps(IMetaDataImport2 *This, mdProperty prop, mdTypeDef *pClass,
                                 LPWSTR szProperty, ULONG cchProperty, ULONG *pchProperty,
                                 DWORD *pdwPropFlags, PCCOR_SIGNATURE *ppvSig, ULONG *pbSig,
                                 DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppDefaultValue,
                                 ULONG *pcchDefaultValue, mdMethodDef *pmdSetter,
                                 mdMethodDef *pmdGetter, mdMethodDef rmdOtherMethod[], ULONG cMax,
                                 ULONG *pcOtherMethod)
{
    MD_ENTRY(This, "GetPropertyProps");
    const ilg_metadata *md = MD_OF(This);
    const uint32_t rid = RidFromToken(prop);
    const uint8_t *sig = NULL;
    uint32_t len = 0;
    semantics s;
    HRESULT hr;

    if (!ilg__md_row_ok(md, prop, ILG_TBL_Property))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_Property, rid, ILG_MDC_Property_Name),
                                     szProperty, cchProperty, pchProperty)))
        return hr;
    if (pClass)
        *pClass = mapped_owner(md, ILG_TBL_PropertyMap, ILG_MDC_PropertyMap_Parent,
                               ILG_MDC_PropertyMap_PropertyList, ILG_TBL_Property, rid);
    if (pdwPropFlags)
        *pdwPropFlags = ilg__md_cell(md, ILG_TBL_Property, rid, ILG_MDC_Property_Flags);
    if (ilg_md_blob(md, ilg__md_cell(md, ILG_TBL_Property, rid, ILG_MDC_Property_Type), &sig,
                    &len) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (ppvSig)
        *ppvSig = sig;
    if (pbSig)
        *pbSig = len;
    ilg__md_constant_out(ilg__md_impl(This), prop, pdwCPlusTypeFlag, ppDefaultValue, pcchDefaultValue);
    if (!semantics_of(ilg__md_impl(This), prop, rmdOtherMethod, cMax, &s))
        return E_OUTOFMEMORY;
    if (pmdSetter)
        *pmdSetter = s.setter;
    if (pmdGetter)
        *pmdGetter = s.getter;
    if (pcOtherMethod)
        *pcOtherMethod = s.nother;
    return hr;
}

HRESULT ilg__md_GetEventProps(IMetaDataImport2 *This, mdEvent ev, mdTypeDef *pClass, LPWSTR szEvent,
                              ULONG cchEvent, ULONG *pchEvent, DWORD *pdwEventFlags,
                              mdToken *ptkEventType, mdMethodDef *pmdAddOn,
                              mdMethodDef *pmdRemoveOn, mdMethodDef *pmdFire,
                              mdMethodDef rmdOtherMethod[], ULONG cMax, ULONG *pcOtherMethod)
{
    MD_ENTRY(This, "GetEventProps");
    const ilg_metadata *md = MD_OF(This);
    const uint32_t rid = RidFromToken(ev);
    semantics s;
    HRESULT hr;

    if (!ilg__md_row_ok(md, ev, ILG_TBL_Event))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_Event, rid, ILG_MDC_Event_Name),
                                     szEvent, cchEvent, pchEvent)))
        return hr;
    if (pClass)
        *pClass = mapped_owner(md, ILG_TBL_EventMap, ILG_MDC_EventMap_Parent,
                               ILG_MDC_EventMap_EventList, ILG_TBL_Event, rid);
    if (pdwEventFlags)
        *pdwEventFlags = ilg__md_cell(md, ILG_TBL_Event, rid, ILG_MDC_Event_EventFlags);
    if (ptkEventType)
        *ptkEventType = ilg__md_cell(md, ILG_TBL_Event, rid, ILG_MDC_Event_EventType);
    if (!semantics_of(ilg__md_impl(This), ev, rmdOtherMethod, cMax, &s))
        return E_OUTOFMEMORY;
    if (pmdAddOn)
        *pmdAddOn = s.addon;
    if (pmdRemoveOn)
        *pmdRemoveOn = s.removeon;
    if (pmdFire)
        *pmdFire = s.fire;
    if (pcOtherMethod)
        *pcOtherMethod = s.nother;
    return hr;
}

HRESULT ilg__md_EnumMethodSemantics(IMetaDataImport2 *This, HCORENUM *phEnum, mdMethodDef mb,
                                    mdToken rEventProp[], ULONG cMax, ULONG *pcEventProp)
{
    MD_ENTRY(This, "EnumMethodSemantics");
    const ilg_metadata *md = MD_OF(This);
    md_enum *e;
    if (!phEnum)
        return E_INVALIDARG;
    if (*phEnum)
        return (e = ilg__md_enum_check(*phEnum)) ? ilg__md_enum_take(e, rEventProp, cMax, pcEventProp)
                                                 : E_INVALIDARG;
    if (!ilg__md_row_ok(md, mb, ILG_TBL_MethodDef))
        return E_INVALIDARG;
    const uint32_t *hits;
    uint32_t n;
    if (!ilg__md_rows_where(ilg__md_impl(This), ILG_TBL_MethodSemantics,
                            ILG_MDC_MethodSemantics_Method, RidFromToken(mb), &hits, &n) ||
        !(e = ilg__md_enum_new(MD_HEAP(This), 0, 0, n ? n : 1)))
        return E_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++)
        e->list[e->count++] = ilg__md_cell(md, ILG_TBL_MethodSemantics, hits[i],
                                           ILG_MDC_MethodSemantics_Association);
    *phEnum = e;
    return ilg__md_enum_take(e, rEventProp, cMax, pcEventProp);
}

HRESULT ilg__md_GetMethodSemantics(IMetaDataImport2 *This, mdMethodDef mb, mdToken tkEventProp,
                                   DWORD *pdwSemanticsFlags)
{
    MD_ENTRY(This, "GetMethodSemantics");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_MethodSemantics);
    if (!pdwSemanticsFlags || !ilg__md_row_ok(md, mb, ILG_TBL_MethodDef))
        return E_INVALIDARG;
    for (uint32_t r = 1; r <= rows; r++)
        if (ilg__md_cell(md, ILG_TBL_MethodSemantics, r, ILG_MDC_MethodSemantics_Method) ==
                RidFromToken(mb) &&
            ilg__md_cell(md, ILG_TBL_MethodSemantics, r, ILG_MDC_MethodSemantics_Association) ==
                tkEventProp) {
            *pdwSemanticsFlags =
                ilg__md_cell(md, ILG_TBL_MethodSemantics, r, ILG_MDC_MethodSemantics_Semantics);
            return S_OK;
        }
    return CLDB_E_RECORD_NOTFOUND;
}

/* ---- method impls: body and declaration in pairs ------------------------------------ */

HRESULT ilg__md_EnumMethodImpls(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef td,
                                mdToken rMethodBody[], mdToken rMethodDecl[], ULONG cMax,
                                ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumMethodImpls");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_MethodImpl);
    md_enum *e;
    ULONG n = 0;
    if (!phEnum || (cMax && (!rMethodBody || !rMethodDecl)))
        return E_INVALIDARG;
    if (!*phEnum) {
        if (!ilg__md_row_ok(md, td, ILG_TBL_TypeDef))
            return E_INVALIDARG;
        /* The list holds the MethodImpl rows; count is the number of pairs. */
        if (!(e = ilg__md_enum_new(MD_HEAP(This), 0, 0, rows ? rows : 1)))
            return E_OUTOFMEMORY;
        for (uint32_t r = 1; r <= rows; r++)
            if (ilg__md_cell(md, ILG_TBL_MethodImpl, r, ILG_MDC_MethodImpl_Class) == RidFromToken(td))
                e->list[e->count++] = r;
        *phEnum = e;
    } else if (!(e = ilg__md_enum_check(*phEnum))) {
        return E_INVALIDARG;
    }
    while (n < cMax && e->pos < e->count) {
        uint32_t r = e->list[e->pos++];
        rMethodBody[n] = ilg__md_cell(md, ILG_TBL_MethodImpl, r, ILG_MDC_MethodImpl_MethodBody);
        rMethodDecl[n++] = ilg__md_cell(md, ILG_TBL_MethodImpl, r, ILG_MDC_MethodImpl_MethodDeclaration);
    }
    if (pcTokens)
        *pcTokens = n;
    return n ? S_OK : S_FALSE;
}

/* ---- P/Invoke, marshalling, security ----------------------------------------------- */

HRESULT ilg__md_GetPinvokeMap(IMetaDataImport2 *This, mdToken tk, DWORD *pdwMappingFlags,
                              LPWSTR szImportName, ULONG cchImportName, ULONG *pchImportName,
                              mdModuleRef *pmrImportDLL)
{
    MD_ENTRY(This, "GetPinvokeMap");
    const ilg_metadata *md = MD_OF(This);
    uint32_t r = ilg__md_row_where(ilg__md_impl(This), ILG_TBL_ImplMap, ILG_MDC_ImplMap_MemberForwarded, tk);
    HRESULT hr;
    if (!r)
        return CLDB_E_RECORD_NOTFOUND;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_ImplMap, r, ILG_MDC_ImplMap_ImportName),
                                     szImportName, cchImportName, pchImportName)))
        return hr;
    if (pdwMappingFlags)
        *pdwMappingFlags = ilg__md_cell(md, ILG_TBL_ImplMap, r, ILG_MDC_ImplMap_MappingFlags);
    if (pmrImportDLL)
        *pmrImportDLL = mdtModuleRef | ilg__md_cell(md, ILG_TBL_ImplMap, r, ILG_MDC_ImplMap_ImportScope);
    return hr;
}

HRESULT ilg__md_GetFieldMarshal(IMetaDataImport2 *This, mdToken tk, PCCOR_SIGNATURE *ppvNativeType,
                                ULONG *pcbNativeType)
{
    MD_ENTRY(This, "GetFieldMarshal");
    const ilg_metadata *md = MD_OF(This);
    uint32_t r = ilg__md_row_where(ilg__md_impl(This), ILG_TBL_FieldMarshal, ILG_MDC_FieldMarshal_Parent, tk);
    if (!r)
        return CLDB_E_RECORD_NOTFOUND;
    return ilg__md_blob_of(md, TokenFromRid(r, (uint32_t)ILG_TBL_FieldMarshal << 24), ILG_TBL_FieldMarshal,
                           ILG_MDC_FieldMarshal_NativeType, ppvNativeType, pcbNativeType);
}

HRESULT ilg__md_EnumPermissionSets(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tk,
                                   DWORD dwActions, mdPermission rPermission[], ULONG cMax,
                                   ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumPermissionSets");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_DeclSecurity);
    md_enum *e;
    if (!phEnum)
        return E_INVALIDARG;
    if (*phEnum)
        return (e = ilg__md_enum_check(*phEnum)) ? ilg__md_enum_take(e, rPermission, cMax, pcTokens)
                                                 : E_INVALIDARG;
    if (!(e = ilg__md_enum_new(MD_HEAP(This), 0, 0, rows ? rows : 1)))
        return E_OUTOFMEMORY;
    /* A nil tk: every permission set of the scope; dwActions 0: any action. */
    for (uint32_t r = 1; r <= rows; r++)
        if ((IsNilToken(tk) ||
             ilg__md_cell(md, ILG_TBL_DeclSecurity, r, ILG_MDC_DeclSecurity_Parent) == tk) &&
            (!dwActions ||
             ilg__md_cell(md, ILG_TBL_DeclSecurity, r, ILG_MDC_DeclSecurity_Action) == dwActions))
            e->list[e->count++] = mdtPermission | r;
    *phEnum = e;
    return ilg__md_enum_take(e, rPermission, cMax, pcTokens);
}

HRESULT ilg__md_GetPermissionSetProps(IMetaDataImport2 *This, mdPermission pm, DWORD *pdwAction,
                                      const void **ppvPermission, ULONG *pcbPermission)
{
    MD_ENTRY(This, "GetPermissionSetProps");
    const ilg_metadata *md = MD_OF(This);
    PCCOR_SIGNATURE blob = NULL;
    ULONG len = 0;
    HRESULT hr = ilg__md_blob_of(md, pm, ILG_TBL_DeclSecurity, ILG_MDC_DeclSecurity_PermissionSet,
                                 &blob, &len);
    if (FAILED(hr))
        return hr;
    if (pdwAction)
        *pdwAction = ilg__md_cell(md, ILG_TBL_DeclSecurity, RidFromToken(pm),
                                  ILG_MDC_DeclSecurity_Action);
    if (ppvPermission)
        *ppvPermission = blob;
    if (pcbPermission)
        *pcbPermission = len;
    return S_OK;
}

/* ---- user strings -------------------------------------------------------------------- */

/* Every entry of #US but the padding, walked by its length prefixes (II.24.2.4). */
HRESULT ilg__md_EnumUserStrings(IMetaDataImport2 *This, HCORENUM *phEnum, mdString rStrings[],
                                ULONG cmax, ULONG *pcStrings)
{
    MD_ENTRY(This, "EnumUserStrings");
    const ilg_metadata *md = MD_OF(This);
    uint32_t heap = 0, cap = 0;
    ilg_md_info info;
    md_enum *e;
    if (!phEnum)
        return E_INVALIDARG;
    if (*phEnum)
        return (e = ilg__md_enum_check(*phEnum)) ? ilg__md_enum_take(e, rStrings, cmax, pcStrings)
                                                 : E_INVALIDARG;
    if (ilg_md_get_info(md, &info) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    for (uint32_t i = 0; i < info.stream_count; i++)
        if (strcmp(info.streams[i].name, "#US") == 0)
            heap = info.streams[i].size;
    cap = heap / 2 + 1;
    if (!(e = ilg__md_enum_new(MD_HEAP(This), 0, 0, cap)))
        return E_OUTOFMEMORY;
    for (uint32_t idx = 1; idx < heap;) {
        const uint8_t *text;
        uint32_t bytes;
        if (ilg_md_user_string(md, idx, &text, &bytes) != ILG_OK)
            break;
        /* bytes leaves out the flag byte, so 0 is an empty string (length 1, listed, as
         * CoreCLR lists it) or padding (length 0, skipped): the length byte, just before
         * the text and inside the heap, tells them apart. */
        uint32_t len = bytes ? bytes + 1 : text[-1];
        if (len && e->count < cap)
            e->list[e->count++] = mdtString | idx;
        idx += (len < 0x80 ? 1 : len < 0x4000 ? 2 : 4) + len;
    }
    *phEnum = e;
    return ilg__md_enum_take(e, rStrings, cmax, pcStrings);
}
