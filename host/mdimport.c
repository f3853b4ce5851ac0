/* mdimport.c: the read-only IMetaDataImport2 (and so IMetaDataImport) the host hands
 * out per module, answered from the loader's tables; the same object answers
 * IMetaDataAssemblyImport (mdassembly.c). Conventions are CoreCLR's (RegMeta): name
 * lengths count the NUL, a name that does not fit is truncated with CLDB_S_TRUNCATION (a
 * success code), enumerators hand out at most cMax tokens per call and S_FALSE once
 * none are left, a row that is not there CLDB_E_INDEX_NOTFOUND (Get*Props) or
 * CLDB_E_RECORD_NOTFOUND (Find*).
 * The member-level methods (fields, parameters, references, generics, custom
 * attributes) are in mdmembers.c; properties, events, method impls, P/Invoke maps,
 * marshalling, security and user strings in mdprops.c. */
#include <stdlib.h>

#include "md_private.h"
#include "trace.h"

host_mdimport *ilg__md_impl(IMetaDataImport2 *iface)
{
    return (host_mdimport *)((char *)iface - offsetof(host_mdimport, IMetaDataImport2_iface));
}

#define ILG__MD_STUB_ENTER(This, method) HOST_STUB_ENTRY(MD_HOST(This), "IMetaDataImport", method)
#define ILG__MD_STUB_ENTER_NORESULT(This, method)                                           \
    HOST_STUB_ENTRY_NORESULT(MD_HOST(This), "IMetaDataImport", method)
#define ILG__WANT_MD_STUBS
#include "stubs.inc"

/* ---- shared helpers (md_private.h) ------------------------------------------------- */

uint32_t ilg__md_cell(const ilg_metadata *md, ilg_table table, uint32_t rid, uint32_t col)
{
    uint32_t v = 0;
    return ilg_md_cell(md, table, rid, col, &v) == ILG_OK ? v : 0;
}

const char *ilg__md_str(const ilg_metadata *md, ilg_table table, uint32_t rid, uint32_t col)
{
    const char *s;
    return ilg_md_string(md, ilg__md_cell(md, table, rid, col), &s) == ILG_OK ? s : "";
}

HRESULT ilg__md_name_out(const char *text, WCHAR *buf, ULONG cch, ULONG *pch)
{
    if (cch && !buf)
        return E_INVALIDARG;
    if (!*text) {
        if (buf)
            buf[0] = 0;
        if (pch)
            *pch = 0;
        return S_OK;
    }
    return ilg__host_to_wide(text, buf, cch, pch) || !buf ? S_OK : CLDB_S_TRUNCATION;
}

bool ilg__md_row_ok(const ilg_metadata *md, mdToken token, ilg_table table)
{
    uint32_t rid = RidFromToken(token);
    return (token >> 24) == (uint32_t)table && rid >= 1 && rid <= ilg_md_row_count(md, table);
}

md_enum *ilg__md_enum_new(IHostMalloc *heap, uint32_t first, uint32_t count, uint32_t list_cap)
{
    md_enum *e = ILG_HOST_ZALLOC(heap, sizeof *e);
    if (!e)
        return NULL;
    if (list_cap && !(e->list = ILG_HOST_ZALLOC(heap, (size_t)list_cap * sizeof *e->list))) {
        ILG_HOST_FREE(heap, e);
        return NULL;
    }
    e->magic = MD_ENUM_MAGIC;
    e->first = first;
    e->count = count;
    return e;
}

md_enum *ilg__md_enum_check(HCORENUM h)
{
    md_enum *e = h;
    return e && e->magic == MD_ENUM_MAGIC ? e : NULL;
}

void ilg__md_enum_free(IHostMalloc *heap, HCORENUM h)
{
    md_enum *e = ilg__md_enum_check(h);
    if (!e)
        return;
    e->magic = 0;
    if (e->list)
        ILG_HOST_FREE(heap, e->list);
    ILG_HOST_FREE(heap, e);
}

HRESULT ilg__md_enum_take(md_enum *e, mdToken out[], ULONG cMax, ULONG *pcTokens)
{
    ULONG n = 0;
    if (cMax && !out)
        return E_INVALIDARG;
    while (n < cMax && e->pos < e->count) {
        out[n++] = e->list ? e->list[e->pos] : e->first + e->pos;
        e->pos++;
    }
    if (pcTokens)
        *pcTokens = n;
    return n ? S_OK : S_FALSE;
}

HRESULT ilg__md_enum_range(IHostMalloc *heap, HCORENUM *phEnum, uint32_t first, uint32_t count,
                           mdToken out[], ULONG cMax, ULONG *pcTokens)
{
    md_enum *e;
    if (!phEnum)
        return E_INVALIDARG;
    if (!*phEnum) {
        if (!(e = ilg__md_enum_new(heap, first, count, 0)))
            return E_OUTOFMEMORY;
        *phEnum = e;
    } else if (!(e = ilg__md_enum_check(*phEnum))) {
        return E_INVALIDARG;
    }
    return ilg__md_enum_take(e, out, cMax, pcTokens);
}

