/* mdemit_props.c: the IMetaDataEmit methods that add MethodImpls, properties and events
 * and change rows after the fact (layouts, marshalling, field RVAs, the Set*Props),
 * with the rules of CoreCLR's RegMeta (md/compiler/emit.cpp, regmeta_emit.cpp): flags
 * RegMeta keeps to itself (the *ReservedMask bits) are neither set by the caller nor
 * lost; a constant sets the HasDefault flag; ULONG_MAX leaves a value as it is; a Set*
 * call finds the row the member has (ClassLayout, FieldLayout, FieldMarshal, FieldRVA,
 * Constant, MethodSemantics of the same kind) and changes it, or adds one. Where RegMeta
 * would unlink rows (a parent cell made nil), the writer cannot (a nil parent is not
 * valid metadata): docs/profiler.md, "Writable metadata", says what the host answers. */
#include <stdlib.h>
#include <string.h>

#include "md_private.h"

#define ROW_TOKEN(t, rid) ((uint32_t)(t) << 24 | (rid))
#define KEYED_MAX_COLS 3 /* ClassLayout, FieldLayout, FieldMarshal, FieldRVA have 2 or 3 */
/* CorMethodSemanticsAttr */
enum { MS_SETTER = 0x01, MS_GETTER = 0x02, MS_OTHER = 0x04, MS_ADDON = 0x08, MS_REMOVEON = 0x10,
       MS_FIRE = 0x20 };

typedef struct mde_w {
    host_mdimport *imp;
    ilg_mdemit *em;
    uint64_t gen;
} mde_w;

static HRESULT w_begin(IMetaDataEmit2 *This, mde_w *w)
{
    w->imp = ilg__mde_impl(This);
    return ilg__mde_write_begin(w->imp, &w->em, &w->gen);
}

static HRESULT w_end(mde_w *w, ilg_status st)
{
    return ilg__mde_write_end(w->imp, w->gen, st, false);
}

/* w_begin for a call on row tk of table t, which must exist (a Get*Props' answer
 * otherwise, as RegMeta's record getters). */
static HRESULT w_begin_row(IMetaDataEmit2 *This, mde_w *w, mdToken tk, ilg_table t)
{
    HRESULT hr = w_begin(This, w);
    if (SUCCEEDED(hr) && !ilg__md_row_ok(w->imp->module->md, tk, t)) {
        w_end(w, ILG_OK);
        hr = MD_E_NO_ROW;
    }
    return hr;
}

static const ilg_metadata *w_md(const mde_w *w)
{
    return w->imp->module->md;
}

/* The first row of table whose col holds value, 0 when none (rows added in this call
 * included: a scan, not the index). */
static uint32_t w_find(const mde_w *w, ilg_table t, uint32_t col, uint32_t value)
{
    const uint32_t n = ilg_md_row_count(w_md(w), t);
    for (uint32_t r = 1; r <= n; r++)
        if (ilg__md_cell(w_md(w), t, r, col) == value)
            return r;
    return 0;
}

/* The flags cell of a row: with flags ULONG_MAX unchanged (but for HasDefault when a
 * constant comes: extra), else the caller's without reserved bits plus the row's own
 * reserved ones. */
static ilg_status w_flags(mde_w *w, mdToken tk, uint32_t col, DWORD flags, uint32_t reserved,
                          uint32_t extra)
{
    uint32_t cur = ilg__md_cell(w_md(w), (ilg_table)(tk >> 24), RidFromToken(tk), col);
    if (flags == MDE_KEEP && !extra)
        return ILG_OK;
    uint32_t v = flags == MDE_KEEP ? cur : ((flags & ~reserved) | (cur & reserved));
    return ilg_mdemit_set_cell(w->em, tk, col, v | extra);
}

/* ---- MethodImpl ------------------------------------------------------------------------ */

/* A MethodImpl row: never a duplicate (MDDupMethodDef is not in RegMeta's default). */
HRESULT ilg__mde_DefineMethodImpl(IMetaDataEmit2 *This, mdTypeDef td, mdToken tkBody, mdToken tkDecl)
{
    MDE_ENTRY(This, "DefineMethodImpl");
    mde_w w;
    HRESULT hr;
    if (TypeFromToken(td) != mdtTypeDef)
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    uint32_t c[ILG_MDC_MethodImpl_MethodDeclaration + 1] = { 0 }, tok;
    c[ILG_MDC_MethodImpl_Class] = RidFromToken(td);
    c[ILG_MDC_MethodImpl_MethodBody] = tkBody;
    c[ILG_MDC_MethodImpl_MethodDeclaration] = tkDecl;
    return w_end(&w, ilg_mdemit_row(w.em, ILG_TBL_MethodImpl, c, ILG_ARRAY_LEN(c), &tok, NULL));
}

