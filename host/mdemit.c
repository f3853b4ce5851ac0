/* mdemit.c: IMetaDataEmit2 (and so IMetaDataEmit) and IMetaDataAssemblyEmit, the write
 * side of the module's one metadata object (mdimport.c), on top of the metadata writer
 * (ilgraft/mdemit.h, docs/mdemit.md). Every call holds the module's metadata lock for
 * writing; what it defines is in the tables the import side and the verifier read as
 * soon as it returns.
 *
 * The rules are those of the emitter CoreCLR 10 hands profilers (RegMeta): a duplicate
 * TypeRef, MemberRef, signature, TypeSpec or MethodSpec answers the existing token with
 * META_S_DUPLICATE, a reused user string S_OK; AssemblyRefs and methods of the image's
 * own types may be defined (observed: docs/coreclr-observed.md). The methods not
 * implemented are generated stubs answering E_NOTIMPL (stubs.inc). */
#include <stdlib.h>
#include <string.h>

#include "md_private.h"
#include "trace.h"

host_mdimport *ilg__mde_impl(IMetaDataEmit2 *iface)
{
    return (host_mdimport *)((char *)iface - offsetof(host_mdimport, IMetaDataEmit2_iface));
}

static host_mdimport *impl_from_IMetaDataAssemblyEmit(IMetaDataAssemblyEmit *iface)
{
    return (host_mdimport *)((char *)iface - offsetof(host_mdimport, IMetaDataAssemblyEmit_iface));
}

#define MDE_ENTRY_NORESULT(This, method)                                                    \
    HOST_ENTRY_NORESULT(MDE_HOST(This), "IMetaDataEmit", method, HOST_CALL_ANY)
#define ILG__MDE_STUB_ENTER(This, method) HOST_STUB_ENTRY(MDE_HOST(This), "IMetaDataEmit", method)
#define ILG__MDE_STUB_ENTER_NORESULT(This, method)                                          \
    HOST_STUB_ENTRY_NORESULT(MDE_HOST(This), "IMetaDataEmit", method)
#define MDAE_HOST(This) (impl_from_IMetaDataAssemblyEmit(This)->module->host)
#define MDAE_ENTRY_NORESULT(This, method)                                                   \
    HOST_ENTRY_NORESULT(MDAE_HOST(This), "IMetaDataAssemblyEmit", method, HOST_CALL_ANY)
#define ILG__MDAE_STUB_ENTER(This, method)                                                  \
    HOST_STUB_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", method)
#define ILG__MDAE_STUB_ENTER_NORESULT(This, method)                                         \
    HOST_STUB_ENTRY_NORESULT(MDAE_HOST(This), "IMetaDataAssemblyEmit", method)
#define ILG__WANT_MDE_STUBS
#define ILG__WANT_MDAE_STUBS
#include "stubs.inc"

/* ---- the write section -------------------------------------------------------------- */

/* Takes the write lock and the writer (opened on the first write). */
HRESULT ilg__mde_write_begin(host_mdimport *imp, ilg_mdemit **em, uint64_t *gen)
{
    pthread_rwlock_wrlock(&imp->lock);
    if (!imp->em && ilg_mdemit_open(imp->module->img, &imp->em) != ILG_OK) {
        pthread_rwlock_unlock(&imp->lock);
        return E_OUTOFMEMORY;
    }
    *em = imp->em;
    *gen = ilg_md_generation(imp->module->md);
    return S_OK;
}

/* The HRESULT for a writer status, as CoreCLR's emitter answers the same fault. */
static HRESULT hr_of(ilg_status st, bool duplicate)
{
    switch (st) {
    case ILG_OK:
        return duplicate ? META_S_DUPLICATE : S_OK;
    case ILG_E_NOMEM:
        return E_OUTOFMEMORY;
    case ILG_E_MDEMIT_NO_ROW:
        return CLDB_E_RECORD_NOTFOUND;
    case ILG_E_MDEMIT_TOO_LARGE:
        return META_E_STRINGSPACE_FULL;
    case ILG_E_MDEMIT_NOT_DEFINABLE:
        return COR_E_NOTSUPPORTED;
    default:
        return E_INVALIDARG;
    }
}