HRESULT ilg__md_enum_rows(IMetaDataImport2 *This, HCORENUM *phEnum, ilg_table table, uint32_t col,
                          uint32_t value, mdToken out[], ULONG cMax, ULONG *pcTokens)
{
    md_enum *e;
    if (!phEnum)
        return E_INVALIDARG;
    if (*phEnum)
        return (e = ilg__md_enum_check(*phEnum)) ? ilg__md_enum_take(e, out, cMax, pcTokens)
                                                 : E_INVALIDARG;
    const uint32_t *hits;
    uint32_t n;
    if (!ilg__md_rows_where(ilg__md_impl(This), table, col, value, &hits, &n) ||
        !(e = ilg__md_enum_new(MD_HEAP(This), 0, 0, n ? n : 1)))
        return E_OUTOFMEMORY;
    for (uint32_t i = 0; i < n; i++)
        e->list[e->count++] = TokenFromRid(hits[i], (uint32_t)table << 24);
    *phEnum = e;
    return ilg__md_enum_take(e, out, cMax, pcTokens);
}

/* ---- lookup indexes ---------------------------------------------------------------- */

/* One column's index: the table's rows sorted by (value, row); keys[i] is rows[i]'s
 * value. One allocation. */
typedef struct md_index {
    uint32_t count;
    uint32_t *keys, *rows;
} md_index;

static int pair_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static md_index *index_build(host_mdimport *imp, ilg_table table, uint32_t col)
{
    const ilg_metadata *md = imp->module->md;
    IHostMalloc *heap = imp->module->host->heap;
    uint32_t n = ilg_md_row_count(md, table);
    uint64_t *pairs = ILG_HOST_ZALLOC(heap, (size_t)(n ? n : 1) * sizeof *pairs);
    md_index *x = ILG_HOST_ZALLOC(heap, sizeof *x + 2 * (size_t)(n ? n : 1) * sizeof(uint32_t));
    if (!pairs || !x) {
        if (pairs)
            ILG_HOST_FREE(heap, pairs);
        if (x)
            ILG_HOST_FREE(heap, x);
        return NULL;
    }
    for (uint32_t r = 1; r <= n; r++)
        pairs[r - 1] = (uint64_t)ilg__md_cell(md, table, r, col) << 32 | r;
    qsort(pairs, n, sizeof *pairs, pair_cmp);
    x->count = n;
    x->keys = (uint32_t *)(x + 1);
    x->rows = x->keys + (n ? n : 1);
    for (uint32_t i = 0; i < n; i++) {
        x->keys[i] = (uint32_t)(pairs[i] >> 32);
        x->rows[i] = (uint32_t)pairs[i];
    }
    ILG_HOST_FREE(heap, pairs);
    return x;
}

static md_index *index_of(host_mdimport *imp, ilg_table table, uint32_t col)
{
    md_index *x = atomic_load(&imp->index[table][col]), *none = NULL;
    if (x || !(x = index_build(imp, table, col)))
        return x;
    /* Two threads may build it at once: the first to publish wins. */
    if (!atomic_compare_exchange_strong(&imp->index[table][col], &none, x)) {
        ILG_HOST_FREE(imp->module->host->heap, x);
        x = none;
    }
    return x;
}

bool ilg__md_rows_where(host_mdimport *imp, ilg_table table, uint32_t col, uint32_t value,
                        const uint32_t **rows, uint32_t *count)
{
    md_index *x = index_of(imp, table, col);
    uint32_t lo = 0, hi, end;
    if (!x)
        return false;
    hi = x->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (x->keys[mid] < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < x->count && x->keys[end] == value; end++)
        ;
    *rows = x->rows + lo;
    *count = end - lo;
    return true;
}

uint32_t ilg__md_row_where(host_mdimport *imp, ilg_table table, uint32_t col, uint32_t value)
{
    const uint32_t *rows;
    uint32_t n;
    if (ilg__md_rows_where(imp, table, col, value, &rows, &n))
        return n ? rows[0] : 0;
    const ilg_metadata *md = imp->module->md;
    uint32_t count = ilg_md_row_count(md, table);
    for (uint32_t r = 1; r <= count; r++)
        if (ilg__md_cell(md, table, r, col) == value)
            return r;
    return 0;
}

