/* mdimport.c: the read-only IMetaDataImport the host hands out per module, covering
 * what profilers use to find things (types, methods, member references, signatures,
 * user strings); every other slot answers E_NOTIMPL. Names follow the metadata API's
 * rules: counts include the NUL, and a name that does not fit is truncated with
 * CLDB_S_TRUNCATION (a success code). */
#include "host_private.h"

/* A token range enumeration: first, first + 1, ... first + count - 1. */
#define MD_ENUM_MAGIC 0x4D44454Eu
typedef struct md_enum {
    uint32_t magic;
    uint32_t first, count, pos;
} md_enum;

static host_mdimport *impl_from_IMetaDataImport(IMetaDataImport *iface)
{
    return (host_mdimport *)((char *)iface - offsetof(host_mdimport, IMetaDataImport_iface));
}

/* Every method's first statement (host_private.h, "Entry into the host"). The metadata
 * interfaces are not profiler entry points in CoreCLR: no call rule. */
#define MD_HOST(This) (impl_from_IMetaDataImport(This)->module->host)
#define MD_ENTRY(This, method) HOST_ENTRY(MD_HOST(This), "IMetaDataImport", method, HOST_CALL_ANY)
#define MD_ENTRY_NORESULT(This, method)                                                     \
    HOST_ENTRY_NORESULT(MD_HOST(This), "IMetaDataImport", method, HOST_CALL_ANY)
#define ILG__MD_STUB_ENTER(This, method) HOST_STUB_ENTRY(MD_HOST(This), "IMetaDataImport", method)
#define ILG__MD_STUB_ENTER_NORESULT(This, method)                                           \
    HOST_STUB_ENTRY_NORESULT(MD_HOST(This), "IMetaDataImport", method)
#define ILG__WANT_MD_STUBS
#include "stubs.inc"

static const ilg_metadata *md_of(IMetaDataImport *This)
{
    return impl_from_IMetaDataImport(This)->module->md;
}

static IHostMalloc *heap_of(IMetaDataImport *This)
{
    return impl_from_IMetaDataImport(This)->module->host->heap;
}

static HRESULT md_name_out(const char *text, WCHAR *buf, ULONG cch, ULONG *pch)
{
    if (cch && !buf)
        return E_INVALIDARG;
    return ilg__host_to_wide(text, buf, cch, pch) || !buf ? S_OK : CLDB_S_TRUNCATION;
}

/* True when token names an existing row of table. */
static bool md_row_ok(const ilg_metadata *md, mdToken token, ilg_table table)
{
    uint32_t rid = token & 0xFFFFFF;
    return (token >> 24) == (uint32_t)table && rid >= 1 && rid <= ilg_md_row_count(md, table);
}

/* The MethodDef rows [*first, *first + *count) that TypeDef td owns (II.22.37). */
void ilg__host_methods_of(const ilg_metadata *md, uint32_t td_rid, uint32_t *first,
                          uint32_t *count)
{
    uint32_t types = ilg_md_row_count(md, ILG_TBL_TypeDef);
    uint32_t methods = ilg_md_row_count(md, ILG_TBL_MethodDef);
    uint32_t start = 0, end = methods + 1;

    ilg_md_cell(md, ILG_TBL_TypeDef, td_rid, ILG_MDC_TypeDef_MethodList, &start);
    if (td_rid < types)
        ilg_md_cell(md, ILG_TBL_TypeDef, td_rid + 1, ILG_MDC_TypeDef_MethodList, &end);
    if (start < 1 || start > methods + 1)
        start = methods + 1;
    if (end > methods + 1)
        end = methods + 1;
    *first = start;
    *count = end > start ? end - start : 0;
}

/* ---- IUnknown ----------------------------------------------------------------------- */

static HRESULT md_QueryInterface(IMetaDataImport *This, REFIID riid, void **ppv)
{
    MD_ENTRY(This, "QueryInterface");
    if (!ppv)
        return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IMetaDataImport)) {
        *ppv = This;
        This->lpVtbl->AddRef(This);
        return S_OK;
    }
    *ppv = NULL;
    return E_NOINTERFACE;
}

static ULONG md_AddRef(IMetaDataImport *This)
{
    MD_ENTRY_NORESULT(This, "AddRef");
    return atomic_fetch_add(&impl_from_IMetaDataImport(This)->refs, 1) + 1;
}

/* Part of its module's record (freed with the host); the count shows what the
 * profiler still holds. */
static ULONG md_Release(IMetaDataImport *This)
{
    MD_ENTRY_NORESULT(This, "Release");
    return ilg__host_unref(&impl_from_IMetaDataImport(This)->refs);
}

/* ---- enumerations ------------------------------------------------------------------- */

static md_enum *enum_check(HCORENUM h)
{
    md_enum *e = h;
    return e && e->magic == MD_ENUM_MAGIC ? e : NULL;
}

