/* mdresolve.c: the IMetaDataImport methods that look past one table row: ResolveTypeRef
 * (a TypeRef found among the modules loaded so far, by name, as CoreCLR's metadata
 * searches its loaded scopes), EnumUnresolvedMethods and GetNativeCallConvFromSig (read
 * from CoreCLR's metadata importer and compared with its answers by md_probe). */
#include <string.h>

#include "md_private.h"
#include "sig.h"

/* Nesting deeper than this is a loop in bad metadata (a TypeRef scoped by itself). */
#define MAX_NESTING 64
#define SIG_MAX_DEPTH 64

static const char *typeref_str(const ilg_metadata *md, uint32_t rid, uint32_t col)
{
    return ilg__md_str(md, ILG_TBL_TypeRef, rid, col);
}

uint32_t ilg__md_find_typedef(host_module *m, const char *ns, const char *name, uint32_t outer)
{
    /* m may be another module than the caller's, grown meanwhile by an emit call. */
    MD_READ_LOCKED(&m->importer);
    const ilg_metadata *md = m->md;
    const uint32_t rows = ilg_md_row_count(md, ILG_TBL_TypeDef);
    for (uint32_t r = 1; r <= rows; r++)
        if (strcmp(ilg__md_str(md, ILG_TBL_TypeDef, r, ILG_MDC_TypeDef_TypeName), name) == 0 &&
            strcmp(ilg__md_str(md, ILG_TBL_TypeDef, r, ILG_MDC_TypeDef_TypeNamespace), ns) == 0 &&
            ilg__md_enclosing_of(&m->importer, r) == outer)
            return r;
    return 0;
}

static bool resolve_typeref(host_module *m, uint32_t rid, int depth, host_module **out,
                            uint32_t *td_rid)
{
    const ilg_metadata *md = m->md;
    if (depth > MAX_NESTING || !rid || rid > ilg_md_row_count(md, ILG_TBL_TypeRef))
        return false;
    const char *ns = typeref_str(md, rid, ILG_MDC_TypeRef_TypeNamespace);
    const char *name = typeref_str(md, rid, ILG_MDC_TypeRef_TypeName);
    uint32_t scope = 0;
    if (ilg_md_cell(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_ResolutionScope, &scope) != ILG_OK)
        return false;
    if (TypeFromToken(scope) == mdtTypeRef) {
        host_module *om;
        uint32_t orid, r;
        if (!resolve_typeref(m, RidFromToken(scope), depth + 1, &om, &orid) ||
            !(r = ilg__md_find_typedef(om, ns, name, orid)))
            return false;
        *out = om;
        *td_rid = r;
        return true;
    }
    /* Every loaded module, in load order, the referring one among them: the assembly
     * the reference names is not consulted (CoreCLR resolves [System.Runtime]System.Object
     * to CoreLib's TypeDef this way, observed). */
    const ilg_host *h = m->host;
    for (uint32_t i = 0; i < h->module_count; i++) {
        uint32_t r = ilg__md_find_typedef(h->modules[i], ns, name, 0);
        if (r) {
            *out = h->modules[i];
            *td_rid = r;
            return true;
        }
    }
    return false;
}

bool ilg__host_resolve_typeref(host_module *m, mdToken tr, host_module **out, uint32_t *td_rid)
{
    MD_READ_LOCKED(&m->importer);
    return TypeFromToken(tr) == mdtTypeRef && resolve_typeref(m, RidFromToken(tr), 0, out, td_rid);
}

HRESULT ilg__md_ResolveTypeRef(IMetaDataImport2 *This, mdTypeRef tr, REFIID riid,
                               IUnknown **ppIScope, mdTypeDef *ptd)
{
    MD_ENTRY(This, "ResolveTypeRef");
    host_mdimport *imp = ilg__md_impl(This);
    host_module *found;
    uint32_t rid;
    if (!ppIScope || !ptd)
        return E_INVALIDARG;
    *ppIScope = NULL;
    *ptd = 0;
    if (IsNilToken(tr)) {
        *ptd = mdTypeDefNil;
        return E_INVALIDARG;
    }
    if (TypeFromToken(tr) == mdtTypeDef) {
        *ptd = tr;
        return ilg__md_query(imp, riid, (void **)ppIScope);
    }
    if (!ilg__md_row_ok(imp->module->md, tr, ILG_TBL_TypeRef))
        return MD_E_NO_ROW;
    if (!ilg__host_resolve_typeref(imp->module, tr, &found, &rid))
        return META_E_CANNOTRESOLVETYPEREF;
    HRESULT hr = ilg__md_query(&found->importer, riid, (void **)ppIScope);
    if (hr == S_OK)
        *ptd = TokenFromRid(rid, mdtTypeDef);
    return hr;
}