uint32_t ilg__md_owner_of(const ilg_metadata *md, ilg_table owner, uint32_t col, uint32_t rid)
{
    uint32_t lo = 1, hi = ilg_md_row_count(md, owner), found = 0;
    while (lo <= hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ilg__md_cell(md, owner, mid, col) <= rid) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

/* The MethodDef rows [*first, *first + *count) that TypeDef td owns (II.22.37). */
void ilg__host_methods_of(const ilg_metadata *md, uint32_t td_rid, uint32_t *first,
                          uint32_t *count)
{
    ilg__md_list_of(md, ILG_TBL_TypeDef, td_rid, ILG_MDC_TypeDef_MethodList, ILG_TBL_MethodDef,
                    first, count);
}

void ilg__md_list_of(const ilg_metadata *md, ilg_table owner, uint32_t rid, uint32_t col,
                     ilg_table member, uint32_t *first, uint32_t *count)
{
    uint32_t owners = ilg_md_row_count(md, owner);
    uint32_t members = ilg_md_row_count(md, member);
    uint32_t start = ilg__md_cell(md, owner, rid, col), end = members + 1;

    if (rid < owners)
        end = ilg__md_cell(md, owner, rid + 1, col);
    if (start < 1 || start > members + 1)
        start = members + 1;
    if (end > members + 1)
        end = members + 1;
    *first = start;
    *count = end > start ? end - start : 0;
}

/* ---- IUnknown ----------------------------------------------------------------------- */

HRESULT ilg__md_query(host_mdimport *imp, REFIID riid, void **ppv)
{
    if (!ppv)
        return E_POINTER;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IMetaDataImport) ||
        IsEqualGUID(riid, &IID_IMetaDataImport2))
        *ppv = &imp->IMetaDataImport2_iface;
    else if (IsEqualGUID(riid, &IID_IMetaDataAssemblyImport))
        *ppv = &imp->IMetaDataAssemblyImport_iface;
    else if (IsEqualGUID(riid, &IID_IMetaDataEmit) || IsEqualGUID(riid, &IID_IMetaDataEmit2))
        *ppv = &imp->IMetaDataEmit2_iface;
    else if (IsEqualGUID(riid, &IID_IMetaDataAssemblyEmit))
        *ppv = &imp->IMetaDataAssemblyEmit_iface;
    else {
        *ppv = NULL;
        return E_NOINTERFACE;
    }
    atomic_fetch_add(&imp->refs, 1);
    return S_OK;
}

static HRESULT md_QueryInterface(IMetaDataImport2 *This, REFIID riid, void **ppv)
{
    MD_ENTRY(This, "QueryInterface");
    return ilg__md_query(ilg__md_impl(This), riid, ppv);
}

static ULONG md_AddRef(IMetaDataImport2 *This)
{
    MD_ENTRY_NORESULT(This, "AddRef");
    return atomic_fetch_add(&ilg__md_impl(This)->refs, 1) + 1;
}

/* Part of its module's record (freed with the host); the count shows what the
 * profiler still holds. */
static ULONG md_Release(IMetaDataImport2 *This)
{
    MD_ENTRY_NORESULT(This, "Release");
    return ilg__host_unref(&ilg__md_impl(This)->refs);
}

/* ---- enumerations ------------------------------------------------------------------- */

static void md_CloseEnum(IMetaDataImport2 *This, HCORENUM hEnum)
{
    MD_ENTRY_NORESULT(This, "CloseEnum");
    ilg__md_enum_free(MD_HEAP(This), hEnum);
}

