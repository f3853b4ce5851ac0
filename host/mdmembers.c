/* mdmembers.c: IMetaDataImport2's member-level methods (methods, fields, parameters,
 * member references, constants, custom attributes, generic parameters and method
 * specs), answered from the loader's tables with RegMeta's conventions (mdimport.c). */
#include "md_private.h"

void ilg__md_constant_out(host_mdimport *imp, mdToken tk, DWORD *pdwCPlusTypeFlag,
                          UVCP_CONSTANT *ppValue, ULONG *pcchValue)
{
    const ilg_metadata *md = imp->module->md;
    uint32_t r = ilg__md_row_where(imp, ILG_TBL_Constant, ILG_MDC_Constant_Parent, tk);
    uint32_t type = ILG_ET_VOID, len = 0;
    const uint8_t *value = NULL;
    if (r) {
        type = ilg__md_cell(md, ILG_TBL_Constant, r, ILG_MDC_Constant_Type);
        if (ilg_md_blob(md, ilg__md_cell(md, ILG_TBL_Constant, r, ILG_MDC_Constant_Value), &value,
                        &len) != ILG_OK)
            value = NULL;
    }
    if (pdwCPlusTypeFlag)
        *pdwCPlusTypeFlag = type;
    if (ppValue)
        *ppValue = value;
    if (pcchValue)
        *pcchValue = type == ILG_ET_STRING ? len / 2 : 0;
}

/* ---- methods and fields ------------------------------------------------------------- */

/* Methods then fields of cl, named name when given. */
static HRESULT enum_members(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                            const WCHAR *wname, mdToken out[], ULONG cMax, ULONG *pc)
{
    const ilg_metadata *md = MD_OF(This);
    uint32_t mfirst, mcount, ffirst, fcount;
    char want[1024];
    md_enum *e;

    if (!phEnum)
        return E_INVALIDARG;
    if (*phEnum)
        return (e = ilg__md_enum_check(*phEnum)) ? ilg__md_enum_take(e, out, cMax, pc)
                                                 : E_INVALIDARG;
    if (!ilg__md_row_ok(md, cl, ILG_TBL_TypeDef) ||
        (wname && !ilg__host_from_wide(wname, want, sizeof want)))
        return E_INVALIDARG;
    ilg__md_list_of(md, ILG_TBL_TypeDef, RidFromToken(cl), ILG_MDC_TypeDef_MethodList,
                    ILG_TBL_MethodDef, &mfirst, &mcount);
    ilg__md_list_of(md, ILG_TBL_TypeDef, RidFromToken(cl), ILG_MDC_TypeDef_FieldList, ILG_TBL_Field,
                    &ffirst, &fcount);
    if (!(e = ilg__md_enum_new(MD_HEAP(This), 0, 0, mcount + fcount + 1)))
        return E_OUTOFMEMORY;
    for (uint32_t r = mfirst; r < mfirst + mcount; r++)
        if (!wname || strcmp(ilg__md_str(md, ILG_TBL_MethodDef, r, ILG_MDC_MethodDef_Name), want) == 0)
            e->list[e->count++] = mdtMethodDef | r;
    for (uint32_t r = ffirst; r < ffirst + fcount; r++)
        if (!wname || strcmp(ilg__md_str(md, ILG_TBL_Field, r, ILG_MDC_Field_Name), want) == 0)
            e->list[e->count++] = mdtFieldDef | r;
    *phEnum = e;
    return ilg__md_enum_take(e, out, cMax, pc);
}

HRESULT ilg__md_EnumMembers(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                            mdToken rMembers[], ULONG cMax, ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumMembers");
    return enum_members(This, phEnum, cl, NULL, rMembers, cMax, pcTokens);
}

HRESULT ilg__md_EnumMembersWithName(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                                    LPCWSTR szName, mdToken rMembers[], ULONG cMax,
                                    ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumMembersWithName");
    if (!szName)
        return E_INVALIDARG;
    return enum_members(This, phEnum, cl, szName, rMembers, cMax, pcTokens);
}

/* The first row of table in [first, first + count) named want whose signature is sig
 * (any when cb is 0). */