/* Drops the lookup indexes when the tables changed, releases the lock. */
HRESULT ilg__mde_write_end(host_mdimport *imp, uint64_t gen, ilg_status st, bool duplicate)
{
    if (ilg_md_generation(imp->module->md) != gen)
        ilg__md_drop_indexes(imp);
    pthread_rwlock_unlock(&imp->lock);
    return hr_of(st, duplicate);
}

/* A #Strings index of a UTF-16 name (NULL: ""). */
ilg_status ilg__mde_name_index(ilg_mdemit *em, LPCWSTR w, uint32_t *index)
{
    size_t n = 0;
    while (w && w[n])
        n++;
    char *utf8 = malloc(n * 3 + 1);
    if (!utf8)
        return ILG_E_NOMEM;
    utf8[0] = 0;
    if (w)
        ilg__utf16_to_utf8(w, n, utf8, n * 3 + 1, NULL);
    ilg_status st = ilg_mdemit_string(em, utf8, index);
    free(utf8);
    return st;
}

/* ---- IUnknown ----------------------------------------------------------------------- */

static HRESULT mde_QueryInterface(IMetaDataEmit2 *This, REFIID riid, void **ppv)
{
    MDE_ENTRY(This, "QueryInterface");
    return ilg__md_query(ilg__mde_impl(This), riid, ppv);
}

static ULONG mde_AddRef(IMetaDataEmit2 *This)
{
    MDE_ENTRY_NORESULT(This, "AddRef");
    return atomic_fetch_add(&ilg__mde_impl(This)->refs, 1) + 1;
}

static ULONG mde_Release(IMetaDataEmit2 *This)
{
    MDE_ENTRY_NORESULT(This, "Release");
    return ilg__host_unref(&ilg__mde_impl(This)->refs);
}

/* ---- references, signatures, strings ------------------------------------------------- */

static HRESULT mde_DefineTypeRefByName(IMetaDataEmit2 *This, mdToken tkResolutionScope,
                                       LPCWSTR szName, mdTypeRef *ptr)
{
    MDE_ENTRY(This, "DefineTypeRefByName");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !ptr)
        return E_INVALIDARG;
    size_t n = 0;
    while (szName[n])
        n++;
    char *full = malloc(n * 3 + 1);
    if (!full)
        return E_OUTOFMEMORY;
    ilg__utf16_to_utf8(szName, n, full, n * 3 + 1, NULL);
    /* "Ns.Name": the namespace is what comes before the last dot. */
    char *dot = strrchr(full, '.');
    const char *ns = "", *name = full;
    if (dot) {
        *dot = 0;
        ns = full;
        name = dot + 1;
    }
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen))) {
        free(full);
        return hr;
    }
    bool dup = false;
    mdTypeRef tok = 0;
    ilg_status st = ilg_mdemit_type_ref(em, tkResolutionScope, ns, name, &tok, &dup);
    free(full);
    if (st == ILG_OK)
        *ptr = tok;
    return ilg__mde_write_end(imp, gen, st, dup);
}

static HRESULT mde_DefineMemberRef(IMetaDataEmit2 *This, mdToken tkImport, LPCWSTR szName,
                                   PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdMemberRef *pmr)
{
    MDE_ENTRY(This, "DefineMemberRef");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !pmr || (cbSigBlob && !pvSigBlob))
        return E_INVALIDARG;
    size_t n = 0;
    while (szName[n])
        n++;
    char *name = malloc(n * 3 + 1);
    if (!name)
        return E_OUTOFMEMORY;
    ilg__utf16_to_utf8(szName, n, name, n * 3 + 1, NULL);
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen))) {
        free(name);
        return hr;
    }
    bool dup = false;
    mdMemberRef tok = 0;
    ilg_status st = ilg_mdemit_member_ref(em, tkImport, name, pvSigBlob, cbSigBlob, &tok, &dup);
    free(name);
    if (st == ILG_OK)
        *pmr = tok;
    return ilg__mde_write_end(imp, gen, st, dup);
}