static HRESULT md_CountEnum(IMetaDataImport2 *This, HCORENUM hEnum, ULONG *pulCount)
{
    MD_ENTRY(This, "CountEnum");
    md_enum *e = ilg__md_enum_check(hEnum);
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

static HRESULT md_ResetEnum(IMetaDataImport2 *This, HCORENUM hEnum, ULONG ulPos)
{
    MD_ENTRY(This, "ResetEnum");
    md_enum *e = ilg__md_enum_check(hEnum);
    if (!hEnum)
        return S_OK;
    if (!e)
        return E_INVALIDARG;
    e->pos = ulPos < e->count ? ulPos : e->count;
    return S_OK;
}

static HRESULT md_EnumTypeDefs(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef rTypeDefs[],
                               ULONG cMax, ULONG *pcTypeDefs)
{
    MD_ENTRY(This, "EnumTypeDefs");
    uint32_t rows = ilg_md_row_count(MD_OF(This), ILG_TBL_TypeDef);
    /* Like the runtime's, the enumeration leaves out <Module> (row 1). */
    return ilg__md_enum_range(MD_HEAP(This), phEnum, mdtTypeDef | 2, rows > 1 ? rows - 1 : 0,
                              rTypeDefs, cMax, pcTypeDefs);
}

/* Every row of table, in order. */
static HRESULT enum_table(IMetaDataImport2 *This, HCORENUM *phEnum, ilg_table table,
                          mdToken out[], ULONG cMax, ULONG *pc)
{
    return ilg__md_enum_range(MD_HEAP(This), phEnum, ((uint32_t)table << 24) | 1,
                              ilg_md_row_count(MD_OF(This), table), out, cMax, pc);
}

static HRESULT md_EnumTypeRefs(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeRef rTypeRefs[],
                               ULONG cMax, ULONG *pcTypeRefs)
{
    MD_ENTRY(This, "EnumTypeRefs");
    return enum_table(This, phEnum, ILG_TBL_TypeRef, rTypeRefs, cMax, pcTypeRefs);
}

static HRESULT md_EnumModuleRefs(IMetaDataImport2 *This, HCORENUM *phEnum,
                                 mdModuleRef rModuleRefs[], ULONG cmax, ULONG *pcModuleRefs)
{
    MD_ENTRY(This, "EnumModuleRefs");
    return enum_table(This, phEnum, ILG_TBL_ModuleRef, rModuleRefs, cmax, pcModuleRefs);
}

static HRESULT md_EnumSignatures(IMetaDataImport2 *This, HCORENUM *phEnum,
                                 mdSignature rSignatures[], ULONG cmax, ULONG *pcSignatures)
{
    MD_ENTRY(This, "EnumSignatures");
    return enum_table(This, phEnum, ILG_TBL_StandAloneSig, rSignatures, cmax, pcSignatures);
}

static HRESULT md_EnumTypeSpecs(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeSpec rTypeSpecs[],
                                ULONG cmax, ULONG *pcTypeSpecs)
{
    MD_ENTRY(This, "EnumTypeSpecs");
    return enum_table(This, phEnum, ILG_TBL_TypeSpec, rTypeSpecs, cmax, pcTypeSpecs);
}

/* The members of TypeDef cl in table (methods or fields) whose name is name (all when
 * NULL), as a fresh list enumerator. */
static HRESULT enum_members(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                            ilg_table table, const WCHAR *wname, mdToken out[], ULONG cMax,
                            ULONG *pc)
{
    const ilg_metadata *md = MD_OF(This);
    const bool methods = table == ILG_TBL_MethodDef;
    uint32_t first, count;
    char want[1024];
    md_enum *e;

    if (!phEnum)
        return E_INVALIDARG;
    if (*phEnum)
        return (e = ilg__md_enum_check(*phEnum)) ? ilg__md_enum_take(e, out, cMax, pc)
                                                 : E_INVALIDARG;
    if (!ilg__md_row_ok(md, cl, ILG_TBL_TypeDef))
        return E_INVALIDARG;
    if (wname && !ilg__host_from_wide(wname, want, sizeof want))
        return E_INVALIDARG;
    ilg__md_list_of(md, ILG_TBL_TypeDef, RidFromToken(cl),
                    methods ? ILG_MDC_TypeDef_MethodList : ILG_MDC_TypeDef_FieldList, table,
                    &first, &count);
    if (!(e = ilg__md_enum_new(MD_HEAP(This), 0, 0, count ? count : 1)))
        return E_OUTOFMEMORY;
    for (uint32_t r = first; r < first + count; r++) {
        const char *name = ilg__md_str(md, table, r,
                                       methods ? ILG_MDC_MethodDef_Name : ILG_MDC_Field_Name);
        if (!wname || strcmp(name, want) == 0)
            e->list[e->count++] = TokenFromRid(r, (uint32_t)table << 24);
    }
    *phEnum = e;
    return ilg__md_enum_take(e, out, cMax, pc);
}

static HRESULT md_EnumMethods(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                              mdMethodDef rMethods[], ULONG cMax, ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumMethods");
    return enum_members(This, phEnum, cl, ILG_TBL_MethodDef, NULL, rMethods, cMax, pcTokens);
}

static HRESULT md_EnumMethodsWithName(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                                      LPCWSTR szName, mdMethodDef rMethods[], ULONG cMax,
                                      ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumMethodsWithName");
    return enum_members(This, phEnum, cl, ILG_TBL_MethodDef, szName, rMethods, cMax, pcTokens);
}

static HRESULT md_EnumFields(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                             mdFieldDef rFields[], ULONG cMax, ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumFields");
    return enum_members(This, phEnum, cl, ILG_TBL_Field, NULL, rFields, cMax, pcTokens);
}

static HRESULT md_EnumFieldsWithName(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                                     LPCWSTR szName, mdFieldDef rFields[], ULONG cMax,
                                     ULONG *pcTokens)
{
    MD_ENTRY(This, "EnumFieldsWithName");
    return enum_members(This, phEnum, cl, ILG_TBL_Field, szName, rFields, cMax, pcTokens);
}

static HRESULT md_EnumInterfaceImpls(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef td,
                                     mdInterfaceImpl rImpls[], ULONG cMax, ULONG *pcImpls)
{
    MD_ENTRY(This, "EnumInterfaceImpls");
    if (phEnum && !*phEnum && !ilg__md_row_ok(MD_OF(This), td, ILG_TBL_TypeDef))
        return E_INVALIDARG;
    return ilg__md_enum_rows(This, phEnum, ILG_TBL_InterfaceImpl, ILG_MDC_InterfaceImpl_Class,
                             RidFromToken(td), rImpls, cMax, pcImpls);
}

/* ---- types -------------------------------------------------------------------------- */

/* The nesting TypeDef of td_rid, 0 when it is not nested. */
uint32_t ilg__md_enclosing_of(host_mdimport *imp, uint32_t td_rid)
{
    uint32_t r = ilg__md_row_where(imp, ILG_TBL_NestedClass, ILG_MDC_NestedClass_NestedClass, td_rid);
    return r ? ilg__md_cell(imp->module->md, ILG_TBL_NestedClass, r,
                            ILG_MDC_NestedClass_EnclosingClass)
             : 0;
}

/* "Namespace.Name" (just "Name" without a namespace) into buf; false when it does not
 * fit. Without snprintf: GetTypeDefProps names each owner type the plugin logs. */
bool ilg__md_join_name(const char *ns, const char *name, char *buf, size_t size)
{
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

static bool typedef_name(const ilg_metadata *md, uint32_t rid, char *buf, size_t size)
{
    return ilg__md_join_name(ilg__md_str(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeNamespace),
                             ilg__md_str(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_TypeName),
                             buf, size);
}

static HRESULT md_FindTypeDefByName(IMetaDataImport2 *This, LPCWSTR szTypeDef,
                                    mdToken tkEnclosingClass, mdTypeDef *ptd)
{
    MD_ENTRY(This, "FindTypeDefByName");
    const ilg_metadata *md = MD_OF(This);
    char want[1024], have[1024];
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_TypeDef);
    uint32_t outer = 0;

    if (!szTypeDef || !ptd)
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szTypeDef, want, sizeof want))
        return CLDB_E_RECORD_NOTFOUND;
    if (!IsNilToken(tkEnclosingClass)) {
        if (!ilg__md_row_ok(md, tkEnclosingClass, ILG_TBL_TypeDef))
            return CLDB_E_RECORD_NOTFOUND;
        outer = RidFromToken(tkEnclosingClass);
    }
    for (uint32_t r = 1; r <= rows; r++) {
        if (typedef_name(md, r, have, sizeof have) && strcmp(have, want) == 0 &&
            ilg__md_enclosing_of(ilg__md_impl(This), r) == outer) {
            *ptd = mdtTypeDef | r;
            return S_OK;
        }
    }
    return CLDB_E_RECORD_NOTFOUND;
}

