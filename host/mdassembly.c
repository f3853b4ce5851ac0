/* mdassembly.c: IMetaDataAssemblyImport, the manifest side of the module's one metadata
 * object (mdimport.c): the Assembly row, assembly references, files, exported types and
 * manifest resources, with RegMeta's conventions. */
#include "md_private.h"
#include "trace.h"

static host_mdimport *impl_from_IMetaDataAssemblyImport(IMetaDataAssemblyImport *iface)
{
    return (host_mdimport *)((char *)iface -
                             offsetof(host_mdimport, IMetaDataAssemblyImport_iface));
}

#define MDA_HOST(This) (impl_from_IMetaDataAssemblyImport(This)->module->host)
#define MDA_OF(This) ((const ilg_metadata *)impl_from_IMetaDataAssemblyImport(This)->module->md)
#define MDA_ENTRY(This, method)                                                             \
    HOST_ENTRY(MDA_HOST(This), "IMetaDataAssemblyImport", method, HOST_CALL_ANY);           \
    MD_READ_LOCKED(impl_from_IMetaDataAssemblyImport(This))
#define MDA_ENTRY_NORESULT(This, method)                                                    \
    HOST_ENTRY_NORESULT(MDA_HOST(This), "IMetaDataAssemblyImport", method, HOST_CALL_ANY)
#define ILG__MDA_STUB_ENTER(This, method)                                                   \
    HOST_STUB_ENTRY(MDA_HOST(This), "IMetaDataAssemblyImport", method)
#define ILG__MDA_STUB_ENTER_NORESULT(This, method)                                          \
    HOST_STUB_ENTRY_NORESULT(MDA_HOST(This), "IMetaDataAssemblyImport", method)
#define ILG__WANT_MDA_STUBS
#include "stubs.inc"

static HRESULT mda_QueryInterface(IMetaDataAssemblyImport *This, REFIID riid, void **ppv)
{
    MDA_ENTRY(This, "QueryInterface");
    return ilg__md_query(impl_from_IMetaDataAssemblyImport(This), riid, ppv);
}

static ULONG mda_AddRef(IMetaDataAssemblyImport *This)
{
    MDA_ENTRY_NORESULT(This, "AddRef");
    return atomic_fetch_add(&impl_from_IMetaDataAssemblyImport(This)->refs, 1) + 1;
}

static ULONG mda_Release(IMetaDataAssemblyImport *This)
{
    MDA_ENTRY_NORESULT(This, "Release");
    return ilg__host_unref(&impl_from_IMetaDataAssemblyImport(This)->refs);
}

static void mda_CloseEnum(IMetaDataAssemblyImport *This, HCORENUM hEnum)
{
    MDA_ENTRY_NORESULT(This, "CloseEnum");
    ilg__md_enum_free(MDA_HOST(This)->heap, hEnum);
}

/* Every row of table, in order. */
static HRESULT enum_table(IMetaDataAssemblyImport *This, HCORENUM *phEnum, ilg_table table,
                          mdToken out[], ULONG cMax, ULONG *pc)
{
    return ilg__md_enum_range(MDA_HOST(This)->heap, phEnum, ((uint32_t)table << 24) | 1,
                              ilg_md_row_count(MDA_OF(This), table), out, cMax, pc);
}

static HRESULT mda_EnumAssemblyRefs(IMetaDataAssemblyImport *This, HCORENUM *phEnum,
                                    mdAssemblyRef rAssemblyRefs[], ULONG cMax, ULONG *pcTokens)
{
    MDA_ENTRY(This, "EnumAssemblyRefs");
    return enum_table(This, phEnum, ILG_TBL_AssemblyRef, rAssemblyRefs, cMax, pcTokens);
}

static HRESULT mda_EnumFiles(IMetaDataAssemblyImport *This, HCORENUM *phEnum, mdFile rFiles[],
                             ULONG cMax, ULONG *pcTokens)
{
    MDA_ENTRY(This, "EnumFiles");
    return enum_table(This, phEnum, ILG_TBL_File, rFiles, cMax, pcTokens);
}