/* GetTokenFromSig, GetTokenFromTypeSpec: a blob's row through fn; an existing row is
 * META_S_DUPLICATE when say_dup (GetTokenFromSig), else S_OK: CoreCLR 10.0.12 answers an
 * existing TypeSpec S_OK (observed, prof_emit's "typespec again"). */
typedef ilg_status (*blob_row_fn)(ilg_mdemit *, const uint8_t *, uint32_t, uint32_t *, bool *);
static HRESULT blob_row(IMetaDataEmit2 *This, blob_row_fn fn, PCCOR_SIGNATURE sig, ULONG cb,
                        bool say_dup, mdToken *out)
{
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!out || (cb && !sig))
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    bool dup = false;
    uint32_t tok = 0;
    ilg_status st = fn(em, sig, cb, &tok, &dup);
    if (st == ILG_OK)
        *out = tok;
    return ilg__mde_write_end(imp, gen, st, dup && say_dup);
}

static HRESULT mde_GetTokenFromSig(IMetaDataEmit2 *This, PCCOR_SIGNATURE pvSig, ULONG cbSig,
                                   mdSignature *pmsig)
{
    MDE_ENTRY(This, "GetTokenFromSig");
    return blob_row(This, ilg_mdemit_standalone_sig, pvSig, cbSig, true, pmsig);
}

static HRESULT mde_GetTokenFromTypeSpec(IMetaDataEmit2 *This, PCCOR_SIGNATURE pvSig, ULONG cbSig,
                                        mdTypeSpec *ptypespec)
{
    MDE_ENTRY(This, "GetTokenFromTypeSpec");
    return blob_row(This, ilg_mdemit_type_spec, pvSig, cbSig, false, ptypespec);
}

static HRESULT mde_DefineMethodSpec(IMetaDataEmit2 *This, mdToken tkParent,
                                    PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdMethodSpec *pmi)
{
    MDE_ENTRY(This, "DefineMethodSpec");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!pmi || (cbSigBlob && !pvSigBlob))
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    bool dup = false;
    uint32_t tok = 0;
    ilg_status st = ilg_mdemit_method_spec(em, tkParent, pvSigBlob, cbSigBlob, &tok, &dup);
    if (st == ILG_OK)
        *pmi = tok;
    return ilg__mde_write_end(imp, gen, st, dup);
}

/* A reused #US entry answers S_OK, as RegMeta's DefineUserString does (the heap shares
 * equal strings without telling). */
static HRESULT mde_DefineUserString(IMetaDataEmit2 *This, LPCWSTR szString, ULONG cchString,
                                    mdString *pstk)
{
    MDE_ENTRY(This, "DefineUserString");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!pstk || (cchString && !szString))
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t tok = 0;
    ilg_status st = ilg_mdemit_user_string(em, szString, cchString, &tok, NULL);
    if (st == ILG_OK)
        *pstk = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

static HRESULT mde_DefineModuleRef(IMetaDataEmit2 *This, LPCWSTR szName, mdModuleRef *pmur)
{
    MDE_ENTRY(This, "DefineModuleRef");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !pmur)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t cells[ILG_MDC_ModuleRef_Name + 1] = { 0 }, tok = 0;
    bool dup = false;
    ilg_status st = ilg__mde_name_index(em, szName, &cells[ILG_MDC_ModuleRef_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_ModuleRef, cells, ILG_ARRAY_LEN(cells), &tok, &dup);
    if (st == ILG_OK)
        *pmur = tok;
    return ilg__mde_write_end(imp, gen, st, dup);
}

static HRESULT mde_DefineCustomAttribute(IMetaDataEmit2 *This, mdToken tkOwner, mdToken tkCtor,
                                         const void *pCustomAttribute, ULONG cbCustomAttribute,
                                         mdCustomAttribute *pcv)
{
    MDE_ENTRY(This, "DefineCustomAttribute");
    host_mdimport *imp = ilg__mde_impl(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (cbCustomAttribute && !pCustomAttribute)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t cells[ILG_MDC_CustomAttribute_Value + 1] = { 0 }, tok = 0;
    cells[ILG_MDC_CustomAttribute_Parent] = tkOwner;
    cells[ILG_MDC_CustomAttribute_Type] = tkCtor;
    ilg_status st = ilg_mdemit_blob(em, pCustomAttribute, cbCustomAttribute,
                                    &cells[ILG_MDC_CustomAttribute_Value]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_CustomAttribute, cells, ILG_ARRAY_LEN(cells), &tok, NULL);
    if (st == ILG_OK && pcv)
        *pcv = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}


/* ---- IMetaDataAssemblyEmit ----------------------------------------------------------- */

static HRESULT mdae_QueryInterface(IMetaDataAssemblyEmit *This, REFIID riid, void **ppv)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "QueryInterface", HOST_CALL_ANY);
    return ilg__md_query(impl_from_IMetaDataAssemblyEmit(This), riid, ppv);
}