static HRESULT md_GetScopeProps(IMetaDataImport2 *This, LPWSTR szName, ULONG cchName,
                                ULONG *pchName, GUID *pmvid)
{
    MD_ENTRY(This, "GetScopeProps");
    const ilg_metadata *md = MD_OF(This);
    const uint8_t *g;
    HRESULT hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_Module, 1, ILG_MDC_Module_Name),
                                  szName, cchName, pchName);
    if (FAILED(hr))
        return hr;
    if (pmvid) {
        if (ilg_md_guid(md, ilg__md_cell(md, ILG_TBL_Module, 1, ILG_MDC_Module_Mvid), &g) == ILG_OK)
            memcpy(pmvid, g, sizeof *pmvid);
        else
            memset(pmvid, 0, sizeof *pmvid);
    }
    return hr;
}

static HRESULT md_GetModuleFromScope(IMetaDataImport2 *This, mdModule *pmd)
{
    MD_ENTRY(This, "GetModuleFromScope");
    if (!pmd)
        return E_INVALIDARG;
    *pmd = mdtModule | 1;
    return S_OK;
}

static HRESULT md_GetTypeDefProps(IMetaDataImport2 *This, mdTypeDef td, LPWSTR szTypeDef,
                                  ULONG cchTypeDef, ULONG *pchTypeDef, DWORD *pdwTypeDefFlags,
                                  mdToken *ptkExtends)
{
    MD_ENTRY(This, "GetTypeDefProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(td);
    char name[1024];
    HRESULT hr;

    if (!ilg__md_row_ok(md, td, ILG_TBL_TypeDef))
        return MD_E_NO_ROW;
    if (!typedef_name(md, rid, name, sizeof name))
        return CLDB_E_FILE_CORRUPT;
    if (FAILED(hr = ilg__md_name_out(name, szTypeDef, cchTypeDef, pchTypeDef)))
        return hr;
    if (pdwTypeDefFlags)
        *pdwTypeDefFlags = ilg__md_cell(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_Flags);
    if (ptkExtends) {
        uint32_t ext = ilg__md_cell(md, ILG_TBL_TypeDef, rid, ILG_MDC_TypeDef_Extends);
        /* No base: the nil TypeRef, as RegMeta answers. */
        *ptkExtends = ext ? ext : mdtTypeRef;
    }
    return hr;
}

static HRESULT md_GetInterfaceImplProps(IMetaDataImport2 *This, mdInterfaceImpl iiImpl,
                                        mdTypeDef *pClass, mdToken *ptkIface)
{
    MD_ENTRY(This, "GetInterfaceImplProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(iiImpl);
    if (!ilg__md_row_ok(md, iiImpl, ILG_TBL_InterfaceImpl))
        return MD_E_NO_ROW;
    if (pClass)
        *pClass = mdtTypeDef | ilg__md_cell(md, ILG_TBL_InterfaceImpl, rid, ILG_MDC_InterfaceImpl_Class);
    if (ptkIface)
        *ptkIface = ilg__md_cell(md, ILG_TBL_InterfaceImpl, rid, ILG_MDC_InterfaceImpl_Interface);
    return S_OK;
}

static HRESULT md_GetTypeRefProps(IMetaDataImport2 *This, mdTypeRef tr, mdToken *ptkResolutionScope,
                                  LPWSTR szName, ULONG cchName, ULONG *pchName)
{
    MD_ENTRY(This, "GetTypeRefProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rid = RidFromToken(tr);
    char name[1024];
    HRESULT hr;

    if (!ilg__md_row_ok(md, tr, ILG_TBL_TypeRef))
        return MD_E_NO_ROW;
    if (!ilg__md_join_name(ilg__md_str(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeNamespace),
                           ilg__md_str(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_TypeName),
                           name, sizeof name))
        return CLDB_E_FILE_CORRUPT;
    if (FAILED(hr = ilg__md_name_out(name, szName, cchName, pchName)))
        return hr;
    if (ptkResolutionScope)
        *ptkResolutionScope =
            ilg__md_cell(md, ILG_TBL_TypeRef, rid, ILG_MDC_TypeRef_ResolutionScope);
    return hr;
}

static HRESULT md_FindTypeRef(IMetaDataImport2 *This, mdToken tkResolutionScope, LPCWSTR szName,
                              mdTypeRef *ptr)
{
    MD_ENTRY(This, "FindTypeRef");
    const ilg_metadata *md = MD_OF(This);
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_TypeRef);
    char want[1024], have[1024];

    if (!szName || !ptr)
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szName, want, sizeof want))
        return CLDB_E_RECORD_NOTFOUND;
    for (uint32_t r = 1; r <= rows; r++) {
        if (ilg__md_cell(md, ILG_TBL_TypeRef, r, ILG_MDC_TypeRef_ResolutionScope) !=
                tkResolutionScope ||
            !ilg__md_join_name(ilg__md_str(md, ILG_TBL_TypeRef, r, ILG_MDC_TypeRef_TypeNamespace),
                               ilg__md_str(md, ILG_TBL_TypeRef, r, ILG_MDC_TypeRef_TypeName),
                               have, sizeof have) ||
            strcmp(have, want) != 0)
            continue;
        *ptr = mdtTypeRef | r;
        return S_OK;
    }
    return CLDB_E_RECORD_NOTFOUND;
}