static HRESULT mda_EnumExportedTypes(IMetaDataAssemblyImport *This, HCORENUM *phEnum,
                                     mdExportedType rExportedTypes[], ULONG cMax, ULONG *pcTokens)
{
    MDA_ENTRY(This, "EnumExportedTypes");
    return enum_table(This, phEnum, ILG_TBL_ExportedType, rExportedTypes, cMax, pcTokens);
}

static HRESULT mda_EnumManifestResources(IMetaDataAssemblyImport *This, HCORENUM *phEnum,
                                         mdManifestResource rManifestResources[], ULONG cMax,
                                         ULONG *pcTokens)
{
    MDA_ENTRY(This, "EnumManifestResources");
    return enum_table(This, phEnum, ILG_TBL_ManifestResource, rManifestResources, cMax, pcTokens);
}

static HRESULT mda_GetAssemblyFromScope(IMetaDataAssemblyImport *This, mdAssembly *ptkAssembly)
{
    MDA_ENTRY(This, "GetAssemblyFromScope");
    if (!ptkAssembly)
        return E_INVALIDARG;
    /* A module without an Assembly row (a netmodule) has no assembly. */
    if (!ilg_md_row_count(MDA_OF(This), ILG_TBL_Assembly))
        return CLDB_E_RECORD_NOTFOUND;
    *ptkAssembly = mdtAssembly | 1;
    return S_OK;
}

/* A blob cell's bytes (NULL and 0 when the cell is empty or bad). */
static void blob_out(const ilg_metadata *md, ilg_table table, uint32_t rid, uint32_t col,
                     const void **pp, ULONG *pcb)
{
    const uint8_t *data = NULL;
    uint32_t len = 0;
    if (ilg_md_blob(md, ilg__md_cell(md, table, rid, col), &data, &len) != ILG_OK || !len) {
        data = NULL;
        len = 0;
    }
    if (pp)
        *pp = data;
    if (pcb)
        *pcb = len;
}

/* ASSEMBLYMETADATA from the four version columns (consecutive in both tables) and the
 * culture: the locale through the caller's buffer (cbLocale in WCHARs, with the NUL),
 * no processors and no OSes (RegMeta returns counts of 0). */
static HRESULT assembly_metadata(const ilg_metadata *md, ilg_table table, uint32_t rid,
                                 uint32_t major_col, uint32_t culture_col, ASSEMBLYMETADATA *out)
{
    HRESULT hr;
    ULONG need = 0;
    if (!out)
        return S_OK;
    out->usMajorVersion = (USHORT)ilg__md_cell(md, table, rid, major_col);
    out->usMinorVersion = (USHORT)ilg__md_cell(md, table, rid, major_col + 1);
    out->usBuildNumber = (USHORT)ilg__md_cell(md, table, rid, major_col + 2);
    out->usRevisionNumber = (USHORT)ilg__md_cell(md, table, rid, major_col + 3);
    hr = ilg__md_name_out(ilg__md_str(md, table, rid, culture_col), out->szLocale, out->cbLocale,
                          &need);
    out->cbLocale = need;
    out->ulProcessor = 0;
    out->ulOS = 0;
    return hr;
}