static ULONG mdae_AddRef(IMetaDataAssemblyEmit *This)
{
    MDAE_ENTRY_NORESULT(This, "AddRef");
    return atomic_fetch_add(&impl_from_IMetaDataAssemblyEmit(This)->refs, 1) + 1;
}

static ULONG mdae_Release(IMetaDataAssemblyEmit *This)
{
    MDAE_ENTRY_NORESULT(This, "Release");
    return ilg__host_unref(&impl_from_IMetaDataAssemblyEmit(This)->refs);
}

/* An AssemblyRef row (no de-duplication: RegMeta's MDDupAssemblyRef is not in its
 * default set). */
static HRESULT mdae_DefineAssemblyRef(IMetaDataAssemblyEmit *This, const void *pbPublicKeyOrToken,
                                      ULONG cbPublicKeyOrToken, LPCWSTR szName,
                                      const ASSEMBLYMETADATA *pMetaData, const void *pbHashValue,
                                      ULONG cbHashValue, DWORD dwAssemblyRefFlags,
                                      mdAssemblyRef *pmdar)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "DefineAssemblyRef", HOST_CALL_ANY);
    host_mdimport *imp = impl_from_IMetaDataAssemblyEmit(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !pMetaData || !pmdar || (cbPublicKeyOrToken && !pbPublicKeyOrToken) ||
        (cbHashValue && !pbHashValue))
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t c[ILG_MDC_AssemblyRef_HashValue + 1] = { 0 }, tok = 0;
    c[ILG_MDC_AssemblyRef_MajorVersion] = pMetaData->usMajorVersion;
    c[ILG_MDC_AssemblyRef_MinorVersion] = pMetaData->usMinorVersion;
    c[ILG_MDC_AssemblyRef_BuildNumber] = pMetaData->usBuildNumber;
    c[ILG_MDC_AssemblyRef_RevisionNumber] = pMetaData->usRevisionNumber;
    c[ILG_MDC_AssemblyRef_Flags] = dwAssemblyRefFlags;
    ilg_status st = ilg_mdemit_blob(em, pbPublicKeyOrToken, cbPublicKeyOrToken,
                                    &c[ILG_MDC_AssemblyRef_PublicKeyOrToken]);
    if (st == ILG_OK)
        st = ilg__mde_name_index(em, szName, &c[ILG_MDC_AssemblyRef_Name]);
    if (st == ILG_OK)
        st = ilg__mde_name_index(em, pMetaData->szLocale, &c[ILG_MDC_AssemblyRef_Culture]);
    if (st == ILG_OK)
        st = ilg_mdemit_blob(em, pbHashValue, cbHashValue, &c[ILG_MDC_AssemblyRef_HashValue]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_AssemblyRef, c, ILG_ARRAY_LEN(c), &tok, NULL);
    if (st == ILG_OK)
        *pmdar = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

/* DefineFile, DefineExportedType, DefineManifestResource: one row each, never a
 * duplicate (RegMeta's MDDupFile and the others are not in its default). */