/* ---- properties and events ------------------------------------------------------------ */

/* Method md as semantics sem of assoc (_DefineMethodSemantics): with clear, the row of
 * that kind assoc has takes md; otherwise, or without one, a new row. A nil md adds
 * nothing; with clear RegMeta unlinks the row of that kind, which the writer cannot
 * (ILG_E_MDEMIT_NOT_DEFINABLE, COR_E_NOTSUPPORTED, when there is one). */
static ilg_status semantics(mde_w *w, uint32_t sem, mdMethodDef md, mdToken assoc, bool clear)
{
    const uint32_t n = ilg_md_row_count(w_md(w), ILG_TBL_MethodSemantics);
    uint32_t reuse = 0;
    if (!IsNilToken(md) && TypeFromToken(md) != mdtMethodDef)
        return ILG_E_MDEMIT_WRONG_TABLE;
    for (uint32_t r = 1; clear && r <= n; r++)
        if (ilg__md_cell(w_md(w), ILG_TBL_MethodSemantics, r, ILG_MDC_MethodSemantics_Association) == assoc &&
            ilg__md_cell(w_md(w), ILG_TBL_MethodSemantics, r, ILG_MDC_MethodSemantics_Semantics) == sem)
            reuse = r;
    if (IsNilToken(md))
        return reuse ? ILG_E_MDEMIT_NOT_DEFINABLE : ILG_OK;
    if (reuse)
        return ilg_mdemit_set_cell(w->em, ROW_TOKEN(ILG_TBL_MethodSemantics, reuse),
                                   ILG_MDC_MethodSemantics_Method, RidFromToken(md));
    uint32_t c[ILG_MDC_MethodSemantics_Association + 1] = { 0 }, tok;
    c[ILG_MDC_MethodSemantics_Semantics] = sem;
    c[ILG_MDC_MethodSemantics_Method] = RidFromToken(md);
    c[ILG_MDC_MethodSemantics_Association] = assoc;
    return ilg_mdemit_row(w->em, ILG_TBL_MethodSemantics, c, ILG_ARRAY_LEN(c), &tok, NULL);
}

/* The "other" methods of a list ending in a nil token; the first one clears. */
static ilg_status others(mde_w *w, const mdMethodDef *list, mdToken assoc, bool clear)
{
    ilg_status st = ILG_OK;
    for (size_t i = 0; st == ILG_OK && list && !IsNilToken(list[i]); i++, clear = false)
        st = semantics(w, MS_OTHER, list[i], assoc, clear);
    return st;
}

/* _SetPropertyProps after the row exists: flags, getter, setter, others, constant. */
static ilg_status property_props(mde_w *w, mdProperty pr, DWORD flags, DWORD et, const void *value,
                                 ULONG cch, mdMethodDef setter, mdMethodDef getter,
                                 const mdMethodDef *rest, bool external)
{
    bool constant = ilg__mde_has_constant(et, value);
    ilg_status st = w_flags(w, pr, ILG_MDC_Property_Flags, flags, MDE_PR_RESERVED,
                            constant ? MDE_PR_HAS_DEFAULT : 0);
    if (st == ILG_OK && getter != MDE_KEEP)
        st = semantics(w, MS_GETTER, getter, pr, external);
    if (st == ILG_OK && setter != MDE_KEEP)
        st = semantics(w, MS_SETTER, setter, pr, external);
    if (st == ILG_OK)
        st = others(w, rest, pr, external);
    if (st == ILG_OK)
        st = ilg__mde_constant(w->imp, w->em, pr, et, value, cch, external);
    return st;
}