/* ---- EnumUnresolvedMethods ---------------------------------------------------------- */

/* CoreCLR's rule: a method of a type other than <Module> (an interface's static ones
 * only) marked ForwardRef that is neither P/Invoke, runtime, internal call nor abstract. */
static bool method_unresolved(const ilg_metadata *md, uint32_t type_rid, uint32_t m)
{
    const uint32_t tflags = ilg__md_cell(md, ILG_TBL_TypeDef, type_rid, ILG_MDC_TypeDef_Flags);
    const uint32_t flags = ilg__md_cell(md, ILG_TBL_MethodDef, m, ILG_MDC_MethodDef_Flags);
    const uint32_t impl = ilg__md_cell(md, ILG_TBL_MethodDef, m, ILG_MDC_MethodDef_ImplFlags);
    if ((tflags & ILG_TYPEATTR_INTERFACE) && !(flags & ILG_METHODATTR_STATIC))
        return false;
    if (!(impl & ILG_METHODIMPL_FORWARDREF) || (flags & ILG_METHODATTR_PINVOKEIMPL))
        return false;
    if ((impl & ILG_METHODIMPL_CODETYPE_MASK) == ILG_METHODIMPL_RUNTIME ||
        (impl & ILG_METHODIMPL_INTERNALCALL))
        return false;
    return !(flags & ILG_METHODATTR_ABSTRACT);
}

/* Whether <Module> defines a method or field with the MemberRef's name and signature
 * (CoreCLR maps such a reference to its definition first). */
static bool global_defined(host_mdimport *imp, uint32_t mr)
{
    const ilg_metadata *md = imp->module->md;
    const char *name = ilg__md_str(md, ILG_TBL_MemberRef, mr, ILG_MDC_MemberRef_Name);
    PCCOR_SIGNATURE sig, other;
    ULONG len, olen;
    if (ilg__md_blob_of(md, TokenFromRid(mr, mdtMemberRef), ILG_TBL_MemberRef,
                        ILG_MDC_MemberRef_Signature, &sig, &len) != S_OK)
        return false;
    static const struct {
        ilg_table table;
        uint32_t list, name, sig;
    } kinds[] = {
        { ILG_TBL_MethodDef, ILG_MDC_TypeDef_MethodList, ILG_MDC_MethodDef_Name,
          ILG_MDC_MethodDef_Signature },
        { ILG_TBL_Field, ILG_MDC_TypeDef_FieldList, ILG_MDC_Field_Name, ILG_MDC_Field_Signature },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint32_t first, count;
        ilg__md_list_of(md, ILG_TBL_TypeDef, 1, kinds[k].list, kinds[k].table, &first, &count);
        for (uint32_t r = first; r < first + count; r++)
            if (strcmp(ilg__md_str(md, kinds[k].table, r, kinds[k].name), name) == 0 &&
                ilg__md_blob_of(md, TokenFromRid(r, (uint32_t)kinds[k].table << 24),
                                kinds[k].table, kinds[k].sig, &other, &olen) == S_OK &&
                olen == len && memcmp(other, sig, len) == 0)
                return true;
    }
    return false;
}

static md_enum *unresolved_list(IMetaDataImport2 *This)
{
    host_mdimport *imp = ilg__md_impl(This);
    const ilg_metadata *md = imp->module->md;
    const uint32_t types = ilg_md_row_count(md, ILG_TBL_TypeDef);
    const uint32_t refs = ilg_md_row_count(md, ILG_TBL_MemberRef);
    const uint32_t methods = ilg_md_row_count(md, ILG_TBL_MethodDef);
    md_enum *e = ilg__md_enum_new(MD_HEAP(This), 0, 0, methods + refs + 1);
    if (!e)
        return NULL;
    for (uint32_t t = 2; t <= types; t++) {
        uint32_t first, count;
        ilg__md_list_of(md, ILG_TBL_TypeDef, t, ILG_MDC_TypeDef_MethodList, ILG_TBL_MethodDef,
                        &first, &count);
        for (uint32_t m = first; m < first + count; m++)
            if (method_unresolved(md, t, m))
                e->list[e->count++] = TokenFromRid(m, mdtMethodDef);
    }
    for (uint32_t r = 1; r <= refs; r++)
        if (ilg__md_cell(md, ILG_TBL_MemberRef, r, ILG_MDC_MemberRef_Class) ==
                TokenFromRid(1, mdtTypeDef) &&
            !global_defined(imp, r))
            e->list[e->count++] = TokenFromRid(r, mdtMemberRef);
    return e;
}