static HRESULT md_GetNestedClassProps(IMetaDataImport2 *This, mdTypeDef tdNestedClass,
                                      mdTypeDef *ptdEnclosingClass)
{
    MD_ENTRY(This, "GetNestedClassProps");
    const ilg_metadata *md = MD_OF(This);
    uint32_t outer;
    if (!ptdEnclosingClass)
        return E_INVALIDARG;
    if (TypeFromToken(tdNestedClass) != mdtTypeDef)
        return E_INVALIDARG;
    if (!ilg__md_row_ok(md, tdNestedClass, ILG_TBL_TypeDef) ||
        !(outer = ilg__md_enclosing_of(ilg__md_impl(This), RidFromToken(tdNestedClass))))
        return CLDB_E_RECORD_NOTFOUND;
    *ptdEnclosingClass = mdtTypeDef | outer;
    return S_OK;
}

static HRESULT md_GetClassLayout(IMetaDataImport2 *This, mdTypeDef td, DWORD *pdwPackSize,
                                 COR_FIELD_OFFSET rFieldOffset[], ULONG cMax,
                                 ULONG *pcFieldOffset, ULONG *pulClassSize)
{
    MD_ENTRY(This, "GetClassLayout");
    const ilg_metadata *md = MD_OF(This);
    host_mdimport *imp = ilg__md_impl(This);
    uint32_t first, count, n = 0, r;
    bool laid_out = false;
    if (!ilg__md_row_ok(md, td, ILG_TBL_TypeDef))
        return E_INVALIDARG;
    r = ilg__md_row_where(imp, ILG_TBL_ClassLayout, ILG_MDC_ClassLayout_Parent, RidFromToken(td));
    ilg__md_list_of(md, ILG_TBL_TypeDef, RidFromToken(td), ILG_MDC_TypeDef_FieldList,
                    ILG_TBL_Field, &first, &count);
    /* Every field of the type, with its FieldLayout offset or ULONG_MAX without one. */
    for (uint32_t f = first; f < first + count; f++, n++) {
        uint32_t offset = 0xFFFFFFFFu, l = ilg__md_row_where(imp, ILG_TBL_FieldLayout,
                                                             ILG_MDC_FieldLayout_Field, f);
        if (l) {
            offset = ilg__md_cell(md, ILG_TBL_FieldLayout, l, ILG_MDC_FieldLayout_Offset);
            laid_out = true;
        }
        if (n < cMax && rFieldOffset) {
            rFieldOffset[n].ridOfField = mdtFieldDef | f;
            rFieldOffset[n].ulOffset = offset;
        }
    }
    /* CoreCLR: neither a ClassLayout row nor a field offset is "no layout"; explicit
     * field offsets alone are a layout with packing and size 0. */
    if (!r && !laid_out)
        return CLDB_E_RECORD_NOTFOUND;
    if (pdwPackSize)
        *pdwPackSize = !r ? 0 : ilg__md_cell(md, ILG_TBL_ClassLayout, r,
                                                   ILG_MDC_ClassLayout_PackingSize);
    if (pulClassSize)
        *pulClassSize = !r ? 0 : ilg__md_cell(md, ILG_TBL_ClassLayout, r,
                                                    ILG_MDC_ClassLayout_ClassSize);
    if (pcFieldOffset)
        *pcFieldOffset = n;
    return S_OK;
}

static HRESULT md_GetTypeSpecFromToken(IMetaDataImport2 *This, mdTypeSpec typespec,
                                       PCCOR_SIGNATURE *ppvSig, ULONG *pcbSig)
{
    MD_ENTRY(This, "GetTypeSpecFromToken");
    return ilg__md_blob_of(MD_OF(This), typespec, ILG_TBL_TypeSpec, ILG_MDC_TypeSpec_Signature,
                           ppvSig, pcbSig);
}

static HRESULT md_GetSigFromToken(IMetaDataImport2 *This, mdSignature mdSig, PCCOR_SIGNATURE *ppvSig,
                                  ULONG *pcbSig)
{
    MD_ENTRY(This, "GetSigFromToken");
    return ilg__md_blob_of(MD_OF(This), mdSig, ILG_TBL_StandAloneSig,
                           ILG_MDC_StandAloneSig_Signature, ppvSig, pcbSig);
}