HRESULT ilg__mde_DefineProperty(IMetaDataEmit2 *This, mdTypeDef td, LPCWSTR szProperty,
                                DWORD dwPropFlags, PCCOR_SIGNATURE pvSig, ULONG cbSig,
                                DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue,
                                mdMethodDef mdSetter, mdMethodDef mdGetter,
                                mdMethodDef rmdOtherMethods[], mdProperty *pmdProp)
{
    MDE_ENTRY(This, "DefineProperty");
    mde_w w;
    HRESULT hr;
    if (!szProperty || !pmdProp || (cbSig && !pvSig) || TypeFromToken(td) != mdtTypeDef)
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    uint32_t c[ILG_MDC_Property_Type + 1] = { 0 }, tok = 0;
    ilg_status st = ilg__mde_name_index(w.em, szProperty, &c[ILG_MDC_Property_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_blob(w.em, pvSig, cbSig, &c[ILG_MDC_Property_Type]);
    if (st == ILG_OK)
        st = ilg_mdemit_member(w.em, td, ILG_TBL_Property, c, ILG_ARRAY_LEN(c), &tok);
    if (st == ILG_OK)
        st = property_props(&w, tok, dwPropFlags, dwCPlusTypeFlag, pValue, cchValue, mdSetter,
                            mdGetter, rmdOtherMethods, false);
    if (st == ILG_OK)
        *pmdProp = tok;
    return w_end(&w, st);
}

HRESULT ilg__mde_SetPropertyProps(IMetaDataEmit2 *This, mdProperty pr, DWORD dwPropFlags,
                                  DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue,
                                  mdMethodDef mdSetter, mdMethodDef mdGetter,
                                  mdMethodDef rmdOtherMethods[])
{
    MDE_ENTRY(This, "SetPropertyProps");
    mde_w w;
    HRESULT hr;
    if (FAILED(hr = w_begin_row(This, &w, pr, ILG_TBL_Property)))
        return hr;
    return w_end(&w, property_props(&w, pr, dwPropFlags, dwCPlusTypeFlag, pValue, cchValue, mdSetter,
                                    mdGetter, rmdOtherMethods, true));
}

/* _SetEventProps1 and 2: flags, type (when not nil), add, remove, fire, others. */
static ilg_status event_props(mde_w *w, mdEvent ev, DWORD flags, mdToken type, mdMethodDef add,
                              mdMethodDef remove, mdMethodDef fire, const mdMethodDef *rest, bool clear)
{
    ilg_status st = w_flags(w, ev, ILG_MDC_Event_EventFlags, flags, MDE_EV_RESERVED, 0);
    if (st == ILG_OK && !IsNilToken(type))
        st = ilg_mdemit_set_cell(w->em, ev, ILG_MDC_Event_EventType, type);
    /* A nil accessor leaves an event's as it is (_SetEventProps2). */
    if (st == ILG_OK && !IsNilToken(add))
        st = semantics(w, MS_ADDON, add, ev, clear);
    if (st == ILG_OK && !IsNilToken(remove))
        st = semantics(w, MS_REMOVEON, remove, ev, clear);
    if (st == ILG_OK && !IsNilToken(fire))
        st = semantics(w, MS_FIRE, fire, ev, clear);
    if (st == ILG_OK)
        st = others(w, rest, ev, clear);
    return st;
}

HRESULT ilg__mde_DefineEvent(IMetaDataEmit2 *This, mdTypeDef td, LPCWSTR szEvent, DWORD dwEventFlags,
                             mdToken tkEventType, mdMethodDef mdAddOn, mdMethodDef mdRemoveOn,
                             mdMethodDef mdFire, mdMethodDef rmdOtherMethods[], mdEvent *pmdEvent)
{
    MDE_ENTRY(This, "DefineEvent");
    mde_w w;
    HRESULT hr;
    if (!szEvent || !pmdEvent || TypeFromToken(td) != mdtTypeDef)
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    uint32_t c[ILG_MDC_Event_EventType + 1] = { 0 }, tok = 0;
    ilg_status st = ilg__mde_name_index(w.em, szEvent, &c[ILG_MDC_Event_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_member(w.em, td, ILG_TBL_Event, c, ILG_ARRAY_LEN(c), &tok);
    if (st == ILG_OK)
        st = event_props(&w, tok, dwEventFlags, tkEventType, mdAddOn, mdRemoveOn, mdFire,
                         rmdOtherMethods, false);
    if (st == ILG_OK)
        *pmdEvent = tok;
    return w_end(&w, st);
}

HRESULT ilg__mde_SetEventProps(IMetaDataEmit2 *This, mdEvent ev, DWORD dwEventFlags,
                               mdToken tkEventType, mdMethodDef mdAddOn, mdMethodDef mdRemoveOn,
                               mdMethodDef mdFire, mdMethodDef rmdOtherMethods[])
{
    MDE_ENTRY(This, "SetEventProps");
    mde_w w;
    HRESULT hr;
    if (FAILED(hr = w_begin_row(This, &w, ev, ILG_TBL_Event)))
        return hr;
    return w_end(&w, event_props(&w, ev, dwEventFlags, tkEventType, mdAddOn, mdRemoveOn, mdFire,
                                 rmdOtherMethods, true));
}

/* ---- layouts, marshalling, RVAs --------------------------------------------------------- */

/* A row of table keyed by (col = key) whose cell vcol becomes value: found, or added
 * with the other cells 0. */
static ilg_status keyed(mde_w *w, ilg_table t, uint32_t col, uint32_t key, uint32_t vcol, uint32_t value)
{
    uint32_t r = w_find(w, t, col, key);
    if (r)
        return ilg_mdemit_set_cell(w->em, ROW_TOKEN(t, r), vcol, value);
    uint32_t c[KEYED_MAX_COLS] = { 0 }, tok;
    c[col] = key;
    c[vcol] = value;
    return ilg_mdemit_row(w->em, t, c, ilg_md_column_count(t), &tok, NULL);
}

HRESULT ilg__mde_SetClassLayout(IMetaDataEmit2 *This, mdTypeDef td, DWORD dwPackSize,
                                COR_FIELD_OFFSET rFieldOffsets[], ULONG ulClassSize)
{
    MDE_ENTRY(This, "SetClassLayout");
    mde_w w;
    HRESULT hr;
    if (TypeFromToken(td) != mdtTypeDef)
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    ilg_status st = ilg__md_row_ok(w_md(&w), td, ILG_TBL_TypeDef) ? ILG_OK : ILG_E_MDEMIT_NO_ROW;
    /* The offsets end at mdFieldDefNil; ULONG_MAX leaves a field without one. */
    for (size_t i = 0; st == ILG_OK && rFieldOffsets && RidFromToken(rFieldOffsets[i].ridOfField); i++)
        if (rFieldOffsets[i].ulOffset != MDE_KEEP)
            st = keyed(&w, ILG_TBL_FieldLayout, ILG_MDC_FieldLayout_Field,
                       RidFromToken(rFieldOffsets[i].ridOfField), ILG_MDC_FieldLayout_Offset,
                       rFieldOffsets[i].ulOffset);
    uint32_t r = st == ILG_OK ? w_find(&w, ILG_TBL_ClassLayout, ILG_MDC_ClassLayout_Parent, RidFromToken(td)) : 0;
    if (st == ILG_OK && !r) {
        uint32_t c[ILG_MDC_ClassLayout_Parent + 1] = { 0 }, tok;
        c[ILG_MDC_ClassLayout_Parent] = RidFromToken(td);
        st = ilg_mdemit_row(w.em, ILG_TBL_ClassLayout, c, ILG_ARRAY_LEN(c), &tok, NULL);
        r = ilg_md_row_count(w_md(&w), ILG_TBL_ClassLayout);
    }
    if (st == ILG_OK && dwPackSize != MDE_KEEP)
        st = ilg_mdemit_set_cell(w.em, ROW_TOKEN(ILG_TBL_ClassLayout, r), ILG_MDC_ClassLayout_PackingSize,
                                 dwPackSize);
    if (st == ILG_OK && ulClassSize != MDE_KEEP)
        st = ilg_mdemit_set_cell(w.em, ROW_TOKEN(ILG_TBL_ClassLayout, r), ILG_MDC_ClassLayout_ClassSize,
                                 ulClassSize);
    return w_end(&w, st);
}

/* fdHasFieldMarshal or pdHasFieldMarshal on, then the FieldMarshal row. */
HRESULT ilg__mde_SetFieldMarshal(IMetaDataEmit2 *This, mdToken tk, PCCOR_SIGNATURE pvNativeType,
                                 ULONG cbNativeType)
{
    MDE_ENTRY(This, "SetFieldMarshal");
    mde_w w;
    HRESULT hr;
    bool field = TypeFromToken(tk) == mdtFieldDef;
    if ((!field && TypeFromToken(tk) != mdtParamDef) || (cbNativeType && !pvNativeType))
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    uint32_t blob = 0;
    ilg_status st = ilg_mdemit_blob(w.em, pvNativeType, cbNativeType, &blob);
    if (st == ILG_OK)
        st = field ? w_flags(&w, tk, ILG_MDC_Field_Flags, MDE_KEEP, 0, MDE_FD_HAS_MARSHAL)
                   : w_flags(&w, tk, ILG_MDC_Param_Flags, MDE_KEEP, 0, MDE_PD_HAS_MARSHAL);
    if (st == ILG_OK)
        st = keyed(&w, ILG_TBL_FieldMarshal, ILG_MDC_FieldMarshal_Parent, tk,
                   ILG_MDC_FieldMarshal_NativeType, blob);
    return w_end(&w, st);
}

/* fdHasFieldRVA on, then the FieldRVA row. */
static ilg_status field_rva(mde_w *w, mdFieldDef fd, uint32_t rva)
{
    ilg_status st = w_flags(w, fd, ILG_MDC_Field_Flags, MDE_KEEP, 0, MDE_FD_HAS_RVA);
    return st == ILG_OK ? keyed(w, ILG_TBL_FieldRVA, ILG_MDC_FieldRVA_Field, RidFromToken(fd),
                                ILG_MDC_FieldRVA_RVA, rva)
                        : st;
}

HRESULT ilg__mde_SetFieldRVA(IMetaDataEmit2 *This, mdFieldDef fd, ULONG ulRVA)
{
    MDE_ENTRY(This, "SetFieldRVA");
    mde_w w;
    HRESULT hr;
    if (TypeFromToken(fd) != mdtFieldDef)
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    return w_end(&w, field_rva(&w, fd, ulRVA));
}

/* ---- Set*Props ---------------------------------------------------------------------------- */

/* Flags, base type and interfaces (_SetTypeDefProps). RegMeta unlinks the type's
 * InterfaceImpl rows before adding the new list; the writer cannot: a list (even an
 * empty one) for a type that has some answers E_NOTIMPL. */
HRESULT ilg__mde_SetTypeDefProps(IMetaDataEmit2 *This, mdTypeDef td, DWORD dwTypeDefFlags,
                                 mdToken tkExtends, mdToken rtkImplements[])
{
    MDE_ENTRY(This, "SetTypeDefProps");
    mde_w w;
    HRESULT hr;
    if (TypeFromToken(td) != mdtTypeDef)
        return E_INVALIDARG;
    if (FAILED(hr = w_begin_row(This, &w, td, ILG_TBL_TypeDef)))
        return hr;
    if (rtkImplements && w_find(&w, ILG_TBL_InterfaceImpl, ILG_MDC_InterfaceImpl_Class, RidFromToken(td))) {
        w_end(&w, ILG_OK);
        return E_NOTIMPL;
    }
    ilg_status st = w_flags(&w, td, ILG_MDC_TypeDef_Flags, dwTypeDefFlags, MDE_TD_RESERVED, 0);
    if (st == ILG_OK && tkExtends != MDE_KEEP)
        st = ilg_mdemit_set_cell(w.em, td, ILG_MDC_TypeDef_Extends, IsNilToken(tkExtends) ? 0 : tkExtends);
    for (size_t i = 0; st == ILG_OK && rtkImplements && !IsNilToken(rtkImplements[i]); i++) {
        bool seen = false; /* _InterfaceImplDupProc: each interface once */
        for (size_t j = 0; j < i; j++)
            seen = seen || rtkImplements[j] == rtkImplements[i];
        uint32_t c[ILG_MDC_InterfaceImpl_Interface + 1] = { 0 }, tok;
        c[ILG_MDC_InterfaceImpl_Class] = RidFromToken(td);
        c[ILG_MDC_InterfaceImpl_Interface] = rtkImplements[i];
        if (!seen)
            st = ilg_mdemit_row(w.em, ILG_TBL_InterfaceImpl, c, ILG_ARRAY_LEN(c), &tok, NULL);
    }
    return w_end(&w, st);
}

HRESULT ilg__mde_SetFieldProps(IMetaDataEmit2 *This, mdFieldDef fd, DWORD dwFieldFlags,
                               DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue)
{
    MDE_ENTRY(This, "SetFieldProps");
    mde_w w;
    HRESULT hr;
    if (FAILED(hr = w_begin_row(This, &w, fd, ILG_TBL_Field)))
        return hr;
    const uint32_t had = ilg__md_cell(w_md(&w), ILG_TBL_Field, RidFromToken(fd), ILG_MDC_Field_Flags);
    bool constant = ilg__mde_has_constant(dwCPlusTypeFlag, pValue);
    /* fdHasFieldRVA is the caller's to set (not to clear): it makes the FieldRVA row. */
    ilg_status st = w_flags(&w, fd, ILG_MDC_Field_Flags, dwFieldFlags,
                            MDE_FD_RESERVED & ~MDE_FD_HAS_RVA, constant ? MDE_FD_HAS_DEFAULT : 0);
    if (st == ILG_OK && dwFieldFlags != MDE_KEEP && (dwFieldFlags & MDE_FD_HAS_RVA) && !(had & MDE_FD_HAS_RVA))
        st = field_rva(&w, fd, 0);
    if (st == ILG_OK)
        st = ilg__mde_constant(w.imp, w.em, fd, dwCPlusTypeFlag, pValue, cchValue, true);
    return w_end(&w, st);
}

HRESULT ilg__mde_SetParamProps(IMetaDataEmit2 *This, mdParamDef pd, LPCWSTR szName, DWORD dwParamFlags,
                               DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue)
{
    MDE_ENTRY(This, "SetParamProps");
    mde_w w;
    HRESULT hr;
    if (FAILED(hr = w_begin_row(This, &w, pd, ILG_TBL_Param)))
        return hr;
    uint32_t name = 0;
    ilg_status st = szName ? ilg__mde_name_index(w.em, szName, &name) : ILG_OK;
    if (st == ILG_OK && szName)
        st = ilg_mdemit_set_cell(w.em, pd, ILG_MDC_Param_Name, name);
    if (st == ILG_OK)
        st = w_flags(&w, pd, ILG_MDC_Param_Flags, dwParamFlags, MDE_PD_RESERVED,
                     ilg__mde_has_constant(dwCPlusTypeFlag, pValue) ? MDE_PD_HAS_DEFAULT : 0);
    if (st == ILG_OK)
        st = ilg__mde_constant(w.imp, w.em, pd, dwCPlusTypeFlag, pValue, cchValue, true);
    return w_end(&w, st);
}

/* The ImplMap of tk, which must have one (CLDB_E_RECORD_NOTFOUND otherwise). */
HRESULT ilg__mde_SetPinvokeMap(IMetaDataEmit2 *This, mdToken tk, DWORD dwMappingFlags,
                               LPCWSTR szImportName, mdModuleRef mrImportDLL)
{
    MDE_ENTRY(This, "SetPinvokeMap");
    mde_w w;
    HRESULT hr;
    if (TypeFromToken(tk) != mdtFieldDef && TypeFromToken(tk) != mdtMethodDef)
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    uint32_t r = w_find(&w, ILG_TBL_ImplMap, ILG_MDC_ImplMap_MemberForwarded, tk), name = 0;
    if (!r) {
        w_end(&w, ILG_OK);
        return CLDB_E_RECORD_NOTFOUND;
    }
    const uint32_t row = ROW_TOKEN(ILG_TBL_ImplMap, r);
    ilg_status st = ILG_OK;
    if (dwMappingFlags != MDE_KEEP)
        st = ilg_mdemit_set_cell(w.em, row, ILG_MDC_ImplMap_MappingFlags, dwMappingFlags);
    if (st == ILG_OK && szImportName && (st = ilg__mde_name_index(w.em, szImportName, &name)) == ILG_OK)
        st = ilg_mdemit_set_cell(w.em, row, ILG_MDC_ImplMap_ImportName, name);
    if (st == ILG_OK && !IsNilToken(mrImportDLL))
        st = TypeFromToken(mrImportDLL) != mdtModuleRef
                 ? ILG_E_MDEMIT_WRONG_TABLE
                 : ilg_mdemit_set_cell(w.em, row, ILG_MDC_ImplMap_ImportScope, RidFromToken(mrImportDLL));
    return w_end(&w, st);
}

HRESULT ilg__mde_SetCustomAttributeValue(IMetaDataEmit2 *This, mdCustomAttribute pcv,
                                         const void *pCustomAttribute, ULONG cbCustomAttribute)
{
    MDE_ENTRY(This, "SetCustomAttributeValue");
    mde_w w;
    HRESULT hr;
    if (TypeFromToken(pcv) != mdtCustomAttribute || (cbCustomAttribute && !pCustomAttribute))
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    uint32_t blob = 0;
    ilg_status st = ilg_mdemit_blob(w.em, pCustomAttribute, cbCustomAttribute, &blob);
    if (st == ILG_OK)
        st = ilg_mdemit_set_cell(w.em, pcv, ILG_MDC_CustomAttribute_Value, blob);
    return w_end(&w, st);
}

/* Name (when not empty), flags (when not ULONG_MAX), constraints: RegMeta unlinks the
 * existing ones first; the writer cannot, so a parameter that has constraints answers
 * E_NOTIMPL for a new list. */
HRESULT ilg__mde_SetGenericParamProps(IMetaDataEmit2 *This, mdGenericParam gp, DWORD dwParamFlags,
                                      LPCWSTR szName, DWORD reserved, mdToken rtkConstraints[])
{
    MDE_ENTRY(This, "SetGenericParamProps");
    mde_w w;
    HRESULT hr;
    if (reserved || TypeFromToken(gp) != mdtGenericParam)
        return META_E_BAD_INPUT_PARAMETER;
    if (FAILED(hr = w_begin_row(This, &w, gp, ILG_TBL_GenericParam)))
        return hr;
    if (rtkConstraints && w_find(&w, ILG_TBL_GenericParamConstraint, ILG_MDC_GenericParamConstraint_Owner,
                                 RidFromToken(gp))) {
        w_end(&w, ILG_OK);
        return E_NOTIMPL;
    }
    uint32_t name = 0;
    ilg_status st = ILG_OK;
    if (szName && *szName && (st = ilg__mde_name_index(w.em, szName, &name)) == ILG_OK)
        st = ilg_mdemit_set_cell(w.em, gp, ILG_MDC_GenericParam_Name, name);
    if (st == ILG_OK && dwParamFlags != MDE_KEEP)
        st = ilg_mdemit_set_cell(w.em, gp, ILG_MDC_GenericParam_Flags, dwParamFlags & 0xFFFFu);
    for (size_t i = 0; st == ILG_OK && rtkConstraints && RidFromToken(rtkConstraints[i]); i++) {
        uint32_t c[ILG_MDC_GenericParamConstraint_Constraint + 1] = { 0 }, tok;
        c[ILG_MDC_GenericParamConstraint_Owner] = RidFromToken(gp);
        c[ILG_MDC_GenericParamConstraint_Constraint] = rtkConstraints[i];
        st = ilg_mdemit_row(w.em, ILG_TBL_GenericParamConstraint, c, ILG_ARRAY_LEN(c), &tok, NULL);
    }
    return w_end(&w, st);
}

/* ---- the scope, MemberRef parents, declarative security, ENC ------------------------------- */

/* The Module row's name: the file part of szName (RegMeta's SplitPathInterior). */
HRESULT ilg__mde_SetModuleProps(IMetaDataEmit2 *This, LPCWSTR szName)
{
    MDE_ENTRY(This, "SetModuleProps");
    mde_w w;
    HRESULT hr;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    uint32_t name = 0;
    ilg_status st = ILG_OK;
    if (szName) {
        LPCWSTR file = szName;
        for (LPCWSTR p = szName; *p; p++)
            if (*p == '/' || *p == '\\' || *p == ':')
                file = p + 1;
        st = ilg__mde_name_index(w.em, file, &name);
        if (st == ILG_OK)
            st = ilg_mdemit_set_cell(w.em, TokenFromRid(1, mdtModule), ILG_MDC_Module_Name, name);
    }
    return w_end(&w, st);
}

/* A MemberRef's parent. Nil: RegMeta writes its m_tdModule, which CoreCLR 10's emitter
 * has as the nil TypeDef (observed: the parent reads back 0x02000000), not valid in a
 * MemberRef: E_INVALIDARG here. */
HRESULT ilg__mde_SetParent(IMetaDataEmit2 *This, mdMemberRef mr, mdToken tk)
{
    MDE_ENTRY(This, "SetParent");
    mde_w w;
    HRESULT hr;
    if (TypeFromToken(mr) != mdtMemberRef || IsNilToken(tk))
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    return w_end(&w, ilg_mdemit_set_cell(w.em, mr, ILG_MDC_MemberRef_Class, tk));
}

#define DCL_MAXIMUM 14u          /* CorDeclSecurity dclMaximumValue */
#define TD_HAS_SECURITY 0x00040000u
#define MD_HAS_SECURITY 0x4000u

/* A DeclSecurity row (never a duplicate: MDDupPermission is not in RegMeta's default)
 * and the parent's HasSecurity flag. */
HRESULT ilg__mde_DefinePermissionSet(IMetaDataEmit2 *This, mdToken tk, DWORD dwAction,
                                     const void *pvPermission, ULONG cbPermission, mdPermission *ppm)
{
    MDE_ENTRY(This, "DefinePermissionSet");
    mde_w w;
    HRESULT hr;
    short action = (short)dwAction;
    if (action == 0 || action > (short)DCL_MAXIMUM || (cbPermission && !pvPermission))
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    uint32_t c[ILG_MDC_DeclSecurity_PermissionSet + 1] = { 0 }, tok = 0;
    c[ILG_MDC_DeclSecurity_Action] = (uint16_t)action;
    c[ILG_MDC_DeclSecurity_Parent] = tk;
    ilg_status st = ilg_mdemit_blob(w.em, pvPermission, cbPermission, &c[ILG_MDC_DeclSecurity_PermissionSet]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(w.em, ILG_TBL_DeclSecurity, c, ILG_ARRAY_LEN(c), &tok, NULL);
    if (st == ILG_OK && TypeFromToken(tk) == mdtTypeDef)
        st = w_flags(&w, tk, ILG_MDC_TypeDef_Flags, MDE_KEEP, 0, TD_HAS_SECURITY);
    if (st == ILG_OK && TypeFromToken(tk) == mdtMethodDef)
        st = w_flags(&w, tk, ILG_MDC_MethodDef_Flags, MDE_KEEP, 0, MD_HAS_SECURITY);
    if (st == ILG_OK && ppm)
        *ppm = tok;
    return w_end(&w, st);
}

/* The blob of tk's DeclSecurity row for dwAction (CLDB_E_RECORD_NOTFOUND without one). */
HRESULT ilg__mde_SetPermissionSetProps(IMetaDataEmit2 *This, mdToken tk, DWORD dwAction,
                                       const void *pvPermission, ULONG cbPermission, mdPermission *ppm)
{
    MDE_ENTRY(This, "SetPermissionSetProps");
    mde_w w;
    HRESULT hr;
    if (dwAction == MDE_KEEP || dwAction == 0 || dwAction > DCL_MAXIMUM || (cbPermission && !pvPermission))
        return E_INVALIDARG;
    if (FAILED(hr = w_begin(This, &w)))
        return hr;
    const uint32_t n = ilg_md_row_count(w_md(&w), ILG_TBL_DeclSecurity);
    uint32_t r = 0, blob = 0;
    for (uint32_t i = 1; i <= n && !r; i++)
        if (ilg__md_cell(w_md(&w), ILG_TBL_DeclSecurity, i, ILG_MDC_DeclSecurity_Parent) == tk &&
            ilg__md_cell(w_md(&w), ILG_TBL_DeclSecurity, i, ILG_MDC_DeclSecurity_Action) == dwAction)
            r = i;
    if (!r) {
        w_end(&w, ILG_OK);
        return CLDB_E_RECORD_NOTFOUND;
    }
    ilg_status st = ilg_mdemit_blob(w.em, pvPermission, cbPermission, &blob);
    if (st == ILG_OK)
        st = ilg_mdemit_set_cell(w.em, ROW_TOKEN(ILG_TBL_DeclSecurity, r), ILG_MDC_DeclSecurity_PermissionSet, blob);
    if (st == ILG_OK && ppm)
        *ppm = ROW_TOKEN(ILG_TBL_DeclSecurity, r);
    return w_end(&w, st);
}

/* The module's emitter is not in ENC mode: the ENC calls answer so (observed). */
HRESULT ilg__mde_GetDeltaSaveSize(IMetaDataEmit2 *This, CorSaveSize fSave, DWORD *pdwSaveSize)
{
    MDE_ENTRY(This, "GetDeltaSaveSize");
    (void)fSave;
    (void)pdwSaveSize;
    return META_E_NOT_IN_ENC_MODE;
}

HRESULT ilg__mde_ResetENCLog(IMetaDataEmit2 *This)
{
    MDE_ENTRY(This, "ResetENCLog");
    return META_E_NOT_IN_ENC_MODE;
}
