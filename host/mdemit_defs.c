/* mdemit_defs.c: the IMetaDataEmit2 methods that define types, methods, fields,
 * parameters, generic parameters and P/Invoke maps (mdemit.c has the references, the
 * signatures, the strings and the object). Members may be added to any type, the image's
 * own included, as CoreCLR 10's emitter from GetModuleMetaData(ofWrite) allows
 * (docs/coreclr-observed.md). A method defined here gets a host record at once, so
 * SetILFunctionBody can give it its body, and a type its class record (ClassID) (docs/profiler.md,
 * "Writable metadata"). */
#include <stdlib.h>
#include <string.h>

#include "md_private.h"

/* A TypeDef row named by "Ns.Name" plus an InterfaceImpl row per implemented interface
 * (the list ends at mdTokenNil). */
static ilg_status type_def(ilg_mdemit *em, LPCWSTR name, DWORD flags, mdToken extends,
                           const mdToken *implements, mdTypeDef *out)
{
    uint32_t cells[ILG_MDC_TypeDef_MethodList + 1] = { 0 }, tok = 0;
    ilg_status st = ilg__mde_split_name(em, name, &cells[ILG_MDC_TypeDef_TypeNamespace],
                                        &cells[ILG_MDC_TypeDef_TypeName]);
    cells[ILG_MDC_TypeDef_Flags] = flags;
    cells[ILG_MDC_TypeDef_Extends] = IsNilToken(extends) ? 0 : extends;
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_TypeDef, cells, ILG_ARRAY_LEN(cells), &tok, NULL);
    for (size_t i = 0; st == ILG_OK && implements && !IsNilToken(implements[i]); i++) {
        uint32_t ii[ILG_MDC_InterfaceImpl_Interface + 1] = { 0 }, ii_tok;
        ii[ILG_MDC_InterfaceImpl_Class] = RidFromToken(tok);
        ii[ILG_MDC_InterfaceImpl_Interface] = implements[i];
        st = ilg_mdemit_row(em, ILG_TBL_InterfaceImpl, ii, ILG_ARRAY_LEN(ii), &ii_tok, NULL);
    }
    if (st == ILG_OK)
        *out = tok;
    return st;
}