static mdToken find_in(const ilg_metadata *md, ilg_table table, uint32_t first, uint32_t count,
                       uint32_t name_col, uint32_t sig_col, const char *want,
                       PCCOR_SIGNATURE sig, ULONG cb)
{
    for (uint32_t r = first; r < first + count; r++) {
        const uint8_t *have;
        uint32_t len;
        if (strcmp(ilg__md_str(md, table, r, name_col), want) != 0)
            continue;
        if (cb && (ilg_md_blob(md, ilg__md_cell(md, table, r, sig_col), &have, &len) != ILG_OK ||
                   len != cb || memcmp(have, sig, cb) != 0))
            continue;
        return TokenFromRid(r, (uint32_t)table << 24);
    }
    return 0;
}

/* FindMethod / FindField / FindMember: which tables to look in. */
static HRESULT find_member(IMetaDataImport2 *This, mdTypeDef td, LPCWSTR szName,
                           PCCOR_SIGNATURE sig, ULONG cb, bool methods, bool fields, mdToken *out)
{
    const ilg_metadata *md = MD_OF(This);
    uint32_t first, count;
    char want[1024];
    mdToken tk = 0;

    if (!szName || !out || (cb && !sig))
        return E_INVALIDARG;
    /* A nil TypeDef asks for a global member (<Module>'s, row 1). */
    if (IsNilToken(td) && TypeFromToken(td) == mdtTypeDef)
        td = mdtTypeDef | 1;
    if (!ilg__md_row_ok(md, td, ILG_TBL_TypeDef))
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szName, want, sizeof want))
        return CLDB_E_RECORD_NOTFOUND;
    if (methods) {
        ilg__md_list_of(md, ILG_TBL_TypeDef, RidFromToken(td), ILG_MDC_TypeDef_MethodList,
                        ILG_TBL_MethodDef, &first, &count);
        tk = find_in(md, ILG_TBL_MethodDef, first, count, ILG_MDC_MethodDef_Name,
                     ILG_MDC_MethodDef_Signature, want, sig, cb);
    }
    if (!tk && fields) {
        ilg__md_list_of(md, ILG_TBL_TypeDef, RidFromToken(td), ILG_MDC_TypeDef_FieldList,
                        ILG_TBL_Field, &first, &count);
        tk = find_in(md, ILG_TBL_Field, first, count, ILG_MDC_Field_Name, ILG_MDC_Field_Signature,
                     want, sig, cb);
    }
    if (!tk)
        return CLDB_E_RECORD_NOTFOUND;
    *out = tk;
    return S_OK;
}

HRESULT ilg__md_FindMember(IMetaDataImport2 *This, mdTypeDef td, LPCWSTR szName,
                           PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdToken *pmb)
{
    MD_ENTRY(This, "FindMember");
    return find_member(This, td, szName, pvSigBlob, cbSigBlob, true, true, pmb);
}

HRESULT ilg__md_FindMethod(IMetaDataImport2 *This, mdTypeDef td, LPCWSTR szName,
                           PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdMethodDef *pmb)
{
    MD_ENTRY(This, "FindMethod");
    return find_member(This, td, szName, pvSigBlob, cbSigBlob, true, false, pmb);
}

HRESULT ilg__md_FindField(IMetaDataImport2 *This, mdTypeDef td, LPCWSTR szName,
                          PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdFieldDef *pmb)
{
    MD_ENTRY(This, "FindField");
    return find_member(This, td, szName, pvSigBlob, cbSigBlob, false, true, pmb);
}