static HRESULT enum_fill(IMetaDataImport *This, HCORENUM *phEnum, uint32_t first, uint32_t count,
                         mdToken out[], ULONG cMax, ULONG *pcTokens)
{
    md_enum *e;
    ULONG n = 0;

    if (!phEnum || (cMax && !out))
        return E_INVALIDARG;
    if (!*phEnum) {
        e = ILG_HOST_ZALLOC(heap_of(This), sizeof *e);
        if (!e)
            return E_OUTOFMEMORY;
        e->magic = MD_ENUM_MAGIC;
        e->first = first;
        e->count = count;
        *phEnum = e;
    } else if (!(e = enum_check(*phEnum))) {
        return E_INVALIDARG;
    }
    while (n < cMax && e->pos < e->count)
        out[n++] = e->first + e->pos++;
    if (pcTokens)
        *pcTokens = n;
    return n ? S_OK : S_FALSE;
}

static void md_CloseEnum(IMetaDataImport *This, HCORENUM hEnum)
{
    MD_ENTRY_NORESULT(This, "CloseEnum");
    md_enum *e = enum_check(hEnum);
    if (e) {
        e->magic = 0;
        ILG_HOST_FREE(heap_of(This), e);
    }
}

static HRESULT md_CountEnum(IMetaDataImport *This, HCORENUM hEnum, ULONG *pulCount)
{
    MD_ENTRY(This, "CountEnum");
    md_enum *e = enum_check(hEnum);
    if (!pulCount)
        return E_INVALIDARG;
    /* A NULL enumerator is an empty one (cor.h's convention). */
    if (!hEnum) {
        *pulCount = 0;
        return S_OK;
    }
    if (!e)
        return E_INVALIDARG;
    *pulCount = e->count;
    return S_OK;
}

static HRESULT md_ResetEnum(IMetaDataImport *This, HCORENUM hEnum, ULONG ulPos)
{
    MD_ENTRY(This, "ResetEnum");
    md_enum *e = enum_check(hEnum);
    if (!hEnum)
        return S_OK;
    if (!e)
        return E_INVALIDARG;
    e->pos = ulPos < e->count ? ulPos : e->count;
    return S_OK;
}

static HRESULT md_EnumTypeDefs(IMetaDataImport *This, HCORENUM *phEnum, mdTypeDef rTypeDefs[],
                               ULONG cMax, ULONG *pcTypeDefs)
{
    MD_ENTRY(This, "EnumTypeDefs");
    uint32_t rows = ilg_md_row_count(md_of(This), ILG_TBL_TypeDef);
    /* Like the runtime's, the enumeration leaves out <Module> (row 1). */
    return enum_fill(This, phEnum, 0x02000002u, rows > 1 ? rows - 1 : 0, rTypeDefs, cMax,
                     pcTypeDefs);
}

static HRESULT md_EnumMethods(IMetaDataImport *This, HCORENUM *phEnum, mdTypeDef cl,
                              mdMethodDef rMethods[], ULONG cMax, ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumMethods");
    const ilg_metadata *md = md_of(This);
    uint32_t first, count;
    if (!*phEnum) {
        if (!md_row_ok(md, cl, ILG_TBL_TypeDef))
            return E_INVALIDARG;
        ilg__host_methods_of(md, cl & 0xFFFFFF, &first, &count);
    } else {
        first = count = 0;
    }
    return enum_fill(This, phEnum, 0x06000000u | first, count, rMethods, cMax, pcTokens);
}

/* ---- finding ------------------------------------------------------------------------ */

/* The nesting TypeDef of td_rid, 0 when it is not nested. */
static uint32_t enclosing_of(const ilg_metadata *md, uint32_t td_rid)
{
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_NestedClass);
    for (uint32_t r = 1; r <= rows; r++) {
        uint32_t nested = 0, outer = 0;
        if (ilg_md_cell(md, ILG_TBL_NestedClass, r, ILG_MDC_NestedClass_NestedClass, &nested) == ILG_OK && nested == td_rid &&
            ilg_md_cell(md, ILG_TBL_NestedClass, r, ILG_MDC_NestedClass_EnclosingClass, &outer) == ILG_OK)
            return outer;
    }
    return 0;
}

/* "Namespace.Name" of TypeDef rid (just "Name" without a namespace). */
static bool typedef_name(const ilg_metadata *md, uint32_t rid, char *buf, size_t size)
{
    uint32_t ni = 0, nsi = 0;
    const char *name, *ns;
    if (ilg_md_cell(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeName, &ni) != ILG_OK ||
        ilg_md_cell(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeNamespace, &nsi) != ILG_OK ||
        ilg_md_string(md, ni, &name) != ILG_OK || ilg_md_string(md, nsi, &ns) != ILG_OK)
        return false;
    /* Without snprintf: GetTypeDefProps names each owner type the plugin logs. */
    const size_t nl = strlen(name), sl = strlen(ns), n = sl ? sl + 1 + nl : nl;
    if (n >= size)
        return false;
    if (sl) {
        memcpy(buf, ns, sl);
        buf[sl] = '.';
    }
    memcpy(buf + n - nl, name, nl + 1);
    return true;
}