static HRESULT mda_GetAssemblyProps(IMetaDataAssemblyImport *This, mdAssembly mda,
                                    const void **ppbPublicKey, ULONG *pcbPublicKey,
                                    ULONG *pulHashAlgId, LPWSTR szName, ULONG cchName,
                                    ULONG *pchName, ASSEMBLYMETADATA *pMetaData,
                                    DWORD *pdwAssemblyFlags)
{
    MDA_ENTRY(This, "GetAssemblyProps");
    const ilg_metadata *md = MDA_OF(This);
    const ilg_table t = ILG_TBL_Assembly;
    const uint32_t rid = RidFromToken(mda);
    HRESULT hr, hm;

    if (!ilg__md_row_ok(md, mda, t))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, t, rid, ILG_MDC_Assembly_Name), szName,
                                     cchName, pchName)))
        return hr;
    if (FAILED(hm = assembly_metadata(md, t, rid, ILG_MDC_Assembly_MajorVersion,
                                      ILG_MDC_Assembly_Culture, pMetaData)))
        return hm;
    blob_out(md, t, rid, ILG_MDC_Assembly_PublicKey, ppbPublicKey, pcbPublicKey);
    if (pulHashAlgId)
        *pulHashAlgId = ilg__md_cell(md, t, rid, ILG_MDC_Assembly_HashAlgId);
    if (pdwAssemblyFlags) {
        uint32_t flags = ilg__md_cell(md, t, rid, ILG_MDC_Assembly_Flags);
        const uint8_t *key;
        uint32_t len = 0;
        /* RegMeta reports afPublicKey whenever the row has a key. */
        if (ilg_md_blob(md, ilg__md_cell(md, t, rid, ILG_MDC_Assembly_PublicKey), &key, &len) ==
                ILG_OK && len)
            flags |= ILG_ASSEMBLYFLAG_PUBLICKEY;
        *pdwAssemblyFlags = flags;
    }
    return hr != S_OK ? hr : hm;
}

static HRESULT mda_GetAssemblyRefProps(IMetaDataAssemblyImport *This, mdAssemblyRef mdar,
                                       const void **ppbPublicKeyOrToken,
                                       ULONG *pcbPublicKeyOrToken, LPWSTR szName, ULONG cchName,
                                       ULONG *pchName, ASSEMBLYMETADATA *pMetaData,
                                       const void **ppbHashValue, ULONG *pcbHashValue,
                                       DWORD *pdwAssemblyRefFlags)
{
    MDA_ENTRY(This, "GetAssemblyRefProps");
    const ilg_metadata *md = MDA_OF(This);
    const ilg_table t = ILG_TBL_AssemblyRef;
    const uint32_t rid = RidFromToken(mdar);
    HRESULT hr, hm;

    if (!ilg__md_row_ok(md, mdar, t))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, t, rid, ILG_MDC_AssemblyRef_Name), szName,
                                     cchName, pchName)))
        return hr;
    if (FAILED(hm = assembly_metadata(md, t, rid, ILG_MDC_AssemblyRef_MajorVersion,
                                      ILG_MDC_AssemblyRef_Culture, pMetaData)))
        return hm;
    blob_out(md, t, rid, ILG_MDC_AssemblyRef_PublicKeyOrToken, ppbPublicKeyOrToken,
             pcbPublicKeyOrToken);
    blob_out(md, t, rid, ILG_MDC_AssemblyRef_HashValue, ppbHashValue, pcbHashValue);
    if (pdwAssemblyRefFlags)
        *pdwAssemblyRefFlags = ilg__md_cell(md, t, rid, ILG_MDC_AssemblyRef_Flags);
    return hr != S_OK ? hr : hm;
}

static HRESULT mda_GetFileProps(IMetaDataAssemblyImport *This, mdFile mdf, LPWSTR szName,
                                ULONG cchName, ULONG *pchName, const void **ppbHashValue,
                                ULONG *pcbHashValue, DWORD *pdwFileFlags)
{
    MDA_ENTRY(This, "GetFileProps");
    const ilg_metadata *md = MDA_OF(This);
    const uint32_t rid = RidFromToken(mdf);
    HRESULT hr;
    if (!ilg__md_row_ok(md, mdf, ILG_TBL_File))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, ILG_TBL_File, rid, ILG_MDC_File_Name), szName,
                                     cchName, pchName)))
        return hr;
    blob_out(md, ILG_TBL_File, rid, ILG_MDC_File_HashValue, ppbHashValue, pcbHashValue);
    if (pdwFileFlags)
        *pdwFileFlags = ilg__md_cell(md, ILG_TBL_File, rid, ILG_MDC_File_Flags);
    return hr;
}