HRESULT ilg__md_FindMemberRef(IMetaDataImport2 *This, mdTypeRef td, LPCWSTR szName,
                              PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdMemberRef *pmr)
{
    MD_ENTRY(This, "FindMemberRef");
    const ilg_metadata *md = MD_OF(This);
    char want[1024];

    if (!szName || !pmr || (cbSigBlob && !pvSigBlob))
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szName, want, sizeof want))
        return CLDB_E_RECORD_NOTFOUND;
    const uint32_t *hits;
    uint32_t n;
    if (!ilg__md_rows_where(ilg__md_impl(This), ILG_TBL_MemberRef, ILG_MDC_MemberRef_Class, td,
                            &hits, &n))
        return E_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++) {
        mdToken tk = find_in(md, ILG_TBL_MemberRef, hits[i], 1, ILG_MDC_MemberRef_Name,
                             ILG_MDC_MemberRef_Signature, want, pvSigBlob, cbSigBlob);
        if (tk) {
            *pmr = tk;
            return S_OK;
        }
    }
    return CLDB_E_RECORD_NOTFOUND;
}

HRESULT ilg__md_GetMethodProps(IMetaDataImport2 *This, mdMethodDef mb, mdTypeDef *pClass,
                               LPWSTR szMethod, ULONG cchMethod, ULONG *pchMethod, DWORD *pdwAttr,
                               PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob, ULONG *pulCodeRVA,
                               DWORD *pdwImplFlags)
{
    MD_ENTRY(This, "GetMethodProps");
    const ilg_metadata *md = MD_OF(This);
    ilg_method_info mi;
    HRESULT hr;

    if (!ilg__md_row_ok(md, mb, ILG_TBL_MethodDef))
        return MD_E_NO_ROW;
    if (ilg_md_method(md, RidFromToken(mb), &mi) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (FAILED(hr = ilg__md_name_out(mi.name, szMethod, cchMethod, pchMethod)))
        return hr;
    if (pClass)
        *pClass = mi.owner;
    if (pdwAttr)
        *pdwAttr = mi.flags;
    if (ppvSigBlob)
        *ppvSigBlob = mi.sig;
    if (pcbSigBlob)
        *pcbSigBlob = mi.sig_len;
    /* The metadata's RVA: SetILFunctionBody does not rewrite the metadata. */
    if (pulCodeRVA)
        *pulCodeRVA = mi.rva;
    if (pdwImplFlags)
        *pdwImplFlags = mi.impl_flags;
    return hr;
}

HRESULT ilg__md_GetFieldProps(IMetaDataImport2 *This, mdFieldDef mb, mdTypeDef *pClass,
                              LPWSTR szField, ULONG cchField, ULONG *pchField, DWORD *pdwAttr,
                              PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob,
                              DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppValue, ULONG *pcchValue)
{
    MD_ENTRY(This, "GetFieldProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(mb);
    const uint8_t *sig = NULL;
    uint32_t len = 0;
    HRESULT hr;

    if (!ilg__md_row_ok(md, mb, ILG_TBL_Field))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_Field, rid, ILG_MDC_Field_Name),
                                     szField, cchField, pchField)))
        return hr;
    if (pClass)
        *pClass = mdtTypeDef | ilg__md_owner_of(md, ILG_TBL_TypeDef, ILG_MDC_TypeDef_FieldList, rid);
    if (pdwAttr)
        *pdwAttr = ilg__md_cell(md, ILG_TBL_Field, rid, ILG_MDC_Field_Flags);
    if (ilg_md_blob(md, ilg__md_cell(md, ILG_TBL_Field, rid, ILG_MDC_Field_Signature), &sig, &len) !=
        ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (ppvSigBlob)
        *ppvSigBlob = sig;
    if (pcbSigBlob)
        *pcbSigBlob = len;
    ilg__md_constant_out(ilg__md_impl(This), mb, pdwCPlusTypeFlag, ppValue, pcchValue);
    return hr;
}