static HRESULT mdae_DefineFile(IMetaDataAssemblyEmit *This, LPCWSTR szName, const void *pbHashValue,
                               ULONG cbHashValue, DWORD dwFileFlags, mdFile *pmdf)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "DefineFile", HOST_CALL_ANY);
    host_mdimport *imp = impl_from_IMetaDataAssemblyEmit(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !pmdf || (cbHashValue && !pbHashValue))
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t c[ILG_MDC_File_HashValue + 1] = { 0 }, tok = 0;
    c[ILG_MDC_File_Flags] = dwFileFlags;
    ilg_status st = ilg__mde_name_index(em, szName, &c[ILG_MDC_File_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_blob(em, pbHashValue, cbHashValue, &c[ILG_MDC_File_HashValue]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_File, c, ILG_ARRAY_LEN(c), &tok, NULL);
    if (st == ILG_OK)
        *pmdf = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

/* "Ns.Name" into the two #Strings cells of a row (the namespace is what comes before
 * the last dot). */
ilg_status ilg__mde_split_name(ilg_mdemit *em, LPCWSTR w, uint32_t *ns, uint32_t *name)
{
    size_t n = 0;
    while (w[n])
        n++;
    char *full = malloc(n * 3 + 1);
    if (!full)
        return ILG_E_NOMEM;
    ilg__utf16_to_utf8(w, n, full, n * 3 + 1, NULL);
    char *dot = strrchr(full, '.');
    if (dot)
        *dot = 0;
    ilg_status st = ilg_mdemit_string(em, dot ? full : "", ns);
    if (st == ILG_OK)
        st = ilg_mdemit_string(em, dot ? dot + 1 : full, name);
    free(full);
    return st;
}

static HRESULT mdae_DefineExportedType(IMetaDataAssemblyEmit *This, LPCWSTR szName,
                                       mdToken tkImplementation, mdTypeDef tkTypeDef,
                                       DWORD dwExportedTypeFlags, mdExportedType *pmdct)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "DefineExportedType", HOST_CALL_ANY);
    host_mdimport *imp = impl_from_IMetaDataAssemblyEmit(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !pmdct)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t c[ILG_MDC_ExportedType_Implementation + 1] = { 0 }, tok = 0;
    c[ILG_MDC_ExportedType_Flags] = dwExportedTypeFlags;
    c[ILG_MDC_ExportedType_TypeDefId] = tkTypeDef; /* a hint: the token in the other module */
    c[ILG_MDC_ExportedType_Implementation] = tkImplementation;
    ilg_status st = ilg__mde_split_name(em, szName, &c[ILG_MDC_ExportedType_TypeNamespace],
                               &c[ILG_MDC_ExportedType_TypeName]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_ExportedType, c, ILG_ARRAY_LEN(c), &tok, NULL);
    if (st == ILG_OK)
        *pmdct = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

static HRESULT mdae_DefineManifestResource(IMetaDataAssemblyEmit *This, LPCWSTR szName,
                                           mdToken tkImplementation, DWORD dwOffset,
                                           DWORD dwResourceFlags, mdManifestResource *pmdmr)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "DefineManifestResource", HOST_CALL_ANY);
    host_mdimport *imp = impl_from_IMetaDataAssemblyEmit(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (!szName || !pmdmr)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    uint32_t c[ILG_MDC_ManifestResource_Implementation + 1] = { 0 }, tok = 0;
    c[ILG_MDC_ManifestResource_Offset] = dwOffset;
    c[ILG_MDC_ManifestResource_Flags] = dwResourceFlags;
    c[ILG_MDC_ManifestResource_Implementation] = IsNilToken(tkImplementation) ? 0 : tkImplementation;
    ilg_status st = ilg__mde_name_index(em, szName, &c[ILG_MDC_ManifestResource_Name]);
    if (st == ILG_OK)
        st = ilg_mdemit_row(em, ILG_TBL_ManifestResource, c, ILG_ARRAY_LEN(c), &tok, NULL);
    if (st == ILG_OK)
        *pmdmr = tok;
    return ilg__mde_write_end(imp, gen, st, false);
}