HRESULT ilg__md_EnumUnresolvedMethods(IMetaDataImport2 *This, HCORENUM *phEnum,
                                      mdToken rMethods[], ULONG cMax, ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumUnresolvedMethods");
    md_enum *e;
    if (!phEnum)
        return E_INVALIDARG;
    if (*phEnum)
        return (e = ilg__md_enum_check(*phEnum)) ? ilg__md_enum_take(e, rMethods, cMax, pcTokens)
                                                 : E_INVALIDARG;
    if (!(e = unresolved_list(This)))
        return E_OUTOFMEMORY;
    *phEnum = e;
    return ilg__md_enum_take(e, rMethods, cMax, pcTokens);
}

/* ---- GetNativeCallConvFromSig ------------------------------------------------------- */

static const struct {
    const char *name;
    ULONG conv;
} callconv_types[] = {
    { "CallConvCdecl", pmCallConvCdecl },
    { "CallConvStdcall", pmCallConvStdcall },
    { "CallConvThiscall", pmCallConvThiscall },
    { "CallConvFastcall", pmCallConvFastcall },
};
#define CALLCONV_NAMESPACE "System.Runtime.CompilerServices"

/* The calling convention a custom modifier's type names, 0 for another type; an error
 * for a token of no row. */
static HRESULT modifier_conv(const ilg_metadata *md, mdToken tk, ULONG *conv)
{
    ilg_table table = TypeFromToken(tk) == mdtTypeRef ? ILG_TBL_TypeRef : ILG_TBL_TypeDef;
    uint32_t ns_col = table == ILG_TBL_TypeRef ? ILG_MDC_TypeRef_TypeNamespace
                                               : ILG_MDC_TypeDef_TypeNamespace;
    uint32_t name_col = table == ILG_TBL_TypeRef ? ILG_MDC_TypeRef_TypeName
                                                 : ILG_MDC_TypeDef_TypeName;
    *conv = 0;
    if (TypeFromToken(tk) != mdtTypeRef && TypeFromToken(tk) != mdtTypeDef)
        return S_OK;
    if (!ilg__md_row_ok(md, tk, table))
        return MD_E_NO_ROW;
    if (strcmp(ilg__md_str(md, table, RidFromToken(tk), ns_col), CALLCONV_NAMESPACE) != 0)
        return S_OK;
    const char *name = ilg__md_str(md, table, RidFromToken(tk), name_col);
    for (size_t i = 0; i < sizeof callconv_types / sizeof callconv_types[0]; i++)
        if (strcmp(name, callconv_types[i].name) == 0)
            *conv = callconv_types[i].conv;
    return S_OK;
}

/* One parameter (or the return type): its leading custom modifiers, searched for a
 * calling convention, then the type skipped. */
static HRESULT one_arg(const ilg_metadata *md, ilg_sig_cur *c, ULONG *conv)
{
    for (;;) {
        ilg_sig_cur at = *c;
        uint8_t et;
        mdToken tk;
        if (!ilg__sig_u8(&at, &et))
            return S_FALSE; /* the signature ended: nothing more to search */
        if (et != ILG_ET_CMOD_OPT && et != ILG_ET_CMOD_REQD)
            break;
        if (!ilg__sig_token(&at, &tk))
            return META_E_BAD_SIGNATURE;
        HRESULT hr = modifier_conv(md, tk, conv);
        if (hr != S_OK || *conv)
            return hr;
        *c = at;
    }
    return ilg__sig_skip_type(c, 0, SIG_MAX_DEPTH, NULL) ? S_OK : S_FALSE;
}

HRESULT ilg__md_GetNativeCallConvFromSig(IMetaDataImport2 *This, const void *pvSig, ULONG cbSig,
                                         ULONG *pCallConv)
{
    MD_ENTRY(This, "GetNativeCallConvFromSig");
    const ilg_metadata *md = MD_OF(This);
    ilg_sig_cur c = { pvSig, (const uint8_t *)pvSig + cbSig };
    uint32_t conv, generics, params;
    ULONG found = 0;
    if (!pCallConv || (cbSig && !pvSig))
        return E_INVALIDARG;
    /* Winapi unless a parameter's modifier says otherwise; the walk stops at the end of
     * the bytes given (CoreCLR's reads on past cbSig: coreclr-observed.md). */
    *pCallConv = pmCallConvWinapi;
    if (!ilg__sig_uint(&c, &conv) || ((conv & ILG_SIG_GENERIC) && !ilg__sig_uint(&c, &generics)) ||
        !ilg__sig_uint(&c, &params))
        return S_OK;
    for (uint32_t i = 0; i <= params; i++) {
        HRESULT hr = one_arg(md, &c, &found);
        if (FAILED(hr))
            return hr;
        if (found) {
            *pCallConv = found;
            return S_OK;
        }
        if (hr == S_FALSE)
            break;
    }
    return S_OK;
}