HRESULT ilg__md_GetMemberProps(IMetaDataImport2 *This, mdToken mb, mdTypeDef *pClass,
                               LPWSTR szMember, ULONG cchMember, ULONG *pchMember, DWORD *pdwAttr,
                               PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob, ULONG *pulCodeRVA,
                               DWORD *pdwImplFlags, DWORD *pdwCPlusTypeFlag,
                               UVCP_CONSTANT *ppValue, ULONG *pcchValue)
{
    MD_ENTRY(This, "GetMemberProps");
    if (TypeFromToken(mb) == mdtMethodDef) {
        /* A method has no constant: CoreCLR answers type 0 (not VOID) and no value. */
        if (pdwCPlusTypeFlag)
            *pdwCPlusTypeFlag = 0;
        if (ppValue)
            *ppValue = NULL;
        if (pcchValue)
            *pcchValue = 0;
        return ilg__md_GetMethodProps(This, mb, pClass, szMember, cchMember, pchMember, pdwAttr,
                                      ppvSigBlob, pcbSigBlob, pulCodeRVA, pdwImplFlags);
    }
    if (TypeFromToken(mb) != mdtFieldDef)
        return E_INVALIDARG;
    if (pulCodeRVA)
        *pulCodeRVA = 0;
    if (pdwImplFlags)
        *pdwImplFlags = 0;
    return ilg__md_GetFieldProps(This, mb, pClass, szMember, cchMember, pchMember, pdwAttr,
                                 ppvSigBlob, pcbSigBlob, pdwCPlusTypeFlag, ppValue, pcchValue);
}

HRESULT ilg__md_GetRVA(IMetaDataImport2 *This, mdToken tk, ULONG *pulCodeRVA, DWORD *pdwImplFlags)
{
    MD_ENTRY(This, "GetRVA");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(tk), rva = 0, impl = 0;
    if (ilg__md_row_ok(md, tk, ILG_TBL_MethodDef)) {
        rva = ilg__md_cell(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_RVA);
        impl = ilg__md_cell(md, ILG_TBL_MethodDef, rid, ILG_MDC_MethodDef_ImplFlags);
    } else if (ilg__md_row_ok(md, tk, ILG_TBL_Field)) {
        uint32_t rows = ilg_md_row_count(md, ILG_TBL_FieldRVA), r;
        for (r = 1; r <= rows; r++)
            if (ilg__md_cell(md, ILG_TBL_FieldRVA, r, ILG_MDC_FieldRVA_Field) == rid)
                break;
        if (r > rows)
            return CLDB_E_RECORD_NOTFOUND;
        rva = ilg__md_cell(md, ILG_TBL_FieldRVA, r, ILG_MDC_FieldRVA_RVA);
    } else {
        return E_INVALIDARG;
    }
    if (pulCodeRVA)
        *pulCodeRVA = rva;
    if (pdwImplFlags)
        *pdwImplFlags = impl;
    return S_OK;
}

HRESULT ilg__md_IsGlobal(IMetaDataImport2 *This, mdToken pd, int *pbGlobal)
{
    MD_ENTRY(This, "IsGlobal");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(pd), owner;
    if (!pbGlobal)
        return E_INVALIDARG;
    if (ilg__md_row_ok(md, pd, ILG_TBL_TypeDef))
        owner = rid == 1 ? 0 : ~0u;
    else if (ilg__md_row_ok(md, pd, ILG_TBL_MethodDef))
        owner = ilg__md_owner_of(md, ILG_TBL_TypeDef, ILG_MDC_TypeDef_MethodList, rid) == 1 ? 0 : ~0u;
    else if (ilg__md_row_ok(md, pd, ILG_TBL_Field))
        owner = ilg__md_owner_of(md, ILG_TBL_TypeDef, ILG_MDC_TypeDef_FieldList, rid) == 1 ? 0 : ~0u;
    else
        return E_INVALIDARG;
    *pbGlobal = owner == 0;
    return S_OK;
}

/* ---- parameters --------------------------------------------------------------------- */

HRESULT ilg__md_EnumParams(IMetaDataImport2 *This, HCORENUM *phEnum, mdMethodDef mb,
                           mdParamDef rParams[], ULONG cMax, ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumParams");
    const ilg_metadata *md = MD_OF(This);
    uint32_t first = 0, count = 0;
    if (phEnum && !*phEnum) {
        if (!ilg__md_row_ok(md, mb, ILG_TBL_MethodDef))
            return E_INVALIDARG;
        ilg__md_list_of(md, ILG_TBL_MethodDef, RidFromToken(mb), ILG_MDC_MethodDef_ParamList,
                        ILG_TBL_Param, &first, &count);
    }
    return ilg__md_enum_range(MD_HEAP(This), phEnum, mdtParamDef | first, count, rParams, cMax,
                              pcTokens);
}