/* The AssemblyRef's cells the caller gives (NULL, ULONG_MAX: left as they are). */
static HRESULT mdae_SetAssemblyRefProps(IMetaDataAssemblyEmit *This, mdAssemblyRef ar,
                                        const void *pbPublicKeyOrToken, ULONG cbPublicKeyOrToken,
                                        LPCWSTR szName, const ASSEMBLYMETADATA *pMetaData,
                                        const void *pbHashValue, ULONG cbHashValue,
                                        DWORD dwAssemblyRefFlags)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "SetAssemblyRefProps", HOST_CALL_ANY);
    host_mdimport *imp = impl_from_IMetaDataAssemblyEmit(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    uint32_t v;
    if (TypeFromToken(ar) != mdtAssemblyRef)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    ilg_status st = ILG_OK;
    if (pbPublicKeyOrToken && (st = ilg_mdemit_blob(em, pbPublicKeyOrToken, cbPublicKeyOrToken, &v)) == ILG_OK)
        st = ilg_mdemit_set_cell(em, ar, ILG_MDC_AssemblyRef_PublicKeyOrToken, v);
    if (st == ILG_OK && szName && (st = ilg__mde_name_index(em, szName, &v)) == ILG_OK)
        st = ilg_mdemit_set_cell(em, ar, ILG_MDC_AssemblyRef_Name, v);
    if (st == ILG_OK && pMetaData) {
        const uint32_t ver[4][2] = { { ILG_MDC_AssemblyRef_MajorVersion, pMetaData->usMajorVersion },
                                     { ILG_MDC_AssemblyRef_MinorVersion, pMetaData->usMinorVersion },
                                     { ILG_MDC_AssemblyRef_BuildNumber, pMetaData->usBuildNumber },
                                     { ILG_MDC_AssemblyRef_RevisionNumber, pMetaData->usRevisionNumber } };
        for (int i = 0; st == ILG_OK && i < 4; i++)
            st = ilg_mdemit_set_cell(em, ar, ver[i][0], ver[i][1]);
        if (st == ILG_OK && pMetaData->szLocale && (st = ilg__mde_name_index(em, pMetaData->szLocale, &v)) == ILG_OK)
            st = ilg_mdemit_set_cell(em, ar, ILG_MDC_AssemblyRef_Culture, v);
    }
    if (st == ILG_OK && pbHashValue && (st = ilg_mdemit_blob(em, pbHashValue, cbHashValue, &v)) == ILG_OK)
        st = ilg_mdemit_set_cell(em, ar, ILG_MDC_AssemblyRef_HashValue, v);
    if (st == ILG_OK && dwAssemblyRefFlags != MDE_KEEP)
        st = ilg_mdemit_set_cell(em, ar, ILG_MDC_AssemblyRef_Flags, dwAssemblyRefFlags);
    return ilg__mde_write_end(imp, gen, st, false);
}

/* Cells of one row given as (column, value) pairs, skipping MDE_KEEP values: the
 * Set*Props of the assembly's File, ExportedType and ManifestResource rows. */
static HRESULT mdae_set(IMetaDataAssemblyEmit *This, mdToken tk, mdToken type,
                        const uint32_t (*pairs)[2], size_t n)
{
    host_mdimport *imp = impl_from_IMetaDataAssemblyEmit(This);
    ilg_mdemit *em;
    uint64_t gen;
    HRESULT hr;
    if (TypeFromToken(tk) != type)
        return E_INVALIDARG;
    if (FAILED(hr = ilg__mde_write_begin(imp, &em, &gen)))
        return hr;
    ilg_status st = ILG_OK;
    for (size_t i = 0; st == ILG_OK && i < n; i++)
        if (pairs[i][1] != MDE_KEEP)
            st = ilg_mdemit_set_cell(em, tk, pairs[i][0], pairs[i][1]);
    return ilg__mde_write_end(imp, gen, st, false);
}

static HRESULT mdae_SetFileProps(IMetaDataAssemblyEmit *This, mdFile file, const void *pbHashValue,
                                 ULONG cbHashValue, DWORD dwFileFlags)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "SetFileProps", HOST_CALL_ANY);
    host_mdimport *imp = impl_from_IMetaDataAssemblyEmit(This);
    uint32_t hash = MDE_KEEP;
    if (cbHashValue && !pbHashValue)
        return E_INVALIDARG;
    /* The blob first, under the lock as every write. */
    if (pbHashValue) {
        ilg_mdemit *em;
        uint64_t gen;
        HRESULT hr = ilg__mde_write_begin(imp, &em, &gen);
        if (FAILED(hr))
            return hr;
        ilg_status st = ilg_mdemit_blob(em, pbHashValue, cbHashValue, &hash);
        if (FAILED(hr = ilg__mde_write_end(imp, gen, st, false)))
            return hr;
    }
    const uint32_t pairs[][2] = { { ILG_MDC_File_HashValue, hash }, { ILG_MDC_File_Flags, dwFileFlags } };
    return mdae_set(This, file, mdtFile, pairs, ILG_ARRAY_LEN(pairs));
}