static HRESULT mda_GetExportedTypeProps(IMetaDataAssemblyImport *This, mdExportedType mdct,
                                        LPWSTR szName, ULONG cchName, ULONG *pchName,
                                        mdToken *ptkImplementation, mdTypeDef *ptkTypeDef,
                                        DWORD *pdwExportedTypeFlags)
{
    MDA_ENTRY(This, "GetExportedTypeProps");
    const ilg_metadata *md = MDA_OF(This);
    const ilg_table t = ILG_TBL_ExportedType;
    const uint32_t rid = RidFromToken(mdct);
    char name[1024];
    HRESULT hr;
    if (!ilg__md_row_ok(md, mdct, t))
        return MD_E_NO_ROW;
    if (!ilg__md_join_name(ilg__md_str(md, t, rid, ILG_MDC_ExportedType_TypeNamespace),
                           ilg__md_str(md, t, rid, ILG_MDC_ExportedType_TypeName), name,
                           sizeof name))
        return CLDB_E_FILE_CORRUPT;
    if (FAILED(hr = ilg__md_name_out(name, szName, cchName, pchName)))
        return hr;
    if (ptkImplementation)
        *ptkImplementation = ilg__md_cell(md, t, rid, ILG_MDC_ExportedType_Implementation);
    if (ptkTypeDef)
        *ptkTypeDef = ilg__md_cell(md, t, rid, ILG_MDC_ExportedType_TypeDefId);
    if (pdwExportedTypeFlags)
        *pdwExportedTypeFlags = ilg__md_cell(md, t, rid, ILG_MDC_ExportedType_Flags);
    return hr;
}

static HRESULT mda_GetManifestResourceProps(IMetaDataAssemblyImport *This, mdManifestResource mdmr,
                                            LPWSTR szName, ULONG cchName, ULONG *pchName,
                                            mdToken *ptkImplementation, DWORD *pdwOffset,
                                            DWORD *pdwResourceFlags)
{
    MDA_ENTRY(This, "GetManifestResourceProps");
    const ilg_metadata *md = MDA_OF(This);
    const ilg_table t = ILG_TBL_ManifestResource;
    const uint32_t rid = RidFromToken(mdmr);
    HRESULT hr;
    if (!ilg__md_row_ok(md, mdmr, t))
        return MD_E_NO_ROW;
    if (FAILED(hr = ilg__md_name_out(ilg__md_str(md, t, rid, ILG_MDC_ManifestResource_Name), szName,
                                     cchName, pchName)))
        return hr;
    if (ptkImplementation) {
        uint32_t impl = ilg__md_cell(md, t, rid, ILG_MDC_ManifestResource_Implementation);
        /* In this file: the nil File token, as RegMeta answers. */
        *ptkImplementation = impl ? impl : mdtFile;
    }
    if (pdwOffset)
        *pdwOffset = ilg__md_cell(md, t, rid, ILG_MDC_ManifestResource_Offset);
    if (pdwResourceFlags)
        *pdwResourceFlags = ilg__md_cell(md, t, rid, ILG_MDC_ManifestResource_Flags);
    return hr;
}

/* The first row of table whose joined name is the wanted one (and, for exported types,
 * whose Implementation is the enclosing one when given). */