HRESULT ilg__md_GetParamForMethodIndex(IMetaDataImport2 *This, mdMethodDef mb, ULONG ulParamSeq,
                                       mdParamDef *ppd)
{
    MD_ENTRY(This, "GetParamForMethodIndex");
    const ilg_metadata *md = MD_OF(This);
    uint32_t first, count;
    if (!ppd || !ilg__md_row_ok(md, mb, ILG_TBL_MethodDef))
        return E_INVALIDARG;
    ilg__md_list_of(md, ILG_TBL_MethodDef, RidFromToken(mb), ILG_MDC_MethodDef_ParamList,
                    ILG_TBL_Param, &first, &count);
    for (uint32_t r = first; r < first + count; r++)
        if (ilg__md_cell(md, ILG_TBL_Param, r, ILG_MDC_Param_Sequence) == ulParamSeq) {
            *ppd = mdtParamDef | r;
            return S_OK;
        }
    return CLDB_E_RECORD_NOTFOUND;
}

HRESULT ilg__md_GetParamProps(IMetaDataImport2 *This, mdParamDef tk, mdMethodDef *pmd,
                              ULONG *pulSequence, LPWSTR szName, ULONG cchName, ULONG *pchName,
                              DWORD *pdwAttr, DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppValue,
                              ULONG *pcchValue)
{
    MD_ENTRY(This, "GetParamProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(tk);
    HRESULT hr;

    if (!ilg__md_row_ok(md, tk, ILG_TBL_Param))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_Param, rid, ILG_MDC_Param_Name), szName,
                                     cchName, pchName)))
        return hr;
    if (pmd)
        *pmd = mdtMethodDef | ilg__md_owner_of(md, ILG_TBL_MethodDef, ILG_MDC_MethodDef_ParamList, rid);
    if (pulSequence)
        *pulSequence = ilg__md_cell(md, ILG_TBL_Param, rid, ILG_MDC_Param_Sequence);
    if (pdwAttr)
        *pdwAttr = ilg__md_cell(md, ILG_TBL_Param, rid, ILG_MDC_Param_Flags);
    ilg__md_constant_out(ilg__md_impl(This), tk, pdwCPlusTypeFlag, ppValue, pcchValue);
    return hr;
}

/* ---- member references -------------------------------------------------------------- */

HRESULT ilg__md_EnumMemberRefs(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tkParent,
                               mdMemberRef rMemberRefs[], ULONG cMax, ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumMemberRefs");
    return ilg__md_enum_rows(This, phEnum, ILG_TBL_MemberRef, ILG_MDC_MemberRef_Class, tkParent,
                             rMemberRefs, cMax, pcTokens);
}

HRESULT ilg__md_GetMemberRefProps(IMetaDataImport2 *This, mdMemberRef mr, mdToken *ptk,
                                  LPWSTR szMember, ULONG cchMember, ULONG *pchMember,
                                  PCCOR_SIGNATURE *ppvSigBlob, ULONG *pbSig)
{
    MD_ENTRY(This, "GetMemberRefProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(mr), len = 0;
    const uint8_t *sig;
    HRESULT hr;

    if (!ilg__md_row_ok(md, mr, ILG_TBL_MemberRef))
        return MD_E_NO_ROW;
    if (ilg_md_blob(md, ilg__md_cell(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Signature), &sig,
                    &len) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Name),
                                     szMember, cchMember, pchMember)))
        return hr;
    if (ptk)
        *ptk = ilg__md_cell(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Class);
    if (ppvSigBlob)
        *ppvSigBlob = sig;
    if (pbSig)
        *pbSig = len;
    return hr;
}

/* The #Strings name of a token's row (RegMeta's GetNameFromToken: the tables with a
 * name column). */