static HRESULT md_FindTypeDefByName(IMetaDataImport *This, LPCWSTR szTypeDef,
                                    mdToken tkEnclosingClass, mdTypeDef *ptd)
{
    MD_ENTRY(This, "FindTypeDefByName");
    const ilg_metadata *md = md_of(This);
    char want[1024], have[1024];
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_TypeDef);
    uint32_t outer = 0;

    if (!szTypeDef || !ptd)
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szTypeDef, want, sizeof want))
        return CLDB_E_RECORD_NOTFOUND;
    if ((tkEnclosingClass & 0xFFFFFF) != 0) {
        if (!md_row_ok(md, tkEnclosingClass, ILG_TBL_TypeDef))
            return CLDB_E_RECORD_NOTFOUND;
        outer = tkEnclosingClass & 0xFFFFFF;
    }
    for (uint32_t r = 1; r <= rows; r++) {
        if (typedef_name(md, r, have, sizeof have) && strcmp(have, want) == 0 &&
            enclosing_of(md, r) == outer) {
            *ptd = 0x02000000u | r;
            return S_OK;
        }
    }
    return CLDB_E_RECORD_NOTFOUND;
}

static HRESULT md_FindMethod(IMetaDataImport *This, mdTypeDef td, LPCWSTR szName,
                             PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdMethodDef *pmb)
{
    MD_ENTRY(This, "FindMethod");
    const ilg_metadata *md = md_of(This);
    char want[1024];
    uint32_t first, count;

    if (!szName || !pmb || (cbSigBlob && !pvSigBlob) || !md_row_ok(md, td, ILG_TBL_TypeDef))
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szName, want, sizeof want))
        return CLDB_E_RECORD_NOTFOUND;
    ilg__host_methods_of(md, td & 0xFFFFFF, &first, &count);
    for (uint32_t rid = first; rid < first + count; rid++) {
        ilg_method_info mi;
        if (ilg_md_method(md, rid, &mi) != ILG_OK || strcmp(mi.name, want) != 0)
            continue;
        if (cbSigBlob && (mi.sig_len != cbSigBlob || memcmp(mi.sig, pvSigBlob, cbSigBlob) != 0))
            continue;
        *pmb = mi.token;
        return S_OK;
    }
    return CLDB_E_RECORD_NOTFOUND;
}

/* ---- properties --------------------------------------------------------------------- */

static HRESULT md_GetModuleFromScope(IMetaDataImport *This, mdModule *pmd)
{
    MD_ENTRY(This, "GetModuleFromScope");
    if (!pmd)
        return E_INVALIDARG;
    *pmd = 0x00000001u;
    return S_OK;
}