static HRESULT mdae_SetExportedTypeProps(IMetaDataAssemblyEmit *This, mdExportedType ct,
                                         mdToken tkImplementation, mdTypeDef tkTypeDef,
                                         DWORD dwExportedTypeFlags)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "SetExportedTypeProps", HOST_CALL_ANY);
    const uint32_t pairs[][2] = {
        { ILG_MDC_ExportedType_Implementation, IsNilToken(tkImplementation) ? MDE_KEEP : tkImplementation },
        { ILG_MDC_ExportedType_TypeDefId, IsNilToken(tkTypeDef) ? MDE_KEEP : tkTypeDef },
        { ILG_MDC_ExportedType_Flags, dwExportedTypeFlags } };
    return mdae_set(This, ct, mdtExportedType, pairs, ILG_ARRAY_LEN(pairs));
}

static HRESULT mdae_SetManifestResourceProps(IMetaDataAssemblyEmit *This, mdManifestResource mr,
                                             mdToken tkImplementation, DWORD dwOffset,
                                             DWORD dwResourceFlags)
{
    HOST_ENTRY(MDAE_HOST(This), "IMetaDataAssemblyEmit", "SetManifestResourceProps", HOST_CALL_ANY);
    const uint32_t pairs[][2] = {
        /* ULONG_MAX too makes it nil, the resource in this file (observed) */
        { ILG_MDC_ManifestResource_Implementation,
          tkImplementation == MDE_KEEP || IsNilToken(tkImplementation) ? 0 : tkImplementation },
        { ILG_MDC_ManifestResource_Offset, dwOffset },
        { ILG_MDC_ManifestResource_Flags, dwResourceFlags } };
    return mdae_set(This, mr, mdtManifestResource, pairs, ILG_ARRAY_LEN(pairs));
}

static const IMetaDataEmit2Vtbl mde_vtbl = {
    .QueryInterface = mde_QueryInterface,
    .AddRef = mde_AddRef,
    .Release = mde_Release,
    .DefineTypeDef = ilg__mde_DefineTypeDef,
    .DefineNestedType = ilg__mde_DefineNestedType,
    .DefineMethod = ilg__mde_DefineMethod,
    .DefineTypeRefByName = mde_DefineTypeRefByName,
    .DefineMemberRef = mde_DefineMemberRef,
    .GetTokenFromSig = mde_GetTokenFromSig,
    .DefineModuleRef = mde_DefineModuleRef,
    .GetTokenFromTypeSpec = mde_GetTokenFromTypeSpec,
    .DefineUserString = mde_DefineUserString,
    .SetMethodProps = ilg__mde_SetMethodProps,
    .DefinePinvokeMap = ilg__mde_DefinePinvokeMap,
    .DefineCustomAttribute = mde_DefineCustomAttribute,
    .DefineField = ilg__mde_DefineField,
    .DefineParam = ilg__mde_DefineParam,
    .SetMethodImplFlags = ilg__mde_SetMethodImplFlags,
    .SetRVA = ilg__mde_SetRVA,
    .DefineMethodSpec = mde_DefineMethodSpec,
    .DefineGenericParam = ilg__mde_DefineGenericParam,
    .TranslateSigWithScope = ilg__mde_TranslateSigWithScope,
    .DefineImportType = ilg__mde_DefineImportType,
    .DefineImportMember = ilg__mde_DefineImportMember,
    .DefineMethodImpl = ilg__mde_DefineMethodImpl,
    .DefineProperty = ilg__mde_DefineProperty,
    .DefineEvent = ilg__mde_DefineEvent,
    .SetClassLayout = ilg__mde_SetClassLayout,
    .SetFieldMarshal = ilg__mde_SetFieldMarshal,
    .SetFieldRVA = ilg__mde_SetFieldRVA,
    .SetTypeDefProps = ilg__mde_SetTypeDefProps,
    .SetFieldProps = ilg__mde_SetFieldProps,
    .SetParamProps = ilg__mde_SetParamProps,
    .SetPropertyProps = ilg__mde_SetPropertyProps,
    .SetEventProps = ilg__mde_SetEventProps,
    .SetPinvokeMap = ilg__mde_SetPinvokeMap,
    .SetCustomAttributeValue = ilg__mde_SetCustomAttributeValue,
    .SetGenericParamProps = ilg__mde_SetGenericParamProps,
    .SetModuleProps = ilg__mde_SetModuleProps,
    .SetParent = ilg__mde_SetParent,
    .DefinePermissionSet = ilg__mde_DefinePermissionSet,
    .SetPermissionSetProps = ilg__mde_SetPermissionSetProps,
    .GetDeltaSaveSize = ilg__mde_GetDeltaSaveSize,
    .ResetENCLog = ilg__mde_ResetENCLog,
    ILG__MDE_STUB_SLOTS
};