HRESULT ilg__md_GetNameFromToken(IMetaDataImport2 *This, mdToken tk, MDUTF8CSTR *pszUtf8NamePtr)
{
    MD_ENTRY(This, "GetNameFromToken");
    static const struct { ilg_table table; uint32_t col; } named[] = {
        { ILG_TBL_Module, ILG_MDC_Module_Name },       { ILG_TBL_TypeRef, ILG_MDC_TypeRef_TypeName },
        { ILG_TBL_TypeDef, ILG_MDC_TypeDef_TypeName }, { ILG_TBL_Field, ILG_MDC_Field_Name },
        { ILG_TBL_MethodDef, ILG_MDC_MethodDef_Name }, { ILG_TBL_Param, ILG_MDC_Param_Name },
        { ILG_TBL_MemberRef, ILG_MDC_MemberRef_Name }, { ILG_TBL_Event, ILG_MDC_Event_Name },
        { ILG_TBL_Property, ILG_MDC_Property_Name },   { ILG_TBL_ModuleRef, ILG_MDC_ModuleRef_Name },
    };
    const ilg_metadata *md = MD_OF(This);
    if (!pszUtf8NamePtr)
        return E_INVALIDARG;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (TypeFromToken(tk) != (uint32_t)named[i].table << 24)
            continue;
        if (!ilg__md_row_ok(md, tk, named[i].table))
            return MD_E_NO_ROW;
        *pszUtf8NamePtr = ilg__md_str(md, named[i].table, RidFromToken(tk), named[i].col);
        return S_OK;
    }
    return E_INVALIDARG;
}

/* ---- custom attributes -------------------------------------------------------------- */

/* The type a custom attribute's constructor belongs to (a TypeDef, TypeRef or TypeSpec). */
static mdToken attribute_type(const ilg_metadata *md, uint32_t ca_rid)
{
    mdToken ctor = ilg__md_cell(md, ILG_TBL_CustomAttribute, ca_rid, ILG_MDC_CustomAttribute_Type);
    if (TypeFromToken(ctor) == mdtMethodDef)
        return mdtTypeDef | ilg__md_owner_of(md, ILG_TBL_TypeDef, ILG_MDC_TypeDef_MethodList,
                                     RidFromToken(ctor));
    if (TypeFromToken(ctor) == mdtMemberRef)
        return ilg__md_cell(md, ILG_TBL_MemberRef, RidFromToken(ctor), ILG_MDC_MemberRef_Class);
    return 0;
}

HRESULT ilg__md_EnumCustomAttributes(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tk,
                                     mdToken tkType, mdCustomAttribute rCustomAttributes[],
                                     ULONG cMax, ULONG *pcCustomAttributes)
{
    MD_ENTRY(This, "EnumCustomAttributes");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_CustomAttribute);
    md_enum *e;

    if (!phEnum)
        return E_INVALIDARG;
    if (*phEnum)
        return (e = ilg__md_enum_check(*phEnum))
                   ? ilg__md_enum_take(e, rCustomAttributes, cMax, pcCustomAttributes)
                   : E_INVALIDARG;
    const uint32_t *hits = NULL;
    uint32_t n = rows;
    /* A nil tk: every custom attribute of the scope. */
    if ((!IsNilToken(tk) && !ilg__md_rows_where(ilg__md_impl(This), ILG_TBL_CustomAttribute,
                                                ILG_MDC_CustomAttribute_Parent, tk, &hits, &n)) ||
        !(e = ilg__md_enum_new(MD_HEAP(This), 0, 0, n ? n : 1)))
        return E_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = hits ? hits[i] : i + 1;
        if (IsNilToken(tkType) || attribute_type(md, r) == tkType)
            e->list[e->count++] = mdtCustomAttribute | r;
    }
    *phEnum = e;
    return ilg__md_enum_take(e, rCustomAttributes, cMax, pcCustomAttributes);
}