HRESULT ilg__md_blob_of(const ilg_metadata *md, mdToken tk, ilg_table table, uint32_t col,
                        PCCOR_SIGNATURE *ppv, ULONG *pcb)
{
    const uint8_t *blob;
    uint32_t len = 0;
    if (!ppv || !pcb)
        return E_INVALIDARG;
    if (!ilg__md_row_ok(md, tk, table))
        return MD_E_NO_ROW;
    if (ilg_md_blob(md, ilg__md_cell(md, table, RidFromToken(tk), col), &blob, &len) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    *ppv = blob;
    *pcb = len;
    return S_OK;
}

static HRESULT md_GetModuleRefProps(IMetaDataImport2 *This, mdModuleRef mur, LPWSTR szName,
                                    ULONG cchName, ULONG *pchName)
{
    MD_ENTRY(This, "GetModuleRefProps");
    const ilg_metadata *md = MD_OF(This);
    if (!ilg__md_row_ok(md, mur, ILG_TBL_ModuleRef))
        return MD_E_NO_ROW;
    return ilg__md_name_out(ilg__md_str(md, ILG_TBL_ModuleRef, RidFromToken(mur),
                                        ILG_MDC_ModuleRef_Name),
                            szName, cchName, pchName);
}

static HRESULT md_GetUserString(IMetaDataImport2 *This, mdString stk, LPWSTR szString,
                                ULONG cchString, ULONG *pchString)
{
    MD_ENTRY(This, "GetUserString");
    const uint8_t *utf16;
    uint32_t bytes;

    if (TypeFromToken(stk) != mdtString || (cchString && !szString))
        return E_INVALIDARG;
    if (ilg_md_user_string(MD_OF(This), RidFromToken(stk), &utf16, &bytes) != ILG_OK)
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

static BOOL md_IsValidToken(IMetaDataImport2 *This, mdToken tk)
{
    MD_ENTRY_NORESULT(This, "IsValidToken");
    const ilg_metadata *md = MD_OF(This);
    uint32_t table = tk >> 24;
    const uint8_t *utf16;
    uint32_t bytes;
    if (table == (mdtString >> 24))
        return ilg_md_user_string(md, RidFromToken(tk), &utf16, &bytes) == ILG_OK;
    return table < ILG_TBL_COUNT && ilg__md_row_ok(md, tk, (ilg_table)table);
}

static HRESULT md_GetPEKind(IMetaDataImport2 *This, DWORD *pdwPEKind, DWORD *pdwMachine)
{
    MD_ENTRY(This, "GetPEKind");
    /* CoreCLR's profiler scope is opened on the metadata alone, without the PE headers:
     * it answers S_FALSE and zeros (docs/coreclr-observed.md). */
    if (pdwPEKind)
        *pdwPEKind = 0;
    if (pdwMachine)
        *pdwMachine = 0;
    return S_FALSE;
}

static HRESULT md_GetVersionString(IMetaDataImport2 *This, LPWSTR pwzBuf, DWORD ccBufSize,
                                   DWORD *pccBufSize)
{
    MD_ENTRY(This, "GetVersionString");
    ilg_md_info info;
    if (ilg_md_get_info(MD_OF(This), &info) != ILG_OK)
        return CLDB_E_FILE_CORRUPT;
    return ilg__md_name_out(info.version, pwzBuf, ccBufSize, pccBufSize);
}

static const IMetaDataImport2Vtbl md_vtbl = {
    .EnumUnresolvedMethods = ilg__md_EnumUnresolvedMethods,
    .GetNativeCallConvFromSig = ilg__md_GetNativeCallConvFromSig,
    .QueryInterface = md_QueryInterface,
    .AddRef = md_AddRef,
    .Release = md_Release,
    .CloseEnum = md_CloseEnum,
    .CountEnum = md_CountEnum,
    .ResetEnum = md_ResetEnum,
    .EnumTypeDefs = md_EnumTypeDefs,
    .EnumInterfaceImpls = md_EnumInterfaceImpls,
    .EnumTypeRefs = md_EnumTypeRefs,
    .FindTypeDefByName = md_FindTypeDefByName,
    .GetScopeProps = md_GetScopeProps,
    .GetModuleFromScope = md_GetModuleFromScope,
    .GetTypeDefProps = md_GetTypeDefProps,
    .GetInterfaceImplProps = md_GetInterfaceImplProps,
    .GetTypeRefProps = md_GetTypeRefProps,
    .ResolveTypeRef = ilg__md_ResolveTypeRef,
    .EnumMembers = ilg__md_EnumMembers,
    .EnumMembersWithName = ilg__md_EnumMembersWithName,
    .EnumMethods = md_EnumMethods,
    .EnumMethodsWithName = md_EnumMethodsWithName,
    .EnumFields = md_EnumFields,
    .EnumFieldsWithName = md_EnumFieldsWithName,
    .EnumParams = ilg__md_EnumParams,
    .EnumMemberRefs = ilg__md_EnumMemberRefs,
    .FindMember = ilg__md_FindMember,
    .FindMethod = ilg__md_FindMethod,
    .FindField = ilg__md_FindField,
    .FindMemberRef = ilg__md_FindMemberRef,
    .GetMethodProps = ilg__md_GetMethodProps,
    .GetMemberRefProps = ilg__md_GetMemberRefProps,
    .EnumMethodImpls = ilg__md_EnumMethodImpls,
    .EnumPermissionSets = ilg__md_EnumPermissionSets,
    .EnumProperties = ilg__md_EnumProperties,
    .EnumEvents = ilg__md_EnumEvents,
    .GetEventProps = ilg__md_GetEventProps,
    .EnumMethodSemantics = ilg__md_EnumMethodSemantics,
    .GetMethodSemantics = ilg__md_GetMethodSemantics,
    .GetClassLayout = md_GetClassLayout,
    .GetFieldMarshal = ilg__md_GetFieldMarshal,
    .GetRVA = ilg__md_GetRVA,
    .GetPermissionSetProps = ilg__md_GetPermissionSetProps,
    .GetSigFromToken = md_GetSigFromToken,
    .GetModuleRefProps = md_GetModuleRefProps,
    .EnumModuleRefs = md_EnumModuleRefs,
    .GetTypeSpecFromToken = md_GetTypeSpecFromToken,
    .GetNameFromToken = ilg__md_GetNameFromToken,
    .GetUserString = md_GetUserString,
    .GetPinvokeMap = ilg__md_GetPinvokeMap,
    .EnumSignatures = md_EnumSignatures,
    .EnumTypeSpecs = md_EnumTypeSpecs,
    .EnumUserStrings = ilg__md_EnumUserStrings,
    .GetParamForMethodIndex = ilg__md_GetParamForMethodIndex,
    .EnumCustomAttributes = ilg__md_EnumCustomAttributes,
    .GetCustomAttributeProps = ilg__md_GetCustomAttributeProps,
    .FindTypeRef = md_FindTypeRef,
    .GetMemberProps = ilg__md_GetMemberProps,
    .GetFieldProps = ilg__md_GetFieldProps,
    .GetPropertyProps = ilg__md_GetPropertyProps,
    .GetParamProps = ilg__md_GetParamProps,
    .GetCustomAttributeByName = ilg__md_GetCustomAttributeByName,
    .IsValidToken = md_IsValidToken,
    .GetNestedClassProps = md_GetNestedClassProps,
    .IsGlobal = ilg__md_IsGlobal,
    .EnumGenericParams = ilg__md_EnumGenericParams,
    .GetGenericParamProps = ilg__md_GetGenericParamProps,
    .GetMethodSpecProps = ilg__md_GetMethodSpecProps,
    .EnumGenericParamConstraints = ilg__md_EnumGenericParamConstraints,
    .GetGenericParamConstraintProps = ilg__md_GetGenericParamConstraintProps,
    .GetPEKind = md_GetPEKind,
    .GetVersionString = md_GetVersionString,
    .EnumMethodSpecs = ilg__md_EnumMethodSpecs,
    ILG__MD_STUB_SLOTS
};

void ilg__md_drop_indexes(host_mdimport *imp)
{
    for (size_t t = 0; t < ILG_TBL_COUNT; t++)
        for (size_t c = 0; c < sizeof imp->index[t] / sizeof imp->index[t][0]; c++) {
            md_index *x = atomic_exchange(&imp->index[t][c], NULL);
            if (x)
                ILG_HOST_FREE(imp->module->host->heap, x);
        }
}

void ilg__host_mdimport_free(host_module *m)
{
    ilg__host_mdemit_free(m);
    for (size_t t = 0; t < ILG_TBL_COUNT; t++)
        for (size_t c = 0; c < sizeof m->importer.index[t] / sizeof m->importer.index[t][0]; c++) {
            md_index *x = atomic_load(&m->importer.index[t][c]);
            if (x)
                ILG_HOST_FREE(m->host->heap, x);
        }
}

/* Under --trace the profiler gets this one: each slot traces the call and makes it
 * through md_vtbl (trace.inc). */
#define ILG__TRACE_HOST(This) MD_HOST(This)
#define ILG__TRACE_REAL md_vtbl
#define ILG__WANT_MD_TRACE
#include "trace.inc"
static const IMetaDataImport2Vtbl md_trace_vtbl = { ILG__MD_TRACE_SLOTS };

host_mdimport *ilg__md_ours(IMetaDataImport *iface)
{
    const void *v = iface ? (const void *)iface->lpVtbl : NULL;
    return v && (v == (const void *)&md_vtbl || v == (const void *)&md_trace_vtbl)
               ? ilg__md_impl((IMetaDataImport2 *)iface)
               : NULL;
}

void ilg__host_mdimport_init(host_module *m)
{
    m->importer.IMetaDataImport2_iface.lpVtbl = m->host->trace ? &md_trace_vtbl : &md_vtbl;
    m->importer.module = m;
    m->importer.refs = 0;
    for (size_t t = 0; t < ILG_TBL_COUNT; t++)
        for (size_t c = 0; c < sizeof m->importer.index[t] / sizeof m->importer.index[t][0]; c++)
            atomic_init(&m->importer.index[t][c], NULL);
    ilg__host_mdassembly_init(m);
    ilg__host_mdemit_init(m);
}