static const IMetaDataAssemblyEmitVtbl mdae_vtbl = {
    .QueryInterface = mdae_QueryInterface,
    .AddRef = mdae_AddRef,
    .Release = mdae_Release,
    .DefineAssemblyRef = mdae_DefineAssemblyRef,
    .DefineFile = mdae_DefineFile,
    .DefineExportedType = mdae_DefineExportedType,
    .DefineManifestResource = mdae_DefineManifestResource,
    .SetAssemblyRefProps = mdae_SetAssemblyRefProps,
    .SetFileProps = mdae_SetFileProps,
    .SetExportedTypeProps = mdae_SetExportedTypeProps,
    .SetManifestResourceProps = mdae_SetManifestResourceProps,
    ILG__MDAE_STUB_SLOTS
};

/* Under --trace the profiler gets these: each slot traces the call and makes it through
 * the real vtable (trace.inc). */
#define ILG__TRACE_HOST(This) MDE_HOST(This)
#define ILG__TRACE_REAL mde_vtbl
#define ILG__WANT_MDE_TRACE
#include "trace.inc"
#undef ILG__TRACE_HOST
#undef ILG__TRACE_REAL
#undef ILG__WANT_MDE_TRACE
static const IMetaDataEmit2Vtbl mde_trace_vtbl = { ILG__MDE_TRACE_SLOTS };
#define ILG__TRACE_HOST(This) MDAE_HOST(This)
#define ILG__TRACE_REAL mdae_vtbl
#define ILG__WANT_MDAE_TRACE
#include "trace.inc"
static const IMetaDataAssemblyEmitVtbl mdae_trace_vtbl = { ILG__MDAE_TRACE_SLOTS };

host_mdimport *ilg__mde_ours(IMetaDataEmit *iface)
{
    const void *v = iface ? (const void *)iface->lpVtbl : NULL;
    return v && (v == (const void *)&mde_vtbl || v == (const void *)&mde_trace_vtbl)
               ? ilg__mde_impl((IMetaDataEmit2 *)iface)
               : NULL;
}

host_mdimport *ilg__mdae_ours(IMetaDataAssemblyEmit *iface)
{
    const void *v = iface ? (const void *)iface->lpVtbl : NULL;
    return v && (v == (const void *)&mdae_vtbl || v == (const void *)&mdae_trace_vtbl)
               ? impl_from_IMetaDataAssemblyEmit(iface)
               : NULL;
}

void ilg__host_mdemit_init(host_module *m)
{
    host_mdimport *imp = &m->importer;
    imp->IMetaDataEmit2_iface.lpVtbl = m->host->trace ? &mde_trace_vtbl : &mde_vtbl;
    imp->IMetaDataAssemblyEmit_iface.lpVtbl = m->host->trace ? &mdae_trace_vtbl : &mdae_vtbl;
    imp->em = NULL;
    pthread_rwlock_init(&imp->lock, NULL);
}

void ilg__host_mdemit_free(host_module *m)
{
    /* A module that failed before its metadata object was made has no lock. */
    if (m->importer.module)
        pthread_rwlock_destroy(&m->importer.lock);
}