HRESULT ilg__md_GetCustomAttributeProps(IMetaDataImport2 *This, mdCustomAttribute cv,
                                        mdToken *ptkObj, mdToken *ptkType, const void **ppBlob,
                                        ULONG *pcbSize)
{
    MD_ENTRY(This, "GetCustomAttributeProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(cv), len = 0;
    const uint8_t *blob;
    if (!ilg__md_row_ok(md, cv, ILG_TBL_CustomAttribute))
        return MD_E_NO_ROW;
    if (ilg_md_blob(md, ilg__md_cell(md, ILG_TBL_CustomAttribute, rid, ILG_MDC_CustomAttribute_Value),
                    &blob, &len) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (ptkObj)
        *ptkObj = ilg__md_cell(md, ILG_TBL_CustomAttribute, rid, ILG_MDC_CustomAttribute_Parent);
    if (ptkType)
        *ptkType = ilg__md_cell(md, ILG_TBL_CustomAttribute, rid, ILG_MDC_CustomAttribute_Type);
    if (ppBlob)
        *ppBlob = blob;
    if (pcbSize)
        *pcbSize = len;
    return S_OK;
}

/* "Namespace.Name" of a TypeDef or TypeRef token into buf. */
static bool type_full_name(const ilg_metadata *md, mdToken tk, char *buf, size_t size)
{
    uint32_t rid = RidFromToken(tk);
    if (ilg__md_row_ok(md, tk, ILG_TBL_TypeDef))
        return ilg__md_join_name(ilg__md_str(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeNamespace),
                                 ilg__md_str(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeName),
                                 buf, size);
    if (ilg__md_row_ok(md, tk, ILG_TBL_TypeRef))
        return ilg__md_join_name(ilg__md_str(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeNamespace),
                                 ilg__md_str(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeName),
                                 buf, size);
    return false;
}

uint32_t ilg__md_attribute_row(host_mdimport *imp, mdToken tkObj, const char *name)
{
    const ilg_metadata *md = imp->module->md;
    char have[1024];
    const uint32_t *hits;
    uint32_t n;
    if (!ilg__md_rows_where(imp, ILG_TBL_CustomAttribute, ILG_MDC_CustomAttribute_Parent, tkObj,
                            &hits, &n))
        return UINT32_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (type_full_name(md, attribute_type(md, hits[i]), have, sizeof have) &&
            strcmp(have, name) == 0)
            return hits[i];
    return 0;
}

HRESULT ilg__md_GetCustomAttributeByName(IMetaDataImport2 *This, mdToken tkObj, LPCWSTR szName,
                                         const void **ppData, ULONG *pcbData)
{
    MD_ENTRY(This, "GetCustomAttributeByName");
    const ilg_metadata *md = MD_OF(This);
    char want[1024];

    if (!szName)
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szName, want, sizeof want))
        return S_FALSE;
    uint32_t r = ilg__md_attribute_row(ilg__md_impl(This), tkObj, want);
    if (r == UINT32_MAX)
        return E_OUTOFMEMORY;
    /* Not there: S_FALSE, a success code, as RegMeta answers. */
    if (!r)
        return S_FALSE;
    const uint8_t *blob;
    uint32_t len = 0;
    if (ilg_md_blob(md, ilg__md_cell(md, ILG_TBL_CustomAttribute, r, ILG_MDC_CustomAttribute_Value),
                    &blob, &len) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (ppData)
        *ppData = blob;
    if (pcbData)
        *pcbData = len;
    return S_OK;
}

/* ---- generics ----------------------------------------------------------------------- */

HRESULT ilg__md_EnumGenericParams(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tk,
                                  mdGenericParam rGenericParams[], ULONG cMax,
                                  ULONG *pcGenericParams)
{
    MD_ENTRY(This, "EnumGenericParams");
    return ilg__md_enum_rows(This, phEnum, ILG_TBL_GenericParam, ILG_MDC_GenericParam_Owner, tk,
                             rGenericParams, cMax, pcGenericParams);
}

HRESULT ilg__md_GetGenericParamProps(IMetaDataImport2 *This, mdGenericParam gp,
                                     ULONG *pulParamSeq, DWORD *pdwParamFlags, mdToken *ptOwner,
                                     DWORD *reserved, LPWSTR wzname, ULONG cchName,
                                     ULONG *pchName)
{
    MD_ENTRY(This, "GetGenericParamProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(gp);
    HRESULT hr;
    if (!ilg__md_row_ok(md, gp, ILG_TBL_GenericParam))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_GenericParam, rid,
                                                 ILG_MDC_GenericParam_Name),
                                     wzname, cchName, pchName)))
        return hr;
    if (pulParamSeq)
        *pulParamSeq = ilg__md_cell(md, ILG_TBL_GenericParam, rid, ILG_MDC_GenericParam_Number);
    if (pdwParamFlags)
        *pdwParamFlags = ilg__md_cell(md, ILG_TBL_GenericParam, rid, ILG_MDC_GenericParam_Flags);
    if (ptOwner)
        *ptOwner = ilg__md_cell(md, ILG_TBL_GenericParam, rid, ILG_MDC_GenericParam_Owner);
    if (reserved)
        *reserved = 0;
    return hr;
}