static HRESULT md_GetTypeDefProps(IMetaDataImport *This, mdTypeDef td, LPWSTR szTypeDef,
                                  ULONG cchTypeDef, ULONG *pchTypeDef, DWORD *pdwTypeDefFlags,
                                  mdToken *ptkExtends)
{
    MD_ENTRY(This, "GetTypeDefProps");
    const ilg_metadata *md = md_of(This);
    uint32_t rid = td & 0xFFFFFF, flags = 0, extends = 0;
    char name[1024];
    HRESULT hr;

    if (!md_row_ok(md, td, ILG_TBL_TypeDef))
        return E_INVALIDARG;
    if (!typedef_name(md, rid, name, sizeof name) ||
        ilg_md_cell(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_Flags, &flags) != ILG_OK ||
        ilg_md_cell(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_Extends, &extends) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (FAILED(hr = md_name_out(name, szTypeDef, cchTypeDef, pchTypeDef)))
        return hr;
    if (pdwTypeDefFlags)
        *pdwTypeDefFlags = flags;
    if (ptkExtends)
        *ptkExtends = extends;
    return hr;
}

static HRESULT md_GetMethodProps(IMetaDataImport *This, mdMethodDef mb, mdTypeDef *pClass,
                                 LPWSTR szMethod, ULONG cchMethod, ULONG *pchMethod, DWORD *pdwAttr,
                                 PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob, ULONG *pulCodeRVA,
                                 DWORD *pdwImplFlags)
{
    MD_ENTRY(This, "GetMethodProps");
    const ilg_metadata *md = md_of(This);
    ilg_method_info mi;
    HRESULT hr;

    if (!md_row_ok(md, mb, ILG_TBL_MethodDef))
        return E_INVALIDARG;
    if (ilg_md_method(md, mb & 0xFFFFFF, &mi) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (FAILED(hr = md_name_out(mi.name, szMethod, cchMethod, pchMethod)))
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

static HRESULT md_GetMemberRefProps(IMetaDataImport *This, mdMemberRef mr, mdToken *ptk,
                                    LPWSTR szMember, ULONG cchMember, ULONG *pchMember,
                                    PCCOR_SIGNATURE *ppvSigBlob, ULONG *pbSig)
{
    MD_ENTRY(This, "GetMemberRefProps");
    const ilg_metadata *md = md_of(This);
    uint32_t rid = mr & 0xFFFFFF, parent = 0, ni = 0, si = 0, len = 0;
    const char *name;
    const uint8_t *sig;
    HRESULT hr;

    if (!md_row_ok(md, mr, ILG_TBL_MemberRef))
        return E_INVALIDARG;
    if (ilg_md_cell(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Class, &parent) != ILG_OK ||
        ilg_md_cell(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Name, &ni) != ILG_OK ||
        ilg_md_cell(md, ILG_TBL_MemberRef, rid, ILG_MDC_MemberRef_Signature, &si) != ILG_OK ||
        ilg_md_string(md, ni, &name) != ILG_OK || ilg_md_blob(md, si, &sig, &len) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    if (FAILED(hr = md_name_out(name, szMember, cchMember, pchMember)))
        return hr;
    if (ptk)
        *ptk = parent;
    if (ppvSigBlob)
        *ppvSigBlob = sig;
    if (pbSig)
        *pbSig = len;
    return hr;
}

static HRESULT md_GetSigFromToken(IMetaDataImport *This, mdSignature mdSig, PCCOR_SIGNATURE *ppvSig,
                                  ULONG *pcbSig)
{
    MD_ENTRY(This, "GetSigFromToken");
    const ilg_metadata *md = md_of(This);
    uint32_t si = 0, len = 0;
    const uint8_t *sig;

    if (!md_row_ok(md, mdSig, ILG_TBL_StandAloneSig) || !ppvSig || !pcbSig)
        return E_INVALIDARG;
    if (ilg_md_cell(md, ILG_TBL_StandAloneSig, mdSig & 0xFFFFFF, ILG_MDC_StandAloneSig_Signature, &si) != ILG_OK ||
        ilg_md_blob(md, si, &sig, &len) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    *ppvSig = sig;
    *pcbSig = len;
    return S_OK;
}

static HRESULT md_GetUserString(IMetaDataImport *This, mdString stk, LPWSTR szString,
                                ULONG cchString, ULONG *pchString)
{
    MD_ENTRY(This, "GetUserString");
    const ilg_metadata *md = md_of(This);
    const uint8_t *utf16;
    uint32_t bytes;

    if ((stk >> 24) != 0x70 || (cchString && !szString))
        return E_INVALIDARG;
    if (ilg_md_user_string(md, stk & 0xFFFFFF, &utf16, &bytes) != ILG_OK)
        return CLDB_E_INDEX_NOTFOUND;
    /* The blob ends in a flag byte after the UTF-16 text; no NUL is written or counted. */
    ULONG chars = bytes / 2;
    if (pchString)
        *pchString = chars;
    if (!szString)
        return S_OK;
    ULONG n = chars < cchString ? chars : cchString;
    for (ULONG i = 0; i < n; i++)
        szString[i] = (WCHAR)ilg__rd16(utf16 + 2 * i);
    return n < chars ? CLDB_S_TRUNCATION : S_OK;
}

static const IMetaDataImportVtbl md_vtbl = { .QueryInterface = md_QueryInterface,
                                             .AddRef = md_AddRef,
                                             .Release = md_Release,
                                             .CloseEnum = md_CloseEnum,
                                             .CountEnum = md_CountEnum,
                                             .ResetEnum = md_ResetEnum,
                                             .EnumTypeDefs = md_EnumTypeDefs,
                                             .EnumMethods = md_EnumMethods,
                                             .FindTypeDefByName = md_FindTypeDefByName,
                                             .FindMethod = md_FindMethod,
                                             .GetModuleFromScope = md_GetModuleFromScope,
                                             .GetTypeDefProps = md_GetTypeDefProps,
                                             .GetMethodProps = md_GetMethodProps,
                                             .GetMemberRefProps = md_GetMemberRefProps,
                                             .GetSigFromToken = md_GetSigFromToken,
                                             .GetUserString = md_GetUserString,
                                             ILG__MD_STUB_SLOTS };

void ilg__host_mdimport_init(host_module *m)
{
    m->importer.IMetaDataImport_iface.lpVtbl = &md_vtbl;
    m->importer.module = m;
    m->importer.refs = 0;
}