HRESULT ilg__mde_DefineTypeDef(IMetaDataEmit2 *This, LPCWSTR szTypeDef, DWORD dwTypeDefFlags,
                               mdToken tkExtends, mdToken rtkImplements[], mdTypeDef *ptd)
{
    MDE_ENTRY(This, "DefineTypeDef");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    mdTypeDef tok = 0;
    if (!szTypeDef || !ptd)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    ilg_status st = type_def(em, szTypeDef, dwTypeDefFlags, tkExtends, rtkImplements, &tok);
    /* The class record GetClassFromToken answers with, at once as in CoreCLR. */
    if (st == ILG_OK && !ilg__host_class_add(imp->module, tok))
        st = ILG_E_NOMEM;
    if (st == ILG_OK)
        *ptd = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

HRESULT ilg__mde_DefineNestedType(IMetaDataEmit2 *This, LPCWSTR szTypeDef, DWORD dwTypeDefFlags,
                                  mdToken tkExtends, mdToken rtkImplements[], mdTypeDef tdEncloser,
                                  mdTypeDef *ptd)
{
    MDE_ENTRY(This, "DefineNestedType");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    mdTypeDef tok = 0;
    if (!szTypeDef || !ptd || TypeFromToken(tdEncloser) != mdtTypeDef)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    ilg_status st = ILG_OK;
    if (!ilg__md_row_ok(imp->module->md, tdEncloser, ILG_TBL_TypeDef))
        st = ILG_E_MDEMIT_NO_ROW;
    if (st == ILG_OK)
        st = type_def(em, szTypeDef, dwTypeDefFlags, tkExtends, rtkImplements, &tok);
    if (st == ILG_OK && !ilg__host_class_add(imp->module, tok))
        st = ILG_E_NOMEM;
    if (st == ILG_OK) {
        uint32_t nc[ILG_MDC_NestedClass_EnclosingClass + 1] = { 0 }, nc_tok;
        nc[ILG_MDC_NestedClass_NestedClass] = RidFromToken(tok);
        nc[ILG_MDC_NestedClass_EnclosingClass] = RidFromToken(tdEncloser);
        st = ilg_mdemit_row(em, ILG_TBL_NestedClass, nc, ILG_ARRAY_LEN(nc), &nc_tok, NULL);
    }
    if (st == ILG_OK)
        *ptd = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

HRESULT ilg__mde_DefineMethod(IMetaDataEmit2 *This, mdTypeDef td, LPCWSTR szName,
                              DWORD dwMethodFlags, PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob,
                              ULONG ulCodeRVA, DWORD dwImplFlags, mdMethodDef *pmd)
{
    MDE_ENTRY(This, "DefineMethod");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !pmd || (cbSigBlob && !pvSigBlob) || TypeFromToken(td) != mdtTypeDef)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t cells[ILG_MDC_MethodDef_ParamList + 1] = { 0 }, tok = 0;
    cells[ILG_MDC_MethodDef_RVA] = ulCodeRVA;
    cells[ILG_MDC_MethodDef_ImplFlags] = dwImplFlags;
    cells[ILG_MDC_MethodDef_Flags] = dwMethodFlags;
    ilg_status st = ilg__mde_name_index(em, szName, &cells[ILG_MDC_MethodDef_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_blob(em, pvSigBlob, cbSigBlob, &cells[ILG_MDC_MethodDef_Signature]);
    if (st == ILG_OK)
        st = ilg_mdemit_member(em, td, ILG_TBL_MethodDef, cells, ILG_ARRAY_LEN(cells), &tok);
    /* The record SetILFunctionBody and GetFunctionFromToken find it by. */
    if (st == ILG_OK && !ilg__host_method_add(imp->module, tok))
        st = ILG_E_NOMEM;
    if (st == ILG_OK)
        *pmd = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

/* Sets the cells of row token given as (column, value) pairs, skipping MDE_KEEP values. */
static HRESULT set_cells(IMetaDataEmit2 *This, mdToken token, const uint32_t (*pairs)[2],
                         size_t n)
{
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    ilg_status st = ILG_OK;
    for (size_t i = 0; st == ILG_OK && i < n; i++)
        if (pairs[i][1] != MDE_KEEP)
            st = ilg_mdemit_set_cell(em, token, pairs[i][0], pairs[i][1]);
    return ilg__mde_write_end(imp, gen, st, false);
}

HRESULT ilg__mde_SetMethodProps(IMetaDataEmit2 *This, mdMethodDef md, DWORD dwMethodFlags,
                                ULONG ulCodeRVA, DWORD dwImplFlags)
{
    MDE_ENTRY(This, "SetMethodProps");
    const uint32_t pairs[][2] = { { ILG_MDC_MethodDef_Flags, dwMethodFlags },
                                  { ILG_MDC_MethodDef_RVA, ulCodeRVA },
                                  { ILG_MDC_MethodDef_ImplFlags, dwImplFlags } };
    return set_cells(This, md, pairs, ILG_ARRAY_LEN(pairs));
}

HRESULT ilg__mde_SetRVA(IMetaDataEmit2 *This, mdMethodDef md, ULONG ulRVA)
{
    MDE_ENTRY(This, "SetRVA");
    const uint32_t pairs[][2] = { { ILG_MDC_MethodDef_RVA, ulRVA } };
    return set_cells(This, md, pairs, ILG_ARRAY_LEN(pairs));
}

HRESULT ilg__mde_SetMethodImplFlags(IMetaDataEmit2 *This, mdMethodDef md, DWORD dwImplFlags)
{
    MDE_ENTRY(This, "SetMethodImplFlags");
    const uint32_t pairs[][2] = { { ILG_MDC_MethodDef_ImplFlags, dwImplFlags } };
    return set_cells(This, md, pairs, ILG_ARRAY_LEN(pairs));
}

HRESULT ilg__mde_DefinePinvokeMap(IMetaDataEmit2 *This, mdToken tk, DWORD dwMappingFlags,
                                  LPCWSTR szImportName, mdModuleRef mrImportDLL)
{
    MDE_ENTRY(This, "DefinePinvokeMap");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (TypeFromToken(mrImportDLL) != mdtModuleRef)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t cells[ILG_MDC_ImplMap_ImportScope + 1] = { 0 }, tok;
    cells[ILG_MDC_ImplMap_MappingFlags] = dwMappingFlags;
    cells[ILG_MDC_ImplMap_MemberForwarded] = tk;
    cells[ILG_MDC_ImplMap_ImportScope] = RidFromToken(mrImportDLL);
    ilg_status st = ilg__mde_name_index(em, szImportName, &cells[ILG_MDC_ImplMap_ImportName]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_ImplMap, cells, ILG_ARRAY_LEN(cells), &tok, NULL);
    return ilg__mde_write_end(imp, gen, st, false);
}

/* The bytes of a constant of element type et (cch: a string's length in UTF-16 units);
 * 0 for a type a constant cannot have. */
static uint32_t constant_size(DWORD et, ULONG cch)
{
    switch (et) {
    case ILG_ET_BOOLEAN:
    case ILG_ET_I1:
    case ILG_ET_U1:
        return sizeof(uint8_t);
    case ILG_ET_CHAR:
    case ILG_ET_I2:
    case ILG_ET_U2:
        return sizeof(uint16_t);
    case ILG_ET_I4:
    case ILG_ET_U4:
    case ILG_ET_R4:
    case ILG_ET_CLASS: /* null: a 4-byte zero */
        return sizeof(uint32_t);
    case ILG_ET_I8:
    case ILG_ET_U8:
    case ILG_ET_R8:
        return sizeof(uint64_t);
    case ILG_ET_STRING:
        return cch * (uint32_t)sizeof(uint16_t);
    default:
        return 0;
    }
}

/* Whether (et, value) defines a constant: RegMeta's test in _SetFieldProps and the
 * others (ELEMENT_TYPE_VOID, END and ULONG_MAX mean none; a NULL value only for a
 * string or a null reference). */
bool ilg__mde_has_constant(DWORD et, const void *value)
{
    return et != ILG_ET_VOID && et != ILG_ET_END && et != MDE_KEEP &&
           (value || et == ILG_ET_STRING || et == ILG_ET_CLASS);
}

/* parent's Constant row: a new one, or with search the one parent has, changed
 * (_DefineSetConstant). */
ilg_status ilg__mde_constant(host_mdimport *imp, ilg_mdemit *em, mdToken parent, DWORD et,
                             const void *value, ULONG cch, bool search)
{
    static const uint32_t zero;
    if (!ilg__mde_has_constant(et, value))
        return ILG_OK;
    uint32_t size = constant_size(et, cch);
    if ((!size && et != ILG_ET_STRING) || (size && !value && et != ILG_ET_CLASS))
        return ILG_E_INVALID_ARG;
    uint32_t cells[ILG_MDC_Constant_Value + 1] = { 0 }, tok;
    cells[ILG_MDC_Constant_Type] = et;
    cells[ILG_MDC_Constant_Parent] = parent;
    ilg_status st = ilg_mdemit_blob(em, value ? value : &zero, size, &cells[ILG_MDC_Constant_Value]);
    uint32_t row = search ? ilg__md_row_where(imp, ILG_TBL_Constant, ILG_MDC_Constant_Parent, parent) : 0;
    if (st == ILG_OK && row) {
        tok = TokenFromRid(row, (uint32_t)ILG_TBL_Constant << 24);
        st = ilg_mdemit_set_cell(em, tok, ILG_MDC_Constant_Type, et);
        if (st == ILG_OK)
            st = ilg_mdemit_set_cell(em, tok, ILG_MDC_Constant_Value, cells[ILG_MDC_Constant_Value]);
    } else if (st == ILG_OK) {
        st = ilg_mdemit_row(em, ILG_TBL_Constant, cells, ILG_ARRAY_LEN(cells), &tok, NULL);
    }
    return st;
}

HRESULT ilg__mde_DefineField(IMetaDataEmit2 *This, mdTypeDef td, LPCWSTR szName,
                             DWORD dwFieldFlags, PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob,
                             DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue,
                             mdFieldDef *pmd)
{
    MDE_ENTRY(This, "DefineField");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !pmd || (cbSigBlob && !pvSigBlob) || TypeFromToken(td) != mdtTypeDef)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t cells[ILG_MDC_Field_Signature + 1] = { 0 }, tok = 0;
    /* fdHasDefault with a constant, as RegMeta's _SetFieldProps sets it. */
    cells[ILG_MDC_Field_Flags] = dwFieldFlags | (ilg__mde_has_constant(dwCPlusTypeFlag, pValue) ? MDE_FD_HAS_DEFAULT : 0);
    ilg_status st = ilg__mde_name_index(em, szName, &cells[ILG_MDC_Field_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_blob(em, pvSigBlob, cbSigBlob, &cells[ILG_MDC_Field_Signature]);
    if (st == ILG_OK)
        st = ilg_mdemit_member(em, td, ILG_TBL_Field, cells, ILG_ARRAY_LEN(cells), &tok);
    if (st == ILG_OK)
        st = ilg__mde_constant(imp, em, tok, dwCPlusTypeFlag, pValue, cchValue, false);
    if (st == ILG_OK)
        *pmd = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

HRESULT ilg__mde_DefineParam(IMetaDataEmit2 *This, mdMethodDef md, ULONG ulParamSeq,
                             LPCWSTR szName, DWORD dwParamFlags, DWORD dwCPlusTypeFlag,
                             const void *pValue, ULONG cchValue, mdParamDef *ppd)
{
    MDE_ENTRY(This, "DefineParam");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!ppd || TypeFromToken(md) != mdtMethodDef)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t cells[ILG_MDC_Param_Name + 1] = { 0 }, tok = 0;
    cells[ILG_MDC_Param_Flags] = dwParamFlags | (ilg__mde_has_constant(dwCPlusTypeFlag, pValue) ? MDE_PD_HAS_DEFAULT : 0);
    cells[ILG_MDC_Param_Sequence] = ulParamSeq;
    ilg_status st = ilg__mde_name_index(em, szName, &cells[ILG_MDC_Param_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_member(em, md, ILG_TBL_Param, cells, ILG_ARRAY_LEN(cells), &tok);
    if (st == ILG_OK)
        st = ilg__mde_constant(imp, em, tok, dwCPlusTypeFlag, pValue, cchValue, false);
    if (st == ILG_OK)
        *ppd = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

HRESULT ilg__mde_DefineGenericParam(IMetaDataEmit2 *This, mdToken tk, ULONG ulParamSeq,
                                    DWORD dwParamFlags, LPCWSTR szname, DWORD reserved,
                                    mdToken rtkConstraints[], mdGenericParam *pgp)
{
    MDE_ENTRY(This, "DefineGenericParam");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!pgp || reserved)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t cells[ILG_MDC_GenericParam_Name + 1] = { 0 }, tok = 0;
    cells[ILG_MDC_GenericParam_Number] = ulParamSeq;
    cells[ILG_MDC_GenericParam_Flags] = dwParamFlags;
    cells[ILG_MDC_GenericParam_Owner] = tk;
    ilg_status st = ilg__mde_name_index(em, szname, &cells[ILG_MDC_GenericParam_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_GenericParam, cells, ILG_ARRAY_LEN(cells), &tok, NULL);
    for (size_t i = 0; st == ILG_OK && rtkConstraints && !IsNilToken(rtkConstraints[i]); i++) {
        uint32_t c[ILG_MDC_GenericParamConstraint_Constraint + 1] = { 0 }, c_tok;
        c[ILG_MDC_GenericParamConstraint_Owner] = RidFromToken(tok);
        c[ILG_MDC_GenericParamConstraint_Constraint] = rtkConstraints[i];
        st = ilg_mdemit_row(em, ILG_TBL_GenericParamConstraint, c, ILG_ARRAY_LEN(c), &c_tok, NULL);
    }
    if (st == ILG_OK && TypeFromToken(tk) == mdtTypeDef)
        ilg__host_class_generic(imp->module, tk);
    if (st == ILG_OK)
        *pgp = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}