HRESULT ilg__md_GetMethodSpecProps(IMetaDataImport2 *This, mdMethodSpec mi, mdToken *tkParent,
                                   PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob)
{
    MD_ENTRY(This, "GetMethodSpecProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(mi), len = 0;
    const uint8_t *sig;
    if (!ilg__md_row_ok(md, mi, ILG_TBL_MethodSpec))
        return MD_E_NO_ROW;
    if (ilg_md_blob(md, ilg__md_cell(md, ILG_TBL_MethodSpec, rid, ILG_MDC_MethodSpec_Instantiation),
                    &sig, &len) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (tkParent)
        *tkParent = ilg__md_cell(md, ILG_TBL_MethodSpec, rid, ILG_MDC_MethodSpec_Method);
    if (ppvSigBlob)
        *ppvSigBlob = sig;
    if (pcbSigBlob)
        *pcbSigBlob = len;
    return S_OK;
}

HRESULT ilg__md_EnumGenericParamConstraints(IMetaDataImport2 *This, HCORENUM *phEnum,
                                            mdGenericParam tk,
                                            mdGenericParamConstraint rGenericParamConstraints[],
                                            ULONG cMax, ULONG *pcGenericParamConstraints)
{
    MD_ENTRY(This, "EnumGenericParamConstraints");
    return ilg__md_enum_rows(This, phEnum, ILG_TBL_GenericParamConstraint,
                             ILG_MDC_GenericParamConstraint_Owner, RidFromToken(tk),
                             rGenericParamConstraints, cMax, pcGenericParamConstraints);
}

HRESULT ilg__md_GetGenericParamConstraintProps(IMetaDataImport2 *This,
                                               mdGenericParamConstraint gpc,
                                               mdGenericParam *ptGenericParam,
                                               mdToken *ptkConstraintType)
{
    MD_ENTRY(This, "GetGenericParamConstraintProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(gpc);
    if (!ilg__md_row_ok(md, gpc, ILG_TBL_GenericParamConstraint))
        return MD_E_NO_ROW;
    if (ptGenericParam)
        *ptGenericParam = mdtGenericParam | ilg__md_cell(md, ILG_TBL_GenericParamConstraint, rid,
                                                         ILG_MDC_GenericParamConstraint_Owner);
    if (ptkConstraintType)
        *ptkConstraintType = ilg__md_cell(md, ILG_TBL_GenericParamConstraint, rid,
                                          ILG_MDC_GenericParamConstraint_Constraint);
    return S_OK;
}

HRESULT ilg__md_EnumMethodSpecs(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tk,
                                mdMethodSpec rMethodSpecs[], ULONG cMax, ULONG *pcMethodSpecs)
{
    MD_ENTRY(This, "EnumMethodSpecs");
    /* A nil tk: every MethodSpec of the scope. */
    if (IsNilToken(tk))
        return ilg__md_enum_range(MD_HEAP(This), phEnum, mdtMethodSpec | 1,
                                  ilg_md_row_count(MD_OF(This), ILG_TBL_MethodSpec), rMethodSpecs,
                                  cMax, pcMethodSpecs);
    return ilg__md_enum_rows(This, phEnum, ILG_TBL_MethodSpec, ILG_MDC_MethodSpec_Method, tk,
                             rMethodSpecs, cMax, pcMethodSpecs);
}