static HRESULT mda_FindExportedTypeByName(IMetaDataAssemblyImport *This, LPCWSTR szName,
                                          mdToken tkEnclosingType, mdExportedType *ptkExportedType)
{
    MDA_ENTRY(This, "FindExportedTypeByName");
    const ilg_metadata *md = MDA_OF(This);
    const ilg_table t = ILG_TBL_ExportedType;
    uint32_t rows = ilg_md_row_count(md, t);
    char want[1024], have[1024];
    if (!szName || !ptkExportedType)
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szName, want, sizeof want))
        return CLDB_E_RECORD_NOTFOUND;
    for (uint32_t r = 1; r <= rows; r++) {
        mdToken impl = ilg__md_cell(md, t, r, ILG_MDC_ExportedType_Implementation);
        if (!IsNilToken(tkEnclosingType) ? impl != tkEnclosingType
                                         : TypeFromToken(impl) == mdtExportedType)
            continue;
        if (ilg__md_join_name(ilg__md_str(md, t, r, ILG_MDC_ExportedType_TypeNamespace),
                              ilg__md_str(md, t, r, ILG_MDC_ExportedType_TypeName), have,
                              sizeof have) &&
            strcmp(have, want) == 0) {
            *ptkExportedType = mdtExportedType | r;
            return S_OK;
        }
    }
    return CLDB_E_RECORD_NOTFOUND;
}

static HRESULT mda_FindManifestResourceByName(IMetaDataAssemblyImport *This, LPCWSTR szName,
                                              mdManifestResource *ptkManifestResource)
{
    MDA_ENTRY(This, "FindManifestResourceByName");
    const ilg_metadata *md = MDA_OF(This);
    uint32_t rows = ilg_md_row_count(md, ILG_TBL_ManifestResource);
    char want[1024];
    if (!szName || !ptkManifestResource)
        return E_INVALIDARG;
    if (!ilg__host_from_wide(szName, want, sizeof want))
        return CLDB_E_RECORD_NOTFOUND;
    for (uint32_t r = 1; r <= rows; r++)
        if (strcmp(ilg__md_str(md, ILG_TBL_ManifestResource, r, ILG_MDC_ManifestResource_Name),
                   want) == 0) {
            *ptkManifestResource = mdtManifestResource | r;
            return S_OK;
        }
    return CLDB_E_RECORD_NOTFOUND;
}

static const IMetaDataAssemblyImportVtbl mda_vtbl = {
    .QueryInterface = mda_QueryInterface,
    .AddRef = mda_AddRef,
    .Release = mda_Release,
    .GetAssemblyProps = mda_GetAssemblyProps,
    .GetAssemblyRefProps = mda_GetAssemblyRefProps,
    .GetFileProps = mda_GetFileProps,
    .GetExportedTypeProps = mda_GetExportedTypeProps,
    .GetManifestResourceProps = mda_GetManifestResourceProps,
    .EnumAssemblyRefs = mda_EnumAssemblyRefs,
    .EnumFiles = mda_EnumFiles,
    .EnumExportedTypes = mda_EnumExportedTypes,
    .EnumManifestResources = mda_EnumManifestResources,
    .GetAssemblyFromScope = mda_GetAssemblyFromScope,
    .FindExportedTypeByName = mda_FindExportedTypeByName,
    .FindManifestResourceByName = mda_FindManifestResourceByName,
    .CloseEnum = mda_CloseEnum,
    ILG__MDA_STUB_SLOTS
};

/* Under --trace the profiler gets this one (trace.inc). */
#define ILG__TRACE_HOST(This) MDA_HOST(This)
#define ILG__TRACE_REAL mda_vtbl
#define ILG__WANT_MDA_TRACE
#include "trace.inc"
static const IMetaDataAssemblyImportVtbl mda_trace_vtbl = { ILG__MDA_TRACE_SLOTS };

host_mdimport *ilg__mda_ours(IMetaDataAssemblyImport *iface)
{
    const void *v = iface ? (const void *)iface->lpVtbl : NULL;
    return v && (v == (const void *)&mda_vtbl || v == (const void *)&mda_trace_vtbl)
               ? impl_from_IMetaDataAssemblyImport(iface)
               : NULL;
}

void ilg__host_mdassembly_init(host_module *m)
{
    m->importer.IMetaDataAssemblyImport_iface.lpVtbl = m->host->trace ? &mda_trace_vtbl : &mda_vtbl;
}
